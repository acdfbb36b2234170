"""einsum: forward by np.einsum; the gradient for each operand is another einsum
of the output gradient with the other operands, so it is differentiable again."""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import _make, grad_needed, record, upcast
from ._core import _vmap_levels, is_batched, vmap_rule


def _parse(equation: str, operands: tuple) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation"
                           if len(operands) > len(ins) else
                           "einsum(): fewer operands were provided than specified in the equation")
    used = set(c for c in eq if c.isalpha())
    spare = [c for c in string.ascii_letters if c not in used]
    ell_n = 0
    for s, op in zip(ins, operands):
        if "..." in s:
            ell_n = max(ell_n, op.dim() - (len(s) - 3))
    ell = "".join(spare[:ell_n])
    out_ins = []
    for s, op in zip(ins, operands):
        if "..." in s:
            k = op.dim() - (len(s) - 3)
            s = s.replace("...", ell[ell_n - k:] if k else "")
        if len(s) != op.dim():
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({len(s)}) does not match the "
                               f"number of dimensions ({op.dim()}) for operand {len(out_ins)}"
                               + (" and no ellipsis was given" if "..." not in lhs.split(",")[len(out_ins)] else ""))
        out_ins.append(s)
    if arrow:
        out = rhs.replace("...", ell)
    else:
        counts: dict = {}
        for s in out_ins:
            for c in s:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, n in counts.items() if n == 1 and c not in ell))
    return out_ins, out


class EinsumBackward(Node):
    __slots__ = ("ins", "out")

    def backward(self, g: Tensor) -> tuple:
        ops = self.saved()
        grads = []
        for i, s in enumerate(self.ins):
            if self.next_functions[i][0] is None:
                grads.append(None)
                continue
            s_full = s
            s = "".join(dict.fromkeys(s_full))  # a repeated label ("ii") reads a diagonal
            size = {c: ops[i].shape[s_full.index(c)] for c in s}
            others = [o for j, o in enumerate(ops) if j != i]
            other_s = [t for j, t in enumerate(self.ins) if j != i]
            avail = set(self.out).union(*other_s) if other_s else set(self.out)
            target = "".join(c for c in s if c in avail)
            r = einsum(",".join([self.out] + other_s) + "->" + target, (g, *others))
            if target != s:  # labels summed away only in this operand: broadcast back
                view = [r.shape[target.index(c)] if c in avail else 1 for c in s]
                r = r.reshape(view).expand([size[c] for c in s])
            if s != s_full:  # put the diagonal's gradient back on the diagonal, zeros elsewhere
                shape = tuple(ops[i].shape)
                r = r.reshape([size[c] if k == s_full.index(c) else 1 for k, c in enumerate(s_full)]).expand(shape)
                mask = np.ones(shape, bool)
                for k, c in enumerate(s_full):
                    f = s_full.index(c)
                    if f != k:
                        ax = [1] * len(shape)
                        ax[k] = shape[k]
                        fx = [1] * len(shape)
                        fx[f] = shape[f]
                        mask = mask & (np.arange(shape[k]).reshape(ax) == np.arange(shape[f]).reshape(fx))
                r = r * _make(mask.astype(r._dtype.np), r._dtype)
            grads.append(r)
        return tuple(grads)

    def jvp(self, ins: tuple, out: Tensor, ts: tuple) -> Any:
        expr = ",".join(self.ins) + "->" + self.out  # multilinear: one term per operand with a tangent
        terms = [einsum(expr, ins[:i] + (t,) + ins[i + 1:]) for i, t in enumerate(ts) if t is not None]
        acc = terms[0]
        for term in terms[1:]:
            acc = acc + term
        return acc


EinsumBackward.__name__ = "EinsumBackward0"


def einsum(equation: str, operands: tuple) -> Tensor:
    """Einstein summation over `operands` as written in `equation` (with '...' and '->')."""
    if _vmap_levels and is_batched(*operands):
        return vmap_rule("einsum", einsum, equation, operands)
    operands = tuple(operands)
    for i, o in enumerate(operands):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, but found element of type "
                            f"{type(o).__name__} at pos {i}")
    for o in operands[1:]:
        if o._dtype is not operands[0]._dtype:
            raise RuntimeError(f"expected scalar type {D.scalar_name(operands[0]._dtype)} but found "
                               f"{D.scalar_name(o._dtype)}")
    ins, out = _parse(equation, operands)
    for i, c in enumerate(out):
        if c in out[:i]:
            raise RuntimeError(f"einsum(): output subscript {c} appears more than once in the output")
        if not any(c in s for s in ins):
            raise RuntimeError(f"einsum(): output subscript {c} does not appear in the equation for any input "
                               "operand")
    sizes: dict = {}
    for s, op in zip(ins, operands):
        for c, n in zip(s, op.shape):
            if c in sizes and sizes[c] != n and n != 1 and sizes[c] != 1:
                raise RuntimeError("einsum(): operands do not broadcast with remapped shapes (original->remapped)")
            sizes[c] = max(sizes.get(c, n), n)
    expr = ",".join(ins) + "->" + out
    dt = operands[0]._dtype
    if len(operands) == 1 and dt.category < 2 and set(ins[0]) - set(out):
        dt = D.int64  # a one-operand reduction is a sum: integers accumulate in int64, as in PyTorch
    # float16/bfloat16 multiply and accumulate in float32, rounded once (as PyTorch's CPU kernels)
    arrays = [upcast(o._data if o._dtype is dt else o._data.astype(dt.np)) for o in operands]
    res = _make(np.asarray(np.einsum(expr, *arrays, optimize=len(operands) > 2)).astype(dt.np, copy=False), dt)
    if grad_needed(*operands):
        n = EinsumBackward()
        n.ins, n.out = ins, out
        n.save(*operands)
        record(n, res, operands)
    return res
