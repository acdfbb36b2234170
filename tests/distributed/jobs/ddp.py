"""DistributedDataParallel and DistributedSampler (run by suite.py under mpiexec).

The reference for DDP is one process training the same model on the whole global batch
(every rank computes it locally, no communication): after several steps the parameters must
agree to 1e-6 in float64. Rank 0 saves a checkpoint into ckpt_dir for the test to load in a
single process.
"""
from __future__ import annotations

import copy
from pathlib import Path

import numpy as np

import ndgrad
import ndgrad.distributed as dist
import ndgrad.nn as nn
from ndgrad.nn.parallel import DistributedDataParallel as DDP
from ndgrad.utils.data import DataLoader, TensorDataset
from ndgrad.utils.data.distributed import DistributedSampler

checks = [0]


def close(a, b, what, tol=1e-6):
    a = a.detach().numpy() if isinstance(a, ndgrad.Tensor) else np.asarray(a)
    b = b.detach().numpy() if isinstance(b, ndgrad.Tensor) else np.asarray(b)
    assert a.shape == b.shape and np.allclose(a, b, rtol=tol, atol=tol), f"{what}: max diff {np.abs(a - b).max()}"
    checks[0] += 1


def mlp():
    return nn.Sequential(nn.Linear(6, 16), nn.Tanh(), nn.Linear(16, 16), nn.ReLU(), nn.Linear(16, 3))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 6, 3), nn.Tanh(),
                         nn.Flatten(), nn.Linear(6 * 2 * 2, 3))


def bn_cnn():
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(4 * 4 * 4, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 3))


def data(n, shape, seed):
    g = np.random.default_rng(seed)
    return ndgrad.tensor(g.normal(size=(n, *shape))), ndgrad.tensor(g.integers(0, 3, n))


def train_matches_global_batch(rank, n, make, shape, opt_cls, steps=4, **ddp_kw):
    """DDP on per-rank slices == one process on the whole batch, step after step."""
    ndgrad.manual_seed(0)
    model = make().double()
    reference = copy.deepcopy(model)
    with ndgrad.no_grad():  # the other ranks start from different weights: DDP must broadcast rank 0's
        for p in model.parameters():
            p.add_(rank)
    ddp = DDP(model, **ddp_kw)
    for p, q in zip(model.parameters(), reference.parameters()):
        close(p, q, "parameters broadcast at construction", 0)
    opt, ref_opt = opt_cls(ddp.parameters(), lr=0.05), opt_cls(reference.parameters(), lr=0.05)
    loss_fn = nn.CrossEntropyLoss()
    local = 5
    for step in range(steps):
        x, y = data(local * n, shape, seed=step)
        opt.zero_grad()
        loss_fn(ddp(x[rank * local:(rank + 1) * local]), y[rank * local:(rank + 1) * local]).backward()
        opt.step()
        ref_opt.zero_grad()
        loss_fn(reference(x), y).backward()
        ref_opt.step()
        for p, q in zip(model.parameters(), reference.parameters()):
            close(p, q, f"{make.__name__} step {step} {ddp_kw}")
    return ddp


def check_no_sync(rank, n):
    """Two micro-batches per step, the first under no_sync: the result is the global batch's."""
    ndgrad.manual_seed(1)
    model = mlp().double()
    reference = copy.deepcopy(model)
    ddp = DDP(model, bucket_cap_mb=0.0005)
    opt, ref_opt = ndgrad.optim.SGD(ddp.parameters(), lr=0.1), ndgrad.optim.SGD(reference.parameters(), lr=0.1)
    loss_fn = nn.MSELoss()
    local = 3
    for step in range(3):
        micro = [data(local * n, (6,), seed=10 * step + m) for m in range(2)]
        opt.zero_grad()
        with ddp.no_sync():
            x, _ = micro[0]
            loss_fn(ddp(x[rank * local:(rank + 1) * local]), ndgrad.ones(local, 3, dtype=ndgrad.float64)).backward()
        # not averaged yet: each rank holds its own gradient
        grads = [None] * n
        dist.all_gather_object(grads, model[0].weight.grad.numpy().copy())
        assert n == 1 or not np.allclose(grads[0], grads[1]), "no_sync must not average"
        x, _ = micro[1]
        loss_fn(ddp(x[rank * local:(rank + 1) * local]), ndgrad.ones(local, 3, dtype=ndgrad.float64)).backward()
        opt.step()
        ref_opt.zero_grad()
        for x, _ in micro:
            loss_fn(reference(x), ndgrad.ones(local * n, 3, dtype=ndgrad.float64)).backward()
        ref_opt.step()
        for p, q in zip(model.parameters(), reference.parameters()):
            close(p, q, f"no_sync step {step}")


