"""Sampling: many seeded samples have the distribution's mean and variance (themselves checked against
PyTorch in test_distributions.py), discrete frequencies match the probabilities, and ndgrad.manual_seed
makes draws reproducible."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from _dist_cases import CASES, build, isolated, np_of

N = 20000
MOMENT_CASES = [k for k in CASES if k not in ("categorical_probs", "categorical_logits")]  # their mean is NaN


def _moments(d: Any) -> tuple:
    try:
        return np_of(d.mean), np_of(d.variance)
    except NotImplementedError:  # the relaxed distributions have no closed-form moments
        return None, None


@pytest.mark.parametrize("key", MOMENT_CASES)
def test_sample_mean_and_variance(key: str) -> None:
    d, _, _ = build(ndgrad, key)
    ndgrad.manual_seed(0)
    x = np_of(d.sample((N,)))
    assert x.shape == (N,) + tuple(d.batch_shape) + tuple(d.event_shape)
    assert bool(np_of(d.support.check(ndgrad.tensor(x))).all())
    mean, var = _moments(d)
    if key == "von_mises":  # angles: circular mean and circular variance 1 - |E exp(i x)|
        z = np.exp(1j * x).mean(0)
        np.testing.assert_allclose(np.angle(z), mean, atol=0.05)
        np.testing.assert_allclose(1 - np.abs(z), var, atol=0.01)
        return
    if mean is None or not (np.isfinite(mean).all() and np.isfinite(var).all()):
        assert key in ("relaxed_bernoulli", "logit_relaxed_bernoulli", "relaxed_onehot", "exp_relaxed",
                       "logistic_normal", "cauchy", "half_cauchy", "student_t_heavy", "lkj"), key
        return
    # the sample mean is within 5 standard errors; the sample variance within 10% (+ a little for tiny ones)
    np.testing.assert_allclose(x.mean(0), mean, atol=float(5 * np.sqrt(var.max() / N)), err_msg=key)
    np.testing.assert_allclose(x.var(0), var, rtol=0.1, atol=1e-3, err_msg=key)
    if d.has_rsample:
        ndgrad.manual_seed(1)
        r = np_of(d.rsample((N,)))
        np.testing.assert_allclose(r.mean(0), mean, atol=float(5 * np.sqrt(var.max() / N)), err_msg=key)


def test_heavy_tailed_and_relaxed_samples_by_quantiles() -> None:
    # no finite moments (or none in closed form): compare the empirical CDF with the exact one instead
    ndgrad.manual_seed(2)
    for key in ("cauchy", "half_cauchy", "student_t_heavy"):
        d, _, _ = build(ndgrad, key)
        x = d.sample((N,))
        if key == "student_t_heavy":  # no cdf: its median is loc, its quartiles symmetric about it
            med = np.median(np_of(x), 0)
            np.testing.assert_allclose(med, np_of(d.loc), atol=0.05)
            continue
        q = np_of(d.icdf(ndgrad.tensor([[0.25], [0.5], [0.75]], dtype=ndgrad.float64)))
        emp = np.quantile(np_of(x), [0.25, 0.5, 0.75], axis=0)
        np.testing.assert_allclose(emp, q, rtol=0.05, atol=0.03, err_msg=key)
    # LKJ(eta) in d dims: each correlation r has (r + 1) / 2 ~ Beta(eta - 1 + d/2, same), so Var r = 1 / (2 eta + d - 1)
    L = ndgrad.distributions.LKJCholesky(3, ndgrad.tensor([0.5, 2.0])).sample((N,))
    C = np_of(L @ L.mT)
    np.testing.assert_allclose(C[..., 0, 1].var(0), 1 / (2 * np.array([0.5, 2.0]) + 2), rtol=0.05)
    np.testing.assert_allclose(C[..., 1, 2].mean(0), 0, atol=0.02)
    # Gumbel-softmax: as the temperature falls the samples approach one-hot vectors with the given frequencies
    p = ndgrad.tensor([0.2, 0.3, 0.5])
    r = ndgrad.distributions.RelaxedOneHotCategorical(ndgrad.tensor(0.05), probs=p).sample((N,))
    picks = np_of(r).argmax(-1)
    np.testing.assert_allclose(np.bincount(picks, minlength=3) / N, np_of(p), atol=0.015)
    assert np_of(r).max(-1).mean() > 0.95


def test_categorical_frequencies() -> None:
    p = np.array([[0.1, 0.2, 0.7], [0.5, 0.0, 0.5]])
    d = ndgrad.distributions.Categorical(probs=ndgrad.tensor(p))
    ndgrad.manual_seed(0)
    s = np_of(d.sample((N,)))
    assert s.dtype == np.int64 and s.shape == (N, 2)
    freq = np.stack([(s == k).mean(0) for k in range(3)], -1)
    np.testing.assert_allclose(freq, p, atol=0.015)
    assert not (s[:, 1] == 1).any()  # a zero-probability category is never drawn
    m = ndgrad.distributions.Multinomial(10, probs=ndgrad.tensor(p))
    c = np_of(m.sample((2000,)))
    assert (c.sum(-1) == 10).all()
    np.testing.assert_allclose(c.mean(0), 10 * p, atol=0.2)


def test_manual_seed_reproduces_samples() -> None:
    def draw() -> list:
        ndgrad.manual_seed(123)
        out = []
        for key in ("normal", "gamma", "categorical_logits", "beta", "poisson", "mvn_tril", "binomial"):
            d, _, _ = build(ndgrad, key)
            out.append(np_of(d.sample((3,))))
        return out
    a, b = draw(), draw()
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    ndgrad.manual_seed(124)
    assert not np.array_equal(np_of(build(ndgrad, "normal")[0].sample()), a[0][0])


def test_sample_is_outside_the_graph_and_rsample_inside() -> None:
    d, _, params = build(ndgrad, "normal", requires_grad=True)
    assert not d.sample().requires_grad
    assert d.rsample().requires_grad
    g, _, _ = build(ndgrad, "gamma", requires_grad=True)
    x = g.rsample((4,))
    assert x.requires_grad and x.grad_fn is not None
    with pytest.raises(NotImplementedError):
        build(ndgrad, "poisson")[0].rsample()


def test_sample_shape_forms(torch_ref: Any) -> None:
    def shapes(lib: Any) -> list:
        d = lib.distributions.Normal(lib.zeros(2), lib.ones(2))
        return [tuple(d.sample(s).shape) for s in ((), (3,), [3, 1], lib.Size([4]))]
    assert [tuple(s) for s in torch_ref("shapes", isolated(shapes))] == shapes(ndgrad)
