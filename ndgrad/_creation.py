"""Tensor factories: tensor, as_tensor, zeros/ones/full/empty (+ _like), arange,
linspace, logspace, eye, from_numpy. Arrays come from the backend seam."""
from __future__ import annotations

import builtins
import math
from typing import Any, Sequence

import numpy as np

from . import _alias
from . import _dtype as D
from ._backend import check_device, xp
from ._tensor import Size, Tensor

_make = Tensor._make

_PY_TYPES = {builtins.float: D.float64, builtins.int: D.int64, builtins.bool: D.bool,
             builtins.complex: D.complex128}


def as_dtype(dtype: Any) -> D.dtype | None:
    """Normalise a `dtype=` argument (ndgrad dtype, Python type, NumPy dtype or None)."""
    if dtype is None or isinstance(dtype, D.dtype):
        return dtype
    if dtype in _PY_TYPES:
        return _PY_TYPES[dtype]
    try:
        return D.from_numpy_dtype(np.dtype(dtype))
    except TypeError:
        raise TypeError(f"expected a dtype, but got {dtype!r}") from None


def _finish(arr: np.ndarray, dtype: D.dtype, requires_grad: bool) -> Tensor:
    t = _make(arr, dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _is_sequence(x: Any) -> bool:
    """Whether PyTorch reads `x` as a sequence of elements (list, tuple, deque, range, array, memoryview...)."""
    if isinstance(x, (list, tuple)):
        return True
    if isinstance(x, (str, bytes, dict, set, frozenset, Tensor, np.ndarray, np.generic)):
        return False
    t = type(x)
    return hasattr(t, "__len__") and hasattr(t, "__getitem__") and not hasattr(t, "keys")


def _default_complex() -> D.dtype:
    return D.complex128 if D.get_default_dtype() is D.float64 else D.complex64


def _leaf_dtype(x: Any) -> D.dtype:
    """dtype PyTorch infers for one element: Python scalars weakly (default float), NumPy values and
    tensors by their own dtype."""
    if isinstance(x, (np.ndarray, np.generic)):  # before float: np.float64 is a float subclass
        return D.from_numpy_dtype(x.dtype)
    if isinstance(x, builtins.bool):
        return D.bool
    if isinstance(x, builtins.int):
        return D.int64
    if isinstance(x, builtins.float):
        return D.get_default_dtype()
    if isinstance(x, builtins.complex):
        return _default_complex()
    if isinstance(x, Tensor):
        return x._dtype
    raise RuntimeError(f"Could not infer dtype of {type(x).__name__}")


def _check_fits(x: Any, want: D.dtype) -> None:
    """PyTorch converts a sequence's elements one by one to a requested dtype of a lower category: Python
    complex numbers do not become real, and only Python numbers, NumPy integers and float64 (not float
    tensors, float32 or, for integer dtypes, NumPy bools) become integers."""
    if isinstance(x, builtins.complex) and not isinstance(x, np.generic):
        raise TypeError("must be real number, not complex")
    if want.category < 2:
        if isinstance(x, Tensor) and x._dtype.category >= 2:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        kind = x.dtype if isinstance(x, (np.ndarray, np.generic)) else None
        refused = kind is not None and ((kind.kind in "fc" and kind != np.float64)
                                        or (kind.kind == "b" and want is not D.bool))
        if refused:
            raise TypeError(f"'numpy.{kind.name}' object cannot be interpreted as an integer")


def _plain(data: Any, first: bool, want: D.dtype | None = None) -> tuple[Any, D.dtype | None]:
    """`data` as nested lists NumPy can read (tensors as their one value, other sequences as lists), and
    the promoted dtype of its elements (None for an empty sequence). `first`: on the chain of first
    elements from the top, where PyTorch measures the shape (a str there has "too many dimensions").
    `want`: a requested real dtype its elements must convert to (see _check_fits)."""
    if want is not None:
        _check_fits(data, want)
    if isinstance(data, str):
        if first:
            raise ValueError(f"too many dimensions '{type(data).__name__}'")
        raise TypeError(f"new(): invalid data type '{type(data).__name__}'")
    if isinstance(data, Tensor):
        if data._data.size != 1:
            raise ValueError("only one element tensors can be converted to Python scalars")
        return data._data.reshape(()).item(), data._dtype
    if isinstance(data, np.ndarray):
        if data.ndim == 0:
            raise TypeError("len() of unsized object")
        return data, D.from_numpy_dtype(data.dtype)
    if not _is_sequence(data):
        return data, _leaf_dtype(data)
    items = data if isinstance(data, (list, tuple)) else list(data)
    dt: D.dtype | None = None
    out = None
    promote = D.promote_types
    fast = {builtins.float: D.get_default_dtype(), builtins.int: D.int64, builtins.bool: D.bool}
    for i, x in enumerate(items):
        d = fast.get(type(x))  # plain Python numbers, the common case, kept fast
        if d is not None:
            y = x
        else:
            y, d = _plain(x, first and i == 0, want)
        if y is not x and out is None:
            out = list(items[:i])
        if out is not None:
            out.append(y)
        if d is not None and d is not dt:
            dt = d if dt is None else promote(dt, d)
    return (out if out is not None else items), dt


def _check_ragged(data: Any, dim: int = 0) -> None:
    if not (_is_sequence(data) or isinstance(data, np.ndarray)) or not len(data):
        return
    seq = lambda v: _is_sequence(v) or isinstance(v, np.ndarray)  # noqa: E731
    first = data[0]
    n = len(first) if seq(first) else None
    for item in data:
        m = len(item) if seq(item) else None
        if (m is None) != (n is None):
            raise TypeError("not a sequence" if m is None else
                            f"'{type(item).__name__}' object cannot be interpreted as an integer")
        if m != n:
            raise ValueError(f"expected sequence of length {n} at dim {dim + 1} (got {m})")
    for item in data:
        _check_ragged(item, dim + 1)


def _to_array(data: Any, want: D.dtype | None = None) -> tuple[np.ndarray, D.dtype]:
    if isinstance(data, Tensor):
        return data._data.copy(), data._dtype
    if isinstance(data, np.ndarray):
        return data.copy(), D.from_numpy_dtype(data.dtype)
    if isinstance(data, np.generic):
        return np.array(data), D.from_numpy_dtype(data.dtype)
    if isinstance(data, str):
        raise TypeError("new(): invalid data type 'str'")
    plain, inferred = _plain(data, True, want if want is not None and want.category < 3 else None)
    if inferred is None:  # empty sequences only
        inferred = D.get_default_dtype()
    # build straight in the requested dtype: going through float32 first would round
    # float64 data (1e-4, 1e-200) before the cast
    target = inferred
    if want is not None and inferred.category <= 2 and want.category >= inferred.category:
        target = want
    try:
        arr = np.array(plain, dtype=target.np)
    except ValueError:
        _check_ragged(plain)
        raise
    except OverflowError:
        raise ValueError("Overflow when unpacking long long") from None
    return arr, inferred


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor copying `data` (nested lists, scalars, NumPy arrays or tensors)."""
    check_device(device)
    dtype = as_dtype(dtype)
    try:
        arr, inferred = _to_array(data, dtype)
    except RuntimeError as e:
        if dtype is None or not str(e).startswith("Could not infer dtype of "):
            raise
        # with a dtype given PyTorch converts each element to it, and fails on the first it cannot read
        what = str(e)[len("Could not infer dtype of "):]
        raise TypeError(f"'{what}' object cannot be interpreted as an integer" if dtype.category < 2 else
                        f"must be real number, not {what}") from None
    if dtype is not None and arr.dtype != dtype.np:
        if inferred.category == 3 and dtype.category < 3:
            arr = arr.real
        arr = arr.astype(dtype.np)
    return _finish(arr, dtype or inferred, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like `tensor`, but shares memory with a Tensor or NumPy array when no conversion is needed."""
    check_device(device)
    dtype = as_dtype(dtype)
    if isinstance(data, Tensor):
        return data if dtype is None or dtype is data._dtype else data.to(dtype)
    if isinstance(data, np.ndarray):
        t = from_numpy(data)
        return t if dtype is None or dtype is t._dtype else t.to(dtype)
    return tensor(data, dtype=dtype)


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    """Convert to a tensor, sharing memory when possible (copy=True forces a copy)."""
    t = as_tensor(obj, dtype=dtype, device=device)
    if copy:
        t = _make(t._data.copy(), t._dtype)
    if requires_grad:
        t.requires_grad_(True)
    return t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A tensor sharing memory with a NumPy array (writes show in both)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    if not ndarray.dtype.isnative:
        raise ValueError("given numpy array has byte order different from the native byte order. Conversion "
                         "between byte orders is currently not supported.")
    if ndarray.strides and min(ndarray.strides) < 0:
        raise ValueError("At least one stride in the given numpy array is negative, and tensors with "
                         "negative strides are not currently supported. (You can probably work around "
                         "this by making a copy of your array  with array.copy().) ")
    return _make(ndarray, D.from_numpy_dtype(ndarray.dtype))


def _size_args(size: Sequence, fn: str = "zeros") -> tuple:
    """A shape from sizes given as varargs (2, 3) or as one sequence ((2, 3), [2, 3], Size)."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    out = []
    for s in size:
        if isinstance(s, Tensor):
            s = int(s)
        if not isinstance(s, (builtins.int, np.integer)) or isinstance(s, builtins.bool):
            raise TypeError(f"{fn}(): argument 'size' must be tuple of ints, but found element of type "
                            f"{type(s).__name__} at pos {len(out)}")
        if s < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {s}: {list(size)}")
        out.append(builtins.int(s))
    return tuple(out)


def _filled(fill: Any, size: Sequence, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    check_device(device)
    shape = _size_args(size)
    dt = as_dtype(dtype) or D.get_default_dtype()
    mod = xp()
    arr = mod.zeros(shape, dt.np) if fill == 0 else mod.ones(shape, dt.np) if fill == 1 else \
        mod.empty(shape, dt.np)
    return _finish(arr, dt, requires_grad)


def zeros(*args: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, size: Any = None) -> Tensor:
    """A tensor of zeros (default dtype unless given)."""
    size = args if size is None else (size,)  # PyTorch accepts size= as a keyword too
    return _filled(0, size, dtype, device, requires_grad)


def ones(*args: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
         requires_grad: bool = False, size: Any = None) -> Tensor:
    """A tensor of ones (default dtype unless given)."""
    size = args if size is None else (size,)  # PyTorch accepts size= as a keyword too
    return _filled(1, size, dtype, device, requires_grad)


def empty(*args: Any, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
          requires_grad: bool = False, memory_format: Any = None, pin_memory: bool = False,
          size: Any = None) -> Tensor:
    """An uninitialised tensor (here: zero-filled memory is not promised)."""
    size = args if size is None else (size,)  # PyTorch accepts size= as a keyword too
    return _filled(None, size, dtype, device, requires_grad)


def empty_strided(size: Sequence, stride: Sequence, *, dtype: Any = None, layout: Any = None, device: Any = None,
                  requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor with the given strides (in elements) over just enough memory."""
    from .ops.shape import as_strided
    size, stride = tuple(size), tuple(stride)
    need = 1 + builtins.sum((n - 1) * st for n, st in zip(size, stride)) if all(size) else 0
    out = as_strided(_filled(None, (need,), dtype, device, False), size, stride, 0)
    out._base = None  # it owns its memory, as a fresh tensor does
    return out.requires_grad_(requires_grad) if requires_grad else out


def frombuffer(buffer: Any, *, dtype: D.dtype, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-d tensor over an object exposing the buffer protocol (bytearray, memoryview, array.array, ...),
    sharing its memory: `count` elements of `dtype` from byte `offset` (-1: all that remain)."""
    n = memoryview(buffer).nbytes
    size = dtype.itemsize
    if n <= 0:
        raise ValueError(f"both buffer length ({n}) and count ({count}) must not be 0")
    if not 0 <= offset < n:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than buffer length ({n} "
                         "bytes) minus 1")
    if count < 0:
        if (n - offset) % size:
            raise ValueError(f"buffer length ({n - offset} bytes) after offset ({offset} bytes) must be a multiple "
                             f"of element size ({size})")
        count = (n - offset) // size
    elif count * size > n - offset:
        raise ValueError(f"requested buffer length ({count} * {size} bytes) after offset ({offset} bytes) must not "
                         f"be greater than actual buffer length ({n} bytes)")
    arr = np.frombuffer(buffer, dtype=dtype.np, count=count, offset=offset)
    if not arr.flags.writeable:
        import warnings
        warnings.warn("The given buffer is not writable: the tensor is read-only (in-place writes raise). Copy "
                      "the buffer or make it writable to write through the tensor.", UserWarning, stacklevel=2)
    out = _make(arr, dtype)
    return out.requires_grad_(requires_grad) if requires_grad else out


class _Capsule:
    """A DLPack capsule (from `to_dlpack`) presented as an object NumPy's from_dlpack reads."""

    def __init__(self, capsule: Any) -> None:
        self._capsule = capsule

    def __dlpack__(self, **kwargs: Any) -> Any:
        return self._capsule

    def __dlpack_device__(self) -> tuple:
        return (1, 0)  # kDLCPU


def from_dlpack(ext_tensor: Any) -> Tensor:
    """A tensor sharing memory with any CPU array that speaks DLPack (`__dlpack__`: NumPy, JAX, CuPy on the
    host, PyTorch...) or with a DLPack capsule."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    if type(ext_tensor).__name__ == "PyCapsule":
        ext_tensor = _Capsule(ext_tensor)
    if not hasattr(ext_tensor, "__dlpack__"):
        raise TypeError(f"from_dlpack: expected an object with __dlpack__ or a DLPack capsule (got "
                        f"{type(ext_tensor).__name__})")
    try:
        arr = np.from_dlpack(ext_tensor)
    except BufferError as e:  # a device NumPy cannot read
        raise RuntimeError(f"from_dlpack: {e}") from None
    return _make(arr, D.from_numpy_dtype(arr.dtype))


def _dlpack(self: Tensor, *, stream: Any = None, max_version: Any = None, dl_device: Any = None,
            copy: Any = None) -> Any:
    if self._requires_grad:
        raise RuntimeError("Can't export tensors that require gradient, use tensor.detach()")
    kw = {k: v for k, v in (("max_version", max_version), ("copy", copy)) if v is not None}
    return self._data.__dlpack__(stream=stream, **kw)


Tensor.__dlpack__ = _dlpack
Tensor.__dlpack_device__ = lambda self: (1, 0)


def _window(name: str, n: int, periodic: bool, dtype: Any, requires_grad: bool, values: Any) -> Tensor:
    dt = dtype or D.get_default_dtype()
    if not dt.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dt}")
    if n < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={n}")
    if n <= 1:
        w = np.ones(n)
    else:
        m = n + 1 if periodic else n  # a periodic window is the symmetric one a sample longer, cut
        w = values(np.arange(m, dtype=np.float64), m)[:n]
    out = _make(w.astype(dt.np), dt)
    return out.requires_grad_(requires_grad) if requires_grad else out


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Hann window 0.5 - 0.5 cos(2 pi n / (N - 1)) (periodic: computed for N + 1, last dropped)."""
    return _window("hann_window", window_length, periodic, dtype, requires_grad,
                   lambda k, m: 0.5 - 0.5 * np.cos(2 * math.pi * k / (m - 1)))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54, beta: float = 0.46, *,
                   dtype: Any = None, layout: Any = None, device: Any = None, pin_memory: bool = False,
                   requires_grad: bool = False) -> Tensor:
    """The Hamming window alpha - beta cos(2 pi n / (N - 1))."""
    return _window("hamming_window", window_length, periodic, dtype, requires_grad,
                   lambda k, m: alpha - beta * np.cos(2 * math.pi * k / (m - 1)))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Blackman window 0.42 - 0.5 cos(2 pi n / (N - 1)) + 0.08 cos(4 pi n / (N - 1))."""
    return _window("blackman_window", window_length, periodic, dtype, requires_grad,
                   lambda k, m: (0.42 - 0.5 * np.cos(2 * math.pi * k / (m - 1))
                                 + 0.08 * np.cos(4 * math.pi * k / (m - 1))))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None, layout: Any = None,
                    device: Any = None, requires_grad: bool = False) -> Tensor:
    """The triangular Bartlett window 1 - |2n / (N - 1) - 1|."""
    return _window("bartlett_window", window_length, periodic, dtype, requires_grad,
                   lambda k, m: 1 - np.abs(2 * k / (m - 1) - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """The Kaiser window I0(beta sqrt(1 - (2n / (N - 1) - 1)^2)) / I0(beta)."""
    return _window("kaiser_window", window_length, periodic, dtype, requires_grad,
                   lambda k, m: np.i0(beta * np.sqrt(np.clip(1 - (2 * k / (m - 1) - 1) ** 2, 0, None))) / np.i0(beta))


def full(size: Sequence, fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Any = None, layout: Any = None) -> Tensor:
    """A tensor filled with `fill_value`; its dtype is inferred from the value when not given."""
    check_device(device)
    shape = _size_args((size,) if not isinstance(size, (builtins.int, np.integer)) else ((size,),))
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    dt = as_dtype(dtype) or D.scalar_dtype(fill_value)
    return _finish(xp().full(shape, fill_value, dt.np), dt, requires_grad)


def _like(input: Tensor, dtype: Any) -> tuple:
    if not isinstance(input, Tensor):
        raise TypeError(f"argument 'input' (position 1) must be Tensor, not {type(input).__name__}")
    return input._data.shape, as_dtype(dtype) or input._dtype


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               layout: Any = None, memory_format: Any = None) -> Tensor:
    """Zeros with `input`'s shape (and dtype unless given)."""
    shape, dt = _like(input, dtype)
    return _finish(np.zeros(shape, dt.np), dt, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
              layout: Any = None, memory_format: Any = None) -> Tensor:
    """Ones with `input`'s shape (and dtype unless given)."""
    shape, dt = _like(input, dtype)
    return _finish(np.ones(shape, dt.np), dt, requires_grad)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
               layout: Any = None, memory_format: Any = None) -> Tensor:
    """An uninitialised tensor with `input`'s shape (and dtype unless given)."""
    shape, dt = _like(input, dtype)
    return _finish(np.empty(shape, dt.np), dt, requires_grad)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, layout: Any = None, memory_format: Any = None) -> Tensor:
    """`fill_value` everywhere, with `input`'s shape (and dtype unless given)."""
    shape, dt = _like(input, dtype)
    return _finish(np.full(shape, fill_value, dt.np), dt, requires_grad)


