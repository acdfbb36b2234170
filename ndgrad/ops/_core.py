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
_make = Tensor._make
_BY_NP = D._BY_NP
_result_dtype = D.result_dtype

# name -> (function, is_method, is_function)
REGISTRY: dict[str, tuple[Callable, bool, bool]] = {}


def register(name: str | None = None, *, method: bool = True, function: bool = True,
             aliases: tuple = ()) -> Callable:
    """Export an op as `ndgrad.<name>` and/or `Tensor.<name>` (and aliases)."""
    def deco(fn: Callable) -> Callable:
        for n in (name or fn.__name__,) + tuple(aliases):
            REGISTRY[n] = (fn, method, function)
        return fn
    return deco


def wrap(arr: Any, dtype: D.dtype | None = None) -> Tensor:
    """A new graph-free Tensor over a NumPy result (0-d results stay arrays, not scalars)."""
    if type(arr) is not np.ndarray:
        arr = np.asarray(arr)
    return _make(arr, dtype or _BY_NP[arr.dtype])


def grad_needed(*ts: Any) -> bool:
    """Whether an op on these operands must record a Node."""
    if not _state.enabled:
        return False
    for t in ts:
        if type(t) is not int and type(t) is not float and t is not None and getattr(t, "_requires_grad", False):
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
    """Link `node` as `out.grad_fn` with one edge per input (None edges for non-tensors)."""
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


def check_tensor(x: Any, fn: str, arg: str = "input") -> Tensor:
    """`x` if it is a Tensor, else PyTorch's TypeError naming `fn` and the argument."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{fn}(): argument '{arg}' (position 1) must be Tensor, not {type(x).__name__}")
    return x


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
    for i in range(-n, 0):
        a = sa[i] if -i <= len(sa) else 1
        b = sb[i] if -i <= len(sb) else 1
        if a != b and a != 1 and b != 1:
            raise RuntimeError(f"The size of tensor a ({a}) must match the size of tensor b ({b}) at "
                               f"non-singleton dimension {i + n}")
        out.append(b if a == 1 else a)
    return tuple(out)


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
