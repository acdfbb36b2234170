"""ndgrad.datasets: IDX files, MNIST-style downloads against a local server, Digits, transforms.

Everything runs offline: downloads go to an http.server on 127.0.0.1 that serves IDX files
generated here, honours Range requests and can be told to cut responses midway.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import re
import socket
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.datasets import MNIST, Digits, FashionMNIST, read_idx, transforms, write_idx
from ndgrad.datasets.idx import encode_idx, parse_idx

# -- IDX ---------------------------------------------------------------------------------

IDX_DTYPES = [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64]


@pytest.mark.parametrize("dtype", IDX_DTYPES)
@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("shape", [(7,), (3, 5, 4), (2, 1, 3, 2), ()])
def test_idx_round_trip(tmp_path: Any, dtype: Any, suffix: str, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    info = np.iinfo(dtype) if np.dtype(dtype).kind in "iu" else None
    if info is not None:
        arr = rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)
    else:
        arr = rng.standard_normal(shape).astype(dtype)
    path = tmp_path / f"a-idx{len(shape)}{suffix}"
    write_idx(path, arr)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    assert back.shape == arr.shape
    np.testing.assert_array_equal(back, arr)
    assert back.flags.writeable
    with open(path, "rb") as fh:
        assert (fh.read(2) == b"\x1f\x8b") == (suffix == ".gz")
        fh.seek(0)
        np.testing.assert_array_equal(read_idx(fh), arr)  # file objects work too


def test_idx_layout_is_mnist_big_endian() -> None:
    arr = np.arange(6, dtype=np.int32).reshape(2, 3) + 256
    raw = encode_idx(arr)
    assert raw[:4] == bytes([0, 0, 0x0C, 2])
    assert raw[4:12] == (2).to_bytes(4, "big") + (3).to_bytes(4, "big")
    assert raw[12:16] == (256).to_bytes(4, "big")
    images = np.zeros((2, 28, 28), np.uint8)
    assert encode_idx(images)[:4] == (0x803).to_bytes(4, "big")  # MNIST images' magic 2051
    assert encode_idx(np.zeros(5, np.uint8))[:4] == (0x801).to_bytes(4, "big")  # labels: 2049


def test_idx_gzip_is_detected_by_content_and_reproducible(tmp_path: Any) -> None:
    arr = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    write_idx(tmp_path / "plain-name", arr, compress=True)
    np.testing.assert_array_equal(read_idx(tmp_path / "plain-name"), arr)
    write_idx(tmp_path / "again.gz", arr)
    assert (tmp_path / "plain-name").read_bytes() == (tmp_path / "again.gz").read_bytes()
    write_idx(tmp_path / "raw.gz", arr, compress=False)
    assert (tmp_path / "raw.gz").read_bytes() == encode_idx(arr)


def test_idx_rejects_bad_files(tmp_path: Any) -> None:
    good = encode_idx(np.arange(10, dtype=np.uint8))
    with pytest.raises(ValueError, match="magic"):
        parse_idx(b"\x01" + good[1:])
    with pytest.raises(ValueError, match="type code"):
        parse_idx(b"\x00\x00\x07\x01" + good[4:])
    with pytest.raises(ValueError, match="truncated"):
        parse_idx(good[:-1])
    with pytest.raises(ValueError, match="longer"):
        parse_idx(good + b"\x00")
    with pytest.raises(ValueError, match="only 2 bytes"):
        parse_idx(b"\x00\x00")
    with pytest.raises(ValueError, match="cannot store dtype int64"):
        encode_idx(np.zeros(3, np.int64))
    (tmp_path / "bad.gz").write_bytes(gzip.compress(good)[:-6])
    with pytest.raises(ValueError, match=r"bad\.gz"):
        read_idx(tmp_path / "bad.gz")


# -- a local mirror --------------------------------------------------------------------

class LocalMirror:
    """A threaded HTTP server for ``files``; supports ``Range: bytes=N-`` and failure modes."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.cut: dict[str, int] = {}  # name -> how many upcoming responses to cut midway
        self.ignore_range = False
        self.requests: list[tuple[str, str | None]] = []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                name = self.path.lstrip("/")
                rng = self.headers.get("Range")
                mirror.requests.append((name, rng))
                data = mirror.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                start = 0
                if rng and not mirror.ignore_range:
                    match = re.fullmatch(r"bytes=(\d+)-", rng)
                    assert match is not None
                    start = int(match.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range",
                                     f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mirror.cut.get(name, 0) > 0:
                    mirror.cut[name] -= 1
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, name: str) -> int:
        return sum(1 for n, _ in self.requests if n == name)


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


