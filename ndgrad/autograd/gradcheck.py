"""gradcheck / gradgradcheck: analytical gradients against central finite differences."""
from __future__ import annotations

from typing import Any, Callable, Sequence

import numpy as np


class GradcheckError(RuntimeError):
    """Raised when analytical and numerical gradients disagree."""


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else tuple(x) if isinstance(x, list) else (x,)  # lists too, as PyTorch


def _flat_outputs(fn: Callable, inputs: tuple) -> list:
    from .._tensor import Tensor
    return [o for o in _as_tuple(fn(*inputs)) if isinstance(o, Tensor) and o._requires_grad
            and o._dtype.category >= 2]


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


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-3,
              raise_exception: bool = True, nondet_tol: float = 0.0, check_undefined_grad: bool = True,
              check_grad_dtypes: bool = False, check_batched_grad: bool = False,
              check_batched_forward_grad: bool = False, check_forward_ad: bool = False,
              check_backward_ad: bool = True, fast_mode: bool = False, masked: Any = None) -> bool:
    """Compare the gradients autograd computes for `func` at `inputs` with finite differences."""
    from .._tensor import Tensor
    inputs = _as_tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x._requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient, but none of "
                         "them have requires_grad=True.")
    for i in diff_idx:
        if inputs[i]._dtype.name not in ("float64", "complex128"):
            import warnings
            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point. "
                          "This check will likely fail if all the inputs are not of double precision "
                          "floating point.", stacklevel=2)
    outs = _as_tuple(func(*inputs))
    for oi, o in enumerate(outs):
        if not isinstance(o, Tensor) or o._dtype.category < 2:
            continue
        if not o._requires_grad:
            # an output cut from the graph must not depend on the inputs (PyTorch's check too)
            for i in diff_idx:
                numerical = _numerical_jacobian(func, inputs, i, oi, eps)
                if not np.allclose(numerical, 0.0, rtol=rtol, atol=atol):
                    if raise_exception:
                        raise GradcheckError(f"Numerical gradient for function expected to be zero: output {oi} "
                                             f"does not require grad but depends on input {i}")
                    return False
            continue
        analytical = _analytical_jacobian(func, inputs, diff_idx, oi)
        for k, i in enumerate(diff_idx):
            numerical = _numerical_jacobian(func, inputs, i, oi, eps)
            a = analytical[k]
            if not np.allclose(a, numerical, rtol=rtol, atol=atol, equal_nan=True):
                if raise_exception:
                    raise GradcheckError(
                        f"Jacobian mismatch for output {oi} with respect to input {i},\n"
                        f"numerical:{numerical}\nanalytical:{a}\n")
                return False
    return True


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Sequence | None = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, **kwargs: Any) -> bool:
    """gradcheck of the gradient: second derivatives against finite differences of first ones."""
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
                     raise_exception=raise_exception)
