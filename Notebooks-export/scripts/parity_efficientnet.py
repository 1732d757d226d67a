#!/usr/bin/env python3
"""Max |difference| between AnomalyKit's EfficientNet-Lite0 outputs and
PyTorch's (the committed fixture Tests/Fixtures/efficientnet/reference.safetensors,
made by the package's own model code), for both kernel paths.

    python3 Notebooks-export/scripts/parity_efficientnet.py   # after swift build -c release
Needs numpy and safetensors.
"""
import json
import os
import subprocess
import tempfile

import numpy as np
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FIX = os.path.join(REPO, "Tests", "Fixtures", "efficientnet")
NAMES = ["coffee", "chelsea", "astronaut", "rocket"]


def main():
    ref = load_file(os.path.join(FIX, "reference.safetensors"))
    binary = os.path.join(REPO, ".build", "release", "anomalykit")
    work = tempfile.mkdtemp()
    out = {}
    for kernels in ["default", "portable"]:
        env = dict(os.environ)
        if kernels == "portable":
            env["ANOMALYKIT_KERNELS"] = "portable"
        row = {}
        for layer in ["pooled", "logits"]:
            path = os.path.join(work, "%s-%s.npy" % (kernels, layer))
            subprocess.run([binary, "embed", *[os.path.join(FIX, n + ".png") for n in NAMES], "--layer", layer, "--out", path],
                           check=True, capture_output=True, env=env)
            got = np.load(path)
            want = np.stack([ref["%s.%s" % (n, layer)] for n in NAMES])
            row["max_abs_delta_" + layer] = float(np.abs(got - want).max())
            if layer == "logits":
                row["top1"] = {n: int(i) for n, i in zip(NAMES, got.argmax(1))}
        out[kernels] = row
    out["command"] = "python3 Notebooks-export/scripts/parity_efficientnet.py"
    with open(os.path.join(REPO, "Notebooks-export", "results", "parity-efficientnet.json"), "w") as f:
        json.dump(out, f, indent=2, sort_keys=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
