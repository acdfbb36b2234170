"""grad, grad_and_value, vjp, jvp, linearize, jacrev, jacfwd, hessian: function transforms built on
the reverse-mode engine and on dual numbers (autograd.forward_ad), so they compose with each other,
with vmap and with ordinary autograd.

A reverse transform differentiates with respect to fresh aliases of its inputs: a view of an input
that already requires grad (an outer transform, or the caller's own graph, keeps seeing through
it), or a detached copy made to require grad. The gradient graph is recorded (create_graph) only
when something outside the transform can still differentiate it: an outer grad, or leaves of the
caller's graph that the function closed over; otherwise the engine runs its first-order path.
"""
from __future__ import annotations

import functools
from typing import Any, Callable

from .. import _creation as C
from .._tensor import Tensor
from ..autograd import forward_ad as fwad
from ..autograd import grad_mode
from ..autograd.engine import grad as autograd_grad
from ..autograd.graph import AccumulateGrad
from ..ops._core import detach_keep_tangents, tangent_at
from . import _vmap
from ._tree import tree_flatten, tree_map, tree_unflatten


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _check_tensor(t: Any) -> Tensor:
    if not isinstance(t, Tensor):
        raise ValueError(f"Thing passed to transform API must be Tensor, got {type(t)}")
    return t


def diff_input(t: Any) -> Tensor:
    """An alias of `t` to differentiate with respect to (the caller's tensor is left as it is)."""
    _check_tensor(t)
    if t._dtype.category < 2:
        raise RuntimeError("only Tensors of floating point dtype can require gradients")
    if t.requires_grad:
        return t.view_as(t)
    return detach_keep_tangents(t).requires_grad_()  # (keeping the tangents: forward over reverse)


def _diff_all(sel: Any, others: tuple) -> Any:
    """Aliases of every input in `sel` (a structure), to differentiate with respect to; inside vmap
    each one is given every batch level of the call's arguments first."""
    flat, spec = tree_flatten(sel)
    if _vmap.is_active() or _vmap.levels_of(*flat, *tree_flatten(others)[0]):
        r = _vmap.diff_inputs(flat, tree_flatten(others)[0])
        if r is not None:
            return tree_unflatten(r, spec)
    return tree_unflatten([diff_input(t) for t in flat], spec)


def _grad(outs: list, ins: list, cts: list, retain_graph: bool | None, create_graph: bool) -> list:
    """autograd.grad of outs (with cotangents cts) with respect to ins; through vmap's bridge when
    any of them is batched."""
    if _vmap.levels_of(*outs, *ins, *cts):
        return _vmap.batched_grad(outs, ins, cts, True if retain_graph is None else retain_graph, create_graph)
    return list(autograd_grad(outs, ins, cts, retain_graph=retain_graph, create_graph=create_graph,
                              allow_unused=True))


def _needs_graph(outs: list, own: list) -> bool:
    """Whether the gradient must be recorded: grad mode is on outside and the outputs' graph reaches
    a leaf or a node that is not one of this transform's own fresh leaves."""
    if not grad_mode.state.enabled:
        return False
    outs = [_vmap.graph_tensor(o) for o in outs]
    own = [_vmap.graph_tensor(x) for x in own]
    mine = {id(x) for x in own if x.grad_fn is None}
    seen: set = set()
    stack = [o.grad_fn for o in outs if isinstance(o, Tensor) and o.grad_fn is not None]
    stack += [x.grad_fn for x in own if x.grad_fn is not None]  # aliases of tensors requiring grad outside
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        if type(node) is AccumulateGrad:
            var = node.variable
            if var is not None and id(var) not in mine:
                return True
            continue
        stack.extend(child for child, _ in node.next_functions if child is not None)
    return False


def _value(t: Any, keep: bool) -> Any:
    """An output handed back by a transform: as it is when a graph outside wants it, else detached
    (keeping its tangents)."""
    if not isinstance(t, Tensor) or keep or not _vmap.graph_tensor(t).requires_grad:
        return t
    return detach_keep_tangents(t)


def _argnums(argnums: Any, n: int) -> tuple:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int):
            raise RuntimeError(f"argnums must be int or Tuple[int, ...], got: {type(argnums)}")
        if not -n <= a < n:
            raise RuntimeError(f"Got argnum={a}, but only {n} positional inputs")
    norm = tuple(a % n for a in nums)
    if len(set(norm)) != len(norm):
        raise RuntimeError(f"argnums elements must be unique, got {argnums}")
    return norm


