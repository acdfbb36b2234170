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


# ---------------------------------------------------------------------------
# layer_norm (NativeLayerNormBackward0)
# ---------------------------------------------------------------------------
def _jvp_fd(fn: object, primals: tuple, tangents: tuple) -> tuple:
    """(forward-mode tangent, central difference) of fn at primals along tangents, float64."""
    import ndgrad.autograd.forward_ad as fwAD
    with fwAD.dual_level():
        out = fn(*[fwAD.make_dual(p.detach(), t) for p, t in zip(primals, tangents)])
        tan = fwAD.unpack_dual(out).tangent.numpy()
    e = 1e-6
    hi = fn(*[p.detach() + e * t for p, t in zip(primals, tangents)]).numpy()
    lo = fn(*[p.detach() - e * t for p, t in zip(primals, tangents)]).numpy()
    return tan, (hi - lo) / (2 * e)


def _ln_composite(x: ndgrad.Tensor, k: int, w: object, b: object, eps: float = 1e-5) -> ndgrad.Tensor:
    axes = tuple(range(x.dim() - k, x.dim()))
    xc = x - x.mean(axes, keepdim=True)
    out = xc * ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    return out * w + b


@pytest.mark.parametrize("shape,ns", [((3, 4, 5), (4, 5)), ((2, 6), (6,))])
def test_layer_norm_gradients_and_jvp(shape: tuple, ns: tuple) -> None:
    rng = np.random.default_rng(5)
    x, w, b = _t64(rng, *shape), _t64(rng, *ns), _t64(rng, *ns)
    f = lambda x, w, b: F.layer_norm(x, ns, w, b)  # noqa: E731
    assert gradcheck(f, (x, w, b)) and gradgradcheck(f, (x, w, b))
    assert gradcheck(lambda x: F.layer_norm(x, ns), (x,)) and gradgradcheck(lambda x: F.layer_norm(x, ns), (x,))
    tan, fd = _jvp_fd(f, (x, w, b), tuple(_t64(rng, *t.shape).detach() for t in (x, w, b)))
    np.testing.assert_allclose(tan, fd, rtol=1e-6, atol=1e-7)


