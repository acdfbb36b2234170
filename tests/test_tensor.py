"""The Tensor protocol: sizes, Python conversions, dtype conversions, views (shared memory and
version counter), indexing and index assignment. Expected values are NumPy results or
literals recorded from PyTorch 2.13; `test_live_indexing` repeats the indexing table
against torch (live when it is installed, else its recording in tests/references)."""
from __future__ import annotations

import re

import numpy as np
import pytest

import ndgrad

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None


def a6() -> ndgrad.Tensor:
    return ndgrad.arange(6).reshape(2, 3)


# --- sizes and Python conversions ---------------------------------------------------
def test_shape_size_dim_numel() -> None:
    x = ndgrad.ones(2, 3)
    assert x.shape == (2, 3) and isinstance(x.shape, ndgrad.Size) and isinstance(x.size(), ndgrad.Size)
    assert x.size() == ndgrad.Size([2, 3]) and repr(x.size()) == "ndgrad.Size([2, 3])"
    assert x.size(1) == 3 and x.size(-1) == 3 and x.shape[0] == 2
    assert x.dim() == 2 and x.ndim == 2 and x.ndimension() == 2
    assert x.numel() == 6 and x.nelement() == 6 and ndgrad.numel(x) == 6
    assert ndgrad.ones(()).numel() == 1 and ndgrad.ones(0, 3).numel() == 0 and ndgrad.ones(()).dim() == 0
    assert x.shape.numel() == 6 and isinstance(x.shape[:1], ndgrad.Size)
    assert str(x.device) == "cpu" and x.device.type == "cpu" and x.device == "cpu" and not x.is_cuda
    assert x.dtype is ndgrad.float32 and x.element_size() == 4 and x.itemsize == 4 and x.nbytes == 24
    assert x.is_floating_point() and not ndgrad.arange(2).is_floating_point()
    assert ndgrad.is_tensor(x) and not ndgrad.is_tensor(np.ones(2))
    with pytest.raises(IndexError, match=re.escape("Dimension out of range (expected to be in range of [-2, 1], "
                                                   "but got 2)")):
        x.size(2)


def test_item_tolist() -> None:
    assert ndgrad.tensor(2.5).item() == 2.5 and isinstance(ndgrad.tensor(2.5).item(), float)
    assert ndgrad.tensor([[7]]).item() == 7 and isinstance(ndgrad.tensor([[7]]).item(), int)
    assert ndgrad.tensor(True).item() is True
    assert ndgrad.tensor([1.5, 2]).tolist() == [1.5, 2.0]
    assert ndgrad.tensor(1.5).tolist() == 1.5
    assert ndgrad.zeros(0, 2).tolist() == []
    t = ndgrad.tensor([[1, 2], [3, 4]]).tolist()
    assert t == [[1, 2], [3, 4]] and type(t[0][0]) is int
    with pytest.raises(RuntimeError, match="a Tensor with 2 elements cannot be converted to Scalar"):
        ndgrad.ones(2).item()
    with pytest.raises(RuntimeError, match="a Tensor with 0 elements cannot be converted to Scalar"):
        ndgrad.ones(0).item()


def test_bool_float_int_index() -> None:
    assert bool(ndgrad.tensor(0.0)) is False and bool(ndgrad.tensor([1])) is True
    assert float(ndgrad.tensor(2.5)) == 2.5 and float(ndgrad.tensor([2.5])) == 2.5
    assert int(ndgrad.tensor(2.7)) == 2 and int(ndgrad.tensor(-2.7)) == -2
    assert complex(ndgrad.tensor(2.0)) == 2 + 0j
    lst = [1, 2, 3]
    assert lst[ndgrad.tensor(1)] == 2 and lst[ndgrad.tensor([1])] == 2 and lst[ndgrad.tensor(True)] == 2
    assert f"{ndgrad.tensor(2.5):.2f}" == "2.50"
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with more than one value is ambiguous"):
        bool(ndgrad.ones(2))
    with pytest.raises(RuntimeError, match="Boolean value of Tensor with no values is ambiguous"):
        bool(ndgrad.ones(0))
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
        float(ndgrad.ones(2))
    with pytest.raises(ValueError, match="only one element tensors can be converted to Python scalars"):
        int(ndgrad.ones(3))
    with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
        lst[ndgrad.tensor(1.0)]
    with pytest.raises(TypeError, match="only integer tensors of a single element can be converted to an index"):
        lst[ndgrad.tensor([1, 2])]


