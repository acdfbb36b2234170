"""Function transforms, ndgrad beside PyTorch (torch.func).

Workloads (float32, weights from one NumPy seed, the same in both libraries):
  * per-sample gradients of an MLP 784-256-10 (ReLU, cross-entropy) on a batch of 64, three ways:
    vmap(grad(loss)) over the batch with functional_call ("vmap"); grad(loss) called once per
    sample in a Python loop ("loop"); and the classic loop of one backward() per sample ("loop_bw");
  * Jacobians of f(x) = W2 tanh(W1 x) by jacfwd and by jacrev, for a wide input (x in R^2048, 8
    outputs: jacrev needs 8 VJPs, jacfwd 2048 JVPs) and a wide output (x in R^8, 2048 outputs:
    jacfwd needs 8 JVPs, jacrev 2048 VJPs); theory says jacrev wins the first and jacfwd the second.
Every (library, workload) runs in its own fresh process; the processes of all configurations are
interleaved in rounds (so a changing machine load hits them alike); each process times several
calls after a warm-up and reports its median. The table gives the median over rounds and the
spread (lowest to highest round median).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_func.py [--rounds 5]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any, Callable

import numpy as np

BATCH, D_IN, HIDDEN, CLASSES = 64, 784, 256, 10
WIDE, NARROW, JAC_HIDDEN = 2048, 8, 64
WORKLOADS = ["vmap", "loop", "loop_bw", "jacfwd_wide_in", "jacrev_wide_in", "jacfwd_wide_out", "jacrev_wide_out"]


def _lib(name: str) -> Any:
    if name == "torch":
        import torch
        torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
        return torch
    import ndgrad
    return ndgrad


def _t(M: Any, a: np.ndarray) -> Any:
    return M.tensor(np.asarray(a, np.float32))


def _per_sample(M: Any, how: str) -> Callable:
    rng = np.random.default_rng(0)
    nn, F = M.nn, M.func
    net = nn.Sequential(nn.Linear(D_IN, HIDDEN), nn.ReLU(), nn.Linear(HIDDEN, CLASSES))
    with M.no_grad():
        for p in net.parameters():
            p.copy_(_t(M, rng.standard_normal(tuple(p.shape)) * 0.05))
    x = _t(M, rng.standard_normal((BATCH, D_IN)))
    y = M.tensor(rng.integers(0, CLASSES, BATCH))
    params = {k: v.detach() for k, v in net.named_parameters()}

    def loss(p: dict, xi: Any, yi: Any) -> Any:
        out = F.functional_call(net, p, (xi.unsqueeze(0),))
        return nn.functional.cross_entropy(out, yi.unsqueeze(0))
    if how == "vmap":
        per_sample = F.vmap(F.grad(loss), in_dims=(None, 0, 0))
        return lambda: per_sample(params, x, y)
    if how == "loop":
        g = F.grad(loss)
        return lambda: [g(params, x[i], y[i]) for i in range(BATCH)]

    def loop_bw() -> list:
        out = []
        for i in range(BATCH):
            net.zero_grad()
            nn.functional.cross_entropy(net(x[i:i + 1]), y[i:i + 1]).backward()
            out.append([p.grad.clone() for p in net.parameters()])
        return out
    return loop_bw


def _jacobian(M: Any, how: str) -> Callable:
    mode, shape = how.split("_", 1)
    n_in, n_out = (WIDE, NARROW) if shape == "wide_in" else (NARROW, WIDE)
    rng = np.random.default_rng(1)
    w1 = _t(M, rng.standard_normal((JAC_HIDDEN, n_in)) / np.sqrt(n_in))
    w2 = _t(M, rng.standard_normal((n_out, JAC_HIDDEN)) / np.sqrt(JAC_HIDDEN))
    x = _t(M, rng.standard_normal(n_in))

    def f(v: Any) -> Any:
        return w2 @ M.tanh(w1 @ v)
    jac = (M.func.jacfwd if mode == "jacfwd" else M.func.jacrev)(f)
    return lambda: jac(x)


def _child(libname: str, workload: str, calls: int) -> float:
    M = _lib(libname)
    fn = _per_sample(M, workload) if not workload.startswith("jac") else _jacobian(M, workload)
    fn()  # warm-up
    ts = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - start)
    return statistics.median(ts)


def _check(libs: list) -> None:
    """The per-sample gradients agree with the loop and across libraries; jacfwd agrees with jacrev."""
    res = {}
    for name in libs:
        M = _lib(name)
        v, lp = _per_sample(M, "vmap")(), _per_sample(M, "loop")()
        for k in v:
            ref = np.stack([one[k].numpy() for one in lp])
            assert np.allclose(v[k].numpy(), ref, rtol=1e-4, atol=1e-6), (name, k)
        res[name] = {k: t.numpy() for k, t in v.items()}
        for shape in ("wide_in", "wide_out"):
            a, b = _jacobian(M, "jacfwd_" + shape)(), _jacobian(M, "jacrev_" + shape)()
            assert np.allclose(a.numpy(), b.numpy(), rtol=1e-4, atol=1e-6), (name, shape)
    if len(res) == 2:
        for k in res["ndgrad"]:
            assert np.allclose(res["ndgrad"][k], res["torch"][k], rtol=1e-3, atol=1e-5), k


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all configurations")
    parser.add_argument("--calls", type=int, default=7, help="timed calls per process (its median is kept)")
    parser.add_argument("--threads", type=int, default=1, help="BLAS/OpenMP threads per process")
    parser.add_argument("--child", nargs=2, metavar=("LIB", "WORKLOAD"))
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.child[0], args.child[1], args.calls)))
        return
    libs = ["ndgrad"]
    try:
        import torch  # noqa: F401
        libs.append("torch")
    except ImportError:
        print("PyTorch not installed: ndgrad only")
    _check(libs)
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OPENBLAS_NUM_THREADS=str(args.threads),
               MKL_NUM_THREADS=str(args.threads))
    configs = [(w, lib) for w in WORKLOADS for lib in libs]
    times: dict = {c: [] for c in configs}
    for _ in range(args.rounds):
        for w, lib in configs:
            out = subprocess.run([sys.executable, __file__, "--calls", str(args.calls), "--child", lib, w],
                                 capture_output=True, text=True, check=True, env=env)
            times[(w, lib)].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"float32, {args.threads} thread(s) per process, {args.rounds} rounds x {args.calls} calls; "
          "ms per call: median over rounds [lowest - highest round]")
    print("| workload | ndgrad ms | PyTorch ms | ratio ndgrad/PyTorch |")
    print("|---|---|---|---|")

    def cell(v: list) -> str:
        return f"{statistics.median(v) * 1e3:.2f} [{min(v) * 1e3:.2f} - {max(v) * 1e3:.2f}]"
    for w in WORKLOADS:
        nd, pt = times[(w, "ndgrad")], times.get((w, "torch"))
        ratio = f"{statistics.median(nd) / statistics.median(pt):.2f}" if pt else "-"
        print(f"| {w} | {cell(nd)} | {cell(pt) if pt else '-'} | {ratio} |")
    for lib in libs:
        med = {w: statistics.median(times[(w, lib)]) for w in WORKLOADS}
        print(f"{lib}: vmap(grad) {med['loop'] / med['vmap']:.1f}x faster than the grad loop, "
              f"{med['loop_bw'] / med['vmap']:.1f}x than the backward() loop; wide input: jacrev "
              f"{med['jacfwd_wide_in'] / med['jacrev_wide_in']:.1f}x faster than jacfwd; wide output: jacfwd "
              f"{med['jacrev_wide_out'] / med['jacfwd_wide_out']:.1f}x faster than jacrev")


if __name__ == "__main__":
    main()
