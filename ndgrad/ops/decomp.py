"""Matrix decompositions and the solvers built on them (torch.linalg): cholesky, qr, svd, eigh,
eig, slogdet, pinv, lstsq, matrix_exp, solve_triangular, cholesky_solve/inverse.

Forward kernels are NumPy's LAPACK calls on (batches of) matrices. Every gradient rule is
written with ndgrad ops, so second derivatives come from the same rules. Rules for the
factors of a decomposition assume distinct eigen/singular values, as PyTorch's do.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node, SavedOutput, rename_grad_fn
from ._core import _make, check_tensor, grad_needed, record, record_many, register, tsum
from ._core import _vmap_levels, is_batched, vmap_rule
from .elementwise import where
from .linalg import LinAlgError, _square, matmul
from .reduction import return_type
from .shape import diag_embed, diagonal, tril, triu

_cap = D.scalar_name




def _eye(n: int, like: Tensor) -> Tensor:
    return _make(np.eye(n, dtype=like._data.dtype), like._dtype)


def _diag(v: Tensor) -> Tensor:
    return diag_embed(v)


def _mH(x: Tensor) -> Tensor:
    return x.mH


def _off_diag_inverse(diff: Tensor) -> Tensor:
    """1 / diff off the diagonal, 0 on it (diff[i, j] = e_j - e_i)."""
    n = diff._data.shape[-1]
    eye = np.eye(n, dtype=bool)
    safe = where(_make(eye, D.bool), 1.0, diff)
    return where(_make(eye, D.bool), 0.0, 1 / safe)


# ---------------------------------------------------------------------------
# solve_triangular, cholesky and the solvers on a Cholesky factor
# ---------------------------------------------------------------------------
class LinalgSolveTriangularBackward0(Node):
    __slots__ = ("upper", "unitriangular")

    def backward(self, g: Tensor) -> tuple:
        a, x = self.saved()
        gb = solve_triangular(_mH(a), g, upper=not self.upper, unitriangular=self.unitriangular)
        ga = None
        if self.next_functions[0][0] is not None:
            ga = -matmul(gb, _mH(x))
            k = 1 if self.unitriangular else 0
            ga = triu(ga, k) if self.upper else tril(ga, -k)
        return ga, gb

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        (a, _), (ta, tb) = ins, ts  # dX = A^-1 (dB - dA X), dA restricted to the triangle that is read
        rhs = tb
        if ta is not None:
            k = 1 if self.unitriangular else 0
            ta = triu(ta, k) if self.upper else tril(ta, -k)
            rhs = tsum(rhs, -matmul(ta, out))
        return solve_triangular(a, rhs, upper=self.upper, unitriangular=self.unitriangular)


def solve_triangular(A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False) -> Tensor:
    """Solve A X = B (X A = B when left=False) for triangular A, reading only its triangle."""
    if _vmap_levels and is_batched(A, B):
        return vmap_rule("trailing", solve_triangular, A, B, upper=upper, left=left, unitriangular=unitriangular)
    _square(A, "solve_triangular")
    check_tensor(B, "linalg_solve_triangular", "B", 2)
    if B._data.ndim < 2:
        raise RuntimeError("linalg.solve_triangular: The input tensor B must have at least 2 dimensions.")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"linalg.solve_triangular: Expected A and B to have the same dtype, but found A of type "
                           f"{_cap(A._dtype)} and B of type {_cap(B._dtype)} instead")
    if not left:
        return solve_triangular(A.mT, B.mT, upper=not upper, unitriangular=unitriangular).mT
    if A._data.shape[-1] != B._data.shape[-2]:
        raise RuntimeError(f"linalg.solve_triangular: Incompatible shapes of A and B for the equation AX = B "
                           f"({A._data.shape[-2]}x{A._data.shape[-1]} and {B._data.shape[-2]}x{B._data.shape[-1]})")
    a = np.triu(A._data) if upper else np.tril(A._data)
    if unitriangular:
        n = a.shape[-1]
        a = a.copy()
        a[..., np.arange(n), np.arange(n)] = 1
    with np.errstate(all="ignore"):
        try:
            x = np.linalg.solve(a, np.broadcast_to(B._data, np.broadcast_shapes(a.shape[:-2], B._data.shape[:-2])
                                                   + B._data.shape[-2:]))
        except np.linalg.LinAlgError:  # a zero on the diagonal: LAPACK's trsm gives inf/nan, as PyTorch
            x = np.full(np.broadcast_shapes(a.shape[:-2], B._data.shape[:-2]) + B._data.shape[-2:], np.nan)
    res = _make(np.ascontiguousarray(x).astype(A._data.dtype, copy=False), A._dtype)
    if grad_needed(A, B):
        n = LinalgSolveTriangularBackward0()
        n.upper, n.unitriangular = upper, unitriangular
        n.save(A, SavedOutput(res))
        record(n, res, (A, B))
    return res


def _not_pd_order(a: np.ndarray) -> int:
    """The order of the first leading minor that is not positive-definite (1-based)."""
    for k in range(1, a.shape[-1] + 1):
        try:
            np.linalg.cholesky(a[:k, :k])
        except np.linalg.LinAlgError:
            return k
    return 0


def _cholesky_info(a: np.ndarray) -> tuple:
    """(L, info): LAPACK-style info (0, or the failing order) per matrix of the batch."""
    batch = a.shape[:-2]
    flat = a.reshape((-1,) + a.shape[-2:])
    out = np.zeros_like(flat)
    info = np.zeros(flat.shape[0], np.int32)
    for i, m in enumerate(flat):
        try:
            out[i] = np.linalg.cholesky(m)
        except np.linalg.LinAlgError:
            info[i] = _not_pd_order(m)
    return out.reshape(a.shape), info.reshape(batch)


class LinalgCholeskyExBackward0(Node):
    __slots__ = ("upper",)

    def backward(self, g: Tensor) -> tuple:
        (out,) = self.saved()
        L, gL = (_mH(out), _mH(g)) if self.upper else (out, g)
        # A = L L^H: gA = sym(L^-H Phi(L^H gL) L^-1), Phi = lower triangle with the diagonal halved
        p = tril(matmul(_mH(L), gL))
        p = p - 0.5 * _diag(diagonal(p, 0, -2, -1))
        s = solve_triangular(_mH(L), p, upper=True)
        s = solve_triangular(L, s, upper=False, left=False)
        return (0.5 * (s + _mH(s)),)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        L = _mH(out) if self.upper else out  # dL = L Phi(L^-1 dA L^-H), Phi: lower triangle, diagonal halved
        x = solve_triangular(L, ts[0], upper=False)
        x = solve_triangular(_mH(L), x, upper=True, left=False)
        phi = tril(x) - 0.5 * _diag(diagonal(x, 0, -2, -1))
        dL = matmul(L, phi)
        return _mH(dL) if self.upper else dL


def _cholesky(A: Tensor, upper: bool, check: bool, name: str) -> tuple:
    _square(A, name)
    L, info = _cholesky_info(A._data)
    if check and np.any(info):
        order = int(info.reshape(-1)[info.reshape(-1) > 0][0])
        raise LinAlgError(f"linalg.cholesky: The factorization could not be completed because the input is not "
                          f"positive-definite (the leading minor of order {order} is not positive-definite).")
    res = _make(np.ascontiguousarray(np.swapaxes(L, -1, -2).conj() if upper else L), A._dtype)
    if grad_needed(A):
        n = LinalgCholeskyExBackward0()
        n.upper = upper
        n.save(SavedOutput(res))
        record(n, res, (A,))
    return res, _make(info, D.int32)


def cholesky(A: Tensor, *, upper: bool = False) -> Tensor:
    """Cholesky factor of Hermitian positive-definite matrices (lower, or upper = its conjugate transpose)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", cholesky, A, upper=upper)
    return _cholesky(A, upper, True, "cholesky")[0]


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False) -> tuple:
    """(L, info): cholesky without raising; info is the order of the failing minor (0 = success)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", cholesky_ex, A, upper=upper, check_errors=check_errors)
    res = _cholesky(A, upper, check_errors, "cholesky")
    return return_type("linalg_cholesky_ex", ("L", "info"))(*res)


@register("cholesky")
def torch_cholesky(input: Tensor, upper: bool = False) -> Tensor:
    """torch.cholesky (PyTorch's older spelling of linalg.cholesky)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("trailing", torch_cholesky, input, upper)
    res = _cholesky(input, upper, True, "cholesky")[0]
    rename_grad_fn(res, "CholeskyBackward0")
    return res


@register()
def cholesky_solve(input: Tensor, input2: Tensor, upper: bool = False) -> Tensor:
    """Solve A X = B given the Cholesky factor of A (`input` is B, `input2` the factor)."""
    if input._data.ndim < 2 or input2._data.ndim < 2:
        raise RuntimeError(f"b should have at least 2 dimensions, but has {input._data.ndim} dimensions instead")
    f = input2
    y = solve_triangular(_mH(f) if upper else f, input, upper=False)
    x = solve_triangular(f if upper else _mH(f), y, upper=True)
    rename_grad_fn(x, "CholeskySolveBackward0")
    return x


@register()
def cholesky_inverse(input: Tensor, upper: bool = False) -> Tensor:
    """Inverse of A from its Cholesky factor."""
    _square(input, "cholesky_inverse")
    eye = _eye(input._data.shape[-1], input).expand(input.shape)
    res = cholesky_solve(eye, input, upper)
    rename_grad_fn(res, "CholeskyInverseBackward0")
    return res


# ---------------------------------------------------------------------------
# QR
# ---------------------------------------------------------------------------
class LinalgQrBackward0(Node):
    __slots__ = ("mode",)

    def backward(self, gQ: Tensor | None, gR: Tensor | None) -> tuple:
        a, Q, R = self.saved()
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = a._data.shape[-2:]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        gQ = gQ if gQ is not None else Q * 0
        gR = gR if gR is not None else R * 0
        if m >= n:
            return (_qr_tall_grad(Q, R, gQ, gR),)
        # wide: A = [X | Y] with X = Q U square; R = [U | Q^H Y]
        U, gU, gV = R[..., :, :m], gR[..., :, :m], gR[..., :, m:]
        Y = a[..., :, m:]
        gX = _qr_tall_grad(Q, U, gQ + matmul(Y, _mH(gV)), gU)
        from .shape import cat
        return (cat([gX, matmul(Q, gV)], -1),)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        a, t = ins[0], ts[0]
        Q, R = out
        if self.mode == "r":
            raise RuntimeError("The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                               "Please use linalg.qr(A, mode='reduced') if you are going to differentiate through "
                               "linalg.qr.")
        m, n = a._data.shape[-2:]
        if self.mode == "complete" and m > n:
            raise RuntimeError("The QR decomposition is not differentiable when mode='complete' and nrows > ncols.")
        if m >= n:
            return _qr_tall_jvp(Q, R, t)
        from .shape import cat  # wide: the square QR of the first m columns, then R's right block Q^H Y
        dQ, dU = _qr_tall_jvp(Q, R[..., :, :m], t[..., :, :m])
        dV = matmul(_mH(dQ), a[..., :, m:]) + matmul(_mH(Q), t[..., :, m:])
        return dQ, cat([dU, dV], -1)


def _qr_tall_jvp(Q: Tensor, R: Tensor, dA: Tensor) -> tuple:
    """(dQ, dR) for A = Q R: X = Q^H dA R^-1 splits into Q^H dQ (anti-Hermitian, from X's strict lower
    triangle) and dR R^-1 (upper triangular with a real diagonal)."""
    X = solve_triangular(R, matmul(_mH(Q), dA), upper=True, left=False)
    low = tril(X, -1)
    omega = low - _mH(low)
    if X.is_complex():
        omega = omega + _diag(diagonal(X, 0, -2, -1).imag * 1j)
    dR = matmul(X - omega, R)
    dQ = solve_triangular(R, dA, upper=True, left=False) - matmul(Q, X - omega)
    return dQ, dR


def _qr_tall_grad(Q: Tensor, R: Tensor, gQ: Tensor, gR: Tensor) -> Tensor:
    """VJP of A = Q R (Q: m x n orthonormal columns, R: n x n upper): (gQ + Q copyltu(M)) R^-H,
    M = R gR^H - gQ^H Q, copyltu(M) the Hermitian matrix with M's lower triangle."""
    M = matmul(R, _mH(gR)) - matmul(_mH(gQ), Q)
    low = tril(M, -1)
    sym = low + _mH(low) + _diag(diagonal(M, 0, -2, -1).real if M.is_complex() else diagonal(M, 0, -2, -1))
    b = gQ + matmul(Q, sym)
    return solve_triangular(_mH(R), b, upper=False, left=False)  # b R^-H


def qr(A: Tensor, mode: str = "reduced") -> tuple:
    """Q R factorisation; mode 'reduced', 'complete', or 'r' (R only, Q empty)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", qr, A, mode)
    _square(A, "qr", square=False)
    if mode not in ("reduced", "complete", "r"):
        raise RuntimeError(f"qr received unrecognized mode '{mode}' but expected one of 'reduced' (default), "
                           "'r', or 'complete'")
    if mode == "r":
        q, r = np.empty((0,), A._data.dtype), np.linalg.qr(A._data, mode="r")
    else:
        q, r = np.linalg.qr(A._data, mode=mode)
    Q, R = _make(np.ascontiguousarray(q), A._dtype), _make(np.ascontiguousarray(r), A._dtype)
    if grad_needed(A):
        n = LinalgQrBackward0()
        n.mode = mode
        n.save(A, SavedOutput(Q, 0), SavedOutput(R, 1))
        record_many(n, [Q, R], (A,))
    return return_type("linalg_qr", ("Q", "R"))(Q, R)


@register("qr")
def torch_qr(input: Tensor, some: bool = True) -> tuple:
    """torch.qr (older spelling): reduced factors, or complete ones when some=False."""
    return return_type("qr", ("Q", "R"))(*qr(input, "reduced" if some else "complete"))


# ---------------------------------------------------------------------------
# SVD
# ---------------------------------------------------------------------------
class LinalgSvdBackward0(Node):
    __slots__ = ("uv",)

    def backward(self, gU: Tensor | None, gS: Tensor | None, gVh: Tensor | None) -> tuple:
        U, S, Vh = self.saved()
        k = S._data.shape[-1]
        # full_matrices: only the first k columns of U (rows of Vh) are determined by A
        U, Vh = U[..., :, :k], Vh[..., :k, :]
        gU = gU[..., :, :k] if gU is not None else None
        gVh = gVh[..., :k, :] if gVh is not None else None
        inner = _diag(gS) if gS is not None else None
        if gU is None and gVh is None:
            return (matmul(matmul(U, inner), Vh),) if inner is not None else (None,)
        m, n = U._data.shape[-2], Vh._data.shape[-1]
        V = _mH(Vh)
        s2 = S * S
        F = _off_diag_inverse(s2.unsqueeze(-2) - s2.unsqueeze(-1))  # 1 / (s_j^2 - s_i^2)
        Sd = _diag(S)
        inv_s = (1 / S).unsqueeze(-2)  # scales columns
        terms = [] if inner is None else [inner]
        extra = None
        if gU is not None:
            UtgU = matmul(_mH(U), gU)
            terms.append(matmul(F * (UtgU - _mH(UtgU)), Sd))
            if m > k:
                extra = matmul((gU - matmul(U, UtgU)) * inv_s, Vh)
        if gVh is not None:
            gV = _mH(gVh)
            VtgV = matmul(_mH(V), gV)
            terms.append(matmul(Sd, F * (VtgV - _mH(VtgV))))
            if n > k:
                e = matmul(U * inv_s, _mH(gV - matmul(V, VtgV)))
                extra = e if extra is None else extra + e
        core = terms[0]
        for t in terms[1:]:
            core = core + t
        ga = matmul(matmul(U, core), Vh)
        return (ga if extra is None else ga + extra,)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        U, S, Vh = out
        k = S._data.shape[-1]
        m, n = U._data.shape[-2], Vh._data.shape[-1]
        Uk, Vhk = U[..., :, :k], Vh[..., :k, :]
        V, dA = _mH(Vhk), ts[0]
        P = matmul(matmul(_mH(Uk), dA), V)  # U^H dA V (k x k)
        Pd = diagonal(P, 0, -2, -1)
        dS = Pd.real if P.is_complex() else Pd
        s2 = S * S
        F = _off_diag_inverse(s2.unsqueeze(-2) - s2.unsqueeze(-1))  # 1 / (s_j^2 - s_i^2)
        Sd = _diag(S).to(P.dtype)
        dU = matmul(Uk, F * (matmul(P, Sd) + matmul(Sd, _mH(P))))
        dV = matmul(V, F * (matmul(Sd, P) + matmul(_mH(P), Sd)))
        if P.is_complex():  # the phase freedom: PyTorch's gauge puts Im diag(U^H dA V) / s on U
            dU = dU + Uk * ((Pd.imag / S) * 1j).unsqueeze(-2)
        inv_s = (1 / S).unsqueeze(-2)
        if m > k:
            dU = dU + matmul(dA, V) * inv_s - matmul(Uk, matmul(_mH(Uk), matmul(dA, V) * inv_s))
        if n > k:
            dAhU = matmul(_mH(dA), Uk)
            dV = dV + dAhU * inv_s - matmul(V, matmul(Vhk, dAhU * inv_s))
        dVh = _mH(dV)
        from .shape import cat  # full_matrices: the extra columns of U (rows of Vh) are not determined by A
        if U._data.shape[-1] > k:
            dU = cat([dU, U[..., :, k:] * 0], -1)
        if Vh._data.shape[-2] > k:
            dVh = cat([dVh, Vh[..., k:, :] * 0], -2)
        return dU, dS, dVh


def _svd(A: Tensor, full_matrices: bool, compute_uv: bool, name: str) -> tuple:
    """(U, S, Vh); without compute_uv only S, unless a gradient is wanted: the rule for S needs
    U and Vh, recorded as outputs of the same node so that second derivatives see them move."""
    _square(A, name, square=False)
    track = grad_needed(A)
    if compute_uv or track:
        u, s, vh = np.linalg.svd(A._data, full_matrices=full_matrices and compute_uv)
    else:
        s = np.linalg.svd(A._data, compute_uv=False)
        u = vh = None
    real = A._dtype.to_real() if A._dtype.category == 3 else A._dtype
    S = _make(np.ascontiguousarray(s).astype(real.np, copy=False), real)
    U = _make(np.ascontiguousarray(u), A._dtype) if u is not None else None
    Vh = _make(np.ascontiguousarray(vh), A._dtype) if u is not None else None
    if track:
        n = LinalgSvdBackward0()
        n.uv = compute_uv
        n.save(SavedOutput(U, 0), SavedOutput(S, 1), SavedOutput(Vh, 2))
        record_many(n, [U, S, Vh], (A,))
    return (U, S, Vh) if compute_uv else (None, S, None)


def svd(A: Tensor, full_matrices: bool = True, *, driver: Any = None) -> tuple:
    """A = U diag(S) Vh (reduced factors when full_matrices=False)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", svd, A, full_matrices, driver=driver)
    return return_type("linalg_svd", ("U", "S", "Vh"))(*_svd(A, full_matrices, True, "svd"))


def svdvals(A: Tensor, *, driver: Any = None) -> Tensor:
    """Singular values, in descending order."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", svdvals, A, driver=driver)
    return _svd(A, False, False, "svd")[1]


@register("svd")
def torch_svd(input: Tensor, some: bool = True, compute_uv: bool = True) -> tuple:
    """torch.svd (older spelling): (U, S, V) with V, not its conjugate transpose; zero U, V without compute_uv."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("trailing", torch_svd, input, some, compute_uv)
    cls = return_type("svd", ("U", "S", "V"))
    if not compute_uv:
        m, n = input._data.shape[-2:]
        S = svdvals(input)
        z = lambda r, c: _make(np.zeros(input._data.shape[:-2] + (r, c), input._data.dtype), input._dtype)  # noqa: E731
        return cls(z(m, m), S, z(n, n))
    U, S, Vh = _svd(input, not some, True, "svd")
    return cls(U, S, _mH(Vh))


# ---------------------------------------------------------------------------
# Hermitian and general eigendecompositions
# ---------------------------------------------------------------------------
class LinalgEighBackward0(Node):
    __slots__ = ()

    def backward(self, gw: Tensor | None, gV: Tensor | None) -> tuple:
        w, V = self.saved()
        inner = _diag(gw).to(V.dtype) if gw is not None else None
        if gV is not None:
            # only the anti-Hermitian part of V^H gV is determined: V's columns have unit norm
            VhgV = matmul(_mH(V), gV)
            F = _off_diag_inverse(w.unsqueeze(-2) - w.unsqueeze(-1))  # 1 / (w_j - w_i)
            t = F * (0.5 * (VhgV - _mH(VhgV)))
            inner = t if inner is None else inner + t
        if inner is None:
            return (None,)
        return (matmul(matmul(V, inner), _mH(V)),)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        w, V = out
        P = matmul(matmul(_mH(V), ts[0]), V)  # V^H dA V
        Pd = diagonal(P, 0, -2, -1)
        F = _off_diag_inverse(w.unsqueeze(-2) - w.unsqueeze(-1))  # 1 / (w_j - w_i)
        return (Pd.real if P.is_complex() else Pd), matmul(V, F * P)


def _eigh(A: Tensor, UPLO: str, vectors: bool, name: str) -> tuple:
    _square(A, name)
    if UPLO not in ("L", "U"):
        raise RuntimeError(f"Expected UPLO argument to be 'L' or 'U', but got {UPLO}")
    w, v = np.linalg.eigh(A._data, UPLO=UPLO)
    real = A._dtype.to_real() if A._dtype.category == 3 else A._dtype
    W, V = _make(w.astype(real.np, copy=False), real), _make(v, A._dtype)
    if grad_needed(A):  # V is an output of the node even when only W is returned (second derivatives)
        n = LinalgEighBackward0()
        n.save(SavedOutput(W, 0), SavedOutput(V, 1))
        record_many(n, [W, V], (A,))
    return W, V


def eigh(A: Tensor, UPLO: str = "L") -> tuple:
    """Eigenvalues (ascending) and orthonormal eigenvectors of Hermitian matrices (one triangle is read)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", eigh, A, UPLO)
    return return_type("linalg_eigh", ("eigenvalues", "eigenvectors"))(*_eigh(A, UPLO, True, "eigh"))


def eigvalsh(A: Tensor, UPLO: str = "L") -> Tensor:
    """Eigenvalues (ascending) of Hermitian matrices."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", eigvalsh, A, UPLO)
    return _eigh(A, UPLO, False, "eigvalsh")[0]


