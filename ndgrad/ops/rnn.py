"""Recurrent layers over a whole sequence: one layer, one direction, time-major (L, N, Din).

`run_direction` is the reference: each step built from differentiable ops (matmul, sigmoid, tanh and one
split node for the gates), so autograd needs no rule of its own. For LSTM and GRU it is also run as one
node over the sequence (PyTorch's CPU LSTM is one node per layer, MkldnnRnnLayerBackward0; its GRU is
built per step, so the GRU node takes the name GruLayerBackward0): the composite records about fifteen
nodes per step, and its backward runs them one by one. The fused forward does the input projection of
every step in one GEMM and keeps the activated gates; the backward walks the steps in reverse with a
few array operations each (the factors that do not depend on the recurrence are computed for all
steps at once), then computes the weight and input gradients as three GEMMs over the stacked steps
(as cuDNN does). Gate order and layout are PyTorch's: LSTM rows (i, f, g, o), GRU rows (r, z, n) with
n = tanh(W_in x + b_in + r * (W_hn h + b_hn)).

The fused node's `backward` on Tensors (create_graph) replays the reference on the saved inputs and
takes its vector-Jacobian product, so gradients of gradients need no second set of rules; forward-mode
AD and vmap use the reference directly.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _creation
from .._tensor import Tensor
from ..autograd import grad_mode
from ..autograd.graph import Node
from ._core import _fw_levels, _make, _state, _vmap_levels, has_fw, is_batched, record_many, upcast

__all__ = ["run_direction", "run_composite", "step", "project"]


# ---------------------------------------------------------------------------
# the reference: one step of differentiable ops
# ---------------------------------------------------------------------------
def step(mode: str, xt: Tensor, h: Tensor, c: Tensor | None, whh_t: Tensor, b_hh: Tensor | None) -> tuple:
    """One time step of one layer: xt is the step's input projection (biases folded in, except GRU's b_hh)."""
    from .nn import split_views
    H = whh_t.shape[0]
    if mode == "LSTM":
        i, f, g, o = split_views(xt + h.matmul(whh_t), 1, [H, H, H, H])
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        return o.sigmoid() * c.tanh(), c
    if mode == "GRU":
        gh = h.matmul(whh_t)
        if b_hh is not None:
            gh = gh + b_hh
        ir, iz, in_ = split_views(xt, 1, [H, H, H])
        hr, hz, hn = split_views(gh, 1, [H, H, H])
        r = (ir + hr).sigmoid()
        z = (iz + hz).sigmoid()
        n = (in_ + r * hn).tanh()
        return n + z * (h - n), c
    pre = xt + h.matmul(whh_t)
    return (pre.relu() if mode == "RNN_RELU" else pre.tanh()), c


def project(mode: str, x2d: Tensor, w_ih: Tensor, b_ih: Tensor | None, b_hh: Tensor | None) -> Tensor:
    """Input projection of every time step in one matmul; for RNN/LSTM b_hh is folded in as well."""
    xw = x2d.matmul(w_ih.t())
    if b_ih is not None:
        xw = xw + (b_ih + b_hh if mode != "GRU" else b_ih)
    return xw


def run_composite(mode: str, x: Tensor, h: Tensor, c: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None, b_hh: Tensor | None, reverse: bool) -> tuple:
    """One layer, one direction over x (L, N, Din), step by step. Returns (outputs (L, N, H), h_T, c_T)."""
    from .nn import split_views
    from .shape import stack
    L, N, Din = x.shape
    H = w_hh.shape[1]
    G = w_ih.shape[0]
    xw = project(mode, x.reshape(L * N, Din), w_ih, b_ih, b_hh)
    steps = split_views(xw.reshape(L, N, G), 0) if L else []
    whh_t = w_hh.t()
    outs: list = [None] * L
    for t in (range(L - 1, -1, -1) if reverse else range(L)):
        h, c = step(mode, steps[t], h, c, whh_t, b_hh)
        outs[t] = h
    out = stack(outs, 0) if L else _creation.zeros((0, N, H), dtype=x.dtype)
    return out, h, c


# ---------------------------------------------------------------------------
# the fused node
# ---------------------------------------------------------------------------
def _a(t: Tensor | None, H4: int, dt: Any) -> np.ndarray:
    """A parameter's array in the compute dtype (zeros for a missing bias)."""
    return np.zeros(H4, dt) if t is None else upcast(t._data).astype(dt, copy=False)


