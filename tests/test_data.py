"""ndgrad.utils.data: datasets, samplers, default_collate and the DataLoader."""
import collections
import warnings

import numpy as np
import pytest

import ndgrad
from ndgrad.utils.data import (BatchSampler, ChainDataset, ConcatDataset, DataLoader, Dataset, IterableDataset,
                               RandomSampler, SequentialSampler, StackDataset, Subset, SubsetRandomSampler,
                               TensorDataset, WeightedRandomSampler, default_collate, default_convert,
                               get_worker_info, random_split)


def _np(t):
    return t.detach().numpy() if isinstance(t, ndgrad.Tensor) else np.asarray(t)


class Squares(Dataset):
    def __init__(self, n):
        self.n = n

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"x": np.array([i, i * i], dtype=np.float32), "y": i, "name": f"s{i}"}


class Stream(IterableDataset):
    def __init__(self, n):
        self.n = n

    def __iter__(self):
        return iter(range(self.n))

    def __len__(self):
        return self.n


# -- datasets ------------------------------------------------------------------------------------
def test_tensor_dataset():
    x, y = ndgrad.arange(12.).reshape(6, 2), ndgrad.arange(6)
    ds = TensorDataset(x, y)
    assert len(ds) == 6
    a, b = ds[2]
    assert _np(a).tolist() == [4.0, 5.0] and b.item() == 2
    with pytest.raises(AssertionError, match="Size mismatch between tensors"):
        TensorDataset(ndgrad.zeros(3), ndgrad.zeros(4))


def test_subset_concat_stack_chain():
    ds = Squares(5)
    sub = Subset(ds, [4, 0, 2])
    assert len(sub) == 3 and sub[0]["y"] == 4 and sub[-1]["y"] == 2
    cat = ConcatDataset([Squares(2), Squares(3)])
    assert len(cat) == 5 and [cat[i]["y"] for i in range(5)] == [0, 1, 0, 1, 2]
    assert cat[-1]["y"] == 2 and cat.cumulative_sizes == [2, 5]
    with pytest.raises(ValueError, match="absolute value of index should not exceed dataset length"):
        cat[-6]
    with pytest.raises(AssertionError, match="datasets should not be an empty iterable"):
        ConcatDataset([])
    with pytest.raises(AssertionError, match="does not support IterableDataset"):
        ConcatDataset([Stream(2)])
    assert len(Squares(2) + Squares(4)) == 6
    st = StackDataset(Squares(3), Squares(3))
    assert st[1][0]["y"] == 1 and len(st) == 3
    assert StackDataset(a=Squares(2), b=Squares(2))[1]["b"]["y"] == 1
    with pytest.raises(ValueError, match="Size mismatch between datasets"):
        StackDataset(Squares(2), Squares(3))
    assert list(Stream(2) + Stream(3)) == [0, 1, 0, 1, 2]
    assert isinstance(Stream(2) + Stream(3), ChainDataset)


def test_random_split_sizes_disjoint_reproducible():
    ds = Squares(10)
    parts = random_split(ds, [3, 7], generator=ndgrad.Generator().manual_seed(42))
    assert [len(p) for p in parts] == [3, 7]
    idx = [i for p in parts for i in p.indices]
    assert sorted(idx) == list(range(10))
    again = random_split(ds, [3, 7], generator=ndgrad.Generator().manual_seed(42))
    assert [p.indices for p in again] == [p.indices for p in parts]
    other = random_split(ds, [3, 7], generator=ndgrad.Generator().manual_seed(7))
    assert [p.indices for p in other] != [p.indices for p in parts]
    # fractions: floors, then the remainder is handed out round-robin from the first split (as PyTorch)
    fr = random_split(range(10), [0.33, 0.33, 0.34], generator=ndgrad.Generator().manual_seed(0))
    assert [len(p) for p in fr] == [4, 3, 3]
    assert sorted(i for p in fr for i in p.indices) == list(range(10))
    assert [len(p) for p in random_split(range(11), [0.5, 0.5])] == [6, 5]
    with pytest.raises(ValueError, match="Sum of input lengths does not equal the length of the input dataset!"):
        random_split(ds, [3, 3])
    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        assert [len(p) for p in random_split(range(2), [0.1, 0.9])] == [1, 1]
        assert [len(p) for p in random_split(range(1), [0.5, 0.5])] == [1, 0]
    assert any("Length of split at index 1 is 0" in str(x.message) for x in w)


def test_random_split_sizes_match_torch(torch_ref):
    cases = [(10, [0.33, 0.33, 0.34]), (17, [0.1, 0.2, 0.3, 0.4]), (7, [0.5, 0.5]), (100, [0.8, 0.2])]
    theirs = torch_ref("sizes", lambda torch: [[len(p) for p in torch.utils.data.random_split(range(n), lengths)]
                                               for n, lengths in cases])
    assert [[len(p) for p in random_split(range(n), lengths)] for n, lengths in cases] == theirs


