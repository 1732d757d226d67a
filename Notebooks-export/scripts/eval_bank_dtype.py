#!/usr/bin/env python3
"""Accuracy cost of bfloat16 banks (`fit --bank-dtype bf16`) against float32.

A bf16 bank stores its rows rounded to bfloat16 (nearest even, after the
feature transform and, for cosine-knn, the L2 normalisation); the kNN finds
candidates with BF16 dot products and re-ranks them in float32 against the
rounded rows. Everything else (features, coreset, pooling) is unchanged, so
each comparison below fits the same bank twice, once per dtype, and scores
the same test set through the CLI.

Protocol:
- CIFAR-10 one-class, as eval_cifar10.py: for each class, fit on its 500
  train images and score all 2,000 test images (label 1 = another class);
  AUROC per class, mean over the 10 classes. Pooled EfficientNet-Lite0
  features from `anomalykit embed --resize stretch`, cached (shared with
  eval_cifar10.py's default cache); banks by `anomalykit fit --from-npy
  --scorer {knn,cosine-knn} --transform sqrt --holdout 0 --bank-dtype
  {f32,bf16}` (sqrt: the toolkit's image-bank default, as eval_cifar10.py),
  AUROC by `anomalykit eval --normal-npy/--anomalous-npy`. A numpy check
  scores the same features by exact float64 kNN against the float32 rows and
  against the rows rounded to bfloat16 as the bank stores them: it separates
  the cost of rounding from that of the BF16 candidate search.
- Industrial (the four development sets of select_industrial_defaults.py:
  mvtec-bottle, mpdd-metal-plate, mvtec-screw, magnetic-tile seen through its
  seeded MVTec layout of links). `eval --mvtec` takes no --bank-dtype, so
  the bank is fitted with `anomalykit fit --patches train/good --holdout 0
  --bank-dtype {f32,bf16}` (the patch-bank defaults: stages 3 5, input 320,
  --resize stretch, --transform none, greedy 1% coreset, k = 1, max pooling;
  --holdout 0 as `eval --mvtec` fits) and measured with `anomalykit eval
  --bank B --normal test/good --anomalous test/<defects> [--masks
  ground_truth] --json --scores-out CSV`: image AUROC, and pixel AUROC and
  AUPRO where masks exist (not mvtec-screw). The coreset is chosen before
  the rows are rounded, so both dtypes keep the same patches. Per defect
  type, image AUROC (good vs that type) is computed with sklearn from the
  scores CSV.

Delta = 100 * (AUROC bf16 - AUROC f32), in points; the worst (most
negative) delta over all datasets and scorers is reported.

Run from the repository root after `swift build -c release`:
    nice -n 5 python3 Notebooks-export/scripts/eval_bank_dtype.py [--work /tmp/anomalykit-bank-dtype]
Caches: CIFAR features in --cifar-features (default /tmp/anomalykit-cifar/lite0,
eval_cifar10.py's), banks and per-run industrial results in --work (delete to
rerun). Needs numpy and scikit-learn (dev only).
Writes Notebooks-export/results/bank-dtype-accuracy.json.
"""
import argparse
import csv
import json
import os
import platform
import struct
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_cifar10 as C  # noqa: E402
import select_industrial_defaults as S  # noqa: E402

REPO = C.REPO
DTYPES = ["f32", "bf16"]
CIFAR_SCORERS = ["knn", "cosine-knn"]


def points(f32, bf16):
    return None if f32 is None or bf16 is None else 100.0 * (bf16 - f32)


def bank_header(path):
    """The safetensors header of a bank: metadata, and the features tensor's dtype and shape."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        h = json.loads(f.read(n))
    return {"metadata": h.get("__metadata__", {}), "features": {k: h["features"][k] for k in ("dtype", "shape")},
            "file_bytes": os.path.getsize(path)}


def bank_rows(path):
    """The bank's rows as float32 (BF16 widened exactly)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        t = json.loads(f.read(n))["features"]
        f.seek(8 + n + t["data_offsets"][0])
        raw = f.read(t["data_offsets"][1] - t["data_offsets"][0])
    if t["dtype"] == "BF16":
        return (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32).reshape(t["shape"])
    return np.frombuffer(raw, dtype="<f4").reshape(t["shape"])


