"""Distributions the tests build identically in ndgrad and PyTorch (float64 NumPy parameters).

Each case has its own seeded generator, so adding a case never changes another's inputs
(and its recorded PyTorch references)."""
from __future__ import annotations

import zlib
from typing import Any, Callable

import numpy as np

_COV = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])


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
        "independent": lambda: ("Independent", (("Normal", A(2, 3), P(2, 3)), 1), {}, A(2, 3)),
    }
    return specs[key]()


CASES = ["normal", "normal_scalar", "uniform", "exponential", "laplace", "bernoulli_probs", "bernoulli_logits",
         "categorical_probs", "categorical_logits", "onehot", "multinomial", "binomial", "binomial_tensor_n", "beta",
         "gamma", "dirichlet", "poisson", "mvn_cov", "mvn_tril", "mvn_prec", "lognormal", "independent"]


def to_lib(lib: Any, v: Any, requires_grad: bool = False) -> Any:
    if isinstance(v, np.ndarray):
        t = lib.tensor(v)
        return t.requires_grad_() if requires_grad and t.is_floating_point() else t
    return v


def build(lib: Any, key: str, requires_grad: bool = False) -> tuple:
    """(distribution, value tensor, list of parameter tensors) for case `key` in `lib` (ndgrad or torch)."""
    name, args, kwargs, value = _spec(key)
    params: list = []

    def conv(v: Any) -> Any:
        t = to_lib(lib, v, requires_grad)
        if isinstance(v, np.ndarray) and v.dtype.kind == "f" and not np.all(v == np.round(v)):  # not counts
            params.append(t)
        return t

    if name == "Independent":
        (base_name, *base_args), n = args
        base = getattr(lib.distributions, base_name)(*[conv(a) for a in base_args])
        d = lib.distributions.Independent(base, n)
    else:
        d = getattr(lib.distributions, name)(*[conv(a) for a in args], **{k: conv(v) for k, v in kwargs.items()})
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
