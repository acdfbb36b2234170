"""ndgrad.optim: trajectories against PyTorch (live, or recorded in tests/references/ without torch) and NumPy
references, state_dict layout, errors, hooks, in-place updates."""
import copy
import importlib
import math
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad import optim

RNG = np.random.default_rng(0)
A = RNG.standard_normal((8, 5))
B_VEC = RNG.standard_normal(8)
W0 = RNG.standard_normal(5)
M0 = RNG.standard_normal((5, 2))
STEPS = 12


def _loss(T, w, m, a, b):
    # least squares in w plus a coupled quadratic in m: gradients differ per coordinate and step
    return ((a @ w - b) ** 2).sum() + (m ** 2).sum() * 0.5 + (m.sum(1) * w).sum()


class Tens:
    """An optimizer argument given as a 0-d tensor of the library under test (e.g. lr=Tens(0.01))."""

    def __init__(self, value):
        self.value = value

    def __repr__(self):
        return f"tensor({self.value})"


def _kw(T, kw):
    def conv(v):
        if isinstance(v, Tens):
            return T.tensor(v.value)
        if isinstance(v, tuple):
            return tuple(conv(x) for x in v)
        return v
    return {k: conv(v) for k, v in kw.items()}


def _ids(cases):
    return [n + "".join(f"-{k}={v}" for k, v in kw.items()) for n, kw in cases]


def _trajectory(T, optim_mod, name, kw, steps=STEPS, dtype=None, groups=False):
    dtype = dtype or T.float64
    w = T.tensor(W0.copy(), dtype=dtype, requires_grad=True)
    m = T.tensor(M0.copy(), dtype=dtype, requires_grad=True)
    a, b = T.tensor(A, dtype=dtype), T.tensor(B_VEC, dtype=dtype)
    lr = kw.get("lr", 0.01)
    params = [{"params": [w]}, {"params": [m], "lr": getattr(lr, "value", lr) * 0.5}] if groups else [w, m]
    opt = getattr(optim_mod, name)(params, **_kw(T, kw))
    out = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(T, w, m, a, b).backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), m.detach().numpy().ravel()]))
    return np.array(out), opt, (w, m)


def _torch_trajectory(torch_ref, name, kw, key="traj", **opts):
    """PyTorch's parameters after each step (live, or recorded without torch)."""
    return torch_ref(key, lambda torch: _trajectory(torch, torch.optim, name, kw, **opts)[0])


CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("SGD", dict(lr=Tens(0.01), momentum=0.9, nesterov=True, maximize=True, weight_decay=0.1)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.8), eps=1e-3)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("Adam", dict(lr=Tens(0.05), amsgrad=True, foreach=False, fused=False)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.05, betas=(0.6, 0.9), maximize=True)),
    ("AdamW", dict(lr=Tens(0.05), weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-5, maximize=True)),
    ("Adagrad", dict(lr=Tens(0.1), lr_decay=0.1)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-4, weight_decay=0.1)),
    ("Adadelta", dict(lr=Tens(2.0), maximize=True, foreach=False)),
    ("Adamax", dict(lr=0.05)),
    ("Adamax", dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3, weight_decay=0.1, maximize=True)),
    ("NAdam", dict(lr=0.05)),
    ("NAdam", dict(lr=0.05, momentum_decay=0.1, weight_decay=0.1)),
    ("NAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("NAdam", dict(lr=Tens(0.05), betas=(0.7, 0.95), weight_decay=0.1, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.05)),
    ("RAdam", dict(lr=0.05, betas=(0.5, 0.6), weight_decay=0.1)),
    ("RAdam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True, maximize=True)),
    ("ASGD", dict(lr=0.01)),
    ("ASGD", dict(lr=0.01, lambd=0.1, alpha=0.5, t0=5, weight_decay=0.1)),
    ("ASGD", dict(lr=Tens(0.01), t0=0, maximize=True)),
    ("Rprop", dict(lr=0.01)),
    ("Rprop", dict(lr=0.01, etas=(0.3, 1.5), step_sizes=(1e-3, 0.05), maximize=True)),
    ("Adafactor", dict(lr=0.05)),
    ("Adafactor", dict(lr=0.05, beta2_decay=-0.5, eps=(1e-3, 1e-2), d=1.5, weight_decay=0.1, maximize=True)),
    ("Adafactor", dict(lr=Tens(0.5), eps=(None, 0.1), d=1.0)),
]
OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop",
              "Adafactor"]
# options that give every piece of state (momentum buffers, amsgrad maxima, centred averages)
FULL_STATE = {"SGD": dict(lr=0.01, momentum=0.9), "RMSprop": dict(lr=0.01, momentum=0.9, centered=True),
              "Adam": dict(lr=0.01, amsgrad=True), "ASGD": dict(lr=0.01, t0=2)}


@pytest.mark.parametrize("name,kw", CASES, ids=_ids(CASES))
def test_trajectory_matches_torch(name, kw, torch_ref):
    ref = _torch_trajectory(torch_ref, name, kw)
    got, _, _ = _trajectory(ndgrad, optim, name, kw)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13)
    assert np.abs(ref[-1] - ref[0]).max() > 1e-2  # the problem really moves


def test_tensor_betas_match_torch(torch_ref):
    # PyTorch computes the bias corrections in the betas' float32 precision: only last-bit pow differences remain
    kw = dict(lr=0.05, betas=(Tens(0.8), Tens(0.9)))
    ref = _torch_trajectory(torch_ref, "Adam", kw)
    got, opt, _ = _trajectory(ndgrad, optim, "Adam", kw)
    np.testing.assert_allclose(got, ref, rtol=1e-7, atol=1e-8)
    assert all(isinstance(b, ndgrad.Tensor) and b.ndim == 0 for b in opt.param_groups[0]["betas"])


