"""ExponentialFamily: distributions with density h(x) exp(<t(x), theta> - F(theta))."""
from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from .distribution import Distribution


class ExponentialFamily(Distribution):
    """Base of exponential-family distributions. Subclasses give `_natural_params`, `_log_normalizer`
    and `_mean_carrier_measure`; the entropy and same-family KL then follow from the log-normalizer
    (its gradient is the mean of the sufficient statistic), computed with autograd."""

    @property
    def _natural_params(self) -> tuple:
        raise NotImplementedError

    def _log_normalizer(self, *natural_params: Any) -> Tensor:
        raise NotImplementedError

    @property
    def _mean_carrier_measure(self) -> Any:
        raise NotImplementedError

    def entropy(self) -> Tensor:
        """Entropy from the Bregman identity H = F(theta) - <theta, grad F(theta)> - E[log h(x)]."""
        from ..autograd import grad
        result = -self._mean_carrier_measure
        params = [p.detach().requires_grad_() for p in self._natural_params]
        lg_normal = self._log_normalizer(*params)
        gradients = grad(lg_normal.sum(), params, create_graph=True)
        result = result + lg_normal
        for p, g in zip(params, gradients):
            result = result - (p * g).reshape(tuple(self._batch_shape) + (-1,)).sum(-1)
        return result