def test_len_iter() -> None:
    assert len(ndgrad.ones(4, 2)) == 4 and len(ndgrad.ones(0, 2)) == 0
    rows = list(ndgrad.ones(2, 3))
    assert len(rows) == 2 and rows[1].shape == (3,)
    assert [v.item() for v in ndgrad.arange(3)] == [0, 1, 2]
    assert list(iter(ndgrad.ones(0))) == []
    x = ndgrad.zeros(2, 3)
    for row in x:  # iteration yields views, as in PyTorch
        row += 1
    assert x.sum().item() == 6
    with pytest.raises(TypeError, match="len\\(\\) of a 0-d tensor"):
        len(ndgrad.ones(()))
    with pytest.raises(TypeError, match="iteration over a 0-d tensor"):
        list(ndgrad.tensor(3))


# --- dtype conversions --------------------------------------------------------------
CONVERSIONS = [
    ("x.to(L.float64)", "float64", [1.7, -1.7, 0.0]),
    ("x.to(dtype=L.int64)", "int64", [1, -1, 0]),
    ("x.to('cpu')", "float32", [1.7, -1.7, 0.0]),
    ("x.to('cpu', L.int32)", "int32", [1, -1, 0]),
    ("x.to(L.ones(1, dtype=L.float64))", "float64", [1.7, -1.7, 0.0]),
    ("x.to(float)", "float64", [1.7, -1.7, 0.0]),
    ("x.long()", "int64", [1, -1, 0]),
    ("x.int()", "int32", [1, -1, 0]),
    ("x.short()", "int16", [1, -1, 0]),
    ("x.char()", "int8", [1, -1, 0]),
    ("x.bool()", "bool", [True, True, False]),
    ("x.double()", "float64", [1.7, -1.7, 0.0]),
    ("x.half()", "float16", [1.7, -1.7, 0.0]),
    ("x.float()", "float32", [1.7, -1.7, 0.0]),
    ("x.abs().byte()", "uint8", [1, 1, 0]),
    ("x.type(L.int64)", "int64", [1, -1, 0]),
    ("x.type('torch.LongTensor')", "int64", [1, -1, 0]),
    ("x.type('torch.DoubleTensor')", "float64", [1.7, -1.7, 0.0]),
    ("x.type_as(L.tensor([1]))", "int64", [1, -1, 0]),
    ("x.long().float()", "float32", [1.0, -1.0, 0.0]),
    ("L.tensor([1+2j, 3]).real", "float32", [1.0, 3.0]),
    ("L.tensor([300, -1]).to(L.uint8)", "uint8", [44, 255]),
    ("L.tensor([True, False]).long()", "int64", [1, 0]),
    ("L.tensor([1, 2]).double()", "float64", [1.0, 2.0]),
]


@pytest.mark.parametrize("expr,dtype,values", CONVERSIONS, ids=[c[0] for c in CONVERSIONS])
def test_conversions(expr: str, dtype: str, values: list) -> None:
    for L in (ndgrad,) + ((torch,) if torch is not None else ()):
        x = L.tensor([1.7, -1.7, 0.0])
        r = eval(expr, {"L": L, "x": x})  # noqa: S307 - literal table above
        assert str(r.dtype).split(".")[-1] == dtype, L.__name__
        np.testing.assert_allclose(np.asarray(r.numpy(), dtype=np.float64), values, rtol=1e-3)


