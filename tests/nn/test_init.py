"""nn.init: gains and fans (PyTorch's values), distributions of the random
initialisers, in-place semantics under no_grad, seeding, and layer defaults."""
from __future__ import annotations

import math

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
from ndgrad.nn import init



def test_calculate_gain_values():
    # recorded from PyTorch
    assert init.calculate_gain("linear") == 1
    assert init.calculate_gain("conv2d") == 1
    assert init.calculate_gain("sigmoid") == 1
    assert init.calculate_gain("tanh") == pytest.approx(1.6666666666666667)
    assert init.calculate_gain("relu") == pytest.approx(1.4142135623730951)
    assert init.calculate_gain("leaky_relu") == pytest.approx(1.4141428569978354)
    assert init.calculate_gain("leaky_relu", 0.2) == pytest.approx(1.3867504905630728)
    assert init.calculate_gain("selu") == 0.75
    with pytest.raises(ValueError, match="Unsupported nonlinearity foo"):
        init.calculate_gain("foo")
    with pytest.raises(ValueError, match="negative_slope x not a valid number"):
        init.calculate_gain("leaky_relu", "x")


def test_fans():
    assert init._calculate_fan_in_and_fan_out(ndgrad.empty(5, 3)) == (3, 5)
    assert init._calculate_fan_in_and_fan_out(ndgrad.empty(8, 4, 3, 3)) == (36, 72)
    with pytest.raises(ValueError, match="Fan in and fan out can not be computed for tensor with fewer than 2"):
        init.xavier_uniform_(ndgrad.empty(3))
    with pytest.raises(ValueError, match=r"Mode foo not supported, please use one of \['fan_in', 'fan_out'\]"):
        init.kaiming_normal_(ndgrad.empty(3, 3), mode="foo")


def _stats(fn, shape=(400, 500), **kw):
    t = ndgrad.empty(*shape)
    out = fn(t, **kw)
    assert out is t
    a = t.numpy()
    return a.min(), a.max(), a.mean(), a.std()


def test_distributions():
    ndgrad.manual_seed(0)
    lo, hi, mean, std = _stats(init.uniform_, a=-2.0, b=3.0)
    assert -2 <= lo and hi < 3 and abs(mean - 0.5) < 0.02 and abs(std - 5 / math.sqrt(12)) < 0.02
    _, _, mean, std = _stats(init.normal_, mean=1.0, std=0.5)
    assert abs(mean - 1) < 0.01 and abs(std - 0.5) < 0.01
    fan_in, fan_out = 500, 400
    b = math.sqrt(6 / (fan_in + fan_out))
    lo, hi, _, std = _stats(init.xavier_uniform_, gain=2.0)
    assert -2 * b <= lo and hi <= 2 * b and abs(std - 2 * b / math.sqrt(3)) < 0.01
    _, _, _, std = _stats(init.xavier_normal_)
    assert abs(std - math.sqrt(2 / (fan_in + fan_out))) < 0.002
    lo, hi, _, std = _stats(init.kaiming_uniform_, a=math.sqrt(5))
    bound = 1 / math.sqrt(fan_in)
    assert -bound <= lo and hi <= bound and hi > 0.99 * bound
    _, _, _, std = _stats(init.kaiming_normal_, mode="fan_out", nonlinearity="relu")
    assert abs(std - math.sqrt(2 / fan_out)) < 0.002
    lo, hi, mean, _ = _stats(init.trunc_normal_, mean=0.5, std=1.0, a=-1.0, b=1.0)
    assert -1 <= lo and hi <= 1 and lo < -0.99 and hi > 0.99