def test_layer_norm_matches_composite_and_torch(torch_ref) -> None:
    rng = np.random.default_rng(6)
    a = rng.standard_normal((2, 7, 16)).astype(np.float32) * 3 + 1
    g = rng.standard_normal((2, 7, 16)).astype(np.float32)
    wv, bv = rng.standard_normal(16).astype(np.float32), rng.standard_normal(16).astype(np.float32)
    res = []
    for fn in (lambda x, w, b: F.layer_norm(x, (16,), w, b), lambda x, w, b: _ln_composite(x, 1, w, b)):
        x, w, b = (ndgrad.tensor(v, requires_grad=True) for v in (a, wv, bv))
        y = fn(x, w, b)
        y.backward(ndgrad.tensor(g))
        res.append([y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
        assert y.dtype is ndgrad.float32 and x.grad.dtype is ndgrad.float32
    for got, comp in zip(*res):
        np.testing.assert_allclose(got, comp, rtol=1e-5, atol=2e-5)

    def ref(torch: object) -> tuple:
        x, w, b = (torch.tensor(v, requires_grad=True) for v in (a, wv, bv))
        y = torch.nn.functional.layer_norm(x, (16,), w, b)
        y.backward(torch.tensor(g))
        yh = torch.nn.functional.layer_norm(torch.tensor(a).half(), (16,), w)
        return y.detach(), x.grad, w.grad, b.grad, _torch_names(y.grad_fn), yh.detach().float(), str(yh.dtype)
    *want, names, want_h, hdt = torch_ref("layer_norm", ref)
    for got, w_ in zip(res[0], want):
        np.testing.assert_allclose(got, w_, rtol=1e-5, atol=2e-5)
    x, w = ndgrad.tensor(a, requires_grad=True), ndgrad.tensor(wv, requires_grad=True)
    y = F.layer_norm(x, (16,), w, ndgrad.tensor(bv, requires_grad=True))
    assert _names(y.grad_fn) == names == ["NativeLayerNormBackward0"] + ["AccumulateGrad"] * 3
    assert _names(F.layer_norm(x, (16,), None, ndgrad.tensor(bv)).grad_fn) == ["NativeLayerNormBackward0",
                                                                                "AccumulateGrad", None, None]
    yh = F.layer_norm(ndgrad.tensor(a).half(), (16,), w)  # float16 input, float32 parameters: float16 out
    assert str(yh.dtype) == hdt.replace("torch", "ndgrad")
    np.testing.assert_allclose(yh.float().detach().numpy(), want_h, rtol=1e-3, atol=1e-3)


def test_layer_norm_errors() -> None:
    x = ndgrad.ones(2, 3)
    with pytest.raises(RuntimeError, match="all inputs must share same datatype"):
        F.layer_norm(x, (3,), ndgrad.ones(3, dtype=ndgrad.float64))
    with pytest.raises(RuntimeError, match="expect parameter to have scalar type of Float"):
        F.layer_norm(x.half(), (3,), ndgrad.ones(3, dtype=ndgrad.float64))
    with pytest.raises(NotImplementedError, match="LayerNormKernelImpl"):
        F.layer_norm(ndgrad.ones(2, 3, dtype=ndgrad.int64), (3,))
    with pytest.raises(RuntimeError, match="expected input with shape"):
        F.layer_norm(x, (4,))


# ---------------------------------------------------------------------------
# scaled_dot_product_attention (ScaledDotProductFlashAttentionForCpuBackward0)
# ---------------------------------------------------------------------------
def _sdpa_cases(rng: np.random.Generator) -> list:
    keep = rng.random((5, 6)) > 0.3
    keep[1] = False  # a query that sees no key: zeros, as in PyTorch
    return [("plain", {}), ("causal", {"is_causal": True}), ("bool", {"attn_mask": keep}),
            ("float", {"attn_mask": rng.standard_normal((1, 3, 5, 6))}), ("scale", {"scale": 0.3})]


def _sdpa_composite(q: ndgrad.Tensor, k: ndgrad.Tensor, v: ndgrad.Tensor, attn_mask: object = None,
                    is_causal: bool = False, scale: object = None) -> ndgrad.Tensor:
    s = q @ k.transpose(-2, -1) * (scale or q.shape[-1] ** -0.5)
    if is_causal:
        attn_mask = ndgrad.ones(s.shape[-2:], dtype=ndgrad.bool).tril()
    if attn_mask is not None and attn_mask.dtype is ndgrad.bool:
        s = s.masked_fill(~attn_mask, float("-inf"))
    elif attn_mask is not None:
        s = s + attn_mask
    dead = s.max(-1, keepdim=True).values == float("-inf")
    return s.masked_fill(dead, 0.0).softmax(-1).masked_fill(dead, 0.0) @ v


def test_sdpa_gradients_and_jvp() -> None:
    rng = np.random.default_rng(7)
    q, k, v = _t64(rng, 1, 3, 5, 2), _t64(rng, 1, 3, 6, 2), _t64(rng, 1, 3, 6, 2)
    for name, kw in _sdpa_cases(rng):
        kw = {a: ndgrad.tensor(b) if isinstance(b, np.ndarray) else b for a, b in kw.items()}
        f = lambda q, k, v, kw=kw: F.scaled_dot_product_attention(q, k, v, **kw)  # noqa: E731
        assert f(q, k, v).grad_fn.name() == "ScaledDotProductFlashAttentionForCpuBackward0", name
        assert gradcheck(f, (q, k, v)), name
        if name in ("causal", "bool"):
            assert gradgradcheck(f, (q, k, v)), name
        tan, fd = _jvp_fd(f, (q, k, v), tuple(_t64(rng, *t.shape).detach() for t in (q, k, v)))
        np.testing.assert_allclose(tan, fd, rtol=1e-6, atol=1e-7, err_msg=name)


def test_sdpa_matches_composite_and_torch(torch_ref) -> None:
    rng = np.random.default_rng(8)
    a = [rng.standard_normal(s).astype(np.float32) for s in ((2, 3, 5, 4), (2, 3, 6, 4), (2, 3, 6, 4), (2, 3, 5, 4))]
    cases = _sdpa_cases(rng)
    got, kws = {}, {}
    for name, kw in cases:
        kw = kws[name] = {k_: ndgrad.tensor(b.astype(np.float32) if b.dtype == np.float64 else b)
                          if isinstance(b, np.ndarray) else b for k_, b in kw.items()}
        for fn in (F.scaled_dot_product_attention, _sdpa_composite):
            q, k, v = (ndgrad.tensor(x, requires_grad=True) for x in a[:3])
            y = fn(q, k, v, **kw)
            y.backward(ndgrad.tensor(a[3]))
            got.setdefault(name, []).append([y.detach().numpy(), q.grad.numpy(), k.grad.numpy(), v.grad.numpy()])
        for x, c in zip(*got[name]):
            np.testing.assert_allclose(x, c, rtol=1e-5, atol=1e-6, err_msg=name)

    def ref(torch: object) -> dict:
        out = {}
        for name, kw in cases:
            kw = {k_: torch.tensor(b.astype(np.float32) if b.dtype == np.float64 else b) if isinstance(b, np.ndarray)
                  else b for k_, b in kw.items()}
            q, k, v = (torch.tensor(x, requires_grad=True) for x in a[:3])
            y = torch.nn.functional.scaled_dot_product_attention(q, k, v, **kw)
            y.backward(torch.tensor(a[3]))
            out[name] = [y.detach(), q.grad, k.grad, v.grad, _torch_names(y.grad_fn)]
        return out
    want = torch_ref("sdpa", ref)
    for name, _ in cases:
        for x, w in zip(got[name][0], want[name][:4]):
            np.testing.assert_allclose(x, w, rtol=1e-5, atol=1e-6, err_msg=name)
        q, k, v = (ndgrad.tensor(x, requires_grad=True) for x in a[:3])
        assert _names(F.scaled_dot_product_attention(q, k, v, **kws[name]).grad_fn) == want[name][4]
    assert (got["bool"][0][0][:, :, 1] == 0).all()  # the query that sees no key


def test_sdpa_falls_back_to_the_composite() -> None:
    """Where PyTorch takes its math path (3-d input, dropout, a 3-d mask or one that needs a gradient)."""
    rng = np.random.default_rng(9)
    q = _t64(rng, 2, 5, 4)
    m = _t64(rng, 5, 5)
    assert F.scaled_dot_product_attention(q, q, q).grad_fn.name() != "ScaledDotProductFlashAttentionForCpuBackward0"
    q4 = q[None]
    y = F.scaled_dot_product_attention(q4, q4, q4, attn_mask=ndgrad.zeros(2, 5, 5))
    assert y.grad_fn.name() != "ScaledDotProductFlashAttentionForCpuBackward0"
    assert gradcheck(lambda q, m: F.scaled_dot_product_attention(q, q, q, attn_mask=m), (q, m))  # mask gradient
    y = F.scaled_dot_product_attention(q[None], q[None], q[None], attn_mask=m)
    assert y.grad_fn.name() != "ScaledDotProductFlashAttentionForCpuBackward0"
    ndgrad.manual_seed(0)
    y = F.scaled_dot_product_attention(q[None], q[None], q[None], dropout_p=0.5)  # dropout: composite
    assert y.grad_fn.name() != "ScaledDotProductFlashAttentionForCpuBackward0"
    with pytest.raises(RuntimeError, match="Explicit attn_mask should not be set"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=m, is_causal=True)


# ---------------------------------------------------------------------------
# row scatter-add (embedding backward, index_add, x[idx] backward): np.add.at's sums without its
# per-element path
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("n,count", [(50, 200), (3, 500)])  # few repeats (rounds) / many (reduceat)
def test_row_scatter_add_matches_add_at(n: int, count: int, torch_ref) -> None:
    rng = np.random.default_rng(10)
    idx = rng.integers(0, n, count)
    g = rng.standard_normal((count, 4)).astype(np.float32)
    for pad, freq in ((None, False), (1, True)):
        w = ndgrad.zeros(n, 4, requires_grad=True)
        F.embedding(ndgrad.tensor(idx), w, padding_idx=pad, scale_grad_by_freq=freq).backward(ndgrad.tensor(g))
        coef = np.ones(count, np.float32)
        if pad is not None:
            coef[idx == pad] = 0
        if freq:
            coef /= np.bincount(idx, minlength=n)[idx]
        want = np.zeros((n, 4), np.float32)
        np.add.at(want, idx, g * coef[:, None])
        np.testing.assert_allclose(w.grad.numpy(), want, rtol=1e-5, atol=1e-5)
    got = ndgrad.ones(n, 4).index_add(0, ndgrad.tensor(idx), ndgrad.tensor(g))
    np.testing.assert_allclose(got.numpy(), torch_ref(f"index_add_{n}", lambda torch: torch.ones(n, 4).index_add(
        0, torch.tensor(idx), torch.tensor(g))), rtol=1e-5, atol=1e-5)
    x = ndgrad.zeros(n, 4, requires_grad=True)
    x[ndgrad.tensor(idx - n)].backward(ndgrad.tensor(g))  # negative indices address the same rows
    want = np.zeros((n, 4), np.float32)
    np.add.at(want, idx, g)
    np.testing.assert_allclose(x.grad.numpy(), want, rtol=1e-5, atol=1e-5)


# ---------------------------------------------------------------------------
# batch_norm with batch statistics (NativeBatchNormBackward0)
# ---------------------------------------------------------------------------
def test_batch_norm_gradients_and_jvp() -> None:
    rng = np.random.default_rng(11)
    x, w, b = _t64(rng, 4, 3, 5, 2), _t64(rng, 3), _t64(rng, 3)
    f = lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True)  # noqa: E731
    assert f(x, w, b).grad_fn.name() == "NativeBatchNormBackward0"
    assert gradcheck(f, (x, w, b)) and gradgradcheck(f, (x, w, b))
    x2 = _t64(rng, 6, 3)
    assert gradcheck(lambda x: F.batch_norm(x, None, None, training=True), (x2,))
    tan, fd = _jvp_fd(f, (x, w, b), tuple(_t64(rng, *t.shape).detach() for t in (x, w, b)))
    np.testing.assert_allclose(tan, fd, rtol=1e-6, atol=1e-7)


def test_batch_norm_matches_composite_and_torch(torch_ref) -> None:
    rng = np.random.default_rng(12)
    a = rng.standard_normal((8, 3, 4, 4)).astype(np.float32) * 2 + 1
    g = rng.standard_normal((8, 3, 4, 4)).astype(np.float32)
    wv, bv = rng.standard_normal(3).astype(np.float32), rng.standard_normal(3).astype(np.float32)
    x, w, b = (ndgrad.tensor(v, requires_grad=True) for v in (a, wv, bv))
    rm, rv = ndgrad.zeros(3), ndgrad.ones(3)
    y = F.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2)
    y.backward(ndgrad.tensor(g))
    got = [y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy(), rm.numpy(), rv.numpy()]
    xc, wc, bc = (ndgrad.tensor(v, requires_grad=True) for v in (a, wv, bv))  # the composite it replaces
    m = xc.mean((0, 2, 3), keepdim=True)
    yc = (xc - m) * ((xc - m) ** 2).mean((0, 2, 3), keepdim=True).add(1e-5).rsqrt() * wc.reshape(1, 3, 1, 1) \
        + bc.reshape(1, 3, 1, 1)
    yc.backward(ndgrad.tensor(g))
    for u, v in zip(got, [yc.detach().numpy(), xc.grad.numpy(), wc.grad.numpy(), bc.grad.numpy()]):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=2e-5)

    def ref(torch: object) -> list:
        x, w, b = (torch.tensor(v, requires_grad=True) for v in (a, wv, bv))
        rm, rv = torch.zeros(3), torch.ones(3)
        y = torch.nn.functional.batch_norm(x, rm, rv, w, b, training=True, momentum=0.2)
        y.backward(torch.tensor(g))
        return [y.detach(), x.grad, w.grad, b.grad, rm, rv, _torch_names(y.grad_fn)]
    want = torch_ref("batch_norm", ref)
    for u, v in zip(got, want[:6]):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=2e-5)
    assert _names(y.grad_fn) == want[6] == ["NativeBatchNormBackward0"] + ["AccumulateGrad"] * 3


