"""torch.autograd.profiler: the older face of ndgrad.profiler (`profile()` as a context manager whose
result prints as the table, `record_function`, and `emit_nvtx`/`emit_itt`, which mark nothing here)."""
from __future__ import annotations

import contextlib
from typing import Any

from ..profiler import EventList, FunctionEvent, FunctionEventAvg, _ProfileBase, record_function  # noqa: F401

__all__ = ["EventList", "FunctionEvent", "FunctionEventAvg", "emit_itt", "emit_nvtx", "profile", "record_function"]


class profile(_ProfileBase):  # noqa: N801 - PyTorch's name
    """Record the ops run in a `with` block (nothing when `enabled=False`); `use_cuda` and the other
    device options are accepted: ndgrad computes on the CPU."""

    def __init__(self, enabled: bool = True, *, use_cuda: bool = False, use_device: Any = None,
                 record_shapes: bool = False, with_flops: bool = False, profile_memory: bool = False,
                 with_stack: bool = False, with_modules: bool = False, use_kineto: bool = False,
                 use_cpu: bool = True, experimental_config: Any = None, acc_events: bool = False,
                 custom_trace_id_callback: Any = None) -> None:
        super().__init__(record_shapes)
        self.enabled = enabled

    def __enter__(self) -> "profile | None":
        if not self.enabled:  # as PyTorch: a disabled profile gives nothing to `as`
            return None
        self._start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.enabled:
            self._stop()

    def __str__(self) -> str:
        return self.table()


def emit_nvtx(enabled: bool = True, record_shapes: bool = False) -> contextlib.AbstractContextManager:
    """NVTX ranges for NVIDIA's tools: there is no GPU here, so nothing is emitted."""
    return contextlib.nullcontext()


def emit_itt(enabled: bool = True, record_shapes: bool = False) -> contextlib.AbstractContextManager:
    """ITT ranges for Intel's VTune: nothing is emitted."""
    return contextlib.nullcontext()
