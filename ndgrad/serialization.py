"""save / load in PyTorch's checkpoint format, without PyTorch and without running code.

`save` writes the zip archive `torch.save` writes (a protocol-2 pickle `data.pkl`
whose tensors point, through persistent ids, at raw storages `data/<key>`, plus
the small `version`, `byteorder`, ... records), so `torch.load(f, weights_only=True)`
reads it.  `load` reads those archives (and the pre-1.6 non-zip format) with its own
pickle interpreter: the file is decoded opcode by opcode and only a fixed list of
names (the tensor/parameter rebuild functions, storage types, dtypes, OrderedDict,
Size, device, set, complex) can be named by the file.  Nothing found in a file is
ever imported, called or given attributes other than those, so a hostile file can
fail to load but cannot execute anything.

Differences from PyTorch, on purpose:
- `load(..., weights_only=False)` runs the pickle with Python's unpickler (explicit opt-in, as
  in PyTorch), mapping `torch.*` classes to `ndgrad.*`; `save` of objects beyond weights
  (modules, NumPy arrays, custom classes) uses Python's pickler, still in PyTorch's format.
- Dtypes ndgrad lacks (uint16/32/64, float8 ...) raise (bfloat16 loads as bfloat16).
- Every tensor loads on the CPU: `map_location` may be omitted, be "cpu", a CPU
  device, a dict of locations to "cpu", or a callable returning the storage it gets.
- `save` always writes pickle protocol 2, as PyTorch does by default.
"""
from __future__ import annotations

import collections
import hashlib
import io
import os
import pickle
import pickletools
import struct
import sys
import warnings
import zipfile
import zlib
from typing import IO, Any, BinaryIO, Callable, Union

import numpy as np

from . import _dtype as D

__all__ = ["save", "load", "DEFAULT_PROTOCOL", "add_safe_globals", "get_safe_globals", "clear_safe_globals",
           "safe_globals"]

DEFAULT_PROTOCOL = 2

FileLike = Union[str, "os.PathLike[str]", BinaryIO, IO[bytes]]

# ndgrad dtype name <-> PyTorch's legacy typed-storage class name.
_STORAGE_OF = {
    "bool": "BoolStorage", "uint8": "ByteStorage", "int8": "CharStorage", "int16": "ShortStorage",
    "int32": "IntStorage", "int64": "LongStorage", "float16": "HalfStorage", "bfloat16": "BFloat16Storage",
    "float32": "FloatStorage", "float64": "DoubleStorage", "complex64": "ComplexFloatStorage",
    "complex128": "ComplexDoubleStorage",
}
_DTYPE_OF_STORAGE = {v: k for k, v in _STORAGE_OF.items()}
# torch dtypes a file may name that ndgrad cannot hold: refused with a clear message.
_FOREIGN_DTYPES = ("uint16", "uint32", "uint64", "float8_e4m3fn", "float8_e5m2", "float8_e4m3fnuz",
                   "float8_e5m2fnuz", "float8_e8m0fnu", "float4_e2m1fn_x2", "complex32", "chalf", "qint8",
                   "quint8", "qint32", "quint4x2", "quint2x4", "bits8", "bits16", "bits1x8", "bits2x4",
                   "bits4x2", "int1", "int2", "int3", "int4", "int5", "int6", "int7", "uint1", "uint2",
                   "uint3", "uint4", "uint5", "uint6", "uint7")

_ZIP64_LIMIT = 0xFFFFFFFF  # sizes/offsets from here on need zip64 fields (tests lower it)
_ALIGN = 64  # storages start at multiples of this in the archive, as PyTorch writes them
_LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
_LEGACY_PROTOCOL = 1001


# ---------------------------------------------------------------------------
# the seam to the core (imported lazily: ndgrad/__init__ imports this module)
# ---------------------------------------------------------------------------
def _tensor_cls() -> type:
    from ._tensor import Tensor
    return Tensor


def _parameter_cls() -> type | None:
    try:
        from .nn import Parameter
    except (ImportError, AttributeError):
        try:
            from .nn.parameter import Parameter
        except (ImportError, AttributeError):
            return None
    return Parameter


def _make_tensor(arr: np.ndarray, dtype_name: str, requires_grad: bool) -> Any:
    from ._tensor import Tensor
    t = Tensor._make(arr, D._BY_NAME[dtype_name])
    if requires_grad:
        t.requires_grad_(True)
    return t


def _make_parameter(data: Any, requires_grad: bool) -> Any:
    param = _parameter_cls()
    if param is None:  # no nn yet: a leaf tensor that requires grad is the closest thing
        data.requires_grad_(bool(requires_grad))
        return data
    return param(data, bool(requires_grad))


# ===========================================================================
# save
# ===========================================================================
class _TensorPlan:
    """Where one tensor lives in the archive: a storage key and its view of it."""

    __slots__ = ("group", "offset", "size", "stride")

    def __init__(self, group: "_StoragePlan", offset: int, size: tuple, stride: tuple) -> None:
        self.group, self.offset, self.size, self.stride = group, offset, size, stride


class _StoragePlan:
    __slots__ = ("dtype_name", "data", "key")

    def __init__(self, dtype_name: str, data: np.ndarray) -> None:
        self.dtype_name = dtype_name
        self.data = data  # contiguous 1-D uint8 array: the storage's bytes
        self.key: str | None = None  # assigned in pickling order


def _contiguous_strides(shape: tuple) -> tuple:
    strides, acc = [], 1
    for n in reversed(shape):
        strides.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(strides))


def _flat_bytes(root: np.ndarray) -> np.ndarray:
    """The memory of a C- or F-contiguous array as a 1-D uint8 view (no copy)."""
    flat = root.reshape(-1) if root.flags.c_contiguous else root.T.reshape(-1)
    return flat.view(np.uint8)


