"""Matrix products and linear algebra. Products go to BLAS through NumPy's matmul."""
from __future__ import annotations

from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import (_fw_levels, _make, _state, autocast_op, check_tensor, grad_needed, graph_free, has_fw,
                    is_low_float, record, register, tsum, upcast)
from ._core import _vmap_levels, is_batched, vmap_rule


_cap = D.scalar_name


def _same_dtype(name: str, a: Tensor, b: Tensor) -> None:
    if a._dtype is not b._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {c_name(a._dtype)} != "
                           f"{c_name(b._dtype)}" if name in ("mm", "matmul") else
                           f"{name}: expected both vectors to have same dtype, but found {_cap(a._dtype)} and "
                           f"{_cap(b._dtype)}" if name == "dot" else
                           f"expected scalar type {_cap(a._dtype)} but found {_cap(b._dtype)}")


_C_NAMES = {"float32": "float", "float64": "double", "float16": "c10::Half", "int64": "long int", "int32": "int",
            "int16": "short int", "int8": "signed char", "uint8": "unsigned char", "bool": "bool",
            "complex64": "c10::complex<float>", "complex128": "c10::complex<double>"}


def _matmul(a: np.ndarray, b: np.ndarray, dt: D.dtype | None) -> np.ndarray:
    """a @ b; float16/bfloat16 operands multiply and accumulate in float32 (PyTorch's CPU
    kernels), rounded once to `dt` (left in float32 when `dt` is None)."""
    if a.dtype.char in "eE":
        out = np.matmul(upcast(a), upcast(b))
        return out if dt is None else out.astype(dt.np)
    if a.ndim > 2 and a.shape[-1] == 1 and b.ndim > 1:
        # stacks of outer products (per-example weight gradients under vmap): NumPy's matmul calls
        # BLAS once per matrix of the stack, several times slower than one einsum
        return np.einsum("...i,...j->...ij", a[..., 0], b[..., 0, :])
    return np.matmul(a, b)


def c_name(d: D.dtype) -> str:
    """The C++ type name PyTorch prints for a dtype in some messages ("float", "long int")."""
    return _C_NAMES.get(d.name, d.name)


def _wrap(d: int, nd: int) -> int:
    from ._core import wrap_dim
    return wrap_dim(d, nd)


def _sparse_mm(a: Tensor, b: Tensor) -> Tensor:
    """A product with a sparse COO operand (ndgrad.sparse, imported on first use)."""
    from ..sparse._coo import mm as sparse_mm
    return sparse_mm(a, b)


class MmBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        ga = mm(g, b.mT.conj() if b.is_complex() else b.mT) if self.next_functions[0][0] is not None else None
        gb = mm(a.mT.conj() if a.is_complex() else a.mT, g) if self.next_functions[1][0] is not None else None
        return ga, gb

    def fast(self, g: np.ndarray) -> tuple:
        a, b = self.saved()
        ga = g @ b._data.conj().T if self.next_functions[0][0] is not None else None
        gb = a._data.conj().T @ g if self.next_functions[1][0] is not None else None
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _bilinear_jvp(mm, ins, ts)


def _bilinear_jvp(prod: Any, ins: tuple, ts: tuple) -> Any:
    """Tangent of a product bilinear in its two inputs: prod(ta, b) + prod(a, tb)."""
    (a, b), (ta, tb) = ins, ts
    return tsum(None if ta is None else prod(ta, b), None if tb is None else prod(a, tb))


