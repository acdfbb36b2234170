"""Every differentiable op, gradchecked and gradgradchecked in float64.

Each case is written once against a module `M` (ndgrad, or torch for the comparison:
live when torch is installed, else its recording in tests/references) so the same lambda
runs on both libraries. Inputs are drawn from a seeded generator; `kind` keeps them inside
the op's domain and away from ties and kinks where finite differences are meaningless. Non-smooth points and tie rules,
where PyTorch picks a value, are tested separately against recorded literals.
"""
from __future__ import annotations

import os
import sys
from typing import Any, Callable

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck



class A:
    """An input spec: shape, value kind, and whether it requires grad."""

    def __init__(self, *shape: int, kind: str = "any", grad: bool = True) -> None:
        self.shape, self.kind, self.grad = shape, kind, grad

    def draw(self, rng: np.random.Generator) -> np.ndarray:
        n = int(np.prod(self.shape))
        k = self.kind
        if k == "any":
            v = rng.uniform(-2.0, 2.0, n)
            v = np.where(np.abs(v) < 0.2, v + 0.5, v)  # keep away from kinks at 0
        elif k == "pos":
            v = rng.uniform(0.3, 2.0, n)
        elif k == "unit":
            v = rng.uniform(-0.8, 0.8, n)
        elif k == "prob":
            v = rng.uniform(0.15, 0.85, n)
        elif k == "gt1":
            v = rng.uniform(1.2, 3.0, n)
        elif k == "distinct":  # well separated values, random order: no ties for max/sort
            v = rng.permutation(np.linspace(-2.0, 2.0, n)) + rng.uniform(-0.05, 0.05, n)
        elif k == "spd":  # well-conditioned matrices (last two dims square)
            m = rng.uniform(-0.5, 0.5, self.shape)
            m = m + 3.0 * np.eye(self.shape[-1])
            return m
        else:  # pragma: no cover
            raise ValueError(k)
        return v.reshape(self.shape)


