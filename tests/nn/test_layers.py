"""nn layers and their functional forms: forward values and gradients (input and
parameters) against PyTorch with identical weights, finite-difference checks in
float64 (torch-free), and train/eval behaviour of Dropout and BatchNorm."""
from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F
from ndgrad.autograd import gradcheck, gradgradcheck

from _nncheck import load_arrays, rand, seeded_params, state_arrays


def _nd(a: np.ndarray, requires_grad: bool = False) -> ndgrad.Tensor:
    t = ndgrad.tensor(np.array(a))
    return t.requires_grad_() if requires_grad else t


def _close(a, b, rtol=1e-5, atol=1e-6) -> None:
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# (name, factory(lib) -> module, input shape, input kind)
LAYERS = [
    ("Linear", lambda m: m.Linear(5, 3), (4, 5), "randn"),
    ("Linear_nobias", lambda m: m.Linear(5, 3, bias=False), (2, 4, 5), "randn"),
    ("Linear_1d", lambda m: m.Linear(5, 2), (5,), "randn"),
    ("Identity", lambda m: m.Identity(3, k=1), (3, 4), "randn"),
    ("Flatten", lambda m: m.Flatten(), (2, 3, 4), "randn"),
    ("Flatten_0_1", lambda m: m.Flatten(0, 1), (2, 3, 4), "randn"),
    ("Unflatten", lambda m: m.Unflatten(1, (2, 3)), (4, 6), "randn"),
    ("ReLU", lambda m: m.ReLU(), (3, 4), "randn"),
    ("ReLU6", lambda m: m.ReLU6(), (3, 4), "wide"),
    ("LeakyReLU", lambda m: m.LeakyReLU(0.2), (3, 4), "randn"),
    ("PReLU", lambda m: m.PReLU(), (3, 4), "randn"),
    ("PReLU_channels", lambda m: m.PReLU(4, 0.1), (2, 4, 3), "randn"),
    ("ELU", lambda m: m.ELU(0.7), (3, 4), "randn"),
    ("SELU", lambda m: m.SELU(), (3, 4), "randn"),
    ("CELU", lambda m: m.CELU(1.5), (3, 4), "randn"),
    ("GELU", lambda m: m.GELU(), (3, 4), "randn"),
    ("GELU_tanh", lambda m: m.GELU(approximate="tanh"), (3, 4), "randn"),
    ("SiLU", lambda m: m.SiLU(), (3, 4), "randn"),
    ("Mish", lambda m: m.Mish(), (3, 4), "randn"),
    ("Sigmoid", lambda m: m.Sigmoid(), (3, 4), "randn"),
    ("Tanh", lambda m: m.Tanh(), (3, 4), "randn"),
    ("Hardtanh", lambda m: m.Hardtanh(-0.5, 0.7), (3, 4), "randn"),
    ("Hardsigmoid", lambda m: m.Hardsigmoid(), (3, 4), "wide"),
    ("Hardswish", lambda m: m.Hardswish(), (3, 4), "wide"),
    ("Softplus", lambda m: m.Softplus(), (3, 4), "wide"),
    ("Softplus_beta", lambda m: m.Softplus(beta=2.0, threshold=3.0), (3, 4), "wide"),
    ("Softsign", lambda m: m.Softsign(), (3, 4), "randn"),
    ("Tanhshrink", lambda m: m.Tanhshrink(), (3, 4), "randn"),
    ("Softmax", lambda m: m.Softmax(dim=1), (3, 4), "randn"),
    ("Softmax_0", lambda m: m.Softmax(dim=0), (3, 4, 2), "randn"),
    ("LogSoftmax", lambda m: m.LogSoftmax(dim=-1), (3, 4), "randn"),
    ("Softmin", lambda m: m.Softmin(dim=1), (3, 4), "randn"),
    ("Threshold", lambda m: m.Threshold(0.1, 20.0), (3, 4), "randn"),
    ("GLU", lambda m: m.GLU(), (3, 4), "randn"),
    ("LogSigmoid", lambda m: m.LogSigmoid(), (3, 4), "wide"),
    ("Hardshrink", lambda m: m.Hardshrink(), (3, 4), "randn"),
    ("Softshrink", lambda m: m.Softshrink(0.3), (3, 4), "randn"),
    ("Bilinear", None, None, "bilinear"),
    ("BatchNorm1d", lambda m: m.BatchNorm1d(4), (5, 4), "randn"),
    ("BatchNorm1d_3d", lambda m: m.BatchNorm1d(4), (5, 4, 3), "randn"),
    ("BatchNorm2d", lambda m: m.BatchNorm2d(3), (2, 3, 4, 5), "randn"),
    ("BatchNorm2d_noaffine", lambda m: m.BatchNorm2d(3, affine=False), (2, 3, 4, 5), "randn"),
    ("LayerNorm", lambda m: m.LayerNorm(5), (3, 5), "randn"),
    ("LayerNorm_2d", lambda m: m.LayerNorm((4, 5)), (2, 4, 5), "randn"),
    ("LayerNorm_nobias", lambda m: m.LayerNorm(5, bias=False), (3, 5), "randn"),
    ("GroupNorm", lambda m: m.GroupNorm(2, 4), (3, 4, 5), "randn"),
    ("GroupNorm_4d", lambda m: m.GroupNorm(3, 6), (2, 6, 2, 3), "randn"),
    ("RMSNorm", lambda m: m.RMSNorm(5, eps=1e-6), (3, 5), "randn"),
    ("InstanceNorm2d", lambda m: m.InstanceNorm2d(3, affine=True), (2, 3, 4, 4), "randn"),
    ("CosineSimilarity", None, None, "pair"),
]


