"""dtype objects with PyTorch's names, the default dtype, and PyTorch's type promotion.

All promotion logic of the package lives here.  Categories are ordered
bool < integer < floating < complex; within the operands of an op, tensors with
dimensions outrank 0-d tensors, which outrank Python scalars: a lower-priority
operand only changes the result dtype when it belongs to a higher category.
"""
from __future__ import annotations

import numpy as np

from . import _alias

__all__ = [
    "dtype", "bool", "uint8", "int8", "int16", "int32", "int64", "float16", "bfloat16",
    "float32", "float64", "complex64", "complex128", "get_default_dtype", "set_default_dtype",
    "promote_types", "result_type", "can_cast",
]

_BOOL, _INT, _FLOAT, _COMPLEX = 0, 1, 2, 3


class dtype:
    """A tensor element type; `ndgrad.float32` and friends are its instances."""

    __slots__ = ("name", "np", "itemsize", "category", "is_signed", "_rank")

    def __init__(self, name: str, np_dtype, category: int, rank: int) -> None:
        self.name = name
        self.np = np.dtype(np_dtype)
        self.itemsize = self.np.itemsize
        self.category = category
        self.is_signed = name not in ("bool", "uint8")
        self._rank = rank

    @property
    def is_floating_point(self) -> builtins_bool:
        return self.category == _FLOAT

    @property
    def is_complex(self) -> builtins_bool:
        return self.category == _COMPLEX

    def to_real(self) -> "dtype":
        return {complex64: float32, complex128: float64}.get(self, self)

    def to_complex(self) -> "dtype":
        return {float64: complex128, complex128: complex128}.get(self, complex64)

    def __repr__(self) -> str:
        return f"{_alias.PUBLIC}.{self.name}"

    def __reduce__(self):
        return (_dtype_by_name, (self.name,))


builtins_bool = type(True)
_alias.set_module("ndgrad", dtype)

bool = dtype("bool", np.bool_, _BOOL, 0)  # noqa: A001 - PyTorch's public name
uint8 = dtype("uint8", np.uint8, _INT, 1)
int8 = dtype("int8", np.int8, _INT, 2)
int16 = dtype("int16", np.int16, _INT, 3)
int32 = dtype("int32", np.int32, _INT, 4)
int64 = dtype("int64", np.int64, _INT, 5)
float16 = dtype("float16", np.float16, _FLOAT, 6)


class _LazyNumpyDtype(dtype):
    """A dtype whose NumPy type comes from an optional-at-import package, loaded on first use.

    bfloat16 arrays are ml_dtypes' bfloat16 (a NumPy extension type whose ufuncs compute in
    float32 and round, as PyTorch's CPU kernels do); importing ml_dtypes costs far more than
    the rest of `import ndgrad`, so it is imported when a bfloat16 array is first needed.
    """

    __slots__ = ()

    def __init__(self, name: str, category: int, rank: int, itemsize: int) -> None:
        self.name = name
        self.itemsize = itemsize
        self.category = category
        self.is_signed = True
        self._rank = rank

    @property
    def np(self):  # type: ignore[override]
        return _bf16_np()


def _bf16_np() -> np.dtype:
    d = _BF16[0]
    if d is None:
        import ml_dtypes
        d = _BF16[0] = np.dtype(ml_dtypes.bfloat16)
        _BY_NP[d] = bfloat16
    return d


_BF16: list = [None]
bfloat16 = _LazyNumpyDtype("bfloat16", _FLOAT, 7, 2)
float32 = dtype("float32", np.float32, _FLOAT, 8)
float64 = dtype("float64", np.float64, _FLOAT, 9)
complex64 = dtype("complex64", np.complex64, _COMPLEX, 10)
complex128 = dtype("complex128", np.complex128, _COMPLEX, 11)

ALL = (bool, uint8, int8, int16, int32, int64, float16, bfloat16, float32, float64, complex64, complex128)
_BY_NAME = {d.name: d for d in ALL}
_BY_NP = {d.np: d for d in ALL if d is not bfloat16}  # bfloat16 joins when ml_dtypes loads
ALIASES = {"long": int64, "int": int32, "short": int16, "half": float16, "float": float32,
           "double": float64, "cfloat": complex64, "cdouble": complex128}


