"""Normalization layers PyTorch runs as one kernel each, so one node each here.

layer_norm (NativeLayerNormBackward0): the composite mean / subtract / square / mean / rsqrt / multiply /
add records seven nodes and keeps five activation-sized temporaries alive for backward; the fused node
saves its input and two per-row statistics, and its backward is three passes over the rows.

Each node has a `fast` first-order rule on arrays and a `backward` written with ndgrad ops (so
create_graph and gradgradcheck work), plus its JVP rule. float16/bfloat16 inputs are computed in float32
and rounded once, as PyTorch's kernels do.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import _fw_levels, _make, _state, _vmap_levels, has_fw, in_float32, is_batched, record, tsum, upcast


def _row_dot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Sum over the last axis of a * b, keeping it (one pass, no temporary)."""
    return np.einsum("ij,ij->i", a, b)[:, None]


def _check_params(input: Tensor, weight: Tensor | None, bias: Tensor | None) -> None:
    """PyTorch's CPU norm kernels take parameters of the input's dtype (float32 ones for a
    float16/bfloat16 input as well)."""
    dt = input._dtype
    for p in (weight, bias):
        if p is None or p._dtype is dt:
            continue
        if dt.np.char in "eE":
            if p._dtype is not D.float32:
                raise RuntimeError("mixed dtype (CPU): expect parameter to have scalar type of Float")
        else:
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")


# ---------------------------------------------------------------------------
# the rules on Tensors, shared: y = xhat * w + b with xhat = (x - mean) / sqrt(var + eps), the
# statistics over `_axes(x)`, w and b viewed as `_pshape(x)`
# ---------------------------------------------------------------------------
class _NormNode(Node):
    """A normalisation node: next_functions (input, weight, bias); saved input, weight, bias first."""

    __slots__ = ("eps",)

    def _axes(self, x: Tensor) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def _pshape(self, x: Tensor) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def _xhat(self, x: Tensor) -> tuple:
        axes = self._axes(x)
        xc = x - x.mean(axes, keepdim=True)
        rstd = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
        return xc * rstd, rstd

    def backward(self, g: Tensor) -> tuple:
        x, w, b = self.saved()[:3]
        axes, ps = self._axes(x), self._pshape(x)
        xhat, rstd = self._xhat(x)
        red = tuple(i for i, s in enumerate(ps) if s == 1)  # the axes the parameters are broadcast over
        nf = self.next_functions
        gw = (g * xhat).sum(red).reshape(w.shape) if w is not None and nf[1][0] is not None else None
        gb = g.sum(red).reshape(b.shape) if b is not None and nf[2][0] is not None else None
        gx = None
        if nf[0][0] is not None:
            gh = g * w.reshape(ps) if w is not None else g
            gx = rstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
        return gx, gw, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, w, b = ins
        tx, tw, tb = ts
        axes, ps = self._axes(x), self._pshape(x)
        xhat, rstd = self._xhat(x)
        dh = None
        if tx is not None:
            tc = tx - tx.mean(axes, keepdim=True)
            dh = rstd * (tc - xhat * (xhat * tc).mean(axes, keepdim=True))
            if w is not None:
                dh = dh * w.reshape(ps)
        return tsum(dh, None if tw is None else xhat * tw.reshape(ps), None if tb is None else tb.reshape(ps))


