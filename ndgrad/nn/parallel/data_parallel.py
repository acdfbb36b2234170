"""DataParallel on a machine without GPUs: a transparent wrapper around one module."""
from __future__ import annotations

from typing import Any, Sequence

from ..modules.module import Module

__all__ = ["DataParallel", "data_parallel"]


class DataParallel(Module):
    """Wrap `module` for data-parallel training; with no GPU (ndgrad's CPU) it runs the module as is.

    The wrapped module is registered as the child `module`, so parameters and state_dict keys
    carry the `module.` prefix, as PyTorch writes them; `device_ids` is empty on the CPU.
    """

    def __init__(self, module: Module, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                 dim: int = 0) -> None:
        super().__init__()
        self.module = module
        self.device_ids: list = []  # PyTorch keeps no device list when no GPU type is available

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(module: Module, inputs: Any, device_ids: Sequence[Any] | None = None, output_device: Any = None,
                  dim: int = 0, module_kwargs: Any = None) -> Any:
    """The functional form; like PyTorch's CPU build it needs a GPU device type and raises without one."""
    raise RuntimeError("device type could not be determined")
