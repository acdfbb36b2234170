"""Image transforms shaped like torchvision.transforms, on ndgrad tensors and NumPy arrays.

Layout rule: ToTensor is the one place where an array may be channel-last.  It reads a NumPy
array (or anything with ``__array__`` / ``__array_interface__``, e.g. a PIL image) as
(H, W) or (H, W, C), exactly as torchvision does, and reads an ndgrad tensor as (H, W) or
already channel-first (C, H, W).  Every other transform takes a channel-first image
(..., H, W) and returns the same kind of object it was given (tensor in, tensor out; array in,
array out).  Transforms are data preprocessing: they do not record autograd history.
"""
from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import Any

import numpy as np

from ._common import from_array, is_tensor, to_array

__all__ = ["Compose", "InterpolationMode", "Lambda", "Normalize", "Pad", "Resize", "ToTensor"]


def _unwrap(img: Any, who: str) -> tuple[np.ndarray, bool]:
    if is_tensor(img):
        return to_array(img), True
    if isinstance(img, np.ndarray):
        return img, False
    raise TypeError(f"{who}: img should be an ndgrad Tensor or a numpy.ndarray. Got {type(img)}")


def _rewrap(arr: np.ndarray, as_tensor: bool) -> Any:
    return from_array(arr) if as_tensor else arr


def _check_image(arr: np.ndarray, who: str) -> None:
    if arr.ndim < 2:
        raise ValueError(f"{who}: expected an image of shape (..., H, W), got shape {arr.shape}")


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = list(transforms)

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        body = "".join(f"\n    {t}" for t in self.transforms)
        return f"{type(self).__name__}({body}\n)"


class ToTensor:
    """Convert an image to a float32 ndgrad tensor (C, H, W); uint8 is scaled to [0, 1].

    NumPy arrays (and PIL images) are (H, W) or (H, W, C), as in torchvision; ndgrad tensors
    are (H, W) or (C, H, W).  A (H, W) image gains a channel dimension.  uint8 values are
    divided by 255; other dtypes are converted to float32 unscaled (torchvision would keep a
    non-uint8 array's dtype; ndgrad's default float is float32).  The result is a new tensor.
    """

    def __call__(self, pic: Any) -> Any:
        if is_tensor(pic):
            arr, channel_last = to_array(pic), False
        elif isinstance(pic, np.ndarray) or hasattr(pic, "__array_interface__") \
                or hasattr(pic, "__array__"):
            arr, channel_last = np.asarray(pic), True
        else:
            raise TypeError(f"pic should be an ndgrad Tensor, a numpy.ndarray or a PIL Image. "
                            f"Got {type(pic)}")
        if arr.ndim not in (2, 3):
            raise ValueError(f"pic should be 2 or 3 dimensional. Got {arr.ndim} dimensions.")
        if arr.ndim == 2:
            arr = arr[None]
        elif channel_last:
            arr = arr.transpose(2, 0, 1)
        if arr.dtype == np.uint8:
            out = np.divide(arr, np.float32(255), dtype=np.float32)
        else:
            out = arr.astype(np.float32)  # always a copy: the input is never aliased
        return from_array(out)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Normalize:
    """``(img - mean[c]) / std[c]`` per channel of a float image (..., C, H, W).

    ``mean`` and ``std`` are sequences of length C (or 1, or scalars).  With ``inplace=True``
    the input's memory is overwritten and returned.
    """

    def __init__(self, mean: Sequence[float] | float, std: Sequence[float] | float,
                 inplace: bool = False) -> None:
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def __call__(self, img: Any) -> Any:
        arr, as_tensor = _unwrap(img, "Normalize")
        if arr.ndim < 3:
            raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). "
                             f"Got tensor.size() = {tuple(arr.shape)}")
        if arr.dtype.kind != "f":
            raise TypeError(f"Input tensor should be a float tensor. Got {arr.dtype}.")
        mean = np.asarray(self.mean, dtype=arr.dtype).reshape(-1)
        std = np.asarray(self.std, dtype=arr.dtype).reshape(-1)
        if (std == 0).any():
            raise ValueError(f"std evaluated to zero after conversion to {arr.dtype}, "
                             f"leading to division by zero.")
        channels = arr.shape[-3]
        for name, vec in (("mean", mean), ("std", std)):
            if vec.size not in (1, channels):
                raise ValueError(f"Normalize: {name} has {vec.size} values for an image with "
                                 f"{channels} channels")
        mean, std = mean[:, None, None], std[:, None, None]
        if self.inplace:
            if as_tensor and hasattr(img, "sub_") and hasattr(img, "div_"):
                # the tensor's own in-place ops keep its version counter and autograd checks
                return img.sub_(from_array(mean)).div_(from_array(std))
            np.subtract(arr, mean, out=arr)
            np.divide(arr, std, out=arr)
            return img
        return _rewrap((arr - mean) / std, as_tensor)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