# ---------------------------------------------------------------------------
# layer_norm
# ---------------------------------------------------------------------------
class NativeLayerNormBackward0(_NormNode):
    """One node for layer_norm over the trailing `k` dims: saves the input, its per-row mean and
    1/std, and the affine parameters."""

    __slots__ = ("k",)

    def _axes(self, x: Tensor) -> tuple:
        nd = x._data.ndim
        return tuple(range(nd - self.k, nd))

    def _pshape(self, x: Tensor) -> tuple:
        nd = x._data.ndim
        return (1,) * (nd - self.k) + x._data.shape[nd - self.k:]

    def fast(self, g: np.ndarray) -> tuple:
        x, w, b, mean, rstd = self.saved()
        out_dt = x._data.dtype
        D_ = int(np.prod(x._data.shape[x._data.ndim - self.k:]))
        x2 = upcast(x._data).reshape(-1, D_)
        g2 = upcast(g).reshape(-1, D_)
        xhat = x2 - mean
        xhat *= rstd
        nf = self.next_functions
        gw = gb = gx = None
        if w is not None and nf[1][0] is not None:
            gw = np.einsum("ij,ij->j", g2, xhat).reshape(w._data.shape)
        if b is not None and nf[2][0] is not None:
            gb = g2.sum(0).reshape(b._data.shape)
        if nf[0][0] is not None:
            gh = g2 * upcast(w._data).reshape(1, D_) if w is not None else g2.copy()
            a = gh.mean(1, keepdims=True)
            c = _row_dot(gh, xhat)
            c /= D_
            xhat *= c
            gh -= a
            gh -= xhat
            gh *= rstd
            gx = gh.reshape(x._data.shape)
            if gx.dtype != out_dt:
                gx = gx.astype(out_dt)
        return gx, gw, gb


