"""Accumulation as PyTorch's CPU kernels do it: float32 sums, means, variances and norms as
accurate as PyTorch's along any axis (NumPy alone adds slice after slice along non-contiguous
axes), float32 cumsum/cumprod accumulated in float64, float16/bfloat16 in float32."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from ndgrad._sums import fsum


def _rel_err(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(np.asarray(got, np.float64) - want).max() / np.abs(want).max())


def test_float32_cumsum_of_a_long_input_matches_pytorch(torch_ref):
    want = torch_ref("cumsum", lambda torch: torch.full((100000,), .1).cumsum(0)[-1].item())
    assert ndgrad.full((100000,), .1).cumsum(0)[-1].item() == want == 10000.0
    assert ndgrad.ones(5000, dtype=ndgrad.half).cumsum(0)[-1].item() == 5000.0


def test_float32_scans_accumulate_in_float64_bit_for_bit(torch_ref):
    rng = np.random.default_rng(0)
    x = (rng.random((600, 4)) * 0.002 + 0.999).astype(np.float32)
    for op in ("cumsum", "cumprod"):
        got = getattr(ndgrad.from_numpy(x), op)(0).numpy()
        want = torch_ref(op, lambda torch, op=op: getattr(torch.from_numpy(x), op)(0))
        np.testing.assert_array_equal(got, want)
        np.testing.assert_array_equal(got, getattr(x.astype(np.float64), op)(0).astype(np.float32))
    z = (x[:, :2] + 1j * x[:, 2:]).astype(np.complex64)
    np.testing.assert_array_equal(ndgrad.from_numpy(z).cumsum(0).numpy(),
                                  z.astype(np.complex128).cumsum(0).astype(np.complex64))


def test_var_of_a_tall_matrix_along_dim0_is_within_2e7_like_pytorch(torch_ref):
    """The issue's example: 182625x64 float32, var over dim 0 (NumPy alone is off by ~1e-6 here)."""
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((182625, 64), dtype=np.float32) * 0.1 + 3).astype(np.float32)
    exact = x.astype(np.float64).var(0, ddof=1)
    torch_err = torch_ref("var0_err", lambda torch: float(np.abs(torch.from_numpy(x).var(0).numpy() - exact).max()))
    err = float(np.abs(ndgrad.from_numpy(x).var(0).numpy() - exact).max())
    assert torch_err < 2e-7 and err < 2e-7, (err, torch_err)
    assert np.abs(x.var(0, ddof=1) - exact).max() > 4e-7  # what the float32 two-pass NumPy route gives


@pytest.mark.parametrize("shape,dim", [((40000, 8), 0), ((8, 40000), 1), ((4000, 3, 16), (0, 1)),
                                       ((16, 3, 4000), 2), ((3000, 40), None)])
def test_reductions_along_any_axis_are_as_accurate_as_pytorch(torch_ref, shape, dim):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 0.1 + 3).astype(np.float32)
    x64 = x.astype(np.float64)
    d = tuple(range(len(shape))) if dim is None else dim
    exact = {"sum": x64.sum(d), "mean": x64.mean(d), "var": x64.var(d, ddof=1), "std": x64.std(d, ddof=1),
             "norm": np.sqrt((x64 * x64).sum(d))}
    t = ndgrad.from_numpy(x)
    for op, want in exact.items():
        got = ndgrad.linalg.vector_norm(t, dim=d) if op == "norm" else getattr(t, op)(d)
        assert got.dtype == ndgrad.float32
        err = _rel_err(got.numpy(), want)
        ref = torch_ref(f"{op}_err", lambda torch, op=op, want=want: _rel_err(
            (torch.linalg.vector_norm(torch.from_numpy(x), dim=d) if op == "norm" else
             getattr(torch.from_numpy(x), op)(d)).numpy(), want))
        # PyTorch's error (its var/std are computed in float64), with room for a few roundings
        assert err <= max(4 * ref, 3e-7), (op, err, ref)


# (rows, columns) of a float32/float64 sum over dim 0: chunked columns (multiples of 32 / 16),
# columns left over (the interleaved scalar loop), fewer columns than a vector, short axes
SUM_CASES = [(17, 64), (20, 37), (64, 10), (100, 84), (257, 5), (1000, 120), (5000, 48), (9, 7), (5, 3),
             (70000, 33), (300, 1)]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_sum_over_an_outer_axis_adds_in_pytorchs_order(torch_ref, dtype):
    """The same bits as PyTorch (its chunked cascade), where NumPy's own order differs."""
    rng = np.random.default_rng(4)
    differs = 0
    for n, c in SUM_CASES:
        x = (rng.standard_normal((n, c)) * 0.1 + 3).astype(dtype)
        want = torch_ref(f"sum0_{n}x{c}", lambda torch, x=x: torch.from_numpy(x).sum(0))
        np.testing.assert_array_equal(ndgrad.from_numpy(x).sum(0).numpy(), want)
        differs += not np.array_equal(x.sum(0), want)
        x3 = x.reshape(1, n, c)  # a middle axis, and the mean
        np.testing.assert_array_equal(ndgrad.from_numpy(x3).mean(1).numpy()[0],
                                      torch_ref(f"mean1_{n}x{c}", lambda torch, x3=x3: torch.from_numpy(x3).mean(1)[0]))
    assert differs >= 6  # (the cases where NumPy alone adds in another order)
    h = rng.standard_normal((1000, 70)).astype(np.float16)
    np.testing.assert_array_equal(ndgrad.from_numpy(h).sum(0).numpy(),
                                  torch_ref("half", lambda torch: torch.from_numpy(h).sum(0)))


