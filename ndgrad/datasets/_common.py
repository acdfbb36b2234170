"""Glue shared by the datasets and transforms: the Dataset base class and array <-> tensor."""
from __future__ import annotations

from typing import Any

import numpy as np

from ndgrad.utils.data import Dataset

__all__ = ["Dataset", "ImageDataset", "from_array", "is_tensor", "to_array"]


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


class ImageDataset(Dataset):
    """Images in ``data`` and labels in ``targets``, with torchvision's transform hooks.
    Subclasses say how one stored image becomes a sample in ``_image``."""

    data: Any
    targets: Any
    transform: Any = None
    target_transform: Any = None

    def _image(self, index: int) -> np.ndarray:
        return np.array(to_array(self.data)[index])

    def __getitem__(self, index: int) -> tuple[Any, Any]:
        image: Any = from_array(self._image(index))
        target: Any = int(to_array(self.targets)[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    def __len__(self) -> int:
        return len(to_array(self.data))
