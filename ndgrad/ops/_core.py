"""Shared machinery of every op: operand conversion, graph recording, registration.

An op is a forward kernel on arrays plus a Node subclass holding its gradient rule.
Gradient rules are written with ndgrad ops, so they are differentiable themselves
(create_graph=True needs no second set of rules); the engine runs them with
recording off unless a graph of the gradient is wanted.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _wrap_dim
from ..autograd import grad_mode
from ..autograd.graph import Node, SavedOutput

_state = grad_mode.state
_fw_levels = grad_mode.fw_levels
_vmap_levels = grad_mode.vmap_levels
_make = Tensor._make
_BY_NP = D._BY_NP
_result_dtype = D.result_dtype

# An op's declaration, filled by `register` and read by ops/__init__.py once every family is imported:
# name -> (function, is_method, is_function)
REGISTRY: dict[str, tuple[Callable, bool, bool]] = {}
# in-place method name -> (the registered op it runs, how): "write" runs the op and writes the result
# into self's memory through apply_inplace (`add_`); "view" makes self the op's view (`t_`, `squeeze_`)
INPLACE: dict[str, tuple[str, str]] = {}
# op name -> PyTorch's node name for the op's outputs, where the node the op's own code records ends
# up with another class: a string, or fn(args, kwargs) -> name (None: keep the recorded one)
NODE_NAMES: dict[str, Any] = {}


def register(name: str | None = None, *, method: bool = True, function: bool = True, aliases: tuple = (),
             inplace: bool | str = False, node_name: Any = None) -> Callable:
    """Declare an op: export it as `ndgrad.<name>` and/or `Tensor.<name>` (and its aliases).

    `inplace=True` also gives `Tensor.<name>_` for the name and each alias, run through
    apply_inplace; `inplace="view"` gives the metadata form (self becomes the op's view).
    `node_name`: PyTorch's grad_fn name for the outputs (a string, or fn(args, kwargs) -> name)."""
    def deco(fn: Callable) -> Callable:
        names = (name or fn.__name__,) + tuple(aliases)
        for n in names:
            REGISTRY[n] = (fn, method, function)
            if inplace:
                INPLACE[n + "_"] = (n, "view" if inplace == "view" else "write")
        if node_name is not None:
            NODE_NAMES[names[0]] = node_name
        return fn
    return deco


def name_outputs() -> None:
    """Wrap each op declared with a `node_name` so that its outputs' grad_fn carry that name (see
    autograd.graph.rename_grad_fn); run once, after every op is registered."""
    import functools

    from ..autograd.graph import rename_grad_fn
    for op, namer in NODE_NAMES.items():
        entry = REGISTRY.get(op)
        if entry is None:
            continue
        fn = entry[0]

        def named(*args: Any, _fn: Any = fn, _namer: Any = namer, **kwargs: Any) -> Any:
            res = _fn(*args, **kwargs)
            name = _namer if isinstance(_namer, str) else _namer(args, kwargs)
            if name is not None:
                for t in (res if isinstance(res, (tuple, list)) else (res,)):
                    rename_grad_fn(t, name)
            return res
        functools.update_wrapper(named, fn)
        for alias, (f, is_method, is_function) in list(REGISTRY.items()):
            if f is fn:
                REGISTRY[alias] = (named, is_method, is_function)


def write_out(out: Any, res: Tensor, name: str = "", inputs: tuple = ()) -> Tensor:
    """Write an op's result into the caller's `out=` tensor (PyTorch's rules: no autograd through
    out=, so `inputs` and out must not require grad; the result's dtype must cast safely to out's;
    an out of another shape is resized, with PyTorch's warning unless it was empty) and return out."""
    if inputs:
        _check_out_grad(name, inputs, out)
    if not isinstance(out, Tensor):
        raise TypeError(f"{name}(): argument 'out' must be Tensor, not {type(out).__name__}")
    if not D.can_cast(res._dtype, out._dtype):
        raise RuntimeError(f"result type {D.scalar_name(res._dtype)} can't be cast to the desired output type "
                           f"{D.scalar_name(out._dtype)}")
    if out._data.shape != res._data.shape:
        if out._data.size:
            import warnings
            warnings.warn(f"An output with one or more elements was resized since it had shape {list(out.shape)}, "
                          f"which does not match the required output shape {list(res.shape)}. This behavior is "
                          "deprecated, and in a future PyTorch release outputs will not be resized unless they "
                          "have zero elements. You can explicitly reuse an out tensor t by resizing it, inplace, "
                          "to zero elements with t.resize_(0).", UserWarning, stacklevel=3)
        out._data = np.empty(res._data.shape, out._dtype.np)
    np.copyto(out._data, res._data, casting="unsafe")
    out._version[0] += 1
    return out


def _needs_grad(v: Any) -> bool:
    if isinstance(v, Tensor):
        return v._requires_grad
    if isinstance(v, (list, tuple)):
        return any(_needs_grad(x) for x in v)
    return False


def _check_out_grad(name: str, inputs: tuple, out: Any) -> None:
    if _state.enabled and (_needs_grad(inputs) or _needs_grad(out)):
        raise RuntimeError(f"{name}(): functions with out=... arguments don't support automatic "
                           "differentiation, but one of the arguments requires grad.")


def with_out(fn: Callable, name: str) -> Callable:
    """`ndgrad.<name>` taking PyTorch's `out=` (a tensor, or a tuple of tensors for ops returning
    several): the result is computed as without it, then written into out, which is returned. As in
    PyTorch, out= refuses to take part in autograd."""
    import functools

    @functools.wraps(fn)
    def op(*args: Any, out: Any = None, **kwargs: Any) -> Any:
        if out is None:
            return fn(*args, **kwargs)
        _check_out_grad(name, args + tuple(kwargs.values()), out)
        res = fn(*args, **kwargs)
        if isinstance(res, Tensor):
            return write_out(out, res, name)
        if isinstance(res, tuple) and all(isinstance(r, Tensor) for r in res):
            if not isinstance(out, (tuple, list)) or len(out) != len(res):
                raise TypeError(f"{name}(): argument 'out' must be tuple of {len(res)} Tensors, "
                                f"not {type(out).__name__}")
            outs = [write_out(o, r, name) for o, r in zip(out, res)]
            return type(res)(*outs) if hasattr(res, "_fields") else tuple(outs)
        raise TypeError(f"{name}() got an unexpected keyword argument 'out'")
    return op


def dim_given(args: tuple, kwargs: dict, pos: int = 1) -> bool:
    """Whether a call passed a `dim` (by keyword or at position `pos`): for node names that depend on it."""
    return kwargs.get("dim", args[pos] if len(args) > pos else None) is not None


_KINDS = {"b": (D.bool,), "i": (D.uint8, D.int8, D.int16, D.int32, D.int64), "h": (D.float16, D.bfloat16),
          "f": (D.float32, D.float64), "c": (D.complex64, D.complex128)}


def refusals(*rules: tuple) -> dict:
    """{dtype: (exception class, message)} from rules `(kinds, exception class, message)`: kinds are
    letters (b bool, i integers, h float16/bfloat16, f float32/float64, c complex); `{dt}` in the
    message becomes PyTorch's name of the dtype ('ComplexFloat')."""
    table = {}
    for kinds, exc, msg in rules:
        for k in kinds:
            for dt in _KINDS[k]:
                table.setdefault(dt, (exc, msg.replace("{dt}", D.scalar_name(dt))))
    return table


def refuse(table: dict, dt: Any) -> None:
    """Raise what `table` (from `refusals`) says for `dt`, if anything."""
    hit = table.get(dt)
    if hit is not None:
        raise hit[0](hit[1])


def refuses(*rules: tuple, binary: bool = False) -> Callable:
    """Decorate an op with the dtypes PyTorch's kernel refuses (rules as in `refusals`): the input's
    dtype, or with `binary` the dtype input and other promote to, is checked before the op runs."""
    import functools
    table = refusals(*rules)

    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def op(input: Any, *args: Any, **kwargs: Any) -> Any:
            dt = getattr(input, "_dtype", None)
            if binary:
                other = args[0] if args else kwargs.get("other", kwargs.get("exponent"))
                if other is not None and getattr(other, "_dtype", None) is not dt:
                    try:
                        dt = _result_dtype(input, other)
                    except Exception:  # noqa: BLE001 - the op itself reports bad operands
                        dt = None
            if dt in table:
                refuse(table, dt)
            return fn(input, *args, **kwargs)
        return op
    return deco


def not_impl(kernel: str, kinds: str) -> tuple:
    """A `refusals` rule: PyTorch's NotImplementedError '"kernel" not implemented for 'Dtype''."""
    return (kinds, NotImplementedError, f'"{kernel}" not implemented for ' + "'{dt}'")


def wrap(arr: Any, dtype: D.dtype | None = None) -> Tensor:
    """A new graph-free Tensor over a NumPy result (0-d results stay arrays, not scalars)."""
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    return _make(arr, dtype or _BY_NP[arr.dtype])


def grad_needed(*ts: Any) -> bool:
    """Whether an op on these operands must record a Node (for the graph, or for the tangents of
    forward-mode AD while a dual level is active)."""
    if _state.enabled:
        for t in ts:
            if type(t) is not int and type(t) is not float and t is not None and getattr(t, "_requires_grad", False):
                return True
    return has_fw(*ts) if _fw_levels else False


def has_fw(*ts: Any) -> bool:
    """Whether an operand carries a tangent at an active dual level (forward-mode AD)."""
    for t in ts:
        d = fw_of(t)
        if d:
            for lv in _fw_levels:
                if lv in d:
                    return True
    return False


_NO_EDGE = (None, 0)


def _edge_meta(t: Any) -> tuple:
    if isinstance(t, Tensor) and t._requires_grad:
        fn = t.grad_fn
        # views whose base changed in place since they were made go through _grad_edge (it refreshes them)
        edge = (fn, t._output_nr) if fn is not None and (t._extra is None or t._extra == t._version[0]) \
            else t._grad_edge()
        return edge, (t._data.shape, t._dtype)
    return _NO_EDGE, None


def record(node: Node, out: Tensor, inputs: tuple) -> Tensor:
    """Link `node` as `out.grad_fn` with one edge per input (None edges for non-tensors).

    While a dual level is active and an input carries a tangent, the node's JVP rule also gives
    `out` its tangent; the graph is then linked only if a gradient is wanted as well."""
    if _fw_levels and has_fw(*inputs):
        return _record_fw(node, (out,), inputs)
    if len(inputs) == 1:
        e, m = _edge_meta(inputs[0])
        node.next_functions = (e,)
        node._in_meta = (m,)
    elif len(inputs) == 2:
        e0, m0 = _edge_meta(inputs[0])
        e1, m1 = _edge_meta(inputs[1])
        node.next_functions = (e0, e1)
        node._in_meta = (m0, m1)
    else:
        pairs = [_edge_meta(t) for t in inputs]
        node.next_functions = tuple(p[0] for p in pairs)
        node._in_meta = tuple(p[1] for p in pairs)
    out.grad_fn = node
    out._requires_grad = True
    return out


def record_graph(node: Node, out: Tensor, inputs: tuple) -> Tensor:
    """record() for a node that only rewires the graph (after an in-place op on a view): the
    tangents of the tensors involved are written by fw_inplace, not by a JVP rule."""
    if not _fw_levels:
        return record(node, out, inputs)
    keep = _fw_levels[:]
    _fw_levels.clear()
    try:
        return record(node, out, inputs)
    finally:
        _fw_levels[:] = keep


def record_many(node: Node, outs: list, inputs: tuple) -> None:
    """Record a node with several outputs (each output's _output_nr is its position)."""
    node.n_outputs = len(outs)
    if _fw_levels and has_fw(*inputs):
        _record_fw(node, tuple(outs), inputs)
        return
    record(node, outs[0], inputs)
    for i, o in enumerate(outs[1:], 1):
        o.grad_fn, o._requires_grad, o._output_nr = node, True, i


# ---------------------------------------------------------------------------
# forward-mode AD: tangents live in a tensor's `_fw` dict {level id: tangent}. An op's JVP rule
# is the `jvp(ins, out, ts)` method of its Node class, beside `backward`: `ins` are the primal
# inputs in edge order, `out` the output (a tuple for several), `ts` the inputs' tangents (None
# for zero); it returns the output's tangent (a tuple for several; None for zero), written with
# ndgrad ops so that it is differentiable and carries the tangents of outer levels itself.
# ---------------------------------------------------------------------------
def fw_of(t: Any) -> dict | None:
    """`t`'s tangents {level: tangent}. A view made before its base got a tangent (by an in-place op)
    takes the same view of the base's tangent on first use; `{}` marks a tensor that must not
    (detach(), unpack_dual's primal)."""
    if getattr(t, "_batched", False):
        return fw_of(t._p)  # a batched tensor's tangents live on its physical value
    d = getattr(t, "_fw", None)
    if d is None:
        base = getattr(t, "_base", None)
        if base is not None and base._fw and _fw_levels:
            d = t._fw = {}
            for lv in _fw_levels:
                bt = base._fw.get(lv)
                if bt is not None and bt._batched:  # inside vmap: the same view of each example's tangent
                    d[lv] = VMAP["mirror"](t, base, lv)
                elif bt is not None:
                    arr = _mirror(t._data, base._data, bt._data)
                    if arr is None:  # another layout: the values, unlinked
                        from .inplace import _view_positions
                        arr = bt._data.reshape(-1)[_view_positions(base._data, t._data)]
                        d[lv] = _make(arr, bt._dtype)
                    else:
                        from .shape import as_view
                        d[lv] = as_view(bt, arr)
    return d


def tangent_at(t: Any, level: int) -> Any:
    """`t`'s tangent at a dual level (None if it has none)."""
    if getattr(t, "_batched", False):
        return VMAP["tangent_at"](t, level)
    d = fw_of(t)
    return d.get(level) if d else None


def set_tangent(t: Tensor, level: int, tan: Any) -> None:
    if t._batched:
        return VMAP["set_tangent"](t, level, tan)
    d = t._fw
    if d is None:
        t._fw = {level: tan}
    else:
        d[level] = tan


def _record_fw(node: Node, outs: tuple, inputs: tuple) -> Tensor:
    if _state.enabled and any(getattr(t, "_requires_grad", False) for t in inputs):
        keep = _fw_levels[:]
        _fw_levels.clear()  # link the graph as usual, then compute the tangents
        try:
            record_many(node, list(outs), inputs) if len(outs) > 1 else record(node, outs[0], inputs)
        finally:
            _fw_levels[:] = keep
    jvp = getattr(node, "jvp", None)
    if jvp is None:
        raise NotImplementedError(f"Trying to use forward AD with {node.name()} that does not support it "
                                  "because it has not been implemented yet.")
    keep = _fw_levels[:]
    levels = [lv for lv in keep if any(tangent_at(t, lv) is not None for t in inputs)]
    try:
        for lv in levels:
            del _fw_levels[keep.index(lv):]  # while the rule runs, only the levels outside lv propagate
            ts = tuple(tangent_at(t, lv) for t in inputs)
            r = jvp(inputs, outs[0] if len(outs) == 1 else outs, ts) if not _vmap_levels else \
                _batched_jvp(node, jvp, inputs, outs[0] if len(outs) == 1 else outs, ts)
            for o, tr in zip(outs, (r,) if len(outs) == 1 else r):
                if tr is not None and o is not None and o._dtype.category >= 2:
                    set_tangent(o, lv, _fit_tangent(tr, o, inputs, ts))
            _fw_levels[:] = keep
    finally:
        _fw_levels[:] = keep
    saved = node._saved
    if type(saved) is tuple:  # a saved output keeps its tangent (forward over reverse)
        for v in saved:
            if type(v) is SavedOutput:
                for o in outs:
                    if o is not None and v.data is o._data:
                        v.fw = o._fw
    return outs[0]


def _batched_jvp(node: Node, jvp: Callable, inputs: tuple, out: Any, ts: tuple) -> Any:
    """A JVP rule inside vmap. One written on raw arrays cannot take batched tangents: it then runs
    once per example (vmap's fallback loop, with a warning)."""
    try:
        return jvp(inputs, out, ts)
    except NoBatchingRule:
        if not is_batched(*ts):
            raise

    def per_example(*t: Any) -> Any:
        return jvp(inputs, out, t)
    per_example.__name__ = f"{type(node).__name__}.jvp"
    return VMAP["loop"](per_example, ts)


def _fit_tangent(tr: Any, out: Tensor, inputs: tuple, ts: tuple) -> Tensor:
    """A rule's tangent made into `out`'s: real for a real output, broadcast to its shape, and never
    sharing memory with an input's tangent unless `out` is a view of that input."""
    if not isinstance(tr, Tensor):
        tr = to_tensor(tr, like=out)
    if tr._dtype.category == 3 and out._dtype.category < 3:
        tr = tr.real
    shape = out.shape
    if tr.shape != shape:
        return tr.expand(shape).clone()
    for t, x in zip(ts, inputs):
        if t is not None and _shares(tr, t) and not (isinstance(x, Tensor) and _shares(out, x)):
            return tr.clone()
    return tr


def _shares(a: Tensor, b: Tensor) -> bool:
    if a is b:
        return True
    a, b = (a._p if a._batched else a), (b._p if b._batched else b)
    return a is b or np.may_share_memory(a._data, b._data)


def view_tangents(out: Tensor, input: Tensor, view: Callable) -> None:
    """Give `out`, a view of `input` built by hand, the same view of input's tangents."""
    keep = _fw_levels[:]
    try:
        for lv in keep:
            t = tangent_at(input, lv)
            if t is not None:
                del _fw_levels[keep.index(lv):]
                out._fw = dict(out._fw or {})
                out._fw[lv] = view(t)
                _fw_levels[:] = keep
    finally:
        _fw_levels[:] = keep


def detach_keep_tangents(t: Tensor) -> Tensor:
    """t.detach(), keeping t's tangents (a gradient or a transform's result carries them on)."""
    if t._batched:
        return VMAP["wrap"](detach_keep_tangents(t._p), t._lv)
    fw = t._fw
    d = t.detach()
    if fw:
        d._fw = dict(fw)
    return d


def tsum(*terms: Any) -> Any:
    """The sum of the terms that are not None (None if all are): tangents of several inputs."""
    acc = None
    for t in terms:
        if t is not None:
            acc = t if acc is None else acc + t
    return acc


def fw_inplace(self: Tensor, res: Tensor) -> None:
    """After an in-place op wrote `res` into `self`: self's tangents become res's, written into self's
    tangent memory (so views sharing it follow); a view without one gets a slice of its base's."""
    keep = _fw_levels[:]
    try:
        for lv in keep:
            tr, ts = tangent_at(res, lv), tangent_at(self, lv)
            if tr is None and ts is None:
                continue
            del _fw_levels[keep.index(lv):]
            if ts is None:
                ts = _new_tangent(self, lv)
            if ts._requires_grad and ts.grad_fn is None or not (ts._p if ts._batched else ts)._data.flags.writeable:
                set_tangent(self, lv, tr.clone() if tr is not None else None)  # cannot write: rebind
            elif tr is None:
                ts.zero_()
            elif _vmap_levels and is_batched(tr) and not set(tr._lv) <= set(ts._lv if ts._batched else ()):
                VMAP["promote"](self, lv, tr).copy_(tr)  # the tangent becomes batched (inside vmap)
            else:
                ts.copy_(tr)
            _fw_levels[:] = keep
    finally:
        _fw_levels[:] = keep


def snapshot_tangents(t: Tensor) -> dict:
    """Copies of t's tangents (each carrying its outer levels' tangents), before an in-place op."""
    keep = _fw_levels[:]
    out = {}
    try:
        for lv in keep:
            tan = tangent_at(t, lv)
            if tan is not None:
                del _fw_levels[keep.index(lv):]
                out[lv] = tan.clone()
                _fw_levels[:] = keep
    finally:
        _fw_levels[:] = keep
    return out


def _new_tangent(t: Tensor, level: int) -> Tensor:
    base = t._base
    if base is not None:
        bt = tangent_at(base, level)
        if bt is None:
            bt = _make(np.zeros_like(base._data), base._dtype)
            set_tangent(base, level, bt)
        if bt._batched:
            tan = VMAP["mirror"](t, base, level)
            set_tangent(t, level, tan)
            return tan
        arr = _mirror(t._data, base._data, bt._data)
        if arr is not None:
            from .shape import as_view
            tan = as_view(bt, arr)
            set_tangent(t, level, tan)
            return tan
    tan = _make(np.zeros_like(t._data), t._dtype)
    set_tangent(t, level, tan)
    return tan


def _mirror(view: np.ndarray, base: np.ndarray, other: np.ndarray) -> np.ndarray | None:
    """The view of `other` that `view` is of `base` (same layout needed), else None."""
    if other.strides != base.strides or any(s < 0 for s in base.strides) or not (
            other.flags.c_contiguous or other.flags.f_contiguous):
        return None
    off = view.__array_interface__["data"][0] - base.__array_interface__["data"][0]
    if off < 0 or any(s < 0 for s in view.strides):
        return None
    return np.ndarray(view.shape, view.dtype, buffer=other, offset=off, strides=view.strides)


# ---------------------------------------------------------------------------
# vmap: an op with a batching rule starts with
#     if _vmap_levels and is_batched(a, b): return vmap_rule("<rule>", <op>, a, b, ...)
# ndgrad.func fills BATCH_RULES (rule name -> rule(op, args, kwargs)) and VMAP (its hooks) when it
# is imported, so that ops/ imports nothing above it.
# ---------------------------------------------------------------------------
BATCH_RULES: dict = {}
VMAP: dict = {}


class NoBatchingRule(RuntimeError):
    """Raised when a batched tensor reaches a kernel that has no batching rule (inside vmap)."""


def is_batched(*ts: Any) -> bool:
    """Whether an operand is a BatchedTensor (a tensor inside vmap)."""
    for t in ts:
        if getattr(t, "_batched", False):
            return True
    return False


def vmap_rule(rule: str, fn: Callable, *args: Any, **kwargs: Any) -> Any:
    """Run `fn` on batched operands through its batching rule (batched NumPy calls on the values)."""
    r = BATCH_RULES.get(rule)
    if r is None:  # no rule of its own: once per example, warned
        r = BATCH_RULES["loop"]
    return r(fn, args, kwargs)


def out_ref(out: Tensor) -> SavedOutput:
    """A saved reference to an op's output that does not keep the output alive."""
    return SavedOutput(out)


def to_tensor(x: Any, like: Tensor | None = None) -> Tensor:
    """Tensor for an operand that may be a Python scalar, NumPy value or Tensor."""
    if isinstance(x, Tensor):
        return x
    from .._creation import tensor
    if isinstance(x, (bool, int, float, complex)) and like is not None:
        return tensor(x, dtype=_result_dtype(like, x))
    return tensor(x)


def check_tensor(x: Any, fn: str, arg: str = "input", pos: int = 1) -> Tensor:
    """`x` if it is a Tensor, else PyTorch's TypeError naming `fn`, the argument and its position."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position {pos}) must be Tensor, not {type(x).__name__}")
    return x


def graph_free(*xs: Any) -> tuple:
    """Tensors as new graph-free tensors over the same arrays (other values unchanged): a fused op
    computes its values as its composite would on these, then records one node of its own."""
    return tuple(_make(x._data, x._dtype) if isinstance(x, Tensor) else x for x in xs)


def wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim against `ndim` (IndexError when out of range)."""
    return _wrap_dim(dim, ndim)


def dims_arg(dim: Any, ndim: int) -> tuple | None:
    """Normalise a `dim` argument (None, int, list or tuple) to a tuple of non-negative axes."""
    if dim is None:
        return None
    if isinstance(dim, (list, tuple)):
        axes = tuple(_wrap_dim(d, ndim) for d in dim)
        if len(set(axes)) != len(axes):
            dup = next(a for i, a in enumerate(axes) if a in axes[:i])
            raise RuntimeError(f"dim {dup} appears multiple times in the list of dims")
        return axes
    if isinstance(dim, Tensor):
        dim = int(dim)
    if not isinstance(dim, (int, np.integer)):
        raise TypeError(f"dim must be an int, a tuple or a list of ints, not {type(dim).__name__}")
    return (_wrap_dim(int(dim), ndim),)


def broadcast_shapes_or_raise(sa: tuple, sb: tuple) -> tuple:
    """PyTorch's broadcast of two shapes, with its error naming the mismatched sizes."""
    n = max(len(sa), len(sb))
    out = []
    for i in range(-1, -n - 1, -1):  # from the last dim, as PyTorch reports the last mismatch
        a = sa[i] if -i <= len(sa) else 1
        b = sb[i] if -i <= len(sb) else 1
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                               f"non-singleton dimension {i + n}")
        out.append(b if a == 1 else a)
    return tuple(reversed(out))


