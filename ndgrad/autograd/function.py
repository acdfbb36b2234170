"""autograd.Function: user-defined ops with hand-written forward and backward."""
from __future__ import annotations

from typing import Any

from . import grad_mode
from .graph import Node, SavedOutput


class FunctionCtx:
    """The `ctx` passed to forward/backward: saves tensors and flags between the two."""

    def save_for_backward(self, *tensors: Any) -> None:
        self._to_save = tensors

    def save_for_forward(self, *tensors: Any) -> None:
        """Keep tensors for `jvp` (forward-mode AD), where ctx.saved_tensors returns them."""
        self.__dict__["_fw_saved"] = tensors

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
        if self.__dict__.get("_in_jvp"):
            return self.__dict__.get("_fw_saved", ())
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
    def jvp(ctx: Any, *grad_inputs: Any) -> Any:
        """Override for forward-mode AD: the outputs' tangents from the inputs' (zeros for tensors
        without one, None for non-tensor arguments); ctx.saved_tensors are those of save_for_forward."""
        raise NotImplementedError("You must implement the jvp function for custom autograd.Function to use it "
                                  "with forward mode AD.")

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple, output: Any) -> Any:
        """Override (with a ctx-less `forward(*args)`) to fill ctx from the inputs and output."""
        raise NotImplementedError("setup_context is not implemented.")

    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        from .._tensor import Tensor
        from ..ops._core import has_fw, record
        node = cls._backward_cls()
        enabled = grad_mode.state.enabled
        node.__dict__["_needs"] = tuple(enabled and isinstance(a, Tensor) and a._requires_grad for a in args)
        levels = grad_mode.fw_levels
        fw = levels[:] if levels and has_fw(*args) else None
        with grad_mode.no_grad():
            if fw:
                levels.clear()  # forward sees the primal values only, as in PyTorch
            try:
                if cls.setup_context is not Function.setup_context:  # forward(*args) + setup_context(ctx, ...)
                    out = cls.forward(*args, **kwargs)
                    cls.setup_context(node, args, out)
                else:
                    out = cls.forward(node, *args, **kwargs)
            finally:
                if fw:
                    levels[:] = fw
        needs = grad_mode.state.enabled and any(isinstance(a, Tensor) and a._requires_grad for a in args)
        if not needs:
            if fw:
                _custom_jvp(cls, node, args, out, fw)
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
        res = tuple(results) if isinstance(out, tuple) else results[0]
        if fw:
            _custom_jvp(cls, node, args, res, fw)
        return res


def _custom_jvp(cls: type, node: Any, args: tuple, out: Any, levels: list) -> None:
    """The outputs' tangents of a custom Function from its `jvp`, at each dual level of its inputs."""
    from .._tensor import Tensor
    from ..ops._core import set_tangent, tangent_at
    live = grad_mode.fw_levels
    outs = out if isinstance(out, tuple) else (out,)
    node.__dict__["_in_jvp"] = True
    try:
        for lv in levels:
            if not any(tangent_at(a, lv) is not None for a in args):
                continue
            del live[levels.index(lv):]
            ts = [None if not isinstance(a, Tensor) else
                  (tangent_at(a, lv) if tangent_at(a, lv) is not None else a.detach() * 0) for a in args]
            r = cls.jvp(node, *ts)
            r = r if isinstance(r, tuple) else (r,)
            if len(r) != len(outs):
                raise RuntimeError(f"function {cls.__name__}.jvp returned an incorrect number of tangents "
                                   f"(expected {len(outs)}, got {len(r)})")
            for o, t in zip(outs, r):
                if isinstance(o, Tensor) and t is not None and o._dtype.category >= 2:
                    set_tangent(o, lv, t)
            live[:] = levels
    finally:
        live[:] = levels
        node.__dict__["_in_jvp"] = False


class InplaceFunction(Function):
    pass


def once_differentiable(fn: Any) -> Any:
    return fn
