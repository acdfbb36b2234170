"""ndgrad.autograd: the reverse-mode engine and its public helpers."""
from typing import Any

from .grad_mode import (detect_anomaly, enable_grad, inference_mode, is_anomaly_check_nan_enabled,  # noqa: F401
                        is_anomaly_enabled, is_grad_enabled, no_grad, set_detect_anomaly, set_grad_enabled)
from .graph import Node  # noqa: F401
from .engine import backward, grad, queue_callback, sum_to_size  # noqa: F401
from .function import Function  # noqa: F401
from . import forward_ad, functional  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
from . import anomaly_mode  # noqa: F401,E402  (the public home of detect_anomaly)


def Variable(data: Any, requires_grad: bool = False, volatile: bool = False) -> Any:  # noqa: N802
    """Legacy constructor: PyTorch merged Variable into Tensor; this returns a tensor
    sharing `data`'s memory, cut from its graph, with the requested requires_grad."""
    t = data.detach()
    return t.requires_grad_(True) if requires_grad else t


class _ExecutionEngine:
    """`Variable._execution_engine` as PyTorch code reaches it: only `queue_callback`."""

    queue_callback = staticmethod(queue_callback)


Variable._execution_engine = _ExecutionEngine()  # type: ignore[attr-defined]


def __getattr__(name: str) -> Any:
    if name == "profiler":  # loaded on first use
        import importlib
        return importlib.import_module(".profiler", __name__)
    raise AttributeError(f"module 'ndgrad.autograd' has no attribute '{name}'")
