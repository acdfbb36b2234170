"""Multinomial(total_count, probs | logits): category counts of total_count draws."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Size, Tensor
from . import constraints
from .binomial import Binomial
from .categorical import Categorical, _draw_categories
from .distribution import Distribution
from .utils import broadcast_all


class Multinomial(Distribution):
    """Counts per category (event shape (K,)) of `total_count` independent categorical draws.
    `total_count` must be one int; log_prob accepts any counts (it does not need total_count)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.independent(constraints.real, 1)}
    total_count: int

    def __init__(self, total_count: int = 1, probs: Tensor | None = None, logits: Tensor | None = None,
                 validate_args: bool | None = None) -> None:
        if not isinstance(total_count, int):
            raise NotImplementedError("inhomogeneous total_count is not supported")
        self.total_count = total_count
        self._categorical = Categorical(probs=probs, logits=logits)
        self._binomial = Binomial(total_count=total_count, probs=self.probs)
        super().__init__(self._categorical.batch_shape, self._categorical.param_shape[-1:],
                         validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "Multinomial":
        new = self._get_checked_instance(Multinomial, _instance)
        batch_shape = Size(batch_shape)
        new.total_count = self.total_count
        new._categorical = self._categorical.expand(batch_shape)
        new._binomial = Binomial(total_count=self.total_count, probs=new._categorical.probs, validate_args=False)
        super(Multinomial, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args: Any, **kwargs: Any) -> Tensor:
        return self._categorical._new(*args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=1)
    def support(self) -> Any:
        return constraints.multinomial(self.total_count)

    @property
    def mean(self) -> Tensor:
        return self.probs * self.total_count

    @property
    def variance(self) -> Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def logits(self) -> Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> Tensor:
        return self._categorical.probs

    @property
    def param_shape(self) -> Size:
        return self._categorical.param_shape

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        import ndgrad
        shape = tuple(self._extended_shape(sample_shape))
        k = self._categorical._num_events
        probs_2d = self.probs.detach().numpy().reshape(-1, k)
        n_samples = Size(sample_shape).numel()
        draws = _draw_categories(probs_2d, n_samples * self.total_count)  # (rows, samples * total)
        draws = draws.reshape(probs_2d.shape[0], n_samples, self.total_count)
        counts = np.zeros((probs_2d.shape[0], n_samples, k))
        rows, samples = np.indices(draws.shape[:2])
        np.add.at(counts, (rows[..., None], samples[..., None], draws), 1)
        counts = np.moveaxis(counts, 1, 0).reshape(shape)
        return ndgrad.from_numpy(counts.astype(self.probs.dtype.np))

    def entropy(self) -> Tensor:
        import ndgrad
        n = ndgrad.tensor(self.total_count)  # int64, so lgamma(n + 1) is in the default dtype as in PyTorch
        term1 = n * self._categorical.entropy() - (n + 1).lgamma()
        support = self._binomial.enumerate_support(expand=False)[1:]
        binomial_probs = self._binomial.log_prob(support).exp()
        weights = (support + 1).lgamma()
        return term1 + (binomial_probs * weights).sum([0, -1])

    def log_prob(self, value: Tensor) -> Tensor:
        import ndgrad
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        log_factorial_n = (value.sum(-1) + 1).lgamma()
        log_factorial_xs = (value + 1).lgamma().sum(-1)
        # a zero count of an impossible category contributes 0, not 0 * -inf
        logits = ndgrad.where((value == 0) & (logits == -float("inf")), 0.0, logits)
        return log_factorial_n - log_factorial_xs + (logits * value).sum(-1)