class LinalgEigBackward0(Node):
    __slots__ = ()

    def backward(self, gL: Tensor | None, gV: Tensor | None) -> tuple:
        L, V = self.saved()
        # A V = V diag(L): gA = V^-H (diag(gL) + conj(F) * (V^H gV - V^H V diag(Re diag(V^H gV)))) V^H,
        # F[i, j] = 1 / (L_j - L_i); the second term keeps the eigenvectors' unit norm
        inner = _diag(gL) if gL is not None else None
        Vh = _mH(V)
        if gV is not None:
            VhgV = matmul(Vh, gV)
            re = diagonal(VhgV, 0, -2, -1).real.to(V.dtype)
            VhgV = VhgV - matmul(Vh, V) * re.unsqueeze(-2)
            F = _off_diag_inverse((L.unsqueeze(-2) - L.unsqueeze(-1)).conj())
            t = F * VhgV
            inner = t if inner is None else inner + t
        if inner is None:
            return (None,)
        from .linalg import solve
        return (solve(Vh, matmul(inner, Vh)),)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        from .linalg import solve
        L, V = out
        t = ts[0].to(V.dtype)
        P = solve(V, matmul(t, V))  # V^-1 dA V
        dL = diagonal(P, 0, -2, -1)
        F = _off_diag_inverse(L.unsqueeze(-2) - L.unsqueeze(-1))  # 1 / (L_j - L_i)
        dV = matmul(V, F * P)
        re = diagonal(matmul(_mH(V), dV), 0, -2, -1).real.to(V.dtype)  # keep the columns' unit norm
        return dL, dV - V * re.unsqueeze(-2)


