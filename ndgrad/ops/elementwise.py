"""Elementwise ops: arithmetic, comparisons, unary math, and their in-place forms.

Each differentiable op is a forward NumPy kernel plus a Node subclass whose
`backward` is the gradient rule. Broadcast gradients are summed back to each
input's shape by the engine, never here.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _specfun as _sf
from ._core import (_BY_NP, _fw_levels, _make, _state, broadcast_shapes_or_raise, check_tensor, float_dtype_for,
                    graph_free, grad_needed, has_fw, out_ref, record, register, to_tensor, tsum, write_out)
from ._core import _vmap_levels, is_batched, vmap_rule
from ._core import not_impl, refusals, refuse, refuses

_SCALARS = (int, float, bool, complex)


# ---------------------------------------------------------------------------
# operand preparation
# ---------------------------------------------------------------------------
def _operand(x: Any) -> Any:
    if isinstance(x, Tensor):
        return NotImplemented if x._is_sparse_coo else x  # dense (op) sparse: the sparse tensor's reflected op
    if type(x) in _SCALARS:
        return x
    if isinstance(x, (np.generic,)):
        return x.item()
    if isinstance(x, np.ndarray):
        from .._creation import from_numpy
        return from_numpy(x)
    if isinstance(x, (list, tuple)):
        from .._creation import tensor
        return tensor(x)
    return NotImplemented


_INT_RANGE = {d.name: (int(np.iinfo(d.np).min), int(np.iinfo(d.np).max)) for d in D.ALL if d.category == 1}


_OPMATH_SCALAR = frozenset(("add", "sub", "rsub", "mul", "div"))


def _prep(a: Any, b: Any, name: str) -> tuple:
    """Arrays (or weak Python scalars) for a binary kernel and the result dtype."""
    if type(a) is Tensor and type(b) is Tensor and a._dtype is b._dtype:
        if a._data.shape != b._data.shape:
            broadcast_shapes_or_raise(a._data.shape, b._data.shape)
        return a._data, b._data, a._dtype
    tb = type(b)
    if (tb is float or tb is int) and isinstance(a, Tensor):
        # a Python number never changes a tensor's dtype within its category (weak scalar)
        cat = a._dtype.category
        if cat >= 2:
            if name in _OPMATH_SCALAR and (a._dtype is D.float16 or a._dtype is D.bfloat16):
                # PyTorch keeps the scalar in float32 for these ops (not rounded to the tensor's
                # dtype) and rounds the float32 result once; _finish casts back
                return a._data.astype(np.float32), b, a._dtype
            return a._data, b, a._dtype
        if tb is int and cat == 1 and _INT_RANGE[a._dtype.name][0] <= b <= _INT_RANGE[a._dtype.name][1]:
            return a._data, b, a._dtype
    if not isinstance(a, Tensor):
        raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not {type(a).__name__}")
    b = _operand(b)
    if b is NotImplemented:
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor or Number, not "
                        f"{type(b).__name__}")
    dt = D.result_dtype(a, b)
    xa = a._data if a._dtype is dt else a._data.astype(dt.np)
    if isinstance(b, Tensor):
        if a._data.shape != b._data.shape:
            broadcast_shapes_or_raise(a._data.shape, b._data.shape)
        xb = b._data if b._dtype is dt else b._data.astype(dt.np)
    else:
        # an out-of-range Python int wraps into an integer dtype, as in PyTorch (NumPy would raise)
        xb = np.asarray(b).astype(dt.np) if type(b) is int and dt.category == 1 else np.asarray(b, dtype=dt.np)
    return xa, xb, dt


def _compute(x: Any, dt: D.dtype) -> Any:
    """An operand array in the dtype a float kernel computes `dt` in (float16/bfloat16 in float32)."""
    if type(x) is not np.ndarray:
        return x
    ct = np.float32 if dt is D.float16 or dt is D.bfloat16 else dt.np
    return x if x.dtype == ct else x.astype(ct)


def _float_prep(input: Any, other: Any, name: str) -> tuple:
    """`_prep` for a float-valued binary kernel: integer/bool operands computed in the default
    float dtype (NumPy would pick float16 for small ints), float16/bfloat16 in float32; `_finish`
    rounds the result to the dtype once, as PyTorch's kernels do."""
    xa, xb, dt = _prep(input, other, name)
    if dt.category < 2:
        dt = D.get_default_dtype()
    return _compute(xa, dt), _compute(xb, dt), dt


def _finish(arr: Any, dt: D.dtype) -> Tensor:
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    if arr.dtype is not dt.np and arr.dtype != dt.np:
        arr = arr.astype(dt.np)
    return _make(arr, dt)


# ---------------------------------------------------------------------------
# binary arithmetic
# ---------------------------------------------------------------------------
class AddBackward0(Node):
    __slots__ = ("alpha",)

    def backward(self, g: Tensor) -> tuple:
        return g, (g if self.alpha == 1 else g * self.alpha)

    def fast(self, g: np.ndarray) -> tuple:
        return g, (g if self.alpha == 1 else g * self.alpha)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        ta, tb = ts
        return tsum(ta, tb if tb is None or self.alpha == 1 else tb * self.alpha)


class SubBackward0(Node):
    __slots__ = ("alpha",)

    def backward(self, g: Any) -> tuple:
        if self.next_functions[1][0] is None:
            return (g,)
        return g, (-g if self.alpha == 1 else g * -self.alpha)

    fast = backward  # the same expression works on arrays

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        ta, tb = ts
        return tsum(ta, None if tb is None else (-tb if self.alpha == 1 else tb * -self.alpha))


class RsubBackward1(Node):
    __slots__ = ()

    def backward(self, g: Any) -> tuple:
        return (-g,)

    fast = backward

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return -ts[0]


class MulBackward0(Node):
    """Saves each operand only if the other one needs its gradient (as PyTorch does)."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        ga = g * _conj(b) if self.next_functions[0][0] is not None else None
        gb = g * _conj(a) if self.next_functions[1][0] is not None else None
        return ga, gb

    def fast(self, g: np.ndarray) -> tuple:
        a, b = self.saved()
        ga = g * np.conj(_arr(b)) if self.next_functions[0][0] is not None else None
        gb = g * np.conj(_arr(a)) if self.next_functions[1][0] is not None else None
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, b), (ta, tb) = ins, ts
        return tsum(None if ta is None else ta * b, None if tb is None else a * tb)


def _arr(x: Any) -> Any:
    return x._data if isinstance(x, Tensor) else x


class DivBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        ga = g / _conj(b) if self.next_functions[0][0] is not None else None
        gb = -g * _conj(a) / _conj(b * b) if self.next_functions[1][0] is not None else None
        return ga, gb

    def fast(self, g: np.ndarray) -> tuple:
        a, b = self.saved()
        a, b = _arr(a), np.conj(_arr(b))
        ga = g / b if self.next_functions[0][0] is not None else None
        gb = -g * np.conj(a) / (b * b) if self.next_functions[1][0] is not None else None
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        ta, tb = ts
        return tsum(ta, None if tb is None else -(tb * out)) / ins[1]


def _conj(x: Any) -> Any:
    return x.conj() if isinstance(x, Tensor) and x._dtype.category == 3 else x


def _check_alpha(alpha: Any, dt: D.dtype) -> None:
    if dt.category < 2 and isinstance(alpha, float):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")


def _check_bool_sub(a: Any, b: Any) -> None:
    """PyTorch refuses subtraction with a bool operand (tensor or, beside a bool tensor, Python bool)."""
    ba = getattr(a, "_dtype", None) is D.bool or type(a) is bool
    bb = getattr(b, "_dtype", None) is D.bool or type(b) is bool
    if ba and bb:
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. "
                           "Use the `^` or `logical_xor()` operator instead.")
    if ba or bb:
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. "
                           "If you are trying to invert a mask, use the `~` or `logical_not()` operator instead.")


@register(inplace=True)
def add(input: Tensor, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input + alpha * other, broadcasting."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", add, input, other, alpha=alpha, out=out)
    xa, xb, dt = _prep(input, other, "add")
    if alpha != 1:
        _check_alpha(alpha, dt)
    res = _finish(np.add(xa, xb) if alpha == 1 else xa + xb * alpha, dt)
    if out is not None:
        return write_out(out, res, "add", (input, other))
    if (_state.enabled and (input._requires_grad or getattr(other, "_requires_grad", False)))\
            or _fw_levels and has_fw(input, other):
        n = AddBackward0()
        n.alpha = alpha
        record(n, res, (input, other))
    return res


@register(inplace=True)
def sub(input: Tensor, other: Any, *, alpha: Any = 1, out: Tensor | None = None) -> Tensor:
    """input - alpha * other, broadcasting."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", sub, input, other, alpha=alpha, out=out)
    _check_bool_sub(input, other)
    xa, xb, dt = _prep(input, other, "sub")
    if alpha != 1:
        _check_alpha(alpha, dt)
    res = _finish(np.subtract(xa, xb) if alpha == 1 else xa - xb * alpha, dt)
    if out is not None:
        return write_out(out, res, "sub", (input, other))
    if (_state.enabled and (input._requires_grad or getattr(other, "_requires_grad", False)))\
            or _fw_levels and has_fw(input, other):
        n = SubBackward0()
        n.alpha = alpha
        record(n, res, (input, other))
    return res


