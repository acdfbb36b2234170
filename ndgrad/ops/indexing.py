"""Indexing: __getitem__ / __setitem__, gather/scatter, index_select/index_add,
masked_fill/masked_select, nonzero, take. `getitem` and `index_put` are each
other's gradient, so every kind of indexing is differentiable to any order."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import (_fw_levels, _make, _state, check_tensor, grad_needed, has_fw, out_ref, record, register, tsum,
                    wrap_dim)
from ._core import _vmap_levels, is_batched, vmap_rule
from .shape import as_view


# ---------------------------------------------------------------------------
# index normalisation
# ---------------------------------------------------------------------------
def _norm_key(key: Any) -> tuple[tuple, bool]:
    """Convert an index to a NumPy key; also report whether it is advanced indexing."""
    if not isinstance(key, tuple):
        key = (key,)
    out = []
    advanced = False
    for k in key:
        if isinstance(k, Tensor):
            if k._dtype.category >= 2:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            if k._dtype is D.uint8:
                out.append(k._data.astype(bool))
            else:
                out.append(k._data)
            advanced = True
        elif isinstance(k, (list, np.ndarray, range)):  # d2l: y_hat[range(len(y_hat)), y]
            arr = np.asarray(k)
            if arr.size == 0 and arr.dtype.kind == "f":
                arr = arr.astype(np.int64)  # x[[]] selects nothing
            if arr.dtype.kind == "f":
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
            out.append(arr)
            advanced = True
        elif k is None or k is Ellipsis or isinstance(k, slice):
            if isinstance(k, slice):
                k = slice(_int_or_none(k.start), _int_or_none(k.stop), _int_or_none(k.step))
                if k.step == 0:
                    raise ValueError("slice step cannot be zero")
                if k.step is not None and k.step < 0:
                    raise ValueError("step must be greater than zero")
            out.append(k)
        elif isinstance(k, (bool, np.bool_)):
            out.append(np.asarray(k))
            advanced = True
        elif isinstance(k, (int, np.integer)):
            out.append(int(k))
        elif isinstance(k, str):
            raise TypeError(f"new(): invalid data type '{type(k).__name__}'")
        else:
            try:
                out.append(k.__index__())
            except (AttributeError, TypeError):
                raise IndexError("only integers, slices (`:`), ellipsis (`...`), None and long or byte "
                                 "Variables are valid indices (got " + type(k).__name__ + ")") from None
    if advanced and any(type(k) is int for k in out):
        return _Split(out), advanced
    return tuple(out), advanced


class _Split(tuple):
    """A key mixing integers with index arrays. PyTorch applies the integers first (as selects)
    and only then the arrays; NumPy would treat the integers as arrays too, which moves the
    result's dims (x[0, :, [1, 2]] is 3x2 in PyTorch, 2x3 in NumPy). So such a key is applied
    in two NumPy steps: k1 (the integers, slices, None; arrays replaced by full slices) then k2."""

    def __new__(cls, key: list) -> "_Split":
        self = tuple.__new__(cls, key)
        k1, k2 = [], []
        for k in key:
            if isinstance(k, np.ndarray):
                k1.extend([slice(None)] * (k.ndim if k.dtype == bool else 1))
                k2.append(k)
            elif type(k) is int:
                k1.append(k)
            else:
                k1.append(k)
                k2.append(Ellipsis if k is Ellipsis else slice(None))
        self.k1, self.k2 = tuple(k1), tuple(k2)
        return self


def _get(arr: np.ndarray, key: tuple) -> Any:
    """arr[key] with PyTorch's meaning of the key."""
    if type(key) is _Split:
        return arr[key.k1][key.k2]
    return arr[key]


def _add_at(out: np.ndarray, key: tuple, values: Any) -> None:
    """out[key] += values, repeated indices accumulating."""
    if type(key) is _Split:
        np.add.at(out[key.k1], key.k2, values)  # out[k1] is a view: basic indexing only
    elif type(key) is tuple and len(key) == 1 and type(key[0]) is np.ndarray and key[0].ndim == 1 \
            and key[0].dtype.kind in "iu" and out.ndim >= 2 and getattr(values, "shape", None) == \
            key[0].shape + out.shape[1:] and out.dtype.kind in "fc":
        add_rows(out, key[0], values)
    else:
        np.add.at(out, key, values)


