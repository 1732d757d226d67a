#!/usr/bin/env python3
"""Tiny-LaDeDa with the OFFICIAL weights: Swift (anomalykit) vs PyTorch on real images.

Dev check, run by hand (the official weights are under the authors' research
licence: they are read from ../shared/data/weights/tiny-ladeda and converted
into a temporary folder, never into the repository).

For each released checkpoint (WildRF, ForenSynth):
  1. converts the .pth with `python3 Weights/convert.py tiny-ladeda` and checks
     that every converted tensor equals torch.load's bit for bit;
  2. scores 24 images with `anomalykit deepfake tiny-ladeda --json
     --patch-logits`: 10 ImageNet photos and 10 AI-Bingo generations (both
     256x256, so the resize is a no-op) and 2 + 2 ml72 crops (512x512, so the
     antialiased resize runs);
  3. runs the same network in PyTorch (the fixture script's TinyLaDeDaReference,
     the authors' test transform) in float32 and in float64, and reports the
     largest differences of the patch logits, image logits and probabilities.
     The official weights drive patch logits into the hundreds or thousands,
     so float32 rounding is itself visible: float64 is the reference, and
     PyTorch float32 is measured against it too.

It also records the evidence behind the converter's choice of input
representation per checkpoint ("preprocess_evidence"): for every
representation in the authors' code, how far the variances that each BN layer
sees on these images are from the variances the checkpoint recorded
(mean |log10(batch var / running var)| over channels), on full images and on
the 10x10 patches the student was distilled on; and what share of the real
and of the generated images each representation calls fake. (Real photos here
are decoded JPEGs and the generations are PNGs, so the last columns are not a
clean accuracy; see ../shared/data/README.md.)

Run from the repository root after `swift build -c release`:
    /root/venv/bin/python Notebooks-export/scripts/parity_tiny_ladeda.py
Writes Notebooks-export/results/parity-tiny-ladeda.json.
"""
import argparse
import glob
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Tests", "Fixtures", "tiny-ladeda"))
sys.path.insert(0, os.path.join(REPO, "Weights"))
from make_fixtures import TinyLaDeDaReference, to_input  # noqa: E402
import convert  # noqa: E402

CHECKPOINTS = ["WildRF_Tiny_LaDeDa.pth", "ForenSynth_Tiny_LaDeDa.pth"]
GRADIENTS = {name: kernel for name, kernel in convert.TINY_LADEDA_GRADIENTS.items()}


def images(data):
    real = sorted(glob.glob(os.path.join(data, "realfake", "imagenet-real", "real", "*.png")))[::25][:10]
    fake = sorted(glob.glob(os.path.join(data, "realfake", "aibingo", "fake", "*", "*.png")))[::23][:10]
    ml_real = sorted(glob.glob(os.path.join(data, "realfake", "ml72", "real", "*.png")))[:2]
    ml_fake = sorted(glob.glob(os.path.join(data, "realfake", "ml72", "fake", "*.png")))[:2]
    paths = real + ml_real + fake + ml_fake
    labels = [0] * (len(real) + len(ml_real)) + [1] * (len(fake) + len(ml_fake))
    return paths, labels


def representation(x, kind):
    """The authors' `preprocess` for every kind (right_diag etc. and NPR)."""
    if kind == "NPR":
        down = F.interpolate(x, scale_factor=0.5, mode="nearest", recompute_scale_factor=True)
        return x - F.interpolate(down, scale_factor=2, mode="nearest", recompute_scale_factor=True)
    k = torch.tensor(GRADIENTS[kind], dtype=x.dtype).view(1, 1, 3, 3).repeat(3, 1, 1, 1)
    return F.conv2d(x, k, groups=3, padding="same")


