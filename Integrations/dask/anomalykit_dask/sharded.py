"""Sharded banks: fit shards in parallel, score every shard, merge exactly.

A kNN score needs only each query's k smallest distances, and the k smallest
over all shards are the k smallest of each shard's k smallest. So every
shard answers on its own (``score --neighbours-out``) and ``merge-scores``
gives the whole bank's scores, bit for bit.
"""

from __future__ import annotations

import json
import math
import os
import random
from typing import Sequence

from distributed import Client

from . import cli
from .batch import chunks, gather_in_order, prepare


def shard_paths(manifest: str) -> list[str]:
    """The shard files listed in a ``manifest.json`` (``anomalykit shard`` or ``fit_sharded``)."""
    with open(manifest, encoding="utf-8") as f:
        doc = json.load(f)
    if doc.get("format") != "anomalykit-shards":
        raise ValueError(f"{manifest}: not an AnomalyKit shard manifest")
    folder = os.path.dirname(os.path.abspath(manifest))
    return [s if os.path.isabs(s) else os.path.join(folder, s) for s in doc["shards"]]


def _neighbours(binary: str, shard: str, inputs_file: str, out: str, threads: int) -> str:
    cli.run(binary, ["score", "--bank", shard, "--inputs-from", inputs_file, "--neighbours-out", out, "--threads", str(threads)])
    return out


def _features(binary: str, shard: str, inputs_file: str, out: str, threads: int) -> str:
    cli.run(binary, ["score", "--bank", shard, "--inputs-from", inputs_file, "--features-out", out, "--threads", str(threads)])
    return out


def _neighbours_from_features(binary: str, shard: str, features: str, out: str, threads: int) -> str:
    cli.run(binary, ["score", "--bank", shard, "--from-features", features, "--neighbours-out", out, "--threads", str(threads)])
    return out


def _merge(binary: str, manifest: str, files: Sequence[str], extra: Sequence[str]) -> list[dict]:
    return cli.scores_from_json(cli.run(binary, ["merge-scores", *files, "--bank-meta", manifest, "--json", *extra]))


def _fit_shard(binary: str, inputs_file: str, index: int, count: int, out: str, threads: int, extra: Sequence[str]) -> str:
    cli.run(binary, ["fit", "--inputs-from", inputs_file, "--shard", f"{index}/{count}", "--out", out, "--threads", str(threads), *extra])
    return out


def score_sharded(
    images: Sequence[str],
    manifest: str,
    client: Client,
    *,
    chunk_size: int = 256,
    threads: int = 1,
    binary: str | None = None,
    workdir: str | None = None,
    share_features: bool = True,
) -> list[dict]:
    """Scores ``images`` against a sharded bank: the whole bank's scores, exactly.

    For each chunk of images, one task extracts the features once
    (``score --features-out``), one task per shard writes the chunk's k
    nearest rows of that shard from them (``score --from-features
    --neighbours-out``, a small ``.npy``), and one task merges them
    (``merge-scores``). Shards need never share a machine. With
    ``share_features=False`` each shard task extracts the images itself:
    S extractions instead of one, but no feature file (a patch bank's is
    about 1 MB per image) on the shared storage.

    Args:
        images: image files, readable on every worker.
        manifest: the shard set's ``manifest.json``.
        client: a ``distributed.Client``.
        chunk_size: images per task.
        threads: ``--threads`` of each run.
        binary: the ``anomalykit`` binary.
        workdir: a folder every worker can read and write (lists and ``.npy``
            neighbour files; default a temporary folder, for a local cluster).

    Returns:
        ``[{"path", "score", "anomalous"}]``, one per image, in input order.
    """
    binary, images, workdir = prepare(binary, images, workdir)
    shards = shard_paths(manifest)
    if not images:
        return []
    merged = []
    for i, chunk in enumerate(chunks(images, chunk_size)):
        listed = cli.write_list(workdir, f"chunk-{i}", chunk)
        if share_features:
            features = client.submit(
                _features, binary, shards[0], listed, cli.unique_output(workdir, f"chunk-{i}-features", ".safetensors"), threads, pure=False
            )
            parts = [
                client.submit(
                    _neighbours_from_features, binary, shard, features, cli.unique_output(workdir, f"chunk-{i}-shard-{s}", ".npy"), threads, pure=False
                )
                for s, shard in enumerate(shards)
            ]
        else:
            parts = [
                client.submit(_neighbours, binary, shard, listed, cli.unique_output(workdir, f"chunk-{i}-shard-{s}", ".npy"), threads, pure=False)
                for s, shard in enumerate(shards)
            ]
        merged.append(client.submit(_merge, binary, manifest, parts, [], pure=False))
    return gather_in_order(client, merged, len(images))


