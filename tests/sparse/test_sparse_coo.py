"""ndgrad.sparse COO tensors against PyTorch (recorded): construction, printing, coalescing,
conversions, reductions, products with dense matrices and their gradients, errors."""
from __future__ import annotations

from typing import Any, Callable

import numpy as np
import pytest

import ndgrad
from _refs import outcome
from ndgrad.autograd import gradcheck, gradgradcheck

# PyTorch warns once that it does not check sparse invariants by default (ndgrad always checks them)
pytestmark = pytest.mark.filterwarnings("ignore:Sparse invariant checks")

IDX = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) appears twice: uncoalesced
VALS = [3.0, 4.0, 5.0, 1.5, -2.0]


def _sp(M: Any, dtype: Any = None, requires_grad: bool = False) -> Any:
    return M.sparse_coo_tensor(M.tensor(IDX), M.tensor(VALS, dtype=dtype or M.float32), (3, 4),
                               requires_grad=requires_grad)


def _plain(x: Any) -> Any:
    """A comparable value: tensors as arrays (dense) or (indices, values, shape) (sparse)."""
    if isinstance(x, (tuple, list)):
        return type(x)(_plain(v) for v in x)
    if hasattr(x, "is_sparse") and x.is_sparse:
        c = x.coalesce()
        return ("sparse", c.indices().numpy(), c.values().detach().numpy(), tuple(x.shape), str(x.dtype).split(".")[-1])
    if hasattr(x, "detach"):
        return x.detach().numpy()
    return x


def _same(got: Any, want: Any) -> None:
    if isinstance(want, (tuple, list)):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            _same(g, w)
    elif isinstance(want, np.ndarray):
        np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6)
    else:
        assert got == want, (got, want)


VALUES: dict[str, Callable[[Any], Any]] = {
    "repr": lambda M: repr(_sp(M)).replace("ndgrad.", "torch."),
    "repr_coalesced": lambda M: repr(_sp(M).coalesce()).replace("ndgrad.", "torch."),
    "repr_float64_grad": lambda M: repr(_sp(M, M.float64, True)).replace("ndgrad.", "torch."),
    "repr_dense_dims": lambda M: repr(M.sparse_coo_tensor(M.tensor([[0, 2]]), M.tensor([[1.0, 2.0], [3.0, 4.0]]),
                                                          (3, 2))).replace("ndgrad.", "torch."),
    "repr_empty": lambda M: repr(M.sparse_coo_tensor(M.zeros(2, 0, dtype=M.long), M.zeros(0), (2, 2)))
    .replace("ndgrad.", "torch."),
    "structure": lambda M: (_sp(M).is_sparse, _sp(M).is_coalesced(), _sp(M)._nnz(), _sp(M).sparse_dim(),
                            _sp(M).dense_dim(), _sp(M).coalesce().is_coalesced(), _sp(M).coalesce()._nnz(),
                            str(_sp(M).layout).replace("ndgrad.", "torch."), tuple(_sp(M).shape), _sp(M).dim()),
    "coalesce": lambda M: (_sp(M).coalesce().indices(), _sp(M).coalesce().values()),
    "to_dense": lambda M: _sp(M).to_dense(),
    "to_sparse": lambda M: M.tensor([[0.0, 1.5, 0.0], [2.0, 0.0, -1.0]]).to_sparse(),
    "to_sparse_dim1": lambda M: M.tensor([[0.0, 0.0], [2.0, 0.0], [0.0, 3.0]]).to_sparse(1),
    "inferred_size": lambda M: tuple(M.sparse_coo_tensor(M.tensor(IDX), M.tensor(VALS)).shape),
    "sum_all": lambda M: M.sparse.sum(_sp(M)),
    "sum_dim1": lambda M: M.sparse.sum(_sp(M), dim=1),
    "sum_both": lambda M: M.sparse.sum(_sp(M), dim=(0, 1)),
    "tensor_sum": lambda M: (_sp(M).sum(), M.sum(_sp(M))),
    "transpose": lambda M: (_sp(M).t(), _sp(M).t().is_coalesced(), _sp(M).transpose(0, 1).to_dense()),
    "scale": lambda M: (_sp(M) * 2, 2 * _sp(M), _sp(M) / 4, -_sp(M), _sp(M) * M.ones(3, 4) * 3),
    "dense_plus_sparse": lambda M: (M.eye(3, 4) + _sp(M), M.ones(3, 4) - _sp(M)),
    "sparse_plus_sparse": lambda M: (_sp(M) + _sp(M) * 2).to_dense(),
    "dtype_int": lambda M: M.sparse_coo_tensor(M.tensor(IDX), M.ones(5), (3, 4), dtype=M.int64).to_dense(),
    "to_double": lambda M: (_sp(M).double().dtype == M.float64, _sp(M).to(M.float64).to_dense()),
}


@pytest.mark.parametrize("key", sorted(VALUES))
def test_values_match_torch(torch_ref: Any, key: str) -> None:
    want = torch_ref(key, lambda torch: _plain(VALUES[key](torch)))
    _same(_plain(VALUES[key](ndgrad)), want)


