"""ASGD: averaged stochastic gradient descent (Polyak & Juditsky), keeping a running average `ax`."""
from __future__ import annotations

from typing import Any, Iterable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from .optimizer import (Optimizer, _bump, _check_flags, _check_lr, _check_min, _decayed_grad, _hyper, _rv,
                        _scalar_state, _zeros_like)

__all__ = ["ASGD"]


class ASGD(Optimizer):
    """Averaged SGD: the step size eta decays as lr / (1 + lambd * lr * t) ** alpha; averaging starts at t0."""

    _setstate_defaults = dict(foreach=None, maximize=False, differentiable=False, capturable=False)
    _scalar_state_keys = ("step", "eta", "mu")

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach: bool | None = None, maximize: bool = False,
                 differentiable: bool = False, capturable: bool = False) -> None:
        _check_lr(lr)
        _check_min(weight_decay, "weight_decay value")
        _check_flags(differentiable, foreach)
        defaults = dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = _scalar_state()
        state["eta"] = _scalar_state(_hyper(group["lr"]))
        state["mu"] = _scalar_state(1.0)
        state["ax"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        lambd, alpha, t0 = group["lambd"], group["alpha"], group["t0"]
        for p, state, w, g in self._params_with_grad(group):
            eta_t, mu_t = state["eta"], state["mu"]
            d = _decayed_grad(self, w, g, group, lr)
            eta = float(eta_t._data)   # eta and mu live in the state's (float32) precision, as in PyTorch
            w *= 1 - lambd * eta
            tmp = self._scratch(w, 1)
            np.multiply(d, -eta, out=tmp)
            w += tmp
            ax = _rv(state["ax"]._data)
            if float(mu_t._data) != 1:
                np.subtract(w, ax, out=tmp)
                tmp *= float(mu_t._data)
                ax += tmp
            else:
                ax[...] = w
            step = float(state["step"]._data)
            # PyTorch makes each new value a tensor of the default dtype before copying it into the state
            dt = D.get_default_dtype().np
            eta_t._data[...] = np.asarray(lr / ((1 + lambd * lr * step) ** alpha), dtype=dt)
            mu_t._data[...] = np.asarray(1 / max(1, step - t0), dtype=dt)
            _bump(p, eta_t, mu_t, state["ax"])
