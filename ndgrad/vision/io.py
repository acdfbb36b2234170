"""torchvision.io's image functions for ndgrad, on Pillow (the ``vision`` extra).

Images are uint8 tensors (C, H, W).  Decoding goes through Pillow; colour conversions requested
with ``mode`` are Pillow's (for PNG, libpng's grey conversion inside torchvision weighs the
channels slightly differently).  Video and 16-bit images are not supported.
"""
from __future__ import annotations

import io
import os
from enum import Enum
from typing import Any

import numpy as np

__all__ = ["ImageReadMode", "decode_image", "decode_jpeg", "decode_png", "encode_jpeg",
           "encode_png", "read_file", "read_image", "write_file", "write_jpeg", "write_png"]


class ImageReadMode(Enum):
    """How to convert an image while reading it."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODE = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
             ImageReadMode.RGB_ALPHA: "RGBA"}


def _pil() -> Any:
    try:
        from PIL import Image, ImageOps
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ndgrad.vision.io reads and writes images with Pillow, part of ndgrad's "
                          "optional 'vision' extra: pip install ndgrad[vision]") from exc
    return Image, ImageOps


def _mode(mode: Any) -> ImageReadMode:
    if isinstance(mode, str):
        try:
            return ImageReadMode[mode.upper()]
        except KeyError:
            raise ValueError(f"Unknown image read mode {mode!r}") from None
    return ImageReadMode(mode)


def read_file(path: str | os.PathLike[str]) -> Any:
    """The bytes of a file as a uint8 tensor (N,)."""
    import ndgrad
    with open(os.fspath(path), "rb") as fh:
        return ndgrad.from_numpy(np.frombuffer(fh.read(), dtype=np.uint8).copy())


def write_file(filename: str | os.PathLike[str], data: Any) -> None:
    """Write a uint8 tensor (N,) of bytes to ``filename``."""
    with open(os.fspath(filename), "wb") as fh:
        fh.write(data.numpy().tobytes())


def decode_image(input: Any, mode: Any = ImageReadMode.UNCHANGED,
                 apply_exif_orientation: bool = False) -> Any:
    """Decode image bytes (a uint8 tensor, or a path) into a uint8 tensor (C, H, W)."""
    import ndgrad
    Image, ImageOps = _pil()
    raw = open(os.fspath(input), "rb").read() if isinstance(input, (str, os.PathLike)) \
        else input.numpy().tobytes()
    try:
        img = Image.open(io.BytesIO(raw))
        img.load()
    except Exception as exc:
        raise RuntimeError(f"Could not decode the image ({exc})") from exc
    if apply_exif_orientation:
        img = ImageOps.exif_transpose(img)
    mode = _mode(mode)
    if mode is ImageReadMode.UNCHANGED:
        if img.mode not in ("L", "LA", "RGB", "RGBA"):
            img = img.convert("RGBA" if "A" in img.getbands() or img.mode == "P" and
                              "transparency" in img.info else "RGB")
    else:
        img = img.convert(_PIL_MODE[mode])
    arr = np.asarray(img)
    if arr.dtype != np.uint8:
        raise RuntimeError(f"Only 8-bit images are supported, got a {arr.dtype} image")
    chw = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)
    return ndgrad.from_numpy(np.ascontiguousarray(chw))


decode_png = decode_image
decode_jpeg = decode_image


def read_image(path: str | os.PathLike[str], mode: Any = ImageReadMode.UNCHANGED,
               apply_exif_orientation: bool = False) -> Any:
    """Read a JPEG/PNG/... file into a uint8 tensor (C, H, W)."""
    return decode_image(path, mode, apply_exif_orientation)


def _encode(input: Any, fmt: str, **options: Any) -> bytes:
    Image, _ = _pil()
    arr = input.detach().numpy() if hasattr(input, "detach") else np.asarray(input)
    if arr.dtype != np.uint8 or arr.ndim != 3 or arr.shape[0] not in (1, 3, 4):
        raise RuntimeError(f"Input tensor should be uint8 (C, H, W) with 1, 3 or 4 channels, got "
                           f"{arr.dtype} {tuple(arr.shape)}")
    hwc = arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0)
    buf = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(hwc)).save(buf, format=fmt, **options)
    return buf.getvalue()


def encode_png(input: Any, compression_level: int = 6) -> Any:
    """PNG bytes (uint8 tensor) of a uint8 image (C, H, W)."""
    import ndgrad
    if not 0 <= compression_level <= 9:
        raise ValueError("Compression level should be between 0 and 9")
    data = _encode(input, "PNG", compress_level=compression_level)
    return ndgrad.from_numpy(np.frombuffer(data, np.uint8).copy())


def encode_jpeg(input: Any, quality: int = 75) -> Any:
    """JPEG bytes (uint8 tensor) of a uint8 image (C, H, W)."""
    import ndgrad
    if not 1 <= quality <= 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    data = _encode(input, "JPEG", quality=quality)
    return ndgrad.from_numpy(np.frombuffer(data, np.uint8).copy())


def write_png(input: Any, filename: str | os.PathLike[str], compression_level: int = 6) -> None:
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input: Any, filename: str | os.PathLike[str], quality: int = 75) -> None:
    write_file(filename, encode_jpeg(input, quality))
