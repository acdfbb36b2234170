"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)  # lists too, as PyTorch


def _numerical_jacobian(fn: Callable, inputs: tuple, idx: int, out_i: int, eps: float) -> np.ndarray:
    from .grad_mode import no_grad
    x = inputs[idx]
    data = x._data  # perturbed in place, element by element (C order, as gradients flatten)
    with no_grad():
        out0 = _as_tuple(fn(*inputs))[out_i]
    jac = np.zeros((data.size, out0._data.size), dtype=np.result_type(data.dtype, out0._data.dtype))
    for k in range(data.size):
        at = np.unravel_index(k, data.shape)
        orig = data[at].copy()
        data[at] = orig + eps
        with no_grad():
            plus = _as_tuple(fn(*inputs))[out_i]._data.astype(jac.dtype).reshape(-1).copy()
        data[at] = orig - eps
        with no_grad():
            minus = _as_tuple(fn(*inputs))[out_i]._data.astype(jac.dtype).reshape(-1).copy()
        data[at] = orig
        jac[k] = (plus - minus) / (2 * eps)
    return jac


def _analytical_jacobian(fn: Callable, inputs: tuple, diff_idx: list, out_i: int) -> list:
    from .._creation import zeros_like
    from .engine import grad as autograd_grad
    out = _as_tuple(fn(*inputs))[out_i]
    n = out._data.size
    jacs = [np.zeros((inputs[i]._data.size, n), dtype=inputs[i]._data.dtype) for i in diff_idx]
    for j in range(n):
        go = zeros_like(out)
        go._data.reshape(-1)[j] = 1
        grads = autograd_grad(out, [inputs[i] for i in diff_idx], go, retain_graph=True, allow_unused=True)
        for k, g in enumerate(grads):
            if g is not None:
                jacs[k][:, j] = g._data.reshape(-1)
    return jacs


def _forward_jacobians(fn: Callable, inputs: tuple, diff_idx: list, out_i: int) -> list:
    """Jacobians of output `out_i` by forward mode: one dual pass per input element (tangent e_k)."""
    from .. import _creation as C
    from .forward_ad import _enter, _exit, _make_dual
    from ..ops._core import tangent_at
    jacs = []
    for i in diff_idx:
        x = inputs[i]
        jac = None
        for k in range(x._data.size):
            e = C.zeros_like(x)
            e._data.reshape(-1)[k] = 1
            lv = _enter()
            try:
                args = list(inputs)
                args[i] = _make_dual(x, e, lv)
                out = _as_tuple(fn(*args))[out_i]
                tan = tangent_at(out, lv)
            finally:
                _exit(lv)
            if jac is None:
                jac = np.zeros((x._data.size, out._data.size), dtype=np.result_type(x._data.dtype, out._data.dtype))
            if tan is not None:
                jac[k] = tan._data.reshape(-1)
        jacs.append(jac if jac is not None else np.zeros((0, 0)))
    return jacs


