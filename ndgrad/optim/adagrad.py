"""Adagrad with learning-rate decay, weight decay and an initial accumulator value."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _check_flags, _check_lr, _check_min, _check_sparse_free, _effective_grad,
                        _grad_array, _hyper, _rv, _scalar_state, _zeros_like)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: scale each coordinate by the root of its accumulated squared gradients."""

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, fused=None)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach: bool | None = None, *,
                 maximize: bool = False, differentiable: bool = False, fused: bool | None = None) -> None:
        _check_lr(lr)
        _check_min(lr_decay, "lr_decay value")
        _check_min(weight_decay, "weight_decay value")
        _check_min(initial_accumulator_value, "initial_accumulator_value value")
        _check_min(eps, "epsilon value")
        _check_flags(differentiable, foreach, fused)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        # Adagrad creates its state eagerly, as PyTorch does
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(p)

    def _init_state(self, p: Tensor) -> None:
        # as in PyTorch, the constructor's initial_accumulator_value (not a group's) fills the sum, and a
        # complex parameter starts at v + vj
        v = self.defaults["initial_accumulator_value"]
        state = self.state[p]
        state["step"] = _scalar_state()
        state["sum"] = _zeros_like(p)
        state["sum"]._data[...] = complex(v, v) if p.is_complex() else v

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
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
                self._init_state(p)
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