def _lstm_forward(x: np.ndarray, h0: np.ndarray, c0: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray,
                  b: np.ndarray, keep: bool) -> tuple:
    """LSTM over x (L, N, Din) forward in time. Returns out (L, N, H), h_T, c_T and, with `keep`, what the
    backward needs: the activated gates A (L, N, 4H) and the cell states C (L + 1, N, H)."""
    L, N, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    gates = np.matmul(x.reshape(L * N, -1), w_ih.T).reshape(L, N, 4 * H)
    gates += b
    whh_t = w_hh.T
    # sigmoid(v) = (tanh(v / 2) + 1) / 2 on the i, f, o columns and tanh on g: one tanh pass per step
    pre = np.full(4 * H, 0.5, dt)
    pre[2 * H:3 * H] = 1.0
    post = pre.copy()
    shift = np.full(4 * H, 0.5, dt)
    shift[2 * H:3 * H] = 0.0
    out = np.empty((L, N, H), dt)
    C = np.empty((L + 1, N, H), dt) if keep else np.empty((2, N, H), dt)
    C[0] = c0
    h, tmp = h0, np.empty((N, 4 * H), dt)
    ig = np.empty((N, H), dt)
    for t in range(L):
        a = gates[t]
        np.matmul(h, whh_t, out=tmp)
        a += tmp
        a *= pre
        np.tanh(a, out=a)
        a *= post
        a += shift
        c_prev, c = (C[t], C[t + 1]) if keep else (C[t % 2], C[(t + 1) % 2])
        np.multiply(a[:, H:2 * H], c_prev, out=c)
        np.multiply(a[:, :H], a[:, 2 * H:3 * H], out=ig)
        c += ig
        h = out[t]
        np.tanh(c, out=h)
        h *= a[:, 3 * H:]
    c_last = C[L if keep else L % 2]
    return out, (out[L - 1] if L else h0), c_last, gates, C


def _lstm_backward(gout: np.ndarray | None, ghn: np.ndarray | None, gcn: np.ndarray | None, x: np.ndarray,
                   h0: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, out: np.ndarray, A: np.ndarray,
                   C: np.ndarray) -> tuple:
    """Gradients (x, h0, c0, w_ih, w_hh, bias) of the LSTM from _lstm_forward's saved arrays."""
    L, N, Din = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    i, f, g, o = A[..., :H], A[..., H:2 * H], A[..., 2 * H:3 * H], A[..., 3 * H:]
    tc = np.tanh(C[1:])
    # the factors that do not depend on the recurrence, for every step at once:
    # dc = dh o (1 - tanh(c)^2) + dc_next; d(i, f, g) pre-activations = dc * K[..., :3H]; d o = dh * K[..., 3H:]
    K = np.empty_like(A)
    np.multiply(i, 1 - i, out=K[..., :H])
    K[..., :H] *= g
    np.multiply(f, 1 - f, out=K[..., H:2 * H])
    K[..., H:2 * H] *= C[:-1]
    np.multiply(g, g, out=K[..., 2 * H:3 * H])
    np.subtract(1, K[..., 2 * H:3 * H], out=K[..., 2 * H:3 * H])
    K[..., 2 * H:3 * H] *= i
    np.multiply(o, 1 - o, out=K[..., 3 * H:])
    K[..., 3 * H:] *= tc
    oT = tc
    oT *= tc
    np.subtract(1, oT, out=oT)
    oT *= o
    dG = np.empty_like(A)
    dh = np.empty((N, H), dt)
    dc = np.empty((N, H), dt)
    dh_next = np.zeros((N, H), dt) if ghn is None else upcast(ghn).astype(dt, copy=True)
    dc_next = np.zeros((N, H), dt) if gcn is None else upcast(gcn).astype(dt, copy=True)
    for t in range(L - 1, -1, -1):
        if gout is not None:
            np.add(gout[t], dh_next, out=dh)
        else:
            dh[...] = dh_next
        np.multiply(dh, oT[t], out=dc)
        dc += dc_next
        np.multiply(K[t, :, :3 * H].reshape(N, 3, H), dc[:, None, :], out=dG[t, :, :3 * H].reshape(N, 3, H))
        np.multiply(K[t, :, 3 * H:], dh, out=dG[t, :, 3 * H:])
        np.multiply(dc, f[t], out=dc_next)
        np.matmul(dG[t], w_hh, out=dh_next)
    dG2 = dG.reshape(L * N, 4 * H)
    h_prev = np.concatenate((h0[None], out[:-1]), 0).reshape(L * N, H)
    return (np.matmul(dG2, w_ih).reshape(L, N, Din), dh_next, dc_next, np.matmul(dG2.T, x.reshape(L * N, Din)),
            np.matmul(dG2.T, h_prev), dG2.sum(0))