def _select(args: tuple, argnums: Any) -> tuple:
    nums = _argnums(argnums, len(args))
    return nums, (args[nums[0]] if isinstance(argnums, int) else tuple(args[i] for i in nums))


def _replace(args: tuple, argnums: Any, new: Any) -> list:
    nums = argnums if isinstance(argnums, tuple) else (argnums,)
    out = list(args)
    vals = new if isinstance(argnums, tuple) else (new,)
    for i, v in zip(nums, vals):
        out[i % len(args)] = v
    return out


def _zeros_for(g: Any, x: Tensor) -> Tensor:
    return g if g is not None else C.zeros_like(x)


def _split_aux(out: Any, has_aux: bool, who: str) -> tuple:
    if not has_aux:
        return out, None
    if not (isinstance(out, tuple) and len(out) == 2):
        raise RuntimeError(f"{who}: output of function f should be a tuple: (output, aux) if has_aux is True")
    return out


# ---------------------------------------------------------------------------
# reverse mode
# ---------------------------------------------------------------------------
def grad_and_value(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """A function returning (gradient of `func` with respect to the inputs at argnums, value);
    with has_aux, func returns (output, aux) and the value is (output, aux)."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        who = "grad_and_value(f)(*args)"
        nums, sel = _select(args, argnums)
        others = tuple(a for i, a in enumerate(args) if i not in nums) + tuple(kwargs.values())
        with grad_mode.enable_grad():
            diff = _diff_all(sel, others)
            flat, spec = tree_flatten(diff)
            out, aux = _split_aux(func(*_replace(args, argnums, diff), **kwargs), has_aux, who)
            if not isinstance(out, Tensor):
                raise RuntimeError(f"{who}: Expected f(*args) to return a Tensor, got {type(out)}")
            if not set(_vmap.levels_of(out)) <= set(_vmap.levels_of(*flat)):
                # batched through a tensor the function closed over: again, with the inputs batched too
                diff = _diff_all(sel, others + (out,))
                flat, spec = tree_flatten(diff)
                out, aux = _split_aux(func(*_replace(args, argnums, diff), **kwargs), has_aux, who)
            if out.dim() != 0:
                raise RuntimeError(f"{who}: Expected f(*args) to return a scalar Tensor, got tensor with "
                                   f"{out.dim()} dims. Maybe you wanted to use the vjp or jacrev APIs instead?")
            keep = _needs_graph([out], flat)
            if _vmap.graph_tensor(out).requires_grad:
                gs = _grad([out], flat, [C.ones_like(out)], None, keep)
            else:
                gs = [None] * len(flat)
        grads = tree_unflatten([_zeros_for(g, x) for g, x in zip(gs, flat)], spec)
        value = _value(out, keep)
        if has_aux:
            return grads, (value, tree_map(lambda a: _value(a, keep), aux))
        return grads, value
    return wrapper


def grad(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """A function computing the gradient of scalar-valued `func` with respect to its inputs at argnums
    (a structure like those inputs); with has_aux, (gradient, aux)."""
    gv = grad_and_value(func, argnums, has_aux)

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = gv(*args, **kwargs)
        return (g, value[1]) if has_aux else g
    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn[, aux]): vjp_fn(cotangents) gives the cotangents' vector-Jacobian
    products with respect to every primal, as a tuple shaped like primals."""
    with grad_mode.enable_grad():
        diff = _diff_all(primals, ())
        flat, spec = tree_flatten(diff)
        out, aux = _split_aux(func(*diff), has_aux, "vjp(f, *primals)")
        out_flat, out_spec = tree_flatten(out)
        for o in out_flat:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"vjp(f, *primals): Expected f to be a function that returns Tensors, got "
                                   f"{type(o)}")
        if not set(_vmap.levels_of(*out_flat)) <= set(_vmap.levels_of(*flat)):
            diff = _diff_all(primals, tuple(out_flat))  # batched through a closure: inputs batched too
            flat, spec = tree_flatten(diff)
            out, aux = _split_aux(func(*diff), has_aux, "vjp(f, *primals)")
            out_flat, out_spec = tree_flatten(out)
    keep = _needs_graph(out_flat, flat)

    def vjp_fn(cotangents: Any, retain_graph: bool = True, create_graph: bool | None = None) -> tuple:
        ct_flat, ct_spec = tree_flatten(cotangents)
        if ct_spec != out_spec:
            raise RuntimeError("Expected pytree structure of cotangents to be the same as pytree structure of "
                               f"outputs to the function. cotangents: {ct_spec}, primal output: {out_spec}")
        pairs = [(o, c) for o, c in zip(out_flat, ct_flat) if _vmap.graph_tensor(o).requires_grad]
        gs: Any = [None] * len(flat)
        if pairs:
            gs = _grad([o for o, _ in pairs], flat, [c for _, c in pairs], retain_graph,
                       keep if create_graph is None else create_graph)
        return tuple(tree_unflatten([_zeros_for(g, x) for g, x in zip(gs, flat)], spec))

    value = tree_map(lambda t: _value(t, keep), out)
    if has_aux:
        return value, vjp_fn, tree_map(lambda t: _value(t, keep), aux)
    return value, vjp_fn


