"""ndgrad.optim.lr_scheduler: lr sequences against PyTorch (live, or recorded in tests/references/ without torch)
and literal values, state_dict, errors."""
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad import optim
from ndgrad.optim import lr_scheduler as L


def _run(T, O, make, n=40, metrics=None, opt="SGD", okw=None):
    """lr (and momentum / beta1) of two param groups after construction and after each of n steps."""
    ps = [T.zeros(2, requires_grad=True), T.zeros(3, requires_grad=True)]
    o = getattr(O, opt)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.5}], **(okw or dict(lr=0.1, momentum=0.9)))
    s = make(O.lr_scheduler, o)

    def row():
        mom = [g["momentum"] if "momentum" in g else g["betas"][0] for g in o.param_groups]
        return list(s.get_last_lr()) + [g["lr"] for g in o.param_groups] + mom
    out = [row()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(n):
            o.step()
            s.step(metrics[i]) if metrics is not None else s.step()
            out.append(row())
    return np.array(out, dtype=float)


SCHEDULERS = {
    "LambdaLR": lambda S, o: S.LambdaLR(o, lambda e: 0.95 ** e),
    "LambdaLR-list": lambda S, o: S.LambdaLR(o, [lambda e: 1 / (e + 1), lambda e: 0.9 ** e]),
    "MultiplicativeLR": lambda S, o: S.MultiplicativeLR(o, lambda e: 0.95),
    "StepLR": lambda S, o: S.StepLR(o, 7, 0.5),
    "MultiStepLR": lambda S, o: S.MultiStepLR(o, [3, 10, 10, 25], 0.3),
    "ConstantLR": lambda S, o: S.ConstantLR(o, 0.3, 6),
    "LinearLR": lambda S, o: S.LinearLR(o, 0.2, 0.9, 12),
    "ExponentialLR": lambda S, o: S.ExponentialLR(o, 0.9),
    "PolynomialLR": lambda S, o: S.PolynomialLR(o, 20, 2.0),
    "CosineAnnealingLR": lambda S, o: S.CosineAnnealingLR(o, 10, 0.001),
    "CosineAnnealingLR-odd": lambda S, o: S.CosineAnnealingLR(o, 7),
    "OneCycleLR": lambda S, o: S.OneCycleLR(o, [1.0, 2.0], total_steps=41),
    "OneCycleLR-3phase-linear": lambda S, o: S.OneCycleLR(o, 1.0, epochs=5, steps_per_epoch=9, three_phase=True,
                                                          anneal_strategy="linear", pct_start=0.25),
    "OneCycleLR-nomom": lambda S, o: S.OneCycleLR(o, 0.8, total_steps=50, cycle_momentum=False, div_factor=10.0,
                                                  final_div_factor=100.0),
    "SequentialLR": lambda S, o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 5), S.CosineAnnealingLR(o, 20, 0.01),
                                                    S.ExponentialLR(o, 0.9)], [5, 25]),
    "ChainedScheduler": lambda S, o: S.ChainedScheduler([S.ConstantLR(o, 0.5, 4), S.ExponentialLR(o, 0.95)]),
    "CyclicLR": lambda S, o: S.CyclicLR(o, 0.01, [0.1, 0.2], step_size_up=4, step_size_down=6),
    "CyclicLR-triangular2": lambda S, o: S.CyclicLR(o, [0.01, 0.02], 0.1, step_size_up=5, mode="triangular2"),
    "CyclicLR-exp_range": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.97,
                                                  base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-scale_fn": lambda S, o: S.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_fn=lambda x: 0.9 ** x,
                                                 scale_mode="iterations", cycle_momentum=False),
    "CosineAnnealingWarmRestarts": lambda S, o: S.CosineAnnealingWarmRestarts(o, 5, 2, 0.01),
    "CosineAnnealingWarmRestarts-1": lambda S, o: S.CosineAnnealingWarmRestarts(o, 6),
}


@pytest.mark.parametrize("key", list(SCHEDULERS))
def test_lr_sequence_matches_torch(key, torch_ref):
    ref = torch_ref("lrs", lambda torch: _run(torch, torch.optim, SCHEDULERS[key]))
    got = _run(ndgrad, optim, SCHEDULERS[key])
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)
    assert len(np.unique(ref[:, 0])) >= 2


@pytest.mark.parametrize("key", ["OneCycleLR", "CyclicLR-exp_range"])
def test_momentum_cycling_with_adam_betas_matches_torch(key, torch_ref):
    make = SCHEDULERS[key]
    ref = torch_ref("lrs", lambda torch: _run(torch, torch.optim, make, opt="Adam", okw=dict(lr=0.1)))
    got = _run(ndgrad, optim, make, opt="Adam", okw=dict(lr=0.1))
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)