register("subtract", inplace=True)(sub)


def rsub(input: Tensor, other: Any, alpha: Any = 1) -> Tensor:
    """other - alpha * input (used for `scalar - tensor`)."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", rsub, input, other, alpha)
    if isinstance(other, Tensor):
        return sub(other, input, alpha=alpha)
    _check_bool_sub(input, other)
    xa, xb, dt = _prep(input, other, "rsub")
    res = _finish(xb - xa * alpha if alpha != 1 else np.subtract(xb, xa), dt)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        record(RsubBackward1(), res, (input,))
    return res


@register(aliases=("multiply",), inplace=True)
def mul(input: Tensor, other: Any, *, out: Tensor | None = None) -> Tensor:
    """input * other, broadcasting."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", mul, input, other, out=out)
    xa, xb, dt = _prep(input, other, "mul")
    res = _finish(np.multiply(xa, xb), dt)
    if out is not None:
        return write_out(out, res, "mul", (input, other))
    if (_state.enabled and (input._requires_grad or getattr(other, "_requires_grad", False)))\
            or _fw_levels and has_fw(input, other):
        n = MulBackward0()
        n.save(input if getattr(other, "_requires_grad", False) else None,
               other if input._requires_grad else None)
        record(n, res, (input, other))
    return res


_DIV_TRUNC = refusals(not_impl("div_trunc_cpu", "bc"))


@register(aliases=("divide", "true_divide"), inplace=True)
def div(input: Tensor, other: Any, *, rounding_mode: str | None = None, out: Tensor | None = None) -> Tensor:
    """input / other (true division; int / int gives the default float dtype)."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", div, input, other, rounding_mode=rounding_mode, out=out)
    if rounding_mode is not None:
        if rounding_mode in ("floor", "trunc"):
            if rounding_mode == "trunc":
                refuse(_DIV_TRUNC, D.result_dtype(input, other))
            res = floor_divide(input, other) if rounding_mode == "floor" else _int_div(input, other, np.trunc)
            if res._dtype.category >= 2 and grad_needed(input, other) and res.grad_fn is None:
                # PyTorch: a rounded quotient requires grad, with a zero gradient
                record(_ZeroGrad("DivBackward2"), res, (input,) if isinstance(input, Tensor) else ())
            return res
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but "
                           f"found '{rounding_mode}'")
    xa, xb, dt = _prep(input, other, "div")
    if dt.category < 2:
        # int / int: each operand's own values in the default float dtype (not cast to a
        # common integer type first, which would wrap uint8 / negative int8)
        dt = D.get_default_dtype()
        xa = input._data.astype(dt.np)
        xb = other._data.astype(dt.np) if isinstance(other, Tensor) else np.asarray(other, dtype=dt.np)
    res = _finish(np.true_divide(xa, xb), dt)
    if out is not None:
        return write_out(out, res, "div", (input, other))
    if (_state.enabled and (input._requires_grad or getattr(other, "_requires_grad", False)))\
            or _fw_levels and has_fw(input, other):
        n = DivBackward0()
        n.save(input if getattr(other, "_requires_grad", False) else None, other)
        record(n, res, (input, other))
    return res


def _int_div(input: Tensor, other: Any, rounder: Any) -> Tensor:
    xa, xb, dt = _prep(input, other, "div")
    if dt.category < 2:
        if np.any(np.asarray(xb) == 0):
            raise RuntimeError("ZeroDivisionError")
        q = np.floor_divide(xa, xb)
        if rounder is np.trunc:
            r = np.remainder(xa, xb)
            q = q + ((r != 0) & ((xa < 0) != (np.asarray(xb) < 0)))
        return _finish(q, dt)
    return _finish(rounder(np.true_divide(xa, xb)), dt)


@register(inplace=True)
@refuses(not_impl("div_floor_cpu", "bc"), binary=True)
def floor_divide(input: Tensor, other: Any) -> Tensor:
    """Division rounded toward minus infinity (not differentiable)."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", floor_divide, input, other)
    return _int_div(input, other, np.floor)


@register(inplace=True)
@refuses(not_impl("remainder_cpu", "bc"), binary=True)
def remainder(input: Tensor, other: Any) -> Tensor:
    """Python-style modulus (sign of the divisor); gradient 1 for input."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", remainder, input, other)
    if not isinstance(input, Tensor) and isinstance(other, Tensor) and type(input) in _SCALARS:
        input = to_tensor(input, like=other)  # remainder(Number, Tensor)
    xa, xb, dt = _prep(input, other, "remainder")
    if dt.category < 2 and np.any(np.asarray(xb) == 0):
        raise RuntimeError("ZeroDivisionError")
    res = _finish(np.remainder(xa, xb), dt)
    if grad_needed(input, other):
        n = RemainderBackward0()
        n.save(input, other)
        record(n, res, (input, other))
    return res


@register(inplace=True)
@refuses(not_impl("fmod_cpu", "bc"), binary=True)
def fmod(input: Tensor, other: Any) -> Tensor:
    """C-style modulus (sign of the dividend); gradient 1 for input."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", fmod, input, other)
    xa, xb, dt = _prep(input, other, "fmod")
    if dt.category < 2 and np.any(np.asarray(xb) == 0):
        raise RuntimeError("ZeroDivisionError")
    res = _finish(np.fmod(xa, xb), dt)
    if grad_needed(input, other):
        n = FmodBackward0()
        n.save(input, other)
        record(n, res, (input, other))
    return res


class RemainderBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        gb = None
        if self.next_functions[1][0] is not None:
            gb = -g * floor_divide(a, b)
        return g, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, b), (ta, tb) = ins, ts
        return tsum(ta, None if tb is None else -tb * floor_divide(a, b))


class FmodBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        gb = None
        if self.next_functions[1][0] is not None:
            gb = -g * div(a, b, rounding_mode="trunc")
        return g, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, b), (ta, tb) = ins, ts
        return tsum(ta, None if tb is None else -tb * div(a, b, rounding_mode="trunc"))


class PowBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        x, e = self.saved()
        if e == 0:
            return (g * 0,)
        return (g * e * pow(x, e - 1),)

    def fast(self, g: np.ndarray) -> tuple:
        x, e = self.saved()
        if e == 0:
            return (g * 0,)
        x = x._data
        return (g * (e * x if e == 2 else e * np.power(x, e - 1)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, e = ins[0], self.saved()[1]
        return ts[0] * 0 if e == 0 else ts[0] * (e * pow(x, e - 1))


class PowBackward1(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b, out = self.saved()
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = g * b * pow(a, b - 1)
            ga = where(b == 0, 0.0, ga) if isinstance(b, Tensor) else ga
        if self.next_functions[1][0] is not None:
            la = log(a) if isinstance(a, Tensor) else math.log(a) if a > 0 else float("nan")
            gb = g * out * la
            if isinstance(a, Tensor):
                gb = where((a == 0) & (b >= 0), 0.0, gb)
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        a, b, _ = self.saved()  # pow(scalar, tensor) records no edge for the scalar base
        ta, tb = ts
        r = None
        if ta is not None:
            r = ta * (b * pow(a, b - 1))
            r = where(b == 0, 0.0, r) if isinstance(b, Tensor) else r
        if tb is not None:
            la = log(a) if isinstance(a, Tensor) else math.log(a) if a > 0 else float("nan")
            tr = tb * out * la
            r = tsum(r, where((a == 0) & (b >= 0), 0.0, tr) if isinstance(a, Tensor) else tr)
        return r


class PowBackward2(PowBackward1):
    """scalar ** tensor: PyTorch's name for it."""
    __slots__ = ()


def _int_pow(xa: Any, xe: Any) -> np.ndarray:
    # tensor exponents: PyTorch truncates x ** -n to 0, except 1 ** -n = 1 and (-1) ** -n = +-1
    raw = np.power(xa, np.where(xe < 0, 0, xe))
    special = np.where(xa == 1, 1, np.where(xa == -1, np.where(xe % 2 == 0, 1, -1), 0))
    return np.where(xe < 0, special, raw)


@register(inplace=True)
@refuses(not_impl("pow", "b"), binary=True)
def pow(input: Any, exponent: Any) -> Tensor:  # noqa: A001 - PyTorch's name
    """input ** exponent, broadcasting; either side may be a scalar."""
    if _vmap_levels and is_batched(input, exponent):
        return vmap_rule("elementwise", pow, input, exponent)
    if not isinstance(input, Tensor):
        base = input
        input = to_tensor(exponent)
        xb, xe, dt = _prep(input, base, "pow")
        res = _finish(_int_pow(xe, xb) if dt.category == 1 and np.any(xb < 0) else np.power(xe, xb), dt)
        if grad_needed(input):
            n = PowBackward2()
            n.save(base, input, out_ref(res))
            record(n, res, (None, input))
        return res
    xa, xe, dt = _prep(input, exponent, "pow")
    neg_int = dt.category == 1 and np.any(np.asarray(xe) < 0)
    if neg_int and not isinstance(exponent, Tensor):
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    if xe is not exponent and isinstance(exponent, (int, float)) and exponent == 2:
        raw = np.multiply(xa, xa)
    elif neg_int:
        raw = _int_pow(xa, xe)
    else:
        raw = np.power(xa, xe)
    res = _finish(raw, dt)
    if grad_needed(input, exponent):
        if isinstance(exponent, Tensor):
            n = PowBackward1()
            n.save(input, exponent, out_ref(res))
            record(n, res, (input, exponent))
        else:
            n = PowBackward0()
            n.save(input, exponent)
            record(n, res, (input,))
    return res


@register(inplace=True)
def float_power(input: Tensor, exponent: Any) -> Tensor:
    """pow computed in float64 (complex128 for complex)."""
    t = input.to(D.complex128 if input.is_complex() else D.float64) if isinstance(input, Tensor) else input
    e = exponent.to(D.float64) if isinstance(exponent, Tensor) and not exponent.is_complex() else exponent
    return pow(t, e)


class Atan2Backward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        r = a * a + b * b
        return g * b / r, g * -a / r

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, b), (ta, tb) = ins, ts
        return tsum(None if ta is None else ta * b, None if tb is None else -(tb * a)) / (a * a + b * b)


@register(aliases=("arctan2",), inplace=True)
@refuses(not_impl("atan2_cpu", "c"), binary=True)
def atan2(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise angle of (other, input), in (-pi, pi]."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", atan2, input, other)
    other = to_tensor(other)
    xa, xb, dt = _float_prep(input, other, "atan2")
    res = _finish(np.arctan2(xa, xb), dt)
    if grad_needed(input, other):
        n = Atan2Backward0()
        n.save(input, other)
        record(n, res, (input, other))
    return res


class MaximumBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        # ties split the gradient evenly, as PyTorch does
        ga = g * ((a > b).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        gb = g * ((b > a).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _pick_jvp(ins, ts, ins[0] > ins[1])


class MinimumBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        ga = g * ((a < b).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        gb = g * ((b < a).to(g.dtype) + (a == b).to(g.dtype) * 0.5)
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _pick_jvp(ins, ts, ins[0] < ins[1])


def _pick_jvp(ins: tuple, ts: tuple, a_wins: Tensor) -> Any:
    """Tangent of an elementwise max/min: the winner's tangent, the mean of both on ties."""
    (a, b), (ta, tb) = ins, ts
    wa = a_wins.to(a.dtype) + (a == b).to(a.dtype) * 0.5
    return tsum(None if ta is None else ta * wa, None if tb is None else tb * (1 - wa))


def _minmax(input: Tensor, other: Tensor, ufunc: Any, node: type, name: str) -> Tensor:
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", _minmax, input, other, ufunc, node, name)
    check_tensor(other, name, "other", 2)
    if input.is_complex() or other.is_complex():
        raise RuntimeError(f"{name} not implemented for complex tensors.")
    xa, xb, dt = _prep(input, other, name)
    res = _finish(ufunc(xa, xb), dt)
    if grad_needed(input, other):
        n = node()
        n.save(input, other)
        record(n, res, (input, other))
    return res


@register(inplace=True)
def maximum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum (NaN propagates)."""
    return _minmax(input, other, np.maximum, MaximumBackward0, "maximum")


@register(inplace=True)
def minimum(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum (NaN propagates)."""
    return _minmax(input, other, np.minimum, MinimumBackward0, "minimum")


@register()
def fmax(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise maximum ignoring NaN."""
    return _minmax(input, other, np.fmax, MaximumBackward0, "fmax")


@register()
def fmin(input: Tensor, other: Tensor) -> Tensor:
    """Elementwise minimum ignoring NaN."""
    return _minmax(input, other, np.fmin, MinimumBackward0, "fmin")


# ---------------------------------------------------------------------------
# comparisons and logic (results are bool, no gradient)
# ---------------------------------------------------------------------------
def _compare(name: str, ufunc: Any, ordered: bool = False) -> Any:
    """A comparison op; `ordered` ones (lt, le, gt, ge) refuse complex operands as PyTorch does."""
    def op(input: Tensor, other: Any) -> Tensor:
        if _vmap_levels and is_batched(input, other):
            return vmap_rule("elementwise", op, input, other)
        o = _operand(other)
        if o is NotImplemented:
            raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor or Number, not "
                            f"{type(other).__name__}")
        if isinstance(o, Tensor):
            if input._data.shape != o._data.shape:
                broadcast_shapes_or_raise(input._data.shape, o._data.shape)
            return _make(ufunc(input._data, o._data), D.bool)
        return _make(np.asarray(ufunc(input._data, o)), D.bool)
    op.__name__ = name
    op.__doc__ = f"Elementwise {name}, giving a bool tensor."
    return refuses(not_impl(f"{name}_cpu", "c"), binary=True)(op) if ordered else op


eq = register("eq", inplace=True)(_compare("eq", np.equal))
ne = register("ne", aliases=("not_equal",), inplace=True)(_compare("ne", np.not_equal))
lt = register("lt", aliases=("less",), inplace=True)(_compare("lt", np.less, ordered=True))
le = register("le", aliases=("less_equal",), inplace=True)(_compare("le", np.less_equal, ordered=True))
gt = register("gt", aliases=("greater",), inplace=True)(_compare("gt", np.greater, ordered=True))
ge = register("ge", aliases=("greater_equal",), inplace=True)(_compare("ge", np.greater_equal, ordered=True))


def _logical(name: str, ufunc: Any) -> Any:
    def op(input: Tensor, other: Any) -> Tensor:
        if _vmap_levels and is_batched(input, other):
            return vmap_rule("elementwise", op, input, other)
        o = to_tensor(other)
        broadcast_shapes_or_raise(input._data.shape, o._data.shape)
        return _make(ufunc(input._data, o._data), D.bool)
    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of truth values, giving a bool tensor."
    return op


logical_and = register("logical_and", inplace=True)(_logical("logical_and", np.logical_and))
logical_or = register("logical_or", inplace=True)(_logical("logical_or", np.logical_or))
logical_xor = register("logical_xor", inplace=True)(_logical("logical_xor", np.logical_xor))


@register(inplace=True)
def logical_not(input: Tensor) -> Tensor:
    """Elementwise not of truth values."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", logical_not, input)
    return _make(np.logical_not(input._data), D.bool)


def _bitwise(name: str, ufunc: Any, bools: bool = True) -> Any:
    """An integer-only binary op (bools too unless `bools` is False), PyTorch's error for other dtypes."""
    lo = 0 if bools else 1

    def op(input: Tensor, other: Any) -> Tensor:
        if _vmap_levels and is_batched(input, other):
            return vmap_rule("elementwise", op, input, other)
        xa, xb, dt = _prep(input, other, name)
        if not lo <= dt.category <= 1:
            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_cap(dt)}'")
        return _finish(ufunc(xa, xb), dt)
    op.__name__ = name
    op.__doc__ = f"Elementwise {name} of integer{' or bool' if bools else ''} tensors."
    return op


bitwise_and = register("bitwise_and", inplace=True)(_bitwise("bitwise_and", np.bitwise_and))
bitwise_or = register("bitwise_or", inplace=True)(_bitwise("bitwise_or", np.bitwise_or))
bitwise_xor = register("bitwise_xor", inplace=True)(_bitwise("bitwise_xor", np.bitwise_xor))
bitwise_left_shift = register("bitwise_left_shift", inplace=True)(_bitwise("bitwise_left_shift", np.left_shift))
bitwise_right_shift = register("bitwise_right_shift", inplace=True)(_bitwise("bitwise_right_shift", np.right_shift))


@register(inplace=True)
def bitwise_not(input: Tensor) -> Tensor:
    """Elementwise bitwise not (logical not for bool)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", bitwise_not, input)
    if input._dtype.category > 1:
        raise NotImplementedError(f"\"bitwise_not_cpu\" not implemented for '{_cap(input._dtype)}'")
    return _make(np.invert(input._data), input._dtype)


@register()
def isclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
            equal_nan: bool = False) -> Tensor:
    """Elementwise |input - other| <= atol + rtol * |other|."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", isclose, input, other, rtol, atol, equal_nan)
    other = to_tensor(other)
    broadcast_shapes_or_raise(input._data.shape, other._data.shape)
    return _make(np.isclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan), D.bool)


@register()
def allclose(input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08,
             equal_nan: bool = False) -> bool:
    """Whether all elements are close (see isclose)."""
    other = to_tensor(other)
    broadcast_shapes_or_raise(input._data.shape, other._data.shape)
    return bool(np.allclose(input._data, other._data, rtol=rtol, atol=atol, equal_nan=equal_nan))


@register()
def equal(input: Tensor, other: Tensor) -> bool:
    """True when both tensors have the same shape and elements."""
    return input._data.shape == other._data.shape and bool(np.array_equal(input._data, other._data))


@register()
def isnan(input: Tensor) -> Tensor:
    """Elementwise NaN test."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", isnan, input)
    return _make(np.isnan(input._data) if input._dtype.category >= 2 else np.zeros(input._data.shape, bool),
                 D.bool)


@register()
def isinf(input: Tensor) -> Tensor:
    """Elementwise infinity test."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", isinf, input)
    return _make(np.isinf(input._data) if input._dtype.category >= 2 else np.zeros(input._data.shape, bool),
                 D.bool)


@register()
def isfinite(input: Tensor) -> Tensor:
    """Elementwise finiteness test."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", isfinite, input)
    return _make(np.isfinite(input._data) if input._dtype.category >= 2 else np.ones(input._data.shape, bool),
                 D.bool)


@register()
def isposinf(input: Tensor) -> Tensor:
    """Elementwise test for +inf."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", isposinf, input)
    if input._dtype.category == 3:
        raise RuntimeError("isposinf does not support complex inputs.")
    return _make(np.isposinf(input._data) if input._dtype.category == 2 else np.zeros(input._data.shape, bool),
                 D.bool)


