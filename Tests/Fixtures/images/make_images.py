#!/usr/bin/env python3
"""Regenerate the image-decoding fixtures in Tests/Fixtures/images/.

Run from the repository root (numpy, Pillow and safetensors needed):

    /root/venv/bin/python Tests/Fixtures/images/make_images.py

Every image is tiny (8x6 to 64x48) and made from a seeded generator, so the
script writes the same files every time for a given Pillow / libjpeg-turbo.

What the Swift decoder must reproduce is in `expected.safetensors`: one U8
tensor [height, width, 3] per image file, named after the file. For 8-bit and
low-bit PNGs, interlaced or not, and every JPEG it is Pillow's
`Image.open(f).convert("RGB")`. For 16-bit PNGs it is the high byte of the
stored samples (v >> 8), alpha dropped: that is exactly Pillow's result for
16-bit RGB and RGBA (asserted below); for 16-bit gray Pillow clips the samples
to 0..255 instead, so the expectation there is computed, not Pillow's.

gamma_1_0.png is an 8-bit RGB ramp with a gAMA chunk of 1.0; Pillow ignores
gAMA, so its expectation is the stored ramp.

The adam7_*.png files are Adam7-interlaced (written by hand: Pillow cannot
write interlaced PNGs), at odd sizes so that some passes are narrow or empty.

Hand-made malformed files:
  huge_ihdr.png  valid PNG structure (correct CRCs) whose IHDR claims
                 100000 x 100000 RGB, with one tiny IDAT
  huge_sof.jpg   jpeg_baseline.jpg with the SOF0 size patched to 65000 x 65000
"""
import os
import struct
import zlib

import numpy as np
from PIL import Image
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20240611)


