"""Padding layers: constant/zero, reflection, replication and circular, in 1-3 d.

Each holds `padding` as PyTorch stores it: (left, right[, top, bottom[, front, back]]),
last dim first. The arithmetic is `ndgrad.ops.nn.pad`.
"""
from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...ops import nn as K
from .module import Module

__all__ = ["ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
           "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
           "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d"]


def _pads(padding: Any, nd: int) -> tuple:
    """An int pads every side; a sequence is kept as given (PyTorch checks its length at forward)."""
    if isinstance(padding, (list, tuple)):
        return tuple(padding)
    return (padding,) * (2 * nd)


class _PadNd(Module):
    _nd = 1
    _mode = "constant"

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _pads(padding, self._nd)

    def forward(self, input: Tensor) -> Tensor:
        return K.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class _ConstantPadNd(_PadNd):
    def __init__(self, padding: Any, value: float) -> None:
        super().__init__(padding)
        self.value = value

    def forward(self, input: Tensor) -> Tensor:
        return K.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    """Pad the last dim with a constant."""
    _nd = 1


class ConstantPad2d(_ConstantPadNd):
    """Pad the last 2 dims with a constant."""
    _nd = 2


class ConstantPad3d(_ConstantPadNd):
    """Pad the last 3 dims with a constant."""
    _nd = 3


class _ZeroPadNd(_ConstantPadNd):
    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad1d(_ZeroPadNd):
    """Pad the last dim with zeros."""
    _nd = 1


class ZeroPad2d(_ZeroPadNd):
    """Pad the last 2 dims with zeros."""
    _nd = 2


class ZeroPad3d(_ZeroPadNd):
    """Pad the last 3 dims with zeros."""
    _nd = 3


class ReflectionPad1d(_PadNd):
    """Pad the last dim with its reflection (the edge is not repeated)."""
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    """Pad the last 2 dims with their reflection."""
    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    """Pad the last 3 dims with their reflection."""
    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    """Pad the last dim by repeating its edge values."""
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    """Pad the last 2 dims by repeating their edge values."""
    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    """Pad the last 3 dims by repeating their edge values."""
    _nd, _mode = 3, "replicate"


class _CircularPadNd(_PadNd):
    _mode = "circular"

    def forward(self, input: Tensor) -> Tensor:
        nd = self._nd
        if not isinstance(input, Tensor) or input.dim() not in (nd + 1, nd + 2):
            got = input.dim() if isinstance(input, Tensor) else type(input).__name__
            raise ValueError(f"expected {nd + 1}D or {nd + 2}D input (got {got}D input)")
        return K.pad(input, self.padding, "circular")


class CircularPad1d(_CircularPadNd):
    """Pad the last dim periodically (wrapping around)."""
    _nd = 1


class CircularPad2d(_CircularPadNd):
    """Pad the last 2 dims periodically."""
    _nd = 2


class CircularPad3d(_CircularPadNd):
    """Pad the last 3 dims periodically."""
    _nd = 3
