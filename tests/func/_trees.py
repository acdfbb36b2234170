"""What the ndgrad.func tests share: NumPy copies of nested results (tensors of either library) and
their comparison."""
from __future__ import annotations

from typing import Any

import numpy as np


def to_np(t: Any) -> Any:
    """A NumPy copy of a tensor (ndgrad or torch); anything else as it is."""
    return np.array(t.detach().numpy()) if hasattr(t, "detach") else t


def tree_np(x: Any) -> Any:
    """Nested dicts / tuples / lists of tensors as the same structure of NumPy arrays."""
    if isinstance(x, dict):
        return {k: tree_np(v) for k, v in x.items()}
    if isinstance(x, (tuple, list)):
        return [tree_np(v) for v in x]
    return to_np(x)


def assert_tree(got: Any, want: Any, rtol: float = 1e-10, atol: float = 1e-12) -> None:
    """Same structure, shapes and values (within rtol/atol)."""
    if isinstance(want, dict):
        assert set(got) == set(want)
        for k in want:
            assert_tree(got[k], want[k], rtol, atol)
    elif isinstance(want, (tuple, list)):
        assert isinstance(got, (tuple, list)) and len(got) == len(want), (type(got), len(want))
        for g, w in zip(got, want):
            assert_tree(g, w, rtol, atol)
    else:
        assert np.shape(got) == np.shape(want), (np.shape(got), np.shape(want))
        np.testing.assert_allclose(to_np(got), want, rtol=rtol, atol=atol)


def error_text(fn: Any) -> str:
    """'Type: message' of the exception fn() raises ('no error' if none): the form in which the tests
    compare errors with PyTorch's."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and message are the result
        return f"{type(e).__name__}: {e}"
    return "no error"
