"""Special functions as differentiable ops: the gamma family, Bessel functions, the normal
distribution, Hurwitz zeta. Kernels live in _specfun (float64 NumPy); the ops here add
dtypes and gradient rules. Functions PyTorch offers only as torch.special.* are built
with `export=False` and reach users through ndgrad.special."""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from . import _specfun as _sf
from ._core import _make, check_tensor, float_dtype_for, grad_needed, graph_free, not_impl, record, register, to_tensor
from ._core import _vmap_levels, is_batched, vmap_rule
from .elementwise import _unary, exp, f64_kernel, log, sgn, where
from .inplace import make_inplace

_SQRT_2PI = math.sqrt(2 * math.pi)
_2_SQRT_PI = 2 / math.sqrt(math.pi)


def _zero_safe(x: Tensor) -> Tensor:
    return where(x == 0, 1.0, x)


lgamma = _unary("lgamma", f64_kernel(_sf.lgamma), lambda g, x, o: g * digamma(x), "x", "LgammaBackward0",
                refused=(not_impl("lgamma_vml_cpu", "c"),))
digamma = _unary("digamma", f64_kernel(_sf.digamma), lambda g, x, o: g * polygamma(1, x), "x",
                 "DigammaBackward0", refused=(not_impl("digamma", "c"),))
i0 = _unary("i0", f64_kernel(_sf.i0), lambda g, x, o: g * i1(x), "x", "I0Backward0",
            refused=(not_impl("i0_vml_cpu", "c"),))
i0e = _unary("i0e", f64_kernel(_sf.i0e), lambda g, x, o: g * (i1e(x) - sgn(x) * o), "xo", "SpecialI0EBackward0",
             export=False)
# d/dx i1 = i0 - i1 / x, with the limit 1/2 at 0 (likewise for the scaled form)
i1 = _unary("i1", f64_kernel(_sf.i1), lambda g, x, o: g * where(x == 0, 0.5, i0(x) - o / _zero_safe(x)), "xo",
            "SpecialI1Backward0", export=False)
i1e = _unary("i1e", f64_kernel(_sf.i1e),
             lambda g, x, o: g * where(x == 0, 0.5, i0e(x) - o * (sgn(x) + 1 / _zero_safe(x))), "xo",
             "SpecialI1EBackward0", export=False)
erfcx = _unary("erfcx", f64_kernel(_sf.erfcx), lambda g, x, o: g * (2 * x * o - _2_SQRT_PI), "xo",
               "SpecialErfcxBackward0", export=False)
ndtri = _unary("ndtri", f64_kernel(_sf.ndtri), lambda g, x, o: g * (_SQRT_2PI * exp(o * o * 0.5)), "o",
               "SpecialNdtriBackward0", export=False)
log_ndtr = _unary("log_ndtr", f64_kernel(_sf.log_ndtr),
                  lambda g, x, o: g * (exp(x * x * -0.5 - o) / _SQRT_2PI), "xo", "SpecialLogNdtrBackward0",
                  export=False)
ndtr = _unary("ndtr", f64_kernel(_sf.ndtr), lambda g, x, o: g * (exp(x * x * -0.5) / _SQRT_2PI), "x",
              "MulBackward1", export=False)