def _num(x: Any, name: str) -> Any:
    if isinstance(x, Tensor):
        return x.item()
    if not isinstance(x, (builtins.int, builtins.float, np.integer, np.floating)):
        raise TypeError(f"arange(): argument '{name}' must be Number, not {type(x).__name__}")
    return x


def arange(start: Any, end: Any = None, step: Any = 1, *, out: Any = None, dtype: Any = None,
           device: Any = None, requires_grad: bool = False, layout: Any = None) -> Tensor:
    """Values from start (default 0) up to end, exclusive, by step. Int arguments give int64."""
    check_device(device)
    if end is None:
        start, end = 0, start
    start, end, step = _num(start, "start"), _num(end, "end"), _num(step, "step")
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if not all(math.isfinite(v) for v in (start, end, step)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    is_int = all(isinstance(v, (builtins.int, np.integer)) for v in (start, end, step))
    dt = as_dtype(dtype) or (D.int64 if is_int else D.get_default_dtype())
    n = max(0, math.ceil((end - start) / step))
    if is_int and dt.category < 2:
        arr = np.arange(start, start + n * step, step, dtype=dt.np)[:n]
    else:
        arr = (start + np.arange(n, dtype=np.float64) * step).astype(dt.np)
    return _finish(arr, dt, requires_grad)


def range(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None, device: Any = None,  # noqa: A001
          requires_grad: bool = False) -> Tensor:
    """Deprecated in PyTorch: values from start to end inclusive (default float dtype)."""
    if end is None:
        start, end = 0, start
    dt = as_dtype(dtype) or D.get_default_dtype()
    n = builtins.int(math.floor((end - start) / step)) + 1
    return _finish((start + np.arange(n, dtype=np.float64) * step).astype(dt.np), dt, requires_grad)


def linspace(start: Any, end: Any, steps: int, *, out: Any = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, layout: Any = None) -> Tensor:
    """`steps` evenly spaced values from start to end inclusive."""
    check_device(device)
    if not isinstance(steps, (builtins.int, np.integer)):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    start, end = _num(start, "start"), _num(end, "end")
    dt = as_dtype(dtype) or D.get_default_dtype()
    if steps == 1:
        arr = np.array([start], dtype=np.float64)
    else:
        # PyTorch fills the first half from start and the second half from end
        step = (end - start) / (steps - 1) if steps > 1 else 0
        i = np.arange(steps, dtype=np.float64)
        half = steps // 2
        arr = np.where(i < half, start + step * i, end - step * (steps - 1 - i))
    if dt.category < 2:
        arr = np.trunc(arr)
    return _finish(arr.astype(dt.np), dt, requires_grad)


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, out: Any = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False, layout: Any = None) -> Tensor:
    """base ** linspace(start, end, steps)."""
    dt = as_dtype(dtype) or D.get_default_dtype()
    lin = linspace(start, end, steps, dtype=D.float64)
    return _finish(np.power(base, lin._data).astype(dt.np), dt, requires_grad)