def _input(kind: str, shape: tuple, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    if kind == "wide":
        return (rng.standard_normal(shape) * 4).astype(dtype)
    return rng.standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name,factory,shape,kind", LAYERS, ids=[row[0] for row in LAYERS])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_layer_matches_torch(name, factory, shape, kind, dtype, torch_ref):
    """Output (values, dtype), input/parameter gradients, buffers, repr and state_dict keys of
    each layer against PyTorch's with the same seeded weights."""
    rng = np.random.default_rng(sum(map(ord, name)))
    npdt = np.dtype(dtype)
    # float64: torch uses float32 constants in a few float64 kernels (e.g. hardsigmoid's 1/6)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == "float32" else dict(rtol=1e-7, atol=1e-9)
    if kind == "bilinear":
        factory = lambda m: m.Bilinear(3, 4, 2)  # noqa: E731
        xs = [rng.standard_normal((5, 3)).astype(npdt), rng.standard_normal((5, 4)).astype(npdt)]
    elif kind == "pair":
        factory = lambda m: m.CosineSimilarity(dim=1)  # noqa: E731
        xs = [rng.standard_normal((5, 3)).astype(npdt), rng.standard_normal((5, 3)).astype(npdt)]
    else:
        xs = [_input(kind, shape, rng, npdt)]
    nm = factory(nn)
    if dtype == "float64":
        nm.double()
    seeded_params(nm, 0.5)  # non-trivial affine parameters, so their gradients are tested
    weights = state_arrays(nm)
    nxs = [_nd(x, True) for x in xs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nout = nm(*nxs)
    g = rng.standard_normal(tuple(nout.shape)).astype(npdt)

    def torch_side(torch):
        tm = factory(torch.nn)
        if dtype == "float64":
            tm.double()
        tm.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
        txs = [torch.tensor(x, requires_grad=True) for x in xs]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tout = tm(*txs)
        tout.backward(torch.tensor(g))
        return {"repr": repr(tm), "keys": list(tm.state_dict()), "out": tout, "grads": [t.grad for t in txs],
                "params": [[n, p.grad] for n, p in tm.named_parameters()],
                "buffers": [b for _, b in tm.named_buffers()]}

    want = torch_ref("layer", torch_side)
    assert repr(nm) == want["repr"]
    assert list(nm.state_dict()) == want["keys"]
    _close(nout, want["out"], **tol)
    assert nout.dtype.name == want["out"].dtype.name
    nout.backward(_nd(g))
    for nx, w in zip(nxs, want["grads"]):
        _close(nx.grad, w, **tol)
    assert [n for n, _ in nm.named_parameters()] == [n for n, _ in want["params"]]
    for (_, np_), (_, w) in zip(nm.named_parameters(), want["params"]):
        _close(np_.grad, w, **tol)
    assert len(list(nm.buffers())) == len(want["buffers"])
    for nb, w in zip(nm.buffers(), want["buffers"]):
        _close(nb, w, **tol)


# ---------------------------------------------------------------------------
# finite differences, float64, torch-free
# ---------------------------------------------------------------------------
def _x(shape, seed=0, scale=1.0, offset=0.0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * scale + offset
    # keep values away from kinks (0, +-1, +-3, thresholds) where finite differences are meaningless
    a = np.where(np.abs(a) < 0.05, a + 0.2, a)
    for k in (1.0, 3.0, 0.5, 0.3):
        a = np.where(np.abs(np.abs(a) - k) < 0.05, a + 0.13, a)
    return ndgrad.tensor(a, dtype=ndgrad.float64, requires_grad=True)


GRADCHECK_FNS = [
    ("relu", lambda x: F.relu(x)),
    ("leaky_relu", lambda x: F.leaky_relu(x, 0.1)),
    ("elu", lambda x: F.elu(x, 0.8)),
    ("selu", lambda x: F.selu(x)),
    ("celu", lambda x: F.celu(x, 1.3)),
    ("gelu", lambda x: F.gelu(x)),
    ("gelu_tanh", lambda x: F.gelu(x, approximate="tanh")),
    ("silu", lambda x: F.silu(x)),
    ("mish", lambda x: F.mish(x)),
    ("hardtanh", lambda x: F.hardtanh(x, -0.7, 0.9)),
    ("relu6", lambda x: F.relu6(x * 4)),
    ("hardsigmoid", lambda x: F.hardsigmoid(x * 4)),
    ("hardswish", lambda x: F.hardswish(x * 4)),
    ("softplus", lambda x: F.softplus(x, beta=2.0, threshold=2.0)),
    ("softsign", lambda x: F.softsign(x)),
    ("tanhshrink", lambda x: F.tanhshrink(x)),
    ("logsigmoid", lambda x: F.logsigmoid(x)),
    ("softmax", lambda x: F.softmax(x, dim=1)),
    ("log_softmax", lambda x: F.log_softmax(x, dim=-1)),
    ("softmin", lambda x: F.softmin(x, dim=0)),
    ("glu", lambda x: F.glu(x, dim=1)),
    ("normalize", lambda x: F.normalize(x, dim=1)),
    ("layer_norm", lambda x: F.layer_norm(x, (4,))),
    ("group_norm", lambda x: F.group_norm(x.reshape(3, 4, 1), 2)),
    ("batch_norm_train", lambda x: F.batch_norm(x, None, None, training=True)),
    ("dropout_eval", lambda x: F.dropout(x, 0.5, training=False)),
]


@pytest.mark.parametrize("name,fn", GRADCHECK_FNS, ids=[r[0] for r in GRADCHECK_FNS])
def test_gradcheck_functional(name, fn):
    x = _x((3, 4), seed=len(name))
    assert gradcheck(fn, (x,), eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("name", ["log_softmax", "softmax", "gelu", "softplus", "layer_norm"])
def test_gradgradcheck_functional(name):
    fn = dict(GRADCHECK_FNS)[name]
    x = _x((2, 4), seed=3)
    assert gradgradcheck(fn, (x,), eps=1e-6, atol=1e-4, rtol=1e-3)


def test_gradcheck_linear_bilinear_prelu_embedding():
    x = _x((3, 4), 1)
    w = _x((2, 4), 2)
    b = _x((2,), 3)
    assert gradcheck(F.linear, (x, w, b), eps=1e-6, atol=1e-5)
    x1, x2, wb = _x((3, 2), 4), _x((3, 3), 5), _x((4, 2, 3), 6)
    assert gradcheck(F.bilinear, (x1, x2, wb, None), eps=1e-6, atol=1e-5)
    pw = _x((4,), 7)
    assert gradcheck(F.prelu, (_x((2, 4, 3), 8), pw), eps=1e-6, atol=1e-5)
    emb = _x((5, 3), 9)
    idx = ndgrad.tensor([[0, 2, 2], [4, 1, 0]])
    assert gradcheck(lambda w: F.embedding(idx, w), (emb,), eps=1e-6, atol=1e-5)
    gc = F.cosine_similarity
    assert gradcheck(lambda a, b: gc(a, b, dim=1), (_x((3, 4), 10), _x((3, 4), 11)), eps=1e-6, atol=1e-5)
    assert gradcheck(lambda a, b: F.pairwise_distance(a, b), (_x((3, 4), 12), _x((3, 4), 13)), eps=1e-6, atol=1e-5)


def test_embedding_padding_idx_zero_grad():
    emb = nn.Embedding(5, 3, padding_idx=1)
    assert np.all(emb.weight.detach().numpy()[1] == 0)
    out = emb(ndgrad.tensor([[1, 2, 1], [0, 1, 4]]))
    out.sum().backward()
    g = emb.weight.grad.numpy()
    np.testing.assert_array_equal(g[1], 0)
    np.testing.assert_array_equal(g[2], 1)
    np.testing.assert_array_equal(g[3], 0)


# ---------------------------------------------------------------------------
# embedding, one_hot, misc functional vs torch
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [{}, {"padding_idx": 2}, {"padding_idx": -1}, {"max_norm": 1.0},
                                    {"scale_grad_by_freq": True}, {"max_norm": 0.5, "norm_type": 1.0}])
def test_embedding_matches_torch(kwargs, torch_ref):
    nm = nn.Embedding(6, 4, **kwargs)
    w = rand(6, 4, seed=1)
    if "padding_idx" in kwargs:
        w[kwargs["padding_idx"]] = 0.0  # as the constructor leaves it
    with ndgrad.no_grad():
        nm.weight.copy_(_nd(w))
    weights = state_arrays(nm)
    idx = np.array([[0, 2, 5], [2, 2, 1]])
    g = np.random.default_rng(0).standard_normal((2, 3, 4)).astype(np.float32)

    def torch_side(torch):
        tm = load_arrays(torch, torch.nn.Embedding(6, 4, **kwargs), weights)
        tout = tm(torch.tensor(idx))
        tout.backward(torch.tensor(g))
        return {"repr": repr(tm), "out": tout, "grad": tm.weight.grad, "weight": tm.weight}

    want = torch_ref("embedding", torch_side)
    assert repr(nm) == want["repr"]
    nout = nm(ndgrad.tensor(idx))
    _close(nout, want["out"])
    nout.backward(_nd(g))
    _close(nm.weight.grad, want["grad"])
    _close(nm.weight, want["weight"])  # max_norm renormalises in place


def test_embedding_errors_and_from_pretrained():
    e = nn.Embedding(3, 2)
    with pytest.raises(IndexError, match="index out of range in self"):
        e(ndgrad.tensor([3]))
    with pytest.raises(RuntimeError, match="Expected tensor for argument #1 'indices'"):
        e(ndgrad.tensor([0.0]))
    w = ndgrad.tensor([[1.0, 2.0], [3.0, 4.0]])
    p = nn.Embedding.from_pretrained(w)
    assert not p.weight.requires_grad and repr(p) == "Embedding(2, 2)"
    np.testing.assert_array_equal(p(ndgrad.tensor([1, 0])).numpy(), [[3, 4], [1, 2]])
    assert nn.Embedding.from_pretrained(w, freeze=False).weight.requires_grad


def test_one_hot():
    out = F.one_hot(ndgrad.tensor([0, 2, 1]), 4)
    assert out.dtype == ndgrad.int64
    np.testing.assert_array_equal(out.numpy(), np.eye(4, dtype=np.int64)[[0, 2, 1]])
    assert F.one_hot(ndgrad.tensor([[1], [3]])).shape == (2, 1, 4)
    with pytest.raises(RuntimeError, match="Class values must be smaller than num_classes"):
        F.one_hot(ndgrad.tensor([5]), 3)
    with pytest.raises(RuntimeError, match="Class values must be non-negative"):
        F.one_hot(ndgrad.tensor([-1]), 3)
    with pytest.raises(RuntimeError, match="LongTensor"):
        F.one_hot(ndgrad.tensor([1.0]), 3)


def test_distances_and_normalize_match_torch(torch_ref):
    rng = np.random.default_rng(5)
    a = rng.standard_normal((4, 5)).astype(np.float32)
    b = rng.standard_normal((4, 5)).astype(np.float32)

    def outs(f, L):
        x, y = L.tensor(a), L.tensor(b)
        return [f.cosine_similarity(x, y), f.cosine_similarity(x, y, dim=0), f.pairwise_distance(x, y),
                f.pairwise_distance(x, y, p=1, keepdim=True), f.normalize(x, dim=0), f.normalize(x, p=1)]

    want = torch_ref("outs", lambda torch: outs(torch.nn.functional, torch))
    for got, w in zip(outs(F, ndgrad), want, strict=True):
        _close(got, w)


def test_softmax_stable_for_large_logits():
    x = ndgrad.tensor([[1e4, 0.0, -1e4], [5e3, 5e3, 0.0]], requires_grad=True)
    ls = F.log_softmax(x, dim=1)
    assert np.all(np.isfinite(ls.detach().numpy()))
    np.testing.assert_allclose(ls.detach().numpy()[0], [0.0, -1e4, -2e4])
    np.testing.assert_allclose(F.softmax(x, 1).detach().numpy()[1], [0.5, 0.5, 0.0])
    ls.sum().backward()
    assert np.all(np.isfinite(x.grad.numpy()))
    assert type(ls.grad_fn).__name__ == "LogSoftmaxBackward0"
    assert type(F.softmax(x, 1).grad_fn).__name__ == "SoftmaxBackward0"


def test_softmax_implicit_dim_warns():
    with pytest.warns(UserWarning, match="Implicit dimension choice"):
        out = F.softmax(ndgrad.ones(2, 3))
    np.testing.assert_allclose(out.numpy(), np.full((2, 3), 1 / 3), rtol=1e-6)
    assert ndgrad.ones(2, 3).softmax(0).shape == (2, 3)


def test_inplace_activations():
    for fn in (F.relu, F.leaky_relu, F.elu, F.selu, F.silu, F.hardtanh, F.relu6, F.hardswish, F.hardsigmoid,
               F.celu, F.mish):
        x = ndgrad.tensor([-2.0, -0.5, 0.5, 2.0])
        expected = fn(x.clone())
        out = fn(x, inplace=True)
        assert out is x
        np.testing.assert_allclose(x.numpy(), expected.numpy(), rtol=1e-6)
    # in-place on a non-leaf keeps autograd working
    a = ndgrad.tensor([-1.0, 2.0], requires_grad=True)
    h = a * 2
    nn.ReLU(inplace=True)(h).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [0.0, 2.0])
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        F.relu(ndgrad.ones(2, requires_grad=True), inplace=True)


def test_activation_values_closed_form():
    x = np.array([-3.5, -1.0, -0.2, 0.0, 0.4, 2.0, 3.5, 25.0], dtype=np.float64)
    t = ndgrad.tensor(x)
    np.testing.assert_allclose(F.relu6(t * 2).numpy(), np.clip(x * 2, 0, 6))
    np.testing.assert_allclose(F.hardsigmoid(t).numpy(), np.clip(x / 6 + 0.5, 0, 1))
    np.testing.assert_allclose(F.hardswish(t).numpy(), x * np.clip(x + 3, 0, 6) / 6)
    np.testing.assert_allclose(F.softplus(t).numpy(), np.where(x > 20, x, np.log1p(np.exp(x))))
    np.testing.assert_allclose(F.elu(t).numpy(), np.where(x > 0, x, np.expm1(x)))
    np.testing.assert_allclose(F.silu(t).numpy(), x / (1 + np.exp(-x)))
    erf = np.vectorize(math.erf)
    np.testing.assert_allclose(F.gelu(t).numpy(), x * 0.5 * (1 + erf(x / math.sqrt(2))))
    np.testing.assert_allclose(F.logsigmoid(ndgrad.tensor([-1e4, 0.0, 1e4], dtype=ndgrad.float64)).numpy(),
                               [-1e4, -math.log(2), 0.0])


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------
def test_dropout_train_eval():
    ndgrad.manual_seed(0)
    d = nn.Dropout(0.3)
    x = ndgrad.ones(200, 100)
    y = d(x)
    vals = np.unique(y.numpy())
    np.testing.assert_allclose(sorted(vals), [0.0, 1 / 0.7], rtol=1e-6)
    frac = (y.numpy() == 0).mean()
    assert 0.27 < frac < 0.33
    d.eval()
    assert d(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    assert np.all(F.dropout(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1, but got 1.5"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="dropout probability"):
        F.dropout(x, -0.1)


def test_dropout_grad_matches_mask_and_inplace():
    ndgrad.manual_seed(3)
    x = ndgrad.ones(50, 4, requires_grad=True)
    y = F.dropout(x, 0.5)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    z = ndgrad.ones(10, 10)
    out = F.dropout(z, 0.5, inplace=True)
    assert out is z and set(np.unique(z.numpy())) <= {0.0, 2.0}


def test_dropout2d_and_1d_zero_whole_channels():
    ndgrad.manual_seed(1)
    y = nn.Dropout2d(0.5)(ndgrad.ones(8, 6, 3, 3)).numpy()
    per_channel = y.reshape(8, 6, -1)
    assert np.all((per_channel == per_channel[:, :, :1]))
    assert {0.0, 2.0} == set(np.unique(y))
    y1 = nn.Dropout1d(0.5)(ndgrad.ones(4, 5, 7)).numpy()
    assert np.all(y1 == y1[:, :, :1])
    y3 = nn.Dropout1d(0.5)(ndgrad.ones(5, 7)).numpy()  # unbatched
    assert np.all(y3 == y3[:, :1])
    with pytest.warns(UserWarning, match="dropout2d: Received a 3D input"):
        y4 = F.dropout2d(ndgrad.ones(4, 5, 6)).numpy()  # treated as (N, C, L), as PyTorch does
    assert np.all(y4 == y4[:, :, :1]) and not np.all(y4 == y4[:, :1, :1])
    y5 = F.dropout3d(ndgrad.ones(6, 3, 4, 5)).numpy()  # unbatched (C, D, H, W)
    assert np.all(y5.reshape(6, -1) == y5.reshape(6, -1)[:, :1])
    with pytest.raises(RuntimeError, match="dropout1d: Expected 2D or 3D input"):
        F.dropout1d(ndgrad.ones(2, 2, 2, 2))


def test_dropout_reproducible_with_seed():
    ndgrad.manual_seed(7)
    a = F.dropout(ndgrad.ones(20), 0.5).numpy()
    ndgrad.manual_seed(7)
    b = F.dropout(ndgrad.ones(20), 0.5).numpy()
    np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------------------
# batch norm running statistics
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("momentum", [0.1, 0.5, None])
@pytest.mark.parametrize("kind", ["1d", "2d"])
def test_batchnorm_running_stats_match_torch(momentum, kind, torch_ref):
    shape = (6, 3) if kind == "1d" else (2, 3, 4, 4)
    rng = np.random.default_rng(0)
    xs = [(rng.standard_normal(shape) * 3 + 1).astype(np.float32) for _ in range(4)]
    x_eval = rng.standard_normal(shape).astype(np.float32)

    def run(L):
        m = (L.nn.BatchNorm1d if kind == "1d" else L.nn.BatchNorm2d)(3, momentum=momentum)
        outs = [m(L.tensor(x)).detach() for x in xs]
        stats = [m.running_mean.clone(), m.running_var.clone(), int(m.num_batches_tracked)]
        m.eval()
        x = L.tensor(x_eval, requires_grad=True)
        out = m(x)
        out.sum().backward()
        return {"outs": outs, "stats": stats, "eval": [out.detach(), x.grad, m.weight.grad],
                "tracked": int(m.num_batches_tracked)}

    got, want = run(ndgrad), torch_ref("run", run)
    for g, w in zip(got["outs"] + got["eval"], want["outs"] + want["eval"], strict=True):
        _close(g, w, rtol=1e-4, atol=1e-4)
    _close(got["stats"][0], want["stats"][0])
    _close(got["stats"][1], want["stats"][1])
    assert got["stats"][2] == want["stats"][2] == 4
    assert got["tracked"] == want["tracked"] == 4  # eval does not count


def test_batchnorm_behaviour_without_torch():
    bn = nn.BatchNorm1d(2, momentum=None)
    x1 = ndgrad.tensor([[1.0, 2.0], [3.0, 6.0]])
    x2 = ndgrad.tensor([[5.0, 0.0], [7.0, 0.0]])
    y = bn(x1)
    np.testing.assert_allclose(y.detach().numpy(), [[-1, -1], [1, 1]], atol=1e-3)
    bn(x2)
    # cumulative average of the batch means / unbiased variances
    np.testing.assert_allclose(bn.running_mean.numpy(), [(2 + 6) / 2, (4 + 0) / 2], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [(2 + 2) / 2, (8 + 0) / 2], rtol=1e-6)
    bn.eval()
    out = bn(ndgrad.tensor([[4.0, 2.0]]))
    np.testing.assert_allclose(out.detach().numpy(), [[0.0, 0.0]], atol=1e-6)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        nn.BatchNorm1d(2)(ndgrad.ones(1, 2))
    with pytest.raises(ValueError, match=r"expected 4D input \(got 2D input\)"):
        nn.BatchNorm2d(2)(ndgrad.ones(3, 2))
    nt = nn.BatchNorm1d(2, track_running_stats=False)
    assert nt.running_mean is None and list(nt.state_dict()) == ["weight", "bias"]
    nt.eval()
    np.testing.assert_allclose(nt(x1).detach().numpy(), [[-1, -1], [1, 1]], atol=1e-3)


def test_layer_and_group_norm_errors():
    with pytest.raises(RuntimeError, match=r"Given normalized_shape=\[4\], expected input with shape \[\*, 4\]"):
        nn.LayerNorm(4)(ndgrad.ones(2, 3))
    with pytest.raises(RuntimeError, match="divisible by num_groups"):
        F.group_norm(ndgrad.ones(2, 3, 4), 2)
    with pytest.raises(ValueError, match="num_channels must be divisible by num_groups"):
        nn.GroupNorm(2, 3)


# ---------------------------------------------------------------------------
# lazy modules
# ---------------------------------------------------------------------------
def test_lazy_linear_and_batchnorm():
    ndgrad.manual_seed(0)
    net = nn.Sequential(nn.LazyLinear(4), nn.LazyBatchNorm1d(), nn.ReLU(), nn.LazyLinear(2))
    assert "LazyLinear(in_features=0, out_features=4, bias=True)" in repr(net)
    out = net(ndgrad.randn(5, 3))
    assert out.shape == (5, 2)
    assert type(net[0]) is nn.Linear and type(net[1]) is nn.BatchNorm1d
    assert net[0].weight.shape == (4, 3) and net[3].weight.shape == (2, 4)
    assert type(net[0].weight) is nn.Parameter
    assert repr(net[1]) == "BatchNorm1d(4, eps=1e-05, momentum=0.1, affine=True, bias=True, track_running_stats=True)"
    bound = 1 / math.sqrt(3)
    assert np.all(np.abs(net[0].weight.detach().numpy()) <= bound)
    assert int(net[1].num_batches_tracked) == 1
    out.sum().backward()
    assert all(p.grad is not None for p in net.parameters())
    assert not net[0]._forward_pre_hooks  # the initialising hook is gone


# ---------------------------------------------------------------------------
# containers
# ---------------------------------------------------------------------------
def test_sequential_indexing_and_editing():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[-1], nn.Linear)
    sub = s[1:]
    assert isinstance(sub, nn.Sequential) and list(sub._modules) == ["1", "2"]
    s.append(nn.Sigmoid())
    s.insert(0, nn.Identity())
    assert [type(m).__name__ for m in s] == ["Identity", "Linear", "ReLU", "Linear", "Sigmoid"]
    del s[0]
    assert list(s._modules) == ["0", "1", "2", "3"]
    s.extend([nn.Tanh()])
    assert len(s) == 5
    with pytest.raises(IndexError, match="index 9 is out of range"):
        s[9]
    from collections import OrderedDict
    od = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.ReLU())]))
    assert list(dict(od.named_parameters())) == ["fc.weight", "fc.bias"]
    assert od.fc is od[0]
    x = ndgrad.randn(4, 2)
    np.testing.assert_allclose(od(x).detach().numpy(), od.act(od.fc(x)).detach().numpy())


