"""vmap against torch.func.vmap: in_dims/out_dims as nested structures, chunk_size, nesting, the ops
per-example code touches (linear, conv with per-example weights, indexing, softmax, losses, in-place
writes), randomness=, the errors; per-sample gradients of an MLP and a small CNN with vmap(grad)
equal to a loop over the samples and to torch.func; model ensembling with stack_module_state;
gradcheck's check_batched_grad."""
from __future__ import annotations

import re
import warnings
from typing import Any, Callable

import numpy as np
import pytest

import ndgrad
from _trees import assert_tree, error_text, to_np, tree_np
from ndgrad import func as nfunc

RNG = np.random.default_rng(7)
X = RNG.standard_normal((5, 3, 4))
Y = RNG.standard_normal((4, 5))
IMG = RNG.standard_normal((4, 1, 6, 6))
W1 = RNG.standard_normal((8, 4)) * 0.5
B1 = RNG.standard_normal(8) * 0.1
W2 = RNG.standard_normal((3, 8)) * 0.5
CW = RNG.standard_normal((2, 1, 3, 3)) * 0.5
LAB = np.array([0, 2, 1, 2, 0])


def _structures(M: Any) -> dict:
    """in_dims / out_dims / chunk_size / nesting, on small functions."""
    vmap = M.func.vmap
    x, y = M.tensor(X), M.tensor(Y)
    f = lambda a, b: (a @ b).sin()  # noqa: E731
    return {
        "basic": vmap(f, in_dims=(0, None))(x, y[:, 0]),
        "dims": vmap(f, in_dims=(2, 1))(x.permute(1, 2, 0), y),
        "neg": vmap(lambda a: a.sum(-1), in_dims=-1)(x),
        "nested_in": vmap(lambda p, s: p[0] @ p[1]["w"] + s, in_dims=((0, {"w": 1}), None))(
            (x, {"w": y}), M.tensor(2.0, dtype=M.float64)),
        "out_dims": vmap(lambda a: (a.exp(), a.sum()), out_dims=(1, 0))(x),
        "out_none": vmap(lambda a, b: (a * 2, b), in_dims=(0, None), out_dims=(0, None))(x, y),
        "out_tree": vmap(lambda a: {"s": a.sum(0), "t": (a.t(),)}, out_dims={"s": 1, "t": (2,)})(x),
        "kwargs": vmap(lambda a, scale=1.0: a * scale)(x, scale=3.0),
        "chunk": vmap(f, in_dims=(0, None), chunk_size=2)(x, y[:, 1]),
        "vmap_vmap": vmap(vmap(lambda a, b: (a * b).sum(), in_dims=(0, None)), in_dims=(0, None))(x, y[:, 0]),
        "vmap_vmap_dims": vmap(vmap(lambda a: a.softmax(-1), in_dims=1, out_dims=1), in_dims=2, out_dims=0)(x),
        "unbatched_out": vmap(lambda a: M.ones(2, dtype=M.float64))(x),
        "ndgrad_vmap": M.vmap(lambda a: a.norm())(x),
    }


def test_structures_match_torch(torch_ref: Any) -> None:
    want = torch_ref("structures", lambda torch: tree_np(_structures(torch)))
    assert_tree(tree_np(_structures(ndgrad)), want)


