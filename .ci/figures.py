"""Fail when a figure in nbs/index.ipynb (and so README.md) differs from the model card or bench/results/*.json.
The index renders every figure from those files in code cells; this re-runs those cells now and compares their
markdown outputs with the stored ones. Usage: python .ci/figures.py [--check] (without --check: re-render in place)."""
import json, os, sys
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

root = Path(__file__).resolve().parent.parent
nb_path = root / "nbs" / "index.ipynb"

def markdown_outputs(nb):
    return [["".join(o["data"]["text/markdown"]) for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
            for c in nb.cells if c.cell_type == "code"]

stored = read_nb(nb_path)
fresh = read_nb(nb_path)
os.chdir(nb_path.parent)
shell = CaptureShell()
shell.run_all(fresh, exc_stop=True)
if "--check" in sys.argv:
    old, new = markdown_outputs(stored), markdown_outputs(fresh)
    if old != new:
        for i, (a, b) in enumerate(zip(old, new)):
            if a != b: print(f"cell {i}: stored output differs from a fresh render:\n--- stored\n{a}\n--- fresh\n{b}")
        sys.exit("FAIL: index.ipynb shows figures that differ from the model card / bench results: re-render with "
                 "`.venv/bin/python .ci/figures.py`, then `.venv/bin/python .ci/readme.py`, and commit")
    print("ok: every figure in index.ipynb matches the model card and bench/results")
else:
    write_nb(fresh, nb_path)
    from nbdev.clean import nbdev_clean
    nbdev_clean(fname=str(nb_path)); print(f"re-rendered {nb_path}")