def test_modulelist_moduledict_parameterlist_parameterdict():
    ml = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    ml.append(nn.ReLU())
    ml += [nn.Tanh()]
    assert len(ml) == 5 and isinstance(ml[-1], nn.Tanh)
    assert len(list(ml.parameters())) == 6
    del ml[1]
    assert list(ml._modules) == ["0", "1", "2", "3"]
    md = nn.ModuleDict({"a": nn.ReLU(), "b": nn.Linear(1, 1)})
    assert "a" in md and list(md.keys()) == ["a", "b"] and len(md) == 2
    md["c"] = nn.Tanh()
    assert list(md) == ["a", "b", "c"]
    md.pop("a")
    assert list(md) == ["b", "c"]
    pl = nn.ParameterList([nn.Parameter(ndgrad.ones(2)), ndgrad.zeros(3)])
    assert all(isinstance(p, nn.Parameter) for p in pl)
    assert [n for n, _ in pl.named_parameters()] == ["0", "1"]
    pl.append(ndgrad.ones(1))
    assert len(pl) == 3
    pd = nn.ParameterDict({"w": ndgrad.ones(2)})
    pd["v"] = nn.Parameter(ndgrad.zeros(1))
    assert list(pd.keys()) == ["w", "v"] and isinstance(pd["w"], nn.Parameter)
    assert [n for n, _ in pd.named_parameters()] == ["w", "v"]