def _gru_forward(x: np.ndarray, h0: np.ndarray, w_ih: np.ndarray, w_hh: np.ndarray, b_ih: np.ndarray,
                 b_hh: np.ndarray, keep: bool) -> tuple:
    """GRU over x (L, N, Din) forward in time. Returns out (L, N, H), h_T and, with `keep`, the gates
    (L, N, 3H): r, z, n and (in place of the input projection's n part) W_hn h + b_hn."""
    L, N, _ = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    gi = np.matmul(x.reshape(L * N, -1), w_ih.T).reshape(L, N, 3 * H)
    gi += b_ih
    R = np.empty((L, N, 3 * H), dt) if keep else None  # r, z, n
    whh_t = w_hh.T
    out = np.empty((L, N, H), dt)
    h = h0
    gh = np.empty((N, 3 * H), dt)
    rz = np.empty((N, 2 * H), dt)
    n = np.empty((N, H), dt)
    for t in range(L):
        np.matmul(h, whh_t, out=gh)
        gh += b_hh
        a = gi[t]
        np.add(a[:, :2 * H], gh[:, :2 * H], out=rz)  # sigmoid(v) = (tanh(v / 2) + 1) / 2
        rz *= 0.5
        np.tanh(rz, out=rz)
        rz *= 0.5
        rz += 0.5
        r, z = rz[:, :H], rz[:, H:]
        np.multiply(r, gh[:, 2 * H:], out=n)
        n += a[:, 2 * H:]
        np.tanh(n, out=n)
        h_new = out[t]
        np.subtract(h, n, out=h_new)  # h' = n + z (h - n)
        h_new *= z
        h_new += n
        if keep:
            R[t, :, :2 * H] = rz
            R[t, :, 2 * H:] = n
            a[:, 2 * H:] = gh[:, 2 * H:]  # W_hn h + b_hn, for the backward
        h = h_new
    return out, (out[L - 1] if L else h0), gi, R


def _gru_backward(gout: np.ndarray | None, ghn: np.ndarray | None, x: np.ndarray, h0: np.ndarray,
                  w_ih: np.ndarray, w_hh: np.ndarray, out: np.ndarray, ghn_all: np.ndarray,
                  R: np.ndarray) -> tuple:
    """Gradients (x, h0, w_ih, w_hh, b_ih, b_hh) of the GRU from _gru_forward's saved arrays."""
    L, N, Din = x.shape
    H = w_hh.shape[1]
    dt = x.dtype
    r, z, n = R[..., :H], R[..., H:2 * H], R[..., 2 * H:]
    hn = ghn_all[..., 2 * H:]
    h_prev = np.concatenate((h0[None], out[:-1]), 0)
    # per step: dn_pre = dh * A2, dz_pre = dh * A1, dr_pre = dn_pre * A3, dh_prev = dh * z + dgh @ W_hh
    A1 = h_prev - n
    A1 *= z
    A1 *= 1 - z
    A2 = np.multiply(n, n)
    np.subtract(1, A2, out=A2)
    A2 *= 1 - z
    A3 = hn * r
    A3 *= 1 - r
    dGi = np.empty((L, N, 3 * H), dt)
    dGh = np.empty((L, N, 3 * H), dt)
    dh = np.empty((N, H), dt)
    tmp = np.empty((N, H), dt)
    dh_next = np.zeros((N, H), dt) if ghn is None else upcast(ghn).astype(dt, copy=True)
    for t in range(L - 1, -1, -1):
        if gout is not None:
            np.add(gout[t], dh_next, out=dh)
        else:
            dh[...] = dh_next
        dn = dGi[t, :, 2 * H:]
        np.multiply(dh, A2[t], out=dn)
        np.multiply(dh, A1[t], out=dGi[t, :, H:2 * H])
        np.multiply(dn, A3[t], out=dGi[t, :, :H])
        dGh[t, :, :2 * H] = dGi[t, :, :2 * H]
        np.multiply(dn, r[t], out=dGh[t, :, 2 * H:])
        np.multiply(dh, z[t], out=dh_next)
        np.matmul(dGh[t], w_hh, out=tmp)
        dh_next += tmp
    gi2, gh2 = dGi.reshape(L * N, 3 * H), dGh.reshape(L * N, 3 * H)
    return (np.matmul(gi2, w_ih).reshape(L, N, Din), dh_next, np.matmul(gi2.T, x.reshape(L * N, Din)),
            np.matmul(gh2.T, h_prev.reshape(L * N, H)), gi2.sum(0), gh2.sum(0))


