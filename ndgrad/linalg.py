"""ndgrad.linalg: PyTorch's torch.linalg namespace."""
from __future__ import annotations

from typing import Any

from ._tensor import Tensor
from .ops.linalg import (cholesky, det, eigh, inv, matrix_power, matrix_rank, pinv, qr, slogdet, solve,  # noqa: F401
                         svd, svdvals)
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


def cross(input: Tensor, other: Tensor, *, dim: int = -1) -> Tensor:
    """Cross product of 3-vectors along `dim` (default the last), broadcasting the other dims."""
    return _cross(input, other, dim)

