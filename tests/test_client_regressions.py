"""Regressions met while running public PyTorch programs under `ndgrad run` (tools/run_clients.py):
each test repeats, in a few lines of our own, the call a program made that failed, and compares
with PyTorch (live when installed, else its recording in tests/references)."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import ndgrad


def _outcome(fn: Callable[[], Any]) -> Any:
    """fn()'s value, or the name of the exception it raises (compared as text across libraries)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the exception type is the value compared
        return type(e).__name__


def _types(L: Any) -> list:
    x = L.tensor([1.5, -2.0])
    return [str(_outcome(lambda a=a: x.type(a).dtype))
            for a in (L.FloatTensor, L.LongTensor, L.DoubleTensor, L.ByteTensor, L.Tensor, int, 5,
                      L.cuda.FloatTensor)]


def test_type_with_a_tensor_type(torch_ref: Callable) -> None:
    """PyTorch-GAN: `imgs.type(torch.FloatTensor)` (a legacy tensor type as the target)."""
    want = torch_ref("types", _types)
    assert [s.replace("ndgrad.", "torch.") for s in _types(ndgrad)] == want
    got = ndgrad.tensor([1.5, -2.0]).type(ndgrad.LongTensor)
    np.testing.assert_array_equal(got.numpy(), torch_ref("long", lambda torch: torch.tensor([1.5, -2.0]).long()))

