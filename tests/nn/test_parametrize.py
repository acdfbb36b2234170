"""nn.utils.parametrize, nn.utils.parametrizations.weight_norm / spectral_norm and the old hook-based
nn.utils.weight_norm / spectral_norm against PyTorch (live or recorded): outputs, gradients, power-
iteration buffers, parameter names, state_dict keys, reprs and errors; gradcheck in float64."""
from __future__ import annotations

import copy
import pickle
import warnings

import numpy as np
import pytest
from _nncheck import check_module, err_of, rand, seeded_params

import ndgrad
import ndgrad.nn as nn
from ndgrad.autograd import gradcheck, gradgradcheck
from ndgrad.nn.utils import parametrizations as P
from ndgrad.nn.utils import parametrize

X2 = rand(3, 4, seed=1)
X4 = rand(2, 2, 5, 5, seed=2)


def _old(fn):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return fn()


_NEW = [
    ("wn_linear", lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Linear(4, 3)), X2),
    ("wn_conv_dim1", lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Conv2d(2, 3, 2), dim=1), X4),
    ("wn_conv_none", lambda lib: lib.nn.utils.parametrizations.weight_norm(lib.nn.Conv2d(2, 3, 2), dim=None), X4),
    ("sn_linear", lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(4, 3)), X2),
    ("sn_conv", lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Conv2d(2, 3, 2), n_power_iterations=2),
     X4),
    ("sn_convT", lambda lib: lib.nn.utils.parametrizations.spectral_norm(lib.nn.ConvTranspose2d(2, 3, 2)), X4),
    ("old_wn", lambda lib: _old(lambda: lib.nn.utils.weight_norm(lib.nn.Linear(4, 3), dim=None)), X2),
    ("old_wn_conv", lambda lib: _old(lambda: lib.nn.utils.weight_norm(lib.nn.Conv2d(2, 3, 2))), X4),
    ("old_sn", lambda lib: lib.nn.utils.spectral_norm(lib.nn.Linear(4, 3)), X2),
    ("old_sn_convT", lambda lib: lib.nn.utils.spectral_norm(lib.nn.ConvTranspose2d(2, 3, 2), eps=1e-6), X4),
]


@pytest.mark.parametrize("name,build,x", _NEW, ids=[c[0] for c in _NEW])
@pytest.mark.parametrize("train", [True, False])
def test_norm_reparametrizations_match_torch(torch_ref, name: str, build, x: np.ndarray, train: bool) -> None:
    # two calls: in training mode the second sees the power iteration of the first
    def call(m, x):
        first = m(x)
        return [m(x) + first, *[b for _, b in sorted(m.named_buffers())]]
    m = check_module(torch_ref, "fwd", build, [x], call=call, train=train, tol=1e-5)
    got = [repr(m), [(k, tuple(v.shape)) for k, v in m.state_dict().items()], [k for k, _ in m.named_parameters()]]
    want = torch_ref("describe", lambda lib: [repr(build(lib)), [(k, tuple(v.shape)) for k, v in
                                                                build(lib).state_dict().items()],
                                              [k for k, _ in build(lib).named_parameters()]])
    assert got == want


def _symmetric(lib):
    class Symmetric(lib.nn.Module):
        def forward(self, x):
            return x.triu() + x.triu(1).transpose(-1, -2)

        def right_inverse(self, a):
            return a.triu()
    return Symmetric()


def _scale(lib):
    class Scale(lib.nn.Module):
        def forward(self, x):
            return x * 2.0
    return Scale()


def _split(lib):
    class Split(lib.nn.Module):  # right_inverse gives two tensors: original0, original1
        def forward(self, a, b):
            return a + b

        def right_inverse(self, w):
            return w * 0.25, w * 0.75
    return Split()


def test_custom_parametrizations_match_torch(torch_ref) -> None:
    def build(lib):
        m = lib.nn.Linear(4, 4)
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _symmetric(lib))
        lib.nn.utils.parametrize.register_parametrization(m, "weight", _scale(lib))
        lib.nn.utils.parametrize.register_parametrization(m, "bias", _split(lib))
        return m
    x = rand(3, 4, seed=3)
    check_module(torch_ref, "fwd", build, [x])

    def life(lib):
        u = lib.nn.utils.parametrize
        m = build(lib)
        with lib.no_grad():
            for i, p in enumerate(m.parameters()):
                p.copy_(lib.tensor(rand(*p.shape, seed=20 + i)))
        out = [repr(m), sorted(m.state_dict()), u.is_parametrized(m), u.is_parametrized(m, "bias"),
               u.type_before_parametrizations(m).__name__, type(m).__name__, m.weight,
               err_of(lambda: setattr(m, "weight", lib.zeros(4, 4)))]  # Scale has no right_inverse
        return out

    got, want = life(ndgrad), torch_ref("life", life)
    assert got[:6] == want[:6] and got[7] == want[7]
    np.testing.assert_allclose(got[6].detach().numpy(), want[6], rtol=1e-6)


