"""Graph nodes: every recorded op leaves a Node (a tensor's `grad_fn`) that knows its
inputs' nodes (`next_functions`) and how to turn the gradient of its output into
gradients of its inputs.

A Node never holds its own output Tensor (that would make a reference cycle
output -> grad_fn -> output): an output needed by a gradient rule is saved as its
raw array and rebuilt as a Tensor pointing back at the node only while the rule
runs, as PyTorch's SavedVariable does.
"""
from __future__ import annotations

import itertools
import weakref
from typing import Any, Callable

from .._dtype import tensor_type_name

_seq = itertools.count()
_NOVER = (0,)
_tensor_cls: Any = None  # set by ndgrad._tensor (avoids an import cycle)

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors "
          "after they have already been freed). Saved intermediate values of the graph are freed "
          "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
          "backward through the graph a second time or if you need to access saved tensors after "
          "calling backward.")


class SavedOutput:
    """Marks the op's own output among saved values: kept as array + version, not as Tensor."""

    __slots__ = ("data", "version", "ver", "dtype", "nr", "fw")

    def __init__(self, out: Any, nr: int = 0) -> None:
        self.data = out._data
        self.dtype = out._dtype
        self.version = out._version
        self.ver = out._version[0]
        self.nr = nr  # which output of the node it is
        self.fw = None  # the output's tangents (forward-mode AD), set once they are computed


class Node:
    """One recorded operation. Subclasses implement `backward(grad)` returning one
    gradient (or None) per entry of `next_functions`."""

    __slots__ = ("next_functions", "_in_meta", "_saved", "_saved_ver", "_seq", "_pre_hooks",
                 "_hooks", "_retain", "__weakref__", "__dict__")
    n_outputs = 1
    # Optional first-order rule on raw NumPy arrays: `fast(grad_array) -> tuple of arrays`.
    # The engine uses it when no graph of the gradient is wanted; `backward` (on Tensors,
    # differentiable) stays the reference and serves create_graph=True.
    fast = None
    # The same for a node with several outputs: `fast_many(*grad_arrays)` (None for an output without one).
    fast_many = None

    def __init__(self) -> None:
        self._seq = next(_seq)
        self._pre_hooks = None
        self._hooks = None
        self._retain = None
        self._saved = ()
        self._saved_ver = ()

    # -- saved values -------------------------------------------------------
    def save(self, *values: Any) -> None:
        """Save values for the gradient rule: Tensors (with their versions), SavedOutputs, or plain values."""
        self._saved = values
        vers = []
        for v in values:
            if type(v) is SavedOutput:
                vers.append(v.ver)
            else:
                vv = getattr(v, "_version", None)
                vers.append(vv[0] if vv is not None else 0)
        self._saved_ver = vers

    def saved(self) -> tuple:
        """The saved values, Tensors checked against in-place modification since saving."""
        saved = self._saved
        if type(saved) is not tuple:
            if saved is None:
                raise RuntimeError(_FREED)
            saved = saved.unpack(self)  # dropped by a checkpoint: recomputed on first use
        out = []
        for v, ver in zip(saved, self._saved_ver):
            if type(v) is SavedOutput:
                now = v.version[0]
                if now != ver:
                    _raise_modified(self, v.data.shape, v.dtype, now, ver, output=True)
                t = _tensor_cls._make(v.data, v.dtype, True)
                t.grad_fn = self
                t._output_nr = v.nr
                t._version = v.version
                if v.fw:
                    t._fw = dict(v.fw)
                out.append(t)
            else:
                vv = getattr(v, "_version", None)
                if vv is not None and vv[0] != ver:
                    _raise_modified(self, v._data.shape, v._dtype, vv[0], ver, output=False)
                out.append(v)
        return tuple(out)

    def release(self) -> None:
        if self._saved:
            self._saved = None

    # -- PyTorch's introspection API ----------------------------------------
    def name(self) -> str:
        return type(self).__name__

    @property
    def metadata(self) -> dict:
        """A dict for the user's own annotations of this node (made on first use)."""
        d = self.__dict__.get("_user_metadata")
        if d is None:
            d = self.__dict__["_user_metadata"] = {}
        return d

    def needs_input_grad(self, i: int) -> bool:
        return self.next_functions[i][0] is not None

    def register_hook(self, fn: Callable) -> "_RemovableHandle":
        if self._hooks is None:
            self._hooks = {}
        h = _RemovableHandle(self._hooks)
        self._hooks[h.id] = fn
        return h

    def register_prehook(self, fn: Callable) -> "_RemovableHandle":
        return self._add_pre_hook(lambda grads: _wrap_prehook(fn, grads))

    def _add_pre_hook(self, fn: Callable) -> "_RemovableHandle":
        if self._pre_hooks is None:
            self._pre_hooks = {}
        h = _RemovableHandle(self._pre_hooks)
        self._pre_hooks[h.id] = fn
        return h

    def backward(self, grad: Any) -> tuple:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, *grads: Any) -> Any:
        return self.backward(*grads)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} object at {hex(id(self))}>"


