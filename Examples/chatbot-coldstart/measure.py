#!/usr/bin/env python3
"""One table row from `anomalykit score --detector ... --text-file test.txt --json`. Standard library only.

measure.py LABEL SCORES.json TEST_LABELS.txt
Prints: LABEL, AUROC, and at the detector's own threshold the share of out-of-scope (TPR) and in-scope (FPR) test queries flagged."""
import json
import sys

label, scores_path, labels_path = sys.argv[1:4]
rows = json.load(open(scores_path, encoding="utf-8"))
y = [int(t) for t in open(labels_path).read().split()]
if len(rows) != len(y):
    sys.exit(f"error: {scores_path} has {len(rows)} scores but {labels_path} has {len(y)} labels")

# AUROC by ranks (Mann-Whitney U, ties get their average rank).
order = sorted(range(len(rows)), key=lambda i: rows[i]["score"])
rank = [0.0] * len(rows)
i = 0
while i < len(order):
    j = i
    while j + 1 < len(order) and rows[order[j + 1]]["score"] == rows[order[i]]["score"]:
        j += 1
    for k in range(i, j + 1):
        rank[order[k]] = (i + j) / 2 + 1
    i = j + 1
n1 = sum(y)
n0 = len(y) - n1
auroc = (sum(r for r, t in zip(rank, y) if t) - n1 * (n1 + 1) / 2) / (n0 * n1)

flags = [r["anomalous"] for r in rows]
if any(f is None for f in flags):
    tpr = fpr = "   -  "
else:
    tpr = f"{100 * sum(f for f, t in zip(flags, y) if t) / n1:5.1f}%"
    fpr = f"{100 * sum(f for f, t in zip(flags, y) if not t) / n0:5.1f}%"
print(f"{label:<26}{100 * auroc:7.1f}   {tpr:>7}   {fpr:>7}")
