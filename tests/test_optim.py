"""ndgrad.optim: trajectories against PyTorch and NumPy references, state_dict, errors, in-place updates."""
import copy
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


def _loss(T, w, m, a, b):
    # least squares in w plus a coupled quadratic in m: gradients differ per coordinate and step
    return ((a @ w - b) ** 2).sum() + (m ** 2).sum() * 0.5 + (m.sum(1) * w).sum()


def _trajectory(T, optim_mod, name, kw, steps=20, dtype=None, start=0, state=None, groups=False):
    dtype = dtype or T.float64
    w = T.tensor(W0.copy(), dtype=dtype, requires_grad=True)
    m = T.tensor(M0.copy(), dtype=dtype, requires_grad=True)
    a, b = T.tensor(A, dtype=dtype), T.tensor(B_VEC, dtype=dtype)
    params = [{"params": [w]}, {"params": [m], "lr": kw.get("lr", 0.01) * 0.5}] if groups else [w, m]
    opt = getattr(optim_mod, name)(params, **kw)
    out = []
    for _ in range(steps):
        opt.zero_grad()
        _loss(T, w, m, a, b).backward()
        opt.step()
        out.append(np.concatenate([w.detach().numpy().ravel(), m.detach().numpy().ravel()]))
    return np.array(out), opt, (w, m)


CASES = [
    ("SGD", dict(lr=0.01)),
    ("SGD", dict(lr=0.01, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.9)),
    ("SGD", dict(lr=0.01, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.01, momentum=0.9, nesterov=True, weight_decay=0.1)),
    ("SGD", dict(lr=0.01, momentum=0.5, maximize=True)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, betas=(0.3, 0.8), eps=1e-3)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1, decoupled_weight_decay=True)),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3, amsgrad=True)),
    ("AdamW", dict(lr=0.05, betas=(0.6, 0.9), maximize=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, eps=1e-4, weight_decay=0.1)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.1, maximize=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5, eps=1e-5, maximize=True)),
]


@pytest.mark.parametrize("name,kw", CASES, ids=[f"{n}-{'-'.join(k)}" for n, k in CASES])
def test_trajectory_matches_torch(name, kw):
    torch = pytest.importorskip("torch")
    ref, _, _ = _trajectory(torch, torch.optim, name, kw)
    got, _, _ = _trajectory(ndgrad, optim, name, kw)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-12)
    assert np.abs(ref[-1] - ref[0]).max() > 1e-3  # the problem really moves


@pytest.mark.parametrize("name,kw", CASES[2::3], ids=[f"{n}-{'-'.join(k)}" for n, k in CASES[2::3]])
def test_float32_trajectory_close_to_torch(name, kw):
    torch = pytest.importorskip("torch")
    ref, _, _ = _trajectory(torch, torch.optim, name, kw, dtype=torch.float32)
    got, _, _ = _trajectory(ndgrad, optim, name, kw, dtype=ndgrad.float32)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref, rtol=0, atol=2e-6 * np.abs(ref).max())


@pytest.mark.parametrize("name,kw", [c for c in CASES if c[0] in ("SGD", "Adam", "RMSprop")][::2])
def test_param_groups_match_torch(name, kw):
    torch = pytest.importorskip("torch")
    ref, _, _ = _trajectory(torch, torch.optim, name, kw, steps=8, groups=True)
    got, _, _ = _trajectory(ndgrad, optim, name, kw, steps=8, groups=True)
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-12)


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_state_dict_matches_torch(name):
    torch = pytest.importorskip("torch")
    kw = dict(lr=0.01, momentum=0.9, centered=True) if name == "RMSprop" else \
        dict(lr=0.01, momentum=0.9) if name == "SGD" else dict(lr=0.01)
    _, topt, _ = _trajectory(torch, torch.optim, name, kw, steps=3)
    _, nopt, _ = _trajectory(ndgrad, optim, name, kw, steps=3)
    tsd, nsd = topt.state_dict(), nopt.state_dict()
    assert nsd["param_groups"] == tsd["param_groups"]
    assert list(nsd["state"]) == list(tsd["state"])
    for i in tsd["state"]:
        assert list(nsd["state"][i]) == list(tsd["state"][i])
        for k, v in tsd["state"][i].items():
            assert str(nsd["state"][i][k].dtype).split(".")[-1] == str(v.dtype).split(".")[-1]
            np.testing.assert_allclose(nsd["state"][i][k].numpy(), v.numpy(), rtol=1e-6)
    assert repr(nopt) == repr(topt)


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
@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.01, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.05, amsgrad=True)), ("AdamW", dict(lr=0.05)),
                                     ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True)),
                                     ("Adagrad", dict(lr=0.1, lr_decay=0.01))])
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
@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_float32_in_place_and_version(name):
    kw = dict(lr=0.01, momentum=0.9, weight_decay=0.1) if name in ("SGD", "RMSprop") else dict(lr=0.01,
                                                                                               weight_decay=0.1)
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


