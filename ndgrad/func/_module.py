"""Modules as functions of their parameters: functional_call runs a module with other tensors in
place of its parameters and buffers; stack_module_state stacks several models' states (ensembling
with vmap)."""
from __future__ import annotations

from typing import Any


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """module(*args, **kwargs) with the named parameters and buffers replaced by the given tensors (a
    dict, or several dicts with distinct keys); the module is restored afterwards. With tie_weights a
    tensor given for one name of a shared parameter replaces it under all its names; with strict
    every parameter and buffer must be given. (nn.utils.stateless does the swapping.)"""
    from ..nn.utils.stateless import _functional_call
    return _functional_call(module, parameter_and_buffer_dicts, args, kwargs, tie_weights=tie_weights,
                            strict=strict)


def stack_module_state(models: Any) -> tuple:
    """(params, buffers): each model's parameters and buffers stacked along a new first dim, under
    their names. The stacked parameters are new leaves that require grad where the models' did."""
    from ..ops.shape import stack
    models = list(models)
    if not models:
        raise RuntimeError("stack_module_state: Expected at least one model, got 0.")
    if any(type(m) is not type(models[0]) for m in models):
        raise RuntimeError("stack_module_state: Expected all models to be of the same class.")
    if not (all(m.training for m in models) or not any(m.training for m in models)):
        raise RuntimeError("stack_module_state: Expected all models to have the same training/eval mode.")

    def stacked(get: Any, grads: bool) -> dict:
        names = list(dict(get(models[0])))
        out = {}
        for name in names:
            ts = [dict(get(m))[name] for m in models]
            s = stack([t.detach() for t in ts])
            if grads and ts[0].requires_grad:
                s.requires_grad_()
            out[name] = s
        return out
    return (stacked(lambda m: m.named_parameters(), True), stacked(lambda m: m.named_buffers(), False))



