"""`ndgrad run`: PyTorch programs run unmodified with `import torch` answered by ndgrad.

Each program runs in its own process (`python -m ndgrad run ...`), as a user runs it; what it prints is
compared with what PyTorch prints (torch_ref) or with what plain `python` prints for the same program.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import pytest

import ndgrad

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, cwd: Path, python: bool = False) -> subprocess.CompletedProcess:
    """`python -m ndgrad run ARGS` (or plain `python ARGS`) in `cwd`, with this checkout's ndgrad."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), PYTHONHASHSEED="0")
    cmd = [sys.executable, *args] if python else [sys.executable, "-m", "ndgrad", "run", *args]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=120, env=env)


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


# What programs print about the objects they make: each must read exactly as under PyTorch.
REPRS = [
    "repr(torch.float64)", "str(torch.int32)", "repr(torch.Size([3]))", "str(type(torch.ones(1)))",
    "str(torch.Tensor)", "str(type(torch.nn.Linear(1, 1)))", "str(type(torch.nn.Parameter(torch.ones(1))))",
    "str(torch.nn.Module)", "str(torch.nn.ReLU)", "str(torch.nn.Sequential)", "str(torch.nn.CrossEntropyLoss)",
    "str(torch.optim.SGD)", "str(torch.optim.Adam)", "str(torch.optim.lr_scheduler.StepLR)",
    "str(torch.utils.data.DataLoader)", "str(torch.utils.data.TensorDataset)", "str(torch.autograd.Function)",
    "str(torch.no_grad)", "str(type(torch.float32))", "str(torch.Size)", "str(torch.device)",
    "repr(torch.device('cpu'))", "str(torch.device('cpu'))", "str(torch.Generator)", "str(torch.LongTensor)",
    "str(torch.FloatTensor)", "repr(torch.ones(2, dtype=torch.float64))",
    "repr(torch.ones(2, requires_grad=True) * 2)", "repr(torch.arange(3.).max(0))",
    "str(type(torch.arange(3.).max(0)))",
    "torch.ones(1).type()", "str(type(torch.__version__))", "str(torch.zeros(2, 2, dtype=torch.int32))",
    "repr(torch.nn.Linear(2, 3))",
]


