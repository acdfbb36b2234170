"""Pooling layers. The kernels (strided window views, argmax scatter) are in ndgrad.ops.nn."""
from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...ops import nn as K
from .module import Module

__all__ = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptiveAvgPool1d",
           "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d",
           "LPPool1d", "LPPool2d", "LPPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d", "FractionalMaxPool2d",
           "FractionalMaxPool3d"]


class _MaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, dilation: Any = 1,
                 return_indices: bool = False, ceil_mode: bool = False) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")

    def forward(self, input: Tensor) -> Any:
        return K._max_pool(self._nd, input, self.kernel_size, self.stride, self.padding, self.dilation,
                           self.ceil_mode, self.return_indices, f"max_pool{self._nd}d")


class MaxPool1d(_MaxPoolNd):
    """1-d max pooling."""
    _nd = 1


class MaxPool2d(_MaxPoolNd):
    """2-d max pooling."""
    _nd = 2


class MaxPool3d(_MaxPoolNd):
    """3-d max pooling."""
    _nd = 3


class AvgPool1d(Module):
    """1-d average pooling."""

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True) -> None:
        super().__init__()
        one = lambda v: tuple(v) if isinstance(v, (list, tuple)) else (v,)  # noqa: E731
        self.kernel_size = one(kernel_size)
        self.stride = one(stride if (stride is not None) else kernel_size)
        self.padding = one(padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return K.avg_pool1d(input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                            self.count_include_pad)


class _AvgPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0, ceil_mode: bool = False,
                 count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        super().__init__()
        self.kernel_size = kernel_size
        self.stride = stride if (stride is not None) else kernel_size
        self.padding = padding
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor) -> Tensor:
        return K._avg_pool(self._nd, input, self.kernel_size, self.stride, self.padding, self.ceil_mode,
                           self.count_include_pad, self.divisor_override, f"avg_pool{self._nd}d")


class AvgPool2d(_AvgPoolNd):
    """2-d average pooling."""
    _nd = 2


class AvgPool3d(_AvgPoolNd):
    """3-d average pooling."""
    _nd = 3


class _AdaptiveNd(Module):
    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = tuple(output_size) if isinstance(output_size, list) else output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class _AdaptiveAvgPoolNd(_AdaptiveNd):
    _nd = 1

    def forward(self, input: Tensor) -> Tensor:
        return K._adaptive_avg(self._nd, input, self.output_size, f"adaptive_avg_pool{self._nd}d")


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    """1-d adaptive average pooling."""
    _nd = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    """2-d adaptive average pooling (output_size int or (H, W); None keeps that input size)."""
    _nd = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    """3-d adaptive average pooling (output_size int or (D, H, W); None keeps that input size)."""
    _nd = 3


class _AdaptiveMaxPoolNd(_AdaptiveNd):
    _nd = 1

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return K._adaptive_max(self._nd, input, self.output_size, self.return_indices,
                               f"adaptive_max_pool{self._nd}d")


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    """1-d adaptive max pooling."""
    _nd = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    """2-d adaptive max pooling."""
    _nd = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    """3-d adaptive max pooling."""
    _nd = 3


class _LPPoolNd(Module):
    _nd = 2

    def __init__(self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"ceil_mode={self.ceil_mode}")

    def forward(self, input: Tensor) -> Tensor:
        return K._lp_pool(self._nd, input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode)


class LPPool1d(_LPPoolNd):
    """1-d power-average pooling."""
    _nd = 1


class LPPool2d(_LPPoolNd):
    """2-d power-average pooling."""
    _nd = 2


class LPPool3d(_LPPoolNd):
    """3-d power-average pooling."""
    _nd = 3


def _tuple(v: Any, n: int) -> tuple:
    if isinstance(v, (list, tuple)):
        return tuple(v) * n if len(v) == 1 else tuple(v)
    return (v,) * n


class _MaxUnpoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__()
        self.kernel_size = _tuple(kernel_size, self._nd)
        self.stride = _tuple(stride if stride is not None else kernel_size, self._nd)
        self.padding = _tuple(padding, self._nd)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return K._max_unpool(self._nd, input, indices, self.kernel_size, self.stride, self.padding, output_size,
                             f"max_unpool{self._nd}d")


class MaxUnpool1d(_MaxUnpoolNd):
    """Inverse of MaxPool1d: values go back to their argmax positions, zeros elsewhere."""
    _nd = 1


class MaxUnpool2d(_MaxUnpoolNd):
    """Inverse of MaxPool2d: values go back to their argmax positions, zeros elsewhere."""
    _nd = 2


class MaxUnpool3d(_MaxUnpoolNd):
    """Inverse of MaxPool3d: values go back to their argmax positions, zeros elsewhere."""
    _nd = 3


class _FractionalMaxPoolNd(Module):
    _nd = 2

    def __init__(self, kernel_size: Any, output_size: Any = None, output_ratio: Any = None,
                 return_indices: bool = False, _random_samples: Tensor | None = None) -> None:
        super().__init__()
        nd = self._nd
        name = type(self).__name__
        self.kernel_size = _tuple(kernel_size, nd)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _tuple(output_size, nd) if output_size is not None else None
        self.output_ratio = _tuple(output_ratio, nd) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(f"{name} requires specifying either an output size, or a pooling ratio")
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        return K._fractional_max(self._nd, input, self.kernel_size, self.output_size, self.output_ratio,
                                 self.return_indices, self._random_samples, f"fractional_max_pool{self._nd}d")


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    """2-d fractional max pooling (windows at pseudo-random starts)."""
    _nd = 2


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    """3-d fractional max pooling."""
    _nd = 3
