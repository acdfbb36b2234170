"""PyTorch references that work with or without PyTorch installed.

A test asks for a value computed by real PyTorch through the `torch_ref` fixture:

    def test_cumsum(torch_ref):
        x = np.arange(6.0).reshape(2, 3)
        want = torch_ref("cumsum", lambda torch: torch.tensor(x).cumsum(1))
        np.testing.assert_allclose(ndgrad.tensor(x).cumsum(1).numpy(), want)

- torch installed: `fn(torch)` runs live; its value is what the test compares against, and it
  is also checked against the recording (a stale recording fails the test, naming the key).
- torch missing: the recorded value is returned (a missing recording fails the test).
- `NDGRAD_RECORD=1` with torch installed (tools/record_references.py): live values are written.

`tv_ref(key, lambda torch, torchvision: ...)` does the same with torchvision (live only where
torchvision imports; see tools/torchvision_cuda_stub.py).

Recordings live in tests/references/<test file stem>.json, one entry per "<test name>::<key>".
Values may be torch tensors (stored as NumPy arrays with their dtype), NumPy arrays and
scalars, Python numbers, strings, None, torch dtypes/sizes, and lists/tuples/dicts of these.
"""
from __future__ import annotations

import base64
import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Callable

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover - depends on the environment
    torch = None

# torchvision, for the `tv_ref` fixture.  The registry's wheel is a CUDA build that imports beside
# the CPU torch only with tools/torchvision_cuda_stub.py installed; any import failure means "absent".
torchvision = None
if torch is not None:
    try:
        import torchvision
        import torchvision.transforms.v2  # noqa: F401  (a submodule torchvision loads lazily)
    except Exception:  # pragma: no cover - depends on the environment
        torchvision = None

REF_DIR = Path(__file__).parent / "references"
RECORD = os.environ.get("NDGRAD_RECORD") == "1"
_STORES: dict[Path, "Store"] = {}


# ---------------------------------------------------------------------------
# value <-> JSON
# ---------------------------------------------------------------------------
def to_plain(v: Any) -> Any:
    """A torch-free value: tensors become NumPy arrays, dtypes their name ('torch.float32')."""
    if torch is not None:
        if isinstance(v, torch.Tensor):
            v = v.detach()
            if v.dtype == torch.bfloat16:
                v = v.float()
            return np.array(v.resolve_conj().resolve_neg().numpy())
        if isinstance(v, torch.dtype):
            return str(v)
        if isinstance(v, torch.Size):
            return tuple(v)
    if isinstance(v, (list, tuple)):
        return type(v)(to_plain(x) for x in v)
    if isinstance(v, dict):
        return {k: to_plain(x) for k, x in v.items()}
    if isinstance(v, np.generic):
        return v.item()
    return v


def encode(v: Any) -> Any:
    if isinstance(v, np.ndarray):  # one short string: "<dtype> <shape, comma separated> <base64 bytes>"
        raw = base64.b64encode(np.ascontiguousarray(v).tobytes()).decode()
        return {"nd": f"{v.dtype.str} {','.join(map(str, v.shape))} {raw}"}
    if isinstance(v, tuple):
        return {"__tuple__": [encode(x) for x in v]}
    if isinstance(v, list):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {"__dict__": [[k, encode(x)] for k, x in v.items()]}
    if isinstance(v, float) and not math.isfinite(v):
        return {"__float__": repr(v)}
    if isinstance(v, complex):
        return {"__complex__": [v.real, v.imag]}
    return v


def decode(v: Any) -> Any:
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if "nd" in v:
            dt, shape, raw = v["nd"].split(" ")
            return np.frombuffer(base64.b64decode(raw), dtype=np.dtype(dt)).reshape(
                tuple(int(n) for n in shape.split(",")) if shape else ()).copy()
        if "__nd__" in v:  # the longer form of earlier recordings
            return np.frombuffer(base64.b64decode(v["b64"]), dtype=np.dtype(v["__nd__"])).reshape(v["shape"]).copy()
        if "__tuple__" in v:
            return tuple(decode(x) for x in v["__tuple__"])
        if "__dict__" in v:
            return {k: decode(x) for k, x in v["__dict__"]}
        if "__float__" in v:
            return float(v["__float__"])
        if "__complex__" in v:
            return complex(*v["__complex__"])
    return v