# -- samplers --------------------------------------------------------------------------------------
def test_samplers():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    g = ndgrad.Generator().manual_seed(3)
    perm = list(RandomSampler(range(10), generator=g))
    assert sorted(perm) == list(range(10)) and perm != list(range(10))
    assert list(RandomSampler(range(10), generator=ndgrad.Generator().manual_seed(3))) == perm
    long = list(RandomSampler(range(4), num_samples=10, generator=g))
    assert len(long) == 10 and sorted(long[:4]) == [0, 1, 2, 3] and sorted(long[4:8]) == [0, 1, 2, 3]
    rep = list(RandomSampler(range(3), replacement=True, num_samples=50, generator=g))
    assert len(rep) == 50 and set(rep) == {0, 1, 2}
    assert len(RandomSampler(range(3), replacement=True, num_samples=7)) == 7
    with pytest.raises(ValueError, match="num_samples should be a positive integer value, but got num_samples=0"):
        RandomSampler(range(3), num_samples=0)
    with pytest.raises(TypeError, match="replacement should be a boolean value, but got replacement=1"):
        RandomSampler(range(3), replacement=1)
    sub = list(SubsetRandomSampler([10, 20, 30], generator=g))
    assert sorted(sub) == [10, 20, 30]
    w = list(WeightedRandomSampler([0.0, 1.0, 0.0, 3.0], 200, generator=g))
    assert set(w) == {1, 3} and 100 < w.count(3) < 190
    nr = list(WeightedRandomSampler([1.0, 1.0, 1.0], 3, replacement=False, generator=g))
    assert sorted(nr) == [0, 1, 2]
    with pytest.raises(ValueError, match="weights should be a 1d sequence but given weights have shape"):
        WeightedRandomSampler([[1.0, 2.0]], 2)
    with pytest.raises(ValueError, match="num_samples should be a positive integer value"):
        WeightedRandomSampler([1.0], 0)
    assert list(BatchSampler(range(7), 3, False)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert list(BatchSampler(range(7), 3, True)) == [[0, 1, 2], [3, 4, 5]]
    assert len(BatchSampler(range(7), 3, False)) == 3 and len(BatchSampler(range(7), 3, True)) == 2
    with pytest.raises(ValueError, match="batch_size should be a positive integer value, but got batch_size=0"):
        BatchSampler(range(3), 0, False)
    with pytest.raises(ValueError, match="drop_last should be a boolean value, but got drop_last=1"):
        BatchSampler(range(3), 2, 1)


def test_global_seed_makes_sampling_reproducible():
    ndgrad.manual_seed(123)
    a = list(RandomSampler(range(20)))
    ndgrad.manual_seed(123)
    b = list(RandomSampler(range(20)))
    assert a == b and sorted(a) == list(range(20))


# -- collation -----------------------------------------------------------------------------------------
Point = collections.namedtuple("Point", ["x", "y"])


def test_default_collate():
    out = default_collate([(1, 2.0, "a", np.float32(3), True), (3, 4.0, "b", np.float32(1), False)])
    assert isinstance(out, list) and len(out) == 5
    assert out[0].dtype == ndgrad.int64 and _np(out[0]).tolist() == [1, 3]
    assert out[1].dtype == ndgrad.float64 and _np(out[1]).tolist() == [2.0, 4.0]
    assert out[2] == ("a", "b")
    assert out[3].dtype == ndgrad.float32 and _np(out[3]).tolist() == [3.0, 1.0]
    assert out[4].dtype == ndgrad.bool and _np(out[4]).tolist() == [True, False]
    t = default_collate([ndgrad.ones(2, 3), ndgrad.zeros(2, 3)])
    assert t.shape == (2, 2, 3) and _np(t)[0].sum() == 6
    d = default_collate([{"a": np.zeros(2), "b": [1, 2]}, {"a": np.ones(2), "b": [3, 4]}])
    assert d["a"].dtype == ndgrad.float64 and d["a"].shape == (2, 2)
    assert isinstance(d["b"], list) and [_np(v).tolist() for v in d["b"]] == [[1, 3], [2, 4]]
    p = default_collate([Point(1, 2.5), Point(3, 4.5)])
    assert isinstance(p, Point) and _np(p.x).tolist() == [1, 3] and _np(p.y).tolist() == [2.5, 4.5]
    assert default_collate(["x", "y"]) == ["x", "y"]
    assert _np(default_collate([np.array(1.5), np.array(2.5)])).tolist() == [1.5, 2.5]
    with pytest.raises(TypeError, match="default_collate: batch must contain tensors, numpy arrays, numbers, dicts "
                                        "or lists; found <class 'object'>"):
        default_collate([object()])
    with pytest.raises(TypeError, match="found <U1"):
        default_collate([np.array(["a"]), np.array(["b"])])
    with pytest.raises(RuntimeError, match="each element in list of batch should be of equal size"):
        default_collate([[1, 2], [1]])
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        default_collate([ndgrad.zeros(2), ndgrad.zeros(3)])
    conv = default_convert([np.zeros(2), (1, np.ones(1))])
    assert isinstance(conv[0], ndgrad.Tensor) and conv[1][0] == 1 and isinstance(conv[1][1], ndgrad.Tensor)


def test_default_collate_matches_torch(torch_ref):
    batches = [
        [(1, 2.0, np.float32(3), np.int16(2)), (3, 4.0, np.float32(1), np.int16(5))],
        [{"a": np.arange(3, dtype=np.int32), "b": (1.5, 2)}, {"a": np.arange(3, dtype=np.int32) + 1, "b": (2.5, 3)}],
        [[np.ones((2, 2), np.float64), 7], [np.zeros((2, 2), np.float64), 8]],
    ]

    def flat(x):
        if isinstance(x, dict):
            return [(k, flat(v)) for k, v in x.items()]
        if isinstance(x, (list, tuple)):
            return [type(x).__name__] + [flat(v) for v in x]
        return [str(x.dtype).split(".")[-1], list(x.shape), x.numpy().tolist()]

    want = torch_ref("collated", lambda torch: [flat(torch.utils.data.default_collate(b)) for b in batches])
    assert [flat(default_collate(b)) for b in batches] == want


# -- DataLoader ------------------------------------------------------------------------------------------
def test_dataloader_batches_and_len():
    x = ndgrad.arange(20.).reshape(10, 2)
    y = ndgrad.arange(10)
    dl = DataLoader(TensorDataset(x, y), batch_size=4)
    batches = list(dl)
    assert len(dl) == 3 and len(batches) == 3
    assert [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert isinstance(batches[0], list) and batches[0][0].shape == (4, 2) and batches[0][0].dtype == ndgrad.float32
    assert batches[0][1].dtype == ndgrad.int64
    dl = DataLoader(TensorDataset(x, y), batch_size=4, drop_last=True)
    assert len(dl) == 2 and [b[1].tolist() for b in dl] == [[0, 1, 2, 3], [4, 5, 6, 7]]
    # default batch_size=1
    assert [b.tolist() for b in DataLoader([5, 6, 7])] == [[5], [6], [7]]
    # dict samples with strings, through a custom Dataset
    b = next(iter(DataLoader(Squares(5), batch_size=3)))
    assert b["x"].shape == (3, 2) and b["x"].dtype == ndgrad.float32 and b["y"].tolist() == [0, 1, 2]
    assert b["name"] == ["s0", "s1", "s2"]


def test_dataloader_shuffle_reproducible_with_generator():
    ds = TensorDataset(ndgrad.arange(50))

    def epoch(gen):
        return [v for (b,) in DataLoader(ds, batch_size=8, shuffle=True, generator=gen) for v in b.tolist()]
    a = epoch(ndgrad.Generator().manual_seed(5))
    b = epoch(ndgrad.Generator().manual_seed(5))
    c = epoch(ndgrad.Generator().manual_seed(6))
    assert a == b and a != c and sorted(a) == list(range(50))
    g = ndgrad.Generator().manual_seed(5)
    dl = DataLoader(ds, batch_size=8, shuffle=True, generator=g)
    e1 = [v for (b,) in dl for v in b.tolist()]
    e2 = [v for (b,) in dl for v in b.tolist()]
    assert e1 == a and e2 != e1  # each epoch draws a new order from the generator
    ndgrad.manual_seed(0)
    d1 = [b.tolist() for (b,) in DataLoader(ds, batch_size=8, shuffle=True)]
    ndgrad.manual_seed(0)
    d2 = [b.tolist() for (b,) in DataLoader(ds, batch_size=8, shuffle=True)]
    assert d1 == d2


def test_dataloader_sampler_batch_sampler_collate_fn_workers():
    ds = Squares(6)
    dl = DataLoader(ds, batch_size=2, sampler=[5, 4, 3, 2, 1, 0], collate_fn=lambda b: [s["y"] for s in b])
    assert list(dl) == [[5, 4], [3, 2], [1, 0]]
    dl = DataLoader(ds, batch_sampler=[[0, 2], [1, 3, 5]], collate_fn=lambda b: [s["y"] for s in b])
    assert list(dl) == [[0, 2], [1, 3, 5]] and len(dl) == 2
    dl = DataLoader(ds, batch_size=None)
    first = next(iter(dl))
    assert isinstance(first["x"], ndgrad.Tensor) and first["x"].shape == (2,) and first["y"] == 0
    dl = DataLoader(TensorDataset(ndgrad.arange(7)), batch_size=3, num_workers=2)
    assert [b.tolist() for (b,) in dl] == [[0, 1, 2], [3, 4, 5], [6]]
    assert get_worker_info() is None


def test_dataloader_iterable_dataset():
    dl = DataLoader(Stream(7), batch_size=3)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5], [6]] and len(dl) == 3
    dl = DataLoader(Stream(7), batch_size=3, drop_last=True)
    assert [b.tolist() for b in dl] == [[0, 1, 2], [3, 4, 5]] and len(dl) == 2
    assert list(DataLoader(Stream(2), batch_size=None)) == [0, 1]
    with pytest.raises(ValueError, match="expected unspecified shuffle option, but got shuffle=True"):
        DataLoader(Stream(3), shuffle=True)
    with pytest.raises(ValueError, match="expected unspecified sampler option"):
        DataLoader(Stream(3), sampler=[0, 1])


