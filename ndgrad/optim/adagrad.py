"""Adagrad with learning-rate decay, weight decay and an initial accumulator value."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_flags, _check_lr, _check_min, _decayed_grad, _hyper, _rv,
                        _scalar_state, _sparse_parts, _zeros_like)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad: scale each coordinate by the root of its accumulated squared gradients."""

    _sparse_message = None  # sparse gradients are taken (without weight decay), as in PyTorch
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
                self._new_state(p, group, self.state[p])

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        # as in PyTorch, the constructor's initial_accumulator_value (not a group's) fills the sum, and a
        # complex parameter starts at v + vj
        v = self.defaults["initial_accumulator_value"]
        state["step"] = _scalar_state()
        state["sum"] = _zeros_like(p)
        state["sum"]._data[...] = complex(v, v) if p.is_complex() else v

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        lr_decay, eps = group["lr_decay"], group["eps"]
        for p, state, w, g in self._params_with_grad(group):
            clr = lr / (1 + (float(state["step"]._data) - 1) * lr_decay)
            if isinstance(g, Tensor):
                self._sparse_update(p, state, g, group, clr)
                continue
            d = _decayed_grad(self, w, g, group, lr)
            ssum = _rv(state["sum"]._data)
            tmp = self._scratch(w, 1)
            np.multiply(d, d, out=tmp)
            ssum += tmp
            _bump(state["sum"])
            np.sqrt(ssum, out=tmp)
            tmp += eps
            np.divide(d, tmp, out=tmp)
            tmp *= clr
            w -= tmp
            _bump(p)

    @staticmethod
    def _sparse_update(p: Tensor, state: dict[str, Any], g: Tensor, group: dict[str, Any], clr: Any) -> None:
        """A sparse gradient: only its entries of the sum and the parameter change."""
        if group["weight_decay"] != 0:
            raise RuntimeError("weight_decay option is not compatible with sparse gradients")
        idx, vals = _sparse_parts(-g if group["maximize"] else g)
        ssum = state["sum"]._data
        ssum[idx] += vals * vals
        p._data[idx] += -clr * (vals / (np.sqrt(ssum[idx]) + group["eps"]))
        _bump(state["sum"], p)
