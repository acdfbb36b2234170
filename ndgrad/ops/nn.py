"""Neural-network kernels: convolution, pooling, padding, interpolation, dropout, attention.

Convolution and pooling are fused primitives, for speed: one im2col copy
(`sliding_window_view`, or for stride 1 a strided view of the flat padded input whose
rows are contiguous runs) feeds per-sample BLAS matmuls; big layers work on batch
chunks so the im2col temporaries stay bounded. Everything stays in the input's dtype
(float32 in, float32 temporaries). Temporaries that never leave a kernel live in
bounded per-thread scratch buffers (`_scratch`, `_take`/`_give`): fresh pages for them
cost a page fault each, which measured as ~40% of a LeNet training step.
Their gradient rules call other primitives of the same closed family, so they are
differentiable again (double backward, gradgradcheck):

    conv(x, w)            grad x -> conv_input_grad(g, w)     grad w -> conv_weight_grad(x, g)
    conv_input_grad(g, w) grad g -> conv(gy, w)               grad w -> conv_weight_grad(gy, g)
    conv_weight_grad(x,g) grad x -> conv_input_grad(g, gW)    grad g -> conv(x, gW)

`conv_input_grad` is the transposed convolution (public `conv_transpose*d`).
Sum/average pooling and its transpose form the same kind of pair; max pooling
scatters to the saved argmax indices, and its transpose gathers from them. Padding,
interpolation, adaptive average pooling and attention are compositions of
differentiable ops (index_select, matmul, softmax) and need no rule of their own.

This module loads with ndgrad.nn, not with `import ndgrad`; its registered kernels are declared
without a torch./Tensor. export (nn.functional re-exports them; ndgrad._aten gives the torch.* forms).
"""
from __future__ import annotations

import functools
import math
import threading
import warnings
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import as_strided, sliding_window_view

from .. import _dtype as D
from .._creation import zeros
from .._tensor import Tensor
from ..autograd.graph import Node, rename_grad_fn
from ._core import (_fw_levels, _make, _state, autocast_op, check_tensor, has_fw, is_float_array, record, record_many,
                    register, tsum)
from ._core import _vmap_levels, is_batched, vmap_rule
from .activation import softmax
from .inplace import apply_inplace
from .shape import cat

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
           "max_pool1d", "max_pool2d", "max_pool3d", "max_pool1d_with_indices", "max_pool2d_with_indices",
           "max_pool3d_with_indices", "avg_pool1d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool1d",
           "adaptive_avg_pool2d", "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool2d",
           "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d_with_indices",
           "adaptive_max_pool3d_with_indices", "pad", "interpolate", "upsample", "upsample_nearest",
           "upsample_bilinear", "scaled_dot_product_attention", "unfold", "fold", "lp_pool1d", "lp_pool2d",
           "lp_pool3d", "pixel_shuffle", "pixel_unshuffle", "max_unpool1d", "max_unpool2d", "max_unpool3d",
           "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices", "multi_head_attention_forward", "dropout", "ctc_loss_raw",
           "affine_grid", "grid_sample"]


# ---------------------------------------------------------------------------
# argument helpers
# ---------------------------------------------------------------------------
def _ntuple(v: Any, n: int, name: str = "", fn: str = "") -> tuple:
    if isinstance(v, Tensor):
        v = v.tolist()
    if isinstance(v, (int, np.integer)):
        return (int(v),) * n
    v = tuple(int(a) for a in v)
    if len(v) == 1:
        return v * n
    if len(v) != n:
        if fn == "conv":
            raise RuntimeError(f"expected {name} to be a single integer value or a list of {n} values to match "
                               f"the convolution dimensions, but got {name}={list(v)}")
        words = {1: "one int", 2: "two ints", 3: "three ints"}
        raise RuntimeError(f"{fn}: {name} must either be a single int, or a tuple of {words.get(n, f'{n} ints')}")
    return v


def _prod(s: Sequence) -> int:
    p = 1
    for a in s:
        p *= int(a)
    return p


def _shape_str(s: Sequence) -> str:
    return "[" + ", ".join(str(a) for a in s) + "]"


def _dtype_name(t: Tensor) -> str:
    return {"float32": "Float", "float64": "Double", "float16": "Half", "bfloat16": "BFloat16",
            "int64": "Long", "int32": "Int"}.get(t._dtype.name, t._dtype.name)


# ---------------------------------------------------------------------------
# raw array kernels
# ---------------------------------------------------------------------------
class _P:
    """Convolution geometry: stride, (lo, hi) padding per spatial dim, dilation, groups."""

    __slots__ = ("stride", "pad", "dilation", "groups")

    def __init__(self, stride: tuple, pad: tuple, dilation: tuple, groups: int) -> None:
        self.stride, self.pad, self.dilation, self.groups = stride, pad, dilation, groups


def _zero_pad(x: np.ndarray, pad: tuple, lead: int = 2) -> np.ndarray:
    if not any(lo or hi for lo, hi in pad):
        return x
    shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[lead:], pad))
    out = np.zeros(shape, x.dtype)
    out[(slice(None),) * lead + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[lead:], pad))] = x
    return out


def _windows(xp: np.ndarray, k: tuple, stride: tuple, dil: tuple, out_sp: tuple | None = None) -> np.ndarray:
    """View (N, C, *Out, *K) of the windows of a padded (N, C, *S) array."""
    nd = len(k)
    eff = tuple((kk - 1) * d + 1 for kk, d in zip(k, dil))
    win = sliding_window_view(xp, eff, axis=tuple(range(2, 2 + nd)))
    sl = [slice(None), slice(None)]
    for i, s in enumerate(stride):
        sl.append(slice(None, None if out_sp is None else (out_sp[i] - 1) * s + 1, s))
    sl += [slice(None, None, d) for d in dil]
    return win[tuple(sl)]


# Scratch memory. A LeNet step allocates tens of MB of short-lived im2col / col2im
# temporaries; fresh pages cost a page fault each (measured ~40% of a step's CPU time),
# so the kernels reuse per-thread buffers for temporaries that never leave them, and a
# small free-list for the forward's columns (kept for the weight gradient, handed back
# once that is computed). Both are bounded; anything over the bound is a plain allocation.
_WS = threading.local()
_WS_BYTES = 1 << 26  # per thread, per store
_WS_ONE = 1 << 25  # larger temporaries are plain allocations


def _store(name: str) -> dict:
    d = getattr(_WS, name, None)
    if d is None:
        d = {}
        setattr(_WS, name, d)
    return d


def _scratch(key: tuple, shape: tuple, dtype: Any, zero: bool = False) -> np.ndarray:
    """A reusable buffer for a temporary that does not outlive the calling kernel (`zero`:
    zero-filled when first made; callers that need zeros rely on never writing there)."""
    d = _store("scratch")
    k = (key, shape, np.dtype(dtype))
    a = d.get(k)
    if a is None:
        a = np.zeros(shape, dtype) if zero else np.empty(shape, dtype)
        if a.nbytes + sum(v.nbytes for v in d.values()) > _WS_BYTES:
            d.clear()
        if a.nbytes <= _WS_ONE:
            d[k] = a
    return a


def _take(shape: tuple, dtype: Any) -> np.ndarray:
    lst = _store("free").get((shape, np.dtype(dtype)))
    return lst.pop() if lst else np.empty(shape, dtype)


def _give(a: np.ndarray | None) -> None:
    """Hand back a `_take` buffer that nothing references any more."""
    if a is None or a.base is not None or a.nbytes > _WS_ONE:
        return
    d = _store("free")
    lst = d.setdefault((a.shape, a.dtype), [])
    if len(lst) < 2 and a.nbytes + sum(b.nbytes for v in d.values() for b in v) <= _WS_BYTES:
        lst.append(a)


def _flat_ok(sp: tuple, k: tuple, p: _P) -> bool:
    """Use padded-row columns: stride 1 and at most 25% wasted columns."""
    if any(s != 1 for s in p.stride):
        return False
    sp_pad = tuple(s + lo + hi for s, (lo, hi) in zip(sp, p.pad))
    natural = tuple(sp_pad[i] - (k[i] - 1) * p.dilation[i] for i in range(len(k)))
    return _prod(sp_pad[1:]) <= 1.25 * _prod(natural[1:])


def _padded_flat(x: np.ndarray, k: tuple, p: _P) -> tuple:
    """x (N, C, *S) zero-padded into a scratch (N, C, prod(padded) + slack), the slack
    letting every kernel offset read a full run; also the padded shape and row strides."""
    nd = len(k)
    N, C = x.shape[:2]
    sp_pad = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], p.pad))
    sf = [_prod(sp_pad[i + 1:]) for i in range(nd)]
    total = _prod(sp_pad)
    slack = sum((k[i] - 1) * p.dilation[i] * sf[i] for i in range(1, nd))
    # zero when made; later calls only rewrite the interior, so the border stays zero
    buf = _scratch(("pad", x.shape, p.pad), (N, C, total + slack), x.dtype, zero=True)
    buf[:, :, :total].reshape((N, C) + sp_pad)[(slice(None), slice(None)) + tuple(
        slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], p.pad))] = x
    return buf, sp_pad, sf, total, slack


def _im2col(x: np.ndarray, k: tuple, p: _P, out_sp: tuple | None = None) -> tuple:
    """Columns (N, G, Cg*prod(K), L) for batched BLAS matmuls, the output spatial shape, and
    whether the columns are on padded rows. The buffer comes from `_take` (hand it back
    with `_give`).

    Per-sample products (Og x CgK) @ (CgK x L) keep OpenBLAS on small single-threaded
    GEMMs, which measured faster (and far steadier on a loaded 2-core machine) than one
    skinny (Og x CgK) @ (CgK x N*L) product with a transposed output copy.

    Stride 1 (unless that wastes > 25% columns) uses "padded rows": L = Out[0] * prod(padded
    input dims 1..), so each column row is ONE contiguous run of the flat padded input (a
    long-run copy); the extra columns (past Out[i] in dims >= 1) are cropped from the
    product and meet zeros in the gradient (`_g_rows`)."""
    nd = len(k)
    N, C = x.shape[:2]
    G = p.groups
    CgK = (C // G) * _prod(k)
    if _flat_ok(x.shape[2:], k, p):
        buf, sp_pad, sf, _, _ = _padded_flat(x, k, p)
        natural = tuple(sp_pad[i] - (k[i] - 1) * p.dilation[i] for i in range(nd))
        osp = natural if out_sp is None else tuple(out_sp)
        Lp = osp[0] * sf[0]
        it = buf.itemsize
        view = as_strided(buf, (N, C) + tuple(k) + (Lp,), buf.strides[:2] + tuple(
            p.dilation[i] * sf[i] * it for i in range(nd)) + (it,), writeable=False)
        cols = _take((N, G, CgK, Lp), x.dtype)
        np.copyto(cols.reshape((N, C) + tuple(k) + (Lp,)), view)
        return cols, osp, True
    win = _windows(_zero_pad(x, p.pad), k, p.stride, p.dilation, out_sp)  # (N, C, *Out, *K)
    osp = win.shape[2:2 + nd]
    cols = _take((N, G, CgK, _prod(osp)), x.dtype)
    np.copyto(cols.reshape((N, C) + tuple(k) + tuple(osp)),
              win.transpose((0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))))
    return cols, osp, False


def _row_shape(osp: tuple, sp_pad: tuple) -> tuple:
    return (osp[0],) + tuple(sp_pad[1:])


def _g_rows(g: np.ndarray, rows: tuple) -> np.ndarray:
    """g (N, O, *Out) -> (N, O, *rows) with zeros past Out[i] for padded rows (see _im2col);
    a scratch buffer unless rows == Out (then g itself)."""
    osp = tuple(g.shape[2:])
    if tuple(rows) == osp:
        return g
    buf = _scratch(("g", osp), g.shape[:2] + tuple(rows), g.dtype, zero=True)
    # zero when made; only the leading Out[i] are ever rewritten, so the rest stays zero
    buf[(slice(None),) * 3 + tuple(slice(0, o) for o in osp[1:])] = g
    return buf


# im2col temporaries are prod(kernel) times the input: bound them by working on batch
# chunks (a big CNN layer would otherwise need GBs), and keep the forward's columns
# for the weight gradient only when they are small
_CHUNK_ELEMS = 1 << 21
_CACHE_ELEMS = 1 << 21


