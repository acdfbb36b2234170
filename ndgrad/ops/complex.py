"""Building complex tensors and viewing them as real ones: complex, polar, view_as_real,
view_as_complex. Gradients follow PyTorch's convention for complex values (the gradient of a
real loss with respect to z is dL/dRe z + i dL/dIm z)."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import _make, broadcast_shapes_or_raise, check_tensor, grad_needed, record, register
from ._core import _vmap_levels, is_batched, vmap_rule
from .elementwise import cos, imag, real, sin

_cap = D.scalar_name
_TO_COMPLEX = {"float32": D.complex64, "float64": D.complex128}


class ComplexBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return real(g), imag(g)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        tr, ti = ts
        return complex(tr if tr is not None else ti * 0, ti if ti is not None else tr * 0)


@register(method=False)
def complex(real: Tensor, imag: Tensor) -> Tensor:  # noqa: A001 - PyTorch's name
    """real + i imag from two float tensors of the same dtype (broadcasting)."""
    if _vmap_levels and is_batched(real, imag):
        return vmap_rule("elementwise", complex, real, imag)
    check_tensor(real, "complex", "real")
    check_tensor(imag, "complex", "imag")
    if real._dtype is not imag._dtype:
        raise RuntimeError(f"Expected object of scalar type {_cap(real._dtype)} but got scalar type "
                           f"{_cap(imag._dtype)} for second argument")
    cdt = _TO_COMPLEX.get(real._dtype.name)
    if cdt is None:
        raise RuntimeError(f"Expected both inputs to be Half, Float or Double tensors but got {_cap(real._dtype)} "
                           f"and {_cap(imag._dtype)}")
    broadcast_shapes_or_raise(real._data.shape, imag._data.shape)
    res = _make(np.asarray(real._data + 1j * imag._data).astype(cdt.np), cdt)
    if grad_needed(real, imag):
        record(ComplexBackward0(), res, (real, imag))
    return res


@register(method=False)
def polar(abs: Tensor, angle: Tensor) -> Tensor:  # noqa: A002 - PyTorch's names
    """abs * (cos(angle) + i sin(angle))."""
    res = complex(abs * cos(angle), abs * sin(angle))
    from ..autograd.graph import rename_grad_fn
    rename_grad_fn(res, "PolarBackward0")
    return res


class ViewAsRealBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (complex(g[..., 0], g[..., 1]),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return view_as_real(ts[0])


class ViewAsComplexBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        return (view_as_real(g.contiguous() if hasattr(g, "contiguous") else g),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return view_as_complex(ts[0].contiguous())


@register(method=False)
def view_as_real(input: Tensor) -> Tensor:
    """A real view (..., 2) of a complex tensor: its real and imaginary parts, sharing memory."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("trailing", view_as_real, input)
    check_tensor(input, "view_as_real")
    if input._dtype.category != 3:
        raise RuntimeError("view_as_real is only supported for complex tensors")
    from .shape import as_view
    arr = input._data
    if arr.ndim and not arr.flags.c_contiguous and arr.strides[-1] != arr.itemsize:
        arr = np.ascontiguousarray(arr)
    rdt = input._dtype.to_real()
    view = arr.view(rdt.np).reshape(arr.shape + (2,)) if arr.ndim else arr.reshape(1).view(rdt.np)
    out = as_view(input, view, rdt)
    if grad_needed(input):
        record(ViewAsRealBackward0(), out, (input,))
    return out


@register(method=False)
def view_as_complex(input: Tensor) -> Tensor:
    """A complex view of a float tensor whose last dim has size 2 (real, imaginary)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("trailing", view_as_complex, input)
    check_tensor(input, "view_as_complex")
    cdt = _TO_COMPLEX.get(input._dtype.name)
    if cdt is None:
        raise RuntimeError(f"view_as_complex is only supported for float and double tensors, but got a tensor of "
                           f"scalar type: {_cap(input._dtype)}")
    arr = input._data
    if arr.ndim == 0 or arr.shape[-1] != 2:
        raise RuntimeError("Tensor must have a last dimension of size 2")
    if arr.strides[-1] != arr.itemsize:
        raise RuntimeError("Tensor must have a last dimension with stride 1")
    from .shape import as_view
    out = as_view(input, np.ascontiguousarray(arr).view(cdt.np)[..., 0] if not arr.flags.c_contiguous
                  else arr.view(cdt.np)[..., 0], cdt)
    if grad_needed(input):
        record(ViewAsComplexBackward0(), out, (input,))
    return out


# ndgrad has no lazy conjugate or negative bits: conj() computes, so these have nothing to resolve
@register()
def resolve_conj(input: Tensor) -> Tensor:
    """input itself (its conjugation, if any, is already computed)."""
    return input


@register()
def resolve_neg(input: Tensor) -> Tensor:
    """input itself (there is no lazy negation to resolve)."""
    return input


@register()
def is_conj(input: Tensor) -> bool:
    """False: conj() in ndgrad returns computed values, never a lazily conjugated view."""
    return False


@register(inplace=True)
def conj_physical(input: Tensor) -> Tensor:
    """The complex conjugate, computed (the same as conj in ndgrad)."""
    from .elementwise import conj
    return conj(input)
