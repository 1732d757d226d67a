#!/usr/bin/env python3
"""kNN on a bfloat16 bank against faiss, same data, same run.

The data of bench_knn.py: a 50,000 x 1280 float32 bank and 2,000 queries
(seeded Gaussian clusters), k = 2, 2 threads. Timed, best of 3, the search
alone with inputs in memory:

- anomalykit float32 (`anomalykit-bench knn`, sgemm + float32 re-measure);
- anomalykit bfloat16 bank (`anomalykit-bench knn --bank-dtype bf16`:
  queries rounded to BF16, AVX-512 BF16 dot products with float32
  accumulation, k + 16 candidates re-ranked in float32);
- faiss IndexFlatL2 (float32), IndexScalarQuantizer with QT_fp16 and QT_8bit.

Recall@k is measured against exact float64 neighbours (numpy), as the share
of each query's true k nearest rows found. For the bfloat16 bank it is also
measured against the exact neighbours of the bank as stored (its rows
rounded to bfloat16): that is what the search itself can be asked for, the
rest is lost by rounding the rows. Bank memory is the bytes each
index holds for the rows (faiss: its codes; anomalykit: the bank file's
`features` tensor).

Setup: pip install faiss-cpu numpy; swift build -c release
Run:   python3 Notebooks-export/scripts/bench_knn_bf16.py
Writes Notebooks-export/results/knn-bf16-benchmark.json.
"""
import json
import os
import subprocess
import tempfile
import time

import numpy as np

import bench_knn
from bench_knn import D, K, N, Q, THREADS

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def exact_neighbours(bank, queries, k):
    b = bank.astype(np.float64)
    bn = (b * b).sum(1)
    out = np.empty((len(queries), k), dtype=np.int64)
    for s in range(0, len(queries), 250):
        q = queries[s : s + 250].astype(np.float64)
        d = (q * q).sum(1)[:, None] + bn[None, :] - 2 * q @ b.T
        out[s : s + 250] = np.argsort(d, axis=1)[:, :k]
    return out


def to_bf16(x):
    """float32 -> bfloat16 -> float32, rounding to nearest even (as ak_f32_to_bf16)."""
    u = x.view(np.uint32).astype(np.uint64)
    u = (u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000
    return u.astype(np.uint32).view(np.float32)


def recall(found, truth):
    return float(np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth)]))


def main():
    import faiss

    bank, queries = bench_knn.data()
    work = tempfile.mkdtemp(prefix="anomalykit-knn-bf16-")
    np.save(os.path.join(work, "bank.npy"), bank)
    np.save(os.path.join(work, "queries.npy"), queries)
    truth = exact_neighbours(bank, queries, K)
    truth_stored_bf16 = exact_neighbours(to_bf16(bank), queries, K)

    faiss.omp_set_num_threads(THREADS)
    result = {"bank": [N, D], "queries": Q, "k": K, "threads": THREADS, "faiss_version": faiss.__version__,
              "command": "python3 Notebooks-export/scripts/bench_knn_bf16.py"}

    def run_faiss(name, index):
        if not index.is_trained:
            index.train(bank)
        index.add(bank)
        best = float("inf")
        for _ in range(3):
            t0 = time.perf_counter()
            _, fi = index.search(queries, K)
            best = min(best, time.perf_counter() - t0)
        codes = faiss.serialize_index(index).nbytes
        result[name] = {"queries_per_second": Q / best, "best_seconds": best, "recall_at_k": recall(fi, truth), "index_bytes": int(codes)}

    run_faiss("faiss_IndexFlatL2", faiss.IndexFlatL2(D))
    run_faiss("faiss_SQfp16", faiss.IndexScalarQuantizer(D, faiss.ScalarQuantizer.QT_fp16))
    run_faiss("faiss_SQ8", faiss.IndexScalarQuantizer(D, faiss.ScalarQuantizer.QT_8bit))

    bench = os.path.join(REPO, ".build", "release", "anomalykit-bench")
    for name, extra in (("anomalykit_f32", []), ("anomalykit_bf16", ["--bank-dtype", "bf16"])):
        out = os.path.join(work, f"{name}.npy")
        r = json.loads(subprocess.check_output(
            [bench, "knn", os.path.join(work, "bank.npy"), os.path.join(work, "queries.npy"), "--k", str(K),
             "--threads", str(THREADS), "--distances-out", out, *extra]))
        rows = np.load(out.replace(".npy", ".rows.npy"))
        r["recall_at_k"] = recall(rows, truth)
        if extra:
            r["recall_at_k_vs_stored_rows"] = recall(rows, truth_stored_bf16)
            r["recall_at_k_of_exact_search_on_stored_rows"] = recall(truth_stored_bf16, truth)
        r["bank_bytes"] = N * D * (2 if extra else 4)
        result[name] = r

    # The CLI end to end: the bank files' sizes.
    cli = os.path.join(REPO, ".build", "release", "anomalykit")
    for dtype in ("f32", "bf16"):
        path = os.path.join(work, f"bank-{dtype}.safetensors")
        subprocess.run([cli, "fit", "--from-npy", os.path.join(work, "bank.npy"), "--scorer", "knn", "--holdout", "0",
                        "--bank-dtype", dtype, "--out", path], check=True, capture_output=True)
        result[f"bank_file_bytes_{dtype}"] = os.path.getsize(path)

    flat = result["faiss_IndexFlatL2"]["queries_per_second"]
    for name in ("anomalykit_f32", "anomalykit_bf16", "faiss_SQfp16", "faiss_SQ8"):
        result[f"{name}_vs_faiss_IndexFlatL2"] = result[name]["queries_per_second"] / flat
    out = os.path.join(REPO, "Notebooks-export", "results", "knn-bf16-benchmark.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=2, sort_keys=True)
    print(json.dumps(result, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
