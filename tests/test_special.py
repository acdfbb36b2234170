"""ndgrad.special and the gamma family on wide value ranges, against PyTorch (recorded values).

The op table checks each function on a few small samples; here every kernel meets
thousands of arguments spread over its whole range (tails, negative non-integers,
huge and tiny magnitudes) plus its special points (poles, infinities, NaN).
"""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck


def _grid() -> np.ndarray:
    """Wide float64 arguments: dense near 0..10, logarithmic up to 1e15, negative non-integers."""
    rng = np.random.default_rng(7)
    x = np.concatenate([np.linspace(0.01, 10, 200), np.exp(rng.uniform(-30, 35, 150)),
                        -np.exp(rng.uniform(-20, 4, 150)), rng.uniform(-30, 0, 100)])
    return x[x != np.round(x)]


def _special_points() -> np.ndarray:
    return np.array([0.0, -0.0, -1.0, -2.0, 1.0, 2.0, np.inf, -np.inf, np.nan, 1e-300, 1e300])


# tolerances: ndgrad's kernels are accurate to a few ulp (test_accuracy_against_mpmath); where PyTorch's
# own kernel is less accurate (trigamma ~5e-10, ndtr's lower tail, bessel_j* near their zeros) the
# comparison allows for PyTorch's error
UNARY = [  # (name, ndgrad function, torch function name, domain, rtol, atol)
    ("lgamma", lambda t: ndgrad.lgamma(t), "lgamma", None, 1e-12, 1e-13),
    ("digamma", lambda t: ndgrad.digamma(t), "digamma", None, 1e-11, 1e-12),
    ("trigamma", lambda t: ndgrad.polygamma(1, t), "polygamma1", None, 1e-9, 1e-13),
    ("polygamma3", lambda t: ndgrad.polygamma(3, t), "polygamma3", None, 1e-12, 1e-13),
    ("i0", lambda t: ndgrad.i0(t), "special.i0", (-700, 700), 1e-13, 0),
    ("i0e", lambda t: ndgrad.special.i0e(t), "special.i0e", None, 1e-13, 0),
    ("i1", lambda t: ndgrad.special.i1(t), "special.i1", (-700, 700), 1e-13, 0),
    ("i1e", lambda t: ndgrad.special.i1e(t), "special.i1e", None, 1e-13, 0),
    ("erfcx", lambda t: ndgrad.special.erfcx(t), "special.erfcx", (-26, np.inf), 1e-12, 0),
    ("ndtr", lambda t: ndgrad.special.ndtr(t), "special.ndtr", (-37, 40), 1e-12, 1e-16),
    ("log_ndtr", lambda t: ndgrad.special.log_ndtr(t), "special.log_ndtr", (-1e150, 40), 1e-12, 1e-300),
    ("bessel_j0", lambda t: ndgrad.special.bessel_j0(t), "special.bessel_j0", (-1e4, 1e4), 1e-8, 1e-6),
    ("bessel_j1", lambda t: ndgrad.special.bessel_j1(t), "special.bessel_j1", (-1e4, 1e4), 1e-8, 1e-6),
]


def _torch_fn(torch: object, name: str) -> object:
    if name.startswith("polygamma"):
        n = int(name[len("polygamma"):])
        return lambda t: torch.polygamma(n, t)
    obj = torch
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


@pytest.mark.parametrize("name,fn,tname,domain,rtol,atol", UNARY, ids=[u[0] for u in UNARY])
def test_wide_range_matches_torch(torch_ref: object, name: str, fn: object, tname: str, domain: object,
                                  rtol: float, atol: float) -> None:
    x = _grid()
    if domain is not None:
        x = x[(x >= domain[0]) & (x <= domain[1])]
    want = torch_ref(name, lambda torch: _torch_fn(torch, tname)(torch.tensor(x)))
    got = fn(ndgrad.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=rtol, atol=atol)


SPECIAL_POINTS = ["lgamma", "digamma", "trigamma", "polygamma3", "i0", "i0e", "i1", "i1e", "erfcx", "ndtr",
                  "log_ndtr", "bessel_j0", "bessel_j1"]


@pytest.mark.parametrize("name", SPECIAL_POINTS)
def test_special_points_match_torch(torch_ref: object, name: str) -> None:
    _, fn, tname, *_ = next(u for u in UNARY if u[0] == name)
    x = _special_points()
    if name == "trigamma":  # PyTorch's poles at -1, -2 come out finite (sin(pi x) rounding); ndgrad's are inf
        x = x[x > -0.5]
    want = torch_ref(name, lambda torch: _torch_fn(torch, tname)(torch.tensor(x)))
    got = fn(ndgrad.tensor(x)).numpy()
    finite = np.isfinite(want)
    np.testing.assert_allclose(got[finite], want[finite], rtol=1e-9 if name == "trigamma" else 1e-13)
    np.testing.assert_array_equal(got[~finite], want[~finite])  # same infinities and NaNs


