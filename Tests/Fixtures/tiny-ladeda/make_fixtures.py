#!/usr/bin/env python3
"""Regenerate the Tiny-LaDeDa parity fixtures in this folder.

Dev script: needs torch (2.13.0+cpu), numpy, pillow and safetensors; the Swift
tests only read the files it writes. Run from the repository root:

    /root/venv/bin/python Tests/Fixtures/tiny-ladeda/make_fixtures.py

What it does:
  1. Defines Tiny-LaDeDa in torch, written from the authors' definition
     (github.com/barcavia/RealTime-DeepfakeDetection-in-the-RealWorld @
     e734562bbb67, networks/Tiny_LaDeDa.py) with the shapes of their released
     checkpoints: layer1.0.conv2 is 3x3 / stride 2 and fc is 8 -> 1 (the
     repository's factory builds a 1x1 conv2 and a 32 -> 1 fc, which the
     checkpoints do not load into).
  2. Fills it with seeded RANDOM weights of those shapes, with non-trivial
     batch-norm statistics (the official weights are under a research licence
     and are never committed).
  3. Saves the state dict with a `module.` prefix on every name (as
     nn.DataParallel does) in the LEGACY torch format
     (torch.save(..., _use_new_zipfile_serialization=False)) as
     random-weights.pth (kept if present; --remake-weights redraws it), and
     converts it with `python3 Weights/convert.py tiny-ladeda` into
     random-weights.safetensors, which must equal the state dict bit for
     bit. Also checks that the converter refuses a checkpoint with a wrong
     shape, naming the tensor.
  4. Writes three input PNGs (below) and runs the authors' test-time
     pipeline on them: PIL open + convert('RGB'), torchvision
     Resize((256, 256)) (= PIL resize BILINEAR, a no-op at 256x256),
     ToTensor, Normalize(ImageNet mean, std); torchvision is not installed
     here, so those three steps are written out below exactly as
     torchvision implements them on PIL images.
  5. Records the patch-logit map (pool=False) and the pooled logit
     (pool=True: AvgPool over the map, then fc) and its sigmoid in
     expected.safetensors; and the same for the NPR input representation on
     generated256 (weights converted with --preprocess NPR into
     random-weights-npr.safetensors), under "npr.".
  6. If the official checkpoints are present (--official-dir, default
     ../shared/data/weights/tiny-ladeda beside the repository), records their
     pooled logits (float64 and float32 PyTorch) and probabilities on the same
     three images in official.json (numbers only), keyed by the checkpoint's
     SHA-256, with
     the input representation the converter picks for each (right_diag for
     WildRF, NPR for ForenSynth).

Inputs (the PNGs are the fixture; references are computed from the decoded
PNG bytes on disk):
  generated256.png      bias-ai-university fake/chatgpt-image/inclusive_p1.png,
                        256x256 as is (CC0); the resize is a no-op
  photo192x160.png      ml72 real/animals_1.png, the 192x160 window at
                        (x=96, y=128) (MIT, (c) 2025 Michael); upscaled
  synthetic400x300.png  drawn here (shapes, stripes, a gradient); downscaled
"""

import argparse
import collections
import hashlib
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from PIL import Image, ImageDraw
import PIL
import safetensors
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
sys.path.insert(0, os.path.join(REPO, "Weights"))
import convert  # noqa: E402  (numpy-only; for its deterministic safetensors writer)

SEED = 20240613
INPUT_SIZE = 256
MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
IMAGES = ["generated256", "photo192x160", "synthetic400x300"]
WEIGHTS = "random-weights.safetensors"
NPR_WEIGHTS = "random-weights-npr.safetensors"  # the same weights, NPR input
NPR_IMAGE = "generated256"
# The legacy-format checkpoint the converter reads. Kept when present: legacy
# torch.save names storages by memory address, so a rewrite changes its bytes
# (and the SHA-256 that the converted file records) though not its values.
PTH_NAME = "random-weights.pth"


