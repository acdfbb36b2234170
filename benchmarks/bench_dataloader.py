"""DataLoader worker processes, ndgrad beside PyTorch: a Fashion-MNIST-shaped epoch.

Data: N uint8 images 28x28 with labels (random, Fashion-MNIST's shape), in a map-style dataset
whose __getitem__ does what ToTensor does (float32 in [0, 1], shape 1x28x28) with the same NumPy
code in both libraries, so the comparison is about the loaders.
Two workloads per (library, num_workers), each configuration in a fresh subprocess:
  * load: iterate one epoch of batches (batch 256, shuffled), nothing else;
  * train: one epoch of an MLP 784-256-10 with SGD(lr=0.1) on those batches.
Time: wall seconds of a whole epoch (worker start-up included, as in a d2l training loop) after
a warm-up epoch; every configuration runs once per round, rounds repeat --repeats times (so a
changing machine load hits all configurations alike) and the best round is reported.
Threads: each process (main and workers) uses --threads BLAS/OpenMP threads (default 1), so two
workers plus the main process do not oversubscribe a small machine's cores.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_dataloader.py [--n 60000]
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from typing import Any

import numpy as np

BATCH = 256


def _lib(name: str) -> Any:
    if name == "torch":
        import torch
        return torch
    import ndgrad
    return ndgrad


def _dataset(lib: Any, n: int) -> Any:
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n).astype(np.int64)

    class FashionShaped(lib.utils.data.Dataset):
        def __len__(self) -> int:
            return n

        def __getitem__(self, i: int) -> Any:
            x = lib.from_numpy((images[i].astype(np.float32) / np.float32(255))[None])
            return x, int(labels[i])
    return FashionShaped()


def _child(libname: str, workers: int, n: int, threads: int, workload: str) -> float:
    lib = _lib(libname)
    if libname == "torch":
        lib.set_num_threads(threads)
    lib.manual_seed(0)
    loader = lib.utils.data.DataLoader(_dataset(lib, n), batch_size=BATCH, shuffle=True,
                                       num_workers=workers)
    nn = lib.nn
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    opt = lib.optim.SGD(model.parameters(), lr=0.1)
    loss_fn = nn.CrossEntropyLoss()

    def epoch() -> float:
        start = time.perf_counter()
        last = 0.0
        for x, y in loader:
            if workload == "train":
                opt.zero_grad()
                loss = loss_fn(model(x), y)
                loss.backward()
                opt.step()
                last = float(loss.item())
        assert last == last
        return time.perf_counter() - start
    epoch()  # warm-up: imports, first allocations
    return epoch()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=60000, help="images per epoch")
    parser.add_argument("--repeats", type=int, default=3, help="rounds over all configurations")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads per process")
    parser.add_argument("--child", nargs=3, metavar=("LIB", "WORKERS", "WORKLOAD"))
    args = parser.parse_args()
    if args.child:
        lib, workers, workload = args.child
        print(json.dumps(_child(lib, int(workers), args.n, args.threads, workload)))
        return
    libs = ["ndgrad"]
    try:
        import torch  # noqa: F401
        libs.append("torch")
    except ImportError:
        print("PyTorch not installed: ndgrad only")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads),
               OPENBLAS_NUM_THREADS=str(args.threads), MKL_NUM_THREADS=str(args.threads))
    configs = [(w, lib, nw) for w in ("load", "train") for nw in (0, 2) for lib in libs]
    times: dict[tuple[str, str, int], list[float]] = {c: [] for c in configs}
    for _ in range(args.repeats):
        for workload, lib, workers in configs:
            out = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--threads",
                                  str(args.threads), "--child", lib, str(workers), workload],
                                 capture_output=True, text=True, check=True, env=env)
            times[(workload, lib, workers)].append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = {c: min(t) for c, t in times.items()}
    print(f"{args.n} images 28x28, batch {BATCH}, shuffled, {args.threads} thread(s) per "
          f"process; best of {args.repeats} rounds (s per epoch)")
    print("| workload | num_workers | ndgrad s/epoch | PyTorch s/epoch | ratio ndgrad/PyTorch |")
    print("|---|---|---|---|---|")
    for workload in ("load", "train"):
        for workers in (0, 2):
            nd = best[(workload, "ndgrad", workers)]
            pt = best.get((workload, "torch", workers))
            print(f"| {workload} | {workers} | {nd:.3f} | {pt:.3f} | {nd / pt:.2f} |" if pt else
                  f"| {workload} | {workers} | {nd:.3f} | - | - |")
    for lib in libs:
        for workload in ("load", "train"):
            speedup = best[(workload, lib, 0)] / best[(workload, lib, 2)]
            print(f"{lib} {workload}: num_workers=2 runs {speedup:.2f}x the speed of 0")


if __name__ == "__main__":
    main()
