"""Read and write the safetensors format (no `safetensors` package needed).

Layout of a file: an 8-byte little-endian unsigned header length N, N bytes of UTF-8
JSON, then the raw little-endian, C-ordered tensor bytes.  The JSON maps each tensor
name to {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]} (offsets
relative to the start of the data), plus an optional "__metadata__" map of str to str.

Like the reference implementation, `save` pads the header with spaces so the data
starts 8-byte aligned and lays tensors out by decreasing alignment, then by name;
`load` checks that the header is a JSON object, that every tensor's byte range matches
its dtype and shape, and that the ranges tile the data exactly (no gaps, overlaps or
trailing bytes).  Tensors are always written as contiguous copies, so tensors sharing
memory are simply written twice.  complex128 cannot be saved (the format has no such dtype).
"""
from __future__ import annotations

import json
import os
import struct
import sys
from typing import Any, Union

import numpy as np

from .. import _dtype as D

__all__ = ["save", "save_file", "load", "load_file", "load_metadata", "SafetensorError"]

PathLike = Union[str, "os.PathLike[str]"]

_CODE_OF = {"bool": "BOOL", "uint8": "U8", "int8": "I8", "int16": "I16", "int32": "I32", "int64": "I64",
            "float16": "F16", "bfloat16": "BF16", "float32": "F32", "float64": "F64", "complex64": "C64"}
_NAME_OF = {v: k for k, v in _CODE_OF.items()}
_SIZE_OF_CODE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "I32": 4, "I64": 8, "F16": 2, "F32": 4, "F64": 8,
                 "C64": 8, "BF16": 2}
_MAX_HEADER = 100_000_000  # the reference implementation's limit


class SafetensorError(ValueError):
    """A safetensors file or buffer is malformed."""


