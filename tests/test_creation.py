"""Tensor factories: tensor()'s inference rules, arange/linspace/logspace/eye/full/zeros/*_like,
from_numpy/numpy memory sharing, and reproducible random numbers.

Expected values are NumPy expressions or literals recorded from PyTorch 2.13, so the tests
run without torch; `test_live_*` repeat the factory table against torch (live when it is
installed, else its recording in tests/references).
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import ndgrad



@pytest.fixture(autouse=True)
def _restore_default_dtype():
    yield
    ndgrad.set_default_dtype(ndgrad.float32)


def check(t: ndgrad.Tensor, dtype: str, values: object) -> None:
    assert isinstance(t, ndgrad.Tensor)
    assert t.dtype is getattr(ndgrad, dtype), (t.dtype, dtype)
    want = np.asarray(values)
    assert tuple(t.shape) == want.shape
    if want.dtype.kind in "fc":
        np.testing.assert_allclose(t.numpy(), want, rtol=1e-6, atol=1e-7)
    else:
        np.testing.assert_array_equal(t.numpy(), want)


# (expression, dtype, values): values recorded from PyTorch
FACTORIES = [
    ("L.tensor([1, 2])", "int64", [1, 2]),
    ("L.tensor([1, 2.0])", "float32", [1.0, 2.0]),
    ("L.tensor([True, 1])", "int64", [1, 1]),
    ("L.tensor([True, False])", "bool", [True, False]),
    ("L.tensor([])", "float32", np.zeros(0)),
    ("L.tensor([[]])", "float32", np.zeros((1, 0))),
    ("L.tensor(3)", "int64", 3),
    ("L.tensor(3.5)", "float32", 3.5),
    ("L.tensor(np.float64(1.5))", "float64", 1.5),
    ("L.tensor(np.int32(3))", "int32", 3),
    ("L.tensor(np.array([1, 2], dtype=np.int16))", "int16", [1, 2]),
    ("L.tensor([L.tensor(1.0), L.tensor(2.0)])", "float32", [1.0, 2.0]),
    ("L.tensor([L.tensor(1), L.tensor(2.5)])", "float32", [1.0, 2.5]),
    ("L.tensor([1, 2], dtype=L.float64)", "float64", [1.0, 2.0]),
    ("L.tensor([1.7, -1.7], dtype=L.int64)", "int64", [1, -1]),
    ("L.tensor([1+2j, 3])", "complex64", [1 + 2j, 3]),
    ("L.tensor(1e300, dtype=L.float32)", "float32", np.inf),
    ("L.tensor([[1, 2], [3, 4]], dtype=L.bool)", "bool", [[True, True], [True, True]]),
    ("L.tensor(((1, 2), (3, 4)))", "int64", [[1, 2], [3, 4]]),
    ("L.tensor(range(4))", "int64", [0, 1, 2, 3]),
    ("L.as_tensor([1, 2])", "int64", [1, 2]),
    ("L.as_tensor(np.arange(3), dtype=L.float32)", "float32", [0.0, 1.0, 2.0]),
    ("L.arange(5)", "int64", [0, 1, 2, 3, 4]),
    ("L.arange(5.0)", "float32", [0.0, 1.0, 2.0, 3.0, 4.0]),
    ("L.arange(0, 1, 0.25)", "float32", [0.0, 0.25, 0.5, 0.75]),
    ("L.arange(1, 2.5, 0.5)", "float32", [1.0, 1.5, 2.0]),
    ("L.arange(10, 0, -3)", "int64", [10, 7, 4, 1]),
    ("L.arange(0, 1, 0.1)", "float32", np.arange(10) * 0.1),
    ("L.arange(0, -1, -0.3)", "float32", [0.0, -0.3, -0.6, -0.9]),
    ("L.arange(5, dtype=L.float32)", "float32", [0.0, 1.0, 2.0, 3.0, 4.0]),
    ("L.arange(0.5, 4, dtype=L.int64)", "int64", [0, 1, 2, 3]),
    ("L.arange(0, 5, 2, dtype=L.float64)", "float64", [0.0, 2.0, 4.0]),
    ("L.arange(0)", "int64", np.zeros(0, np.int64)),
    ("L.arange(3, 3)", "int64", np.zeros(0, np.int64)),
    ("L.arange(L.tensor(3))", "int64", [0, 1, 2]),
    ("L.arange(np.int64(4))", "int64", [0, 1, 2, 3]),
    ("L.arange(-3, 3, 1.5)", "float32", [-3.0, -1.5, 0.0, 1.5]),
    ("L.arange(1, 4, 0.3)", "float32", 1 + 0.3 * np.arange(10)),
    ("L.arange(0, 5, 1.0)", "float32", [0.0, 1.0, 2.0, 3.0, 4.0]),
    ("L.linspace(0, 1, 5)", "float32", [0.0, 0.25, 0.5, 0.75, 1.0]),
    ("L.linspace(0, 1, 1)", "float32", [0.0]),
    ("L.linspace(0, 1, 0)", "float32", np.zeros(0)),
    ("L.linspace(0, 10, 5, dtype=L.int64)", "int64", [0, 2, 5, 7, 10]),
    ("L.linspace(-1, 1, 4, dtype=L.float64)", "float64", [-1.0, -1 / 3, 1 / 3, 1.0]),
    ("L.linspace(5, 1, 4)", "float32", [5.0, 11 / 3, 7 / 3, 1.0]),
    ("L.linspace(0, 10, 7, dtype=L.int32)", "int32", [0, 1, 3, 5, 6, 8, 10]),
    ("L.linspace(L.tensor(0.0), L.tensor(1.0), 3)", "float32", [0.0, 0.5, 1.0]),
    ("L.logspace(0, 2, 3)", "float32", [1.0, 10.0, 100.0]),
    ("L.logspace(0, 3, 4, base=2)", "float32", [1.0, 2.0, 4.0, 8.0]),
    ("L.logspace(0, 2, 3, dtype=L.float64)", "float64", [1.0, 10.0, 100.0]),
    ("L.logspace(0, 2, 3, dtype=L.int64)", "int64", [1, 10, 100]),
    ("L.logspace(-1, 1, 5)", "float32", 10 ** np.linspace(-1, 1, 5)),
    ("L.eye(3)", "float32", np.eye(3)),
    ("L.eye(2, 3)", "float32", np.eye(2, 3)),
    ("L.eye(3, 2, dtype=L.int64)", "int64", np.eye(3, 2, dtype=np.int64)),
    ("L.eye(0)", "float32", np.zeros((0, 0))),
    ("L.eye(2, dtype=L.bool)", "bool", np.eye(2, dtype=bool)),
    ("L.full((2, 3), 1.5)", "float32", np.full((2, 3), 1.5)),
    ("L.full((2,), 3)", "int64", [3, 3]),
    ("L.full((2,), True)", "bool", [True, True]),
    ("L.full((2,), 1+1j)", "complex64", [1 + 1j, 1 + 1j]),
    ("L.full([2, 2], 7, dtype=L.float64)", "float64", np.full((2, 2), 7.0)),
    ("L.full((), 2.0)", "float32", 2.0),
    ("L.full((2,), L.tensor(2.5))", "float32", [2.5, 2.5]),
    ("L.zeros(2, 3)", "float32", np.zeros((2, 3))),
    ("L.zeros((2, 3))", "float32", np.zeros((2, 3))),
    ("L.zeros([2, 3])", "float32", np.zeros((2, 3))),
    ("L.zeros(0)", "float32", np.zeros(0)),
    ("L.zeros(())", "float32", 0.0),
    ("L.zeros(2, 3, dtype=L.int32)", "int32", np.zeros((2, 3), np.int32)),
    ("L.ones(2, 3)", "float32", np.ones((2, 3))),
    ("L.ones(3, dtype=L.bool)", "bool", [True] * 3),
    ("L.ones(L.Size([2, 3]))", "float32", np.ones((2, 3))),
    ("L.zeros_like(L.ones(2, 3, dtype=L.int32))", "int32", np.zeros((2, 3), np.int32)),
    ("L.ones_like(L.ones(2, 3), dtype=L.float64)", "float64", np.ones((2, 3))),
    ("L.full_like(L.arange(3), 2.7)", "int64", [2, 2, 2]),
    ("L.full_like(L.ones(3), 2)", "float32", [2.0, 2.0, 2.0]),
    ("L.full_like(L.ones(3, dtype=L.bool), 2)", "bool", [True] * 3),
    ("L.tril(L.ones(3, 3))", "float32", np.tril(np.ones((3, 3)))),
    ("L.triu(L.ones(2, 3), 1)", "float32", np.triu(np.ones((2, 3)), 1)),
    ("L.from_numpy(np.array(2.5))", "float64", 2.5),
    ("L.scalar_tensor(3)", "float32", 3.0),
    ("L.tensor([1, 2]).new_zeros(3)", "int64", [0, 0, 0]),
    ("L.tensor([1, 2]).new_ones((2, 2))", "int64", [[1, 1], [1, 1]]),
    ("L.tensor([1., 2]).new_full((2,), 3)", "float32", [3.0, 3.0]),
    ("L.tensor([1., 2]).new_tensor([1, 2])", "float32", [1.0, 2.0]),
    ("L.tensor([1, 2], dtype=L.uint8) - 3", "uint8", [254, 255]),
    ("L.stack([L.ones(2), L.zeros(2)], 1)", "float32", [[1, 0], [1, 0]]),
    ("L.cat([L.ones(2), L.zeros(3)])", "float32", [1, 1, 0, 0, 0]),
    ("L.meshgrid(L.arange(2), L.arange(3), indexing='ij')[0]", "int64", [[0, 0, 0], [1, 1, 1]]),
    ("L.meshgrid(L.arange(2), L.arange(3), indexing='xy')[0]", "int64", [[0, 1], [0, 1], [0, 1]]),
    ("L.meshgrid([L.arange(2), L.arange(3)], indexing='xy')[1]", "int64", [[0, 0], [1, 1], [2, 2]]),
]


@pytest.mark.parametrize("expr,dtype,values", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_factories(expr: str, dtype: str, values: object) -> None:
    check(eval(expr, {"L": ndgrad, "np": np}), dtype, values)  # noqa: S307 - literal table above


def _dtype_and_value(t: Any) -> list:
    return [t.dtype, t]


@pytest.mark.parametrize("expr,dtype,values", FACTORIES, ids=[f[0] for f in FACTORIES])
def test_live_factories(expr: str, dtype: str, values: object, torch_ref: Any) -> None:
    """The table's expressions against PyTorch itself (live, or as recorded from it)."""
    t_dtype, t = torch_ref("t", lambda torch: _dtype_and_value(eval(expr, {"L": torch, "np": np})))  # noqa: S307
    n = eval(expr, {"L": ndgrad, "np": np})  # noqa: S307 - literal table above
    assert t_dtype == "torch." + n.dtype.name
    assert t.shape == tuple(n.shape)
    np.testing.assert_allclose(n.numpy().astype(np.complex128), t.astype(np.complex128), rtol=1e-6, atol=1e-7)


