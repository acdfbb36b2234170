"""Muon: momentum SGD for 2-D weights whose update is orthogonalised by a quintic Newton-Schulz iteration run in
bfloat16, as PyTorch's torch.optim.Muon computes it (float32 arithmetic, rounded to bfloat16 after each op)."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .. import _alias
from .. import _dtype as D
from .._tensor import Tensor
from .optimizer import Optimizer, _bump, _hyper, _lerp_, _zeros_like

__all__ = ["Muon"]

_NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)


def _bf16(a: Any) -> np.ndarray:
    """Round to bfloat16 (straight from the input's dtype), kept as float32 arrays for the arithmetic."""
    return np.asarray(a).astype(D.bfloat16.np).astype(np.float32)


def _zeropower_via_newtonschulz(grad: np.ndarray, ns_coefficients: tuple[float, float, float], ns_steps: int,
                                eps: float) -> np.ndarray:
    """An approximately orthogonal matrix with grad's singular vectors (singular values pushed towards 1)."""
    if ns_steps >= 100:
        raise ValueError("Number of steps must be less than 100 for computational efficiency")
    if grad.ndim != 2:
        raise ValueError("Input tensor gradient must be a 2D matrix")
    if len(ns_coefficients) != 3:
        raise ValueError("Coefficients must be a tuple of exactly 3 values")
    a, b, c = (np.float32(x) for x in ns_coefficients)
    x = _bf16(grad)
    tall = grad.shape[0] > grad.shape[1]
    if tall:
        x = x.T
    norm = max(_bf16(np.sqrt(np.sum(x * x, dtype=np.float32))), _bf16(eps))
    x = _bf16(x / norm)
    for _ in range(ns_steps):
        gram = _bf16(x @ x.T)
        update = _bf16(b * gram + c * (gram @ gram))   # addmm(gram, gram, gram, beta=b, alpha=c): one rounding
        x = _bf16(a * x + update @ x)                  # addmm(x, update, x, beta=a)
    return x.T if tall else x


def _adjust_lr(lr: Any, adjust_lr_fn: str | None, shape: tuple[int, ...]) -> Any:
    rows, cols = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, rows / cols))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(rows, cols))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    """Muon for 2-D parameters (hidden-layer weights): Nesterov momentum, Newton-Schulz orthogonalisation of
    the update, decoupled weight decay and an lr scaled to the matrix shape (`adjust_lr_fn`)."""

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple[float, float, float] = _NS_COEFFICIENTS, eps: float = 1e-7,
                 ns_steps: int = 5, adjust_lr_fn: str | None = None) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 <= lr:
            raise ValueError(f"Learning rate should be >= 0 but is: {lr}")
        if not 0.0 <= momentum:
            raise ValueError(f"momentum should be >= 0 but is: {momentum}")
        if not 0.0 <= weight_decay:
            raise ValueError(f"weight decay should be >= 0 but is: {weight_decay}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ["original", "match_rms_adamw"]:
            raise ValueError(f"Adjust learning rate function {adjust_lr_fn} is not supported")
        defaults = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov,
                        ns_coefficients=ns_coefficients, eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError(f"Muon only supports 2D parameters whereas we found a parameter with size: "
                                     f"{p.size()}")

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        if p.is_complex():
            raise RuntimeError("Muon does not support complex parameters")
        state["momentum_buffer"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        wd, momentum = group["weight_decay"], group["momentum"]
        for p, state, w, g in self._params_with_grad(group):
            if g.ndim != 2:
                raise ValueError("Param gradient must be a 2D matrix")
            buf_t = state["momentum_buffer"]
            buf = buf_t._data
            tmp = self._scratch(w, 1)
            _lerp_(buf, g, 1 - momentum, tmp)
            if group["nesterov"]:
                upd = g.copy()
                _lerp_(upd, buf, momentum, tmp)
            else:
                upd = buf
            ortho = _zeropower_via_newtonschulz(upd, group["ns_coefficients"], group["ns_steps"], group["eps"])
            w *= 1 - lr * wd
            np.multiply(ortho.astype(w.dtype), -_adjust_lr(lr, group["adjust_lr_fn"], w.shape), out=tmp)
            w += tmp
            _bump(p, buf_t)


_alias.set_module("ndgrad.optim", Muon)  # PyTorch reports torch.optim.Muon (its file is private)