# (id, fn(M, *inputs), input specs)
CASES: list[tuple[str, Callable, list]] = [
    # --- binary arithmetic, broadcasting in every direction
    ("add_bcast", lambda M, a, b: a + b, [A(2, 3), A(3)]),
    ("add_alpha", lambda M, a, b: M.add(a, b, alpha=2.5), [A(2, 1), A(1, 3)]),
    ("sub_bcast", lambda M, a, b: a - b, [A(3, 1), A(2, 1, 4)]),
    ("sub_alpha", lambda M, a, b: M.sub(a, b, alpha=-1.5), [A(2, 3), A(2, 3)]),
    ("rsub_scalar", lambda M, a: 2.0 - a, [A(2, 3)]),
    ("mul_bcast", lambda M, a, b: a * b, [A(2, 3), A(2, 1)]),
    ("mul_self", lambda M, a: a * a, [A(2, 3)]),
    ("mul_scalar", lambda M, a: a * 3.0, [A(4)]),
    ("mul_0d", lambda M, a, b: a * b, [A(2, 3), A()]),
    ("div_bcast", lambda M, a, b: a / b, [A(2, 3), A(3, kind="pos")]),
    ("rdiv_scalar", lambda M, a: 2.0 / a, [A(2, 3, kind="pos")]),
    ("pow_scalar", lambda M, a: a ** 3, [A(2, 3)]),
    ("pow_frac", lambda M, a: a ** 1.5, [A(2, 3, kind="pos")]),
    ("pow_tensor", lambda M, a, b: a ** b, [A(2, 3, kind="pos"), A(3)]),
    ("rpow", lambda M, a: 2.0 ** a, [A(2, 3)]),
    ("remainder", lambda M, a: M.remainder(a, 1.7), [A(2, 3, kind="pos")]),
    ("fmod", lambda M, a: M.fmod(a, 1.7), [A(2, 3, kind="pos")]),
    ("atan2", lambda M, a, b: M.atan2(a, b), [A(2, 3), A(3, kind="pos")]),
    ("hypot", lambda M, a, b: M.hypot(a, b), [A(2, 3), A(2, 3)]),
    ("maximum", lambda M, a, b: M.maximum(a, b), [A(2, 3, kind="distinct"), A(2, 3, kind="distinct")]),
    ("minimum_bcast", lambda M, a, b: M.minimum(a, b), [A(2, 3, kind="distinct"), A(3, kind="distinct")]),
    ("fmax", lambda M, a, b: M.fmax(a, b), [A(2, 3, kind="distinct"), A(2, 3, kind="distinct")]),
    ("fmin", lambda M, a, b: M.fmin(a, b), [A(2, 3, kind="distinct"), A(2, 3, kind="distinct")]),
    ("logaddexp", lambda M, a, b: M.logaddexp(a, b), [A(2, 3), A(3)]),
    ("xlogy", lambda M, a, b: M.xlogy(a, b), [A(2, 3), A(2, 3, kind="pos")]),
    ("copysign", lambda M, a, b: M.copysign(a, b), [A(2, 3), A(2, 3)]),
    ("float_power", lambda M, a: M.float_power(a, 2.5), [A(2, 3, kind="pos")]),
    ("lerp", lambda M, a, b: M.lerp(a, b, 0.3), [A(2, 3), A(2, 3)]),
    ("lerp_tensor_w", lambda M, a, b, w: M.lerp(a, b, w), [A(2, 3), A(3), A(2, 3, kind="prob")]),
    ("addcmul", lambda M, a, b, c: M.addcmul(a, b, c, value=0.5), [A(2, 3), A(3), A(2, 1)]),
    ("addcdiv", lambda M, a, b, c: M.addcdiv(a, b, c, value=2.0), [A(2, 3), A(2, 3), A(3, kind="pos")]),
    # --- unary math
    ("neg", lambda M, a: -a, [A(2, 3)]),
    ("exp", lambda M, a: a.exp(), [A(2, 3)]),
    ("exp2", lambda M, a: M.exp2(a), [A(2, 3)]),
    ("expm1", lambda M, a: a.expm1(), [A(2, 3)]),
    ("log", lambda M, a: a.log(), [A(2, 3, kind="pos")]),
    ("log2", lambda M, a: a.log2(), [A(2, 3, kind="pos")]),
    ("log10", lambda M, a: a.log10(), [A(2, 3, kind="pos")]),
    ("log1p", lambda M, a: a.log1p(), [A(2, 3, kind="pos")]),
    ("sqrt", lambda M, a: a.sqrt(), [A(2, 3, kind="pos")]),
    ("rsqrt", lambda M, a: a.rsqrt(), [A(2, 3, kind="pos")]),
    ("square", lambda M, a: a.square(), [A(2, 3)]),
    ("reciprocal", lambda M, a: a.reciprocal(), [A(2, 3, kind="pos")]),
    ("abs", lambda M, a: a.abs(), [A(2, 3)]),
    ("relu", lambda M, a: a.relu(), [A(2, 3)]),
    ("sin", lambda M, a: a.sin(), [A(2, 3)]),
    ("cos", lambda M, a: a.cos(), [A(2, 3)]),
    ("tan", lambda M, a: a.tan(), [A(2, 3, kind="unit")]),
    ("asin", lambda M, a: a.asin(), [A(2, 3, kind="unit")]),
    ("acos", lambda M, a: a.acos(), [A(2, 3, kind="unit")]),
    ("atan", lambda M, a: a.atan(), [A(2, 3)]),
    ("sinh", lambda M, a: a.sinh(), [A(2, 3)]),
    ("cosh", lambda M, a: a.cosh(), [A(2, 3)]),
    ("tanh", lambda M, a: a.tanh(), [A(2, 3)]),
    ("asinh", lambda M, a: a.asinh(), [A(2, 3)]),
    ("acosh", lambda M, a: a.acosh(), [A(2, 3, kind="gt1")]),
    ("atanh", lambda M, a: a.atanh(), [A(2, 3, kind="unit")]),
    ("sigmoid", lambda M, a: a.sigmoid(), [A(2, 3)]),
    ("logit", lambda M, a: a.logit(), [A(2, 3, kind="prob")]),
    ("erf", lambda M, a: a.erf(), [A(2, 3)]),
    ("erfc", lambda M, a: a.erfc(), [A(2, 3)]),
    ("erfinv", lambda M, a: a.erfinv(), [A(2, 3, kind="unit")]),
    ("sinc", lambda M, a: M.sinc(a), [A(2, 3)]),
    ("deg2rad", lambda M, a: M.deg2rad(a), [A(2, 3)]),
    ("rad2deg", lambda M, a: M.rad2deg(a), [A(2, 3)]),
    ("frac", lambda M, a: a.frac(), [A(2, 3, kind="pos")]),
    ("clamp", lambda M, a: a.clamp(-1.0, 1.0), [A(3, 4)]),
    ("clamp_min", lambda M, a: a.clamp(min=0.1), [A(3, 4)]),
    ("clamp_tensor", lambda M, a, lo, hi: M.clamp(a, lo, hi),
     [A(2, 3, kind="distinct"), A(3, kind="distinct"), A(2, 1, kind="gt1")]),
    ("nan_to_num", lambda M, a: M.nan_to_num(a), [A(2, 3)]),
    ("where", lambda M, a, b: M.where(a > 0, a, b), [A(2, 3), A(3)]),
    ("masked_fill", lambda M, a: a.masked_fill(a > 0.5, 2.0), [A(2, 3)]),
    ("sign_zero_grad", lambda M, a: a.sign() * a, [A(2, 3)]),
    ("round_zero_grad", lambda M, a: a.round() + a.floor() + a.ceil() + a.trunc() + a, [A(2, 3)]),
    # --- reductions
    ("sum_all", lambda M, a: a.sum(), [A(2, 3)]),
    ("sum_dim", lambda M, a: a.sum(1), [A(2, 3, 2)]),
    ("sum_dims_keep", lambda M, a: a.sum((0, 2), keepdim=True), [A(2, 3, 2)]),
    ("sum_neg_dim", lambda M, a: a.sum(-1), [A(2, 3)]),
    ("nansum", lambda M, a: M.nansum(a, 0), [A(2, 3)]),
    ("mean_all", lambda M, a: a.mean(), [A(2, 3)]),
    ("mean_dim_keep", lambda M, a: a.mean(0, keepdim=True), [A(2, 3)]),
    ("nanmean", lambda M, a: M.nanmean(a, 1), [A(2, 3)]),
    ("prod_all", lambda M, a: a.prod(), [A(2, 3)]),
    ("prod_dim", lambda M, a: a.prod(1), [A(2, 3)]),
    ("prod_keep", lambda M, a: a.prod(0, keepdim=True), [A(3, 2)]),
    ("amax", lambda M, a: a.amax(1), [A(2, 3, kind="distinct")]),
    ("amin_keep", lambda M, a: a.amin((0, 1), keepdim=True), [A(2, 3, 2, kind="distinct")]),
    ("max_all", lambda M, a: a.max(), [A(2, 3, kind="distinct")]),
    ("min_all", lambda M, a: a.min(), [A(2, 3, kind="distinct")]),
    ("max_dim", lambda M, a: a.max(1)[0], [A(2, 3, kind="distinct")]),
    ("min_dim_keep", lambda M, a: a.min(0, keepdim=True)[0], [A(2, 3, kind="distinct")]),
    ("logsumexp", lambda M, a: a.logsumexp(1), [A(2, 3)]),
    ("logsumexp_keep", lambda M, a: M.logsumexp(a, (0, 1), keepdim=True), [A(2, 3)]),
    ("var", lambda M, a: a.var(), [A(2, 3)]),
    ("var_dim", lambda M, a: a.var(1, keepdim=True), [A(2, 3)]),
    ("var_unbiased0", lambda M, a: a.var(0, unbiased=False), [A(3, 2)]),
    ("std", lambda M, a: a.std(), [A(2, 3)]),
    ("std_dim", lambda M, a: a.std(0, correction=0), [A(3, 2)]),
    ("std_mean", lambda M, a: M.std_mean(a, 1)[0] + M.std_mean(a, 1)[1], [A(2, 3)]),
    ("var_mean", lambda M, a: M.var_mean(a, 0)[0] * M.var_mean(a, 0)[1], [A(3, 2)]),
    ("norm", lambda M, a: a.norm(), [A(2, 3)]),
    ("norm_dim", lambda M, a: a.norm(dim=1), [A(2, 3)]),
    ("norm_p1", lambda M, a: a.norm(p=1), [A(2, 3)]),
    ("norm_p3", lambda M, a: a.norm(p=3, dim=0, keepdim=True), [A(2, 3)]),
    ("norm_inf", lambda M, a: a.norm(p=float("inf")), [A(2, 3, kind="distinct")]),
    ("dist", lambda M, a, b: M.dist(a, b), [A(2, 3), A(3)]),
    ("cumsum", lambda M, a: a.cumsum(1), [A(2, 3)]),
    ("cumsum0", lambda M, a: a.cumsum(0), [A(3, 2)]),
    ("cumprod", lambda M, a: a.cumprod(1), [A(2, 3)]),
    ("logcumsumexp", lambda M, a: M.logcumsumexp(a, 1), [A(2, 3)]),
    ("cummax", lambda M, a: M.cummax(a, 1)[0], [A(2, 4, kind="distinct")]),
    ("cummin", lambda M, a: M.cummin(a, 0)[0], [A(4, 2, kind="distinct")]),
    ("median_all", lambda M, a: a.median(), [A(2, 3, kind="distinct")]),
    ("median_dim", lambda M, a: a.median(1)[0], [A(2, 3, kind="distinct")]),
    ("kthvalue", lambda M, a: a.kthvalue(2, 1)[0], [A(2, 3, kind="distinct")]),
    ("topk", lambda M, a: a.topk(2, 1)[0], [A(2, 4, kind="distinct")]),
    ("sort", lambda M, a: a.sort(1, descending=True)[0], [A(2, 4, kind="distinct")]),
    ("msort", lambda M, a: M.msort(a), [A(3, 2, kind="distinct")]),
    ("quantile", lambda M, a: M.quantile(a, 0.3, dim=1), [A(2, 5, kind="distinct")]),
    ("aminmax", lambda M, a: M.aminmax(a, dim=1)[0] - M.aminmax(a, dim=1)[1], [A(2, 3, kind="distinct")]),
    # --- views and shape ops
    ("reshape", lambda M, a: a.reshape(3, 2) * 1.5, [A(2, 3)]),
    ("view", lambda M, a: a.view(-1, 2) ** 2, [A(2, 3)]),
    ("transpose", lambda M, a: a.transpose(0, 2) ** 2, [A(2, 3, 2)]),
    ("t", lambda M, a, b: a.t() @ b, [A(2, 3), A(2, 2)]),
    ("T", lambda M, a: a.T ** 2, [A(2, 3)]),
    ("permute", lambda M, a: a.permute(2, 0, 1) ** 2, [A(2, 3, 2)]),
    ("expand", lambda M, a: a.expand(2, 3, 3) ** 2, [A(3, 1)]),
    ("expand_as", lambda M, a, b: a.expand_as(b) * b, [A(1, 3), A(2, 3)]),
    ("broadcast_to", lambda M, a: M.broadcast_to(a, (2, 3)) ** 2, [A(3)]),
    ("squeeze", lambda M, a: a.squeeze(1) ** 2, [A(2, 1, 3)]),
    ("unsqueeze", lambda M, a: a.unsqueeze(0) ** 2, [A(2, 3)]),
    ("flatten", lambda M, a: a.flatten(1) ** 2, [A(2, 2, 2)]),
    ("unflatten", lambda M, a: a.unflatten(1, (2, 2)) ** 2, [A(2, 4)]),
    ("ravel", lambda M, a: a.ravel() ** 2, [A(2, 3)]),
    ("clone", lambda M, a: a.clone() ** 2, [A(2, 3)]),
    ("contiguous_T", lambda M, a: a.T.contiguous() ** 2, [A(2, 3)]),
    ("cat", lambda M, a, b: M.cat([a, b, a], 1) ** 2, [A(2, 3), A(2, 1)]),
    ("stack", lambda M, a, b: M.stack([a, b], 1) ** 2, [A(2, 3), A(2, 3)]),
    ("hstack", lambda M, a, b: M.hstack([a, b]) ** 2, [A(2, 3), A(2, 2)]),
    ("vstack", lambda M, a, b: M.vstack([a, b]) ** 2, [A(3), A(2, 3)]),
    ("dstack", lambda M, a, b: M.dstack([a, b]) ** 2, [A(2, 3), A(2, 3)]),
    ("column_stack", lambda M, a, b: M.column_stack([a, b]) ** 2, [A(3), A(3, 2)]),
    ("split", lambda M, a: a.split(2, 1)[1] ** 2, [A(2, 5)]),
    ("split_sizes", lambda M, a: sum(p.sum() * (i + 1) for i, p in enumerate(a.split([1, 3], 1))), [A(2, 4)]),
    ("chunk", lambda M, a: a.chunk(2, 0)[0] * a.chunk(2, 0)[1], [A(4, 2)]),
    ("unbind", lambda M, a: a.unbind(1)[0] * a.unbind(1)[2], [A(2, 3)]),
    ("tensor_split", lambda M, a: M.tensor_split(a, 3, dim=1)[2] ** 2, [A(2, 5)]),
    ("narrow", lambda M, a: a.narrow(1, 1, 2) ** 2, [A(2, 4)]),
    ("select", lambda M, a: a.select(1, -1) ** 2, [A(2, 3)]),
    ("flip", lambda M, a: a.flip((0, 1)) * M.arange(6.0, dtype=M.float64).reshape(2, 3), [A(2, 3)]),
    ("fliplr", lambda M, a: M.fliplr(a) * M.arange(6.0, dtype=M.float64).reshape(2, 3), [A(2, 3)]),
    ("roll", lambda M, a: a.roll(1, 1) * M.arange(6.0, dtype=M.float64).reshape(2, 3), [A(2, 3)]),
    ("roll_flat", lambda M, a: a.roll(2) * M.arange(6.0, dtype=M.float64).reshape(2, 3), [A(2, 3)]),
    ("rot90", lambda M, a: M.rot90(a, 1, (0, 1)) * M.arange(6.0, dtype=M.float64).reshape(3, 2), [A(2, 3)]),
    ("repeat", lambda M, a: a.repeat(2, 1, 2) ** 2, [A(2, 3)]),
    ("tile", lambda M, a: M.tile(a, (2,)) ** 2, [A(2, 3)]),
    ("repeat_interleave", lambda M, a: a.repeat_interleave(2, dim=0) ** 2, [A(2, 3)]),
    ("tril", lambda M, a: a.tril() ** 2, [A(3, 3)]),
    ("triu_k", lambda M, a: a.triu(1) ** 2, [A(3, 4)]),
    ("diagonal", lambda M, a: a.diagonal(offset=1) ** 2, [A(3, 4)]),
    ("diag_vec", lambda M, a: M.diag(a) ** 2, [A(3)]),
    ("diag_mat", lambda M, a: M.diag(a) ** 2, [A(3, 3)]),
    ("diag_embed", lambda M, a: M.diag_embed(a) ** 2, [A(2, 3)]),
    ("movedim", lambda M, a: M.movedim(a, 0, 2) ** 2, [A(2, 3, 2)]),
    ("swapaxes", lambda M, a: M.swapaxes(a, 0, 1) ** 2, [A(2, 3)]),
    ("atleast_2d", lambda M, a: M.atleast_2d(a) ** 2, [A(3)]),
    ("kron", lambda M, a, b: M.kron(a, b), [A(2, 2), A(2, 1)]),
    # --- indexing (repeated indices accumulate)
    ("getitem_int", lambda M, a: a[1] ** 2, [A(3, 2)]),
    ("getitem_slice_step", lambda M, a: a[::2, 1:] ** 2, [A(4, 3)]),
    ("getitem_neg_step_ellipsis", lambda M, a: a[..., -1] ** 2, [A(2, 3)]),
    ("getitem_none", lambda M, a: a[None, :, 1] ** 2, [A(2, 3)]),
    ("getitem_adv_repeat", lambda M, a: a[[0, 2, 0, 0]] ** 2, [A(3, 2)]),
    ("getitem_adv_tensor", lambda M, a: a[M.tensor([[1, 1], [0, 2]])] ** 2, [A(3, 2)]),
    ("getitem_adv_pair", lambda M, a: a[[0, 1, 0], [2, 2, 2]] ** 2, [A(2, 3)]),
    ("getitem_adv_mixed", lambda M, a: a[:, [1, 1, 0]] ** 2, [A(2, 3)]),
    ("getitem_bool", lambda M, a: a[a > 0] ** 2, [A(2, 3)]),
    ("getitem_bool_row", lambda M, a: a[M.tensor([True, False, True])] ** 2, [A(3, 2)]),
    ("index_select", lambda M, a: a.index_select(1, M.tensor([2, 0, 2])) ** 2, [A(2, 3)]),
    ("gather", lambda M, a: a.gather(1, M.tensor([[0, 0, 2], [1, 0, 1]])) ** 2, [A(2, 3)]),
    ("take", lambda M, a: M.take(a, M.tensor([0, 5, 5, 2])) ** 2, [A(2, 3)]),
    ("take_along_dim", lambda M, a: M.take_along_dim(a, M.tensor([[2], [0]]), 1) ** 2, [A(2, 3)]),
    ("masked_select", lambda M, a: M.masked_select(a, M.tensor([True, False, True])) ** 2, [A(2, 3)]),
    ("scatter", lambda M, a, s: a.scatter(1, M.tensor([[0, 2]]), s) ** 2, [A(2, 3), A(1, 2)]),
    ("scatter_add", lambda M, a, s: a.scatter_add(1, M.tensor([[0, 0, 2]]), s) ** 2, [A(2, 3), A(1, 3)]),
    ("index_add", lambda M, a, s: a.index_add(0, M.tensor([0, 0]), s, alpha=2.0) ** 2, [A(2, 3), A(2, 3)]),
    ("index_copy", lambda M, a, s: a.index_copy(1, M.tensor([2, 0]), s) ** 2, [A(2, 3), A(2, 2)]),
    ("index_fill", lambda M, a: a.index_fill(1, M.tensor([1]), -1.0) ** 2, [A(2, 3)]),
    ("index_put_acc", lambda M, a, v: a.index_put((M.tensor([0, 0, 1]),), v, accumulate=True) ** 2,
     [A(2, 3), A(3, 3)]),
    ("index_put", lambda M, a, v: a.index_put((M.tensor([1]),), v) ** 2, [A(2, 3), A(3)]),
    ("masked_scatter", lambda M, a, s: a.masked_scatter(M.tensor([[True, False, True]]), s) ** 2,
     [A(2, 3), A(2, 3)]),
    # --- linear algebra, batch broadcasting
    ("mm", lambda M, a, b: a.mm(b), [A(2, 3), A(3, 2)]),
    ("mv", lambda M, a, b: a.mv(b), [A(2, 3), A(3)]),
    ("dot", lambda M, a, b: a.dot(b), [A(3), A(3)]),
    ("vdot", lambda M, a, b: M.vdot(a, b), [A(3), A(3)]),
    ("bmm", lambda M, a, b: a.bmm(b), [A(2, 2, 3), A(2, 3, 2)]),
    ("matmul_batch_bcast", lambda M, a, b: a @ b, [A(2, 1, 2, 3), A(3, 3, 2)]),
    ("matmul_vec_mat", lambda M, a, b: a @ b, [A(3), A(2, 3, 2)]),
    ("matmul_mat_vec", lambda M, a, b: a @ b, [A(2, 2, 3), A(3)]),
    ("matmul_vec_vec", lambda M, a, b: M.matmul(a, b), [A(3), A(3)]),
    ("addmm", lambda M, c, a, b: M.addmm(c, a, b, beta=0.5, alpha=2.0), [A(2), A(2, 3), A(3, 2)]),
    ("addmv", lambda M, c, a, b: M.addmv(c, a, b), [A(2), A(2, 3), A(3)]),
    ("baddbmm", lambda M, c, a, b: M.baddbmm(c, a, b), [A(1, 2), A(2, 2, 3), A(2, 3, 2)]),
    ("addbmm", lambda M, c, a, b: M.addbmm(c, a, b), [A(2, 2), A(2, 2, 3), A(2, 3, 2)]),
    ("outer", lambda M, a, b: M.outer(a, b), [A(2), A(3)]),
    ("inner", lambda M, a, b: M.inner(a, b), [A(2, 3), A(3)]),
    ("inner_batched", lambda M, a, b: M.inner(a, b), [A(2, 3), A(4, 2, 3)]),
    ("tensordot", lambda M, a, b: M.tensordot(a, b, dims=([1], [0])), [A(2, 3), A(3, 2)]),
    ("einsum", lambda M, a, b: M.einsum("bij,jk->bik", a, b), [A(2, 2, 3), A(3, 2)]),
    ("einsum_trace", lambda M, a: M.einsum("ii->", a), [A(3, 3)]),
    ("einsum_diag_mixed", lambda M, a, b: M.einsum("ii,ij->j", a, b), [A(3, 3), A(3, 2)]),
    ("einsum_repeat_nonadjacent", lambda M, a: M.einsum("iji->j", a), [A(2, 3, 2)]),
    ("trace", lambda M, a: a.trace(), [A(3, 3)]),
    ("cross", lambda M, a, b: M.cross(a, b, dim=1), [A(2, 3), A(2, 3)]),
    ("det", lambda M, a: M.det(a), [A(2, 3, 3, kind="spd")]),
    ("inverse", lambda M, a: M.inverse(a), [A(3, 3, kind="spd")]),
    ("logdet", lambda M, a: M.logdet(a), [A(3, 3, kind="spd")]),
    ("matrix_power", lambda M, a: M.matrix_power(a, 3), [A(2, 2)]),
    ("linalg_solve", lambda M, a, b: M.linalg.solve(a, b), [A(3, 3, kind="spd"), A(3, 2)]),
    ("linalg_vector_norm", lambda M, a: M.linalg.vector_norm(a, 2, dim=0), [A(2, 3)]),
    ("cdist", lambda M, a, b: M.cdist(a, b), [A(2, 3), A(3, 3)]),
    # --- the fused nn kernels (ops/nn.py) and a few composites users reach through nn.functional
    ("conv1d", lambda M, x, w, b: M.nn.functional.conv1d(x, w, b, stride=2, padding=1),
     [A(1, 2, 5), A(3, 2, 2), A(3)]),
    ("conv2d", lambda M, x, w, b: M.nn.functional.conv2d(x, w, b, padding=1, dilation=1),
     [A(1, 1, 3, 3), A(2, 1, 2, 2), A(2)]),
    ("conv2d_groups_stride", lambda M, x, w: M.nn.functional.conv2d(x, w, stride=(2, 1), groups=2),
     [A(1, 2, 3, 3), A(2, 1, 2, 2)]),
    ("conv_transpose2d", lambda M, x, w: M.nn.functional.conv_transpose2d(x, w, stride=2),
     [A(1, 2, 2, 2), A(2, 1, 2, 2)]),
    ("max_pool2d", lambda M, x: M.nn.functional.max_pool2d(x, 2, stride=1), [A(1, 1, 3, 4, kind="distinct")]),
    ("max_pool2d_pad", lambda M, x: M.nn.functional.max_pool2d(x, 3, stride=2, padding=1),
     [A(1, 2, 3, 3, kind="distinct")]),
    ("max_pool1d", lambda M, x: M.nn.functional.max_pool1d(x, 2), [A(2, 1, 6, kind="distinct")]),
    ("avg_pool2d", lambda M, x: M.nn.functional.avg_pool2d(x, 2, stride=1, padding=1), [A(1, 1, 3, 3)]),
    ("adaptive_avg_pool2d", lambda M, x: M.nn.functional.adaptive_avg_pool2d(x, (2, 1)), [A(1, 2, 3, 3)]),
    ("log_softmax", lambda M, x: M.nn.functional.log_softmax(x, dim=1), [A(2, 4)]),
    ("softmax", lambda M, x: M.nn.functional.softmax(x, dim=0), [A(3, 2)]),
    ("cross_entropy", lambda M, x: M.nn.functional.cross_entropy(x, M.tensor([1, 0, 3])), [A(3, 4)]),
    ("cross_entropy_smooth", lambda M, x: M.nn.functional.cross_entropy(x, M.tensor([1, 2]), label_smoothing=0.1),
     [A(2, 3)]),
    ("nll_loss_weight", lambda M, x, w: M.nn.functional.nll_loss(x, M.tensor([1, 0, 1]), weight=w),
     [A(3, 2), A(2, kind="pos", grad=False)]),  # PyTorch: weight cannot require grad
    ("mse_loss", lambda M, x, y: M.nn.functional.mse_loss(x, y), [A(2, 3), A(2, 3)]),
    ("smooth_l1_loss", lambda M, x, y: M.nn.functional.smooth_l1_loss(x, y, beta=0.5), [A(2, 3), A(2, 3)]),
    ("bce", lambda M, p, y: M.nn.functional.binary_cross_entropy(p, y), [A(2, 3, kind="prob"), A(2, 3, kind="prob")]),
    ("bce_logits", lambda M, x, y: M.nn.functional.binary_cross_entropy_with_logits(x, y),
     [A(2, 3), A(2, 3, kind="prob")]),
    ("kl_div", lambda M, x, y: M.nn.functional.kl_div(x, y, reduction="batchmean"), [A(2, 3), A(2, 3, kind="prob")]),
    ("layer_norm", lambda M, x, w, b: M.nn.functional.layer_norm(x, (3,), w, b), [A(2, 3), A(3), A(3)]),
    ("batch_norm_train", lambda M, x, w, b: M.nn.functional.batch_norm(x, None, None, w, b, training=True),
     [A(4, 2), A(2), A(2)]),
    ("group_norm", lambda M, x: M.nn.functional.group_norm(x, 2), [A(2, 4, 2)]),
    ("embedding", lambda M, w: M.nn.functional.embedding(M.tensor([[0, 2], [2, 2]]), w), [A(3, 2)]),
    ("pad_constant", lambda M, x: M.nn.functional.pad(x, (1, 2, 0, 1), value=0.5) ** 2, [A(2, 3)]),
    ("pad_reflect", lambda M, x: M.nn.functional.pad(x, (2, 1), mode="reflect") ** 2, [A(1, 2, 4)]),
    ("unfold", lambda M, x: M.nn.functional.unfold(x, 2, padding=1) ** 2, [A(1, 1, 3, 3)]),
    ("fold", lambda M, x: M.nn.functional.fold(x, (3, 3), 2) ** 2, [A(1, 4, 4)]),
    ("gelu", lambda M, x: M.nn.functional.gelu(x), [A(2, 3)]),
    ("gelu_tanh", lambda M, x: M.nn.functional.gelu(x, approximate="tanh"), [A(2, 3)]),
    ("silu_elu_softplus", lambda M, x: M.nn.functional.silu(x) + M.nn.functional.elu(x) + M.nn.functional.softplus(x),
     [A(2, 3)]),
    ("leaky_relu_hardtanh", lambda M, x: M.nn.functional.leaky_relu(x, 0.1) + M.nn.functional.hardtanh(x),
     [A(2, 3)]),
    ("logsigmoid_mish", lambda M, x: M.nn.functional.logsigmoid(x) + M.nn.functional.mish(x), [A(2, 3)]),
    ("normalize", lambda M, x: M.nn.functional.normalize(x, dim=1), [A(2, 3)]),
    ("cosine_similarity", lambda M, x, y: M.nn.functional.cosine_similarity(x, y), [A(2, 3), A(2, 3)]),
    ("linear", lambda M, x, w, b: M.nn.functional.linear(x, w, b), [A(2, 3), A(4, 3), A(4)]),
    ("sdpa", lambda M, q, k, v: M.nn.functional.scaled_dot_product_attention(q, k, v),
     [A(1, 2, 3), A(1, 2, 3), A(1, 2, 2)]),
    # --- in-place ops on non-leaf tensors and on views of them
    ("inplace_add_", lambda M, a, b: (a * 1).add_(b), [A(2, 3), A(3)]),
    ("inplace_mul_twice", lambda M, a, b: (a * 1).mul_(b).mul_(b), [A(2, 3), A(2, 3)]),
    ("inplace_exp_", lambda M, a: (a * 2).exp_() * a, [A(2, 3)]),
    ("inplace_on_view", lambda M, a, b: _inplace_on_view(a, b), [A(2, 3), A(3)]),
    ("inplace_view_of_view", lambda M, a: _inplace_view_of_view(a), [A(3, 4)]),
    ("inplace_T_view", lambda M, a, b: _inplace_T_view(a, b), [A(2, 3), A(2)]),
    ("setitem_tensor", lambda M, a, v: _setitem(a, (slice(None), 1), v), [A(2, 3), A(2)]),
    ("setitem_adv", lambda M, a, v: _setitem(a, ([0, 2],), v), [A(3, 2), A(2)]),
    ("setitem_scalar", lambda M, a: _setitem(a, (0,), 5.0), [A(3, 2)]),
    ("setitem_mask", lambda M, a, v: _setitem(a, (a.detach() > 0,), v.sum()), [A(2, 3), A(2)]),
    ("fill_on_view", lambda M, a: _fill_row(a), [A(3, 2)]),
    ("zero_on_view", lambda M, a: _zero_col(a), [A(2, 3)]),
    ("copy_into_view", lambda M, a, b: _copy_into_view(a, b), [A(2, 3), A(3)]),
    ("clamp_inplace_view", lambda M, a: _clamp_view(a), [A(3, 3)]),
    ("view_after_inplace", lambda M, a, b: _view_after_inplace(a, b), [A(2, 3), A(3)]),
    ("view_stale_after_base_inplace", lambda M, a, b: _view_stale(a, b), [A(2, 3), A(2, 1)]),
    # --- API coverage additions: windows, strided views, scatters into views, trapezoid rules
    ("unfold_overlap", lambda M, a: a.unfold(1, 3, 1), [A(2, 5)]),
    ("unfold_step", lambda M, a: a.unfold(0, 2, 3) * 2, [A(7, 2)]),
    ("unfold_twice", lambda M, a: a.unfold(0, 2, 1).unfold(1, 2, 2), [A(4, 4)]),
    ("as_strided_overlap", lambda M, a: M.as_strided(a, (3, 3), (1, 2), 1), [A(9)]),
    ("as_strided_of_view", lambda M, a: a[1:].as_strided((2, 2), (2, 1)), [A(3, 3)]),
    ("select_scatter", lambda M, a, b: M.select_scatter(a, b, 0, 1), [A(3, 4), A(4)]),
    ("slice_scatter", lambda M, a, b: M.slice_scatter(a, b, 1, 0, 4, 2), [A(3, 4), A(3, 2)]),
    ("diagonal_scatter", lambda M, a, b: M.diagonal_scatter(a, b, -1), [A(3, 3), A(2)]),
    ("diagflat", lambda M, a: M.diagflat(a, 1), [A(2, 2)]),
    ("addr", lambda M, a, u, v: M.addr(a, u, v, beta=0.5, alpha=2.0), [A(3, 2), A(3), A(2)]),
    ("trapezoid_dx", lambda M, y: M.trapezoid(y, dx=0.5), [A(2, 5)]),
    ("trapezoid_x", lambda M, y, x: M.trapezoid(y, x, dim=0), [A(4, 2), A(4)]),
    ("trapz_x_nd", lambda M, y, x: M.trapz(y, x), [A(2, 4), A(2, 4)]),
    ("cumulative_trapezoid", lambda M, y, x: M.cumulative_trapezoid(y, x), [A(2, 4), A(4)]),
    ("sum_to_size", lambda M, a: a.sum_to_size(2, 1) * a.sum_to_size(3), [A(2, 3)]),
]


