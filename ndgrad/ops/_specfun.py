"""Special functions on float64 NumPy arrays, vectorised (NumPy has none of these).

Each kernel takes and returns float64 arrays; callers cast to the result dtype.
Accuracy targets float64: series where they converge quickly, recurrences to move
an argument into that range, and asymptotic expansions for large arguments.
"""
from __future__ import annotations

import math
from fractions import Fraction

import numpy as np

EULER = 0.57721566490153286061
_LOG_PI = math.log(math.pi)
_HALF_LOG_2PI = 0.5 * math.log(2 * math.pi)
_SQRT_PI = math.sqrt(math.pi)
_SQRT2 = math.sqrt(2.0)


def _bernoulli_even(n: int) -> list:
    """B_2, B_4, ..., B_2n as Fractions (Akiyama-Tanigawa)."""
    out = []
    a = [Fraction(0)] * (2 * n + 1)
    for m in range(2 * n + 1):
        a[m] = Fraction(1, m + 1)
        for j in range(m, 0, -1):
            a[j - 1] = j * (a[j - 1] - a[j])
        if m >= 2 and m % 2 == 0:
            out.append(a[0])
    return out


_B2K = _bernoulli_even(14)  # B_2 .. B_28


def _zeta_int(k: int) -> float:
    """Riemann zeta at an integer k >= 2 (direct sum + Euler-Maclaurin tail)."""
    n = 20
    s = math.fsum((j + 1.0) ** -k for j in range(n))
    a = n + 1.0
    tail = a ** (1 - k) / (k - 1) + 0.5 * a ** -k
    rising = float(k)
    for j, b in enumerate(_B2K[:10], start=1):
        tail += float(b) / math.factorial(2 * j) * rising * a ** (-k - 2 * j + 1)
        rising *= (k + 2 * j - 1) * (k + 2 * j)
    return s + tail


# lgamma(1 + z) = -EULER z + sum_{k>=2} (-1)^k zeta(k) / k z^k
# lgamma(2 + z) = (1 - EULER) z + sum_{k>=2} (-1)^k (zeta(k) - 1) / k z^k
_ZETA = [0.0, 0.0] + [_zeta_int(k) for k in range(2, 60)]
_LG1 = [0.0, -EULER] + [(-1) ** k * _ZETA[k] / k for k in range(2, 60)]
_LG2 = [0.0, 1 - EULER] + [(-1) ** k * (_ZETA[k] - 1) / k for k in range(2, 40)]


def _horner(coefs: list, z: np.ndarray) -> np.ndarray:
    acc = np.zeros_like(z)
    for c in reversed(coefs):
        acc = acc * z + c
    return acc


def sinpi(x: np.ndarray) -> np.ndarray:
    """sin(pi x) with exact argument reduction (exact zeros at the integers)."""
    n = np.round(2.0 * x)
    f = (x - 0.5 * n) * math.pi
    k = np.mod(n, 4.0)
    s, c = np.sin(f), np.cos(f)
    return np.where(k == 0, s, np.where(k == 1, c, np.where(k == 2, -s, -c)))


def cospi(x: np.ndarray) -> np.ndarray:
    """cos(pi x) with exact argument reduction."""
    return sinpi(np.abs(x) + 0.5)


def _lgamma_pos(x: np.ndarray) -> np.ndarray:
    """log Gamma(x) for x > 0 (finite)."""
    out = np.empty_like(x)
    small = x < 0.5
    if small.any():  # lgamma(x) = lgamma(1 + x) - log(x)
        xs = x[small]
        out[small] = _horner(_LG1, xs) - np.log(xs)
    near1 = (x >= 0.5) & (x < 1.5)
    if near1.any():
        out[near1] = _horner(_LG1, x[near1] - 1.0)
    mid = (x >= 1.5) & (x < 10.0)
    if mid.any():  # move down into [1.5, 2.5): lgamma(x) = lgamma(x - n) + log((x-1)...(x-n))
        xm = x[mid].copy()
        prod = np.ones_like(xm)
        for _ in range(8):
            step = xm >= 2.5
            if not step.any():
                break
            xm = np.where(step, xm - 1.0, xm)
            prod = np.where(step, prod * xm, prod)
        out[mid] = _horner(_LG2, xm - 2.0) + np.log(prod)
    big = x >= 10.0
    if big.any():  # Stirling's series
        xb = x[big]
        r = 1.0 / xb
        r2 = r * r
        corr = np.zeros_like(xb)
        for j in range(8, 0, -1):
            b = float(_B2K[j - 1])
            corr = corr * r2 + b / (2 * j * (2 * j - 1))
        with np.errstate(over="ignore", invalid="ignore"):
            out[big] = (xb - 0.5) * np.log(xb) - xb + _HALF_LOG_2PI + corr * r
    return out


