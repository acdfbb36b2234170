"""ndgrad.multiprocessing (torch.multiprocessing): Python's multiprocessing, plus PyTorch's `spawn`.

Everything of Python's `multiprocessing` is re-exported (Process, Queue, Pool, get_context,
set_start_method, cpu_count, ...). Tensors cross processes by pickling (a copy: NumPy memory is not
shared the way PyTorch shares tensor storage). `spawn(fn, args, nprocs)` starts `fn(i, *args)` in
`nprocs` processes, as PyTorch's does, and raises in the parent when a child fails.
"""
from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import sys
import traceback
from multiprocessing import *  # noqa: F401,F403 - the whole of Python's API, as torch.multiprocessing
from typing import Any, Callable

__all__ = list(multiprocessing.__all__) + ["ProcessContext", "ProcessExitedException", "ProcessRaisedException",
                                           "SpawnContext", "get_all_sharing_strategies", "get_sharing_strategy",
                                           "set_sharing_strategy", "spawn", "start_processes"]

_SHARING = {"file_descriptor", "file_system"}
_sharing = ["file_descriptor" if sys.platform != "darwin" else "file_system"]


def get_all_sharing_strategies() -> set:
    return set(_SHARING)


def get_sharing_strategy() -> str:
    return _sharing[0]


def set_sharing_strategy(new_strategy: str) -> None:
    """Recorded (ndgrad tensors are pickled between processes whatever the strategy)."""
    if new_strategy not in _SHARING:
        raise AssertionError(f"Unknown sharing strategy: {new_strategy}")
    _sharing[0] = new_strategy


class ProcessException(Exception):
    def __init__(self, msg: str, error_index: int, pid: int) -> None:
        super().__init__(msg)
        self.msg, self.error_index, self.pid = msg, error_index, pid

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid)


class ProcessRaisedException(ProcessException):
    """A spawned process raised an exception (its traceback is the message)."""


class ProcessExitedException(ProcessException):
    """A spawned process exited with a non-zero status or was killed by a signal."""

    def __init__(self, msg: str, error_index: int, error_pid: int, exit_code: int, signal_name: str | None = None):
        super().__init__(msg, error_index, error_pid)
        self.exit_code, self.signal_name = exit_code, signal_name

    def __reduce__(self) -> Any:
        return type(self), (self.msg, self.error_index, self.pid, self.exit_code, self.signal_name)


def _wrap(fn: Callable, i: int, args: tuple, error_queue: Any) -> None:
    try:
        fn(i, *args)
    except KeyboardInterrupt:
        pass
    except Exception:  # noqa: BLE001 - the parent re-raises it
        error_queue.put(traceback.format_exc())
        sys.exit(1)


class ProcessContext:
    """The processes started by `start_processes`; `join()` waits, raising if one of them failed."""

    def __init__(self, processes: list, error_queues: list) -> None:
        self.processes = processes
        self.error_queues = error_queues
        self.sentinels = {p.sentinel: i for i, p in enumerate(processes)}

    def pids(self) -> list[int]:
        return [int(p.pid) for p in self.processes]

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the processes; True when all ended well, False on timeout; raise when one failed."""
        if not self.sentinels:
            return True
        ready = multiprocessing.connection.wait(self.sentinels, timeout=timeout)
        failed = None
        for sentinel in ready:
            i = self.sentinels.pop(sentinel)
            p = self.processes[i]
            p.join()
            if p.exitcode != 0:
                failed = i
                break
        if failed is None:
            return not self.sentinels
        for p in self.processes:  # one failed: stop the others
            if p.is_alive():
                p.terminate()
            p.join()
        q, p = self.error_queues[failed], self.processes[failed]
        if q.empty():
            if p.exitcode < 0:
                name = signal.Signals(-p.exitcode).name
                raise ProcessExitedException(f"process {failed} terminated with signal {name}", failed, p.pid,
                                             p.exitcode, name)
            raise ProcessExitedException(f"process {failed} terminated with exit code {p.exitcode}", failed, p.pid,
                                         p.exitcode)
        original = q.get()
        raise ProcessRaisedException(f"\n\n-- Process {failed} terminated with the following error:\n{original}",
                                     failed, p.pid)


class SpawnContext(ProcessContext):
    pass


def start_processes(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
                    start_method: str = "spawn") -> ProcessContext | None:
    """Start `fn(i, *args)` for i in range(nprocs) with the given start method; join them unless join=False."""
    ctx = multiprocessing.get_context(start_method)
    processes, queues = [], []
    for i in range(nprocs):
        q = ctx.SimpleQueue()
        p = ctx.Process(target=_wrap, args=(fn, i, tuple(args), q), daemon=daemon)
        p.start()
        processes.append(p)
        queues.append(q)
    context = ProcessContext(processes, queues)
    if not join:
        return context
    while not context.join():
        pass
    return None


def spawn(fn: Callable, args: tuple = (), nprocs: int = 1, join: bool = True, daemon: bool = False,
          start_method: str = "spawn") -> ProcessContext | None:
    """torch.multiprocessing.spawn: `fn(i, *args)` in `nprocs` fresh processes (the 'spawn' method)."""
    if start_method != "spawn":
        import warnings
        warnings.warn(f"This method only supports start_method=spawn (got: {start_method}).\nTo use a different "
                      "start_method use:\n\t\t torch.multiprocessing.start_processes(...)", FutureWarning, stacklevel=2)
    return start_processes(fn, args, nprocs, join, daemon, start_method="spawn")
