#!/usr/bin/env python3
"""Reference for PatchFeatureBuilder(grid: .coarsest) on EfficientNet-Lite0.

Input: the central 64x64 crop (offset 80, 80, no resampling) of
Tests/Fixtures/efficientnet/coffee.png, normalised (x - 127) / 128, run through
efficientnet_lite_pytorch's EfficientNet-Lite0 (image_size=64) with the
bundled Weights/efficientnet-lite0.safetensors. Stage maps: outputs of blocks
0 (stage 1, 16ch, /2), 2 (stage 2, 24ch, /4) and 4 (stage 3, 40ch, /8).
Reference: cat(avg_pool2d(s1, 4), avg_pool2d(s2, 2), s3), then
avg_pool2d(3, stride 1, padding 1, count_include_pad=False), as 8x8 locations x
80 dims (row-major grid). Writes `coffee64.png` and `expected.safetensors`
(`features` [64, 80] F32).

Run from the repository root:
    /root/venv/bin/python Tests/Fixtures/patch-grid/make_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.numpy import save_file
from safetensors.torch import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
torch.set_num_threads(1)

src = np.asarray(Image.open(os.path.join(REPO, "Tests/Fixtures/efficientnet/coffee.png")).convert("RGB"))
crop = src[80:144, 80:144]
Image.fromarray(crop).save(os.path.join(HERE, "coffee64.png"))

from efficientnet_lite_pytorch import EfficientNet  # noqa: E402

net = EfficientNet.from_name("efficientnet-lite0", image_size=64)
missing, unexpected = net.load_state_dict(load_file(os.path.join(REPO, "Weights/efficientnet-lite0.safetensors")), strict=False)
assert not unexpected and all(k.endswith("num_batches_tracked") for k in missing)
net.eval()
with torch.no_grad():
    t = torch.from_numpy((crop.astype(np.float32) - 127) / 128).permute(2, 0, 1)[None]
    h = net._swish(net._bn0(net._conv_stem(t)))
    outs = []
    for i, blk in enumerate(net._blocks[:5]):
        h = blk(h)
        if i in (0, 2, 4):
            outs.append(h)
    s1, s2, s3 = outs
    m = torch.cat([F.avg_pool2d(s1, 4), F.avg_pool2d(s2, 2), s3], 1)
    m = F.avg_pool2d(m, 3, 1, 1, count_include_pad=False)[0]
features = m.reshape(m.shape[0], -1).T.contiguous().numpy().astype(np.float32)
save_file({"features": features}, os.path.join(HERE, "expected.safetensors"))
print(features.shape, float(np.abs(features).max()))