@pytest.mark.parametrize("name,kw", CASES[2::3], ids=_ids(CASES[2::3]))
def test_float32_trajectory_close_to_torch(name, kw, torch_ref):
    ref = torch_ref("traj32", lambda torch: _trajectory(torch, torch.optim, name, kw, dtype=torch.float32)[0])
    got, _, _ = _trajectory(ndgrad, optim, name, kw, dtype=ndgrad.float32)
    assert got.dtype == np.float32 and ref.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-6 * np.abs(ref).max())


GROUP_CASES = [c for c in CASES if c[0] in ("SGD", "Adam", "RMSprop")][::2] + \
    [c for c in CASES if c[0] in ("Adadelta", "NAdam", "RAdam", "ASGD", "Rprop")][::2]


@pytest.mark.parametrize("name,kw", GROUP_CASES, ids=_ids(GROUP_CASES))
def test_param_groups_match_torch(name, kw, torch_ref):
    ref = _torch_trajectory(torch_ref, name, kw, steps=8, groups=True)
    got, _, _ = _trajectory(ndgrad, optim, name, kw, steps=8, groups=True)
    np.testing.assert_allclose(got, ref, rtol=1e-10, atol=1e-13)


def _plain_state_dict(opt):
    """state_dict() with tensors as NumPy arrays (as the recording stores PyTorch's), plus the repr."""
    def plain(v):
        if hasattr(v, "detach"):
            return np.array(v.detach().numpy())
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return type(v)(plain(x) for x in v)
        return v
    sd = opt.state_dict()
    return {"param_groups": plain(sd["param_groups"]), "state": plain(sd["state"]), "repr": repr(opt)}


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_state_dict_matches_torch(name, torch_ref):
    kw = FULL_STATE.get(name, dict(lr=0.01))
    want = torch_ref("sd", lambda torch: _plain_state_dict(_trajectory(torch, torch.optim, name, kw, steps=3)[1]))
    got = _plain_state_dict(_trajectory(ndgrad, optim, name, kw, steps=3)[1])
    assert got["param_groups"] == want["param_groups"]
    assert got["repr"] == want["repr"]
    assert list(got["state"]) == list(want["state"]) == [0, 1]
    for i, st in want["state"].items():
        assert list(got["state"][i]) == list(st)  # the same keys in the same order
        for k, v in st.items():
            assert got["state"][i][k].dtype == v.dtype and got["state"][i][k].shape == v.shape, k
            np.testing.assert_allclose(got["state"][i][k], v, rtol=1e-9, atol=1e-14, err_msg=k)


def _error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the type and message are what is compared
        return [type(e).__name__, str(e)]
    return None


INVALID = [
    ("SGD", dict(lr=-1)), ("SGD", dict(lr=0.1, momentum=-0.5)), ("SGD", dict(lr=0.1, weight_decay=-1)),
    ("SGD", dict(lr=0.1, nesterov=True)), ("SGD", dict(lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)),
    ("SGD", dict(lr=0.1, fused=True, foreach=True)), ("SGD", dict(lr=0.1, fused=True, differentiable=True)),
    ("Adam", dict(eps=-1)), ("Adam", dict(betas=(1.0, 0.9))), ("Adam", dict(betas=(0, 0.9))),
    ("Adam", dict(lr=Tens([0.1, 0.2]))), ("Adam", dict(lr=Tens(0.1), foreach=True)),
    ("Adam", dict(betas=(Tens(0.9), Tens(0.99)), foreach=True)), ("Adam", dict(fused=True, foreach=True)),
    ("AdamW", dict(betas=(0.9, -0.1))), ("AdamW", dict(weight_decay=-1)),
    ("RMSprop", dict(alpha=-1)), ("RMSprop", dict(momentum=-1)), ("RMSprop", dict(eps=-1)),
    ("Adagrad", dict(lr_decay=-1)), ("Adagrad", dict(initial_accumulator_value=-1)), ("Adagrad", dict(eps=-1)),
    ("Adadelta", dict(lr=-1)), ("Adadelta", dict(rho=1.5)), ("Adadelta", dict(eps=-1)),
    ("Adadelta", dict(weight_decay=-0.5)),
    ("Adamax", dict(lr=-0.1)), ("Adamax", dict(betas=(0.9, 1.0))), ("Adamax", dict(eps=-1)),
    ("NAdam", dict(momentum_decay=-1)), ("NAdam", dict(betas=(-0.1, 0.9))), ("NAdam", dict(weight_decay=-1)),
    ("RAdam", dict(eps=-1e-8)), ("RAdam", dict(betas=(0.9, 1.5))), ("RAdam", dict(lr=Tens([1.0, 2.0]))),
    ("ASGD", dict(lr=-1)), ("ASGD", dict(weight_decay=-1)),
    ("Rprop", dict(etas=(1.5, 1.2))), ("Rprop", dict(etas=(0.5, 0.9))), ("Rprop", dict(lr=-2)),
    ("LBFGS", dict(lr=-1)),
    ("Adafactor", dict(lr=-1)), ("Adafactor", dict(beta2_decay=0.5)), ("Adafactor", dict(eps=(-1, 1e-3))),
    ("Adafactor", dict(eps=(None, -1))), ("Adafactor", dict(d=0.5)), ("Adafactor", dict(weight_decay=-1)),
]


@pytest.mark.parametrize("name,kw", INVALID, ids=_ids(INVALID))
def test_invalid_arguments_match_torch(name, kw, torch_ref):
    want = torch_ref("err", lambda torch: _error(
        lambda: getattr(torch.optim, name)([torch.ones(1, requires_grad=True)], **_kw(torch, kw))))
    assert want is not None
    assert _error(lambda: getattr(optim, name)([ndgrad.ones(1, requires_grad=True)], **_kw(ndgrad, kw))) == want


