"""DataLoader worker processes, ndgrad beside PyTorch: a Fashion-MNIST-shaped epoch.

Data: N uint8 images 28x28 with labels (random, Fashion-MNIST's shape), in a map-style dataset
whose __getitem__ does what ToTensor does (float32 in [0, 1], shape 1x28x28) with the same NumPy
code in both libraries, so the comparison is about the loaders.
Two workloads per (library, num_workers), each configuration in a fresh subprocess:
  * load: iterate one epoch of batches (batch 256, shuffled), nothing else;
  * train: one epoch of an MLP 784-256-10 with SGD(lr=0.1) on those batches.
Time: wall seconds of a whole epoch (worker start-up included, as in a d2l training loop),
best of --repeats epochs after one warm-up epoch.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_dataloader.py [--n 60000]
"""
from __future__ import annotations

import argparse
import json
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


def _child(libname: str, workers: int, n: int, repeats: int, workload: str) -> dict[str, Any]:
    lib = _lib(libname)
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
    times = [epoch() for _ in range(repeats)]
    return {"best": min(times), "median": float(np.median(times))}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=60000, help="images per epoch")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--child", nargs=3, metavar=("LIB", "WORKERS", "WORKLOAD"))
    args = parser.parse_args()
    if args.child:
        lib, workers, workload = args.child
        print(json.dumps(_child(lib, int(workers), args.n, args.repeats, workload)))
        return
    libs = ["ndgrad"]
    try:
        import torch  # noqa: F401
        libs.append("torch")
    except ImportError:
        print("PyTorch not installed: ndgrad only")
    results: dict[tuple[str, str, int], float] = {}
    for workload in ("load", "train"):
        for workers in (0, 2):
            for lib in libs:
                out = subprocess.run([sys.executable, __file__, "--n", str(args.n), "--repeats",
                                      str(args.repeats), "--child", lib, str(workers), workload],
                                     capture_output=True, text=True, check=True)
                results[(workload, lib, workers)] = json.loads(out.stdout.strip().splitlines()[-1])["best"]
    print(f"{args.n} images 28x28, batch {BATCH}, shuffled; best epoch of {args.repeats} (s)")
    print("| workload | num_workers | ndgrad s/epoch | PyTorch s/epoch | ratio ndgrad/PyTorch |")
    print("|---|---|---|---|---|")
    for workload in ("load", "train"):
        for workers in (0, 2):
            nd = results[(workload, "ndgrad", workers)]
            pt = results.get((workload, "torch", workers))
            ratio = f"{nd / pt:.2f}" if pt else "-"
            print(f"| {workload} | {workers} | {nd:.3f} | {pt:.3f} | {ratio} |" if pt else
                  f"| {workload} | {workers} | {nd:.3f} | - | - |")
    for lib in libs:
        for workload in ("load", "train"):
            speedup = results[(workload, lib, 0)] / results[(workload, lib, 2)]
            print(f"{lib} {workload}: 2 workers are {speedup:.2f}x the speed of 0")


if __name__ == "__main__":
    main()
