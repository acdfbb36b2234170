"""Type promotion: promote_types / result_type / can_cast over every pair of dtypes, the
tensor-scalar and 0-d rules, and the default dtype.

The tables below were recorded from PyTorch 2.13 (CPU), so they run without torch; the
`live` tests recompute them with torch when it is installed. Abbreviations: b=bool,
u8=uint8, i8..i64=int8..int64, f16..f64=float16..float64, c64/c128=complex64/complex128,
c32=complex32 (which ndgrad does not have: it gives complex64 there, a documented gap).
"""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

NAMES = ["bool", "uint8", "int8", "int16", "int32", "int64", "float16", "float32", "float64", "complex64",
         "complex128"]
ABBR = {"b": "bool", "u8": "uint8", "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64", "f16": "float16",
        "f32": "float32", "f64": "float64", "c64": "complex64", "c128": "complex128", "c32": "complex64"}
SCALARS = [True, 2, 2.5, 1j]

PROMOTE = '''
   b   u8   i8  i16  i32  i64  f16  f32  f64  c64 c128
  u8   u8  i16  i16  i32  i64  f16  f32  f64  c64 c128
  i8  i16   i8  i16  i32  i64  f16  f32  f64  c64 c128
 i16  i16  i16  i16  i32  i64  f16  f32  f64  c64 c128
 i32  i32  i32  i32  i32  i64  f16  f32  f64  c64 c128
 i64  i64  i64  i64  i64  i64  f16  f32  f64  c64 c128
 f16  f16  f16  f16  f16  f16  f16  f32  f64  c64 c128
 f32  f32  f32  f32  f32  f32  f32  f32  f64  c64 c128
 f64  f64  f64  f64  f64  f64  f64  f64  f64 c128 c128
 c64  c64  c64  c64  c64  c64  c64  c64 c128  c64 c128
c128 c128 c128 c128 c128 c128 c128 c128 c128 c128 c128
'''
CAN_CAST = '''
1 1 1 1 1 1 1 1 1 1 1
0 1 1 1 1 1 1 1 1 1 1
0 1 1 1 1 1 1 1 1 1 1
0 1 1 1 1 1 1 1 1 1 1
0 1 1 1 1 1 1 1 1 1 1
0 1 1 1 1 1 1 1 1 1 1
0 0 0 0 0 0 1 1 1 1 1
0 0 0 0 0 0 1 1 1 1 1
0 0 0 0 0 0 1 1 1 1 1
0 0 0 0 0 0 0 0 0 1 1
0 0 0 0 0 0 0 0 0 1 1
'''
DIM_ZERO = '''
   b   u8   i8  i16  i32  i64  f16  f32  f64  c64 c128
  u8   u8   u8   u8   u8   u8  f16  f32  f64  c64 c128
  i8   i8   i8   i8   i8   i8  f16  f32  f64  c64 c128
 i16  i16  i16  i16  i16  i16  f16  f32  f64  c64 c128
 i32  i32  i32  i32  i32  i32  f16  f32  f64  c64 c128
 i64  i64  i64  i64  i64  i64  f16  f32  f64  c64 c128
 f16  f16  f16  f16  f16  f16  f16  f16  f16  c32  c32
 f32  f32  f32  f32  f32  f32  f32  f32  f32  c64  c64
 f64  f64  f64  f64  f64  f64  f64  f64  f64 c128 c128
 c64  c64  c64  c64  c64  c64  c64  c64  c64  c64  c64
c128 c128 c128 c128 c128 c128 c128 c128 c128 c128 c128
'''
WITH_SCALAR = '''
   b  i64  f32  c64
  u8   u8  f32  c64
  i8   i8  f32  c64
 i16  i16  f32  c64
 i32  i32  f32  c64
 i64  i64  f32  c64
 f16  f16  f16  c32
 f32  f32  f32  c64
 f64  f64  f64 c128
 c64  c64  c64  c64
c128 c128 c128 c128
'''


def _grid(text: str) -> list:
    return [line.split() for line in text.strip().splitlines()]


@pytest.fixture(autouse=True)
def _default_dtype():
    yield
    ndgrad.set_default_dtype(ndgrad.float32)


def dt(name: str) -> ndgrad.dtype:
    return getattr(ndgrad, name)


def test_promote_types_table() -> None:
    for a, line in zip(NAMES, _grid(PROMOTE)):
        for b, want in zip(NAMES, line):
            assert ndgrad.promote_types(dt(a), dt(b)) is dt(ABBR[want]), (a, b)