@register()
@autocast_op("lower")
def mm(input: Tensor, mat2: Tensor) -> Tensor:
    """Matrix product of two 2-d tensors."""
    if _vmap_levels and is_batched(input, mat2):
        return vmap_rule("matmul", mm, input, mat2)
    check_tensor(input, "mm", "input", 1)
    check_tensor(mat2, "mm", "mat2", 2)
    if input._is_sparse_coo or mat2._is_sparse_coo:
        return _sparse_mm(input, mat2)
    if input._data.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2._data.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    (n, k), (k2, m) = input._data.shape, mat2._data.shape
    if k != k2:
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({n}x{k} and {k2}x{m})")
    _same_dtype("mm", input, mat2)
    res = _make(_matmul(input._data, mat2._data, input._dtype), input._dtype)
    if _state.enabled and (input._requires_grad or mat2._requires_grad) or _fw_levels and has_fw(input, mat2):
        n_ = MmBackward0()
        n_.save(input if mat2._requires_grad else None, mat2 if input._requires_grad else None)
        record(n_, res, (input, mat2))
    return res


class MvBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, v = self.saved()
        ga = outer(g, v) if self.next_functions[0][0] is not None else None
        gv = mv(a.mT, g) if self.next_functions[1][0] is not None else None
        return ga, gv

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _bilinear_jvp(mv, ins, ts)


@register()
def mv(input: Tensor, vec: Tensor) -> Tensor:
    """Matrix-vector product."""
    if _vmap_levels and is_batched(input, vec):
        return vmap_rule("matmul", mv, input, vec)
    check_tensor(input, "mv", "input", 1)
    check_tensor(vec, "mv", "vec", 2)
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input._data.ndim}, {vec._data.ndim}")
    if input._data.shape[1] != vec._data.shape[0]:
        raise RuntimeError(f"size mismatch, got input ({input._data.shape[0]}), mat ({input._data.shape[0]}x"
                           f"{input._data.shape[1]}), vec ({vec._data.shape[0]})")
    _same_dtype("mv", input, vec)
    res = _make(_matmul(input._data, vec._data, input._dtype), input._dtype)
    if grad_needed(input, vec):
        n = MvBackward0()
        n.save(input, vec)
        record(n, res, (input, vec))
    return res


class DotBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        return (g * b if self.next_functions[0][0] is not None else None,
                g * a if self.next_functions[1][0] is not None else None)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _bilinear_jvp(dot, ins, ts)


@register()
def dot(input: Tensor, other: Tensor) -> Tensor:
    """Inner product of two 1-d tensors of equal length."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("matmul", dot, input, other)
    check_tensor(input, "dot", "input", 1)
    check_tensor(other, "dot", "tensor", 2)
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and {other._data.ndim}D tensors")
    if input._data.shape[0] != other._data.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] and src "
                           f"[{other._data.shape[0]}] to have the same number of elements, but got "
                           f"{input._data.shape[0]} and {other._data.shape[0]} elements respectively")
    _same_dtype("dot", input, other)
    res = _make(np.asarray(_matmul(input._data, other._data, input._dtype)), input._dtype)
    if grad_needed(input, other):
        n = DotBackward0()
        n.save(input, other)
        record(n, res, (input, other))
    return res


@register()
def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dim of both; shape input.shape[:-1] + other.shape[:-1]."""
    check_tensor(input, "inner", "input", 1)
    check_tensor(other, "inner", "other", 2)
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input._data.shape)} and {list(other._data.shape)}")
    if input._data.ndim == 1 and other._data.ndim == 1:
        return dot(input, other)
    return tensordot(input, other, dims=([-1], [-1]))


@register()
def vdot(input: Tensor, other: Tensor) -> Tensor:
    """dot with the first argument conjugated."""
    return dot(input.conj(), other)


class BmmBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        ga = matmul(g, b.mT) if self.next_functions[0][0] is not None else None
        gb = matmul(a.mT, g) if self.next_functions[1][0] is not None else None
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _bilinear_jvp(bmm, ins, ts)


@register()
@autocast_op("lower")
def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    """Batched matrix product of two 3-d tensors with equal batch size."""
    if _vmap_levels and is_batched(input, mat2):
        return vmap_rule("matmul", bmm, input, mat2)
    if input._data.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2._data.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    (b, _, k), (b2, k2, _) = input._data.shape, mat2._data.shape
    if b != b2 or k != k2:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{b}, {k}] but got: "
                           f"[{b2}, {k2}].")
    _same_dtype("bmm", input, mat2)
    res = _make(_matmul(input._data, mat2._data, input._dtype), input._dtype)
    if grad_needed(input, mat2):
        n_ = BmmBackward0()
        n_.save(input, mat2)
        record(n_, res, (input, mat2))
    return res


