"""Forward-mode AD (ndgrad.autograd.forward_ad) against torch.autograd.forward_ad: dual tensors,
tangents through ops, in-place ops and views, custom Functions, errors; forward over reverse."""
from __future__ import annotations

import importlib
import pkgutil
from typing import Any, Callable

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck

RNG = np.random.default_rng(0)
X = RNG.standard_normal((3, 4))
V = RNG.standard_normal((3, 4))
W = RNG.standard_normal((5, 4))


def _fwad(M: Any) -> Any:
    return M.autograd.forward_ad


def _mlp(M: Any, x: Any, w: Any) -> Any:
    h = M.tanh(x @ w.T)
    return M.nn.functional.log_softmax(h * h.sigmoid(), 1).sum(0) / (1 + x.pow(2).mean())


def _jvp(M: Any, fn: Callable, x: np.ndarray, v: np.ndarray) -> tuple:
    F = _fwad(M)
    with F.dual_level():
        d = F.make_dual(M.tensor(x), M.tensor(v))
        out = fn(M, d)
        p, t = F.unpack_dual(out)
        return p, t


def test_jvp_of_a_network_matches_torch(torch_ref: Any) -> None:
    fn = lambda M, d: _mlp(M, d, M.tensor(W))  # noqa: E731
    want_p, want_t = torch_ref("mlp", lambda torch: _jvp(torch, fn, X, V))
    p, t = _jvp(ndgrad, fn, X, V)
    np.testing.assert_allclose(p.numpy(), want_p, rtol=1e-10)
    np.testing.assert_allclose(t.numpy(), want_t, rtol=1e-9, atol=1e-12)
    # and against a central difference along v
    eps = 1e-6
    num = (fn(ndgrad, ndgrad.tensor(X + eps * V)) - fn(ndgrad, ndgrad.tensor(X - eps * V))) / (2 * eps)
    np.testing.assert_allclose(t.numpy(), num.numpy(), rtol=1e-6, atol=1e-8)


def _basics(M: Any) -> dict:
    F = _fwad(M)
    x = M.tensor(X, dtype=M.float32)
    out = {}
    with F.dual_level() as lvl:
        out["level"] = lvl
        d = F.make_dual(x, M.ones(3, 4, dtype=M.float64))
        out["tangent_dtype"] = F.unpack_dual(d).tangent.dtype
        out["mixed"] = F.unpack_dual(d * d.double()).tangent
        out["to64"] = F.unpack_dual(d.to(M.float64)).tangent.dtype
        out["int_none"] = F.unpack_dual(d.int()).tangent is None
        out["argmax_none"] = F.unpack_dual(d.argmax()).tangent is None
        out["sign"] = F.unpack_dual(d.sign()).tangent
        with M.no_grad():  # grad mode does not stop tangents
            out["nograd"] = F.unpack_dual(d.exp()).tangent
        out["plain"] = F.unpack_dual(x).tangent is None
        out["detach"] = F.unpack_dual(d.detach()).tangent is None
        xr = M.tensor(X).requires_grad_()
        dr = F.make_dual(xr, M.ones(3, 4, dtype=M.float64))
        out["view_fn"] = type(dr.grad_fn).__name__
        p, t = F.unpack_dual(dr)
        out["primal_rg"] = p.requires_grad
        out["primal_no_tangent"] = F.unpack_dual(p).tangent is None
    out["after_exit"] = F.unpack_dual(d).tangent is None
    return out


def test_dual_tensor_rules(torch_ref: Any) -> None:
    want = torch_ref("basics", _basics)
    got = _basics(ndgrad)
    assert set(got) == set(want)
    for k, v in want.items():
        g = got[k]
        if isinstance(v, np.ndarray):
            np.testing.assert_allclose(g.numpy(), v, rtol=1e-6, err_msg=k)
            assert g.numpy().dtype == v.dtype, k
        elif k.endswith("dtype") or k == "to64":
            assert str(g).replace("ndgrad", "torch") == v, k
        else:
            assert g == v, k


