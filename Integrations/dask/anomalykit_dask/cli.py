"""Running the ``anomalykit`` binary on a worker.

Only argument lists and file paths cross the scheduler: a task gets the
paths of its input list and of the bank, runs the binary, and returns either
the binary's small JSON output or the path of the ``.npy`` it wrote.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from typing import Sequence


class AnomalyKitError(RuntimeError):
    """The binary exited non-zero; carries its exit code and message.

    Exit code 1 is bad input (the message names the file), 2 is bad usage.
    Neither is worth retrying, so tasks raise this instead of retrying.
    """

    def __init__(self, args: Sequence[str], returncode: int, stderr: str):
        self.args_ = list(args)
        self.returncode = returncode
        self.stderr = stderr
        last = stderr.strip().splitlines()[-1] if stderr.strip() else "(no message)"
        super().__init__(f"anomalykit {' '.join(self.args_[:2])} … exited {returncode}: {last}")


def find_binary(binary: str | None = None) -> str:
    """The binary to run: ``binary``, else ``$ANOMALYKIT_BIN``, else ``anomalykit`` on the PATH."""
    candidate = binary or os.environ.get("ANOMALYKIT_BIN") or "anomalykit"
    resolved = shutil.which(candidate) if os.sep not in candidate else candidate
    if not resolved or not os.access(resolved, os.X_OK):
        raise FileNotFoundError(
            f"cannot run the anomalykit binary '{candidate}': build it (swift build -c release) and pass its path, "
            "or set ANOMALYKIT_BIN; every worker needs it at the same path"
        )
    return os.path.abspath(resolved)


# Dask's nanny sets these for its Python workers (glibc's malloc gives
# memory back eagerly; numerical libraries stay single-threaded). The binary
# manages its own threads with --threads, and eager trimming slowed it by a
# few percent in scale.md's runs, so it runs with the environment a user's
# shell would give it.
_WORKER_ONLY_ENVIRONMENT = ("MALLOC_TRIM_THRESHOLD_",)


def run(binary: str, args: Sequence[str]) -> str:
    """Runs ``binary args`` and returns its standard output."""
    env = {k: v for k, v in os.environ.items() if k not in _WORKER_ONLY_ENVIRONMENT}
    proc = subprocess.run([binary, *args], capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise AnomalyKitError(args, proc.returncode, proc.stderr)
    return proc.stdout


def write_list(folder: str, name: str, paths: Sequence[str]) -> str:
    """Writes ``paths`` one per line to a new file in ``folder`` (for ``--inputs-from``)."""
    for p in paths:
        if "\n" in p or "\r" in p:
            raise ValueError(f"{p!r}: a path with a line break cannot go in an input list")
    path = os.path.join(folder, f"{name}-{uuid.uuid4().hex[:12]}.txt")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(paths) + "\n")
    return path


def unique_output(folder: str, name: str, suffix: str) -> str:
    """A fresh output path per attempt: a task retried after its worker died
    never shares a file with the orphaned first attempt."""
    return os.path.join(folder, f"{name}-{uuid.uuid4().hex[:12]}{suffix}")


def scores_from_json(stdout: str) -> list[dict]:
    """``score --json`` / ``merge-scores --json`` output as a list of dicts."""
    return json.loads(stdout)
