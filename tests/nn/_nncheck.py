"""What the nn tests share: one test body run on ndgrad and (live or recorded) on PyTorch.

A case is written once as `fn(lib, *tensors)` where `lib` is `ndgrad` or `torch` (their APIs
are the same), so the comparison needs no second copy of the test. Inputs come from a seeded
NumPy generator, so a recording made with torch matches the inputs replayed without it.
"""
from __future__ import annotations

from typing import Any, Callable

import numpy as np

import ndgrad


def rand(*shape: int, seed: int = 0, dtype: Any = np.float32) -> np.ndarray:
    """A reproducible standard-normal array."""
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def lib_of(t: Any) -> Any:
    """The library (ndgrad or torch) a tensor belongs to."""
    if isinstance(t, ndgrad.Tensor):
        return ndgrad
    import torch
    return torch


def err_of(fn: Callable[[], Any]) -> tuple:
    """(exception type name, message) that fn raises, or ('none', '') when it returns. Reprs in
    messages name the library as PyTorch's do (ndgrad.Size -> torch.Size, as under `ndgrad run`)."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and text are what the tests compare
        return type(e).__name__, str(e).replace("ndgrad.", "torch.")
    return "none", ""


def np_of(t: Any) -> Any:
    if t is None:
        return None
    return np.array(t.detach().numpy())


def _outs(res: Any) -> list:
    return list(res) if isinstance(res, (tuple, list)) else [res]


def _tensors(lib: Any, arrays: list, grads: bool) -> list:
    return [lib.tensor(a, requires_grad=grads and a.dtype.kind == "f") for a in arrays]


def assert_close(got: Any, want: Any, tol: float, what: str) -> None:
    if want is None:
        assert got is None, f"{what}: PyTorch gives None"
        return
    got = np.asarray(got)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != PyTorch's {want.shape}"
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol, err_msg=what)
    else:
        np.testing.assert_array_equal(got, want, err_msg=what)


def check_fn(torch_ref: Callable, key: str, fn: Callable, arrays: list, tol: float = 1e-5,
             grads: bool = True, seed: int = 99) -> list:
    """fn(lib, *tensors) on ndgrad equals PyTorch's: every output, and (grads) every input's
    gradient for a fixed random upstream gradient of the first output. Returns ndgrad's outputs."""
    ns = _tensors(ndgrad, arrays, grads)
    outs = _outs(fn(ndgrad, *ns))
    go = rand(*outs[0].shape, seed=seed, dtype=arrays[0].dtype) if grads else None

    def torch_side(torch: Any) -> dict:
        ts = _tensors(torch, arrays, grads)
        touts = _outs(fn(torch, *ts))
        if grads:
            touts[0].backward(torch.tensor(go))
        return {"out": [o if o is None else o.detach() for o in touts],
                "grads": [t.grad for t in ts] if grads else []}

    want = torch_ref(key, torch_side)
    assert len(outs) == len(want["out"]), f"{key}: {len(outs)} outputs, PyTorch gives {len(want['out'])}"
    for i, (o, w) in enumerate(zip(outs, want["out"])):
        assert_close(np_of(o), w, tol, f"{key}: output {i}")
    if grads:
        outs[0].backward(ndgrad.tensor(go))
        for i, (t, w) in enumerate(zip(ns, want["grads"])):
            assert_close(np_of(t.grad), w, tol, f"{key}: gradient of input {i}")
    return outs


def state_arrays(module: Any) -> dict:
    """A module's state_dict as NumPy arrays (to build the other library's twin)."""
    return {k: np.array(v.detach().numpy()) for k, v in module.state_dict().items()}


def load_arrays(lib: Any, module: Any, arrays: dict) -> Any:
    module.load_state_dict({k: lib.tensor(v) for k, v in arrays.items()})
    return module


def seeded_params(module: Any, scale: float = 0.5) -> Any:
    """Overwrite every parameter with seeded values, and every floating buffer with seeded positive
    values (running variances, power-iteration vectors): a recording must not depend on the RNG."""
    with ndgrad.no_grad():
        for i, p in enumerate(module.parameters()):
            p.copy_(ndgrad.tensor(rand(*p.shape, seed=1000 + i, dtype=np.float64) * scale))
        for i, b in enumerate(module.buffers()):
            if b.dtype.is_floating_point:
                b.copy_(ndgrad.tensor(np.abs(rand(*b.shape, seed=2000 + i, dtype=np.float64)) * scale + scale))
    return module


def check_module(torch_ref: Callable, key: str, build: Callable, arrays: list, call: Callable | None = None,
                 tol: float = 1e-5, seed: int = 99, train: bool = False) -> Any:
    """build(lib) made in both libraries with the same seeded weights: outputs, input gradients
    and parameter gradients agree. `call(module, *tensors)` runs it (default: module(*tensors))."""
    call = call or (lambda m, *xs: m(*xs))
    nm = seeded_params(build(ndgrad))
    nm.train(train)
    weights = state_arrays(nm)

    def fn(lib: Any, *xs: Any) -> Any:
        m = nm if lib is ndgrad else load_arrays(lib, build(lib), weights).train(train)
        fn.module = m  # type: ignore[attr-defined]
        return call(m, *xs)

    ns = _tensors(ndgrad, arrays, True)
    outs = _outs(fn(ndgrad, *ns))
    go = rand(*outs[0].shape, seed=seed, dtype=np_of(outs[0]).dtype)

    def torch_side(torch: Any) -> dict:
        ts = _tensors(torch, arrays, True)
        touts = _outs(fn(torch, *ts))
        touts[0].backward(torch.tensor(go))
        pg = {k: p.grad for k, p in fn.module.named_parameters()}  # type: ignore[attr-defined]
        return {"out": [o.detach() if o is not None else None for o in touts], "grads": [t.grad for t in ts],
                "params": pg}

    want = torch_ref(key, torch_side)
    for i, (o, w) in enumerate(zip(outs, want["out"])):
        assert_close(np_of(o), w, tol, f"{key}: output {i}")
    outs[0].backward(ndgrad.tensor(go))
    for i, (t, w) in enumerate(zip(ns, want["grads"])):
        assert_close(np_of(t.grad), w, tol, f"{key}: gradient of input {i}")
    got = dict(nm.named_parameters())
    assert list(got) == list(want["params"]), f"{key}: parameter names differ from PyTorch's"
    for k, w in want["params"].items():
        assert_close(np_of(got[k].grad), w, tol, f"{key}: gradient of {k}")
    return nm
