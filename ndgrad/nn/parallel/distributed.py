"""DistributedDataParallel: one replica of the model per process, gradients averaged over the
processes while backward runs.

At construction the replicas are made identical (rank 0's parameters and buffers are
broadcast). Gradients are reduced in buckets: flat buffers of about `bucket_cap_mb`, filled in
reverse parameter order (the order backward produces gradients; after the first iteration, the
order actually observed). A post-accumulate-grad hook on each parameter copies its gradient,
already divided by the world size, into its bucket; a full bucket starts a non-blocking MPI
all-reduce at once, so communication overlaps the rest of backward. A callback queued on the
autograd engine waits for the last buckets when backward ends and writes the averaged
gradients back into `.grad`. Buckets start in index order on every rank, as MPI requires.
"""
from __future__ import annotations

import contextlib
import weakref
from typing import Any, Iterator

import numpy as np

from ..._tensor import Tensor
from ...autograd import grad_mode
from ..modules.module import Module

__all__ = ["DistributedDataParallel"]

_MB = 1024 * 1024
_DEFAULT_BUCKET_MB = 25
_FIRST_BUCKET_BYTES = 1024 * 1024  # PyTorch's default first bucket: small, so the last all-reduce is short
_BROADCAST_BYTES = 250 * _MB


class DistributedDataParallel(Module):
    """Wrap `module` (the same model in every process of the group) for data-parallel training:
    call it as the module, run backward, and every process holds the same averaged gradients.

    `no_sync()` skips the averaging (gradients accumulate locally until a backward outside it);
    `find_unused_parameters=True` allows parameters that receive no gradient in an iteration;
    buffers are broadcast from rank 0 before each forward (`broadcast_buffers`); the wrapped
    model is `.module`, so state_dict keys carry the `module.` prefix.
    """

    def __init__(self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0,
                 broadcast_buffers: bool | None = None, init_sync: bool = True, process_group: Any = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False, static_graph: bool = False,
                 delay_all_reduce_named_params: Any = None, param_to_hook_all_reduce: Any = None,
                 mixed_precision: Any = None, device_mesh: Any = None, skip_all_reduce_unused_params: bool = False,
                 bucket_cap_mb_list: Any = None, batched_grad_copy: bool = False,
                 forward_sync_buffers: bool | None = None) -> None:
        super().__init__()
        from ...distributed import _world
        if device_ids or output_device is not None:
            raise ValueError("DistributedDataParallel device_ids and output_device arguments only work with "
                             "single-device/multiple-device GPU modules or CPU modules, but got device_ids "
                             f"{device_ids}, output_device {output_device}, and module parameters "
                             "{device(type='cpu')}.")
        if mixed_precision is not None or device_mesh is not None or bucket_cap_mb_list:
            raise NotImplementedError("DistributedDataParallel: mixed_precision, device_mesh and bucket_cap_mb_list "
                                      "are not supported by ndgrad")
        pg = _world.resolve(process_group)
        if pg.comm is None:
            raise ValueError(f"DistributedDataParallel: this process is not a member of {pg}")
        ignore = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        params = [p for name, p in module.named_parameters() if p.requires_grad and name not in ignore]
        if not params:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't have any parameter "
                               "that requires a gradient.")
        if broadcast_buffers is not None:
            import warnings
            warnings.warn("`broadcast_buffers` is deprecated: use `forward_sync_buffers` (which leaves the "
                          "synchronisation at construction on).", FutureWarning, stacklevel=2)
        if forward_sync_buffers is None:
            forward_sync_buffers = broadcast_buffers if broadcast_buffers is not None else True
            init_sync_buffers = forward_sync_buffers
        else:
            init_sync_buffers = True
        self.module = module
        self.process_group = pg
        self.device_ids = None
        self.output_device = None
        self.dim = dim
        self.forward_sync_buffers = forward_sync_buffers
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.static_graph = static_graph
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        cap = _DEFAULT_BUCKET_MB if bucket_cap_mb is None else bucket_cap_mb
        self.bucket_bytes_cap = int(cap * _MB)
        first = _FIRST_BUCKET_BYTES if bucket_cap_mb is None else self.bucket_bytes_cap
        self._sync_buffers = [b for name, b in module.named_buffers() if name not in ignore]
        if init_sync and pg.size() > 1:
            _verify_same_model(pg, params, self._sync_buffers)
            _broadcast_coalesced(pg, params + (self._sync_buffers if init_sync_buffers else []))
        self._reducer = _Reducer(self, pg, params, (first, self.bucket_bytes_cap))

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = value

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        sync = grad_mode.state.enabled and self.require_backward_grad_sync
        reducer = self._reducer
        if sync:
            reducer.prepare_forward()
        if self.forward_sync_buffers and self._sync_buffers and self.process_group.size() > 1:
            _broadcast_coalesced(self.process_group, self._sync_buffers)
        out = self.module(*inputs, **kwargs)
        reducer.prepare_backward(out if self.find_unused_parameters else None, sync)
        return out

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Within this context, backward only accumulates gradients locally; the first backward of a
        forward run outside it averages everything accumulated."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    def _set_static_graph(self) -> None:
        self.static_graph = True


