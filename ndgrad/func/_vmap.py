"""vmap: run a function written for one example on a whole batch, as batched NumPy calls.

Inside vmap a function sees BatchedTensors. A BatchedTensor wraps an ordinary tensor, its physical
value `_p`, whose leading dims are batch dims, one per vmap level it is batched at (outermost level
first); the function sees the remaining (logical) dims. An op with a batching rule
(ndgrad.func._batching) turns its call on BatchedTensors into one call of the same op on the
physical values (batch dims moved to the front and the op's dim arguments shifted past them, or
folded into the op's own batch dim), so autograd and forward-mode AD simply record on the physical
values. An op without a rule raises an error naming it: a BatchedTensor's `_data` is a metadata
array of the logical shape that refuses to be computed with.

Reverse and forward transforms inside vmap (vmap(grad(f)), vmap(jvp(...))) work on the physical
values too; their inputs are first given every batch level of the call (an unbatched parameter is
expanded over the batch, so that each example gets its own gradient).
"""
from __future__ import annotations

import functools
import itertools
import sys
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ..autograd import grad_mode
from ..ops import _core
from ._tree import broadcast_prefix, tree_flatten, tree_unflatten

_levels = grad_mode.vmap_levels  # active level ids, outermost first
_INFO: dict = {}  # level id -> (batch size, randomness)
_ids = itertools.count(1)


# ---------------------------------------------------------------------------
# the metadata array a BatchedTensor shows as `_data`
# ---------------------------------------------------------------------------
def _op_name() -> str:
    """The innermost public ndgrad function on the stack (the op that has no batching rule)."""
    f = sys._getframe(2)
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        name = f.f_code.co_name
        if mod.startswith("ndgrad.") and not mod.startswith("ndgrad.func") and not name.startswith("_") \
                and name not in ("wrapper", "op", "method", "wrapped", "<lambda>"):
            return name
        f = f.f_back
    return "this operation"


def no_rule(name: str | None = None) -> None:
    name = name or _op_name()
    raise _core.NoBatchingRule(f"vmap: there is no batching rule for {name}, so it cannot run on a batched tensor "
                               "inside vmap. Call it outside vmap, or loop over the examples.")


class _Flags:
    c_contiguous = True
    writeable = False
    owndata = False

    def __init__(self, nd: int) -> None:
        self.f_contiguous = nd <= 1


class _Meta:
    """Stands in for a BatchedTensor's `_data`: the shape, dtype and (contiguous) strides of its
    logical value, and nothing else. It is not an array: NumPy cannot read values from it, so a
    kernel handed a batched tensor by an op without a batching rule raises (naming the op) instead
    of computing garbage."""

    __slots__ = ("shape", "dtype")
    __array_priority__ = 10000

    def __init__(self, shape: tuple, dtype: Any) -> None:
        self.shape, self.dtype = tuple(shape), np.dtype(dtype)

    ndim = property(lambda self: len(self.shape))
    size = property(lambda self: int(np.prod(self.shape, dtype=np.int64)))
    itemsize = property(lambda self: self.dtype.itemsize)
    nbytes = property(lambda self: self.size * self.dtype.itemsize)
    flags = property(lambda self: _Flags(len(self.shape)))

    @property
    def strides(self) -> tuple:
        out, acc = [], self.dtype.itemsize
        for n in reversed(self.shape):
            out.append(acc)
            acc *= max(n, 1)
        return tuple(reversed(out))

    def __len__(self) -> int:
        if not self.shape:
            raise TypeError("len() of unsized object")
        return self.shape[0]

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.shape:
            return self.shape
        if func is np.ndim:
            return len(self.shape)
        if func is np.size and len(args) == 1 and not kwargs:
            return self.size
        no_rule()

    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        no_rule()

    def __array_ufunc__(self, *args: Any, **kwargs: Any) -> Any:
        no_rule()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        no_rule()

    def _refuse(self, *args: Any, **kwargs: Any) -> Any:
        no_rule()

    __getitem__ = __setitem__ = __iter__ = __bool__ = __float__ = __int__ = __index__ = __complex__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _refuse
    __neg__ = __pow__ = __rpow__ = __matmul__ = __rmatmul__ = __lt__ = __le__ = __gt__ = __ge__ = _refuse
    __and__ = __or__ = __xor__ = __invert__ = __abs__ = __floordiv__ = __mod__ = __eq__ = __ne__ = _refuse


def _meta(shape: tuple, dtype: Any) -> _Meta:
    return _Meta(shape, dtype)


