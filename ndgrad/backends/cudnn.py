"""torch.backends.cudnn: cuDNN's switches. Not available here (no GPU); the flags are recorded."""
from __future__ import annotations

import contextlib
import sys
from typing import Any, Iterator

from . import _flags

enabled = True
benchmark = False
benchmark_limit: int | None = None  # PyTorch's CPU build reports None
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: there is no cuDNN here."""
    return False


def version() -> int | None:
    """None: there is no cuDNN here."""
    return None


def is_acceptable(tensor: Any) -> bool:
    """False: no tensor here can use cuDNN."""
    return False


def set_flags(_enabled: bool | None = None, _benchmark: bool | None = None, _benchmark_limit: int | None = None,
              _deterministic: bool | None = None, _allow_tf32: bool | None = None) -> tuple:
    return _flags.set_flags(sys.modules[__name__], enabled=_enabled, benchmark=_benchmark,
                            benchmark_limit=_benchmark_limit, deterministic=_deterministic, allow_tf32=_allow_tf32)


@contextlib.contextmanager
def flags(enabled: bool = False, benchmark: bool = False, benchmark_limit: int | None = 10,
          deterministic: bool = False, allow_tf32: bool = True) -> Iterator[None]:
    """Set the cuDNN flags for a `with` block."""
    with _flags.flags(sys.modules[__name__], enabled=enabled, benchmark=benchmark, benchmark_limit=benchmark_limit,
                      deterministic=deterministic, allow_tf32=allow_tf32):
        yield