def _eig(A: Tensor, vectors: bool, name: str) -> tuple:
    _square(A, name)
    cdt = A._dtype if A._dtype.category == 3 else (D.complex128 if A._dtype is D.float64 else D.complex64)
    track = grad_needed(A)
    if vectors or track:
        w, v = np.linalg.eig(A._data)
    else:
        w, v = np.linalg.eigvals(A._data), None
    W = _make(np.asarray(w).astype(cdt.np), cdt)
    V = _make(np.asarray(v).astype(cdt.np), cdt) if v is not None else None
    if track:  # V is an output of the node even when only W is returned (second derivatives)
        n = LinalgEigBackward0()
        n.save(SavedOutput(W, 0), SavedOutput(V, 1))
        record_many(n, [W, V], (A,))
    return W, V


def eig(A: Tensor) -> tuple:
    """Eigenvalues and unit eigenvectors of general square matrices, as complex tensors."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", eig, A)
    return return_type("linalg_eig", ("eigenvalues", "eigenvectors"))(*_eig(A, True, "eig"))


def eigvals(A: Tensor) -> Tensor:
    """Eigenvalues of general square matrices (complex)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", eigvals, A)
    return _eig(A, False, "eigvals")[0]


# ---------------------------------------------------------------------------
# slogdet, pinv, lstsq, matrix_exp
# ---------------------------------------------------------------------------
class LinalgSlogdetBackward0(Node):
    __slots__ = ()

    def backward(self, gsign: Tensor | None, glog: Tensor | None) -> tuple:
        (a,) = self.saved()
        if glog is None:
            return (None,)
        from .linalg import inv
        return (glog.unsqueeze(-1).unsqueeze(-1) * _mH(inv(a)),)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        from .linalg import inv
        S, _ = out
        tr = (inv(ins[0]).mT * ts[0]).sum((-2, -1))  # tr(A^-1 dA)
        if tr.is_complex():
            return S * (tr.imag * 1j), tr.real
        return S * 0, tr


