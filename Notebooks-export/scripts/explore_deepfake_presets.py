#!/usr/bin/env python3
"""Real-only, local-patch deepfake detector presets: a Python exploration
under the harmonised protocol (../shared/data/README.md, "Real vs generated").

No fakes are ever used for fitting. A bank of per-patch features is built
from half of imagenet-real (seeded split, seed 0); every test image is scored
by kNN (k = 1) of its patches against the bank, pooled by mean or top-10% mean.

Protocol:
- Every image (real and fake) is re-encoded as JPEG q90 (and separately q75)
  with Pillow (default 4:2:0), decoded, then centre-cropped to 256x256
  (ml72's 512x512 crop is taken at offset 128, on the 8x8 grid).
- Test sets: the 124 held-out imagenet reals vs aibingo (dalle, stable-diffusion,
  midjourney) + bias-ai-university (chatgpt-image, midjourney-v7, whisk) fakes;
  and ml72's 50 reals vs its 50 fakes (5 groups), scored against the same bank.
- AUROC / AP (sklearn), bootstrap 95% CIs (1000 resamples of reals and fakes,
  seed 0), per generator.
- Leave-one-generator-out selection of (preset, pooling) over the 6 main
  generators.
- Robustness: the headline preset after a 2x Pillow-bilinear downscale applied
  before the JPEG step, (a) bank and test both downscaled, (b) bank native,
  test downscaled.

Stages:
- sweep: every preset with a capped bank (8192 random patches) and 128 random
  query patches per test image (enough for mean / top-10% pooling), both qualities;
- headline: the LOGO-selected presets re-run with the full protocol (bank capped
  at 50,000 random patches, every query patch), both qualities, plus downscale.

    /root/venv/bin/python Notebooks-export/scripts/explore_deepfake_presets.py [--quick]

Writes Notebooks-export/results/deepfake-presets-exploration.json (--quick
writes /tmp/explore-deepfake/deepfake-presets-exploration-quick.json). Features are cached in
/tmp/explore-deepfake/. torch runs with 1 thread.
"""
import argparse
import csv
import io
import json
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn.metrics import average_precision_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "realfake"))
WEIGHTS = os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")
CACHE = "/tmp/explore-deepfake"
MAIN_GENS = ["aibingo/dalle", "aibingo/stable-diffusion", "aibingo/midjourney",
             "bias/chatgpt-image", "bias/midjourney-v7", "bias/whisk"]
ML72_GENS = ["ml72/gan", "ml72/diffusion1", "ml72/diffusion2", "ml72/diffusion3", "ml72/diffusion4"]
CROP = 256

torch.set_num_threads(1)


