"""Losses PyTorch runs as one kernel each, so one node each here: mse_loss, nll_loss,
binary_cross_entropy, binary_cross_entropy_with_logits; and the reduction helpers every loss of
nn.functional shares. Each node keeps a differentiable `backward` and a `jvp` rule; the reason for
fusing each is on its node. Registered without a `torch.` or `Tensor.` export (PyTorch offers them
as torch.nn.functional.*, which re-exports these).
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, size_str
from ..autograd.graph import Node
from ._core import (_fw_levels, _make, _state, _vmap_levels, broadcast_shapes_or_raise, check_tensor, has_fw,
                    is_batched, record, register, tsum, vmap_rule)
from .elementwise import where

_scalar_name = D.scalar_name


def _reduction(size_average: Any, reduce: Any, reduction: str) -> str:
    if size_average is not None or reduce is not None:
        size_average = True if size_average is None else size_average
        reduce = True if reduce is None else reduce
        reduction = ("mean" if size_average else "sum") if reduce else "none"
        warnings.warn("size_average and reduce args will be deprecated, please use reduction='"
                      f"{reduction}' instead.", stacklevel=3)
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    return reduction


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def _reduce_tangent(r: Tensor, reduction: str) -> Tensor:
    return r.mean() if reduction == "mean" else r.sum() if reduction == "sum" else r


def _warn_size(input: Tensor, target: Tensor) -> None:
    if input._data.shape != target._data.shape:
        warnings.warn(f"Using a target size ({size_str(target._data.shape)}) that is different to the input "
                      f"size ({size_str(input._data.shape)}). This will likely lead to incorrect results due "
                      "to broadcasting. Please ensure they have the same size.", stacklevel=3)


def _no_grad_arg(fn: str, arg: str, t: Any) -> None:
    """PyTorch's fused losses give no gradient for their weights: refuse rather than return none."""
    if t is not None and _state.enabled and getattr(t, "_requires_grad", False):
        raise RuntimeError(f"The function '{fn}' is not differentiable with respect to argument '{arg}'. "
                           "This input cannot have requires_grad True.")


def _reduce_array(loss: np.ndarray, weight: Tensor | None, reduction: str, dt: D.dtype) -> Tensor:
    """A fused loss's elementwise values (as an array) weighted and reduced into its result tensor."""
    if weight is not None:
        loss = loss * weight._data.astype(dt.np, copy=False)
    out = loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss
    return _make(np.asarray(out, dt.np), dt)


def _softplus(x: Tensor) -> Tensor:
    """log(1 + exp(x)), linear above 20: nn.functional.softplus with its defaults."""
    return where(x > 20.0, x, x.clamp(max=20.0).exp().log1p())


@register(method=False, function=False)
def mse_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
             reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean squared error."""
    check_tensor(input, "mse_loss")
    check_tensor(target, "mse_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    if weight is None and reduction in ("mean", "sum", "none") and _state.enabled and (
            input._requires_grad or getattr(target, "_requires_grad", False)):
        # one MseLossBackward0 node, as PyTorch records (tutorials print loss.grad_fn and its next_functions)
        _state.enabled = False
        try:
            d = input - target
            res = _reduce(d * d, reduction)
        finally:
            _state.enabled = True
        node = MseLossBackward0()
        node.scale = 2.0 / max(d._data.size, 1) if reduction == "mean" else 2.0
        node.save(input, target)
        return record(node, res, (input, target))
    d = input - target
    loss = d * d
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


class MseLossBackward0(Node):
    """d/d input of mean/sum/none of (input - target)**2: scale * (input - target) * g; minus that for target."""

    __slots__ = ("scale",)

    def backward(self, g: Tensor) -> tuple:
        input, target = self.saved()
        gi = (input - target) * (g * self.scale)
        return (gi, -gi if self.next_functions[1][0] is not None else None)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x, y), (tx, ty) = ins, ts
        r = (x - y) * tsum(tx, None if ty is None else -ty) * self.scale
        return r.sum() if out._data.ndim == 0 else r


def _nll_pattern(ts: np.ndarray, vals: np.ndarray, shape: tuple, class_axis: int) -> np.ndarray:
    """Zeros of `shape` with vals[i] at sample i's class ts[i] (classes on class_axis)."""
    C = shape[class_axis]
    out = np.zeros((ts.size, C), vals.dtype)
    out[np.arange(ts.size), ts] = vals
    if len(shape) <= 2:
        return out.reshape(shape)
    return np.moveaxis(out.reshape((shape[0],) + shape[2:] + (C,)), -1, 1)


