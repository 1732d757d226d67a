#!/usr/bin/env python3
"""AUROC per generator from `anomalykit eval --scores-out` (path,label,score). Standard library only.

The generator is the folder a generated image sits in (.../<dataset>/fake/<generator>/x.png)."""
import csv
import random
import sys
from pathlib import Path


def auroc(normal, anomalous):
    # Mann-Whitney U: probability that a generated image outscores a real one (ties count half).
    wins = sum((a > n) + 0.5 * (a == n) for a in anomalous for n in normal)
    return wins / (len(normal) * len(anomalous))


real, by_gen = [], {}
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        score = float(row["score"])
        if row["label"] == "0":
            real.append(score)
        else:
            p = Path(row["path"])
            key = f"{p.parent.parent.parent.name}/{p.parent.name}"
            by_gen.setdefault(key, []).append(score)

print(f"{'generator':<32}{'n':>5}{'AUROC':>8}")
for name in sorted(by_gen):
    print(f"{name:<32}{len(by_gen[name]):>5}{auroc(real, by_gen[name]):>8.3f}")
everything = [s for v in by_gen.values() for s in v]
print(f"{'all generated':<32}{len(everything):>5}{auroc(real, everything):>8.3f}   (vs {len(real)} held-out real photos)")


def fast_auroc(normal, anomalous):
    # The same statistic by ranks (O(n log n)), for the bootstrap.
    pooled = sorted([(s, 0) for s in normal] + [(s, 1) for s in anomalous])
    rank_sum, i = 0.0, 0
    while i < len(pooled):
        j = i
        while j + 1 < len(pooled) and pooled[j + 1][0] == pooled[i][0]:
            j += 1
        rank_sum += ((i + j) / 2 + 1) * sum(lab for _, lab in pooled[i:j + 1])
        i = j + 1
    n1, n0 = len(anomalous), len(normal)
    return (rank_sum - n1 * (n1 + 1) / 2) / (n0 * n1)


rng = random.Random(0)
boot = sorted(fast_auroc(rng.choices(real, k=len(real)), rng.choices(everything, k=len(everything))) for _ in range(1000))
print(f"95% bootstrap interval of the overall AUROC (1000 resamples of reals and fakes, seed 0): [{boot[24]:.3f}, {boot[974]:.3f}]")
