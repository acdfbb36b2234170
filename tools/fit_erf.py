"""Derive the polynomial coefficients of ndgrad.ops._specfun's vectorised erf/erfc (a development tool;
needs mpmath). Prints Python literals to paste into _specfun.py.

Pieces (x >= 0; erf is odd):
  |x| <= 1:  erf(x) = x * P(x^2), P the Chebyshev interpolant of erf(sqrt t)/sqrt t on t in [0, 1],
             converted to powers of t (well conditioned there: the coefficients fall off like 1/n!)
  1 < x < X: erfc(x) = exp(-x^2) * R(x), R the Chebyshev interpolant of erfcx on [1, X] (kept in the
             Chebyshev basis and summed with Clenshaw's recurrence: powers would be ill conditioned)
For double results P has degree 11 and R degree 28 on [1, 6] (relative error about 3e-16 and 4e-16);
for float32 and narrower results P degree 6 and R degree 11 on [1, 4] (below 1.4e-9 and 5e-9 absolute),
then rounded once.

    python tools/fit_erf.py
"""
from __future__ import annotations

import mpmath

mpmath.mp.dps = 50


def cheb_coeffs(f, lo: float, hi: float, n: int) -> list:
    """Coefficients of the degree-n Chebyshev interpolant of f on [lo, hi] (first-kind nodes)."""
    N = n + 1
    nodes = [mpmath.cos(mpmath.pi * (j + mpmath.mpf(1) / 2) / N) for j in range(N)]
    fs = [f(lo + (u + 1) * (mpmath.mpf(hi) - lo) / 2) for u in nodes]
    c = [2 * mpmath.fsum(fs[j] * mpmath.cos(mpmath.pi * k * (j + mpmath.mpf(1) / 2) / N) for j in range(N)) / N
         for k in range(N)]
    c[0] /= 2
    return c


def to_powers(c: list, lo: float, hi: float) -> list:
    """The Chebyshev series on [lo, hi] as coefficients of 1, x, x^2, ..."""
    n = len(c)
    T = [[mpmath.mpf(1)], [mpmath.mpf(0), mpmath.mpf(1)]]
    for k in range(2, n):
        a = [mpmath.mpf(0)] + [2 * v for v in T[k - 1]]
        b = T[k - 2] + [mpmath.mpf(0)] * (len(a) - len(T[k - 2]))
        T.append([x - y for x, y in zip(a, b)])
    pu = [mpmath.mpf(0)] * n
    for k in range(n):
        for i, v in enumerate(T[k]):
            pu[i] += c[k] * v
    a = 2 / (mpmath.mpf(hi) - lo)
    b = -(mpmath.mpf(hi) + lo) / (mpmath.mpf(hi) - lo)
    px = [mpmath.mpf(0)] * n
    for i, v in enumerate(pu):
        for j in range(i + 1):
            px[j] += v * mpmath.binomial(i, j) * a ** j * b ** (i - j)
    return px


def small(t):
    return mpmath.erf(mpmath.sqrt(t)) / mpmath.sqrt(t) if t > 0 else 2 / mpmath.sqrt(mpmath.pi)


def erfcx(x):
    return mpmath.exp(x * x) * mpmath.erfc(x)


def literal(name: str, vals: list) -> str:
    """A tuple literal, four values a line."""
    items = [repr(float(v)) for v in vals]
    lines = [", ".join(items[i:i + 4]) for i in range(0, len(items), 4)]
    return f"{name} = (" + ",\n    ".join(lines) + ")"


if __name__ == "__main__":
    print(literal("_ERF_P64", to_powers(cheb_coeffs(small, 0, 1, 11), 0, 1)))
    print(literal("_ERF_P32", to_powers(cheb_coeffs(small, 0, 1, 6), 0, 1)))
    print(literal("_ERFCX_C64", cheb_coeffs(erfcx, 1, 6, 28)))
    print(literal("_ERFCX_C32", cheb_coeffs(erfcx, 1, 4, 11)))
