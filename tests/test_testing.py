"""ndgrad.testing (torch.testing): assert_close's verdicts and reports, assert_allclose, make_tensor,
against PyTorch (live, or recorded in tests/references/ without torch)."""
import warnings

import numpy as np
import pytest

import ndgrad

nan, inf = float("nan"), float("inf")

# (name, fn(torch) -> None): each call either passes or raises; the outcome and message must be PyTorch's
CASES = {
    "float_close": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.0 + 1e-6])),
    "float_far": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0, 3.0]), t.tensor([1.0, 2.1, 3.0])),
    "float_2d": lambda t: t.testing.assert_close(t.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                                  t.tensor([[1.0, 2.0], [3.0, 5.0]]), atol=0.5, rtol=0),
    "zero_expected": lambda t: t.testing.assert_close(t.tensor([0.0, 1.0]), t.tensor([0.0, 2.0])),
    "rel_inf": lambda t: t.testing.assert_close(t.tensor([1.0, 1.0]), t.tensor([0.0, 2.0])),
    "nan_unequal": lambda t: t.testing.assert_close(t.tensor([1.0, nan]), t.tensor([1.0, nan])),
    "nan_equal": lambda t: t.testing.assert_close(t.tensor([1.0, nan]), t.tensor([1.0, nan]), equal_nan=True),
    "nan_vs_number": lambda t: t.testing.assert_close(t.tensor([1.0, nan]), t.tensor([2.0, 2.0])),
    "inf_same": lambda t: t.testing.assert_close(t.tensor([inf, -inf]), t.tensor([inf, -inf])),
    "inf_sign": lambda t: t.testing.assert_close(t.tensor([inf]), t.tensor([-inf])),
    "big": lambda t: t.testing.assert_close(t.tensor([1e30]), t.tensor([1.0001e30])),
    "int": lambda t: t.testing.assert_close(t.tensor([1, 2, 3]), t.tensor([1, 3, 3])),
    "uint8": lambda t: t.testing.assert_close(t.tensor([3, 2], dtype=t.uint8), t.tensor([1, 3], dtype=t.uint8)),
    "bool": lambda t: t.testing.assert_close(t.tensor([True, False]), t.tensor([True, True])),
    "complex": lambda t: t.testing.assert_close(t.tensor([1.0 + 1j]), t.tensor([1.0 + 2j])),
    "float64": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0], dtype=t.float64),
                                                 t.tensor([1.0, 2.0 + 1e-6], dtype=t.float64)),
    "float16": lambda t: t.testing.assert_close(t.tensor([1.0], dtype=t.float16),
                                                 t.tensor([1.0009], dtype=t.float16)),
    "shape": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.0, 3.0])),
    "dtype": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.0], dtype=t.float64)),
    "dtype_unchecked": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0], dtype=t.float64),
                                                         t.tensor([1.0, 2.5]), check_dtype=False),
    "int_vs_float_unchecked": lambda t: t.testing.assert_close(t.tensor([1, 2], dtype=t.int32),
                                                                t.tensor([1.0, 3.5]), check_dtype=False),
    "stride": lambda t: t.testing.assert_close(t.ones(2, 3)[:, ::2], t.ones(2, 2), check_stride=True),
    "layout": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.0]).to_sparse()),
    "sparse_equal": lambda t: t.testing.assert_close(t.eye(3).to_sparse(), t.eye(3).to_sparse()),
    "requires_grad": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0], requires_grad=True), t.tensor([1.0, 2.0])),
    "parameter": lambda t: t.testing.assert_close(t.nn.Parameter(t.tensor([1.0])), t.tensor([1.0])),
    "no_subclasses": lambda t: t.testing.assert_close(t.nn.Parameter(t.tensor([1.0])), t.tensor([1.0]),
                                                       allow_subclasses=False),
    "zero_dim": lambda t: t.testing.assert_close(t.tensor(1.0), t.tensor(1.2)),
    "zero_dim_int": lambda t: t.testing.assert_close(t.tensor(2), t.tensor(3)),
    "empty": lambda t: t.testing.assert_close(t.tensor([]), t.tensor([])),
    "custom_tol": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.5]), rtol=0.1, atol=0.1),
    "only_rtol": lambda t: t.testing.assert_close(t.tensor([1.0]), t.tensor([1.0]), rtol=1e-3),
    "only_atol": lambda t: t.testing.assert_close(t.tensor([1.0]), t.tensor([1.0]), atol=1e-3),
    "msg_str": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.5]), msg="custom"),
    "msg_callable": lambda t: t.testing.assert_close(t.tensor([1.0, 2.0]), t.tensor([1.0, 2.5]),
                                                      msg=lambda m: m.upper()),
    "numpy": lambda t: t.testing.assert_close(np.array([1.0, 2.0]), np.array([1.0, 2.5])),
    "tensor_vs_numpy": lambda t: t.testing.assert_close(t.tensor([1.0]), np.array([1.0])),
    "tensor_vs_float": lambda t: t.testing.assert_close(t.tensor(1.0), 1.0),
    "floats": lambda t: t.testing.assert_close(1.0, 1.1),
    "floats_close": lambda t: t.testing.assert_close(1.0, 1.0 + 1e-8),
    "ints": lambda t: t.testing.assert_close(1, 2),
    "float_vs_int": lambda t: t.testing.assert_close(1.0, 1),
    "complex_numbers": lambda t: t.testing.assert_close(1 + 1j, 1 + 2j),
    "bools": lambda t: t.testing.assert_close(True, False),
    "float_nan": lambda t: t.testing.assert_close(nan, nan),
    "float_nan_equal": lambda t: t.testing.assert_close(nan, nan, equal_nan=True),
    "none": lambda t: t.testing.assert_close(None, None),
    "none_vs_int": lambda t: t.testing.assert_close(None, 1),
    "strings": lambda t: t.testing.assert_close("a", "a"),
    "list_tuple": lambda t: t.testing.assert_close([1, 2], (1, 2)),
    "lengths": lambda t: t.testing.assert_close([1, 2], [1, 2, 3]),
    "list_item": lambda t: t.testing.assert_close([t.tensor(1.0), t.tensor(2.0)], [t.tensor(1.0), t.tensor(2.5)]),
    "nested": lambda t: t.testing.assert_close([[t.tensor(1.0)], {"x": t.tensor([1.0, 2.0])}],
                                                [[t.tensor(1.0)], {"x": t.tensor([1.0, 3.0])}]),
    "dict_keys": lambda t: t.testing.assert_close({"a": t.tensor(1.0)}, {"b": t.tensor(1.0)}),
    "dict_item": lambda t: t.testing.assert_close({"a": t.tensor(1.0)}, {"a": t.tensor(1.5)}),
    "state_dicts": lambda t: t.testing.assert_close(t.nn.Linear(2, 2).requires_grad_(False).state_dict(),
                                                     {"weight": t.zeros(2, 2), "bias": t.zeros(2)},
                                                     atol=10.0, rtol=0.0),
}


