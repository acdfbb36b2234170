"""ndgrad.save / ndgrad.load (PyTorch's checkpoint format) and ndgrad.utils.safetensors.

Torch-comparison tests skip when PyTorch is absent; the checkpoints recorded from
torch.save in tests/data/ (see make_serialization_fixtures.py) are checked against
literal values, so compatibility is still tested without it.
"""
from __future__ import annotations

import collections
import io
import json
import math
import os
import pathlib
import pickle
import struct
import warnings
import zipfile

import numpy as np
import pytest

import ndgrad
from ndgrad import serialization as S
from ndgrad.utils import safetensors as st

DATA = pathlib.Path(__file__).parent / "data"
ALL_DTYPES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64",
              "complex64", "complex128"]


def T(arr, requires_grad: bool = False):
    t = ndgrad.from_numpy(np.asarray(arr))
    if requires_grad:
        t.requires_grad_(True)
    return t


def roundtrip(obj, **load_kw):
    buf = io.BytesIO()
    ndgrad.save(obj, buf)
    buf.seek(0)
    return ndgrad.load(buf, **load_kw)


def assert_same(t, expected, dtype: str | None = None):
    arr = np.asarray(expected)
    assert isinstance(t, ndgrad.Tensor)
    assert t.dtype.name == (dtype or arr.dtype.name)
    assert tuple(t.shape) == arr.shape
    np.testing.assert_array_equal(t._data, arr)


def sample(name: str) -> np.ndarray:
    dt = np.dtype(name)
    if dt.kind == "b":
        return np.array([[True, False, True], [False, False, True]])
    if dt.kind in "iu":
        info = np.iinfo(dt)
        return np.array([[info.min, 0, info.max], [1, 2, 3]], dtype=dt)
    if dt.kind == "f":
        return np.array([[np.inf, -np.inf, np.nan], [-0.0, 1.5, np.finfo(dt).tiny]], dtype=dt)
    return np.array([[1 + 2j, np.nan + 1j, -0.0], [1e-30j, 3.0, -1 - 1j]], dtype=dt)


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("name", ALL_DTYPES)
def test_roundtrip_every_dtype_exact(name):
    arr = sample(name)
    out = roundtrip({"x": T(arr), "scalar": T(arr[0, 1]), "empty": T(arr[:0])})
    for key, ref in (("x", arr), ("scalar", arr[0, 1]), ("empty", arr[:0])):
        t = out[key]
        assert t.dtype is getattr(ndgrad, name)
        assert tuple(t.shape) == np.shape(ref)
        # bitwise equality: NaN payloads, -0.0 and denormals survive
        assert t._data.tobytes() == np.ascontiguousarray(ref).tobytes()


def test_roundtrip_nested_containers():
    od = collections.OrderedDict([("b", T(np.ones(2, np.float32))), ("a", 1)])
    shared = [1, 2]
    obj = {
        "od": od, "list": [1, 2.5, "three", None, True, False, (4, (5,))], "tuple": (), "t1": ("x",),
        "ints": [0, 255, 256, 65535, 65536, -1, 2 ** 31 - 1, -(2 ** 31), 2 ** 31, 2 ** 63, -(2 ** 200)],
        "floats": [0.1, -0.0, float("inf"), 1e-310], "str": "héllo ✓", "bytes": b"\x00\xffab", "empty_bytes": b"",
        "complex": 1 - 2j, "set": {1, "a"}, "size": ndgrad.Size([2, 3]), "dtype": ndgrad.float16,
        "device": ndgrad.device("cpu"), 3: "int key", (1, 2): "tuple key", "shared": [shared, shared],
        "np_scalars": [np.float32(1.5), np.int64(7), np.bool_(True)], "long_list": list(range(2500)),
    }
    out = roundtrip(obj)
    assert type(out["od"]) is collections.OrderedDict and list(out["od"]) == ["b", "a"]
    assert_same(out["od"]["b"], np.ones(2, np.float32))
    for key in ("list", "tuple", "t1", "ints", "str", "bytes", "empty_bytes", "complex", "set", 3, (1, 2),
                "long_list"):
        assert out[key] == obj[key] and type(out[key]) is type(obj[key])
    assert math.isnan(out["floats"][0] - 0.1 + math.nan) and out["floats"][1:] == obj["floats"][1:]
    assert math.copysign(1, out["floats"][1]) == -1
    assert out["size"] == (2, 3) and type(out["size"]) is ndgrad.Size
    assert out["dtype"] is ndgrad.float16
    assert out["device"] == ndgrad.device("cpu")
    assert out["shared"][0] is out["shared"][1]  # identity kept
    assert out["np_scalars"] == [1.5, 7, True]


