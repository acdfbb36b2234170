"""jacobian, hessian, vjp, jvp, hvp, vhp built on the reverse-mode engine."""
from __future__ import annotations

from typing import Any, Callable

from . import grad_mode
from .engine import grad as _grad


def _tup(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


def _prep_inputs(inputs: Any, create_graph: bool) -> tuple:
    from .._tensor import Tensor
    out = []
    for x in _tup(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"The inputs given to the function must be Tensors, got {type(x).__name__}")
        y = x if create_graph and x._requires_grad else x.detach()
        if not y._requires_grad:
            y.requires_grad_(True)
        out.append(y)
    return tuple(out)


def _grads_or_zeros(outputs: Any, inputs: tuple, grad_outputs: Any, create_graph: bool) -> tuple:
    from .._creation import zeros_like
    if not outputs.requires_grad:
        return tuple(zeros_like(x) for x in inputs)
    gs = _grad(outputs, list(inputs), grad_outputs, retain_graph=True, create_graph=create_graph,
               allow_unused=True)
    return tuple(g if g is not None else zeros_like(x) for g, x in zip(gs, inputs))


def _check_v(vs: tuple, like: tuple) -> None:
    if len(vs) != len(like):
        raise RuntimeError(f"v is a tuple of invalid length: should be {len(like)} but got {len(vs)}.")
    for vv, o in zip(vs, like):
        if vv is not None and tuple(vv.shape) != tuple(o.shape):
            from .._tensor import size_str
            raise RuntimeError(f"v has invalid size: should be {size_str(o.shape)} but got {size_str(vv.shape)}.")


def vjp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T J)."""
    single = not isinstance(inputs, tuple)
    with grad_mode.enable_grad():
        ins = _prep_inputs(inputs, create_graph)
        out = func(*ins)
        outs = _tup(out)
        if v is None and (len(outs) != 1 or outs[0].numel() != 1):
            raise RuntimeError("The vector v can only be None if the user-provided function returns a single "
                               "Tensor with a single element.")
        vs = _tup(v) if v is not None else (None,) * len(outs)
        _check_v(vs, outs)
        total = None
        for o, vv in zip(outs, vs):
            from .._creation import ones_like
            vv = vv if vv is not None else ones_like(o)
            term = (o * vv).sum()
            total = term if total is None else total + term
        res = _grads_or_zeros(total, ins, None, create_graph)
    detach = (lambda t: t) if create_graph else (lambda t: t.detach())
    out_d = tuple(detach(o) for o in outs)
    return (out_d if isinstance(out, tuple) else out_d[0]), (res[0] if single else res)


def jacobian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
             vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """The Jacobian of func at inputs: shape output.shape + input.shape (nested for tuples)."""
    from .._creation import zeros_like
    from ..ops.shape import stack
    single_in = not isinstance(inputs, tuple)
    with grad_mode.enable_grad():
        ins = _prep_inputs(inputs, create_graph)
        out = func(*ins)
        outs = _tup(out)
        result = []
        for o in outs:
            rows = []
            flat = o.reshape(-1)
            if strict and not flat.requires_grad:
                raise RuntimeError(f"Output {len(result)} of the user-provided function does not require gradients. "
                                   "The outputs must be computed in a differentiable manner from the input when "
                                   "running in strict mode.")
            used = [False] * len(ins)
            for j in range(flat.numel()):
                if flat.requires_grad:
                    gs = _grad(flat[j], list(ins), retain_graph=True, create_graph=create_graph, allow_unused=True)
                else:
                    gs = (None,) * len(ins)
                used = [u or g is not None for u, g in zip(used, gs)]
                rows.append([g if g is not None else zeros_like(x) for g, x in zip(gs, ins)])
            if strict and flat.numel() and not all(used):
                raise RuntimeError(f"Output {len(result)} of the user-provided function is independent of input "
                                   f"{used.index(False)}. This is not allowed in strict mode.")
            per_in = []
            for k, x in enumerate(ins):
                if rows:
                    j = stack([r[k] for r in rows]).reshape(tuple(o.shape) + tuple(x.shape))
                else:
                    j = zeros_like(x).reshape(-1)[:0].reshape(tuple(o.shape) + tuple(x.shape))
                per_in.append(j if create_graph else j.detach())
            result.append(per_in[0] if single_in else tuple(per_in))
    return result[0] if not isinstance(out, tuple) else tuple(result)


def hessian(func: Callable, inputs: Any, create_graph: bool = False, strict: bool = False,
            vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """The Hessian of a scalar function."""
    single = not isinstance(inputs, tuple)

    def grad_fn(*xs: Any) -> Any:
        out = func(*xs)
        if not hasattr(out, "numel") or out.numel() != 1:
            raise RuntimeError("The Tensor returned by the function given to hessian should contain a single element")
        gs = _grad(out, list(xs), create_graph=True, allow_unused=True)
        from .._creation import zeros_like
        gs = tuple(g if g is not None else zeros_like(x) for g, x in zip(gs, xs))
        return gs[0] if single else gs

    return jacobian(grad_fn, inputs, create_graph=create_graph)


def jvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), J v), by the double-backward trick."""
    from .._creation import ones_like, zeros_like
    single = not isinstance(inputs, tuple)
    with grad_mode.enable_grad():
        ins = _prep_inputs(inputs, create_graph)
        out = func(*ins)
        outs = _tup(out)
        vs = _tup(v) if v is not None else tuple(ones_like(x) for x in ins)
        res = []
        for o in outs:
            u = zeros_like(o).requires_grad_(True)
            gs = _grad(o, list(ins), u, create_graph=True, allow_unused=True)
            total = None
            for g, vv in zip(gs, vs):
                if g is not None:
                    term = (g * vv).sum()
                    total = term if total is None else total + term
            if total is None or not total.requires_grad:
                res.append(zeros_like(o))
            else:
                (jv,) = _grad(total, [u], create_graph=create_graph, allow_unused=True)
                res.append(jv if jv is not None else zeros_like(o))
    detach = (lambda t: t) if create_graph else (lambda t: t.detach())
    outs_d = tuple(detach(o) for o in outs)
    res_d = tuple(detach(r) for r in res)
    del single
    return (outs_d if isinstance(out, tuple) else outs_d[0]), (res_d if isinstance(out, tuple) else res_d[0])


def vhp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), v^T H)."""
    single = not isinstance(inputs, tuple)
    with grad_mode.enable_grad():
        ins = _prep_inputs(inputs, True)
        out = func(*ins)
        gs = _grad(out, list(ins), create_graph=True, allow_unused=True)
        vs = _tup(v)
        total = None
        for g, vv in zip(gs, vs):
            if g is not None:
                term = (g * vv).sum()
                total = term if total is None else total + term
        res = _grads_or_zeros(total, ins, None, create_graph)
    detach = (lambda t: t) if create_graph else (lambda t: t.detach())
    return detach(out), (detach(res[0]) if single else tuple(detach(r) for r in res))


def hvp(func: Callable, inputs: Any, v: Any = None, create_graph: bool = False, strict: bool = False) -> tuple:
    """(func(inputs), H v); equals vhp for the symmetric Hessians of smooth functions."""
    return vhp(func, inputs, v, create_graph, strict)
