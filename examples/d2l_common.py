"""What d2l's own `d2l` package gives its programs, shared by the examples here: data
loading, an Accumulator, accuracy, the chapter-3 training loop, and `under(path, lib)`,
which re-runs a program with `torch` bound to another torch-like library (ndgrad or PyTorch)
so the same source can be compared under both.
"""
from __future__ import annotations

import importlib
import types
from typing import Any

import numpy as np

import ndgrad as torch
from ndgrad.utils import data

_LIB = globals().get("_LIB")  # set when bind(lib) re-runs this file under another library
if _LIB is not None:
    torch, data = _LIB, importlib.import_module(_LIB.__name__ + ".utils.data")

_BOUND: dict = {}


def under(path: str, lib: Any) -> Any:
    """The program at `path` as a fresh module run under `lib` (its classes then subclass lib.nn.Module)."""
    module = types.ModuleType(f"{path}[{lib.__name__}]")
    module.__dict__.update(__file__=path, _LIB=lib)
    with open(path) as f:
        exec(compile(f.read(), path, "exec"), module.__dict__)
    return module


def bind(lib: Any) -> Any:
    """This module's helpers with `torch` bound to `lib` (cached per library)."""
    if lib.__name__ not in _BOUND:
        _BOUND[lib.__name__] = under(__file__, lib)
    return _BOUND[lib.__name__]


def load_digits_arrays(seed: int = 0, synthetic: bool = False) -> tuple:
    """(train_X, train_y, test_X, test_y) as NumPy arrays, images (N, 1, 8, 8) float32 in [0, 1]."""
    if not synthetic:
        try:
            from ndgrad.datasets import Digits
            train, test = Digits(train=True, seed=seed), Digits(train=False, seed=seed)
            return (train.data.numpy()[:, None], train.targets.numpy(),
                    test.data.numpy()[:, None], test.targets.numpy())
        except ImportError:  # scikit-learn is optional
            pass
    rng = np.random.default_rng(seed)
    centers = rng.uniform(0, 1, (10, 1, 8, 8))
    y = rng.integers(0, 10, 1500)
    X = np.clip(centers[y] + rng.normal(0, 0.35, (1500, 1, 8, 8)), 0, 1).astype(np.float32)
    return X[:1200], y[:1200], X[1200:], y[1200:]


class SeededOrder:
    """A sampler: a fresh NumPy permutation each epoch, the same under every library."""

    def __init__(self, n: int, seed: int = 0) -> None:
        self.n, self.rng = n, np.random.default_rng(seed)

    def __iter__(self):
        return iter(self.rng.permutation(self.n).tolist())

    def __len__(self) -> int:
        return self.n


def load_data(batch_size: int, arrays: tuple, seeded_order: bool = False, seed: int = 0) -> tuple:
    train = data.TensorDataset(torch.tensor(arrays[0]), torch.tensor(arrays[1]))
    test = data.TensorDataset(torch.tensor(arrays[2]), torch.tensor(arrays[3]))
    if seeded_order:
        train_iter = data.DataLoader(train, batch_size, sampler=SeededOrder(len(train), seed))
    else:
        train_iter = data.DataLoader(train, batch_size, shuffle=True)
    return train_iter, data.DataLoader(test, batch_size, shuffle=False)


class Accumulator:
    """For accumulating sums over `n` variables."""

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args: Any) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def accuracy(y_hat: Any, y: Any) -> float:
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net: Any, data_iter: Any) -> float:
    if isinstance(net, torch.nn.Module):
        net.eval()
    metric = Accumulator(2)
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_ch3(net: Any, train_iter: Any, test_iter: Any, loss: Any, num_epochs: int, updater: Any,
              name: str, verbose: bool, penalty: Any = None) -> dict:
    steps, epochs = [], []
    for epoch in range(num_epochs):
        if isinstance(net, torch.nn.Module):
            net.train()
        metric = Accumulator(3)
        for X, y in train_iter:
            y_hat = net(X)
            lo = loss(y_hat, y)
            if penalty is not None:
                lo = lo + penalty()
            updater.zero_grad()
            lo.mean().backward()
            updater.step()
            steps.append(lo.mean().item())
            metric.add(float(lo.mean()) * y.numel(), accuracy(y_hat, y), y.numel())
        test_acc = evaluate_accuracy(net, test_iter)
        epochs.append((metric[0] / metric[2], metric[1] / metric[2], test_acc))
        if verbose:
            print(f'{name} epoch {epoch + 1}: loss {epochs[-1][0]:.4f}, train acc {epochs[-1][1]:.3f}, '
                  f'test acc {test_acc:.3f}')
    return {"steps": steps, "epochs": epochs}


def state(net: Any) -> dict:
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