def test_to_same_dtype_returns_self_and_copy() -> None:
    x = ndgrad.ones(3)
    assert x.to(ndgrad.float32) is x and x.to("cpu") is x and x.float() is x
    y = x.to(ndgrad.float32, copy=True)
    assert y is not x and not np.shares_memory(y.numpy(), x.numpy())
    assert ndgrad.tensor([1, 2]).type() == "torch.LongTensor"
    assert ndgrad.tensor([1.0]).type() == "torch.FloatTensor"
    with pytest.raises(ValueError, match="invalid type"):
        x.type("torch.Foo")


# --- views share memory and the version counter ---------------------------------------
VIEWS = {
    "reshape": lambda x: x.reshape(4, 3), "view": lambda x: x.view(2, 6), "view_-1": lambda x: x.view(-1),
    "T": lambda x: x.T, "mT": lambda x: x.mT, "t": lambda x: x.t(), "permute": lambda x: x.permute(1, 0),
    "transpose": lambda x: x.transpose(0, 1), "narrow": lambda x: x.narrow(1, 1, 2),
    "slice": lambda x: x[1:, ::2], "int": lambda x: x[1], "none_ellipsis": lambda x: x[None, ..., 1],
    "unsqueeze": lambda x: x.unsqueeze(0), "squeeze": lambda x: x.unsqueeze(1).squeeze(1),
    "flatten": lambda x: x.flatten(), "select": lambda x: x.select(1, 2), "unbind": lambda x: x.unbind(0)[1],
    "split": lambda x: x.split(2, 1)[1], "chunk": lambda x: x.chunk(2, 0)[0], "movedim": lambda x: x.movedim(0, 1),
    "detach": lambda x: x.detach(), "view_as": lambda x: x.view_as(ndgrad.ones(12)),
    "unflatten": lambda x: x.unflatten(1, (2, 2)), "contiguous": lambda x: x.contiguous(),
    "expand": lambda x: x[:1].expand(5, 4),
}


@pytest.mark.parametrize("name", list(VIEWS))
def test_views_share_memory_and_version(name: str) -> None:
    x = ndgrad.arange(12.0).reshape(3, 4)
    y = VIEWS[name](x)
    assert np.shares_memory(y.numpy(), x.numpy()), name
    assert y._version is x._version
    v = x._version_count
    if name == "expand":
        x[0, 0] = 100.0  # writes to the base show in the expanded view
        assert y[4, 0].item() == 100.0
        return
    y.add_(1)
    assert x._version_count == v + 1
    assert x.sum().item() == 66 + y.numel()  # the write went through to the base


def test_copies_do_not_share() -> None:
    x = ndgrad.arange(12.0).reshape(3, 4)
    for y in (x.clone(), x[[0, 1]], x[x > 3], x.flip(0), x.T.reshape(-1), x.repeat(1, 2), x + 0):
        assert not np.shares_memory(y.numpy(), x.numpy())
        assert y._version is not x._version


def test_view_of_non_contiguous_raises() -> None:
    x = ndgrad.ones(2, 3).t()
    assert not x.is_contiguous() and x.contiguous().is_contiguous()
    assert x.stride() == (1, 3) and ndgrad.ones(2, 3).stride() == (3, 1)
    with pytest.raises(RuntimeError, match="view size is not compatible with input tensor's size and stride"):
        x.view(6)
    assert x.reshape(6).shape == (6,) and x.view(3, 2).shape == (3, 2)
    with pytest.raises(RuntimeError, match="only one dimension can be inferred"):
        ndgrad.ones(2, 3).view(-1, -1)
    with pytest.raises(RuntimeError, match=re.escape("shape '[4, -1]' is invalid for input of size 6")):
        ndgrad.ones(2, 3).view(4, -1)


def test_inplace_on_expanded_view_raises() -> None:
    y = ndgrad.ones(1, 3).expand(2, 3)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        y.add_(1)


def test_setitem_bumps_version_and_writes_through_views() -> None:
    x = ndgrad.arange(4.0)
    x[1:3] = 5
    assert x.tolist() == [0, 5, 5, 3] and x._version_count == 1
    y = x[1:3]
    y[0] = -1
    assert x.tolist() == [0, -1, 5, 3] and x._version_count == 2 and y._version_count == 2


