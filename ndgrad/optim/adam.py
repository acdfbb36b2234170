"""Adam (and, with decoupled_weight_decay=True, AdamW), with amsgrad and maximize."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_betas, _check_flags, _check_lr, _check_min, _decayed_grad,
                        _ema_sq_, _hyper, _lerp_, _rv, _scalar_state, _zeros_like)

__all__ = ["Adam"]


def _check_adam_args(lr: Any, betas: Any, eps: float, weight_decay: float, fused: Any, foreach: Any,
                     capturable: bool, differentiable: bool) -> None:
    if isinstance(lr, Tensor) and foreach and not capturable:
        raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
    _check_lr(lr)
    _check_min(eps, "epsilon value")
    _check_betas(betas)
    _check_min(weight_decay, "weight_decay value")
    if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, b in enumerate(betas):
        if isinstance(b, Tensor):
            if foreach and not capturable:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
            if b.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
    _check_flags(differentiable, foreach, fused)


class Adam(Optimizer):
    """Adam: adaptive moment estimation with PyTorch's bias correction; updates parameters in place."""

    _sparse_message = "Adam does not support sparse gradients, please consider SparseAdam instead"
    _setstate_defaults = dict(amsgrad=False, maximize=False, foreach=None, capturable=False, differentiable=False,
                              fused=None, decoupled_weight_decay=False)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *, foreach: bool | None = None,
                 maximize: bool = False, capturable: bool = False, differentiable: bool = False,
                 fused: bool | None = None, decoupled_weight_decay: bool = False) -> None:
        _check_adam_args(lr, betas, eps, weight_decay, fused, foreach, capturable, differentiable)
        betas = tuple(b.reshape(()) if isinstance(b, Tensor) and b.ndim else b for b in betas)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = _scalar_state()
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        eps, amsgrad = group["eps"], group["amsgrad"]
        for p, state, w, g in self._params_with_grad(group):
            step = float(state["step"]._data)
            d = _decayed_grad(self, w, g, group, lr)
            m, v = _rv(state["exp_avg"]._data), _rv(state["exp_avg_sq"]._data)
            tmp = self._scratch(w, 1)
            _lerp_(m, d, 1 - float(beta1), tmp)  # PyTorch casts a tensor beta1 to the param's dtype here
            _ema_sq_(v, d, beta2, tmp)
            _bump(state["exp_avg"], state["exp_avg_sq"])
            step_size = lr / (1 - beta1 ** step)
            bc2_sqrt = (1 - beta2 ** step) ** 0.5
            if amsgrad:
                vmax_t = state["max_exp_avg_sq"]
                vmax = _rv(vmax_t._data)
                np.maximum(vmax, v, out=vmax)
                _bump(vmax_t)
                v = vmax
            # denom = sqrt(v) / sqrt(bc2) + eps;  param += -step_size * m / denom
            np.sqrt(v, out=tmp)
            tmp /= bc2_sqrt
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= -step_size
            w += tmp
            _bump(p)