class MatmulBackward(Node):
    """General matmul with batch broadcasting; the engine sums batch dims back."""
    __slots__ = ("va", "vb")

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        va, vb = self.va, self.vb
        a2 = a.unsqueeze(0) if va else a
        b2 = b.unsqueeze(-1) if vb else b
        if va:
            g = g.unsqueeze(-2)
        if vb:
            g = g.unsqueeze(-1)
        ga = gb = None
        if self.next_functions[0][0] is not None:
            ga = matmul(g, b2.mT.conj() if b2.is_complex() else b2.mT)
            if va:
                ga = ga.squeeze(-2)
        if self.next_functions[1][0] is not None:
            gb = matmul(a2.mT.conj() if a2.is_complex() else a2.mT, g)
            if vb:
                gb = gb.squeeze(-1)
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return _bilinear_jvp(matmul, ins, ts)


MatmulBackward.__name__ = "UnsafeViewBackward0"


@register()
@autocast_op("lower")
def matmul(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Matrix product with NumPy/PyTorch rules: 1-d operands are vectors, batch dims broadcast."""
    if _vmap_levels and is_batched(input, other):
        return vmap_rule("matmul", matmul, input, other)
    if out is not None:  # torch.matmul(a, b, out=y): computed, then written into `out` (no graph)
        from ._core import write_out
        return write_out(out, matmul(input, other), "matmul", (input, other))
    if getattr(input, "_is_sparse_coo", False) or getattr(other, "_is_sparse_coo", False):
        return _sparse_mm(input, other)
    check_tensor(input, "matmul", "input", 1)
    check_tensor(other, "matmul", "other", 2)
    na, nb = input._data.ndim, other._data.ndim
    if na == 0 or nb == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {na}D and {nb}D")
    if na == 2 and nb == 2:
        return mm(input, other)
    if na == 1 and nb == 1:
        return dot(input, other)
    if na == 2 and nb == 1:
        return mv(input, other)
    sa, sb = input._data.shape, other._data.shape
    ka = sa[-1]
    kb = sb[0] if nb == 1 else sb[-2]
    if ka != kb:
        if na == 1:
            raise RuntimeError(f"size mismatch, got input ({sb[-2]}), mat ({sb[-2]}x{sb[-1]}), vec ({ka})"
                               if nb == 2 else f"Expected size for first two dimensions of batch2 tensor to be: "
                               f"[{sb[0] if nb > 2 else 1}, {ka}] but got: [{sb[0]}, {kb}].")
        rows = int(np.prod(sa[:-1]))
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{ka} and {kb}x{sb[-1]})"
                           if nb <= 2 else f"Expected size for first two dimensions of batch2 tensor to be: "
                           f"[{int(np.prod(sa[:-2])) if na > 2 else 1}, {ka}] but got: [{sb[0]}, {kb}].")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {c_name(input._dtype)} != "
                           f"{c_name(other._dtype)}")
    if nb == 2 and na > 2:
        # (..., n, k) @ (k, m): one GEMM on the rows folded together (NumPy would loop one small GEMM per
        # leading index, and the weight's gradient would sum as many products); PyTorch's graph too:
        # UnsafeViewBackward0 <- MmBackward0 <- (ViewBackward0 of the input, the matrix)
        from .shape import UnsafeViewBackward0, _reshape_node, reshape
        r = mm(reshape(input, -1, ka), other)
        return _reshape_node(r, _make(r._data.reshape(sa[:-1] + (sb[-1],)), r._dtype), UnsafeViewBackward0)
    try:
        out = _matmul(input._data, other._data, input._dtype)
    except ValueError:
        from ._core import broadcast_shapes_or_raise
        broadcast_shapes_or_raise(sa[:-2], sb[:-2])
        raise
    res = _make(out, input._dtype)
    if grad_needed(input, other):
        n = MatmulBackward()
        n.va, n.vb = na == 1, nb == 1
        n.save(input, other)
        record(n, res, (input, other))
    return res


@register()
def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """Outer product of two 1-d tensors."""
    for arg, t in (("self", input), ("vec2", vec2)):
        if t._data.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {arg}, but got {t._data.ndim}-D")
    return input.unsqueeze(1) * vec2.unsqueeze(0)


register("ger")(outer)


class AddmmBackward0(Node):
    """input + mat1 @ mat2 as one node (nn.Linear on a batch): next_functions are (input, mat1, mat2)."""
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        a, b = self.saved()
        nf = self.next_functions
        return (g if nf[0][0] is not None else None,
                mm(g, b.mT) if nf[1][0] is not None else None,
                mm(a.mT, g) if nf[2][0] is not None else None)

    def fast(self, g: np.ndarray) -> tuple:
        a, b = self.saved()
        nf = self.next_functions
        return (g if nf[0][0] is not None else None,
                g @ b._data.T if nf[1][0] is not None else None,
                a._data.T @ g if nf[2][0] is not None else None)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return tsum(ts[0], _bilinear_jvp(mm, ins[1:], ts[1:]))


@register(node_name="AddmmBackward0", inplace=True)
@autocast_op("lower")
def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)."""
    if _vmap_levels and is_batched(input, mat1, mat2):
        return vmap_rule("addmm", addmm, input, mat1, mat2, beta=beta, alpha=alpha)
    if (beta == 1 and alpha == 1 and isinstance(input, Tensor) and isinstance(mat1, Tensor)
            and isinstance(mat2, Tensor) and input._dtype is mat1._dtype is mat2._dtype
            and input._dtype.category == 2 and mat1._data.ndim == 2 and mat2._data.ndim == 2
            and input._data.ndim <= 2 and mat1._data.shape[1] == mat2._data.shape[0]):
        low = is_low_float(input._dtype)
        out = _matmul(mat1._data, mat2._data, None if low else input._dtype)
        try:
            out += upcast(input._data)
        except ValueError:  # input does not broadcast to the product: the composite path raises PyTorch's error
            pass
        else:
            res = _make(out.astype(input._dtype.np) if low else out, input._dtype)
            if (_state.enabled and (input._requires_grad or mat1._requires_grad or mat2._requires_grad))\
                    or _fw_levels and has_fw(input, mat1, mat2):
                n_ = AddmmBackward0()
                n_.save(mat1 if mat2._requires_grad else None, mat2 if mat1._requires_grad else None)
                record(n_, res, (input, mat1, mat2))
            return res
    p = mm(mat1, mat2)
    return (input if beta == 1 else input * beta) + (p if alpha == 1 else p * alpha)


@register(inplace=True)
def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat @ vec)."""
    p = mv(mat, vec)
    return (input if beta == 1 else input * beta) + (p if alpha == 1 else p * alpha)


@register(inplace=True)
@autocast_op("lower")
def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * bmm(batch1, batch2)."""
    p = bmm(batch1, batch2)
    return (input if beta == 1 else input * beta) + (p if alpha == 1 else p * alpha)