SIZES = {"train": 12, "t10k": 5}


@pytest.fixture(scope="module")
def idx_files() -> dict[str, Any]:
    """Small MNIST-like gzip IDX files: name -> bytes, plus the arrays they hold."""
    rng = np.random.default_rng(1)
    files: dict[str, bytes] = {}
    arrays: dict[str, np.ndarray] = {}
    for split, n in SIZES.items():
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{split}-{kind}-ubyte.gz"
            files[name] = gzip.compress(encode_idx(arr), mtime=0)
            arrays[name] = arr
    return {"files": files, "arrays": arrays}


@pytest.fixture
def mirror(idx_files: dict[str, Any], monkeypatch: Any) -> Iterator[LocalMirror]:
    for var in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(var, "127.0.0.1,localhost")
    server = LocalMirror(dict(idx_files["files"]))
    yield server
    server.close()


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def tiny_class(mirrors: list[str], files: dict[str, bytes], base: type = MNIST,
               **overrides: Any) -> Any:
    """A subclass of ``base`` pointed at local mirrors with short retries."""
    resources = [(name, _md5(data)) for name, data in files.items()]
    attrs = {"mirrors": mirrors, "resources": resources, "download_retries": 2,
             "download_backoff": 0.01, "download_timeout": 5.0, **overrides}
    return type("TinyMNIST", (base,), attrs)


def _assert_split_matches(ds: Any, arrays: dict[str, np.ndarray], split: str) -> None:
    images = arrays[f"{split}-images-idx3-ubyte.gz"]
    labels = arrays[f"{split}-labels-idx1-ubyte.gz"]
    assert len(ds) == len(images)
    assert ds.data.dtype == ndgrad.uint8 and tuple(ds.data.shape) == images.shape
    assert ds.targets.dtype == ndgrad.int64
    np.testing.assert_array_equal(ds.data.numpy(), images)
    np.testing.assert_array_equal(ds.targets.numpy(), labels)
    img, target = ds[3]
    assert isinstance(img, ndgrad.Tensor) and img.dtype == ndgrad.uint8
    assert tuple(img.shape) == (28, 28)
    assert type(target) is int and target == labels[3]
    np.testing.assert_array_equal(img.numpy(), images[3])


def _leftovers(raw: Any) -> list[str]:
    return sorted(p for p in os.listdir(raw) if p.endswith(".part")) if os.path.isdir(raw) else []


# -- downloads ---------------------------------------------------------------------------

def test_download_loads_both_splits_and_caches(tmp_path: Any, mirror: LocalMirror,
                                               idx_files: dict[str, Any]) -> None:
    cls = tiny_class([mirror.url], idx_files["files"])
    train = cls(tmp_path, train=True, download=True)
    _assert_split_matches(train, idx_files["arrays"], "train")
    raw = tmp_path / "TinyMNIST" / "raw"
    assert sorted(os.listdir(raw)) == sorted(idx_files["files"])
    for name, data in idx_files["files"].items():
        assert (raw / name).read_bytes() == data
    n_requests = len(mirror.requests)
    assert n_requests == 4
    test = cls(str(tmp_path), train=False, download=True)  # present and valid: no request
    assert len(mirror.requests) == n_requests
    _assert_split_matches(test, idx_files["arrays"], "t10k")
    mirror.close()
    cls(tmp_path, train=False, download=False)  # cache is enough, server gone
    assert "Split: Test" in repr(test)


def test_download_resumes_a_cut_response(tmp_path: Any, mirror: LocalMirror,
                                         idx_files: dict[str, Any]) -> None:
    name = "train-images-idx3-ubyte.gz"
    mirror.cut[name] = 1
    cls = tiny_class([mirror.url], idx_files["files"])
    ds = cls(tmp_path, download=True)
    _assert_split_matches(ds, idx_files["arrays"], "train")
    attempts = [rng for n, rng in mirror.requests if n == name]
    assert attempts == [None, f"bytes={len(idx_files['files'][name]) // 2}-"]
    assert _leftovers(tmp_path / "TinyMNIST" / "raw") == []