def test_tensor_copies_its_data() -> None:
    a = np.arange(3.0)
    t = ndgrad.tensor(a)
    a[0] = 99
    assert t[0].item() == 0.0
    src = ndgrad.ones(2)
    t2 = ndgrad.tensor(src)
    src.add_(1)
    assert t2.tolist() == [1.0, 1.0]


def test_tensor_requires_grad_and_empty_shape() -> None:
    t = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf and t.grad is None
    assert ndgrad.empty(2, 3).shape == (2, 3) and ndgrad.empty(0, 3).shape == (0, 3)
    assert ndgrad.empty_like(ndgrad.ones(2, 3, dtype=ndgrad.int16)).dtype is ndgrad.int16
    assert ndgrad.zeros(2, requires_grad=True).requires_grad


def test_default_dtype_applies_to_factories() -> None:
    ndgrad.set_default_dtype(ndgrad.float64)
    for t in (ndgrad.tensor([1.5]), ndgrad.zeros(2), ndgrad.ones(2), ndgrad.arange(0.0, 2.0), ndgrad.linspace(0, 1, 3),
              ndgrad.logspace(0, 1, 3), ndgrad.eye(2), ndgrad.full((2,), 1.5), ndgrad.rand(2), ndgrad.randn(2),
              ndgrad.empty(2), ndgrad.normal(0.0, 1.0, (2,))):
        assert t.dtype is ndgrad.float64
    assert ndgrad.arange(3).dtype is ndgrad.int64
    assert ndgrad.full((2,), 3).dtype is ndgrad.int64


