"""Every collective of ndgrad.distributed against a NumPy reference (run by suite.py under mpiexec).

Each rank builds every rank's input from (rank, seed), so it can compute the expected result
of a collective on its own with NumPy. Any failed check raises, which (through ndgrad's
excepthook) aborts the job with a non-zero exit and the traceback.
"""
from __future__ import annotations

import warnings

import numpy as np

import ndgrad
import ndgrad.distributed as dist
from ndgrad import _dtype as D

RedOp = dist.ReduceOp
checks = [0]


def eq(got, want, what, tol=0.0):
    got = got.numpy() if isinstance(got, ndgrad.Tensor) else np.asarray(got)
    want = np.asarray(want)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    if tol:
        np.testing.assert_allclose(got.astype(np.float64), want.astype(np.float64), rtol=tol, atol=tol, err_msg=what)
    else:
        assert np.array_equal(got, want), f"{what}: {got} != {want}"
    checks[0] += 1


def raises(exc, match, fn, what):
    try:
        fn()
    except exc as e:
        assert match in str(e), f"{what}: message {str(e)!r} lacks {match!r}"
        checks[0] += 1
        return str(e)
    raise AssertionError(f"{what}: no {exc.__name__}")


def dtypes():
    out = [D.bool, D.uint8, D.int8, D.int16, D.int32, D.int64, D.float16, D.float32, D.float64, D.complex64,
           D.complex128]
    try:
        ndgrad.ones(1, dtype=D.bfloat16)
        out.append(D.bfloat16)
    except Exception:  # bfloat16 not storable in this build
        pass
    return out


def value(rank, shape, dt, salt=0):
    """Rank `rank`'s input: small integers (exact in every dtype and under sums of a few ranks)."""
    n = int(np.prod(shape))
    base = (np.arange(n) * 7 + rank * 3 + salt) % 5
    if dt is D.bool:
        a = base % 2 == 1
    elif dt.category == 3:
        a = (base + 1) + 1j * (base % 3)
    else:
        a = base + 1
    return ndgrad.tensor(a.reshape(shape), dtype=dt)


def np_of(t):
    return t.float().numpy() if t.dtype is D.bfloat16 else t.numpy()


def ops_for(dt):
    if dt is D.bool:
        return [RedOp.SUM, RedOp.PRODUCT, RedOp.MIN, RedOp.MAX, RedOp.BAND, RedOp.BOR, RedOp.BXOR]
    if dt.category == 1:
        return [RedOp.SUM, RedOp.PRODUCT, RedOp.MIN, RedOp.MAX, RedOp.BAND, RedOp.BOR, RedOp.BXOR]
    if dt.category == 2:
        return [RedOp.SUM, RedOp.AVG, RedOp.PRODUCT, RedOp.MIN, RedOp.MAX]
    return [RedOp.SUM, RedOp.AVG, RedOp.PRODUCT]


def np_reduce(arrays, op, dt):
    if dt is D.bool:
        f = {RedOp.SUM: np.logical_or, RedOp.MAX: np.logical_or, RedOp.BOR: np.logical_or,
             RedOp.PRODUCT: np.logical_and, RedOp.MIN: np.logical_and, RedOp.BAND: np.logical_and,
             RedOp.BXOR: np.logical_xor}[op]
    else:
        f = {RedOp.SUM: np.add, RedOp.AVG: np.add, RedOp.PRODUCT: np.multiply, RedOp.MIN: np.minimum,
             RedOp.MAX: np.maximum, RedOp.BAND: np.bitwise_and, RedOp.BOR: np.bitwise_or,
             RedOp.BXOR: np.bitwise_xor}[op]
    wide = np.float64 if dt.category == 2 else None
    out = arrays[0].astype(wide) if wide else arrays[0].copy()
    for a in arrays[1:]:
        out = f(out, a.astype(wide) if wide else a)
    if op is RedOp.AVG:
        out = out / len(arrays)
    return out


