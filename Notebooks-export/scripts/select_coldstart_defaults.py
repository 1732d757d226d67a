#!/usr/bin/env python3
"""Choose the cold-start text defaults by leave-one-domain-out, and report
the held-out numbers.

    swift build -c release
    python3 Notebooks-export/scripts/select_coldstart_defaults.py [--seeds 5] [--cache /tmp/coldstart-cache]

Nine development domains: the eight CLINC150 domains in
`../shared/data/coldstart/clinc-domains/` and Banking77-OOS. Every candidate
setting (rule {coldfusion, predictive, fused} × metric × trim q × κ) is run by `anomalykit coldstart eval`
on all nine, 5 seeds, 5% contamination. Then, for each domain d, the
candidate with the best mean criterion on the *other eight* is picked and
scored on d; the criterion is ½ (AUC@10% + AUC@100%), early and late stream
weighted alike. The shipped default is the candidate the same rule picks on
all nine. Both guidance kinds are reported: one example query per class
(`descriptions.json`, the full grid) and the class names alone
(`names.json`, at trim 0.9; Banking77's names are its description keys,
written to a temporary copy of the folder).

Writes `Notebooks-export/results/coldstart-domains.json`,
`Notebooks-export/figures/coldstart-domains.png` and the tables of
`Notebooks-export/coldstart-domains.md`. Needs only the Python standard
library and the built binary.
"""
import argparse
import itertools
import json
import math
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BINARY = os.path.join(REPO, ".build", "release", "anomalykit")
DATA = os.path.abspath(os.path.join(REPO, "..", "shared", "data", "coldstart"))
CLINC = ["auto_and_commute", "home", "kitchen_and_dining", "meta", "small_talk", "travel", "utility", "work"]
RESULTS = os.path.join(REPO, "Notebooks-export", "results", "coldstart-domains.json")
FIGURE = os.path.join(REPO, "Notebooks-export", "figures", "coldstart-domains.png")
REPORT = os.path.join(REPO, "Notebooks-export", "coldstart-domains.md")

METRICS = ["l2", "cosine"]
TRIMS = [0.8, 0.9, 0.95]
KAPPAS = [1.0, 1.5, 3.0]
# The comparison the issue names: ColdFusion and zero-shot with cosine, at the paper's trim.
BASELINE = ("coldfusion", "cosine", 0.9, None)
ZERO_SHOT = ("zs", "cosine", 0.9, None)


def folders(names_copy):
    out = [os.path.join(DATA, "clinc-domains", d) for d in CLINC]
    return out + [names_copy]


def banking_copy():
    """banking77-oos with a names.json (its description keys): a temporary folder of links."""
    src = os.path.join(DATA, "banking77-oos")
    dst = os.path.join(tempfile.mkdtemp(prefix="coldstart-domains-"), "banking77-oos")
    os.makedirs(dst)
    for entry in os.listdir(src):
        os.symlink(os.path.join(src, entry), os.path.join(dst, entry))
    names = {k: k for k in json.load(open(os.path.join(src, "descriptions.json")))}
    with open(os.path.join(dst, "names.json"), "w") as f:
        json.dump(names, f, indent=1)
    return dst


def run(dirs, args, extra):
    cmd = [BINARY, "coldstart", "eval"] + dirs + ["--seeds", str(args.seeds), "--json", "--cache", args.cache] + extra
    start = time.time()
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), p.stderr))
    return json.loads(p.stdout), time.time() - start


def table_of(doc):
    """{(method, domain): {auc@10, auc@100, final}} from one --json document."""
    out = {}
    for d in doc["datasets"]:
        for m, v in d["methods"].items():
            out[(m, d["dataset"])] = {k: v[k] for k in ["auc@10", "auc@100", "final"]}
    return out


def criterion(v):
    return 0.5 * (v["auc@10"] + v["auc@100"])


def spread(values):
    """mean, 95% t-interval half-width, worst value and its domain."""
    n = len(values)
    mean = sum(v for _, v in values) / n
    sd = math.sqrt(sum((v - mean) ** 2 for _, v in values) / (n - 1)) if n > 1 else float("nan")
    t = {8: 2.306, 7: 2.365, 1: 12.706}.get(n - 1, 1.96)
    worst = min(values, key=lambda x: x[1])
    return {"mean": mean, "ci95": t * sd / math.sqrt(n), "worst": worst[1], "worst_domain": worst[0]}


