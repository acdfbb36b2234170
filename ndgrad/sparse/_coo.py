"""Sparse COO tensors: the subset of PyTorch's sparse_coo layout that graph code uses.

A SparseCOOTensor is a Tensor subclass holding `indices` (sparse_dim x nnz, int64), `values`
(nnz x dense dims, an ordinary Tensor) and a shape. Autograd flows through `values`: every
operation is built from dense, differentiable ops on them (index_add, index_select, the
spmm op below), so gradients reach the values and whatever produced them, and
`S.grad` is read back as a sparse tensor on S's pattern.

Supported: construction (sparse_coo_tensor, to_sparse), coalesce, indices/values, to_dense,
sum, transpose, scaling by numbers or dense tensors, dense + sparse, and sparse @ dense /
dense @ sparse (mm, matmul, spmm, sparse.mm). Anything else raises NotImplementedError
naming the way out (to_dense()), never a wrong dense result.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Size, Tensor, _new, layout
from ..autograd.graph import Node
from ..ops._core import _make, grad_needed, record, tsum, wrap_dim

_cap = D.scalar_name
_UNSUPPORTED = ("this operation is not supported for sparse COO tensors in ndgrad (supported: coalesce, "
                "indices/values, to_dense, sum, transpose, scaling, dense + sparse, and products with dense "
                "matrices); call .to_dense() first")


sparse_coo = layout("sparse_coo")


class SparseCOOTensor(Tensor):
    """A sparse tensor in coordinate format (PyTorch's torch.sparse_coo layout)."""

    __slots__ = ("_indices_arr", "_vals", "_shape", "_coalesced", "_rows_cache")
    _is_sparse_coo = True

    # dense storage does not exist: anything that reaches for it is an unsupported operation
    @property
    def _data(self) -> Any:
        raise NotImplementedError(_UNSUPPORTED)

    # -- structure -------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return Size(self._shape)

    def size(self, dim: int | None = None) -> Any:
        return Size(self._shape) if dim is None else self._shape[wrap_dim(dim, len(self._shape))]

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def dim(self) -> int:
        return len(self._shape)

    def numel(self) -> int:
        return int(np.prod(self._shape, dtype=np.int64))

    def __len__(self) -> int:
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    @property
    def layout(self) -> layout:
        return sparse_coo

    @property
    def is_sparse(self) -> bool:
        return True

    def is_contiguous(self, memory_format: Any = None) -> bool:
        raise RuntimeError("Sparse tensors do not have is_contiguous")

    def sparse_dim(self) -> int:
        """Number of sparse dims (the rows of indices)."""
        return self._indices_arr.shape[0]

    def dense_dim(self) -> int:
        """Number of dense dims (those of each value)."""
        return len(self._shape) - self._indices_arr.shape[0]

    def _nnz(self) -> int:
        return self._indices_arr.shape[1]

    def is_coalesced(self) -> bool:
        """Whether indices are sorted and unique (as coalesce() leaves them)."""
        return self._coalesced

    def _indices(self) -> Tensor:
        return _make(self._indices_arr, D.int64)

    def _values(self) -> Tensor:
        return self._vals

    def indices(self) -> Tensor:
        """The (sparse_dim, nnz) index matrix of a coalesced tensor."""
        if not self._coalesced:
            raise RuntimeError("Cannot get indices on an uncoalesced tensor, please call .coalesce() first")
        return self._indices()

    def values(self) -> Tensor:
        """The (nnz, *dense dims) values of a coalesced tensor (differentiable)."""
        if not self._coalesced:
            raise RuntimeError("Cannot get values on an uncoalesced tensor, please call .coalesce() first")
        return self._vals

    # -- autograd: through the values --------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._vals._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self._vals.requires_grad = value

    def requires_grad_(self, requires_grad: bool = True) -> "SparseCOOTensor":
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def _requires_grad(self) -> bool:  # read by generic checks (grad_needed); the values decide
        return self._vals._requires_grad

    @property
    def grad_fn(self) -> Any:
        return self._vals.grad_fn

    @property
    def is_leaf(self) -> bool:
        return self._vals.is_leaf

    @property
    def grad(self) -> "SparseCOOTensor | None":
        """The gradient of a leaf on its pattern, each position once (as torch.sparse.mm leaves it);
        None before backward. PyTorch's dense entry points (torch.mm, @) instead leave a dense gradient
        over every position; ndgrad's gradient is always this one, for the stored values."""
        g = self._vals.grad
        if g is None:
            return None
        if self._coalesced or self._nnz() == 0:
            return _from_parts(self._indices_arr, g, self._shape, self._coalesced)
        # duplicates share one position: their gradients are equal, so keep the first of each
        lin = np.ravel_multi_index(tuple(self._indices_arr), self._shape[:self.sparse_dim()])
        _, first = np.unique(lin, return_index=True)
        pick = _make(first.astype(np.int64), D.int64)
        return _from_parts(self._indices_arr[:, first], g.index_select(0, pick), self._shape, False)

    @grad.setter
    def grad(self, value: Any) -> None:
        self._vals.grad = None if value is None else value._values()

    def detach(self) -> "SparseCOOTensor":
        return _from_parts(self._indices_arr, self._vals.detach(), self._shape, self._coalesced)

    def clone(self, *, memory_format: Any = None) -> "SparseCOOTensor":
        return _from_parts(self._indices_arr.copy(), self._vals.clone(), self._shape, self._coalesced)

    # -- conversions -------------------------------------------------------------
    def to_dense(self, dtype: Any = None, *, masked_grad: Any = None) -> Tensor:
        """The dense tensor (duplicate entries summed); differentiable in the values."""
        from .._creation import zeros
        from ..ops.indexing import index_put
        vals = self._vals if dtype is None else self._vals.to(dtype)
        out = zeros(self._shape, dtype=vals._dtype)
        if self._nnz() == 0:
            return out + vals.sum() * 0 if vals._requires_grad else out
        key = tuple(_make(row, D.int64) for row in self._indices_arr)
        return index_put(out, key, vals, accumulate=True)

    def to_sparse(self, *args: Any, **kwargs: Any) -> "SparseCOOTensor":
        return self

    def coalesce(self) -> "SparseCOOTensor":
        """Indices sorted row-major and unique, duplicate entries summed (differentiable)."""
        if self._coalesced:
            return self
        sparse_shape = self._shape[:self.sparse_dim()]
        if self._nnz() == 0:
            return _from_parts(self._indices_arr, self._vals, self._shape, True)
        lin = np.ravel_multi_index(tuple(self._indices_arr), sparse_shape)
        uniq, inverse = np.unique(lin, return_inverse=True)
        idx = np.stack(np.unravel_index(uniq, sparse_shape)).astype(np.int64).reshape(len(sparse_shape), -1)
        from .._creation import zeros
        from ..ops.indexing import index_add
        summed = index_add(zeros((len(uniq),) + tuple(self._vals._data.shape[1:]), dtype=self._vals._dtype), 0,
                           _make(inverse.reshape(-1).astype(np.int64), D.int64), self._vals)
        return _from_parts(idx, summed, self._shape, True)

    def to(self, *args: Any, **kwargs: Any) -> "SparseCOOTensor":
        """Only a dtype can change (the device is always the CPU)."""
        dt = kwargs.get("dtype")
        for a in args:
            if isinstance(a, D.dtype):
                dt = a
            elif isinstance(a, Tensor):
                dt = a.dtype
        if dt is None or dt is self._dtype:
            return self
        return _from_parts(self._indices_arr, self._vals.to(dt), self._shape, self._coalesced)

    def cpu(self) -> "SparseCOOTensor":
        return self

    def double(self) -> "SparseCOOTensor":
        return self.to(D.float64)

    def float(self) -> "SparseCOOTensor":  # noqa: A003 - PyTorch's name
        return self.to(D.float32)

    # -- shape and arithmetic ----------------------------------------------------
    def transpose(self, dim0: int, dim1: int) -> "SparseCOOTensor":
        """Swap two sparse dims (the result is not coalesced)."""
        nd = len(self._shape)
        d0, d1 = wrap_dim(dim0, nd), wrap_dim(dim1, nd)
        sd = self.sparse_dim()
        if d0 >= sd or d1 >= sd:
            raise NotImplementedError("transposing dense dims of a sparse tensor is not supported in ndgrad")
        idx = self._indices_arr.copy()
        idx[[d0, d1]] = idx[[d1, d0]]
        shape = list(self._shape)
        shape[d0], shape[d1] = shape[d1], shape[d0]
        return _from_parts(idx, self._vals, tuple(shape), d0 == d1 and self._coalesced)

    def t(self) -> "SparseCOOTensor":
        if len(self._shape) > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {len(self._shape)}D")
        return self if len(self._shape) < 2 else self.transpose(0, 1)

    @property
    def T(self) -> "SparseCOOTensor":  # noqa: N802 - PyTorch's name
        return self.t()

    @property
    def mT(self) -> "SparseCOOTensor":  # noqa: N802 - PyTorch's name
        return self.transpose(-2, -1)

    def _scaled(self, factor: Any, op: str) -> "SparseCOOTensor":
        if isinstance(factor, Tensor) and not factor._is_sparse_coo and factor._data.ndim:
            if tuple(factor._data.shape) != self._shape:
                raise NotImplementedError("ndgrad multiplies a sparse tensor by numbers, 0-d tensors or a dense "
                                          "tensor of its own shape")
            picked = factor[tuple(_make(r, D.int64) for r in self._indices_arr)]
            vals = self._vals * picked if op == "mul" else self._vals / picked
        elif isinstance(factor, (int, float, bool)) or (isinstance(factor, Tensor) and not factor._is_sparse_coo):
            vals = self._vals * factor if op == "mul" else self._vals / factor
        else:
            return NotImplemented
        return _from_parts(self._indices_arr, vals, self._shape, self._coalesced)

    def mul(self, other: Any) -> "SparseCOOTensor":
        if getattr(other, "_is_sparse_coo", False):
            return sparse_mul(self, other)
        return self._scaled(other, "mul")

    def __mul__(self, other: Any) -> Any:
        return self.mul(other)

    __rmul__ = __mul__

    def div(self, other: Any) -> "SparseCOOTensor":
        return self._scaled(other, "div")

    __truediv__ = div

    def __neg__(self) -> "SparseCOOTensor":
        return _from_parts(self._indices_arr, -self._vals, self._shape, self._coalesced)

    def add(self, other: Any, *, alpha: Any = 1) -> Any:
        if getattr(other, "_is_sparse_coo", False):
            return sparse_add(self, other if alpha == 1 else other * alpha)
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")

    __add__ = add

    def __radd__(self, other: Any) -> Any:  # dense + sparse: a dense result
        if isinstance(other, Tensor) or isinstance(other, (int, float)):
            return self.to_dense() + other if not isinstance(other, Tensor) else other + self.to_dense()
        return NotImplemented

    def __sub__(self, other: Any) -> Any:
        if getattr(other, "_is_sparse_coo", False):
            return sparse_add(self, -other)
        raise RuntimeError("sub(sparse, dense) is not supported. Use sub(dense, sparse) instead.")

    def __rsub__(self, other: Any) -> Any:
        return other - self.to_dense() if isinstance(other, Tensor) else NotImplemented

    def sum(self, dim: Any = None, keepdim: bool = False, dtype: Any = None) -> Tensor:
        return sparse_sum(self, dim, dtype=dtype)

    def mm(self, mat2: Tensor) -> Tensor:
        return mm(self, mat2)

    def matmul(self, other: Tensor) -> Tensor:
        return mm(self, other)

    def __matmul__(self, other: Any) -> Any:
        return mm(self, other) if isinstance(other, Tensor) else NotImplemented

    def __rmatmul__(self, other: Any) -> Any:
        return mm(other, self) if isinstance(other, Tensor) else NotImplemented

    # -- printing ----------------------------------------------------------------
    def __repr__(self, *, tensor_contents: Any = None) -> str:
        return sparse_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, proto: int) -> Any:
        raise NotImplementedError("saving sparse tensors is not supported in ndgrad; save indices and values")


