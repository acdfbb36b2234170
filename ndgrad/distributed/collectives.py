"""torch.distributed's collectives and point-to-point calls on MPI.

Each call works in place on the tensors' NumPy arrays (MPI reads and writes them directly;
see _mpi.Staged for the copies MPI needs), checks its arguments against the other ranks'
first (_faults.check), and with `async_op=True` returns a `Work` whose `wait()` completes it.
Ranks given as `src`/`dst` are global ranks, `group_src`/`group_dst` ranks within `group`.
"""
from __future__ import annotations

import warnings
from typing import Any, Callable, Sequence

import numpy as np

from .._tensor import Tensor
from . import _faults
from ._mpi import ReduceOp, Staged, mpi, reduction, spec
from ._world import ProcessGroup, default_group, resolve


class Work:
    """The handle of an asynchronous operation: `wait()` blocks until it is done (and the
    tensors hold the result); `is_completed()` asks without blocking."""

    def __init__(self, requests: list, finish: Sequence[Callable], result: list | None, what: str,
                 timeout: float, on_status: Callable | None = None, keep: Any = None) -> None:
        self._requests = requests
        self._keep = keep  # buffers the pending requests read or write
        self._finish = finish
        self._result = result or []
        self._what = what
        self._timeout = timeout
        self._on_status = on_status
        self._done = False
        self._source = -1

    def wait(self, timeout: Any = None) -> bool:
        if not self._done:
            MPI = mpi()
            statuses = [MPI.Status() for _ in self._requests]
            limit = timeout.total_seconds() if timeout is not None else self._timeout
            with _faults.watch(self._what, limit):
                try:
                    MPI.Request.Waitall(self._requests, statuses)
                except MPI.Exception as e:
                    raise RuntimeError(f"{self._what} failed: {e}") from None
            self._complete(statuses)
        return True

    synchronize = wait

    def _complete(self, statuses: list) -> None:
        self._done = True
        if self._on_status is not None:
            self._source = self._on_status(statuses[0])
        for f in self._finish:
            f()

    def is_completed(self) -> bool:
        if not self._done:
            MPI = mpi()
            statuses = [MPI.Status() for _ in self._requests]
            if MPI.Request.Testall(self._requests, statuses):
                self._complete(statuses)
        return self._done

    def is_success(self) -> bool:
        return self.is_completed()

    def exception(self) -> None:
        return None

    def result(self) -> list:
        self.wait()
        return self._result

    def source_rank(self) -> int:
        """For a finished irecv: the global rank the message came from."""
        self.wait()
        return self._source

    _source_rank = source_rank

    def get_future(self) -> "Future":
        return Future(self)


class Future:
    """A minimal torch.futures.Future over a Work: wait(), value(), done(), then()."""

    def __init__(self, work: Work) -> None:
        self._work = work

    def wait(self) -> list:
        return self._work.result()

    value = wait

    def done(self) -> bool:
        return self._work.is_completed()

    def then(self, callback: Callable) -> "Future":
        return _Done(callback(self))


class _Done(Future):
    def __init__(self, value: Any) -> None:
        self._value = value

    def wait(self) -> Any:
        return self._value

    value = wait

    def done(self) -> bool:
        return True


# ---------------------------------------------------------------------------
# argument handling
# ---------------------------------------------------------------------------
def _array(t: Any, name: str, write: bool = True) -> np.ndarray:
    if not isinstance(t, Tensor):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type torch.Tensor but got "
                        f"{type(t)} instead.")
    if write and not t._data.flags.writeable:
        raise RuntimeError(f"`{name}` is read-only memory (an expanded view or a read-only NumPy array) and "
                           "cannot receive a result; pass a clone() of it")
    return t._data


def _arrays(ts: Any, name: str, write: bool = True) -> list:
    if not isinstance(ts, (list, tuple)) or not all(isinstance(t, Tensor) for t in ts):
        raise TypeError(f"Invalid function argument. Expected parameter `{name}` of type List[torch.Tensor] but got "
                        f"{type(ts)} instead.")
    return [_array(t, name, write) for t in ts]


