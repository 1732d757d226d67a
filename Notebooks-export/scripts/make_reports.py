#!/usr/bin/env python3
"""Regenerates the Markdown reports and plots in Notebooks-export/ from the
JSON results the benchmark and evaluation scripts wrote.

    python3 Notebooks-export/scripts/make_reports.py

Needs numpy and matplotlib. Every table names the command that produced it.

cifar10.md and magnetic-tile.md are written whole. performance.md and the
top-level README.md also hold hand-written text, so only their generated
blocks are replaced: the text between

    <!-- BEGIN make_reports: NAME -->  and  <!-- END make_reports: NAME -->

A block may span lines or sit inside one line (a README table cell). Edit
this script, not a block; a file whose markers are missing is an error, and
nothing outside the markers is touched.
"""
import glob
import json
import os
import re
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, ".."))
README = os.path.abspath(os.path.join(ROOT, "..", "README.md"))
RESULTS = os.path.join(ROOT, "results")
FIGURES = os.path.join(ROOT, "figures")


# How the reports name anomalykit-bench's "kernels" field (older results lack it: AVX2).
KERNELS = {"avx512": "AVX-512", "avx2": "AVX2/FMA", "portable": "portable"}


def load(name):
    path = os.path.join(RESULTS, name)
    return json.load(open(path)) if os.path.exists(path) else None


def write(name, text):
    write_path(os.path.join(ROOT, name), text)


