#!/usr/bin/env python3
"""Regenerate the EXIF-orientation fixtures in Tests/Fixtures/orientation/.

Run from the repository root (numpy, Pillow and safetensors needed):

    /root/venv/bin/python Tests/Fixtures/orientation/make_orientation.py

One 10x6 image (a seeded smooth pattern with a bright top-left corner, so
every one of the eight orientations looks different) is saved as
`jpeg_orientation_N.jpg` for N = 1..8, each with EXIF orientation tag N,
and once as `png_orientation_6.png` with an eXIf chunk holding tag 6.
`png_orientation_bad.png` has an eXIf chunk that is not a TIFF structure.

`expected.safetensors` holds, per file, what Pillow reads:
  - `upright.<file>`: `ImageOps.exif_transpose(Image.open(f)).convert("RGB")`,
    what the decoder must give by default (orientation applied);
  - `stored.<file>`: `Image.open(f).convert("RGB")`, what it must give with
    the pixels kept as stored.
"""
import os

import numpy as np
from PIL import Image, ImageOps
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20261204)

h, w = 6, 10
y, x = np.mgrid[0:h, 0:w]
base = np.stack([x * 20 + 30, y * 30 + 40, 120 + 10 * ((x + y) % 3)], axis=-1).astype(np.float64)
base += rng.integers(-4, 5, size=base.shape)
base[:2, :2] = 250  # a bright top-left corner
pixels = np.clip(base, 0, 255).astype(np.uint8)
image = Image.fromarray(pixels, "RGB")

expected = {}


def record(name):
    path = os.path.join(HERE, name)
    with Image.open(path) as f:
        expected["stored." + name] = np.ascontiguousarray(np.asarray(f.convert("RGB")))
        expected["upright." + name] = np.ascontiguousarray(np.asarray(ImageOps.exif_transpose(f).convert("RGB")))


for n in range(1, 9):
    exif = Image.Exif()
    exif[0x0112] = n
    name = f"jpeg_orientation_{n}.jpg"
    image.save(os.path.join(HERE, name), quality=95, exif=exif.tobytes())
    record(name)

exif = Image.Exif()
exif[0x0112] = 6
image.save(os.path.join(HERE, "png_orientation_6.png"), exif=exif.tobytes())
record("png_orientation_6.png")

# An eXIf chunk that is not TIFF: the image reads as stored, without error.
image.save(os.path.join(HERE, "png_orientation_bad.png"), exif=b"Exif\x00\x00not a tiff structure")
expected["stored.png_orientation_bad.png"] = pixels
expected["upright.png_orientation_bad.png"] = pixels

# Sanity: the tags made it into the files, and Pillow turned the images.
assert expected["upright.jpeg_orientation_6.jpg"].shape == (w, h, 3)
assert expected["upright.png_orientation_6.png"].shape == (w, h, 3)
assert expected["stored.png_orientation_6.png"].shape == (h, w, 3)
save_file(expected, os.path.join(HERE, "expected.safetensors"))
print("wrote", len(expected), "tensors")
