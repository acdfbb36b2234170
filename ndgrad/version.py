"""ndgrad.version (`torch.version` under `ndgrad run`): version numbers and build flags.

``ndgrad`` is this package's own version (also ``ndgrad.__version__``). ``__version__`` here is
ndgrad's own version too, except while the torch alias is on (`ndgrad run`, `use_as_torch()`): then it
is the PyTorch release whose API ndgrad follows, as a TorchVersion, the same value as
``torch.__version__``, so version-gated programs take their modern branch.
"""
from __future__ import annotations

from typing import Any

from . import _alias
from .torch_version import TorchVersion

__all__ = ["cuda", "debug", "git_version", "hip", "ndgrad", "rocm", "xpu"]

ndgrad = "0.1.0"        # this package's version
torch_api = TorchVersion(_alias.TORCH_API_VERSION)  # the PyTorch release whose API ndgrad follows
cuda: str | None = None  # built without CUDA, ROCm or XPU, as a CPU build of PyTorch reports
hip: str | None = None
rocm: str | None = None
xpu: str | None = None
debug = False
git_version = "Unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        return torch_api if _alias.active() else ndgrad
    raise _alias.missing(__name__, name)
