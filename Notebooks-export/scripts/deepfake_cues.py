#!/usr/bin/env python3
"""Real-only deepfake cues: the numpy/PyTorch reference for `anomalykit deepfake`.

Every cue is one number per image, computed on the central square crop
(side min(256, H, W) rounded down to 8, offsets on the 8x8 grid) of an already harmonised image. None is
fitted on fakes; a bank only stores each cue's median and spread over real
images (see `eval_deepfake_lodo.py` for how cues are calibrated and fused).

Luma Y = 0.299 R + 0.587 G + 0.114 B in [0, 255].

Statistics (numpy):
- band01, band12: log(e0 / e1), log(e1 / e2) with e_l = mean |G_l - G_{l+1}|,
  G_0 = Y and G_{l+1} = binomial [1 4 6 4 1]/16 blur of G_l with dilation 2^l
  (a trous, reflect padding): the slope of the fine-scale spectrum.
- noise: log(sigma_n + 0.1) - log(e1 + 0.1), sigma_n = median |HH| / 0.6745 of
  the Haar diagonal band (a - b - c + d) / 2 over 2x2 blocks: noise relative
  to structure.
- period2: |log(h_in / h_across)| + |log(v_in / v_across)|, mean absolute first
  differences inside and across 2x2 blocks: 2x upsampling's periodic trace
  (NPR's signal, made invariant to the image's energy).
- grid8: log(mean |diff| across 8x8 block borders / mean |diff| elsewhere).
- chroma: log(mean |Cb - blur Cb| + |Cr - blur Cr| + 0.1) - log(e0 + 0.1).

Network (EfficientNet-Lite0, input (x - 127) / 128, no resampling):
- rigid_pool / rigid_s3: 1 - cos between features of x and of x + 0.05 n,
  n ~ N(0, 1) per pixel and channel from `counter_normals` (RIGID), on the pooled 1280-d feature and
  averaged over the stage-3 grid.
- minder_pool / minder_s3: the same with x blurred once by the binomial
  [1 4 6 4 1]/16 kernel (MINDER-style).
"""
import numpy as np
import torch
import torch.nn.functional as F

CROP = 256
BINOMIAL = np.array([1, 4, 6, 4, 1], np.float32) / 16.0


MIN_SIDE = 64


def crop_side(h, w, size=CROP):
    """Side of the square crop: min(size, h, w) rounded down to a multiple of 8."""
    return min(size, h, w) // 8 * 8


def central_crop(x, size=CROP):
    """Central square crop of side crop_side; offsets rounded down to the 8x8 grid."""
    h, w = x.shape[:2]
    s = crop_side(h, w, size)
    if s < MIN_SIDE:
        raise ValueError("image of %dx%d is smaller than %dx%d" % (w, h, MIN_SIDE, MIN_SIDE))
    t, l = ((h - s) // 2) // 8 * 8, ((w - s) // 2) // 8 * 8
    return x[t:t + s, l:l + s]


def counter_normals(count, seed=0):
    """`count` standard normals from a counter-based generator that Swift
    reproduces bit for bit: splitmix64 of (seed + (j + 1) * golden) gives
    uniforms u_j = (top 53 bits + 0.5) / 2^53, and normal i is Box-Muller's
    sqrt(-2 ln u_2i) cos(2 pi u_2i+1)."""
    with np.errstate(over="ignore"):
        j = np.arange(2 * count, dtype=np.uint64) + np.uint64(1)
        z = np.uint64(seed) + j * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        z = z ^ (z >> np.uint64(31))
    u = ((z >> np.uint64(11)).astype(np.float64) + 0.5) / 2.0 ** 53
    return np.sqrt(-2.0 * np.log(u[0::2])) * np.cos(2.0 * np.pi * u[1::2])


def luma(x):
    x = x.astype(np.float32)
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]


def blur(y, dilation=1):
    """Separable binomial [1 4 6 4 1]/16 with holes of `dilation`, reflect padding."""
    p = 2 * dilation
    out = y
    for axis in (0, 1):
        pad = [(0, 0), (0, 0)]
        pad[axis] = (p, p)
        z = np.pad(out, pad, mode="reflect")
        n = out.shape[axis]
        acc = np.zeros_like(out)
        for i, wgt in enumerate(BINOMIAL):
            sl = [slice(None), slice(None)]
            sl[axis] = slice(i * dilation, i * dilation + n)
            acc += wgt * z[tuple(sl)]
        out = acc
    return out


def band_energies(y, levels=3):
    g, out = y, []
    for l in range(levels):
        nxt = blur(g, 2 ** l)
        out.append(float(np.abs(g - nxt).mean()))
        g = nxt
    return out


