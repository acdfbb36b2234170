"""ndgrad.backends (torch.backends): the switches programs set for PyTorch's compute backends.

ndgrad computes with NumPy on the CPU, so each flag is recorded and queried as in a CPU build of
PyTorch (`cudnn.benchmark = True` is accepted and changes nothing; `mps.is_available()` is False).
"""
from __future__ import annotations

from . import cpu, cuda, cudnn, mha, mkl, mkldnn, mps, nnpack, openmp, opt_einsum  # noqa: F401

__all__ = ["cpu", "cuda", "cudnn", "mha", "mkl", "mkldnn", "mps", "nnpack", "openmp", "opt_einsum"]
