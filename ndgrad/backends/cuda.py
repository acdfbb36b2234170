"""torch.backends.cuda: cuBLAS and attention-kernel switches of PyTorch's CUDA backend.

Not built here (`is_built()` is False); the switches are recorded. `matmul.allow_tf32` is the same
setting as `torch.set_float32_matmul_precision` ('highest' <-> False), as in PyTorch.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterator

__all__ = ["cudnn_sdp_enabled", "enable_cudnn_sdp", "enable_flash_sdp", "enable_math_sdp", "enable_mem_efficient_sdp",
           "flash_sdp_enabled", "is_built", "math_sdp_enabled", "matmul", "mem_efficient_sdp_enabled", "sdp_kernel"]


def is_built() -> bool:
    """False: ndgrad has no CUDA backend."""
    return False


class cuBLASModule:
    """`torch.backends.cuda.matmul`: allow_tf32, the reduced-precision reductions, fp32_precision."""

    _FLAGS = ("allow_fp16_reduced_precision_reduction", "allow_bf16_reduced_precision_reduction",
              "allow_fp16_accumulation")

    def __init__(self) -> None:
        self.__dict__.update(allow_fp16_reduced_precision_reduction=True, allow_bf16_reduced_precision_reduction=True,
                             allow_fp16_accumulation=False)

    def __getattr__(self, name: str) -> Any:
        from .. import _config
        if name == "allow_tf32":
            return _config.get_float32_matmul_precision() != "highest"
        if name == "fp32_precision":
            return "none" if _config.get_float32_matmul_precision() == "highest" else "tf32"
        raise AttributeError(f"Unknown attribute {name}")

    def __setattr__(self, name: str, value: Any) -> None:
        from .. import _config
        if name == "allow_tf32":
            _config.set_float32_matmul_precision("high" if value else "highest")
        elif name == "fp32_precision":
            _config.set_float32_matmul_precision("high" if value == "tf32" else "highest")
        elif name in self._FLAGS:
            self.__dict__[name] = value
        else:
            raise AttributeError(f"Unknown attribute {name}")


cuBLASModule.__module__ = __name__
matmul = cuBLASModule()

# scaled-dot-product-attention kernels (ndgrad has one, the math kernel; the switches are recorded)
_SDP = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True}


def _sdp_switch(kernel: str) -> tuple[Callable[[], bool], Callable[[bool], None]]:
    """The (`<kernel>_sdp_enabled()`, `enable_<kernel>_sdp(enabled)`) pair of one attention kernel."""
    def enabled() -> bool:
        return _SDP[kernel]

    def enable(enabled: bool) -> None:
        _SDP[kernel] = bool(enabled)
    enabled.__name__, enable.__name__ = f"{kernel}_sdp_enabled", f"enable_{kernel}_sdp"
    return enabled, enable


flash_sdp_enabled, enable_flash_sdp = _sdp_switch("flash")
mem_efficient_sdp_enabled, enable_mem_efficient_sdp = _sdp_switch("mem_efficient")
math_sdp_enabled, enable_math_sdp = _sdp_switch("math")
cudnn_sdp_enabled, enable_cudnn_sdp = _sdp_switch("cudnn")


@contextlib.contextmanager
def sdp_kernel(enable_flash: bool = True, enable_math: bool = True, enable_mem_efficient: bool = True,
               enable_cudnn: bool = True) -> Iterator[None]:
    """Deprecated in PyTorch (use torch.nn.attention.sdpa_kernel): choose attention kernels for a block."""
    warnings.warn("`torch.backends.cuda.sdp_kernel()` is deprecated. In the future, this context manager will be "
                  "removed. Please see `torch.nn.attention.sdpa_kernel()` for the new context manager, with updated "
                  "signature.", FutureWarning, stacklevel=3)
    old = dict(_SDP)
    _SDP.update(flash=enable_flash, math=enable_math, mem_efficient=enable_mem_efficient, cudnn=enable_cudnn)
    try:
        yield
    finally:
        _SDP.update(old)
