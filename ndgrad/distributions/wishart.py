"""Wishart(df, covariance_matrix | precision_matrix | scale_tril): distributions of covariance matrices."""
from __future__ import annotations

import math
import warnings
from numbers import Number
from typing import Any

import numpy as np

from .._tensor import Size, Tensor
from . import constraints
from .chi2 import Chi2
from .exp_family import ExponentialFamily
from .multivariate_normal import _precision_to_scale_tril, _ScaleTrilMatrices

_LOG_2 = math.log(2)


def _mvdigamma(x: Tensor, p: int) -> Tensor:
    """d/dx of the multivariate log-gamma function: sum_i digamma(x - i / 2)."""
    import ndgrad
    if not bool((x > (p - 1) / 2).all()):
        raise AssertionError("Wrong domain for multivariate digamma function.")
    return (x.unsqueeze(-1) - ndgrad.arange(p, dtype=x.dtype) / 2).digamma().sum(-1)


def _trace_solve(L: Tensor, value: Tensor) -> Tensor:
    """trace((L L^T)^{-1} value). Written with L L^T so that, as in PyTorch's cholesky_solve, L counts as a
    full matrix for the gradient."""
    from ..linalg import solve
    return solve(L @ L.mT, value).diagonal(dim1=-2, dim2=-1).sum(-1)


