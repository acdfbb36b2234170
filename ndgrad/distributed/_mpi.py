"""The seam to MPI: importing mpi4py (lazily, naming the extra), NumPy dtype -> MPI datatype,
ReduceOp -> MPI operation per dtype, and the contiguous buffers MPI reads and writes.

Collectives work in place on the tensors' own NumPy arrays. A copy is made only where MPI
needs one: a non-contiguous tensor is staged in a contiguous buffer and written back, and
half-precision reductions run in float32 when the MPI library cannot reduce 2-byte floats.
"""
from __future__ import annotations

import enum
from typing import Any

import numpy as np

from .. import _dtype as D

_MPI: Any = None


def mpi() -> Any:
    """mpi4py's MPI module (importing it starts MPI), or RuntimeError saying what to install."""
    global _MPI
    if _MPI is None:
        try:
            from mpi4py import MPI
        except (ImportError, RuntimeError) as e:  # not installed, or no MPI library to load
            raise RuntimeError(
                "ndgrad.distributed runs on MPI through mpi4py, which could not be loaded "
                f"({type(e).__name__}: {e}). Install it with: pip install 'ndgrad[mpi]' "
                "(mpi4py and the MPICH library)") from e
        _MPI = MPI
    return _MPI


class RedOpType(enum.Enum):
    """The reduction operations of `ReduceOp` (PyTorch's numbering)."""

    SUM = 0
    AVG = 1
    PRODUCT = 2
    MIN = 3
    MAX = 4
    BAND = 5
    BOR = 6
    BXOR = 7
    PREMUL_SUM = 8
    UNUSED = 9


class ReduceOp:
    """`dist.ReduceOp.SUM` and friends: how all_reduce, reduce and reduce_scatter combine values."""

    RedOpType = RedOpType
    SUM = RedOpType.SUM
    AVG = RedOpType.AVG
    PRODUCT = RedOpType.PRODUCT
    MIN = RedOpType.MIN
    MAX = RedOpType.MAX
    BAND = RedOpType.BAND
    BOR = RedOpType.BOR
    BXOR = RedOpType.BXOR
    PREMUL_SUM = RedOpType.PREMUL_SUM
    UNUSED = RedOpType.UNUSED


_BITWISE = (RedOpType.BAND, RedOpType.BOR, RedOpType.BXOR)
# bool tensors reduce logically, as PyTorch does: SUM is "any", PRODUCT is "all"
_BOOL_OPS = {RedOpType.SUM: "LOR", RedOpType.MAX: "LOR", RedOpType.BOR: "LOR", RedOpType.PRODUCT: "LAND",
             RedOpType.MIN: "LAND", RedOpType.BAND: "LAND", RedOpType.BXOR: "LXOR"}
_OPS = {RedOpType.SUM: "SUM", RedOpType.AVG: "SUM", RedOpType.PRODUCT: "PROD", RedOpType.MIN: "MIN",
        RedOpType.MAX: "MAX", RedOpType.BAND: "BAND", RedOpType.BOR: "BOR", RedOpType.BXOR: "BXOR"}


class Reduction:
    """How one ReduceOp runs on one dtype: the MPI op, the dtype MPI reduces in (None: the
    tensor's own) and whether the sum is then divided by the group size (AVG)."""

    __slots__ = ("op", "wide", "average")

    def __init__(self, op: Any, wide: Any, average: bool) -> None:
        self.op, self.wide, self.average = op, wide, average


def reduction(op: Any, dtype: D.dtype, fn: str) -> Reduction:
    """Check `op` against `dtype` with PyTorch's errors and map it onto MPI."""
    if not isinstance(op, RedOpType) or op in (RedOpType.PREMUL_SUM, RedOpType.UNUSED):
        raise ValueError(f"{fn}: unsupported reduce op {op!r}; use a dist.ReduceOp (SUM, AVG, PRODUCT, MIN, "
                         "MAX, BAND, BOR, BXOR)")
    cat = dtype.category
    if op in _BITWISE and cat >= 2:
        raise RuntimeError(f"Cannot use ReduceOp.{op.name} with non-integral dtype")
    if cat == 3 and op in (RedOpType.MIN, RedOpType.MAX):
        raise ValueError(f"{fn} does not support RedOpType.{op.name} on complex tensors")
    if op is RedOpType.AVG and cat < 2:
        raise RuntimeError(f"result type Float can't be cast to the desired output type {D.scalar_name(dtype)}")
    MPI = mpi()
    mpi_op = getattr(MPI, _BOOL_OPS[op] if cat == 0 else _OPS[op])
    wide = None
    if np.dtype(dtype.np).itemsize == 2 and cat == 2 and not _reduces_natively(dtype.np):
        wide = np.dtype(np.float32)
    return Reduction(mpi_op, wide, op is RedOpType.AVG)