def _inplace(M: Any) -> dict:
    F = _fwad(M)
    x = M.tensor(X)
    out = {}
    with F.dual_level():
        d = F.make_dual(x.clone(), M.tensor(V))
        d[1:].mul_(3.0)  # through a view: the base's tangent changes too
        out["view_mul"] = F.unpack_dual(d).tangent
        w = M.zeros(3, 4, dtype=M.float64)
        w[0] = d[0]  # a plain tensor takes a tangent (zeros elsewhere)
        out["setitem"] = F.unpack_dual(w).tangent
        r = d.clone()
        r.add_(F.make_dual(M.ones(3, 4, dtype=M.float64), M.full((3, 4), 5.0, dtype=M.float64)))
        out["add_dual"] = F.unpack_dual(r).tangent
        q = M.ones(3, 4, dtype=M.float64)
        v = q[:, 1]  # a view taken before its base gets a tangent
        q.mul_(d)
        out["base_later"] = F.unpack_dual(v).tangent
        s = d.clone()
        s.t_()
        s.sin_()
        out["t_sin"] = F.unpack_dual(s).tangent
        z = d.clone()
        z.diagonal().zero_()
        out["diag_zero"] = F.unpack_dual(z).tangent
    return out


def test_inplace_and_views_on_duals(torch_ref: Any) -> None:
    want = torch_ref("inplace", _inplace)
    got = _inplace(ndgrad)
    for k, v in want.items():
        np.testing.assert_allclose(got[k].numpy(), v, rtol=1e-12, atol=1e-12, err_msg=k)


def _err(fn: Callable) -> str:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and message are the result
        return f"{type(e).__name__}: {e}"
    return "no error"


def _errors(M: Any) -> dict:
    F = _fwad(M)
    x = M.tensor(X)
    out = {"no_level": _err(lambda: F.make_dual(x, M.tensor(V)))}
    with F.dual_level():
        out["nested"] = _err(lambda: F.enter_dual_level())
        out["size"] = _err(lambda: F.make_dual(x, M.ones(4)))
        out["int_primal"] = _err(lambda: F.make_dual(M.arange(3), M.ones(3)))
        out["int_tangent"] = _err(lambda: F.make_dual(x, M.ones(3, 4, dtype=M.int64)))
        d = F.make_dual(x, M.tensor(V))
        out["twice"] = _err(lambda: F.make_dual(d, M.tensor(V)))
        out["exit_other"] = _err(lambda: F.exit_dual_level(level=7))
        out["bad_level"] = _err(lambda: F.make_dual(x, M.tensor(V), level=5))
        out["unpack_int"] = _err(lambda: F.unpack_dual(3))
    out["exit_none"] = _err(lambda: F.exit_dual_level())
    return out


def test_errors_match_torch(torch_ref: Any) -> None:
    want = torch_ref("errors", _errors)
    got = _errors(ndgrad)
    for k, v in want.items():
        assert got[k] == v.replace("torch.", "ndgrad.") or got[k] == v, (k, got[k], v)


def _hvp(M: Any) -> tuple:
    """Forward over reverse: the tangent of a gradient is a Hessian-vector product."""
    F = _fwad(M)

    def f(x: Any) -> Any:
        return (x.sin() * x.pow(3)).sum() + (x @ x.T).logsumexp(0).sum()

    x = M.tensor(X).requires_grad_()
    with F.dual_level():
        d = F.make_dual(x, M.tensor(V))
        (g,) = M.autograd.grad(f(d), d)
        hv = F.unpack_dual(g).tangent
    H = M.autograd.functional.hessian(f, M.tensor(X))
    return hv, H


