"""Forward-mode automatic differentiation (dual numbers), as `torch.autograd.forward_ad`.

Inside `dual_level()`, `make_dual(x, v)` gives a tensor that carries the tangent `v` next to its
value. Every op then computes its output's tangent with its own JVP rule (the `jvp` method of
its Node class, declared beside `backward`), so one forward pass yields J v. `unpack_dual`
reads the tangent back. Tangents are ordinary tensors: reverse mode works through them
(forward over reverse gives Hessian-vector products).

As in PyTorch, the public API allows one level at a time; ndgrad.func nests levels internally
(`jvp` of `jvp`), each with its own id, an op propagating the tangents of every active level.
"""
from __future__ import annotations

import itertools
from typing import Any, NamedTuple

from . import grad_mode

__all__ = ["UnpackedDualTensor", "dual_level", "enter_dual_level", "exit_dual_level", "make_dual", "unpack_dual"]

_levels = grad_mode.fw_levels  # the active levels' ids, outermost first
_ids = itertools.count()
_public: list = []  # ids of the levels entered through the public API (at most one, as in PyTorch)


class UnpackedDualTensor(NamedTuple):
    """What `unpack_dual` returns: the primal (a view without the tangent) and the tangent (or None)."""

    primal: Any
    tangent: Any


def _enter() -> int:
    """Open a new (possibly nested) level and return its id: the internal form ndgrad.func uses."""
    lv = next(_ids)
    _levels.append(lv)
    return lv


def _exit(lv: int) -> None:
    """Close level `lv`; tangents at it are no longer seen by ops nor by unpack_dual."""
    if lv in _levels:
        del _levels[_levels.index(lv):]


def enter_dual_level() -> int:
    """Open a dual level (only one may be open at a time) and return its index."""
    if _public:
        raise RuntimeError("Nested forward mode AD is not supported at the moment")
    _public.append(_enter())
    return 0


def exit_dual_level(*, level: int | None = None) -> None:
    """Close the dual level opened by enter_dual_level."""
    if not _public:
        raise RuntimeError("Dual level must be a positive number.")
    if level is not None and level != len(_public) - 1:
        raise RuntimeError("Trying to exit a forward AD level that was not the last one that was created. "
                           "This is not supported.")
    _exit(_public.pop())


class dual_level:
    """Context manager: tangents made by make_dual inside it propagate until it exits."""

    def __enter__(self) -> int:
        return enter_dual_level()

    def __exit__(self, *exc: Any) -> None:
        exit_dual_level()


def _level_id(level: int | None, what: str) -> int:
    if level is None:
        if not _public:
            raise RuntimeError("Trying to create a dual Tensor for forward AD but no level exists, make sure to "
                               "enter_dual_level() first.")
        return _public[-1]
    if not 0 <= level < len(_public):
        raise RuntimeError(f"Invalid level given to {what}")
    return _public[level]


def make_dual(tensor: Any, tangent: Any, *, level: int | None = None) -> Any:
    """A view of `tensor` that carries `tangent` (same shape, floating or complex) at the dual level."""
    return _make_dual(tensor, tangent, _level_id(level, "_make_dual"))


def _make_dual(tensor: Any, tangent: Any, lv: int) -> Any:
    from .._tensor import Tensor
    from ..ops._core import set_tangent, tangent_at
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_make_dual(): argument 'primal' (position 1) must be Tensor, not {type(tensor).__name__}")
    if not isinstance(tangent, Tensor):
        raise AttributeError(f"'{type(tangent).__name__}' object has no attribute 'is_floating_point'")
    for what, t in (("primal", tensor), ("tangent", tangent)):
        if t._dtype.category < 2:
            raise ValueError(f"Expected {what} to be floating point or complex, but got: "
                             f"{t._dtype!r}".replace("ndgrad.", "torch."))
    if tuple(tangent.shape) != tuple(tensor.shape):
        raise RuntimeError("Trying to set a forward gradient that has a different size than that of the original "
                           f"Tensor, this is not supported. Tensor is of size {list(tensor.shape)} while the given "
                           f"forward gradient is of size {list(tangent.shape)}.")
    if tangent_at(tensor, lv) is not None and lv in _levels:
        raise RuntimeError("Making a dual Tensor based on a Tensor that already has a forward gradient at the same "
                           f"level {_public.index(lv) if lv in _public else lv} is not supported.")
    out = _alias(tensor, lv)
    set_tangent(out, lv, tangent)
    return out


def _alias(tensor: Any, lv: int) -> Any:
    """A view of `tensor` (recorded as one, as PyTorch does) without its tangent at level lv."""
    keep = _levels[:]
    if lv in keep:
        del _levels[keep.index(lv):]  # outer levels' tangents are carried by the view op
    try:
        out = tensor.view_as(tensor)
    finally:
        _levels[:] = keep
    out._fw = {k: v for k, v in (out._fw or {}).items() if k != lv}  # {}: no tangent from the base either
    return out


def unpack_dual(tensor: Any, *, level: int | None = None) -> UnpackedDualTensor:
    """(primal, tangent) of a dual tensor; (tensor, None) for a tensor without a tangent."""
    from .._tensor import Tensor
    if not isinstance(tensor, Tensor):
        raise TypeError(f"_unpack_dual(): argument 'dual' (position 1) must be Tensor, not {type(tensor).__name__}")
    if level is None and not _public:
        return UnpackedDualTensor(tensor, None)
    lv = _level_id(level, "_unpack_dual")
    return _unpack(tensor, lv)


def _unpack(tensor: Any, lv: int) -> UnpackedDualTensor:
    from ..ops._core import tangent_at
    tan = tangent_at(tensor, lv) if lv in _levels else None
    if tan is None:
        return UnpackedDualTensor(tensor, None)
    return UnpackedDualTensor(_alias(tensor, lv), tan)