def _member(group: ProcessGroup | None, fn: str) -> ProcessGroup | None:
    pg = resolve(group)
    if pg.comm is None:
        warnings.warn(f"Running {fn} on global rank {default_group().rank()} which does not belong to the given "
                      "group.", UserWarning, stacklevel=3)
        return None
    return pg


def _root(pg: ProcessGroup, global_rank: int | None, group_rank: int | None, fn: str,
          default: int | None = None) -> int:
    """The group rank of a src/dst given either globally or within the group."""
    if group_rank is not None:
        if global_rank is not None:
            raise ValueError("Can't specify both group_rank and global_rank")
        if not 0 <= group_rank < pg.size():
            raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
        return int(group_rank)
    if global_rank is None:
        if default is None:
            raise ValueError("Must specify global_rank or group_rank")
        global_rank = default
    if pg is default_group() and not 0 <= global_rank < pg.size():
        raise RuntimeError(f"{fn}: invalid root rank: {global_rank}")
    return pg.group_rank(int(global_rank))


def _same_shapes(fn: str, arrays: list, want: tuple, dtype: Any, what: str) -> None:
    for i, a in enumerate(arrays):
        if a.shape != want or a.dtype != dtype:
            raise RuntimeError(f"{fn}: invalid {what} at index {i} (expected {list(want)} {dtype}, got "
                               f"{list(a.shape)} {a.dtype})")


def _run(pg: ProcessGroup, fn: str, async_op: bool, method: str, args: tuple, finish: Sequence[Callable] = (),
         result: list | None = None, keep: Any = None) -> Work | None:
    """Call MPI's `method` (blocking) or its nonblocking twin; run `finish` once it completed.
    `keep` holds buffers a pending request still uses."""
    comm = pg.comm
    timeout = pg.timeout.total_seconds()
    if async_op:
        req = getattr(comm, "I" + method[0].lower() + method[1:])(*args)
        return Work([req], finish, result, fn, timeout, keep=keep)
    with _faults.watch(fn, timeout):
        getattr(comm, method)(*args)
    for f in finish:
        f()
    return None


def _divide(buf: np.ndarray, n: int) -> Callable:
    return lambda: np.divide(buf, n, out=buf, casting="unsafe")


def _copy_rows(dsts: list, src: np.ndarray) -> Callable:
    def f() -> None:
        for i, d in enumerate(dsts):
            np.copyto(d, src[i])
    return f


# ---------------------------------------------------------------------------
# collectives
# ---------------------------------------------------------------------------
def all_reduce(tensor: Tensor, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Reduce `tensor` across the group; every rank ends with the result in `tensor`."""
    a = _array(tensor, "tensor")
    pg = _member(group, "all_reduce")
    if pg is None:
        return None
    red = reduction(op, tensor._dtype, "all_reduce")
    _faults.check(pg, "all_reduce", a.shape, tensor._dtype, op=op.value)
    st = Staged(a, red.wide)
    finish = [_divide(st.buf, pg.size())] if red.average else []
    finish.append(st.finish)
    return _run(pg, "all_reduce", async_op, "Allreduce", (mpi().IN_PLACE, spec(st.buf), red.op), finish, [tensor],
                st)


def broadcast(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, async_op: bool = False,
              group_src: int | None = None) -> Work | None:
    """Copy `tensor` of rank `src` into `tensor` on every other rank."""
    a = _array(tensor, "tensor")
    pg = _member(group, "broadcast")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "broadcast")
    _faults.check(pg, "broadcast", a.shape, tensor._dtype, src=root)
    me = pg.rank() == root
    st = Staged(a, read=me, write=not me)
    return _run(pg, "broadcast", async_op, "Bcast", (spec(st.buf), root), [st.finish], [tensor], st)


def reduce(tensor: Tensor, dst: int | None = None, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
           async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Reduce `tensor` across the group into `tensor` of rank `dst` (the others' are unchanged)."""
    a = _array(tensor, "tensor")
    pg = _member(group, "reduce")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "reduce")
    red = reduction(op, tensor._dtype, "reduce")
    _faults.check(pg, "reduce", a.shape, tensor._dtype, op=op.value, dst=root)
    me = pg.rank() == root
    st = Staged(a, red.wide, write=me)
    finish = [_divide(st.buf, pg.size())] if red.average and me else []
    finish.append(st.finish)
    args = (mpi().IN_PLACE, spec(st.buf), red.op, root) if me else (spec(st.buf), None, red.op, root)
    return _run(pg, "reduce", async_op, "Reduce", args, finish, [tensor], st)