@pytest.mark.parametrize("name", OPTIMIZERS + ["LBFGS"])
def test_defaults_match_torch(name, torch_ref):
    want = torch_ref("defaults", lambda torch: _plain_state_dict(
        getattr(torch.optim, name)([torch.ones(1, requires_grad=True)]) if name != "SGD" else
        torch.optim.SGD([torch.ones(1, requires_grad=True)]))["param_groups"])
    got = _plain_state_dict(getattr(optim, name)([ndgrad.ones(1, requires_grad=True)]))["param_groups"]
    assert got == want


# -- NumPy references (run without torch) ----------------------------------------------------
def _np_grad(w, m):
    gw = 2 * A.T @ (A @ w - B_VEC) + m.sum(1)
    gm = m + w[:, None]
    return gw, gm


def _np_run(update, steps=4):
    w, m = W0.copy(), M0.copy()
    st = {}
    out = []
    for t in range(1, steps + 1):
        gw, gm = _np_grad(w, m)
        w = update("w", w, gw, t, st)
        m = update("m", m, gm, t, st)
        out.append(np.concatenate([w.ravel(), m.ravel()]))
    return np.array(out)


def test_sgd_nesterov_numpy_reference():
    lr, mu, wd = 0.01, 0.9, 0.1

    def upd(k, p, g, t, st):
        g = g + wd * p
        buf = st[k] = g.copy() if k not in st else mu * st[k] + g
        return p - lr * (g + mu * buf)
    got, _, _ = _trajectory(ndgrad, optim, "SGD", dict(lr=lr, momentum=mu, nesterov=True, weight_decay=wd), steps=4)
    np.testing.assert_allclose(got, _np_run(upd), rtol=1e-10)


def test_sgd_dampening_maximize_numpy_reference():
    lr, mu, damp = 0.01, 0.8, 0.25

    def upd(k, p, g, t, st):
        g = -g
        st[k] = g.copy() if k not in st else mu * st[k] + (1 - damp) * g
        return p - lr * st[k]
    got, _, _ = _trajectory(ndgrad, optim, "SGD", dict(lr=lr, momentum=mu, dampening=damp, maximize=True), steps=4)
    np.testing.assert_allclose(got, _np_run(upd), rtol=1e-10)


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
def test_adam_numpy_reference(amsgrad, decoupled):
    lr, b1, b2, eps, wd = 0.05, 0.8, 0.95, 1e-6, 0.1

    def upd(k, p, g, t, st):
        if decoupled:
            p = p * (1 - lr * wd)
        else:
            g = g + wd * p
        m, v, vmax = st.get(k, (0.0, 0.0, 0.0))
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        st[k] = (m, v, vmax)
        vv = vmax if amsgrad else v
        denom = np.sqrt(vv) / math.sqrt(1 - b2 ** t) + eps
        return p - lr / (1 - b1 ** t) * m / denom
    name = "AdamW" if decoupled else "Adam"
    got, opt, _ = _trajectory(ndgrad, optim, name, dict(lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd,
                                                          amsgrad=amsgrad), steps=4)
    np.testing.assert_allclose(got, _np_run(upd), rtol=1e-10)
    assert float(opt.state_dict()["state"][0]["step"]) == 4.0


@pytest.mark.parametrize("centered", [False, True])
def test_rmsprop_numpy_reference(centered):
    lr, alpha, eps, mu = 0.01, 0.9, 1e-8, 0.5

    def upd(k, p, g, t, st):
        sq, ga, buf = st.get(k, (0.0, 0.0, 0.0))
        sq = alpha * sq + (1 - alpha) * g * g
        ga = alpha * ga + (1 - alpha) * g
        avg = np.sqrt(sq - ga * ga if centered else sq) + eps
        buf = mu * buf + g / avg
        st[k] = (sq, ga, buf)
        return p - lr * buf
    got, _, _ = _trajectory(ndgrad, optim, "RMSprop", dict(lr=lr, alpha=alpha, eps=eps, momentum=mu,
                                                            centered=centered), steps=4)
    np.testing.assert_allclose(got, _np_run(upd), rtol=1e-10)


def test_adagrad_numpy_reference():
    lr, decay, init, eps = 0.1, 0.05, 0.2, 1e-10

    def upd(k, p, g, t, st):
        s = st[k] = st.get(k, init) + g * g
        return p - lr / (1 + (t - 1) * decay) * g / (np.sqrt(s) + eps)
    got, _, _ = _trajectory(ndgrad, optim, "Adagrad", dict(lr=lr, lr_decay=decay, initial_accumulator_value=init),
                            steps=4)
    np.testing.assert_allclose(got, _np_run(upd), rtol=1e-10)


