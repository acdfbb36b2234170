"""The reverse-mode engine: dependency counting from the roots, then a ready queue.

Gradients arriving at a node are summed in its input buffer; the node runs once
all its dependants have delivered (PyTorch's scheme), newest node first. The walk
is iterative, so graphs of any depth backpropagate without recursion limits.
Broadcast gradients are reduced to each input's shape here (`sum_to`), on every
edge, so gradient rules never have to.
"""
from __future__ import annotations

import heapq
import threading
from typing import Any, Sequence

import numpy as np

from .._sums import fsum
from . import grad_mode
from .graph import AccumulateGrad, Node

_state = grad_mode.state
_anomaly = grad_mode.anomaly
_local = threading.local()  # .callbacks: one list per backward running in this thread, innermost last


def queue_callback(fn: Any) -> None:
    """Run `fn()` once the backward pass now running has finished (PyTorch's
    `Variable._execution_engine.queue_callback`): DDP waits for its all-reduces this way.
    Callbacks run in order, under the backward's grad mode, and may queue more."""
    stack = getattr(_local, "callbacks", None)
    if not stack:
        raise RuntimeError("Final callbacks can only be installed during backward pass.")
    stack[-1].append(fn)


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


def sum_to_size(self: Any, *size: Any) -> Any:
    """`Tensor.sum_to_size`: self summed down to `size`, which must expand to self's shape."""
    if len(size) == 1 and isinstance(size[0], (list, tuple)):
        size = size[0]
    size = tuple(int(s) for s in size)
    shape = self._data.shape
    if len(size) > len(shape) or any(s != 1 and s != n for s, n in zip(size[::-1], shape[::-1])):
        raise RuntimeError(f"size {{{list(size)}}} is not expandable to size {{{list(shape)}}}.")
    return sum_to(self, size)


def _make_roots(tensors: Sequence, grads: Sequence | None, fn_name: str) -> list:
    Tensor = _tensor_cls()
    from .._creation import ones_like
    from .._tensor import size_str
    if grads is None:
        grads = [None] * len(tensors)
    if len(grads) != len(tensors):
        raise RuntimeError(f"got {len(tensors)} tensors and {len(grads)} gradients")
    roots = []
    for i, (t, g) in enumerate(zip(tensors, grads)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{fn_name}: expected Tensor, got {type(t).__name__}")
        if not t._requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have a grad_fn")
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
                    f"Mismatch in shape: grad_output[{i}] has a shape of {size_str(g._data.shape)} and output[{i}] "
                    f"has a shape of {size_str(t._data.shape)}.")
            if g._dtype.category != t._dtype.category:
                raise RuntimeError(f"For complex Tensors, both grad_output and output are required to "
                                   f"have the same dtype. Mismatch in dtype: grad_output[{i}] has a dtype of "
                                   f"{g._dtype.name} and output[{i}] has a dtype of {t._dtype.name}.")
        roots.append((t._grad_edge(), g))
    return roots


def _sum_to_array(a: Any, shape: tuple) -> Any:
    """sum_to on a raw NumPy array (first-order path)."""
    ashape = a.shape
    lead = len(ashape) - len(shape)
    if lead < 0:
        return a.reshape(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, s in enumerate(shape) if s == 1 and ashape[i + lead] != 1)
    if axes:  # summed as the `sum` op sums (float16/bfloat16 in float32, long axes folded)
        dt = a.dtype
        low = dt.char in "eE"
        a = fsum(a, axes, True, np.float32 if low else None)
        if low:
            a = a.astype(dt)
    return a.reshape(shape) if a.shape != shape else a


def _wrap_grads(grads: Any) -> list:
    T = _tensor_cls()
    from .._dtype import _BY_NP
    return [T._make(g if type(g) is np.ndarray else np.asarray(g), _BY_NP[g.dtype]) if g is not None else None
            for g in grads]


def _unwrap_grads(grads: Any) -> list:
    return [g._data if g is not None else None for g in grads]


