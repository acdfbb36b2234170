"""Adafactor: second moments kept as row and column averages for matrices (memory ~ rows + cols), with relative
step sizes and update clipping (Shazeer & Stern, 2018), in PyTorch's formulation."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .. import _alias
from .._tensor import Tensor
from .optimizer import Optimizer, _bump, _hyper, _lerp_, _scalar_state, _zeros_like

__all__ = ["Adafactor"]


def _norm(a: np.ndarray, axis: Any = None, keepdims: bool = False) -> Any:
    return np.sqrt(np.sum(np.square(a), axis=axis, keepdims=keepdims))


class Adafactor(Optimizer):
    """Adafactor; `beta2_decay` sets the second-moment decay 1 - t**beta2_decay, `eps=(eps1, eps2)` (eps1 None:
    the dtype's machine epsilon), `d` the clipping threshold of the update's RMS."""

    _setstate_defaults = dict(foreach=None)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple[float | None, float] = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach: bool | None = None, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 >= beta2_decay:
            raise ValueError(f"beta2_decay should be <= 0 but is: {beta2_decay}")
        if eps[0] is not None and not 0.0 <= eps[0]:
            raise ValueError(f"epsilon1 should be >= 0 but is: {eps[0]}")
        if not 0.0 <= eps[1]:
            raise ValueError(f"epsilon2 should be >= 0 but is: {eps[1]}")
        if not 1.0 <= d:
            raise ValueError(f"Clipping threshold d should be >= 1 but is: {d}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight_decay should be >= 0 but is: {weight_decay}")
        defaults = dict(lr=lr, beta2_decay=beta2_decay, eps=eps, d=d, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        if p.is_complex():
            raise RuntimeError("Adafactor does not support complex parameters")
        shape, dt = p._data.shape, p._data.dtype
        state["step"] = _scalar_state()
        if len(shape) > 1:
            state["row_var"] = Tensor._make(np.zeros(shape[:-1] + (1,), dt), p._dtype)
            state["col_var"] = Tensor._make(np.zeros(shape[:-2] + (1, shape[-1]), dt), p._dtype)
        else:
            state["variance"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        eps1, eps2 = group["eps"]
        d, wd, decay = group["d"], group["weight_decay"], group["beta2_decay"]
        for p, state, w, g in self._params_with_grad(group):
            if p.is_complex():
                raise RuntimeError("Adafactor does not support complex parameters")
            if group["maximize"]:
                g = -g
            if eps1 is None:  # as in PyTorch, the first parameter's dtype fixes it for the rest of the group
                eps1 = float(np.finfo(w.dtype).eps)
            step = float(state["step"]._data)
            one_minus_beta2 = step ** decay
            rho = min(lr, 1 / (step ** 0.5))
            alpha = max(eps2, float(_norm(w)) / (w.size ** 0.5)) * rho
            if wd != 0:
                w *= 1 - lr * wd
            if g.ndim > 1:
                row, col = state["row_var"], state["col_var"]
                row_mean = np.square(_norm(g, -1, True)) / g.shape[-1]
                _lerp_(row._data, row_mean, one_minus_beta2, np.empty_like(row_mean))
                col_mean = np.square(_norm(g, -2, True)) / g.shape[-2]
                _lerp_(col._data, col_mean, one_minus_beta2, np.empty_like(col_mean))
                var = np.matmul(row._data, col._data)
                var /= np.maximum(row._data.mean(axis=-2, keepdims=True), eps1)
                _bump(row, col)
            else:
                v = state["variance"]
                _lerp_(v._data, g * g, one_minus_beta2, self._scratch(w, 1))
                var = v._data.copy()
                _bump(v)
            np.maximum(var, eps1 * eps1, out=var)
            upd = 1 / np.sqrt(var)   # rsqrt
            upd *= g
            denom = max(1.0, float(_norm(upd)) / ((upd.size ** 0.5) * d))
            upd *= -alpha / denom
            w += upd
            _bump(p)


_alias.set_module("ndgrad.optim", Adafactor)  # PyTorch reports torch.optim.Adafactor (its file is private)
