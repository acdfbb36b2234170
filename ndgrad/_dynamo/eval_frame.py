"""OptimizedModule: what torch.compile(module) returns, here running the module eagerly.

As in PyTorch it wraps the module as the child `_orig_mod` (so state_dict keys read `_orig_mod.weight`,
which checkpoint code written for compiled models expects), forwards attribute reads and writes to
it, and calls it for forward.
"""
from __future__ import annotations

from typing import Any

from ..nn.modules.module import Module

__all__ = ["OptimizedModule"]


class OptimizedModule(Module):
    """A compiled module: `_orig_mod` run eagerly."""

    def __init__(self, mod: Module, dynamo_ctx: Any = None) -> None:
        super().__init__()
        self._orig_mod = mod
        self.__dict__["dynamo_ctx"] = dynamo_ctx

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        return self._orig_mod(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        if name == "_orig_mod":
            return self._modules["_orig_mod"]
        return getattr(self._modules["_orig_mod"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        modules = self.__dict__.get("_modules")
        if modules is None or "_orig_mod" not in modules or name.startswith("_") or name == "dynamo_ctx":
            super().__setattr__(name, value)
        elif name == "training":  # Module.train() on the wrapper: both see it
            self.__dict__["training"] = value
            modules["_orig_mod"].training = value
        else:
            setattr(modules["_orig_mod"], name, value)

    def __delattr__(self, name: str) -> None:
        if name.startswith("_"):
            super().__delattr__(name)
        else:
            delattr(self._modules["_orig_mod"], name)
