#!/usr/bin/env python3
"""Peak RSS of `anomalykit fit` on 2,000 and 20,000 CIFAR-10 images.

Issue 6: fitting must stream (features go to a scratch file as they are
computed), so peak memory grows with what the bank keeps (N x D x 4 bytes),
not with the image data. Each run is a fresh process; its peak resident set
(ru_maxrss from wait4) is read when it exits. The 5,000 CIFAR-10 training
images are repeated (through symbolic links, nothing is copied) to reach
20,000, as the issue allows.

Runs, each at 2,000 and 20,000 images:
  pooled   the default image bank (cosine kNN on 1280-d pooled features,
           cross-fitted threshold): the bank keeps every row, N x 1280 x 4 B;
  patches  a patch bank (stages 3+5, 28x28 x 152-d per image) with a random
           1% coreset and no threshold (--holdout 0): 784 rows per image
           stream to disk, 1% are read back.

Usage (from the repository root, after `swift build -c release`):
  python3 Notebooks-export/scripts/bench_fit_memory.py [--sizes 2000 20000] [--binary .build/release/anomalykit]
Writes Notebooks-export/results/fit-memory.json. The 100,000-image scale run:
  python3 Notebooks-export/scripts/bench_fit_memory.py --sizes 100000 --banks pooled --input-size 64 \
      --out Notebooks-export/results/fit-memory-100k.json
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "images" / "cifar10" / "train"


def image_folder(n, base):
    files = sorted(DATA.rglob("*.png"))
    folder = Path(base) / f"cifar-{n}"
    folder.mkdir()
    for i in range(n):
        os.symlink(files[i % len(files)], folder / f"{i:06d}.png")
    return folder


def run(binary, args):
    start = time.time()
    p = subprocess.Popen([binary] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(p.pid, 0)
    out, err = p.stdout.read(), p.stderr.read()
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        sys.exit(f"{' '.join(args)} failed ({p.returncode}):\n{err}")
    return {"seconds": round(time.time() - start, 1), "peak_rss_bytes": usage.ru_maxrss * 1024,
            "summary": [l for l in err.splitlines() if l.startswith("wrote")][-1:]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    ap.add_argument("--binary", default=str(ROOT / ".build/release/anomalykit"))
    ap.add_argument("--out", default=str(ROOT / "Notebooks-export/results/fit-memory.json"))
    ap.add_argument("--banks", nargs="+", default=["pooled", "patches"])
    ap.add_argument("--input-size", type=int, default=None, help="network input side (default: the weights' 224)")
    a = ap.parse_args()
    results = []
    with tempfile.TemporaryDirectory(dir="/tmp") as base:
        for n in a.sizes:
            folder = image_folder(n, base)
            for name, extra, rows_per_image, dim, kept in [
                ("pooled", ["--resize", "stretch"], 1, 1280, 1.0),
                ("patches", ["--resize", "stretch", "--patches", "--coreset", "0.01", "--coreset-method", "random", "--holdout", "0"], 784, 152, 0.01),
            ]:
                if name not in a.banks:
                    continue
                if a.input_size:
                    extra = extra + ["--input-size", str(a.input_size)]
                    side = a.input_size // 8
                    rows_per_image = 1 if name == "pooled" else side * side
                bank = Path(base) / f"{name}-{n}.safetensors"
                r = run(a.binary, ["fit", str(folder), "--out", str(bank)] + extra)
                r.update({"bank": name, "images": n, "args": extra, "feature_rows": n * rows_per_image, "dimension": dim,
                          "spooled_bytes": n * rows_per_image * dim * 4,
                          "bank_rows": round(n * rows_per_image * kept), "bank_bytes": round(n * rows_per_image * kept) * dim * 4,
                          "bank_file_bytes": bank.stat().st_size})
                print(json.dumps(r), flush=True)
                results.append(r)
                bank.unlink()
    for name in ("pooled", "patches"):
        rs = sorted((r for r in results if r["bank"] == name), key=lambda r: r["images"])
        if len(rs) >= 2:
            lo, hi = rs[0], rs[-1]
            slope = (hi["peak_rss_bytes"] - lo["peak_rss_bytes"]) / (hi["bank_bytes"] - lo["bank_bytes"])
            per_image = (hi["peak_rss_bytes"] - lo["peak_rss_bytes"]) / (hi["images"] - lo["images"])
            print(f"{name}: peak RSS grows {per_image/1024:.1f} KiB per image = {slope:.2f} x the bank's bytes", flush=True)
    Path(a.out).write_text(json.dumps({
        "machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
        "date": time.strftime("%Y-%m-%d"), "command": "python3 Notebooks-export/scripts/bench_fit_memory.py",
        "runs": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