def test_forward_over_reverse_hvp(torch_ref: Any) -> None:
    want_hv, want_H = torch_ref("hvp", _hvp)
    hv, H = _hvp(ndgrad)
    np.testing.assert_allclose(hv.numpy(), want_hv, rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(hv.numpy(), (H.reshape(12, 12) @ ndgrad.tensor(V).reshape(12)).reshape(3, 4).numpy(),
                               rtol=1e-9, atol=1e-10)


def _rev_over_fwd(M: Any) -> Any:
    F = _fwad(M)
    w = M.tensor(W).requires_grad_()
    with F.dual_level():
        d = F.make_dual(M.tensor(X), M.tensor(V))
        t = F.unpack_dual((M.tanh(d @ w.T) * d.sum(1, keepdim=True)).sin().mean(0)).tangent
        (gw,) = M.autograd.grad(t.pow(2).sum(), w)
    return gw


def test_reverse_over_forward(torch_ref: Any) -> None:
    want = torch_ref("rev_over_fwd", _rev_over_fwd)
    np.testing.assert_allclose(_rev_over_fwd(ndgrad).numpy(), want, rtol=1e-9, atol=1e-11)


def _custom(M: Any) -> tuple:
    F = _fwad(M)

    class Scaled(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, y: Any, k: float) -> tuple:
            ctx.save_for_forward(x, y)
            ctx.save_for_backward(x, y)
            return x.sin() * y * k, x.cos()

        @staticmethod
        def jvp(ctx: Any, tx: Any, ty: Any, tk: Any) -> tuple:
            x, y = ctx.saved_tensors
            return (tx * x.cos() * y + x.sin() * ty) * 2.0, -tx * x.sin()

        @staticmethod
        def backward(ctx: Any, g1: Any, g2: Any) -> tuple:
            x, y = ctx.saved_tensors
            return g1 * x.cos() * y * 2.0 - g2 * x.sin(), g1 * x.sin() * 2.0, None

    class NoJvp(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 2

    with F.dual_level():
        d = F.make_dual(M.tensor(X), M.tensor(V))
        a, b = Scaled.apply(d, M.tensor(W[:3]), 2.0)
        err = _err(lambda: NoJvp.apply(d))
        return F.unpack_dual(a).tangent, F.unpack_dual(b).tangent, err


def test_custom_function_jvp(torch_ref: Any) -> None:
    want = torch_ref("custom", _custom)
    got = _custom(ndgrad)
    np.testing.assert_allclose(got[0].numpy(), want[0], rtol=1e-12)
    np.testing.assert_allclose(got[1].numpy(), want[1], rtol=1e-12)
    assert got[2] == want[2]


def test_gradcheck_checks_forward_mode() -> None:
    """check_forward_ad is not vacuous: a wrong JVP rule fails, in full and in fast mode."""
    from ndgrad.ops import elementwise as E
    x = ndgrad.tensor([0.5, -1.0, 2.0], dtype=ndgrad.float64, requires_grad=True)
    f = lambda a: (a * a.exp()).sum(0, keepdim=True)  # noqa: E731
    assert gradcheck(f, (x,), check_forward_ad=True)
    assert gradcheck(f, (x,), check_forward_ad=True, fast_mode=True)
    assert gradcheck(f, (x,), check_forward_ad=True, check_backward_ad=False)
    orig = E.MulBackward0.jvp
    E.MulBackward0.jvp = lambda self, ins, out, ts: orig(self, ins, out, ts) * 1.01
    try:
        assert gradcheck(f, (x,))  # reverse mode alone is still right
        with pytest.raises(RuntimeError, match="forward mode mismatch"):
            gradcheck(f, (x,), check_forward_ad=True)
        assert not gradcheck(f, (x,), check_forward_ad=True, fast_mode=True, raise_exception=False)
    finally:
        E.MulBackward0.jvp = orig
    with pytest.raises(AssertionError, match="at least one of"):
        gradcheck(f, (x,), check_forward_ad=False, check_backward_ad=False)


# Nodes that only rewire the graph after an in-place op on a view: the tangents involved are
# written by the in-place machinery (ops._core.fw_inplace), never by a rule.
GRAPH_ONLY = {"CopySlices", "AsStridedBackward0", "AccumulateGrad", "GraphRoot", "BackwardCFunction"}


def _node_classes() -> set:
    from ndgrad.autograd.graph import Node
    for m in pkgutil.walk_packages(ndgrad.__path__, "ndgrad."):
        if any(part in m.name for part in ("distributed", "__main__", "_dynamo", "vision.datasets")):
            continue
        try:
            importlib.import_module(m.name)
        except Exception:  # noqa: BLE001 - optional extras are not installed here
            continue
    seen, stack = set(), [Node]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in seen:
                seen.add(sub)
                stack.append(sub)
    return seen


def test_every_node_has_a_jvp_rule() -> None:
    missing = sorted(c.__module__ + "." + c.__qualname__ for c in _node_classes()
                     if c.__name__ not in GRAPH_ONLY and getattr(c, "jvp", None) is None
                     and not c.__module__.startswith(("tests", "ndgrad.autograd.function")))
    assert not missing, f"Node classes without a JVP rule: {missing}"
