"""Adam (and, with decoupled_weight_decay=True, AdamW), with amsgrad and maximize."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _check_betas, _check_flags, _check_lr, _check_min, _check_sparse_free,
                        _effective_grad, _grad_array, _hyper, _lerp_, _rv, _scalar_state, _zeros_like)

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

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        beta1, beta2 = (_hyper(b) for b in group["betas"])
        eps = group["eps"]
        wd = group["weight_decay"]
        amsgrad = group["amsgrad"]
        maximize = group["maximize"]
        decoupled = group["decoupled_weight_decay"]
        name = type(self).__name__
        for p in group["params"]:
            if p.grad is None:
                continue
            _check_sparse_free(p, name)
            state = self.state[p]
            if len(state) == 0:
                state["step"] = _scalar_state()
                state["exp_avg"] = _zeros_like(p)
                state["exp_avg_sq"] = _zeros_like(p)
                if amsgrad:
                    state["max_exp_avg_sq"] = _zeros_like(p)
            w = _rv(p._data)
            g = _rv(_grad_array(p))
            step_t = state["step"]
            step_t._data += 1
            step_t._version[0] += 1
            step = float(step_t._data)
            if wd != 0 and decoupled:
                w *= 1 - lr * wd
                d = _effective_grad(self, w, g, 0, maximize)
            else:
                d = _effective_grad(self, w, g, wd, maximize)
            m = _rv(state["exp_avg"]._data)
            v = _rv(state["exp_avg_sq"]._data)
            tmp = self._scratch(w, 1)
            _lerp_(m, d, 1 - float(beta1), tmp)  # PyTorch casts a tensor beta1 to the param's dtype here
            v *= beta2
            np.multiply(d, 1 - beta2, out=tmp)
            tmp *= d
            v += tmp
            state["exp_avg"]._version[0] += 1
            state["exp_avg_sq"]._version[0] += 1
            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = lr / bias_correction1
            bc2_sqrt = bias_correction2 ** 0.5
            if amsgrad:
                vmax_t = state["max_exp_avg_sq"]
                vmax = _rv(vmax_t._data)
                np.maximum(vmax, v, out=vmax)
                vmax_t._version[0] += 1
                v = vmax
            # denom = sqrt(v) / sqrt(bc2) + eps;  param += -step_size * m / denom
            np.sqrt(v, out=tmp)
            tmp /= bc2_sqrt
            tmp += eps
            np.divide(m, tmp, out=tmp)
            tmp *= -step_size
            w += tmp
            p._version[0] += 1
