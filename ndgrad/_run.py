"""`ndgrad run`: run a PyTorch program unmodified, with `import torch` answered by ndgrad.

    ndgrad run script.py [args...]        as `python script.py args...`
    ndgrad run -m package.module [args...] as `python -m package.module args...`
    ndgrad run notebook.ipynb             the cells in order in a Jupyter kernel, writing the executed copy
                                          (the `notebook` extra; without it, the code cells in this process)
    ndgrad run --nproc N [--hosts H,...] script.py [args...]
                                          N processes under MPI (ndgrad.distributed), as torchrun would

sys.argv, sys.path[0], `__name__ == "__main__"`, relative imports and exit statuses are Python's: a
SystemExit passes through, an uncaught exception prints its traceback (without this runner's frames)
and exits with status 1. The alias itself lives in ndgrad._alias.
"""
from __future__ import annotations

import ast
import json
import os
import runpy
import sys
import traceback
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Sequence

USAGE = """usage: ndgrad run [-h] [--nproc N [--hosts H,...]] [--output P | --in-process] (-m MODULE | PATH) [ARGS ...]

Run a PyTorch program with `import torch` resolved to ndgrad (this process only).

  PATH        a script (.py), a directory or zip with __main__.py, or a notebook (.ipynb)
  --output P  a notebook's executed copy goes to P (default: NAME.executed.ipynb beside it)
  --in-process
              run a notebook's code cells in this process (no kernel, no executed copy)
  -m MODULE   run a module or package as `python -m` does
  ARGS        passed on to the program as sys.argv[1:]
  --nproc N   run N copies under MPI (mpiexec, from the `mpi` extra), each with torchrun's variables
              (RANK, WORLD_SIZE, LOCAL_RANK, ...): a torchrun script's init_process_group joins them
  --hosts H   with --nproc: the machines to spread the processes over (mpiexec's host list)
"""


@dataclass
class Target:
    """What `ndgrad run` was asked to run."""

    path: str | None = None
    module: str | None = None
    args: list[str] = field(default_factory=list)
    # launch options: parsed in parse_args, acted on in main(), never in the program's sys.argv
    nproc: int | None = None
    hosts: str | None = None
    output: str | None = None      # a notebook's executed copy
    in_process: bool = False       # a notebook's cells in this process, without a kernel

    def program_argv(self) -> list[str]:
        """`ndgrad run`'s arguments for the program alone (what each launched process runs)."""
        return (["-m", self.module] if self.module is not None else [self.path]) + self.args


_LAUNCH = {"--nproc": "nproc", "--nproc-per-node": "nproc", "--nproc_per_node": "nproc", "--hosts": "hosts",
           "--output": "output"}
_FLAGS = {"--in-process": "in_process"}


def parse_args(argv: Sequence[str]) -> Target | int:
    """The run target from `ndgrad run`'s arguments; an exit status when there is nothing to run."""
    argv = list(argv)
    launch: dict = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            print(USAGE, end="")
            return 0
        if a in _FLAGS:
            launch[_FLAGS[a]] = True
            i += 1
            continue
        name, eq, value = a.partition("=")
        if name in _LAUNCH:
            if not eq:
                value = argv[i + 1] if i + 1 < len(argv) else ""
                i += 1
            if not value or (_LAUNCH[name] == "nproc" and not value.isdigit()):
                print(f"ndgrad run: argument {name}: expected {'a number' if _LAUNCH[name] == 'nproc' else 'a value'}",
                      file=sys.stderr)
                return 2
            launch[_LAUNCH[name]] = int(value) if _LAUNCH[name] == "nproc" else value
            i += 1
            continue
        if a == "-m" or (a.startswith("-m") and len(a) > 2):
            mod = a[2:] or (argv[i + 1] if i + 1 < len(argv) else "")
            if not mod:
                print("ndgrad run: argument -m: expected a module name", file=sys.stderr)
                return 2
            rest = argv[i + (1 if a[2:] else 2):]
            return _with_launch(Target(module=mod, args=rest), launch)
        if a == "--":
            i += 1
            break
        if a.startswith("-") and a != "-":
            print(f"ndgrad run: unknown option {a}\n{USAGE}", file=sys.stderr, end="")
            return 2
        break
    if i >= len(argv):
        print(USAGE, file=sys.stderr, end="")
        return 2
    return _with_launch(Target(path=argv[i], args=argv[i + 1:]), launch)


def _with_launch(target: Target, launch: dict) -> Target | int:
    if "hosts" in launch and "nproc" not in launch:
        print("ndgrad run: --hosts needs --nproc", file=sys.stderr)
        return 2
    notebook_opts = [o for o, key in (("--output", "output"), ("--in-process", "in_process")) if key in launch]
    if notebook_opts and not (target.path or "").endswith(".ipynb"):
        print(f"ndgrad run: {notebook_opts[0]} applies to notebooks (.ipynb)", file=sys.stderr)
        return 2
    target.nproc, target.hosts = launch.get("nproc"), launch.get("hosts")
    target.output, target.in_process = launch.get("output"), launch.get("in_process", False)
    return target


