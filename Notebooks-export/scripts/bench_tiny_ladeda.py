#!/usr/bin/env python3
"""Tiny-LaDeDa throughput: anomalykit (Swift) vs PyTorch, same model, same inputs.

Both score the same 64 images of 256x256 (ImageNet photos from
../shared/data/realfake/imagenet-real, already at the network's size, so no
resize runs) with the same weights: the random-weights fixture
(Tests/Fixtures/tiny-ladeda; the speed does not depend on the values, and the
research-licensed official weights are not needed), in both input
representations (right_diag, NPR).

- anomalykit: `anomalykit-bench tiny-ladeda` = TinyLaDeDa.score(images:workers:)
  on decoded images: normalisation, the forward pass and the mean patch logit
  (decoding excluded).
- PyTorch 2.13 (CPU): the fixture script's TinyLaDeDaReference, eval mode,
  no_grad, on the already-normalised input tensors (normalisation excluded,
  which favours PyTorch slightly), pooled output; batches of 1, 8 and 64.

Each runs with 1 and with 2 threads; the median of the repeats is reported,
as wall-clock images/s and as images per CPU-second of the process (the work
done, which other jobs on a shared machine do not inflate). Before timing,
anomalykit's image logits are checked against PyTorch's.

Run from the repository root after `swift build -c release --product anomalykit-bench`:
    /root/venv/bin/python Notebooks-export/scripts/bench_tiny_ladeda.py [--repeats 5]
Writes Notebooks-export/results/speed-tiny-ladeda.json.
"""
import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIXTURES = os.path.join(REPO, "Tests", "Fixtures", "tiny-ladeda")
sys.path.insert(0, FIXTURES)
from make_fixtures import TinyLaDeDaReference, to_input  # noqa: E402

COUNT = 64
WEIGHTS = {"right_diag": "random-weights.safetensors", "NPR": "random-weights-npr.safetensors"}


def torch_rate(model, x, batch, threads, repeats):
    torch.set_num_threads(threads)
    with torch.no_grad():
        def run():
            for i in range(0, len(x), batch):
                model(x[i:i + batch], pool=True)
        run()  # warm-up
        walls, cpus = [], []
        for _ in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            run()
            walls.append(time.perf_counter() - t0)
            cpus.append(time.process_time() - c0)
    wall, cpu = float(np.median(walls)), float(np.median(cpus))
    return {"engine": "pytorch", "batch": batch, "threads": threads, "repeats": repeats, "seconds": walls,
            "median_seconds": wall, "images_per_second": len(x) / wall, "cpu_seconds": cpus,
            "median_cpu_seconds": cpu, "images_per_cpu_second": len(x) / cpu}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    ap.add_argument("--bench", default=os.path.join(REPO, ".build", "release", "anomalykit-bench"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(REPO, "Notebooks-export", "results", "speed-tiny-ladeda.json"))
    args = ap.parse_args()

    paths = sorted(glob.glob(os.path.join(args.data, "realfake", "imagenet-real", "real", "*.png")))[:COUNT]
    assert len(paths) == COUNT
    x = torch.cat([to_input(p) for p in paths])
    assert tuple(x.shape) == (COUNT, 3, 256, 256)
    state = torch.load(os.path.join(FIXTURES, "random-weights.pth"), map_location="cpu", weights_only=True)
    state = {k[len("module."):]: v for k, v in state.items()}

    result = {
        "what": "Tiny-LaDeDa images/s, anomalykit vs PyTorch, 64 images of 256x256, same weights",
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg(), "platform": platform.platform()},
        "torch": torch.__version__, "images": [os.path.relpath(p, args.data) for p in paths], "runs": [],
    }
    for preprocess, weights in WEIGHTS.items():
        model = TinyLaDeDaReference(preprocess).eval()
        model.load_state_dict(state, strict=True)
        with torch.no_grad():
            reference = model(x, pool=True)[:, 0].double().numpy()
        for threads in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                logits_out = os.path.join(tmp, "logits.npy")
                out = subprocess.run([args.bench, "tiny-ladeda", os.path.join(FIXTURES, weights)] + paths +
                                     ["--count", str(COUNT), "--threads", str(threads), "--repeats", str(args.repeats),
                                      "--logits-out", logits_out], check=True, capture_output=True, text=True)
                swift = json.loads(out.stdout)
                delta = float(np.abs(np.load(logits_out)[:, 0] - reference).max())
            assert delta < 1e-4, delta
            swift["max_abs_logit_difference_vs_pytorch"] = delta
            result["runs"].append(swift)
            print("anomalykit %-10s threads %d: %6.1f img/s, %6.1f img/CPU-s (|Δ logit| %.1e)"
                  % (preprocess, threads, swift["images_per_second"], swift["images_per_cpu_second"], delta))
            for batch in (1, 8, COUNT):
                r = torch_rate(model, x, batch, threads, args.repeats)
                r.update({"model": "tiny-ladeda", "preprocess": preprocess, "input_size": 256, "images": COUNT})
                result["runs"].append(r)
                print("pytorch    %-10s threads %d batch %2d: %6.1f img/s, %6.1f img/CPU-s"
                      % (preprocess, threads, batch, r["images_per_second"], r["images_per_cpu_second"]))
    result["machine"]["load_average_at_end"] = os.getloadavg()
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
