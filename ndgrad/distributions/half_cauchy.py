"""HalfCauchy(scale): |X| for X ~ Cauchy(0, scale)."""
from __future__ import annotations

import math
from typing import Any

from .._tensor import Tensor
from .cauchy import Cauchy
from .half_normal import _Folded
from .transforms import AbsTransform


class HalfCauchy(_Folded):
    """|X| for X ~ Cauchy(0, scale)."""

    def __init__(self, scale: Any, validate_args: bool | None = None) -> None:
        super().__init__(Cauchy(0, scale, validate_args=False), AbsTransform(), validate_args=validate_args)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "HalfCauchy":
        return super().expand(batch_shape, _instance=self._get_checked_instance(HalfCauchy, _instance))

    @property
    def mean(self) -> Tensor:
        import ndgrad
        return ndgrad.full(self._extended_shape(), math.inf, dtype=self.scale.dtype)

    @property
    def variance(self) -> Tensor:
        return self.base_dist.variance
