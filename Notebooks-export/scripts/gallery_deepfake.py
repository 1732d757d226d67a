#!/usr/bin/env python3
"""Heatmap gallery for Notebooks-export/explorations/deepfake-patch-preset.md (the issue-5 preset).

Fits the `--preset deepfake` bank on the same seeded half of imagenet-real as
eval_deepfake.py (JPEG 90 harmonisation, the preset's default), then writes
patch heatmaps for four ml72 real photos (MIT) and four bias-ai-university
generated images (CC0) — licences that allow showing derived images — and,
with --tiny-ladeda W.safetensors, Tiny-LaDeDa's patch-logit heatmaps of the
same images. Composes figures/deepfake-heatmaps.png.

    python3 Notebooks-export/scripts/gallery_deepfake.py [--tiny-ladeda /tmp/WildRF_Tiny_LaDeDa.safetensors]
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402

from eval_deepfake import DATA, REPO, call, dataset  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    ap.add_argument("--tiny-ladeda", default=None)
    args = ap.parse_args()
    bank, _, fakes, ml72_real = dataset()
    reals = ml72_real[:4]
    gens = [g for g in fakes if g.startswith("bias-ai-university/")]
    fake = [fakes[g][0] for g in gens] + [fakes[gens[0]][1]]
    images = reals + fake
    work = tempfile.mkdtemp(prefix="ak-gallery-")
    bank_path = os.path.join(work, "real.safetensors")
    call([args.binary, "fit", "--preset", "deepfake", "--holdout", "0", "--out", bank_path] + bank)
    out = json.loads(call([args.binary, "score", "--bank", bank_path, "--json", "--heatmaps", os.path.join(work, "bank")] + images))
    rows = [("real-only bank (kNN distance)", {r["path"]: r["score"] for r in out}, os.path.join(work, "bank"))]
    if args.tiny_ladeda:
        tl = json.loads(call([args.binary, "deepfake", "tiny-ladeda", "--weights", args.tiny_ladeda, "--harmonize-jpeg", "90",
                              "--json", "--heatmaps", os.path.join(work, "tl")] + images))
        rows.append(("Tiny-LaDeDa (P(fake))", {r["path"]: r["probability"] for r in tl}, os.path.join(work, "tl")))
    fig, axes = plt.subplots(len(rows), len(images), figsize=(2.1 * len(images), 2.4 * len(rows)), squeeze=False)
    for i, (title, scores, folder) in enumerate(rows):
        maps = sorted(os.listdir(folder))
        for j, p in enumerate(images):
            stem = os.path.splitext(os.path.basename(p))[0]
            m = [f for f in maps if f.startswith(stem)]
            ax = axes[i][j]
            ax.imshow(Image.open(os.path.join(folder, m[0])))
            kind = "real" if p in reals else p.split(os.sep)[-2]
            ax.set_title("%s\n%.3g" % (kind, scores[p]), fontsize=8)
            ax.axis("off")
        axes[i][0].text(-0.1, 0.5, title, transform=axes[i][0].transAxes, rotation=90, va="center", ha="right", fontsize=8)
    fig.suptitle("Patch heatmaps: ml72 real photos (MIT) and bias-ai-university generated images (CC0), JPEG 90", fontsize=9)
    fig.tight_layout()
    dest = os.path.join(REPO, "Notebooks-export", "figures", "deepfake-heatmaps.png")
    fig.savefig(dest, dpi=100)
    shutil.rmtree(work, ignore_errors=True)
    print("wrote", dest)


if __name__ == "__main__":
    main()