def slogdet(A: Tensor) -> tuple:
    """(sign, log|det|) of square matrices (batched)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", slogdet, A)
    _square(A, "slogdet")
    sign, logabs = np.linalg.slogdet(A._data)
    real = A._dtype.to_real() if A._dtype.category == 3 else A._dtype
    S = _make(np.asarray(sign).astype(A._data.dtype), A._dtype)
    La = _make(np.asarray(logabs).astype(real.np), real)
    if grad_needed(A):
        n = LinalgSlogdetBackward0()
        n.save(A)
        record_many(n, [S, La], (A,))
    return return_type("linalg_slogdet", ("sign", "logabsdet"))(S, La)


@register("slogdet")
def torch_slogdet(input: Tensor) -> tuple:
    """torch.slogdet: (sign, logabsdet)."""
    return return_type("slogdet", ("sign", "logabsdet"))(*slogdet(input))


class LinalgPinvBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, x = self.saved()
        # d(A+) = -X dA X + X X^H dA^H (I - A X) + (I - X A) dA^H X^H X   (X = A+)
        ax, xa = matmul(a, x), matmul(x, a)
        gh = _mH(g)
        t1 = -matmul(matmul(_mH(x), g), _mH(x))
        t2 = matmul(matmul(gh - matmul(ax, gh), x), _mH(x))
        t3 = matmul(matmul(_mH(x), x), gh - matmul(gh, xa))
        return (t1 + t2 + t3,)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        a, x, t = ins[0], out, ts[0]  # -X dA X + X X^H dA^H (I - A X) + (I - X A) dA^H X^H X
        th = _mH(t)
        t1 = -matmul(matmul(x, t), x)
        t2 = matmul(matmul(x, _mH(x)), th - matmul(th, matmul(a, x)))
        t3 = matmul(th - matmul(matmul(x, a), th), matmul(_mH(x), x))
        return t1 + t2 + t3


def pinv(A: Tensor, *, atol: Any = None, rtol: Any = None, hermitian: bool = False) -> Tensor:
    """Moore-Penrose pseudo-inverse; singular values below max(atol, rtol * largest) count as zero."""
    if _vmap_levels and is_batched(A, atol, rtol):
        return vmap_rule("pinv", pinv, A, atol=atol, rtol=rtol, hermitian=hermitian)
    check_tensor(A, "linalg_pinv", "input", 1)
    if A._data.ndim < 2 or A._dtype.category < 2:
        raise RuntimeError(f"linalg.pinv({_type_str(A)}): expected a tensor with 2 or more dimensions of float, "
                           "double, cfloat or cdouble types")
    a = A._data
    m, n = a.shape[-2:]
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    at = 0.0 if atol is None else np.asarray(atol._data if isinstance(atol, Tensor) else atol)[..., None]
    if rtol is None:
        rt = 0.0 if atol is not None and np.any(np.asarray(at) > 0) else np.finfo(s.dtype).eps * max(m, n)
    else:
        rt = np.asarray(rtol._data if isinstance(rtol, Tensor) else rtol)[..., None]
    smax = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    cut = np.maximum(at, rt * smax)
    with np.errstate(divide="ignore"):
        sinv = np.where(s > cut, 1 / np.where(s > cut, s, 1), 0).astype(s.dtype)
    x = np.matmul(np.swapaxes(vh, -1, -2).conj() * sinv[..., None, :], np.swapaxes(u, -1, -2).conj())
    res = _make(x.astype(a.dtype, copy=False), A._dtype)
    if grad_needed(A):
        node = LinalgPinvBackward0()
        node.save(A, SavedOutput(res))
        record(node, res, (A,))
    return res


def _type_str(A: Tensor) -> str:
    """PyTorch's 'Float{[3]}' spelling of a tensor's type and shape."""
    return _cap(A._dtype) + "{" + str(list(A._data.shape)).replace(" ", "") + "}"


@register()
def pinverse(input: Tensor, rcond: float = 1e-15) -> Tensor:
    """torch.pinverse: pinv with a relative cutoff."""
    return pinv(input, rtol=rcond)


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None) -> tuple:
    """Least-squares solution of A X = B: (solution, residuals, rank, singular_values) as PyTorch fills
    them on the CPU for each driver ('gelsy' by default: residuals and singular values empty)."""
    if _vmap_levels and is_batched(A, B):
        return vmap_rule("loop", lstsq, A, B, rcond, driver=driver)
    _square(A, "lstsq", square=False)
    check_tensor(B, "linalg_lstsq", "b", 2)
    if driver is None:
        driver = "gelsy"
    if driver not in ("gels", "gelsy", "gelsd", "gelss"):
        raise RuntimeError("torch.linalg.lstsq: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)")
    if B._data.ndim == 0:
        raise RuntimeError("torch.linalg.lstsq: other must have at least 1 dimension.")
    if not 0 <= A._data.ndim - B._data.ndim <= 1:
        raise RuntimeError("torch.linalg.lstsq: input.dim() must be greater or equal to other.dim() and "
                           "(input.dim() - other.dim()) <= 1")
    vec = B._data.ndim == A._data.ndim - 1
    b = B.unsqueeze(-1) if vec else B
    if A._data.shape[-2] != b._data.shape[-2]:
        raise RuntimeError("torch.linalg.lstsq: input.size(-2) should match other.size(-2)")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"torch.linalg.lstsq: Expected input and other to have the same dtype, but got "
                           f"input's dtype {_cap(A._dtype)} and other's dtype {_cap(B._dtype)}")
    m, n = A._data.shape[-2:]
    s = np.linalg.svd(A._data, compute_uv=False)
    eps = np.finfo(s.dtype).eps
    rc = eps * max(m, n) if rcond is None else rcond
    smax = s[..., :1] if s.shape[-1] else np.zeros(s.shape[:-1] + (1,), s.dtype)
    x = matmul(pinv(A, rtol=rc if rc > 0 else eps * max(m, n)), b)
    rename_grad_fn(x, "LinalgLstsqBackward0")
    real = A._dtype.to_real() if A._dtype.category == 3 else A._dtype
    rank_arr = (s > rc * smax).sum(-1).astype(np.int64)
    full = bool(np.all(rank_arr == n))
    empty = _make(np.zeros(0, real.np), real)
    if driver != "gelsy" and m > n and full:
        r = b - matmul(A, x)
        residuals = (r.abs() ** 2 if r.is_complex() else r * r).sum(-2)
        rename_grad_fn(residuals, "LinalgLstsqBackward0")
    else:
        residuals = empty
    rank = _make(rank_arr, D.int64) if driver != "gels" else _make(np.zeros(0, np.int64), D.int64)
    sv = _make(s.astype(real.np), real) if driver in ("gelsd", "gelss") else empty
    if vec:
        x = x.squeeze(-1)
    return return_type("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))(x, residuals, rank, sv)


def _expm(a: np.ndarray) -> np.ndarray:
    """exp of (batches of) matrices: scale to norm <= 1, Taylor series of degree 18, square back."""
    norm = np.abs(a).sum(-2).max(-1) if a.size else np.zeros(a.shape[:-2])
    with np.errstate(divide="ignore"):
        s = np.maximum(0, np.ceil(np.log2(np.where(norm > 0, norm, 1)))).astype(int)
    b = a / (2.0 ** s)[..., None, None]
    n = a.shape[-1]
    eye = np.broadcast_to(np.eye(n, dtype=a.dtype), a.shape)
    r = eye + b / 18
    for k in range(17, 0, -1):
        r = eye + np.matmul(b, r) / k
    for i in range(int(s.max()) if s.size else 0):
        sq = np.matmul(r, r)
        r = np.where((s > i)[..., None, None], sq, r)
    return r


class LinalgMatrixExpBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        (a,) = self.saved()
        # the adjoint of the Frechet derivative: the top-right block of exp([[A^H, G], [0, A^H]])
        from .shape import cat
        n = a._data.shape[-1]
        ah = _mH(a)
        top = cat([ah, g], -1)
        bottom = cat([g * 0, ah], -1)
        return (matrix_exp(cat([top, bottom], -2))[..., :n, n:],)

    def jvp(self, ins: tuple, out: Any, ts: tuple) -> Any:
        from .shape import cat  # the Frechet derivative: the top-right block of exp([[A, dA], [0, A]])
        a, t = ins[0], ts[0]
        n = a._data.shape[-1]
        big = cat([cat([a, t], -1), cat([t * 0, a], -1)], -2)
        return matrix_exp(big)[..., :n, n:]


@register()
def matrix_exp(input: Tensor) -> Tensor:
    """The matrix exponential of (batches of) square matrices."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("trailing", matrix_exp, input)
    _square(input, "matrix_exp")
    res = _make(_expm(input._data).astype(input._data.dtype, copy=False), input._dtype)
    if grad_needed(input):
        n = LinalgMatrixExpBackward0()
        n.save(input)
        record(n, res, (input,))
    return res


