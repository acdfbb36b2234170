"""RMSprop with smoothing constant alpha, optional momentum and the centered variant."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_flags, _check_lr, _check_min, _decayed_grad, _ema_sq_, _hyper,
                        _lerp_, _rv, _scalar_state, _zeros_like)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients."""

    _setstate_defaults = dict(momentum=0, centered=False, foreach=None, maximize=False, differentiable=False,
                              capturable=False)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_min(eps, "epsilon value")
        _check_min(momentum, "momentum value")
        _check_min(weight_decay, "weight_decay value")
        _check_min(alpha, "alpha value")
        _check_flags(differentiable, foreach)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered, weight_decay=weight_decay,
                        capturable=capturable, foreach=foreach, maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = _scalar_state()
        state["square_avg"] = _zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = _zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        alpha, eps, momentum, centered = group["alpha"], group["eps"], group["momentum"], group["centered"]
        for p, state, w, g in self._params_with_grad(group):
            d = _decayed_grad(self, w, g, group, lr)
            sq = _rv(state["square_avg"]._data)
            tmp = self._scratch(w, 1)
            _ema_sq_(sq, d, alpha, tmp)
            _bump(state["square_avg"])
            if centered:
                ga = _rv(state["grad_avg"]._data)
                _lerp_(ga, d, 1 - alpha, tmp)
                _bump(state["grad_avg"])
                # avg = sqrt(square_avg - grad_avg^2)
                np.multiply(ga, ga, out=tmp)
                np.subtract(sq, tmp, out=tmp)
                np.sqrt(tmp, out=tmp)
            else:
                np.sqrt(sq, out=tmp)
            tmp += eps
            np.divide(d, tmp, out=tmp)   # grad / avg
            if momentum > 0:
                buf = state["momentum_buffer"]
                b = _rv(buf._data)
                b *= momentum
                b += tmp
                _bump(buf)
                np.multiply(b, lr, out=tmp)
            else:
                tmp *= lr
            w -= tmp
            _bump(p)