def test_recursive_list_and_metadata_attribute():
    loop: list = [1]
    loop.append(loop)
    sd = collections.OrderedDict(w=T(np.zeros(1, np.float32)))
    sd._metadata = collections.OrderedDict([("", {"version": 1})])
    out = roundtrip({"loop": loop, "sd": sd})
    assert out["loop"][1] is out["loop"]
    assert out["sd"]._metadata == {"": {"version": 1}}


def test_views_save_their_own_values_and_share_storage():
    base = T(np.arange(24, dtype=np.float32).reshape(4, 6))
    views = {"base": base, "t": base.T, "row": T(base._data[2]), "cols": T(base._data[:, 1::2]),
             "flip": ndgrad.Tensor._make(base._data[::-1], ndgrad.float32), "same": base}  # negative strides
    out = roundtrip(views)
    for k, v in views.items():
        assert_same(out[k], v._data)
    assert out["same"] is out["base"]
    # views of one array load as views of one buffer again
    for k in ("t", "row", "cols"):
        assert np.shares_memory(out[k]._data, out["base"]._data)
    out["base"]._data[2, 0] = -1.0
    assert out["row"]._data[0] == -1.0 and out["t"]._data[0, 2] == -1.0


def test_small_view_of_big_array_writes_only_its_bytes():
    big = np.arange(1_000_000, dtype=np.float64)
    buf = io.BytesIO()
    ndgrad.save({"v": T(big[10:20])}, buf)
    assert len(buf.getvalue()) < 4096
    buf.seek(0)
    assert_same(ndgrad.load(buf)["v"], big[10:20])


def test_requires_grad_is_kept():
    out = roundtrip({"w": T(np.ones(3, np.float32), requires_grad=True), "x": T(np.ones(3, np.float32))})
    assert out["w"].requires_grad and out["w"].is_leaf
    assert not out["x"].requires_grad


def test_paths_pathlike_and_files(tmp_path):
    obj = {"a": T(np.arange(3))}
    ndgrad.save(obj, str(tmp_path / "a.pt"))
    ndgrad.save(obj, tmp_path / "b.pt")
    with open(tmp_path / "c.pt", "wb") as f:
        ndgrad.save(obj, f)
    for name in ("a.pt", "b.pt", "c.pt"):
        assert_same(ndgrad.load(tmp_path / name)["a"], np.arange(3))
        assert_same(ndgrad.load(str(tmp_path / name))["a"], np.arange(3))
        with open(tmp_path / name, "rb") as f:
            assert_same(ndgrad.load(f)["a"], np.arange(3))
    # mmap: storages mapped copy-on-write from the file
    out = ndgrad.load(tmp_path / "a.pt", mmap=True)
    assert_same(out["a"], np.arange(3))
    out["a"]._data[0] = 99
    assert ndgrad.load(tmp_path / "a.pt")["a"]._data[0] == 0


def test_archive_layout_matches_torch():
    buf = io.BytesIO()
    ndgrad.save({"a": T(np.arange(3, dtype=np.float32)), "b": T(np.arange(5))}, buf)
    zf = zipfile.ZipFile(buf)
    assert zf.testzip() is None
    names = zf.namelist()
    assert names[0] == "archive/data.pkl"
    assert {"archive/version", "archive/byteorder", "archive/data/0", "archive/data/1",
            "archive/.format_version", "archive/.storage_alignment"} <= set(names)
    assert zf.read("archive/version") == b"3\n"
    assert zf.read("archive/byteorder") == b"little"
    raw = buf.getvalue()
    for info in zf.infolist():
        assert info.compress_type == zipfile.ZIP_STORED
        n, e = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        assert (info.header_offset + 30 + n + e) % 64 == 0  # every record 64-byte aligned
    assert zf.read("archive/data/0") == np.arange(3, dtype=np.float32).tobytes()
    pkl = zf.read("archive/data.pkl")
    assert pkl[:2] == b"\x80\x02"  # protocol 2
    assert b"torch._utils\n_rebuild_tensor_v2" in pkl and b"torch\nFloatStorage" in pkl


def test_save_is_deterministic():
    obj = {"a": T(np.arange(6, dtype=np.float32).reshape(2, 3)), "n": 3}
    b1, b2 = io.BytesIO(), io.BytesIO()
    ndgrad.save(obj, b1)
    ndgrad.save(obj, b2)
    assert b1.getvalue() == b2.getvalue()