def all_gather(tensor_list: list, tensor: Tensor, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Every rank's `tensor`, in rank order, into `tensor_list` on every rank."""
    outs = _arrays(tensor_list, "tensor_list")
    a = _array(tensor, "tensor", write=False)
    pg = _member(group, "all_gather")
    if pg is None:
        return None
    n = pg.size()
    if len(outs) != n:
        raise RuntimeError(f"all_gather: invalid output tensor list (expected length {n}, got {len(outs)})")
    _same_shapes("all_gather", outs, a.shape, a.dtype, "output tensor")
    _faults.check(pg, "all_gather", a.shape, tensor._dtype)
    send = Staged(a, write=False)
    out = np.empty((n,) + a.shape, a.dtype)
    return _run(pg, "all_gather", async_op, "Allgather", (spec(send.buf), spec(out)), [_copy_rows(outs, out)],
                list(tensor_list), (send, out))


def all_gather_into_tensor(output_tensor: Tensor, input_tensor: Tensor, group: ProcessGroup | None = None,
                           async_op: bool = False) -> Work | None:
    """Every rank's `input_tensor` concatenated (or stacked) along dim 0 into `output_tensor`."""
    out = _array(output_tensor, "output_tensor")
    a = _array(input_tensor, "input_tensor", write=False)
    pg = _member(group, "all_gather_into_tensor")
    if pg is None:
        return None
    n = pg.size()
    _check_stacked("all_gather_into_tensor", out, a, n, "output")
    _faults.check(pg, "all_gather_into_tensor", a.shape, input_tensor._dtype)
    send, recv = Staged(a, write=False), Staged(out, read=False)
    return _run(pg, "all_gather_into_tensor", async_op, "Allgather", (spec(send.buf), spec(recv.buf)),
                [recv.finish], [output_tensor], (send, recv))


def _check_stacked(fn: str, big: np.ndarray, small: np.ndarray, n: int, which: str) -> None:
    """`big` must hold n times `small`: shape (n * d0, ...) or (n, *small.shape), same dtype."""
    if big.dtype != small.dtype:
        raise RuntimeError(f"{fn}: the {which} tensor must have the same dtype as the other ({big.dtype} vs "
                           f"{small.dtype})")
    ok = big.shape == (n,) + small.shape or (small.ndim > 0 and big.shape == (n * small.shape[0],) + small.shape[1:])
    if not ok:
        want = [n * small.shape[0], *small.shape[1:]] if small.ndim else [n]
        raise RuntimeError(f"{fn}: the {which} tensor must hold world_size ({n}) times the other tensor: expected "
                           f"shape {want} or {[n, *small.shape]}, got {list(big.shape)}")


def gather(tensor: Tensor, gather_list: list | None = None, dst: int | None = None,
           group: ProcessGroup | None = None, async_op: bool = False, group_dst: int | None = None) -> Work | None:
    """Every rank's `tensor`, in rank order, into `gather_list` on rank `dst` (default 0)."""
    a = _array(tensor, "tensor", write=False)
    pg = _member(group, "gather")
    if pg is None:
        return None
    root = _root(pg, dst, group_dst, "gather", default=0)
    me = pg.rank() == root
    if me:
        if not gather_list:
            raise ValueError("Argument ``gather_list`` must be specified on destination rank.")
        outs = _arrays(gather_list, "gather_list")
        if len(outs) != pg.size():
            raise RuntimeError(f"gather: invalid output tensor list (expected length {pg.size()}, got {len(outs)})")
        _same_shapes("gather", outs, a.shape, a.dtype, "output tensor")
    elif gather_list:
        raise ValueError("Argument ``gather_list`` must NOT be specified on non-destination ranks.")
    _faults.check(pg, "gather", a.shape, tensor._dtype, dst=root)
    send = Staged(a, write=False)
    out = np.empty((pg.size(),) + a.shape, a.dtype) if me else None
    finish = [_copy_rows(outs, out)] if me else []
    return _run(pg, "gather", async_op, "Gather", (spec(send.buf), spec(out) if me else None, root), finish,
                list(gather_list or []), (send, out))


def scatter(tensor: Tensor, scatter_list: list | None = None, src: int | None = None,
            group: ProcessGroup | None = None, async_op: bool = False, group_src: int | None = None) -> Work | None:
    """Rank `src`'s `scatter_list[i]` into `tensor` on rank i (src defaults to 0)."""
    a = _array(tensor, "tensor")
    pg = _member(group, "scatter")
    if pg is None:
        return None
    root = _root(pg, src, group_src, "scatter", default=0)
    me = pg.rank() == root
    send = None
    if me:
        if not scatter_list:
            raise ValueError("Argument ``scatter_list`` must be specified on source rank.")
        ins = _arrays(scatter_list, "scatter_list", write=False)
        if len(ins) != pg.size():
            raise RuntimeError(f"scatter: invalid input tensor list (expected length {pg.size()}, got {len(ins)})")
        _same_shapes("scatter", ins, a.shape, a.dtype, "input tensor")
        send = np.stack(ins) if ins else None
    elif scatter_list:
        raise ValueError("Argument ``scatter_list`` must NOT be specified on non-source ranks.")
    _faults.check(pg, "scatter", a.shape, tensor._dtype, src=root)
    recv = Staged(a, read=False)
    return _run(pg, "scatter", async_op, "Scatter", (spec(send) if me else None, spec(recv.buf), root),
                [recv.finish], [tensor], (send, recv))


def reduce_scatter(output: Tensor, input_list: list, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
                   async_op: bool = False) -> Work | None:
    """Reduce `input_list[i]` across the group into `output` on rank i."""
    out = _array(output, "output")
    ins = _arrays(input_list, "input_list", write=False)
    pg = _member(group, "reduce_scatter")
    if pg is None:
        return None
    n = pg.size()
    if len(ins) != n:
        raise RuntimeError(f"reduce_scatter: invalid input tensor list (expected length {n}, got {len(ins)})")
    _same_shapes("reduce_scatter", ins, out.shape, out.dtype, "input tensor")
    red = reduction(op, output._dtype, "reduce_scatter")
    _faults.check(pg, "reduce_scatter", out.shape, output._dtype, op=op.value)
    send = np.empty((n,) + out.shape, red.wide or out.dtype)
    for i, x in enumerate(ins):
        send[i] = x
    return _reduce_scatter(pg, "reduce_scatter", send, out, red, async_op, [output])


def reduce_scatter_tensor(output: Tensor, input: Tensor, op: Any = ReduceOp.SUM, group: ProcessGroup | None = None,
                          async_op: bool = False) -> Work | None:
    """Reduce `input` (world_size chunks along dim 0) across the group; rank i gets chunk i in `output`."""
    out = _array(output, "output")
    a = _array(input, "input", write=False)
    pg = _member(group, "reduce_scatter_tensor")
    if pg is None:
        return None
    _check_stacked("reduce_scatter_tensor", a, out, pg.size(), "input")
    red = reduction(op, output._dtype, "reduce_scatter_tensor")
    _faults.check(pg, "reduce_scatter_tensor", out.shape, output._dtype, op=op.value)
    send = Staged(a, red.wide, write=False).buf
    return _reduce_scatter(pg, "reduce_scatter_tensor", send, out, red, async_op, [output])


def _reduce_scatter(pg: ProcessGroup, fn: str, send: np.ndarray, out: np.ndarray, red: Any, async_op: bool,
                    result: list) -> Work | None:
    recv = Staged(out, red.wide, read=False)
    finish = [_divide(recv.buf, pg.size())] if red.average else []
    finish.append(recv.finish)
    return _run(pg, fn, async_op, "Reduce_scatter_block", (spec(send), spec(recv.buf), red.op), finish, result,
                (send, recv))


def all_to_all_single(output: Tensor, input: Tensor, output_split_sizes: Sequence[int] | None = None,
                      input_split_sizes: Sequence[int] | None = None, group: ProcessGroup | None = None,
                      async_op: bool = False) -> Work | None:
    """Split `input` along dim 0 (evenly, or by input_split_sizes) and send part i to rank i; the
    parts received, in rank order, fill `output` (split by output_split_sizes)."""
    out = _array(output, "output")
    a = _array(input, "input", write=False)
    pg = _member(group, "all_to_all_single")
    if pg is None:
        return None
    if out.dtype != a.dtype:
        raise RuntimeError(f"all_to_all_single: output and input must have the same dtype ({out.dtype} vs {a.dtype})")
    n = pg.size()
    row_in = int(np.prod(a.shape[1:])) if a.ndim else 1
    row_out = int(np.prod(out.shape[1:])) if out.ndim else 1
    send_counts = [s * row_in for s in _splits(input_split_sizes, a.shape[0] if a.ndim else 1, n)]
    recv_counts = [s * row_out for s in _splits(output_split_sizes, out.shape[0] if out.ndim else 1, n)]
    send, recv = Staged(a, write=False), Staged(out, read=False)
    return _alltoallv(pg, "all_to_all_single", input._dtype, a.shape[1:], send.buf, send_counts, recv.buf,
                      recv_counts, async_op, [recv.finish], [output], (send, recv))


def _splits(sizes: Sequence[int] | None, rows: int, n: int) -> list:
    if sizes is None or len(sizes) == 0:
        if rows % n:
            raise RuntimeError("Tensor's dim 0 does not divide equally across group size")
        return [rows // n] * n
    sizes = [int(s) for s in sizes]
    if len(sizes) != n or sum(sizes) != rows or min(sizes) < 0:
        raise RuntimeError("Split sizes doesn't match total dim 0 size")
    return sizes


def all_to_all(output_tensor_list: list, input_tensor_list: list, group: ProcessGroup | None = None,
               async_op: bool = False) -> Work | None:
    """Send `input_tensor_list[i]` to rank i; what rank i sends lands in `output_tensor_list[i]`."""
    outs = _arrays(output_tensor_list, "output_tensor_list")
    ins = _arrays(input_tensor_list, "input_tensor_list", write=False)
    pg = _member(group, "all_to_all")
    if pg is None:
        return None
    n = pg.size()
    if len(outs) != n or len(ins) != n:
        raise RuntimeError(f"all_to_all: expected {n} input and {n} output tensors, got {len(ins)} and {len(outs)}")
    dt = ins[0].dtype
    if any(x.dtype != dt for x in ins + outs):
        raise RuntimeError("all_to_all: all tensors must have the same dtype")
    send = np.concatenate([x.reshape(-1) for x in ins]) if ins else np.empty(0, dt)
    recv = np.empty(sum(x.size for x in outs), dt)

    def unpack() -> None:
        k = 0
        for x in outs:
            x[...] = recv[k:k + x.size].reshape(x.shape)
            k += x.size
    return _alltoallv(pg, "all_to_all", input_tensor_list[0]._dtype, (), send, [x.size for x in ins], recv,
                      [x.size for x in outs], async_op, [unpack], list(output_tensor_list), (send, recv))


def _alltoallv(pg: ProcessGroup, fn: str, dtype: Any, row: tuple, send: np.ndarray, send_counts: list,
               recv: np.ndarray, recv_counts: list, async_op: bool, finish: list, result: list,
               keep: Any) -> Work | None:
    _faults.check(pg, fn, row, dtype)
    if pg.size() > 1 and _faults._installed.get("check", True):
        # what each rank will send here must be what this rank expects: compare, then tell everyone
        incoming = np.empty(pg.size(), np.int64)
        pg.comm.Alltoall(np.asarray(send_counts, np.int64), incoming)
        err = None
        if incoming.tolist() != list(recv_counts):
            err = (f"expects {list(recv_counts)} elements from ranks {pg.ranks} but they send "
                   f"{incoming.tolist()} (input_split_sizes on the senders must match output_split_sizes here)")
        _faults.check(pg, fn, (), dtype, error=err)
    sdispl = np.concatenate([[0], np.cumsum(send_counts)[:-1]]).astype(np.int64).tolist()
    rdispl = np.concatenate([[0], np.cumsum(recv_counts)[:-1]]).astype(np.int64).tolist()
    t = spec(send)[1]
    args = ([spec(send)[0], (list(send_counts), sdispl), t], [spec(recv)[0], (list(recv_counts), rdispl), t])
    return _run(pg, fn, async_op, "Alltoallv", args, finish, result, keep)


def barrier(group: ProcessGroup | None = None, async_op: bool = False, device_ids: Any = None) -> Work | None:
    """Wait until every rank of the group has reached this call."""
    pg = _member(group, "barrier")
    if pg is None:
        return None
    from .. import _dtype as D
    _faults.check(pg, "barrier", (), D.uint8)
    return _run(pg, "barrier", async_op, "Barrier", ())


# ---------------------------------------------------------------------------
# point to point
# ---------------------------------------------------------------------------
def _peer(pg: ProcessGroup, rank: int | None, group_rank: int | None, kind: str) -> int:
    r = _root(pg, rank, group_rank, kind)
    if r == pg.rank():
        raise ValueError(f"Invalid {kind} rank: {kind} rank should not be the same as the rank of the current "
                         "process.")
    return r


def isend(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
          group_dst: int | None = None) -> Work | None:
    """Start sending `tensor` to rank `dst`; the Work's wait() returns once the data has left."""
    a = _array(tensor, "tensor", write=False)
    pg = _member(group, "isend")
    if pg is None:
        return None
    peer = _peer(pg, dst, group_dst, "destination")
    buf = Staged(a, write=False).buf
    req = pg.comm.Isend(spec(buf), peer, tag)
    return Work([req], (), [tensor], "isend", pg.timeout.total_seconds(), keep=buf)


def send(tensor: Tensor, dst: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
         group_dst: int | None = None) -> None:
    """Send `tensor` to rank `dst` (blocks until the matching recv can take it)."""
    work = isend(tensor, dst, group, tag, group_dst)
    if work is not None:
        work.wait()


def irecv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
          group_src: int | None = None) -> Work | None:
    """Start receiving into `tensor` from rank `src` (any rank when None)."""
    a = _array(tensor, "tensor")
    pg = _member(group, "irecv")
    if pg is None:
        return None
    MPI = mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, "source")
    recv = Staged(a, read=False)
    req = pg.comm.Irecv(spec(recv.buf), peer, tag)

    def on_status(status: Any) -> int:
        got = status.Get_count(MPI.BYTE)
        if got != recv.buf.nbytes:
            raise RuntimeError(_size_error(pg, status.Get_source(), got, tensor))
        return pg.ranks[status.Get_source()]
    return Work([req], [recv.finish], [tensor], "irecv", pg.timeout.total_seconds(), on_status, recv)