def cond(A: Tensor, p: Any = None) -> Tensor:
    """Condition number: ratio of extreme singular values (p None or +-2), else norm(A) * norm(inv(A))."""
    from .reduction import matrix_norm
    if p is None or p in (2, -2):
        s = svdvals(A)
        r = s[..., 0] / s[..., -1] if p != -2 else s[..., -1] / s[..., 0]
        return r
    from .linalg import inv
    return matrix_norm(A, p) * matrix_norm(inv(A), p)


def multi_dot(tensors: Any) -> Tensor:
    """Product of a chain of matrices (the first may be a vector, as may the last)."""
    ts = list(tensors)
    if len(ts) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(ts)}")
    first_vec, last_vec = ts[0]._data.ndim == 1, ts[-1]._data.ndim == 1
    if first_vec:
        ts[0] = ts[0].unsqueeze(0)
    if last_vec:
        ts[-1] = ts[-1].unsqueeze(-1)
    for i, t in enumerate(ts):
        if t._data.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t._data.ndim}D")
    out = ts[0]
    for t in ts[1:]:
        out = matmul(out, t)
    if first_vec:
        out = out.squeeze(0)
    if last_vec:
        out = out.squeeze(-1)
    return out


def vecdot(x: Tensor, y: Tensor, *, dim: int = -1) -> Tensor:
    """Dot product of vectors along dim (the first argument conjugated), broadcasting."""
    return (x.conj() * y).sum(dim)


