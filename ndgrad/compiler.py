"""ndgrad.compiler (torch.compiler) and torch.compile: compilation as an eager pass-through.

ndgrad has no graph compiler. `compile(model)` returns something that computes exactly what `model`
computes: for a Module, an OptimizedModule wrapping it (as PyTorch's, with `_orig_mod.` state_dict
keys); for a function, a wrapper calling it. It also works as a decorator, bare or with options.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

__all__ = ["allow_in_graph", "assume_constant_result", "compile", "cudagraph_mark_step_begin", "disable",
           "is_compiling", "is_dynamo_compiling", "is_exporting", "list_backends", "reset", "set_stance"]

_MODES = ("default", "lite", "reduce-overhead", "max-autotune-no-cudagraphs", "max-autotune")


def compile(model: Callable | None = None, *, fullgraph: bool = False, dynamic: bool | None = None,  # noqa: A001
            backend: Any = "inductor", mode: str | None = None, options: dict | None = None, name: str | None = None,
            disable: bool = False, **kwargs: Any) -> Any:
    """torch.compile: returns a module or function that computes the same thing as `model`, eagerly."""
    if mode is not None and options is not None:
        raise RuntimeError("Either mode or options can be specified, but both can't be specified at the same time.")
    if mode is not None and mode not in _MODES:
        raise RuntimeError(f"Unrecognized mode={mode}, should be one of: {', '.join(_MODES)}")
    if model is None:
        return lambda m: compile(m, fullgraph=fullgraph, dynamic=dynamic, backend=backend, mode=mode,
                                 options=options, name=name, disable=disable, **kwargs)
    if not callable(model):
        raise RuntimeError("torch.compile() expects a callable (a function or an nn.Module)")
    if disable:
        return model
    from .nn.modules.module import Module
    if isinstance(model, Module):
        from ._dynamo.eval_frame import OptimizedModule
        return OptimizedModule(model)

    @functools.wraps(model)
    def compiled(*args: Any, **kw: Any) -> Any:
        return model(*args, **kw)
    compiled._torchdynamo_orig_callable = model  # type: ignore[attr-defined]
    return compiled


def is_compiling() -> bool:
    """False: ndgrad code never runs under a compiler."""
    return False


is_dynamo_compiling = is_compiling


def is_exporting() -> bool:
    return False


def reset() -> None:
    """Forget compiled code: there is none here."""


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Exclude `fn` from compilation (here: return it unchanged); usable bare or as `@disable()`."""
    return fn if fn is not None else (lambda f: f)


def allow_in_graph(fn: Callable) -> Callable:
    return fn


def assume_constant_result(fn: Callable) -> Callable:
    return fn


def cudagraph_mark_step_begin() -> None:
    return None


def list_backends(exclude_tags: Any = ("debug", "experimental")) -> list[str]:
    """The compile backends available: only eager execution here."""
    return ["eager"]


def set_stance(stance: str = "default", *, skip_guard_eval_unsafe: bool = False, force_backend: Any = None) -> Any:
    import contextlib
    return contextlib.nullcontext()
