"""The one seam to the array library.

Every array the package creates comes from `xp(device)`. Today that is NumPy for
"cpu"; a CuPy module for "cuda" plugs in here without touching ops, whose kernels
call NumPy functions that dispatch on CuPy arrays through NEP 13/18.
"""
from __future__ import annotations

from types import ModuleType

import numpy as np

# PyTorch never warns on overflow, 0/0 or log(0): it returns inf/nan silently. NumPy's
# floating-point warnings are turned off once here rather than per op (np.errstate
# costs about a microsecond per call on the hot path).
np.seterr(all="ignore")


def _tune_malloc() -> bool:
    """Keep freed array memory for reuse instead of returning it to the OS at once.

    An autograd graph keeps many mid-sized arrays alive until backward frees them all; with
    glibc's default thresholds that memory goes back to the kernel and the next step page-faults
    it in again, which measured as over half the time of a 256x256 forward+backward and about
    40% of a LeNet step. Raising the mmap and trim thresholds (glibc's own dynamic maximum for
    mmap) keeps it in the heap. Linux/glibc only; skipped when the user set either threshold
    through MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_, or with NDGRAD_MALLOC_TUNING=0.
    """
    import os
    import sys
    if sys.platform != "linux" or os.environ.get("NDGRAD_MALLOC_TUNING", "1") == "0":
        return False
    if "MALLOC_MMAP_THRESHOLD_" in os.environ or "MALLOC_TRIM_THRESHOLD_" in os.environ:
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
        libc.gnu_get_libc_version  # noqa: B018 - present on glibc only
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 128 << 20))


MALLOC_TUNED = _tune_malloc()


class device:
    """A device: `ndgrad.device("cpu")`. Only the CPU is available today."""

    __slots__ = ("type", "index")

    def __init__(self, type: "str | device", index: int | None = None) -> None:  # noqa: A002
        if isinstance(type, device):
            self.type, self.index = type.type, type.index
            return
        if not isinstance(type, str):
            raise TypeError(f"device() received an invalid combination of arguments - got ({type!r})")
        name, _, idx = type.partition(":")
        if name not in ("cpu", "cuda", "meta", "mps"):
            raise RuntimeError(
                "Expected one of cpu, cuda, ipu, xpu, mkldnn, opengl, opencl, ideep, hip, ve, fpga, maia, "
                f"xla, lazy, vulkan, mps, meta, hpu, mtia, privateuseone device type at start of device string: {type}")
        self.type = name
        self.index = int(idx) if idx else index

    def __repr__(self) -> str:
        return f"device(type='{self.type}'" + (f", index={self.index})" if self.index is not None else ")")

    def __str__(self) -> str:
        return self.type + (f":{self.index}" if self.index is not None else "")

    def __eq__(self, other: object) -> bool:
        if isinstance(other, str):
            other = device(other)
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self) -> int:
        return hash((self.type, self.index))


device.__module__ = "ndgrad"  # its public home, as PyTorch reports torch.device
CPU = device("cpu")


def check_device(dev: "str | device | None") -> device:
    """Validate a `device=` argument; only the CPU exists in this build."""
    if dev is None:
        return CPU
    d = dev if isinstance(dev, device) else device(dev) if isinstance(dev, str) else None
    if d is None:
        if isinstance(dev, int):
            raise RuntimeError("Cannot access accelerator device when none is available.")
        raise TypeError(f"expected a device, got {type(dev).__name__}")
    if d.type == "cuda":  # PyTorch's CPU build raises AssertionError here
        raise AssertionError("Torch not compiled with CUDA enabled")
    if d.type != "cpu":
        raise RuntimeError(f"device type {d.type} is not available in ndgrad")
    return CPU


def xp(dev: device = CPU) -> ModuleType:
    """The array module for a device."""
    return np