def check_all_reduce(rank, n):
    for dt in dtypes():
        tol = 1e-2 if dt.itemsize == 2 and dt.category == 2 else 0.0
        for op in ops_for(dt):
            for async_op in (False, True):
                want = np_reduce([np_of(value(r, (3, 4), dt)) for r in range(n)], op, dt)
                t = value(rank, (3, 4), dt)
                work = dist.all_reduce(t, op=op, async_op=async_op)
                if async_op:
                    assert work.wait() is True and work.is_completed() and work.result() == [t]
                eq(np_of(t), want.astype(np_of(t).dtype), f"all_reduce {dt} {op} async={async_op}", tol)
        # a non-contiguous view is reduced in place: its base sees the result
        base = value(rank, (4, 3), dt)
        view = base.t()
        want = np_reduce([np_of(value(r, (4, 3), dt)).T for r in range(n)], RedOp.SUM, dt)
        dist.all_reduce(view)
        eq(np_of(base), want.T.astype(np_of(base).dtype), f"all_reduce non-contiguous {dt}", tol)
    # a work's future: wait() gives the tensors, then() chains a callback on them
    t = ndgrad.ones(3)
    fut = dist.all_reduce(t, async_op=True).get_future()
    assert fut.wait() == [t] and fut.done()
    assert fut.then(lambda f: f.value()[0].sum().item()).wait() == 3.0 * n
    checks[0] += 2
    # PyTorch's argument errors
    raises(ValueError, "does not support RedOpType.MAX on complex tensors",
           lambda: dist.all_reduce(ndgrad.ones(2, dtype=D.complex64), op=RedOp.MAX), "complex max")
    raises(RuntimeError, "Cannot use ReduceOp.BAND with non-integral dtype",
           lambda: dist.all_reduce(ndgrad.ones(2), op=RedOp.BAND), "band float")
    raises(RuntimeError, "result type Float can't be cast to the desired output type Long",
           lambda: dist.all_reduce(ndgrad.ones(2, dtype=D.int64), op=RedOp.AVG), "avg long")
    raises(TypeError, "Expected parameter `tensor` of type torch.Tensor", lambda: dist.all_reduce([1.0]), "list")


