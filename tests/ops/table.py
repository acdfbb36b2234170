"""The op table: one row (or more) per op registered in ndgrad.ops._core.REGISTRY.

A row says how to call the op on a library module (`ndgrad` or `torch`), which inputs
to feed it (several shapes: 0-d, empty, broadcasting; several dtypes) and, where one
exists, a NumPy reference. tests/ops/test_forward.py runs every row against NumPy and
against PyTorch when it is installed; tests/ops/test_coverage.py fails when a registered
op has no row. Adding an op = one `@register` in ndgrad/ops/ + one row here.

Inputs are written as NumPy arrays; the test turns every array in args/kwargs into a
tensor of the library under test (so index arrays become int64 tensors, masks bool).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

Sample = tuple  # (args: tuple, kwargs: dict)


@dataclass
class OpRow:
    name: str                                    # registered op name
    call: Callable                               # call(lib, *args, **kwargs)
    samples: Callable                            # samples(dtypes, rng) -> list[Sample]
    ref: Callable | None = None                  # NumPy reference: ref(*args, **kwargs)
    dtypes: tuple = ("float32", "float64")       # one dtype name, or a tuple with one per tensor input
    variant: str = ""
    rtol: float = 1e-5
    atol: float = 1e-6
    keeps_float32: bool = True                   # float32 inputs must give float32 (not float64) results

    @property
    def id(self) -> str:
        return self.name + (f"[{self.variant}]" if self.variant else "")


FLOAT = ("float32", "float64")
INT = ("int64", "int32")
NUM = FLOAT + INT
ALL = NUM + ("bool", "uint8", "int8", "int16")


# ---------------------------------------------------------------------------
# input makers
# ---------------------------------------------------------------------------
def make_array(shape: tuple, dt: str, rng: np.random.Generator, domain: tuple | None = None) -> np.ndarray:
    if dt == "bfloat16":  # NumPy has no bfloat16: ml_dtypes' (the tests convert it for each library)
        import ml_dtypes
        return make_array(shape, "float32", rng, domain).astype(ml_dtypes.bfloat16)
    if dt == "bool":
        return np.asarray(rng.random(shape) < 0.5)
    if dt in ("complex64", "complex128"):
        return np.asarray(rng.standard_normal(shape) + 1j * rng.standard_normal(shape)).astype(dt)
    if dt.startswith("float"):
        if domain is None:
            return np.asarray(rng.standard_normal(shape)).astype(dt)
        return np.asarray(rng.uniform(domain[0], domain[1], shape)).astype(dt)
    lo, hi = (0, 10) if dt == "uint8" else (-5, 6)
    if domain is not None:
        lo, hi = max(lo, math.ceil(domain[0])), min(hi, math.floor(domain[1]) + 1)
    return np.asarray(rng.integers(lo, hi, shape)).astype(dt)


U_SHAPES = [((),), ((0,),), ((5,),), ((2, 3),), ((2, 1, 4),)]
B_SHAPES = [((), ()), ((5,), (5,)), ((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 1, 4), (3, 1)), ((), (2, 3)),
            ((0, 3), (3,)), ((2, 3), ())]
T_SHAPES = [((), (), ()), ((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((0,), (0,), ())]
R_SHAPES = [((),), ((5,),), ((2, 3),), ((2, 3, 4),)]


def gen(shapes: list, variants: Any = (((), {}),), domain: tuple | None = None, nonzero: bool = False,
        special: bool = False) -> Callable:
    """Samples: for each tuple of shapes, arrays of the row's dtypes, followed by each variant's args.

    `variants` is a list of (args, kwargs) or a callable(shapes) returning one."""
    def make(dts: tuple, rng: np.random.Generator) -> list:
        out = []
        for shp in shapes:
            arrays = []
            for i, s in enumerate(shp):
                dt = dts[i] if i < len(dts) else dts[-1]
                a = make_array(s, dt, rng, domain)
                if nonzero and a.dtype.kind in "iuf" and a.size:
                    a = np.where(a == 0, np.ones_like(a), a)
                if special and a.dtype.kind == "f" and a.size >= 3:
                    flat = a.reshape(-1)
                    flat[:3] = [np.nan, np.inf, -np.inf]
                arrays.append(a)
            vs = variants(shp) if callable(variants) else variants
            for args, kwargs in vs:
                out.append((tuple(arrays) + tuple(args), dict(kwargs)))
        return out
    return make


def fixed(*samples: Sample) -> Callable:
    """Samples built by hand (functions of the dtype tuple)."""
    def make(dts: tuple, rng: np.random.Generator) -> list:
        res = []
        for s in samples:
            res.extend(s(dts, rng) if callable(s) else [s])
        return res
    return make


def fn(name: str) -> Callable:
    """call = lib.<name>(*args, **kwargs), names may be dotted (linalg.inv)."""
    def call(L: Any, *a: Any, **k: Any) -> Any:
        obj = L
        for part in name.split("."):
            obj = getattr(obj, part)
        return obj(*a, **k)
    call.__name__ = name
    return call


def meth(name: str) -> Callable:
    """call = args[0].<name>(*args[1:], **kwargs)."""
    def call(L: Any, x: Any, *a: Any, **k: Any) -> Any:
        return getattr(x, name)(*a, **k)
    return call


ROWS: list[OpRow] = []


def row(name: str, samples: Callable, ref: Callable | None = None, dtypes: tuple = FLOAT, call: Callable | None = None,
        variant: str = "", aliases: tuple = (), **kw: Any) -> None:
    for n in (name,) + tuple(aliases):
        ROWS.append(OpRow(n, call or fn(n), samples, ref, dtypes, variant, **kw))


# ---------------------------------------------------------------------------
# unary elementwise
# ---------------------------------------------------------------------------
def _erf(a: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[np.float64])(a)


def _float_in(f: Callable) -> Callable:
    # PyTorch computes float ops on integer input in the default dtype
    def r(a: np.ndarray, *args: Any, **kw: Any) -> Any:
        if a.dtype.kind in "iub":
            a = a.astype(np.float32)
        return f(a, *args, **kw)
    return r


UNARY_FLOAT = [
    ("exp", np.exp, None, ()), ("exp2", np.exp2, None, ()), ("expm1", np.expm1, None, ()),
    ("log", np.log, (0.1, 5), ()), ("log2", np.log2, (0.1, 5), ()), ("log10", np.log10, (0.1, 5), ()),
    ("log1p", np.log1p, (-0.5, 5), ()), ("sqrt", np.sqrt, (0, 5), ()),
    ("rsqrt", lambda a: 1 / np.sqrt(a), (0.1, 5), ()),
    ("sin", np.sin, None, ()), ("cos", np.cos, None, ()), ("tan", np.tan, (-1.2, 1.2), ()),
    ("asin", np.arcsin, (-0.95, 0.95), ("arcsin",)), ("acos", np.arccos, (-0.95, 0.95), ("arccos",)),
    ("atan", np.arctan, None, ("arctan",)), ("sinh", np.sinh, None, ()), ("cosh", np.cosh, None, ()),
    ("tanh", np.tanh, None, ()), ("asinh", np.arcsinh, None, ("arcsinh",)),
    ("acosh", np.arccosh, (1.05, 4), ("arccosh",)), ("atanh", np.arctanh, (-0.9, 0.9), ("arctanh",)),
    ("sigmoid", lambda a: 1 / (1 + np.exp(-a)), None, ()), ("erf", _erf, None, ()),
    ("erfc", lambda a: 1 - _erf(a), None, ()), ("reciprocal", lambda a: 1 / a, (0.2, 3), ()),
    ("sinc", lambda a: np.sinc(a), None, ()), ("deg2rad", np.deg2rad, None, ()), ("rad2deg", np.rad2deg, None, ()),
    ("logit", lambda a: np.log(a / (1 - a)), (0.05, 0.95), ()),
]
for _n, _f, _dom, _al in UNARY_FLOAT:
    row(_n, gen(U_SHAPES, domain=_dom), _float_in(_f), dtypes=FLOAT + (("int64",) if _n != "logit" else ()) + (
        "float16", "bfloat16"),
        aliases=_al,
        rtol=2e-5 if _n not in ("erf", "erfc") else 1e-4)

row("erfinv", gen(U_SHAPES, domain=(-0.9, 0.9)), None, dtypes=FLOAT, rtol=1e-4, atol=1e-5)
row("logit", gen([((5,),)], [((0.1,), {})], domain=(0.0, 1.0)),
    lambda a, eps: np.log(np.clip(a, eps, 1 - eps) / (1 - np.clip(a, eps, 1 - eps))), variant="eps")

UNARY_KEEP = [  # ops that keep the input dtype
    ("neg", np.negative, ("negative",), NUM + ("int8",)), ("abs", np.abs, ("absolute",), NUM + ("int8",)),
    ("square", np.square, (), NUM), ("sign", np.sign, (), NUM), ("sgn", np.sign, (), NUM),
    ("relu", lambda a: np.maximum(a, 0), (), NUM),
    ("floor", np.floor, (), NUM), ("ceil", np.ceil, (), NUM), ("trunc", np.trunc, ("fix",), NUM),
    ("round", np.round, (), NUM), ("frac", lambda a: a - np.trunc(a), (), FLOAT),
]
for _n, _f, _al, _dts in UNARY_KEEP:
    row(_n, gen(U_SHAPES), _f, dtypes=_dts + ("float16", "bfloat16"), aliases=_al)
row("round", gen([((2, 3),)], [((), {"decimals": 2})]), lambda a, decimals: np.round(a, decimals),
    variant="decimals")
row("round", gen([((5,),)]), np.round, dtypes=FLOAT, variant="half_even",
    call=lambda L, a: L.round(a * 0 + L.tensor([0.5, 1.5, 2.5, -0.5, -2.5], dtype=a.dtype)),
    )
ROWS[-1].ref = lambda a: np.round(np.array([0.5, 1.5, 2.5, -0.5, -2.5], a.dtype))

for _n, _f in (("isnan", np.isnan), ("isinf", np.isinf), ("isfinite", np.isfinite), ("isposinf", np.isposinf),
               ("isneginf", np.isneginf), ("signbit", np.signbit)):
    row(_n, gen(U_SHAPES + [((2, 3),)], special=True), _f, dtypes=FLOAT + ("int64",))
row("nan_to_num", gen(U_SHAPES, [((), {}), ((), {"nan": 1.5, "posinf": 9.0, "neginf": -9.0})], special=True),
    lambda a, **k: np.nan_to_num(a, nan=k.get("nan", 0.0), posinf=k.get("posinf"), neginf=k.get("neginf")))
row("positive", gen(U_SHAPES), lambda a: a, dtypes=NUM + ("int8", "float16"))
row("isreal", gen(U_SHAPES), lambda a: np.isreal(a), dtypes=("float32", "int8", "bool", "complex64", "float16"))
row("logical_not", gen(U_SHAPES), np.logical_not, dtypes=("bool", "float32", "int64"))
row("bitwise_not", gen(U_SHAPES), np.invert, dtypes=("bool", "int64", "uint8"))


def _complex_sample(dts: tuple, rng: np.random.Generator) -> list:
    return [((make_array((2, 3), "complex64", rng),), {}), ((make_array((), "complex64", rng),), {})]


row("conj", fixed(_complex_sample), np.conj, dtypes=("complex64",))
row("conj", gen(U_SHAPES), np.conj, dtypes=NUM, variant="real")
row("real", fixed(_complex_sample), np.real, dtypes=("complex64",))
row("real", gen(U_SHAPES), np.real, dtypes=FLOAT, variant="real")
row("imag", fixed(_complex_sample), np.imag, dtypes=("complex64",))

# ---------------------------------------------------------------------------
# binary elementwise
# ---------------------------------------------------------------------------
MIXED = (("int64", "float32"), ("float32", "float64"), ("bool", "int64"), ("int32", "int64"), ("uint8", "int8"),
         ("float32", "int64"), ("bool", "float32"))
SCALAR_VARIANTS = [((2,), {}), ((2.5,), {}), ((True,), {})]


def _to_scalar_pair(f: Callable) -> Callable:
    return lambda a, s, **k: f(a, np.asarray(s).astype(a.dtype) if a.dtype.kind == "f" or isinstance(s, bool) or
                                (isinstance(s, int) and a.dtype.kind in "iu") else s, **k)


for _n, _f, _al, _nz in (("add", np.add, (), False), ("sub", np.subtract, ("subtract",), False),
                         ("mul", np.multiply, ("multiply",), False),
                         ("div", np.true_divide, ("divide", "true_divide"), True),
                         ("floor_divide", np.floor_divide, (), True), ("remainder", np.remainder, (), True),
                         ("fmod", np.fmod, (), True)):
    dts = NUM + ("float16", ("float16", "float32"), "bfloat16", ("bfloat16", "float16"), ("bfloat16", "int64")) + tuple(
        m for m in MIXED if not (_n.startswith("sub") and m[0] == "bool"))
    row(_n, gen(B_SHAPES, nonzero=_nz), lambda a, b, _f=_f: _f(a, b), dtypes=dts, aliases=_al, rtol=1e-5)
    sv = [v for v in SCALAR_VARIANTS if not (_n.startswith("sub") and v[0][0] is True)]
    if _nz:
        sv = [v for v in sv if v[0][0] is not True]
    row(_n, gen(U_SHAPES, sv, nonzero=_nz), lambda a, s, _f=_f: _f(a, s), dtypes=NUM, variant="scalar",
        rtol=1e-5)
row("add", gen([((2, 3), (2, 3)), ((2, 3), (3,))], [((), {"alpha": 2})]), lambda a, b, alpha: a + alpha * b,
    dtypes=NUM, variant="alpha")
row("sub", gen([((2, 3), (2, 3))], [((), {"alpha": 3})]), lambda a, b, alpha: a - alpha * b, dtypes=NUM,
    variant="alpha")
row("div", gen(B_SHAPES, [((), {"rounding_mode": "floor"}), ((), {"rounding_mode": "trunc"})], nonzero=True),
    lambda a, b, rounding_mode: (np.floor_divide(a, b) if rounding_mode == "floor" else
                                 np.trunc(a / b).astype(np.result_type(a, b))),
    dtypes=NUM, variant="rounding")
row("pow", gen(B_SHAPES, domain=(0.5, 2)), np.power, dtypes=FLOAT + (("float32", "float64"), ("int64", "float32")))
row("pow", gen(U_SHAPES, [((2,), {}), ((0.5,), {}), ((3,), {})], domain=(0, 3)),
    lambda a, e: np.power(a.astype(np.float32) if isinstance(e, float) and a.dtype.kind in "iu" else a, e),
    dtypes=FLOAT + INT, variant="scalar")
row("pow", gen([((2, 3),)], domain=(0.5, 2)), lambda a: np.power(2.0, a), dtypes=FLOAT, variant="rscalar",
    call=lambda L, a: L.pow(2.0, a))
row("pow", gen([((2, 3), (2, 3))], domain=(0, 4)), np.power, dtypes=INT, variant="int")
row("float_power", gen(B_SHAPES[:4], domain=(0.5, 2)), lambda a, b: np.power(a.astype(np.float64), b),
    dtypes=FLOAT + ("int64",), keeps_float32=False)
row("atan2", gen(B_SHAPES), _float_in(np.arctan2), dtypes=FLOAT + ("int64",), aliases=("arctan2",))
row("hypot", gen(B_SHAPES), np.hypot)
row("logaddexp", gen(B_SHAPES), np.logaddexp)
row("xlogy", gen(B_SHAPES, domain=(0.1, 3)), lambda a, b: a * np.log(b))
row("xlogy", fixed(lambda d, r: [((np.array([0.0, 1.0, 0.0], d[0]), np.array([0.0, 2.0, 3.0], d[0])), {})]),
    lambda a, b: np.where(a == 0, 0, a * np.log(np.where(b == 0, 1, b))), variant="zeros")
row("copysign", gen(B_SHAPES), np.copysign)
for _n, _f in (("maximum", np.maximum), ("minimum", np.minimum), ("fmax", np.fmax), ("fmin", np.fmin)):
    row(_n, gen(B_SHAPES), _f, dtypes=NUM + (("int64", "float32"),))
    row(_n, gen([((6,), (6,))], special=True), _f, variant="nan")
for _n, _f, _al in (("eq", np.equal, ()), ("ne", np.not_equal, ("not_equal",)), ("lt", np.less, ("less",)),
                    ("le", np.less_equal, ("less_equal",)), ("gt", np.greater, ("greater",)),
                    ("ge", np.greater_equal, ("greater_equal",))):
    row(_n, gen(B_SHAPES), _f, dtypes=NUM + ("bool", ("int64", "float32")), aliases=_al)
    row(_n, gen(U_SHAPES, [((0,), {}), ((0.5,), {})]), _f, dtypes=NUM, aliases=_al, variant="scalar")
for _n, _f in (("logical_and", np.logical_and), ("logical_or", np.logical_or), ("logical_xor", np.logical_xor)):
    row(_n, gen(B_SHAPES), _f, dtypes=("bool", "float32", "int64", ("int64", "bool")))
for _n, _f in (("bitwise_and", np.bitwise_and), ("bitwise_or", np.bitwise_or), ("bitwise_xor", np.bitwise_xor)):
    row(_n, gen(B_SHAPES), _f, dtypes=("bool", "int64", "uint8", ("int32", "int64")))
    row(_n, gen(U_SHAPES, [((3,), {})]), _f, dtypes=("int64",), variant="scalar")
for _n, _f, _op in (("bitwise_left_shift", np.left_shift, "__lshift__"),
                    ("bitwise_right_shift", np.right_shift, "__rshift__")):
    row(_n, gen(B_SHAPES, domain=(0, 5)), _f, dtypes=("int64", "uint8", "int32", ("int32", "int64")))
    row(_n, gen(U_SHAPES, [((2,), {})], domain=(0, 5)), _f, dtypes=("int64", "int16"), variant="scalar")
    row(_op, gen(B_SHAPES[:4], domain=(0, 5)), _f, dtypes=("int64",), call=lambda L, a, b, _op=_op: getattr(a, _op)(b))
row("add", gen(U_SHAPES[2:], [((300,), {}), ((-1,), {})]), lambda a, s: (a.astype(np.int64) + s).astype(a.dtype),
    dtypes=("uint8", "int8"), variant="wrap")
row("mul", gen(U_SHAPES[2:], [((-3,), {}), ((1000,), {})]), lambda a, s: (a.astype(np.int64) * s).astype(a.dtype),
    dtypes=("uint8", "int8", "int16"), variant="wrap")
row("remainder", gen([((4,),)], [((), {})], nonzero=True), lambda a: np.remainder(7, a), dtypes=("int64", "float32"),
    variant="number_first", call=lambda L, a: L.remainder(7, a))
row("isclose", gen(B_SHAPES), np.isclose)
row("isclose", fixed(lambda d, r: [((np.array([1.0, np.nan, 2.0], d[0]), np.array([1.0 + 1e-9, np.nan, 2.1], d[0])),
                                    {"equal_nan": True})]),
    lambda a, b, equal_nan: np.isclose(a, b, equal_nan=equal_nan), variant="nan")
row("allclose", gen(B_SHAPES), lambda a, b: bool(np.allclose(a, b)))
row("allclose", fixed(lambda d, r: [((np.ones(3, d[0]), np.ones(3, d[0]) + 1e-7), {})]), lambda a, b: True,
    variant="close")
row("equal", gen([((2, 3), (2, 3)), ((2, 3), (3,))]), lambda a, b: bool(a.shape == b.shape and np.array_equal(a, b)),
    dtypes=NUM)
row("equal", fixed(lambda d, r: [((np.arange(6).reshape(2, 3).astype(d[0]),) * 2, {})]), lambda a, b: True,
    dtypes=NUM, variant="same")
row("lerp", gen(T_SHAPES[:3]), lambda a, b, w: a + w * (b - a))
row("lerp", gen([((2, 3), (2, 3))], [((0.25,), {})]), lambda a, b, w: a + w * (b - a), variant="scalar")
row("addcmul", gen(T_SHAPES, [((), {}), ((), {"value": 0.5})]), lambda a, b, c, value=1: a + value * b * c)
row("addcdiv", gen(T_SHAPES, [((), {}), ((), {"value": 0.5})], domain=(0.5, 2)),
    lambda a, b, c, value=1: a + value * b / c)


def _where_samples(dts: tuple, rng: np.random.Generator) -> list:
    out = []
    for sc, sa, sb in (((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), (2, 1)), ((), (), ()), ((0,), (0,), ())):
        out.append(((np.asarray(rng.random(sc) < 0.5), make_array(sa, dts[0], rng), make_array(sb, dts[-1], rng)), {}))
    out.append(((rng.random((2, 3)) < 0.5, make_array((2, 3), dts[0], rng), 0.0), {}))
    return out


row("where", fixed(_where_samples), np.where, dtypes=NUM + (("int64", "float32"), ("float32", "float64")))
row("where", fixed(lambda d, r: [((np.array([[1, 0], [0, 3]]) > 0,), {})]),
    lambda c: tuple(np.nonzero(c)), variant="cond_only")


def _clamp_ref(a: np.ndarray, min: Any = None, max: Any = None) -> np.ndarray:  # noqa: A002
    r = a
    if min is not None:
        r = np.maximum(r, min)
    if max is not None:
        r = np.minimum(r, max)
    return r


for _n in ("clamp", "clip"):
    row(_n, gen(U_SHAPES, [((-0.5, 0.5), {}), ((), {"min": 0}), ((), {"max": 0.25})]),
        _clamp_ref, dtypes=FLOAT)
    row(_n, gen(U_SHAPES, [((-2, 3), {}), ((), {"min": 0})]), _clamp_ref, dtypes=INT, variant="int")
    row(_n, gen([((2, 3), (3,), (2, 1))]), lambda a, lo, hi: np.minimum(np.maximum(a, lo), hi), variant="tensor")
row("clamp_min", gen(U_SHAPES, [((0.1,), {})]), lambda a, m: np.maximum(a, np.asarray(m, a.dtype)))
row("clamp_max", gen(U_SHAPES, [((0.1,), {})]), lambda a, m: np.minimum(a, np.asarray(m, a.dtype)))

# ---------------------------------------------------------------------------
# reductions
# ---------------------------------------------------------------------------
def _dims(shp: tuple) -> list:
    nd = len(shp[0])
    v = [((), {})]
    if nd >= 1:
        v += [((0,), {}), ((-1,), {"keepdim": True})]
    if nd >= 2:
        v += [(((0, 1),), {}), (([0, -1],), {"keepdim": True})]
    return v


def _np_red(f: Callable) -> Callable:
    def r(a: np.ndarray, dim: Any = None, keepdim: bool = False, **kw: Any) -> Any:
        axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
        return f(a, axis=axis, keepdims=keepdim, **kw)
    return r


def _sum_dtype(a: np.ndarray) -> Any:
    return np.int64 if a.dtype.kind in "iub" else a.dtype


row("sum", gen(R_SHAPES + [((0, 3),)], _dims), _np_red(lambda a, **k: np.sum(a, dtype=_sum_dtype(a), **k)),
    dtypes=NUM + ("bool", "uint8", "float16", "bfloat16"), rtol=1e-5, atol=1e-5)
row("sum", gen([((2, 3),)], [((), {"dtype": "float64"}), ((), {"axis": 1, "keepdims": True})]),
    lambda a, dtype=None, axis=None, keepdims=False: np.sum(a, axis=axis, keepdims=keepdims, dtype=dtype),
    dtypes=("float32", "int64"), variant="kw", keeps_float32=False,
    call=lambda L, a, **k: L.sum(a, **({"dtype": getattr(L, k["dtype"])} if "dtype" in k else k)))
row("mean", gen(R_SHAPES + [((2, 0),)], lambda s: _dims(s) if 0 not in s[0] else [((1,), {})]), _np_red(np.mean),
    atol=1e-5, dtypes=FLOAT + ("float16", "bfloat16"))
row("mean", gen([((2, 3),)], [((), {"axis": 0, "keepdims": True})]), lambda a, axis, keepdims: np.mean(
    a, axis=axis, keepdims=keepdims), variant="axis")
row("nansum", gen([((2, 3),), ((6,),)], lambda s: _dims(s)[:2], special=False), _np_red(np.nansum))
row("nansum", fixed(lambda d, r: [((np.array([1.0, np.nan, 2.0], d[0]),), {})]), lambda a: np.nansum(a), variant="nan")
row("nanmean", fixed(lambda d, r: [((np.array([[1.0, np.nan, 2.0], [3.0, 4.0, np.nan]], d[0]),), {}),
                                   ((np.array([[1.0, np.nan, 2.0], [3.0, 4.0, np.nan]], d[0]), 1), {})]),
    lambda a, dim=None: np.nanmean(a, axis=dim))
row("prod", gen(R_SHAPES, lambda s: [((), {})] + ([((0,), {}), ((-1,), {"keepdim": True})] if s[0] else [])),
    _np_red(lambda a, **k: np.prod(a, dtype=_sum_dtype(a), **k)), dtypes=NUM + ("bool",))
for _n, _f in (("var", np.var), ("std", np.std)):
    row(_n, gen(R_SHAPES[1:], lambda s: [((), {}), ((0,), {}), ((-1,), {"keepdim": True}),
                                         ((), {"correction": 0}), ((0,), {"unbiased": False})]),
        lambda a, dim=None, keepdim=False, correction=1, unbiased=True, _f=_f: _f(
            a, axis=dim, keepdims=keepdim, ddof=correction if unbiased else 0), atol=1e-5,
        dtypes=FLOAT + ("float16", "bfloat16"))
    row(_n, gen([((2, 3, 4),)], [(((0, 2),), {}), (([1, 2],), {"correction": 2, "keepdim": True})]),
        lambda a, dim, keepdim=False, correction=1, _f=_f: _f(a, axis=tuple(dim), keepdims=keepdim, ddof=correction),
        variant="dims", atol=1e-5)
    # an empty dim list reduces over every dim (regression: it divided by n - 1 = 0)
    row(_n, gen([((2, 3),)], [(((),), {}), (([],), {"keepdim": True})]),
        lambda a, dim, keepdim=False, _f=_f: _f(a, keepdims=keepdim, ddof=1), variant="empty_dims", atol=1e-5)
row("var_mean", gen([((2, 3),)], [((), {}), ((1,), {})]),
    lambda a, dim=None: (np.var(a, axis=dim, ddof=1), np.mean(a, axis=dim)))
row("std_mean", gen([((2, 3),)], [((), {}), ((1,), {})]),
    lambda a, dim=None: (np.std(a, axis=dim, ddof=1), np.mean(a, axis=dim)))
for _n, _f in (("amax", np.max), ("amin", np.min)):
    row(_n, gen(R_SHAPES, lambda s: _dims(s)[:1] + (_dims(s)[1:] if s[0] else [])), _np_red(_f), dtypes=NUM)
row("aminmax", gen(R_SHAPES[1:], [((), {}), ((), {"dim": 0}), ((), {"dim": -1, "keepdim": True})]),
    lambda a, dim=None, keepdim=False: (np.min(a, axis=dim, keepdims=keepdim), np.max(a, axis=dim, keepdims=keepdim)),
    dtypes=NUM)
for _n, _f, _g in (("max", np.max, np.argmax), ("min", np.min, np.argmin)):
    row(_n, gen(R_SHAPES), lambda a, _f=_f: _f(a), dtypes=NUM + ("bool",))
    row(_n, gen(R_SHAPES[1:], [((0,), {}), ((-1,), {"keepdim": True})]),
        lambda a, d, keepdim=False, _f=_f, _g=_g: (_f(a, axis=d, keepdims=keepdim), _g(a, axis=d, keepdims=keepdim)),
        dtypes=NUM, variant="dim")
    row(_n, gen(B_SHAPES), lambda a, b, _f=_f: (np.maximum if _f is np.max else np.minimum)(a, b), dtypes=NUM,
        variant="binary")
for _n, _f in (("argmax", np.argmax), ("argmin", np.argmin)):
    row(_n, gen(R_SHAPES, lambda s: [((), {})] + ([((0,), {}), ((-1,), {"keepdim": True})] if s[0] else [])),
        lambda a, dim=None, keepdim=False, _f=_f: _f(a, axis=dim, keepdims=keepdim) if dim is not None else _f(a),
        dtypes=NUM)


def _median_ref(a: np.ndarray, dim: Any = None, keepdim: bool = False) -> Any:
    if dim is None:
        return np.sort(a.reshape(-1))[(a.size - 1) // 2]
    s = np.sort(a, axis=dim)
    v = np.take(s, [(a.shape[dim] - 1) // 2], axis=dim)
    return v if keepdim else np.squeeze(v, dim)


row("median", gen(R_SHAPES), _median_ref, dtypes=NUM)
row("median", gen([((4, 5),), ((3, 4),)], [((0,), {}), ((1,), {"keepdim": True})]),
    lambda a, d, keepdim=False: _median_ref(a, d, keepdim), dtypes=FLOAT, variant="dim",
    call=lambda L, a, *args, **k: L.median(a, *args, **k)[0])
row("mode", fixed(lambda d, r: [((r.integers(0, 4, (3, 7)).astype(d[0]),), {}),
                                 ((r.integers(0, 3, (5, 4)).astype(d[0]), 0), {"keepdim": True}),
                                 ((np.array([2, 2, 1, 1, 0], d[0]),), {}), ((np.array(3, d[0]),), {})]),
    None, dtypes=NUM + ("int8", "uint8", "bool", "float16"), call=lambda L, *a, **k: tuple(L.mode(*a, **k)))
row("quantile", gen([((7,),), ((3, 5),)], [((0.3,), {}), ((0.5,), {"dim": -1}),
                                          ((0.9,), {"dim": 0, "keepdim": True})]),
    lambda a, q, dim=None, keepdim=False: np.quantile(a, q, axis=dim, keepdims=keepdim), atol=1e-5)
row("quantile", gen([((7,),)], [((np.array([0.1, 0.5, 0.75]),), {})]),
    lambda a, q: np.quantile(a, q.astype(np.float64)), variant="tensor_q", atol=1e-5,
    call=lambda L, a, q: L.quantile(a, q.to(a.dtype)))
row("nanquantile", gen([((7,),)], [((0.3,), {})]), lambda a, q: np.nanquantile(a, q), atol=1e-5)
# NaN handling (regression: nanquantile ignored nothing, quantile skipped NaNs that sorted last)
_NANQ = [[1.0, np.nan, 3.0, 4.0], [2.0, 5.0, np.nan, np.nan], [0.5, 2.0, -1.0, 7.0]]
for _n, _f in (("quantile", np.quantile), ("nanquantile", np.nanquantile)):
    row(_n, fixed(lambda d, r: [((np.array(_NANQ, d[0]), 0.5), {"dim": 1}),
                                ((np.array(_NANQ, d[0]), 0.25), {"dim": 0, "keepdim": True})]),
        lambda a, q, dim, keepdim=False, _f=_f: _f(a, q, axis=dim, keepdims=keepdim), variant="nan", atol=1e-5)
row("logsumexp", gen(R_SHAPES[1:], lambda s: [((0,), {}), ((-1,), {"keepdim": True})] +
                     ([(((0, 1),), {})] if len(s[0]) > 1 else [])),
    lambda a, dim, keepdim=False: np.log(np.sum(np.exp(a), axis=dim, keepdims=keepdim)), atol=1e-5,
    dtypes=FLOAT + ("float16", "bfloat16"))
def _np_softmax(a: np.ndarray, dim: int) -> np.ndarray:
    e = np.exp(a - a.max(axis=dim, keepdims=True))
    return e / e.sum(axis=dim, keepdims=True)


# activations PyTorch runs as one kernel (ndgrad/ops/activation.py)
row("softmax", gen(R_SHAPES[1:], lambda s: [((0,), {}), ((-1,), {})]), _np_softmax,
    dtypes=FLOAT + ("float16", "bfloat16"))
row("log_softmax", gen(R_SHAPES[1:], lambda s: [((0,), {}), ((-1,), {})]),
    lambda a, d: np.log(_np_softmax(a, d)), dtypes=FLOAT + ("float16", "bfloat16"))
row("softmax", gen([((2, 3),)], [((1,), {"dtype": "float64"})]), lambda a, d, dtype: _np_softmax(a.astype(dtype), d),
    variant="dtype", keeps_float32=False, call=lambda L, a, d, dtype: a.softmax(d, getattr(L, dtype)))
row("gelu", gen(U_SHAPES, [((), {}), ((), {"approximate": "tanh"})]),
    lambda a, approximate="none": (a * 0.5 * (1 + _erf(a / math.sqrt(2))) if approximate == "none" else
                                   0.5 * a * (1 + np.tanh(math.sqrt(2 / math.pi) * (a + 0.044715 * a ** 3)))),
    call=lambda L, a, **k: L.nn.functional.gelu(a, **k), dtypes=FLOAT + ("float16", "bfloat16"))
for _n, _f in (("cumsum", np.cumsum), ("cumprod", np.cumprod)):
    row(_n, gen(R_SHAPES[1:], lambda s: [((0,), {}), ((-1,), {})]),
        lambda a, d, _f=_f: _f(a, axis=d, dtype=_sum_dtype(a)), dtypes=NUM + ("bool", "float16", "bfloat16"),
        atol=1e-5)
row("cumsum", gen([((2, 3),)], [((), {"dim": 1, "dtype": "float64"})]),
    lambda a, dim, dtype: np.cumsum(a, axis=dim, dtype=dtype), variant="dtype", dtypes=("int64", "float32"),
    keeps_float32=False, call=lambda L, a, dim, dtype: L.cumsum(a, dim=dim, dtype=getattr(L, dtype)))
for _n, _f in (("cummax", np.maximum), ("cummin", np.minimum)):
    row(_n, gen(R_SHAPES[1:], [((0,), {}), ((-1,), {})]),
        lambda a, d, _f=_f: _f.accumulate(a, axis=d), dtypes=NUM, call=lambda L, a, d, _n=_n: getattr(L, _n)(a, d)[0])
    row(_n, fixed(lambda d, r: [((np.array([3, 1, 3, 5, 2, 5], d[0]), 0), {})]), None, dtypes=NUM,
        variant="indices")
row("logcumsumexp", gen(R_SHAPES[1:], [((0,), {}), ((-1,), {})]),
    lambda a, d: np.log(np.cumsum(np.exp(a), axis=d)), atol=1e-5)
for _n, _f in (("all", np.all), ("any", np.any)):
    row(_n, gen(R_SHAPES + [((0,),)], lambda s: _dims(s)[:3]), _np_red(_f), dtypes=("bool", "float32", "int64"))
row("count_nonzero", gen(R_SHAPES, lambda s: _dims(s)[:2]),
    lambda a, dim=None: np.count_nonzero(a, axis=dim), dtypes=("bool", "float32", "int64"))


def _norm_ref(a: np.ndarray, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Any:
    axis = tuple(dim) if isinstance(dim, (list, tuple)) else dim
    x = np.abs(a.astype(np.float64))
    if p in ("fro", 2):
        r = np.sqrt(np.sum(x * x, axis=axis, keepdims=keepdim))
    elif p == math.inf:
        r = np.max(x, axis=axis, keepdims=keepdim)
    elif p == -math.inf:
        r = np.min(x, axis=axis, keepdims=keepdim)
    elif p == 0:
        r = np.sum(x != 0, axis=axis, keepdims=keepdim)
    else:
        r = np.sum(x ** p, axis=axis, keepdims=keepdim) ** (1 / p)
    return r


row("norm", gen(R_SHAPES, lambda s: [((), {}), ((1,), {}), ((math.inf,), {})] + (
    [((2,), {"dim": 0}), ((1,), {"dim": -1, "keepdim": True}), ((3,), {"dim": 0})] if s[0] else []) + (
    [(("fro",), {"dim": (0, 1)}), ((2,), {"dim": [0, 1], "keepdim": True})] if len(s[0]) >= 2 else [])),
    _norm_ref, atol=1e-5)
row("dist", gen(B_SHAPES[:5], [((), {}), ((1,), {}), ((math.inf,), {})]),
    lambda a, b, p=2: _norm_ref(a - b, p), atol=1e-5)
row("linalg.vector_norm", gen(R_SHAPES, lambda s: [((), {}), ((1,), {}), ((math.inf,), {}), ((-math.inf,), {}),
                                                   ((0,), {}), ((3,), {})] + (
    [((2,), {"dim": 0}), ((2,), {"dim": -1, "keepdim": True})] if s[0] else []) + (
    [((2,), {"dim": (0, 1)}), ((1,), {"dim": [0, -1], "keepdim": True})] if len(s[0]) >= 2 else [])),
    lambda a, ord=2, dim=None, keepdim=False: _norm_ref(a, ord, dim, keepdim), atol=1e-5)


def _mnorm_ref(a: np.ndarray, ord: Any = "fro", dim: tuple = (-2, -1), keepdim: bool = False) -> Any:  # noqa: A002
    m = np.moveaxis(a, dim, (-2, -1))
    r = np.linalg.norm(m, ord=ord, axis=(-2, -1))
    if keepdim:
        for d in sorted(x % a.ndim for x in dim):
            r = np.expand_dims(r, d)
    return r


row("linalg.matrix_norm", gen([((3, 4),), ((2, 3, 4),)], [((), {}), ((1,), {}), ((-1,), {}), ((math.inf,), {}),
                                                          ((-math.inf,), {}), (("nuc",), {}), ((2,), {}),
                                                          ((), {"dim": (0, -1), "keepdim": True})]),
    _mnorm_ref, atol=1e-5, rtol=1e-4)
row("linalg.norm", gen([((5,),), ((3, 4),)], [((), {}), ((1,), {})]),
    lambda a, ord=None: np.linalg.norm(a, ord), atol=1e-5)


def _sort_ref(a: np.ndarray, dim: int = -1, descending: bool = False) -> Any:
    idx = np.argsort(-a if descending else a, axis=dim, kind="stable")
    return np.take_along_axis(a, idx, dim), idx


def _uniq(dts: tuple, rng: np.random.Generator) -> list:
    out = []
    for shp in ((5,), (2, 3), (3, 4)):
        a = rng.permutation(int(np.prod(shp))).reshape(shp).astype(dts[0])
        out += [((a,), {}), ((a, 0), {}), ((a,), {"descending": True})]
    return out


row("sort", fixed(_uniq), _sort_ref, dtypes=NUM, call=lambda L, *a, **k: tuple(L.sort(*a, **k)))
row("sort", fixed(lambda d, r: [((np.array([2, 1, 2, 1, 3], d[0]),), {"stable": True}),
                                ((np.array([2.0, np.nan, 1.0, 3.0], d[0]),), {}),
                                ((np.array([2.0, np.nan, 1.0, 3.0], d[0]),), {"descending": True})]),
    None, variant="stable_nan", call=lambda L, *a, **k: L.sort(*a, **k)[0])
row("argsort", fixed(_uniq), lambda *a, **k: _sort_ref(*a, **k)[1], dtypes=NUM)
row("msort", fixed(_uniq), lambda a, dim=0, descending=False: np.sort(a, axis=0) if not descending else None,
    dtypes=NUM, call=lambda L, a, *r, **k: L.msort(a))
ROWS[-1].ref = lambda a, *r, **k: np.sort(a, axis=0)


def _topk_samples(dts: tuple, rng: np.random.Generator) -> list:
    a = rng.permutation(12).reshape(3, 4).astype(dts[0])
    return [((a, 2), {}), ((a, 1), {"dim": 0}), ((a, 3), {"largest": False}), ((a[0], 4), {}), ((a, 0), {})]


def _topk_ref(a: np.ndarray, k: int, dim: int = -1, largest: bool = True) -> Any:
    idx = np.argsort(-a if largest else a, axis=dim, kind="stable")
    idx = np.take(idx, np.arange(k), axis=dim)
    return np.take_along_axis(a, idx, dim), idx


row("topk", fixed(_topk_samples), _topk_ref, dtypes=NUM, call=lambda L, *a, **k: tuple(L.topk(*a, **k)))
row("kthvalue", fixed(lambda d, r: [((r.permutation(12).reshape(3, 4).astype(d[0]), 2), {}),
                                    ((r.permutation(12).reshape(3, 4).astype(d[0]), 1), {"dim": 0, "keepdim": True})]),
    lambda a, k, dim=-1, keepdim=False: (np.take(np.sort(a, axis=dim), [k - 1], axis=dim) if keepdim else
                                          np.take(np.sort(a, axis=dim), k - 1, axis=dim)),
    dtypes=NUM, call=lambda L, *a, **k: L.kthvalue(*a, **k)[0])
row("unique", fixed(lambda d, r: [((r.integers(0, 5, (10,)).astype(d[0]),), {}),
                                  ((r.integers(0, 4, (3, 4)).astype(d[0]),), {"return_counts": True}),
                                  ((r.integers(0, 4, (3, 4)).astype(d[0]),), {"return_inverse": True})]),
    lambda a, return_counts=False, return_inverse=False: (
        np.unique(a) if not (return_counts or return_inverse) else
        (np.unique(a), np.unique(a, return_counts=True)[1]) if return_counts else
        (np.unique(a), np.unique(a, return_inverse=True)[1].reshape(a.shape))),
    dtypes=NUM)
row("bincount", fixed(lambda d, r: [((r.integers(0, 5, (10,)),), {}), ((r.integers(0, 5, (10,)),), {"minlength": 8}),
                                    ((r.integers(0, 5, (6,)), r.random(6).astype(d[0])), {}),
                                    ((np.zeros(0, np.int64),), {})]),
    lambda a, w=None, minlength=0: np.bincount(a, w, minlength=minlength), dtypes=FLOAT, keeps_float32=False)
row("histc", gen([((20,),)], [((), {"bins": 4}), ((), {"bins": 5, "min": -1, "max": 1})]),
    lambda a, bins, min=None, max=None: np.histogram(  # noqa: A002
        a, bins=bins, range=(min, max) if min is not None else (a.min(), a.max()))[0].astype(a.dtype))

# ---------------------------------------------------------------------------
# shape ops
# ---------------------------------------------------------------------------
S23 = [((2, 3),)]
S234 = [((2, 3, 4),)]
row("reshape", gen(S234, [(((6, 4),), {}), (((4, -1),), {}), (((-1,),), {})]),
    lambda a, s: a.reshape(s), dtypes=ALL)
row("reshape", gen(S234, [((6, 4), {}), ((4, -1), {}), ((-1,), {}), ((2, 1, 3, 4), {})]),
    lambda a, *s: a.reshape(*s), dtypes=FLOAT, variant="method", call=meth("reshape"))
row("reshape", gen([((),), ((0, 3),)], [(((1, -1),), {}), (((-1,),), {})]), lambda a, s: a.reshape(s),
    variant="edge")
row("flatten", gen(S234 + [((),)], lambda s: [((), {})] + ([((1,), {}), ((0, 1), {}), ((), {"start_dim": -2})]
                                                           if s[0] else [])),
    lambda a, start_dim=0, end_dim=-1: a.reshape(
        a.shape[:start_dim % max(a.ndim, 1)] + (-1,) + a.shape[end_dim % max(a.ndim, 1) + 1:]) if a.ndim else
    a.reshape(1), dtypes=ALL)
row("ravel", gen(S234 + [((),)]), np.ravel, dtypes=ALL)
row("unflatten", gen(S234, [((1, (3, 1)), {}), ((-1, (2, -1)), {})]),
    lambda a, d, s: a.reshape(a.shape[:d % a.ndim] + tuple(s if -1 not in s else (2, a.shape[d] // 2)) +
                              a.shape[d % a.ndim + 1:]))
row("squeeze", gen([((2, 1, 3, 1),), ((1,),), ((),)], lambda s: [((), {})] + (
    [((1,), {}), ((0,), {}), (((1, 3),), {})] if len(s[0]) == 4 else [])),
    lambda a, d=None: np.squeeze(a, axis=tuple(x for x in ((d,) if isinstance(d, int) else d)
                                                if a.shape[x] == 1) if d is not None else None), dtypes=ALL)
row("unsqueeze", gen(S23 + [((),)], lambda s: [((0,), {}), ((-1,), {})] + ([((1,), {})] if s[0] else [])),
    lambda a, d: np.expand_dims(a, d), dtypes=ALL)
row("transpose", gen(S234, [((0, 2), {}), ((-1, 1), {})]), np.swapaxes, dtypes=ALL, aliases=("swapaxes", "swapdims"))
row("transpose", gen([((5,),), ((),)], [((0, -1), {})]), lambda a, d0, d1: a, variant="1d")
row("t", gen(S23 + [((4,),), ((),)]), lambda a: a.T, dtypes=ALL)
row("permute", gen(S234, [(((2, 0, 1),), {}), (((1, 2, 0),), {}), (((-1, 0, 1),), {})]),
    lambda a, p: np.transpose(a, p), dtypes=ALL)
row("permute", gen(S234, [((2, 0, 1), {}), ((-1, 0, 1), {})]), lambda a, *p: np.transpose(a, p),
    variant="method", call=meth("permute"))
row("movedim", gen(S234, [((0, 2), {}), (((0, 1), (2, 0)), {}), ((-1, 0), {})]), np.moveaxis, dtypes=ALL,
    aliases=("moveaxis",))
row("movedim", gen([((),)], [((0, 0), {}), ((-1, 0), {})]), lambda a, s, d: a, variant="0d")
row("expand", gen([((3, 1),), ((),), ((1,),)], lambda s: [((2, 3, 4), {})] + (
    [(((2, -1, 4),), {})] if s[0] == (3, 1) else [])), None, dtypes=ALL,
    call=lambda L, a, *s: a.expand(*s))
row("expand", gen([((3, 1),)], [((2, 3, 4), {}), ((-1, 5), {})]),
    lambda a, *s: np.broadcast_to(a, s if s[0] != -1 else (3, 5)), variant="ref", call=lambda L, a, *s: a.expand(*s))
row("broadcast_to", gen([((3, 1),), ((),)], [(((2, 3, 4),), {})]), np.broadcast_to, dtypes=ALL)
row("clone", gen(U_SHAPES), np.copy, dtypes=ALL)


def _seq_samples(shapes_list: list, extra: list) -> Callable:
    def make(dts: tuple, rng: np.random.Generator) -> list:
        out = []
        for shapes in shapes_list:
            ts = [make_array(s, dts[i % len(dts)], rng) for i, s in enumerate(shapes)]
            for args, kw in extra:
                out.append(((ts,) + args, kw))
        return out
    return make


row("cat", _seq_samples([[(2, 3), (1, 3)], [(2, 3), (2, 3), (2, 3)], [(0, 3), (2, 3)]], [((), {}), ((0,), {})]),
    lambda ts, dim=0: np.concatenate(ts, dim), dtypes=NUM + (("int64", "float32"),), aliases=("concat", "concatenate"))
row("cat", _seq_samples([[(2, 3), (2, 1)], [(2, 0), (2, 3)]], [((1,), {}), ((-1,), {})]),
    lambda ts, dim: np.concatenate(ts, dim), variant="dim1")
row("cat", _seq_samples([[(2, 3), (0,)]], [((), {})]), lambda ts: ts[0], variant="legacy_empty")
row("stack", _seq_samples([[(2, 3), (2, 3)], [(), ()], [(0,), (0,)]], [((), {}), ((-1,), {})]),
    lambda ts, dim=0: np.stack(ts, dim), dtypes=NUM + (("int64", "float32"),))
row("hstack", _seq_samples([[(2, 3), (2, 1)], [(3,), (2,)], [(), ()]], [((), {})]),
    lambda ts: np.hstack(ts), dtypes=NUM)
for _n in ("vstack", "row_stack"):
    row(_n, _seq_samples([[(2, 3), (1, 3)], [(3,), (3,)], [(), ()]], [((), {})]), lambda ts: np.vstack(ts), dtypes=NUM)
row("dstack", _seq_samples([[(2, 3), (2, 3)], [(3,), (3,)], [(2, 3, 1), (2, 3, 2)]], [((), {})]),
    lambda ts: np.dstack(ts))
row("column_stack", _seq_samples([[(3,), (3, 2)], [(), ()]], [((), {})]), lambda ts: np.column_stack(ts))
row("narrow", gen(S234, [((0, 0, 1), {}), ((2, 1, 2), {}), ((-1, -2, 2), {}), ((1, 3, 0), {})]),
    lambda a, d, s, n: np.take(a, range(s % a.shape[d], s % a.shape[d] + n), axis=d), dtypes=ALL)


def _listify(res: Any) -> list:
    return list(res)


row("split", gen([((5, 4),)], [((2,), {}), (([1, 4],), {}), ((3, 1), {}), ((5,), {})]),
    lambda a, s, dim=0: np.split(a, np.cumsum(s)[:-1] if isinstance(s, list) else range(s, a.shape[dim], s), axis=dim),
    call=lambda L, *a, **k: list(L.split(*a, **k)))
row("tensor_split", gen([((7, 3),)], [((3,), {}), (([1, 5],), {}), ((2, 1), {})]),
    lambda a, s, dim=0: np.array_split(a, s, axis=dim), call=lambda L, *a, **k: list(L.tensor_split(*a, **k)))
row("chunk", gen([((5, 4),), ((6,),)], [((3,), {}), ((2, -1), {}), ((1,), {})]),
    lambda a, c, dim=0: np.split(a, range(-(-a.shape[dim] // c), a.shape[dim], -(-a.shape[dim] // c)), axis=dim),
    call=lambda L, *a, **k: list(L.chunk(*a, **k)))
row("select", gen(S234, [((0, 1), {}), ((2, -1), {}), ((-2, 0), {})]),
    lambda a, d, i: np.take(a, i, axis=d), dtypes=ALL)
row("unbind", gen(S234 + [((0, 2),)], [((), {}), ((1,), {}), ((-1,), {})]),
    lambda a, dim=0: [np.take(a, i, axis=dim) for i in range(a.shape[dim])], call=lambda L, *a, **k: list(
        L.unbind(*a, **k)))
for _n, _f in (("tril", np.tril), ("triu", np.triu)):
    row(_n, gen([((3, 4),), ((2, 3, 3),), ((0, 2),)], [((), {}), ((1,), {}), ((-1,), {})]),
        lambda a, k=0, _f=_f: _f(a, k), dtypes=NUM + ("bool",))
row("flip", gen(S234 + [((),)], lambda s: [(((),), {})] if not s[0] else [(((0,),), {}), (((0, 2),), {}),
                                                                          (([-1],), {})]),
    lambda a, d: np.flip(a, d) if d != () else a, dtypes=ALL)
row("flip", gen([((),)], [(((0,),), {}), (((-1,),), {})]), lambda a, d: a, variant="0d")
row("fliplr", gen(S23 + S234), np.fliplr, dtypes=NUM)
row("flipud", gen(S23 + [((4,),)]), np.flipud, dtypes=NUM)
row("roll", gen(S234, [((1,), {}), ((-2, 1), {}), (((1, 2), (0, 2)), {})]),
    lambda a, s, d=None: np.roll(a, s, d), dtypes=NUM)
row("rot90", gen([((3, 4),), ((2, 3, 4),)], [((), {}), ((2,), {}), ((-1, (1, 0)), {}), ((3,), {})]),
    lambda a, k=1, dims=(0, 1): np.rot90(a, k, dims))
row("repeat", gen([((2, 3),), ((),), ((3,),)], [((2, 1, 2), {}), (((1, 2, 3),), {})]),
    lambda a, *r: np.tile(a, r[0] if isinstance(r[0], tuple) else r), dtypes=ALL, call=lambda L, a, *r: a.repeat(*r))
row("tile", gen([((2, 3),), ((3,),)], [(((2,),), {}), (((2, 1, 2),), {})]), np.tile, dtypes=NUM)
row("repeat_interleave", gen([((2, 3),), ((4,),)], [((2,), {}), ((2,), {"dim": 0}), ((3,), {"dim": -1})]),
    lambda a, r, dim=None: np.repeat(a, r, axis=dim), dtypes=NUM)
row("repeat_interleave", fixed(lambda d, r: [((np.arange(6).reshape(2, 3).astype(d[0]), np.array([1, 2])),
                                              {"dim": 0}), ((np.array([2, 0, 1]),), {})]),
    lambda a, rep=None, dim=None: np.repeat(a, rep, axis=dim) if rep is not None else np.repeat(
        np.arange(len(a)), a), variant="tensor")
row("diff", gen([((5,),), ((3, 4),), ((0,),)], lambda s: [((), {}), ((), {"n": 2})] + (
    [((), {"dim": 0}), ((1, 0), {})] if len(s[0]) == 2 else [])),
    lambda a, n=1, dim=-1: np.diff(a, n, axis=dim), dtypes=NUM + ("bool",))
row("diff", fixed(lambda d, r: [((make_array((3, 4), d[0], r),), {"prepend": make_array((3, 1), d[0], r),
                                                                   "append": make_array((3, 2), d[0], r)})]),
    lambda a, prepend, append: np.diff(a, prepend=prepend, append=append), dtypes=NUM, variant="pend")
row("diagonal", gen([((3, 4),), ((2, 3, 4),)], lambda s: [((), {}), ((1,), {}), ((-1,), {})] + (
    [((0, 1, 2), {}), ((-1, -1, 0), {})] if len(s[0]) == 3 else [])),
    lambda a, offset=0, dim1=0, dim2=1: np.diagonal(a, offset, dim1, dim2), dtypes=NUM)
row("diag", gen([((3,),), ((3, 4),)], [((), {}), ((1,), {}), ((-2,), {})]), np.diag, dtypes=NUM)
def _diag_embed_ref(a: np.ndarray, offset: int = 0, dim1: int = -2, dim2: int = -1) -> np.ndarray:
    k = a.shape[-1]
    n = k + abs(offset)
    out = np.zeros(a.shape[:-1] + (n, n), a.dtype)
    i = np.arange(k)
    out[..., i + max(-offset, 0), i + max(offset, 0)] = a
    return np.moveaxis(out, (-2, -1), (dim1, dim2))


row("diag_embed", gen([((3,),), ((2, 3),)], lambda s: [((), {}), ((1,), {}), ((-2,), {})] + (
    [((1, 0, 2), {}), ((0, -1, 0), {})] if len(s[0]) == 2 else [])), _diag_embed_ref, dtypes=NUM + ("bool",))


def _mesh(dts: tuple, rng: np.random.Generator) -> list:
    a, b, c = make_array((3,), dts[0], rng), make_array((4,), dts[0], rng), make_array((2,), dts[0], rng)
    return [((a, b), {}), ((a, b), {"indexing": "ij"}), ((a, b), {"indexing": "xy"}), ((a, b, c), {"indexing": "xy"}),
            ((a,), {})]


row("meshgrid", fixed(_mesh), lambda *ts, indexing="ij": np.meshgrid(*ts, indexing=indexing), dtypes=NUM,
    call=lambda L, *a, **k: list(L.meshgrid(*a, **k)))
row("atleast_1d", gen([((),), ((3,),), ((2, 3),)]), np.atleast_1d, dtypes=NUM)
row("atleast_2d", gen([((),), ((3,),), ((2, 3),)]), np.atleast_2d, dtypes=NUM)

# ---------------------------------------------------------------------------
# indexing
# ---------------------------------------------------------------------------


def _gather_samples(dts: tuple, rng: np.random.Generator) -> list:
    a = make_array((3, 4), dts[0], rng)
    return [((a, 1, rng.integers(0, 4, (3, 2))), {}), ((a, 0, rng.integers(0, 3, (2, 4))), {}),
            ((a, -1, rng.integers(0, 4, (2, 3))), {}), ((a, 1, np.zeros((3, 0), np.int64)), {}),
            ((make_array((5,), dts[0], rng), 0, np.array([4, 0, 0])), {})]


def _gather_ref(a: np.ndarray, d: int, i: np.ndarray) -> np.ndarray:
    d = d % a.ndim
    out = np.empty(i.shape, a.dtype)
    for pos in np.ndindex(*i.shape):
        src = list(pos)
        src[d] = i[pos]
        out[pos] = a[tuple(src)]
    return out


row("gather", fixed(_gather_samples), _gather_ref, dtypes=ALL)


def _scatter_ref(a: np.ndarray, d: int, i: np.ndarray, src: Any, reduce: str | None = None,
                 add: bool = False) -> np.ndarray:
    out = a.copy()
    d = d % a.ndim
    for pos in np.ndindex(*i.shape):
        dst = list(pos)
        dst[d] = i[pos]
        v = src[pos] if isinstance(src, np.ndarray) else src
        if add or reduce == "add":
            out[tuple(dst)] += v
        elif reduce == "multiply":
            out[tuple(dst)] *= v
        else:
            out[tuple(dst)] = v
    return out


def _scatter_samples(dts: tuple, rng: np.random.Generator) -> list:
    a = make_array((3, 4), dts[0], rng)
    src = make_array((3, 4), dts[0], rng)
    uniq = np.stack([rng.permutation(4)[:2] for _ in range(3)])  # distinct targets per row
    return [((a, 1, uniq, src), {}), ((a, 0, np.array([[2, 0, 1, 2]]), src), {}),
            ((a, 1, uniq[:, :1], src[:, :1]), {})]


row("scatter", fixed(_scatter_samples), _scatter_ref, dtypes=NUM)
row("scatter", fixed(lambda d, r: [((make_array((3, 4), d[0], r), 1, np.array([[0, 1], [2, 3], [0, 0]])),
                                    {"value": 2})]),
    lambda a, d, i, value: _scatter_ref(a, d, i, value), dtypes=NUM, variant="value")
row("scatter", fixed(lambda d, r: [((make_array((3, 4), d[0], r), 1, np.array([[0, 0], [2, 3], [1, 1]]),
                                     make_array((3, 2), d[0], r)), {"reduce": "add"}),
                                   ((make_array((3, 4), d[0], r), 1, np.array([[0, 0], [2, 3], [1, 1]]),
                                     make_array((3, 2), d[0], r)), {"reduce": "multiply"})]),
    _scatter_ref, dtypes=NUM, variant="reduce")
row("scatter_add", fixed(lambda d, r: [((make_array((3, 4), d[0], r), 1, np.array([[0, 0], [2, 3], [1, 1]]),
                                         make_array((3, 2), d[0], r)), {}),
                                       ((make_array((5,), d[0], r), 0, np.array([1, 1, 1, 4]),
                                         make_array((4,), d[0], r)), {})]),
    lambda a, d, i, s: _scatter_ref(a, d, i, s, add=True), dtypes=NUM)


def _sred_samples(dts: tuple, rng: np.random.Generator) -> list:
    out = []
    for red in ("sum", "prod", "mean", "amax", "amin"):
        for inc in (True, False):
            out.append(((make_array((5,), dts[0], rng), 0, np.array([0, 1, 0, 1, 2, 2]), make_array((6,), dts[0], rng),
                         red), {"include_self": inc}))
    return out


row("scatter_reduce", fixed(_sred_samples), None, dtypes=NUM)
row("index_select", fixed(lambda d, r: [((make_array((3, 4), d[0], r), 1, np.array([3, 0, 0])), {}),
                                        ((make_array((3, 4), d[0], r), 0, np.array([], np.int64)), {}),
                                        ((make_array((5,), d[0], r), -1, np.array([1])), {})]),
    lambda a, d, i: np.take(a, i, axis=d), dtypes=ALL)
row("index_add", fixed(lambda d, r: [((make_array((3, 4), d[0], r), 1, np.array([3, 0, 3]),
                                       make_array((3, 3), d[0], r)), {}),
                                     ((make_array((3, 4), d[0], r), 0, np.array([1]),
                                       make_array((1, 4), d[0], r)), {"alpha": 2})]),
    None, dtypes=NUM)
row("index_fill", fixed(lambda d, r: [((make_array((3, 4), d[0], r), 1, np.array([3, 0]), 7), {})]),
    None, dtypes=NUM)
row("index_copy", fixed(lambda d, r: [((make_array((3, 4), d[0], r), 1, np.array([3, 0]),
                                        make_array((3, 2), d[0], r)), {})]), None, dtypes=NUM)
row("index_put", fixed(lambda d, r: [((make_array((3, 4), d[0], r), (np.array([0, 2]), np.array([1, 3])),
                                       make_array((2,), d[0], r)), {}),
                                     ((make_array((3, 4), d[0], r), (np.array([0, 0]), np.array([1, 1])),
                                       make_array((2,), d[0], r)), {"accumulate": True}),
                                     ((make_array((3, 4), d[0], r), (np.array([1]),), make_array((), d[0], r)), {})]),
    None, dtypes=NUM, call=lambda L, a, idx, v, **k: L.index_put(a, tuple(idx), v, **k))


def _mask_samples(dts: tuple, rng: np.random.Generator) -> list:
    a = make_array((2, 3), dts[0], rng)
    return [((a, rng.random((2, 3)) < 0.5), {}), ((a, rng.random((3,)) < 0.5), {}),
            ((make_array((), dts[0], rng), np.array(True)), {})]


row("masked_fill", fixed(lambda d, r: [(s[0] + (3,), {}) for s in _mask_samples(d, r)]),
    lambda a, m, v: np.where(m, np.asarray(v, a.dtype), a), dtypes=ALL[:-3])
row("masked_fill", fixed(lambda d, r: [(s[0] + (np.array(2.5, d[0]),), {}) for s in _mask_samples(d, r)]),
    lambda a, m, v: np.where(m, v, a), variant="tensor_value")
row("masked_select", fixed(_mask_samples), lambda a, m: np.broadcast_to(a, np.broadcast_shapes(a.shape, m.shape))[
    np.broadcast_to(m, np.broadcast_shapes(a.shape, m.shape))], dtypes=ALL[:-3])
row("masked_scatter", fixed(lambda d, r: [((make_array((2, 3), d[0], r), np.array([[1, 0, 1], [0, 0, 1]]) > 0,
                                            make_array((2, 3), d[0], r)), {})]),
    None, dtypes=NUM)
row("nonzero", gen(R_SHAPES + [((0, 2),)]), lambda a: np.argwhere(a), dtypes=("bool", "float32", "int64"))
row("nonzero", gen(R_SHAPES), lambda a: list(np.nonzero(a)) if a.ndim else [np.nonzero(a.reshape(1))[0]],
    dtypes=("bool", "int64"), variant="as_tuple", call=lambda L, a: list(L.nonzero(a, as_tuple=True)))
row("argwhere", gen(R_SHAPES), np.argwhere, dtypes=("bool", "int64"))
row("take", fixed(lambda d, r: [((make_array((3, 4), d[0], r), np.array([[0, 11], [5, -1]])), {}),
                                ((make_array((5,), d[0], r), np.array(2)), {})]),
    lambda a, i: np.take(a, i), dtypes=NUM)
row("take_along_dim", fixed(lambda d, r: [((make_array((3, 4), d[0], r), np.argsort(r.random((3, 4)), 1)),
                                           {"dim": 1}),
                                          ((make_array((3, 4), d[0], r), np.array([[0, 2, 1, 2]])), {"dim": 0}),
                                          ((make_array((3, 4), d[0], r), np.array([0, 5])), {})]),
    lambda a, i, dim=None: np.take_along_axis(a, i, dim) if dim is not None else np.take(a, i), dtypes=NUM)

# ---------------------------------------------------------------------------
# linear algebra
# ---------------------------------------------------------------------------
MM_TOL = {"rtol": 1e-4, "atol": 1e-5}
row("mm", gen([((2, 3), (3, 4)), ((0, 3), (3, 2)), ((2, 0), (0, 3))]), np.matmul,
    dtypes=NUM + ("float16", "bfloat16"), **MM_TOL)
row("mv", gen([((2, 3), (3,)), ((0, 3), (3,))]), np.matmul, dtypes=NUM, **MM_TOL)
row("dot", gen([((3,), (3,)), ((0,), (0,))]), np.dot, dtypes=NUM, **MM_TOL)
row("inner", gen([((3,), (3,)), ((2, 3), (4, 3)), ((2, 3), (3,)), ((2, 3), (4, 5, 3)), ((), (2, 3))]), np.inner,
    dtypes=NUM, **MM_TOL)
row("vdot", gen([((3,), (3,))]), np.vdot, dtypes=NUM, **MM_TOL)
row("vdot", fixed(lambda d, r: [((make_array((3,), "complex64", r), make_array((3,), "complex64", r)), {})]),
    np.vdot, dtypes=("complex64",), variant="complex", **MM_TOL)
row("bmm", gen([((2, 3, 4), (2, 4, 5)), ((0, 3, 4), (0, 4, 2))]), np.matmul, dtypes=NUM + ("bfloat16",), **MM_TOL)
MATMUL_SHAPES = [((3,), (3,)), ((2, 3), (3,)), ((3,), (3, 4)), ((2, 3), (3, 4)), ((5, 2, 3), (3,)),
                 ((3,), (5, 3, 4)), ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                 ((5, 1, 2, 3), (4, 3, 2)), ((1, 2, 3), (6, 3, 1)), ((0, 2, 3), (3, 4)), ((2, 0), (0, 3))]
row("matmul", gen(MATMUL_SHAPES), np.matmul, dtypes=NUM + ("float16", "bfloat16"), **MM_TOL)
row("matmul", gen(MATMUL_SHAPES[:6]), np.matmul, dtypes=FLOAT, variant="operator",
    call=lambda L, a, b: a @ b, **MM_TOL)
for _n in ("outer", "ger"):
    row(_n, gen([((3,), (4,)), ((0,), (2,))]), np.outer, dtypes=NUM)
row("addmm", gen([((2, 4), (2, 3), (3, 4)), ((4,), (2, 3), (3, 4))], [((), {}), ((), {"beta": 0.5, "alpha": 2})]),
    lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b), **MM_TOL)
row("addmv", gen([((2,), (2, 3), (3,))], [((), {}), ((), {"beta": 0.5, "alpha": 2})]),
    lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b), **MM_TOL)
row("baddbmm", gen([((2, 3, 5), (2, 3, 4), (2, 4, 5)), ((3, 5), (2, 3, 4), (2, 4, 5))],
                   [((), {}), ((), {"beta": 0.5, "alpha": 2})]),
    lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b), **MM_TOL)
row("addbmm", gen([((3, 5), (2, 3, 4), (2, 4, 5))], [((), {}), ((), {"beta": 0.5, "alpha": 2})]),
    lambda c, a, b, beta=1, alpha=1: beta * c + alpha * (a @ b).sum(0), **MM_TOL)


def _einsum_samples(dts: tuple, rng: np.random.Generator) -> list:
    m = lambda *s: make_array(s, dts[0], rng)  # noqa: E731
    return [(("ij,jk->ik", m(2, 3), m(3, 4)), {}), (("ii->i", m(3, 3)), {}), (("ii", m(3, 3)), {}),
            (("bij,bjk->bik", m(2, 3, 4), m(2, 4, 5)), {}), (("i,j->ij", m(3), m(4)), {}),
            (("...ij->...ji", m(2, 3, 4)), {}), (("ij->", m(2, 3)), {}), (("ij,ij->i", m(2, 3), m(2, 3)), {}),
            (("ij,jk,kl->il", m(2, 3), m(3, 4), m(4, 2)), {}), (("i,i", m(3), m(3)), {}),
            (("ba", m(2, 3)), {}), (("b i , i j -> b j", m(2, 3), m(3, 2)), {})]


row("einsum", fixed(_einsum_samples), lambda eq, *ops: np.einsum(eq.replace(" ", ""), *ops), dtypes=NUM, **MM_TOL)
row("einsum", fixed(lambda d, r: [(("ij,jk->ik", [make_array((2, 3), d[0], r), make_array((3, 2), d[0], r)]), {})]),
    lambda eq, ops: np.einsum(eq, *ops), variant="list", **MM_TOL)
row("tensordot", gen([((2, 3, 4), (3, 4, 5)), ((2, 3), (3, 2))], lambda s: [((), {})] if s[0] == (2, 3, 4) else
                     [((), {"dims": 1}), ((), {"dims": ([0], [1])}), ((), {"dims": 0})]),
    lambda a, b, dims=2: np.tensordot(a, b, dims), dtypes=NUM, **MM_TOL)
row("trace", gen([((3, 3),), ((2, 4),)]), np.trace, dtypes=NUM)
row("kron", gen([((2, 3), (2, 2)), ((2,), (3,)), ((2, 1, 2), (3, 2))]), np.kron, dtypes=NUM)
row("cdist", gen([((3, 2), (4, 2)), ((2, 3, 4), (2, 5, 4))], [((), {}), ((1.0,), {})]),
    lambda a, b, p=2.0: _norm_ref(a[..., :, None, :] - b[..., None, :, :], p, dim=-1), **MM_TOL)
row("cross", gen([((4, 3), (4, 3)), ((3, 2), (3, 2))], lambda s: [((), {"dim": -1})] if s[0] == (4, 3) else
                 [((), {"dim": 0})]), lambda a, b, dim: np.cross(a, b, axis=dim), dtypes=NUM)
row("linalg.cross", gen([((4, 3), (4, 3)), ((1, 3), (2, 3))]), lambda a, b: np.cross(a, b), dtypes=NUM)


def _wellcond(shape: tuple, dt: str, rng: np.random.Generator) -> np.ndarray:
    n = shape[-1]
    return (rng.standard_normal(shape) + 3 * n * np.eye(n)).astype(dt)


def _sq_samples(dts: tuple, rng: np.random.Generator) -> list:
    return [((_wellcond(s, dts[0], rng),), {}) for s in ((3, 3), (2, 4, 4), (1, 1), (0, 2, 2))]


LA_TOL = {"rtol": 1e-4, "atol": 1e-4}
for _n in ("inverse", "linalg.inv"):
    row(_n, fixed(_sq_samples), np.linalg.inv, **LA_TOL)
for _n in ("det", "linalg.det"):
    row(_n, fixed(_sq_samples), np.linalg.det, **LA_TOL)
row("logdet", fixed(lambda d, r: [((_wellcond((3, 3), d[0], r) @ _wellcond((3, 3), d[0], r).T,), {})]),
    lambda a: np.log(np.linalg.det(a)), **LA_TOL)
row("matrix_power", fixed(lambda d, r: [((_wellcond((3, 3), d[0], r), k), {}) for k in (0, 1, 3, -2)]),
    np.linalg.matrix_power, **LA_TOL)
row("linalg.solve", fixed(lambda d, r: [((_wellcond((3, 3), d[0], r), make_array((3,), d[0], r)), {}),
                                        ((_wellcond((3, 3), d[0], r), make_array((3, 2), d[0], r)), {}),
                                        ((_wellcond((2, 3, 3), d[0], r), make_array((2, 3, 4), d[0], r)), {})]),
    lambda a, b: np.linalg.solve(a, b[..., None])[..., 0] if b.ndim == 1 else np.linalg.solve(a, b), **LA_TOL)

# ---------------------------------------------------------------------------
# Python operators (not registry names, but the same ops through dunders)
# ---------------------------------------------------------------------------
OPERATORS = {"__add__": np.add, "__sub__": np.subtract, "__mul__": np.multiply, "__truediv__": np.true_divide,
             "__floordiv__": np.floor_divide, "__mod__": np.remainder, "__pow__": np.power,
             "__lt__": np.less, "__le__": np.less_equal, "__gt__": np.greater, "__ge__": np.greater_equal,
             "__eq__": np.equal, "__ne__": np.not_equal}
for _op, _f in OPERATORS.items():
    _nz = _op in ("__truediv__", "__floordiv__", "__mod__")
    row(_op, gen(B_SHAPES[:5], nonzero=_nz, domain=(0.5, 3) if _op == "__pow__" else None),
        lambda a, b, _f=_f: _f(a, b), dtypes=FLOAT + ("int64", ("int64", "float32")) if _op != "__pow__" else FLOAT,
        call=lambda L, a, b, _op=_op: getattr(a, _op)(b))
    rop = "__r" + _op[2:]
    if rop in ("__rlt__", "__rle__", "__rgt__", "__rge__", "__req__", "__rne__"):
        continue
    row(rop, gen(U_SHAPES[:4], [((3,), {}), ((1.5,), {})], nonzero=True, domain=(0.5, 3)),
        lambda a, s, _f=_f: _f(np.asarray(s, a.dtype if a.dtype.kind == "f" or isinstance(s, int) else np.float32),
                                a),
        dtypes=("float32", "int64") if rop != "__rpow__" else FLOAT,
        call=lambda L, a, s, _op=_op: eval(f"s {_OPSYM[_op]} a"))  # noqa: S307 - fixed operator symbols
_OPSYM = {"__add__": "+", "__sub__": "-", "__mul__": "*", "__truediv__": "/", "__floordiv__": "//", "__mod__": "%",
          "__pow__": "**"}
row("__and__", gen(B_SHAPES[:4]), np.bitwise_and, dtypes=("bool", "int64"), call=lambda L, a, b: a & b)
row("__or__", gen(B_SHAPES[:4]), np.bitwise_or, dtypes=("bool", "int64"), call=lambda L, a, b: a | b)
row("__xor__", gen(B_SHAPES[:4]), np.bitwise_xor, dtypes=("bool", "int64"), call=lambda L, a, b: a ^ b)
row("__invert__", gen(U_SHAPES), np.invert, dtypes=("bool", "int64"), call=lambda L, a: ~a)
row("__neg__", gen(U_SHAPES), np.negative, dtypes=NUM, call=lambda L, a: -a)
row("__abs__", gen(U_SHAPES), np.abs, dtypes=NUM, call=lambda L, a: abs(a))


def _inplace(name: str) -> Callable:
    def call(L: Any, a: Any, *args: Any, **kw: Any) -> Any:
        c = a.clone()
        r = getattr(c, name)(*args, **kw)
        assert r is c, f"{name} must return self"
        return c
    return call


for _n, _f in (("add_", np.add), ("sub_", np.subtract), ("mul_", np.multiply), ("div_", np.true_divide)):
    row(_n, gen([((2, 3), (2, 3)), ((2, 3), (3,)), ((2, 3), ())], nonzero=True), _f, call=_inplace(_n))
row("clamp_", gen([((2, 3),)], [((-0.5, 0.5), {})]), _clamp_ref, call=_inplace("clamp_"))
row("fill_", gen([((2, 3),)], [((1.5,), {})]), lambda a, v: np.full_like(a, v), dtypes=NUM, call=_inplace("fill_"))
row("zero_", gen([((2, 3),)]), np.zeros_like, dtypes=NUM, call=_inplace("zero_"))
row("copy_", gen([((2, 3), (3,)), ((2, 3), (2, 3))]), lambda a, b: np.broadcast_to(b, a.shape).astype(a.dtype),
    dtypes=NUM + (("float32", "int64"), ("int64", "float64")), call=_inplace("copy_"))

# ---------------------------------------------------------------------------
# special functions (ndgrad/ops/special.py; wide value ranges against PyTorch in tests/test_special.py)
# ---------------------------------------------------------------------------
_lgamma_ref = np.vectorize(math.lgamma, otypes=[np.float64])
_erfc_ref = np.vectorize(math.erfc, otypes=[np.float64])
SPECIAL_TOL = {"rtol": 1e-5, "atol": 1e-6}
row("lgamma", gen(U_SHAPES, domain=(0.3, 6)), _float_in(_lgamma_ref), dtypes=FLOAT + ("int64",))
row("lgamma", fixed(lambda d, r: [((np.array([-0.5, -1.5, -2.7, -3.2, -10.6], d[0]),), {})]), _lgamma_ref,
    variant="negative")
row("digamma", gen(U_SHAPES, domain=(0.3, 6)), None, dtypes=FLOAT + ("int64",))
row("digamma", fixed(lambda d, r: [((np.array([-0.5, -1.5, -2.7, -3.2, -10.6], d[0]),), {})]), None,
    variant="negative")
row("polygamma", gen([((2, 3),), ((),)], [((1,), {}), ((2,), {}), ((0,), {}), ((4,), {})], domain=(0.3, 6)), None,
    call=lambda L, a, n: L.polygamma(n, a))
row("polygamma", gen([((2, 3),)], [((1,), {}), ((3,), {})], domain=(0.3, 6)), None, variant="method",
    call=lambda L, a, n: a.polygamma(n))
row("mvlgamma", gen([((2, 3),), ((),)], [((1,), {}), ((3,), {})], domain=(1.5, 6)),
    lambda a, p: sum(_lgamma_ref(a - j / 2) for j in range(p)) + p * (p - 1) / 4 * math.log(math.pi))
row("i0", gen(U_SHAPES), _float_in(np.i0), dtypes=FLOAT + ("int64",))
row("special.i0e", gen(U_SHAPES), lambda a: np.exp(-np.abs(a)) * np.i0(a))
for _n in ("special.i1", "special.i1e", "special.erfcx", "special.log_ndtr", "special.bessel_j0",
           "special.bessel_j1"):
    row(_n, gen(U_SHAPES, domain=(-4, 4)), None, dtypes=FLOAT + ("int64",))
row("special.ndtr", gen(U_SHAPES), lambda a: 0.5 * _erfc_ref(-a / math.sqrt(2)))
row("special.ndtri", gen(U_SHAPES, domain=(0.02, 0.98)), None)
row("special.entr", gen(U_SHAPES, domain=(0.05, 3)), lambda a: -a * np.log(a))
row("special.xlog1py", gen(B_SHAPES, domain=(0.1, 3)), lambda a, b: a * np.log1p(b))
row("special.xlog1py", fixed(lambda d, r: [((np.array([0.0, 1.0, 0.0], d[0]), np.array([-1.0, 2.0, 3.0], d[0])), {})]),
    lambda a, b: np.where(a == 0, 0, a * np.log1p(b)), variant="zeros")
row("special.zeta", gen([((2, 3),), ((),)], [((2.5,), {}), ((3,), {})], domain=(0.3, 4)), None,
    call=lambda L, q, s: L.special.zeta(s, q))
row("special.zeta", gen([((2, 3), (2, 3)), ((3,), (2, 1))], domain=(1.5, 4)), None, variant="int_x",
    dtypes=(("int64", "float32"), ("int64", "float64")))
row("xlogy", gen(B_SHAPES[:4], domain=(0, 5)),
    lambda a, b: np.where(a == 0, 0, a.astype(np.float32) * np.log(b.astype(np.float32))),
    dtypes=("uint8", "int8", "int64", "bool", ("uint8", "float32"), ("int16", "bool")), variant="ints")

# ---------------------------------------------------------------------------
# issue 8 functions: counting and searching, construction, small elementwise, statistics
# ---------------------------------------------------------------------------
row("unique", fixed(lambda d, r: [((r.integers(0, 3, (5, 2)).astype(d[0]),), {"dim": 0, "return_inverse": True,
                                                                                "return_counts": True}),
                                  ((r.integers(0, 3, (2, 6)).astype(d[0]),), {"dim": 1})]),
    lambda a, dim, return_inverse=False, return_counts=False: (
        np.unique(a, axis=dim) if not return_counts else
        (np.unique(a, axis=dim), np.unique(a, axis=dim, return_inverse=True)[1].reshape(-1),
         np.unique(a, axis=dim, return_counts=True)[1])),
    dtypes=NUM, variant="dim")


def _runs(a: np.ndarray) -> tuple:
    change = np.concatenate([[True], a[1:] != a[:-1]])[:a.size]
    return a[change], np.cumsum(change) - 1, np.diff(np.append(np.flatnonzero(change), a.size))


row("unique_consecutive", fixed(lambda d, r: [((np.array([1, 1, 2, 2, 3, 1, 1, 2]).astype(d[0]),),
                                               {"return_inverse": True, "return_counts": True}),
                                              ((np.array([3, 3, 3]).astype(d[0]),), {}),
                                              ((np.zeros(0, d[0]),), {"return_counts": True})]),
    lambda a, return_inverse=False, return_counts=False: (
        _runs(a)[0] if not return_counts else (_runs(a)[0],) + ((_runs(a)[1],) if return_inverse else ()) +
        (_runs(a)[2],)), dtypes=NUM)
row("unique_consecutive", fixed(lambda d, r: [((np.array([[1, 1], [1, 1], [2, 3], [1, 1]]).astype(d[0]),),
                                               {"dim": 0, "return_inverse": True, "return_counts": True}),
                                              ((np.array([[1, 1, 2], [1, 1, 2]]).astype(d[0]),), {"dim": 1})]),
    None, dtypes=NUM, variant="dim")
_BOUNDS = np.array([1, 3, 5, 7, 9])
row("bucketize", fixed(lambda d, r: [((np.array([[3, 6, 9], [0, 10, 5]]).astype(d[0]), _BOUNDS.astype(d[0])), {}),
                                     ((np.array([3, 6, 9]).astype(d[0]), _BOUNDS.astype(d[0])), {"right": True}),
                                     ((np.array([3, 6]).astype(d[0]), _BOUNDS.astype(d[0])), {"out_int32": True})]),
    lambda v, b, right=False, out_int32=False: np.searchsorted(b, v, side="right" if right else "left").astype(
        np.int32 if out_int32 else np.int64), dtypes=NUM)
_SEQ2 = np.array([[1, 3, 5, 7, 9], [2, 4, 6, 8, 10]])
row("searchsorted", fixed(lambda d, r: [((_SEQ2.astype(d[0]), np.array([[3, 6, 9], [3, 6, 9]]).astype(d[0])), {}),
                                        ((_SEQ2.astype(d[0]), np.array([[3, 6, 9], [3, 6, 9]]).astype(d[0])),
                                         {"right": True}),
                                        ((_BOUNDS.astype(d[0]), np.array([0, 5, 11]).astype(d[0])), {"side": "right"}),
                                        ((np.array([5, 1, 3]).astype(d[0]), np.array([2, 4]).astype(d[0])),
                                         {"sorter": np.array([1, 2, 0])})]),
    None, dtypes=NUM)
row("searchsorted", fixed(lambda d, r: [((_BOUNDS.astype(d[0]), 5), {}), ((_BOUNDS.astype(d[0]), 5), {"right": True})]),
    lambda b, v, right=False: np.asarray(np.searchsorted(b, v, side="right" if right else "left")), dtypes=NUM,
    variant="scalar")
row("histogram", fixed(lambda d, r: [((make_array((20,), d[0], r),), {"bins": 4}),
                                     ((make_array((20,), d[0], r),), {"bins": 5, "range": (-1.0, 1.0)}),
                                     ((make_array((3, 4), d[0], r), np.array([-1.0, 0.0, 0.5, 2.0], d[0])),
                                      {"weight": make_array((3, 4), d[0], r), "density": True})]),
    None)
row("isin", fixed(lambda d, r: [((np.array([1, 2, 3, 4]).astype(d[0]), np.array([2, 4]).astype(d[0])), {}),
                                ((np.array([[1, 2], [3, 5]]).astype(d[0]), np.array([2, 4]).astype(d[0])),
                                 {"invert": True})]),
    lambda a, b, invert=False: np.isin(a, b, invert=invert), dtypes=NUM)
row("cartesian_prod", gen([((2,), (3,)), ((2,), (2,), (2,)), ((3,),)]),
    lambda *ts: np.stack([g.reshape(-1) for g in np.meshgrid(*ts, indexing="ij")], 1) if len(ts) > 1 else ts[0],
    dtypes=NUM)
row("combinations", gen([((4,),), ((3,),)], [((), {}), ((3,), {}), ((), {"with_replacement": True}), ((0,), {})]),
    None, dtypes=NUM)
row("block_diag", gen([((2, 3), (1, 2)), ((2, 2), (3,), ()), ((2, 0), (1, 1))]), None,
    dtypes=NUM + (("int64", "float32"),))
for _n, _f in (("tril_indices", np.tril_indices), ("triu_indices", np.triu_indices)):
    row(_n, fixed(((3, 3), {}), ((3, 4, 1), {}), ((4, 3, -1), {}), ((0, 3), {}), ((3, 3), {"dtype": "int32"})),
        None, dtypes=("int64",),
        call=lambda L, *a, _n=_n, **k: getattr(L, _n)(*a, **{kk: getattr(L, v) for kk, v in k.items()}))
row("vander", gen([((3,),), ((4,),)], [((), {}), ((), {"N": 2, "increasing": True}), ((), {"N": 0})]),
    lambda x, N=None, increasing=False: np.vander(x, N, increasing), dtypes=FLOAT + ("int64",))
row("linalg.vander", gen([((3,),), ((2, 4),)], [((), {}), ((), {"N": 3})]),
    lambda x, N=None: np.stack([x ** k for k in range(x.shape[-1] if N is None else N)], -1), dtypes=FLOAT)
for _n, _d in (("hsplit", 1), ("vsplit", 0), ("dsplit", 2)):
    row(_n, gen([((2, 4, 6),)], [((2,), {}), (([1, 3],), {})]), lambda a, s, _d=_d: np.array_split(a, s, axis=_d),
        dtypes=NUM, call=lambda L, a, s, _n=_n: list(getattr(L, _n)(a, s)))
row("hsplit", gen([((6,),)], [((3,), {})]), lambda a, s: np.array_split(a, s), dtypes=FLOAT, variant="1d",
    call=lambda L, a, s: list(L.hsplit(a, s)))
row("narrow_copy", gen([((3, 4),)], [((1, 1, 2), {}), ((0, -2, 2), {})]),
    lambda a, d, st, n: np.take(a, range(st % a.shape[d], st % a.shape[d] + n), axis=d), dtypes=NUM)
row("angle", gen(U_SHAPES, special=True),
    _float_in(lambda a: np.where(np.isnan(a), np.nan, np.where(a < 0, np.pi, 0.0))), dtypes=FLOAT + ("int64",))
row("angle", fixed(_complex_sample), np.angle, dtypes=("complex64",), variant="complex")
row("ldexp", gen(B_SHAPES[:5], domain=(-3, 3)), lambda a, b: (a.astype(np.float32) if a.dtype.kind == "i" else a) *
    np.exp2(b).astype(a.dtype if a.dtype.kind == "f" else np.float32),
    dtypes=(("float32", "int64"), ("float64", "int32"), ("int64", "int64"), ("float32", "float32")))
row("frexp", gen(U_SHAPES, special=True), np.frexp, dtypes=FLOAT + ("float16",))
row("nextafter", gen(B_SHAPES), np.nextafter)
row("heaviside", gen(B_SHAPES), np.heaviside, dtypes=FLOAT + ("int64",))
row("gcd", gen(B_SHAPES), np.gcd, dtypes=INT + ("uint8", ("int16", "int64")))
row("lcm", gen(B_SHAPES), np.lcm, dtypes=INT + ("uint8",))
row("logaddexp2", gen(B_SHAPES), np.logaddexp2)


def _lower_nanmedian(a: np.ndarray) -> Any:
    v = np.sort(a[~np.isnan(a)].reshape(-1))
    return np.array(np.nan if v.size == 0 else v[(v.size - 1) // 2], a.dtype)


row("nanmedian", gen(U_SHAPES[1:] + [((2, 5),)], special=True), _lower_nanmedian)
# (the index PyTorch reports for an all-NaN slice depends on its selection algorithm: not compared)
row("nanmedian", fixed(lambda d, r: [((np.array([[1.0, np.nan, 3.0, 2.0], [4.0, 5.0, np.nan, np.nan],
                                                 [np.nan, np.nan, 7.0, np.nan]], d[0]), 1), {}),
                                     ((np.array([[1.0, np.nan, 3.0], [2.0, 7.0, 5.0]], d[0]), 0), {"keepdim": True}),
                                     ((r.permutation(12).reshape(3, 4).astype(d[0]), 1), {})]),
    None, variant="dim")
row("cov", gen([((3, 5),), ((4,),), ((2, 6),)], [((), {}), ((), {"correction": 0})]),
    lambda a, correction=1: np.cov(a, ddof=correction))
row("cov", fixed(lambda d, r: [((make_array((2, 4), d[0], r),), {"fweights": np.array([1, 2, 1, 3]),
                                                                  "aweights": r.random(4).astype(d[0])})]),
    lambda a, fweights, aweights: np.cov(a, fweights=fweights, aweights=aweights), variant="weights")
row("corrcoef", gen([((3, 5),), ((2, 4),)]), np.corrcoef, rtol=1e-4)


def _renorm_ref(a: np.ndarray, p: float, dim: int, maxnorm: float) -> np.ndarray:
    others = tuple(i for i in range(a.ndim) if i != dim % a.ndim)
    n = np.sum(np.abs(a) ** p, axis=others, keepdims=True) ** (1 / p)
    return a * np.where(n > maxnorm, maxnorm / (n + 1e-7), 1.0)


row("renorm", gen([((3, 4),), ((2, 3, 2),)], [((2, 0, 1.5), {}), ((1, 1, 2.0), {}), ((3, -1, 0.5), {})]), _renorm_ref)

# ---------------------------------------------------------------------------
# decompositions (ndgrad/ops/decomp.py). Functions of symmetric matrices read one triangle, so
# their rows feed them a + a^T (finite differences then see what the gradient describes).
# ---------------------------------------------------------------------------
def _spd(shape: tuple, dt: str, rng: np.random.Generator) -> np.ndarray:
    m = rng.standard_normal(shape)
    return (m @ np.swapaxes(m, -1, -2) / shape[-1] + np.eye(shape[-1])).astype(dt)


def _la(*shapes: tuple, spd: bool = False, kw: dict | None = None) -> Callable:
    def make(d: tuple, r: np.random.Generator) -> list:
        return [(((_spd if spd else _wellcond)(s, d[0], r),), dict(kw or {})) for s in shapes]
    return fixed(make)


def _sym(L: Any, a: Any) -> Any:
    return a + a.mT


_SPD_SHAPES = ((3, 3), (2, 3, 3), (1, 1))
row("linalg.cholesky", _la(*_SPD_SHAPES, spd=True), lambda a: np.linalg.cholesky(a + np.swapaxes(a, -1, -2)),
    call=lambda L, a: L.linalg.cholesky(_sym(L, a)), **LA_TOL)
row("linalg.cholesky", _la((3, 3), spd=True, kw={"upper": True}),
    lambda a, upper: np.swapaxes(np.linalg.cholesky(a + a.T), -1, -2), variant="upper",
    call=lambda L, a, upper: L.linalg.cholesky(_sym(L, a), upper=upper), **LA_TOL)
row("linalg.cholesky_ex", _la((3, 3), spd=True), None, call=lambda L, a: tuple(L.linalg.cholesky_ex(_sym(L, a))))
row("cholesky", _la((3, 3), spd=True), lambda a: np.linalg.cholesky(a + a.T), call=lambda L, a: L.cholesky(_sym(L, a)),
    **LA_TOL)
row("cholesky_solve", fixed(lambda d, r: [((make_array((3, 2), d[0], r), np.linalg.cholesky(_spd((3, 3), d[0], r))),
                                           {}),
                                          ((make_array((2, 3, 1), d[0], r),
                                            np.swapaxes(np.linalg.cholesky(_spd((2, 3, 3), d[0], r)), -1, -2)),
                                           {"upper": True})]),
    lambda b, f, upper=False: np.linalg.solve((np.swapaxes(f, -1, -2) @ f) if upper else (f @ np.swapaxes(f, -1, -2)),
                                              b), call=lambda L, b, f, upper=False: L.cholesky_solve(
                                                  b, L.tril(f) if not upper else L.triu(f), upper), **LA_TOL)
row("cholesky_inverse", fixed(lambda d, r: [((np.linalg.cholesky(_spd((3, 3), d[0], r)),), {})]),
    lambda f: np.linalg.inv(f @ f.T), call=lambda L, f: L.cholesky_inverse(L.tril(f)), **LA_TOL)
row("linalg.qr", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {}), ((make_array((3, 5), d[0], r),), {}),
                                     ((_wellcond((2, 3, 3), d[0], r),), {"mode": "complete"}),
                                     ((make_array((4, 2), d[0], r),), {"mode": "r"})]),
    None, call=lambda L, a, **k: tuple(L.linalg.qr(a, **k)), **LA_TOL)
row("qr", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {}), ((make_array((3, 3), d[0], r),), {"some": False})]),
    lambda a, some=True: np.linalg.qr(a, "reduced" if some else "complete"), call=lambda L, a, **k: tuple(L.qr(a, **k)),
    **LA_TOL)


def _svd_sign_free(L: Any, a: Any, full_matrices: bool = False) -> tuple:
    # singular vectors are determined up to sign: each pair is flipped to a positive first entry of U
    u, s, vh = L.linalg.svd(a, full_matrices=full_matrices)
    k = s.shape[-1]
    sg = u[..., :1, :k].sign()
    return u[..., :k] * sg, s, vh[..., :k, :] * sg.mT


def _np_svd_sign_free(a: np.ndarray) -> tuple:
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    sg = np.sign(u[..., :1, :])
    return u * sg, s, vh * np.swapaxes(sg, -1, -2)


row("linalg.svd", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {}), ((make_array((2, 3, 5), d[0], r),), {})]),
    _np_svd_sign_free, call=_svd_sign_free, **LA_TOL)
row("linalg.svd", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {"full_matrices": True})]),
    None, call=lambda L, a, **k: tuple(t.shape for t in L.linalg.svd(a, **k)), variant="shapes")
row("linalg.svdvals", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {}),
                                          ((make_array((2, 2, 5), d[0], r),), {})]),
    lambda a: np.linalg.svd(a, compute_uv=False), **LA_TOL)
row("svd", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {}), ((make_array((3, 4), d[0], r),), {"some": False}),
                               ((make_array((3, 4), d[0], r),), {"compute_uv": False})]),
    None, call=lambda L, a, **k: (lambda u, s, v: (u[..., :s.shape[-1]] * u[..., :1, :s.shape[-1]].sign(), s,
                                                   v[..., :s.shape[-1]] * u[..., :1, :s.shape[-1]].sign(), u.shape,
                                                   v.shape))(*L.svd(a, **k)), **LA_TOL)


def _eigh_sign_free(L: Any, a: Any, **k: Any) -> tuple:
    w, v = L.linalg.eigh(_sym(L, a), **k)
    return w, v * v[..., :1, :].sign()  # first component of each eigenvector made positive


row("linalg.eigh", _la((3, 3), (2, 4, 4)), None, call=_eigh_sign_free, **LA_TOL)
row("linalg.eigh", _la((3, 3), kw={"UPLO": "U"}), None, call=_eigh_sign_free, variant="upper", **LA_TOL)
row("linalg.eigvalsh", _la((3, 3), (2, 4, 4)), lambda a: np.linalg.eigvalsh(a + np.swapaxes(a, -1, -2)),
    call=lambda L, a: L.linalg.eigvalsh(_sym(L, a)), **LA_TOL)


def _eig_parts(L: Any, a: Any) -> tuple:
    w, v = L.linalg.eig(a)
    v = v * (v[..., :1, :].conj() / v[..., :1, :].abs())  # first component made real positive
    return w.real, w.imag, v.real, v.imag


row("linalg.eig", _la((3, 3), (2, 4, 4)), None, call=_eig_parts, **LA_TOL)
row("linalg.eigvals", fixed(lambda d, r: [((np.array([[0.0, -2.0], [1.0, 0.5]], d[0]),), {}),
                                          ((_wellcond((3, 3), d[0], r),), {})]),
    None, call=lambda L, a: (L.linalg.eigvals(a).real, L.linalg.eigvals(a).imag), **LA_TOL)
for _n in ("linalg.slogdet", "slogdet"):
    row(_n, fixed(lambda d, r: [((_wellcond((3, 3), d[0], r),), {}), ((-_wellcond((2, 3, 3), d[0], r),), {})]),
        lambda a: tuple(np.linalg.slogdet(a)), call=lambda L, a, _n=_n: tuple(fn(_n)(L, a)), **LA_TOL)
row("linalg.pinv", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {}), ((make_array((2, 3, 5), d[0], r),), {}),
                                       ((make_array((3, 3), d[0], r),), {"hermitian": False}),
                                       # rank-deficient or truncated: forward only (past the 3 samples gradchecked)
                                       ((np.array([[1.0, 2.0], [2.0, 4.0]], d[0]),), {}),
                                       ((make_array((3, 3), d[0], r),), {"rtol": 0.5})]),
    lambda a, rtol=None, hermitian=False: np.linalg.pinv(a) if rtol is None else np.linalg.pinv(a, rcond=rtol),
    **LA_TOL)
row("linalg.pinv", _la((3, 3), spd=True, kw={"hermitian": True}), lambda a, hermitian: np.linalg.pinv(a),
    variant="hermitian", call=lambda L, a, hermitian: L.linalg.pinv(_sym(L, a) / 2, hermitian=hermitian), **LA_TOL)
row("pinverse", fixed(lambda d, r: [((make_array((4, 3), d[0], r),), {})]), np.linalg.pinv, **LA_TOL)
row("linalg.lstsq", fixed(lambda d, r: [((make_array((5, 3), d[0], r), make_array((5, 2), d[0], r)), {}),
                                        ((make_array((5, 3), d[0], r), make_array((5, 2), d[0], r)),
                                         {"driver": "gelsd"}),
                                        ((make_array((2, 4, 3), d[0], r), make_array((2, 4, 1), d[0], r)),
                                         {"driver": "gelss"}),
                                        ((make_array((3, 5), d[0], r), make_array((3, 2), d[0], r)), {})]),
    None, call=lambda L, a, b, **k: tuple(L.linalg.lstsq(a, b, **k))[:3], **LA_TOL)
row("linalg.lstsq", fixed(lambda d, r: [((make_array((2, 4, 3), d[0], r), make_array((2, 4, 1), d[0], r)),
                                         {"driver": "gelss"})]),
    lambda a, b, driver: np.linalg.svd(a, compute_uv=False), variant="singular_values",
    call=lambda L, a, b, **k: L.linalg.lstsq(a, b, **k).singular_values, **LA_TOL)
for _n in ("linalg.matrix_exp", "matrix_exp"):
    row(_n, fixed(lambda d, r: [((make_array((3, 3), d[0], r),), {}), ((make_array((2, 2, 2), d[0], r) * 4,), {}),
                                ((np.zeros((1, 1), d[0]),), {})]), None, **LA_TOL)
row("linalg.solve_triangular", fixed(lambda d, r: [((_wellcond((3, 3), d[0], r), make_array((3, 2), d[0], r)),
                                                    {"upper": True}),
                                                   ((_wellcond((2, 3, 3), d[0], r), make_array((3, 4), d[0], r)),
                                                    {"upper": False, "unitriangular": True}),
                                                   ((_wellcond((3, 3), d[0], r), make_array((2, 3), d[0], r)),
                                                    {"upper": False, "left": False})]),
    None, **LA_TOL)
row("linalg.multi_dot", fixed(lambda d, r: [(([make_array((2, 3), d[0], r), make_array((3, 4), d[0], r),
                                               make_array((4,), d[0], r)],), {}),
                                            (([make_array((3,), d[0], r), make_array((3, 2), d[0], r)],), {})]),
    lambda ts: np.linalg.multi_dot(ts), **MM_TOL)
row("linalg.vecdot", gen([((2, 3), (2, 3)), ((4, 3), (3,))]), lambda a, b: (a * b).sum(-1))
row("linalg.cond", _la((3, 3), (2, 3, 3)), lambda a: np.linalg.cond(a), **LA_TOL)
row("linalg.cond", _la((3, 3), kw={"p": "fro"}), lambda a, p: np.linalg.cond(a, p), variant="fro", **LA_TOL)
row("linalg.inv_ex", _la((3, 3)), None, call=lambda L, a: tuple(L.linalg.inv_ex(a)), **LA_TOL)
row("linalg.solve_ex", fixed(lambda d, r: [((_wellcond((3, 3), d[0], r), make_array((3, 2), d[0], r)), {})]), None,
    call=lambda L, a, b: tuple(L.linalg.solve_ex(a, b)), **LA_TOL)
row("linalg.diagonal", gen([((3, 4),), ((2, 3, 3),)], [((), {}), ((), {"offset": 1})]),
    lambda a, offset=0: np.diagonal(a, offset, -2, -1), dtypes=NUM)

# ---------------------------------------------------------------------------
# complex construction and views (ndgrad/ops/complex.py); torch.fft (ndgrad/ops/spectral.py, ndgrad/fft.py)
# Transforms return (complex result, its real view): the first checks dtype and values, the
# second gives gradcheck real outputs. Complex inputs are built from two real arrays.
# ---------------------------------------------------------------------------
row("complex", gen([((2, 3), (2, 3)), ((3,), (2, 1))]), lambda a, b: a + 1j * b)
row("polar", gen([((2, 3), (2, 3)), ((3,), (2, 1))], domain=(0.2, 2)), lambda a, b: a * np.exp(1j * b))
row("view_as_real", gen([((2, 3), (2, 3)), ((), ())]), lambda a, b: np.stack([a, b], -1),
    call=lambda L, a, b: L.view_as_real(L.complex(a, b)))
row("view_as_complex", gen([((2, 3, 2),), ((2,),)]), lambda a: (a[..., 0] + 1j * a[..., 1], 2 * a),
    call=lambda L, a: (L.view_as_complex(a), L.view_as_real(L.view_as_complex(a) * 2)))
for _n in ("resolve_conj", "resolve_neg", "conj_physical"):
    row(_n, fixed(_complex_sample), np.conj if _n == "conj_physical" else (lambda a: a), dtypes=("complex64",))
row("is_conj", gen([((2,),)]), lambda a: False)


def _spec(L: Any, out: Any) -> tuple:
    return (out, L.view_as_real(out.resolve_conj())) if out.is_complex() else (out,)


def _np_spec(out: np.ndarray) -> tuple:
    return (out, np.stack([out.real, out.imag], -1)) if np.iscomplexobj(out) else (out,)


def _fft_row(name: str, shapes: list, variants: list, ref: Any, complex_in: bool = False) -> None:
    f = name.split(".")[1]
    if complex_in:
        call = lambda L, re, im, **k: _spec(L, getattr(L.fft, f)(L.complex(re, im), **k))  # noqa: E731
        nref = None if ref is None else (lambda re, im, **k: _np_spec(ref(re + 1j * im, **k)))
        shapes = [(s, s) for (s,) in shapes]
    else:
        call = lambda L, a, **k: _spec(L, getattr(L.fft, f)(a, **k))  # noqa: E731
        nref = None if ref is None else (lambda a, **k: _np_spec(ref(a, **k)))
    row(name, gen(shapes, variants), nref, call=call, variant="complex" if complex_in else "", rtol=1e-4,
        atol=1e-5)


def _np1(fn: Any) -> Any:
    return lambda a, n=None, dim=-1, norm=None: fn(a, n=n, axis=dim, norm=norm)


def _npn(fn: Any) -> Any:
    return lambda a, s=None, dim=None, norm=None: fn(a, s=s, axes=dim, norm=norm)


_V1 = [((), {}), ((), {"n": 6}), ((), {"n": 3, "dim": 0, "norm": "ortho"}), ((), {"norm": "forward"})]
_VN = [((), {}), ((), {"s": (2, 6)}), ((), {"dim": (0,), "norm": "ortho"}), ((), {"s": (4, 3), "dim": (1, 0)})]
_S1 = [((8,),), ((3, 5),)]
_SN = [((3, 5),), ((2, 3, 4),)]
for _n, _f in (("fft", np.fft.fft), ("ifft", np.fft.ifft), ("rfft", np.fft.rfft), ("ihfft", np.fft.ihfft)):
    _fft_row("fft." + _n, _S1, _V1, _np1(_f))
for _n, _f in (("fft", np.fft.fft), ("ifft", np.fft.ifft), ("irfft", np.fft.irfft), ("hfft", np.fft.hfft)):
    _fft_row("fft." + _n, _S1, _V1, _np1(_f), complex_in=True)
for _n, _f in (("fftn", np.fft.fftn), ("ifftn", np.fft.ifftn), ("rfftn", np.fft.rfftn), ("ihfftn", None)):
    _fft_row("fft." + _n, _SN, _VN, _npn(_f) if _f else None)
for _n, _f in (("fftn", np.fft.fftn), ("ifftn", np.fft.ifftn), ("irfftn", np.fft.irfftn), ("hfftn", None)):
    _fft_row("fft." + _n, _SN, _VN, _npn(_f) if _f else None, complex_in=True)
for _n, _f in (("fft2", np.fft.fft2), ("ifft2", np.fft.ifft2), ("rfft2", np.fft.rfft2), ("ihfft2", None)):
    _fft_row("fft." + _n, [((3, 4),), ((2, 3, 4),)], [((), {}), ((), {"s": (4, 6), "norm": "ortho"})],
             (lambda a, s=None, norm=None, _f=_f: _f(a, s=s, norm=norm)) if _f else None)
for _n, _f in (("irfft2", np.fft.irfft2), ("hfft2", None)):
    _fft_row("fft." + _n, [((3, 4),), ((2, 3, 4),)], [((), {}), ((), {"s": (4, 6), "norm": "ortho"})],
             (lambda a, s=None, norm=None, _f=_f: _f(a, s=s, norm=norm)) if _f else None, complex_in=True)
row("fft.fft", gen([((6,),)]), lambda a: np.fft.fft(a.astype(np.float32)), dtypes=("int64",), variant="int",
    call=lambda L, a: L.fft.fft(a))
for _n, _f in (("fftfreq", np.fft.fftfreq), ("rfftfreq", np.fft.rfftfreq)):
    row("fft." + _n, fixed(((5,), {}), ((6, 0.5), {}), ((4,), {"dtype": "float64"}), ((1,), {})),
        lambda n, d=1.0, dtype=None, _f=_f: _f(n, d).astype(dtype or np.float32), dtypes=("float32",),
        call=lambda L, *a, _n=_n, **k: getattr(L.fft, _n)(*a, **{kk: getattr(L, v) for kk, v in k.items()}))
for _n, _f in (("fftshift", np.fft.fftshift), ("ifftshift", np.fft.ifftshift)):
    row("fft." + _n, gen([((5,),), ((4, 5),)], lambda s: [((), {}), ((), {"dim": (0,)})] + (
        [((), {"dim": 1})] if len(s[0]) == 2 else [])), lambda a, dim=None, _f=_f: _f(a, axes=dim),
        dtypes=FLOAT + ("int64",))

# regularized incomplete gamma (ndgrad/ops/special.py): differentiable in x only, as PyTorch, so `a` is
# a constant or an integer tensor (never perturbed by finite differences)
for _n in ("igamma", "igammac", "special.gammainc", "special.gammaincc"):
    row(_n, gen([((2, 3),), ((5,),)], [((0.5,), {}), ((3.0,), {}), ((12.0,), {})], domain=(0.05, 15)), None,
        call=lambda L, x, a, _n=_n: fn(_n)(L, L.full_like(x, a), x))
    row(_n, gen([((2, 3), (2, 3)), ((3,), (2, 1))], domain=(1, 9)), None, variant="tensors",
        dtypes=(("int64", "float32"), ("int64", "float64")), call=lambda L, a, x, _n=_n: fn(_n)(L, a.to(x.dtype), x))
for _n in ("special.modified_bessel_i0", "special.modified_bessel_i1", "special.spherical_bessel_j0"):
    row(_n, gen(U_SHAPES, domain=(-6, 6)), None, dtypes=FLOAT + ("int64",))
row("linalg.tensorinv", fixed(lambda d, r: [((_wellcond((6, 6), d[0], r).reshape(2, 3, 6),), {"ind": 2}),
                                            ((_wellcond((4, 4), d[0], r).reshape(4, 2, 2),), {"ind": 1})]),
    lambda a, ind: np.linalg.tensorinv(a, ind), **LA_TOL)
row("linalg.tensorsolve", fixed(lambda d, r: [((_wellcond((6, 6), d[0], r).reshape(2, 3, 6),
                                                make_array((2, 3), d[0], r)), {}),
                                              ((_wellcond((6, 6), d[0], r).reshape(6, 2, 3),
                                                make_array((2, 3), d[0], r)), {"dims": (0,)})]),
    lambda a, b, dims=None: np.linalg.tensorsolve(a, b, axes=dims), **LA_TOL)


# --- API coverage additions
def _unfold_ref(a: np.ndarray, d: int, size: int, step: int) -> np.ndarray:
    d %= a.ndim
    w = np.lib.stride_tricks.sliding_window_view(a, size, axis=d)
    return np.take(w, np.arange(0, w.shape[d], step), axis=d)


row("unfold", gen(S234 + [((7,),)], lambda s: [((0, 2, 1), {}), ((-1, 2, 2), {})] if len(s[0]) == 3 else
                  [((0, 3, 2), {}), ((0, 7, 1), {}), ((0, 0, 3), {})]),
    _unfold_ref, dtypes=ALL, call=meth("unfold"))


def _trapz_ref(y: np.ndarray, x: Any = None, dx: Any = None, dim: int = -1) -> np.ndarray:
    y = y.astype(np.float32) if y.dtype.kind in "iu" else y
    return np.trapezoid(y, x=x, dx=1.0 if dx is None else dx, axis=dim).astype(y.dtype)


def _cumtrapz_ref(y: np.ndarray, x: Any = None, dx: Any = None, dim: int = -1) -> np.ndarray:
    y = y.astype(np.float32) if y.dtype.kind in "iu" else y
    y = np.moveaxis(y, dim, -1)
    sp = np.diff(x) if x is not None else (1.0 if dx is None else dx)
    out = np.cumsum((y[..., 1:] + y[..., :-1]) / 2 * sp, axis=-1)
    return np.moveaxis(out, -1, dim).astype(y.dtype)


for _n in ("trapezoid", "trapz"):
    row(_n, gen([((5,),), ((2, 4),), ((3, 1),)], [((), {}), ((), {"dx": 0.5}), ((), {"dim": 0})]), _trapz_ref,
        dtypes=FLOAT + ("int64",))
    row(_n, fixed(lambda d, r: [((make_array((2, 4), d[0], r), np.array([0.0, 0.5, 2.0, 2.5], d[0])), {}),
                                ((make_array((4, 3), d[0], r), np.array([0.0, 1.0, 3.0, 6.0], d[0])), {"dim": 0})]),
        _trapz_ref, variant="x")
row("cumulative_trapezoid", gen([((5,),), ((2, 4),)], [((), {}), ((), {"dx": 2.0}), ((), {"dim": 0})]),
    _cumtrapz_ref, dtypes=FLOAT + ("int64",))
row("cumulative_trapezoid", fixed(lambda d, r: [((make_array((2, 4), d[0], r), np.array([0.0, 0.5, 2.0, 2.5],
                                                                                         d[0])), {})]),
    _cumtrapz_ref, variant="x")


def _into_ref(kind: str) -> Callable:
    def ref(a: np.ndarray, src: np.ndarray, *args: Any) -> np.ndarray:
        out = a.copy()
        if kind == "select":
            dim, index = args
            idx = [slice(None)] * a.ndim
            idx[dim] = index
            out[tuple(idx)] = src
        elif kind == "slice":
            dim, start, end, step = args
            idx = [slice(None)] * a.ndim
            idx[dim] = slice(start, end, step)
            out[tuple(idx)] = src
        else:
            offset = args[0] if args else 0
            n = np.diagonal(a, offset).shape[0]
            r, c = (np.arange(n), np.arange(n) + offset) if offset >= 0 else (np.arange(n) - offset, np.arange(n))
            out[r, c] = src
        return out
    return ref


row("select_scatter", fixed(lambda d, r: [((make_array((3, 4), d[0], r), make_array((4,), d[0], r), 0, 1), {}),
                                          ((make_array((3, 4), d[0], r), make_array((3,), d[0], r), 1, -1), {})]),
    _into_ref("select"), dtypes=NUM)
row("slice_scatter", fixed(lambda d, r: [((make_array((4, 3), d[0], r), make_array((2, 3), d[0], r), 0, 1, 4, 2), {}),
                                         ((make_array((4, 3), d[0], r), make_array((4, 2), d[0], r), 1, 1, None, 1),
                                          {})]),
    _into_ref("slice"), dtypes=NUM)
row("diagonal_scatter", fixed(lambda d, r: [((make_array((3, 3), d[0], r), make_array((3,), d[0], r)), {}),
                                            ((make_array((3, 4), d[0], r), make_array((2,), d[0], r), -1), {})]),
    _into_ref("diag"), dtypes=NUM)


def _as_strided_ref(a: np.ndarray, size: tuple, stride: tuple, offset: int = 0) -> np.ndarray:
    flat = np.ascontiguousarray(a).reshape(-1)
    idx = np.full(size, offset)
    for d, (n, st) in enumerate(zip(size, stride)):
        shape = [1] * len(size)
        shape[d] = n
        idx = idx + (np.arange(n) * st).reshape(shape)
    return flat[idx]


row("as_strided", gen([((9,),), ((3, 4),)], [(((2, 2), (1, 2)), {}), (((3, 2), (2, 1), 1), {}),
                                            (((0, 2), (1, 1)), {})]),
    _as_strided_ref, dtypes=ALL)
row("diagflat", gen([((3,),), ((2, 2),), ((),)], [((), {}), ((1,), {}), ((-2,), {})]),
    lambda a, offset=0: np.diagflat(a, offset), dtypes=NUM)
row("addr", gen([((3, 2), (3,), (2,)), ((2,), (3,), (2,))], [((), {}), ((), {"beta": 0.5, "alpha": 2})]),
    lambda c, u, v, beta=1, alpha=1: beta * c + alpha * np.outer(u, v))


def _unravel_ref(idx: np.ndarray, shape: Any) -> tuple:
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return tuple(np.asarray(c, np.int64) for c in np.unravel_index(np.mod(idx, int(np.prod(shape))), shape))


row("unravel_index", fixed(lambda d, r: [((np.array([4, 1, 7, 8]), (3, 3)), {}), ((np.array(5), (2, 3)), {}),
                                         ((np.array([[0, 11], [5, 6]]), (2, 3, 2)), {}), ((np.array([-1, 3]), 4), {})]),
    _unravel_ref, dtypes=("int64",), keeps_float32=False)


# losses PyTorch runs as one kernel (ndgrad/ops/loss.py) and embedding (ndgrad/ops/indexing.py); class
# weights are constants (lists), as PyTorch gives them no gradient
_W3 = [0.5, 2.0, 1.0]


def _np_reduce(loss: np.ndarray, reduction: str) -> np.ndarray:
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


def _nll_ref(x: np.ndarray, t: np.ndarray, reduction: str = "mean", ignore_index: int = -100,
             weight: list | None = None) -> np.ndarray:
    one = x.ndim == 1  # (C,) input, 0-d target
    xc = np.moveaxis(x[None] if one else x, 1, -1)  # (N, d..., C)
    t = np.asarray(t).reshape(1) if one else t
    w = np.ones(xc.shape[-1]) if weight is None else np.asarray(weight)
    keep = t != ignore_index
    ts = np.where(keep, t, 0)
    wt = w[ts] * keep
    loss = -np.take_along_axis(xc, ts[..., None], -1)[..., 0] * wt
    if reduction == "none":
        return (loss[0] if one else loss).astype(x.dtype)
    return (loss.sum() / wt.sum() if reduction == "mean" else loss.sum()).astype(x.dtype)


def _bce_ref(x: np.ndarray, t: np.ndarray, reduction: str = "mean") -> np.ndarray:
    return _np_reduce(-(t * np.maximum(np.log(x), -100) + (1 - t) * np.maximum(np.log1p(-x), -100)), reduction)


def _bce_logits_ref(x: np.ndarray, t: np.ndarray, reduction: str = "mean", pos_weight: list | None = None) -> Any:
    pw = 1.0 if pos_weight is None else np.asarray(pos_weight, x.dtype)
    return _np_reduce(-(pw * t * np.log(1 / (1 + np.exp(-x))) + (1 - t) * np.log(1 / (1 + np.exp(x)))), reduction)


def _with_weight(name: str, key: str) -> Callable:
    """call for a loss whose `key` argument arrives as a list: a tensor of the input's dtype."""
    def call(L: Any, *a: Any, **k: Any) -> Any:
        if k.get(key) is not None:
            k[key] = L.tensor(k[key], dtype=a[0].dtype)
        return getattr(L.nn.functional, name)(*a, **k)
    return call