@pytest.mark.parametrize("layout", ["c", "f", "strided"])
def test_fsum_agrees_with_numpy_in_shape_and_dtype(layout):
    rng = np.random.default_rng(2)
    base = (rng.standard_normal((1001, 6, 37)) + 5).astype(np.float32)
    x = {"c": base, "f": np.asfortranarray(base), "strided": base[::1, ::2, 1:]}[layout]
    x64 = x.astype(np.float64)
    for axis in [0, 1, 2, (0, 2), (0, 1), (1, 2), None]:
        for keep in (False, True):
            got = fsum(x, axis, keep)
            want = np.add.reduce(x, axis, keepdims=keep)
            assert np.shape(got) == np.shape(want) and np.asarray(got).dtype == want.dtype
            assert _rel_err(got, x64.sum(axis, keepdims=keep)) < 3e-6
    h = x.astype(np.float16)
    got = fsum(h, 0, dtype=np.float32)
    assert got.dtype == np.float32
    assert _rel_err(got, h.astype(np.float64).sum(0)) < 3e-7
    assert fsum(np.ones((500, 3), np.int64), 0).dtype == np.int64


def test_var_and_std_are_computed_as_pytorch_computes_them(torch_ref):
    """In float64 (bit for bit PyTorch's float32 results); a reduction to one value centres on the
    mean rounded to float32, as PyTorch's all-reduce does: values one ulp apart, whose mean is not a
    float32, get twice their variance there, and the exact value along a dim."""
    a = np.float32(10000)
    x = np.tile(np.array([a, np.nextafter(a, np.float32(np.inf))], np.float32), 5000)
    exact = x.astype(np.float64).var(ddof=1)
    got, want = ndgrad.from_numpy(x).var().item(), torch_ref("var", lambda torch: torch.from_numpy(x).var().item())
    assert got == want and abs(got / exact - 2) < 1e-3
    col = x.reshape(-1, 2)
    np.testing.assert_array_equal(ndgrad.from_numpy(col).var(0).numpy(),
                                  torch_ref("var_col", lambda torch: torch.from_numpy(col).var(0)))
    # (PyTorch's all-reduce centres 0.1s on their float32 mean, 0.10000001: not zero)
    assert ndgrad.full((7,), 0.1).var().item() == torch_ref("const", lambda torch: torch.full((7,), 0.1).var().item())
    rng = np.random.default_rng(5)
    y = rng.standard_normal((300, 7)).astype(np.float32)
    for op in ("var", "std"):
        for dim in (0, 1, None):
            np.testing.assert_array_equal(getattr(ndgrad.from_numpy(y), op)(dim).numpy(), torch_ref(
                f"{op}{dim}", lambda torch, op=op, dim=dim: getattr(torch.from_numpy(y), op)(dim)))


def test_var_and_std_gradients_and_degenerate_cases(torch_ref):
    g = ndgrad.tensor(np.random.default_rng(6).standard_normal((4, 5)), requires_grad=True)
    for fn in (lambda t: t.var(), lambda t: t.std(1), lambda t: t.var(0, correction=0, keepdim=True),
               lambda t: t.std((0, 1), correction=2)):
        assert ndgrad.autograd.gradcheck(fn, (g,)) and ndgrad.autograd.gradgradcheck(fn, (g,))
    z = ndgrad.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    z.var().backward()
    np.testing.assert_allclose(z.grad.numpy(), torch_ref("cgrad", _cgrad))
    c = ndgrad.ones(3, requires_grad=True)
    c.std().backward()  # zero where the deviation is zero (not NaN)
    assert c.grad.tolist() == [0.0, 0.0, 0.0]
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert ndgrad.tensor(3.0, requires_grad=True).var().grad_fn.name() == "VarBackward0"
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        assert np.isnan(ndgrad.tensor([1.0]).std().item())


def _cgrad(torch):
    z = torch.tensor([1 + 2j, 3 - 1j], requires_grad=True)
    z.var().backward()
    return z.grad
