"""Every op registered in ndgrad.ops._core.REGISTRY has a row in the op table."""
from __future__ import annotations

from typing import Any

import ndgrad  # noqa: F401 - importing registers every op
import ndgrad.nn  # noqa: F401 - and the nn kernels of ndgrad/ops/nn.py
from ndgrad.ops._core import REGISTRY

from .table import ROWS

# the foundation ops the issue lists that live outside REGISTRY (ndgrad.linalg, operators, in-place forms)
REQUIRED_EXTRA = ["linalg.inv", "linalg.det", "linalg.solve", "linalg.vector_norm", "linalg.matrix_norm",
                  "__add__", "__radd__", "__sub__", "__rsub__", "__mul__", "__rmul__", "__truediv__",
                  "__rtruediv__", "__floordiv__", "__mod__", "__pow__", "__rpow__", "__and__", "__or__", "__xor__",
                  "__invert__", "__neg__", "__abs__", "__lt__", "__eq__", "add_", "sub_", "mul_", "div_", "clamp_",
                  "fill_", "zero_", "copy_"]


def test_every_registered_op_has_a_row() -> None:
    have = {r.name for r in ROWS}
    missing = sorted(set(REGISTRY) - have)
    assert not missing, f"registered ops without a row in tests/ops/table.py: {missing}"


def test_required_extras_have_rows() -> None:
    have = {r.name for r in ROWS}
    missing = [n for n in REQUIRED_EXTRA if n not in have]
    assert not missing, missing


def test_rows_name_real_ops() -> None:
    """A row for a name that is neither registered nor a Tensor method / ndgrad attribute is a typo."""
    for r in ROWS:
        if r.name in REGISTRY:
            continue
        if "." in r.name:
            obj = ndgrad
            for part in r.name.split("."):
                obj = getattr(obj, part)
            assert callable(obj), r.name
        else:
            assert hasattr(ndgrad.Tensor, r.name), r.name


def test_every_row_has_samples_and_dtypes() -> None:
    import numpy as np
    for r in ROWS:
        assert r.dtypes, r.id
        dts = r.dtypes[0] if isinstance(r.dtypes[0], tuple) else (r.dtypes[0],)
        assert r.samples(dts, np.random.default_rng(0)), r.id


def test_declared_inplace_forms_are_methods_pytorch_has(torch_ref: Any) -> None:
    """Each op's in-place form, declared with the op (register(inplace=...)), is a Tensor method, and
    PyTorch has it too (ndgrad's two extras named)."""
    from ndgrad.ops._core import INPLACE
    for name, (op, how) in INPLACE.items():
        assert name == op + "_" and how in ("write", "view"), name
        assert callable(getattr(ndgrad.Tensor, name, None)), name
    torch_has = set(torch_ref("inplace_methods", lambda torch: sorted(
        n for n in dir(torch.Tensor) if n.endswith("_") and not n.startswith("_"))))
    assert sorted(set(INPLACE) - torch_has) == ["maximum_", "minimum_"]
