"""Ops fused into one node (PyTorch runs them as one kernel): each is checked for gradients in float64
(gradcheck and gradgradcheck), against the composite of ndgrad ops it replaces, against PyTorch, and for
PyTorch's graph (grad_fn names and next_functions)."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
import ndgrad.nn.functional as F
from ndgrad.autograd import gradcheck, gradgradcheck


def _names(fn: object) -> list:
    """grad_fn's name and the names of its next_functions (None for missing edges)."""
    return [type(fn).__name__] + [None if f is None else type(f).__name__ for f, _ in fn.next_functions]


def _torch_names(fn: object) -> list:
    return [type(fn).__name__] + [None if f is None else type(f).__name__ for f, _ in fn.next_functions]


def _t64(rng: np.random.Generator, *shape: int, scale: float = 1.0) -> ndgrad.Tensor:
    return ndgrad.tensor(rng.standard_normal(shape) * scale, dtype=ndgrad.float64, requires_grad=True)


# ---------------------------------------------------------------------------
# gelu
# ---------------------------------------------------------------------------
def _gelu_composite(x: ndgrad.Tensor, approximate: str) -> ndgrad.Tensor:
    if approximate == "none":
        return x * ((x * 0.7071067811865476).erf() + 1.0) * 0.5
    return x * ((x + x * x * x * 0.044715) * 0.7978845608028654).tanh().add(1.0) * 0.5


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradients(approximate: str) -> None:
    x = _t64(np.random.default_rng(0), 3, 4, scale=3.0)
    assert gradcheck(lambda t: F.gelu(t, approximate=approximate), (x,))
    assert gradgradcheck(lambda t: F.gelu(t, approximate=approximate), (x,))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_matches_composite_and_torch(approximate: str, torch_ref) -> None:
    rng = np.random.default_rng(1)
    a = (rng.standard_normal((64,)) * 4).astype(np.float32)
    g = rng.standard_normal((64,)).astype(np.float32)
    for dt in (ndgrad.float32, ndgrad.float64):
        x = ndgrad.tensor(a, dtype=dt, requires_grad=True)
        y = F.gelu(x, approximate=approximate)
        y.backward(ndgrad.tensor(g, dtype=dt))
        xc = ndgrad.tensor(a, dtype=dt, requires_grad=True)
        yc = _gelu_composite(xc, approximate)
        yc.backward(ndgrad.tensor(g, dtype=dt))
        tol = 2e-6 if dt is ndgrad.float32 else 1e-13
        np.testing.assert_allclose(y.detach().numpy(), yc.detach().numpy(), rtol=tol, atol=tol)
        np.testing.assert_allclose(x.grad.numpy(), xc.grad.numpy(), rtol=tol, atol=tol)
        assert y.dtype is dt and x.grad.dtype is dt

    def ref(torch: object) -> tuple:
        xt = torch.tensor(a, requires_grad=True)
        yt = torch.nn.functional.gelu(xt, approximate=approximate)
        yt.backward(torch.tensor(g))
        return yt.detach(), xt.grad, _torch_names(yt.grad_fn)
    want_y, want_g, want_names = torch_ref(f"gelu_{approximate}", ref)
    x = ndgrad.tensor(a, requires_grad=True)
    y = F.gelu(x, approximate=approximate)
    y.backward(ndgrad.tensor(g))
    np.testing.assert_allclose(y.detach().numpy(), want_y, rtol=2e-6, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), want_g, rtol=2e-6, atol=1e-6)
    assert _names(y.grad_fn) == want_names == ["GeluBackward0", "AccumulateGrad"]


def test_gelu_low_precision_and_errors(torch_ref) -> None:
    a = np.linspace(-5, 5, 41).astype(np.float32)
    want = torch_ref("gelu_half", lambda torch: torch.nn.functional.gelu(torch.tensor(a).half()).float())
    got = F.gelu(ndgrad.tensor(a).half())
    assert got.dtype is ndgrad.float16
    # equal up to a float16 rounding step (PyTorch's half kernel is a unit or two off in the far tail, where
    # ndgrad rounds the float32 result once)
    np.testing.assert_allclose(got.float().numpy(), want, rtol=1e-3, atol=1.2e-7)
    with pytest.raises(RuntimeError, match="approximate argument must be either none or tanh"):
        F.gelu(ndgrad.tensor(a), approximate="fast")
    assert F.gelu(ndgrad.tensor(0.5)).shape == ()


