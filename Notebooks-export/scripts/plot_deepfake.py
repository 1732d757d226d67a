#!/usr/bin/env python3
"""Figures and Markdown tables for Notebooks-export/explorations/deepfake-patch-preset.md (the issue-5 preset), from
Notebooks-export/results/deepfake.json (written by eval_deepfake.py).

    python3 Notebooks-export/scripts/plot_deepfake.py [--preset stages123/mean]

Writes figures/deepfake-per-generator.png and prints the tables.
"""
import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))


def fmt(m, ci=True):
    s = "%.3f" % m["auroc"]
    if ci and "auroc_ci95" in m:
        s += " [%.2f, %.2f]" % tuple(m["auroc_ci95"])
    return s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", default=os.path.join(ROOT, "results", "deepfake.json"))
    ap.add_argument("--preset", default="stages123/mean")
    args = ap.parse_args()
    r = json.load(open(args.results))
    runs = r["runs"]
    gens = list(r["fakes"])

    print("## Candidates (overall AUROC [95% CI], AP; ml72 real vs fake)\n")
    print("| candidate | " + " | ".join("JPEG %s" % q[1:] for q in runs) + " | 2x down (q90) |")
    print("|---|" + "---|" * (len(runs) + 1))
    names = [k for k in runs["q90"]["candidates"] if not k.endswith("down2x")]
    for k in names:
        cells = []
        for q in runs:
            m = runs[q]["candidates"].get(k)
            cells.append("%s, AP %.3f, ml72 %.3f" % (fmt(m["overall"]), m["overall"]["ap"], m["ml72_real_vs_fake"]["auroc"]) if m else "")
        d = runs["q90"]["candidates"].get(k + "/down2x")
        cells.append("%.3f" % d["overall"]["auroc"] if d else "")
        print("| %s | %s |" % (k, " | ".join(cells)))

    print("\n## Per generator, preset %s vs Tiny-LaDeDa (AUROC)\n" % args.preset)
    tl = r.get("tiny_ladeda", {})
    cols = [("preset q90", runs["q90"]["candidates"][args.preset]),
            ("preset q75", runs.get("q75", {}).get("candidates", {}).get(args.preset)),
            ("preset q90 2x down", runs["q90"]["candidates"].get(args.preset + "/down2x"))]
    for k in sorted(tl, key=lambda k: (not k.startswith("WildRF"), k)):
        if "/q75" in k:
            continue
        cols.append(("TL " + k.replace("_Tiny_LaDeDa", ""), tl[k]))
    cols = [(n, c) for n, c in cols if c]
    print("| generator | " + " | ".join(n for n, _ in cols) + " |")
    print("|---|" + "---|" * len(cols))
    for g in gens:
        print("| %s | %s |" % (g, " | ".join(fmt(c["per_generator"][g]) for _, c in cols)))
    print("| **all fakes** | %s |" % " | ".join(fmt(c["overall"]) for _, c in cols))
    print("| ml72 real vs ml72 fake | %s |" % " | ".join(fmt(c["ml72_real_vs_fake"]) for _, c in cols))
    print("| imagenet-real vs ml72 real | %s |" % " | ".join(fmt(c["imagenet_real_vs_ml72_real"]) for _, c in cols))

    print("\n## Leave-one-generator-out choice\n")
    for q in runs:
        lo = runs[q]["logo"]
        print("- JPEG %s: mean held-out AUROC %.3f; " % (q[1:], lo["mean_auroc"]) + "; ".join(
            "%s → %s (%.3f)" % (g, lo[g]["chosen"], lo[g]["auroc"]) for g in gens))

    fig, ax = plt.subplots(figsize=(11, 5.0))
    width = 0.8 / len(cols)
    x = np.arange(len(gens) + 1)
    for i, (n, c) in enumerate(cols):
        ms = [c["per_generator"][g] for g in gens] + [c["overall"]]
        y = [m["auroc"] for m in ms]
        err = None
        if all("auroc_ci95" in m for m in ms):
            err = np.array([[m["auroc"] - m["auroc_ci95"][0] for m in ms], [m["auroc_ci95"][1] - m["auroc"] for m in ms]])
        ax.bar(x + (i - (len(cols) - 1) / 2) * width, y, width, yerr=err, capsize=2, label=n)
    ax.axhline(0.5, color="k", lw=0.8, ls="--")
    ax.set_xticks(x)
    ax.set_xticklabels([g.replace("bias-ai-university", "bias").replace("aibingo/", "") for g in gens] + ["all"], rotation=30, ha="right")
    ax.set_ylabel("AUROC (fake vs held-out real)")
    ax.set_ylim(0, 1)
    ax.set_title("Real-only bank (%s) vs Tiny-LaDeDa, harmonised JPEG; bars: bootstrap 95%% CI" % args.preset)
    ax.legend(fontsize=7, ncol=4, loc="upper center", bbox_to_anchor=(0.5, -0.28))
    fig.tight_layout()
    out = os.path.join(ROOT, "figures", "deepfake-per-generator.png")
    fig.savefig(out, dpi=110)
    print("\nwrote", out)


if __name__ == "__main__":
    main()
