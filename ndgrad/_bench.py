"""Quick benchmarks, ndgrad against PyTorch (when installed), each library in its own fresh process.

Used by `ndgrad bench` and by the scripts in benchmarks/. Each library runs the same cases in a child
process of its own (two libraries in one process fight over the cores with their thread pools and
share allocator settings); children of the two libraries alternate, so a change in machine load hits
both. Reported: the median time per repetition over the children, its spread, and the speed ratio
torch time / ndgrad time (above 1.0: ndgrad is faster, as ndgrad/PyTorch throughput).

This file imports nothing from ndgrad at module level: benchmarks/ load it by path, and a PyTorch
child runs it as a script, so that the PyTorch process never imports ndgrad.
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

_PINS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")  # machine-specific BLAS pins a user's machine does not have


def timeit(fn: Callable[[], Any], repeat: int = 7, min_time: float = 0.05) -> float:
    """Median seconds per call, each sample looping until `min_time` has passed."""
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time:
            break
        n *= 2
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        samples.append((time.perf_counter() - t0) / n)
    return statistics.median(samples)


def elementwise_chain(lib: Any, shape: tuple, n_ops: int = 100) -> Callable[[], Any]:
    """Forward only: n_ops small elementwise ops (mul, add, tanh, sub, exp-free to stay finite)."""
    x = lib.rand(*shape)

    def run() -> Any:
        y = x
        for _ in range(n_ops // 4):
            y = y * 0.5
            y = y + 1.0
            y = lib.tanh(y)
            y = y - 0.25
        return y
    return run


def chain_fwd_bwd(lib: Any, shape: tuple, n_ops: int = 100, x: Any = None) -> Callable[[], Any]:
    """Forward + backward through n_ops elementwise ops: per-op autograd overhead. Returns the chain's
    output (its sum is what backward differentiated)."""
    x = (lib.rand(*shape) if x is None else x).requires_grad_(True)

    def run() -> Any:
        y = x
        for _ in range(n_ops // 4):
            y = y * 0.5
            y = y + 1.0
            y = lib.tanh(y)
            y = y - 0.25
        y.sum().backward()
        x.grad = None
        return y
    return run


def matmul(lib: Any, n: int = 1024) -> Callable[[], Any]:
    a, b = lib.rand(n, n), lib.rand(n, n)
    return lambda: a @ b


def import_time(module: str, repeat: int = 5) -> float:
    """Median wall time of a fresh `python -c 'import module'`, with byte code cached as after a
    `pip install` (a first untimed run writes it even where PYTHONDONTWRITEBYTECODE is set)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def blas_info() -> str:
    """The BLAS libraries loaded in this process, with their kernel and threads (threadpoolctl)."""
    try:
        from threadpoolctl import threadpool_info
        info = [f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')} threads={d.get('num_threads')}"
                for d in threadpool_info()]
        return "; ".join(info) or "unknown"
    except ImportError:
        return "threadpoolctl not installed"


def child_env(threads: str) -> dict:
    """Environment of a benchmark child: without the BLAS pins, and with the thread variables removed
    (`threads="default"`: each library picks its own) or set to 1."""
    env = {k: v for k, v in os.environ.items() if k not in _PINS}
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if threads == "1":
            env[var] = "1"
        else:
            env.pop(var, None)
    return env


def run_json_child(cmd: list, threads: str, timeout: float = 1200.0, cwd: str | None = None) -> dict | None:
    """Run a benchmark child and parse the JSON object on its last line of output (None on failure)."""
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=child_env(threads), cwd=cwd)
    except subprocess.TimeoutExpired:
        print(f"  {' '.join(cmd[-6:])}: timed out", file=sys.stderr)
        return None
    if p.returncode:
        print(f"  {' '.join(cmd[-6:])} failed:\n{p.stderr[-3000:]}", file=sys.stderr)
        return None
    return json.loads(p.stdout.strip().splitlines()[-1])


def script_cmd(path: str, root: str, args: list) -> list:
    """The command running the file `path` as __main__ in a fresh interpreter with `root` first on sys.path,
    and without the file's own folder there (ndgrad/ holds modules named like standard ones)."""
    code = (f"import runpy, sys; sys.path.insert(0, {root!r}); sys.argv = [{path!r}] + {list(args)!r}; "
            f"runpy.run_path({path!r}, run_name='__main__')")
    return [sys.executable, "-c", code]


