"""Every differentiable op, defined once. Importing this package attaches the
registered ops to Tensor as methods, with Python operators and in-place forms."""
from __future__ import annotations

from typing import Any

from .._tensor import Tensor
from . import (activation, complex, construct, counting, decomp, elementwise, indexing, inplace, linalg,  # noqa: F401
               reduction, shape, special)
from ._core import INPLACE, REGISTRY, name_outputs
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
Tensor.__pos__ = lambda self: self
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
