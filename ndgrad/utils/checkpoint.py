"""Activation checkpointing (torch.utils.checkpoint): trade compute for memory.

A checkpointed function keeps none of its intermediate activations after the forward pass;
backward runs the function again to get them. Two variants, as in PyTorch:

- ``use_reentrant=False``: the forward records its graph as usual (outputs carry the real
  nodes, ``autograd.grad`` and parameters captured by closure work), but the values its
  nodes saved are dropped at once. The first node that needs its saved values during
  backward recomputes the whole function and hands every dropped node its values back.
- ``use_reentrant=True`` (the default when the argument is left out, with PyTorch's
  warning): the forward runs without recording; one ``CheckpointFunctionBackward`` node
  reruns the function in backward and calls ``backward`` on the recomputed outputs, so
  parameters receive their gradients from that inner pass.

The RNG state at the forward is restored for the recomputation (dropout draws the same
mask) and the caller's RNG state is left as it was.
"""
from __future__ import annotations

import contextlib
import warnings
from typing import Any, Callable, Iterable, Iterator

from .._tensor import Tensor
from ..autograd import engine, grad_mode
from ..autograd import graph as _graph
from ..autograd.function import Function

__all__ = ["checkpoint", "checkpoint_sequential", "CheckpointError", "CheckpointFunction", "detach_variable",
           "noop_context_fn"]


class CheckpointError(RuntimeError):
    """The recomputation did not reproduce the forward pass (different ops or shapes)."""


def noop_context_fn() -> tuple:
    """The default `context_fn`: two no-op context managers (forward, recomputation)."""
    return contextlib.nullcontext(), contextlib.nullcontext()


def detach_variable(inputs: tuple) -> tuple:
    """Detached copies of the tensors in `inputs`, each requiring grad as its source did."""
    if not isinstance(inputs, tuple):
        raise RuntimeError(f"Only tuple of tensors is supported. Got Unsupported input type: {type(inputs).__name__}")
    out = []
    for x in inputs:
        if isinstance(x, Tensor):
            d = x.detach()
            d.requires_grad_(x._requires_grad)
            out.append(d)
        else:
            out.append(x)
    return tuple(out)


@contextlib.contextmanager
def _rng_at(state: Any) -> Iterator[None]:
    """Run with the default generator at `state`, restoring the caller's state after."""
    if state is None:
        yield
        return
    from .. import _random
    now = _random.get_rng_state()
    _random.set_rng_state(state)
    try:
        yield
    finally:
        _random.set_rng_state(now)


def _saved_rng(preserve: bool) -> Any:
    if not preserve:
        return None
    from .. import _random
    return _random.get_rng_state()


def _tensors_of(out: Any) -> list:
    outs = out if isinstance(out, (tuple, list)) else (out,)
    return [o for o in outs if isinstance(o, Tensor)]


# ---------------------------------------------------------------------------
# use_reentrant=True
# ---------------------------------------------------------------------------
class CheckpointFunction(Function):
    """The reentrant variant as a custom Function: forward without a graph, backward recomputes."""

    @staticmethod
    def forward(ctx: Any, run_function: Callable, preserve_rng_state: bool, *args: Any) -> Any:
        ctx.run_function = run_function
        ctx.rng = _saved_rng(preserve_rng_state)
        ctx.inputs = args
        return run_function(*args)

    @staticmethod
    def backward(ctx: Any, *grads: Any) -> tuple:
        if not engine._tasks[-1]:
            raise RuntimeError(
                "When use_reentrant=True, torch.utils.checkpoint is incompatible with .grad() or passing an "
                "`inputs` parameter to .backward(). To resolve this error, you can either set "
                "use_reentrant=False, or call .backward() without passing the `inputs` argument.")
        inputs = detach_variable(tuple(ctx.inputs))
        with _rng_at(ctx.rng), grad_mode.enable_grad():
            out = ctx.run_function(*inputs)
        outs = out if isinstance(out, tuple) else (out,)
        roots, root_grads = [], []
        for o, g in zip(outs, grads):
            if isinstance(o, Tensor) and o._requires_grad and g is not None:
                roots.append(o)
                root_grads.append(g)
        if not roots:
            raise RuntimeError("none of output has requires_grad=True, this checkpoint() is not necessary")
        engine.backward(roots, root_grads)
        return (None, None) + tuple(x.grad if isinstance(x, Tensor) else None for x in inputs)


def _checkpoint_reentrant(function: Callable, preserve: bool, args: tuple) -> Any:
    if grad_mode.state.enabled and not any(isinstance(a, Tensor) and a._requires_grad for a in args):
        warnings.warn("None of the inputs have requires_grad=True. Gradients will be None", UserWarning,
                      stacklevel=3)
    return CheckpointFunction.apply(function, preserve, *args)


# ---------------------------------------------------------------------------
# use_reentrant=False
# ---------------------------------------------------------------------------
def _inner_nodes(outputs: list, first_seq: int) -> list:
    """The nodes recorded since `first_seq` that the outputs' graph reaches, oldest first."""
    seen: set = set()
    stack = [t.grad_fn for t in outputs if t.grad_fn is not None]
    nodes = []
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen or node._seq < first_seq or type(node) is _graph.AccumulateGrad:
            continue
        seen.add(id(node))
        nodes.append(node)
        stack.extend(child for child, _ in node.next_functions)
    nodes.sort(key=lambda n: n._seq)
    return nodes


def _next_seq() -> int:
    return next(_graph._seq)