def _parse_padding(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        p = int(padding)
        pads = (p, p, p, p)
    elif isinstance(padding, Sequence) and len(padding) in (1, 2, 4):
        vals = [int(v) for v in padding]
        if len(vals) == 1:
            pads = (vals[0],) * 4
        elif len(vals) == 2:
            pads = (vals[0], vals[1], vals[0], vals[1])
        else:
            pads = (vals[0], vals[1], vals[2], vals[3])
    else:
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element sequence, "
                         f"not {padding!r}")
    if min(pads) < 0:
        raise ValueError(f"Padding must be non-negative, got {padding!r}")
    return pads  # type: ignore[return-value]


class Pad:
    """Pad the last two dimensions (H, W) of an image.

    ``padding``: an int for all four borders, (left/right, top/bottom), or
    (left, top, right, bottom).  ``padding_mode``: 'constant' (with ``fill``), 'edge',
    'reflect' (without repeating the border pixel) or 'symmetric' (repeating it).
    """

    _MODES = ("constant", "edge", "reflect", "symmetric")

    def __init__(self, padding: int | Sequence[int], fill: float = 0,
                 padding_mode: str = "constant") -> None:
        if padding_mode not in self._MODES:
            raise ValueError(f"Padding mode should be either {', '.join(self._MODES)}; "
                             f"got {padding_mode!r}")
        if not isinstance(fill, numbers.Number):
            raise TypeError(f"Got inappropriate fill arg {fill!r}: a number is expected")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode
        self._pads = _parse_padding(padding)

    def __call__(self, img: Any) -> Any:
        arr, as_tensor = _unwrap(img, "Pad")
        _check_image(arr, "Pad")
        left, top, right, bottom = self._pads
        widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
        if self.padding_mode == "constant":
            out = np.pad(arr, widths, mode="constant", constant_values=np.asarray(self.fill)
                         .astype(arr.dtype))
        else:
            out = np.pad(arr, widths, mode=self.padding_mode)
        return _rewrap(out, as_tensor)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


class InterpolationMode(StrEnum):
    """The interpolation modes Resize supports (plain strings work too)."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


def _resized_size(h: int, w: int, size: int | Sequence[int],
                  max_size: int | None) -> tuple[int, int]:
    """torchvision's output size rule: an int (or [int]) sets the shorter edge."""
    if isinstance(size, numbers.Integral) or len(size) == 1:  # type: ignore[arg-type]
        requested = int(size if isinstance(size, numbers.Integral) else size[0])  # type: ignore[index]
        short, long = (w, h) if w <= h else (h, w)
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {size}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
        return (new_long, new_short) if w <= h else (new_short, new_long)
    if max_size is not None:
        raise ValueError("max_size should only be passed if size specifies the length of the "
                         "smaller edge, i.e. size should be an int or a sequence of length 1")
    return int(size[0]), int(size[1])  # type: ignore[index]


def _nearest_index(in_size: int, out_size: int) -> np.ndarray:
    # torch's 'nearest' (nearest_idx): floor(dst * in/out) in float32, with exact shortcuts
    # for the same and the double size.
    dst = np.arange(out_size)
    if out_size == in_size:
        return dst
    if out_size == 2 * in_size:
        return dst >> 1
    scale = np.float32(in_size) / np.float32(out_size)
    src = np.floor(dst.astype(np.float32) * scale).astype(np.int64)
    return np.minimum(src, in_size - 1)