def _by_np(a: Any) -> Any:
    from .._dtype import _BY_NP
    return _BY_NP[a.dtype]


def _wrap_prehook(fn: Callable, grads: list) -> list:
    res = fn(tuple(grads))
    return list(res) if res is not None else grads


def _raise_modified(node: Node, shape: tuple, dtype: Any, now: int, ver: int, output: bool) -> None:
    dims = ", ".join(str(s) for s in shape)
    where = f", which is output 0 of {node.name()}," if output else ""
    raise RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [ndgrad.{tensor_type_name(dtype)} [{dims}]]{where} is at version {now}; "
        f"expected version {ver} instead. Hint: the backtrace further above shows the operation "
        "that failed to compute its gradient.")


class _RemovableHandle:
    _ids = itertools.count()

    def __init__(self, table: dict) -> None:
        self.id = next(self._ids)
        self._table = table

    def remove(self) -> None:
        self._table.pop(self.id, None)

    def __enter__(self) -> "_RemovableHandle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


def move_retain(t: Any, old_fn: Any) -> None:
    """After an in-place op gave `t` a new grad_fn, its retain_grad() follows it: as in
    PyTorch, `.grad` then holds the gradient of the tensor's current value."""
    if not t._retains_grad or t.grad_fn is old_fn:
        return
    r = getattr(old_fn, "_retain", None)
    if r:
        for nr, ref in list(r.items()):
            if ref() is t:
                del r[nr]
    node = t.grad_fn
    if node._retain is None:
        node._retain = {}
    node._retain[t._output_nr] = weakref.ref(t)


def refresh_view(view: Any) -> None:
    """Give a differentiable view a grad_fn over its base's current graph.

    A view records its grad_fn when made. If its base (or another view of it) is
    then modified in place, that grad_fn describes stale values; as PyTorch does,
    the view's gradient is rerouted through the base's current grad_fn. Views
    carry the version they were made at in `_extra` (None for non-views and for
    `detach()`, which is not a differentiable view).
    """
    view._extra = view._version[0]
    base = view._base
    if base is None or not base._requires_grad or view._dtype.category < 2:
        return
    if base.grad_fn is None and view.grad_fn is not None:
        return  # a leaf's graph never changes: the recorded view op is still right
    from ..ops.inplace import AsStridedBackward0, _view_positions
    from ..ops._core import record_graph
    node = AsStridedBackward0()
    node.positions, node.base_shape = _view_positions(base._data, view._data), base._data.shape
    record_graph(node, view, (base,))
    view._output_nr = 0


class AccumulateGrad(Node):
    """The sink of a leaf tensor: adds incoming gradients into `variable.grad`."""

    __slots__ = ("_var", "_post_acc")

    def __init__(self, var: Any) -> None:
        Node.__init__(self)
        self._var = weakref.ref(var)
        self._post_acc = None  # the variable's post-accumulate-grad hooks (id -> hook(tensor))
        self.next_functions = ()
        self._in_meta = ()

    def register_post_accumulate_hook(self, fn: Callable) -> "_RemovableHandle":
        """Call `fn(variable)` each time a gradient has been accumulated into `variable.grad`."""
        if self._post_acc is None:
            self._post_acc = {}
        h = _RemovableHandle(self._post_acc)
        self._post_acc[h.id] = fn
        return h

    def run_post_hooks(self, grads: list, arrays: bool) -> None:
        """After accumulation, in PyTorch's order: the variable's post-accumulate-grad hooks, then the
        node's own hooks (called with grad_inputs=(), grad_outputs=(grad,))."""
        var = self._var()
        if self._post_acc and var is not None:
            for hook in list(self._post_acc.values()):
                if hook(var) is not None:
                    raise RuntimeError("Tensor post accumulate grad hooks should return None.")
        if self._hooks:
            go = tuple(_tensor_cls._make(g, _by_np(g)) if arrays and g is not None else g for g in grads)
            for hook in list(self._hooks.values()):
                hook((), go)

    @property
    def variable(self) -> Any:
        return self._var()

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"  # PyTorch's name() for its C++ node


class GraphRoot(Node):
    """Placeholder for tensors passed to backward that are their own leaves."""
    __slots__ = ()


# ---------------------------------------------------------------------------
# PyTorch's node names for composite ops
# ---------------------------------------------------------------------------
_RENAMED: dict = {}


def rename_grad_fn(t: Any, name: str) -> None:
    """Give `t.grad_fn` PyTorch's class name: a composite op ends in the node of its last
    step (a SqueezeBackward0 for `max(dim)`), while users print grad_fn and expect
    PyTorch's. The node is swapped to a same-layout subclass; its rule is unchanged."""
    fn = getattr(t, "grad_fn", None)
    if fn is None or type(fn).__name__ == name:
        return
    key = (type(fn), name)
    cls = _RENAMED.get(key)
    if cls is None:
        cls = _RENAMED[key] = type(name, (type(fn),), {"__slots__": ()})
    fn.__class__ = cls