def test_download_restarts_when_server_ignores_range(tmp_path: Any, mirror: LocalMirror,
                                                     idx_files: dict[str, Any]) -> None:
    name = "train-labels-idx1-ubyte.gz"
    mirror.cut[name] = 1
    mirror.ignore_range = True  # answers 200 with the whole file: the part must be rewritten
    ds = tiny_class([mirror.url], idx_files["files"])(tmp_path, download=True)
    _assert_split_matches(ds, idx_files["arrays"], "train")
    assert mirror.count(name) == 2


def test_partial_file_from_an_earlier_run_is_resumed(tmp_path: Any, mirror: LocalMirror,
                                                     idx_files: dict[str, Any]) -> None:
    name = "t10k-images-idx3-ubyte.gz"
    data = idx_files["files"][name]
    raw = tmp_path / "TinyMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / (name + ".part")).write_bytes(data[:100])
    ds = tiny_class([mirror.url], idx_files["files"])(tmp_path, train=False, download=True)
    _assert_split_matches(ds, idx_files["arrays"], "t10k")
    assert [r for n, r in mirror.requests if n == name] == ["bytes=100-"]
    # A complete part (server answers 416) is verified and moved into place.
    os.replace(raw / name, raw / (name + ".part"))
    tiny_class([mirror.url], idx_files["files"])(tmp_path, train=False, download=True)
    assert (raw / name).read_bytes() == data and _leftovers(raw) == []


def test_checksum_mismatch_raises_and_leaves_no_file(tmp_path: Any, mirror: LocalMirror,
                                                     idx_files: dict[str, Any]) -> None:
    cls = tiny_class([mirror.url], idx_files["files"])
    bad = "train-images-idx3-ubyte.gz"
    cls.resources = [(n, "0" * 32 if n == bad else md5) for n, md5 in cls.resources]
    with pytest.raises(RuntimeError, match="checksum mismatch") as info:
        cls(tmp_path, download=True)
    raw = tmp_path / "TinyMNIST" / "raw"
    assert str(raw / bad) in str(info.value) and "0" * 32 in str(info.value)
    assert not (raw / bad).exists() and _leftovers(raw) == []
    assert mirror.count(bad) == 1  # a fresh, complete, wrong file is not fetched again


def test_corrupt_cached_file_is_replaced(tmp_path: Any, mirror: LocalMirror,
                                         idx_files: dict[str, Any]) -> None:
    raw = tmp_path / "TinyMNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(b"garbage")
    ds = tiny_class([mirror.url], idx_files["files"])(tmp_path, download=True)
    _assert_split_matches(ds, idx_files["arrays"], "train")


def test_unreachable_mirror_fails_fast_with_advice(tmp_path: Any,
                                                   idx_files: dict[str, Any]) -> None:
    cls = tiny_class([_closed_port_url()], idx_files["files"])
    start = time.perf_counter()
    with pytest.raises(RuntimeError) as info:
        cls(tmp_path, download=True)
    assert time.perf_counter() - start < 5
    message = str(info.value)
    raw = tmp_path / "TinyMNIST" / "raw"
    assert "every mirror failed" in message and "Refused" in message
    assert f"save it as {raw / 'train-images-idx3-ubyte.gz'}" in message
    assert os.listdir(raw) == []


def test_mirrors_are_tried_in_order(tmp_path: Any, mirror: LocalMirror,
                                    idx_files: dict[str, Any]) -> None:
    missing = LocalMirror({})  # answers 404 for everything
    try:
        cls = tiny_class([_closed_port_url(), missing.url, mirror.url], idx_files["files"])
        ds = cls(tmp_path, download=True)
        _assert_split_matches(ds, idx_files["arrays"], "train")
        assert missing.count("train-images-idx3-ubyte.gz") == 1  # 404: no retry
    finally:
        missing.close()


def test_missing_files_without_download(tmp_path: Any) -> None:
    with pytest.raises(RuntimeError, match="download=True"):
        MNIST(tmp_path)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte.gz", np.zeros((2, 28, 28), np.uint8))
    (raw / "train-labels-idx1-ubyte.gz").write_bytes(b"\x00\x00\x08\x01broken")
    with pytest.raises(RuntimeError, match="corrupt"):
        MNIST(tmp_path)


