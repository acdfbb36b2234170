"""Activations PyTorch runs as one kernel each, so one node each here: gelu, softmax, log_softmax.

Every node keeps a differentiable `backward` (written with ndgrad ops, so create_graph and
gradgradcheck work) and a `fast` first-order rule on raw arrays. Reasons for fusing, besides matching
PyTorch's graph (`GeluBackward0`, `SoftmaxBackward0`, `LogSoftmaxBackward0`):
  * gelu: the composite x * (erf(x / sqrt 2) + 1) / 2 records five nodes and keeps four temporaries
    alive for backward; fused it saves only its input;
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
def _cdf(x: np.ndarray) -> np.ndarray:
    """Phi(x), the standard normal CDF, in x's dtype (float32 or float64)."""
    single = x.dtype != np.float64
    z = x.astype(np.float64) if single else x
    c = _sf.erf(z * _SQRT1_2, single=single)
    c += 1.0
    c *= 0.5
    return c.astype(np.float32) if single else c


def _gelu_np(x: np.ndarray, approximate: str) -> np.ndarray:
    if x.ndim == 0:  # the in-place steps below need arrays, not NumPy scalars
        return _gelu_np(x.reshape(1), approximate).reshape(())
    if approximate == "none":
        out = _cdf(x)
        out *= x
        return out
    inner = x * x
    inner *= _TANH_C * _SQRT_2_PI
    inner += _SQRT_2_PI
    inner *= x
    t = np.tanh(inner, out=inner)
    t += 1.0
    t *= 0.5
    t *= x
    return t


def _gelu_grad_np(g: np.ndarray, x: np.ndarray, approximate: str) -> np.ndarray:
    if x.ndim == 0:
        return _gelu_grad_np(g.reshape(1), x.reshape(1), approximate).reshape(())
    if approximate == "none":
        # Phi(x) + x phi(x)
        d = x * x
        d *= -0.5
        np.exp(d, out=d)
        d *= _INV_SQRT_2PI
        d *= x
        d += _cdf(x)
    else:
        # with u = sqrt(2/pi) (x + c x^3) and t = tanh(u): (1 + t) / 2 + x (1 - t^2) u' / 2
        x2 = x * x
        t = x2 * (_TANH_C * _SQRT_2_PI)
        t += _SQRT_2_PI
        t *= x
        np.tanh(t, out=t)
        du = x2
        du *= 3 * _TANH_C * _SQRT_2_PI
        du += _SQRT_2_PI
        d = t * t
        np.subtract(1.0, d, out=d)
        d *= du
        d *= x
        d += t
        d += 1.0
        d *= 0.5
    d *= g
    return d


class GeluBackward0(Node):
    """One node for gelu, saving only its input (see the module docstring)."""

    __slots__ = ("approximate",)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved()
        if self.approximate == "none":
            cdf = ((x * _SQRT1_2).erf() + 1.0) * 0.5
            pdf = (x * x * -0.5).exp() * _INV_SQRT_2PI
            return (g * (cdf + x * pdf),)
        inner = (x + x * x * x * _TANH_C) * _SQRT_2_PI
        t = inner.tanh()
        du = (x * x * (3 * _TANH_C) + 1.0) * _SQRT_2_PI
        return (g * ((t + 1.0) * 0.5 + x * (1.0 - t * t) * du * 0.5),)

    def fast(self, g: np.ndarray) -> tuple:
        x = self.saved()[0]._data
        low = x.dtype.char in "eE"
        r = _gelu_grad_np(upcast(g), upcast(x), self.approximate)
        return (r.astype(x.dtype) if low else r,)

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
    r = _gelu_np(upcast(x), approximate)
    res = _make(r.astype(x.dtype) if r.dtype != x.dtype else r, input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = GeluBackward0()
        n.approximate = approximate
        n.save(input)
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
    if input._dtype.category < 2:
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