def import_library(lib: str, threads: str) -> Any:
    """ndgrad or torch, imported in a benchmark child (torch set to one thread when asked)."""
    if lib == "torch":
        import torch
        if threads == "1":
            torch.set_num_threads(1)
        return torch
    import ndgrad
    return ndgrad


def cases() -> list[tuple[str, Callable[[Any], Callable[[], Any]], int]]:
    """(name, factory(lib) -> callable, ops per call) for the standard table."""
    return [
        ("100 elementwise ops, forward, (4,)", lambda lib: elementwise_chain(lib, (4,)), 100),
        ("100 elementwise ops, forward, 256x256", lambda lib: elementwise_chain(lib, (256, 256)), 100),
        ("100 ops fwd+bwd, (4,)", lambda lib: chain_fwd_bwd(lib, (4,)), 100),
        ("100 ops fwd+bwd, 256x256", lambda lib: chain_fwd_bwd(lib, (256, 256)), 100),
        ("matmul 1024x1024 float32", lambda lib: matmul(lib, 1024), 1),
    ]


def _child(lib: str, threads: str, repeat: int) -> dict:
    fw = import_library(lib, threads)
    return {"times": {name: timeit(factory(fw), repeat) for name, factory, _ in cases()}, "blas": blas_info()}


def _have_torch() -> bool:
    import importlib.util
    return importlib.util.find_spec("torch") is not None


def main(quick: bool = False, threads: tuple = ("default",), children: int | None = None) -> list[dict]:
    """Print the per-op table: each library in `children` fresh processes per thread setting, interleaved."""
    libs = ["ndgrad", "torch"] if _have_torch() else ["ndgrad"]
    repeat = 3 if quick else 7
    children = children or (1 if quick else 3)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    rows = []
    for th in threads:
        got: dict = {lib: [] for lib in libs}
        blas = ""
        for _ in range(children):
            for lib in libs:
                r = run_json_child(script_cmd(__file__, root, ["--child", lib, th, str(repeat)]), th, cwd=root)
                if r is not None:
                    got[lib].append(r["times"])
                    blas = blas or r["blas"]
        print(f"threads: {th}; BLAS: {blas}; {children} process(es) per library")
        print(f"{'case':<40} {'ndgrad':>12} {'torch':>12} {'speed':>7}  spread ndgrad / torch")
        for name, _, n_ops in cases():
            nd = [t[name] for t in got["ndgrad"]]
            th_ = [t[name] for t in got.get("torch", [])]
            if not nd:
                continue
            t_nd = statistics.median(nd)
            t_th = statistics.median(th_) if th_ else float("nan")
            unit, scale = ("us/op", 1e6 / n_ops) if n_ops > 1 else ("ms", 1e3)
            spread = f"{min(nd) * scale:.2f}-{max(nd) * scale:.2f}"
            if th_:
                spread += f" / {min(th_) * scale:.2f}-{max(th_) * scale:.2f}"
            print(f"{name:<40} {t_nd * scale:>9.2f} {unit:<2} {t_th * scale:>9.2f} {unit:<2} {t_th / t_nd:>7.2f}  "
                  f"{spread}")
            rows.append({"case": name, "threads": th, "ndgrad_s": t_nd, "torch_s": t_th, "speed": t_th / t_nd})
    t_imp = import_time("ndgrad", 3 if quick else 7)
    t_np = import_time("numpy", 3 if quick else 7)
    print(f"{'import ndgrad / import numpy (s), ratio':<40} {t_imp:>12.3f} {t_np:>12.3f} {t_imp / t_np:>7.2f}")
    rows.append({"case": "import", "ndgrad_s": t_imp, "numpy_s": t_np, "ratio": t_imp / t_np})
    return rows


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(_child(sys.argv[2], sys.argv[3], int(sys.argv[4]))))
    else:
        main(quick="--quick" in sys.argv, threads=("default", "1") if "--threads" in sys.argv else ("default",))
