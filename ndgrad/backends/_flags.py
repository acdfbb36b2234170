"""The shared shape of the flag modules (cudnn, mkldnn, nnpack): a `flags(...)` context manager and
`set_flags(...)` over module-level attributes."""
from __future__ import annotations

import contextlib
from types import ModuleType
from typing import Any, Iterator


def set_flags(module: ModuleType, **values: Any) -> tuple:
    """Set the given (non-None) flags on `module`; return the previous values of every named flag."""
    old = tuple(getattr(module, name) for name in values)
    for name, value in values.items():
        if value is not None:
            setattr(module, name, value)
    return old


@contextlib.contextmanager
def flags(module: ModuleType, **values: Any) -> Iterator[None]:
    """Set flags for the body of a `with` block, then restore them."""
    old = set_flags(module, **values)
    try:
        yield
    finally:
        for name, value in zip(values, old):
            setattr(module, name, value)
