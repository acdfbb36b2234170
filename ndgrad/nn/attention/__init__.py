"""ndgrad.nn.attention (torch.nn.attention): choosing scaled-dot-product-attention kernels.

ndgrad has one kernel (the math one, exact in every dtype), so `sdpa_kernel` validates its argument
and records the choice in ndgrad.backends.cuda's switches for the block, as PyTorch does.
"""
from __future__ import annotations

import contextlib
import enum
from typing import Iterable, Iterator

from ... import _alias

__all__ = ["SDPBackend", "sdpa_kernel"]


class _BackendType(enum.EnumMeta):
    __repr__ = type.__repr__  # a class repr, as PyTorch's pybind enum prints: <class '...SDPBackend'>


class SDPBackend(enum.Enum, metaclass=_BackendType):
    """The attention kernels PyTorch knows."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


SDPBackend.__qualname__ = "_SDPBackend"  # where PyTorch reports the class: torch.nn.attention._SDPBackend
_SDPBackend = SDPBackend
_alias.set_module(__name__, SDPBackend)

_SWITCH = {SDPBackend.MATH: "math", SDPBackend.FLASH_ATTENTION: "flash",
           SDPBackend.EFFICIENT_ATTENTION: "mem_efficient", SDPBackend.CUDNN_ATTENTION: "cudnn"}


@contextlib.contextmanager
def sdpa_kernel(backends: "SDPBackend | Iterable[SDPBackend]", set_priority: bool = False) -> Iterator[None]:
    """Enable only `backends` for scaled_dot_product_attention inside the block."""
    from ...backends import cuda
    chosen = [backends] if isinstance(backends, SDPBackend) else list(backends) if isinstance(backends, list) else None
    if chosen is None or not all(isinstance(b, SDPBackend) for b in chosen):
        raise AssertionError("Backend must be an instance of SDPBackend or a list of SDPBackend instances, got "
                             f"{type(backends).__name__}")
    old = dict(cuda._SDP)
    cuda._SDP.update({name: backend in chosen for backend, name in _SWITCH.items()})
    try:
        yield
    finally:
        cuda._SDP.update(old)