# -- state_dict round trip -----------------------------------------------------------------
ROUND_TRIP = [("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)), ("Adam", dict(lr=0.05, amsgrad=True)),
              ("AdamW", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
              ("Adagrad", dict(lr=0.1, lr_decay=0.01)), ("Adadelta", dict(lr=0.5)), ("Adamax", dict(lr=0.05)),
              ("NAdam", dict(lr=0.05)), ("RAdam", dict(lr=0.05)), ("ASGD", dict(lr=0.01, t0=4)),
              ("Rprop", dict(lr=0.01)), ("Adafactor", dict(lr=0.05, weight_decay=0.1))]


@pytest.mark.parametrize("name,kw", ROUND_TRIP, ids=_ids(ROUND_TRIP))
def test_state_dict_round_trip_continues_identically(name, kw):
    full, _, _ = _trajectory(ndgrad, optim, name, kw, steps=20)
    first, opt, (w, m) = _trajectory(ndgrad, optim, name, kw, steps=10)
    saved = copy.deepcopy(opt.state_dict())
    # a fresh optimizer over fresh parameters holding the same values
    w2 = ndgrad.tensor(w.detach().numpy().copy(), requires_grad=True)
    m2 = ndgrad.tensor(m.detach().numpy().copy(), requires_grad=True)
    opt2 = getattr(optim, name)([w2, m2], lr=123.0)
    opt2.load_state_dict(saved)
    assert opt2.param_groups[0]["lr"] == kw["lr"]
    a, b = ndgrad.tensor(A), ndgrad.tensor(B_VEC)
    rest = []
    for _ in range(10):
        opt2.zero_grad()
        _loss(ndgrad, w2, m2, a, b).backward()
        opt2.step()
        rest.append(np.concatenate([w2.detach().numpy().ravel(), m2.detach().numpy().ravel()]))
    if name in ("NAdam", "ASGD"):
        # as in PyTorch, loading casts every state tensor but "step" to the parameter's dtype: the float32
        # mu_product / eta / mu become float64, so the continued run differs from the uninterrupted one in the
        # last bits
        st = opt2.state[w2]
        assert all(st[k].dtype == ndgrad.float64 for k in ("mu_product", "eta", "mu") if k in st)
        np.testing.assert_allclose(np.concatenate([first, rest]), full, rtol=1e-7)
    else:
        np.testing.assert_array_equal(np.concatenate([first, rest]), full)
    # the loaded state is a copy: stepping opt2 did not touch the saved dict
    assert saved["state"] and all(isinstance(v, ndgrad.Tensor) for v in saved["state"][0].values())


def test_state_dict_literal_contents():
    p = ndgrad.zeros(3, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = ndgrad.ones(3)
    opt.step()
    sd = opt.state_dict()
    assert sd["param_groups"] == [{"lr": 0.1, "betas": (0.9, 0.999), "eps": 1e-08, "weight_decay": 0,
                                   "amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
                                   "differentiable": False, "fused": None, "decoupled_weight_decay": False,
                                   "params": [0]}]
    st = sd["state"][0]
    assert list(st) == ["step", "exp_avg", "exp_avg_sq"]
    assert st["step"].dtype == ndgrad.float32 and st["step"].shape == () and st["step"].item() == 1.0
    np.testing.assert_allclose(p.detach().numpy(), -0.1, rtol=1e-6)  # first Adam step moves by lr
    sgd = optim.SGD([p], lr=0.1)
    sgd.step()
    assert sgd.state_dict() == {"state": {}, "param_groups": [
        {"lr": 0.1, "momentum": 0, "dampening": 0, "weight_decay": 0, "nesterov": False, "maximize": False,
         "foreach": None, "differentiable": False, "fused": None, "params": [0]}]}
    ada = optim.Adagrad([p])  # Adagrad creates its state eagerly
    assert list(ada.state_dict()["state"][0]) == ["step", "sum"]
    assert optim.AdamW([p]).defaults["weight_decay"] == 0.01
    assert optim.AdamW([p]).defaults["decoupled_weight_decay"] is True


def test_load_state_dict_errors_and_dtype_cast():
    p = ndgrad.zeros(2, requires_grad=True)
    q = ndgrad.zeros(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    with pytest.raises(ValueError, match="different number of parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})
    with pytest.raises(ValueError, match="doesn't match the size of optimizer's group"):
        opt.load_state_dict({"state": {}, "param_groups": [{"params": [0, 1]}]})
    # state saved from float64 params is cast to the float32 param's dtype, except "step"
    p64 = ndgrad.zeros(2, dtype=ndgrad.float64, requires_grad=True)
    o64 = optim.Adam([p64])
    p64.grad = ndgrad.ones(2, dtype=ndgrad.float64)
    o64.step()
    o32 = optim.Adam([q])
    o32.load_state_dict(o64.state_dict())
    assert o32.state[q]["exp_avg"].dtype == ndgrad.float32
    assert o32.state[q]["step"].dtype == ndgrad.float32


# -- updates are in place, in the parameter's dtype, with version bumps ----------------------------------
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_float32_in_place_and_version(name):
    kw = dict(lr=0.01, momentum=0.9, weight_decay=0.1) if name in ("SGD", "RMSprop") else \
        dict(lr=0.01) if name == "Rprop" else dict(lr=0.01, weight_decay=0.1)
    p = ndgrad.randn(4, 3, requires_grad=True)
    arr = p._data
    opt = getattr(optim, name)([p], **kw)
    v0 = p._version_count
    for _ in range(3):
        p.grad = ndgrad.randn(4, 3)
        before = p.detach().numpy().copy()
        opt.step()
        assert not np.array_equal(before, p.detach().numpy())
    assert p._data is arr and p.dtype == ndgrad.float32 and arr.dtype == np.float32
    assert p._version_count == v0 + 3
    for v in opt.state[p].values():
        if v.ndim:
            assert v.dtype == ndgrad.float32
    assert p.grad_fn is None and p.is_leaf


def test_step_skips_params_without_grad_and_works_under_grad_mode():
    p = ndgrad.ones(2, requires_grad=True)
    q = ndgrad.ones(2, requires_grad=True)
    opt = optim.Adam([p, q], lr=0.1)
    p.grad = ndgrad.ones(2)
    opt.step()
    assert q not in opt.state and p in opt.state
    assert len(opt.state) == 1 and np.array_equal(q.detach().numpy(), [1.0, 1.0])
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9], rtol=1e-6)


def test_closure_is_evaluated_with_grad():
    w = ndgrad.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w ** 2).sum()
        loss.backward()
        calls.append(loss.item())
        return loss
    with ndgrad.no_grad():
        loss = opt.step(closure)
    assert calls == [5.0] and loss.item() == 5.0
    np.testing.assert_allclose(w.detach().numpy(), [0.8, -1.6], rtol=1e-6)


def test_zero_grad():
    p = ndgrad.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = ndgrad.ones(2)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None and np.array_equal(p.grad.numpy(), [0.0, 0.0])
    opt.zero_grad()
    assert p.grad is None


def test_tensor_lr_and_per_group_options():
    p = ndgrad.ones(2, requires_grad=True)
    q = ndgrad.ones(2, requires_grad=True)
    opt = optim.SGD([{"params": p}, {"params": [q], "lr": 0.5, "momentum": 0.9}], lr=ndgrad.tensor(0.1))
    assert opt.param_groups[0]["momentum"] == 0 and opt.param_groups[1]["momentum"] == 0.9
    p.grad = ndgrad.ones(2)
    q.grad = ndgrad.ones(2)
    opt.step()
    np.testing.assert_allclose(p.detach().numpy(), [0.9, 0.9], rtol=1e-6)
    np.testing.assert_allclose(q.detach().numpy(), [0.5, 0.5], rtol=1e-6)


def test_add_param_group_and_construction_errors():
    p = ndgrad.ones(2, requires_grad=True)
    q = ndgrad.ones(2, requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    opt.add_param_group({"params": q, "lr": 0.3})
    assert opt.param_groups[1]["lr"] == 0.3 and opt.param_groups[1]["nesterov"] is False
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(TypeError, match="param_group must be a dict"):
        opt.add_param_group([q])
    with pytest.raises(ValueError, match="some parameters appear in more than one parameter group"):
        optim.SGD([{"params": [p]}, {"params": [p]}], lr=0.1)
    with pytest.raises(TypeError, match="should be an iterable of Tensors or dicts"):
        optim.SGD(p, lr=0.1)
    with pytest.raises(ValueError, match="optimizer got an empty parameter list"):
        optim.Adam([])
    with pytest.raises(TypeError, match="optimizer can only optimize Tensors, but one of the params is int"):
        optim.Adam([1])
    with pytest.raises(ValueError, match="can't optimize a non-leaf Tensor"):
        optim.Adam([p * 2])
    with pytest.raises(TypeError, match="ordered collections"):
        opt.add_param_group({"params": {ndgrad.ones(1, requires_grad=True)}})
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        optim.SGD([q, q], lr=0.1)
    assert any("duplicate parameters" in str(x.message) for x in w)


def test_repr():
    opt = optim.SGD([ndgrad.ones(1, requires_grad=True)], lr=0.1, momentum=0.9)
    assert repr(opt) == ("SGD (\nParameter Group 0\n    dampening: 0\n    differentiable: False\n    foreach: None\n"
                         "    fused: None\n    lr: 0.1\n    maximize: False\n    momentum: 0.9\n    nesterov: False\n"
                         "    weight_decay: 0\n)")


def test_step_hooks_and_pickle():
    import pickle
    p = ndgrad.ones(2, requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    seen = []
    h = opt.register_step_post_hook(lambda o, a, k: seen.append("post"))
    opt.register_step_pre_hook(lambda o, a, k: seen.append("pre"))
    p.grad = ndgrad.ones(2)
    opt.step()
    h.remove()
    opt.step()
    assert seen == ["pre", "post", "pre"]
    opt2 = pickle.loads(pickle.dumps(opt))
    assert opt2.param_groups[0]["lr"] == 0.1 and len(opt2.state) == 1


def test_step_speed_mlp_sized(capsys):
    # ~300k float32 parameters: one Adam step stays cheap (no per-parameter Python loops over elements)
    import time
    params = [ndgrad.randn(784, 256, requires_grad=True), ndgrad.randn(256, requires_grad=True),
              ndgrad.randn(256, 128, requires_grad=True), ndgrad.randn(128, requires_grad=True)]
    for p in params:
        p.grad = ndgrad.randn(*p.shape)
    opt = optim.Adam(params, lr=1e-3)
    opt.step()
    t0 = time.perf_counter()
    for _ in range(10):
        opt.step()
    dt = (time.perf_counter() - t0) / 10
    assert dt < 0.05, dt


def _continue(T, O, name, w0, m0, sd, steps=6):
    """Fresh parameters holding w0/m0 and a fresh optimizer loading sd, stepped `steps` times."""
    w = T.tensor(w0, requires_grad=True)
    m = T.tensor(m0, requires_grad=True)
    opt = getattr(O, name)([w, m])
    opt.load_state_dict(sd)
    a, b = T.tensor(A), T.tensor(B_VEC)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(T, w, m, a, b).backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), m.detach().numpy().ravel()]))
    return np.array(out)