def _inplace_on_view(a: Any, b: Any) -> Any:
    c = a * 2
    c[0].mul_(b)  # in place through a view: c's grad_fn becomes CopySlices
    return c


def _inplace_view_of_view(a: Any) -> Any:
    c = a.clone()
    v = c[1:, :]
    v[:, ::2].mul_(3.0)
    v.exp_()
    return c * c


def _inplace_T_view(a: Any, b: Any) -> Any:
    c = a.sin()
    c.t()[1:].add_(b)  # a non-contiguous view
    return c


def _setitem(a: Any, key: tuple, v: Any) -> Any:
    c = a + 0
    c[key] = v * 2 if not isinstance(v, float) else v
    return c ** 2


def _fill_row(a: Any) -> Any:
    c = a * 3
    c[1].fill_(0.5)
    return c * a


def _zero_col(a: Any) -> Any:
    c = a.sin()  # sin saves its input, not its output: overwriting c is allowed
    c[:, 1].zero_()
    return c


def _copy_into_view(a: Any, b: Any) -> Any:
    c = a * 1
    c[1].copy_(b * b)
    return c.cos()


def _clamp_view(a: Any) -> Any:
    c = a * 1
    c.diagonal().clamp_(min=-0.5, max=0.5)  # diagonal view
    return c * 2


