"""Quick side-by-side benchmarks: ndgrad against PyTorch (when installed) in one process.

Used by `ndgrad bench` and by the scripts in benchmarks/. Each case runs the same code
with `lib` = ndgrad or torch and reports the median time per repetition and the ratio
ndgrad / torch (below 1.0: ndgrad is faster).
"""
from __future__ import annotations

import statistics
import subprocess
import sys
import time
from typing import Any, Callable


def _torch() -> Any:
    try:
        import torch
        torch.set_num_threads(2)
        return torch
    except ImportError:
        return None


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


def chain_fwd_bwd(lib: Any, shape: tuple, n_ops: int = 100) -> Callable[[], Any]:
    """Forward + backward through n_ops elementwise ops: per-op autograd overhead."""
    x = lib.rand(*shape).requires_grad_(True)

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
    import os
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
    samples = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", f"import {module}"], check=True, env=env)
        samples.append(time.perf_counter() - t0)
    return statistics.median(samples)


def blas_info() -> str:
    try:
        from threadpoolctl import threadpool_info
        info = [f"{d.get('internal_api')} {d.get('version')} {d.get('architecture')} threads={d.get('num_threads')}"
                for d in threadpool_info() if d.get("user_api") == "blas"]
        return "; ".join(info) or "unknown"
    except ImportError:
        return "threadpoolctl not installed"


def cases(quick: bool = False) -> list[tuple[str, Callable[[Any], Callable[[], Any]], int]]:
    """(name, factory(lib) -> callable, ops per call) for the standard table."""
    return [
        ("100 elementwise ops, forward, (4,)", lambda lib: elementwise_chain(lib, (4,)), 100),
        ("100 elementwise ops, forward, 256x256", lambda lib: elementwise_chain(lib, (256, 256)), 100),
        ("100 ops fwd+bwd, (4,)", lambda lib: chain_fwd_bwd(lib, (4,)), 100),
        ("100 ops fwd+bwd, 256x256", lambda lib: chain_fwd_bwd(lib, (256, 256)), 100),
        ("matmul 1024x1024 float32", lambda lib: matmul(lib, 1024), 1),
    ]


def main(quick: bool = False) -> list[dict]:
    import ndgrad
    torch = _torch()
    repeat = 3 if quick else 7
    print(f"BLAS: {blas_info()}")
    print(f"{'case':<40} {'ndgrad':>12} {'torch':>12} {'ratio':>7}")
    rows = []
    for name, factory, n_ops in cases(quick):
        t_nd = timeit(factory(ndgrad), repeat)
        t_th = timeit(factory(torch), repeat) if torch is not None else float("nan")
        ratio = t_nd / t_th if torch is not None else float("nan")
        unit, scale = ("us/op", 1e6 / n_ops) if n_ops > 1 else ("ms", 1e3)
        print(f"{name:<40} {t_nd * scale:>9.2f} {unit:<2} {t_th * scale:>9.2f} {unit:<2} {ratio:>7.2f}")
        rows.append({"case": name, "ndgrad_s": t_nd, "torch_s": t_th, "ratio": ratio})
    t_imp = import_time("ndgrad", 3 if quick else 7)
    t_np = import_time("numpy", 3 if quick else 7)
    print(f"{'import ndgrad / import numpy (s)':<40} {t_imp:>12.3f} {t_np:>12.3f} {t_imp / t_np:>7.2f}")
    rows.append({"case": "import", "ndgrad_s": t_imp, "numpy_s": t_np, "ratio": t_imp / t_np})
    return rows


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
