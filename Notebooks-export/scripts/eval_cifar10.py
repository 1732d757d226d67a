#!/usr/bin/env python3
"""One-class CIFAR-10 with every scorer, through the anomalykit CLI.

Protocol (DN2 / PANDA / MSC): for each class c, fit a bank on the 500 train
images of c and score all 2,000 test images (200 per class); label 1 = not c.
Report AUROC per class and the mean over the 10 classes. Images are
stretched 32 -> 224 (`--resize stretch`).

Features are extracted once with `anomalykit embed` and cached; banks are
then fitted and evaluated with `anomalykit fit --from-npy` and
`anomalykit eval --normal-npy/--anomalous-npy`, i.e. the same scorer code
that scores images. The `knn` and `cosine-knn` results are re-computed
with numpy on the same features (parity check, must agree within 0.3).

Run from the repository root after `swift build -c release`:
    python3 Notebooks-export/scripts/eval_cifar10.py [--work /tmp/anomalykit-cifar]
Needs numpy, scikit-learn, matplotlib (dev only).
"""
import argparse
import json
import os
import subprocess

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "images", "cifar10"))
SCORERS = ["knn", "cosine-knn", "mean-shifted", "angular-center", "gaussian"]


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def embed(binary, split, cls, out, extra=()):
    if not os.path.exists(out):
        run([binary, "embed", os.path.join(DATA, split, cls), "--resize", "stretch", "--out", out, *extra])
    return np.load(out)


def numpy_knn(bank, queries, k=2, normalize=False):
    if normalize:
        bank = bank / np.linalg.norm(bank, axis=1, keepdims=True)
        queries = queries / np.linalg.norm(queries, axis=1, keepdims=True)
    b, q = bank.astype(np.float64), queries.astype(np.float64)
    d = (q ** 2).sum(1)[:, None] + (b ** 2).sum(1)[None] - 2 * q @ b.T
    return np.sort(np.maximum(d, 0), 1)[:, :k].sum(1)


def main():
    from sklearn.metrics import roc_auc_score
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/anomalykit-cifar")
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    ap.add_argument("--flip-average", action="store_true", help="average features with the mirror image's")
    ap.add_argument("--weights", help="other EfficientNet-Lite weights (e.g. lite2)")
    ap.add_argument("--input-size", type=int)
    ap.add_argument("--scorers", nargs="+", default=SCORERS)
    ap.add_argument("--transform", default="sqrt", choices=["sqrt", "none"],
                    help="feature transform of the bank (the toolkit's default for image banks is sqrt)")
    a = ap.parse_args()
    extra = (["--flip-average"] if a.flip_average else []) + (["--weights", a.weights] if a.weights else []) \
        + (["--input-size", str(a.input_size)] if a.input_size else [])
    variant = "-".join(["lite0" if not a.weights else os.path.basename(a.weights).split(".")[0]]
                       + (["%dpx" % a.input_size] if a.input_size else []) + (["flip"] if a.flip_average else []))
    a.work = os.path.join(a.work, variant)
    os.makedirs(a.work, exist_ok=True)
    classes = open(os.path.join(DATA, "classes.txt")).read().split()
    train = {c: embed(a.bin, "train", c, os.path.join(a.work, "train_%s.npy" % c), extra) for c in classes}
    test = {c: embed(a.bin, "test", c, os.path.join(a.work, "test_%s.npy" % c), extra) for c in classes}
    variant += "-" + a.transform
    results = {"protocol": "one-class CIFAR-10, 500 train images of the normal class, all 2,000 test images; "
                           "pooled features, --resize stretch",
               "variant": variant, "transform": a.transform, "embed_options": extra, "scorers": {}}
    for scorer in a.scorers:
        per_class = {}
        for c in classes:
            rest = os.path.join(a.work, "rest_%s.npy" % c)
            if not os.path.exists(rest):
                np.save(rest, np.concatenate([test[o] for o in classes if o != c]))
            bank = os.path.join(a.work, "bank_%s_%s.safetensors" % (scorer, c))
            run([a.bin, "fit", "--from-npy", os.path.join(a.work, "train_%s.npy" % c), "--scorer", scorer,
                 "--transform", a.transform, "--holdout", "0", "--out", bank])
            m = json.loads(run([a.bin, "eval", "--bank", bank, "--normal-npy", os.path.join(a.work, "test_%s.npy" % c),
                                "--anomalous-npy", rest, "--json"]))
            per_class[c] = m["auroc"]
        results["scorers"][scorer] = {"per_class_auroc": per_class,
                                      "mean_auroc": float(np.mean(list(per_class.values())))}
        print("%-15s mean AUROC %.2f" % (scorer, 100 * results["scorers"][scorer]["mean_auroc"]))
    parity = {}
    tf = (lambda x: np.sign(x) * np.sqrt(np.abs(x))) if a.transform == "sqrt" else (lambda x: x)
    for scorer, normalize in [("knn", False), ("cosine-knn", True)]:
        if scorer not in results["scorers"]:
            continue
        aucs = []
        for i, c in enumerate(classes):
            q = np.concatenate([test[c]] + [test[o] for o in classes if o != c])
            y = np.r_[np.zeros(len(test[c])), np.ones(len(q) - len(test[c]))]
            aucs.append(roc_auc_score(y, numpy_knn(tf(train[c]), tf(q), 2, normalize)))
        parity[scorer] = {"numpy_mean_auroc": float(np.mean(aucs)),
                          "anomalykit_mean_auroc": results["scorers"][scorer]["mean_auroc"],
                          "difference_points": 100 * abs(float(np.mean(aucs)) - results["scorers"][scorer]["mean_auroc"])}
    results["numpy_parity"] = parity
    results["command"] = "python3 Notebooks-export/scripts/eval_cifar10.py " + " ".join(
        ["--transform", a.transform] + (["--flip-average"] if a.flip_average else []) + (["--weights", a.weights] if a.weights else [])
        + (["--input-size", str(a.input_size)] if a.input_size else []) + (["--scorers"] + a.scorers if a.scorers != SCORERS else []))
    out = os.path.join(REPO, "Notebooks-export", "results", "cifar10-%s.json" % variant)
    with open(out, "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    print(json.dumps(parity, indent=2))


if __name__ == "__main__":
    main()
