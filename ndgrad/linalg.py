"""ndgrad.linalg: PyTorch's torch.linalg namespace."""
from .ops.linalg import (cholesky, det, eigh, inv, matrix_power, matrix_rank, pinv, qr, slogdet, solve,  # noqa: F401
                         svd, svdvals)
from .ops.linalg import LinAlgError  # noqa: F401
from .ops.linalg import cross as _cross
from .ops.linalg import matmul, vdot  # noqa: F401
from .ops.reduction import matrix_norm, vector_norm  # noqa: F401
from .ops.reduction import norm as _norm


def norm(A, ord=None, dim=None, keepdim=False, *, dtype=None):  # noqa: ANN001, ANN201, A002
    """Vector norm (flattened or over one dim) or matrix norm (over two dims), as torch.linalg.norm."""
    if isinstance(ord, str) or (dim is not None and isinstance(dim, (tuple, list)) and len(dim) == 2) or \
            (ord is not None and dim is None and A.dim() == 2):
        return matrix_norm(A, "fro" if ord is None else ord, tuple(dim) if dim is not None else (-2, -1), keepdim,
                           dtype=dtype)
    return vector_norm(A, 2 if ord is None else ord, dim, keepdim, dtype=dtype)


def cross(input, other, *, dim=-1):  # noqa: ANN001, ANN201
    return _cross(input, other, dim)


del _norm
