"""Tensors assembled from others or from index patterns: cartesian_prod, combinations, block_diag,
vander, tril_indices/triu_indices. Built from differentiable ops (indexing, cat, pow), so the
gradient flows back to the inputs without rules of their own."""
from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ._core import _make, check_tensor, register


def _check_1d(t: Any, fn: str) -> None:
    check_tensor(t, fn, "tensors")
    if t._data.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._data.shape)}")


@register(method=False)
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """Cartesian product of 1-d tensors, one row per combination (a 1-d tensor for one input)."""
    from .shape import meshgrid, stack
    for t in tensors:
        _check_1d(t, "cartesian_prod")
    if len(tensors) == 1:
        return tensors[0]
    grids = meshgrid(*tensors, indexing="ij")
    return stack([g.reshape(-1) for g in grids], 1)


@register(method=False, node_name="StackBackward0")
def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """Rows of r elements of a 1-d tensor, in itertools.combinations order."""
    _check_1d(input, "combinations")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return _make(np.zeros(0, input._data.dtype), input._dtype)
    pick = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    idx = np.array(list(pick(range(input._data.shape[0]), r)), np.int64).reshape(-1, r)
    from .indexing import index_select
    return index_select(input, 0, _make(idx.reshape(-1), D.int64)).reshape(-1, r)


@register(method=False, node_name="BlockDiagBackward0")
def block_diag(*tensors: Tensor) -> Tensor:
    """A block-diagonal matrix from 0-, 1- and 2-d tensors (1-d ones are rows)."""
    from .._creation import zeros
    from .shape import cat
    mats = []
    for i, t in enumerate(tensors):
        check_tensor(t, "block_diag", "tensors")
        if t._data.ndim > 2:
            raise RuntimeError(f"torch.block_diag: Input tensors must have 2 or fewer dimensions. Input {i} has "
                               f"{t._data.ndim} dimensions")
        mats.append(t.reshape(1, -1) if t._data.ndim < 2 else t)
    if not mats:
        return zeros(1, 0)
    dt = D.result_dtype(*mats)
    width = sum(m._data.shape[1] for m in mats)
    rows, left = [], 0
    for m in mats:
        h, w = m._data.shape
        m = m if m._dtype is dt else m.to(dt)
        rows.append(cat([zeros(h, left, dtype=dt), m, zeros(h, width - left - w, dtype=dt)], 1))
        left += w
    return cat(rows, 0)


@register(method=False)
def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """Columns are powers of x (decreasing unless `increasing`), N columns (len(x) by default)."""
    check_tensor(x, "vander", "x")
    if x._data.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x._data.shape[0] if N is None else N
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    res = _powers(x.to(D.int64) if x._dtype.category < 2 else x, n)  # integer input: int64 powers
    return res if increasing else res.flip(-1)


def _powers(x: Tensor, n: int) -> Tensor:
    """x**0, x**1, ..., x**(n-1) along a new last dim."""
    from .._creation import ones
    from .shape import stack
    cols = [ones(x._data.shape, dtype=x._dtype) if k == 0 else x ** k for k in range(n)]
    return stack(cols, -1) if cols else _make(np.zeros(x._data.shape + (0,), x._data.dtype), x._dtype)


def linalg_vander(x: Tensor, *, N: int | None = None) -> Tensor:
    """torch.linalg.vander: increasing powers along the last dim, batched over the others."""
    check_tensor(x, "linalg_vander", "x")
    if x._data.ndim < 1:
        raise RuntimeError("linalg.vander: x must have at least one dimension")
    n = x._data.shape[-1] if N is None else N
    if n <= 1:
        raise RuntimeError("N must be greater than 1.")
    return _powers(x.to(D.int64) if x._dtype.category < 2 and x._dtype is not D.int64 else x, n)


def _tri_indices(row: int, col: int, offset: int, dtype: Any, lower: bool) -> Tensor:
    for name, v in (("row", row), ("col", col)):
        if v < 0:
            raise RuntimeError(f"{name} must be non-negative, got{v}")
    dt = D.int64 if dtype is None else dtype
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return _make(np.stack([r, c]).astype(dt.np).reshape(2, -1), dt)


@register(method=False)
def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """(2, n) row/column indices of the lower triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, dtype, True)


@register(method=False)
def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None, device: Any = None,
                 layout: Any = None) -> Tensor:
    """(2, n) row/column indices of the upper triangle of a row x col matrix."""
    return _tri_indices(row, col, offset, dtype, False)