def test_lazy_modules_load_state_dict_before_first_call():
    lin = nn.LazyLinear(3)
    src = nn.Linear(4, 3)
    lin.load_state_dict(src.state_dict())
    x = ndgrad.randn(2, 4)
    np.testing.assert_allclose(lin(x).detach().numpy(), src(x).detach().numpy())
    assert repr(lin) == "Linear(in_features=4, out_features=3, bias=True)"
    bn = nn.LazyBatchNorm1d()
    bn.load_state_dict(nn.BatchNorm1d(5).state_dict())
    bn(ndgrad.randn(3, 5))
    assert bn.num_features == 5 and type(bn) is nn.BatchNorm1d


@pytest.mark.parametrize("name,kw", [("relu", {}), ("relu6", {}), ("leaky_relu", {}), ("elu", {}), ("selu", {}),
                                     ("celu", {}), ("gelu", {}), ("silu", {}), ("mish", {}), ("hardtanh", {}),
                                     ("hardsigmoid", {}), ("hardswish", {}), ("softplus", {}),
                                     ("softplus", {"beta": 2.0, "threshold": 2.0}), ("softsign", {}),
                                     ("tanhshrink", {}), ("logsigmoid", {}), ("hardshrink", {}), ("softshrink", {}),
                                     ("threshold", {"threshold": 0.5, "value": -1.0})])
