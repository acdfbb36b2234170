"""repr/str of tensors exactly as PyTorch prints them, and the print options.

How a tensor is printed:

* Every element of a tensor is formatted with one shared formatter, so columns line
  up.  The formatter is built from the elements that will actually be shown (the
  edges of each dimension when the tensor is summarised).
* Integer and bool tensors print ``str(value)`` right-aligned to the widest value.
* Floating tensors look at their nonzero finite values: when all are whole numbers
  they print as ``3.`` ("int mode"); scientific notation is chosen when the largest
  magnitude is over 1000 times the smallest, above 1e8, or below 1e-4 (unless the
  ``sci_mode`` print option forces a choice); otherwise fixed ``precision`` decimals.
* Complex tensors format their real and imaginary parts with two such formatters.
* Tensors with more than ``threshold`` elements are summarised: only ``edgeitems``
  entries at each end of every dimension are shown, with ``...`` between.
* Rows of a 1-d block wrap at ``linewidth``; nested brackets are indented under the
  opening ``tensor(``.
* Suffixes follow the contents: ``size=`` for empty tensors that are not 1-d,
  ``dtype=`` when the dtype cannot be inferred from the printed values, then
  ``grad_fn=<...>`` or ``requires_grad=True``.  A suffix that does not fit on the
  last line goes onto a new line.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from . import _alias
from . import _dtype as D

__all__ = ["get_printoptions", "printoptions", "set_printoptions", "tensor_repr"]


# In the order PyTorch's get_printoptions() lists them.
_OPTION_NAMES = ("precision", "threshold", "edgeitems", "linewidth", "sci_mode")


class _PrintOptions:
    __slots__ = ("edgeitems", "linewidth", "precision", "sci_mode", "threshold")

    def __init__(self) -> None:
        self.precision: int = 4
        self.threshold: float = 1000
        self.edgeitems: int = 3
        self.linewidth: int = 80
        self.sci_mode: bool | None = None


_OPTS = _PrintOptions()

# Values each profile sets (sci_mode is not part of a profile).
_PROFILES: dict[str, tuple[int, float, int, int]] = {
    "default": (4, 1000, 3, 80),
    "short": (2, 1000, 2, 80),
    "full": (4, math.inf, 3, 80),
}


def set_printoptions(
    precision: int | None = None,
    threshold: float | None = None,
    edgeitems: int | None = None,
    linewidth: int | None = None,
    profile: str | None = None,
    sci_mode: bool | None = None,
) -> None:
    """Set how tensors print (PyTorch's ``torch.set_printoptions``).

    ``profile`` ('default', 'short' or 'full') first resets precision, threshold,
    edgeitems and linewidth; the other arguments then override it.  ``sci_mode`` is
    always set to its argument: True or False forces scientific notation on or off,
    None (also what every call that omits it sets) lets each tensor choose.
    """
    if profile is not None and profile in _PROFILES:
        _OPTS.precision, _OPTS.threshold, _OPTS.edgeitems, _OPTS.linewidth = _PROFILES[profile]
    if precision is not None:
        _OPTS.precision = precision
    if threshold is not None:
        _OPTS.threshold = threshold
    if edgeitems is not None:
        _OPTS.edgeitems = edgeitems
    if linewidth is not None:
        _OPTS.linewidth = linewidth
    _OPTS.sci_mode = sci_mode


def get_printoptions() -> dict[str, Any]:
    """The current print options, as keyword arguments for :func:`set_printoptions`."""
    return {name: getattr(_OPTS, name) for name in _OPTION_NAMES}


@contextlib.contextmanager
def printoptions(**kwargs: Any) -> Iterator[None]:
    """Context manager: print with the given options, restoring the previous ones after."""
    saved = get_printoptions()
    set_printoptions(**kwargs)
    try:
        yield
    finally:
        set_printoptions(**saved)


# -- element formatting -------------------------------------------------------

_SMALL = 64  # up to this many values, a formatter scans a Python list


class _Formatter:
    """Formats the scalars of one (real) array to a common width."""

    __slots__ = ("int_mode", "is_float", "precision", "sci_mode", "width")

    def __init__(self, values: np.ndarray, is_float: bool) -> None:
        self.is_float = is_float
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        self.precision = _OPTS.precision
        flat = values.reshape(-1)
        if flat.size <= _SMALL:
            self._scan_list(flat.tolist())
        else:
            self._scan_array(flat)

    def _spec(self) -> tuple[str, int]:
        """Format spec for a finite value, and how many characters format() adds to it."""
        if self.sci_mode:
            return f".{self.precision}e", 0
        if self.int_mode:
            return ".0f", 1  # the trailing "."
        return f".{self.precision}f", 0

    def _choose_modes(self, lo: float, hi: float) -> None:
        # lo/hi: smallest and largest magnitude among the nonzero finite values.
        if _OPTS.sci_mode is None:
            self.sci_mode = hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
        else:
            self.sci_mode = _OPTS.sci_mode

    def _scan_list(self, values: list) -> None:
        """Small inputs: plain Python on the values is faster than NumPy calls."""
        if not self.is_float:
            if values:
                self.width = max(len(str(v)) for v in values)
            return
        vals = [v for v in values if v != 0 and v - v == 0]  # nonzero and finite
        if not vals:
            return
        self.int_mode = all(v == math.ceil(v) for v in vals)
        mags = [abs(v) for v in vals]
        self._choose_modes(min(mags), max(mags))
        spec, extra = self._spec()
        self.width = max(len(format(v, spec)) for v in vals) + extra

    def _scan_array(self, flat: np.ndarray) -> None:
        if not self.is_float:
            if flat.dtype == np.bool_:
                self.width = 4 if flat.all() else 5
            else:
                # len(str(v)) only grows with |v| on each side of zero.
                self.width = max(len(str(flat.min().item())), len(str(flat.max().item())))
            return
        vals = flat[np.isfinite(flat) & (flat != 0)]
        if not vals.size:
            return
        self.int_mode = bool((np.ceil(vals) == vals).all())
        absv = np.abs(vals)
        self._choose_modes(float(absv.min()), float(absv.max()))
        # The formatted length only grows with |v| on each side of zero (fixed
        # notation) or with |exponent| (scientific), so the extremes of each sign
        # decide the width; no need to format every value.
        cands = []
        for part in (vals[vals > 0], vals[vals < 0]):
            if part.size:
                cands.append(float(part.min()))
                cands.append(float(part.max()))
        spec, extra = self._spec()
        self.width = max(len(format(v, spec)) for v in cands) + extra

    def format(self, value: Any) -> str:
        if self.is_float:
            if self.sci_mode:
                s = format(value, f".{self.precision}e")
            elif self.int_mode:
                s = format(value, ".0f")
                if not (math.isinf(value) or math.isnan(value)):
                    s += "."
            else:
                s = format(value, f".{self.precision}f")
        else:
            s = str(value)
        return s.rjust(self.width)


def _complex_str(value: complex, real_fmt: _Formatter, imag_fmt: _Formatter) -> str:
    re_s = real_fmt.format(value.real)
    im_s = (imag_fmt.format(value.imag) + "j").lstrip()
    if im_s[0] in "+-":
        return re_s + im_s
    return re_s + "+" + im_s


def _summarized(a: np.ndarray, edge: int) -> np.ndarray:
    """The elements shown when `a` is summarised: `edge` entries at both ends of each dim."""
    if a.ndim == 0:
        return a
    if edge <= 0:
        # PyTorch: nothing of an n-d tensor is shown; a 1-d one keeps all values
        # (its `x[-0:]` is the whole vector), which only affects the unused width.
        return a if a.ndim == 1 else a[(slice(0, 0),) * a.ndim]
    index = []
    for n in a.shape:
        if n > 2 * edge:
            index.append(np.r_[0:edge, n - edge:n])
        else:
            index.append(np.arange(n))
    if all(len(i) == n for i, n in zip(index, a.shape)):
        return a
    return a[np.ix_(*index)]


def _vector_str(a: np.ndarray, indent: int, summarize: bool,
                f1: _Formatter, f2: _Formatter | None) -> str:
    elem_len = f1.width + 2
    if f2 is not None:
        elem_len += f2.width + 1
    per_line = max(1, math.floor((_OPTS.linewidth - indent) / elem_len))
    edge = _OPTS.edgeitems
    if f2 is None:
        fmt = f1.format
    else:
        def fmt(v: complex) -> str:
            return _complex_str(v, f1, f2)
    if summarize and not edge:
        items = ["..."]
    elif summarize and a.shape[0] > 2 * edge:
        items = [fmt(v) for v in a[:edge].tolist()]
        items.append(" ...")
        items.extend(fmt(v) for v in a[-edge:].tolist())
    else:
        items = [fmt(v) for v in a.tolist()]
    if len(items) <= per_line:
        return "[" + ", ".join(items) + "]"
    lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _block_str(a: np.ndarray, indent: int, summarize: bool,
               f1: _Formatter, f2: _Formatter | None) -> str:
    ndim = a.ndim
    if ndim == 0:
        v = a.item()
        return f1.format(v) if f2 is None else _complex_str(v, f1, f2)
    if ndim == 1:
        return _vector_str(a, indent, summarize, f1, f2)
    n = a.shape[0]
    edge = _OPTS.edgeitems
    if summarize and n > 2 * edge:
        rows = [_block_str(a[i], indent + 1, summarize, f1, f2) for i in range(edge)]
        rows.append("...")
        rows.extend(_block_str(a[i], indent + 1, summarize, f1, f2) for i in range(n - edge, n))
    else:
        rows = [_block_str(a[i], indent + 1, summarize, f1, f2) for i in range(n)]
    return "[" + ("," + "\n" * (ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def _contents_str(a: np.ndarray, category: int, indent: int) -> str:
    """The bracketed values of a non-empty array, indented for a prefix of `indent` chars."""
    summarize = a.size > _OPTS.threshold
    shown = _summarized(a, _OPTS.edgeitems) if summarize else a
    if category == 3:  # complex: real and imaginary parts get their own formatter
        f1 = _Formatter(shown.real, True)
        f2: _Formatter | None = _Formatter(shown.imag, True)
    else:
        f1 = _Formatter(shown, category == 2)
        f2 = None
    return _block_str(a, indent, summarize, f1, f2)


# -- the whole repr -------------------------------------------------------------



def _add_suffixes(text: str, suffixes: list[str], indent: int) -> str:
    parts = [text]
    # PyTorch's measure of the last line (two more than its length when on one line).
    last_len = len(text) - text.rfind("\n") + 1
    width = _OPTS.linewidth
    module = _alias.PUBLIC + "."
    for s in suffixes:
        # Measured as PyTorch spells it ("torch.int32", one letter shorter than
        # "ndgrad.int32"), so lines break where PyTorch's do.
        n = len(s) - s.count(module) * (len(module) - len("torch."))
        if last_len + n + 2 > width:
            parts.append(",\n" + " " * indent + s)
            last_len = indent + n
        else:
            parts.append(", " + s)
            last_len += n + 2
    parts.append(")")
    return "".join(parts)


def _dtype_str(dt: Any) -> str:
    return f"{_alias.PUBLIC}.{dt.name}"


def tensor_repr(t: Any, *, tensor_contents: str | None = None) -> str:
    """``repr(t)`` as PyTorch writes it: ``tensor([...], dtype=..., grad_fn=<...>)``.

    `tensor_contents`, when given, replaces the printed values (as in PyTorch).
    """
    cls_name = type(t).__name__
    prefix = "tensor(" if cls_name in ("Tensor", "Parameter") else cls_name + "("
    indent = len(prefix)
    a = t._data
    dt = t._dtype
    default = D.get_default_dtype()
    suffixes: list[str] = []
    dev = getattr(t, "device", None)
    if dev is not None and getattr(dev, "type", "cpu") != "cpu":
        suffixes.append(f"device='{dev}'")
    if type(a) is not np.ndarray:  # e.g. a CuPy array: print from a host copy
        a = a.get() if hasattr(a, "get") else np.asarray(a)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if dt is not default:
            suffixes.append("dtype=" + _dtype_str(dt))
        body = "[]" if tensor_contents is None else tensor_contents
    else:
        if not _OPTS.edgeitems:
            suffixes.append("size=" + str(tuple(a.shape)))
        if not (dt is default or dt is D.int64 or dt is D.bool
                or dt is (D.complex128 if default is D.float64 else D.complex64)):
            suffixes.append("dtype=" + _dtype_str(dt))
        if tensor_contents is None:
            body = _contents_str(a, dt.category, indent)
        else:
            body = tensor_contents
    try:
        grad_fn = t.grad_fn
        grad_fn_name = None if grad_fn is None else _node_name(grad_fn)
    except RuntimeError:
        grad_fn_name = "Invalid"
    if grad_fn_name is not None:
        suffixes.append(f"grad_fn=<{grad_fn_name}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


def _node_name(node: Any) -> str:
    name = getattr(node, "name", None)
    if callable(name):  # PyTorch prints its C++ nodes without the namespace: <CopySlices>
        return str(name()).rsplit("::", 1)[-1]
    return type(node).__name__