def _plan_storages(tensors: list) -> dict[int, _TensorPlan]:
    """Give each tensor a storage; tensors viewing one NumPy buffer share one storage.

    A shared storage covers only the byte range the tensors touch, so saving a small
    view of a big array does not write the whole array.  Tensors that cannot be
    described as (offset, stride) over such a storage (negative strides, a non-
    contiguous owner, mixed dtypes over the same bytes) get a compact copy instead.
    """
    plans: dict[int, _TensorPlan] = {}
    groups: dict[tuple, list] = {}
    for t in tensors:
        if type(t).__name__.startswith("Uninitialized"):
            raise TypeError(f"ndgrad.save: cannot save an {type(t).__name__} (a lazy module's placeholder); "
                            "run the module once so its parameters get a shape")
        arr = t._data if isinstance(t._data, np.ndarray) else np.asarray(t._data)
        name = t._dtype.name
        if name not in _STORAGE_OF:
            raise TypeError(f"ndgrad.save: cannot save a tensor of dtype {name}")
        item = arr.dtype.itemsize
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        shareable = (arr.size > 0 and arr.dtype.isnative and arr.dtype == t._dtype.np
                     and all(s >= 0 and s % item == 0 for s in arr.strides)
                     and (root.flags.c_contiguous or root.flags.f_contiguous))
        if shareable:
            ptr = arr.__array_interface__["data"][0]
            groups.setdefault((id(root), name, ptr % item), []).append((t, arr, root, ptr))
            continue
        data = np.ascontiguousarray(arr, dtype=t._dtype.np)
        group = _StoragePlan(name, data.reshape(-1).view(np.uint8))
        plans[id(t)] = _TensorPlan(group, 0, arr.shape, _contiguous_strides(arr.shape))
    for (_, name, _), members in groups.items():
        root = members[0][2]
        item = members[0][1].dtype.itemsize
        root_lo = root.__array_interface__["data"][0]
        lo = min(ptr for _, _, _, ptr in members)
        hi = max(ptr + sum((n - 1) * s for n, s in zip(arr.shape, arr.strides)) + item
                 for _, arr, _, ptr in members)
        flat = _flat_bytes(root)
        if lo < root_lo or hi > root_lo + flat.size:  # cannot happen for a real view; be safe
            for t, arr, _, _ in members:
                data = np.ascontiguousarray(arr)
                plans[id(t)] = _TensorPlan(_StoragePlan(name, data.reshape(-1).view(np.uint8)), 0,
                                           arr.shape, _contiguous_strides(arr.shape))
            continue
        group = _StoragePlan(name, flat[lo - root_lo:hi - root_lo])
        for t, arr, _, ptr in members:
            plans[id(t)] = _TensorPlan(group, (ptr - lo) // item, arr.shape,
                                       tuple(s // item for s in arr.strides))
    return plans


def _collect_tensors(obj: Any, tensor_cls: type) -> list:
    """Every distinct tensor reachable through the containers `save` understands."""
    found, seen, stack = [], set(), [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, (str, bytes, int, float, complex, type(None))) or id(x) in seen:
            continue
        seen.add(id(x))
        if isinstance(x, tensor_cls):
            found.append(x)
        elif isinstance(x, dict):
            for k, v in x.items():
                stack.extend((k, v))
            if isinstance(x, collections.OrderedDict) and getattr(x, "__dict__", None):
                stack.extend(vars(x).values())
        elif isinstance(x, (list, tuple, set, frozenset)):
            stack.extend(x)
    found.reverse()
    return found


class _NotWeights(Exception):
    """Raised by _PickleWriter for an object beyond weights: save falls back to Python's pickler."""


class _PickleWriter:
    """Emit a protocol-2 pickle for the object kinds PyTorch's weights-only loader reads.

    Written out by hand (rather than with `pickle.Pickler`) because the stream must
    name `torch._utils._rebuild_tensor_v2` & co. without PyTorch being importable.
    """

    def __init__(self, plans: dict[int, _TensorPlan], tensor_cls: type) -> None:
        self.out = bytearray(b"\x80\x02")  # PROTO 2
        self.memo: dict[Any, int] = {}
        self.plans = plans
        self.tensor_cls = tensor_cls
        self.param_cls = _parameter_cls()
        self.storages: list[_StoragePlan] = []
        self.building: set[int] = set()
        self.alive: list = []
        from ._backend import device
        from ._tensor import Size
        self.size_cls, self.device_cls = Size, device

    # -- memo --------------------------------------------------------------
    def _put(self, key: Any, obj: Any = None) -> None:
        if obj is not None:
            self.alive.append(obj)  # memo keys are ids: keep their objects alive meanwhile
        idx = len(self.memo)
        self.memo[key] = idx
        self.out += b"q" + bytes([idx]) if idx < 256 else b"r" + struct.pack("<I", idx)

    def _get(self, key: Any) -> bool:
        idx = self.memo.get(key)
        if idx is None:
            return False
        self.out += b"h" + bytes([idx]) if idx < 256 else b"j" + struct.pack("<I", idx)
        return True

    def _global(self, module: str, name: str) -> None:
        key = ("global", module, name)
        if not self._get(key):
            self.out += b"c" + module.encode("ascii") + b"\n" + name.encode("ascii") + b"\n"
            self._put(key)

    def _tuple(self, items: tuple | list) -> None:
        if not items:
            self.out += b")"
            return
        if len(items) > 3:
            self.out += b"("
        for x in items:
            self.save(x)
        self.out += {1: b"\x85", 2: b"\x86", 3: b"\x87"}.get(len(items), b"t")

    # -- scalars -------------------------------------------------------------
    def _int(self, x: int) -> None:
        if 0 <= x < 256:
            self.out += b"K" + bytes([x])
        elif 0 <= x < 65536:
            self.out += b"M" + struct.pack("<H", x)
        elif -(2 ** 31) <= x < 2 ** 31:
            self.out += b"J" + struct.pack("<i", x)
        else:
            data = x.to_bytes((x.bit_length() + 8) // 8, "little", signed=True)
            self.out += (b"\x8a" + bytes([len(data)]) if len(data) < 256
                         else b"\x8b" + struct.pack("<i", len(data))) + data

    def _str(self, x: str) -> None:
        key = ("str", x)
        if not self._get(key):
            data = x.encode("utf-8", "surrogatepass")
            self.out += b"X" + struct.pack("<I", len(data)) + data
            self._put(key)

    # -- dispatch ------------------------------------------------------------
    def save(self, x: Any) -> None:  # noqa: C901 - one flat dispatch reads best
        if x is None:
            self.out += b"N"
        elif isinstance(x, (bool, np.bool_)):
            self.out += b"\x88" if x else b"\x89"
        elif isinstance(x, (int, np.integer)):
            self._int(int(x))
        elif isinstance(x, (float, np.floating)):
            self.out += b"G" + struct.pack(">d", float(x))
        elif isinstance(x, str):
            self._str(x)
        elif isinstance(x, (complex, np.complexfloating)):
            x = complex(x)
            self._global("__builtin__", "complex")
            self._tuple((x.real, x.imag))
            self.out += b"R"
        elif isinstance(x, bytes):
            self._global("_codecs", "encode")
            self._tuple((x.decode("latin-1"), "latin1"))
            self.out += b"R"
        elif isinstance(x, self.tensor_cls):
            self._tensor(x)
        elif isinstance(x, D.dtype):
            self._global("torch", x.name)
        elif isinstance(x, self.device_cls):
            self._global("torch", "device")
            self._tuple((str(x),))
            self.out += b"R"
        elif self._get(id(x)):
            return
        elif isinstance(x, self.size_cls):
            self._global("torch", "Size")
            self._tuple((tuple(int(n) for n in x),))
            self.out += b"R"
            self._put(id(x), x)
        elif isinstance(x, tuple):
            if id(x) in self.building:
                raise ValueError("ndgrad.save: cannot save a tuple that contains itself")
            self.building.add(id(x))
            self._tuple(x)
            self.building.discard(id(x))
            if not self._get(id(x)):  # an item may have memoised it meanwhile
                self._put(id(x), x)
        elif isinstance(x, list):
            self.out += b"]"
            self._put(id(x), x)
            self._batched(x, b"e")
        elif isinstance(x, collections.OrderedDict):
            self._global("collections", "OrderedDict")
            self.out += b")R"
            self._put(id(x), x)
            self._batched(list(x.items()), b"u")
            state = getattr(x, "__dict__", None)
            if state:  # e.g. a state dict's `_metadata`, as PyTorch writes it
                self.out += b"}"
                self._batched(list(state.items()), b"u")
                self.out += b"b"  # BUILD
        elif isinstance(x, dict):  # other dict subclasses are saved as plain dicts
            self.out += b"}"
            self._put(id(x), x)
            self._batched(list(x.items()), b"u")
        elif isinstance(x, set):
            self._global("__builtin__", "set")
            self.out += b"]"
            self._batched(list(x), b"e")
            self.out += b"\x85R"
            self._put(id(x), x)
        else:
            raise _NotWeights(type(x).__qualname__)

    def _batched(self, items: list, op: bytes) -> None:
        """APPENDS (op e) of items or SETITEMS (op u) of (key, value) pairs, 1000 at a time."""
        for start in range(0, len(items), 1000):
            self.out += b"("
            for it in items[start:start + 1000]:
                if op == b"u":
                    self.save(it[0])
                    self.save(it[1])
                else:
                    self.save(it)
            self.out += op

    def _tensor(self, t: Any) -> None:
        if self._get(id(t)):
            return
        plan = self.plans[id(t)]
        is_param = self.param_cls is not None and isinstance(t, self.param_cls)
        if is_param:
            self._global("torch._utils", "_rebuild_parameter")
        self._global("torch._utils", "_rebuild_tensor_v2")
        self.out += b"("
        group = plan.group
        if group.key is None:
            group.key = str(len(self.storages))
            self.storages.append(group)
        item = D._BY_NAME[group.dtype_name].itemsize
        self.out += b"("  # persistent id: ('storage', type, key, location, numel)
        self._str("storage")
        self._global("torch", _STORAGE_OF[group.dtype_name])
        self._str(group.key)
        self._str("cpu")
        self._int(group.data.size // item)
        self.out += b"tQ"  # TUPLE, BINPERSID
        self._int(plan.offset)
        self._tuple(tuple(int(n) for n in plan.size))
        self._tuple(tuple(int(n) for n in plan.stride))
        self.out += b"\x89" if is_param else (b"\x88" if t.requires_grad else b"\x89")
        self._global("collections", "OrderedDict")
        self.out += b")R"  # backward hooks: an empty OrderedDict
        self.out += b"tR"
        if is_param:
            self.out += b"\x88" if t.requires_grad else b"\x89"
            self._global("collections", "OrderedDict")
            self.out += b")R\x87R"  # (data, requires_grad, hooks) TUPLE3, REDUCE
        self._put(id(t), t)


class _ZipWriter:
    """A minimal writer of stored (uncompressed) zip entries with 64-byte aligned data.

    Written by hand so that entries start at the alignment PyTorch uses (padding goes in
    an extra field of the local header, as PyTorch does) and so that big storages stream
    straight from their arrays; zip64 fields are added where sizes or offsets need them.
    """

    def __init__(self, fp: IO[bytes]) -> None:
        self.fp = fp
        self.pos = 0
        self.entries: list[tuple[bytes, int, int, int]] = []

    def _write(self, data: Any) -> None:
        self.fp.write(data)
        self.pos += memoryview(data).nbytes

    def add(self, name: str, data: Any, crc: int | None = None) -> None:
        view = memoryview(data).cast("B")
        size = view.nbytes
        if crc is None:
            crc = zlib.crc32(view)
        name_b = name.encode("utf-8")
        zip64 = size >= _ZIP64_LIMIT
        extra = struct.pack("<HHQQ", 1, 16, size, size) if zip64 else b""
        pad = -(self.pos + 30 + len(name_b) + len(extra) + 4) % _ALIGN
        extra += b"FB" + struct.pack("<H", pad) + b"Z" * pad
        size32 = 0xFFFFFFFF if zip64 else size
        offset = self.pos
        self._write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 45 if zip64 else 20, 0x800, 0, 0, 0x21,
                                crc, size32, size32, len(name_b), len(extra)) + name_b + extra)
        for start in range(0, size, 1 << 26):
            self._write(view[start:start + (1 << 26)])
        self.entries.append((name_b, crc, size, offset))

    def close(self) -> None:
        cd_start = self.pos
        for name_b, crc, size, offset in self.entries:
            fields = []
            if size >= _ZIP64_LIMIT:
                fields += [size, size]
            if offset >= _ZIP64_LIMIT:
                fields.append(offset)
            extra = struct.pack(f"<HH{len(fields)}Q", 1, 8 * len(fields), *fields) if fields else b""
            version = 45 if fields else 20
            size32 = 0xFFFFFFFF if size >= _ZIP64_LIMIT else size
            off32 = 0xFFFFFFFF if offset >= _ZIP64_LIMIT else offset
            self._write(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, version, version, 0x800, 0, 0, 0x21,
                                    crc, size32, size32, len(name_b), len(extra), 0, 0, 0, 0, off32)
                        + name_b + extra)
        cd_size = self.pos - cd_start
        count = len(self.entries)
        if count >= 0xFFFF or cd_size >= _ZIP64_LIMIT or cd_start >= _ZIP64_LIMIT:
            eocd64 = self.pos
            self._write(struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count,
                                    cd_size, cd_start))
            self._write(struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1))
            count16, cd_size32, cd_start32 = 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF
        else:
            count16, cd_size32, cd_start32 = count, cd_size, cd_start
        self._write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count16, count16, cd_size32, cd_start32, 0))


