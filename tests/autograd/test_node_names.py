"""grad_fn names and graphs as PyTorch records them: for each case, the output's node name and the
names of the nodes two levels below it (next_functions) equal PyTorch's (recorded), so a node carries
PyTorch's name because the graph matches, not only by its class name."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import ndgrad


def _graph(fn: Any, depth: int = 2) -> Any:
    """(name, (children...)) of a node, `depth` levels down; None for a missing edge."""
    if fn is None:
        return None
    name = fn.name().replace("torch::autograd::", "")
    if depth == 0:
        return name
    return [name, [_graph(child, depth - 1) for child, _ in fn.next_functions]]


_rng = np.random.default_rng(0)
A = _rng.standard_normal((3, 4))
B = _rng.standard_normal((3, 4))
M = _rng.standard_normal((4, 5))
V = _rng.standard_normal(4)
S = _rng.standard_normal((3, 1, 4))
P = _rng.uniform(0.1, 0.9, (3, 4))

# (id, fn(L, *tensors), inputs): every input float64 and requiring grad
CASES: list[tuple[str, Callable, list]] = [
    ("mean", lambda L, x: x.mean(), [A]),
    ("mean_dim", lambda L, x: x.mean(1), [A]),
    ("prod_dim", lambda L, x: x.prod(1), [A]),
    ("max", lambda L, x: x.max(), [A]),
    ("median", lambda L, x: x.median(), [A]),
    ("max_dim", lambda L, x: x.max(1)[0], [A]),
    ("min_dim_keepdim", lambda L, x: x.min(0, keepdim=True)[0], [A]),
    ("median_dim", lambda L, x: x.median(1)[0], [A]),
    ("nanmedian_dim", lambda L, x: x.nanmedian(0)[0], [A]),
    ("kthvalue", lambda L, x: x.kthvalue(2, 1)[0], [A]),
    ("mode", lambda L, x: x.mode(1)[0], [A]),
    ("var", lambda L, x: x.var(), [A]),
    ("std_dim", lambda L, x: x.std(1), [A]),
    ("logsumexp", lambda L, x: x.logsumexp(1), [A]),
    ("logsumexp_keepdim", lambda L, x: x.logsumexp((0, 1), keepdim=True), [A]),
    ("squeeze", lambda L, x: x.squeeze(), [S]),
    ("squeeze_dim", lambda L, x: x.squeeze(1), [S]),
    ("squeeze_dims", lambda L, x: x.squeeze((1,)), [S]),
    ("split", lambda L, x: x.split(2, 1)[0], [A]),
    ("split_sizes", lambda L, x: x.split([1, 3], 1)[0], [A]),
    ("chunk", lambda L, x: x.chunk(2, 1)[0], [A]),
    ("unbind", lambda L, x: x.unbind(0)[0], [A]),
    ("index_select", lambda L, x: x.index_select(1, L.tensor([0, 2])), [A]),
    ("masked_fill", lambda L, x: x.masked_fill(L.tensor([True, False, True, False]), 0.5), [A]),
    ("masked_fill_tensor", lambda L, x, v: x.masked_fill(L.tensor([[True], [False], [True]]), v.sum()), [A, B]),
    ("masked_fill_constant_tensor", lambda L, x: x.masked_fill(L.tensor([True, False, True, False]),
                                                               L.tensor(2.0, dtype=L.float64)), [A]),
    ("masked_select", lambda L, x: x.masked_select(L.tensor([True, False, True, False])), [A]),
    ("take", lambda L, x: x.take(L.tensor([[0, 5], [-1, 5]])), [A]),
    ("take_along_dim_flat", lambda L, x: L.take_along_dim(x, L.tensor([0, 5])), [A]),
    ("addcmul", lambda L, x, y: L.addcmul(x, x, y, value=0.5), [A, B]),
    ("addcdiv", lambda L, x, y: L.addcdiv(x, y, x.exp()), [A, B]),
    ("lerp_scalar", lambda L, x, y: L.lerp(x, y, 0.3), [A, B]),
    ("lerp_tensor", lambda L, x, y: L.lerp(x, y, x.sigmoid()), [A, B]),
    ("diagonal", lambda L, x: x.diagonal(1), [A]),
    ("trace", lambda L, x: x.trace(), [A]),
    ("narrow_copy", lambda L, x: L.narrow_copy(x, 1, 1, 2), [A]),
    ("logaddexp2", lambda L, x, y: L.logaddexp2(x, y), [A, B]),
    ("mvlgamma", lambda L, x: L.mvlgamma(x.abs() + 3, 2), [A]),
    ("pixel_shuffle", lambda L, x: L.nn.functional.pixel_shuffle(x.reshape(1, 4, 3, 1), 2), [A]),
    ("pixel_unshuffle", lambda L, x: L.nn.functional.pixel_unshuffle(x.reshape(1, 1, 2, 6), 2), [A]),
    ("index_add", lambda L, x, y: x.index_add(0, L.tensor([0, 2, 1]), y), [A, B]),
    ("addmm", lambda L, x, y: L.addmm(L.ones(3, 5, dtype=L.float64), x, y), [A, M]),
    ("sort", lambda L, x: x.sort(1)[0], [A]),
    ("topk", lambda L, x: x.topk(2, 1)[0], [A]),
    ("cummax", lambda L, x: x.cummax(1)[0], [A]),
    ("gelu", lambda L, x: L.nn.functional.gelu(x), [A]),
    ("gelu_tanh", lambda L, x: L.nn.functional.gelu(x, approximate="tanh"), [A]),
    ("softmax", lambda L, x: L.softmax(x, 1), [A]),
    ("log_softmax", lambda L, x: x.log_softmax(1), [A]),
    ("linear", lambda L, x, y: L.nn.functional.linear(x, y), [A, B]),
    ("mse_loss", lambda L, x, y: L.nn.functional.mse_loss(x, y), [A, B]),
    ("mse_loss_none", lambda L, x, y: L.nn.functional.mse_loss(x, y, reduction="none"), [A, B]),
    ("cross_entropy", lambda L, x: L.nn.functional.cross_entropy(x, L.tensor([0, 1, 3])), [A]),
    ("nll_loss_weight", lambda L, x: L.nn.functional.nll_loss(x, L.tensor([0, 1, 3]),
                                                              weight=L.ones(4, dtype=L.float64)), [A]),
    ("bce", lambda L, x, y: L.nn.functional.binary_cross_entropy(x, y), [P, P]),
    ("bce_weight", lambda L, x: L.nn.functional.binary_cross_entropy(x, x.detach() * 0.5,
                                                                     weight=L.ones(3, 4, dtype=L.float64)), [P]),
    ("bce_logits", lambda L, x, y: L.nn.functional.binary_cross_entropy_with_logits(x, y.sigmoid()), [A, B]),
    ("embedding", lambda L, x: L.nn.functional.embedding(L.tensor([[0, 2], [1, 1]]), x), [A]),
    ("cholesky", lambda L, x: L.linalg.cholesky(x @ x.mT + L.eye(3, dtype=L.float64)), [A]),
    ("adaptive_max_pool2d", lambda L, x: L.nn.functional.adaptive_max_pool2d(x.reshape(1, 1, 3, 4), 2), [A]),
    ("reflection_pad", lambda L, x: L.nn.functional.pad(x.reshape(1, 3, 4), (1, 1), mode="reflect"), [A]),
]


def _run(L: Any, fn: Callable, inputs: list) -> Any:
    xs = [L.tensor(x, dtype=L.float64, requires_grad=True) for x in inputs]
    return _graph(fn(L, *xs).grad_fn)


@pytest.mark.parametrize("name,fn,inputs", CASES, ids=[c[0] for c in CASES])
def test_graph_matches_pytorch(name: str, fn: Callable, inputs: list, torch_ref: Any) -> None:
    want = torch_ref("graph", lambda torch: _run(torch, fn, inputs))
    assert _run(ndgrad, fn, inputs) == want