@in_float32
def _layer_norm_composite(input: Tensor, k: int, weight: Tensor | None, bias: Tensor | None, eps: float) -> Tensor:
    """layer_norm from elementary ops: under vmap, whose batching rules know those ops."""
    axes = tuple(range(input.dim() - k, input.dim()))
    xc = input - input.mean(axes, keepdim=True)
    out = xc * ((xc * xc).mean(axes, keepdim=True) + eps).rsqrt()
    if weight is not None:
        out = out * weight
    return out + bias if bias is not None else out


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing `normalized_shape` dims, then scale by weight and shift by bias."""
    if _vmap_levels and is_batched(input, weight, bias):
        k = 1 if isinstance(normalized_shape, int) else len(normalized_shape)
        return _layer_norm_composite(input, k, weight, bias, eps)
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    ns = tuple(int(s) for s in normalized_shape)
    k = len(ns)
    shape = input._data.shape
    if k == 0 or len(shape) < k or tuple(shape[-k:]) != ns:
        raise RuntimeError(f"Given normalized_shape={list(ns)}, expected input with shape "
                           f"[*, {', '.join(str(s) for s in ns)}], but got input of size{list(shape)}")
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and tuple(p._data.shape) != ns:
            raise RuntimeError(f"Expected {name} to be of same shape as normalized_shape, but got {name} of shape "
                               f"{list(p._data.shape)} and normalized_shape = {list(ns)}")
    dt = input._dtype
    if dt.category != 2:
        raise NotImplementedError(f"\"LayerNormKernelImpl\" not implemented for '{D.scalar_name(dt)}'")
    _check_params(input, weight, bias)
    D_ = int(np.prod(ns))
    x2 = upcast(input._data).reshape(-1, D_)
    mean = x2.mean(1, keepdims=True)
    out = x2 - mean
    var = _row_dot(out, out)
    var /= D_
    var += eps
    rstd = np.sqrt(var, out=var)
    np.divide(1.0, rstd, out=rstd)
    out *= rstd
    if weight is not None:
        out *= upcast(weight._data).reshape(1, D_)
    if bias is not None:
        out += upcast(bias._data).reshape(1, D_)
    out = out.reshape(shape)
    res = _make(out if out.dtype == dt.np else out.astype(dt.np), dt)
    if _state.enabled and (input._requires_grad or (weight is not None and weight._requires_grad)
                           or (bias is not None and bias._requires_grad)) or _fw_levels and has_fw(input, weight, bias):
        n = NativeLayerNormBackward0()
        n.k, n.eps = k, eps
        n.save(input, weight, bias, mean, rstd)
        record(n, res, (input, weight, bias))
    return res


# ---------------------------------------------------------------------------
# batch_norm in training mode (NativeBatchNormBackward0)
# ---------------------------------------------------------------------------
def update_running(running_mean: Tensor | None, running_var: Tensor | None, batch_mean: np.ndarray,
                   batch_var: np.ndarray, momentum: float | None) -> None:
    """running = (1 - m) * running + m * batch, in place, outside autograd (bumps the version counters)."""
    m = 0.1 if momentum is None else momentum
    for run, new in ((running_mean, batch_mean), (running_var, batch_var)):
        if run is not None:
            r = run._data
            r *= (1 - m)
            r += (m * new).astype(r.dtype, copy=False)
            run._version[0] += 1


class NativeBatchNormBackward0(_NormNode):
    """One node for batch_norm with batch statistics: the composite records seven nodes and keeps four
    input-sized temporaries for backward; this one saves the input and per-channel mean and 1/std.
    y = x * scale + shift per channel (two passes); the input gradient is likewise g * k1 + x * k2 + k3
    per channel, after two reductions."""

    __slots__ = ()

    def _axes(self, x: Tensor) -> tuple:
        return (0,) + tuple(range(2, x._data.ndim))

    def _pshape(self, x: Tensor) -> tuple:
        return (1, x._data.shape[1]) + (1,) * (x._data.ndim - 2)

    def fast(self, g: np.ndarray) -> tuple:
        x, w, b, mean, rstd = self.saved()
        xa = upcast(x._data)
        N, C = xa.shape[:2]
        x3 = xa.reshape(N, C, -1)
        g3 = upcast(g).reshape(N, C, -1)
        M = x3.shape[0] * x3.shape[2]
        sg = np.einsum("ncs->c", g3)  # sum of g per channel
        sgx = np.einsum("ncs,ncs->c", g3, x3)  # sum of g * x per channel
        gw_full = (sgx - mean * sg) * rstd  # sum of g * xhat
        nf = self.next_functions
        gw = gw_full.astype(w._data.dtype) if w is not None and nf[1][0] is not None else None
        gb = sg.astype(b._data.dtype) if b is not None and nf[2][0] is not None else None
        gx = None
        if nf[0][0] is not None:
            wa = upcast(w._data).astype(xa.dtype, copy=False) if w is not None else np.ones(C, xa.dtype)
            # gx = w rstd (g - sg / M - xhat gw_full / M), xhat = (x - mean) rstd
            k1 = wa * rstd
            k2 = -k1 * rstd * gw_full / M
            k3 = -k1 * sg / M - k2 * mean
            gx = g3 * k1[:, None]
            gx += x3 * k2[:, None]
            gx += k3[:, None]
            gx = gx.reshape(x._data.shape).astype(x._data.dtype, copy=False)
        return gx, gw, gb


def batch_norm_train(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
                     weight: Tensor | None, bias: Tensor | None, momentum: float | None, eps: float) -> Tensor:
    """batch_norm with the batch's statistics (channels on dim 1), updating the running ones."""
    xa = upcast(input._data)
    shape = xa.shape
    N, C = shape[:2]
    x3 = xa.reshape(N, C, -1)
    M = N * x3.shape[2]
    mean = np.einsum("ncs->c", x3) / M
    xc = x3 - mean[:, None]
    var = np.einsum("ncs,ncs->c", xc, xc) / M
    del xc
    if running_mean is not None or running_var is not None:
        update_running(running_mean, running_var, mean, var * (M / (M - 1)), momentum)
    rstd = 1.0 / np.sqrt(var + eps)
    scale = rstd * upcast(weight._data).astype(xa.dtype, copy=False) if weight is not None else rstd
    shift = -mean * scale
    if bias is not None:
        shift += upcast(bias._data)
    out = x3 * scale[:, None]
    out += shift[:, None]
    dt = input._dtype
    res = _make(out.reshape(shape).astype(dt.np, copy=False), dt)
    if _state.enabled and (input._requires_grad or (weight is not None and weight._requires_grad)
                           or (bias is not None and bias._requires_grad)) or _fw_levels and has_fw(input, weight, bias):
        n = NativeBatchNormBackward0()
        n.eps = eps
        n.save(input, weight, bias, mean.astype(xa.dtype), rstd.astype(xa.dtype))
        record(n, res, (input, weight, bias))
    return res
