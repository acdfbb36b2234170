"""TensorBoard's event files without TensorBoard: the few protobuf messages a SummaryWriter
writes (Event, Summary, HistogramProto, TensorProto, image), encoded by hand, framed as
TFRecords (length, masked CRC-32C of the length, payload, masked CRC-32C of the payload), and a
small PNG encoder for images.

Field numbers follow tensorboard/compat/proto (event.proto, summary.proto, tensor.proto); fields
holding their default value are left out, as protobuf does, so files read back field for field
like the ones torch.utils.tensorboard writes."""
from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

import numpy as np


# -- protobuf wire format -----------------------------------------------------------------
def _varint(n: int) -> bytes:
    n &= 0xFFFFFFFFFFFFFFFF  # negative int64: ten bytes of two's complement
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def field_bytes(num: int, payload: bytes) -> bytes:
    """A length-delimited field (strings, bytes, sub-messages, packed numbers)."""
    return _varint(num << 3 | 2) + _varint(len(payload)) + payload


def field_int(num: int, value: int) -> bytes:
    return _varint(num << 3) + _varint(int(value)) if value else b""


def field_double(num: int, value: float) -> bytes:
    return _varint(num << 3 | 1) + struct.pack("<d", value) if value else b""


def field_float(num: int, value: float) -> bytes:
    return _varint(num << 3 | 5) + struct.pack("<f", value) if value else b""


def field_str(num: int, text: str | bytes) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return field_bytes(num, data) if data else b""


def packed_doubles(num: int, values: Sequence[float]) -> bytes:
    return field_bytes(num, struct.pack(f"<{len(values)}d", *values)) if len(values) else b""


# -- messages -------------------------------------------------------------------------------
DT_FLOAT, DT_DOUBLE, DT_STRING = 1, 2, 7


def event(wall_time: float, step: int = 0, *, file_version: str = "", summary: bytes = b"",
          session_start: bool = False, writer_name: str = "") -> bytes:
    """An Event: wall_time(1), step(2), then one of file_version(3), summary(5) or session_log(7);
    source_metadata(10) names the writer."""
    out = field_double(1, wall_time) + field_int(2, step) + field_str(3, file_version)
    if summary:
        out += field_bytes(5, summary)
    if session_start:
        out += field_bytes(7, field_int(1, 1))  # SessionLog{status: START}
    if writer_name:
        out += field_bytes(10, field_str(1, writer_name))
    return out


def summary_value(tag: str, *, simple_value: float | None = None, image: bytes = b"", histo: bytes = b"",
                  tensor: bytes = b"", plugin: str = "") -> bytes:
    """A Summary holding one Value: tag(1), simple_value(2), image(4), histo(5), tensor(8),
    metadata(9) with its plugin's name."""
    value = field_str(1, tag)
    if simple_value is not None:
        value += _varint(2 << 3 | 5) + struct.pack("<f", simple_value)  # written even when 0
    if image:
        value += field_bytes(4, image)
    if histo:
        value += field_bytes(5, histo)
    if tensor:
        value += field_bytes(8, tensor)
    if plugin:
        value += field_bytes(9, field_bytes(1, field_str(1, plugin)))
    return field_bytes(1, value)


def image_message(height: int, width: int, channels: int, png: bytes) -> bytes:
    return field_int(1, height) + field_int(2, width) + field_int(3, channels) + field_bytes(4, png)


def histogram_message(lo: float, hi: float, num: float, total: float, squares: float,
                      limits: Sequence[float], counts: Sequence[float]) -> bytes:
    return (field_double(1, lo) + field_double(2, hi) + field_double(3, num) + field_double(4, total)
            + field_double(5, squares) + packed_doubles(6, limits) + packed_doubles(7, counts))


def tensor_message(dtype: int, *, shape: Sequence[int] | None = None, floats: Sequence[float] = (),
                   doubles: Sequence[float] = (), strings: Sequence[bytes] = ()) -> bytes:
    """TensorProto: dtype(1), tensor_shape(2) of dims(2){size(1)}, float_val(5), double_val(6),
    string_val(8)."""
    out = field_int(1, dtype)
    if shape is not None:
        out += field_bytes(2, b"".join(field_bytes(2, field_int(1, n)) for n in shape))
    if len(floats):
        out += field_bytes(5, struct.pack(f"<{len(floats)}f", *floats))
    if len(doubles):
        out += packed_doubles(6, doubles)
    for s in strings:
        out += field_bytes(8, s)
    return out


# -- TFRecord framing -------------------------------------------------------------------------
def _crc32c_table() -> list[int]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return table


_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecords use."""
    crc = 0xFFFFFFFF
    table = _TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _masked(data: bytes) -> bytes:
    c = crc32c(data)
    return struct.pack("<I", (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF)


def record(payload: bytes) -> bytes:
    header = struct.pack("<Q", len(payload))
    return header + _masked(header) + payload + _masked(payload)


# -- PNG --------------------------------------------------------------------------------------
def png(pixels: np.ndarray) -> bytes:
    """An 8-bit PNG of an (H, W, C) uint8 array, C = 1 (grey), 3 (RGB) or 4 (RGBA)."""
    h, w, c = pixels.shape
    color = {1: 0, 3: 2, 4: 6}[c]
    raw = b"".join(b"\x00" + pixels[row].tobytes() for row in range(h))  # filter 0 on every row

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, color, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
