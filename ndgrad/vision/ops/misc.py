"""torchvision.ops.misc: the convolution + normalisation + activation block the models share."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ndgrad import nn

__all__ = ["Conv2dNormActivation"]


class Conv2dNormActivation(nn.Sequential):
    """Conv2d, then ``norm_layer`` (if any), then ``activation_layer`` (if any), as one
    Sequential (children "0", "1", "2").  ``padding`` defaults to keeping the size at stride 1;
    the convolution has a bias only when there is no norm layer, unless ``bias`` says."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: Any = 3, stride: Any = 1,
                 padding: Any = None, groups: int = 1,
                 norm_layer: Callable[..., nn.Module] | None = nn.BatchNorm2d,
                 activation_layer: Callable[..., nn.Module] | None = nn.ReLU,
                 dilation: Any = 1, inplace: bool | None = True, bias: bool | None = None) -> None:
        if padding is None:
            if isinstance(kernel_size, int) and isinstance(dilation, int):
                padding = (kernel_size - 1) // 2 * dilation
            else:
                n = len(kernel_size) if isinstance(kernel_size, (tuple, list)) else len(dilation)
                ks = kernel_size if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * n
                dl = dilation if isinstance(dilation, (tuple, list)) else (dilation,) * n
                padding = tuple((k - 1) // 2 * d for k, d in zip(ks, dl))
        if bias is None:
            bias = norm_layer is None
        layers: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, kernel_size, stride,
                                             padding, dilation=dilation, groups=groups, bias=bias)]
        if norm_layer is not None:
            layers.append(norm_layer(out_channels))
        if activation_layer is not None:
            layers.append(activation_layer(**({} if inplace is None else {"inplace": inplace})))
        super().__init__(*layers)
        self.out_channels = out_channels
