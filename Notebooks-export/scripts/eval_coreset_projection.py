#!/usr/bin/env python3
"""Greedy coreset speed (issue 20): the projection width's cost and its effect.

1. Speed, in one run of `anomalykit-bench coreset`: the greedy coreset of
   the real patch features of 300 Magnetic Tile normals (stages 3+5 at 224:
   235,200 x 152), 10% kept, by `Coreset.select` at 32 dimensions and by the
   previous row-scan greedy at 128 (identical to the shipped 128-d
   selection).
2. Effect: `anomalykit eval --mvtec` on the four development sets with the
   shipped default recipe, `--coreset-projection 128` and `32`: image AUROC,
   pixel AUROC, AUPRO and fit time.

    swift build -c release --product anomalykit --product anomalykit-bench
    python3 Notebooks-export/scripts/eval_coreset_projection.py

Writes Notebooks-export/results/coreset-projection.json (stdlib only).
"""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import select_industrial_defaults as S  # noqa: E402

BENCH = os.path.join(S.REPO, ".build", "release", "anomalykit-bench")


def main():
    lodo = json.load(open(os.path.join(S.REPO, "Notebooks-export", "results", "industrial-lodo.json")))
    recipe = lodo["results"][lodo["summary"]["default"]]["recipe"]
    free = sorted(os.listdir(os.path.join(S.DATA, "magnetic-tile", "MT_Free", "images")))[:300]
    paths = [os.path.join(S.DATA, "magnetic-tile", "MT_Free", "images", f) for f in free]
    p = subprocess.run([BENCH, "coreset", os.path.join(S.REPO, "Weights", "efficientnet-lite0.safetensors"), *paths,
                        "--fraction", "0.1", "--projection", "32"], capture_output=True, text=True, check=True)
    speed = json.loads(p.stdout)
    print("speed:", speed, flush=True)
    effect = {}
    with tempfile.TemporaryDirectory() as tmp:
        datasets = S.development_sets(tmp)
        for ds, d in datasets.items():
            for width in ("128", "32"):
                cmd = [S.BIN, "eval", "--mvtec", d, "--json", "--stage", *recipe["stages"], "--input-size", recipe["input"],
                       "--transform", recipe["transform"], "--coreset-projection", width]
                r = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
                effect.setdefault(ds, {})[width] = {k: r[k] for k in ("auroc", "pixel_auroc", "aupro", "fit_seconds")}
                print(ds, width, effect[ds][width], flush=True)
    out = {"recipe": recipe, "speed": speed, "effect": effect,
           "max_auroc_change": max(abs(v["32"]["auroc"] - v["128"]["auroc"]) for v in effect.values())}
    with open(os.path.join(S.REPO, "Notebooks-export", "results", "coreset-projection.json"), "w") as f:
        json.dump(out, f, indent=1)
    print("max image AUROC change %.4f" % out["max_auroc_change"])


if __name__ == "__main__":
    main()
