"""torch.backends.nnpack: NNPACK's switch. ndgrad does not use NNPACK."""
from __future__ import annotations

import contextlib
import sys
from typing import Iterator

from . import _flags

enabled = False


def is_available() -> bool:
    """False: ndgrad computes with NumPy, not NNPACK."""
    return False


def set_flags(_enabled: bool | None = None) -> tuple:
    return _flags.set_flags(sys.modules[__name__], enabled=_enabled)


@contextlib.contextmanager
def flags(enabled: bool = False) -> Iterator[None]:
    with _flags.flags(sys.modules[__name__], enabled=enabled):
        yield