def fit_sharded(
    normal_images: Sequence[str],
    out_dir: str,
    shards: int,
    client: Client,
    *,
    holdout: float = 0.1,
    max_holdout: int = 10_000,
    fpr: float = 0.01,
    seed: int = 0,
    threads: int = 1,
    binary: str | None = None,
    fit_args: Sequence[str] = (),
) -> str:
    """Fits a bank too large for one machine as ``shards`` shard files.

    A seeded ``holdout`` share of the normals (at most ``max_holdout``) is set
    aside; shard i is fitted by ``anomalykit fit --shard i/N`` from the i-th
    slice of the rest, in parallel. The held-out normals are then scored
    against all shards and the threshold set at ``fpr`` on their merged
    scores (``merge-scores --calibrate-fpr``), so verdicts sit on the whole
    bank's scale. A single-machine ``fit`` cross-fits instead; no shard can.

    Args:
        normal_images: normal image files, readable on every worker.
        out_dir: where the shards and ``manifest.json`` go; every worker
            must be able to write it.
        shards: N, the number of shard files.
        client: a ``distributed.Client``.
        holdout: share of the normals held out for the threshold, in (0, 1).
        max_holdout: cap on held-out images (10,000 normals give the
            1%-FPR quantile to about ±0.2%).
        fpr: target false-positive rate on normal images.
        seed: seed of the holdout draw.
        threads: ``--threads`` of each run.
        binary: the ``anomalykit`` binary.
        fit_args: more ``fit`` options (``--patches``, ``--coreset 0.01``,
            ``--coreset-method random``…); a greedy coreset is refused.

    Returns:
        The path of ``out_dir/manifest.json``, for ``score_sharded``.
    """
    binary = cli.find_binary(binary)
    if not 0 < holdout < 1:
        raise ValueError(f"holdout must be in (0, 1): fit_sharded calibrates its threshold on held-out normals, got {holdout}")
    images = list(normal_images)
    held_count = min(max_holdout, max(1, math.ceil(holdout * len(images))))
    if len(images) - held_count < shards:
        raise ValueError(f"{len(images)} normal images leave {len(images) - held_count} after the holdout, fewer than {shards} shards")
    order = list(range(len(images)))
    random.Random(seed).shuffle(order)
    held = sorted(order[:held_count])
    held_set = set(held)
    fit_images = [p for i, p in enumerate(images) if i not in held_set]
    calibration = [images[i] for i in held]

    os.makedirs(out_dir, exist_ok=True)
    fit_list = cli.write_list(out_dir, "fit-inputs", fit_images)
    outs = [os.path.join(out_dir, f"shard-{i}-of-{shards}.safetensors") for i in range(shards)]
    fitted = client.gather(
        [client.submit(_fit_shard, binary, fit_list, i, shards, outs[i], threads, list(fit_args), pure=False) for i in range(shards)]
    )

    calibration_list = cli.write_list(out_dir, "calibration-inputs", calibration)
    parts = [
        client.submit(_neighbours, binary, shard, calibration_list, cli.unique_output(out_dir, f"calibration-shard-{s}", ".npy"), threads, pure=False)
        for s, shard in enumerate(fitted)
    ]
    manifest = os.path.join(out_dir, "manifest.json")
    client.submit(
        _merge, binary, fitted[0], parts, ["--calibrate-fpr", str(fpr), "--manifest-out", manifest], pure=False
    ).result()
    return manifest