_SPARSE_INIT_SLOTS = ("_dtype", "grad_fn", "_grad", "_version", "_base", "_acc", "_output_nr", "_retains_grad",
                      "_extra")


def _from_parts(indices: np.ndarray, values: Tensor, shape: tuple, coalesced: bool) -> SparseCOOTensor:
    s = _new(SparseCOOTensor)
    s._indices_arr = indices
    s._vals = values
    s._shape = tuple(int(x) for x in shape)
    s._coalesced = bool(coalesced)
    s._rows_cache = None
    s._dtype = values._dtype
    s._version = [0]
    s._base = None
    s._output_nr = 0
    s._retains_grad = False
    s._extra = None
    return s


# ---------------------------------------------------------------------------
# construction
# ---------------------------------------------------------------------------
def _as_index_array(indices: Any) -> np.ndarray:
    if isinstance(indices, Tensor):
        arr = indices._data
    else:
        arr = np.asarray(indices.numpy() if hasattr(indices, "numpy") and not isinstance(indices, np.ndarray)
                         else indices)
    if arr.dtype.kind not in "iu":
        if arr.size == 0:
            arr = arr.astype(np.int64)
        else:
            raise RuntimeError("indices must be an int64 tensor")
    return arr.astype(np.int64)


def sparse_coo_tensor(indices: Any, values: Any, size: Any = None, *, dtype: Any = None, device: Any = None,
                      pin_memory: bool = False, requires_grad: bool = False, check_invariants: Any = None,
                      is_coalesced: Any = None) -> SparseCOOTensor:
    """A sparse COO tensor with the given indices (sparse_dim x nnz) and values (nnz x dense dims)."""
    from .._creation import tensor
    idx = _as_index_array(indices)
    vals = values if isinstance(values, Tensor) else tensor(values)
    if dtype is not None and vals._dtype is not dtype:
        vals = vals.to(dtype)
    if idx.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(idx.shape)}")
    if vals._data.ndim == 0:
        raise RuntimeError("values must have at least one dimension (nnz), but got a 0-d tensor")
    nnz = idx.shape[1]
    if vals._data.shape[0] != nnz:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {nnz}, nnz from "
                           f"values: {vals._data.shape[0]}")
    sd = idx.shape[0]
    if nnz and idx.min() < 0:
        d = int(np.argmax((idx < 0).any(axis=1)))
        raise RuntimeError(f"found negative index {int(idx[d].min())} for dim {d}")
    if size is None:
        sparse_shape = tuple(int(m) + 1 for m in idx.max(axis=1)) if nnz else (0,) * sd
        shape = sparse_shape + tuple(vals._data.shape[1:])
    else:
        shape = tuple(int(s) for s in (size.tolist() if hasattr(size, "tolist") else size))
        if len(shape) != sd + vals._data.ndim - 1:
            raise RuntimeError(f"number of dimensions must be sparse_dim ({sd}) + dense_dim "
                               f"({vals._data.ndim - 1}), but got {len(shape)}")
        for d in range(sd):
            if nnz and int(idx[d].max()) >= shape[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {shape[d]} but found "
                                   f"index {int(idx[d].max())}")
        if tuple(vals._data.shape[1:]) != shape[sd:]:
            raise RuntimeError(f"values has incorrect size, expected {[nnz] + list(shape[sd:])}, got "
                               f"{list(vals._data.shape)}")
    if requires_grad:
        vals = vals.detach().requires_grad_(True)
    elif vals._requires_grad:  # a tensor made from values that require grad is not a leaf (PyTorch's node name)
        from ..autograd.graph import rename_grad_fn
        vals = vals.view_as(vals)
        rename_grad_fn(vals, "SparseCooTensorWithDimsAndTensorsBackward0")
    # as PyTorch: a new tensor counts as coalesced only with at most one entry (or when the caller says so)
    coalesced = bool(is_coalesced) if is_coalesced is not None else nnz <= 1
    return _from_parts(idx, vals, shape, coalesced)


