"""torch.amp on the CPU: autocast regions (which ops run in bfloat16/float16, which in float32),
their nesting and switches, torch.cuda.amp without CUDA, and GradScaler's schedule."""
from __future__ import annotations

import warnings

import numpy as np
import pytest

import ndgrad

RNG = np.random.default_rng(0)
A = RNG.standard_normal((4, 4)).astype(np.float32)
IMG = RNG.standard_normal((1, 1, 5, 5)).astype(np.float32)
KER = RNG.standard_normal((1, 1, 3, 3)).astype(np.float32)

OPS = {
    "mm": "a @ b", "matmul": "L.matmul(a, b)", "bmm": "L.bmm(a[None], b[None])",
    "baddbmm": "L.baddbmm(a[None], a[None], b[None])", "addmm": "L.addmm(a, a, b)",
    "addbmm": "L.addbmm(a, a[None], b[None])", "linear": "F.linear(a, b)", "conv2d": "F.conv2d(i, w)",
    "conv_transpose2d": "F.conv_transpose2d(i, w)", "einsum": "L.einsum('ij,jk->ik', a, b)",
    "mv": "L.mv(a, b[0])", "dot": "L.dot(a[0], b[0])", "add": "a + b", "exp": "a.exp()", "softmax": "a.softmax(-1)",
    "sum": "a.sum()", "layer_norm": "F.layer_norm(a, (4,))", "mse": "F.mse_loss(a, b)",
    "ce": "F.cross_entropy(a, L.tensor([0, 1, 2, 3]))", "bf16_ce": "F.cross_entropy(h, L.tensor([0, 1, 2, 3]))",
    "bf16_exp": "h.exp()", "bf16_add_f32": "h + a", "bf16_mse": "F.mse_loss(h, h)", "bf16_l1": "F.l1_loss(h, h)",
    "bf16_mm_f32": "h @ a", "prod": "h.prod()", "cdist": "L.cdist(h, h)", "bf16_sum": "h.sum()",
    "sdpa": "F.scaled_dot_product_attention(a[None], a[None], a[None])", "prelu": "F.prelu(a, L.tensor([0.25]))",
    "f64_mm": "a.double() @ a.double()", "cat": "L.cat([a, h])", "bce_logits": "F.binary_cross_entropy_with_logits(h, "
    "h.sigmoid())",
}


def _dtypes(L, dtype_name: str | None) -> dict:
    env = {"L": L, "F": L.nn.functional, "a": L.tensor(A), "b": L.tensor(A.T.copy()), "i": L.tensor(IMG),
           "w": L.tensor(KER), "h": L.tensor(A).bfloat16()}
    out = {}
    ctx = L.autocast("cpu", dtype=getattr(L, dtype_name)) if dtype_name else None
    if ctx is not None:
        ctx.__enter__()
    try:
        for k, e in OPS.items():
            try:
                out[k] = str(eval(e, env).dtype).split(".")[-1]
            except (RuntimeError, NotImplementedError):  # mixed-dtype matmul, bfloat16 cdist: both refuse
                out[k] = "error"
    finally:
        if ctx is not None:
            ctx.__exit__(None, None, None)
    return out


@pytest.mark.parametrize("dtype_name", [None, "bfloat16", "float16"])
def test_op_dtypes_inside_and_outside_regions(torch_ref, dtype_name):
    assert _dtypes(ndgrad, dtype_name) == torch_ref("dtypes", lambda torch: _dtypes(torch, dtype_name))


def _state(L) -> list:
    a = L.tensor(A)
    out = [L.is_autocast_enabled("cpu"), str(L.get_autocast_dtype("cpu"))]

    @L.autocast("cpu")
    def deco(x):
        return [str((x @ x).dtype).split(".")[-1], L.is_autocast_enabled("cpu")]
    with L.autocast("cpu"):
        out += [L.is_autocast_enabled("cpu"), L.is_autocast_enabled(), str(L.get_autocast_dtype("cpu"))]
        with L.autocast("cpu", enabled=False):
            out += [str((a @ a).dtype), L.is_autocast_enabled("cpu")]
            with L.amp.autocast("cpu", dtype=L.float16):
                out += [str((a @ a).dtype), str(L.get_autocast_dtype("cpu"))]
        out += [str((a @ a).dtype), str(L.get_autocast_dtype("cpu"))]
    out += [str((a @ a).dtype), L.is_autocast_enabled("cpu"), *deco(a), str((a @ a).dtype)]
    return [o.replace("torch.", "") if isinstance(o, str) else o for o in out]