def _torch_run_with_state(torch, name, kw):
    """PyTorch: parameters and state_dict after 6 steps, and its own continuation from that state_dict."""
    _, opt, (w, m) = _trajectory(torch, torch.optim, name, kw, steps=6)
    w0, m0 = w.detach().numpy().copy(), m.detach().numpy().copy()
    sd = copy.deepcopy(opt.state_dict())
    return {"w": w0, "m": m0, "sd": sd, "cont": _continue(torch, torch.optim, name, w0, m0, copy.deepcopy(sd))}


@pytest.mark.parametrize("name,kw", ROUND_TRIP, ids=_ids(ROUND_TRIP))
def test_continue_from_torch_state_dict(name, kw, torch_ref):
    ref = torch_ref("run", lambda torch: _torch_run_with_state(torch, name, kw))
    sd = {"param_groups": ref["sd"]["param_groups"],
          "state": {i: {k: ndgrad.tensor(v) for k, v in st.items()} for i, st in ref["sd"]["state"].items()}}
    got = _continue(ndgrad, optim, name, ref["w"], ref["m"], sd)
    np.testing.assert_allclose(got, ref["cont"], rtol=1e-10, atol=1e-13)


def test_works_with_nn_parameter():
    parameter = pytest.importorskip("ndgrad.nn.parameter")
    w = parameter.Parameter(ndgrad.tensor([1.0, 2.0]))
    opt = optim.AdamW([w], lr=0.1)
    (w ** 2).sum().backward()
    opt.step()
    assert isinstance(w, parameter.Parameter) and w.dtype == ndgrad.float32
    # decoupled decay then a unit Adam step of size lr against the gradient sign
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * (1 - 0.1 * 0.01) - 0.1, rtol=1e-5)