def recv(tensor: Tensor, src: int | None = None, group: ProcessGroup | None = None, tag: int = 0,
         group_src: int | None = None) -> int:
    """Receive into `tensor` from rank `src` (any rank when None); returns the sender's global rank."""
    a = _array(tensor, "tensor")
    pg = _member(group, "recv")
    if pg is None:
        return -1
    MPI = mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, "source")
    status = MPI.Status()
    with _faults.watch("recv", pg.timeout.total_seconds()):
        msg = pg.comm.Mprobe(peer, tag, status)  # look at the message before taking it
        got = status.Get_count(MPI.BYTE)
        recv_buf = Staged(a, read=False)
        if got != recv_buf.buf.nbytes:
            msg.Recv([bytearray(got), MPI.BYTE])  # take it off the queue, then say what went wrong
            raise RuntimeError(_size_error(pg, status.Get_source(), got, tensor))
        msg.Recv(spec(recv_buf.buf))
    recv_buf.finish()
    return pg.ranks[status.Get_source()]


def _size_error(pg: ProcessGroup, source: int, got: int, tensor: Tensor) -> str:
    return (f"recv: rank {pg.ranks[source]} sent {got} bytes, but the receiving tensor ({tensor._dtype.name} "
            f"{list(tensor.shape)}) on rank {pg.ranks[pg.rank()]} holds {tensor._data.nbytes} bytes; send and recv "
            "need tensors of the same size and dtype")