_REDUCTIONS = [((), {}), ((), {"reduction": "sum"}), ((), {"reduction": "none"})]
row("mse_loss", gen([((), ()), ((5,), (5,)), ((2, 3), (2, 3))], _REDUCTIONS),
    lambda a, b, reduction="mean": _np_reduce((a - b) ** 2, reduction),
    call=lambda L, *a, **k: L.nn.functional.mse_loss(*a, **k))
row("nll_loss", fixed(lambda d, r: [((make_array((4, 3), d[0], r), np.array([0, 2, 1, 2])), kw) for _, kw in
                                    _REDUCTIONS + [((), {"ignore_index": 1}), ((), {"weight": _W3}),
                                                   ((), {"weight": _W3, "reduction": "none"})]] + [
    ((make_array((3,), d[0], r), np.array(1)), {}),
    ((make_array((2, 3, 2), d[0], r), np.array([[0, 2], [1, 1]])), {}),
    ((make_array((2, 3, 2), d[0], r), np.array([[0, 2], [1, 1]])), {"reduction": "none"})]),
    _nll_ref, call=_with_weight("nll_loss", "weight"))
row("binary_cross_entropy", gen([((), ()), ((5,), (5,)), ((2, 3), (2, 3))], _REDUCTIONS, domain=(0.05, 0.95)),
    _bce_ref, call=lambda L, *a, **k: L.nn.functional.binary_cross_entropy(*a, **k))
