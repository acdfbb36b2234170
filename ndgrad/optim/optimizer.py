"""Optimizer: the base class holding parameter groups, per-parameter state and their state_dict.

Subclasses implement `step()`. Updates run directly on the NumPy arrays behind the
parameters (`p._data`) with in-place ufuncs, outside the autograd graph, and bump each
parameter's version counter as an in-place tensor op would.
"""
from __future__ import annotations

import copy
import functools
import warnings
from collections import OrderedDict, defaultdict
from itertools import chain
from typing import Any, Callable, Iterable, Iterator

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, _typename
from ..autograd import grad_mode

__all__ = ["Optimizer", "required", "register_optimizer_step_pre_hook", "register_optimizer_step_post_hook"]


class _RequiredParameter:
    """Singleton marking an option with no default (e.g. SGD's lr in old PyTorch)."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _hyper(v: Any) -> Any:
    """A hyperparameter as a number: a Python float, or for a Tensor (e.g. lr=tensor(0.01)) a NumPy scalar of its
    dtype, so the scalar arithmetic runs in that precision as PyTorch's 0-d tensor arithmetic does."""
    if isinstance(v, Tensor):
        return v._data.reshape(())[()]
    return float(v)


def _scalar_state(value: float = 0.0) -> Tensor:
    """A 0-d step counter, float32 (float64 when that is the default dtype), as PyTorch keeps it."""
    dt = D.float64 if D.get_default_dtype() is D.float64 else D.float32
    return Tensor._make(np.array(value, dtype=dt.np), dt)


def _zeros_like(p: Tensor) -> Tensor:
    return Tensor._make(np.zeros(p._data.shape, p._data.dtype), p._dtype)


class _Handle:
    """Removable handle for hooks (like torch.utils.hooks.RemovableHandle)."""

    _next = 0

    def __init__(self, store: OrderedDict) -> None:
        self._store = store
        self.id = _Handle._next
        _Handle._next += 1

    def remove(self) -> None:
        self._store.pop(self.id, None)

    def __enter__(self) -> "_Handle":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


_global_optimizer_pre_hooks: OrderedDict = OrderedDict()
_global_optimizer_post_hooks: OrderedDict = OrderedDict()


def register_optimizer_step_pre_hook(hook: Callable) -> _Handle:
    """Call `hook(optimizer, args, kwargs)` before the step of every optimizer; it may return new (args, kwargs)."""
    return Optimizer._register(_global_optimizer_pre_hooks, hook)


def register_optimizer_step_post_hook(hook: Callable) -> _Handle:
    """Call `hook(optimizer, args, kwargs)` after the step of every optimizer."""
    return Optimizer._register(_global_optimizer_post_hooks, hook)


def _with_step_hooks(func: Callable) -> Callable:
    """Wrap a `step` method so the global and per-optimizer step hooks run around it.

    As in PyTorch, hooks see `args` with the optimizer first, e.g. `(opt,)` for `opt.step()`."""
    if getattr(func, "_hooked", False):
        return func

    @functools.wraps(func)
    def step(self: "Optimizer", *args: Any, **kwargs: Any) -> Any:
        if self.__dict__.get("_in_hooked_step") or not (
                _global_optimizer_pre_hooks or _global_optimizer_post_hooks or self._optimizer_step_pre_hooks
                or self._optimizer_step_post_hooks):
            return func(self, *args, **kwargs)  # no hooks, or a subclass's step calling super().step()
        self.__dict__["_in_hooked_step"] = True
        try:
            return _run_hooked(func, self, (self, *args), kwargs)
        finally:
            del self.__dict__["_in_hooked_step"]

    step._hooked = True  # type: ignore[attr-defined]
    return step


def _run_hooked(func: Callable, self: "Optimizer", args: tuple, kwargs: dict) -> Any:
    for hook in [*_global_optimizer_pre_hooks.values(), *self._optimizer_step_pre_hooks.values()]:
        res = hook(self, args, kwargs)
        if res is not None:
            if isinstance(res, tuple) and len(res) == 2:
                args, kwargs = res
            else:
                raise RuntimeError(f"{func} must return None or a tuple of (new_args, new_kwargs), but got "
                                   f"{res}.")
    out = func(*args, **kwargs)
    for hook in [*self._optimizer_step_post_hooks.values(), *_global_optimizer_post_hooks.values()]:
        hook(self, args, kwargs)
    return out