# --- NumPy interop and memory sharing ----------------------------------------------
def test_from_numpy_shares_memory_both_ways() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = ndgrad.from_numpy(a)
    assert t.dtype is ndgrad.float32 and t.shape == (2, 3)
    a[0, 0] = 42
    assert t[0, 0].item() == 42
    t[1, 2] = -1
    assert a[1, 2] == -1
    t.add_(1)
    assert a[0, 0] == 43


def test_numpy_shares_memory() -> None:
    t = ndgrad.arange(4)
    n = t.numpy()
    assert n.dtype == np.int64
    n[0] = 7
    assert t[0].item() == 7
    t.mul_(2)
    assert n.tolist() == [14, 2, 4, 6]


def test_as_tensor_and_asarray_share_memory_unless_converting() -> None:
    a = np.arange(3.0)
    t = ndgrad.as_tensor(a)
    a[1] = 10
    assert t[1].item() == 10
    c = ndgrad.as_tensor(a, dtype=ndgrad.float32)
    a[2] = 20
    assert c[2].item() == 2.0
    x = ndgrad.ones(2)
    assert ndgrad.as_tensor(x) is x
    assert ndgrad.asarray(a).numpy() is a or np.shares_memory(ndgrad.asarray(a).numpy(), a)
    assert not np.shares_memory(ndgrad.asarray(a, copy=True).numpy(), a)