class MkldnnRnnLayerBackward0(Node):
    """One LSTM layer over a sequence (PyTorch's CPU node name); inputs (x, h0, c0, w_ih, w_hh, b_ih, b_hh),
    outputs (out, h_n, c_n). See the module docstring."""

    __slots__ = ("mode", "reverse")

    def backward(self, *grads: Any) -> tuple:
        return _replay(self, grads)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> tuple:
        return _replay_jvp(self, ins, ts)

    def fast_many(self, *grads: Any) -> tuple:
        x, h0, c0, w_ih, w_hh, b_ih, b_hh, out, A, C = self.saved()
        gout, ghn, gcn = (None if g is None else upcast(g) for g in grads)
        xa = upcast(x._data)
        dt = xa.dtype
        if self.reverse:  # (the saved arrays are in processing order already)
            xa = xa[::-1]
            gout = None if gout is None else gout[::-1]
        gx, gh0, gc0, gwi, gwh, gb = _lstm_backward(gout, ghn, gcn, xa, upcast(h0._data).astype(dt, copy=False),
                                                    _a(w_ih, 0, dt), _a(w_hh, 0, dt), out, A, C)
        if self.reverse:
            gx = np.ascontiguousarray(gx[::-1])
        return gx, gh0, gc0, gwi, gwh, gb, gb


class GruLayerBackward0(Node):
    """One GRU layer over a sequence; inputs (x, h0, w_ih, w_hh, b_ih, b_hh), outputs (out, h_n)."""

    __slots__ = ("mode", "reverse")

    def backward(self, *grads: Any) -> tuple:
        return _replay(self, grads)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> tuple:
        return _replay_jvp(self, ins, ts)

    def fast_many(self, *grads: Any) -> tuple:
        x, h0, w_ih, w_hh, b_ih, b_hh, out, ghn_all, R = self.saved()
        gout, ghn = (None if g is None else upcast(g) for g in grads)
        xa = upcast(x._data)
        dt = xa.dtype
        if self.reverse:
            xa = xa[::-1]
            gout = None if gout is None else gout[::-1]
        gx, gh0, gwi, gwh, gbi, gbh = _gru_backward(gout, ghn, xa, upcast(h0._data).astype(dt, copy=False),
                                                    _a(w_ih, 0, dt), _a(w_hh, 0, dt), out, ghn_all, R)
        if self.reverse:
            gx = np.ascontiguousarray(gx[::-1])
        return gx, gh0, gwi, gwh, gbi, gbh