def check_movement(rank, n):
    """broadcast, reduce, all_gather(_into_tensor), gather, scatter, reduce_scatter(_tensor), all_to_all."""
    last = n - 1
    for dt in dtypes():
        vals = [np_of(value(r, (2, 3), dt)) for r in range(n)]
        like = np_of(value(0, (2, 3), dt)).dtype
        # broadcast (sync, async, non-contiguous receiver)
        t = value(rank, (2, 3), dt)
        dist.broadcast(t, src=last)
        eq(np_of(t), vals[last], f"broadcast {dt}")
        base = value(rank, (3, 2), dt)
        dist.broadcast(base.t(), src=last, async_op=True).wait()
        eq(np_of(base), np_of(value(last, (3, 2), dt)), f"broadcast non-contiguous {dt}")
        # reduce to rank 0: the others keep their input
        t = value(rank, (2, 3), dt)
        dist.reduce(t, dst=0, op=RedOp.MAX if dt.category < 3 else RedOp.SUM)
        want = np_reduce(vals, RedOp.MAX if dt.category < 3 else RedOp.SUM, dt).astype(like) if rank == 0 \
            else vals[rank]
        eq(np_of(t), want, f"reduce {dt}", 1e-2 if dt.itemsize == 2 else 0)
        # all_gather into a list and into one tensor (both shapes)
        outs = [ndgrad.zeros(2, 3, dtype=dt) for _ in range(n)]
        dist.all_gather(outs, value(rank, (2, 3), dt))
        for r in range(n):
            eq(np_of(outs[r]), vals[r], f"all_gather {dt} [{r}]")
        big = ndgrad.zeros(2 * n, 3, dtype=dt)
        dist.all_gather_into_tensor(big, value(rank, (2, 3), dt), async_op=True).wait()
        eq(np_of(big), np.concatenate(vals), f"all_gather_into_tensor {dt}")
        stacked = ndgrad.zeros(n, 2, 3, dtype=dt)
        dist.all_gather_into_tensor(stacked, value(rank, (2, 3), dt))
        eq(np_of(stacked), np.stack(vals), f"all_gather_into_tensor stacked {dt}")
        # gather to the last rank, scatter from it
        gl = [ndgrad.zeros(2, 3, dtype=dt) for _ in range(n)] if rank == last else None
        dist.gather(value(rank, (2, 3), dt), gl, dst=last)
        if rank == last:
            for r in range(n):
                eq(np_of(gl[r]), vals[r], f"gather {dt} [{r}]")
        out = ndgrad.zeros(2, 3, dtype=dt)
        sl = [value(r, (2, 3), dt, salt=1) for r in range(n)] if rank == last else None
        dist.scatter(out, sl, src=last)
        eq(np_of(out), np_of(value(rank, (2, 3), dt, salt=1)), f"scatter {dt}")
    for dt in (D.int32, D.float32, D.float64, D.float16):
        tol = 1e-2 if dt is D.float16 else 0
        ins = [[np_of(value(r, (2,), dt, salt=s)) for s in range(n)] for r in range(n)]  # ins[sender][chunk]
        out = ndgrad.zeros(2, dtype=dt)
        dist.reduce_scatter(out, [value(rank, (2,), dt, salt=s) for s in range(n)])
        eq(np_of(out), np_reduce([ins[r][rank] for r in range(n)], RedOp.SUM, dt).astype(np_of(out).dtype),
           f"reduce_scatter {dt}", tol)
        inp = ndgrad.cat([value(rank, (2,), dt, salt=s) for s in range(n)])
        out = ndgrad.zeros(2, dtype=dt)
        op = RedOp.AVG if dt.category == 2 else RedOp.MIN
        dist.reduce_scatter_tensor(out, inp, op=op, async_op=True).wait()
        eq(np_of(out), np_reduce([ins[r][rank] for r in range(n)], op, dt).astype(np_of(out).dtype),
           f"reduce_scatter_tensor {dt}", tol)
    # all_to_all_single: even split, then uneven splits (rank r sends r + 1 rows to everyone)
    x = ndgrad.arange(2 * n * 3, dtype=ndgrad.float64).reshape(2 * n, 3) + 100 * rank
    out = ndgrad.zeros(2 * n, 3, dtype=ndgrad.float64)
    dist.all_to_all_single(out, x)
    want = np.concatenate([(np.arange(2 * n * 3).reshape(2 * n, 3) + 100 * r)[2 * rank:2 * rank + 2] for r in range(n)])
    eq(out, want, "all_to_all_single even")
    x = ndgrad.full((n * (rank + 1),), float(rank))
    out = ndgrad.zeros(sum(r + 1 for r in range(n)))
    dist.all_to_all_single(out, x, [r + 1 for r in range(n)], [rank + 1] * n, async_op=True).wait()
    eq(out, np.concatenate([np.full(r + 1, float(r)) for r in range(n)]), "all_to_all_single uneven")
    outs = [ndgrad.zeros(r + 1, dtype=ndgrad.int64) for r in range(n)]
    dist.all_to_all(outs, [ndgrad.full((rank + 1,), 10 * rank + d, dtype=ndgrad.int64) for d in range(n)])
    for r in range(n):
        eq(outs[r], np.full(r + 1, 10 * r + rank), f"all_to_all [{r}]")


def check_p2p_objects_groups(rank, n):
    if n > 1:
        check_p2p(rank, n)
    check_objects_groups(rank, n)


def check_p2p(rank, n):
    nxt, prv = (rank + 1) % n, (rank - 1) % n
    # a ring: isend to the next rank, recv from the previous one (and from anyone)
    w = dist.isend(ndgrad.full((3,), float(rank)), nxt)
    got = ndgrad.zeros(3)
    assert dist.recv(got, src=prv) == prv
    w.wait()
    eq(got, np.full(3, float(prv)), "ring recv")
    w = dist.isend(ndgrad.full((2, 2), rank, dtype=D.int16), nxt, tag=7)
    r = dist.irecv(ndgrad.zeros(2, 2, dtype=D.int16).t(), tag=7)  # any source, non-contiguous receiver
    r.wait()
    w.wait()
    eq(r.result()[0], np.full((2, 2), prv), "irecv any source")
    assert r.source_rank() == prv
    if rank == 0:
        dist.send(ndgrad.ones(5), 1, tag=3)
    elif rank == 1:
        raises(RuntimeError, "recv: rank 0 sent 20 bytes, but the receiving tensor (float32 [4]) on rank 1 "
               "holds 16 bytes", lambda: dist.recv(ndgrad.zeros(4), src=0, tag=3), "recv size")
    raises(ValueError, "Invalid destination rank: destination rank should not be the same as the rank of the current "
           "process.", lambda: dist.send(ndgrad.ones(1), rank), "send to self")


