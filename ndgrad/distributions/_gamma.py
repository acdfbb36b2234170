"""Gamma-distribution kernels: sampling with implicit reparameterisation gradients (float64 NumPy,
vectorised), and the Gamma CDF (the regularised lower incomplete gamma of ndgrad/ops/special.py).

Implicit reparameterisation (as PyTorch does for Gamma, Beta and Dirichlet): a sample x of
Gamma(a, 1) moves with a so that its CDF value stays fixed, dx/da = -(dP/da) / p(x), with P the
CDF and p the density. Writing P as its power series in x, each term divided by the density
is r_n = x^(n+1) / (a (a+1) ... (a+n)), so dx/da = -sum_n r_n (log x - digamma(a + n + 1)):
no gamma functions of large arguments, and digamma(a + n + 1) follows by recurrence.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import Node
from ..ops import _specfun as _sf
from ..ops._core import _make, grad_needed, record

_EPS = np.finfo(np.float64).eps
_TINY = 1e-300
_BIG_A = 2e4  # beyond this the series is long and the Wilson-Hilferty normal approximation is accurate


def _series_dx_da(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    lx = np.log(x)
    psi = _sf.digamma(a) + 1.0 / a  # digamma(a + 1)
    r = x / a
    s = r * (lx - psi)
    idx = np.arange(x.size)
    n = 0
    while idx.size and n < 100000:
        n += 1
        xa, aa = x[idx], a[idx]
        r = r * xa / (aa + n)
        psi = psi + 1.0 / (aa + n)
        term = r * (lx[idx] - psi)
        s[idx] += term
        # keep going while terms still grow (n below x - a) or still matter
        keep = (np.abs(term) > _EPS * 1e-2 * np.abs(s[idx])) | (xa > aa + n)
        idx, r, psi = idx[keep], r[keep], psi[keep]
    return -s


def _wilson_hilferty_dx_da(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    # x = a w^3, w = 1 - 1/(9a) + z/(3 sqrt a), differentiated with the normal quantile z held fixed
    sa = np.sqrt(a)
    z = 3 * sa * (np.cbrt(x / a) - 1 + 1 / (9 * a))
    w = 1 - 1 / (9 * a) + z / (3 * sa)
    dw = 1 / (9 * a * a) - z / (6 * a * sa)
    return w ** 3 + 3 * a * w * w * dw


def standard_gamma_grad(x: np.ndarray, a: np.ndarray) -> np.ndarray:
    """d x / d a for samples x of Gamma(a, 1), holding the CDF value fixed."""
    x64, a64 = np.broadcast_arrays(np.asarray(x, np.float64), np.asarray(a, np.float64))
    x64 = np.maximum(x64, _TINY).ravel()
    a64 = a64.ravel()
    out = np.empty(x64.shape)
    big = a64 >= _BIG_A
    with np.errstate(all="ignore"):
        if big.any():
            out[big] = _wilson_hilferty_dx_da(x64[big], a64[big])
        if (~big).any():
            out[~big] = _series_dx_da(x64[~big], a64[~big])
    return out.reshape(np.shape(x))


class StandardGammaBackward0(Node):
    """Gradient of Gamma(a, 1) samples with respect to a (implicit reparameterisation)."""
    __slots__ = ("dxda",)

    def backward(self, g: Tensor) -> tuple:
        return (g * _make(self.dxda.astype(g._data.dtype, copy=False), g._dtype),)

    def fast(self, g: np.ndarray) -> tuple:
        return (g * self.dxda.astype(g.dtype, copy=False),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return self.backward(ts[0])[0]  # elementwise: the same scaling


def standard_gamma(concentration: Tensor) -> Tensor:
    """One Gamma(concentration, 1) sample per element (numbers below the dtype's tiny are raised to it),
    differentiable with respect to the concentration."""
    from .._random import default_generator
    dt = concentration._dtype
    a = concentration._data.astype(np.float64)
    x = default_generator._rng.standard_gamma(a)
    x = np.maximum(x, np.finfo(dt.np).tiny).astype(dt.np)
    res = _make(x, dt)
    if grad_needed(concentration):
        n = StandardGammaBackward0()
        n.dxda = standard_gamma_grad(x, a)
        record(n, res, (concentration,))
    return res


def gamma_cdf(a: Tensor, x: Tensor) -> Tensor:
    """P(a, x), the Gamma(a, 1) CDF, as a tensor (gradient in x only, as in PyTorch): ndgrad.special.gammainc."""
    import ndgrad
    from ..ops.special import igamma
    a, x = ndgrad.broadcast_tensors(a, x)
    return igamma(a, x)
