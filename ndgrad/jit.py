"""ndgrad.jit (torch.jit): TorchScript's entry points as pass-throughs with eager semantics.

ndgrad has no graph compiler, so `script(obj)` returns `obj` itself, `trace(fn, example_inputs)` runs
`fn` once on the example (as tracing does, surfacing errors early) and returns it, and the decorators
(`ignore`, `unused`, `export`, `interface`, `script_method`) leave their function as it is. Programs
written for TorchScript therefore compute the same values, eagerly. Saving or loading TorchScript
archives is not possible here and says so.
"""
from __future__ import annotations

import typing
import warnings
from typing import Any, Callable

__all__ = ["Attribute", "Error", "Final", "Future", "ScriptFunction", "annotate", "enable_onednn_fusion",
           "export", "fork", "freeze", "ignore", "interface", "is_scripting", "is_tracing", "isinstance", "load",
           "onednn_fusion_enabled", "optimize_for_inference", "optimized_execution", "save", "script",
           "script_if_tracing", "script_method", "set_fusion_strategy", "trace", "trace_module", "unused", "wait"]

_builtin_isinstance = isinstance


def _deprecated(name: str, instead: str = "Please switch to `torch.compile` or `torch.export`.") -> None:
    # PyTorch 2.13 deprecates TorchScript; its warning is attributed to its own module (hidden by default)
    warnings.warn(f"`torch.jit.{name}` is deprecated. {instead}", DeprecationWarning, stacklevel=1)
Final = typing.Final
Error = RuntimeError


def script(obj: Any, optimize: Any = None, _frames_up: int = 0, _rcb: Any = None, example_inputs: Any = None) -> Any:
    """`obj` itself: modules, functions and classes run eagerly, computing what the scripted version computes."""
    _deprecated("script")
    return obj


def trace(func: Any, example_inputs: Any = None, optimize: Any = None, check_trace: bool = True,
          check_inputs: Any = None, check_tolerance: float = 1e-5, strict: bool = True, _force_outplace: bool = False,
          _module_class: Any = None, _compilation_unit: Any = None, example_kwarg_inputs: Any = None,
          _store_inputs: bool = True) -> Any:
    """Run `func` once on the example inputs, as tracing does, and return it (it computes the same thing)."""
    _deprecated("trace")
    if example_inputs is None and example_kwarg_inputs is None:
        raise RuntimeError("example_kwarg_inputs or example_inputs must be provided to trace")
    args = example_inputs if _builtin_isinstance(example_inputs, tuple) else \
        () if example_inputs is None else (example_inputs,)
    func(*args, **(example_kwarg_inputs or {}))
    return func


def trace_module(mod: Any, inputs: dict, **kwargs: Any) -> Any:
    """Run each named method once on its example inputs and return the module."""
    for method, example in inputs.items():
        trace(getattr(mod, method), example)
    return mod


def script_if_tracing(fn: Callable) -> Callable:
    return fn


def _decorator(fn: Any = None, **options: Any) -> Any:
    # usable bare (@ignore) or with options (@ignore(drop=True))
    if fn is None or _builtin_isinstance(fn, bool):
        return lambda f: f
    return fn


def ignore(drop: Any = False, **kwargs: Any) -> Any:
    """Leave a function to Python (here: leave it as it is). `@ignore` and `@ignore(drop=True)` both work."""
    if drop is True or kwargs.pop("drop_on_export", False):
        warnings.warn("ignore(True) has been deprecated. TorchScript will now drop the function call on compilation. "
                      f"Use torch.jit.unused now. {kwargs}", FutureWarning, stacklevel=2)
    return _decorator(drop, **kwargs)


def unused(fn: Callable) -> Callable:
    return fn


def export(fn: Callable) -> Callable:
    return fn


def interface(obj: Any) -> Any:
    return obj


def script_method(fn: Callable) -> Callable:
    _deprecated("script_method")
    return fn


def is_scripting() -> bool:
    """False: ndgrad code always runs eagerly."""
    return False


def is_tracing() -> bool:
    """False: `trace` runs the function eagerly, not under a tracer."""
    return False


