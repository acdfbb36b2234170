"""The distribution tests seed ndgrad's generator; each one leaves the global random state as it found it,
so tests that run later draw what they would have drawn without these."""
from __future__ import annotations

from typing import Iterator

import pytest

import ndgrad


@pytest.fixture(autouse=True)
def _restore_rng_state() -> Iterator[None]:
    state = ndgrad.get_rng_state()
    yield
    ndgrad.set_rng_state(state)
