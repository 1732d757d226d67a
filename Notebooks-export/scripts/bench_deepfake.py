#!/usr/bin/env python3
"""Real-only deepfake scoring throughput: `anomalykit deepfake score` vs the
numpy/PyTorch reference computing the same cues on the same images.

Both take the same 128 files (256x256 ImageNet photos from
../shared/data/realfake/imagenet-real, the issue's "256 px" case) from disk,
re-encode them at JPEG 90, crop, and measure the default detector's cues:
- anomalykit: the whole command, `deepfake score --bank D IMAGES` (process
  start, weights load, decoding, scoring, printing), wall clock;
- reference: `deepfake_cues.py` with Pillow and PyTorch 2.13 (CPU,
  torch.set_num_threads(2)), the same cues (statistics plus the network's
  clean / noisy / blurred batch), wall clock, images already listed.

Rounds alternate between the two; the median round is reported with the
ratio measured in the same run.

    swift build -c release --product anomalykit
    /root/venv/bin/python Notebooks-export/scripts/bench_deepfake.py [--rounds 5]

Writes Notebooks-export/results/speed-deepfake.json.
"""
import argparse
import glob
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import deepfake_cues as cues  # noqa: E402

BINARY = os.path.join(REPO, ".build", "release", "anomalykit")
WEIGHTS = os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")


def reference(paths):
    for p in paths:
        im = Image.open(p).convert("RGB")
        buf = io.BytesIO()
        im.save(buf, format="JPEG", quality=90)
        buf.seek(0)
        x = cues.central_crop(np.asarray(Image.open(buf).convert("RGB")))
        cues.statistics(x)
        cues.perturbation_cues(x, WEIGHTS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--count", type=int, default=128)
    ap.add_argument("--out", default=os.path.join(REPO, "Notebooks-export", "results", "speed-deepfake.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    paths = sorted(glob.glob(os.path.join(REPO, "..", "shared", "data", "realfake", "imagenet-real", "real", "*.png")))
    fit_paths, paths = paths[:40], paths[40:40 + args.count]
    with tempfile.TemporaryDirectory() as tmp:
        detector = os.path.join(tmp, "real.safetensors")
        subprocess.run([BINARY, "deepfake", "fit", *fit_paths, "--out", detector], check=True, capture_output=True)
        info = subprocess.run([BINARY, "info", detector, "--json"], check=True, capture_output=True, text=True).stdout
        readings = json.loads(info).get("metadata", {}).get("readings", "?") if info.startswith("{") else "?"
        reference(paths[:4])  # warm-up: builds the network
        swift, ref = [], []
        for _ in range(args.rounds):
            t = time.perf_counter()
            subprocess.run([BINARY, "deepfake", "score", "--bank", detector, *paths], check=True, capture_output=True)
            swift.append(len(paths) / (time.perf_counter() - t))
            t = time.perf_counter()
            reference(paths)
            ref.append(len(paths) / (time.perf_counter() - t))
    out = {
        "images": len(paths), "size": "256x256", "rounds": args.rounds, "readings": readings,
        "anomalykit_images_per_second": float(np.median(swift)), "reference_images_per_second": float(np.median(ref)),
        "ratio": float(np.median(swift) / np.median(ref)), "all_rounds": {"anomalykit": swift, "reference": ref},
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "torch": torch.__version__},
    }
    print(json.dumps(out, indent=1))
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
