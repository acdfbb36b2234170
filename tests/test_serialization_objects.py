"""Whole objects in checkpoints: torch.save(model) / any picklable object, load(weights_only=False),
PyTorch-written modules loading as ndgrad modules, and the safe loader's allowlist."""
from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

import ndgrad
from ndgrad import serialization

W = np.linspace(-1, 1, 6, dtype=np.float32).reshape(3, 2)
X = np.array([[0.5, -1.5]], np.float32)


class Point:
    """A user class (module level, so pickle can name it)."""

    def __init__(self, x, y):
        self.x, self.y = x, y


class Stateful:
    def __init__(self, v):
        self.v = v

    def __getstate__(self):
        return {"packed": self.v * 2}

    def __setstate__(self, state):
        self.v = state["packed"] // 2


def _model(L):
    m = L.nn.Sequential(L.nn.Linear(2, 3), L.nn.ReLU(), L.nn.Linear(3, 1))
    with L.no_grad():
        m[0].weight.copy_(L.tensor(W))
        m[0].bias.fill_(0.25)
        m[2].weight.fill_(0.5)
        m[2].bias.fill_(-0.1)
    return m


def _bytes(obj, L=ndgrad) -> bytes:
    b = io.BytesIO()
    L.save(obj, b)
    return b.getvalue()


def test_save_model_and_load_it_whole():
    m = _model(ndgrad)
    m.extra = {"note": "hi", "arr": np.arange(3)}
    back = ndgrad.load(io.BytesIO(_bytes(m)), weights_only=False)
    assert type(back) is ndgrad.nn.Sequential and type(back[0]) is ndgrad.nn.Linear
    assert isinstance(back[0].weight, ndgrad.nn.Parameter) and back[0].weight.requires_grad
    np.testing.assert_array_equal(back(ndgrad.tensor(X)).detach().numpy(), m(ndgrad.tensor(X)).detach().numpy())
    assert list(back.state_dict()) == list(m.state_dict()) and back.extra["note"] == "hi"
    np.testing.assert_array_equal(back.extra["arr"], np.arange(3))
    back(ndgrad.tensor(X)).sum().backward()  # a working module: gradients flow
    assert back[0].weight.grad.shape == (3, 2)


def test_containers_of_arrays_and_tensors_load_in_pytorch(torch_ref):
    t = ndgrad.tensor(W)
    obj = {"arr": np.arange(4.0), "t": t, "view": t[1:], "nest": [(1, {"x": np.eye(2)}, "s")],
           "bf": ndgrad.tensor([1.5, -2.25], dtype=ndgrad.bfloat16), "dt": ndgrad.float16, "size": ndgrad.Size([2])}
    data = _bytes(obj)

    def torch_reads(torch):
        got = torch.load(io.BytesIO(data), weights_only=False)
        return [got["arr"], got["t"], got["view"], got["nest"][0][1]["x"], got["bf"], str(got["dt"]),
                tuple(got["size"]), got["view"].untyped_storage().data_ptr() == got["t"].untyped_storage().data_ptr()]
    want = torch_ref("torch_reads", torch_reads)
    np.testing.assert_array_equal(want[0], np.arange(4.0))
    np.testing.assert_array_equal(want[1], W)
    np.testing.assert_array_equal(want[2], W[1:])
    np.testing.assert_array_equal(want[3], np.eye(2))
    np.testing.assert_array_equal(want[4], [1.5, -2.25])
    assert want[5:] == ["torch.float16", (2,), True]  # the view shares its storage in PyTorch too
    back = ndgrad.load(io.BytesIO(data), weights_only=False)
    assert back["bf"].dtype is ndgrad.bfloat16 and back["dt"] is ndgrad.float16 and back["size"] == (2,)
    back["t"][1, 0] = 9.0
    assert float(back["view"][0, 0]) == 9.0  # and in ndgrad


def test_pytorch_saved_module_loads_as_ndgrad_module(torch_ref):
    def written(torch):
        return list(_bytes(_model(torch), torch))
    def out(torch):
        return _model(torch)(torch.tensor(X)).detach()
    data, want = bytes(torch_ref("file", written)), torch_ref("out", out)
    m = ndgrad.load(io.BytesIO(data), weights_only=False)
    assert type(m) is ndgrad.nn.Sequential and type(m[0]) is ndgrad.nn.Linear and type(m[1]) is ndgrad.nn.ReLU
    np.testing.assert_allclose(m(ndgrad.tensor(X)).detach().numpy(), want, rtol=1e-6)
    assert m.training and repr(m).startswith("Sequential(")


def test_default_load_refuses_and_names_the_global(torch_ref):
    data = _bytes({"a": np.arange(3)})

    def torch_message(torch):
        try:
            torch.load(io.BytesIO(data))
        except pickle.UnpicklingError as e:
            return next(line.strip() for line in str(e).splitlines() if "Unsupported global" in line)
    want = torch_ref("msg", torch_message)
    with pytest.raises(pickle.UnpicklingError) as info:
        ndgrad.load(io.BytesIO(data))
    assert want in str(info.value) and "add_safe_globals" in want


def test_safe_globals_allowlist(torch_ref):
    data = _bytes({"p": Point(ndgrad.tensor([1.0, 2.0]), 3), "s": Stateful(21)})
    serialization.clear_safe_globals()
    with pytest.raises(pickle.UnpicklingError, match="test_serialization_objects.Point"):
        ndgrad.load(io.BytesIO(data))
    with serialization.safe_globals([Point, Stateful]):
        assert serialization.get_safe_globals() == [Point, Stateful]
        got = ndgrad.load(io.BytesIO(data))
    assert serialization.get_safe_globals() == []
    assert type(got["p"]) is Point and got["p"].y == 3 and got["s"].v == 21
    np.testing.assert_array_equal(got["p"].x.numpy(), [1.0, 2.0])
    serialization.add_safe_globals([(Point, "test_serialization_objects.Point"), Stateful])
    try:
        assert ndgrad.load(io.BytesIO(data))["p"].y == 3
    finally:
        serialization.clear_safe_globals()
    assert serialization.get_safe_globals() == []

    def torch_file(torch):  # a checkpoint PyTorch wrote with the same classes
        return list(_bytes({"p": Point(torch.tensor([4.0]), "y")}, torch))
    torch_data = bytes(torch_ref("file", torch_file))
    with serialization.safe_globals([Point]):
        p = ndgrad.load(io.BytesIO(torch_data))["p"]
    assert p.y == "y" and float(p.x[0]) == 4.0


def test_torch_names_ndgrad_lacks_fail_clearly():
    data = b"\x80\x02ctorch.nn.modules.fancy\nFancyLayer\n)\x81."  # GLOBAL, EMPTY_TUPLE, NEWOBJ, STOP
    with pytest.raises(pickle.UnpicklingError, match="ndgrad does not implement torch.nn.modules.fancy.FancyLayer"):
        serialization._unpickle_full(data, lambda pid: None)
