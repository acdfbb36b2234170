"""Run the sections of the d2l book (Dive into Deep Learning) on ndgrad, with the real d2l package.

Each section (a chapter's .md file) becomes a notebook of its PyTorch code cells (``%%tab pytorch``,
``%%tab all`` and shared cells; ``tab.selected(...)`` answers for PyTorch), preceded by one cell of
ours that points d2l's downloads at small generated files (tools/d2l_offline.py) and caps training
(``--max-epochs``, ``--max-batches``). The book's code is not edited. The notebook runs with
``python -m ndgrad run`` in a fresh directory whose ``../data`` holds a generated Fashion-MNIST: in a
Jupyter kernel when the ``notebook`` extra is installed (``--keep`` keeps the executed copies).

    python tools/d2l_chapters.py BOOK                                  # the chapters the issue names
    python tools/d2l_chapters.py BOOK --sections lenet,resnet          # some sections only
    python tools/d2l_chapters.py BOOK --chapters convolutional-modern --results d2l.json
                                         # one chapter; its results merged into d2l.json
    python tools/d2l_chapters.py BOOK --results d2l.json --docs docs/d2l-chapters.md --report-only
                                         # the table of everything recorded in d2l.json

BOOK is a checkout of d2l-ai/d2l-en (e.g. ``git clone https://github.com/d2l-ai/d2l-en``).

Needs the d2l package (``pip install --no-deps d2l==1.0.3``) and the ``d2l`` extra (what its torch
module imports). Exit status 0 when every section ran.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = Path(__file__).resolve().parent
# The chapters that need no GPU and no download (with the stand-ins), in the book's order.
CHAPTERS = ["preliminaries", "linear-regression", "linear-classification", "multilayer-perceptrons",
            "builders-guide", "convolutional-neural-networks", "convolutional-modern",
            "recurrent-neural-networks", "recurrent-modern", "attention-mechanisms-and-transformers"]

_CELL = re.compile(r"^```\{\.python \.input[^}]*\}[ \t]*\n(.*?)^```", re.S | re.M)
_TAB = re.compile(r"^\s*(?:#\s*)?(?:%%tab|#@tab)\s+(.*)$")

PRELUDE = """\
import sys
import warnings
import matplotlib
import pandas as _pd
if 'ipykernel' not in sys.modules:  # in this process (no kernel): draw off-screen
    matplotlib.use('Agg')
if int(_pd.__version__.split('.')[0]) >= 3:  # the book pins pandas 2: text columns of dtype object
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        _pd.set_option('future.infer_string', False)
import d2l_offline as _offline
from d2l import torch as _d2l
_offline.install(_d2l, max_epochs={max_epochs}, max_batches={max_batches})


class _Tab:
    # d2lbook's tab switch: this notebook is the PyTorch one
    @staticmethod
    def selected(*names):
        flat = [n for x in names for n in ([x] if isinstance(x, str) else x)]
        return 'pytorch' in flat or 'all' in flat

    @staticmethod
    def interact_select(*args, **kwargs):
        pass


tab = _Tab()
"""


def pytorch_cells(markdown: str) -> list[str]:
    """The code of a section's cells that the PyTorch tab runs, in order, without the tab markers."""
    tabbed = "tab.interact_select" in markdown
    cells = []
    for m in _CELL.finditer(markdown):
        code = m.group(1)
        lines = code.split("\n")
        first = next((i for i, line in enumerate(lines) if line.strip()), None)
        if first is None:
            continue
        tab = _TAB.match(lines[first])
        if tab:
            names = {n.strip() for n in tab.group(1).split(",")}
            if not names & {"pytorch", "all"}:
                continue
            lines = lines[:first] + lines[first + 1:]
        elif "interact_select" in code or "%load_ext d2lbook" in code:
            continue
        elif not tabbed:  # the older layout: cells without a marker are MXNet's
            continue
        code = "\n".join(lines).strip("\n")
        if code.strip():
            cells.append(code)
    return cells


def notebook(cells: list[str], prelude: str) -> dict:
    def cell(src: str) -> dict:
        return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [],
                "source": src.splitlines(True)}
    return {"nbformat": 4, "nbformat_minor": 5, "cells": [cell(prelude)] + [cell(c) for c in cells],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}