def test_nesting_enabled_false_and_decorator(torch_ref):
    got = [o.replace("ndgrad.", "") if isinstance(o, str) else o for o in _state(ndgrad)]
    assert got == torch_ref("state", _state)


def _warned(L, make) -> list:
    a = L.tensor(A)
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        ctx = make(L)
        with ctx:
            dt = str((a @ a).dtype).split(".")[-1]
    return [dt, L.is_autocast_enabled("cpu")] + [f"{x.category.__name__}: {x.message}" for x in w]


REGIONS = {
    "cuda_amp": lambda L: L.cuda.amp.autocast(),
    "autocast_cuda": lambda L: L.autocast("cuda"),
    "amp_autocast_cuda": lambda L: L.amp.autocast("cuda", dtype=L.bfloat16),
    "cpu_float32": lambda L: L.autocast("cpu", dtype=L.float32),
    "cpu_float64": lambda L: L.autocast("cpu", dtype=L.float64),
}


@pytest.mark.parametrize("name", list(REGIONS))
def test_regions_pytorch_disables_here(torch_ref, name):
    assert _warned(ndgrad, REGIONS[name]) == torch_ref("warned", lambda torch: _warned(torch, REGIONS[name]))


def test_bad_device_type_and_deprecated_queries(torch_ref):
    def run(L):
        out = []
        try:
            L.autocast("foo")
        except RuntimeError as e:
            out.append(str(e))
        with warnings.catch_warnings(record=True):
            warnings.simplefilter("always")
            out += [L.is_autocast_cpu_enabled(), str(L.get_autocast_cpu_dtype()).split(".")[-1]]
        out.append(str(L.autocast("cpu").fast_dtype).split(".")[-1])
        return out
    assert run(ndgrad) == torch_ref("out", run)


def test_gradients_under_autocast_reach_float32_params(torch_ref):
    def run(L):
        lin = L.nn.Linear(4, 3)
        with L.no_grad():
            lin.weight.copy_(L.tensor(A[:3]))
            lin.bias.fill_(0.5)
        x = L.tensor(A)
        with L.autocast("cpu"):
            out = lin(x)
            loss = L.nn.functional.cross_entropy(out, L.tensor([0, 1, 2, 0]))
        loss.backward()
        return [str(out.dtype), str(loss.dtype), str(lin.weight.grad.dtype), out.float(), loss, lin.weight.grad]
    got, want = run(ndgrad), torch_ref("run", run)
    assert [g.replace("ndgrad.", "torch.") for g in got[:3]] == want[:3]
    for g, w in zip(got[3:], want[3:]):
        np.testing.assert_allclose(g.detach().float().numpy(), w, rtol=2 ** -7, atol=1e-3)


def _scaler_run(L) -> list:
    s = L.amp.GradScaler("cpu", init_scale=2.0 ** 4, growth_interval=2)
    p = L.nn.Parameter(L.tensor([1.0, 2.0]))
    opt = L.optim.SGD([p], lr=0.1)
    rows = [s.get_scale(), s.state_dict()]
    for step in range(6):
        opt.zero_grad()
        loss = (p * p).sum() * (float("inf") if step == 3 else 1.0)
        scaled = s.scale(loss)
        scaled.backward()
        grad = p.grad.clone()
        ret = s.step(opt)
        s.update()
        rows.append([scaled.item(), grad, ret, p.detach().clone(), s.get_scale(), s._get_growth_tracker()])
    opt.zero_grad()
    s.scale((p * p).sum()).backward()
    s.unscale_(opt)
    rows.append(p.grad.clone())
    try:
        s.unscale_(opt)
    except RuntimeError as e:
        rows.append(str(e))
    s.step(opt)
    try:
        s.step(opt)
    except RuntimeError as e:
        rows.append(str(e))
    s.update(8.0)
    rows += [s.state_dict(), s.scale([L.tensor(2.0), (L.tensor(3.0),)])]
    fresh = L.amp.GradScaler("cpu")
    fresh.load_state_dict(s.state_dict())
    rows.append(fresh.get_scale())
    for bad in (lambda: L.amp.GradScaler("cpu").update(), lambda: L.amp.GradScaler("cpu").step(opt)):
        try:
            bad()
        except AssertionError as e:
            rows.append(str(e))
    return rows


