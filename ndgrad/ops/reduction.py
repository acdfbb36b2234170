"""Reductions and scans: sum, mean, prod, var/std, max/min (+ dim forms), arg*, norms,
logsumexp, cumsum/cumprod, sort/topk, all/any. Gradient rules expand the incoming
gradient back over the reduced dims."""
from __future__ import annotations

import builtins
import math
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from .. import _alias
from ._core import (dim_given, _fw_levels, _make, _state, has_fw, autocast_op, check_tensor,
                     dims_arg, in_float32, is_low_float, out_ref, record, register, upcast,
                    wrap_dim)
from ._core import _vmap_levels, is_batched, vmap_rule
from ._core import not_impl, refuses
from .._sums import fsum
from .elementwise import abs as _abs
from .elementwise import exp, log, where
from .shape import expand, reshape, squeeze, unsqueeze


class _ReturnType(tuple):
    """Named pair ((values, indices) for most ops) printed as PyTorch's torch.return_types.<name>."""

    _name = "max"
    _fields = ("values", "indices")

    def __new__(cls, *values: Tensor) -> "_ReturnType":
        return tuple.__new__(cls, values)

    def __getnewargs__(self) -> tuple:  # pickle and copy rebuild it from its fields
        return tuple(self)

    def __repr__(self) -> str:
        body = ",\n".join(f"{f}={v!r}" for f, v in zip(self._fields, self))
        return f"{_alias.PUBLIC}.return_types.{self._name}(\n{body})"


_RETURN_TYPES: dict = {}


def return_type(name: str, fields: tuple = ("values", "indices")) -> type:
    """The named-pair class torch.return_types.<name>, with one attribute per field (made once, cached)."""
    cls = _RETURN_TYPES.get(name)
    if cls is None:
        attrs = {f: property(lambda self, i=i: self[i]) for i, f in enumerate(fields)}
        cls = _RETURN_TYPES[name] = type(name, (_ReturnType,), {"_name": name, "_fields": fields, **attrs})
        _alias.set_module("ndgrad.return_types", cls)
    return cls


def _dim_kw(dim: Any, axis: Any, keepdim: Any, keepdims: Any) -> tuple:
    if axis is not None:
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    return dim, bool(keepdim)


def _keep_shape(shape: tuple, axes: tuple | None) -> tuple:
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else s for i, s in enumerate(shape))


def _expand_back(g: Tensor, in_shape: tuple, axes: tuple | None, keepdim: bool) -> Tensor:
    if not keepdim:
        g = g.reshape(_keep_shape(in_shape, axes))
    return expand(g, in_shape)


