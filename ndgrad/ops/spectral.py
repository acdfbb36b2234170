"""Discrete Fourier transforms (torch.fft) as differentiable ops on NumPy's pocketfft.

Three primitives carry gradient rules: complex-to-complex over a set of dims (fftn/ifftn),
real-to-half-complex along one dim (rfft) and half-complex-to-real (irfft). Each rule is the
adjoint transform, itself one of these ops, so second derivatives need nothing more. The
other transforms (rfftn, irfftn, hfft, ihfft, ...) are compositions of these and conj.

norm: "backward" (default) scales the inverse by 1/n, "forward" the forward transform, "ortho"
both by 1/sqrt(n). The adjoint of a transform with one mode is the opposite transform with the
dual mode (backward <-> forward, ortho <-> ortho).
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import _make, check_tensor, grad_needed, record, wrap_dim

from ._core import _vmap_levels, is_batched, vmap_rule
_cap = D.scalar_name
_DUAL = {"backward": "forward", "forward": "backward", "ortho": "ortho"}
_COMPLEX = {"float32": D.complex64, "float64": D.complex128, "complex64": D.complex64,
            "complex128": D.complex128}


def _norm(norm: str | None) -> str:
    if norm is None:
        return "backward"
    if norm not in _DUAL:
        raise RuntimeError(f'Invalid normalization mode: "{norm}"')
    return norm


def _as_float(x: Tensor) -> Tensor:
    """Integer and bool input in the default float dtype; half precision is refused, as on PyTorch's CPU."""
    if x._dtype.category < 2:
        return x.to(D.get_default_dtype())
    if x._dtype.name not in _COMPLEX:
        raise RuntimeError(f"Unsupported dtype {_cap(x._dtype)}")
    return x


def fft_dim(dim: int, ndim: int) -> int:
    """wrap_dim, except that a 0-d tensor has no dim to transform (PyTorch's IndexError)."""
    if ndim == 0:
        raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
    return wrap_dim(dim, ndim)


def _check_n(n: int) -> int:
    if n < 1:
        raise RuntimeError(f"Invalid number of data points ({n}) specified")
    return int(n)


def _resize(x: Tensor, dims: Sequence[int], sizes: Sequence[int]) -> Tensor:
    """Trim or zero-pad x along each dim to the given size (differentiable)."""
    from .._creation import zeros
    from .shape import cat, narrow
    for d, n in zip(dims, sizes):
        have = x._data.shape[d]
        if have > n:
            x = narrow(x, d, 0, n)
        elif have < n:
            shape = list(x._data.shape)
            shape[d] = n - have
            x = cat([x, zeros(shape, dtype=x._dtype)], d)
    return x


