"""Writes reference fixtures as byte-deterministic safetensors files, for the
make_fixtures.py scripts beside this file (efficientnet, minilm, bf16, int8).
Needs numpy and safetensors only."""

import json
import os
import struct

import numpy as np
from safetensors.numpy import load_file, save_file


def canonicalize_header(path):
    """safetensors writes its metadata map in an order that can change from
    run to run. Re-emit the JSON header with sorted keys (padded with spaces
    to a multiple of 8, as the writer does) so the file is byte-deterministic;
    the data section and its offsets are untouched."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    h = json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")
    h += b" " * ((-(8 + len(h))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + raw[8 + n:])


def write_fixture(path, tensors, metadata):
    """Writes `tensors` and `metadata` to `path` as safetensors with a
    canonical header, reads the file back to check every tensor, and only
    then replaces `path` (so a failed run never leaves half a fixture)."""
    tmp = path + ".tmp"
    save_file(tensors, tmp, metadata=metadata)
    canonicalize_header(tmp)
    back = load_file(tmp)
    assert set(back) == set(tensors) and all(np.array_equal(back[k], v) for k, v in tensors.items())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    print("wrote %s (%d bytes, %d tensors)" % (path, os.path.getsize(path), len(tensors)))
