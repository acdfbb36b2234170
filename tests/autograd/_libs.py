"""What the autograd tests share: the libraries each test runs on (ndgrad always, torch when
installed) and a NumPy view of a tensor from either."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")
LIBS = [pytest.param(ndgrad, id="ndgrad"), pytest.param(torch, id="torch", marks=needs_torch)]


def arr(t: Any) -> np.ndarray:
    """A NumPy copy of a tensor's values (ndgrad or torch)."""
    return np.array(t.detach().numpy())