def test_script_args_main_and_reprs_match_pytorch(tmp_path, torch_ref):
    _write(tmp_path / "prog" / "helper.py", "VALUE = 41\n")
    script = _write(tmp_path / "prog" / "main.py", f"""
        import json, sys
        import torch
        from helper import VALUE          # the script's directory is sys.path[0], as under python
        print(json.dumps(sys.argv[1:]), __name__, VALUE + 1, __file__ == {str(tmp_path / "prog" / "main.py")!r})
        print(json.dumps([eval(e) for e in {REPRS!r}]))
        """)
    r = _run(str(script.relative_to(tmp_path)), "--lr", "0.1", "-x", "pos", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    first, second = r.stdout.splitlines()
    assert first == '["--lr", "0.1", "-x", "pos"] __main__ 42 True'
    want = torch_ref("reprs", lambda torch: [eval(e, {"torch": torch}) for e in REPRS])
    for expr, got, expected in zip(REPRS, json.loads(second), want):
        assert got == expected, expr


def test_plain_import_keeps_ndgrad_names(torch_ref):
    want = torch_ref("reprs", lambda torch: [eval(e, {"torch": torch}) for e in REPRS])
    got = [eval(e, {"torch": ndgrad}) for e in REPRS]
    for expr, g, w in zip(REPRS, got, want):
        if expr in ("torch.ones(1).type()", "str(type(torch.__version__))"):
            continue
        assert g == w.replace("torch.", "ndgrad.").replace("<class 'torch'", "<class 'ndgrad'"), expr
    assert ndgrad.Tensor.__module__ == "ndgrad" and ndgrad.Size.__module__ == "ndgrad"
    assert ndgrad.nn.Linear.__module__ == "ndgrad.nn.modules.linear"


def test_module_with_relative_imports_and_exit_code(tmp_path):
    _write(tmp_path / "pkg" / "__init__.py", "")
    _write(tmp_path / "pkg" / "util.py", "import torch\n\ndef make(n):\n    return torch.arange(n)\n")
    _write(tmp_path / "pkg" / "main.py", """
        import sys
        from .util import make
        print(__name__, __package__, sys.argv[1:], make(3))
        sys.exit(int(sys.argv[1]))
        """)
    _write(tmp_path / "pkg" / "__main__.py", "from .util import make\nprint('package main', make(2))\n")
    r = _run("-m", "pkg.main", "4", "b", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (4, "__main__ pkg ['4', 'b'] tensor([0, 1, 2])\n"), r.stderr
    r = _run("-m", "pkg", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "package main tensor([0, 1])\n"), r.stderr
    r = _run("-m", "nopkg.main", cwd=tmp_path)
    assert r.returncode == 1 and "No module named 'nopkg'" in r.stderr


@pytest.mark.parametrize("body", [
    "import sys\nprint('out')\nsys.exit(3)\n",
    "import sys\nsys.exit('fatal: bad input')\n",
    "def f(x):\n    return 1 / x\n\nprint('before')\nf(0)\n",
    "raise SystemExit\n",
], ids=["exit-3", "exit-message", "uncaught", "bare-exit"])
def test_exit_status_and_traceback_as_python(tmp_path, body):
    script = _write(tmp_path / "prog.py", "import torch\n" + body)
    ours = _run("prog.py", cwd=tmp_path)
    _write(tmp_path / "prog.py", "import math\n" + body)  # same lines without torch: plain python's output
    theirs = _run("prog.py", cwd=tmp_path, python=True)
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert script.exists()


def test_missing_names_say_what_ndgrad_lacks(tmp_path):
    _write(tmp_path / "prog.py", """
        import torch
        import torch.nn.functional as F
        print(hasattr(torch, "no_such_fn"), hasattr(torch.nn, "NoSuchLayer"), hasattr(torch, "nn"))
        for get in (lambda: torch.no_such_fn, lambda: F.no_such_fn, lambda: torch.nn.NoSuchLayer):
            try:
                get()
            except AttributeError as e:
                print(type(e).__name__, e)
        try:
            import torch.no_such_module
        except ImportError as e:
            print(type(e).__name__, e, e.name)
        from torch import no_such_name
        """)
    r = _run("prog.py", cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "False False True",
        "AttributeError ndgrad does not implement torch.no_such_fn yet",
        "AttributeError ndgrad does not implement torch.nn.functional.no_such_fn yet",
        "AttributeError ndgrad does not implement torch.nn.NoSuchLayer yet",
        "ModuleNotFoundError ndgrad does not implement torch.no_such_module yet torch.no_such_module"]
    err = r.stderr.splitlines()
    assert err[:2] == ["Traceback (most recent call last):", f'  File "{tmp_path / "prog.py"}", line 14, in <module>']
    assert err[-2].startswith("ImportError: cannot import name 'no_such_name' from 'torch'")
    assert err[-1] == "ndgrad does not implement torch.no_such_name yet"


def test_notebook_runs_code_cells_in_order(tmp_path):
    def cell(src: str, kind: str = "code") -> dict:
        return {"cell_type": kind, "metadata": {}, "source": src.splitlines(True),
                **({"outputs": [], "execution_count": None} if kind == "code" else {})}
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        cell("# A title", "markdown"),
        cell("%matplotlib inline\nimport torch\nx = torch.ones(2)\nx"),
        cell("!pip install nothing\ny = x * 3\ny.sum();"),
        cell("%%writefile data.txt\nhello"),
        cell("%time z = y + 1\nprint(open('data.txt').read().strip(), __name__)\nz.dtype, z.shape"),
        cell("def f():\n    return 1 / 0\nf()"),
        cell("print('never')"),
    ]}
    (tmp_path / "nb").mkdir()
    (tmp_path / "nb" / "demo.ipynb").write_text(json.dumps(nb))
    r = _run("--in-process", str(tmp_path / "nb" / "demo.ipynb"), cwd=tmp_path)  # (kernels: test_notebook_kernel)
    assert r.returncode == 1
    assert r.stdout == "tensor([1., 1.])\nhello __main__\n(torch.float32, torch.Size([2]))\n"
    assert r.stderr.splitlines() == [
        "Traceback (most recent call last):", '  File "<demo.ipynb cell 5>", line 3, in <module>', "    f()",
        '  File "<demo.ipynb cell 5>", line 2, in f', "    return 1 / 0", "           ~~^~~",
        "ZeroDivisionError: division by zero"]
    assert (tmp_path / "nb" / "data.txt").read_text() == "hello\n"  # cells run in the notebook's directory