class NllLossBackward0(Node):
    """Fused: the loss picks one log-probability per sample; its gradient is that pick's (weighted,
    normalised) sign pattern, scaled by the incoming gradient. The node keeps the picks (one class index
    and one coefficient per sample, released after backward) and builds the dense pattern only when the
    gradient is asked for; on Tensors it multiplies g by it (so it stays differentiable in g)."""

    __slots__ = ("reduction", "class_axis", "shape")

    def _coef(self, dt: D.dtype) -> Tensor:
        ts, vals = self.saved()
        return _make(_nll_pattern(ts, vals.astype(dt.np, copy=False), self.shape, self.class_axis), dt)

    def backward(self, g: Tensor) -> tuple:
        coef = self._coef(g._dtype)
        if self.reduction == "none":
            g = g.unsqueeze(self.class_axis)
        return (g * coef,)

    def fast(self, g: np.ndarray) -> tuple:
        ts, vals = self.saved()
        vals = vals * (g.reshape(-1) if self.reduction == "none" else g)  # per sample, or one scale
        return (_nll_pattern(ts, vals.astype(g.dtype, copy=False), self.shape, self.class_axis),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        tc = ts[0] * self._coef(ts[0]._dtype)  # the loss is linear in the log-probabilities
        return tc.sum(self.class_axis) if self.reduction == "none" else tc.sum()


def _check_target_dtype(target: Tensor) -> None:
    if target._dtype not in (D.int64, D.uint8):
        raise RuntimeError(f"expected target dtype to be Long or Byte, but got {_scalar_name(target._dtype)}")


@register(method=False, function=False)
def nll_loss(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
             ignore_index: int = -100, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of class indices given log-probabilities (N, C, d1, ...)."""
    if _vmap_levels and is_batched(input, target):
        return vmap_rule("nll_loss", nll_loss, input, target, weight, size_average, ignore_index, reduce, reduction)
    _no_grad_arg("nll_loss_forward", "weight", weight)
    check_tensor(input, "nll_loss")
    check_tensor(target, "nll_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    x = input._data
    t = target._data
    if x.ndim < 1:
        raise ValueError(f"Expected 1 or more dimensions (got {x.ndim})")
    if x.ndim == 1:
        if t.ndim != 0:
            if t.ndim == 1 and t.shape[0] != 1:
                raise ValueError(f"Expected input batch_size (1) to match target batch_size ({t.shape[0]}).")
            if t.ndim > 1:
                raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        C = x.shape[0]
        class_axis = 0
        x2 = x.reshape(1, C)
        t1 = t.reshape(1)
    else:
        N, C = x.shape[0], x.shape[1]
        if x.ndim == 2:
            if t.ndim != 1:
                if t.ndim == 0 or t.ndim > 1:
                    raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        if t.ndim >= 1 and t.shape[0] != N:
            raise ValueError(f"Expected input batch_size ({N}) to match target batch_size ({t.shape[0]}).")
        if x.ndim > 2 and t.shape != (N,) + x.shape[2:]:
            raise RuntimeError(f"Expected target size {[N] + list(x.shape[2:])}, got {list(t.shape)}")
        class_axis = 1
        x2 = np.moveaxis(x, 1, -1).reshape(-1, C)
        t1 = t.reshape(-1)
    _check_target_dtype(target)
    if weight is not None and weight.numel() != C:
        raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but got "
                           f"weight tensor of shape: {list(weight._data.shape)}")
    t1 = t1.astype(np.int64, copy=False)
    valid = t1 != ignore_index
    bad = valid & ((t1 < 0) | (t1 >= C))
    if bad.any():
        raise IndexError(f"Target {int(t1[bad][0])} is out of bounds.")
    ts = np.where(valid, t1, 0)
    dt = input._dtype
    if weight is not None:
        w = weight._data.astype(dt.np, copy=False)[ts] * valid
    else:
        w = valid.astype(dt.np)
    rows = np.arange(x2.shape[0])
    picked = x2[rows, ts]
    losses = -(w * picked)
    if reduction == "none":
        out_arr = losses.reshape(t.shape if x.ndim > 1 else ())
        denom = None
    elif reduction == "sum":
        out_arr = np.asarray(losses.sum(), dt.np)
        denom = 1.0
    else:
        denom = w.sum()
        with np.errstate(invalid="ignore", divide="ignore"):
            out_arr = np.asarray(losses.sum() / denom, dt.np)
    res = _make(np.asarray(out_arr, dtype=dt.np), dt)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        if reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                vals = -w / denom
        else:
            vals = -w
        node = NllLossBackward0()
        node.reduction = reduction
        node.class_axis = class_axis
        node.shape = x.shape
        node.save(ts, np.asarray(vals, dt.np))
        record(node, res, (input,))
    return res


class BinaryCrossEntropyBackward0(Node):
    """Fused: PyTorch clamps log at -100 in the forward and divides by
    max(x (1 - x), 1e-12) in the backward, so the gradient stays finite at 0 and 1,
    which the composition of clamped logs would not give."""

    __slots__ = ("reduction", "n")

    def backward(self, g: Tensor) -> tuple:
        x, t, w = self.saved()
        scale = g if self.reduction == "none" else (g / self.n if self.reduction == "mean" else g)
        gx = gt = None
        if self.next_functions[0][0] is not None:
            gx = scale * (x - t) / (x * (1 - x)).clamp_min(1e-12)
            if w is not None:
                gx = gx * w
        if self.next_functions[1][0] is not None:
            gt = scale * ((1 - x).log().clamp_min(-100) - x.log().clamp_min(-100))
            if w is not None:
                gt = gt * w
        return gx, gt

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, t, w = self.saved()
        tx, tt = ts[0], ts[1]
        r = tsum(None if tx is None else tx * (x - t) / (x * (1 - x)).clamp_min(1e-12),
                 None if tt is None else tt * ((1 - x).log().clamp_min(-100) - x.log().clamp_min(-100)))
        return _reduce_tangent(r if w is None else r * w, self.reduction)


@register(method=False, function=False)
def binary_cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """-(t log x + (1 - t) log(1 - x)) with logs clamped at -100."""
    if _vmap_levels and is_batched(input, target, weight):
        return vmap_rule("bce", binary_cross_entropy, input, target, weight, size_average, reduce, reduction)
    _no_grad_arg("binary_cross_entropy", "weight", weight)
    check_tensor(input, "binary_cross_entropy")
    check_tensor(target, "binary_cross_entropy", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Using a target size ({size_str(target._data.shape)}) that is different to the input "
                         f"size ({size_str(input._data.shape)}) is deprecated. Please ensure they have the "
                         "same size.")
    x = input._data
    if np.any((x < 0) | (x > 1)):
        raise RuntimeError("all elements of input should be between 0 and 1")
    dt = input._dtype
    if weight is not None:
        broadcast_shapes_or_raise(x.shape, weight._data.shape)
    t = target._data.astype(dt.np, copy=False)
    with np.errstate(divide="ignore"):
        lx = np.maximum(np.log(x), -100)
        l1x = np.maximum(np.log(1 - x), -100)
    res = _reduce_array(-(t * lx + (1 - t) * l1x), weight, reduction, dt)
    if _state.enabled and (input._requires_grad or target._requires_grad) or _fw_levels and has_fw(input, target):
        n = BinaryCrossEntropyBackward0()
        n.reduction = reduction
        n.n = x.size
        wt = None
        if weight is not None:
            wt = weight.detach() if weight._data.shape == x.shape else weight.detach().expand(x.shape)
        n.save(input, target, wt)
        record(n, res, (input, target))
    return res


class BinaryCrossEntropyWithLogitsBackward0(Node):
    """Fused: the stable forward (1 - t) x + L _softplus(-x) differentiates, through
    abs/relu, to a wrong value at x = 0; the closed form L sigmoid(x) - pw t is exact."""

    __slots__ = ("reduction", "n")

    def backward(self, g: Tensor) -> tuple:
        x, t, w, pw = self.saved()
        scale = g if self.reduction == "none" else (g / self.n if self.reduction == "mean" else g)
        gx = gt = None
        if self.next_functions[0][0] is not None:
            if pw is None:
                d = x.sigmoid() - t
            else:
                d = (t * (pw - 1) + 1) * x.sigmoid() - pw * t
            gx = scale * d
            if w is not None:
                gx = gx * w
        if self.next_functions[1][0] is not None:
            if pw is None:
                d = -x
            else:
                d = _softplus(-x) * (pw - 1) - x
            gt = scale * d
            if w is not None:
                gt = gt * w
        return gx, gt

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, t, w, pw = self.saved()
        tx, tt = ts
        dx = x.sigmoid() - t if pw is None else (t * (pw - 1) + 1) * x.sigmoid() - pw * t
        dt = -x if pw is None else _softplus(-x) * (pw - 1) - x
        r = tsum(None if tx is None else tx * dx, None if tt is None else tt * dt)
        return _reduce_tangent(r if w is None else r * w, self.reduction)


@register(method=False, function=False)
def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     size_average: Any = None, reduce: Any = None, reduction: str = "mean",
                                     pos_weight: Tensor | None = None) -> Tensor:
    """binary_cross_entropy(sigmoid(input), target), computed stably from the logits."""
    if _vmap_levels and is_batched(input, target, weight, pos_weight):
        return vmap_rule("bce_logits", binary_cross_entropy_with_logits, input, target, weight, size_average,
                         reduce, reduction, pos_weight)
    _no_grad_arg("binary_cross_entropy_with_logits", "weight", weight)
    _no_grad_arg("binary_cross_entropy_with_logits", "pos_weight", pos_weight)
    check_tensor(input, "binary_cross_entropy_with_logits")
    check_tensor(target, "binary_cross_entropy_with_logits", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if target._data.shape != input._data.shape:
        raise ValueError(f"Target size ({size_str(target._data.shape)}) must be the same as input size "
                         f"({size_str(input._data.shape)})")
    dt = input._dtype
    x = input._data
    for extra in (weight, pos_weight):
        if extra is not None:
            broadcast_shapes_or_raise(x.shape, extra._data.shape)
    t = target._data.astype(dt.np, copy=False)
    sp = np.logaddexp(np.zeros((), dt.np), -x)  # softplus(-x) = log(1 + exp(-x)), stable
    if pos_weight is not None:
        pw = pos_weight._data.astype(dt.np, copy=False)
        loss = (1 - t) * x + (1 + (pw - 1) * t) * sp
    else:
        loss = (1 - t) * x + sp
    res = _reduce_array(loss, weight, reduction, dt)
    if _state.enabled and (input._requires_grad or target._requires_grad) or _fw_levels and has_fw(input, target):
        n = BinaryCrossEntropyWithLogitsBackward0()
        n.reduction = reduction
        n.n = x.size
        n.save(input, target, None if weight is None else weight.detach(),
               None if pos_weight is None else pos_weight.detach())
        record(n, res, (input, target))
    return res
