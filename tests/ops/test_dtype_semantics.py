"""PyTorch's numerics where NumPy's differ: accumulation dtypes of half-precision reductions,
float-valued ops on integer and bool inputs computed in the result dtype, complex inputs with
real outputs (stored as the real dtype they declare, with their gradients), the dtypes PyTorch's
kernels refuse (its exception types), bool arithmetic errors, and float16 through BatchNorm."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad

LOW = ("float16", "bfloat16")


def _np(t):
    return t.float().numpy() if t.dtype == ndgrad.bfloat16 else t.numpy()


def _half_input(dt: str):
    return ndgrad.full((3000,), 1.001).to(getattr(ndgrad, dt)), ndgrad.linspace(-2, 2, 2048).to(getattr(ndgrad, dt))


@pytest.mark.parametrize("dt", LOW)
def test_half_precision_reductions_accumulate_in_float32(torch_ref, dt):
    """sum/mean/cumsum/var/std/norm/softmax/logsumexp of float16 and bfloat16 compute in float32 and
    round once: 3000 x 1.001 sums to 3003 (a float16 accumulator stalls at 2048 + ...)."""
    ops = {"sum": lambda L, x: x.sum(), "mean": lambda L, x: x.mean(), "cumsum": lambda L, x: x.cumsum(0)[-1],
           "var": lambda L, x: x.var(), "std": lambda L, x: x.std(), "norm": lambda L, x: x.norm(),
           "softmax": lambda L, x: L.softmax(x, 0)[-3:], "log_softmax": lambda L, x: L.log_softmax(x, 0)[:3],
           "logsumexp": lambda L, x: L.logsumexp(x, 0), "prod_short": lambda L, x: x[:16].prod()}

    def run(L):
        ones = L.full((3000,), 1.001).to(getattr(L, dt))
        ramp = L.linspace(-2, 2, 2048).to(getattr(L, dt))
        out = {}
        for name, f in ops.items():
            r = f(L, ones if name in ("sum", "mean", "cumsum", "prod_short") else ramp)
            out[name] = (str(r.dtype).split(".")[-1], r.float().numpy())
        return out
    want = torch_ref("all", run)
    got = run(ndgrad)
    for name in ops:
        assert got[name][0] == want[name][0] == dt, name
        np.testing.assert_allclose(got[name][1], want[name][1], rtol=2e-3 if dt == "float16" else 8e-3,
                                   err_msg=name)
    assert got["sum"][1] > 3000 and got["cumsum"][1] > 3000


def test_issue_examples(torch_ref):
    """The cases issue 13 lists, each as PyTorch computes it."""
    cases = {
        "half_cumsum": lambda L: L.ones(5000, dtype=L.half).cumsum(0)[-1].float(),
        "f32_cumsum": lambda L: L.full((100000,), .1).cumsum(0)[-1],
        "atan2_bool": lambda L: L.atan2(L.tensor([True, False]), L.tensor([True, True])),
        "atan2_uint8": lambda L: L.atan2(L.tensor([3, 200], dtype=L.uint8), L.tensor([7, 1], dtype=L.uint8)),
        "xlogy_int8": lambda L: L.xlogy(L.tensor([3, -2], dtype=L.int8), L.tensor([7, 5], dtype=L.int8)),
        "logit_uint8": lambda L: L.logit(L.tensor([0, 1, 3], dtype=L.uint8)),
        "hypot_big": lambda L: L.hypot(L.tensor([3e38, 1e-40]), L.tensor([3e38, 1e-40])),
        "hypot_half": lambda L: L.hypot(L.tensor([300.], dtype=L.half), L.tensor([400.], dtype=L.half)).float(),
        "logaddexp": lambda L: L.logaddexp(L.tensor([1e4, -1e4, 0.5]), L.tensor([1e4, 1.0, -0.5])),
        "logaddexp2_half": lambda L: L.logaddexp2(L.tensor([3., -1.], dtype=L.half),
                                                  L.tensor([3., 8.], dtype=L.half)).float(),
        "logaddexp_complex": lambda L: L.logaddexp(L.tensor([1 + 2j]), L.tensor([0.5 - 1j])),
        "copysign_int_half": lambda L: L.copysign(L.tensor([3, -2]), L.tensor([-1., 2.], dtype=L.half)).float(),
        "copysign_bool": lambda L: L.copysign(L.tensor([True, False]), L.tensor([-1, 1])),
    }
    for name, f in cases.items():
        want = torch_ref(name, f)
        got = f(ndgrad)
        assert got.numpy().dtype == want.dtype, name
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, err_msg=name)


def test_complex_to_real_ops_store_the_real_dtype_and_differentiate(torch_ref):
    z = np.array([3 + 4j, -1 + 0.5j, 2j], np.complex64)
    fns = {"abs": lambda L, t: t.abs(), "angle": lambda L, t: t.angle(), "real": lambda L, t: t.real,
           "imag": lambda L, t: t.imag, "norm": lambda L, t: t.norm(),
           "vector_norm1": lambda L, t: L.linalg.vector_norm(t, 1)}
    for name, f in fns.items():
        def run(L, f=f):
            t = L.tensor(z, requires_grad=True)
            out = f(L, t)
            (out * L.arange(1, out.numel() + 1).reshape(out.shape)).sum().backward()
            return str(out.dtype).split(".")[-1], out.detach().numpy(), t.grad
        dt, val, grad = run(ndgrad)
        want = torch_ref(name, run)
        assert dt == want[0] == "float32" and val.dtype == np.float32, name
        np.testing.assert_allclose(val, want[1], rtol=1e-6, err_msg=name)
        assert grad.dtype == ndgrad.complex64
        np.testing.assert_allclose(grad.numpy(), want[2], rtol=1e-5, atol=1e-7, err_msg=name)


REFUSED = [  # (call, dtype) PyTorch refuses, with the exception type it raises
    (lambda L, x: L.erf(x), "complex64"), (lambda L, x: L.floor(x), "complex128"),
    (lambda L, x: L.sign(x), "complex64"), (lambda L, x: L.relu(x), "complex64"),
    (lambda L, x: L.frac(x), "int32"), (lambda L, x: L.frac(x), "bool"), (lambda L, x: L.hypot(x, x), "int8"),
    (lambda L, x: L.logaddexp(x, x), "uint8"), (lambda L, x: L.lt(x, x), "complex64"),
    (lambda L, x: L.remainder(x, x), "bool"), (lambda L, x: x // x, "complex64"), (lambda L, x: L.pow(x, x), "bool"),
    (lambda L, x: L.div(x, x, rounding_mode="trunc"), "bool"), (lambda L, x: L.atan2(x, x), "complex64"),
    (lambda L, x: x.amax(), "complex64"), (lambda L, x: x.max(), "complex128"), (lambda L, x: x.max(0), "complex64"),
    (lambda L, x: x.argmax(), "bool"), (lambda L, x: x.sort(), "complex64"), (lambda L, x: x.topk(1), "bool"),
    (lambda L, x: x.median(), "bool"), (lambda L, x: x.kthvalue(1), "complex64"),
    (lambda L, x: L.nansum(x), "complex64"), (lambda L, x: L.softmax(x, 0), "complex64"),
    (lambda L, x: L.clamp(x, 0), "complex64"), (lambda L, x: L.deg2rad(x), "complex64"),
    (lambda L, x: L.isposinf(x), "complex64"), (lambda L, x: L.signbit(x), "complex64"),
    (lambda L, x: L.cummax(x, 0), "complex64"), (lambda L, x: +x, "bool"), (lambda L, x: x - 1, "bool"),
    (lambda L, x: 1 - x, "bool"), (lambda L, x: x - True, "int64"), (lambda L, x: L.lgamma(x), "complex64"),
    (lambda L, x: L.round(x), "complex64"),
]


@pytest.mark.parametrize("i", range(len(REFUSED)))
def test_refused_dtypes_raise_what_pytorch_raises(torch_ref, i):
    f, dt = REFUSED[i]

    def outcome(L):
        try:
            f(L, L.ones(3).to(getattr(L, dt)))
        except Exception as e:  # noqa: BLE001 - the exception is the outcome
            return type(e).__name__, str(e).strip()
        return "ok", ""
    want = torch_ref("outcome", outcome)
    assert want[0] != "ok"
    assert outcome(ndgrad) == tuple(want)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("dt", LOW)
def test_batch_norm_keeps_half_input_half(torch_ref, train, dt):
    """float32 statistics and affine parameters do not turn float16/bfloat16 input into float32
    (PyTorch's mixed-dtype batch norm); float64 input with float32 parameters is refused."""
    x = np.random.default_rng(0).standard_normal((4, 3, 5)).astype(np.float32)

    def run(L):
        m = L.nn.BatchNorm1d(3)
        with L.no_grad():
            m.weight.copy_(L.tensor([1.5, 0.5, -1.0]))
            m.bias.copy_(L.tensor([0.1, 0.2, 0.3]))
        m.train(train)
        t = L.tensor(x).to(getattr(L, dt)).requires_grad_()
        y = m(t)
        y.float().pow(2).sum().backward()
        return str(y.dtype).split(".")[-1], y.float().detach().numpy(), t.grad.float(), m.weight.grad, m.running_mean
    got, want = run(ndgrad), torch_ref("bn", run)
    assert got[0] == want[0] == dt
    tol = 1e-2 if dt == "float16" else 5e-2
    for g, w in zip(got[1:], want[1:]):
        np.testing.assert_allclose(g.numpy() if hasattr(g, "numpy") else g, w, rtol=tol, atol=tol)
    with pytest.raises(RuntimeError, match="mixed dtype"):
        ndgrad.nn.BatchNorm1d(3)(ndgrad.ones(2, 3, dtype=ndgrad.float64))


def test_the_debug_check_catches_a_tensor_whose_array_disagrees_with_its_dtype():
    """The suite runs with NDGRAD_CHECK_DTYPES=1 (tests/conftest.py): assigning a dtype to a tensor
    whose array holds another dtype fails at once."""
    import os
    if os.environ.get("NDGRAD_CHECK_DTYPES") != "1":
        pytest.skip("the check is enabled by the suite's conftest")
    t = ndgrad.ones(2)
    with pytest.raises(AssertionError, match="declared float64 stores a ndarray of dtype float32"):
        t._dtype = ndgrad.float64