# ---------------------------------------------------------------------------
# forward mode
# ---------------------------------------------------------------------------
def jvp(func: Callable, primals: Any, tangents: Any, *, strict: bool = False, has_aux: bool = False) -> tuple:
    """(func(*primals), J v): the Jacobian-vector product with the tangents, in one forward pass."""
    who = "jvp(f, primals, tangents)"
    if not isinstance(primals, tuple):
        raise RuntimeError(f"{who}: Expected primals to be a tuple. E.g. it should be valid to call f(*primals).")
    if not isinstance(tangents, tuple):
        raise RuntimeError(f"{who}: Expected tangents to be a tuple. E.g. it should be valid to call "
                           "f(*primals) with the same structure as tangents.")
    p_flat, p_spec = tree_flatten(primals)
    t_flat, t_spec = tree_flatten(tangents)
    if p_spec != t_spec:
        raise RuntimeError(f"{who}: Expected primals and tangents to have the same python structure. For example, "
                           "if primals is a tuple of 3 tensors, tangents also must be. Got primals with structure "
                           f"{p_spec} and tangents with structure {t_spec}")
    for p in p_flat + t_flat:
        _check_tensor(p)
    lv = fwad._enter()
    try:
        duals = [fwad._make_dual(p, t, lv) for p, t in zip(p_flat, t_flat)]
        out, aux = _split_aux(func(*tree_unflatten(duals, p_spec)), has_aux, who)
        o_flat, o_spec = tree_flatten(out)
        for o in o_flat:
            if not isinstance(o, Tensor):
                raise RuntimeError(f"{who}: expected f(*primals) to return only tensors, got unsupported type "
                                   f"{type(o)}")
        tans = []
        for o in o_flat:
            t = tangent_at(o, lv)
            tans.append(t if t is not None else C.zeros_like(o))
        prims = [fwad._unpack(o, lv).primal for o in o_flat]
    finally:
        fwad._exit(lv)
    res = (tree_unflatten(prims, o_spec), tree_unflatten(tans, o_spec))
    return res + (aux,) if has_aux else res


def linearize(func: Callable, *primals: Any) -> tuple:
    """(func(*primals), jvp_fn): jvp_fn(*tangents) is the Jacobian-vector product at primals
    (computed by a forward pass with dual numbers each call)."""
    out = func(*primals)

    def jvp_fn(*tangents: Any) -> Any:
        return jvp(func, primals, tangents)[1]
    return out, jvp_fn


# ---------------------------------------------------------------------------
# Jacobians and Hessians
# ---------------------------------------------------------------------------
def _basis_cuts(leaves: list, sizes: list) -> list:
    """The rows of the identity of size sum(sizes), cut into one batch per leaf, each row shaped like
    that leaf: the cotangents (jacrev) or tangents (jacfwd) that pick out one Jacobian row/column."""
    total = sum(sizes)
    eye = C.eye(total, dtype=leaves[0].dtype) if total else None
    out, start = [], 0
    for t, n in zip(leaves, sizes):
        out.append(eye[:, start:start + n].reshape((total,) + tuple(t.shape)) if total else
                   C.zeros((0,) + tuple(t.shape), dtype=t.dtype))
        start += n
    return out


def _batched(fn: Callable, batch: list, chunk_size: int | None, randomness: str = "error") -> list:
    """fn applied to each row of the stacked inputs, results stacked: vmap (in chunks)."""
    from ._vmap import vmap
    return list(vmap(fn, chunk_size=chunk_size, randomness=randomness)(*batch))


