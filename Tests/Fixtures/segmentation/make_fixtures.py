#!/usr/bin/env python3
"""Fixtures for the segmentation metrics (Tests/DensityTests/RegionOverlapTests.swift
and Tests/CLITests/SegmentationCLITests.swift).

- Four synthetic 24x32 anomaly maps (numpy, seed 0; quantised to 0.05 so that
  scores tie) with ground-truth masks: one anomaly-free image, regions that
  touch only diagonally (one region under 8-connectivity), several regions.
- References: pixel AUROC by scikit-learn; AUPRO at 0.3 FPR by the MVTec AD
  evaluation code's algorithm (scipy.ndimage.label with a 3x3 structure,
  cumulative FPR / PRO over the scores sorted from the top, the last of each
  run of ties, trapezoid up to 0.3 with interpolation, divided by 0.3),
  written out here independently of the Swift code.
- A dense map: a 7x7 grid resized to 40x30 by PyTorch's bilinear
  interpolation (align_corners=False), then scipy.ndimage.gaussian_filter
  with sigma = 4 * 40 / 56 (input size 56).

    /root/venv/bin/python Tests/Fixtures/segmentation/make_fixtures.py
"""
import json
import os

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import gaussian_filter, label
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))


def trapezoid(x, y, x_max):
    x, y = np.asarray(x, float), np.asarray(y, float)
    correction = 0.0
    if x_max not in x:
        ins = np.searchsorted(x, x_max)
        assert 0 < ins < len(x)
        y_interp = y[ins - 1] + ((y[ins] - y[ins - 1]) * (x_max - x[ins - 1]) / (x[ins] - x[ins - 1]))
        correction = 0.5 * (y_interp + y[ins - 1]) * (x_max - x[ins - 1])
    mask = x <= x_max
    return np.trapezoid(y[mask], x[mask]) + correction


def pro_curve(maps, masks):
    structure = np.ones((3, 3), dtype=int)
    fp, pro = np.zeros(maps.shape, np.float64), np.zeros(maps.shape, np.float64)
    n_ok, n_regions = 0, 0
    for i, gt in enumerate(masks):
        lab, n = label(gt, structure)
        n_regions += n
        ok = lab == 0
        n_ok += ok.sum()
        fp[i, ok] = 1
        for k in range(n):
            region = lab == k + 1
            pro[i, region] = 1.0 / region.sum()
    s = maps.ravel()
    order = np.argsort(s, kind="stable")[::-1]
    s, fp, pro = s[order], fp.ravel()[order], pro.ravel()[order]
    fprs = np.cumsum(fp) / n_ok
    pros = np.cumsum(pro) / n_regions
    keep = np.append(np.diff(s) != 0, True)
    fprs, pros = np.clip(fprs[keep], 0, 1), np.clip(pros[keep], 0, 1)
    return np.concatenate([[0], fprs]), np.concatenate([[0], pros]), n_regions


def main():
    rng = np.random.default_rng(0)
    h, w = 24, 32
    masks = np.zeros((4, h, w), bool)
    masks[1, 3:7, 4:9] = True
    masks[1, 7, 9] = True          # touches (6, 8) diagonally: same region
    masks[1, 15:20, 20:30] = True
    masks[2, 10:12, 2:5] = True
    masks[2, 1, 30] = True
    masks[2, 20:23, 10:14] = True
    masks[3, 0:24, 0:3] = True
    maps = rng.normal(0, 1, (4, h, w)) + 1.5 * masks + 0.8 * rng.random((4, h, w)) * masks
    maps = (np.round(maps / 0.05) * 0.05).astype(np.float32)
    fprs, pros, regions = pro_curve(maps, masks)
    aupro = trapezoid(fprs, pros, 0.3) / 0.3
    aupro05 = trapezoid(fprs, pros, 0.05) / 0.05
    grid = rng.random((7, 7)).astype(np.float32)
    up = F.interpolate(torch.from_numpy(grid)[None, None], size=(30, 40), mode="bilinear", align_corners=False)[0, 0].numpy()
    dense = gaussian_filter(up, sigma=4 * 40 / 56)
    out = {
        "height": h, "width": w,
        "maps": maps.reshape(4, -1).tolist(),
        "masks": masks.reshape(4, -1).astype(int).tolist(),
        "regions": int(regions),
        "pixel_auroc": float(roc_auc_score(masks.ravel(), maps.ravel())),
        "aupro_0.3": float(aupro), "aupro_0.05": float(aupro05),
        "curve_points": len(fprs),
        "grid": grid.ravel().tolist(), "dense": dense.ravel().tolist(),
    }
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f)
    print("regions", regions, "pixel AUROC %.4f AUPRO %.4f" % (out["pixel_auroc"], aupro))


if __name__ == "__main__":
    main()