def test_zip64_records(monkeypatch):
    monkeypatch.setattr(S, "_ZIP64_LIMIT", 8)  # force zip64 sizes and offsets on a small file
    buf = io.BytesIO()
    ndgrad.save({"a": T(np.arange(100, dtype=np.float32))}, buf)
    zf = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    assert zf.testzip() is None
    assert zf.getinfo("archive/data/0").file_size == 400
    buf.seek(0)
    assert_same(ndgrad.load(buf)["a"], np.arange(100, dtype=np.float32))


def test_parameter_roundtrip_with_stand_in(monkeypatch):
    class FakeParameter(ndgrad.Tensor):
        def __init__(self, data, requires_grad=True):
            ndgrad.Tensor._init(self, data._data, data._dtype, requires_grad)

    monkeypatch.setattr(S, "_parameter_cls", lambda: FakeParameter)
    p = FakeParameter(T(np.array([1.0, 2.0], np.float32)))
    buf = io.BytesIO()
    ndgrad.save({"p": p, "q": FakeParameter(T(np.zeros(1, np.float32)), requires_grad=False)}, buf)
    assert b"torch._utils\n_rebuild_parameter" in zipfile.ZipFile(buf).read("archive/data.pkl")
    buf.seek(0)
    out = ndgrad.load(buf)
    assert type(out["p"]) is FakeParameter and out["p"].requires_grad
    assert type(out["q"]) is FakeParameter and not out["q"].requires_grad
    assert_same(out["p"], [1.0, 2.0], "float32")


def test_real_parameter_roundtrip():
    Parameter = S._parameter_cls()
    if Parameter is None:
        pytest.skip("ndgrad.nn.Parameter not available yet")
    p = Parameter(T(np.array([1.0, 2.0], np.float32)))
    frozen = Parameter(T(np.array([3.0], np.float32)), requires_grad=False)
    out = roundtrip({"p": p, "frozen": frozen, "again": p})
    assert type(out["p"]) is Parameter and out["p"].requires_grad
    assert type(out["frozen"]) is Parameter and not out["frozen"].requires_grad
    assert out["again"] is out["p"]
    assert_same(out["p"], [1.0, 2.0], "float32")
    assert_same(out["frozen"], [3.0], "float32")
    m = ndgrad.load(DATA / "torch_misc.pt")  # a Parameter recorded by torch.save
    assert type(m["param"]) is Parameter


def test_unpicklable_objects_raise_before_writing(tmp_path):
    class Thing:  # a local class: Python's pickler cannot name it
        pass

    with pytest.raises((pickle.PicklingError, AttributeError)):
        ndgrad.save({"x": Thing()}, tmp_path / "bad.pt")
    assert not (tmp_path / "bad.pt").exists()
    ndgrad.save({"a": np.zeros(2), "s": frozenset([1]), "o": object, "p": print}, tmp_path / "ok.pt")
    back = ndgrad.load(tmp_path / "ok.pt", weights_only=False)  # picklable: saved whole, as PyTorch does
    assert back["o"] is object and back["p"] is print and back["s"] == frozenset([1])
    np.testing.assert_array_equal(back["a"], np.zeros(2))


def test_load_arguments():
    data = io.BytesIO()
    ndgrad.save({"a": T(np.ones(2, np.float32))}, data)
    for loc in (None, "cpu", ndgrad.device("cpu"), {"cuda:0": "cpu"}, lambda storage, loc: storage):
        data.seek(0)
        assert_same(ndgrad.load(data, map_location=loc)["a"], np.ones(2, np.float32))
    for loc, err in (("cuda", RuntimeError), (lambda s, loc: None, TypeError), (3.5, TypeError)):
        data.seek(0)
        with pytest.raises(err):
            ndgrad.load(data, map_location=loc)
    data.seek(0)
    assert_same(ndgrad.load(data, weights_only=False)["a"], np.ones(2, np.float32))  # the full unpickler
    with pytest.raises(ValueError, match="pickle_module"):
        ndgrad.load(data, pickle_module=pickle)