COMPLEX = [("Adam", dict(lr=0.1, amsgrad=True)), ("AdamW", dict(lr=0.1)),
           ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)), ("Adagrad", dict(lr=0.1)),
           ("SGD", dict(lr=0.1, momentum=0.9)), ("Adadelta", dict(lr=1.0, weight_decay=0.1)), ("Adamax", dict(lr=0.1)),
           ("NAdam", dict(lr=0.1)), ("RAdam", dict(lr=0.1)), ("ASGD", dict(lr=0.1, t0=2)), ("Rprop", dict(lr=0.1))]


def _complex_run(T, O, name, kw):
    z = T.tensor(np.array([1 + 2j, -0.5 + 0.3j, 0.2 - 1j], dtype=np.complex128), requires_grad=True)
    o = getattr(O, name)([z], **kw)
    for i in range(8):
        z.grad = T.tensor(z.detach().numpy() * 0.7 - 0.1j * (-1) ** i)
        o.step()
    return z.detach().numpy().copy()


@pytest.mark.parametrize("name,kw", COMPLEX, ids=_ids(COMPLEX))
def test_complex_params_match_torch(name, kw, torch_ref):
    want = torch_ref("z", lambda torch: _complex_run(torch, torch.optim, name, kw))
    np.testing.assert_allclose(_complex_run(ndgrad, optim, name, kw), want, rtol=1e-10)


def test_state_dict_hooks_and_named_params():
    p = ndgrad.ones(2, requires_grad=True)
    q = ndgrad.ones(1, requires_grad=True)
    opt = optim.SGD([("w", p), ("b", q)], lr=0.1, momentum=0.9)
    assert opt.param_groups[0]["param_names"] == ["w", "b"]
    calls = []
    opt.register_state_dict_pre_hook(lambda o: calls.append("pre"))
    opt.register_state_dict_post_hook(lambda o, sd: {**sd, "extra": 1})
    sd = opt.state_dict()
    assert calls == ["pre"] and sd["extra"] == 1 and sd["param_groups"][0]["param_names"] == ["w", "b"]
    opt2 = optim.SGD([("w", p), ("b", q)], lr=0.5)

    def drop_extra(o, d):
        d = dict(d)
        d.pop("extra")
        return d
    opt2.register_load_state_dict_pre_hook(drop_extra)
    opt2.register_load_state_dict_post_hook(lambda o: calls.append("loaded"))
    opt2.load_state_dict(sd)
    assert calls == ["pre", "loaded"] and opt2.param_groups[0]["lr"] == 0.1 and opt2.param_groups[0]["momentum"] == 0.9
    with pytest.raises(ValueError, match="all optimizer param groups should be with/without names"):
        opt2.add_param_group({"params": [ndgrad.ones(1, requires_grad=True)]})


# -- hooks, groups added later, zero_grad ---------------------------------------------------------------
def _hook_run(T):
    """What step hooks see and do (PyTorch passes the optimizer as args[0])."""
    p = T.ones(2, requires_grad=True)
    opt = T.optim.SGD([p], lr=0.1)
    seen = []

    def rec(tag):
        return lambda o, args, kwargs: seen.append([tag, o is opt, len(args), args[0] is opt, sorted(kwargs)])
    mod = importlib.import_module(T.__name__ + ".optim.optimizer")
    handles = [mod.register_optimizer_step_pre_hook(rec("global-pre")),
               mod.register_optimizer_step_post_hook(rec("global-post")),
               opt.register_step_pre_hook(rec("pre")), opt.register_step_post_hook(rec("post"))]
    try:
        p.grad = T.ones(2)
        opt.step()
        opt.step(closure=lambda: T.tensor(1.0))
        swap = opt.register_step_pre_hook(lambda o, args, kwargs: ((args[0], lambda: T.tensor(7.0)), {}))
        seen.append(float(opt.step(lambda: T.tensor(1.0))))
        swap.remove()
        bad = opt.register_step_pre_hook(lambda o, args, kwargs: 3)
        try:
            opt.step()
        except RuntimeError as e:
            seen.append(str(e).split(" must return")[0].startswith("<function") and "but got 3." in str(e))
        bad.remove()
    finally:
        for h in handles:
            h.remove()
    opt.step()
    seen.append(p.detach().numpy().copy())
    return seen


def test_step_hooks_match_torch(torch_ref):
    want = torch_ref("seen", _hook_run)
    got = _hook_run(ndgrad)
    np.testing.assert_allclose(got.pop(), want.pop(), rtol=1e-6)
    assert got == want