row("binary_cross_entropy_with_logits",
    fixed(lambda d, r: [((make_array(s, d[0], r), make_array(s, d[0], r, (0.0, 1.0))), kw)
                        for s in ((), (5,), (2, 3)) for _, kw in _REDUCTIONS] + [
        ((make_array((2, 3), d[0], r), make_array((2, 3), d[0], r, (0.0, 1.0))), {"pos_weight": _W3})]),
    _bce_logits_ref, call=_with_weight("binary_cross_entropy_with_logits", "pos_weight"))
# (padding_idx is left to tests/nn: PyTorch zeroes the padding row's gradient but not its tangent)
row("embedding", fixed(lambda d, r: [((np.array([[0, 2], [4, 2]]), make_array((5, 3), d[0], r)), {}),
                                     ((np.array([1, 3, 1]), make_array((5, 3), d[0], r)), {}),
                                     ((np.array(2), make_array((5, 3), d[0], r)), {}),
                                     ((np.array([], np.int64), make_array((5, 3), d[0], r)), {})]),
    lambda i, w, padding_idx=None: w[i], call=lambda L, *a, **k: L.nn.functional.embedding(*a, **k))


# neural-network kernels (ndgrad/ops/nn.py, registered when ndgrad.nn loads), called through nn.functional;
# inputs stay within the 40 elements finite differences may perturb
def _F(name: str) -> Callable:
    def call(L: Any, *a: Any, **k: Any) -> Any:
        return getattr(L.nn.functional, name)(*a, **k)
    call.__name__ = name
    return call