# ---------------------------------------------------------------------------
# LSTM / GRU layers as one node over the sequence (ndgrad/ops/rnn.py)
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("reverse,bias", [(False, True), (True, False)])
def test_rnn_layer_gradients(mode: str, reverse: bool, bias: bool) -> None:
    from ndgrad.ops.rnn import run_composite, run_direction
    rng = np.random.default_rng(13)
    G = 4 if mode == "LSTM" else 3
    x, h0, c0 = _t64(rng, 3, 2, 2, scale=0.5), _t64(rng, 2, 3, scale=0.5), _t64(rng, 2, 3, scale=0.5)
    ps = [_t64(rng, G * 3, 2, scale=0.5), _t64(rng, G * 3, 3, scale=0.5)]
    ps += [_t64(rng, G * 3, scale=0.5), _t64(rng, G * 3, scale=0.5)] if bias else [None, None]

    def f(x: ndgrad.Tensor, h0: ndgrad.Tensor, c0: ndgrad.Tensor, *p: object, run: object = run_direction) -> tuple:
        out, h, c = run(mode, x, h0, c0 if mode == "LSTM" else None, *p, reverse)
        return (out, h, c) if mode == "LSTM" else (out, h)
    args = (x, h0, c0) + tuple(p for p in ps if p is not None)
    call = (lambda x, h0, c0, wi, wh, bi, bh: f(x, h0, c0, wi, wh, bi, bh)) if bias else \
        (lambda x, h0, c0, wi, wh: f(x, h0, c0, wi, wh, None, None))
    out = call(*args)
    assert out[0].grad_fn.name() == ("MkldnnRnnLayerBackward0" if mode == "LSTM" else "GruLayerBackward0")
    for u, v in zip(out, f(x, h0, c0, *ps, run=run_composite)):
        np.testing.assert_allclose(u.detach().numpy(), v.detach().numpy(), rtol=1e-12, atol=1e-13)
    assert gradcheck(call, args)
    ins = (x, h0, c0) + tuple(ps) if mode == "LSTM" else (x, h0) + tuple(ps)  # the node's inputs
    ts = tuple(None if t is None else _t64(rng, *t.shape).detach() for t in ins)
    tan = out[0].grad_fn.jvp(tuple(None if t is None else t.detach() for t in ins), None, ts)
    e = 1e-6

    def ref(sign: int) -> tuple:  # the reference at the inputs moved along the tangents
        v = [None if t is None else t.detach() + sign * e * d for t, d in zip(ins, ts)]
        x_, h_, c_, p_ = (v[0], v[1], v[2], v[3:]) if mode == "LSTM" else (v[0], v[1], None, v[2:])
        return run_composite(mode, x_, h_, c_, *p_, reverse)
    hi, lo = ref(1), ref(-1)
    for t, u, v in zip(tan, hi, lo):
        np.testing.assert_allclose(t.numpy(), ((u - v) / (2 * e)).numpy(), rtol=1e-6, atol=1e-7)
    if not bias:  # (the Tensor rule replays the composite; once is enough, on the smaller graph)
        assert gradgradcheck(call, args)


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
def test_rnn_module_matches_torch(mode: str, torch_ref) -> None:
    rng = np.random.default_rng(14)
    a = rng.standard_normal((6, 3, 4)).astype(np.float32)
    ndgrad.manual_seed(0)
    m = getattr(ndgrad.nn, mode)(4, 5, num_layers=2, bidirectional=True)
    sd = {k: v.detach().numpy().copy() for k, v in m.state_dict().items()}
    x = ndgrad.tensor(a, requires_grad=True)
    out, hn = m(x)
    hn = hn[0] if mode == "LSTM" else hn
    (out.sum() + (hn * hn).sum()).backward()
    got = [out.detach().numpy(), hn.detach().numpy(), x.grad.numpy()] + [m.get_parameter(k).grad.numpy() for k in sd]

    def ref(torch: object) -> list:
        tm = getattr(torch.nn, mode)(4, 5, num_layers=2, bidirectional=True)
        tm.load_state_dict({k: torch.tensor(v) for k, v in sd.items()})
        xt = torch.tensor(a, requires_grad=True)
        o, h = tm(xt)
        h = h[0] if mode == "LSTM" else h
        (o.sum() + (h * h).sum()).backward()
        return [o.detach(), h.detach(), xt.grad] + [tm.get_parameter(k).grad for k in sd]
    for u, v in zip(got, torch_ref(f"rnn_{mode}", ref)):
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-5)
