"""Training throughput and peak memory, ndgrad beside PyTorch, in one run.

Workloads (random data, float32, identical initial weights in both frameworks):
  * MLP 784-256-256-10 (ReLU), batch 128, SGD(lr=0.01, momentum=0.9), cross-entropy
  * LeNet-5 as in d2l (sigmoid, average pooling) on 1x28x28, batch 64, same optimiser

Throughput: samples/s over timed steps after warm-up steps, best of a few repeats,
  the two frameworks' repeats interleaved so that changing machine load hits both;
  also the process CPU time per step (all threads, BLAS included; best repeat), which a
  loaded machine disturbs less than wall time.
Memory: each (framework, workload) pair trains in a fresh subprocess, which reports
  * rss_delta: the process's peak resident set over its first 10 training
    steps minus its resident set just before them (Linux: VmHWM and VmRSS of
    /proc/self/status, the peak mark reset via /proc/self/clear_refs first;
    elsewhere resource.getrusage ru_maxrss); it covers every allocator (NumPy,
    PyTorch's caching allocator, Python) at page granularity and excludes what
    the imports, model, data and NumPy's BLAS thread buffers (primed first) held;
  * for ndgrad also tracemalloc's peak (NumPy reports its array buffers to
    tracemalloc), i.e. the most bytes of Python+NumPy allocations alive at once
    during training.
PyTorch is optional: without it only the ndgrad columns are printed.

    python benchmarks/bench_train.py [--steps N] [--repeats R] [--no-memory]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from typing import Any

import numpy as np

WORKLOADS = {"mlp": 128, "lenet": 64}


def _build(fw: Any, kind: str) -> Any:
    nn = fw.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def _init_weights(kind: str) -> list:
    """One set of initial weights (NumPy), shared by both frameworks."""
    import ndgrad
    ndgrad.manual_seed(0)
    return [p.detach().numpy().copy() for p in _build(ndgrad, kind).parameters()]


def _data(kind: str, n_batches: int) -> tuple:
    rng = np.random.default_rng(0)
    b = WORKLOADS[kind]
    shape = (n_batches, b, 784) if kind == "mlp" else (n_batches, b, 1, 28, 28)
    return rng.standard_normal(shape).astype(np.float32), rng.integers(0, 10, (n_batches, b)).astype(np.int64)


def _setup(fwname: str, kind: str, n_batches: int) -> tuple:
    if fwname == "torch":
        import torch as fw
        torch_threads = os.environ.get("BENCH_TORCH_THREADS")
        if torch_threads:
            fw.set_num_threads(int(torch_threads))
    else:
        import ndgrad as fw
    model = _build(fw, kind)
    with fw.no_grad():
        for p, w in zip(model.parameters(), _init_weights(kind)):
            p.copy_(fw.from_numpy(w.copy()))
    opt = fw.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = fw.nn.CrossEntropyLoss()
    X, Y = _data(kind, n_batches)
    batches = [(fw.from_numpy(X[i]), fw.from_numpy(Y[i])) for i in range(n_batches)]
    return model, opt, loss_fn, batches


def _step(model: Any, opt: Any, loss_fn: Any, x: Any, y: Any) -> float:
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()
    return loss


def throughput(fwnames: list, kind: str, steps: int, repeats: int, warmup: int = 3) -> dict:
    """samples/s per framework: best of `repeats` timed blocks, the frameworks' blocks
    interleaved (A B A B ...) so that a change in machine load hits both alike."""
    runs = {fw: _setup(fw, kind, 8) for fw in fwnames}
    for model, opt, loss_fn, batches in runs.values():
        for i in range(warmup):
            _step(model, opt, loss_fn, *batches[i % len(batches)])
    best = {fw: float("inf") for fw in fwnames}
    cpu = {fw: float("inf") for fw in fwnames}
    last: dict = {}
    for _ in range(repeats):
        for fw, (model, opt, loss_fn, batches) in runs.items():
            t0, c0 = time.perf_counter(), time.process_time()
            for i in range(steps):
                loss = _step(model, opt, loss_fn, *batches[i % len(batches)])
            c1 = time.process_time()
            last[fw] = float(loss.detach())
            best[fw] = min(best[fw], time.perf_counter() - t0)
            cpu[fw] = min(cpu[fw], c1 - c0)
    return {fw: (steps * WORKLOADS[kind] / best[fw], last[fw], 1e3 * cpu[fw] / steps) for fw in fwnames}


def _status_kib(field: str) -> int | None:
    """A memory field of /proc/self/status (Linux), in KiB."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _reset_peak() -> None:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0; ignored elsewhere)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def memory_child(fwname: str, kind: str, steps: int) -> dict:
    import gc
    import tracemalloc
    model, opt, loss_fn, batches = _setup(fwname, kind, 4)
    a = np.ones((512, 512), np.float32)
    float((a @ a)[0, 0])  # prime NumPy's BLAS (threads and their work buffers) outside the measurement
    del a
    gc.collect()
    _reset_peak()
    base = _status_kib("VmRSS")
    if base is None:  # not Linux: ru_maxrss (which a child inherits from its parent across exec)
        base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if fwname == "ndgrad":
        tracemalloc.start()
    for i in range(steps):
        _step(model, opt, loss_fn, *batches[i % len(batches)])
    peak = _status_kib("VmHWM")
    if peak is None:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    res = {"rss_delta_kib": peak - base}
    if fwname == "ndgrad":
        res["tracemalloc_peak_kib"] = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    return res


