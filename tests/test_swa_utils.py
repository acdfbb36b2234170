"""ndgrad.optim.swa_utils: AveragedModel (SWA and EMA), SWALR and update_bn against PyTorch (live, or recorded in
tests/references/ without torch)."""
import importlib

import numpy as np
import pytest

import ndgrad

RNG = np.random.default_rng(5)
X = RNG.standard_normal((6, 8, 3))   # 6 batches of 8 samples
Y = RNG.standard_normal((6, 8, 1))
WEIGHTS = {"0.weight": RNG.standard_normal((4, 3)), "0.bias": RNG.standard_normal(4),
           "3.weight": RNG.standard_normal((1, 4)), "3.bias": RNG.standard_normal(1)}


def _swa(T):
    return importlib.import_module(T.__name__ + ".optim.swa_utils")


def _model(T):
    net = T.nn.Sequential(T.nn.Linear(3, 4), T.nn.BatchNorm1d(4), T.nn.ReLU(), T.nn.Linear(4, 1)).double()
    with T.no_grad():
        for name, p in net.named_parameters():
            if name in WEIGHTS:
                p.copy_(T.tensor(WEIGHTS[name]))
    return net


def _plain(sd):
    return {k: v.detach().numpy().copy() for k, v in sd.items()}


AVERAGERS = {
    "swa": lambda S: dict(),
    "ema-multi-buffers": lambda S: dict(multi_avg_fn=S.get_ema_multi_avg_fn(0.9), use_buffers=True),
    "ema-avg_fn": lambda S: dict(avg_fn=S.get_ema_avg_fn(0.8)),
    "swa-multi": lambda S: dict(multi_avg_fn=S.get_swa_multi_avg_fn()),
    "swa-avg_fn-buffers": lambda S: dict(avg_fn=S.get_swa_avg_fn(), use_buffers=True),
}


def _train_and_average(T, key):
    S = _swa(T)
    net = _model(T)
    avg = S.AveragedModel(net, **AVERAGERS[key](S))
    opt = T.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    sched = S.SWALR(opt, swa_lr=0.05, anneal_epochs=3)
    lrs = []
    for x, y in zip(X, Y):
        opt.zero_grad()
        T.nn.functional.mse_loss(net(T.tensor(x)), T.tensor(y)).backward()
        opt.step()
        avg.update_parameters(net)
        sched.step()
        lrs.append(opt.param_groups[0]["lr"])
    avg.eval()
    out = avg(T.tensor(X[0])).detach().numpy().copy()
    return {"sd": _plain(avg.state_dict()), "out": out, "lrs": lrs, "repr": repr(avg)}


@pytest.mark.parametrize("key", list(AVERAGERS))
def test_averaged_model_matches_torch(key, torch_ref):
    want = torch_ref("run", lambda torch: _train_and_average(torch, key))
    got = _train_and_average(ndgrad, key)
    assert list(got["sd"]) == list(want["sd"])  # n_averaged first, then module.*
    for k, v in want["sd"].items():
        assert got["sd"][k].dtype == v.dtype, k
        np.testing.assert_allclose(got["sd"][k], v, rtol=1e-10, atol=1e-14, err_msg=k)
    assert int(got["sd"]["n_averaged"]) == len(X)
    np.testing.assert_allclose(got["out"], want["out"], rtol=1e-10)
    np.testing.assert_allclose(got["lrs"], want["lrs"], rtol=1e-14)
    assert got["repr"] == want["repr"]


SWALR_CASES = [dict(swa_lr=0.05), dict(swa_lr=[0.01, 0.2], anneal_epochs=4, anneal_strategy="linear"),
               dict(swa_lr=0.3, anneal_epochs=0)]


def _swalr_lrs(T, kw):
    ps = [T.zeros(1, requires_grad=True), T.zeros(1, requires_grad=True)]
    opt = T.optim.SGD([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.5}], lr=0.1)
    sched = _swa(T).SWALR(opt, **kw)
    out = [list(sched.get_last_lr())]
    for _ in range(14):
        opt.step()
        sched.step()
        out.append(list(sched.get_last_lr()))
    return np.array(out)


@pytest.mark.parametrize("kw", SWALR_CASES, ids=[str(k) for k in SWALR_CASES])
def test_swalr_matches_torch(kw, torch_ref):
    want = torch_ref("lrs", lambda torch: _swalr_lrs(torch, kw))
    np.testing.assert_allclose(_swalr_lrs(ndgrad, kw), want, rtol=1e-14, atol=1e-16)


def test_swalr_state_dict_round_trip():
    S = ndgrad.optim.swa_utils
    opt = ndgrad.optim.SGD([ndgrad.zeros(1, requires_grad=True)], lr=0.1)
    sched = S.SWALR(opt, swa_lr=0.01, anneal_epochs=5, anneal_strategy="linear")
    opt.step()
    sched.step()
    sd = sched.state_dict()
    assert "anneal_func" not in sd and "optimizer" not in sd and sd["_anneal_strategy"] == "linear"
    opt2 = ndgrad.optim.SGD([ndgrad.zeros(1, requires_grad=True)], lr=0.1)
    sched2 = S.SWALR(opt2, swa_lr=0.5)
    sched2.load_state_dict(sd)
    assert sched2.anneal_func(0.5) == 0.5 and sched2.anneal_epochs == 5


def _update_bn(T):
    net = _model(T)
    net[1].momentum = 0.3
    loader = [(T.tensor(x), T.tensor(y)) for x, y in zip(X[:3], Y[:3])] + [T.tensor(X[3])]
    net.eval()
    _swa(T).update_bn(loader, net)
    bn = net[1]
    return {"mean": bn.running_mean.numpy().copy(), "var": bn.running_var.numpy().copy(),
            "n": int(bn.num_batches_tracked), "momentum": bn.momentum, "training": net.training}


def test_update_bn_matches_torch(torch_ref):
    want = torch_ref("bn", lambda torch: _update_bn(torch))
    got = _update_bn(ndgrad)
    np.testing.assert_allclose(got.pop("mean"), want.pop("mean"), rtol=1e-12)
    np.testing.assert_allclose(got.pop("var"), want.pop("var"), rtol=1e-12)
    assert got == want == {"n": 4, "momentum": 0.3, "training": False}


def _errors(T):
    S = _swa(T)

    def err(fn):
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - the type and message are compared
            return [type(e).__name__, str(e)]
    opt = T.optim.SGD([T.zeros(1, requires_grad=True)], lr=0.1)
    # the multi-tensor SWA mean refuses integer buffers (BatchNorm's num_batches_tracked) with use_buffers=True
    net = _model(T)
    swa_bn = S.AveragedModel(net, multi_avg_fn=S.get_swa_multi_avg_fn(), use_buffers=True)
    swa_bn.update_parameters(net)
    return [err(lambda: swa_bn.update_parameters(net)), err(lambda: S.get_ema_avg_fn(1.5)),
            err(lambda: S.get_ema_multi_avg_fn(-0.1)),
            err(lambda: S.SWALR(opt, 0.1, anneal_strategy="exp")), err(lambda: S.SWALR(opt, 0.1, anneal_epochs=-1)),
            err(lambda: S.SWALR(opt, [0.1, 0.2])),
            err(lambda: S.AveragedModel(T.nn.Linear(1, 1), avg_fn=S.get_swa_avg_fn(),
                                        multi_avg_fn=S.get_swa_multi_avg_fn()))]


def test_errors_match_torch(torch_ref):
    assert _errors(ndgrad) == torch_ref("errors", _errors)