def lgamma(x: np.ndarray) -> np.ndarray:
    """log |Gamma(x)|; +inf at the poles 0, -1, -2, ..."""
    x = np.asarray(x, np.float64)
    out = np.full(x.shape, np.inf)
    with np.errstate(all="ignore"):
        pos = (x > 0) & np.isfinite(x)
        if pos.any():
            out[pos] = _lgamma_pos(x[pos])
        neg = (x < 0) & np.isfinite(x) & (x != np.floor(x))
        if neg.any():  # reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
            xn = x[neg]
            out[neg] = _LOG_PI - np.log(np.abs(sinpi(xn))) - _lgamma_pos(1.0 - xn)
    out[np.isnan(x)] = np.nan
    return out


def gamma_sign(x: np.ndarray) -> np.ndarray:
    """The sign of Gamma(x) (1 for x > 0; alternating between the negative poles)."""
    x = np.asarray(x, np.float64)
    return np.where((x > 0) | (np.floor(x) % 2 == 0), 1.0, -1.0)


def digamma(x: np.ndarray) -> np.ndarray:
    """psi(x) = d/dx log Gamma(x); nan at the negative integers, -/+inf at +/-0."""
    x = np.asarray(x, np.float64)
    out = np.empty(x.shape)
    with np.errstate(all="ignore"):
        neg = x < 0
        y = np.where(neg, 1.0 - x, x)
        acc = np.zeros_like(y)
        for _ in range(10):  # psi(y) = psi(y + 1) - 1 / y until y >= 10
            low = y < 10.0
            if not low.any():
                break
            acc = np.where(low, acc - 1.0 / y, acc)
            y = np.where(low, y + 1.0, y)
        r2 = 1.0 / (y * y)
        series = np.zeros_like(y)
        for j in range(8, 0, -1):
            series = series * r2 + float(_B2K[j - 1]) / (2 * j)
        out = acc + np.log(y) - 0.5 / y - series * r2
        out = np.where(np.isposinf(y), np.inf, out)
        if neg.any():  # psi(x) = psi(1 - x) - pi / tan(pi x)
            out = np.where(neg, out - math.pi * cospi(x) / sinpi(x), out)
            out = np.where(neg & (x == np.floor(x)), np.nan, out)
    out = np.where(x == 0, np.copysign(np.inf, -x), out)
    return np.where(np.isneginf(x), np.nan, out)


