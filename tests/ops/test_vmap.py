"""vmap, one check per op-table row: every row run on a batch of 3 examples inside vmap equals the
row run on each example in a loop (all floating inputs batched; only the first one batched; two
nested vmaps), through a batching rule (batched NumPy calls) unless the row is one of the few ops
listed in LOOPED, which run once per example with a warning. And for every float64 row the
batched VJP and JVP (vmap over cotangents / tangents, as jacrev and jacfwd use them) equal one call
per batch member: gradcheck's check_batched_grad and check_batched_forward_grad."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd._gradcheck_fast import batched_check
from ndgrad.func import vmap

from .table import ROWS, OpRow
from .test_jvp import _build, _leaves, _params, _to64

B = 3

# ops whose results have data-dependent shapes or that have no batching rule of their own: vmap runs
# them once per example (with a warning), which must still give the loop's answer
LOOPED = {"bincount", "bucketize", "corrcoef", "cov", "histc", "histogram", "index_put", "isin", "linalg.lstsq",
          "masked_scatter", "nanmedian", "nonzero", "quantile", "searchsorted", "unique", "unique_consecutive",
          "argwhere", "where", "masked_select", "repeat_interleave", "take", "index_add", "index_copy",
          "index_fill", "index_select", "take_along_dim",  # (these and take loop only for a batched index)
          "max_unpool1d", "max_unpool2d", "max_unpool3d", "grid_sample"}  # no batching rule yet


# rows that vmap cannot compare with a loop: no tensor inputs, or results that are not tensors
NOT_BATCHABLE = {"tril_indices", "triu_indices", "fft.fftfreq", "fft.rfftfreq", "equal", "allclose", "is_conj",
                 "is_neg", "is_complex", "is_floating_point", "is_nonzero", "is_same_size", "numel",
                 "svd", "linalg.svd[shapes]"}  # (these two return a torch.Size too)


def _flat(o: Any) -> list:
    if isinstance(o, (tuple, list)):
        return [x for v in o for x in _flat(v)]
    return [o]


def _row_params() -> list:
    out = []
    for r in ROWS:
        for dt in r.dtypes:
            dts = tuple(_to64(d) for d in (dt if isinstance(dt, tuple) else (dt,)))
            if None not in dts and "float64" in dts:
                break
        else:
            dts = tuple(_to64(d) or d for d in (r.dtypes[0] if isinstance(r.dtypes[0], tuple) else (r.dtypes[0],)))
        out.append(pytest.param(r, dts, id=r.id))
    return out


def _compare(got: Any, loop: list, what: str) -> None:
    got = _flat(got)
    for i, g in enumerate(got):
        want = [_flat(one)[i] for one in loop]
        w = np.stack([x.detach().numpy() for x in want])
        gn = g.detach().numpy()
        assert gn.shape == w.shape and gn.dtype == w.dtype, (what, i, gn.shape, w.shape, gn.dtype, w.dtype)
        if gn.dtype.kind in "fc":
            np.testing.assert_allclose(gn, w, rtol=1e-9, atol=1e-12, equal_nan=True, err_msg=what)
        else:
            np.testing.assert_array_equal(gn, w, err_msg=what)


@pytest.mark.parametrize("r,dts", _row_params())
def test_vmap_matches_a_loop(r: OpRow, dts: tuple) -> None:
    rng = np.random.default_rng(sum(map(ord, r.id)))
    checked = 0
    for args, kwargs in r.samples(dts, rng):
        floats = _leaves((args, kwargs))
        if not floats:
            continue
        # a batch of examples: each floating input scaled a little differently per example, the
        # entries of the others (indices, masks) rotated
        stacks = {p: np.stack([np.asarray(a * (1 + 0.03 * k)) if a.dtype.kind in "fc" else
                               np.roll(a.reshape(-1), k).reshape(a.shape) for k in range(B)]) for p, a in floats}
        for mode in ("all", "first", "nested"):
            paths = list(stacks) if mode != "first" else list(stacks)[:1]
            fixed = {p: ndgrad.from_numpy(np.array(s[0])) for p, s in stacks.items() if p not in paths}

            def call(sub: dict, args: tuple = args, kwargs: dict = kwargs, fixed: dict = fixed) -> Any:
                a2, k2 = _build((args, kwargs), {**fixed, **sub})
                return r.call(ndgrad, *a2, **k2)
            try:
                loop = [call({p: ndgrad.from_numpy(np.array(stacks[p][k])) for p in paths}) for k in range(B)]
            except Exception:  # noqa: BLE001 - not a valid sample for this op: nothing to compare
                continue
            if not all(isinstance(o, ndgrad.Tensor) for o in _flat(loop[0])):
                continue  # (vmap returns tensors only)

            def f(*xs: Any, paths: list = paths, call: Any = call) -> Any:
                return call(dict(zip(paths, xs)))
            what = f"{r.id} ({mode}) on {[a.shape for _, a in floats]} {kwargs}"
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if mode == "nested":  # vmap(vmap(f)) over (B, 2, ...): both copies of an example agree
                    got = vmap(vmap(f))(*[ndgrad.from_numpy(np.repeat(stacks[p][:, None], 2, 1)) for p in paths])
                    got = [g[:, 1] if isinstance(g, ndgrad.Tensor) else g for g in _flat(got)]
                else:
                    got = vmap(f)(*[ndgrad.from_numpy(stacks[p]) for p in paths])
            looped = [w for w in caught if "no batching rule" in str(w.message)]
            assert not looped or r.name in LOOPED, (what, str(looped[0].message))
            _compare(got, loop, what)
            checked += 1
    assert checked or r.name in NOT_BATCHABLE or r.id in NOT_BATCHABLE, f"{r.id}: no sample could be compared"


@pytest.mark.parametrize("r,dts", _params())
def test_batched_vjp_and_jvp_match_a_loop(r: OpRow, dts: tuple) -> None:
    rng = np.random.default_rng(sum(map(ord, r.id)))
    for args, kwargs in r.samples(dts, rng):
        floats = [(p, a) for p, a in _leaves((args, kwargs)) if a.dtype == np.float64 and a.size]
        if not floats or any(not np.all(np.isfinite(a)) for _, a in floats):
            continue
        paths = [p for p, _ in floats]

        def fn(*xs: Any, args: tuple = args, kwargs: dict = kwargs, paths: list = paths) -> Any:
            a2, k2 = _build((args, kwargs), dict(zip(paths, xs)))
            return r.call(ndgrad, *a2, **k2)
        inputs = tuple(ndgrad.from_numpy(a.copy()).requires_grad_() for _, a in floats)
        try:
            outs = _flat(fn(*inputs))
        except RuntimeError:
            continue
        if not any(isinstance(o, ndgrad.Tensor) and o.requires_grad for o in outs):
            continue
        if r.id == "linalg.qr" and kwargs.get("mode") == "r":  # not differentiable (PyTorch refuses too)
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (a few backward rules loop over the batch)
            ok = batched_check(fn, inputs, list(range(len(inputs))), 1e-7, 1e-6, True, True)
        assert ok is True, f"{r.id} on {[a.shape for _, a in floats]} {kwargs}: {ok}"
