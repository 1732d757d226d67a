#!/usr/bin/env python3
"""Exact kNN: AnomalyKit vs faiss-cpu IndexFlatL2, same data, same run.

A 50,000 x 1280 float32 bank and 2,000 queries (seeded standard normal plus a
per-cluster offset, so neighbours are not all equidistant), k = 2, 2 threads.
Both engines time the search alone, best of 3. Results are checked against
each other (squared distances within 1e-3 relative).

Then the CLI end to end: `anomalykit score --bank BANK --from-npy QUERIES`
on a bank written by `anomalykit fit --from-npy`, under /usr/bin/time -v,
to record peak RSS against the bank's size (the bank is memory-mapped).

Setup: pip install faiss-cpu numpy; swift build -c release
Run:   python3 Notebooks-export/scripts/bench_knn.py
Writes Notebooks-export/results/knn-benchmark.json.
"""
import json
import os
import re
import subprocess
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
N, D, Q, K, THREADS = 50_000, 1280, 2_000, 2, 2


def data():
    """The bank and queries: seeded Gaussian clusters (also bench_knn_bf16.py's)."""
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((100, D)).astype(np.float32) * 2
    bank = (centers[rng.integers(0, 100, N)] + rng.standard_normal((N, D))).astype(np.float32)
    queries = (centers[rng.integers(0, 100, Q)] + rng.standard_normal((Q, D))).astype(np.float32)
    return bank, queries


def main():
    import faiss
    bank, queries = data()
    work = tempfile.mkdtemp(prefix="anomalykit-knn-")
    np.save(os.path.join(work, "bank.npy"), bank)
    np.save(os.path.join(work, "queries.npy"), queries)

    faiss.omp_set_num_threads(THREADS)
    index = faiss.IndexFlatL2(D)
    index.add(bank)
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        fd, fi = index.search(queries, K)
        best = min(best, time.perf_counter() - t0)
    flops = 2.0 * Q * N * D
    faiss_result = {"queries_per_second": Q / best, "best_seconds": best, "gemm_gflops": flops / best / 1e9,
                    "version": faiss.__version__}

    bench = os.path.join(REPO, ".build", "release", "anomalykit-bench")
    ours = json.loads(subprocess.check_output(
        [bench, "knn", os.path.join(work, "bank.npy"), os.path.join(work, "queries.npy"), "--k", str(K),
         "--threads", str(THREADS), "--distances-out", os.path.join(work, "ours.npy")]))
    od = np.load(os.path.join(work, "ours.npy"))
    max_rel = float(np.max(np.abs(od - fd) / np.maximum(np.abs(fd), 1e-6)))

    sgemm = json.loads(subprocess.check_output([bench, "sgemm", "--threads", str(THREADS)]))["gflops"]

    cli = os.path.join(REPO, ".build", "release", "anomalykit")
    bank_file = os.path.join(work, "bank.safetensors")
    subprocess.run([cli, "fit", "--from-npy", os.path.join(work, "bank.npy"), "--scorer", "knn", "--holdout", "0",
                    "--out", bank_file], check=True, capture_output=True)
    t0 = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v", cli, "score", "--bank", bank_file, "--from-npy",
                        os.path.join(work, "queries.npy"), "--csv"], capture_output=True, text=True, check=True)
    cli_seconds = time.perf_counter() - t0
    rss_kb = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    bank_bytes = os.path.getsize(bank_file)

    result = {
        "bank": [N, D], "queries": Q, "k": K, "threads": THREADS, "data": "seeded Gaussian clusters (numpy default_rng(0))",
        "faiss_IndexFlatL2": faiss_result, "anomalykit": ours,
        "anomalykit_vs_faiss_queries_per_second": ours["queries_per_second"] / faiss_result["queries_per_second"],
        "max_relative_difference_of_distances": max_rel,
        "sgemm_2048_gflops": sgemm,
        "cli_score_seconds_end_to_end": cli_seconds,
        "cli_score_peak_rss_bytes": rss_kb * 1024, "bank_file_bytes": bank_bytes,
        "cli_peak_rss_minus_bank_bytes": rss_kb * 1024 - bank_bytes,
        "command": "python3 Notebooks-export/scripts/bench_knn.py",
    }
    out = os.path.join(REPO, "Notebooks-export", "results", "knn-benchmark.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