@register()
def isneginf(input: Tensor) -> Tensor:
    """Elementwise test for -inf."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", isneginf, input)
    if input._dtype.category == 3:
        raise RuntimeError("isneginf does not support complex inputs.")
    return _make(np.isneginf(input._data) if input._dtype.category == 2 else np.zeros(input._data.shape, bool),
                 D.bool)


@register()
def isreal(input: Tensor) -> Tensor:
    """Elementwise test for a zero imaginary part (all True for real dtypes)."""
    check_tensor(input, "isreal")
    if input._dtype.category == 3:
        return _make(input._data.imag == 0, D.bool)
    return _make(np.ones(input._data.shape, bool), D.bool)


@register()
def signbit(input: Tensor) -> Tensor:
    """Elementwise test of the sign bit (True for -0.0 and negatives)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", signbit, input)
    if input._dtype.category == 3:
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    return _make(np.signbit(input._data), D.bool)


# ---------------------------------------------------------------------------
# unary math: one table row per op (forward kernel, gradient rule, saves)
# ---------------------------------------------------------------------------
class UnaryNode(Node):
    """Gradient of a one-input op: `rule(g, x, out)` from the table below. The same rule
    runs on arrays for the first-order path when it is written with operators only
    (`np_rule` is given where it needs functions)."""

    __slots__ = ()
    rule: Any = None
    np_rule: Any = None
    uses: str = ""

    def backward(self, g: Tensor) -> tuple:
        saved = self.saved()
        x = saved[0] if "x" in self.uses else None
        out = saved[-1] if "o" in self.uses else None
        return (type(self).rule(g, x, out),)

    def fast(self, g: np.ndarray) -> tuple:
        rule = type(self).np_rule
        if rule is None:
            return _unwrap1(self.backward(_make(g, _BY_NP[g.dtype])))
        saved = self.saved()
        x = saved[0]._data if "x" in self.uses else None
        out = saved[-1]._data if "o" in self.uses else None
        return (rule(g, x, out),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        # the rule is g * conj(f'(x)); the tangent is t * f'(x) = conj(rule(conj(t)))
        t, x = ts[0], ins[0]
        if t.is_complex() or x.is_complex():
            return type(self).rule(t.conj(), x, out).conj()
        return type(self).rule(t, x, out)


def _unwrap1(res: tuple) -> tuple:
    return tuple(r._data if r is not None else None for r in res)


def _unary(name: str, kernel: Any, rule: Any, uses: str, node_name: str, float_only: bool = True,
           aliases: tuple = (), np_rule: Any = None, export: bool = True, inplace: bool = True,
           refused: tuple = ()) -> Any:
    """Declare a one-input op from a kernel and a gradient rule `rule(g, x, out)`: builds its Node class
    (`node_name`, saving what `uses` names: "x" the input, "o" the output), its function, and registers
    both with the in-place form (`name_`). The same rule gives the JVP and, written with operators only
    or given as `np_rule`, the first-order rule on arrays. `export=False` leaves it out of the registry
    (for functions only a namespace such as ndgrad.special offers); `refused`: `refusals` rules for
    the dtypes PyTorch's kernel does not take."""
    table = refusals(*refused)
    node_cls = type(node_name, (UnaryNode,), {"__slots__": (), "rule": staticmethod(rule), "uses": uses,
                                              "np_rule": staticmethod(np_rule) if np_rule else None})

    def op(input: Tensor) -> Tensor:
        if _vmap_levels and is_batched(input):
            return vmap_rule("elementwise", op, input)
        if not isinstance(input, Tensor):
            check_tensor(input, name)
        if input._dtype in table:
            refuse(table, input._dtype)
        if float_only:
            dt = input._dtype if input._dtype.category >= 2 else D.get_default_dtype()
            arr = input._data if input._dtype is dt else input._data.astype(dt.np)
            if dt is D.float16 or dt is D.bfloat16:
                arr = arr.astype(np.float32)  # one rounding at the end, as PyTorch's kernels compute
            r = kernel(arr)
            r = r if type(r) is np.ndarray else np.asarray(r)
            res = _make(r if r.dtype == dt.np else r.astype(dt.np), dt)
        else:
            r = np.asarray(kernel(input._data))
            # abs of a complex tensor is real: the kernel's dtype wins when it differs
            res = _make(r, input._dtype if r.dtype == input._data.dtype else _BY_NP[r.dtype])
        if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
            n = node_cls()
            if uses:
                vals = []
                if "x" in uses:
                    vals.append(input)
                if "o" in uses:
                    vals.append(out_ref(res))
                n.save(*vals)
            record(n, res, (input,))
        return res
    op.__name__ = name
    op.__doc__ = f"Elementwise {name}."
    if export:
        register(name, aliases=aliases, inplace=inplace)(op)
    return op


exp = _unary("exp", np.exp, lambda g, x, o: g * o.conj() if o.is_complex() else g * o, "o", "ExpBackward0",
             np_rule=lambda g, x, o: g * np.conj(o))
exp2 = _unary("exp2", np.exp2, lambda g, x, o: g * o * math.log(2.0), "o", "Exp2Backward0")
expm1 = _unary("expm1", np.expm1, lambda g, x, o: g * (o + 1), "o", "Expm1Backward0")
log = _unary("log", np.log, lambda g, x, o: g / x, "x", "LogBackward0", np_rule=lambda g, x, o: g / np.conj(x))
log2 = _unary("log2", np.log2, lambda g, x, o: g / (x * math.log(2.0)), "x", "Log2Backward0")
log10 = _unary("log10", np.log10, lambda g, x, o: g / (x * math.log(10.0)), "x", "Log10Backward0")
log1p = _unary("log1p", np.log1p, lambda g, x, o: g / (x + 1), "x", "Log1PBackward0")
sqrt = _unary("sqrt", np.sqrt, lambda g, x, o: g / (2 * o), "o", "SqrtBackward0",
              np_rule=lambda g, x, o: g / (2 * np.conj(o)))
rsqrt = _unary("rsqrt", lambda a: 1 / np.sqrt(a), lambda g, x, o: g * -0.5 * o * o * o, "o", "RsqrtBackward0")
sin = _unary("sin", np.sin, lambda g, x, o: g * cos(x), "x", "SinBackward0", np_rule=lambda g, x, o: g * np.cos(x))
cos = _unary("cos", np.cos, lambda g, x, o: g * -sin(x), "x", "CosBackward0",
             np_rule=lambda g, x, o: g * -np.sin(x))
tan = _unary("tan", np.tan, lambda g, x, o: g * (1 + o * o), "o", "TanBackward0")
asin = _unary("asin", np.arcsin, lambda g, x, o: g * rsqrt(1 - x * x), "x", "AsinBackward0", aliases=("arcsin",))
acos = _unary("acos", np.arccos, lambda g, x, o: -g * rsqrt(1 - x * x), "x", "AcosBackward0", aliases=("arccos",))
atan = _unary("atan", np.arctan, lambda g, x, o: g / (1 + x * x), "x", "AtanBackward0", aliases=("arctan",))
sinh = _unary("sinh", np.sinh, lambda g, x, o: g * cosh(x), "x", "SinhBackward0")
cosh = _unary("cosh", np.cosh, lambda g, x, o: g * sinh(x), "x", "CoshBackward0")
tanh = _unary("tanh", np.tanh, lambda g, x, o: g * (1 - o * o), "o", "TanhBackward0",
              np_rule=lambda g, x, o: g * (1 - o * o))
asinh = _unary("asinh", np.arcsinh, lambda g, x, o: g * rsqrt(x * x + 1), "x", "AsinhBackward0",
               aliases=("arcsinh",))
acosh = _unary("acosh", np.arccosh, lambda g, x, o: g * rsqrt(x * x - 1), "x", "AcoshBackward0",
               aliases=("arccosh",))
atanh = _unary("atanh", np.arctanh, lambda g, x, o: g / (1 - x * x), "x", "AtanhBackward0",
               aliases=("arctanh",))


def _sigmoid_kernel(a: np.ndarray) -> np.ndarray:
    # 1 / (1 + exp(-a)), in one buffer; overflows harmlessly to 0 for very negative a
    if a.ndim == 0:
        return np.asarray(1 / (1 + np.exp(-a)))
    t = np.negative(a)
    np.exp(t, out=t)
    t += 1
    return np.reciprocal(t, out=t)


def _sigmoid_grad(g: np.ndarray, x: Any, o: np.ndarray) -> np.ndarray:
    # g * (o * (1 - o)) with one buffer instead of three
    t = np.subtract(1, o)
    if t.ndim == 0 or t.dtype != o.dtype:
        return g * (o * (1 - o))
    np.multiply(t, o, out=t)
    if g.shape == t.shape and np.result_type(g, t) == t.dtype:
        return np.multiply(t, g, out=t)
    return g * t


sigmoid = _unary("sigmoid", _sigmoid_kernel, lambda g, x, o: g * o * (1 - o), "o", "SigmoidBackward0",
                 np_rule=_sigmoid_grad)


def f64_kernel(fn: Any) -> Any:
    """A float64 special-function kernel applied to any float array, the result in the input's dtype."""
    def kernel(a: np.ndarray) -> np.ndarray:
        return fn(a.astype(np.float64, copy=False)).astype(a.dtype, copy=False)
    return kernel


def _erf_kernel(a: np.ndarray) -> np.ndarray:
    # float32 (and float16/bfloat16, computed in float32) results need only the cheaper fit
    return _sf.erf(a, single=a.dtype.itemsize <= 4).astype(a.dtype, copy=False)


erf = _unary("erf", _erf_kernel, lambda g, x, o: g * (2 / math.sqrt(math.pi)) * exp(-x * x), "x",
             "ErfBackward0", refused=(not_impl("erf_vml_cpu", "c"),))
erfc = _unary("erfc", f64_kernel(_sf.erfc),
              lambda g, x, o: g * (-2 / math.sqrt(math.pi)) * exp(-x * x), "x", "ErfcBackward0",
              refused=(not_impl("erfc_vml_cpu", "c"),))
erfinv = _unary("erfinv", f64_kernel(_sf.erfinv), lambda g, x, o: g * (math.sqrt(math.pi) / 2) * exp(o * o), "o",
                "ErfinvBackward0", refused=(not_impl("erfinv_vml_cpu", "c"),))
reciprocal = _unary("reciprocal", lambda a: 1 / a, lambda g, x, o: -g * o * o, "o", "ReciprocalBackward0")


def _relu_kernel(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return np.maximum(a, 0)


relu = _unary("relu", _relu_kernel, lambda g, x, o: g * (o > 0).to(g.dtype), "o", "ReluBackward0",
              float_only=False, np_rule=lambda g, x, o: np.where(o > 0, g, np.zeros((), g.dtype)),
              refused=(("c", NotImplementedError, "clamp is not supported for complex types"),))


def _abs_kernel(a: np.ndarray) -> np.ndarray:
    if a.dtype.kind == "b":
        raise NotImplementedError("\"abs_cpu\" not implemented for 'Bool'")
    return np.abs(a)


def _neg_kernel(a: np.ndarray) -> np.ndarray:
    if a.dtype == np.bool_:
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return np.negative(a)


neg = _unary("neg", _neg_kernel, lambda g, x, o: -g, "", "NegBackward0", float_only=False, aliases=("negative",),
             np_rule=lambda g, x, o: -g)


@register()
def positive(input: Tensor) -> Tensor:
    """`+input`: input itself (booleans have no unary plus)."""
    if input._dtype is D.bool:
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


abs = _unary("abs", _abs_kernel, lambda g, x, o: g * sgn(x), "x", "AbsBackward0", float_only=False,  # noqa: A001
             aliases=("absolute",), np_rule=lambda g, x, o: g * np.sign(x))
square = _unary("square", np.square, lambda g, x, o: g * 2 * x, "x", "PowBackward0", float_only=False,
                np_rule=lambda g, x, o: g * (2 * x))


@register(inplace=True)
def sign(input: Tensor) -> Tensor:
    """Elementwise sign (-1, 0, 1); zero gradient."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", sign, input)
    if input._dtype.category == 3:
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                                  "torch.sgn instead.")
    if input._dtype is D.bool:
        return _make(input._data.copy(), D.bool)
    res = _make(np.sign(input._data), input._dtype)
    if grad_needed(input):
        record(_ZeroGrad("SignBackward0"), res, (input,))
    return res


@register(inplace=True)
def sgn(input: Tensor) -> Tensor:
    """sign for real tensors; z/|z| for complex ones."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", sgn, input)
    if input.is_complex():
        a = np.abs(input._data)
        res = _make(np.where(a == 0, 0, input._data / np.where(a == 0, 1, a)).astype(input._data.dtype),
                    input._dtype)
        if grad_needed(input):
            n = SgnBackward0()
            n.save(input, out_ref(res))
            record(n, res, (input,))
        return res
    return sign(input)


class SgnBackward0(Node):
    """s = z / |z|: ds = (dz - s Re(conj(s) dz)) / |z|, so grad_z = (g - s Re(conj(g) s)) / |z| (0 at z = 0)."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        z, s = self.saved()
        r = abs(z)
        zero = r == 0
        gz = (g - s * real(g.conj() * s)) / where(zero, 1.0, r)
        return (where(zero, 0.0, gz),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        z, t = ins[0], ts[0]
        r = abs(z)
        zero = r == 0
        return where(zero, 0.0, (t - out * real(out.conj() * t)) / where(zero, 1.0, r))


class _ZeroGradNode(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (g * 0,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0] * 0


_ZERO_NODES: dict = {}


def _ZeroGrad(name: str) -> Node:
    cls = _ZERO_NODES.get(name)
    if cls is None:
        cls = _ZERO_NODES[name] = type(name, (_ZeroGradNode,), {"__slots__": ()})
    return cls()


def _rounding(name: str, kernel: Any, node: str) -> Any:
    def op(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if _vmap_levels and is_batched(input):
            return vmap_rule("elementwise", op, input, *args, **kwargs)
        if input._dtype is D.bool:
            raise NotImplementedError(f"\"{name}_vml_cpu\" not implemented for 'Bool'")
        if input._dtype.category == 3:
            raise NotImplementedError(f"{name} is not supported for complex inputs" if name != "round" else
                                      f"\"round_vml_cpu\" not implemented for '{_cap(input._dtype)}'")
        if input._dtype.category < 2:
            if (args and args[0]) or kwargs.get("decimals"):
                raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{_cap(input._dtype)}'")
            return _make(input._data.copy(), input._dtype)
        res = _make(kernel(input._data, *args, **kwargs), input._dtype)
        if grad_needed(input):
            record(_ZeroGrad(node), res, (input,))
        return res
    op.__name__ = name
    op.__doc__ = f"Elementwise {name}; zero gradient."
    register(name, inplace=True)(op)
    return op


floor = _rounding("floor", np.floor, "FloorBackward0")
ceil = _rounding("ceil", np.ceil, "CeilBackward0")
trunc = _rounding("trunc", np.trunc, "TruncBackward0")
register("fix", inplace=True)(trunc)


def _round_kernel(a: np.ndarray, decimals: int = 0) -> np.ndarray:
    return np.round(a, decimals)


round = _rounding("round", _round_kernel, "RoundBackward0")  # noqa: A001


class FracBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (g,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0]


@register(inplace=True)
def frac(input: Tensor) -> Tensor:
    """input - trunc(input)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", frac, input)
    if input._dtype.category != 2:
        raise NotImplementedError(f"\"frac_cpu\" not implemented for '{_cap(input._dtype)}'")
    res = _make(input._data - np.trunc(input._data), input._dtype)
    if grad_needed(input):
        record(FracBackward0(), res, (input,))
    return res


class ClampBackward1(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (g * self._mask(g.dtype),)

    def _mask(self, dt: D.dtype) -> Tensor:
        x, lo, hi = self.saved()
        mask = np.ones(x._data.shape, bool)
        if lo is not None:
            mask &= x._data >= (lo._data if isinstance(lo, Tensor) else lo)
        if hi is not None:
            mask &= x._data <= (hi._data if isinstance(hi, Tensor) else hi)
        return _make(mask, D.bool).to(dt)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0] * self._mask(ts[0].dtype)


@register(aliases=("clip",), inplace=True)
@refuses(("c", NotImplementedError, "clamp is not supported for complex types"))
def clamp(input: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002
    """Clamp every element into [min, max]; gradient passes where not clamped."""
    if _vmap_levels and is_batched(input, min, max):
        return vmap_rule("elementwise", clamp, input, min, max)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    for bound in (min, max):
        if isinstance(bound, Tensor):
            broadcast_shapes_or_raise(input._data.shape, bound._data.shape)
    if grad_needed(min, max):
        # tensor bounds that require grad: min(max(x, lo), hi) with ties going to x, as in PyTorch
        out = input if min is None else where(input >= min, input, min)
        return out if max is None else where(out <= max, out, max)
    operands = [input] + [v for v in (min, max) if v is not None]
    dt = D.result_dtype(*operands)
    a = input._data if input._dtype is dt else input._data.astype(dt.np)
    lo = min._data if isinstance(min, Tensor) else min
    hi = max._data if isinstance(max, Tensor) else max
    if lo is not None:
        a = np.maximum(a, lo)
        if isinstance(lo, float) and math.isnan(lo):
            a = np.full_like(a, np.nan)
    if hi is not None:
        a = np.minimum(a, hi)
    res = _finish(a, dt)
    if grad_needed(input):
        n = ClampBackward1()
        n.save(input, min, max)
        record(n, res, (input,))
    return res


@register(inplace=True)
@refuses(("c", NotImplementedError, "clamp is not supported for complex types"))
def clamp_min(input: Tensor, min: Any) -> Tensor:  # noqa: A002
    """clamp with a lower bound only."""
    return clamp(input, min=min)


@register(inplace=True)
@refuses(("c", NotImplementedError, "clamp is not supported for complex types"))
def clamp_max(input: Tensor, max: Any) -> Tensor:  # noqa: A002
    """clamp with an upper bound only."""
    return clamp(input, max=max)


@register(inplace=True)
def nan_to_num(input: Tensor, nan: float = 0.0, posinf: float | None = None, neginf: float | None = None) -> Tensor:
    """Replace NaN and infinities by finite numbers (gradient passes where finite)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", nan_to_num, input, nan, posinf, neginf)
    res = _make(np.nan_to_num(input._data, nan=nan, posinf=posinf, neginf=neginf), input._dtype)
    if grad_needed(input):
        n = _MaskGrad()
        n.save(input)
        record(n, res, (input,))
    return res


class _MaskGrad(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved()
        return (g * _make(np.isfinite(x._data), D.bool).to(g.dtype),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return self.backward(ts[0])[0]  # a diagonal mask: the same as the gradient rule


_MaskGrad.__name__ = "NanToNumBackward0"


class WhereBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        (cond,) = self.saved()
        z = g * 0
        return None, where(cond, g, z), where(cond, z, g)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        _, ta, tb = ts
        return where(ins[0], 0.0 if ta is None else ta, 0.0 if tb is None else tb)


@register(method=False)
def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """Elements of input where condition holds, else of other; `where(cond)` is nonzero(as_tuple)."""
    if _vmap_levels and is_batched(condition, input, other) and not (input is None and other is None):
        return vmap_rule("elementwise", where, condition, input, other)
    if input is None and other is None:
        from .indexing import nonzero
        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        raise TypeError(f"where(): argument 'condition' (position 1) must be Tensor, not "
                        f"{type(condition).__name__}")
    if condition._dtype is not D.bool and condition._dtype is not D.uint8:
        raise RuntimeError(f"where expected condition to be a boolean tensor, but got a tensor with "
                           f"dtype {_cap(condition._dtype)}")
    ops = [o for o in (input, other) if o is not None]
    dt = D.result_dtype(*ops)
    xa = input._data.astype(dt.np, copy=False) if isinstance(input, Tensor) else np.asarray(input, dt.np)
    xb = other._data.astype(dt.np, copy=False) if isinstance(other, Tensor) else np.asarray(other, dt.np)
    shape = broadcast_shapes_or_raise(condition._data.shape, broadcast_shapes_or_raise(xa.shape, xb.shape))
    del shape
    res = _make(np.where(condition._data, xa, xb), dt)
    if grad_needed(input, other):
        n = WhereBackward0()
        n.save(condition)
        record(n, res, (condition, input, other))
    return res


def _where_method(self: Tensor, condition: Tensor, other: Any) -> Tensor:
    """`x.where(condition, y)`: x where condition holds, else y (the method puts self first)."""
    return where(condition, self, other)


_where_method.__name__ = "where"
Tensor.where = _where_method


# lerp, addcmul, addcdiv: PyTorch runs each as one kernel and records one node; their values are the
# composite's (computed graph-free), their gradients the closed forms below
class LerpBackward0(Node):
    """lerp with a scalar weight w: d/d input = 1 - w, d/d end = w."""
    __slots__ = ("weight",)

    def backward(self, g: Tensor) -> tuple:
        w = self.weight
        nf = self.next_functions
        return (g * _conj(1 - w) if nf[0][0] is not None else None, g * _conj(w) if nf[1][0] is not None else None)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        w = self.weight
        return tsum(None if ts[0] is None else ts[0] * (1 - w), None if ts[1] is None else ts[1] * w)


class LerpBackward1(Node):
    """lerp with a tensor weight W: d/d input = 1 - W, d/d end = W, d/d weight = end - input."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        x, e, w = self.saved()
        nf = self.next_functions
        return (g * _conj(1 - w) if nf[0][0] is not None else None,
                g * _conj(w) if nf[1][0] is not None else None,
                g * _conj(e - x) if nf[2][0] is not None else None)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, e, w = ins
        return tsum(None if ts[0] is None else ts[0] * (1 - w), None if ts[1] is None else ts[1] * w,
                    None if ts[2] is None else ts[2] * (e - x))


@register(inplace=True)
def lerp(input: Tensor, end: Tensor, weight: Any) -> Tensor:
    """input + weight * (end - input)."""
    for arg, t in (("end", end), ("weight", weight)):
        if isinstance(t, Tensor) and t._dtype is not input._dtype:
            from .linalg import c_name
            raise RuntimeError(f"expected dtype {c_name(input._dtype)} for `{arg}` but got dtype {c_name(t._dtype)}")
    if not grad_needed(input, end, weight) or _vmap_levels and is_batched(input, end, weight):
        return input + weight * (end - input)
    x, e, w = graph_free(input, end, weight)
    res = x + w * (e - x)
    if isinstance(weight, Tensor):
        n = LerpBackward1()
        n.save(input, end, weight)
        return record(n, res, (input, end, weight))
    n = LerpBackward0()
    n.weight = weight
    return record(n, res, (input, end))


class AddcmulBackward0(Node):
    """input + value * tensor1 * tensor2."""
    __slots__ = ("value",)

    def backward(self, g: Tensor) -> tuple:
        t1, t2 = self.saved()
        nf = self.next_functions
        return (g if nf[0][0] is not None else None,
                g * _conj(t2 * self.value) if nf[1][0] is not None else None,
                g * _conj(t1 * self.value) if nf[2][0] is not None else None)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        _, t1, t2 = ins
        return tsum(ts[0], None if ts[1] is None else ts[1] * t2 * self.value,
                    None if ts[2] is None else t1 * ts[2] * self.value)


@register(inplace=True)
def addcmul(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 * tensor2."""
    if not grad_needed(input, tensor1, tensor2) or _vmap_levels and is_batched(input, tensor1, tensor2):
        return input + value * tensor1 * tensor2
    x, a, b = graph_free(input, tensor1, tensor2)
    n = AddcmulBackward0()
    n.value = value
    n.save(tensor1, tensor2)
    return record(n, x + value * a * b, (input, tensor1, tensor2))


class AddcdivBackward0(Node):
    """input + value * tensor1 / tensor2."""
    __slots__ = ("value",)

    def backward(self, g: Tensor) -> tuple:
        t1, t2 = self.saved()
        nf = self.next_functions
        return (g if nf[0][0] is not None else None,
                g * _conj(self.value / t2) if nf[1][0] is not None else None,
                -g * _conj(self.value * t1 / (t2 * t2)) if nf[2][0] is not None else None)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        _, t1, t2 = ins
        return tsum(ts[0], None if ts[1] is None else ts[1] * self.value / t2,
                    None if ts[2] is None else -(ts[2] * self.value * t1 / (t2 * t2)))


@register(inplace=True)
def addcdiv(input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """input + value * tensor1 / tensor2."""
    if all(isinstance(t, Tensor) and t._dtype.category < 2 for t in (tensor1, tensor2)):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can be "
                           "implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    if not grad_needed(input, tensor1, tensor2) or _vmap_levels and is_batched(input, tensor1, tensor2):
        return input + value * tensor1 / tensor2
    x, a, b = graph_free(input, tensor1, tensor2)
    n = AddcdivBackward0()
    n.value = value
    n.save(tensor1, tensor2)
    return record(n, x + value * a / b, (input, tensor1, tensor2))


@register(inplace=True)
@refuses(not_impl("hypot_cpu", "bic"), binary=True)
def hypot(input: Tensor, other: Tensor) -> Tensor:
    """sqrt(input**2 + other**2), without overflow in the squares."""
    return _float_binary(input, other, "hypot", np.hypot, HypotBackward0)


def _float_binary(input: Tensor, other: Tensor, name: str, kernel: Any, node: type) -> Tensor:
    """A float-valued binary op on two tensors: `kernel` on the operands in the compute dtype,
    `node` (saving input, other and the result) for the gradient."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", lambda a, b: _float_binary(a, b, name, kernel, node), input, other)
    check_tensor(input, name)
    if not isinstance(other, Tensor):
        raise TypeError(f"{name}(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    xa, xb, dt = _float_prep(input, other, name)
    res = _finish(kernel(xa, xb), dt)
    if grad_needed(input, other):
        n = node()
        n.save(input, other, out_ref(res))
        record(n, res, (input, other))
    return res


class HypotBackward0(Node):
    """d/da = a / out, d/db = b / out."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b, out = self.saved()
        return g * a / out, g * b / out

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, b), (ta, tb) = ins, ts
        return tsum(None if ta is None else ta * a, None if tb is None else tb * b) / out


class LogaddexpBackward0(Node):
    """d/da = 1 / (1 + base^(b - a)), d/db = 1 / (1 + base^(a - b)) (base e; 2 for logaddexp2)."""
    __slots__ = ()
    power = staticmethod(lambda t: exp(t))

    def _weights(self, a: Tensor, b: Tensor) -> tuple:
        p = type(self).power
        return 1 / (1 + p(b - a)), 1 / (1 + p(a - b))

    def backward(self, g: Tensor) -> tuple:
        a, b, _ = self.saved()
        wa, wb = self._weights(a, b)
        return g * wa, g * wb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, b), (ta, tb) = ins, ts
        wa, wb = self._weights(a, b)
        return tsum(None if ta is None else ta * wa, None if tb is None else tb * wb)


class Logaddexp2Backward0(LogaddexpBackward0):
    __slots__ = ()
    power = staticmethod(lambda t: exp2(t))


@register()
@refuses(not_impl("logaddexp_cpu", "bi"), binary=True)
def logaddexp(input: Tensor, other: Tensor) -> Tensor:
    """log(exp(input) + exp(other)), computed stably."""
    if input.is_complex() or other.is_complex():  # composite: the larger real part factored out
        m = where(real(input) >= real(other), input, other).detach()
        m = where(isfinite(m), m, m * 0)
        return m + log(exp(input - m) + exp(other - m))
    return _float_binary(input, other, "logaddexp", np.logaddexp, LogaddexpBackward0)


@register()
@refuses(not_impl("logaddexp2_cpu", "bic"), binary=True)
def logaddexp2(input: Tensor, other: Tensor) -> Tensor:
    """log2(2**input + 2**other), computed stably."""
    return _float_binary(input, other, "logaddexp2", np.logaddexp2, Logaddexp2Backward0)


@register(inplace=True)
def ldexp(input: Tensor, other: Tensor) -> Tensor:
    """input * 2**other."""
    from ..autograd.graph import rename_grad_fn
    res = mul(input, exp2(to_tensor(other)))
    rename_grad_fn(res, "LdexpBackward0")
    return res


class FrexpBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        (e,) = self.saved()
        return (g * exp2(-e.to(g.dtype)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return self.backward(ts[0])[0]


@register()
def frexp(input: Tensor) -> tuple:
    """(mantissa, exponent) with input = mantissa * 2**exponent and 0.5 <= |mantissa| < 1."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", frexp, input)
    if input._dtype.category != 2:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = np.frexp(input._data)
    mant, expo = _make(m, input._dtype), _make(e.astype(np.int32), D.int32)
    if grad_needed(input):
        n = FrexpBackward0()
        n.save(expo)
        record(n, mant, (input,))
    from .reduction import return_type
    return return_type("frexp", ("mantissa", "exponent"))(mant, expo)


def _same_float_binary(input: Tensor, other: Tensor, name: str) -> tuple:
    o = to_tensor(other, like=input)
    broadcast_shapes_or_raise(input._data.shape, o._data.shape)
    return input, o


class NextafterBackward0(Node):
    """PyTorch's rule: the gradient passes to input unchanged; other gets none."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return g, g * 0

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0]


@register(inplace=True)
def nextafter(input: Tensor, other: Tensor) -> Tensor:
    """The next representable float after input in the direction of other."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", nextafter, input, other)
    input, o = _same_float_binary(input, other, "nextafter")
    dt = D.result_dtype(input, o)
    if dt.category != 2:
        raise NotImplementedError(f"\"nextafter_cpu\" not implemented for '{_cap(dt)}'")
    res = _make(np.nextafter(input._data.astype(dt.np), o._data.astype(dt.np)), dt)
    if grad_needed(input, o):
        record(NextafterBackward0(), res, (input, o))
    return res


@register(inplace=True)
def heaviside(input: Tensor, values: Tensor) -> Tensor:
    """Step function: 0 below zero, 1 above, `values` at zero (no gradient)."""
    if _vmap_levels and is_batched(input, values):
        return vmap_rule("elementwise", heaviside, input, values)
    input, v = _same_float_binary(input, values, "heaviside")
    if input._dtype is not v._dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if input._dtype.category == 3:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    return _make(np.asarray(np.heaviside(input._data, v._data)).astype(input._data.dtype), input._dtype)


gcd = register("gcd", inplace=True)(_bitwise("gcd", np.gcd, bools=False))
lcm = register("lcm", inplace=True)(_bitwise("lcm", np.lcm, bools=False))


class AngleBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        (z,) = self.saved()
        if not z.is_complex():
            return (g * 0,)
        # d angle = (x dy - y dx) / |z|^2: PyTorch's gradient for z is g * i z / |z|^2
        return (g * (z * 1j) / (real(z) * real(z) + imag(z) * imag(z)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        z, t = ins[0], ts[0]
        if not z.is_complex():
            return t * 0
        return imag(z.conj() * t) / (real(z) * real(z) + imag(z) * imag(z))


@register()
def angle(input: Tensor) -> Tensor:
    """Argument of complex elements; pi for negative reals, 0 otherwise (NaN stays NaN)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", angle, input)
    if input._dtype.category == 3:
        res = _make(np.angle(input._data), input._dtype.to_real())
    else:
        a = input._data
        dt = float_dtype_for(input)
        r = np.where(a < 0, np.pi, 0.0)
        if a.dtype.kind == "f":
            r = np.where(np.isnan(a), np.nan, r)
        res = _make(r.astype(dt.np), dt)
    if grad_needed(input):
        n = AngleBackward0()
        n.save(input)
        record(n, res, (input,))
    return res


def _xlog(input: Any, other: Any, name: str, logf: Any, node: type) -> Tensor:
    """input * logf(other), 0 where input is 0 (unless other is NaN); integer inputs in the default float dtype."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", _xlog, input, other, name, logf, node)
    input = to_tensor(input)
    other = to_tensor(other, like=input)
    xa, xb, dt = _prep(input, other, name)
    if dt.category < 2:  # NumPy would compute log of uint8/int8 in float16
        dt = D.get_default_dtype()
        xa, xb = input._data.astype(dt.np), other._data.astype(dt.np)
    with np.errstate(all="ignore"):
        r = np.where((xa == 0) & ~np.isnan(xb), 0.0, xa * logf(xb))
    res = _finish(r, dt)
    if grad_needed(input, other):
        n = node()
        n.save(input, other)
        record(n, res, (input, other))
    return res


@register(inplace=True)
@refuses(not_impl("xlogy_cpu", "c"), binary=True)
def xlogy(input: Any, other: Any) -> Tensor:
    """input * log(other), 0 where input is 0."""
    return _xlog(input, other, "xlogy", np.log, XlogyBackward0)


def xlog1py(input: Any, other: Any) -> Tensor:
    """input * log1p(other), 0 where input is 0 (ndgrad.special.xlog1py)."""
    return _xlog(input, other, "xlog1py", np.log1p, SpecialXlog1PyBackward0)


class XlogyBackward0(Node):
    """d/dx = log(y) (0 where x and y are both 0, as PyTorch defines it); d/dy = x / y."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved()
        gx = gy = None
        if self.next_functions[0][0] is not None:
            gx = g * where((x == 0) & (y == 0), 0.0, log(y))
        if self.next_functions[1][0] is not None:
            gy = g * x / y
        return gx, gy

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x, y), (tx, ty) = ins, ts
        return tsum(None if tx is None else tx * where((x == 0) & (y == 0), 0.0, log(y)),
                    None if ty is None else ty * x / y)


class SpecialXlog1PyBackward0(Node):
    """d/dx = log1p(y) (0 where x = 0 and y = -1); d/dy = x / (1 + y)."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        x, y = self.saved()
        gx = gy = None
        if self.next_functions[0][0] is not None:
            gx = g * where((x == 0) & (y == -1), 0.0, log1p(y))
        if self.next_functions[1][0] is not None:
            gy = g * x / (y + 1)
        return gx, gy

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x, y), (tx, ty) = ins, ts
        return tsum(None if tx is None else tx * where((x == 0) & (y == -1), 0.0, log1p(y)),
                    None if ty is None else ty * x / (y + 1))


@register(inplace=True)
@refuses(not_impl("copysign_cpu", "c"), binary=True)
def copysign(input: Tensor, other: Any) -> Tensor:
    """|input| with the sign of other."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", copysign, input, other)
    check_tensor(input, "copysign")
    xa, xb, dt = _float_prep(input, other, "copysign")
    res = _finish(np.copysign(xa, xb), dt)
    if grad_needed(input, other):
        n = CopysignBackward0() if isinstance(other, Tensor) else CopysignBackward1()
        n.save(input, out_ref(res))
        record(n, res, (input, other) if isinstance(other, Tensor) else (input,))
    return res


class CopysignBackward1(Node):
    """d/dinput = out / input (the sign flip; 0 at input = 0); a scalar other takes none."""
    __slots__ = ()

    def _factor(self, x: Tensor, out: Tensor) -> Tensor:
        return where(x == 0, 0.0, out / where(x == 0, 1.0, x))

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        return (g * self._factor(x, out),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0] * self._factor(ins[0], out)


class CopysignBackward0(CopysignBackward1):
    """As CopysignBackward1; the tensor `other` gets a zero gradient (as in PyTorch)."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        return g * self._factor(x, out), g * 0

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0] * self._factor(ins[0], out) if ts[0] is not None else out * 0


