"""ndgrad._dynamo (torch._dynamo): the graph compiler's switches, for programs that set them.

ndgrad runs everything eagerly (see ndgrad.compiler): `config` records the flags programs set
(`torch._dynamo.config.suppress_errors = True`), and the decorators return their function unchanged.
"""
from __future__ import annotations

from typing import Any, Callable

from .eval_frame import OptimizedModule

__all__ = ["OptimizedModule", "allow_in_graph", "config", "disable", "graph_break", "is_compiling", "mark_dynamic",
           "mark_static", "optimize", "reset"]


class _Config:
    """torch._dynamo.config: a namespace of flags; setting any is recorded, reading an unset unknown one fails."""

    def __init__(self) -> None:
        self.__dict__.update(suppress_errors=False, verbose=False, cache_size_limit=8, recompile_limit=8,
                             accumulated_cache_size_limit=256, accumulated_recompile_limit=256, optimize_ddp=True,
                             capture_scalar_outputs=False, capture_dynamic_output_shape_ops=False,
                             automatic_dynamic_shapes=True, assume_static_by_default=True, specialize_int=False,
                             inline_inbuilt_nn_modules=True)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(f"torch._dynamo.config.{name} does not exist")


config = _Config()


def reset() -> None:
    """Forget compiled code: there is none here."""


def is_compiling() -> bool:
    return False


def disable(fn: Callable | None = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """Run `fn` without compiling (here: as it is); usable bare or as `@disable()`."""
    return fn if fn is not None else (lambda f: f)


def allow_in_graph(fn: Callable) -> Callable:
    return fn


def optimize(*args: Any, **kwargs: Any) -> Callable:
    """Old spelling of torch.compile as a decorator factory: returns an eager pass-through."""
    return lambda fn: fn


def graph_break() -> None:
    return None


def mark_dynamic(t: Any, index: Any, **kwargs: Any) -> None:
    return None


def mark_static(t: Any, index: Any = None) -> None:
    return None
