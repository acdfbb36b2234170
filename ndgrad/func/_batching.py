"""Batching rules: how an op called on BatchedTensors runs as one call of the same op on their physical
values (leading dims: one per vmap level, see _vmap). Each rule is `rule(op, args, kwargs)`; an op
with a rule starts with `if _vmap_levels and is_batched(...): return vmap_rule("<rule>", op, ...)`.

The kinds: elementwise ops (operands aligned: batch dims in front, logical dims broadcast on the
right); ops with dim arguments (shifted past the batch dims); views and shape ops; matmul-like
products (batch dims become matmul batch dims); and ops with a leading batch dim of their own
(convolution, pooling, losses), where the vmap dims are folded into it.
"""
from __future__ import annotations

import inspect
import warnings
from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ..ops import _core
from ._tree import tree_flatten, tree_unflatten
from ._vmap import levels_of, phys, sizes, wrap

RULES = _core.BATCH_RULES
_SIGS: dict = {}


def rule(*names: str) -> Callable:
    def deco(fn: Callable) -> Callable:
        for n in names:
            RULES[n] = fn
        return fn
    return deco


def _bind(op: Callable, args: tuple, kwargs: dict) -> inspect.BoundArguments:
    sig = _SIGS.get(op)
    if sig is None:
        sig = _SIGS[op] = inspect.signature(op)
    ba = sig.bind(*args, **kwargs)
    ba.apply_defaults()
    return ba


def _call(op: Callable, ba: inspect.BoundArguments) -> Any:
    return op(*ba.args, **ba.kwargs)


def out(res: Any, levels: tuple) -> Any:
    """Wrap an op's physical result(s) at `levels`."""
    if isinstance(res, Tensor):
        return wrap(res, levels)
    if isinstance(res, (tuple, list)):
        vals = [out(r, levels) for r in res]
        return type(res)(*vals) if hasattr(res, "_fields") else type(res)(vals)
    return res


def _nb(t: Any) -> int:
    return len(t._lv) if getattr(t, "_batched", False) else 0


# ---------------------------------------------------------------------------
# the fallback: one call per example
# ---------------------------------------------------------------------------
def _op_label(op: Callable) -> str:
    return getattr(op, "__name__", "this operation").lstrip("_")


@rule("loop")
def loop(op: Callable, args: tuple, kwargs: dict, warn: bool = True) -> Any:
    """An op without a batching rule: called once per example (a Python loop over the batch, with a
    warning), the results stacked. Autograd and forward-mode AD see through the loop."""
    name = _op_label(op)
    if warn:
        warnings.warn(f"vmap: {name} has no batching rule, so it runs once per example in a Python loop "
                      "(correct, but slower than a batched call)", UserWarning, stacklevel=4)
    leaves, spec = tree_flatten((args, kwargs))
    levels = levels_of(*leaves)
    lead = sizes(levels)
    n = int(np.prod(lead))
    if n == 0:
        raise RuntimeError(f"vmap: {name} has no batching rule and cannot run on an empty batch")
    flat = [phys(x, levels, expand=True).reshape((n,) + tuple(x.shape)) if getattr(x, "_batched", False) else None
            for x in leaves]
    results = []
    for i in range(n):
        a, k = tree_unflatten([x if f is None else f.select(0, i) for x, f in zip(leaves, flat)], spec)
        results.append(tree_flatten(op(*a, **k)))
    out_spec = results[0][1]
    cols = []
    from ..ops.shape import stack
    for j, first in enumerate(results[0][0]):
        col = [r[0][j] for r in results]
        if not isinstance(first, Tensor):
            if any(c != first for c in col[1:]):
                raise RuntimeError(f"vmap: {name} returned different non-tensor values for different examples")
            cols.append(first)
            continue
        if any(tuple(c.shape) != tuple(first.shape) for c in col[1:]):
            raise RuntimeError(f"vmap: {name} returns tensors of different shapes for different examples (a shape "
                               "that depends on the data), so it cannot be batched")
        cols.append(wrap(stack(col).reshape(lead + tuple(first.shape)), levels))
    return tree_unflatten(cols, out_spec)


# ---------------------------------------------------------------------------
# elementwise
# ---------------------------------------------------------------------------
@rule("elementwise")
def elementwise(op: Callable, args: tuple, kwargs: dict) -> Any:
    """Every tensor operand laid out for the union of levels, logical dims right-aligned; a plain 0-d
    tensor stays 0-d (so that it promotes like a scalar, as logically it does)."""
    tensors = [a for a in args if isinstance(a, Tensor)] + [v for v in kwargs.values() if isinstance(v, Tensor)]
    levels = levels_of(*tensors)
    nd = max(t.dim() for t in tensors)
    want = D.result_dtype(*tensors) if len(tensors) > 1 else None

    def conv(a: Any) -> Any:
        if not isinstance(a, Tensor) or (not a._batched and a.dim() == 0):
            return a
        if a._batched and a.dim() == 0 and want is not None and a._dtype is not want and \
                a._dtype.category == want.category:
            a = wrap(a._p.to(want), a._lv)  # logically 0-d: it must not promote the others
        return phys(a, levels, nd)
    return out(op(*[conv(a) for a in args], **{k: conv(v) for k, v in kwargs.items()}), levels)