def _ops(M: Any) -> dict:
    """The ops per-example code touches, each under vmap."""
    vmap, F = M.func.vmap, M.nn.functional
    x, y, img = M.tensor(X), M.tensor(Y), M.tensor(IMG)
    w1, b1, cw = M.tensor(W1), M.tensor(B1), M.tensor(CW)
    lab = M.tensor(LAB)
    idx = M.tensor([[0, 2], [1, 1], [2, 0], [0, 0], [1, 2]])

    def inplace(a: Any) -> Any:
        b = a.clone()
        b[0] = 1.0
        b.mul_(2).add_(a)
        b[:, 1:] += a[:, :1]
        return b
    return {
        "linear": vmap(F.linear, in_dims=(0, None, None))(x, w1, b1),
        "linear_w": vmap(F.linear, in_dims=(None, 0, None))(x[0], w1.expand(5, 8, 4) * x[:, :1, :1], b1),
        "matmul": vmap(lambda a, b: (a @ b, b.t() @ a.t(), a[0] @ a[1], b.t() @ a[0]))(x, x.transpose(1, 2)),
        "conv": vmap(lambda i: F.conv2d(i.unsqueeze(0), cw, padding=1))(img),
        "conv_w": vmap(lambda i, w: F.conv2d(i, w, stride=2))(img, cw.expand(4, 2, 1, 3, 3) * img[:, :1, :1, :1, None]),
        "pool": vmap(lambda i: (F.max_pool2d(i, 2), F.avg_pool2d(i, 3), F.adaptive_avg_pool2d(i, 1)))(img),
        "index": vmap(lambda a: (a[1:, [0, 3]], a[..., -1], a[a[:, 0].argmax()]))(x),
        "index_batched": vmap(lambda a, i: (a[i], a[:, i[0]], y[i[1]]))(x, idx),
        "gather": vmap(lambda a, i: a.gather(1, i.unsqueeze(0).expand(3, 2)))(x, idx),
        "views": vmap(lambda a: (a.view(12), a.reshape(2, 6).T, a.unsqueeze(1).expand(3, 2, 4), a.flatten(),
                                 a.permute(1, 0)[::2], a.transpose(0, 1).contiguous(), a.unbind(1)[2]))(x),
        "cat_stack": vmap(lambda a: (M.cat([a, y[:3]], 1), M.stack([a[0], y[:, 0]], 0)))(x),
        "reduce": vmap(lambda a: (a.sum(0), a.mean(), a.amax(1, keepdim=True), a.var(0), a.logsumexp(-1),
                                  a.max(1).values, a.argmin(), a.norm(dim=0), a.cumsum(1), a.sort(1).indices))(x),
        "softmax": vmap(lambda a: (a.softmax(0), F.log_softmax(a, -1), F.softmax(a, dim=1)))(x),
        "losses": vmap(lambda a, t: (F.cross_entropy(a, t.expand(3)), F.nll_loss(F.log_softmax(a, 1), t.expand(3)),
                                     F.mse_loss(a, y.t()[:3]), F.binary_cross_entropy_with_logits(a, a.sigmoid()),
                                     F.cross_entropy(a, t.expand(3), label_smoothing=0.1)))(x, lab),
        "norms": vmap(lambda a: (F.layer_norm(a, (4,)), F.normalize(a, dim=1), F.gelu(a), F.silu(a),
                                 F.softplus(a), a.clamp(-0.5, 0.5)))(x),
        "inplace": vmap(inplace)(x),
        "where": vmap(lambda a: M.where(a > 0, a, a.exp() - 1))(x),
        "einsum": vmap(lambda a: M.einsum("ij,jk->ik", a, y))(x),
    }