METRIC = list(np.r_[np.linspace(1, 0.5, 10), np.full(20, 0.5), np.linspace(0.5, 0.4, 10)])
PLATEAU = [dict(), dict(patience=3, factor=0.5), dict(mode="max", factor=0.5, patience=2, threshold=0.01,
                                                      threshold_mode="abs", cooldown=3, min_lr=[0.01, 0.2]),
           dict(patience=1, threshold=0.05, threshold_mode="rel", cooldown=2, eps=0.02)]


@pytest.mark.parametrize("kw", PLATEAU)
def test_reduce_on_plateau_matches_torch(kw, torch_ref):
    metrics = METRIC if kw.get("mode") != "max" else [-m for m in METRIC]

    def make(S, o):
        return S.ReduceLROnPlateau(o, **kw)
    ref = torch_ref("lrs", lambda torch: _run(torch, torch.optim, make, metrics=metrics))
    got = _run(ndgrad, optim, make, metrics=metrics)
    np.testing.assert_allclose(got, ref, rtol=1e-13, atol=1e-15)


def test_closed_form_with_epoch_matches_torch(torch_ref):

    def seq(T, O):
        p = T.zeros(1, requires_grad=True)
        o = O.SGD([p], lr=0.1)
        scheds = [O.lr_scheduler.StepLR(o, 3), O.lr_scheduler.CosineAnnealingLR(o, 10)]
        out = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for s in scheds:
                for e in (4, 2, 9, 15):
                    s.step(e)
                    out.append(s.get_last_lr()[0])
        w = O.lr_scheduler.CosineAnnealingWarmRestarts(o, 3, 2)
        for e in (0.5, 4, 10.25, 2):
            w.step(e)
            out.append(w.get_last_lr()[0])
        return out
    np.testing.assert_allclose(seq(ndgrad, optim), torch_ref("lrs", lambda torch: seq(torch, torch.optim)), rtol=1e-13)


# -- recorded from PyTorch 2.13 (run without torch) ----------------------------------------------------
def _record(make, n=12):
    p = ndgrad.zeros(1, requires_grad=True)
    o = optim.SGD([p], lr=0.1, momentum=0.9)
    s = make(o)
    out = [s.get_last_lr()[0]]
    for _ in range(n):
        o.step()
        s.step()
        out.append(s.get_last_lr()[0])
    return out, o.param_groups[0]["momentum"]


def test_recorded_cosine_annealing():
    lrs, _ = _record(lambda o: L.CosineAnnealingLR(o, 5, 0.01))
    assert lrs == [0.1, 0.09140576474687263, 0.06890576474687263, 0.04109423525312736, 0.018594235253127367, 0.01,
                   0.018594235253127367, 0.04109423525312739, 0.06890576474687267, 0.09140576474687269,
                   0.10000000000000006, 0.09140576474687272, 0.06890576474687268]


def test_recorded_onecycle():
    lrs, mom = _record(lambda o: L.OneCycleLR(o, 1.0, total_steps=12))
    np.testing.assert_allclose(lrs, [
        0.040000000000000036, 0.3497896542195831, 0.8792851591221287, 0.9944154354509117, 0.9330129698414117,
        0.811745653949763, 0.6473789976951033, 0.46263710266697505, 0.28306099820869923, 0.1334775301888306,
        0.03456698742539522, 4e-06, 0.034566987425395164], rtol=1e-14)
    assert mom == pytest.approx(0.9465436874322102, rel=1e-14)


def test_recorded_linear_and_warm_restarts():
    lrs, _ = _record(lambda o: L.LinearLR(o, 0.25, 1.0, 4), n=6)
    assert lrs == [0.025, 0.043750000000000004, 0.06250000000000001, 0.08125000000000002, 0.10000000000000002,
                   0.10000000000000002, 0.10000000000000002]
    lrs, _ = _record(lambda o: L.CosineAnnealingWarmRestarts(o, 3, 2))
    np.testing.assert_allclose(lrs, [
        0.1, 0.07500000000000001, 0.025000000000000012, 0.1, 0.09330127018922195, 0.07500000000000001, 0.05,
        0.025000000000000012, 0.006698729810778065, 0.1, 0.09829629131445342, 0.09330127018922195,
        0.08535533905932738], rtol=1e-14)


