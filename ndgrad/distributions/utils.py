"""Helpers shared by the distributions (PyTorch's torch.distributions.utils)."""
from __future__ import annotations

from numbers import Number
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Size, Tensor

euler_constant = 0.57721566490153286060  # Euler-Mascheroni constant


def _finfo(dtype: D.dtype) -> np.finfo:
    return np.finfo(dtype.np)


def broadcast_all(*values: Any) -> tuple:
    """Tensors (numbers become tensors of the first tensor's dtype, or the default dtype) broadcast
    to one shape."""
    import ndgrad
    if not all(isinstance(v, (Tensor, Number)) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects "
                         "implementing __torch_function__.")
    if not all(isinstance(v, Tensor) for v in values):
        like = next((v for v in values if isinstance(v, Tensor)), None)
        dtype = like.dtype if like is not None else D.get_default_dtype()
        values = tuple(v if isinstance(v, Tensor) else ndgrad.tensor(v, dtype=dtype) for v in values)
    return tuple(ndgrad.broadcast_tensors(*values))


def _set_broadcast(dist: Any, **params: Any) -> Size:
    """Set `params` on `dist` broadcast together (see broadcast_all); return the batch shape: theirs, or ()
    when every one was a Python number."""
    tensors = broadcast_all(*params.values())
    for name, t in zip(params, tensors):
        setattr(dist, name, t)
    return Size() if all(isinstance(v, Number) for v in params.values()) else tensors[0].size()


def _standard_normal(shape: Any, dtype: D.dtype, device: Any = None) -> Tensor:
    import ndgrad
    return ndgrad.randn(Size(shape), dtype=dtype)


def _sum_rightmost(value: Any, dim: int) -> Any:
    """Sum out the `dim` rightmost dimensions of `value`."""
    if dim == 0:
        return value
    return value.reshape(tuple(value.shape[:-dim]) + (-1,)).sum(-1)


def logits_to_probs(logits: Tensor, is_binary: bool = False) -> Tensor:
    """Probabilities from logits: a sigmoid when binary, else a softmax over the last dim."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs: Tensor) -> Tensor:
    """Keep probabilities inside [eps, 1 - eps] (eps of their dtype) so logs stay finite."""
    eps = float(_finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs: Tensor, is_binary: bool = False) -> Tensor:
    """Logits from probabilities (log-odds when binary, else log-probabilities), clamped away from 0 and 1."""
    p = clamp_probs(probs)
    if is_binary:
        return p.log() - (-p).log1p()
    return p.log()


class lazy_property:
    """A property computed on first access (with gradients enabled) and then stored on the instance."""

    def __init__(self, wrapped: Callable) -> None:
        self.wrapped = wrapped
        self.__doc__ = getattr(wrapped, "__doc__", None)
        self.__name__ = getattr(wrapped, "__name__", "")

    def __get__(self, instance: Any, obj_type: Any = None) -> Any:
        if instance is None:
            return self
        from ..autograd.grad_mode import enable_grad
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value


def _check_one_of(probs: Any, logits: Any) -> None:
    if (probs is None) == (logits is None):
        raise ValueError("Either `probs` or `logits` must be specified, but not both.")


class _ProbsLogits:
    """`probs` and `logits` derived lazily from whichever one a distribution was given (`_param`):
    sigmoid / log-odds when `_binary`, else softmax / log over the last dim."""

    _binary = False
    _param: Tensor

    @lazy_property
    def logits(self) -> Tensor:
        return probs_to_logits(self.probs, is_binary=self._binary)

    @lazy_property
    def probs(self) -> Tensor:
        return logits_to_probs(self.logits, is_binary=self._binary)

    @property
    def param_shape(self) -> Size:
        return self._param.size()

    def _set_param(self, probs: Any, logits: Any, total_count: Any = None) -> Size:
        """Store whichever of probs / logits is given (exactly one) as that attribute and `_param`, broadcast
        with `total_count` (then of the parameter's dtype) when there is one; return the batch shape: () for
        a Python number, else the parameter's shape."""
        _check_one_of(probs, logits)
        name, value = ("probs", probs) if probs is not None else ("logits", logits)
        if total_count is None:
            (t,) = broadcast_all(value)
            shape = Size() if isinstance(value, Number) else t.size()
        else:
            count, t = broadcast_all(total_count, value)
            self.total_count = count.type_as(t)
            shape = t.size()
        setattr(self, name, t)
        self._param = t
        return shape

    def _new(self, *args: Any, **kwargs: Any) -> Tensor:
        return self._param.new_tensor(*args, **kwargs)


def tril_matrix_to_vec(mat: Tensor, diag: int = 0) -> Tensor:
    """The lower-triangular entries (below diagonal `diag`) of the last two dims, row by row."""
    import ndgrad
    n = mat.shape[-1]
    if not isinstance(diag, int) or diag <= -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    rows, cols = np.tril_indices(n, diag)
    return mat[..., ndgrad.tensor(rows), ndgrad.tensor(cols)]


def vec_to_tril_matrix(vec: Tensor, diag: int = 0) -> Tensor:
    """Inverse of tril_matrix_to_vec: a lower-triangular matrix filled row by row from `vec`."""
    import ndgrad
    m = vec.shape[-1]
    n = next((k for k in range(1, m + 2) if len(np.tril_indices(k, diag)[0]) == m), None)
    if n is None:
        raise ValueError(f"The size of last dimension is {m} which cannot be expressed as the lower triangular "
                         f"part of a square D x D matrix.")
    rows, cols = np.tril_indices(n, diag)
    flat = ndgrad.tensor(rows * n + cols)
    out = vec.new_zeros(tuple(vec.shape[:-1]) + (n * n,))
    out = out.index_add(-1, flat, vec)
    return out.reshape(tuple(vec.shape[:-1]) + (n, n))
