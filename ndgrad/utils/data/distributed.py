"""DistributedSampler: each process of a data-parallel job reads its own share of a dataset."""
from __future__ import annotations

import math
from typing import Iterator, Sized

import numpy as np

from .sampler import Sampler

__all__ = ["DistributedSampler"]


class DistributedSampler(Sampler[int]):
    """Rank `rank` of `num_replicas` processes gets every num_replicas-th index of one shared
    order (shuffled by `seed + epoch`, identical on every rank), padded by repeating indices so
    every rank gets the same count, or cut short with `drop_last`. Call `set_epoch(e)` before
    each epoch to reshuffle. The shuffled order is PyTorch's own (see `torch_randperm`), so a
    job's ranks see exactly the samples they would see under PyTorch."""

    def __init__(self, dataset: Sized, num_replicas: int | None = None, rank: int | None = None,
                 shuffle: bool = True, seed: int = 0, drop_last: bool = False) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_available():
                raise RuntimeError("Requires distributed package to be available")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]")
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if drop_last and n % num_replicas != 0:
            self.num_samples = math.ceil((n - num_replicas) / num_replicas)
        else:
            self.num_samples = math.ceil(n / num_replicas)
        self.total_size = self.num_samples * num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[int]:
        n = len(self.dataset)
        indices = torch_randperm(n, self.seed + self.epoch) if self.shuffle else list(range(n))
        if not self.drop_last:
            pad = self.total_size - len(indices)
            if pad <= len(indices):
                indices += indices[:pad]
            else:
                indices += (indices * math.ceil(pad / len(indices)))[:pad]
        else:
            indices = indices[:self.total_size]
        return iter(indices[self.rank:self.total_size:self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch


def torch_randperm(n: int, seed: int) -> list:
    """The permutation PyTorch's `randperm(n, generator=Generator().manual_seed(seed))` returns on
    the CPU (for n < 2**32 / 20): a Fisher-Yates shuffle, position i swapped with i + draw % (n - i),
    drawing 32-bit numbers from a Mersenne Twister seeded by the low 32 bits of `seed` (NumPy's
    legacy MT19937 seeding is the same initialisation)."""
    if n <= 1:
        return list(range(n))
    _, key, pos = np.random.RandomState(seed & 0xFFFFFFFF).get_state()[:3]
    mt = np.random.MT19937()
    mt.state = {"bit_generator": "MT19937", "state": {"key": key, "pos": pos}}
    picks = (mt.random_raw(n - 1) % np.arange(n, 1, -1, dtype=np.uint64)).astype(np.int64) + np.arange(n - 1)
    out = list(range(n))
    for i, j in enumerate(picks.tolist()):
        out[i], out[j] = out[j], out[i]
    return out
