#!/usr/bin/env python3
"""Plots Notebooks-export/results/fit-memory.json (from bench_fit_memory.py):
peak RSS of `anomalykit fit` against the number of images, beside the bytes
the bank keeps and the bytes streamed through the scratch file.

Usage: python3 Notebooks-export/scripts/plot_fit_memory.py
Writes Notebooks-export/figures/fit-memory.png.
"""
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

ROOT = Path(__file__).resolve().parents[2]
runs = json.loads((ROOT / "Notebooks-export/results/fit-memory.json").read_text())["runs"]
before_file = ROOT / "Notebooks-export/results/fit-memory-before-streaming.json"
old = json.loads(before_file.read_text())["runs"] if before_file.exists() else []
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
titles = {"pooled": "image bank (every row kept, 1280-d)", "patches": "patch bank (784 rows/image, random 1% kept)"}
for ax, name in zip(axes, ("pooled", "patches")):
    rs = sorted((r for r in runs if r["bank"] == name), key=lambda r: r["images"])
    n = [r["images"] for r in rs]
    mib = lambda key: [r[key] / 2**20 for r in rs]
    ax.plot(n, mib("peak_rss_bytes"), "o-", label="peak RSS")
    ax.plot(n, mib("bank_bytes"), "s--", label="bank kept (rows × D × 4)")
    ax.plot(n, mib("spooled_bytes"), "^:", label="features streamed to disk")
    before = sorted((r for r in old if r["bank"] == name), key=lambda r: r["images"])
    if len(before) >= 2:
        ax.plot([r["images"] for r in before], [r["peak_rss_bytes"] / 2**20 for r in before], "x-", color="grey",
                label="peak RSS before streaming (10f2e1a)")
    ax.set_yscale("log")
    ax.set_xlabel("images fitted")
    ax.set_ylabel("MiB")
    ax.set_title(titles[name], fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
fig.suptitle("anomalykit fit: memory follows the bank, not the images", fontsize=11)
fig.tight_layout()
out = ROOT / "Notebooks-export/figures/fit-memory.png"
fig.savefig(out, dpi=110)
print(f"wrote {out}")