def run(roots: list, retain_graph: bool, create_graph: bool, capture: dict | None = None,
        accumulate: bool = True, only_inputs: set | None = None) -> list | None:
    """Execute the graph below `roots` [((node, nr), grad)].

    capture maps (node, nr) -> slot: the gradient flowing into that edge is stored in
    the returned list. With `accumulate=False` AccumulateGrad nodes do not run
    (autograd.grad). `only_inputs`: with backward(inputs=...), the AccumulateGrad nodes
    allowed to run.

    First-order mode (create_graph=False) passes raw NumPy arrays between nodes and
    calls a node's `fast(grad)` rule when it has one, else its Tensor rule with
    recording off. With create_graph=True every rule runs on Tensors and is recorded.
    """
    # raw arrays lose tangents: while a dual level is active the Tensor rules run, so that
    # gradients carry the tangents of their inputs (forward over reverse); inside vmap they run on
    # batched gradients through the ops' batching rules
    arrays = not create_graph and not grad_mode.fw_levels and not grad_mode.vmap_levels  # (vmap: batched grads)
    _tasks.append(accumulate and capture is None and only_inputs is None)
    try:
        return _run(roots, retain_graph, create_graph, capture, accumulate, only_inputs, arrays)
    finally:
        _tasks.pop()


# one entry per engine run in progress (runs nest when a node calls backward itself, as a
# reentrant checkpoint does): whether that run is a plain backward() accumulating into every leaf
_tasks: list = []


def _batched_backward(node: Node, grads: tuple) -> Any:
    """node.backward inside vmap. A rule written on raw arrays cannot take batched gradients: it is
    then run once per example (ndgrad.func's fallback loop, with a warning)."""
    from ..ops._core import VMAP, NoBatchingRule
    try:
        return node.backward(*grads)
    except NoBatchingRule:
        if not any(getattr(g, "_batched", False) for g in grads):
            raise

    def per_example(*gs: Any) -> Any:
        return node.backward(*gs)
    per_example.__name__ = type(node).__name__
    return VMAP["loop"](per_example, grads)


def _run(roots: list, retain_graph: bool, create_graph: bool, capture: dict | None, accumulate: bool,
         only_inputs: set | None, arrays: bool) -> list | None:
    _vmap_on = bool(grad_mode.vmap_levels)  # inside vmap: rules may get batched gradients
    # 1. dependency counting (iterative DFS over next_functions)
    # deps doubles as the visited set: every reached node has an entry
    stack = [edge[0] for edge, _ in roots if edge[0] is not None]
    deps: dict = dict.fromkeys(stack, 0)
    keep_order = capture is not None and not accumulate
    order = []
    while stack:
        node = stack.pop()
        if keep_order:
            order.append(node)
        for child, _ in node.next_functions:
            if child is None:
                continue
            d = deps.get(child)
            if d is None:
                deps[child] = 1
                stack.append(child)
            else:
                deps[child] = d + 1

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

    results = [None] * (max(capture.values()) + 1 if capture else 0)  # slots need not be dense
    buffers: dict = {}
    heap: list = []
    for (node, nr), g in roots:
        if node is None:
            continue
        if arrays:
            g = g._data
        buf = buffers.get(node)
        if buf is None:
            buf = buffers[node] = [None] * node.n_outputs
        buf[nr] = g if buf[nr] is None else buf[nr] + g
    for node in buffers:
        if deps.get(node, 0) == 0:
            heapq.heappush(heap, (-node._seq, id(node), node))

    prev_enabled = _state.enabled
    _state.enabled = create_graph
    push, pop = heapq.heappush, heapq.heappop
    hooks_or_capture = capture is not None
    stack = getattr(_local, "callbacks", None)
    if stack is None:
        stack = _local.callbacks = []
    callbacks: list = []
    stack.append(callbacks)
    try:
        while heap:
            node = pop(heap)[2]
            grads = buffers.pop(node, None)
            if arrays and grads is not None:  # rules on 0-d arrays may return NumPy scalars
                grads = [g if g is None or type(g) is np.ndarray else np.asarray(g) for g in grads]
            in_grads = ()
            if grads is not None and (needed is None or node in needed):
                if hooks_or_capture or node._pre_hooks or node._retain:
                    grads = _node_inputs(node, grads, arrays, create_graph, capture, results)
                if type(node) is AccumulateGrad:
                    if accumulate and (only_inputs is None or node in only_inputs):
                        _accumulate(node, grads[0], create_graph, arrays)
                        if node._post_acc or node._hooks:
                            node.run_post_hooks(grads, arrays)
                    continue
                if node.n_outputs == 1:
                    g0 = grads[0]
                    if g0 is not None:
                        fast = node.fast if arrays else None
                        if fast is not None:
                            in_grads = fast(g0)
                        elif arrays:
                            in_grads = _unwrap_grads(node.backward(_wrap_grads(grads)[0]))
                        else:
                            in_grads = node.backward(g0) if not _vmap_on else _batched_backward(node, (g0,))
                elif any(g is not None for g in grads):
                    fast = node.fast_many if arrays else None
                    if fast is not None:
                        in_grads = fast(*grads)
                    else:
                        in_grads = (_unwrap_grads(node.backward(*_wrap_grads(grads))) if arrays
                                    else node.backward(*grads) if not _vmap_on else _batched_backward(node, grads))
                if not retain_graph and node._saved:
                    node.release()
                if node._hooks and in_grads:
                    in_grads = _post_hooks(node, in_grads, grads, arrays)
                if _anomaly[0] and _anomaly[1] and in_grads:
                    grad_mode.check_nan(node, in_grads)
            meta = node._in_meta
            n_in = len(in_grads)
            i = -1
            for child, nr in node.next_functions:
                i += 1
                if child is None:
                    continue
                g = in_grads[i] if i < n_in else None
                if g is not None:
                    shape, dt = meta[i]
                    if arrays:
                        if g.shape != shape:
                            g = _sum_to_array(g, shape)
                        if g.dtype is not dt.np and g.dtype != dt.np:
                            g = (g.real if g.dtype.kind == "c" and dt.category < 3 else g).astype(dt.np)
                    else:
                        if g._data.shape != shape:
                            g = sum_to(g, shape)
                        if g._dtype is not dt:
                            g = g.real.to(dt) if g._dtype.category == 3 and dt.category < 3 else g.to(dt)
                    buf = buffers.get(child)
                    if buf is None:
                        if child.n_outputs == 1:
                            buffers[child] = [g]
                        else:
                            buf = buffers[child] = [None] * child.n_outputs
                            buf[nr] = g
                    elif buf[nr] is None:
                        buf[nr] = g
                    else:
                        buf[nr] = buf[nr] + g
                d = deps[child] - 1
                deps[child] = d
                if d == 0:
                    # pushed even when no gradient arrived, so its own children get released
                    push(heap, (-child._seq, id(child), child))
        i = 0
        while i < len(callbacks):  # a callback may queue another
            callbacks[i]()
            i += 1
    finally:
        stack.pop()
        _state.enabled = prev_enabled
    if arrays and capture is not None:
        results = [_wrap_grads([r])[0] if r is not None else None for r in results]
    return results