def add_rows(out: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> None:
    """out[idx[i]] += rows[i] for every i, repeated indices accumulating, as np.add.at (which takes a slow
    per-element path for whole rows). Sorted by index, occurrence k of every index goes in round k, a plain
    fancy-indexed add (its indices are distinct): the sums of np.add.at, in its order. With more than 32
    repeats of an index, one reduceat per run of equal indices instead (its own summation order)."""
    if idx.size == 0:
        return
    if idx.min() < 0:
        idx = np.where(idx < 0, idx + out.shape[0], idx)
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    starts = np.flatnonzero(np.concatenate(([True], s[1:] != s[:-1])))
    lengths = np.diff(np.append(starts, s.size))
    if lengths.max() > 32:
        out[s[starts]] += np.add.reduceat(rows[order], starts, axis=0).astype(out.dtype, copy=False)
        return
    rank = np.arange(s.size) - np.repeat(starts, lengths)  # occurrence number of each sorted entry
    for r in range(int(lengths.max())):
        sel = order[rank == r]
        out[idx[sel]] += rows[sel]


def _assign(out: np.ndarray, key: tuple, values: Any) -> None:
    """out[key] = values."""
    if type(key) is _Split:
        out[key.k1][key.k2] = values
    else:
        out[key] = values


def _int_or_none(v: Any) -> Any:
    if v is None:
        return None
    if isinstance(v, Tensor):
        return int(v)
    return v.__index__()


def _check_key(arr: np.ndarray, key: tuple) -> None:
    """Raise PyTorch's errors for out-of-range ints, too many indices and mismatched masks."""
    n_real = sum(1 if not (k is None or k is Ellipsis) else 0 for k in key
                 if not (isinstance(k, np.ndarray) and k.dtype == bool)) + \
        sum(k.ndim for k in key if isinstance(k, np.ndarray) and k.dtype == bool)
    if n_real > arr.ndim:
        raise IndexError(f"too many indices for tensor of dimension {arr.ndim}")
    # walk dims to check ints and masks (Ellipsis expands)
    dim = 0
    for k in key:
        if k is Ellipsis:
            dim += arr.ndim - n_real
            continue
        if k is None:
            continue
        if isinstance(k, np.ndarray) and k.dtype == bool:
            for j in range(k.ndim):
                if k.shape[j] != arr.shape[dim + j]:
                    raise IndexError(f"The shape of the mask {list(k.shape)} at index {j} does not match the "
                                     f"shape of the indexed tensor {list(arr.shape)} at index {dim + j}")
            dim += k.ndim
            continue
        if isinstance(k, int):
            size = arr.shape[dim]
            if not -size <= k < size:
                raise IndexError(f"index {k} is out of bounds for dimension {dim} with size {size}")
        elif isinstance(k, np.ndarray) and k.size:
            size = arr.shape[dim]
            lo, hi = k.min(), k.max()
            if lo < -size or hi >= size:
                bad = hi if hi >= size else lo
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size {size}")
        dim += 1


def _np_index(arr: np.ndarray, key: tuple) -> np.ndarray:
    try:
        return _get(arr, key)
    except IndexError as e:
        _check_key(arr, key)
        raise IndexError(str(e).replace("axis", "dimension")) from None


# ---------------------------------------------------------------------------
# getitem and its gradient (index_put with accumulation into zeros)
# ---------------------------------------------------------------------------
class IndexBackward0(Node):
    __slots__ = ("key", "shape", "advanced")

    def backward(self, g: Tensor) -> tuple:
        return (_scatter_into_zeros(g, self.key, self.shape, self.advanced),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return getitem(ts[0], self.key, _normed=(self.key, self.advanced))


class SliceBackward0(IndexBackward0):
    __slots__ = ()


class SelectBackward0(IndexBackward0):
    __slots__ = ()


class _UnsqueezeIndexBackward(IndexBackward0):
    __slots__ = ()


_UnsqueezeIndexBackward.__name__ = "UnsqueezeBackward0"
_FULL = slice(None)


def _basic_node(nkey: tuple) -> IndexBackward0:
    """The node PyTorch records for basic indexing: named after the last step that does
    something (an int selects, None unsqueezes, a non-full slice slices)."""
    for k in reversed(nkey):
        if k is Ellipsis or k == _FULL:
            continue
        if k is None:
            return _UnsqueezeIndexBackward()
        return SelectBackward0() if isinstance(k, int) else SliceBackward0()
    return SliceBackward0()


class _ScatterZerosBackward(Node):
    __slots__ = ("key", "advanced")

    def backward(self, g: Tensor) -> tuple:
        return (getitem(g, self.key, _normed=(self.key, self.advanced)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _scatter_into_zeros(ts[0], self.key, tuple(out.shape), self.advanced)


_ScatterZerosBackward.__name__ = "IndexPutBackward0"


def _scatter_into_zeros(g: Tensor, key: tuple, shape: tuple, advanced: bool) -> Tensor:
    if _vmap_levels and is_batched(g):
        return vmap_rule("scatter_zeros", _scatter_into_zeros, g, key, shape, advanced)
    z = np.zeros(shape, g._data.dtype)
    if advanced:
        _add_at(z, key, g._data)
    else:
        z[key] = g._data
    res = _make(z, g._dtype)
    if _state.enabled and g._requires_grad or _fw_levels and has_fw(g):
        n = _ScatterZerosBackward()
        n.key, n.advanced = key, advanced
        record(n, res, (g,))
    return res


def getitem(input: Tensor, key: Any, _normed: tuple | None = None) -> Tensor:
    """input[key]: basic indexing gives a view; integer/bool tensor indexing gives a copy."""
    if _vmap_levels and (is_batched(input) or isinstance(key, tuple) and is_batched(*key) or is_batched(key)):
        return vmap_rule("getitem", getitem, input, key, _normed=_normed)
    nkey, advanced = _normed if _normed is not None else _norm_key(key)
    arr = input._data
    if arr.ndim == 0 and any(isinstance(k, int) for k in nkey):
        raise IndexError("invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                         "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number")
    if advanced:
        _check_key(arr, nkey)
        res = _make(_np_index(arr, nkey), input._dtype)
    else:
        sub = _np_index(arr, nkey)
        if type(sub) is not np.ndarray:  # NumPy returned a scalar for a full integer index
            sub = arr[nkey + (Ellipsis,)] if Ellipsis not in nkey else np.asarray(sub)
        res = as_view(input, sub)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        if advanced:
            n = IndexBackward0()
        else:
            n = _basic_node(nkey)
        n.key, n.shape, n.advanced = nkey, arr.shape, advanced
        record(n, res, (input,))
    return res


Tensor.__getitem__ = getitem


# ---------------------------------------------------------------------------
# index_put (the out-of-place form of __setitem__)
# ---------------------------------------------------------------------------
class IndexPutBackward0(Node):
    __slots__ = ("key", "advanced", "accumulate")

    def backward(self, g: Tensor) -> tuple:
        gx = g if self.accumulate else _put_value(g, self.key, self.advanced, 0)
        gv = getitem(g, self.key, _normed=(self.key, self.advanced)) if self.next_functions[1][0] is not None \
            else None
        return gx, gv

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, (tx, tv) = ins[0], ts
        if tx is None:
            tx = _or_zeros(None, x, tv)
        if tv is None and self.accumulate:
            return tx
        return index_put_key(tx, self.key, self.advanced, tv if tv is not None else 0, self.accumulate)


class CopySlices(IndexPutBackward0):
    __slots__ = ()

    def name(self) -> str:
        return "torch::autograd::CopySlices"  # PyTorch's name() for its C++ node


def _put_value(g: Tensor, key: tuple, advanced: bool, value: Any) -> Tensor:
    """g with the indexed elements set to a constant (differentiable in g)."""
    if _vmap_levels and is_batched(g):
        return vmap_rule("index_put_key", _put_value, g, key, advanced, value)
    out = g._data.copy()
    _assign(out, key, value)
    res = _make(out, g._dtype)
    if _state.enabled and g._requires_grad or _fw_levels and has_fw(g):
        n = IndexPutBackward0()
        n.key, n.advanced, n.accumulate = key, advanced, False
        record(n, res, (g, None))
    return res


def index_put_key(input: Tensor, nkey: tuple, advanced: bool, values: Any, accumulate: bool = False) -> Tensor:
    """A copy of `input` with `values` written (or added, with accumulate) at a normalised key; differentiable."""
    if _vmap_levels and is_batched(input, values):
        return vmap_rule("index_put_key", index_put_key, input, nkey, advanced, values, accumulate)
    arr = input._data
    _check_key(arr, nkey)
    if isinstance(values, Tensor):
        v = values._data
        if values._dtype is not input._dtype:
            v = v.astype(input._dtype.np)
    else:
        if isinstance(values, (list, tuple)):
            from .._creation import tensor
            values = tensor(values, dtype=input._dtype)
            v = values._data
        else:
            v = np.asarray(values).astype(input._dtype.np)
    out = arr.copy()
    target_shape = np.shape(_get(out, nkey))
    try:
        vb = np.broadcast_to(v, target_shape) if np.shape(v) != target_shape else v
    except ValueError:
        vs = np.shape(v)
        # PyTorch strips leading 1s of the value before broadcasting
        stripped = vs
        while len(stripped) > len(target_shape) and stripped[0] == 1:
            stripped = stripped[1:]
        try:
            vb = np.broadcast_to(v.reshape(stripped), target_shape)
        except ValueError:
            raise RuntimeError(f"shape mismatch: value tensor of shape {list(vs)} cannot be broadcast to "
                               f"indexing result of shape {list(target_shape)}") from None
    if accumulate:
        _add_at(out, nkey, vb)
    else:
        _assign(out, nkey, vb)
    res = _make(out, input._dtype)
    if grad_needed(input, values):
        n = (IndexPutBackward0 if advanced or accumulate else CopySlices)()
        n.key, n.advanced, n.accumulate = nkey, advanced, accumulate
        record(n, res, (input, values if isinstance(values, Tensor) else None))
    return res


@register(inplace=True)
def index_put(input: Tensor, indices: tuple, values: Any, accumulate: bool = False) -> Tensor:
    """Out-of-place input[indices] = values (or += with accumulate)."""
    if _vmap_levels and is_batched(input, values, *indices):
        return vmap_rule("loop", index_put, input, indices, values, accumulate)
    if isinstance(values, Tensor) and values._dtype is not input._dtype:
        raise RuntimeError(f"Index put requires the source and destination dtypes match, got "
                           f"{_cap_name(input._dtype)} for the destination and {_cap_name(values._dtype)} for the "
                           "source.")
    nkey, advanced = _norm_key(tuple(indices))
    return index_put_key(input, nkey, True if accumulate else advanced, values, accumulate)


def setitem(self: Tensor, key: Any, value: Any) -> None:
    """self[key] = value, in place (broadcasting value; recorded for autograd)."""
    if _vmap_levels and (is_batched(self, value) or isinstance(key, tuple) and is_batched(*key) or is_batched(key)):
        return vmap_rule("setitem", setitem, self, key, value)
    from .inplace import apply_inplace
    nkey, advanced = _norm_key(key)
    if isinstance(value, Tensor) and value._data.ndim == 0 and not value._requires_grad and value._fw is None \
            and not (_state.enabled and self._requires_grad):
        value = value._data.item()
    apply_inplace(self, index_put_key, nkey, advanced, value)


Tensor.__setitem__ = setitem


# ---------------------------------------------------------------------------
# gather / scatter family
# ---------------------------------------------------------------------------
def _full_index(index: np.ndarray, dim: int) -> tuple:
    nd = index.ndim
    if nd == 0:  # a 0-d index into a 1-d input picks one element (an empty key would select them all)
        return (index,)
    out = []
    for i in range(nd):
        if i == dim:
            out.append(index)
        else:
            shape = [1] * nd
            shape[i] = index.shape[i]
            out.append(np.arange(index.shape[i]).reshape(shape))
    return tuple(out)


def _check_gather(name: str, input: Tensor, dim: int, index: Tensor, src_shape: tuple | None = None) -> int:
    if not isinstance(index, Tensor) or index._dtype not in (D.int64, D.int32):
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index")
    nd = max(input._data.ndim, 1)
    d = wrap_dim(dim, nd)
    if index._data.ndim != input._data.ndim and not (index._data.ndim <= 1 and input._data.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    for i in range(index._data.ndim):
        if i != d and index._data.shape[i] > input._data.shape[i]:
            raise RuntimeError(f"Size does not match at dimension {i} expected index {list(index._data.shape)} "
                               f"to be no larger than self {list(input._data.shape)} apart from dimension {d}")
    if index._data.size:
        size = input._data.shape[d] if input._data.ndim else 1
        lo, hi = int(index._data.min()), int(index._data.max())
        if lo < 0 or hi >= size:
            raise RuntimeError(f"index {lo if lo < 0 else hi} is out of bounds for dimension {d} with size {size}")
    return d


class GatherBackward0(Node):
    __slots__ = ("dim", "shape", "index")

    def backward(self, g: Tensor) -> tuple:
        from .._creation import zeros
        return (scatter_add(zeros(self.shape, dtype=g._dtype), self.dim, self.index, g),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return gather(ts[0], self.dim, self.index)


@register()
def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    """out[i][j] = input[i][index[i][j]] (for dim=1), and so on."""
    if _vmap_levels and is_batched(input, index):
        return vmap_rule("gather", gather, input, dim, index, sparse_grad=sparse_grad)
    d = _check_gather("gather", input, dim, index)
    if input._data.ndim == 0:
        res = _make(input._data.reshape(1)[index._data].reshape(index._data.shape), input._dtype)
    else:
        res = _make(input._data[_full_index(index._data, d)], input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = GatherBackward0()
        n.dim, n.shape, n.index = d, input._data.shape, index
        record(n, res, (input,))
    return res


class _PickBackward(Node):
    """grad_fn of the values of a reduction that picks one element per slice along `dim` (max, min,
    median, nanmedian, kthvalue, mode with a dim): one node straight on the input, as PyTorch records
    it; the gradient goes to the picked positions (zeros elsewhere)."""
    __slots__ = ("dim", "shape", "index", "keepdim")

    def backward(self, g: Tensor) -> tuple:
        if not self.shape:
            return (g,)
        from .._creation import zeros
        if not self.keepdim:
            g = g.unsqueeze(self.dim)
        return (scatter_add(zeros(self.shape, dtype=g._dtype), self.dim, self.index, g),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        if not self.shape:
            return ts[0]
        r = gather(ts[0], self.dim, self.index)
        return r if self.keepdim else r.squeeze(self.dim)


_PICK_NODES: dict = {}


def pick_along(input: Tensor, dim: int, index: Tensor, keepdim: bool, node_name: str) -> Tensor:
    """input's elements at `index` (one per slice along dim, in keepdim shape), squeezed unless keepdim,
    recorded as one node of class `node_name` (MaxBackward0, KthvalueBackward0, ...)."""
    if input._data.ndim and _vmap_levels and is_batched(input, index):
        vals = gather(input, dim, index)
        return vals if keepdim else vals.squeeze(dim)
    arr = input._data
    if arr.ndim:
        vals = np.take_along_axis(arr, index._data, dim)
        if not keepdim:
            vals = vals.squeeze(dim)
    else:
        vals = arr.copy()
    res = _make(vals, input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        cls = _PICK_NODES.get(node_name)
        if cls is None:
            cls = _PICK_NODES[node_name] = type(node_name, (_PickBackward,), {"__slots__": ()})
        n = cls()
        n.dim, n.shape, n.index, n.keepdim = dim, arr.shape, index, keepdim
        record(n, res, (input,))
    return res


class ScatterAddBackward0(Node):
    __slots__ = ("dim", "index")

    def backward(self, g: Tensor) -> tuple:
        gs = gather(g, self.dim, self.index) if self.next_functions[1][0] is not None else None
        return g, gs

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x, src), (tx, ts_) = ins, ts
        return scatter_add(_or_zeros(tx, x, ts_), self.dim, self.index, _or_zeros(ts_, src, tx))


def _or_zeros(t: Any, like: Tensor, other: Any) -> Tensor:
    """A tangent, or zeros of like's shape in the other tangent's dtype when it is None."""
    if t is not None:
        return t
    dt = (other if other is not None else like)._dtype
    return _make(np.zeros(like._data.shape, dt.np), dt)


class ScatterBackward0(Node):
    __slots__ = ("dim", "index")

    def backward(self, g: Tensor) -> tuple:
        from .._creation import zeros_like
        gi = scatter(g, self.dim, self.index, zeros_like(g)) if self.next_functions[0][0] is not None else None
        gs = None
        if self.next_functions[1][0] is not None:
            gs = gather(g, self.dim, self.index)
            src_shape = self._in_meta[1][0]
            if tuple(gs.shape) != tuple(src_shape):  # src larger than index: the rest of it is unused
                gs = _scatter_into_zeros(gs, tuple(slice(0, s) for s in gs.shape), src_shape, False)
        return gi, gs

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, (tx, tsrc) = ins[0], ts
        return scatter(_or_zeros(tx, x, tsrc), self.dim, self.index, tsrc if tsrc is not None else 0.0)


def _src_block(src: Any, index: np.ndarray, dtype: D.dtype) -> np.ndarray:
    if isinstance(src, Tensor):
        if src._dtype is not dtype:
            raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
        if src._data.ndim != index.ndim and not (src._data.ndim <= 1 and index.ndim <= 1):
            raise RuntimeError("Index tensor must have the same number of dimensions as src tensor")
        for i in range(index.ndim):
            if index.shape[i] > (src._data.shape[i] if src._data.ndim else 1):
                raise RuntimeError(f"Size does not match at dimension {i} expected index {list(index.shape)} to be "
                                   f"no larger than src {list(src._data.shape)}")
        if src._data.ndim == 0:
            return np.full(index.shape, src._data, dtype.np)
        sl = tuple(slice(0, s) for s in index.shape)
        return src._data[sl].astype(dtype.np, copy=False)
    return np.full(index.shape, src, dtype.np)


@register(inplace=True)
def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    """Out-of-place: adds src values into input at index along dim (repeats accumulate)."""
    if _vmap_levels and is_batched(input, index, src):
        return vmap_rule("scatter", scatter_add, input, dim, index, src)
    d = _check_gather("scatter_add", input, dim, index)
    out = input._data.copy()
    np.add.at(out, _full_index(index._data, d), _src_block(src, index._data, input._dtype))
    res = _make(out, input._dtype)
    if grad_needed(input, src):
        n = ScatterAddBackward0()
        n.dim, n.index = d, index
        record(n, res, (input, src))
    return res


@register(inplace=True)
def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    """Out-of-place: writes src (or a value) into input at index along dim."""
    if _vmap_levels and is_batched(input, index, src, value):
        return vmap_rule("scatter", scatter, input, dim, index, src, value=value, reduce=reduce)
    if src is None:
        src = value
    d = _check_gather("scatter", input, dim, index)
    out = input._data.copy()
    key = _full_index(index._data, d)
    block = _src_block(src, index._data, input._dtype)
    if reduce is None:
        out[key] = block
    elif reduce == "add":
        np.add.at(out, key, block)
    elif reduce == "multiply":
        np.multiply.at(out, key, block)
    else:
        raise RuntimeError(f"reduce argument must be either add or multiply. Got {reduce}")
    res = _make(out, input._dtype)
    if grad_needed(input, src) and reduce is None:
        n = ScatterBackward0()
        n.dim, n.index = d, index
        record(n, res, (input, src if isinstance(src, Tensor) else None))
    return res


@register(inplace=True)
def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    """Reduce src into input at index with 'sum', 'prod', 'mean', 'amax' or 'amin'."""
    if _vmap_levels and is_batched(input, index, src):
        return vmap_rule("scatter", scatter_reduce, input, dim, index, src, reduce, include_self=include_self)
    d = _check_gather("scatter_reduce", input, dim, index)
    out = input._data.copy()
    key = _full_index(index._data, d)
    block = _src_block(src, index._data, input._dtype)
    ufunc = {"sum": np.add, "prod": np.multiply, "amax": np.maximum, "amin": np.minimum, "mean": np.add}[reduce]
    if not include_self:
        lo, hi = (-np.inf, np.inf) if input._dtype.category >= 2 else (
            (False, True) if input._dtype is D.bool else (np.iinfo(out.dtype).min, np.iinfo(out.dtype).max))
        out[key] = {"sum": 0, "mean": 0, "prod": 1, "amax": lo, "amin": hi}[reduce]
    ufunc.at(out, key, block)
    if reduce == "mean":
        cnt = np.zeros(out.shape, np.int64) + (1 if include_self else 0)
        np.add.at(cnt, key, 1)
        out = out / np.maximum(cnt, 1)
        out = out.astype(input._data.dtype) if input._dtype.category >= 2 else np.floor(out).astype(input._data.dtype)
    res = _make(out, input._dtype)
    if grad_needed(input, src) and input._dtype.category >= 2:
        n = ScatterReduceBackward0()
        n.dim, n.index, n.reduce, n.include_self = d, index, reduce, include_self
        n.save(input, src, out_ref(res))
        record(n, res, (input, src))
    return res


class ScatterReduceBackward0(Node):
    """Gradients of scatter_reduce: sum, mean, amax/amin (ties share evenly, as in PyTorch) and prod
    (by result / value, so not defined where a reduced value is 0)."""
    __slots__ = ("dim", "index", "reduce", "include_self")

    def backward(self, g: Tensor) -> tuple:
        from .elementwise import where
        x, src, r = self.saved()
        d, idx, red = self.dim, self.index, self.reduce
        key = _full_index(idx._data, d)
        hit = np.zeros(x._data.shape, bool)
        hit[key] = True
        own = _make(~hit | self.include_self, D.bool)  # positions where input takes part in the result
        block = src[tuple(slice(0, s) for s in idx._data.shape)]
        gx = gb = None
        if red == "sum":
            gx, gb = g * own.to(g.dtype), gather(g, d, idx)
        elif red == "mean":
            cnt = np.zeros(x._data.shape, np.int64) + own._data
            np.add.at(cnt, key, 1)
            gc = g / _make(np.maximum(cnt, 1).astype(g._data.dtype), g._dtype)
            gx, gb = gc * own.to(g.dtype), gather(gc, d, idx)
        elif red in ("amax", "amin"):
            self_is = ((x == r) & own).to(g.dtype)
            src_is = (block == gather(r, d, idx)).to(g.dtype)
            cnt = scatter_add(self_is, d, idx, src_is)
            gx, gb = g * self_is / cnt, gather(g / cnt, d, idx) * src_is
        else:  # prod
            gx = where(own, g * r / x, g * 0)
            gb = gather(g * r, d, idx) / block
        if self.next_functions[1][0] is not None and tuple(gb.shape) != tuple(self._in_meta[1][0]):
            gb = _scatter_into_zeros(gb, tuple(slice(0, s) for s in gb.shape), self._in_meta[1][0], False)
        return gx, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        from .elementwise import where
        (x, src), (tx, tsrc) = ins, ts
        d, idx, red, r = self.dim, self.index, self.reduce, out
        tx, tsrc = _or_zeros(tx, x, tsrc), _or_zeros(tsrc, src, tx)
        hit = np.zeros(x._data.shape, bool)
        hit[_full_index(idx._data, d)] = True
        own = _make(~hit | self.include_self, D.bool)
        sl = tuple(slice(0, s) for s in idx._data.shape)
        block, tblock = src[sl], tsrc[sl]
        if red in ("sum", "mean"):
            return scatter_reduce(tx * own.to(tx.dtype), d, idx, tblock, red, include_self=True) if red == "sum" \
                else scatter_reduce(tx, d, idx, tblock, "mean", include_self=self.include_self)
        if red in ("amax", "amin"):
            self_is = ((x == r) & own).to(tx.dtype)
            src_is = (block == gather(r, d, idx)).to(tx.dtype)
            cnt = scatter_add(self_is, d, idx, src_is)
            return scatter_add(tx * self_is, d, idx, tblock * src_is) / cnt
        return r * scatter_add(where(own, tx / x, tx * 0), d, idx, tblock / block)  # prod


@register(node_name="IndexSelectBackward0")
def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    """Entries along dim at the given 1-d indices."""
    if _vmap_levels and is_batched(input, index):
        return vmap_rule("index_dim", index_select, input, dim, index)
    if not isinstance(index, Tensor) or index._dtype.category != 1:
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    nd = input._data.ndim
    d = wrap_dim(dim, nd)
    size = input._data.shape[d] if nd else 1
    if index._data.size:
        lo, hi = int(index._data.min()), int(index._data.max())
        if lo < 0 or hi >= size:
            if d == 1 and nd > 1:  # PyTorch's dim-1 kernel has its own message and exception type
                raise RuntimeError(f"INDICES element is out of DATA bounds, id={lo if lo < 0 else hi} axis_dim={size}")
            raise IndexError("index out of range in self")
    if nd == 0:
        return getitem(input.reshape(1), (index.reshape(-1),)).reshape(index._data.shape)
    key = (slice(None),) * d + (index._data.reshape(-1),)
    return getitem(input, None, _normed=(key, True))


def _check_index_vector(name: str, index: Any) -> None:
    if not isinstance(index, Tensor) or index._dtype not in (D.int64, D.int32):
        got = _cap_name(index._dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"{name}(): Expected dtype int32/int64 for index but got: {got}")
    if index._data.ndim > 1:
        raise IndexError(f"{name}(): Index is supposed to be a vector, but got dim: {index._data.ndim} with type: "
                         f"{_cap_name(index._dtype)} and size: {list(index._data.shape)}")


_cap_name = D.scalar_name


@register(inplace=True, node_name="IndexAddBackward0")
def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *, alpha: Any = 1) -> Tensor:
    """Out-of-place: input with alpha * source added at the indices along dim."""
    if _vmap_levels and is_batched(input, index, source):
        return vmap_rule("index_dim", index_add, input, dim, index, source, alpha=alpha)
    _check_index_vector("index_add_", index)
    if isinstance(source, Tensor) and source._dtype is not input._dtype:
        raise RuntimeError(f"index_add_(): self ({_cap_name(input._dtype)}) and source ({_cap_name(source._dtype)}) "
                           "must have the same scalar type")
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (index._data,)
    return index_put_key(input, key, True, source * alpha if alpha != 1 else source, accumulate=True)


@register(inplace=True)
def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    """Out-of-place: input with value at the indices along dim."""
    if _vmap_levels and is_batched(input, index, value):
        return vmap_rule("index_dim", index_fill, input, dim, index, value)
    _check_index_vector("index_fill_", index)
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (index._data,)
    return index_put_key(input, key, True, value)


@register(inplace=True)
def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """Out-of-place: input with source's slices copied to the indices along dim."""
    if _vmap_levels and is_batched(input, index, source):
        return vmap_rule("index_dim", index_copy, input, dim, index, source)
    _check_index_vector("index_copy_", index)
    if isinstance(source, Tensor) and source._dtype is not input._dtype:
        raise RuntimeError(f"index_copy_(): self and source expected to have the same dtype, but got (self) "
                           f"{_cap_name(input._dtype)} and (source) {_cap_name(source._dtype)}")
    d = wrap_dim(dim, input._data.ndim)
    key = (slice(None),) * d + (index._data,)
    return index_put_key(input, key, True, source)


class MaskedFillBackward0(Node):
    """input with a scalar where mask is true: one node on input (MaskedFillBackward1 when the value is a
    tensor, with a second edge to it), as PyTorch records it."""
    __slots__ = ("mask",)

    def backward(self, g: Tensor) -> tuple:
        from .elementwise import where
        gx = where(self.mask, 0.0, g) if self.next_functions[0][0] is not None else None
        if len(self.next_functions) == 1:
            return (gx,)
        gv = where(self.mask, g, 0.0).sum() if self.next_functions[1][0] is not None else None
        return gx, gv

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        from .elementwise import where
        tx, tv = ts[0], ts[1] if len(ts) > 1 else None
        r = None if tx is None else where(self.mask, 0.0, tx)
        if tv is not None:
            r = tsum(r, where(self.mask, tv, 0.0))
        return r


class MaskedFillBackward1(MaskedFillBackward0):
    __slots__ = ()


@register(inplace=True)
def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    """input with value where mask (broadcast) is true."""
    from .elementwise import where
    if not isinstance(mask, Tensor) or mask._dtype is not D.bool:
        from .linalg import c_name
        raise RuntimeError("masked_fill_ only supports boolean masks, but got mask with dtype "
                           f"{c_name(mask._dtype) if isinstance(mask, Tensor) else type(mask).__name__}")
    if isinstance(value, Tensor):
        if value._data.ndim:
            raise RuntimeError(f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                               f"{value._data.ndim} dimension(s).")
        v = value.to(input._dtype)
    else:
        from .._creation import tensor
        v = tensor(value, dtype=input._dtype)
    if _vmap_levels and is_batched(input, mask, v):
        return where(mask, v, input)
    res = where(mask, _make(v._data, v._dtype), _make(input._data, input._dtype))  # the values, graph-free
    if grad_needed(input, value):
        tensor_value = isinstance(value, Tensor)
        n = MaskedFillBackward1() if tensor_value else MaskedFillBackward0()
        n.mask = mask
        record(n, res, (input, value) if tensor_value else (input,))
    return res


class MaskedSelectBackward0(Node):
    """The selected elements in mask order: one node on input; the gradient is scattered back to the
    selected places (the engine sums it over a broadcast input)."""
    __slots__ = ("mask", "shape")

    def backward(self, g: Tensor) -> tuple:
        flat = self.mask.reshape(-1)
        return (_scatter_into_zeros(g, (flat,), flat.shape, False).reshape(self.shape),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return masked_select(ts[0], _make(self.mask, D.bool))


@register()
def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    """1-d tensor of the elements where mask (broadcast) is true."""
    from .shape import broadcast_tensors
    if mask._dtype is not D.bool:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    if _vmap_levels and is_batched(input, mask):
        x, m = broadcast_tensors(input, mask)
        return getitem(x, m)
    from .shape import broadcast_shapes
    shape = tuple(broadcast_shapes(input._data.shape, mask._data.shape))
    x, m = np.broadcast_to(input._data, shape), np.broadcast_to(mask._data, shape)
    res = _make(x[m], input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = MaskedSelectBackward0()
        n.mask, n.shape = np.ascontiguousarray(m), x.shape
        record(n, res, (input,))
    return res


@register(inplace=True)
def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """input with the elements where mask is true taken, in order, from source."""
    if _vmap_levels and is_batched(input, mask, source):
        return vmap_rule("loop", masked_scatter, input, mask, source)
    if not isinstance(mask, Tensor) or mask._dtype is not D.bool:
        got = _cap_name(mask._dtype) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(f"masked_scatter_ only supports boolean masks, but got mask with dtype {got}")
    from ._core import broadcast_shapes_or_raise
    if broadcast_shapes_or_raise(mask._data.shape, input._data.shape) != input._data.shape:
        raise RuntimeError(f"masked_scatter: mask of shape {list(mask._data.shape)} cannot be broadcast to the "
                           f"shape of self {list(input._data.shape)}")
    if int(np.broadcast_to(mask._data, input._data.shape).sum()) > source._data.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    if source._dtype is not input._dtype:
        raise RuntimeError(f"masked_scatter: expected self and source to have same dtypes but got"
                           f"{_cap_name(input._dtype)} and {_cap_name(source._dtype)}")
    out = input._data.copy()
    m = np.broadcast_to(mask._data, out.shape)
    if _state.enabled and (input._requires_grad or source._requires_grad) or _fw_levels and has_fw(input, source):
        # differentiable in both: index_put of the first mask.sum() source elements
        idx = tuple(_make(i.astype(np.int64), D.int64) for i in np.nonzero(m))
        return index_put(input, idx, source.reshape(-1)[: int(m.sum())])
    out[m] = source._data.reshape(-1)[: int(m.sum())]
    return _make(out, input._dtype)


@register()
def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    """Indices of nonzero elements: (n, ndim) int64, or a tuple of 1-d index tensors."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("loop", nonzero, input, as_tuple=as_tuple)
    arr = input._data
    if as_tuple:
        if arr.ndim == 0:
            return (_make(np.nonzero(arr.reshape(1))[0].astype(np.int64), D.int64),)
        return tuple(_make(i.astype(np.int64), D.int64) for i in np.nonzero(arr))
    return _make(np.argwhere(arr).astype(np.int64), D.int64)


@register()
def argwhere(input: Tensor) -> Tensor:
    """Indices of the non-zero elements, one row per element (same as nonzero)."""
    return nonzero(input)


@register()
def take(input: Tensor, index: Tensor) -> Tensor:
    """Elements of the flattened input at index (result has index's shape)."""
    if _vmap_levels and is_batched(input, index):
        return vmap_rule("take", take, input, index)
    if not isinstance(index, Tensor) or index._dtype is not D.int64:
        got = _cap_name(index._dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"take(): Expected a long tensor for index, but got {got}")
    n, idx = input._data.size, index._data
    if idx.size and (idx.min() < -n or idx.max() >= n):
        bad = idx[(idx < -n) | (idx >= n)].flat[0]
        raise IndexError(f"out of range: tried to access index {bad} on a tensor of {n} elements.")
    res = _make(np.take(input._data.reshape(-1), idx), input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        node = TakeBackward0()
        node.index, node.shape = np.where(idx < 0, idx + n, idx).reshape(-1), input._data.shape
        record(node, res, (input,))
    return res


class TakeBackward0(Node):
    """Elements of the flattened input at an index: one node on input; the gradient is added back at
    the indices (repeated indices accumulate)."""
    __slots__ = ("index", "shape")

    def backward(self, g: Tensor) -> tuple:
        n = int(np.prod(self.shape))
        return (_scatter_into_zeros(g.reshape(-1), (self.index,), (n,), True).reshape(self.shape),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return take(ts[0], _make(self.index.reshape(out.shape), D.int64))


@register()
def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    """Pick values along `dim` at `indices` (broadcast against input elsewhere); flattened when dim is None."""
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))  # as PyTorch: its graph, checks and errors
    if input._data.ndim != indices._data.ndim:
        raise RuntimeError(f"torch.take_along_dim(): input and indices should have the same number of dimensions, "
                           f"but got {input._data.ndim} dimensions for input, and {indices._data.ndim} dimensions "
                           "for indices")
    from .shape import broadcast_shapes
    d = wrap_dim(dim, input._data.ndim)
    shp = list(broadcast_shapes(tuple(s for i, s in enumerate(input._data.shape) if i != d),
                                tuple(s for i, s in enumerate(indices._data.shape) if i != d)))
    ishape = shp[:d] + [indices._data.shape[d]] + shp[d:]
    xshape = shp[:d] + [input._data.shape[d]] + shp[d:]
    return gather(input.expand(xshape), d, indices.expand(ishape))


def _diag_index(input: Tensor, offset: int, d1: int, d2: int) -> Tensor:
    arr = input._data
    n1, n2 = arr.shape[d1], arr.shape[d2]
    if offset >= 0:
        k = max(min(n1, n2 - offset), 0)
        rows, cols = np.arange(k), np.arange(k) + offset
    else:
        k = max(min(n1 + offset, n2), 0)
        rows, cols = np.arange(k) - offset, np.arange(k)
    moved = input.movedim((d1, d2), (-2, -1))
    key = (Ellipsis, rows, cols)
    return getitem(moved, None, _normed=(key, True))


@register(method=False)
def unravel_index(indices: Tensor, shape: Any) -> tuple:
    """The coordinates in a tensor of `shape` of flat (row-major) `indices`, one int64 tensor per dim;
    indices wrap around (negative ones count from the end)."""
    if _vmap_levels and is_batched(indices):
        return vmap_rule("trailing", unravel_index, indices, shape)
    if not isinstance(indices, Tensor):
        from .._creation import tensor
        indices = tensor(indices)
    if indices._dtype.category != 1:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices._dtype}")
    shape = (int(shape),) if isinstance(shape, (int, np.integer)) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError("'shape' cannot have negative values, but got " + str(shape))
    flat = indices._data.astype(np.int64)
    out = []
    for s in reversed(shape):
        out.append(np.mod(flat, s) if s else np.zeros_like(flat))
        flat = np.floor_divide(flat, s) if s else flat
    return tuple(_make(a, D.int64) for a in reversed(out))


# ---------------------------------------------------------------------------
# embedding: rows of a weight matrix picked by indices (nn.functional.embedding re-exports it)
# ---------------------------------------------------------------------------
class EmbeddingBackward0(Node):
    """Fused: the gradient is a scatter-add of rows into a zero matrix (never
    materialising a one-hot), with the padding row's gradient forced to zero."""

    __slots__ = ("indices", "num_weights", "padding_idx", "scale_freq")

    def backward(self, g: Tensor) -> tuple:
        from .._creation import zeros
        idx = self.indices.reshape(-1)
        D_ = g._data.shape[-1]
        g2 = g.reshape(-1, D_)
        if self.padding_idx is not None or self.scale_freq:
            coef = np.ones(idx.shape, g._dtype.np)
            if self.padding_idx is not None:
                coef[idx == self.padding_idx] = 0
            if self.scale_freq:
                counts = np.bincount(idx, minlength=self.num_weights)
                coef = coef / counts[idx].astype(coef.dtype)
            g2 = g2 * _make(coef.reshape(-1, 1), g._dtype)
        z = zeros((self.num_weights, D_), dtype=g._dtype)
        return (z.index_add(0, _make(idx, D.int64), g2),)

    def fast(self, g: np.ndarray) -> tuple:
        idx = self.indices.reshape(-1)
        g2 = g.reshape(-1, g.shape[-1])
        if self.padding_idx is not None or self.scale_freq:
            coef = np.ones(idx.shape, g.dtype)
            if self.padding_idx is not None:
                coef[idx == self.padding_idx] = 0
            if self.scale_freq:
                coef /= np.bincount(idx, minlength=self.num_weights)[idx].astype(g.dtype)
            g2 = g2 * coef[:, None]
        out = np.zeros((self.num_weights, g2.shape[1]), g.dtype)
        add_rows(out, idx, g2)
        return (out,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0][_make(self.indices, D.int64)]  # the picked rows of the tangent (padding rows too, as PyTorch)


def _padding_idx(padding_idx: int | None, n: int) -> int | None:
    """padding_idx made non-negative; AssertionError (as PyTorch) when outside [-n, n)."""
    if padding_idx is None:
        return None
    if not -n <= padding_idx < n:
        raise AssertionError("Padding_idx must be within num_embeddings")
    return padding_idx + n if padding_idx < 0 else padding_idx


@register(method=False, function=False)
def embedding(input: Tensor, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of `weight` picked by the integer indices in `input`."""
    if _vmap_levels and is_batched(input, weight):
        return vmap_rule("embedding", embedding, input, weight, padding_idx, max_norm, norm_type,
                         scale_grad_by_freq, sparse)
    check_tensor(input, "embedding")
    if input._dtype not in (D.int64, D.int32):
        raise RuntimeError("Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{_cap_name(input._dtype)}Tensor instead (while checking "
                           "arguments for embedding)")
    check_tensor(weight, "embedding", "weight", 2)
    if weight._data.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    n = weight._data.shape[0]
    padding_idx = _padding_idx(padding_idx, n)
    idx = input._data
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        raise IndexError("index out of range in self")
    if max_norm is not None:
        _embedding_renorm(weight, idx, max_norm, norm_type)
    res = _make(weight._data[idx], weight._dtype)
    if _state.enabled and weight._requires_grad or _fw_levels and has_fw(weight):
        node = EmbeddingBackward0()
        node.indices = idx.astype(np.int64, copy=False)
        node.num_weights = n
        node.padding_idx = padding_idx
        node.scale_freq = scale_grad_by_freq
        record(node, res, (weight,))
    return res


def _embedding_renorm(weight: Tensor, idx: np.ndarray, max_norm: float, norm_type: float) -> None:
    rows = np.unique(idx.reshape(-1))
    w = weight._data
    sel = w[rows]
    norms = np.linalg.norm(sel.astype(np.float64), ord=norm_type, axis=1)
    scale = np.where(norms > max_norm, max_norm / (norms + 1e-7), 1.0)
    w[rows] = (sel * scale[:, None]).astype(w.dtype)
    weight._version[0] += 1