class Branchy(nn.Module):
    def __init__(self):
        super().__init__()
        self.trunk = nn.Linear(4, 4)
        self.only_rank0 = nn.Linear(4, 4)
        self.never = nn.Linear(4, 4)

    def forward(self, x, use_branch):
        h = self.trunk(x)
        return self.only_rank0(h) if use_branch else h


def check_unused_parameters(rank, n):
    """find_unused_parameters: a layer only rank 0 uses gets rank 0's gradient / n everywhere; a layer
    nobody uses keeps grad None. Without the flag, the next forward raises PyTorch's error."""
    ndgrad.manual_seed(2)
    model = Branchy().double()
    local_copy = copy.deepcopy(model)
    ddp = DDP(model, find_unused_parameters=True, bucket_cap_mb=0.0001)
    x = data(2, (4,), seed=rank)[0]
    ddp(x, rank == 0).sum().backward()
    local_copy(x, rank == 0).sum().backward()
    for (name, p), q in zip(model.named_parameters(), local_copy.parameters()):
        mine = q.grad.numpy() if q.grad is not None else None
        everyone = [None] * n
        dist.all_gather_object(everyone, mine)
        if name.startswith("never"):
            assert p.grad is None, name
        else:
            close(p.grad, sum(g for g in everyone if g is not None) / n, f"unused-parameter grad {name}")
    ndgrad.manual_seed(2)
    strict = DDP(Branchy().double())
    strict(x, True).sum().backward()  # `never` gets no gradient: its bucket never completes
    try:
        strict(x, True)
    except RuntimeError as e:
        assert "Expected to have finished reduction in the prior iteration" in str(e)
        assert "Parameter indices which did not receive grad for rank" in str(e)
        checks[0] += 1
    else:
        raise AssertionError("no error for an unused parameter without find_unused_parameters")