def test_ops_match_torch(torch_ref: Any) -> None:
    want = torch_ref("ops", lambda torch: tree_np(_ops(torch)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every one of these runs through a batching rule, not a loop
        got = tree_np(_ops(ndgrad))
    assert_tree(got, want)


def _errors(M: Any) -> dict:
    F = M.func
    x, y = M.ones(3, 4), M.ones(5, 4)
    return {
        "size": error_text(lambda: F.vmap(lambda a, b: a + b)(x, y)),
        "range": error_text(lambda: F.vmap(lambda a: a, in_dims=2)(x)),
        "nontensor": error_text(lambda: F.vmap(lambda a, b: a, in_dims=(0, 0))(x, 3)),
        "none": error_text(lambda: F.vmap(lambda a: a, in_dims=None)(x)),
        "struct": error_text(lambda: F.vmap(lambda a, b: a, in_dims=(0, 0, 0))(x, x)),
        "list": error_text(lambda: F.vmap(lambda a: a, in_dims=[0])(x)),
        "item": error_text(lambda: F.vmap(lambda a: a.sum().item())(x)),
        "flow": error_text(lambda: F.vmap(lambda a: a if a.sum() > 0 else -a)(x)),
        "ret": error_text(lambda: F.vmap(lambda a: 3)(x)),
        "rand": error_text(lambda: F.vmap(lambda a: a + M.rand(4))(x)),
        "dropout": error_text(lambda: F.vmap(lambda a: M.nn.functional.dropout(a, 0.5))(x)),
        "mode": error_text(lambda: F.vmap(lambda a: a, randomness="bad")(x)),
        "out_struct": error_text(lambda: F.vmap(lambda a: (a, a), out_dims=(0, 0, 0))(x)),
        "out_range": error_text(lambda: F.vmap(lambda a: a, out_dims=3)(x)),
        "chunk": error_text(lambda: F.vmap(lambda a: a, chunk_size=0)(x)),
        "inplace": error_text(lambda: F.vmap(lambda a: M.zeros(4).add_(a))(x)),
        "grad_nonscalar": error_text(lambda: F.vmap(F.grad(lambda a: a * 2))(x)),
    }


def _first_sentence(msg: str) -> str:
    msg = re.sub(r"\s+", " ", msg.replace("torch.", "ndgrad."))
    return msg.split(". ")[0]


def test_errors_match_torch(torch_ref: Any) -> None:
    want = torch_ref("errors", _errors)
    got = _errors(ndgrad)
    for k, v in want.items():
        assert got[k].split(":")[0] == v.split(":")[0], (k, got[k], v)  # the exception type
        if k != "inplace":  # (PyTorch reports the broadcast for add_; ndgrad says why in vmap's words)
            assert _first_sentence(got[k]) == _first_sentence(v), (k, got[k], v)


def test_randomness() -> None:
    x = ndgrad.zeros(4, 3)
    ndgrad.manual_seed(0)
    same = nfunc.vmap(lambda a: a + ndgrad.rand(3), randomness="same")(x)
    diff = nfunc.vmap(lambda a: a + ndgrad.randn(3), randomness="different")(x)
    drop = nfunc.vmap(lambda a: ndgrad.nn.functional.dropout(a + 1, 0.5), randomness="different")(ndgrad.zeros(64, 8))
    assert same.shape == diff.shape == (4, 3)
    assert bool((same == same[0]).all()) and ((same >= 0) & (same < 1)).all()
    assert len({tuple(r) for r in diff.tolist()}) == 4  # one draw per example
    rows = {tuple(r) for r in drop.tolist()}
    assert len(rows) > 32 and set(drop.unique().tolist()) <= {0.0, 2.0}  # masks differ per example
    same_drop = nfunc.vmap(lambda a: ndgrad.nn.functional.dropout(a + 1, 0.5), randomness="same")(ndgrad.zeros(8, 16))
    assert bool((same_drop == same_drop[0]).all())
    # the dims of a draw inside nested vmaps: one per example of each level that is 'different'
    nested = nfunc.vmap(nfunc.vmap(lambda a: a + ndgrad.rand(()), randomness="different"), randomness="same")(
        ndgrad.zeros(3, 5))
    assert bool((nested == nested[0]).all()) and len(set(nested[0].tolist())) == 5


# ---------------------------------------------------------------------------
# per-sample gradients, ensembling
# ---------------------------------------------------------------------------
def _mlp(M: Any) -> Any:
    net = M.nn.Sequential(M.nn.Linear(4, 8), M.nn.Tanh(), M.nn.Linear(8, 3)).double()
    with M.no_grad():
        net[0].weight.copy_(M.tensor(W1))
        net[0].bias.copy_(M.tensor(B1))
        net[2].weight.copy_(M.tensor(W2))
        net[2].bias.zero_()
    return net


def _cnn(M: Any) -> Any:
    net = M.nn.Sequential(M.nn.Conv2d(1, 2, 3, padding=1), M.nn.ReLU(), M.nn.MaxPool2d(2), M.nn.Flatten(),
                          M.nn.Linear(18, 3)).double()
    with M.no_grad():
        net[0].weight.copy_(M.tensor(CW))
        net[0].bias.copy_(M.tensor([0.1, -0.1]))
        net[4].weight.copy_(M.tensor(RNG.standard_normal((3, 18)) * 0 + np.linspace(-1, 1, 54).reshape(3, 18)))
        net[4].bias.zero_()
    return net


def _per_sample(M: Any, net: Any, xs: Any, ys: Any) -> tuple:
    F = M.func
    params = {k: v.detach() for k, v in net.named_parameters()}

    def loss(p: dict, x: Any, t: Any) -> Any:
        out = F.functional_call(net, p, (x.unsqueeze(0),))
        return M.nn.functional.cross_entropy(out, t.unsqueeze(0))
    batched = F.vmap(F.grad(loss), in_dims=(None, 0, 0))(params, xs, ys)
    loop = [F.grad(loss)(params, xs[i], ys[i]) for i in range(len(ys))]
    return batched, loop


def _per_sample_all(M: Any) -> dict:
    mlp, cnn = _mlp(M), _cnn(M)
    gm, _ = _per_sample(M, mlp, M.tensor(X[:, 0]), M.tensor(LAB))
    gc, _ = _per_sample(M, cnn, M.tensor(IMG), M.tensor(LAB[:4]))
    return {"mlp": gm, "cnn": gc}


def test_per_sample_gradients_equal_a_loop_and_torch(torch_ref: Any) -> None:
    for net, xs, ys in ((_mlp(ndgrad), X[:, 0], LAB), (_cnn(ndgrad), IMG, LAB[:4])):
        batched, loop = _per_sample(ndgrad, net, ndgrad.tensor(xs), ndgrad.tensor(ys))
        for k, g in batched.items():
            np.testing.assert_allclose(g.numpy(), np.stack([one[k].numpy() for one in loop]), rtol=1e-12, atol=1e-14)
        # and each per-sample gradient is what backward() gives for that sample alone
        net.zero_grad()
        ndgrad.nn.functional.cross_entropy(net(ndgrad.tensor(xs[1:2])), ndgrad.tensor(ys[1:2])).backward()
        for k, p in net.named_parameters():
            np.testing.assert_allclose(batched[k][1].numpy(), p.grad.numpy(), rtol=1e-12, atol=1e-14)
    want = torch_ref("per_sample", lambda torch: tree_np(_per_sample_all(torch)))
    assert_tree(tree_np(_per_sample_all(ndgrad)), want)


def _ensemble(M: Any) -> dict:
    F = M.func
    models = [_mlp(M) for _ in range(3)]
    with M.no_grad():
        for i, m in enumerate(models):
            m[2].bias.fill_(0.1 * i)
            m[0].weight.mul_(1 + 0.2 * i)
    params, buffers = F.stack_module_state(models)
    base = models[0]

    def run(p: dict, b: dict, x: Any) -> Any:
        return F.functional_call(base, (p, b), (x,))
    x = M.tensor(X[:, 0])
    same_x = F.vmap(run, in_dims=(0, 0, None))(params, buffers, x)
    own_x = F.vmap(run)(params, buffers, M.tensor(X[:3, :2]))
    loss = F.vmap(F.grad(lambda p, b, xx: run(p, b, xx).pow(2).mean()), in_dims=(0, 0, None))(params, buffers, x)
    return {"same": same_x, "own": own_x, "grads": loss}


def test_ensembling_matches_torch(torch_ref: Any) -> None:
    want = torch_ref("ensemble", lambda torch: tree_np(_ensemble(torch)))
    assert_tree(tree_np(_ensemble(ndgrad)), want)


def _jacobians(M: Any) -> dict:
    F = M.func
    net = _mlp(M)
    xs = M.tensor(X[:, 0])
    return {"vmap_jacrev": F.vmap(F.jacrev(net))(xs), "vmap_jacfwd": F.vmap(F.jacfwd(net))(xs),
            "vmap_hessian": F.vmap(F.hessian(lambda x: net(x).pow(2).sum()))(xs[:2]),
            "jacrev_chunk": F.jacrev(net, chunk_size=2)(xs[0]),
            "vjp_batched": F.vmap(F.vjp(net, xs[0])[1])(M.eye(3, dtype=M.float64))}


def test_batched_jacobians_match_torch(torch_ref: Any) -> None:
    want = torch_ref("jacobians", lambda torch: tree_np(_jacobians(torch)))
    got = tree_np(_jacobians(ndgrad))
    assert_tree(got, want)
    np.testing.assert_allclose(got["vmap_jacrev"], got["vmap_jacfwd"], rtol=1e-12, atol=1e-14)


# ---------------------------------------------------------------------------
# gradcheck's batched checks
# ---------------------------------------------------------------------------
class _ItemScale(ndgrad.autograd.Function):
    """Backward reads a value with .item(): fine for one cotangent, impossible under vmap."""

    @staticmethod
    def forward(ctx: Any, x: Any) -> Any:
        return x * 2

    @staticmethod
    def backward(ctx: Any, g: Any) -> Any:
        return g * (2.0 + 0 * g.sum().item())


@pytest.mark.parametrize("fn", [lambda a, b: (a @ b).softmax(-1), lambda a, b: ndgrad.nn.functional.conv1d(
    a.reshape(1, 3, 4), b.reshape(2, 3, 2)).tanh()])
def test_gradcheck_batched_grad(fn: Callable) -> None:
    a = ndgrad.tensor(RNG.standard_normal((3, 4)), requires_grad=True)
    b = ndgrad.tensor(RNG.standard_normal((4, 3)), requires_grad=True)
    assert ndgrad.autograd.gradcheck(fn, (a, b), check_batched_grad=True, check_forward_ad=True,
                                     check_batched_forward_grad=True)
    assert ndgrad.autograd.gradgradcheck(fn, (a, b), check_batched_grad=True)


def test_gradcheck_batched_grad_catches_an_unbatchable_backward() -> None:
    x = ndgrad.tensor(RNG.standard_normal(3), requires_grad=True)
    assert ndgrad.autograd.gradcheck(_ItemScale.apply, (x,))
    assert not ndgrad.autograd.gradcheck(_ItemScale.apply, (x,), check_batched_grad=True, raise_exception=False)
    with pytest.raises(RuntimeError, match="batched gradients"):
        ndgrad.autograd.gradcheck(_ItemScale.apply, (x,), check_batched_grad=True)


def _modules_in_vmap(M: Any) -> dict:
    """Whole modules called on each example of a batch."""
    nn = M.nn
    rng = np.random.default_rng(3)
    mods = {"conv_bn": nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2).eval(), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                                     nn.Flatten()),
            "bn_batch_stats": nn.BatchNorm1d(3, track_running_stats=False),
            "encoder": nn.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True),
            "ln_gelu": nn.Sequential(nn.Linear(3, 8), nn.LayerNorm(8), nn.GELU(), nn.Linear(8, 2))}
    xs = {"conv_bn": (5, 2, 1, 6, 6), "bn_batch_stats": (5, 4, 3), "encoder": (5, 2, 3, 4), "ln_gelu": (5, 4, 3)}
    out = {}
    for k, m in mods.items():
        m = m.double()
        with M.no_grad():
            for p in m.parameters():
                p.copy_(M.tensor(rng.standard_normal(tuple(p.shape)) * 0.3))
        out[k] = M.func.vmap(m)(M.tensor(rng.standard_normal(xs[k])))
    out["bn_running"] = error_text(lambda: M.func.vmap(nn.BatchNorm1d(3))(M.ones(5, 4, 3)))
    return out


