"""torch.utils.checkpoint: recomputation in backward, equal gradients, activations really dropped."""
from __future__ import annotations

import gc
import warnings
import weakref

import numpy as np
import pytest

import ndgrad
from ndgrad.utils.checkpoint import CheckpointError, checkpoint, checkpoint_sequential

MODES = [True, False]


def _net(lib, seed: int = 0):
    rng = np.random.default_rng(seed)
    lin1, lin2 = lib.nn.Linear(3, 5), lib.nn.Linear(5, 2)
    with lib.no_grad():
        for p in (*lin1.parameters(), *lin2.parameters()):
            p.copy_(lib.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32)))
    return lin1, lin2


X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(4, 3)


def _grads(lib, mode):
    lin1, lin2 = _net(lib)
    x = lib.tensor(X, requires_grad=True)

    def block(a):
        return lin2(lin1(a).tanh() * a.sum(1, keepdim=True))
    y = block(x) if mode is None else lib.utils.checkpoint.checkpoint(block, x, use_reentrant=mode)
    (y ** 2).sum().backward()
    return [y.detach(), x.grad, lin1.weight.grad, lin1.bias.grad, lin2.weight.grad]


@pytest.mark.parametrize("mode", MODES)
def test_gradients_equal_plain_and_pytorch(torch_ref, mode):
    want = torch_ref("grads", lambda torch: _grads(torch, mode))
    plain = _grads(ndgrad, None)
    got = _grads(ndgrad, mode)
    for g, p, w in zip(got, plain, want):
        np.testing.assert_array_equal(g.numpy(), p.numpy())  # the recomputation is the same computation
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mode", MODES)
def test_activations_dropped_and_recomputed(mode):
    lin1, lin2 = _net(ndgrad)
    seen: list = []
    calls = [0]

    def block(a):
        calls[0] += 1
        h = lin1(a).exp()  # saved by the mul below: an activation the plain graph keeps
        seen.append(weakref.ref(h._data))
        return lin2(h * h)
    x = ndgrad.tensor(X, requires_grad=True)
    plain = block(x)
    gc.collect()
    assert seen[-1]() is not None  # without checkpointing the graph holds the activation
    del plain
    y = checkpoint(block, x, use_reentrant=mode)
    gc.collect()
    assert seen[-1]() is None  # checkpointed: nothing holds it after the forward
    assert calls[0] == 2
    y.sum().backward()
    assert calls[0] == 3  # recomputed once in backward
    assert x.grad is not None and lin1.weight.grad is not None


@pytest.mark.parametrize("mode", MODES)
def test_rng_state_preserved_for_dropout(mode):
    lin1, lin2 = _net(ndgrad)

    def block(a):
        return lin2(ndgrad.nn.functional.dropout(lin1(a), 0.5, training=True))
    ndgrad.manual_seed(3)
    x = ndgrad.tensor(X, requires_grad=True)
    block(x).sum().backward()
    plain = x.grad.clone()
    ndgrad.manual_seed(3)
    x.grad = None
    y = checkpoint(block, x, use_reentrant=mode)
    after_forward = ndgrad.rand(1)
    ndgrad.manual_seed(3)
    checkpoint(block, x, use_reentrant=mode)
    state = ndgrad.get_rng_state()
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), plain.numpy())  # the same dropout mask was redrawn
    np.testing.assert_array_equal(ndgrad.get_rng_state().numpy(), state.numpy())  # caller's RNG untouched
    assert after_forward.shape == (1,)


