"""ndgrad.fft: PyTorch's torch.fft namespace. The transforms are differentiable ops
(ndgrad/ops/spectral.py); a float32 input gives complex64, float64 gives complex128."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import _dtype as D
from ._tensor import Tensor
from .ops._core import _make, check_tensor
from .ops.spectral import _DUAL, _norm, c2c, c2r, dims_and_sizes, fft_dim, r2c


def _one_dim(input: Tensor, n: int | None, dim: int, name: str) -> tuple:
    check_tensor(input, f"fft_{name}")
    d = fft_dim(dim, input._data.ndim)
    if n is not None and n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return d, (input._data.shape[d] if n is None else n)


def fft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """One-dimensional discrete Fourier transform along dim (signal trimmed or zero-padded to n)."""
    d, size = _one_dim(input, n, dim, "fft")
    return c2c(input, (size,), (d,), _norm(norm), True)


def ifft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Inverse of fft."""
    d, size = _one_dim(input, n, dim, "ifft")
    return c2c(input, (size,), (d,), _norm(norm), False)


def fftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """n-dimensional transform over dim (all dims, or the last len(s)), sizes s."""
    dims, sizes = dims_and_sizes(input, s, dim)
    return c2c(input, sizes, dims, _norm(norm), True)


def ifftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """Inverse of fftn."""
    dims, sizes = dims_and_sizes(input, s, dim)
    return c2c(input, sizes, dims, _norm(norm), False)


def fft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """Two-dimensional transform (the last two dims by default)."""
    return fftn(input, s, dim, norm)


def ifft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """Inverse of fft2."""
    return ifftn(input, s, dim, norm)


def rfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """fft of a real signal, keeping the n // 2 + 1 non-redundant frequencies."""
    check_tensor(input, "fft_rfft")
    return r2c(input, n, dim, _norm(norm))


def irfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Inverse of rfft: a real signal of length n (default 2 (m - 1)) from its half spectrum."""
    check_tensor(input, "fft_irfft")
    return c2r(input, n, dim, _norm(norm))


def _some_dims(input: Tensor, s: Any, dim: Any, name: str) -> tuple:
    dims, sizes = dims_and_sizes(input, s, dim)
    if not dims:
        raise RuntimeError(f"{name} must transform at least one axis")
    return dims, sizes


def rfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None, *, _name: str = "rfftn") -> Tensor:
    """n-dimensional transform of a real tensor, halved along the last transformed dim."""
    dims, sizes = _some_dims(input, s, dim, _name)
    norm = _norm(norm)
    y = r2c(input, sizes[-1], dims[-1], norm)
    return c2c(y, sizes[:-1], dims[:-1], norm, True) if len(dims) > 1 else y


def irfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None, *,
           _name: str = "irfftn") -> Tensor:
    """Inverse of rfftn: the last transformed dim has length s[-1] (default 2 (m - 1))."""
    dims, sizes = _some_dims(input, s, dim, _name)
    norm = _norm(norm)
    y = c2c(input, sizes[:-1], dims[:-1], norm, False) if len(dims) > 1 else input
    last = None if s is None or s[-1] == -1 else sizes[-1]
    return c2r(y, last, dims[-1], norm)


def rfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """rfftn over two dims (the last two by default)."""
    return rfftn(input, s, dim, norm)


def irfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """Inverse of rfft2."""
    return irfftn(input, s, dim, norm)


def hfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Real transform of a Hermitian-symmetric signal given by its first half."""
    check_tensor(input, "fft_hfft")
    return c2r(input.conj(), n, dim, _DUAL[_norm(norm)])


def ihfft(input: Tensor, n: int | None = None, dim: int = -1, norm: str | None = None) -> Tensor:
    """Inverse of hfft: the half spectrum of the inverse transform of a real signal."""
    check_tensor(input, "fft_ihfft")
    return r2c(input, n, dim, _DUAL[_norm(norm)], name="ihfft").conj()


def hfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """n-dimensional hfft."""
    return irfftn(input.conj(), s, dim, _DUAL[_norm(norm)], _name="hfftn")


def ihfftn(input: Tensor, s: Any = None, dim: Any = None, norm: str | None = None) -> Tensor:
    """n-dimensional ihfft."""
    return rfftn(input, s, dim, _DUAL[_norm(norm)], _name="ihfftn").conj()


def hfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """hfftn over two dims (the last two by default)."""
    return hfftn(input, s, dim, norm)


def ihfft2(input: Tensor, s: Any = None, dim: Any = (-2, -1), norm: str | None = None) -> Tensor:
    """ihfftn over two dims (the last two by default)."""
    return ihfftn(input, s, dim, norm)


def _freqs(values: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
    dt = D.get_default_dtype() if dtype is None else dtype
    t = _make(values.astype(dt.np), dt)
    return t.requires_grad_(True) if requires_grad else t


def fftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Sample frequencies of an fft of length n with sample spacing d."""
    return _freqs(np.fft.fftfreq(n, d), dtype, requires_grad)


def rfftfreq(n: int, d: float = 1.0, *, out: Any = None, dtype: Any = None, layout: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """Sample frequencies of an rfft of length n with sample spacing d."""
    return _freqs(np.fft.rfftfreq(n, d), dtype, requires_grad)


def _shift(input: Tensor, dim: Any, sign: int) -> Tensor:
    check_tensor(input, "fft_fftshift")
    nd = input._data.ndim
    dims = tuple(range(nd)) if dim is None else ((dim,) if isinstance(dim, int) else tuple(dim))
    if not dims:
        raise RuntimeError("`shifts` required")
    dims = tuple(fft_dim(d, nd) for d in dims)
    shifts = tuple(sign * (input._data.shape[d] // 2) for d in dims)
    return input.roll(shifts, dims) if dims else input


def fftshift(input: Tensor, dim: Any = None) -> Tensor:
    """Move the zero frequency to the centre (along dim, or all dims)."""
    return _shift(input, dim, 1)


def ifftshift(input: Tensor, dim: Any = None) -> Tensor:
    """Inverse of fftshift."""
    return _shift(input, dim, -1)


__all__ = ["fft", "ifft", "fft2", "ifft2", "fftn", "ifftn", "rfft", "irfft", "rfft2", "irfft2", "rfftn", "irfftn",
           "hfft", "ihfft", "hfft2", "ihfft2", "hfftn", "ihfftn", "fftfreq", "rfftfreq", "fftshift", "ifftshift"]