def bf16_round(x):
    """float32 -> nearest-even bfloat16 -> float32 (as the bank stores its rows)."""
    u = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32)
    r = ((u + np.uint32(0x7FFF) + ((u >> 16) & np.uint32(1))) >> 16) << 16
    return r.astype(np.uint32).view(np.float32)


def cifar(a):
    from sklearn.metrics import roc_auc_score
    classes = open(os.path.join(C.DATA, "classes.txt")).read().split()
    os.makedirs(a.cifar_features, exist_ok=True)
    work = os.path.join(a.work, "cifar")
    os.makedirs(work, exist_ok=True)
    t = time.time()
    train = {c: C.embed(a.bin, "train", c, os.path.join(a.cifar_features, "train_%s.npy" % c)) for c in classes}
    test = {c: C.embed(a.bin, "test", c, os.path.join(a.cifar_features, "test_%s.npy" % c)) for c in classes}
    embed_s = time.time() - t
    print("CIFAR-10 features ready in %.1f s (cached under %s)" % (embed_s, a.cifar_features), flush=True)
    for c in classes:
        rest = os.path.join(work, "rest_%s.npy" % c)
        if not os.path.exists(rest):
            np.save(rest, np.concatenate([test[o] for o in classes if o != c]))
    tf = (lambda x: np.sign(x) * np.sqrt(np.abs(x))) if a.transform == "sqrt" else (lambda x: x)
    out = {"protocol": "one-class CIFAR-10 (eval_cifar10.py): fit on the 500 train images of class c, score all 2,000 "
                       "test images (200 normal, 1,800 anomalous); pooled EfficientNet-Lite0 features, --resize stretch; "
                       "--transform %s, --holdout 0" % a.transform,
           "embed_seconds_this_run": round(embed_s, 1), "scorers": {}}
    for scorer in a.cifar_scorers:
        t = time.time()
        per = {dt: {} for dt in DTYPES}
        sizes = {}
        for c in classes:
            for dt in DTYPES:
                bank = os.path.join(work, "bank_%s_%s_%s.safetensors" % (scorer, dt, c))
                C.run([a.bin, "fit", "--from-npy", os.path.join(a.cifar_features, "train_%s.npy" % c), "--scorer", scorer,
                       "--transform", a.transform, "--holdout", "0", "--bank-dtype", dt, "--out", bank])
                m = json.loads(C.run([a.bin, "eval", "--bank", bank, "--normal-npy",
                                      os.path.join(a.cifar_features, "test_%s.npy" % c),
                                      "--anomalous-npy", os.path.join(work, "rest_%s.npy" % c), "--json"]))
                per[dt][c] = m["auroc"]
                if c == classes[0]:
                    h = bank_header(bank)
                    sizes[dt] = {"file_bytes": h["file_bytes"], "features": h["features"],
                                 "bank_dtype": h["metadata"].get("bank_dtype", "f32")}
        cli_s = time.time() - t
        # numpy check: exact float64 kNN, bank rows as float32 and as rounded to bfloat16
        ref = {"f32": [], "bf16_rounded_rows": []}
        normalize = scorer == "cosine-knn"
        unit = (lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)) if normalize else (lambda x: x)
        for c in classes:
            q = unit(tf(np.concatenate([test[c]] + [test[o] for o in classes if o != c])).astype(np.float32))
            y = np.r_[np.zeros(len(test[c])), np.ones(len(q) - len(test[c]))]
            b = unit(tf(train[c]).astype(np.float32)).astype(np.float32)
            ref["f32"].append(roc_auc_score(y, C.numpy_knn(b, q, 2, False)))
            ref["bf16_rounded_rows"].append(roc_auc_score(y, C.numpy_knn(bf16_round(b), q, 2, False)))
        f32, bf16 = float(np.mean(list(per["f32"].values()))), float(np.mean(list(per["bf16"].values())))
        deltas = {c: points(per["f32"][c], per["bf16"][c]) for c in classes}
        ref_f32, ref_bf16 = float(np.mean(ref["f32"])), float(np.mean(ref["bf16_rounded_rows"]))
        out["scorers"][scorer] = {
            "auroc_f32": f32, "auroc_bf16": bf16, "delta_points": points(f32, bf16),
            "per_class": {c: {"auroc_f32": per["f32"][c], "auroc_bf16": per["bf16"][c], "delta_points": deltas[c]}
                          for c in classes},
            "worst_class_delta_points": min(deltas.values()),
            "worst_class": min(deltas, key=deltas.get),
            "bank_example_%s" % classes[0]: sizes,
            "numpy_check": {
                "auroc_f32_exact": ref_f32, "auroc_bf16_rounded_rows_exact": ref_bf16,
                "delta_points_rounding_only": points(ref_f32, ref_bf16),
                "cli_vs_numpy_f32_points": 100 * abs(f32 - ref_f32),
                "cli_vs_numpy_bf16_points": 100 * abs(bf16 - ref_bf16),
            },
            "wall_seconds_fit_and_eval": round(cli_s, 1),
        }
        print("CIFAR-10 %-11s f32 %.5f bf16 %.5f delta %+.4f pt (worst class %s %+.4f; numpy rounding-only %+.4f) %.0f s" % (
            scorer, f32, bf16, points(f32, bf16), out["scorers"][scorer]["worst_class"],
            out["scorers"][scorer]["worst_class_delta_points"], points(ref_f32, ref_bf16), cli_s), flush=True)
    return out