def test_activation_gradients_at_kinks_match_torch(name, kw, torch_ref):
    """At the points where an activation is not differentiable, the gradient is PyTorch's convention."""
    x = np.array([-6, -3, -1, -0.5, 0, 0.5, 1, 3, 6, 20, 21, -20, 1e4, -1e4], np.float64)

    def run(L):
        t = L.tensor(x, requires_grad=True)
        out = getattr(L.nn.functional, name)(t, **kw)
        out.sum().backward()
        return [out.detach(), t.grad]

    for g, w in zip(run(ndgrad), torch_ref("run", run), strict=True):
        _close(g, w, rtol=1e-7, atol=1e-9)


def _misc_cases():
    r = np.random.default_rng(0)
    x4 = r.standard_normal((2, 6, 4, 5))
    W = r.standard_normal((10, 3))
    idx = np.array([[1, 2, 4], [4, 3, 9]])
    return [
        ("lrn", lambda f, x: f.local_response_norm(x, 3), [x4]),
        ("lrn2", lambda f, x: f.local_response_norm(x, 2, 1e-2, 0.5, 2.0), [x4]),
        ("instance_norm", lambda f, x: f.instance_norm(x), [x4]),
        ("rrelu_eval", lambda f, x: f.rrelu(x), [x4]),
        ("alpha_dropout_eval", lambda f, x: f.alpha_dropout(x, 0.3, False), [x4]),
        ("pdist", lambda f, x: f.pdist(x), [r.standard_normal((5, 3))]),
        ("embedding_bag_sum", lambda f, w: f.embedding_bag(_lib(f).tensor(idx), w, mode="sum"), [W]),
        ("embedding_bag_offsets", lambda f, w: f.embedding_bag(_lib(f).tensor([1, 2, 4, 5, 3]), w,
                                                               _lib(f).tensor([0, 2])), [W]),
        ("glu", lambda f, x: f.glu(x, 1), [x4]),
        ("rms_norm", lambda f, x: f.rms_norm(x, (5,)), [x4]),
        ("normalize_p3", lambda f, x: f.normalize(x, 3, 2), [x4]),
        ("cosine_broadcast", lambda f, a, b: f.cosine_similarity(a, b, dim=-1),
         [r.standard_normal((3, 1, 4)), r.standard_normal((2, 4))]),
        ("pairwise_1d", lambda f, a, b: f.pairwise_distance(a, b), [r.standard_normal(4), r.standard_normal(4)]),
        ("prelu_scalar", lambda f, x, w: f.prelu(x, w), [x4, np.array([0.3])]),
        ("layer_norm_affine", lambda f, x, w, b: f.layer_norm(x, (4, 5), w, b),
         [x4, r.standard_normal((4, 5)), r.standard_normal((4, 5))]),
        ("group_norm_affine", lambda f, x, w, b: f.group_norm(x, 3, w, b),
         [x4, r.standard_normal(6), r.standard_normal(6)]),
        ("batch_norm_train_affine", lambda f, x, w, b: f.batch_norm(x, None, None, w, b, True),
         [x4, r.standard_normal(6), r.standard_normal(6)]),
        ("log_softmax_0d", lambda f, x: f.log_softmax(x, 0), [np.array(2.0)]),
        ("softmax_masked", lambda f, x: f.softmax(x.masked_fill(x > 0.5, float("-inf")), -1), [x4]),
        ("gaussian_nll_full", lambda f, a, b, v: f.gaussian_nll_loss(a, b, v, full=True),
         [r.standard_normal((4, 3)), r.standard_normal((4, 3)), np.abs(r.standard_normal((4, 1)))]),
        ("poisson_full", lambda f, a, b: f.poisson_nll_loss(a, b, log_input=False, full=True),
         [np.abs(r.standard_normal((4, 3))) + 0.1, np.abs(r.standard_normal((4, 3))) * 3]),
        ("triplet_swap", lambda f, a, b, c: f.triplet_margin_loss(a, b, c, swap=True),
         [r.standard_normal((4, 3)) for _ in range(3)]),
    ]


