"""Categorical(probs | logits): one of K categories per batch element."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _check_one_of, _ProbsLogits


def _draw_categories(probs_2d: np.ndarray, n: int) -> np.ndarray:
    """`n` category indices per row of `probs_2d` (rows of non-negative weights), shape (rows, n).

    Inverse-CDF sampling for all rows at once: row r's cumulative weights are shifted by r, so one
    sorted search over the concatenation serves every row."""
    from .._random import default_generator
    rows, k = probs_2d.shape
    p = probs_2d.astype(np.float64)
    cdf = np.cumsum(p, axis=-1)
    cdf /= cdf[:, -1:]
    cdf[:, -1] = 1.0
    shift = np.arange(rows, dtype=np.float64)[:, None]
    u = default_generator._rng.random((rows, n))
    idx = np.searchsorted((cdf + shift).ravel(), (u + shift).ravel(), side="right").reshape(rows, n)
    return np.minimum(idx - np.arange(rows)[:, None] * k, k - 1)


class Categorical(_ProbsLogits, Distribution):
    """A categorical distribution over {0, ..., K-1}, K being the size of the last dim of
    `probs` (non-negative weights, normalised here) or `logits` (unnormalised log-probabilities)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    has_enumerate_support = True

    def __init__(self, probs: Any = None, logits: Any = None, validate_args: bool | None = None) -> None:
        _check_one_of(probs, logits)
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.dim() > 1 else Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "Categorical":
        new = self._expand_params(Categorical, batch_shape, _instance, ("probs", "logits"), (self._num_events,))
        new._num_events = self._num_events
        return new

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self) -> Any:
        return constraints.integer_interval(0, self._num_events - 1)

    @property
    def mean(self) -> Tensor:
        import ndgrad
        return ndgrad.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> Tensor:
        return self.probs.argmax(-1)

    @property
    def variance(self) -> Tensor:
        import ndgrad
        return ndgrad.full(self._extended_shape(), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        import ndgrad
        if not isinstance(sample_shape, Size):
            sample_shape = Size(sample_shape)
        probs_2d = self.probs.detach().numpy().reshape(-1, self._num_events)
        draws = _draw_categories(probs_2d, sample_shape.numel()).T
        return ndgrad.from_numpy(np.ascontiguousarray(draws).astype(np.int64)).reshape(
            self._extended_shape(sample_shape))

    def log_prob(self, value: Tensor) -> Tensor:
        import ndgrad
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = ndgrad.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self) -> Tensor:
        min_real = float(np.finfo(self.logits.dtype.np).min)
        logits = self.logits.clamp(min=min_real)
        return -(logits * self.probs).sum(-1)

    def enumerate_support(self, expand: bool = True) -> Tensor:
        import ndgrad
        values = ndgrad.arange(self._num_events, dtype=ndgrad.int64)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
