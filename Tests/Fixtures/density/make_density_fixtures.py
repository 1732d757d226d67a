#!/usr/bin/env python3
"""Regenerate the Density fixtures in Tests/Fixtures/density/.

Run from the repository root (numpy, scikit-learn and safetensors needed):

    /root/venv/bin/python Tests/Fixtures/density/make_density_fixtures.py

Writes `density.safetensors` (safetensors.numpy.save_file; F32 inputs, F64
expected values, I64 indices). Every expected value comes from numpy or
scikit-learn, never from the Swift code. Tensor names:

  metrics.<case>.scores      F32 [n]   scores (higher = more anomalous)
  metrics.<case>.labels      F32 [n]   1 = anomaly, 0 = normal
  metrics.<case>.thresholds  F32 [m]   thresholds for F1
  metrics.<case>.f1          F64 [m]   sklearn f1_score(labels, scores > t)
  metrics.<case>.summary     F64 [4]   roc_auc_score, average_precision_score,
                                       fpr[argmax(tpr >= 0.95)] from roc_curve
                                       (default drop_intermediate=True), the
                                       same with drop_intermediate=False
  metrics.<case>.quantiles   F64 [Q]   np.quantile(scores, q) (linear) at
  metrics.q                  F64 [Q]   these q
  cases: random, ties, all_tied, separating, inverted, tiny2, tiny3,
         one_positive, tie_blocks, collinear_ties (the one case where the
         two FPR@95%TPR variants differ: 0.4 vs 0.3)

  knn.*                      the nearest-neighbour reference. The bank
                             (1000 x 37) and queries (300 x 37) are NOT
                             stored: both sides generate them with SplitMix64
                             (see `splitmix_matrix`), seed 20240601, bank
                             first, then queries, row-major, each value
                             (next() >> 40) / 2**23 - 1 (exact in float32).
  knn.distances              F64 [300, 3]  3 smallest squared L2 distances
                                           (float64 brute force), ascending
  knn.indices                I64 [300, 3]  their bank rows (stable sort)

  scorer.bank                F32 [80, 24]  3 clusters with a common offset
  scorer.queries             F32 [30, 24]  10 inliers, 20 outliers
  scorer.knn / scorer.cosine-knn / scorer.mean-shifted / scorer.angular-center
                             F64 [30]      scores computed in float64 with
                                           numpy from the definitions (k = 2)

  gauss_small.bank           F32 [40, 64]  n < D, correlated
  gauss_small.queries        F32 [20, 64]
  gauss_small.shrinkage      F64 [1]       LedoitWolf().fit(bank).shrinkage_
  gauss_small.mean           F64 [64]      .location_
  gauss_small.scores         F64 [20]      .mahalanobis(queries) (squared)
  gauss_large.*              the same with n > D: bank F32 [300, 12],
                             queries F32 [25, 12], plus
  gauss_large.covariance     F64 [12, 12]  .covariance_

  knn.bank_sum               F64 [3]       bank.sum(), (bank * arange(37)).sum(),
                                           queries.sum(): confirms the Swift side
                                           generated the same data

The SplitMix64 reference outputs are not stored: `--splitmix` prints them and
they are hardcoded in Tests/DensityTests/ThresholdCalibrationTests.swift.

Other modes:

  --splitmix        print the first SplitMix64 outputs for seed 0 and the
                    Fisher-Yates permutation of 0..<10 for seed 0 (the values
                    hardcoded in Tests/DensityTests/ThresholdCalibrationTests.swift)
  --check-bank PATH open a bank written by the Swift BankFile with the Python
                    `safetensors` package and check its layout (see README.md)
"""

import json
import os
import struct
import sys

import numpy as np

MASK = (1 << 64) - 1
HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- SplitMix64
class SplitMix64:
    """Steele, Lea & Flood (2014), the reference `splitmix64.c`."""

    def __init__(self, seed):
        self.state = seed & MASK

    def next(self):
        self.state = (self.state + 0x9E3779B97F4A7C15) & MASK
        z = self.state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def permutation(self, n):
        """Fisher-Yates from the top, j = next() % (i + 1)."""
        a = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next() % (i + 1)
            a[i], a[j] = a[j], a[i]
        return a


