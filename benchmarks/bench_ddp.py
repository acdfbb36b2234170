"""DistributedDataParallel scaling on this machine: 1 process vs 2 processes (MPI, shared memory).

Weak scaling, as data-parallel training is used: every process trains on its own batch of
fixed size, so 2 processes see twice the samples per step. Each process runs single-threaded
BLAS (OMP/OPENBLAS_NUM_THREADS=1) so that 2 processes use the 2 cores; the single-process rows
without DDP (1 and 2 BLAS threads) are the baselines a user would compare with.

Per step each worker measures (perf_counter):
  * step: forward + backward + optimizer step (the DDP finalisation included);
  * hooks: time inside DDP's per-parameter gradient hooks (copy into the bucket, start of the
    non-blocking all-reduce, MPI progress calls);
  * wait: time blocked at the end of backward waiting for the all-reduces (communication not
    hidden behind computation);
  * compute = step - hooks - wait.
It also records the message sizes (gradient bytes per step, bucket count and sizes), and an
all-reduce microbenchmark (latency and bandwidth between 2 processes), from which the
projection in benchmarks/RESULTS.md is computed.

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_ddp.py [--steps N]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import WORKLOADS, _build  # noqa: E402  (the same MLP and LeNet-5, per-process batch 128 / 64)


def worker(kind: str, ddp_on: bool, steps: int, warmup: int) -> dict:
    import ndgrad
    from ndgrad.nn.parallel import distributed as D
    rank, world = 0, 1
    if ddp_on:
        import ndgrad.distributed as dist
        dist.init_process_group("mpi")
        rank, world = dist.get_rank(), dist.get_world_size()
    ndgrad.manual_seed(0)
    model = _build(ndgrad, kind)
    times = {"hooks": 0.0, "wait": 0.0}
    if ddp_on:
        def timed(fn, key):
            def wrapper(*a, **k):
                t = time.perf_counter()
                try:
                    return fn(*a, **k)
                finally:
                    times[key] += time.perf_counter() - t
            return wrapper
        D._Reducer.mark_ready = timed(D._Reducer.mark_ready, "hooks")
        D._Reducer.finalize = timed(D._Reducer.finalize, "wait")
        model = D.DistributedDataParallel(model)
    opt = ndgrad.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = ndgrad.nn.CrossEntropyLoss()
    b = WORKLOADS[kind]
    rng = np.random.default_rng(rank)
    shape = (b, 784) if kind == "mlp" else (b, 1, 28, 28)
    xs = [ndgrad.tensor(rng.standard_normal(shape, dtype=np.float32)) for _ in range(4)]
    ys = [ndgrad.tensor(rng.integers(0, 10, b)) for _ in range(4)]
    rows = []
    for step in range(warmup + steps):
        times["hooks"] = times["wait"] = 0.0
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(xs[step % 4]), ys[step % 4]).backward()
        opt.step()
        if step >= warmup:
            rows.append((time.perf_counter() - t0, times["hooks"], times["wait"]))
    out = {"kind": kind, "ddp": ddp_on, "world": world, "batch_per_process": b}
    step_s = statistics.median(r[0] for r in rows)
    out.update(step_ms=1e3 * step_s, hooks_ms=1e3 * statistics.median(r[1] for r in rows),
               wait_ms=1e3 * statistics.median(r[2] for r in rows), samples_per_s=world * b / step_s)
    if ddp_on:
        red = model._reducer
        out["grad_bytes"] = int(sum(bk.buffer.nbytes for bk in red.buckets))
        out["bucket_bytes"] = [int(bk.buffer.nbytes) for bk in red.buckets]
        out["allreduce"] = allreduce_curve() if world > 1 else None
    return out if rank == 0 else {}


def allreduce_curve() -> dict:
    """Median time of an in-place float32 Allreduce by message size, on this job's processes."""
    from mpi4py import MPI
    comm = MPI.COMM_WORLD
    res = {}
    for nbytes in (4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20):
        a = np.ones(nbytes // 4, np.float32)
        ts = []
        for _ in range(30):
            comm.Barrier()
            t = time.perf_counter()
            comm.Allreduce(MPI.IN_PLACE, a, MPI.SUM)
            ts.append(time.perf_counter() - t)
        res[nbytes] = statistics.median(ts[5:])
    return res


def run(kind: str, mode: str, steps: int, warmup: int) -> dict:
    """mode: 'plain1' (1 process, 1 BLAS thread), 'plain2t' (1 process, 2 threads), 'ddp1', 'ddp2'."""
    threads = "2" if mode == "plain2t" else "1"
    env = dict(os.environ, OMP_NUM_THREADS=threads, OPENBLAS_NUM_THREADS=threads,
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    cmd = [sys.executable, __file__, "--worker", kind, mode, str(steps), str(warmup)]
    if mode.startswith("ddp"):
        from ndgrad.distributed.launch import mpiexec_path
        cmd = [mpiexec_path(), "-n", mode[-1]] + cmd
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


# projection: MPICH reduces long messages with Rabenseifner's algorithm (a recursive-halving
# reduce-scatter, then a recursive-doubling all-gather): 2 log2(p) messages of latency alpha, each
# process sending 2 (p-1)/p of the bucket over links of B bytes/s and summing (p-1)/p of it
# (~5 GB/s in memory). Bucket of S bytes: 2 log2(p) alpha + 2 (p-1)/p S / B + (p-1)/p S / 5 GB/s.
LINKS = {10: 20e-6, 25: 15e-6, 100: 5e-6}  # Gb/s -> alpha (TCP over Ethernet; RDMA at 100 Gb/s)


def bucket_time(nbytes: int, p: int, gbit: int) -> float:
    import math
    return (2 * math.ceil(math.log2(p)) * LINKS[gbit] + 2 * (p - 1) / p * nbytes / (gbit * 1e9 / 8)
            + (p - 1) / p * nbytes / 5e9)


def projection(results: list) -> str:
    """Markdown: projected scaling for 8-64 processes from the measured per-process compute time
    (1 process, 1 thread, no DDP), DDP's measured per-step hook cost (2 processes) and the measured
    bucket sizes. Each cell: all-reduce time per step, scaling efficiency (compute time / step
    time) and samples/s of the whole job. Every bucket but the last may be reduced during the
    rest of backward (taken as two thirds of the compute time); the last one never overlaps."""
    lines = ["| workload | processes | " + " | ".join(f"{g} Gb/s" for g in LINKS) + " |",
             "|---|---|" + "---|" * len(LINKS)]
    for kind in WORKLOADS:
        base = next(r for r in results if r["kind"] == kind and r["mode"] == "plain1")
        ddp2 = next(r for r in results if r["kind"] == kind and r["mode"] == "ddp2")
        compute, hooks = base["step_ms"] / 1e3, ddp2["hooks_ms"] / 1e3
        for p in (8, 16, 32, 64):
            cells = []
            for gbit in LINKS:
                ts = [bucket_time(b, p, gbit) for b in ddp2["bucket_bytes"]]
                exposed = ts[-1] + max(0.0, sum(ts) - ts[-1] - 2 / 3 * compute)
                eff = compute / (compute + hooks + exposed)
                rate = p * base["batch_per_process"] * eff / compute
                cells.append(f"{1e3 * sum(ts):.2f} ms, {eff:.0%}, {rate:,.0f}/s")
            lines.append(f"| {kind} | {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--worker", nargs=4, default=None)
    ap.add_argument("--project", default=None, metavar="JSON", help="only print the projection of saved results")
    a = ap.parse_args()
    if a.project:
        print(projection(json.loads(Path(a.project).read_text())))
        return
    if a.worker:
        kind, mode, steps, warmup = a.worker
        res = worker(kind, mode.startswith("ddp"), int(steps), int(warmup))
        if res:
            print(json.dumps(res))
        return
    results = []
    for kind in WORKLOADS:
        for mode in ("plain1", "plain2t", "ddp1", "ddp2"):
            best = min((run(kind, mode, a.steps, a.warmup) for _ in range(a.repeats)), key=lambda r: r["step_ms"])
            best["mode"] = mode
            results.append(best)
            print(f"{kind:6} {mode:8} {best['samples_per_s']:9.0f} samples/s  step {best['step_ms']:7.2f} ms  "
                  f"hooks {best['hooks_ms']:6.2f} ms  wait {best['wait_ms']:6.2f} ms", flush=True)
    print(json.dumps(results))
    print(projection(results))


if __name__ == "__main__":
    main()
