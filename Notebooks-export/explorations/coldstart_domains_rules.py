#!/usr/bin/env python3
"""Exploration (not a report): cold-start scoring rules across the 9 intent
domains, in numpy, on embeddings cached by `anomalykit coldstart eval --cache`.

    for d in ../shared/data/coldstart/clinc-domains/* ../shared/data/coldstart/banking77-oos; do
      .build/release/anomalykit coldstart eval $d --method zs --cache /tmp/cs/$(basename $d).safetensors
    done
    python3 Notebooks-export/explorations/coldstart_domains_rules.py --cache /tmp/cs [--seeds 3] [--guidance names]

The stream order uses numpy's generator, not the toolkit's SplitMix64, so
numbers differ from the CLI's by the draw; rules are compared on the same
draws. Banking77 (6,200 steps) is evaluated every 10th step. Writes
`coldstart-domains-rules.json` beside this script. What it found is written
up in `Notebooks-export/coldstart-domains.md` ("How the candidates were
found"); the reported numbers come from the CLI, not from here.
"""
import argparse
import json
import os
import struct
import sys

import numpy as np

DOMAINS = ["auto_and_commute", "home", "kitchen_and_dining", "meta", "small_talk", "travel", "utility", "work", "banking77-oos"]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data", "coldstart")


def folder(domain):
    return os.path.join(ROOT, domain if domain == "banking77-oos" else os.path.join("clinc-domains", domain))


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    info = header["embeddings"]
    a, b = info["data_offsets"]
    return np.frombuffer(data[a:b], dtype=np.float32).reshape(info["shape"]).astype(np.float64)


def lines(path):
    with open(path, encoding="utf-8") as f:
        return f.read().split("\n")[:-1] if True else None


def parts(domain, cache, guidance):
    d = folder(domain)
    k = len(json.load(open(os.path.join(d, guidance + ".json"))))
    counts = [k] + [len(open(os.path.join(d, p), encoding="utf-8").read().rstrip("\n").split("\n"))
                    for p in ["train/seq.in", "id-oos/valid/seq.in", "test/seq.in", "id-oos/test/seq.in"]]
    suffix = "" if guidance == "descriptions" else "." + guidance
    e = read_safetensors(os.path.join(cache, domain + suffix + ".safetensors"))
    assert e.shape[0] == sum(counts), (domain, e.shape, counts)
    out, o = [], 0
    for c in counts:
        out.append(e[o:o + c])
        o += c
    return out


def auroc(scores, labels):
    order = np.argsort(scores, kind="mergesort")
    ranks = np.empty(len(scores))
    s = scores[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    pos = labels.sum()
    neg = len(labels) - pos
    return (ranks[labels].sum() - pos * (pos + 1) / 2) / (pos * neg)


def prepare(x, metric):
    if metric == "cosine":
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return x


def dist(x, z, metric):
    if metric == "cosine":
        zn = z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)
        return 1 - x @ zn.T
    return (x * x).sum(1)[:, None] - 2 * x @ z.T + (z * z).sum(1)[None, :]


