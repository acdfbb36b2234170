"""torchvision.transforms.v2.functional: v1's functions under v2's names, plus to_image/to_dtype."""
from __future__ import annotations

from typing import Any

import numpy as np

from ..functional import (InterpolationMode, adjust_brightness, adjust_contrast, adjust_gamma,
                          adjust_hue, adjust_saturation, affine, center_crop, convert_image_dtype,
                          crop, erase, get_dimensions, get_image_num_channels, get_image_size,
                          hflip, invert, normalize, pad, pil_to_tensor, resize, resized_crop,
                          rgb_to_grayscale, rotate, to_grayscale, to_pil_image, vflip)
from .. import functional as _F1

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue",
    "adjust_saturation", "affine", "center_crop", "convert_image_dtype", "crop", "erase",
    "get_dimensions", "get_image_num_channels", "get_image_size", "get_num_channels", "get_size",
    "grayscale_to_rgb", "hflip", "horizontal_flip", "invert", "normalize", "pad",
    "pil_to_tensor", "resize", "resized_crop", "rgb_to_grayscale", "rotate", "to_dtype",
    "to_grayscale", "to_image", "to_pil_image", "vertical_flip", "vflip",
]

horizontal_flip = hflip
vertical_flip = vflip


def get_size(inpt: Any) -> list[int]:
    """[height, width] (v2's order; v1's get_image_size is [width, height])."""
    _, h, w = get_dimensions(inpt)
    return [h, w]


def get_num_channels(inpt: Any) -> int:
    return get_dimensions(inpt)[0]


def grayscale_to_rgb(inpt: Any) -> Any:
    """Repeat a one-channel image to three channels (RGB images are returned as they are)."""
    if _F1._is_pil(inpt):
        return inpt.convert("RGB")
    if get_dimensions(inpt)[0] == 3:
        return inpt
    return rgb_to_grayscale(inpt, num_output_channels=3)


def to_image(inpt: Any) -> Any:
    """A PIL image or (H, W[, C]) array as a (C, H, W) tensor, values and dtype unchanged."""
    import ndgrad
    if _F1._is_pil(inpt):
        return pil_to_tensor(inpt)
    if isinstance(inpt, np.ndarray):
        arr = inpt[:, :, None] if inpt.ndim == 2 else inpt
        return ndgrad.from_numpy(np.ascontiguousarray(arr.transpose(2, 0, 1)))
    if _F1._is_tensor(inpt):
        return inpt
    raise TypeError(f"Input can either be a pure Tensor, a numpy array, or a PIL image, but got "
                    f"{type(inpt)} instead.")


def to_dtype(inpt: Any, dtype: Any = None, scale: bool = False) -> Any:
    """Cast a tensor to ``dtype`` (default float32); ``scale=True`` rescales image values."""
    import ndgrad
    dtype = ndgrad.float32 if dtype is None else dtype
    if scale:
        return convert_image_dtype(inpt, dtype)
    if isinstance(inpt, np.ndarray):
        return inpt.astype(_F1._np_dtype(dtype))
    return inpt.to(dtype)
