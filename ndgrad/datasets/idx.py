"""Read and write IDX files, the big-endian array format of MNIST, optionally gzip-compressed.

An IDX file is a 4-byte magic number ``00 00 <type code> <ndim>``, then ``ndim`` big-endian
uint32 sizes, then the elements in C order, big-endian.  Type codes: 0x08 uint8, 0x09 int8,
0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
"""
from __future__ import annotations

import gzip
import os
import struct
from typing import IO

import numpy as np

__all__ = ["encode_idx", "parse_idx", "read_idx", "write_idx"]

_CODE_TO_DTYPE: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
_KIND_TO_CODE: dict[tuple[str, int], int] = {
    (dt.kind, dt.itemsize): code for code, dt in _CODE_TO_DTYPE.items()
}
_GZIP_MAGIC = b"\x1f\x8b"

PathLike = str | os.PathLike[str]


def parse_idx(buffer: bytes, *, name: str = "<bytes>") -> np.ndarray:
    """Decode the bytes of an (uncompressed) IDX file into a writable, native-endian array.

    Raises ValueError naming ``name`` when the bytes are not a well-formed IDX file.
    """
    view = memoryview(buffer)
    if len(view) < 4:
        raise ValueError(f"{name} is not an IDX file: it has only {len(view)} bytes")
    zero0, zero1, code, ndim = view[0], view[1], view[2], view[3]
    if zero0 != 0 or zero1 != 0:
        raise ValueError(f"{name} is not an IDX file: bad magic number {bytes(view[:4]).hex()}")
    if code not in _CODE_TO_DTYPE:
        raise ValueError(f"{name} is not an IDX file: unknown element type code 0x{code:02X}")
    header = 4 + 4 * ndim
    if len(view) < header:
        raise ValueError(f"{name} is truncated: its header needs {header} bytes, got {len(view)}")
    shape = struct.unpack(f">{ndim}I", view[4:header])
    dt = _CODE_TO_DTYPE[code]
    count = int(np.prod(shape, dtype=np.int64))
    expected = header + count * dt.itemsize
    if len(view) != expected:
        what = "truncated" if len(view) < expected else "longer than its header says"
        raise ValueError(
            f"{name} is {what}: shape {tuple(shape)} of {dt.newbyteorder('=').name} needs "
            f"{expected} bytes, the file has {len(view)}")
    flat = np.frombuffer(buffer, dtype=dt, count=count, offset=header)
    # astype copies: the result is writable and native-endian.
    return flat.astype(dt.newbyteorder("="), copy=True).reshape(shape)


def encode_idx(array: np.ndarray) -> bytes:
    """Encode an array as the bytes of an (uncompressed) IDX file."""
    arr = np.asarray(array)
    code = _KIND_TO_CODE.get((arr.dtype.kind, arr.dtype.itemsize))
    if code is None:
        supported = ", ".join(dt.newbyteorder("=").name for dt in _CODE_TO_DTYPE.values())
        raise ValueError(f"IDX cannot store dtype {arr.dtype}; supported: {supported}")
    if arr.ndim > 255:
        raise ValueError(f"IDX stores at most 255 dimensions, got {arr.ndim}")
    if any(n >= 2**32 for n in arr.shape):
        raise ValueError(f"IDX dimensions must be below 2**32, got shape {arr.shape}")
    header = bytes([0, 0, code, arr.ndim]) + struct.pack(f">{arr.ndim}I", *arr.shape)
    body = np.ascontiguousarray(arr, dtype=_CODE_TO_DTYPE[code]).tobytes()
    return header + body


def read_idx(source: PathLike | IO[bytes]) -> np.ndarray:
    """Read an IDX file (a path or a binary file object) into a NumPy array.

    Gzip-compressed files are recognised by their content (the gzip magic bytes), so
    ``train-images-idx3-ubyte.gz`` and its extracted twin both work.
    """
    if hasattr(source, "read"):
        raw = source.read()  # type: ignore[union-attr]
        name = getattr(source, "name", "<file>")
    else:
        name = os.fspath(source)  # type: ignore[arg-type]
        with open(name, "rb") as fh:
            raw = fh.read()
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError) as exc:
            raise ValueError(f"{name} is a damaged gzip file: {exc}") from exc
    return parse_idx(raw, name=str(name))


def write_idx(path: PathLike, array: np.ndarray, *, compress: bool | None = None) -> None:
    """Write ``array`` to ``path`` as an IDX file.

    ``compress=None`` gzips when the path ends in ``.gz``.  Compressed output is reproducible
    (the gzip timestamp is zero), so the same array always gives the same checksum.
    """
    path = os.fspath(path)
    data = encode_idx(array)
    if compress is None:
        compress = path.endswith(".gz")
    if compress:
        data = gzip.compress(data, mtime=0)
    with open(path, "wb") as fh:
        fh.write(data)