def test_grad_scaler_trajectory_matches_pytorch(torch_ref):
    got, want = _scaler_run(ndgrad), torch_ref("rows", _scaler_run)
    assert got[:2] == want[:2]
    for g, w in zip(got[2:8], want[2:8]):
        assert g[0] == w[0] and g[2] == w[2] and g[4:] == w[4:]
        np.testing.assert_array_equal(g[1].numpy(), w[1])
        np.testing.assert_array_equal(g[3].numpy(), w[3])
    np.testing.assert_allclose(got[8].numpy(), want[8], rtol=1e-7)
    assert got[9:12] == want[9:12]
    assert [float(t) for t in [got[12][0], got[12][1][0]]] == [float(t) for t in [want[12][0], want[12][1][0]]]
    assert got[13:] == want[13:]


def test_grad_scalers_for_cuda_are_disabled(torch_ref):
    def run(L):
        out = []
        for make in (lambda: L.cuda.amp.GradScaler(), lambda: L.amp.GradScaler("cuda"), lambda: L.amp.GradScaler()):
            with warnings.catch_warnings(record=True) as w:
                warnings.simplefilter("always")
                s = make()
            p = L.nn.Parameter(L.tensor([1.0, 2.0]))
            opt = L.optim.SGD([p], lr=0.1)
            loss = (p * p).sum()
            scaled = s.scale(loss)
            scaled.backward()
            s.step(opt)
            s.update()
            out.append([[f"{x.category.__name__}: {x.message}" for x in w], s.is_enabled(), s.get_scale(),
                        s.state_dict(), scaled is loss, p.detach()])
        return out
    got, want = run(ndgrad), torch_ref("out", run)
    for g, w in zip(got, want):
        assert g[:5] == w[:5]
        np.testing.assert_allclose(g[5].numpy(), w[5])
    with pytest.raises(AssertionError, match="growth factor"):
        ndgrad.amp.GradScaler("cpu", growth_factor=0.5)


def test_mixed_precision_training_loop(torch_ref):
    def run(L):
        rng = np.random.default_rng(5)
        model = L.nn.Sequential(L.nn.Linear(4, 8), L.nn.ReLU(), L.nn.Linear(8, 3))
        with L.no_grad():
            for p in model.parameters():
                p.copy_(L.tensor(rng.standard_normal(tuple(p.shape)).astype(np.float32) * 0.5))
        opt = L.optim.SGD(model.parameters(), lr=0.05)
        scaler = L.amp.GradScaler("cpu", init_scale=256.0)
        x, y = L.tensor(A), L.tensor([0, 1, 2, 0])
        losses = []
        for _ in range(4):
            opt.zero_grad()
            with L.autocast("cpu", dtype=L.bfloat16):
                loss = L.nn.functional.cross_entropy(model(x), y)
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
            losses.append(loss.item())
        return [losses, model[0].weight.detach(), scaler.get_scale()]
    got, want = run(ndgrad), torch_ref("run", run)
    np.testing.assert_allclose(got[0], want[0], rtol=2 ** -6)
    np.testing.assert_allclose(got[1].numpy(), want[1], rtol=2 ** -6, atol=2e-3)
    assert got[2] == want[2]


def test_recurrent_layers_under_autocast(torch_ref):
    def run(L):
        out = []
        for cls in (L.nn.LSTM, L.nn.GRU, L.nn.RNN):
            m = cls(3, 4, num_layers=2, bidirectional=True)
            with L.autocast("cpu"):
                o, h = m(L.ones(5, 2, 3))
            out.append([str(t.dtype).split(".")[-1] for t in (o, *(h if isinstance(h, tuple) else (h,)))])
            o.float().sum().backward()
            out.append(str(m.weight_ih_l0.grad.dtype).split(".")[-1])
        with L.autocast("cpu"):
            out.append(str(L.nn.GRUCell(3, 4)(L.ones(2, 3)).dtype).split(".")[-1])
            out.append(str(L.nn.LSTMCell(3, 4)(L.ones(2, 3))[0].dtype).split(".")[-1])
        return out
    assert run(ndgrad) == torch_ref("dtypes", run)
