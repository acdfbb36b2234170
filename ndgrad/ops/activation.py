"""Activations PyTorch runs as one kernel each, so one node each here: gelu, softmax, log_softmax.

Every node keeps a differentiable `backward` (written with ndgrad ops, so create_graph and
gradgradcheck work) and a `fast` first-order rule on raw arrays. Reasons for fusing, besides matching
PyTorch's graph (`GeluBackward0`, `SoftmaxBackward0`, `LogSoftmaxBackward0`):
  * gelu: the composite x * (erf(x / sqrt 2) + 1) / 2 records five nodes and keeps four temporaries
    alive for backward; fused, the forward also computes the derivative (sharing exp(-x^2 / 2)) and
    the backward is one multiplication;
  * softmax / log_softmax: shifting by the maximum in one step keeps them finite for large logits,
    and the gradients need only the saved output.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _specfun as _sf
from ._core import (_fw_levels, _make, _state, _vmap_levels, check_tensor, has_fw, is_batched, out_ref, record,
                    register, upcast, vmap_rule, wrap_dim)

_SQRT1_2 = 0.7071067811865476
_SQRT_2_PI = 0.7978845608028654  # sqrt(2 / pi)
_INV_SQRT_2PI = 0.3989422804014327  # 1 / sqrt(2 pi)
_TANH_C = 0.044715


# ---------------------------------------------------------------------------
# gelu
# ---------------------------------------------------------------------------
# float32: 0.5 erfc(|x| / sqrt 2) = 0.5 t P(t) exp(-x^2 / 2), t = 1 / (1 + p |x| / sqrt 2), with the
# coefficients of Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7 in erf, the accuracy of
# PyTorch's vectorised CPU erf). Its exp(-x^2 / 2) is phi(x) up to a constant, so the derivative
# Phi(x) + x phi(x) costs three more passes. float64 uses the float64 erf (gradcheck needs it).
_AS_P = np.float32(0.3275911 * _SQRT1_2)
_AS_A = tuple(np.float32(c) for c in (1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592))


def _cdf_and_pdf(x: np.ndarray) -> tuple:
    """(Phi(x), exp(-x^2 / 2)) for a float32 or float64 array."""
    e = x * x
    e *= -0.5
    np.exp(e, out=e)
    if x.dtype != np.float32:
        c = _sf.erf(x * _SQRT1_2)
        c += 1.0
        c *= 0.5
        return c, e
    t = np.abs(x)
    t *= _AS_P
    t += 1.0
    np.reciprocal(t, out=t)
    r = t * _AS_A[0]
    for a in _AS_A[1:]:
        r += a
        r *= t
    r *= e
    r *= -0.5  # -0.5 erfc(|x| / sqrt 2) = -Phi(-|x|)
    r += 0.5
    np.copysign(r, x, out=r)  # 0.5 - Phi(-|x|) with x's sign (equal at x = +-0): Phi(x) - 0.5
    r += 0.5
    return r, e


def _gelu_np(x: np.ndarray, approximate: str, grad: bool) -> tuple:
    """(gelu(x), its derivative if `grad` else None) for a float32 or float64 array."""
    if x.ndim == 0:  # the in-place steps below need arrays, not NumPy scalars
        out, d = _gelu_np(x.reshape(1), approximate, grad)
        return out.reshape(()), (d.reshape(()) if grad else None)
    if approximate == "none":
        cdf, e = _cdf_and_pdf(x)
        out = x * cdf
        if not grad:
            return out, None
        e *= _INV_SQRT_2PI  # Phi(x) + x phi(x)
        e *= x
        e += cdf
        return out, e
    # with u = sqrt(2/pi) (x + c x^3) and t = tanh(u): gelu = x (1 + t) / 2,
    # gelu' = (1 + t) / 2 + x (1 - t^2) u' / 2
    x2 = x * x
    t = x2 * (_TANH_C * _SQRT_2_PI)
    t += _SQRT_2_PI
    t *= x
    np.tanh(t, out=t)
    half = t + 1.0
    half *= 0.5
    out = half * x
    if not grad:
        return out, None
    x2 *= 3 * _TANH_C * _SQRT_2_PI
    x2 += _SQRT_2_PI
    np.multiply(t, t, out=t)
    np.subtract(1.0, t, out=t)
    t *= x2
    t *= x
    t *= 0.5
    t += half
    return out, t


class GeluBackward0(Node):
    """One node for gelu, saving its input (for the differentiable rule) and its derivative, computed
    by the forward at the cost of a few passes (see the module docstring)."""

    __slots__ = ("approximate",)

    def backward(self, g: Tensor) -> tuple:
        x = self.saved()[0]
        if self.approximate == "none":
            cdf = ((x * _SQRT1_2).erf() + 1.0) * 0.5
            pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
            return (g * (cdf + x * pdf),)
        inner = (x + x * x * x * _TANH_C) * _SQRT_2_PI
        t = inner.tanh()
        du = (x * x * (3 * _TANH_C) + 1.0) * _SQRT_2_PI
        return (g * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * du * 0.5),)

    def fast(self, g: np.ndarray) -> tuple:
        x, d = self.saved()
        r = upcast(g) * d
        return (r.astype(x._data.dtype) if x._data.dtype.char in "eE" else r,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return self.backward(ts[0])[0]  # elementwise: the tangent scales by the same derivative


@register(method=False, function=False)
def gelu(input: Tensor, approximate: str = "none") -> Tensor:
    """x * Phi(x) (exact, with erf) or its tanh approximation; float16/bfloat16 computed in float32."""
    check_tensor(input, "gelu")
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", gelu, input, approximate=approximate)
    if approximate not in ("none", "tanh"):
        raise RuntimeError("approximate argument must be either none or tanh.")
    if input._dtype.category < 2:
        raise RuntimeError(f"\"GeluKernelImpl\" not implemented for '{D.scalar_name(input._dtype)}'")
    x = input._data
    grad = _state.enabled and input._requires_grad or bool(_fw_levels and has_fw(input))
    r, d = _gelu_np(upcast(x), approximate, grad)
    res = _make(r.astype(x.dtype) if r.dtype != x.dtype else r, input._dtype)
    if grad:
        n = GeluBackward0()
        n.approximate = approximate
        n.save(input, d)  # (a plain array: released with the graph's saved values after backward)
        record(n, res, (input,))
    return res


# ---------------------------------------------------------------------------
# softmax family
# ---------------------------------------------------------------------------
def _softmax_dim(ndim: int) -> int:
    warnings.warn("Implicit dimension choice for softmax has been deprecated. Change the call to include "
                  "dim=X as an argument.", stacklevel=4)
    return 0 if ndim in (0, 1, 3) else 1


def _prep_softmax(input: Tensor, dim: Any, dtype: Any, fn: str) -> tuple:
    check_tensor(input, fn)
    if dtype is not None:
        input = input.to(dtype)
    if input._dtype.category != 2:
        raise NotImplementedError(f'"{fn}_lastdim_kernel_impl" not implemented for '
                                  f"'{D.scalar_name(input._dtype)}'")
    if dim is None:
        dim = _softmax_dim(input._data.ndim)
    axis = wrap_dim(dim, input._data.ndim)
    return input, axis


def _shifted(x: np.ndarray, axis: int) -> np.ndarray:
    """x minus its maximum along axis (a new array); an all -inf or inf slice is shifted by 0."""
    m = x.max(axis=axis, keepdims=True)
    if not np.isfinite(m).all():
        m = np.where(np.isfinite(m), m, 0).astype(x.dtype, copy=False)
    return np.subtract(x, m)


def np_log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """log_softmax on an array (a new array)."""
    if x.ndim == 0:
        return np.zeros_like(x)
    s = _shifted(x, axis)
    e = np.exp(s)
    lse = np.log(e.sum(axis=axis, keepdims=True))
    s -= lse
    return s


def np_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """softmax on an array (a new array)."""
    if x.ndim == 0:
        return np.ones_like(x)
    e = _shifted(x, axis)
    np.exp(e, out=e)
    e /= e.sum(axis=axis, keepdims=True)
    return e


class LogSoftmaxBackward0(Node):
    """g - softmax * sum(g): needs only the saved output."""

    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> tuple:
        (out,) = self.saved()
        if out._data.ndim == 0:
            return (g * 0,)
        return (g - out.exp() * g.sum(self.dim, keepdim=True),)

    def fast(self, g: np.ndarray) -> tuple:
        out = self.saved()[0]._data
        if out.ndim == 0:
            return (g * 0,)
        r = np.exp(out)
        r *= g.sum(self.dim, keepdims=True)
        np.subtract(g, r, out=r)
        return (r,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        t = ts[0]  # t - sum(softmax * t)
        return t * 0 if out._data.ndim == 0 else t - (out.exp() * t).sum(self.dim, keepdim=True)


class SoftmaxBackward0(Node):
    """out * (g - sum(g * out)): needs only the saved output."""

    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> tuple:
        (out,) = self.saved()
        if out._data.ndim == 0:
            return (g * 0,)
        return (out * (g - (g * out).sum(self.dim, keepdim=True)),)

    def fast(self, g: np.ndarray) -> tuple:
        out = self.saved()[0]._data
        if out.ndim == 0:
            return (g * 0,)
        r = g * out
        s = r.sum(self.dim, keepdims=True)
        r -= out * s
        return (r,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        t = ts[0]  # the Jacobian is symmetric: the same expression as the gradient
        return t * 0 if out._data.ndim == 0 else out * (t - (t * out).sum(self.dim, keepdim=True))


def _softmax_family(input: Tensor, dim: Any, dtype: Any, name: str, kernel: Any, node: type) -> Tensor:
    if _vmap_levels and is_batched(input):
        return vmap_rule("softmax", _softmax_family, input, dim, dtype, name, kernel, node)
    input, axis = _prep_softmax(input, dim, dtype, name)
    r = kernel(upcast(input._data), axis)  # float16/bfloat16: computed in float32, rounded once
    res = _make(r if r.dtype == input._dtype.np else r.astype(input._dtype.np), input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = node()
        n.dim = axis
        n.save(out_ref(res))
        record(n, res, (input,))
    return res


@register()
def log_softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """log(softmax(input)) along dim, computed stably (torch.log_softmax / Tensor.log_softmax)."""
    return _softmax_family(input, dim, dtype, "log_softmax", np_log_softmax, LogSoftmaxBackward0)


@register()
def softmax(input: Tensor, dim: int | None = None, dtype: Any = None) -> Tensor:
    """exp(input) normalised to sum to 1 along dim (torch.softmax / Tensor.softmax)."""
    return _softmax_family(input, dim, dtype, "softmax", np_softmax, SoftmaxBackward0)


def softmin(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """softmax(-input) along dim."""
    check_tensor(input, "softmin")
    if dim is None:
        dim = _softmax_dim(input._data.ndim)
    return softmax(-input, dim, dtype=dtype)