# ---------------------------------------------------------------- data
def manifest():
    """List of dicts: key, path, role ('bank' | 'real' | 'fake' | 'ml72real'), gen."""
    rows = []

    def read(folder):
        with open(os.path.join(DATA, folder, "metadata.csv"), newline="") as f:
            return list(csv.DictReader(f))

    reals = sorted(r["file"] for r in read("imagenet-real"))
    perm = np.random.default_rng(0).permutation(len(reals))
    bank = set(perm[: len(reals) // 2].tolist())
    for i, f in enumerate(reals):
        rows.append(dict(key="imagenet/" + f, path=os.path.join(DATA, "imagenet-real", f),
                         role="bank" if i in bank else "real", gen="imagenet"))
    for folder, tag in [("aibingo", "aibingo"), ("bias-ai-university", "bias")]:
        for r in read(folder):
            rows.append(dict(key=tag + "/" + r["file"], path=os.path.join(DATA, folder, r["file"]),
                             role="fake", gen=tag + "/" + r["generator"]))
    for r in read("ml72"):
        real = r["label"] == "real"
        rows.append(dict(key="ml72/" + r["file"], path=os.path.join(DATA, "ml72", r["file"]),
                         role="ml72real" if real else "fake",
                         gen="ml72/real-" + r["generator"] if real else "ml72/" + r["generator"]))
    return rows


def harmonise(path, quality, down):
    """Decoded RGB uint8 array: optional 2x bilinear downscale, JPEG at `quality`, decode."""
    im = Image.open(path).convert("RGB")
    if down:
        im = im.resize((im.width // 2, im.height // 2), Image.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def center_crop(x, size):
    h, w = x.shape[:2]
    if h <= size and w <= size:
        return x
    t, l = (h - size) // 2, (w - size) // 2
    return x[t:t + size, l:l + size]


def load_images(rows, quality, down):
    crop = CROP // 2 if down else CROP
    full, cropped = {}, {}
    for r in rows:
        x = harmonise(r["path"], quality, down)
        full[r["key"]] = x
        cropped[r["key"]] = center_crop(x, crop)
    return full, cropped


# ---------------------------------------------------------------- features
def npr(x):
    """x (H,W,3) float -> residual x - NN_up2(NN_down2(x)) (top-left pixel of each 2x2 block)."""
    tl = x[::2, ::2]
    return x - np.repeat(np.repeat(tl, 2, 0), 2, 1)[: x.shape[0], : x.shape[1]]


def patches(x, size, stride):
    """(H,W,C) -> (P, size*size*C) grid patches (top-left anchored)."""
    h, w, c = x.shape
    ny, nx = (h - size) // stride + 1, (w - size) // stride + 1
    s = x.strides
    v = np.lib.stride_tricks.as_strided(x, (ny, nx, size, size, c), (s[0] * stride, s[1] * stride, s[0], s[1], s[2]))
    return np.ascontiguousarray(v).reshape(ny * nx, -1)


def dct_matrix(n=8):
    k = np.arange(n)
    m = np.cos(np.pi * (2 * k[None] + 1) * k[:, None] / (2 * n)) * np.sqrt(2.0 / n)
    m[0] /= np.sqrt(2)
    return m.astype(np.float32)


DCT8 = dct_matrix(8)
DIAG = np.array([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], np.float32)


def feat_npr_raw(x):
    return patches(npr(x.astype(np.float32)), 8, 8)


def feat_npr_dct(x):
    r = npr(x.astype(np.float32))
    p = patches(r, 8, 8).reshape(-1, 8, 8, 3)
    d = np.einsum("ij,pjkc,lk->pilc", DCT8, p, DCT8)
    return np.log1p(np.abs(d)).reshape(len(p), -1)


def feat_npr_stats(x):
    """Per 8x8 patch, per channel, per non-zero 2x2 phase (right, below, diagonal):
    log1p(mean |r|) and mean r / 8 -> 18-d."""
    r = npr(x.astype(np.float32))
    p = patches(r, 8, 8).reshape(-1, 4, 2, 4, 2, 3)  # (P, by, py, bx, px, C)
    out = []
    for py, px in [(0, 1), (1, 0), (1, 1)]:
        v = p[:, :, py, :, px, :].reshape(len(p), 16, 3)
        out.append(np.log1p(np.abs(v).mean(1)))
        out.append(v.mean(1) / 8.0)
    return np.concatenate(out, 1)


def feat_npr_ratio(x):
    """Energy-invariant NPR profile: per 8x8 patch, log(mean |r| + 0.5) for the 9
    (channel, phase) cells minus their mean over the 9 cells -> 9-d log-ratios."""
    r = npr(x.astype(np.float32))
    p = patches(r, 8, 8).reshape(-1, 4, 2, 4, 2, 3)
    v = np.stack([np.abs(p[:, :, py, :, px, :]).mean((1, 2)) for py, px in [(0, 1), (1, 0), (1, 1)]], 1)
    v = np.log(v.reshape(len(p), 9) + 0.5)
    return v - v.mean(1, keepdims=True)


def diag_grad(x):
    t = torch.from_numpy(x.astype(np.float32)).permute(2, 0, 1)[None]
    k = torch.from_numpy(DIAG)[None, None].repeat(3, 1, 1, 1)
    return F.conv2d(t, k, padding=1, groups=3)[0].permute(1, 2, 0).numpy()


def feat_grad9(x):
    return patches(np.ascontiguousarray(diag_grad(x)), 9, 8)


def feat_grad9_absdct(x):
    """log1p |DCT| of the 8x8 grid patches of the diagonal-gradient map."""
    g = np.ascontiguousarray(diag_grad(x))
    p = patches(g, 8, 8).reshape(-1, 8, 8, 3)
    d = np.einsum("ij,pjkc,lk->pilc", DCT8, p, DCT8)
    return np.log1p(np.abs(d)).reshape(len(p), -1)


_NETS = {}


def lite0(size):
    if size not in _NETS:
        from efficientnet_lite_pytorch import EfficientNet
        from safetensors.torch import load_file
        net = EfficientNet.from_name("efficientnet-lite0", image_size=size)
        missing, unexpected = net.load_state_dict(load_file(WEIGHTS), strict=False)
        assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
        _NETS[size] = net.eval().float()
    return _NETS[size]


@torch.no_grad()
def eff_maps(x, residual):
    """Stages 1-3 of EfficientNet-Lite0 at native resolution, each brought to the
    /8 grid by average pooling, concatenated: (80, H/8, W/8) = [s1 16ch | s2 24ch | s3 40ch]."""
    xf = x.astype(np.float32)
    inp = npr(xf) / 128.0 if residual else (xf - 127.0) / 128.0
    t = torch.from_numpy(np.ascontiguousarray(inp)).permute(2, 0, 1)[None]
    net = lite0(x.shape[0])
    h = net._swish(net._bn0(net._conv_stem(t)))
    outs = []
    for i, blk in enumerate(net._blocks[:5]):
        h = blk(h)
        if i in (0, 2, 4):
            outs.append(h)
    s1, s2, s3 = outs
    return torch.cat([F.avg_pool2d(s1, 4), F.avg_pool2d(s2, 2), s3], 1)[0]


def eff_cached(images, quality, down, residual):
    path = os.path.join(CACHE, "eff-%s-q%d%s.npz" % ("npr" if residual else "rgb", quality, "-down" if down else ""))
    if os.path.exists(path):
        z = np.load(path)
        return {k: z[k].astype(np.float32) for k in z.files}
    out = {k: eff_maps(v, residual).numpy() for k, v in images.items()}
    np.savez(path, **{k: v.astype(np.float16) for k, v in out.items()})
    return out


def eff_feature(maps, channels, avg3):
    m = torch.from_numpy(maps[channels])
    if avg3:
        m = F.avg_pool2d(m[None], 3, 1, 1, count_include_pad=False)[0]
    return m.reshape(m.shape[0], -1).T.contiguous().numpy()


S1, S2, S3, ALL = slice(0, 16), slice(16, 40), slice(40, 80), slice(0, 80)

# name -> (family, builder). builder(img, effcache) -> (P, D)
PRESETS = {
    "npr_raw8": ("npr", lambda x, e: feat_npr_raw(x)),
    "npr_dct8": ("npr", lambda x, e: feat_npr_dct(x)),
    "npr_stats8": ("npr", lambda x, e: feat_npr_stats(x)),
    "npr_ratio8": ("npr", lambda x, e: feat_npr_ratio(x)),
    "grad9_raw": ("ladeda-grad", lambda x, e: feat_grad9(x)),
    "grad8_absdct": ("ladeda-grad", lambda x, e: feat_grad9_absdct(x)),
    "eff_s123": ("effnet", lambda x, e: eff_feature(e["rgb"], ALL, False)),
    "eff_s123_avg3": ("effnet", lambda x, e: eff_feature(e["rgb"], ALL, True)),
    "eff_s1": ("effnet", lambda x, e: eff_feature(e["rgb"], S1, False)),
    "eff_s2": ("effnet", lambda x, e: eff_feature(e["rgb"], S2, False)),
    "eff_s3": ("effnet", lambda x, e: eff_feature(e["rgb"], S3, False)),
    "effnpr_s123": ("effnet-npr", lambda x, e: eff_feature(e["npr"], ALL, False)),
    "effnpr_s123_avg3": ("effnet-npr", lambda x, e: eff_feature(e["npr"], ALL, True)),
    "effnpr_s1": ("effnet-npr", lambda x, e: eff_feature(e["npr"], S1, False)),
}
METRICS = ["l2", "cos"]
POOLS = ["mean", "top10"]


# ---------------------------------------------------------------- scoring
def knn1(q, b, chunk=2048):
    """Squared-L2 distance of each row of q to its nearest row of b (torch, exact)."""
    q, b = torch.from_numpy(q), torch.from_numpy(b)
    bn = (b * b).sum(1)
    out = torch.empty(len(q))
    for i in range(0, len(q), chunk):
        qc = q[i:i + chunk]
        d = (qc * qc).sum(1, keepdim=True) + bn[None] - 2.0 * qc @ b.T
        out[i:i + chunk] = d.min(1).values.clamp_min(0)
    return out.numpy()


def l2n(a):
    return a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)


def pool(s):
    k = max(1, int(round(0.1 * len(s))))
    return {"mean": float(s.mean()), "top10": float(np.sort(s)[-k:].mean())}


def score_patch_preset(rows, feats_of, metric, bank_cap, q_per_img, bank_rows=None):
    """feats_of(key) -> (P,D). Returns {key: {pool: score}} for all non-bank rows."""
    bank_rows = bank_rows or [r for r in rows if r["role"] == "bank"]
    bank = np.concatenate([feats_of(r["key"]) for r in bank_rows]).astype(np.float32)
    if metric == "cos":
        bank = l2n(bank)
    rng = np.random.default_rng(0)
    if len(bank) > bank_cap:
        bank = bank[rng.choice(len(bank), bank_cap, replace=False)]
    bank = np.ascontiguousarray(bank)
    out = {}
    test = [r for r in rows if r["role"] != "bank"]
    for i in range(0, len(test), 16):
        group = test[i:i + 16]
        qs, idx = [], [0]
        for j, r in enumerate(group):
            f = feats_of(r["key"]).astype(np.float32)
            if q_per_img and len(f) > q_per_img:
                f = f[np.random.default_rng(1000 + i + j).choice(len(f), q_per_img, replace=False)]
            if metric == "cos":
                f = l2n(f)
            qs.append(f)
            idx.append(idx[-1] + len(f))
        d = knn1(np.ascontiguousarray(np.concatenate(qs)), bank)
        for j, r in enumerate(group):
            out[r["key"]] = pool(d[idx[j]:idx[j + 1]])
    return out, len(bank)


def auc_boot(neg, pos, n_boot, rng):
    """AUROC (Mann-Whitney, ties 1/2) point estimate and bootstrap percentile 95% CI."""
    neg, pos = np.asarray(neg), np.asarray(pos)
    m = (pos[:, None] > neg[None]).astype(np.float64) + 0.5 * (pos[:, None] == neg[None])
    cp = rng.multinomial(len(pos), np.full(len(pos), 1.0 / len(pos)), size=n_boot)
    cn = rng.multinomial(len(neg), np.full(len(neg), 1.0 / len(neg)), size=n_boot)
    b = ((cp @ m) * cn).sum(1) / (len(pos) * len(neg))
    return float(m.mean()), [float(np.percentile(b, 2.5)), float(np.percentile(b, 97.5))]


def evaluate(rows, scores, n_boot):
    """scores: {key: float}. Per-task AUROC [CI] and AP."""
    rng = np.random.default_rng(0)
    by = lambda pred: np.array([scores[r["key"]] for r in rows if pred(r)])
    reals = by(lambda r: r["role"] == "real")
    ml72r = by(lambda r: r["role"] == "ml72real")
    tasks = {"overall": (reals, by(lambda r: r["role"] == "fake" and r["gen"] in MAIN_GENS))}
    for g in MAIN_GENS:
        tasks[g] = (reals, by(lambda r, g=g: r["gen"] == g))
    tasks["ml72"] = (ml72r, by(lambda r: r["role"] == "fake" and r["gen"] in ML72_GENS))
    for g in ML72_GENS:
        tasks[g] = (ml72r, by(lambda r, g=g: r["gen"] == g))
    # "not-ImageNet" check: ml72 reals against the held-out ImageNet reals (0.5 = no domain signal)
    tasks["ml72real_vs_imagenetreal"] = (reals, ml72r)
    out = {}
    for name, (neg, pos) in tasks.items():
        y = np.r_[np.zeros(len(neg)), np.ones(len(pos))]
        s = np.r_[neg, pos]
        auc, ci = auc_boot(neg, pos, n_boot, rng)
        assert abs(auc - roc_auc_score(y, s)) < 1e-9
        out[name] = {"auroc": auc, "auroc_ci95": ci, "ap": float(average_precision_score(y, s)),
                     "n_neg": int(len(neg)), "n_pos": int(len(pos))}
    return out


# ---------------------------------------------------------------- runs
class Setting:
    """Images and EfficientNet maps for one (quality, downscale) setting."""

    def __init__(self, rows, quality, down, need_eff):
        t = time.time()
        self.full, self.img = load_images(rows, quality, down)
        self.eff = {}
        if need_eff:
            self.eff["rgb"] = eff_cached(self.img, quality, down, False)
            self.eff["npr"] = eff_cached(self.img, quality, down, True)
        self._cache = {}
        print("  setting q%d down=%s ready in %.0fs" % (quality, down, time.time() - t), flush=True)

    def feats(self, preset):
        _, build = PRESETS[preset]

        def get(key):
            ck = (preset, key)
            if ck not in self._cache:
                self._cache[ck] = build(self.img[key], {k: v[key] for k, v in self.eff.items()})
            return self._cache[ck]
        return get

    def drop_cache(self):
        self._cache = {}


@torch.no_grad()
def pooled_baseline(setting, rows, n_boot):
    """Toolkit-style pooled 1280-d EfficientNet-Lite0 feature (shorter side -> 256
    antialiased bilinear, centre crop 224, (x-127)/128), cosine 1-NN to the bank images."""
    net = lite0(224)
    feats = {}
    for r in rows:
        im = Image.fromarray(setting.full[r["key"]])
        s = 256.0 / min(im.size)
        if min(im.size) != 256:
            im = im.resize((round(im.width * s), round(im.height * s)), Image.BILINEAR)
        x = center_crop(np.asarray(im), 224).astype(np.float32)
        t = torch.from_numpy((x - 127.0) / 128.0).permute(2, 0, 1)[None]
        feats[r["key"]] = net._avg_pooling(net.extract_features(t)).flatten().numpy()
    bank = l2n(np.stack([feats[r["key"]] for r in rows if r["role"] == "bank"]))
    scores = {}
    for r in rows:
        if r["role"] != "bank":
            f = l2n(feats[r["key"]][None])
            scores[r["key"]] = float((2 - 2 * f @ bank.T).min())
    return evaluate(rows, scores, n_boot)


def run_preset(setting, rows, preset, metric, bank_cap, q_per_img, n_boot, bank_setting=None):
    t = time.time()
    if bank_setting is None:
        feats_of = setting.feats(preset)
    else:  # bank features from another setting (native bank, downscaled test)
        test_f, bank_f = setting.feats(preset), bank_setting.feats(preset)
        bank_keys = {r["key"] for r in rows if r["role"] == "bank"}
        feats_of = lambda k: bank_f(k) if k in bank_keys else test_f(k)
    sc, nb = score_patch_preset(rows, feats_of, metric, bank_cap, q_per_img)
    res = {p: evaluate(rows, {k: v[p] for k, v in sc.items()}, n_boot) for p in POOLS}
    dim = feats_of(rows[0]["key"]).shape[1]
    return {"pools": res, "bank_patches": nb, "dim": int(dim), "seconds": round(time.time() - t, 1)}


def logo(table):
    """table: {candidate: {task: {auroc}}}. Leave-one-generator-out selection over MAIN_GENS."""
    out = {}
    for g in MAIN_GENS:
        others = [h for h in MAIN_GENS if h != g]
        best = max(table, key=lambda c: np.mean([table[c][h]["auroc"] for h in others]))
        out[g] = {"selected": best, "selection_mean_auroc_others": float(np.mean([table[best][h]["auroc"] for h in others])),
                  "heldout_auroc": table[best][g]["auroc"], "heldout_auroc_ci95": table[best][g]["auroc_ci95"]}
    out["mean_heldout_auroc"] = float(np.mean([out[g]["heldout_auroc"] for g in MAIN_GENS]))
    return out


def brief(res):
    return "AUROC %.3f [%.3f,%.3f] AP %.3f | %s | ml72 %.3f | ml72real-vs-IN %.3f" % (
        res["overall"]["auroc"], *res["overall"]["auroc_ci95"], res["overall"]["ap"],
        " ".join("%.2f" % res[g]["auroc"] for g in MAIN_GENS), res["ml72"]["auroc"],
        res["ml72real_vs_imagenetreal"]["auroc"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small bank/query counts, 200 bootstraps, fewer presets")
    ap.add_argument("--headline", nargs="*", help="force headline presets as preset:metric:pool")
    a = ap.parse_args()
    os.makedirs(CACHE, exist_ok=True)
    t0 = time.time()
    rows = manifest()
    n_boot = 200 if a.quick else 1000
    sweep_cap, sweep_q = (4096, 64) if a.quick else (8192, 128)
    full_cap = 8192 if a.quick else 50000
    presets = ["npr_raw8", "npr_stats8", "npr_ratio8", "grad9_raw", "eff_s123", "effnpr_s123"] if a.quick else list(PRESETS)
    qualities = [90, 75]
    result = {"protocol": {
        "harmonise": "Pillow RGB -> [2x bilinear downscale] -> JPEG quality q (default 4:2:0) -> decode -> centre crop 256 (ml72 512 -> offset 128)",
        "bank": "imagenet-real, seeded split (numpy default_rng(0).permutation of sorted files), first half = bank (124), rest = held-out real test (124)",
        "knn": "k=1, squared L2 (l2) or squared L2 of unit vectors = 2-2cos (cos); exact, torch 1 thread",
        "pools": "mean or top-10% mean of patch scores",
        "bootstrap": "%d resamples of reals and fakes independently, numpy default_rng(0), percentile 95%% CI" % n_boot,
        "sweep": "bank capped at %d random patches (seed 0), %d random query patches per test image" % (sweep_cap, sweep_q),
        "headline": "bank capped at %d random patches (seed 0), all query patches" % full_cap,
        "main_generators": MAIN_GENS, "ml72_generators": ML72_GENS,
        "n": {role: sum(r["role"] == role for r in rows) for role in ["bank", "real", "fake", "ml72real"]},
    }, "sweep": {}, "baseline_pooled_cosine": {}, "logo": {}, "headline": {}, "downscale": {}}
    settings = {}
    for q in qualities:
        print("== sweep q%d" % q, flush=True)
        s = settings[q] = Setting(rows, q, False, True)
        result["baseline_pooled_cosine"]["q%d" % q] = base = pooled_baseline(s, rows, n_boot)
        print("  %-22s %s" % ("pooled1280-cos", brief(base)), flush=True)
        sw = result["sweep"]["q%d" % q] = {}
        for p in presets:
            for m in METRICS:
                r = run_preset(s, rows, p, m, sweep_cap, sweep_q, n_boot)
                r["family"] = PRESETS[p][0]
                sw["%s:%s" % (p, m)] = r
                for pl in POOLS:
                    print("  %-22s %-5s %s  (%ss, dim %d)" % (p + ":" + m, pl, brief(r["pools"][pl]), r["seconds"], r["dim"]), flush=True)
            s.drop_cache()
        table = {"%s:%s" % (c, pl): sw[c]["pools"][pl] for c in sw for pl in POOLS}
        table["pooled1280:cos:image"] = base
        result["logo"]["q%d" % q] = lg = logo(table)
        print("  LOGO q%d: %s mean held-out %.3f" % (q, {g: lg[g]["selected"] for g in MAIN_GENS}, lg["mean_heldout_auroc"]), flush=True)
        # also the overall ranking by mean AUROC over the 6 generators (for the report)
        rank = sorted(table, key=lambda c: -np.mean([table[c][g]["auroc"] for g in MAIN_GENS]))
        result["logo"]["q%d" % q]["ranking_mean6"] = [[c, float(np.mean([table[c][g]["auroc"] for g in MAIN_GENS]))] for c in rank[:15]]

    # headline: candidates selected by LOGO at either quality (plus forced ones)
    if a.headline:
        heads = a.headline
    else:
        heads = []
        for q in qualities:
            for g in MAIN_GENS:
                c = result["logo"]["q%d" % q][g]["selected"]
                if c not in heads and not c.startswith("pooled1280"):
                    heads.append(c)
        heads = heads[:2]
    print("== headline", heads, flush=True)
    for c in heads:
        p, m, pl = c.split(":")
        for q in qualities:
            r = run_preset(settings[q], rows, p, m, full_cap, 0, n_boot)
            result["headline"]["%s:q%d" % (c, q)] = {"pool": pl, "bank_patches": r["bank_patches"], "dim": r["dim"],
                                                     "seconds": r["seconds"], "metrics": r["pools"][pl],
                                                     "other_pool": r["pools"]}
            print("  %-28s q%d %s (%ss)" % (c, q, brief(r["pools"][pl]), r["seconds"]), flush=True)
            settings[q].drop_cache()
    # robustness: 2x downscale for the first headline preset
    c = heads[0]
    p, m, pl = c.split(":")
    print("== downscale", c, flush=True)
    for q in qualities:
        ds = Setting(rows, q, True, PRESETS[p][0].startswith("effnet"))
        both = run_preset(ds, rows, p, m, full_cap, 0, n_boot)
        mixed = run_preset(ds, rows, p, m, full_cap, 0, n_boot, bank_setting=settings[q])
        native = result["headline"]["%s:q%d" % (c, q)]["metrics"]
        d = result["downscale"]["q%d" % q] = {
            "preset": c,
            "bank_and_test_downscaled": both["pools"][pl], "bank_native_test_downscaled": mixed["pools"][pl],
            "drop_overall_auroc_bank_and_test": native["overall"]["auroc"] - both["pools"][pl]["overall"]["auroc"],
            "drop_overall_auroc_bank_native": native["overall"]["auroc"] - mixed["pools"][pl]["overall"]["auroc"],
            "drop_ml72_auroc_bank_and_test": native["ml72"]["auroc"] - both["pools"][pl]["ml72"]["auroc"],
            "drop_ml72_auroc_bank_native": native["ml72"]["auroc"] - mixed["pools"][pl]["ml72"]["auroc"]}
        print("  q%d down both : %s" % (q, brief(both["pools"][pl])), flush=True)
        print("  q%d down mixed: %s" % (q, brief(mixed["pools"][pl])), flush=True)
        print("  drops overall: both %.3f, bank-native %.3f" % (d["drop_overall_auroc_bank_and_test"], d["drop_overall_auroc_bank_native"]), flush=True)
    result["seconds_total"] = round(time.time() - t0)
    result["command"] = "/root/venv/bin/python Notebooks-export/scripts/explore_deepfake_presets.py" + (" --quick" if a.quick else "")
    name = os.path.join(CACHE, "deepfake-presets-exploration-quick.json") if a.quick else \
        os.path.join(REPO, "Notebooks-export", "results", "deepfake-presets-exploration.json")
    with open(name, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print("wrote", name, "in %ds" % result["seconds_total"])


if __name__ == "__main__":
    main()
