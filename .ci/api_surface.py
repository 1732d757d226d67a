#!/usr/bin/env python3
"""The public API of the library products, one declaration per line.

Reads the symbol graphs that `.ci/check-docs` leaves behind (DocC extracts
them at public access level) and prints, sorted, one line per public
symbol: its module, its path and its declaration. `api.txt` at the
repository root holds the accepted surface; CI fails when they differ, so
an accidental break (or addition) is seen in review:

    .ci/api_surface.py SCRATCH            compare with api.txt (exit 1 on a difference)
    .ci/api_surface.py SCRATCH --update   rewrite api.txt

SCRATCH is the build folder (.build by default in .ci/check-docs).
"""
import difflib
import glob
import json
import os
import sys

PRODUCTS = ["TensorFiles", "FeatureExtraction", "Density", "AnomalyKit", "OODFront"]


def surface(scratch):
    lines = set()
    for module in PRODUCTS:
        files = glob.glob(os.path.join(scratch, "*", "extracted-symbols", "main", module, "*.symbols.json"))
        if not files:
            sys.exit(f"{scratch}: no symbol graph for {module}; run .ci/check-docs first")
        for path in files:
            graph = json.load(open(path))
            for s in graph["symbols"]:
                if s.get("accessLevel") not in ("public", "open"):
                    continue
                declaration = "".join(f["spelling"] for f in s.get("declarationFragments", []))
                declaration = " ".join(declaration.split())
                lines.add(f"{module}.{'.'.join(s['pathComponents'])} | {declaration}")
    return sorted(lines)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    scratch, update = sys.argv[1], "--update" in sys.argv[2:]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    accepted_path = os.path.join(root, "api.txt")
    current = surface(scratch)
    if update:
        with open(accepted_path, "w") as f:
            f.write("\n".join(current) + "\n")
        print(f"api.txt: {len(current)} public symbols")
        return
    accepted = open(accepted_path).read().splitlines() if os.path.exists(accepted_path) else []
    if accepted == current:
        print(f"api.txt: the public API matches ({len(current)} symbols)")
        return
    sys.stdout.writelines(difflib.unified_diff([l + "\n" for l in accepted], [l + "\n" for l in current], "api.txt", "built"))
    print("\nThe public API differs from api.txt. If the change is intended, run "
          ".ci/api_surface.py SCRATCH --update and commit api.txt.")
    sys.exit(1)


if __name__ == "__main__":
    main()
