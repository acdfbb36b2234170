"""ndgrad.linalg: PyTorch's torch.linalg namespace."""
from __future__ import annotations

from typing import Any

from ._dtype import int32 as _int32
from ._tensor import Tensor
from .ops.decomp import (cholesky, cholesky_ex, cond, eig, eigh, eigvals, eigvalsh, inv_ex, lstsq,  # noqa: F401
                         matrix_exp, multi_dot, pinv, qr, slogdet, solve_triangular, svd, svdvals, tensorinv,
                         tensorsolve, vecdot)
from .ops.linalg import det, inv, matrix_power, matrix_rank, solve  # noqa: F401
from .ops.linalg import LinAlgError  # noqa: F401
from .ops.linalg import cross as _cross
from .ops.linalg import matmul, vdot  # noqa: F401
from .ops.reduction import matrix_norm, vector_norm  # noqa: F401
from .ops.construct import linalg_vander as vander  # noqa: F401


def norm(A: Tensor, ord: Any = None, dim: Any = None, keepdim: bool = False, *,  # noqa: A002
         dtype: Any = None) -> Tensor:
    """Vector norm (flattened or over one dim) or matrix norm (over two dims), as torch.linalg.norm."""
    if isinstance(ord, str) or (dim is not None and isinstance(dim, (tuple, list)) and len(dim) == 2) or \
            (ord is not None and dim is None and A.dim() == 2):
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim) if dim is not None else (-2, -1), keepdim,
                           dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def diagonal(A: Tensor, *, offset: int = 0, dim1: int = -2, dim2: int = -1) -> Tensor:
    """The diagonals of (batches of) matrices (torch.linalg's defaults: the last two dims)."""
    return A.diagonal(offset, dim1, dim2)


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False) -> tuple:
    """(result, info) of solve; info is 0 (a singular matrix raises, as with check_errors)."""
    from .ops.reduction import return_type
    from .ops._core import _make
    import numpy as np
    res = solve(A, B, left=left)
    return return_type("linalg_solve_ex", ("result", "info"))(res, _make(np.zeros(A._data.shape[:-2], np.int32),
                                                                        _int32))


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along `dim` (default the last), broadcasting the other dims."""
    return _cross(input, other, dim)

