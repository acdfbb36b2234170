"""ndgrad.distributions: PyTorch's torch.distributions."""
from __future__ import annotations

from . import constraints, utils  # noqa: F401
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .exp_family import ExponentialFamily
from .exponential import Exponential
from .laplace import Laplace
from .normal import Normal
from .one_hot_categorical import OneHotCategorical, OneHotCategoricalStraightThrough
from .uniform import Uniform

__all__ = ["Bernoulli", "Categorical", "Distribution", "ExponentialFamily", "Exponential", "Laplace", "Normal",
           "OneHotCategorical", "OneHotCategoricalStraightThrough", "Uniform"]
