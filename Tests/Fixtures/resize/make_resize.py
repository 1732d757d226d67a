#!/usr/bin/env python3
"""Regenerate the resampling fixtures in Tests/Fixtures/resize/.

Run from the repository root (numpy and Pillow needed):

    /root/venv/bin/python Tests/Fixtures/resize/make_resize.py

Inputs (seeded, so the same bytes every run):
  input_37x23.png     37x23 uniform random RGB noise (worst case for rounding)
  input_300x200.png   300x200 RGB pattern: gradients, stripes, box, disc, line
  input_301x199.png   301x199 crop of a 302x200 version of the same pattern

Expected outputs, all Pillow `Image.resize((w, h), Image.BILINEAR)`
(antialiased, 22-bit fixed point), the resampling torchvision applies to
PIL images:
  resize_37x23_to_WxH.png    for 14x9 (2.7x down), 100x61 (up), 37x10 and
                             60x23 (one axis only), 1x1, 5x40 (down in x,
                             up in y)
  resize_300x200_to_97x41.png  non-integer downscale of the pattern
  crop224_300x200.png        torchvision Resize(256) + CenterCrop(224):
                             resize to 384x256, crop at (80, 16)
  crop224_301x199.png        same recipe: resize to 387x256 (long side
                             int(256*301/199) = 387), crop left =
                             round(163/2) = 82 (Python rounds half to even),
                             top = 16
  crop32_37x23.png           Preprocessor(inputSize: 32) on input_37x23:
                             shorter side -> 37, 59x37, crop left
                             round(27/2) = 14, top round(5/2) = 2
  stretch32_37x23.png        Preprocessor(inputSize: 32, policy: .stretch):
                             straight to 32x32
  stretch224_300x200.png     Preprocessor(inputSize: 224, policy: .stretch)

The Resize/CenterCrop arithmetic below copies torchvision 0.2x's
`_compute_resized_output_size` (new_long = int(size * long / short)) and
`center_crop` (int(round((h - ch) / 2.0))), so torchvision itself is not
needed.
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(37_23)


def path(name):
    return os.path.join(HERE, name)


def save(im, name):
    im.save(path(name), optimize=True)


def pattern(w, h):
    """Linear gradients (which PNG's filters predict, so the files stay
    small) with hard-edged boxes, stripes and a disc, whose antialiased
    edges exercise the filter."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 20 + 0.7 * x
    g = 30 + 1.0 * y
    b = np.full((h, w), 90.0)
    b[(x // 17) % 2 == 1] = 200.0                     # vertical stripes
    img = np.stack([r, g, b], axis=-1)
    img[h // 4 : h // 2, w // 5 : w // 3] = [250, 10, 40]
    img[(x - 0.6 * w) ** 2 + (y - 0.55 * h) ** 2 < (0.2 * h) ** 2] = [15, 220, 60]
    img[h - 13 : h - 9, :] = [255, 255, 255]          # thin line
    return Image.fromarray(np.clip(np.rint(img), 0, 255).astype(np.uint8), "RGB")


def torchvision_resize_crop(im, size, crop):
    w, h = im.size
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = size, int(size * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    resized = im.resize((new_w, new_h), Image.BILINEAR)
    left = int(round((new_w - crop) / 2.0))
    top = int(round((new_h - crop) / 2.0))
    print(f"  {w}x{h} -> {new_w}x{new_h}, crop at ({left}, {top})")
    return resized.crop((left, top, left + crop, top + crop))


small = Image.fromarray(rng.integers(0, 256, size=(23, 37, 3), dtype=np.uint8), "RGB")
save(small, "input_37x23.png")
for w, h in [(14, 9), (100, 61), (37, 10), (60, 23), (1, 1), (5, 40)]:
    save(small.resize((w, h), Image.BILINEAR), f"resize_37x23_to_{w}x{h}.png")

big = pattern(300, 200)
save(big, "input_300x200.png")
odd = pattern(302, 200).crop((1, 0, 302, 199))
save(odd, "input_301x199.png")

save(big.resize((97, 41), Image.BILINEAR), "resize_300x200_to_97x41.png")

save(torchvision_resize_crop(big, 256, 224), "crop224_300x200.png")
save(torchvision_resize_crop(odd, 256, 224), "crop224_301x199.png")
# Preprocessor(inputSize: 32): resizeShorter = round(32 / 0.875) = 37.
save(torchvision_resize_crop(small, 37, 32), "crop32_37x23.png")
save(small.resize((32, 32), Image.BILINEAR), "stretch32_37x23.png")
save(big.resize((224, 224), Image.BILINEAR), "stretch224_300x200.png")

total = 0
for name in sorted(os.listdir(HERE)):
    size = os.path.getsize(path(name))
    total += size
    print(f"{size:7d}  {name}")
print(f"{total:7d}  total")