def jacrev(func: Callable, argnums: Any = 0, *, has_aux: bool = False, chunk_size: int | None = None,
           _preallocate_and_copy: bool = False) -> Callable:
    """A function computing the Jacobian of `func` with respect to the inputs at argnums, by reverse
    mode: one VJP per output element, batched with vmap (chunk_size rows at a time)."""
    if chunk_size is not None and chunk_size <= 0:
        raise ValueError("jacrev: `chunk_size` should be greater than 0.")

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums, sel = _select(args, argnums)
        sel_t = sel if isinstance(argnums, tuple) else (sel,)

        def f(*xs: Any) -> Any:
            return func(*_replace(args, argnums, xs if isinstance(argnums, tuple) else xs[0]), **kwargs)
        res = vjp(f, *sel_t, has_aux=has_aux)
        out, vjp_fn = res[0], res[1]
        o_flat, o_spec = tree_flatten(out)
        in_flat, in_spec = tree_flatten(sel_t)
        sizes = [o.numel() for o in o_flat]
        total = sum(sizes)
        cts = _basis_cuts(o_flat, sizes)  # the rows of the identity, one batch of cotangents per output
        rows = _batched(lambda *c: tree_flatten(vjp_fn(tree_unflatten(list(c), o_spec)))[0], cts, chunk_size) \
            if total else [C.zeros((0,) + tuple(x.shape), dtype=x.dtype) for x in in_flat]
        jac_leaves = []
        start = 0
        for o, n in zip(o_flat, sizes):
            per_in = [r[start:start + n].reshape(tuple(o.shape) + tuple(x.shape)) for r, x in zip(rows, in_flat)]
            tree = tree_unflatten(per_in, in_spec)
            jac_leaves.append(tree if isinstance(argnums, tuple) else tree[0])
            start += n
        jac = tree_unflatten(jac_leaves, o_spec)
        return (jac, res[2]) if has_aux else jac
    return wrapper


def jacfwd(func: Callable, argnums: Any = 0, has_aux: bool = False, *, randomness: str = "error") -> Callable:
    """A function computing the Jacobian of `func` with respect to the inputs at argnums, by forward
    mode: one JVP per input element, batched with vmap."""
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums, sel = _select(args, argnums)
        sel_t = sel if isinstance(argnums, tuple) else (sel,)
        in_flat, in_spec = tree_flatten(sel_t)
        for x in in_flat:
            _check_tensor(x)

        def f(*xs: Any) -> Any:
            return func(*_replace(args, argnums, xs if isinstance(argnums, tuple) else xs[0]), **kwargs)
        sizes = [x.numel() for x in in_flat]
        total = sum(sizes)
        tans = _basis_cuts(in_flat, sizes)  # the rows of the identity, one batch of tangents per input
        spec_box: list = []

        def push(*ts: Any) -> Any:
            o_flat, o_spec = tree_flatten(jvp(f, sel_t, tree_unflatten(list(ts), in_spec), has_aux=has_aux)[1])
            spec_box.append(o_spec)
            return tuple(o_flat)
        cols = _batched(push, tans, None, randomness) if total else None
        if cols is None:  # no input elements: empty Jacobians
            out = f(*sel_t)
            o_flat, o_spec = tree_flatten(out[0] if has_aux else out)
            cols = [C.zeros((0,) + tuple(o.shape), dtype=o.dtype) for o in o_flat]
        else:
            o_spec = spec_box[0]
        aux = _split_aux(f(*sel_t), True, "jacfwd(f, ...)(*args)")[1] if has_aux else None
        jac_leaves = []
        for col in cols:
            per_in, start = [], 0
            oshape = tuple(col.shape[1:])
            for x, n in zip(in_flat, sizes):
                block = col[start:start + n]  # (n, *out) -> (*out, *x)
                nd = len(oshape)
                per_in.append(block.permute(tuple(range(1, nd + 1)) + (0,)).reshape(oshape + tuple(x.shape)))
                start += n
            tree = tree_unflatten(per_in, in_spec)
            jac_leaves.append(tree if isinstance(argnums, tuple) else tree[0])
        jac = tree_unflatten(jac_leaves, o_spec)
        return (jac, aux) if has_aux else jac
    return wrapper


def hessian(func: Callable, argnums: Any = 0) -> Callable:
    """The Hessian of scalar `func` with respect to the inputs at argnums: jacfwd of jacrev
    (forward over reverse)."""
    return jacfwd(jacrev(func, argnums), argnums)