def save(obj: Any, f: FileLike, pickle_module: Any = None, pickle_protocol: int = DEFAULT_PROTOCOL,
         _use_new_zipfile_serialization: bool = True, _disable_byteorder_record: bool = False) -> None:
    """Save `obj` to `f` (a path or a writable binary file) in PyTorch's zip checkpoint format.

    Weights (tensors, Parameters, numbers, strings, bytes, None, dtypes, devices, `Size`s and
    dict / OrderedDict / list / tuple / set of those) are written by ndgrad's own pickle writer:
    what `torch.load(f, weights_only=True)` reads back.  Any other picklable object (a module,
    NumPy arrays, custom classes) is written with Python's pickler, tensors still in PyTorch's
    layout, so it loads with `load(f, weights_only=False)` (and in PyTorch where its classes
    exist there).  Tensors viewing the same memory are written once and load as views of one
    storage again.  Nothing is written when pickling fails.  The pickle is always protocol 2.
    """
    if pickle_module is not None:
        raise ValueError("ndgrad.save writes its own pickle stream; pickle_module is not supported")
    if not isinstance(pickle_protocol, int) or pickle_protocol < 2:
        raise ValueError(f"ndgrad.save writes pickle protocol 2; got pickle_protocol={pickle_protocol!r}")
    if not _use_new_zipfile_serialization:
        raise ValueError("ndgrad.save only writes the zip checkpoint format (_use_new_zipfile_serialization=True)")
    tensor_cls = _tensor_cls()
    tensors = _collect_tensors(obj, tensor_cls)
    writer = _PickleWriter(_plan_storages(tensors), tensor_cls)
    try:
        writer.save(obj)
        writer.out += b"."  # STOP
        pkl, storages = bytes(writer.out), writer.storages
    except _NotWeights:  # modules, NumPy arrays, custom classes: Python's pickler, same format
        pkl, storages = _pickle_full(obj)

    crcs = [zlib.crc32(memoryview(st.data)) for st in storages]
    digest = hashlib.sha256(pkl + struct.pack(f"<{len(crcs)}Q", *crcs))
    serial_id = str(int.from_bytes(digest.digest()[:16], "big")).zfill(40)[-40:]

    def write(fp: IO[bytes]) -> None:
        z = _ZipWriter(fp)
        z.add("archive/data.pkl", pkl)
        z.add("archive/.format_version", b"1")
        z.add("archive/.storage_alignment", str(_ALIGN).encode())
        if not _disable_byteorder_record:
            z.add("archive/byteorder", sys.byteorder.encode())
        for st, crc in zip(storages, crcs):
            z.add(f"archive/data/{st.key}", st.data, crc)
        z.add("archive/version", b"3\n")
        z.add("archive/.data/serialization_id", serial_id.encode())
        z.close()

    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fp:
            write(fp)
    else:
        if not hasattr(f, "write"):
            raise TypeError(f"ndgrad.save: expected a path or a binary file object, got {type(f).__name__}")
        write(f)
        if hasattr(f, "flush"):
            f.flush()


# ===========================================================================
# load: a restricted pickle interpreter
# ===========================================================================
class _Marker:
    """A name a checkpoint may mention that is data, not code (a storage type)."""

    __slots__ = ("kind", "name")

    def __init__(self, kind: str, name: str) -> None:
        self.kind, self.name = kind, name

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


