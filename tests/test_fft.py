"""ndgrad.fft: round trips, dtypes, gradients (PyTorch's complex conventions) and errors, against
PyTorch's recorded values. Forward values of every transform are also in the op table."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import ndgrad
from _refs import outcome
from ndgrad.autograd import gradcheck, gradgradcheck

F = ndgrad.fft
NORMS = [None, "backward", "ortho", "forward"]


def _x(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("norm", NORMS)
def test_round_trips(norm: Any) -> None:
    x = ndgrad.tensor(_x(3, 6))
    np.testing.assert_allclose(F.ifft(F.fft(x, norm=norm), norm=norm).real.numpy(), x.numpy(), atol=1e-12)
    for n in (6, 7):  # even and odd lengths
        y = ndgrad.tensor(_x(2, n))
        np.testing.assert_allclose(F.irfft(F.rfft(y, norm=norm), n=n, norm=norm).numpy(), y.numpy(), atol=1e-12)
        np.testing.assert_allclose(F.hfft(F.ihfft(y, norm=norm), n=n, norm=norm).numpy(), y.numpy(), atol=1e-12)
    z = ndgrad.tensor(_x(2, 4, 5))
    np.testing.assert_allclose(F.irfftn(F.rfftn(z, norm=norm), s=(2, 4, 5), norm=norm).numpy(), z.numpy(), atol=1e-12)
    np.testing.assert_allclose(F.ifft2(F.fft2(z, norm=norm), norm=norm).real.numpy(), z.numpy(), atol=1e-12)
    np.testing.assert_allclose(F.ifftshift(F.fftshift(z)).numpy(), z.numpy())


def test_parseval_with_ortho() -> None:
    x = ndgrad.tensor(_x(16))
    energy = (F.fft(x, norm="ortho").abs() ** 2).sum().item()
    np.testing.assert_allclose(energy, (x ** 2).sum().item(), rtol=1e-12)


def test_dtypes() -> None:
    f32 = ndgrad.tensor(_x(4), dtype=ndgrad.float32)
    assert F.fft(f32).dtype is ndgrad.complex64 and F.rfft(f32).dtype is ndgrad.complex64
    assert F.fft(ndgrad.tensor(_x(4))).dtype is ndgrad.complex128
    assert F.fft(ndgrad.tensor([1, 2, 3])).dtype is ndgrad.complex64
    assert F.irfft(F.rfft(f32)).dtype is ndgrad.float32 and F.hfft(F.ihfft(f32)).dtype is ndgrad.float32
    assert F.fftfreq(4).dtype is ndgrad.float32 and F.rfftfreq(4, dtype=ndgrad.float64).dtype is ndgrad.float64


GRADS: dict[str, tuple[Callable, str, tuple]] = {  # name -> (fn(M, x), input kind, shape)
    "fft_real_n": (lambda M, a: M.fft.fft(a, n=6), "real", (3, 4)),
    "fft_complex_ortho": (lambda M, a: M.fft.fft(a, dim=0, norm="ortho"), "complex", (3, 4)),
    "rfft": (lambda M, a: M.fft.rfft(a), "real", (3, 4)),
    "rfft_n7_forward": (lambda M, a: M.fft.rfft(a, n=7, norm="forward"), "real", (3, 4)),
    "irfft": (lambda M, a: M.fft.irfft(a), "complex", (3, 4)),
    "irfft_odd": (lambda M, a: M.fft.irfft(a, n=5), "complex", (3, 4)),
    "irfft_padded_ortho": (lambda M, a: M.fft.irfft(a, n=10, norm="ortho"), "complex", (3, 4)),
    "hfft": (lambda M, a: M.fft.hfft(a), "complex", (3, 4)),
    "ihfft": (lambda M, a: M.fft.ihfft(a), "real", (3, 5)),
    "rfft2": (lambda M, a: M.fft.rfft2(a), "real", (3, 4)),
    "irfft2_s": (lambda M, a: M.fft.irfft2(a, s=(4, 6)), "complex", (3, 4)),
    "fftn_s": (lambda M, a: M.fft.fftn(a, s=(2, 5)), "complex", (3, 4)),
    "hfftn": (lambda M, a: M.fft.hfftn(a), "complex", (3, 4)),
    "ifftshift": (lambda M, a: M.fft.ifftshift(a, dim=1), "real", (3, 5)),
}


def _grad(M: Any, fn: Callable, kind: str, shape: tuple, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    data = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if kind == "complex" else 0)
    a = M.tensor(data, requires_grad=True)
    out = fn(M, a).resolve_conj()
    out = M.view_as_real(out) if out.is_complex() else out
    w = M.tensor(rng.standard_normal(tuple(out.shape)))
    (out * w).sum().backward()
    return a.grad.resolve_conj().numpy() if hasattr(a.grad, "resolve_conj") else a.grad.numpy()


@pytest.mark.parametrize("name", sorted(GRADS))
def test_gradients_match_torch(torch_ref: Any, name: str) -> None:
    """Complex gradients in PyTorch's convention (dL/dRe + i dL/dIm), real inputs get the real part."""
    fn, kind, shape = GRADS[name]
    want = torch_ref(name, lambda torch: _grad(torch, fn, kind, shape, 1))
    np.testing.assert_allclose(_grad(ndgrad, fn, kind, shape, 1), want, rtol=1e-10, atol=1e-12)