@register(inplace=True)
@autocast_op("lower")
def addbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * sum over the batch of bmm(batch1, batch2)."""
    p = bmm(batch1, batch2).sum(0)
    return (input if beta == 1 else input * beta) + (p if alpha == 1 else p * alpha)


@register(inplace=True)
def addr(input: Tensor, vec1: Tensor, vec2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * outer(vec1, vec2)."""
    p = outer(vec1, vec2)
    return (input if beta == 1 else input * beta) + (p if alpha == 1 else p * alpha)


@register(method=False)
@autocast_op("lower")
def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, built from permute/reshape/matmul/sum so it is differentiable."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    from ._einsum import einsum as _einsum
    return _einsum(equation, operands)


@register(method=False)
def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Sum products over the given dims of a and b (an int n means a's last n with b's first n)."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        da = list(range(a.dim() - dims, a.dim()))
        db = list(range(dims))
    else:
        da, db = dims
        da = [da] if isinstance(da, int) else list(da)
        db = [db] if isinstance(db, int) else list(db)
    if len(da) != len(db):
        raise RuntimeError(f"both dimension lists should have same length, got {len(da)} and {len(db)}")
    if len(da) > a.dim() or len(db) > b.dim():
        raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={len(da)}")
    for x in da:
        if a.dim() == 0:
            raise IndexError(f"Dimension specified as {x} but tensor has no dimensions")
    for y in db:
        if b.dim() == 0:
            raise IndexError(f"Dimension specified as {y} but tensor has no dimensions")
    da = [_wrap(d, a.dim()) for d in da]
    db = [_wrap(d, b.dim()) for d in db]
    for x, y in zip(da, db):
        if a.shape[x] != b.shape[y]:
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[x]} in dim {x} "
                               f"and second has size {b.shape[y]} in dim {y}")
    fa = [d for d in range(a.dim()) if d not in da]
    fb = [d for d in range(b.dim()) if d not in db]
    k = int(np.prod([a.shape[d] for d in da])) if da else 1
    am = a.permute(fa + da).reshape(-1, k)
    bm = b.permute(db + fb).reshape(k, -1)
    return mm(am, bm).reshape([a.shape[d] for d in fa] + [b.shape[d] for d in fb])