def to_sparse(input: Tensor, sparse_dim: int | None = None, *, layout: Any = None, blocksize: Any = None,
              dense_dim: Any = None) -> SparseCOOTensor:
    """The COO form of a dense tensor: its non-zero entries (or non-zero slices over the first sparse_dim dims)."""
    if input._is_sparse_coo:
        return input
    if layout is not None and str.__str__(layout) != "sparse_coo":
        raise NotImplementedError(f"to_sparse with layout {layout} is not supported in ndgrad")
    arr = input._data
    nd = arr.ndim
    sd = nd if sparse_dim is None else int(sparse_dim)
    if not 0 < sd <= nd and nd:
        raise RuntimeError(f"sparse_dim argument must be in [1, {nd}] range, but {sd} is given")
    if nd == 0:
        raise RuntimeError("to_sparse: a 0-d tensor has no sparse dims")
    mask = arr != 0 if sd == nd else (arr != 0).reshape(arr.shape[:sd] + (-1,)).any(-1)
    idx = np.stack(np.nonzero(mask)).astype(np.int64).reshape(sd, -1)
    vals = input[tuple(_make(r, D.int64) for r in idx)]
    return _from_parts(idx, vals, tuple(arr.shape), True)


# ---------------------------------------------------------------------------
# sparse x dense products
# ---------------------------------------------------------------------------
def _row_groups(S: SparseCOOTensor, transpose: bool) -> tuple:
    """(order, out_rows, starts) to sum products row by row with np.add.reduceat (cached per tensor)."""
    if S._rows_cache is None:
        S._rows_cache = {}
    hit = S._rows_cache.get(transpose)
    if hit is None:
        rows = S._indices_arr[1 if transpose else 0]
        order = np.argsort(rows, kind="stable")
        sr = rows[order]
        starts = np.flatnonzero(np.concatenate([[True], sr[1:] != sr[:-1]])) if sr.size else np.zeros(0, np.int64)
        hit = S._rows_cache[transpose] = (order, sr[starts] if sr.size else sr, starts)
    return hit


