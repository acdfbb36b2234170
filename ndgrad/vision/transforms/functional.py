"""torchvision.transforms.functional: the image operations behind the transform classes.

Every function takes a PIL image or an ndgrad tensor (..., C, H, W) and returns the same kind,
as torchvision does: PIL images go through Pillow's own operations (the ones torchvision calls,
so results are Pillow's), tensors through NumPy kernels that reproduce torch's arithmetic.
As an ndgrad extension a NumPy array is accepted wherever a tensor is, read channel-first
(..., C, H, W) like a tensor (only ``to_tensor`` reads arrays channel-last, as torchvision does)
and returned as an array.  Transforms are preprocessing: no autograd history is recorded.
"""
from __future__ import annotations

import numbers
from collections.abc import Sequence
from enum import Enum
from typing import Any

import numpy as np

from . import _kernels as K
from ..._tensor import size_str

__all__ = [
    "InterpolationMode", "adjust_brightness", "adjust_contrast", "adjust_gamma", "adjust_hue",
    "adjust_saturation", "affine", "center_crop", "convert_image_dtype", "crop", "erase",
    "gaussian_blur", "get_dimensions", "get_image_num_channels", "get_image_size", "hflip", "invert",
    "normalize",
    "pad", "pil_to_tensor", "resize", "resized_crop", "rgb_to_grayscale", "rotate",
    "to_grayscale", "to_pil_image", "to_tensor", "vflip",
]


