"""SGD with momentum, dampening, Nesterov momentum, weight decay and maximize."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _add_sparse_, _bump, _check_flags, _decayed_grad, _hyper, _rv, _zeros_like

__all__ = ["SGD"]


class SGD(Optimizer):
    """Stochastic gradient descent (optionally with momentum), updating parameters in place."""

    _sparse_message = None  # sparse gradients are taken (without weight decay), as in PyTorch
    _setstate_defaults = dict(nesterov=False, maximize=False, foreach=None, differentiable=False, fused=False)

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach: bool | None = None, differentiable: bool = False, fused: bool | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if lr < 0.0:
            raise ValueError(f"Invalid learning rate: {lr}")
        if momentum < 0.0:
            raise ValueError(f"Invalid momentum value: {momentum}")
        if weight_decay < 0.0:
            raise ValueError(f"Invalid weight_decay value: {weight_decay}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        _check_flags(differentiable, foreach, fused)
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay, nesterov=nesterov,
                        maximize=maximize, foreach=foreach, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        momentum, dampening, nesterov = group["momentum"], group["dampening"], group["nesterov"]
        for p, state, w, g in self._params_with_grad(group):
            if isinstance(g, Tensor):
                self._sparse_update(p, state, g, group, lr)
                continue
            d = _decayed_grad(self, w, g, group, lr)
            if momentum != 0:
                buf_t = state.get("momentum_buffer")
                if buf_t is None:  # the first step's buffer is the gradient itself
                    buf_t = self.state[p]["momentum_buffer"] = _zeros_like(p)
                    buf = _rv(buf_t._data)
                    buf[...] = d
                else:
                    buf = _rv(buf_t._data)
                    buf *= momentum
                    if dampening == 0:
                        buf += d
                    else:
                        s = self._scratch(w, 1)
                        np.multiply(d, 1 - dampening, out=s)
                        buf += s
                    _bump(buf_t)
                if nesterov:
                    s = self._scratch(w, 1)
                    np.multiply(buf, momentum, out=s)
                    s += d
                    d = s
                else:
                    d = buf
            s = self._scratch(w, 1)
            if d is not s:
                np.multiply(d, lr, out=s)
            else:
                s *= lr
            w -= s
            _bump(p)

    def _sparse_update(self, p: Tensor, state: dict[str, Any], g: Tensor, group: dict[str, Any], lr: Any) -> None:
        """A sparse gradient (e.g. from Embedding(sparse=True)): the momentum buffer stays sparse, as PyTorch's."""
        if group["weight_decay"] != 0:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        momentum = group["momentum"]
        d = -g if group["maximize"] else g
        if momentum != 0:
            buf = state.get("momentum_buffer")
            buf = d.clone() if buf is None else (buf * momentum).add(d, alpha=1 - group["dampening"])
            self.state[p]["momentum_buffer"] = buf
            d = d.add(buf, alpha=momentum) if group["nesterov"] else buf
        _add_sparse_(p._data, d, -lr)
        _bump(p)