def _linear_weights(in_size: int, out_size: int, ctype: type[np.floating]
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # torch's align_corners=False source coordinate, computed in the kernel's precision:
    # src = max(in/out * (dst + 0.5) - 0.5, 0); neighbours i0 = floor(src), i1 = min(i0+1, in-1).
    scale = ctype(in_size) / ctype(out_size)
    src = scale * (np.arange(out_size, dtype=ctype) + ctype(0.5)) - ctype(0.5)
    src = np.maximum(src, ctype(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    i1 = i0 + (i0 < in_size - 1)
    lam1 = np.clip(src - i0.astype(ctype), ctype(0), ctype(1)).astype(ctype)
    lam0 = (ctype(1) - lam1).astype(ctype)
    return i0, i1, lam0, lam1


def _bilinear(arr: np.ndarray, out_h: int, out_w: int) -> np.ndarray:
    ctype = np.float64 if arr.dtype == np.float64 else np.float32
    x = arr.astype(ctype, copy=False)
    j0, j1, w0, w1 = _linear_weights(arr.shape[-1], out_w, ctype)
    i0, i1, h0, h1 = _linear_weights(arr.shape[-2], out_h, ctype)
    # W first, then H: the order torch's kernel nests its sums, so roundings agree.
    rows = x[..., j0] * w0 + x[..., j1] * w1
    out = rows[..., i0, :] * h0[:, None] + rows[..., i1, :] * h1[:, None]
    if arr.dtype.kind == "f":
        return out.astype(arr.dtype, copy=False)
    info = np.iinfo(arr.dtype)
    return np.clip(np.round(out), info.min, info.max).astype(arr.dtype)


class Resize:
    """Resize the last two dimensions (H, W) of an image.

    ``size``: (h, w), or an int / [int] giving the shorter edge (the longer one keeps the
    aspect ratio, capped by ``max_size``).  ``interpolation``: 'nearest' or 'bilinear'
    (strings or InterpolationMode).  Both match ``torch.nn.functional.interpolate`` with
    ``mode='nearest'`` and ``mode='bilinear', align_corners=False`` (no antialiasing, so
    shrinking matches torchvision's ``antialias=False``).  Integer images are computed in
    float32 and rounded back to their dtype.
    """

    def __init__(self, size: int | Sequence[int],
                 interpolation: str | InterpolationMode = InterpolationMode.BILINEAR,
                 max_size: int | None = None) -> None:
        sizes = [size] if isinstance(size, numbers.Integral) else list(size)
        if len(sizes) not in (1, 2) or not all(isinstance(s, numbers.Integral) and s > 0
                                               for s in sizes):
            raise ValueError(f"size should be a positive int or a sequence of one or two "
                             f"positive ints, got {size!r}")
        mode = str(getattr(interpolation, "value", interpolation)).lower()
        if mode not in ("nearest", "bilinear"):
            raise ValueError(f"interpolation must be 'nearest' or 'bilinear', "
                             f"got {interpolation!r}")
        self.size = size
        self.interpolation = InterpolationMode(mode)
        self.max_size = max_size

    def __call__(self, img: Any) -> Any:
        arr, as_tensor = _unwrap(img, "Resize")
        _check_image(arr, "Resize")
        h, w = arr.shape[-2:]
        out_h, out_w = _resized_size(h, w, self.size, self.max_size)
        if self.interpolation is InterpolationMode.NEAREST:
            rows, cols = _nearest_index(h, out_h), _nearest_index(w, out_w)
            out = arr[..., rows[:, None], cols[None, :]]
        else:
            if arr.dtype.kind not in "fiu":
                raise TypeError(f"Resize: bilinear interpolation needs a numeric image, "
                                f"got {arr.dtype}")
            out = _bilinear(arr, out_h, out_w)
        return _rewrap(np.ascontiguousarray(out), as_tensor)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, "
                f"interpolation={self.interpolation.value}, max_size={self.max_size})")


class Lambda:
    """Apply a user function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