# ---------------------------------------------------------------------------
# Python objects (pickled: only use them with ranks of your own job, as PyTorch warns)
# ---------------------------------------------------------------------------
def broadcast_object_list(object_list: list, src: int | None = None, group: ProcessGroup | None = None,
                          device: Any = None, group_src: int | None = None) -> None:
    """Replace `object_list`'s items on every rank with rank `src`'s (default 0)."""
    pg = _member(group, "broadcast_object_list")
    if pg is None:
        return
    root = _root(pg, src, group_src, "broadcast_object_list", default=0)
    with _faults.watch("broadcast_object_list", pg.timeout.total_seconds()):
        got = pg.comm.bcast(list(object_list) if pg.rank() == root else None, root)
    if pg.rank() != root:
        if len(got) != len(object_list):
            raise RuntimeError(f"broadcast_object_list: rank {pg.ranks[root]} sent {len(got)} objects but the "
                               f"list here holds {len(object_list)}")
        object_list[:] = got


def all_gather_object(object_list: list, obj: Any, group: ProcessGroup | None = None) -> None:
    """Every rank's `obj`, in rank order, into `object_list` (one slot per rank) on every rank."""
    pg = _member(group, "all_gather_object")
    if pg is None:
        return
    with _faults.watch("all_gather_object", pg.timeout.total_seconds()):
        got = pg.comm.allgather(obj)
    for i, o in enumerate(got):
        object_list[i] = o


