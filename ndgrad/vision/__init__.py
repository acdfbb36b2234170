"""ndgrad.vision: torchvision's API on ndgrad (``import torchvision`` resolves here under
``ndgrad run``).  Submodules load on first use: datasets, io, transforms, models, ops, utils."""
from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.28.0"

_SUBMODULES = ("datasets", "io", "models", "ops", "transforms", "utils")
__all__ = list(_SUBMODULES)


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_SUBMODULES))