# ---------------------------------------------------------------------------
# BatchedTensor
# ---------------------------------------------------------------------------
_NOT_IN_VMAP = {
    "item": "vmap: It looks like you're calling .item() on a Tensor. We don't support vmap over calling .item() on "
            "a Tensor, please try to rewrite what you're doing with other operations.",
    "flow": "vmap: It looks like you're attempting to use a Tensor in some data-dependent control flow. We don't "
            "support that yet, please rewrite it with ndgrad.where or other tensor operations.",
}


class BatchedTensor(Tensor):
    """The tensor a function sees inside vmap: one example of the batch (see the module docstring)."""

    _batched = True

    @property
    def _data(self) -> Any:  # type: ignore[override]
        m = self.__dict__.get("_m")
        if m is None:
            p = self.__dict__["_p"]
            m = self.__dict__["_m"] = _meta(p._data.shape[len(self.__dict__["_lv"]):], p._data.dtype)
        return m

    @property
    def requires_grad(self) -> bool:  # type: ignore[override]
        return self._p.requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._p.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "BatchedTensor":
        self._p.requires_grad_(requires_grad)
        return self

    @property
    def grad(self) -> Any:  # type: ignore[override]
        return None

    @property
    def data(self) -> "BatchedTensor":  # type: ignore[override]
        return wrap(self._p.data, self._lv)

    def detach(self) -> "BatchedTensor":
        return wrap(self._p.detach(), self._lv)

    def backward(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("backward() called inside a functorch transform. This is not supported, please use "
                           "ndgrad.func.grad or ndgrad.func.vjp instead or call backward() outside of the transforms.")

    def item(self) -> Any:
        raise RuntimeError(_NOT_IN_VMAP["item"])

    tolist = numpy = item

    def _scalar_check(self, kind: str) -> Any:
        raise RuntimeError(_NOT_IN_VMAP["flow"])

    def __index__(self) -> int:
        raise RuntimeError(_NOT_IN_VMAP["flow"])

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        raise RuntimeError("vmap: a BatchedTensor cannot be converted to a NumPy array inside vmap")

    def __repr__(self, **kwargs: Any) -> str:
        lv = self._lv
        body = repr(self._p).replace("\n", "\n    ")
        return f"BatchedTensor(lvl={lv[-1]}, bdim={len(lv) - 1}, value=\n    {body}\n)"

    def __deepcopy__(self, memo: dict) -> Any:
        raise RuntimeError("vmap: a BatchedTensor cannot be copied inside vmap")

    def __reduce_ex__(self, proto: int) -> Any:
        raise RuntimeError("vmap: a BatchedTensor cannot be pickled")


def wrap(p: Any, levels: tuple) -> Any:
    """A BatchedTensor over physical value `p` (leading dims: the batch dims of `levels`), or `p`
    itself when levels is empty (or p is not a tensor)."""
    if not levels or not isinstance(p, Tensor):
        return p
    t = object.__new__(BatchedTensor)
    t._dtype = p._dtype
    t._requires_grad = False
    t.grad_fn = None
    t._grad = None
    t._version = p._version
    t._base = None
    t._acc = None
    t._output_nr = 0
    t._retains_grad = False
    t._extra = None
    d = t.__dict__
    d["_p"] = p
    d["_lv"] = tuple(levels)
    return t


def levels_of(*ts: Any) -> tuple:
    """The sorted union of the levels these operands are batched at."""
    s: set = set()
    for t in ts:
        if getattr(t, "_batched", False):
            s.update(t._lv)
    return tuple(sorted(s))


def sizes(levels: tuple) -> tuple:
    return tuple(_INFO[lv][0] for lv in levels)


def phys(t: Any, levels: tuple, nd: int | None = None, expand: bool = False) -> Any:
    """t's physical value laid out for `levels` (a superset of its own): one leading dim per level (size 1
    where t is not batched at it, or the batch size with expand), then its logical dims, padded on the
    left with 1s to `nd` logical dims. A non-tensor is returned as it is."""
    if not isinstance(t, Tensor):
        return t
    if t._batched:
        p, own = t._p, t._lv
    else:
        p, own = t, ()
    shape = p._data.shape
    lshape = shape[len(own):]
    pad = (nd - len(lshape)) if nd is not None and nd > len(lshape) else 0
    if own == levels and not pad:
        return p
    if not levels and not pad:
        return p
    new = []
    i = 0
    for lv in levels:
        if i < len(own) and own[i] == lv:
            new.append(shape[i])
            i += 1
        else:
            new.append(1)
    target = tuple(new) + (1,) * pad + lshape
    q = p.reshape(target) if target != shape else p
    if expand and any(a != b for a, b in zip(new, sizes(levels))):
        q = q.expand(sizes(levels) + (1,) * pad + lshape)
    return q


def rel(t: Any, S: tuple) -> Any:
    """t seen at levels S: the batch dims of S (expanded where t is not batched at them) become its
    leading logical dims; its other levels stay batch levels."""
    if not isinstance(t, Tensor):
        return t
    own = t._lv if t._batched else ()
    allv = tuple(sorted(set(own) | set(S)))
    p = phys(t, allv, expand=True)
    R = tuple(lv for lv in allv if lv not in S)
    order = [allv.index(lv) for lv in R] + [allv.index(lv) for lv in S]
    if order != list(range(len(allv))):
        p = p.permute(order + list(range(len(allv), p.dim())))
    return wrap(p, R)


def absol(t: Any, S: tuple) -> Any:
    """The inverse of rel: t's leading logical dims are the batch dims of levels S."""
    if not isinstance(t, Tensor) or not S:
        return t
    R, p = (t._lv, t._p) if t._batched else ((), t)
    allv = tuple(sorted(set(R) | set(S)))
    cur = list(R) + list(S)
    order = [cur.index(lv) for lv in allv]
    if order != list(range(len(allv))):
        p = p.permute(order + list(range(len(allv), p.dim())))
    return wrap(p, allv)


# ---------------------------------------------------------------------------
# hooks for ops/_core, forward-mode AD, the reverse transforms and random sampling
# ---------------------------------------------------------------------------
def _loop(op: Callable, args: tuple) -> Any:
    from ._batching import loop
    return loop(op, args, {})


def _tangent_at(t: Any, level: int) -> Any:
    pt = _core.tangent_at(t._p, level)
    return None if pt is None else absol(pt, t._lv)


def _set_tangent(t: Any, level: int, tan: Any) -> None:
    _core.set_tangent(t._p, level, rel(tan, t._lv))


def _mirror(view: Tensor, base: Tensor, level: int) -> Any:
    """The tangent of `view` at `level` when its base's tangent there is batched: the same view of
    every example's tangent, sharing the base tangent's memory (so that an in-place op on the view's
    tangent shows in the base's). The base's tangent is first given a contiguous physical value
    laid out like the base when it has another layout; where the view cannot be expressed as
    strides (a negative stride), its values, unlinked."""
    from ..ops.shape import as_view
    bt = base._fw[level]
    p, lv = bt._p, bt._lv
    nb = len(lv)
    b, v = base._data, view._data
    off = v.__array_interface__["data"][0] - b.__array_interface__["data"][0]
    linkable = b.flags.c_contiguous and off >= 0 and all(st >= 0 for st in v.strides)
    if linkable and not (p._data.flags.c_contiguous and p._data.flags.writeable) and not p._requires_grad:
        p = Tensor._make(np.ascontiguousarray(p._data), p._dtype)
        base._fw[level] = bt = wrap(p, lv)
    arr = p._data
    if linkable and arr.flags.c_contiguous:
        varr = np.ndarray(arr.shape[:nb] + v.shape, arr.dtype, buffer=arr, offset=off,
                          strides=arr.strides[:nb] + v.strides)
        return wrap(as_view(p, varr), lv)
    from ..ops.inplace import _view_positions
    pos = _view_positions(b, v)
    return wrap(p.reshape(tuple(arr.shape[:nb]) + (-1,))[(slice(None),) * nb + (Tensor._make(pos, D.int64),)], lv)


def _promote(t: Tensor, level: int, tr: Any) -> Any:
    """t's tangent at `level`, made batched at tr's levels too (an in-place op is about to write the
    batched tangent tr into it): the tangent of t's base (or of t) is replaced by a copy with those
    batch dims, and t's tangent becomes the matching view of it."""
    owner = t._base if t._base is not None else t
    old = _core.tangent_at(owner, level)
    if old is None:
        old = Tensor._make(np.zeros_like(owner._data), owner._dtype)
    levels = tuple(sorted(set(levels_of(old)) | set(tr._lv)))
    owner._fw[level] = wrap(phys(old, levels, expand=True).clone(), levels)
    if owner is t:
        return owner._fw[level]
    tan = _mirror(t, owner, level)
    t._fw[level] = tan
    return tan


def random_levels() -> tuple:
    """The levels a random sample inside vmap is drawn per example for ('different'); an error in
    'error' mode, as PyTorch."""
    if any(_INFO[lv][1] == "error" for lv in _levels):
        raise RuntimeError("vmap: called random operation while in randomness error mode. Please either use the "
                           "'same' or 'different' randomness flags on vmap or perform the randomness operation out "
                           "of vmap")
    return tuple(lv for lv in _levels if _INFO[lv][1] == "different")


_core.VMAP.update(no_rule=no_rule, loop=_loop, mirror=_mirror, promote=_promote, tangent_at=_tangent_at,
                  set_tangent=_set_tangent, wrap=wrap, sizes=sizes, random_levels=random_levels)


# ---------------------------------------------------------------------------
# vmap
# ---------------------------------------------------------------------------
def _fname(func: Callable) -> str:
    return getattr(func, "__name__", repr(func))


def add_level(x: Tensor, dim: int, lv: int) -> BatchedTensor:
    """x batched at the new (innermost) level lv along its logical dim `dim`."""
    own, p = (x._lv, x._p) if x._batched else ((), x)
    d = len(own) + dim
    if d != len(own):
        p = p.movedim(d, len(own))
    return wrap(p, own + (lv,))


def remove_level(o: Any, lv: int, od: Any, n: int, fname: str) -> Any:
    """Output o of the function with level lv's batch dim moved to logical dim `od` (or broadcast there
    when o is not batched at lv)."""
    if not isinstance(o, Tensor):
        if od is None:
            return o
        raise ValueError(f"vmap({fname}, ...): `{fname}` must only return Tensors, got type {type(o)}. Did you mean "
                         "to set out_dims= to None for output?")
    own = o._lv if o._batched else ()
    if lv not in own:
        if od is None:
            return o
        d = _wrap_dim(od, o.dim() + 1)
        shape = list(o.shape)
        shape.insert(d, n)
        return o.unsqueeze(d).expand(shape)
    if od is None:
        raise ValueError(f"vmap({fname}, ...): `{fname}` returned a tensor batched over the vmapped dimension, "
                         "but out_dims is None for it")
    i = own.index(lv)
    d = _wrap_dim(od, o.dim() + 1)
    p = o._p
    target = len(own) - 1 + d
    if i != target:
        p = p.movedim(i, target)
    return wrap(p, own[:i] + own[i + 1:])


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """Vectorise `func` over a dim of its inputs: in_dims says which dim of each input is the batch dim
    (None: not batched; a nested structure matching the inputs), out_dims where the batch dim goes in
    each output. randomness: 'error' (random ops raise), 'same' (one draw for the whole batch) or
    'different' (one per example). chunk_size runs the batch that many examples at a time."""
    if randomness not in ("error", "different", "same"):
        raise RuntimeError(f"Only allowed values for randomness are 'error', 'different', or 'same'. Got {randomness}")
    if chunk_size is not None and (not isinstance(chunk_size, int) or chunk_size < 1):
        raise ValueError(f"vmap: chunk_size should be None or greater than 0. (got {chunk_size})")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return _vmap_call(func, in_dims, out_dims, randomness, chunk_size, args, kwargs)
    return wrapped


def _vmap_call(func: Callable, in_dims: Any, out_dims: Any, randomness: str, chunk_size: int | None, args: tuple,
               kwargs: dict) -> Any:
    fname = _fname(func)
    where = f"vmap({fname}, in_dims={in_dims}, ...)(<inputs>)"
    if not isinstance(in_dims, (int, tuple)) or isinstance(in_dims, bool):
        raise ValueError(f"{where}: expected `in_dims` to be int or a (potentially nested) tuple matching the "
                         f"structure of inputs, got: {type(in_dims)}.")
    flat, spec = tree_flatten(args)
    dims = [in_dims] * len(flat) if isinstance(in_dims, int) else broadcast_prefix(in_dims, args, "in_dims")
    if dims is None:
        raise ValueError(f"{where}: in_dims is not compatible with the structure of `inputs`. in_dims has structure "
                         f"{tree_flatten(in_dims)[1]} but inputs has structure {spec}.")
    n = None
    found = []
    for x, d in zip(flat, dims):
        if d is None:
            continue
        if not isinstance(d, int):
            raise ValueError(f"{where}: in_dims must be ints or None, got {type(d)}")
        if not isinstance(x, Tensor):
            raise ValueError(f"{where}: Got in_dim={d} for an input but the input is of type {type(x)}. We cannot "
                             "vmap over non-Tensor arguments, please use None as the respective in_dim")
        nd = x.dim()
        if not -nd <= d < nd:
            raise ValueError(f"{where}: Got in_dim={d} for some input, but that input is a Tensor of dimensionality "
                             f"{nd} so expected in_dim to satisfy -{nd} <= in_dim < {nd}.")
        found.append(x.shape[d])
    if not found:
        raise ValueError(f"{where}: at least one input must be a Tensor with a mapped dimension (in_dims other than "
                         "None)")
    if len(set(found)) > 1:
        raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped dimension, got sizes "
                         f"{found} for the mapped dimension")
    n = found[0]
    dims = [None if d is None else d % x.dim() for x, d in zip(flat, dims)]
    if chunk_size is None or chunk_size >= n:
        return _run(func, flat, spec, dims, n, out_dims, randomness, args, kwargs, fname)
    # chunks of the batch, one vmap each, outputs concatenated along out_dims
    parts = []
    for start in range(0, n, chunk_size):
        m = min(chunk_size, n - start)
        sub = [x.narrow(d, start, m) if d is not None else x for x, d in zip(flat, dims)]
        parts.append(_run(func, sub, spec, dims, m, out_dims, randomness, args, kwargs, fname))
    o_flat, o_spec = tree_flatten(parts[0])
    ods = _out_dims(out_dims, parts[0], fname)
    from ..ops.shape import cat
    cols = []
    for i, od in enumerate(ods):
        pieces = [tree_flatten(p)[0][i] for p in parts]
        cols.append(pieces[0] if od is None else cat(pieces, od))
    return tree_unflatten(cols, o_spec)


