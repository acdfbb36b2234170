"""ndgrad.cuda: the device queries of torch.cuda, answered for a build without CUDA.

Programs written for PyTorch probe for a GPU before choosing a device (d2l's try_gpu:
``torch.cuda.device_count()``); here, as in PyTorch's CPU build, there is none. Calls that
need a GPU raise the AssertionError PyTorch's CPU build raises.
"""
from __future__ import annotations

from typing import Any

__all__ = ["current_device", "device_count", "empty_cache", "get_device_name", "is_available", "is_initialized",
           "manual_seed", "manual_seed_all", "seed", "seed_all", "synchronize"]

_NO_CUDA = "Torch not compiled with CUDA enabled"


def is_available() -> bool:
    """False: ndgrad computes on the CPU."""
    return False


def device_count() -> int:
    """The number of GPUs: 0."""
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored (no GPU generator), as PyTorch does without CUDA."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored (no GPU generator), as PyTorch does without CUDA."""


def seed() -> None:
    """Accepted and ignored (no GPU generator)."""


def seed_all() -> None:
    """Accepted and ignored (no GPU generator)."""


def empty_cache() -> None:
    """Nothing to free."""


def current_device() -> int:
    raise AssertionError(_NO_CUDA)


def synchronize(device: Any = None) -> None:
    raise AssertionError(_NO_CUDA)


def get_device_name(device: Any = None) -> str:
    raise AssertionError(_NO_CUDA)
