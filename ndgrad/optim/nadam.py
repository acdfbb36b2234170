"""NAdam: Adam with Nesterov momentum and a momentum schedule (Dozat, 2016)."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_betas, _check_flags, _check_lr, _check_min, _decayed_grad,
                        _ema_sq_, _hyper, _lerp_, _rv, _scalar_state, _zeros_like)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    """NAdam; `momentum_decay` shapes the schedule of beta1, `decoupled_weight_decay` gives NAdamW."""

    _setstate_defaults = dict(maximize=False, foreach=None, capturable=False, differentiable=False,
                              decoupled_weight_decay=False)
    _scalar_state_keys = ("step", "mu_product")

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 2e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach: bool | None = None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_min(eps, "epsilon value")
        _check_betas(betas)
        _check_min(weight_decay, "weight_decay value")
        _check_min(momentum_decay, "momentum_decay value")
        _check_flags(differentiable, foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = _scalar_state()
        state["mu_product"] = _scalar_state(1.0)
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        eps, psi = group["eps"], group["momentum_decay"]
        for p, state, w, g in self._params_with_grad(group):
            step, mu_prod = float(state["step"]._data), state["mu_product"]
            d = _decayed_grad(self, w, g, group, lr)
            mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * psi))
            mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * psi))
            mu_prod._data *= mu       # kept in the state's (float32) precision, as PyTorch does
            prod = float(mu_prod._data)
            m, v = _rv(state["exp_avg"]._data), _rv(state["exp_avg_sq"]._data)
            tmp, denom = self._scratch(w, 1), self._scratch(w, 2)
            _lerp_(m, d, 1 - beta1, tmp)
            _ema_sq_(v, d, beta2, tmp)
            np.divide(v, 1 - beta2 ** step, out=denom)
            np.sqrt(denom, out=denom)
            denom += eps
            # param += c_grad * grad / denom + c_avg * exp_avg / denom
            np.divide(d, denom, out=tmp)
            tmp *= -lr * (1.0 - mu) / (1.0 - prod)
            w += tmp
            np.divide(m, denom, out=tmp)
            tmp *= (-lr * mu_next) / (1.0 - prod * mu_next)
            w += tmp
            _bump(p, mu_prod, state["exp_avg"], state["exp_avg_sq"])
