"""VonMises(loc, concentration): the circular normal distribution on [-pi, pi)."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import broadcast_all


def _log_i0(x: Tensor) -> Tensor:
    from ..special import i0e
    return i0e(x).log() + x  # log I0(x), stable for large x


def _draw_von_mises(loc: np.ndarray, kappa: np.ndarray) -> np.ndarray:
    """Best and Fisher's wrapped-Cauchy rejection sampler, vectorised over the elements (float64)."""
    from .._random import default_generator
    rng = default_generator._rng
    tau = 1 + np.sqrt(1 + 4 * kappa ** 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        rho = (tau - np.sqrt(2 * tau)) / (2 * kappa)
        r = np.where(kappa < 1e-5, 1 / kappa + kappa, (1 + rho ** 2) / (2 * rho))
    x = np.zeros(loc.shape)
    todo = np.ones(loc.shape, bool)
    while todo.any():
        u1, u2, u3 = rng.random((3,) + loc.shape)
        z = np.cos(np.pi * u1)
        f = (1 + r * z) / (r + z)
        c = kappa * (r - f)
        with np.errstate(divide="ignore", invalid="ignore"):
            accept = todo & ((c * (2 - c) - u2 > 0) | (np.log(c / u2) + 1 - c >= 0))
        x = np.where(accept, np.sign(u3 - 0.5) * np.arccos(np.clip(f, -1, 1)), x)
        todo &= ~accept
    return np.mod(x + np.pi + loc, 2 * np.pi) - np.pi


class VonMises(Distribution):
    """Angles concentrated around `loc`; `concentration` (kappa) plays the role of an inverse variance.
    Samples lie in [-pi, pi); there is no rsample."""

    arg_constraints = {"loc": constraints.real, "concentration": constraints.positive}
    support = constraints.real
    has_rsample = False

    def __init__(self, loc: Any, concentration: Any, validate_args: bool | None = None) -> None:
        self.loc, self.concentration = broadcast_all(loc, concentration)
        super().__init__(self.loc.shape, Size(), validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "VonMises":
        return self._expand_params(VonMises, batch_shape, _instance, ("loc", "concentration"))

    def log_prob(self, value: Tensor) -> Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.concentration * (value - self.loc).cos() - math.log(2 * math.pi) - _log_i0(self.concentration)

    def sample(self, sample_shape: Any = Size()) -> Tensor:
        import ndgrad
        shape = tuple(self._extended_shape(sample_shape))
        loc = np.broadcast_to(self.loc.detach().numpy().astype(np.float64), shape)
        kappa = np.broadcast_to(self.concentration.detach().numpy().astype(np.float64), shape)
        return ndgrad.from_numpy(_draw_von_mises(loc, kappa).astype(self.loc.dtype.np))

    @property
    def mean(self) -> Tensor:
        return self.loc

    @property
    def mode(self) -> Tensor:
        return self.loc

    @property
    def variance(self) -> Tensor:
        from ..special import i0e, i1e
        return 1 - i1e(self.concentration) / i0e(self.concentration)  # circular variance 1 - I1/I0