def test_version_gates_take_the_modern_branch(tmp_path):
    _write(tmp_path / "prog.py", """
        import torch, ndgrad
        from ndgrad.torch_version import TorchVersion
        v = torch.__version__
        print(v, isinstance(v, str), v >= "2.0", v > "1.13.1", v < "10.0", v >= (2, 1), v == "2.13")
        print(torch.version.__version__ == v, torch.version.cuda, ndgrad.__version__ == torch.version.ndgrad)
        try:
            from packaging import version
            print(version.parse(v) >= version.parse("2.0"))
        except ImportError:
            print(True)
        """)
    r = _run("prog.py", cwd=tmp_path)
    assert r.stdout.splitlines() == [f"{ndgrad.version.torch_api} True True True True True True",
                                     "True None True", "True"], r.stderr
    assert ndgrad.__version__ == ndgrad.version.ndgrad == ndgrad.version.__version__  # plain import: our own


def test_torch_version_compares_as_pytorch(torch_ref):
    from ndgrad.torch_version import TorchVersion
    cases = [("2.13.0", "2.13"), ("2.13.0", "2.13.0a0"), ("2.13.0", "2.13.0+cpu"), ("2.0.0.dev20230101", "2.0.0"),
             ("2.0.0rc1", "2.0"), ("1.13.1", "2.0"), ("2.13.0", "abc"), ("2.1.0.post1", "2.1.0")]

    def compare(cls):
        return [[a == b, a < b, a <= b, a > b, a >= b] for a, b in ((cls(x), y) for x, y in cases)]
    want = torch_ref("compare", lambda torch: compare(__import__("torch.torch_version").torch_version.TorchVersion))
    assert compare(TorchVersion) == want
    assert TorchVersion("2.13.0") >= (2, 0) and not TorchVersion("2.13.0") < (2, 13, 0)
    with pytest.raises(TypeError):
        TorchVersion("2.0") < 3  # noqa: B015


def test_use_as_torch_switches_in_process_and_back():
    real = sys.modules.get("torch")
    x = ndgrad.ones(2, dtype=ndgrad.float64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # PyTorch may already be imported by the suite
        ndgrad.use_as_torch()
    try:
        import torch
        assert torch.Tensor is ndgrad.Tensor and torch.nn is ndgrad.nn
        assert repr(x) == "tensor([1., 1.], dtype=torch.float64)" and repr(x.shape) == "torch.Size([2])"
        assert str(type(ndgrad.nn.Linear(1, 1))) == "<class 'torch.nn.modules.linear.Linear'>"
        assert torch.__name__ == "torch" and ndgrad.__version__ == ndgrad.version.ndgrad
    finally:
        ndgrad.use_as_torch(False)
    assert repr(x) == "tensor([1., 1.], dtype=ndgrad.float64)"
    assert str(type(ndgrad.nn.Linear(1, 1))) == "<class 'ndgrad.nn.modules.linear.Linear'>"
    assert sys.modules.get("torch") is real
    with pytest.raises(AttributeError, match="module 'ndgrad' has no attribute 'no_such_fn'"):
        ndgrad.no_such_fn  # noqa: B018


def test_spawned_processes_see_the_alias(tmp_path):
    _write(tmp_path / "prog.py", """
        import multiprocessing as mp
        import torch

        def child(q):
            import torch
            q.put(repr(torch.ones(1, dtype=torch.float64)))

        if __name__ == "__main__":
            ctx = mp.get_context("spawn")
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            print(q.get(timeout=60))
            p.join()
        """)
    r = _run("prog.py", cwd=tmp_path)
    assert (r.returncode, r.stdout) == (0, "tensor([1.], dtype=torch.float64)\n"), r.stderr


def test_cli_usage_errors(tmp_path):
    assert _run(cwd=tmp_path).returncode == 2
    r = _run("missing.py", cwd=tmp_path)
    assert r.returncode == 2 and "can't open file" in r.stderr and "missing.py" in r.stderr
    r = _run("--help", cwd=tmp_path)
    assert r.returncode == 0 and r.stdout.startswith("usage: ndgrad run")