@register(inplace=True)
@refuses(("c", RuntimeError, "deg2rad is not supported for complex tensors."))
def deg2rad(input: Tensor) -> Tensor:
    """Degrees to radians."""
    return input * (math.pi / 180)


@register(inplace=True)
@refuses(("c", RuntimeError, "rad2deg is not supported for complex tensors."))
def rad2deg(input: Tensor) -> Tensor:
    """Radians to degrees."""
    return input * (180 / math.pi)


@register(inplace=True)
def sinc(input: Tensor) -> Tensor:
    """sin(pi x) / (pi x), 1 at 0."""
    px = input * math.pi
    safe = where(px == 0, 1.0, px)
    return where(px == 0, 1.0, sin(safe) / safe)


@register(inplace=True)
@refuses(not_impl("logit_cpu", "c"))
def logit(input: Tensor, eps: float | None = None) -> Tensor:
    """log(p / (1 - p)), with p clamped to [eps, 1 - eps] when eps is given."""
    if input._dtype.category < 2:
        input = input.to(D.get_default_dtype())
    x = input if eps is None else clamp(input, eps, 1 - eps)
    return log(x / (1 - x))


@register()
def conj(input: Tensor) -> Tensor:
    """Complex conjugate (identity for real tensors)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", conj, input)
    if input._dtype.category != 3:
        return input
    res = _make(np.conj(input._data), input._dtype)
    if grad_needed(input):
        record(ConjBackward0(), res, (input,))
    return res


class ConjBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (conj(g),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return conj(ts[0])


class RealBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (g,)  # the engine widens it to the complex input's dtype

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return real(ts[0])


class ImagBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (g * 1j,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return imag(ts[0]) if ts[0].is_complex() else ts[0] * 0


def _real_imag(name: str, kernel: Any) -> Any:
    node = RealBackward0 if name == "real" else ImagBackward0

    def op(input: Tensor) -> Tensor:
        if _vmap_levels and is_batched(input):
            return vmap_rule("elementwise", op, input)
        if input._dtype.category != 3:
            if name == "imag":
                raise RuntimeError("imag is not implemented for tensors with non-complex dtypes.")
            return input
        res = _make(kernel(input._data), input._dtype.to_real())
        if grad_needed(input):
            record(node(), res, (input,))
        return res
    op.__name__ = name
    register(name)(op)
    return op


real = _real_imag("real", np.real)
imag = _real_imag("imag", np.imag)
Tensor.real = property(real)  # attributes on tensors, functions in the namespace (as in PyTorch)
Tensor.imag = property(imag)


# ---------------------------------------------------------------------------
# out= and in-place support
# ---------------------------------------------------------------------------
_cap = cap_name = D.scalar_name