def write_path(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def replace_blocks(path, blocks, create=False):
    """Replaces the generated blocks of `path` ({NAME: text}), keeping everything outside the markers.

    With create=True a missing file is created holding the blocks alone."""
    if not os.path.exists(path):
        if not create:
            sys.exit("make_reports.py: %s does not exist" % path)
        old = "\n\n".join("<!-- BEGIN make_reports: %s -->\n<!-- END make_reports: %s -->" % (n, n) for n in blocks) + "\n"
    else:
        old = open(path).read()
    text = old
    for name, body in blocks.items():
        pattern = re.compile(r"(<!-- BEGIN make_reports: %s -->)(.*?)(<!-- END make_reports: %s -->)" % (
            re.escape(name), re.escape(name)), re.S)
        found = pattern.findall(text)
        if len(found) != 1:
            sys.exit("make_reports.py: %s has %d generated blocks named %r (needs exactly one pair of "
                     "<!-- BEGIN/END make_reports: %s --> markers)" % (path, len(found), name, name))
        inline = "\n" not in found[0][1]
        if inline and "\n" in body:
            sys.exit("make_reports.py: block %r of %s is inline but its text spans lines" % (name, path))
        new_body = body if inline else "\n" + body.strip("\n") + "\n"
        text = pattern.sub(lambda m: m.group(1) + new_body + m.group(3), text)
    if text != old:
        write_path(path, text)


def performance():
    f = load("features-benchmark.json")
    k = load("knn-benchmark.json")
    lines = ["# Performance", "",
             "Every number below was measured in one run against the peer, on the same machine "
             "(2 cores, %s), with 2 threads. Ratios compare runs from the same session." % (f or {}).get("cpu", "x86_64"), ""]
    if f:
        a, p, o, port = f["anomalykit"], f["pytorch"], f["onnxruntime"], f.get("anomalykit_portable_kernels")
        lines += ["## Feature extraction: EfficientNet-Lite0, 224×224, batch 32", "",
                  "Command: `python3 Notebooks-export/scripts/bench_features.py` (after `swift build -c release`).", "",
                  "| engine | images/s | GFLOP/s | vs PyTorch | vs onnxruntime |", "|---|---|---|---|---|",
                  "| **AnomalyKit** (%s kernels) | **%.1f** | %.1f | %.2f× | %.2f× |" % (
                      KERNELS.get(a.get("kernels"), "AVX2/FMA"), a["images_per_second"], a["achieved_gflops"], f["anomalykit_vs_pytorch"], f["anomalykit_vs_onnxruntime"])]
        if port:
            lines.append("| AnomalyKit, portable kernels (`ANOMALYKIT_KERNELS=portable`: OpenBLAS sgemm + SSE2 depthwise) | %.1f | %.1f | %.2f× | %.2f× |" % (
                port["images_per_second"], port["achieved_gflops"], f["anomalykit_portable_vs_pytorch"], f["anomalykit_portable_vs_onnxruntime"]))
        lines += ["| onnxruntime %s (graph exported from the package's model code) | %.1f | %.1f | | 1× |" % (
                      f.get("onnxruntime_version", ""), o["images_per_second"], o["achieved_gflops"]),
                  "| PyTorch %s | %.1f | %.1f | 1× | |" % (f["torch"], p["images_per_second"], p["achieved_gflops"]), "",
                  "- Work per image: %.3f GFLOP counting a multiply-add as 2 FLOPs (%.0f M multiply-adds; the issue's "
                  "\"0.39 GFLOP\" counts multiply-adds)." % (a["gflop_per_image"], a["gflop_per_image"] / 2 * 1000),
                  "- Roofline: OpenBLAS sgemm 2048³ on 2 threads reached %.1f GFLOP/s in the same run; AnomalyKit's "
                  "forward pass runs at %.0f%% of it." % (f["sgemm_2048_gflops"], 100 * f["anomalykit_fraction_of_sgemm_peak"]),
                  "- onnxruntime's pooled features differ from PyTorch's by at most %.1e before its speed is trusted; "
                  "AnomalyKit's by at most 1e-5 (see the parity test)." % f["onnxruntime_max_abs_delta_pooled_vs_torch"], ""]
        fig, ax = plt.subplots(figsize=(6, 2.6))
        names = ["PyTorch", "onnxruntime", "AnomalyKit\nportable", "AnomalyKit"]
        vals = [p["images_per_second"], o["images_per_second"], port["images_per_second"] if port else 0, a["images_per_second"]]
        ax.barh(names, vals, color=["#999", "#999", "#7aa6d6", "#1f5fa8"])
        for i, v in enumerate(vals):
            ax.text(v + 2, i, "%.0f" % v, va="center")
        ax.set_xlabel("images/s (EfficientNet-Lite0, batch 32, 2 threads)")
        fig.tight_layout()
        fig.savefig(os.path.join(FIGURES, "speed-features.png"), dpi=110)
        plt.close(fig)
        lines += ["![Feature extraction throughput](figures/speed-features.png)", "",
                  "*Images per second for the same model on the same machine in one session; higher is better.*", ""]
    if k:
        a, fa = k["anomalykit"], k["faiss_IndexFlatL2"]
        lines += ["## Exact kNN: 50,000 × 1280 bank, 2,000 queries, k = 2", "",
                  "Command: `python3 Notebooks-export/scripts/bench_knn.py`.", "",
                  "| engine | queries/s | GFLOP/s | vs faiss |", "|---|---|---|---|",
                  "| **AnomalyKit** `NearestNeighbors` | **%.0f** | %.1f | %.2f× |" % (
                      a["queries_per_second"], a["gemm_gflops"], k["anomalykit_vs_faiss_queries_per_second"]),
                  "| faiss-cpu %s `IndexFlatL2` | %.0f | %.1f | 1× |" % (fa["version"], fa["queries_per_second"], fa["gemm_gflops"]), "",
                  "- Squared distances agree with faiss to %.1e relative." % k["max_relative_difference_of_distances"],
                  "- The sgemm 2048³ rate in the same run was %.1f GFLOP/s: both engines are GEMM-bound and within a few "
                  "percent of that roofline, so a 2× lead over this faiss is not possible for exact search." % k["sgemm_2048_gflops"],
                  "- End to end, `anomalykit score --bank BANK --from-npy QUERIES.npy` (bank memory-mapped from its "
                  "%.0f MB file) took %.2f s with a peak RSS of %.0f MB: the bank's bytes plus %.0f MB." % (
                      k["bank_file_bytes"] / 1e6, k["cli_score_seconds_end_to_end"], k["cli_score_peak_rss_bytes"] / 1e6,
                      k["cli_peak_rss_minus_bank_bytes"] / 1e6), ""]
    t = load("speed-text.json")
    if t:
        lines += text_encoder_section(t)
    # The face, landmark and HTTP-service sections after the block are written by hand (each names its results file).
    replace_blocks(os.path.join(ROOT, "performance.md"), {"performance": "\n".join(lines)}, create=True)


def text_encoder_section(t):
    """The text-encoder table from results/speed-text.json (bench_text.py, which also draws the figure)."""
    st = t["sentence_transformers"]
    rows = [("**AnomalyKit** `MiniLMEncoder` (%s kernels)" % KERNELS.get(t.get("anomalykit_kernels"), "AVX2/FMA"),
             t["anomalykit"], True),
            ("AnomalyKit, portable kernels (`ANOMALYKIT_KERNELS=portable`: per-sentence OpenBLAS sgemm, libm erff)",
             t["anomalykit_portable_kernels"], False)]
    if "anomalykit_baseline" in t:
        rows.append(("AnomalyKit before this change (per-sentence OpenBLAS sgemm, glibc erff)",
                     t["anomalykit_baseline"], False))
    rows.append(("sentence-transformers %s (torch %s, batch %d)" % (
        t["sentence_transformers_version"], t["torch"], t["sentence_transformers_batch"]), st, False))

    def cell(v, bold):
        return ("**%.0f**" if bold else "%.0f") % v

    lines = ["## Text encoder: all-MiniLM-L6-v2, %s queries" % format(t["sentences"], ","), "",
             ("Command: `python3 Notebooks-export/scripts/bench_text.py --baseline-bench OLD/anomalykit-bench` "
              "(after `swift build -c release`; `OLD` is a build of the commit before the encoder change)."
              if "anomalykit_baseline" in t else
              "Command: `python3 Notebooks-export/scripts/bench_text.py` (after `swift build -c release`)."), "",
             "| engine | sentences/s | GFLOP/s | GFLOP per CPU-second | vs sentence-transformers | of sgemm peak |",
             "|---|---|---|---|---|---|"]
    for name, r, bold in rows:
        lines.append("| %s | %s | %.1f | %s | %.2f× | %.0f%% |" % (
            name, cell(r["sentences_per_second"], bold), r["achieved_gflops"],
            "%.1f" % r["gflops_per_cpu_second"] if "gflops_per_cpu_second" in r else "–",
            r["sentences_per_second"] / st["sentences_per_second"], 100 * r["fraction_of_sgemm_peak"]))
    lines += ["",
              "- Data: `%s`, %.2f tokens per query on average (`[CLS]` and `[SEP]` included), %d threads. Each "
              "of %d rounds timed one pass of every engine back to back; the table gives medians over rounds "
              "(best rounds: AnomalyKit %.0f/s, sentence-transformers %.0f/s; median per-round ratio %.2f×)." % (
                  t["data"], t["mean_tokens_per_sentence"], t["threads"], t["rounds"],
                  t["anomalykit"]["best_sentences_per_second"], st["best_sentences_per_second"],
                  t["anomalykit_vs_sentence_transformers_median_of_rounds"]),
              "- Work: %.1f MFLOP per token in the linear layers (a multiply-add counts 2), %.0f MFLOP per query; "
              "attention adds about 1%% at this length and is not counted." % (
                  1000 * t["gflop_per_token"], 1000 * t["gflop_per_sentence"]),
              "- Roofline: OpenBLAS sgemm 2048³ on 2 threads reached %.1f GFLOP/s (best of the session), which bounds "
              "any FP32 engine here at %.0f queries/s. A 2× lead over sentence-transformers (≈ %.0f/s) would "
              "need more than that peak, so it is not reachable on this machine without giving up FP32 "
              "parity; the table reports the fraction of the peak instead." % (
                  t["sgemm_2048_gflops"], t["roofline_sentences_per_second"], 2 * st["sentences_per_second"]),
              "- Parity, checked before timing: AnomalyKit's raw (pooled) embeddings differ from "
              "sentence-transformers' by at most %.1e, the normalised ones by %.1e (the bound is 1e-4)." % (
                  t["max_abs_delta_raw_vs_sentence_transformers"],
                  t["max_abs_delta_normalized_vs_sentence_transformers"]),
              "- The machine is shared with other jobs, so wall-clock rates vary from run to run (in %d of the %d "
              "rounds the sgemm run reached under 75%% of its best: another job held a core); GFLOP per CPU-second "
              "(the process's CPU time%s) measures the work itself." % (
                  sum(g < 0.75 * t["sgemm_2048_gflops"] for g in t["sgemm_2048_gflops_runs"]), t["rounds"],
                  "; not reported by the old build" if "anomalykit_baseline" in t else ""), "",
              "![Text encoder throughput](figures/speed-text.png)", "",
              "*Queries per second for all-MiniLM-L6-v2 on the same machine in one session; the dashed line is "
              "the sgemm-peak bound. Higher is better.*", ""]
    return lines


def cifar10():
    # One-class runs only: cifar10-multilayer.json and cifar10-imagenet-map.json (the cold-start class map)
    # have no per-scorer results.
    runs = {os.path.basename(p)[8:-5]: json.load(open(p)) for p in sorted(glob.glob(os.path.join(RESULTS, "cifar10-*.json")))}
    runs = {k: r for k, r in runs.items() if "scorers" in r}
    if not runs:
        return
    order = ["lite0-none", "lite0-sqrt", "lite0-flip-sqrt", "efficientnet-lite2-sqrt"]
    label = {"lite0-none": "Lite0, raw features", "lite0-sqrt": "Lite0, sqrt (default)",
             "lite0-flip-sqrt": "Lite0, sqrt + flip averaging", "efficientnet-lite2-sqrt": "Lite2 (260 px), sqrt"}
    scorers = ["knn", "cosine-knn", "mean-shifted", "angular-center", "gaussian"]
    lines = ["# One-class CIFAR-10", "",
             "Protocol (DN2 / PANDA / MSC): fit on the 500 training images of one class, score all 2,000 test "
             "images (200 per class), label = not that class; mean AUROC over the 10 classes. Images are "
             "stretched 32 → 224 (`--resize stretch`); the data are `../shared/data/images/cifar10` (decoded "
             "from a JPEG copy, so numbers can differ slightly from the original pixels).", "",
             "## Mean AUROC (%) by scorer", "",
             "| features | " + " | ".join(scorers) + " | command |", "|---|" + "---|" * (len(scorers) + 1)]
    for key in order:
        if key not in runs:
            continue
        r = runs[key]
        cells = ["%.2f" % (100 * r["scorers"][s]["mean_auroc"]) if s in r["scorers"] else "" for s in scorers]
        lines.append("| %s | %s | `%s` |" % (label.get(key, key), " | ".join(cells), r["command"].strip()))
    cos = {k: 100 * r["scorers"]["cosine-knn"]["mean_auroc"] for k, r in runs.items() if "cosine-knn" in r["scorers"]}
    if {"lite0-none", "lite0-sqrt", "lite0-flip-sqrt"} <= set(cos):
        lines += ["", "## Closing the gap without training", "",
                  "Anchors: DN2 ≈ 92.5 (ResNet, recalled), PANDA 96.2 (fine-tuned ResNet-152); the issue author's PyTorch "
                  "run of EfficientNet-Lite0 cosine kNN on 200/100 images per class gave 88.9. Cosine kNN here:", "",
                  "| step | mean AUROC | gain |", "|---|---|---|",
                  "| raw pooled features | %.2f | |" % cos["lite0-none"],
                  "| + signed square root (default) | %.2f | %+.2f |" % (cos["lite0-sqrt"], cos["lite0-sqrt"] - cos["lite0-none"]),
                  "| + flip averaging (`--flip-average`) | %.2f | %+.2f |" % (cos["lite0-flip-sqrt"], cos["lite0-flip-sqrt"] - cos["lite0-sqrt"])]
        if "efficientnet-lite2-sqrt" in cos:
            lines.append("| EfficientNet-Lite2 at 260 px instead of Lite0 (sqrt) | %.2f | %+.2f vs Lite0 |" % (
                cos["efficientnet-lite2-sqrt"], cos["efficientnet-lite2-sqrt"] - cos["lite0-sqrt"]))
        lines += ["", "The goal of 92.5 is **not reached**: the best shipped configuration (Lite0, sqrt, flip averaging) "
                  "gives %.2f." % cos["lite0-flip-sqrt"]]
        if "efficientnet-lite2-sqrt" in cos:
            lines[-1] += (" Lite2 is not shipped: a larger network at 260 px, it moves cosine kNN by %+.2f points here "
                          "(build it with `python3 Weights/convert.py efficientnet-lite2 --out "
                          "/tmp/lite2/efficientnet-lite2.safetensors`)." % (cos["efficientnet-lite2-sqrt"] - cos["lite0-sqrt"]))
    ml = load("cifar10-multilayer.json")
    if ml:
        lines += ["", "## Multi-layer features", "",
                  "Globally pooled stage maps concatenated to the head feature (each part L2-normalised), cosine kNN, "
                  "scored in numpy on AnomalyKit's features (`%s`):" % ml["command"], "",
                  "| features | mean AUROC |", "|---|---|"]
        for k, v in ml["mean_auroc"].items():
            lines.append("| %s | %.2f |" % (k, 100 * v))
        lines += ["", "Earlier stages add nothing on CIFAR-10's semantic anomalies, so the toolkit does not offer them "
                  "for image banks."]
    base = runs.get("lite0-sqrt")
    if base:
        classes = list(base["scorers"]["cosine-knn"]["per_class_auroc"].keys())
        lines += ["", "## Per class (AUROC %, default features: Lite0 + sqrt)", "",
                  "| class | " + " | ".join(scorers) + " |", "|---|" + "---|" * len(scorers)]
        for c in classes:
            lines.append("| %s | %s |" % (c, " | ".join("%.1f" % (100 * base["scorers"][s]["per_class_auroc"][c]) for s in scorers)))
        par = base.get("numpy_parity", {})
        lines += ["", "## Parity with numpy", "",
                  "The same features scored by numpy (`eval_cifar10.py` recomputes the sums of squared distances):", ""]
        for s, v in par.items():
            lines.append("- `%s`: AnomalyKit %.4f, numpy %.4f, difference %.5f points (bound: 0.3)." % (
                s, 100 * v["anomalykit_mean_auroc"], 100 * v["numpy_mean_auroc"], v["difference_points"]))
        fig, ax = plt.subplots(figsize=(8, 3.2))
        import numpy as np
        x = np.arange(len(classes))
        width = 0.8 / 3
        for i, key in enumerate(["lite0-none", "lite0-sqrt", "lite0-flip-sqrt"]):
            if key in runs:
                ax.bar(x + (i - 1) * width, [100 * runs[key]["scorers"]["cosine-knn"]["per_class_auroc"][c] for c in classes],
                       width, label=label[key])
        ax.set_xticks(x)
        ax.set_xticklabels(classes, rotation=30)
        ax.set_ylim(70, 100)
        ax.set_ylabel("AUROC (%)")
        ax.legend(fontsize=8, loc="lower right")
        ax.set_title("One-class CIFAR-10, cosine kNN (k = 2)")
        fig.tight_layout()
        fig.savefig(os.path.join(FIGURES, "cifar10-per-class.png"), dpi=110)
        plt.close(fig)
        lines += ["", "![Per-class AUROC](figures/cifar10-per-class.png)", "",
                  "*Per-class AUROC of cosine kNN on raw pooled features, with the signed square root, and with flip "
                  "averaging as well.*", ""]
    write("cifar10.md", "\n".join(lines))


def magnetic_tile():
    runs = [json.load(open(p)) for p in sorted(glob.glob(os.path.join(RESULTS, "magnetic-tile-*.json")))]
    if not runs:
        return
    lines = ["# Magnetic Tile: patch banks, detection and localisation", "",
             "Protocol: fit a patch bank on a seeded 80% of `MT_Free` (762 images), then score the other 190 "
             "normals and all 392 defect images. Image AUROC uses the image scores (max over locations); pixel "
             "AUROC compares the per-location maps, upsampled bilinearly to each image and smoothed with a "
             "Gaussian (σ = 4 px at 224), with the masks thresholded at 128 (normal images count as all-zero "
             "masks; every 4th pixel in each direction).", "",
             "Anchor measured by the issue author with a PyTorch PatchCore-style recipe (same blocks, random 10% "
             "bank): 94.2 image AUROC. The goal of 97 is not reached; the best row is greedy 3% with sqrt.", "",
             "| input | stages | scorer | bank | transform | image AUROC | pixel AUROC | fit s | score s | command |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in sorted(runs, key=lambda r: -r["image_auroc"]):
        bank = "%s %g%%" % (r.get("coreset_method", "greedy"), 100 * r["coreset"])
        default = (r.get("input_size", 224) == 224 and r["stages"] == [3, 5] and r["coreset"] == 0.01
                   and r.get("coreset_method") == "greedy" and r.get("transform") == "sqrt" and r["scorer"] == "knn")
        lines.append("| %d | %s | %s | %s | %s%s | %.1f | %.1f | %.0f | %.0f | `%s` |" % (
            r.get("input_size", 224), "+".join(map(str, r["stages"])), r["scorer"], bank, r.get("transform", "none"),
            " **(default)**" if default else "",
            100 * r["image_auroc"], 100 * r["pixel_auroc"], r["fit_seconds"], r["score_seconds"], r["command"]))
    lines += ["", "Fit times of the greedy 1%/3%/10% rows with sqrt come from the current coreset code, which prunes "
              "with the triangle inequality; the other rows were measured before that change (about 1.5–2× slower "
              "fits, and a different random first row, which moves AUROC by a few tenths)."]
    best = max(runs, key=lambda r: r["image_auroc"])
    lines += ["", "Per defect type (image AUROC %%, best row): %s." % ", ".join(
        "%s %.1f" % (k[3:], 100 * v) for k, v in best["per_defect_image_auroc"].items()), ""]
    gallery = sorted(glob.glob(os.path.join(FIGURES, "magnetic-tile", "*.png")))
    if gallery:
        lines += ["## Heatmaps", "", "From the default configuration (stages 3+5, greedy 1%, sqrt). One colour "
                  "scale for the run: blue is the median location score, red the 99.5th percentile (the evaluation "
                  "bank has no threshold). Five defect images (blowhole, break, crack, fray, uneven) and one normal.", ""]
        for g in gallery:
            lines.append("![%s](%s)" % (os.path.basename(g), os.path.relpath(g, ROOT)))
        lines.append("")
    write("magnetic-tile.md", "\n".join(lines))


def readme():
    """The README's figures that come from results files (each names its file)."""
    blocks = {}
    t = load("speed-text.json")
    if t:
        blocks["text-speed"] = ("%.0f queries/s on %d threads, %.2f× sentence-transformers in the same run "
                                "(`Notebooks-export/results/speed-text.json`)" % (
                                    t["anomalykit"]["sentences_per_second"], t["threads"],
                                    t["anomalykit"]["sentences_per_second"] / t["sentence_transformers"]["sentences_per_second"]))
    sq, no = load("cifar10-lite0-sqrt.json"), load("cifar10-lite0-none.json")
    mt = {x: load("magnetic-tile-input224-stages35-coreset0.01-knn-%s.json" % x) for x in ("sqrt", "none")}
    if sq and no and mt["sqrt"] and mt["none"]:
        blocks["sqrt-transform"] = sqrt_transform_prose(sq, no, mt["sqrt"], mt["none"])
    missing = {"text-speed", "sqrt-transform"} - set(blocks)
    if missing:
        sys.exit("make_reports.py: no results for README block(s) %s" % ", ".join(sorted(missing)))
    replace_blocks(README, blocks)


def sqrt_transform_prose(sq, no, mt_sqrt, mt_none):
    """The "why" of the default `--transform sqrt`: sqrt vs none per CIFAR-10 scorer and on Magnetic Tile patches."""
    names = {"knn": "kNN", "cosine-knn": "cosine kNN", "gaussian": "Gaussian", "angular-center": "angular center",
             "mean-shifted": "mean-shifted"}
    d = {s: 100 * (sq["scorers"][s]["mean_auroc"] - no["scorers"][s]["mean_auroc"])
         for s in sq["scorers"] if s in no["scorers"]}
    up = sorted((s for s in d if d[s] > 0), key=lambda s: -d[s])
    down = sorted((s for s in d if d[s] <= 0), key=lambda s: d[s])

    def listing(keys):
        items = ["%s (%s%.1f)" % (names.get(s, s), "+" if d[s] > 0 else "−", abs(d[s])) for s in keys]
        return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]

    text = ("Pooled ReLU6 features are bursty. On one-class CIFAR-10 (mean AUROC points, "
            "`Notebooks-export/results/cifar10-lite0-sqrt.json` vs `cifar10-lite0-none.json`) the square root ")
    if up:
        text += "raises " + listing(up)
    if down:
        text += (" but " if up else "") + "lowers " + listing(down)
    if down:
        text += ", so pass `--transform none` with %s" % ("that scorer" if len(down) == 1 else "those scorers")
    image = 100 * (mt_sqrt["image_auroc"] - mt_none["image_auroc"])
    pixel = 100 * (mt_sqrt["pixel_auroc"] - mt_none["pixel_auroc"])

    def change(x):
        return ("adds %.1f" if x > 0 else "costs %.1f") % abs(x)

    text += (". On Magnetic Tile patches (stages 3 + 5, greedy 1%%, kNN) it %s image-AUROC points and %s "
             "pixel-AUROC points (`Notebooks-export/results/magnetic-tile-input224-stages35-coreset0.01-knn-sqrt.json` vs "
             "`…-knn-none.json`)" % (change(image), change(pixel)))
    text += (". Across four industrial sets it helps Magnetic Tile but costs MVTec screw 14.7 image-AUROC points "
             "(`results/industrial-lodo.json`), so patch banks default to `none` (leave-one-dataset-out, "
             "[industrial.md](Notebooks-export/industrial.md))")
    return text + "."


if __name__ == "__main__":
    os.makedirs(FIGURES, exist_ok=True)
    performance()
    cifar10()
    magnetic_tile()
    readme()