def zeta(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hurwitz zeta sum_k (q + k)^-s (Riemann's for q = 1); nan for s < 1, inf at s = 1
    and at q = 0, -1, -2, ...; a negative q needs an integer s."""
    s, q = np.broadcast_arrays(np.asarray(s, np.float64), np.asarray(q, np.float64))
    with np.errstate(all="ignore"):
        negq = q < 0
        if negq.any():
            # move q into [0, 1): the skipped terms (q + k < 0) are (-1)^s zeta-differences of f = 1 - frac
            m = np.where(negq, np.ceil(-q), 0.0)
            q1 = q + m
            f = -(q + (m - 1.0))  # exact, unlike 1 - q1 when q is tiny
            sign = np.where(np.mod(s, 2.0) == 0, 1.0, -1.0)
            part = sign * (_zeta_pos(s, np.where(negq, f, 1.0)) - _zeta_pos(s, np.where(negq, f + m, 1.0)))
            out = np.where(negq, part + _zeta_pos(s, np.where(negq, q1, 1.0)), _zeta_pos(s, q))
            out = np.where(negq & (s != np.floor(s)), np.nan, out)
        else:
            out = _zeta_pos(s, q)
        out = np.where(q == np.floor(q), np.where(q <= 0, np.inf, out), out)
        out = np.where(s == 1, np.inf, np.where(s < 1, np.nan, out))
    return np.where(np.isnan(s) | np.isnan(q), np.nan, out)


def _zeta_pos(s: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Hurwitz zeta for q >= 0, s > 1 by Euler-Maclaurin summation (12 terms + tail)."""
    n = 12
    total = np.zeros(np.broadcast(s, q).shape)
    for k in range(n):
        total += (q + k) ** -s
    a = q + n
    total += a ** (1.0 - s) / (s - 1.0) + 0.5 * a ** -s
    rising = s.copy()  # s (s+1) ... (s + 2j - 2)
    apow = a ** (-s - 1.0)
    inv_a2 = 1.0 / (a * a)
    for j in range(1, 13):
        total += float(_B2K[j - 1]) / math.factorial(2 * j) * rising * apow
        rising = rising * (s + 2 * j - 1) * (s + 2 * j)
        apow = apow * inv_a2
    return total


def polygamma(n: int, x: np.ndarray) -> np.ndarray:
    """n-th derivative of digamma: (-1)^(n+1) n! zeta(n + 1, x)."""
    x = np.asarray(x, np.float64)
    if n == 0:
        return digamma(x)
    with np.errstate(all="ignore"):
        if n == 1:  # trigamma, with the reflection psi1(x) + psi1(1 - x) = pi^2 / sin^2(pi x)
            neg = x < 0
            z = zeta(np.full(x.shape, 2.0), np.where(neg, 1.0 - x, x))
            return np.where(neg, (math.pi / sinpi(x)) ** 2 - z, z)
        out = (-1.0) ** (n + 1) * math.factorial(n) * zeta(np.full(x.shape, n + 1.0), x)
        return np.where(np.isposinf(x), np.nan, out)  # PyTorch's value at +inf


# ---------------------------------------------------------------------------
# error functions and the normal distribution
# ---------------------------------------------------------------------------
# Piecewise polynomial fits (tools/fit_erf.py derives them): erf(x) = x P(x^2) for |x| <= 1 and
# erfc(x) = exp(-x^2) R(x) for 1 < x < X, R a Chebyshev series on [1, X]. The "64" set is accurate to a
# few units in the last place of a double; the "32" set, for results rounded to float32 or narrower,
# to about 5e-9, at well under half the cost.
_ERF_P64 = (1.1283791670955126, -0.37612638903183543, 0.11283791670945006, -0.02686617064323777,
    0.0052239776071164225, -0.0008548325975389692, 0.00012055294904839707, -1.492473690741966e-05,
    1.6447424703317362e-06, -1.6208483801871705e-07, 1.3720064546777686e-08, -7.795898827002142e-10)
_ERF_P32 = (1.1283791658483509, -0.37612626666720334, 0.11283594715160218, -0.026854212010626412,
    0.005189087423433974, -0.000801686428716587, 7.875875062685488e-05)
_ERFCX_C64 = (0.20196598791223083, -0.147884835533987, 0.05188222158351389, -0.017525709964867527,
    0.005721802417478219, -0.0018109803028142997, 0.0005570714353927344, -0.00016689473052528832,
    4.878565911493746e-05, -1.3935932859822488e-05, 3.895514595190115e-06, -1.0668392337070025e-06,
    2.865502572057316e-07, -7.555861081756622e-08, 1.957586342968354e-08, -4.987110132992565e-09,
    1.2501871239431183e-09, -3.0858852312872416e-10, 7.504484747602063e-11, -1.7990193064431427e-11,
    4.253478301217652e-12, -9.923156075211234e-13, 2.2852946881888867e-13, -5.1975450866167244e-14,
    1.1678400541510938e-14, -2.5932901330272067e-15, 5.692635243339303e-16, -1.2335300698913424e-16,
    2.5358417099784882e-17)
_ERFCX_C32 = (0.24442575284923573, -0.13589862891594598, 0.03563511414853485, -0.008884098618221703,
    0.0021184239975482106, -0.00048539876404917923, 0.00010727375434906211, -2.2936633347667438e-05,
    4.756867990187301e-06, -9.58955603711829e-07, 1.8806875381765593e-07, -3.482829957909692e-08)

_erfc1 = np.vectorize(math.erfc, otypes=[np.float64])


def _horner(p: tuple, t: np.ndarray) -> np.ndarray:
    r = np.full_like(t, p[-1])
    for c in p[-2::-1]:
        r *= t
        r += c
    return r


def _clenshaw(c: tuple, u: np.ndarray) -> np.ndarray:
    """sum_k c[k] T_k(u), by Clenshaw's recurrence."""
    u2 = 2.0 * u
    b1 = np.full_like(u, c[-1])
    b2 = np.zeros_like(u)
    for ck in c[-2:0:-1]:
        b2 *= -1.0
        b2 += u2 * b1
        b2 += ck
        b1, b2 = b2, b1
    return u * b1 - b2 + c[0]


def _exp_neg_sq(x: np.ndarray) -> np.ndarray:
    """exp(-x * x) with the rounding error of the square compensated (Dekker's split)."""
    hi = x * x
    split = x * 134217729.0
    xh = split - (split - x)
    xl = x - xh
    lo = ((xh * xh - hi) + 2 * xh * xl) + xl * xl
    return np.exp(-hi) * (1.0 - lo)


def _erfc_mid(x: np.ndarray, c: tuple, top: float) -> np.ndarray:
    """erfc(x) for 1 <= x <= top from the Chebyshev series of erfcx on [1, top]."""
    return _exp_neg_sq(x) * _clenshaw(c, (2.0 * x - (top + 1.0)) / (top - 1.0))


def erf(x: np.ndarray, single: bool = False) -> np.ndarray:
    """The error function, elementwise, in float64. `single`: the result will be rounded to float32 or
    narrower, so the cheaper fits suffice."""
    x = np.asarray(x, np.float64)
    p, c, top = (_ERF_P32, _ERFCX_C32, 4.0) if single else (_ERF_P64, _ERFCX_C64, 6.0)
    shape = x.shape
    x = x.ravel()
    t = x * x
    np.minimum(t, 1.0, out=t)  # NaN stays NaN
    out = _horner(p, t)
    out *= x
    big = np.flatnonzero(t == 1.0)  # |x| >= 1 (index arrays: cheaper than boolean masks)
    if big.size:
        xb = x.take(big)
        ab = np.abs(xb)
        r = np.ones_like(ab)
        mid = np.flatnonzero(ab < top)  # beyond `top` erf rounds to +-1
        r.put(mid, 1.0 - _erfc_mid(ab.take(mid), c, top))
        out.put(big, np.copysign(r, xb))
    return out.reshape(shape)


def erfc(x: np.ndarray) -> np.ndarray:
    """1 - erf(x), accurate in the tail."""
    x = np.asarray(x, np.float64)
    shape = x.shape
    x = x.ravel()
    t = x * x
    np.minimum(t, 1.0, out=t)
    out = 1.0 - _horner(_ERF_P64, t) * x
    big = np.flatnonzero(t == 1.0)
    if big.size:
        xb = x.take(big)
        ab = np.abs(xb)
        r = np.empty_like(ab)
        mid = ab < 6.0
        r[mid] = _erfc_mid(ab[mid], _ERFCX_C64, 6.0)
        far = ~mid
        if far.any():
            r[far] = _erfc1(ab[far])  # the far tail (rare): the C library's, element by element
        out.put(big, np.where(xb < 0, 2.0 - r, r))
    return out.reshape(shape)


def _exp_sq(x: np.ndarray) -> np.ndarray:
    """exp(x * x) with the rounding error of the square compensated."""
    hi = x * x
    split = x * 134217729.0  # Dekker: x = xh + xl exactly
    xh = split - (split - x)
    xl = x - xh
    lo = ((xh * xh - hi) + 2 * xh * xl) + xl * xl
    return np.exp(hi) * (1.0 + lo)


def erfcx(x: np.ndarray) -> np.ndarray:
    """exp(x^2) erfc(x), finite for large positive x."""
    x = np.asarray(x, np.float64)
    out = np.empty(x.shape)
    with np.errstate(all="ignore"):
        big = x >= 12.0
        if big.any():  # asymptotic series: 1/(x sqrt(pi)) sum (-1)^k (2k-1)!! / (2x^2)^k
            xb = x[big]
            t = 1.0 / (2.0 * xb * xb)
            acc = np.ones_like(xb)
            term = np.ones_like(xb)
            for k in range(1, 20):
                term = -term * (2 * k - 1) * t
                acc = acc + term
            out[big] = acc / (xb * _SQRT_PI)
        rest = ~big
        if rest.any():
            xr = x[rest]
            out[rest] = np.where(xr < -26.7, np.inf, _exp_sq(xr) * erfc(xr))
    return np.where(np.isnan(x), np.nan, out)


def ndtr(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF."""
    x = np.asarray(x, np.float64)
    return 0.5 * erfc(-x / _SQRT2)


def log_ndtr(x: np.ndarray) -> np.ndarray:
    """log of the standard normal CDF, accurate in both tails."""
    x = np.asarray(x, np.float64)
    with np.errstate(all="ignore"):
        left = np.log(0.5 * erfcx(-x / _SQRT2)) - 0.5 * x * x
        right = np.log1p(-0.5 * erfc(x / _SQRT2))
    out = np.where(x < 0, left, right)
    return np.where(np.isneginf(x), -np.inf, out)


def _erfcinv_small(q: np.ndarray) -> np.ndarray:
    """erfc^-1(q) for 0 < q <= 1 by Newton steps on log erfc (well conditioned in the tail)."""
    with np.errstate(all="ignore"):
        w = np.log(q * (2.0 - q))
        a = 2.0 / (math.pi * 0.147) + 0.5 * w
        t = np.sqrt(np.maximum(np.sqrt(a * a - w / 0.147) - a, 0.0))  # Winitzki's approximation
        logq = np.log(q)
        for _ in range(6):
            ex = erfcx(t)
            f = np.log(ex) - t * t - logq
            t = t + f * ex * (_SQRT_PI / 2.0)
    return t


def erfinv(y: np.ndarray) -> np.ndarray:
    """Inverse error function on [-1, 1] (+-inf at +-1, nan outside)."""
    y = np.asarray(y, np.float64)
    out = np.empty(y.shape)
    with np.errstate(all="ignore"):
        a = np.abs(y)
        mid = a <= 0.5
        if mid.any():  # Newton on erf from a series start
            ym = y[mid]
            t = ym * (_SQRT_PI / 2.0) * (1.0 + math.pi / 12.0 * ym * ym)
            for _ in range(4):
                t = t - (erf(t) - ym) * (_SQRT_PI / 2.0) * np.exp(t * t)
            out[mid] = t
        tail = ~mid
        if tail.any():
            at = a[tail]
            out[tail] = np.sign(y[tail]) * np.where(at == 1.0, np.inf, _erfcinv_small(1.0 - at))
        out = np.where(a > 1, np.nan, out)
    return out


def ndtri(p: np.ndarray) -> np.ndarray:
    """Inverse of the standard normal CDF on [0, 1]."""
    p = np.asarray(p, np.float64)
    with np.errstate(all="ignore"):
        central = (p >= 0.25) & (p <= 0.75)
        c = _SQRT2 * erfinv(np.where(central, 2.0 * p - 1.0, 0.0))
        low = p < 0.5
        q = np.where(low, 2.0 * p, 2.0 * (1.0 - p))
        tails = _SQRT2 * _erfcinv_small(np.where(central | (q <= 0) | (q > 1), 0.5, q))
        out = np.where(central, c, np.where(low, -tails, tails))
        out = np.where(p == 0, -np.inf, np.where(p == 1, np.inf, out))
        out = np.where((p < 0) | (p > 1) | np.isnan(p), np.nan, out)
    return out


# ---------------------------------------------------------------------------
# Bessel functions
# ---------------------------------------------------------------------------
def _bessel_i_series(x: np.ndarray, nu: int) -> np.ndarray:
    """I_nu(x) = (x/2)^nu sum (x^2/4)^k / (k! (k+nu)!), for |x| <= 30."""
    z = 0.25 * x * x
    term = np.ones_like(x)
    acc = term.copy()
    for k in range(1, 80):
        term = term * z / (k * (k + nu))
        acc = acc + term
    return acc * (0.5 * x) ** nu


def _bessel_i_asym_scaled(x: np.ndarray, nu: int) -> np.ndarray:
    """exp(-x) I_nu(x) for x >= 30: sqrt(1/(2 pi x)) sum (-1)^k a_k(nu) / x^k."""
    mu = 4.0 * nu * nu
    term = np.ones_like(x)
    acc = term.copy()
    for k in range(1, 30):
        term = -term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        acc = acc + term
    return acc / np.sqrt(2 * math.pi * x)


def _bessel_i(x: np.ndarray, nu: int, scaled: bool) -> np.ndarray:
    x = np.asarray(x, np.float64)
    a = np.abs(x)
    out = np.empty(x.shape)
    with np.errstate(all="ignore"):
        small = a <= 30.0
        if small.any():
            v = _bessel_i_series(a[small], nu)
            out[small] = v * np.exp(-a[small]) if scaled else v
        big = ~small & ~np.isnan(a)
        if big.any():
            ab = a[big]
            v = _bessel_i_asym_scaled(ab, nu)
            out[big] = v if scaled else np.where(ab > 713.0, np.inf, v * np.exp(0.5 * ab) * np.exp(0.5 * ab))
        out[np.isnan(a)] = np.nan
        # +-inf: 0 scaled; NaN unscaled, as PyTorch's kernels give
        out = np.where(np.isinf(a), 0.0 if scaled else np.nan, out)
    return out


def i0(x: np.ndarray) -> np.ndarray:
    """Modified Bessel function of the first kind, order 0."""
    return _bessel_i(x, 0, False)


def i0e(x: np.ndarray) -> np.ndarray:
    """exp(-|x|) i0(x)."""
    return _bessel_i(x, 0, True)


def i1(x: np.ndarray) -> np.ndarray:
    """Modified Bessel function of the first kind, order 1 (odd)."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * _bessel_i(np.abs(x), 1, False)


def i1e(x: np.ndarray) -> np.ndarray:
    """exp(-|x|) i1(x)."""
    x = np.asarray(x, np.float64)
    return np.sign(x) * _bessel_i(np.abs(x), 1, True)


def _bessel_j_miller(x: np.ndarray) -> tuple:
    """(J0, J1) for 0 < x < 25 by Miller's backward recurrence, normalised by J0 + 2 sum J_2k = 1."""
    n_top = 2 * int(math.ceil((float(x.max()) + 30.0) / 2.0))
    jn1 = np.zeros_like(x)   # J_{n+1}
    jn = np.full_like(x, 1e-30)  # J_n
    norm = np.zeros_like(x)
    j1 = np.zeros_like(x)
    for n in range(n_top, 0, -1):
        jm = (2.0 * n / x) * jn - jn1  # J_{n-1}
        jn1, jn = jn, jm
        if (n - 1) % 2 == 0 and n - 1 > 0:
            norm = norm + 2.0 * jn
        if n - 1 == 1:
            j1 = jn
        big = np.abs(jn) > 1e200
        if big.any():  # rescale to keep the recurrence finite
            sc = np.where(big, 1e-200, 1.0)
            jn, jn1, norm, j1 = jn * sc, jn1 * sc, norm * sc, j1 * sc
    norm = norm + jn
    return jn / norm, j1 / norm


def _bessel_j_hankel(x: np.ndarray, nu: int) -> np.ndarray:
    """J_nu(x) for x >= 25 from Hankel's asymptotic expansion."""
    mu = 4.0 * nu * nu
    p = np.ones_like(x)
    q = np.zeros_like(x)
    term = np.ones_like(x)
    for k in range(1, 40):
        term = term * (mu - (2 * k - 1) ** 2) / (k * 8.0 * x)
        if k % 2:
            q = q + (term if k % 4 == 1 else -term)
        else:
            p = p + (-term if k % 4 == 2 else term)
    chi = x - (0.5 * nu + 0.25) * math.pi
    return np.sqrt(2.0 / (math.pi * x)) * (p * np.cos(chi) - q * np.sin(chi))


def _bessel_j(x: np.ndarray, nu: int) -> np.ndarray:
    x = np.asarray(x, np.float64)
    a = np.abs(x)
    out = np.empty(x.shape)
    with np.errstate(all="ignore"):
        tiny = a < 1e-8
        out[tiny] = 1.0 - 0.25 * a[tiny] ** 2 if nu == 0 else 0.5 * a[tiny]
        mid = ~tiny & (a < 25.0)
        if mid.any():
            j0, j1 = _bessel_j_miller(a[mid])
            out[mid] = j0 if nu == 0 else j1
        big = (a >= 25.0) & np.isfinite(a)
        if big.any():
            out[big] = _bessel_j_hankel(a[big], nu)
        out[np.isinf(a) | np.isnan(a)] = np.nan  # NaN at +-inf too, as PyTorch gives
    return out if nu == 0 else np.sign(x) * out


def bessel_j0(x: np.ndarray) -> np.ndarray:
    """Bessel function of the first kind, order 0."""
    return _bessel_j(x, 0)


def bessel_j1(x: np.ndarray) -> np.ndarray:
    """Bessel function of the first kind, order 1."""
    return _bessel_j(x, 1)


# ---------------------------------------------------------------------------
# regularized incomplete gamma functions
# ---------------------------------------------------------------------------
def _igamma_series(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """P(a, x) = x^a e^-x / Gamma(a + 1) * sum_n x^n / ((a + 1) ... (a + n)), for x < a + 1."""
    term = np.ones_like(x)
    total = np.ones_like(x)
    ap = a.copy()
    for _ in range(2000):
        ap = ap + 1.0
        term = term * x / ap
        total = total + term
        if np.all(np.abs(term) <= np.abs(total) * 1e-17):
            break
    return total * np.exp(a * np.log(x) - x - lgamma(a + 1.0))


def _igammac_fraction(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Q(a, x) by the continued fraction of Legendre (modified Lentz), for x >= a + 1."""
    tiny = 1e-300
    b = x + 1.0 - a
    c = np.full_like(x, 1.0 / tiny)
    d = 1.0 / b
    h = d.copy()
    for i in range(1, 2000):
        an = -i * (i - a)
        b = b + 2.0
        d = an * d + b
        d = np.where(np.abs(d) < tiny, tiny, d)
        c = b + an / c
        c = np.where(np.abs(c) < tiny, tiny, c)
        d = 1.0 / d
        delta = d * c
        h = h * delta
        if np.all(np.abs(delta - 1.0) <= 1e-16):
            break
    return h * np.exp(a * np.log(x) - x - lgamma(a))


def igamma(a: np.ndarray, x: np.ndarray, upper: bool = False) -> np.ndarray:
    """Regularized lower incomplete gamma P(a, x) (upper=True: Q = 1 - P); NaN for a < 0 or x < 0."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    a, x = a.copy(), x.copy()
    out = np.full(a.shape, np.nan)
    with np.errstate(all="ignore"):
        ok = (a > 0) & (x > 0) & np.isfinite(a) & np.isfinite(x)
        series = ok & (x < a + 1.0)
        frac = ok & ~series
        if series.any():
            p = _igamma_series(a[series], x[series])
            out[series] = 1.0 - p if upper else p
        if frac.any():
            q = _igammac_fraction(a[frac], x[frac])
            out[frac] = q if upper else 1.0 - q
        lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)
        out = np.where((x == 0) & (a > 0), lo, out)  # P(a, 0) = 0
        out = np.where((a == 0) & (x > 0), hi, out)  # P(0, x) = 1
        out = np.where(np.isposinf(x) & (a >= 0), hi, out)
        out = np.where((a < 0) | (x < 0) | np.isnan(a) | np.isnan(x), np.nan, out)
    return out
