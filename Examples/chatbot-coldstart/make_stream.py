#!/usr/bin/env python3
"""Build the contaminated stream and the fixed test set from Banking77-OOS (official layout). Standard library only.

make_stream.py DATA_DIR OUT_DIR [--chunks 5] [--contamination 0.05] [--seed 0]

Writes into OUT_DIR (nothing is written into the repository):
  stream-1.txt .. stream-K.txt  all train queries + round(c*N) out-of-scope queries from id-oos/valid, shuffled, in K chunks
  stream-labels.txt             0/1 per stream line (1 = out of scope), for reporting only: the detector never sees it
  test.txt, test-labels.txt     test/seq.in (normal, 0) then id-oos/test/seq.in (out of scope, 1)
"""
import argparse
import random
from pathlib import Path


def lines(path):
    return [t.strip() for t in Path(path).read_text(encoding="utf-8").splitlines() if t.strip()]


ap = argparse.ArgumentParser()
ap.add_argument("data")
ap.add_argument("out")
ap.add_argument("--chunks", type=int, default=5)
ap.add_argument("--contamination", type=float, default=0.05)
ap.add_argument("--seed", type=int, default=0)
a = ap.parse_args()
data, out = Path(a.data), Path(a.out)
rng = random.Random(a.seed)

normal = lines(data / "train/seq.in")
pool = lines(data / "id-oos/valid/seq.in")
n_anom = round(a.contamination * len(normal))
stream = [(t, 0) for t in normal] + [(t, 1) for t in rng.sample(pool, n_anom)]
rng.shuffle(stream)

size = -(-len(stream) // a.chunks)
for k in range(a.chunks):
    part = stream[k * size:(k + 1) * size]
    (out / f"stream-{k + 1}.txt").write_text("".join(t + "\n" for t, _ in part), encoding="utf-8")
(out / "stream-labels.txt").write_text("".join(f"{y}\n" for _, y in stream))

test_normal, test_anom = lines(data / "test/seq.in"), lines(data / "id-oos/test/seq.in")
(out / "test.txt").write_text("".join(t + "\n" for t in test_normal + test_anom), encoding="utf-8")
(out / "test-labels.txt").write_text("0\n" * len(test_normal) + "1\n" * len(test_anom))
print(f"stream: {len(stream)} queries ({len(normal)} in scope + {n_anom} out of scope, seed {a.seed}) in {a.chunks} chunks of <= {size}")
print(f"test:   {len(test_normal)} in-scope + {len(test_anom)} out-of-scope queries")