def run(P, N, pool, TN, TA, metric, rule, q, kappa, seed, contamination=0.05, every=1, center=False):
    rng = np.random.default_rng(seed)
    na = int(round(contamination * len(N)))
    items = [("n", i) for i in range(len(N))] + [("a", i) for i in rng.choice(len(pool), na, replace=False)]
    items = [items[i] for i in rng.permutation(len(items))]
    Z = prepare(P, metric)
    T = prepare(np.vstack([TN, TA]), metric)
    labels = np.array([False] * len(TN) + [True] * len(TA))
    obs = np.array([prepare((N if s == "n" else pool)[i][None], metric)[0] for s, i in items])
    d0 = dist(obs, Z, metric)
    dmin, assign = d0.min(1), d0.argmin(1)
    K = len(Z)
    curve = []
    for t in range(1, len(items) + 1):
        if (t - 1) % every and t != len(items):
            continue
        if rule == "zs":
            curve.append(auroc(dist(T, Z, metric).min(1), labels))
            continue
        m = t if t == 1 or q >= 1 else int(np.round(q * t))
        kept = np.argsort(dmin[:t], kind="stable")[:m]
        if center:
            c = np.vstack([Z, obs[kept]]).mean(0)
        protos, factors = [], []
        for k in range(K):
            members = obs[kept[assign[kept] == k]]
            n = len(members)
            if rule == "coldfusion":
                protos.append(np.median(np.vstack([Z[k][None], members]), axis=0))
                factors.append(1.0)
            else:  # predictive, scaled
                if n == 0:
                    protos.append(Z[k])
                elif rule == "predictive-mean":
                    protos.append(Z[k] + n / (n + kappa) * (members.mean(0) - Z[k]))
                else:
                    protos.append(Z[k] + n / (n + kappa) * (np.median(members, axis=0) - Z[k]))
                factors.append((n + kappa) / (n + kappa + 1))
        protos = np.array(protos)
        if rule == "scaled":
            # Per-class spread, shrunk to the pooled spread with weight kappa.
            res = np.array([dist(obs[i][None], protos[assign[i]][None], metric)[0, 0] for i in kept])
            pooled = res.mean() if len(res) else 1.0
            scales = []
            for k in range(K):
                r = res[assign[kept] == k]
                scales.append((kappa * pooled + r.sum()) / (kappa + len(r)))
            factors = np.array(factors) / np.maximum(np.array(scales), 1e-12)
        if center:
            D = dist(prepare(T - c, "cosine"), protos - c, "cosine") if metric == "cosine" else dist(T - c, protos - c, metric)
        else:
            D = dist(T, protos, metric)
        score = (D * np.array(factors)[None]).min(1)
        if rule == "fused" and t >= 20:
            # zero-shot and predictive scores, each standardised by the kept
            # observations' median and MAD, summed.
            def z(s, ref):
                med = np.median(ref)
                return (s - med) / (np.median(np.abs(ref - med)) + 1e-12)
            zsT = dist(T, Z, metric).min(1)
            Dobs = dist(obs[kept], protos, metric)
            score = z(zsT, dmin[kept]) + z(score, (Dobs * np.array(factors)[None]).min(1))
        if rule == "union":
            score = np.minimum(score, dist(T, Z, metric).min(1) * kappa / (kappa + 1))
        curve.append(auroc(score, labels))
    return np.array(curve)


def summary(curve):
    T = len(curve)
    out = {}
    for p in [10, 25, 50, 100]:
        s = max(1, min(T, int(round(p / 100 * T))))
        out["auc@%d" % p] = float(curve[:s].mean())
    out["final"] = float(curve[-1])
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default="/tmp/cs")
    ap.add_argument("--guidance", default="descriptions")
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--domains", nargs="*", default=DOMAINS[:-1], help="default: the eight CLINC domains (Banking77 is slow here)")
    args = ap.parse_args()
    # Every rule tried, cosine, q = 0.9, kappa = 1.5 (rule, metric, q, kappa, centred).
    configs = [("zs", "cosine", 0.9, 0, False), ("coldfusion", "cosine", 0.9, 0, False), ("predictive", "cosine", 0.9, 1.5, False),
               ("predictive", "cosine", 0.9, 1.5, True), ("coldfusion", "cosine", 0.9, 0, True), ("scaled", "cosine", 0.9, 1.5, False),
               ("predictive-mean", "cosine", 0.9, 1.5, False), ("union", "cosine", 0.9, 1.5, False), ("fused", "cosine", 0.9, 1.5, False)]
    results = {}
    for domain in args.domains:
        P, N, pool, TN, TA = parts(domain, args.cache, args.guidance)
        every = 10 if len(N) > 2000 else 1
        for rule, metric, q, kappa, center in configs:
            name = "%s/%s/q%s/k%s%s" % (rule, metric, q, kappa, "/centered" if center else "")
            s = [summary(run(P, N, pool, TN, TA, metric, rule, q, kappa, seed, every=every, center=center)) for seed in range(args.seeds)]
            mean = {key: float(np.mean([x[key] for x in s])) for key in s[0]}
            results.setdefault(name, {})[domain] = mean
            print("%-18s %-40s %s" % (domain, name, " ".join("%.1f" % (100 * mean[k]) for k in ["auc@10", "auc@100"])), flush=True)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "coldstart-domains-rules%s.json" % ("" if args.guidance == "descriptions" else "-" + args.guidance))
    json.dump({"seeds": args.seeds, "guidance": args.guidance, "results": results}, open(out, "w"), indent=1)


if __name__ == "__main__":
    sys.exit(main())