def _view_stale(a: Any, b: Any) -> Any:
    c = a * 1
    v = c[:, 1:]  # made before the base changes: its gradient must follow the new values
    c.mul_(b)
    return v * v


def _view_after_inplace(a: Any, b: Any) -> Any:
    c = a * 1
    v = c[1]  # the view is taken first, then its base is modified through another view
    c[0].add_(b)
    return v * v + c.sum()


IDS = [c[0] for c in CASES]
assert len(set(IDS)) == len(IDS), "duplicate case ids"


def _make_inputs(M: Any, specs: list, seed: int) -> list:
    rng = np.random.default_rng(seed)
    out = []
    for s in specs:
        arr = s.draw(rng)
        t = M.tensor(arr, dtype=M.float64)
        if s.grad:
            t.requires_grad_(True)
        out.append(t)
    return out


def _seed(name: str) -> int:
    return sum(ord(c) * (i + 1) for i, c in enumerate(name)) % 10_000


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,)


@pytest.mark.parametrize("name,fn,specs", CASES, ids=IDS)
def test_gradcheck(name: str, fn: Callable, specs: list) -> None:
    xs = _make_inputs(ndgrad, specs, _seed(name))
    assert gradcheck(lambda *a: fn(ndgrad, *a), tuple(xs), eps=1e-6, atol=1e-5, rtol=1e-4, check_forward_ad=True)