def test_extracted_files_and_real_class_attributes(tmp_path: Any) -> None:
    images = np.random.default_rng(2).integers(0, 256, (4, 28, 28), dtype=np.uint8)
    labels = np.array([3, 1, 4, 1], np.uint8)
    raw = tmp_path / "FashionMNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "t10k-images-idx3-ubyte", images)
    write_idx(raw / "t10k-labels-idx1-ubyte", labels)
    ds = FashionMNIST(tmp_path, train=False, transform=transforms.ToTensor(),
                      target_transform=lambda t: t + 100)
    img, target = ds[2]
    assert tuple(img.shape) == (1, 28, 28) and img.dtype == ndgrad.float32
    np.testing.assert_allclose(img.numpy()[0], images[2] / 255, rtol=1e-6)
    assert target == 104
    assert ds.classes[9] == "Ankle boot" and ds.class_to_idx["Bag"] == 8
    assert MNIST.mirrors[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert "http://yann.lecun.com/exdb/mnist/" in MNIST.mirrors
    assert FashionMNIST.mirrors == ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    assert dict(MNIST.resources)["train-images-idx3-ubyte.gz"] == \
        "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert dict(FashionMNIST.resources)["t10k-labels-idx1-ubyte.gz"] == \
        "bb300cfdad3c16e7a12a480ee83cd310"
    assert len(MNIST.classes) == 10


def test_is_a_dataset_of_the_core() -> None:
    data_mod = pytest.importorskip("ndgrad.utils.data")
    if not hasattr(data_mod, "Dataset"):
        pytest.skip("ndgrad.utils.data.Dataset is not there yet")
    assert issubclass(MNIST, data_mod.Dataset) and issubclass(Digits, data_mod.Dataset)


# -- Digits -------------------------------------------------------------------------------

def test_digits_split_sizes_dtypes_and_determinism() -> None:
    pytest.importorskip("sklearn")
    train, test = Digits(train=True), Digits(train=False)
    assert len(train) + len(test) == 1797 and len(test) == 360
    assert train.data.dtype == ndgrad.float32 and tuple(train.data.shape) == (1437, 8, 8)
    assert train.targets.dtype == ndgrad.int64
    both = np.concatenate([train.indices, test.indices])
    assert sorted(both.tolist()) == list(range(1797))
    data = train.data.numpy()
    assert data.min() == 0.0 and data.max() == 1.0
    assert np.allclose(data * 16, np.round(data * 16))  # the original 0..16 levels
    img, target = test[0]
    assert img.dtype == ndgrad.float32 and tuple(img.shape) == (1, 8, 8)
    assert type(target) is int and 0 <= target <= 9
    np.testing.assert_array_equal(Digits(train=False).indices, test.indices)
    assert not np.array_equal(Digits(train=False, seed=1).indices, test.indices)
    assert len(Digits(train=False, test_fraction=0.5)) == 899
    from sklearn.datasets import load_digits
    ref = load_digits()
    np.testing.assert_allclose(data[5], ref.images[train.indices[5]] / 16, rtol=1e-6)
    assert set(np.unique(train.targets.numpy())) == set(range(10))
    with pytest.raises(ValueError, match="test_fraction"):
        Digits(test_fraction=1.0)


def test_digits_without_sklearn_names_the_extra(monkeypatch: Any) -> None:
    monkeypatch.setitem(sys.modules, "sklearn", None)
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install ndgrad\[demo\]"):
        Digits()


# -- transforms ---------------------------------------------------------------------------

def test_to_tensor_layouts_and_scaling() -> None:
    rng = np.random.default_rng(3)
    gray = rng.integers(0, 256, (5, 6), dtype=np.uint8)
    out = transforms.ToTensor()(ndgrad.from_numpy(gray))
    assert out.dtype == ndgrad.float32 and tuple(out.shape) == (1, 5, 6)
    np.testing.assert_array_equal(out.numpy()[0], gray.astype(np.float32) / np.float32(255))
    hwc = rng.integers(0, 256, (5, 6, 3), dtype=np.uint8)
    out = transforms.ToTensor()(hwc)  # arrays are channel-last, as in torchvision
    assert tuple(out.shape) == (3, 5, 6)
    np.testing.assert_array_equal(out.numpy(), hwc.transpose(2, 0, 1) / np.float32(255))
    chw = ndgrad.from_numpy(rng.random((2, 5, 6)))  # float64 tensor, already channel-first
    out = transforms.ToTensor()(chw)
    assert out.dtype == ndgrad.float32 and tuple(out.shape) == (2, 5, 6)
    np.testing.assert_array_equal(out.numpy(), chw.numpy().astype(np.float32))
    with pytest.raises(TypeError):
        transforms.ToTensor()([1, 2])
    with pytest.raises(ValueError, match="2/3 dimensional"):
        transforms.ToTensor()(np.zeros((1, 2, 3, 4), np.uint8))


def test_to_tensor_matches_torch_on_arrays(torch_ref: Any) -> None:
    hwc = np.random.default_rng(4).integers(0, 256, (7, 9, 3), dtype=np.uint8)
    ref = torch_ref("chw", lambda torch: torch.from_numpy(hwc).permute(2, 0, 1).float().div(255))
    np.testing.assert_array_equal(transforms.ToTensor()(hwc).numpy(), ref)


def test_normalize() -> None:
    x = np.random.default_rng(5).random((3, 4, 4)).astype(np.float32)
    mean, std = (0.5, 0.4, 0.3), (0.2, 0.25, 0.5)
    ref = (x - np.array(mean, np.float32)[:, None, None]) / np.array(std, np.float32)[:, None, None]
    out = transforms.Normalize(mean, std)(ndgrad.from_numpy(x))
    assert isinstance(out, ndgrad.Tensor) and out.dtype == ndgrad.float32
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6)
    out = transforms.Normalize(0.5, 0.2)(x)  # arrays in, arrays out; scalars broadcast
    assert isinstance(out, np.ndarray)
    np.testing.assert_allclose(out, (x - 0.5) / 0.2, rtol=1e-5)
    batch = np.stack([x, x])
    np.testing.assert_allclose(transforms.Normalize(mean, std)(batch)[1], ref, rtol=1e-6)
    y = x.copy()
    assert transforms.Normalize(mean, std, inplace=True)(y) is y
    np.testing.assert_allclose(y, ref, rtol=1e-6)
    t = ndgrad.from_numpy(x.copy())
    transforms.Normalize(mean, std, inplace=True)(t)
    np.testing.assert_allclose(t.numpy(), ref, rtol=1e-6)
    with pytest.raises(TypeError, match="float"):
        transforms.Normalize(mean, std)(np.zeros((3, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="division by zero"):
        transforms.Normalize(mean, (1, 0, 1))(x)
    with pytest.raises(RuntimeError, match="must match the size"):
        transforms.Normalize((0.1, 0.2), (1, 1))(x)


@pytest.mark.parametrize("padding, widths", [
    (2, ((2, 2), (2, 2))),
    ((1, 3), ((3, 3), (1, 1))),
    ([1, 2, 3, 4], ((2, 4), (1, 3))),
])
@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad(padding: Any, widths: Any, mode: str) -> None:
    x = np.arange(2 * 5 * 6, dtype=np.uint8).reshape(2, 5, 6)
    out = transforms.Pad(padding, fill=7, padding_mode=mode)(ndgrad.from_numpy(x))
    kwargs = {"constant_values": 7} if mode == "constant" else {}
    ref = np.pad(x, ((0, 0), *widths), mode=mode, **kwargs)
    assert out.dtype == ndgrad.uint8
    np.testing.assert_array_equal(out.numpy(), ref)
    np.testing.assert_array_equal(transforms.Pad(padding, 7, mode)(x[0]), ref[0])


def test_pad_matches_torch(torch_ref: Any) -> None:
    x = np.random.default_rng(6).random((1, 3, 5, 6)).astype(np.float32)
    for mode, torch_mode in (("edge", "replicate"), ("reflect", "reflect")):
        out = transforms.Pad((1, 2, 3, 4), padding_mode=mode)(x)
        ref = torch_ref(mode, lambda torch, m=torch_mode: torch.nn.functional.pad(torch.from_numpy(x), (1, 3, 2, 4),
                                                                                  mode=m))
        np.testing.assert_array_equal(out, ref)
    with pytest.raises(ValueError):
        transforms.Pad((1, 2, 3))
    with pytest.raises(ValueError):
        transforms.Pad(1, padding_mode="wrap")


RESIZE_CASES = [(5, 7, 10, 14), (28, 28, 14, 14), (28, 28, 32, 32), (8, 8, 28, 28),
                (13, 11, 5, 17), (9, 10, 9, 3), (6, 6, 1, 1), (7, 3, 21, 6)]


@pytest.mark.parametrize("h, w, oh, ow", RESIZE_CASES)
@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_resize_matches_torch_interpolate(h: int, w: int, oh: int, ow: int, mode: str,
                                          dtype: Any, torch_ref: Any) -> None:
    x = np.random.default_rng(h * 100 + w).random((1, 2, h, w)).astype(dtype)
    kwargs = {"align_corners": False} if mode == "bilinear" else {}
    ref = torch_ref("out", lambda torch: torch.nn.functional.interpolate(torch.from_numpy(x), size=(oh, ow), mode=mode,
                                                                         **kwargs))
    out = transforms.Resize((oh, ow), interpolation=mode, antialias=False)(ndgrad.from_numpy(x))
    assert out.dtype == ndgrad.from_numpy(x).dtype and tuple(out.shape) == ref.shape
    if mode == "nearest":
        np.testing.assert_array_equal(out.numpy(), ref)
    else:
        np.testing.assert_allclose(out.numpy(), ref, rtol=1e-6, atol=1e-6)


def test_resize_reference_and_rules() -> None:
    # A hand-computed bilinear case: 2 -> 4 samples at source -0.25(->0), 0.25, 0.75, 1.25.
    x = np.array([[0.0, 4.0]], np.float32)
    np.testing.assert_allclose(transforms.Resize((1, 4))(x), [[0.0, 1.0, 3.0, 4.0]])
    img = np.random.default_rng(7).integers(0, 256, (1, 10, 20), dtype=np.uint8)
    out = transforms.Resize(5)(ndgrad.from_numpy(img))  # shorter edge -> 5, ratio kept
    assert tuple(out.shape) == (1, 5, 10) and out.dtype == ndgrad.uint8
    as_float = transforms.Resize(5)(img.astype(np.float32))
    np.testing.assert_array_equal(out.numpy(), np.clip(np.round(as_float), 0, 255))
    assert transforms.Resize([4])(np.zeros((12, 6))).shape == (8, 4)
    assert transforms.Resize(4, max_size=6)(np.zeros((12, 6))).shape == (6, 3)
    near = transforms.Resize((4, 4), interpolation=transforms.InterpolationMode.NEAREST)
    np.testing.assert_array_equal(near(np.arange(4).reshape(2, 2)),
                                  np.arange(4).reshape(2, 2).repeat(2, 0).repeat(2, 1))
    with pytest.raises(ValueError, match="interpolation"):
        transforms.Resize(3, interpolation="cubic")
    with pytest.raises(RuntimeError, match="greater than 0"):
        transforms.Resize((0, 3))(img)


def test_compose_lambda_and_a_pipeline(tmp_path: Any) -> None:
    with pytest.raises(TypeError, match="callable"):
        transforms.Lambda(3)  # type: ignore[arg-type]
    pipeline = transforms.Compose([
        transforms.ToTensor(),
        transforms.Pad(2),
        transforms.Resize(16),
        transforms.Normalize((0.1307,), (0.3081,)),
        transforms.Lambda(lambda t: t.numpy().sum()),
    ])
    assert "Normalize(mean=(0.1307,), std=(0.3081,))" in repr(pipeline)
    images = np.random.default_rng(8).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    write_idx(raw / "train-images-idx3-ubyte.gz", images)
    write_idx(raw / "train-labels-idx1-ubyte.gz", np.array([0, 1, 2], np.uint8))
    ds = MNIST(tmp_path, transform=pipeline)
    value, target = ds[1]
    x = np.pad(images[1] / np.float32(255), 2)[None].astype(np.float32)
    step = transforms.Resize(16)(x)
    assert step.shape == (1, 16, 16)
    assert target == 1
    np.testing.assert_allclose(value, ((step - 0.1307) / 0.3081).sum(), rtol=1e-4)
    assert "Transform: Compose(" in repr(ds)


def test_transforms_do_not_alias_their_input() -> None:
    x = ndgrad.from_numpy(np.ones((1, 4, 4), np.float32))
    for t in (transforms.ToTensor(), transforms.Normalize(0.0, 1.0), transforms.Pad(0)):
        out = t(x)
        out.numpy()[...] = 5
        assert x.numpy().max() == 1.0, t
    assert transforms.Resize((4, 4))(x) is x  # as torchvision: an unchanged size returns the input
    buf = io.BytesIO(gzip.compress(encode_idx(np.zeros(3, np.uint8))))
    assert read_idx(buf).tolist() == [0, 0, 0]
