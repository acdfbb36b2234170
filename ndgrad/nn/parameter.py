"""nn.Parameter: a Tensor that a Module registers as one of its parameters.

A Parameter shares the memory (and version counter) of the tensor it is made
from, is a graph leaf, and requires grad unless told otherwise. Ops on it return
plain Tensors, as in PyTorch. UninitializedParameter / UninitializedBuffer hold
the place of a lazy module's weights until the first call fixes their shape.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor

__all__ = ["Parameter", "UninitializedParameter", "UninitializedBuffer", "is_lazy", "Buffer"]


def _init_from(self: Tensor, data: Any, requires_grad: bool) -> None:
    if data is None:
        Tensor._init(self, np.empty((0,), D.get_default_dtype().np), D.get_default_dtype(), False)
    else:
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter(): expected a Tensor as data, got {type(data).__name__}")
        Tensor._init(self, data._data, data._dtype, False)
        self._version = data._version  # shares memory and versions with `data`, like a detached view
    if requires_grad:
        self.requires_grad_(True)


class Parameter(Tensor):
    """A Tensor registered as a module parameter when assigned as a Module attribute."""

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> "Parameter":
        self = object.__new__(cls)
        _init_from(self, data, requires_grad)
        return self

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return "Parameter containing:\n" + Tensor.__repr__(self)

    def __reduce_ex__(self, proto: int) -> Any:
        return (_rebuild_parameter, (np.ascontiguousarray(self._data), self._dtype.name, self._requires_grad))

    def __deepcopy__(self, memo: dict) -> "Parameter":
        if id(self) in memo:
            return memo[id(self)]
        res = type(self)(Tensor._make(self._data.copy(), self._dtype), self._requires_grad)
        if self.grad is not None:
            res.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = res
        return res


def _rebuild_parameter(arr: np.ndarray, dtype_name: str, requires_grad: bool) -> Parameter:
    return Parameter(Tensor._make(arr, D._BY_NAME[dtype_name]), requires_grad)


class _Uninitialized:
    """Mixin of the placeholders: no data until `materialize(shape)` is called."""

    cls_to_become: Any = None

    @staticmethod
    def _empty(cls: type, requires_grad: bool, dtype: Any) -> Any:
        self = object.__new__(cls)
        dt = dtype or D.get_default_dtype()
        Tensor._init(self, np.empty((0,), dt.np), dt, False)
        if requires_grad:
            self.requires_grad_(True)
        return self

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        if isinstance(shape, int):
            shape = (shape,)
        dt = self._dtype if dtype is None else dtype
        self._data = np.empty(tuple(shape), dt.np)
        self._dtype = dt
        self._version[0] += 1
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. This error "
                           "usually happens in `load_state_dict` when trying to load an uninitialized "
                           "parameter into an initialized one. Call `forward` to initialize the parameters "
                           "before accessing their attributes.")

    def numel(self) -> int:
        raise RuntimeError("Can't access the shape of an uninitialized parameter or buffer. Call `forward` "
                           "to initialize the parameters before accessing their attributes.")

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return "<" + type(self).__name__ + ">"

    def __reduce_ex__(self, proto: int) -> Any:
        raise RuntimeError(f"'{type(self).__name__}' object cannot be pickled")

    def __deepcopy__(self, memo: dict) -> Any:
        res = type(self)(self._requires_grad, dtype=self._dtype)
        memo[id(self)] = res
        return res


class UninitializedParameter(_Uninitialized, Parameter):
    """A parameter whose shape is not yet known (lazy modules)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> "UninitializedParameter":
        return _Uninitialized._empty(cls, requires_grad, dtype)

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        pass


class Buffer(Tensor):
    """A tensor that marks itself as a buffer when assigned to a Module attribute."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> "Buffer":
        self = object.__new__(cls)
        _init_from(self, data, False)
        self.persistent = persistent
        return self

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        pass


class UninitializedBuffer(_Uninitialized, Tensor):
    """A buffer whose shape is not yet known (lazy modules)."""

    cls_to_become = Tensor

    def __new__(cls, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> "UninitializedBuffer":
        return _Uninitialized._empty(cls, requires_grad, dtype)

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        pass


def is_lazy(param: Any) -> bool:
    """Whether `param` is a placeholder of a lazy module."""
    return isinstance(param, _Uninitialized)
