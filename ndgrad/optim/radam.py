"""RAdam: Adam whose adaptive step is switched on (and rectified) once the variance estimate is reliable."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_betas, _check_flags, _check_lr, _check_min, _check_sparse_free,
                        _effective_grad, _grad_array, _lerp_, _rv, _scalar_state, _hyper, _zeros_like)

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

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        eps, wd, maximize = group["eps"], group["weight_decay"], group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        rho_inf = 2 / (1 - beta2) - 1
        for p in group["params"]:
            if p.grad is None:
                continue
            _check_sparse_free(p, "RAdam")
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state()
                state["exp_avg"] = _zeros_like(p)
                state["exp_avg_sq"] = _zeros_like(p)
            st = state["step"]
            st._data += 1
            step = float(st._data)
            w = _rv(p._data)
            g = _rv(_grad_array(p))
            if wd != 0 and decoupled:
                w *= 1 - lr * wd
                d = _effective_grad(self, w, g, 0, maximize)
            else:
                d = _effective_grad(self, w, g, wd, maximize)
            m, v = _rv(state["exp_avg"]._data), _rv(state["exp_avg_sq"]._data)
            tmp, upd = self._scratch(w, 1), self._scratch(w, 2)
            _lerp_(m, d, 1 - beta1, tmp)
            v *= beta2
            np.multiply(d, 1 - beta2, out=tmp)
            tmp *= d
            v += tmp
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
            _bump(p, st, state["exp_avg"], state["exp_avg_sq"])
