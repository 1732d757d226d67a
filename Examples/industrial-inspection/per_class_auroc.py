#!/usr/bin/env python3
"""Image AUROC per defect class from `anomalykit eval --scores-out` (path,label,score). Standard library only.

per_class_auroc.py SCORES.csv [THRESHOLD]
With THRESHOLD (the bank's), it also prints how many images of each group score above it (are flagged)."""
import csv
import re
import sys


def auroc(normal, anomalous):
    # Mann-Whitney U: probability that an anomaly outscores a normal (ties count half).
    wins = sum((a > n) + 0.5 * (a == n) for a in anomalous for n in normal)
    return wins / (len(normal) * len(anomalous))


normal, by_class = [], {}
with open(sys.argv[1], newline="") as f:
    for row in csv.DictReader(f):
        score = float(row["score"])
        if row["label"] == "0":
            normal.append(score)
        else:
            m = re.search(r"(MT_[A-Za-z]+)", row["path"])
            by_class.setdefault(m.group(1) if m else "other", []).append(score)

threshold = float(sys.argv[2]) if len(sys.argv) > 2 else None


def flagged(scores):
    return "" if threshold is None else f"{sum(s > threshold for s in scores):>9}"


print(f"{'group':<14}{'n':>5}{'image AUROC':>13}{'' if threshold is None else '  flagged':}")
for name in sorted(by_class):
    print(f"{name:<14}{len(by_class[name]):>5}{100 * auroc(normal, by_class[name]):>13.1f}{flagged(by_class[name])}")
everything = [s for v in by_class.values() for s in v]
print(f"{'all defects':<14}{len(everything):>5}{100 * auroc(normal, everything):>13.1f}{flagged(everything)}")
print(f"{'held-out Free':<14}{len(normal):>5}{'':>13}{flagged(normal)}")
if threshold is not None:
    print(f"(flagged: score above the bank's threshold {threshold:g}, set from normal images only)")