class TraceBackward0(Node):
    """Sum of the main diagonal: its gradient is g on the diagonal of zeros."""
    __slots__ = ("shape",)

    def backward(self, g: Tensor) -> tuple:
        from .indexing import _scatter_into_zeros
        k = self.shape[0] if self.shape[0] < self.shape[1] else self.shape[1]
        return (_scatter_into_zeros(g.expand(k), (np.arange(k), np.arange(k)), self.shape, True),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return trace(ts[0])


@register()
def trace(input: Tensor) -> Tensor:
    """Sum of the main diagonal of a 2-d tensor."""
    if input._data.ndim != 2:
        raise RuntimeError("trace: expected a matrix, but got tensor with dim " + str(input._data.ndim))
    if not grad_needed(input) or _vmap_levels and is_batched(input):
        return input.diagonal().sum()
    res = graph_free(input)[0].diagonal().sum()
    n = TraceBackward0()
    n.shape = input._data.shape
    return record(n, res, (input,))


@register()
def kron(input: Tensor, other: Tensor) -> Tensor:
    """Kronecker product."""
    a, b = input, other
    nd = max(a.dim(), b.dim())
    a = a.reshape((1,) * (nd - a.dim()) + tuple(a.shape))
    b = b.reshape((1,) * (nd - b.dim()) + tuple(b.shape))
    ia = []
    ib = []
    for i in range(nd):
        ia += [a.shape[i], 1]
        ib += [1, b.shape[i]]
    return (a.reshape(ia) * b.reshape(ib)).reshape([a.shape[i] * b.shape[i] for i in range(nd)])


@register(method=False)
@autocast_op("fp32")
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0) -> Tensor:
    """p-norm distances between each row of x1 and each row of x2 (batched)."""
    from .reduction import vector_norm
    for name, x in (("X1", x1), ("X2", x2)):
        if x._data.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x._data.ndim}D")
        if x._dtype.category != 2:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_cap(x._dtype)}")
    if is_low_float(x1._dtype):  # as PyTorch's CPU kernel (autocast runs cdist in float32)
        raise NotImplementedError(f"\"cdist\" not implemented for '{_cap(x1._dtype)}'")
    if x1._data.shape[-1] != x2._data.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1._data.shape[-1]} X2: "
                           f"{x2._data.shape[-1]}")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return vector_norm(diff, p, dim=-1)