def test_promote_types_is_symmetric() -> None:
    for a in NAMES:
        for b in NAMES:
            assert ndgrad.promote_types(dt(a), dt(b)) is ndgrad.promote_types(dt(b), dt(a))


def test_can_cast_table() -> None:
    for a, line in zip(NAMES, _grid(CAN_CAST)):
        for b, want in zip(NAMES, line):
            assert ndgrad.can_cast(dt(a), dt(b)) is (want == "1"), (a, b)


def test_result_type_tensor_with_tensor_is_promote_types() -> None:
    for a in NAMES:
        for b in NAMES:
            for sa, sb in (((2,), (3, 2)), ((), ())):
                r = ndgrad.result_type(ndgrad.zeros(sa, dtype=dt(a)), ndgrad.zeros(sb, dtype=dt(b)))
                assert r is ndgrad.promote_types(dt(a), dt(b)), (a, b, sa, sb)


def test_result_type_dim_tensor_with_zero_dim_tensor() -> None:
    for a, line in zip(NAMES, _grid(DIM_ZERO)):
        for b, want in zip(NAMES, line):
            x, z = ndgrad.zeros(2, dtype=dt(a)), ndgrad.zeros((), dtype=dt(b))
            assert ndgrad.result_type(x, z) is dt(ABBR[want]), (a, b)
            assert ndgrad.result_type(z, x) is dt(ABBR[want]), (b, a)


def test_result_type_tensor_with_python_scalar() -> None:
    for a, line in zip(NAMES, _grid(WITH_SCALAR)):
        for s, want in zip(SCALARS, line):
            for shape in ((2,), ()):
                x = ndgrad.zeros(shape, dtype=dt(a))
                assert ndgrad.result_type(x, s) is dt(ABBR[want]), (a, s, shape)
                assert ndgrad.result_type(s, x) is dt(ABBR[want]), (s, a, shape)


@pytest.mark.parametrize("op", ["add", "mul", "maximum", "eq"])
def test_ops_follow_result_type(op: str) -> None:
    """Binary ops produce result_type's dtype (bool for comparisons) for every pair and rank mix."""
    for a in NAMES:
        for b in NAMES:
            for sa, sb in (((2,), (2,)), ((2,), ()), ((), (2,))):
                if op == "maximum" and "complex" in a + b:
                    continue
                x, y = ndgrad.ones(sa, dtype=dt(a)), ndgrad.ones(sb, dtype=dt(b))
                want = ndgrad.bool if op == "eq" else ndgrad.result_type(x, y)
                assert getattr(ndgrad, op)(x, y).dtype is want, (op, a, b, sa, sb)


@pytest.mark.parametrize("a", NAMES)
def test_ops_with_scalars_follow_result_type(a: str) -> None:
    x = ndgrad.ones(3, dtype=dt(a))
    for s in SCALARS:
        want = ndgrad.result_type(x, s)
        if not (a == "bool" and s is True):
            assert (x + s).dtype is want, (a, s)
            assert (s + x).dtype is want, (s, a)
        assert (x * s).dtype is want, (a, s)
        assert (s * x).dtype is want, (s, a)