# ---------------------------------------------------------------------------
# save
# ---------------------------------------------------------------------------
def _prepare(tensors: dict[str, Any], metadata: dict[str, str] | None) -> tuple[bytes, list[np.ndarray]]:
    from .._tensor import Tensor

    if not isinstance(tensors, dict):
        raise TypeError(f"expected a dict of tensors, got {type(tensors).__name__}")
    if metadata is not None:
        if not isinstance(metadata, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                     for k, v in metadata.items()):
            raise TypeError("safetensors metadata must be a dict of str to str")
    entries = []
    for name, t in tensors.items():
        if not isinstance(name, str):
            raise TypeError(f"tensor names must be str, got {type(name).__name__}")
        if name == "__metadata__":
            raise ValueError("'__metadata__' is reserved and cannot name a tensor")
        if not isinstance(t, Tensor):
            raise TypeError(f"{name!r} is a {type(t).__name__}, not a tensor")
        code = _CODE_OF.get(t.dtype.name)
        if code is None:
            raise TypeError(f"{name!r}: safetensors has no {t.dtype.name} dtype")
        if code == "BF16":  # ml_dtypes' type has no byte order of its own: write its bits little-endian
            arr = np.asarray(t._data).view(np.uint16).astype("<u2")
        else:
            arr = np.asarray(t._data, dtype=t.dtype.np.newbyteorder("<"))
        if not arr.flags.c_contiguous:
            arr = arr.copy(order="C")
        entries.append((-_SIZE_OF_CODE[code], name, code, arr))
    entries.sort(key=lambda e: (e[0], e[1]))  # by decreasing alignment, then name

    header: dict[str, Any] = {}
    if metadata:
        header["__metadata__"] = dict(metadata)
    offset, arrays = 0, []
    for _, name, code, arr in entries:
        header[name] = {"dtype": code, "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
        arrays.append(arr)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    return struct.pack("<Q", len(text)) + text, arrays


def save(tensors: dict[str, Any], metadata: dict[str, str] | None = None) -> bytes:
    """Serialize a dict of tensors (with optional str->str metadata) to safetensors bytes."""
    head, arrays = _prepare(tensors, metadata)
    return b"".join([head] + [a.reshape(-1).view(np.uint8).tobytes() for a in arrays])


def save_file(tensors: dict[str, Any], filename: PathLike, metadata: dict[str, str] | None = None) -> None:
    """Write a dict of tensors (with optional str->str metadata) to a .safetensors file."""
    head, arrays = _prepare(tensors, metadata)
    with open(filename, "wb") as f:
        f.write(head)
        for a in arrays:
            f.write(memoryview(a.reshape(-1).view(np.uint8)))


# ---------------------------------------------------------------------------
# load
# ---------------------------------------------------------------------------
def _parse_header(text: bytes, data_len: int) -> tuple[dict[str, str], list[tuple]]:
    if text[:1] != b"{":
        raise SafetensorError("invalid safetensors header: it must be a JSON object starting with '{'")

    def no_duplicates(pairs: list) -> dict:
        out: dict = {}
        for k, v in pairs:
            if k in out:
                raise SafetensorError(f"invalid safetensors header: duplicate key {k!r}")
            out[k] = v
        return out

    try:
        header = json.loads(text.decode("utf-8"), object_pairs_hook=no_duplicates)
    except (UnicodeDecodeError, ValueError) as e:
        if isinstance(e, SafetensorError):
            raise
        raise SafetensorError(f"invalid safetensors header: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorError("invalid safetensors header: not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise SafetensorError("invalid safetensors header: __metadata__ must map str to str")

    infos = []
    for name, info in header.items():
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise SafetensorError(f"invalid safetensors header entry for {name!r}: {info!r}")
        code, shape, offs = info["dtype"], info["shape"], info["data_offsets"]
        if code not in _SIZE_OF_CODE:
            raise SafetensorError(f"tensor {name!r}: unsupported dtype {code!r}")
        if (not isinstance(shape, list) or len(shape) > 64
                or not all(type(s) is int and s >= 0 for s in shape)):
            raise SafetensorError(f"tensor {name!r}: invalid shape {shape!r}")
        if not isinstance(offs, list) or len(offs) != 2 or not all(type(o) is int and o >= 0 for o in offs):
            raise SafetensorError(f"tensor {name!r}: invalid data_offsets {offs!r}")
        numel = 1
        for s in shape:
            numel *= s
        if offs[1] < offs[0] or offs[1] - offs[0] != numel * _SIZE_OF_CODE[code]:
            raise SafetensorError(f"tensor {name!r}: data_offsets {offs} do not match dtype {code} and shape "
                                  f"{shape} ({numel * _SIZE_OF_CODE[code]} bytes)")
        infos.append((offs[0], offs[1], name, code, tuple(shape)))
    infos.sort()
    pos = 0
    for begin, end, name, _, _ in infos:
        if begin != pos:
            raise SafetensorError(f"tensor {name!r}: data_offsets leave a gap or overlap at byte {pos}")
        pos = end
    if pos != data_len:
        raise SafetensorError(f"the tensors cover {pos} bytes but the file holds {data_len} bytes of data "
                              "(truncated or corrupted file)")
    return metadata, infos


def _split(buf: Any) -> tuple[dict[str, str], list[tuple], int]:
    view = memoryview(buf)
    if view.nbytes < 8:
        raise SafetensorError("not a safetensors file: shorter than its 8-byte header length")
    (n,) = struct.unpack("<Q", view[:8])
    if n > _MAX_HEADER:
        raise SafetensorError(f"safetensors header of {n} bytes is too large")
    if 8 + n > view.nbytes:
        raise SafetensorError("safetensors header runs past the end of the data (truncated file?)")
    metadata, infos = _parse_header(bytes(view[8:8 + n]), view.nbytes - 8 - n)
    return metadata, infos, 8 + n


def _build(buf: np.ndarray, start: int, infos: list[tuple]) -> dict[str, Any]:
    from .._tensor import Tensor

    out = {}
    for begin, end, name, code, shape in infos:
        raw = buf[start + begin:start + end]
        dt = D._BY_NAME[_NAME_OF[code]]
        if code == "BF16":  # NumPy byte order does not apply to ml_dtypes' type: read the bits
            arr = raw.view("<u2").astype(np.uint16).view(dt.np).reshape(shape)
        else:
            arr = raw.view(dt.np.newbyteorder("<"))
            if (start + begin) % dt.itemsize:
                arr = arr.copy()  # keep kernels on aligned data
            if sys.byteorder == "big":
                arr = arr.astype(dt.np)
            arr = arr.reshape(shape)
        out[name] = Tensor._make(arr, dt)
    return dict(sorted(out.items()))


def load(data: bytes) -> dict[str, Any]:
    """Tensors from safetensors bytes, by name (each a writable copy)."""
    _, infos, start = _split(data)
    return _build(np.frombuffer(bytearray(data), np.uint8), start, infos)


def load_file(filename: PathLike, device: str = "cpu") -> dict[str, Any]:
    """Tensors from a .safetensors file, by name.  Only device="cpu" exists in ndgrad."""
    from .._backend import check_device

    check_device(device)
    with open(filename, "rb") as f:
        buf = np.fromfile(f, dtype=np.uint8)
    _, infos, start = _split(buf)
    return _build(buf, start, infos)


def load_metadata(filename: PathLike) -> dict[str, str]:
    """The `__metadata__` map of a .safetensors file (reads only the header)."""
    with open(filename, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SafetensorError("not a safetensors file: shorter than its 8-byte header length")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER:
            raise SafetensorError(f"safetensors header of {n} bytes is too large")
        text = f.read(n)
        if len(text) != n:
            raise SafetensorError("safetensors header runs past the end of the file (truncated file?)")
        f.seek(0, os.SEEK_END)
        data_len = f.tell() - 8 - n
    return _parse_header(text, data_len)[0]
