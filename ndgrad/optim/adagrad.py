"""Adagrad with learning-rate decay, weight decay and an initial accumulator value."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _check_sparse_free, _effective_grad, _grad_array, _rv, _scalar_state, _to_float, \
    _zeros_like

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: scale each coordinate by the root of its accumulated squared gradients."""

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise ValueError(f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise ValueError(f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        if fused and foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
        if differentiable:
            raise NotImplementedError("ndgrad optimizers do not support differentiable=True")
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # Adagrad creates its state eagerly, as PyTorch does
        for group in self.param_groups:
            for p in group["params"]:
                state = self.state[p]
                state["step"] = _scalar_state()
                state["sum"] = _zeros_like(p, group["initial_accumulator_value"])

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        for group in self.param_groups:
            group.setdefault("foreach", None)
            group.setdefault("maximize", False)
            group.setdefault("differentiable", False)
            group.setdefault("fused", None)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _to_float(group["lr"])
        lr_decay = group["lr_decay"]
        eps = group["eps"]
        wd = group["weight_decay"]
        maximize = group["maximize"]
        for p in group["params"]:
            if p.grad is None:
                continue
            _check_sparse_free(p, "Adagrad")
            state = self.state[p]
            if len(state) == 0:  # a parameter group added after construction
                state["step"] = _scalar_state()
                state["sum"] = _zeros_like(p, group["initial_accumulator_value"])
            w = _rv(p._data)
            g = _rv(_grad_array(p))
            st = state["step"]
            st._data += 1
            st._version[0] += 1
            step = float(st._data)
            d = _effective_grad(self, w, g, wd, maximize)
            clr = lr / (1 + (step - 1) * lr_decay)
            ssum = _rv(state["sum"]._data)
            tmp = self._scratch(w, 1)
            np.multiply(d, d, out=tmp)
            ssum += tmp
            state["sum"]._version[0] += 1
            np.sqrt(ssum, out=tmp)
            tmp += eps
            np.divide(d, tmp, out=tmp)
            tmp *= clr
            w -= tmp
            p._version[0] += 1