_HOOK_STORES = ("_optimizer_step_pre_hooks", "_optimizer_step_post_hooks", "_optimizer_state_dict_pre_hooks",
                "_optimizer_state_dict_post_hooks", "_optimizer_load_state_dict_pre_hooks",
                "_optimizer_load_state_dict_post_hooks")


class Optimizer:
    """Base class of all optimizers: `params` is an iterable of Tensors or of dicts (parameter groups).

    A subclass implements `_update_group` (one group's update on raw arrays, run with grad off) or its own
    `step`; any `step` a subclass defines is wrapped so the step hooks run around it."""

    #: group options filled in when an older state_dict or pickle lacks them
    _setstate_defaults: dict[str, Any] = {}
    #: per-parameter state entries kept as 0-d tensors (a plain number loaded from old files is converted)
    _scalar_state_keys: tuple[str, ...] = ("step",)
    #: the error for a sparse gradient ({name}: the class name); None where the update rule takes them
    _sparse_message: str | None = "{name} does not support sparse gradients"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "step" in cls.__dict__:
            cls.step = _with_step_hooks(cls.__dict__["step"])

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any]) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_state_dict_post_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_load_state_dict_post_hooks: OrderedDict = OrderedDict()
        if isinstance(params, Tensor):
            raise TypeError("params argument given to the optimizer should be an iterable of Tensors or dicts, "
                            "but got " + _typename(params))
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict[str, Any]] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # -- pickling / repr -------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        for name in _HOOK_STORES:
            self.__dict__.setdefault(name, OrderedDict())
        self.defaults.setdefault("differentiable", False)
        for group in self.param_groups:
            for k, v in self._setstate_defaults.items():
                group.setdefault(k, v)
        for st in self.state.values():
            if isinstance(st, dict):
                for k in self._scalar_state_keys:
                    if k in st and not isinstance(st[k], Tensor):
                        st[k] = _scalar_state(float(st[k]))

    def __repr__(self) -> str:
        s = self.__class__.__name__ + " ("
        for i, group in enumerate(self.param_groups):
            s += f"\nParameter Group {i}\n"
            for key in sorted(group.keys()):
                if key != "params":
                    s += f"    {key}: {group[key]}\n"
        return s + ")"

    # -- groups ----------------------------------------------------------------
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters (a dict with "params" and optional per-group options)."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group)}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            param_group["params"] = [params]
        elif isinstance(params, set):
            raise TypeError("optimizer parameters need to be organized in ordered collections, but the ordering "
                            "of tensors in sets will change between runs. Please use a list instead.")
        else:
            param_group["params"] = list(params)

        tensors, names = [], []
        for p in param_group["params"]:
            if isinstance(p, tuple):
                names.append(p[0])
                tensors.append(p[1])
            else:
                tensors.append(p)
        param_group["params"] = tensors
        if names:
            if len(names) != len(tensors):
                raise ValueError("all optimizer params should be with/without names. Some param names are missing")
            param_group["param_names"] = names

        for p in tensors:
            if not isinstance(p, Tensor):
                raise TypeError("optimizer can only optimize Tensors, but one of the params is " + _typename(p))
            if not self.defaults.get("differentiable", None) and not (p.is_leaf or p.retains_grad):
                raise ValueError("can't optimize a non-leaf Tensor")

        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    f"parameter group didn't specify a value of required optimization parameter {name}")
            param_group.setdefault(name, default)

        ids = [id(p) for p in tensors]
        if len(ids) != len(set(ids)):
            warnings.warn("optimizer contains a parameter group with duplicate parameters; in future, this will "
                          "cause an error; see github.com/pytorch/pytorch/issues/40967 for more information",
                          stacklevel=3)
        seen: set[int] = set()
        for group in self.param_groups:
            seen.update(id(p) for p in group["params"])
            if ("param_names" in param_group) != ("param_names" in group):
                txt = "with names" if "param_names" in param_group else "without names"
                raise ValueError("all optimizer param groups should be with/without names. "
                                 f"cannot add param group {txt} to the optimizer")
        if not seen.isdisjoint(ids):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # -- gradients -------------------------------------------------------------
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of all optimized tensors (to None by default, else to zeros)."""
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad
                if g is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    if g.grad_fn is not None:
                        g.detach_()
                    else:
                        g._requires_grad = False
                    g._data[...] = 0
                    g._version[0] += 1

    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """Perform one optimization step; `closure` re-evaluates the model and returns the loss."""
        loss = self._eval_closure(closure)
        prev = grad_mode.state.enabled
        grad_mode.state.enabled = False
        try:
            for group in self.param_groups:
                self._update_group(group)
        finally:
            grad_mode.state.enabled = prev
        return loss

    def _eval_closure(self, closure: Callable[[], Any] | None) -> Any:
        if closure is None:
            return None
        with grad_mode.enable_grad():
            return closure()

    @staticmethod
    def _register(store: OrderedDict, hook: Callable, prepend: bool = False) -> _Handle:
        h = _Handle(store)
        store[h.id] = hook
        if prepend:
            store.move_to_end(h.id, last=False)
        return h

    def register_step_pre_hook(self, hook: Callable) -> _Handle:
        """Call `hook(optimizer, args, kwargs)` before each step; it may return new (args, kwargs)."""
        return self._register(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook: Callable) -> _Handle:
        """Call `hook(optimizer, args, kwargs)` after each step."""
        return self._register(self._optimizer_step_post_hooks, hook)

    def register_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """Call `hook(optimizer)` before state_dict() builds its result."""
        return self._register(self._optimizer_state_dict_pre_hooks, hook, prepend)

    def register_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """Call `hook(optimizer, state_dict)` after state_dict(); a returned dict replaces the result."""
        return self._register(self._optimizer_state_dict_post_hooks, hook, prepend)

    def register_load_state_dict_pre_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """Call `hook(optimizer, state_dict)` before loading; a returned dict is loaded instead."""
        return self._register(self._optimizer_load_state_dict_pre_hooks, hook, prepend)

    def register_load_state_dict_post_hook(self, hook: Callable, prepend: bool = False) -> _Handle:
        """Call `hook(optimizer)` after load_state_dict()."""
        return self._register(self._optimizer_load_state_dict_post_hooks, hook, prepend)

    def _update_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        """Fill a parameter's empty state before its first update (the keys in PyTorch's order)."""

    def _params_with_grad(self, group: dict[str, Any]) -> Iterator[tuple[Tensor, dict[str, Any], np.ndarray,
                                                                         np.ndarray]]:
        """(p, state, w, g) for each parameter of `group` that has a gradient: w and g are the raw arrays of the
        parameter and its gradient (complex ones as real views), the state is created by `_new_state` on first
        use and a tensor "step" in it is advanced. A sparse gradient raises `_sparse_message`, or where that is
        None comes as the sparse tensor itself (w is then the parameter's own array). A state left empty is not
        stored: an update that adds entries later writes them to `self.state[p]`."""
        for p in group["params"]:
            if p.grad is None:
                continue
            sparse = getattr(p.grad, "is_sparse", False)
            if sparse and self._sparse_message is not None:
                raise RuntimeError(self._sparse_message.format(name=type(self).__name__))
            state = self.state.get(p)
            if not state:
                state = {}
                self._new_state(p, group, state)
                if state:  # no empty entries: SGD without momentum keeps no state, as in PyTorch
                    self.state[p] = state
            step = state.get("step")
            if isinstance(step, Tensor):
                step._data += 1
                _bump(step)
            if sparse:
                yield p, state, p._data, p.grad
            else:
                yield p, state, _rv(p._data), _rv(_grad_array(p))

    step = _with_step_hooks(step)

    # -- scratch buffers ---------------------------------------------------------
    def _scratch(self, p: np.ndarray, k: int = 0) -> np.ndarray:
        """A reusable temporary with p's shape and dtype (k picks one of several), not part of the state."""
        store = self.__dict__.get("_scratch_store")
        if store is None:
            store = self.__dict__["_scratch_store"] = {}
        key = (p.dtype.str, k)
        buf = store.get(key)
        if buf is None or buf.size < p.size:
            buf = store[key] = np.empty(max(p.size, 1), p.dtype)
        return buf[:p.size].reshape(p.shape)

    # -- state dict --------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: per-parameter state}, 'param_groups': [group options with 'params': indices]}."""
        for pre in list(self._optimizer_state_dict_pre_hooks.values()):
            pre(self)
        mapping: dict[int, int] = {}
        start = 0

        def pack(group: dict[str, Any]) -> dict[str, Any]:
            nonlocal start
            packed = {k: v for k, v in group.items() if k != "params"}
            for i, p in enumerate(group["params"], start):
                if id(p) not in mapping:
                    mapping[id(p)] = i
            packed["params"] = [mapping[id(p)] for p in group["params"]]
            start += len(packed["params"])
            return packed

        groups = [pack(g) for g in self.param_groups]
        state = {(mapping[id(k)] if isinstance(k, Tensor) else k): v for k, v in self.state.items()}
        result = {"state": state, "param_groups": groups}
        for post in list(self._optimizer_state_dict_post_hooks.values()):
            res = post(self, result)
            if res is not None:
                result = res
        return result

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Load a state_dict from `state_dict()`, checking that its groups match this optimizer's."""
        state_dict = dict(state_dict)
        for pre in list(self._optimizer_load_state_dict_pre_hooks.values()):
            res = pre(self, state_dict)
            if res is not None:
                state_dict = res
        groups = self.param_groups
        saved_groups = copy.deepcopy(state_dict["param_groups"])
        if len(groups) != len(saved_groups):
            raise ValueError("loaded state dict has a different number of parameter groups")
        if any(len(g["params"]) != len(s["params"]) for g, s in zip(groups, saved_groups)):
            raise ValueError("loaded state dict contains a parameter group that doesn't match the size of "
                             "optimizer's group")
        id_map = dict(zip(chain.from_iterable(g["params"] for g in saved_groups),
                          chain.from_iterable(g["params"] for g in groups)))

        def cast(param: Tensor, value: Any, key: Any = None) -> Any:
            if isinstance(value, Tensor):
                if key == "step":
                    return Tensor._make(value._data.copy(), value._dtype)
                if param.is_floating_point() and value._dtype is not param._dtype:
                    return Tensor._make(value._data.astype(param._data.dtype), param._dtype)
                return Tensor._make(value._data.copy(), value._dtype)
            if isinstance(value, dict):
                return {k: cast(param, v, k) for k, v in value.items()}
            if isinstance(value, (list, tuple)):
                return type(value)(cast(param, v) for v in value)
            return value

        state: defaultdict = defaultdict(dict)
        for k, v in state_dict["state"].items():
            if k in id_map:
                param = id_map[k]
                state[param] = cast(param, v)
            else:
                state[k] = v

        def update_group(group: dict[str, Any], new_group: dict[str, Any]) -> dict[str, Any]:
            new_group["params"] = group["params"]
            if "param_names" in group and "param_names" not in new_group:
                new_group["param_names"] = group["param_names"]
            return new_group

        param_groups = [update_group(g, ng) for g, ng in zip(groups, saved_groups)]
        self.__setstate__({"state": state, "param_groups": param_groups})
        for post in list(self._optimizer_load_state_dict_post_hooks.values()):
            post(self)


# -- helpers shared by the update rules (all in place, on raw arrays) -------------------
def _sparse_parts(g: Tensor) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """A sparse COO gradient, coalesced: (index arrays for its sparse dims, values array)."""
    g = g.coalesce()
    return tuple(g._indices()._data), g._values()._data


def _add_sparse_(w: np.ndarray, s: Tensor, alpha: Any) -> None:
    """w += alpha * s for a sparse COO tensor s (repeated indices accumulate), as dense.add_(sparse, alpha)."""
    np.add.at(w, tuple(s._indices()._data), alpha * s._values()._data)


def _effective_grad(opt: Optimizer, w: np.ndarray, g: np.ndarray, weight_decay: float, maximize: bool,
                    k: int = 0) -> np.ndarray:
    """grad (negated if maximize) plus weight_decay * param; returns `g` itself when nothing changes."""
    if weight_decay == 0:
        if not maximize:
            return g
        s = opt._scratch(w, k)
        np.negative(g, out=s)
        return s
    s = opt._scratch(w, k)
    np.multiply(w, weight_decay, out=s)
    if maximize:
        np.subtract(s, g, out=s)
    else:
        np.add(s, g, out=s)
    return s


def _decayed_grad(opt: Optimizer, w: np.ndarray, g: np.ndarray, group: dict[str, Any], lr: Any) -> np.ndarray:
    """The gradient with the group's weight decay and maximize applied; with decoupled_weight_decay the decay
    shrinks the parameter instead (w *= 1 - lr * weight_decay, as AdamW)."""
    wd = group["weight_decay"]
    if wd != 0 and group.get("decoupled_weight_decay", False):
        w *= 1 - lr * wd
        wd = 0
    return _effective_grad(opt, w, g, wd, group["maximize"])


def _ema_sq_(v: np.ndarray, d: np.ndarray, beta: Any, tmp: np.ndarray) -> None:
    """v <- beta * v + (1 - beta) * d * d, in place (PyTorch's mul_ then addcmul_)."""
    v *= beta
    np.multiply(d, 1 - beta, out=tmp)
    tmp *= d
    v += tmp


def _lerp_(a: np.ndarray, b: np.ndarray, weight: float, tmp: np.ndarray) -> None:
    """a <- a + weight * (b - a), with PyTorch's two-sided formula for accuracy near weight=1."""
    if weight < 0.5:
        np.subtract(b, a, out=tmp)
        tmp *= weight
        a += tmp
    else:
        np.subtract(b, a, out=tmp)
        tmp *= weight - 1.0
        np.add(b, tmp, out=a)


def _rv(a: np.ndarray) -> np.ndarray:
    """Complex arrays as interleaved real views (as PyTorch's view_as_real), so updates act per component."""
    if a.dtype.kind == "c":
        if not a.flags.c_contiguous:
            raise RuntimeError("ndgrad optimizers need contiguous complex parameters")
        return a.view(a.real.dtype)
    return a


def _grad_array(p: Tensor) -> np.ndarray:
    g = p.grad._data
    if g.dtype != p._data.dtype:
        g = g.astype(p._data.dtype)
    return g


# -- constructor argument checks, with PyTorch's messages --------------------------------------
def _check_lr(lr: Any) -> None:
    if isinstance(lr, Tensor) and lr.numel() != 1:
        raise ValueError("Tensor lr must be 1-element")
    if not 0.0 <= lr:
        raise ValueError(f"Invalid learning rate: {lr}")


def _check_min(value: Any, what: str) -> None:
    """ValueError "Invalid <what>: <value>" when value < 0 (e.g. what="epsilon value")."""
    if not 0.0 <= value:
        raise ValueError(f"Invalid {what}: {value}")


def _check_betas(betas: Any) -> None:
    if not 0.0 <= betas[0] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 0: {betas[0]}")
    if not 0.0 <= betas[1] < 1.0:
        raise ValueError(f"Invalid beta parameter at index 1: {betas[1]}")


def _check_flags(differentiable: bool, foreach: Any = None, fused: Any = None) -> None:
    """foreach/fused/capturable only choose kernels in PyTorch: ndgrad accepts them and runs its one kernel."""
    if fused:
        if differentiable:
            raise RuntimeError("`fused` does not support `differentiable`")
        if foreach:
            raise RuntimeError("`fused` and `foreach` cannot be `True` together.")
    if differentiable:
        raise NotImplementedError("ndgrad optimizers do not support differentiable=True (a step recorded in the "
                                  "autograd graph); use the default differentiable=False")


def _bump(*tensors: Tensor) -> None:
    """Record an in-place change on each tensor (its version counter), as PyTorch's in-place ops do."""
    for t in tensors:
        t._version[0] += 1
