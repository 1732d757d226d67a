#!/usr/bin/env python3
"""Exploration for issue 17's INT8 part: how fast is onnxruntime's *static*
INT8 EfficientNet-Lite0, the peer an AnomalyKit INT8 path would have to
match ("Image features (INT8): >= onnxruntime INT8")?

Quantises the export_onnx.py graph with quantize_static (QDQ format,
per-channel int8 weights, uint8 activations, MinMax calibration on the four
fixture photos, the same calibration a user's fit images would give), then
times it against the FP32 graph in the same run: 2 threads, batch 32,
interleaved rounds, medians. Also reports how far its pooled features are
from PyTorch FP32.

    python3 Notebooks-export/explorations/onnxruntime_int8_static.py [--rounds 3]

Prints a JSON object; the result is written up in bf16-backbone-gemm.md.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "scripts"))
from bench_precision import BATCH, THREADS, median_time  # noqa: E402
from export_onnx import fixture_batch, load_model  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=6)
    a = ap.parse_args()
    import torch
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    torch.set_num_threads(THREADS)
    x4 = fixture_batch()
    x = np.ascontiguousarray(np.concatenate([x4] * (BATCH // len(x4))))
    with torch.no_grad():
        ref = load_model(None)(torch.from_numpy(x))[0].numpy()
    tmp = tempfile.mkdtemp(prefix="ort-int8-")
    fp32, pre, int8 = (os.path.join(tmp, n) for n in ("fp32.onnx", "pre.onnx", "int8.onnx"))
    subprocess.run([sys.executable, os.path.join(HERE, "..", "scripts", "export_onnx.py"), fp32], check=True,
                   stdout=subprocess.DEVNULL)
    quant_pre_process(fp32, pre)

    class Photos(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"image": x4[i:i + 1]} for i in range(len(x4))])

        def get_next(self):
            return next(self.items, None)

    quantize_static(pre, int8, Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = THREADS, 1
    sessions = {n: ort.InferenceSession(p, so, providers=["CPUExecutionProvider"]) for n, p in (("fp32", fp32), ("int8_static", int8))}
    out = {"onnxruntime": ort.__version__, "threads": THREADS, "batch": BATCH,
           "pooled_max_abs_delta_vs_pytorch_fp32": {n: float(np.abs(s.run(["pooled"], {"image": x})[0] - ref).max())
                                                    for n, s in sessions.items()},
           "pooled_scale_max_abs": float(np.abs(ref).max()), "images_per_second": {n: [] for n in sessions}}
    for _ in range(a.rounds):
        for n, s in sessions.items():
            out["images_per_second"][n].append(BATCH / median_time(lambda s=s: s.run(["pooled"], {"image": x}), a.seconds))
    r = [i / f for i, f in zip(out["images_per_second"]["int8_static"], out["images_per_second"]["fp32"])]
    out["int8_static_vs_fp32_per_round"] = r
    out["int8_static_vs_fp32_median"] = float(np.median(r))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