@register()
def cross(input: Tensor, other: Tensor, dim: int | None = None) -> Tensor:
    """Cross product of 3-vectors along dim (the first dim of size 3 when None)."""
    if input._data.ndim != other._data.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    if input._dtype is not other._dtype:
        raise RuntimeError(f"expected scalar type {_cap(input._dtype)} but found {_cap(other._dtype)}")
    if dim is None:
        d = next((i for i, s in enumerate(input.shape) if s == 3), None)
        if d is None:
            raise RuntimeError("no dimension of size 3 in input")
    else:
        d = _wrap(dim, input._data.ndim)
    if input._data.shape[d] != 3 or other._data.shape[d] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim if dim is not None else d} must have length 3. "
                           f"Got {input._data.shape[d]} and {other._data.shape[d]}")
    a0, a1, a2 = input.unbind(d)
    b0, b1, b2 = other.unbind(d)
    from .shape import stack
    return stack([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)


# ---------------------------------------------------------------------------
# decompositions and solvers (ndgrad.linalg)
# ---------------------------------------------------------------------------
class LinAlgError(RuntimeError):
    """A linear-algebra failure (singular or not positive-definite input): PyTorch's torch.linalg.LinAlgError."""


# the name tracebacks print, as PyTorch's: torch._C._LinAlgError
LinAlgError.__module__, LinAlgError.__name__, LinAlgError.__qualname__ = "ndgrad._C", "_LinAlgError", "_LinAlgError"


def _square(A: Tensor, name: str, square: bool = True) -> None:
    # PyTorch's argument checks for a linalg function of (batches of) floating matrices
    check_tensor(A, f"linalg_{name}", "A", 1)
    if A._data.ndim < 2:
        raise RuntimeError(f"linalg.{name}: The input tensor A must have at least 2 dimensions.")
    if square and A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"linalg.{name}: A must be batches of square matrices, but they are "
                           f"{A._data.shape[-2]} by {A._data.shape[-1]} matrices")
    if A._dtype.category < 2:
        raise RuntimeError(f"linalg.{name}: Expected a floating point or complex tensor as input. Got "
                           f"{_cap(A._dtype)}")


class LinalgInvExBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        (inv_a,) = self.saved()
        t = inv_a.mH
        return (-matmul(matmul(t, g), t),)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return -matmul(matmul(out, ts[0]), out)