_SCALAR_NAMES = {bool: "Bool", uint8: "Byte", int8: "Char", int16: "Short", int32: "Int", int64: "Long",
                 float16: "Half", bfloat16: "BFloat16", float32: "Float", float64: "Double",
                 complex64: "ComplexFloat", complex128: "ComplexDouble"}


def scalar_name(d: dtype) -> str:
    """PyTorch's C++ scalar-type name of a dtype, as its error messages print it ('Float', 'Long')."""
    return _SCALAR_NAMES[d]


def tensor_type_name(d: dtype) -> str:
    """PyTorch's legacy tensor-type name of a dtype ('FloatTensor', 'LongTensor')."""
    return _SCALAR_NAMES[d] + "Tensor"


def _dtype_by_name(name: str) -> dtype:
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype: object) -> dtype:
    """The ndgrad dtype of a NumPy dtype; TypeError for types PyTorch has no tensor of."""
    try:
        d = _BY_NP[np.dtype(np_dtype)]
        if d is bfloat16:  # PyTorch makes no tensor of a NumPy bfloat16 array either
            raise KeyError(d)
        return d
    except KeyError:
        raise TypeError(
            f"can't convert np.ndarray of type numpy.{np.dtype(np_dtype).name}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, uint8, and bool."
        ) from None


_default = [float32]


def get_default_dtype() -> dtype:
    """The dtype Python floats and float factories produce (float32 unless changed)."""
    return _default[0]


def set_default_dtype(d: dtype) -> None:
    """Set the default floating dtype (float32 or float64, as PyTorch allows; float16 too)."""
    if not isinstance(d, dtype) or d.category != _FLOAT or d is bfloat16:
        raise TypeError("only floating-point types are supported as the default type")
    _default[0] = d


# Promotion table between two dtypes, following PyTorch: uint8 with int8 -> int16,
# bool with anything -> the other, integers with floats -> the float, float16 with
# bfloat16 -> float32, floats with complex -> complex wide enough for the float.
def _promote2(a: dtype, b: dtype) -> dtype:
    if a is b:
        return a
    if a.category != b.category:
        hi, lo = (a, b) if a.category > b.category else (b, a)
        if hi.category == _COMPLEX and lo is float64:
            return complex128
        return hi
    if a.category == _INT:
        if {a, b} == {uint8, int8}:
            return int16
        if uint8 in (a, b):
            return b if a is uint8 else a
        return a if a._rank > b._rank else b
    if a.category == _FLOAT and {a, b} == {float16, bfloat16}:
        return float32
    return a if a._rank > b._rank else b


_PROMOTE = {(a, b): _promote2(a, b) for a in ALL for b in ALL}


def promote_types(type1: dtype, type2: dtype) -> dtype:
    """The smallest dtype both arguments can be cast to, as PyTorch defines it."""
    return _PROMOTE[(type1, type2)]


def scalar_dtype(value: object) -> dtype:
    """dtype a Python scalar takes when it stands alone (tensor(3.0) -> default)."""
    if isinstance(value, builtins_bool) or isinstance(value, np.bool_):
        return bool
    if isinstance(value, (int, np.integer)):
        return int64
    if isinstance(value, (float, np.floating)):
        return get_default_dtype()
    if isinstance(value, (complex, np.complexfloating)):
        return complex128 if get_default_dtype() is float64 else complex64
    raise TypeError(f"unsupported scalar type {type(value).__name__}")


def _combine(higher: dtype | None, lower: dtype | None) -> dtype | None:
    # PyTorch's rule for merging a higher-priority tier with a lower one: the lower
    # tier only matters when it is of a higher category.
    if higher is None:
        return lower
    if lower is None or higher.category == _COMPLEX:
        return higher
    if lower.category == _COMPLEX:
        return higher.to_complex() if higher.category == _FLOAT else lower
    if higher.category == _FLOAT:
        return higher
    if higher is bool or lower.category == _FLOAT:
        return _PROMOTE[(higher, lower)]
    return higher