def eye(n: int, m: int | None = None, *, out: Any = None, dtype: Any = None, device: Any = None,
        requires_grad: bool = False, layout: Any = None) -> Tensor:
    """Identity matrix (n x m)."""
    check_device(device)
    if n < 0:
        raise RuntimeError(f"n must be greater or equal to 0, got {n}")
    if m is not None and m < 0:
        raise RuntimeError(f"m must be greater or equal to 0, got {m}")
    dt = as_dtype(dtype) or D.get_default_dtype()
    return _finish(np.eye(n, m, dtype=dt.np), dt, requires_grad)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A 0-d tensor holding `s` (default dtype unless given)."""
    dt = as_dtype(dtype) or D.get_default_dtype()
    return _finish(np.array(s, dtype=dt.np), dt, requires_grad)


def _legacy_tensor(*args: Any, **kwargs: Any) -> Tensor:
    """`ndgrad.Tensor(...)` and `ndgrad.LongTensor(...)`: sizes (ints or a Size) give an uninitialised
    tensor, a sequence or array gives a copy in the constructor's dtype, a tensor is taken as it is."""
    typed = "dtype" in kwargs
    dtype = as_dtype(kwargs.pop("dtype", None)) or D.get_default_dtype()
    if not args:
        return zeros(0, dtype=dtype)
    if len(args) == 1 and not isinstance(args[0], (builtins.int, np.integer, Size)):
        data = args[0]
        if isinstance(data, Tensor):
            if typed and data._dtype is not dtype:
                raise TypeError(f"expected TensorOptions(dtype={D.scalar_name(dtype).lower()}, device=cpu, "
                                "layout=Strided, requires_grad=false (default), pinned_memory=false (default), "
                                "memory_format=(nullopt))")
            return data.detach()
        if not (_is_sequence(data) or isinstance(data, np.ndarray)):
            name = type(data).__name__ if type(data).__module__ == "builtins" else \
                f"{type(data).__module__}.{type(data).__name__}"
            raise TypeError(f"new(): data must be a sequence (got {name})")
        return tensor(data, dtype=dtype)
    return zeros(*args, dtype=dtype)


