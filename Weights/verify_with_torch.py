#!/usr/bin/env python3
"""Dev-only cross-check of Weights/convert.py against torch and the
`safetensors` package. Not needed to build anything; convert.py itself
never imports torch.

Setup (CPU torch is enough):
    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch==2.13.0+cpu numpy safetensors \
        --extra-index-url https://download.pytorch.org/whl/cpu

Run from the repository root:
    /tmp/venv/bin/python Weights/verify_with_torch.py \
        [--wheel-dir DIR] [--lite2-out /tmp/efficientnet-lite2.safetensors]

For each EfficientNet-Lite file it checks that
  * the `safetensors` package loads the file and reads the same metadata;
  * the tensor names are exactly torch.load(.pth) minus *.num_batches_tracked;
  * every tensor has the same shape and dtype and max |delta| == 0;
  * convert.read_torch_zip parses a torch.save (zip format) of the same
    state dict identically (exercises the reader kept for later models).
Exit status is nonzero on any failure.
"""

import argparse
import io
import os
import struct
import sys
import tempfile
import json

import numpy as np
import torch
from safetensors.numpy import load_file, safe_open  # noqa: F401

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import convert  # noqa: E402


def check_model(model, path, wheel_dir):
    pkg_name, _ = convert.EFFICIENTNET_LITE[model]
    pkg = convert.PACKAGES[pkg_name]
    data, _ = convert.read_member(pkg, wheel_dir=wheel_dir)
    sd = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)

    st = load_file(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata()
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
    header = json.loads(raw[8:8 + n])
    assert header["__metadata__"] == meta
    names_in_order = sorted((k for k in header if k != "__metadata__"),
                            key=lambda k: header[k]["data_offsets"][0])
    assert names_in_order == sorted(names_in_order), "tensors not stored in sorted order"

    dropped = sorted(k for k in sd if k not in st)
    assert all(k.endswith(".num_batches_tracked") for k in dropped), dropped
    assert set(st) == set(sd) - set(dropped)
    worst = 0.0
    for k, v in st.items():
        t = sd[k].detach().numpy()
        assert v.dtype == np.float32 and t.dtype == np.float32, k
        assert v.shape == t.shape, (k, v.shape, t.shape)
        d = float(np.max(np.abs(v - t))) if v.size else 0.0
        assert np.array_equal(v.view(np.uint32), t.view(np.uint32)), k  # bitwise
        worst = max(worst, d)

    # zip-format reader round trip
    buf = io.BytesIO()
    torch.save(sd, buf)
    z = convert.read_torch_zip(buf.getvalue())
    assert list(z) == list(sd)
    for k, (arr, _) in z.items():
        assert np.array_equal(arr, sd[k].numpy()), k
    # numpy-only safetensors reader agrees with the package
    mine, mmeta = convert.read_safetensors(raw)
    assert mmeta == meta and set(mine) == set(st)
    for k, (arr, _) in mine.items():
        assert np.array_equal(arr, st[k]), k

    classes = json.loads(meta["imagenet_classes"])
    print("%s: %d tensors (+%d num_batches_tracked dropped), %d floats, "
          "max |delta| vs torch.load = %g, %d classes, input %s; zip reader OK"
          % (model, len(st), len(dropped), sum(v.size for v in st.values()), worst,
             len(classes), meta["input_size"]))
    return worst


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--wheel-dir")
    p.add_argument("--lite2-out", help="also build lite2 here and check it")
    a = p.parse_args()
    check_model("efficientnet-lite0", os.path.join(HERE, "efficientnet-lite0.safetensors"),
                a.wheel_dir)
    if a.lite2_out:
        ns = argparse.Namespace(wheel=None, wheel_dir=a.wheel_dir)
        convert.atomic_write(a.lite2_out, convert.build_efficientnet_lite("efficientnet-lite2", ns))
        check_model("efficientnet-lite2", a.lite2_out, a.wheel_dir)
    print("all checks passed")


if __name__ == "__main__":
    main()