def test_gradcheck_and_gradgradcheck() -> None:
    x = ndgrad.tensor(_x(2, 5), requires_grad=True)
    re, im = (ndgrad.tensor(_x(2, 3, seed=s), requires_grad=True) for s in (1, 2))
    for f in (lambda a: ndgrad.view_as_real(F.rfft(a, n=6, norm="ortho")), lambda a: F.fftshift(a) * a,
              lambda a: ndgrad.view_as_real(F.fft2(a, s=(3, 4))), lambda a: F.irfft(F.rfft(a) * F.rfft(a.flip(-1)))):
        assert gradcheck(f, (x,)) and gradgradcheck(f, (x,))
    for g in (lambda a, b: F.irfft(ndgrad.complex(a, b), n=5), lambda a, b: F.hfft(ndgrad.complex(a, b), n=4),
              lambda a, b: ndgrad.view_as_real(F.ifftn(ndgrad.complex(a, b), norm="forward"))):
        assert gradcheck(g, (re, im)) and gradgradcheck(g, (re, im))


def test_spectral_convolution_trains() -> None:
    """A learnable filter applied in the frequency domain (FNO-style): its gradient equals the
    gradient of the same circular convolution computed directly."""
    x = ndgrad.tensor(_x(8))
    k = ndgrad.tensor(_x(8, seed=3), requires_grad=True)
    y = F.irfft(F.rfft(x) * F.rfft(k), n=8)
    (y * y).sum().backward()
    g_fft = k.grad.numpy()
    k2 = ndgrad.tensor(_x(8, seed=3), requires_grad=True)
    idx = (np.arange(8)[:, None] - np.arange(8)[None, :]) % 8  # y[i] = sum_j x[i - j] k[j]
    y2 = (ndgrad.tensor(x.numpy()[idx]) * k2).sum(1)
    (y2 * y2).sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), y2.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(g_fft, k2.grad.numpy(), atol=1e-12)



ERRORS: dict[str, Callable[[Any], Any]] = {
    "norm": lambda M: M.fft.fft(M.ones(3), norm="x"),
    "n0": lambda M: M.fft.fft(M.ones(3), n=0),
    "rfft_complex": lambda M: M.fft.rfft(M.ones(3, dtype=M.complex64)),
    "zero_dim": lambda M: M.fft.fft(M.ones(())),
    "fft2_1d": lambda M: M.fft.fft2(M.ones(3)),
    "s_dim": lambda M: M.fft.fftn(M.ones(3, 3), s=(2,), dim=(0, 1)),
    "half": lambda M: M.fft.fft(M.ones(3, dtype=M.float16)),
    "rfftn_0d": lambda M: M.fft.rfftn(M.ones(())),
    "irfft_n": lambda M: M.fft.irfft(M.ones(1, dtype=M.complex64)),
    "fftshift_0d": lambda M: M.fft.fftshift(M.ones(())),
}


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_errors_match_torch(torch_ref: Any, key: str) -> None:
    want = torch_ref(key, lambda torch: outcome(lambda: ERRORS[key](torch)))
    assert outcome(lambda: ERRORS[key](ndgrad)) == tuple(want)
