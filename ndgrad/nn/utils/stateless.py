"""functional_call: run a module with some of its parameters and buffers replaced for one call."""
from __future__ import annotations

import warnings
from typing import Any

from ..modules.module import Module

__all__ = ["functional_call"]


def _tied_names(module: Module) -> dict:
    """name -> every name of the same parameter/buffer object (weights shared between submodules)."""
    by_id: dict = {}
    for name, t in list(module.named_parameters(remove_duplicate=False)) + \
            list(module.named_buffers(remove_duplicate=False)):
        by_id.setdefault(id(t), []).append(name)
    return {n: names for names in by_id.values() for n in names}


def functional_call(module: Module, parameters_and_buffers: Any, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """Deprecated spelling of torch.func.functional_call (see _functional_call)."""
    warnings.warn("`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be removed "
                  "in a future version of PyTorch. Please use `torch.func.functional_call` instead which is a "
                  "drop-in replacement.", FutureWarning, stacklevel=2)
    return _functional_call(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)


def _functional_call(module: Module, parameters_and_buffers: Any, args: Any = None, kwargs: dict | None = None, *,
                     tie_weights: bool = True, strict: bool = False) -> Any:
    """module(*args, **kwargs) with the named tensors of `parameters_and_buffers` (a dict, or a tuple
    of dicts) in place of the module's own; everything is restored afterwards."""
    if isinstance(parameters_and_buffers, (list, tuple)):
        merged: dict = {}
        counts: dict = {}
        for d in parameters_and_buffers:
            for k in d:
                counts[k] = counts.get(k, 0) + 1
            merged.update(d)
        repeated = [k for k, n in counts.items() if n > 1]  # in the order they first appear
        if repeated:
            raise ValueError(f"{repeated} appeared in multiple dictionaries; behavior of functional call is ambiguous")
        parameters_and_buffers = merged
    new = dict(parameters_and_buffers)
    if tie_weights:
        tied = _tied_names(module)
        for name in list(new):
            for other in tied.get(name, ()):
                new.setdefault(other, new[name])
    if strict:
        own = set(dict(module.named_parameters(remove_duplicate=False))) | \
            set(dict(module.named_buffers(remove_duplicate=False)))
        missing = sorted(own - set(new))
        unexpected = sorted(set(new) - own)
        if missing or unexpected:
            msg = ""
            if unexpected:
                msg += "\n\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + "."
            if missing:
                msg += "\n\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + "."
            raise RuntimeError(f"Error(s) in reparametrizing for {module._get_name()}:{msg}")
    saved = []
    try:
        for name, value in new.items():
            path, _, attr = name.rpartition(".")
            owner = module.get_submodule(path) if path else module
            d = owner.__dict__
            for reg in (d["_parameters"], d["_buffers"]):
                if attr in reg:
                    saved.append((reg, attr, reg[attr]))
                    reg[attr] = value
                    break
            else:
                saved.append((d, attr, d.get(attr, _MISSING)))
                d[attr] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for reg, attr, old in reversed(saved):
            if old is _MISSING:
                del reg[attr]
            else:
                reg[attr] = old


_MISSING = object()