class SumBackward0(Node):
    __slots__ = ("in_shape",)

    def backward(self, g: Tensor) -> tuple:
        return (expand(g.reshape((1,) * len(self.in_shape)), self.in_shape),)

    def fast(self, g: np.ndarray) -> tuple:
        return (np.broadcast_to(g.reshape((1,) * len(self.in_shape)), self.in_shape),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return sum(ts[0])


def _expand_back_array(g: np.ndarray, in_shape: tuple, axes: tuple | None, keepdim: bool) -> np.ndarray:
    if not keepdim:
        g = g.reshape(_keep_shape(in_shape, axes))
    return np.broadcast_to(g, in_shape)


class SumBackward1(Node):
    __slots__ = ("in_shape", "axes", "keepdim")

    def backward(self, g: Tensor) -> tuple:
        return (_expand_back(g, self.in_shape, self.axes, self.keepdim),)

    def fast(self, g: np.ndarray) -> tuple:
        return (_expand_back_array(g, self.in_shape, self.axes, self.keepdim),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return sum(ts[0], self.axes, self.keepdim)


def _sum_dtype(input: Tensor, dtype: Any) -> D.dtype:
    if dtype is not None:
        from .._creation import as_dtype
        return as_dtype(dtype)
    return D.int64 if input._dtype.category < 2 else input._dtype


@register()
def sum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None,  # noqa: A001
        keepdims: Any = None) -> Tensor:
    """Sum of all elements, or over dim(s) (int, list or tuple; `axis` accepted)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("sum", sum, input, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    if axis is not None or keepdims is not None:
        dim, keepdim = _dim_kw(dim, axis, keepdim, keepdims)
    if input._is_sparse_coo:  # torch.sum of a sparse COO tensor (ndgrad.sparse)
        return input.sum(dim, keepdim, dtype=dtype)
    arr = input._data
    axes = dims_arg(dim, arr.ndim) if dim is not None else None
    if axes == () and isinstance(dim, (list, tuple)):
        axes = None  # sum(dim=[]) reduces everything, as in PyTorch
    dt = input._dtype if dtype is None and input._dtype.category >= 2 else _sum_dtype(input, dtype)
    if arr.ndim == 0:
        axes = None
    if is_low_float(dt):  # float16/bfloat16 accumulate in float32, rounded once (PyTorch's CPU kernels)
        r = np.asarray(fsum(arr, axes, keepdim, np.float32)).astype(dt.np)
    else:
        r = fsum(arr, axes, keepdim, dt.np)
    res = _make(r if type(r) is np.ndarray else np.asarray(r), dt)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        if axes is None and not keepdim:
            n = SumBackward0()
            n.in_shape = arr.shape
        else:
            n = SumBackward1()
            n.in_shape, n.axes, n.keepdim = arr.shape, axes, keepdim
        record(n, res, (input,))
    return res


@register()
@refuses(("c", RuntimeError, "nansum on CPU does not support complex inputs"))
def nansum(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Sum treating NaN as zero."""
    return sum(where(input != input, 0.0, input), dim, keepdim, dtype=dtype)


class MeanBackward0(Node):
    __slots__ = ("in_shape", "axes", "keepdim", "count")

    def backward(self, g: Tensor) -> tuple:
        return (_expand_back(g, self.in_shape, self.axes, self.keepdim) / self.count,)

    def fast(self, g: np.ndarray) -> tuple:
        return (_expand_back_array(g / g.dtype.type(self.count), self.in_shape, self.axes, self.keepdim),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return sum(ts[0], self.axes, self.keepdim) / self.count


@register(node_name=lambda a, k: "MeanBackward1" if dim_given(a, k) else None)
def mean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None,
         keepdims: Any = None) -> Tensor:
    """Arithmetic mean of all elements or over dim(s)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("mean", mean, input, dim, keepdim, dtype=dtype, axis=axis, keepdims=keepdims)
    dim, keepdim = _dim_kw(dim, axis, keepdim, keepdims)
    if dtype is not None:
        input = input.to(dtype)
    if input._dtype.category < 2:
        raise RuntimeError("mean(): could not infer output dtype. Input dtype must be either a floating point "
                           f"or complex dtype. Got: {_cap(input._dtype)}")
    axes = dims_arg(dim, input._data.ndim)
    if axes == ():
        axes = None
    arr = input._data
    if arr.ndim == 0:
        axes = None
    if arr.size:  # the sum accumulates as `sum` does (float32 for float16/bfloat16)
        total = fsum(arr, axes, keepdim, np.float32 if is_low_float(input._dtype) else None)
        m = total / (arr.size // builtins.max(np.size(total), 1))
    else:  # NaN for an empty reduction, without NumPy's "Mean of empty slice" warning
        m = np.sum(arr, axis=axes, keepdims=keepdim) / np.asarray(0, arr.dtype)
    res = _make(np.asarray(m).astype(arr.dtype, copy=False), input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = MeanBackward0()
        n.in_shape, n.axes, n.keepdim = arr.shape, axes, keepdim
        n.count = arr.size // builtins.max(res._data.size, 1) if arr.size else 1
        record(n, res, (input,))
    return res


@register()
@refuses(("c", RuntimeError, "nansum on CPU does not support complex inputs"))
def nanmean(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Mean of the non-NaN elements."""
    if input._dtype.category < 2:
        raise RuntimeError(f"nanmean(): expected input to have floating point or complex dtype but got "
                           f"{_cap(input._dtype)}")
    notnan = (input == input)
    return nansum(input, dim, keepdim) / sum(notnan, dim, keepdim)


_cap = D.scalar_name


class ProdBackward0(Node):
    __slots__ = ("in_shape", "axes", "keepdim")

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        ge = _expand_back(g, self.in_shape, self.axes, self.keepdim)
        oe = _expand_back(out, self.in_shape, self.axes, self.keepdim)
        if not np.any(x._data == 0):
            return (ge * oe / x,)
        # with zeros: product of all other elements, computed without dividing
        axes = self.axes if self.axes is not None else tuple(range(len(self.in_shape)))
        return (ge * _prod_others(x, axes),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, t = ins[0], ts[0]
        if not np.any(x._data == 0):
            return out * sum(t / x, self.axes, self.keepdim)
        axes = self.axes if self.axes is not None else tuple(range(len(self.in_shape)))
        return sum(t * _prod_others(x, axes), self.axes, self.keepdim)


def _prod_others(x: Tensor, axes: tuple) -> Tensor:
    # exclusive cumulative products from both sides along the flattened reduced dims
    moved = x.movedim(axes, tuple(range(-len(axes), 0))) if axes else x
    shp = moved._data.shape
    flat = moved.reshape(shp[:len(shp) - len(axes)] + (-1,))
    ones = flat[..., :1] * 0 + 1
    left = cumprod(_cat_last(ones, flat[..., :-1]), -1)
    right = cumprod(_cat_last(ones, flat[..., 1:].flip(-1)), -1).flip(-1)
    res = (left * right).reshape(shp)
    return res.movedim(tuple(range(-len(axes), 0)), axes) if axes else res


def _cat_last(a: Tensor, b: Tensor) -> Tensor:
    from .shape import cat
    return cat([a, b], -1)


@register(node_name=lambda a, k: "ProdBackward1" if dim_given(a, k) else None)
@autocast_op("fp32")
def prod(input: Tensor, dim: Any = None, keepdim: bool = False, *, dtype: Any = None) -> Tensor:
    """Product of all elements or along one dim."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("prod", prod, input, dim, keepdim, dtype=dtype)
    dt = _sum_dtype(input, dtype)
    axes = dims_arg(dim, input._data.ndim)
    if input._data.ndim == 0:
        axes = None
    res = _make(np.asarray(np.prod(input._data, axis=axes, dtype=dt.np, keepdims=keepdim)), dt)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = ProdBackward0()
        n.in_shape, n.axes, n.keepdim = input._data.shape, axes, keepdim
        n.save(input, out_ref(res))
        record(n, res, (input,))
    return res


def _correction(unbiased: Any, correction: Any) -> float:
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _var_kernel(arr: np.ndarray, axes: tuple | None, correction: float, take_sqrt: bool) -> np.ndarray:
    """var/std as PyTorch's CPU kernels compute them: in float64 (complex: the variances of the real
    and imaginary parts added). A reduction to one value of a float32/float64 input centres on
    the mean rounded to the input's dtype (PyTorch's all-reduce path); others on the exact mean."""
    if arr.dtype.kind == "c":
        v = _var_kernel(arr.real, axes, correction, False) + _var_kernel(arr.imag, axes, correction, False)
        return np.sqrt(v) if take_sqrt else v
    x = arr.astype(np.float64)
    n = x.size if axes is None else math.prod(x.shape[a] for a in axes)
    if n == 0:
        m = np.full(_keep_shape(x.shape, axes), np.nan)
    elif x.size == n and arr.dtype in (np.float32, np.float64):
        m = np.asarray(fsum(arr, axes, True) / arr.dtype.type(n), np.float64)
    else:
        m = np.add.reduce(x, axis=axes, keepdims=True) / n
    d = x - m
    d *= d
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.add.reduce(d, axis=axes) / builtins.max(n - correction, 0)
    return np.sqrt(v) if take_sqrt else v


def _dof_factor(dof: float) -> float:
    return 2.0 / dof if dof > 0 else math.inf


class VarBackward0(Node):
    """d var / d x = 2 (x - mean) / (n - correction)."""
    __slots__ = ("axes", "keepdim", "dof")

    def _centered(self, x: Tensor) -> Tensor:
        return x - mean(x, self.axes, keepdim=True)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved()
        return (_expand_back(g, x._data.shape, self.axes, self.keepdim) * self._centered(x) * _dof_factor(self.dof),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        xc = self._centered(ins[0])
        prod = (xc.conj() * ts[0]).real if xc.is_complex() else xc * ts[0]
        return sum(prod, self.axes, self.keepdim) * _dof_factor(self.dof)


class StdBackward0(VarBackward0):
    """d std / d x = (x - mean) / ((n - correction) std), zero where std is zero (as PyTorch)."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        shape = x._data.shape
        half = where(out == 0, 0.0, g / (2 * out))
        return (_expand_back(half, shape, self.axes, self.keepdim) * self._centered(x) * _dof_factor(self.dof),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        tv = VarBackward0.jvp(self, ins, out, ts)
        return where(out == 0, 0.0, tv / (2 * out))


def _var_std(input: Tensor, dim: Any, unbiased: Any, keepdim: bool, correction: Any, axis: Any, keepdims: Any,
             take_sqrt: bool) -> Tensor:
    name = "std" if take_sqrt else "var"
    if isinstance(dim, bool):
        dim, unbiased = None, dim
    if _vmap_levels and is_batched(input):
        return vmap_rule("var_std", _var_std, input, dim, unbiased, keepdim, correction, axis, keepdims, take_sqrt)
    dim, keepdim = _dim_kw(dim, axis, keepdim, keepdims)
    if input._dtype.category < 2:
        raise RuntimeError("std and var only support floating point and complex dtypes")
    c = _correction(unbiased, correction)
    arr = input._data
    axes = dims_arg(dim, arr.ndim)
    if arr.ndim == 0 or axes == ():
        axes = None  # an empty dim list reduces over all dims, as PyTorch does
    n = arr.size if axes is None else math.prod(arr.shape[a] for a in axes)
    if n - c <= 0 and arr.size:
        import warnings
        warnings.warn(f"{name}(): degrees of freedom is <= 0. Correction should be strictly less than the "
                      "reduction factor (input numel divided by output numel).", UserWarning, stacklevel=3)
    v = _var_kernel(arr, axes, c, take_sqrt)
    out_dt = input._dtype.to_real()
    res = _make(np.asarray(v.reshape(_keep_shape(arr.shape, axes)) if keepdim else v).astype(out_dt.np), out_dt)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        node = StdBackward0() if take_sqrt else VarBackward0()
        node.axes, node.keepdim, node.dof = axes, keepdim, builtins.max(n - c, 0)
        if take_sqrt:
            node.save(input, out_ref(res))
        else:
            node.save(input)
        record(node, res, (input,))
    return res


@register()
def var(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    """Variance (Bessel-corrected by default; `correction`/`unbiased` choose)."""
    return _var_std(input, dim, unbiased, keepdim, correction, axis, keepdims, False)


@register()
def std(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
        correction: Any = None, axis: Any = None, keepdims: Any = None) -> Tensor:
    """Standard deviation (the square root of var, computed as one op)."""
    return _var_std(input, dim, unbiased, keepdim, correction, axis, keepdims, True)


@register()
def var_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """(var, mean) over the same dims, in one call."""
    return var(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


@register()
def std_mean(input: Tensor, dim: Any = None, unbiased: Any = None, keepdim: bool = False, *,
             correction: Any = None) -> tuple:
    """(std, mean) over the same dims, in one call."""
    return std(input, dim, unbiased, keepdim, correction=correction), mean(input, dim, keepdim)


class AmaxBackward0(Node):
    """Gradient of a max/min over dims: split evenly among the tied extreme elements."""
    __slots__ = ("axes", "keepdim")

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        shape = x._data.shape
        oe = _expand_back(out, shape, self.axes, self.keepdim)
        mask = (x == oe).to(g._dtype)
        count = sum(mask, self.axes, keepdim=True)
        return (_expand_back(g, shape, self.axes, self.keepdim) * mask / count,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, t = ins[0], ts[0]  # the mean of the tangents of the tied extremes
        mask = (x == _expand_back(out, x._data.shape, self.axes, self.keepdim)).to(t._dtype)
        return sum(t * mask, self.axes, self.keepdim) / sum(mask, self.axes, self.keepdim)


class AminBackward0(AmaxBackward0):
    __slots__ = ()


class MaxBackward1(AmaxBackward0):
    """max() / min() / median() of all elements: the gradient is split evenly among the elements
    equal to the result, a NaN result among the NaNs (PyTorch's rule for these, not for amax)."""
    __slots__ = ()

    def _mask(self, x: Tensor, out: Tensor, dt: D.dtype) -> Tensor:
        oe = _expand_back(out, x._data.shape, self.axes, self.keepdim)
        return ((x == oe) | (x.isnan() & oe.isnan()) if x.is_floating_point() else x == oe).to(dt)

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        mask = self._mask(x, out, g._dtype)
        return (_expand_back(g, x._data.shape, self.axes, self.keepdim) * mask / sum(mask, self.axes, keepdim=True),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        mask = self._mask(ins[0], out, ts[0]._dtype)  # the mean of the tied elements' tangents
        return sum(ts[0] * mask, self.axes, self.keepdim) / sum(mask, self.axes, self.keepdim)


class MinBackward1(MaxBackward1):
    __slots__ = ()


class MedianBackward0(MaxBackward1):
    __slots__ = ()


class NanmedianBackward0(MaxBackward1):
    __slots__ = ()


def _extreme(input: Tensor, axes: tuple | None, keepdim: bool, fn: Any, node: type, name: str) -> Tensor:
    if _vmap_levels and is_batched(input):
        return vmap_rule("extreme", _extreme, input, axes, keepdim, fn, node, name)
    arr = input._data
    if arr.size == 0 and (axes is None or builtins.any(arr.shape[a] == 0 for a in axes)):
        raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                           "Specify the reduction dim with the 'dim' argument." if axes is None else
                           f"{name}(): Expected reduction dim {axes[0]} to have non-zero size.")
    if arr.ndim == 0:
        axes = None
    return _with_axes_node(node, input, _make(np.asarray(fn(arr, axis=axes, keepdims=keepdim)), input._dtype), axes,
                           keepdim)


@register()
@refuses(not_impl("max_values_cpu", "c"))
def amax(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Maximum over dim(s) (all dims when empty); ties share the gradient."""
    axes = dims_arg(dim, input._data.ndim) or None
    return _extreme(input, axes, keepdim, np.max, AmaxBackward0, "amax")


@register()
@refuses(not_impl("min_values_cpu", "c"))
def amin(input: Tensor, dim: Any = (), keepdim: bool = False) -> Tensor:
    """Minimum over dim(s); ties share the gradient."""
    axes = dims_arg(dim, input._data.ndim) or None
    return _extreme(input, axes, keepdim, np.min, AminBackward0, "amin")


def _max_min(input: Tensor, dim: Any, keepdim: bool, other_fn: Any, reduce: Any, arg: Any,
             node: type, name: str) -> Any:
    if isinstance(dim, Tensor):
        return other_fn(input, dim)
    if input._dtype.category == 3:
        if dim is None:
            raise NotImplementedError(f"\"{name}_all\" not implemented for '{_cap(input._dtype)}'")
        raise RuntimeError(f"{name}(): does not support complex input")
    if dim is None:
        if input._data.size == 0:
            raise RuntimeError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                               "Specify the reduction dim with the 'dim' argument.")
        return _extreme(input, None, False, reduce, node, name)
    d = wrap_dim(dim, input._data.ndim)
    if input._data.ndim and input._data.shape[d] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {d} to have non-zero size.")
    idx = arg(input, d, keepdim=True)
    from .indexing import pick_along
    values = pick_along(input, d, idx, keepdim, f"{name.capitalize()}Backward0")
    if not keepdim and input._data.ndim:
        idx = squeeze(idx, d)
    return return_type(name)(values, idx)


@register()
def max(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Largest element; with dim, (values, indices) along it; with a tensor, elementwise maximum."""
    from .elementwise import maximum
    return _max_min(input, dim, keepdim, maximum, np.max, argmax, MaxBackward1, "max")


@register()
def min(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:  # noqa: A001
    """Smallest element; with dim, (values, indices) along it; with a tensor, elementwise minimum."""
    from .elementwise import minimum
    return _max_min(input, dim, keepdim, minimum, np.min, argmin, MinBackward1, "min")


def _arg(input: Tensor, dim: Any, keepdim: bool, fn: Any, name: str) -> Tensor:
    if _vmap_levels and is_batched(input):
        return vmap_rule("argmax", _arg, input, dim, keepdim, fn, name)
    arr = input._data
    if arr.size == 0 and dim is None:
        raise IndexError(f"{name}(): Expected reduction dim to be specified for input.numel() == 0.")
    if arr.size == 0 and arr.ndim and arr.shape[wrap_dim(dim, arr.ndim)] == 0:
        raise IndexError(f"{name}(): Expected reduction dim {wrap_dim(dim, arr.ndim)} to have non-zero size.")
    if dim is None:
        r = np.asarray(fn(arr.reshape(-1)))
        if keepdim:
            r = r.reshape((1,) * arr.ndim)
        return _make(r.astype(np.int64), D.int64)
    if arr.ndim == 0:
        return _make(np.zeros((), np.int64), D.int64)
    d = wrap_dim(dim, arr.ndim)
    return _make(np.asarray(fn(arr, axis=d, keepdims=keepdim)).astype(np.int64, copy=False), D.int64)


@register()
@refuses(("b", RuntimeError, "argmax(): does not support bool input"),
          ("c", RuntimeError, "argmax(): does not support complex input"))
def argmax(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: Any = None) -> Tensor:
    """Index of the largest element (first on ties), flattened or along dim."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _dim_kw(dim, axis, keepdim, keepdims)
    return _arg(input, dim, keepdim, np.argmax, "argmax")


@register()
@refuses(("b", RuntimeError, "argmin(): does not support bool input"),
          ("c", RuntimeError, "argmin(): does not support complex input"))
def argmin(input: Tensor, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
           keepdims: Any = None) -> Tensor:
    """Index of the smallest element (first on ties), flattened or along dim."""
    if axis is not None or keepdims is not None:
        dim, keepdim = _dim_kw(dim, axis, keepdim, keepdims)
    return _arg(input, dim, keepdim, np.argmin, "argmin")


@register()
@refuses(not_impl("aminmax_cpu", "c"))
def aminmax(input: Tensor, *, dim: Any = None, keepdim: bool = False) -> tuple:
    """(min, max) over dim (all elements when None), as a named pair."""
    dims = () if dim is None else dim
    return return_type("aminmax", ("min", "max"))(amin(input, dims, keepdim), amax(input, dims, keepdim))


def _with_axes_node(node: type, input: Tensor, res: Tensor, axes: tuple | None, keepdim: bool) -> Tensor:
    """res, recorded (when needed) by a reduction node over `axes` that saves the input and the output."""
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = node()
        n.axes, n.keepdim = axes, keepdim
        n.save(input, out_ref(res))
        record(n, res, (input,))
    return res


class LogsumexpBackward0(Node):
    """One node, as PyTorch: d logsumexp / dx = exp(x - out), which needs only the input and the output."""
    __slots__ = ("axes", "keepdim")

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        shape = x._data.shape
        out_k = out if self.keepdim else out.reshape(_keep_shape(shape, self.axes))
        return (_expand_back(g, shape, self.axes, self.keepdim) * exp(x - out_k),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x = ins[0]
        out_k = out if self.keepdim else out.reshape(_keep_shape(x._data.shape, self.axes))
        r = sum(ts[0] * exp(x - out_k), self.axes, keepdim=True)
        return r if self.keepdim else r.reshape(out.shape)


@register()
@in_float32
def logsumexp(input: Tensor, dim: Any, keepdim: bool = False) -> Tensor:
    """log(sum(exp(input))) over dim(s), computed stably by shifting by the max."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("logsumexp", logsumexp, input, dim, keepdim)
    if input._dtype.category < 2:
        input = input.to(D.get_default_dtype())
    axes = dims_arg(dim, input._data.ndim) or None
    if input._data.ndim == 0:
        axes = None
    x = _make(input._data, input._dtype)  # the forward on a graph-free view; one node records it below
    m = _make(np.max(x._data, axis=axes, keepdims=True), x._dtype) if x._data.size else \
        _make(np.zeros((1,) * x._data.ndim, x._data.dtype), x._dtype)
    m = where(m.isinf(), 0.0, m)
    r = log(sum(exp(x - m), axes, keepdim=True)) + m
    r = _make((r if keepdim else (squeeze(r, axes) if axes is not None else r.reshape(())))._data, r._dtype)
    return _with_axes_node(LogsumexpBackward0, input, r, axes, keepdim)


def _scan_acc(dt: D.dtype) -> Any:
    """The accumulation dtype of PyTorch's CPU cumsum/cumprod: float16/bfloat16 in float32,
    float32 (complex64) in float64 (complex128): `ones(10**5) * .1` sums to 10000.0."""
    if is_low_float(dt):
        return np.float32
    return np.float64 if dt is D.float32 else np.complex128 if dt is D.complex64 else dt.np


class CumsumBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> tuple:
        return (cumsum(g.flip(self.dim), self.dim).flip(self.dim),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return cumsum(ts[0], self.dim)


@register(inplace=True)
def cumsum(input: Tensor, dim: int | None = None, *, dtype: Any = None, axis: int | None = None) -> Tensor:
    """Running sum along dim."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("cumsum", cumsum, input, dim, dtype=dtype, axis=axis)
    if axis is not None:
        dim = axis
    if dim is None:
        raise TypeError("cumsum() missing required argument 'dim' (pos 2)")
    d = wrap_dim(dim, input._data.ndim)
    dt = _sum_dtype(input, dtype)
    arr = input._data
    acc = _scan_acc(dt)
    res = _make(np.cumsum(arr, axis=d, dtype=acc).astype(dt.np, copy=False) if arr.ndim else arr.astype(dt.np), dt)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = CumsumBackward0()
        n.dim = d
        record(n, res, (input,))
    return res


class CumprodBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        d = self.dim
        if not np.any(x._data == 0):
            return (cumsum((g * out).flip(d), d).flip(d) / x,)
        # general case (zeros present): d out_j / d x_i = prod_{k<=j, k!=i} x_k
        n = x._data.shape[d]
        from .shape import narrow
        grads = []
        for i in range(n):
            acc = None
            for j in range(i, n):
                prod_except = _prod_range_except(x, d, j, i)
                term = narrow(g, d, j, 1) * prod_except
                acc = term if acc is None else acc + term
            grads.append(acc)
        from .shape import cat
        return (cat(grads, d),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, t, d = ins[0], ts[0], self.dim
        if not np.any(x._data == 0):
            return out * cumsum(t / x, d)
        from .shape import cat, narrow  # d out_j = sum over i <= j of t_i * prod_{k <= j, k != i} x_k
        n = x._data.shape[d]
        cols = []
        for j in range(n):
            terms = [narrow(t, d, i, 1) * _prod_range_except(x, d, j, i) for i in range(j + 1)]
            acc = terms[0]
            for term in terms[1:]:
                acc = acc + term
            cols.append(acc)
        return cat(cols, d)


def _prod_range_except(x: Tensor, d: int, j: int, i: int) -> Tensor:
    from .shape import narrow
    r = None
    for k in range(j + 1):
        if k == i:
            continue
        s = narrow(x, d, k, 1)
        r = s if r is None else r * s
    return r if r is not None else narrow(x, d, 0, 1) * 0 + 1


@register(inplace=True)
def cumprod(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """Running product along dim."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("cumprod", cumprod, input, dim, dtype=dtype)
    d = wrap_dim(dim, input._data.ndim)
    dt = _sum_dtype(input, dtype)
    arr = input._data
    res = _make(np.cumprod(arr, axis=d, dtype=_scan_acc(dt)).astype(dt.np, copy=False) if arr.ndim
                else arr.astype(dt.np), dt)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = CumprodBackward0()
        n.dim = d
        n.save(input, out_ref(res))
        record(n, res, (input,))
    return res


def _cum_extreme(input: Tensor, dim: int, ufunc: Any, name: str) -> tuple:
    if _vmap_levels and is_batched(input):
        return vmap_rule("cummax", _cum_extreme, input, dim, ufunc, name)
    d = wrap_dim(dim, input._data.ndim)
    arr = input._data
    vals = ufunc.accumulate(arr, axis=d) if arr.ndim else arr.copy()
    # index of the running extreme: last position where the value equals the running extreme
    n = arr.shape[d] if arr.ndim else 1
    pos = np.arange(n).reshape([-1 if i == d else 1 for i in range(arr.ndim)]) if arr.ndim else np.zeros((), int)
    hit = np.where(arr == vals, pos, -1) if arr.ndim else pos
    idx = np.maximum.accumulate(hit, axis=d) if arr.ndim else hit
    from .indexing import gather
    it = _make(idx.astype(np.int64), D.int64)
    values = gather(input, d, it) if arr.ndim else input.clone()
    return return_type(name)(values, it)


@register(node_name="CummaxBackward0")
@refuses(not_impl("cummax_cpu", "c"))
def cummax(input: Tensor, dim: int) -> tuple:
    """Running maximum along dim, with the index of each."""
    return _cum_extreme(input, dim, np.maximum, "cummax")


@register(node_name="CumminBackward0")
@refuses(not_impl("cummin_cpu", "c"))
def cummin(input: Tensor, dim: int) -> tuple:
    """Running minimum along dim, with the index of each."""
    return _cum_extreme(input, dim, np.minimum, "cummin")


@register()
def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(input))) along dim, shifted by the max for stability."""
    if input._dtype.category < 2:
        raise NotImplementedError(f"\"logcumsumexp_out_cpu\" not implemented for '{_cap(input._dtype)}'")
    if input._data.size == 0:
        return input.clone()
    m = input.detach().max()
    return log(cumsum(exp(input - m), dim)) + m


@register()
def all(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether all elements (or all along dim) are true."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("all", all, input, dim, keepdim)
    axes = dims_arg(dim, input._data.ndim)
    return _make(np.asarray(np.all(input._data, axis=axes if input._data.ndim else None, keepdims=keepdim)),
                 D.bool if input._dtype is not D.uint8 else D.uint8)


@register()
def any(input: Tensor, dim: Any = None, keepdim: bool = False) -> Tensor:  # noqa: A001
    """Whether any element (or any along dim) is true."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("any", any, input, dim, keepdim)
    axes = dims_arg(dim, input._data.ndim)
    return _make(np.asarray(np.any(input._data, axis=axes if input._data.ndim else None, keepdims=keepdim)),
                 D.bool if input._dtype is not D.uint8 else D.uint8)


@register()
def count_nonzero(input: Tensor, dim: Any = None) -> Tensor:
    """Number of nonzero elements (over dim(s))."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("count_nonzero", count_nonzero, input, dim)
    axes = dims_arg(dim, input._data.ndim) if input._data.ndim else (dims_arg(dim, 0) and None)
    return _make(np.asarray(np.count_nonzero(input._data, axis=axes)).astype(np.int64), D.int64)


# ---------------------------------------------------------------------------
# norms
# ---------------------------------------------------------------------------
class LinalgVectorNormBackward0(Node):
    __slots__ = ("ord", "axes", "keepdim")

    def backward(self, g: Tensor) -> tuple:
        x, out = self.saved()
        p = self.ord
        shape = x._data.shape
        ge = _expand_back(g, shape, self.axes, self.keepdim)
        ne = _expand_back(out, shape, self.axes, self.keepdim)
        if p == 0:
            return (x * 0,)
        if p == 1:
            return (ge * x.sgn(),)
        if math.isinf(p):
            ax = _abs(x)
            mask = (ax == ne).to(g._dtype)
            count = sum(mask, self.axes, keepdim=True)
            return (ge * x.sgn() * mask / count,)
        if p == 2:
            scale = where(ne == 0, 0.0, ge / where(ne == 0, 1.0, ne))
            return (x * scale,)
        # general p: x |x|^(p-2) / norm^(p-1), zero where the norm is zero
        ax = _abs(x)
        num = x * ax ** (p - 2) if p >= 2 else x.sgn() * ax ** (p - 1)
        den = where(ne == 0, 1.0, ne ** (p - 1))
        return (where(ne == 0, 0.0, ge * num / den),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        x, t, p, axes, keep = ins[0], ts[0], self.ord, self.axes, self.keepdim
        dabs = (x.sgn().conj() * t).real if x.is_complex() else x.sgn() * t  # tangent of |x|
        if p == 0:
            return out * 0
        if p == 1:
            return sum(dabs, axes, keep)
        if math.isinf(p):
            mask = (_abs(x) == _expand_back(out, x._data.shape, axes, keep)).to(dabs._dtype)
            return sum(dabs * mask, axes, keep) / sum(mask, axes, keep)
        num = sum((x.conj() * t).real if x.is_complex() else x * t, axes, keep) if p == 2 else \
            sum(_abs(x) ** (p - 1) * dabs, axes, keep)
        return where(out == 0, 0.0, num / where(out == 0, 1.0, out ** (p - 1)))


def vector_norm(x: Tensor, ord: Any = 2, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """The p-norm of x (flattened, or over dim(s)); ord may be any real or +-inf."""
    if _vmap_levels and is_batched(x):
        return vmap_rule("vector_norm", vector_norm, x, ord, dim, keepdim, dtype=dtype)
    check_tensor(x, "linalg.vector_norm", "x")
    if x._dtype.category < 2:
        raise RuntimeError(f"linalg.vector_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_cap(x._dtype)}")
    if dtype is not None:
        x = x.to(dtype)
    axes = dims_arg(dim, x._data.ndim)
    if axes == ():
        axes = None
    a = upcast(np.abs(x._data))
    if x._data.ndim == 0:
        axes = None
    p = float(ord)
    if p == 2:
        r = np.sqrt(fsum(a * a, axes, keepdim))
    elif p == math.inf:
        r = np.max(a, axis=axes, keepdims=keepdim) if a.size else np.zeros(())
    elif p == -math.inf:
        r = np.min(a, axis=axes, keepdims=keepdim)
    elif p == 0:
        r = np.sum(a != 0, axis=axes, keepdims=keepdim)
    elif p == 1:
        r = fsum(a, axes, keepdim)
    else:
        r = fsum(a ** p, axes, keepdim) ** (1.0 / p)
    out_dt = x._dtype.to_real()
    res = _make(np.asarray(r).astype(out_dt.np), out_dt)
    if _state.enabled and x._requires_grad or _fw_levels and has_fw(x):
        n = LinalgVectorNormBackward0()
        n.ord, n.axes, n.keepdim = p, axes, keepdim
        n.save(x, out_ref(res))
        record(n, res, (x,))
    return res


def matrix_norm(A: Tensor, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False, *,  # noqa: A002
                dtype: Any = None) -> Tensor:
    """Matrix norms over two dims: 'fro', 'nuc', 1, -1, inf, -inf, 2, -2."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if A._dtype.category < 2:
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_cap(A._dtype)}")
    d0, d1 = (wrap_dim(d, A._data.ndim) for d in dim)
    if ord == "fro":
        return vector_norm(A, 2, (d0, d1), keepdim, dtype=dtype)
    if ord in (1, -1, math.inf, -math.inf):
        red, other = (d0, d1) if ord in (1, -1) else (d1, d0)
        s = sum(_abs(A), red, keepdim=True)
        r = amax(s, other, keepdim=True) if ord > 0 else amin(s, other, keepdim=True)
        return r if keepdim else squeeze(r, (d0, d1))
    if ord in ("nuc", 2, -2):
        from .decomp import svdvals
        moved = A.movedim((d0, d1), (-2, -1))
        sv = svdvals(moved)
        r = sum(sv, -1) if ord == "nuc" else (amax(sv, -1) if ord == 2 else amin(sv, -1))
        if keepdim:
            r = unsqueeze(unsqueeze(r, builtins.min(d0, d1)), builtins.max(d0, d1))
        return r
    raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")


@register()
def norm(input: Tensor, p: Any = "fro", dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
    """torch.norm: the 2-norm ('fro') of all elements by default; p, dim as PyTorch allows."""
    if isinstance(p, str):
        if p == "fro":
            return vector_norm(input, 2, dim, keepdim, dtype=dtype)
        if p == "nuc":
            return matrix_norm(input, "nuc", dim if dim is not None else (-2, -1), keepdim, dtype=dtype)
        raise RuntimeError(f"linalg.matrix_norm: Order {p} not supported.")
    return vector_norm(input, 2 if p is None else p, dim, keepdim, dtype=dtype)


@register()
def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """p-norm of input - other."""
    return vector_norm(input - other, p)


# ---------------------------------------------------------------------------
# sorting
# ---------------------------------------------------------------------------
def _sort_idx(arr: np.ndarray, d: int, descending: bool, stable: bool) -> np.ndarray:
    if descending:
        # stable descending: sort the negated keys (NaN first, as PyTorch puts NaN as largest)
        if arr.dtype.kind == "b":
            key = ~arr
        elif arr.dtype.kind in "iu":
            key = -arr.astype(np.int64) if arr.dtype.kind == "u" else -arr.astype(np.float64) \
                if arr.dtype == np.int64 else -arr.astype(np.int64)
        else:
            key = np.where(np.isnan(arr), -np.inf, -arr)
            nanfirst = np.isnan(arr)
            idx = np.argsort(key, axis=d, kind="stable")
            # move NaNs (largest) to the front
            isn = np.take_along_axis(nanfirst, idx, d)
            order = np.argsort(~isn, axis=d, kind="stable")
            return np.take_along_axis(idx, order, d)
        return np.argsort(key, axis=d, kind="stable")
    return np.argsort(arr, axis=d, kind="stable")


@register(node_name="SortBackward0")
@refuses(("c", RuntimeError, "Sort does not support complex dtypes on CPU"))
def sort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> tuple:
    """Sorted values and their original indices along dim."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("sort", sort, input, dim, descending, stable)
    from .indexing import gather
    arr = input._data
    if arr.ndim == 0:
        return return_type("sort")(input.clone(), _make(np.zeros((), np.int64), D.int64))
    d = wrap_dim(dim, arr.ndim)
    idx = _make(_sort_idx(arr, d, descending, stable).astype(np.int64), D.int64)
    return return_type("sort")(gather(input, d, idx), idx)


@register()
@refuses(("c", RuntimeError, "Sort does not support complex dtypes on CPU"))
def argsort(input: Tensor, dim: int = -1, descending: bool = False, stable: bool = False) -> Tensor:
    """Indices that sort input along dim."""
    return sort(input, dim, descending, stable)[1]


@register()
@refuses(("c", RuntimeError, "Sort does not support complex dtypes on CPU"))
def msort(input: Tensor) -> Tensor:
    """Sort along dim 0 (values only)."""
    return sort(input, 0)[0]


@register(node_name="TopkBackward0")
@refuses(("b", RuntimeError, "topk does not support bool dtypes on CPU"),
          ("c", RuntimeError, "topk does not support complex dtypes on CPU"))
def topk(input: Tensor, k: int, dim: int = -1, largest: bool = True, sorted: bool = True) -> tuple:  # noqa: A002
    """The k largest (or smallest) values along dim and their indices."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("topk", topk, input, k, dim, largest, sorted)
    from .indexing import gather
    arr = input._data
    d = wrap_dim(dim, arr.ndim) if arr.ndim else 0
    n = arr.shape[d] if arr.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError("selected index k out of range")
    if arr.ndim == 0:
        return return_type("topk")(input.clone(), _make(np.zeros((), np.int64), D.int64))
    full = _sort_idx(arr, d, largest, True)
    idx = _make(np.take(full, np.arange(k), axis=d).astype(np.int64), D.int64)
    return return_type("topk")(gather(input, d, idx), idx)


@register()
@refuses(not_impl("kthvalue_cpu", "bc"))
def kthvalue(input: Tensor, k: int, dim: int = -1, keepdim: bool = False) -> tuple:
    """The k-th smallest value along dim, with its index."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("kthvalue", kthvalue, input, k, dim, keepdim)
    from .indexing import pick_along
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d] if input._data.ndim else 1
    if not 1 <= k <= n:
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input._data.ndim == 0:
        return return_type("kthvalue")(pick_along(input, 0, _make(np.zeros((), np.int64), D.int64), keepdim,
                                                  "KthvalueBackward0"), _make(np.zeros((), np.int64), D.int64))
    arr = input._data
    order = _sort_idx(arr, d, False, True)
    pick = np.take(order, [k - 1], axis=d)
    # among equal values the reported index is the one PyTorch's quickselect leaves at k - 1
    srt = np.moveaxis(np.take_along_axis(arr, order, d), d, -1)
    same = srt[..., 1:] == srt[..., :-1]
    if arr.dtype.kind in "fc":
        same |= np.isnan(srt[..., 1:]) & np.isnan(srt[..., :-1])
    tied = np.zeros(srt.shape[:-1], bool)
    if k >= 2:
        tied |= same[..., k - 2]
    if k < n:
        tied |= same[..., k - 1]
    if tied.any():
        rows = np.moveaxis(arr, d, -1)
        pm = np.moveaxis(pick, d, -1).copy()
        for at in map(tuple, np.argwhere(tied)):
            pm[at + (0,)] = _select_index(rows[at].tolist(), k - 1)
        pick = np.moveaxis(pm, -1, d)
    idx = _make(pick.astype(np.int64), D.int64)
    vals = pick_along(input, d, idx, keepdim, "KthvalueBackward0")
    if not keepdim:
        idx = squeeze(idx, d)
    return return_type("kthvalue")(vals, idx)


def _trapezoid_terms(name: str, y: Tensor, x: Any, dx: Any, dim: int) -> tuple:
    """(the mean of neighbouring samples times their spacing, the dim) for the trapezoid rules."""
    if x is not None and not isinstance(x, Tensor) or x is not None and dx is not None:
        got = ", ".join([type(y).__name__] + ([type(x).__name__] if x is not None else []))
        kw = f", dx={type(dx).__name__}" if dx is not None else ""
        raise TypeError(f"{name}() received an invalid combination of arguments - got ({got}{kw}), but expected "
                        f"one of:\n * (Tensor y, Tensor x, *, int dim = -1)\n * (Tensor y, *, Number dx = 1, "
                        f"int dim = -1)\n")
    if y._data.ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    d = wrap_dim(dim, y._data.ndim)
    if y._dtype.category < 2:
        y = y.to(D.get_default_dtype())
    n = y._data.shape[d]
    if x is not None and x._data.ndim == 1 and x._data.shape[0] != n:
        raise RuntimeError(f"{name.replace('cumulative_', '')}: There must be one `x` value for each sample point")
    if n == 0:
        return y, d
    mid = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2
    if x is None:
        return mid * (1 if dx is None else dx), d
    if x._data.ndim == 1:  # one spacing per sample along dim
        shape = [1] * y._data.ndim
        shape[d] = n - 1
        spacing = x.diff().reshape(shape)
    else:  # x broadcasts to y's shape first
        spacing = x.broadcast_to(y.shape).diff(dim=d)
    return mid * spacing, d


@register(method=False)
def trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The trapezoidal rule along dim: samples `y` at points `x` (1-d, or broadcasting with `y`) or
    spaced `dx` apart (default 1)."""
    terms, d = _trapezoid_terms("trapezoid", y, x, dx, dim)
    return terms.sum(d)


@register(method=False)
def trapz(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The older name of `trapezoid`."""
    terms, d = _trapezoid_terms("trapz", y, x, dx, dim)
    return terms.sum(d)


@register(method=False)
def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: Any = None, dim: int = -1) -> Tensor:
    """The running trapezoidal integral along dim (one element fewer than `y` along it)."""
    terms, d = _trapezoid_terms("cumulative_trapezoid", y, x, dx, dim)
    return terms.cumsum(d) if terms._data.shape[d] else terms


def _select_index(vals: list, k: int) -> int:
    """The original index of the element a quickselect for position k (0-based) leaves there: the
    partition scheme of PyTorch's CPU kthvalue (median of the first, middle and last as pivot, NaN
    largest), which decides the index among equal values."""
    idx = list(range(len(vals)))

    def gt(a: Any, b: Any) -> bool:
        return (a != a and b == b) or a > b

    def swap(i: int, j: int) -> None:
        vals[i], vals[j] = vals[j], vals[i]
        idx[i], idx[j] = idx[j], idx[i]

    lo, hi = 0, len(vals) - 1
    while hi > lo + 1:
        swap(lo + (hi - lo) // 2, lo + 1)
        if gt(vals[lo + 1], vals[hi]):
            swap(lo + 1, hi)
        if gt(vals[lo], vals[hi]):
            swap(lo, hi)
        if gt(vals[lo + 1], vals[lo]):
            swap(lo + 1, lo)
        i, j, piv = lo + 1, hi, vals[lo]
        while True:
            i += 1
            while gt(piv, vals[i]):
                i += 1
            j -= 1
            while gt(vals[j], piv):
                j -= 1
            if j < i:
                break
            swap(i, j)
        swap(lo, j)
        if j <= k:
            lo = i
        if j >= k:
            hi = j - 1
    if hi == lo + 1 and gt(vals[lo], vals[hi]):
        swap(lo, hi)
    return idx[k]


def _median(input: Tensor, dim: Any, keepdim: bool, skip_nan: bool) -> Any:
    """The lower median of each slice: a NaN wins unless `skip_nan`, which takes the median of the
    non-NaN values (index 0 of an all-NaN slice)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("median", _median, input, dim, keepdim, skip_nan)
    from .indexing import pick_along
    flat = dim is None
    x = reshape(input, -1) if flat else input
    if flat and x._data.size == 0:
        return _make(np.array(np.nan, input._data.dtype), input._dtype)
    d = 0 if flat else wrap_dim(dim, input._data.ndim)
    arr = x._data
    order = _sort_idx(arr, d, False, True)  # NaNs sort last
    n = arr.shape[d] if arr.ndim else 1
    isn = np.isnan(arr) if arr.dtype.kind in "fc" else None
    if skip_nan and isn is not None:
        k = (n - isn.sum(axis=d, keepdims=True)) if arr.ndim else np.asarray(n - int(isn))
        pos = np.where(k > 0, (k - 1) // 2, 0)
        pick = np.take_along_axis(order, pos.astype(np.int64), axis=d) if arr.ndim else order
    else:
        pick = np.take(order, [(n - 1) // 2], axis=d) if arr.ndim else order
        if isn is not None and arr.ndim:
            pick = np.where(isn.any(axis=d, keepdims=True), np.argmax(isn, axis=d, keepdims=True), pick)
    if flat:  # the value alone; its gradient is split among the tied elements (MedianBackward0)
        res = _make(np.asarray(arr[int(np.asarray(pick).reshape(-1)[0])]), input._dtype)
        if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
            n = NanmedianBackward0() if skip_nan else MedianBackward0()
            n.axes, n.keepdim = None, False
            n.save(input, out_ref(res))
            record(n, res, (input,))
        return res
    idx = _make(np.asarray(pick).astype(np.int64), D.int64)
    vals = pick_along(x, d, idx, keepdim, "NanmedianBackward1" if skip_nan else "MedianBackward1")
    if not keepdim and arr.ndim:
        idx = squeeze(idx, d)
    return vals, idx


def _median_dtype(input: Tensor, dim: Any) -> None:
    if input._dtype is D.bool or input._dtype.category == 3:
        raise NotImplementedError(f"\"{'median_cpu' if dim is None else 'median_out'}\" not implemented for "
                                  f"'{_cap(input._dtype)}'")


@register()
def median(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """The lower median (of all elements, or (values, indices) along dim); NaN propagates."""
    _median_dtype(input, dim)
    res = _median(input, dim, keepdim, False)
    return res if dim is None else return_type("median")(*res)


@register()
def nanmedian(input: Tensor, dim: Any = None, keepdim: bool = False) -> Any:
    """median ignoring NaN values (NaN only for an all-NaN slice)."""
    _median_dtype(input, dim)
    res = _median(input, dim, keepdim, True)
    return res if dim is None else return_type("nanmedian")(*res)


_MODE_EMULATE_MAX = 1 << 17  # elements: beyond, mode's slices keep the stable order (docs/differences.md)


def _sort_order(vals: list) -> list:
    """The order in which an introsort (median-of-three quicksort down to runs of 16, then
    insertion sort; the scheme of the C++ standard library PyTorch is built with) leaves the
    elements of `vals` compared by value alone: it decides the index mode reports among equal
    values, and where NaNs (unordered) stop the insertion passes."""
    v, ix = list(vals), list(range(len(vals)))

    def swap(i: int, j: int) -> None:
        v[i], v[j] = v[j], v[i]
        ix[i], ix[j] = ix[j], ix[i]

    def insert(i: int) -> None:  # move v[i] left past larger elements (unguarded)
        val, vi, j = v[i], ix[i], i - 1
        while val < v[j]:
            v[i], ix[i] = v[j], ix[j]
            i, j = j, j - 1
        v[i], ix[i] = val, vi

    def insertion(first: int, last: int) -> None:
        for i in range(first + 1, last):
            if v[i] < v[first]:
                val, vi = v[i], ix[i]
                v[first + 1:i + 1], ix[first + 1:i + 1] = v[first:i], ix[first:i]
                v[first], ix[first] = val, vi
            else:
                insert(i)

    n = len(v)
    todo = [(0, n, 2 * (n.bit_length() - 1))]
    while todo:
        first, last, depth = todo.pop()
        while last - first > 16:
            if depth == 0:  # the heap-sort fallback of a degenerate partition: not emulated
                return list(np.argsort(np.asarray(vals), kind="stable"))
            depth -= 1
            a, b, c = first + 1, first + (last - first) // 2, last - 1
            if v[a] < v[b]:
                swap(first, b if v[b] < v[c] else c if v[a] < v[c] else a)
            else:
                swap(first, a if v[a] < v[c] else c if v[b] < v[c] else b)
            lo, hi = first + 1, last
            while True:  # partition around v[first]
                while v[lo] < v[first]:
                    lo += 1
                hi -= 1
                while v[first] < v[hi]:
                    hi -= 1
                if not lo < hi:
                    break
                swap(lo, hi)
                lo += 1
            todo.append((lo, last, depth))
            last = lo
    insertion(0, builtins.min(n, 16))
    for i in range(16, n):
        insert(i)
    return ix


@register()
def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> tuple:
    """The most frequent value of each slice along dim (the smallest one among equally frequent
    values) and the index PyTorch's CPU kernel reports: the last of its run after sorting the slice
    as that kernel does (`_sort_order`; the last occurrence for short slices without NaN)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("mode", mode, input, dim, keepdim)
    from .indexing import pick_along
    if input._dtype.category == 3:
        raise NotImplementedError(f"\"mode_cpu\" not implemented for '{_cap(input._dtype)}'")
    arr = input._data
    if arr.ndim == 0:
        it = _make(np.zeros((), np.int64), D.int64)
        return return_type("mode")(pick_along(input, 0, it, keepdim, "ModeBackward0"), it)
    d = wrap_dim(dim, arr.ndim)
    n = arr.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    rows = np.moveaxis(arr, d, -1)
    order = np.argsort(rows, axis=-1, kind="stable")
    # the kernel's unstable sort orders equal values (and values after a NaN) its own way
    odd = np.isnan(rows).any(-1) if arr.dtype.kind == "f" or arr.dtype.char == "E" else np.zeros(rows.shape[:-1], bool)
    if n > 16:
        odd[...] = True
    if odd.any() and odd.sum() * n <= _MODE_EMULATE_MAX:
        for at in map(tuple, np.argwhere(odd)):
            order[at] = _sort_order(rows[at].tolist())
    srt = np.take_along_axis(rows, order, -1)
    pos = np.arange(n)
    starts = np.ones(srt.shape, bool)
    starts[..., 1:] = srt[..., 1:] != srt[..., :-1]  # a new run of equal values (each NaN its own)
    first = np.maximum.accumulate(np.where(starts, pos, 0), axis=-1)
    ends = np.ones(srt.shape, bool)
    ends[..., :-1] = starts[..., 1:]
    length = np.where(ends, pos - first + 1, 0)
    last = np.argmax(length, axis=-1)[..., None]  # the first (smallest) longest run: its last element
    idx = np.moveaxis(np.take_along_axis(order, last, -1), -1, d).astype(np.int64)
    it = _make(idx, D.int64)
    vals = pick_along(input, d, it, keepdim, "ModeBackward0")
    if not keepdim:
        it = squeeze(it, d)
    return return_type("mode")(vals, it)


@register()
def cov(input: Tensor, *, correction: int = 1, fweights: Tensor | None = None,
        aweights: Tensor | None = None) -> Tensor:
    """Covariance of the variables in the rows of `input` (observations in the columns)."""
    if _vmap_levels and is_batched(input, fweights, aweights):
        return vmap_rule("loop", cov, input, correction=correction, fweights=fweights, aweights=aweights)
    if input._data.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input._data.ndim} dimensions")
    x = input.reshape(1, -1) if input._data.ndim < 2 else input
    if x._dtype.category < 2:
        x = x.to(D.get_default_dtype())
    n = x._data.shape[1]
    w = None
    for name, wt in (("fweights", fweights), ("aweights", aweights)):
        if wt is None:
            continue
        if wt._data.ndim > 1 or wt._data.size != n:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions and the same number of "
                               f"elements as the number of observations, but got shape {list(wt._data.shape)}")
        if name == "fweights" and wt._dtype.category != 1:
            raise RuntimeError(f"cov(): expected fweights to have integral dtype but got fweights with "
                               f"{_cap(wt._dtype)} dtype")
        if np.any(wt._data < 0):
            raise RuntimeError(f"cov(): {name} cannot be negative")
        wt = wt.reshape(-1).to(x._dtype)
        w = wt if w is None else w * wt
    if w is None:
        wsum = float(n)
        avg = x.mean(1, keepdim=True)
        norm = wsum - correction
    else:
        wsum = w.sum()
        avg = (x * w).sum(1, keepdim=True) / wsum
        norm = wsum - (correction if aweights is None else correction * (w * aweights.reshape(-1).to(x._dtype))
                       .sum() / wsum)
    if (float(norm) if isinstance(norm, Tensor) else norm) <= 0:
        import warnings
        warnings.warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
                      "observations.", stacklevel=2)
        norm = norm * 0 if isinstance(norm, Tensor) else 0.0
    xm = x - avg
    xw = xm if w is None else xm * w
    c = (xw @ xm.mT.conj() if x.is_complex() else xw @ xm.mT) / norm
    return c.reshape(()) if input._data.ndim < 2 else c


@register()
def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of `input` (values clipped to [-1, 1])."""
    c = cov(input)
    if c._data.ndim == 0:
        return c / c
    d = c.diagonal()
    stddev = d.sqrt()
    c = c / stddev.unsqueeze(1) / stddev.unsqueeze(0)
    return c.clamp(-1, 1) if not c.is_complex() else c


@register(inplace=True)
def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Rescale each slice along `dim` whose p-norm exceeds maxnorm to norm maxnorm."""
    from ..autograd.graph import rename_grad_fn
    if p <= 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if input._data.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input._data.ndim} dimensions")
    d = wrap_dim(dim, input._data.ndim)
    others = tuple(i for i in range(input._data.ndim) if i != d)
    norm = vector_norm(input, p, others, keepdim=True)
    from .elementwise import where
    factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
    res = input * factor
    rename_grad_fn(res, "RenormBackward0")
    return res


def _quantile(input: Tensor, q: Any, dim: int | None, keepdim: bool, interpolation: str, fn: str) -> Tensor:
    if _vmap_levels and is_batched(input, q):
        return vmap_rule("quantile", _quantile, input, q, dim, keepdim, interpolation, fn)
    # quantile ignores nothing (a slice holding NaN gives NaN); nanquantile interpolates over the
    # non-NaN values of each slice (NaN only where a slice is all NaN). NaNs sort last.
    from .indexing import gather
    if input._dtype.category != 2:
        raise RuntimeError(f"{fn}() input tensor must be either float or double dtype")
    qs = q._data if isinstance(q, Tensor) else np.asarray(q, dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)):
        bad = float(np.asarray(qs)[(qs < 0) | (qs > 1)].reshape(-1)[0])
        raise RuntimeError(f"{fn}() q must be in the range [0, 1] but got {bad}")
    x = reshape(input, -1) if dim is None or input._data.ndim == 0 else input
    d = 0 if dim is None else wrap_dim(dim, input._data.ndim)
    order = _make(_sort_idx(x._data, d, False, True).astype(np.int64), D.int64)
    srt = gather(x, d, order).movedim(d, -1)  # sorted along the last dim: shape S + (n,)
    isnan = np.isnan(srt._data)
    n = srt._data.shape[-1]
    count = (n - isnan.sum(-1)) if fn == "nanquantile" else np.full(srt._data.shape[:-1], n)
    pos = (np.maximum(count, 1) - 1)[..., None] * np.atleast_1d(qs).astype(np.float64)  # S + (Q,)
    lo = np.floor(pos).astype(np.int64)
    hi = np.ceil(pos).astype(np.int64)
    if interpolation == "lower":
        hi = lo
    elif interpolation == "higher":
        lo = hi
    elif interpolation == "nearest":
        lo = hi = np.round(pos).astype(np.int64)
    frac = pos - lo
    if interpolation == "midpoint":
        frac = np.where(hi > lo, 0.5, 0.0)
    a = gather(srt, -1, _make(lo, D.int64))
    b = gather(srt, -1, _make(hi, D.int64))
    w = _make(frac.astype(srt._data.dtype), srt._dtype)
    if isinstance(q, Tensor) and (q._requires_grad or has_fw(q)) and interpolation == "linear":
        # differentiable in q too: the weight is q * (count - 1) - lo
        w = q.to(srt._dtype).reshape(-1) * _make((np.maximum(count, 1) - 1)[..., None].astype(srt._data.dtype),
                                                 srt._dtype) - _make(lo.astype(srt._data.dtype), srt._dtype)
    r = a + (b - a) * w
    nan_out = count == 0 if fn == "nanquantile" else isnan.any(-1)
    if nan_out.any():
        r = where(_make(np.broadcast_to(nan_out[..., None], r._data.shape), D.bool), float("nan"), r)
    r = r.movedim(-1, 0)  # (Q,) + S
    if keepdim:
        r = unsqueeze(r, d + 1) if dim is not None else r.reshape((r._data.shape[0],) + (1,) * input._data.ndim)
    if np.ndim(qs) == 0:
        r = squeeze(r, 0)
    return r


@register()
def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear") -> Tensor:
    """q-th quantiles (linear interpolation between order statistics by default); NaN where a slice has NaN."""
    return _quantile(input, q, dim, keepdim, interpolation, "quantile")


@register()
def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    """quantile computed over the non-NaN values of each slice (NaN where a slice is all NaN)."""
    return _quantile(input, q, dim, keepdim, interpolation, "nanquantile")


@register()
@refuses(not_impl("unique", "c"))
def unique(input: Tensor, sorted: bool = True, return_inverse: bool = False,  # noqa: A002
           return_counts: bool = False, dim: int | None = None) -> Any:
    """Sorted unique elements (optionally inverse indices and counts)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("loop", unique, input, sorted, return_inverse, return_counts, dim)
    if dim is not None:
        d = wrap_dim(dim, input._data.ndim)
        vals, inv, cnt = np.unique(input._data, axis=d, return_inverse=True, return_counts=True)
        inv = inv.reshape(-1)
    else:
        vals, inv, cnt = np.unique(input._data, return_inverse=True, return_counts=True)
        inv = inv.reshape(input._data.shape)
    out = [_make(vals, input._dtype)]
    if return_inverse:
        out.append(_make(inv.astype(np.int64), D.int64))
    if return_counts:
        out.append(_make(cnt.astype(np.int64), D.int64))
    return out[0] if len(out) == 1 else tuple(out)


@register()
def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Count occurrences of each non-negative integer."""
    if _vmap_levels and is_batched(input, weights):
        return vmap_rule("loop", bincount, input, weights, minlength)
    if input._data.ndim != 1 or input._dtype.category != 1:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if input._data.size and input._data.min() < 0:
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if weights is not None and (weights._data.ndim != 1 or weights._data.shape[0] != input._data.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    w = weights._data if weights is not None else None
    r = np.bincount(input._data, weights=w, minlength=minlength)
    dt = D.int64 if weights is None else (weights._dtype if weights._dtype.category == 2 else D.float64)
    return _make(r.astype(dt.np), dt)


@register()
def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Histogram of equal-width bins over [min, max] (the data's range when both are 0)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("loop", histc, input, bins, min, max)
    if input._dtype.category != 2:
        raise NotImplementedError(f"\"histogram_cpu\" not implemented for '{_cap(input._dtype)}'")
    if bins <= 0:
        raise RuntimeError(f"torch.histc(): bins must be > 0, but got {bins} for dimension 0")
    if min > max:
        raise RuntimeError("torch.histc: max must be larger than min")
    if input._data.size == 0:
        return _make(np.zeros(bins, input._data.dtype), input._dtype)
    lo, hi = (min, max) if (min, max) != (0, 0) else (float(input._data.min()), float(input._data.max()))
    h, _ = np.histogram(input._data, bins=bins, range=(lo, hi))
    return _make(h.astype(input._data.dtype), input._dtype)


def _accept_numpy_aliases(names: tuple) -> None:
    """Let the exported ops take NumPy's `axis=` / `keepdims=` for `dim=` / `keepdim=`, as PyTorch does."""
    import functools
    import inspect

    from ._core import REGISTRY
    for name in names:
        fn, is_method, is_function = REGISTRY[name]
        params = inspect.signature(fn).parameters
        if "axis" in params or "dim" not in params:
            continue

        def wrapper(*args: Any, _fn: Any = fn, _keep: bool = "keepdim" in params, **kwargs: Any) -> Any:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if _keep and "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
            return _fn(*args, **kwargs)
        functools.update_wrapper(wrapper, fn)
        REGISTRY[name] = (wrapper, is_method, is_function)


_accept_numpy_aliases(("amax", "amin", "max", "min", "prod", "all", "any", "logsumexp", "median", "mode",
                       "count_nonzero", "nansum", "nanmean", "cumprod", "quantile", "nanquantile", "aminmax", "sort",
                       "argsort", "topk", "kthvalue", "squeeze", "unsqueeze", "cummax", "cummin", "logcumsumexp",
                       "argmax", "argmin", "cumsum", "var_mean", "std_mean"))