class _Storage:
    """The bytes behind one storage key, with its typed element arrays cached."""

    __slots__ = ("raw", "big_endian", "typed", "key", "notes")

    def __init__(self, raw: np.ndarray, big_endian: bool, key: str, notes: set) -> None:
        self.raw = raw  # 1-D uint8
        self.big_endian = big_endian
        self.typed: dict[str, np.ndarray] = {}
        self.key = key
        self.notes = notes  # shared by one load: what to warn about once it is done

    def elements(self, dtype_name: str) -> np.ndarray:
        arr = self.typed.get(dtype_name)
        if arr is not None:
            return arr
        if dtype_name == "bfloat16":
            if self.raw.size % 2:
                raise pickle.UnpicklingError(f"storage {self.key!r}: size is not a multiple of bfloat16's")
            # the 16 bits in native order (a copy only when byte-swapped), seen as bfloat16
            arr = self.raw.view(">u2" if self.big_endian else "<u2").astype(np.uint16, copy=False).view(
                D.bfloat16.np)
        else:
            npd = D._BY_NAME[dtype_name].np
            if self.raw.size % npd.itemsize:
                raise pickle.UnpicklingError(
                    f"storage {self.key!r} holds {self.raw.size} bytes, not a whole number of {dtype_name}")
            arr = self.raw.view(npd)
            if self.big_endian != (sys.byteorder == "big") and npd.itemsize > 1:
                arr = arr.byteswap().view(npd)
        self.typed[dtype_name] = arr
        return arr


class _StorageRef:
    """What a persistent id resolves to: a storage seen as elements of one dtype."""

    __slots__ = ("storage", "dtype_name", "numel", "offset")

    def __init__(self, storage: _Storage, dtype_name: str | None, numel: int, offset: int = 0) -> None:
        self.storage, self.dtype_name, self.numel, self.offset = storage, dtype_name, numel, offset


def _check_int(x: Any, what: str, minimum: int = 0) -> int:
    if isinstance(x, bool) or not isinstance(x, int) or x < minimum:
        raise pickle.UnpicklingError(f"invalid tensor {what}: {x!r}")
    return x


def _view(ref: Any, offset: Any, size: Any, stride: Any, dtype_name: str | None) -> tuple[np.ndarray, str]:
    """The array a tensor record describes, after checking it stays inside its storage."""
    if not isinstance(ref, _StorageRef):
        raise pickle.UnpicklingError("a tensor record does not point at a storage of this checkpoint")
    if dtype_name is None:
        dtype_name = ref.dtype_name
    if dtype_name is None:
        raise pickle.UnpicklingError("a tensor over an untyped storage names no dtype")
    elems = ref.storage.elements(dtype_name)
    if ref.dtype_name is None:  # an untyped storage counts bytes; view it in elements
        limit = len(elems)
    else:
        limit = min(ref.numel, len(elems) - ref.offset)
    offset = _check_int(offset, "storage offset")
    if not isinstance(size, (tuple, list)) or not isinstance(stride, (tuple, list)) or len(size) != len(stride):
        raise pickle.UnpicklingError(f"invalid tensor size/stride: {size!r} / {stride!r}")
    if len(size) > 64:
        raise pickle.UnpicklingError(f"tensor has {len(size)} dimensions; at most 64 are supported")
    size = tuple(_check_int(n, "size") for n in size)
    stride = tuple(_check_int(s, "stride") for s in stride)
    npd = elems.dtype
    if 0 in size:
        return np.empty(size, npd), dtype_name
    last = offset + sum((n - 1) * s for n, s in zip(size, stride))
    if last >= limit:
        raise pickle.UnpicklingError(
            f"tensor of size {list(size)}, stride {list(stride)} and offset {offset} reads past the end "
            f"of its storage of {limit} elements (corrupted checkpoint)")
    item = npd.itemsize
    try:
        arr = np.ndarray(size, npd, buffer=elems, offset=(ref.offset + offset) * item,
                         strides=tuple(s * item for s in stride))
    except (ValueError, TypeError) as e:
        raise pickle.UnpicklingError(f"invalid tensor record: {e}") from None
    return arr, dtype_name


def _check_hooks(hooks: Any) -> None:
    if hooks is not None and not (type(hooks) in (tuple, dict, collections.OrderedDict) and not hooks):
        warnings.warn("ndgrad.load ignores backward hooks stored in a checkpoint", UserWarning, stacklevel=3)


def _rebuild_tensor(storage: Any, storage_offset: Any, size: Any, stride: Any) -> Any:
    arr, name = _view(storage, storage_offset, size, stride, None)
    return _make_tensor(arr, name, False)


def _rebuild_tensor_v2(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, metadata: Any = None) -> Any:
    _check_hooks(backward_hooks)
    arr, name = _view(storage, storage_offset, size, stride, None)
    return _make_tensor(arr, name, bool(requires_grad))


def _rebuild_tensor_v3(storage: Any, storage_offset: Any, size: Any, stride: Any, requires_grad: Any,
                       backward_hooks: Any, dtype: Any, metadata: Any = None) -> Any:
    _check_hooks(backward_hooks)
    if not isinstance(dtype, D.dtype):
        raise pickle.UnpicklingError(f"invalid tensor dtype {dtype!r}")
    arr, name = _view(storage, storage_offset, size, stride, dtype.name)
    return _make_tensor(arr, name, bool(requires_grad))


def _rebuild_parameter(data: Any, requires_grad: Any, backward_hooks: Any) -> Any:
    if not isinstance(data, _tensor_cls()):
        raise pickle.UnpicklingError("a Parameter record does not hold a tensor")
    _check_hooks(backward_hooks)
    return _make_parameter(data, requires_grad)


def _rebuild_parameter_with_state(data: Any, requires_grad: Any, backward_hooks: Any, state: Any) -> Any:
    # `state` holds Python attributes set on the Parameter; they are not restored.
    return _rebuild_parameter(data, requires_grad, backward_hooks)


def _size(dims: Any = ()) -> Any:
    from ._tensor import Size
    if not isinstance(dims, (tuple, list)):
        raise pickle.UnpicklingError(f"invalid torch.Size {dims!r}")
    return Size(_check_int(n, "size") for n in dims)


def _device(*args: Any) -> Any:
    from ._backend import device
    if not args or not all(isinstance(a, (str, int)) for a in args):
        raise pickle.UnpicklingError(f"invalid torch.device{args!r}")
    return device(*args)


def _codecs_encode(obj: Any, encoding: Any = "utf-8", errors: Any = "strict") -> bytes:
    # protocol 2 pickles bytes as _codecs.encode(str, "latin1")
    if not isinstance(obj, str) or encoding not in ("latin1", "latin-1", "utf-8", "utf8") or errors != "strict":
        raise pickle.UnpicklingError("invalid bytes record")
    return obj.encode(encoding)


def _complex(real: Any = 0.0, imag: Any = 0.0) -> complex:
    if not all(isinstance(v, (int, float)) for v in (real, imag)):
        raise pickle.UnpicklingError("invalid complex number record")
    return complex(real, imag)


def _set(items: Any = ()) -> set:
    if not isinstance(items, (list, tuple)):
        raise pickle.UnpicklingError("invalid set record")
    return set(items)


def _ordered_dict(items: Any = ()) -> collections.OrderedDict:
    if not isinstance(items, (list, tuple, dict)):
        raise pickle.UnpicklingError("invalid OrderedDict record")
    return collections.OrderedDict(items)