@pytest.mark.parametrize("name,fn,specs", CASES, ids=IDS)
def test_gradgradcheck(name: str, fn: Callable, specs: list) -> None:
    xs = _make_inputs(ndgrad, specs, _seed(name))
    assert gradgradcheck(lambda *a: fn(ndgrad, *a), tuple(xs), eps=1e-6, atol=1e-5, rtol=1e-4, check_fwd_over_rev=True)


NO_TORCH_DOUBLE = {"cdist"}  # PyTorch has no second derivative for these: compare first order only


def _first_and_second(M: Any, fn: Callable, xs: list, seed: int, second: bool = True) -> tuple[list, list]:
    """Gradient of <out, w> and of <grad, w2> with respect to the inputs."""
    out = _as_tuple(fn(M, *xs))
    rng = np.random.default_rng(seed + 1)
    total = None
    for o in out:
        w = M.tensor(rng.standard_normal(tuple(o.shape)), dtype=M.float64)
        term = (o * w).sum()
        total = term if total is None else total + term
    diff = [x for x in xs if x.requires_grad]
    gd = iter(M.autograd.grad(total, diff, create_graph=True, allow_unused=True))
    gs = [next(gd) if x.requires_grad else None for x in xs]
    gs = [g if g is not None else M.zeros_like(x) for g, x in zip(gs, xs)]
    total2 = None
    for g in gs:
        if g.requires_grad:
            w = M.tensor(rng.standard_normal(tuple(g.shape)), dtype=M.float64)
            term = (g * w).sum()
            total2 = term if total2 is None else total2 + term
    if total2 is None or not second:
        ggs = [np.zeros(tuple(x.shape)) for x in xs]
    else:
        gd = iter(M.autograd.grad(total2, diff, allow_unused=True))
        ggs = [next(gd) if x.requires_grad else None for x in xs]
        ggs = [np.zeros(tuple(x.shape)) if g is None else _np(g) for g, x in zip(ggs, xs)]
    return [_np(g) for g in gs], ggs


def _np(t: Any) -> np.ndarray:
    return np.array(t.detach().numpy(force=True))  # force: torch may hand back a ZeroTensor