def _chunks(n: int, per_sample: int) -> list:
    step = max(1, _CHUNK_ELEMS // max(per_sample, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)] if n > step else [slice(None)]


def _conv_fwd(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: _P, out_sp: tuple | None = None) -> tuple:
    k = w.shape[2:]
    per = x.shape[1] * _prod(k) * _prod(x.shape[2:]) // max(1, _prod(p.stride))
    parts = _chunks(x.shape[0], per)
    if len(parts) == 1:
        out, cols = _conv_fwd1(x, w, b, p, out_sp)
        if cols.size <= _CACHE_ELEMS:
            return out, cols
        _give(cols)
        return out, None
    outs = []
    for sl in parts:
        o, c = _conv_fwd1(x[sl], w, b, p, out_sp)
        _give(c)
        outs.append(o)
    return np.concatenate(outs), None


def _conv_fwd1(x: np.ndarray, w: np.ndarray, b: np.ndarray | None, p: _P, out_sp: tuple | None = None) -> tuple:
    N = x.shape[0]
    O = w.shape[0]
    G = p.groups
    cols, osp, flat = _im2col(x, w.shape[2:], p, out_sp)
    wm = w.reshape(G, O // G, -1)
    if flat:  # product on padded rows into scratch, then ONE cropping copy into the output
        prod = _scratch(("fwd",), (N, G, O // G, cols.shape[3]), x.dtype)
        np.matmul(wm, cols, out=prod)
        rows = _row_shape(osp, tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], p.pad)))
        out = np.empty((N, O) + tuple(osp), x.dtype)
        src = prod.reshape((N, O) + rows)[(slice(None),) * 3 + tuple(slice(0, o) for o in osp[1:])]
        if b is None:
            np.copyto(out, src)
        else:  # the bias rides along with the cropping copy
            np.add(src, b.reshape((O,) + (1,) * len(osp)), out=out)
        return out, cols
    out = np.matmul(wm, cols).reshape((N, O) + tuple(osp))
    if b is not None:
        out.reshape(N, O, -1)[...] += b[:, None]
    return out, cols


def _conv_bwd_input(g: np.ndarray, w: np.ndarray, p: _P, in_sp: tuple) -> np.ndarray:
    """Gradient of conv w.r.t. its input (= transposed convolution of g with w): col2im of W^T g."""
    per = w.shape[1] * p.groups * _prod(w.shape[2:]) * _prod(in_sp)
    parts = _chunks(g.shape[0], per)
    if len(parts) == 1:
        return _conv_bwd_input1(g, w, p, in_sp)
    return np.concatenate([_conv_bwd_input1(g[sl], w, p, in_sp) for sl in parts])


def _conv_bwd_input1(g: np.ndarray, w: np.ndarray, p: _P, in_sp: tuple) -> np.ndarray:
    N, O = g.shape[:2]
    osp = tuple(g.shape[2:])
    G = p.groups
    Cg = w.shape[1]
    k = tuple(w.shape[2:])
    nd = len(k)
    C = G * Cg
    CgK = Cg * _prod(k)
    wt = w.reshape(G, O // G, CgK).transpose(0, 2, 1)
    sp_pad = tuple(s + lo + hi for s, (lo, hi) in zip(in_sp, p.pad))
    lead = (slice(None), slice(None))
    if all(s == 1 for s in p.stride):
        # stride 1: lay g out with the padded input's row strides; then every kernel offset
        # adds ONE contiguous run into the flat input gradient (long inner loops, no 4-d slicing)
        gp = _g_rows(g, _row_shape(osp, sp_pad)).reshape(N, G, O // G, -1)
        Lp = gp.shape[3]
        sf = [_prod(sp_pad[i + 1:]) for i in range(nd)]
        total = _prod(sp_pad)
        slack = sum((k[i] - 1) * p.dilation[i] * sf[i] for i in range(1, nd))
        buf = _scratch(("col2im",), (N, C, total + slack), g.dtype)
        # one kernel row (first kernel dim fixed) at a time: a k[0] times smaller W^T g
        # temporary, and per-sample products small enough for BLAS to keep on one thread
        wk = w.reshape((G, O // G, Cg, k[0], -1))
        rest = wk.shape[4]
        dcols = _scratch(("dcols",), (N, G, Cg * rest, Lp), g.dtype)
        dc = dcols.reshape((N, C) + k[1:] + (Lp,))
        for k0 in range(k[0]):
            wt0 = np.ascontiguousarray(wk[:, :, :, k0]).reshape(G, O // G, Cg * rest).transpose(0, 2, 1)
            np.matmul(wt0, gp, out=dcols)
            for kr in np.ndindex(*k[1:]):
                kk = (k0,) + kr
                off = sum(kk[i] * p.dilation[i] * sf[i] for i in range(nd))
                if not off:  # the first kernel offset writes its run; zero only what it leaves
                    np.copyto(buf[:, :, :Lp], dc[lead + kr])
                    buf[:, :, Lp:] = 0
                else:
                    buf[:, :, off:off + Lp] += dc[lead + kr]
        gxp = buf[:, :, :total].reshape((N, C) + sp_pad)
    else:
        dcols = _scratch(("dcols",), (N, G, CgK, _prod(osp)), g.dtype)
        np.matmul(wt, g.reshape(N, G, O // G, -1), out=dcols)
        dc = dcols.reshape((N, C) + k + osp)
        gxp = _scratch(("col2im",), (N, C) + sp_pad, g.dtype)
        gxp.fill(0)
        for kk in np.ndindex(*k):
            tgt = lead + tuple(
                slice(kk[i] * p.dilation[i], kk[i] * p.dilation[i] + (osp[i] - 1) * p.stride[i] + 1, p.stride[i])
                for i in range(nd))
            gxp[tgt] += dc[lead + kk]
    out = np.empty((N, C) + tuple(in_sp), g.dtype)
    np.copyto(out, gxp[lead + tuple(slice(lo, lo + s) for s, (lo, _) in zip(in_sp, p.pad))])
    return out


def _conv_bwd_weight(x: np.ndarray, g: np.ndarray, p: _P, k: tuple, cols: np.ndarray | None = None) -> np.ndarray:
    """Gradient of conv w.r.t. its weight (a correlation of input and output gradient)."""
    N, O = g.shape[:2]
    G = p.groups
    osp = tuple(g.shape[2:])
    if _flat_ok(x.shape[2:], k, p):  # columns on padded rows (see _im2col)
        g = _g_rows(g, _row_shape(osp, tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], p.pad))))
    # cols @ g^T per sample, (Cg*K x L) @ (L x Og), then summed over the samples: measured faster than
    # g @ cols^T. With short columns (L below 256: the deep layers) the per-sample products are thin and
    # their (Cg*K x Og) partial sums dominate; there the samples are laid side by side (one copy of the
    # columns) for ONE product with inner dimension N*L.
    gw = None
    for sl in ([slice(None)] if cols is not None else _chunks(N, x.shape[1] * _prod(k) * _prod(osp))):
        c = cols if cols is not None else _im2col(x[sl], k, p, osp)[0]
        n, L = c.shape[0], c.shape[3]
        gs = g[sl].reshape(n, G, O // G, L)
        if L < 256:
            cs = np.ascontiguousarray(c.transpose(1, 2, 0, 3)).reshape(G, c.shape[2], n * L)
            part = np.matmul(cs, np.ascontiguousarray(gs.transpose(1, 0, 3, 2)).reshape(G, n * L, O // G))
        else:
            prod = _scratch(("wgrad",), c.shape[:3] + (O // G,), c.dtype)
            np.matmul(c, gs.transpose(0, 1, 3, 2), out=prod)
            part = prod.sum(0)  # (G, Cg*K, Og)
        if cols is None:
            _give(c)
        gw = part if gw is None else np.add(gw, part, out=gw)
    return np.ascontiguousarray(gw.transpose(0, 2, 1)).reshape((O, x.shape[1] // G) + tuple(k))


# ---------------------------------------------------------------------------
# the convolution family of primitives (Tensor level, with Nodes)
# ---------------------------------------------------------------------------
class ConvolutionBackward0(Node):
    """conv(x, w) + b."""

    __slots__ = ("p", "cols", "red")

    def backward(self, g: Tensor) -> tuple:
        x, w = self.saved()[:2]
        gx = gw = gb = None
        if self.next_functions[0][0] is not None:
            gx = _conv_input_grad(g, w, self.p, x._data.shape[2:])
        if self.next_functions[1][0] is not None:
            gw = _conv_weight_grad(x, g, self.p, w._data.shape[2:], self.cols if not _state.enabled else None)
        if len(self.next_functions) > 2 and self.next_functions[2][0] is not None:
            gb = g.sum(self.red)
        cols, self.cols = self.cols, None
        _give(cols)
        return gx, gw, gb

    def fast(self, g: np.ndarray) -> tuple:
        x, w = self.saved()[:2]
        nf = self.next_functions
        gx = _conv_bwd_input(g, w._data, self.p, x._data.shape[2:]) if nf[0][0] is not None else None
        gw = _conv_bwd_weight(x._data, g, self.p, w._data.shape[2:], self.cols) if nf[1][0] is not None else None
        gb = g.sum(self.red) if len(nf) > 2 and nf[2][0] is not None else None
        cols, self.cols = self.cols, None
        _give(cols)
        return gx, gw, gb

    def release(self) -> None:
        Node.release(self)
        self.cols = None

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x, w), (tx, tw) = ins[:2], ts[:2]
        osp = out._data.shape[2:]
        r = tsum(None if tx is None else _conv(tx, w, None, self.p, osp),
                 None if tw is None else _conv(x, tw, None, self.p, osp))
        return tsum(r, _bias_tangent(ts, out))


def _bias_tangent(ts: tuple, out: Tensor) -> Any:
    """The tangent of a bias added along the channel dim (1) of `out`."""
    tb = ts[2] if len(ts) > 2 else None
    return None if tb is None else tb.reshape((1, -1) + (1,) * (out._data.ndim - 2))


class ConvolutionBackwardBackward0(Node):
    """conv_weight_grad(x, g): the weight gradient as a function of input and output gradient."""

    __slots__ = ("p", "osp")

    def backward(self, gW: Tensor) -> tuple:
        x, g = self.saved()
        gx = _conv_input_grad(g, gW, self.p, x._data.shape[2:]) if self.next_functions[0][0] is not None else None
        gg = _conv(x, gW, None, self.p, self.osp) if self.next_functions[1][0] is not None else None
        return gx, gg

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x, g), (tx, tg) = ins, ts
        k = out._data.shape[2:]
        return tsum(None if tx is None else _conv_weight_grad(tx, g, self.p, k),
                    None if tg is None else _conv_weight_grad(x, tg, self.p, k))


class ConvTransposeBackward(Node):
    """conv_input_grad(g, w) + b, i.e. the transposed convolution."""

    __slots__ = ("p", "red")

    def backward(self, gy: Tensor) -> tuple:
        g, w = self.saved()[:2]
        gg = gw = gb = None
        if self.next_functions[0][0] is not None:
            gg = _conv(gy, w, None, self.p, g._data.shape[2:])
        if self.next_functions[1][0] is not None:
            gw = _conv_weight_grad(gy, g, self.p, w._data.shape[2:])
        if len(self.next_functions) > 2 and self.next_functions[2][0] is not None:
            gb = gy.sum(self.red)
        return gg, gw, gb

    def fast(self, gy: np.ndarray) -> tuple:
        g, w = self.saved()[:2]
        nf = self.next_functions
        gg = None
        if nf[0][0] is not None:
            gg, cols = _conv_fwd(gy, w._data, None, self.p, g._data.shape[2:])
            _give(cols)
        gw = _conv_bwd_weight(gy, g._data, self.p, w._data.shape[2:]) if nf[1][0] is not None else None
        gb = gy.sum(self.red) if len(nf) > 2 and nf[2][0] is not None else None
        return gg, gw, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (g, w), (tg, tw) = ins[:2], ts[:2]
        isp = out._data.shape[2:]
        r = tsum(None if tg is None else _conv_input_grad(tg, w, self.p, isp),
                 None if tw is None else _conv_input_grad(g, tw, self.p, isp))
        return tsum(r, _bias_tangent(ts, out))


ConvTransposeBackward.__name__ = "ConvolutionBackward0"


def _needs(*ts: Any) -> bool:
    if _state.enabled and any(t is not None and t._requires_grad for t in ts):
        return True
    return has_fw(*ts) if _fw_levels else False


def _conv(x: Tensor, w: Tensor, b: Tensor | None, p: _P, out_sp: tuple | None = None) -> Tensor:
    wants_w = _needs(w) and _state.enabled
    out, cols = _conv_fwd(x._data, w._data, None if b is None else b._data, p, out_sp)
    res = _make(out if out.dtype == x._dtype.np else out.astype(x._dtype.np), x._dtype)  # bfloat16: f32 sums
    if _needs(x, w, b):
        n = ConvolutionBackward0()
        n.p = p
        n.cols, cols = (cols, None) if wants_w else (None, cols)
        n.red = (0,) + tuple(range(2, out.ndim))
        n.save(x, w)
        record(n, res, (x, w) if b is None else (x, w, b))
    _give(cols)
    return res


def _conv_input_grad(g: Tensor, w: Tensor, p: _P, in_sp: tuple, b: Tensor | None = None) -> Tensor:
    out = _conv_bwd_input(g._data, w._data, p, tuple(in_sp))
    if b is not None:
        out += b._data.reshape((1, -1) + (1,) * (out.ndim - 2))
    res = _make(out if out.dtype == g._dtype.np else out.astype(g._dtype.np), g._dtype)
    if _needs(g, w, b):
        n = ConvTransposeBackward()
        n.p = p
        n.red = (0,) + tuple(range(2, out.ndim))
        n.save(g, w)
        record(n, res, (g, w) if b is None else (g, w, b))
    return res


def _conv_weight_grad(x: Tensor, g: Tensor, p: _P, k: tuple, cols: np.ndarray | None = None) -> Tensor:
    out = _conv_bwd_weight(x._data, g._data, p, tuple(k), cols)
    res = _make(out if out.dtype == g._dtype.np else out.astype(g._dtype.np), g._dtype)
    if _needs(x, g):
        n = ConvolutionBackwardBackward0()
        n.p = p
        n.osp = g._data.shape[2:]
        n.save(x, g)
        record(n, res, (x, g))
    return res


# ---------------------------------------------------------------------------
# public convolutions
# ---------------------------------------------------------------------------
def _batchify(x: Tensor, nd: int, fn: str, msg: str | None = None) -> tuple:
    if x._data.ndim == nd + 2:
        return x, False
    if x._data.ndim == nd + 1:
        return x.unsqueeze(0), True
    raise RuntimeError(msg or f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {fn}, but got "
                              f"input of size: {list(x._data.shape)}")


def _check_same_dtype(x: Tensor, w: Tensor, b: Tensor | None) -> None:
    if w._dtype is not x._dtype:
        raise RuntimeError(f"expected scalar type {_dtype_name(x)} but found {_dtype_name(w)}")
    if b is not None and b._dtype is not x._dtype:
        nm = {"float32": "float", "float64": "double", "float16": "c10::Half"}
        raise RuntimeError(f"Input type ({nm.get(x._dtype.name, x._dtype.name)}) and bias type "
                           f"({nm.get(b._dtype.name, b._dtype.name)}) should be the same")


def _check_kernel(weight: Tensor, groups: int, nd: int, transposed: bool = False) -> None:
    """PyTorch's errors for a weight with fewer output (input, when transposed) channels than groups, no
    channels on its second dimension (transposed), or an empty kernel. 1-d convolutions report the 2-d
    kernel PyTorch runs them as."""
    shape = weight._data.shape
    if shape[0] < groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be at least {groups} at dimension 0, but got "
                           f"weight of size {_shape_str(shape)} instead")
    if transposed and shape[1] == 0:
        if nd == 3:
            raise RuntimeError("non-empty 5D (n_output_plane x n_input_plane x kernel_depth x kernel_height x "
                               f"kernel_width) tensor expected for weight, but got: {_shape_str(shape)}")
        raise RuntimeError("non-empty 2D or 4D weight tensor expected, but got: "
                           f"{_shape_str(shape[:2] + (1,) * (2 - nd) + shape[2:])}")
    k = shape[2:]
    if any(kk <= 0 for kk in k):
        if nd == 3:
            raise RuntimeError(f"kernel size should be greater than zero, but got: {k[0]} x {k[1]} x {k[2]} (TxHxW)")
        kh, kw = ((1,) + tuple(k))[-2:]
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kh} kernel_width: {kw}")


def _convnd(nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
            dilation: Any, groups: int, fn: str) -> Tensor:
    if _vmap_levels and is_batched(input, weight, bias):
        return vmap_rule("conv", _convnd, nd, input, weight, bias, stride, padding, dilation, groups, fn)
    check_tensor(input, fn)
    check_tensor(weight, fn, "weight", 2)
    if weight._data.ndim != nd + 2:
        raise RuntimeError("weight should have at least three dimensions" if weight._data.ndim < 3 else
                           f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional input "
                           f"{list(input._data.shape)}, but got {weight._data.ndim}-dimensional weight of size "
                           f"{list(weight._data.shape)} instead")
    x, unbatched = _batchify(input, nd, fn)
    stride = _ntuple(stride, nd, "stride", "conv")
    dil = _ntuple(dilation, nd, "dilation", "conv")
    k = weight._data.shape[2:]
    groups = int(groups)
    if groups <= 0:
        raise RuntimeError("non-positive groups is not supported")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(d <= 0 for d in dil):
        raise RuntimeError("dilation should be greater than zero")
    if isinstance(padding, str):
        if padding == "valid":
            pads = ((0, 0),) * nd
        elif padding == "same":
            if any(s != 1 for s in stride):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            pads = []
            for kk, d in zip(k, dil):
                tot = d * (kk - 1)
                pads.append((tot // 2, tot - tot // 2))
            pads = tuple(pads)
        else:
            raise RuntimeError(f"Invalid padding string: '{padding}'")
    else:
        pd = _ntuple(padding, nd, "padding", "conv")
        if any(q < 0 for q in pd):
            raise RuntimeError("negative padding is not supported")
        pads = tuple((q, q) for q in pd)
    _check_kernel(weight, groups, nd)
    O = weight._data.shape[0]
    if O % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{_shape_str(weight._data.shape)}] instead")  # doubled, as PyTorch
    C = x._data.shape[1]
    if C != weight._data.shape[1] * groups:
        raise RuntimeError(f"Given groups={groups}, weight of size {_shape_str(weight._data.shape)}, expected "
                           f"input{_shape_str(x._data.shape)} to have {weight._data.shape[1] * groups} channels, "
                           f"but got {C} channels instead")
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != O):
        raise RuntimeError(f"Given weight of size {_shape_str(weight._data.shape)}, expected bias to be "
                           f"1-dimensional with {O} elements, but got bias of size {_shape_str(bias._data.shape)} "
                           "instead")
    _check_same_dtype(x, weight, bias)
    sp = x._data.shape[2:]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(sp, pads))
    if any(ps < (kk - 1) * d + 1 for ps, kk, d in zip(padded, k, dil)):
        raise RuntimeError(f"Calculated padded input size per channel: ({' x '.join(str(a) for a in padded)}). "
                           f"Kernel size: ({' x '.join(str((kk - 1) * d + 1) for kk, d in zip(k, dil))}). "
                           "Kernel size can't be greater than actual input size")
    if x._dtype.category < 2:
        raise RuntimeError(f"\"slow_conv2d_cpu\" not implemented for '{_dtype_name(x)}'")
    out = _conv(x, weight, bias, _P(stride, pads, dil, groups))
    return out.squeeze(0) if unbatched else out


@register(method=False, function=False)
@autocast_op("lower")
def conv1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """1-d cross-correlation over (N, C, L) or (C, L) input."""
    return _convnd(1, input, weight, bias, stride, padding, dilation, groups, "conv1d")


@register(method=False, function=False)
@autocast_op("lower")
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """2-d cross-correlation over (N, C, H, W) or (C, H, W) input."""
    return _convnd(2, input, weight, bias, stride, padding, dilation, groups, "conv2d")


@register(method=False, function=False)
@autocast_op("lower")
def conv3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1, padding: Any = 0,
           dilation: Any = 1, groups: int = 1) -> Tensor:
    """3-d cross-correlation over (N, C, D, H, W) or (C, D, H, W) input."""
    return _convnd(3, input, weight, bias, stride, padding, dilation, groups, "conv3d")


def _conv_transposend(nd: int, input: Tensor, weight: Tensor, bias: Tensor | None, stride: Any, padding: Any,
                      output_padding: Any, groups: int, dilation: Any, fn: str) -> Tensor:
    if _vmap_levels and is_batched(input, weight, bias):
        return vmap_rule("conv", _conv_transposend, nd, input, weight, bias, stride, padding, output_padding, groups,
                         dilation, fn)
    check_tensor(input, fn)
    x, unbatched = _batchify(input, nd, fn)
    stride = _ntuple(stride, nd, "stride", "conv")
    pd = _ntuple(padding, nd, "padding", "conv")
    op = _ntuple(output_padding, nd, "output_padding", "conv")
    dil = _ntuple(dilation, nd, "dilation", "conv")
    groups = int(groups)
    if weight._data.ndim != nd + 2:
        raise RuntimeError(f"Expected {nd + 2}-dimensional weight for {nd + 2}-dimensional input "
                           f"{list(x._data.shape)}, but got {weight._data.ndim}-dimensional weight of size "
                           f"{list(weight._data.shape)} instead")
    if any(s <= 0 for s in stride):
        raise RuntimeError("non-positive stride is not supported")
    if any(q < 0 for q in pd):
        raise RuntimeError("negative padding is not supported")
    for i in range(nd):
        if op[i] >= max(stride[i], dil[i]):
            names = ("depth", "height", "width")[3 - nd:]
            parts = " ".join(f"output_padding_{names[j]}: {op[j]}" for j in range(nd))
            parts += " " + " ".join(f"stride_{names[j]}: {stride[j]}" for j in range(nd))
            parts += " " + " ".join(f"dilation_{names[j]}: {dil[j]}" for j in range(nd))
            raise RuntimeError(f"output padding must be smaller than either stride or dilation, but got {parts}")
    _check_kernel(weight, groups, nd, transposed=True)
    Cin = weight._data.shape[0]
    if x._data.shape[1] != Cin:
        raise RuntimeError(f"Given transposed=1, weight of size {_shape_str(weight._data.shape)}, expected "
                           f"input{_shape_str(x._data.shape)} to have {Cin} channels, but got {x._data.shape[1]} "
                           "channels instead")
    if Cin % groups:
        raise RuntimeError(f"Given groups={groups}, expected weight to be divisible by {groups} at dimension 0, but "
                           f"got weight of size [{_shape_str(weight._data.shape)}] instead")  # doubled, as PyTorch
    Cout = weight._data.shape[1] * groups
    if bias is not None and (bias._data.ndim != 1 or bias._data.shape[0] != Cout):
        raise RuntimeError(f"Given transposed=1, weight of size {_shape_str(weight._data.shape)}, expected bias to "
                           f"be 1-dimensional with {Cout} elements, but got bias of size "
                           f"{_shape_str(bias._data.shape)} instead")
    _check_same_dtype(x, weight, bias)
    k = weight._data.shape[2:]
    out_sp = tuple((s - 1) * st - 2 * q + d * (kk - 1) + o + 1
                   for s, st, q, d, kk, o in zip(x._data.shape[2:], stride, pd, dil, k, op))
    if any(s <= 0 for s in out_sp):
        raise RuntimeError(f"Given input size per channel: ({' x '.join(str(s) for s in x._data.shape[2:])}). "
                           f"Calculated output size per channel: ({' x '.join(str(s) for s in out_sp)}). "
                           "Output size is too small")
    # the transposed conv is the input-gradient of the conv mapping out_sp -> input's size
    out = _conv_input_grad(x, weight, _P(stride, tuple((q, q) for q in pd), dil, groups), out_sp, bias)
    return out.squeeze(0) if unbatched else out


@register(method=False, function=False)
@autocast_op("lower")
def conv_transpose1d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """1-d transposed convolution ("deconvolution"); weight is (C_in, C_out/groups, K)."""
    return _conv_transposend(1, input, weight, bias, stride, padding, output_padding, groups, dilation,
                             "conv_transpose1d")


@register(method=False, function=False)
@autocast_op("lower")
def conv_transpose2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """2-d transposed convolution ("deconvolution"); weight is (C_in, C_out/groups, kH, kW)."""
    return _conv_transposend(2, input, weight, bias, stride, padding, output_padding, groups, dilation,
                             "conv_transpose2d")


@register(method=False, function=False)
@autocast_op("lower")
def conv_transpose3d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: Any = 1,
                     padding: Any = 0, output_padding: Any = 0, groups: int = 1, dilation: Any = 1) -> Tensor:
    """3-d transposed convolution; weight is (C_in, C_out/groups, kD, kH, kW)."""
    return _conv_transposend(3, input, weight, bias, stride, padding, output_padding, groups, dilation,
                             "conv_transpose3d")


# ---------------------------------------------------------------------------
# unfold / fold (im2col / col2im as ops)
# ---------------------------------------------------------------------------
class Im2ColBackward0(Node):
    __slots__ = ("args",)

    def backward(self, g: Tensor) -> tuple:
        return (_fold_raw(g, *self.args),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _unfold_raw(ts[0], *self.args[1:])


class Col2ImBackward0(Node):
    __slots__ = ("args",)

    def backward(self, g: Tensor) -> tuple:
        return (_unfold_raw(g, *self.args[1:]),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _fold_raw(ts[0], *self.args)


def _unfold_raw(x: Tensor, k: tuple, dil: tuple, pads: tuple, stride: tuple) -> Tensor:
    N, C = x._data.shape[:2]
    win = _windows(_zero_pad(x._data, pads), k, stride, dil)
    nd = len(k)
    L = _prod(win.shape[2:2 + nd])
    cols = np.ascontiguousarray(win.transpose((0, 1) + tuple(range(2 + nd, 2 + 2 * nd)) + tuple(range(2, 2 + nd))))
    res = _make(cols.reshape(N, C * _prod(k), L), x._dtype)
    if _needs(x):
        n = Im2ColBackward0()
        n.args = (x._data.shape[2:], k, dil, pads, stride)
        record(n, res, (x,))
    return res


def _fold_raw(g: Tensor, out_sp: tuple, k: tuple, dil: tuple, pads: tuple, stride: tuple) -> Tensor:
    N = g._data.shape[0]
    nd = len(k)
    C = g._data.shape[1] // _prod(k)
    osp = tuple((s + lo + hi - (kk - 1) * d - 1) // st + 1
                for s, (lo, hi), kk, d, st in zip(out_sp, pads, k, dil, stride))
    cols = g._data.reshape((N, C) + tuple(k) + osp)
    xp = np.zeros((N, C) + tuple(s + lo + hi for s, (lo, hi) in zip(out_sp, pads)), g._data.dtype)
    for kk in np.ndindex(*k):
        tgt = (slice(None), slice(None)) + tuple(
            slice(kk[i] * dil[i], kk[i] * dil[i] + (osp[i] - 1) * stride[i] + 1, stride[i]) for i in range(nd))
        xp[tgt] += cols[(slice(None), slice(None)) + kk]
    crop = (slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(out_sp, pads))
    res = _make(np.ascontiguousarray(xp[crop]), g._dtype)
    if _needs(g):
        n = Col2ImBackward0()
        n.args = (tuple(out_sp), k, dil, pads, stride)
        record(n, res, (g,))
    return res


@register("nn.functional.unfold", method=False, function=False)  # Tensor.unfold is another op
def unfold(input: Tensor, kernel_size: Any, dilation: Any = 1, padding: Any = 0, stride: Any = 1) -> Tensor:
    """Sliding local blocks of a (N, C, H, W) tensor as columns (N, C*kH*kW, L)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("fold3", unfold, input, kernel_size, dilation, padding, stride)
    check_tensor(input, "unfold")
    x, unbatched = _batchify(input, 2, "unfold", "Input Error: Only 3D or 4D input Tensors are supported (got "
                                                 f"{input._data.ndim}D)")
    k = _ntuple(kernel_size, 2, "kernel_size", "unfold")
    p = _ntuple(padding, 2, "padding", "unfold")
    out = _unfold_raw(x, k, _ntuple(dilation, 2, "dilation", "unfold"), tuple((q, q) for q in p),
                      _ntuple(stride, 2, "stride", "unfold"))
    return out.squeeze(0) if unbatched else out


@register(method=False, function=False)
def fold(input: Tensor, output_size: Any, kernel_size: Any, dilation: Any = 1, padding: Any = 0,
         stride: Any = 1) -> Tensor:
    """Sum columns (N, C*kH*kW, L) back into a (N, C, H, W) tensor: the adjoint of unfold."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("fold2", fold, input, output_size, kernel_size, dilation, padding, stride)
    check_tensor(input, "fold")
    unbatched = input._data.ndim == 2
    x = input.unsqueeze(0) if unbatched else input
    if x._data.ndim != 3:
        raise RuntimeError(f"Input Error: Only unbatched (2D) or batched (3D) input Tensors are supported (got "
                           f"{input._data.ndim}D)")
    k = _ntuple(kernel_size, 2, "kernel_size", "fold")
    osz = _ntuple(output_size, 2, "output_size", "fold")
    dil = _ntuple(dilation, 2, "dilation", "fold")
    p = _ntuple(padding, 2, "padding", "fold")
    st = _ntuple(stride, 2, "stride", "fold")
    if x._data.shape[1] % _prod(k):
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={x._data.shape[1]} and kernel_size={k}")
    pads = tuple((q, q) for q in p)
    blocks = [(s + 2 * q - (kk - 1) * d - 1) // s_ + 1 for s, q, kk, d, s_ in zip(osz, p, k, dil, st)]
    L = _prod(blocks)
    if x._data.shape[2] != L:
        raise RuntimeError(f"Given output_size={osz}, kernel_size={k}, dilation={dil}, padding={p}, stride={st}, "
                           f"expected size of input's dimension 2 to match the calculated number of sliding blocks "
                           f"{blocks[0]} * {blocks[1]} = {L}, but got input.size(2)={x._data.shape[2]}.")
    out = _fold_raw(x, osz, k, dil, pads, st)
    return out.squeeze(0) if unbatched else out


# ---------------------------------------------------------------------------
# pooling geometry
# ---------------------------------------------------------------------------
def _pool_out(size: int, k: int, s: int, p: int, d: int, ceil: bool) -> int:
    eff = d * (k - 1) + 1
    num = size + 2 * p - eff
    o = (-(-num // s) if ceil else num // s) + 1
    if ceil and (o - 1) * s >= size + p:
        o -= 1
    return o


def _pool_args(nd: int, x: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil: bool,
               fn: str, avg: bool = False) -> tuple:
    if x._data.ndim not in (nd + 1, nd + 2) or x._data.size == 0 and any(s == 0 for s in x._data.shape[1:]):
        if nd == 1:
            raise RuntimeError(f"{fn}() Expected 2D or 3D input tensor, but got {list(x._data.shape)}")
        raise RuntimeError(f"non-empty {nd + 1}D or {nd + 2}D (batch mode) tensor expected for input")
    k = _ntuple(kernel_size, nd, "kernel_size", fn)
    s = k if stride is None or (isinstance(stride, (list, tuple)) and len(stride) == 0) else \
        _ntuple(stride, nd, "stride", fn)
    p = _ntuple(padding, nd, "padding", fn)
    d = _ntuple(dilation, nd, "dilation", fn)
    if any(a <= 0 for a in k):
        raise RuntimeError(f"kernel_size must be greater than zero, but got kernel_size={list(k)}" if nd > 1 else
                           f"{fn}() kernel_size must be greater than zero, but got {k[0]}")
    if any(a <= 0 for a in s):
        raise RuntimeError("stride should not be zero" if nd > 1 else f"{fn}() stride must be greater than zero, "
                                                                      f"but got {s[0]}")
    if any(a <= 0 for a in d):
        raise RuntimeError(f"dilation must be greater than zero, but got dilation={list(d)}")
    for i in range(nd):
        lim = (d[i] * (k[i] - 1) + 1) // 2 if not avg else k[i] // 2
        if p[i] < 0 or p[i] > lim:
            if nd == 1 and not avg:
                raise RuntimeError(f"{fn}() padding should be at most half of kernel size, but got padding={p[i]} "
                                   f"and kernel_size={k[i]}")
            raise RuntimeError(f"pad should be at most half of effective kernel size, but got pad={p[i]}, "
                               f"kernel_size={k[i]} and dilation={d[i]}" if not avg else
                               "pad should be smaller than or equal to half of kernel size, but got "
                               f"padW = {p[-1]}, padH = {p[0]}, kW = {k[-1]}, kH = {k[0]}")
    sp = x._data.shape[-nd:]
    out = tuple(_pool_out(sp[i], k[i], s[i], p[i], d[i], ceil) for i in range(nd))
    if any(o <= 0 for o in out):
        if nd == 3 and avg:
            raise RuntimeError(f"input image (T: {sp[0]} H: {sp[1]} W: {sp[2]}) smaller than kernel size "
                               f"(kT: {k[0]} kH: {k[1]} kW: {k[2]})")
        if nd == 1 and not avg:
            raise RuntimeError(f"{fn}() Invalid computed output size: {out[0]}")
        C = x._data.shape[-nd - 1]
        raise RuntimeError(f"Given input size: ({'x'.join(str(a) for a in (C,) + tuple(sp))}). Calculated output "
                           f"size: ({'x'.join(str(a) for a in (C,) + out)}). Output size is too small")
    return k, s, p, d, out


def _pool_pad(x: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, out: tuple, fill: float) -> np.ndarray:
    """x (B, *S) padded (or cropped) at the end so its windows produce exactly `out`."""
    nd = len(k)
    sp = x.shape[1:]
    need = tuple((o - 1) * st + dd * (kk - 1) + 1 for o, st, dd, kk in zip(out, s, d, k))
    hi = tuple(need[i] - sp[i] - p[i] for i in range(nd))
    if all(q == 0 for q in p) and all(h <= 0 for h in hi):
        return x[(slice(None),) + tuple(slice(0, n) for n in need)]
    xp = np.full((x.shape[0],) + need, fill, x.dtype)
    src = tuple(slice(0, min(sp[i], need[i] - p[i])) for i in range(nd))
    dst = tuple(slice(p[i], p[i] + min(sp[i], need[i] - p[i])) for i in range(nd))
    xp[(slice(None),) + dst] = x[(slice(None),) + src]
    return xp


# ---------------------------------------------------------------------------
# max pooling: argmax per window (first maximum wins, NaN propagates), scatter back
# ---------------------------------------------------------------------------
def _scatter_raw(g: np.ndarray, idx: np.ndarray, n_in: int, unique: bool) -> np.ndarray:
    B = idx.shape[0]
    g2 = g.reshape(B, -1)
    i2 = idx.reshape(B, -1)
    if unique:
        out = np.zeros((B, n_in), g.dtype)
        np.put_along_axis(out, i2, g2, axis=1)
        return out
    flat = (i2 + (np.arange(B, dtype=np.int64) * n_in)[:, None]).ravel()
    return np.bincount(flat, weights=g2.ravel(), minlength=B * n_in).astype(g.dtype, copy=False).reshape(B, n_in)


class _GatherFlat(Node):
    """y[b, j] = x[b, idx[b, j]]: the adjoint of the max-pool gradient scatter."""

    __slots__ = ("idx", "n_in", "unique", "out_shape")

    def backward(self, g: Tensor) -> tuple:
        return (_scatter_flat(g, self.idx, self.n_in, self.unique, self.out_shape),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _gather_flat(ts[0], self.idx, out._data.shape)


class _ScatterFlat(Node):
    __slots__ = ("idx", "in_shape")

    def backward(self, g: Tensor) -> tuple:
        return (_gather_flat(g, self.idx, self.in_shape),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _scatter_flat(ts[0], self.idx, out._data.size // self.idx.shape[0], False, out._data.shape)


def _scatter_flat(g: Tensor, idx: np.ndarray, n_in: int, unique: bool, out_shape: tuple) -> Tensor:
    res = _make(_scatter_raw(g._data, idx, n_in, unique).reshape(out_shape), g._dtype)
    if _needs(g):
        n = _ScatterFlat()
        n.idx, n.in_shape = idx, g._data.shape
        record(n, res, (g,))
    return res


def _gather_flat(x: Tensor, idx: np.ndarray, out_shape: tuple) -> Tensor:
    B = idx.shape[0]
    xd = x._data.reshape(B, -1)
    res = _make(np.take_along_axis(xd, idx.reshape(B, -1), axis=1).reshape(out_shape), x._dtype)
    if _needs(x):
        n = _GatherFlat()
        n.idx, n.n_in, n.unique, n.out_shape = idx, xd.shape[1], False, x._data.shape
        record(n, res, (x,))
    return res


class MaxPoolBackward(Node):
    """Gradient of max pooling: g goes to the argmax of each window.

    First order (`fast`): one masked strided add per kernel offset, in float32, no
    index arithmetic. With create_graph: a scatter to flat indices (its own gradient
    is the matching gather), so double backward works."""

    __slots__ = ("idx", "n_in", "unique", "in_shape", "geo")

    def _flat(self) -> np.ndarray:
        if self.idx is None:
            self.idx = _maxpool_flat(*self.geo)
        return self.idx

    def backward(self, g: Tensor) -> tuple:
        return (_scatter_flat(g, self._flat(), self.n_in, self.unique, self.in_shape),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _gather_flat(ts[0], self._flat(), out._data.shape)  # the tangent at each window's argmax

    def fast(self, g: np.ndarray) -> tuple:
        if self.geo is None:
            return (_scatter_raw(g, self.idx, self.n_in, self.unique).reshape(self.in_shape),)
        kidx, k, s, p, d, out, sp = self.geo
        B = kidx.shape[0]
        gb = g.reshape(kidx.shape)
        need = tuple((o - 1) * st + dd * (kk - 1) + 1 for o, st, dd, kk in zip(out, s, d, k))
        full = tuple(max(need[i], sp[i] + p[i]) for i in range(len(k)))
        gxp = np.zeros((B,) + full, g.dtype)
        m = np.empty(gb.shape, bool)
        for j, kk in enumerate(np.ndindex(*k)):
            view = gxp[(slice(None),) + tuple(slice(kk[i] * d[i], kk[i] * d[i] + (out[i] - 1) * s[i] + 1, s[i])
                                              for i in range(len(k)))]
            np.equal(kidx, j, out=m)
            view += np.where(m, gb, gb.dtype.type(0))
        gx = gxp[(slice(None),) + tuple(slice(p[i], p[i] + sp[i]) for i in range(len(k)))]
        return (np.ascontiguousarray(gx).reshape(self.in_shape),)


def _maxpool_flat(kidx: np.ndarray, k: tuple, s: tuple, p: tuple, d: tuple, out: tuple, sp: tuple) -> np.ndarray:
    """Window-local argmax (0..prod(k)-1) -> flat index into the unpadded input plane."""
    nd = len(k)
    kpos = np.unravel_index(np.arange(_prod(k)), k)
    strides = [_prod(sp[i + 1:]) for i in range(nd)]
    koff = sum(kpos[i].astype(np.int64) * d[i] * strides[i] for i in range(nd))
    opos = np.unravel_index(np.arange(_prod(out)), out)
    base = sum((opos[i].astype(np.int64) * s[i] - p[i]) * strides[i] for i in range(nd))
    return base[None, :] + np.asarray(koff)[kidx.reshape(kidx.shape[0], -1)]


def _max_pool(nd: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool,
              return_indices: bool, fn: str) -> Any:
    if _vmap_levels and is_batched(input):
        return vmap_rule("pool", _max_pool, nd, input, kernel_size, stride, padding, dilation, ceil_mode,
                         return_indices, fn)
    check_tensor(input, fn)
    k, s, p, d, out = _pool_args(nd, input, kernel_size, stride, padding, dilation, ceil_mode, fn)
    x = input._data
    lead = x.shape[:-nd]
    sp = x.shape[-nd:]
    B = _prod(lead)
    xb = x.reshape((B,) + sp)
    fill = -np.inf if is_float_array(x) else np.iinfo(x.dtype).min
    xp = _pool_pad(xb, k, s, p, d, out, fill)
    # running max over the kernel offsets (strided views, no window copy, plain ufuncs:
    # masked ufuncs measured several times slower); then the FIRST offset that attains
    # the max (PyTorch's tie rule), found in reverse with kidx -= e * (kidx - j)
    views = [xp[(slice(None),) + tuple(slice(kk[i] * d[i], kk[i] * d[i] + (out[i] - 1) * s[i] + 1, s[i])
                                       for i in range(nd))] for kk in np.ndindex(*k)]
    KK = len(views)
    best = views[0].copy()
    for v in views[1:]:
        np.maximum(best, v, out=best)
    kt = np.uint8 if KK < 256 else np.int64
    kidx = np.full(best.shape, KK - 1, kt)
    e = np.empty(best.shape, bool)
    for j in range(KK - 2, -1, -1):
        np.equal(views[j], best, out=e)
        kidx -= e.view(np.uint8).astype(kt, copy=False) * (kidx - kt(j))
    if is_float_array(x):
        nanpos = np.isnan(best)
        if nanpos.any():  # PyTorch: a NaN always replaces the running max, so the LAST NaN is taken
            for j in range(KK):
                kidx[np.isnan(views[j]) & nanpos] = j
    geo = (kidx, k, s, p, d, out, sp)
    res = _make(best.reshape(lead + out), input._dtype)
    flat = _maxpool_flat(*geo) if return_indices else None
    if _needs(input):
        n = MaxPool3DWithIndicesBackward0() if nd == 3 else MaxPoolBackward()
        n.idx = flat
        n.geo = geo
        n.n_in = _prod(sp)
        n.unique = all(s[i] >= (k[i] - 1) * d[i] + 1 for i in range(nd))
        n.in_shape = x.shape
        record(n, res, (input,))
    if return_indices:
        return res, _make(flat.reshape(lead + out), D.int64)
    return res


MaxPoolBackward.__name__ = "MaxPool2DWithIndicesBackward0"


class MaxPool3DWithIndicesBackward0(MaxPoolBackward):
    __slots__ = ()


class AdaptiveMaxPool2DBackward0(MaxPoolBackward):
    __slots__ = ()


class AdaptiveMaxPool3DBackward0(MaxPoolBackward):
    __slots__ = ()


@register(method=False, function=False)
def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """1-d max pooling over (N, C, L) or (C, L) input."""
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool1d")


@register(method=False, function=False)
def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """2-d max pooling over (N, C, H, W) or (C, H, W) input; gradient goes to the first maximum."""
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool2d")


@register(method=False, function=False)
def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False, return_indices: bool = False) -> Any:
    """3-d max pooling over (N, C, D, H, W) or (C, D, H, W) input."""
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, "max_pool3d")


@register(method=False, function=False)
def max_pool1d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = True) -> Any:
    return _max_pool(1, input, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool1d")


@register(method=False, function=False)
def max_pool2d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = True) -> Any:
    return _max_pool(2, input, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool2d")


@register(method=False, function=False)
def max_pool3d_with_indices(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                            dilation: Any = 1, ceil_mode: bool = False, return_indices: bool = True) -> Any:
    return _max_pool(3, input, kernel_size, stride, padding, dilation, ceil_mode, True, "max_pool3d")


# ---------------------------------------------------------------------------
# average pooling: separable window sums times a per-position 1/divisor
# ---------------------------------------------------------------------------
def _sum_windows(x: np.ndarray, k: tuple, s: tuple, out: tuple) -> np.ndarray:
    """x (B, *need) -> (B, *out): window sums, one axis at a time (k adds per axis)."""
    for i in range(len(k)):
        ax = 1 + i
        acc = None
        for j in range(k[i]):
            sl = [slice(None)] * x.ndim
            sl[ax] = slice(j, j + (out[i] - 1) * s[i] + 1, s[i])
            v = x[tuple(sl)]
            acc = v.copy() if acc is None else np.add(acc, v, out=acc)
        x = acc
    return x


def _sum_windows_t(g: np.ndarray, k: tuple, s: tuple, need: tuple) -> np.ndarray:
    """Adjoint of _sum_windows: (B, *out) -> (B, *need)."""
    for i in reversed(range(len(k))):
        ax = 1 + i
        shape = list(g.shape)
        shape[ax] = need[i]
        acc = np.zeros(shape, g.dtype)
        o = g.shape[ax]
        for j in range(k[i]):
            sl = [slice(None)] * g.ndim
            sl[ax] = slice(j, j + (o - 1) * s[i] + 1, s[i])
            acc[tuple(sl)] += g
        g = acc
    return g


class AvgPoolBackward(Node):
    __slots__ = ("geo", "transpose")

    def backward(self, g: Tensor) -> tuple:
        return (_avg_apply(g, self.geo, not self.transpose),)

    def fast(self, g: np.ndarray) -> tuple:
        return (_avg_raw(g, self.geo, not self.transpose),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _avg_apply(ts[0], self.geo, self.transpose)


AvgPoolBackward.__name__ = "AvgPool2DBackward0"


class AvgPool3DBackward0(AvgPoolBackward):
    __slots__ = ()


def _avg_raw(x: np.ndarray, geo: tuple, transpose: bool) -> np.ndarray:
    """Linear map A (avg pool, geo: lead, sp, k, s, p, out, inv) or its adjoint A^T, on arrays."""
    lead, sp, k, s, p, out, inv = geo
    nd = len(k)
    B = _prod(lead)
    if k == s and not any(p) and all(o * kk == n for o, kk, n in zip(out, k, sp)):
        # windows tile the input exactly: reshape (B, o0, k0, o1, k1, ...), no padding copies
        tiled = (B,) + sum(((o, kk) for o, kk in zip(out, k)), ())
        if not transpose:
            t = x.reshape(tiled)
            for i in range(nd):  # the same order of additions as _sum_windows
                ax = (slice(None),) * (2 + i)
                acc = t[ax + (0,)] + t[ax + (1,)] if k[i] > 1 else t[ax + (0,)].copy()
                for j in range(2, k[i]):
                    acc += t[ax + (j,)]
                t = acc
            t *= inv
            return t.reshape(lead + out)
        res = x.reshape((B,) + out) * inv
        for i in reversed(range(nd)):  # each input position gets its window's one value
            if k[i] > 1:
                res = np.repeat(res, k[i], axis=1 + i)
        return res.reshape(lead + sp)
    if not transpose:
        xb = x.reshape((B,) + sp)
        xp = _pool_pad(xb, k, s, p, (1,) * nd, out, 0)
        r = _sum_windows(xp, k, s, out)
        r *= inv
        return r.reshape(lead + out)
    gb = x.reshape((B,) + out) * inv
    need = tuple((o - 1) * st + kk for o, st, kk in zip(out, s, k))
    gp = _sum_windows_t(gb, k, s, need)
    if all(q == 0 for q in p) and need == sp:
        return gp.reshape(lead + sp)
    full = np.zeros((B,) + tuple(max(need[i], sp[i] + p[i]) for i in range(nd)), gp.dtype)
    full[(slice(None),) + tuple(slice(0, n) for n in need)] = gp
    arr = full[(slice(None),) + tuple(slice(p[i], p[i] + sp[i]) for i in range(nd))].reshape(lead + sp)
    return np.ascontiguousarray(arr)


def _avg_apply(x: Tensor, geo: tuple, transpose: bool) -> Tensor:
    res = _make(_avg_raw(x._data, geo, transpose), x._dtype)
    if _needs(x):
        n = AvgPool3DBackward0() if len(geo[2]) == 3 else AvgPoolBackward()
        n.geo, n.transpose = geo, transpose
        record(n, res, (x,))
    return res


def _avg_pool(nd: int, input: Tensor, kernel_size: Any, stride: Any, padding: Any, ceil_mode: bool,
              count_include_pad: bool, divisor_override: Any, fn: str) -> Tensor:
    if _vmap_levels and is_batched(input):
        return vmap_rule("pool", _avg_pool, nd, input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                         divisor_override, fn)
    check_tensor(input, fn)
    k, s, p, _, out = _pool_args(nd, input, kernel_size, stride, padding, 1, ceil_mode, fn, avg=True)
    x = input._data
    if not is_float_array(x):
        raise RuntimeError(f"\"{fn}\" not implemented for '{_dtype_name(input)}'")
    sp = x.shape[-nd:]
    if divisor_override is not None:
        if divisor_override == 0:
            raise RuntimeError("divisor must be not zero")
        inv = np.asarray(1.0 / divisor_override, x.dtype)
    else:
        inv = np.ones((), np.float64)
        for i in range(nd):
            o = np.arange(out[i])
            start = o * s[i] - p[i]
            end = np.minimum(start + k[i], sp[i] + p[i])
            size = end - start
            if not count_include_pad:
                size = np.minimum(end, sp[i]) - np.maximum(start, 0)
            inv = np.multiply.outer(inv, 1.0 / size)
        inv = inv.astype(x.dtype)
    geo = (x.shape[:-nd], sp, k, s, p, out, inv)
    return _avg_apply(input, geo, False)


@register(method=False, function=False)
def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-d average pooling over (N, C, L) or (C, L) input."""
    return _avg_pool(1, input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, "avg_pool1d")


@register(method=False, function=False)
def avg_pool2d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """2-d average pooling over (N, C, H, W) or (C, H, W) input."""
    return _avg_pool(2, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool2d")


@register(method=False, function=False)
def avg_pool3d(input: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """3-d average pooling over (N, C, D, H, W) or (C, D, H, W) input."""
    return _avg_pool(3, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override,
                     "avg_pool3d")


# ---------------------------------------------------------------------------
# adaptive pooling (PyTorch's bins: start = floor(i*In/Out), end = ceil((i+1)*In/Out))
# ---------------------------------------------------------------------------
def _adaptive_size(output_size: Any, sp: tuple, nd: int) -> tuple:
    if isinstance(output_size, (int, np.integer)) or output_size is None:
        output_size = (output_size,) * nd
    output_size = tuple(output_size)
    if len(output_size) != nd:
        raise ValueError(f"adaptive pool: output_size must be {nd}")
    return tuple(sp[i] if o is None else int(o) for i, o in enumerate(output_size))


def _bins(n_in: int, n_out: int) -> tuple:
    o = np.arange(n_out)
    return (o * n_in) // n_out, -((-(o + 1) * n_in) // n_out)


def _adaptive_check(x: Tensor, nd: int, fn: str) -> None:
    if x._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got {list(x._data.shape)}")
    for i in range(1 if x._data.ndim == nd + 2 else 0, x._data.ndim):
        if x._data.shape[i] == 0:
            raise RuntimeError(f"{fn}(): Expected input to have non-zero size for non-batch dimensions, but input has "
                               f"sizes {list(x._data.shape)} with dimension {i} being empty")


def _adaptive_avg(nd: int, input: Tensor, output_size: Any, fn: str) -> Tensor:
    if _vmap_levels and is_batched(input):
        return vmap_rule("pool", _adaptive_avg, nd, input, output_size, fn)
    check_tensor(input, fn)
    _adaptive_check(input, nd, fn)
    sp = input._data.shape[-nd:]
    out = _adaptive_size(output_size, sp, nd)
    if any(o < 0 for o in out):
        raise RuntimeError(f"{fn}(): Expected output size to be non-negative, but got {list(out)}")
    if all(o == 1 for o in out):
        return input.mean(dim=tuple(range(-nd, 0)), keepdim=True)
    if all(sp[i] % out[i] == 0 for i in range(nd)) and all(out):
        k = tuple(sp[i] // out[i] for i in range(nd))
        return _avg_pool(nd, input, k, k, 0, False, True, None, fn)
    # separable: one averaging matrix per spatial dim, applied with matmul along that dim
    y = input
    nd_all = input._data.ndim
    for i in range(nd):
        ax = nd_all - nd + i
        start, end = _bins(sp[i], out[i])
        A = np.zeros((sp[i], out[i]), input._data.dtype)
        for j in range(out[i]):
            A[start[j]:end[j], j] = 1.0 / (end[j] - start[j])
        At = _make(A, input._dtype)
        y = y.movedim(ax, -1).matmul(At).movedim(-1, ax) if ax != nd_all - 1 else y.matmul(At)
    return y


@register(method=False, function=False)
def adaptive_avg_pool1d(input: Tensor, output_size: Any) -> Tensor:
    """1-d adaptive average pooling to `output_size` bins."""
    return _adaptive_avg(1, input, output_size, "adaptive_avg_pool1d")


@register(method=False, function=False)
def adaptive_avg_pool2d(input: Tensor, output_size: Any) -> Tensor:
    """2-d adaptive average pooling to `output_size` (int, or (H, W) with None keeping a size)."""
    return _adaptive_avg(2, input, output_size, "adaptive_avg_pool2d")


@register(method=False, function=False)
def adaptive_avg_pool3d(input: Tensor, output_size: Any) -> Tensor:
    """3-d adaptive average pooling to `output_size` (int, or (D, H, W) with None keeping a size)."""
    return _adaptive_avg(3, input, output_size, "adaptive_avg_pool3d")


def _adaptive_max(nd: int, input: Tensor, output_size: Any, return_indices: bool, fn: str) -> Any:
    if _vmap_levels and is_batched(input):
        return vmap_rule("pool", _adaptive_max, nd, input, output_size, return_indices, fn)
    check_tensor(input, fn)
    _adaptive_check(input, nd, fn)
    x = input._data
    sp = x.shape[-nd:]
    out = _adaptive_size(output_size, sp, nd)
    if all(o > 0 and sp[i] % o == 0 for i, o in enumerate(out)):
        k = tuple(sp[i] // out[i] for i in range(nd))
        res = _max_pool(nd, input, k, k, 0, 1, False, return_indices, fn)
        if nd > 1:
            rename_grad_fn(res[0] if return_indices else res, f"AdaptiveMaxPool{nd}DBackward0")
        return res
    lead = x.shape[:-nd]
    B = _prod(lead)
    xb = x.reshape((B,) + sp)
    # each output bin gathered at its widest bin's width, repeating its last element (the
    # repeat never beats the first maximum); then one argmax over the flattened window
    idxs = []
    for i in range(nd):
        start, end = _bins(sp[i], out[i])
        kmax = int((end - start).max()) if out[i] else 1
        idxs.append(np.minimum(start[:, None] + np.arange(kmax)[None, :], (end - 1)[:, None]))
    kw = tuple(ii.shape[1] for ii in idxs)
    # open grid: dim i's index array lives on axes (2i, 2i+1) of a (O0, K0, O1, K1, ...) grid
    grid = []
    for i, ii in enumerate(idxs):
        shape = [1] * (2 * nd)
        shape[2 * i], shape[2 * i + 1] = ii.shape
        grid.append(ii.reshape(shape))
    g = xb[(slice(None),) + tuple(grid)]  # (B, O0, K0, O1, K1, ...)
    perm = (0,) + tuple(1 + 2 * i for i in range(nd)) + tuple(2 + 2 * i for i in range(nd))
    L = _prod(out)
    win = g.transpose(perm).reshape(B, L, _prod(kw))
    loc = np.argmax(win, axis=2) if win.shape[2] and L else np.zeros((B, L), np.int64)
    vals = np.take_along_axis(win, loc[..., None], axis=2)[..., 0] if L else np.zeros((B, 0), x.dtype)
    kpos = np.unravel_index(loc, kw)
    opos = np.unravel_index(np.arange(L), out)
    flat = np.zeros((B, L), np.int64)
    for i in range(nd):
        flat = flat * sp[i] + idxs[i][opos[i][None, :], kpos[i]]
    res = _make(vals.reshape(lead + out), input._dtype)
    if _needs(input):
        n = (MaxPoolBackward, AdaptiveMaxPool2DBackward0, AdaptiveMaxPool3DBackward0)[nd - 1]()
        n.idx, n.n_in, n.unique, n.in_shape, n.geo = flat, _prod(sp), False, x.shape, None
        record(n, res, (input,))
    if return_indices:
        return res, _make(flat.reshape(lead + out), D.int64)
    return res


@register(method=False, function=False)
def adaptive_max_pool1d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """1-d adaptive max pooling."""
    return _adaptive_max(1, input, output_size, return_indices, "adaptive_max_pool1d")


@register(method=False, function=False)
def adaptive_max_pool2d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """2-d adaptive max pooling."""
    return _adaptive_max(2, input, output_size, return_indices, "adaptive_max_pool2d")


@register(method=False, function=False)
def adaptive_max_pool3d(input: Tensor, output_size: Any, return_indices: bool = False) -> Any:
    """3-d adaptive max pooling."""
    return _adaptive_max(3, input, output_size, return_indices, "adaptive_max_pool3d")


@register(method=False, function=False)
def adaptive_max_pool1d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> tuple:
    return _adaptive_max(1, input, output_size, True, "adaptive_max_pool1d")


@register(method=False, function=False)
def adaptive_max_pool2d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> tuple:
    return _adaptive_max(2, input, output_size, True, "adaptive_max_pool2d")


@register(method=False, function=False)
def adaptive_max_pool3d_with_indices(input: Tensor, output_size: Any, return_indices: bool = True) -> tuple:
    return _adaptive_max(3, input, output_size, True, "adaptive_max_pool3d")


# ---------------------------------------------------------------------------
# padding: constant is a primitive (gradient: slice); reflect/replicate/circular are
# index_select along each padded dim (differentiable through index_select)
# ---------------------------------------------------------------------------
class ConstantPadNdBackward0(Node):
    __slots__ = ("sl",)

    def backward(self, g: Tensor) -> tuple:
        return (g[self.sl],)

    def fast(self, g: np.ndarray) -> tuple:
        return (g[self.sl],)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        from .indexing import _scatter_into_zeros
        return _scatter_into_zeros(ts[0], self.sl, out._data.shape, False)


def _constant_pad(x: Tensor, pads: list, value: float) -> Tensor:
    # pads: [(lo, hi)] for the last len(pads) dims, in natural order; all >= 0
    arr = x._data
    nd = len(pads)
    lead = arr.ndim - nd
    shape = arr.shape[:lead] + tuple(arr.shape[lead + i] + lo + hi for i, (lo, hi) in enumerate(pads))
    out = np.full(shape, value, arr.dtype) if value != 0 else np.zeros(shape, arr.dtype)
    sl = (slice(None),) * lead + tuple(slice(lo, lo + arr.shape[lead + i]) for i, (lo, _) in enumerate(pads))
    out[sl] = arr
    res = _make(out, x._dtype)
    if _needs(x):
        n = ConstantPadNdBackward0()
        n.sl = sl
        record(n, res, (x,))
    return res


def _pad_index(n: int, lo: int, hi: int, mode: str) -> np.ndarray:
    i = np.arange(-lo, n + hi)
    if mode == "replicate":
        return np.clip(i, 0, n - 1)
    if mode == "circular":
        return np.mod(i, n)
    # reflect (edge not repeated)
    period = 2 * (n - 1)
    if period == 0:
        return np.zeros_like(i)
    j = np.mod(i, period)
    return np.where(j >= n, period - j, j)


@register(method=False, function=False)
def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """Pad the last len(pad)//2 dims; `pad` lists (left, right) pairs starting from the LAST dim."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("pad", _pad_op, input, pad, mode, value)
    check_tensor(input, "pad")
    pad = [int(q) for q in pad]
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    npd = len(pad) // 2
    nd = input._data.ndim
    if npd > nd:
        raise RuntimeError(f"Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {nd}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    pairs = [(pad[2 * j], pad[2 * j + 1]) for j in range(npd)][::-1]  # natural dim order
    x = input
    if mode == "constant":
        val = 0.0 if value is None else value
        if any(lo < 0 or hi < 0 for lo, hi in pairs):
            sl = [slice(None)] * nd
            for i, (lo, hi) in enumerate(pairs):
                ax = nd - npd + i
                n = x._data.shape[ax]
                if n + min(lo, 0) + min(hi, 0) < 0:
                    raise RuntimeError(f"The input size {n}, plus negative padding {lo} and {hi} resulted in a "
                                       f"negative output size, which is invalid. Check dimension {ax} of your input.")
                sl[ax] = slice(max(-lo, 0), n - max(-hi, 0))
            x = x[tuple(sl)]
            pairs = [(max(lo, 0), max(hi, 0)) for lo, hi in pairs]
        if not any(lo or hi for lo, hi in pairs):
            return x.clone() if x is input else x
        return _constant_pad(x, pairs, val)
    if value is not None and value != 0:
        raise AssertionError(f"Padding mode \"{mode}\"\" doesn't take in value argument")
    if npd not in (1, 2, 3) or nd not in (npd + 1, npd + 2):
        raise NotImplementedError(
            f"Padding size {len(pad)} is not supported for {nd}D input tensor.\nSupported combinations for "
            "non-constant padding:\n  - 2D or 3D input: padding size = 2 (pads last dimension)\n"
            "  - 3D or 4D input: padding size = 4 (pads last 2 dimensions)\n"
            "  - 4D or 5D input: padding size = 6 (pads last 3 dimensions)")
    for i, (lo, hi) in enumerate(pairs):
        ax = nd - npd + i
        n = x._data.shape[ax]
        if mode == "reflect" and (lo >= n or hi >= n):
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input dimension, "
                               f"but got: padding ({lo}, {hi}) at dimension {ax} of input {list(input._data.shape)}")
        if mode == "circular" and (lo > n or hi > n):
            raise RuntimeError("Padding value causes wrapping around more than once.")
        if mode == "replicate" and n == 0:
            raise RuntimeError(f"Expected {npd + 1}D or {npd + 2}D (batch mode) tensor with possibly 0 batch size and "
                               f"other non-zero dimensions for input, but got: {list(input._data.shape)}")
    for i, (lo, hi) in enumerate(pairs):
        ax = nd - npd + i
        n = x._data.shape[ax]
        if lo < 0 or hi < 0:  # crop first (PyTorch's circular semantics)
            x = x.narrow(ax, max(-lo, 0), n + min(lo, 0) + min(hi, 0))
            lo, hi = max(lo, 0), max(hi, 0)
            n = x._data.shape[ax]
        if lo or hi:
            idx = _make(_pad_index(n, lo, hi, mode).astype(np.int64), D.int64)
            x = x.index_select(ax, idx)
    if x is input:
        return input.clone()
    if mode != "circular":
        rename_grad_fn(x, f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{npd}DBackward0")
    return x


_pad_op = pad  # (inside pad, the name `pad` is its argument)


# ---------------------------------------------------------------------------
# interpolation, separable: per spatial dim a blend of index_selects (1 tap nearest, 2 linear, 4 cubic)
# ---------------------------------------------------------------------------
_LINEAR = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}  # mode -> spatial dims


@register(method=False, function=False)
def interpolate(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
                align_corners: bool | None = None, recompute_scale_factor: bool | None = None,
                antialias: bool = False) -> Tensor:
    """Resize the spatial dims of (N, C, *S) input: nearest, nearest-exact, (bi/tri)linear, bicubic, area."""
    check_tensor(input, "interpolate")
    nd = input._data.ndim - 2
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: "
                             "linear | bilinear | bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    sp = input._data.shape[2:]
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != nd:
                raise ValueError(f"Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(sp)} and output size of {size}. Please provide "
                                 "input tensor in (N, C, d1, d2, ...,dK) format and output size in (o1, o2, ...,oK) "
                                 "format.")
            out = tuple(int(v) for v in size)
        else:
            out = (int(size),) * nd
        scales = [None] * nd
    elif scale_factor is not None:
        if isinstance(scale_factor, (list, tuple)):
            if len(scale_factor) != nd:
                raise ValueError(f"Input and scale_factor must have the same number of spatial dimensions, but got "
                                 f"input with spatial dimensions of {list(sp)} and scale_factor of shape "
                                 f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                                 "scale_factor in (s1, s2, ...,sK) format.")
            sf = [float(v) for v in scale_factor]
        else:
            sf = [float(scale_factor)] * nd
        out = tuple(int(math.floor(sp[i] * sf[i])) for i in range(nd))
        scales = [None] * nd if recompute_scale_factor else sf
    else:
        raise ValueError("either size or scale_factor should be defined")
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and nd == 2):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a "
                         "4-D tensor as input")
    if mode == "lanczos" and nd == 2:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    if mode in _LINEAR and mode != "bicubic" and _LINEAR[mode] != nd and nd in (1, 2, 3):
        raise NotImplementedError(f"Got {nd + 2}D input, but {mode} mode needs {_LINEAR[mode] + 2}D input")
    supported = (mode in ("nearest", "nearest-exact", "area") or mode in _LINEAR and _LINEAR[mode] == nd
                 or mode == "lanczos" and nd == 2)
    if not supported or nd not in (1, 2, 3):
        raise NotImplementedError(f"Input Error: Only 3D, 4D and 5D input Tensors supported (got {nd + 2}D) for the "
                                  f"modes: nearest | linear | bilinear | bicubic | trilinear | lanczos | area | "
                                  f"nearest-exact (got {mode})")
    if mode == "area":
        return _adaptive_avg(nd, input, out, "adaptive_avg_pool%dd" % nd)
    if input._dtype.category < 2:
        name = "nearest" if mode.startswith("nearest") else mode
        raise NotImplementedError(f"\"upsample_{name}{nd}d_channels_last\" not implemented for "
                                  f"'{_dtype_name(input)}'")
    if antialias:
        x = input
        for i in range(nd):
            A = _aa_matrix(mode, sp[i], out[i], scales[i], align_corners, input._data.dtype)
            x = x.movedim(2 + i, -1).matmul(_make(A.T.copy(), input._dtype)).movedim(-1, 2 + i)
        rename_grad_fn(x, f"Upsample{mode.capitalize()}2DAaBackward0")
        return x
    x = input
    for i in range(nd):
        if sp[i] == out[i] and mode in ("nearest", "nearest-exact") and scales[i] in (None, 1.0):
            continue
        taps = _interp_taps(mode, sp[i], out[i], scales[i], align_corners, input._data.dtype)
        x = _blend(x, 2 + i, taps, input._dtype)
    if x is input:
        return input.clone()
    names = {"nearest": "UpsampleNearest", "nearest-exact": "UpsampleNearestExact", "linear": "UpsampleLinear",
             "bilinear": "UpsampleBilinear", "bicubic": "UpsampleBicubic", "trilinear": "UpsampleTrilinear"}
    rename_grad_fn(x, f"{names[mode]}{nd}DBackward0")
    return x


def _aa_matrix(mode: str, n_in: int, n_out: int, scale: float | None, align_corners: bool, dtype: Any) -> np.ndarray:
    """(n_out, n_in) weights of antialiased resampling along one dim: the interpolation filter is
    widened by the downscale factor (a box of filters, as PIL resizes) and normalised per output."""
    if align_corners:
        step = (n_in - 1) / (n_out - 1) if n_out > 1 else 0.0
    else:
        step = 1.0 / scale if scale else n_in / n_out
    half = {"bilinear": 1.0, "bicubic": 2.0, "lanczos": 3.0}[mode]  # half the filter's support at unit scale
    support = half * step if step >= 1.0 else half
    inv = 1.0 / step if step >= 1.0 else 1.0
    A = np.zeros((n_out, n_in))
    for i in range(n_out):
        center = step * (i + 0.5)
        lo = max(int(center - support + 0.5), 0)
        hi = min(int(center + support + 0.5), n_in)
        d = np.abs((np.arange(lo, hi) - center + 0.5) * inv)
        if mode == "bilinear":
            w = np.clip(1 - d, 0, None)
        elif mode == "lanczos":  # Lanczos-3 windowed sinc
            w = np.where(d < 3, np.sinc(d) * np.sinc(d / 3), 0.0)
        else:  # Keys' cubic with a = -0.5 (PIL's)
            a = -0.5
            w = np.where(d < 1, ((a + 2) * d - (a + 3)) * d * d + 1,
                         np.where(d < 2, (((d - 5) * d + 8) * d - 4) * a, 0.0))
        total = w.sum()
        A[i, lo:hi] = w / total if total != 0 else w
    return A.astype(dtype)


def _cubic_weights(t: np.ndarray) -> list:
    """Keys' cubic convolution (a = -0.75) weights of the 4 taps around a fractional offset t."""
    a = t.dtype.type(-0.75)

    def near(d: np.ndarray) -> np.ndarray:  # |d| <= 1
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d: np.ndarray) -> np.ndarray:  # 1 < |d| < 2
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a
    one = t.dtype.type(1)
    return [far(t + one), near(t), near(one - t), far(2 * one - t)]


def _interp_taps(mode: str, n_in: int, n_out: int, scale: float | None, align_corners: bool | None,
                 dtype: np.dtype) -> list:
    """[(source indices, weights or None)] of one spatial dim: output j = sum_k w_k[j] * x[idx_k[j]]."""
    ft = np.float64 if dtype == np.float64 else np.float32
    j = np.arange(n_out, dtype=ft)
    if mode in ("nearest", "nearest-exact"):
        step = ft(1.0 / scale) if scale else ft(n_in / n_out)
        off = ft(0.5) if mode == "nearest-exact" else ft(0.0)
        return [(np.minimum(np.floor((j + off) * step).astype(np.int64), n_in - 1), None)]
    if align_corners:
        src = j * (ft((n_in - 1) / (n_out - 1)) if n_out > 1 else ft(0.0))
    else:
        step = ft(1.0 / scale) if scale else ft(n_in / n_out)
        src = (j + ft(0.5)) * step - ft(0.5)
        if mode != "bicubic":  # linear modes clamp the source at the first pixel; cubic does not
            src = np.maximum(src, ft(0.0))
    if mode == "bicubic":
        i0 = np.floor(src).astype(np.int64)
        w = _cubic_weights((src - i0.astype(ft)).astype(ft))
        return [(np.clip(i0 - 1 + k, 0, n_in - 1), w[k].astype(dtype)) for k in range(4)]
    i0 = np.minimum(src.astype(np.int64), n_in - 1)
    lam1 = (src - i0.astype(ft)).astype(dtype)
    return [(i0, (1 - lam1).astype(dtype)), (np.minimum(i0 + 1, n_in - 1), lam1)]


def _blend(x: Tensor, ax: int, taps: list, dt: D.dtype) -> Tensor:
    """sum over taps of weight * x gathered along `ax` (index_select: differentiable)."""
    out = None
    for idx, w in taps:
        term = x.index_select(ax, _make(idx, D.int64))
        if w is not None:
            shape = [1] * x._data.ndim
            shape[ax] = w.shape[0]
            term = term * _make(w.reshape(shape), dt)
        out = term if out is None else out + term
    return out


def upsample(input: Tensor, size: Any = None, scale_factor: Any = None, mode: str = "nearest",
             align_corners: bool | None = None) -> Tensor:
    """Deprecated alias of interpolate."""
    warnings.warn("`nn.functional.upsample` is deprecated. Use `nn.functional.interpolate` instead.", stacklevel=2)
    return interpolate(input, size, scale_factor, mode, align_corners)


def upsample_nearest(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(mode='nearest')."""
    warnings.warn("`nn.functional.upsample_nearest` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="nearest")


def upsample_bilinear(input: Tensor, size: Any = None, scale_factor: Any = None) -> Tensor:
    """Deprecated: interpolate(mode='bilinear', align_corners=True)."""
    warnings.warn("`nn.functional.upsample_bilinear` is deprecated. Use `nn.functional.interpolate` instead.",
                  stacklevel=2)
    return interpolate(input, size, scale_factor, mode="bilinear", align_corners=True)


# ---------------------------------------------------------------------------
# dropout (here because attention uses it; nn.functional re-exports it)
# ---------------------------------------------------------------------------
def _check_p(p: float) -> None:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _dropout_mask(input: Tensor, p: float, shape: tuple) -> Tensor:
    from .._random import _rng
    dt = input._dtype
    keep = _rng(None).random(shape, dtype=np.float64 if dt is D.float64 else np.float32) >= p
    if p == 1.0:
        return _make(np.zeros(shape, dt.np), dt)
    return _make(keep.astype(dt.np) * dt.np.type(1.0 / (1.0 - p)), dt)


def dropout(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero each element with probability p and scale the rest by 1/(1-p) (only when training)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("dropout", dropout, input, p, training, inplace)
    check_tensor(input, "dropout")
    _check_p(p)
    if not training or p == 0.0:
        return input
    mask = _dropout_mask(input, p, input._data.shape)
    if inplace:
        return apply_inplace(input, lambda x: x * mask)
    return input * mask


# ---------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------
class ScaledDotProductFlashAttentionForCpuBackward0(Node):
    """One node for attention on 4-d q, k, v without dropout (where PyTorch's CPU kernel is one node):
    the composite records seven nodes and keeps the scores, the masked scores and the probabilities;
    this one saves q, k, v and the probabilities, and its backward is four batched products."""

    __slots__ = ("scale", "causal")

    def _probs(self, q: Tensor, k: Tensor, mask: Any) -> Tensor:
        """The attention probabilities as a differentiable function of q and k."""
        return _attention_probs(q.matmul(k.transpose(-2, -1)) * self.scale, mask, self.causal)

    def backward(self, g: Tensor) -> tuple:
        q, k, v, mask = self.saved()[:4]
        p = self._probs(q, k, mask)
        gp = g.matmul(v.transpose(-2, -1))
        gs = p * (gp - (gp * p).sum(-1, keepdim=True)) * self.scale
        nf = self.next_functions
        return (gs.matmul(k) if nf[0][0] is not None else None,
                gs.transpose(-2, -1).matmul(q) if nf[1][0] is not None else None,
                p.transpose(-2, -1).matmul(g) if nf[2][0] is not None else None)

    def fast(self, g: np.ndarray) -> tuple:
        q, k, v, _, p = self.saved()
        dt = q._data.dtype
        g = upcast_arr(g)
        qa, ka, va = upcast_arr(q._data), upcast_arr(k._data), upcast_arr(v._data)
        nf = self.next_functions
        gv = np.matmul(p.swapaxes(-1, -2), g) if nf[2][0] is not None else None
        gs = np.matmul(g, va.swapaxes(-1, -2))  # dL/dp, then dL/dscores in place
        gs -= np.einsum("...ij,...ij->...i", gs, p)[..., None]
        gs *= p
        gs *= self.scale
        gq = np.matmul(gs, ka) if nf[0][0] is not None else None
        gk = np.matmul(gs.swapaxes(-1, -2), qa) if nf[1][0] is not None else None
        return tuple(None if r is None else r.astype(dt, copy=False) for r in (gq, gk, gv))

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        q, k, v = ins
        tq, tk, tv = ts
        p = self._probs(q, k, self.saved()[3])
        ds = tsum(None if tq is None else tq.matmul(k.transpose(-2, -1)),
                  None if tk is None else q.matmul(tk.transpose(-2, -1)))
        dout = None
        if ds is not None:
            ds = ds * self.scale
            dout = (p * (ds - (p * ds).sum(-1, keepdim=True))).matmul(v)
        return tsum(dout, None if tv is None else p.matmul(tv))


def upcast_arr(a: np.ndarray) -> np.ndarray:
    """float16/bfloat16 arrays in float32 (PyTorch's accumulation type), others unchanged."""
    return a.astype(np.float32) if a.dtype.char in "eE" else a


def _causal(L: int, S: int) -> np.ndarray:
    """The causal mask (query i sees keys 0..i, top-left aligned as PyTorch's is_causal)."""
    return np.tril(np.ones((L, S), bool))


def _attention_probs(scores: Tensor, mask: Any, causal: bool) -> Tensor:
    """softmax over the last dim of the masked scores; a row with every key masked gives zeros, as in
    PyTorch (its softmax of all -inf would be 0 / 0; such rows are softmaxed unmasked and then zeroed,
    so that no NaN reaches a gradient)."""
    if causal:
        L, S = scores.shape[-2:]
        scores = scores.masked_fill(_make(~_causal(L, S), D.bool), float("-inf"))
    elif mask is not None and mask._dtype is D.bool:
        scores = scores.masked_fill(mask.logical_not(), float("-inf"))
    elif mask is not None:
        scores = scores + mask
    if _vmap_levels and is_batched(scores):  # (no data-dependent branch inside vmap)
        d = scores.amax(-1, keepdim=True) == float("-inf")
    else:
        if not scores._data.size or not (scores._data.max(-1) == -np.inf).any():
            return softmax(scores, -1)
        d = _make(scores._data.max(-1, keepdims=True) == -np.inf, D.bool)
    return softmax(scores.masked_fill(d, 0.0), -1).masked_fill(d, 0.0)


@functools.lru_cache(maxsize=16)
def _causal_add(L: int, S: int, dtype: Any) -> np.ndarray:
    """The causal mask as an addend: 0 where a key is seen, -inf elsewhere (read-only, shared)."""
    a = np.where(_causal(L, S), 0, -np.inf).astype(dtype)
    a.flags.writeable = False
    return a


def _np_attention_probs(s: np.ndarray, mask: Any, causal: bool) -> np.ndarray:
    """_attention_probs on arrays, in place on the scores `s` (masks added, not indexed: one pass)."""
    L, S = s.shape[-2:]
    if causal:
        s += _causal_add(L, S, s.dtype)
    elif mask is not None:
        m = mask._data
        if mask._dtype is D.bool:
            np.copyto(s, -np.inf, where=~m)
        else:
            s += upcast_arr(m)
    mx = s.max(-1, keepdims=True)
    dead = mx == -np.inf
    if dead.any():
        mx[dead] = 0
    s -= mx
    np.exp(s, out=s)
    den = np.einsum("...ij->...i", s)[..., None]  # (einsum: a row sum several times faster than sum here)
    if dead.any():
        den[den == 0] = 1  # rows with every key masked: exp gave zeros, and zeros they stay
    s /= den
    return s


def _flash_ok(q: Tensor, k: Tensor, v: Tensor, mask: Any, dropout_p: float) -> bool:
    """Whether PyTorch's CPU flash kernel (one node) covers the call: 4-d operands with the same batch and
    head dims, matching head sizes, no dropout, a 2-d or 4-d mask that needs no gradient and broadcasts."""
    sq, sk, sv = q._data.shape, k._data.shape, v._data.shape
    if dropout_p > 0.0 or len(sq) != 4 or len(sk) != 4 or len(sv) != 4:
        return False
    if sq[:2] != sk[:2] or sk[:3] != sv[:3] or sq[3] != sk[3] or sv[3] != sq[3]:
        return False
    if not (q._dtype is k._dtype is v._dtype) or q._dtype.category != 2:
        return False
    if mask is not None:
        if not isinstance(mask, Tensor) or mask._requires_grad or mask._dtype.category not in (0, 2) or \
                mask._data.ndim not in (2, 4):
            return False
        try:
            if np.broadcast_shapes(mask._data.shape, sq[:3] + (sk[2],)) != sq[:3] + (sk[2],):
                return False
        except ValueError:
            return False
    return not (_vmap_levels and is_batched(q, k, v, mask))


@register(method=False, function=False)
@autocast_op("lower")
def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor, attn_mask: Tensor | None = None,
                                 dropout_p: float = 0.0, is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(Q K^T * scale + mask) V over the last two dims; bool masks mark positions that take part."""
    for t, nm in ((query, "query"), (key, "key"), (value, "value")):
        if not isinstance(t, Tensor):
            raise TypeError(f"scaled_dot_product_attention(): argument '{nm}' must be Tensor, not "
                            f"{type(t).__name__}")
    if min(query._data.ndim, key._data.ndim, value._data.ndim) < 2:
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query._data.ndim} key.dim: {key._data.ndim} and value.dim: {value._data.ndim} instead.")
    if query._data.shape[-1] != key._data.shape[-1]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{_prod(key._data.shape[:-2])}, {query._data.shape[-1]}] but got: "
                           f"[{_prod(key._data.shape[:-2])}, {key._data.shape[-1]}].")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when "
                           "is_causal=True")
    E = query._data.shape[-1]
    sc = 1.0 / math.sqrt(E) if scale is None else scale
    if enable_gqa and query._data.ndim >= 3 and key._data.shape[-3] != query._data.shape[-3]:
        rep = query._data.shape[-3] // key._data.shape[-3]
        key = key.repeat_interleave(rep, dim=-3)
        value = value.repeat_interleave(rep, dim=-3)
    if not _flash_ok(query, key, value, attn_mask, dropout_p):
        attn = _attention_probs(query.matmul(key.transpose(-2, -1)) * sc, attn_mask, is_causal)
        if dropout_p > 0.0:
            attn = dropout(attn, dropout_p, training=True)
        return attn.matmul(value)
    dt = query._dtype
    qa, ka, va = upcast_arr(query._data), upcast_arr(key._data), upcast_arr(value._data)
    s = np.matmul(qa, ka.swapaxes(-1, -2))
    s *= sc
    p = _np_attention_probs(s, attn_mask, is_causal)
    out = np.matmul(p, va)
    res = _make(out.astype(dt.np, copy=False), dt)
    if _state.enabled and (query._requires_grad or key._requires_grad or value._requires_grad) or \
            _fw_levels and has_fw(query, key, value):
        n = ScaledDotProductFlashAttentionForCpuBackward0()
        n.scale, n.causal = sc, is_causal
        n.save(query, key, value, attn_mask, p)
        record(n, res, (query, key, value))
    return res


def _mask_to_float(mask: Tensor | None, name: str, dtype: D.dtype) -> Tensor | None:
    if mask is None:
        return None
    if mask._dtype is D.bool:
        arr = np.where(mask._data, np.asarray(-np.inf, dtype.np), np.asarray(0, dtype.np))
        return _make(arr.astype(dtype.np), dtype)
    if mask._dtype.category != 2:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    return mask


def _lin(x: Tensor, w: Tensor, b: Tensor | None) -> Tensor:
    y = x.matmul(w.t())
    return y + b if b is not None else y


def multi_head_attention_forward(query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int,
                                 num_heads: int, in_proj_weight: Tensor | None, in_proj_bias: Tensor | None,
                                 bias_k: Tensor | None, bias_v: Tensor | None, add_zero_attn: bool,
                                 dropout_p: float, out_proj_weight: Tensor, out_proj_bias: Tensor | None,
                                 training: bool = True, key_padding_mask: Tensor | None = None,
                                 need_weights: bool = True, attn_mask: Tensor | None = None,
                                 use_separate_proj_weight: bool = False, q_proj_weight: Tensor | None = None,
                                 k_proj_weight: Tensor | None = None, v_proj_weight: Tensor | None = None,
                                 static_k: Tensor | None = None, static_v: Tensor | None = None,
                                 average_attn_weights: bool = True, is_causal: bool = False) -> tuple:
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)); returns (output, weights or None)."""
    batched = query.dim() == 3
    if not batched:
        if query.dim() != 2:
            raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D "
                                 "query tensor")
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    L, N, E = query.shape
    S = key.shape[0]
    if E != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {E}")
    H = num_heads
    hd = E // H
    if hd * H != E:
        raise AssertionError(f"embed_dim {E} not divisible by num_heads {H}")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    # input projections
    if not use_separate_proj_weight:
        if key.shape != value.shape:
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
        wq, wk, wv = in_proj_weight.chunk(3)
        bq, bk, bv = in_proj_bias.chunk(3) if in_proj_bias is not None else (None, None, None)
    else:
        wq, wk, wv = q_proj_weight, k_proj_weight, v_proj_weight
        bq, bk, bv = in_proj_bias.chunk(3) if in_proj_bias is not None else (None, None, None)
    q = _lin(query, wq, bq)
    k = _lin(key, wk, bk)
    v = _lin(value, wv, bv)
    dt = q._dtype
    # PyTorch trusts the is_causal hint when nothing else needs the mask: it then masks causally
    # itself and ignores attn_mask
    causal = is_causal and key_padding_mask is None and not need_weights
    if causal:
        attn_mask = None
    attn_mask = _mask_to_float(attn_mask, "attn_mask", dt)
    key_padding_mask = _mask_to_float(key_padding_mask, "key_padding_mask", dt)
    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (L, S):
                raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be {(L, S)}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (N * H, L, S):
                raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                                   f"{(N * H, L, S)}.")
        else:
            raise RuntimeError(f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if bias_k is not None and bias_v is not None:
        k = cat([k, bias_k.expand(1, N, E)])
        v = cat([v, bias_v.expand(1, N, E)])
        if attn_mask is not None:
            attn_mask = cat([attn_mask, zeros((attn_mask.shape[0], L, 1), dtype=dt)], 2)
        if key_padding_mask is not None:
            key_padding_mask = cat([key_padding_mask, zeros((N, 1), dtype=dt)], 1)
    # heads: (L, N, E) -> (N*H, L, hd)
    q = q.reshape(L, N * H, hd).transpose(0, 1)
    k = (static_k if static_k is not None else k.reshape(k.shape[0], N * H, hd).transpose(0, 1))
    v = (static_v if static_v is not None else v.reshape(v.shape[0], N * H, hd).transpose(0, 1))
    if add_zero_attn:
        k = cat([k, zeros((N * H, 1, hd), dtype=dt)], 1)
        v = cat([v, zeros((N * H, 1, hd), dtype=dt)], 1)
        if attn_mask is not None:
            attn_mask = cat([attn_mask, zeros((attn_mask.shape[0], L, 1), dtype=dt)], 2)
        if key_padding_mask is not None:
            key_padding_mask = cat([key_padding_mask, zeros((N, 1), dtype=dt)], 1)
    S2 = k.shape[1]
    if key_padding_mask is not None:
        for i, want in enumerate((N, S2)):
            if key_padding_mask.shape[i] != want:
                raise AssertionError(f"Expected key_padded_mask.shape[{i}] to be {want}, but got "
                                     f"{key_padding_mask.shape[i]}")
        kpm = key_padding_mask.reshape(N, 1, 1, S2).expand(N, H, 1, S2).reshape(N * H, 1, S2)
        attn_mask = kpm if attn_mask is None else attn_mask + kpm
    if not training:
        dropout_p = 0.0
    scores = (q * math.sqrt(1.0 / hd)).matmul(k.transpose(1, 2))
    if causal:
        attn_mask = generate_square_subsequent_mask(max(L, S2), dtype=dt)[:L, :S2]
    if attn_mask is not None:
        scores = scores + attn_mask
    w = softmax(scores, -1)
    if dropout_p > 0.0:
        w_used = dropout(w, p=dropout_p, training=True)
    else:
        w_used = w
    out = w_used.matmul(v)  # (N*H, L, hd)
    out = out.transpose(0, 1).reshape(L * N, E)
    out = _lin(out, out_proj_weight, out_proj_bias)
    out = out.reshape(L, N, out.shape[-1])  # the output projection may change the width: (out, E) weights
    weights = None
    if need_weights:
        weights = w_used.reshape(N, H, L, S2)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            weights = weights.squeeze(0)
    if not batched:
        out = out.squeeze(1)
    return out, weights


def generate_square_subsequent_mask(sz: int, device: Any = None, dtype: Any = None) -> Tensor:
    """(sz, sz) float mask: -inf above the diagonal, 0 elsewhere."""
    dt = dtype or D.get_default_dtype()
    arr = np.triu(np.full((sz, sz), -np.inf, dt.np), 1)
    return _make(arr, dt)


# ---------------------------------------------------------------------------
# compositions: power-average pooling, pixel shuffle, max unpooling
# ---------------------------------------------------------------------------
def _lp_pool(nd: int, input: Tensor, norm_type: float, kernel_size: Any, stride: Any, ceil_mode: bool) -> Tensor:
    k = _ntuple(kernel_size, nd, "kernel_size", f"lp_pool{nd}d")
    out = _avg_pool(nd, input.pow(norm_type), k, stride, 0, ceil_mode, True, None, f"avg_pool{nd}d")
    return (out.sign() * out.abs().relu()).mul(_prod(k)).pow(1.0 / norm_type)


@register(method=False, function=False)
def lp_pool1d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """1-d power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool(1, input, norm_type, kernel_size, stride, ceil_mode)


@register(method=False, function=False)
def lp_pool2d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """2-d power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool(2, input, norm_type, kernel_size, stride, ceil_mode)


@register(method=False, function=False)
def lp_pool3d(input: Tensor, norm_type: float, kernel_size: Any, stride: Any = None,
              ceil_mode: bool = False) -> Tensor:
    """3-d power-average pooling: (sum over the window of x**p) ** (1/p)."""
    return _lp_pool(3, input, norm_type, kernel_size, stride, ceil_mode)


def _shuffle_check(input: Tensor, r: int, fn: str, arg: str) -> tuple:
    check_tensor(input, fn)
    if input._data.ndim < 3:
        raise RuntimeError(f"{fn} expects input to have at least 3 dimensions, but got input with "
                           f"{input._data.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"{fn} expects a positive {arg}, but got {r}")
    return input._data.shape


@register(method=False, function=False)
def pixel_shuffle(input: Tensor, upscale_factor: int) -> Tensor:
    """(*, C*r*r, H, W) -> (*, C, H*r, W*r)."""
    r = int(upscale_factor)
    *lead, c, h, w = _shuffle_check(input, r, "pixel_shuffle", "upscale_factor")
    if c % (r * r):
        raise RuntimeError(f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    def f(t: Tensor) -> Tensor:
        n = len(lead)
        t = t.reshape(*lead, c // (r * r), r, r, h, w).permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
        return t.reshape(*lead, c // (r * r), h * r, w * r)
    return _shuffle_node(input, f, PixelShuffleBackward0, r)


@register(method=False, function=False)
def pixel_unshuffle(input: Tensor, downscale_factor: int) -> Tensor:
    """(*, C, H*r, W*r) -> (*, C*r*r, H, W)."""
    r = int(downscale_factor)
    *lead, c, h, w = _shuffle_check(input, r, "pixel_unshuffle", "downscale_factor")
    for name, size, d in (("height", h, -2), ("width", w, -1)):
        if size % r:
            raise RuntimeError(f"pixel_unshuffle expects {name} to be divisible by downscale_factor, but "
                               f"input.size({d})={size} is not divisible by {r}")
    def f(t: Tensor) -> Tensor:
        n = len(lead)
        t = t.reshape(*lead, c, h // r, r, w // r, r).permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
        return t.reshape(*lead, c * r * r, h // r, w // r)
    return _shuffle_node(input, f, PixelUnshuffleBackward0, r)


class PixelShuffleBackward0(Node):
    """pixel_shuffle is a permutation of elements: its gradient is pixel_unshuffle of g."""
    __slots__ = ("r",)

    def backward(self, g: Tensor) -> tuple:
        return (pixel_unshuffle(g, self.r),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return pixel_shuffle(ts[0], self.r)


class PixelUnshuffleBackward0(Node):
    """The inverse permutation: its gradient is pixel_shuffle of g."""
    __slots__ = ("r",)

    def backward(self, g: Tensor) -> tuple:
        return (pixel_shuffle(g, self.r),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return pixel_unshuffle(ts[0], self.r)


def _shuffle_node(input: Tensor, f: Any, node: type, r: int) -> Tensor:
    """f(input) (reshape/permute/reshape), recorded as one node as PyTorch does, a new tensor (not a view)."""
    if not (_state.enabled and input._requires_grad or _fw_levels and has_fw(input)) or \
            _vmap_levels and is_batched(input):
        return f(input)
    arr = f(_make(input._data, input._dtype))._data
    res = _make(arr.copy() if np.shares_memory(arr, input._data) else arr, input._dtype)
    n = node()
    n.r = r
    return record(n, res, (input,))


def _unpool_size(nd: int, sp: tuple, k: tuple, s: tuple, p: tuple, output_size: Any) -> tuple:
    default = tuple((sp[i] - 1) * s[i] - 2 * p[i] + k[i] for i in range(nd))
    if output_size is None:
        return default
    if isinstance(output_size, Tensor):
        output_size = output_size.tolist()
    size = [int(v) for v in output_size]
    if len(size) == nd + 2:
        size = size[2:]
    if len(size) != nd:
        raise ValueError(f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it has a "
                         f"length of '{len(size)}'")
    for i in range(nd):
        lo, hi = default[i] - s[i], default[i] + s[i]
        if not lo < size[i] < hi:
            raise ValueError(f'invalid output_size "{tuple(size)}" (dim {i} must be between {lo} and {hi})')
    return tuple(size)


def _max_unpool(nd: int, input: Tensor, indices: Tensor, kernel_size: Any, stride: Any, padding: Any,
                output_size: Any, fn: str) -> Tensor:
    if _vmap_levels and is_batched(input, indices):  # no batching rule: once per example
        return vmap_rule("loop", _max_unpool, nd, input, indices, kernel_size, stride, padding, output_size, fn)
    check_tensor(input, fn)
    check_tensor(indices, fn, "indices", 2)
    k = _ntuple(kernel_size, nd, "kernel_size", fn)
    s = k if stride is None else _ntuple(stride, nd, "stride", fn)
    p = _ntuple(padding, nd, "padding", fn)
    if indices._dtype is not D.int64:
        raise RuntimeError(f"elements in indices should be type int64 but got: {_dtype_name(indices)}")
    if indices._data.shape != input._data.shape:
        raise RuntimeError(f"Expected shape of indices to be same as that of the input tensor "
                           f"({list(input._data.shape)}) but got indices tensor with shape: "
                           f"{list(indices._data.shape)}")
    if input._data.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"Input to {fn} should be a {nd + 1}d or {nd + 2}d Tensor, but got a tensor with "
                           f"{input._data.ndim} dimensions.")
    sp = input._data.shape[-nd:]
    out = _unpool_size(nd, sp, k, s, p, output_size)
    lead = tuple(input._data.shape[:-nd])
    idx = indices._data.reshape(_prod(lead), -1)
    bad = (idx < 0) | (idx >= _prod(out))
    if bad.any():
        dims = out if nd > 1 else out + (1,)
        raise RuntimeError(f"Found an invalid max index: {int(idx[bad][-1])} (output volumes are of size "
                           f"{'x'.join(str(d) for d in dims)})")
    res = _scatter_flat(input, idx, _prod(out), True, lead + out)
    if nd > 1:
        rename_grad_fn(res, f"MaxUnpool{nd}DBackward0")
    return res


@register(method=False, function=False)
def max_unpool1d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Place each value of `input` at its max_pool1d index in a zero (N, C, L) tensor."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size, "max_unpool1d")


@register(method=False, function=False)
def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Place each value of `input` at its max_pool2d index in a zero (N, C, H, W) tensor."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size, "max_unpool2d")


@register(method=False, function=False)
def max_unpool3d(input: Tensor, indices: Tensor, kernel_size: Any, stride: Any = None, padding: Any = 0,
                 output_size: Any = None) -> Tensor:
    """Place each value of `input` at its max_pool3d index in a zero (N, C, D, H, W) tensor."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size, "max_unpool3d")


# ---------------------------------------------------------------------------
# fractional max pooling (Graham): pseudo-random window starts, one argmax per window
# ---------------------------------------------------------------------------
class FractionalMaxPool2DBackward0(MaxPoolBackward):
    __slots__ = ()


class FractionalMaxPool3DBackward0(MaxPoolBackward):
    __slots__ = ()


def _fractional_starts(u: np.ndarray, n_in: int, n_out: int, k: int) -> np.ndarray:
    """Window starts (..., n_out) from samples u (...) in [0, 1), in the input's float type."""
    starts = np.empty(u.shape + (n_out,), np.int64)
    if n_out > 1:
        alpha = u.dtype.type(n_in - k) / u.dtype.type(n_out - 1)
        i = np.arange(n_out - 1, dtype=u.dtype)
        starts[..., :-1] = (((i + u[..., None]) * alpha).astype(np.int64)
                            - (u * alpha).astype(np.int64)[..., None])
    if n_out > 0:
        starts[..., -1] = n_in - k
    return starts


def _fractional_max(nd: int, input: Tensor, kernel_size: Any, output_size: Any, output_ratio: Any,
                    return_indices: bool, samples: Tensor | None, fn: str) -> Any:
    check_tensor(input, fn)
    x = input._data
    if x.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(f"{fn}(): Expected {nd + 1}D or {nd + 2}D tensor, but got: {list(x.shape)}")
    k = _ntuple(kernel_size, nd, "kernel_size", fn)
    sp = x.shape[-nd:]
    if output_size is None:
        if output_ratio is None:
            raise ValueError(f"{fn} requires specifying either an output_size or an output_ratio")
        ratio = _ntuple_float(output_ratio, nd)
        out = tuple(int(sp[i] * ratio[i]) for i in range(nd))
    else:
        out = _ntuple(output_size, nd, "output_size", fn)
    names = ("height", "width") if nd == 2 else ("time", "height", "width")
    for i in range(nd):
        # PyTorch's bound: the last window must fit (2-d), and strictly inside the input (3-d)
        if out[i] + k[i] - 1 > sp[i] - (nd == 3):
            raise RuntimeError(f"{fn}{'_out' if nd == 3 else ''}(): pool {names[i]} {k[i]} too large relative to "
                               f"input {names[i]} {sp[i]}")
    batched = x.ndim == nd + 2
    N = x.shape[0] if batched else 1
    C = x.shape[-nd - 1]
    if samples is None:
        from .._random import rand
        samples = rand(N, C, nd, dtype=input._dtype)
    u = samples._data.astype(x.dtype, copy=False).reshape(N, C, nd)
    xb = x.reshape((N, C) + sp)
    # PyTorch's sample order: (width, height) in 2-d, (time, height, width) in 3-d
    order = (1, 0) if nd == 2 else (0, 1, 2)
    grid, starts = [], []
    for i in range(nd):
        st = _fractional_starts(u[:, :, order[i]], sp[i], out[i], k[i])  # (N, C, O_i)
        starts.append(st.reshape(N * C, out[i]))
        ii = st[..., None] + np.arange(k[i])  # (N, C, O_i, K_i)
        shape = [N, C] + [1] * (2 * nd)
        shape[2 + 2 * i], shape[3 + 2 * i] = out[i], k[i]
        grid.append(ii.reshape(shape))
    nidx = np.arange(N).reshape((N,) + (1,) * (2 * nd + 1))
    cidx = np.arange(C).reshape((1, C) + (1,) * (2 * nd))
    g = xb[(nidx, cidx) + tuple(grid)]  # (N, C, O0, K0, O1, K1, ...)
    perm = (0, 1) + tuple(2 + 2 * i for i in range(nd)) + tuple(3 + 2 * i for i in range(nd))
    B, L = N * C, _prod(out)
    win = g.transpose(perm).reshape(B, L, _prod(k))
    loc = np.argmax(win, axis=2)
    vals = np.take_along_axis(win, loc[..., None], axis=2)[..., 0]
    kpos = np.unravel_index(loc, k)
    opos = np.unravel_index(np.arange(L), out)
    flat = np.zeros((B, L), np.int64)
    for i in range(nd):
        flat = flat * sp[i] + starts[i][:, opos[i]] + kpos[i]
    lead = x.shape[:-nd]
    res = _make(vals.reshape(lead + out), input._dtype)
    if _needs(input):
        n = (FractionalMaxPool2DBackward0 if nd == 2 else FractionalMaxPool3DBackward0)()
        n.idx, n.n_in, n.unique, n.in_shape, n.geo = flat, _prod(sp), False, x.shape, None
        record(n, res, (input,))
    if return_indices:
        return res, _make(flat.reshape(lead + out), D.int64)
    return res


def _ntuple_float(v: Any, n: int) -> tuple:
    if isinstance(v, (list, tuple)):
        v = tuple(float(a) for a in v)
        return v * n if len(v) == 1 else v
    return (float(v),) * n


def fractional_max_pool2d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Tensor | None = None) -> Any:
    """2-d fractional max pooling: windows of kernel_size at pseudo-random starts, output_size outputs."""
    return _fractional_max(2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                           "fractional_max_pool2d")


def fractional_max_pool3d(input: Tensor, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                          return_indices: bool = False, _random_samples: Tensor | None = None) -> Any:
    """3-d fractional max pooling."""
    return _fractional_max(3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples,
                           "fractional_max_pool3d")


def fractional_max_pool2d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = True,
                                       _random_samples: Tensor | None = None) -> tuple:
    return _fractional_max(2, input, kernel_size, output_size, output_ratio, True, _random_samples,
                           "fractional_max_pool2d")


def fractional_max_pool3d_with_indices(input: Tensor, kernel_size: Any, output_size: Any = None,
                                       output_ratio: Any = None, return_indices: bool = True,
                                       _random_samples: Tensor | None = None) -> tuple:
    return _fractional_max(3, input, kernel_size, output_size, output_ratio, True, _random_samples,
                           "fractional_max_pool3d")


# ---------------------------------------------------------------------------
# affine_grid / grid_sample: sampling at arbitrary points, composed of differentiable ops
# (gathers weighted by functions of the grid), so input and grid both get gradients
# ---------------------------------------------------------------------------
_ALIGN_WARNING = ("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
                  "Please specify align_corners=True if the old behavior is desired. See the documentation of "
                  "grid_sample for details.")


def _base_coords(n: int, align_corners: bool, dtype: Any) -> np.ndarray:
    if align_corners:
        return np.linspace(-1, 1, n).astype(dtype) if n > 1 else np.zeros(n, dtype)
    return ((np.arange(n) * 2 + 1) / n - 1).astype(dtype)


@register(method=False, function=False)
def affine_grid(theta: Tensor, size: Sequence[int], align_corners: bool | None = None) -> Tensor:
    """Sampling grid (N, *spatial, nd) of the affine maps theta (N, nd, nd+1) over an output of `size`."""
    check_tensor(theta, "affine_grid")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    if theta._dtype.category != 2:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    given = size
    size = [int(v) for v in size]
    if len(size) == 4:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (2, 3):
            raise ValueError(f"Expected a batch of 2D affine matrices of shape Nx2x3 for size {given}. Got "
                             f"{theta.shape}.")
    elif len(size) == 5:
        if theta.dim() != 3 or tuple(theta.shape[-2:]) != (3, 4):
            raise ValueError(f"Expected a batch of 3D affine matrices of shape Nx3x4 for size {given}. Got "
                             f"{theta.shape}.")
    else:
        raise NotImplementedError(f"affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {given}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {given}")
    sp = size[2:]
    nd = len(sp)
    dt = theta._data.dtype
    axes = [_base_coords(n, align_corners, dt) for n in sp]  # D, H, W order
    mesh = np.meshgrid(*axes, indexing="ij")
    # base points (x, y[, z], 1): x runs along the last spatial dim
    base = np.stack([mesh[nd - 1 - k] for k in range(nd)] + [np.ones(tuple(sp), dt)], -1).reshape(-1, nd + 1)
    grid = _make(base, theta._dtype).matmul(theta.transpose(1, 2))  # (N, L, nd)
    return grid.reshape(size[0], *sp, nd)


def _reflect(c: Tensor, lo2: int, hi2: int) -> Tensor:
    """Reflect coordinates into [lo2/2, hi2/2] (bounds given doubled, as in align_corners=False)."""
    if lo2 == hi2:
        return c * 0
    lo = lo2 / 2
    span = (hi2 - lo2) / 2
    d = (c - lo).abs()
    flips = (d / span).floor().detach()
    extra = d - flips * span
    even = _make(np.mod(flips._data, 2) == 0, D.bool)
    from .elementwise import where
    return where(even, extra + lo, (span + lo) - extra)


def _grid_coord(c: Tensor, n: int, padding_mode: str, align_corners: bool, clip: bool = True) -> Tensor:
    """Grid coordinate in [-1, 1] -> pixel coordinate of a size-n dim, with border/reflection padding."""
    c = (c + 1) / 2 * (n - 1) if align_corners else ((c + 1) * n - 1) / 2
    if not clip:
        return c
    if padding_mode == "border":
        c = c.clamp(0, n - 1)
    elif padding_mode == "reflection":
        c = _reflect(c, 0, 2 * (n - 1)) if align_corners else _reflect(c, -1, 2 * n - 1)
        c = c.clamp(0, n - 1)
    return c


def _tap_index(i: np.ndarray, n: int, padding_mode: str, align_corners: bool) -> np.ndarray:
    """Integer tap positions of bicubic sampling, padded as the coordinates are."""
    if padding_mode == "border":
        return np.clip(i, 0, n - 1)
    if padding_mode == "reflection":
        f = i.astype(np.float64)
        if align_corners:
            span = max(n - 1, 1)
            f = np.abs(f)
        else:
            span = n
            f = np.abs(f + 0.5)
        k = np.floor(f / span)
        e = f - k * span
        f = np.where(np.mod(k, 2) == 0, e, span - e)
        if not align_corners:
            f = f - 0.5
        return np.clip(np.round(f), 0, n - 1).astype(np.int64)
    return i


@register(method=False, function=False)
def grid_sample(input: Tensor, grid: Tensor, mode: str = "bilinear", padding_mode: str = "zeros",
                align_corners: bool | None = None) -> Tensor:
    """Sample input (N, C, *S) at the points of grid (N, *out, nd) given in [-1, 1] (x along the last dim)."""
    if _vmap_levels and is_batched(input, grid):  # no batching rule: once per example
        return vmap_rule("loop", grid_sample, input, grid, mode, padding_mode, align_corners)
    check_tensor(input, "grid_sample")
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError(f"nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', "
                         f"but got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError(f"nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warnings.warn(_ALIGN_WARNING, stacklevel=2)
        align_corners = False
    nd = input.dim() - 2
    if nd not in (2, 3) or grid.dim() != input.dim():
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != nd:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {nd} in last dimension, but got grid with "
                           f"sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input._dtype is not grid._dtype:
        raise RuntimeError(f"grid_sampler(): expected input and grid to have same dtype, but input has "
                           f"{_dtype_name(input).lower()} and grid has {_dtype_name(grid).lower()}")
    if mode == "bicubic" and nd != 2:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    N, C = input.shape[:2]
    sp = tuple(input.shape[2:])
    out_sp = tuple(grid.shape[1:-1])
    L = _prod(out_sp)
    g = grid.reshape(N, L, nd)
    taps = []  # per spatial dim: list of (index array (N, L), weight tensor or None)
    for i in range(nd):
        c = g[:, :, nd - 1 - i]
        n = sp[i]
        if mode == "bicubic":
            c = _grid_coord(c, n, padding_mode, align_corners, clip=False)
            f = c.detach().floor()
            t = c - f
            ws = _cubic_weights_t(t)
            base = f._data.astype(np.int64)
            taps.append([(_tap_index(base - 1 + k, n, padding_mode, align_corners), ws[k]) for k in range(4)])
            continue
        c = _grid_coord(c, n, padding_mode, align_corners)
        if mode == "nearest":
            # weight 1 as a function of the grid: its gradient is zero, as in PyTorch
            taps.append([(np.rint(c._data).astype(np.int64), c * 0 + 1 if c._requires_grad else None)])
            continue
        f = c.detach().floor()
        t = c - f
        i0 = f._data.astype(np.int64)
        taps.append([(i0, 1 - t), (i0 + 1, t)])
    flat_in = input.reshape(N, C, _prod(sp))
    out = None
    for combo in np.ndindex(*[len(tp) for tp in taps]):
        idx = np.zeros((N, L), np.int64)
        ok = np.ones((N, L), bool)
        w = None
        for i, k in enumerate(combo):
            ii, wi = taps[i][k]
            ok &= (ii >= 0) & (ii < sp[i])
            idx = idx * sp[i] + np.clip(ii, 0, sp[i] - 1)
            if wi is not None:
                w = wi if w is None else w * wi
        vals = flat_in.gather(2, _make(np.broadcast_to(idx[:, None, :], (N, C, L)).copy(), D.int64))
        mask = _make(ok[:, None, :].astype(input._data.dtype), input._dtype)
        term = vals * mask if w is None else vals * (w.unsqueeze(1) * mask)
        out = term if out is None else out + term
    return out.reshape(N, C, *out_sp)


def _cubic_weights_t(t: Tensor) -> list:
    """Keys' cubic convolution weights (a = -0.75) of the 4 taps around fractional offsets t (tensors)."""
    a = -0.75

    def near(d: Tensor) -> Tensor:  # |d| <= 1
        return ((d * (a + 2) - (a + 3)) * d * d) + 1

    def far(d: Tensor) -> Tensor:  # 1 < |d| < 2
        return ((d * a - 5 * a) * d + 8 * a) * d - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


# ---------------------------------------------------------------------------
# connectionist temporal classification: log-space forward-backward over the blank-extended
# targets, vectorised over the batch (one Python step per time step)
# ---------------------------------------------------------------------------
class CtcLossBackward0(Node):
    """Gradient of the per-sample CTC loss. It is PyTorch's formula exp(lp) - posterior occupancy,
    which is the true gradient only through a log_softmax (where both agree); used for equal numbers
    when log_probs is fed without one. First order only, as in PyTorch."""

    __slots__ = ("grad",)

    def backward(self, g: Tensor) -> tuple:
        scale = g._data.reshape(1, -1, 1).astype(self.grad.dtype)
        return (_make(self.grad * scale, g._dtype),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        t = ts[0]
        return (t * _make(self.grad, t._dtype)).sum((0, 2))  # the transpose of the rule above


def _lse(*xs: np.ndarray) -> np.ndarray:
    m = xs[0]
    for x in xs[1:]:
        m = np.maximum(m, x)
    safe = np.where(np.isfinite(m), m, 0.0)
    acc = sum(np.exp(x - safe) for x in xs)
    with np.errstate(divide="ignore"):
        return np.log(acc) + safe


def _ctc_lengths(v: Any, n: int, name: str, T: int | None) -> np.ndarray:
    arr = np.asarray(v._data if isinstance(v, Tensor) else v, dtype=np.int64).reshape(-1)
    if arr.shape[0] != n:
        raise RuntimeError(f"{name} must be of size batch_size")
    return arr


def ctc_loss_raw(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int,
                 zero_infinity: bool) -> Tensor:
    """Per-sample CTC negative log-likelihood (N,) of (T, N, C) log-probabilities."""
    lp = log_probs._data
    T, N, C = lp.shape
    il = _ctc_lengths(input_lengths, N, "input_lengths", T)
    tl = _ctc_lengths(target_lengths, N, "target_lengths", None)
    if not 0 <= blank < C:
        raise RuntimeError("blank must be in label range")
    for name, arr, hi in (("input_lengths", il, T),):
        if arr.size and arr.min() < 0:
            raise RuntimeError(f"Expected {name} to have value at least 0, but got value {int(arr.min())} (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
        if arr.size and arr.max() > hi:
            raise RuntimeError(f"Expected {name} to have value at most {hi}, but got value {int(arr.max())} (while "
                               "checking arguments for ctc_loss_allocate_outputs)")
    tg = targets._data.astype(np.int64)
    S = int(tl.max()) if tl.size else 0
    if tg.ndim == 1:  # concatenated targets
        if tg.shape[0] != int(tl.sum()):
            raise RuntimeError(f"Expected tensor to have size {int(tl.sum())} at dimension 0, but got size "
                               f"{tg.shape[0]} for argument #2 'targets' (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        offs = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        lab = np.zeros((N, S), np.int64)
        for n in range(N):
            lab[n, :tl[n]] = tg[offs[n]:offs[n] + tl[n]]
    else:
        if tg.shape[1] < S:
            raise RuntimeError(f"Expected tensor to have size at least {S} at dimension 1, but got size "
                               f"{tg.shape[1]} for argument #2 'targets' (while checking arguments for "
                               "ctc_loss_allocate_outputs)")
        lab = tg[:, :S]
    used = np.arange(S)[None, :] < tl[:, None]
    if used.any() and ((lab[used] < 0) | (lab[used] >= C)).any():
        raise RuntimeError(f"ctc_loss: target labels must lie in [0, {C - 1}]")
    L = 2 * S + 1
    ext = np.full((N, L), blank, np.int64)
    ext[:, 1::2] = np.where(used, lab, blank)
    valid = np.arange(L)[None, :] < (2 * tl + 1)[:, None]
    skip = np.zeros((N, L), bool)
    skip[:, 3::2] = ext[:, 3::2] != ext[:, 1:-2:2]  # label to label (odd positions), unless repeated
    lp64 = lp.astype(np.float64)
    em = np.take_along_axis(lp64, np.broadcast_to(ext[None], (T, N, L)), axis=2)  # (T, N, L) emissions
    em = np.where(valid[None], em, -np.inf)
    ninf = np.full((N, L), -np.inf)
    alpha = np.full((T, N, L), -np.inf)
    if T:
        a0 = ninf.copy()
        a0[:, 0] = em[0, :, 0]
        if L > 1:
            a0[:, 1] = np.where(tl > 0, em[0, :, 1], -np.inf)
        alpha[0] = a0
    for t in range(1, T):
        prev = alpha[t - 1]
        s1 = np.concatenate([ninf[:, :1], prev[:, :-1]], 1)
        s2 = np.where(skip, np.concatenate([ninf[:, :2], prev[:, :-2]], 1), -np.inf)
        alpha[t] = np.where((t < il)[:, None], _lse(prev, s1, s2) + em[t], -np.inf)
    last = np.clip(il - 1, 0, None)
    aT = alpha[last, np.arange(N)]  # (N, L) at each sample's last step
    end = 2 * tl
    fin = np.take_along_axis(aT, end[:, None], 1)[:, 0]
    fin2 = np.where(tl > 0, np.take_along_axis(aT, np.maximum(end - 1, 0)[:, None], 1)[:, 0], -np.inf)
    nll = -_lse(fin, fin2)
    nll = np.where(il > 0, nll, np.where(tl > 0, np.inf, 0.0))
    inf = np.isinf(nll)
    if zero_infinity:
        nll = np.where(inf, 0.0, nll)
    res = _make(nll.astype(lp.dtype), log_probs._dtype)
    if _needs(log_probs):
        beta = np.full((T, N, L), -np.inf)
        for t in range(T - 1, -1, -1):
            start = t == il - 1  # (N,) samples whose last step is t
            init = ninf.copy()
            rows = np.nonzero(start)[0]
            init[rows, end[rows]] = em[t, rows, end[rows]]
            r2 = rows[tl[rows] > 0]
            init[r2, end[r2] - 1] = em[t, r2, end[r2] - 1]
            if t + 1 < T:
                nxt = beta[t + 1]
                s1 = np.concatenate([nxt[:, 1:], ninf[:, :1]], 1)
                s2 = np.where(np.concatenate([skip[:, 2:], np.zeros((N, 2), bool)], 1),
                              np.concatenate([nxt[:, 2:], ninf[:, :2]], 1), -np.inf)
                rec = _lse(nxt, s1, s2) + em[t]
            else:
                rec = ninf
            beta[t] = np.where(start[:, None], init, np.where((t < il - 1)[:, None], rec, -np.inf))
        ab = alpha + beta  # (T, N, L)
        m = ab.max(2, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        occ = np.zeros((T, N, C))
        tt, nn_, ss = np.meshgrid(np.arange(T), np.arange(N), np.arange(L), indexing="ij")
        np.add.at(occ, (tt, nn_, np.broadcast_to(ext[None], (T, N, L))), np.exp(ab - m))
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            post = np.exp(np.log(occ) + m + nll[None, :, None] - lp64)
            grad = np.exp(lp64) - post
        grad = np.where((np.arange(T)[:, None] < il[None, :])[:, :, None], grad, 0.0)
        if zero_infinity:
            grad = np.where(inf[None, :, None], 0.0, grad)
        n = CtcLossBackward0()
        n.grad = grad.astype(lp.dtype)
        record(n, res, (log_probs,))
    return res


# ---------------------------------------------------------------------------
# split into views with ONE node (recurrent layers: time steps and gates), whose
# gradient is a single concatenation instead of one zero-padded copy per piece
# ---------------------------------------------------------------------------
class SplitBackward0(Node):
    __slots__ = ("dim", "sizes", "squeeze", "shape", "dtype")

    def backward(self, *grads: Any) -> tuple:
        from .._creation import zeros
        from .shape import cat, stack
        parts = []
        for g, sz in zip(grads, self.sizes):
            if g is None:
                shp = list(self.shape)
                if self.squeeze:
                    del shp[self.dim]
                else:
                    shp[self.dim] = sz
                g = zeros(shp, dtype=self.dtype)
            parts.append(g)
        return ((stack(parts, self.dim) if self.squeeze else cat(parts, self.dim)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return tuple(split_views(ts[0], self.dim, None if self.squeeze else self.sizes))


def split_views(x: Tensor, dim: int, sizes: Sequence[int] | None = None) -> list:
    """Views of x split along dim (sizes given) or unbound along dim (sizes None), sharing one Node."""
    if _vmap_levels and is_batched(x):
        return vmap_rule("split_views", split_views, x, dim, sizes)
    from .shape import as_view
    arr = x._data
    squeeze = sizes is None
    outs = []
    if squeeze:
        n = arr.shape[dim]
        idx = [slice(None)] * arr.ndim
        for i in range(n):
            idx[dim] = i
            outs.append(as_view(x, arr[tuple(idx)]))
        sizes = [1] * n
    else:
        start = 0
        idx = [slice(None)] * arr.ndim
        for sz in sizes:
            idx[dim] = slice(start, start + sz)
            outs.append(as_view(x, arr[tuple(idx)]))
            start += sz
    if _needs(x) and outs:
        node = SplitBackward0()
        node.n_outputs = len(outs)
        node.dim, node.sizes, node.squeeze, node.shape, node.dtype = dim, list(sizes), squeeze, arr.shape, x._dtype
        record_many(node, outs, (x,))
    return outs