def main(argv: Sequence[str]) -> int:
    """Entry point of `ndgrad run`; returns the exit status (SystemExit from the program passes through)."""
    target = parse_args(argv)
    if isinstance(target, int):
        return target
    from .distributed import launch
    if target.nproc is not None:  # start the processes; each runs the program as below
        return launch.launch(target.nproc, ["run", *target.program_argv()], target.hosts)
    if not launch.in_mpi_job():
        return run_target(target)
    launch.set_torchrun_env()
    try:
        status = run_target(target)
    except SystemExit as e:
        launch.abort_on_failure(e.code)
        raise
    launch.abort_on_failure(status)
    return status


def run_target(target: Target) -> int:
    """Run one program in this process with the torch alias on."""
    from . import _alias
    if target.path is not None and not os.path.exists(target.path):
        print(f"ndgrad run: can't open file {os.path.abspath(target.path)!r}: [Errno 2] No such file or directory",
              file=sys.stderr)
        return 2
    _alias.enable()
    saved_argv, saved_path0 = sys.argv[:], (sys.path[0] if sys.path else None)
    try:
        if target.module is not None:
            return _run_module(target.module, target.args)
        if target.path.endswith(".ipynb"):
            return run_notebook(target.path, target.output, target.in_process)
        return _guard(lambda: _run_path(target.path, target.args))
    finally:
        sys.argv[:] = saved_argv
        if saved_path0 is not None and sys.path:
            sys.path[0] = saved_path0


def _set_path0(entry: str) -> None:
    if sys.path:
        sys.path[0] = entry
    else:
        sys.path.append(entry)


def _run_path(path: str, args: list[str]) -> None:
    path = os.path.abspath(path)
    sys.argv[:] = [path, *args]
    _set_path0(path if os.path.isdir(path) or not path.endswith(".py") and _is_zip(path)
               else os.path.dirname(os.path.realpath(path)))
    runpy.run_path(path, run_name="__main__")


def _is_zip(path: str) -> bool:
    import zipfile
    return zipfile.is_zipfile(path)


def _run_module(name: str, args: list[str]) -> int:
    import importlib.util
    _set_path0(os.getcwd())
    sys.argv[:] = [name, *args]
    try:
        found = importlib.util.find_spec(name)
    except ImportError as e:  # a parent package is missing or fails
        found, err = None, e
    else:
        err = None
    if found is None:
        print(f"ndgrad run: {err or f'No module named {name}'}", file=sys.stderr)
        return 1
    return _guard(lambda: runpy.run_module(name, run_name="__main__", alter_sys=True))


def _guard(fn: Any) -> int:
    """Run `fn`; an uncaught exception is reported as Python reports it and gives status 1."""
    try:
        fn()
    except SystemExit:
        raise
    except KeyboardInterrupt as e:
        raise e.with_traceback(_user_frames(e.__traceback__)) from e.__cause__
    except BaseException as e:  # noqa: B036 - report every other uncaught exception, as Python does
        report(e)
        return 1
    return 0


_RUNNER_FILES = {_guard.__code__.co_filename, runpy.run_path.__code__.co_filename}


def _user_frames(tb: TracebackType | None) -> TracebackType | None:
    """The traceback without the frames of this runner and runpy before the program's, nor the alias's
    missing-name lookups after them (Python would show none of those)."""
    from . import _alias
    frames = []
    while tb is not None:
        frames.append(tb)
        tb = tb.tb_next
    alias_file = _alias.enable.__code__.co_filename
    while frames and frames[0].tb_frame.f_code.co_filename in _RUNNER_FILES:
        frames.pop(0)
    while len(frames) > 1 and frames[-1].tb_frame.f_code.co_filename == alias_file:
        frames.pop()
    for a, b in zip(frames, frames[1:] + [None]):
        a.tb_next = b
    return frames[0] if frames else None


def report(e: BaseException) -> None:
    """Print an uncaught exception through sys.excepthook, naming what ndgrad lacks when that is the cause."""
    _explain_missing(e)
    tb = _user_frames(e.__traceback__)
    e = e.with_traceback(tb)  # Python's own hook prints e.__traceback__, whatever tb it is given
    if sys.excepthook is sys.__excepthook__:
        traceback.print_exception(e)  # as the default hook prints, with notebook cells' source from linecache
        sys.stderr.flush()
    else:
        sys.excepthook(type(e), e, tb)


def _explain_missing(e: BaseException) -> None:
    # `from torch import xyz` fails with Python's own "cannot import name" message: add what it means here
    from . import _alias
    if not isinstance(e, ImportError) or isinstance(e, ModuleNotFoundError) or not e.name:
        return
    msg = str(e)
    if not msg.startswith("cannot import name '"):
        return
    module = _alias.public_name(e.name)
    if _alias.ndgrad_name(module) is None:
        return
    name = msg[len("cannot import name '"):].split("'", 1)[0]
    e.add_note(f"ndgrad does not implement {module}.{name} yet")