_CALLABLES: dict[tuple[str, str], Callable[..., Any]] = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor"): _rebuild_tensor,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_tensor_v3"): _rebuild_tensor_v3,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter_with_state,
    ("torch", "Size"): _size,
    ("torch", "device"): _device,
    ("builtins", "complex"): _complex,
    ("builtins", "set"): _set,
    ("_codecs", "encode"): _codecs_encode,
}
_REDUCIBLE = {id(fn) for fn in _CALLABLES.values()}


def _find_global(module: str, name: str) -> Any:
    module = {"__builtin__": "builtins", "copy_reg": "copyreg"}.get(module, module)
    fn = _CALLABLES.get((module, name))
    if fn is not None:
        return fn
    if module in ("torch", "torch.storage"):
        if name in _DTYPE_OF_STORAGE:
            return _Marker("storage", _DTYPE_OF_STORAGE[name])
        if name in ("UntypedStorage", "_UntypedStorage"):
            return _Marker("storage", "")
        if name in D._BY_NAME:
            return D._BY_NAME[name]
        if name in D.ALIASES:
            return D.ALIASES[name]
        if name in _FOREIGN_DTYPES or name.endswith("Storage"):
            raise pickle.UnpicklingError(
                f"the checkpoint holds torch.{name} data, a dtype ndgrad does not support")
    allowed = _allowlisted(module, name)
    if allowed is not None:
        return allowed
    g = f"{module}.{name}"
    raise pickle.UnpicklingError(
        f"Weights only load failed: refusing to load the global '{g}', which is not a tensor, a container or "
        "a number. Re-running ndgrad.load with weights_only=False will likely succeed, but it runs code named "
        "by the file: do it only if you trust its source.\n"
        f"WeightsUnpickler error: Unsupported global: GLOBAL {g} was not an allowed global by default. Please "
        f"use `torch.serialization.add_safe_globals([{g}])` or the `torch.serialization.safe_globals([{g}])` "
        "context manager to allowlist this global if you trust this class/function.")


# ---------------------------------------------------------------------------
# the allowlist of the safe loader (torch.serialization.add_safe_globals)
# ---------------------------------------------------------------------------
_SAFE_GLOBALS: list = []


def _entry(g: Any) -> tuple[Any, str]:
    if isinstance(g, tuple):
        if len(g) != 2 or not isinstance(g[1], str):
            raise ValueError("Expected tuple of (global, str of callable full path)")
        return g[0], g[1]
    return g, f"{getattr(g, '__module__', '')}.{getattr(g, '__qualname__', getattr(g, '__name__', ''))}"


def add_safe_globals(safe_globals: list) -> None:
    """Allow `load(weights_only=True)` to use these classes/functions (or (object, "module.name") pairs)."""
    for g in safe_globals:
        _entry(g)
    _SAFE_GLOBALS.extend(safe_globals)


def get_safe_globals() -> list:
    """The user's allowlist for the safe loader."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    """Empty the safe loader's allowlist."""
    _SAFE_GLOBALS.clear()


class safe_globals:  # noqa: N801 - PyTorch's name
    """Context manager: the given globals are allowlisted inside the block only."""

    def __init__(self, safe_globals: list) -> None:
        self.safe_globals = list(safe_globals)

    def __enter__(self) -> None:
        self._before = list(_SAFE_GLOBALS)
        add_safe_globals(self.safe_globals)

    def __exit__(self, *exc: Any) -> None:
        _SAFE_GLOBALS[:] = self._before


def _allowlisted(module: str, name: str) -> Any:
    full = f"{module}.{name}"
    for g in _SAFE_GLOBALS:
        obj, path = _entry(g)
        if path == full:
            return obj
    return None


def _is_allowlisted(obj: Any) -> bool:
    return any(_entry(g)[0] is obj for g in _SAFE_GLOBALS)


def _build(target: Any, state: Any) -> None:
    """BUILD on an allowlisted object: its __setstate__, else its __dict__ (and slots) from `state`."""
    setstate = getattr(type(target), "__setstate__", None)
    if setstate is not None and setstate is not getattr(object, "__setstate__", None):
        target.__setstate__(state)
        return
    slots = None
    if isinstance(state, tuple) and len(state) == 2:
        state, slots = state
    if state:
        target.__dict__.update(state)
    for k, v in (slots or {}).items():
        setattr(target, k, v)


def _unpickle(source: bytes | IO[bytes], persistent_load: Callable[[Any], Any]) -> Any:
    """Interpret one pickle, allowing only data-building opcodes and the names above."""
    stack: list = []
    metastack: list = []
    memo: dict[int, Any] = {}

    def pop_mark() -> list:
        nonlocal stack
        items = stack
        stack = metastack.pop()
        return items

    try:
        for op, arg, _ in pickletools.genops(source):
            name = op.name
            if name in ("PROTO", "FRAME"):
                if name == "PROTO" and not 0 <= arg <= 5:
                    raise pickle.UnpicklingError(f"unsupported pickle protocol {arg}")
            elif name == "STOP":
                break
            elif name == "MARK":
                metastack.append(stack)
                stack = []
            elif name == "POP":
                stack.pop()
            elif name == "POP_MARK":
                pop_mark()
            elif name == "DUP":
                stack.append(stack[-1])
            elif name == "NONE":
                stack.append(None)
            elif name in ("NEWTRUE", "NEWFALSE"):
                stack.append(name == "NEWTRUE")
            elif name in ("INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4",
                          "FLOAT", "BINFLOAT", "STRING", "BINSTRING", "SHORT_BINSTRING", "UNICODE",
                          "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8", "BINBYTES", "SHORT_BINBYTES",
                          "BINBYTES8"):
                stack.append(arg)
            elif name == "BYTEARRAY8":
                stack.append(bytearray(arg))
            elif name == "EMPTY_LIST":
                stack.append([])
            elif name == "EMPTY_TUPLE":
                stack.append(())
            elif name == "EMPTY_DICT":
                stack.append({})
            elif name == "EMPTY_SET":
                stack.append(set())
            elif name == "LIST":
                items = pop_mark()
                stack.append(items)
            elif name == "TUPLE":
                items = tuple(pop_mark())
                stack.append(items)
            elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
                n = int(name[-1])
                if len(stack) < n:
                    raise pickle.UnpicklingError("pickle stack underflow")
                items = tuple(stack[-n:])
                del stack[-n:]
                stack.append(items)
            elif name == "DICT":
                items = pop_mark()
                stack.append(dict(zip(items[::2], items[1::2])))
            elif name == "FROZENSET":
                items = frozenset(pop_mark())
                stack.append(items)
            elif name in ("APPEND", "APPENDS"):
                items = [stack.pop()] if name == "APPEND" else pop_mark()
                target = stack[-1]
                if type(target) is not list:
                    raise pickle.UnpicklingError("APPEND to something that is not a list")
                target.extend(items)
            elif name in ("SETITEM", "SETITEMS"):
                items = stack[-2:] if name == "SETITEM" else pop_mark()
                if name == "SETITEM":
                    del stack[-2:]
                target = stack[-1]
                if not isinstance(target, dict) or type(target) not in (dict, collections.OrderedDict):
                    raise pickle.UnpicklingError("SETITEM on something that is not a dict")
                if len(items) % 2:
                    raise pickle.UnpicklingError("odd number of items in SETITEMS")
                for k, v in zip(items[::2], items[1::2]):
                    target[k] = v
            elif name == "ADDITEMS":
                items = pop_mark()
                target = stack[-1]
                if type(target) is not set:
                    raise pickle.UnpicklingError("ADDITEMS to something that is not a set")
                target.update(items)
            elif name == "GLOBAL":
                module, _, qual = arg.partition(" ")
                stack.append(_find_global(module, qual))
            elif name == "STACK_GLOBAL":
                qual = stack.pop()
                module = stack.pop()
                if not isinstance(module, str) or not isinstance(qual, str):
                    raise pickle.UnpicklingError("STACK_GLOBAL requires str")
                stack.append(_find_global(module, qual))
            elif name == "REDUCE":
                args = stack.pop()
                fn = stack.pop()
                if (id(fn) not in _REDUCIBLE and not _is_allowlisted(fn)) or not isinstance(args, tuple):
                    raise pickle.UnpicklingError(f"refusing to call {fn!r}: not an allowed constructor")
                stack.append(fn(*args))
            elif name == "NEWOBJ":
                args = stack.pop()
                cls = stack.pop()
                if not isinstance(cls, type) or not _is_allowlisted(cls) or not isinstance(args, tuple):
                    raise pickle.UnpicklingError(f"refusing to create {cls!r}: not an allowlisted class "
                                                 "(see torch.serialization.add_safe_globals)")
                stack.append(cls.__new__(cls, *args))
            elif name == "BUILD" and _is_allowlisted(type(stack[-2])):
                _build(stack[-2], stack.pop())
            elif name == "BUILD":
                state = stack.pop()
                target = stack[-1]
                # only a state dict's attributes (PyTorch stores `_metadata` this way)
                if type(target) is not collections.OrderedDict or not isinstance(state, dict) or not all(
                        isinstance(k, str) and k.isidentifier() and not k.startswith("__") for k in state):
                    raise pickle.UnpicklingError("refusing to set state on an object (BUILD): only an "
                                                 "OrderedDict's plain attributes may be restored")
                for k, v in state.items():
                    setattr(target, k, v)
            elif name in ("PERSID", "BINPERSID"):
                stack.append(persistent_load(arg if name == "PERSID" else stack.pop()))
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[arg] = stack[-1]
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1]
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                if arg not in memo:
                    raise pickle.UnpicklingError(f"memo key {arg} missing")
                stack.append(memo[arg])
            else:  # INST, OBJ, NEWOBJ, NEWOBJ_EX, EXT1/2/4, NEXT_BUFFER, READONLY_BUFFER
                raise pickle.UnpicklingError(f"refusing to load: pickle opcode {name} is not allowed "
                                             "in a weights-only checkpoint")
        else:
            raise pickle.UnpicklingError("pickle data was truncated (no STOP opcode)")
    except pickle.UnpicklingError:
        raise
    except (IndexError, KeyError, TypeError, ValueError, OverflowError, UnicodeDecodeError, MemoryError,
            RuntimeError, AttributeError) as e:
        if getattr(e, "ndgrad_passthrough", False):
            raise
        raise pickle.UnpicklingError(f"corrupted or unsupported pickle data in checkpoint: {e}") from None
    if len(stack) != 1 or metastack:
        raise pickle.UnpicklingError("corrupted pickle data in checkpoint (unbalanced stack)")
    return stack[0]


