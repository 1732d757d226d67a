#!/usr/bin/env python3
"""Batch scoring beyond one process: 1 vs 2 Dask workers, and the
integration's overhead against the CLI run directly, in the same run.

Data: MVTec AD bottle (../shared/data/industrial/mvtec-bottle): a patch bank
(the industrial default recipe with a random 1% coreset) fitted on the 209
train/good images, then all 292 train and test images scored.

Measured, each the median of 3 runs, every anomalykit process held to one
thread (--threads 1):
- direct:        one `anomalykit score --bank BANK --inputs-from LIST --json --threads 1`;
- score_many_W_cC: score_many on a LocalCluster of W worker processes (1
                 thread each), C images per task (32, and 146 = half the images);
- direct_shard:  `score --features-out` once, `score --from-features
                 --neighbours-out` on each of 2 shards, then merge-scores;
- direct_shard_reextract: the same with each shard extracting the images
                 itself (`score --inputs-from --neighbours-out`);
- sharded_1:     score_sharded over the same 2 shards on 1 worker (features
                 shared, as direct_shard);
- merge:         merge-scores alone for the 292 images x 1,600 locations.
Scores from every path are checked equal to the direct ones.

Setup: swift build -c release; pip install 'dask[distributed]'
Run:   python3 Notebooks-export/scripts/bench_scale.py
Writes Notebooks-export/results/scale.json.
"""
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Integrations", "dask"))
BIN = os.path.join(REPO, ".build", "release", "anomalykit")
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "industrial", "mvtec-bottle"))
CHUNKS = (32, 146)
REPEATS = 3


def cli(*args):
    proc = subprocess.run([BIN, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"anomalykit {' '.join(args[:3])}: {proc.stderr}")
    return proc.stdout


def timed(fn):
    times, result = [], None
    for _ in range(REPEATS):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times, result


def main():
    from distributed import Client, LocalCluster

    import anomalykit_dask as akd

    work = tempfile.mkdtemp(prefix="anomalykit-scale-")
    train = sorted(os.path.join(DATA, "train", "good", f) for f in os.listdir(os.path.join(DATA, "train", "good")))
    test = sorted(
        os.path.join(root, f) for root, _, files in os.walk(os.path.join(DATA, "test")) for f in files if f.endswith(".png")
    )
    images = train + test
    bank = os.path.join(work, "bank.safetensors")
    cli("fit", "--patches", *train, "--coreset-method", "random", "--holdout", "0", "--out", bank)
    listed = os.path.join(work, "images.txt")
    with open(listed, "w") as f:
        f.write("\n".join(images) + "\n")
    shards = os.path.join(work, "shards")
    cli("shard", "--bank", bank, "--shards", "2", "--out", shards)
    manifest = os.path.join(shards, "manifest.json")
    shard_files = akd.shard_paths(manifest)

    result = {"command": "python3 Notebooks-export/scripts/bench_scale.py", "images": len(images), "chunk_sizes": list(CHUNKS),
              "repeats": REPEATS, "machine": f"{os.cpu_count()} cores", "bank": json.loads(cli("info", bank, "--json"))["metadata"]["count"]}

    t, all_t, direct = timed(lambda: json.loads(cli("score", "--bank", bank, "--inputs-from", listed, "--json", "--threads", "1")))
    result["direct"] = {"seconds": t, "runs": all_t, "images_per_second": len(images) / t}

    def direct_sharded(share):
        outs = []
        features = os.path.join(work, "direct-features.safetensors")
        if share:
            cli("score", "--bank", shard_files[0], "--inputs-from", listed, "--features-out", features, "--threads", "1")
        for i, s in enumerate(shard_files):
            out = os.path.join(work, f"direct-{i}.npy")
            source = ["--from-features", features] if share else ["--inputs-from", listed]
            cli("score", "--bank", s, *source, "--neighbours-out", out, "--threads", "1")
            outs.append(out)
        return json.loads(cli("merge-scores", *outs, "--bank-meta", manifest, "--json"))

    for share, name in ((True, "direct_shard"), (False, "direct_shard_reextract")):
        t, all_t, merged = timed(lambda: direct_sharded(share))
        assert merged == direct, "sharded CLI scores differ from the whole bank's"
        result[name] = {"seconds": t, "runs": all_t, "images_per_second": len(images) / t}
    outs = [os.path.join(work, f"direct-{i}.npy") for i in range(len(shard_files))]
    t, all_t, _ = timed(lambda: cli("merge-scores", *outs, "--bank-meta", manifest, "--json"))
    result["merge"] = {"seconds": t, "runs": all_t, "queries": len(images) * 1600, "shards": len(shard_files)}

    for workers in (1, 2):
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, Client(cluster) as client:
            client.wait_for_workers(workers)
            for chunk in CHUNKS:
                t, all_t, got = timed(lambda: akd.score_many(images, bank, client, chunk_size=chunk, binary=BIN, workdir=work))
                assert got == direct, f"score_many with {workers} workers differs"
                result[f"score_many_{workers}_c{chunk}"] = {"seconds": t, "runs": all_t, "images_per_second": len(images) / t}
            if workers == 1:
                t, all_t, got = timed(lambda: akd.score_sharded(images, manifest, client, chunk_size=len(images), binary=BIN, workdir=work))
                assert got == direct, "score_sharded differs"
                result["sharded_1"] = {"seconds": t, "runs": all_t, "images_per_second": len(images) / t}

    for chunk in CHUNKS:
        result[f"speedup_2_vs_1_workers_c{chunk}"] = result[f"score_many_1_c{chunk}"]["seconds"] / result[f"score_many_2_c{chunk}"]["seconds"]
        result[f"overhead_score_many_1_c{chunk}_vs_direct"] = result[f"score_many_1_c{chunk}"]["seconds"] / result["direct"]["seconds"] - 1
    result["overhead_sharded_1_vs_direct_shard"] = result["sharded_1"]["seconds"] / result["direct_shard"]["seconds"] - 1
    out = os.path.join(REPO, "Notebooks-export", "results", "scale.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
    print(json.dumps(result, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
