"""ndgrad.accelerator: torch.accelerator's device queries, answered for a CPU-only build.

PyTorch's tutorials pick a device with
``torch.accelerator.current_accelerator().type if torch.accelerator.is_available() else "cpu"``;
here, as in PyTorch's CPU build, no accelerator exists.
"""
from __future__ import annotations

from ._backend import device

__all__ = ["current_accelerator", "device_count", "is_available"]


def is_available() -> bool:
    """False: ndgrad computes on the CPU."""
    return False


def device_count() -> int:
    """The number of accelerators: 0."""
    return 0


def current_accelerator(check_available: bool = False) -> device | None:
    """None: there is no accelerator."""
    return None