@pytest.mark.parametrize("name,fn,specs", CASES, ids=IDS)
def test_matches_torch(name: str, fn: Callable, specs: list, torch_ref: Any) -> None:
    seed = _seed(name)
    g_nd, gg_nd = _first_and_second(ndgrad, fn, _make_inputs(ndgrad, specs, seed), seed)
    g_t, gg_t = torch_ref("grads", lambda torch: _first_and_second(
        torch, fn, _make_inputs(torch, specs, seed), seed, name not in NO_TORCH_DOUBLE))
    for a, b in zip(g_nd, g_t):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
    if name in NO_TORCH_DOUBLE:
        return
    for a, b in zip(gg_nd, gg_t):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_gradcheck_catches_wrong_rule() -> None:
    """A broken gradient rule must fail the check (the check is not vacuous)."""
    from ndgrad.ops import elementwise as E
    orig = E.MulBackward0.backward

    def wrong(self: Any, g: Any) -> tuple:
        ga, gb = orig(self, g)
        return (None if ga is None else ga * 1.01), gb
    E.MulBackward0.backward = wrong
    try:
        x = ndgrad.tensor([1.0, 2.0], dtype=ndgrad.float64, requires_grad=True)
        with pytest.raises(RuntimeError, match="Jacobian mismatch"):
            gradcheck(lambda a: a * a.detach(), (x,))
        assert not gradcheck(lambda a: a * a.detach(), (x,), raise_exception=False)
    finally:
        E.MulBackward0.backward = orig


def test_gradcheck_non_contiguous_and_detached_outputs() -> None:
    x = ndgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], dtype=ndgrad.float64).t().requires_grad_()
    assert not x.is_contiguous()
    assert gradcheck(lambda a: (a * a.sin()).sum(0), (x,), check_forward_ad=False)
    assert gradgradcheck(lambda a: (a * a * a).sum(0), (x,))
    y = ndgrad.tensor([0.5, 1.5], dtype=ndgrad.float64, requires_grad=True)
    # an output cut from the graph although it depends on the input: its zero gradient is wrong
    with pytest.raises(RuntimeError, match="(?i)expected to be zero"):
        gradcheck(lambda a: a.detach() * 2, (y,))
    assert gradcheck(lambda a: (a * 0 + 1).detach(), (y,))
    with pytest.raises(ValueError, match="requires_grad=True|require gradient"):
        gradcheck(lambda a: a * 2, (y.detach(),))


# ---------------------------------------------------------------------------
# non-smooth points and tie rules: PyTorch's chosen values, recorded as literals
# ---------------------------------------------------------------------------
def _grad_of(fn: Callable, values: list, M: Any = ndgrad) -> list:
    xs = [M.tensor(v, dtype=M.float64, requires_grad=True) for v in values]
    out = fn(M, *xs)
    out = out if isinstance(out, tuple) else (out,)
    total = sum(o.sum() for o in out)
    gs = M.autograd.grad(total, xs, allow_unused=True)
    return [np.zeros(np.shape(v)) if g is None else g.detach().numpy() for g, v in zip(gs, values)]


INF = float("inf")
NAN = float("nan")
NONSMOOTH = [
    # (id, fn, inputs, PyTorch's gradients)
    ("relu_at_0", lambda M, x: x.relu(), [[-1.0, 0.0, 2.0]], [[0.0, 0.0, 1.0]]),
    ("abs_at_0", lambda M, x: x.abs(), [[-1.0, 0.0, 2.0]], [[-1.0, 0.0, 1.0]]),
    ("sqrt_at_0", lambda M, x: x.sqrt(), [[0.0, 4.0]], [[INF, 0.25]]),
    ("norm_at_0", lambda M, x: x.norm(), [[0.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]]),
    ("norm_dim_at_0", lambda M, x: x.norm(dim=1), [[[0.0, 0.0], [3.0, 4.0]]], [[[0.0, 0.0], [0.6, 0.8]]]),
    ("vector_norm_at_0", lambda M, x: M.linalg.vector_norm(x), [[0.0, 0.0]], [[0.0, 0.0]]),
    ("clamp_at_bounds", lambda M, x: x.clamp(-1.0, 1.0), [[-1.0, 1.0, 2.0, -3.0, 0.0]],
     [[1.0, 1.0, 0.0, 0.0, 1.0]]),
    ("clamp_min_at_bound", lambda M, x: x.clamp(min=0.0), [[0.0, -1.0]], [[1.0, 0.0]]),
    ("clamp_max_at_bound", lambda M, x: x.clamp(max=0.0), [[0.0, 1.0]], [[1.0, 0.0]]),
    ("sign_grad_zero", lambda M, x: x.sign(), [[-1.0, 0.0, 2.0]], [[0.0, 0.0, 0.0]]),
    ("max_all_ties_split", lambda M, x: x.max(), [[1.0, 3.0, 3.0, 3.0]], [[0.0, 1 / 3, 1 / 3, 1 / 3]]),
    ("min_all_ties_split", lambda M, x: x.min(), [[0.0, 0.0, 3.0]], [[0.5, 0.5, 0.0]]),
    ("amax_ties_split", lambda M, x: x.amax(1), [[[2.0, 2.0], [1.0, 0.0]]], [[[0.5, 0.5], [1.0, 0.0]]]),
    ("amin_ties_split", lambda M, x: x.amin(), [[[2.0, 2.0], [2.0, 3.0]]], [[[1 / 3, 1 / 3], [1 / 3, 0.0]]]),
    ("max_dim_ties_selected", lambda M, x: x.max(1)[0], [[[2.0, 2.0, 1.0]]], [[[1.0, 0.0, 0.0]]]),
    ("min_dim_ties_selected", lambda M, x: x.min(0)[0], [[[1.0], [1.0]]], [[[1.0], [0.0]]]),
    ("maximum_tie_split", lambda M, a, b: M.maximum(a, b), [[1.0, 2.0], [1.0, 0.0]],
     [[0.5, 1.0], [0.5, 0.0]]),
    ("minimum_tie_split", lambda M, a, b: M.minimum(a, b), [[1.0, 2.0], [1.0, 0.0]],
     [[0.5, 0.0], [0.5, 1.0]]),
    ("pow_0_at_0", lambda M, x: x ** 0.0, [[0.0, 2.0]], [[0.0, 0.0]]),
    ("pow_2_at_0", lambda M, x: x ** 2, [[0.0]], [[0.0]]),
    ("prod_with_zero", lambda M, x: x.prod(), [[2.0, 0.0, 3.0]], [[0.0, 6.0, 0.0]]),
    ("prod_two_zeros", lambda M, x: x.prod(), [[2.0, 0.0, 0.0]], [[0.0, 0.0, 0.0]]),
    ("prod_dim_zero", lambda M, x: x.prod(1), [[[0.0, 2.0], [3.0, 4.0]]], [[[2.0, 0.0], [4.0, 3.0]]]),
    ("cumprod_with_zero", lambda M, x: x.cumprod(0), [[2.0, 0.0, 3.0]], [[1.0, 8.0, 0.0]]),
    ("xlogy_at_0", lambda M, x, y: M.xlogy(x, y), [[0.0, 0.0, 0.0, 1.0], [0.0, 1.0, 2.0, 2.0]],
     [[0.0, 0.0, np.log(2.0), np.log(2.0)], [NAN, 0.0, 0.0, 0.5]]),
    ("median_even_lower", lambda M, x: x.median(), [[4.0, 1.0, 3.0, 2.0]], [[0.0, 0.0, 0.0, 1.0]]),
    ("relu_via_clamp_grad_at_0", lambda M, x: x.clamp(min=0) * 1, [[0.0]], [[1.0]]),
    ("hypot_at_0", lambda M, a, b: M.hypot(a, b), [[0.0], [0.0]], [[NAN], [NAN]]),
]


@pytest.mark.parametrize("name,fn,inputs,expected", NONSMOOTH, ids=[c[0] for c in NONSMOOTH])
def test_nonsmooth_points_match_pytorch(name: str, fn: Callable, inputs: list, expected: list) -> None:
    got = _grad_of(fn, inputs)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, np.asarray(e, dtype=np.float64), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,fn,inputs,expected", NONSMOOTH, ids=[c[0] for c in NONSMOOTH])
def test_nonsmooth_literals_are_torch(name: str, fn: Callable, inputs: list, expected: list, torch_ref: Any) -> None:
    """The literals above are what PyTorch computes."""
    want = torch_ref("grads", lambda torch: _grad_of(fn, inputs, torch))
    for w, e in zip(want, expected):
        np.testing.assert_allclose(w, np.asarray(e, dtype=np.float64), rtol=1e-12, atol=1e-12)