def _arrs(*shapes: tuple, domain: tuple | None = None) -> Callable:
    """One sample of arrays with the given shapes (the row's dtype), then each variant's extra args."""
    def make(variants: list) -> Callable:
        return fixed(lambda d, r: [(tuple(make_array(sh, d[0], r, domain) for sh in shapes) + tuple(a), k)
                                   for a, k in variants])
    return make


row("conv1d", _arrs((2, 2, 5), (3, 2, 2))([((), {}), ((), {"stride": 2, "padding": 1}), ((), {"dilation": 2})]),
    call=_F("conv1d"))
row("conv1d", _arrs((2, 2, 5), (4, 1, 2), (4,))([((), {"groups": 2}), ((), {"groups": 2, "padding": "same"})]),
    variant="bias", call=_F("conv1d"))
row("conv2d", _arrs((1, 1, 4, 4), (2, 1, 2, 2))([((), {}), ((), {"stride": 2, "padding": 1}),
                                                 ((), {"padding": (1, 0), "dilation": (1, 2)})]), call=_F("conv2d"))
row("conv2d", _arrs((1, 2, 3, 3), (2, 1, 2, 2), (2,))([((), {"groups": 2}), ((), {"groups": 2, "stride": (2, 1)})]),
    variant="bias", call=_F("conv2d"))
