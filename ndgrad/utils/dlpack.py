"""torch.utils.dlpack: exchange CPU tensors with other array libraries through DLPack, without copying."""
from __future__ import annotations

from typing import Any

from .._creation import from_dlpack
from .._tensor import Tensor

__all__ = ["from_dlpack", "to_dlpack"]


def to_dlpack(tensor: Tensor) -> Any:
    """A DLPack capsule over the tensor's memory (consumed once by `from_dlpack` of any library)."""
    return tensor.__dlpack__(max_version=(1, 0))  # a versioned capsule: importers see it is writable
