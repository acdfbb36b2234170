"""torch.testing: `assert_close` (and the deprecated `assert_allclose`) and `make_tensor`.

`assert_close(actual, expected)` compares tensors, NumPy arrays, Python numbers and (nested) sequences and
mappings of them. Tensors must agree in shape, device, dtype and layout (each check can be relaxed) and
in value up to `atol + rtol * |expected|`; the default tolerances depend on the dtype, as PyTorch's do.
A failure raises AssertionError with PyTorch's report (mismatched elements, the greatest absolute and
relative differences among them and where, the item of a container that failed).
"""
from __future__ import annotations

import cmath
import math
import warnings
from collections.abc import Mapping, Sequence
from typing import Any, Callable

import numpy as np

from . import _dtype as D
from ._alias import public_name
from ._tensor import Size, Tensor

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

# (rtol, atol) by dtype when neither is given; other dtypes compare exactly
_TOLERANCES = {D.float16: (1e-3, 1e-5), D.bfloat16: (1.6e-2, 1e-5), D.float32: (1.3e-6, 1e-5),
               D.float64: (1e-7, 1e-7), D.complex64: (1.3e-6, 1e-5), D.complex128: (1e-7, 1e-7)}
_NUMBER_DTYPE = {bool: D.bool, int: D.int64, float: D.float64, complex: D.complex128}


class _Unhandled(TypeError):
    pass


class _Mismatch(AssertionError):
    pass


def _tolerances(dtypes: list, rtol: float | None, atol: float | None) -> tuple[float, float]:
    if (rtol is None) != (atol is None):
        raise ValueError(f"Both 'rtol' and 'atol' must be either specified or omitted, "
                         f"but got no {'rtol' if rtol is None else 'atol'}.")
    if rtol is not None:
        return rtol, atol
    pairs = [_TOLERANCES.get(d, (0.0, 0.0)) for d in dtypes]
    return max(p[0] for p in pairs), max(p[1] for p in pairs)


def _fmt(v: Any) -> str:
    return repr(v.item() if isinstance(v, np.generic) else v)


# ---------------------------------------------------------------------------------------------------------
# one pair: numbers, tensors (or two NumPy arrays)
# ---------------------------------------------------------------------------------------------------------
def _is_number(x: Any) -> bool:
    return type(x) in _NUMBER_DTYPE or isinstance(x, np.number)


def _compare_numbers(actual: Any, expected: Any, rtol: float | None, atol: float | None,
                     equal_nan: bool, check_dtype: bool) -> None:
    if isinstance(actual, bool) or isinstance(expected, bool):
        if type(actual) is not type(expected):
            raise _Mismatch(f"The (d)types do not match: {type(actual)} != {type(expected)}.")
        if actual is not expected:
            raise _Mismatch(f"Booleans mismatch: {actual} is not {expected}")
        return
    ta, te = type(actual), type(expected)
    if check_dtype and ta is not te:
        raise _Mismatch(f"The (d)types do not match: {ta} != {te}.")
    dtypes = [_NUMBER_DTYPE.get(ta, D.float64), _NUMBER_DTYPE.get(te, D.float64)]
    rtol, atol = _tolerances(dtypes, rtol, atol)
    if actual == expected:
        return
    both_nan = _isnan(actual) and _isnan(expected)
    if equal_nan and both_nan:
        return
    diff = abs(actual - expected)
    if not both_nan and math.isfinite(diff) and diff <= atol + rtol * abs(expected):
        return
    exact = rtol == 0 and atol == 0 and isinstance(actual, (int, np.integer)) \
        and isinstance(expected, (int, np.integer))
    rel = diff / abs(expected) if expected != 0 else math.inf
    lines = [f"Scalars are not {'equal' if exact else 'close'}!", "",
             f"Expected {_fmt(expected)} but got {_fmt(actual)}."]
    if exact:
        lines += [f"Absolute difference: {_fmt(diff)}", f"Relative difference: {_fmt(rel)}"]
    else:
        lines += [f"Absolute difference: {_fmt(diff)} (up to {atol} allowed)",
                  f"Relative difference: {_fmt(rel)} (up to {rtol} allowed)"]
    raise _Mismatch("\n".join(lines))


