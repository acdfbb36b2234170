"""autograd.Function: user-defined ops with hand-written forward and backward."""
from __future__ import annotations

from typing import Any

from . import grad_mode
from .graph import Node


class FunctionCtx:
    """The `ctx` passed to forward/backward: saves tensors and flags between the two."""

    def save_for_backward(self, *tensors: Any) -> None:
        self._to_save = tensors

    def mark_non_differentiable(self, *tensors: Any) -> None:
        self._non_diff = {id(t) for t in tensors}

    def mark_dirty(self, *tensors: Any) -> None:
        self._dirty = tensors

    def set_materialize_grads(self, value: bool) -> None:
        self._materialize = value


class BackwardCFunction(Node, FunctionCtx):
    """The graph node of a custom Function: it is also the `ctx` its backward receives."""

    __slots__ = ()
    _fn: Any = None

    @property
    def saved_tensors(self) -> tuple:
        return self.saved()

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e[0] is not None for e in self.next_functions)

    @property
    def n_outputs(self) -> int:  # type: ignore[override]
        return self.__dict__.get("_n_out", 1)

    def backward(self, *grads: Any) -> tuple:  # type: ignore[override]
        if self.__dict__.get("_materialize", True):
            from .._creation import zeros
            shapes = self.__dict__["_out_meta"]
            grads = tuple(g if g is not None else zeros(s, dtype=d) for g, (s, d) in zip(grads, shapes))
        res = type(self)._fn.backward(self, *grads)
        if not isinstance(res, tuple):
            res = (res,)
        n_in = len(self.next_functions)
        if len(res) != n_in:
            raise RuntimeError(f"function {type(self).__name__} returned an incorrect number of gradients "
                               f"(expected {n_in}, got {len(res)})")
        return res


class _FunctionMeta(type):
    def __init__(cls, name: str, bases: tuple, ns: dict) -> None:
        super().__init__(name, bases, ns)
        cls._backward_cls = type(name + "Backward", (BackwardCFunction,), {"_fn": cls})


class Function(metaclass=_FunctionMeta):
    """Subclass with static `forward(ctx, *args)` and `backward(ctx, *grads)`; call `.apply(*args)`."""

    @staticmethod
    def forward(ctx: Any, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError("You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def backward(ctx: Any, *grad_outputs: Any) -> Any:
        raise NotImplementedError("You must implement either the backward or vjp method for your custom "
                                  "autograd.Function to use it with backward mode AD.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .._tensor import Tensor
        from ..ops._core import record
        node = cls._backward_cls()
        with grad_mode.no_grad():
            out = cls.forward(node, *args, **kwargs)
        needs = grad_mode.state.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        if not needs:
            return out
        outs = out if isinstance(out, tuple) else (out,)
        to_save = node.__dict__.get("_to_save", ())
        node.save(*to_save)
        non_diff = node.__dict__.get("_non_diff", set())
        node.__dict__["_n_out"] = len(outs)
        node.__dict__["_out_meta"] = [(o._data.shape, o._dtype) if isinstance(o, Tensor) else ((), None)
                                      for o in outs]
        results = []
        first = True
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                results.append(o)
                continue
            if any(o is a for a in args):  # returning an input: a view-like alias, like PyTorch
                o = o.view_as(o)
            if id(outs[i]) in non_diff or o._dtype.category < 2:
                results.append(o)
                continue
            if first:
                record(node, o, args)
                first = False
            else:
                o.grad_fn = node
                o._requires_grad = True
            o._output_nr = i
            results.append(o)
        return tuple(results) if isinstance(out, tuple) else results[0]


class InplaceFunction(Function):
    pass


def once_differentiable(fn: Any) -> Any:
    return fn
