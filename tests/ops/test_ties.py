"""Gradients of selections among tied values, as PyTorch distributes them: reductions to one value
(max(), min(), median(), nanmedian(), amax/amin, vector_norm(inf)) split the gradient evenly among
the tied elements (max/min/median counting NaNs as tied with a NaN result); the forms with a dim
(max(dim), median(dim), mode) send it to the one index they return. Also torch.mode itself."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ndgrad

NAN = math.nan
CASES = {  # name -> (function of (lib, x), input)
    "median": (lambda L, x: x.median(), [1., 2., 2., 0., 2.]),
    "median_nan": (lambda L, x: x.median(), [1., NAN, NAN, 0.]),
    "nanmedian": (lambda L, x: x.nanmedian(), [2., NAN, 2., 0., 2.]),
    "median_dim": (lambda L, x: x.median(1).values, [[1., 2., 2.], [3., 3., 3.]]),
    "max": (lambda L, x: x.max(), [1., 2., 2., 0., 2.]),
    "max_nan": (lambda L, x: x.max(), [1., NAN, NAN, 0.]),
    "min_nan": (lambda L, x: x.min(), [1., NAN, NAN, 0.]),
    "max_dim": (lambda L, x: x.max(1).values, [[1., 2., 2.], [3., 3., 3.]]),
    "max_dim_nan": (lambda L, x: x.max(0).values, [1., NAN, NAN, 0.]),
    "amax": (lambda L, x: x.amax(1), [[1., 2., 2.], [3., 3., 3.]]),
    "amax_nan": (lambda L, x: x.amax(), [1., NAN, NAN, 0.]),
    "amin": (lambda L, x: L.amin(x, 0), [1., 0., 2., 0., 2.]),
    "aminmax": (lambda L, x: L.aminmax(x)[1], [1., 2., 2., 0., 2.]),
    "norm_inf": (lambda L, x: L.linalg.vector_norm(x, math.inf), [1., -2., 2., 0., 2.]),
    "mode": (lambda L, x: L.mode(x).values, [1., 2., 2., 0., 2.]),
    "mode_dim": (lambda L, x: L.mode(x, 0).values, [[1., 2., 2.], [3., 3., 1.], [1., 2., 1.]]),
    "kthvalue": (lambda L, x: x.kthvalue(2).values, [1., 2., 2., 3., 2.]),
    "kthvalue_dim": (lambda L, x: x.kthvalue(3, 0).values, [[2., 1.], [2., 1.], [0., 1.], [2., NAN], [2., NAN]]),
    "maximum": (lambda L, x: L.maximum(x, L.tensor(2.0)), [1., 2., 2., 0., 2.]),
}


def _grad(L, fn, data):
    x = L.tensor(data, requires_grad=True)
    fn(L, x).sum().backward()
    return x.grad


@pytest.mark.parametrize("name", sorted(CASES))
def test_tied_gradients_as_pytorch(torch_ref, name):
    fn, data = CASES[name]
    want = torch_ref(name, lambda torch: _grad(torch, fn, data))
    np.testing.assert_allclose(_grad(ndgrad, fn, data).numpy(), want, rtol=1e-6, equal_nan=True)


@pytest.mark.parametrize("data", [[2., 2., 1., 1.], [1., 2., 2., 0., 2.], [3., 1., 3., 1., 0.], [5.], [1, 1, 1],
                                  [0., -0., 1.], [[1, 2, 2], [3, 3, 1]], [True, False, True], 3.0])
def test_mode_values_and_indices(torch_ref, data):
    for dim in ([-1, 0] if isinstance(data, list) and isinstance(data[0], list) else [-1]):
        want = torch_ref(f"mode{dim}", lambda torch, dim=dim: tuple(torch.mode(torch.tensor(data), dim)))
        got = ndgrad.mode(ndgrad.tensor(data), dim)
        for g, w in zip(got, want):
            assert g.numpy().dtype == w.dtype
            np.testing.assert_array_equal(g.numpy(), w)
            if w.dtype.kind == "f":
                assert np.array_equal(np.signbit(g.numpy()), np.signbit(w))
    assert ".return_types.mode(" in repr(ndgrad.mode(ndgrad.tensor([1, 1])))


def test_mode_keepdim_empty_and_errors(torch_ref):
    x = np.array([[1., 2., 2.], [3., 3., 1.]])
    want = torch_ref("keep", lambda torch: tuple(torch.mode(torch.tensor(x), 1, keepdim=True)))
    for g, w in zip(ndgrad.mode(ndgrad.tensor(x), 1, keepdim=True), want):
        np.testing.assert_array_equal(g.numpy(), w)
    assert ndgrad.mode(ndgrad.empty(2, 0), 0).values.shape == (0,)
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        ndgrad.mode(ndgrad.empty(2, 0), 1)
    with pytest.raises(NotImplementedError, match="mode_cpu"):
        ndgrad.mode(ndgrad.tensor([1 + 1j]))
    x = ndgrad.tensor([1., 2., 2.], requires_grad=True)
    assert ndgrad.mode(x).values.grad_fn.name() == "ModeBackward0"
    assert x.median().grad_fn.name() == "MedianBackward0" and x.max().grad_fn.name() == "MaxBackward1"


def test_tie_gradients_are_differentiable_twice():
    x = ndgrad.tensor([1., 2., 2., 0., 2.], dtype=ndgrad.float64, requires_grad=True)
    for fn in (lambda t: (t * t).median(), lambda t: (t * t).max(), lambda t: (t * t).nanmedian()):
        (g,) = ndgrad.autograd.grad(fn(x), x, create_graph=True)
        np.testing.assert_allclose(g.detach().numpy(), [0, 4 / 3, 4 / 3, 0, 4 / 3])
        (h,) = ndgrad.autograd.grad(g.sum(), x)
        np.testing.assert_allclose(h.numpy(), [0, 2 / 3, 2 / 3, 0, 2 / 3])


def test_tie_indices_of_kthvalue_and_mode_as_pytorch(torch_ref):
    """Among equal values kthvalue reports the index its quickselect leaves at k, and mode the last of
    its run after the kernel's (unstable) sort: long slices, many ties, NaNs."""
    rng = np.random.default_rng(3)
    x = rng.integers(0, 4, (6, 40)).astype(np.float32)
    x[rng.random(x.shape) < 0.1] = np.nan
    x[0, :] = 1.0
    for k in (1, 7, 20, 40):
        want = torch_ref(f"kth{k}", lambda torch, k=k: torch.from_numpy(x).kthvalue(k, 1).indices)
        np.testing.assert_array_equal(ndgrad.from_numpy(x).kthvalue(k, 1).indices.numpy(), want)
    for name, a in (("nan", x), ("int", np.nan_to_num(x).astype(np.int64)), ("short", x[:, :9])):
        want = torch_ref(f"mode_{name}", lambda torch, a=a: tuple(torch.mode(torch.from_numpy(a), 1)))
        got = ndgrad.mode(ndgrad.from_numpy(a), 1)
        np.testing.assert_array_equal(got.indices.numpy(), want[1])
        np.testing.assert_array_equal(got.values.numpy(), want[0])
