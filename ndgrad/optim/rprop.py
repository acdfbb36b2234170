"""Rprop: resilient backpropagation, a per-coordinate step size adapted from the signs of successive gradients."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _bump, _check_flags, _check_lr, _effective_grad, _hyper, _rv, _scalar_state, \
    _zeros_like

__all__ = ["Rprop"]


class Rprop(Optimizer):
    """Rprop: grow a coordinate's step by etas[1] while its gradient keeps its sign, shrink it by etas[0] when
    the sign flips (and skip that update), within step_sizes = (min, max)."""

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-2, etas: tuple[float, float] = (0.5, 1.2),
                 step_sizes: tuple[float, float] = (1e-6, 50), *, capturable: bool = False,
                 foreach: bool | None = None, maximize: bool = False, differentiable: bool = False) -> None:
        _check_lr(lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Invalid eta values: {etas[0]}, {etas[1]}")
        _check_flags(differentiable, foreach)
        defaults = dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                        differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        state["step"] = _scalar_state()
        state["prev"] = _zeros_like(p)
        state["step_size"] = _zeros_like(p)
        state["step_size"]._data[...] = complex(lr, lr) if p.is_complex() else lr

    def _update_group(self, group: dict[str, Any]) -> None:
        etaminus, etaplus = group["etas"]
        smin, smax = group["step_sizes"]
        for p, state, w, g in self._params_with_grad(group):
            d = _effective_grad(self, w, g, 0, group["maximize"])
            prev, size = _rv(state["prev"]._data), _rv(state["step_size"]._data)
            factor = self._scratch(w, 1)
            np.multiply(d, prev, out=factor)
            np.sign(factor, out=factor)
            same, flip = factor > 0, factor < 0
            factor[same] = etaplus
            factor[flip] = etaminus
            factor[factor == 0] = 1
            size *= factor
            np.clip(size, smin, smax, out=size)
            # after a sign flip the gradient counts as zero: no move now, no comparison next step
            np.copyto(prev, d)
            prev[flip] = 0
            np.sign(prev, out=factor)
            factor *= size
            w -= factor
            _bump(p, state["prev"], state["step_size"])
