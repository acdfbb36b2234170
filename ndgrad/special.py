"""ndgrad.special: PyTorch's torch.special namespace (re-exports; the ops live in ndgrad/ops)."""
from __future__ import annotations

from typing import Any

from ._tensor import Tensor
from .ops.elementwise import erf, erfc, erfinv, exp2, expm1, log1p, logit, round, sigmoid, sinc, xlog1py, xlogy  # noqa: F401,A004
from .ops.reduction import logsumexp  # noqa: F401
from .ops.special import (bessel_j0, bessel_j1, digamma, entr, erfcx, i0, i0e, i1, i1e, igamma, igammac,  # noqa: F401
                          lgamma, log_ndtr, modified_bessel_i0, modified_bessel_i1, mvlgamma, ndtr, ndtri, polygamma,
                          spherical_bessel_j0, zeta)

expit = sigmoid
gammaln = lgamma
gammainc = igamma
gammaincc = igammac
psi = digamma


def multigammaln(input: Tensor, p: int) -> Tensor:
    """Multivariate log-gamma function of dimension p (torch.special's name for mvlgamma)."""
    return mvlgamma(input, p)


def softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """exp(x) / sum(exp(x)) along dim."""
    from .nn.functional import softmax as _softmax
    return _softmax(input, dim, dtype=dtype)


def log_softmax(input: Tensor, dim: int, *, dtype: Any = None) -> Tensor:
    """log(softmax(x)) along dim, computed stably."""
    from .nn.functional import log_softmax as _log_softmax
    return _log_softmax(input, dim, dtype=dtype)


__all__ = ["bessel_j0", "bessel_j1", "digamma", "entr", "erf", "erfc", "erfcx", "erfinv", "exp2", "expit", "expm1",
           "gammaln", "i0", "i0e", "i1", "i1e", "log1p", "log_ndtr", "log_softmax", "logit", "logsumexp",
           "multigammaln", "ndtr", "ndtri", "polygamma", "psi", "round", "sinc", "softmax", "xlog1py", "xlogy",
           "zeta", "gammainc", "gammaincc", "modified_bessel_i0", "modified_bessel_i1", "spherical_bessel_j0"]
