"""Dirichlet(concentration): distributions over the probability simplex."""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from . import constraints
from ._gamma import standard_gamma
from .exp_family import ExponentialFamily


def _sample_dirichlet(concentration: Tensor) -> Tensor:
    # normalised Gamma(alpha_i, 1) draws; gradients reach alpha through each draw's implicit
    # reparameterisation and the normalisation
    g = standard_gamma(concentration)
    x = g / g.sum(-1, keepdim=True)
    fi = np.finfo(x.dtype.np)
    return x.clamp(min=float(fi.tiny), max=1 - float(fi.eps))


class Dirichlet(ExponentialFamily):
    """Dirichlet distribution with `concentration` (the last dim indexes the categories).
    rsample is reparameterised (implicitly, through the Gamma draws)."""

    arg_constraints = {"concentration": constraints.independent(constraints.positive, 1)}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, concentration: Tensor, validate_args: bool | None = None) -> None:
        if concentration.dim() < 1:
            raise ValueError("`concentration` parameter must be at least one-dimensional.")
        self.concentration = concentration
        super().__init__(concentration.shape[:-1], concentration.shape[-1:], validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "Dirichlet":
        return self._expand_params(Dirichlet, batch_shape, _instance, ("concentration",), self.event_shape)

    def rsample(self, sample_shape: Any = ()) -> Tensor:
        shape = self._extended_shape(sample_shape)
        return _sample_dirichlet(self.concentration.expand(shape))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        c = self.concentration
        return (c - 1).xlogy(value).sum(-1) + c.sum(-1).lgamma() - c.lgamma().sum(-1)

    @property
    def mean(self) -> Tensor:
        return self.concentration / self.concentration.sum(-1, True)

    @property
    def mode(self) -> Tensor:
        import ndgrad
        from ..nn.functional import one_hot
        cm1 = (self.concentration - 1).clamp(min=0.0)
        mode = cm1 / cm1.sum(-1, True)
        # with every concentration below one the density peaks at the vertices; like PyTorch, pick the
        # first (the argmax of the all-NaN 0/0 ratio above)
        corner = one_hot(mode.argmax(-1), cm1.shape[-1]).to(mode.dtype)
        return ndgrad.where((self.concentration < 1).all(-1, keepdim=True), corner, mode)

    @property
    def variance(self) -> Tensor:
        c0 = self.concentration.sum(-1, True)
        return self.concentration * (c0 - self.concentration) / (c0.pow(2) * (c0 + 1))

    def entropy(self) -> Tensor:
        c = self.concentration
        k = c.size(-1)
        a0 = c.sum(-1)
        return c.lgamma().sum(-1) - a0.lgamma() - (k - a0) * a0.digamma() - ((c - 1.0) * c.digamma()).sum(-1)

    @property
    def _natural_params(self) -> tuple:
        return (self.concentration,)

    def _log_normalizer(self, x: Tensor) -> Tensor:
        return x.lgamma().sum(-1) - x.sum(-1).lgamma()