def _added_group_run(T, name):
    w = T.tensor(W0.copy(), requires_grad=True)
    m = T.tensor(M0.copy(), requires_grad=True)
    a, b = T.tensor(A), T.tensor(B_VEC)
    opt = getattr(T.optim, name)([w], **({"lr": 0.01} if name == "SGD" else {}))
    out = []
    for i in range(6):
        if i == 3:
            opt.add_param_group({"params": [m], "lr": 0.02})
        opt.zero_grad(set_to_none=i % 2 == 0)
        _loss(T, w, m, a, b).backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), m.detach().numpy().ravel()]))
    return np.array(out)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_add_param_group_mid_training_matches_torch(name, torch_ref):
    want = torch_ref("traj", lambda torch: _added_group_run(torch, name))
    np.testing.assert_allclose(_added_group_run(ndgrad, name), want, rtol=1e-10, atol=1e-13)


def test_adagrad_accumulator_init_matches_torch(torch_ref):
    # the constructor's initial_accumulator_value fills every sum (a group's own value is ignored), v + vj for
    # complex parameters
    def run(T):
        p, z = T.zeros(2, requires_grad=True), T.zeros(1, dtype=T.complex64, requires_grad=True)
        q = T.zeros(1, requires_grad=True)
        opt = T.optim.Adagrad([p, z], initial_accumulator_value=0.5)
        opt.add_param_group({"params": [q], "initial_accumulator_value": 2.0})
        q.grad = T.ones(1)
        opt.step()
        return [opt.state[p]["sum"], opt.state[z]["sum"], opt.state[q]["sum"]]
    for g, w in zip(run(ndgrad), torch_ref("sums", run)):
        assert g.numpy().dtype == w.dtype
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-6)


def _adafactor_3d(T):
    # a 3-d parameter: second moments factored over its last two dimensions, per leading index
    rng = np.random.default_rng(4)
    p = T.tensor(rng.standard_normal((2, 3, 4)), requires_grad=True)
    opt = T.optim.Adafactor([p], lr=0.1)
    out = []
    for _ in range(5):
        opt.zero_grad()
        ((p ** 3).sum() + (p * p.sum(0)).sum()).backward()
        opt.step()
        out.append(p.detach().numpy().copy())
    st = opt.state[p]
    return {"p": np.array(out), "row": st["row_var"].numpy(), "col": st["col_var"].numpy()}


def test_adafactor_3d_param_matches_torch(torch_ref):
    want = torch_ref("run", _adafactor_3d)
    got = _adafactor_3d(ndgrad)
    for k in want:
        assert got[k].shape == want[k].shape, k
        np.testing.assert_allclose(got[k], want[k], rtol=1e-10, err_msg=k)


def test_adafactor_rejects_complex_params(torch_ref):
    def run(T):
        z = T.zeros(2, dtype=T.complex64, requires_grad=True)
        z.grad = T.ones(2, dtype=T.complex64)
        return _error(lambda: T.optim.Adafactor([z]).step())
    assert run(ndgrad) == torch_ref("err", run)


def _custom_optimizer_run(T):
    """A user-defined optimizer (its own step, as tutorials write them): hooks run around it, state persists."""
    class SignSGD(T.optim.Optimizer):
        def __init__(self, params, lr=0.01):
            super().__init__(params, dict(lr=lr))

        @T.no_grad()
        def step(self, closure=None):
            for group in self.param_groups:
                for p in group["params"]:
                    if p.grad is not None:
                        st = self.state[p]
                        st["n"] = st.get("n", 0) + 1
                        p.add_(p.grad.sign(), alpha=-group["lr"])
            return None

    p = T.tensor(W0.copy(), requires_grad=True)
    opt = SignSGD([p], lr=0.1)
    seen = []
    opt.register_step_pre_hook(lambda o, args, kwargs: seen.append(len(args)))
    opt.register_step_post_hook(lambda o, args, kwargs: seen.append(-len(args)))
    for _ in range(3):
        opt.zero_grad()
        (p ** 3).sum().backward()
        opt.step()
    sd = opt.state_dict()
    return {"p": p.detach().numpy().copy(), "seen": seen, "state": sd["state"], "groups": sd["param_groups"],
            "repr": repr(opt)}


def test_user_defined_optimizer_matches_torch(torch_ref):
    want = torch_ref("run", _custom_optimizer_run)
    got = _custom_optimizer_run(ndgrad)
    np.testing.assert_allclose(got.pop("p"), want.pop("p"), rtol=1e-12)
    assert got == want


# -- Muon (2-d parameters only; Newton-Schulz in bfloat16) ----------------------------------------------------
def _muon_run(T, kw, dtype):
    rng = np.random.default_rng(0)
    w = T.tensor(rng.standard_normal((6, 4)), dtype=getattr(T, dtype), requires_grad=True)
    v = T.tensor(rng.standard_normal((3, 5)), dtype=getattr(T, dtype), requires_grad=True)   # wide: no transpose
    x = T.tensor(rng.standard_normal((8, 6)), dtype=getattr(T, dtype))
    opt = T.optim.Muon([w, v], **kw)
    out = []
    for _ in range(6):
        opt.zero_grad()
        ((x @ w).tanh().sum() + (v ** 3).sum()).backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), v.detach().numpy().ravel()]))
    return {"traj": np.array(out), "sd": _plain_state_dict(opt)}


MUON = [dict(lr=0.02), dict(lr=0.05, nesterov=False, weight_decay=0.0, momentum=0.5, adjust_lr_fn="match_rms_adamw",
                            ns_steps=3),
        dict(lr=Tens(0.03), adjust_lr_fn="original", eps=1e-3, ns_coefficients=(3.0, -3.2, 1.2))]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("kw", MUON, ids=_ids([("Muon", k) for k in MUON]))