MPMATH = {  # name -> (ndgrad function, mpmath function of one mpf)
    "lgamma": (ndgrad.lgamma, lambda mp, v: mp.log(abs(mp.gamma(v)))),
    "digamma": (ndgrad.digamma, lambda mp, v: mp.digamma(v)),
    "trigamma": (lambda t: ndgrad.polygamma(1, t), lambda mp, v: mp.polygamma(1, v)),
    "polygamma4": (lambda t: ndgrad.polygamma(4, t), lambda mp, v: mp.polygamma(4, v)),
    "i0e": (ndgrad.special.i0e, lambda mp, v: mp.besseli(0, v) * mp.exp(-abs(v))),
    "i1": (ndgrad.special.i1, lambda mp, v: mp.besseli(1, v)),
    "erfcx": (ndgrad.special.erfcx, lambda mp, v: mp.exp(v * v) * mp.erfc(v)),
    "ndtr": (ndgrad.special.ndtr, lambda mp, v: mp.ncdf(v)),
    "bessel_j0": (ndgrad.special.bessel_j0, lambda mp, v: mp.besselj(0, v)),
}


@pytest.mark.parametrize("name", sorted(MPMATH))
def test_accuracy_against_mpmath(name: str) -> None:
    """ndgrad's own accuracy (tighter than PyTorch's for some kernels), against 30-digit mpmath."""
    mp = pytest.importorskip("mpmath").mp
    mp.dps = 30
    fn, ref = MPMATH[name]
    x = np.concatenate([np.linspace(0.05, 30, 60), -np.linspace(0.07, 20.3, 40)])
    if name in ("i1", "i0e"):
        x = np.concatenate([x, np.linspace(30, 600, 20)])
    want = np.array([float(ref(mp, mp.mpf(float(v)))) for v in x])
    got = fn(ndgrad.tensor(x)).numpy()
    # relative to the function's scale: zero crossings (digamma's, j0's) only lose relative digits
    np.testing.assert_allclose(got, want, rtol=2e-14, atol=2e-15)


def test_inverse_functions_in_their_tails(torch_ref: object) -> None:
    rng = np.random.default_rng(3)
    y = np.concatenate([rng.uniform(-1, 1, 300), 1 - np.exp(rng.uniform(-36, -1, 100)),
                        -1 + np.exp(rng.uniform(-36, -1, 100)), [-1.0, 1.0, 0.0, 1.5]])
    want = torch_ref("erfinv", lambda torch: torch.erfinv(torch.tensor(y)))
    np.testing.assert_allclose(ndgrad.erfinv(ndgrad.tensor(y)).numpy(), want, rtol=1e-13, atol=1e-300)
    p = np.concatenate([rng.uniform(0, 1, 300), np.exp(rng.uniform(-700, -1, 200)),
                        1 - np.exp(rng.uniform(-36, -1, 50)), [0.0, 1.0, 0.5, -0.1]])
    want = torch_ref("ndtri", lambda torch: torch.special.ndtri(torch.tensor(p)))
    np.testing.assert_allclose(ndgrad.special.ndtri(ndgrad.tensor(p)).numpy(), want, rtol=1e-13, atol=1e-300)


def test_hurwitz_zeta(torch_ref: object) -> None:
    rng = np.random.default_rng(5)
    s = np.concatenate([rng.uniform(1.01, 30, 300), rng.integers(2, 9, 100).astype(float), [1.0, 0.5, 2.0, 2.0]])
    q = np.concatenate([np.exp(rng.uniform(-10, 8, 300)), rng.uniform(-20, 0, 100), [1.0, 1.0, 0.0, -3.0]])
    want = torch_ref("zeta", lambda torch: torch.special.zeta(torch.tensor(s), torch.tensor(q)))
    np.testing.assert_allclose(ndgrad.special.zeta(ndgrad.tensor(s), ndgrad.tensor(q)).numpy(), want, rtol=1e-12)
    riemann = ndgrad.special.zeta(ndgrad.tensor([2.0, 4.0], dtype=ndgrad.float64), 1.0).numpy()
    np.testing.assert_allclose(riemann, [np.pi ** 2 / 6, np.pi ** 4 / 90], rtol=1e-15)


def test_dtypes_follow_torch(torch_ref: object) -> None:
    ints = np.array([1, 2, 5])
    cases = {"lgamma": lambda M, t: M.lgamma(t), "digamma": lambda M, t: M.digamma(t),
             "polygamma": lambda M, t: M.polygamma(2, t), "mvlgamma": lambda M, t: M.mvlgamma(t + 2, 2),
             "i0": lambda M, t: M.i0(t), "i1e": lambda M, t: M.special.i1e(t),
             "xlogy_u8": lambda M, t: M.xlogy(t.to(M.uint8), t.to(M.uint8) * 60),
             "xlog1py": lambda M, t: M.special.xlog1py(t, t), "zeta": lambda M, t: M.special.zeta(t + 1, t)}
    for key, f in cases.items():
        want = torch_ref(key, lambda torch, f=f: f(torch, torch.tensor(ints)))
        got = f(ndgrad, ndgrad.tensor(ints))
        assert got.dtype.name == want.dtype.name, key  # float32 from integers, never float16
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
        if key != "xlogy_u8":
            assert f(ndgrad, ndgrad.tensor(ints, dtype=ndgrad.float16)).dtype is ndgrad.float16, key


