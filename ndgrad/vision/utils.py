"""torchvision.utils for ndgrad: tile images into a grid, and save a grid as an image file."""
from __future__ import annotations

import math
import os
from typing import IO, Any

import numpy as np

__all__ = ["make_grid", "save_image"]


def _as_batch(tensor: Any) -> np.ndarray:
    from ndgrad import Tensor
    if isinstance(tensor, Tensor):
        arr = tensor.detach().numpy()
    elif isinstance(tensor, (list, tuple)) and all(isinstance(t, Tensor) for t in tensor):
        if not tensor:
            raise RuntimeError("stack expects a non-empty TensorList")
        arr = np.stack([t.detach().numpy() for t in tensor])
    else:
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    if arr.ndim == 2:
        arr = arr[None]
    if arr.ndim == 3:
        arr = (np.concatenate([arr] * 3) if arr.shape[0] == 1 else arr)[None]
    if arr.ndim == 4 and arr.shape[1] == 1:
        arr = np.concatenate([arr] * 3, axis=1)
    return arr


def _normalize(img: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
    img = np.clip(img, img.dtype.type(low), img.dtype.type(high))
    return ((img - img.dtype.type(low)) / img.dtype.type(max(high - low, 1e-5))).astype(img.dtype)


def make_grid(tensor: Any, nrow: int = 8, padding: int = 2, normalize: bool = False,
              value_range: tuple[float, float] | None = None, scale_each: bool = False,
              pad_value: float = 0.0) -> Any:
    """Tile a batch (B, C, H, W) (or a list of (C, H, W) tensors) into one (3 or C, H', W')
    image: ``nrow`` images per row, ``padding`` pixels of ``pad_value`` around each.  One-channel
    images become three-channel.  ``normalize`` maps ``value_range`` (default: the min and max,
    per image with ``scale_each``) to [0, 1]."""
    import ndgrad
    arr = _as_batch(tensor)
    if normalize:
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max "
                            "are numbers")
        if scale_each:
            arr = np.stack([_normalize(img, value_range) for img in arr])
        else:
            arr = _normalize(arr, value_range)
    if arr.shape[0] == 1:
        return ndgrad.from_numpy(np.ascontiguousarray(arr[0]))
    n, channels, h, w = arr.shape
    xmaps = min(nrow, n)
    ymaps = int(math.ceil(float(n) / xmaps))
    height, width = h + padding, w + padding
    grid = np.full((channels, height * ymaps + padding, width * xmaps + padding), pad_value,
                   dtype=arr.dtype)
    for k in range(n):
        y, x = divmod(k, xmaps)
        top, left = y * height + padding, x * width + padding
        grid[:, top:top + h, left:left + w] = arr[k]
    return ndgrad.from_numpy(grid)


def save_image(tensor: Any, fp: str | os.PathLike[str] | IO[bytes], format: str | None = None,
               **kwargs: Any) -> None:
    """Save a tensor image, or a batch tiled by :func:`make_grid` (``kwargs`` go there), with
    Pillow; float values in [0, 1] are scaled to 0..255 and rounded."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("save_image writes files with Pillow, part of ndgrad's optional "
                          "'vision' extra: pip install ndgrad[vision]") from exc
    grid = make_grid(tensor, **kwargs).numpy()
    scaled = np.clip(grid * grid.dtype.type(255) + grid.dtype.type(0.5), 0, 255)
    pixels = scaled.astype(np.uint8).transpose(1, 2, 0)
    Image.fromarray(np.ascontiguousarray(pixels)).save(fp, format=format)