def test_erf_float32_within_one_ulp() -> None:
    import math
    x = np.random.default_rng(2).standard_normal(20000).astype(np.float32) * 3
    got = ndgrad.tensor(x).erf().numpy()
    want = np.array([math.erf(v) for v in x.astype(np.float64)]).astype(np.float32)
    assert np.abs(got.view(np.int32) - want.view(np.int32)).max() <= 1
    x64 = np.concatenate([np.linspace(-7, 7, 2001), [np.inf, -np.inf, 0.0, -0.0]])
    np.testing.assert_allclose(ndgrad.tensor(x64).erf().numpy(), [math.erf(v) for v in x64], rtol=5e-16, atol=0)
    np.testing.assert_allclose(ndgrad.tensor(x64).erfc().numpy(), [math.erfc(v) for v in x64], rtol=2e-15, atol=0)
    assert np.isnan(ndgrad.tensor([np.nan]).erf().item())


# ---------------------------------------------------------------------------
# softmax / log_softmax
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(name: str, torch_ref) -> None:
    rng = np.random.default_rng(3)
    x = _t64(rng, 3, 5)
    fn = getattr(F, name)
    assert gradcheck(lambda t: fn(t, 1), (x,)) and gradgradcheck(lambda t: fn(t, 0), (x,))
    a = (rng.standard_normal((4, 6)) * 30).astype(np.float32)  # large logits: the composite overflows
    y = getattr(ndgrad.tensor(a, requires_grad=True), name)(1)

    def ref(torch: object) -> tuple:
        yt = getattr(torch.tensor(a, requires_grad=True), name)(1)
        return yt.detach(), _torch_names(yt.grad_fn)
    want, names = torch_ref(name, ref)
    np.testing.assert_allclose(y.detach().numpy(), want, rtol=1e-5, atol=1e-6)
    assert _names(y.grad_fn) == names
    assert np.isfinite(y.detach().numpy()).all()


# ---------------------------------------------------------------------------
# matmul of a batch of rows by a matrix: one GEMM (PyTorch's graph: UnsafeView <- Mm <- View)
# ---------------------------------------------------------------------------
def test_matmul_folds_leading_dims(torch_ref) -> None:
    rng = np.random.default_rng(4)
    a, w, b = rng.standard_normal((4, 5, 3)), rng.standard_normal((6, 3)), rng.standard_normal(6)
    x = ndgrad.tensor(a, requires_grad=True)
    wt = ndgrad.tensor(w, requires_grad=True)
    bt = ndgrad.tensor(b, requires_grad=True)
    assert gradcheck(lambda p, q: p @ q.t(), (x, wt)) and gradgradcheck(lambda p, q: p @ q.t(), (x, wt))
    assert gradcheck(lambda p, q, r: F.linear(p, q, r), (x, wt, bt))

    def ref(torch: object) -> tuple:
        xt, wt_, bt_ = (torch.tensor(v, requires_grad=True) for v in (a, w, b))
        y1 = xt @ wt_.t()
        y2 = torch.nn.functional.linear(xt, wt_, bt_)
        y3 = xt.transpose(0, 1) @ wt_.t()
        return (y1.detach(), y2.detach(), _torch_names(y1.grad_fn), _torch_names(y1.grad_fn.next_functions[0][0]),
                _torch_names(y2.grad_fn), _torch_names(y2.grad_fn.next_functions[0][0]),
                _torch_names(y3.grad_fn.next_functions[0][0]))
    w1, w2, n1, n1b, n2, n2b, n3 = torch_ref("matmul_fold", ref)
    y1 = x @ wt.t()
    y2 = F.linear(x, wt, bt)
    y3 = x.transpose(0, 1) @ wt.t()
    np.testing.assert_allclose(y1.detach().numpy(), w1, rtol=1e-12)
    np.testing.assert_allclose(y2.detach().numpy(), w2, rtol=1e-12)
    assert [_names(y1.grad_fn), _names(y1.grad_fn.next_functions[0][0])] == [n1, n1b]
    assert [_names(y2.grad_fn), _names(y2.grad_fn.next_functions[0][0])] == [n2, n2b]
    assert _names(y3.grad_fn.next_functions[0][0]) == n3