class TinyBlock(nn.Module):
    """layer1.0: conv 1x1 -> BN -> ReLU -> conv 3x3 stride 2 (unpadded) -> BN -> ReLU.
    No residual branch."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(8, 8, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 8, kernel_size=3, stride=2, padding=0, bias=False)
        self.bn2 = nn.BatchNorm2d(8)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))


class TinyLaDeDaReference(nn.Module):
    """Input representation (right-diagonal gradient: depthwise 3x3 with zero
    'same' padding; or NPR: x - up2(down2(x)), nearest) -> conv1 1x1 3->8 ->
    conv2 3x3 8->8 unpadded -> BN -> ReLU -> layer1.0 -> fc 8->1, pooled
    (global average, then fc) or per location (pool=False)."""

    GRADIENT = [[-2.0, -1.0, 0.0], [-1.0, 0.0, 1.0], [0.0, 1.0, 2.0]]

    def __init__(self, preprocess="right_diag"):
        super().__init__()
        assert preprocess in ("right_diag", "NPR")
        self.preprocess = preprocess
        self.conv1 = nn.Conv2d(3, 8, kernel_size=1, bias=False)
        self.conv2 = nn.Conv2d(8, 8, kernel_size=3, padding=0, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.layer1 = nn.Sequential(TinyBlock())
        self.fc = nn.Linear(8, 1)

    def forward(self, x, pool=True):
        if self.preprocess == "NPR":
            down = F.interpolate(x, scale_factor=0.5, mode="nearest", recompute_scale_factor=True)
            x = x - F.interpolate(down, scale_factor=2, mode="nearest", recompute_scale_factor=True)
        else:
            k = torch.tensor(self.GRADIENT, dtype=x.dtype).view(1, 1, 3, 3).repeat(3, 1, 1, 1)
            x = F.conv2d(x, k, groups=3, padding="same")
        x = F.relu(self.bn1(self.conv2(self.conv1(x))))
        x = self.layer1(x)
        if pool:
            x = F.avg_pool2d(x, x.size()[2], stride=1).flatten(1)
            return self.fc(x)
        return self.fc(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)


def random_state(model):
    """Seeded random weights of the official shapes. Convs follow the authors'
    init (normal, std sqrt(2 / (k*k*out))); BN and fc get non-trivial values
    so every term of the forward pass matters."""
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Conv2d):
                n = m.kernel_size[0] * m.kernel_size[1] * m.out_channels
                m.weight.copy_(torch.randn(m.weight.shape, generator=g) * math.sqrt(2.0 / n))
            elif isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(0.5 + torch.rand(8, generator=g))
                m.bias.copy_(0.3 * torch.randn(8, generator=g))
                m.running_mean.copy_(0.5 * torch.randn(8, generator=g))
                m.running_var.copy_(0.3 + 1.7 * torch.rand(8, generator=g))
                m.num_batches_tracked.fill_(360678)
            elif isinstance(m, nn.Linear):
                m.weight.copy_(0.5 * torch.randn(m.weight.shape, generator=g))
                m.bias.copy_(0.2 * torch.randn(m.bias.shape, generator=g))


def center_fc_bias(model, x):
    """Shifts fc.bias so that the patch logits of `x` have median 0: with
    random weights the logits would otherwise all share one sign, and the
    fixture should exercise both sides of the 0.5 threshold."""
    with torch.no_grad():
        median = model(x, pool=False).median()
        model.fc.bias.sub_(median)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def make_images(data_root):
    src = os.path.join(data_root, "realfake", "bias-ai-university", "fake", "chatgpt-image", "inclusive_p1.png")
    Image.open(src).convert("RGB").save(os.path.join(HERE, "generated256.png"))
    src = os.path.join(data_root, "realfake", "ml72", "real", "animals_1.png")
    Image.open(src).convert("RGB").crop((96, 128, 96 + 192, 128 + 160)).save(os.path.join(HERE, "photo192x160.png"))
    img = Image.new("RGB", (400, 300))
    px = np.zeros((300, 400, 3), np.uint8)
    yy, xx = np.mgrid[0:300, 0:400]
    px[..., 0] = (xx * 255 // 399).astype(np.uint8)
    px[..., 1] = (yy * 255 // 299).astype(np.uint8)
    px[..., 2] = np.where(((xx // 7) + (yy // 5)) % 2 == 0, 200, 40)
    img = Image.fromarray(px)
    d = ImageDraw.Draw(img)
    d.ellipse((40, 30, 180, 170), fill=(250, 240, 30))
    d.rectangle((220, 60, 360, 250), fill=(20, 30, 220))
    d.polygon([(60, 280), (200, 190), (330, 285)], fill=(240, 20, 60))
    for i in range(0, 400, 3):
        d.line((i, 0, i + 40, 40), fill=(255, 255, 255) if i % 2 else (0, 0, 0))
    img.save(os.path.join(HERE, "synthetic400x300.png"))


def to_input(path):
    """The authors' test transform on a PIL image, torchvision's steps written out:
    Resize((256, 256)) -> img.resize((256, 256), BILINEAR) (skipped by PIL when
    the size already matches: it returns a copy); ToTensor -> uint8 HWC to
    float CHW / 255; Normalize -> sub_(mean).div_(std) in float32."""
    img = Image.open(path).convert("RGB")
    if img.size != (INPUT_SIZE, INPUT_SIZE):
        img = img.resize((INPUT_SIZE, INPUT_SIZE), Image.BILINEAR)
    t = torch.from_numpy(np.array(img, np.uint8, copy=True)).permute(2, 0, 1).contiguous()
    t = t.to(torch.float32).div(255)
    mean = torch.as_tensor(MEAN, dtype=torch.float32)
    std = torch.as_tensor(STD, dtype=torch.float32)
    return t.sub_(mean[:, None, None]).div_(std[:, None, None]).unsqueeze(0)


def run_converter(pth, out, *extra):
    return subprocess.run([sys.executable, os.path.join(REPO, "Weights", "convert.py"), "tiny-ladeda",
                           "--pth", pth, "--out", out] + list(extra), capture_output=True, text=True)


def header_metadata(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = np.frombuffer(blob[:8], "<u8")
    return json.loads(blob[8:8 + int(n)])["__metadata__"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"),
                   help="the shared data folder (for the two source images)")
    p.add_argument("--official-dir", default=None,
                   help="folder with WildRF_Tiny_LaDeDa.pth / ForenSynth_Tiny_LaDeDa.pth "
                        "(default: DATA/weights/tiny-ladeda)")
    p.add_argument("--remake-pngs", action="store_true", help="re-derive the input PNGs")
    p.add_argument("--remake-weights", action="store_true",
                   help="redraw the random weights and rewrite random-weights.pth")
    args = p.parse_args()
    torch.set_num_threads(1)
    if args.remake_pngs or not all(os.path.exists(os.path.join(HERE, n + ".png")) for n in IMAGES):
        make_images(args.data)

    model = TinyLaDeDaReference().eval()
    pth = os.path.join(HERE, PTH_NAME)
    if args.remake_weights or not os.path.exists(pth):
        random_state(model)
        center_fc_bias(model, to_input(os.path.join(HERE, IMAGES[0] + ".png")))
        state = collections.OrderedDict(("module." + k, v) for k, v in model.state_dict().items())
        torch.save(state, pth, _use_new_zipfile_serialization=False)
    state = torch.load(pth, map_location="cpu", weights_only=True)
    assert all(k.startswith("module.") for k in state), "the fixture checkpoint has 'module.' names"
    model.load_state_dict(collections.OrderedDict((k[len("module."):], v) for k, v in state.items()), strict=True)

    tmp = tempfile.mkdtemp(prefix="tiny-ladeda-fixture-")
    try:
        out = os.path.join(HERE, WEIGHTS)
        r = run_converter(pth, out)
        if r.returncode != 0:
            raise SystemExit("convert.py failed:\n" + r.stderr)
        converted = load_file(out)
        plain = {k[len("module."):]: v for k, v in state.items() if not k.endswith("num_batches_tracked")}
        assert sorted(converted) == sorted(plain), (sorted(converted), sorted(plain))
        for k, v in plain.items():
            assert np.array_equal(converted[k], v.numpy()), k
        meta = header_metadata(out)
        with open(pth, "rb") as f:
            pth_sha = sha256(f.read())
        assert meta["source_file"] == PTH_NAME and meta["source_file_sha256"] == pth_sha, meta
        assert meta["source_format"] == "torch-legacy" and meta["preprocess"] == "right_diag", meta
        r = run_converter(pth, os.path.join(HERE, NPR_WEIGHTS), "--preprocess", "NPR")
        if r.returncode != 0:
            raise SystemExit("convert.py --preprocess NPR failed:\n" + r.stderr)
        assert header_metadata(os.path.join(HERE, NPR_WEIGHTS))["preprocess"] == "NPR"

        # The converter refuses a wrong shape and names the tensor.
        bad = collections.OrderedDict(state)
        bad["module.layer1.0.conv2.weight"] = torch.zeros(8, 8, 1, 1)
        torch.save(bad, os.path.join(tmp, "bad.pth"), _use_new_zipfile_serialization=False)
        r = run_converter(os.path.join(tmp, "bad.pth"), os.path.join(tmp, "bad.safetensors"))
        assert r.returncode != 0 and "module.layer1.0.conv2.weight" in r.stderr \
            and "[8, 8, 3, 3]" in r.stderr and "wrong shapes" in r.stderr, r.stderr
        assert not os.path.exists(os.path.join(tmp, "bad.safetensors"))
    finally:
        shutil.rmtree(tmp)

    tensors = {}
    image_sha = {}
    sizes = {}
    with torch.no_grad():
        for name in IMAGES:
            path = os.path.join(HERE, name + ".png")
            with open(path, "rb") as f:
                image_sha[name] = sha256(f.read())
            sizes[name] = list(Image.open(path).size)
            x = to_input(path)
            patches = model(x, pool=False)[0, 0].numpy()
            pooled = model(x, pool=True)[0, 0]
            prob = torch.sigmoid(pooled)
            assert patches.shape == (126, 126), patches.shape
            # fc is linear: the mean patch logit is the pooled logit (up to rounding).
            gap = abs(float(patches.astype(np.float64).mean()) - float(pooled))
            assert gap < 1e-4, gap
            tensors[name + ".patch_logits"] = patches.astype(np.float32)
            tensors[name + ".pooled_logit"] = np.array([float(pooled)], np.float32)
            tensors[name + ".probability"] = np.array([float(prob)], np.float32)
            print("%-18s %dx%d  pooled logit %+.6f  p(fake) %.6f  patch logits %+.3f..%+.3f"
                  "  |mean(patches) - pooled| %.2g"
                  % (name, sizes[name][0], sizes[name][1], float(pooled), float(prob),
                     patches.min(), patches.max(), gap))

    # The same weights with NPR input, on one image.
    npr = TinyLaDeDaReference("NPR").eval()
    npr.load_state_dict(model.state_dict(), strict=True)
    with torch.no_grad():
        x = to_input(os.path.join(HERE, NPR_IMAGE + ".png"))
        patches = npr(x, pool=False)[0, 0].numpy()
        pooled = npr(x, pool=True)[0, 0]
        tensors["npr." + NPR_IMAGE + ".patch_logits"] = patches.astype(np.float32)
        tensors["npr." + NPR_IMAGE + ".pooled_logit"] = np.array([float(pooled)], np.float32)
        tensors["npr." + NPR_IMAGE + ".probability"] = np.array([float(torch.sigmoid(pooled))], np.float32)
        print("NPR %-14s pooled logit %+.6f  patch logits %+.3f..%+.3f"
              % (NPR_IMAGE, float(pooled), patches.min(), patches.max()))

    metadata = {
        "script": "Tests/Fixtures/tiny-ladeda/make_fixtures.py",
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pillow": PIL.__version__,
        "safetensors": safetensors.__version__,
        "weights": WEIGHTS,
        "npr_weights": NPR_WEIGHTS,
        "seed": str(SEED),
        "images": json.dumps(IMAGES),
        "image_sizes": json.dumps(sizes, sort_keys=True),
        "image_sha256": json.dumps(image_sha, sort_keys=True),
        "preprocessing": "PIL RGB; resize to 256x256 BILINEAR unless already 256x256; "
                         "x/255; (x - [0.485,0.456,0.406]) / [0.229,0.224,0.225]",
        "grid": "126x126 patch logits, row-major; cell i covers input pixels 2i-1 ..< 2i+6",
    }
    with open(os.path.join(HERE, "expected.safetensors"), "wb") as f:
        f.write(convert.safetensors_bytes(tensors, metadata))

    official_dir = args.official_dir or os.path.join(args.data, "weights", "tiny-ladeda")
    official = collections.OrderedDict()
    for ckpt in ("WildRF_Tiny_LaDeDa.pth", "ForenSynth_Tiny_LaDeDa.pth"):
        path = os.path.join(official_dir, ckpt)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            digest = sha256(f.read())
        preprocess = convert.TINY_LADEDA_KNOWN[digest][2]
        sd = torch.load(path, map_location="cpu")
        m = TinyLaDeDaReference(preprocess).eval()
        m.load_state_dict(sd, strict=True)
        # The official weights drive patch logits into the hundreds or
        # thousands, where float32 pooling in PyTorch is off by up to ~4e-3;
        # the same network in float64 is the reference.
        m64 = TinyLaDeDaReference(preprocess).double().eval()
        m64.load_state_dict(sd, strict=True)
        entry = collections.OrderedDict([("file", ckpt), ("preprocess", preprocess)])
        with torch.no_grad():
            for name in IMAGES:
                x = to_input(os.path.join(HERE, name + ".png"))
                pooled = float(m(x, pool=True)[0, 0])
                pooled64 = float(m64(x.double(), pool=True)[0, 0])
                entry[name] = collections.OrderedDict([
                    ("pooled_logit_float64", pooled64), ("pooled_logit_float32", pooled),
                    ("probability", 1 / (1 + math.exp(-pooled64)))])
        official[digest] = entry
        print(ckpt, json.dumps(entry))
    if official:
        with open(os.path.join(HERE, "official.json"), "w") as f:
            json.dump(official, f, indent=2)
            f.write("\n")


if __name__ == "__main__":
    main()
