"""Nested Python structures of tensors (tuples, lists, dicts, named tuples): flatten to a list of
leaves and rebuild, as the function transforms take and return them."""
from __future__ import annotations

from typing import Any, Callable


class TreeSpec:
    """How to rebuild a structure from its leaves: a node type, its context and its children."""

    __slots__ = ("kind", "ctx", "children", "n")

    def __init__(self, kind: Any, ctx: Any, children: list) -> None:
        self.kind, self.ctx, self.children = kind, ctx, children
        self.n = 1 if kind is None else sum(c.n for c in children)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, TreeSpec) and self.kind == other.kind and self.ctx == other.ctx
                and self.children == other.children)

    def __repr__(self) -> str:
        if self.kind is None:
            return "*"
        name = getattr(self.kind, "__name__", str(self.kind))
        return f"TreeSpec({name}, {self.ctx}, [{', '.join(map(repr, self.children))}])"


LEAF = TreeSpec(None, None, [])


def _is_namedtuple(x: Any) -> bool:
    return isinstance(x, tuple) and hasattr(x, "_fields")


def tree_flatten(x: Any) -> tuple[list, TreeSpec]:
    """(leaves, spec): every non-container value is a leaf (None included)."""
    leaves: list = []
    return leaves, _flatten(x, leaves)


def _flatten(x: Any, leaves: list) -> TreeSpec:
    if _is_namedtuple(x):
        return TreeSpec(type(x), None, [_flatten(v, leaves) for v in x])
    if type(x) in (tuple, list):
        return TreeSpec(type(x), None, [_flatten(v, leaves) for v in x])
    if isinstance(x, dict):
        keys = list(x)
        return TreeSpec(type(x), keys, [_flatten(x[k], leaves) for k in keys])
    leaves.append(x)
    return LEAF


def tree_unflatten(leaves: Any, spec: TreeSpec) -> Any:
    it = iter(leaves)
    return _unflatten(it, spec)


def _unflatten(it: Any, spec: TreeSpec) -> Any:
    if spec.kind is None:
        return next(it)
    vals = [_unflatten(it, c) for c in spec.children]
    if spec.ctx is not None:
        return spec.kind(zip(spec.ctx, vals))
    if spec.kind in (tuple, list):
        return spec.kind(vals)
    return spec.kind(*vals)  # a named tuple


def tree_map(fn: Callable, x: Any) -> Any:
    leaves, spec = tree_flatten(x)
    return tree_unflatten([fn(v) for v in leaves], spec)


def broadcast_prefix(prefix: Any, tree: Any, what: str) -> list | None:
    """The leaves of `prefix` repeated over the subtrees of `tree` it stands for (in_dims=0 for a
    tuple of inputs, (0, None) for two of them, ...); None when the structures do not match."""
    out: list = []

    def walk(p: Any, t: Any) -> bool:
        if not isinstance(p, (tuple, list, dict)) or _is_namedtuple(p) and not _is_namedtuple(t):
            out.extend([p] * len(tree_flatten(t)[0]))
            return True
        if isinstance(p, dict):
            if not isinstance(t, dict) or set(p) != set(t):
                return False
            return all(walk(p[k], t[k]) for k in t)
        if not isinstance(t, (tuple, list)) or len(p) != len(t):
            return False
        return all(walk(a, b) for a, b in zip(p, t))
    return out if walk(prefix, tree) else None