def test_dataloader_errors():
    ds = Squares(4)
    with pytest.raises(ValueError, match="sampler option is mutually exclusive with shuffle"):
        DataLoader(ds, sampler=[0, 1], shuffle=True)
    with pytest.raises(ValueError, match="batch_sampler option is mutually exclusive with batch_size, shuffle, "
                                         "sampler, and drop_last"):
        DataLoader(ds, batch_size=2, batch_sampler=[[0, 1]])
    with pytest.raises(ValueError, match="batch_size=None option disables auto-batching and is mutually exclusive "
                                         "with drop_last"):
        DataLoader(ds, batch_size=None, drop_last=True)
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(ds, num_workers=-1)
    with pytest.raises(ValueError, match="persistent_workers option needs num_workers > 0"):
        DataLoader(ds, persistent_workers=True)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified in multiprocessing"):
        DataLoader(ds, prefetch_factor=2)


def test_dataloader_tensor_fast_path_equals_generic_collate():
    x = ndgrad.randn(9, 3)
    y = ndgrad.arange(9)
    fast = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True,
                           generator=ndgrad.Generator().manual_seed(1)))
    slow = list(DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True,
                           generator=ndgrad.Generator().manual_seed(1), collate_fn=lambda b: default_collate(b)))
    assert len(fast) == len(slow) == 3
    for (a, b), (c, d) in zip(fast, slow):
        assert np.array_equal(_np(a), _np(c)) and np.array_equal(_np(b), _np(d)) and a.dtype == c.dtype
    # through Subsets (random_split of a Subset), too
    train, _ = random_split(Subset(TensorDataset(x, y), [8, 7, 6, 5, 4, 3, 2]), [5, 2],
                            generator=ndgrad.Generator().manual_seed(2))
    fast = [b.tolist() for _, b in DataLoader(train, batch_size=2)]
    assert fast == [[train[i][1].item() for i in range(k, min(k + 2, 5))] for k in range(0, 5, 2)]
    assert sorted(v for b in fast for v in b) == sorted(train[i][1].item() for i in range(5))