def test_repeated_index_accumulates() -> None:
    x = ndgrad.zeros(4, dtype=ndgrad.float64, requires_grad=True)
    x[[0, 0, 2, 0]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3.0, 0.0, 1.0, 0.0])
    y = ndgrad.zeros(3, 2, dtype=ndgrad.float64, requires_grad=True)
    y.index_select(0, ndgrad.tensor([1, 1])).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [[0, 0], [2, 2], [0, 0]])


def test_gradcheck_cases_runtime_budget() -> None:
    """Keep the parametrised cases small enough for the whole file to stay fast."""
    for name, _, specs in CASES:
        n = sum(int(np.prod(s.shape)) for s in specs)
        assert n <= 40, name


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([os.path.abspath(__file__), "-q"]))


# ---------------------------------------------------------------------------
# every differentiable row of the op table (tests/ops/table.py), in float64
# ---------------------------------------------------------------------------
def _load_table() -> list:
    """tests/ops/table.py's rows, loaded by path (works from any working directory)."""
    import importlib.util
    from pathlib import Path
    path = Path(__file__).resolve().parents[1] / "ops" / "table.py"
    if not path.exists():  # pragma: no cover - the table belongs to another part of the suite
        return []
    spec = importlib.util.spec_from_file_location("_ndgrad_op_table", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return list(mod.ROWS)


TABLE_ROWS = _load_table()

# rows whose sampled inputs sit where finite differences are meaningless, with the reason
# (the PyTorch comparison still runs on them)
TABLE_FD_SKIP: dict[str, str] = {
    "xlogy[zeros]": "samples hold x = y = 0, where PyTorch defines d/dx as 0 (see test_nonsmooth_*)",
    "special.xlog1py[zeros]": "samples hold x = 0, y = -1, where PyTorch defines d/dx as 0",
    "cummax[indices]": "samples hold ties on purpose: the selected index takes the gradient, FD splits it",
    "mode": "samples hold ties on purpose: the reported occurrence takes the gradient, FD splits it",
    "sort[stable_nan]": "samples hold ties on purpose: each sorted slot takes its element's gradient",
    "unique": "the output's shape depends on the values",
    "quantile[tensor_q]": "q = 0.5 of 7 values lands exactly on an order statistic: a kink in q",
    "bincount": "not differentiable in PyTorch either (derivative not implemented)",
    "scatter[reduce]": "not differentiable in PyTorch either (derivative not implemented)",
    "special.bessel_j0": "not differentiable in PyTorch either",
    "special.modified_bessel_i0": "not differentiable in PyTorch either",
    "special.modified_bessel_i1": "not differentiable in PyTorch either",
    "special.spherical_bessel_j0": "not differentiable in PyTorch either",
    "unique_consecutive": "the output's shape depends on the values",
    "linalg.lstsq[singular_values]": "not differentiable in PyTorch either (singular_values never require grad)",
    "unique_consecutive[dim]": "the output's shape depends on the values",
    "heaviside": "not differentiable in PyTorch either (derivative not implemented)",
    "histogram": "not differentiable in PyTorch either (derivative not implemented)",
    "unique[dim]": "the output's shape depends on the values",
    "special.bessel_j1": "not differentiable in PyTorch either",
}
# rows whose gradient PyTorch itself gets wrong, with the reason (finite differences still check them)
TABLE_TORCH_SKIP: dict[str, str] = {
    "vander": "PyTorch's double backward of vander fails (it reports a saved tensor modified in place)",
    "linalg.cond[fro]": "PyTorch's double backward of cond(p='fro') fails (a saved tensor modified in place)",
    "var[empty_dims]": "PyTorch's forward reduces dim=() over all dims but its backward divides by n - 1 = 0 (inf)",
    "std[empty_dims]": "PyTorch's forward reduces dim=() over all dims but its backward divides by n - 1 = 0 (inf)",
}
MAX_FD_ELEMS = 40  # per sample: keeps finite differences cheap
FULL_GG = bool(os.environ.get("NDGRAD_FULL_GRADGRAD"))  # gradgradcheck every sample, not just the first


def _float_variant(r: Any) -> tuple | None:
    """The row's dtype entry made all-float64, if the row runs on floats at all."""
    for dt in r.dtypes:
        dts = dt if isinstance(dt, tuple) else (dt,)
        if all(d in ("float32", "float64") for d in dts):
            return tuple("float64" for _ in dts)
    return None


def _table_params() -> list:
    seen = set()
    out = []
    for r in TABLE_ROWS:
        dts = _float_variant(r)
        if dts is None or r.id in seen:
            continue
        seen.add(r.id)
        out.append(pytest.param(r, dts, id=r.id))
    return out


TABLE_PARAMS = _table_params()


def _flatten_arrays(x: Any, out: list) -> Any:
    """Replace float64 arrays in a nested args structure by slot numbers; collect them."""
    if isinstance(x, np.ndarray) and x.dtype == np.float64:
        out.append(x)
        return ("__slot__", len(out) - 1)
    if isinstance(x, list):
        return [_flatten_arrays(v, out) for v in x]
    if isinstance(x, tuple):
        return tuple(_flatten_arrays(v, out) for v in x)
    if isinstance(x, dict):
        return {k: _flatten_arrays(v, out) for k, v in x.items()}
    return x


def _rebuild(x: Any, M: Any, slots: tuple) -> Any:
    if isinstance(x, tuple) and len(x) == 2 and isinstance(x[0], str) and x[0] == "__slot__":
        return slots[x[1]]
    if isinstance(x, np.ndarray):
        return M.from_numpy(x.copy())
    if isinstance(x, list):
        return [_rebuild(v, M, slots) for v in x]
    if isinstance(x, tuple):
        return tuple(_rebuild(v, M, slots) for v in x)
    if isinstance(x, dict):
        return {k: _rebuild(v, M, slots) for k, v in x.items()}
    return x


def _float_outputs(res: Any, M: Any) -> tuple:
    if isinstance(res, (tuple, list)):
        return tuple(o for v in res for o in _float_outputs(v, M))
    if isinstance(res, M.Tensor) and res.dtype in (M.float64, M.float32):
        return (res,)
    return ()


def _table_samples(r: Any, dts: tuple) -> list:
    rng = np.random.default_rng(sum(map(ord, r.id)) % (2 ** 31))
    chosen = []
    for args, kwargs in r.samples(dts, rng):
        arrays: list = []
        structure = _flatten_arrays((args, kwargs), arrays)
        if not arrays or any(a.size == 0 for a in arrays):
            continue
        if sum(a.size for a in arrays) > MAX_FD_ELEMS or not all(np.isfinite(a).all() for a in arrays):
            continue
        chosen.append((structure, arrays))
    return chosen[:3]


def _table_fn(r: Any, structure: Any, M: Any) -> Callable:
    def f(*slots: Any) -> tuple:
        args, kwargs = _rebuild(structure, M, slots)
        return _float_outputs(r.call(M, *args, **kwargs), M)
    return f


@pytest.mark.skipif(not TABLE_ROWS, reason="op table not available")
@pytest.mark.parametrize("r,dts", TABLE_PARAMS)
def test_table_gradcheck(r: Any, dts: tuple) -> None:
    if r.id in TABLE_FD_SKIP:
        pytest.skip(TABLE_FD_SKIP[r.id])
    samples = _table_samples(r, dts)
    if not samples:
        pytest.skip("no finite float sample small enough for finite differences")
    checked = 0
    for i, (structure, arrays) in enumerate(samples):
        xs = tuple(ndgrad.tensor(a, dtype=ndgrad.float64, requires_grad=True) for a in arrays)
        f = _table_fn(r, structure, ndgrad)
        with warnings_ignored():
            outs = f(*xs)
            if not outs:
                continue
            checked += 1
            assert gradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4)
            if (i == 0 or FULL_GG) and any(o.requires_grad for o in outs):
                assert gradgradcheck(f, xs, eps=1e-6, atol=1e-5, rtol=1e-4)
    if not checked:
        pytest.skip("no float outputs")