def _verify_same_model(pg: Any, params: list, buffers: list) -> None:
    """Every rank must wrap a model with the same parameter (and buffer) shapes and dtypes."""
    mine = [(tuple(t.shape), t.dtype.name) for t in params], [(tuple(t.shape), t.dtype.name) for t in buffers]
    everyone = pg.comm.allgather(mine)
    for r, (ps, bs) in enumerate(everyone):
        if len(ps) != len(everyone[0][0]):
            raise RuntimeError(f"DDP expects same model across all ranks, but Rank {pg.ranks[r]} has {len(ps)} params, "
                               f"while rank {pg.ranks[0]} has inconsistent {len(everyone[0][0])} params.")
        for i, (a, b) in enumerate(zip(ps, everyone[0][0])):
            if a != b:
                raise RuntimeError(f"DDP expects same model across all ranks, but parameter {i} is {a[1]} {list(a[0])} "
                                   f"on rank {pg.ranks[r]} and {b[1]} {list(b[0])} on rank {pg.ranks[0]}.")
        if bs != everyone[0][1]:
            raise RuntimeError(f"DDP expects same model across all ranks, but the buffers of rank {pg.ranks[r]} "
                               f"differ from rank {pg.ranks[0]}'s: {bs} vs {everyone[0][1]}.")


def _broadcast_coalesced(pg: Any, tensors: list, root: int = 0) -> None:
    """Broadcast `tensors` from group rank `root` in place, packed by dtype into flat messages of
    at most 250 MB (one MPI call per pack rather than per tensor)."""
    from ...distributed._mpi import spec
    me = pg.rank() == root
    by_dtype: dict = {}
    for t in tensors:
        by_dtype.setdefault(t._data.dtype, []).append(t)
    for dt, group in by_dtype.items():
        start = 0
        while start < len(group):
            end, size = start, 0
            while end < len(group) and (end == start or size + group[end]._data.nbytes <= _BROADCAST_BYTES):
                size += group[end]._data.nbytes
                end += 1
            pack = group[start:end]
            flat = np.concatenate([t._data.reshape(-1) for t in pack]) if me else \
                np.empty(sum(t._data.size for t in pack), dt)
            pg.comm.Bcast(spec(flat), root)
            if not me:
                k = 0
                for t in pack:
                    np.copyto(t._data, flat[k:k + t._data.size].reshape(t._data.shape))
                    k += t._data.size
            start = end


class _Bucket:
    """A flat buffer holding the gradients of some parameters (`params`, indices into the reducer's
    list; parameter j at buffer[offsets[j]:offsets[j + 1]]) and its all-reduce in flight."""

    __slots__ = ("params", "offsets", "buffer", "pending", "request")

    def __init__(self, params: list, offsets: list, buffer: np.ndarray) -> None:
        self.params, self.offsets, self.buffer = params, offsets, buffer
        self.pending = len(params)  # gradients still missing in this iteration
        self.request = None