# ---------------------------------------------------------------------------
# checkpoints recorded from torch.save (no PyTorch needed)
# ---------------------------------------------------------------------------
def test_fixture_state_dict():
    sd = ndgrad.load(DATA / "torch_state_dict.pt")
    assert type(sd) is collections.OrderedDict
    assert list(sd) == ["weight", "weight_t", "bias", "num_batches_tracked", "mask", "double", "half", "int32",
                        "cplx"]
    w = np.array([[0.5, -1.25, 2.0], [3.5, -0.125, 1e-3]], np.float32)
    assert_same(sd["weight"], w)
    assert_same(sd["weight_t"], w.T)
    assert np.shares_memory(sd["weight"]._data, sd["weight_t"]._data)
    assert_same(sd["bias"], np.array([0.25, -0.75, 1.5], np.float32))
    assert_same(sd["num_batches_tracked"], np.array(7, np.int64))
    assert_same(sd["mask"], np.array([True, False, False, True]))
    assert_same(sd["double"], np.array([1.0 / 3.0, -2.5]))
    assert_same(sd["half"], np.array([0.5, 65504.0], np.float16))
    assert_same(sd["int32"], np.array([[-2147483648, 2147483647]], np.int32))
    assert_same(sd["cplx"], np.array([1 + 2j, -0.5j], np.complex64))
    assert sd._metadata == {"": {"version": 1}}
    assert not any(t.requires_grad for t in sd.values())


