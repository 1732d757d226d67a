#!/usr/bin/env python3
"""Executes every notebook in Notebooks-export/notebooks/ and exports it to
Markdown with its plots as PNG:

    python3 Notebooks-export/notebooks/export.py [NAME ...]

writes `export/NAME.md` and `export/NAME_files/*.png` for each `NAME.ipynb`
(all of them when no name is given). The notebooks run in a kernel of the
Python that runs this script (it needs jupyter, nbconvert, nbclient,
ipykernel, numpy, matplotlib and safetensors), from this folder; they only
read `Notebooks-export/results/*.json` and `figures/` unless `AK_RERUN=1` is
set, in which case each notebook re-runs the scripts that produced its
results first (tens of minutes to hours; see each notebook's title cell).

The .ipynb files are left as they are (committed with outputs cleared); the
executed copies exist only in memory. Code cells tagged `hide-input` show
their output but not their code in the export.
"""
import argparse
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbconvert import MarkdownExporter
from nbconvert.preprocessors import TagRemovePreprocessor

HERE = Path(__file__).resolve().parent
EXPORT = HERE / "export"


def export(path):
    name = path.stem
    nb = nbformat.read(path, as_version=4)
    # The kernel is this Python: put it first on PATH for the kernelspec's "python".
    env_path = os.path.dirname(sys.executable) + os.pathsep + os.environ.get("PATH", "")
    os.environ["PATH"] = env_path
    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    client = NotebookClient(nb, timeout=3600, kernel_name="python3", allow_errors=False,
                            resources={"metadata": {"path": str(HERE)}})
    client.execute()

    exporter = MarkdownExporter()
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"hide-input"}, enabled=True), enabled=True)
    body, resources = exporter.from_notebook_node(
        nb, resources={"output_files_dir": name + "_files", "unique_key": name})

    files_dir = EXPORT / (name + "_files")
    if files_dir.exists():
        shutil.rmtree(files_dir)
    EXPORT.mkdir(exist_ok=True)
    for rel, data in sorted(resources.get("outputs", {}).items()):
        out = EXPORT / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(data)
    body = body.rstrip() + "\n\n---\n*Exported from [`notebooks/%s.ipynb`](../%s.ipynb) by `notebooks/export.py`.*\n" % (name, name)
    (EXPORT / (name + ".md")).write_text(body)
    return len(resources.get("outputs", {}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("names", nargs="*", help="notebooks to export (default: all)")
    args = ap.parse_args()
    paths = [HERE / (n[:-6] if n.endswith(".ipynb") else n + "") for n in args.names]
    paths = [p.with_suffix(".ipynb") if p.suffix != ".ipynb" else p for p in paths] or sorted(HERE.glob("*.ipynb"))
    t0 = time.time()
    for p in paths:
        t = time.time()
        n = export(p)
        print("%-14s -> export/%s.md, %d PNG (%.1f s)" % (p.stem, p.stem, n, time.time() - t), flush=True)
    print("done in %.1f s" % (time.time() - t0))


if __name__ == "__main__":
    main()
