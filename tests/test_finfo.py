"""torch.finfo / torch.iinfo: every attribute and the repr, for every dtype (bfloat16 included)."""
from __future__ import annotations

import pytest

import ndgrad

FLOATS = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
INTS = ["uint8", "int8", "int16", "int32", "int64"]


def _finfo(torch, name: str) -> list:
    f = torch.finfo(getattr(torch, name))
    return [repr(f), str(f), f.bits, f.eps, f.max, f.min, f.tiny, f.smallest_normal, f.resolution, f.dtype]


def _iinfo(torch, name: str) -> list:
    i = torch.iinfo(getattr(torch, name))
    return [repr(i), i.bits, i.max, i.min, i.dtype]


@pytest.mark.parametrize("name", FLOATS)
def test_finfo(name, torch_ref):
    assert _finfo(ndgrad, name) == torch_ref("finfo", lambda torch: _finfo(torch, name))


@pytest.mark.parametrize("name", INTS)
def test_iinfo(name, torch_ref):
    assert _iinfo(ndgrad, name) == torch_ref("iinfo", lambda torch: _iinfo(torch, name))


def test_defaults_python_types_and_errors(torch_ref):
    def probe(torch):
        out = [repr(torch.finfo()), repr(torch.finfo(float)), repr(torch.iinfo(int)),
               torch.finfo() == torch.finfo(torch.float32), torch.finfo(type=torch.float64).eps]
        for bad in ("torch.finfo(torch.int32)", "torch.iinfo(torch.float32)", "torch.iinfo(torch.bool)",
                    "torch.finfo('float32')"):
            try:
                eval(bad, {"torch": torch})
                out.append("no error")
            except Exception as e:  # noqa: BLE001
                out.append(f"{type(e).__name__}: {e}")
        return out
    assert probe(ndgrad) == torch_ref("probe", probe)
