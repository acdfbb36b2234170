"""Shape ops and views. Views are NumPy views: they share memory and the version
counter with their base, as in PyTorch. Their gradient rules are other shape ops."""
from __future__ import annotations

import builtins
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import (_fw_levels, _make, _state, dims_arg, grad_needed, graph_free, has_fw, record, record_graph,
                    register, view_tangents, wrap_dim)
from ._core import _vmap_levels, is_batched, vmap_rule


def _squeeze_name(a: tuple, k: dict) -> str:
    dim = k.get("dim", a[1] if len(a) > 1 else None)
    return "SqueezeBackward0" if dim is None else (
        "SqueezeBackward2" if isinstance(dim, (tuple, list)) else "SqueezeBackward1")


def _split_name(a: tuple, k: dict) -> str:
    s = k.get("split_size_or_sections", a[1] if len(a) > 1 else None)
    return "SplitWithSizesBackward0" if isinstance(s, (list, tuple)) else "SplitBackward0"


def as_view(x: Tensor, arr: np.ndarray, dtype: D.dtype | None = None) -> Tensor:
    """A tensor over `arr`, a NumPy view of x's memory (read as `dtype`, x's by default): shares
    x's version counter and base."""
    out = _make(arr, dtype or x._dtype)
    out._version = x._version
    out._base = x._base if x._base is not None else x
    if _state.enabled:  # a differentiable view: the version its grad_fn belongs to (autograd.graph.refresh_view)
        out._extra = x._version[0]
    return out


def _shape_args(shape: Sequence) -> tuple:
    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = shape[0]
    for i, s in enumerate(shape):
        if not isinstance(s, (int, np.integer, Tensor)) or isinstance(s, bool):
            raise TypeError(f"argument 'shape' failed to unpack the object at pos {i + 1} with error \"type must be "
                            f"tuple of ints,but got {type(s).__name__}\"")
    try:
        return tuple(int(s) for s in shape)
    except TypeError:
        bad = next(s for s in shape if not isinstance(s, (int, np.integer, Tensor)))
        raise TypeError(f"view(): argument 'size' must be tuple of ints, but found element of type "
                        f"{type(bad).__name__}") from None


def _infer_shape(shape: tuple, numel: int) -> tuple:
    if -1 in shape:
        if shape.count(-1) > 1:
            raise RuntimeError("only one dimension can be inferred")
        rest = 1
        for s in shape:
            if s != -1:
                rest *= s
        if rest == 0 or numel % rest:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        return tuple(numel // rest if s == -1 else s for s in shape)
    n = 1
    for s in shape:
        if s < 0:
            raise RuntimeError(f"invalid shape dimension {s}")
        n *= s
    if n != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


class ViewBackward0(Node):
    __slots__ = ("shape",)

    def backward(self, g: Any) -> tuple:
        return (g.reshape(self.shape),)

    fast = backward  # arrays reshape the same way

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0].reshape(out.shape)  # a view of the tangent where the layout allows


class UnsafeViewBackward0(ViewBackward0):
    __slots__ = ()


def _reshape_node(x: Tensor, res: Tensor, cls: type = ViewBackward0) -> Tensor:
    if _state.enabled and x._requires_grad or _fw_levels and has_fw(x):
        n = cls()
        n.shape = x._data.shape
        record(n, res, (x,))
    return res


@register()
def reshape(input: Tensor, *shape: Any) -> Tensor:
    """Same data with a new shape: a view when the layout allows, else a copy."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("reshape", reshape, input, *shape)
    shape = _infer_shape(_shape_args(shape), input._data.size)
    arr = input._data
    if arr.shape == shape:
        res = as_view(input, arr.view())
        return _reshape_node(input, res)
    try:
        res = as_view(input, np.reshape(arr, shape, copy=False))
        return _reshape_node(input, res)
    except ValueError:
        res = _make(arr.reshape(shape), input._dtype)
        return _reshape_node(input, res, UnsafeViewBackward0)


def view(input: Tensor, *shape: Any) -> Tensor:
    """Same data with a new shape; raises if the memory layout does not allow a view.
    `view(dtype)` reinterprets the bytes as another dtype."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("reshape", view, input, *shape)
    if len(shape) == 1 and isinstance(shape[0], D.dtype):
        return _view_dtype(input, shape[0])
    shape = _infer_shape(_shape_args(shape), input._data.size)
    try:
        arr = np.reshape(input._data, shape, copy=False)
    except ValueError:
        raise RuntimeError("view size is not compatible with input tensor's size and stride (at least one "
                           "dimension spans across two contiguous subspaces). Use .reshape(...) "
                           "instead.") from None
    return _reshape_node(input, as_view(input, arr))


Tensor.view = view


def _view_dtype(input: Tensor, dt: D.dtype) -> Tensor:
    # the same bytes read as another dtype; a different element size rescales the last dim
    a, src = input._data, input._dtype
    if dt.itemsize != src.itemsize:
        what = f"to view {D.scalar_name(src)} as {D.scalar_name(dt)} (different element sizes)"
        if a.ndim == 0:
            raise RuntimeError(f"self.dim() cannot be 0 {what}")
        if a.strides[-1] != src.itemsize:
            raise RuntimeError(f"self.stride(-1) must be 1 {what}, but got {a.strides[-1] // src.itemsize}")
        ratio = dt.itemsize // src.itemsize
        if ratio > 1 and a.shape[-1] % ratio:
            raise RuntimeError(f"self.size(-1) must be divisible by {ratio} {what}, but got {a.shape[-1]}")
    return as_view(input, a.view(dt.np), dt)


def _view_as(input: Tensor, other: Tensor) -> Tensor:
    return view(input, other._data.shape)


Tensor.view_as = _view_as


def _reshape_as(input: Tensor, other: Tensor) -> Tensor:
    return reshape(input, other._data.shape)


Tensor.reshape_as = _reshape_as


