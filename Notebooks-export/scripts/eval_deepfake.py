#!/usr/bin/env python3
"""Deepfakes as anomalies: the harmonised real-vs-generated protocol.

Protocol (issue 5, ../shared/data/README.md "Real vs generated"):
- Real-only bank: imagenet-real split with seed 0 (numpy default_rng(0)
  permutation): the first half fits the bank, the second half are the real
  test images, so no real image is scored against itself.
- Fakes: aibingo (dalle, midjourney, stable-diffusion), bias-ai-university
  (chatgpt-image, midjourney-v7, whisk) and ml72 (gan, diffusion1..4). ml72's
  own 50 real photos are a second real set from another source: "ml72 real vs
  ml72 fake" shows whether a detector flags generated images or merely
  "not ImageNet".
- Harmonised compression: every image (bank, real and fake test images) is
  re-encoded as JPEG at quality Q before features, by the toolkit itself
  (`--harmonize-jpeg Q`), at Q = 90 and again at Q = 75.
- Metrics: AUROC and AP (scikit-learn) overall (held-out reals vs all fakes)
  and per generator (that generator's fakes vs the held-out reals), with
  bootstrap 95% intervals (1000 resamples of reals and fakes, seeded).
- Leave-one-generator-out: for each generator g the candidate (features x
  pooling) with the best mean AUROC over the *other* generators is chosen,
  and its AUROC on g is reported. A real-only detector never trains on any
  generator, so this only guards the preset choice itself.
- Robustness: test images downscaled 2x (Pillow bilinear) before the
  pipeline, bank unchanged; and everything at JPEG 75.
- Comparison: Tiny-LaDeDa (WildRF- and ForenSynth-trained, supervised on
  fakes) on the same images with the same harmonisation, when converted
  weights are given with --tiny-ladeda DIR (files *_Tiny_LaDeDa.safetensors).

Run from the repository root after `swift build -c release`:
    python3 Notebooks-export/scripts/eval_deepfake.py [--quick] [--tiny-ladeda DIR]
Needs numpy, scikit-learn, pillow, matplotlib (dev only).
Writes Notebooks-export/results/deepfake.json and figures/deepfake-*.png.
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
from PIL import Image
from sklearn.metrics import average_precision_score, roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "realfake"))

# name -> fit options after `--preset deepfake` (explicit options override it)
CANDIDATES = {
    "stages123": [],  # the preset itself (random 10% coreset)
    "stages123-greedy": ["--coreset-method", "greedy"],
    "stages123-cos": ["--scorer", "cosine-knn", "--coreset-method", "greedy"],
    "npr-8": ["--residual", "npr", "--patch-size", "8", "--patch-stride", "8", "--coreset-method", "greedy"],
    "diagonal-9": ["--residual", "diagonal", "--patch-size", "9", "--patch-stride", "8", "--coreset-method", "greedy"],
}
POOLINGS = ["mean", "top0.1", "max"]


def call(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        raise SystemExit("%s %s ... failed (%d):\n%s" % (args[0], " ".join(args[1:4]), p.returncode, p.stderr[-3000:]))
    return p.stdout


def rows(folder):
    with open(os.path.join(DATA, folder, "metadata.csv")) as f:
        return list(csv.DictReader(f))


def dataset():
    reals = sorted(os.path.join(DATA, "imagenet-real", r["file"]) for r in rows("imagenet-real"))
    perm = np.random.default_rng(0).permutation(len(reals))
    half = len(reals) // 2
    bank = [reals[i] for i in perm[:half]]
    test_real = [reals[i] for i in perm[half:]]
    fakes = {}
    for folder in ("aibingo", "bias-ai-university"):
        for r in rows(folder):
            fakes.setdefault("%s/%s" % (folder, r["generator"]), []).append(os.path.join(DATA, folder, r["file"]))
    ml72_real = []
    for r in rows("ml72"):
        path = os.path.join(DATA, "ml72", r["file"])
        if r["label"] == "real":
            ml72_real.append(path)
        else:
            group = os.path.basename(r["file"]).split("_")[0]
            fakes.setdefault("ml72/" + group, []).append(path)
    return bank, test_real, {k: sorted(v) for k, v in sorted(fakes.items())}, sorted(ml72_real)


def bootstrap(neg, pos, fn, n=1000, seed=0):
    rng = np.random.default_rng(seed)
    neg = np.asarray(neg)
    pos = np.asarray(pos)
    vals = []
    for _ in range(n):
        a = neg[rng.integers(0, len(neg), len(neg))]
        b = pos[rng.integers(0, len(pos), len(pos))]
        y = np.r_[np.zeros(len(a)), np.ones(len(b))]
        vals.append(fn(y, np.r_[a, b]))
    return [float(np.percentile(vals, 2.5)), float(np.percentile(vals, 97.5))]


def metrics(neg, pos, ci=True):
    y = np.r_[np.zeros(len(neg)), np.ones(len(pos))]
    s = np.r_[neg, pos]
    out = {"auroc": float(roc_auc_score(y, s)), "ap": float(average_precision_score(y, s)), "n_real": len(neg), "n_fake": len(pos)}
    if ci:
        out["auroc_ci95"] = bootstrap(neg, pos, roc_auc_score)
        out["ap_ci95"] = bootstrap(neg, pos, average_precision_score)
    return out


def pool(maps, how):
    if how == "mean":
        return maps.mean(axis=1)
    if how == "max":
        return maps.max(axis=1)
    q = float(how[3:])
    n = max(1, int(np.ceil(maps.shape[1] * q * (1 - 1e-12))))
    return -np.sort(-maps, axis=1)[:, :n].mean(axis=1)


def downscaled(paths, folder):
    """2x Pillow-bilinear downscales, saved losslessly (PNG)."""
    os.makedirs(folder, exist_ok=True)
    out = []
    for i, p in enumerate(paths):
        im = Image.open(p).convert("RGB")
        im = im.resize((im.width // 2, im.height // 2), Image.BILINEAR)
        q = os.path.join(folder, "%04d_%s" % (i, os.path.basename(p)))
        im.save(q)
        out.append(q)
    return out


def score_maps(binary, bank_path, paths, work, tag):
    npy = os.path.join(work, tag + "-maps.npy")
    call([binary, "score", "--bank", bank_path, "--json", "--maps-out", npy] + paths)
    return np.load(npy)


def report(scores, test_real, fakes, ml72_real, ci=True):
    """scores: dict path -> score."""
    neg = np.array([scores[p] for p in test_real])
    all_fake = np.array([scores[p] for g in fakes for p in fakes[g]])
    out = {"overall": metrics(neg, all_fake, ci), "per_generator": {}}
    for g, ps in fakes.items():
        out["per_generator"][g] = metrics(neg, np.array([scores[p] for p in ps]), ci)
    ml72_fake = np.array([scores[p] for g in fakes if g.startswith("ml72/") for p in fakes[g]])
    out["ml72_real_vs_fake"] = metrics(np.array([scores[p] for p in ml72_real]), ml72_fake, ci)
    out["imagenet_real_vs_ml72_real"] = metrics(neg, np.array([scores[p] for p in ml72_real]), ci)
    return out


def logo(per_candidate, generators):
    """Leave-one-generator-out choice among candidates (name -> report)."""
    out = {}
    for g in generators:
        others = [h for h in generators if h != g]
        best = max(per_candidate, key=lambda c: np.mean([per_candidate[c]["per_generator"][h]["auroc"] for h in others]))
        out[g] = {"chosen": best, "auroc": per_candidate[best]["per_generator"][g]["auroc"]}
    out["mean_auroc"] = float(np.mean([out[g]["auroc"] for g in generators]))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    ap.add_argument("--quick", action="store_true", help="20 bank images, 10 per test group, no CIs")
    ap.add_argument("--candidates", nargs="+", default=list(CANDIDATES), help="names from CANDIDATES, or none")
    ap.add_argument("--qualities", type=int, nargs="+", default=[90, 75])
    ap.add_argument("--coreset", default="0.1")
    ap.add_argument("--tiny-ladeda", default=None, help="folder with converted *_Tiny_LaDeDa.safetensors")
    ap.add_argument("--out", default=os.path.join(REPO, "Notebooks-export", "results", "deepfake.json"))
    args = ap.parse_args()

    bank, test_real, fakes, ml72_real = dataset()
    if args.quick:
        bank, test_real, ml72_real = bank[:20], test_real[:10], ml72_real[:10]
        fakes = {g: v[:10] for g, v in fakes.items()}
    tests = test_real + [p for g in fakes for p in fakes[g]] + ml72_real
    work = tempfile.mkdtemp(prefix="ak-deepfake-")
    binary = os.path.join(work, "anomalykit")
    shutil.copy(args.binary, binary)  # a rebuild mid-run must not change the tool
    result = {"protocol": __doc__.split("Run from")[0].strip(), "bank_images": len(bank), "test_real": len(test_real),
              "fakes": {g: len(v) for g, v in fakes.items()}, "ml72_real": len(ml72_real), "runs": {}}
    small = downscaled(tests, os.path.join(work, "down2"))
    small_of = dict(zip(tests, small))
    ci = not args.quick
    if args.candidates == ["none"]:
        args.candidates = []
    for q in args.qualities if args.candidates else []:
        per_candidate = {}
        for name in args.candidates:
            bank_path = os.path.join(work, "%s-q%d.safetensors" % (name, q))
            t0 = time.time()
            call([binary, "fit", "--preset", "deepfake", "--harmonize-jpeg", str(q), "--holdout", "0", "--coreset", args.coreset,
                  "--out", bank_path] + CANDIDATES[name] + bank)
            fit_s = time.time() - t0
            t0 = time.time()
            maps = score_maps(binary, bank_path, tests, work, "%s-q%d" % (name, q))
            score_s = time.time() - t0
            for how in POOLINGS:
                key = "%s/%s" % (name, how)
                scores = dict(zip(tests, pool(maps, how)))
                rep = report(scores, test_real, fakes, ml72_real, ci=ci and how == "mean")
                rep.update(fit_seconds=fit_s, score_seconds=score_s, images_per_second=len(tests) / score_s)
                per_candidate[key] = rep
                print("q%d %-18s overall AUROC %.3f AP %.3f  ml72 %.3f" % (
                    q, key, rep["overall"]["auroc"], rep["overall"]["ap"], rep["ml72_real_vs_fake"]["auroc"]), flush=True)
            if q == args.qualities[0]:
                dmaps = score_maps(binary, bank_path, [small_of[p] for p in tests], work, "%s-q%d-down2" % (name, q))
                for how in POOLINGS:
                    scores = dict(zip(tests, pool(dmaps, how)))
                    per_candidate["%s/%s/down2x" % (name, how)] = report(scores, test_real, fakes, ml72_real, ci=False)
        # Baseline: the plain pooled-feature bank (1280-d, cosine kNN, k = 2, crop resize).
        base_path = os.path.join(work, "pooled-q%d.safetensors" % q)
        call([binary, "fit", "--harmonize-jpeg", str(q), "--holdout", "0", "--out", base_path] + bank)
        base = json.loads(call([binary, "score", "--bank", base_path, "--json"] + tests))
        per_candidate["pooled-cosine/image"] = report(dict(zip(tests, [r["score"] for r in base])), test_real, fakes, ml72_real, ci=ci)
        print("q%d %-18s overall AUROC %.3f" % (q, "pooled-cosine", per_candidate["pooled-cosine/image"]["overall"]["auroc"]), flush=True)
        generators = list(fakes)
        plain = {k: v for k, v in per_candidate.items() if not k.endswith("down2x")}
        result["runs"]["q%d" % q] = {"candidates": per_candidate, "logo": logo(plain, generators)}
        print("q%d LOGO mean AUROC %.3f" % (q, result["runs"]["q%d" % q]["logo"]["mean_auroc"]), flush=True)

    if args.tiny_ladeda:
        result["tiny_ladeda"] = {}
        for f in sorted(os.listdir(args.tiny_ladeda)):
            if not f.endswith(".safetensors"):
                continue
            name = f.replace(".safetensors", "")
            for q in args.qualities:
                for variant, paths in (("", tests), ("/down2x", [small_of[p] for p in tests])):
                    if variant and q != args.qualities[0]:
                        continue
                    out = json.loads(call([binary, "deepfake", "tiny-ladeda", "--weights", os.path.join(args.tiny_ladeda, f),
                                           "--harmonize-jpeg", str(q), "--json"] + paths))
                    scores = dict(zip(tests, [r["logit"] for r in out]))
                    rep = report(scores, test_real, fakes, ml72_real, ci=ci and not variant)
                    result["tiny_ladeda"]["%s/q%d%s" % (name, q, variant)] = rep
                    print("tiny-ladeda %s q%d%s overall AUROC %.3f AP %.3f  ml72 %.3f" % (
                        name, q, variant, rep["overall"]["auroc"], rep["overall"]["ap"], rep["ml72_real_vs_fake"]["auroc"]), flush=True)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, args.out)
    shutil.rmtree(work, ignore_errors=True)
    print("wrote", args.out)


if __name__ == "__main__":
    main()