# ---------------------------------------------------------------------------
# the three primitives
# ---------------------------------------------------------------------------
class FftC2CBackward0(Node):
    __slots__ = ("dims", "in_sizes", "norm", "forward")

    def backward(self, g: Tensor) -> tuple:
        r = c2c(g, None, self.dims, _DUAL[self.norm], not self.forward)
        return (_resize(r, self.dims, self.in_sizes),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return c2c(ts[0], [out._data.shape[d] for d in self.dims], self.dims, self.norm, self.forward)


class FftR2CBackward0(FftC2CBackward0):
    """fft of a real input: the same rule (the engine keeps the real part for the real input)."""
    __slots__ = ()


def c2c(x: Tensor, s: Sequence[int] | None, dims: Sequence[int], norm: str, forward: bool) -> Tensor:
    """Complex transform over `dims` (already wrapped), after trimming/padding to sizes `s`."""
    if _vmap_levels and is_batched(x):
        return vmap_rule("fft_dims", c2c, x, s, dims, norm, forward)
    x = _as_float(x)
    cdt = _COMPLEX[x._dtype.name]
    fn = np.fft.fftn if forward else np.fft.ifftn
    out = fn(x._data, s=s, axes=tuple(dims), norm=norm) if dims else x._data.astype(cdt.np)
    res = _make(np.asarray(out).astype(cdt.np, copy=False), cdt)
    if grad_needed(x):
        node = FftC2CBackward0() if x._dtype.category == 3 else FftR2CBackward0()
        node.dims, node.in_sizes = tuple(dims), tuple(x._data.shape[d] for d in dims)
        node.norm, node.forward = norm, forward
        record(node, res, (x,))
    return res


class _R2CNode(Node):
    __slots__ = ("dim", "n", "in_size", "norm")

    def backward(self, g: Tensor) -> tuple:
        # rfft keeps the first n // 2 + 1 outputs of the full transform: its adjoint pads them
        # with zeros back to n, applies the adjoint full transform and keeps the real part
        full = _resize(g, (self.dim,), (self.n,))
        r = c2c(full, None, (self.dim,), _DUAL[self.norm], False).real
        return (_resize(r, (self.dim,), (self.in_size,)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return r2c(ts[0], self.n, self.dim, self.norm)


_R2CNode.__name__ = "FftR2CBackward0"


def r2c(x: Tensor, n: int | None, dim: int, norm: str, name: str = "rfft") -> Tensor:
    """Half spectrum (n // 2 + 1 entries along dim) of a real tensor."""
    if _vmap_levels and is_batched(x):
        return vmap_rule("fft_dim", r2c, x, n, dim, norm, name)
    if x._dtype.category == 3:
        raise RuntimeError(f"{name} expects a real input tensor, but got {_cap(x._dtype)}")
    x = _as_float(x)
    d = fft_dim(dim, x._data.ndim)
    n = _check_n(x._data.shape[d] if n is None else n)
    return _along_dim(x, np.fft.rfft, n, d, norm, _COMPLEX[x._dtype.name], _R2CNode)


def _along_dim(x: Tensor, fn: Any, n: int, d: int, norm: str, out_dt: D.dtype, node_cls: type) -> Tensor:
    """NumPy's one-dimensional transform `fn` along dim d, recorded with a node of node_cls."""
    out = fn(x._data, n=n, axis=d, norm=norm)
    res = _make(np.asarray(out).astype(out_dt.np, copy=False), out_dt)
    if grad_needed(x):
        node = node_cls()
        node.dim, node.n, node.in_size, node.norm = d, n, x._data.shape[d], norm
        record(node, res, (x,))
    return res


class FftC2RBackward0(Node):
    __slots__ = ("dim", "n", "in_size", "norm")

    def backward(self, g: Tensor) -> tuple:
        # irfft reads each of the entries 1 .. n - m twice (as itself and its conjugate mirror)
        gy = r2c(g, self.n, self.dim, _DUAL[self.norm])
        m = gy._data.shape[self.dim]
        w = np.ones(m)
        w[1:self.n - m + 1] = 2.0
        shape = [1] * gy._data.ndim
        shape[self.dim] = m
        gy = gy * _make(w.reshape(shape).astype(gy._dtype.to_real().np), gy._dtype.to_real())
        return (_resize(gy, (self.dim,), (self.in_size,)),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return c2r(ts[0], self.n, self.dim, self.norm)


def c2r(x: Tensor, n: int | None, dim: int, norm: str) -> Tensor:
    """Real signal of length n (default 2 (m - 1)) whose half spectrum along dim is x."""
    if _vmap_levels and is_batched(x):
        return vmap_rule("fft_dim", c2r, x, n, dim, norm)
    x = _as_float(x)
    if x._dtype.category != 3:
        x = x.to(_COMPLEX[x._dtype.name])
    d = fft_dim(dim, x._data.ndim)
    n = _check_n(2 * (x._data.shape[d] - 1) if n is None else n)
    return _along_dim(x, np.fft.irfft, n, d, norm, x._dtype.to_real(), FftC2RBackward0)


# ---------------------------------------------------------------------------
# argument handling shared by the n-dimensional transforms
# ---------------------------------------------------------------------------
def dims_and_sizes(x: Tensor, s: Any, dim: Any, default_dim: Any = None) -> tuple:
    """(dims, sizes) for an n-dimensional transform: PyTorch's rules for s and dim."""
    check_tensor(x, "fftn")
    nd = x._data.ndim
    if dim is None and default_dim is not None:
        dim = default_dim
    if isinstance(dim, int):
        dim = (dim,)
    if s is not None and isinstance(s, int):
        s = (s,)
    if dim is not None:
        dims = tuple(fft_dim(d, nd) for d in dim)
        if len(set(dims)) != len(dims):
            raise RuntimeError("FFT dims must be unique")
        if s is not None and len(s) != len(dims):
            raise RuntimeError("When given, dim and shape arguments must have the same length")
    elif s is not None:
        if len(s) > nd:
            raise RuntimeError(f"Got shape with {len(s)} values but input tensor only has {nd} dimensions.")
        dims = tuple(range(nd - len(s), nd))
    else:
        dims = tuple(range(nd))
    sizes = tuple(x._data.shape[d] if s is None or s[i] == -1 else _check_n(s[i]) for i, d in enumerate(dims))
    return dims, sizes
