"""ndgrad.utils.tensorboard.SummaryWriter against torch.utils.tensorboard: the same calls write the
same events (read back here with a small protobuf/TFRecord/PNG reader of our own; wall times
aside), PyTorch's side live where torch and tensorboard are installed, else recorded."""
from __future__ import annotations

import os
import re
import struct
import time
import zlib
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pytest

import ndgrad
from ndgrad.utils.tensorboard import SummaryWriter
from ndgrad.utils.tensorboard._records import crc32c


# -- reading event files back -------------------------------------------------------------------
def _varint(b: bytes, i: int) -> tuple[int, int]:
    r = shift = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return r, i


def _fields(b: bytes) -> list[tuple[int, Any]]:
    """(field number, value) pairs: varints as ints, fixed64 as doubles, fixed32 as floats, bytes as bytes."""
    i, out = 0, []
    while i < len(b):
        key, i = _varint(b, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            v, i = _varint(b, i)
        elif wire == 1:
            v, i = struct.unpack("<d", b[i:i + 8])[0], i + 8
        elif wire == 5:
            v, i = struct.unpack("<f", b[i:i + 4])[0], i + 4
        else:
            n, i = _varint(b, i)
            v, i = b[i:i + n], i + n
        out.append((num, v))
    return out


def _masked_crc(data: bytes) -> int:
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def _records(path: Path) -> list[bytes]:
    data, i, out = path.read_bytes(), 0, []
    while i < len(data):
        header = data[i:i + 8]
        (n,) = struct.unpack("<Q", header)
        assert struct.unpack("<I", data[i + 8:i + 12])[0] == _masked_crc(header)
        payload = data[i + 12:i + 12 + n]
        assert struct.unpack("<I", data[i + 12 + n:i + 16 + n])[0] == _masked_crc(payload)
        out.append(payload)
        i += 16 + n
    return out


def _png_pixels(png: bytes) -> list:
    """An 8-bit PNG's pixels (PIL where installed; else filter-0 PNGs, the kind ndgrad writes)."""
    try:
        import io

        from PIL import Image
        return np.asarray(Image.open(io.BytesIO(png))).tolist()
    except ImportError:
        pass
    w, h, depth, color = struct.unpack(">IIBB", png[16:26])
    channels = {0: 1, 2: 3, 6: 4}[color]
    idat, i = b"", 8
    while i < len(png):
        (n,) = struct.unpack(">I", png[i:i + 4])
        if png[i + 4:i + 8] == b"IDAT":
            idat += png[i + 8:i + 8 + n]
        i += 12 + n
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * channels)
    assert depth == 8 and not raw[:, 0].any()
    return raw[:, 1:].reshape(h, w, channels).tolist()


def _value(b: bytes) -> dict:
    f = dict(_fields(b))
    out: dict[str, Any] = {"tag": f[1].decode()}
    if 2 in f:
        out["simple_value"] = f[2]
    if 4 in f:
        img = dict(_fields(f[4]))
        out["image"] = (img.get(1, 0), img.get(2, 0), img.get(3, 0), _png_pixels(img[4]))
    if 5 in f:
        h = _fields(f[5])
        d = dict(h)
        doubles = {k: list(struct.unpack(f"<{len(v) // 8}d", v)) for k, v in h if k in (6, 7)}
        out["histo"] = [d.get(k, 0.0) for k in (1, 2, 3, 4, 5)] + [doubles.get(6, []), doubles.get(7, [])]
        out["histo"][4] = round(out["histo"][4], 6)
    if 8 in f:
        out["tensor"] = [(k, v if not isinstance(v, bytes) else v.hex()) for k, v in _fields(f[8])]
    if 9 in f:
        out["plugin"] = _fields(dict(_fields(f[9]))[1])[0][1].decode()
    return out


def _events(log_dir: str) -> dict:
    """{event file's folder relative to log_dir: [events without their wall time]}, and the wall times."""
    out: dict[str, list] = {}
    for path in sorted(Path(log_dir).rglob("events.out.tfevents.*")):
        evs = []
        for rec in _records(path):
            ev: dict[str, Any] = {}
            for num, v in _fields(rec):
                if num == 1:
                    ev.setdefault("wall", v)
                elif num == 2:
                    ev["step"] = v
                elif num == 3:
                    ev["file_version"] = v.decode()
                elif num == 5:
                    ev["values"] = [_value(x) for n, x in _fields(v) if n == 1]
                elif num == 7:
                    ev["session_log"] = dict(_fields(v)).get(1)
                elif num == 10:
                    ev["writer"] = dict(_fields(v))[1].decode()
            evs.append(ev)
        out[str(path.parent.relative_to(log_dir))] = evs
    return out


