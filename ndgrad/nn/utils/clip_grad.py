"""Gradient clipping: by total norm and by value, in place on each parameter's .grad."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from ..._tensor import Tensor
from ...ops._core import _make

__all__ = ["clip_grad_norm_", "clip_grad_norm", "clip_grad_value_", "get_total_norm", "clip_grads_with_norm_"]


def _grads(parameters: Any) -> list:
    if isinstance(parameters, Tensor):
        parameters = [parameters]
    return [p.grad for p in parameters if p.grad is not None]


def _norm_np(a: np.ndarray, norm_type: float) -> Any:
    if norm_type == math.inf:
        return np.abs(a).max() if a.size else a.dtype.type(0)
    if norm_type == -math.inf:
        return np.abs(a).min() if a.size else a.dtype.type(0)
    if norm_type == 0:
        return a.dtype.type(np.count_nonzero(a))
    if norm_type == 2:
        return np.sqrt(np.vdot(a, a).real) if a.size else a.dtype.type(0)
    return (np.abs(a) ** norm_type).sum() ** (1.0 / norm_type)


def get_total_norm(tensors: Any, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    """The norm of the per-tensor norms (i.e. of all values taken together)."""
    if isinstance(tensors, Tensor):
        tensors = [tensors]
    tensors = list(tensors)
    norm_type = float(norm_type)
    if not tensors:
        return _make(np.asarray(0.0, np.float32), _f32())
    dt = tensors[0]._dtype
    norms = np.array([_norm_np(t._data, norm_type) for t in tensors], dtype=dt.np)
    total = np.asarray(_norm_np(norms, norm_type), dtype=dt.np)
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, so "
                           "it cannot be clipped. To disable this error and scale the gradients by the non-finite "
                           "norm anyway, set `error_if_nonfinite=False`")
    return _make(total, dt)


def _f32() -> Any:
    from ... import _dtype as D
    return D.float32


def clip_grads_with_norm_(parameters: Any, max_norm: float, total_norm: Tensor, foreach: Any = None) -> None:
    """Scale the gradients by max_norm / (total_norm + 1e-6) when that is below 1."""
    grads = _grads(parameters)
    if not grads:
        return
    coef = float(max_norm) / (float(total_norm) + 1e-6)
    if coef < 1.0 or not np.isfinite(coef):  # a non-finite norm scales to nan, as in PyTorch
        for g in grads:
            g._data *= g._data.dtype.type(coef)
            g._version[0] += 1


def clip_grad_norm_(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach: Any = None) -> Tensor:
    """Rescale all gradients together so that their total norm is at most max_norm; returns that norm."""
    parameters = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    grads = _grads(parameters)
    if not grads:
        return _make(np.asarray(0.0, np.float32), _f32())
    total = get_total_norm(grads, norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_norm(parameters: Any, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                   foreach: Any = None) -> Tensor:
    import warnings
    warnings.warn("`torch.nn.utils.clip_grad_norm` is now deprecated in favor of `torch.nn.utils.clip_grad_norm_`.",
                  FutureWarning, stacklevel=2)
    return clip_grad_norm_(parameters, max_norm, norm_type, error_if_nonfinite, foreach)


def clip_grad_value_(parameters: Iterable | Tensor, clip_value: float, foreach: Any = None) -> None:
    """Clamp every gradient element into [-clip_value, clip_value], in place."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g._data, -clip_value, clip_value, out=g._data)
        g._version[0] += 1