def test_step_and_plateau_by_hand():
    lrs, _ = _record(lambda o: L.StepLR(o, 3, 0.5), n=7)
    np.testing.assert_allclose(lrs, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025], rtol=1e-15)
    p = ndgrad.zeros(1, requires_grad=True)
    o = optim.SGD([p], lr=1.0)
    s = L.ReduceLROnPlateau(o, patience=2, factor=0.5, cooldown=1)
    seen = []
    for m in [5, 4, 4, 4, 4, 4, 4, 4, 3]:
        s.step(m)
        seen.append(o.param_groups[0]["lr"])
    # improvement, then 3 bad epochs > patience -> halve; the cooldown epoch resets the count, so two more
    # bad epochs are not enough before the metric improves again (recorded from PyTorch)
    assert seen == [1.0, 1.0, 1.0, 1.0, 0.5, 0.5, 0.5, 0.5, 0.5]


# -- behaviour ------------------------------------------------------------------------------------
def test_initial_lr_and_base_lrs():
    p = ndgrad.zeros(1, requires_grad=True)
    o = optim.SGD([p], lr=0.3)
    s = L.ExponentialLR(o, 0.5)
    assert o.param_groups[0]["initial_lr"] == 0.3 and s.base_lrs == [0.3] and s.last_epoch == 0
    assert s._step_count == 1
    with pytest.raises(KeyError, match="initial_lr"):
        L.StepLR(optim.SGD([ndgrad.zeros(1, requires_grad=True)], lr=0.1), 2, last_epoch=3)


def test_state_dict_round_trip():
    def make(o):
        return L.SequentialLR(o, [L.LinearLR(o, 0.1, 1.0, 5), L.CosineAnnealingLR(o, 20, 0.01)], [5])

    p = ndgrad.zeros(1, requires_grad=True)
    o = optim.SGD([p], lr=0.1)
    s = make(o)
    full = []
    for _ in range(25):
        o.step()
        s.step()
        full.append(s.get_last_lr()[0])
    p2 = ndgrad.zeros(1, requires_grad=True)
    o2 = optim.SGD([p2], lr=0.1)
    s2 = make(o2)
    part = []
    for _ in range(10):
        o2.step()
        s2.step()
        part.append(s2.get_last_lr()[0])
    sd_s, sd_o = s2.state_dict(), o2.state_dict()
    assert "optimizer" not in sd_s and len(sd_s["_schedulers"]) == 2
    p3 = ndgrad.zeros(1, requires_grad=True)
    o3 = optim.SGD([p3], lr=0.1)
    s3 = make(o3)
    s3.load_state_dict(sd_s)
    o3.load_state_dict(sd_o)
    for _ in range(15):
        o3.step()
        s3.step()
        part.append(s3.get_last_lr()[0])
    assert part == full
    sd = L.StepLR(o3, 3).state_dict()
    assert set(sd) == {"step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_is_initial",
                       "_get_lr_called_within_step", "_last_lr"}


def test_warnings():
    p = ndgrad.zeros(1, requires_grad=True)
    o = optim.SGD([p], lr=0.1)
    s = L.StepLR(o, 2)
    with pytest.warns(UserWarning, match="before `optimizer.step\\(\\)`"):
        s.step()
    with pytest.warns(UserWarning, match="get_last_lr"):
        s.get_lr()
    o2 = optim.SGD([ndgrad.zeros(1, requires_grad=True)], lr=0.1)
    s2 = L.StepLR(o2, 2)
    o2.step()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        s2.step()


