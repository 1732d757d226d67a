#!/usr/bin/env python3
"""Reference outputs of the cold-start protocol for the Swift tests
(Tests/DensityTests/ColdStartTests.swift), computed the way the official
ColdFusion code does it: everything recomputed from scratch at every stream
step (trim, assign, coordinate-wise median, 1-NN scores), with numpy and
scikit-learn instead of faiss.

    /root/venv/bin/python Tests/Fixtures/coldstart/make_fixtures.py

Writes protocol.safetensors next to this script:
  prototypes, stream_normal, anomaly_pool, test_normal, test_anomaly  F32  synthetic data (K=4, D=8)
  {metric}.order         I64 [T]     the stream: index < N is a normal, else N + pool index
  {metric}.zs|dn2|coldfusion|predictive|fused  F64 [T]  AUROC after each step
  {metric}.adapted       F32 [K, D]  adapted prototypes after the last step
  {metric}.predictive_prototypes  F32 [K, D]  predictive prototypes p_k after the last step
  {metric}.kept          I64 [m]     kept stream positions after the last step, sorted
for metric in l2, cosine, with contamination 0.1, trim 0.9, seed 7.

The stream order is drawn with SplitMix64 + Fisher-Yates, as implemented
from their definitions in ../density/make_density_fixtures.py (Steele et
al. 2014; Knuth), so the Swift test can check ColdStartStream against it.
"""

import hashlib
import json
import os

import sys

import numpy as np
from safetensors.numpy import save_file
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "density"))
from make_density_fixtures import SplitMix64  # noqa: E402  (the same generator the density fixtures use)

K, D = 4, 8
N_NORMAL, N_POOL, N_TEST_NORMAL, N_TEST_ANOMALY = 40, 10, 30, 20
CONTAMINATION, TRIM, SEED = 0.1, 0.9, 7
KAPPA = np.float32(1.5)


def stream_order(n_normal, n_pool, contamination, seed):
    rng = SplitMix64(seed)
    wanted = int(np.round(contamination * n_normal))  # numpy rounds half to even
    chosen = rng.permutation(n_pool)[:wanted]
    items = list(range(n_normal)) + [n_normal + a for a in chosen]
    return [items[i] for i in rng.permutation(len(items))]


def prepare(x, metric):
    x = x.astype(np.float32)
    if metric == "cosine":
        norms = np.sqrt((x.astype(np.float64) ** 2).sum(1, keepdims=True))
        x = (x * (1 / norms).astype(np.float32)).astype(np.float32)
    return x


def distances(x, z, metric):
    """d(x_i, z_k) for all pairs, in float64."""
    x = x.astype(np.float64)
    z = z.astype(np.float64)
    if metric == "l2":
        return ((x[:, None, :] - z[None, :, :]) ** 2).sum(-1)
    return 1 - (x @ z.T) / np.linalg.norm(z, axis=1)[None, :]


