"""Forward mode, one check per op-table row: every float row, run in float64 with a random tangent on
each floating input, gives an output tangent (its op's JVP rule) equal to the central difference of
the forward along that tangent, and equal to its VJP by transposition: <J v, u> = <v, J^T u>."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
import ndgrad.autograd.forward_ad as fwAD

from .table import ROWS, OpRow

EPS = 1e-6

# Rows whose samples sit where the function is not differentiable, so that the finite difference
# means nothing (the JVP is still checked against the VJP there).
NO_FD = {"round[half_even]", "cummax[indices]", "sort[stable_nan]", "linalg.pinv",
         "quantile[tensor_q]", "mode"}  # samples at ties, kinks (q (n-1) whole) or rank deficiency, on purpose


def _to64(dt: Any) -> str | None:
    return {"float32": "float64", "float64": "float64"}.get(dt, dt if dt in ("int64", "int32", "bool", "uint8",
                                                                               "int8", "int16") else None)


def _params() -> list:
    out = []
    for r in ROWS:
        for dt in r.dtypes:
            dts = tuple(_to64(d) for d in (dt if isinstance(dt, tuple) else (dt,)))
            if None in dts or "float64" not in dts:
                continue
            out.append(pytest.param(r, dts, id=f"{r.id}-{'-'.join(dts)}"))
            break  # one float64 variant per row
    return out


def _leaves(x: Any, path: tuple = ()) -> list:
    """(path, array) of every NumPy array in nested args."""
    if isinstance(x, np.ndarray):
        return [(path, x)]
    if isinstance(x, (list, tuple)):
        return [p for i, v in enumerate(x) for p in _leaves(v, path + (i,))]
    if isinstance(x, dict):
        return [p for k, v in x.items() for p in _leaves(v, path + (k,))]
    return []


def _build(x: Any, subs: dict, path: tuple = ()) -> Any:
    if path in subs:
        return subs[path]
    if isinstance(x, np.ndarray):
        return ndgrad.from_numpy(x.copy())
    if isinstance(x, list):
        return [_build(v, subs, path + (i,)) for i, v in enumerate(x)]
    if isinstance(x, tuple):
        return tuple(_build(v, subs, path + (i,)) for i, v in enumerate(x))
    if isinstance(x, dict):
        return {k: _build(v, subs, path + (k,)) for k, v in x.items()}
    return x


def _float_outs(res: Any) -> list:
    res = res if isinstance(res, (tuple, list)) else (res,)
    return [o for o in res if isinstance(o, ndgrad.Tensor) and o.dtype == ndgrad.float64]


@pytest.mark.parametrize("r,dts", _params())
def test_jvp_matches_finite_differences_and_vjp(r: OpRow, dts: tuple) -> None:
    rng = np.random.default_rng(sum(map(ord, r.id)))
    for args, kwargs in r.samples(dts, rng):
        floats = [(p, a) for p, a in _leaves((args, kwargs)) if a.dtype == np.float64 and a.size]
        if not floats or any(not np.all(np.isfinite(a)) for _, a in floats):
            continue

        def call(subs: dict, args: tuple = args, kwargs: dict = kwargs) -> list:
            a2, k2 = _build((args, kwargs), subs)
            return _float_outs(r.call(ndgrad, *a2, **k2))

        # reverse mode first: which inputs are differentiable (a gradient, even a zero one, reaches them)
        # and which outputs depend on them differentiably (the others PyTorch leaves without a gradient)
        leaves = {p: ndgrad.from_numpy(a.copy()).requires_grad_() for p, a in floats}
        try:
            outs = call(leaves)
        except RuntimeError:
            continue
        diff_out = [i for i, o in enumerate(outs) if o.requires_grad]
        if not diff_out:
            continue
        us = {i: np.asarray(rng.standard_normal(tuple(outs[i].shape))) for i in diff_out}
        total = sum(((outs[i] * ndgrad.from_numpy(us[i])).sum() for i in diff_out),
                    ndgrad.zeros((), dtype=ndgrad.float64))
        try:
            grads = dict(zip(leaves, ndgrad.autograd.grad(total, list(leaves.values()), allow_unused=True)))
        except RuntimeError:  # not differentiable here (PyTorch refuses too: qr with mode='r')
            continue
        diff_in = [(p, a) for p, a in floats if grads[p] is not None]
        tans = {p: np.asarray(rng.standard_normal(a.shape)) for p, a in diff_in}
        with fwAD.dual_level():
            duals = {p: fwAD.make_dual(ndgrad.from_numpy(a.copy()), ndgrad.from_numpy(tans[p])) for p, a in diff_in}
            res = call(duals)
            jv = {i: fwAD.unpack_dual(res[i]).tangent for i in diff_out}
        jv = {i: np.zeros(tuple(outs[i].shape)) if t is None else t.numpy() for i, t in jv.items()}
        what = f"{r.id} on {[a.shape for _, a in floats]} {kwargs}"
        # <J v, u> = <v, J^T u>
        v_jtu = sum(float(np.sum(tans[p] * grads[p].numpy())) for p, _ in diff_in)
        jv_u = sum(float(np.sum(jv[i] * us[i])) for i in diff_out)
        np.testing.assert_allclose(jv_u, v_jtu, rtol=1e-7, atol=1e-9, err_msg=what)
        if r.id in NO_FD:
            continue
        plus = call({p: ndgrad.from_numpy(np.asarray(a + EPS * tans[p])) for p, a in diff_in})
        minus = call({p: ndgrad.from_numpy(np.asarray(a - EPS * tans[p])) for p, a in diff_in})
        for i in diff_out:
            fd = (plus[i].numpy() - minus[i].numpy()) / (2 * EPS)
            ok = np.isfinite(fd)
            np.testing.assert_allclose(jv[i][ok], fd[ok], rtol=1e-4, atol=1e-5, err_msg=what)
