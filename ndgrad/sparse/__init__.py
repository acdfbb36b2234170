"""ndgrad.sparse: PyTorch's torch.sparse namespace for COO tensors (see _coo.py for what is supported)."""
from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from ._coo import SparseCOOTensor, sparse_coo, sparse_coo_tensor, sparse_sum, to_sparse  # noqa: F401
from ._coo import mm as _mm


def mm(mat1: Tensor, mat2: Tensor, reduce: str = "sum") -> Tensor:
    """Product of a sparse and a dense matrix (either order); gradients reach the dense operand and the values."""
    if reduce != "sum":
        raise NotImplementedError(f"torch.sparse.mm with reduce='{reduce}' is not supported in ndgrad")
    return _mm(mat1, mat2)


def addmm(mat: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1.0, alpha: Any = 1.0) -> Tensor:
    """beta * mat + alpha * (mat1 @ mat2) with a sparse mat1."""
    return mat * beta + _mm(mat1, mat2) * alpha


def sum(input: Tensor, dim: Any = None, dtype: Any = None) -> Tensor:  # noqa: A001 - PyTorch's name
    """Sum of a sparse tensor: all entries (dense 0-d) or over dims (sparse while sparse dims remain)."""
    if not getattr(input, "_is_sparse_coo", False):
        raise RuntimeError("torch.sparse.sum expects a sparse tensor")
    return sparse_sum(input, dim, dtype)


def spmm(input: Tensor, mat2: Tensor) -> Tensor:
    """torch.spmm: sparse @ dense."""
    return _mm(input, mat2)


__all__ = ["mm", "addmm", "sum", "spmm", "sparse_coo_tensor", "sparse_coo"]
