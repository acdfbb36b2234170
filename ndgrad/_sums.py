"""Float sums in the order PyTorch's CPU kernels add, at NumPy speed.

NumPy sums pairwise only along the axis its inner loop runs over (the one with the smallest
stride); over any other reduced axis it adds one slice after another, so the rounding error
grows with the length of that axis (`x.sum(0)` of a tall float32 matrix loses digits). PyTorch
reduces such an "outer" axis in chunks: runs of 16 rows are added in order, the chunk sums are
added 16 at a time into a second level, and so on (four levels, longer chunks past 2**20 rows),
so the error grows like log(n). `fsum` reproduces that order with reshaped NumPy reductions:
the same accuracy and, where PyTorch's vector loop uses 256-bit vectors, the same bits: columns
in groups of four vectors (four columns when there are fewer than a vector's worth) in that
chunked order, the columns left over as PyTorch's scalar loop adds them (rows interleaved four
ways). Integer and bool sums are exact and go straight to NumPy, as do reductions over the axis
NumPy's inner loop sums pairwise (PyTorch's vectorised inner sum: as accurate, other last bits).
"""
from __future__ import annotations

from typing import Any

import numpy as np

_LEVELS = 4  # accumulator levels of the chunked sum
_ILP = 4  # rows interleaved by the scalar loop


def _inner_block(a: np.ndarray, axes: tuple) -> tuple:
    """The reduced axes NumPy's inner loop runs over pairwise: the smallest-stride axis (if it is
    reduced) and the reduced axes that coalesce with it in memory."""
    order = sorted((i for i in range(a.ndim) if a.shape[i] > 1), key=lambda i: abs(a.strides[i]))
    block = []
    expect = None
    for i in order:
        if i not in axes or (expect is not None and a.strides[i] != expect):
            break
        block.append(i)
        expect = a.strides[i] * a.shape[i]
    return tuple(block)


def _reduce(a: np.ndarray, axis: Any, acc: np.dtype) -> np.ndarray:
    # (NumPy's reduce takes a slower path when asked for keepdims or for the dtype it already has)
    return np.add.reduce(a, axis=axis) if a.dtype == acc else np.add.reduce(a, axis=axis, dtype=acc)


def _chunked(a: np.ndarray, acc: np.dtype) -> np.ndarray:
    """Sum a (P, n, C) array over its middle axis in PyTorch's chunked order -> (P, C)."""
    p, n, c = a.shape
    step = 1 << max(4, (n - 1).bit_length() // _LEVELS)
    if n <= step:
        return _reduce(a, 1, acc)
    whole = n // step * step
    level = _reduce(a[:, :whole].reshape(p, whole // step, step, c), 2, acc)  # chunk sums
    total = _reduce(a[:, whole:], 1, acc) if whole < n else None  # rows after the last chunk, in order
    for _ in range(_LEVELS - 2):  # levels 1 and 2 pass every `step` sums on to the next level
        k = level.shape[1] // step * step
        if k == 0:
            break
        if k < level.shape[1]:
            left = _reduce(level[:, k:], 1, acc)
            total = left if total is None else total + left
        level = _reduce(level[:, :k].reshape(p, k // step, step, c), 2, acc)
    last = _reduce(level, 1, acc)
    return last if total is None else total + last


def _interleaved(a: np.ndarray, acc: np.dtype) -> np.ndarray:
    """PyTorch's scalar loop: four partial sums over rows i = k mod 4 (each chunked), the last
    n mod 4 rows added to the first partial, then the partials added in order."""
    p, n, c = a.shape
    q = n // _ILP
    part = _chunked(a[:, :q * _ILP].reshape(p, q, _ILP * c), acc).reshape(p, _ILP, c)
    for i in range(q * _ILP, n):
        part[:, 0] += a[:, i]
    return _reduce(part, 1, acc)


def _cols(shape: tuple, ax: int) -> int:
    n = 1
    for s in shape[ax + 1:]:
        n *= s
    return n


def _group(cols: int, acc: np.dtype) -> int:
    """Columns PyTorch's outer-sum loop takes at once: 4 vectors of 256 bits, or 4 scalars when
    there are fewer columns than a vector holds."""
    vec = max(1, 32 // acc.itemsize)
    return 4 * vec if cols >= vec else 4


def _outer_axis(a: np.ndarray, ax: int, acc: np.dtype) -> np.ndarray:
    """Reduce one non-inner axis in PyTorch's order (the result keeps it, length 1)."""
    shape = a.shape
    cols = _cols(shape, ax)
    a3 = a.reshape((-1, shape[ax], cols))
    k = cols // _group(cols, acc) * _group(cols, acc)
    if k == cols:
        r = _chunked(a3, acc)
    elif k == 0:
        r = _interleaved(a3, acc)
    else:
        r = np.concatenate([_chunked(a3[:, :, :k], acc), _interleaved(a3[:, :, k:], acc)], axis=1)
    return r.reshape(shape[:ax] + (1,) + shape[ax + 1:])


def _merge_reduced(a: np.ndarray, axes: tuple) -> tuple:
    """View `a` with runs of adjacent reduced axes that are contiguous in memory merged into one
    (PyTorch's iterator coalesces them): (array, its reduced axes)."""
    shape, strides, red = [a.shape[0]], [a.strides[0]], [0 in axes]
    for i in range(1, a.ndim):
        if red[-1] and i in axes and strides[-1] == a.strides[i] * a.shape[i]:
            shape[-1] *= a.shape[i]
            strides[-1] = a.strides[i]
        else:
            shape.append(a.shape[i])
            strides.append(a.strides[i])
            red.append(i in axes)
    if len(shape) == a.ndim:
        return a, axes
    return a.reshape(shape), tuple(i for i, r in enumerate(red) if r)


def fsum(a: np.ndarray, axis: Any = None, keepdims: bool = False, dtype: Any = None) -> np.ndarray:
    """`np.add.reduce(a, axis, dtype=dtype, keepdims=keepdims)` (always an array), adding along
    an outer axis in PyTorch's chunked order (see the module docstring)."""
    acc = np.dtype(dtype) if dtype is not None else a.dtype
    axes = tuple(range(a.ndim)) if axis is None else (axis,) if isinstance(axis, int) else tuple(axis)
    kept = tuple(1 if i in axes else s for i, s in enumerate(a.shape))
    r = None
    if acc.kind in "fc" and a.size and a.ndim and not _inner_block(a, axes):
        # no reduced axis is NumPy's inner loop: chunk the innermost reduced one (PyTorch's 2-d
        # loop); any other reduced axes accumulate after it in order, as PyTorch's outer loops do
        m, maxes = _merge_reduced(a, axes)
        ax = min(maxes, key=lambda i: m.strides[i])
        n, cols = m.shape[ax], _cols(m.shape, ax)
        if n > _ILP and (n > 16 or cols % _group(cols, acc)):  # (else: in order, as NumPy adds)
            r = _outer_axis(m, ax, acc)
            rest = tuple(i for i in maxes if i != ax)
            if rest:
                r = _reduce(r, rest, acc)
    if r is None:
        r = _reduce(a, axes, acc)
    r = np.asarray(r)
    if r.dtype != acc:
        r = r.astype(acc)
    return r.reshape(kept) if keepdims else r.reshape(tuple(s for i, s in enumerate(a.shape) if i not in axes))
