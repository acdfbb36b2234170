"""Autograd semantics against PyTorch's: recording, backward/grad options, grad mode,
custom Functions, hooks and errors.

Most tests take the library as a parameter: they always run on ndgrad with the
expected values written down as literals (recorded from PyTorch 2.13), and when
torch is installed they run on torch as well, which checks the literals live.
"""
from __future__ import annotations

import re
import threading
import warnings
from typing import Any

import numpy as np
import pytest

import ndgrad

from _libs import LIBS, arr  # noqa: E402 (tests/autograd/_libs.py)



def lname(M: Any) -> str:
    return M.__name__


def ver(t: Any) -> int:
    """A tensor's version counter (torch: an int; ndgrad keeps it in a shared one-item list)."""
    v = t._version
    return v if isinstance(v, int) else v[0]


# ---------------------------------------------------------------------------
# 1. recording
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("M", LIBS)
def test_node_names(M: Any) -> None:
    x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = M.ones(2, 2, requires_grad=True)
    names = {
        "mul": (x * 2).grad_fn.name(),
        "add": (x + 1).grad_fn.name(),
        "sub": (x - 1).grad_fn.name(),
        "div": (x / 2).grad_fn.name(),
        "neg": (-x).grad_fn.name(),
        "sum": x.sum().grad_fn.name(),
        "sum_dim": m.sum(0).grad_fn.name(),
        "mean": x.mean().grad_fn.name(),
        "pow": (x ** 2).grad_fn.name(),
        "exp": x.exp().grad_fn.name(),
        "log": x.log().grad_fn.name(),
        "tanh": x.tanh().grad_fn.name(),
        "sigmoid": x.sigmoid().grad_fn.name(),
        "relu": x.relu().grad_fn.name(),
        "mm": m.mm(m).grad_fn.name(),
        "matmul2d": (m @ m).grad_fn.name(),
        "view": x.view(3, 1).grad_fn.name(),
        "reshape": m.reshape(4).grad_fn.name(),
        "index": x[[0, 1]].grad_fn.name(),
        "select": x[0].grad_fn.name(),
        "slice": x[1:].grad_fn.name(),
        "t": m.t().grad_fn.name(),
        "permute": m.permute(1, 0).grad_fn.name(),
        "unsqueeze": x.unsqueeze(0).grad_fn.name(),
        "expand": x.expand(2, 3).grad_fn.name(),
        "clone": x.clone().grad_fn.name(),
        "cat": M.cat([x, x]).grad_fn.name(),
        "stack": M.stack([x, x]).grad_fn.name(),
        "max_all": x.max().grad_fn.name(),
        "amax": m.amax(0).grad_fn.name(),
        "where": M.where(x > 1, x, x * 0).grad_fn.name(),
    }
    assert names == {
        "mul": "MulBackward0", "add": "AddBackward0", "sub": "SubBackward0", "div": "DivBackward0",
        "neg": "NegBackward0", "sum": "SumBackward0", "sum_dim": "SumBackward1", "mean": "MeanBackward0",
        "pow": "PowBackward0", "exp": "ExpBackward0", "log": "LogBackward0", "tanh": "TanhBackward0",
        "sigmoid": "SigmoidBackward0", "relu": "ReluBackward0", "mm": "MmBackward0",
        "matmul2d": "MmBackward0", "view": "ViewBackward0", "reshape": "ViewBackward0",
        "index": "IndexBackward0", "select": "SelectBackward0", "slice": "SliceBackward0",
        "t": "TBackward0", "permute": "PermuteBackward0", "unsqueeze": "UnsqueezeBackward0",
        "expand": "ExpandBackward0", "clone": "CloneBackward0", "cat": "CatBackward0",
        "stack": "StackBackward0", "max_all": "MaxBackward1", "amax": "AmaxBackward0",
        "where": "WhereBackward0",
    }


@pytest.mark.parametrize("M", LIBS)
def test_composite_node_names(M: Any) -> None:
    x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
    m = M.tensor([[1.0, 2.0], [3.0, 5.0]], requires_grad=True)
    idx = M.tensor([0, 1])
    names = {
        "max_dim": m.max(0)[0], "min_dim": m.min(1).values, "mean_dim": m.mean(0), "prod_dim": m.prod(1),
        "prod": x.prod(), "squeeze": m.unsqueeze(0).squeeze(), "squeeze_dim": m.unsqueeze(0).squeeze(0),
        "var": x.var(), "std": m.std(0), "logsumexp": x.logsumexp(0), "index_select": x.index_select(0, idx),
        "masked_fill": x.masked_fill(x > 1, 0.0), "addmm": M.addmm(m, m, m), "lerp": M.lerp(x, x * 2, 0.5),
        "lerp_t": M.lerp(x, x * 2, x), "addcmul": M.addcmul(x, x, x), "addcdiv": M.addcdiv(x, x, x),
        "sort": x.sort()[0], "topk": x.topk(2)[0], "median": x.median(), "median_dim": m.median(1)[0],
        "trace": m.trace(), "diagonal": m.diagonal(), "unbind": x.unbind()[1], "split": x.split(2)[0],
        "split_sizes": x.split([1, 2])[1], "chunk": x.chunk(3)[0], "rpow": 2 ** x, "tpow": x ** x,
        "take": x.take(idx), "masked_select": x.masked_select(x > 1), "index_add": x.index_add(0, idx, x[:2]),
        "cummax": x.cummax(0)[0], "cumsum": x.cumsum(0),
    }
    assert {k: v.grad_fn.name() for k, v in names.items()} == {
        "max_dim": "MaxBackward0", "min_dim": "MinBackward0", "mean_dim": "MeanBackward1",
        "prod_dim": "ProdBackward1", "prod": "ProdBackward0", "squeeze": "SqueezeBackward0",
        "squeeze_dim": "SqueezeBackward1", "var": "VarBackward0", "std": "StdBackward0",
        "logsumexp": "LogsumexpBackward0", "index_select": "IndexSelectBackward0",
        "masked_fill": "MaskedFillBackward0", "addmm": "AddmmBackward0", "lerp": "LerpBackward0",
        "lerp_t": "LerpBackward1", "addcmul": "AddcmulBackward0", "addcdiv": "AddcdivBackward0",
        "sort": "SortBackward0", "topk": "TopkBackward0", "median": "MedianBackward0",
        "median_dim": "MedianBackward1", "trace": "TraceBackward0", "diagonal": "DiagonalBackward0",
        "unbind": "UnbindBackward0", "split": "SplitBackward0", "split_sizes": "SplitWithSizesBackward0",
        "chunk": "SplitBackward0", "rpow": "PowBackward2", "tpow": "PowBackward1", "take": "TakeBackward0",
        "masked_select": "MaskedSelectBackward0", "index_add": "IndexAddBackward0", "cummax": "CummaxBackward0",
        "cumsum": "CumsumBackward0",
    }