def test_array_protocol() -> None:
    t = ndgrad.tensor([[1.0, 2.0]])
    assert np.asarray(t).dtype == np.float32
    assert np.asarray(t, dtype=np.float64).dtype == np.float64
    assert np.array(t).tolist() == [[1.0, 2.0]]
    assert (np.asarray(ndgrad.tensor(3)) == 3).all()


def test_from_numpy_rejects() -> None:
    with pytest.raises(TypeError, match="expected np.ndarray"):
        ndgrad.from_numpy([1, 2])
    with pytest.raises(ValueError, match="negative"):
        ndgrad.from_numpy(np.arange(6)[::-1])
    with pytest.raises(ValueError, match="byte order"):
        ndgrad.from_numpy(np.array([1, 2], dtype=">i4"))
    with pytest.raises(TypeError, match="can't convert np.ndarray of type numpy.object"):
        ndgrad.from_numpy(np.array([object()]))
    t = ndgrad.from_numpy(np.arange(6)[::2])  # positive strides are fine, and stay a view
    assert t.tolist() == [0, 2, 4]


# --- random numbers ------------------------------------------------------------------
SAMPLERS = [
    lambda g: ndgrad.rand(3, 2, generator=g),
    lambda g: ndgrad.randn(4, generator=g),
    lambda g: ndgrad.randint(0, 10, (5,), generator=g),
    lambda g: ndgrad.randint(7, (2, 2), generator=g),
    lambda g: ndgrad.randperm(6, generator=g),
    lambda g: ndgrad.normal(2.0, 3.0, (4,), generator=g),
    lambda g: ndgrad.normal(ndgrad.zeros(3), ndgrad.ones(3), generator=g),
    lambda g: ndgrad.bernoulli(ndgrad.full((6,), 0.5), generator=g),
    lambda g: ndgrad.multinomial(ndgrad.tensor([0.1, 0.5, 0.4]), 5, replacement=True, generator=g),
    lambda g: ndgrad.multinomial(ndgrad.tensor([0.1, 0.5, 0.4, 0.2]), 3, generator=g),
    lambda g: ndgrad.empty(4).uniform_(-2, 2, generator=g),
    lambda g: ndgrad.empty(4).normal_(1, 0.5, generator=g),
]


@pytest.mark.parametrize("i", range(len(SAMPLERS)))
def test_manual_seed_reproduces_global_stream(i: int) -> None:
    f = SAMPLERS[i]
    ndgrad.manual_seed(1234)
    a, a2 = f(None), f(None)
    ndgrad.manual_seed(1234)
    b, b2 = f(None), f(None)
    assert a.tolist() == b.tolist() and a2.tolist() == b2.tolist()
    ndgrad.manual_seed(99)
    c = f(None)
    assert c.dtype is a.dtype and c.shape == a.shape


@pytest.mark.parametrize("i", range(len(SAMPLERS)))
def test_generator_is_independent_of_global_stream(i: int) -> None:
    f = SAMPLERS[i]
    g = ndgrad.Generator().manual_seed(7)
    a = f(g)
    ndgrad.manual_seed(0)
    ndgrad.rand(10)  # advancing the global generator does not affect g
    g.manual_seed(7)
    assert f(g).tolist() == a.tolist()


