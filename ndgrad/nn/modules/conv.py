"""Convolution layers: Conv1d/2d/3d, ConvTranspose1d/2d/3d and the lazy variants.

The arithmetic lives in ndgrad.ops.nn (im2col + BLAS, with gradient rules); these
modules hold the parameters, PyTorch's default initialisation and repr.
"""
from __future__ import annotations

import math
from typing import Any

from ... import _creation
from ..._tensor import Tensor
from ...ops import nn as K
from ..parameter import Parameter, UninitializedParameter
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv1d",
           "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d"]

_PAD_MODES = ("zeros", "reflect", "replicate", "circular")


def _tup(v: Any, n: int) -> tuple:
    if isinstance(v, (list, tuple)):
        v = tuple(int(a) for a in v)
        return v * n if len(v) == 1 else v
    return (int(v),) * n


class _ConvNd(Module):
    _nd = 2
    _transposed = False

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None, output_padding: Any = 0) -> None:
        super().__init__()
        nd = self._nd
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        k = _tup(kernel_size, nd)
        s = _tup(stride, nd)
        d = _tup(dilation, nd)
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string {padding!r}, should be one of {{'same', 'valid'}}")
            if padding == "same" and any(a != 1 for a in s):
                raise ValueError("padding='same' is not supported for strided convolutions")
            p: Any = padding
        else:
            p = _tup(padding, nd)
        if padding_mode not in _PAD_MODES:
            raise ValueError(f"padding_mode must be one of {list(_PAD_MODES)}, but got padding_mode='{padding_mode}'")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = k
        self.stride = s
        self.padding = p
        self.dilation = d
        self.transposed = self._transposed
        self.output_padding = _tup(output_padding, nd)
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(p, str):
            rev: list = [0, 0] * nd
            if p == "same":
                for dd, kk, i in zip(d, k, range(nd - 1, -1, -1)):
                    total = dd * (kk - 1)
                    left = total // 2
                    rev[2 * i] = left
                    rev[2 * i + 1] = total - left
        else:
            rev = [q for q in reversed(p) for _ in range(2)]
        self._reversed_padding_repeated_twice = rev
        if self._transposed:
            shape = (in_channels, out_channels // groups) + k
        else:
            shape = (out_channels, in_channels // groups) + k
        if in_channels == 0 and isinstance(self, _LazyMixin):
            self.weight = UninitializedParameter(dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(dtype=dtype)
            else:
                self.register_parameter("bias", None)
            return
        self.weight = Parameter(_creation.empty(shape, dtype=dtype))
        if bias:
            self.bias = Parameter(_creation.empty(out_channels, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        from .. import init
        # kaiming_uniform_(a=sqrt(5)) gives U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch does
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        p = self.padding
        if isinstance(p, str) or p != (0,) * len(p):
            s += f", padding={p}"
        if self.dilation != (1,) * len(self.dilation):
            s += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += f", output_padding={self.output_padding}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += f", padding_mode={self.padding_mode}"
        return s

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        fn = (K.conv1d, K.conv2d, K.conv3d)[self._nd - 1]
        if self.padding_mode != "zeros":
            return fn(K.pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), weight, bias,
                      self.stride, 0, self.dilation, self.groups)
        return fn(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvNd):
    """1-d convolution over (N, C_in, L) input."""
    _nd = 1


class Conv2d(_ConvNd):
    """2-d convolution over (N, C_in, H, W) input."""
    _nd = 2


class Conv3d(_ConvNd):
    """3-d convolution over (N, C_in, D, H, W) input."""
    _nd = 3


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__} does not support padding={padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)

    def _output_padding(self, input: Tensor, output_size: Any) -> tuple:
        if output_size is None:
            return self.output_padding
        nd = self._nd
        output_size = list(output_size)
        has_batch = input.dim() == nd + 2
        if len(output_size) == nd + 2 or (len(output_size) == nd + 1 and not has_batch):
            output_size = output_size[-nd:]
        if len(output_size) != nd:
            raise ValueError(f"ConvTranspose{nd}D: for {input.dim()}D input, output_size must have {nd} or "
                             f"{nd + 2} elements (got {len(output_size) + 0})")
        res = []
        sp = input.shape[-nd:]
        for i in range(nd):
            mn = (sp[i] - 1) * self.stride[i] - 2 * self.padding[i] + self.dilation[i] * (self.kernel_size[i] - 1) + 1
            mx = mn + self.stride[i] - 1
            if not mn <= output_size[i] <= mx:
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{[(sp[j] - 1) * self.stride[j] - 2 * self.padding[j] + self.dilation[j] * (self.kernel_size[j] - 1) + 1 for j in range(nd)]} to "  # noqa: E501
                                 f"{[(sp[j] - 1) * self.stride[j] - 2 * self.padding[j] + self.dilation[j] * (self.kernel_size[j] - 1) + self.stride[j] for j in range(nd)]} "  # noqa: E501
                                 f"(for an input of {list(sp)})")
            res.append(output_size[i] - mn)
        return tuple(res)

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        op = self._output_padding(input, output_size)
        fn = (K.conv_transpose1d, K.conv_transpose2d, K.conv_transpose3d)[self._nd - 1]
        return fn(input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-d transposed convolution."""
    _nd = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-d transposed convolution ("deconvolution")."""
    _nd = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-d transposed convolution."""
    _nd = 3


class _LazyMixin:
    """Lazy modules: in_channels is read from the first input, then the module becomes `cls_to_become`."""

    cls_to_become: Any = None

    def _materialize(self, input: Tensor) -> None:
        nd = self._nd  # type: ignore[attr-defined]
        if not isinstance(self.weight, UninitializedParameter):  # type: ignore[attr-defined]
            return
        c = input.shape[1] if input.dim() == nd + 2 else input.shape[0]
        self.in_channels = c
        g = self.groups  # type: ignore[attr-defined]
        if c % g:
            raise ValueError("in_channels must be divisible by groups")
        k = self.kernel_size  # type: ignore[attr-defined]
        if self._transposed:  # type: ignore[attr-defined]
            shape = (c, self.out_channels // g) + k  # type: ignore[attr-defined]
        else:
            shape = (self.out_channels, c // g) + k  # type: ignore[attr-defined]
        self.weight.materialize(shape)  # type: ignore[attr-defined]
        if self.bias is not None:  # type: ignore[attr-defined]
            self.bias.materialize((self.out_channels,))  # type: ignore[attr-defined]
        self.reset_parameters()  # type: ignore[attr-defined]
        self.__class__ = self.cls_to_become

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._materialize(args[0] if args else kwargs["input"])
        return Module.__call__(self, *args, **kwargs)  # type: ignore[arg-type]


def _lazy_conv(base: type) -> type:
    """The lazy form of a convolution class: in_channels comes from the first input."""
    if base._transposed:
        def init(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True, dilation: Any = 1,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
            base.__init__(self, 0, out_channels, kernel_size, stride, padding, output_padding, groups, bias,
                          dilation, padding_mode, device, dtype)
    else:
        def init(self: Any, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True, padding_mode: str = "zeros",
                 device: Any = None, dtype: Any = None) -> None:
            base.__init__(self, 0, out_channels, kernel_size, stride, padding, dilation, groups, bias, padding_mode,
                          device, dtype)
    name = "Lazy" + base.__name__
    return type(name, (_LazyMixin, base), {"cls_to_become": base, "__init__": init, "__module__": __name__,
                                           "__qualname__": name,
                                           "__doc__": f"{base.__name__} whose in_channels is inferred from the "
                                                      "first input."})


LazyConv1d = _lazy_conv(Conv1d)
LazyConv2d = _lazy_conv(Conv2d)
LazyConv3d = _lazy_conv(Conv3d)
LazyConvTranspose1d = _lazy_conv(ConvTranspose1d)
LazyConvTranspose2d = _lazy_conv(ConvTranspose2d)
LazyConvTranspose3d = _lazy_conv(ConvTranspose3d)
