"""Every differentiable op, defined once. Importing this package attaches the
registered ops to Tensor as methods, with Python operators and in-place forms."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from . import (activation, complex, construct, counting, decomp, elementwise, indexing, inplace, linalg,  # noqa: F401
               loss, reduction, shape, special)
from ._core import INPLACE, REGISTRY, _make, name_outputs
from .elementwise import (_operand, add, bitwise_and, bitwise_not, bitwise_or, bitwise_xor, div, eq,
                          floor_divide, ge, gt, le, lt, mul, ne, neg, pow, remainder, rsub, sub)
from .inplace import make_inplace, make_view_inplace
from .linalg import matmul

name_outputs()  # ops declared with a node_name: their outputs get PyTorch's grad_fn names
for _name, (_fn, _is_method, _) in list(REGISTRY.items()):
    if _is_method and not hasattr(Tensor, _name):
        setattr(Tensor, _name, _fn)


def _binary_dunder(fn: Any, reflected: bool = False) -> Any:
    if reflected:
        def method(self: Tensor, other: Any) -> Any:
            o = _operand(other)
            if o is NotImplemented:
                return NotImplemented
            if isinstance(o, Tensor):
                return fn(o, self)
            from ._core import to_tensor
            return fn(to_tensor(o, like=self), self)
    else:
        def method(self: Tensor, other: Any) -> Any:
            t = type(other)
            if t is Tensor or t is float or t is int:
                return fn(self, other)
            o = _operand(other)
            if o is NotImplemented:
                return NotImplemented
            return fn(self, o)
    return method


Tensor.__add__ = _binary_dunder(add)
Tensor.__radd__ = _binary_dunder(add, reflected=True)
Tensor.__sub__ = _binary_dunder(sub)
Tensor.__rsub__ = lambda self, other: rsub(self, other) if _operand(other) is not NotImplemented else NotImplemented
Tensor.__mul__ = _binary_dunder(mul)
Tensor.__rmul__ = _binary_dunder(mul, reflected=True)
Tensor.__truediv__ = _binary_dunder(div)
Tensor.__rtruediv__ = _binary_dunder(div, reflected=True)
Tensor.__floordiv__ = _binary_dunder(floor_divide)
Tensor.__rfloordiv__ = _binary_dunder(floor_divide, reflected=True)
Tensor.__mod__ = _binary_dunder(remainder)
Tensor.__rmod__ = _binary_dunder(remainder, reflected=True)
Tensor.__pow__ = _binary_dunder(pow)
Tensor.__rpow__ = lambda self, other: pow(other, self)
Tensor.__matmul__ = lambda self, other: matmul(self, other) if isinstance(other, Tensor) else NotImplemented
Tensor.__rmatmul__ = lambda self, other: matmul(other, self) if isinstance(other, Tensor) else NotImplemented
Tensor.__and__ = _binary_dunder(bitwise_and)
Tensor.__rand__ = _binary_dunder(bitwise_and, reflected=True)
Tensor.__or__ = _binary_dunder(bitwise_or)
Tensor.__ror__ = _binary_dunder(bitwise_or, reflected=True)
Tensor.__xor__ = _binary_dunder(bitwise_xor)
Tensor.__rxor__ = _binary_dunder(bitwise_xor, reflected=True)
def _invert(self: Tensor) -> Tensor:
    if self._dtype.category > 1:
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


Tensor.__invert__ = _invert
Tensor.__lshift__ = _binary_dunder(elementwise.bitwise_left_shift)
Tensor.__rlshift__ = _binary_dunder(elementwise.bitwise_left_shift, reflected=True)
Tensor.__rshift__ = _binary_dunder(elementwise.bitwise_right_shift)
Tensor.__rrshift__ = _binary_dunder(elementwise.bitwise_right_shift, reflected=True)
Tensor.__neg__ = neg
Tensor.__pos__ = elementwise.positive
Tensor.__abs__ = elementwise.abs
Tensor.__eq__ = _binary_dunder(eq)
Tensor.__ne__ = _binary_dunder(ne)
Tensor.__lt__ = _binary_dunder(lt)
Tensor.__le__ = _binary_dunder(le)
Tensor.__gt__ = _binary_dunder(gt)
Tensor.__ge__ = _binary_dunder(ge)
Tensor.__hash__ = lambda self: id(self)

# in-place forms, as each op declared them (register(inplace=...)); the augmented operators below use them
for _name, (_op, _how) in INPLACE.items():
    setattr(Tensor, _name, make_inplace(REGISTRY[_op][0], _name) if _how == "write" else make_view_inplace(_op))


def _fill_diagonal(input: Tensor, fill_value: Any, wrap: bool = False) -> Tensor:
    dims = input._data.shape
    if len(dims) < 2:
        raise RuntimeError("dimensions must larger than 1")
    if len(dims) > 2 and len(set(dims)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = np.zeros(dims, bool)
    np.fill_diagonal(mask, True, wrap=wrap)
    return input.masked_fill(_make(mask, D.bool), fill_value)


Tensor.fill_diagonal_ = make_inplace(_fill_diagonal, "fill_diagonal_")


def _iop(name: str) -> Any:
    meth = getattr(Tensor, name)

    def op(self: Tensor, other: Any) -> Any:
        if _operand(other) is NotImplemented:
            return NotImplemented
        return meth(self, other)
    return op


Tensor.__iadd__ = _iop("add_")
Tensor.__isub__ = _iop("sub_")
Tensor.__imul__ = _iop("mul_")
Tensor.__itruediv__ = _iop("div_")
Tensor.__ifloordiv__ = _iop("floor_divide_")
Tensor.__imod__ = _iop("remainder_")
Tensor.__ipow__ = _iop("pow_")
Tensor.__iand__ = _iop("bitwise_and_")
Tensor.__ior__ = _iop("bitwise_or_")
Tensor.__ixor__ = _iop("bitwise_xor_")
Tensor.__ilshift__ = _iop("bitwise_left_shift_")
Tensor.__irshift__ = _iop("bitwise_right_shift_")
Tensor.__imatmul__ = lambda self, other: NotImplemented


def _to_sparse(self: Tensor, *args: Any, **kwargs: Any) -> Any:
    """The sparse COO form of this tensor (ndgrad.sparse, imported on first use)."""
    from ..sparse._coo import to_sparse
    return to_sparse(self, *args, **kwargs)


def _to_dense(self: Tensor, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
    """A dense tensor is its own dense form (a dtype changes it, as in PyTorch)."""
    return self if dtype is None else self.to(dtype)


Tensor.to_sparse = Tensor.to_sparse_coo = _to_sparse
Tensor.to_dense = _to_dense


def _sparse_only(name: str, what: str) -> Any:
    def method(self: Tensor) -> Tensor:
        raise RuntimeError(f"{name} expected {what} layout but got Strided")
    method.__name__ = name
    return method


# sparse tensors' accessors (ndgrad.sparse overrides them); a dense tensor has none, as in PyTorch
Tensor.values = _sparse_only("values", "sparse tensor")
Tensor.indices = _sparse_only("indices", "sparse coordinate tensor")


def _sizes(size: tuple) -> tuple:
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = tuple(size[0])
    return tuple(int(n) for n in size)


def _resize_(self: Tensor, *size: Any, memory_format: Any = None) -> Tensor:
    """Give self the shape `size`, keeping its first elements (in order); new elements are zero."""
    if self._requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    size = _sizes(size)
    for n in size:
        if n < 0:
            raise RuntimeError(f"Trying to create tensor with negative dimension {n}: {list(size)}")
    numel = int(np.prod(size, dtype=np.int64))
    flat = self._data.reshape(-1)  # a view when self is contiguous: shrinking keeps sharing its memory
    if numel <= flat.size:
        self._data = flat[:numel].reshape(size)
    else:
        new = np.zeros(numel, self._data.dtype)
        new[:flat.size] = flat
        self._data = new.reshape(size)
    return self


def _resize_as_(self: Tensor, other: Tensor, memory_format: Any = None) -> Tensor:
    return _resize_(self, tuple(other._data.shape))


def _resize(self: Tensor, *size: Any) -> Tensor:
    """Deprecated out-of-place resize: only a new shape with the same number of elements."""
    import warnings
    warnings.warn("non-inplace resize is deprecated", stacklevel=2)
    size = _sizes(size)
    numel = int(np.prod(size, dtype=np.int64))
    if numel != self._data.size:
        raise RuntimeError(f"requested resize to {'x'.join(map(str, size))} ({numel} elements in total), but the "
                           f"given tensor has a size of {'x'.join(map(str, self._data.shape))} ({self._data.size} "
                           "elements). autograd's resize can only change the shape of a given tensor, while "
                           "preserving the number of elements. ")
    return self.reshape(size)


def _resize_as(self: Tensor, other: Tensor) -> Tensor:
    import warnings
    warnings.warn("non-inplace resize_as is deprecated", stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _resize(self, tuple(other._data.shape))


Tensor.resize_, Tensor.resize_as_, Tensor.resize, Tensor.resize_as = _resize_, _resize_as_, _resize, _resize_as