row("conv2d", _arrs((2, 3, 3), (1, 2, 2, 2))([((), {})]), variant="unbatched", call=_F("conv2d"))
row("conv_transpose1d", _arrs((1, 2, 4), (2, 3, 2), (3,))([((), {}), ((), {"stride": 2, "output_padding": 1}),
                                                          ((), {"padding": 1, "dilation": 2})]),
    call=_F("conv_transpose1d"))
row("conv_transpose2d", _arrs((1, 2, 3, 3), (2, 1, 2, 2))([((), {}), ((), {"stride": 2}),
                                                           ((), {"stride": 2, "padding": 1, "output_padding": 1})]),
    call=_F("conv_transpose2d"))
row("max_pool1d", _arrs((2, 2, 6))([((2,), {}), ((3,), {"stride": 2, "padding": 1}), ((2,), {"ceil_mode": True,
                                                                                             "stride": 3})]),
    call=_F("max_pool1d"))
row("max_pool2d", _arrs((1, 2, 4, 4))([((2,), {}), ((3,), {"stride": 2, "padding": 1}),
                                       ((2,), {"stride": 1, "dilation": 2})]), call=_F("max_pool2d"))
row("max_pool2d", _arrs((1, 1, 5, 5))([((2,), {"return_indices": True, "ceil_mode": True})]), variant="indices",
    call=_F("max_pool2d"))