def test_fixture_optimizer_state():
    osd = ndgrad.load(DATA / "torch_optimizer.pt")
    assert set(osd) == {"state", "param_groups"} and set(osd["state"]) == {0, 1}
    s0, s1 = osd["state"][0], osd["state"][1]
    assert_same(s0["step"], np.array(3.0, np.float32))
    assert_same(s0["exp_avg"], np.array([0.1, -0.2], np.float32))
    assert_same(s0["exp_avg_sq"], np.array([0.01, 0.04], np.float32))
    assert_same(s1["exp_avg"], np.array([[0.5]], np.float32))
    assert_same(s1["exp_avg_sq"], np.array([[0.25]], np.float32))
    assert osd["param_groups"] == [{"lr": 0.001, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                                    "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                                    "differentiable": False, "fused": None, "params": [0, 1]}]


def test_fixture_misc_kinds():
    m = ndgrad.load(DATA / "torch_misc.pt")
    assert m["param"].requires_grad
    assert_same(m["param"], np.array([1.0, -2.0], np.float32))
    assert m["bf16"].dtype is ndgrad.bfloat16  # loads as bfloat16 (ml_dtypes), values exact
    np.testing.assert_array_equal(m["bf16"].float().numpy(), [1.5, -2.25, 3.0])
    base = np.arange(12).reshape(3, 4)
    assert_same(m["strided"], base[:, ::2])
    assert_same(m["row"], base[2])
    assert_same(m["expanded"], np.full(3, 4.0, np.float32))
    assert_same(m["empty"], np.zeros((0, 3), np.float32))
    assert_same(m["uint8"], np.array([0, 255], np.uint8))
    assert_same(m["int8"], np.array([-128, 127], np.int8))
    assert_same(m["int16"], np.array([-32768, 32767], np.int16))
    assert_same(m["c128"], np.array([1e300 + 1j]))
    assert m["size"] == (2, 3) and type(m["size"]) is ndgrad.Size
    assert m["dtype"] is ndgrad.float16
    assert m["meta"] == ("text", 1.5, None, True, -(2 ** 40), b"\x00\xff", {1, 2}, 2 + 3j)


def test_fixture_legacy_format():
    out = ndgrad.load(DATA / "torch_legacy.pt")
    assert_same(out["w"], np.array([[1.0, 2.0], [3.0, 4.0]], np.float32))
    assert_same(out["n"], np.array([5, 6]))


def test_resave_of_loaded_checkpoint_roundtrips():
    sd = ndgrad.load(DATA / "torch_state_dict.pt")
    again = roundtrip(sd)
    for k in sd:
        assert_same(again[k], sd[k]._data, sd[k].dtype.name)
    assert np.shares_memory(again["weight"]._data, again["weight_t"]._data)


# ---------------------------------------------------------------------------
# hostile and damaged files
# ---------------------------------------------------------------------------
def make_archive(pkl: bytes, records: dict | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("archive/data.pkl", pkl)
        zf.writestr("archive/byteorder", "little")
        for name, data in (records or {}).items():
            zf.writestr(f"archive/{name}", data)
        zf.writestr("archive/version", "3\n")
    return buf.getvalue()


def _unicode(s: str) -> bytes:
    b = s.encode()
    return b"X" + struct.pack("<I", len(b)) + b


class _Evil:
    def __init__(self, fn, *args):
        self.fn, self.args = fn, args

    def __reduce__(self):
        return self.fn, self.args


def evil_pickles(sentinel: pathlib.Path) -> dict[str, bytes]:
    cmd = f"touch {sentinel}"
    arg = _unicode(cmd)
    code = _unicode(f"open({str(sentinel)!r}, 'w').close()")
    return {
        "posix.system": b"\x80\x02cposix\nsystem\n" + arg + b"\x85R.",
        "os.system": b"\x80\x02cos\nsystem\n" + arg + b"\x85R.",
        "builtins.eval": b"\x80\x02c__builtin__\neval\n" + code + b"\x85R.",
        "builtins.exec": b"\x80\x02cbuiltins\nexec\n" + code + b"\x85R.",
        "stack_global": b"\x80\x04" + _unicode("builtins") + _unicode("eval") + b"\x93" + code + b"\x85R.",
        "pickle.dumps p2": pickle.dumps({"x": _Evil(os.system, cmd)}, protocol=2),
        "pickle.dumps p4": pickle.dumps([_Evil(eval, f"open({str(sentinel)!r}, 'w').close()")], protocol=4),
        "pickle.dumps open": pickle.dumps(_Evil(open, str(sentinel), "w"), protocol=2),
        "inst opcode": b"(" + arg + b"ios\nsystem\n.",
        "obj opcode": b"\x80\x02(cos\nsystem\n" + arg + b"o.",
        "newobj": b"\x80\x02ccollections\nOrderedDict\n)\x81.",
        "ext code": b"\x80\x02\x82\x01.",
        # an allowed callable whose attributes a pickle tries to overwrite (BUILD on a function)
        "build on function": b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n}" + _unicode("__defaults__") + b"N" +
                             b"sb.",
        "build on dtype": b"\x80\x02ctorch\nfloat32\nN}" + _unicode("name") + _unicode("evil") + b"s\x86b.",
        "call a dtype": b"\x80\x02ctorch\nfloat32\n)R.",
        "getattr": b"\x80\x02c__builtin__\ngetattr\n.",
        "append to non-list": b"\x80\x02ctorch\nfloat32\n" + arg + b"a.",
    }


def test_malicious_pickles_are_refused_without_side_effects(tmp_path):
    sentinel = tmp_path / "pwned"
    float32_name = ndgrad.float32.name
    defaults = S._rebuild_tensor_v2.__defaults__
    for label, pkl in evil_pickles(sentinel).items():
        with pytest.raises(pickle.UnpicklingError):
            ndgrad.load(io.BytesIO(make_archive(pkl)))
        assert not sentinel.exists(), label
    assert ndgrad.float32.name == float32_name and S._rebuild_tensor_v2.__defaults__ == defaults


def test_malicious_legacy_file_is_refused(tmp_path):
    sentinel = tmp_path / "pwned"
    data = pickle.dumps(_Evil(os.system, f"touch {sentinel}"), protocol=2)
    magic = pickle.dumps(S._LEGACY_MAGIC, protocol=2)
    for blob in (magic + data, magic + pickle.dumps(1001, protocol=2) + data):
        with pytest.raises(pickle.UnpicklingError):
            ndgrad.load(io.BytesIO(blob))
    assert not sentinel.exists()


def _tensor_pickle(numel: int, offset: int, size: tuple, stride: tuple, key: str = "0") -> bytes:
    def tup(xs):
        return b"(" + b"".join(b"J" + struct.pack("<i", x) for x in xs) + b"t"

    return (b"\x80\x02ctorch._utils\n_rebuild_tensor_v2\n(" + b"(" + _unicode("storage")
            + b"ctorch\nFloatStorage\n" + _unicode(key) + _unicode("cpu") + b"J" + struct.pack("<i", numel)
            + b"tQ" + b"J" + struct.pack("<i", offset) + tup(size) + tup(stride)
            + b"\x89ccollections\nOrderedDict\n)RtR.")


def test_tensor_records_cannot_read_outside_their_storage():
    four = np.arange(4, dtype=np.float32).tobytes()
    good = make_archive(_tensor_pickle(4, 1, (3,), (1,)), {"data/0": four})
    assert_same(ndgrad.load(io.BytesIO(good)), np.arange(1, 4, dtype=np.float32))
    for numel, offset, size, stride in ((4, 0, (1_000_000,), (1,)), (4, 2, (3,), (1,)), (4, 0, (2, 2), (1, 3)),
                                        (1_000_000, 0, (10,), (1,)), (4, 0, (2,), (-1,)), (4, -1, (1,), (1,))):
        blob = make_archive(_tensor_pickle(numel, offset, size, stride), {"data/0": four})
        with pytest.raises(pickle.UnpicklingError):
            ndgrad.load(io.BytesIO(blob))
    with pytest.raises(pickle.UnpicklingError, match="missing"):
        ndgrad.load(io.BytesIO(make_archive(_tensor_pickle(4, 0, (4,), (1,), key="7"), {"data/0": four})))


def _saved() -> bytes:
    buf = io.BytesIO()
    ndgrad.save({"w": T(np.arange(64, dtype=np.float32)), "meta": "x" * 50}, buf)
    return buf.getvalue()


def test_truncated_files_raise():
    raw = _saved()
    for cut in (len(raw) - 1, len(raw) - 30, len(raw) // 2, 10, 1):
        with pytest.raises(RuntimeError, match="truncated|corrupted|not a PyTorch"):
            ndgrad.load(io.BytesIO(raw[:cut]))
    with pytest.raises(RuntimeError, match="empty"):
        ndgrad.load(io.BytesIO(b""))
    legacy = (DATA / "torch_legacy.pt").read_bytes()
    for cut in (len(legacy) - 4, len(legacy) // 2, 30):
        with pytest.raises((RuntimeError, pickle.UnpicklingError)):
            ndgrad.load(io.BytesIO(legacy[:cut]))


def test_corrupted_files_raise():
    raw = _saved()
    zf = zipfile.ZipFile(io.BytesIO(raw))
    for name in ("archive/data/0", "archive/data.pkl"):
        info = zf.getinfo(name)
        n, e = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
        pos = info.header_offset + 30 + n + e + 5
        bad = raw[:pos] + bytes([raw[pos] ^ 0x40]) + raw[pos + 1:]
        with pytest.raises(RuntimeError, match="CRC|corrupted"):
            ndgrad.load(io.BytesIO(bad))
    with pytest.raises(RuntimeError, match="not a PyTorch checkpoint"):
        ndgrad.load(io.BytesIO(b"\x00" * 100))
    with pytest.raises(RuntimeError, match="data.pkl"):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr("foo/bar", "x")
        ndgrad.load(io.BytesIO(buf.getvalue()))


def test_garbage_pickle_raises_unpickling_error():
    for pkl in (b"\x80\x02]q\x00(K\x01", b"\x80\x02\xff.", b"\x80\x02K\x01K\x02.", b"\x80\x02h\x05.", b"",
                b"\x80\x02}]\x85R."):
        with pytest.raises(pickle.UnpicklingError):
            ndgrad.load(io.BytesIO(make_archive(pkl)))


# ---------------------------------------------------------------------------
# against PyTorch itself
# ---------------------------------------------------------------------------
def test_ndgrad_file_loads_in_torch(tmp_path):
    torch = pytest.importorskip("torch")
    base = T(np.arange(12, dtype=np.float32).reshape(3, 4))
    obj = {
        "sd": collections.OrderedDict([(n, T(sample(n))) for n in ALL_DTYPES]),
        "base": base, "t": base.T, "row": T(base._data[1]), "grad": T(np.ones(2, np.float32), requires_grad=True),
        "scalar": T(np.array(2.5)), "empty": T(np.zeros((0, 2), np.int32)),
        "meta": [1, 2.5, "s", None, (True, b"\x01"), {3}, 1j, ndgrad.Size([1, 2]), ndgrad.float64],
    }
    ndgrad.save(obj, tmp_path / "x.pt")
    out = torch.load(tmp_path / "x.pt", weights_only=True)
    for n in ALL_DTYPES:
        t = out["sd"][n]
        assert str(t.dtype) == f"torch.{n}"
        assert t.numpy().tobytes() == sample(n).tobytes()
    np.testing.assert_array_equal(out["t"].numpy(), base._data.T)
    assert out["t"].stride() == (1, 4)
    assert out["row"].storage_offset() == 4
    assert out["t"].untyped_storage().data_ptr() == out["base"].untyped_storage().data_ptr()
    assert out["grad"].requires_grad and not out["base"].requires_grad
    assert out["scalar"].shape == () and out["scalar"].item() == 2.5
    assert out["empty"].shape == (0, 2) and out["empty"].dtype == torch.int32
    assert out["meta"] == [1, 2.5, "s", None, (True, b"\x01"), {3}, 1j, torch.Size([1, 2]), torch.float64]
    mapped = torch.load(tmp_path / "x.pt", weights_only=True, mmap=True)  # needs PyTorch's 64-byte alignment
    np.testing.assert_array_equal(mapped["base"].numpy(), base._data)


def test_ndgrad_zip64_file_loads_in_torch(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    monkeypatch.setattr(S, "_ZIP64_LIMIT", 8)
    ndgrad.save({"a": T(np.arange(100, dtype=np.float32))}, tmp_path / "z.pt")
    np.testing.assert_array_equal(torch.load(tmp_path / "z.pt", weights_only=True)["a"].numpy(),
                                  np.arange(100, dtype=np.float32))


def test_torch_file_loads_in_ndgrad(tmp_path):
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.Linear(4, 2))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(5, 3)).sum().backward()
    opt.step()
    base = torch.randn(4, 5)
    obj = {"model": model.state_dict(), "opt": opt.state_dict(), "view": base[1:, ::2], "base": base,
           "param": torch.nn.Parameter(torch.randn(2)), "expanded": torch.randn(3, 1).expand(3, 4),
           "dtypes": {n: torch.from_numpy(sample(n)) for n in ALL_DTYPES}}
    for zipped in (True, False):
        path = tmp_path / f"t{zipped}.pt"
        torch.save(obj, path, _use_new_zipfile_serialization=zipped)
        out = ndgrad.load(path)
        for k, v in obj["model"].items():
            assert_same(out["model"][k], v.numpy())
        assert out["model"]._metadata == obj["model"]._metadata
        for i, state in obj["opt"]["state"].items():
            for k, v in state.items():
                assert_same(out["opt"]["state"][i][k], v.numpy())
        assert out["opt"]["param_groups"] == obj["opt"]["param_groups"]
        assert_same(out["view"], base[1:, ::2].numpy())
        assert np.shares_memory(out["view"]._data, out["base"]._data)
        assert out["param"].requires_grad
        assert_same(out["param"], obj["param"].detach().numpy())
        assert_same(out["expanded"], obj["expanded"].numpy())
        for n in ALL_DTYPES:
            assert out["dtypes"][n]._data.tobytes() == sample(n).tobytes()


def test_torch_dtypes_ndgrad_lacks(tmp_path):
    torch = pytest.importorskip("torch")
    torch.save({"bf": torch.tensor([1.0, -3.5, 2 ** -10], dtype=torch.bfloat16)}, tmp_path / "bf.pt")
    out = ndgrad.load(tmp_path / "bf.pt")
    assert out["bf"].dtype is ndgrad.bfloat16
    np.testing.assert_array_equal(out["bf"].float().numpy(), [1.0, -3.5, 2 ** -10])
    torch.save({"u": torch.tensor([1, 2], dtype=torch.uint16)}, tmp_path / "u16.pt")
    with pytest.raises(pickle.UnpicklingError, match="uint16"):
        ndgrad.load(tmp_path / "u16.pt")
    torch.save(torch.nn.Linear(2, 2), tmp_path / "module.pt")  # a whole module: needs arbitrary code
    with pytest.raises(pickle.UnpicklingError, match="not allowed|refusing"):
        ndgrad.load(tmp_path / "module.pt")


# ---------------------------------------------------------------------------
# safetensors
# ---------------------------------------------------------------------------
def st_bytes(header: dict, data: bytes, pad: int = 0) -> bytes:
    text = json.dumps(header).encode() + b" " * pad
    return struct.pack("<Q", len(text)) + text + data


def test_safetensors_hand_built_file_loads():
    data = np.array([1.5, -2.0], "<f4").tobytes() + np.array([[7], [8], [9]], "<i8").tobytes() + b"\x01\x00"
    header = {"__metadata__": {"format": "pt"},
              "b": {"dtype": "I64", "shape": [3, 1], "data_offsets": [8, 32]},
              "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "m": {"dtype": "BOOL", "shape": [2], "data_offsets": [32, 34]}}
    out = st.load(st_bytes(header, data, pad=3))
    assert list(out) == ["a", "b", "m"]
    assert_same(out["a"], np.array([1.5, -2.0], np.float32))
    assert_same(out["b"], np.array([[7], [8], [9]], np.int64))
    assert_same(out["m"], np.array([True, False]))
    out["a"]._data[0] = 0  # loaded tensors are writable


def test_safetensors_exact_bytes_written():
    blob = st.save({"x": T(np.array([1.0, 2.0], np.float32)), "i": T(np.array([3], np.int64))}, {"k": "v"})
    header = (b'{"__metadata__":{"k":"v"},"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]},'
              b'"x":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}')
    header += b" " * (-(8 + len(header)) % 8)
    assert blob == struct.pack("<Q", len(header)) + header + struct.pack("<q", 3) + struct.pack("<2f", 1.0, 2.0)


def test_safetensors_roundtrip(tmp_path):
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    tensors = {n: T(sample(n)) for n in ALL_DTYPES if n != "complex128"}
    tensors.update(view=T(base.T), scalar=T(np.array(3.5)), empty=T(np.zeros((0, 4), np.int16)))
    st.save_file(tensors, tmp_path / "m.safetensors", metadata={"format": "pt", "note": "é"})
    assert st.load_metadata(tmp_path / "m.safetensors") == {"format": "pt", "note": "é"}
    for out in (st.load_file(tmp_path / "m.safetensors"), st.load(st.save(tensors))):
        assert set(out) == set(tensors)
        for k, t in tensors.items():
            assert out[k].dtype is t.dtype
            assert tuple(out[k].shape) == tuple(t.shape)
            assert out[k]._data.tobytes() == np.ascontiguousarray(t._data).tobytes()
    raw = (tmp_path / "m.safetensors").read_bytes()
    assert (8 + struct.unpack("<Q", raw[:8])[0]) % 8 == 0


def test_safetensors_bf16_loads_as_bfloat16():
    bits = (np.array([1.5, -2.25], np.float32).view(np.uint32) >> 16).astype("<u2").tobytes()
    out = st.load(st_bytes({"h": {"dtype": "BF16", "shape": [2], "data_offsets": [0, 4]}}, bits))
    assert out["h"].dtype is ndgrad.bfloat16
    np.testing.assert_array_equal(out["h"].float().numpy(), [1.5, -2.25])
    assert st.save({"h": out["h"]}).endswith(bits)  # written back as the same BF16 bits


def test_safetensors_save_refusals():
    with pytest.raises(TypeError, match="complex128"):
        st.save({"c": T(np.zeros(1, np.complex128))})
    with pytest.raises(ValueError, match="reserved"):
        st.save({"__metadata__": T(np.zeros(1))})
    with pytest.raises(TypeError, match="metadata"):
        st.save({"a": T(np.zeros(1))}, metadata={"a": 1})
    with pytest.raises(TypeError, match="not a tensor"):
        st.save({"a": np.zeros(1)})


@pytest.mark.parametrize("blob, match", [
    (b"\x01\x00", "shorter"),
    (struct.pack("<Q", 2 ** 40) + b"{}", "too large"),
    (struct.pack("<Q", 100) + b"{}", "past the end"),
    (struct.pack("<Q", 2) + b"[]", "JSON object"),
    (struct.pack("<Q", 4) + b" {} ", "JSON object"),
    (struct.pack("<Q", 3) + b"{x}", "invalid safetensors header"),
    (struct.pack("<Q", 2) + b"\xff\xfe", "JSON object"),
    (st_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\x00" * 4), "do not match"),
    (st_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}, b"\x00" * 8), "gap"),
    (st_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]},
               "b": {"dtype": "F32", "shape": [1], "data_offsets": [2, 6]}}, b"\x00" * 8), "gap or overlap"),
    (st_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}, b"\x00" * 5), "cover"),
    (st_bytes({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 4), "cover"),
    (st_bytes({"a": {"dtype": "X9", "shape": [1], "data_offsets": [0, 4]}}, b"\x00" * 4), "dtype"),
    (st_bytes({"a": {"dtype": "U16", "shape": [1], "data_offsets": [0, 2]}}, b"\x00" * 2), "dtype"),
    (st_bytes({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\x00" * 4), "shape"),
    (st_bytes({"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 0]}}, b"\x00" * 4), "match"),
    (st_bytes({"a": {"dtype": "F32", "shape": [1]}}, b"\x00" * 4), "entry"),
    (st_bytes({"__metadata__": {"k": 1}}, b""), "__metadata__"),
    (struct.pack("<Q", 16) + b'{"a":{},"a":{}} ', "duplicate"),
])
def test_safetensors_invalid_files(blob, match):
    with pytest.raises(st.SafetensorError, match=match):
        st.load(blob)


def test_safetensors_truncated_file(tmp_path):
    st.save_file({"a": T(np.arange(10, dtype=np.float64))}, tmp_path / "a.safetensors")
    raw = (tmp_path / "a.safetensors").read_bytes()
    (tmp_path / "cut.safetensors").write_bytes(raw[:-3])
    with pytest.raises(st.SafetensorError):
        st.load_file(tmp_path / "cut.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_same(st.load_file(tmp_path / "a.safetensors")["a"], np.arange(10, dtype=np.float64))
