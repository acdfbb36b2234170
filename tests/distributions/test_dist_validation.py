"""Argument validation: the exception type and message PyTorch gives, and the switches that turn it off."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import ndgrad
from ndgrad.distributions import Distribution, Normal


def _t(lib: Any, v: Any) -> Any:
    return lib.tensor(np.asarray(v, dtype=np.float32))


BAD: dict[str, Callable] = {
    "normal_scale": lambda L, D: D.Normal(_t(L, [0.0, 1.0]), _t(L, [1.0, -1.0])),
    "normal_nan_loc": lambda L, D: D.Normal(_t(L, [float("nan")]), _t(L, [1.0])),
    "normal_value_not_tensor": lambda L, D: D.Normal(0.0, 1.0).log_prob(1.0),
    "normal_value_shape": lambda L, D: D.Normal(L.zeros(3), 1.0).log_prob(L.zeros(4)),
    "normal_event_shape": lambda L, D: D.MultivariateNormal(L.zeros(3), L.eye(3)).log_prob(L.zeros(2)),
    "bernoulli_both": lambda L, D: D.Bernoulli(probs=0.3, logits=0.1),
    "bernoulli_none": lambda L, D: D.Bernoulli(),
    "bernoulli_probs": lambda L, D: D.Bernoulli(probs=_t(L, [0.5, 1.5])),
    "bernoulli_support": lambda L, D: D.Bernoulli(_t(L, [0.5])).log_prob(_t(L, [0.3])),
    "categorical_0d": lambda L, D: D.Categorical(probs=L.tensor(1.0)),
    "categorical_negative": lambda L, D: D.Categorical(probs=_t(L, [0.5, -0.1])),
    "categorical_support": lambda L, D: D.Categorical(logits=L.zeros(3)).log_prob(L.tensor([3])),
    "uniform_order": lambda L, D: D.Uniform(_t(L, [0.0, 2.0]), _t(L, [1.0, 1.0])),
    "uniform_support": lambda L, D: D.Uniform(0.0, 1.0).log_prob(_t(L, [1.5])),
    "gamma_rate": lambda L, D: D.Gamma(_t(L, [1.0]), _t(L, [0.0])),
    "gamma_support": lambda L, D: D.Gamma(_t(L, [1.0]), _t(L, [1.0])).log_prob(_t(L, [-1.0])),
    "beta_conc": lambda L, D: D.Beta(_t(L, [1.0]), _t(L, [-2.0])),
    "dirichlet_0d": lambda L, D: D.Dirichlet(L.tensor(1.0)),
    "dirichlet_support": lambda L, D: D.Dirichlet(L.ones(3)).log_prob(_t(L, [0.5, 0.5, 0.5])),
    "poisson_rate": lambda L, D: D.Poisson(_t(L, [-1.0])),
    "poisson_support": lambda L, D: D.Poisson(_t(L, [1.0])).log_prob(_t(L, [1.5])),
    "binomial_count": lambda L, D: D.Binomial(_t(L, [2.5]), probs=_t(L, [0.5])),
    "binomial_support": lambda L, D: D.Binomial(3, probs=_t(L, [0.5])).log_prob(_t(L, [4.0])),
    "multinomial_count": lambda L, D: D.Multinomial(L.tensor(3), probs=_t(L, [0.5, 0.5])),
    "exponential_rate": lambda L, D: D.Exponential(_t(L, [0.0])),
    "laplace_scale": lambda L, D: D.Laplace(0.0, _t(L, [-1.0])),
    "mvn_none": lambda L, D: D.MultivariateNormal(L.zeros(2)),
    "mvn_two": lambda L, D: D.MultivariateNormal(L.zeros(2), L.eye(2), scale_tril=L.eye(2)),
    "mvn_loc_0d": lambda L, D: D.MultivariateNormal(L.tensor(0.0), L.eye(1)),
    "mvn_cov_1d": lambda L, D: D.MultivariateNormal(L.zeros(2), L.ones(2)),
    "mvn_not_pd": lambda L, D: D.MultivariateNormal(L.zeros(2), _t(L, [[1.0, 2.0], [2.0, 1.0]])),
    "mvn_tril_upper": lambda L, D: D.MultivariateNormal(L.zeros(2), scale_tril=_t(L, [[1.0, 1.0], [0.0, 1.0]])),
    "independent_ndims": lambda L, D: D.Independent(D.Normal(L.zeros(3), 1.0), 2),
    "transformed_bad": lambda L, D: D.TransformedDistribution(D.Normal(0.0, 1.0), "exp"),
    "transformed_bad_list": lambda L, D: D.TransformedDistribution(D.Normal(0.0, 1.0), [1]),
    "transform_cache": lambda L, D: D.transforms.ExpTransform(cache_size=2),
    "kl_missing": lambda L, D: D.kl_divergence(D.Normal(0.0, 1.0), D.Categorical(logits=L.zeros(3))),
    "kl_binomial": lambda L, D: D.kl_divergence(D.Binomial(2, probs=_t(L, [0.5])), D.Binomial(3, probs=_t(L, [0.5]))),
    "multinomial_entropy_mixed": lambda L, D: D.Binomial(_t(L, [2.0, 3.0]), probs=_t(L, [0.5, 0.5])).entropy(),
    "independent_enumerate": lambda L, D: D.Independent(D.Bernoulli(L.ones(2) / 2), 1).enumerate_support(),
    "broadcast_all_type": lambda L, D: D.utils.broadcast_all(L.zeros(2), "a"),
    "geometric_zero": lambda L, D: D.Geometric(_t(L, [0.5, 0.0])),
    "mixture_not_categorical": lambda L, D: D.MixtureSameFamily(D.Normal(0.0, 1.0), D.Normal(L.zeros(2), 1.0)),
    "mixture_components": lambda L, D: D.MixtureSameFamily(D.Categorical(logits=L.zeros(3)),
                                                           D.Normal(L.zeros(2), 1.0)),
    "mixture_batch": lambda L, D: D.MixtureSameFamily(D.Categorical(logits=L.zeros(3, 2)),
                                                      D.Normal(L.zeros(4, 2), 1.0)),
    "lowrank_factor_shape": lambda L, D: D.LowRankMultivariateNormal(L.zeros(3), L.ones(2, 1), L.ones(3)),
    "lowrank_diag_shape": lambda L, D: D.LowRankMultivariateNormal(L.zeros(3), L.ones(3, 1), L.ones(2)),
    "lowrank_diag_positive": lambda L, D: D.LowRankMultivariateNormal(L.zeros(2), L.ones(2, 1), _t(L, [1.0, -1.0])),
    "cont_bernoulli_probs": lambda L, D: D.ContinuousBernoulli(_t(L, [1.5]), validate_args=True),
    "student_df": lambda L, D: D.StudentT(_t(L, [-1.0])),
    "pareto_support": lambda L, D: D.Pareto(_t(L, [2.0]), _t(L, [3.0])).log_prob(_t(L, [1.0])),
    "half_normal_support": lambda L, D: D.HalfNormal(_t(L, [1.0])).log_prob(_t(L, [-1.0])),
    "relaxed_support": lambda L, D: D.RelaxedOneHotCategorical(L.tensor(0.5), probs=_t(L, [0.5, 0.5])).log_prob(
        _t(L, [0.7, 0.7])),
    "negbin_probs": lambda L, D: D.NegativeBinomial(_t(L, [2.0]), probs=_t(L, [1.0])),
}


def _raise(lib: Any, key: str) -> tuple:
    try:
        BAD[key](lib, lib.distributions)
    except Exception as e:  # noqa: BLE001 - the type is what the test compares
        return type(e).__name__, str(e).replace("torch.", "ndgrad.")
    return "no error", ""


@pytest.mark.parametrize("key", list(BAD))
def test_errors_match_pytorch(torch_ref: Any, key: str) -> None:
    want = torch_ref("error", lambda torch: _raise(torch, key))
    got = _raise(ndgrad, key)
    assert want[0] != "no error"
    assert got[0] == want[0], f"{got} vs {want}"
    assert got[1] == want[1]


def test_validate_args_switches() -> None:
    bad = ndgrad.tensor([-1.0])
    with pytest.raises(ValueError, match="scale"):
        Normal(0.0, bad)
    d = Normal(0.0, bad, validate_args=False)  # per instance
    assert not d._validate_args
    d.log_prob(ndgrad.tensor([0.0]))  # and no sample check either
    Distribution.set_default_validate_args(False)  # globally
    try:
        assert Normal(0.0, bad).scale.item() == -1.0
        with pytest.raises(ValueError, match="scale"):
            Normal(0.0, bad, validate_args=True)
    finally:
        Distribution.set_default_validate_args(True)
    with pytest.raises(ValueError):
        Distribution.set_default_validate_args(3)
    assert Normal(0.0, 1.0).expand((2,))._validate_args


def test_register_kl_rejects_non_distributions() -> None:
    # stricter than PyTorch, whose check lets any class through
    with pytest.raises(TypeError, match="Expected type_p to be a Distribution subclass"):
        ndgrad.distributions.register_kl(int, Normal)


def test_gradcheck_accepts_lists_as_pytorch() -> None:
    from ndgrad.autograd import gradcheck
    p = ndgrad.tensor([1.0, 2.0], dtype=ndgrad.float64, requires_grad=True)
    assert gradcheck(lambda a: [a * 2, a.exp()], [p])