def test_constant_eye_dirac_orthogonal():
    t = ndgrad.empty(3, 4)
    np.testing.assert_array_equal(init.constant_(t, 0.3).numpy(), np.full((3, 4), 0.3, np.float32))
    np.testing.assert_array_equal(init.zeros_(t).numpy(), 0)
    np.testing.assert_array_equal(init.ones_(t).numpy(), 1)
    np.testing.assert_array_equal(init.eye_(t).numpy(), np.eye(3, 4))
    with pytest.raises(ValueError, match="Only tensors with 2 dimensions are supported"):
        init.eye_(ndgrad.empty(2, 2, 2))
    w = init.dirac_(ndgrad.empty(4, 2, 3, 3), groups=2)
    a = w.numpy()
    assert a.sum() == 4 and a[0, 0, 1, 1] == 1 and a[1, 1, 1, 1] == 1 and a[2, 0, 1, 1] == 1
    for shape in [(5, 3), (3, 5), (4, 2, 2)]:
        q = init.orthogonal_(ndgrad.empty(*shape), gain=2.0).numpy().reshape(shape[0], -1)
        if q.shape[0] <= q.shape[1]:
            np.testing.assert_allclose(q @ q.T, 4 * np.eye(q.shape[0]), atol=1e-5)
        else:
            np.testing.assert_allclose(q.T @ q, 4 * np.eye(q.shape[1]), atol=1e-5)
    with pytest.raises(ValueError, match="Only tensors with 2 or more dimensions are supported"):
        init.orthogonal_(ndgrad.empty(3))


def test_init_in_place_on_parameters_no_graph():
    lin = nn.Linear(3, 2)
    w = lin.weight
    v0 = w._version_count
    init.normal_(w, std=0.01)
    assert lin.weight is w and w.requires_grad and w.grad_fn is None and w.is_leaf
    assert w._version_count > v0
    init.zeros_(lin.bias)
    np.testing.assert_array_equal(lin.bias.detach().numpy(), 0)


def test_seeded_reproducibility_and_generator():
    ndgrad.manual_seed(1)
    a = nn.Linear(4, 3).weight.detach().numpy().copy()
    ndgrad.manual_seed(1)
    b = nn.Linear(4, 3).weight.detach().numpy().copy()
    np.testing.assert_array_equal(a, b)
    g = ndgrad.Generator().manual_seed(5)
    x = init.uniform_(ndgrad.empty(5), generator=g).numpy().copy()
    g.manual_seed(5)
    np.testing.assert_array_equal(init.uniform_(ndgrad.empty(5), generator=g).numpy(), x)


def test_layer_default_initialisation():
    ndgrad.manual_seed(0)
    lin = nn.Linear(100, 50)
    bound = 1 / math.sqrt(100)
    for p in (lin.weight, lin.bias):
        a = p.detach().numpy()
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
    bl = nn.Bilinear(20, 5, 3)
    assert np.abs(bl.weight.detach().numpy()).max() <= 1 / math.sqrt(20)
    bn = nn.BatchNorm1d(4)
    assert np.all(bn.weight.detach().numpy() == 1) and np.all(bn.bias.detach().numpy() == 0)
    assert np.all(bn.running_var.numpy() == 1) and bn.num_batches_tracked.dtype == ndgrad.int64
    emb = nn.Embedding(1000, 20)
    assert abs(emb.weight.detach().numpy().std() - 1) < 0.05
    assert np.all(nn.PReLU(3).weight.detach().numpy() == 0.25)
    ln = nn.LayerNorm(3)
    assert np.all(ln.weight.detach().numpy() == 1)


def test_default_init_distributions_match_torch_bounds(torch_ref):
    """Both libraries sample the layers' defaults from U(-bound, bound): same support, same spread."""
    def stats(L):
        L.manual_seed(0)
        out = []
        for m in (L.nn.Linear(30, 500), L.nn.Bilinear(6, 4, 300), L.nn.LazyLinear(400)):
            if isinstance(m, L.nn.LazyLinear):
                m(L.ones(2, 12))
            out += [[k, float(p.detach().abs().max()), float(p.detach().std())] for k, p in m.named_parameters()]
        return out
    bounds = [1 / math.sqrt(30)] * 2 + [1 / math.sqrt(6)] * 2 + [1 / math.sqrt(12)] * 2
    for (k, nb, ns), (tk, tb, ts), bound in zip(stats(ndgrad), torch_ref("stats", stats), bounds, strict=True):
        assert k == tk
        assert 0.95 * bound < tb <= bound and 0.95 * bound < nb <= bound, k
        assert abs(ns - ts) < 0.1 * bound, k