def inv_ex(A: Tensor, *, check_errors: bool = False) -> tuple:
    """(inverse, info) without raising for singular matrices unless check_errors."""
    from .linalg import inv
    cls = return_type("linalg_inv_ex", ("inverse", "info"))
    try:
        return cls(inv(A), _make(np.zeros(A._data.shape[:-2], np.int32), D.int32))
    except LinAlgError:
        if check_errors:
            raise
    info = np.zeros(A._data.shape[:-2], np.int32)
    flat = A._data.reshape((-1,) + A._data.shape[-2:])
    out = np.empty_like(flat)
    for i, m in enumerate(flat):
        try:
            out[i] = np.linalg.inv(m)
        except np.linalg.LinAlgError:
            out[i] = np.nan
            info.reshape(-1)[i] = 1
    return cls(_make(out.reshape(A._data.shape), A._dtype), _make(info, D.int32))



def tensorinv(A: Tensor, ind: int = 2) -> Tensor:
    """Inverse of A seen as a matrix between its first `ind` dims and the rest (shape rest + first)."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    first, rest = tuple(A.shape[:ind]), tuple(A.shape[ind:])
    p, q = int(np.prod(first)), int(np.prod(rest))
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[ind:]) == "
                           f"prod(self.shape[:ind]), but got {q} != {p}")
    from .linalg import inv
    return inv(A.reshape(p, q)).reshape(rest + first)


def tensorsolve(A: Tensor, B: Tensor, dims: Any = None) -> Tensor:
    """X with tensordot(A, X, X.ndim) = B; `dims` of A are moved to the end first."""
    if dims is not None:
        from ._core import wrap_dim
        nd = A.dim()
        moved = [wrap_dim(d, nd) for d in dims]
        A = A.permute([d for d in range(nd) if d not in moved] + moved)
    lead, tail = tuple(A.shape[:B.dim()]), tuple(A.shape[B.dim():])
    p, q = int(np.prod(lead)), int(np.prod(tail))
    if p != q:
        raise RuntimeError(f"Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
                           f"prod(self.shape[:other.ndim]), but got {q} != {p}")
    from .linalg import solve
    return solve(A.reshape(p, q), B.reshape(p)).reshape(tail)