class InterpolationMode(Enum):
    """Interpolation methods (torchvision's names and values)."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's integer filter constants, for the modes both libraries know
_PIL_FILTER = {InterpolationMode.NEAREST: 0, InterpolationMode.NEAREST_EXACT: 0,
               InterpolationMode.LANCZOS: 1, InterpolationMode.BILINEAR: 2,
               InterpolationMode.BICUBIC: 3, InterpolationMode.BOX: 4,
               InterpolationMode.HAMMING: 5}
_FROM_PIL_INT = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR,
                 3: InterpolationMode.BICUBIC, 4: InterpolationMode.BOX,
                 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation(value: Any) -> InterpolationMode:
    if isinstance(value, InterpolationMode):
        return value
    if isinstance(value, str):  # v2 accepts the mode's name
        try:
            return InterpolationMode(value)
        except ValueError:
            raise ValueError(f"Invalid interpolation mode: '{value}'. Supported string values "
                             f"are: {[m.value for m in InterpolationMode]}.") from None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding "
                        "Pillow integer constant")
    if value not in _FROM_PIL_INT:
        raise ValueError(f"Unknown Pillow interpolation constant {value}")
    return _FROM_PIL_INT[value]


# -- what kind of image --------------------------------------------------------------------

def _pil_image_module() -> Any:
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ndgrad.vision needs Pillow for PIL images, part of ndgrad's optional "
                          "'vision' extra: pip install ndgrad[vision]") from exc
    return Image


def _is_pil(img: Any) -> bool:
    # no import of Pillow needed to answer: a PIL image's class lives in a PIL module
    return any(c.__module__.startswith("PIL.") and c.__name__ == "Image"
               for c in type(img).__mro__)


def _is_tensor(img: Any) -> bool:
    from ndgrad import Tensor
    return isinstance(img, Tensor)


def _array_of(img: Any, who: str) -> tuple[np.ndarray, bool]:
    """(channel-first array, was it a tensor) of a tensor or array image."""
    if _is_tensor(img):
        arr = img.detach().numpy()
        as_tensor = True
    elif isinstance(img, np.ndarray):
        arr, as_tensor = img, False
    else:
        raise TypeError(f"{who}: img should be PIL Image or Tensor. Got {type(img)}")
    if arr.ndim < 2:
        raise TypeError(f"Tensor is not a torch image: expected (..., H, W), got shape "
                        f"{tuple(arr.shape)}")
    return arr, as_tensor


def _wrap(arr: np.ndarray, as_tensor: bool) -> Any:
    if not as_tensor:
        return arr
    import ndgrad
    return ndgrad.from_numpy(np.ascontiguousarray(arr))


def _check_kind(img: Any, who: str) -> None:
    if not (_is_pil(img) or _is_tensor(img) or isinstance(img, np.ndarray)):
        raise TypeError(f"{who}: img should be PIL Image or Tensor. Got {type(img)}")


def get_dimensions(img: Any) -> list[int]:
    """[channels, height, width] of an image."""
    if _is_pil(img):
        return [len(img.getbands()), img.height, img.width]
    arr, _ = _array_of(img, "get_dimensions")
    channels = 1 if arr.ndim == 2 else arr.shape[-3]
    return [channels, arr.shape[-2], arr.shape[-1]]


def get_image_size(img: Any) -> list[int]:
    """[width, height] of an image."""
    _, h, w = get_dimensions(img)
    return [w, h]


def get_image_num_channels(img: Any) -> int:
    return get_dimensions(img)[0]


# -- conversions ---------------------------------------------------------------------------

_PIL_MODE_DTYPE = {"I": np.int32, "I;16": np.uint16, "I;16B": np.uint16, "F": np.float32}


def _pil_array(pic: Any) -> np.ndarray:
    """A PIL image as an (H, W, C) array of its natural dtype ('1' becomes 0/255 uint8)."""
    arr = np.array(pic, dtype=_PIL_MODE_DTYPE.get(pic.mode), copy=True)
    if pic.mode == "1":
        arr = arr.astype(np.uint8) * np.uint8(255)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return arr


def to_tensor(pic: Any) -> Any:
    """A PIL image or (H, W[, C]) array as a (C, H, W) tensor; uint8 becomes float32 in [0, 1],
    other dtypes are kept.  (ndgrad extension: a tensor (H, W) or (C, H, W) is accepted too and
    becomes float32, uint8 scaled to [0, 1].)"""
    import ndgrad
    if _is_tensor(pic):
        arr = pic.detach().numpy()
        if arr.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        arr = arr[None] if arr.ndim == 2 else arr
        if arr.dtype == np.uint8:
            return ndgrad.from_numpy(np.divide(arr, np.float32(255), dtype=np.float32))
        return ndgrad.from_numpy(arr.astype(np.float32))
    if _is_pil(pic):
        arr = _pil_array(pic)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = np.ascontiguousarray(arr.transpose(2, 0, 1))
    if chw.dtype == np.uint8:
        return ndgrad.from_numpy(np.divide(chw, np.float32(255), dtype=np.float32))
    return ndgrad.from_numpy(chw.copy() if chw.base is pic else chw)


def pil_to_tensor(pic: Any) -> Any:
    """A PIL image as a (C, H, W) tensor of its own dtype, values unchanged."""
    if not _is_pil(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    import ndgrad
    return ndgrad.from_numpy(np.ascontiguousarray(_pil_array(pic).transpose(2, 0, 1)))


def _np_dtype(dtype: Any) -> np.dtype:
    return dtype.np if hasattr(dtype, "np") else np.dtype(dtype)


def convert_image_dtype(image: Any, dtype: Any = None) -> Any:
    """Convert a tensor image to ``dtype`` (default float32), rescaling: floats span [0, 1],
    integers [0, max]."""
    import ndgrad
    if not (_is_tensor(image) or isinstance(image, np.ndarray)):
        raise TypeError("Input img should be Tensor Image")
    arr, as_tensor = _array_of(image, "convert_image_dtype")
    out = K.convert_dtype(arr, _np_dtype(dtype if dtype is not None else ndgrad.float32))
    return _wrap(out, as_tensor)


def to_pil_image(pic: Any, mode: str | None = None) -> Any:
    """A tensor (C, H, W) / (H, W) or array (H, W, C) / (H, W) as a PIL image; float values in
    [0, 1] are scaled to uint8 (truncating), as torchvision does."""
    Image = _pil_image_module()
    if _is_tensor(pic):
        arr = pic.detach().numpy()
        if arr.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {arr.ndim} dimensions.")
        arr = arr[None] if arr.ndim == 2 else arr
        if arr.shape[0] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[0]} channels.")
        if arr.dtype.kind == "f" and mode != "F":
            arr = (arr * arr.dtype.type(255)).astype(np.uint8)
        arr = arr.transpose(1, 2, 0)
    elif isinstance(pic, np.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        arr = pic[:, :, None] if pic.ndim == 2 else pic
        if arr.shape[-1] > 4:
            raise ValueError(f"pic should not have > 4 channels. Got {arr.shape[-1]} channels.")
    else:
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    channels = arr.shape[-1]
    if channels == 1:
        arr = arr[:, :, 0]
        natural = {np.dtype(np.uint8): "L", np.dtype(np.int16): "I;16", np.dtype(np.uint16): "I;16",
                   np.dtype(np.int32): "I", np.dtype(np.float32): "F"}.get(arr.dtype)
        if natural is None:
            raise TypeError(f"Input type {arr.dtype} is not supported")
        if mode is not None and mode != natural:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {arr.dtype}. "
                             f"Should be {natural}")
        return Image.fromarray(np.ascontiguousarray(
            arr.astype(np.uint16) if natural == "I;16" else arr))
    allowed = {2: ("LA",), 3: ("RGB", "YCbCr", "HSV"), 4: ("RGBA", "CMYK", "RGBX")}[channels]
    if mode is None:
        mode = allowed[0]
    elif mode not in allowed:
        raise ValueError(f"Only modes {list(allowed)} are supported for {channels}D inputs")
    if arr.dtype != np.uint8:
        raise TypeError(f"Input type {arr.dtype} is not supported")
    image = Image.fromarray(np.ascontiguousarray(arr))
    return image if mode == allowed[0] else Image.frombytes(mode, image.size, image.tobytes())


def normalize(tensor: Any, mean: Sequence[float], std: Sequence[float],
              inplace: bool = False) -> Any:
    """``(x - mean[c]) / std[c]`` per channel of a float tensor image (..., C, H, W)."""
    if not (_is_tensor(tensor) or isinstance(tensor, np.ndarray)):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    arr, as_tensor = _array_of(tensor, "normalize")
    if arr.dtype.kind != "f":
        raise TypeError(f"Input tensor should be a float tensor. Got {_dtype_name(arr.dtype)}.")
    if arr.ndim < 3:
        raise ValueError(f"Expected tensor to be a tensor image of size (..., C, H, W). Got "
                         f"tensor.size() = {size_str(arr.shape)}")
    mean_a = np.asarray(mean, dtype=arr.dtype).reshape(-1)
    std_a = np.asarray(std, dtype=arr.dtype).reshape(-1)
    if (std_a == 0).any():
        raise ValueError(f"std evaluated to zero after conversion to {_dtype_name(arr.dtype)}, "
                         f"leading to division by zero.")
    channels = arr.shape[-3]
    for vec in (mean_a, std_a):
        if vec.size not in (1, channels):
            raise RuntimeError(f"The size of tensor a ({channels}) must match the size of tensor "
                               f"b ({vec.size}) at non-singleton dimension 0")
    mean_a, std_a = mean_a[:, None, None], std_a[:, None, None]
    if inplace:
        if as_tensor:
            import ndgrad
            return tensor.sub_(ndgrad.from_numpy(mean_a)).div_(ndgrad.from_numpy(std_a))
        np.subtract(arr, mean_a, out=arr)
        np.divide(arr, std_a, out=arr)
        return tensor
    return _wrap((arr - mean_a) / std_a, as_tensor)


def _dtype_name(dtype: np.dtype) -> str:
    return f"torch.{np.dtype(dtype).name}"


# -- geometry ------------------------------------------------------------------------------

def resized_output_size(h: int, w: int, size: Sequence[int] | None,
                        max_size: int | None, allow_none: bool = False) -> list[int]:
    """torchvision's rule for the output [h, w]: one number sets the shorter edge (the longer
    keeps the aspect ratio, truncated, then capped by ``max_size``); two set (h, w)."""
    short, long = (w, h) if w <= h else (h, w)
    if size is None:
        if not allow_none:
            raise ValueError("size must be given")
        if not isinstance(max_size, int):
            raise ValueError(f"max_size must be an integer when size is None, but got "
                             f"{max_size} instead.")
        new_short, new_long = int(max_size * short / long), max_size
    elif len(size) == 1:
        requested = int(size[0])
        new_short, new_long = requested, int(requested * long / short)
        if max_size is not None:
            if max_size <= requested:
                raise ValueError(f"max_size = {max_size} must be strictly greater than the "
                                 f"requested size for the smaller edge size = {list(size)}")
            if new_long > max_size:
                new_short, new_long = int(max_size * new_short / new_long), max_size
    else:
        return [int(size[0]), int(size[1])]
    return [new_long, new_short] if w <= h else [new_short, new_long]


def resize(img: Any, size: int | Sequence[int], interpolation: Any = InterpolationMode.BILINEAR,
           max_size: int | None = None, antialias: bool | None = True) -> Any:
    """Resize to ``size`` ((h, w), or one number for the shorter edge).  PIL images use
    Pillow's resampling (always antialiased); tensors match torch's interpolate, antialiased for
    bilinear/bicubic unless ``antialias`` is False; integer tensors are rounded back."""
    interpolation = _interpolation(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a "
                             f"{len(size)} element tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the "
                             "smaller edge, i.e. size should be an int or a sequence of length 1 "
                             "in torchscript mode.")
    _check_kind(img, "resize")
    _, h, w = get_dimensions(img)
    sizes = [size] if isinstance(size, int) else list(size)
    out_h, out_w = resized_output_size(h, w, sizes, max_size)
    if [h, w] == [out_h, out_w]:
        return img
    if out_h <= 0 or out_w <= 0:
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                           f"(H: {h}, W: {w}) output (H: {out_h}, W: {out_w})")
    if _is_pil(img):
        return img.resize((out_w, out_h), _PIL_FILTER[interpolation])
    mode = interpolation.value
    if mode not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")
    arr, as_tensor = _array_of(img, "resize")
    aa = bool(antialias) and mode in ("bilinear", "bicubic")
    return _wrap(K.resample(arr, out_h, out_w, mode, aa), as_tensor)


def _pad_amounts(padding: int | Sequence[int]) -> tuple[int, int, int, int]:
    """torchvision's padding forms -> (left, top, right, bottom)."""
    if isinstance(padding, numbers.Integral):
        p = int(padding)
        return p, p, p, p
    if not isinstance(padding, (tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                         f"{len(padding)} element tuple")
    vals = [int(v) for v in padding]
    if len(vals) == 1:
        return vals[0], vals[0], vals[0], vals[0]
    if len(vals) == 2:
        return vals[0], vals[1], vals[0], vals[1]
    return vals[0], vals[1], vals[2], vals[3]


def _pil_fill(fill: Any, img: Any) -> Any:
    """A fill value in the form Pillow wants for ``img``'s mode (ints unless mode 'F')."""
    channels = len(img.getbands())
    if fill is None:
        fill = 0
    if isinstance(fill, (int, float)) and channels > 1:
        fill = (fill,) * channels
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = tuple(fill) * channels
        elif len(fill) != channels:
            raise ValueError(f"The number of elements in 'fill' does not match the number of "
                             f"channels of the image ({len(fill)} != {channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(v) for v in fill) if isinstance(fill, tuple) else int(fill)
    return fill


_PAD_MODES = ("constant", "edge", "reflect", "symmetric")


def pad(img: Any, padding: int | Sequence[int], fill: Any = 0,
        padding_mode: str = "constant") -> Any:
    """Pad the borders: ``padding`` is one int, (left/right, top/bottom) or (left, top, right,
    bottom); negative amounts crop.  Modes: constant (``fill``), edge, reflect, symmetric."""
    left, top, right, bottom = _pad_amounts(padding)
    if padding_mode not in _PAD_MODES:
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    _check_kind(img, "pad")
    if _is_pil(img):
        Image = _pil_image_module()
        if padding_mode == "constant" and min(left, top, right, bottom) >= 0:
            from PIL import ImageOps
            palette = img.getpalette() if img.mode == "P" else None
            out = ImageOps.expand(img, border=(left, top, right, bottom),
                                  fill=_pil_fill(fill, img))
            if palette is not None:
                out.putpalette(palette)
            return out
        palette = img.getpalette() if img.mode == "P" else None
        arr = np.asarray(img)
        chw = arr.transpose(2, 0, 1) if arr.ndim == 3 else arr
        fill_v = fill if isinstance(fill, (int, float)) else 0
        out = K.pad(chw, left, top, right, bottom, padding_mode, fill_v)
        out_img = Image.fromarray(np.ascontiguousarray(out.transpose(1, 2, 0) if arr.ndim == 3
                                                       else out))
        if palette is not None:
            out_img.putpalette(palette)
        return out_img
    if fill is None:
        fill = 0
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    arr, as_tensor = _array_of(img, "pad")
    return _wrap(K.pad(arr, left, top, right, bottom, padding_mode, fill), as_tensor)


def crop(img: Any, top: int, left: int, height: int, width: int) -> Any:
    """The (height, width) window whose top-left pixel is (top, left); parts outside the image
    are zeros."""
    _check_kind(img, "crop")
    if _is_pil(img):
        return img.crop((left, top, left + width, top + height))
    arr, as_tensor = _array_of(img, "crop")
    h, w = arr.shape[-2:]
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        inner = arr[..., max(top, 0):min(bottom, h), max(left, 0):min(right, w)]
        out = K.pad(inner, max(-left, 0), max(-top, 0), max(right - w, 0),
                    max(bottom - h, 0), "constant", 0)
        return _wrap(out, as_tensor)
    return _wrap(arr[..., top:bottom, left:right].copy(), as_tensor)


def _size_pair(size: int | Sequence[int], error: str = "Please provide only two dimensions "
               "(h, w) for size.") -> tuple[int, int]:
    if isinstance(size, numbers.Integral):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return int(size[0]), int(size[0])
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error)
    return int(size[0]), int(size[1])


def center_crop(img: Any, output_size: int | Sequence[int]) -> Any:
    """The centred (h, w) window; a window larger than the image is zero-padded first."""
    th, tw = _size_pair(output_size)
    _, h, w = get_dimensions(img)
    if th > h or tw > w:
        pads = [(tw - w) // 2 if tw > w else 0, (th - h) // 2 if th > h else 0,
                (tw - w + 1) // 2 if tw > w else 0, (th - h + 1) // 2 if th > h else 0]
        img = pad(img, pads, fill=0)
        _, h, w = get_dimensions(img)
        if (h, w) == (th, tw):
            return img
    top = int(round((h - th) / 2.0))
    left = int(round((w - tw) / 2.0))
    return crop(img, top, left, th, tw)


def resized_crop(img: Any, top: int, left: int, height: int, width: int, size: Sequence[int],
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> Any:
    """crop then resize."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img: Any) -> Any:
    """Mirror left-right."""
    _check_kind(img, "hflip")
    if _is_pil(img):
        return img.transpose(_pil_image_module().Transpose.FLIP_LEFT_RIGHT)
    arr, as_tensor = _array_of(img, "hflip")
    return _wrap(arr[..., ::-1].copy(), as_tensor)


def vflip(img: Any) -> Any:
    """Mirror top-bottom."""
    _check_kind(img, "vflip")
    if _is_pil(img):
        return img.transpose(_pil_image_module().Transpose.FLIP_TOP_BOTTOM)
    arr, as_tensor = _array_of(img, "vflip")
    return _wrap(arr[..., ::-1, :].copy(), as_tensor)


def _tensor_fill(fill: Any, channels: int) -> list[float] | None:
    if fill is None:
        return None
    values = [float(fill)] if isinstance(fill, (int, float)) else [float(v) for v in fill]
    if len(values) not in (1, channels):
        raise ValueError(f"The number of elements in 'fill' cannot broadcast to match the number "
                         f"of channels of the image ({len(values)} != {channels})")
    return values


def rotate(img: Any, angle: float, interpolation: Any = InterpolationMode.NEAREST,
           expand: bool = False, center: Sequence[int] | None = None, fill: Any = None) -> Any:
    """Rotate counter-clockwise by ``angle`` degrees about ``center`` (default: the image
    centre); ``expand`` grows the output to hold the whole rotated image."""
    interpolation = _interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")
    _check_kind(img, "rotate")
    if _is_pil(img):
        return img.rotate(angle, _PIL_FILTER[interpolation], expand,
                          tuple(center) if center is not None else None,
                          fillcolor=_pil_fill(fill, img))
    c, h, w = get_dimensions(img)
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (cc - s * 0.5) for cc, s in zip(center, [w, h])]
    matrix = K.inverse_affine_matrix(center_f, -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    ow, oh = K.expanded_size(matrix, w, h) if expand else (w, h)
    arr, as_tensor = _array_of(img, "rotate")
    return _wrap(K.affine_grid_sample(arr, matrix, ow, oh, interpolation.value,
                                      _tensor_fill(fill, c)), as_tensor)


def affine(img: Any, angle: float, translate: Sequence[int], scale: float,
           shear: float | Sequence[float], interpolation: Any = InterpolationMode.NEAREST,
           fill: Any = None, center: Sequence[int] | None = None) -> Any:
    """Rotate by ``angle``, scale, shear (degrees) about ``center`` and translate, keeping the
    image size."""
    interpolation = _interpolation(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)) or len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    if isinstance(shear, numbers.Number):
        shear = [float(shear), 0.0]
    shear = [float(s) for s in shear]
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    c, h, w = get_dimensions(img)
    if _is_pil(img):
        cx, cy = (w * 0.5, h * 0.5) if center is None else center
        translate_f = [1.0 * t for t in translate]
        matrix = K.inverse_affine_matrix([cx, cy], angle, translate_f, scale, shear)
        return img.transform(img.size, _pil_image_module().Transform.AFFINE, matrix,
                             _PIL_FILTER[interpolation], fillcolor=_pil_fill(fill, img))
    center_f = [0.0, 0.0]
    if center is not None:
        center_f = [1.0 * (cc - s * 0.5) for cc, s in zip(center, [w, h])]
    matrix = K.inverse_affine_matrix(center_f, angle, [1.0 * t for t in translate], scale, shear)
    arr, as_tensor = _array_of(img, "affine")
    return _wrap(K.affine_grid_sample(arr, matrix, w, h, interpolation.value,
                                      _tensor_fill(fill, c)), as_tensor)


# -- colour --------------------------------------------------------------------------------

def _color_array(img: Any, who: str) -> tuple[np.ndarray, bool]:
    arr, as_tensor = _array_of(img, who)
    if arr.ndim < 3 or arr.shape[-3] not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found "
                        f"{arr.shape[-3] if arr.ndim >= 3 else 1}")
    return arr, as_tensor


def _enhance(img: Any, name: str, factor: float) -> Any:
    from PIL import ImageEnhance
    return getattr(ImageEnhance, name)(img).enhance(factor)


def _adjust(img: Any, factor: float, name: str, enhancer: str, blend_with: Any) -> Any:
    """A colour adjustment: Pillow's ``enhancer`` for PIL images, for tensors a blend of the
    image with ``blend_with(array)`` by ``factor`` (None: the image is returned unchanged)."""
    if factor < 0:
        raise ValueError(f"{name}_factor ({factor}) is not non-negative.")
    _check_kind(img, f"adjust_{name}")
    if _is_pil(img):
        return _enhance(img, enhancer, factor)
    arr, as_tensor = _color_array(img, f"adjust_{name}")
    other = blend_with(arr)
    if other is None:
        return _wrap(arr.copy(), as_tensor)
    return _wrap(K.blend(arr, other, factor), as_tensor)


def _mean_gray(arr: np.ndarray) -> np.ndarray:
    ctype = K.work_type(arr.dtype)
    gray = K.rgb_to_grayscale(arr) if arr.shape[-3] == 3 else arr
    return gray.astype(ctype).mean(axis=(-3, -2, -1), keepdims=True, dtype=ctype)


def adjust_brightness(img: Any, brightness_factor: float) -> Any:
    """Scale intensities by ``brightness_factor`` (0: black, 1: unchanged)."""
    return _adjust(img, brightness_factor, "brightness", "Brightness", lambda arr: 0.0)


def adjust_contrast(img: Any, contrast_factor: float) -> Any:
    """Blend with the mean grey level (0: flat grey, 1: unchanged)."""
    return _adjust(img, contrast_factor, "contrast", "Contrast", _mean_gray)


def adjust_saturation(img: Any, saturation_factor: float) -> Any:
    """Blend with the grey image (0: grey, 1: unchanged)."""
    return _adjust(img, saturation_factor, "saturation", "Color",
                   lambda arr: K.rgb_to_grayscale(arr) if arr.shape[-3] == 3 else None)


def adjust_hue(img: Any, hue_factor: float) -> Any:
    """Rotate the hue by ``hue_factor`` turns, in [-0.5, 0.5]."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check_kind(img, "adjust_hue")
    if _is_pil(img):
        Image = _pil_image_module()
        if img.mode in ("L", "1", "I", "F"):
            return img
        h, s, v = img.convert("HSV").split()
        np_h = np.array(h, dtype=np.uint8)
        np_h += np.int32(hue_factor * 255).astype(np.uint8)
        return Image.merge("HSV", (Image.fromarray(np_h, "L"), s, v)).convert(img.mode)
    arr, as_tensor = _color_array(img, "adjust_hue")
    if arr.shape[-3] == 1:
        return _wrap(arr.copy(), as_tensor)
    x = K.convert_dtype(arr, np.dtype(np.float32)) if arr.dtype.kind != "f" else arr
    hsv = K.rgb_to_hsv(x)
    hsv[..., 0, :, :] = np.remainder(hsv[..., 0, :, :] + x.dtype.type(hue_factor),
                                     x.dtype.type(1))
    out = K.hsv_to_rgb(hsv)
    return _wrap(K.convert_dtype(out, arr.dtype), as_tensor)


def adjust_gamma(img: Any, gamma: float, gain: float = 1) -> Any:
    """``gain * img ** gamma`` on intensities in [0, 1]."""
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    _check_kind(img, "adjust_gamma")
    if _is_pil(img):
        mode = img.mode
        table = [int((255 + 1 - 1e-3) * gain * pow(v / 255.0, gamma)) for v in range(256)] * 3
        return img.convert("RGB").point(table).convert(mode)
    arr, as_tensor = _array_of(img, "adjust_gamma")
    x = K.convert_dtype(arr, np.dtype(np.float32)) if arr.dtype.kind != "f" else arr
    out = np.clip(x.dtype.type(gain) * np.power(x, x.dtype.type(gamma)), 0, 1).astype(x.dtype)
    return _wrap(K.convert_dtype(out, arr.dtype), as_tensor)


def rgb_to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Luma of an RGB image (0.2989 R + 0.587 G + 0.114 B), with 1 or 3 output channels."""
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    _check_kind(img, "rgb_to_grayscale")
    if _is_pil(img):
        return to_grayscale(img, num_output_channels)
    arr, as_tensor = _array_of(img, "rgb_to_grayscale")
    channels = 1 if arr.ndim == 2 else arr.shape[-3]
    if channels not in (1, 3):
        raise TypeError(f"Input image tensor permitted channel values are [1, 3], but found "
                        f"{channels}")
    gray = K.rgb_to_grayscale(arr) if channels == 3 else arr.copy()
    if num_output_channels == 3:
        gray = np.broadcast_to(gray, gray.shape[:-3] + (3,) + gray.shape[-2:]).copy()
    return _wrap(gray, as_tensor)


def to_grayscale(img: Any, num_output_channels: int = 1) -> Any:
    """Grey version of a PIL image (Pillow's 'L' conversion) with 1 or 3 channels."""
    if not _is_pil(img):
        if _is_tensor(img) or isinstance(img, np.ndarray):
            return rgb_to_grayscale(img, num_output_channels)
        raise TypeError(f"Input should be PIL Image. Got {type(img)}")
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    gray = img.convert("L")
    if num_output_channels == 1:
        return gray
    return _pil_image_module().merge("RGB", (gray, gray, gray))


def invert(img: Any) -> Any:
    """max - img."""
    _check_kind(img, "invert")
    if _is_pil(img):
        from PIL import ImageOps
        return ImageOps.invert(img)
    arr, as_tensor = _array_of(img, "invert")
    if arr.dtype.kind == "f":
        return _wrap(arr.dtype.type(1) - arr, as_tensor)
    return _wrap(np.bitwise_not(arr) if arr.dtype == np.uint8 else
                 (K.max_value(arr.dtype) - arr).astype(arr.dtype), as_tensor)


def erase(img: Any, i: int, j: int, h: int, w: int, v: Any, inplace: bool = False) -> Any:
    """Overwrite the (h, w) window at (i, j) of a tensor image with ``v``."""
    if not (_is_tensor(img) or isinstance(img, np.ndarray)):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    arr, as_tensor = _array_of(img, "erase")
    value = v.detach().numpy() if _is_tensor(v) else np.asarray(v)
    if inplace:
        if as_tensor:  # the tensor's own setitem keeps its version counter right
            import ndgrad
            img[..., i:i + h, j:j + w] = ndgrad.from_numpy(np.ascontiguousarray(value))
        else:
            arr[..., i:i + h, j:j + w] = value
        return img
    out = arr.copy()
    out[..., i:i + h, j:j + w] = value
    return _wrap(out, as_tensor)



def gaussian_blur(img: Any, kernel_size: int | Sequence[int], sigma: float | Sequence[float] | None = None) -> Any:
    """Blur with a Gaussian kernel (``kernel_size`` odd: int or (width, height); ``sigma`` per axis, by
    default 0.15 * size + 0.35), the image mirrored at its borders; PIL images go through a tensor."""
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    ksize = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    if len(ksize) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(ksize)}")
    if any(k % 2 == 0 or k < 0 for k in ksize):
        raise ValueError(f"kernel_size should have odd and positive integers. Got {ksize}")
    if sigma is None:
        sig = [k * 0.15 + 0.35 for k in ksize]
    elif isinstance(sigma, (list, tuple)):
        if len(sigma) == 1:
            sig = [float(sigma[0])] * 2
        elif len(sigma) != 2:
            raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
        else:
            sig = [float(v) for v in sigma]
    elif isinstance(sigma, numbers.Real):
        sig = [float(sigma)] * 2
    else:
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if any(v <= 0 for v in sig):
        raise ValueError(f"sigma should have positive values. Got {sig}")
    _check_kind(img, "gaussian_blur")
    if _is_pil(img):
        return to_pil_image(gaussian_blur(pil_to_tensor(img), ksize, sig), mode=img.mode)
    arr, as_tensor = _array_of(img, "gaussian_blur")
    ctype = K.work_type(arr.dtype)
    kx, ky = ksize
    h, w = arr.shape[-2:]
    for k, n, dim in ((kx, w, 3), (ky, h, 2)):
        if k // 2 >= n:  # PyTorch's message, about the (N, C, H, W) batch it pads
            shape4 = ([1] * (4 - arr.ndim) + list(arr.shape)) if arr.ndim < 4 else [-1, *arr.shape[-3:]]
            raise RuntimeError(f"Argument #4: Padding size should be less than the corresponding input "
                               f"dimension, but got: padding ({k // 2}, {k // 2}) at dimension {dim} of input "
                               f"{shape4}")

    def taps(k: int, s: float) -> np.ndarray:
        half = (k - 1) * 0.5
        pdf = np.exp(-0.5 * (np.linspace(-half, half, k, dtype=ctype) / ctype(s)) ** 2)
        return pdf / pdf.sum()
    kernel = np.outer(taps(ky, sig[1]), taps(kx, sig[0])).astype(ctype)
    padded = K.pad(arr.astype(ctype, copy=False), kx // 2, ky // 2, kx // 2, ky // 2, "reflect")
    windows = np.lib.stride_tricks.sliding_window_view(padded, (ky, kx), axis=(-2, -1))
    out = np.einsum("...ij,ij->...", windows, kernel).astype(ctype, copy=False)
    return _wrap(K.cast_back(out, arr.dtype, round_ints=True), as_tensor)
