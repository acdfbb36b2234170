"""ndgrad.utils: data loading (data), file formats (safetensors), activation checkpointing (checkpoint),
DLPack exchange (dlpack), TensorBoard logging (tensorboard)."""
from __future__ import annotations

import importlib
from typing import Any

__all__ = ["checkpoint", "data", "dlpack", "safetensors", "tensorboard"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'ndgrad.utils' has no attribute '{name}'")