def _lib(f):
    return ndgrad if f is F else sys.modules["torch"]


@pytest.mark.parametrize("case", range(len(_misc_cases())), ids=[c[0] for c in _misc_cases()])
def test_misc_functional_matches_torch(case, torch_ref):
    name, fn, arrs = _misc_cases()[case]

    def run(L):
        ts = [L.tensor(a, requires_grad=True) for a in arrs]
        out = fn(L.nn.functional, *ts)
        out.backward(L.tensor(np.random.default_rng(1).standard_normal(tuple(out.shape))))
        return [out.detach(), [t.grad for t in ts]]

    got, want = run(ndgrad), torch_ref("run", run)
    _close(got[0], want[0], rtol=1e-10, atol=1e-12)
    for n, t in zip(got[1], want[1], strict=True):
        if t is not None:
            _close(n, t, rtol=1e-9, atol=1e-11)


def test_functional_errors():
    with pytest.raises(RuntimeError, match=r"mat1 and mat2 shapes cannot be multiplied \(6x5 and 4x4\)"):
        F.linear(ndgrad.ones(2, 3, 5), ndgrad.ones(4, 4))
    with pytest.raises(NotImplementedError, match="\"softmax_lastdim_kernel_impl\" not implemented for 'Long'"):
        F.softmax(ndgrad.ones(3, dtype=ndgrad.int64), 0)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.log_softmax(ndgrad.ones(3), 1)
    with pytest.raises(RuntimeError, match="running_mean should contain 3 elements not 4"):
        F.batch_norm(ndgrad.ones(2, 3), ndgrad.zeros(4), ndgrad.ones(4))
    with pytest.raises(RuntimeError, match="Halving dimension must be even, but dimension 0 is size 3"):
        F.glu(ndgrad.ones(3), 0)
    with pytest.raises(RuntimeError, match="Mismatch of parameter numbers and input channel size"):
        F.prelu(ndgrad.ones(2, 3), ndgrad.ones(4))
    with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
        F.hardtanh(ndgrad.ones(2), 2.0, 1.0)
    with pytest.raises(RuntimeError, match="The size of tensor a"):
        F.cosine_similarity(ndgrad.ones(2, 3), ndgrad.ones(2, 4))
    with pytest.raises(RuntimeError, match="The size of tensor a"):
        F.binary_cross_entropy_with_logits(ndgrad.ones(2, 3), ndgrad.ones(2, 3), weight=ndgrad.ones(4))


def test_instance_norm_tracks_running_stats() -> None:
    # regression: InstanceNorm(track_running_stats=True) never updated its running stats in training
    x = np.random.default_rng(0).standard_normal((2, 3, 5)).astype(np.float32)
    m = nn.InstanceNorm1d(3, momentum=0.2, track_running_stats=True)
    m(_nd(x))
    mu, var = x.mean(2), x.var(2, ddof=1)  # per instance, unbiased; averaged over the batch
    _close(m.running_mean, 0.2 * mu.mean(0), atol=1e-6)
    _close(m.running_var, 0.8 + 0.2 * var.mean(0), atol=1e-6)
    m.eval()  # eval normalises with the running stats
    want = (x - m.running_mean.numpy()[:, None]) / np.sqrt(m.running_var.numpy()[:, None] + 1e-5)
    _close(m(_nd(x)), want, atol=1e-5)
    frozen = nn.InstanceNorm1d(3, momentum=None, track_running_stats=True)
    frozen(_nd(x))
    _close(frozen.running_mean, np.zeros(3))
    with pytest.raises(RuntimeError, match="Expected running_mean and running_var to be defined"):
        F.instance_norm(_nd(x), use_input_stats=False)
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        F.instance_norm(_nd(x[:, :, :1]))