def test_shape_methods() -> None:
    x = a6()
    assert x.T.shape == (3, 2) and ndgrad.ones(2, 3, 4).mT.shape == (2, 4, 3) and ndgrad.ones(2, 3, 4).T.shape == (
        4, 3, 2)
    assert x.flip(0).tolist() == [[3, 4, 5], [0, 1, 2]]
    assert x.roll(1).tolist() == [[5, 0, 1], [2, 3, 4]] and x.roll(1, 1).tolist() == [[2, 0, 1], [5, 3, 4]]
    assert ndgrad.ones(2, 1, 3).squeeze().shape == (2, 3) and ndgrad.ones(2, 1, 3).squeeze(0).shape == (2, 1, 3)
    assert ndgrad.ones(2, 1, 3).squeeze((0, 1)).shape == (2, 3)
    assert x.expand_as(ndgrad.ones(4, 2, 3)).shape == (4, 2, 3)
    assert x.broadcast_to((2, 2, 3)).shape == (2, 2, 3)
    assert [t.tolist() for t in x.split([1, 2], 1)] == [[[0], [3]], [[1, 2], [4, 5]]]
    assert [t.shape for t in x.chunk(4, 1)] == [(2, 1)] * 3
    assert x.repeat_interleave(2).tolist() == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert x.tile((2,)).shape == (2, 6)
    y = ndgrad.ones(2, 3)
    assert y.t_() is y and y.shape == (3, 2)


# --- indexing -------------------------------------------------------------------------
# (expression over x = arange(24).reshape(2, 3, 4), NumPy-equivalent expression or None if it is the same)
INDEXING = [
    ("x[1]", None), ("x[-1, -2]", None), ("x[1, 2, 3]", None), ("x[:, 1:3, ::2]", None), ("x[..., 1]", None),
    ("x[None]", None), ("x[:, None, 1]", None), ("x[1, ..., None]", None), ("x[::-1]", "ERROR"),
    ("x[[1, 0]]", None), ("x[L.tensor([1, 0])]", "x[[1, 0]]"), ("x[[1, 0], [2, 2]]", None),
    ("x[:, [2, 0]]", None), ("x[:, :, [3, 3, 0]]", None), ("x[[[0], [1]], [0, 2]]", None),
    ("x[[0, 1], :, [1, 2]]", None), ("x[:, [0, 1], [1, 2]]", None),
    ("x[0, :, [1, 2]]", "x[0][:, [1, 2]]"), ("x[[0, 1], 0, [1, 2]]", "x[:, 0][[0, 1], [1, 2]]"),
    ("x[None, 0, :, [1, 2]]", "x[None, 0][:, :, [1, 2]]"), ("x[..., 0, [1, 2]]", "x[..., 0, :][..., [1, 2]]"),
    ("x[x > 10]", None), ("x[L.tensor([True, False])]", "x[np.array([True, False])]"),
    ("x[:, L.tensor([True, False, True])]", "x[:, np.array([True, False, True])]"),
    ("x[1, L.tensor([True, False, True])]", "x[1][np.array([True, False, True])]"),
    ("x[L.tensor(1)]", "x[1]"), ("x[L.tensor([[1]])]", "x[[[1]]]"), ("x[True]", None), ("x[False]", None),
    ("x[[]]", "x[np.array([], dtype=np.int64)]"), ("x[L.tensor([], dtype=L.int64)]", "x[np.array([], np.int64)]"),
    ("x[1][2][3]", None), ("x[1:1]", None), ("x[5:]", None), ("x[-100:100]", None),
]


def _np_eval(expr: str) -> np.ndarray:
    x = np.arange(24).reshape(2, 3, 4)
    return np.asarray(eval(expr, {"x": x, "np": np}))  # noqa: S307


