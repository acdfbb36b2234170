"""rand/randn/randint/randperm accept every call PyTorch accepts (varargs or one sequence, keywords,
generator=, dtype=, out=, requires_grad=, device=) and refuse the rest with PyTorch's exception type;
RandomSampler draws with replacement lazily. Regression tests for calls met in real programs."""
from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

import ndgrad
from ndgrad.utils.data import RandomSampler

# Each call is evaluated with `torch` bound to PyTorch and to ndgrad, `g` to a seeded Generator.
CALLS = [
    "torch.rand(2, 3)", "torch.rand((2, 3))", "torch.rand([2, 3])", "torch.rand(torch.Size([2, 3]))",
    "torch.rand(size=(2, 3))", "torch.rand(())", "torch.rand([])", "torch.rand()", "torch.rand(2, 3, generator=g)",
    "torch.rand((2, 3), generator=g, dtype=torch.float64)", "torch.rand(3, dtype=torch.int64)",
    "torch.rand(2, requires_grad=True)", "torch.rand(2.0)", "torch.rand(2, size=(3,))", "torch.rand(torch.tensor(3))",
    "torch.rand(-1)", "torch.rand(2, device='cpu')", "torch.rand(2, 3, generator=None)",
    "torch.randn(2, 3, generator=g)", "torch.randn(size=(2,))", "torch.randn((2, 3), dtype=torch.float16)",
    "torch.randint(10, (3,))", "torch.randint(10, size=(3,))", "torch.randint(3, 10, (3,))",
    "torch.randint(3, 10, size=(3,))", "torch.randint(low=3, high=10, size=(3,))", "torch.randint(high=10, size=(3,))",
    "torch.randint(10, (3,), generator=g)", "torch.randint(10, (3,), dtype=torch.float32)", "torch.randint(10, [3])",
    "torch.randint(10, 3)", "torch.randint(10, torch.Size([3]))", "torch.randint(torch.tensor(10), (3,))",
    "torch.randint(10, (2, 2), requires_grad=True)",
    "torch.randint(10, (2, 2), dtype=torch.float32, requires_grad=True)",
    "torch.randint(5, 5, (3,))", "torch.randint(0, (3,))", "torch.randint(10)", "torch.randint(10, size=3)",
    "torch.randint(2**40, (2,))", "torch.randint(-5, 0, (2,))", "torch.randint(300, (2,), dtype=torch.uint8)",
    "torch.randint(10.5, (2,))", "torch.randint(low=2, size=(3,))", "torch.randint(2, 10, (3,), dtype=torch.bool)",
    "torch.randperm(5)", "torch.randperm(5, generator=g)", "torch.randperm(5, dtype=torch.float32)",
    "torch.randperm(n=4)", "torch.randperm(5, requires_grad=True)", "torch.randperm(-1)", "torch.randperm(5.0)",
    "torch.randperm(torch.tensor(4))", "torch.randperm(5, dtype=torch.float32, requires_grad=True)",
    "torch.rand(2, out=torch.empty(5))",
    "torch.randint(10, (3,), out=torch.empty(2, dtype=torch.int64))",
    "torch.randn(2, 2, out=torch.empty(2, 2, dtype=torch.float64))",
    "torch.randperm(3, out=torch.empty(1, dtype=torch.int64))",
    "torch.rand(2, out=torch.empty(5, dtype=torch.int64))",
]


def _outcome(torch, call: str) -> tuple:
    g = torch.Generator().manual_seed(0)
    try:
        r = eval(call, {"torch": torch, "g": g})
    except Exception as e:  # noqa: BLE001 - the exception type is the outcome
        return ("error", type(e).__name__)
    return ("ok", tuple(r.shape), str(r.dtype).split(".")[-1], r.requires_grad)


@pytest.mark.parametrize("call", CALLS)
def test_random_factories_accept_what_pytorch_accepts(call, torch_ref):
    assert _outcome(ndgrad, call) == torch_ref("outcome", lambda torch: _outcome(torch, call))


def test_values_in_range_and_reproducible():
    g = ndgrad.Generator().manual_seed(7)
    a = ndgrad.randint(3, 10, size=(1000,), generator=g)
    b = ndgrad.randint(high=10, low=3, size=(1000,), generator=ndgrad.Generator().manual_seed(7))
    assert a.tolist() == b.tolist() and 3 <= int(a.min()) and int(a.max()) == 9
    p = ndgrad.randperm(50, generator=g)
    assert sorted(p.tolist()) == list(range(50))
    assert ndgrad.randint(0, 2**40, (100,)).max().item() > 2**32  # the whole int64 range, not int32


def test_out_is_written_and_returned():
    out = ndgrad.empty(5, dtype=ndgrad.float64)
    r = ndgrad.rand(2, 3, out=out)
    assert r is out and out.shape == (2, 3) and out.dtype is ndgrad.float64
    assert ((out >= 0) & (out < 1)).all()
    out = ndgrad.empty(1, dtype=ndgrad.int32)
    assert ndgrad.randperm(4, out=out) is out and sorted(out.tolist()) == [0, 1, 2, 3] and out.dtype is ndgrad.int32


def test_random_sampler_with_replacement_draws_lazily():
    n = 10 ** 10  # 80 GB if drawn at once
    tracemalloc.start()
    try:
        it = iter(RandomSampler(range(7), replacement=True, num_samples=n,
                                generator=ndgrad.Generator().manual_seed(0)))
        first = [next(it) for _ in range(10_000)]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * 2 ** 20 and set(first) == set(range(7))
    assert len(RandomSampler(range(7), replacement=True, num_samples=n)) == n
    short = list(RandomSampler(range(7), replacement=True, num_samples=5000,
                               generator=ndgrad.Generator().manual_seed(0)))
    assert len(short) == 5000 and np.isin(short, range(7)).all() and short[:4096] == first[:4096]
