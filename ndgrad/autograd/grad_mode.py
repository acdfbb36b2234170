"""Grad mode: whether ops record a graph. Thread-local, usable as context managers and decorators."""
from __future__ import annotations

import functools
import inspect
import threading
from typing import Any, Callable

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled", "detect_anomaly", "set_detect_anomaly", "is_anomaly_enabled",
           "is_anomaly_check_nan_enabled"]


class _State(threading.local):
    enabled = True
    inference = False


state = _State()

# Forward-mode AD (autograd.forward_ad): the ids of the dual levels whose tangents ops propagate,
# outermost first. Empty unless a dual level is active, so an op consults this one list (after
# deciding not to record a graph, or inside `record`) and plain training never looks further.
# While a JVP rule for level L runs, the list is cut to the levels outside L.
fw_levels: list = []

# vmap (ndgrad.func.vmap): the ids of the active vmap levels, outermost first. Empty outside vmap;
# ops with a batching rule test it before looking at their operands' types.
vmap_levels: list = []


def is_grad_enabled() -> bool:
    """True when new operations record gradients."""
    return state.enabled


def is_inference_mode_enabled() -> bool:
    """Whether inference_mode is active."""
    return state.inference


class _Mode:
    """Base of the grad-mode context managers: each sets `state` and restores it on exit."""

    _target: bool = True

    def __enter__(self) -> None:
        self._prev = (state.enabled, state.inference)
        self._apply()

    def __exit__(self, *exc: Any) -> None:
        state.enabled, state.inference = self._prev

    def _apply(self) -> None:
        state.enabled = self._target

    def __call__(self, fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):
            return self._wrap_generator(fn)

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return fn(*args, **kwargs)
        return wrapper

    def _wrap_generator(self, fn: Callable) -> Callable:
        """A decorated generator runs each step in the mode, and the caller's mode between steps."""
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            gen = fn(*args, **kwargs)
            send: Any = None
            throw: BaseException | None = None
            while True:
                try:
                    with self.clone():
                        item = gen.throw(throw) if throw is not None else gen.send(send)
                except StopIteration as stop:
                    return stop.value
                send, throw = None, None
                try:
                    send = yield item
                except GeneratorExit:
                    gen.close()
                    raise
                except BaseException as exc:  # thrown in by the caller: passed on to the generator
                    throw = exc
        return wrapper

    def clone(self) -> "_Mode":
        return type(self)()


class _NoParamMode(_Mode):
    """A mode usable bare as a decorator too: `@no_grad` as well as `@no_grad()`."""

    def __new__(cls, orig_func: Callable | None = None) -> Any:
        if orig_func is None:
            return super().__new__(cls)
        if not callable(orig_func):
            raise TypeError(f"{cls.__name__}() takes no arguments")
        return cls()(orig_func)

    def __init__(self, orig_func: Callable | None = None) -> None:
        pass


class no_grad(_NoParamMode):
    """Disable gradient recording inside the block (or the decorated function)."""

    _target = False


class enable_grad(_NoParamMode):
    """Enable gradient recording inside the block, even within `no_grad`."""

    _target = True


class set_grad_enabled(_Mode):
    """Set gradient recording on or off; works as a function, context manager or decorator.

    As in PyTorch, calling it switches the mode at once; used as a decorator it
    undoes that switch and applies the mode only while the function runs.
    """

    def __init__(self, mode: bool) -> None:
        self._target = bool(mode)
        self._prev = (state.enabled, state.inference)
        state.enabled = self._target

    def __enter__(self) -> None:
        pass

    def __call__(self, fn: Callable) -> Callable:
        state.enabled, state.inference = self._prev
        return super().__call__(fn)

    def clone(self) -> "_Mode":
        mode = _Mode()
        mode._target = self._target
        return mode


class inference_mode(_Mode):
    """Like `no_grad`; tensors made inside are marked as inference tensors in PyTorch."""

    def __new__(cls, mode: Any = True) -> Any:
        if callable(mode):  # used bare as a decorator: `@inference_mode`
            return cls()(mode)
        return super().__new__(cls)

    def __init__(self, mode: bool = True) -> None:
        self._target = not mode
        self._mode = mode

    def _apply(self) -> None:
        state.enabled = self._target
        state.inference = self._mode

    def clone(self) -> "inference_mode":
        return inference_mode(self._mode)


# ---------------------------------------------------------------------------
# anomaly detection: the engine checks every gradient a node returns for NaN
# ---------------------------------------------------------------------------
anomaly = [False, True]  # [enabled, check_nan]: process-wide, as in PyTorch


def is_anomaly_enabled() -> bool:
    """Whether anomaly detection is on."""
    return anomaly[0]


def is_anomaly_check_nan_enabled() -> bool:
    """Whether anomaly detection also checks gradients for NaN."""
    return anomaly[1]


class set_detect_anomaly:
    """Turn anomaly detection on or off; usable as a function or a context manager."""

    def __init__(self, mode: bool, check_nan: bool = True) -> None:
        self._prev = list(anomaly)
        anomaly[0], anomaly[1] = bool(mode), bool(check_nan)

    def __enter__(self) -> None:
        pass

    def __exit__(self, *exc: Any) -> None:
        anomaly[0], anomaly[1] = self._prev


class detect_anomaly:
    """Context manager (or decorator): raise when a backward rule returns NaN values."""

    def __init__(self, check_nan: bool = True) -> None:
        self._check_nan = check_nan

    def __enter__(self) -> None:
        self._prev = list(anomaly)
        anomaly[0], anomaly[1] = True, self._check_nan

    def __exit__(self, *exc: Any) -> None:
        anomaly[0], anomaly[1] = self._prev

    def __call__(self, fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with detect_anomaly(self._check_nan):
                return fn(*args, **kwargs)
        return wrapper


def check_nan(node: Any, grads: Any) -> None:
    """Anomaly mode: PyTorch's error when a node's rule produced NaN."""
    import numpy as np
    for i, g in enumerate(grads):
        if g is None:
            continue
        a = getattr(g, "_data", g)
        if np.isnan(a).any():
            raise RuntimeError(f"Function '{node.name()}' returned nan values in its {i}th output.")