def test_errors():
    o = optim.SGD([ndgrad.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(TypeError, match="list is not an Optimizer"):
        L.StepLR([], 2)
    with pytest.raises(ValueError, match="Expected 1 lr_lambdas, but got 2"):
        L.LambdaLR(o, [lambda e: 1, lambda e: 1])
    with pytest.raises(ValueError, match="Factor should be < 1.0."):
        L.ReduceLROnPlateau(o, factor=1.0)
    with pytest.raises(ValueError, match="mode foo is unknown!"):
        L.ReduceLROnPlateau(o, mode="foo")
    with pytest.raises(ValueError, match="threshold mode bar is unknown!"):
        L.ReduceLROnPlateau(o, threshold_mode="bar")
    with pytest.raises(ValueError, match="expected 1 min_lrs, got 2"):
        L.ReduceLROnPlateau(o, min_lr=[0, 0])
    with pytest.raises(ValueError, match="You must define either total_steps OR"):
        L.OneCycleLR(o, 1.0)
    with pytest.raises(ValueError, match="Expected positive integer total_steps, but got 0"):
        L.OneCycleLR(o, 1.0, total_steps=0)
    with pytest.raises(ValueError, match="anneal_strategy must be one of 'cos' or 'linear'"):
        L.OneCycleLR(o, 1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="Expected float between 0 and 1 pct_start"):
        L.OneCycleLR(o, 1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="optimizer must support momentum or beta1"):
        L.OneCycleLR(optim.Adagrad([ndgrad.zeros(1, requires_grad=True)]), 1.0, total_steps=10)
    s = L.OneCycleLR(o, 1.0, total_steps=3)
    o.step()
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="Tried to step 4 times. The specified number of total steps is 3"):
        s.step()
    with pytest.raises(ValueError, match="Starting multiplicative factor"):
        L.LinearLR(o, start_factor=0)
    with pytest.raises(ValueError, match="Constant multiplicative factor expected to be between 0 and 1."):
        L.ConstantLR(o, factor=2)
    with pytest.raises(ValueError, match="Expected positive integer T_0, but got 0"):
        L.CosineAnnealingWarmRestarts(o, 0)
    with pytest.raises(ValueError, match="Expected integer T_mult >= 1, but got 0"):
        L.CosineAnnealingWarmRestarts(o, 2, 0)
    with pytest.raises(ValueError, match="number of schedulers 2 and the number of milestones to be equal to 0"):
        L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o, 3)], [])
    with pytest.raises(ValueError, match="does not support `ReduceLROnPlateau`"):
        L.SequentialLR(o, [L.ReduceLROnPlateau(o)], [])
    o2 = optim.SGD([ndgrad.zeros(1, requires_grad=True)], lr=0.1)
    with pytest.raises(ValueError, match="expects all schedulers to belong to the same optimizer"):
        L.SequentialLR(o, [L.StepLR(o, 2), L.StepLR(o2, 3)], [2])


# second param group's lr (base 0.5) after construction and 14 steps, recorded from PyTorch 2.13
RECORDED = {
    "MultiStepLR": [
        0.5, 0.5, 0.5, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.0135, 0.0135, 0.0135, 0.0135, 0.0135],
    "ExponentialLR": [
        0.5, 0.45, 0.405, 0.36450000000000005, 0.32805000000000006, 0.2952450000000001, 0.2657205000000001,
        0.23914845000000007, 0.21523360500000008, 0.19371024450000007, 0.17433922005000008, 0.15690529804500009,
        0.14121476824050008, 0.12709329141645007, 0.11438396227480506],
    "PolynomialLR": [
        0.5, 0.45125, 0.405, 0.36125, 0.32000000000000006, 0.28125000000000006, 0.245, 0.21125000000000005,
        0.18000000000000002, 0.15125000000000005, 0.12500000000000003, 0.10125, 0.08000000000000003,
        0.061250000000000006, 0.04500000000000002],
    "ConstantLR": [
        0.15, 0.15, 0.15, 0.15, 0.15, 0.15, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5],
    "SequentialLR": [
        0.05, 0.13999999999999999, 0.22999999999999995, 0.31999999999999995, 0.4099999999999999, 0.5,
        0.49698364344580875, 0.48800884649231263, 0.47329659842615013, 0.45320916362186214, 0.4282411613907041,
        0.39900738681165593, 0.366227672436189, 0.33070916362186215, 0.29332644393485663],
    "CyclicLR-triangular2": [
        0.02, 0.03600000000000002, 0.05199999999999999, 0.068, 0.08399999999999999, 0.1, 0.08399999999999999, 0.068,
        0.05199999999999999, 0.03600000000000002, 0.02, 0.028000000000000008, 0.03600000000000002,
        0.043999999999999984, 0.05199999999999999],
    "LambdaLR-list": [
        0.5, 0.45, 0.405, 0.36450000000000005, 0.32805, 0.29524500000000004, 0.2657205, 0.23914845000000004,
        0.21523360500000005, 0.19371024450000005, 0.17433922005000005, 0.15690529804500003, 0.14121476824050005,
        0.12709329141645004, 0.11438396227480505],
    "ChainedScheduler": [
        0.25, 0.2375, 0.225625, 0.21434374999999997, 0.40725312499999994, 0.38689046874999994, 0.3675459453124999,
        0.34916864804687486, 0.3317102156445311, 0.31512470486230454, 0.2993684696191893, 0.2844000461382298,
        0.2701800438313183, 0.25667104163975235, 0.24383748955776471],
}


@pytest.mark.parametrize("key", list(RECORDED))
def test_recorded_sequences(key):
    got = _run(ndgrad, optim, SCHEDULERS[key], n=14)[:, 1]
    np.testing.assert_allclose(got, RECORDED[key], rtol=1e-14, atol=0)
