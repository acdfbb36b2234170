"""Searches in sorted data and counting: searchsorted, bucketize, histogram, unique_consecutive,
isin. Their results are indices and counts, so none of them records a gradient."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ._core import _make, check_tensor, register, to_tensor, wrap_dim
from ._core import _vmap_levels, is_batched, vmap_rule
from .reduction import return_type

_cap = D.scalar_name


def _sorted_search(boundaries: np.ndarray, values: np.ndarray, right: bool) -> np.ndarray:
    """np.searchsorted row by row: boundaries (..., n) sorted along the last dim, values (..., m)."""
    side = "right" if right else "left"
    if boundaries.ndim == 1:
        return np.searchsorted(boundaries, values, side=side)
    lead = boundaries.shape[:-1]
    b = boundaries.reshape(-1, boundaries.shape[-1])
    v = values.reshape(b.shape[0], -1)
    out = np.empty(v.shape, np.int64)
    for i in range(b.shape[0]):
        out[i] = np.searchsorted(b[i], v[i], side=side)
    return out.reshape(lead + values.shape[-1:])


def _index_dtype(out_int32: bool) -> D.dtype:
    return D.int32 if out_int32 else D.int64


@register(method=False)
def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False, right: bool = False,
                 side: str | None = None, sorter: Tensor | None = None) -> Tensor:
    """Indices where `input` would be inserted into the (innermost, sorted) `sorted_sequence`."""
    if _vmap_levels and is_batched(sorted_sequence, input, sorter):
        return vmap_rule("loop", searchsorted, sorted_sequence, input, out_int32=out_int32, right=right, side=side,
                         sorter=sorter)
    check_tensor(sorted_sequence, "searchsorted", "sorted_sequence")
    if side is not None:
        if side not in ("left", "right"):
            raise RuntimeError(f"torch.searchsorted(): side can only be 'left' or 'right' but got {side}")
        if right and side == "left":
            raise RuntimeError("torch.searchsorted(): side and right can't be set to opposites, got side of left "
                               "while right was True")
        right = side == "right"
    scalar = not isinstance(input, Tensor)
    values = to_tensor(input, like=sorted_sequence)
    seq = sorted_sequence._data
    if sorter is not None:
        if sorter._data.shape != seq.shape:
            raise RuntimeError(f"torch.searchsorted(): boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)}and got sorter tensor {list(sorter._data.shape)}")
        seq = np.take_along_axis(seq, sorter._data, axis=-1)
    if seq.ndim > 1 and (scalar or values._data.ndim != seq.ndim or values._data.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           f"dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor {list(seq.shape)} and input value tensor {list(values._data.shape)}")
    if seq.ndim == 0:
        raise RuntimeError("torch.searchsorted(): boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, but we got "
                           f"boundaries tensor [] and input value tensor {list(values._data.shape)}")
    res = _sorted_search(seq, values._data, right)
    dt = _index_dtype(out_int32)
    return _make(np.asarray(res).astype(dt.np), dt)


@register(method=False)
def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False, right: bool = False) -> Tensor:
    """Index of the bucket of each element, given 1-d sorted `boundaries`."""
    if _vmap_levels and is_batched(input, boundaries):
        return vmap_rule("loop", bucketize, input, boundaries, out_int32=out_int32, right=right)
    check_tensor(boundaries, "bucketize", "boundaries")
    if boundaries._data.ndim != 1:
        raise RuntimeError(f"boundaries tensor must be 1 dimension, but got dim({boundaries._data.ndim})")
    values = to_tensor(input, like=boundaries)
    dt = _index_dtype(out_int32)
    return _make(np.asarray(np.searchsorted(boundaries._data, values._data, side="right" if right else "left"))
                 .astype(dt.np), dt)


@register()
def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Tensor | None = None,  # noqa: A002
              density: bool = False) -> tuple:
    """(hist, bin_edges): counts (or weights, or a density) over equal-width bins or given edges."""
    if _vmap_levels and is_batched(input, weight):
        return vmap_rule("loop", histogram, input, bins, range=range, weight=weight, density=density)
    check_tensor(input, "histogram")
    if input._dtype.category != 2:
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_cap(input._dtype)}'")
    if isinstance(bins, Tensor):
        if bins._data.ndim != 1:
            raise RuntimeError(f"torch.histogram(): bins tensor should have one dimension, but got "
                               f"{bins._data.ndim} dimensions")
        edges = bins._data.astype(input._data.dtype)
    else:
        if int(bins) <= 0:
            raise RuntimeError(f"torch.histogram(): bins must be > 0, but got {bins} for dimension 0")
        data = input._data.reshape(-1)
        if range is not None:
            lo, hi = float(range[0]), float(range[1])
        elif data.size:
            lo, hi = float(data.min()), float(data.max())
        else:
            lo, hi = 0.0, 0.0
        if lo > hi:
            raise RuntimeError(f"torch.histogram(): min should not exceed max, but got min {lo} max {hi} for "
                               "dimension 0")
        if lo == hi:
            lo, hi = lo - 0.5, hi + 0.5  # PyTorch widens an empty range by one unit
        edges = np.linspace(lo, hi, int(bins) + 1).astype(input._data.dtype)
    w = None
    if weight is not None:
        if weight._data.shape != input._data.shape:
            raise RuntimeError("torch.histogram(): if weight tensor is provided it should have the same shape as "
                               "the input tensor excluding its innermost dimension")
        w = weight._data.reshape(-1).astype(np.float64)
    hist, _ = np.histogram(input._data.reshape(-1).astype(np.float64), bins=edges.astype(np.float64), weights=w)
    hist = hist.astype(np.float64)
    if density:
        total = hist.sum()
        hist = hist / (total * np.diff(edges.astype(np.float64))) if total else hist
    cls = return_type("histogram", ("hist", "bin_edges"))
    return cls(_make(hist.astype(input._data.dtype), input._dtype), _make(edges, input._dtype))


@register()
def unique_consecutive(input: Tensor, return_inverse: bool = False, return_counts: bool = False,
                       dim: int | None = None) -> Any:
    """Collapse runs of equal consecutive elements (or slices along dim) to one."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("loop", unique_consecutive, input, return_inverse, return_counts, dim)
    check_tensor(input, "unique_consecutive")
    if dim is None:
        flat = input._data.reshape(-1)
        if flat.size:
            change = np.concatenate([[True], flat[1:] != flat[:-1]])
        else:
            change = np.zeros(0, bool)
        vals = flat[change]
        inv_shape = input._data.shape
    else:
        d = wrap_dim(dim, input._data.ndim)
        moved = np.moveaxis(input._data, d, 0)
        rows = moved.reshape(moved.shape[0], -1)
        if rows.shape[0]:
            change = np.concatenate([[True], (rows[1:] != rows[:-1]).any(axis=1)])
        else:
            change = np.zeros(0, bool)
        vals = np.moveaxis(moved[change], 0, d)
        inv_shape = (moved.shape[0],)
    starts = np.flatnonzero(change)
    out = [_make(np.ascontiguousarray(vals), input._dtype)]
    if return_inverse:
        out.append(_make((np.cumsum(change) - 1).reshape(inv_shape).astype(np.int64), D.int64))
    if return_counts:
        out.append(_make(np.diff(np.append(starts, change.size)).astype(np.int64), D.int64))
    return out[0] if len(out) == 1 else tuple(out)


@register(method=False)
def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False, invert: bool = False) -> Tensor:
    """Whether each element of `elements` occurs in `test_elements`."""
    if _vmap_levels and is_batched(elements, test_elements):
        return vmap_rule("loop", isin, elements, test_elements, assume_unique=assume_unique, invert=invert)
    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() received an invalid combination of arguments: at least one of elements and "
                        "test_elements must be a Tensor")
    like = elements if isinstance(elements, Tensor) else test_elements
    a, b = to_tensor(elements, like=like), to_tensor(test_elements, like=like)
    return _make(np.isin(a._data, b._data, invert=invert), D.bool)
