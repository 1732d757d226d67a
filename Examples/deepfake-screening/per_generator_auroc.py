#!/usr/bin/env python3
"""AUROC per generator and verdict rates from `anomalykit deepfake score --json`. Standard library only.

An image is generated when its path has a `fake` folder (.../<dataset>/fake/<generator>/x.png); its
generator is `<dataset>/<generator>`. Every other image is a real photo."""
import json
import random
import sys
from pathlib import Path


def auroc(real, generated):
    # Mann-Whitney U: probability that a generated image outscores a real one (ties count half).
    wins = sum((g > r) + 0.5 * (g == r) for g in generated for r in real)
    return wins / (len(real) * len(generated))


rows = json.load(open(sys.argv[1]))
real, by_gen, flagged_real, flagged_gen = [], {}, 0, 0
for row in rows:
    p = Path(row["path"])
    if p.parent.parent.name == "fake":
        by_gen.setdefault(f"{p.parent.parent.parent.name}/{p.parent.name}", []).append(row["score"])
        flagged_gen += row["generated"]
    else:
        real.append(row["score"])
        flagged_real += row["generated"]

print(f"{'generator':<34}{'n':>5}{'AUROC':>8}")
for name in sorted(by_gen):
    print(f"{name:<34}{len(by_gen[name]):>5}{auroc(real, by_gen[name]):>8.3f}")
generated = [s for v in by_gen.values() for s in v]
print(f"{'all generated':<34}{len(generated):>5}{auroc(real, generated):>8.3f}   (vs {len(real)} held-out real photos)")
rng = random.Random(0)
boots = sorted(
    auroc([rng.choice(real) for _ in real], [rng.choice(generated) for _ in generated]) for _ in range(200))
print(f"95% bootstrap interval of the overall AUROC (200 resamples, seed 0): [{boots[4]:.3f}, {boots[194]:.3f}]")
print(f"flagged as generated at the detector's threshold: {flagged_gen}/{len(generated)} generated, "
      f"{flagged_real}/{len(real)} real")
