"""Transforms and TransformedDistribution against PyTorch: forward, inverse, log|det J|, shapes, reprs,
constraint bijections (biject_to / transform_to)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.distributions import transforms as T

_X = np.array([[-1.5, -0.2, 0.3], [0.7, 1.1, 2.0]])
_POS = np.array([[0.2, 0.9, 1.7], [2.5, 0.05, 1.0]])


def _transforms(lib: Any) -> dict:
    Tr = lib.distributions.transforms
    return {
        "exp": (Tr.ExpTransform(), _X),
        "sigmoid": (Tr.SigmoidTransform(), _X),
        "tanh": (Tr.TanhTransform(), _X),
        "affine": (Tr.AffineTransform(1.5, -2.0), _X),
        "affine_tensor": (Tr.AffineTransform(lib.tensor([0.1, 0.2, 0.3]), lib.tensor([2.0, 0.5, 3.0]), event_dim=1),
                          _X),
        "power": (Tr.PowerTransform(lib.tensor(2.5)), _POS),
        "softplus": (Tr.SoftplusTransform(), _X),
        "abs_inv_of_exp": (Tr.ExpTransform().inv, _POS),
        "compose": (Tr.ComposeTransform([Tr.AffineTransform(0.0, 2.0), Tr.TanhTransform(),
                                         Tr.AffineTransform(1.0, 3.0)]), _X),
        "stick": (Tr.StickBreakingTransform(), _X),
        "softmax": (Tr.SoftmaxTransform(), _X),
        "independent": (Tr.IndependentTransform(Tr.SigmoidTransform(), 1), _X),
        "reshape": (Tr.ReshapeTransform((3,), (3, 1)), _X),
        "lower_cholesky": (Tr.LowerCholeskyTransform(), np.array([[0.3, 9.0], [-0.4, 0.2]])),
        "cdf": (Tr.CumulativeDistributionTransform(lib.distributions.Normal(0.5, 2.0)), _X),
        "cat": (Tr.CatTransform([Tr.ExpTransform(), Tr.AffineTransform(1.0, 2.0)], dim=1, lengths=[1, 2]), _X),
        "cat_event": (Tr.CatTransform([Tr.IndependentTransform(Tr.SigmoidTransform(), 1), Tr.ExpTransform()],
                                      dim=-1, lengths=[2, 1]), _X),
        "stack": (Tr.StackTransform([Tr.ExpTransform(), Tr.TanhTransform()], dim=0), _X),
        "corr_cholesky": (Tr.CorrCholeskyTransform(), _X),
        "positive_definite": (Tr.PositiveDefiniteTransform(), np.array([[0.3, 9.0], [-0.4, 0.2]])),
    }


def run_transforms(lib: Any) -> dict:
    out = {}
    for key, (t, x) in _transforms(lib).items():
        xt = lib.tensor(x)
        y = t(xt)
        res = {"y": y, "repr": repr(t).replace("torch.", "ndgrad."), "bijective": t.bijective,
               "domain": repr(t.domain), "codomain": repr(t.codomain),
               "fshape": tuple(t.forward_shape(tuple(xt.shape))), "ishape": tuple(t.inverse_shape(tuple(y.shape)))}
        if key not in ("softmax", "lower_cholesky", "positive_definite"):  # not injective / no log-det
            res["x_back"] = t.inv(y)
        if key not in ("softmax", "lower_cholesky", "positive_definite"):
            try:
                res["ladj"] = t.log_abs_det_jacobian(xt, y)
            except NotImplementedError:
                res["ladj"] = "!NotImplementedError"
        try:
            s = t.sign
            res["sign"] = s if isinstance(s, int) else np.array(s.numpy())
        except NotImplementedError:
            res["sign"] = "!NotImplementedError"
        out[key] = res
    return out


def test_transforms_match_pytorch(torch_ref: Any) -> None:
    want = torch_ref("transforms", run_transforms)
    got = run_transforms(ndgrad)
    for key, w in want.items():
        g = got[key]
        assert g.keys() == w.keys(), key
        for k, wv in w.items():
            gv = g[k]
            if hasattr(gv, "numpy"):
                gv = np.array(gv.numpy())
            if isinstance(wv, np.ndarray):
                assert gv.dtype == wv.dtype and gv.shape == wv.shape, (key, k)
                np.testing.assert_allclose(gv, wv, rtol=1e-9, atol=1e-12, err_msg=f"{key}.{k}")
            else:
                assert gv == wv, (key, k, gv, wv)


def test_transform_identities_and_cache() -> None:
    t = T.ExpTransform()
    assert t.inv.inv is t and t.inv == T.ExpTransform().inv and t == T.ExpTransform()
    assert T.AffineTransform(1.0, 2.0) == T.AffineTransform(1.0, 2.0) != T.AffineTransform(1.0, 3.0)
    c = T.ExpTransform(cache_size=1)
    x = ndgrad.tensor([0.5])
    y = c(x)
    assert c(x) is y and c.inv(y) is x  # cached pair: exact inverse, no recomputation
    assert T.ExpTransform().with_cache(1)._cache_size == 1
    with pytest.raises(ValueError, match="cache_size must be 0 or 1"):
        T.ExpTransform(cache_size=3)
    assert T.identity_transform(x) is x


def transformed(lib: Any) -> dict:
    D = lib.distributions
    Tr = D.transforms
    loc, scale = lib.tensor([0.3, -0.2]), lib.tensor([0.5, 1.5])
    squashed = D.TransformedDistribution(D.Normal(loc, scale), [Tr.TanhTransform(), Tr.AffineTransform(1.0, 2.0)])
    logit_normal = D.TransformedDistribution(D.Normal(loc, scale), Tr.SigmoidTransform())
    flipped = D.TransformedDistribution(D.Normal(loc, scale), Tr.AffineTransform(0.0, -3.0))
    mvn = D.MultivariateNormal(lib.zeros(3), scale_tril=lib.tensor(np.tril(np.ones((3, 3))) + np.eye(3)))
    mvn_affine = D.TransformedDistribution(mvn, Tr.AffineTransform(lib.tensor([1.0, 2.0, 3.0]), 2.0, event_dim=1))
    normals_as_event = D.TransformedDistribution(D.Normal(lib.zeros(2, 3), 1.0), Tr.StickBreakingTransform())
    y = lib.tensor([0.5, 2.2])
    u = lib.tensor([0.2, 0.7])
    return {
        "squashed_lp": squashed.log_prob(y), "squashed_shape": (tuple(squashed.batch_shape),
                                                                tuple(squashed.event_shape)),
        "squashed_support": repr(squashed.support),
        "logit_lp": logit_normal.log_prob(u), "logit_cdf": logit_normal.cdf(u), "logit_icdf": logit_normal.icdf(u),
        "flipped_cdf": flipped.cdf(y), "flipped_icdf": flipped.icdf(u),
        "mvn_affine_lp": mvn_affine.log_prob(lib.tensor([[0.5, 1.0, 2.0], [1.0, 1.0, 1.0]])),
        "mvn_affine_shape": (tuple(mvn_affine.batch_shape), tuple(mvn_affine.event_shape)),
        "stick_shape": (tuple(normals_as_event.batch_shape), tuple(normals_as_event.event_shape)),
        "stick_lp": normals_as_event.log_prob(lib.tensor([[0.2, 0.3, 0.1, 0.4], [0.25, 0.25, 0.25, 0.25]])),
        "expand_shape": tuple(squashed.expand((4, 2)).batch_shape),
        "lognormal": D.LogNormal(loc, scale).log_prob(y), "lognormal_cdf": D.LogNormal(loc, scale).cdf(y),
    }


def test_transformed_distributions_match_pytorch(torch_ref: Any) -> None:
    want = torch_ref("transformed", transformed)
    got = transformed(ndgrad)
    for k, w in want.items():
        g = got[k]
        if isinstance(w, np.ndarray):
            np.testing.assert_allclose(np.array(g.numpy()), w, rtol=1e-6, atol=1e-7, err_msg=k)
        else:
            assert g == w, k


def test_squashed_gaussian_rsample_and_log_prob_gradients(torch_ref: Any) -> None:
    # SAC-style policy: a = tanh(mu + sigma eps); loss = alpha log pi(a) - a; fixed eps from NumPy
    eps = np.array([[0.3, -1.2], [0.8, 0.1], [-0.5, 2.0]])

    def run(lib: Any) -> list:
        D = lib.distributions
        mu = lib.tensor([0.1, -0.4], dtype=lib.float64, requires_grad=True)
        log_std = lib.tensor([-0.3, 0.2], dtype=lib.float64, requires_grad=True)
        pi = D.TransformedDistribution(D.Normal(mu, log_std.exp()), [D.transforms.TanhTransform(cache_size=1)])
        a = pi.transforms[0](mu + log_std.exp() * lib.tensor(eps))
        loss = (0.2 * pi.log_prob(a).sum(-1) - a.sum(-1)).mean()
        loss.backward()
        return [loss.detach(), mu.grad, log_std.grad]
    want = torch_ref("sac", run)
    for g, w in zip(run(ndgrad), want):
        np.testing.assert_allclose(np.array(g.numpy()), w, rtol=1e-9, atol=1e-12)


def bijections(lib: Any) -> dict:
    C = lib.distributions.constraints
    from importlib import import_module
    reg = import_module(lib.__name__ + ".distributions.constraint_registry")
    x = lib.tensor(_X)
    out = {}
    for name, c in [("real", C.real), ("positive", C.positive), ("gt", C.greater_than(2.0)),
                    ("lt", C.less_than(-1.0)), ("unit", C.unit_interval), ("interval", C.interval(-2.0, 3.0)),
                    ("simplex", C.simplex), ("indep", C.independent(C.positive, 1)), ("corr", C.corr_cholesky)]:
        for which in ("biject_to", "transform_to"):
            t = getattr(reg, which)(c)
            y = t(x)
            out[f"{which}_{name}"] = y
            assert bool(c.check(y).all())
    out["transform_to_pd"] = reg.transform_to(C.positive_definite)(lib.tensor(_X[:, :2]))
    return out


def test_biject_to_and_transform_to_match_pytorch(torch_ref: Any) -> None:
    want = torch_ref("bijections", bijections)
    got = bijections(ndgrad)
    for k, w in want.items():
        np.testing.assert_allclose(np.array(got[k].numpy()), w, rtol=1e-9, atol=1e-12, err_msg=k)
    with pytest.raises(NotImplementedError, match="Cannot transform"):
        ndgrad.distributions.biject_to(ndgrad.distributions.constraints.boolean)
