#!/usr/bin/env python3
"""Face alignment latency: AnomalyKit's ShapePredictor + FaceChip vs dlib, same run.

Faces: every face that dlib's HOG detector (one upsampling) finds in the
61 photos of ../shared/data/faces/identities (at most 640 px on the longer
side). For each face both engines run the 5-point landmark predictor on the
HOG box and cut the 150 x 150 chip (padding 0.25) that dlib's face ResNet
takes; each step is timed on its own, single-threaded (dlib's predictor and
chip code are single-threaded), images already decoded. Before any timing,
AnomalyKit's landmarks and chips are compared with dlib's on every face.

The timed runs are interleaved: each of --rounds rounds runs one
`anomalykit-bench landmarks` pass (its own warm-up, then --repeats timed
passes) and then --repeats dlib passes, so that a change in the machine's
other load hits a whole round. Reported: the median over all timed passes
of the mean time per face.

Setup (dev only; none of this is a runtime dependency):
    pip install dlib-bin==20.0.1 numpy pillow
    swift build -c release --product anomalykit-bench

Run from the repository root:
    /root/venv/bin/python Notebooks-export/scripts/bench_landmarks.py [--rounds 5] [--repeats 3]
        [--predictor .../shape_predictor_5_face_landmarks.dat]

Writes Notebooks-export/results/speed-landmarks.json.
"""
import argparse
import glob
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))


def cpu_name():
    if not os.path.exists("/proc/cpuinfo"):
        return platform.processor() or platform.machine()
    return open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "faces", "identities", "images"))
    ap.add_argument("--predictor",
                    default="/tmp/frm/face_recognition_models/models/shape_predictor_5_face_landmarks.dat")
    ap.add_argument("--bench", default=os.path.join(REPO, ".build", "release", "anomalykit-bench"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    a = ap.parse_args()

    import dlib

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(a.predictor)
    weights = os.path.join(REPO, "Weights", "dlib-shape-predictor-5.safetensors")
    images, faces = {}, []
    for path in sorted(glob.glob(os.path.join(a.data, "*.png"))):
        img = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB")))
        images[path] = img
        for d in detector(img, 1):
            faces.append((path, d))
    if not faces:
        sys.exit("no faces found in %s" % a.data)

    def dlib_pass(keep=False):
        tl = tc = 0.0
        kept = []
        for path, box in faces:
            img = images[path]
            t0 = time.perf_counter()
            shape = predictor(img, box)
            t1 = time.perf_counter()
            chip = dlib.get_face_chip(img, shape, size=150, padding=0.25)
            tc += time.perf_counter() - t1
            tl += t1 - t0
            if keep:
                kept.append(([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], np.asarray(chip)))
        return tl / len(faces), tc / len(faces), kept

    with tempfile.TemporaryDirectory() as tmp:
        spec = os.path.join(tmp, "faces.txt")
        with open(spec, "w") as f:
            for path, d in faces:
                f.write("%s %d %d %d %d\n" % (path, d.left(), d.top(), d.right(), d.bottom()))

        def ours(extra=()):
            cmd = [a.bench, "landmarks", weights, spec, "--repeats", str(a.repeats)] + list(extra)
            return json.loads(subprocess.check_output(cmd))

        # Parity on every face first.
        first = ours(["--chips-out", tmp])
        _, _, ref = dlib_pass(keep=True)
        landmark_delta, chip_delta, chip_values_differing = 0.0, 0, 0
        for i, (points, chip) in enumerate(ref):
            landmark_delta = max(landmark_delta, float(np.abs(np.array(first["landmarks"][i]) - np.array(points)).max()))
            mine = np.asarray(Image.open(os.path.join(tmp, "%d.png" % i)).convert("RGB")).astype(int)
            d = np.abs(mine - chip.astype(int))
            chip_delta = max(chip_delta, int(d.max()))
            chip_values_differing += int((d != 0).sum())
        print("parity over %d faces: landmarks max |Δ| = %g px, chips max |Δ| = %d grey levels (%d values differ)"
              % (len(faces), landmark_delta, chip_delta, chip_values_differing), file=sys.stderr)

        wall = {"anomalykit": {"landmarks": [], "chip": []}, "dlib": {"landmarks": [], "chip": []}}
        for r in range(a.rounds):
            j = ours()
            wall["anomalykit"]["landmarks"] += j["landmarks_seconds_per_face"]
            wall["anomalykit"]["chip"] += j["chip_seconds_per_face"]
            for _ in range(a.repeats):
                tl, tc, _ = dlib_pass()
                wall["dlib"]["landmarks"].append(tl)
                wall["dlib"]["chip"].append(tc)
            print("round %d: anomalykit %.1f + %.1f us, dlib %.1f + %.1f us per face (landmarks + chip)" % (
                r + 1, 1e6 * np.median(j["landmarks_seconds_per_face"]), 1e6 * np.median(j["chip_seconds_per_face"]),
                1e6 * np.median(wall["dlib"]["landmarks"][-a.repeats:]),
                1e6 * np.median(wall["dlib"]["chip"][-a.repeats:])), file=sys.stderr)

    results = {
        "data": os.path.relpath(os.path.abspath(a.data), REPO), "images": len(images), "faces": len(faces),
        "detector": "dlib HOG (get_frontal_face_detector, 1 upsampling)", "chip_size": 150, "chip_padding": 0.25,
        "threads": 1, "rounds": a.rounds, "repeats_per_round": a.repeats,
        "machine": platform.machine(), "cpu": cpu_name(), "dlib": dlib.__version__,
        "max_abs_delta_landmarks_px": landmark_delta, "max_abs_delta_chip_grey_levels": chip_delta,
        "chip_values_differing": chip_values_differing,
    }
    for engine, steps in wall.items():
        entry = {}
        for step, times in steps.items():
            entry[step + "_seconds_per_face"] = times
            entry["median_" + step + "_microseconds_per_face"] = 1e6 * float(np.median(times))
        entry["median_total_microseconds_per_face"] = (entry["median_landmarks_microseconds_per_face"]
                                                       + entry["median_chip_microseconds_per_face"])
        results[engine] = entry
    for step in ("landmarks", "chip", "total"):
        key = "median_%s_microseconds_per_face" % step
        results["dlib_over_anomalykit_" + step] = results["dlib"][key] / results["anomalykit"][key]

    out = os.path.join(REPO, "Notebooks-export", "results", "speed-landmarks.json")
    with open(out + ".tmp", "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(out + ".tmp", out)
    for engine in wall:
        r = results[engine]
        print("%-10s landmarks %7.1f us  chip %7.1f us  total %7.1f us per face" % (
            engine, r["median_landmarks_microseconds_per_face"], r["median_chip_microseconds_per_face"],
            r["median_total_microseconds_per_face"]))


if __name__ == "__main__":
    main()