# ---------------------------------------------------------------------------
# archives
# ---------------------------------------------------------------------------
def _map_check(map_location: Any) -> Callable[[_Storage, str], None]:
    """Validate map_location once; return a per-storage check (everything stays on the CPU)."""
    from ._backend import check_device as _check_device, device

    def check_device(d: Any) -> None:
        try:
            _check_device(d)
        except AssertionError:  # a CUDA device: torch.load raises RuntimeError here, not AssertionError
            raise RuntimeError("Attempting to deserialize object on a CUDA device but torch.cuda.is_available() is "
                               "False. If you are running on a CPU-only machine, please use torch.load with "
                               "map_location=torch.device('cpu') to map your storages to the CPU.") from None

    if map_location is None:
        return lambda storage, location: None
    if isinstance(map_location, (str, device)):
        check_device(map_location)
        return lambda storage, location: None
    if isinstance(map_location, dict):
        for v in map_location.values():
            check_device(v)
        return lambda storage, location: None
    if callable(map_location):
        def call(storage: _Storage, location: str) -> None:
            if map_location(storage, location) is not storage:
                err = TypeError("ndgrad.load: a map_location callable must return the storage it is given "
                                "(ndgrad keeps every tensor on the CPU)")
                err.ndgrad_passthrough = True  # type: ignore[attr-defined]
                raise err
        return call
    raise TypeError(f"ndgrad.load: map_location must be None, a device, a str, a dict or a callable, "
                    f"got {type(map_location).__name__}")


def _storage_pid(pid: Any) -> tuple[_Marker, str, str, int]:
    if (not isinstance(pid, tuple) or len(pid) < 5 or pid[0] != "storage" or not isinstance(pid[1], _Marker)
            or not isinstance(pid[2], str) or not isinstance(pid[3], str)):
        raise pickle.UnpicklingError(f"invalid persistent id in checkpoint: {pid!r}")
    return pid[1], pid[2], pid[3], _check_int(pid[4], "storage size")


def _read_record(zf: zipfile.ZipFile, info: zipfile.ZipInfo, fp: IO[bytes]) -> np.ndarray:
    """One record's bytes in a fresh array, CRC-checked."""
    if info.compress_type == zipfile.ZIP_STORED and info.file_size > fp.seek(0, os.SEEK_END):
        raise zipfile.BadZipFile(f"record {info.filename} claims more bytes than the file holds")
    out = np.empty(info.file_size, np.uint8)
    view = memoryview(out)
    if info.compress_type == zipfile.ZIP_STORED:
        # straight from the file into the array: no intermediate bytes objects
        fp.seek(info.header_offset)
        head = fp.read(30)
        if len(head) != 30 or head[:4] != b"PK\x03\x04":
            raise zipfile.BadZipFile(f"bad local header for {info.filename}")
        name_len, extra_len = struct.unpack("<HH", head[26:30])
        fp.seek(info.header_offset + 30 + name_len + extra_len)
        n, crc = 0, 0
        while n < info.file_size:
            got = fp.readinto(view[n:n + (1 << 26)])
            if not got:
                raise zipfile.BadZipFile(f"record {info.filename} is truncated")
            crc = zlib.crc32(view[n:n + got], crc)
            n += got
        if crc != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
        return out
    with zf.open(info) as fh:  # compressed records (PyTorch never writes them)
        n = 0
        while n < info.file_size:
            got = fh.readinto(view[n:n + (1 << 24)])
            if not got:
                break
            n += got
        if n != info.file_size or fh.read(1):
            raise zipfile.BadZipFile(f"record {info.filename} has the wrong length")
    return out


