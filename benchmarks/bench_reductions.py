"""Float32 reductions and scans: speed and accuracy of ndgrad, plain NumPy and PyTorch.

ndgrad's sums fold long non-contiguous axes (ndgrad/ops/_sums.py) and its float32 cumsum
accumulates in float64, as PyTorch's CPU kernels do; plain NumPy (what ndgrad called before)
adds slice after slice along such axes. Each library runs in its own fresh process, one thread.
The error column is the largest absolute difference from the float64 answer, divided by the
largest magnitude of that answer.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_reductions.py
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np

CASES = [  # (name, shape, op, dim)
    ("sum(0) 182625x64", (182625, 64), "sum", 0),
    ("sum(1) 182625x64", (182625, 64), "sum", 1),
    ("sum() 182625x64", (182625, 64), "sum", None),
    ("sum(0) 1000x1000", (1000, 1000), "sum", 0),
    ("mean((0,2,3)) 128x64x32x32", (128, 64, 32, 32), "mean", (0, 2, 3)),
    ("mean(0) 4096x3x32x32", (4096, 3, 32, 32), "mean", 0),
    ("var(0) 182625x64", (182625, 64), "var", 0),
    ("var(1) 182625x64", (182625, 64), "var", 1),
    ("norm(dim=0) 182625x64", (182625, 64), "norm", 0),
    ("cumsum(0) 10^7", (10 ** 7,), "cumsum", 0),
    ("cumsum(0) 1000x1000", (1000, 1000), "cumsum", 0),
]


def _data(shape: tuple) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(shape, dtype=np.float32) * 0.1 + 3).astype(np.float32)


def _exact(x: np.ndarray, op: str, dim: Any) -> np.ndarray:
    x = x.astype(np.float64)
    if op == "sum":
        return x.sum(dim)
    if op == "mean":
        return x.mean(dim)
    if op == "var":
        return x.var(dim, ddof=1)
    if op == "norm":
        return np.sqrt((x * x).sum(dim))
    return x.cumsum(dim)


def _fn(lib: str, x: np.ndarray, op: str, dim: Any) -> Any:
    if lib == "numpy":  # the kernels ndgrad called before
        return {"sum": lambda: np.add.reduce(x, dim), "mean": lambda: np.mean(x, dim),
                "var": lambda: np.var(x, dim, ddof=1), "norm": lambda: np.sqrt(np.sum(x * x, dim)),
                "cumsum": lambda: np.cumsum(x, dim)}[op]
    if lib == "ndgrad":
        import ndgrad as L
    else:
        import torch as L
        L.set_num_threads(1)
    t = L.from_numpy(x)
    d = tuple(range(x.ndim)) if dim is None else dim
    return {"sum": lambda: t.sum(d), "mean": lambda: t.mean(d), "var": lambda: t.var(d),
            "norm": lambda: L.linalg.vector_norm(t, dim=d), "cumsum": lambda: t.cumsum(d)}[op]


def run_one(lib: str) -> dict:
    from ndgrad._bench import timeit
    out = {}
    for name, shape, op, dim in CASES:
        x = _data(shape)
        f = _fn(lib, x, op, dim)
        r = np.asarray(f())
        want = _exact(x, op, dim)
        err = float(np.abs(r.astype(np.float64) - want).max() / np.abs(want).max())
        out[name] = (timeit(f, repeat=5, min_time=0.1) * 1e3, err)
    return out


def main() -> None:
    libs = ["numpy", "ndgrad"]
    try:
        import torch  # noqa: F401
        libs.append("torch")
    except ImportError:
        pass
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    res = {}
    for lib in libs:
        proc = subprocess.run([sys.executable, __file__, "--lib", lib], env=env, capture_output=True, text=True,
                              check=True)
        res[lib] = json.loads(proc.stdout)
    head = " | ".join(f"{lib} ms | {lib} rel. error" for lib in libs)
    print(f"| case | {head} |")
    print("|---|" + "---|---|" * len(libs))
    for name, *_ in CASES:
        cells = " | ".join(f"{res[lib][name][0]:.2f} | {res[lib][name][1]:.1e}" for lib in libs)
        print(f"| {name} | {cells} |")


if __name__ == "__main__":
    if "--lib" in sys.argv:
        print(json.dumps(run_one(sys.argv[sys.argv.index("--lib") + 1])))
    else:
        main()