@pytest.mark.parametrize("ctor,msg", [
    (lambda p: optim.SGD(p, lr=-1), "Invalid learning rate: -1"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=-0.5), "Invalid momentum value: -0.5"),
    (lambda p: optim.SGD(p, lr=0.1, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.SGD(p, lr=0.1, nesterov=True), "Nesterov momentum requires a momentum and zero dampening"),
    (lambda p: optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, nesterov=True), "Nesterov momentum requires"),
    (lambda p: optim.Adam(p, eps=-1), "Invalid epsilon value: -1"),
    (lambda p: optim.Adam(p, betas=(1.0, 0.9)), "Invalid beta parameter at index 0: 1.0"),
    (lambda p: optim.AdamW(p, betas=(0.9, -0.1)), "Invalid beta parameter at index 1: -0.1"),
    (lambda p: optim.AdamW(p, weight_decay=-1), "Invalid weight_decay value: -1"),
    (lambda p: optim.RMSprop(p, alpha=-1), "Invalid alpha value: -1"),
    (lambda p: optim.RMSprop(p, momentum=-1), "Invalid momentum value: -1"),
    (lambda p: optim.Adagrad(p, lr_decay=-1), "Invalid lr_decay value: -1"),
    (lambda p: optim.Adagrad(p, initial_accumulator_value=-1), "Invalid initial_accumulator_value value: -1"),
])
def test_invalid_hyperparameters(ctor, msg):
    with pytest.raises(ValueError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        ctor([ndgrad.ones(1, requires_grad=True)])


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


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.01, momentum=0.9)), ("Adam", dict(lr=0.05, amsgrad=True)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1))])
def test_continue_from_torch_state_dict(name, kw):
    torch = pytest.importorskip("torch")
    full, _, _ = _trajectory(torch, torch.optim, name, kw, steps=12)
    _, topt, (tw, tm) = _trajectory(torch, torch.optim, name, kw, steps=6)
    tsd = topt.state_dict()
    sd = {"param_groups": tsd["param_groups"],
          "state": {i: {k: ndgrad.tensor(v.numpy()) for k, v in st.items()} for i, st in tsd["state"].items()}}
    w = ndgrad.tensor(tw.detach().numpy().copy(), requires_grad=True)
    m = ndgrad.tensor(tm.detach().numpy().copy(), requires_grad=True)
    opt = getattr(optim, name)([w, m])
    opt.load_state_dict(sd)
    a, b = ndgrad.tensor(A), ndgrad.tensor(B_VEC)
    rest = []
    for _ in range(6):
        opt.zero_grad()
        _loss(ndgrad, w, m, a, b).backward()
        opt.step()
        rest.append(np.concatenate([w.detach().numpy().ravel(), m.detach().numpy().ravel()]))
    np.testing.assert_allclose(np.array(rest), full[6:], rtol=1e-5, atol=1e-12)


def test_works_with_nn_parameter():
    parameter = pytest.importorskip("ndgrad.nn.parameter")
    w = parameter.Parameter(ndgrad.tensor([1.0, 2.0]))
    opt = optim.AdamW([w], lr=0.1)
    (w ** 2).sum().backward()
    opt.step()
    assert isinstance(w, parameter.Parameter) and w.dtype == ndgrad.float32
    # decoupled decay then a unit Adam step of size lr against the gradient sign
    np.testing.assert_allclose(w.detach().numpy(), np.array([1.0, 2.0]) * (1 - 0.1 * 0.01) - 0.1, rtol=1e-5)


@pytest.mark.parametrize("name,kw", [("Adam", dict(lr=0.1, amsgrad=True)), ("AdamW", dict(lr=0.1)),
                                     ("RMSprop", dict(lr=0.01, centered=True, momentum=0.5)),
                                     ("Adagrad", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9))])
def test_complex_params_match_torch(name, kw):
    torch = pytest.importorskip("torch")
    z0 = np.array([1 + 2j, -0.5 + 0.3j, 0.2 - 1j], dtype=np.complex128)
    res = []
    for T, O in [(torch, torch.optim), (ndgrad, optim)]:
        z = T.tensor(z0.copy(), requires_grad=True)
        o = getattr(O, name)([z], **kw)
        for _ in range(5):
            z.grad = T.tensor(z.detach().numpy() * 0.7 - 0.1j)
            o.step()
        res.append(z.detach().numpy().copy())
    np.testing.assert_allclose(res[1], res[0], rtol=1e-10)


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
