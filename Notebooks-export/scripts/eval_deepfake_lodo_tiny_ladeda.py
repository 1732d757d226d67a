#!/usr/bin/env python3
"""Tiny-LaDeDa (the LaDeDa authors' *supervised* checkpoints) under the
held-out protocol of eval_deepfake_lodo.py, for comparison: the same images,
splits, conditions and metrics.

Tiny-LaDeDa is trained on fakes, so nothing is chosen or fitted here: each
generator group's fakes are scored against the held-out reals of all three
sources (as LOGO reports), and each real source's reals against the other
two sources' held-out reals (provenance error |AUROC - 0.5|). Scores are the
mean patch logits of `anomalykit deepfake tiny-ladeda --json
--harmonize-jpeg Q`; 2x-downscaled inputs are written by Pillow (bilinear)
to a temporary folder first, as in the main protocol.

    python3 Weights/convert.py tiny-ladeda --pth ../shared/data/weights/tiny-ladeda/WildRF_Tiny_LaDeDa.pth --out /tmp/tl/wildrf.safetensors
    /root/venv/bin/python Notebooks-export/scripts/eval_deepfake_lodo_tiny_ladeda.py --weights /tmp/tl/wildrf.safetensors --name WildRF

Merges its numbers into results/deepfake-lodo.json under "tiny_ladeda".
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import eval_deepfake_lodo as E  # noqa: E402

BINARY = os.path.join(E.REPO, ".build", "release", "anomalykit")


def logits(paths, weights, quality):
    out = subprocess.run([BINARY, "deepfake", "tiny-ladeda", "--weights", weights, "--json", "--harmonize-jpeg", str(quality), *paths],
                         check=True, capture_output=True, text=True).stdout
    return [row["logit"] for row in json.loads(out)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--name", required=True)
    ap.add_argument("--out", default=os.path.join(E.REPO, "Notebooks-export", "results", "deepfake-lodo.json"))
    ap.add_argument("--dump", help="also write each image's mean patch logit per condition to DUMP/tiny-ladeda-NAME-COND.json "
                    "(eval_deepfake_lodo.py --tiny-ladeda DUMP/tiny-ladeda-NAME reads them as a cue)")
    args = ap.parse_args()
    rows = E.manifest()
    groups = sorted({r["group"] for r in rows if r["kind"] == "fake"})
    result = {}
    with tempfile.TemporaryDirectory() as tmp:
        for q, down in E.CONDITIONS:
            name = "q%d%s" % (q, "-down2" if down else "")
            paths = []
            for i, r in enumerate(rows):
                if down:
                    im = Image.open(r["path"]).convert("RGB")
                    p = os.path.join(tmp, "%04d.png" % i)
                    im.resize((im.width // 2, im.height // 2), Image.BILINEAR).save(p)
                    paths.append(p)
                else:
                    paths.append(r["path"])
            s = dict(zip([r["key"] for r in rows], logits(paths, args.weights, q)))
            if args.dump:
                os.makedirs(args.dump, exist_ok=True)
                with open(os.path.join(args.dump, "tiny-ladeda-%s-%s.json" % (args.name, name)), "w") as f:
                    json.dump(s, f)
            reals = E.test_keys(rows, E.SOURCES)
            g = {}
            for grp in groups:
                fakes = E.test_keys(rows, group=grp)
                neg, pos = [s[k] for k in reals], [s[k] for k in fakes]
                g[grp] = {"auroc": E.auroc(neg, pos), "ci95": E.auroc_ci(neg, pos)}
            prov = {}
            for src in E.SOURCES:
                own = E.test_keys(rows, [x for x in E.SOURCES if x != src])
                other = [r["key"] for r in rows if r.get("source") == src]
                a = E.auroc([s[k] for k in own], [s[k] for k in other])
                prov[src] = {"auroc": a, "provenance_error": abs(a - 0.5)}
            a = [v["auroc"] for v in g.values()]
            result[name] = {"groups": g, "provenance": prov, "mean_auroc": float(np.mean(a)), "worst_auroc": float(min(a)),
                            "worst_provenance_error": float(max(v["provenance_error"] for v in prov.values()))}
            print(args.name, name, "mean %.3f worst %.3f provenance %s" % (
                np.mean(a), min(a), ", ".join("%.2f" % v["provenance_error"] for v in prov.values())), flush=True)
    if not os.path.exists(args.out):
        return
    doc = json.load(open(args.out))
    doc.setdefault("tiny_ladeda", {})[args.name] = result
    json.dump(doc, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
