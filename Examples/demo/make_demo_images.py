#!/usr/bin/env python3
"""Regenerates the bundled demo images (Examples/demo/normal and test).

Sources: scikit-image's `brick` and `gravel` textures, both CC0
(CC0Textures "Bricks25" and "Gravel04", as stated in skimage.data's
docstrings), so the crops may be shipped.

- normal/: 10 crops of 160x160 from the top 60% of the brick wall.
- test/:   4 crops from the unseen bottom 40% of the wall ("ok_*"), and
           4 of those crops with a 40x40 piece of gravel pasted in
           ("defect_*"): foreign material on an otherwise normal surface.

Run:  pip install scikit-image pillow numpy
      python3 Examples/demo/make_demo_images.py
"""
import os

import numpy as np
from PIL import Image
from skimage import data

HERE = os.path.dirname(os.path.abspath(__file__))
SIZE = 160


def save(array, path):
    Image.fromarray(array.astype(np.uint8), mode="L").save(path, optimize=True)


def main():
    rng = np.random.default_rng(0)
    brick = data.brick()
    gravel = data.gravel()
    split = int(brick.shape[0] * 0.6)
    for sub in ("normal", "test"):
        os.makedirs(os.path.join(HERE, sub), exist_ok=True)
    for i in range(10):
        y = rng.integers(0, split - SIZE)
        x = rng.integers(0, brick.shape[1] - SIZE)
        save(brick[y:y + SIZE, x:x + SIZE], os.path.join(HERE, "normal", "brick_%02d.png" % i))
    for i in range(4):
        y = rng.integers(split, brick.shape[0] - SIZE)
        x = rng.integers(0, brick.shape[1] - SIZE)
        crop = brick[y:y + SIZE, x:x + SIZE].copy()
        save(crop, os.path.join(HERE, "test", "ok_%d.png" % i))
        gy, gx = rng.integers(0, gravel.shape[0] - 40, size=2)
        py, px = rng.integers(10, SIZE - 50, size=2)
        crop[py:py + 40, px:px + 40] = gravel[gy:gy + 40, gx:gx + 40]
        save(crop, os.path.join(HERE, "test", "defect_%d.png" % i))


if __name__ == "__main__":
    main()