class Wishart(_ScaleTrilMatrices, ExponentialFamily):
    """Wishart with `df` degrees of freedom and scale matrix given by exactly one of covariance_matrix,
    precision_matrix or scale_tril. rsample (Bartlett decomposition) is reparameterised, through the
    Chi2 (Gamma) diagonal as well."""

    support = constraints.positive_definite
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def arg_constraints(self) -> dict:  # type: ignore[override]
        return {"covariance_matrix": constraints.positive_definite,
                "precision_matrix": constraints.positive_definite, "scale_tril": constraints.lower_cholesky,
                "df": constraints.greater_than(self.event_shape[-1] - 1)}

    def __init__(self, df: Any, covariance_matrix: Tensor | None = None, precision_matrix: Tensor | None = None,
                 scale_tril: Tensor | None = None, validate_args: bool | None = None) -> None:
        import ndgrad
        given = [m for m in (covariance_matrix, precision_matrix, scale_tril) if m is not None]
        if len(given) != 1:
            raise AssertionError("Exactly one of covariance_matrix or precision_matrix or scale_tril may be "
                                 "specified.")
        param = given[0]
        if param.dim() < 2:
            raise ValueError("scale_tril must be at least two-dimensional, with optional leading batch dimensions")
        if isinstance(df, Number):
            batch_shape = Size(param.shape[:-2])
            self.df = ndgrad.tensor(df, dtype=param.dtype)
        else:
            batch_shape = Size(ndgrad.broadcast_shapes(param.shape[:-2], df.shape))
            self.df = df.expand(batch_shape)
        event_shape = param.shape[-2:]
        p = event_shape[-1]
        if bool((self.df <= p - 1).any()):
            raise ValueError(f"Value of df={df} expected to be greater than ndim - 1 = {p - 1}.")
        name = "scale_tril" if scale_tril is not None else "covariance_matrix" if covariance_matrix is not None \
            else "precision_matrix"
        setattr(self, name, param.expand(tuple(batch_shape) + (-1, -1)))
        if bool((self.df < p).any()):
            warnings.warn("Low df values detected. Singular samples are highly likely to occur for ndim - 1 < df < "
                          "ndim.", stacklevel=2)
        super().__init__(batch_shape, event_shape, validate_args=validate_args)
        if scale_tril is not None:
            self._unbroadcasted_scale_tril = scale_tril
        elif covariance_matrix is not None:
            from ..linalg import cholesky
            self._unbroadcasted_scale_tril = cholesky(covariance_matrix)
        else:
            self._unbroadcasted_scale_tril = _precision_to_scale_tril(precision_matrix)
        self._dist_chi2 = self._chi2(batch_shape)

    def _chi2(self, batch_shape: Any) -> Chi2:
        # the Bartlett factor's squared diagonal entries are Chi2(df - i), i = 0 .. p-1
        import ndgrad
        p = self._event_shape[-1]
        steps = ndgrad.arange(p, dtype=self._unbroadcasted_scale_tril.dtype).expand(tuple(batch_shape) + (-1,))
        return Chi2(df=self.df.unsqueeze(-1) - steps)

    def expand(self, batch_shape: Any, _instance: Any = None) -> "Wishart":
        new = self._get_checked_instance(Wishart, _instance)
        batch_shape = Size(batch_shape)
        cov_shape = tuple(batch_shape) + tuple(self.event_shape)
        new._unbroadcasted_scale_tril = self._unbroadcasted_scale_tril.expand(cov_shape)
        new.df = self.df.expand(batch_shape)
        for name in ("covariance_matrix", "scale_tril", "precision_matrix"):
            if name in self.__dict__:
                setattr(new, name, getattr(self, name).expand(cov_shape))
        ExponentialFamily.__init__(new, batch_shape, self.event_shape, validate_args=False)
        new._dist_chi2 = new._chi2(batch_shape)
        new._validate_args = self._validate_args
        return new

    def _matrix_shape(self) -> tuple:
        return tuple(self._batch_shape) + tuple(self._event_shape)

    def _df_matrix(self) -> Tensor:
        return self.df.view(tuple(self._batch_shape) + (1, 1))

    @property
    def mean(self) -> Tensor:
        return self._df_matrix() * self.covariance_matrix

    @property
    def mode(self) -> Tensor:
        import ndgrad
        factor = self.df - self.covariance_matrix.shape[-1] - 1
        factor = ndgrad.where(factor <= 0, float("nan"), factor)
        return factor.view(tuple(self._batch_shape) + (1, 1)) * self.covariance_matrix

    @property
    def variance(self) -> Tensor:
        V = self.covariance_matrix
        d = V.diagonal(dim1=-2, dim2=-1)
        return self._df_matrix() * (V.pow(2) + d.unsqueeze(-1) * d.unsqueeze(-2))

    def _bartlett_sampling(self, sample_shape: Any) -> Tensor:
        import ndgrad
        p = self._event_shape[-1]
        eps = float(np.finfo(self._unbroadcasted_scale_tril.dtype.np).eps)
        diag = ndgrad.diag_embed(self._dist_chi2.rsample(sample_shape).sqrt().clamp(min=eps))
        i, j = np.tril_indices(p, -1)
        below = ndgrad.zeros(tuple(diag.shape), dtype=diag.dtype)
        below[..., ndgrad.tensor(i), ndgrad.tensor(j)] = ndgrad.randn(
            tuple(Size(sample_shape)) + tuple(self._batch_shape) + (p * (p - 1) // 2,), dtype=diag.dtype)
        chol = self._unbroadcasted_scale_tril @ (diag + below)
        return chol @ chol.mT

    def rsample(self, sample_shape: Any = Size(), max_try_correction: int | None = None) -> Tensor:
        import ndgrad
        if max_try_correction is None:
            max_try_correction = 10
        sample_shape = Size(sample_shape)
        sample = self._bartlett_sampling(sample_shape)
        singular = ~self.support.check(sample)
        if bool(singular.any()):
            warnings.warn("Singular sample detected.", stacklevel=2)
            for _ in range(max_try_correction):
                fresh = self._bartlett_sampling(sample_shape)
                sample = ndgrad.where(singular[..., None, None], fresh, sample)
                singular = ~self.support.check(sample)
                if not bool(singular.any()):
                    break
        return sample

    def log_prob(self, value: Tensor) -> Tensor:
        import ndgrad
        if self._validate_args:
            self._validate_sample(value)
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return (-nu * (p * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                - ndgrad.mvlgamma(nu / 2, p=p)
                + (nu - p - 1) / 2 * ndgrad.linalg.slogdet(value).logabsdet
                - _trace_solve(L, value) / 2)

    def entropy(self) -> Tensor:
        import ndgrad
        nu = self.df
        p = self._event_shape[-1]
        L = self._unbroadcasted_scale_tril
        return ((p + 1) * (p * _LOG_2 / 2 + L.diagonal(dim1=-2, dim2=-1).log().sum(-1))
                + ndgrad.mvlgamma(nu / 2, p=p) - (nu - p - 1) / 2 * _mvdigamma(nu / 2, p=p) + nu * p / 2)

    @property
    def _natural_params(self) -> tuple:
        p = self._event_shape[-1]
        return -self.precision_matrix / 2, (self.df - p - 1) / 2

    def _log_normalizer(self, x: Tensor, y: Tensor) -> Tensor:
        import ndgrad
        p = self._event_shape[-1]
        return ((y + (p + 1) / 2) * (-ndgrad.linalg.slogdet(-2 * x).logabsdet + _LOG_2 * p)
                + ndgrad.mvlgamma(y + (p + 1) / 2, p=p))
