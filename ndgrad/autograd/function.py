"""autograd.Function: user-defined ops with hand-written forward and backward."""
from __future__ import annotations

from typing import Any

from . import grad_mode
from .graph import Node, SavedOutput


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
        needs = self.__dict__.get("_needs")
        if needs is not None:  # set before forward runs, so forward can read it too
            return needs
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

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        """Override (with a ctx-less `forward(*args)`) to fill ctx from the inputs and output."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .._tensor import Tensor
        from ..ops._core import record
        node = cls._backward_cls()
        enabled = grad_mode.state.enabled
        node.__dict__["_needs"] = tuple(enabled and isinstance(a, Tensor) and a._requires_grad for a in args)
        with grad_mode.no_grad():
            if cls.setup_context is not Function.setup_context:  # forward(*args) + setup_context(ctx, ...)
                out = cls.forward(*args, **kwargs)
                cls.setup_context(node, args, out)
            else:
                out = cls.forward(node, *args, **kwargs)
        needs = grad_mode.state.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        if not needs:
            return out
        outs = out if isinstance(out, tuple) else (out,)
        to_save = node.__dict__.pop("_to_save", ())
        non_diff = node.__dict__.get("_non_diff", set())
        # a saved differentiable output is kept as array + version (SavedOutput), so that
        # output -> grad_fn -> saved output makes no reference cycle
        out_nr = {id(o): i for i, o in enumerate(outs) if isinstance(o, Tensor) and id(o) not in non_diff
                  and o._dtype.category >= 2 and not any(o is a for a in args)}
        node.save(*(SavedOutput(t, out_nr[id(t)]) if isinstance(t, Tensor) and id(t) in out_nr else t
                    for t in to_save))
        node.__dict__["_n_out"] = len(outs)
        node.__dict__["_out_meta"] = [(o._data.shape, o._dtype) if isinstance(o, Tensor) else ((), None)
                                      for o in outs]
        results = []
        first = True
        for i, o in enumerate(outs):
            if not isinstance(o, Tensor):
                results.append(o)
                continue
            if any(o is d for d in node.__dict__.get("_dirty", ())):
                # modified in place and marked dirty: the tensor itself takes this node as grad_fn
                if o.grad_fn is None and o._requires_grad:
                    raise RuntimeError("a leaf Variable that requires grad has been used in an in-place operation.")
            elif any(o is a for a in args):  # returning an input: a view-like alias, like PyTorch
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