def test_special_namespace_aliases() -> None:
    x = ndgrad.tensor([0.3, 1.7, 4.0], dtype=ndgrad.float64)
    sp = ndgrad.special
    np.testing.assert_array_equal(sp.gammaln(x).numpy(), ndgrad.lgamma(x).numpy())
    np.testing.assert_array_equal(sp.psi(x).numpy(), ndgrad.digamma(x).numpy())
    np.testing.assert_array_equal(sp.multigammaln(x + 2, 3).numpy(), ndgrad.mvlgamma(x + 2, 3).numpy())
    np.testing.assert_array_equal(sp.expit(x).numpy(), ndgrad.sigmoid(x).numpy())
    np.testing.assert_allclose(sp.softmax(x, 0).numpy(), np.exp(x.numpy()) / np.exp(x.numpy()).sum())
    np.testing.assert_allclose(sp.log_softmax(x, 0).exp().numpy(), sp.softmax(x, 0).numpy())
    np.testing.assert_allclose(sp.logsumexp(x, 0).numpy(), np.log(np.exp(x.numpy()).sum()))
    for name in sp.__all__:
        assert callable(getattr(sp, name)), name


def test_gradients_of_the_family() -> None:
    """d lgamma = digamma, d digamma = trigamma, ... and the special rules, to second order."""
    x = ndgrad.tensor([0.4, 1.3, 2.5, -1.5, -0.3], dtype=ndgrad.float64, requires_grad=True)
    y = ndgrad.tensor([0.4, 1.3, 2.5, 7.0, 0.05], dtype=ndgrad.float64, requires_grad=True)
    sp = ndgrad.special
    for f in (ndgrad.lgamma, ndgrad.digamma, lambda a: ndgrad.polygamma(2, a), sp.i1, sp.i1e, sp.i0e, sp.erfcx,
              sp.log_ndtr):
        assert gradcheck(f, (x,)) and gradgradcheck(f, (x,))
    for f in (lambda a: sp.zeta(3.5, a), lambda a: ndgrad.mvlgamma(a + 3, 4), sp.entr, lambda a: sp.ndtri(a / 8)):
        assert gradcheck(f, (y,)) and gradgradcheck(f, (y,))
    g = ndgrad.autograd.grad(ndgrad.lgamma(x).sum(), x)[0]
    np.testing.assert_allclose(g.numpy(), ndgrad.digamma(x).detach().numpy(), rtol=1e-15)
    z = ndgrad.tensor([0.0], dtype=ndgrad.float64, requires_grad=True)
    assert ndgrad.autograd.grad(sp.i1(z).sum(), z)[0].item() == 0.5


def test_errors_match_torch() -> None:
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="does not support negative n"):
        ndgrad.polygamma(-1, x)
    with pytest.raises(NotImplementedError, match="derivative for .zeta. is not implemented"):
        ndgrad.special.zeta(x, 2.0).sum().backward()
    with pytest.raises(TypeError, match="must be Tensor"):
        ndgrad.lgamma([1.0])
    with pytest.raises(RuntimeError, match="size of tensor a"):
        ndgrad.special.xlog1py(ndgrad.ones(2), ndgrad.ones(3))


def test_incomplete_gamma(torch_ref: object) -> None:
    """P and Q over a wide (a, x) range against PyTorch (its own error is ~1e-9) and 30-digit mpmath."""
    rng = np.random.default_rng(11)
    a = np.concatenate([np.exp(rng.uniform(-4, 6, 300)), [0.0, 1.0, 2.0, -1.0, 3.0]])
    x = np.concatenate([np.exp(rng.uniform(-6, 6.5, 300)), [1.0, 0.0, np.inf, 1.0, -1.0]])
    for key, fn in (("gammainc", "gammainc"), ("gammaincc", "gammaincc")):
        want = torch_ref(key, lambda torch, fn=fn: getattr(torch.special, fn)(torch.tensor(a), torch.tensor(x)))
        got = getattr(ndgrad.special, fn)(ndgrad.tensor(a), ndgrad.tensor(x)).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12)
    mp = pytest.importorskip("mpmath").mp
    mp.dps = 30
    p = ndgrad.igamma(ndgrad.tensor(a[:60]), ndgrad.tensor(x[:60])).numpy()
    ref = [float(mp.gammainc(mp.mpf(float(s)), 0, mp.mpf(float(t)), regularized=True)) for s, t in zip(a[:60], x[:60])]
    np.testing.assert_allclose(p, ref, rtol=1e-12, atol=1e-15)
    xs = ndgrad.tensor([0.5, 2.0, 7.0], dtype=ndgrad.float64, requires_grad=True)
    assert gradcheck(lambda t: ndgrad.igamma(ndgrad.full_like(t, 2.5), t), (xs,))
    assert gradgradcheck(lambda t: ndgrad.igammac(ndgrad.full_like(t, 2.5), t), (xs,))
    with pytest.raises(NotImplementedError, match="derivative for 'igamma: input'"):
        ndgrad.igamma(xs, ndgrad.ones(3, dtype=ndgrad.float64)).sum().backward()
