"""Gradients: log_prob / entropy / cdf gradients against PyTorch, gradcheck in float64, reparameterised
rsample (gradcheck with a fixed seed; Monte-Carlo gradients against the exact moment gradients), and the
implicit reparameterisation of Gamma / Beta / Dirichlet samples."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck
from ndgrad.distributions import (Beta, Dirichlet, Exponential, Gamma, Independent, Laplace, LogNormal,
                                  MultivariateNormal, Normal, TransformedDistribution, Uniform)
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
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10, err_msg=key)


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


@pytest.mark.parametrize("key", ["normal", "gamma", "beta", "dirichlet", "binomial", "poisson", "categorical_logits",
                                 "mvn_tril", "mvn_cov", "mvn_prec", "lognormal", "laplace"])
def test_log_prob_gradcheck(key: str) -> None:
    _, v, params = build(ndgrad, key)

    def f(*ps: Any) -> Any:
        return _rebuild(key, ps).log_prob(v)
    ps = [p.detach().clone().requires_grad_() for p in params]
    assert gradcheck(f, ps)
    if key in ("normal", "gamma", "dirichlet"):
        assert gradgradcheck(f, ps)


def _rebuild(key: str, ps: Any) -> Any:
    """Case `key` rebuilt around new parameter tensors (for gradcheck), validation off."""
    d, _, params = build(ndgrad, key)
    cls = type(d)
    if key == "mvn_tril":
        return MultivariateNormal(ps[0], scale_tril=ps[1].tril(), validate_args=False)
    if key in ("mvn_cov", "mvn_prec"):  # symmetric matrices: perturb both triangles together
        kw = "covariance_matrix" if key == "mvn_cov" else "precision_matrix"
        return MultivariateNormal(ps[0], **{kw: (ps[1] + ps[1].mT) / 2}, validate_args=False)
    if key.startswith("categorical"):
        return cls(logits=ps[0], validate_args=False)
    if key == "binomial":
        return cls(6, probs=ps[0], validate_args=False)
    return cls(*ps, validate_args=False)


RSAMPLE = {
    "normal": lambda ps: Normal(*ps),
    "uniform": lambda ps: Uniform(*ps),
    "exponential": lambda ps: Exponential(*ps),
    "laplace": lambda ps: Laplace(*ps),
    "lognormal": lambda ps: LogNormal(*ps),
    "mvn_tril": lambda ps: MultivariateNormal(ps[0], scale_tril=ps[1].tril(), validate_args=False),
    "independent": lambda ps: Independent(Normal(*ps), 1),
    "tanh_normal": lambda ps: TransformedDistribution(Normal(*ps), [TanhTransform(), AffineTransform(1.0, 2.0)]),
}


def _rsample_params(key: str) -> list:
    if key == "tanh_normal":
        return [ndgrad.tensor([0.3, -0.2], dtype=ndgrad.float64), ndgrad.tensor([0.5, 1.5], dtype=ndgrad.float64)]
    return [p.detach().clone() for p in build(ndgrad, key)[2]]


@pytest.mark.parametrize("key", list(RSAMPLE))
def test_rsample_gradcheck_with_fixed_noise(key: str) -> None:
    ps = [p.requires_grad_() for p in _rsample_params(key)]

    def f(*qs: Any) -> Any:
        ndgrad.manual_seed(3)
        return RSAMPLE[key](qs).rsample((2,))
    assert gradcheck(f, ps)
    assert RSAMPLE[key](ps).has_rsample


MC = {  # distributions whose E[x^2] is finite, including the implicitly reparameterised ones
    "normal": lambda ps: Normal(*ps), "uniform": lambda ps: Uniform(*ps),
    "exponential": lambda ps: Exponential(*ps), "laplace": lambda ps: Laplace(*ps),
    "gamma": lambda ps: Gamma(*ps), "beta": lambda ps: Beta(*ps), "dirichlet": lambda ps: Dirichlet(*ps),
    "mvn_tril": lambda ps: MultivariateNormal(ps[0], scale_tril=ps[1].tril(), validate_args=False),
}


@pytest.mark.parametrize("key", list(MC))
def test_rsample_gradients_match_exact_moment_gradients(key: str) -> None:
    # d/dtheta of the Monte-Carlo E[x + x^2] against d/dtheta of mean + variance + mean^2
    ps = [p.requires_grad_() for p in _rsample_params(key)]
    d = MC[key](ps)
    ndgrad.manual_seed(0)
    x = d.rsample((20000,))
    mc = ndgrad.autograd.grad((x + x * x).mean(0).sum(), ps)
    exact = ndgrad.autograd.grad((d.mean + d.variance + d.mean * d.mean).sum(), ps)
    for g, e in zip(mc, exact):
        scale = np.abs(np_of(e)).max() + 1e-3
        np.testing.assert_allclose(np_of(g), np_of(e), atol=0.03 * scale, err_msg=key)


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
    from ndgrad.distributions._gamma import gammainc, standard_gamma_grad
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