@pytest.mark.parametrize("expr,np_expr", INDEXING, ids=[i[0] for i in INDEXING])
def test_getitem(expr: str, np_expr: str | None) -> None:
    x = ndgrad.arange(24).reshape(2, 3, 4)
    if np_expr == "ERROR":
        with pytest.raises(ValueError, match="step must be greater than zero"):
            eval(expr, {"x": x, "L": ndgrad})  # noqa: S307
        return
    got = eval(expr, {"x": x, "L": ndgrad})  # noqa: S307
    want = _np_eval(np_expr or expr)
    assert got.dtype is ndgrad.int64 and got.shape == want.shape
    np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("expr", [i[0] for i in INDEXING if i[1] != "ERROR"])
def test_live_indexing(expr: str, torch_ref) -> None:
    got = eval(expr, {"x": ndgrad.arange(24).reshape(2, 3, 4), "L": ndgrad})  # noqa: S307
    want = torch_ref("x", lambda torch: eval(expr, {"x": torch.arange(24).reshape(2, 3, 4), "L": torch}))  # noqa: S307
    assert tuple(got.shape) == want.shape and want.dtype == np.int64
    np.testing.assert_array_equal(got.numpy(), want)


def test_getitem_0d() -> None:
    t = ndgrad.tensor(5)
    assert t[None].shape == (1,) and t[...].shape == () and t[()].item() == 5
    with pytest.raises(IndexError, match="invalid index of a 0-dim tensor"):
        t[0]


SETITEM = [  # (key, value, NumPy key) on x = zeros(2, 3, 4)
    ("1", "5.0", None), ("(0, slice(1, 3))", "L.arange(4.0)", None), ("(Ellipsis, 0)", "L.ones(2, 1)", None),
    ("(slice(None), None, 1)", "L.tensor([7.0, 8.0, 9.0, 10.0])", None),
    ("[1, 0]", "L.arange(4.0)", None), ("([0, 1], [2, 0])", "L.tensor([[1.0], [2.0]])", None),
    ("(0, slice(None), [1, 2])", "L.ones(3, 2)", "(0, slice(None), [1, 2])"),
    ("x > -1", "3.0", None), ("L.tensor([True, False])", "L.arange(4.0)", "np.array([True, False])"),
    ("(slice(None), L.tensor([True, False, True]))", "-1.0", "(slice(None), np.array([True, False, True]))"),
    ("(1, 2, 3)", "L.tensor(6.0)", None), ("(1, 2, 3)", "L.tensor([[6.0]])", None),
    ("0", "L.ones(1, 3, 4)", None), ("(slice(None), 0)", "L.tensor(2, dtype=L.int64)", None),
]


@pytest.mark.parametrize("key,value,np_key", SETITEM, ids=[f"{s[0]}={s[1]}" for s in SETITEM])
def test_setitem(key: str, value: str, np_key: str | None) -> None:
    x = ndgrad.zeros(2, 3, 4)
    k = eval(key, {"L": ndgrad, "x": x})  # noqa: S307
    v = eval(value, {"L": ndgrad})  # noqa: S307
    x[k] = v
    want = np.zeros((2, 3, 4), np.float32)
    nk = eval(np_key or key, {"np": np, "x": want, "L": ndgrad})  # noqa: S307
    nv = np.asarray(v.numpy() if isinstance(v, ndgrad.Tensor) else v)
    target = want[nk] if np_key != "(0, slice(None), [1, 2])" else want[0][:, [1, 2]]
    nv = nv.reshape(nv.shape[-target.ndim:] if target.ndim else ()) if nv.ndim > target.ndim else nv
    if np_key == "(0, slice(None), [1, 2])":
        want[0][:, [1, 2]] = nv
    else:
        want[nk] = nv
    assert x.dtype is ndgrad.float32
    np.testing.assert_array_equal(x.numpy(), want)


def test_setitem_errors() -> None:
    x = ndgrad.zeros(2, 3)
    with pytest.raises(RuntimeError, match=re.escape("shape mismatch: value tensor of shape [4] cannot be broadcast "
                                                     "to indexing result of shape [2, 3]")):
        x[:] = ndgrad.ones(4)
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[5] = 1.0
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[0, 0, 0] = 1.0


