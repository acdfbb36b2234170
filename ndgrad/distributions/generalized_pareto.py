"""GeneralizedPareto(loc, scale, concentration)."""
from __future__ import annotations

from typing import Any

from .._tensor import Size, Tensor
from . import constraints
from .distribution import Distribution
from .utils import _set_broadcast


class GeneralizedPareto(Distribution):
    """Generalised Pareto: exponential tails for concentration 0, heavy (Pareto-like) tails above it and
    a bounded support [loc, loc - scale / concentration] below it. rsample inverts the CDF."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive, "concentration": constraints.real}
    has_rsample = True

    def __init__(self, loc: Any, scale: Any, concentration: Any, validate_args: bool | None = None) -> None:
        shape = _set_broadcast(self, loc=loc, scale=scale, concentration=concentration)
        super().__init__(shape, validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "GeneralizedPareto":
        return self._expand_params(GeneralizedPareto, batch_shape, _instance, ("loc", "scale", "concentration"))

    def _safe_concentration(self) -> tuple:
        """(concentration == 0 mask, the concentration with its zeros replaced by 1)."""
        import ndgrad
        zero = ndgrad.isclose(self.concentration, ndgrad.zeros_like(self.concentration))
        return zero, ndgrad.where(zero, 1.0, self.concentration)

    def rsample(self, sample_shape: Any = Size()) -> Tensor:
        import ndgrad
        return self.icdf(ndgrad.rand(self._extended_shape(sample_shape), dtype=self.loc.dtype))

    def log_prob(self, value: Tensor) -> Tensor:
        import ndgrad
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, c = self._safe_concentration()
        y = 1 / c + 1
        nonzero = ndgrad.where(y == 0, y, y * (c * z).log1p())
        return -self.scale.log() - ndgrad.where(zero, z, nonzero)

    def log_survival_function(self, value: Tensor) -> Tensor:
        """log P(X > value)."""
        import ndgrad
        if self._validate_args:
            self._validate_sample(value)
        z = (value - self.loc) / self.scale
        zero, c = self._safe_concentration()
        return ndgrad.where(zero, -z, -(c * z).log1p() / c)

    def log_cdf(self, value: Tensor) -> Tensor:
        return (-self.log_survival_function(value).exp()).log1p()

    def cdf(self, value: Tensor) -> Tensor:
        return self.log_cdf(value).exp()

    def icdf(self, value: Tensor) -> Tensor:
        import ndgrad
        zero, c = self._safe_concentration()
        logu = (-value).log1p()
        return ndgrad.where(zero, self.loc - self.scale * logu, self.loc + self.scale / c * (-c * logu).expm1())

    @property
    def mean(self) -> Tensor:
        import ndgrad
        valid = self.concentration < 1
        c = ndgrad.where(valid, self.concentration, 0.5)
        return ndgrad.where(valid, self.loc + self.scale / (1 - c), float("nan"))

    @property
    def variance(self) -> Tensor:
        import ndgrad
        valid = self.concentration < 0.5
        c = ndgrad.where(valid, self.concentration, 0.25)
        return ndgrad.where(valid, self.scale ** 2 / ((1 - c) ** 2 * (1 - 2 * c)), float("nan"))

    def entropy(self) -> Tensor:
        return (self.scale.log() + self.concentration + 1).broadcast_to(self._batch_shape)

    @property
    def mode(self) -> Tensor:
        return self.loc

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self) -> Any:
        import ndgrad
        upper = ndgrad.where(self.concentration < 0, self.loc - self.scale / self.concentration, float("inf"))
        return constraints.interval(self.loc, upper)