def path(name):
    return os.path.join(HERE, name)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def write_png(name, width, height, bit_depth, color_type, raw_rows, extra=b""):
    """A minimal PNG: IHDR, `extra` chunks, one IDAT (filter 0 on every
    row), IEND."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    data = b"".join(b"\x00" + row for row in raw_rows)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + extra + chunk(b"IDAT", zlib.compress(data, 9))
           + chunk(b"IEND", b""))
    with open(path(name), "wb") as f:
        f.write(png)


def smooth(h, w, c, noise=24):
    """Gradients plus a little seeded noise: compresses well, not trivial."""
    y, x = np.mgrid[0:h, 0:w]
    chans = []
    for k in range(c):
        base = 128 + 100 * np.sin(x / (3.0 + k) + k) * np.cos(y / (4.0 + 2 * k))
        chans.append(base + rng.integers(-noise, noise + 1, size=(h, w)))
    return np.clip(np.stack(chans, axis=-1), 0, 255).astype(np.uint8)


expected = {}


def pil_rgb(name):
    with Image.open(path(name)) as im:
        expected[name] = np.asarray(im.convert("RGB"), dtype=np.uint8).copy()


# --- 8-bit PNGs (Pillow writes them) -------------------------------------
W, H = 8, 6
rgb = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
Image.fromarray(rgb, "RGB").save(path("rgb8.png"))
pil_rgb("rgb8.png")

rgba = rng.integers(0, 256, size=(H, W, 4), dtype=np.uint8)
rgba[0, :, 3] = 0      # fully transparent row: its colour must survive
rgba[1, :, 3] = 255    # opaque row
Image.fromarray(rgba, "RGBA").save(path("rgba8.png"))
pil_rgb("rgba8.png")

gray = rng.integers(0, 256, size=(H, W), dtype=np.uint8)
Image.fromarray(gray, "L").save(path("gray8.png"))
pil_rgb("gray8.png")

la = rng.integers(0, 256, size=(H, W, 2), dtype=np.uint8)
la[0, :, 1] = 0
Image.fromarray(la, "LA").save(path("gray_alpha8.png"))
pil_rgb("gray_alpha8.png")

palette = rng.integers(0, 256, size=(16 * 3,), dtype=np.uint8)
indices = rng.integers(0, 16, size=(H, W), dtype=np.uint8)
p = Image.fromarray(indices, "P")
p.putpalette(palette.tolist())
p.save(path("palette.png"))
pil_rgb("palette.png")

p_t = Image.fromarray(indices, "P")
p_t.putpalette(palette.tolist())
# tRNS: entries 0..3 transparent or half transparent, the rest opaque.
p_t.save(path("palette_trns.png"), transparency=bytes([0, 64, 128, 0] + [255] * 12))
pil_rgb("palette_trns.png")

# --- 16-bit PNGs (written by hand; Pillow cannot write 16-bit RGB) ----------
def scaled(v):
    """The high byte of each 16-bit sample, as Pillow keeps for 16-bit RGB(A)
    and libpng's png_set_strip_16 produces. It is within 1 of the exact
    rescaling round(v * 255 / 65535)."""
    high = (v >> 8).astype(np.uint8)
    exact = np.floor(v.astype(np.float64) * 255.0 / 65535.0 + 0.5)
    assert np.abs(high.astype(np.float64) - exact).max() <= 1
    return high


edge = np.array([0, 1, 128, 129, 255, 256, 257, 32767, 32768, 65278, 65279, 65534, 65535], dtype=np.uint16)

g16 = rng.integers(0, 65536, size=(H, W), dtype=np.uint16)
g16.flat[: len(edge)] = edge
write_png("gray16.png", W, H, 16, 0, [g16[r].astype(">u2").tobytes() for r in range(H)])
expected["gray16.png"] = np.repeat(scaled(g16)[..., None], 3, axis=-1)

c16 = rng.integers(0, 65536, size=(H, W, 3), dtype=np.uint16)
c16.reshape(-1)[: len(edge)] = edge
write_png("rgb16.png", W, H, 16, 2, [c16[r].astype(">u2").tobytes() for r in range(H)])
expected["rgb16.png"] = scaled(c16)
with Image.open(path("rgb16.png")) as im:
    assert (np.asarray(im.convert("RGB")) == expected["rgb16.png"]).all()

a16 = rng.integers(0, 65536, size=(H, W, 4), dtype=np.uint16)
a16[0, :, 3] = 0        # transparent row: colour must survive
a16[1, :, 3] = 65535
write_png("rgba16.png", W, H, 16, 6, [a16[r].astype(">u2").tobytes() for r in range(H)])
expected["rgba16.png"] = scaled(a16[..., :3])
with Image.open(path("rgba16.png")) as im:
    assert (np.asarray(im.convert("RGB")) == expected["rgba16.png"]).all()

# --- gAMA ------------------------------------------------------------------
# An 8-bit RGB ramp with gAMA = 1.0 (linear). Pillow ignores gAMA, so the
# expectation is the stored samples (libpng's simplified API would convert
# them to sRGB: 0, 99, 136, …; the decoder uses the classic API, no gamma).
ramp = np.repeat(np.repeat((np.arange(W, dtype=np.uint8) * 32)[None, :, None], 3, axis=2), 2, axis=0)
write_png("gamma_1_0.png", W, 2, 8, 2, [ramp[r].tobytes() for r in range(2)], extra=chunk(b"gAMA", struct.pack(">I", 100000)))
pil_rgb("gamma_1_0.png")
assert (expected["gamma_1_0.png"] == ramp).all()

# --- JPEGs (Pillow + its libjpeg-turbo encode; expected = Pillow decode) ----
JW, JH = 64, 48
photo = smooth(JH, JW, 3)
Image.fromarray(photo, "RGB").save(path("jpeg_baseline.jpg"), quality=85)
pil_rgb("jpeg_baseline.jpg")
Image.fromarray(photo, "RGB").save(path("jpeg_progressive.jpg"), quality=85, progressive=True)
pil_rgb("jpeg_progressive.jpg")
Image.fromarray(smooth(JH, JW, 1)[..., 0], "L").save(path("jpeg_gray.jpg"), quality=85)
pil_rgb("jpeg_gray.jpg")
# CMYK: Pillow stores it Adobe-inverted with an APP14 marker, as Photoshop does.
cmyk = smooth(16, 16, 4)
Image.fromarray(cmyk, "CMYK").save(path("jpeg_cmyk.jpg"), quality=90)
pil_rgb("jpeg_cmyk.jpg")

# --- Adam7-interlaced and tRNS PNGs (written by hand) -----------------------
ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def pack_row(samples, bit_depth):
    """One scanline's samples (flat, in order) as PNG bytes."""
    if bit_depth == 16:
        return samples.astype(">u2").tobytes()
    if bit_depth == 8:
        return samples.astype(np.uint8).tobytes()
    per_byte = 8 // bit_depth
    padded = np.zeros(-(-len(samples) // per_byte) * per_byte, dtype=np.uint16)
    padded[: len(samples)] = samples
    groups = padded.reshape(-1, per_byte)
    shifts = np.arange(per_byte - 1, -1, -1) * bit_depth
    return (groups << shifts).sum(axis=1).astype(np.uint8).tobytes()


def write_adam7(name, bit_depth, color_type, pixels):
    """An Adam7-interlaced PNG of `pixels` ([h, w] or [h, w, c]), filter 0 on
    every row of every pass; empty passes contribute no bytes."""
    h, w = pixels.shape[:2]
    data = b""
    for x0, y0, dx, dy in ADAM7:
        sub = pixels[y0::dy, x0::dx]
        if sub.shape[0] == 0 or sub.shape[1] == 0:
            continue
        for row in sub:
            data += b"\x00" + pack_row(row.reshape(-1), bit_depth)
    ihdr = struct.pack(">IIBBBBB", w, h, bit_depth, color_type, 0, 0, 1)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(data, 9))
           + chunk(b"IEND", b""))
    with open(path(name), "wb") as f:
        f.write(png)


