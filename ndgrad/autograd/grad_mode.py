"""Grad mode: whether ops record a graph. Thread-local, usable as context managers and decorators."""
from __future__ import annotations

import functools
import threading
from typing import Any, Callable

__all__ = ["no_grad", "enable_grad", "set_grad_enabled", "inference_mode", "is_grad_enabled",
           "is_inference_mode_enabled"]


class _State(threading.local):
    enabled = True
    inference = False


state = _State()


def is_grad_enabled() -> bool:
    """True when new operations record gradients."""
    return state.enabled


def is_inference_mode_enabled() -> bool:
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
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self.clone():
                return fn(*args, **kwargs)
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
