#!/usr/bin/env python3
"""Face-network speed: AnomalyKit's FaceEmbedder / FaceDetector vs dlib-bin, same run.

Both embed the same 150x150 face chips (dlib HOG detector + 5-point shape
predictor + get_face_chip, made here from /work/shared/data/faces) and run the
MMOD CNN face detector (upsample 0) on the same 640x480 photo (img2.png),
with 1 and with 2 threads. The detection counts are checked to agree
(descriptor and box parity is what Tests/OODFrontTests checks in CI). The
machine's load average is recorded: on a shared machine the 2-thread runs
only gain if a second core is actually free.

AnomalyKit: `anomalykit-bench faces` (all chips in one `embed` call, chips
spread over the workers; detection convolutions split by rows).
dlib-bin 20.0.1: `compute_face_descriptor(list of chips)` and
`cnn_face_detection_model_v1(img, 0)`, each in a subprocess with
OMP/OPENBLAS/MKL thread variables set to the thread count (dlib's CPU build
decides itself how much it parallelises).

Setup (dev only): the dev venv with dlib-bin, and
    swift build -c release --product anomalykit-bench

Run from the repository root:
    python3 Notebooks-export/scripts/bench_faces.py [--models DIR] [--chips 16] [--repeats 5]

Writes Notebooks-export/results/speed-faces.json.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
FACES = os.path.join(REPO, "..", "shared", "data", "faces", "identities", "images")
BENCH = os.path.join(REPO, ".build", "release", "anomalykit-bench")

DLIB_WORKER = r"""
import json, sys, time
import numpy as np, dlib
from PIL import Image
models, image, repeats, chips = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
rec = dlib.face_recognition_model_v1(models + "/dlib_face_recognition_resnet_model_v1.dat")
cnn = dlib.cnn_face_detection_model_v1(models + "/mmod_human_face_detector.dat")
arrs = [np.array(Image.open(c).convert("RGB")) for c in chips]
img = np.array(Image.open(image).convert("RGB"))
descs = [list(d) for d in rec.compute_face_descriptor(arrs)]
dets = [[d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), d.confidence] for d in cnn(img, 0)]
e, t = [], []
for _ in range(repeats):
    t0 = time.perf_counter(); rec.compute_face_descriptor(arrs); e.append((time.perf_counter() - t0) * 1000 / len(arrs))
    t0 = time.perf_counter(); cnn(img, 0); t.append((time.perf_counter() - t0) * 1000)
med = lambda v: sorted(v)[len(v) // 2]
print(json.dumps({"engine": "dlib-bin " + dlib.__version__, "chips": len(arrs),
                  "embed_ms_per_chip_median": med(e), "embed_ms_per_chip_best": min(e),
                  "detect_ms_median": med(t), "detect_ms_best": min(t), "detections": len(dets),
                  "descriptors": descs, "boxes": dets}))
"""

REF_WORKER = r"""
import json, sys, numpy as np, dlib
from PIL import Image
models, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
sources = sys.argv[4:]
hog = dlib.get_frontal_face_detector()
sp = dlib.shape_predictor(models + "/shape_predictor_5_face_landmarks.dat")
paths = []
for src in sources:
    img = np.array(Image.open(src).convert("RGB"))
    dets = hog(img, 1)
    if len(dets) == 0:
        continue
    d = max(dets, key=lambda r: r.area())
    chip = dlib.get_face_chip(img, sp(img, d), 150)
    p = "%s/chip%02d.png" % (out, len(paths))
    Image.fromarray(chip).save(p)
    paths.append(p)
    if len(paths) == n:
        break
print(json.dumps(paths))
"""


def run_json(cmd, env=None):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if r.returncode != 0:
        sys.exit("failed: %s\n%s" % (" ".join(cmd), r.stderr))
    return json.loads(r.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="/tmp/frm/face_recognition_models/models")
    ap.add_argument("--chips", type=int, default=16)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--image", default=os.path.join(FACES, "img2.png"))
    args = ap.parse_args()
    if not os.path.exists(BENCH):
        sys.exit("build anomalykit-bench first: swift build -c release --product anomalykit-bench")
    sources = sorted((os.path.join(FACES, f) for f in os.listdir(FACES) if f.endswith(".png")),
                     key=lambda p: int(os.path.basename(p)[3:-4]))
    with tempfile.TemporaryDirectory(prefix="bench-faces-") as tmp:
        chips = json.loads(subprocess.run([sys.executable, "-c", REF_WORKER, args.models, tmp, str(args.chips)] + sources,
                                          stdout=subprocess.PIPE, check=True, text=True).stdout)
        runs = []
        for threads in (1, 2):
            env = dict(os.environ, OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
                       MKL_NUM_THREADS=str(threads), ANOMALYKIT_THREADS=str(threads))
            ours = run_json([BENCH, "faces", os.path.join(REPO, "Weights", "dlib-face-resnet-v1.safetensors"),
                             os.path.join(REPO, "Weights", "dlib-mmod-face-detector.safetensors"), args.image]
                            + chips + ["--threads", str(threads), "--repeats", str(args.repeats)], env)
            theirs = run_json([sys.executable, "-c", DLIB_WORKER, args.models, args.image, str(args.repeats)] + chips, env)
            theirs["threads"] = threads
            runs += [ours, theirs]
            print(json.dumps({k: v for k, v in ours.items()}), file=sys.stderr)
            print(json.dumps({k: v for k, v in theirs.items() if k not in ("descriptors", "boxes")}), file=sys.stderr)
        # agreement check on the last dlib run (descriptors and boxes)
        check = run_json([BENCH, "faces", os.path.join(REPO, "Weights", "dlib-face-resnet-v1.safetensors"),
                          os.path.join(REPO, "Weights", "dlib-mmod-face-detector.safetensors"), args.image]
                         + chips + ["--threads", "1", "--repeats", "1"])
        if check["detections"] != theirs["detections"]:
            sys.exit("detection counts differ: %d vs dlib %d" % (check["detections"], theirs["detections"]))
    for r in runs:
        r.pop("descriptors", None)
        r.pop("boxes", None)
    result = {
        "what": "ms per 150x150 chip embedding (batch of %d chips) and ms per 640x480 detection (upsample 0)"
                % len(chips),
        "machine": "%s, %d CPUs (shared with other jobs)" % (platform.processor() or platform.machine(), os.cpu_count()),
        "repeats": args.repeats,
        "load_average_after": list(os.getloadavg()),
        "image": os.path.relpath(args.image, REPO),
        "runs": runs,
    }
    out = os.path.join(REPO, "Notebooks-export", "results", "speed-faces.json")
    with open(out, "w") as f:
        json.dump(result, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote", out)


if __name__ == "__main__":
    main()
