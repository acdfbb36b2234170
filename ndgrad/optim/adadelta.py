"""Adadelta: steps scaled by the ratio of running RMS of past updates to running RMS of gradients."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_flags, _check_lr, _check_min, _decayed_grad, _ema_sq_, _hyper,
                        _rv, _scalar_state, _zeros_like)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012); `lr` scales the computed update (default 1.0)."""

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach: bool | None = None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho}")
        _check_min(eps, "epsilon value")
        _check_min(weight_decay, "weight_decay value")
        _check_flags(differentiable, foreach)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize, capturable=capturable,
                        foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = _scalar_state()
        state["square_avg"] = _zeros_like(p)
        state["acc_delta"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        rho, eps = group["rho"], group["eps"]
        for p, state, w, g in self._params_with_grad(group):
            d = _decayed_grad(self, w, g, group, lr)
            sq, acc = _rv(state["square_avg"]._data), _rv(state["acc_delta"]._data)
            tmp, delta = self._scratch(w, 1), self._scratch(w, 2)
            _ema_sq_(sq, d, rho, tmp)
            # delta = sqrt(acc_delta + eps) / sqrt(square_avg + eps) * grad
            np.add(sq, eps, out=tmp)
            np.sqrt(tmp, out=tmp)
            np.add(acc, eps, out=delta)
            np.sqrt(delta, out=delta)
            delta /= tmp
            delta *= d
            _ema_sq_(acc, delta, rho, tmp)
            delta *= lr
            w -= delta
            _bump(p, state["square_avg"], state["acc_delta"])