def test_modules_in_vmap_match_torch(torch_ref: Any) -> None:
    want = torch_ref("modules", lambda torch: {k: v if isinstance(v, str) else to_np(v)
                                               for k, v in _modules_in_vmap(torch).items()})
    got = _modules_in_vmap(ndgrad)
    assert got.pop("bn_running").split("\n")[0] == want.pop("bn_running").split("\n")[0]
    assert_tree(tree_np(got), want)
    # recurrent layers too (PyTorch has no batching rule for them): equal to a loop over the examples
    lstm = ndgrad.nn.LSTM(3, 4, batch_first=True).double()
    x = ndgrad.tensor(RNG.standard_normal((5, 2, 6, 3)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        got_lstm = nfunc.vmap(lambda a: lstm(a)[0])(x)
    np.testing.assert_allclose(got_lstm.detach().numpy(), np.stack([lstm(x[i])[0].detach().numpy()
                                                                      for i in range(5)]), rtol=1e-12, atol=1e-14)


def _inplace_views(M: Any) -> dict:
    """Forward mode through in-place writes into views (jacfwd runs it with batched tangents)."""
    F = M.func

    def g(x: Any) -> Any:
        y = x.clone()
        y[0] = x[1] * 2
        y[1:].mul_(3)
        y[::2].add_(x[:2].flip(0))
        z = M.zeros(2, 3, dtype=x.dtype)
        z.t()[1].copy_(x[1:])
        return M.cat([y, z.reshape(-1)])
    x = M.tensor([1.0, 2.0, 3.0], dtype=M.float64)
    return {"fwd": F.jacfwd(g)(x), "rev": F.jacrev(g)(x),
            "vjvp": F.vmap(lambda t: F.jvp(g, (x,), (t,))[1])(M.eye(3, dtype=M.float64))}


def test_forward_mode_through_inplace_views_inside_vmap(torch_ref: Any) -> None:
    want = torch_ref("inplace_views", lambda torch: tree_np(_inplace_views(torch)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # batched through the rules, no per-example loop
        got = tree_np(_inplace_views(ndgrad))
    assert_tree(got, want)


def test_no_rule_loops_with_a_warning_or_names_the_op() -> None:
    x = ndgrad.tensor([[0, 1, 1, 3], [2, 2, 0, 1], [3, 3, 3, 0]])
    with pytest.warns(UserWarning, match="bincount has no batching rule"):
        got = nfunc.vmap(lambda a: ndgrad.bincount(a, minlength=4))(x)
    np.testing.assert_array_equal(got.numpy(), [[1, 2, 0, 1], [1, 1, 2, 0], [1, 0, 0, 3]])
    with pytest.raises(RuntimeError, match="nonzero returns tensors of different shapes"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nfunc.vmap(ndgrad.nonzero)(ndgrad.tensor([[1, 0], [1, 1]]))