def _replay(node: Node, grads: tuple) -> tuple:
    """The node's gradient on Tensors: the reference run again on the saved inputs (recorded), and its
    vector-Jacobian product, itself recorded when a graph of the gradient is wanted."""
    from ..autograd.engine import grad as _grad
    lstm = node.mode == "LSTM"
    ins = node.saved()[:7 if lstm else 6]
    x, h0 = ins[0], ins[1]
    c0 = ins[2] if lstm else None
    w_ih, w_hh, b_ih, b_hh = ins[3:] if lstm else ins[2:]
    create = _state.enabled
    with grad_mode.enable_grad():
        out, h, c = run_composite(node.mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, node.reverse)
    pairs = [(o, g) for o, g in zip((out, h, c), grads) if g is not None and o is not None]
    want = [i for i, (f, _) in enumerate(node.next_functions) if f is not None]
    res = [None] * len(ins)
    if pairs and want:
        got = _grad([o for o, _ in pairs], [ins[i] for i in want], [g for _, g in pairs], retain_graph=create,
                    create_graph=create, allow_unused=True)
        for i, g in zip(want, got):
            res[i] = g
    return tuple(res)


def _replay_jvp(node: Node, ins: tuple, ts: tuple) -> tuple:
    """The node's JVP: the reference run again in forward mode, at a dual level of its own. (The fused
    node is not recorded while its inputs carry tangents; this serves forward over a saved graph.)"""
    from ..autograd import forward_ad as fwAD
    lstm = node.mode == "LSTM"
    with fwAD.dual_level():
        d = [x if t is None or x is None else fwAD.make_dual(x, t) for x, t in zip(ins, ts)]
        x, h0 = d[0], d[1]
        c0 = d[2] if lstm else None
        w_ih, w_hh, b_ih, b_hh = d[3:] if lstm else d[2:]
        outs = run_composite(node.mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, node.reverse)
        return tuple(fwAD.unpack_dual(o).tangent for o in (outs if lstm else outs[:2]))


def _fusable(mode: str, *ts: Any) -> bool:
    if mode not in ("LSTM", "GRU") or (_fw_levels and has_fw(*ts)) or (_vmap_levels and is_batched(*ts)):
        return False
    dt = ts[0]._dtype
    return dt.category == 2 and all(t is None or t._dtype is dt for t in ts)


def run_direction(mode: str, x: Tensor, h0: Tensor, c0: Tensor | None, w_ih: Tensor, w_hh: Tensor,
                  b_ih: Tensor | None, b_hh: Tensor | None, reverse: bool) -> tuple:
    """One layer, one direction over x (L, N, Din). Returns (outputs (L, N, H), h_T, c_T): LSTM and GRU
    as one node over the sequence, RNN (and anything under forward-mode AD or vmap) step by step."""
    if not _fusable(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh) or x.shape[0] == 0:
        return run_composite(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, reverse)
    lstm = mode == "LSTM"
    ins = (x, h0, c0, w_ih, w_hh, b_ih, b_hh) if lstm else (x, h0, w_ih, w_hh, b_ih, b_hh)
    keep = _state.enabled and any(t is not None and t._requires_grad for t in ins)
    xa = upcast(x._data)
    dt = xa.dtype
    G = w_ih._data.shape[0]
    if reverse:
        xa = xa[::-1]
    h0a = upcast(h0._data).astype(dt, copy=False)
    wi, wh = _a(w_ih, G, dt), _a(w_hh, G, dt)
    if lstm:
        b = _a(b_ih, G, dt) + _a(b_hh, G, dt)
        out, h, c, A, C = _lstm_forward(xa, h0a, upcast(c0._data).astype(dt, copy=False), wi, wh, b, keep)
        saved = (out, A, C)
    else:
        out, h, gi, R = _gru_forward(xa, h0a, wi, wh, _a(b_ih, G, dt), _a(b_hh, G, dt), keep)
        c, saved = None, (out, gi, R)
    h, c = h.copy(), (None if c is None else c.copy())
    res_out = np.ascontiguousarray(out[::-1]) if reverse else out
    odt = x._dtype
    outs = [_make(a.astype(odt.np, copy=False), odt) for a in ((res_out, h, c) if lstm else (res_out, h))]
    if keep:
        node = MkldnnRnnLayerBackward0() if lstm else GruLayerBackward0()
        node.mode, node.reverse = mode, reverse
        node.save(*ins, *saved)
        record_many(node, outs, ins)
    return outs[0], outs[1], (outs[2] if lstm else None)
