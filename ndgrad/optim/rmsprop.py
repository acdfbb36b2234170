"""RMSprop with smoothing constant alpha, optional momentum and the centered variant."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _check_flags, _check_lr, _check_min, _check_sparse_free, _effective_grad,
                        _grad_array, _hyper, _lerp_, _rv, _scalar_state, _zeros_like)

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

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        alpha = group["alpha"]
        eps = group["eps"]
        wd = group["weight_decay"]
        momentum = group["momentum"]
        centered = group["centered"]
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            _check_sparse_free(p, "RMSprop")
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state()
                state["square_avg"] = _zeros_like(p)
                if momentum > 0:
                    state["momentum_buffer"] = _zeros_like(p)
                if centered:
                    state["grad_avg"] = _zeros_like(p)
            w = _rv(p._data)
            g = _rv(_grad_array(p))
            state["step"]._data += 1
            state["step"]._version[0] += 1
            d = _effective_grad(self, w, g, wd, maximize)
            sq = _rv(state["square_avg"]._data)
            tmp = self._scratch(w, 1)
            sq *= alpha
            np.multiply(d, 1 - alpha, out=tmp)
            tmp *= d
            sq += tmp
            state["square_avg"]._version[0] += 1
            if centered:
                ga = _rv(state["grad_avg"]._data)
                _lerp_(ga, d, 1 - alpha, tmp)
                state["grad_avg"]._version[0] += 1
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
                buf._version[0] += 1
                np.multiply(b, lr, out=tmp)
            else:
                tmp *= lr
            w -= tmp
            p._version[0] += 1
