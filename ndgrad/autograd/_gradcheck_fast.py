"""gradcheck's fast mode (random projections u^T J v instead of whole Jacobians) and its
batched checks (gradients of a batch of cotangents / tangents through vmap against a loop)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np


def _outputs(fn: Callable, inputs: tuple) -> list:
    from .._tensor import Tensor
    from .gradcheck import _as_tuple
    return [(i, o) for i, o in enumerate(_as_tuple(fn(*inputs))) if isinstance(o, Tensor) and o._dtype.category >= 2]


def fast_gradcheck(fn: Callable, inputs: tuple, diff_idx: list, eps: float, atol: float, rtol: float,
                   check_forward_ad: bool, check_backward_ad: bool) -> Any:
    """True, or the message of the first mismatch."""
    from .. import _creation as C
    from .engine import grad as autograd_grad
    from .forward_ad import _enter, _exit, _make_dual
    from .grad_mode import no_grad
    from ..ops._core import tangent_at
    from .gradcheck import _as_tuple
    rng = np.random.default_rng(0)
    outs = _outputs(fn, inputs)
    for i in diff_idx:
        x = inputs[i]
        v = rng.standard_normal(x._data.shape)
        v /= max(np.linalg.norm(v), 1e-12)
        data = x._data
        orig = data.copy()
        with no_grad():
            data[...] = orig + eps * v
            plus = [np.array(o._data) for _, o in _outputs(fn, inputs)]
            data[...] = orig - eps * v
            minus = [np.array(o._data) for _, o in _outputs(fn, inputs)]
            data[...] = orig
        fwd = None
        if check_forward_ad:
            lv = _enter()
            try:
                args = list(inputs)
                args[i] = _make_dual(x, C.tensor(v, dtype=x._dtype), lv)
                res = _as_tuple(fn(*args))
                fwd = [tangent_at(res[oi], lv) for oi, _ in outs]
            finally:
                _exit(lv)
        for k, (oi, o) in enumerate(outs):
            u = rng.standard_normal(o._data.shape)
            numerical = float(np.sum(u * (plus[k] - minus[k]) / (2 * eps)))
            if check_backward_ad and o._requires_grad:
                out = _as_tuple(fn(*inputs))[oi]
                (g,) = autograd_grad(out, [x], C.tensor(u, dtype=o._dtype), allow_unused=True)
                rev = 0.0 if g is None else float(np.sum(v * g._data))
                if not np.isclose(rev, numerical, rtol=rtol, atol=atol):
                    return (f"Jacobian mismatch for output {oi} with respect to input {i} (fast mode): "
                            f"numerical u^T J v = {numerical}, analytical = {rev}")
            if fwd is not None:
                jv = 0.0 if fwd[k] is None else float(np.sum(u * fwd[k]._data))
                if not np.isclose(jv, numerical, rtol=rtol, atol=atol):
                    return (f"Jacobian computed with forward mode mismatch for output {oi} with respect to input "
                            f"{i} (fast mode): numerical u^T J v = {numerical}, analytical = {jv}")
    return True


def batched_check(fn: Callable, inputs: tuple, diff_idx: list, atol: float, rtol: float, batched_grad: bool,
                  batched_forward: bool) -> Any:
    """vmap over a batch of 3 cotangents (vjp) / tangents (jvp) must equal one call per batch member."""
    from .. import _creation as C
    from .. import func
    from .gradcheck import _as_tuple
    from .._tensor import Tensor
    rng = np.random.default_rng(1)
    diff = [inputs[i] for i in diff_idx]

    def f(*xs: Any) -> tuple:
        args = list(inputs)
        for i, x in zip(diff_idx, xs):
            args[i] = x
        return tuple(o for o in _as_tuple(fn(*args)) if isinstance(o, Tensor) and o._dtype.category >= 2)

    primals = tuple(x.detach() for x in diff)
    if batched_grad:
        outs, vjp_fn = func.vjp(f, *primals)
        cts = tuple(C.tensor(rng.standard_normal((3,) + tuple(o.shape)), dtype=o.dtype) for o in outs)
        try:
            batched = func.vmap(vjp_fn)(cts)
        except RuntimeError as e:  # the backward cannot run batched (as PyTorch reports it)
            return f"While computing batched gradients, got: {e}"
        for b in range(3):
            single = vjp_fn(tuple(c[b] for c in cts))
            for k, (gb, gs) in enumerate(zip(batched, single)):
                if not np.allclose(gb[b]._data, gs._data, rtol=rtol, atol=atol, equal_nan=True):
                    return (f"While computing batched gradients, got: batched grad {b} for input {diff_idx[k]} "
                            f"differs from the unbatched one:\n{gb[b]}\n{gs}")
    if batched_forward:
        tans = tuple(C.tensor(rng.standard_normal((3,) + tuple(x.shape)), dtype=x.dtype) for x in primals)
        try:
            batched = func.vmap(lambda *ts: func.jvp(f, primals, ts)[1])(*tans)
        except RuntimeError as e:
            return f"While computing batched forward gradients, got: {e}"
        for b in range(3):
            single = func.jvp(f, primals, tuple(t[b] for t in tans))[1]
            for k, (tb, tsg) in enumerate(zip(batched, single)):
                if not np.allclose(tb[b]._data, tsg._data, rtol=rtol, atol=atol, equal_nan=True):
                    return (f"While computing batched forward gradients, got: batched tangent {b} of output {k} "
                            f"differs from the unbatched one:\n{tb[b]}\n{tsg}")
    return True