def name(c):
    rule, metric, trim, kappa = c
    return "%s %s q=%s%s" % (rule, metric, trim, "" if kappa is None else " κ=%s" % kappa)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "coldstart-domains-cache"))
    args = ap.parse_args()
    banking = banking_copy()
    dirs = folders(banking)
    domains = CLINC + ["banking77-oos"]
    results = {"command": "python3 Notebooks-export/scripts/select_coldstart_defaults.py --seeds %d" % args.seeds,
               "seeds": args.seeds, "contamination": 0.05, "criterion": "0.5 * (auc@10 + auc@100)",
               "domains": domains, "runs": []}

    # Every candidate's per-domain numbers, for each guidance kind.
    scores = {"descriptions": {}, "names": {}}
    for guidance in ["descriptions", "names"]:
        # Names: the paper's trim only (the descriptions grid shows trim matters least).
        for metric, trim, kappa in itertools.product(METRICS, TRIMS if guidance == "descriptions" else [0.9], KAPPAS):
            methods = ("zs,dn2,coldfusion,predictive,fused" if (trim, kappa) == (0.9, 1.5) else "predictive,fused" if kappa != 1.5
                       else "coldfusion,predictive,fused")
            extra = ["--metric", metric, "--trim", str(trim), "--kappa", str(kappa), "--method", methods,
                     "--descriptions-file", guidance + ".json"]
            doc, seconds = run(dirs, args, extra)
            results["runs"].append({"guidance": guidance, "args": extra, "seconds": round(seconds, 1)})
            for (m, d), v in table_of(doc).items():
                c = (m, metric, trim, None if m not in ("predictive", "fused") else kappa)
                if m in ("zs", "dn2"):
                    c = (m, metric, 0.9, None)
                scores[guidance].setdefault(c, {})[d] = v
            print(guidance, metric, trim, kappa, "%.0f s" % seconds, flush=True)

    def lodo(guidance):
        table = scores[guidance]
        candidates = [c for c in table if c[0] in ("coldfusion", "predictive", "fused") and len(table[c]) == len(domains)]
        held = {}
        for d in domains:
            others = [o for o in domains if o != d]
            pick = max(candidates, key=lambda c: (sum(criterion(table[c][o]) for o in others) / len(others), name(c)))
            held[d] = {"pick": name(pick), **table[pick][d]}
        final = max(candidates, key=lambda c: (sum(criterion(table[c][o]) for o in domains) / len(domains), name(c)))
        return held, final

    report = {}
    for guidance in ["descriptions", "names"]:
        held, final = lodo(guidance)
        table = scores[guidance]
        base, zs = table[BASELINE], table[ZERO_SHOT]
        rows = {}
        for d in domains:
            rows[d] = {"held_out_default": held[d], "coldfusion_cosine": base[d], "zero_shot_cosine": zs[d],
                       "default_on_all": table[final][d]}
        summary = {}
        for key in ["auc@10", "auc@100", "final"]:
            summary[key] = {
                "held_out_default": spread([(d, held[d][key]) for d in domains]),
                "coldfusion_cosine": spread([(d, base[d][key]) for d in domains]),
                "zero_shot_cosine": spread([(d, zs[d][key]) for d in domains]),
                "held_out_minus_coldfusion": spread([(d, held[d][key] - base[d][key]) for d in domains]),
                "held_out_minus_zero_shot": spread([(d, held[d][key] - zs[d][key]) for d in domains]),
            }
        goals = {
            "auc@10 mean gain over ColdFusion cosine >= +1.5": summary["auc@10"]["held_out_minus_coldfusion"]["mean"] * 100 >= 1.5,
            "auc@100 no domain below ColdFusion cosine by more than 0.5": summary["auc@100"]["held_out_minus_coldfusion"]["worst"] * 100 >= -0.5,
            "never below zero-shot cosine (auc@10, auc@100)": all(
                held[d][k] >= zs[d][k] for d in domains for k in ["auc@10", "auc@100"]),
        }
        report[guidance] = {"default_chosen_on_all": name(final), "per_domain": rows, "summary": summary, "goals": goals,
                            "candidates": {name(c): v for c, v in sorted(table.items(), key=lambda x: name(x[0]))}}
    results["report"] = report

    # The curves of the default on all nine domains (descriptions), for the figure.
    default = report["descriptions"]["default_chosen_on_all"]
    final = next(c for c in scores["descriptions"] if name(c) == default)
    extra = ["--metric", final[1], "--trim", str(final[2]), "--kappa", str(final[3] or 1.5), "--method", "zs,coldfusion,predictive",
             "--plot", FIGURE]
    run(dirs, args, extra)
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(results, f, indent=1)
    print(markdown(results))


def pct(x):
    return "%.1f" % (100 * x)


def markdown(results):
    out = []
    for guidance in ["descriptions", "names"]:
        r = results["report"][guidance]
        out.append("### Guidance: %s\n" % ("one example query per class (`descriptions.json`)" if guidance == "descriptions"
                                          else "class names only (`names.json`)"))
        out.append("Chosen on all nine domains: **%s**.\n" % r["default_chosen_on_all"])
        out.append("| domain | picked on the other eight | held-out AUC@10% | AUC@100% | final | ColdFusion cosine AUC@10% | AUC@100% | zero-shot cosine |")
        out.append("|---|---|---|---|---|---|---|---|")
        for d in results["domains"]:
            row = r["per_domain"][d]
            h, b, z = row["held_out_default"], row["coldfusion_cosine"], row["zero_shot_cosine"]
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
                d, h["pick"], pct(h["auc@10"]), pct(h["auc@100"]), pct(h["final"]), pct(b["auc@10"]), pct(b["auc@100"]), pct(z["auc@10"])))
        s = r["summary"]

        def cell(x):
            return "%s ± %s (worst %s, %s)" % (pct(x["mean"]), pct(x["ci95"]), pct(x["worst"]), x["worst_domain"])
        out.append("\n| mean ± 95% CI over the 9 domains (worst) | AUC@10% | AUC@100% | final |")
        out.append("|---|---|---|---|")
        for key, label in [("held_out_default", "held-out default"), ("coldfusion_cosine", "ColdFusion, cosine"),
                           ("zero_shot_cosine", "zero-shot, cosine"), ("held_out_minus_coldfusion", "held-out − ColdFusion"),
                           ("held_out_minus_zero_shot", "held-out − zero-shot")]:
            out.append("| %s | %s | %s | %s |" % (label, cell(s["auc@10"][key]), cell(s["auc@100"][key]), cell(s["final"][key])))
        out.append("\nGoals: " + "; ".join("%s: **%s**" % (k, "met" if v else "missed") for k, v in r["goals"].items()) + ".\n")
    return "\n".join(out)


if __name__ == "__main__":
    sys.exit(main())
