"""Engine quality: iterative traversal, freeing saved values, no reference cycles,
flat memory over many training steps, Node hooks, threads."""
from __future__ import annotations

import gc
import sys
import threading
import time
import tracemalloc
import weakref
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd.graph import Node

from _libs import LIBS, arr  # noqa: E402 (tests/autograd/_libs.py)



# ---------------------------------------------------------------------------
# iterative engine
# ---------------------------------------------------------------------------
def test_chain_of_100k_ops_backward() -> None:
    x = ndgrad.tensor([1.0, 2.0], dtype=ndgrad.float64, requires_grad=True)
    y = x
    for i in range(100_000):
        y = y * 1.00001 if i % 2 else y + 0.5
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # an engine that recursed per node would fail at once
    try:
        t0 = time.perf_counter()
        y.sum().backward()
        elapsed = time.perf_counter() - t0
    finally:
        sys.setrecursionlimit(limit)
    np.testing.assert_allclose(arr(x.grad), [1.00001 ** 50_000] * 2, rtol=1e-9)
    assert elapsed < 5.0, f"backward of 100k nodes took {elapsed:.1f}s"
    del y  # freeing a 100k-deep graph must not overflow the C stack either


def test_chain_autograd_grad_and_create_graph_deep() -> None:
    x = ndgrad.tensor([0.5], dtype=ndgrad.float64, requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    (g,) = ndgrad.autograd.grad(y.sum(), x)
    np.testing.assert_allclose(arr(g), [1.0001 ** 20_000], rtol=1e-9)
    z = x
    for _ in range(5_000):
        z = z * x.detach() + 0.0  # d z / d x stays a long chain
    z = z * x
    (g,) = ndgrad.autograd.grad(z.sum(), x, create_graph=True)
    (gg,) = ndgrad.autograd.grad(g.sum(), x)
    assert np.isfinite(arr(gg)).all()


def test_wide_graph() -> None:
    x = ndgrad.tensor([1.0, 2.0], dtype=ndgrad.float64, requires_grad=True)
    parts = [x * float(i) for i in range(5_000)]
    total = ndgrad.stack(parts).sum()
    total.backward()
    np.testing.assert_allclose(arr(x.grad), [sum(range(5_000))] * 2)


@pytest.mark.parametrize("M", LIBS)
def test_node_runs_once_after_all_dependants(M: Any) -> None:
    x = M.tensor([1.0], requires_grad=True)
    a = x * 2
    calls: list = []
    a.grad_fn.register_hook(lambda gi, go: calls.append(float(go[0])))
    b = a * 3
    c = a * b  # a reaches c directly and through b
    d = c + a.exp() * 0
    d.sum().backward()
    assert calls == [12.0]  # dc/da = b + 3a = 6 + 6, once
    np.testing.assert_allclose(arr(x.grad), [24.0])


@pytest.mark.parametrize("M", LIBS)
def test_node_hooks(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    seen: dict = {}

    def post(grad_inputs: tuple, grad_outputs: tuple) -> Any:
        seen["post"] = (arr(grad_inputs[0]).tolist(), arr(grad_outputs[0]).tolist())
        return (grad_inputs[0] * 2, grad_inputs[1])

    def pre(grad_outputs: tuple) -> Any:
        seen["pre"] = arr(grad_outputs[0]).tolist()
        return (grad_outputs[0] + 1,)

    assert y.grad_fn.metadata == {}
    y.grad_fn.metadata["tag"] = 1
    assert y.grad_fn.metadata == {"tag": 1}
    h1 = y.grad_fn.register_hook(post)
    h2 = y.grad_fn.register_prehook(pre)
    y.sum().backward(retain_graph=True)
    assert seen == {"pre": [1.0, 1.0], "post": ([6.0, 6.0], [2.0, 2.0])}
    np.testing.assert_array_equal(arr(x.grad), [12.0, 12.0])
    h1.remove()
    h2.remove()
    x.grad = None
    y.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [3.0, 3.0])


@pytest.mark.parametrize("M", LIBS)
def test_multiple_roots_share_graph(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    h = x.exp()
    a, b = h.sum(), (h * h).sum()
    M.autograd.backward([a, b])
    np.testing.assert_allclose(arr(x.grad), np.exp([1.0, 2.0]) + 2 * np.exp([2.0, 4.0]), rtol=1e-6)


# ---------------------------------------------------------------------------
# freeing
# ---------------------------------------------------------------------------
def test_saved_values_freed_after_backward() -> None:
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    t = x.exp()
    z = (t * t).sum()  # MulBackward0 saves t
    ref = weakref.ref(t)
    del t
    assert ref() is not None  # kept alive by the graph for backward
    z.backward()
    assert ref() is None  # released by backward, without waiting for gc


def test_saved_values_kept_with_retain_graph() -> None:
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    t = x.exp()
    z = (t * t).sum()
    ref = weakref.ref(t)
    del t
    z.backward(retain_graph=True)
    assert ref() is not None
    z.backward()
    assert ref() is None
    np.testing.assert_allclose(arr(x.grad), 4 * np.exp([2.0, 4.0]), rtol=1e-6)


def test_autograd_grad_frees_too() -> None:
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    t = x.exp()
    z = (t * t).sum()
    ref = weakref.ref(t)
    del t
    ndgrad.autograd.grad(z, x)
    assert ref() is None


def _training_step(ps: list, X: Any, Y: Any) -> float:
    h = (X @ ps[0] + ps[1]).relu()
    loss = ((h @ ps[2] - Y) ** 2).mean()
    loss.backward()
    with ndgrad.no_grad():
        for p in ps:
            p.sub_(p.grad, alpha=0.01)
            p.grad = None
    return float(loss)


def _small_model() -> tuple:
    rng = np.random.default_rng(0)
    ps = [ndgrad.tensor(rng.standard_normal((4, 8)) * 0.3, dtype=ndgrad.float32, requires_grad=True),
          ndgrad.zeros(8, requires_grad=True),
          ndgrad.tensor(rng.standard_normal((8, 1)) * 0.3, dtype=ndgrad.float32, requires_grad=True)]
    X = ndgrad.tensor(rng.standard_normal((16, 4)), dtype=ndgrad.float32)
    Y = ndgrad.tensor(rng.standard_normal((16, 1)), dtype=ndgrad.float32)
    return ps, X, Y


def _exotic_step(x: Any) -> Any:
    """Exercises the less common graph features: views + in-place (CopySlices),
    hooks, retain_grad, a custom Function saving its output, create_graph."""
    class Exp(ndgrad.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any) -> Any:
            out = a.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (out,) = ctx.saved_tensors
            return g * out

    a = x * 2
    a[0].mul_(3)
    v = a[1:]
    v.add_(1)
    a.register_hook(lambda g: g * 1)
    b = Exp.apply(a)
    b.retain_grad()
    c = (b * a.sin()).sum()
    (g,) = ndgrad.autograd.grad(c, x, create_graph=True)
    (g * g).sum().backward()
    return x.grad


def _nodes_and_tensors(objs: list) -> list:
    return [o for o in objs if isinstance(o, (Node, ndgrad.Tensor))]


@pytest.mark.parametrize("step", ["training", "exotic"])
def test_graph_freed_by_refcount_alone(step: str) -> None:
    """No cycles: with the collector off, dropping the outputs frees every node."""
    gc.collect()
    gc.disable()
    try:
        refs: list = []
        if step == "training":
            ps, X, Y = _small_model()
            h = (X @ ps[0] + ps[1]).relu()
            loss = ((h @ ps[2] - Y) ** 2).mean()
            node: Any = loss.grad_fn
            while node is not None:  # walk one path down the graph, keeping weak refs
                refs.append(weakref.ref(node))
                node = node.next_functions[0][0] if node.next_functions else None
            refs.append(weakref.ref(h))
            loss.backward()
            del h, loss, node
        else:
            x = ndgrad.tensor([0.3, -0.2, 0.5], dtype=ndgrad.float64, requires_grad=True)
            a = x * 1
            refs.append(weakref.ref(a))
            refs.append(weakref.ref(a.grad_fn))
            del a
            _exotic_step(x)
            x.grad = None
        assert all(r() is None for r in refs)
    finally:
        gc.enable()


def test_gc_finds_no_tensor_or_node_cycles() -> None:
    gc.collect()
    old = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        ps, X, Y = _small_model()
        for _ in range(5):
            _training_step(ps, X, Y)
        x = ndgrad.tensor([0.3, -0.2, 0.5], dtype=ndgrad.float64, requires_grad=True)
        for _ in range(3):
            _exotic_step(x)
        y = x.exp()
        y.sum().backward(create_graph=True)  # .grad with a graph: a cycle in PyTorch, not here
        x.grad = None
        del ps, X, Y, x, y
        gc.collect()
        cyclic = _nodes_and_tensors(gc.garbage)
    finally:
        gc.set_debug(old)
        gc.garbage.clear()
        gc.collect()
    assert cyclic == [], f"{len(cyclic)} Tensors/Nodes were only collectable as cycles: {cyclic[:5]}"


def test_memory_flat_over_10k_training_steps() -> None:
    ps, X, Y = _small_model()
    for _ in range(200):  # warm caches
        _training_step(ps, X, Y)
    gc.collect()
    n0 = len(gc.get_objects())
    losses = []
    t0 = time.perf_counter()
    for _ in range(9_300):
        losses.append(_training_step(ps, X, Y))
    elapsed = time.perf_counter() - t0
    gc.collect()
    n1 = len(gc.get_objects())
    assert n1 - n0 < 50, f"{n1 - n0} more live objects after 9,300 steps"
    assert losses[-1] < losses[0]  # it did train
    # bytes: a traced window of 500 steps shows no growth
    tracemalloc.start()
    try:
        for _ in range(100):
            _training_step(ps, X, Y)
        gc.collect()
        m0 = tracemalloc.get_traced_memory()[0]
        for _ in range(400):
            _training_step(ps, X, Y)
        gc.collect()
        m1 = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert m1 - m0 < 32_000, f"traced memory grew by {m1 - m0} bytes over 400 steps"
    assert elapsed < 30.0


def test_leaf_grad_buffer_not_shared() -> None:
    """The first accumulated gradient is a fresh buffer, never an alias of another tensor."""
    x = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    g = ndgrad.tensor([5.0, 6.0])
    x.backward(g)
    x.grad.add_(1)
    np.testing.assert_array_equal(arr(g), [5.0, 6.0])
    y = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    z = ndgrad.tensor([1.0, 2.0], requires_grad=True)
    (y + z).sum().backward()
    y.grad.mul_(10)
    np.testing.assert_array_equal(arr(z.grad), [1.0, 1.0])


# ---------------------------------------------------------------------------
# threads
# ---------------------------------------------------------------------------
def test_backward_in_threads() -> None:
    errors: list = []
    results: dict = {}

    def work(k: int) -> None:
        try:
            x = ndgrad.tensor([float(k), 1.0], dtype=ndgrad.float64, requires_grad=True)
            for _ in range(50):
                x.grad = None
                with ndgrad.enable_grad():
                    (x * x * k).sum().backward()
            results[k] = arr(x.grad)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    with ndgrad.no_grad():  # the main thread's mode must not matter to the workers
        threads = [threading.Thread(target=work, args=(k,)) for k in range(1, 5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert not errors
    for k in range(1, 5):
        np.testing.assert_allclose(results[k], [2.0 * k * k, 2.0 * k])


# ---------------------------------------------------------------------------
# reentrant backward, anomaly mode
# ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("M", LIBS)
def test_reentrant_backward(M: Any) -> None:
    class Checkpoint(M.autograd.Function):
        """Recomputes its forward inside backward and differentiates it there (reentrant)."""

        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return (x.sin() * x).detach()

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            with M.enable_grad():
                xx = x.detach().requires_grad_()
                (gx,) = M.autograd.grad(xx.sin() * xx, xx, g)
            return gx

    x = M.tensor([0.5, 1.0], dtype=M.float64, requires_grad=True)
    Checkpoint.apply(x * 2).sum().backward()
    t = 2 * np.array([0.5, 1.0])
    np.testing.assert_allclose(arr(x.grad), 2 * (np.cos(t) * t + np.sin(t)), rtol=1e-12)
    # a backward started from a hook, and grad mode inside backward rules
    x = M.tensor([1.0, 2.0], requires_grad=True)
    side = M.tensor([3.0], requires_grad=True)
    modes = []

    def hook(g: Any) -> Any:
        modes.append(M.is_grad_enabled())
        with M.enable_grad():
            (side * 2).sum().backward()
        return g
    y = x * 3
    y.register_hook(hook)
    y.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [3.0, 3.0])
    np.testing.assert_array_equal(arr(side.grad), [2.0])
    y = x * 3
    y.register_hook(lambda g: modes.append(M.is_grad_enabled()))
    y.sum().backward(create_graph=True)
    assert modes == [False, True]  # rules and hooks run with grad mode = create_graph
    assert M.is_grad_enabled()


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("M", LIBS)
def test_detect_anomaly(M: Any) -> None:
    x = M.tensor([0.0, 1.0], requires_grad=True)
    (x.sqrt() * 0).sum().backward()  # NaN gradient, silently, by default
    assert np.isnan(arr(x.grad)[0])
    assert not M.is_anomaly_enabled()
    with M.autograd.detect_anomaly():
        assert M.is_anomaly_enabled() and M.is_anomaly_check_nan_enabled()
        with pytest.raises(RuntimeError, match="Function 'SqrtBackward0' returned nan values in its 0th output"):
            (x.sqrt() * 0).sum().backward()
        (x * 2).sum().backward()  # finite gradients pass
    assert not M.is_anomaly_enabled()
    M.autograd.set_detect_anomaly(True)
    try:
        assert M.is_anomaly_enabled()
    finally:
        M.autograd.set_detect_anomaly(False)
    assert not M.is_anomaly_enabled()


@pytest.mark.parametrize("M", LIBS)
def test_legacy_variable(M: Any) -> None:
    a = M.ones(2)
    v = M.autograd.Variable(a, requires_grad=True)
    assert v.requires_grad and v.is_leaf and not a.requires_grad
    (v * 3).sum().backward()
    np.testing.assert_array_equal(arr(v.grad), [3.0, 3.0])


def test_no_cycles_training_an_nn_module() -> None:
    nn = getattr(ndgrad, "nn", None)
    optim = getattr(ndgrad, "optim", None)
    if nn is None or optim is None or not hasattr(nn, "functional"):
        pytest.skip("ndgrad.nn / ndgrad.optim not available")
    gc.collect()
    old = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        m = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
        opt = optim.Adam(m.parameters(), lr=1e-3)
        x = ndgrad.randn(16, 4)
        y = ndgrad.randint(0, 3, (16,))
        for _ in range(3):
            opt.zero_grad()
            loss = nn.functional.cross_entropy(m(x), y)
            loss.backward()
            opt.step()
        del m, opt, x, y, loss
        gc.collect()
        cyclic = _nodes_and_tensors(gc.garbage)
    finally:
        gc.set_debug(old)
        gc.garbage.clear()
        gc.collect()
    assert cyclic == []
