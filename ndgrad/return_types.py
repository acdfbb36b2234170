"""ndgrad.return_types (torch.return_types): the named (values, indices)-style pairs that max, min, sort,
topk, mode, median, kthvalue, ... return. Each class is made on first use by ndgrad.ops.reduction."""
from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    from .ops.reduction import _RETURN_TYPES
    if name in _RETURN_TYPES:
        return _RETURN_TYPES[name]
    from . import _alias
    raise _alias.missing(__name__, name)