@dataclass
class Result:
    chapter: str
    section: str
    status: str        # "runs", "fails", "timeout", "no code"
    seconds: float
    reason: str = ""


def _reason(stderr: str) -> str:
    """The last line of a traceback (the exception), or the last line of output."""
    lines = [line for line in stderr.strip().splitlines() if line.strip()]
    for i in range(len(lines) - 1, -1, -1):
        if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Interrupt|Exit|NeedsDownload)\b", lines[i]):
            return " ".join(lines[i:])[:300]
    return lines[-1][:300] if lines else ""


def run_section(md: Path, chapter: str, work: Path, args: argparse.Namespace) -> Result:
    import d2l_offline
    cells = pytorch_cells(md.read_text(encoding="utf-8"))
    section = md.stem
    if not cells:
        return Result(chapter, section, "no code", 0.0)
    root = work / chapter / section
    run_dir = root / "run"
    run_dir.mkdir(parents=True)
    d2l_offline.write_fashion_mnist(root / "data", args.fashion_train, args.fashion_test)
    shutil.copy(TOOLS / "d2l_offline.py", run_dir / "d2l_offline.py")
    prelude = PRELUDE.format(max_epochs=args.max_epochs, max_batches=args.max_batches)
    nb = run_dir / f"{section}.ipynb"
    nb.write_text(json.dumps(notebook(cells, prelude), indent=1))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               IPYTHONDIR=str(root / "ipython"))
    mode = ["--in-process"] if args.in_process else []
    start = time.perf_counter()
    try:
        r = subprocess.run([sys.executable, "-m", "ndgrad", "run", *mode, str(nb)], cwd=run_dir, env=env,
                           capture_output=True, text=True, timeout=args.timeout)
    except subprocess.TimeoutExpired as e:
        (root / "stdout.txt").write_text(_text(e.stdout))
        (root / "stderr.txt").write_text(_text(e.stderr))
        return Result(chapter, section, "timeout", time.perf_counter() - start,
                      f"did not finish in {args.timeout} s")
    seconds = time.perf_counter() - start
    (root / "stdout.txt").write_text(r.stdout)
    (root / "stderr.txt").write_text(r.stderr)
    if r.returncode == 0:
        return Result(chapter, section, "runs", seconds)
    return Result(chapter, section, "fails", seconds, _reason(r.stderr))


def _text(b: bytes | str | None) -> str:
    return b.decode(errors="replace") if isinstance(b, bytes) else (b or "")