def _memory(fwname: str, kind: str, steps: int) -> dict | None:
    cmd = [sys.executable, os.path.abspath(__file__), "--child", fwname, kind, "--steps", str(steps)]
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=True).stdout
        return json.loads(out.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=None, help="timed steps per repeat (default: 40 MLP, 20 LeNet)")
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-memory", action="store_true")
    ap.add_argument("--child", nargs=2, metavar=("FRAMEWORK", "WORKLOAD"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        print(json.dumps(memory_child(a.child[0], a.child[1], a.steps or 10)))
        return
    try:
        import torch  # noqa: F401
        fws = ["ndgrad", "torch"]
    except ImportError:
        fws = ["ndgrad"]
    try:
        import threadpoolctl
        blas = [(i.get("internal_api"), i.get("architecture"), i.get("num_threads"))
                for i in threadpoolctl.threadpool_info()]
    except ImportError:
        blas = "threadpoolctl not installed"
    print(f"numpy {np.__version__}; BLAS (api, kernel, threads): {blas}; cpus: {os.cpu_count()}")
    if "torch" in fws:
        import torch
        print(f"torch {torch.__version__}, threads: {torch.get_num_threads()}")
    print(__doc__.split("\n\n")[2].strip() if not a.no_memory else "")
    print()
    hdr = f"{'workload':8} {'framework':9} {'samples/s':>10} {'cpu ms/step':>11} {'final loss':>10} " \
          f"{'rss_delta MiB':>14} {'tracemalloc MiB':>15}"
    print(hdr)
    print("-" * len(hdr))
    results: dict = {}
    for kind in WORKLOADS:
        steps = a.steps or (40 if kind == "mlp" else 20)
        tp = throughput(fws, kind, steps, a.repeats)
        for fw in fws:
            sps, loss, cpu_ms = tp[fw]
            mem = None if a.no_memory else _memory(fw, kind, 10)
            results[(kind, fw)] = sps
            rss = f"{mem['rss_delta_kib'] / 1024:.1f}" if mem else "-"
            tm = f"{mem['tracemalloc_peak_kib'] / 1024:.1f}" if mem and "tracemalloc_peak_kib" in mem else "-"
            print(f"{kind:8} {fw:9} {sps:10.0f} {cpu_ms:11.2f} {loss:10.4f} {rss:>14} {tm:>15}")
    if "torch" in fws:
        print()
        targets = {"mlp": 1.0, "lenet": 0.5}
        for kind in WORKLOADS:
            r = results[(kind, "ndgrad")] / results[(kind, "torch")]
            print(f"{kind}: ndgrad/torch throughput = {r:.2f}x (target >= {targets[kind]}x: "
                  f"{'met' if r >= targets[kind] else 'MISSED'})")


if __name__ == "__main__":
    main()
