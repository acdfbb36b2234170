"""ndgrad.nn.parallel: module wrappers for data-parallel training (torch.nn.parallel).

Each wrapper lives in a file of its own (data_parallel.py for DataParallel, distributed.py for
DistributedDataParallel).
"""
from __future__ import annotations

from .data_parallel import DataParallel, data_parallel  # noqa: F401
from .distributed import DistributedDataParallel  # noqa: F401

__all__ = ["DataParallel", "data_parallel", "DistributedDataParallel"]