def gather_object(obj: Any, object_gather_list: list | None = None, dst: int | None = None,
                  group: ProcessGroup | None = None, group_dst: int | None = None) -> None:
    """Every rank's `obj` into `object_gather_list` on rank `dst` (default 0)."""
    pg = _member(group, "gather_object")
    if pg is None:
        return
    root = _root(pg, dst, group_dst, "gather_object", default=0)
    with _faults.watch("gather_object", pg.timeout.total_seconds()):
        got = pg.comm.gather(obj, root)
    if pg.rank() == root:
        if object_gather_list is None:
            raise ValueError("Argument ``object_gather_list`` must be specified on destination rank.")
        for i, o in enumerate(got):
            object_gather_list[i] = o


def scatter_object_list(scatter_object_output_list: list, scatter_object_input_list: list | None = None,
                        src: int | None = None, group: ProcessGroup | None = None,
                        group_src: int | None = None) -> None:
    """Rank `src`'s `scatter_object_input_list[i]` into `scatter_object_output_list[0]` on rank i."""
    if not isinstance(scatter_object_output_list, list) or len(scatter_object_output_list) < 1:
        raise ValueError("Expected argument scatter_object_output_list to be a list of size at least 1.")
    pg = _member(group, "scatter_object_list")
    if pg is None:
        return
    root = _root(pg, src, group_src, "scatter_object_list", default=0)
    with _faults.watch("scatter_object_list", pg.timeout.total_seconds()):
        got = pg.comm.scatter(list(scatter_object_input_list) if pg.rank() == root else None, root)
    scatter_object_output_list[0] = got


def send_object_list(object_list: list, dst: int | None = None, group: ProcessGroup | None = None,
                     device: Any = None, group_dst: int | None = None) -> None:
    pg = _member(group, "send_object_list")
    if pg is not None:
        with _faults.watch("send_object_list", pg.timeout.total_seconds()):
            pg.comm.send(list(object_list), _peer(pg, dst, group_dst, "destination"), tag=0x6f626a)


def recv_object_list(object_list: list, src: int | None = None, group: ProcessGroup | None = None,
                     device: Any = None, group_src: int | None = None) -> int:
    pg = _member(group, "recv_object_list")
    if pg is None:
        return -1
    MPI = mpi()
    peer = MPI.ANY_SOURCE if src is None and group_src is None else _peer(pg, src, group_src, "source")
    status = MPI.Status()
    with _faults.watch("recv_object_list", pg.timeout.total_seconds()):
        got = pg.comm.recv(None, peer, 0x6f626a, status)
    object_list[:len(got)] = got
    return pg.ranks[status.Get_source()]
