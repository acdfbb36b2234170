"""The reverse-mode engine: dependency counting from the roots, then a ready queue.

Gradients arriving at a node are summed in its input buffer; the node runs once
all its dependants have delivered (PyTorch's scheme), newest node first. The walk
is iterative, so graphs of any depth backpropagate without recursion limits.
Broadcast gradients are reduced to each input's shape here (`sum_to`), on every
edge, so gradient rules never have to.
"""
from __future__ import annotations

import heapq
from typing import Any, Sequence

from . import grad_mode
from .graph import AccumulateGrad, Node

_state = grad_mode.state


def _tensor_cls() -> Any:
    from .._tensor import Tensor
    return Tensor


def sum_to(g: Any, shape: tuple) -> Any:
    """Sum a broadcast gradient back to `shape` (differentiable: built from ndgrad ops)."""
    gshape = g._data.shape
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = list(range(lead))
    for i, s in enumerate(shape):
        if s == 1 and gshape[i + lead] != 1:
            axes.append(i + lead)
    if axes:
        g = g.sum(dim=tuple(axes), keepdim=True)
    return g.reshape(shape) if g._data.shape != shape else g


def _make_roots(tensors: Sequence, grads: Sequence | None, fn_name: str) -> list:
    Tensor = _tensor_cls()
    from .._creation import ones_like
    if grads is None:
        grads = [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    roots = []
    for t, g in zip(tensors, grads):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn_name}: expected Tensor, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("element 0 of tensors does not require grad and does not have a grad_fn")
        if g is None:
            if t._data.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            if t._dtype.category != 2:
                raise RuntimeError(f"grad can be implicitly created only for real scalar outputs but got "
                                   f"{t._dtype!r}".replace("ndgrad.", "torch."))
            g = ones_like(t)
        else:
            if not isinstance(g, Tensor):
                from .._creation import tensor
                g = tensor(g, dtype=t._dtype)
            if g._data.shape != t._data.shape:
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[0] has a shape of {_size(g._data.shape)} and output[0] "
                    f"has a shape of {_size(t._data.shape)}.")
            if g._dtype.category != t._dtype.category:
                raise RuntimeError(f"For complex Tensors, both grad_output and output are required to "
                                   f"have the same dtype. Mismatch in dtype: grad_output[0] has a dtype of "
                                   f"{g._dtype.name} and output[0] has a dtype of {t._dtype.name}.")
        roots.append((t._grad_edge(), g))
    return roots


def _size(shape: tuple) -> str:
    return f"torch.Size({list(shape)})"


def run(roots: list, retain_graph: bool, create_graph: bool, capture: dict | None = None,
        accumulate: bool = True, only_inputs: set | None = None) -> list | None:
    """Execute the graph below `roots` [((node, nr), grad)].

    capture maps (node, nr) -> slot: the gradient flowing into that edge is stored in
    the returned list instead of (or as well as) being passed on. With
    `accumulate=False` AccumulateGrad nodes do not run (autograd.grad).
    `only_inputs`: with backward(inputs=...), the set of AccumulateGrad nodes allowed to run.
    """
    # 1. dependency counting (iterative DFS over next_functions)
    deps: dict = {}
    seen = set()
    stack = [edge[0] for edge, _ in roots if edge[0] is not None]
    order = []
    for n in stack:
        seen.add(n)
    while stack:
        node = stack.pop()
        order.append(node)
        for child, _ in node.next_functions:
            if child is None:
                continue
            deps[child] = deps.get(child, 0) + 1
            if child not in seen:
                seen.add(child)
                stack.append(child)

    # 2. with capture, prune nodes that lead to no captured edge (as PyTorch does)
    needed = None
    if capture is not None and not accumulate:
        # a node is needed if a captured edge is reachable from it; iterate to a
        # fix-point, children first (reversed DFS pre-order converges in a pass or two)
        needed = {n for (n, _) in capture}
        changed = True
        while changed:
            changed = False
            for node in reversed(order):
                if node not in needed:
                    for child, _ in node.next_functions:
                        if child in needed:
                            needed.add(node)
                            changed = True
                            break

    results = [None] * (len(capture) if capture else 0)
    buffers: dict = {}
    heap: list = []
    for (node, nr), g in roots:
        if node is None:
            continue
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.n_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    for node in buffers:
        if deps.get(node, 0) == 0:
            heapq.heappush(heap, (-node._seq, id(node), node))

    prev_enabled = _state.enabled
    try:
        while heap:
            _, _, node = heapq.heappop(heap)
            grads = buffers.pop(node, None)
            run_it = needed is None or node in needed
            if grads is not None and run_it:
                if node._pre_hooks:
                    _state.enabled = create_graph
                    for hook in list(node._pre_hooks.values()):
                        grads = hook(grads)
                if node._retain:
                    for nr, ref in node._retain.items():
                        t = ref()
                        if t is not None and grads[nr] is not None:
                            g = grads[nr] if create_graph else grads[nr].detach()
                            t.grad = g if t.grad is None else t.grad + g
                if capture is not None:
                    for nr in range(node.n_outputs):
                        slot = capture.get((node, nr))
                        if slot is not None and grads[nr] is not None:
                            results[slot] = grads[nr] if results[slot] is None else results[slot] + grads[nr]
                if type(node) is AccumulateGrad:
                    if accumulate and (only_inputs is None or node in only_inputs):
                        _accumulate(node, grads[0], create_graph)
                    continue
                if all(g is None for g in grads):
                    in_grads = (None,) * len(node.next_functions)
                else:
                    _state.enabled = create_graph
                    if node.n_outputs == 1:
                        in_grads = node.backward(grads[0])
                    else:
                        in_grads = node.backward(*grads)
                    _state.enabled = prev_enabled
                    if not retain_graph:
                        node.release()
                    if node._hooks:
                        for hook in list(node._hooks.values()):
                            r = hook(tuple(in_grads), tuple(grads))
                            if r is not None:
                                in_grads = r
            else:
                in_grads = (None,) * len(node.next_functions)
            meta = node._in_meta
            for i, (child, nr) in enumerate(node.next_functions):
                if child is None:
                    continue
                g = in_grads[i] if i < len(in_grads) else None
                if g is not None:
                    shape, dt = meta[i]
                    if g._data.shape != shape:
                        _state.enabled = create_graph
                        g = sum_to(g, shape)
                        _state.enabled = prev_enabled
                    if g._dtype is not dt:
                        _state.enabled = create_graph
                        g = g.to(dt) if dt.category >= g._dtype.category or dt.category >= 2 else g
                        _state.enabled = prev_enabled
                    buf = buffers.get(child)
                    if buf is None:
                        buf = buffers[child] = [None] * child.n_outputs
                    if buf[nr] is None:
                        buf[nr] = g
                    else:
                        _state.enabled = create_graph
                        buf[nr] = buf[nr] + g
                        _state.enabled = prev_enabled
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    # pushed even when no gradient arrived, so its own children get released
                    heapq.heappush(heap, (-child._seq, id(child), child))
    finally:
        _state.enabled = prev_enabled
    return results


