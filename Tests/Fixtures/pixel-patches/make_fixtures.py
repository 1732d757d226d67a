#!/usr/bin/env python3
"""Reference residual pixel patches for PixelPatchDescriptor.

Input: a seeded random 20x20 RGB image, normalised as the network input,
(x - 127) / 128, HWC. References:
- npr: x - NN_up2(NN_down2(x)) with torch's nearest interpolation
  (F.interpolate(x[:, :, ::2, ::2], scale_factor=2, mode="nearest")), as the
  LaDeDa code computes it;
- diagonal: F.conv2d(x, K, padding=1, groups=3) with K = [[-2,-1,0],[-1,0,1],[0,1,2]]
  per channel (Tiny-LaDeDa's right-diagonal filter);
- patches: torch's unfold (kernel p, stride s) reordered to (y, x, channel).
Writes `expected.safetensors` (tensors `image` u8 [20,20,3], `npr_8_8`,
`diagonal_9_8`, `diagonal_5_3`, `none_4_4`: [patches, p*p*3] float32).

Run: /root/venv/bin/python Tests/Fixtures/pixel-patches/make_fixtures.py
"""
import os

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(5)
img = rng.integers(0, 256, (20, 20, 3), dtype=np.uint8)
x = torch.from_numpy((img.astype(np.float32) - 127) / 128).permute(2, 0, 1)[None]  # 1,3,H,W

npr = x - F.interpolate(x[:, :, ::2, ::2], scale_factor=2, mode="nearest")
k = torch.tensor([[-2, -1, 0], [-1, 0, 1], [0, 1, 2]], dtype=torch.float32)
diag = F.conv2d(x, k.expand(3, 1, 3, 3).contiguous(), padding=1, groups=3)


def patches(r, p, s):
    u = F.unfold(r, kernel_size=p, stride=s)  # 1, 3*p*p, L  (channel-major)
    u = u[0].T.reshape(-1, 3, p, p).permute(0, 2, 3, 1)  # L, p, p, 3
    return u.reshape(u.shape[0], -1).numpy().astype(np.float32)


out = {
    "image": img,
    "npr_8_8": patches(npr, 8, 8),
    "diagonal_9_8": patches(diag, 9, 8),
    "diagonal_5_3": patches(diag, 5, 3),
    "none_4_4": patches(x, 4, 4),
}
save_file(out, os.path.join(HERE, "expected.safetensors"))
print({k: v.shape for k, v in out.items()})