def _dense(shape: tuple, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


PRODUCTS: dict[str, Callable[[Any, Any, Any], Any]] = {
    "sparse_mm": lambda M, S, d: M.sparse.mm(S, d),
    "spmm": lambda M, S, d: M.spmm(S, d),
    "mm": lambda M, S, d: M.mm(S, d),
    "matmul": lambda M, S, d: M.matmul(S, d),
    "matmul_op": lambda M, S, d: S @ d,
    "method": lambda M, S, d: S.mm(d),
    "dense_at_sparse": lambda M, S, d: d.t() @ S.t().coalesce(),
    "dense_mm_sparse": lambda M, S, d: M.mm(d.t(), S.t()),
    "matvec": lambda M, S, d: S @ d[:, 0],
    "addmm": lambda M, S, d: M.sparse.addmm(M.ones(3, 2, dtype=M.float64), S, d, beta=0.5, alpha=2.0),
}


@pytest.mark.parametrize("key", sorted(PRODUCTS))
def test_products_and_gradients_match_torch(torch_ref: Any, key: str) -> None:
    """Result, gradient of the dense operand and gradient of the values (on the sparse pattern)."""
    def run(M: Any) -> tuple:
        S = _sp(M, M.float64, requires_grad=True)
        d = M.tensor(_dense((4, 2), 1), requires_grad=True)
        out = PRODUCTS[key](M, S, d)
        w = M.tensor(_dense(tuple(out.shape), 2))
        (out * w).sum().backward()
        g = S.grad
        # the gradient of the stored values, as a dense matrix on the pattern: PyTorch's torch.sparse.mm
        # gives exactly that; its torch.mm / @ give a dense gradient everywhere, compared on the pattern
        pattern = S.detach().coalesce().to_dense() != 0
        g = g.coalesce().to_dense() if g.is_sparse else g * pattern
        return out.detach().numpy(), d.grad.numpy(), g.numpy()
    want = torch_ref(key, run)
    _same(run(ndgrad), want)


def test_spmm_equals_dense_matmul_and_gradchecks() -> None:
    idx = ndgrad.tensor(IDX)
    vals = ndgrad.tensor(VALS, dtype=ndgrad.float64, requires_grad=True)
    d = ndgrad.tensor(_dense((4, 3), 3), requires_grad=True)

    def f(v: Any, x: Any) -> Any:
        return ndgrad.sparse.mm(ndgrad.sparse_coo_tensor(idx, v, (3, 4)), x)

    np.testing.assert_allclose(f(vals, d).detach().numpy(),
                               (ndgrad.sparse_coo_tensor(idx, vals, (3, 4)).to_dense() @ d).detach().numpy())
    assert gradcheck(f, (vals, d)) and gradgradcheck(f, (vals, d))
    g = lambda v, x: x.t() @ ndgrad.sparse_coo_tensor(idx, v, (3, 4)).t()  # noqa: E731 - dense @ sparse
    assert gradcheck(g, (vals, d)) and gradgradcheck(g, (vals, d))
    h = lambda v: ndgrad.sparse_coo_tensor(idx, v, (3, 4)).coalesce().to_dense() * 2  # noqa: E731
    assert gradcheck(h, (vals,)) and gradgradcheck(h, (vals,))
    # to_sparse: the gradient of its values reaches the dense entries they came from
    arr = _dense((3, 4), 4) * (np.abs(_dense((3, 4), 5)) > 0.5)
    dense = ndgrad.tensor(arr, requires_grad=True)
    vals_sp = dense.to_sparse().values()
    (vals_sp * ndgrad.arange(1.0, vals_sp.shape[0] + 1, dtype=ndgrad.float64)).sum().backward()
    want = np.zeros_like(arr)
    want[arr != 0] = np.arange(1.0, (arr != 0).sum() + 1)
    np.testing.assert_array_equal(dense.grad.numpy(), want)


def test_unsupported_operations_say_so() -> None:
    S = _sp(ndgrad)
    for op in (lambda: S.exp(), lambda: S[0], lambda: S.numpy(), lambda: S.relu()):
        with pytest.raises(NotImplementedError, match="to_dense"):
            op()



ERRORS: dict[str, Callable[[Any], Any]] = {
    "indices_1d": lambda M: M.sparse_coo_tensor(M.tensor([0, 1]), M.tensor([1.0, 2.0])),
    "nnz_mismatch": lambda M: M.sparse_coo_tensor(M.tensor([[0, 1]]), M.tensor([1.0]), (2,)),
    # ndgrad always checks the invariants; PyTorch does with check_invariants=True
    "size_too_small": lambda M: M.sparse_coo_tensor(M.tensor([[0, 3]]), M.tensor([1.0, 2.0]), (2,),
                                                    check_invariants=True),
    "negative_index": lambda M: M.sparse_coo_tensor(M.tensor([[0, -1]]), M.tensor([1.0, 2.0]), (2,),
                                                    check_invariants=True),
    "indices_uncoalesced": lambda M: _sp(M).indices(),
    "sparse_plus_dense": lambda M: _sp(M) + M.ones(3, 4),
    "mm_shapes": lambda M: M.sparse.mm(_sp(M), M.ones(3, 2)),
    "mm_shapes_dense_first": lambda M: M.mm(M.ones(2, 2), _sp(M)),
    "mm_dtypes": lambda M: M.sparse.mm(_sp(M), M.ones(4, 2, dtype=M.float64)),
}


@pytest.mark.parametrize("key", sorted(ERRORS))
def test_errors_match_torch(torch_ref: Any, key: str) -> None:
    want = torch_ref(key, lambda torch: outcome(lambda: ERRORS[key](torch)))
    got = outcome(lambda: ERRORS[key](ndgrad))
    assert got[0] == want[0], (got, want)
    assert got[1] == want[1], (got, want)