def test_rng_state_round_trip() -> None:
    ndgrad.manual_seed(5)
    state = ndgrad.get_rng_state()
    a = ndgrad.rand(4)
    ndgrad.set_rng_state(state)
    assert ndgrad.rand(4).tolist() == a.tolist()
    g = ndgrad.Generator()
    s = g.get_state()
    x = ndgrad.randn(3, generator=g)
    g.set_state(s)
    assert ndgrad.randn(3, generator=g).tolist() == x.tolist()
    assert ndgrad.manual_seed(3).initial_seed() == 3


_UNPICKLED: list = []


class _Payload:
    def __reduce__(self) -> tuple:
        return (_UNPICKLED.append, ("ran",))


def test_rng_state_is_plain_bytes_never_unpickled() -> None:
    # regression: set_rng_state unpickled the tensor's bytes, so a state read from a file could run code
    import pickle
    g = ndgrad.Generator().manual_seed(1)
    ndgrad.randint(0, 5, (3,), generator=g)  # may leave a buffered 32-bit value in the state
    s = g.get_state()
    assert s.dtype is ndgrad.uint8 and s.shape == (48,)
    want = ndgrad.randint(0, 1000, (5,), generator=g).tolist()
    assert ndgrad.Generator().set_state(s) is not None
    assert ndgrad.randint(0, 1000, (5,), generator=g.set_state(s)).tolist() == want
    evil = ndgrad.tensor(list(pickle.dumps(_Payload())), dtype=ndgrad.uint8)
    with pytest.raises(RuntimeError, match="Invalid RNG state"):
        ndgrad.set_rng_state(evil)
    assert _UNPICKLED == []


def test_random_values_and_dtypes() -> None:
    ndgrad.manual_seed(0)
    r = ndgrad.rand(2000)
    assert r.dtype is ndgrad.float32 and 0 <= r.min().item() and r.max().item() < 1
    assert abs(r.mean().item() - 0.5) < 0.05
    n = ndgrad.randn(4000, dtype=ndgrad.float64)
    assert n.dtype is ndgrad.float64 and abs(n.mean().item()) < 0.1 and abs(n.std().item() - 1) < 0.1
    i = ndgrad.randint(3, 10, (1000,))
    assert i.dtype is ndgrad.int64 and i.min().item() == 3 and i.max().item() == 9
    assert ndgrad.randint(3, 10, (2, 2), dtype=ndgrad.int32).dtype is ndgrad.int32
    p = ndgrad.randperm(50)
    assert p.dtype is ndgrad.int64 and sorted(p.tolist()) == list(range(50))
    assert ndgrad.randperm(0).shape == (0,)
    assert ndgrad.rand(()).shape == () and ndgrad.randn(0).shape == (0,)
    b = ndgrad.bernoulli(ndgrad.tensor([0.0, 1.0, 0.0, 1.0]))
    assert b.tolist() == [0.0, 1.0, 0.0, 1.0] and b.dtype is ndgrad.float32
    m = ndgrad.multinomial(ndgrad.tensor([[0.0, 1.0], [1.0, 0.0]]), 1)
    assert m.tolist() == [[1], [0]] and m.dtype is ndgrad.int64
    m = ndgrad.multinomial(ndgrad.tensor([0.3, 0.3, 0.4]), 3)
    assert sorted(m.tolist()) == [0, 1, 2]
    m = ndgrad.multinomial(ndgrad.tensor([0.0, 1.0, 0.0]), 2)  # zero-weight categories come last
    assert m[0].item() == 1 and m[1].item() in (0, 2)
    u = ndgrad.empty(1000, dtype=ndgrad.float64).uniform_(2, 3)
    assert u.dtype is ndgrad.float64 and 2 <= u.min().item() and u.max().item() < 3
    nn = ndgrad.zeros(2000).normal_(5, 2)
    assert abs(nn.mean().item() - 5) < 0.2 and abs(nn.std().item() - 2) < 0.2
    s = ndgrad.normal(ndgrad.zeros(3), ndgrad.ones(2, 1))
    assert s.shape == (2, 3)
    assert math.isfinite(ndgrad.normal(0.0, ndgrad.ones(3)).sum().item())


