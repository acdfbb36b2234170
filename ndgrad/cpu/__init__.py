"""ndgrad.cpu (torch.cpu): the device-module interface for the CPU, the one device ndgrad computes on.

Streams and events exist so device-generic code runs; on the CPU every operation has finished when it
returns, so they have nothing to wait for.
"""
from __future__ import annotations

import contextlib
from typing import Any

__all__ = ["Event", "Stream", "StreamContext", "current_device", "current_stream", "device_count", "is_available",
           "is_initialized", "set_device", "stream", "synchronize"]


def is_available() -> bool:
    return True


def is_initialized() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def set_device(device: Any) -> None:
    """Nothing to choose: there is one CPU device."""


def synchronize(device: Any = None) -> None:
    """Nothing to wait for: CPU work is done when each call returns."""


class Stream:
    """A CPU stream: work is done in order as it is issued."""

    def __init__(self, priority: int = -1) -> None:
        self.priority = priority

    def wait_stream(self, stream: Any) -> None:
        return None

    def synchronize(self) -> None:
        return None

    def query(self) -> bool:
        return True


class Event:
    """A CPU event: always complete."""

    def query(self) -> bool:
        return True

    def record(self, stream: Any = None) -> None:
        return None

    def synchronize(self) -> None:
        return None

    def wait(self, stream: Any = None) -> None:
        return None


_default = Stream()


def current_stream(device: Any = None) -> Stream:
    return _default


class StreamContext(contextlib.AbstractContextManager):
    """`with stream(s):` on the CPU: nothing to switch."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __exit__(self, *exc: Any) -> None:
        return None


def stream(stream: Any) -> StreamContext:
    return StreamContext(stream)