arng = np.random.default_rng(20240612)   # its own stream: the files above stay unchanged

a7 = arng.integers(0, 256, size=(11, 13, 3), dtype=np.uint8)
write_adam7("adam7_rgb8.png", 8, 2, a7)
pil_rgb("adam7_rgb8.png")
assert (expected["adam7_rgb8.png"] == a7).all()

a7g = arng.integers(0, 2, size=(9, 11), dtype=np.uint16)
write_adam7("adam7_gray1.png", 1, 0, a7g)
pil_rgb("adam7_gray1.png")
assert (expected["adam7_gray1.png"] == np.repeat((a7g * 255).astype(np.uint8)[..., None], 3, axis=-1)).all()

a7w = arng.integers(0, 65536, size=(5, 7, 4), dtype=np.uint16)
a7w[0, :, 3] = 0
write_adam7("adam7_rgba16.png", 16, 6, a7w)
pil_rgb("adam7_rgba16.png")
assert (expected["adam7_rgba16.png"] == scaled(a7w[..., :3])).all()

# 8-bit gray with a tRNS chunk making value 77 transparent: convert("RGB")
# ignores it and keeps the gray.
gt = arng.integers(0, 256, size=(H, W), dtype=np.uint8)
gt[0, :4] = 77
write_png("gray_trns.png", W, H, 8, 0, [gt[r].tobytes() for r in range(H)], extra=chunk(b"tRNS", struct.pack(">H", 77)))
pil_rgb("gray_trns.png")
assert (expected["gray_trns.png"] == np.repeat(gt[..., None], 3, axis=-1)).all()

# --- malformed --------------------------------------------------------------
ihdr = struct.pack(">IIBBBBB", 100000, 100000, 8, 2, 0, 0, 0)
with open(path("huge_ihdr.png"), "wb") as f:
    f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(b"IEND", b""))

data = bytearray(open(path("jpeg_baseline.jpg"), "rb").read())
sof = data.find(b"\xff\xc0")
assert sof > 0
# FFC0, length (2), precision (1), height (2), width (2)
data[sof + 5 : sof + 9] = struct.pack(">HH", 65000, 65000)
with open(path("huge_sof.jpg"), "wb") as f:
    f.write(bytes(data))

save_file(dict(sorted(expected.items())), path("expected.safetensors"),
          metadata={"pillow": Image.__version__, "numpy": np.__version__})

for name in sorted(os.listdir(HERE)):
    print(f"{os.path.getsize(path(name)):7d}  {name}")
