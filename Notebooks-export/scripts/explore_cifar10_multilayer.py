#!/usr/bin/env python3
"""Multi-layer features on one-class CIFAR-10: does adding globally pooled
stage maps (stage 5: 112-d, stage 6: 192-d) to the 1280-d head feature help
cosine kNN (k = 2)? Each part is L2-normalised before concatenation.

Features come from `anomalykit embed --layer stageN` (flattened C x H x W
maps, averaged here over H x W) and `--layer pooled`; scoring is numpy.
Run after eval_cifar10.py (it reuses that script's pooled-feature cache):
    python3 Notebooks-export/scripts/explore_cifar10_multilayer.py
Writes Notebooks-export/results/cifar10-multilayer.json.
"""
import json
import os
import subprocess

import numpy as np
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "images", "cifar10"))
WORK = "/tmp/anomalykit-cifar/multilayer"
BIN = os.path.join(REPO, ".build", "release", "anomalykit")
CHANNELS = {5: 112, 6: 192}


def features(split, cls, part):
    out = os.path.join(WORK, "%s_%s_%s.npy" % (part, split, cls))
    if not os.path.exists(out):
        layer = "pooled" if part == "head" else "stage%d" % part
        subprocess.run([BIN, "embed", os.path.join(DATA, split, cls), "--resize", "stretch", "--layer", layer, "--out", out],
                       check=True, capture_output=True)
    x = np.load(out)
    if part != "head":
        x = x.reshape(len(x), CHANNELS[part], -1).mean(2)
    x = np.sqrt(np.maximum(x, 0))  # the toolkit's default transform
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def mean_auroc(parts, classes):
    feat = {(s, c): np.hstack([features(s, c, p) for p in parts]) for s in ("train", "test") for c in classes}
    x = np.concatenate([feat["test", c] for c in classes])
    y = np.concatenate([[i] * len(feat["test", c]) for i, c in enumerate(classes)])
    aucs = []
    for i, c in enumerate(classes):
        b = feat["train", c]
        d = (x ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None] - 2 * x @ b.T
        aucs.append(roc_auc_score(y != i, np.sort(np.maximum(d, 0), 1)[:, :2].sum(1)))
    return float(np.mean(aucs))


def main():
    os.makedirs(WORK, exist_ok=True)
    classes = open(os.path.join(DATA, "classes.txt")).read().split()
    variants = {"head": ["head"], "stage6": [6], "head+stage6": ["head", 6], "head+stage5": ["head", 5],
                "head+stage5+stage6": ["head", 5, 6]}
    result = {name: mean_auroc(parts, classes) for name, parts in variants.items()}
    for k, v in result.items():
        print("%-20s %.2f" % (k, 100 * v))
    out = {"mean_auroc": result, "scorer": "cosine-knn (k=2) in numpy on sqrt features",
           "command": "python3 Notebooks-export/scripts/explore_cifar10_multilayer.py"}
    with open(os.path.join(REPO, "Notebooks-export", "results", "cifar10-multilayer.json"), "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    main()