def test_non_reentrant_keeps_the_real_graph(torch_ref):
    lin1, lin2 = _net(ndgrad)
    x = ndgrad.tensor(X, requires_grad=True)
    y = checkpoint(lambda a: lin1(a).sin(), x, use_reentrant=False)
    assert type(y.grad_fn).__name__ == torch_ref("name", lambda torch: type(torch.utils.checkpoint.checkpoint(
        lambda a: torch.sin(a), torch.ones(2, requires_grad=True), use_reentrant=False).grad_fn).__name__)
    gx, gw = ndgrad.autograd.grad(y.sum(), [x, lin1.weight])  # autograd.grad works, params included
    x2 = ndgrad.tensor(X, requires_grad=True)
    gx2, gw2 = ndgrad.autograd.grad(lin1(x2).sin().sum(), [x2, lin1.weight])
    np.testing.assert_array_equal(gx.numpy(), gx2.numpy())
    np.testing.assert_array_equal(gw.numpy(), gw2.numpy())


def test_non_reentrant_double_backward():
    x = ndgrad.tensor([0.3, -0.7, 1.1], dtype=ndgrad.float64, requires_grad=True)
    y = checkpoint(lambda a: (a.sin() * a).sum(), x, use_reentrant=False)
    (g,) = ndgrad.autograd.grad(y, x, create_graph=True)
    (gg,) = ndgrad.autograd.grad(g.sum(), x)
    xs = x.detach().numpy()
    np.testing.assert_allclose(g.detach().numpy(), np.cos(xs) * xs + np.sin(xs))
    np.testing.assert_allclose(gg.numpy(), 2 * np.cos(xs) - xs * np.sin(xs))


def test_reentrant_rules_and_messages(torch_ref):
    def msgs(lib):
        ck = lib.utils.checkpoint.checkpoint
        out = {}
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            ck(lambda a: a * 2, lib.ones(2, requires_grad=True))
            y = ck(lambda a: a * 2, lib.ones(2), use_reentrant=True)
        out["warnings"] = [str(x.message) for x in w]
        out["requires_grad"] = y.requires_grad
        x = lib.ones(2, requires_grad=True)
        try:
            lib.autograd.grad(ck(lambda a: a * 2, x, use_reentrant=True).sum(), x)
        except RuntimeError as e:
            out["grad"] = str(e)
        try:
            ck(lambda a: a, x, use_reentrant=True, foo=1)
        except ValueError as e:
            out["kwargs"] = str(e)
        r = ck(lambda a, k=2: (a * k, 5), x, use_reentrant=False, k=3)
        out["passthrough"] = [r[0].detach(), r[1]]
        return out
    assert msgs(ndgrad) == _plain(torch_ref("msgs", msgs))


def _plain(d):
    d["passthrough"] = [ndgrad.tensor(d["passthrough"][0]), d["passthrough"][1]]
    return _Eq(d)


class _Eq(dict):
    def __eq__(self, other):
        return all(_same(self[k], other[k]) for k in self) and self.keys() == other.keys()


def _same(a, b):
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, ndgrad.Tensor):
        return bool((a == b).all())
    return a == b


@pytest.mark.parametrize("mode", MODES)
def test_checkpoint_sequential(torch_ref, mode):
    def run(lib):
        rng = np.random.default_rng(1)
        layers = []
        for _ in range(4):
            lin = lib.nn.Linear(3, 3)
            with lib.no_grad():
                lin.weight.copy_(lib.tensor(rng.standard_normal((3, 3)).astype(np.float32)))
                lin.bias.fill_(0.1)
            layers += [lin, lib.nn.Tanh()]
        seq = lib.nn.Sequential(*layers)
        x = lib.tensor(X, requires_grad=True)
        y = lib.utils.checkpoint.checkpoint_sequential(seq, 3, x, use_reentrant=mode)
        y.sum().backward()
        return [y.detach(), x.grad, seq[0].weight.grad, seq[6].weight.grad]
    for g, w in zip(run(ndgrad), torch_ref("seq", run)):
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-6)


def test_recomputation_that_differs_raises():
    flip = [False]

    def block(a):
        flip[0] = not flip[0]
        return a.exp() if flip[0] else a.exp().sin()
    y = checkpoint(block, ndgrad.ones(2, requires_grad=True), use_reentrant=False)
    with pytest.raises(CheckpointError, match="different metadata"):
        y.sum().backward()
    assert checkpoint_sequential  # exported