@autocast_op("fp32")
def inv(A: Tensor) -> Tensor:
    """Inverse of square matrices (batched); raises for singular input."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", inv, A)
    _square(A, "inv")
    try:
        r = np.linalg.inv(A._data)
    except np.linalg.LinAlgError:
        raise LinAlgError("linalg.inv: The diagonal element 1 is zero, the inversion could not be completed "
                          "because the input matrix is singular.") from None
    res = _make(r.astype(A._data.dtype, copy=False), A._dtype)
    if grad_needed(A):
        from ._core import out_ref
        n = LinalgInvExBackward0()
        n.save(out_ref(res))
        record(n, res, (A,))
    return res


class LinalgDetBackward0(Node):
    __slots__ = ()

    def backward(self, g: Tensor) -> tuple:
        (a, det) = self.saved()
        return ((g * det.conj()).unsqueeze(-1).unsqueeze(-1) * inv(a).mH,)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        return out * (inv(ins[0]).mT * ts[0]).sum((-2, -1))  # det(A) tr(A^-1 dA)


def det(A: Tensor) -> Tensor:
    """Determinant of square matrices (batched)."""
    if _vmap_levels and is_batched(A):
        return vmap_rule("trailing", det, A)
    _square(A, "det")
    res = _make(np.asarray(np.linalg.det(A._data)).astype(A._data.dtype, copy=False), A._dtype)
    if grad_needed(A):
        from ._core import out_ref
        n = LinalgDetBackward0()
        n.save(A, out_ref(res))
        record(n, res, (A,))
    return res


class LinalgSolveExBackward0(Node):
    __slots__ = ("vec",)

    def backward(self, g: Tensor) -> tuple:
        a, x = self.saved()
        gb = solve(a.mH, g)
        if self.vec:
            ga = -gb.unsqueeze(-1) * x.conj().unsqueeze(-2)
        else:
            ga = -matmul(gb, x.mH)
        return ga, gb

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        (a, _), (ta, tb) = ins, ts  # dX = A^-1 (dB - dA X)
        rhs = None if ta is None else -(matmul(ta, out.unsqueeze(-1)).squeeze(-1) if self.vec else matmul(ta, out))
        return solve(a, tsum(tb, rhs))


def solve(A: Tensor, B: Tensor, *, left: bool = True) -> Tensor:
    """Solve A X = B for X (batched; B may be a vector)."""
    if _vmap_levels and is_batched(A, B):
        return vmap_rule("solve", solve, A, B, left=left)
    _square(A, "solve")
    check_tensor(B, "linalg_solve", "B", 2)
    if B._data.ndim == 0:
        raise RuntimeError("linalg.solve: The input tensor B must have at least 2 dimensions.")
    if A._dtype is not B._dtype:
        raise RuntimeError(f"linalg.solve: Expected A and B to have the same dtype, but found A of type "
                           f"{_cap(A._dtype)} and B of type {_cap(B._dtype)} instead")
    if not left:
        return solve(A.mT, B.mT).mT
    vec = B._data.ndim == 1 or (B._data.ndim == A._data.ndim - 1 and B._data.shape == A._data.shape[:-1])
    if A._data.shape[-1] != (B._data.shape[-1] if vec else B._data.shape[-2]):
        raise RuntimeError(f"linalg.solve: Incompatible shapes of A and B for the equation AX = B "
                           f"({A._data.shape[-2]}x{A._data.shape[-1]} and "
                           f"{B._data.shape[-1] if vec else B._data.shape[-2]}x{1 if vec else B._data.shape[-1]})")
    try:
        b = B._data[..., None] if vec else B._data
        x = np.linalg.solve(A._data, b)
        x = x[..., 0] if vec else x
    except np.linalg.LinAlgError:
        raise LinAlgError("torch.linalg.solve: The solver failed because the input matrix is singular.") from None
    res = _make(x.astype(A._data.dtype, copy=False), A._dtype)
    if grad_needed(A, B):
        from ._core import out_ref
        n = LinalgSolveExBackward0()
        n.vec = vec
        n.save(A, out_ref(res))
        record(n, res, (A, B))
    return res


def matrix_rank(A: Tensor) -> Tensor:
    """Numerical rank of matrices (no gradient)."""
    _square(A, "matrix_rank", square=False)
    return _make(np.asarray(np.linalg.matrix_rank(A._data)).astype(np.int64), D.int64)


def matrix_power(A: Tensor, n: int) -> Tensor:
    """A @ A @ ... (n times; the identity for n = 0, powers of the inverse for n < 0)."""
    if A._data.ndim < 2:
        raise RuntimeError("linalg.matrix_power: The input tensor A must have at least 2 dimensions.")
    if A._data.shape[-1] != A._data.shape[-2]:
        raise RuntimeError(f"linalg.matrix_power: A must be batches of square matrices, but they are "
                           f"{A._data.shape[-2]} by {A._data.shape[-1]} matrices")
    if n == 0:
        from .._creation import eye
        res = eye(A.shape[-1], dtype=A.dtype).expand(A.shape).contiguous()
        if grad_needed(A):  # PyTorch's result requires grad (a zero gradient)
            from .elementwise import _ZeroGrad
            record(_ZeroGrad("LinalgMatrixPowerBackward0"), res, (A,))
        return res
    if n < 0:
        return matrix_power(inv(A), -n)
    r = A
    for _ in range(n - 1):
        r = matmul(r, A)
    return r


register("inverse")(inv)
register("det", method=True)(det)
register("logdet")(lambda input: det(input).log())
register("matrix_power")(matrix_power)