def outcome(torch, fn):
    try:
        fn(torch)
        return "ok"
    except Exception as e:  # noqa: BLE001 - the type and message are what is compared
        return f"{type(e).__name__}: {e}"


@pytest.mark.parametrize("name", sorted(CASES))
def test_assert_close_matches_torch(torch_ref, name):
    want = torch_ref(name, lambda torch: outcome(torch, CASES[name]))
    got = outcome(ndgrad, CASES[name]).replace("ndgrad.", "torch.")
    assert got == want


def test_assert_allclose_deprecated_and_loose(torch_ref):
    def run(torch):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            out = [outcome(torch, lambda t: t.testing.assert_allclose(t.tensor([1.0, 2.0]), [1.0, 2.0 + 1e-5])),
                   outcome(torch, lambda t: t.testing.assert_allclose(t.tensor([1.0, 2.0]), [1.0, 2.5])),
                   outcome(torch, lambda t: t.testing.assert_allclose(t.tensor([1.0, nan]), [1.0, nan])),
                   outcome(torch, lambda t: t.testing.assert_allclose(2.0, 2.0))]
        return out, [x.category.__name__ for x in w]
    got = run(ndgrad)
    assert got == torch_ref("run", run)


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "int64", "int8", "uint8", "bool", "complex64"])
def test_make_tensor_dtype_shape_and_range(dtype):
    dt = getattr(ndgrad, dtype)
    x = ndgrad.testing.make_tensor(2000, dtype=dt, device="cpu")
    assert x.dtype == dt and x.shape == (2000,) and x.is_contiguous()
    parts = [x.real, x.imag] if dt.is_complex else [x]
    for p in parts:
        v = p.numpy().astype(np.float64)
        if dtype == "bool":
            assert set(v.tolist()) == {0.0, 1.0}
        elif dtype == "uint8":  # PyTorch: [0, 10) for unsigned
            assert v.min() == 0 and v.max() == 9
        elif dt.is_floating_point or dt.is_complex:  # PyTorch: [-9, 9)
            assert -9 <= v.min() < -8.5 and 8.5 < v.max() <= 9
        else:
            assert v.min() == -9 and v.max() == 9
    y = ndgrad.testing.make_tensor((3, 4), dtype=dt, device="cpu", noncontiguous=True)
    assert y.shape == (3, 4) and not y.is_contiguous()


