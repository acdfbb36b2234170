"""SyncBatchNorm in one process (no process group): batch normalization as PyTorch's, and
convert_sync_batchnorm. The synchronized path runs under mpiexec in tests/distributed/jobs/ddp.py."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from tests._refs import outcome

X = np.random.default_rng(0).normal(size=(4, 3, 5)).astype(np.float64)
W = np.array([1.5, -0.5, 2.0])
B = np.array([0.1, 0.2, -0.3])


def _run(lib: Any, x: np.ndarray) -> tuple:
    """Two training steps and one eval step of a SyncBatchNorm with set weights: outputs, input and weight
    gradients, running statistics."""
    m = lib.nn.SyncBatchNorm(3, momentum=None).double()
    with lib.no_grad():
        m.weight.copy_(lib.from_numpy(W))
        m.bias.copy_(lib.from_numpy(B))
    t = lib.from_numpy(x.copy()).requires_grad_()
    y = m(t)
    (y * lib.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
    m(t * 2)
    m.eval()
    return (y.detach(), t.grad, m.weight.grad, m.bias.grad, m.running_mean, m.running_var,
            m.num_batches_tracked, m(t).detach(), repr(m))


def test_without_process_group_is_batch_norm(torch_ref: Any) -> None:
    want = torch_ref("run", lambda torch: _run(torch, X))
    got = _run(ndgrad, X)
    for g, w in zip(got[:-1], want[:-1]):
        np.testing.assert_allclose(np.asarray(g.numpy() if isinstance(g, ndgrad.Tensor) else g), w, rtol=1e-12,
                                   atol=1e-12)
    assert got[-1] == want[-1]


def test_convert_shares_parameters_and_buffers(torch_ref: Any) -> None:
    def build(lib: Any) -> Any:
        lib.manual_seed(0)
        inner = lib.nn.Sequential(lib.nn.Linear(2, 3), lib.nn.BatchNorm1d(3, affine=False))
        return lib.nn.Sequential(lib.nn.Conv2d(1, 2, 1), lib.nn.BatchNorm2d(2).eval(), inner, lib.nn.ReLU())

    def convert(lib: Any) -> Any:
        model = build(lib)
        bn = model[1]
        out = lib.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        return (repr(out), out is model, out[1].weight is bn.weight, out[1].running_var is bn.running_var,
                out[1].training, [type(m).__name__ for m in out.modules()])

    assert convert(ndgrad) == torch_ref("convert", convert)
    single = ndgrad.nn.BatchNorm3d(2)
    converted = ndgrad.nn.SyncBatchNorm.convert_sync_batchnorm(single)
    assert converted is not single and converted.weight is single.weight
    assert isinstance(single, ndgrad.nn.modules.batchnorm._BatchNorm)


@pytest.mark.parametrize("shape", [(3,), (2, 0, 4)])
def test_errors(torch_ref: Any, shape: tuple) -> None:
    def err(lib: Any) -> tuple:
        return outcome(lambda: lib.nn.SyncBatchNorm(shape[1] if len(shape) > 1 else 3)(lib.zeros(shape)))
    assert err(ndgrad) == torch_ref("error", err)
