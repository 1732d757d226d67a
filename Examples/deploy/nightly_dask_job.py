#!/usr/bin/env python3
"""A nightly batch: score every new image against a (sharded) bank on Dask.

    python3 Examples/deploy/nightly_dask_job.py --scheduler tcp://dask:8786 \
        --manifest /banks/shards/manifest.json --images /data/2026-12-04 --out /results/2026-12-04.csv

Every worker needs the `anomalykit` binary (ANOMALYKIT_BIN, or the image
built from Examples/deploy/Dockerfile with `pip install
Integrations/dask` added), the bank files and the images at the same paths,
and --workdir on storage they all share. Start workers with one thread per
core (`dask worker --nthreads 1 --nworkers N`): each task runs the CLI
with --threads 1.
"""
import argparse
import csv
import os

from distributed import Client

import anomalykit_dask as akd


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scheduler", required=True, help="Dask scheduler address")
    p.add_argument("--manifest", help="a sharded bank's manifest.json")
    p.add_argument("--bank", help="or a whole bank file")
    p.add_argument("--images", required=True, help="folder of new images")
    p.add_argument("--workdir", required=True, help="shared scratch folder")
    p.add_argument("--out", required=True, help="CSV of path,score,anomalous")
    a = p.parse_args()
    images = sorted(
        os.path.join(root, f) for root, _, files in os.walk(a.images) for f in files if f.lower().endswith((".png", ".jpg", ".jpeg"))
    )
    with Client(a.scheduler) as client:
        if a.manifest:
            rows = akd.score_sharded(images, a.manifest, client, workdir=a.workdir)
        else:
            rows = akd.score_many(images, a.bank, client, workdir=a.workdir)
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["path", "score", "anomalous"])
        for r in rows:
            w.writerow([r["path"], r["score"], r["anomalous"]])
    print(f"scored {len(rows)} images, {sum(1 for r in rows if r['anomalous'])} anomalous -> {a.out}")


if __name__ == "__main__":
    main()
