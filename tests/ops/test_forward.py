"""Forward values of every op-table row: against NumPy always (where the row has a
reference), against PyTorch when it is installed (dtype, shape and values).

Also checked on every call: no warning escapes (NumPy RuntimeWarnings included) and
float32 inputs never give a silent float64 result.
"""
from __future__ import annotations

import re
import warnings
from typing import Any

import numpy as np
import pytest

import ndgrad
import ndgrad.nn  # noqa: F401 - registers the nn kernels of ndgrad/ops/nn.py that rows name

from .table import ROWS, OpRow

try:
    import torch
except ImportError:  # pragma: no cover - the NumPy half still runs
    torch = None



def _params() -> list:
    out = []
    for r in ROWS:
        for dt in r.dtypes:
            dts = dt if isinstance(dt, tuple) else (dt,)
            out.append(pytest.param(r, dts, id=f"{r.id}-{'-'.join(dts)}"))
    return out


PARAMS = _params()


def _seed(r: OpRow, dts: tuple) -> int:
    return sum(map(ord, r.id + "".join(dts))) % (2 ** 31)


def _convert(x: Any, lib: str) -> Any:
    """NumPy arrays in args -> tensors of the library; everything else unchanged."""
    if isinstance(x, np.ndarray):
        if x.dtype.name == "bfloat16":  # neither library takes a NumPy bfloat16 array: go through float32
            return _convert(x.astype(np.float32), lib).bfloat16()
        if lib == "ndgrad":
            return ndgrad.from_numpy(x.copy())
        return torch.from_numpy(x.copy())
    if isinstance(x, list):
        return [_convert(v, lib) for v in x]
    if isinstance(x, tuple):
        return tuple(_convert(v, lib) for v in x)
    if isinstance(x, dict):
        return {k: _convert(v, lib) for k, v in x.items()}
    return x


def _lib(lib: str) -> Any:
    return ndgrad if lib == "ndgrad" else torch


def run(r: OpRow, args: tuple, kwargs: dict, lib: str) -> Any:
    a, k = _convert(args, lib), _convert(kwargs, lib)
    if lib == "ndgrad":
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            return r.call(ndgrad, *a, **k)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return r.call(torch, *a, **k)


def flat(x: Any) -> list:
    """Result -> list of (dtype name or Python type, array or value)."""
    if isinstance(x, (tuple, list)):
        out = []
        for v in x:
            out.extend(flat(v))
        return out
    if isinstance(x, ndgrad.Tensor):
        assert x._data.dtype == x.dtype.np, f"a {x.dtype.name} tensor stores a {x._data.dtype} array"
        return [(x.dtype.name, np.asarray(x._data.astype(np.float32) if x.dtype.name == "bfloat16" else x._data))]
    if torch is not None and isinstance(x, torch.Tensor):
        return [(str(x.dtype).replace("torch.", ""), (x.float() if x.dtype == torch.bfloat16 else x).resolve_conj()
                 .numpy())]
    if isinstance(x, (bool, np.bool_)):
        return [("pybool", bool(x))]
    if isinstance(x, (int, float, complex, np.number)):
        return [("pynum", x)]
    raise TypeError(f"unexpected result type {type(x).__name__}")


def _tol(r: OpRow, dtype_name: str) -> dict:
    if dtype_name in ("float16",):
        return {"rtol": 1e-2, "atol": 1e-3}
    if dtype_name == "bfloat16":  # 8 bits of mantissa: references computed in float32 differ by rounding
        return {"rtol": 1.6e-2, "atol": 1e-2}
    if dtype_name in ("float64", "complex128"):
        return {"rtol": max(r.rtol / 10, 1e-7), "atol": r.atol / 10}
    return {"rtol": r.rtol, "atol": r.atol}


def _close(got: Any, want: Any, r: OpRow, dt: str, what: str) -> None:
    g, w = np.asarray(got), np.asarray(want)
    assert g.shape == w.shape, f"{what}: shape {g.shape} != {w.shape}"
    if g.dtype.kind in "fc" or w.dtype.kind in "fc":
        np.testing.assert_allclose(g.astype(np.complex128 if g.dtype.kind == "c" else np.float64),
                                   w.astype(np.complex128 if w.dtype.kind == "c" else np.float64),
                                   equal_nan=True, err_msg=what, **_tol(r, dt))
    else:
        np.testing.assert_array_equal(g, w, err_msg=what)


def _float32_inputs(args: tuple, kwargs: dict) -> bool:
    arrays = [a for a in list(args) + list(kwargs.values()) if isinstance(a, np.ndarray) and a.dtype.kind != "b"]
    for a in list(args):
        if isinstance(a, (list, tuple)):
            arrays += [x for x in a if isinstance(x, np.ndarray)]
    return bool(arrays) and all(a.dtype == np.float32 for a in arrays)