def _spmm_array(S: SparseCOOTensor, vals: np.ndarray, dense: np.ndarray, transpose: bool) -> np.ndarray:
    """(S or S^T) @ dense on arrays; vals are S's values (possibly cast)."""
    rows_i, cols_i = (1, 0) if transpose else (0, 1)
    n_out = S._shape[rows_i]
    order, out_rows, starts = _row_groups(S, transpose)
    out = np.zeros((n_out,) + dense.shape[1:], np.result_type(vals, dense))
    if order.size:
        cols = S._indices_arr[cols_i][order]
        prod = dense[cols] * vals[order].reshape((-1,) + (1,) * (dense.ndim - 1))
        out[out_rows] = np.add.reduceat(prod, starts, axis=0)
    return out


class SparseAddmmBackward0(Node):
    """out = S @ D: grad D = S^T @ g, grad values[k] = <g[row_k], D[col_k]>."""
    __slots__ = ("sparse", "transpose")

    def backward(self, g: Tensor) -> tuple:
        vals, dense = self.saved()
        S = self.sparse
        gv = gd = None
        if self.next_functions[1][0] is not None:
            gd = _spmm(S, vals, g, not self.transpose)
        if self.next_functions[0][0] is not None:
            r, c = (1, 0) if self.transpose else (0, 1)
            rows = _make(S._indices_arr[r], D.int64)
            cols = _make(S._indices_arr[c], D.int64)
            gv = (g.index_select(0, rows) * dense.index_select(0, cols))
            gv = gv.sum(-1) if gv._data.ndim > 1 else gv
        return gv, gd

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (vals, dense), (tv, td) = ins, ts  # bilinear in the values and the dense operand
        S = self.sparse
        return tsum(None if tv is None else _spmm(S, tv, dense, self.transpose),
                    None if td is None else _spmm(S, vals, td, self.transpose))


