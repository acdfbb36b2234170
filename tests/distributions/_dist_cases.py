"""Distributions the tests build identically in ndgrad and PyTorch (float64 NumPy parameters).

Each case has its own seeded generator, so adding a case never changes another's inputs
(and its recorded PyTorch references)."""
from __future__ import annotations

import importlib
import zlib
from typing import Any, Callable

import numpy as np

_COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])
_CORR_L = np.linalg.cholesky(np.array([[1.0, 0.3, 0.1], [0.3, 1.0, -0.2], [0.1, -0.2, 1.0]]))


def _rng(key: str) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32(key.encode()))


def _spec(key: str) -> tuple:
    """(class name, positional params, keyword params, a value in the support) for case `key`."""
    r = _rng(key)
    A = lambda *s: r.standard_normal(s)                   # noqa: E731
    P = lambda *s: r.uniform(0.5, 2.0, s)                 # noqa: E731
    U = lambda *s: r.uniform(0.1, 0.9, s)                 # noqa: E731
    specs: dict[str, Callable[[], tuple]] = {
        "normal": lambda: ("Normal", (A(2, 3), P(2, 3)), {}, A(2, 3)),
        "normal_scalar": lambda: ("Normal", (0.5, 2.0), {}, A(4)),
        "uniform": lambda: ("Uniform", (-P(3), P(3)), {}, U(3) - 0.5),
        "exponential": lambda: ("Exponential", (P(4),), {}, P(4)),
        "laplace": lambda: ("Laplace", (A(3), P(3)), {}, A(3)),
        "bernoulli_probs": lambda: ("Bernoulli", (), {"probs": U(3)}, np.array([0.0, 1.0, 1.0])),
        "bernoulli_logits": lambda: ("Bernoulli", (), {"logits": A(2, 3)}, np.array([0.0, 1.0, 1.0])),
        "categorical_probs": lambda: ("Categorical", (), {"probs": P(2, 4)}, np.array([1, 3])),
        "categorical_logits": lambda: ("Categorical", (), {"logits": A(3, 5)}, np.array([[0, 2, 4]])),
        "onehot": lambda: ("OneHotCategorical", (), {"logits": A(2, 3)}, np.eye(3)[[0, 2]]),
        "multinomial": lambda: ("Multinomial", (5,), {"probs": P(2, 3)}, np.array([[1.0, 2, 2], [0, 5, 0]])),
        "binomial": lambda: ("Binomial", (6,), {"probs": U(3)}, np.array([0.0, 3.0, 6.0])),
        "binomial_tensor_n": lambda: ("Binomial", (np.array([3.0, 6.0, 10.0]),), {"logits": A(3)},
                                      np.array([0.0, 3.0, 6.0])),
        "beta": lambda: ("Beta", (P(3), P(3)), {}, U(3)),
        "gamma": lambda: ("Gamma", (P(3), P(3)), {}, P(3)),
        "dirichlet": lambda: ("Dirichlet", (P(2, 3),), {}, np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]])),
        "poisson": lambda: ("Poisson", (3 * P(3),), {}, np.array([0.0, 2.0, 5.0])),
        "mvn_cov": lambda: ("MultivariateNormal", (A(2, 3), _COV), {}, A(2, 3)),
        "mvn_tril": lambda: ("MultivariateNormal", (A(3),), {"scale_tril": np.linalg.cholesky(_COV)}, A(4, 3)),
        "mvn_prec": lambda: ("MultivariateNormal", (A(3),), {"precision_matrix": np.linalg.inv(_COV)}, A(3)),
        "lognormal": lambda: ("LogNormal", (A(3), P(3)), {}, P(3)),
        "independent": lambda: ("Independent", (("Normal", (A(2, 3), P(2, 3))), 1), {}, A(2, 3)),
        "cauchy": lambda: ("Cauchy", (A(3), P(3)), {}, A(3)),
        "half_normal": lambda: ("HalfNormal", (P(3),), {}, P(3)),
        "half_cauchy": lambda: ("HalfCauchy", (P(3),), {}, P(3)),
        "gumbel": lambda: ("Gumbel", (A(3), P(3)), {}, A(3)),
        "geometric": lambda: ("Geometric", (), {"probs": U(3)}, np.array([0.0, 2.0, 5.0])),
        "geometric_logits": lambda: ("Geometric", (), {"logits": A(3)}, np.array([0.0, 2.0, 5.0])),
        "negative_binomial": lambda: ("NegativeBinomial", (3 * P(3),), {"probs": U(3)}, np.array([0.0, 2.0, 5.0])),
        "chi2": lambda: ("Chi2", (3 * P(3),), {}, P(3)),
        "pareto": lambda: (lambda sc: ("Pareto", (sc, 4.5 + P(3)), {}, sc + P(3)))(P(3)),
        "weibull": lambda: ("Weibull", (P(3), P(3)), {}, P(3)),
        "student_t": lambda: ("StudentT", (5 + 3 * P(3), A(3), P(3)), {}, A(3)),
        "student_t_heavy": lambda: ("StudentT", (np.array([0.8, 1.5, 3.0]), A(3), P(3)), {}, A(3)),
        "mixture": lambda: ("MixtureSameFamily", (("Categorical", (), {"logits": A(2, 3)}),
                                                  ("Normal", (A(2, 3), P(2, 3)))), {}, A(2)),
        "mixture_mvn": lambda: ("MixtureSameFamily", (("Categorical", (), {"probs": P(3)}),
                                                      ("Independent", (("Normal", (A(3, 2), P(3, 2))), 1))), {},
                                A(4, 2)),
        "relaxed_bernoulli": lambda: ("RelaxedBernoulli", (np.array(0.7),), {"probs": U(3)}, U(3)),
        "logit_relaxed_bernoulli": lambda: ("relaxed_bernoulli.LogitRelaxedBernoulli", (np.array(0.5),),
                                            {"logits": A(3)}, A(3)),
        "relaxed_onehot": lambda: ("RelaxedOneHotCategorical", (np.array(0.6),), {"probs": P(2, 3)},
                                   np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]])),
        "exp_relaxed": lambda: ("relaxed_categorical.ExpRelaxedCategorical", (np.array(0.6),), {"logits": A(2, 3)},
                                np.log(np.array([[0.2, 0.3, 0.5], [0.1, 0.6, 0.3]]))),
        "inverse_gamma": lambda: ("InverseGamma", (5 + P(3), P(3)), {}, P(3)),
        "logistic_normal": lambda: ("LogisticNormal", (A(2, 3), P(2, 3)), {},
                                    np.array([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.3, 0.2]])),
        "kumaraswamy": lambda: ("Kumaraswamy", (P(3), P(3)), {}, U(3)),
        "fisher_snedecor": lambda: ("FisherSnedecor", (3 * P(3), 9 + 3 * P(3)), {}, P(3)),
        "continuous_bernoulli": lambda: ("ContinuousBernoulli", (), {"probs": np.array([0.2, 0.5, 0.8])}, U(3)),
        "continuous_bernoulli_logits": lambda: ("ContinuousBernoulli", (), {"logits": A(3)}, U(3)),
        "von_mises": lambda: ("VonMises", (np.array([0.3, -1.0, 2.0]), np.array([0.5, 2.0, 8.0])), {},
                              np.array([0.1, -2.5, 3.0])),
        # float32: PyTorch's GeneralizedPareto compares float64 parameters with a float32 zero and raises
        "generalized_pareto": lambda: (lambda loc: ("GeneralizedPareto", (loc, P(3).astype(np.float32),
                                                                          np.array([-0.3, 0.0, 0.2], np.float32)),
                                                    {}, loc + np.array([0.5, 1.0, 2.0], np.float32)))(
            (0.3 * A(3)).astype(np.float32)),
        "lkj": lambda: ("LKJCholesky", (3, 0.5 + P(2)), {}, _CORR_L),
        "wishart": lambda: ("Wishart", (np.array([4.5, 6.5]),), {"covariance_matrix": _COV}, 1.5 * _COV + np.eye(3)),
        "wishart_tril": lambda: ("Wishart", (5.0,), {"scale_tril": np.linalg.cholesky(_COV)}, 2 * _COV),
        "lowrank_mvn": lambda: ("LowRankMultivariateNormal", (A(2, 3), 0.5 * A(2, 3, 2), P(2, 3)), {}, A(2, 3)),
    }
    return specs[key]()


