"""The seed notebook (d2l: linear algebra and autograd), cell by cell.

Run it with ndgrad (the default) or with PyTorch to compare:
    python examples/seed_notebook.py
    python examples/seed_notebook.py --lib torch
The cells themselves live in ndgrad/_notebook.py so that `ndgrad notebook` ships them.
"""
import importlib
import sys

from ndgrad._notebook import run

if __name__ == "__main__":
    lib = sys.argv[sys.argv.index("--lib") + 1] if "--lib" in sys.argv else "ndgrad"
    run(importlib.import_module(lib), results_only="--results-only" in sys.argv)