def test_muon_matches_torch(kw, dtype, torch_ref):
    want = torch_ref("run", lambda torch: _muon_run(torch, _kw(torch, kw), dtype))
    got = _muon_run(ndgrad, _kw(ndgrad, kw), dtype)
    # the orthogonalisation rounds to bfloat16 after every op, as PyTorch's does, so float64 runs agree to the
    # last bits; float32 ones within an ulp (fused multiply-adds)
    tol = dict(rtol=1e-12, atol=1e-15) if dtype == "float64" else dict(rtol=0, atol=3e-7)
    np.testing.assert_allclose(got["traj"], want["traj"], **tol)
    assert got["sd"]["param_groups"] == want["sd"]["param_groups"] and got["sd"]["repr"] == want["sd"]["repr"]
    assert {i: list(s) for i, s in got["sd"]["state"].items()} == {0: ["momentum_buffer"], 1: ["momentum_buffer"]}
    np.testing.assert_allclose(got["sd"]["state"][1]["momentum_buffer"], want["sd"]["state"][1]["momentum_buffer"],
                               **tol)


def test_muon_errors_match_torch(torch_ref):
    def run(T):
        m, z = T.ones(2, 2, requires_grad=True), T.ones(2, 2, dtype=T.complex64, requires_grad=True)
        z.grad = T.ones(2, 2, dtype=T.complex64)
        out = [_error(lambda kw=kw: T.optim.Muon([m], **kw)) for kw in
               (dict(lr=-1), dict(momentum=-0.5), dict(weight_decay=-1), dict(adjust_lr_fn="foo"))]
        out.append(_error(lambda: T.optim.Muon([m, T.ones(3, requires_grad=True)])))
        out.append(_error(lambda: T.optim.Muon([z]).step()))
        m.grad = T.ones(2, 2)
        out.append(_error(lambda: T.optim.Muon([m], ns_steps=100).step()))
        return out
    got, want = run(ndgrad), torch_ref("errs", run)
    got[4][1] = got[4][1].replace("ndgrad.Size", "torch.Size")
    assert got == want


# -- sparse gradients (SGD, Adagrad and SparseAdam take them; the others refuse them) ---------------------------
SP_ROWS = [[0, 2, 0, 5], [3, 3, 1], [5, 4, 2, 0, 4], [1], [2, 5]]   # repeated rows: an uncoalesced gradient
SP_W0 = np.random.default_rng(6).standard_normal((6, 3))


def _sparse_run(T, name, kw):
    p = T.tensor(SP_W0.copy(), requires_grad=True)
    opt = getattr(T.optim, name)([p], **kw)
    out = []
    for i in range(10):
        rows = SP_ROWS[i % len(SP_ROWS)]
        vals = np.cos(np.arange(len(rows) * 3).reshape(len(rows), 3) + i) + 0.1 * SP_W0[rows]
        p.grad = T.sparse_coo_tensor([rows], T.tensor(vals), (6, 3))
        opt.step()
        out.append(p.detach().numpy().copy())
    state = {k: ([bool(v.is_sparse), v.to_dense().numpy()] if hasattr(v, "is_sparse") else v)
             for k, v in opt.state[p].items()}
    return {"traj": np.array(out), "state": state}


SPARSE = [("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, maximize=True)), ("SGD", dict(lr=0.1, momentum=0.9)),
          ("SGD", dict(lr=0.1, momentum=0.8, dampening=0.3)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
          ("Adagrad", dict(lr=0.5)), ("Adagrad", dict(lr=0.5, lr_decay=0.1, eps=1e-3, maximize=True)),
          ("Adagrad", dict(lr=0.5, initial_accumulator_value=0.2)),
          ("SparseAdam", dict()), ("SparseAdam", dict(lr=0.05, betas=(0.5, 0.8), eps=1e-4, maximize=True))]


@pytest.mark.parametrize("name,kw", SPARSE, ids=_ids(SPARSE))
def test_sparse_gradients_match_torch(name, kw, torch_ref):
    want = torch_ref("run", lambda torch: _sparse_run(torch, name, kw))
    got = _sparse_run(ndgrad, name, kw)
    np.testing.assert_allclose(got["traj"], want["traj"], rtol=1e-12, atol=1e-15)
    assert list(got["state"]) == list(want["state"])
    for k, v in want["state"].items():
        if isinstance(v, list):   # [is_sparse, dense values]: SGD's momentum buffer stays sparse
            assert got["state"][k][0] == v[0], k
            np.testing.assert_allclose(got["state"][k][1], v[1], rtol=1e-12, atol=1e-15, err_msg=k)
        else:
            assert got["state"][k] == v, k   # SparseAdam's step is a Python int


def _sparse_errors(T):
    def run(name, kw, dense=False):
        p = T.zeros(4, 2, requires_grad=True)
        p.grad = T.ones(4, 2) if dense else T.sparse_coo_tensor([[0, 2]], T.ones(2, 2), (4, 2))
        return _error(lambda: getattr(T.optim, name)([p], **kw).step())
    out = [run(n, {}) for n in ("Adam", "AdamW", "RMSprop", "Adadelta", "Adamax", "NAdam", "RAdam", "ASGD", "Rprop",
                               "Adafactor")]
    out += [run("SGD", dict(lr=0.1, weight_decay=0.1)), run("Adagrad", dict(weight_decay=0.1)),
            run("SparseAdam", {}, dense=True)]
    p = T.zeros(2, requires_grad=True)
    out += [_error(lambda: T.optim.SparseAdam([p], lr=0)), _error(lambda: T.optim.SparseAdam([p], eps=0.0)),
            _error(lambda: T.optim.SparseAdam([p], betas=(0.9, 1.0))),
            _error(lambda: T.optim.SparseAdam([p, T.zeros(2, dtype=T.complex64, requires_grad=True)]))]
    return out


def test_sparse_gradient_errors_match_torch(torch_ref):
    assert _sparse_errors(ndgrad) == torch_ref("errors", _sparse_errors)
