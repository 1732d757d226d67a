#!/usr/bin/env python3
"""Feature-extraction throughput: AnomalyKit vs PyTorch vs onnxruntime, same run.

All three run EfficientNet-Lite0 at 224x224, batch 32, 2 threads, on the four
fixture photos repeated to fill the batch. Before timing, onnxruntime's and
AnomalyKit's pooled features are checked against PyTorch's. The OpenBLAS
sgemm 2048^3 rate is measured in the same run as the roofline.

Setup (dev only; none of this is a runtime dependency):
    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch==2.13.0+cpu efficientnet-lite-pytorch==0.1.0 \
        onnx onnxruntime safetensors pillow numpy
    swift build -c release --product anomalykit-bench

Run from the repository root:
    /tmp/venv/bin/python Notebooks-export/scripts/bench_features.py [--seconds 20]

Writes Notebooks-export/results/features-benchmark.json.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from export_onnx import IMAGES, FIXTURES, fixture_batch, load_model  # noqa: E402

BATCH = 32
THREADS = 2


def timed(fn, seconds):
    fn()  # warm-up
    times = []
    start = time.perf_counter()
    while time.perf_counter() - start < seconds or len(times) < 3:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2], len(times)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--bench", default=os.path.join(REPO, ".build", "release", "anomalykit-bench"))
    a = ap.parse_args()

    import torch
    import onnxruntime as ort

    torch.set_num_threads(THREADS)
    model = load_model(None)
    x4 = fixture_batch()
    x = np.ascontiguousarray(np.concatenate([x4] * (BATCH // len(x4))))
    onnx_path = "/tmp/anomalykit-bench-efficientnet-lite0.onnx"
    subprocess.run([sys.executable, os.path.join(HERE, "export_onnx.py"), onnx_path], check=True,
                   stdout=subprocess.DEVNULL)
    so = ort.SessionOptions()
    so.intra_op_num_threads = THREADS
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])

    with torch.no_grad():
        ref = model(torch.from_numpy(x))[0].numpy()
    ort_pooled = sess.run(["pooled"], {"image": x})[0]
    ort_delta = float(np.abs(ort_pooled - ref).max())
    assert ort_delta < 1e-4, "onnxruntime disagrees with torch: %g" % ort_delta

    results = {"batch": BATCH, "threads": THREADS, "machine": platform.processor() or platform.machine(),
               "cpu": open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")
               if os.path.exists("/proc/cpuinfo") else "",
               "torch": torch.__version__, "onnxruntime_version": ort.__version__,
               "onnxruntime_max_abs_delta_pooled_vs_torch": ort_delta}

    def torch_run():
        with torch.no_grad():
            model(torch.from_numpy(x))

    def ort_run():
        sess.run(["pooled"], {"image": x})

    sgemm = json.loads(subprocess.check_output([a.bench, "sgemm", "--threads", str(THREADS)]))
    results["sgemm_2048_gflops"] = sgemm["gflops"]
    swift = json.loads(subprocess.check_output(
        [a.bench, "features", os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")]
        + [os.path.join(FIXTURES, n + ".png") for n in IMAGES]
        + ["--batch", str(BATCH), "--threads", str(THREADS), "--seconds", str(a.seconds)]))
    results["anomalykit"] = swift
    # The portable path (OpenBLAS sgemm + SSE2 depthwise), used on CPUs without AVX2+FMA.
    portable = json.loads(subprocess.check_output(
        [a.bench, "features", os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")]
        + [os.path.join(FIXTURES, n + ".png") for n in IMAGES]
        + ["--batch", str(BATCH), "--threads", str(THREADS), "--seconds", str(a.seconds)],
        env=dict(os.environ, ANOMALYKIT_KERNELS="portable")))
    results["anomalykit_portable_kernels"] = portable
    gflop = swift["gflop_per_image"]
    for name, fn in [("pytorch", torch_run), ("onnxruntime", ort_run)]:
        median, runs = timed(fn, a.seconds)
        ips = BATCH / median
        results[name] = {"images_per_second": ips, "median_batch_seconds": median, "runs": runs,
                         "achieved_gflops": ips * gflop}
    for name in ["pytorch", "onnxruntime"]:
        results["anomalykit_vs_" + name] = swift["images_per_second"] / results[name]["images_per_second"]
        results["anomalykit_portable_vs_" + name] = portable["images_per_second"] / results[name]["images_per_second"]
    results["anomalykit_fraction_of_sgemm_peak"] = swift["achieved_gflops"] / results["sgemm_2048_gflops"]
    out = os.path.join(REPO, "Notebooks-export", "results", "features-benchmark.json")
    with open(out + ".tmp", "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    os.replace(out + ".tmp", out)
    print(json.dumps(results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