def _isnan(x: Any) -> bool:
    return cmath.isnan(x) if isinstance(x, complex) else isinstance(x, float) and math.isnan(x)


def _attribute(name: str, a: Any, e: Any) -> None:
    if a != e:
        raise _Mismatch(f"The values for attribute '{name}' do not match: {a!r} != {e!r}.")


def _compare_tensors(actual: Tensor, expected: Tensor, rtol: float | None, atol: float | None, equal_nan: bool,
                     check_device: bool, check_dtype: bool, check_layout: bool, check_stride: bool) -> None:
    _attribute("shape", actual.shape, expected.shape)
    if check_device:
        _attribute("device", actual.device, expected.device)
    if check_dtype:
        _attribute("dtype", actual.dtype, expected.dtype)
    if check_layout:
        _attribute("layout", actual.layout, expected.layout)
    if actual.layout != expected.layout:  # compare values densely when layouts may differ
        actual, expected = (t.to_dense() if t.layout != "strided" else t for t in (actual, expected))
    elif actual.layout != "strided":
        actual, expected = actual.coalesce().to_dense(), expected.coalesce().to_dense()
    if check_stride:
        _attribute("stride()", actual.stride(), expected.stride())
    rtol, atol = _tolerances([actual.dtype, expected.dtype], rtol, atol)
    dtype = D.promote_types(actual.dtype, expected.dtype)
    a, e = actual.detach().to(dtype)._data, expected.detach().to(dtype)._data
    if actual.dim() == 0:  # 0-d tensors report like numbers
        _compare_numbers(a.item(), e.item(), rtol, atol, equal_nan, check_dtype=False)
        return
    if dtype.is_floating_point or dtype.is_complex:
        with np.errstate(all="ignore"):
            close = np.isclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
            close |= a == e  # infinities of one sign
    else:
        close = a == e
    if close.all():
        return
    _tensor_mismatch(a.reshape(-1), e.reshape(-1), close.reshape(-1), actual.shape, dtype, rtol, atol)


def _tensor_mismatch(a: np.ndarray, e: np.ndarray, close: np.ndarray, shape: Size, dtype: D.dtype,
                     rtol: float, atol: float) -> None:
    exact = not (dtype.is_floating_point or dtype.is_complex) and rtol == 0 and atol == 0
    if not (dtype.is_floating_point or dtype.is_complex):  # integers and booleans: differences in int64
        a, e = a.astype(np.int64), e.astype(np.int64)
    with np.errstate(all="ignore"):
        abs_diff = np.abs(a - e)
        abs_diff[close] = 0  # only the mismatched elements take part
        rel_diff = abs_diff / np.abs(e)
        if rel_diff.dtype == np.float64 and not (dtype.is_floating_point or dtype.is_complex):
            rel_diff = rel_diff.astype(D.get_default_dtype().np)  # int / int divides in the default dtype
        rel_diff[close] = 0
    n, total = int((~close).sum()), close.size

    def where(d: np.ndarray) -> tuple[Any, tuple]:
        i = int(np.argmax(d))  # the first NaN if any, as a max that propagates NaN
        return d[i].item(), tuple(int(j) for j in np.unravel_index(i, tuple(shape)))

    (amax, ai), (rmax, ri) = where(abs_diff), where(rel_diff)
    lines = [f"Tensor-likes are not {'equal' if exact else 'close'}!", "",
             f"Mismatched elements: {n} / {total} ({n / total:.1%})"]
    if exact:
        lines += [f"Greatest absolute difference: {amax!r} at index {ai}",
                  f"Greatest relative difference: {rmax!r} at index {ri}"]
    else:
        lines += [f"Greatest absolute difference: {amax!r} at index {ai} (up to {atol} allowed)",
                  f"Greatest relative difference: {rmax!r} at index {ri} (up to {rtol} allowed)"]
    raise _Mismatch("\n".join(lines))


