#!/usr/bin/env python3
"""Patch-mode anomaly detection and localisation on Magnetic Tile defects.

Protocol (issue 3): fit a patch bank on a seeded 80% of MT_Free, then score
the remaining 20% of normals and every defect image. Image AUROC uses the
image scores; pixel AUROC compares the per-location score maps, upsampled
to each image (bilinear) and smoothed with a Gaussian of sigma 4 as in
PatchCore, against the masks thresholded at 128 (normal images count as
all-zero masks).

Run from the repository root after `swift build -c release`:
    python3 Notebooks-export/scripts/eval_magnetic_tile.py [--coreset 0.01] [--stages 3 5]
Needs numpy, scipy, scikit-learn, pillow (dev only).
Writes Notebooks-export/results/magnetic-tile*.json and figures/.
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time

import numpy as np
from PIL import Image
from scipy.ndimage import gaussian_filter, zoom
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "industrial", "magnetic-tile"))
DEFECTS = ["MT_Blowhole", "MT_Break", "MT_Crack", "MT_Fray", "MT_Uneven"]


def files(cls):
    d = os.path.join(DATA, cls, "images")
    return [os.path.join(d, f) for f in sorted(os.listdir(d)) if f.endswith(".png")]


def call(args):
    """Runs the CLI; on failure shows the command's head and stderr's tail, not 700 paths."""
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("%s %s ... failed (%d):\n%s" % (args[0], " ".join(args[1:4]), p.returncode, p.stderr[-3000:]))
    return p.stdout


def mask_for(path):
    cls = path.split(os.sep)[-3]
    if cls == "MT_Free":
        return None
    name = os.path.basename(path)[:-4] + "_mask.png"
    return os.path.join(DATA, cls, "masks", name)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--coreset", type=float, default=0.01)
    ap.add_argument("--stages", type=int, nargs="+", default=[3, 5])
    ap.add_argument("--scorer", default="knn")
    ap.add_argument("--input-size", type=int, default=224)
    ap.add_argument("--coreset-method", default="greedy")
    ap.add_argument("--transform", default="none")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--tag", default="")
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    a = ap.parse_args()

    free = files("MT_Free")
    order = np.random.default_rng(a.seed).permutation(len(free))
    n_train = int(round(0.8 * len(free)))
    train = [free[i] for i in sorted(order[:n_train])]
    test_normal = [free[i] for i in sorted(order[n_train:])]
    test_defect = [p for c in DEFECTS for p in files(c)]
    test = test_normal + test_defect
    work = tempfile.mkdtemp(prefix="anomalykit-mt-")
    bank = os.path.join(work, "bank.safetensors")
    t0 = time.time()
    call([a.bin, "fit", "--patches", "--stage", *map(str, a.stages), "--resize", "stretch",
          "--scorer", a.scorer, "--coreset", str(a.coreset), "--input-size", str(a.input_size), "--holdout", "0",
          "--coreset-method", a.coreset_method, "--transform", a.transform,
          "--out", bank] + train)
    fit_seconds = time.time() - t0
    maps_path = os.path.join(work, "maps.npy")
    heat = os.path.join(work, "heatmaps")
    t0 = time.time()
    out = call([a.bin, "score", "--bank", bank, "--json", "--maps-out", maps_path, "--heatmaps", heat] + test)
    score_seconds = time.time() - t0
    scores = np.array([r["score"] for r in json.loads(out)])
    labels = np.array([0] * len(test_normal) + [1] * len(test_defect))
    image_auroc = roc_auc_score(labels, scores)
    per_class = {c: roc_auc_score(
        np.r_[np.zeros(len(test_normal)), np.ones(len(files(c)))],
        np.r_[scores[:len(test_normal)], scores[[i for i, p in enumerate(test) if os.sep + c + os.sep in p]]])
        for c in DEFECTS}

    maps = np.load(maps_path)
    side = int(round(np.sqrt(maps.shape[1])))
    pix_scores, pix_labels = [], []
    for path, m in zip(test, maps):
        w, h = Image.open(path).size
        grid = m.reshape(side, side)
        dense = zoom(grid, (h / side, w / side), order=1)[:h, :w]
        dense = gaussian_filter(dense, sigma=4 * max(h, w) / a.input_size)
        mp = mask_for(path)
        gt = np.zeros((h, w), bool) if mp is None else (np.asarray(Image.open(mp).convert("L")) >= 128)
        # Subsample pixels (every 4th in each direction) to bound memory.
        pix_scores.append(dense[::4, ::4].ravel())
        pix_labels.append(gt[::4, ::4].ravel())
    pixel_auroc = roc_auc_score(np.concatenate(pix_labels), np.concatenate(pix_scores))

    tag = a.tag or "input%d-stages%s-coreset%g%s-%s-%s" % (
        a.input_size, "".join(map(str, a.stages)), a.coreset, "" if a.coreset_method == "greedy" else a.coreset_method,
        a.scorer, a.transform)
    result = {
        "protocol": "fit on seeded 80%% of MT_Free (seed %d), test on remaining normals + all defects" % a.seed,
        "stages": a.stages, "coreset": a.coreset, "scorer": a.scorer, "resize": "stretch", "input_size": a.input_size,
        "coreset_method": a.coreset_method, "transform": a.transform,
        "n_train": len(train), "n_test_normal": len(test_normal), "n_test_defect": len(test_defect),
        "image_auroc": image_auroc, "pixel_auroc": pixel_auroc, "per_defect_image_auroc": per_class,
        "fit_seconds": fit_seconds, "score_seconds": score_seconds,
        "command": "python3 Notebooks-export/scripts/eval_magnetic_tile.py --coreset %g --coreset-method %s --stages %s "
                   "--scorer %s --input-size %d --transform %s"
                   % (a.coreset, a.coreset_method, " ".join(map(str, a.stages)), a.scorer, a.input_size, a.transform),
    }
    os.makedirs(os.path.join(REPO, "Notebooks-export", "results"), exist_ok=True)
    with open(os.path.join(REPO, "Notebooks-export", "results", "magnetic-tile-%s.json" % tag), "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    figures = os.path.join(REPO, "Notebooks-export", "figures", "magnetic-tile")
    os.makedirs(figures, exist_ok=True)
    examples = [test_defect[i] for i in (0, 130, 210, 260, 300)] + test_normal[:1]
    for p in examples:
        src = os.path.join(heat, os.path.basename(p)[:-4] + ".heatmap.png")
        if os.path.exists(src):
            shutil.copy(src, os.path.join(figures, p.split(os.sep)[-3] + "-" + os.path.basename(src)))
    print(json.dumps(result, indent=2, sort_keys=True))
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