_NATIVE_2BYTE: dict = {}


def _reduces_natively(np_dtype: Any) -> bool:
    """Whether this MPI can sum 2-byte floats itself (MPICH has float16; bfloat16 is rarer): tried
    once on MPI_COMM_SELF."""
    key = np.dtype(np_dtype)
    ok = _NATIVE_2BYTE.get(key)
    if ok is None:
        MPI = mpi()
        ok = False
        t = _two_byte_float_type(key)
        if t is not None:
            try:
                a = np.ones(1, key)
                MPI.COMM_SELF.Allreduce(MPI.IN_PLACE, [a, t], MPI.SUM)
                ok = bool(a[0] == 1)
            except Exception:  # the MPI library does not reduce this type
                ok = False
        _NATIVE_2BYTE[key] = ok
    return ok


def _two_byte_float_type(np_dtype: np.dtype) -> Any:
    MPI = mpi()
    name = "FLOAT16_T" if np_dtype == np.float16 else "BFLOAT16_T" if np_dtype.name == "bfloat16" else None
    t = getattr(MPI, name, None) if name else None
    return None if t is None or t == MPI.DATATYPE_NULL else t


_TYPES: dict = {}
# MPI's predefined datatypes (reductions need these, not duplicates of them)
_NAMES = {"b": "C_BOOL", "u1": "UINT8_T", "i1": "INT8_T", "i2": "INT16_T", "i4": "INT32_T", "i8": "INT64_T",
          "u2": "UINT16_T", "u4": "UINT32_T", "u8": "UINT64_T", "f4": "FLOAT", "f8": "DOUBLE",
          "c8": "C_FLOAT_COMPLEX", "c16": "C_DOUBLE_COMPLEX"}


def datatype(np_dtype: Any) -> Any:
    """The MPI datatype of a NumPy dtype; a same-size unsigned integer carries a type MPI has no
    name for (bfloat16, or float16 on an MPI without it), which is all data movement needs."""
    key = np.dtype(np_dtype)
    t = _TYPES.get(key)
    if t is None:
        MPI = mpi()
        t = _two_byte_float_type(key) if key.itemsize == 2 and key.kind in "fV" else None
        if t is None:
            name = _NAMES.get("b" if key.kind == "b" else f"{key.kind}{key.itemsize}")
            t = getattr(MPI, name) if name else getattr(MPI, _NAMES[f"u{key.itemsize}"])
        _TYPES[key] = t
    return t


def spec(a: np.ndarray) -> list:
    """mpi4py's [buffer, datatype] for a contiguous array (byte view for dtypes without a buffer format)."""
    try:
        memoryview(a)
    except (ValueError, TypeError):  # e.g. ml_dtypes' bfloat16 exports no buffer format
        return [a.view(np.dtype(f"u{a.dtype.itemsize}")), datatype(a.dtype)]
    return [a, datatype(a.dtype)]


class Staged:
    """A contiguous buffer MPI can use in place of `arr`. It is `arr` itself when `arr` is already
    contiguous and of the wanted dtype; otherwise a copy (in `dtype`) whose values `finish()`
    writes back into `arr`."""

    __slots__ = ("buf", "_dst")

    def __init__(self, arr: np.ndarray, dtype: Any = None, read: bool = True, write: bool = True) -> None:
        if (dtype is None or dtype == arr.dtype) and arr.flags.c_contiguous:
            self.buf, self._dst = arr, None
            return
        dtype = arr.dtype if dtype is None else dtype
        self.buf = np.ascontiguousarray(arr, dtype=dtype) if read else np.empty(arr.shape, dtype)
        self._dst = arr if write else None

    def finish(self) -> None:
        if self._dst is not None:
            np.copyto(self._dst, self.buf, casting="unsafe")