KEY_CASES = [  # (lhs, rhs, expected dtype), recorded from PyTorch
    (lambda: ndgrad.ones(3) + 2.5, "float32"),
    (lambda: ndgrad.ones(3) * 1e300, "float32"),
    (lambda: 2.5 - ndgrad.ones(3), "float32"),
    (lambda: ndgrad.ones(3, dtype=ndgrad.float16) + 2.5, "float16"),
    (lambda: ndgrad.arange(3) + 2.5, "float32"),
    (lambda: ndgrad.arange(3) + 2, "int64"),
    (lambda: ndgrad.arange(3) / 2, "float32"),
    (lambda: ndgrad.arange(3) / ndgrad.arange(1, 4), "float32"),
    (lambda: ndgrad.arange(3, dtype=ndgrad.int32) + 2, "int32"),
    (lambda: ndgrad.arange(3, dtype=ndgrad.int32) + ndgrad.tensor(2), "int32"),
    (lambda: ndgrad.arange(3, dtype=ndgrad.uint8) + ndgrad.tensor(-2, dtype=ndgrad.int8), "uint8"),
    (lambda: ndgrad.arange(3, dtype=ndgrad.uint8) + ndgrad.arange(3, dtype=ndgrad.int8), "int16"),
    (lambda: ndgrad.arange(3) + ndgrad.tensor(2.5, dtype=ndgrad.float64), "float64"),
    (lambda: ndgrad.ones(3) + ndgrad.tensor(2.5, dtype=ndgrad.float64), "float32"),
    (lambda: ndgrad.ones(3) + ndgrad.ones(3, dtype=ndgrad.float64), "float64"),
    (lambda: ndgrad.tensor(1.5) + ndgrad.tensor(2, dtype=ndgrad.float64), "float64"),
    (lambda: ndgrad.tensor([True]) + True, "bool"),
    (lambda: ndgrad.tensor([True]) + 1, "int64"),
    (lambda: ndgrad.tensor([True]) * 1.5, "float32"),
    (lambda: ndgrad.ones(3) + 1j, "complex64"),
    (lambda: ndgrad.ones(3, dtype=ndgrad.float64) * 1j, "complex128"),
    (lambda: ndgrad.arange(4) // 3, "int64"),
    (lambda: ndgrad.arange(4) % 3, "int64"),
    (lambda: ndgrad.arange(4) ** 2, "int64"),
    (lambda: ndgrad.arange(4) ** 0.5, "float32"),
    (lambda: 2 ** ndgrad.arange(4), "int64"),
    (lambda: 2.0 ** ndgrad.arange(4), "float32"),
    (lambda: ndgrad.arange(4).sum(), "int64"),
    (lambda: ndgrad.arange(4, dtype=ndgrad.int32).sum(), "int64"),
    (lambda: ndgrad.ones(4, dtype=ndgrad.bool).sum(), "int64"),
    (lambda: ndgrad.ones(4).sum(), "float32"),
    (lambda: ndgrad.ones(4).mean(), "float32"),
    (lambda: ndgrad.ones(4).std(), "float32"),
    (lambda: ndgrad.ones(4).norm(), "float32"),
    (lambda: ndgrad.arange(4).sqrt(), "float32"),
    (lambda: ndgrad.arange(4).exp(), "float32"),
    (lambda: ndgrad.arange(4, dtype=ndgrad.int32).abs(), "int32"),
    (lambda: ndgrad.arange(4).cumsum(0), "int64"),
    (lambda: ndgrad.arange(4, dtype=ndgrad.uint8).prod(), "int64"),
    (lambda: ndgrad.where(ndgrad.tensor([True, False]), ndgrad.ones(2), 0.0), "float32"),
    (lambda: ndgrad.where(ndgrad.tensor([True, False]), ndgrad.arange(2), 0.5), "float32"),
    (lambda: ndgrad.clamp(ndgrad.arange(4), 0.5), "float32"),
    (lambda: ndgrad.clamp(ndgrad.arange(4), 1, 2), "int64"),
    (lambda: ndgrad.cat([ndgrad.arange(2), ndgrad.ones(2)]), "float32"),
    (lambda: ndgrad.stack([ndgrad.arange(2, dtype=ndgrad.int32), ndgrad.arange(2)]), "int64"),
    (lambda: ndgrad.ones(2, 2) @ ndgrad.ones(2, 2), "float32"),
    (lambda: ndgrad.atan2(ndgrad.arange(3), ndgrad.arange(3)), "float32"),
    (lambda: ndgrad.ones(3).to(float), "float64"),
    (lambda: ndgrad.ones(3).to(int), "int64"),
    (lambda: ndgrad.ones(3).to(bool), "bool"),
    (lambda: ndgrad.lerp(ndgrad.zeros(2), ndgrad.ones(2), 0.5), "float32"),
]


@pytest.mark.parametrize("case,want", KEY_CASES, ids=[str(i) for i in range(len(KEY_CASES))])
def test_key_promotion_cases(case, want: str) -> None:  # noqa: ANN001
    assert case().dtype is dt(want)


def test_python_float_never_upcasts_float32_values() -> None:
    x = ndgrad.tensor([1.0, 2.0])
    for y in (x + 0.1, x * 0.1, x - 0.1, x / 3.0, 0.1 + x, x ** 2.0, x.clamp(0.5, 1.5), x.pow(0.5)):
        assert y.dtype is ndgrad.float32
        assert y.numpy().dtype == np.float32


def test_dtype_attributes_and_aliases() -> None:
    assert ndgrad.float is ndgrad.float32 and ndgrad.double is ndgrad.float64 and ndgrad.half is ndgrad.float16
    assert ndgrad.long is ndgrad.int64 and ndgrad.int is ndgrad.int32 and ndgrad.short is ndgrad.int16
    assert ndgrad.cfloat is ndgrad.complex64 and ndgrad.cdouble is ndgrad.complex128
    assert isinstance(ndgrad.float32, ndgrad.dtype)
    assert repr(ndgrad.float32) == "ndgrad.float32" and repr(ndgrad.bool) == "ndgrad.bool"
    assert [dt(n).itemsize for n in NAMES] == [1, 1, 1, 2, 4, 8, 2, 4, 8, 8, 16]
    assert [dt(n).is_floating_point for n in NAMES] == [False] * 6 + [True] * 3 + [False] * 2
    assert [dt(n).is_complex for n in NAMES] == [False] * 9 + [True] * 2
    assert [dt(n).is_signed for n in NAMES] == [False, False] + [True] * 9


def test_default_dtype() -> None:
    assert ndgrad.get_default_dtype() is ndgrad.float32
    assert ndgrad.tensor(1.5).dtype is ndgrad.float32 and ndgrad.tensor(1j).dtype is ndgrad.complex64
    ndgrad.set_default_dtype(ndgrad.float64)
    assert ndgrad.get_default_dtype() is ndgrad.float64
    assert ndgrad.tensor(1.5).dtype is ndgrad.float64
    assert ndgrad.tensor([1, 2.5]).dtype is ndgrad.float64
    assert ndgrad.tensor(1j).dtype is ndgrad.complex128
    assert ndgrad.zeros(2).dtype is ndgrad.float64 and ndgrad.arange(0.0, 1.0, 0.5).dtype is ndgrad.float64
    assert ndgrad.arange(3).dtype is ndgrad.int64
    assert (ndgrad.arange(3) / 2).dtype is ndgrad.float64
    assert ndgrad.result_type(ndgrad.arange(3), 2.5) is ndgrad.float64
    assert (ndgrad.ones(2, dtype=ndgrad.float32) + 2.5).dtype is ndgrad.float32
    ndgrad.set_default_dtype(ndgrad.float32)
    assert ndgrad.tensor(1.5).dtype is ndgrad.float32


@pytest.mark.parametrize("bad", ["int64", "bool", "complex64"])
def test_set_default_dtype_rejects_non_float(bad: str) -> None:
    with pytest.raises(TypeError, match="floating"):
        ndgrad.set_default_dtype(dt(bad))
    assert ndgrad.get_default_dtype() is ndgrad.float32


# --- comparison with PyTorch (live, or recorded in tests/references) --------------------
def _tn(d) -> str:  # noqa: ANN001
    name = str(d).replace("torch.", "").replace("ndgrad.", "")
    return "complex64" if name == "complex32" else name


SHAPE_PAIRS = (((2,), ()), ((), (2,)), ((), ()), ((2,), (2,)))


def _promotion_tables(L) -> dict:  # noqa: ANN001
    """promote_types, can_cast and result_type (tensor shapes x dtypes, and with Python scalars)
    over every pair of dtypes, as names, in library L."""
    def d(name):  # noqa: ANN001, ANN202
        return getattr(L, name)
    return {
        "promote": [[_tn(L.promote_types(d(a), d(b))) for b in NAMES] for a in NAMES],
        "can_cast": [[bool(L.can_cast(d(a), d(b))) for b in NAMES] for a in NAMES],
        "result": [[[_tn(L.result_type(L.zeros(sa, dtype=d(a)), L.zeros(sb, dtype=d(b)))) for sa, sb in SHAPE_PAIRS]
                    for b in NAMES] for a in NAMES],
        "scalar": [[[_tn(L.result_type(L.zeros(shape, dtype=d(a)), s)) for shape in ((2,), ())] for s in SCALARS]
                   for a in NAMES],
    }


def test_live_promotion_tables(torch_ref) -> None:  # noqa: ANN001
    got, want = _promotion_tables(ndgrad), torch_ref("tables", _promotion_tables)
    for what in want:
        for a, g_row, w_row in zip(NAMES, got[what], want[what], strict=True):
            assert g_row == w_row, (what, a)


def test_live_key_cases(torch_ref) -> None:  # noqa: ANN001
    import inspect
    import re
    exprs = [re.search(r"lambda: (.*), \"\w+\"\),?$", inspect.getsource(case).strip()).group(1)
             for case, _ in KEY_CASES]
    got = torch_ref("dtypes", lambda torch: [_tn(eval(e.replace("ndgrad.", "torch."), {"torch": torch}).dtype)
                                             for e in exprs])  # noqa: S307 - our own literals
    for expr, (_, want), g in zip(exprs, KEY_CASES, got, strict=True):
        assert g == want, expr