@pytest.mark.parametrize("r,dts", PARAMS)
def test_against_numpy(r: OpRow, dts: tuple) -> None:
    rng = np.random.default_rng(_seed(r, dts))
    samples = r.samples(dts, rng)
    assert samples, "row without samples"
    for args, kwargs in samples:
        got = flat(run(r, args, kwargs, "ndgrad"))
        if r.keeps_float32 and _float32_inputs(args, kwargs):
            for name, _ in got:
                assert name not in ("float64", "complex128"), f"{r.id}: float32 input gave {name}"
        if r.ref is None:
            continue
        ints = [a for a in args if isinstance(a, np.ndarray) and a.dtype.kind in "iu"]
        if got and isinstance(got[0][1], np.ndarray) and got[0][1].dtype.kind in "iu" and len(
                {a.dtype for a in ints}) > 1:
            # mixed integer inputs: PyTorch computes in the promoted dtype, so does the reference
            args = tuple(a.astype(got[0][1].dtype) if isinstance(a, np.ndarray) and a.dtype.kind in "iu" else a
                         for a in args)
        args = tuple(a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.name == "bfloat16" else a
                     for a in args)  # NumPy references run on bfloat16 inputs in float32
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the reference's own warnings (mean of empty slice)
            want = r.ref(*args, **kwargs)
        want = want if isinstance(want, (tuple, list)) else [want]
        assert len(got) == len(want), f"{r.id}: {len(got)} outputs, reference has {len(want)}"
        for i, ((name, g), w) in enumerate(zip(got, want)):
            if isinstance(g, np.ndarray) and g.dtype.kind in "biu":
                # NumPy promotes 0-d operands differently: compare in the dtype ndgrad chose
                # (its dtype is checked against PyTorch and tests/test_dtype.py)
                w = np.asarray(w).astype(g.dtype) if np.asarray(w).dtype.kind in "biu" else w
            _close(g, w, r, name, f"{r.id} output {i} for args {args} {kwargs}")


@pytest.mark.parametrize("r,dts", PARAMS)
def test_against_torch(r: OpRow, dts: tuple, torch_ref: Any) -> None:
    """dtype, shape and values of every sample against PyTorch (live, or its recording)."""
    samples = r.samples(dts, np.random.default_rng(_seed(r, dts)))
    wants = torch_ref("out", lambda torch: [[list(o) for o in flat(run(r, args, kwargs, "torch"))]
                                            for args, kwargs in samples])
    assert len(wants) == len(samples), f"{r.id}: {len(samples)} samples, the recording has {len(wants)}"
    for (args, kwargs), want in zip(samples, wants):
        got = flat(run(r, args, kwargs, "ndgrad"))
        assert len(got) == len(want), f"{r.id}: {len(got)} outputs, torch has {len(want)}"
        for i, ((gn, g), (wn, w)) in enumerate(zip(got, want)):
            what = f"{r.id} output {i} for args {args} {kwargs}"
            assert gn == wn, f"{what}: dtype {gn} != torch {wn}"
            if gn in ("pybool", "pynum"):
                assert type(g) is type(w) or gn == "pynum", what
            _close(g, w, r, gn, what)


@pytest.mark.parametrize("name", sorted({r.name for r in ROWS if not r.name.startswith("_") and "." not in r.name
                                         and not r.name.endswith("_")}))
def test_method_and_function_exports(name: str) -> None:
    """Registered ops are exported as ndgrad.<name> and/or Tensor.<name>, as the registry says."""
    from ndgrad.ops._core import REGISTRY
    entry = REGISTRY.get(name)
    assert entry is not None, f"{name} has a table row but is not registered"
    _, is_method, is_function = entry
    if is_function:
        assert callable(getattr(ndgrad, name, None)), f"ndgrad.{name} missing"
    if is_method:
        attr = getattr(ndgrad.Tensor, name, None)
        assert callable(attr) or isinstance(attr, property), f"Tensor.{name} missing"
    if torch is not None:
        if is_function and name not in ("histc",):
            assert hasattr(torch, name), f"ndgrad.{name} is exported but torch has no {name}"
        if hasattr(torch.Tensor, name) and not hasattr(torch, name):
            assert is_method


# ("at least one axis" is PyTorch's own wording, in torch.fft's errors)
NUMPY_TEXT = re.compile(r"numpy|ndarray|(?<!one )\baxis\b|operands could not|ufunc|np\.|broadcast input array|"
                        r"object too deep|arrays used as indices|unsized object|integer modulo by zero|"
                        r"too many values to unpack|tuple index out of range|list index out of range")


def _perturbations(args: tuple) -> list:
    """Bad variants of a good call: an extra trailing dim, a 0-d tensor, a changed dtype, absurd ints."""
    out = []
    for i, a in enumerate(args):
        if isinstance(a, np.ndarray):
            out.append(args[:i] + (np.zeros(a.shape + (7,), a.dtype),) + args[i + 1:])
            out.append(args[:i] + (np.zeros((), a.dtype),) + args[i + 1:])
            other = a.astype(np.float32) if a.dtype.kind in "iub" else a.real.astype(np.int64)
            out.append(args[:i] + (other,) + args[i + 1:])
        elif type(a) is int:
            out.append(args[:i] + (17,) + args[i + 1:])
            out.append(args[:i] + (-17,) + args[i + 1:])
    return out


@pytest.mark.parametrize("r", [r for r in ROWS if not r.variant], ids=lambda r: r.id)
def test_bad_inputs_never_leak_numpy_errors(r: OpRow) -> None:
    """Whatever a wrong call raises, it is not NumPy's exception or message (nor a Python slip)."""
    dts = r.dtypes[0] if isinstance(r.dtypes[0], tuple) else (r.dtypes[0],)
    for args, kwargs in r.samples(dts, np.random.default_rng(0))[:2]:
        for bad in _perturbations(args):
            try:
                run(r, bad, kwargs, "ndgrad")
            except (RuntimeError, IndexError, TypeError, ValueError, NotImplementedError, UserWarning) as e:
                # (a UserWarning, raised as an error here, is one PyTorch gives too: cov's degrees of freedom)
                assert type(e).__module__ == "builtins" or isinstance(e, ndgrad.linalg.LinAlgError), (
                    f"{r.id}: {type(e).__module__}.{type(e).__name__} leaked")
                assert not NUMPY_TEXT.search(str(e)), f"{r.id} {[getattr(b, 'shape', b) for b in bad]}: {e}"
