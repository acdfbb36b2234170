"""torch.backends.mps: Apple's Metal backend. Not available here."""
from __future__ import annotations


def is_available() -> bool:
    """False: ndgrad computes on the CPU."""
    return False


def is_built() -> bool:
    """False: ndgrad has no MPS backend."""
    return False


def is_macos_or_newer(major: int, minor: int) -> bool:
    return False


def is_macos13_or_newer(minor: int = 0) -> bool:
    return False