class _Reducer:
    """The bookkeeping behind DistributedDataParallel's backward (PyTorch's Reducer)."""

    def __init__(self, ddp: DistributedDataParallel, pg: Any, params: list, caps: tuple) -> None:
        from ...distributed._mpi import ReduceOp, reduction
        self.pg = pg
        self.params = params
        self.caps = caps
        self.ddp = weakref.ref(ddp)  # the hooks must not keep the wrapper alive
        self.size = pg.size()
        self.reductions = {p._dtype: reduction(ReduceOp.SUM, p._dtype, "DistributedDataParallel") for p in params}
        self.build(list(range(len(params))), reverse=True)
        self.expect = False  # the hooks reduce in this backward
        self.started = False  # a gradient has arrived since prepare_backward
        self.unused: list = []  # find_unused_parameters: marked ready when the first gradient arrives
        self.ready = np.zeros(len(params), bool)
        self.used = np.zeros(len(params), np.int32)
        # the order gradients arrive in during the first synced backward: the buckets are rebuilt by it
        self.order: list | None = None if ddp.find_unused_parameters else []
        self.next_bucket = 0
        ref = weakref.ref(self)
        self.handles = [p.register_post_accumulate_grad_hook(lambda t, i=i, ref=ref: _fire(ref, i, t))
                        for i, p in enumerate(params)]

    def __del__(self) -> None:
        for h in getattr(self, "handles", ()):  # a new wrapper around the same model starts clean
            h.remove()

    def build(self, order: list, reverse: bool = False) -> None:
        """Fill buckets with the parameters in `order`, by dtype, up to the byte caps (the first bucket
        formed uses the first cap). `reverse` then reverses the bucket list: built from the forward
        order it puts the gradients backward produces first into bucket 0."""
        open_: dict = {}
        groups = []
        for i in order:
            p = self.params[i]
            dt = self.reductions[p._dtype].wide or p._data.dtype
            g = open_.get(dt)
            if g is None:
                g = open_[dt] = [[], 0, self.caps[0] if not groups else self.caps[1], dt]
                groups.append(g)
            g[0].append(i)
            g[1] += p._data.size * np.dtype(dt).itemsize
            if g[1] >= g[2]:
                del open_[dt]
        if reverse:
            groups.reverse()
        self.buckets = []
        self.index = {}
        for k, (idx, _, _, dt) in enumerate(groups):
            offsets = np.cumsum([0] + [self.params[i]._data.size for i in idx]).tolist()
            self.buckets.append(_Bucket(idx, offsets, np.zeros(offsets[-1], dt)))
            for j, i in enumerate(idx):
                self.index[i] = (k, j)

    # -- per iteration ---------------------------------------------------------
    def prepare_forward(self) -> None:
        if self.started and self.next_bucket < len(self.buckets):
            missing = " ".join(str(i) for i in np.flatnonzero(~self.ready))
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a new one. This error "
                "indicates that your module has parameters that were not used in producing loss. Pass "
                "find_unused_parameters=True to DistributedDataParallel to allow that, and make sure every output "
                "of forward takes part in the loss. Parameter indices which did not receive grad for rank "
                f"{self.pg.ranks[self.pg.rank()]}: {missing}")
        if self.order:
            # without find_unused_parameters every rank saw every gradient arrive; rank 0's order wins
            order = self.pg.comm.bcast(self.order, 0) if self.size > 1 else self.order
            self.order = None
            if sorted(order) == list(range(len(self.params))):
                self.build(order)

    def prepare_backward(self, outputs: Any, sync: bool) -> None:
        in_flight = [b.request for b in self.buckets if b.request is not None]
        if in_flight:  # reductions of an iteration whose backward never finished
            from ...distributed._mpi import mpi
            mpi().Request.Waitall(in_flight)
        self.expect = sync
        self.started = False
        self.ready[:] = False
        self.used[:] = 0
        self.next_bucket = 0
        for b in self.buckets:
            b.pending = len(b.params)
            b.request = None
        self.unused = []
        if sync and outputs is not None:  # find_unused_parameters
            reached = _reachable_leaf_nodes(outputs)
            self.unused = [i for i, p in enumerate(self.params) if p._acc is None or p._acc not in reached]

    def mark_ready(self, i: int, p: Any) -> None:
        """Parameter i's gradient is final for this backward (p is None: it gets none, reduce zeros)."""
        if self.ready[i]:
            raise RuntimeError(f"Expected to mark a variable ready only once. Parameter {i} received its gradient "
                               "twice in one iteration (a second backward through the same forward, or reentrant "
                               "backward), which DistributedDataParallel does not support.")
        if p is not None and not self.started:
            self.started = True
            for u in self.unused:  # in backward, not forward, so every rank starts its buckets in step
                self.mark_ready(u, None)
        self.ready[i] = True
        k, j = self.index[i]
        b = self.buckets[k]
        view = b.buffer[b.offsets[j]:b.offsets[j + 1]]
        if p is None:
            view[...] = 0
        else:
            self.used[i] = 1
            if self.order is not None:
                self.order.append(i)
            if self.size > 1:  # (one process: its gradient is the average already and stays where it is)
                g = p._grad._data
                np.multiply(g, 1.0 / self.size, out=view.reshape(g.shape), casting="unsafe")  # averaged on copy
        b.pending -= 1
        self.launch_ready()

    def launch_ready(self) -> None:
        """Start the all-reduce of every full bucket, in bucket order (the same on every rank)."""
        from ...distributed._mpi import mpi, spec
        MPI = mpi()
        buckets = self.buckets
        while self.next_bucket < len(buckets) and buckets[self.next_bucket].pending == 0:
            b = buckets[self.next_bucket]
            if self.size > 1:
                op = self.reductions[self.params[b.params[0]]._dtype].op
                b.request = self.pg.comm.Iallreduce(MPI.IN_PLACE, spec(b.buffer), op)
            self.next_bucket += 1
            if self.next_bucket == len(buckets):
                from ...autograd.engine import queue_callback
                queue_callback(self.finalize)
        if self.next_bucket and self.size > 1:  # MPI advances reductions in flight only inside its calls
            MPI.Request.Testall([b.request for b in buckets[:self.next_bucket]])

    def finalize(self) -> None:
        """End of backward: wait for every bucket, then write the averages into `.grad`."""
        from ...distributed import _faults
        from ...distributed._mpi import mpi
        MPI = mpi()
        ddp = self.ddp()
        find_unused = ddp is not None and ddp.find_unused_parameters
        as_view = ddp is not None and ddp.gradient_as_bucket_view
        if self.size > 1:
            with _faults.watch("DistributedDataParallel gradient all-reduce", self.pg.timeout.total_seconds()):
                MPI.Request.Waitall([b.request for b in self.buckets])
                used = self.used
                if find_unused:  # a parameter any rank used gets the average
                    used = used.copy()
                    self.pg.comm.Allreduce(MPI.IN_PLACE, used, MPI.MAX)
            for b in self.buckets:
                b.request = None
                for j, i in enumerate(b.params):
                    if used[i]:
                        _write_grad(self.params[i], b.buffer[b.offsets[j]:b.offsets[j + 1]], as_view)
        self.expect = False
        self.started = False