def run(data, metric):
    protos = prepare(data["prototypes"], metric)
    candidates = prepare(np.concatenate([data["stream_normal"], data["anomaly_pool"]]), metric)
    test = prepare(np.concatenate([data["test_normal"], data["test_anomaly"]]), metric)
    labels = np.r_[np.zeros(N_TEST_NORMAL), np.ones(N_TEST_ANOMALY)]
    order = stream_order(N_NORMAL, N_POOL, CONTAMINATION, SEED)
    zs_scores = distances(test, protos, metric).min(1)
    out = {"order": np.array(order, dtype=np.int64), "zs": [], "dn2": [], "coldfusion": [], "predictive": [], "fused": []}
    for t in range(1, len(order) + 1):
        seen = candidates[order[:t]]
        d = distances(seen, protos, metric)
        dmin, assign = d.min(1), d.argmin(1)
        keep = np.arange(t)
        if t >= 2:
            m = int(np.round(TRIM * t))
            keep = np.array(sorted(np.lexsort((np.arange(t), dmin))[:m]))  # by distance, ties to the earlier
        adapted = np.stack([np.median(np.concatenate([protos[k : k + 1], seen[keep][assign[keep] == k]]), axis=0) for k in range(K)]).astype(np.float32)
        # Predictive prototypes: p_k = z_k + n/(n+kappa) (median(assigned) - z_k), f_k = (n+kappa)/(n+kappa+1),
        # in float32 arithmetic like the Swift code.
        predictive, factors = [], []
        for k in range(K):
            members = seen[keep][assign[keep] == k]
            n = np.float32(len(members))
            factors.append((n + KAPPA) / (n + KAPPA + np.float32(1)))
            if len(members):
                m = np.median(members, axis=0).astype(np.float32)
                predictive.append((protos[k] + (n / (n + KAPPA)) * (m - protos[k])).astype(np.float32))
            else:
                predictive.append(protos[k])
        predictive = np.stack(predictive)
        pred_scores = (distances(test, predictive, metric) * np.array(factors, dtype=np.float64)[None, :]).min(1)
        out["predictive"].append(roc_auc_score(labels, pred_scores))
        out["zs"].append(roc_auc_score(labels, zs_scores))
        out["dn2"].append(roc_auc_score(labels, distances(test, seen[keep], metric).min(1)))
        # Fused: zero-shot and predictive scores, each standardised by the kept
        # observations' own scores (median, MAD), summed; zero-shot alone
        # with fewer than 20 kept observations (ScoreFusion).
        if len(keep) >= 20:
            ref_pred = (distances(seen[keep], predictive, metric) * np.array(factors, dtype=np.float64)[None, :]).min(1)

            def standardise(s, ref):
                med = np.median(ref)
                mad = max(np.median(np.abs(ref - med)), 1e-6 * max(abs(med), 1e-12))
                return (s - med) / mad
            fused = standardise(zs_scores, dmin[keep]) + standardise(pred_scores, ref_pred)
        else:
            fused = zs_scores
        out["fused"].append(roc_auc_score(labels, fused))
        out["coldfusion"].append(roc_auc_score(labels, distances(test, adapted, metric).min(1)))
    out["adapted"] = adapted
    out["predictive_prototypes"] = predictive
    out["kept"] = keep.astype(np.int64)
    return out


def main():
    rng = np.random.default_rng(2026)
    centers = rng.normal(0, 1, (K, D)) * 3
    prototypes = centers + rng.normal(0, 0.8, (K, D))

    def around(n, spread):
        return centers[rng.integers(0, K, n)] + rng.normal(0, spread, (n, D))

    data = {
        "prototypes": prototypes,
        "stream_normal": around(N_NORMAL, 1.0),
        "anomaly_pool": around(N_POOL, 2.2),
        "test_normal": around(N_TEST_NORMAL, 1.0),
        "test_anomaly": around(N_TEST_ANOMALY, 2.2),
    }
    data = {k: v.astype(np.float32) for k, v in data.items()}
    tensors = dict(data)
    for metric in ["l2", "cosine"]:
        r = run(data, metric)
        tensors[f"{metric}.order"] = r["order"]
        for m in ["zs", "dn2", "coldfusion", "predictive", "fused"]:
            tensors[f"{metric}.{m}"] = np.array(r[m], dtype=np.float64)
        tensors[f"{metric}.adapted"] = r["adapted"]
        tensors[f"{metric}.kept"] = r["kept"]
        tensors[f"{metric}.predictive_prototypes"] = r["predictive_prototypes"]
        print(metric, "final AUROC zs %.4f dn2 %.4f coldfusion %.4f predictive %.4f fused %.4f" % (r["zs"][-1], r["dn2"][-1], r["coldfusion"][-1], r["predictive"][-1], r["fused"][-1]))
    meta = {"contamination": str(CONTAMINATION), "trim": str(TRIM), "seed": str(SEED), "kappa": str(KAPPA), "generator": "make_fixtures.py"}
    path = os.path.join(HERE, "protocol.safetensors")
    save_file(tensors, path, metadata=meta)
    print(path, os.path.getsize(path), "bytes, sha256", hashlib.sha256(open(path, "rb").read()).hexdigest()[:16])


if __name__ == "__main__":
    main()