def digest(text: str) -> str:
    """A short fingerprint of a long text compared for equality (printed tensors): the recording
    keeps 16 hex digits instead of the text."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def same(a: Any, b: Any, rtol: float, atol: float, scaled: bool = False) -> bool:
    """Whether two plain values agree (arrays: dtype, shape and values within tolerance).
    `scaled`: a float array's absolute tolerance grows to `rtol` times its largest magnitude, so
    rounding that differs between machines (BLAS kernels, deep float32 networks) still agrees."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)):
            return False
        if a.dtype != b.dtype or a.shape != b.shape:
            return False
        if a.dtype.kind in "fc":
            if scaled and b.size and np.isfinite(b).any():
                atol = max(atol, rtol * float(np.nanmax(np.abs(b[np.isfinite(b)]))))
            return bool(np.allclose(a, b, rtol=rtol, atol=atol, equal_nan=True))
        return bool(np.array_equal(a, b))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(same(x, y, rtol, atol, scaled) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], rtol, atol, scaled) for k in a)
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or math.isclose(a, b, rel_tol=rtol, abs_tol=atol)
    return type(a) is type(b) and a == b


# ---------------------------------------------------------------------------
# one JSON file per test file
# ---------------------------------------------------------------------------
class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
        self.dirty = False

    def get(self, key: str) -> Any:
        if key not in self.data:
            raise KeyError(key)
        return decode(self.data[key])

    def put(self, key: str, value: Any) -> None:
        if key in self.data and same(self.get(key), value, 0.0, 0.0):
            return  # unchanged to the last bit: keep the entry as written (no churn in the file)
        self.data[key] = encode(value)
        self.dirty = True

    def flush(self) -> None:
        if self.dirty:
            self.path.parent.mkdir(exist_ok=True)
            lines = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in sorted(self.data.items())]
            self.path.write_text("{\n" + ",\n".join(lines) + "\n}\n")  # one entry a line: small diffs
            self.dirty = False


def store_for(test_file: str) -> Store:
    path = REF_DIR / (Path(test_file).stem + ".json")
    if path not in _STORES:
        _STORES[path] = Store(path)
    return _STORES[path]


def flush_all() -> None:
    for s in _STORES.values():
        s.flush()


def _rel(test_file: str) -> str:
    """The test file's path as tools/record_references.py takes it (from the repository root)."""
    path = Path(test_file).resolve()
    root = REF_DIR.parent.parent
    return str(path.relative_to(root)) if path.is_relative_to(root) else str(path)


def _importable(module: str) -> bool:
    import importlib.util
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def reference(test_file: str, test_name: str, key: str, fn: Callable[..., Any], *,
              vision: bool = False, needs: str | None = None) -> Any:
    """PyTorch's value for `key`: live when torch is installed, else recorded (see module doc).
    With `vision=True` the value is torchvision's: `fn(torch, torchvision)`, live only when
    torchvision imports. `needs`: a module PyTorch's side imports besides torch (e.g. tensorboard
    for torch.utils.tensorboard): live only where it is installed too."""
    import pytest
    store = store_for(test_file)
    full = f"{test_name}::{key}"
    lib = "torchvision" if vision else "PyTorch"
    if torch is None or (vision and torchvision is None) or (needs and not _importable(needs)):
        try:
            return store.get(full)
        except KeyError:
            pytest.fail(f"no recorded {lib} reference {full!r} in {store.path.name}: "
                        f"run tools/record_references.py {_rel(test_file)} with {lib.lower()} installed")
    live = to_plain(fn(torch, torchvision) if vision else fn(torch))
    if RECORD:
        store.put(full, live)
        return live
    try:
        rec = store.get(full)
    except KeyError:
        pytest.fail(f"{lib} reference {full!r} is not recorded in {store.path.name}: "
                    f"run tools/record_references.py {_rel(test_file)}")
    # loose on purpose: this catches a recording made from other inputs, not rounding that
    # differs between machines (another BLAS kernel reorders a deep float32 network's sums)
    if not same(live, rec, 1e-3, 1e-5, scaled=True):
        pytest.fail(f"recorded {lib} reference {full!r} in {store.path.name} is stale: "
                    f"run tools/record_references.py {_rel(test_file)}")
    return live


def outcome(fn: Callable[[], Any]) -> tuple:
    """(exception type name, first line of its message) of calling fn, or ("no error", ""): the form in
    which tests record PyTorch's errors to compare with ndgrad's."""
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - any exception is an outcome to compare
        return type(e).__name__, str(e).splitlines()[0] if str(e) else ""
    return "no error", ""