def bn_mismatch(model, x, kind):
    """Mean over channels of |log10(batch variance / recorded running variance)|
    at bn1, layer1.0.bn1 and layer1.0.bn2, each layer fed by the previous ones
    with their recorded statistics (eval mode)."""
    block = model.layer1[0]
    out = []
    with torch.no_grad():
        a = model.conv2(model.conv1(representation(x, kind)))
        out.append(a)
        b = block.conv1(F.relu(model.bn1(a)))
        out.append(b)
        c = block.conv2(F.relu(block.bn1(b)))
        out.append(c)
        logits = model.fc(F.relu(block.bn2(c)).permute(0, 2, 3, 1)).mean((1, 2, 3))
    bns = [model.bn1, block.bn1, block.bn2]
    ratios = [float((t.var((0, 2, 3)) / bn.running_var).log10().abs().mean()) for t, bn in zip(out, bns)]
    return ratios, logits.numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"))
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    ap.add_argument("--out", default=os.path.join(REPO, "Notebooks-export", "results", "parity-tiny-ladeda.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    paths, labels = images(args.data)
    labels = np.array(labels)
    x32 = torch.cat([to_input(p) for p in paths])
    x64 = x32.double()
    # The student's training inputs: 10x10 patches of the normalised images, stride 8.
    patches = x32.permute(0, 2, 3, 1).unfold(1, 10, 8).unfold(2, 10, 8).contiguous().view(-1, 3, 10, 10)

    result = {
        "what": "Tiny-LaDeDa, official checkpoints: anomalykit (Swift) vs the same network in PyTorch",
        "torch": torch.__version__, "numpy": np.__version__, "python": platform.python_version(),
        "images": [os.path.relpath(p, args.data) for p in paths],
        "labels": labels.tolist(),
        "checkpoints": {},
        "preprocess_evidence": {},
    }
    with tempfile.TemporaryDirectory(prefix="tiny-ladeda-parity-") as tmp:
        for ckpt in CHECKPOINTS:
            pth = os.path.join(args.data, "weights", "tiny-ladeda", ckpt)
            with open(pth, "rb") as f:
                digest = hashlib.sha256(f.read()).hexdigest()
            out = os.path.join(tmp, ckpt.replace(".pth", ".safetensors"))
            subprocess.run([sys.executable, os.path.join(REPO, "Weights", "convert.py"), "tiny-ladeda",
                            "--pth", pth, "--out", out], check=True, capture_output=True)
            with open(out, "rb") as f:
                converted, meta = convert.read_safetensors(f.read())
            state = torch.load(pth, map_location="cpu")
            identical = all(np.array_equal(converted[k][0], state[k].numpy()) for k in converted)
            assert identical and len(converted) == 18
            preprocess = meta["preprocess"]

            cli = subprocess.run([args.binary, "deepfake", "tiny-ladeda", "--weights", out, "--json",
                                  "--patch-logits"] + paths, check=True, capture_output=True, text=True)
            swift = json.loads(cli.stdout)
            assert [s["path"] for s in swift] == paths
            swift_patches = np.array([s["patch_logits"] for s in swift], np.float64).reshape(len(paths), 126, 126)
            swift_logit = np.array([s["logit"] for s in swift])
            swift_prob = np.array([s["probability"] for s in swift])

            m32 = TinyLaDeDaReference(preprocess).eval()
            m32.load_state_dict(state, strict=True)
            m64 = TinyLaDeDaReference(preprocess).double().eval()
            m64.load_state_dict(state, strict=True)
            with torch.no_grad():
                t32 = m32(x32, pool=False)[:, 0].double().numpy()
                pooled32 = m32(x32, pool=True)[:, 0].double().numpy()
                t64 = m64(x64, pool=False)[:, 0].numpy()
                pooled64 = m64(x64, pool=True)[:, 0].numpy()
            prob64 = 1 / (1 + np.exp(-pooled64))
            scale = float(np.abs(t64).max())
            entry = {
                "sha256": digest, "preprocess": preprocess, "max_abs_patch_logit": scale,
                "patch_logits": {
                    "swift_vs_torch_float32_max_abs": float(np.abs(swift_patches - t32).max()),
                    "swift_vs_torch_float64_max_abs": float(np.abs(swift_patches - t64).max()),
                    "torch_float32_vs_float64_max_abs": float(np.abs(t32 - t64).max()),
                    "swift_vs_torch_float64_max_relative_to_scale": float(np.abs(swift_patches - t64).max() / scale),
                },
                "image_logit": {
                    "swift_vs_torch_float64_max_abs": float(np.abs(swift_logit - pooled64).max()),
                    "torch_float32_pooled_vs_float64_max_abs": float(np.abs(pooled32 - pooled64).max()),
                    "swift_vs_torch_float32_pooled_max_abs": float(np.abs(swift_logit - pooled32).max()),
                },
                "probability_swift_vs_torch_float64_max_abs": float(np.abs(swift_prob - prob64).max()),
                "verdicts_agree": int(((swift_prob > 0.5) == (prob64 > 0.5)).sum()),
                "images": len(paths),
                "fake_share_real_images": float((prob64[labels == 0] > 0.5).mean()),
                "fake_share_generated_images": float((prob64[labels == 1] > 0.5).mean()),
                "logits_float64": [round(float(v), 6) for v in pooled64],
            }
            result["checkpoints"][ckpt] = entry
            print(ckpt, json.dumps({k: v for k, v in entry.items() if k != "logits_float64"}, indent=1))

            evidence = {}
            for kind in list(GRADIENTS) + ["NPR"]:
                full, logits = bn_mismatch(m32, x32, kind)
                small, _ = bn_mismatch(m32, patches, kind)
                evidence[kind] = {
                    "bn_log10_variance_mismatch_full_images": [round(v, 3) for v in full],
                    "bn_log10_variance_mismatch_10x10_patches": [round(v, 3) for v in small],
                    "fake_share_real_images": float((logits[labels == 0] > 0).mean()),
                    "fake_share_generated_images": float((logits[labels == 1] > 0).mean()),
                    "median_abs_image_logit": float(np.median(np.abs(logits))),
                }
                print("  %-10s BN mismatch (full) %s (patches) %s  fake share real %.2f generated %.2f  |logit| %.3g"
                      % (kind, evidence[kind]["bn_log10_variance_mismatch_full_images"],
                         evidence[kind]["bn_log10_variance_mismatch_10x10_patches"],
                         evidence[kind]["fake_share_real_images"], evidence[kind]["fake_share_generated_images"],
                         evidence[kind]["median_abs_image_logit"]))
            result["preprocess_evidence"][ckpt] = evidence
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    print("wrote", args.out)


if __name__ == "__main__":
    main()
