"""nn.DataParallel on the CPU: a wrapper that forwards to its module, as PyTorch's CPU build behaves."""
from __future__ import annotations

import numpy as np
import pytest

import ndgrad
from ndgrad import nn


def _weights() -> tuple:
    rng = np.random.default_rng(0)
    return rng.standard_normal((3, 2)).astype(np.float32), rng.standard_normal(3).astype(np.float32)


def test_data_parallel_wraps_and_forwards(torch_ref):
    w, b = _weights()
    x = np.arange(4, dtype=np.float32).reshape(2, 2)

    def build(torch):
        lin = torch.nn.Linear(2, 3)
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(w))
            lin.bias.copy_(torch.tensor(b))
        return lin, torch.nn.DataParallel(lin)

    def ref(torch):
        lin, dp = build(torch)
        out = dp(torch.tensor(x))
        out.sum().backward()
        return {"out": out, "keys": list(dp.state_dict()), "names": [n for n, _ in dp.named_parameters()],
                "ids": dp.device_ids, "repr": repr(dp), "grad": lin.weight.grad, "same": dp.module is lin}

    want = torch_ref("dp", ref)
    lin, dp = build(ndgrad)
    assert nn.parallel.DataParallel is nn.DataParallel
    out = dp(ndgrad.tensor(x))
    out.sum().backward()
    np.testing.assert_allclose(out.detach().numpy(), want["out"], rtol=1e-6)
    np.testing.assert_allclose(lin.weight.grad.numpy(), want["grad"], rtol=1e-6)
    assert list(dp.state_dict()) == want["keys"] == ["module.weight", "module.bias"]
    assert [n for n, _ in dp.named_parameters()] == want["names"]
    assert dp.device_ids == want["ids"]
    assert repr(dp) == want["repr"]
    assert (dp.module is lin) == want["same"]


def test_data_parallel_state_dict_round_trip_and_keywords():
    lin = nn.Linear(2, 3)
    dp = nn.DataParallel(lin, device_ids=[0])
    assert dp.device_ids == []  # PyTorch's CPU build keeps none
    other = nn.DataParallel(nn.Linear(2, 3))
    other.load_state_dict(dp.state_dict())
    np.testing.assert_array_equal(other.module.weight.detach().numpy(), lin.weight.detach().numpy())
    with pytest.raises(RuntimeError, match='Unexpected key\\(s\\) in state_dict: "module.weight"'):
        nn.Linear(2, 3).load_state_dict(dp.state_dict())

    class Kw(nn.Module):
        def forward(self, x, scale=1.0):
            return x * scale
    assert float(nn.DataParallel(Kw())(ndgrad.tensor(2.0), scale=3.0)) == 6.0


def test_functional_data_parallel_needs_a_gpu(torch_ref):
    msg = torch_ref("msg", lambda torch: _err(lambda: torch.nn.parallel.data_parallel(
        torch.nn.Linear(2, 2), torch.ones(1, 2))))
    assert _err(lambda: nn.parallel.data_parallel(nn.Linear(2, 2), ndgrad.ones(1, 2))) == msg


def _err(fn) -> str:
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the message is the value compared
        return f"{type(e).__name__}: {e}"
    return "no error"