class _Recompute:
    """Stands in for the saved values of the nodes of one checkpointed call until backward needs them."""

    __slots__ = ("fn", "args", "kwargs", "rng", "nodes", "done")

    def __init__(self, fn: Callable, args: tuple, kwargs: dict, rng: Any, nodes: list) -> None:
        self.fn, self.args, self.kwargs, self.rng, self.nodes = fn, args, kwargs, rng, nodes
        self.done = False

    def __bool__(self) -> bool:  # a node holding this still has (recomputable) saved values
        return True

    def unpack(self, node: Any) -> tuple:
        if not self.done:
            self._recompute()
        saved = node._saved
        if type(saved) is not tuple:  # pragma: no cover - a node the recomputation did not reach
            raise CheckpointError("torch.utils.checkpoint: a saved value was not recomputed")
        return saved

    def _recompute(self) -> None:
        first = _next_seq()
        with _rng_at(self.rng), grad_mode.enable_grad():
            out = self.fn(*self.args, **self.kwargs)
        fresh = _inner_nodes(_tensors_of(out), first)
        if [type(n).__name__ for n in fresh] != [type(n).__name__ for n in self.nodes]:
            raise CheckpointError(
                "torch.utils.checkpoint: Recomputed values for the following tensors have different metadata "
                "than during the forward pass: the recomputation ran other operations "
                f"({len(fresh)} recorded nodes instead of {len(self.nodes)}).")
        for old, new in zip(self.nodes, fresh):
            if old._saved is self:
                old._saved, old._saved_ver = new._saved, new._saved_ver
        self.done = True
        self.fn = self.args = self.kwargs = self.nodes = None  # what the recomputation needed, no longer


def _checkpoint_non_reentrant(function: Callable, preserve: bool, context_fn: Callable, args: tuple,
                              kwargs: dict) -> Any:
    if not grad_mode.state.enabled:
        return function(*args, **kwargs)
    rng = _saved_rng(preserve)
    forward_ctx, recompute_ctx = context_fn()
    first = _next_seq()
    with forward_ctx:
        out = function(*args, **kwargs)
    nodes = _inner_nodes(_tensors_of(out), first)
    if nodes:
        holder = _Recompute(_in_context(function, recompute_ctx), args, kwargs, rng, nodes)
        for node in nodes:
            if node._saved:  # drop the activations: they come back from the recomputation
                node._saved = holder
    return out


def _in_context(function: Callable, ctx: Any) -> Callable:
    def run(*args: Any, **kwargs: Any) -> Any:
        with ctx:
            return function(*args, **kwargs)
    return run


# ---------------------------------------------------------------------------
# public entry points
# ---------------------------------------------------------------------------
_WARN_REENTRANT = ("torch.utils.checkpoint: the use_reentrant parameter should be passed explicitly. Starting in "
                   "PyTorch 2.9, calling checkpoint without use_reentrant will raise an exception. "
                   "use_reentrant=False is recommended, but if you need to preserve the current default behavior, "
                   "you can pass use_reentrant=True. Refer to docs for more details on the differences between "
                   "the two variants.")


def checkpoint(function: Callable, *args: Any, use_reentrant: bool | None = None,
               context_fn: Callable = noop_context_fn, determinism_check: str = "default", debug: bool = False,
               early_stop: bool = True, preserve_rng_state: bool = True, **kwargs: Any) -> Any:
    """`function(*args, **kwargs)` without keeping its activations; backward recomputes them."""
    if use_reentrant is None:
        warnings.warn(_WARN_REENTRANT, UserWarning, stacklevel=2)
        use_reentrant = True
    if use_reentrant:
        if context_fn is not noop_context_fn or debug:
            raise ValueError("Passing `context_fn` or `debug` is only supported when use_reentrant=False.")
        if kwargs:
            raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
        return _checkpoint_reentrant(function, preserve_rng_state, args)
    return _checkpoint_non_reentrant(function, preserve_rng_state, context_fn, args, kwargs)


def _run_segment(functions: list) -> Callable:
    def forward(x: Any) -> Any:
        for f in functions:
            x = f(x)
        return x
    return forward


def checkpoint_sequential(functions: Any, segments: int, input: Any, use_reentrant: bool | None = None,
                          **kwargs: Any) -> Any:
    """Run a sequence of modules (or a Sequential) in `segments` chunks, checkpointing all but the last."""
    if use_reentrant is None:
        warnings.warn("torch.utils.checkpoint.checkpoint_sequential: the use_reentrant parameter should be passed "
                      "explicitly. In version 2.9 we will raise an exception if use_reentrant is not passed. "
                      "use_reentrant=False is recommended, but if you need to preserve the current default "
                      "behavior, you can pass use_reentrant=True. Refer to docs for more details on the "
                      "differences between the two variants.", UserWarning, stacklevel=2)
        use_reentrant = True
    preserve = kwargs.pop("preserve_rng_state", True)
    if kwargs:
        raise ValueError("Unexpected keyword arguments: " + ",".join(kwargs))
    from ..nn.modules.container import Sequential
    funcs = list(functions.children()) if isinstance(functions, Sequential) else list(_as_list(functions))
    size = len(funcs) // segments
    end = -1
    for start in range(0, size * (segments - 1), size):
        end = start + size - 1
        input = checkpoint(_run_segment(funcs[start:end + 1]), input, use_reentrant=use_reentrant,
                           preserve_rng_state=preserve)
    return _run_segment(funcs[end + 1:])(input)


def _as_list(functions: Iterable) -> Iterable:
    return functions
