"""Failures end the job instead of hanging it.

- An uncaught exception on any rank prints that rank's traceback and calls MPI_Abort, which
  makes the launcher stop every process within seconds (the other ranks would otherwise wait
  forever in their next collective).
- A collective that has not finished within the group's timeout (init_process_group's
  `timeout`, 30 minutes by default) aborts the job from a watchdog thread, naming the call.
- Before each collective the ranks compare what they are about to do (which collective, the
  tensor's shape and dtype, op and root) with one all-reduce of a few integers, so a mismatch
  raises a RuntimeError naming every rank's arguments on all ranks instead of hanging or
  silently mixing data. That costs one small-message latency per call (microseconds in
  shared memory, tens of them on a network); NDGRAD_DISTRIBUTED_CHECK=0 turns it off.
  DistributedDataParallel's own gradient all-reduces skip it: their layout is compared once,
  when the wrapper is built.
"""
from __future__ import annotations

import os
import sys
import threading
import time
import zlib
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from ._mpi import mpi

_busy: list = [None]  # (what, since, timeout_s) while a blocking MPI call runs
_installed: dict = {}


def install(comm: Any, timeout: Any) -> None:
    """Abort on uncaught exceptions and stuck collectives (no-op for a world of one)."""
    _installed["check"] = os.environ.get("NDGRAD_DISTRIBUTED_CHECK", "1") != "0"
    if comm.Get_size() == 1 or "hook" in _installed:
        return
    _installed["rank"], _installed["size"] = comm.Get_rank(), comm.Get_size()
    _installed["prev"] = sys.excepthook
    _installed["hook"] = sys.excepthook = _excepthook
    _installed["timeout"] = timeout.total_seconds()
    if "watchdog" not in _installed:
        _installed["watchdog"] = t = threading.Thread(target=_watchdog, name="ndgrad-distributed-watchdog",
                                                      daemon=True)
        t.start()


def uninstall() -> None:
    if _installed.get("hook") is not None and sys.excepthook is _installed["hook"]:
        sys.excepthook = _installed["prev"]
    _installed.pop("hook", None)


def abort(message: str, code: int = 1) -> None:
    """Print `message` and end every process of the job."""
    sys.stderr.write(message.rstrip("\n") + "\n")
    sys.stderr.flush()
    sys.stdout.flush()
    MPI = mpi()
    if MPI.Query_thread() == MPI.THREAD_MULTIPLE or threading.current_thread() is threading.main_thread():
        MPI.COMM_WORLD.Abort(code)
    os._exit(code)  # leaving without MPI_Finalize also makes the launcher stop the job


def _excepthook(tp: Any, value: Any, tb: Any) -> None:
    rank, size = _installed.get("rank"), _installed.get("size")
    sys.stderr.write(f"[rank {rank}] uncaught exception; the traceback follows:\n")
    _installed.get("prev", sys.__excepthook__)(tp, value, tb)
    if sys.excepthook is _excepthook:  # still initialised: bring the other ranks down with us
        abort(f"[rank {rank}] ndgrad.distributed: {tp.__name__} on rank {rank}; aborting all {size} processes "
              "(MPI_Abort)")


def _watchdog() -> None:
    while True:
        timeout = _installed.get("timeout", 1800.0)
        time.sleep(min(max(timeout / 20, 0.05), 5.0))
        busy = _busy[0]
        if busy is not None and time.monotonic() - busy[1] > busy[2]:
            abort(f"[rank {_installed.get('rank')}] ndgrad.distributed: {busy[0]} did not complete within "
                  f"{busy[2]:g} s (the process group's timeout); another rank may have exited or be stuck. "
                  "Aborting the job.")
            return


class watch:
    """Context manager around a blocking MPI call: the watchdog aborts if it outlives the timeout."""

    __slots__ = ("what", "timeout")

    def __init__(self, what: str, timeout: float) -> None:
        self.what, self.timeout = what, timeout

    def __enter__(self) -> None:
        _busy[0] = (self.what, time.monotonic(), self.timeout)

    def __exit__(self, *exc: Any) -> None:
        _busy[0] = None


def check(pg: Any, kind: str, shape: Sequence[int], dtype: D.dtype, error: str | None = None, **args: int) -> None:
    """Compare this collective's arguments (kind, shape, ndgrad dtype, op/root codes) across the
    ranks of `pg`; raise on every rank when any rank differs or reported a local `error`."""
    if pg.size() == 1 or not _installed.get("check", True):
        if error:
            raise RuntimeError(f"{kind}: {error}")
        return
    shape = tuple(int(s) for s in shape)
    shape_code = zlib.crc32(np.array(shape, np.int64).tobytes())  # the same on every host and Python
    sig = [_KINDS.setdefault(kind, len(_KINDS) + 1), D.ALL.index(dtype), len(shape), shape_code,
           1 if error else 0, *(int(v) for v in args.values())]
    v = np.array(sig + [-x for x in sig], np.int64)
    MPI = mpi()
    with watch(f"{kind} (argument check)", pg.timeout.total_seconds()):
        pg.comm.Allreduce(MPI.IN_PLACE, v, MPI.MAX)
    n = len(sig)
    if np.array_equal(v[:n], -v[n:]):
        return
    with watch(f"{kind} (argument check)", pg.timeout.total_seconds()):
        everyone = pg.comm.allgather((kind, list(shape), dtype.name, args, error))
    raise RuntimeError(_mismatch_message(kind, everyone, pg.ranks))


_KINDS: dict = {}


def _mismatch_message(kind: str, everyone: list, ranks: list) -> str:
    def each(fmt: Any) -> str:
        return ", ".join(f"rank {ranks[i]}: {fmt(e)}" for i, e in enumerate(everyone))
    kinds = {e[0] for e in everyone}
    if len(kinds) > 1:
        return (f"ndgrad.distributed: the ranks called different collectives at the same point ({each(lambda e: e[0])})"
                "; every rank must make the same collective calls in the same order")
    errors = [(ranks[i], e[4]) for i, e in enumerate(everyone) if e[4]]
    if errors:
        return f"{kind}: " + "; ".join(f"rank {r}: {msg}" for r, msg in errors)
    if len({(tuple(e[1]), e[2]) for e in everyone}) > 1:
        return (f"{kind}: the ranks passed tensors of different shapes or dtypes ("
                f"{each(lambda e: e[2] + ' ' + str(e[1]))}); every rank must pass the "
                "same shape and dtype")
    return f"{kind}: the ranks passed different arguments ({each(lambda e: _args(e[3]))})"


def _args(args: dict) -> str:
    from ._mpi import RedOpType
    return " ".join(f"{k}={RedOpType(v).name if k == 'op' else v}" for k, v in args.items())