def result_dtype(*operands: object) -> dtype:
    """Result dtype of an op over tensors and Python scalars (PyTorch's three-tier rule)."""
    from ._tensor import Tensor

    dims = zero = wrapped = None  # promoted dtype per tier
    for x in operands:
        if isinstance(x, Tensor):
            d = x.dtype
            if x._data.ndim:
                dims = d if dims is None else _PROMOTE[(dims, d)]
            else:
                zero = d if zero is None else _PROMOTE[(zero, d)]
        elif x is not None:
            d = scalar_dtype(x)
            wrapped = d if wrapped is None else _PROMOTE[(wrapped, d)]
    return _combine(dims, _combine(zero, wrapped))


def result_type(tensor1: object, tensor2: object) -> dtype:
    """torch.result_type: the dtype an arithmetic op on the two operands would produce."""
    return result_dtype(tensor1, tensor2)


def can_cast(from_: dtype, to: dtype) -> builtins_bool:
    """Whether PyTorch's casting rules allow `from_` -> `to` (no category demotion)."""
    return from_.category <= to.category


# -- finfo / iinfo -------------------------------------------------------------------------------------------
# (mantissa bits, exponent bits) of each floating format; bfloat16 is stored wider, so NumPy cannot say
_FLOAT_BITS = {float16: (10, 5), bfloat16: (7, 8), float32: (23, 8), float64: (52, 11)}


def _info_dtype(type: object, fn: str) -> dtype:  # noqa: A002 - PyTorch's argument name
    if type is None:
        return get_default_dtype()
    if type is float:
        return float64
    if type is int:
        return int64
    if not isinstance(type, dtype):
        raise TypeError(f"{fn}(): argument 'type' (position 1) must be torch.dtype, not {type.__class__.__name__}")
    return type


class finfo:
    """Machine limits of a floating dtype (complex dtypes: of their real part), as torch.finfo."""

    __slots__ = ("bits", "eps", "max", "min", "tiny", "smallest_normal", "resolution", "dtype")

    def __init__(self, type: object = None) -> None:  # noqa: A002
        d = _info_dtype(type, "finfo").to_real()
        if d not in _FLOAT_BITS:
            raise TypeError("torch.finfo() requires a floating point input type. Use torch.iinfo to handle "
                            "'torch.finfo'")
        m, e = _FLOAT_BITS[d]
        self.bits = d.itemsize * 8 if d is not bfloat16 else 16
        self.eps = 2.0 ** -m
        self.max = (2.0 - 2.0 ** -m) * 2.0 ** (2 ** (e - 1) - 1)
        self.min = -self.max
        self.tiny = self.smallest_normal = 2.0 ** (2 - 2 ** (e - 1))
        self.resolution = 10.0 ** -int(m * 0.30102999566398120)  # 10 ** -(decimal digits of precision)
        self.dtype = d.name

    def __eq__(self, other: object) -> builtins_bool:
        return isinstance(other, finfo) and other.dtype == self.dtype

    def __repr__(self) -> str:
        return (f"finfo(resolution={self.resolution:g}, min={self.min:g}, max={self.max:g}, eps={self.eps:g}, "
                f"smallest_normal={self.smallest_normal:g}, tiny={self.tiny:g}, dtype={self.dtype})")


class iinfo:
    """Limits of an integer dtype, as torch.iinfo."""

    __slots__ = ("bits", "max", "min", "dtype")

    def __init__(self, type: object) -> None:  # noqa: A002
        d = _info_dtype(type, "iinfo")
        if d is bool:
            raise TypeError("torch.bool is not supported by torch.iinfo")
        if d.category != _INT:
            raise TypeError("torch.iinfo() requires an integer input type. Use torch.finfo to handle 'torch.iinfo'")
        info = np.iinfo(d.np)
        self.bits, self.max, self.min, self.dtype = info.bits, int(info.max), int(info.min), d.name

    def __eq__(self, other: object) -> builtins_bool:
        return isinstance(other, iinfo) and other.dtype == self.dtype

    def __repr__(self) -> str:
        return f"iinfo(min={float(self.min):g}, max={float(self.max):g}, dtype={self.dtype})"


_alias.set_module("ndgrad", finfo, iinfo)
