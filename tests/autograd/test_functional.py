"""autograd.functional (jacobian, hessian, vjp, jvp, hvp, vhp) against closed forms.

Every test takes the library as a parameter: it runs on ndgrad always and on torch
when installed, so the closed-form expectations are checked against
torch.autograd.functional live; test_matches_torch compares with PyTorch (live or recorded).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad

from _libs import LIBS, arr  # noqa: E402 (tests/autograd/_libs.py)

X = np.array([0.5, -1.2, 2.0])
Y = np.array([0.3, 0.7, -0.4])
V = np.array([1.0, -2.0, 0.5])



def T(M: Any, a: np.ndarray) -> Any:
    return M.tensor(a, dtype=M.float64)


def scalar_f(x: Any) -> Any:
    return (x ** 3).sum() + x[0] * x[1]


def scalar_hessian(x: np.ndarray) -> np.ndarray:
    h = np.diag(6 * x)
    h[0, 1] = h[1, 0] = 1.0
    return h


def two_in_two_out(x: Any, y: Any) -> tuple:
    return x * y.exp(), x.sum() * y


def two_in_two_out_jac(x: np.ndarray, y: np.ndarray) -> tuple:
    e = np.exp(y)
    return ((np.diag(e), np.diag(x * e)),
            (np.tile(y[:, None], (1, 3)), np.eye(3) * x.sum()))


@pytest.mark.parametrize("M", LIBS)
def test_jacobian_single(M: Any) -> None:
    x = T(M, X)
    j = M.autograd.functional.jacobian(lambda t: t.sin() * 2, x)
    np.testing.assert_allclose(arr(j), np.diag(2 * np.cos(X)), rtol=1e-12)
    assert not j.requires_grad
    assert not x.requires_grad  # the caller's tensor is left alone


@pytest.mark.parametrize("M", LIBS)
def test_jacobian_shapes(M: Any) -> None:
    x = T(M, np.arange(6.0).reshape(2, 3))
    j = M.autograd.functional.jacobian(lambda t: t.sum(0), x)
    assert tuple(j.shape) == (3, 2, 3)
    expected = np.zeros((3, 2, 3))
    for k in range(3):
        expected[k, :, k] = 1
    np.testing.assert_array_equal(arr(j), expected)
    j0 = M.autograd.functional.jacobian(lambda t: (t * t).sum(), x)
    assert tuple(j0.shape) == (2, 3)
    np.testing.assert_array_equal(arr(j0), 2 * np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("M", LIBS)
def test_jacobian_tuples(M: Any) -> None:
    x, y = T(M, X), T(M, Y)
    j = M.autograd.functional.jacobian(two_in_two_out, (x, y))
    exp = two_in_two_out_jac(X, Y)
    assert isinstance(j, tuple) and len(j) == 2 and all(isinstance(r, tuple) and len(r) == 2 for r in j)
    for i in range(2):
        for k in range(2):
            np.testing.assert_allclose(arr(j[i][k]), exp[i][k], rtol=1e-12)
    # tuple input, single output: a tuple over inputs
    j1 = M.autograd.functional.jacobian(lambda a, b: a * b, (x, y))
    np.testing.assert_allclose(arr(j1[0]), np.diag(Y))
    np.testing.assert_allclose(arr(j1[1]), np.diag(X))


@pytest.mark.parametrize("M", LIBS)
def test_jacobian_independent_output_is_zero(M: Any) -> None:
    x, y = T(M, X), T(M, Y)
    j = M.autograd.functional.jacobian(lambda a, b: a * 2, (x, y))
    np.testing.assert_array_equal(arr(j[1]), np.zeros((3, 3)))
    with pytest.raises(RuntimeError, match="independent of input 1"):
        M.autograd.functional.jacobian(lambda a, b: a * 2, (x, y), strict=True)


@pytest.mark.parametrize("M", LIBS)
def test_jacobian_create_graph(M: Any) -> None:
    x = T(M, X).requires_grad_()
    j = M.autograd.functional.jacobian(lambda t: t ** 3, x, create_graph=True)
    assert j.requires_grad
    (g,) = M.autograd.grad(j.sum(), x)
    np.testing.assert_allclose(arr(g), 6 * X, rtol=1e-12)


@pytest.mark.parametrize("M", LIBS)
def test_hessian(M: Any) -> None:
    x = T(M, X)
    h = M.autograd.functional.hessian(scalar_f, x)
    np.testing.assert_allclose(arr(h), scalar_hessian(X), rtol=1e-12)
    assert tuple(h.shape) == (3, 3)


@pytest.mark.parametrize("M", LIBS)
def test_hessian_tuple(M: Any) -> None:
    x, y = T(M, X), T(M, Y)
    h = M.autograd.functional.hessian(lambda a, b: (a * a * b).sum(), (x, y))
    # d2/da2 = diag(2b), d2/dadb = diag(2a), d2/db2 = 0
    np.testing.assert_allclose(arr(h[0][0]), np.diag(2 * Y), rtol=1e-12)
    np.testing.assert_allclose(arr(h[0][1]), np.diag(2 * X), rtol=1e-12)
    np.testing.assert_allclose(arr(h[1][0]), np.diag(2 * X), rtol=1e-12)
    np.testing.assert_allclose(arr(h[1][1]), np.zeros((3, 3)), atol=0)


@pytest.mark.parametrize("M", LIBS)
def test_vjp(M: Any) -> None:
    x = T(M, X)
    out, g = M.autograd.functional.vjp(lambda t: t ** 2, x, T(M, V))
    np.testing.assert_allclose(arr(out), X ** 2)
    np.testing.assert_allclose(arr(g), V * 2 * X)
    out, g = M.autograd.functional.vjp(scalar_f, x)  # v may be omitted for a scalar output
    np.testing.assert_allclose(arr(g), 3 * X ** 2 + np.array([X[1], X[0], 0.0]), rtol=1e-12)
    x, y = T(M, X), T(M, Y)
    outs, (gx, gy) = M.autograd.functional.vjp(two_in_two_out, (x, y), (T(M, V), T(M, V)))
    (jxx, jxy), (jyx, jyy) = two_in_two_out_jac(X, Y)
    np.testing.assert_allclose(arr(gx), V @ jxx + V @ jyx, rtol=1e-12)
    np.testing.assert_allclose(arr(gy), V @ jxy + V @ jyy, rtol=1e-12)
    assert isinstance(outs, tuple) and len(outs) == 2


@pytest.mark.parametrize("M", LIBS)
def test_vjp_errors(M: Any) -> None:
    x = T(M, X)
    with pytest.raises(RuntimeError, match="(?i)scalar|single element"):
        M.autograd.functional.vjp(lambda t: t ** 2, x)  # v is required for a non-scalar output
    with pytest.raises(RuntimeError, match=r"v has invalid size: should be \w+\.Size\(\[3\]\) but got"):
        M.autograd.functional.vjp(lambda t: t ** 2, x, T(M, np.ones(2)))
    with pytest.raises(RuntimeError, match="should contain a single element"):
        M.autograd.functional.hessian(lambda t: t * 2, x)
    with pytest.raises(RuntimeError, match="does not require gradients"):
        M.autograd.functional.jacobian(lambda t: x * 2, x, strict=True)


@pytest.mark.parametrize("M", LIBS)
def test_jvp(M: Any) -> None:
    x = T(M, X)
    out, jv = M.autograd.functional.jvp(lambda t: t.sin() * t, x, T(M, V))
    np.testing.assert_allclose(arr(out), np.sin(X) * X)
    np.testing.assert_allclose(arr(jv), (np.cos(X) * X + np.sin(X)) * V, rtol=1e-12)
    x, y = T(M, X), T(M, Y)
    outs, jvs = M.autograd.functional.jvp(two_in_two_out, (x, y), (T(M, V), T(M, V)))
    (jxx, jxy), (jyx, jyy) = two_in_two_out_jac(X, Y)
    np.testing.assert_allclose(arr(jvs[0]), jxx @ V + jxy @ V, rtol=1e-12)
    np.testing.assert_allclose(arr(jvs[1]), jyx @ V + jyy @ V, rtol=1e-12)


@pytest.mark.parametrize("M", LIBS)
def test_hvp_vhp(M: Any) -> None:
    x = T(M, X)
    h = scalar_hessian(X)
    val, hv = M.autograd.functional.hvp(scalar_f, x, T(M, V))
    np.testing.assert_allclose(float(val), (X ** 3).sum() + X[0] * X[1])
    np.testing.assert_allclose(arr(hv), h @ V, rtol=1e-12)
    val, vh = M.autograd.functional.vhp(scalar_f, x, T(M, V))
    np.testing.assert_allclose(arr(vh), V @ h, rtol=1e-12)
    x, y = T(M, X), T(M, Y)
    _, (hx, hy) = M.autograd.functional.hvp(lambda a, b: (a * a * b).sum(), (x, y), (T(M, V), T(M, V)))
    np.testing.assert_allclose(arr(hx), 2 * Y * V + 2 * X * V, rtol=1e-12)
    np.testing.assert_allclose(arr(hy), 2 * X * V, rtol=1e-12)


@pytest.mark.parametrize("M", LIBS)
def test_hvp_create_graph(M: Any) -> None:
    x = T(M, X).requires_grad_()
    _, hv = M.autograd.functional.hvp(lambda t: (t ** 4).sum(), x, T(M, V), create_graph=True)
    assert hv.requires_grad
    (g,) = M.autograd.grad(hv.sum(), x)
    np.testing.assert_allclose(arr(g), 24 * X * V, rtol=1e-12)


def _nonsymmetric_case(M: Any) -> tuple:
    rng = np.random.default_rng(3)
    A = T(M, rng.standard_normal((3, 3)))
    return A, (lambda t: (A @ t).tanh().sum() * t.sum()), T(M, X), T(M, V)


def _nonsymmetric_result(M: Any, fn: str) -> Any:
    """autograd.functional.`fn` of library M on the nonsymmetric case."""
    _, f, x, v = _nonsymmetric_case(M)
    F = getattr(M.autograd.functional, fn)

    def g(t: Any) -> Any:
        return (t * f(t)).cos()
    if fn == "jacobian":
        return F(g, x)
    if fn == "hessian":
        return F(f, x)
    return F(g, x, v)[1] if fn in ("vjp", "jvp") else F(f, x, v)[1]


@pytest.mark.parametrize("fn", ["jacobian", "hessian", "vjp", "jvp", "hvp", "vhp"])
def test_matches_torch(fn: str, torch_ref: Any) -> None:
    want = torch_ref("r", lambda torch: _nonsymmetric_result(torch, fn))
    np.testing.assert_allclose(arr(_nonsymmetric_result(ndgrad, fn)), want, rtol=1e-10, atol=1e-12)