row("avg_pool1d", _arrs((2, 2, 6))([((2,), {}), ((3,), {"stride": 2, "padding": 1}),
                                   ((3,), {"padding": 1, "count_include_pad": False, "ceil_mode": True})]),
    call=_F("avg_pool1d"))
row("avg_pool2d", _arrs((1, 2, 4, 4))([((2,), {}), ((3,), {"stride": 2, "padding": 1}),
                                       ((2,), {"divisor_override": 3}),
                                       ((3,), {"padding": 1, "count_include_pad": False})]), call=_F("avg_pool2d"))
row("adaptive_avg_pool1d", _arrs((2, 2, 7))([((3,), {}), ((1,), {}), ((7,), {})]), call=_F("adaptive_avg_pool1d"))
row("adaptive_avg_pool2d", _arrs((1, 2, 5, 3))([((2,), {}), (((3, 2),), {}), (((None, 1),), {})]),
    call=_F("adaptive_avg_pool2d"))
row("adaptive_max_pool2d", _arrs((1, 2, 5, 3))([((2,), {}), (((3, 2),), {"return_indices": True})]),
    call=_F("adaptive_max_pool2d"))

row("conv3d", _arrs((1, 1, 3, 3, 3), (1, 1, 2, 2, 2))([((), {}), ((), {"stride": 2, "padding": 1})]),
    call=_F("conv3d"))
