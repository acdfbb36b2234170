"""nn.utils.parametrizations: weight_norm, spectral_norm and orthogonal as parametrizations
(nn.utils.parametrize).

weight_norm stores the weight as a magnitude g (`original0`) and a direction v (`original1`):
weight = g * v / ||v||, norms taken over every dim but `dim`. spectral_norm divides the weight by
its largest singular value, estimated by power iteration on the buffers `_u`, `_v` (updated in
training mode only). orthogonal maps an unconstrained matrix to one with orthonormal columns (or
rows) through the matrix exponential or Cayley map of a skew-symmetric matrix, or a product of
Householder reflections; with use_trivialization the result is multiplied onto a stored `base`.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ... import _creation
from ..._tensor import Tensor
from ...autograd import grad_mode
from ...ops._core import _make
from .. import functional as F
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from .parametrize import register_parametrization

__all__ = ["weight_norm", "spectral_norm", "orthogonal"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The p-norm of v over every dim except `dim`, kept as size-1 dims (dim=-1: the whole tensor, 0-d)."""
    if dim == -1:
        return v.norm(pow)
    d = dim % v.dim() if v.dim() else 0
    others = tuple(i for i in range(v.dim()) if i != d)
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """g * v / ||v|| (norms over every dim except `dim`)."""
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize `module.<name>` as g * v / ||v|| with g = original0, v = original1."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_old_names(state_dict: dict, prefix: str, local_metadata: Any, strict: bool, missing_keys: list,
                       unexpected_keys: list, error_msgs: list) -> None:
        # checkpoints of the old nn.utils.weight_norm name the tensors <name>_g / <name>_v
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state_dict and v in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)

    module._register_load_state_dict_pre_hook(load_old_names)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got "
                             f"{dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            w = self._matrix(weight)
            h, wd = w.shape
            u = _creation.empty(h, dtype=w.dtype).normal_(0, 1)
            v = _creation.empty(wd, dtype=w.dtype).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(w, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.flatten(1)

    def _power_method(self, w: Tensor, n: int) -> None:
        # u <- normalize(W v), then v <- normalize(W^T u), in place on the buffers
        with grad_mode.no_grad():
            for _ in range(n):
                self._u.copy_(F.normalize(w.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(w.t().mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        w = self._matrix(weight)
        if self.training:
            self._power_method(w, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(w.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def _default_dim(module: Module) -> int:
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide `module.<name>` by its spectral norm (largest singular value), estimated by power iteration."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_dim(module)
    register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module


# ---------------------------------------------------------------------------
# orthogonal
# ---------------------------------------------------------------------------
_ORTH_MAPS = ("matrix_exp", "cayley", "householder")


def _householder_product(A: Tensor, tau: Tensor) -> Tensor:
    """First k columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^T, v_i = column i of A below the diagonal
    with a 1 on it (LAPACK's orgqr), as differentiable matmuls."""
    n, k = A.shape[-2], A.shape[-1]
    eye = _creation.eye(n, dtype=A.dtype)
    below = _creation.ones(n, k, dtype=A.dtype).tril(-1)
    V = A * below + _creation.eye(n, k, dtype=A.dtype)
    Q = eye.expand(*A.shape[:-2], n, n) if A.dim() > 2 else eye
    for i in range(k):
        v = V[..., :, i:i + 1]
        Q = Q - (Q.matmul(v) * tau[..., i:i + 1].unsqueeze(-1)).matmul(v.mT)
    return Q[..., :, :k]


def _make_orthogonal(A: Tensor) -> Tensor:
    """The Q of A's QR decomposition, signs fixed so that R has a positive diagonal."""
    from ... import linalg
    Q, R = linalg.qr(A)
    d = R.diagonal(dim1=-2, dim2=-1).sign()
    d = d + (d == 0).to(d.dtype)
    return Q * d.unsqueeze(-2)


def _is_orthogonal(Q: Tensor) -> bool:
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * float(np.finfo(Q._data.dtype).eps)
    return bool(np.allclose((Q.mT.matmul(Q))._data, np.eye(k), atol=eps))


class _Orthogonal(Module):
    def __init__(self, weight: Tensor, orthogonal_map: str, *, use_trivialization: bool = True) -> None:
        super().__init__()
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X: Tensor) -> Tensor:
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X = X.mT
            n, k = k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()
            if n != k:  # embed the tall matrix in a square one
                from ...ops.shape import cat
                X = cat([X, _creation.zeros(*X.shape[:-2], n, n - k, dtype=X.dtype)], -1)
            A = X - X.mT  # skew-symmetric
            if self.orthogonal_map == "matrix_exp":
                from ... import linalg
                Q = linalg.matrix_exp(A)
            else:
                from ... import linalg
                eye = _creation.eye(n, dtype=A.dtype)
                Q = linalg.solve(eye - A * 0.5, eye + A * 0.5)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(-2))
            Q = _householder_product(A, tau)
            # X's diagonal holds the signs (+-1) of the columns; no gradient flows through them
            Q = Q * X.diagonal(dim1=-2, dim2=-1).detach().trunc().unsqueeze(-2)
        if "base" in self._buffers:
            Q = self.base.matmul(Q)
        return Q.mT if transposed else Q

    def right_inverse(self, Q: Tensor) -> Tensor:
        with grad_mode.no_grad():
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of "
                                 f"shape {Q.shape}.")
            given = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transposed = n < k
            if transposed:
                Q = Q.mT
                n, k = k, n
            if "base" not in self._buffers:
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the "
                                              "Cayley parametrizations when use_trivialization=False.")
                return self._householder_inverse(Q, transposed)
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:  # complete the columns to an orthonormal basis
                from ...ops.shape import cat
                from ..._random import randn
                Q = _make_orthogonal(cat([Q, randn(*Q.shape[:-2], n, n - k, dtype=Q.dtype)], -1))
            self.base = Q
            # -Id: the parametrizations all map it to the identity, so the weight starts at base
            neg_id = _creation.zeros_like(given)
            neg_id.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return neg_id

    @staticmethod
    def _householder_inverse(Q: Tensor, transposed: bool) -> Tensor:
        """Householder vectors (below the diagonal) and column signs (on it) of Q's QR factorisation."""
        arr = Q._data
        out = np.empty_like(arr)
        for idx in np.ndindex(*arr.shape[:-2]):
            h, tau = np.linalg.qr(arr[idx], mode="raw")
            a = h.T.copy()
            d = np.sign(np.diagonal(a)).copy()
            d[tau == 0] *= -1
            np.fill_diagonal(a, d)
            out[idx] = a
        res = _make(out, Q._dtype)
        return res.mT if transposed else res


def orthogonal(module: Module, name: str = "weight", orthogonal_map: str | None = None, *,
               use_trivialization: bool = True) -> Module:
    """Constrain `module.<name>` (a matrix or batch of matrices) to have orthonormal columns or rows."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.dim() < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.dim()} dimensions.")
    if orthogonal_map is None:
        orthogonal_map = "matrix_exp" if weight.shape[-2] == weight.shape[-1] or weight.is_complex() else \
            "householder"
    if orthogonal_map not in _ORTH_MAPS:
        raise ValueError(f'orthogonal_map has to be one of "matrix_exp", "cayley", "householder". Got: '
                         f"{orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    register_parametrization(module, name, orth, unsafe=True)
    return module
