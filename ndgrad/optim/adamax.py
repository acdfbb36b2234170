"""Adamax: Adam's first moment divided by an exponentially weighted infinity norm of the gradients."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_betas, _check_flags, _check_lr, _check_min, _decayed_grad,
                        _hyper, _lerp_, _rv, _scalar_state, _zeros_like)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    """Adamax, the infinity-norm variant of Adam (Kingma & Ba, 2014)."""

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach: bool | None = None, *, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        _check_min(eps, "epsilon value")
        _check_betas(betas)
        _check_min(weight_decay, "weight_decay value")
        _check_flags(differentiable, foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = _scalar_state()
        state["exp_avg"] = _zeros_like(p)
        state["exp_inf"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        eps = group["eps"]
        for p, state, w, g in self._params_with_grad(group):
            d = _decayed_grad(self, w, g, group, lr)
            m, u = _rv(state["exp_avg"]._data), _rv(state["exp_inf"]._data)
            tmp = self._scratch(w, 1)
            _lerp_(m, d, 1 - beta1, tmp)
            u *= beta2
            np.abs(d, out=tmp)
            tmp += eps
            np.maximum(u, tmp, out=u)
            clr = lr / (1 - beta1 ** float(state["step"]._data))
            np.divide(m, u, out=tmp)
            tmp *= -clr
            w += tmp
            _bump(p, state["exp_avg"], state["exp_inf"])
