#!/usr/bin/env python3
"""Cold-start one-class CIFAR-10: zero-shot prototypes from EfficientNet-Lite0's
classifier rows, adapted (ColdFusion) to a contaminated unlabelled stream.

For each CIFAR-10 class c as the single normal class:
  prototypes     = rows W[k,:] of the classifier (_fc.weight, 1000x1280) for the
                   ImageNet classes mapped to c in results/cifar10-imagenet-map.json
  stream normals = the 500 train images of c
  anomaly pool   = the 4,500 train images of the other 9 classes
  test normal    = the 200 test images of c
  test anomalies = the 1,800 test images of the other classes
The five matrices go to a temp folder and `anomalykit coldstart eval --from-npy
--metric cosine --seeds S --json --curves F.csv` runs the official stream
protocol on them (stream = 500 normals + round(C*500) anomalies, shuffled;
AUROC after every step). Pooled features are raw (no signed square root):
the classifier rows live in that space (logit = W.pooled + b).

Features are embedded once with `anomalykit embed --resize stretch` and cached.

Run from the repository root:
    python3 Notebooks-export/scripts/eval_cifar10_coldstart.py \
        [--bin /tmp/ak-image] [--contaminations 0.05 0.025 0.10 0] [--seeds 5]
Writes results/coldstart-cifar10.json and figures/coldstart-cifar10.png, and
prints the Markdown tables used in coldstart-cifar10.md.
Needs numpy, safetensors, matplotlib.
"""
import argparse
import csv
import json
import os
import subprocess
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "images", "cifar10"))
if not os.path.isdir(DATA):
    DATA = "/work/shared/data/images/cifar10"
MAP = os.path.join(REPO, "Notebooks-export", "results", "cifar10-imagenet-map.json")
METHODS = ["zs", "dn2", "coldfusion", "predictive", "fused"]
KEYS = ["auc@10", "auc@25", "auc@50", "auc@100", "final"]


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit("command failed (%d): %s\n%s" % (p.returncode, " ".join(args), p.stderr))
    return p.stdout, p.stderr


def embed(binary, weights, split, cls, out):
    if not os.path.exists(out):
        run([binary, "embed", os.path.join(DATA, split, cls), "--resize", "stretch",
             "--weights", weights, "--out", out])
    x = np.load(out)
    assert x.shape[1] == 1280, x.shape
    return x


def read_curves(path):
    with open(path) as f:
        rows = list(csv.DictReader(f))
    return {m: np.array([float(r[m]) for r in rows]) for m in METHODS}


def resample(curve, n=101):
    """Curve over steps 1..T -> values at stream fractions 0..1 (n points) by
    linear interpolation on fraction t/T."""
    t = np.arange(1, len(curve) + 1) / len(curve)
    return np.interp(np.linspace(0, 1, n), t, curve)


