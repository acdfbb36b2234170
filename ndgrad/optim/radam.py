"""RAdam: Adam whose adaptive step is switched on (and rectified) once the variance estimate is reliable."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_betas, _check_flags, _check_lr, _check_min, _decayed_grad,
                        _ema_sq_, _hyper, _lerp_, _rv, _scalar_state, _zeros_like)

__all__ = ["RAdam"]


class RAdam(Optimizer):
    """Rectified Adam (Liu et al., 2019); `decoupled_weight_decay=True` decays as AdamW does."""

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, decoupled_weight_decay=False,
                              capturable=False)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, decoupled_weight_decay: bool = False, *,
                 foreach: bool | None = None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False) -> None:
        _check_lr(lr)
        _check_min(eps, "epsilon value")
        _check_betas(betas)
        _check_min(weight_decay, "weight_decay value")
        _check_flags(differentiable, foreach)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize, foreach=foreach,
                        capturable=capturable, decoupled_weight_decay=decoupled_weight_decay,
                        differentiable=differentiable)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = _scalar_state()
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        eps = group["eps"]
        rho_inf = 2 / (1 - beta2) - 1
        for p, state, w, g in self._params_with_grad(group):
            step = float(state["step"]._data)
            d = _decayed_grad(self, w, g, group, lr)
            m, v = _rv(state["exp_avg"]._data), _rv(state["exp_avg_sq"]._data)
            tmp, upd = self._scratch(w, 1), self._scratch(w, 2)
            _lerp_(m, d, 1 - beta1, tmp)
            _ema_sq_(v, d, beta2, tmp)
            bc1, bc2 = 1 - beta1 ** step, 1 - beta2 ** step
            np.divide(m, bc1, out=upd)
            upd *= lr
            rho_t = rho_inf - 2 * step * (beta2 ** step) / bc2
            if rho_t > 5.0:
                # rectified adaptive step: m_hat * lr * sqrt(bc2) / (sqrt(v) + eps) * r_t
                np.sqrt(v, out=tmp)
                tmp += eps
                np.divide(bc2 ** 0.5, tmp, out=tmp)
                upd *= tmp
                upd *= ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            w -= upd
            _bump(p, state["exp_avg"], state["exp_avg_sq"])