def test_assign_remove_and_cache_match_torch(torch_ref) -> None:
    def run(lib):
        u = lib.nn.utils.parametrize
        m = lib.nn.Linear(3, 3)
        with lib.no_grad():
            m.weight.copy_(lib.tensor(rand(3, 3, seed=6)))
        w_param = m.weight
        u.register_parametrization(m, "weight", _symmetric(lib))
        same_param = m.parametrizations.weight.original is w_param
        with lib.no_grad():
            m.weight = lib.tensor(rand(3, 3, seed=7))
        after_set = m.weight.detach().clone()
        with u.cached():
            cached_same = m.weight is m.weight
        uncached_same = m.weight is m.weight
        u.remove_parametrizations(m, "weight")
        kept = [type(m).__name__, type(m.weight).__name__, m.weight is w_param, m.weight.detach().clone(),
                sorted(m.state_dict()), hasattr(m, "parametrizations")]
        m2 = lib.nn.Linear(3, 3)
        with lib.no_grad():
            m2.weight.copy_(lib.tensor(rand(3, 3, seed=8)))
        u.register_parametrization(m2, "weight", _symmetric(lib))
        u.remove_parametrizations(m2, "weight", leave_parametrized=False)
        return [same_param, after_set, cached_same, uncached_same, *kept, m2.weight.detach()]
    got, want = run(ndgrad), torch_ref("run", run)
    for g, w in zip(got, want):
        if isinstance(g, ndgrad.Tensor):
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-6)
        else:
            assert g == w


def test_weight_norm_loads_old_checkpoints_and_copies(torch_ref) -> None:
    old = seeded_params(_old(lambda: nn.utils.weight_norm(nn.Linear(4, 3))))
    sd = old.state_dict()
    assert list(sd) == ["bias", "weight_g", "weight_v"]
    new = P.weight_norm(nn.Linear(4, 3))
    new.load_state_dict(sd)
    x = ndgrad.tensor(X2)
    np.testing.assert_allclose(new(x).detach().numpy(), old(x).detach().numpy(), rtol=1e-6)
    twin = copy.deepcopy(new)
    assert type(twin).__name__ == "ParametrizedLinear" and twin.parametrizations.weight.original0 is not \
        new.parametrizations.weight.original0
    np.testing.assert_allclose(twin(x).detach().numpy(), new(x).detach().numpy())
    nn.utils.remove_weight_norm(old)
    assert [k for k, _ in old.named_parameters()] == ["bias", "weight"]
    np.testing.assert_allclose(old(x).detach().numpy(), new(x).detach().numpy(), rtol=1e-6)
    assert err_of(lambda: pickle.dumps(new)) == torch_ref("pickle", lambda torch: err_of(lambda: pickle.dumps(
        torch.nn.utils.parametrizations.weight_norm(torch.nn.Linear(4, 3)))))


def test_parametrize_errors_match_torch(torch_ref) -> None:
    def cases(lib):
        u, m = lib.nn.utils.parametrize, lib.nn.Linear(3, 4)

        class Half(lib.nn.Module):
            def forward(self, x):
                return x.half()

        class Crop(lib.nn.Module):
            def forward(self, x):
                return x[:2]
        return [err_of(f) for f in [
            lambda: u.register_parametrization(m, "nothing", _scale(lib)),
            lambda: u.register_parametrization(lib.nn.Linear(3, 4), "weight", Half()),
            lambda: u.register_parametrization(lib.nn.Linear(3, 4), "weight", Crop()),
            lambda: u.remove_parametrizations(lib.nn.Linear(3, 4), "weight"),
            lambda: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 4), n_power_iterations=0),
            lambda: lib.nn.utils.parametrizations.spectral_norm(lib.nn.Linear(3, 4), dim=2),
            lambda: lib.nn.utils.remove_weight_norm(lib.nn.Linear(3, 4)),
            lambda: lib.nn.utils.remove_spectral_norm(lib.nn.Linear(3, 4)),
            lambda: lib.nn.utils.spectral_norm(lib.nn.utils.spectral_norm(lib.nn.Linear(3, 4))),
            lambda: _old(lambda: lib.nn.utils.weight_norm(_old(lambda: lib.nn.utils.weight_norm(
                lib.nn.Linear(3, 4))))),
        ]]
    got = [(t, m.split("\n")[0][:60]) for t, m in cases(ndgrad)]
    want = [(t, m.split("\n")[0][:60]) for t, m in torch_ref("errors", cases)]
    assert got == want