def check_objects_groups(rank, n):
    # Python objects
    objs = [{"rank": rank}, "x" * rank, None]
    dist.broadcast_object_list(objs, src=n - 1)
    assert objs == [{"rank": n - 1}, "x" * (n - 1), None]
    everyone = [None] * n
    dist.all_gather_object(everyone, (rank, ndgrad.tensor([rank])))
    assert [e[0] for e in everyone] == list(range(n)) and [e[1].item() for e in everyone] == list(range(n))
    gl = [None] * n if rank == 0 else None
    dist.gather_object(rank * 10, gl, dst=0)
    assert rank != 0 or gl == [10 * r for r in range(n)]
    out = [None]
    dist.scatter_object_list(out, [f"to {r}" for r in range(n)] if rank == 0 else None, src=0)
    assert out == [f"to {rank}"]
    checks[0] += 4
    # a group of the even ranks; the odd ranks are not members
    evens = dist.new_group(list(range(0, n, 2)))
    t = ndgrad.tensor([float(rank)])
    if rank % 2 == 0:
        assert dist.get_rank(evens) == rank // 2 and dist.get_world_size(evens) == (n + 1) // 2
        dist.all_reduce(t, group=evens)
        eq(t, [float(sum(range(0, n, 2)))], "all_reduce in a group")
        dist.broadcast(t, src=0, group=evens)  # src is a global rank
    else:
        assert dist.get_rank(evens) == -1 and dist.get_world_size(evens) == -1
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert dist.all_reduce(t, group=evens) is None
        assert "does not belong to the given group" in str(caught[0].message)
        eq(t, [float(rank)], "non-member keeps its tensor")
    assert dist.get_process_group_ranks(evens) == list(range(0, n, 2))
    dist.destroy_process_group(evens)
    dist.barrier()
    dist.barrier(async_op=True).wait()


def check_mismatches(rank, n):
    """Arguments that differ across ranks raise a RuntimeError on every rank, naming each rank's."""
    if n == 1:
        return
    msg = raises(RuntimeError, "the ranks passed tensors of different shapes or dtypes",
                 lambda: dist.all_reduce(ndgrad.ones(3 + rank)), "shape mismatch")
    assert "rank 0: float32 [3]" in msg and "rank 1: float32 [4]" in msg, msg
    msg = raises(RuntimeError, "the ranks passed different arguments",
                 lambda: dist.all_reduce(ndgrad.ones(2), op=RedOp.MAX if rank else RedOp.SUM), "op mismatch")
    assert "rank 0: op=SUM" in msg and "rank 1: op=MAX" in msg, msg
    raises(RuntimeError, "the ranks called different collectives at the same point",
           lambda: dist.broadcast(ndgrad.ones(2), 0) if rank == 0 else dist.all_reduce(ndgrad.ones(2)), "kinds")
    raises(RuntimeError, "input_split_sizes on the senders must match output_split_sizes here",
           lambda: dist.all_to_all_single(ndgrad.zeros(n + (rank == 1)), ndgrad.zeros(n),
                                          [1] * (n - 1) + [1 + (rank == 1)]), "all_to_all_single splits")
    t = ndgrad.ones(2)
    dist.all_reduce(t)  # the group still works after the errors
    eq(t, [float(n)] * 2, "all_reduce after mismatches")


def run(rank, n):
    check_all_reduce(rank, n)
    check_movement(rank, n)
    check_p2p_objects_groups(rank, n)
    check_mismatches(rank, n)
    return checks[0]