def _log(L: Any, SW: Any, log_dir: str) -> dict:
    """The same logging calls under either library; the events read back, wall times kept only where given."""
    rng = np.random.default_rng(0)
    w = SW(log_dir, purge_step=2)
    w.add_scalar("loss/train", 0.5, 3)
    w.add_scalar("acc", L.tensor(0.25), L.tensor(4), walltime=100.0)
    w.add_scalar("zero", 0.0)
    w.add_scalar("np", np.float64(1.5), 6)
    w.add_scalar("new", 2.5, 1, new_style=True)
    w.add_scalar("new64", 2.5, 1, new_style=True, double_precision=True)
    w.add_scalars("run/a", {"x": 1.0, "y": L.tensor([2.0])}, 5, walltime=50.0)
    w.add_scalars("run/a", {"x": 3.0}, 6, walltime=51.0)
    w.add_text("note", "hello *world*\nline 2", 6)
    w.add_image("chw", L.from_numpy(rng.random((3, 2, 4)).astype(np.float32)), 7)
    w.add_image("half", L.full((3, 1, 2), 0.5), 7)
    w.add_image("clip", L.tensor([[1.7, -0.2]]), 7, dataformats="HW")
    w.add_image("grey", L.arange(6.0).reshape(1, 2, 3) / 5, 7)
    w.add_image("u8", (L.arange(24) * 10).to(L.uint8).reshape(2, 3, 4), 7, dataformats="HWC")
    w.add_images("grid", L.from_numpy(rng.random((10, 3, 2, 2)).astype(np.float32)), 8)
    w.add_images("nhwc1", L.from_numpy(rng.random((2, 2, 3, 1)).astype(np.float32)), 8, dataformats="NHWC")
    w.add_histogram("h", np.array([0.1, 0.5, 0.5, 2.0, -1.0]), 9)
    w.add_histogram("h4", L.arange(10.0), 9, bins=4)
    w.add_histogram("hmax", rng.standard_normal(500), 9, max_bins=20)
    w.add_histogram("one", np.array([5.0]), 9)
    w.flush()
    w.close()
    out = _events(log_dir)
    for evs in out.values():
        for ev in evs:
            if ev.get("wall") not in (50.0, 51.0, 100.0):
                ev.pop("wall", None)
    return out


def test_events_match_pytorch(torch_ref: Callable, tmp_path: Path) -> None:
    """makemore and attention-is-all-you-need log through `torch.utils.tensorboard.SummaryWriter`."""
    def theirs(torch: Any) -> dict:
        from torch.utils.tensorboard import SummaryWriter as TorchWriter
        return _log(torch, TorchWriter, str(tmp_path / "torch"))
    want = torch_ref("events", theirs, needs="tensorboard")
    got = _log(ndgrad, SummaryWriter, str(tmp_path / "ndgrad"))
    assert sorted(got) == sorted(want) == [".", "run_a_x", "run_a_y"]
    for run in want:
        assert len(got[run]) == len(want[run]), run
        for g, w in zip(got[run], want[run]):
            assert g == w


def test_files_names_and_defaults(tmp_path: Path, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    t0 = time.time()
    with SummaryWriter(comment="_lr0.1") as w:
        w.add_scalar("a", 1, 1)
        log_dir = w.get_logdir()
    assert re.fullmatch(r"runs/[A-Z][a-z]{2}\d\d_\d\d-\d\d-\d\d_.+_lr0\.1", log_dir.replace(os.sep, "/"))
    (path,) = Path(log_dir).iterdir()
    assert re.fullmatch(rf"events\.out\.tfevents\.\d{{10}}\..+\.{os.getpid()}\.\d+", path.name)
    evs = _events(log_dir)["."]
    assert evs[0]["file_version"] == "brain.Event:2" and evs[0]["writer"].startswith("tensorboard.")
    assert t0 - 1 <= evs[1]["wall"] <= time.time() + 1 and evs[1]["step"] == 1
    w2 = SummaryWriter(str(tmp_path / "x"), filename_suffix=".v2")
    w2.close()
    assert next((tmp_path / "x").iterdir()).name.endswith(".v2")


def test_unsupported_and_bad_input(tmp_path: Path) -> None:
    w = SummaryWriter(str(tmp_path))
    with pytest.raises(AssertionError, match="Tensor should contain one element"):
        w.add_scalar("bad", ndgrad.ones(2), 1)
    with pytest.raises(ValueError, match="The input has no element"):
        w.add_histogram("empty", np.array([]), 1)
    with pytest.warns(UserWarning, match="does not record model graphs"):
        w.add_graph(ndgrad.nn.Linear(2, 2), ndgrad.ones(1, 2))
    with pytest.raises(NotImplementedError, match="hyperparameters"):
        w.add_hparams({"lr": 0.1}, {"loss": 1.0})
    w.close()


def test_crc32c_and_figure(tmp_path: Path) -> None:
    assert crc32c(b"123456789") == 0xE3069283  # the standard check value
    plt = pytest.importorskip("matplotlib.pyplot")
    fig = plt.figure(figsize=(1, 1), dpi=10)
    w = SummaryWriter(str(tmp_path))
    w.add_figure("fig", fig, 4)
    w.close()
    (value,) = _events(str(tmp_path))["."][1]["values"]
    h, wd, c, pixels = value["image"]
    assert (h, wd, c) == (10, 10, 3) and np.asarray(pixels).shape == (10, 10, 3)