def _out_dims(out_dims: Any, out: Any, fname: str) -> list:
    o_flat = tree_flatten(out)[0]
    if isinstance(out_dims, int) or out_dims is None:
        return [out_dims] * len(o_flat)
    ods = broadcast_prefix(out_dims if isinstance(out_dims, tuple) else (out_dims,),
                           out if isinstance(out, tuple) else (out,), "out_dims")
    if ods is None:
        raise ValueError(f"vmap({fname}, ..., out_dims={out_dims})(<inputs>): out_dims is not compatible with the "
                         f"structure of `outputs`. out_dims has structure {tree_flatten(out_dims)[1]} but outputs "
                         f"has structure {tree_flatten(out)[1]}.")
    return ods


def _run(func: Callable, flat: list, spec: Any, dims: list, n: int, out_dims: Any, randomness: str, args: tuple,
         kwargs: dict, fname: str) -> Any:
    from . import _batching  # noqa: F401  (the rules register themselves)
    lv = next(_ids)
    _INFO[lv] = (n, randomness)
    _levels.append(lv)
    try:
        batched = [add_level(x, d, lv) if d is not None else x for x, d in zip(flat, dims)]
        out = func(*tree_unflatten(batched, spec), **kwargs)
    finally:
        _levels.remove(lv)
    try:
        o_flat, o_spec = tree_flatten(out)
        ods = _out_dims(out_dims, out, fname)
        return tree_unflatten([remove_level(o, lv, od, n, fname) for o, od in zip(o_flat, ods)], o_spec)
    finally:
        _INFO.pop(lv, None)