def _node_inputs(node: Node, grads: list, arrays: bool, create_graph: bool, capture: dict | None,
                 results: list) -> list:
    """Run tensor hooks, retain_grad and capture on the gradients arriving at `node`."""
    if node._pre_hooks:
        tg = _wrap_grads(grads) if arrays else grads
        for hook in list(node._pre_hooks.values()):
            tg = hook(tg)
        grads = _unwrap_grads(tg) if arrays else list(tg)
    if node._retain:
        for nr, ref in node._retain.items():
            t = ref()
            if t is not None and grads[nr] is not None:
                g = _wrap_grads([grads[nr].copy()])[0] if arrays else grads[nr]
                t.grad = g if t._grad is None else t._grad + g
    if capture is not None:
        for nr in range(node.n_outputs):
            slot = capture.get((node, nr))
            if slot is not None and grads[nr] is not None:
                results[slot] = grads[nr] if results[slot] is None else results[slot] + grads[nr]
    return grads


def _post_hooks(node: Node, in_grads: Any, grads: list, arrays: bool) -> Any:
    ti = _wrap_grads(in_grads) if arrays else list(in_grads)
    to = _wrap_grads(grads) if arrays else list(grads)
    for hook in list(node._hooks.values()):
        r = hook(tuple(ti), tuple(to))
        if r is not None:
            ti = list(r)
    return _unwrap_grads(ti) if arrays else ti


def _accumulate(acc: AccumulateGrad, g: Any, create_graph: bool, arrays: bool = False) -> None:
    var = acc.variable
    if var is None or g is None:
        return
    T = _tensor_cls()
    if arrays:
        if var.grad is None:
            # a fresh array: the incoming gradient may be shared with other tensors
            var.grad = T._make(np.array(g, dtype=var._dtype.np, copy=True), var._dtype)
        elif var.grad._requires_grad:
            var.grad = var.grad + T._make(g, var._dtype)
        else:
            var.grad._data += g
            var.grad._version[0] += 1
        return
    if var.grad is None:
        var.grad = g
    else:
        var.grad = var.grad + g


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
            for i in capture.values():
                g = res[i]
                t = inputs[i]
                if g is not None:
                    t.grad = (g if create_graph else g.detach()) if t._grad is None else t._grad + g
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
            if grad_mode.fw_levels:  # a gradient keeps its tangent (forward over reverse)
                from ..ops._core import detach_keep_tangents
                g = detach_keep_tangents(g)
            else:
                g = g.detach()
        out.append(g)
    return tuple(out)
