"""DataLoader: iterate over a dataset in (optionally shuffled) batches, collating samples into tensors.

Loading runs in the calling process; `num_workers > 0` is accepted and behaves like 0
(same batches, same order), so code written for PyTorch runs unchanged.
"""
from __future__ import annotations

import math
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ..._tensor import Tensor
from ._collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]


def get_worker_info() -> None:
    """Information about the current worker process: always None (loading happens in the main process)."""
    return None


class _InfiniteConstantSampler(Sampler):
    def __iter__(self) -> Iterator[None]:
        while True:
            yield None


class DataLoader:
    """Combine a dataset and a sampler into an iterable over batches."""

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None,
                 sampler: Sampler | Iterable | None = None, batch_sampler: Sampler | Iterable | None = None,
                 num_workers: int = 0, collate_fn: Callable | None = None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn: Callable | None = None,
                 multiprocessing_context: Any = None, generator: Any = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True) -> None:
        if num_workers < 0:
            raise ValueError("num_workers option should be non-negative; use num_workers=0 to disable "
                             "multiprocessing.")
        if timeout < 0:
            raise ValueError("timeout option should be non-negative")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing.let num_workers > 0 "
                             "to enable multiprocessing, otherwise set prefetch_factor to None.")
        if num_workers > 0 and prefetch_factor is None:
            prefetch_factor = 2
        if prefetch_factor is not None and prefetch_factor < 0:
            raise ValueError("prefetch_factor option should be non-negative")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")

        self.dataset = dataset
        self.num_workers = num_workers
        self.prefetch_factor = prefetch_factor
        self.pin_memory = pin_memory
        self.pin_memory_device = pin_memory_device
        self.timeout = timeout
        self.worker_init_fn = worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.persistent_workers = persistent_workers
        self.in_order = in_order

        if isinstance(dataset, IterableDataset):
            self._dataset_kind = "iterable"
            if shuffle not in (False, None):
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified shuffle option, but got "
                                 f"shuffle={shuffle}")
            if sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified sampler option, but got "
                                 f"sampler={sampler}")
            if batch_sampler is not None:
                raise ValueError(f"DataLoader with IterableDataset: expected unspecified batch_sampler option, but "
                                 f"got batch_sampler={batch_sampler}")
        else:
            self._dataset_kind = "map"
            shuffle = bool(shuffle)

        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("batch_sampler option is mutually exclusive with batch_size, shuffle, sampler, "
                                 "and drop_last")
            batch_size = None
            drop_last = False
        elif batch_size is None and drop_last:
            raise ValueError("batch_size=None option disables auto-batching and is mutually exclusive with drop_last")

        if sampler is None:
            if self._dataset_kind == "iterable":
                sampler = _InfiniteConstantSampler()
            elif shuffle:
                sampler = RandomSampler(dataset, generator=generator)
            else:
                sampler = SequentialSampler(dataset)
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)

        self.batch_size = batch_size
        self.drop_last = drop_last
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.generator = generator
        if collate_fn is None:
            collate_fn = default_collate if self._auto_collation else default_convert
        self.collate_fn = collate_fn

    @property
    def _auto_collation(self) -> bool:
        return self.batch_sampler is not None

    @property
    def _index_sampler(self) -> Any:
        return self.batch_sampler if self._auto_collation else self.sampler

    def __len__(self) -> int:
        if self._dataset_kind == "iterable":
            length = len(self.dataset)
            if self.batch_size is not None:
                length = length // self.batch_size if self.drop_last else math.ceil(length / self.batch_size)
            return length
        return len(self._index_sampler)

    def __iter__(self) -> Iterator[Any]:
        if self.worker_init_fn is not None and self.num_workers > 0:
            self.worker_init_fn(0)
        if self._dataset_kind == "iterable":
            return self._iter_iterable()
        return self._iter_map()

    def _iter_map(self) -> Iterator[Any]:
        ds = self.dataset
        collate = self.collate_fn
        if not self._auto_collation:
            for idx in self.sampler:
                yield collate(ds[idx])
            return
        # fast path: a TensorDataset (possibly behind Subsets) collated by default_collate is gathered with one
        # NumPy take per tensor, which equals stacking the samples one by one
        base, maps = ds, []
        while type(base) is Subset:
            maps.append(np.asarray(base.indices, dtype=np.int64))
            base = base.dataset
        fast = (collate is default_collate and type(base) is TensorDataset
                and not any(t.requires_grad for t in base.tensors))
        getitems = getattr(ds, "__getitems__", None)
        for batch_idx in self.batch_sampler:
            if fast:
                idx = np.asarray(batch_idx, dtype=np.int64)
                for m in maps:
                    idx = m[idx]
                yield [_take(t, idx) for t in base.tensors]
                continue
            if callable(getitems):
                data = getitems(batch_idx)
            else:
                data = [ds[i] for i in batch_idx]
            yield collate(data)

    def _iter_iterable(self) -> Iterator[Any]:
        it = iter(self.dataset)
        collate = self.collate_fn
        if not self._auto_collation:
            for item in it:
                yield collate(item)
            return
        bs = self.batch_size
        while True:
            batch = []
            for item in it:
                batch.append(item)
                if len(batch) == bs:
                    break
            if not batch or (self.drop_last and len(batch) < bs):
                return
            yield collate(batch)
            if len(batch) < bs:
                return

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"


def _take(t: Tensor, idx: np.ndarray) -> Tensor:
    return Tensor._make(np.take(t._data, idx, axis=0), t._dtype)
