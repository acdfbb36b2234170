"""DataLoader: iterate over a dataset in (optionally shuffled) batches, collating samples into tensors.

With `num_workers=0` batches are fetched in the calling process.  With `num_workers > 0` they are
fetched by that many worker processes (fork where the platform has it, else spawn; or the given
`multiprocessing_context`), as PyTorch does: tasks go round robin, `prefetch_factor` per worker
in flight, results come back in sampler order, workers are seeded from one base seed per pass
(see _worker.py), `persistent_workers` keeps them between passes, a worker's exception is raised
here with its traceback, and a worker that dies or a `timeout` raises instead of hanging.
"""
from __future__ import annotations

import functools
import math
import multiprocessing
import os
import pickle
import queue
import signal
import warnings
import weakref
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from ... import _random
from ..._tensor import Tensor
from . import _worker
from ._collate import default_collate, default_convert
from .dataset import IterableDataset, Subset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler

__all__ = ["DataLoader", "get_worker_info"]

get_worker_info = _worker.get_worker_info


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
        self._iterator: _MultiProcessIter | None = None
        if pin_memory and not _has_accelerator():
            warnings.warn("'pin_memory' argument is set as true but no accelerator is found, then "
                          "device pinned memory won't be used.", UserWarning, stacklevel=2)

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
        if self.num_workers == 0:
            return _SingleProcessIter(self)
        if self.persistent_workers:
            if self._iterator is None:
                self._iterator = _MultiProcessIter(self)
            else:
                self._iterator._reset(self)
            return self._iterator
        return _MultiProcessIter(self)

    def _fetcher(self) -> "_MapFetcher | _IterableFetcher":
        kind = _IterableFetcher if self._dataset_kind == "iterable" else _MapFetcher
        return kind(self.dataset, self._auto_collation, self.collate_fn, self.drop_last)

    @property
    def multiprocessing_context(self) -> Any:
        return self._mp_context

    @multiprocessing_context.setter
    def multiprocessing_context(self, context: Any) -> None:
        if context is not None and self.num_workers == 0:
            raise ValueError(f"multiprocessing_context can only be used with multi-process "
                             f"loading (num_workers > 0), but got num_workers={self.num_workers}")
        if isinstance(context, str):
            methods = multiprocessing.get_all_start_methods()
            if context not in methods:
                raise ValueError(f"multiprocessing_context option should specify a valid start "
                                 f"method in {methods!r}, but got "
                                 f"multiprocessing_context={context!r}")
            context = multiprocessing.get_context(context)
        self._mp_context = context

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"


def _take(t: Tensor, idx: np.ndarray) -> Tensor:
    return Tensor._make(np.take(t._data, idx, axis=0), t._dtype)


def _has_accelerator() -> bool:
    try:
        from ... import accelerator
        return bool(accelerator.is_available())
    except Exception:
        return False


def _base_seed(generator: Any) -> int:
    """The seed of one pass's workers, drawn from ``generator`` (or the global one) in every
    pass, with or without workers, so both consume the random stream alike (as PyTorch)."""
    return int(_random._rng(generator).integers(0, 2 ** 63 - 1))


# -- fetching one batch ---------------------------------------------------------------------

