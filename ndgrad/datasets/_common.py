"""Glue shared by the datasets and transforms: the Dataset base class and array <-> tensor."""
from __future__ import annotations

from typing import Any

import numpy as np

try:
    from ndgrad.utils.data import Dataset
except ImportError:  # the core's utils.data is not there yet: a stand-in with the same protocol
    class Dataset:  # type: ignore[no-redef]
        """An indexable collection of samples: subclasses define __getitem__ and __len__."""

        def __getitem__(self, index: int) -> Any:
            raise NotImplementedError

        def __len__(self) -> int:
            raise NotImplementedError

__all__ = ["Dataset", "from_array", "is_tensor", "to_array"]


def is_tensor(obj: Any) -> bool:
    import ndgrad
    tensor_type = getattr(ndgrad, "Tensor", None)
    return tensor_type is not None and isinstance(obj, tensor_type)


def to_array(obj: Any) -> np.ndarray:
    """The NumPy array of an ndgrad tensor (no copy, grad ignored) or of array-like ``obj``."""
    if is_tensor(obj):
        return obj.detach().numpy()
    return np.asarray(obj)


def from_array(arr: np.ndarray) -> Any:
    """An ndgrad tensor sharing memory with ``arr`` (dtype kept)."""
    import ndgrad
    return ndgrad.from_numpy(np.ascontiguousarray(arr))
