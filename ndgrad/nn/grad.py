"""nn.grad: the gradients of a convolution with respect to its input and its weight, as functions."""
from __future__ import annotations

from typing import Any, Sequence

from .._tensor import Tensor
from ..ops import nn as K

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]


def _geometry(nd: int, stride: Any, padding: Any, dilation: Any, groups: int) -> Any:
    pad = K._ntuple(padding, nd, "padding", "conv")
    return K._P(K._ntuple(stride, nd, "stride", "conv"), tuple((q, q) for q in pad),
                K._ntuple(dilation, nd, "dilation", "conv"), int(groups))


def _input_grad(nd: int, input_size: Sequence[int], weight: Tensor, grad_output: Tensor, stride: Any,
                padding: Any, dilation: Any, groups: int) -> Tensor:
    sp = tuple(int(s) for s in input_size)[-nd:]
    return K._conv_input_grad(grad_output, weight, _geometry(nd, stride, padding, dilation, groups), sp)


def _weight_grad(nd: int, input: Tensor, weight_size: Sequence[int], grad_output: Tensor, stride: Any,
                 padding: Any, dilation: Any, groups: int) -> Tensor:
    k = tuple(int(s) for s in weight_size)[-nd:]
    return K._conv_weight_grad(input, grad_output, _geometry(nd, stride, padding, dilation, groups), k)


def conv1d_input(input_size: Sequence[int], weight: Tensor, grad_output: Tensor, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1) -> Tensor:
    """Gradient of conv1d with respect to its input (of size input_size)."""
    return _input_grad(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input: Tensor, weight_size: Sequence[int], grad_output: Tensor, stride: Any = 1,
                  padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """Gradient of conv1d with respect to its weight (of size weight_size)."""
    return _weight_grad(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size: Sequence[int], weight: Tensor, grad_output: Tensor, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1) -> Tensor:
    """Gradient of conv2d with respect to its input (of size input_size)."""
    return _input_grad(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input: Tensor, weight_size: Sequence[int], grad_output: Tensor, stride: Any = 1,
                  padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """Gradient of conv2d with respect to its weight (of size weight_size)."""
    return _weight_grad(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size: Sequence[int], weight: Tensor, grad_output: Tensor, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1) -> Tensor:
    """Gradient of conv3d with respect to its input (of size input_size)."""
    return _input_grad(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input: Tensor, weight_size: Sequence[int], grad_output: Tensor, stride: Any = 1,
                  padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Tensor:
    """Gradient of conv3d with respect to its weight (of size weight_size)."""
    return _weight_grad(3, input, weight_size, grad_output, stride, padding, dilation, groups)