def splitmix_matrix(rng, rows, cols):
    vals = [(rng.next() >> 40) / float(1 << 23) - 1.0 for _ in range(rows * cols)]
    return np.array(vals, dtype=np.float32).reshape(rows, cols)


def print_splitmix():
    rng = SplitMix64(0)
    print("SplitMix64 seed 0, first 5 outputs:")
    for _ in range(5):
        print(f"  0x{rng.next():016X}")
    print("SplitMix64(seed: 0).permutation(10):", SplitMix64(0).permutation(10))
    print("SplitMix64(seed: 42).permutation(7):", SplitMix64(42).permutation(7))


# ---------------------------------------------------------------- metrics
def metric_cases():
    rs = np.random.default_rng(7)
    cases = {}
    # random continuous scores, anomalies shifted up
    y = (rs.random(200) < 0.3).astype(np.float32)
    s = (rs.normal(size=200) + 1.2 * y).astype(np.float32)
    cases["random"] = (s, y)
    # many ties: scores on a coarse grid
    y = (rs.random(150) < 0.4).astype(np.float32)
    s = np.round(rs.normal(size=150) + 0.8 * y, 0).astype(np.float32) * np.float32(0.5)
    cases["ties"] = (s, y)
    # every score tied
    y = np.array([0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0], dtype=np.float32)
    cases["all_tied"] = (np.full(20, 0.5, dtype=np.float32), y)
    # perfect separation
    y = np.array([0] * 12 + [1] * 8, dtype=np.float32)
    s = np.concatenate([rs.random(12), 2 + rs.random(8)]).astype(np.float32)
    perm = rs.permutation(20)
    cases["separating"] = (s[perm], y[perm])
    # perfectly inverted
    cases["inverted"] = (-s[perm], y[perm])
    # tiny n
    cases["tiny2"] = (np.array([0.3, 0.7], dtype=np.float32), np.array([1, 0], dtype=np.float32))
    cases["tiny3"] = (np.array([0.1, 0.4, 0.4], dtype=np.float32), np.array([0, 1, 0], dtype=np.float32))
    # a single anomaly among many normals (TPR jumps 0 -> 1)
    y = np.zeros(50, dtype=np.float32)
    y[17] = 1
    cases["one_positive"] = (rs.normal(size=50).astype(np.float32), y)
    # tie groups with proportional (pos, neg) counts: collinear ROC points
    # that roc_curve's drop_intermediate removes
    s, y = [], []
    for value, pos, neg in [(5, 2, 0), (4, 1, 1), (3, 1, 1), (2, 1, 1), (1, 0, 4), (0, 15, 15)]:
        s += [value] * (pos + neg)
        y += [1] * pos + [0] * neg
    cases["tie_blocks"] = (np.array(s, dtype=np.float32), np.array(y, dtype=np.float32))
    # TPR reaches 0.95 in the middle of a collinear run of tied (1, 1) groups:
    # roc_curve(drop_intermediate=True) drops that point and reports the FPR
    # of the next kept point (0.4); on all points it is 0.3
    s, y = [], []
    for value, pos, neg in [(10, 16, 0), (9, 1, 1), (8, 1, 1), (7, 1, 1), (6, 1, 1), (0, 0, 6)]:
        s += [value] * (pos + neg)
        y += [1] * pos + [0] * neg
    cases["collinear_ties"] = (np.array(s, dtype=np.float32), np.array(y, dtype=np.float32))
    return cases


