#!/usr/bin/env python3
"""Deepfakes as anomalies, held out two ways (issue 14's protocol).

Every candidate detector is real-only: it stores, per cue, the median and the
robust spread (1.4826 MAD) of that cue over the bank's real images, turns a
new image's cue into a tail probability under that real-only distribution
(upper, lower or two-sided) and fuses the cues by Fisher's method,
-2 sum log p. No fake is used to fit anything; fakes only choose defaults,
and only fakes of *other* generator groups.

Axes (each reported with 1000-resample bootstrap 95% intervals):
1. Leave-one-generator-out (LOGO). Groups: ml72 gan, diffusion1-4; aibingo
   DALL-E, Stable Diffusion, Midjourney; bias-ai-university ChatGPT-image,
   Midjourney-v7, Whisk. The bank is fitted on the fit half of every real
   source; the candidate is chosen on the other ten groups; the held-out
   group's fakes are scored against the held-out halves of every real source.
2. Leave-one-real-source-out (LORSO). Sources: imagenet-real, ml72/real,
   faces/identities. The bank is fitted on the fit halves of the other two;
   the candidate is chosen with that source absent (generators against the two
   sources' held-out reals, and provenance measured between those two); the
   held-out source's reals are scored against the bank's own held-out reals.
   The right answer is 0.5; |AUROC - 0.5| is the provenance error.

Selection objective, averaged over the four conditions:
    mean generator AUROC - max provenance error.
Candidates are grown greedily: start from the best single cue (with its
sidedness), add the cue that most improves the objective, stop when none does.

Conditions: JPEG 90 and 75 (every image, real or fake, re-encoded by Pillow
at 4:2:0, which the toolkit matches within one grey level), each at native
size and with test images downscaled 2x (Pillow bilinear) before encoding;
the bank is always fitted at native size.

    /root/venv/bin/python Notebooks-export/scripts/eval_deepfake_lodo.py [--quick]

Features are cached in /tmp/deepfake-lodo/. Writes
Notebooks-export/results/deepfake-lodo.json.
"""
import argparse
import csv
import io
import itertools
import json
import os
import time

import numpy as np
import torch
from PIL import Image
from scipy.stats import norm

import deepfake_cues as cues

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data"))
WEIGHTS = os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")
CACHE = "/tmp/deepfake-lodo-v2"
SOURCES = ["imagenet", "ml72-real", "faces"]
CONDITIONS = [(90, False), (75, False), (90, True), (75, True)]
STAT_CUES = ["band01", "band12", "noise", "period2", "grid8", "chroma"]
NET_CUES = ["rigid_pool", "rigid_s3", "minder_pool", "minder_s3"]
BANK_CUES = ["pooled_knn", "patch_knn"]
SIDES = ["up", "down", "two"]

torch.set_num_threads(2)