def _load_zip(zf: zipfile.ZipFile, fp: IO[bytes], path: str | None, mmap: bool, map_check: Callable,
              notes: set) -> Any:
    names = zf.namelist()
    pkls = [n for n in names if n.endswith("data.pkl") and n.count("/") <= 1]
    if not pkls:
        if any(n.endswith("constants.pkl") for n in names):
            raise RuntimeError("ndgrad.load: this is a TorchScript archive (torch.jit.save), not a checkpoint")
        raise RuntimeError("ndgrad.load: not a PyTorch checkpoint (the archive has no data.pkl record)")
    prefix = pkls[0][: -len("data.pkl")]
    big_endian = False
    if prefix + "byteorder" in names:
        order = zf.read(prefix + "byteorder").decode("ascii", "replace").strip()
        if order not in ("little", "big"):
            raise RuntimeError(f"ndgrad.load: unknown byteorder record {order!r}")
        big_endian = order == "big"
    pkl = zf.read(pkls[0])

    whole = None
    if mmap:
        whole = np.memmap(path, dtype=np.uint8, mode="c")
    storages: dict[str, _Storage] = {}

    def persistent_load(pid: Any) -> _StorageRef:
        marker, key, location, numel = _storage_pid(pid)
        st = storages.get(key)
        if st is None:
            try:
                info = zf.getinfo(f"{prefix}data/{key}")
            except KeyError:
                raise pickle.UnpicklingError(f"checkpoint is missing the storage record data/{key}") from None
            if whole is not None:
                raw = _mapped_record(zf, info, whole)
            else:
                raw = _read_record(zf, info, fp)
            st = storages[key] = _Storage(raw, big_endian, key, notes)
            map_check(st, location)
        if marker.name:  # typed storage: numel counts elements
            dt = D._BY_NAME[marker.name]
            if numel * dt.itemsize > st.raw.size:
                raise pickle.UnpicklingError(f"storage data/{key} is shorter than its header says")
            return _StorageRef(st, marker.name, numel)
        if numel > st.raw.size:
            raise pickle.UnpicklingError(f"storage data/{key} is shorter than its header says")
        return _StorageRef(st, None, numel)

    return (_unpickle_full if "full" in notes else _unpickle)(pkl, persistent_load)


def _mapped_record(zf: zipfile.ZipFile, info: zipfile.ZipInfo, whole: np.ndarray) -> np.ndarray:
    if info.compress_type != zipfile.ZIP_STORED:
        raise RuntimeError(f"ndgrad.load(mmap=True): record {info.filename} is compressed")
    head = bytes(whole[info.header_offset:info.header_offset + 30])
    if len(head) != 30 or head[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {info.filename}")
    name_len, extra_len = struct.unpack("<HH", head[26:30])
    start = info.header_offset + 30 + name_len + extra_len
    if start + info.file_size > whole.size:
        raise zipfile.BadZipFile(f"record {info.filename} runs past the end of the file")
    return whole[start:start + info.file_size]


def _load_legacy(f: IO[bytes], map_check: Callable, notes: set) -> Any:
    """The pre-1.6 format: magic, protocol, sys-info and object pickles, then raw storages."""
    def no_pid(pid: Any) -> Any:
        raise pickle.UnpicklingError("unexpected persistent id in a checkpoint header")

    if _unpickle(f, no_pid) != _LEGACY_MAGIC:
        raise RuntimeError("ndgrad.load: invalid magic number; the file is not a PyTorch checkpoint")
    if _unpickle(f, no_pid) != _LEGACY_PROTOCOL:
        raise RuntimeError("ndgrad.load: unsupported legacy checkpoint protocol version")
    sys_info = _unpickle(f, no_pid)
    big_endian = isinstance(sys_info, dict) and sys_info.get("little_endian") is False

    roots: dict[str, tuple[str, int, _Storage]] = {}
    here = f.tell()
    file_size = f.seek(0, os.SEEK_END)
    f.seek(here)

    def persistent_load(pid: Any) -> _StorageRef:
        marker, key, location, numel = _storage_pid(pid)
        if not marker.name:
            raise pickle.UnpicklingError("untyped storage in a legacy checkpoint")
        if key not in roots:
            item = D._BY_NAME[marker.name].itemsize
            if numel * item > file_size:
                raise pickle.UnpicklingError(f"storage {key!r} claims {numel} elements, more than the file holds")
            st = _Storage(np.zeros(numel * item, np.uint8), big_endian, key, notes)
            roots[key] = (marker.name, numel, st)
            map_check(st, location)
        name, root_numel, st = roots[key]
        if name != marker.name:
            raise pickle.UnpicklingError(f"storage {key} is used with two dtypes")
        view = pid[5] if len(pid) > 5 else None
        if view is None:
            return _StorageRef(st, name, root_numel)
        if not isinstance(view, tuple) or len(view) != 3:
            raise pickle.UnpicklingError(f"invalid storage view in checkpoint: {view!r}")
        off, n = _check_int(view[1], "storage view offset"), _check_int(view[2], "storage view size")
        if off + n > root_numel:
            raise pickle.UnpicklingError("storage view past the end of its storage")
        return _StorageRef(st, name, n, off)

    # Tensors are built as views of zero-filled storages whose bytes follow the pickle.
    result = (_unpickle_full if "full" in notes else _unpickle)(f, persistent_load)
    keys = _unpickle(f, no_pid)
    if not isinstance(keys, list):
        raise RuntimeError("ndgrad.load: corrupted legacy checkpoint (storage key list)")
    for key in keys:
        if key not in roots:
            raise RuntimeError(f"ndgrad.load: corrupted legacy checkpoint (unknown storage {key!r})")
        name, numel, st = roots[key]
        head = f.read(8)
        if len(head) != 8:
            raise RuntimeError("ndgrad.load: truncated legacy checkpoint")
        count = struct.unpack(">q" if big_endian else "<q", head)[0]
        if count != numel:
            raise RuntimeError(f"ndgrad.load: corrupted legacy checkpoint (storage {key!r} size)")
        view, got = memoryview(st.raw), 0
        while got < view.nbytes:
            chunk = f.read(min(view.nbytes - got, 1 << 24))
            if not chunk:
                raise RuntimeError("ndgrad.load: truncated legacy checkpoint")
            view[got:got + len(chunk)] = chunk
            got += len(chunk)
    # Storages needing a conversion (byte swap) were converted before their
    # bytes arrived: convert again, in place, so the tensors viewing them see the data.
    for _, _, st in roots.values():
        for name, arr in st.typed.items():
            if st.big_endian != (sys.byteorder == "big") and arr.itemsize > 1:
                arr[...] = _Storage(st.raw, st.big_endian, st.key, notes).elements(name)
    return result


def load(f: FileLike, map_location: Any = None, pickle_module: Any = None, *, weights_only: bool | None = True,
         mmap: bool | None = None, **pickle_load_args: Any) -> Any:
    """Load a checkpoint written by `torch.save` or `ndgrad.save`, safely, without PyTorch.

    Reads the zip format (and the pre-1.6 legacy format).  Only weights are read: the
    file may contain tensors, Parameters, numbers, strings, bytes, None, dtypes,
    devices, Size and dict/OrderedDict/list/tuple/set; anything else, or any attempt to
    call a function, raises `pickle.UnpicklingError` before anything runs.  A damaged
    file (truncated, bad CRC, storage too short) raises RuntimeError.

    weights_only=False (an explicit opt-in, as in PyTorch) unpickles anything, running the code the
    file names: only for trusted files. Classes pickled by PyTorch as `torch.<path>` resolve to
    `ndgrad.<path>` (a `torch.nn.Linear` loads as `ndgrad.nn.Linear`). With weights_only=True,
    globals allowlisted by `add_safe_globals` / `safe_globals` are constructed as well.
    map_location: None, "cpu", a CPU device, a {location: "cpu"} dict, or a callable
    returning the storage it gets; every tensor loads on the CPU.  mmap=True (path only)
    maps storages from the file copy-on-write instead of reading them (no CRC check).
    """
    if pickle_module is not None:
        raise ValueError("ndgrad.load uses its own restricted unpickler; pickle_module is not supported")
    unknown = set(pickle_load_args) - {"encoding"}
    if unknown:
        raise TypeError(f"ndgrad.load got unexpected keyword arguments {sorted(unknown)}")
    map_check = _map_check(map_location)
    notes: set = set() if weights_only is not False else {"full"}
    if isinstance(f, (str, os.PathLike)):
        path = os.fspath(f)
        with open(path, "rb") as fp:
            result = _load_file(fp, path, bool(mmap), map_check, notes)
    else:
        if not hasattr(f, "read"):
            raise TypeError(f"ndgrad.load: expected a path or a binary file object, got {type(f).__name__}")
        if mmap:
            raise ValueError("ndgrad.load: mmap=True needs a file path")
        result = _load_file(f, None, False, map_check, notes)
    return result


def _load_file(fp: IO[bytes], path: str | None, mmap: bool, map_check: Callable, notes: set) -> Any:
    try:
        seekable = fp.seekable()
    except (AttributeError, OSError):
        seekable = False
    if not seekable:
        fp = io.BytesIO(fp.read())
    start = fp.tell()
    head = fp.read(16)
    fp.seek(start)
    if not head:
        raise RuntimeError("ndgrad.load: the file is empty")
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        try:
            with zipfile.ZipFile(fp) as zf:
                return _load_zip(zf, fp, path, mmap, map_check, notes)
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, struct.error, OSError, zlib.error,
                UnicodeDecodeError, ValueError, NotImplementedError, OverflowError) as e:
            # (zipfile reports some damage as ValueError / NotImplementedError / UnicodeDecodeError)
            raise RuntimeError(f"ndgrad.load: the checkpoint is truncated or corrupted ({e})") from None
    if head[:3] == b"\x80\x02\x8a":
        try:
            return _load_legacy(fp, map_check, notes)
        except (EOFError, OSError, ValueError, OverflowError) as e:
            raise RuntimeError(f"ndgrad.load: the legacy checkpoint is truncated or corrupted ({e})") from None
    raise RuntimeError("ndgrad.load: the file is not a PyTorch checkpoint (no zip archive and no legacy "
                       "header; it may be truncated or corrupted)")