class WithBuffer(nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = nn.Linear(2, 2)
        self.register_buffer("seen", ndgrad.zeros(2))

    def forward(self, x):
        self.seen.add_(x.sum(0).detach())
        return self.lin(x)


def check_buffers_and_state_dict(rank, n, ckpt_dir):
    model = WithBuffer().double()
    with ndgrad.no_grad():
        model.seen.fill_(float(rank))
    ddp = DDP(model)
    close(model.seen, [0.0, 0.0], "buffers broadcast at construction", 0)
    at_forward = []
    model.register_forward_pre_hook(lambda m, args: at_forward.append(m.seen.numpy().copy()))
    for _ in range(2):
        ddp(ndgrad.full((1, 2), float(rank + 1), dtype=ndgrad.float64)).sum().backward()
    # each forward starts from rank 0's buffer: [0, 0], then rank 0's after its own update (1 per entry)
    close(at_forward[1], [1.0, 1.0], "buffers broadcast from rank 0 before forward", 0)
    close(model.seen, [1.0 + rank + 1] * 2, "buffer after the local update", 0)
    quiet = DDP(WithBuffer().double(), forward_sync_buffers=False)
    quiet(ndgrad.full((1, 2), float(rank + 1), dtype=ndgrad.float64))
    quiet(ndgrad.full((1, 2), float(rank + 1), dtype=ndgrad.float64))
    close(quiet.module.seen, [2.0 * (rank + 1)] * 2, "forward_sync_buffers=False keeps buffers local", 0)
    assert ddp.module is model and list(ddp.state_dict()) == ["module.seen", "module.lin.weight", "module.lin.bias"]
    checks[0] += 1
    # rank 0 saves; the test loads the files in a single process
    if rank == 0:
        ndgrad.save(ddp.module.state_dict(), Path(ckpt_dir) / "module.pt")
        ndgrad.save(ddp.state_dict(), Path(ckpt_dir) / "ddp.pt")
        np.savez(Path(ckpt_dir) / "expected.npz", **{k: v.numpy() for k, v in model.state_dict().items()})
    dist.barrier()


class Mixed(nn.Module):
    def __init__(self, dt):
        super().__init__()
        self.a = nn.Linear(3, 4).to(dt)
        self.b = nn.Linear(4, 2).double()

    def forward(self, x):
        return self.b(self.a(x).double())


def check_half_precision(rank, n):
    """float16 and bfloat16 parameters (their buckets reduce in float32 where MPI cannot sum them)
    beside float64 ones: each gradient is the average of the ranks' own."""
    for dt in (ndgrad.float16, ndgrad.bfloat16):
        ndgrad.manual_seed(4)
        model = Mixed(dt)
        local_copy = copy.deepcopy(model)
        ddp = DDP(model, bucket_cap_mb=0.00002)
        x = data(2, (3,), seed=rank)[0].to(dt)
        ddp(x).sum().backward()
        local_copy(x).sum().backward()
        for (name, p), q in zip(model.named_parameters(), local_copy.parameters()):
            assert p.grad.dtype == p.dtype
            everyone = [None] * n
            dist.all_gather_object(everyone, q.grad.double().numpy())
            close(p.grad.double(), sum(everyone) / n, f"{dt} grad {name}", tol=2e-2)


def check_sync_batchnorm(rank, n):
    """SyncBatchNorm under DDP on per-rank slices == BatchNorm in one process on the global batch:
    parameters and running statistics, step after step; eval mode uses the running statistics."""
    ndgrad.manual_seed(5)
    reference = bn_cnn().double()
    model = nn.SyncBatchNorm.convert_sync_batchnorm(copy.deepcopy(reference))
    assert isinstance(model[1], nn.SyncBatchNorm) and isinstance(model[6], nn.SyncBatchNorm)
    ddp = DDP(model)
    opt, ref_opt = ndgrad.optim.SGD(ddp.parameters(), lr=0.1), ndgrad.optim.SGD(reference.parameters(), lr=0.1)
    local = 3
    for step in range(3):
        x, y = data(local * n, (1, 8, 8), seed=10 + step)
        opt.zero_grad()
        nn.functional.cross_entropy(ddp(x[rank * local:(rank + 1) * local]), y[rank * local:(rank + 1) * local]) \
            .backward()
        opt.step()
        ref_opt.zero_grad()
        nn.functional.cross_entropy(reference(x), y).backward()
        ref_opt.step()
        for (name, p), q in zip(model.state_dict().items(), reference.state_dict().values()):
            close(p, q, f"SyncBatchNorm step {step} {name}")
    ddp.eval()
    x = data(4, (1, 8, 8), seed=rank)[0]
    close(ddp(x), reference.eval()(x), "SyncBatchNorm eval")


def check_sampler(rank, n):
    ds = TensorDataset(ndgrad.arange(23))
    for shuffle in (False, True):
        s = DistributedSampler(ds, shuffle=shuffle, seed=3)
        assert s.num_replicas == n and s.rank == rank
        assert list(s) == list(DistributedSampler(ds, n, rank, shuffle=shuffle, seed=3))
        s.set_epoch(1)
        mine = [int(b[0]) for b in DataLoader(ds, batch_size=4, sampler=s) for b in b[0].reshape(-1, 1)]
        everyone = [None] * n
        dist.all_gather_object(everyone, mine)
        flat = sorted(i for part in everyone for i in part)
        assert len(mine) == s.num_samples == -(-23 // n) and set(flat) == set(range(23)), everyone
        checks[0] += 1


def run(rank, n, ckpt_dir):
    train_matches_global_batch(rank, n, mlp, (6,), ndgrad.optim.SGD)
    ddp = train_matches_global_batch(rank, n, mlp, (6,), ndgrad.optim.SGD, bucket_cap_mb=0.0002,
                                     gradient_as_bucket_view=True)
    assert len(ddp._reducer.buckets) > 2
    train_matches_global_batch(rank, n, cnn, (1, 8, 8), ndgrad.optim.Adam, bucket_cap_mb=0.0005)
    check_no_sync(rank, n)
    check_unused_parameters(rank, n)
    check_buffers_and_state_dict(rank, n, ckpt_dir)
    check_half_precision(rank, n)
    check_sync_batchnorm(rank, n)
    check_sampler(rank, n)
    return checks[0]
