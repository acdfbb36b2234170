"""In-place ops (`add_`, `mul_`, `x[i] = v`, ...): one mechanism for all of them.

Without a graph to record, the result is written straight into the tensor's
memory. With one, the op runs out of place on a snapshot of the old values (so
rules that saved them stay correct), the result is copied into the tensor's
memory and the version counter is bumped, so a rule that saved the tensor itself
raises instead of using overwritten values. A tensor that is a view of another
rebases its base's graph through CopySlices, as PyTorch does.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node, move_retain, refresh_view
from ._core import (REGISTRY, _fw_levels, _make, _state, fw_inplace, fw_of, grad_needed, has_fw, record, record_graph,
                    snapshot_tangents)
from ._core import _vmap_levels, is_batched, vmap_rule
from .elementwise import cap_name


def _any_requires_grad(args: tuple, kwargs: dict) -> bool:
    for a in args:
        if isinstance(a, Tensor) and a._requires_grad:
            return True
    for a in kwargs.values():
        if isinstance(a, Tensor) and a._requires_grad:
            return True
    return False


def _write(self: Tensor, res: Tensor) -> None:
    if res._dtype is not self._dtype and not D.can_cast(res._dtype, self._dtype):
        raise RuntimeError(f"result type {cap_name(res._dtype)} can't be cast to the desired output type "
                           f"{cap_name(self._dtype)}")
    if res._data.shape != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(res._data.shape)}")
    if not self._data.flags.writeable:
        raise RuntimeError("unsupported operation: more than one element of the written-to tensor refers to a "
                           "single memory location. Please clone() the tensor before performing the operation.")
    np.copyto(self._data, res._data, casting="unsafe")


def apply_inplace(self: Tensor, fn: Callable, *args: Any, **kwargs: Any) -> Tensor:
    """Run `fn(self, *args)` and store its result in self's memory, keeping autograd right."""
    if _vmap_levels and (is_batched(self, *args) or is_batched(*kwargs.values())):
        return vmap_rule("inplace", apply_inplace, self, fn, *args, **kwargs)
    if self._extra is not None and self._extra != self._version[0]:
        refresh_view(self)
    tracking = _state.enabled and (self._requires_grad or _any_requires_grad(args, kwargs))
    fw = _fw_levels and (has_fw(self) or has_fw(*args, *kwargs.values()))
    if not tracking:
        res = fn(self, *args, **kwargs)
        _write(self, res)
        self._version[0] += 1
        if fw:
            fw_inplace(self, res)
        return self
    base = self._base
    if self.grad_fn is None and self._requires_grad:
        if base is not None:
            raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                               "operation.")
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    if base is not None and base.grad_fn is None and base._requires_grad:
        raise RuntimeError("a view of a leaf Variable that requires grad is being used in an in-place "
                           "operation.")
    snap = _make(self._data.copy(), self._dtype, self._requires_grad)
    snap.grad_fn = self.grad_fn
    snap._output_nr = self._output_nr
    if self._requires_grad and self.grad_fn is None:
        snap._acc = self._grad_edge()[0]
    if fw and fw_of(self):
        snap._fw = snapshot_tangents(self)  # the old tangents, for rules that saved the old value
    res = fn(snap, *args, **kwargs)
    _write(self, res)
    self._version[0] += 1
    if fw:
        fw_inplace(self, res)
    if not res._requires_grad:
        return self
    if base is None:
        old_fn = self.grad_fn
        self.grad_fn = res.grad_fn
        self._output_nr = res._output_nr
        self._requires_grad = True
        if self._retains_grad:
            move_retain(self, old_fn)
        return self
    _rebase_view(self, base, res)
    return self


# ---------------------------------------------------------------------------
# views: route the in-place result through the base (CopySlices)
# ---------------------------------------------------------------------------
def _view_positions(base: np.ndarray, view: np.ndarray) -> np.ndarray:
    """For each element of `view`, its flat (C-order) index in `base`."""
    item = base.itemsize
    b0 = base.__array_interface__["data"][0]
    v0 = view.__array_interface__["data"][0]
    view_off = np.full(view.shape, v0 - b0, np.int64)
    for ax, st in enumerate(view.strides):
        shp = [1] * view.ndim
        shp[ax] = view.shape[ax]
        view_off = view_off + (np.arange(view.shape[ax], dtype=np.int64) * st).reshape(shp)
    if base.flags.c_contiguous:  # the common case: byte offset / itemsize is the flat index
        return view_off // item
    base_off = np.zeros(base.shape, np.int64)
    for ax, st in enumerate(base.strides):
        shp = [1] * base.ndim
        shp[ax] = base.shape[ax]
        base_off = base_off + (np.arange(base.shape[ax], dtype=np.int64) * st).reshape(shp)
    flat_off = base_off.reshape(-1)
    order = np.argsort(flat_off)
    pos = np.searchsorted(flat_off[order], view_off)
    return order[pos]


