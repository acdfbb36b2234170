"""Convolution/pooling kernels reuse scratch buffers between calls: results must not depend
on what else is alive or running (interleaved graphs, threads), and the exact-tiling
average-pool path must be differentiable twice."""
from __future__ import annotations

import threading

import numpy as np

import ndgrad
import ndgrad.nn.functional as F
from ndgrad.autograd import gradcheck, gradgradcheck


def _r(*shape: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def _lenet_grads(x: np.ndarray, ws: list) -> list:
    """Two convolutions (padded-row and window im2col paths) with pooling; input and weight grads."""
    xt = ndgrad.tensor(x, requires_grad=True)
    params = [ndgrad.tensor(w, requires_grad=True) for w in ws]
    h = F.avg_pool2d(ndgrad.sigmoid(F.conv2d(xt, params[0], params[1], padding=2)), 2)
    h = F.avg_pool2d(ndgrad.sigmoid(F.conv2d(h, params[2], params[3])), 2)
    return [xt, params, (h * h).sum()]


def _weights(seed: int) -> list:
    return [_r(6, 1, 5, 5, seed=seed), _r(6, seed=seed + 1), _r(16, 6, 5, 5, seed=seed + 2), _r(16, seed=seed + 3)]


def _alone(x: np.ndarray, ws: list) -> list:
    xt, params, loss = _lenet_grads(x, ws)
    loss.backward()
    return [xt.grad.numpy().copy()] + [p.grad.numpy().copy() for p in params]


def test_interleaved_graphs_do_not_share_buffers() -> None:
    xa, xb = _r(4, 1, 28, 28, seed=1), _r(4, 1, 28, 28, seed=2)
    wa, wb = _weights(10), _weights(20)
    ref_a, ref_b = _alone(xa, wa), _alone(xb, wb)
    ga, gb = _lenet_grads(xa, wa), _lenet_grads(xb, wb)  # both graphs alive at once
    gb[2].backward()
    ga[2].backward()
    for (xt, params, _), ref in ((ga, ref_a), (gb, ref_b)):
        got = [xt.grad.numpy()] + [p.grad.numpy() for p in params]
        for g, r in zip(got, ref):
            np.testing.assert_array_equal(g, r)


def test_threads_get_their_own_buffers() -> None:
    xs = [_r(8, 1, 28, 28, seed=s) for s in range(4)]
    ws = _weights(5)
    ref = [_alone(x, ws) for x in xs]
    out: dict = {}

    def work(i: int) -> None:
        for _ in range(3):
            out[i] = _alone(xs[i], ws)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    for i in range(4):
        for g, r in zip(out[i], ref[i]):
            np.testing.assert_array_equal(g, r)


def test_avg_pool_exact_tiling_double_backward() -> None:
    rng = np.random.default_rng(3)
    x = ndgrad.tensor(rng.standard_normal((2, 3, 6, 4)), requires_grad=True)
    assert gradcheck(lambda x: F.avg_pool2d(x, 2), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, 2), (x,))
    assert gradgradcheck(lambda x: F.avg_pool2d(x, (3, 2), divisor_override=5), (x,))
    x1 = ndgrad.tensor(rng.standard_normal((2, 3, 9)), requires_grad=True)
    assert gradgradcheck(lambda x: F.avg_pool1d(x, 3), (x1,))


def test_avg_pool_exact_tiling_values() -> None:
    x = ndgrad.tensor(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), requires_grad=True)
    y = F.avg_pool2d(x, 2)
    np.testing.assert_array_equal(y.detach().numpy(), [[[[2.5, 4.5], [10.5, 12.5]]]])
    y.backward(ndgrad.tensor(np.array([[[[1.0, 2.0], [3.0, 4.0]]]], dtype=np.float32)))
    np.testing.assert_array_equal(x.grad.numpy()[0, 0], np.kron([[1.0, 2.0], [3.0, 4.0]], np.ones((2, 2))) / 4)