CASES = ["normal", "normal_scalar", "uniform", "exponential", "laplace", "bernoulli_probs", "bernoulli_logits",
         "categorical_probs", "categorical_logits", "onehot", "multinomial", "binomial", "binomial_tensor_n", "beta",
         "gamma", "dirichlet", "poisson", "mvn_cov", "mvn_tril", "mvn_prec", "lognormal", "independent", "cauchy",
         "half_normal", "half_cauchy", "gumbel", "geometric", "geometric_logits", "negative_binomial", "chi2", "pareto",
         "weibull", "student_t", "student_t_heavy", "mixture", "mixture_mvn", "relaxed_bernoulli",
         "logit_relaxed_bernoulli", "relaxed_onehot", "exp_relaxed", "inverse_gamma", "logistic_normal",
         "kumaraswamy", "fisher_snedecor", "continuous_bernoulli", "continuous_bernoulli_logits", "lowrank_mvn",
         "von_mises", "generalized_pareto", "lkj", "wishart", "wishart_tril"]


def to_lib(lib: Any, v: Any, requires_grad: bool = False) -> Any:
    if isinstance(v, np.ndarray):
        t = lib.tensor(v)
        return t.requires_grad_() if requires_grad and t.is_floating_point() else t
    return v


def build(lib: Any, key: str, requires_grad: bool = False, params_in: list | None = None) -> tuple:
    """(distribution, value tensor, list of parameter tensors) for case `key` in `lib` (ndgrad or torch).

    With `params_in`, those tensors (in the order of the returned list) stand in for the parameters."""
    name, args, kwargs, value = _spec(key)
    params: list = []
    given = list(params_in) if params_in is not None else None

    def conv(v: Any) -> Any:
        if isinstance(v, np.ndarray) and v.dtype.kind == "f" and not np.all(v == np.round(v)):  # not counts
            t = given.pop(0) if given is not None else to_lib(lib, v, requires_grad)
            params.append(t)
            return t
        return to_lib(lib, v)

    def make(name: str, args: tuple, kwargs: dict | None = None) -> Any:
        # a (name, args[, kwargs]) tuple among the arguments is a distribution built the same way
        def arg(a: Any) -> Any:
            return make(*a) if isinstance(a, tuple) and a and isinstance(a[0], str) else conv(a)
        if "." in name:  # a class PyTorch keeps in its submodule only
            module, name = name.split(".")
            cls = getattr(importlib.import_module(f"{lib.__name__}.distributions.{module}"), name)
        else:
            cls = getattr(lib.distributions, name)
        return cls(*[arg(a) for a in args], **{k: arg(v) for k, v in (kwargs or {}).items()})

    d = make(name, args, kwargs)
    return d, to_lib(lib, value), params


def isolated(fn: Callable) -> Callable:
    """`fn(torch)` run with torch's global random state saved and restored, so references that sample (or
    build modules) leave later tests' draws unchanged."""
    def run(torch: Any) -> Any:
        with torch.random.fork_rng():
            return fn(torch)
    return run


def value_of(key: str) -> np.ndarray:
    return _spec(key)[3]


def np_of(t: Any) -> Any:
    """A NumPy copy of a tensor (either library); other values unchanged."""
    if hasattr(t, "detach"):
        return np.array(t.detach().numpy())
    return t
