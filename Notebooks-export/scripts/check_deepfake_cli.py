#!/usr/bin/env python3
"""Does the shipped CLI reproduce the protocol's numbers for its default?

Runs `anomalykit deepfake fit` / `deepfake score --json` (libjpeg
harmonisation, Swift cues) on the splits of eval_deepfake_lodo.py at JPEG 90
and 75, native size, and compares with the Python reference's in-sample
numbers for the same default (results/deepfake-lodo.json, "default"):
per-group AUROC against the held-out reals of all sources (bank = the fit
halves of all three), and each source's provenance AUROC (bank = the fit
halves of the other two).

    swift build -c release --product anomalykit
    /root/venv/bin/python Notebooks-export/scripts/check_deepfake_cli.py

Writes Notebooks-export/results/deepfake-cli-check.json.
"""
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_deepfake_lodo as E  # noqa: E402

BINARY = os.path.join(E.REPO, ".build", "release", "anomalykit")


def main():
    rows = E.manifest()
    by_key = {r["key"]: r for r in rows}
    groups = sorted({r["group"] for r in rows if r["kind"] == "fake"})
    ref = json.load(open(os.path.join(E.REPO, "Notebooks-export", "results", "deepfake-lodo.json")))["default"]
    out = {"readings": None, "conditions": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for q in (90, 75):
            name = "q%d" % q

            def fit(sources):
                det = os.path.join(tmp, "%s-%s.safetensors" % (name, "-".join(sources)))
                paths = [r["path"] for r in rows if r.get("split") == "fit" and r["source"] in sources]
                subprocess.run([BINARY, "deepfake", "fit", *paths, "--out", det, "--harmonize-jpeg", str(q)], check=True, capture_output=True)
                return det

            def score(det, keys):
                res = subprocess.run([BINARY, "deepfake", "score", "--bank", det, "--json", *[by_key[k]["path"] for k in keys]],
                                     check=True, capture_output=True, text=True).stdout
                return [row["score"] for row in json.loads(res)]

            det = fit(E.SOURCES)
            info = json.loads(subprocess.run([BINARY, "info", det, "--json"], check=True, capture_output=True, text=True).stdout)
            out["readings"] = info["metadata"]["readings"]
            reals = E.test_keys(rows, E.SOURCES)
            fakes = [r["key"] for r in rows if r["kind"] == "fake"]
            s = dict(zip(reals + fakes, score(det, reals + fakes)))
            g = {grp: E.auroc([s[k] for k in reals], [s[k] for k in E.test_keys(rows, group=grp)]) for grp in groups}
            prov = {}
            for held in E.SOURCES:
                rest = [x for x in E.SOURCES if x != held]
                d = fit(rest)
                own = E.test_keys(rows, rest)
                other = [r["key"] for r in rows if r.get("source") == held]
                sc = score(d, own + other)
                prov[held] = E.auroc(sc[:len(own)], sc[len(own):])
            py = ref["in_sample"][name]
            out["conditions"][name] = {
                "cli": {"groups": g, "mean_auroc": float(np.mean(list(g.values()))), "provenance_auroc": prov},
                "python": {"mean_auroc": float(np.mean(list(py["groups"].values()))), "provenance_auroc": py["provenance_auroc"]},
                "max_group_difference": float(max(abs(g[x] - py["groups"][x]) for x in groups)),
            }
            c = out["conditions"][name]
            print("%s CLI mean %.3f (Python %.3f), largest per-group difference %.3f; provenance CLI %s / Python %s" % (
                name, c["cli"]["mean_auroc"], c["python"]["mean_auroc"], c["max_group_difference"],
                ", ".join("%.2f" % prov[x] for x in E.SOURCES), ", ".join("%.2f" % py["provenance_auroc"][x] for x in E.SOURCES)),
                flush=True)
    with open(os.path.join(E.REPO, "Notebooks-export", "results", "deepfake-cli-check.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
