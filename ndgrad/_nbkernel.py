"""`ndgrad run notebook.ipynb` in a Jupyter kernel: the cells run in order in an IPython kernel whose
`import torch` is ndgrad (the kernel starts with `--ext=ndgrad`, i.e. `%load_ext ndgrad`), the
outputs are echoed to this terminal as they arrive, and the executed copy (outputs, execution counts,
figures) is written as Jupyter would save it.

Needs the `notebook` extra (nbclient, nbformat, ipykernel); without it `ndgrad run` runs the code
cells in its own process instead (ndgrad._run.run_notebook_in_process).
"""
from __future__ import annotations

import importlib.util
import json
import os
import re
import sys
import tempfile
import warnings
from typing import Any

REQUIRED = ("nbclient", "nbformat", "ipykernel")
KERNEL_NAME = "ndgrad-python3"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def missing() -> list[str]:
    """The packages of the `notebook` extra that are not installed."""
    return [m for m in REQUIRED if importlib.util.find_spec(m) is None]


def executed_path(path: str) -> str:
    """Where the executed copy of `path` goes by default: `name.executed.ipynb` beside it."""
    root, _ = os.path.splitext(path)
    return root + ".executed.ipynb"


def write_kernelspec(folder: str, extensions: tuple[str, ...] = ("ndgrad",)) -> str:
    """A kernelspec directory under `folder` for this interpreter (so the kernel imports this ndgrad),
    loading `extensions` at start-up; returns the kernel directory's parent (a kernel_dirs entry)."""
    kernels = os.path.join(folder, "kernels")
    spec_dir = os.path.join(kernels, KERNEL_NAME)
    os.makedirs(spec_dir, exist_ok=True)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    path = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH", "")) if p)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     *(f"--ext={e}" for e in extensions)],
            "display_name": "Python 3 (ndgrad)", "language": "python", "env": {"PYTHONPATH": path}}
    with open(os.path.join(spec_dir, "kernel.json"), "w", encoding="utf-8") as f:
        json.dump(spec, f)
    return kernels


def kernel_manager(folder: str, extensions: tuple[str, ...] = ("ndgrad",)) -> Any:
    """An (async) kernel manager for a kernel of this interpreter that loads `extensions`."""
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import AsyncKernelManager
    ksm = KernelSpecManager(kernel_dirs=[write_kernelspec(folder, extensions)])
    km = AsyncKernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=ksm)
    if os.name == "posix":  # local sockets in `folder` rather than TCP ports
        km.transport, km.ip = "ipc", os.path.join(folder, "kernel")
    return km


def _client_class() -> type:
    from nbclient import NotebookClient

    class EchoingClient(NotebookClient):
        """nbclient's executor, also printing each output here as it arrives (streams to stdout /
        stderr, results as their text; figures only in the executed copy; errors as tracebacks)."""

        def output(self, outs: list, msg: dict, display_id: str | None, cell_index: int) -> Any:
            out = super().output(outs, msg, display_id, cell_index)
            if out is not None:
                echo(out)
            return out

    return EchoingClient


def echo(out: Any) -> None:
    """Print one notebook output as a terminal shows it."""
    kind = out.get("output_type")
    if kind == "stream":
        stream = sys.stderr if out.get("name") == "stderr" else sys.stdout
        stream.write(out.get("text", ""))
        stream.flush()
    elif kind in ("execute_result", "display_data"):
        data = out.get("data", {})
        if kind == "display_data" and any(k.startswith("image/") for k in data):
            return
        text = data.get("text/plain")
        if text is not None:
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
    elif kind == "error":
        tb = "\n".join(out.get("traceback", []))
        if not sys.stderr.isatty():
            tb = _ANSI.sub("", tb)
        sys.stderr.write(tb + "\n")
        sys.stderr.flush()


def execute(path: str, output: str | None = None) -> int:
    """Execute the notebook at `path` in an ndgrad kernel, write the executed copy to `output`
    (default: executed_path(path)) and return the exit status (1 when a cell raised)."""
    import nbformat
    from nbclient.exceptions import CellExecutionError, DeadKernelError
    path = os.path.abspath(path)
    output = os.path.abspath(output or executed_path(path))
    with warnings.catch_warnings():  # cells of nbformat 4.5 written without ids get them below
        warnings.simplefilter("ignore")
        nb = nbformat.read(path, as_version=4)
    _, normalized = nbformat.validator.normalize(nb)
    nb = nbformat.from_dict(normalized)
    status = 0
    with tempfile.TemporaryDirectory(prefix="ndgrad-kernel-") as tmp:
        client = _client_class()(nb, km=kernel_manager(tmp), timeout=None,
                                 resources={"metadata": {"path": os.path.dirname(path)}})
        try:
            client.execute()
        except CellExecutionError:
            status = 1  # the traceback was echoed with the cell's outputs
        except DeadKernelError as e:
            print(f"ndgrad run: the kernel died: {e}", file=sys.stderr)
            status = 1
        finally:
            nbformat.write(nb, output)
            print(f"ndgrad run: wrote the executed notebook to {output}", file=sys.stderr)
    return status
