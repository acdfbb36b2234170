"""kl_divergence against PyTorch for every pair of families (registered pairs, infinite pairs and the
unregistered ones that raise), its gradients, and register_kl's dispatch."""
from __future__ import annotations

import warnings
import zlib
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.distributions import Distribution, Normal, kl_divergence, register_kl

_COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])


def _params(family: str, role: str) -> tuple:
    r = np.random.default_rng(zlib.crc32((family + role).encode()))
    A = lambda *s: r.standard_normal(s)          # noqa: E731
    P = lambda *s: r.uniform(0.5, 2.0, s)        # noqa: E731
    U = lambda *s: r.uniform(0.1, 0.9, s)        # noqa: E731
    return {
        "Normal": lambda: ((A(3), P(3)), {}),
        "Uniform": lambda: ((0.5 * U(3), 0.5 + 0.5 * U(3)), {}),
        "Exponential": lambda: ((P(3),), {}),
        "Laplace": lambda: ((A(3), P(3)), {}),
        "Bernoulli": lambda: ((), {"probs": U(3)}),
        "Categorical": lambda: ((), {"logits": A(3, 4)}),
        "OneHotCategorical": lambda: ((), {"logits": A(3, 4)}),
        "Binomial": lambda: ((5,), {"probs": U(3)}),
        "Beta": lambda: ((P(3), P(3)), {}),
        "Gamma": lambda: ((P(3), P(3)), {}),
        "Dirichlet": lambda: ((P(3, 4),), {}),
        "Poisson": lambda: ((P(3),), {}),
        "MultivariateNormal": lambda: ((A(3, 3), _COV + np.diag(P(3))), {}),
        "LogNormal": lambda: ((A(3), P(3)), {}),
        "Cauchy": lambda: ((A(3), P(3)), {}),
        "HalfNormal": lambda: ((P(3),), {}),
        "Gumbel": lambda: ((A(3), P(3)), {}),
        "Geometric": lambda: ((), {"probs": U(3)}),
        "Pareto": lambda: ((P(3), 2.5 + P(3)), {}),
        "ContinuousBernoulli": lambda: ((), {"probs": U(3)}),
        "LowRankMultivariateNormal": lambda: ((A(3, 3), 0.5 * A(3, 3, 2), P(3, 3)), {}),
    }[family]()


FAMILIES = ["Normal", "Uniform", "Exponential", "Laplace", "Bernoulli", "Categorical", "OneHotCategorical", "Binomial",
            "Beta", "Gamma", "Dirichlet", "Poisson", "MultivariateNormal", "LogNormal", "Cauchy", "HalfNormal",
            "Gumbel", "Geometric", "Pareto", "ContinuousBernoulli", "LowRankMultivariateNormal"]


def _make(lib: Any, family: str, role: str, requires_grad: bool = False) -> tuple:
    args, kw = _params(family, role)
    params = []

    def conv(v: Any) -> Any:
        if not isinstance(v, np.ndarray):
            return v
        t = lib.tensor(v)
        if requires_grad:
            t.requires_grad_()
            params.append(t)
        return t
    return getattr(lib.distributions, family)(*[conv(a) for a in args], **{k: conv(v) for k, v in kw.items()}), params


def kls(lib: Any, p_family: str) -> dict:
    out = {}
    for q_family in FAMILIES:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = kl_of(lib, p_family, q_family)
            out[q_family] = np.array(v.detach().numpy())
        except (NotImplementedError, ValueError) as e:
            out[q_family] = "!" + type(e).__name__
    return out


def kl_of(lib: Any, p_family: str, q_family: str) -> Any:
    return lib.distributions.kl_divergence(_make(lib, p_family, "p")[0], _make(lib, q_family, "q")[0])


@pytest.mark.parametrize("p_family", FAMILIES)
def test_kl_matches_pytorch(torch_ref: Any, p_family: str) -> None:
    want = torch_ref("kl", lambda torch: kls(torch, p_family))
    got = kls(ndgrad, p_family)
    for q_family, w in want.items():
        g = got[q_family]
        if isinstance(w, str):
            assert g == w, f"KL({p_family} || {q_family}): {g} vs {w}"
        else:
            assert not isinstance(g, str), f"KL({p_family} || {q_family}) raised {g}"
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12, err_msg=f"KL({p_family} || {q_family})")