def _accumulate(acc: AccumulateGrad, g: Any, create_graph: bool) -> None:
    var = acc.variable
    if var is None or g is None:
        return
    if var.grad is None:
        if create_graph:
            var.grad = g
        else:
            # a fresh array: the incoming gradient may be shared with other tensors
            var.grad = _tensor_cls()._make(g._data.copy(), g._dtype)
    elif create_graph or var.grad._requires_grad:
        var.grad = var.grad + g
    else:
        var.grad._data += g._data
        var.grad._version[0] += 1


def backward(tensors: Any, grad_tensors: Any = None, retain_graph: bool | None = None,
             create_graph: bool = False, grad_variables: Any = None, inputs: Any = None) -> None:
    """Accumulate gradients of `tensors` into the `.grad` of the graph's leaves."""
    Tensor = _tensor_cls()
    if isinstance(tensors, Tensor):
        tensors = [tensors]
        if grad_tensors is not None and isinstance(grad_tensors, Tensor):
            grad_tensors = [grad_tensors]
    tensors = list(tensors)
    if grad_tensors is not None and not isinstance(grad_tensors, (list, tuple)):
        grad_tensors = [grad_tensors]
    if retain_graph is None:
        retain_graph = create_graph
    roots = _make_roots(tensors, grad_tensors, "backward")
    only = None
    if inputs is not None:
        if isinstance(inputs, Tensor):
            inputs = [inputs]
        inputs = list(inputs)
        if not inputs:
            raise RuntimeError("'inputs' argument to backward() cannot be empty.")
        only = set()
        capture = {}
        for i, t in enumerate(inputs):
            if not t._requires_grad:
                raise RuntimeError("One of the differentiated Tensors does not require grad")
            node, nr = t._grad_edge()
            if type(node) is AccumulateGrad:
                only.add(node)
            else:
                capture[(node, nr)] = i
        if capture:
            res = run(roots, retain_graph, create_graph, capture=capture, accumulate=True, only_inputs=only)
            for (node, nr), i in capture.items():
                g = res[i]
                t = inputs[i]
                if g is not None:
                    t.grad = (g if create_graph else g.detach()) if t.grad is None else t.grad + g
            return
    run(roots, retain_graph, create_graph, only_inputs=only)


def grad(outputs: Any, inputs: Any, grad_outputs: Any = None, retain_graph: bool | None = None,
         create_graph: bool = False, only_inputs: bool = True, allow_unused: bool | None = None,
         is_grads_batched: bool = False, materialize_grads: bool = False) -> tuple:
    """Gradients of `outputs` with respect to `inputs`, returned instead of accumulated."""
    Tensor = _tensor_cls()
    single = isinstance(inputs, Tensor)
    if isinstance(outputs, Tensor):
        outputs = [outputs]
    if single:
        inputs = [inputs]
    inputs = list(inputs)
    if isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    if allow_unused is None:
        allow_unused = materialize_grads
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when materialize_grads=True, "
                         "but got: allow_unused=False.")
    if retain_graph is None:
        retain_graph = create_graph
    roots = _make_roots(list(outputs), grad_outputs, "grad")
    capture: dict = {}
    for i, t in enumerate(inputs):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad(): inputs must be Tensors, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError("One of the differentiated Tensors does not require grad")
        capture.setdefault(t._grad_edge(), i)
    slots = {}
    for i, t in enumerate(inputs):
        slots[i] = capture[t._grad_edge()]
    res = run(roots, retain_graph, create_graph, capture=capture, accumulate=False)
    out = []
    for i, t in enumerate(inputs):
        g = res[slots[i]]
        if g is None:
            if materialize_grads:
                from .._creation import zeros_like
                g = zeros_like(t)
            elif not allow_unused:
                raise RuntimeError("One of the differentiated Tensors appears to not have been used in the "
                                   "graph. Set allow_unused=True if this is the desired behavior.")
        elif not create_graph:
            g = g.detach()
        out.append(g)
    return tuple(out)