def test_indexing_errors() -> None:
    x = ndgrad.arange(6).reshape(2, 3)
    with pytest.raises(IndexError, match="index 2 is out of bounds for dimension 0 with size 2"):
        x[2]
    with pytest.raises(IndexError, match="index -3 is out of bounds for dimension 0 with size 2"):
        x[-3]
    with pytest.raises(IndexError, match="index 3 is out of bounds for dimension 1 with size 3"):
        x[0, 3]
    with pytest.raises(IndexError, match="too many indices for tensor of dimension 2"):
        x[1, 2, 0]
    with pytest.raises(IndexError, match="tensors used as indices must be long, int, byte or bool tensors"):
        x[ndgrad.tensor([0.0])]
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[ndgrad.tensor([5])]
    with pytest.raises(IndexError, match=re.escape("The shape of the mask [2] at index 0 does not match the shape "
                                                   "of the indexed tensor [2, 3] at index 1")):
        x[:, ndgrad.tensor([True, False])]
    with pytest.raises(ValueError, match="slice step cannot be zero"):
        x[::0]
    with pytest.raises(IndexError, match="only integers, slices"):
        x[1.0]


def test_indexing_ops() -> None:
    x = a6()
    m = ndgrad.tensor([True, False, True])
    assert ndgrad.ones(2, 3).masked_fill(m, 5.0).tolist() == [[5, 1, 5], [5, 1, 5]]
    assert x.masked_select(m).tolist() == [0, 2, 3, 5]
    assert x.nonzero().tolist() == [[0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]
    assert [t.tolist() for t in ndgrad.nonzero(x > 3, as_tuple=True)] == [[1, 1], [1, 2]]
    assert [t.tolist() for t in ndgrad.where(x > 3)] == [[1, 1], [1, 2]]
    assert x.index_select(0, ndgrad.tensor([1, 1])).tolist() == [[3, 4, 5], [3, 4, 5]]
    assert x.gather(1, ndgrad.tensor([[0], [2]])).tolist() == [[0], [5]]
    assert ndgrad.zeros(2, 3).scatter(1, ndgrad.tensor([[0], [2]]), 1.0).tolist() == [[1, 0, 0], [0, 0, 1]]
    s = ndgrad.zeros(2, 3).scatter_add(1, ndgrad.tensor([[0, 0], [2, 2]]), ndgrad.ones(2, 2))
    assert s.tolist() == [[2, 0, 0], [0, 0, 2]]
    y = ndgrad.zeros(2, 3)
    assert y.scatter_(1, ndgrad.tensor([[0], [2]]), ndgrad.ones(2, 1)) is y and y.sum().item() == 2
    assert ndgrad.zeros(2, 3).index_add_(0, ndgrad.tensor([0, 0]), ndgrad.ones(2, 3)).tolist()[0] == [2, 2, 2]
    assert ndgrad.zeros(2, 3).masked_fill_(m, 2.0).sum().item() == 8
    assert ndgrad.zeros(2, 3).index_fill_(1, ndgrad.tensor([0]), 2.0).sum().item() == 4


# --- in-place arithmetic ------------------------------------------------------------------
def test_inplace_ops() -> None:
    x = ndgrad.ones(3)
    y = x
    x += 1
    assert x is y and x.tolist() == [2, 2, 2]
    x *= ndgrad.tensor([1.0, 2.0, 3.0])
    x -= 1
    x /= 2
    assert x is y and x.tolist() == [0.5, 1.5, 2.5]
    x **= 2
    assert x.tolist() == [0.25, 2.25, 6.25]
    assert ndgrad.ones(3).add_(ndgrad.ones(3), alpha=2).tolist() == [3, 3, 3]
    assert ndgrad.ones(2, 3).add_(ndgrad.ones(3)).shape == (2, 3)
    assert ndgrad.ones(3, dtype=ndgrad.int64).mul_(2).dtype is ndgrad.int64
    assert ndgrad.ones(3).zero_().tolist() == [0, 0, 0] and ndgrad.ones(3).fill_(7).tolist() == [7, 7, 7]
    assert ndgrad.ones(3, dtype=ndgrad.int64).fill_(2.7).tolist() == [2, 2, 2]
    assert ndgrad.ones(3).fill_(ndgrad.tensor(4.0)).tolist() == [4, 4, 4]
    assert ndgrad.ones(3).copy_(ndgrad.arange(3)).tolist() == [0, 1, 2]
    assert ndgrad.ones(2, 3).copy_(ndgrad.arange(3)).tolist() == [[0, 1, 2]] * 2
    assert ndgrad.ones(3).clamp_(0, 0.5).tolist() == [0.5] * 3 and ndgrad.ones(3).clamp_(min=2).tolist() == [2] * 3
    i = ndgrad.tensor([1, 2])
    i += 1
    assert i.dtype is ndgrad.int64 and i.tolist() == [2, 3]
    f = ndgrad.arange(6.0)
    v = f[2:4]
    v.sub_(10)
    assert f.tolist() == [0, 1, -8, -7, 4, 5]
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ndgrad.ones(3, dtype=ndgrad.int64).add_(1.5)
    with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
        ndgrad.ones(3, dtype=ndgrad.int64).div_(2)
    with pytest.raises(RuntimeError, match=re.escape("output with shape [3] doesn't match the broadcast shape [2, 3]")):
        ndgrad.ones(3).add_(ndgrad.ones(2, 3))
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        ndgrad.ones(3, requires_grad=True).add_(1)


# --- reductions: dim forms, NumPy aliases, named tuples ---------------------------------
def test_reduction_dim_forms_and_numpy_aliases() -> None:
    x = ndgrad.arange(6.0).reshape(2, 3)
    a = np.arange(6.0).reshape(2, 3)
    for name in ("sum", "mean", "amax", "amin", "prod", "std", "var", "logsumexp", "all", "any", "nansum"):
        special = {"std": lambda v, **k: np.std(v, ddof=1, **k), "var": lambda v, **k: np.var(v, ddof=1, **k),
                   "logsumexp": lambda v, **k: np.log(np.sum(np.exp(v), **k))}
        ref = special[name] if name in special else getattr(np, name.replace("amax", "max").replace("amin", "min"))
        for kw, npkw in (({"axis": 1}, {"axis": 1}), ({"dim": 1, "keepdims": True}, {"axis": 1, "keepdims": True}),
                         ({"dim": (0, 1)}, {"axis": (0, 1)}), ({"dim": [0, 1], "keepdim": True},
                                                               {"axis": (0, 1), "keepdims": True})):
            if name == "prod" and isinstance(kw.get("dim"), (tuple, list)):
                continue
            got = getattr(x, name)(**kw)
            np.testing.assert_allclose(got.numpy(), ref(a, **npkw), rtol=1e-6, err_msg=f"{name} {kw}")
            assert got.dtype is (ndgrad.bool if name in ("all", "any") else ndgrad.float32)
    r = x.max(axis=1)
    assert r.values.tolist() == [2, 5] and r.indices.tolist() == [2, 2] and type(r).__name__ == "max"
    r = x.min(dim=1, keepdim=True)
    assert r[0].shape == (2, 1) and r.indices.dtype is ndgrad.int64
    values, indices = x.sort(1, descending=True)
    assert values.tolist() == [[2, 1, 0], [5, 4, 3]] and indices.tolist() == [[2, 1, 0]] * 2
    assert x.topk(2).indices.tolist() == [[2, 1]] * 2 and x.median(dim=1).values.tolist() == [1, 4]
    assert x.squeeze(axis=0).shape == (2, 3) and x.unsqueeze(axis=0).shape == (1, 2, 3)


def test_reductions_with_nan_and_0d() -> None:
    nan = float("nan")
    assert ndgrad.tensor([1.0, nan, 3.0]).median().isnan().item()
    m = ndgrad.tensor([[1.0, nan, 3.0], [1.0, 2.0, 3.0]]).median(1)
    assert m.values.isnan().tolist() == [True, False] and m.indices.tolist() == [1, 1]
    assert ndgrad.tensor([1.0, nan, 3.0]).max().isnan().item()
    assert ndgrad.tensor(2.0).logsumexp(0).item() == 2.0
    assert ndgrad.tensor(2.0).sum(0).item() == 2.0 and ndgrad.tensor(2.0).max(0).indices.item() == 0
    assert ndgrad.tensor(2.0).std().isnan().item() and ndgrad.zeros(0).sum().item() == 0
    assert ndgrad.logsumexp(ndgrad.tensor([-float("inf")] * 2), 0).item() == -float("inf")


def test_view_as_dtype_reinterprets_bytes() -> None:
    # regression: view(dtype) kept the old dtype label over the reinterpreted array
    x = ndgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    v = x.view(ndgrad.int32)
    assert v.dtype is ndgrad.int32 and v.tolist() == [[1065353216, 1073741824], [1077936128, 1082130432]]
    v[0, 0] = 0
    assert x[0, 0].item() == 0.0  # shares memory
    assert x.view(ndgrad.float64).shape == (2, 1) and x.view(ndgrad.int16).shape == (2, 4)
    with pytest.raises(RuntimeError, match=r"self.size\(-1\) must be divisible by 2 to view Float as Double"):
        ndgrad.ones(2, 3).view(ndgrad.float64)
    with pytest.raises(RuntimeError, match=r"self.stride\(-1\) must be 1 to view Float as Double"):
        ndgrad.ones(4, 4).t().view(ndgrad.float64)
    with pytest.raises(RuntimeError, match="self.dim\\(\\) cannot be 0 to view Float as Double"):
        ndgrad.ones(()).view(ndgrad.float64)


def test_integer_pow_with_negative_tensor_exponents() -> None:
    # regression: a scalar base over an int tensor of negative exponents leaked NumPy's ValueError
    e = ndgrad.tensor([-3, -2, 0, 2])
    for base, want in ((2, [0, 0, 1, 4]), (-1, [-1, 1, 1, 1]), (1, [1, 1, 1, 1]), (-2, [0, 0, 1, 4])):
        r = base ** e
        assert r.dtype is ndgrad.int64 and r.tolist() == want
        assert ndgrad.pow(base, e).tolist() == want and ndgrad.tensor(base).pow(e).tolist() == want
    assert (2.5 ** e).dtype is ndgrad.float32


def test_named_tuple_results_have_pytorchs_fields() -> None:
    # regression: aminmax exposed .values/.indices instead of .min/.max; linalg results had no field names
    # and qr(mode='r') crashed
    r = ndgrad.aminmax(ndgrad.tensor([[1.0, 5.0], [3.0, 2.0]]), dim=1)
    assert r.min.tolist() == [1.0, 2.0] and r.max.tolist() == [5.0, 3.0]
    assert repr(r).startswith("ndgrad.return_types.aminmax(\nmin=")
    assert ndgrad.tensor([3.0, 1.0]).max(0).indices.item() == 0
    A = ndgrad.tensor([[2.0, 1.0], [1.0, 3.0]])
    q, rr = ndgrad.linalg.qr(A, mode="r")
    assert q.shape == (0,) and rr.shape == (2, 2)
    np.testing.assert_allclose(np.abs(ndgrad.linalg.qr(A).R.numpy()), np.abs(np.linalg.qr(A.numpy())[1]), rtol=1e-6)
    s = ndgrad.linalg.svd(A)
    assert [t.shape for t in (s.U, s.S, s.Vh)] == [(2, 2), (2,), (2, 2)]
    e = ndgrad.linalg.eigh(A)
    np.testing.assert_allclose(e.eigenvalues.numpy(), np.linalg.eigvalsh(A.numpy()), rtol=1e-6)
    assert ndgrad.linalg.slogdet(A).sign.item() == 1.0
    with pytest.raises(RuntimeError, match="qr received unrecognized mode 'x'"):
        ndgrad.linalg.qr(A, mode="x")
