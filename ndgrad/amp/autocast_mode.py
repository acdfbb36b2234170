"""torch.autocast on the CPU: regions where matmul-like ops compute in bfloat16 (or float16).

Inside an enabled region, ops marked "lower" (matmul, mm, bmm, addmm, baddbmm, einsum, linear,
convolutions, prelu, scaled_dot_product_attention) cast their floating inputs (float64 excepted)
to the region's dtype; ops marked "fp32" (the losses, prod, cdist, inv, cholesky, pinv) cast them
to float32; every other op runs on what it is given. The casts are ordinary differentiable
`.to()` calls, so gradients reach float32 parameters in float32. Without CUDA, a "cuda" region
warns and is disabled, as in PyTorch's CPU build.
"""
from __future__ import annotations

import functools
import warnings
from typing import Any, Callable

from .. import _dtype as D
from .._backend import device as _device
from ..ops._core import AUTOCAST

__all__ = ["autocast", "is_autocast_available", "get_autocast_dtype", "set_autocast_dtype", "is_autocast_enabled",
           "set_autocast_enabled", "custom_fwd", "custom_bwd"]

# per device type: the dtype regions use when they name none, and whether a region is on
_DTYPE = {"cpu": D.bfloat16, "cuda": D.float16}
_CPU_DTYPES = (D.bfloat16, D.float16)


def is_autocast_available(device_type: str) -> bool:
    """Whether autocast can run on `device_type` here: only the CPU."""
    return device_type == "cpu"


def get_autocast_dtype(device_type: str) -> D.dtype:
    """The lower-precision dtype of autocast regions on `device_type` (bfloat16 on the CPU by default)."""
    return _DTYPE.get(device_type, D.float16)


def set_autocast_dtype(device_type: str, dtype: D.dtype) -> None:
    _DTYPE[device_type] = dtype
    if device_type == "cpu" and AUTOCAST[0] is not None:
        AUTOCAST[0] = dtype


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether an autocast region is on for `device_type` (no argument: CUDA's, never on here)."""
    return device_type == "cpu" and AUTOCAST[0] is not None


def set_autocast_enabled(device_type: str, enabled: bool | None = None) -> None:
    if device_type == "cpu":
        AUTOCAST[0] = _DTYPE["cpu"] if enabled else None


class autocast:  # noqa: N801 - PyTorch's name
    """Context manager (or decorator) enabling mixed precision for the ops inside it."""

    def __init__(self, device_type: str, dtype: D.dtype | None = None, enabled: bool = True,
                 cache_enabled: bool | None = None) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        _device(device_type)  # PyTorch's error for an unknown device type
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else get_autocast_dtype(device_type)
        self._cache_enabled = True if cache_enabled is None else cache_enabled
        if enabled and device_type == "cuda":
            warnings.warn("CUDA is not available or torch_xla is imported. Disabling autocast.", UserWarning,
                          stacklevel=2)
            enabled = False
        elif enabled and device_type == "cpu" and self.fast_dtype not in _CPU_DTYPES:
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling autocast.\nCPU "
                          "Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.", UserWarning,
                          stacklevel=2)
            enabled = False
        elif enabled and device_type != "cpu":
            warnings.warn(f"User provided device_type of '{device_type}', but the current device is not "
                          "available. Disabling.", UserWarning, stacklevel=2)
            enabled = False
        self._enabled = enabled
        self._saved: list = []

    def __enter__(self) -> "autocast":
        if self.device != "cpu":
            self._saved.append(None)
            return self
        self._saved.append((AUTOCAST[0], _DTYPE["cpu"]))
        _DTYPE["cpu"] = self.fast_dtype
        AUTOCAST[0] = self.fast_dtype if self._enabled else None
        return self

    def __exit__(self, *exc: Any) -> bool:
        saved = self._saved.pop()
        if saved is not None:
            AUTOCAST[0], _DTYPE["cpu"] = saved
        return False

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)
        return run


def custom_fwd(fwd: Callable | None = None, *, device_type: str = "cpu", cast_inputs: D.dtype | None = None) -> Any:
    """Decorator for a custom Function's forward: runs it with autocast off and its floating
    inputs cast to `cast_inputs` when a region is active (without `cast_inputs`, unchanged)."""
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def run(*args: Any, **kwargs: Any) -> Any:
        if cast_inputs is None or not is_autocast_enabled(device_type):
            return fwd(*args, **kwargs)
        from ..ops._core import _autocast_arg
        args = tuple(_autocast_arg(a, cast_inputs) for a in args)
        kwargs = {k: _autocast_arg(v, cast_inputs) for k, v in kwargs.items()}
        with autocast(device_type, enabled=False):
            return fwd(*args, **kwargs)
    return run


def custom_bwd(bwd: Callable | None = None, *, device_type: str = "cpu") -> Any:
    """Decorator for a custom Function's backward (autocast state is left as the engine has it)."""
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)
    return bwd


def is_autocast_cpu_enabled() -> bool:
    """Deprecated spelling of is_autocast_enabled("cpu")."""
    warnings.warn("torch.is_autocast_cpu_enabled() is deprecated. Please use torch.is_autocast_enabled('cpu') "
                  "instead.", DeprecationWarning, stacklevel=2)
    return is_autocast_enabled("cpu")


def get_autocast_cpu_dtype() -> D.dtype:
    """Deprecated spelling of get_autocast_dtype("cpu")."""
    warnings.warn("torch.get_autocast_cpu_dtype() is deprecated. Please use torch.get_autocast_dtype('cpu') "
                  "instead.", DeprecationWarning, stacklevel=2)
    return get_autocast_dtype("cpu")