def metric_tensors(out):
    from sklearn.metrics import average_precision_score, f1_score, roc_auc_score, roc_curve

    qs = np.array([0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 1.0], dtype=np.float64)
    out["metrics.q"] = qs
    for name, (s, y) in metric_cases().items():
        yb = y.astype(bool)
        s64 = s.astype(np.float64)
        auroc = roc_auc_score(yb, s64)
        ap = average_precision_score(yb, s64)
        fpr, tpr, _ = roc_curve(yb, s64)
        fpr_all, tpr_all, _ = roc_curve(yb, s64, drop_intermediate=False)
        fpr95 = fpr[np.argmax(tpr >= 0.95)]
        fpr95_all = fpr_all[np.argmax(tpr_all >= 0.95)]
        uniq = np.unique(s)
        thresholds = np.unique(
            np.concatenate(
                [
                    [s.min() - np.float32(1), s.max(), np.float32(np.median(s))],
                    uniq[:: max(1, len(uniq) // 5)],
                ]
            ).astype(np.float32)
        )
        f1 = np.array([f1_score(yb, s > t, zero_division=0.0) for t in thresholds], dtype=np.float64)
        out[f"metrics.{name}.scores"] = s
        out[f"metrics.{name}.labels"] = y
        out[f"metrics.{name}.thresholds"] = thresholds
        out[f"metrics.{name}.f1"] = f1
        out[f"metrics.{name}.summary"] = np.array([auroc, ap, fpr95, fpr95_all], dtype=np.float64)
        out[f"metrics.{name}.quantiles"] = np.quantile(s64, qs, method="linear")
        if fpr95 != fpr95_all:
            print(f"note: metrics case {name}: FPR@95TPR {fpr95} (drop_intermediate) vs {fpr95_all} (all points)")


# ---------------------------------------------------------------- kNN
KNN_SEED = 20240601


def knn_tensors(out):
    rng = SplitMix64(KNN_SEED)
    bank = splitmix_matrix(rng, 1000, 37).astype(np.float64)
    queries = splitmix_matrix(rng, 300, 37).astype(np.float64)
    d = ((queries[:, None, :] - bank[None, :, :]) ** 2).sum(-1)
    order = np.argsort(d, axis=1, kind="stable")[:, :3]
    out["knn.distances"] = np.take_along_axis(d, order, axis=1)
    out["knn.indices"] = order.astype(np.int64)
    # a checksum so the Swift side can confirm it generated the same data
    out["knn.bank_sum"] = np.array([bank.sum(), (bank * np.arange(37)).sum(), queries.sum()], dtype=np.float64)


# ---------------------------------------------------------------- scorers
def normalize(x):
    n = np.linalg.norm(x, axis=1, keepdims=True)
    return np.where(n > 0, x / np.where(n > 0, n, 1), 0)


def knn_sum(q, b, k=2):
    d = ((q[:, None, :] - b[None, :, :]) ** 2).sum(-1)
    return np.sort(d, axis=1)[:, :k].sum(1)


def scorer_tensors(out):
    rs = np.random.default_rng(11)
    D = 24
    offset = rs.normal(size=D) * 2
    centers = rs.normal(size=(3, D)) * 1.5
    bank = np.concatenate([centers[i] + 0.4 * rs.normal(size=(27 if i < 2 else 26, D)) for i in range(3)]) + offset
    inl = centers[rs.integers(0, 3, 10)] + 0.4 * rs.normal(size=(10, D)) + offset
    outl = rs.normal(size=(20, D)) * 2.5 + offset * rs.uniform(0, 1.5, size=(20, 1))
    bank = bank.astype(np.float32)
    queries = np.concatenate([inl, outl]).astype(np.float32)
    b = bank.astype(np.float64)
    q = queries.astype(np.float64)
    bn, qn = normalize(b), normalize(q)
    c = bn.mean(0)
    out["scorer.bank"] = bank
    out["scorer.queries"] = queries
    out["scorer.knn"] = knn_sum(q, b)
    out["scorer.cosine-knn"] = knn_sum(qn, bn)
    out["scorer.mean-shifted"] = knn_sum(normalize(qn - c), normalize(bn - c))
    out["scorer.angular-center"] = 1 - qn @ c / np.linalg.norm(c)


def gaussian_tensors(out, name, n, d, nq, seed, with_cov):
    from sklearn.covariance import LedoitWolf

    rs = np.random.default_rng(seed)
    mix = rs.normal(size=(d, d)) / np.sqrt(d)
    scale = np.exp(rs.normal(size=d))
    mu = rs.normal(size=d) * 3
    bank = (rs.normal(size=(n, d)) @ mix * scale + mu).astype(np.float32)
    queries = (rs.normal(size=(nq, d)) @ mix * scale * 1.5 + mu + rs.normal(size=(nq, 1))).astype(np.float32)
    lw = LedoitWolf().fit(bank.astype(np.float64))
    out[f"{name}.bank"] = bank
    out[f"{name}.queries"] = queries
    out[f"{name}.shrinkage"] = np.array([lw.shrinkage_], dtype=np.float64)
    out[f"{name}.mean"] = lw.location_.astype(np.float64)
    out[f"{name}.scores"] = lw.mahalanobis(queries.astype(np.float64)).astype(np.float64)
    if with_cov:
        out[f"{name}.covariance"] = lw.covariance_.astype(np.float64)
    print(f"{name}: n={n} d={d} shrinkage={lw.shrinkage_:.6f}")


# ---------------------------------------------------------------- bank check
def check_bank(path):
    """Open a bank written by the Swift BankFile with the Python package."""
    from safetensors import safe_open
    from safetensors.numpy import load_file

    tensors = load_file(path)
    with safe_open(path, framework="numpy") as f:
        meta = f.metadata() or {}
    # the header is 8-byte aligned, so a memory map can be read in place
    with open(path, "rb") as fh:
        (hlen,) = struct.unpack("<Q", fh.read(8))
        header = json.loads(fh.read(hlen))
    assert (8 + hlen) % 8 == 0, f"data section starts at {8 + hlen}, not 8-byte aligned"
    assert meta.get("format") == "bank", meta
    assert meta.get("format_version") == "1", meta
    scorer = meta["scorer"]
    n, d = int(meta["count"]), int(meta["dimension"])
    feats = tensors["features"]
    assert feats.dtype == np.float32 and feats.shape == (n, d), (feats.dtype, feats.shape)
    assert np.isfinite(feats).all()
    assert int(meta["k"]) >= 1
    if scorer in ("cosine-knn", "mean-shifted", "angular-center"):
        assert meta["normalization"] == "l2"
        norms = np.linalg.norm(feats.astype(np.float64), axis=1)
        assert np.allclose(norms, 1, atol=1e-5), norms
        assert tensors["center"].shape == (d,)
        assert np.allclose(tensors["center"], feats.astype(np.float64).mean(0), atol=1e-6)
    else:
        assert meta["normalization"] == "none"
        assert "center" not in tensors
    if scorer == "gaussian":
        mean, chol = tensors["gaussian.mean"], tensors["gaussian.cholesky"]
        assert mean.dtype == np.float64 and mean.shape == (d,)
        assert chol.dtype == np.float64 and chol.shape == (d, d)
        assert np.allclose(mean, feats.astype(np.float64).mean(0), atol=1e-9)
        assert np.allclose(np.triu(chol, 1), 0)
        from sklearn.covariance import LedoitWolf

        lw = LedoitWolf().fit(feats.astype(np.float64))
        assert abs(lw.shrinkage_ - float(meta["gaussian_shrinkage"])) < 1e-9
        assert np.allclose(chol @ chol.T, lw.covariance_, rtol=1e-9, atol=1e-12)
    if "threshold" in meta:
        float(meta["threshold"])
    print(f"ok: {path}: scorer={scorer} features={feats.shape} tensors={sorted(tensors)} "
          f"header={len(header)} entries, metadata keys={sorted(meta)}")


# ---------------------------------------------------------------- main
def main():
    args = sys.argv[1:]
    if args[:1] == ["--splitmix"]:
        print_splitmix()
        return
    if args[:1] == ["--check-bank"]:
        if len(args) < 2:
            sys.exit("usage: make_density_fixtures.py --check-bank BANK.safetensors [...]")
        for p in args[1:]:
            check_bank(p)
        return
    from safetensors.numpy import save_file

    out = {}
    metric_tensors(out)
    knn_tensors(out)
    scorer_tensors(out)
    gaussian_tensors(out, "gauss_small", n=40, d=64, nq=20, seed=3, with_cov=False)
    gaussian_tensors(out, "gauss_large", n=300, d=12, nq=25, seed=5, with_cov=True)
    out = {k: np.ascontiguousarray(v) for k, v in out.items()}
    path = os.path.join(HERE, "density.safetensors")
    save_file(out, path, metadata={"generator": "make_density_fixtures.py"})
    print(f"wrote {path}: {os.path.getsize(path)} bytes, {len(out)} tensors")


if __name__ == "__main__":
    main()
