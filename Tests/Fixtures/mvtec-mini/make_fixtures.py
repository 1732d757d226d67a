#!/usr/bin/env python3
"""Ground-truth masks for the bundled demo defects (Examples/demo, CC0).

Each Examples/demo/test/defect_i.png is ok_i.png with a 40x40 gravel patch
pasted in (Examples/demo/make_demo_images.py). Its mask is the bounding box
of the pixels that differ, 255 inside, 0 outside, written as
ground_truth/gravel/defect_i_mask.png. Tests/CLITests/SegmentationCLITests.swift
builds an MVTec AD layout around them with symbolic links to the demo images.

    python3 Tests/Fixtures/mvtec-mini/make_fixtures.py     (numpy, Pillow)
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DEMO = os.path.join(HERE, "..", "..", "..", "Examples", "demo", "test")


def main():
    out = os.path.join(HERE, "ground_truth", "gravel")
    os.makedirs(out, exist_ok=True)
    for i in range(4):
        ok = np.asarray(Image.open(os.path.join(DEMO, "ok_%d.png" % i)).convert("L")).astype(int)
        bad = np.asarray(Image.open(os.path.join(DEMO, "defect_%d.png" % i)).convert("L")).astype(int)
        ys, xs = np.nonzero(ok != bad)
        mask = np.zeros(ok.shape, np.uint8)
        mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1] = 255
        Image.fromarray(mask, mode="L").save(os.path.join(out, "defect_%d_mask.png" % i), optimize=True)
        print("defect_%d: box %d x %d at (%d, %d)" % (i, ys.max() - ys.min() + 1, xs.max() - xs.min() + 1, ys.min(), xs.min()))


if __name__ == "__main__":
    main()
