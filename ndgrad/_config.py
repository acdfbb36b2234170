"""Process-wide settings that PyTorch programs set at the top: threads, float32 matmul precision,
deterministic algorithms, denormals, the default device, warn-always.

ndgrad computes with NumPy, so most of these only record the setting (its ops are deterministic and
its matmuls are full float32); the thread count is passed on to the BLAS library NumPy loaded
(OpenBLAS or MKL, found through the process's memory map: no threadpoolctl needed).
"""
from __future__ import annotations

import builtins
import ctypes
import os
import warnings
from typing import Any

__all__ = ["are_deterministic_algorithms_enabled", "get_default_device", "get_deterministic_debug_mode",
           "get_float32_matmul_precision", "get_num_interop_threads", "get_num_threads",
           "is_deterministic_algorithms_warn_only_enabled", "is_warn_always_enabled", "set_default_device",
           "set_default_tensor_type", "set_deterministic_debug_mode", "set_float32_matmul_precision",
           "set_flush_denormal", "set_num_interop_threads", "set_num_threads", "set_warn_always",
           "use_deterministic_algorithms"]

_state: dict[str, Any] = {"precision": "highest", "deterministic": False, "warn_only": False, "warn_always": False,
                          "threads": None, "interop_threads": None}


# -- threads ---------------------------------------------------------------------------------------------
_BLAS_SYMBOLS = [("scipy_openblas_set_num_threads64_", "scipy_openblas_get_num_threads64_"),
                 ("scipy_openblas_set_num_threads", "scipy_openblas_get_num_threads"),
                 ("openblas_set_num_threads64_", "openblas_get_num_threads64_"),
                 ("openblas_set_num_threads", "openblas_get_num_threads"),
                 ("MKL_Set_Num_Threads", "MKL_Get_Max_Threads")]
_blas: list = []  # [(set, get) or None], found once


def _blas_threads() -> tuple | None:
    """The (set, get) thread functions of the BLAS NumPy uses, when they can be found."""
    if _blas:
        return _blas[0]
    found = None
    try:
        import numpy  # noqa: F401  (its BLAS must be loaded to be found)
        with open(f"/proc/{os.getpid()}/maps") as f:
            paths = {line.split()[-1] for line in f if "blas" in line.lower() or "mkl_rt" in line.lower()}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for set_name, get_name in _BLAS_SYMBOLS:
                if hasattr(lib, set_name) and hasattr(lib, get_name):
                    found = (getattr(lib, set_name), getattr(lib, get_name))
                    break
            if found:
                break
    except OSError:  # not Linux, or the library cannot be opened: the count is only recorded
        found = None
    _blas.append(found)
    return found


def set_num_threads(int: int) -> None:  # noqa: A002 - PyTorch's argument name
    """Use `int` threads for intra-op work (NumPy's BLAS)."""
    if not isinstance(int, builtins.int) or int <= 0:
        raise RuntimeError("set_num_threads expects a positive integer")
    _state["threads"] = int
    blas = _blas_threads()
    if blas is not None:
        blas[0](int)


def get_num_threads() -> int:
    """The number of threads used for intra-op work."""
    blas = _blas_threads()
    if blas is not None:
        return int(blas[1]())
    return _state["threads"] or os.cpu_count() or 1


def set_num_interop_threads(int: int) -> None:  # noqa: A002
    """Recorded: ndgrad runs no inter-op thread pool."""
    if _state["interop_threads"] is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has started or "
                           "set_num_interop_threads called")
    _state["interop_threads"] = int


def get_num_interop_threads() -> int:
    return _state["interop_threads"] or os.cpu_count() or 1


# -- precision and determinism -----------------------------------------------------------------------------
def set_float32_matmul_precision(precision: str) -> None:
    """'highest', 'high' or 'medium': recorded (ndgrad's float32 matmuls are always full precision)."""
    if precision not in ("highest", "high", "medium"):
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    _state["precision"] = precision


def get_float32_matmul_precision() -> str:
    return _state["precision"]


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Recorded: every ndgrad op is already deterministic."""
    _state["deterministic"], _state["warn_only"] = bool(mode), bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return _state["deterministic"]


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return _state["warn_only"]


def set_deterministic_debug_mode(debug_mode: int | str) -> None:
    modes = {"default": 0, "warn": 1, "error": 2}
    mode = modes.get(debug_mode, debug_mode) if isinstance(debug_mode, str) else debug_mode
    if mode not in (0, 1, 2):
        raise RuntimeError(f"invalid value of debug_mode, expected one of 0, 1, 2, but got {debug_mode}")
    use_deterministic_algorithms(mode != 0, warn_only=mode == 1)


def get_deterministic_debug_mode() -> int:
    return 0 if not _state["deterministic"] else 1 if _state["warn_only"] else 2


def set_flush_denormal(mode: bool) -> bool:
    """False: NumPy offers no switch to flush denormals, so the request is not supported (as PyTorch
    answers on a CPU without the feature)."""
    return False


def set_warn_always(b: bool) -> None:
    _state["warn_always"] = bool(b)


def is_warn_always_enabled() -> bool:
    return _state["warn_always"]


# -- default device and tensor type ----------------------------------------------------------------------------
def get_default_device() -> Any:
    """The device factories use when none is given: the CPU."""
    from ._backend import CPU
    return CPU


def set_default_device(device: Any) -> None:
    """Only the CPU exists here; None (or 'cpu') keeps it, another device fails as its tensors would."""
    from ._backend import check_device
    if device is not None:
        check_device(device)


def set_default_tensor_type(t: Any) -> None:
    """Deprecated in PyTorch: set the default dtype from a tensor type (FloatTensor, 'torch.DoubleTensor')."""
    from . import _creation, _dtype
    warnings.warn("torch.set_default_tensor_type() is deprecated as of PyTorch 2.1, please use "
                  "torch.set_default_dtype() and torch.set_default_device() as alternatives.", UserWarning,
                  stacklevel=2)
    if isinstance(t, str):
        name = t.rsplit(".", 1)[-1]
        if t.startswith("torch.cuda."):
            raise TypeError(f"type {t} not available. Torch not compiled with CUDA enabled.")
        t = getattr(_creation, name, None)
        if t is None:
            raise TypeError(f"invalid type: '{name}'")
    dt = getattr(t, "dtype", None)
    if not isinstance(dt, _dtype.dtype):
        raise TypeError(f"invalid type: '{t}'")
    _dtype.set_default_dtype(dt)


def is_storage(obj: Any) -> bool:
    """False: ndgrad has no storage objects apart from tensors."""
    return False