def _fail(raise_exception: bool, msg: str) -> bool:
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: Any = None) -> bool:
    """Compare the derivatives autograd computes for `func` at `inputs` with finite differences:
    reverse mode (check_backward_ad), forward mode (check_forward_ad: J v from dual numbers, and
    <J v, u> = <v, J^T u> when both are checked), and batched gradients through vmap
    (check_batched_grad, check_batched_forward_grad). fast_mode compares random projections
    u^T J v instead of whole Jacobians."""
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "them have requires_grad=True.")
    if not (check_forward_ad or check_backward_ad):
        raise AssertionError("Expected at least one of check_forward_ad or check_backward_ad to be True")
    if check_batched_grad and not check_backward_ad:
        raise AssertionError("Setting check_batched_grad=True requires check_backward_ad to be True")
    if check_batched_forward_grad and not check_forward_ad:
        raise AssertionError("Setting check_batched_forward_grad=True requires check_forward_ad to be True")
    for i in diff_idx:
        if inputs[i]._dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision "
                          "floating point.", stacklevel=2)
    if fast_mode:
        from ._gradcheck_fast import fast_gradcheck
        ok = fast_gradcheck(func, inputs, diff_idx, eps, atol, rtol, check_forward_ad, check_backward_ad)
        if ok is not True:
            return _fail(raise_exception, ok)
    else:
        outs = _as_tuple(func(*inputs))
        for oi, o in enumerate(outs):
            if not isinstance(o, Tensor) or o._dtype.category < 2:
                continue
            if not o._requires_grad:
                # an output cut from the graph must not depend on the inputs (PyTorch's check too)
                for i in diff_idx:
                    numerical = _numerical_jacobian(func, inputs, i, oi, eps)
                    if not np.allclose(numerical, 0.0, rtol=rtol, atol=atol):
                        return _fail(raise_exception, f"Numerical gradient for function expected to be zero: "
                                                      f"output {oi} does not require grad but depends on input {i}")
                continue
            analytical = _analytical_jacobian(func, inputs, diff_idx, oi) if check_backward_ad else None
            forward = _forward_jacobians(func, inputs, diff_idx, oi) if check_forward_ad else None
            for k, i in enumerate(diff_idx):
                numerical = _numerical_jacobian(func, inputs, i, oi, eps)
                for jac, how in ((analytical, ""), (forward, " computed with forward mode")):
                    if jac is not None and not np.allclose(jac[k], numerical, rtol=rtol, atol=atol, equal_nan=True):
                        return _fail(raise_exception, f"Jacobian{how} mismatch for output {oi} with respect to "
                                                      f"input {i},\nnumerical:{numerical}\nanalytical:{jac[k]}\n")
                if analytical is not None and forward is not None:
                    # <J v, u> = <v, J^T u> for a random pair: the two modes are each other's transpose
                    rng = np.random.default_rng(i)
                    v = rng.standard_normal(analytical[k].shape[0])
                    u = rng.standard_normal(analytical[k].shape[1])
                    jv_u, v_jtu = u @ (v @ forward[k]), v @ (analytical[k] @ u)
                    if not np.allclose(jv_u, v_jtu, rtol=rtol, atol=atol):
                        return _fail(raise_exception, f"Forward and reverse mode disagree for output {oi} with "
                                                      f"respect to input {i}: <J v, u> = {jv_u} but "
                                                      f"<v, J^T u> = {v_jtu}")
    if check_batched_grad or check_batched_forward_grad:
        from ._gradcheck_fast import batched_check
        ok = batched_check(func, inputs, diff_idx, atol, rtol, check_batched_grad, check_batched_forward_grad)
        if ok is not True:
            return _fail(raise_exception, ok)
    return True


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Sequence | None = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
                  check_grad_dtypes: bool = False, check_batched_grad: bool = False, check_fwd_over_rev: bool = False,
                  check_rev_over_rev: bool = True, fast_mode: bool = False, masked: Any = None) -> bool:
    """gradcheck of the gradient: second derivatives against finite differences of first ones, by
    reverse over reverse (check_rev_over_rev) and forward over reverse (check_fwd_over_rev)."""
    from .._tensor import Tensor
    from .engine import grad as autograd_grad
    inputs = _as_tuple(inputs)
    outs = _as_tuple(func(*inputs))
    outs = [o for o in outs if isinstance(o, Tensor) and o._requires_grad]
    if grad_outputs is None:
        rng = np.random.default_rng(0)
        grad_outputs = []
        for o in outs:
            from .._creation import from_numpy
            g = from_numpy(rng.standard_normal(o._data.shape).astype(o._data.dtype))
            g.requires_grad_(True)
            grad_outputs.append(g)
    grad_outputs = list(grad_outputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    n_in = len(inputs)

    def first_grads(*args: Any) -> tuple:
        from .grad_mode import enable_grad
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():
            o = [x for x in _as_tuple(func(*ins)) if isinstance(x, Tensor) and x._requires_grad]
            gs = autograd_grad(o, [ins[i] for i in diff_idx], list(gos), create_graph=True, allow_unused=True)
        from .._creation import zeros_like
        return tuple(g if g is not None else zeros_like(ins[i]) for g, i in zip(gs, diff_idx))

    return gradcheck(first_grads, tuple(inputs) + tuple(grad_outputs), eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, check_forward_ad=check_fwd_over_rev,
                     check_backward_ad=check_rev_over_rev, check_batched_grad=check_batched_grad and check_rev_over_rev,
                     fast_mode=fast_mode)