# ---------------------------------------------------------------------------------------------------------
# containers
# ---------------------------------------------------------------------------------------------------------
def _compare(actual: Any, expected: Any, path: str, opts: dict) -> None:
    def unhandled() -> _Unhandled:
        return _Unhandled(f"No comparison pair was able to handle inputs of type {type(actual)} "
                          f"and {type(expected)}.")

    if actual is None or expected is None:
        if actual is not expected:
            raise _Mismatch(f"None mismatch: {actual} is not {expected}", path)
        return
    if isinstance(actual, (str, bytes)) or isinstance(expected, (str, bytes)):
        raise unhandled()
    if isinstance(actual, Mapping) and isinstance(expected, Mapping):
        ka, ke = set(actual), set(expected)
        if ka != ke:
            msg = "The keys of the mappings do not match:"
            if ke - ka:
                msg += f"\nMissing keys in the actual mapping: {sorted(ke - ka, key=repr)}"
            if ka - ke:
                msg += f"\nAdditional keys in the actual mapping: {sorted(ka - ke, key=repr)}"
            raise _Mismatch(msg, path)
        for k in expected:
            _compare(actual[k], expected[k], f"{path}[{k!r}]", opts)
        return
    if isinstance(actual, Sequence) and isinstance(expected, Sequence):
        if len(actual) != len(expected):
            raise _Mismatch(f"The length of the sequences mismatch: {len(actual)} != {len(expected)}", path)
        for i, (x, y) in enumerate(zip(actual, expected)):
            _compare(x, y, f"{path}[{i}]", opts)
        return
    if isinstance(actual, np.ndarray) and isinstance(expected, np.ndarray):
        from ._creation import as_tensor
        actual, expected = as_tensor(actual), as_tensor(expected)
    if isinstance(actual, Tensor) and isinstance(expected, Tensor):
        if not opts["allow_subclasses"] and type(actual) is not type(expected):
            raise unhandled()
        try:
            _compare_tensors(actual, expected, opts["rtol"], opts["atol"], opts["equal_nan"], opts["check_device"],
                             opts["check_dtype"], opts["check_layout"], opts["check_stride"])
        except _Mismatch as m:
            raise _Mismatch(str(m), path) from None
        return
    if _is_number(actual) and _is_number(expected):
        try:
            _compare_numbers(actual, expected, opts["rtol"], opts["atol"], opts["equal_nan"], opts["check_dtype"])
        except _Mismatch as m:
            raise _Mismatch(str(m), path) from None
        return
    raise unhandled()


def assert_close(actual: Any, expected: Any, *, allow_subclasses: bool = True, rtol: float | None = None,
                 atol: float | None = None, equal_nan: bool = False, check_device: bool = True,
                 check_dtype: bool = True, check_layout: bool = True, check_stride: bool = False,
                 msg: str | Callable[[str], str] | None = None) -> None:
    """Raise AssertionError unless `actual` and `expected` are close (see the module docstring).

    `rtol`/`atol` are given together or not at all; `equal_nan` treats two NaNs as equal; `msg` replaces
    the report (a string) or rewrites it (a callable taking the report)."""
    if (rtol is None) != (atol is None):
        _tolerances([], rtol, atol)
    opts = dict(allow_subclasses=allow_subclasses, rtol=rtol, atol=atol, equal_nan=equal_nan,
                check_device=check_device, check_dtype=check_dtype, check_layout=check_layout,
                check_stride=check_stride)
    try:
        _compare(actual, expected, "", opts)
    except _Mismatch as m:
        report = m.args[0]
        path = m.args[1] if len(m.args) > 1 else ""
        if path:
            report += f"\n\nThe failure occurred for item {path}"
        if callable(msg):
            report = msg(report)
        elif msg is not None:
            report = msg
        raise AssertionError(report) from None
    except _Unhandled as e:
        raise TypeError(str(e)) from None


