"""Gradients: log_prob / entropy / cdf gradients against PyTorch, gradcheck in float64, reparameterised
rsample (gradcheck with a fixed seed; Monte-Carlo gradients against the exact moment gradients), and the
implicit reparameterisation of Gamma / Beta / Dirichlet samples."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck
from ndgrad.distributions import (Gamma, Normal, TransformedDistribution)
from ndgrad.distributions.transforms import AffineTransform, TanhTransform
from _dist_cases import CASES, build, np_of

_NO_FLOAT_PARAMS = {"normal_scalar"}  # Python-number parameters
GRAD_CASES = [k for k in CASES if k not in _NO_FLOAT_PARAMS]


def param_grads(lib: Any, key: str) -> list:
    """Gradients of sum(w * log_prob(v)) + sum(entropy) (where defined) with respect to every parameter."""
    d, v, params = build(lib, key, requires_grad=True)
    lp = d.log_prob(v)
    w = lib.arange(1, lp.numel() + 1, dtype=lp.dtype).reshape(lp.shape) / lp.numel()
    loss = (w * lp).sum()
    try:
        loss = loss + d.entropy().sum()
    except NotImplementedError:
        pass
    return [np_of(g) for g in lib.autograd.grad(loss, params, allow_unused=True)]


@pytest.mark.parametrize("key", GRAD_CASES)
def test_log_prob_entropy_gradients_match_pytorch(torch_ref: Any, key: str) -> None:
    want = torch_ref("grads", lambda torch: param_grads(torch, key))
    got = param_grads(ndgrad, key)
    assert len(got) == len(want) > 0
    # PyTorch approximates log I0 (to about 1e-7); the GeneralizedPareto case is float32
    tol = 1e-5 if key in ("von_mises", "generalized_pareto") else 1e-8
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=tol, atol=tol * 1e-2, err_msg=key)


def value_and_cdf_grads(lib: Any) -> dict:
    out = {}
    for key in ("normal", "laplace", "exponential", "gamma", "beta", "lognormal", "mvn_tril", "uniform"):
        d, v, _ = build(lib, key)
        v = v.clone().requires_grad_()
        if key != "uniform":  # its density is piecewise constant: no graph to the value
            out[key] = np_of(lib.autograd.grad(d.log_prob(v).sum(), v)[0])
        if key in ("normal", "laplace", "exponential", "gamma", "lognormal", "uniform"):
            out[key + "_cdf"] = np_of(lib.autograd.grad(d.cdf(v).sum(), v)[0])
    return out


def test_value_and_cdf_gradients_match_pytorch(torch_ref: Any) -> None:
    want = torch_ref("value_grads", value_and_cdf_grads)
    got = value_and_cdf_grads(ndgrad)
    assert got.keys() == want.keys()
    for k in want:
        np.testing.assert_allclose(got[k], want[k], rtol=1e-8, atol=1e-10, err_msg=k)


def _rebuilt(key: str, ps: Any) -> Any:
    """Case `key` around the parameter tensors `ps`, kept valid under finite-difference perturbation."""
    if key == "mvn_tril":
        ps = [ps[0], ps[1].tril()]
    elif key in ("mvn_cov", "mvn_prec"):  # symmetric matrices: perturb both triangles together
        ps = [ps[0], (ps[1] + ps[1].mT) / 2]
    elif key == "wishart":
        ps = [ps[0], (ps[1] + ps[1].mT) / 2]
    return build(ndgrad, key, params_in=ps)[0]


LOG_PROB_GRADCHECK = ["normal", "gamma", "beta", "dirichlet", "binomial", "poisson", "categorical_logits", "mvn_tril",
                      "mvn_cov", "mvn_prec", "lognormal", "laplace", "student_t", "negative_binomial", "gumbel",
                      "mixture", "lowrank_mvn", "relaxed_onehot", "continuous_bernoulli_logits", "kumaraswamy",
                      "logistic_normal", "weibull", "fisher_snedecor", "geometric", "von_mises", "lkj", "wishart"]


@pytest.mark.parametrize("key", LOG_PROB_GRADCHECK)
def test_log_prob_gradcheck(key: str) -> None:
    _, v, params = build(ndgrad, key)
    ps = [p.detach().clone().requires_grad_() for p in params]
    assert gradcheck(lambda *qs: _rebuilt(key, qs).log_prob(v), ps)
    if key in ("normal", "gamma", "dirichlet"):
        assert gradgradcheck(lambda *qs: _rebuilt(key, qs).log_prob(v), ps)


RSAMPLE_EXPLICIT = ["normal", "uniform", "exponential", "laplace", "lognormal", "mvn_tril", "independent", "cauchy",
                    "gumbel", "half_normal", "weibull", "kumaraswamy", "lowrank_mvn", "relaxed_bernoulli",
                    "relaxed_onehot", "logistic_normal", "continuous_bernoulli_logits", "tanh_normal"]


def _rsample_case(key: str, ps: Any) -> Any:
    if key == "tanh_normal":
        return TransformedDistribution(Normal(*ps), [TanhTransform(), AffineTransform(1.0, 2.0)])
    return _rebuilt(key, ps)


def _rsample_params(key: str) -> list:
    if key == "tanh_normal":
        return [ndgrad.tensor([0.3, -0.2], dtype=ndgrad.float64), ndgrad.tensor([0.5, 1.5], dtype=ndgrad.float64)]
    return [p.detach().clone() for p in build(ndgrad, key)[2]]


@pytest.mark.parametrize("key", RSAMPLE_EXPLICIT)
def test_rsample_gradcheck_with_fixed_noise(key: str) -> None:
    # explicitly reparameterised samples are smooth functions of the parameters for fixed noise
    ps = [p.requires_grad_() for p in _rsample_params(key)]

    def f(*qs: Any) -> Any:
        ndgrad.manual_seed(3)
        return _rsample_case(key, qs).rsample((2,))
    assert _rsample_case(key, ps).has_rsample
    assert gradcheck(f, ps)


MC = ["normal", "uniform", "exponential", "laplace", "gamma", "beta", "dirichlet", "mvn_tril", "chi2", "student_t",
      "inverse_gamma", "fisher_snedecor", "gumbel", "weibull", "kumaraswamy", "half_normal", "lowrank_mvn",
      "continuous_bernoulli_logits", "wishart"]  # E[x^2] finite, implicit (Gamma-based) reparameterisations included


@pytest.mark.parametrize("key", MC)
def test_rsample_gradients_match_exact_moment_gradients(key: str) -> None:
    # d/dtheta of the Monte-Carlo E[x + x^2] against d/dtheta of mean + variance + mean^2, within five
    # standard errors estimated from 12 independent batches of draws
    ps = [p.requires_grad_() for p in _rsample_params(key)]
    d = _rsample_case(key, ps)
    ndgrad.manual_seed(0)
    x = d.rsample((12, 800))
    f = (x + x * x).mean(1).sum(tuple(range(1, x.dim() - 1)))  # one estimate per batch
    per_batch = [[np_of(g) for g in ndgrad.autograd.grad(f[b], ps, retain_graph=True)] for b in range(12)]
    exact = ndgrad.autograd.grad((d.mean + d.variance + d.mean * d.mean).sum(), ps)
    for i, e in enumerate(exact):
        gb = np.stack([g[i] for g in per_batch])
        se = gb.std(0, ddof=1) / np.sqrt(len(gb))
        np.testing.assert_array_less(np.abs(gb.mean(0) - np_of(e)), 5 * se + 1e-6, err_msg=key)


_ALPHA = np.array([0.05, 0.3, 1.0, 2.5, 10.0, 150.0, 3e4])
_X_QUANTILES = np.array([0.02, 0.3, 0.6, 0.97])


def _gamma_grid() -> tuple:
    a = np.repeat(_ALPHA, len(_X_QUANTILES))
    # points spread over each distribution's bulk: a times a multiplicative spread widening for small a
    spread = np.tile(_X_QUANTILES, len(_ALPHA))
    x = a * np.exp((spread - 0.5) * 4 / np.sqrt(a + 0.5))
    return a, x


def test_standard_gamma_gradient_matches_pytorch(torch_ref: Any) -> None:
    from ndgrad.distributions._gamma import standard_gamma_grad
    a, x = _gamma_grid()
    want = torch_ref("gamma_grad", lambda torch: torch._standard_gamma_grad(torch.tensor(a), torch.tensor(x)))
    # PyTorch approximates this derivative (to about 1e-3); ours sums its series exactly
    np.testing.assert_allclose(standard_gamma_grad(x, a), want, rtol=2e-3)


def test_standard_gamma_gradient_is_the_implicit_derivative() -> None:
    # dx/da = -(dP/da) / p(x): P's derivative in a by central differences of our incomplete gamma
    from ndgrad.distributions._gamma import standard_gamma_grad
    from ndgrad.ops._specfun import igamma as gammainc
    from ndgrad.ops._specfun import lgamma
    a, x = _gamma_grid()
    h = 1e-5 * a
    dp_da = (gammainc(a + h, x) - gammainc(a - h, x)) / (2 * h)
    density = np.exp((a - 1) * np.log(x) - x - lgamma(a))
    np.testing.assert_allclose(standard_gamma_grad(x, a), -dp_da / density, rtol=2e-5)


def test_gamma_cdf_matches_pytorch_and_refuses_concentration_gradient(torch_ref: Any) -> None:
    a, x = _gamma_grid()
    want = torch_ref("gammainc", lambda torch: torch.special.gammainc(torch.tensor(a), torch.tensor(x)))
    c = ndgrad.tensor(a, requires_grad=True)
    got = Gamma(c, 1.0).cdf(ndgrad.tensor(x))
    np.testing.assert_allclose(np_of(got), want, rtol=1e-9, atol=1e-12)
    with pytest.raises(NotImplementedError, match="not implemented"):
        got.sum().backward()
