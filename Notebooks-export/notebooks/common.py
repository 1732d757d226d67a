"""Shared setup for the notebooks in Notebooks-export/notebooks/.

Every notebook starts with `from common import *`: it finds the repository
root, fixes the matplotlib style (so `export.py` writes the same PNGs each
time), and gives small helpers to load `results/*.json` and to print
Markdown tables that nbconvert exports as Markdown.
"""
import glob
import json
import os
import shlex
import subprocess
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display


def _find_root():
    here = Path.cwd().resolve()
    for p in (here, *here.parents):
        if (p / "Package.swift").exists() and (p / "Notebooks-export").is_dir():
            return p
    raise RuntimeError("run the notebooks from inside the AnomalyKit repository")


ROOT = _find_root()
NE = ROOT / "Notebooks-export"
RESULTS = NE / "results"
FIGURES = NE / "figures"


def style():
    """Fixed sizes and resolution, no timestamps: PNGs are reproducible."""
    matplotlib.rcParams.update({
        "figure.dpi": 90, "savefig.dpi": 90, "figure.figsize": (8, 3.6),
        "font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8,
        "axes.grid": True, "grid.alpha": 0.3,
        "axes.spines.top": False, "axes.spines.right": False,
        "svg.hashsalt": "anomalykit", "path.simplify": True,
    })


def load(name):
    """One file of Notebooks-export/results/ as a dict."""
    return json.loads((RESULTS / name).read_text())


def load_glob(pattern):
    """{file name without .json: dict} for every match, sorted by name."""
    return {Path(p).stem: json.loads(Path(p).read_text()) for p in sorted(glob.glob(str(RESULTS / pattern)))}


def md(text):
    display(Markdown(text))


def table(header, rows):
    """A Markdown table (strings in, displayed as Markdown)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    md("\n".join(lines))


def command(*cmds):
    """The command(s) that produced the next table or plot."""
    if len(cmds) == 1:
        md("Command: `%s`" % cmds[0])
    else:
        md("Commands:\n\n" + "\n".join("- `%s`" % c for c in cmds))


def rerun(*cmds):
    """Re-runs the producing scripts when AK_RERUN=1 (slow: tens of minutes
    to hours on 2 cores, and they need the data in ../shared/data, a release
    build and the peers' Python packages). By default does nothing: the
    notebook reads the committed results."""
    if os.environ.get("AK_RERUN") != "1":
        return
    python = os.environ.get("AK_PYTHON", "python3")
    for c in cmds:
        if c.startswith("python3 "):
            c = shlex.quote(python) + c[len("python3"):]
        print("$", c, flush=True)
        subprocess.run(c, shell=True, cwd=ROOT, check=True)


def pct(x, digits=2):
    return ("%." + str(digits) + "f") % (100 * x)


def show_png(path, title=None, width=8.0):
    """Draws an existing PNG through matplotlib at the notebooks' resolution
    (smaller exports than embedding the original file)."""
    img = plt.imread(str(path))
    h, w = img.shape[:2]
    fig, ax = plt.subplots(figsize=(width, width * h / w))
    ax.imshow(img, interpolation="antialiased")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    fig.subplots_adjust(0, 0, 1, 0.95 if title else 1)
    plt.show()


__all__ = ["ROOT", "NE", "RESULTS", "FIGURES", "style", "load", "load_glob", "md", "table", "command",
           "rerun", "pct", "show_png", "np", "plt", "json", "os", "Path", "display", "Markdown"]
