"""DataLoader with worker processes: the same batches as num_workers=0, PyTorch's seeding and
error reporting, IterableDataset sharding, persistent workers, timeouts and dead workers."""
from __future__ import annotations

import os
import random
import signal
import time
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.utils.data import (DataLoader, Dataset, IterableDataset, TensorDataset,
                               get_worker_info)
from ndgrad.utils.data import _worker


class Squares(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> Any:
        return {"x": ndgrad.tensor([float(i), float(i * i)]), "i": i, "name": f"s{i}"}


class Failing(Dataset):
    def __init__(self, exc: type[Exception], bad: int = 2) -> None:
        self.exc, self.bad = exc, bad

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int) -> int:
        if i == self.bad:
            raise self.exc(f"sample {i} is broken")
        return i


class Sharded(IterableDataset):
    """range(n), each worker taking every num_workers-th item (the documented recipe)."""

    def __init__(self, n: int, shard: bool = True) -> None:
        self.n, self.shard = n, shard

    def __iter__(self) -> Any:
        info = get_worker_info()
        if info is None or not self.shard:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class WhoAmI(Dataset):
    """Reports, per sample, the worker's info and the random state it was seeded with."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> Any:
        info = get_worker_info()
        return {"id": info.id, "n": info.num_workers, "seed": info.seed, "pid": os.getpid(),
                "same_dataset": info.dataset is self, "py": random.random(),
                "np": float(np.random.random()), "nd": float(ndgrad.rand(1).item())}


def as_plain(batches: list[Any]) -> list[Any]:
    out = []
    for b in batches:
        out.append({k: (v.numpy().tolist() if isinstance(v, ndgrad.Tensor) else v)
                    for k, v in b.items()} if isinstance(b, dict) else
                   (b.tolist() if isinstance(b, ndgrad.Tensor) else b))
    return out


@pytest.mark.parametrize("kwargs", [dict(batch_size=3, shuffle=True),
                                    dict(batch_size=4, shuffle=True, drop_last=True),
                                    dict(batch_size=None, shuffle=False)])
def test_same_batches_as_without_workers(kwargs: dict[str, Any]) -> None:
    runs = []
    for workers in (0, 2, 3):
        ndgrad.manual_seed(123)
        extra = {"prefetch_factor": 1} if workers == 3 else {}
        runs.append(as_plain(list(DataLoader(Squares(11), num_workers=workers, **kwargs,
                                             **extra))))
    assert runs[0] == runs[1] == runs[2]
    ndgrad.manual_seed(123)
    tensors = TensorDataset(ndgrad.arange(10), ndgrad.arange(10) * 2)
    fast = [(a.tolist(), b.tolist()) for a, b in DataLoader(tensors, batch_size=4, shuffle=True,
                                                             num_workers=2)]
    ndgrad.manual_seed(123)
    assert fast == [(a.tolist(), b.tolist()) for a, b in DataLoader(tensors, batch_size=4,
                                                                     shuffle=True)]


def test_worker_exception_carries_the_worker_traceback() -> None:
    loader = DataLoader(Failing(ValueError), batch_size=1, num_workers=2)
    with pytest.raises(ValueError) as info:
        list(loader)
    text = str(info.value)
    assert text.startswith("Caught ValueError in DataLoader worker process 0.\n"
                           "Original Traceback (most recent call last):")
    assert "in __getitem__" in text and "ValueError: sample 2 is broken" in text
    with pytest.raises(KeyError) as info:  # KeyError's message prints as text, not a repr
        list(DataLoader(Failing(KeyError, bad=3), batch_size=2, num_workers=2))
    assert str(info.value).startswith("Caught KeyError in DataLoader worker process 1.\n")

    class NeedsTwoArgs(Exception):
        def __init__(self, a: str, b: str) -> None:
            super().__init__(a + b)
    with pytest.raises(RuntimeError, match="Caught NeedsTwoArgs in DataLoader worker"):
        list(DataLoader(Failing(lambda m: NeedsTwoArgs(m, "!")), num_workers=1))  # type: ignore


class Killer(Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int) -> int:
        if i == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return i


def test_killed_worker_is_an_error_not_a_hang() -> None:
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"DataLoader worker \(pid \d+\) is killed by signal: "
                                           r"Killed"):
        list(DataLoader(Killer(), batch_size=1, num_workers=2))
    assert time.monotonic() - start < 30


def test_iterable_dataset_split_over_two_workers() -> None:
    got = [b.tolist() for b in DataLoader(Sharded(9), batch_size=2, num_workers=2)]
    # batches alternate between the workers, as in PyTorch; each ends with its short batch
    assert got == [[0, 2], [1, 3], [4, 6], [5, 7], [8]]
    assert sorted(v for b in got for v in b) == list(range(9))
    whole = [b.tolist() for b in DataLoader(Sharded(4, shard=False), batch_size=2, num_workers=2)]
    assert whole == [[0, 1], [0, 1], [2, 3], [2, 3]]  # unsharded: every worker yields it all
    single = list(DataLoader(Sharded(5), batch_size=None, num_workers=2))
    assert single == [0, 1, 2, 3, 4]
    assert [b.tolist() for b in DataLoader(Sharded(5), batch_size=2, num_workers=2,
                                           drop_last=True)] == [[0, 2], [1, 3]]


def test_worker_info_seeds_and_init_fn(torch_ref: Any) -> None:
    calls: list[int] = []

    def init(worker_id: int) -> None:
        info = get_worker_info()
        assert info is not None and info.id == worker_id
        calls.append(worker_id)  # runs in the worker: the parent's list stays empty
    ndgrad.manual_seed(5)
    rows = list(DataLoader(WhoAmI(), batch_size=None, num_workers=2, worker_init_fn=init))
    assert calls == [] and get_worker_info() is None
    assert [r["id"] for r in rows] == [0, 1, 0, 1] and all(r["n"] == 2 for r in rows)
    assert all(r["same_dataset"] for r in rows)  # the worker's own copy of the dataset
    assert rows[0]["pid"] != rows[1]["pid"] != os.getpid()
    base = rows[0]["seed"]
    assert rows[1]["seed"] == base + 1
    # what each worker drew first from the three generators, as PyTorch seeds them
    for r in rows[:2]:
        seed = base + r["id"]
        assert r["py"] == random.Random(seed).random()
        np_state = np.random.RandomState(_worker.numpy_seed(base, r["id"]))
        assert r["np"] == np_state.random_sample()
        assert r["nd"] == float(ndgrad.rand(1, generator=ndgrad.Generator().manual_seed(seed))
                                .item())
    assert rows[0]["np"] != rows[1]["np"] and rows[0]["nd"] != rows[1]["nd"]
    ndgrad.manual_seed(5)
    again = list(DataLoader(WhoAmI(), batch_size=None, num_workers=2))
    assert [r["nd"] for r in again] == [r["nd"] for r in rows]  # the seed makes runs repeat
    for base_seed, wid in [(base, 0), (2 ** 63 - 5, 3), (12345, 1)]:
        want = torch_ref(f"state{wid}", lambda torch, b=base_seed, w=wid:
                         torch.utils.data._utils.worker._generate_state(b, w))
        assert _worker.numpy_seed(base_seed, wid) == want


def test_init_fn_failure_reaches_the_first_batch() -> None:
    def init(worker_id: int) -> None:
        raise RuntimeError(f"cannot start worker {worker_id}")
    with pytest.raises(RuntimeError, match="Caught RuntimeError in DataLoader worker process 0"):
        next(iter(DataLoader(Squares(4), num_workers=1, worker_init_fn=init)))


def test_persistent_workers_live_across_epochs() -> None:
    loader = DataLoader(WhoAmI(), batch_size=2, num_workers=2, persistent_workers=True)
    first = list(loader)
    it = iter(loader)
    next(it)  # leave an epoch unfinished: its pending batches must not leak into the next
    second = list(loader)
    assert [b["id"].tolist() for b in second] == [[0, 0], [1, 1]]
    assert [b["pid"].tolist() for b in first] == [b["pid"].tolist() for b in second]
    plain = DataLoader(Squares(6), batch_size=2, num_workers=2, persistent_workers=True)
    assert as_plain(list(plain)) == as_plain(list(plain)) == as_plain(
        list(DataLoader(Squares(6), batch_size=2)))
    again = DataLoader(Sharded(5), batch_size=2, num_workers=2, persistent_workers=True)
    assert [b.tolist() for b in again] == [b.tolist() for b in again] == [[0, 2], [1, 3], [4]]


class Slow(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int) -> int:
        time.sleep(1.0)
        return i


def test_timeout_options_and_order() -> None:
    with pytest.raises(RuntimeError, match=r"DataLoader timed out after 0.2 seconds"):
        list(DataLoader(Slow(), num_workers=1, timeout=0.2))
    with pytest.warns(UserWarning, match="'pin_memory' argument is set as true"):
        pinned = DataLoader(Squares(4), batch_size=2, num_workers=2, pin_memory=True)
    assert as_plain(list(pinned)) == as_plain(list(DataLoader(Squares(4), batch_size=2)))
    unordered = [b.tolist() for b in DataLoader(ndgrad.arange(8), batch_size=2, num_workers=2,
                                                in_order=False)]
    assert sorted(v for b in unordered for v in b) == list(range(8))
    with pytest.raises(ValueError, match="multiprocessing_context option should specify a valid"):
        DataLoader(Squares(4), num_workers=1, multiprocessing_context="threads")
    with pytest.raises(ValueError, match="multiprocessing_context can only be used with"):
        DataLoader(Squares(4), multiprocessing_context="spawn")
    assert len(DataLoader(Squares(5), batch_size=2, num_workers=2)) == 3


def test_spawn_context() -> None:
    data = TensorDataset(ndgrad.arange(6.0), ndgrad.arange(6))
    loader = DataLoader(data, batch_size=4, num_workers=1, multiprocessing_context="spawn")
    assert [x.tolist() for x, _ in loader] == [[0.0, 1.0, 2.0, 3.0], [4.0, 5.0]]