def method_keys(obj):
    """Map the JSON keys of `coldstart eval --json` to KEYS (auc@10 ... final)."""
    out = {}
    for k, v in obj.items():
        if k == "std":
            continue
        kk = k.lower().replace("%", "").replace("auc_", "auc@")
        out[kk] = v
    missing = [k for k in KEYS if k not in out]
    if missing:
        raise SystemExit("unexpected JSON keys %s (missing %s)" % (list(obj), missing))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    ap.add_argument("--weights", default=os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors"))
    ap.add_argument("--work", default="/tmp/coldstart-cifar10")
    ap.add_argument("--contaminations", type=float, nargs="+", default=[0.05, 0.025, 0.10, 0.0],
                    help="0 is a diagnostic: a clean stream isolates what adaptation itself does")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--kappa", type=float, default=None, help="the predictive rule's kappa (default: the image detector's)")
    ap.add_argument("--out", default=os.path.join(REPO, "Notebooks-export", "results", "coldstart-cifar10.json"))
    ap.add_argument("--figure", default=os.path.join(REPO, "Notebooks-export", "figures", "coldstart-cifar10.png"))
    a = ap.parse_args()
    from safetensors import safe_open

    mapping = json.load(open(MAP))["classes"]
    names = open(os.path.join(REPO, "Weights", "imagenet-classes.txt")).read().splitlines()
    for c, m in mapping.items():  # indices and names must agree
        assert [names[i] for i in m["indices"]] == m["names"], c
    with safe_open(a.weights, "np") as f:
        W = f.get_tensor("_fc.weight").astype(np.float32)
    assert W.shape == (1000, 1280), W.shape

    classes = open(os.path.join(DATA, "classes.txt")).read().split()
    assert sorted(classes) == sorted(mapping), (classes, list(mapping))
    feat = os.path.join(a.work, "features")
    os.makedirs(feat, exist_ok=True)
    t0 = time.time()
    train = {c: embed(a.bin, a.weights, "train", c, os.path.join(feat, "train_%s.npy" % c)) for c in classes}
    test = {c: embed(a.bin, a.weights, "test", c, os.path.join(feat, "test_%s.npy" % c)) for c in classes}
    embed_s = time.time() - t0
    print("features ready in %.1f s (cached under %s)" % (embed_s, feat))

    results = {
        "protocol": "one-class CIFAR-10 cold start: prototypes = EfficientNet-Lite0 classifier rows of the mapped "
                    "ImageNet classes; stream = the 500 train images of the normal class + round(C*500) train images "
                    "of the other classes, shuffled; AUROC after every step on the 200 test images of the class vs the "
                    "1,800 others; cosine metric, trim q=0.9; raw pooled features, --resize stretch",
        "mapping_file": "Notebooks-export/results/cifar10-imagenet-map.json",
        "seeds": a.seeds, "metric": "cosine", "trim": 0.9,
        "reference_full_data_cosine_knn_mean_auroc": 0.9092,
        "reference_note": "one-class cosine kNN (k=2) on all 500 clean train images, Lite0 + signed sqrt, "
                          "from Notebooks-export/cifar10.md; uses clean data, unlike the cold-start numbers",
        "embed_seconds_this_run": round(embed_s, 1),
        "contaminations": {},
    }
    mean_curves = {}
    for cont in a.contaminations:
        per_class, curves, t_cont = {}, {m: [] for m in METHODS}, time.time()
        for c in classes:
            with tempfile.TemporaryDirectory(dir=a.work) as d:
                np.save(os.path.join(d, "prototypes.npy"), W[mapping[c]["indices"]])
                np.save(os.path.join(d, "stream-normal.npy"), train[c])
                np.save(os.path.join(d, "anomaly-pool.npy"), np.concatenate([train[o] for o in classes if o != c]))
                np.save(os.path.join(d, "test-normal.npy"), test[c])
                np.save(os.path.join(d, "test-anomaly.npy"), np.concatenate([test[o] for o in classes if o != c]))
                cpath = os.path.join(d, "curves.csv")
                ts = time.time()
                out, err = run([a.bin, "coldstart", "eval", d, "--from-npy", "--defaults", "image", "--metric", "cosine",
                                "--contamination", repr(cont), "--seeds", str(a.seeds), "--json", "--curves", cpath]
                               + ([] if a.kappa is None else ["--kappa", repr(a.kappa)]))
                secs = time.time() - ts
                res = json.loads(out)["datasets"][0]
                cv = read_curves(cpath)
            per_class[c] = {m: {**method_keys(res["methods"][m]), "std": res["methods"][m].get("std")} for m in METHODS}
            per_class[c]["seconds"] = round(secs, 2)
            per_class[c]["stream_steps"] = int(len(cv["zs"]))
            for m in METHODS:
                curves[m].append(cv[m])
            print("C=%.3f %-10s %s  (%.1f s)" % (cont, c, "  ".join(
                "%s %.1f/%.1f" % (m, 100 * per_class[c][m]["auc@10"], 100 * per_class[c][m]["final"]) for m in METHODS), secs))
        mean = {m: {k: float(np.mean([per_class[c][m][k] for c in classes])) for k in KEYS} for m in METHODS}
        lens = {len(x) for x in curves["zs"]}
        assert len(lens) == 1, lens  # same stream length for every class (500 + round(C*500))
        mean_curves[cont] = {m: np.mean(curves[m], axis=0) for m in METHODS}
        results["contaminations"]["%g" % cont] = {
            "anomalies_in_stream": int(round(cont * 500)), "per_class": per_class, "mean_over_classes": mean,
            "mean_curve": {m: [round(float(v), 6) for v in mean_curves[cont][m]] for m in METHODS},
            "seconds": round(time.time() - t_cont, 1),
        }
    results["total_seconds"] = round(time.time() - t0, 1)
    results["command"] = "python3 Notebooks-export/scripts/eval_cifar10_coldstart.py --bin %s --contaminations %s --seeds %d" % (
        a.bin, " ".join("%g" % c for c in a.contaminations), a.seeds)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=2)
    print("wrote", a.out)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    conts = list(a.contaminations)
    ncols = min(2, len(conts))
    nrows = (len(conts) + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(6 * ncols, 4 * nrows), squeeze=False, sharey=True)
    for ax in axes.flat[len(conts):]:
        ax.set_visible(False)
    colors = {"zs": "tab:gray", "dn2": "tab:blue", "coldfusion": "tab:red", "predictive": "tab:green", "fused": "tab:purple"}
    for ax, cont in zip(axes.flat, conts):
        for m in METHODS:
            y = mean_curves[cont][m]
            x = np.arange(1, len(y) + 1) / len(y)
            ax.plot(x, 100 * y, label=m, color=colors[m])
        ax.axhline(90.92, ls="--", color="k", lw=0.8, label="full-data cosine kNN (90.92)")
        ax.set_title("contamination %g (%d anomalies in %d)" % (cont, round(cont * 500), 500 + round(cont * 500)))
        ax.set_xlabel("stream fraction seen")
        ax.grid(alpha=0.3)
    for row in axes:
        row[0].set_ylabel("mean AUROC over the 10 classes (%)")
    axes[0][0].legend(loc="lower right", fontsize=8)
    fig.suptitle("Cold-start one-class CIFAR-10: EfficientNet-Lite0 classifier rows as prototypes\n(mean over 10 classes of the mean over %d seeds)" % a.seeds)
    fig.tight_layout()
    os.makedirs(os.path.dirname(a.figure), exist_ok=True)
    fig.savefig(a.figure, dpi=110)
    print("wrote", a.figure)

    # Markdown tables
    for cont in conts:
        r = results["contaminations"]["%g" % cont]
        print("\n### contamination %g\n" % cont)
        print("| class | " + " | ".join("%s %s" % (m, k) for m in METHODS for k in ("AUC@10", "final")) + " |")
        print("|---" * (1 + 2 * len(METHODS)) + "|")
        for c in classes:
            print("| %s | " % c + " | ".join("%.1f" % (100 * r["per_class"][c][m][k]) for m in METHODS for k in ("auc@10", "final")) + " |")
        print("\n| method | AUC@10% | AUC@25% | AUC@50% | AUC@100% | final |\n|---|---|---|---|---|---|")
        for m in METHODS:
            print("| %s | " % m + " | ".join("%.2f" % (100 * r["mean_over_classes"][m][k]) for k in KEYS) + " |")


if __name__ == "__main__":
    main()