@pytest.mark.parametrize("M", LIBS)
def test_next_functions_and_accumulate_grad(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    c = M.tensor([3.0, 4.0])
    y = x * c
    (acc, nr), (none, nr2) = y.grad_fn.next_functions
    assert type(acc).__name__ == "AccumulateGrad" and acc.name().endswith("AccumulateGrad")
    assert acc.variable is x and nr == 0
    assert none is None and nr2 == 0
    assert acc.next_functions == ()
    # the same leaf always has the same AccumulateGrad
    assert (x + 1).grad_fn.next_functions[0][0] is acc
    z = (y * y).sum()
    assert z.grad_fn.next_functions[0][0].name() == "MulBackward0"
    assert z.grad_fn.next_functions[0][0].next_functions[0][0] is y.grad_fn
    assert re.fullmatch(r"<MulBackward0 object at 0x[0-9a-f]+>", repr(y.grad_fn))
    assert re.fullmatch(r"<AccumulateGrad object at 0x[0-9a-f]+>", repr(acc))


@pytest.mark.parametrize("M", LIBS)
def test_printing_shows_grad_fn_and_requires_grad(M: Any) -> None:
    x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
    assert repr(x) == "tensor([1., 2., 3.], requires_grad=True)"
    assert repr(x * 2) == "tensor([2., 4., 6.], grad_fn=<MulBackward0>)"
    assert str((x * 2).sum()) == "tensor(12., grad_fn=<SumBackward0>)"
    w = M.tensor(2.0, requires_grad=True)
    assert repr(w) == "tensor(2., requires_grad=True)"
    assert repr(M.zeros(2, requires_grad=True)) == "tensor([0., 0.], requires_grad=True)"
    d = M.tensor([1.0, 2.0], dtype=M.float64, requires_grad=True)
    assert repr(d * 2) == f"tensor([2., 4.], dtype={lname(M)}.float64, grad_fn=<MulBackward0>)"
    c = x * 1
    c[0] = 5
    assert repr(c) == "tensor([5., 2., 3.], grad_fn=<CopySlices>)"
    assert repr(x.detach()) == "tensor([1., 2., 3.])"
    with M.no_grad():
        assert repr(x * 2) == "tensor([2., 4., 6.])"


@pytest.mark.parametrize("M", LIBS)
def test_leaf_flags(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    plain = M.tensor([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and plain.is_leaf and not y.is_leaf
    assert x.requires_grad and y.requires_grad and not plain.requires_grad
    assert x.grad_fn is None and plain.grad_fn is None and y.grad_fn is not None
    assert not (plain * 2).requires_grad and (plain * 2).is_leaf
    assert plain.requires_grad_() is plain and plain.requires_grad
    plain.requires_grad = False
    assert not plain.requires_grad
    x.requires_grad_(False)  # allowed on a leaf
    assert not x.requires_grad
    with pytest.raises(RuntimeError, match="only change requires_grad flags of leaf variables"):
        y.requires_grad_(False)
    y.requires_grad_(True)  # a no-op on a non-leaf that already requires grad
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        M.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        M.tensor([1, 2], requires_grad=True)
    with pytest.raises(RuntimeError, match="(?i)only Tensors of floating point"):
        M.arange(3).requires_grad = True


@pytest.mark.parametrize("M", LIBS)
def test_retain_grad(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    a = x * 3
    assert not a.retains_grad and not x.retains_grad
    a.retain_grad()
    a.retain_grad()  # twice is fine
    assert a.retains_grad
    x.retain_grad()  # a no-op on leaves
    assert not x.retains_grad
    (a * a).sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [6.0, 12.0])
    np.testing.assert_array_equal(arr(x.grad), [18.0, 36.0])
    with pytest.raises(RuntimeError, match="can't retain_grad on Tensor that has requires_grad=False"):
        M.tensor(1.0).retain_grad()


@pytest.mark.parametrize("M", LIBS)
def test_retain_grad_accumulates_and_sees_hook_changes(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    a = x * 1
    a.retain_grad()
    a.register_hook(lambda g: g * 10)
    b = a * 2
    b.backward(M.ones(2), retain_graph=True)
    np.testing.assert_array_equal(arr(a.grad), [20.0, 20.0])
    b.backward(M.ones(2))
    np.testing.assert_array_equal(arr(a.grad), [40.0, 40.0])
    np.testing.assert_array_equal(arr(x.grad), [40.0, 40.0])


@pytest.mark.parametrize("M", LIBS)
def test_inplace_semantics(M: Any) -> None:
    x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
    # writing a tensor that requires grad into one that does not
    c = M.zeros(3)
    c[1] = x[0] * 2
    assert c.requires_grad and c.grad_fn.name() == "torch::autograd::CopySlices"
    assert repr(c) == "tensor([0., 2., 0.], grad_fn=<CopySlices>)"
    c.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [2.0, 0.0, 0.0])
    x.grad = None
    c = M.zeros(2, 3)
    c[0].add_(x)
    (c * 2).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [2.0, 2.0, 2.0])
    c = M.zeros(3)
    c.add_(x)
    assert not c.is_leaf and c.grad_fn.name() == "AddBackward0"
    # a view made before its base changed in place sees (and differentiates) the new values
    x.grad = None
    a = x * 1
    v = a[:2]
    a.mul_(3)
    (v * v).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [18.0, 36.0, 0.0])
    # retain_grad follows the tensor through an in-place op; hooks stay with the old value
    x.grad = None
    a = x * 1
    a.retain_grad()
    a.register_hook(lambda g: g * 10)
    a.mul_(2)
    a.sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [1.0, 1.0, 1.0])
    np.testing.assert_array_equal(arr(x.grad), [20.0, 20.0, 20.0])
    # changing a saved input through detach() is caught; through .data it is not
    y = x.sin()
    x.detach().add_(0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()
    x = M.tensor([1.0, 2.0], requires_grad=True)
    y = x.sin()
    x.data.add_(1)
    y.sum().backward()
    np.testing.assert_allclose(arr(x.grad), np.cos([2.0, 3.0]), rtol=1e-6)
    # an expanded tensor cannot be written in place
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        (x * 1).expand(2, 2).add_(1)


@pytest.mark.parametrize("M", LIBS)
def test_non_leaf_grad_is_none_with_warning(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    y.sum().backward()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert y.grad is None
    assert any("not a leaf Tensor" in str(w.message) for w in caught)


@pytest.mark.parametrize("M", LIBS)
def test_grad_accumulates_across_backward_calls(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    for k in range(1, 4):
        (x * x).sum().backward()
        np.testing.assert_array_equal(arr(x.grad), [2.0 * k, 4.0 * k])
    g = x.grad
    (x * 1).sum().backward()
    assert x.grad is g  # accumulated in place, as PyTorch does
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [3.0, 3.0])
    x.grad.zero_()
    np.testing.assert_array_equal(arr(x.grad), [0.0, 0.0])


@pytest.mark.parametrize("M", LIBS)
def test_grad_has_leaf_dtype_and_shape(M: Any) -> None:
    x = M.ones(3, 1, dtype=M.float64, requires_grad=True)
    y = M.ones(1, 4, dtype=M.float32)
    (x * y).sum().backward()
    assert x.grad.dtype == M.float64 and tuple(x.grad.shape) == (3, 1)
    np.testing.assert_array_equal(arr(x.grad), np.full((3, 1), 4.0))
    s = M.tensor(2.0, requires_grad=True)
    (s * M.ones(5)).sum().backward()
    assert tuple(s.grad.shape) == () and float(s.grad) == 5.0


@pytest.mark.parametrize("M", LIBS)
def test_data_and_detach(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.is_leaf and d.grad_fn is None
    d[0] = 10.0  # shares memory
    assert float(x.detach()[0]) == 10.0
    assert ver(x) == 1  # detach() shares the version counter
    dd = x.data
    assert not dd.requires_grad
    dd[1] = 20.0
    assert float(x.detach()[1]) == 20.0
    assert ver(x) == 1  # .data does not
    x.data = M.tensor([5.0, 6.0])
    np.testing.assert_array_equal(arr(x), [5.0, 6.0])
    assert x.requires_grad
    y = x * 2
    assert y.detach_() is y
    assert not y.requires_grad and y.grad_fn is None and y.is_leaf
    v = (x * 1)[0:1]
    with pytest.raises(RuntimeError, match="Can't detach views in-place"):
        v.detach_()


@pytest.mark.parametrize("M", LIBS)
def test_detach_stops_gradient(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    (x * x.detach()).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [1.0, 2.0])


# ---------------------------------------------------------------------------
# 2. backward / grad options
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("M", LIBS)
def test_backward_with_gradient(M: Any) -> None:
    x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(M.tensor([1.0, 0.5, 0.0]))
    np.testing.assert_array_equal(arr(x.grad), [2.0, 2.0, 0.0])
    x.grad = None
    (x.sum() * 2).backward(M.tensor(3.0))
    np.testing.assert_array_equal(arr(x.grad), [6.0, 6.0, 6.0])


@pytest.mark.parametrize("M", LIBS)
def test_retain_graph(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    y = (x.exp() * x).sum()
    y.backward(retain_graph=True)
    g1 = arr(x.grad).copy()
    y.backward()
    np.testing.assert_allclose(arr(x.grad), 2 * g1)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


@pytest.mark.parametrize("M", LIBS)
def test_second_backward_through_freed_graph(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    s = (x * x).sum()
    s.backward()
    with pytest.raises(RuntimeError, match="Trying to backward through the graph a second time"):
        s.backward()
    a = x.exp()
    b = a.sum()
    M.autograd.grad(b, x)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        M.autograd.grad(b, x)


@pytest.mark.parametrize("M", LIBS)
def test_graph_without_saved_values_can_run_twice(M: Any) -> None:
    # ops that save nothing (add, sum) leave nothing to free: PyTorch runs them again
    x = M.tensor([1.0, 2.0], requires_grad=True)
    s = (x + 1).sum()
    s.backward()
    s.backward()
    np.testing.assert_array_equal(arr(x.grad), [2.0, 2.0])


@pytest.mark.parametrize("M", LIBS)
def test_create_graph_backward(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (x ** 3).sum().backward(create_graph=True)
    g = x.grad
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_array_equal(arr(g), [3.0, 12.0])
    (gg,) = M.autograd.grad(g.sum(), x)
    np.testing.assert_array_equal(arr(gg), [6.0, 12.0])


@pytest.mark.parametrize("M", LIBS)
def test_backward_inputs(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    u = M.tensor([3.0, 4.0], requires_grad=True)
    (x * u).sum().backward(inputs=[u])
    assert x.grad is None
    np.testing.assert_array_equal(arr(u.grad), [1.0, 2.0])
    (x * u).sum().backward(inputs=x)
    np.testing.assert_array_equal(arr(x.grad), [3.0, 4.0])
    np.testing.assert_array_equal(arr(u.grad), [1.0, 2.0])
    with pytest.raises(RuntimeError, match="cannot be empty"):
        (x * u).sum().backward(inputs=[])
    # a non-leaf input accumulates into its .grad
    h = x * 2
    (h * u).sum().backward(inputs=[h])
    np.testing.assert_array_equal(arr(h.grad), [3.0, 4.0])
    np.testing.assert_array_equal(arr(x.grad), [3.0, 4.0])
    # leaves and non-leaves together
    h = x * 2
    (h * u).sum().backward(inputs=[x, h])
    np.testing.assert_array_equal(arr(h.grad), [3.0, 4.0])
    np.testing.assert_array_equal(arr(x.grad), [9.0, 12.0])


@pytest.mark.parametrize("M", LIBS)
def test_autograd_backward(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    u = M.tensor([3.0, 4.0], requires_grad=True)
    M.autograd.backward([x * u * 2], [M.ones(2)])
    np.testing.assert_array_equal(arr(x.grad), [6.0, 8.0])
    np.testing.assert_array_equal(arr(u.grad), [2.0, 4.0])
    M.autograd.backward([(x * x).sum(), (u * 2).sum()])
    np.testing.assert_array_equal(arr(x.grad), [8.0, 12.0])
    np.testing.assert_array_equal(arr(u.grad), [4.0, 6.0])
    M.autograd.backward(x.sum())
    np.testing.assert_array_equal(arr(x.grad), [9.0, 13.0])


@pytest.mark.parametrize("M", LIBS)
def test_autograd_grad(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    u = M.tensor([3.0, 4.0], requires_grad=True)
    (gx,) = M.autograd.grad((x * x).sum(), x)
    np.testing.assert_array_equal(arr(gx), [2.0, 4.0])
    assert not gx.requires_grad and x.grad is None
    gx, gu = M.autograd.grad([(x * u).sum()], [x, u])
    np.testing.assert_array_equal(arr(gx), [3.0, 4.0])
    np.testing.assert_array_equal(arr(gu), [1.0, 2.0])
    (g,) = M.autograd.grad(x * u, x, grad_outputs=M.tensor([1.0, 2.0]))
    np.testing.assert_array_equal(arr(g), [3.0, 8.0])
    (g,) = M.autograd.grad([x * 2, x * 3], [x], grad_outputs=[M.ones(2), M.ones(2)])
    np.testing.assert_array_equal(arr(g), [5.0, 5.0])
    # the same input twice, also before another one
    g1, g2 = M.autograd.grad((x * 2).sum(), [x, x])
    np.testing.assert_array_equal(arr(g1), [2.0, 2.0])
    np.testing.assert_array_equal(arr(g2), [2.0, 2.0])
    g1, g2, g3 = M.autograd.grad((x * u).sum(), [x, x, u])
    np.testing.assert_array_equal(arr(g2), [3.0, 4.0])
    np.testing.assert_array_equal(arr(g3), [1.0, 2.0])
    # a non-leaf input
    h = x * 2
    (gh,) = M.autograd.grad((h * h).sum(), h)
    np.testing.assert_array_equal(arr(gh), [4.0, 8.0])
    assert u.grad is None and x.grad is None


@pytest.mark.parametrize("M", LIBS)
def test_autograd_grad_unused(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    u = M.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        M.autograd.grad((x * 2).sum(), [x, u])
    gx, gu = M.autograd.grad((x * 2).sum(), [x, u], allow_unused=True)
    assert gu is None
    gx, gu = M.autograd.grad((x * 2).sum(), [x, u], materialize_grads=True)
    np.testing.assert_array_equal(arr(gu), [0.0, 0.0])
    with pytest.raises(ValueError, match="allow_unused"):
        M.autograd.grad((x * 2).sum(), [x, u], materialize_grads=True, allow_unused=False)
    with pytest.raises(RuntimeError, match="does not require grad"):
        M.autograd.grad((x * 2).sum(), M.ones(2))


@pytest.mark.parametrize("M", LIBS)
def test_autograd_grad_create_graph(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    (g,) = M.autograd.grad((x * x * x).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_array_equal(arr(g), [3.0, 12.0])
    (gg,) = M.autograd.grad(g.sum(), x, create_graph=True)
    np.testing.assert_array_equal(arr(gg), [6.0, 12.0])
    (ggg,) = M.autograd.grad(gg.sum(), x)
    np.testing.assert_array_equal(arr(ggg), [6.0, 6.0])


@pytest.mark.parametrize("M", LIBS)
def test_grad_of_leaf_with_respect_to_itself(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    (g,) = M.autograd.grad(x, x, M.tensor([3.0, 4.0]))
    np.testing.assert_array_equal(arr(g), [3.0, 4.0])
    x.backward(M.tensor([1.0, 1.0]))
    np.testing.assert_array_equal(arr(x.grad), [1.0, 1.0])


@pytest.mark.parametrize("M", LIBS)
def test_diamond_graph_sums_before_running(M: Any) -> None:
    x = M.tensor([2.0], requires_grad=True)
    a = x * 3
    calls = []
    a.register_hook(lambda g: calls.append(float(g)))
    (a * a + a.exp() * 0 + a).sum().backward()
    assert calls == [13.0]  # the hook fires once, with the summed gradient 2a + 1
    np.testing.assert_allclose(arr(x.grad), [39.0])


# ---------------------------------------------------------------------------
# 3. grad mode
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("M", LIBS)
def test_no_grad_enable_grad_nesting(M: Any) -> None:
    x = M.ones(2, requires_grad=True)
    assert M.is_grad_enabled()
    with M.no_grad():
        assert not M.is_grad_enabled()
        y = x * 2
        assert not y.requires_grad and y.grad_fn is None
        with M.enable_grad():
            assert M.is_grad_enabled()
            assert (x * 2).requires_grad
            with M.no_grad():
                assert not M.is_grad_enabled()
            assert M.is_grad_enabled()
        assert not M.is_grad_enabled()
    assert M.is_grad_enabled()
    assert M.autograd.grad_mode.no_grad is M.no_grad


@pytest.mark.parametrize("M", LIBS)
def test_grad_mode_restored_after_exception(M: Any) -> None:
    with pytest.raises(ValueError):
        with M.no_grad():
            raise ValueError("boom")
    assert M.is_grad_enabled()


@pytest.mark.parametrize("M", LIBS)
def test_grad_mode_decorators(M: Any) -> None:
    @M.no_grad()
    def f() -> bool:
        return M.is_grad_enabled()

    @M.no_grad
    def f2() -> bool:
        return M.is_grad_enabled()

    @M.enable_grad()
    def g() -> bool:
        return M.is_grad_enabled()

    @M.set_grad_enabled(False)
    def h() -> bool:
        return M.is_grad_enabled()

    @M.inference_mode()
    def k() -> bool:
        return M.is_grad_enabled()

    assert M.is_grad_enabled()  # decorating does not switch the mode
    assert f() is False and f2() is False and h() is False and k() is False
    assert M.is_grad_enabled()
    with M.no_grad():
        assert g() is True
        assert not M.is_grad_enabled()
    assert f.__name__ == "f"


@pytest.mark.parametrize("M", LIBS)
def test_grad_mode_decorated_generator(M: Any) -> None:
    @M.no_grad()
    def gen() -> Any:
        x = yield M.is_grad_enabled()
        yield (x, M.is_grad_enabled())
        return "done"

    g = gen()
    assert next(g) is False
    assert M.is_grad_enabled()  # the caller's mode between steps
    assert g.send(5) == (5, False)
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"
    assert list(M.enable_grad()(lambda: (yield M.is_grad_enabled()))()) == [True]


@pytest.mark.parametrize("M", LIBS)
def test_set_grad_enabled(M: Any) -> None:
    M.set_grad_enabled(False)
    try:
        assert not M.is_grad_enabled()
    finally:
        M.set_grad_enabled(True)
    assert M.is_grad_enabled()
    with M.set_grad_enabled(False):
        assert not M.is_grad_enabled()
        with M.set_grad_enabled(True):
            assert M.is_grad_enabled()
        assert not M.is_grad_enabled()
    assert M.is_grad_enabled()
    with M.no_grad():
        with M.set_grad_enabled(True):
            assert M.is_grad_enabled()
        assert not M.is_grad_enabled()


@pytest.mark.parametrize("M", LIBS)
def test_inference_mode(M: Any) -> None:
    x = M.ones(2, requires_grad=True)
    with M.inference_mode():
        assert not M.is_grad_enabled()
        assert M.is_inference_mode_enabled()
        y = x * 2
        assert not y.requires_grad
    assert M.is_grad_enabled() and not M.is_inference_mode_enabled()
    with M.inference_mode(False):
        assert M.is_grad_enabled()
        assert (x * 2).requires_grad
    with M.no_grad():
        with M.inference_mode(False):
            assert M.is_grad_enabled()  # inference_mode(False) turns grad mode on, as PyTorch does


@pytest.mark.parametrize("M", LIBS)
def test_grad_mode_is_thread_local(M: Any) -> None:
    seen = []

    def probe() -> None:
        seen.append(M.is_grad_enabled())
        with M.no_grad():
            seen.append(M.is_grad_enabled())

    with M.no_grad():
        t = threading.Thread(target=probe)
        t.start()
        t.join()
        assert not M.is_grad_enabled()  # the thread's no_grad did not leak back
    M.set_grad_enabled(False)
    try:
        t = threading.Thread(target=probe)
        t.start()
        t.join()
    finally:
        M.set_grad_enabled(True)
    # a new thread does not inherit the main thread's grad mode (PyTorch's behaviour)
    assert seen == [True, False, True, False]


# ---------------------------------------------------------------------------
# 5. extending: autograd.Function and hooks
# ---------------------------------------------------------------------------
def _functions(M: Any) -> dict:
    class Cube(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any, k: float) -> Any:
            ctx.save_for_backward(x)
            ctx.k = k
            return x ** 3 * k

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * 3 * x ** 2 * ctx.k, None

    class MulAdd(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, a: Any, b: Any) -> Any:
            ctx.save_for_backward(a, b)
            ctx.flags = tuple(ctx.needs_input_grad)
            return a * b, a + b

        @staticmethod
        def backward(ctx: Any, g_prod: Any, g_sum: Any) -> Any:
            a, b = ctx.saved_tensors
            return g_prod * b + g_sum, g_prod * a + g_sum

    class SortWithIdx(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            v, i = x.sort()
            ctx.mark_non_differentiable(i)
            ctx.save_for_backward(i)
            return v, i

        @staticmethod
        def backward(ctx: Any, gv: Any, gi: Any) -> Any:
            (i,) = ctx.saved_tensors
            out = M.zeros_like(gv)
            out[i] = gv
            return out

    class NoMaterialize(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.set_materialize_grads(False)
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx: Any, g1: Any, g2: Any) -> Any:
            ctx.seen = (g1 is None, g2 is None)
            return g1 if g1 is not None else g2 * 0

    class Materialize(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x.clone(), x.clone()

        @staticmethod
        def backward(ctx: Any, g1: Any, g2: Any) -> Any:
            ctx.seen = (g1 is None, g2 is None, float(g2.abs().sum()))
            return g1 + g2

    class WrongBackward(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x.sin()

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * x.cos() * 1.1

    class TooMany(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x * 2

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g, g

    return {k: v for k, v in locals().items() if isinstance(v, type)}


@pytest.mark.parametrize("M", LIBS)
def test_function_basic(M: Any) -> None:
    F = _functions(M)
    x = M.tensor([1.0, 2.0], requires_grad=True)
    y = F["Cube"].apply(x, 2.0)
    assert y.requires_grad and not y.is_leaf
    assert type(y.grad_fn).__name__ == "CubeBackward"
    assert y.grad_fn.next_functions[0][0].variable is x
    np.testing.assert_array_equal(arr(y), [2.0, 16.0])
    y.sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [6.0, 24.0])
    with M.no_grad():
        z = F["Cube"].apply(x, 1.0)
    assert not z.requires_grad and z.grad_fn is None
    assert not F["Cube"].apply(M.tensor([1.0]), 1.0).requires_grad


@pytest.mark.parametrize("M", LIBS)
def test_function_multiple_outputs_and_needs_input_grad(M: Any) -> None:
    F = _functions(M)
    a = M.tensor([1.0, 2.0], requires_grad=True)
    b = M.tensor([3.0, 4.0])
    p, s = F["MulAdd"].apply(a, b)
    assert p.grad_fn is s.grad_fn
    assert p.grad_fn.flags == (True, False)
    assert tuple(p.grad_fn.needs_input_grad) == (True, False)
    (p * 2 + s * 3).sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [9.0, 11.0])
    # only one output used: the other's gradient arrives as zeros (materialised)
    a.grad = None
    p, s = F["MulAdd"].apply(a, b)
    p.sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [3.0, 4.0])


@pytest.mark.parametrize("M", LIBS)
def test_function_mark_non_differentiable(M: Any) -> None:
    F = _functions(M)
    x = M.tensor([3.0, 1.0, 2.0], requires_grad=True)
    v, i = F["SortWithIdx"].apply(x)
    assert v.requires_grad and not i.requires_grad
    (v * M.tensor([1.0, 2.0, 3.0])).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [3.0, 1.0, 2.0])


@pytest.mark.parametrize("M", LIBS)
def test_function_set_materialize_grads(M: Any) -> None:
    F = _functions(M)
    x = M.tensor([1.0, 2.0], requires_grad=True)
    o1, o2 = F["NoMaterialize"].apply(x)
    o1.sum().backward()
    assert o1.grad_fn.seen == (False, True)
    o1, o2 = F["Materialize"].apply(x)
    (o1 * 2).sum().backward()
    assert o1.grad_fn.seen == (False, False, 0.0)


@pytest.mark.parametrize("M", LIBS)
def test_function_mark_dirty_setup_context_and_identity(M: Any) -> None:
    class AddOne(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            x.add_(1)
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 2

    class Sq(M.autograd.Function):
        @staticmethod
        def forward(x: Any, k: float) -> Any:
            return x ** 2 * k

        @staticmethod
        def setup_context(ctx: Any, inputs: tuple, output: Any) -> None:
            x, k = inputs
            ctx.save_for_backward(x)
            ctx.k = k

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * 2 * x * ctx.k, None

    class Ident(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            return x

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            return g * 5

    a = M.tensor([1.0, 2.0], requires_grad=True)
    b = a * 1
    c = AddOne.apply(b)
    assert c is b and type(b.grad_fn).__name__ == "AddOneBackward"
    np.testing.assert_array_equal(arr(c), [2.0, 3.0])
    c.sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [2.0, 2.0])
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad has been used in an in-place"):
        AddOne.apply(M.tensor([1.0], requires_grad=True))
    a.grad = None
    Sq.apply(a, 3.0).sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [6.0, 12.0])
    a.grad = None
    o = Ident.apply(a)
    assert o is not a and o._base is a  # an input returned as is comes back as a view
    o.sum().backward()
    np.testing.assert_array_equal(arr(a.grad), [5.0, 5.0])


@pytest.mark.parametrize("M", LIBS)
def test_function_saving_its_output(M: Any) -> None:
    class Exp(M.autograd.Function):
        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            out = x.exp()
            ctx.save_for_backward(out)
            return out

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (out,) = ctx.saved_tensors
            return g * out

    x = M.tensor([0.0, 1.0], dtype=M.float64, requires_grad=True)
    y = Exp.apply(x)
    (g,) = M.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(arr(g), np.exp([0.0, 1.0]))
    (gg,) = M.autograd.grad(g.sum(), x)  # the saved output is differentiable again
    np.testing.assert_allclose(arr(gg), np.exp([0.0, 1.0]))
    y2 = Exp.apply(x)
    y2.mul_(2)  # modifying the saved output must be caught
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y2.sum().backward()


@pytest.mark.parametrize("M", LIBS)
def test_function_wrong_number_of_grads(M: Any) -> None:
    F = _functions(M)
    x = M.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="returned an incorrect number of gradients"):
        F["TooMany"].apply(x).sum().backward()


@pytest.mark.parametrize("M", LIBS)
def test_gradcheck_catches_wrong_custom_backward(M: Any) -> None:
    F = _functions(M)
    x = M.tensor([0.3, -0.7, 1.1], dtype=M.float64, requires_grad=True)
    assert M.autograd.gradcheck(lambda t: F["Cube"].apply(t, 1.5), (x,))
    assert M.autograd.gradgradcheck(lambda t: F["Cube"].apply(t, 1.5), (x,))
    with pytest.raises(RuntimeError, match="Jacobian mismatch"):
        M.autograd.gradcheck(F["WrongBackward"].apply, (x,))
    assert M.autograd.gradcheck(F["WrongBackward"].apply, (x,), raise_exception=False) is False


@pytest.mark.parametrize("M", LIBS)
def test_gradgradcheck_catches_wrong_second_derivative(M: Any) -> None:
    class DetachedRule(M.autograd.Function):
        """First derivative right, but computed from a detached input: no second derivative."""

        @staticmethod
        def forward(ctx: Any, x: Any) -> Any:
            ctx.save_for_backward(x)
            return x ** 3

        @staticmethod
        def backward(ctx: Any, g: Any) -> Any:
            (x,) = ctx.saved_tensors
            return g * 3 * x.detach() ** 2

    x = M.tensor([0.3, -0.7, 1.1], dtype=M.float64, requires_grad=True)
    assert M.autograd.gradcheck(DetachedRule.apply, (x,))
    with pytest.raises(RuntimeError, match="(?i)mismatch"):
        M.autograd.gradgradcheck(DetachedRule.apply, (x,))


@pytest.mark.parametrize("M", LIBS)
def test_tensor_hooks(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    h = x.register_hook(lambda g: g * 10)
    (x * 1).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [10.0, 10.0])
    h.remove()
    (x * 1).sum().backward()
    np.testing.assert_array_equal(arr(x.grad), [11.0, 11.0])
    # a non-leaf hook changes what flows on to the leaves; returning None keeps the grad
    x.grad = None
    seen = []
    y = x * 3
    y.register_hook(lambda g: seen.append(arr(g).copy()))
    y.register_hook(lambda g: g + 1)
    (y * 2).sum().backward()
    np.testing.assert_array_equal(seen[0], [2.0, 2.0])
    np.testing.assert_array_equal(arr(x.grad), [9.0, 9.0])
    with pytest.raises(RuntimeError, match="doesn't require gradient"):
        M.tensor([1.0]).register_hook(lambda g: g)


@pytest.mark.parametrize("M", LIBS)
def test_hooks_run_in_registration_order_and_on_autograd_grad(M: Any) -> None:
    x = M.tensor([1.0], requires_grad=True)
    order = []
    x.register_hook(lambda g: order.append("a") or g * 2)
    x.register_hook(lambda g: order.append("b") or g + 1)
    (x * 1).sum().backward()
    assert order == ["a", "b"]
    np.testing.assert_array_equal(arr(x.grad), [3.0])
    y = x * 2
    y.register_hook(lambda g: g * 100)
    (g,) = M.autograd.grad(y.sum(), x)
    np.testing.assert_array_equal(arr(g), [401.0])  # the leaf's own hooks run too


@pytest.mark.parametrize("M", LIBS)
def test_post_accumulate_grad_hooks(M: Any) -> None:
    a = M.tensor([1.0, 2.0], requires_grad=True)
    log = []
    h = a.register_post_accumulate_grad_hook(lambda t: log.append(("post", t is a, arr(t.grad).tolist())))
    a.register_hook(lambda g: log.append(("pre", arr(g).tolist())) or g * 2)
    (a * 3).sum().backward()
    (a * 3).sum().backward()  # the hook sees the accumulated .grad, after the tensor's pre-hooks
    assert log == [("pre", [3.0, 3.0]), ("post", True, [6.0, 6.0]), ("pre", [3.0, 3.0]), ("post", True, [12.0, 12.0])]
    h.remove()
    (a * 3).sum().backward()
    assert len(log) == 5
    # not on autograd.grad (nothing accumulates), only on the inputs= of backward
    b, c = M.ones(2, requires_grad=True), M.ones(2, requires_grad=True)
    b.register_post_accumulate_grad_hook(lambda t: log.append("b"))
    c.register_post_accumulate_grad_hook(lambda t: log.append("c"))
    M.autograd.grad((b * 2).sum(), b)
    (b * c).sum().backward(inputs=[b])
    assert log[5:] == ["b"]
    # the hook of the leaf's AccumulateGrad node sees (grad_inputs=(), grad_outputs=(grad,))
    node = (b * 1).grad_fn.next_functions[0][0]
    node.register_hook(lambda gi, go: log.append((gi, arr(go[0]).tolist())))
    (b * 5).sum().backward()
    assert log[-2:] == ["b", ((), [5.0, 5.0])]  # post-accumulate hooks first
    with pytest.raises(RuntimeError, match="post accumulate grad hooks cannot be registered on non-leaf tensors"):
        (a * 2).register_post_accumulate_grad_hook(lambda t: None)
    with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
        M.ones(2).register_post_accumulate_grad_hook(lambda t: None)
    d = M.ones(2, requires_grad=True)
    d.register_post_accumulate_grad_hook(lambda t: M.zeros(2))
    with pytest.raises(RuntimeError, match="Tensor post accumulate grad hooks should return None"):
        (d * 2).sum().backward()


@pytest.mark.parametrize("M", LIBS)
def test_queue_callback_runs_after_backward(M: Any) -> None:
    engine = M.autograd.Variable._execution_engine
    e = M.ones(2, requires_grad=True)
    log = []

    def hook(g: Any) -> Any:
        engine.queue_callback(lambda: log.append(("cb", arr(e.grad).tolist(), M.is_grad_enabled())))
        engine.queue_callback(lambda: (log.append("cb2"), engine.queue_callback(lambda: log.append("cb3"))))
        log.append("hook")
        return g
    e.register_hook(hook)
    (e * 2).sum().backward()  # callbacks run once the leaves hold their gradients, in order, nested ones too
    assert log == ["hook", ("cb", [2.0, 2.0], False), "cb2", "cb3"]
    M.autograd.grad((e * 2).sum(), e, create_graph=True)
    assert log[4:] == ["hook", ("cb", [2.0, 2.0], True), "cb2", "cb3"]  # under the backward's grad mode
    with pytest.raises(RuntimeError, match="Final callbacks can only be installed during backward pass"):
        engine.queue_callback(lambda: None)


# ---------------------------------------------------------------------------
# 6. errors
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("M", LIBS)
def test_error_non_scalar_backward(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match="grad can be implicitly created only for scalar outputs"):
        M.autograd.grad(x * 2, x)


@pytest.mark.parametrize("M", LIBS)
def test_error_backward_without_grad(M: Any) -> None:
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        M.tensor([1.0]).sum().backward()
    x = M.tensor([1.0], requires_grad=True)
    with M.no_grad():
        y = (x * 2).sum()
    with pytest.raises(RuntimeError, match="does not require grad and does not have a grad_fn"):
        y.backward()
    with pytest.raises(RuntimeError, match="element 1 of tensors does not require grad"):
        M.autograd.backward([x.sum(), M.ones(1).sum()])


@pytest.mark.parametrize("M", LIBS)
def test_error_inplace_on_leaf(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x.exp_()
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad is being used in an in-place"):
        x += 1
    with pytest.raises(RuntimeError, match="a view of a leaf Variable that requires grad"):
        x[0].mul_(2)
    with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
        x[0] = 3.0
    with M.no_grad():  # allowed without grad, and bumps the version
        v = ver(x)
        x.mul_(2)
        assert ver(x) == v + 1
    np.testing.assert_array_equal(arr(x), [2.0, 4.0])


@pytest.mark.parametrize("M", LIBS)
def test_error_saved_tensor_modified_inplace(M: Any) -> None:
    x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
    b = x.exp()
    b.add_(1)  # exp saved its output
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        b.sum().backward()
    a = x * 1
    c = a * a  # saves a
    a[0].add_(1)  # modified through a view: the version counter is shared
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        c.sum().backward()
    a = x * 1
    v = a.view(3, 1)
    c = v.sin()  # saves the view
    a.mul_(2)  # modifying the base bumps the view's version
    with pytest.raises(RuntimeError, match="is at version 1; expected version 0 instead"):
        c.sum().backward()
    # modifying an input that was not saved is fine
    a = x * 1
    c = a + 2
    a.mul_(3)
    c.sum().backward()


@pytest.mark.parametrize("M", LIBS)
def test_version_counter_shared_with_views(M: Any) -> None:
    a = M.zeros(2, 3)
    v = a[0]
    t = a.t()
    assert ver(a) == ver(v) == ver(t) == 0
    v.add_(1)
    assert ver(a) == ver(v) == ver(t) == 1
    a[1] = 2.0
    assert ver(a) == 2 and ver(v) == 2 and ver(t) == 2
    np.testing.assert_array_equal(arr(t), [[1, 2], [1, 2], [1, 2]])


@pytest.mark.parametrize("M", LIBS)
def test_error_unused_input(M: Any) -> None:
    x = M.tensor([1.0, 2.0], requires_grad=True)
    u = M.tensor([1.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="appears to not have been used in the graph"):
        M.autograd.grad((x * 2).sum(), [x, u])


@pytest.mark.parametrize("M", LIBS)
def test_error_gradient_shape_mismatch(M: Any) -> None:
    x = M.tensor([1.0, 2.0, 3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=re.escape(
            "Mismatch in shape: grad_output[0] has a shape of torch.Size([2]) and output[0] has a shape "
            "of torch.Size([3])").replace("torch", r"\w+")):
        (x * 2).backward(M.ones(2))
    with pytest.raises(RuntimeError, match="Mismatch in shape"):
        M.autograd.grad(x * 2, x, M.ones(2))


@pytest.mark.parametrize("M", LIBS)
def test_integer_ops_do_not_require_grad(M: Any) -> None:
    x = M.tensor([1.5, 2.5], requires_grad=True)
    assert not x.argmax().requires_grad
    assert not (x > 2).requires_grad
    assert not x.floor().long().requires_grad
    assert (x.floor() * x).requires_grad


# grad_fn names of basic indexing, recorded from PyTorch 2.13: named after the last step that
# does something (an int selects, None unsqueezes, a non-full slice slices)
_ALL = slice(None)
BASIC_INDEX_NODE_NAMES = [
    ((0,), "SelectBackward0"), ((0, 1), "SelectBackward0"), ((0, _ALL), "SelectBackward0"),
    ((_ALL, 0), "SelectBackward0"), ((0, slice(1, 3)), "SliceBackward0"), ((slice(1, 3), 0), "SelectBackward0"),
    ((Ellipsis, 1), "SelectBackward0"), ((None, 0), "SelectBackward0"), ((0, None), "UnsqueezeBackward0"),
    ((slice(1, None),), "SliceBackward0"), (_ALL, "SliceBackward0"),
    ((0, Ellipsis, slice(1, 2)), "SliceBackward0"), ((_ALL, slice(1, 3), _ALL), "SliceBackward0"),
]


@pytest.mark.parametrize("key,name", BASIC_INDEX_NODE_NAMES)
def test_basic_indexing_node_names(key, name):
    assert ndgrad.randn(3, 4, 5, requires_grad=True)[key].grad_fn.name() == name
    try:
        import torch
    except ImportError:
        return
    assert torch.randn(3, 4, 5, requires_grad=True)[key].grad_fn.name() == name