def _spmm(S: SparseCOOTensor, vals: Tensor, dense: Tensor, transpose: bool = False) -> Tensor:
    out = _spmm_array(S, vals._data, dense._data, transpose)
    res = _make(out, D._BY_NP[out.dtype])
    if grad_needed(vals, dense):
        node = SparseAddmmBackward0()
        node.sparse, node.transpose = S, transpose
        node.save(vals, dense)
        record(node, res, (vals, dense))
    return res


def _check_mm(S: SparseCOOTensor, dense: Tensor, sparse_first: bool) -> None:
    if S.dense_dim() or S.sparse_dim() != 2:
        raise NotImplementedError("ndgrad multiplies 2-d sparse matrices (no dense dims) with dense tensors")
    if dense._data.ndim not in (1, 2):
        raise RuntimeError(f"mat2 must be a matrix, got {dense._data.ndim}-D tensor")
    if S._dtype is not dense._dtype:
        raise RuntimeError(f"expected scalar type {_cap(S._dtype)} but found {_cap(dense._dtype)}")
    # (dense @ sparse runs as (S^T @ dense^T)^T: PyTorch's message speaks of that product)
    inner = S._shape[1] if sparse_first else S._shape[0]
    outer = dense._data.shape[0] if sparse_first else dense._data.shape[-1]
    if inner != outer:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {inner}, got {outer}")


def mm(mat1: Tensor, mat2: Tensor) -> Tensor:
    """sparse @ dense or dense @ sparse: a dense result, differentiable in the dense operand and the values."""
    s1, s2 = mat1._is_sparse_coo, mat2._is_sparse_coo
    if not (s1 or s2):  # torch.spmm / torch.sparse.mm of dense matrices: the dense product
        from ..ops.linalg import mm as dense_mm
        return dense_mm(mat1, mat2)
    if s1 and s2:
        raise NotImplementedError("sparse @ sparse is not supported in ndgrad; convert one operand with .to_dense()")
    if s1:
        _check_mm(mat1, mat2, True)
        vec = mat2._data.ndim == 1
        out = _spmm(mat1, mat1._vals, mat2.unsqueeze(-1) if vec else mat2)
        return out.squeeze(-1) if vec else out
    _check_mm(mat2, mat1, False)
    vec = mat1._data.ndim == 1
    d = mat1.unsqueeze(0) if vec else mat1
    out = _spmm(mat2, mat2._vals, d.mT, transpose=True).mT  # (S^T D^T)^T
    return out.squeeze(0) if vec else out


