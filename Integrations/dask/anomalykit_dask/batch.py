"""Batch scoring: many images against one bank, a chunk per task."""

from __future__ import annotations

import os
import tempfile
from typing import Sequence

from distributed import Client

from . import cli


def chunks(items: Sequence[str], size: int) -> list[list[str]]:
    """``items`` in consecutive chunks of at most ``size``."""
    if size < 1:
        raise ValueError(f"chunk_size must be at least 1, got {size}")
    return [list(items[i : i + size]) for i in range(0, len(items), size)]


def prepare(binary: str | None, images: Sequence[str], workdir: str | None) -> tuple[str, list[str], str]:
    """The binary's path, the images as a list, and an existing work folder
    (a new temporary one by default, which suits a local cluster only)."""
    binary = cli.find_binary(binary)
    workdir = workdir or tempfile.mkdtemp(prefix="anomalykit-dask-")
    os.makedirs(workdir, exist_ok=True)
    return binary, list(images), workdir


def gather_in_order(client: Client, futures: list, expected: int) -> list[dict]:
    """The chunks' score lists, concatenated in chunk order: each input
    exactly once, even when a task was rerun after its worker died."""
    results = [row for part in client.gather(futures) for row in part]
    if len(results) != expected:
        raise RuntimeError(f"scored {len(results)} of {expected} images; a chunk's output was incomplete")
    return results


def _score_chunk(binary: str, bank: str, inputs_file: str, threads: int, extra: Sequence[str]) -> list[dict]:
    out = cli.run(binary, ["score", "--bank", bank, "--inputs-from", inputs_file, "--json", "--threads", str(threads), *extra])
    return cli.scores_from_json(out)


def score_many(
    images: Sequence[str],
    bank: str,
    client: Client,
    *,
    chunk_size: int = 256,
    threads: int = 1,
    binary: str | None = None,
    workdir: str | None = None,
    extra_args: Sequence[str] = (),
) -> list[dict]:
    """Scores ``images`` against ``bank``, ``chunk_size`` images per task.

    Each task runs ``anomalykit score --bank BANK --inputs-from LIST --json
    --threads THREADS`` on a worker; only the list's path goes out and the
    chunk's small JSON comes back. If a worker dies, Dask reruns its tasks
    elsewhere; results are gathered by chunk, so every image is scored
    exactly once and the list is in input order.

    Args:
        images: image files, readable at the same path on every worker.
        bank: a bank file (``anomalykit fit``), readable on every worker.
        client: a ``distributed.Client``.
        chunk_size: images per task. Each task loads the network once, so
            chunks of a few hundred images keep the start-up cost near 1%.
        threads: ``--threads`` of each run; 1 with one worker thread per core.
        binary: the ``anomalykit`` binary (default ``$ANOMALYKIT_BIN`` or PATH).
        workdir: a folder every worker can read, for the chunk lists
            (default: a temporary folder, which suits a local cluster only).
        extra_args: more ``score`` options (``--resize`` etc. are in the bank).

    Returns:
        ``[{"path", "score", "anomalous"}]``, one per image, in order.
    """
    binary, images, workdir = prepare(binary, images, workdir)
    if not images:
        return []
    futures = []
    for i, chunk in enumerate(chunks(images, chunk_size)):
        listed = cli.write_list(workdir, f"chunk-{i}", chunk)
        futures.append(client.submit(_score_chunk, binary, bank, listed, threads, list(extra_args), key=f"anomalykit-score-{i}-{os.path.basename(listed)}", pure=False))
    return gather_in_order(client, futures, len(images))