# ---------------------------------------------------------------- data
def manifest():
    rows = []

    def read(folder):
        with open(os.path.join(DATA, folder, "metadata.csv"), newline="") as f:
            return list(csv.DictReader(f))

    def add_reals(source, paths):
        perm = np.random.default_rng(0).permutation(len(paths))
        fit = set(perm[: len(paths) // 2].tolist())
        for i, p in enumerate(paths):
            rows.append(dict(key=source + "/" + os.path.basename(p), path=p, kind="real",
                             source=source, split="fit" if i in fit else "test"))

    add_reals("imagenet", sorted(os.path.join(DATA, "realfake/imagenet-real", r["file"])
                                 for r in read("realfake/imagenet-real")))
    ml72 = read("realfake/ml72")
    add_reals("ml72-real", sorted(os.path.join(DATA, "realfake/ml72", r["file"]) for r in ml72 if r["label"] == "real"))
    with open(os.path.join(DATA, "faces/identities/identities.csv"), newline="") as f:
        add_reals("faces", sorted(os.path.join(DATA, "faces/identities", r["file"]) for r in csv.DictReader(f)))
    for r in ml72:
        if r["label"] != "real":
            rows.append(dict(key="ml72/" + r["file"], path=os.path.join(DATA, "realfake/ml72", r["file"]),
                             kind="fake", group="ml72/" + r["generator"]))
    for folder, tag in [("aibingo", "aibingo"), ("bias-ai-university", "bias")]:
        for r in read("realfake/" + folder):
            rows.append(dict(key=tag + "/" + r["file"], path=os.path.join(DATA, "realfake", folder, r["file"]),
                             kind="fake", group=tag + "/" + r["generator"]))
    return rows


def harmonise(path, quality, down):
    im = Image.open(path).convert("RGB")
    if down:
        im = im.resize((im.width // 2, im.height // 2), Image.BILINEAR)
    buf = io.BytesIO()
    im.save(buf, format="JPEG", quality=quality)
    buf.seek(0)
    return cues.central_crop(np.asarray(Image.open(buf).convert("RGB")))


TINY_LADEDA = None  # prefix of per-condition logit files from eval_deepfake_lodo_tiny_ladeda.py --dump


def with_tiny_ladeda(values, quality, down):
    """Adds the cue `tiny_ladeda` (the image's mean Tiny-LaDeDa patch logit) when --tiny-ladeda is given."""
    if TINY_LADEDA:
        with open("%s-q%d%s.json" % (TINY_LADEDA, quality, "-down2" if down else "")) as f:
            logit = json.load(f)
        for k, v in values.items():
            v["tiny_ladeda"] = logit[k]
    return values


def features(rows, quality, down, quick):
    tag = "q%d%s%s" % (quality, "-down2" if down else "", "-quick" if quick else "")
    path = os.path.join(CACHE, tag + ".npz")
    if os.path.exists(path):
        z = np.load(path, allow_pickle=True)
        return with_tiny_ladeda(z["values"].item(), quality, down), z["pooled"].item(), z["patches"].item()
    values, pooled, patches = {}, {}, {}
    rng = np.random.default_rng(1)
    t0 = time.time()
    for i, r in enumerate(rows):
        x = harmonise(r["path"], quality, down)
        v = cues.statistics(x)
        net, p, s3 = cues.perturbation_cues(x, WEIGHTS)
        v.update(net)
        values[r["key"]] = v
        pooled[r["key"]] = p.astype(np.float32)
        m = torch.nn.functional.avg_pool2d(torch.from_numpy(s3)[None], 3, 1, 1, count_include_pad=False)[0]
        flat = m.reshape(m.shape[0], -1).T.numpy()
        keep = rng.choice(len(flat), min(len(flat), 128), replace=False)
        patches[r["key"]] = flat[keep].astype(np.float16)
        if i % 100 == 0:
            print("  %s %d/%d %.0fs" % (tag, i, len(rows), time.time() - t0), flush=True)
    os.makedirs(CACHE, exist_ok=True)
    np.savez(path, values=values, pooled=pooled, patches=patches)
    return with_tiny_ladeda(values, quality, down), pooled, patches


# ---------------------------------------------------------------- bank cues
def knn_cues(bank_keys, keys, pooled_fit, patches_fit, pooled_test, patches_test, fit_keys):
    """pooled_knn (cosine 1-NN distance of the pooled feature) and patch_knn (mean
    squared-L2 1-NN distance of the stage-3 patches) against the bank; an image
    of the bank is scored without its own rows (leave-one-image-out)."""
    bp = torch.from_numpy(np.stack([pooled_fit[k] for k in bank_keys]))
    bp = bp / bp.norm(dim=1, keepdim=True)
    bpatch = torch.from_numpy(np.concatenate([patches_fit[k] for k in bank_keys]).astype(np.float32))
    owner = np.repeat(np.arange(len(bank_keys)), [len(patches_fit[k]) for k in bank_keys])
    owner_t = torch.from_numpy(owner)
    bn = (bpatch * bpatch).sum(1)
    index = {k: i for i, k in enumerate(bank_keys)}
    out = {}
    for k in keys:
        in_fit = k in fit_keys
        p = torch.from_numpy((pooled_fit if in_fit else pooled_test)[k])
        p = p / p.norm()
        sims = bp @ p
        q = torch.from_numpy((patches_fit if in_fit else patches_test)[k].astype(np.float32))
        d = (q * q).sum(1, keepdim=True) + bn[None] - 2 * q @ bpatch.T
        if in_fit and k in index:
            sims[index[k]] = -2
            d[:, owner_t == index[k]] = float("inf")
        out[k] = {"pooled_knn": float(1 - sims.max()), "patch_knn": float(d.min(1).values.clamp_min(0).mean())}
    return out


# ---------------------------------------------------------------- scoring
def auroc(neg, pos):
    neg, pos = np.asarray(neg, float), np.asarray(pos, float)
    allv = np.concatenate([neg, pos])
    ranks = np.empty(len(allv))
    order = allv.argsort(kind="mergesort")
    s = allv[order]
    i = 0
    while i < len(s):
        j = i
        while j + 1 < len(s) and s[j + 1] == s[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return float((ranks[len(neg):].sum() - len(pos) * (len(pos) + 1) / 2) / (len(neg) * len(pos)))


def auroc_ci(neg, pos, n_boot=1000, seed=0):
    rng = np.random.default_rng(seed)
    neg, pos = np.asarray(neg), np.asarray(pos)
    b = [auroc(rng.choice(neg, len(neg)), rng.choice(pos, len(pos))) for _ in range(n_boot)]
    return [float(np.percentile(b, 2.5)), float(np.percentile(b, 97.5))]


class Setting:
    """One condition: cue values for every image, bank cues per bank."""

    def __init__(self, rows, quality, down, quick):
        self.rows = rows
        fit_rows = [r for r in rows if r.get("split") == "fit"]
        self.fit_keys = {r["key"] for r in fit_rows}
        vf, pf, sf = features(rows, quality, False, quick)
        vt, pt, st = (vf, pf, sf) if not down else features(rows, quality, True, quick)
        self.fit_values = {k: vf[k] for k in self.fit_keys}
        self.test_values = {r["key"]: vt[r["key"]] for r in rows if r["key"] not in self.fit_keys}
        self.pooled = (pf, pt)
        self.patches = (sf, st)
        self.bank_cache = {}

    def bank_values(self, sources):
        sources = tuple(sorted(sources))
        if sources not in self.bank_cache:
            bank_keys = [r["key"] for r in self.rows if r.get("split") == "fit" and r["source"] in sources]
            keys = [r["key"] for r in self.rows]
            self.bank_cache[sources] = knn_cues(bank_keys, keys, self.pooled[0], self.patches[0],
                                                self.pooled[1], self.patches[1], self.fit_keys)
        return self.bank_cache[sources]

    def value(self, key, cue, sources):
        if cue in BANK_CUES:
            return self.bank_values(sources)[key][cue]
        return (self.fit_values if key in self.fit_keys else self.test_values)[key][cue]


def fused_scores(setting, candidate, bank_sources, keys):
    """Fisher fusion of the candidate's cues, calibrated on the bank's reals."""
    bank = [r["key"] for r in setting.rows if r.get("split") == "fit" and r["source"] in bank_sources]
    total = np.zeros(len(keys))
    for cue, side in candidate:
        ref = np.array([setting.value(k, cue, bank_sources) for k in bank])
        med = np.median(ref)
        scale = 1.4826 * np.median(np.abs(ref - med)) + 1e-9
        z = (np.array([setting.value(k, cue, bank_sources) for k in keys]) - med) / scale
        if side == "up":
            logp = norm.logsf(z)
        elif side == "down":
            logp = norm.logcdf(z)
        else:
            logp = np.log(2.0) + norm.logsf(np.abs(z))
        total += -2.0 * logp
    return dict(zip(keys, total))


def test_keys(rows, sources=None, group=None):
    if group is not None:
        return [r["key"] for r in rows if r.get("group") == group]
    return [r["key"] for r in rows if r["kind"] == "real" and r["split"] == "test" and r["source"] in sources]


def generator_aurocs(setting, candidate, sources, groups):
    reals = test_keys(setting.rows, sources)
    out = {}
    for g in groups:
        fakes = test_keys(setting.rows, group=g)
        s = fused_scores(setting, candidate, sources, reals + fakes)
        out[g] = auroc([s[k] for k in reals], [s[k] for k in fakes])
    return out


def provenance(setting, candidate, held, sources):
    """AUROC of the held-out source's reals (all of them) vs the bank's own held-out reals."""
    bank_sources = [s for s in sources if s != held]
    own = test_keys(setting.rows, bank_sources)
    other = [r["key"] for r in setting.rows if r.get("source") == held]
    s = fused_scores(setting, candidate, bank_sources, own + other)
    return auroc([s[k] for k in own], [s[k] for k in other]), s, own, other


def objective(settings, candidate, sources, groups):
    vals = []
    for st in settings:
        g = generator_aurocs(st, candidate, sources, groups)
        prov = [abs(provenance(st, candidate, s, sources)[0] - 0.5) for s in sources] if len(sources) > 1 else [0.0]
        vals.append(np.mean(list(g.values())) - max(prov))
    return float(np.mean(vals))


def select(settings, selectable, sources, groups, max_cues=4):
    """Greedy forward selection of (cue, side) pairs by the objective."""
    chosen, best, trail = [], -np.inf, []
    while len(chosen) < max_cues:
        options = [(c, s) for c in selectable for s in SIDES if c not in {x[0] for x in chosen}]
        scored = [(objective(settings, chosen + [o], sources, groups), o) for o in options]
        val, opt = max(scored)
        if val <= best + 1e-4:
            break
        chosen, best = chosen + [opt], val
        trail.append({"candidate": [list(x) for x in chosen], "objective": round(val, 4)})
    return chosen, best, trail


# ---------------------------------------------------------------- main
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="every 4th image, for a smoke test")
    ap.add_argument("--cues", default=",".join(STAT_CUES + NET_CUES + BANK_CUES), help="cues measured alone")
    ap.add_argument("--select-from", default=",".join(STAT_CUES + NET_CUES),
                    help="cues the selection may combine: the per-image cues `anomalykit deepfake` computes")
    ap.add_argument("--out", default=os.path.join(REPO, "Notebooks-export", "results", "deepfake-lodo.json"))
    ap.add_argument("--tiny-ladeda", help="prefix of Tiny-LaDeDa logit files (eval_deepfake_lodo_tiny_ladeda.py --dump); "
                    "adds the cue tiny_ladeda to both lists")
    args = ap.parse_args()
    global TINY_LADEDA
    TINY_LADEDA = args.tiny_ladeda
    rows = manifest()
    if args.quick:
        rows = rows[::4]
    groups = sorted({r["group"] for r in rows if r["kind"] == "fake"})
    cue_names = args.cues.split(",") + (["tiny_ladeda"] if args.tiny_ladeda else [])
    selectable = args.select_from.split(",") + (["tiny_ladeda"] if args.tiny_ladeda else [])
    settings = [Setting(rows, q, d, args.quick) for q, d in CONDITIONS]
    names = ["q%d%s" % (q, "-down2" if d else "") for q, d in CONDITIONS]
    result = {"conditions": names, "groups": groups, "sources": SOURCES, "cues": cue_names, "selectable": selectable,
              "counts": {s: [sum(1 for r in rows if r.get("source") == s and r["split"] == sp) for sp in ("fit", "test")]
                         for s in SOURCES} | {g: sum(1 for r in rows if r.get("group") == g) for g in groups}}

    # single cues, every side, every condition (exploration: measured on all data)
    singles = {}
    for c in cue_names:
        for side in SIDES:
            per = {}
            for name, st in zip(names, settings):
                g = generator_aurocs(st, [(c, side)], SOURCES, groups)
                prov = {s: provenance(st, [(c, side)], s, SOURCES)[0] for s in SOURCES}
                per[name] = {"mean_auroc": float(np.mean(list(g.values()))), "min_auroc": float(min(g.values())),
                             "groups": g, "provenance_auroc": prov}
            singles["%s/%s" % (c, side)] = per
            print("%-18s %s" % (c + "/" + side, "  ".join(
                "%s %.3f min %.3f prov %s" % (n, per[n]["mean_auroc"], per[n]["min_auroc"],
                                              ",".join("%.2f" % v for v in per[n]["provenance_auroc"].values()))
                for n in names[:1] + names[2:3])), flush=True)
    result["single_cues"] = singles

    # LOGO
    logo = {}
    for g in groups:
        others = [x for x in groups if x != g]
        cand, val, _ = select(settings, selectable, SOURCES, others)
        per = {}
        for name, st in zip(names, settings):
            reals = test_keys(st.rows, SOURCES)
            fakes = test_keys(st.rows, group=g)
            s = fused_scores(st, cand, SOURCES, reals + fakes)
            neg, pos = [s[k] for k in reals], [s[k] for k in fakes]
            per[name] = {"auroc": auroc(neg, pos), "ci95": auroc_ci(neg, pos)}
        logo[g] = {"chosen": [list(x) for x in cand], "inner_objective": val, "held_out": per}
        print("LOGO %-28s %s  %s" % (g, cand, " ".join("%.3f" % per[n]["auroc"] for n in names)), flush=True)
    result["leave_one_generator_out"] = logo

    # LORSO
    lorso = {}
    for held in SOURCES:
        rest = [s for s in SOURCES if s != held]
        cand, val, _ = select(settings, selectable, rest, groups)
        per = {}
        for name, st in zip(names, settings):
            a, s, own, other = provenance(st, cand, held, SOURCES)
            per[name] = {"auroc": a, "provenance_error": abs(a - 0.5),
                         "ci95": auroc_ci([s[k] for k in own], [s[k] for k in other])}
        lorso[held] = {"chosen": [list(x) for x in cand], "inner_objective": val, "held_out": per}
        print("LORSO %-12s %s  %s" % (held, cand, " ".join("%.3f" % per[n]["provenance_error"] for n in names)), flush=True)
    result["leave_one_real_source_out"] = lorso

    # spread of the held-out numbers: mean, worst, 95% interval of the mean
    # (bootstrap over groups or sources, 1000 resamples, seed 0)
    def spread(values):
        v = np.asarray(values)
        rng = np.random.default_rng(0)
        boot = [rng.choice(v, len(v)).mean() for _ in range(1000)]
        return {"mean": float(v.mean()), "worst": float(v.min() if v.mean() >= 0.5 else v.max()),
                "ci95": [float(np.percentile(boot, 2.5)), float(np.percentile(boot, 97.5))]}

    summary = {}
    for n in names:
        a = [logo[g]["held_out"][n]["auroc"] for g in groups]
        e = [lorso[s]["held_out"][n]["provenance_error"] for s in SOURCES]
        summary[n] = {"logo_auroc": spread(a) | {"worst": float(min(a)), "worst_group": groups[int(np.argmin(a))]},
                      "provenance_error": spread(e) | {"worst": float(max(e)), "worst_source": SOURCES[int(np.argmax(e))]}}
        print("SUMMARY %-10s LOGO mean %.3f [%.3f, %.3f] worst %.3f (%s) | provenance mean %.3f worst %.3f (%s)" % (
            n, summary[n]["logo_auroc"]["mean"], *summary[n]["logo_auroc"]["ci95"], summary[n]["logo_auroc"]["worst"],
            summary[n]["logo_auroc"]["worst_group"], summary[n]["provenance_error"]["mean"],
            summary[n]["provenance_error"]["worst"], summary[n]["provenance_error"]["worst_source"]), flush=True)
    result["held_out_summary"] = summary

    # the shipped default: chosen on everything (its numbers here are not held out)
    cand, val, trail = select(settings, selectable, SOURCES, groups)
    table = {}
    for name, st in zip(names, settings):
        table[name] = {"groups": generator_aurocs(st, cand, SOURCES, groups),
                       "provenance_auroc": {s: provenance(st, cand, s, SOURCES)[0] for s in SOURCES}}
    result["default"] = {"chosen": [list(x) for x in cand], "objective_on_all": val, "trail": trail,
                         "in_sample": table}
    print("DEFAULT", cand, val)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out if not args.quick else "/tmp/deepfake-lodo-quick.json", "w") as f:
        json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