row("conv_transpose3d", _arrs((1, 1, 2, 2, 2), (1, 2, 2, 2, 2))([((), {}), ((), {"stride": 2})]),
    call=_F("conv_transpose3d"))
row("max_pool3d", _arrs((1, 1, 3, 3, 3))([((2,), {}), ((2,), {"stride": 1, "padding": 1})]), call=_F("max_pool3d"))
for _n, _shape in (("max_pool1d_with_indices", (2, 2, 6)), ("max_pool2d_with_indices", (1, 2, 4, 4)),
                   ("max_pool3d_with_indices", (1, 1, 3, 3, 3))):
    row(_n, _arrs(_shape)([((2,), {}), ((2,), {"stride": 1, "padding": 1})]), call=_F(_n))
row("avg_pool3d", _arrs((1, 1, 3, 3, 3))([((2,), {}), ((3,), {"padding": 1, "count_include_pad": False})]),
    call=_F("avg_pool3d"))
row("adaptive_avg_pool3d", _arrs((1, 1, 3, 3, 3))([((2,), {}), (((1, 2, 3),), {})]), call=_F("adaptive_avg_pool3d"))
row("adaptive_max_pool1d", _arrs((2, 2, 7))([((3,), {}), ((2,), {"return_indices": True})]),
    call=_F("adaptive_max_pool1d"))
