"""torch.backends.mkldnn: oneDNN's switches. ndgrad does not use oneDNN: is_available() is False."""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from . import _flags

enabled = True
deterministic = False


def is_available() -> bool:
    """False: ndgrad computes with NumPy, not oneDNN."""
    return False


def set_flags(_enabled: bool | None = None, _deterministic: bool | None = None) -> tuple:
    return _flags.set_flags(sys.modules[__name__], enabled=_enabled, deterministic=_deterministic)


@contextlib.contextmanager
def flags(enabled: bool = False, deterministic: bool = False) -> Iterator[None]:
    """Set the oneDNN flags for a `with` block."""
    with _flags.flags(sys.modules[__name__], enabled=enabled, deterministic=deterministic):
        yield
