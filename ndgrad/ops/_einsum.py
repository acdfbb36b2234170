"""einsum: forward by np.einsum; the gradient for each operand is another einsum
of the output gradient with the other operands, so it is differentiable again."""
from __future__ import annotations

import string
from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd.graph import Node
from ._core import _make, grad_needed, record


def _parse(equation: str, operands: tuple) -> tuple[list[str], str]:
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    ins = lhs.split(",")
    if len(ins) != len(operands):
        raise RuntimeError(f"einsum(): more operands were provided than specified in the equation"
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
            if len(set(s)) != len(s):
                raise RuntimeError("einsum: gradient through repeated subscripts in one operand is not supported")
            others = [o for j, o in enumerate(ops) if j != i]
            other_s = [t for j, t in enumerate(self.ins) if j != i]
            avail = set(self.out).union(*other_s) if other_s else set(self.out)
            target = "".join(c for c in s if c in avail)
            r = einsum(",".join([self.out] + other_s) + "->" + target, (g, *others))
            if target != s:  # labels summed away only in this operand: broadcast back
                shape = [ops[i].shape[k] if c not in avail else -1 for k, c in enumerate(s)]
                view = [r.shape[target.index(c)] if c in avail else 1 for c in s]
                r = r.reshape(view).expand([ops[i].shape[k] for k in range(len(s))])
                del shape
            grads.append(r)
        return tuple(grads)


EinsumBackward.__name__ = "EinsumBackward0"


def einsum(equation: str, operands: tuple) -> Tensor:
    operands = tuple(operands)
    for i, o in enumerate(operands):
        if not isinstance(o, Tensor):
            raise TypeError(f"einsum(): argument 'operands' must be tuple of Tensors, but found element of type "
                            f"{type(o).__name__} at pos {i}")
    ins, out = _parse(equation, operands)
    sizes: dict = {}
    for s, op in zip(ins, operands):
        for c, n in zip(s, op.shape):
            if c in sizes and sizes[c] != n and n != 1 and sizes[c] != 1:
                raise RuntimeError(f"einsum(): operands do not broadcast with remapped shapes (original->remapped)")
            sizes[c] = max(sizes.get(c, n), n)
    expr = ",".join(ins) + "->" + out
    res = _make(np.asarray(np.einsum(expr, *[o._data for o in operands], optimize=len(operands) > 2)),
                operands[0]._dtype)
    if grad_needed(*operands):
        n = EinsumBackward()
        n.ins, n.out = ins, out
        n.save(*operands)
        record(n, res, operands)
    return res


_ = Any