def read_scores(path):
    with open(path) as f:
        return [(r["path"], int(r["label"]), float(r["score"])) for r in csv.DictReader(f)]


def industrial_run(a, ds, root, dt):
    """Fit a default patch bank of `dtype` on train/good and eval it on test/; cached in --work."""
    from sklearn.metrics import roc_auc_score
    work = os.path.join(a.work, "industrial")
    os.makedirs(work, exist_ok=True)
    cached = os.path.join(work, "%s-%s.json" % (ds, dt))
    if os.path.exists(cached):
        r = json.load(open(cached))
        r["cached"] = True
        return r
    bank = os.path.join(work, "%s-%s.safetensors" % (ds, dt))
    scores = os.path.join(work, "%s-%s.scores.csv" % (ds, dt))
    defects = sorted(d for d in os.listdir(os.path.join(root, "test")) if d != "good")
    gt = os.path.join(root, "ground_truth")
    t = time.time()
    C.run([a.bin, "fit", "--patches", os.path.join(root, "train", "good"), "--holdout", "0", "--bank-dtype", dt,
           "--out", bank])
    fit_s = time.time() - t
    t = time.time()
    m = json.loads(C.run([a.bin, "eval", "--bank", bank, "--normal", os.path.join(root, "test", "good"),
                          "--anomalous", *[os.path.join(root, "test", d) for d in defects],
                          *(["--masks", gt] if os.path.isdir(gt) else []), "--json", "--scores-out", scores]))
    eval_s = time.time() - t
    rows = read_scores(scores)
    good = [s for p, y, s in rows if y == 0]
    per_type = {}
    for d in defects:
        bad = [s for p, y, s in rows if y == 1 and os.path.basename(os.path.dirname(p)) == d]
        per_type[d] = {"n": len(bad), "auroc": roc_auc_score([0] * len(good) + [1] * len(bad), good + bad)}
    r = {"auroc": m["auroc"], "pixel_auroc": m["pixel_auroc"], "aupro": m["aupro"], "ap": m["ap"],
         "n_normal": m["n_normal"], "n_anomalous": m["n_anomalous"], "per_defect_type_auroc": per_type,
         "auroc_sklearn_from_scores": roc_auc_score([y for _, y, _ in rows], [s for _, _, s in rows]),
         "bank": bank_header(bank), "fit_seconds": round(fit_s, 1), "eval_seconds": round(eval_s, 1),
         "scores": {os.path.relpath(p, root) if p.startswith(root) else p: s for p, _, s in rows}}
    json.dump(r, open(cached, "w"))
    r["cached"] = False
    return r