def annotate(the_type: Any, the_value: Any) -> Any:
    """`the_value` (the type is a hint for the TorchScript compiler)."""
    return the_value


class Attribute(typing.NamedTuple):
    """A module attribute with its TorchScript type; in eager code, the (value, type) pair itself."""

    value: Any
    type: Any


def isinstance(obj: Any, target_type: Any) -> bool:  # noqa: A001 - PyTorch's name
    """isinstance that also checks typing containers (List[int], Dict[str, Tensor], Optional[...])."""
    origin = typing.get_origin(target_type)
    if origin is None:
        return _builtin_isinstance(obj, target_type)
    args = typing.get_args(target_type)
    if origin is typing.Union:
        return any(isinstance(obj, a) for a in args)
    if not _builtin_isinstance(obj, origin):
        return False
    if origin in (list, set, frozenset) and args:
        return all(isinstance(x, args[0]) for x in obj)
    if origin is dict and args:
        return all(isinstance(k, args[0]) and isinstance(v, args[1]) for k, v in obj.items())
    if origin is tuple and args:
        return len(args) == len(obj) and all(isinstance(x, a) for x, a in zip(obj, args))
    return True


class Future:
    """The result of `fork`: computed at once here; `wait()` returns it."""

    def __init__(self, value: Any) -> None:
        self._value = value

    def wait(self) -> Any:
        return self._value

    def done(self) -> bool:
        return True


def fork(func: Callable, *args: Any, **kwargs: Any) -> Future:
    """Run `func(*args, **kwargs)` (at once, in this thread) and return its Future."""
    _deprecated("fork", "Please use `torch.compile` instead.")
    return Future(func(*args, **kwargs))


def wait(future: Future) -> Any:
    _deprecated("wait", "Please use `torch.compile` instead.")
    return future.wait()


def freeze(mod: Any, preserved_attrs: Any = None, optimize_numerics: bool = True) -> Any:
    return mod


def optimize_for_inference(mod: Any, other_methods: Any = None) -> Any:
    return mod


def _no_op(*args: Any, **kwargs: Any) -> None:
    return None


set_fusion_strategy = _no_op


def enable_onednn_fusion(enabled: bool) -> None:
    return None


def onednn_fusion_enabled() -> bool:
    return False


class optimized_execution:
    """Context manager choosing TorchScript's optimizer: nothing to choose here."""

    def __init__(self, should_optimize: bool) -> None:
        self.should_optimize = should_optimize

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None


def _no_archives(what: str) -> RuntimeError:
    return RuntimeError(f"ndgrad does not implement torch.jit.{what} yet: it has no TorchScript archives. Save "
                        "the weights with torch.save(model.state_dict(), path) instead")


def save(m: Any, f: Any, _extra_files: Any = None) -> None:
    raise _no_archives("save")


def load(f: Any, map_location: Any = None, _extra_files: Any = None, _restore_shapes: bool = False) -> Any:
    raise _no_archives("load")


ScriptFunction = type(script)


def __getattr__(name: str) -> Any:
    # the ScriptModule classes subclass nn.Module, loaded on first use; nothing here is ever an instance of
    # the scripted-module classes (script() returns the module itself), but programs may subclass ScriptModule
    if name in ("ScriptModule", "RecursiveScriptModule", "TracedModule", "TopLevelTracedModule"):
        from . import _alias
        from .nn.modules.module import Module
        g = globals()
        if "ScriptModule" not in g:
            g["ScriptModule"] = type("ScriptModule", (Module,), {"__doc__": "A Module written for TorchScript; "
                                                                 "it runs eagerly here."})
            g["RecursiveScriptModule"] = type("RecursiveScriptModule", (g["ScriptModule"],), {})
            g["TracedModule"] = type("TracedModule", (g["ScriptModule"],), {})
            g["TopLevelTracedModule"] = type("TopLevelTracedModule", (g["TracedModule"],), {})
            for n in ("ScriptModule", "RecursiveScriptModule", "TracedModule", "TopLevelTracedModule"):
                _alias.set_module(__name__, g[n])
        return g[name]
    from . import _alias
    raise _alias.missing(__name__, name)