@register()
def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Merge dims start_dim..end_dim into one."""
    nd = input._data.ndim
    if nd == 0:
        wrap_dim(start_dim, 0), wrap_dim(end_dim, 0)
        return reshape(input, 1)
    s, e = wrap_dim(start_dim, nd), wrap_dim(end_dim, nd)
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._data.shape
    if s == e:
        return input
    return reshape(input, shp[:s] + (-1 if 0 not in shp[s:e + 1] else 0,) + shp[e + 1:])


@register()
def unflatten(input: Tensor, dim: int, sizes: Sequence) -> Tensor:
    """Split dim into the given sizes (one may be -1)."""
    if input._data.ndim == 0:
        raise RuntimeError("unflatten: input must have at least one dimension")
    d = wrap_dim(dim, input._data.ndim)
    shp = input._data.shape
    sizes = tuple(sizes)
    known, n_infer = int(np.prod([s for s in sizes if s != -1])), sizes.count(-1)
    if (known != shp[d]) if n_infer == 0 else (n_infer == 1 and (known == 0 or shp[d] % known)):
        raise RuntimeError(f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim {dim} "
                           f"({shp[d]}) in the input tensor")
    inner = _infer_shape(sizes, shp[d])
    return reshape(input, shp[:d] + inner + shp[d + 1:])


class SqueezeBackward0(ViewBackward0):
    __slots__ = ()


class UnsqueezeBackward0(ViewBackward0):
    __slots__ = ()


@register(inplace="view", node_name=_squeeze_name)
def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    """Remove dims of size 1 (all of them, or those named by dim)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("squeeze", squeeze, input, dim)
    shp = input._data.shape
    if dim is None:
        axes = tuple(i for i, s in enumerate(shp) if s == 1)
    else:
        axes = tuple(a for a in dims_arg(dim, len(shp)) if shp[a] == 1) if shp else dims_arg(dim, 0) and ()
    res = as_view(input, np.squeeze(input._data, axis=axes) if axes else input._data.view())
    return _reshape_node(input, res, SqueezeBackward0)


@register(inplace="view")
def unsqueeze(input: Tensor, dim: int) -> Tensor:
    """Insert a dim of size 1 at position dim."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("unsqueeze", unsqueeze, input, dim)
    d = wrap_dim(dim, input._data.ndim + 1)
    res = as_view(input, np.expand_dims(input._data, d))
    return _reshape_node(input, res, UnsqueezeBackward0)


class TransposeBackward0(Node):
    __slots__ = ("d0", "d1")

    def backward(self, g: Tensor) -> tuple:
        return (transpose(g, self.d0, self.d1),)

    def fast(self, g: np.ndarray) -> tuple:
        return (np.swapaxes(g, self.d0, self.d1) if g.ndim >= 2 else g,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return transpose(ts[0], self.d0, self.d1)


@register(aliases=("swapaxes", "swapdims"), inplace="view")
def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    """Swap two dims (a view)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("transpose", transpose, input, dim0, dim1)
    nd = input._data.ndim
    d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
    if nd < 2:
        res = as_view(input, input._data.view())
    else:
        res = as_view(input, np.swapaxes(input._data, d0, d1))
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = TransposeBackward0()
        n.d0, n.d1 = d0, d1
        record(n, res, (input,))
    return res


@register(inplace="view")
def t(input: Tensor) -> Tensor:
    """Transpose of a tensor with at most 2 dims."""
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {input._data.ndim}D")
    res = transpose(input, 0, -1) if input._data.ndim == 2 else transpose(input, 0, 0)
    if type(res.grad_fn) is TransposeBackward0:
        res.grad_fn.__class__ = TBackward0  # PyTorch names t()'s node TBackward0
    return res


class TBackward0(TransposeBackward0):
    __slots__ = ()


class PermuteBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g: Tensor) -> tuple:
        inv = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inv[d] = i
        return (permute(g, inv),)

    def fast(self, g: np.ndarray) -> tuple:
        return (np.transpose(g, np.argsort(self.dims)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return permute(ts[0], self.dims)


@register()
def permute(input: Tensor, *dims: Any) -> Tensor:
    """Reorder dims (a view)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("permute", permute, input, *dims)
    if len(dims) == 1 and isinstance(dims[0], (list, tuple)):
        dims = tuple(dims[0])
    nd = input._data.ndim
    if len(dims) != nd:
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match "
                           f"the length of the desired ordering of dimensions i.e. input.dim() = {nd} is not "
                           f"equal to len(dims) = {len(dims)}")
    axes = tuple(wrap_dim(d, nd) for d in dims)
    if len(set(axes)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    res = as_view(input, np.transpose(input._data, axes))
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = PermuteBackward0()
        n.dims = axes
        record(n, res, (input,))
    return res


@register()
def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    """Move dims from source positions to destination positions."""
    nd = input._data.ndim
    if nd == 0:
        for d in list(source if isinstance(source, (list, tuple)) else [source]) + list(
                destination if isinstance(destination, (list, tuple)) else [destination]):
            wrap_dim(d, 0)
        return permute(input, ())
    if isinstance(source, (list, tuple)) != isinstance(destination, (list, tuple)):
        raise TypeError(f"movedim() received an invalid combination of arguments - got "
                        f"({type(source).__name__}, {type(destination).__name__}): source and destination must "
                        "both be ints or both be sequences of ints")
    src = [wrap_dim(d, nd) for d in (source if isinstance(source, (list, tuple)) else [source])]
    dst = [wrap_dim(d, nd) for d in (destination if isinstance(destination, (list, tuple)) else [destination])]
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({src} dims) should contain "
                           f"the same number of dims as destination ({dst} dims)")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return permute(input, order)


register("moveaxis")(movedim)


def _T(self: Tensor) -> Tensor:
    nd = self._data.ndim
    if nd <= 2:
        return transpose(self, 0, -1) if nd == 2 else as_view(self, self._data.view()) if not \
            (self._requires_grad or has_fw(self)) else transpose(self, 0, 0)
    return permute(self, tuple(range(nd - 1, -1, -1)))


def _mT(self: Tensor) -> Tensor:
    if self._data.ndim < 2:
        raise RuntimeError("tensor.mT is only supported on matrices or batches of matrices. Got 1-D tensor.")
    return transpose(self, -2, -1)


Tensor.T = property(_T)
Tensor.mT = property(_mT)
Tensor.H = property(lambda self: _T(self).conj())
Tensor.mH = property(lambda self: _mT(self).conj())


class ExpandBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (g,)  # the engine sums g back to the input's shape

    fast = backward

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return expand(ts[0], out.shape)


@register(function=False)
def expand(input: Tensor, *sizes: Any) -> Tensor:
    """Broadcast to a larger shape without copying (-1 keeps a dim)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("expand", expand, input, *sizes)
    sizes = _shape_args(sizes)
    shp = input._data.shape
    if len(sizes) < len(shp):
        raise RuntimeError(f"expand(torch.{D.tensor_type_name(input._dtype)}{{{list(shp)}}}, size={list(sizes)}): "
                           f"the number of sizes provided ({len(sizes)}) must be greater or equal to the number "
                           f"of dimensions in the tensor ({len(shp)})")
    lead = len(sizes) - len(shp)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                                   "non-existing dimension 0")
            target.append(s)
        else:
            cur = shp[i - lead]
            if s == -1:
                s = cur
            elif s < 0:
                raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(sizes)}")
            elif cur != 1 and cur != s:
                raise RuntimeError(f"The expanded size of the tensor ({s}) must match the existing size "
                                   f"({cur}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                                   f"Tensor sizes: {list(shp)}")
            target.append(s)
    target = tuple(target)
    res = as_view(input, np.broadcast_to(input._data, target))
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        record(ExpandBackward0(), res, (input,))
    return res


def _expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


Tensor.expand_as = _expand_as


@register()
def broadcast_to(input: Tensor, size: Sequence) -> Tensor:
    """Broadcast input to `size` (a view)."""
    return expand(input, tuple(size))


def broadcast_shapes(*shapes: Any) -> Any:
    """The shape tensors of these shapes broadcast to."""
    from .._tensor import Size
    from ._core import broadcast_shapes_or_raise
    out: tuple = ()
    for s in shapes:
        s = (s,) if isinstance(s, int) else tuple(s)
        out = broadcast_shapes_or_raise(out, s)
    return Size(out)


def broadcast_tensors(*tensors: Tensor) -> tuple:
    """Expand all tensors to their common broadcast shape."""
    shape = broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


class CloneBackward0(Node):
    __slots__ = ()

    def backward(self, g: Any) -> tuple:
        return (g,)

    fast = backward

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return clone(ts[0])


@register()
def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy with its own memory (gradient flows through)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", clone, input)
    res = _make(input._data.copy(), input._dtype)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        record(CloneBackward0(), res, (input,))
    return res


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    """input itself if C-contiguous, else a contiguous copy."""
    if input._data.flags.c_contiguous:
        return input
    return clone(input)


Tensor.contiguous = contiguous


class ToCopyBackward0(Node):
    __slots__ = ("dtype",)

    def backward(self, g: Tensor) -> tuple:
        return (g.to(self.dtype) if g._dtype.category <= self.dtype.category else g.real.to(self.dtype),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        t = ts[0]
        return to(t if t._dtype.category <= out._dtype.category else t.real, out._dtype, copy=True)


def to(input: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """Convert dtype (and/or accept a device): `to(dtype)`, `to(device)`, `to(other)`, `to(device, dtype)`."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("to", to, input, *args, **kwargs)
    from .._backend import check_device
    from .._creation import as_dtype
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    check_device(kwargs.pop("device", None))
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    for a in args:
        if isinstance(a, Tensor):
            dtype = a._dtype
        elif isinstance(a, D.dtype) or a in (float, int, bool, complex):
            dtype = a
        elif a is not None and not isinstance(a, bool):
            check_device(a)
    dt = as_dtype(dtype) if dtype is not None else input._dtype
    if dt is input._dtype and not copy:
        return input
    if input._dtype.category == 3 and dt.category < 3:
        arr = input._data.real.astype(dt.np)
    else:
        arr = input._data.astype(dt.np)
    res = _make(arr, dt)
    if (_state.enabled and input._requires_grad or _fw_levels and has_fw(input)) and dt.category >= 2:
        n = ToCopyBackward0()
        n.dtype = input._dtype
        record(n, res, (input,))
    return res


Tensor.to = to


def _type_method(name: str, dt: D.dtype) -> Any:
    def m(self: Tensor, memory_format: Any = None) -> Tensor:
        return to(self, dt)
    m.__name__ = name
    return m


for _n, _d in (("float", D.float32), ("double", D.float64), ("half", D.float16), ("bfloat16", D.bfloat16),
               ("long", D.int64),
               ("int", D.int32), ("short", D.int16), ("char", D.int8), ("byte", D.uint8), ("bool", D.bool),
               ("cfloat", D.complex64), ("cdouble", D.complex128)):
    setattr(Tensor, _n, _type_method(_n, _d))

_TYPE_STRINGS = {"torch." + k: v for k, v in {
    "FloatTensor": D.float32, "DoubleTensor": D.float64, "HalfTensor": D.float16, "BFloat16Tensor": D.bfloat16,
    "LongTensor": D.int64,
    "IntTensor": D.int32, "ShortTensor": D.int16, "CharTensor": D.int8, "ByteTensor": D.uint8,
    "BoolTensor": D.bool}.items()}


def _type(self: Tensor, dtype: Any = None, non_blocking: bool = False, **kw: Any) -> Any:
    if dtype is None:
        return "torch." + D.tensor_type_name(self._dtype)
    if isinstance(dtype, str):
        key = dtype.replace("ndgrad.", "torch.")
        if key not in _TYPE_STRINGS:
            raise ValueError(f"invalid type: '{dtype}'")
        dtype = _TYPE_STRINGS[key]
    elif isinstance(dtype, type):  # a tensor type: ndgrad.FloatTensor, ndgrad.Tensor (the default dtype)
        if dtype is Tensor:
            dtype = D.get_default_dtype()
        elif isinstance(getattr(dtype, "dtype", None), D.dtype):
            dtype = dtype.dtype
        elif dtype.__module__.endswith("cuda") and dtype.__name__.endswith("Tensor"):
            raise RuntimeError(f"type torch.cuda.{dtype.__name__} not available. Torch not compiled with CUDA "
                               "enabled.")
        else:
            raise ValueError(f"invalid type: '{dtype.__name__}'")
    elif not isinstance(dtype, D.dtype):
        raise TypeError("dtype must be a type, str, or dtype object")
    return to(self, dtype)


Tensor.type = _type


def _type_as(self: Tensor, other: Tensor) -> Tensor:
    return to(self, other._dtype)


Tensor.type_as = _type_as


# ---------------------------------------------------------------------------
# joining and splitting
# ---------------------------------------------------------------------------
class CatBackward0(Node):
    __slots__ = ("dim", "sizes")

    def backward(self, g: Tensor) -> tuple:
        out = []
        start = 0
        for s in self.sizes:
            out.append(narrow(g, self.dim, start, s) if s is not None else None)
            start += s or 0
        return tuple(out)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return cat([t if t is not None else x.new_zeros(x.shape, dtype=out._dtype) for x, t in zip(ins, ts)],
                   self.dim)


_cap = D.scalar_name


def _tensor_seq(tensors: Any, fn: str) -> list:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{fn}(): argument 'tensors' (position 1) must be tuple of Tensors, not "
                        f"{type(tensors).__name__}")
    for i, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"expected Tensor as element {i} in argument 0, but got {type(t).__name__}")
    if not tensors:
        if fn == "cat":
            raise ValueError("torch.cat(): expected a non-empty list of Tensors")
        raise RuntimeError(f"{fn} expects a non-empty TensorList")
    return list(tensors)


@register(method=False, aliases=("concat", "concatenate"))
def cat(tensors: Sequence, dim: int = 0, *, axis: int | None = None) -> Tensor:
    """Concatenate tensors along an existing dim."""
    if _vmap_levels and isinstance(tensors, (list, tuple)) and is_batched(*tensors):
        return vmap_rule("cat", cat, tensors, dim, axis=axis)
    if axis is not None:
        dim = axis
    ts = _tensor_seq(tensors, "cat")
    # legacy rule: 1-d empty tensors are skipped
    live = [t for t in ts if not (t._data.ndim == 1 and t._data.shape[0] == 0)] or ts[:1]
    nd = live[0]._data.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    d = wrap_dim(dim, nd)
    ref = live[0]._data.shape
    for i, t in enumerate(live):
        s = t._data.shape
        if len(s) != nd:
            raise RuntimeError(f"Tensors must have same number of dimensions: got {nd} and {len(s)}")
        for k in range(nd):
            if k != d and s[k] != ref[k]:
                raise RuntimeError(f"Sizes of tensors must match except in dimension {d}. Expected size "
                                   f"{ref[k]} but got size {s[k]} for tensor number {i} in the list.")
    dt = D.result_dtype(*[t for t in live]) if len({t._dtype for t in live}) > 1 else live[0]._dtype
    res = _make(np.concatenate([t._data for t in live], axis=d).astype(dt.np, copy=False), dt)
    if grad_needed(*live):
        n = CatBackward0()
        n.dim = d
        n.sizes = [t._data.shape[d] for t in live]
        record(n, res, tuple(live))
    return res


class StackBackward0(Node):
    __slots__ = ("dim",)

    def backward(self, g: Tensor) -> tuple:
        return unbind(g, self.dim)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return stack([t if t is not None else x.new_zeros(x.shape, dtype=out._dtype) for x, t in zip(ins, ts)],
                     self.dim)


@register(method=False)
def stack(tensors: Sequence, dim: int = 0) -> Tensor:
    """Join tensors of equal shape along a new dim."""
    if _vmap_levels and isinstance(tensors, (list, tuple)) and is_batched(*tensors):
        return vmap_rule("stack", stack, tensors, dim)
    ts = _tensor_seq(tensors, "stack")
    shp = ts[0]._data.shape
    for i, t in enumerate(ts):
        if t._data.shape != shp:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 "
                               f"and {list(t._data.shape)} at entry {i}")
    d = wrap_dim(dim, len(shp) + 1)
    dt = D.result_dtype(*ts) if len({t._dtype for t in ts}) > 1 else ts[0]._dtype
    res = _make(np.stack([t._data for t in ts], axis=d).astype(dt.np, copy=False), dt)
    if grad_needed(*ts):
        n = StackBackward0()
        n.dim = d
        record(n, res, tuple(ts))
    return res


@register(method=False)
def hstack(tensors: Sequence) -> Tensor:
    """Concatenate along dim 1 (dim 0 for 1-d tensors)."""
    ts = _tensor_seq(tensors, "hstack")
    ts = [t if t._data.ndim else reshape(t, 1) for t in ts]
    return cat(ts, 0 if ts[0]._data.ndim == 1 else 1)


@register(method=False, aliases=("row_stack",))
def vstack(tensors: Sequence) -> Tensor:
    """Concatenate as rows (1-d tensors become rows)."""
    ts = _tensor_seq(tensors, "vstack")
    return cat([reshape(t, 1, -1) if t._data.ndim < 2 else t for t in ts], 0)


@register(method=False)
def dstack(tensors: Sequence) -> Tensor:
    """Concatenate along dim 2 (inputs made at least 3-d)."""
    ts = _tensor_seq(tensors, "dstack")
    out = []
    for t in ts:
        if t._data.ndim == 0:
            t = reshape(t, 1, 1, 1)
        elif t._data.ndim == 1:
            t = reshape(t, 1, -1, 1)
        elif t._data.ndim == 2:
            t = unsqueeze(t, 2)
        out.append(t)
    return cat(out, 2)


@register(method=False)
def column_stack(tensors: Sequence) -> Tensor:
    """Stack 1-d tensors as columns; concatenate others along dim 1."""
    ts = _tensor_seq(tensors, "column_stack")
    return cat([reshape(t, -1, 1) if t._data.ndim < 2 else t for t in ts], 1)


class SliceBackward0(Node):
    __slots__ = ("shape", "dim", "start", "length")

    def backward(self, g: Tensor) -> tuple:
        from .._creation import zeros
        parts = []
        before, after = self.start, self.shape[self.dim] - self.start - self.length
        if before:
            s = list(self.shape)
            s[self.dim] = before
            parts.append(zeros(s, dtype=g._dtype))
        parts.append(g)
        if after:
            s = list(self.shape)
            s[self.dim] = after
            parts.append(zeros(s, dtype=g._dtype))
        return (cat(parts, self.dim) if len(parts) > 1 else g,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return narrow(ts[0], self.dim, self.start, self.length)


@register()
def narrow(input: Tensor, dim: int, start: Any, length: int) -> Tensor:
    """The slice [start, start+length) of dim (a view)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("narrow", narrow, input, dim, start, length)
    nd = input._data.ndim
    if nd == 0:
        raise RuntimeError("narrow() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    size = input._data.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not 0 <= start <= size:
        raise IndexError(f"start out of range (expected to be in range of [{-size}, {size}], but got {start})")
    if length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = [slice(None)] * nd
    idx[d] = slice(start, start + length)
    res = as_view(input, input._data[tuple(idx)])
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = SliceBackward0()
        n.shape, n.dim, n.start, n.length = input._data.shape, d, start, length
        record(n, res, (input,))
    return res


@register(node_name=_split_name)
def split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    """Split into chunks of a given size, or of the listed sizes."""
    if tensor._data.ndim == 0:
        raise RuntimeError("split expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, tensor._data.ndim)
    size = tensor._data.shape[d]
    if isinstance(split_size_or_sections, (list, tuple)):
        sizes = list(split_size_or_sections)
        if builtins.sum(sizes) != size:
            raise RuntimeError(f"split_with_sizes expects split_sizes to sum exactly to {size} (input tensor's "
                               f"size at dimension {d}), but got split_sizes={sizes}")
    else:
        step = int(split_size_or_sections)
        if step <= 0 and size:
            raise RuntimeError(f"split_size can only be 0 if dimension size is 0, but got dimension size of {size}")
        sizes = [min(step, size - i) for i in range(0, size, step)] if size else [0]
    out = []
    start = 0
    for s in sizes:
        out.append(narrow(tensor, d, start, s))
        start += s
    return tuple(out)


@register()
def tensor_split(input: Tensor, indices_or_sections: Any, dim: int = 0) -> tuple:
    """Split into n nearly equal parts, or at the given indices."""
    if input._data.ndim == 0:
        raise RuntimeError("tensor_split expected at least a 1-dimensional tensor, but got a tensor with 0 dims")
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    if isinstance(indices_or_sections, int):
        n = indices_or_sections
        q, r = divmod(size, n)
        sizes = [q + 1] * r + [q] * (n - r)
    else:
        bounds = [0] + [min(max(int(i), 0), size) for i in indices_or_sections] + [size]
        sizes = [max(b - a, 0) for a, b in zip(bounds, bounds[1:])]
    return split(input, sizes, d)


def _split_along(input: Tensor, sections: Any, dim: int, name: str, min_dims: int) -> tuple:
    nd = input._data.ndim
    if nd < min_dims:
        raise RuntimeError(f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a tensor "
                           f"with {nd} dimensions!")
    if isinstance(sections, int):
        size = input._data.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                               f"dimension {size} is not divisible by the split_size {sections}!")
    return tensor_split(input, sections, dim)


@register()
def hsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    """tensor_split along dim 1 (dim 0 for 1-d tensors); an int must divide that dim evenly."""
    return _split_along(input, indices_or_sections, 1 if input._data.ndim > 1 else 0, "hsplit", 1)


@register()
def vsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    """tensor_split along dim 0 of a tensor with at least 2 dims."""
    return _split_along(input, indices_or_sections, 0, "vsplit", 2)


@register()
def dsplit(input: Tensor, indices_or_sections: Any) -> tuple:
    """tensor_split along dim 2 of a tensor with at least 3 dims."""
    return _split_along(input, indices_or_sections, 2, "dsplit", 3)


class NarrowCopyBackward0(Node):
    """A copy of a slice: its gradient is g in that slice of zeros."""
    __slots__ = ("shape", "key", "dim", "start", "length")

    def backward(self, g: Tensor) -> tuple:
        from .indexing import _scatter_into_zeros
        return (_scatter_into_zeros(g, self.key, self.shape, False),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return narrow_copy(ts[0], self.dim, self.start, self.length)


@register()
def narrow_copy(input: Tensor, dim: int, start: int, length: int) -> Tensor:
    """narrow, as a new tensor rather than a view."""
    if not grad_needed(input) or _vmap_levels and is_batched(input):
        return narrow(input, dim, start, length).clone()
    view = narrow(graph_free(input)[0], dim, start, length)
    res = _make(view._data.copy(), input._dtype)
    n = NarrowCopyBackward0()
    d = wrap_dim(dim, input._data.ndim)
    st = int(start) + (input._data.shape[d] if int(start) < 0 else 0)
    n.shape, n.dim, n.start, n.length = input._data.shape, d, st, int(length)
    n.key = (slice(None),) * d + (slice(st, st + int(length)),)
    return record(n, res, (input,))


@register(node_name="SplitBackward0")
def chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """Split into `chunks` nearly equal pieces (the last may be smaller)."""
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: " + str(chunks))
    if input._data.ndim == 0:
        raise RuntimeError("chunk expects at least a 1-dimensional tensor")
    d = wrap_dim(dim, input._data.ndim)
    size = input._data.shape[d]
    step = -(-size // chunks) if size else 1
    return split(input, step, d) if size else tuple(narrow(input, d, 0, 0) for _ in range(1))


class SelectBackward0(Node):
    __slots__ = ("shape", "dim", "index")

    def backward(self, g: Tensor) -> tuple:
        from .._creation import zeros
        z = zeros(self.shape, dtype=g._dtype)
        parts = list(unbind(z, self.dim))
        parts[self.index] = g
        return (stack(parts, self.dim),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return select(ts[0], self.dim, self.index)


@register()
def select(input: Tensor, dim: int, index: int) -> Tensor:
    """input[..., index, ...] along dim (a view with that dim removed)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("select", select, input, dim, index)
    nd = input._data.ndim
    if nd == 0:
        raise IndexError("select() cannot be applied to a 0-dim tensor.")
    d = wrap_dim(dim, nd)
    size = input._data.shape[d]
    index = int(index)
    if not -size <= index < size:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(input._data.shape)} at "
                         f"dimension {d}")
    if index < 0:
        index += size
    idx = [slice(None)] * nd
    idx[d] = index
    res = as_view(input, input._data[tuple(idx) + (Ellipsis,)])  # (the Ellipsis keeps a 0-d result an array view)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n = SelectBackward0()
        n.shape, n.dim, n.index = input._data.shape, d, index
        record(n, res, (input,))
    return res


class UnbindBackward0(Node):
    """Gradient of one output of unbind: the slice's gradient placed at its index."""
    __slots__ = ("shape", "dim", "index")
    backward = SelectBackward0.backward
    jvp = SelectBackward0.jvp


@register(node_name="UnbindBackward0")
def unbind(input: Tensor, dim: int = 0) -> tuple:
    """The slices along dim, as a tuple of views."""
    if input._data.ndim == 0:
        raise IndexError("Dimension specified as 0 but tensor has no dimensions")
    d = wrap_dim(dim, input._data.ndim)
    return tuple(select(input, d, i) for i in range(input._data.shape[d]))


@register(inplace=True)
def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    """Lower triangle of the last two dims; the rest zeroed."""
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    mask = np.tril(np.ones(input._data.shape[-2:], dtype=bool), diagonal)
    return _masked_keep(input, mask, "TrilBackward0")


@register(inplace=True)
def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    """Upper triangle of the last two dims; the rest zeroed."""
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    mask = np.triu(np.ones(input._data.shape[-2:], dtype=bool), diagonal)
    return _masked_keep(input, mask, "TriuBackward0")


class _KeepMaskBackward(Node):
    __slots__ = ("mask",)

    def backward(self, g: Tensor) -> tuple:
        return (_masked_keep(g, self.mask, type(self).__name__),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _masked_keep(ts[0], self.mask, type(self).__name__)


_KEEP_NODES: dict = {}


def _masked_keep(input: Tensor, mask: np.ndarray, node_name: str) -> Tensor:
    if _vmap_levels and is_batched(input):
        return vmap_rule("trailing", _masked_keep, input, mask, node_name)
    res = _make(np.where(mask, input._data, np.zeros((), input._data.dtype)), input._dtype)
    if grad_needed(input):
        cls = _KEEP_NODES.get(node_name)
        if cls is None:
            cls = _KEEP_NODES[node_name] = type(node_name, (_KeepMaskBackward,), {"__slots__": ()})
        n = cls()
        n.mask = mask
        record(n, res, (input,))
    return res


class FlipBackward0(Node):
    __slots__ = ("dims",)

    def backward(self, g: Tensor) -> tuple:
        return (flip(g, self.dims),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return flip(ts[0], self.dims)


@register()
def flip(input: Tensor, dims: Any) -> Tensor:
    """Reverse the order of elements along dims (a copy, as in PyTorch)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("flip", flip, input, dims)
    axes = dims_arg(dims, input._data.ndim) or ()
    if input._data.ndim == 0:
        axes = ()
    res = _make(np.flip(input._data, axes).copy() if axes else input._data.copy(), input._dtype)
    if grad_needed(input):
        n = FlipBackward0()
        n.dims = axes
        record(n, res, (input,))
    return res


@register()
def fliplr(input: Tensor) -> Tensor:
    """Reverse the order of columns (dim 1)."""
    if input._data.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, 1)


@register()
def flipud(input: Tensor) -> Tensor:
    """Reverse the order of rows (dim 0)."""
    if input._data.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, 0)


class RollBackward0(Node):
    __slots__ = ("shifts", "dims")

    def backward(self, g: Tensor) -> tuple:
        neg = tuple(-s for s in self.shifts) if isinstance(self.shifts, tuple) else -self.shifts
        return (roll(g, neg, self.dims),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return roll(ts[0], self.shifts, self.dims)


@register()
def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    """Shift elements circularly along dims (flattened when dims is None)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("roll", roll, input, shifts, dims)
    if isinstance(shifts, list):
        shifts = tuple(shifts)
    if isinstance(dims, list):
        dims = tuple(dims)
    if dims is not None:
        for d in (dims if isinstance(dims, tuple) else (dims,)):
            if input._data.ndim == 0:
                raise IndexError(f"Dimension specified as {d} but tensor has no dimensions")
            wrap_dim(d, input._data.ndim)
        if isinstance(shifts, tuple) != isinstance(dims, tuple) or (
                isinstance(dims, tuple) and len(shifts) != len(dims)):
            ns = len(shifts) if isinstance(shifts, tuple) else 1
            raise RuntimeError(f"shifts and dimensions must align. shifts: {ns}, dims:"
                               f"{len(dims) if isinstance(dims, tuple) else 1}")
    res = _make(np.roll(input._data, shifts, dims), input._dtype)
    if grad_needed(input):
        n = RollBackward0()
        n.shifts, n.dims = shifts, dims
        record(n, res, (input,))
    return res


@register()
def rot90(input: Tensor, k: int = 1, dims: Sequence = (0, 1)) -> Tensor:
    """Rotate by 90 degrees k times in the plane of dims."""
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if input._data.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {input._data.ndim}")
    k %= 4
    d0, d1 = dims
    if k == 0:
        return clone(input)
    if k == 1:
        return transpose(flip(input, d1), d0, d1)
    if k == 2:
        return flip(input, (d0, d1))
    return flip(transpose(input, d0, d1), d1)


class RepeatBackward0(Node):
    __slots__ = ("in_shape", "repeats")

    def backward(self, g: Tensor) -> tuple:
        # fold each repeated dim into (repeat, size) and sum over the repeats
        reps = self.repeats
        shape = (1,) * (len(reps) - len(self.in_shape)) + tuple(self.in_shape)
        split_shape = []
        for r, s in zip(reps, shape):
            split_shape += [r, s]
        g2 = g.reshape(split_shape)
        g2 = g2.sum(dim=tuple(range(0, 2 * len(reps), 2)))
        return (g2.reshape(self.in_shape),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return repeat(ts[0], self.repeats)


@register(function=False)
def repeat(input: Tensor, *sizes: Any) -> Tensor:
    """Tile the tensor: repeat it sizes[i] times along dim i."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("repeat", repeat, input, *sizes)
    reps = _shape_args(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError("Number of dimensions of repeat dims can not be smaller than number of dimensions "
                           "of tensor")
    if builtins.any(r < 0 for r in reps):
        shape = (1,) * (len(reps) - input._data.ndim) + input._data.shape
        out = [r * s for r, s in zip(reps, shape)]
        bad = next((o for o in out if o < 0), builtins.min(reps))
        raise RuntimeError(f"Trying to create tensor with negative dimension {bad}: {out}")
    res = _make(np.tile(input._data, reps), input._dtype)
    if grad_needed(input):
        n = RepeatBackward0()
        n.in_shape, n.repeats = input._data.shape, reps
        record(n, res, (input,))
    return res


@register()
def tile(input: Tensor, dims: Sequence) -> Tensor:
    """Like repeat, but fewer dims than the tensor are allowed (padded with 1s)."""
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return repeat(input, dims)


@register()
def repeat_interleave(input: Any, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element `repeats` times (per element when repeats is a tensor)."""
    if _vmap_levels and is_batched(input, repeats):
        return vmap_rule("loop", repeat_interleave, input, repeats, dim, output_size=output_size)
    from .indexing import index_select
    from .._creation import tensor as _tensor
    if repeats is None:  # repeat_interleave(repeats_tensor)
        reps = input._data
        if reps.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if input._dtype.category != 1:
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{_cap(input._dtype)}'")
        if reps.size and reps.min() < 0:
            raise RuntimeError("repeats can not be negative")
        return _make(np.repeat(np.arange(len(reps)), reps), D.int64)
    if isinstance(repeats, Tensor):
        if repeats._dtype.category != 1:
            raise NotImplementedError(f"\"repeat_interleave_cpu\" not implemented for '{_cap(repeats._dtype)}'")
        if repeats._data.ndim > 1:
            raise RuntimeError("repeats must be 0-dim or 1-dim tensor")
    if np.any(np.asarray(repeats._data if isinstance(repeats, Tensor) else repeats) < 0):
        raise RuntimeError("Repeats must be non-negative" if not isinstance(repeats, Tensor) else
                           "repeats can not be negative")
    if dim is None or input._data.ndim == 0:
        wrap_dim(dim or 0, input._data.ndim)
        input = reshape(input, -1)
        dim = 0
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    r = repeats._data if isinstance(repeats, Tensor) else repeats
    if np.ndim(r) == 1 and len(r) != n and len(r) != 1:
        raise RuntimeError(f"repeats must have the same size as input along dim, but got repeats.size(0) = "
                           f"{len(r)} and input.size({d}) = {n}")
    idx = np.repeat(np.arange(n), r)
    return index_select(input, d, _tensor(idx, dtype=D.int64))


class UnfoldBackward0(Node):
    __slots__ = ("shape", "dim", "size", "step")

    def backward(self, g: Tensor) -> tuple:
        # each window's element k of window i came from position i*step + k: add them all back at once
        from .._creation import zeros
        from .indexing import index_add
        d, m = self.dim, g._data.shape[self.dim] if len(self.shape) else 1
        if not self.shape:
            return (g.reshape(()) if self.size else zeros((), dtype=g._dtype),)
        pieces = g.movedim(-1, d + 1).flatten(d, d + 1)
        idx = (np.arange(m)[:, None] * self.step + np.arange(self.size)[None, :]).reshape(-1)
        return (index_add(zeros(self.shape, dtype=g._dtype), d, _make(idx, D.int64), pieces),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return unfold(ts[0], self.dim, self.size, self.step)


@register(function=False)
def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """A view whose slices along `dimension` are the windows [i*step, i*step + size), in a new last
    dimension of length `size` (windows may overlap)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("tensor_unfold", unfold, input, dimension, size, step)
    arr = input._data
    nd = arr.ndim
    d = wrap_dim(dimension, max(nd, 1))
    n = arr.shape[d] if nd else 1
    if size > n:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {n} but size is {size}")
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    if nd == 0:
        view = arr.reshape(size)
    else:
        shape = arr.shape[:d] + ((n - size) // step + 1,) + arr.shape[d + 1:] + (size,)
        strides = arr.strides[:d] + (arr.strides[d] * step,) + arr.strides[d + 1:] + (arr.strides[d],)
        view = np.lib.stride_tricks.as_strided(arr, shape, strides, writeable=arr.flags.writeable)
    res = as_view(input, view)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n_ = UnfoldBackward0()
        n_.shape, n_.dim, n_.size, n_.step = arr.shape, d, size, step
        record(n_, res, (input,))
    return res


def _scatter_into(input: Tensor, src: Tensor, view: Any, src_shape: tuple) -> Tensor:
    """A copy of input whose `view(copy)` holds src (sizes checked as PyTorch does); differentiable in
    both through clone and an in-place copy into the view."""
    if tuple(src._data.shape) != tuple(src_shape):
        raise RuntimeError(f"expected src to have a size equal to the slice of self. src size = "
                           f"{list(src._data.shape)}, slice size = {list(src_shape)}")
    out = clone(input)
    view(out).copy_(src)
    return out


@register()
def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """input with `src` written at `index` along `dim` (the out-of-place form of `x.select(dim, i).copy_(src)`)."""
    target = select(input.detach(), dim, index)
    return _scatter_into(input, src, lambda t: select(t, dim, index), target._data.shape)


@register()
def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start: int | None = None, end: int | None = None,
                  step: int = 1) -> Tensor:
    """input with `src` written into the slice start:end:step of `dim`."""
    d = wrap_dim(dim, input._data.ndim)

    def view(t: Tensor) -> Tensor:
        return t[(slice(None),) * d + (slice(start, end, step),)]
    return _scatter_into(input, src, view, view(input.detach())._data.shape)


@register()
def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """input with `src` written onto the diagonal that `diagonal(offset, dim1, dim2)` selects."""
    target = diagonal(input.detach(), offset, dim1, dim2)
    return _scatter_into(input, src, lambda t: diagonal(t, offset, dim1, dim2), target._data.shape)


def _storage_of(arr: np.ndarray) -> tuple:
    """(the array owning `arr`'s memory as a flat array, arr's offset into it in elements)."""
    owner = arr
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    if not owner.flags.c_contiguous:  # memory NumPy did not allocate in one block: arr's own elements only
        owner = arr
    flat = owner.reshape(-1) if owner.ndim != 1 else owner
    start = arr.__array_interface__["data"][0] - owner.__array_interface__["data"][0]
    return flat, start // arr.itemsize


def _strided_indices(size: tuple, stride: tuple, offset: int) -> np.ndarray:
    idx = np.full(size, offset, np.int64)
    for d, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        idx = idx + (np.arange(n, dtype=np.int64) * st).reshape(shape)
    return idx


class AsStridedBackward0(Node):
    __slots__ = ("storage", "in_idx", "out_idx")

    def backward(self, g: Tensor) -> tuple:
        # gradients of the storage's elements (summed where windows overlap), read back at input's elements
        from .._creation import zeros
        from .indexing import index_add
        store = index_add(zeros((self.storage,), dtype=g._dtype), 0, _make(self.out_idx.reshape(-1), D.int64),
                          g.reshape(-1))
        return (store[_make(self.in_idx, D.int64)],)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        from .._creation import zeros
        from .indexing import index_add
        store = index_add(zeros((self.storage,), dtype=ts[0]._dtype), 0, _make(self.in_idx.reshape(-1), D.int64),
                          ts[0].reshape(-1))
        return store[_make(self.out_idx, D.int64)]


@register(inplace="view")
def as_strided(input: Tensor, size: Sequence, stride: Sequence, storage_offset: int | None = None) -> Tensor:
    """A view of input's memory with the given sizes and strides (in elements), starting `storage_offset`
    elements into the memory input is a view of (default: where input starts)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("as_strided", as_strided, input, size, stride, storage_offset)
    arr = input._data
    flat, own = _storage_of(arr)
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    offset = own if storage_offset is None else int(storage_offset)
    need = offset + 1 + builtins.sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else 0
    if need > flat.size:
        raise RuntimeError(f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {offset}, and "
                           f"itemsize {arr.itemsize} requiring a storage size of {need * arr.itemsize} are out of "
                           f"bounds for storage of size {flat.size * arr.itemsize}")
    base = flat[offset:] if offset < flat.size else flat[:0]
    view = np.lib.stride_tricks.as_strided(base, size, tuple(st * arr.itemsize for st in stride),
                                           writeable=arr.flags.writeable)
    res = as_view(input, view)
    if _state.enabled and input._requires_grad or _fw_levels and has_fw(input):
        n_ = AsStridedBackward0()
        n_.storage = flat.size
        n_.in_idx = _strided_indices(arr.shape, tuple(st // arr.itemsize for st in arr.strides), own)
        n_.out_idx = _strided_indices(size, stride, offset)
        record(n_, res, (input,))
    return res


def _diag_positions(shape: tuple, offset: int, d1: int, d2: int) -> tuple:
    """(rows, cols) of the diagonal `offset` of dims d1, d2 of a tensor of `shape`."""
    n1, n2 = shape[d1], shape[d2]
    k = max(min(n1, n2 - offset), 0) if offset >= 0 else max(min(n1 + offset, n2), 0)
    return (np.arange(k), np.arange(k) + offset) if offset >= 0 else (np.arange(k) - offset, np.arange(k))


class DiagonalBackward0(Node):
    """The diagonal view: its gradient is g placed on that diagonal of zeros."""
    __slots__ = ("shape", "offset", "d1", "d2")

    def backward(self, g: Tensor) -> tuple:
        from .indexing import _scatter_into_zeros
        rows, cols = _diag_positions(self.shape, self.offset, self.d1, self.d2)
        moved = tuple(n for i, n in enumerate(self.shape) if i not in (self.d1, self.d2)) + (
            self.shape[self.d1], self.shape[self.d2])
        z = _scatter_into_zeros(g, (Ellipsis, rows, cols), moved, True)
        return (movedim(z, (-2, -1), (self.d1, self.d2)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return diagonal(ts[0], self.offset, self.d1, self.d2)


@register()
def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over dims dim1, dim2 (moved to the end)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("diagonal", diagonal, input, offset, dim1, dim2)
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    # PyTorch's diagonal is a view: writes through it (x.diagonal().zero_()) reach x
    arr = np.diagonal(input._data, offset, d1, d2)
    if input._data.flags.writeable:
        arr.flags.writeable = True
    out = as_view(input, arr)
    if _state.enabled and input._requires_grad:
        n = DiagonalBackward0()
        n.shape, n.offset, n.d1, n.d2 = input._data.shape, offset, d1, d2
        record_graph(n, out, (input,))
    if _fw_levels and has_fw(input):  # the tangent is the same view of input's tangent
        view_tangents(out, input, lambda t: diagonal(t, offset, d1, d2))
    return out


@register()
def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """A square matrix with input's elements (flattened) on the diagonal `offset`."""
    return diag(reshape(input, -1), offset)


@register()
def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-d input: a square matrix with it on a diagonal; 2-d input: its diagonal."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("diag", diag, input, diagonal)
    if input._data.ndim == 1:
        n = input._data.shape[0] + builtins.abs(diagonal)
        from .._creation import zeros
        out = zeros(n, n, dtype=input._dtype)
        idx = np.arange(input._data.shape[0])
        rows, cols = (idx, idx + diagonal) if diagonal >= 0 else (idx - diagonal, idx)
        from .indexing import index_put
        from .._creation import tensor as _tensor
        return index_put(out, (_tensor(rows), _tensor(cols)), input)
    if input._data.ndim == 2:
        return globals()["diagonal"](input, diagonal)
    raise RuntimeError("diag(): Supports 1D or 2D tensors. Got " + f"{input._data.ndim}D")


class DiagEmbedBackward0(Node):
    __slots__ = ("offset", "dim1", "dim2")

    def backward(self, g: Tensor) -> tuple:
        return (diagonal(g, self.offset, self.dim1, self.dim2),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return diag_embed(ts[0], self.offset, self.dim1, self.dim2)


@register()
def diag_embed(input: Tensor, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """Matrices whose `offset` diagonal (over dims dim1, dim2 of the result) holds input's last dim."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("diag_embed", diag_embed, input, offset, dim1, dim2)
    if input._data.ndim == 0:
        raise IndexError("Dimension out of range (expected to be in range of [-1, 0], but got -2)")
    k = input._data.shape[-1]
    n = k + builtins.abs(offset)
    nd = input._data.ndim + 1
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    arr = np.zeros(input._data.shape[:-1] + (n, n), input._data.dtype)
    i = np.arange(k)
    arr[..., i + builtins.max(-offset, 0), i + builtins.max(offset, 0)] = input._data
    arr = np.moveaxis(arr, (nd - 2, nd - 1), (d1, d2))
    res = _make(np.ascontiguousarray(arr), input._dtype)
    if grad_needed(input):
        node = DiagEmbedBackward0()
        node.offset, node.dim1, node.dim2 = offset, d1, d2
        record(node, res, (input,))
    return res


@register(method=False)
def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids from 1-d tensors ('ij' by default, as PyTorch; 'xy' swaps the first two)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"torch.meshgrid: indexing must be one of \"xy\" or \"ij\", but received: {indexing}")
    ts = list(tensors)
    if len({t._dtype for t in ts}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype")
    for t in ts:
        if t._data.ndim > 1:
            raise RuntimeError("torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got: " + repr(t))
    ts = [reshape(t, -1) for t in ts]
    swap = indexing == "xy" and len(ts) >= 2
    if swap:
        ts[0], ts[1] = ts[1], ts[0]
    shape = tuple(t._data.shape[0] for t in ts)
    out = []
    for i, t in enumerate(ts):
        s = [1] * len(ts)
        s[i] = -1
        out.append(expand(reshape(t, s), shape))
    if swap:
        out[0], out[1] = out[1], out[0]
    return tuple(out)


@register()
def atleast_1d(input: Tensor) -> Tensor:
    """A 0-d tensor reshaped to 1-d; others unchanged."""
    return reshape(input, 1) if input._data.ndim == 0 else input


@register()
def atleast_2d(input: Tensor) -> Tensor:
    """A tensor padded with leading dims to 2-d."""
    return reshape(input, (1,) * (2 - input._data.ndim) + input._data.shape) if input._data.ndim < 2 else input


@register()
def ravel(input: Tensor) -> Tensor:
    """The tensor flattened to 1-d (a view when possible)."""
    return reshape(input, -1)


@register()
def diff(input: Tensor, n: int = 1, dim: int = -1, prepend: Tensor | None = None,
         append: Tensor | None = None) -> Tensor:
    """n-th forward difference along dim (after concatenating prepend/append), as torch.diff."""
    if input._data.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    d = wrap_dim(dim, input._data.ndim)
    for p in (prepend, append):
        if isinstance(p, Tensor) and p._data.ndim != input._data.ndim:
            raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    parts = [p for p in (prepend, input, append) if p is not None]
    x = cat(parts, d) if len(parts) > 1 else input
    for _ in range(n):
        size = x._data.shape[d]
        if size == 0:
            break
        hi, lo = narrow(x, d, 1, size - 1), narrow(x, d, 0, size - 1)
        x = hi ^ lo if x._dtype is D.bool else hi - lo
    return x
