#!/usr/bin/env python3
"""Reference JPEG round trips for CompressionHarmonizer.

Makes a synthetic 67x45 RGB image (smooth gradients, a hard edge and seeded
noise, so every DCT band and the partial edge blocks are exercised), saves it
as `source.png`, and for q in (90, 75) encodes it with Pillow's JPEG writer
(libjpeg-turbo, 4:2:0, Annex K tables scaled to q) and saves the *decoded*
pixels as `pillow_q{q}.png`. The Swift test re-encodes source.png with
libjpeg through our shim and compares pixels.

Run: /root/venv/bin/python Tests/Fixtures/harmonize/make_fixtures.py
"""
import io
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
h, w = 45, 67
y, x = np.mgrid[0:h, 0:w]
img = np.zeros((h, w, 3), np.float64)
img[..., 0] = 255 * x / (w - 1)
img[..., 1] = 128 + 100 * np.sin(x / 5.0) * np.cos(y / 7.0)
img[..., 2] = np.where(x + y > 50, 220, 30)
img += rng.normal(0, 12, img.shape)
img = np.clip(np.rint(img), 0, 255).astype(np.uint8)
Image.fromarray(img).save(os.path.join(HERE, "source.png"))
for q in (90, 75):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, format="JPEG", quality=q)
    buf.seek(0)
    dec = np.asarray(Image.open(buf).convert("RGB"))
    Image.fromarray(dec).save(os.path.join(HERE, "pillow_q%d.png" % q))
    print(q, len(buf.getvalue()), "bytes; mean |change|", np.abs(dec.astype(int) - img).mean())