# ---------------------------------------------------------------------------
# reverse transforms inside vmap (installed into ndgrad.func._eager)
# ---------------------------------------------------------------------------
def diff_inputs(diff: list, others: list) -> list | None:
    """The differentiable aliases of a reverse transform's inputs when vmap is active: each is given
    every level present among all the transform's arguments (so each example gets its own gradient),
    then aliased on its physical value. None when nothing is batched."""
    levels = levels_of(*diff, *others)
    if not levels:
        return None
    from ._eager import diff_input
    out = []
    for t in diff:
        p = phys(t, levels, expand=True)
        out.append(wrap(diff_input(p), levels))
    return out


def batched_grad(outs: list, ins: list, cts: list, retain_graph: bool, create_graph: bool) -> list:
    """autograd.grad for a transform inside (or around) vmap: each output and input is taken at its own
    levels (its physical value is what the graph holds); a cotangent batched at further levels makes
    the backward pass itself run batched (through the batching rules of the gradient rules)."""
    from ..autograd.engine import grad as autograd_grad
    p_outs = [o._p if o._batched else o for o in outs]
    p_ins = [i._p if i._batched else i for i in ins]
    p_cts = []
    for o, c in zip(outs, cts):
        own = o._lv if o._batched else ()
        p_cts.append(rel(c, own) if isinstance(c, Tensor) else c)
    gs = autograd_grad(p_outs, p_ins, p_cts, retain_graph=retain_graph, create_graph=create_graph,
                       allow_unused=True)
    res = []
    for i, g in zip(ins, gs):
        res.append(None if g is None else absol(g, i._lv if i._batched else ()))
    return res


def graph_tensor(t: Any) -> Any:
    """The tensor the autograd graph holds for t (its physical value inside vmap)."""
    return t._p if getattr(t, "_batched", False) else t


def is_active() -> bool:
    return bool(_levels)