@pytest.mark.parametrize("call,exc,words", [
    (lambda: ndgrad.rand(2, dtype=ndgrad.int64), NotImplementedError, "check_uniform_bounds"),
    (lambda: ndgrad.randn(2, dtype=ndgrad.int64), NotImplementedError, "normal_kernel_cpu"),
    (lambda: ndgrad.zeros(3, dtype=ndgrad.int64).uniform_(), NotImplementedError, "Long"),
    (lambda: ndgrad.zeros(3).uniform_(3, 1), RuntimeError, "from=3 > to=1"),
    (lambda: ndgrad.randint(5, 5, (2,)), RuntimeError, "from=5 >= to=5"),
    (lambda: ndgrad.randperm(-1), RuntimeError, "negative dimension"),
    (lambda: ndgrad.normal(0, -1, (3,)), RuntimeError, "std >= 0.0"),
    (lambda: ndgrad.bernoulli(ndgrad.full((3,), 2.0)), RuntimeError, "p_in >= 0 && p_in <= 1"),
    (lambda: ndgrad.multinomial(ndgrad.tensor([0.2, 0.8]), 3), RuntimeError, "without replacement"),
    (lambda: ndgrad.multinomial(ndgrad.tensor([-1.0, 1.0]), 1), RuntimeError, "element < 0"),
    (lambda: ndgrad.multinomial(ndgrad.tensor([0.0, 0.0]), 1), RuntimeError, "sum of probabilities"),
])
def test_random_errors(call, exc: type, words: str) -> None:  # noqa: ANN001
    with pytest.raises(exc, match=words.replace("(", r"\(").replace("|", r"\|")):
        call()


@pytest.mark.parametrize("call,exc,words", [
    (lambda: ndgrad.tensor([[1, 2], [3]]), ValueError, "expected sequence of length 2 at dim 1 (got 1)"),
    (lambda: ndgrad.tensor([[1, 2], 3]), TypeError, "not a sequence"),
    (lambda: ndgrad.tensor(["a"]), ValueError, "too many dimensions 'str'"),
    (lambda: ndgrad.tensor("abc"), TypeError, "invalid data type 'str'"),
    (lambda: ndgrad.tensor([1, None]), RuntimeError, "Could not infer dtype of NoneType"),
    (lambda: ndgrad.tensor(2 ** 63), ValueError, "Overflow"),
    (lambda: ndgrad.tensor([1, 2], requires_grad=True), RuntimeError, "floating point and complex dtype"),
    (lambda: ndgrad.arange(0, 10, 0), RuntimeError, "step must be nonzero"),
    (lambda: ndgrad.arange(0, 10, -1), RuntimeError, "upper bound and lower bound inconsistent with step sign"),
    (lambda: ndgrad.arange(float("inf")), RuntimeError, "unsupported range"),
    (lambda: ndgrad.linspace(0, 1, -1), RuntimeError, "number of steps must be non-negative"),
    (lambda: ndgrad.linspace(0, 1, 2.5), TypeError, "steps"),
    (lambda: ndgrad.eye(-1), RuntimeError, "n must be greater or equal to 0, got -1"),
    (lambda: ndgrad.zeros(-1), RuntimeError, "negative dimension"),
    (lambda: ndgrad.zeros(2.5), TypeError, "must be tuple of ints"),
    (lambda: ndgrad.zeros_like([1, 2]), TypeError, "must be Tensor, not list"),
    (lambda: ndgrad.meshgrid(ndgrad.arange(2), indexing="ab"), RuntimeError, "indexing must be one of"),
])
def test_creation_errors(call, exc: type, words: str) -> None:  # noqa: ANN001
    import re
    with pytest.raises(exc, match=re.escape(words)):
        call()


def test_legacy_constructors() -> None:
    """ndgrad.Tensor(...) and the typed constructors (values and dtypes recorded from PyTorch)."""
    check(ndgrad.Tensor([1, 2]), "float32", [1.0, 2.0])
    assert ndgrad.Tensor(2, 3).shape == (2, 3) and ndgrad.Tensor().shape == (0,)
    check(ndgrad.LongTensor([1, 2]), "int64", [1, 2])
    check(ndgrad.DoubleTensor([1, 2]), "float64", [1.0, 2.0])
    check(ndgrad.BoolTensor([1, 0]), "bool", [True, False])
    check(ndgrad.ByteTensor([1, 2]), "uint8", [1, 2])
    check(ndgrad.IntTensor([1, 2]), "int32", [1, 2])
    assert ndgrad.FloatTensor(3).shape == (3,) and ndgrad.FloatTensor(3).dtype is ndgrad.float32
    assert isinstance(ndgrad.ones(2), ndgrad.FloatTensor) and not isinstance(ndgrad.ones(2), ndgrad.LongTensor)
    assert isinstance(ndgrad.arange(2), ndgrad.LongTensor) and isinstance(ndgrad.ones(2), ndgrad.Tensor)
