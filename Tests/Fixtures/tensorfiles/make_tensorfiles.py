#!/usr/bin/env python3
"""Regenerate the TensorFiles fixtures in Tests/Fixtures/tensorfiles/.

Run from the repository root (numpy, torch and safetensors needed):

    /root/venv/bin/python Tests/Fixtures/tensorfiles/make_tensorfiles.py

Writes:
  python.safetensors  written by the Python `safetensors` package
                      (safetensors.torch.save_file, since numpy has no
                      bfloat16), with metadata and the tensors
        half      F16  [2, 5]   values below, incl. subnormal, max, ±inf, -0
        brain     BF16 [3]      1.0, -3.140625, 1e38 rounded to bf16
        weights   F32  [3, 4]   seeded normal values
        indices   I64  [5]      incl. -1, 2**40 and -2**62
        empty     F32  [0, 3]   zero elements
        scalar    F32  []       a 0-d tensor, 2.5
      and, for each floating tensor X, `X.as_f32`: numpy's float32
      conversion of the same values (F32), the reference the Swift reader's
      widening must equal bit for bit. Metadata: "format": "anomalykit-test",
      "note": "ünïcode ✓", "empty": "".
  f4_2d.npy   np.save of float32 (3, 4): arange(12) * 0.25 - 1
  f4_1d.npy   np.save of float32 (5,):   arange(5) * -1.5
  f8_2d.npy   np.save of float64 (2, 3): arange(6) * 0.1 (not exact in f32)
  f8_1d.npy   np.save of float64 (4,):   1 / (arange(4) + 3)
  f4_2d_v2.npy  the f4_2d array written as .npy format version 2.0

The Swift tests recompute the .npy values from these formulas.

Checking that a file the Swift SafeTensorsWriter wrote opens in Python:
the test "writer output opens with the reference layout" in
Tests/TensorFilesTests/SafeTensorsTests.swift also copies its file into
$ANOMALYKIT_WRITER_OUTPUT (a folder) when that variable is set, so:

    mkdir -p /tmp/ak-writer
    ANOMALYKIT_WRITER_OUTPUT=/tmp/ak-writer swift test -c release --skip-build \
        --filter SafeTensorsWriterTests
    /root/venv/bin/python Tests/Fixtures/tensorfiles/make_tensorfiles.py \
        --check /tmp/ak-writer/swift-writer.safetensors

`--check FILE` loads FILE with safetensors.numpy.load_file and
safe_open(...).metadata(), prints what it found and asserts the values the
Swift test wrote (see `check()` below); it writes nothing.
"""
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def check(file):
    from safetensors import safe_open
    from safetensors.numpy import load_file

    tensors = load_file(file)
    with safe_open(file, framework="numpy") as f:
        metadata = f.metadata()
    for k, v in sorted(tensors.items()):
        print(f"{k}: {v.dtype} {list(v.shape)} {v.ravel()[:6].tolist()}")
    print("metadata:", metadata)
    # What SafeTensorsWriterTests.pythonReadable writes.
    np.testing.assert_array_equal(tensors["matrix"], np.arange(6, dtype=np.float32).reshape(2, 3) * 0.5 - 1)
    np.testing.assert_array_equal(tensors["ids"], np.array([-1, 0, 2**40, 7], dtype=np.int64))
    np.testing.assert_array_equal(tensors["half"], np.array([1.0, -2.0, 0.5], dtype=np.float16))
    assert metadata == {"kind": "swift-writer", "unicode": "ünïcode ✓"}, metadata
    print("OK: the Swift writer's file opens in Python safetensors with the expected values")


def make():
    import torch
    from safetensors.torch import save_file

    half = np.array(
        [[0.0, -0.0, 1.0, -2.5, 65504.0], [6e-8, 6.1e-5, np.inf, -np.inf, 0.333]], dtype=np.float16
    )
    brain = torch.tensor([1.0, -3.140625, 1e38], dtype=torch.bfloat16)
    rng = np.random.default_rng(7)
    weights = rng.standard_normal((3, 4)).astype(np.float32)
    indices = np.array([0, -1, 2**40, -(2**62), 123456789], dtype=np.int64)
    tensors = {
        "half": torch.from_numpy(half),
        "half.as_f32": torch.from_numpy(half.astype(np.float32)),
        "brain": brain,
        "brain.as_f32": brain.to(torch.float32),
        "weights": torch.from_numpy(weights),
        "weights.as_f32": torch.from_numpy(weights.copy()),
        "indices": torch.from_numpy(indices),
        "empty": torch.zeros((0, 3), dtype=torch.float32),
        "scalar": torch.tensor(2.5, dtype=torch.float32),
    }
    save_file(tensors, path("python.safetensors"),
              metadata={"format": "anomalykit-test", "note": "ünïcode ✓", "empty": ""})

    np.save(path("f4_2d.npy"), (np.arange(12, dtype=np.float32) * 0.25 - 1).reshape(3, 4))
    np.save(path("f4_1d.npy"), np.arange(5, dtype=np.float32) * np.float32(-1.5))
    np.save(path("f8_2d.npy"), (np.arange(6, dtype=np.float64) * 0.1).reshape(2, 3))
    np.save(path("f8_1d.npy"), 1.0 / (np.arange(4, dtype=np.float64) + 3))
    with open(path("f4_2d_v2.npy"), "wb") as f:
        np.lib.format.write_array(f, (np.arange(12, dtype=np.float32) * 0.25 - 1).reshape(3, 4), version=(2, 0))

    for name in sorted(os.listdir(HERE)):
        print(f"{os.path.getsize(path(name)):7d}  {name}")


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        check(sys.argv[2])
    else:
        make()
