"""Distributions against PyTorch from identical float64 parameters: moments, densities, cdf/icdf,
entropy, enumerate_support, shapes, expand, reprs."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from _dist_cases import CASES, build, isolated, np_of

_U = np.array([0.15, 0.5, 0.85])


def _attempt(fn: Any) -> Any:
    try:
        return np_of(fn())
    except (NotImplementedError, ValueError, RuntimeError) as e:
        return "!" + type(e).__name__


def summary(lib: Any, key: str) -> dict:
    """Everything a distribution computes from its parameters (an exception becomes '!Name')."""
    d, v, _ = build(lib, key)
    u = lib.tensor(_U).reshape((3,) + (1,) * len(d.batch_shape))  # icdf over a leading dim
    out = {name: _attempt(lambda name=name: getattr(d, name)) for name in ("mean", "mode", "variance", "stddev")}
    out["entropy"] = _attempt(d.entropy)
    out["perplexity"] = _attempt(d.perplexity)
    out["log_prob"] = _attempt(lambda: d.log_prob(v))
    out["cdf"] = _attempt(lambda: d.cdf(v))
    out["icdf"] = _attempt(lambda: d.icdf(u))
    out["support"] = _attempt(lambda: d.enumerate_support())
    out["support_noexpand"] = _attempt(lambda: d.enumerate_support(expand=False))
    return out


# VonMises: PyTorch evaluates log I0 with a 1e-7 polynomial approximation, ndgrad with its exact i0e;
_RTOL = {"von_mises": 1e-6, "generalized_pareto": 1e-5}  # the latter in float32


def _same(got: Any, want: Any, what: str, rtol: float = 1e-9) -> None:
    if isinstance(want, str):
        assert got == want, what
        return
    assert not isinstance(got, str), f"{what}: ndgrad raised {got}"
    assert got.dtype == want.dtype and got.shape == want.shape, f"{what}: {got.dtype}{got.shape} vs {want.dtype}" \
                                                                 f"{want.shape}"
    np.testing.assert_allclose(got, want, rtol=rtol, atol=rtol * 1e-3, err_msg=what)


@pytest.mark.parametrize("key", CASES)
def test_values_match_pytorch(torch_ref: Any, key: str) -> None:
    want = torch_ref("summary", lambda torch: summary(torch, key))
    got = summary(ndgrad, key)
    assert got.keys() == want.keys()
    for k in want:
        _same(got[k], want[k], f"{key}.{k}", _RTOL.get(key, 1e-9))


def shapes(lib: Any, key: str) -> dict:
    d, v, _ = build(lib, key)
    batch = tuple(d.batch_shape)
    e = d.expand((2,) + batch)
    out = {"batch": batch, "event": tuple(d.event_shape), "sample": tuple(d.sample((4, 1)).shape),
           "sample0": tuple(d.sample().shape), "has_rsample": d.has_rsample,
           "has_enumerate_support": d.has_enumerate_support,
           "support": repr(d.support).replace("torch.", "ndgrad."), "repr": repr(d).replace("torch.", "ndgrad."),
           "expand_batch": tuple(e.batch_shape), "expand_event": tuple(e.event_shape),
           "expand_sample": tuple(e.sample((3,)).shape)}
    if tuple(v.shape) == batch + tuple(d.event_shape):
        out["expand_log_prob"] = np_of(e.log_prob(v))
    if d.has_rsample:
        out["rsample"] = tuple(d.rsample((2,)).shape)
    return out


@pytest.mark.filterwarnings("ignore:Singular sample detected")  # PyTorch's Wishart warns for valid samples
@pytest.mark.parametrize("key", CASES)
def test_shapes_and_expand_match_pytorch(torch_ref: Any, key: str) -> None:
    ndgrad.manual_seed(0)
    want = torch_ref("shapes", isolated(lambda torch: shapes(torch, key)))
    got = shapes(ndgrad, key)
    assert got.keys() == want.keys()
    for k in want:
        if k == "expand_log_prob":
            _same(got[k], want[k], f"{key}.{k}", _RTOL.get(key, 1e-9))
        else:
            assert got[k] == want[k], f"{key}.{k}: {got[k]!r} vs {want[k]!r}"


def test_float32_parameters_give_float32(torch_ref: Any) -> None:
    def run(lib: Any) -> dict:
        loc, scale = lib.tensor([0.0, 1.0]), lib.tensor([1.0, 2.0])
        n = lib.distributions.Normal(loc, scale)
        c = lib.distributions.Categorical(logits=lib.tensor([[0.1, 0.2, 0.7]]))
        g = lib.distributions.Gamma(lib.tensor([2.0]), lib.tensor([3.0]))
        return {"normal": n.log_prob(lib.tensor([0.5, 0.5])), "sample": n.sample().dtype,
                "cat": c.log_prob(lib.tensor([2])), "cat_sample": c.sample().dtype,
                "gamma": g.log_prob(lib.tensor([0.7])), "gamma_rsample": g.rsample().dtype,
                "scalar": lib.distributions.Normal(0.0, 1.0).log_prob(lib.tensor(0.3))}
    want = torch_ref("float32", isolated(lambda torch: {k: (str(v) if not hasattr(v, "numpy") else v)
                                                         for k, v in run(torch).items()}))
    got = {k: (str(v) if not hasattr(v, "numpy") else v) for k, v in run(ndgrad).items()}
    for k, w in want.items():
        if isinstance(w, str):
            assert got[k].replace("ndgrad.", "torch.") == w, k
        else:
            g = np_of(got[k])
            assert g.dtype == w.dtype, k
            np.testing.assert_allclose(g, w, rtol=1e-6, err_msg=k)


def test_lazy_probs_logits_and_utils(torch_ref: Any) -> None:
    p = np.array([[0.2, 0.3, 0.5], [0.0, 0.4, 0.6]])
    b = np.array([0.0, 0.3, 1.0])

    def run(lib: Any) -> dict:
        from importlib import import_module
        U = import_module(lib.__name__ + ".distributions.utils")
        x, y = U.broadcast_all(lib.tensor([1.0, 2.0]), 3.0)
        return {"p2l": U.probs_to_logits(lib.tensor(p)), "p2l_bin": U.probs_to_logits(lib.tensor(b), is_binary=True),
                "l2p": U.logits_to_probs(lib.tensor(p)), "l2p_bin": U.logits_to_probs(lib.tensor(b), True),
                "clamp": U.clamp_probs(lib.tensor(b)), "bcast": y,
                "cat_logits": lib.distributions.Categorical(probs=lib.tensor(p)).logits,
                "bern_probs": lib.distributions.Bernoulli(logits=lib.tensor(b)).probs}
    want = torch_ref("utils", lambda torch: run(torch))
    got = run(ndgrad)
    for k in want:
        _same(np_of(got[k]), want[k], k)


def test_lazy_property_caches_on_instance() -> None:
    from ndgrad.distributions.utils import lazy_property
    calls = []

    class Thing:
        @lazy_property
        def value(self) -> int:
            calls.append(1)
            return 42

    t = Thing()
    assert t.value == 42 and t.value == 42 and calls == [1]
    assert isinstance(Thing.__dict__["value"], lazy_property) and "value" in t.__dict__
    d = ndgrad.distributions.Categorical(logits=ndgrad.zeros(3, requires_grad=True))
    with ndgrad.no_grad():  # computed with gradients on, as PyTorch does
        assert d.probs.requires_grad


def test_package_is_lazy_attribute_and_exports() -> None:
    import ndgrad.distributions as D
    assert ndgrad.distributions is D
    for name in ("Normal", "Categorical", "kl_divergence", "register_kl", "constraints", "transforms",
                 "TransformedDistribution", "biject_to"):
        assert hasattr(D, name), name
    from ndgrad.distributions.normal import Normal  # PyTorch's submodule layout
    assert Normal is D.Normal