row("adaptive_max_pool3d", _arrs((1, 1, 3, 3, 3))([((2,), {}), (((1, 2, 3),), {})]), call=_F("adaptive_max_pool3d"))
for _n, _shape in (("adaptive_max_pool1d_with_indices", (2, 2, 7)),
                   ("adaptive_max_pool2d_with_indices", (1, 2, 5, 3)),
                   ("adaptive_max_pool3d_with_indices", (1, 1, 3, 3, 3))):
    row(_n, _arrs(_shape)([((2,), {})]), call=_F(_n))
row("pad", _arrs((1, 2, 3, 3))([(((1, 1),), {}), (((1, 0, 2, 1),), {"value": 0.5}),
                                (((1, 1, 2, 1),), {"mode": "reflect"}), (((2, 1, 0, 1),), {"mode": "replicate"}),
                                (((1, 2, 1, 0),), {"mode": "circular"}), (((-1, 1),), {})]), call=_F("pad"))
row("pad", _arrs((2, 5))([(((2, 1),), {"mode": "reflect"}), (((1, 3),), {"mode": "replicate"})]), variant="2d",
    call=_F("pad"))
row("interpolate", _arrs((1, 1, 3, 4))([((), {"size": (5, 6)}), ((), {"scale_factor": 2, "mode": "bilinear"}),
                                        ((), {"scale_factor": 1.5, "mode": "bilinear", "align_corners": True}),
                                        ((), {"size": (4, 5), "mode": "bicubic"}),
                                        ((), {"size": (2, 2), "mode": "area"}),
                                        ((), {"size": (5, 3), "mode": "nearest-exact"}),
                                        ((), {"size": (2, 3), "mode": "bilinear", "antialias": True})]),
    call=_F("interpolate"))
row("interpolate", _arrs((1, 2, 5))([((), {"scale_factor": 2, "mode": "linear"}), ((), {"size": 3})]), variant="1d",
    call=_F("interpolate"))
row("interpolate", _arrs((1, 1, 2, 2, 3))([((), {"size": (3, 3, 4), "mode": "trilinear"})]), variant="3d",
    call=_F("interpolate"))
row("scaled_dot_product_attention", _arrs((1, 2, 3), (1, 3, 3), (1, 3, 2))([
    ((), {}), ((), {"is_causal": True}), ((), {"scale": 0.5}),
    ((), {"attn_mask": np.array([[True, False, True], [True, True, False]])})]),
    call=_F("scaled_dot_product_attention"))
row("lp_pool1d", _arrs((2, 2, 6), domain=(0.5, 2))([((2.0, 2), {}), ((3.0, 3), {"stride": 2})]), call=_F("lp_pool1d"))
row("lp_pool2d", _arrs((1, 2, 4, 4), domain=(0.5, 2))([((2.0, 2), {}), ((3.0, 2), {"stride": 1})]),
    call=_F("lp_pool2d"))
row("lp_pool3d", _arrs((1, 1, 3, 3, 3), domain=(0.5, 2))([((2.0, 2), {})]), call=_F("lp_pool3d"))
row("pixel_shuffle", _arrs((1, 4, 2, 3))([((2,), {})]), call=_F("pixel_shuffle"))
row("pixel_unshuffle", _arrs((1, 1, 4, 6))([((2,), {})]), call=_F("pixel_unshuffle"))
row("affine_grid", _arrs((1, 2, 3))([(([1, 1, 3, 4],), {"align_corners": False}),
                                     (([1, 1, 3, 4],), {"align_corners": True})]), call=_F("affine_grid"))
row("affine_grid", _arrs((1, 3, 4))([(([1, 1, 2, 2, 3],), {"align_corners": False})]), variant="3d",
    call=_F("affine_grid"))

row("max_unpool1d", _arrs((1, 2, 3))([((np.array([[[1, 2, 5], [0, 3, 4]]]), 2), {})]), call=_F("max_unpool1d"))
row("max_unpool2d", _arrs((1, 1, 2, 2))([((np.array([[[[0, 3], [9, 14]]]]), 2), {}),
                                         ((np.array([[[[1, 6], [8, 15]]]]), 2), {"output_size": (4, 4)})]),
    call=_F("max_unpool2d"))
row("max_unpool3d", _arrs((1, 1, 1, 2, 2))([((np.array([[[[[0, 3], [9, 30]]]]]), 2), {})]), call=_F("max_unpool3d"))
row("grid_sample", fixed(lambda d, r: [((make_array((1, 1, 3, 4), d[0], r), make_array((1, 2, 2, 2), d[0], r,
                                                                                       (-0.9, 0.9))), k)
                                       for k in ({"align_corners": False}, {"align_corners": True},
                                                 {"padding_mode": "border", "align_corners": False},
                                                 {"mode": "nearest", "align_corners": False})]),
    call=_F("grid_sample"))

row("nn.functional.unfold", _arrs((1, 2, 3, 4))([((2,), {}), (((2, 3),), {"padding": 1, "stride": 2}),
                                                  ((2,), {"dilation": (1, 2)})]), call=_F("unfold"))
row("fold", _arrs((1, 4, 6))([(((3, 4), 2), {})]), call=_F("fold"))
row("fold", _arrs((1, 4, 4))([(((3, 3), 2), {"padding": 1, "stride": 2})]), variant="stride", call=_F("fold"))


_ = field
