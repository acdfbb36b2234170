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
# layer_norm
# ---------------------------------------------------------------------------
class NativeLayerNormBackward0(Node):
    """One node for layer_norm over the trailing `k` dims: saves the input, its per-row mean and
    1/std, and the affine parameters; next_functions are (input, weight, bias)."""

    __slots__ = ("k", "eps")

    def _axes(self, x: Tensor) -> tuple:
        nd = x._data.ndim
        return tuple(range(nd - self.k, nd))

    def backward(self, g: Tensor) -> tuple:
        x, w, b = self.saved()[:3]
        axes = self._axes(x)
        xc = x - x.mean(axes, keepdim=True)
        rstd = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
        xhat = xc * rstd
        nf = self.next_functions
        lead = tuple(range(x._data.ndim - self.k))
        gw = (g * xhat).sum(lead) if w is not None and nf[1][0] is not None else None
        gb = g.sum(lead) if b is not None and nf[2][0] is not None else None
        gx = None
        if nf[0][0] is not None:
            gh = g * w if w is not None else g
            gx = rstd * (gh - gh.mean(axes, keepdim=True) - xhat * (gh * xhat).mean(axes, keepdim=True))
        return gx, gw, gb

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

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, w, b = ins
        tx, tw, tb = ts
        axes = self._axes(x)
        xc = x - x.mean(axes, keepdim=True)
        rstd = ((xc * xc).mean(axes, keepdim=True) + self.eps).rsqrt()
        xhat = xc * rstd
        dh = None
        if tx is not None:
            tc = tx - tx.mean(axes, keepdim=True)
            dh = rstd * (tc - xhat * (xhat * tc).mean(axes, keepdim=True))
            if w is not None:
                dh = dh * w
        return tsum(dh, None if tw is None else xhat * tw, tb)


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
