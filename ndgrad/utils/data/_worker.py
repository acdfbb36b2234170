"""What runs inside a DataLoader worker process, and what it sends back.

A worker receives ``(task index, sampler indices)`` on its own index queue, fetches and collates
the batch, and puts ``(task index, batch)`` on the shared data queue.  Failures travel as an
:class:`ExceptionWrapper` carrying the worker's formatted traceback; the end of an iterable
dataset as :class:`IterableDatasetStopIteration`.  Seeding follows PyTorch: the worker's ndgrad
and ``random`` seeds are ``base_seed + worker_id``, NumPy's global seed is hashed from both.
"""
from __future__ import annotations

import os
import pickle
import queue
import random
import sys
import traceback
from dataclasses import dataclass
from typing import Any

__all__ = ["ExceptionWrapper", "IterableDatasetStopIteration", "ResumeIteration", "WorkerInfo",
           "get_worker_info", "numpy_seed", "worker_loop"]

STATUS_CHECK_INTERVAL = 5.0  # seconds a worker waits for work before checking its parent

_worker_info: WorkerInfo | None = None


@dataclass(frozen=True)
class WorkerInfo:
    """Inside a worker process: its ``id`` (0 .. ``num_workers`` - 1), its ``seed`` and its copy
    of the ``dataset``."""

    id: int
    num_workers: int
    seed: int
    dataset: Any

    def __repr__(self) -> str:
        return (f"WorkerInfo(id={self.id}, num_workers={self.num_workers}, seed={self.seed}, "
                f"dataset={self.dataset!r})")


def get_worker_info() -> WorkerInfo | None:
    """The :class:`WorkerInfo` of the current DataLoader worker process; None in the main
    process.  An IterableDataset uses it to give each worker its own share of the data."""
    return _worker_info


@dataclass(frozen=True)
class IterableDatasetStopIteration:
    worker_id: int


@dataclass(frozen=True)
class ResumeIteration:
    """Sent to persistent workers at the start of a new epoch (and echoed back)."""


class _KeyErrorMessage(str):
    """Shows a multi-line KeyError message as text, not as the repr of a string."""

    def __repr__(self) -> str:
        return str(self)


class ExceptionWrapper:
    """An exception caught in a worker, with the worker's traceback as text."""

    def __init__(self, where: str) -> None:
        exc_type, exc, tb = sys.exc_info()
        assert exc_type is not None
        self.exc_type: type[BaseException] = exc_type
        self.exc_name = exc_type.__name__
        self.exc_msg = "".join(traceback.format_exception(exc_type, exc, tb))
        self.where = where

    def reraise(self) -> None:
        """Raise the same exception type in this process, its message holding the original
        traceback."""
        msg = f"Caught {self.exc_name} {self.where}.\nOriginal {self.exc_msg}"
        if self.exc_type is KeyError:
            msg = _KeyErrorMessage(msg)
        try:
            exception = self.exc_type(msg)
        except Exception:
            raise RuntimeError(msg) from None
        raise exception


_MASK32 = 0xFFFFFFFF


def _hash_stream(init: int, mult: int) -> Any:
    """A multiplicative hash whose constant advances on every call (SeedSequence's scheme)."""
    const = init

    def step(value: int) -> int:
        nonlocal const
        value = (value ^ const) & _MASK32
        const = (const * mult) & _MASK32
        value = (value * const) & _MASK32
        return (value ^ (value >> 16)) & _MASK32
    return step


def numpy_seed(base_seed: int, worker_id: int) -> list[int]:
    """The four 32-bit words PyTorch seeds NumPy's global generator with in worker
    ``worker_id`` (a SeedSequence-style mix of the worker id and the 64-bit base seed)."""
    hash_a = _hash_stream(0x43B0D7E5, 0x931E8875)
    pool = [hash_a(v) for v in (worker_id, base_seed & _MASK32, base_seed >> 32, 0)]
    for src in range(4):
        for dst in range(4):
            if src != dst:
                mixed = ((0xCA01F9DD * pool[dst]) - (0x4973F715 * hash_a(pool[src]))) & _MASK32
                pool[dst] = (mixed ^ (mixed >> 16)) & _MASK32
    hash_b = _hash_stream(0x8B51F9DD, 0x58F38DED)
    return [hash_b(v) for v in pool]


def _dumps(data: Any, where: str) -> bytes:
    """Pickle a result here, in the worker, so that a result that cannot be pickled becomes an
    error in the main process instead of a batch that never arrives."""
    try:
        return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception:
        if isinstance(data, ExceptionWrapper):  # an exception class defined where pickle
            data.exc_type = RuntimeError        # cannot find it: raise it as RuntimeError
            return pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL)
        return pickle.dumps(ExceptionWrapper(where + " (while pickling its batch)"))


def _parent_alive(parent_pid: int) -> bool:
    return os.getppid() == parent_pid


def worker_loop(kind: str, dataset: Any, index_queue: Any, data_queue: Any, done_event: Any,
                make_fetcher: Any, base_seed: int, init_fn: Any, worker_id: int,
                num_workers: int, parent_pid: int) -> None:
    """The body of worker process ``worker_id`` (see the module docstring)."""
    global _worker_info
    try:
        import numpy as np

        import ndgrad
        ndgrad.set_num_threads(1)  # as PyTorch: workers do not compete for BLAS threads
        seed = base_seed + worker_id
        random.seed(seed)
        ndgrad.manual_seed(seed)
        np.random.seed(numpy_seed(base_seed, worker_id))
        _worker_info = WorkerInfo(id=worker_id, num_workers=num_workers, seed=seed,
                                  dataset=dataset)
        where = f"in DataLoader worker process {worker_id}"
        init_error: ExceptionWrapper | None = None
        fetcher = None
        try:
            if init_fn is not None:
                init_fn(worker_id)
            fetcher = make_fetcher(dataset)
        except Exception:
            init_error = ExceptionWrapper(where)
        ended = False  # an iterable dataset is exhausted: wait for the final None
        while _parent_alive(parent_pid):
            try:
                task = index_queue.get(timeout=STATUS_CHECK_INTERVAL)
            except queue.Empty:
                continue
            if isinstance(task, ResumeIteration):
                data_queue.put((task, None))
                ended = False
                fetcher = make_fetcher(dataset)
                continue
            if task is None:
                break
            if done_event.is_set() or ended:
                continue
            idx, index = task
            data: Any
            if init_error is not None:
                data, init_error = init_error, None
            else:
                try:
                    data = fetcher.fetch(index)  # type: ignore[union-attr]
                except StopIteration:
                    if kind != "iterable":
                        data = ExceptionWrapper(where)
                    else:
                        data, ended = IterableDatasetStopIteration(worker_id), True
                except Exception:
                    data = ExceptionWrapper(where)
            data_queue.put((idx, _dumps(data, where)))
            del data, task
    except KeyboardInterrupt:
        pass
    if done_event.is_set():
        data_queue.cancel_join_thread()
        data_queue.close()
