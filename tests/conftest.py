"""Suite-wide fixtures: `torch_ref` and `tv_ref` (PyTorch's / torchvision's value, live or
recorded; see tests/_refs.py)."""
from __future__ import annotations

import os
from typing import Any, Callable

# the debug check that every tensor's array holds the dtype it declares (ndgrad/_tensor.py), read
# when ndgrad is imported: on for the whole suite
os.environ.setdefault("NDGRAD_CHECK_DTYPES", "1")

import pytest

import _refs


@pytest.fixture
def torch_ref(request: pytest.FixtureRequest) -> Callable[[str, Callable[[Any], Any]], Any]:
    """`torch_ref(key, fn)`: `fn(torch)` computed live when torch is installed, else recorded;
    `torch_ref(key, fn, needs="tensorboard")`: live only where that module is installed too."""
    def get(key: str, fn: Callable[[Any], Any], needs: str | None = None) -> Any:
        return _refs.reference(str(request.path), request.node.name, key, fn, needs=needs)
    return get


@pytest.fixture
def tv_ref(request: pytest.FixtureRequest) -> Callable[[str, Callable[[Any, Any], Any]], Any]:
    """`tv_ref(key, fn)`: `fn(torch, torchvision)` computed live when torchvision imports, else
    the recording."""
    def get(key: str, fn: Callable[[Any, Any], Any]) -> Any:
        return _refs.reference(str(request.path), request.node.name, key, fn, vision=True)
    return get


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    _refs.flush_all()