class _MapFetcher:
    """Samples by index from a map-style dataset, collated; a TensorDataset (behind any Subsets)
    collated by default_collate is gathered with one NumPy take per tensor instead."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.dataset, self.auto_collation, self.collate_fn = dataset, auto_collation, collate_fn
        base, maps = dataset, []
        while type(base) is Subset:
            maps.append(np.asarray(base.indices, dtype=np.int64))
            base = base.dataset
        self.fast = (auto_collation and collate_fn is default_collate
                     and type(base) is TensorDataset
                     and not any(t.requires_grad for t in base.tensors))
        self.base, self.maps = base, maps
        self.getitems = getattr(dataset, "__getitems__", None)

    def fetch(self, index: Any) -> Any:
        if not self.auto_collation:
            return self.collate_fn(self.dataset[index])
        if self.fast:
            idx = np.asarray(index, dtype=np.int64)
            for m in self.maps:
                idx = m[idx]
            return [_take(t, idx) for t in self.base.tensors]
        if callable(self.getitems):
            data = self.getitems(index)
        else:
            data = [self.dataset[i] for i in index]
        return self.collate_fn(data)


class _IterableFetcher:
    """The next samples of an IterableDataset's iterator; StopIteration once it is spent (a
    short last batch first, unless ``drop_last``)."""

    def __init__(self, dataset: Any, auto_collation: bool, collate_fn: Callable,
                 drop_last: bool) -> None:
        self.iterator = iter(dataset)
        self.auto_collation, self.collate_fn, self.drop_last = auto_collation, collate_fn, drop_last
        self.ended = False

    def fetch(self, index: Any) -> Any:
        if self.ended:
            raise StopIteration
        if not self.auto_collation:
            return self.collate_fn(next(self.iterator))
        batch = []
        for _ in index:
            try:
                batch.append(next(self.iterator))
            except StopIteration:
                self.ended = True
                break
        if not batch or (self.drop_last and len(batch) < len(index)):
            raise StopIteration
        return self.collate_fn(batch)


# -- iterating without workers ----------------------------------------------------------------

class _SingleProcessIter:
    """Batches fetched in the calling process."""

    def __init__(self, loader: DataLoader) -> None:
        self._sampler_iter = iter(loader._index_sampler)
        self._base_seed = _base_seed(loader.generator)
        self._fetcher = loader._fetcher()

    def __iter__(self) -> "_SingleProcessIter":
        return self

    def __next__(self) -> Any:
        index = next(self._sampler_iter)
        return self._fetcher.fetch(index)


# -- iterating with worker processes ------------------------------------------------------------

_STATUS_INTERVAL = 0.5  # seconds between checks that the workers are alive while waiting


class _MultiProcessIter:
    """Batches fetched by ``num_workers`` processes: each worker has its own index queue and
    answers on a shared data queue; up to ``prefetch_factor`` tasks per worker are in flight;
    batches come back in sampler order (unless ``in_order=False``)."""

    def __init__(self, loader: DataLoader) -> None:
        self._loader = weakref.ref(loader)  # no cycle with a loader that keeps this iterator
        self._num_workers = loader.num_workers
        self._prefetch = loader.prefetch_factor
        self._timeout = loader.timeout
        self._in_order = loader.in_order
        self._persistent = loader.persistent_workers
        self._kind = loader._dataset_kind
        self._sampler_iter = iter(loader._index_sampler)
        self._base_seed = _base_seed(loader.generator)
        ctx = loader.multiprocessing_context or multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
        self._done = ctx.Event()
        self._data_queue = ctx.Queue()
        self._index_queues: list[Any] = []
        self._workers: list[Any] = []
        make_fetcher = functools.partial(_make_fetcher, self._kind, loader._auto_collation,
                                         loader.collate_fn, loader.drop_last)
        for worker_id in range(self._num_workers):
            index_queue = ctx.Queue()
            index_queue.cancel_join_thread()
            w = ctx.Process(target=_worker.worker_loop,
                            args=(self._kind, loader.dataset, index_queue, self._data_queue,
                                  self._done, make_fetcher, self._base_seed,
                                  loader.worker_init_fn, worker_id, self._num_workers,
                                  os.getpid()),
                            daemon=True)
            w.start()
            self._index_queues.append(index_queue)
            self._workers.append(w)
        self._shut = False
        self._start_pass(first=True)

    def _start_pass(self, first: bool) -> None:
        self._send_idx = 0
        self._rcvd_idx = 0
        self._tasks: dict[int, tuple[Any, ...]] = {}  # task -> (worker,) or (worker, data)
        self._outstanding = 0
        self._active = [True] * self._num_workers
        self._next_worker = 0
        if not first:  # persistent workers: start a new pass, drop what an unfinished one left
            for q in self._index_queues:
                q.put(_worker.ResumeIteration())
            acks = self._num_workers
            while acks:
                idx, _ = self._get()
                if isinstance(idx, _worker.ResumeIteration):
                    acks -= 1
        for _ in range(self._prefetch * self._num_workers):
            self._put_index()

    def _reset(self, loader: DataLoader) -> None:
        self._sampler_iter = iter(loader._index_sampler)
        self._start_pass(first=False)

    def __iter__(self) -> "_MultiProcessIter":
        return self

    def __len__(self) -> int:
        loader = self._loader()
        if loader is None:
            raise TypeError("the DataLoader of this iterator is gone")
        return len(loader)

    def _put_index(self) -> None:
        assert self._outstanding < self._prefetch * self._num_workers
        try:
            index = next(self._sampler_iter)
        except StopIteration:
            return
        for _ in range(self._num_workers):  # the next active worker, round robin
            worker = self._next_worker
            self._next_worker = (worker + 1) % self._num_workers
            if self._active[worker]:
                break
        else:
            return  # every worker is done (iterable datasets)
        self._index_queues[worker].put((self._send_idx, index))
        self._tasks[self._send_idx] = (worker,)
        self._outstanding += 1
        self._send_idx += 1

    def _get(self) -> tuple[Any, Any]:
        """The next (task, data) from any worker; raises instead of hanging when a worker died
        or ``timeout`` passed."""
        waited = 0.0
        while True:
            wait = _STATUS_INTERVAL if self._timeout <= 0 else min(_STATUS_INTERVAL,
                                                                    self._timeout - waited)
            try:
                idx, payload = self._data_queue.get(timeout=wait)
            except queue.Empty:
                waited += wait
            else:  # results come pickled by the worker (see _worker._dumps)
                return idx, (pickle.loads(payload) if isinstance(payload, bytes) else payload)
            failed = [w for w in self._workers if not w.is_alive()]
            if failed:
                self._shutdown()
                raise RuntimeError(_death_message(failed)) from None
            if 0 < self._timeout <= waited:
                self._shutdown()
                raise RuntimeError(f"DataLoader timed out after {self._timeout} seconds")

    def __next__(self) -> Any:
        while True:
            # skip tasks of workers that ended (iterable datasets) and have nothing pending
            while self._rcvd_idx < self._send_idx:
                info = self._tasks.get(self._rcvd_idx)
                if info is not None and (len(info) == 2 or self._active[info[0]]):
                    break
                self._tasks.pop(self._rcvd_idx, None)
                self._rcvd_idx += 1
            else:
                if not self._persistent:
                    self._shutdown()
                raise StopIteration
            info = self._tasks[self._rcvd_idx]
            if len(info) == 2:
                self._tasks.pop(self._rcvd_idx)
                return self._process(info[1])
            if self._shut:
                raise StopIteration
            idx, data = self._get()
            self._outstanding -= 1
            if isinstance(data, _worker.IterableDatasetStopIteration):
                if self._active[data.worker_id]:
                    self._active[data.worker_id] = False
                    if not self._persistent:  # a persistent worker waits for the next pass
                        self._index_queues[data.worker_id].put(None)
                self._tasks.pop(idx, None)
                self._put_index()
                continue
            if idx == self._rcvd_idx or not self._in_order:
                self._tasks.pop(idx, None)
                if idx != self._rcvd_idx:
                    return self._process(data, advance=False)
                return self._process(data)
            self._tasks[idx] += (data,)

    def _process(self, data: Any, advance: bool = True) -> Any:
        if advance:
            self._rcvd_idx += 1
        self._put_index()
        if isinstance(data, _worker.ExceptionWrapper):
            data.reraise()
        return data

    def _shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        self._done.set()
        for q in self._index_queues:
            try:
                q.put(None)
            except (OSError, ValueError):
                pass
        for w in self._workers:
            w.join(timeout=_STATUS_INTERVAL)
        for w in self._workers:
            if w.is_alive():
                w.terminate()
                w.join()
        for q in self._index_queues:
            q.close()
        self._data_queue.cancel_join_thread()
        self._data_queue.close()

    def __del__(self) -> None:
        try:
            self._shutdown()
        except Exception:
            pass


def _make_fetcher(kind: str, auto_collation: bool, collate_fn: Callable, drop_last: bool,
                  dataset: Any) -> Any:
    fetcher = _IterableFetcher if kind == "iterable" else _MapFetcher
    return fetcher(dataset, auto_collation, collate_fn, drop_last)


def _death_message(failed: list[Any]) -> str:
    """PyTorch's words for workers that exited: killed by a signal, or an exit code."""
    for w in failed:
        code = w.exitcode
        if code is not None and code < 0:
            return f"DataLoader worker (pid {w.pid}) is killed by signal: {signal.strsignal(-code)}. "
        if code:
            return f"DataLoader worker (pid {w.pid}) exited unexpectedly with exit code {code}. "
    pids = ", ".join(str(w.pid) for w in failed)
    return f"DataLoader worker (pid(s) {pids}) exited unexpectedly"
