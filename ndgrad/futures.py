"""torch.futures: a value that arrives later (`Future`), chaining with `then`, and waiting on many.

A Future is completed once, by `set_result` or `set_exception`, from any thread; `wait()` blocks until
then and returns the result (or raises the exception); callbacks registered with `then` or
`add_done_callback` run when it completes (at once if it already has).
"""
from __future__ import annotations

import threading
import traceback
from typing import Any, Callable, Generic, TypeVar

from . import _alias

__all__ = ["Future", "collect_all", "wait_all"]

T = TypeVar("T")
S = TypeVar("S")


class Future(Generic[T]):
    """A result that is set once and waited for; see the module docstring."""

    def __init__(self, *, devices: list | None = None) -> None:
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._result: Any = None
        self._error: BaseException | None = None
        self._callbacks: list[Callable[["Future[T]"], None]] = []

    def done(self) -> bool:
        """Whether a result or an exception has been set."""
        return self._done.is_set()

    def wait(self) -> T:
        """Block until the future completes; its result, or its exception raised."""
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._result

    def value(self) -> T:
        """The result of a completed future (its exception raised); RuntimeError if not completed yet."""
        if not self.done():
            raise RuntimeError("value() called on a Future that has not completed yet; call wait() to block")
        return self.wait()

    def set_result(self, result: T) -> None:
        """Complete the future with `result` and run its callbacks."""
        self._complete(result, None)

    def set_exception(self, result: BaseException) -> None:
        """Complete the future with an exception that `wait()` will raise."""
        if not isinstance(result, BaseException):
            raise AssertionError(f"{result} is of type {type(result)}, not an Exception.")
        self._complete(None, result)

    def _complete(self, result: Any, error: BaseException | None) -> None:
        with self._lock:
            if self._done.is_set():
                raise RuntimeError("Attempting to mark a completed Future as complete again. Note that a Future "
                                   "can only be marked completed once.")
            self._result, self._error = result, error
            self._done.set()
            callbacks, self._callbacks = self._callbacks, []
        for cb in callbacks:
            cb(self)

    def add_done_callback(self, callback: Callable[["Future[T]"], None]) -> None:
        """Run `callback(self)` when the future completes (now, if it has)."""
        with self._lock:
            if not self._done.is_set():
                self._callbacks.append(callback)
                return
        callback(self)

    def then(self, callback: Callable[["Future[T]"], S]) -> "Future[S]":
        """A new future completed with `callback(self)` once this one completes (with the callback's
        error, if it raises)."""
        out: Future[S] = Future()

        def run(fut: "Future[T]") -> None:
            try:
                out.set_result(callback(fut))
            except Exception as e:  # noqa: BLE001 - handed to whoever waits on `out`
                tb = "".join(traceback.format_tb(e.__traceback__))
                out.set_exception(RuntimeError(f"Got the following error when running the callback: "
                                               f"{type(e).__name__}: {e}\n\nAt:\n{tb}"))
        self.add_done_callback(run)
        return out

    def __repr__(self) -> str:
        return f"<{_alias.public_name('ndgrad.futures')}.Future object at {hex(id(self))}>"


def collect_all(futures: list[Future]) -> Future[list[Future]]:
    """A future completed with the list of `futures` once all of them have completed."""
    out: Future[list[Future]] = Future()
    remaining = [len(futures)]
    lock = threading.Lock()
    if not futures:
        out.set_result([])
        return out

    def one(_: Future) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            out.set_result(list(futures))
    for f in futures:
        f.add_done_callback(one)
    return out


def wait_all(futures: list[Future]) -> list:
    """Wait for every future; their results in order (the first exception met is raised)."""
    return [f.wait() for f in collect_all(futures).wait()]