def _entr_kernel(a: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        r = np.where(a > 0, -a * np.log(np.where(a > 0, a, 1)), np.where(a == 0, 0.0, -np.inf))
    return np.where(np.isnan(a), np.nan, r).astype(a.dtype)


entr = _unary("entr", _entr_kernel, lambda g, x, o: g * -(log(x) + 1), "x", "SpecialEntrBackward0", export=False)


def _no_grad_kernel(kernel: Any, name: str) -> Any:
    def op(input: Tensor) -> Tensor:
        if _vmap_levels and is_batched(input):
            return vmap_rule("elementwise", op, input)
        check_tensor(input, name)
        dt = float_dtype_for(input)
        return _make(kernel(input._data.astype(np.float64)).astype(dt.np), dt)
    op.__name__ = name
    op.__doc__ = f"{name} elementwise (no gradient, as in PyTorch)."
    return op


bessel_j0 = _no_grad_kernel(_sf.bessel_j0, "bessel_j0")
bessel_j1 = _no_grad_kernel(_sf.bessel_j1, "bessel_j1")


# ---------------------------------------------------------------------------
# polygamma and mvlgamma (an integer argument besides the tensor)
# ---------------------------------------------------------------------------
class PolygammaBackward0(Node):
    __slots__ = ("n",)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved()
        return (g * polygamma(self.n + 1, x),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return ts[0] * polygamma(self.n + 1, ins[0])


@register(method=False)
def polygamma(n: int, input: Tensor) -> Tensor:
    """n-th derivative of digamma (n = 0 is digamma itself)."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", polygamma, n, input)
    check_tensor(input, "polygamma", "input")
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    if n == 0:
        return digamma(input)
    dt = float_dtype_for(input)
    res = _make(_sf.polygamma(int(n), input._data.astype(np.float64)).astype(dt.np), dt)
    if grad_needed(input):
        node = PolygammaBackward0()
        node.n = int(n)
        node.save(input)
        record(node, res, (input,))
    return res


def _polygamma_method(self: Tensor, n: int) -> Tensor:
    return polygamma(n, self)


Tensor.polygamma = _polygamma_method
Tensor.polygamma_ = make_inplace(_polygamma_method, "polygamma_")


@register(inplace=True)
def mvlgamma(input: Tensor, p: int) -> Tensor:
    """Multivariate log-gamma of dimension p: sum_j lgamma(x - j/2) + p(p-1)/4 log(pi)."""
    check_tensor(input, "mvlgamma", "input")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    from .._creation import arange
    dt = float_dtype_for(input)
    x = input if input._dtype is dt else input.to(dt)
    offsets = arange(0, -p / 2, -0.5, dtype=dt)[:p]
    if not grad_needed(input) or _vmap_levels and is_batched(input):
        return lgamma(x.unsqueeze(-1) + offsets).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    xf = graph_free(x)[0]
    res = lgamma(xf.unsqueeze(-1) + offsets).sum(-1) + p * (p - 1) / 4 * math.log(math.pi)
    n = MvlgammaBackward0()
    n.offsets = offsets
    n.save(x)
    return record(n, res, (input,))


class MvlgammaBackward0(Node):
    """d/dx sum_j lgamma(x - j/2) = sum_j digamma(x - j/2)."""
    __slots__ = ("offsets",)

    def backward(self, g: Tensor) -> tuple:
        (x,) = self.saved()
        return (g * digamma(x.unsqueeze(-1) + self.offsets).sum(-1),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x,) = self.saved()
        return ts[0] * digamma(x.unsqueeze(-1) + self.offsets).sum(-1)


# ---------------------------------------------------------------------------
# Hurwitz zeta: differentiable in q only (PyTorch has no derivative in x)
# ---------------------------------------------------------------------------
class SpecialZetaBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        x, q = self.saved()
        if self.next_functions[0][0] is not None:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return None, g * -x * zeta(x + 1, q)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (x, q), (tx, tq) = ins, ts
        if tx is not None:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        return tq * -x * zeta(x + 1, q)


class SpecialZetaBackward1(SpecialZetaBackward0):
    """zeta(number, tensor): PyTorch's name for it."""
    __slots__ = ()


def zeta(input: Any, other: Any) -> Tensor:
    """Hurwitz zeta function sum_k (other + k)^-input."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", zeta, input, other)
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError("zeta(): argument 'input' (position 1) must be Tensor, not " + type(input).__name__)
    like = input if isinstance(input, Tensor) else other
    x, q = to_tensor(input, like=like), to_tensor(other, like=like)
    dt = D.result_dtype(x, q)
    if dt.category < 2:
        dt = D.get_default_dtype()
    from ._core import broadcast_shapes_or_raise
    broadcast_shapes_or_raise(x._data.shape, q._data.shape)
    res = _make(np.asarray(_sf.zeta(x._data.astype(np.float64), q._data.astype(np.float64))).astype(dt.np), dt)
    if grad_needed(x, q):
        node = SpecialZetaBackward0() if isinstance(input, Tensor) else SpecialZetaBackward1()
        node.save(x, q)
        record(node, res, (x, q))
    return res


# ---------------------------------------------------------------------------
# regularized incomplete gamma functions: differentiable in x (PyTorch has no derivative in a)
# ---------------------------------------------------------------------------
class IgammaBackward0(Node):
    __slots__ = ("upper",)

    def backward(self, g: Tensor) -> tuple:
        a, x = self.saved()
        if self.next_functions[0][0] is not None:
            raise NotImplementedError(f"the derivative for '{'igammac' if self.upper else 'igamma'}: input' is not "
                                      "implemented.")
        # d/dx P(a, x) = x^(a-1) e^-x / Gamma(a)
        d = exp((a - 1) * log(x) - x - lgamma(a))
        return None, g * (-d if self.upper else d)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, x), (ta, tx) = ins, ts
        if ta is not None:
            raise NotImplementedError(f"the derivative for '{'igammac' if self.upper else 'igamma'}: input' is not "
                                      "implemented.")
        d = exp((a - 1) * log(x) - x - lgamma(a))
        return tx * (-d if self.upper else d)


class IgammacBackward0(IgammaBackward0):
    __slots__ = ()


def _igamma(input: Any, other: Any, upper: bool) -> Tensor:
    name = "igammac" if upper else "igamma"
    check_tensor(input, name, "input")
    a, x = input, to_tensor(other, like=input)
    from ._core import broadcast_shapes_or_raise
    broadcast_shapes_or_raise(a._data.shape, x._data.shape)
    dt = D.result_dtype(a, x)
    if dt.category != 2:
        raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{D.scalar_name(dt)}'")
    r = _sf.igamma(a._data.astype(np.float64), x._data.astype(np.float64), upper)
    res = _make(np.asarray(r).astype(dt.np), dt)
    if grad_needed(a, x):
        node = IgammacBackward0() if upper else IgammaBackward0()
        node.upper = upper
        node.save(a, x)
        record(node, res, (a, x))
    return res


@register(inplace=True)
def igamma(input: Tensor, other: Any) -> Tensor:
    """Regularized lower incomplete gamma function P(input, other) (torch.special.gammainc)."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", igamma, input, other)
    return _igamma(input, other, False)


@register(inplace=True)
def igammac(input: Tensor, other: Any) -> Tensor:
    """Regularized upper incomplete gamma function Q(input, other) = 1 - P (torch.special.gammaincc)."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("elementwise", igammac, input, other)
    return _igamma(input, other, True)


def spherical_bessel_j0(input: Tensor) -> Tensor:
    """sin(x) / x (1 at 0); no gradient, as in PyTorch."""
    if _vmap_levels and is_batched(input):
        return vmap_rule("elementwise", spherical_bessel_j0, input)
    check_tensor(input, "spherical_bessel_j0")
    dt = float_dtype_for(input)
    a = input._data.astype(np.float64)
    with np.errstate(all="ignore"):
        r = np.where(a == 0, 1.0, np.sin(a) / np.where(a == 0, 1.0, a))
    return _make(np.where(np.isinf(a), 0.0, r).astype(dt.np), dt)


modified_bessel_i0 = _no_grad_kernel(_sf.i0, "modified_bessel_i0")
modified_bessel_i1 = _no_grad_kernel(_sf.i1, "modified_bessel_i1")
