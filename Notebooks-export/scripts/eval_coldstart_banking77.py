#!/usr/bin/env python3
"""The cold-start protocol on Banking77-OOS with `anomalykit coldstart eval`.

Runs, from the repository root after `swift build -c release`:
  - contamination 2.5%, 5% and 7.5%, seeds 0-4, squared L2 on raw MiniLM
    embeddings (the official code's setting), every method;
  - 5% with seeds 0-19 (how much the 5-seed mean moves);
  - 5% with the cosine metric (L2-normalised embeddings), which is what
    reproduces the data README's zero-shot reference of 78.4;
  - one cold run (no embedding cache) to time a full evaluation.

    python3 Notebooks-export/scripts/eval_coldstart_banking77.py [--skip-cold]

Writes Notebooks-export/results/coldstart-banking77.json and
Notebooks-export/figures/coldstart-banking77.png. Needs numpy and matplotlib.
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "coldstart", "banking77-oos"))
BINARY = os.path.join(REPO, ".build", "release", "anomalykit")
RESULTS = os.path.join(REPO, "Notebooks-export", "results", "coldstart-banking77.json")
FIGURE = os.path.join(REPO, "Notebooks-export", "figures", "coldstart-banking77.png")


def run(args):
    start = time.time()
    p = subprocess.run([BINARY, "coldstart", "eval", DATA] + args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(p.stderr)
    return json.loads(p.stdout)["datasets"][0], time.time() - start, p.stderr.strip().splitlines()[-1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--skip-cold", action="store_true", help="do not time a run without the embedding cache")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="coldstart-b77-")
    cache = os.path.join(tmp, "embeddings.safetensors")
    out = {"dataset": DATA, "runs": {}}
    if not a.skip_cold:
        cold, seconds, log = run(["--seeds", "5", "--metric", "l2", "--json", "--cache", cache])
        out["cold_run"] = {"command": "anomalykit coldstart eval banking77-oos --seeds 5 --json", "wall_seconds": seconds, "log": log}
        print("cold run: %.1f s (%s)" % (seconds, log))
    for contamination in ["0.025", "0.05", "0.075"]:
        curves = os.path.join(tmp, "curves-%s.csv" % contamination)
        r, seconds, log = run(["--seeds", "5", "--metric", "l2", "--contamination", contamination, "--json", "--cache", cache, "--curves", curves])
        r["wall_seconds"] = seconds
        out["runs"]["l2/c=%s/seeds0-4" % contamination] = r
        if contamination == "0.05":
            c = np.genfromtxt(curves, delimiter=",", names=True)
            out["mean_curves_c0.05"] = {m: [round(float(v), 5) for v in c[m][::10]] for m in c.dtype.names if m not in ("step", "dataset")}
        print(contamination, {m: round(100 * v["auc@10"], 2) for m, v in r["methods"].items()}, "%.1f s" % seconds)
    r, seconds, _ = run(["--seeds", "20", "--metric", "l2", "--json", "--cache", cache])
    out["runs"]["l2/c=0.05/seeds0-19"] = r
    r, seconds, _ = run(["--seeds", "5", "--metric", "cosine", "--json", "--cache", cache])
    out["runs"]["cosine/c=0.05/seeds0-4"] = r
    with open(RESULTS + ".tmp", "w") as f:
        json.dump(out, f, indent=1)
    os.replace(RESULTS + ".tmp", RESULTS)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colors = {"zs": "tab:red", "dn2": "tab:purple", "coldfusion": "tab:blue", "predictive": "tab:green"}
    fig, ax = plt.subplots(figsize=(7, 4))
    for m, values in out["mean_curves_c0.05"].items():
        steps = np.arange(len(values)) * 10 + 1
        ax.plot(steps, 100 * np.array(values), label=m, color=colors.get(m))
    ax.set_xlabel("stream step (observations seen)")
    ax.set_ylabel("AUROC (%)")
    ax.set_title("Banking77-OOS, 5% contamination, mean of seeds 0-4")
    ax.set_ylim(65, 85)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(FIGURE + ".tmp.png", dpi=120)
    os.replace(FIGURE + ".tmp.png", FIGURE)
    print("wrote", RESULTS, FIGURE)


if __name__ == "__main__":
    main()