# ===========================================================================
# whole objects: Python's pickler and unpickler, in PyTorch's format
# ===========================================================================
class _FullUnpickler(pickle.Unpickler):
    """The weights_only=False loader: any global may be named (and its code runs), tensors and
    storages are rebuilt as in the safe loader, and `torch.<path>` names resolve to `ndgrad.<path>`."""

    def find_class(self, module: str, name: str) -> Any:
        fn = _CALLABLES.get(({"__builtin__": "builtins"}.get(module, module), name))
        if fn is not None:
            return fn
        if module == "torch" or module.startswith("torch."):
            return _torch_name(module, name)
        return super().find_class(module, name)


def _torch_name(module: str, name: str) -> Any:
    if module in ("torch", "torch.storage"):
        try:
            return _find_global(module, name)  # storage types and dtypes
        except pickle.UnpicklingError:
            pass
    import importlib
    target = "ndgrad" + module[len("torch"):]
    try:
        obj: Any = importlib.import_module(target)
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj
    except (ImportError, AttributeError):
        pass
    import ndgrad
    for space in (ndgrad.nn, ndgrad):  # a class PyTorch keeps in another file than ndgrad does
        obj = getattr(space, name, None)
        if isinstance(obj, type):
            return obj
    raise pickle.UnpicklingError(f"the checkpoint needs {module}.{name}: ndgrad does not implement "
                                 f"torch.{module[len('torch.'):] + '.' if '.' in module else ''}{name} yet")


def _unpickle_full(source: bytes | IO[bytes], persistent_load: Callable[[Any], Any]) -> Any:
    up = _FullUnpickler(io.BytesIO(source) if isinstance(source, (bytes, bytearray)) else source)
    up.persistent_load = persistent_load  # type: ignore[method-assign]
    return up.load()


class _Global:
    """A name written into the pickle as a GLOBAL without importing it (`torch._utils._rebuild_tensor_v2`)."""

    _cache: dict = {}

    def __init__(self, module: str, name: str) -> None:
        self.module, self.name = module, name
        self.__name__ = name

    def __call__(self, *args: Any) -> Any:  # pragma: no cover - only ever written, never called
        raise TypeError(f"{self.module}.{self.name} is a name in a checkpoint")

    @classmethod
    def of(cls, module: str, name: str) -> "_Global":
        g = cls._cache.get((module, name))
        if g is None:
            g = cls._cache[(module, name)] = cls(module, name)
        return g


class _AsTensor:
    """A Parameter's data, pickled as the plain tensor PyTorch's _rebuild_parameter expects."""

    def __init__(self, t: Any) -> None:
        self.t = t


class _FullPickler(pickle._Pickler):  # type: ignore[name-defined] - the Python pickler lets save() be extended
    """Python's pickler for any object, writing tensors, dtypes, devices and Sizes as PyTorch does."""

    def __init__(self, fp: IO[bytes], plans: dict | None) -> None:
        super().__init__(fp, protocol=2)
        self.plans = plans  # None: a first pass that only collects the tensors
        self.found: list = []
        self.storages: list[_StoragePlan] = []
        self.keep: list = []
        from ._backend import device
        from ._tensor import Size
        self.tensor_cls, self.param_cls, self.size_cls, self.device_cls = \
            _tensor_cls(), _parameter_cls(), Size, device

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        if type(obj) is _Global:
            memo = self.memo.get(id(obj))
            if memo is not None:
                self.write(self.get(memo[0]))
                return
            self.write(b"c" + obj.module.encode() + b"\n" + obj.name.encode() + b"\n")
            self.memoize(obj)
            return
        if isinstance(obj, D.dtype):
            return self.save(_Global.of("torch", obj.name))
        return super().save(obj, save_persistent_id)

    def persistent_id(self, obj: Any) -> Any:
        if type(obj) is not _StoragePlan:
            return None
        if obj.key is None:
            obj.key = str(len(self.storages))
            self.storages.append(obj)
        item = D._BY_NAME[obj.dtype_name].itemsize
        return ("storage", _Global.of("torch", _STORAGE_OF[obj.dtype_name]), obj.key, "cpu", obj.data.size // item)

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _AsTensor):
            return self._tensor(obj.t)
        if isinstance(obj, self.tensor_cls):
            if self.param_cls is not None and isinstance(obj, self.param_cls):
                return (_Global.of("torch._utils", "_rebuild_parameter"),
                        (self._keep(_AsTensor(obj)), obj.requires_grad, collections.OrderedDict()))
            return self._tensor(obj)
        if isinstance(obj, self.size_cls):
            return (_Global.of("torch", "Size"), (tuple(int(n) for n in obj),))
        if isinstance(obj, self.device_cls):
            return (_Global.of("torch", "device"), (str(obj),))
        return NotImplemented

    def _keep(self, x: Any) -> Any:
        self.keep.append(x)  # memo keys are ids: keep stand-ins alive while pickling
        return x

    def _tensor(self, t: Any) -> Any:
        if self.plans is None:
            self.found.append(t)
            return (_Global.of("torch._utils", "_rebuild_tensor_v2"), ())
        plan = self.plans[id(t)]
        return (_Global.of("torch._utils", "_rebuild_tensor_v2"),
                (plan.group, plan.offset, tuple(int(n) for n in plan.size), tuple(int(n) for n in plan.stride),
                 False if isinstance(t, _AsTensor) else bool(t.requires_grad), collections.OrderedDict()))


def _pickle_full(obj: Any) -> tuple[bytes, list]:
    """The pickle of any object (tensors as PyTorch writes them) and the storages it refers to."""
    first = _FullPickler(io.BytesIO(), None)
    first.dump(obj)  # pass 1: find every tensor, so that views of one array can share a storage
    seen, tensors = set(), []
    for t in first.found:
        if id(t) not in seen:
            seen.add(id(t))
            tensors.append(t)
    buf = io.BytesIO()
    second = _FullPickler(buf, _plan_storages(tensors))
    second.dump(obj)
    return buf.getvalue(), second.storages
