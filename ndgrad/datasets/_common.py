"""Glue shared by the datasets and transforms: the Dataset base class and array <-> tensor."""
from __future__ import annotations

import os
from typing import Any, ClassVar

import numpy as np

from ndgrad.utils.data import Dataset

__all__ = ["Dataset", "ImageDataset", "from_array", "is_tensor", "pil_image", "to_array"]


def is_tensor(obj: Any) -> bool:
    from ndgrad import Tensor
    return isinstance(obj, Tensor)


def to_array(obj: Any) -> np.ndarray:
    """The NumPy array of an ndgrad tensor (no copy, grad ignored) or of array-like ``obj``."""
    if is_tensor(obj):
        return obj.detach().numpy()
    return np.asarray(obj)


def from_array(arr: np.ndarray) -> Any:
    """An ndgrad tensor sharing memory with ``arr`` (dtype kept)."""
    import ndgrad
    return ndgrad.from_numpy(np.ascontiguousarray(arr))


def pil_image(arr: np.ndarray) -> Any:
    """A PIL image of an (H, W) or (H, W, C) uint8 array (needs Pillow: the ``vision`` extra)."""
    try:
        from PIL import Image
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError("ndgrad.vision's datasets return PIL images and need Pillow, part of "
                          "ndgrad's optional 'vision' extra: pip install ndgrad[vision]") from exc
    return Image.fromarray(np.ascontiguousarray(arr))


def _transform_lines(head: str, transform: Any) -> list[str]:
    lines = repr(transform).splitlines()
    return [head + lines[0]] + [" " * len(head) + line for line in lines[1:]]


class ImageDataset(Dataset):
    """Images in ``data`` and labels in ``targets``, with torchvision's transform hooks.

    Subclasses say how one stored image is read in ``_image`` ((H, W) or (H, W, C) arrays, or
    channel-first when ``channels_last`` is False).  A sample is an ndgrad tensor (channel
    first), or a PIL image when the class sets ``as_pil`` (ndgrad.vision's datasets do, as
    torchvision's return PIL images).
    """

    data: Any
    targets: Any
    root: Any = None
    transform: Any = None
    target_transform: Any = None
    as_pil: ClassVar[bool] = False
    channels_last: ClassVar[bool] = True
    # how downloads retry (datasets that download; may be overridden, e.g. for a local mirror)
    download_retries: ClassVar[int] = 3
    download_backoff: ClassVar[float] = 1.0
    download_timeout: ClassVar[float] = 30.0

    def _store(self, root: Any, train: bool, transform: Any, target_transform: Any) -> None:
        """Keep the arguments every file-backed dataset takes (``root`` with ``~`` expanded)."""
        self.root = os.path.expanduser(os.fspath(root))
        self.train = train
        self.transform = transform
        self.target_transform = target_transform

    def _image(self, index: int) -> np.ndarray:
        return np.array(to_array(self.data)[index])

    def _target(self, index: int) -> Any:
        targets = self.targets
        return int(targets[index]) if isinstance(targets, list) else int(to_array(targets)[index])

    def _sample(self, arr: np.ndarray) -> Any:
        if self.as_pil:
            return pil_image(arr)
        if arr.ndim == 3 and self.channels_last:
            arr = arr.transpose(2, 0, 1)
        return from_array(arr)

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = self._sample(self._image(index))
        target: Any = self._target(index)
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(to_array(self.data))

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        return dataset_repr(self)


def dataset_repr(ds: Any) -> str:
    """torchvision's dataset repr: size, root, ``extra_repr()``, then a StandardTransform block
    naming the transforms (whose continuation lines torchvision does not indent)."""
    body = [f"Number of datapoints: {len(ds)}"]
    if ds.root is not None:
        body.append(f"Root location: {ds.root}")
    body += ds.extra_repr().splitlines()
    if ds.transform is not None or ds.target_transform is not None:
        block = ["StandardTransform"]
        if ds.transform is not None:
            block += _transform_lines("Transform: ", ds.transform)
        if ds.target_transform is not None:
            block += _transform_lines("Target transform: ", ds.target_transform)
        body.append("\n".join(block))
    return "\n".join([f"Dataset {type(ds).__name__}"] + ["    " + line for line in body])