def assert_allclose(actual: Any, expected: Any, rtol: float | None = None, atol: float | None = None,
                    equal_nan: bool = True, msg: str = "") -> None:
    """The deprecated predecessor of `assert_close`: numbers and sequences become tensors (`expected` in
    `actual`'s dtype), dtypes need not match, NaNs compare equal and the default tolerances are looser."""
    warnings.warn(f"`{public_name('ndgrad.testing')}.assert_allclose()` is deprecated since 1.12 and will be "
                  f"removed in a future release. Please use `{public_name('ndgrad.testing')}.assert_close()` "
                  "instead.", FutureWarning, stacklevel=2)
    from ._creation import tensor
    if not isinstance(actual, Tensor):
        actual = tensor(actual)
    if not isinstance(expected, Tensor):
        expected = tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        loose = {D.float16: (1e-3, 1e-3), D.float32: (1e-4, 1e-5), D.float64: (1e-5, 1e-8)}
        pairs = [loose.get(d, (0.0, 0.0)) for d in (actual.dtype, expected.dtype)]
        rtol, atol = max(p[0] for p in pairs), max(p[1] for p in pairs)
    assert_close(actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_device=True,
                 check_dtype=False, check_stride=False, msg=msg or None)


# ---------------------------------------------------------------------------------------------------------
# make_tensor
# ---------------------------------------------------------------------------------------------------------
def make_tensor(*shape: int | Size | list | tuple, dtype: D.dtype, device: Any, low: float | None = None,
                high: float | None = None, requires_grad: bool = False, noncontiguous: bool = False,
                exclude_zero: bool = False, memory_format: Any = None) -> Tensor:
    """A tensor of `shape` filled with random values of `dtype` from [low, high) (integers: low to high-1).

    The range defaults to [-9, 9] (floating and complex: both parts) or [-9, 10) for integers, clipped
    to what the dtype holds; booleans are True or False. `noncontiguous` returns a strided view,
    `exclude_zero` replaces zeros by the dtype's smallest normal number (integers: 1)."""
    from ._creation import empty, full
    from ._random import randint
    if len(shape) == 1 and isinstance(shape[0], (list, tuple, Size)):
        shape = tuple(shape[0])
    shape = tuple(int(s) for s in shape)
    if requires_grad and not (dtype.is_floating_point or dtype.is_complex):
        raise ValueError(f"`requires_grad=True` is not supported for boolean and integral dtypes, but got "
                         f"dtype={dtype}")
    if dtype == D.bool:
        out = randint(0, 2, shape, dtype=D.int64).to(D.bool)
    elif dtype.is_floating_point or dtype.is_complex:
        info = D.finfo(dtype)
        lo, hi = _bounds(low, high, -9, 9, float(info.min), float(info.max))
        if lo == hi:
            warnings.warn(f"Passing `low==high` to `{public_name('ndgrad.testing')}.make_tensor` for floating or "
                          "complex types is deprecated since 2.1 and will be removed in 2.3. Use "
                          f"`{public_name('ndgrad')}.full(...)` instead.", FutureWarning, stacklevel=2)
            out = full(shape, lo, dtype=dtype)
        elif dtype.is_complex:
            part = D.float32 if dtype == D.complex64 else D.float64
            re_, im = (empty(shape, dtype=part).uniform_(lo, hi) for _ in range(2))
            out = (re_ + 1j * im).to(dtype)
        else:
            out = empty(shape, dtype=D.float64).uniform_(lo, hi).to(dtype)
    else:
        info = D.iinfo(dtype)
        lo, hi = _bounds(low, high, -9, 10, info.min, info.max)
        lo, hi = math.ceil(lo), math.ceil(hi)
        out = randint(lo, hi, shape, dtype=dtype)
    if exclude_zero:
        repl = D.finfo(dtype).tiny if (dtype.is_floating_point or dtype.is_complex) else 1
        out[out == 0] = repl
    if noncontiguous and out.numel() > 1:
        out = out.repeat_interleave(2, dim=-1)[..., ::2]
    return out.requires_grad_(requires_grad) if requires_grad else out


def _bounds(low: float | None, high: float | None, dlow: float, dhigh: float, lowest: float,
            highest: float) -> tuple[float, float]:
    lo, hi = dlow if low is None else low, dhigh if high is None else high
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"`low` and `high` cannot be NaN, but got low={lo} and high={hi}")
    if lo > hi:
        raise ValueError(f"`low` must be less than `high`, but got {lo} >= {hi}")
    return max(lo, lowest), min(hi, highest)