class _TypedTensorType(type):
    """`ndgrad.LongTensor` and friends: calling one builds a tensor of its dtype (legacy constructor);
    `isinstance(t, ndgrad.LongTensor)` tests t's dtype, as in PyTorch."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Tensor:
        return _legacy_tensor(*args, dtype=cls.dtype, **kwargs)

    def __instancecheck__(cls, obj: Any) -> bool:
        return isinstance(obj, Tensor) and obj._dtype is cls.dtype

    def __repr__(cls) -> str:
        return f"<class '{_alias.public_name(cls.__module__)}.{cls.__name__}'>"


def _typed(name: str, dt: D.dtype) -> type:
    return _TypedTensorType(name, (), {"dtype": dt, "__module__": "ndgrad"})


FloatTensor = _typed("FloatTensor", D.float32)
DoubleTensor = _typed("DoubleTensor", D.float64)
HalfTensor = _typed("HalfTensor", D.float16)
LongTensor = _typed("LongTensor", D.int64)
IntTensor = _typed("IntTensor", D.int32)
ShortTensor = _typed("ShortTensor", D.int16)
CharTensor = _typed("CharTensor", D.int8)
ByteTensor = _typed("ByteTensor", D.uint8)
BoolTensor = _typed("BoolTensor", D.bool)


# --- Tensor.new_* methods ----------------------------------------------------
def _new_tensor(self: Tensor, data: Any, *, dtype: Any = None, device: Any = None,
                requires_grad: bool = False) -> Tensor:
    return tensor(data, dtype=dtype or self._dtype, requires_grad=requires_grad)


def _new_factory(fill: Any) -> Any:
    def method(self: Tensor, *size: Any, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, **kw: Any) -> Tensor:
        return _filled(fill, size, dtype or self._dtype, device, requires_grad)
    return method


def _new_full(self: Tensor, size: Sequence, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False) -> Tensor:
    return full(size, fill_value, dtype=dtype or self._dtype, requires_grad=requires_grad)


def _legacy_new(self: Tensor, *args: Any, device: Any = None, **kwargs: Any) -> Tensor:
    """`Tensor.new(...)`, the legacy constructor in self's dtype: no argument gives an empty tensor,
    ints or a Size give that shape (uninitialised), a sequence or array gives its values, a tensor of
    self's dtype is returned as it is."""
    if kwargs:
        got = ", ".join([type(a).__name__ for a in args] + [f"{k}={type(v).__name__}" for k, v in kwargs.items()])
        raise TypeError(f"new() received an invalid combination of arguments - got ({got}), but expected one of:\n"
                        " * (*, torch.device device = None)\n * (torch.Storage storage)\n * (Tensor other)\n"
                        " * (tuple of ints size, *, torch.device device = None)\n"
                        " * (object data, *, torch.device device = None)\n")
    if not args:
        return empty(0, dtype=self._dtype)
    if len(args) == 1:
        a = args[0]
        if isinstance(a, Tensor):
            if a._dtype is not self._dtype:
                raise TypeError(f"new(): expected a tensor of dtype {self._dtype} (got {a._dtype})")
            return a
        if isinstance(a, Size):
            return empty(tuple(a), dtype=self._dtype)
        if isinstance(a, (list, tuple, np.ndarray)):
            return tensor(a, dtype=self._dtype)
        if not isinstance(a, int) or isinstance(a, bool):
            raise TypeError(f"new(): data must be a sequence (got {type(a).__name__})")
    return empty(args, dtype=self._dtype)


Tensor.new = _legacy_new
Tensor.new_tensor = _new_tensor
Tensor.new_zeros = _new_factory(0)
Tensor.new_ones = _new_factory(1)
Tensor.new_empty = _new_factory(None)
Tensor.new_full = _new_full
