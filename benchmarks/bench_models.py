"""Training-step throughput and peak memory, ndgrad against PyTorch, one fresh process per library.

Workloads (float32, random data from a fixed NumPy seed, the same initial weights in both libraries,
loaded from one file written before the runs):
  gpt      GPT: 4 layers, 4 heads, width 128, context 64, vocabulary 512, batch 16, AdamW,
           causal scaled_dot_product_attention, GELU MLP, pre-LayerNorm (nanoGPT's shape, no dropout)
  lstm     word-level LSTM language model: embedding 256, 2x256 LSTM, vocabulary 10,000, sequence 35,
           batch 20, SGD(lr=20) with clip_grad_norm_(0.25), hidden state carried over (detached)
  gru      GRU seq2seq: source/target vocabulary 1,000, embedding 256, hidden 256, length 20, batch 32,
           encoder GRU -> decoder GRU fed the shifted target (teacher forcing), Adam
  resnet   ResNet-18, CIFAR variant (3x3 stem, no max-pool) on 3x32x32, batch 32, SGD momentum 0.9
           with weight decay 5e-4, BatchNorm in training mode
  mlp      MLP 784-256-256-10 (ReLU), batch 128, SGD momentum, cross-entropy
  lenet    LeNet-5 (sigmoid, average pooling) on 1x28x28, batch 64, SGD momentum
  chain4, chain256   100 elementwise ops (mul, add, tanh, sub) forward + backward on shape (4,) / 256x256

Method: the parent process only writes the weights and starts children; every child imports one
library, trains `--warmup` steps untimed then `--steps` timed steps, and prints JSON (per-step wall
and CPU time, the losses of every step, peak memory). Repeats interleave the libraries
(nd, pt, nd, pt, ...), for each thread setting: the libraries' defaults, and 1 thread
(OMP/OpenBLAS/MKL_NUM_THREADS=1 plus torch.set_num_threads(1)). Children run with OPENBLAS_CORETYPE and
OPENBLAS_L2_SIZE removed from the environment and report the BLAS kernel threadpoolctl sees.

Reported per (workload, threads, library): samples/s from the median step time of each child, the median
over children and the spread (min-max); ratio = ndgrad samples/s / PyTorch samples/s (above 1: ndgrad is
faster); the loss at step `--compare-step` of each library and PyTorch's own spread across its runs
(threads change its summation order); peak memory = the process's peak resident set during training
minus its resident set before the first step (Linux VmHWM after resetting it; includes every allocator).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_models.py \
        [--models gpt lstm ...] [--repeats 3] [--threads default 1] [--json out.json]
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
import time
from typing import Any, Callable

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def _load_bench() -> Any:
    """ndgrad/_bench.py loaded by path: its process helpers without importing the ndgrad package (a
    PyTorch child must not)."""
    spec = importlib.util.spec_from_file_location("_ndgrad_bench", os.path.join(ROOT, "ndgrad", "_bench.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


_bench = _load_bench()

# workload -> (batch size, default timed steps, default warm-up steps)
WORKLOADS: dict[str, tuple[int, int, int]] = {
    "gpt": (16, 8, 2), "lstm": (20, 8, 2), "gru": (32, 8, 2), "resnet": (32, 3, 1),
    "mlp": (128, 40, 5), "lenet": (64, 20, 3), "chain4": (1, 400, 20), "chain256": (1, 60, 5),
}
COMPARE_STEP = 1  # loss compared after one update (0-based step): forward, backward and optimizer all count


# ---------------------------------------------------------------------------
# models: one definition, written against `fw` (ndgrad or torch)
# ---------------------------------------------------------------------------
def build_gpt(fw: Any) -> Any:
    nn, F = fw.nn, fw.nn.functional
    V, T, C, NH, NL = 512, 64, 128, 4, 4

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.qkv = nn.Linear(C, 3 * C)
            self.proj = nn.Linear(C, C)

        def forward(self, x: Any) -> Any:
            B, T_, _ = x.shape
            q, k, v = self.qkv(x).split(C, dim=2)
            q = q.view(B, T_, NH, C // NH).transpose(1, 2)
            k = k.view(B, T_, NH, C // NH).transpose(1, 2)
            v = v.view(B, T_, NH, C // NH).transpose(1, 2)
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
            return self.proj(y.transpose(1, 2).contiguous().view(B, T_, C))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln1 = nn.LayerNorm(C)
            self.attn = Attention()
            self.ln2 = nn.LayerNorm(C)
            self.fc = nn.Linear(C, 4 * C)
            self.act = nn.GELU()
            self.out = nn.Linear(4 * C, C)

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln1(x))
            return x + self.out(self.act(self.fc(self.ln2(x))))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.wte = nn.Embedding(V, C)
            self.wpe = nn.Embedding(T, C)
            self.blocks = nn.ModuleList([Block() for _ in range(NL)])
            self.ln_f = nn.LayerNorm(C)
            self.head = nn.Linear(C, V, bias=False)

        def forward(self, idx: Any) -> Any:
            x = self.wte(idx) + self.wpe(fw.arange(idx.shape[1]))
            for b in self.blocks:
                x = b(x)
            return self.head(self.ln_f(x))

    return GPT()


def build_lstm(fw: Any) -> Any:
    nn = fw.nn

    class LM(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.emb = nn.Embedding(10000, 256)
            self.rnn = nn.LSTM(256, 256, 2)
            self.dec = nn.Linear(256, 10000)

        def forward(self, x: Any, hidden: Any) -> Any:
            out, hidden = self.rnn(self.emb(x), hidden)
            return self.dec(out), hidden

    return LM()


def build_gru(fw: Any) -> Any:
    nn = fw.nn

    class Seq2Seq(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.src_emb = nn.Embedding(1000, 256)
            self.tgt_emb = nn.Embedding(1000, 256)
            self.enc = nn.GRU(256, 256, batch_first=True)
            self.dec = nn.GRU(256, 256, batch_first=True)
            self.out = nn.Linear(256, 1000)

        def forward(self, src: Any, tgt_in: Any) -> Any:
            _, h = self.enc(self.src_emb(src))
            y, _ = self.dec(self.tgt_emb(tgt_in), h)
            return self.out(y)

    return Seq2Seq()


def build_resnet(fw: Any) -> Any:
    nn, F = fw.nn, fw.nn.functional

    class Basic(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.short = nn.Sequential()
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

        def forward(self, x: Any) -> Any:
            y = F.relu(self.bn1(self.conv1(x)))
            return F.relu(self.bn2(self.conv2(y)) + self.short(x))

    class ResNet18(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            layers, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                layers += [Basic(cin, cout, stride), Basic(cout, cout, 1)]
                cin = cout
            self.layers = nn.Sequential(*layers)
            self.pool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(512, 10)

        def forward(self, x: Any) -> Any:
            x = self.layers(F.relu(self.bn1(self.conv1(x))))
            return self.fc(self.pool(x).flatten(1))

    return ResNet18()


def build_mlp(fw: Any) -> Any:
    nn = fw.nn
    return nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))


def build_lenet(fw: Any) -> Any:
    nn = fw.nn
    return nn.Sequential(
        nn.Conv2d(1, 6, kernel_size=5, padding=2), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Conv2d(6, 16, kernel_size=5), nn.Sigmoid(), nn.AvgPool2d(kernel_size=2, stride=2),
        nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def build_chain(fw: Any, shape: tuple) -> Any:
    class Chain(fw.nn.Module):  # holds the chain's input, so that both libraries start from one array
        def __init__(self) -> None:
            super().__init__()
            self.x = fw.nn.Parameter(fw.rand(shape))
    return Chain()


BUILDERS: dict[str, Callable[[Any], Any]] = {
    "gpt": build_gpt, "lstm": build_lstm, "gru": build_gru, "resnet": build_resnet,
    "mlp": build_mlp, "lenet": build_lenet,
    "chain4": lambda fw: build_chain(fw, (4,)), "chain256": lambda fw: build_chain(fw, (256, 256)),
}


def make_data(kind: str, n: int) -> list:
    """`n` batches of NumPy inputs (the same in every process)."""
    rng = np.random.default_rng(1234)
    B = WORKLOADS[kind][0]
    if kind == "gpt":
        return [(rng.integers(0, 512, (B, 65)),) for _ in range(n)]
    if kind == "lstm":
        return [(rng.integers(0, 10000, (36, B)),) for _ in range(n)]
    if kind == "gru":
        return [(rng.integers(0, 1000, (B, 20)), rng.integers(0, 1000, (B, 21))) for _ in range(n)]
    if kind == "resnet":
        return [(rng.standard_normal((B, 3, 32, 32), np.float32), rng.integers(0, 10, B)) for _ in range(n)]
    if kind == "mlp":
        return [(rng.standard_normal((B, 784), np.float32), rng.integers(0, 10, B)) for _ in range(n)]
    if kind == "lenet":
        return [(rng.standard_normal((B, 1, 28, 28), np.float32), rng.integers(0, 10, B)) for _ in range(n)]
    return [() for _ in range(n)]


def make_trainer(fw: Any, kind: str, model: Any) -> Callable[[tuple], Any]:
    """A function running one training step on a batch of library tensors; returns the loss tensor."""
    F = fw.nn.functional
    params = list(model.parameters())
    if kind in ("chain4", "chain256"):
        run = _bench.chain_fwd_bwd(fw, (), x=model.x.detach())
        return lambda batch: run().sum()
    if kind == "gpt":
        opt = fw.optim.AdamW(params, lr=3e-4, weight_decay=0.1)

        def step(batch: tuple) -> Any:
            (tok,) = batch
            logits = model(tok[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), tok[:, 1:].reshape(-1))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            return loss
        return step
    if kind == "lstm":
        opt = fw.optim.SGD(params, lr=20.0)
        state: dict = {"h": None}

        def step(batch: tuple) -> Any:
            (tok,) = batch
            h = state["h"]
            if h is not None:
                h = tuple(t.detach() for t in h)
            out, h = model(tok[:-1], h)
            state["h"] = h
            loss = F.cross_entropy(out.reshape(-1, 10000), tok[1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            fw.nn.utils.clip_grad_norm_(params, 0.25)
            opt.step()
            return loss
        return step
    if kind == "gru":
        opt = fw.optim.Adam(params, lr=1e-3)

        def step(batch: tuple) -> Any:
            src, tgt = batch
            logits = model(src, tgt[:, :-1])
            loss = F.cross_entropy(logits.reshape(-1, 1000), tgt[:, 1:].reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        return step
    wd = 5e-4 if kind == "resnet" else 0.0
    opt = fw.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=wd)

    def step(batch: tuple) -> Any:
        x, y = batch
        loss = F.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss
    return step


# ---------------------------------------------------------------------------
# child: one library, one workload
# ---------------------------------------------------------------------------
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


def child(lib: str, kind: str, weights: str | None, steps: int, warmup: int, threads: str) -> dict:
    fw = _bench.import_library(lib, threads)
    fw.manual_seed(0)
    model = BUILDERS[kind](fw)
    if weights:
        with np.load(weights) as z:
            sd = {k: fw.from_numpy(z[k].copy()) for k in z.files}
        model.load_state_dict(sd)
    model.train()
    train = make_trainer(fw, kind, model)
    data = make_data(kind, 4)
    batches = [tuple(fw.from_numpy(a) for a in b) for b in data]
    a = np.ones((256, 256), np.float32)
    float((a @ a)[0, 0])  # start NumPy's BLAS threads outside the measurement
    import gc
    gc.collect()
    _reset_peak()
    base = _status_kib("VmRSS") or 0
    losses, wall, cpu = [], [], []
    for i in range(warmup + steps):
        t0, c0 = time.perf_counter(), time.process_time()
        loss = train(batches[i % len(batches)])
        lv = float(loss.detach())
        t1, c1 = time.perf_counter(), time.process_time()
        losses.append(lv)
        if i >= warmup:
            wall.append(t1 - t0)
            cpu.append(c1 - c0)
    peak = _status_kib("VmHWM") or 0
    info = {"lib": lib, "kind": kind, "threads": threads, "wall": wall, "cpu": cpu, "losses": losses,
            "peak_delta_kib": peak - base, "peak_kib": peak, "blas": _bench.blas_info(),
            "version": fw.__version__}
    if lib == "torch":
        info["torch_threads"] = fw.get_num_threads()
    return info


# ---------------------------------------------------------------------------
# parent: weights, interleaved children, summary
# ---------------------------------------------------------------------------
def write_weights(kind: str, path: str) -> None:
    """The shared initial weights: ndgrad's initialisation under seed 0, saved as NumPy arrays (the parent
    imports ndgrad only for this, never PyTorch)."""
    sys.path.insert(0, ROOT)
    import ndgrad
    ndgrad.manual_seed(0)
    model = BUILDERS[kind](ndgrad)
    np.savez(path, **{k: v.detach().numpy() for k, v in model.state_dict().items()})


def run_child(lib: str, kind: str, weights: str | None, steps: int, warmup: int, threads: str,
              timeout: float) -> dict | None:
    args = ["--child", lib, kind, "--steps", str(steps), "--warmup", str(warmup), "--threads-one", threads]
    if weights:
        args += ["--weights", weights]
    return _bench.run_json_child(_bench.script_cmd(os.path.abspath(__file__), ROOT, args), threads, timeout, ROOT)


def summarise(kind: str, runs: list) -> dict:
    """Per library: samples/s (median over children of each child's median step) with min and max, losses."""
    B = WORKLOADS[kind][0]
    out: dict = {}
    for lib in ("ndgrad", "torch"):
        rs = [r for r in runs if r["lib"] == lib]
        if not rs:
            continue
        per = [B / statistics.median(r["wall"]) for r in rs]
        cpu = [1e3 * statistics.median(r["cpu"]) for r in rs]
        out[lib] = {"sps": statistics.median(per), "sps_min": min(per), "sps_max": max(per),
                    "cpu_ms": statistics.median(cpu), "peak_delta_mib": max(r["peak_delta_kib"] for r in rs) / 1024,
                    "peak_mib": max(r["peak_kib"] for r in rs) / 1024,
                    "loss": [r["losses"][min(COMPARE_STEP, len(r["losses"]) - 1)] for r in rs],
                    "blas": rs[0]["blas"], "n": len(rs)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", nargs="+", default=list(WORKLOADS), choices=list(WORKLOADS))
    ap.add_argument("--libs", nargs="+", default=["ndgrad", "torch"], choices=["ndgrad", "torch"])
    ap.add_argument("--repeats", type=int, default=3, help="children per library and thread setting")
    ap.add_argument("--threads", nargs="+", default=["default", "1"], choices=["default", "1"])
    ap.add_argument("--steps", type=int, default=None, help="timed steps per child (default: per workload)")
    ap.add_argument("--warmup", type=int, default=None)
    ap.add_argument("--timeout", type=float, default=1200.0, help="seconds per child")
    ap.add_argument("--json", default=None, help="also write all raw results here")
    ap.add_argument("--child", nargs=2, metavar=("LIB", "WORKLOAD"), help=argparse.SUPPRESS)
    ap.add_argument("--weights", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--threads-one", default="default", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        lib, kind = a.child
        print(json.dumps(child(lib, kind, a.weights, a.steps, a.warmup, a.threads_one)))
        return
    libs = list(a.libs)
    if "torch" in libs:
        try:
            import importlib.util
            if importlib.util.find_spec("torch") is None:
                raise ImportError
        except ImportError:
            libs.remove("torch")
    print(f"load average at start: {os.getloadavg()}; cpus: {os.cpu_count()}")
    results: dict = {}
    raw: list = []
    with tempfile.TemporaryDirectory() as tmp:
        for kind in a.models:
            _, steps, warmup = WORKLOADS[kind]
            steps = a.steps or steps
            warmup = a.warmup if a.warmup is not None else warmup
            weights = os.path.join(tmp, f"{kind}.npz")
            write_weights(kind, weights)
            for threads in a.threads:
                runs = []
                for _ in range(a.repeats):
                    for lib in libs:
                        r = run_child(lib, kind, weights, steps, warmup, threads, a.timeout)
                        if r is not None:
                            runs.append(r)
                            raw.append(r)
                s = summarise(kind, runs)
                results[(kind, threads)] = s
                report_row(kind, threads, s)
    print(f"load average at end: {os.getloadavg()}")
    print()
    print_table(results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(raw, f)


def report_row(kind: str, threads: str, s: dict) -> None:
    for lib, r in s.items():
        print(f"{kind:8} threads={threads:7} {lib:6} {r['sps']:10.1f} samples/s [{r['sps_min']:.1f}-"
              f"{r['sps_max']:.1f}] cpu {r['cpu_ms']:8.2f} ms/step  peak +{r['peak_delta_mib']:7.1f} MiB "
              f"(rss {r['peak_mib']:7.1f})  loss@{COMPARE_STEP} {r['loss']}  {r['blas']}", flush=True)


def print_table(results: dict) -> None:
    print("| workload | threads | ndgrad samples/s [min-max] | PyTorch samples/s [min-max] | ratio | "
          "peak MiB ndgrad / PyTorch | loss ndgrad / PyTorch |")
    print("|---|---|---|---|---|---|---|")
    for (kind, threads), s in results.items():
        nd, pt = s.get("ndgrad"), s.get("torch")
        if nd is None:
            continue
        cell = lambda r: f"{r['sps']:,.0f} [{r['sps_min']:,.0f}-{r['sps_max']:,.0f}]"  # noqa: E731
        if pt is None:
            print(f"| {kind} | {threads} | {cell(nd)} | - | - | {nd['peak_delta_mib']:.1f} / - | "
                  f"{nd['loss'][0]:.5g} / - |")
            continue
        ratio = nd["sps"] / pt["sps"]
        lo, hi = min(pt["loss"]), max(pt["loss"])
        print(f"| {kind} | {threads} | {cell(nd)} | {cell(pt)} | {ratio:.2f} | "
              f"{nd['peak_delta_mib']:.1f} / {pt['peak_delta_mib']:.1f} | "
              f"{statistics.median(nd['loss']):.6g} / {lo:.6g}..{hi:.6g} |")


if __name__ == "__main__":
    main()