def _write_grad(p: Any, avg: np.ndarray, as_view: bool) -> None:
    avg = avg.reshape(p._data.shape)
    g = p._grad
    if as_view and avg.dtype == p._data.dtype:
        if g is None or g._data is not avg:
            p._grad = Tensor._make(avg, p._dtype)
    elif g is None:
        p._grad = Tensor._make(avg.astype(p._data.dtype, copy=True), p._dtype)
    else:
        np.copyto(g._data, avg, casting="unsafe")
        g._version[0] += 1


def _fire(ref: Any, i: int, p: Any) -> None:
    r = ref()
    if r is not None and r.expect:
        r.mark_ready(i, p)


def _reachable_leaf_nodes(outputs: Any) -> set:
    """The AccumulateGrad nodes the tensors in `outputs` (nested in tuples, lists, dicts) depend on."""
    stack, seen, leaves = [], set(), set()
    todo = [outputs]
    while todo:
        o = todo.pop()
        if isinstance(o, Tensor):
            node = o._grad_edge()[0] if o._requires_grad else None
            if node is not None:
                stack.append(node)
        elif isinstance(o, (list, tuple)):
            todo.extend(o)
        elif isinstance(o, dict):
            todo.extend(o.values())
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if not node.next_functions:
            leaves.add(node)
        for child, _ in node.next_functions:
            if child is not None and child not in seen:
                stack.append(child)
    return leaves