class CopySlices(Node):
    """The base's new grad_fn after an in-place op on one of its views. It only rewires the graph:
    the tangents (forward-mode AD) of base and view are written by fw_inplace, so no JVP rule."""
    __slots__ = ("positions", "base_shape")

    def name(self) -> str:
        return "torch::autograd::CopySlices"  # PyTorch's name() for its C++ node

    def backward(self, g: Tensor) -> tuple:
        from .indexing import _put_value, getitem
        flat = g.reshape(-1)
        key = (self.positions.reshape(-1),)
        g_base = _put_value(flat, key, True, 0).reshape(self.base_shape)
        g_view = getitem(flat, None, _normed=(key, True)).reshape(self.positions.shape)
        return g_base, g_view


class AsStridedBackward0(Node):
    """grad_fn of a view whose base was rebased: the view's gradient scattered into the base (graph
    rewiring only, like CopySlices: a view's tangent is a view of its base's)."""
    __slots__ = ("positions", "base_shape")

    def backward(self, g: Tensor) -> tuple:
        from .indexing import _scatter_into_zeros
        flat = _scatter_into_zeros(g.reshape(-1), (self.positions.reshape(-1),), (int(np.prod(self.base_shape)),),
                                   True)
        return (flat.reshape(self.base_shape),)


def _rebase_view(view: Tensor, base: Tensor, res: Tensor) -> None:
    pos = _view_positions(base._data, view._data)
    old_base_fn, old_view_fn = base.grad_fn, view.grad_fn
    node = CopySlices()
    node.positions, node.base_shape = pos, base._data.shape
    res_flat = res  # gradient for the op's result arrives in the view's shape
    record_graph(node, base, (base, res_flat))
    base._output_nr = 0
    vnode = AsStridedBackward0()
    vnode.positions, vnode.base_shape = pos, base._data.shape
    record_graph(vnode, view, (base,))
    view._output_nr = 0
    view._extra = view._version[0]
    if base._retains_grad:
        move_retain(base, old_base_fn)
    if view._retains_grad:
        move_retain(view, old_view_fn)


# ---------------------------------------------------------------------------
# the in-place methods
# ---------------------------------------------------------------------------
def make_inplace(fn: Callable, name: str) -> Callable:
    """A Tensor method `name` that applies `fn` in place through apply_inplace."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        return apply_inplace(self, fn, *args, **kwargs)
    method.__name__ = name
    method.__doc__ = f"In-place version of {fn.__name__}."
    return method


def make_view_inplace(name: str) -> Callable:
    """`t_`, `transpose_`, `squeeze_`, `unsqueeze_`: self takes the shape of the registered view op `name`
    (a metadata change: no data is written, so the version counter stays)."""
    def method(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
        if self._requires_grad and self.grad_fn is None and _state.enabled:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        res = REGISTRY[name][0](self, *args, **kwargs)
        self._data = res._data
        if res._fw is not None:
            self._fw = res._fw
        if res.grad_fn is not None:
            self.grad_fn, self._output_nr = res.grad_fn, res._output_nr
        return self
    method.__name__ = name + "_"
    return method


def _fill(input: Tensor, value: Any) -> Tensor:
    if _vmap_levels and is_batched(input, value):
        return vmap_rule("elementwise", _fill, input, value)
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with "
                               f"{value._data.ndim} dimensions.")
        return value.to(input._dtype).expand(input._data.shape) + input * 0 if grad_needed(value) else \
            _fill(input, value._data.item())
    res = _make(np.full(input._data.shape, value, input._dtype.np), input._dtype)
    if grad_needed(input):
        record(_FillBackward(), res, (input,))
    return res


class _FillBackward(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (g * 0,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0] * 0


_FillBackward.__name__ = "FillBackward0"


def _zero(input: Tensor) -> Tensor:
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", _zero, input)
    res = _make(np.zeros(input._data.shape, input._dtype.np), input._dtype)
    if grad_needed(input):
        n = _FillBackward()
        record(n, res, (input,))
    return res


class CopyBackwards(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return g * 0, g

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        t = ts[1]
        if t is None:
            return ts[0] * 0
        if t._dtype.category == 3 and out._dtype.category < 3:
            t = t.real
        return t.to(out._dtype).expand(out.shape)


def _copy(input: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    if _vmap_levels and is_batched(input, src):
        return vmap_rule("elementwise", _copy, input, src, non_blocking)
    if not isinstance(src, Tensor):
        from .._creation import tensor
        src = tensor(src)
    try:
        arr = np.broadcast_to(src._data, input._data.shape)
    except ValueError:
        raise RuntimeError(f"The size of tensor a ({input._data.shape[-1] if input._data.ndim else 1}) must match "
                           f"the size of tensor b ({src._data.shape[-1] if src._data.ndim else 1}) at "
                           f"non-singleton dimension {max(input._data.ndim - 1, 0)}") from None
    if src._dtype.category == 3 and input._dtype.category < 3:
        arr = arr.real
    res = _make(arr.astype(input._dtype.np), input._dtype)
    if grad_needed(input, src):
        record(CopyBackwards(), res, (input, src))
    return res


Tensor.fill_ = make_inplace(_fill, "fill_")
Tensor.zero_ = make_inplace(_zero, "zero_")
Tensor.copy_ = make_inplace(_copy, "copy_")