def test_make_tensor_options():
    mt = ndgrad.testing.make_tensor
    x = mt(2, 3, dtype=ndgrad.float32, device="cpu", low=0, high=1, requires_grad=True)
    assert x.shape == (2, 3) and x.requires_grad and x.is_leaf and 0 <= float(x.min()) and float(x.max()) < 1
    assert sorted(set(mt(200, dtype=ndgrad.int64, device="cpu", low=3, high=5).tolist())) == [3, 4]
    assert (mt(500, dtype=ndgrad.float32, device="cpu", low=-1, high=1, exclude_zero=True) != 0).all()
    assert (mt(500, dtype=ndgrad.int64, device="cpu", low=-1, high=2, exclude_zero=True) != 0).all()
    assert set(mt(100, dtype=ndgrad.uint8, device="cpu", low=-5, high=3).tolist()) <= {0, 1, 2}
    assert mt(ndgrad.Size([2, 2]), dtype=ndgrad.float64, device="cpu").shape == (2, 2)
    with pytest.warns(FutureWarning, match="low==high"):
        assert mt(3, dtype=ndgrad.float32, device="cpu", low=3, high=3).tolist() == [3.0, 3.0, 3.0]


ERRORS = {
    "low_high": lambda t: t.testing.make_tensor(2, dtype=t.float32, device="cpu", low=5, high=1),
    "nan": lambda t: t.testing.make_tensor(2, dtype=t.float32, device="cpu", low=float("nan")),
    "no_device": lambda t: t.testing.make_tensor(2, dtype=t.float32),
    "int_grad": lambda t: t.testing.make_tensor(2, dtype=t.int64, device="cpu", requires_grad=True),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_make_tensor_errors_match_torch(torch_ref, name):
    want = torch_ref(name, lambda torch: outcome(torch, ERRORS[name]))
    assert outcome(ndgrad, ERRORS[name]).replace("ndgrad.", "torch.") == want


def test_testing_under_the_alias():
    import subprocess
    import sys
    code = ("import torch, torch.testing\n"
            "from torch.testing import assert_close\n"
            "try:\n    assert_close(torch.tensor([1.0]), torch.tensor([1.0], dtype=torch.float64))\n"
            "except AssertionError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", "import ndgrad; ndgrad.use_as_torch()\n" + code],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == "The values for attribute 'dtype' do not match: torch.float32 != torch.float64."