def kl_grads(lib: Any) -> dict:
    out = {}
    for pf, qf in [("Normal", "Normal"), ("Gamma", "Gamma"), ("Beta", "Beta"), ("Dirichlet", "Dirichlet"),
                   ("Categorical", "Categorical"), ("MultivariateNormal", "MultivariateNormal"),
                   ("Laplace", "Normal"), ("Exponential", "Gamma"), ("Uniform", "Normal"), ("Bernoulli", "Bernoulli"),
                   ("LowRankMultivariateNormal", "LowRankMultivariateNormal"), ("Gumbel", "Normal"),
                   ("Pareto", "Gamma"), ("ContinuousBernoulli", "ContinuousBernoulli"), ("Cauchy", "Cauchy")]:
        if pf == qf == "MultivariateNormal":  # scale_tril parameterisation (no Cholesky in the graph)
            r = np.random.default_rng(5)
            ps = [lib.tensor(r.standard_normal((2, 3)), requires_grad=True) for _ in range(2)]
            ls = [lib.tensor(np.linalg.cholesky(_COV * s), requires_grad=True) for s in (1.0, 2.0)]
            p = lib.distributions.MultivariateNormal(ps[0], scale_tril=ls[0])
            q = lib.distributions.MultivariateNormal(ps[1], scale_tril=ls[1])
            params = ps + ls
        else:
            p, pp = _make(lib, pf, "p", True)
            q, qp = _make(lib, qf, "q", True)
            params = pp + qp
        kl = lib.distributions.kl_divergence(p, q).sum()
        out[pf + qf] = [np.array(g.numpy()) for g in lib.autograd.grad(kl, params)]
    return out


def test_kl_gradients_match_pytorch(torch_ref: Any) -> None:
    want = torch_ref("kl_grads", kl_grads)
    got = kl_grads(ndgrad)
    for k, ws in want.items():
        for g, w in zip(got[k], ws):
            np.testing.assert_allclose(g, w, rtol=1e-8, atol=1e-10, err_msg=k)


def test_kl_is_zero_for_identical_and_positive_otherwise() -> None:
    for family in ("Normal", "Gamma", "Beta", "Dirichlet", "Categorical", "Poisson", "MultivariateNormal", "Laplace",
                   "Cauchy", "Gumbel", "Geometric", "Pareto", "ContinuousBernoulli", "LowRankMultivariateNormal"):
        p, _ = _make(ndgrad, family, "p")
        q, _ = _make(ndgrad, family, "q")
        np.testing.assert_allclose(kl_divergence(p, p).numpy(), 0, atol=1e-12, err_msg=family)
        assert (kl_divergence(p, q).numpy() > 0).all(), family


def test_register_kl_dispatch_and_ambiguity() -> None:
    class MyNormal(Normal):
        pass

    class Base(Distribution):
        arg_constraints: dict = {}

    class Derived(Base):
        pass

    p = MyNormal(0.0, 1.0)
    assert kl_divergence(p, Normal(1.0, 1.0)).item() == pytest.approx(0.5)  # inherits Normal's rule

    @register_kl(MyNormal, Normal)
    def _mine(p: Any, q: Any) -> Any:
        return ndgrad.tensor(42.0)
    assert kl_divergence(p, Normal(1.0, 1.0)).item() == 42.0  # the more specific registration wins

    register_kl(Base, Derived)(lambda p, q: ndgrad.tensor(1.0))
    register_kl(Derived, Base)(lambda p, q: ndgrad.tensor(2.0))
    with pytest.warns(RuntimeWarning, match="Ambiguous kl_divergence"):
        kl_divergence(Derived(), Derived())
    with pytest.raises(NotImplementedError, match="No KL"):
        kl_divergence(Base(), Base())