def write_docs(results: list[Result], path: Path, args: argparse.Namespace, notes: dict[str, str]) -> None:
    import d2l
    ok = sum(r.status == "runs" for r in results)
    total = sum(r.status != "no code" for r in results)
    lines = [
        "# The d2l book on ndgrad",
        "",
        f"Sections of *Dive into Deep Learning* (the PyTorch code of each chapter's .md, d2l package "
        f"{getattr(d2l, '__version__', '?')}) run with `ndgrad run` by `tools/d2l_chapters.py`: {ok} of {total} "
        f"sections with code run to the end.",
        "",
        "How they run: the book's code is not edited. Each section's PyTorch cells become a notebook after one "
        "cell of ours (tools/d2l_offline.py) that answers the book's downloads with small generated files "
        f"(a {args.fashion_train}/{args.fashion_test}-image Fashion-MNIST in IDX files, an English-like text for "
        "the Time Machine, generated English-French pairs, a house-price CSV) and caps training at "
        f"{args.max_epochs} epoch(s) of at most {args.max_batches} batches. Numbers the sections print are "
        "therefore not the book's; a section *runs* when all its cells execute without an error.",
        "",
        "Reproduce: `pip install --no-deps d2l==1.0.3 && pip install -e \".[d2l]\"`, then "
        "`python tools/d2l_chapters.py <d2l-en checkout> --docs docs/d2l-chapters.md` (or chapter by chapter "
        "with `--chapters NAME --results FILE`, then `--results FILE --docs ... --report-only`).",
        "",
        "| chapter | section | result | seconds | reason / note |",
        "|---|---|---|---:|---|",
    ]
    for r in results:
        note = notes.get(r.section, "")
        reason = (r.reason + (" -- " + note if note and r.reason else note)).replace("|", "\\|")
        lines.append(f"| {r.chapter} | {r.section} | {r.status} | {r.seconds:.0f} | {reason} |")
    path.write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("book", type=Path, help="a checkout of d2l-ai/d2l-en")
    p.add_argument("--chapters", default=",".join(CHAPTERS), help="comma-separated chapter names")
    p.add_argument("--sections", default="", help="comma-separated section names (default: all)")
    p.add_argument("--max-epochs", type=int, default=1)
    p.add_argument("--max-batches", type=int, default=2)
    p.add_argument("--fashion-train", type=int, default=256)
    p.add_argument("--fashion-test", type=int, default=128)
    p.add_argument("--timeout", type=float, default=900.0, help="seconds per section")
    p.add_argument("--keep", type=Path, default=None,
                   help="keep the notebooks (with the executed copies), outputs and logs here")
    p.add_argument("--in-process", action="store_true",
                   help="run each notebook's cells in the ndgrad process, not in a Jupyter kernel (the default "
                        "when the `notebook` extra is installed)")
    p.add_argument("--docs", type=Path, default=None, help="write the markdown table here")
    p.add_argument("--notes", type=Path, default=None, help="JSON {section: note} added to the table")
    p.add_argument("--results", type=Path, default=None,
                   help="JSON file the results are merged into (by chapter and section), for runs chapter by "
                        "chapter; --docs then tables everything it holds")
    p.add_argument("--report-only", action="store_true", help="run nothing: write --docs from --results")
    args = p.parse_args(argv)
    if not args.book.is_dir():
        p.error(f"no d2l book at {args.book} (clone d2l-ai/d2l-en and pass its path)")
    sys.path.insert(0, str(TOOLS))
    wanted = {s for s in args.sections.split(",") if s}
    work = args.keep or Path(tempfile.mkdtemp(prefix="d2l-chapters-"))
    if args.keep and work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True, exist_ok=True)
    notes = json.loads(args.notes.read_text()) if args.notes else {}
    results = []
    for chapter in ([] if args.report_only else args.chapters.split(",")):
        folder = args.book / f"chapter_{chapter}"
        order = _section_order(folder)
        for md in order:
            if wanted and md.stem not in wanted:
                continue
            r = run_section(md, chapter, work, args)
            results.append(r)
            print(f"{chapter:40s} {r.section:36s} {r.status:8s} {r.seconds:6.1f}s {r.reason}", flush=True)
    if args.results:
        results = _merge(args.results, results, args.book)
    if args.docs:
        write_docs(results, args.docs, args, notes)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"notebooks and logs kept in {work}")
    return 0 if all(r.status in ("runs", "no code") for r in results) else 1


def _merge(path: Path, new: list[Result], book: Path) -> list[Result]:
    """Results stored in `path` updated with `new` (same chapter and section replaced), saved back, and
    returned in the book's order."""
    old = [Result(**r) for r in json.loads(path.read_text())] if path.exists() else []
    by_key = {(r.chapter, r.section): r for r in old}
    by_key.update({(r.chapter, r.section): r for r in new})
    order = {(c, md.stem): (i, j) for i, c in enumerate(CHAPTERS)
             for j, md in enumerate(_section_order(book / f"chapter_{c}"))}
    merged = sorted(by_key.values(), key=lambda r: order.get((r.chapter, r.section), (len(CHAPTERS), 0)))
    path.write_text(json.dumps([r.__dict__ for r in merged], indent=1))
    return merged


def _section_order(folder: Path) -> list[Path]:
    """The chapter's sections in the order of its index.md toc, then any others."""
    index = folder / "index.md"
    names = []
    if index.exists():
        toc = re.search(r"```toc\n(.*?)```", index.read_text(encoding="utf-8"), re.S)
        if toc:
            names = [line.strip() for line in toc.group(1).splitlines() if line.strip() and ":" not in line]
    found = [folder / f"{n}.md" for n in names if (folder / f"{n}.md").exists()]
    rest = sorted(p for p in folder.glob("*.md") if p not in found and p.name != "index.md")
    return found + rest


if __name__ == "__main__":
    sys.exit(main())
