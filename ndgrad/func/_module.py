"""Modules as functions of their parameters: functional_call runs a module with other tensors in
place of its parameters and buffers; stack_module_state stacks several models' states (ensembling
with vmap)."""
from __future__ import annotations

from typing import Any



def _split(module: Any, name: str) -> tuple:
    *path, leaf = name.split(".")
    m = module
    for part in path:
        m = getattr(m, part)
    return m, leaf


def functional_call(module: Any, parameter_and_buffer_dicts: Any, args: Any = None, kwargs: dict | None = None, *,
                    tie_weights: bool = True, strict: bool = False) -> Any:
    """module(*args, **kwargs) with the named parameters and buffers replaced by the given tensors (a
    dict, or several dicts with distinct keys); the module is restored afterwards. With tie_weights a
    tensor given for one name of a shared parameter replaces it under all its names; with strict
    every parameter and buffer must be given."""
    dicts = parameter_and_buffer_dicts
    if isinstance(dicts, dict):
        values = dict(dicts)
    else:
        values = {}
        for d in dicts:
            dup = [k for k in d if k in values]
            if dup:
                raise ValueError(f"{dup} appeared in multiple dictionaries; behavior of functional call is ambiguous")
            values.update(d)
    owned = dict(module.named_parameters(remove_duplicate=False))
    owned.update(dict(module.named_buffers(remove_duplicate=False)))
    if tie_weights:  # a shared parameter takes the value given for any of its names
        by_id: dict = {}
        for n, t in owned.items():
            by_id.setdefault(id(t), []).append(n)
        for n in list(values):
            if n in owned:
                for other in by_id[id(owned[n])]:
                    values.setdefault(other, values[n])
    if strict:
        missing = [k for k in owned if k not in values]
        unexpected = [k for k in values if k not in owned]
        if missing or unexpected:
            msg = f"Error(s) in reparametrizing for {type(module).__name__}:"
            if unexpected:
                msg += "\n\tUnexpected key(s): " + ", ".join(f"'{k}'" for k in unexpected) + "."
            if missing:
                msg += "\n\tMissing key(s): " + ", ".join(f"'{k}'" for k in missing) + "."
            raise RuntimeError(msg)
    saved = []
    try:
        for name, value in values.items():
            m, leaf = _split(module, name)
            d = m.__dict__
            for store in ("_parameters", "_buffers"):
                if leaf in d.get(store, {}):
                    saved.append((d[store], leaf, d[store][leaf]))
                    d[store][leaf] = value
                    break
            else:
                saved.append((d, leaf, d.get(leaf, _MISSING)))
                d[leaf] = value
        if args is None:
            args = ()
        elif not isinstance(args, tuple):
            args = (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for store, leaf, old in reversed(saved):
            if old is _MISSING:
                store.pop(leaf, None)
            else:
                store[leaf] = old


_MISSING = object()


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