def test_old_weight_norm_warns_like_torch() -> None:
    with pytest.warns(FutureWarning, match="torch.nn.utils.parametrizations.weight_norm"):
        nn.utils.weight_norm(nn.Linear(2, 2))


def test_gradcheck_weight_norm_and_spectral_norm_float64() -> None:
    v = ndgrad.tensor(rand(3, 2, 2, seed=9, dtype=np.float64), requires_grad=True)
    g = ndgrad.tensor(rand(3, 1, 1, seed=10, dtype=np.float64), requires_grad=True)
    assert gradcheck(lambda v, g: P._weight_norm(v, g, 0), (v, g))
    assert gradgradcheck(lambda v, g: P._weight_norm(v, g, 0), (v, g))
    sn = P._SpectralNorm(v.detach(), dim=1).eval()
    assert gradcheck(lambda w: sn(w), (v,))
    assert gradcheck(lambda w: P._WeightNorm(None)(w.norm(), w), (v,))
    plist = parametrize.ParametrizationList([P._WeightNorm(1)], nn.Parameter(v.detach().clone()), unsafe=True)
    assert plist.is_tensor is False and plist.ntensors == 2


_ORTH = [((4, 4), "matrix_exp", True), ((4, 4), "cayley", False), ((4, 4), "householder", True),
         ((5, 3), "householder", False), ((3, 5), "matrix_exp", True), ((5, 3), "cayley", True),
         ((3, 5), "householder", True)]


@pytest.mark.parametrize("shape,orth_map,triv", _ORTH)
def test_orthogonal_matches_torch(torch_ref, shape: tuple, orth_map: str, triv: bool) -> None:
    def build(lib):
        m = lib.nn.Linear(shape[1], shape[0], bias=False).double()
        with lib.no_grad():
            m.weight.copy_(lib.tensor(rand(*shape, seed=31, dtype=np.float64)))
        return lib.nn.utils.parametrizations.orthogonal(m, orthogonal_map=orth_map, use_trivialization=triv)
    x = rand(2, shape[1], seed=32, dtype=np.float64)
    check_module(torch_ref, "fwd", build, [x], call=lambda m, x: [m(x), m.weight], tol=1e-10)
    w = build(ndgrad).weight.detach().numpy()  # unseeded: the registered weight itself
    gram = w @ w.T if shape[0] <= shape[1] else w.T @ w
    np.testing.assert_allclose(gram, np.eye(min(shape)), atol=1e-12)


def test_orthogonal_assignment_and_errors_match_torch(torch_ref) -> None:
    def run(lib):
        P_ = lib.nn.utils.parametrizations
        m = P_.orthogonal(lib.nn.Linear(4, 4, bias=False).double())
        h = P_.orthogonal(lib.nn.Linear(3, 5, bias=False).double(), use_trivialization=False)
        target = lib.tensor(rand(4, 4, seed=33, dtype=np.float64))
        with lib.no_grad():
            m.weight = target  # a non-orthogonal value is orthogonalised (QR, positive R diagonal)
            h.weight = lib.tensor(rand(5, 3, seed=34, dtype=np.float64))
        return [m.weight.detach(), h.weight.detach(), sorted(m.state_dict()), repr(m)] + [err_of(f) for f in [
            lambda: P_.orthogonal(lib.nn.BatchNorm1d(3)),
            lambda: P_.orthogonal(lib.nn.Linear(3, 3), orthogonal_map="svd"),
            lambda: setattr(P_.orthogonal(lib.nn.Linear(3, 3), use_trivialization=False), "weight", lib.eye(3))]]
    got, want = run(ndgrad), torch_ref("run", run)
    np.testing.assert_allclose(got[0].numpy(), want[0], atol=1e-12)
    np.testing.assert_allclose(got[1].numpy(), want[1], atol=1e-12)
    assert got[2:] == want[2:]


def test_gradcheck_orthogonal_maps_float64() -> None:
    for orth_map in ("matrix_exp", "cayley", "householder"):
        orth = P._Orthogonal(ndgrad.zeros(4, 3, dtype=ndgrad.float64), orth_map, use_trivialization=False)
        x = ndgrad.tensor(rand(4, 3, seed=35, dtype=np.float64) * 0.5, requires_grad=True)
        assert gradcheck(lambda x, orth=orth: orth(x), (x,))