def industrial(a):
    lodo = json.load(open(os.path.join(REPO, "Notebooks-export", "results", "industrial-lodo.json")))
    ref = lodo["results"].get("stages35-input320-none", {})
    out = {"protocol": "fit --patches (defaults) --holdout 0 --bank-dtype {f32,bf16} on train/good; eval --bank on "
                       "test/good vs test/<defects> (+ --masks ground_truth where present); magnetic-tile through "
                       "select_industrial_defaults.py's seeded layout (300 MT_Free train, 100 test/good, all defects)",
           "datasets": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for ds, root in S.development_sets(tmp).items():
            if a.datasets and ds not in a.datasets:
                continue
            res = {dt: industrial_run(a, ds, root, dt) for dt in DTYPES}
            f, b = res["f32"], res["bf16"]
            common = sorted(set(f["scores"]) & set(b["scores"]))
            rel = [abs(b["scores"][p] - f["scores"][p]) / max(abs(f["scores"][p]), 1e-12) for p in common]
            md = f["bank"]["metadata"]
            rf, rb = bank_rows(os.path.join(a.work, "industrial", "%s-f32.safetensors" % ds)), \
                bank_rows(os.path.join(a.work, "industrial", "%s-bf16.safetensors" % ds))
            same_rows = rf.shape == rb.shape and bool(np.array_equal(bf16_round(rf), rb))
            out["datasets"][ds] = {
                "auroc_f32": f["auroc"], "auroc_bf16": b["auroc"], "delta_points": points(f["auroc"], b["auroc"]),
                "pixel_auroc_f32": f["pixel_auroc"], "pixel_auroc_bf16": b["pixel_auroc"],
                "pixel_delta_points": points(f["pixel_auroc"], b["pixel_auroc"]),
                "aupro_f32": f["aupro"], "aupro_bf16": b["aupro"], "aupro_delta_points": points(f["aupro"], b["aupro"]),
                "n_normal": f["n_normal"], "n_anomalous": f["n_anomalous"],
                "per_defect_type": {d: {"auroc_f32": f["per_defect_type_auroc"][d]["auroc"],
                                        "auroc_bf16": b["per_defect_type_auroc"][d]["auroc"],
                                        "delta_points": points(f["per_defect_type_auroc"][d]["auroc"],
                                                               b["per_defect_type_auroc"][d]["auroc"]),
                                        "n": f["per_defect_type_auroc"][d]["n"]} for d in f["per_defect_type_auroc"]},
                "image_score_relative_change": {"max": max(rel), "median": float(np.median(rel)), "n_images": len(rel)},
                "recipe": {k: md.get(k) for k in ("layer", "input_size", "resize", "feature_transform", "scorer", "k",
                                                  "patch_pooling", "coreset_fraction", "coreset_method",
                                                  "coreset_source_rows", "fit_images") if k in md},
                "bank_rows": f["bank"]["features"]["shape"],
                "bf16_rows_equal_rounded_f32_rows": same_rows,
                "bank_file_bytes": {dt: res[dt]["bank"]["file_bytes"] for dt in DTYPES},
                "bank_feature_dtype": {dt: res[dt]["bank"]["features"]["dtype"] for dt in DTYPES},
                "auroc_sklearn_from_scores": {dt: res[dt]["auroc_sklearn_from_scores"] for dt in DTYPES},
                "reference_eval_mvtec_auroc_industrial_lodo": ref.get(ds, {}).get("auroc"),
                "fit_seconds": {dt: res[dt]["fit_seconds"] for dt in DTYPES},
                "eval_seconds": {dt: res[dt]["eval_seconds"] for dt in DTYPES},
                "cached": {dt: res[dt]["cached"] for dt in DTYPES},
            }
            x = out["datasets"][ds]
            print("%-17s f32 %.5f bf16 %.5f delta %+.4f pt | pixel %s | max rel. score change %.2e | fit %s s eval %s s" % (
                ds, x["auroc_f32"], x["auroc_bf16"], x["delta_points"],
                "%+.4f pt" % x["pixel_delta_points"] if x["pixel_delta_points"] is not None else "n/a",
                x["image_score_relative_change"]["max"], x["fit_seconds"], x["eval_seconds"]), flush=True)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="/tmp/anomalykit-bank-dtype")
    ap.add_argument("--cifar-features", default="/tmp/anomalykit-cifar/lite0",
                    help="cache of `embed --resize stretch` features (eval_cifar10.py's default layout)")
    ap.add_argument("--bin", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    ap.add_argument("--cifar-scorers", nargs="*", default=CIFAR_SCORERS)
    ap.add_argument("--transform", default="sqrt", choices=["sqrt", "none"], help="CIFAR-10 bank transform")
    ap.add_argument("--datasets", nargs="*", help="industrial sets to run (default: all four)")
    ap.add_argument("--skip-cifar", action="store_true")
    ap.add_argument("--skip-industrial", action="store_true")
    ap.add_argument("--out", default=os.path.join(REPO, "Notebooks-export", "results", "bank-dtype-accuracy.json"))
    a = ap.parse_args()
    t0 = time.time()
    flags = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    results = {"what": "AUROC with float32 banks vs --bank-dtype bf16 (rows rounded to bfloat16; BF16 candidate search, "
                       "float32 re-rank); delta_points = 100 * (bf16 - f32)",
               "machine": {"cpu_avx512_bf16": "avx512_bf16" in flags, "cores": os.cpu_count(), "platform": platform.platform()}}
    if not a.skip_cifar:
        t = time.time()
        results["cifar10"] = cifar(a)
        results["cifar10"]["wall_seconds"] = round(time.time() - t, 1)
    if not a.skip_industrial:
        t = time.time()
        results["industrial"] = industrial(a)
        results["industrial"]["wall_seconds"] = round(time.time() - t, 1)
    table = []
    for s, x in results.get("cifar10", {}).get("scorers", {}).items():
        table.append({"dataset": "cifar10", "scorer": s, "metric": "mean image AUROC (10 classes)",
                      "auroc_f32": x["auroc_f32"], "auroc_bf16": x["auroc_bf16"], "delta_points": x["delta_points"]})
    for ds, x in results.get("industrial", {}).get("datasets", {}).items():
        table.append({"dataset": ds, "scorer": "knn (patch default)", "metric": "image AUROC",
                      "auroc_f32": x["auroc_f32"], "auroc_bf16": x["auroc_bf16"], "delta_points": x["delta_points"]})
        if x["pixel_delta_points"] is not None:
            table.append({"dataset": ds, "scorer": "knn (patch default)", "metric": "pixel AUROC",
                          "auroc_f32": x["pixel_auroc_f32"], "auroc_bf16": x["pixel_auroc_bf16"],
                          "delta_points": x["pixel_delta_points"]})
    image_rows = [r for r in table if r["metric"] != "pixel AUROC"]
    worst = min(image_rows, key=lambda r: r["delta_points"]) if image_rows else None
    results["summary"] = {"table": table, "worst_image_auroc_delta_points": worst and worst["delta_points"],
                          "worst_image_auroc_delta_at": worst and "%s / %s" % (worst["dataset"], worst["scorer"]),
                          "worst_any_delta_points": min((r["delta_points"] for r in table), default=None),
                          "worst_single_class_or_defect_type_delta_points": min(
                              [v["delta_points"] for x in results.get("cifar10", {}).get("scorers", {}).values()
                               for v in x["per_class"].values()]
                              + [v["delta_points"] for x in results.get("industrial", {}).get("datasets", {}).values()
                                 for v in x["per_defect_type"].values()], default=None)}
    results["command"] = "nice -n 5 python3 Notebooks-export/scripts/eval_bank_dtype.py" + "".join(
        [" --skip-cifar" if a.skip_cifar else "", " --skip-industrial" if a.skip_industrial else "",
         " --transform %s" % a.transform if a.transform != "sqrt" else "",
         " --datasets " + " ".join(a.datasets) if a.datasets else "",
         " --cifar-scorers " + " ".join(a.cifar_scorers) if a.cifar_scorers != CIFAR_SCORERS else ""])
    results["wall_seconds_total"] = round(time.time() - t0, 1)
    with open(a.out, "w") as f:
        json.dump(results, f, indent=1, sort_keys=True)
    print("%-17s %-20s %-12s %8s %8s %9s" % ("dataset", "scorer", "metric", "f32", "bf16", "delta pt"))
    for r in table:
        print("%-17s %-20s %-12s %8.5f %8.5f %+9.4f" % (r["dataset"], r["scorer"], r["metric"][:12], r["auroc_f32"],
                                                      r["auroc_bf16"], r["delta_points"]))
    print("worst image-AUROC delta %+.4f points (%s); total %.0f s -> %s" % (
        results["summary"]["worst_image_auroc_delta_points"], results["summary"]["worst_image_auroc_delta_at"],
        results["wall_seconds_total"], a.out))


if __name__ == "__main__":
    main()