# ---------------------------------------------------------------------------
# reductions and sparse-sparse elementwise ops
# ---------------------------------------------------------------------------
def sparse_sum(input: SparseCOOTensor, dim: Any = None, dtype: Any = None) -> Tensor:
    """Sum of all entries (a dense 0-d tensor), or over dims: sparse while sparse dims remain, else dense."""
    vals = input._vals if dtype is None else input._vals.to(dtype)
    if dim is None:
        return vals.sum()
    nd = len(input._shape)
    dims = sorted({wrap_dim(d, nd) for d in ((dim,) if isinstance(dim, int) else dim)})
    sd = input.sparse_dim()
    sparse_red = [d for d in dims if d < sd]
    dense_red = tuple(d - sd + 1 for d in dims if d >= sd)
    if dense_red:
        vals = vals.sum(dense_red)
    keep = [d for d in range(sd) if d not in sparse_red]
    out_shape = tuple(input._shape[d] for d in keep) + tuple(
        s for i, s in enumerate(input._shape[sd:], sd) if i not in dims)
    if not keep:
        return vals.sum(0)
    res = _from_parts(input._indices_arr[keep], vals, out_shape, False)
    return res.coalesce()


def sparse_add(a: SparseCOOTensor, b: SparseCOOTensor) -> SparseCOOTensor:
    """a + b with the union of their patterns (uncoalesced: entries are concatenated)."""
    if a._shape != b._shape:
        raise RuntimeError(f"add: expected 'self' and 'other' to have same size, but self has size {list(a._shape)} "
                           f"while other has size {list(b._shape)}")
    from ..ops.shape import cat
    dt = D.result_dtype(a._vals, b._vals)
    idx = np.concatenate([a._indices_arr, b._indices_arr], axis=1)
    return _from_parts(idx, cat([a._vals.to(dt), b._vals.to(dt)]), a._shape, False)


def sparse_mul(a: SparseCOOTensor, b: SparseCOOTensor) -> SparseCOOTensor:
    """Elementwise product of two sparse tensors of one shape (the intersection of their patterns)."""
    if a._shape != b._shape:
        raise RuntimeError(f"mul: expected 'self' and 'other' to have same size, but self has size {list(a._shape)} "
                           f"while other has size {list(b._shape)}")
    return to_sparse(a.to_dense() * b.to_dense(), a.sparse_dim())


# ---------------------------------------------------------------------------
# printing: PyTorch's layout, indices and values each printed as a tensor
# ---------------------------------------------------------------------------
def sparse_repr(S: SparseCOOTensor) -> str:
    from .._printing import _add_suffixes, _contents_str, _dtype_str
    indent = len("tensor(")
    parts = []
    for name, t in (("indices", S._indices()), ("values", S._vals.detach())):
        prefix = f"{name}=tensor("
        arr = t._data
        body = _contents_str(arr, t._dtype.category, indent + len(prefix)) if arr.size else "[]"
        if arr.size == 0:
            body += ", size=" + str(tuple(arr.shape))
        parts.append(prefix + body + ")")
    text = "tensor(" + parts[0] + ",\n" + " " * indent + parts[1]
    suffixes = ["size=" + str(tuple(S._shape)), f"nnz={S._nnz()}"]
    dt = S._dtype
    if not (dt is D.get_default_dtype() or dt is D.int64 or dt is D.bool):
        suffixes.append("dtype=" + _dtype_str(dt))
    suffixes.append(f"layout={sparse_coo!r}")
    fn = S._vals.grad_fn
    if fn is not None:
        from .._printing import _node_name
        suffixes.append(f"grad_fn=<{_node_name(fn)}>")
    elif S._vals._requires_grad:
        suffixes.append("requires_grad=True")
    # PyTorch starts the suffixes of a sparse tensor on a line of their own
    return _add_suffixes(text + ",\n" + " " * indent + suffixes[0], suffixes[1:], indent)
