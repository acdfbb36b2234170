"""Losses (module and functional forms): values and gradients against PyTorch,
finite differences in float64, stability for large logits, and PyTorch's errors."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

import ndgrad
import ndgrad.nn as nn
import ndgrad.nn.functional as F
from ndgrad.autograd import gradcheck

REDUCTIONS = ["mean", "sum", "none"]


def _close(a, b, rtol=1e-5, atol=1e-6):
    a = a.detach().numpy() if hasattr(a, "detach") else np.asarray(a)
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


def _run(L, fn, inputs, grad_idx):
    """fn(L, *tensors) in library L: the loss, and the gradients of inputs[grad_idx] for a fixed
    upstream gradient."""
    ts = [L.tensor(a, requires_grad=i in grad_idx and a.dtype.kind == "f") if isinstance(a, np.ndarray) else a
          for i, a in enumerate(inputs)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = fn(L, *ts)
    g = np.random.default_rng(0).standard_normal(tuple(out.shape)) + 1.5
    out.backward(L.tensor(g, dtype=out.dtype))
    return [out.detach(), [ts[i].grad for i in grad_idx]]


def _compare(torch_ref, key, fn, inputs, grad_idx=(0,), rtol=1e-5, atol=1e-6):
    """fn(L, *tensors) on ndgrad against PyTorch on the same arrays: the value (and shape) and
    the gradients of inputs[grad_idx]."""
    (nout, ngrads), (tout, tgrads) = _run(ndgrad, fn, inputs, grad_idx), torch_ref(key, lambda torch: _run(
        torch, fn, inputs, grad_idx))
    _close(nout, tout, rtol, atol)
    assert tuple(nout.shape) == tuple(tout.shape)
    for n, t in zip(ngrads, tgrads, strict=True):
        _close(n, t, rtol, atol)
    return nout


rng = np.random.default_rng(42)
X = rng.standard_normal((6, 5)).astype(np.float32)
Y = rng.standard_normal((6, 5)).astype(np.float32)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("name,targs", [("mse_loss", {}), ("l1_loss", {}), ("smooth_l1_loss", {}),
                                        ("smooth_l1_loss", {"beta": 0.3}), ("smooth_l1_loss", {"beta": 0.0}),
                                        ("huber_loss", {}), ("huber_loss", {"delta": 0.4})])
def test_regression_losses(name, targs, reduction, torch_ref):
    _compare(torch_ref, "loss", lambda L, a, b: getattr(L.nn.functional, name)(a, b, reduction=reduction, **targs),
             [X, Y], grad_idx=(0, 1))


def test_regression_loss_modules_and_broadcast_warning(torch_ref):
    for cls, kw in [("MSELoss", {}), ("L1Loss", {"reduction": "sum"}), ("SmoothL1Loss", {"beta": 0.5}),
                    ("HuberLoss", {"delta": 2.0})]:
        _compare(torch_ref, cls, lambda L, a, b, cls=cls, kw=kw: getattr(L.nn, cls)(**kw)(a, b), [X * 3, Y])
    with pytest.warns(UserWarning, match="Using a target size"):
        F.mse_loss(ndgrad.tensor(X[:, :1]), ndgrad.tensor(X[:, 0]))
    _compare(torch_ref, "broadcast", lambda L, a, b: L.nn.functional.mse_loss(a, b), [X[:, :1], X[:, 0]])


def _weighted(L, kw):
    """Options with the weight array ("w" / True) made a tensor of library L."""
    return {k: L.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"weight": "w"}, {"ignore_index": 1}, {"label_smoothing": 0.2},
                                  {"weight": "w", "label_smoothing": 0.1, "ignore_index": 2}])
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4), (2, 5, 3, 2)])
def test_cross_entropy_class_indices(shape, opts, reduction, torch_ref):
    r = np.random.default_rng(len(shape))
    x = (r.standard_normal(shape) * 2).astype(np.float32)
    t = r.integers(0, 5, (shape[0],) + shape[2:])
    kw = dict(opts)
    w = r.uniform(0.5, 2, 5).astype(np.float32)
    if kw.get("weight") == "w":
        kw["weight"] = w
    _compare(torch_ref, "functional",
             lambda L, a, b: L.nn.functional.cross_entropy(a, b, reduction=reduction, **_weighted(L, kw)), [x, t])
    _compare(torch_ref, "module",
             lambda L, a, b: L.nn.CrossEntropyLoss(reduction=reduction, **_weighted(L, kw))(a, b), [x, t])


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("opts", [{}, {"weight": True}, {"label_smoothing": 0.3}])
def test_cross_entropy_probabilities(opts, reduction, torch_ref):
    r = np.random.default_rng(1)
    x = r.standard_normal((4, 3, 2)).astype(np.float32)
    p = r.uniform(size=(4, 3, 2)).astype(np.float32)
    p /= p.sum(1, keepdims=True)
    kw = dict(opts)
    if opts.get("weight"):
        kw["weight"] = np.array([0.5, 1.0, 2.0], np.float32)
    _compare(torch_ref, "loss",
             lambda L, a, b: L.nn.functional.cross_entropy(a, b, reduction=reduction, **_weighted(L, kw)), [x, p],
             grad_idx=(0, 1))


def test_cross_entropy_unbatched_and_nll(torch_ref):
    x = np.array([0.3, -1.2, 2.0, 0.1], np.float32)
    _compare(torch_ref, "unbatched", lambda L, a, b: L.nn.functional.cross_entropy(a, b), [x, np.array(2)])
    for reduction in REDUCTIONS:
        lp = np.log(np.random.default_rng(0).dirichlet(np.ones(5), 6)).astype(np.float32)
        t = np.array([0, 4, 1, 1, 3, 2])
        _compare(torch_ref, f"nll_{reduction}",
                 lambda L, a, b, r=reduction: L.nn.functional.nll_loss(a, b, reduction=r, ignore_index=1), [lp, t])
        w = np.linspace(0.5, 1.5, 5).astype(np.float32)
        _compare(torch_ref, f"NLLLoss_{reduction}",
                 lambda L, a, b, r=reduction, w=w: L.nn.NLLLoss(L.tensor(w), reduction=r)(a, b), [lp, t])


def test_cross_entropy_stable_large_logits():
    x = ndgrad.tensor([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(x, ndgrad.tensor([2, 1]))
    assert math.isclose(loss.item(), 1e4, rel_tol=1e-6)
    assert type(loss.grad_fn).__name__ == "NllLossBackward0"
    assert type(loss.grad_fn.next_functions[0][0]).__name__ == "LogSoftmaxBackward0"
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.5, 0, -0.5], [0, 0, 0]], atol=1e-6)
    b = F.binary_cross_entropy_with_logits(ndgrad.tensor([1e4, -1e4, 0.0]), ndgrad.tensor([0.0, 1.0, 1.0]),
                                           reduction="none")
    np.testing.assert_allclose(b.numpy(), [1e4, 1e4, math.log(2)], rtol=1e-6)


def test_cross_entropy_closed_form_without_torch():
    x = np.array([[1.0, 2.0, 3.0], [1.0, 1.0, 1.0]])
    t = np.array([2, 0])
    lp = x - np.log(np.exp(x).sum(1, keepdims=True))
    expected = -(lp[0, 2] + lp[1, 0]) / 2
    out = F.cross_entropy(ndgrad.tensor(x), ndgrad.tensor(t))
    assert math.isclose(out.item(), expected, rel_tol=1e-12)
    # weights and ignore_index: weighted mean over non-ignored targets
    w = np.array([1.0, 2.0, 3.0])
    out = F.cross_entropy(ndgrad.tensor(x), ndgrad.tensor(t), weight=ndgrad.tensor(w))
    assert math.isclose(out.item(), -(3 * lp[0, 2] + 1 * lp[1, 0]) / 4, rel_tol=1e-12)
    out = F.cross_entropy(ndgrad.tensor(x), ndgrad.tensor([2, -100]))
    assert math.isclose(out.item(), -lp[0, 2], rel_tol=1e-12)
    out = F.cross_entropy(ndgrad.tensor(x), ndgrad.tensor([2, 0]), label_smoothing=0.3)
    smooth = -(lp.mean(1)).mean()
    assert math.isclose(out.item(), 0.7 * expected + 0.3 * smooth, rel_tol=1e-12)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradcheck_losses(reduction):
    r = np.random.default_rng(3)

    def t(shape, lo=None, hi=None):
        a = r.uniform(lo, hi, shape) if lo is not None else r.standard_normal(shape)
        return ndgrad.tensor(a, dtype=ndgrad.float64, requires_grad=True)
    x, y = t((4, 3)), t((4, 3))
    idx = ndgrad.tensor([0, 2, 1, 2])
    w = ndgrad.tensor([0.5, 1.0, 2.0], dtype=ndgrad.float64)
    cases = [
        (lambda a: F.cross_entropy(a, idx, reduction=reduction), (x,)),
        (lambda a: F.cross_entropy(a, idx, weight=w, reduction=reduction, label_smoothing=0.1), (x,)),
        (lambda a, b: F.cross_entropy(a, b.softmax(1), reduction=reduction), (x, y)),
        (lambda a: F.nll_loss(a, idx, reduction=reduction, ignore_index=1), (x,)),
        (lambda a, b: F.mse_loss(a, b, reduction=reduction), (x, y)),
        (lambda a, b: F.smooth_l1_loss(a, b, reduction=reduction, beta=0.5), (x, y)),
        (lambda a, b: F.huber_loss(a, b, reduction=reduction, delta=0.7), (x, y)),
        (lambda a, b: F.binary_cross_entropy(a, b, reduction=reduction), (t((4, 3), 0.1, 0.9), t((4, 3), 0, 1))),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction,
                                                         pos_weight=ndgrad.tensor([1.0, 2.0, 0.5],
                                                                                  dtype=ndgrad.float64)),
         (x, t((4, 3), 0, 1))),
        (lambda a, b: F.binary_cross_entropy_with_logits(a, b, reduction=reduction, weight=w), (x, t((4, 3), 0, 1))),
        (lambda a, b: F.kl_div(a, b, reduction=reduction if reduction != "mean" else "batchmean"),
         (x, t((4, 3), 0.1, 1))),
        (lambda a, b: F.kl_div(a, b, reduction=reduction if reduction != "mean" else "batchmean", log_target=True),
         (x, y)),
    ]
    for fn, inputs in cases:
        assert gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_losses(reduction, torch_ref):
    r = np.random.default_rng(7)
    p = r.uniform(0.01, 0.99, (5, 3)).astype(np.float32)
    p[0, 0], p[1, 1] = 0.0, 1.0  # log clamped at -100, gradient finite
    t = r.uniform(0, 1, (5, 3)).astype(np.float32)
    t[0, 0], t[1, 1] = 1.0, 0.0
    w = r.uniform(0.5, 2, (5, 3)).astype(np.float32)
    _compare(torch_ref, "bce", lambda L, a, b: L.nn.functional.binary_cross_entropy(a, b, reduction=reduction),
             [p, t], rtol=1e-4)
    _compare(torch_ref, "BCELoss", lambda L, a, b: L.nn.BCELoss(weight=L.tensor(w), reduction=reduction)(a, b),
             [p, t], rtol=1e-4)
    logits = (r.standard_normal((5, 3)) * 5).astype(np.float32)
    logits[0, 0] = 0.0
    pw = np.array([1.0, 3.0, 0.5], np.float32)
    _compare(torch_ref, "bce_logits",
             lambda L, a, b: L.nn.functional.binary_cross_entropy_with_logits(a, b, reduction=reduction),
             [logits, t], (0, 1))
    _compare(torch_ref, "BCEWithLogitsLoss",
             lambda L, a, b: L.nn.BCEWithLogitsLoss(weight=L.tensor(w), pos_weight=L.tensor(pw),
                                                    reduction=reduction)(a, b), [logits, t], (0, 1))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none", "batchmean"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target, torch_ref):
    r = np.random.default_rng(2)
    lp = np.log(r.dirichlet(np.ones(4), 3)).astype(np.float32)
    tgt = r.dirichlet(np.ones(4), 3).astype(np.float32)
    tgt[0, 0] = 0.0
    if log_target:
        tgt = np.log(tgt + 0.1).astype(np.float32)
    _compare(torch_ref, "kl_div",
             lambda L, a, b: L.nn.functional.kl_div(a, b, reduction=reduction, log_target=log_target), [lp, tgt],
             (0, 1))
    _compare(torch_ref, "KLDivLoss", lambda L, a, b: L.nn.KLDivLoss(reduction=reduction, log_target=log_target)(a, b),
             [lp, tgt])


def test_other_losses_match_torch(torch_ref):
    r = np.random.default_rng(9)
    a, b = r.standard_normal((4, 3)).astype(np.float32), r.standard_normal((4, 3)).astype(np.float32)
    c = r.standard_normal((4, 3)).astype(np.float32)
    sgn = np.sign(r.standard_normal((4, 3))).astype(np.float32)
    for name, kw, inputs, grad_idx in [
            ("soft_margin_loss", {}, [a, sgn], (0,)),
            ("margin_ranking_loss", {"margin": 0.2}, [a, b, sgn], (0, 1)),
            ("hinge_embedding_loss", {}, [a, sgn], (0,)),
            ("cosine_embedding_loss", {}, [a, b, sgn[:, 0]], (0, 1)),
            ("triplet_margin_loss", {}, [a, b, c], (0, 1, 2)),
            ("poisson_nll_loss", {}, [a, np.abs(b)], (0,)),
            ("gaussian_nll_loss", {}, [a, b, np.abs(c) + 0.1], (0, 2)),
            ("multilabel_soft_margin_loss", {}, [a, (sgn > 0).astype(np.float32)], (0,)),
            ("multi_margin_loss", {}, [a, np.array([0, 2, 1, 1])], (0,))]:
        _compare(torch_ref, name, lambda L, *xs, name=name, kw=kw: getattr(L.nn.functional, name)(*xs, **kw),
                 inputs, grad_idx)


def test_loss_errors():
    x = ndgrad.randn(3, 5)
    with pytest.raises(IndexError, match="Target 5 is out of bounds."):
        F.cross_entropy(x, ndgrad.tensor([0, 1, 5]))
    with pytest.raises(IndexError, match="Target -1 is out of bounds."):
        F.nll_loss(x, ndgrad.tensor([0, 1, -1]))
    with pytest.raises(ValueError, match=r"Expected input batch_size \(3\) to match target batch_size \(4\)."):
        F.cross_entropy(x, ndgrad.tensor([0, 1, 2, 3]))
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte, but got Float"):
        F.cross_entropy(x, ndgrad.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(RuntimeError, match="0D or 1D target tensor expected, multi-target not supported"):
        F.cross_entropy(x, ndgrad.randn(3, 4))
    with pytest.raises(RuntimeError, match=r"Expected target size \[2, 3\], got \[2, 2\]"):
        F.cross_entropy(ndgrad.randn(2, 5, 3), ndgrad.tensor([[1, 2], [0, 0]]))
    with pytest.raises(RuntimeError, match="weight tensor should be defined either for all 5 classes"):
        F.cross_entropy(x, ndgrad.tensor([0, 1, 1]), weight=ndgrad.ones(4))
    with pytest.raises(RuntimeError, match="label_smoothing must be between 0.0 and 1.0. Got: 1.5"):
        F.cross_entropy(x, ndgrad.tensor([0, 1, 1]), label_smoothing=1.5)
    with pytest.raises(ValueError, match="foo is not a valid value for reduction"):
        F.mse_loss(x, x, reduction="foo")
    with pytest.raises(ValueError, match=r"Using a target size \(torch.Size\(\[3\]\)\) that is different to the "
                                         r"input size \(torch.Size\(\[3, 1\]\)\) is deprecated"):
        F.binary_cross_entropy(ndgrad.rand(3, 1), ndgrad.rand(3))
    with pytest.raises(RuntimeError, match="all elements of input should be between 0 and 1"):
        F.binary_cross_entropy(ndgrad.rand(3) + 1, ndgrad.rand(3))
    with pytest.raises(ValueError, match=r"Target size \(torch.Size\(\[3\]\)\) must be the same as input size"):
        F.binary_cross_entropy_with_logits(ndgrad.rand(3, 1), ndgrad.rand(3))
    with pytest.raises(RuntimeError, match="The size of tensor a"), pytest.warns(UserWarning):
        F.mse_loss(x, ndgrad.randn(4, 1))


def test_loss_module_state_and_repr():
    w = ndgrad.tensor([1.0, 2.0])
    ce = nn.CrossEntropyLoss(weight=w, label_smoothing=0.1)
    assert repr(ce) == "CrossEntropyLoss()"
    assert list(ce.state_dict()) == ["weight"]
    assert list(nn.CrossEntropyLoss().state_dict()) == []
    assert list(nn.BCEWithLogitsLoss(pos_weight=w).state_dict()) == ["pos_weight"]
    with pytest.warns(UserWarning, match="size_average and reduce args will be deprecated"):
        assert nn.MSELoss(size_average=False).reduction == "sum"


def test_gradgradcheck_fused_losses():
    from ndgrad.autograd import gradgradcheck
    r = np.random.default_rng(11)
    x = ndgrad.tensor(r.standard_normal((3, 4)), requires_grad=True)
    t = ndgrad.tensor(r.uniform(0, 1, (3, 4)))
    p = ndgrad.tensor(r.uniform(0.2, 0.8, (3, 4)), requires_grad=True)
    idx = ndgrad.tensor([1, 0, 3])
    assert gradgradcheck(lambda a: F.cross_entropy(a, idx, label_smoothing=0.1), (x,), eps=1e-6, atol=1e-4)
    assert gradgradcheck(lambda a: F.binary_cross_entropy_with_logits(a, t), (x,), eps=1e-6, atol=1e-4)
    assert gradgradcheck(lambda a: F.binary_cross_entropy(a, t), (p,), eps=1e-6, atol=1e-4)


@pytest.mark.parametrize("call", [
    lambda F, x, w: F.nll_loss(F.log_softmax(x, 1), ndgrad.tensor([0, 1, 2]), weight=w),
    lambda F, x, w: F.cross_entropy(x, ndgrad.tensor([0, 1, 2]), weight=w),
    lambda F, x, w: F.binary_cross_entropy(ndgrad.sigmoid(x), ndgrad.rand(3, 4), weight=w.expand(3, 4)),
    lambda F, x, w: F.binary_cross_entropy_with_logits(x, ndgrad.rand(3, 4), weight=w),
    lambda F, x, w: F.binary_cross_entropy_with_logits(x, ndgrad.rand(3, 4), pos_weight=w),
])
def test_fused_loss_weights_that_require_grad_are_refused(call):
    # PyTorch's fused losses are not differentiable in their weights: an error, not a silent None
    from ndgrad.nn import functional as F
    x = ndgrad.randn(3, 4, requires_grad=True)
    w = ndgrad.rand(4, requires_grad=True)
    with pytest.raises(RuntimeError, match="is not differentiable with respect to argument"):
        call(F, x, w)
    with ndgrad.no_grad():
        call(F, x, w)  # fine without recording