# ---------------------------------------------------------------------------------------------------------
# notebooks
# ---------------------------------------------------------------------------------------------------------
def notebook_cells(path: str) -> list[str]:
    """The source of each code cell of a notebook (nbformat 4, or 3's worksheets), in order."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    cells = nb.get("cells")
    if cells is None:  # nbformat 3
        cells = [c for ws in nb.get("worksheets", []) for c in ws.get("cells", [])]
    out = []
    for c in cells:
        if c.get("cell_type") != "code":
            continue
        src = c.get("source", c.get("input", ""))
        out.append("".join(src) if isinstance(src, list) else src)
    return out


_RUN_MAGICS = ("time", "timeit", "capture")  # cell/line magics whose body still runs


def _strip_magics(src: str) -> str | None:
    """Python source for a cell: IPython magics and shell escapes become `pass` (their body runs for
    %time/%timeit/%%capture; %%writefile writes its file); None for a cell that is not Python."""
    lines = src.split("\n")
    first = lines[0].strip() if lines else ""
    if first.startswith("%%"):
        magic, _, rest = first[2:].partition(" ")
        body = "\n".join(lines[1:])
        if magic == "writefile":
            parts = rest.split()
            append = "-a" in parts or "--append" in parts
            fname = [p for p in parts if not p.startswith("-")][-1]
            with open(fname, "a" if append else "w", encoding="utf-8") as f:
                f.write(body + ("\n" if not body.endswith("\n") else ""))
            return ""
        if magic not in _RUN_MAGICS:
            print(f"ndgrad run: skipping a %%{magic} cell (IPython cell magic)", file=sys.stderr)
            return None
        lines = ["pass", *lines[1:]]  # keep line numbers
    out = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[:len(line) - len(stripped)]
        if stripped.startswith(("%time ", "%timeit ")):
            out.append(indent + stripped.split(" ", 1)[1])
        elif stripped.startswith(("%", "!")) or ("= !" in stripped and stripped.split("= !")[0].isidentifier()):
            out.append(indent + "pass")
        else:
            out.append(line)
    return "\n".join(out)


def run_notebook(path: str, output: str | None = None, in_process: bool = False) -> int:
    """Run a notebook: in a Jupyter kernel with the executed copy written to `output` (the `notebook`
    extra), or, with `in_process`, without the extra, or in a job of several processes, its code
    cells in this process."""
    from . import _nbkernel
    from .distributed import launch
    if not in_process and not launch.in_mpi_job():
        lacking = _nbkernel.missing()
        if not lacking:
            return _nbkernel.execute(path, output)
        print(f"ndgrad run: running the notebook's code cells in this process, without writing an executed "
              f"copy: the `notebook` extra does that in a Jupyter kernel (pip install 'ndgrad[notebook]'; "
              f"missing: {', '.join(lacking)})", file=sys.stderr)
        if output is not None:
            return 2
    return run_notebook_in_process(path)


def run_notebook_in_process(path: str) -> int:
    """Run a notebook's code cells in order in one `__main__` namespace, showing each cell's last
    expression as Jupyter does; the working directory is the notebook's, as under Jupyter."""
    import linecache
    import types
    path = os.path.abspath(path)
    cells = notebook_cells(path)
    name = os.path.basename(path)
    module = types.ModuleType("__main__")
    module.__file__ = path  # type: ignore[attr-defined]  (as the scripts' idiom expects; Jupyter sets none)
    ns = module.__dict__
    ns["__builtins__"] = __builtins__
    saved_main, saved_cwd = sys.modules.get("__main__"), os.getcwd()
    sys.modules["__main__"] = module
    sys.argv[:] = [path]
    _set_path0(os.path.dirname(path))
    os.chdir(os.path.dirname(path))
    try:
        for n, src in enumerate(cells, 1):
            code = _strip_magics(src)
            if code is None or not code.strip():
                continue
            filename = f"<{name} cell {n}>"
            linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
            status = _guard(lambda code=code, filename=filename: _run_cell(code, filename, ns))
            if status:
                return status
        return 0
    finally:
        os.chdir(saved_cwd)
        if saved_main is not None:
            sys.modules["__main__"] = saved_main


def _run_cell(code: str, filename: str, ns: dict) -> None:
    tree = ast.parse(code, filename)
    last = tree.body[-1] if tree.body else None
    show = isinstance(last, ast.Expr) and not code.rstrip().endswith(";")
    if show:
        tree.body.pop()
    exec(compile(tree, filename, "exec"), ns)
    if show:
        value = eval(compile(ast.Expression(last.value), filename, "eval"), ns)
        if value is not None:
            ns["_"] = value
            print(repr(value))
            sys.stdout.flush()