@pytest.mark.parametrize("n,replicas,shuffle,drop_last,seed,epoch", [
    (10, 3, False, False, 0, 0), (10, 3, True, False, 0, 0), (10, 3, True, True, 1, 0), (10, 3, True, True, 1, 1),
    (5, 4, True, False, 7, 3), (2, 5, False, False, 0, 0), (103, 4, True, False, 2 ** 33 + 5, 2)])
def test_distributed_sampler_partitions(torch_ref, n, replicas, shuffle, drop_last, seed, epoch):
    from ndgrad.utils.data.distributed import DistributedSampler

    def shards(DS):
        out = []
        for r in range(replicas):
            s = DS(range(n), replicas, r, shuffle=shuffle, seed=seed, drop_last=drop_last)
            s.set_epoch(epoch)
            out.append([len(s), list(s)])
        return out
    want = torch_ref("shards", lambda torch: shards(torch.utils.data.distributed.DistributedSampler))
    assert shards(DistributedSampler) == [list(w) for w in want]  # PyTorch's shuffle, padding and cut


def test_distributed_sampler_errors():
    from ndgrad.utils.data import DistributedSampler
    with pytest.raises(ValueError, match=r"Invalid rank 2, rank should be in the interval \[0, 1\]"):
        DistributedSampler(range(3), 2, 2)
    with pytest.raises(ValueError, match="Default process group has not been initialized"):
        DistributedSampler(range(3))  # no process group to take the rank and world size from
