"""Notebooks in Jupyter kernels: `ndgrad run notebook.ipynb` executes the cells in an IPython kernel whose
`import torch` is ndgrad and writes the executed copy; `%load_ext ndgrad` switches a running kernel.

Both need the `notebook` extra (nbclient, nbformat, ipykernel); the kernel is this interpreter's. Without
the extra, `ndgrad run` runs the code cells in its own process and says which extra writes the copy.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ndgrad import _nbkernel

ROOT = Path(__file__).resolve().parents[1]
needs_extra = pytest.mark.skipif(bool(_nbkernel.missing()), reason="the `notebook` extra is not installed "
                                 f"(missing {', '.join(_nbkernel.missing())}; pip install -e '.[notebook]')")


def _cell(src: str, kind: str = "code") -> dict:
    return {"cell_type": kind, "metadata": {}, "source": src.splitlines(True),
            **({"outputs": [], "execution_count": None} if kind == "code" else {})}


def _notebook(path: Path, *cells: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 4, "cells": list(cells), "metadata": {
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}}))
    return path


def _env(tmp_path: Path) -> dict:
    return dict(os.environ, PYTHONPATH=str(ROOT), IPYTHONDIR=str(tmp_path / "ipython"), PYTHONHASHSEED="0")


def _outputs(cell: dict) -> list:
    """(type, what) per output: text for streams, the mime types for results, the exception name."""
    got = []
    for o in cell["outputs"]:
        kind = o["output_type"]
        what = "".join(o["text"]) if kind == "stream" else o.get("ename") if kind == "error" else sorted(o["data"])
        got.append((kind, what))
    return got


@needs_extra
def test_run_executes_in_a_kernel_and_writes_the_executed_copy(tmp_path):
    nb = _notebook(tmp_path / "nb" / "demo.ipynb",
                   _cell("# A title", "markdown"),
                   _cell("import torch\nx = torch.ones(2, dtype=torch.float64)\nx"),
                   _cell("print(torch.__name__, type(x).__name__, torch.Tensor.__module__, torch.nn.Linear(2, 3))"),
                   _cell("%%writefile data.txt\nhello"),
                   _cell("%matplotlib inline\nimport matplotlib.pyplot as plt\nplt.plot([1, 2]);\n"
                         "open('data.txt').read()"),
                   _cell("def f():\n    return 1 / 0\nf()"),
                   _cell("print('never')"))
    before = nb.read_text()
    out = tmp_path / "out" / "copy.ipynb"
    out.parent.mkdir()
    r = subprocess.run([sys.executable, "-m", "ndgrad", "run", "--output", str(out), str(nb)], cwd=tmp_path,
                       env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 1  # a cell raised
    assert r.stdout == ("tensor([1., 1.], dtype=torch.float64)\n"
                        "torch Tensor torch Linear(in_features=2, out_features=3, bias=True)\n"
                        "Writing data.txt\n'hello\\n'\n")
    assert "ZeroDivisionError: division by zero" in r.stderr and "\x1b[" not in r.stderr
    assert f"wrote the executed notebook to {out}" in r.stderr
    assert nb.read_text() == before and (tmp_path / "nb" / "data.txt").read_text() == "hello\n"  # kernel cwd
    cells = [c for c in json.loads(out.read_text())["cells"] if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in cells] == [1, 2, 3, 4, 5, None]
    assert [_outputs(c) for c in cells] == [
        [("execute_result", ["text/plain"])],
        [("stream", "torch Tensor torch Linear(in_features=2, out_features=3, bias=True)\n")],
        [("stream", "Writing data.txt\n")],
        [("execute_result", ["text/plain"]), ("display_data", ["image/png", "text/plain"])],
        [("error", "ZeroDivisionError")],
        []]
    assert "".join(cells[0]["outputs"][0]["data"]["text/plain"]) == "tensor([1., 1.], dtype=torch.float64)"


@needs_extra
def test_load_ext_switches_a_running_kernel(tmp_path):
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.reads(_notebook(
        tmp_path / "ext.ipynb",
        _cell("import sys\nprint('torch' in sys.modules)"),
        _cell("%load_ext ndgrad\nimport torch, ndgrad\nprint(torch.Tensor is ndgrad.Tensor, repr(torch.ones(1).dtype),"
              " torch.__version__)"),
        _cell("%unload_ext ndgrad\nprint(repr(ndgrad.float64), 'torch' in sys.modules)")).read_text(), as_version=4)
    client = NotebookClient(nb, km=_nbkernel.kernel_manager(str(tmp_path / "k"), extensions=()), timeout=60)
    env = _env(tmp_path)
    client.execute(env=env)  # a kernel of this interpreter without the extension loaded at start-up
    texts = ["".join(o["text"] for o in c["outputs"]) for c in nb.cells]
    assert texts == ["False\n", "True torch.float32 2.13.0\n", "ndgrad.float64 False\n"]


def test_without_the_extra_cells_run_in_process_and_the_message_names_it(tmp_path):
    nb = _notebook(tmp_path / "plain.ipynb", _cell("import torch\ntorch.arange(3)"))
    hide = ("import sys; sys.modules['nbclient'] = None; from ndgrad.demo import main; "
            "sys.exit(main(sys.argv[1:]))")
    r = subprocess.run([sys.executable, "-c", hide, "run", str(nb)], cwd=tmp_path, env=_env(tmp_path),
                       capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout) == (0, "tensor([0, 1, 2])\n")
    assert "the `notebook` extra" in r.stderr and "pip install 'ndgrad[notebook]'" in r.stderr
    assert "missing: nbclient" in r.stderr and not (tmp_path / "plain.executed.ipynb").exists()
    r = subprocess.run([sys.executable, "-c", hide, "run", "--output", "x.ipynb", str(nb)], cwd=tmp_path,
                       env=_env(tmp_path), capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and not (tmp_path / "x.ipynb").exists()


def test_notebook_options_need_a_notebook(tmp_path):
    (tmp_path / "prog.py").write_text("print('ran')\n")
    for opt in (["--output", "x.ipynb"], ["--in-process"]):
        r = subprocess.run([sys.executable, "-m", "ndgrad", "run", *opt, "prog.py"], cwd=tmp_path,
                           env=_env(tmp_path), capture_output=True, text=True, timeout=120)
        assert (r.returncode, r.stdout) == (2, "")
        assert r.stderr == f"ndgrad run: {opt[0]} applies to notebooks (.ipynb)\n"
    assert _nbkernel.executed_path("/a/b/nb.ipynb") == "/a/b/nb.executed.ipynb"