@rule("to")
def to(op: Callable, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    rest = tuple(a._dtype if isinstance(a, Tensor) else a for a in args[1:])
    return out(op(x._p, *rest, **kwargs), x._lv)


# ---------------------------------------------------------------------------
# dims
# ---------------------------------------------------------------------------
def _shift(dim: Any, nd: int, nb: int) -> Any:
    if isinstance(dim, (list, tuple)):
        return type(dim)(_wrap_dim(d, nd) + nb for d in dim)
    return _wrap_dim(int(dim), nd) + nb


def dims_rule(names: tuple = ("dim",), none: str = "all", extra: int = 0, default_keep: bool = False) -> Callable:
    """An op with dim arguments: shifted past the batch dims. `none` says what dim=None (or ()) means:
    'all' the logical dims, 'flatten' the flattened logical tensor, 'keep' passed on as None.
    `extra`: the op's result has that many more dims than its input (the dims index the result)."""
    def r(op: Callable, args: tuple, kwargs: dict) -> Any:
        ba = _bind(op, args, kwargs)
        pname = next(iter(ba.arguments))
        x = ba.arguments[pname]
        nb, nd = _nb(x), x.dim()
        p = x._p
        flat = added = False
        for name in names:
            if name not in ba.arguments:
                continue
            dim = ba.arguments[name]
            if name == "axis" and dim is None:
                continue
            if dim is None or (isinstance(dim, (tuple, list)) and len(dim) == 0 and none != "keep"):
                if none == "all":
                    if nd == 0:
                        p = p.unsqueeze(nb)
                        dim = (nb,)
                        added = True
                    else:
                        dim = tuple(range(nb, nb + nd))
                elif none == "flatten":
                    p = p.reshape(p.shape[:nb] + (-1,))
                    dim = nb
                    flat = True
                ba.arguments[name] = dim
                continue
            if nd + extra == 0:
                _wrap_dim(dim if not isinstance(dim, (list, tuple)) else 0, 0)  # PyTorch's range check
                if not added:
                    p = p.unsqueeze(nb)
                    added = True
                ba.arguments[name] = nb if not isinstance(dim, (list, tuple)) else (nb,)
                continue
            ba.arguments[name] = _shift(dim, nd + extra, nb)
        ba.arguments[pname] = p
        res = _call(op, ba)
        if flat and ba.arguments.get("keepdim"):
            res = out_reshape(res, x, nb)
        if added:  # a 0-d input was given a dim of size 1 for the op: drop it where it survived
            res = _squeeze_res(res, nb)
        return out(res, x._lv)
    return r


def _each(f: Callable, res: Any) -> Any:
    """f applied to a result, or to each member of a tuple (or named tuple) of results."""
    if not isinstance(res, tuple):
        return f(res)
    vals = [f(t) for t in res]
    return type(res)(*vals) if hasattr(res, "_fields") else type(res)(vals)


def out_reshape(res: Any, x: Tensor, nb: int) -> Any:
    """A flattened reduction kept as dims: back to one size-1 dim per logical dim."""
    return _each(lambda t: t.reshape(t.shape[:nb] + (1,) * x.dim()) if isinstance(t, Tensor) else t, res)


def _squeeze_res(res: Any, nb: int) -> Any:
    return _each(lambda t: t.squeeze(nb) if isinstance(t, Tensor) and t.dim() > nb else t, res)


for _n in ("sum", "mean", "prod", "amax", "amin", "all", "any", "logsumexp", "nansum", "nanmean"):
    RULES[_n] = dims_rule(("dim", "axis"), "all")
RULES["count_nonzero"] = dims_rule(("dim",), "all")
RULES["var_std"] = dims_rule(("dim", "axis"), "all")
RULES["mode"] = dims_rule(("dim",), "keep")
RULES["extreme"] = dims_rule(("axes",), "all")
RULES["vector_norm"] = dims_rule(("dim",), "all")
RULES["argmax"] = dims_rule(("dim", "axis"), "flatten")
RULES["cumsum"] = dims_rule(("dim", "axis"), "keep")
RULES["cumprod"] = RULES["logcumsumexp"] = RULES["cummax"] = RULES["cummin"] = dims_rule(("dim",), "keep")
RULES["sort"] = RULES["argsort"] = RULES["topk"] = RULES["kthvalue"] = dims_rule(("dim",), "keep")
RULES["flip"] = dims_rule(("dims",), "keep")
RULES["narrow"] = RULES["select"] = dims_rule(("dim",), "keep")
RULES["transpose"] = dims_rule(("dim0", "dim1"), "keep")
RULES["unsqueeze"] = dims_rule(("dim",), "keep", extra=1)
RULES["diagonal"] = dims_rule(("dim1", "dim2"), "keep")
RULES["diag_embed"] = dims_rule(("dim1", "dim2"), "keep", extra=1)
RULES["glu"] = dims_rule(("dim",), "keep")
RULES["fft_dims"] = dims_rule(("dims",), "keep")
RULES["split_views"] = dims_rule(("dim",), "keep")
_tensor_unfold = dims_rule(("dimension",), "keep")
RULES["tensor_unfold"] = lambda op, a, k: loop(op, a, k) if a[0].dim() == 0 else _tensor_unfold(op, a, k)
RULES["fft_dim"] = dims_rule(("dim",), "keep")


@rule("median")
def median(op: Callable, args: tuple, kwargs: dict) -> Any:
    """_median(input, dim, keepdim, skip_nan): over all logical dims, or one dim."""
    x, dim = args[0], args[1]
    if dim is not None:
        return dims_rule(("dim",), "keep")(op, args, kwargs)
    nb, p = _nb(x), x._p
    flat = p.reshape(tuple(p.shape[:nb]) + (-1,))
    if flat.shape[-1] == 0:
        return loop(op, args, kwargs)
    return wrap(op(flat, nb, False, args[3])[0], x._lv)


@rule("quantile")
def quantile(op: Callable, args: tuple, kwargs: dict) -> Any:
    """_quantile(input, q, dim, keepdim, interpolation, fn): a 1-d tensor q puts its dim first in the
    result, so it is moved behind the batch dims."""
    x, q, dim, keepdim = args[:4]
    if levels_of(q) or x.dim() == 0:
        return loop(op, args, kwargs)
    nb, nd, p = _nb(x), x.dim(), x._p
    if dim is None:
        p = p.reshape(tuple(p.shape[:nb]) + (-1,))
        d = nb
    else:
        d = _wrap_dim(dim, nd) + nb
    res = op(p, q, d, keepdim, *args[4:])
    qd = q.dim() if isinstance(q, Tensor) else 0
    if qd:
        res = res.movedim(0, nb)
    if dim is None and keepdim:
        res = res.reshape(tuple(res.shape[:nb + qd]) + (1,) * nd)
    return wrap(res, x._lv)


@rule("diag")
def diag(op: Callable, args: tuple, kwargs: dict) -> Any:
    """diag(input, diagonal): a vector becomes a diagonal matrix, a matrix gives its diagonal."""
    x, k = args[0], args[1] if len(args) > 1 else kwargs.get("diagonal", 0)
    nb = _nb(x)
    if x.dim() == 1:
        from ..ops.shape import diag_embed
        return wrap(diag_embed(x._p, k, -2, -1), x._lv)
    if x.dim() == 2:
        from ..ops.shape import diagonal
        return wrap(diagonal(x._p, k, nb, nb + 1), x._lv)
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {x.dim()}D")


@rule("softmax")
def softmax(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    x = ba.arguments["input"]
    if ba.arguments.get("dim") is None:
        from ..ops.activation import _softmax_dim
        ba.arguments["dim"] = _softmax_dim(x.dim())
    return dims_rule(("dim",), "keep")(op, ba.args, ba.kwargs)


@rule("squeeze")
def squeeze(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    x, dim = ba.arguments["input"], ba.arguments["dim"]
    nb, shape = _nb(x), tuple(x.shape)
    if dim is None:
        dims = tuple(i for i, s in enumerate(shape) if s == 1)
    else:
        dims = tuple(d for d in (dim if isinstance(dim, (tuple, list)) else (dim,)))
        dims = tuple(_wrap_dim(d, max(len(shape), 1)) for d in dims) if shape else ()
    return out(op(x._p, tuple(d + nb for d in dims if shape and shape[d] == 1)) if dims else x._p.view_as(x._p),
               x._lv)


@rule("permute")
def permute(op: Callable, args: tuple, kwargs: dict) -> Any:
    x, dims = args[0], args[1:]
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = tuple(dims[0])
    nb, nd = _nb(x), x.dim()
    if len(dims) != nd:
        return op(x._p.select(0, 0), *dims)  # PyTorch's error, from the op itself
    return out(op(x._p, tuple(range(nb)) + tuple(_wrap_dim(d, nd) + nb for d in dims)), x._lv)


@rule("roll")
def roll(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    x, dims = ba.arguments["input"], ba.arguments["dims"]
    nb = _nb(x)
    if dims is None:
        flat = x._p.reshape(x._p.shape[:nb] + (-1,))
        return out(op(flat, ba.arguments["shifts"], nb).reshape(x._p.shape), x._lv)
    ba.arguments["dims"] = _shift(dims, x.dim(), nb)
    ba.arguments["input"] = x._p
    return out(_call(op, ba), x._lv)


@rule("repeat")
def repeat(op: Callable, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    from ..ops.shape import _shape_args
    reps = _shape_args(args[1:])
    nb = _nb(x)
    return out(op(_lead_ones(x, len(reps)), (1,) * nb + tuple(reps)), x._lv)


def _lead_ones(x: Tensor, n: int) -> Tensor:
    """x's physical value with size-1 logical dims added in front (after the batch dims) up to n
    logical dims: where repeat/expand put the new dims."""
    nb, nd, p = _nb(x), x.dim(), x._p
    return p.reshape(p.shape[:nb] + (1,) * (n - nd) + p.shape[nb:]) if n > nd else p


# ---------------------------------------------------------------------------
# views and shapes
# ---------------------------------------------------------------------------
@rule("reshape")
def reshape(op: Callable, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    if len(args) == 2 and isinstance(args[1], D.dtype):  # view(dtype)
        return out(op(x._p, args[1]), x._lv)
    from ..ops.shape import _infer_shape, _shape_args
    shape = _infer_shape(_shape_args(args[1:]), x.numel())
    return out(op(x._p, tuple(x._p.shape[:_nb(x)]) + tuple(shape)), x._lv)


@rule("expand")
def expand(op: Callable, args: tuple, kwargs: dict) -> Any:
    x = args[0]
    from ..ops.shape import _shape_args
    sz = _shape_args(args[1:])
    if len(sz) < x.dim():
        return op(x._p.select(0, 0), *sz)  # PyTorch's error, from the op itself
    nb, p = _nb(x), _lead_ones(x, len(sz))
    return out(op(p, tuple(p.shape[:nb]) + tuple(sz)), x._lv)


def _cat_like(op: Callable, args: tuple, kwargs: dict, extra: int) -> Any:
    ba = _bind(op, args, kwargs)
    ts = list(ba.arguments["tensors"])
    levels = levels_of(*ts)
    nd = max(t.dim() for t in ts)
    if ba.arguments.get("axis") is not None:
        ba.arguments["dim"], ba.arguments["axis"] = ba.arguments["axis"], None
    # legacy rule of cat: 1-d empty tensors are skipped
    keep = [t for t in ts if not (t.dim() == 1 and t.shape[0] == 0)] if extra == 0 else ts
    ts = keep or ts[:1]
    ba.arguments["tensors"] = [phys(t, levels, expand=True) for t in ts]
    ba.arguments["dim"] = _wrap_dim(ba.arguments["dim"], nd + extra) + len(levels)
    return out(_call(op, ba), levels)


RULES["cat"] = lambda op, a, k: _cat_like(op, a, k, 0)
RULES["stack"] = lambda op, a, k: _cat_like(op, a, k, 1)


def _key_tuple(key: Any) -> tuple:
    return key if isinstance(key, tuple) else (key,)


@rule("getitem")
def getitem(op: Callable, args: tuple, kwargs: dict) -> Any:
    x, key = args[0], args[1]
    given = key
    if kwargs.get("_normed") is not None:  # an internal call with a normalised key
        key = kwargs["_normed"][0]
        key = tuple(k if not isinstance(k, np.ndarray) else _core.wrap(k) for k in key)
    key = _key_tuple(key)
    if any(getattr(k, "_batched", False) for k in key):
        if any(getattr(k, "_batched", False) and k._dtype is D.bool for k in key):  # a batched mask: the
            # result's shape depends on the data
            return loop(op or _getitem_op(), (x, given), {})
        return _getitem_batched_index(x, key)
    nb = _nb(x)
    res = x._p[(slice(None),) * nb + key]
    # advanced indices separated by a slice put their dims first (NumPy and PyTorch): batch dims back in front
    adv = [i for i, k in enumerate(key) if isinstance(k, (Tensor, np.ndarray, list)) or
           (isinstance(k, (bool, np.bool_)))]
    if len(adv) > 1 and adv[-1] - adv[0] + 1 != len(adv):
        from ..ops.indexing import _norm_key
        shp = np.broadcast_shapes(*[np.shape(_norm_key((k,))[0][0]) for k in (key[i] for i in adv)])
        n_adv = len(shp)
        res = res.movedim(tuple(range(n_adv, n_adv + nb)), tuple(range(nb)))
    return out(res, x._lv)


def _getitem_batched_index(x: Tensor, key: tuple) -> Any:
    """x[key] where the key holds batched integer index tensors (an index per example): read from the
    physical value with the batch positions as extra leading index arrays. Those make every
    advanced index of the key non-adjacent to the front, so the index dims come first; where
    PyTorch would keep them in place (one block of advanced indices after some dims, the integers
    applied first as selects), they are moved back there."""
    from .. import _creation as C
    key = tuple(C.tensor(np.asarray(k)) if isinstance(k, (list, np.ndarray)) else k for k in key)
    levels = levels_of(x, *key)
    nb = len(levels)
    idx = [k for k in key if isinstance(k, Tensor)]
    idx_nd = len(np.broadcast_shapes(*[tuple(k.shape) for k in idx]))
    ks = []
    for j, n in enumerate(sizes(levels)):
        shape = [1] * (nb + idx_nd)
        shape[j] = n
        ks.append(C.arange(n).reshape(shape))
    res = phys(x, levels, expand=True)[tuple(ks) + tuple(phys(k, levels, idx_nd) if isinstance(k, Tensor) else k
                                                          for k in key)]
    # where PyTorch puts the index dims: the key without its integers (selects, applied first)
    rest = [k for k in key if not isinstance(k, (int, np.integer)) or isinstance(k, bool)]
    pos = [i for i, k in enumerate(rest) if isinstance(k, Tensor)]
    if pos[0] and pos[-1] - pos[0] + 1 == len(pos):  # one block, not at the front: its dims go in its place
        used = sum(1 for k in key if k is not None and k is not Ellipsis)
        before = sum(x.dim() - used if k is Ellipsis else 1 for k in rest[:pos[0]])
        res = res.movedim(tuple(range(nb, nb + idx_nd)), tuple(range(nb + before, nb + before + idx_nd)))
    return out(res, levels)


def _getitem_op() -> Callable:
    from ..ops.indexing import getitem as op
    return op


def _prefixed(key: tuple, nb: int) -> tuple:
    """A normalised key with nb full slices in front (for the batch dims)."""
    from ..ops.indexing import _Split
    full = (slice(None),) * nb
    return _Split(list(full) + list(key)) if type(key) is _Split else full + tuple(key)


def _adv_split(key: tuple) -> int:
    """For a normalised key whose advanced indices are separated by a slice (their dims then come
    first): the number of those dims; else 0."""
    adv = [i for i, k in enumerate(key) if isinstance(k, np.ndarray)]
    if len(adv) > 1 and adv[-1] - adv[0] + 1 != len(adv):
        return len(np.broadcast_shapes(*[k.shape for k in key if isinstance(k, np.ndarray)]))
    return 0


@rule("scatter_zeros")
def scatter_zeros(op: Callable, args: tuple, kwargs: dict) -> Any:
    """getitem's gradient (the values put back in zeros of the input's shape), per example."""
    g, key, shape, advanced = args
    nb = len(g._lv)
    p = g._p
    n_adv = _adv_split(key) if advanced else 0
    if n_adv:  # the scatter reads the advanced dims first: batch dims after them
        p = p.movedim(tuple(range(nb)), tuple(range(n_adv, n_adv + nb)))
    return wrap(op(p, _prefixed(key, nb), tuple(g._p.shape[:nb]) + tuple(shape), advanced), g._lv)


@rule("index_put_key")
def index_put_key(op: Callable, args: tuple, kwargs: dict) -> Any:
    """A copy of x with values written at a normalised (unbatched) key: the key behind full slices
    for the batch dims, the values laid out like x[key]. Keys mixing integers and index arrays, or
    with index arrays separated by slices, loop."""
    x, nkey, advanced, values = args[:4]  # (index_put_key, or _put_value without `accumulate`)
    from ..ops.indexing import _get, _Split
    if type(nkey) is _Split or _adv_split(nkey):
        return loop(op, args, kwargs)
    levels = levels_of(x, values)
    nb = len(levels)
    tnd = np.ndim(_get(np.broadcast_to(np.zeros((), bool), tuple(x.shape)), nkey))
    v = values
    if isinstance(v, Tensor):
        while v.dim() > tnd and v.shape[0] == 1:  # PyTorch drops a value's extra leading 1s
            v = v.squeeze(0)
        v = phys(v, levels, tnd)
    return wrap(op(phys(x, levels, expand=True), _prefixed(nkey, nb), advanced, v, *args[4:]), levels)


@rule("setitem")
def setitem(op: Callable, args: tuple, kwargs: dict) -> Any:
    self, key, value = args
    if not self._batched:
        raise RuntimeError("vmap: index_put_(self, *extra_args) is not possible because there exists a Tensor "
                           "`other` in extra_args that has more elements than `self`. This happened due to "
                           "`other` being vmapped over but `self` not being vmapped over in a vmap.")
    if levels_of(value) and not set(levels_of(value)) <= set(self._lv):
        raise RuntimeError("vmap: the value written into a tensor inside vmap is batched at a level the tensor "
                           "is not")
    key = _key_tuple(key)
    nb = len(self._lv)
    target = getitem(None, (self, key), {})
    v = value
    if isinstance(v, Tensor):
        v = phys(v, self._lv, target.dim())
    self._p[(slice(None),) * nb + key] = v


@rule("inplace")
def inplace(op: Callable, args: tuple, kwargs: dict) -> Any:
    """x.op_(...): the op out of place through its rule, written into x's physical value. As in
    PyTorch, x must be batched at every level its operands are."""
    self, fn = args[0], args[1]
    others = levels_of(*args[2:], *kwargs.values())
    if not set(others) <= set(levels_of(self)):
        raise RuntimeError("vmap: inplace arithmetic(self, *extra_args) is not possible because there exists a Tensor "
                           "`other` in extra_args that has more elements than `self`. This happened due to `other` "
                           "being vmapped over but `self` not being vmapped over in a vmap. Please try to use "
                           "out-of-place operators instead of inplace arithmetic.")
    res = fn(self, *args[2:], **kwargs)
    self._p.copy_(phys(res, self._lv, self.dim()))
    return self


# ---------------------------------------------------------------------------
# products
# ---------------------------------------------------------------------------
def _matmul_phys(a: Tensor, b: Tensor, levels: tuple) -> tuple:
    """a @ b as one physical matmul: vectors made matrices, logical batch dims right-aligned."""
    va, vb = a.dim() == 1, b.dim() == 1
    pa, pb = phys(a, levels), phys(b, levels)
    nb = len(levels)
    if va:
        pa = pa.unsqueeze(nb)
    if vb:
        pb = pb.unsqueeze(-1)
    ra, rb = pa.dim() - nb, pb.dim() - nb
    r = max(ra, rb)
    if ra < r:
        pa = pa.reshape(pa.shape[:nb] + (1,) * (r - ra) + pa.shape[nb:])
    if rb < r:
        pb = pb.reshape(pb.shape[:nb] + (1,) * (r - rb) + pb.shape[nb:])
    return pa, pb, va, vb


def _matmul(a: Tensor, b: Tensor) -> Tensor:
    from ..ops.linalg import matmul
    levels = levels_of(a, b)
    pa, pb, va, vb = _matmul_phys(a, b, levels)
    res = matmul(pa, pb)
    if vb:
        res = res.squeeze(-1)
    if va:
        res = res.squeeze(-2 if not vb else -1)
    return wrap(res, levels)


@rule("matmul")
def matmul_rule(op: Callable, args: tuple, kwargs: dict) -> Any:
    a, b = args[0], args[1]
    if op.__name__ in ("mm", "bmm", "mv", "dot"):  # their shape checks, on the logical shapes
        want = {"mm": (2, 2), "bmm": (3, 3), "mv": (2, 1), "dot": (1, 1)}[op.__name__]
        if (a.dim(), b.dim()) != want:
            return op(a._p.select(0, 0) if a._batched else a, b._p.select(0, 0) if b._batched else b)
    return _matmul(a, b)


@rule("addmm")
def addmm(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    p = _matmul(a["mat1"], a["mat2"])
    beta, alpha = a["beta"], a["alpha"]
    inp = a["input"]
    return (inp if beta == 1 else inp * beta) + (p if alpha == 1 else p * alpha)


@rule("einsum")
def einsum(op: Callable, args: tuple, kwargs: dict) -> Any:
    equation, operands = args[0], tuple(args[1])
    from ..ops._einsum import _parse
    ins, outs = _parse(equation, tuple(_LogicalShape(o) for o in operands))
    levels = levels_of(*operands)
    used = set("".join(ins) + outs)
    letters = [c for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used][:len(levels)]
    new_ins, ps = [], []
    for s, o in zip(ins, operands):
        own = o._lv if o._batched else ()
        new_ins.append("".join(letters[levels.index(lv)] for lv in own) + s)
        ps.append(o._p if o._batched else o)
    expr = ",".join(new_ins) + "->" + "".join(letters) + outs
    return wrap(op(expr, tuple(ps)), levels)


class _LogicalShape:
    """Stand-in with an operand's logical shape, for einsum's equation parser."""

    def __init__(self, t: Tensor) -> None:
        self.shape = tuple(t.shape)
        self.dim = lambda: len(self.shape)
        self._data = np.broadcast_to(np.zeros((), bool), self.shape)


# ---------------------------------------------------------------------------
# ops with a leading batch dim of their own: vmap dims folded into it
# ---------------------------------------------------------------------------
def _fold(t: Tensor, levels: tuple, own_batch: bool) -> tuple:
    """t's physical value with all batch dims (and its own leading batch dim, if it has one) merged
    into one; returns (folded, unfold shape)."""
    p = phys(t, levels, expand=True)
    nb = len(levels)
    lead = tuple(p.shape[:nb + (1 if own_batch else 0)])
    return p.reshape((-1,) + tuple(p.shape[len(lead):])), lead


def _unfold(res: Tensor, lead: tuple, own_batch: bool) -> Tensor:
    return res.reshape(lead + tuple(res.shape[1:]))


@rule("conv")
def conv(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    nd, x, w, b = a["nd"], a["input"], a["weight"], a["bias"]
    levels = levels_of(x, w, b)
    own = x.dim() == nd + 2
    if not levels_of(w, b):  # shared weights: the batch dims join the conv's own batch dim
        xp, lead = _fold(x, levels, own)
        if not own:
            lead = lead + (1,)  # (placeholder for the squeezed sample dim)
        a["input"] = xp
        res = _call(op, ba)
        res = res.reshape(lead + tuple(res.shape[1:]))
        return wrap(res.squeeze(len(levels)) if not own else res, levels)
    # one weight per example: a grouped convolution with groups * (number of examples)
    nb = len(levels)
    xp = phys(x, levels, expand=True)
    if not own:
        xp = xp.unsqueeze(nb)
    lead = tuple(xp.shape[:nb])
    nbt = int(np.prod(lead))
    n, c = xp.shape[nb], xp.shape[nb + 1]
    x2 = xp.reshape((nbt, n, c) + tuple(xp.shape[nb + 2:])).transpose(0, 1).reshape(
        (n, nbt * c) + tuple(xp.shape[nb + 2:]))
    wp = phys(w, levels, expand=True)
    w2 = wp.reshape((-1,) + tuple(wp.shape[nb + 1:]))
    b2 = phys(b, levels, expand=True).reshape(-1) if b is not None else None
    a["input"], a["weight"], a["bias"], a["groups"] = x2, w2, b2, a["groups"] * nbt
    res = _call(op, ba)  # (n, nbt * o, *sp)
    o = res.shape[1] // nbt
    res = res.reshape((n, nbt, o) + tuple(res.shape[2:])).transpose(0, 1).reshape(lead + (n, o) +
                                                                                   tuple(res.shape[2:]))
    return wrap(res.squeeze(nb) if not own else res, levels)


def pool_rule(spatial_from: str = "nd") -> Callable:
    """Pooling over the trailing `nd` dims of (N, C, *sp) or (C, *sp): every leading dim is folded."""
    def r(op: Callable, args: tuple, kwargs: dict) -> Any:
        ba = _bind(op, args, kwargs)
        a = ba.arguments
        x = a["input"]
        nd = a[spatial_from]
        levels = x._lv
        p = x._p
        lead = tuple(p.shape[:p.dim() - nd - 1])
        a["input"] = p.reshape((-1,) + tuple(p.shape[p.dim() - nd - 1:]))
        res = _call(op, ba)
        unf = (lambda t: t.reshape(lead + tuple(t.shape[1:])))
        if isinstance(res, tuple):
            return type(res)(*(wrap(unf(t), levels) for t in res)) if hasattr(res, "_fields") else \
                tuple(wrap(unf(t), levels) for t in res)
        return wrap(unf(res), levels)
    return r


RULES["pool"] = pool_rule()


def _lead_fold(k: int) -> Callable:
    """An op on (N, *k trailing dims) or (*k trailing dims) input: every dim before the last k is
    folded into its N."""
    def r(op: Callable, args: tuple, kwargs: dict) -> Any:
        x = args[0]
        p = x._p
        lead = tuple(p.shape[:p.dim() - k])
        res = op(p.reshape((-1,) + tuple(p.shape[p.dim() - k:])), *args[1:], **kwargs)
        return wrap(res.reshape(lead + tuple(res.shape[1:])), x._lv)
    return r


RULES["fold3"] = _lead_fold(3)  # unfold: (N, C, H, W)
RULES["fold2"] = _lead_fold(2)  # fold: (N, C * kH * kW, L)


@rule("pad")
def pad(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    x = ba.arguments["input"]
    if ba.arguments["mode"] == "constant":
        ba.arguments["input"] = x._p  # pads trailing dims only
        return wrap(_call(op, ba), x._lv)
    npd = len(ba.arguments["pad"]) // 2  # reflect/replicate/circular read (N, C, *sp): fold the rest
    p = x._p
    lead = tuple(p.shape[:p.dim() - npd - 1])
    ba.arguments["input"] = p.reshape((-1,) + tuple(p.shape[p.dim() - npd - 1:]))
    res = _call(op, ba)
    return wrap(res.reshape(lead + tuple(res.shape[1:])), x._lv)


@rule("nll_loss")
def nll_loss(op: Callable, args: tuple, kwargs: dict) -> Any:
    """Per-example losses from one call on the folded batch, then each example's reduction."""
    from ..nn.functional import _reduction
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    x, t, w = a["input"], a["target"], a["weight"]
    red = _reduction(a["size_average"], a["reduce"], a["reduction"])
    if levels_of(w):
        return loop(op, args, kwargs)
    levels = levels_of(x, t)
    nb = len(levels)
    unb = x.dim() == 1
    xp, tp = phys(x, levels, expand=True), phys(t, levels, expand=True)
    if unb:
        xp, tp = xp.unsqueeze(nb), tp.reshape(tp.shape[:nb] + (1,))
    lead = tuple(xp.shape[:nb])
    xf = xp.reshape((int(np.prod(lead)) * xp.shape[nb],) + tuple(xp.shape[nb + 1:]))
    tf = tp.reshape((int(np.prod(lead)) * tp.shape[nb],) + tuple(tp.shape[nb + 1:]))
    losses = op(xf, tf, w, None, a["ignore_index"], None, "none").reshape(lead + tuple(tp.shape[nb:]))
    if unb:
        losses = losses.squeeze(nb)
    if red == "none":
        return wrap(losses, levels)
    axes = tuple(range(nb, losses.dim()))
    total = losses.sum(axes) if axes else losses
    if red == "sum":
        return wrap(total, levels)
    valid = tp != a["ignore_index"]
    if w is not None:
        tsafe = tp.clamp(min=0) * valid
        den = (w[tsafe.reshape(-1)].reshape(tsafe.shape) * valid).sum(tuple(range(nb, tp.dim())))
    else:
        den = valid.sum(tuple(range(nb, tp.dim()))).to(losses.dtype)
    return wrap(total / den.to(losses.dtype), levels)


def _per_example_loss(op: Callable, args: tuple, kwargs: dict, names: tuple) -> Any:
    """An elementwise loss with a reduction: computed with reduction='none' on the aligned physical
    values, then reduced over each example's logical dims."""
    from ..nn.functional import _reduction
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    red = _reduction(a.get("size_average"), a.get("reduce"), a["reduction"])
    ts = [a[n] for n in names if isinstance(a.get(n), Tensor)]
    levels = levels_of(*ts)
    nd = max(t.dim() for t in ts)
    for n in names:
        if isinstance(a.get(n), Tensor):  # input and target keep equal shapes (the losses require them)
            a[n] = phys(a[n], levels, nd, expand=n in names[:2])
    if "size_average" in a:
        a["size_average"] = a["reduce"] = None
    a["reduction"] = "none"
    res = _call(op, ba)
    nb = len(levels)
    axes = tuple(range(nb, res.dim()))
    if red == "sum":
        res = res.sum(axes) if axes else res
    elif red == "mean":
        res = res.mean(axes) if axes else res
    return wrap(res, levels)


RULES["bce"] = lambda op, a, k: _per_example_loss(op, a, k, ("input", "target", "weight"))
RULES["bce_logits"] = lambda op, a, k: _per_example_loss(op, a, k, ("input", "target", "weight", "pos_weight"))


@rule("embedding")
def embedding(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    idx, w = a["input"], a["weight"]
    if not levels_of(w):
        a["input"] = idx._p
        return wrap(_call(op, ba), idx._lv)
    # one table per example: the rows read with the example's index as a leading index array
    levels = levels_of(idx, w)
    if a["max_norm"] is not None:
        return loop(op, args, kwargs)
    return _getitem_batched_index(w, (wrap(phys(idx, levels, expand=True), levels),))


@rule("gather")
def gather(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    x, idx = a["input"], a["index"]
    levels = levels_of(x, idx)
    nd = x.dim()
    a["input"] = phys(x, levels, expand=True)
    a["index"] = phys(idx, levels, expand=True)
    a["dim"] = _wrap_dim(a["dim"], max(nd, 1)) + len(levels)
    return wrap(_call(op, ba), levels)


@rule("scatter")
def scatter(op: Callable, args: tuple, kwargs: dict) -> Any:
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    names = [n for n in ("input", "index", "src") if isinstance(a.get(n), Tensor)]
    levels = levels_of(*[a[n] for n in names])
    nd = a["input"].dim()
    for n in names:
        a[n] = phys(a[n], levels, expand=True)
    a["dim"] = _wrap_dim(a["dim"], max(nd, 1)) + len(levels)
    return wrap(_call(op, ba), levels)


@rule("index_dim")
def index_dim(op: Callable, args: tuple, kwargs: dict) -> Any:
    """index_add / index_copy / index_fill(input, dim, index, source or value): one index shared by
    the batch (the dim shifted past the batch dims); a batched index loops."""
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    x, idx = a["input"], a["index"]
    other = "source" if "source" in a else "value" if "value" in a else None
    v = a[other] if other else None
    if levels_of(idx) or x.dim() == 0:
        return loop(op, args, kwargs)
    levels = levels_of(x, v)
    a["input"] = phys(x, levels, expand=True)
    if isinstance(v, Tensor) and (other == "source" or v.dim()):
        a[other] = phys(v, levels, expand=True)
    elif levels_of(v):  # a batched 0-d fill value
        return loop(op, args, kwargs)
    a["dim"] = _wrap_dim(a["dim"], x.dim()) + len(levels)
    return wrap(_call(op, ba), levels)


@rule("take")
def take(op: Callable, args: tuple, kwargs: dict) -> Any:
    """take(input, index): each example's input flattened, read at one shared index."""
    x, idx = args
    if levels_of(idx):
        return loop(op, args, kwargs)
    nb, p = _nb(x), x._p
    flat = p.reshape(tuple(p.shape[:nb]) + (-1,))
    return wrap(flat[(slice(None),) * nb + (idx,)], x._lv)


@rule("as_strided")
def as_strided(op: Callable, args: tuple, kwargs: dict) -> Any:
    """as_strided inside vmap: sizes, strides and offset count within each example's own memory (a
    contiguous copy of it, so the result does not share memory with the input)."""
    x, size, stride, offset = args
    levels = levels_of(x)
    p = phys(x, levels, expand=True).clone()
    lead = tuple(p.shape[:len(levels)])
    return wrap(op(p, lead + tuple(size), tuple(p.stride())[:len(levels)] + tuple(stride), offset or 0), levels)


@rule("pinv")
def pinv(op: Callable, args: tuple, kwargs: dict) -> Any:
    """Pseudo-inverse over the trailing two dims; tolerances given as tensors loop."""
    if isinstance(kwargs.get("atol"), Tensor) or isinstance(kwargs.get("rtol"), Tensor):
        return loop(op, args, kwargs)
    x = args[0]
    return wrap(op(x._p, **kwargs), x._lv)


@rule("trailing")
def trailing(op: Callable, args: tuple, kwargs: dict) -> Any:
    """Ops that act on the trailing dims and treat leading ones as batch (tril, triu, inv, det, ...):
    the physical values go straight in."""
    tensors = [a for a in args if isinstance(a, Tensor)]
    levels = levels_of(*tensors)
    nd = max(t.dim() for t in tensors)
    res = op(*[phys(a, levels, nd) if isinstance(a, Tensor) else a for a in args], **kwargs)
    if isinstance(res, tuple):  # an empty placeholder result (qr's Q with mode='r') gets the batch dims too
        fixed = [r.reshape(sizes(levels) + tuple(r.shape)) if isinstance(r, Tensor) and r.numel() == 0 and
                 r.dim() < len(levels) + 1 else r for r in res]
        res = type(res)(*fixed) if hasattr(res, "_fields") else type(res)(fixed)
    return out(res, levels)


@rule("solve")
def solve(op: Callable, args: tuple, kwargs: dict) -> Any:
    """linalg.solve(A, B, left=): a right-hand side that is a vector (by PyTorch's rule, on the logical
    shapes) is solved as a one-column matrix, so the batch dims cannot change how B is read."""
    A, B = args
    left = kwargs.get("left", True)
    if B.dim() == 1 or (B.dim() == A.dim() - 1 and tuple(B.shape) == tuple(A.shape[:-1])):
        d = -1 if left else -2
        return op(A, B.unsqueeze(d), left=left).squeeze(d)
    levels = levels_of(A, B)
    nd = max(A.dim(), B.dim())
    return wrap(op(phys(A, levels, nd), phys(B, levels, nd), left=left), levels)


@rule("dropout")
def dropout(op: Callable, args: tuple, kwargs: dict) -> Any:
    """dropout inside vmap: the mask is drawn per example ('different') or once ('same'), or refused."""
    ba = _bind(op, args, kwargs)
    a = ba.arguments
    x = a["input"]
    if not a["training"] or a["p"] == 0:
        return x if not a.get("inplace") else x
    levels = _core.VMAP["random_levels"]()
    mask_levels = tuple(lv for lv in x._lv if lv in levels)
    shape = sizes(mask_levels) + tuple(x.shape)
    from ..ops.nn import _dropout_mask
    mask = wrap(_dropout_mask(x._p, a["p"], shape), mask_levels) if mask_levels else _dropout_mask(x._p, a["p"],
                                                                                                  tuple(x.shape))
    return x * mask