def float_dtype_for(t: Tensor) -> D.dtype:
    """dtype of a float-valued op on `t`: its own if floating/complex, else the default."""
    return t._dtype if t._dtype.category >= 2 else D.get_default_dtype()


def float_data(t: Tensor) -> np.ndarray:
    """`t`'s array, cast to the default float dtype if it holds integers or bools."""
    return t._data if t._dtype.category >= 2 else t._data.astype(D.get_default_dtype().np)


def is_low_float(dt: D.dtype) -> bool:
    """float16 or bfloat16: dtypes whose kernels compute (and accumulate) in float32 in PyTorch."""
    return dt is D.float16 or dt is D.bfloat16


def upcast(arr: np.ndarray) -> np.ndarray:
    """`arr` in float32 if it holds float16/bfloat16 (chars 'e'/'E'), else unchanged: the
    accumulation type of PyTorch's CPU reductions and matmul on those dtypes."""
    return arr.astype(np.float32) if arr.dtype.char in "eE" else arr


def in_float32(fn: Callable) -> Callable:
    """Decorate a composite op so that a float16/bfloat16 first argument is computed on a float32
    copy and the result rounded back once, as PyTorch's fused kernels compute those dtypes
    (a chain of half-precision ops would round after every step)."""
    import functools

    @functools.wraps(fn)
    def op(input: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(input, Tensor) and is_low_float(input._dtype):
            return _round_back(fn(input.to(D.float32), *args, **kwargs), input._dtype)
        return fn(input, *args, **kwargs)
    return op


def _round_back(out: Any, dt: D.dtype) -> Any:
    if isinstance(out, Tensor):
        return out.to(dt) if out._dtype is D.float32 else out
    if isinstance(out, tuple):
        vals = [_round_back(o, dt) for o in out]
        return type(out)(*vals) if hasattr(out, "_fields") and type(out) is not tuple else tuple(vals)
    return out


def is_float_array(a: np.ndarray) -> bool:
    """Whether a NumPy array holds real floats (bfloat16 included, whose NumPy kind is 'V')."""
    return a.dtype.kind == "f" or a.dtype.char == "E"


# ---------------------------------------------------------------------------
# autocast (torch.autocast on the CPU): the state lives here so that ops can read it;
# ndgrad.amp switches it.
# ---------------------------------------------------------------------------
AUTOCAST: list = [None]  # the lower-precision dtype of the innermost enabled CPU autocast region, or None


def _autocast_arg(x: Any, target: D.dtype) -> Any:
    # eligible: floating tensors other than float64 (PyTorch leaves double alone)
    if isinstance(x, Tensor):
        dt = x._dtype
        if dt is not target and dt.category == 2 and dt is not D.float64:
            return x.to(target)
        return x
    if isinstance(x, (list, tuple)) and x and any(isinstance(v, Tensor) for v in x):
        return type(x)(_autocast_arg(v, target) for v in x)
    return x


def autocast_op(policy: str) -> Callable:
    """Mark an op for autocast: "lower" ops (matmul, linear, conv...) run in the region's dtype,
    "fp32" ops (losses, prod, cdist...) in float32. Inside the op autocast is off, as in PyTorch
    (its own building blocks are not cast again)."""
    import functools

    def deco(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def op(*args: Any, **kwargs: Any) -> Any:
            low = AUTOCAST[0]
            if low is None:
                return fn(*args, **kwargs)
            target = low if policy == "lower" else D.float32
            args = tuple(_autocast_arg(a, target) for a in args)
            kwargs = {k: _autocast_arg(v, target) for k, v in kwargs.items()}
            AUTOCAST[0] = None
            try:
                return fn(*args, **kwargs)
            finally:
                AUTOCAST[0] = low
        return op
    return deco