def statistics(x):
    """Dict of the numpy cues for an RGB uint8 crop."""
    y = luma(x)
    e0, e1, e2 = band_energies(y)
    h2, w2 = y.shape[0] // 2 * 2, y.shape[1] // 2 * 2
    q = y[:h2, :w2]
    hh = (q[0::2, 0::2] - q[0::2, 1::2] - q[1::2, 0::2] + q[1::2, 1::2]) / 2.0
    sigma = float(np.median(np.abs(hh))) / 0.6745
    dh = np.abs(np.diff(y, axis=1))  # dh[:, j] = |y[:, j+1] - y[:, j]|
    dv = np.abs(np.diff(y, axis=0))
    eps = 1e-3
    h_in, h_across = dh[:, 0::2].mean() + eps, dh[:, 1::2].mean() + eps
    v_in, v_across = dv[0::2].mean() + eps, dv[1::2].mean() + eps
    border_h = np.zeros(dh.shape[1], bool)
    border_h[7::8] = True
    border_v = np.zeros(dv.shape[0], bool)
    border_v[7::8] = True
    across = (dh[:, border_h].sum() + dv[border_v].sum()) / (dh[:, border_h].size + dv[border_v].size)
    inside = (dh[:, ~border_h].sum() + dv[~border_v].sum()) / (dh[:, ~border_h].size + dv[~border_v].size)
    xf = x.astype(np.float32)
    cb = -0.168736 * xf[..., 0] - 0.331264 * xf[..., 1] + 0.5 * xf[..., 2]
    cr = 0.5 * xf[..., 0] - 0.418688 * xf[..., 1] - 0.081312 * xf[..., 2]
    chroma = np.abs(cb - blur(cb)).mean() + np.abs(cr - blur(cr)).mean()
    return {
        "band01": float(np.log((e0 + eps) / (e1 + eps))),
        "band12": float(np.log((e1 + eps) / (e2 + eps))),
        "noise": float(np.log(sigma + 0.1) - np.log(e1 + 0.1)),
        "period2": float(abs(np.log(h_in / h_across)) + abs(np.log(v_in / v_across))),
        "grid8": float(np.log((across + eps) / (inside + eps))),
        "chroma": float(np.log(chroma + 0.1) - np.log(e0 + 0.1)),
    }


_NET = {}


def lite0(weights, side):
    """The network built for a side x side input (its static 'same' padding
    depends on the size, as the Swift network's does)."""
    if side not in _NET:
        from efficientnet_lite_pytorch import EfficientNet
        from safetensors.torch import load_file
        net = EfficientNet.from_name("efficientnet-lite0", image_size=side)
        missing, unexpected = net.load_state_dict(load_file(weights), strict=False)
        assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
        _NET[side] = net.eval().float()
    return _NET[side]


@torch.no_grad()
def network_features(net, t):
    """(N,3,H,W) normalised input -> (stage-3 maps (N,40,H/8,W/8), pooled (N,1280))."""
    h = net._swish(net._bn0(net._conv_stem(t)))
    s3 = None
    for i, blk in enumerate(net._blocks):
        h = blk(h)
        if i == 4:
            s3 = h
    h = net._swish(net._bn1(net._conv_head(h)))
    return s3, h.mean((2, 3))


def binomial_blur_torch(t):
    k = torch.from_numpy(np.outer(BINOMIAL, BINOMIAL))[None, None].repeat(3, 1, 1, 1)
    return F.conv2d(F.pad(t, (2, 2, 2, 2), mode="reflect"), k, groups=3)


def perturbation_cues(x, weights, noise_sigma=0.05, seed=0):
    """RIGID and MINDER cues of one RGB uint8 crop, plus the pooled and stage-3 features."""
    net = lite0(weights, x.shape[0])
    t = torch.from_numpy((x.astype(np.float32) - 127.0) / 128.0).permute(2, 0, 1)[None].contiguous()
    n = counter_normals(x.size, seed).reshape(x.shape).astype(np.float32)  # HWC order
    noisy = t + noise_sigma * torch.from_numpy(n).permute(2, 0, 1)[None]
    blurred = binomial_blur_torch(t)
    s3, pooled = network_features(net, torch.cat([t, noisy, blurred]))

    def one_minus_cos(a, b, dim):
        return float((1 - F.cosine_similarity(a, b, dim=dim)).mean())

    return {
        "rigid_pool": one_minus_cos(pooled[0:1], pooled[1:2], 1),
        "rigid_s3": one_minus_cos(s3[0:1], s3[1:2], 1),
        "minder_pool": one_minus_cos(pooled[0:1], pooled[2:3], 1),
        "minder_s3": one_minus_cos(s3[0:1], s3[2:3], 1),
    }, pooled[0].numpy(), s3[0].numpy()
