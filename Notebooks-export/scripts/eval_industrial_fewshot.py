#!/usr/bin/env python3
"""Few-shot industrial inspection (issue 20): fit on N normal images only.

For each of the four development sets (see select_industrial_defaults.py) and
N in 1, 2, 4, 8, 16: `anomalykit eval --mvtec DIR --shots N --draws 5 --json`
with the shipped default recipe (from results/industrial-lodo.json unless
--stages/--input/--transform are given). Each draw fits on N train/good
images chosen by a seeded uniform sample (seeds 0-4) and scores the whole
test set. With --augment-dihedral each shot also enters the bank as its 7
other rotations by 90 degrees and mirror images (results/industrial-fewshot-dihedral.json).

    swift build -c release --product anomalykit
    python3 Notebooks-export/scripts/eval_industrial_fewshot.py

Writes Notebooks-export/results/industrial-fewshot.json (stdlib only).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import select_industrial_defaults as S  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shots", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--augment-dihedral", action="store_true", help="fit on each shot's 8 rotations/mirrors too")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.out is None:
        name = "industrial-fewshot-dihedral.json" if args.augment_dihedral else "industrial-fewshot.json"
        args.out = os.path.join(S.REPO, "Notebooks-export", "results", name)
    lodo = json.load(open(os.path.join(S.REPO, "Notebooks-export", "results", "industrial-lodo.json")))
    recipe = lodo["results"][lodo["summary"]["default"]]["recipe"]
    out = {"recipe": recipe, "draws": args.draws, "augment": "dihedral" if args.augment_dihedral else "none", "results": {}}
    with tempfile.TemporaryDirectory() as tmp:
        datasets = S.development_sets(tmp)
        for n in args.shots:
            for ds, d in datasets.items():
                cmd = [S.BIN, "eval", "--mvtec", d, "--json", "--shots", str(n), "--draws", str(args.draws),
                       "--stage", *recipe["stages"], "--input-size", recipe["input"], "--transform", recipe["transform"]]
                if args.augment_dihedral:
                    cmd.append("--augment-dihedral")
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    raise SystemExit(p.stderr[-2000:])
                r = json.loads(p.stdout)
                out["results"].setdefault(str(n), {})[ds] = r
                aurocs = [x["auroc"] for x in r["draws"]] if "draws" in r else [r["auroc"]]
                print("%2d-shot %-18s AUROC %.4f (min %.4f, sd %.4f)" % (
                    n, ds, statistics.mean(aurocs), min(aurocs), statistics.pstdev(aurocs)), flush=True)
            means = [out["results"][str(n)][ds]["auroc"] for ds in datasets]
            print("%2d-shot mean over datasets %.4f, worst %.4f" % (n, statistics.mean(means), min(means)), flush=True)
    with open(args.out, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
