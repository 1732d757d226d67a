#!/usr/bin/env python3
"""Open an AnomalyKit bank from Python, and score with it in numpy.

    anomalykit fit Examples/demo/normal --resize stretch --out /tmp/bank.safetensors
    python3 Examples/python-read-bank.py /tmp/bank.safetensors Examples/demo/features.npy

Banks are plain safetensors files: `safetensors.numpy.load_file` reads them,
and so does the 20-line reader below that needs nothing but numpy.
"""
import json
import struct
import sys

import numpy as np


def read_safetensors(path):
    """(tensors, metadata) with numpy only: u64 header length, JSON header, raw data."""
    dtypes = {"F32": np.float32, "F64": np.float64, "F16": np.float16, "I64": np.int64}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, t in header.items():
        begin, end = t["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return tensors, meta


def score(tensors, meta, queries):
    """The bank's score for each row of `queries` (kNN scorers only)."""
    bank = tensors["features"].astype(np.float64)
    q = queries.astype(np.float64)
    if meta["normalization"] == "l2":
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
    if meta["scorer"] not in ("knn", "cosine-knn"):
        raise SystemExit("this example re-implements knn and cosine-knn only")
    d = (q ** 2).sum(1)[:, None] + (bank ** 2).sum(1)[None] - 2 * q @ bank.T
    return np.sort(np.maximum(d, 0), 1)[:, : int(meta["k"])].sum(1)


def main():
    tensors, meta = read_safetensors(sys.argv[1])
    try:
        from safetensors.numpy import load_file
        assert all(np.array_equal(load_file(sys.argv[1])[k], v) for k, v in tensors.items())
        print("safetensors.numpy.load_file agrees with the numpy reader")
    except ImportError:
        pass
    print("scorer %s, k %s, %s x %s features, threshold %s" % (
        meta["scorer"], meta["k"], meta["count"], meta["dimension"], meta.get("threshold", "none")))
    if len(sys.argv) > 2:
        s = score(tensors, meta, np.load(sys.argv[2]))
        t = float(meta["threshold"]) if "threshold" in meta else None
        for i, v in enumerate(s):
            print("%4d  %.6g  %s" % (i, v, "" if t is None else ("ANOMALOUS" if v > t else "normal")))


if __name__ == "__main__":
    main()