def _table_grads(r: Any, structure: Any, arrays: list, M: Any) -> tuple | str | None:
    """First and second order gradients of the row's differentiable outputs in library M; None
    when no output requires grad; the error text where M has no derivative."""
    xs = [M.tensor(a, dtype=M.float64, requires_grad=True) for a in arrays]
    f = _table_fn(r, structure, M)
    with warnings_ignored():
        if not any(o.requires_grad for o in f(*xs)):
            return None
        try:
            def diff_outs(M_: Any, *a: Any) -> tuple:
                return tuple(o for o in f(*a) if o.requires_grad)
            return _first_and_second(M, diff_outs, xs, 1, r.name not in NO_TORCH_DOUBLE)
        except (RuntimeError, NotImplementedError) as e:
            if M is not ndgrad and ("not implemented" in str(e) or "invalid gradient" in str(e)):
                return str(e)
            raise


@pytest.mark.skipif(not TABLE_ROWS, reason="op table not available")
@pytest.mark.parametrize("r,dts", TABLE_PARAMS)
def test_table_matches_torch(r: Any, dts: tuple, torch_ref: Any) -> None:
    if r.id in TABLE_TORCH_SKIP:
        pytest.skip(TABLE_TORCH_SKIP[r.id])
    samples = _table_samples(r, dts)[:1]
    if not samples:
        pytest.skip("no finite float sample small enough for finite differences")
    structure, arrays = samples[0]
    want = torch_ref("grads", lambda torch: _table_grads(r, structure, arrays, torch))
    if isinstance(want, str):
        pytest.skip(f"PyTorch has no derivative: {want}")
    grads = [_table_grads(r, structure, arrays, ndgrad), want]
    if grads[0] is None or grads[1] is None:
        assert grads[0] is None and grads[1] is None, "requires_grad of the outputs differs from PyTorch's"
        return
    for a, b in zip(grads[0][0] + grads[0][1], grads[1][0] + grads[1][1]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def warnings_ignored() -> Any:
    import warnings
    cm = warnings.catch_warnings()
    cm.__enter__()
    warnings.simplefilter("ignore")

    class _Exit:
        def __enter__(self) -> None:
            return None

        def __exit__(self, *exc: Any) -> None:
            cm.__exit__(*exc)
    return _Exit()


# ---------------------------------------------------------------------------
# every in-place method, on a non-leaf and on two kinds of views of one
# ---------------------------------------------------------------------------
INPLACE_UNARY = ["neg", "abs", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt", "sin",
                 "cos", "tan", "asin", "acos", "atan", "sinh", "cosh", "tanh", "sigmoid", "relu", "floor", "ceil",
                 "trunc", "round", "frac", "reciprocal", "sign", "square", "erf", "erfinv", "logit", "sinc", "erfc",
                 "asinh", "atanh", "deg2rad", "rad2deg", "nan_to_num", "fix", "arcsin", "negative", "absolute"]
INPLACE_OTHER: dict[str, Callable] = {
    "add": lambda M, t, b: t.add_(b, alpha=0.5), "sub": lambda M, t, b: t.sub_(b), "mul": lambda M, t, b: t.mul_(b),
    "div": lambda M, t, b: t.div_(b), "pow": lambda M, t, b: t.pow_(b), "fmod": lambda M, t, b: t.fmod_(b),
    "remainder": lambda M, t, b: t.remainder_(b), "atan2": lambda M, t, b: t.atan2_(b),
    "hypot": lambda M, t, b: t.hypot_(b), "copysign": lambda M, t, b: t.copysign_(b - 0.5),
    "xlogy": lambda M, t, b: t.xlogy_(b), "float_power": lambda M, t, b: t.float_power_(b),
    "lerp": lambda M, t, b: t.lerp_(b, 0.3), "lerp_t": lambda M, t, b: t.lerp_(b, b),
    "addcmul": lambda M, t, b: t.addcmul_(b, b, value=2), "addcdiv": lambda M, t, b: t.addcdiv_(b, b + 1),
    "clamp": lambda M, t, b: t.clamp_(0.3, 0.6), "clamp_min": lambda M, t, b: t.clamp_min_(0.4),
    "clamp_max": lambda M, t, b: t.clamp_max_(0.4), "clamp_t": lambda M, t, b: t.clamp_(b * 0.9, b * 1.1),
    "masked_fill": lambda M, t, b: t.masked_fill_(b.detach() > 0.5, 2.0),
    "index_fill": lambda M, t, b: t.index_fill_(-1, M.tensor([1]), 2.0),
    "index_add": lambda M, t, b: t.index_add_(-1, M.tensor([0, 0]), b[..., :2]),
    "index_copy": lambda M, t, b: t.index_copy_(-1, M.tensor([1, 0]), b[..., :2]),
    "scatter": lambda M, t, b: t.scatter_(-1, M.tensor([[1, 0]] * t.shape[0] if t.dim() == 2 else [1, 0]),
                                          b[..., :2]),
    "scatter_add": lambda M, t, b: t.scatter_add_(-1, M.tensor([[1, 1]] * t.shape[0] if t.dim() == 2 else [1, 1]),
                                                  b[..., :2]),
    "tril": lambda M, t, b: t.tril_() if t.dim() == 2 else t.mul_(b), "triu": lambda M, t, b: t.triu_(1)
    if t.dim() == 2 else t.mul_(b),
    "fill": lambda M, t, b: t.fill_(b.sum()), "zero": lambda M, t, b: t.zero_(), "copy": lambda M, t, b: t.copy_(b * 2),
    "mul_scalar": lambda M, t, b: t.mul_(3.0), "add_scalar": lambda M, t, b: t.add_(2.0, alpha=2),
    "pow_scalar": lambda M, t, b: t.pow_(3), "iadd": lambda M, t, b: t.__iadd__(b),
    "imul": lambda M, t, b: t.__imul__(b),
    "setitem": lambda M, t, b: t.__setitem__((Ellipsis, slice(0, 2)), b[..., 1:] * 2),
}
INPLACE_W = np.arange(6.0).reshape(2, 3) + 1


def _inplace_case(name: str, mode: str) -> Callable:
    def f(M: Any, a: Any, b: Any) -> Any:
        c = a * 1
        t, bb = {"direct": (c, b), "row": (c[1], b[1]), "col": (c.t()[1:], b.t()[1:])}[mode]
        if name in INPLACE_OTHER:
            INPLACE_OTHER[name](M, t, bb)
        else:
            getattr(t, name + "_")()
        return c * M.tensor(INPLACE_W, dtype=M.float64)
    return f


INPLACE_PARAMS = [pytest.param(n, m, id=f"{n}-{m}") for n in INPLACE_UNARY + list(INPLACE_OTHER)
                  for m in ("direct", "row", "col")]
INPLACE_SPECS = [A(2, 3, kind="prob"), A(2, 3, kind="prob")]


@pytest.mark.parametrize("name,mode", INPLACE_PARAMS)
def test_inplace_gradcheck(name: str, mode: str) -> None:
    f = _inplace_case(name, mode)
    xs = tuple(_make_inputs(ndgrad, INPLACE_SPECS, _seed(name)))
    assert gradcheck(lambda *a: f(ndgrad, *a), xs, eps=1e-6, atol=1e-5, rtol=1e-4)
    if mode == "row":
        assert gradgradcheck(lambda *a: f(ndgrad, *a), xs, eps=1e-6, atol=1e-5, rtol=1e-4)


def _inplace_torch(f: Callable, seed: int, torch: Any) -> tuple | str:
    try:
        return _first_and_second(torch, f, _make_inputs(torch, INPLACE_SPECS, seed), seed)
    except NotImplementedError as e:  # e.g. PyTorch has no derivative for in-place asinh_
        return str(e)


@pytest.mark.parametrize("name,mode", INPLACE_PARAMS)
def test_inplace_matches_torch(name: str, mode: str, torch_ref: Any) -> None:
    f = _inplace_case(name, mode)
    seed = _seed(name)
    g_nd, gg_nd = _first_and_second(ndgrad, f, _make_inputs(ndgrad, INPLACE_SPECS, seed), seed)
    want = torch_ref("grads", lambda torch: _inplace_torch(f, seed, torch))
    if isinstance(want, str):
        pytest.skip(f"PyTorch: {want}")
    g_t, gg_t = want
    for a, b in zip(g_nd + gg_nd, g_t + gg_t):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)
