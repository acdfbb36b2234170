"""d2l chapter 4: softmax regression, from scratch and concisely, with `import ndgrad as torch`.

    python examples/d2l_softmax_regression.py             # runs under ndgrad
    python examples/d2l_softmax_regression.py --lib torch # the same program under PyTorch

The images are scikit-learn's 8x8 digits (ndgrad.datasets.Digits) when scikit-learn is
installed, else ten Gaussian blobs drawn with NumPy; no download either way.
"""
from __future__ import annotations

import importlib
import sys
import types
from typing import Any

import numpy as np

import ndgrad as torch
from ndgrad import nn
from ndgrad.utils import data

_LIB = globals().get("_LIB")  # set when `under(lib)` re-runs this file under another library
if _LIB is not None:
    torch, nn, data = _LIB, _LIB.nn, importlib.import_module(_LIB.__name__ + ".utils.data")


def under(lib: Any) -> Any:
    """This program as a fresh module run under `lib` (its classes then subclass lib.nn.Module)."""
    module = types.ModuleType(f"{__name__}[{lib.__name__}]")
    module.__dict__.update(__file__=__file__, _LIB=lib)
    with open(__file__) as f:
        exec(compile(f.read(), __file__, "exec"), module.__dict__)
    return module


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

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def softmax(X: Any) -> Any:
    X_exp = torch.exp(X)
    partition = X_exp.sum(1, keepdim=True)
    return X_exp / partition  # the broadcasting mechanism is applied here


def cross_entropy(y_hat: Any, y: Any) -> Any:
    return - torch.log(y_hat[range(len(y_hat)), y])


def accuracy(y_hat: Any, y: Any) -> float:
    """Compute the number of correct predictions."""
    if len(y_hat.shape) > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(axis=1)
    cmp = y_hat.type(y.dtype) == y
    return float(cmp.type(y.dtype).sum())


def evaluate_accuracy(net: Any, data_iter: Any) -> float:
    """Compute the accuracy for a model on a dataset."""
    if isinstance(net, torch.nn.Module):
        net.eval()  # set the model to evaluation mode
    metric = Accumulator(2)  # no. of correct predictions, no. of predictions
    with torch.no_grad():
        for X, y in data_iter:
            metric.add(accuracy(net(X), y), y.numel())
    return metric[0] / metric[1]


def train_epoch_ch3(net: Any, train_iter: Any, loss: Any, updater: Any, steps: list) -> tuple:
    """Train a model within one epoch; per-step mean losses are appended to `steps`."""
    if isinstance(net, torch.nn.Module):
        net.train()
    metric = Accumulator(3)  # sum of training loss, sum of training accuracy, no. of examples
    for X, y in train_iter:
        y_hat = net(X)
        lo = loss(y_hat, y)
        if isinstance(updater, torch.optim.Optimizer):
            updater.zero_grad()
            lo.mean().backward()
            updater.step()
        else:
            lo.sum().backward()
            updater(X.shape[0])
        steps.append(lo.mean().item())
        metric.add(float(lo.sum()), accuracy(y_hat, y), y.numel())
    return metric[0] / metric[2], metric[1] / metric[2]


def train_ch3(net: Any, train_iter: Any, test_iter: Any, loss: Any, num_epochs: int, updater: Any,
              name: str, verbose: bool) -> dict:
    steps: list = []
    epochs = []
    for epoch in range(num_epochs):
        train_loss, train_acc = train_epoch_ch3(net, train_iter, loss, updater, steps)
        test_acc = evaluate_accuracy(net, test_iter)
        epochs.append((train_loss, train_acc, test_acc))
        if verbose:
            print(f'{name} epoch {epoch + 1}: loss {train_loss:.4f}, train acc {train_acc:.3f}, '
                  f'test acc {test_acc:.3f}')
    return {"steps": steps, "epochs": epochs}


def sgd(params: list, lr: float, batch_size: int) -> None:
    """Minibatch stochastic gradient descent."""
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def main(lib: Any = None, *, init: dict | None = None, seed: int = 0, seeded_order: bool = False,
         num_epochs: int = 3, synthetic: bool = False, verbose: bool = True) -> dict:
    """Train both versions; `init` = the "init" entry of a previous run's result to start from."""
    if lib is not None and lib is not torch:
        return under(lib).main(init=init, seed=seed, seeded_order=seeded_order, num_epochs=num_epochs,
                               synthetic=synthetic, verbose=verbose)
    init = init or {}
    arrays = load_digits_arrays(seed, synthetic)
    batch_size = 64
    num_inputs, num_outputs = 64, 10

    # from scratch
    train_iter, test_iter = load_data(batch_size, arrays, seeded_order, seed)
    W = torch.normal(0, 0.01, size=(num_inputs, num_outputs), requires_grad=True)
    b = torch.zeros(num_outputs, requires_grad=True)
    if "scratch" in init:
        with torch.no_grad():
            W[:] = torch.tensor(init["scratch"][0])
            b[:] = torch.tensor(init["scratch"][1])
    start = [W.detach().numpy().copy(), b.detach().numpy().copy()]

    def net(X: Any) -> Any:
        return softmax(torch.matmul(X.reshape((-1, W.shape[0])), W) + b)

    lr = 0.1

    def updater(batch_size: int) -> None:
        return sgd([W, b], lr, batch_size)

    scratch = train_ch3(net, train_iter, test_iter, cross_entropy, num_epochs, updater, "scratch", verbose)
    scratch["init"] = start

    # concise
    train_iter, test_iter = load_data(batch_size, arrays, seeded_order, seed + 1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))

    def init_weights(m: Any) -> None:
        if type(m) == nn.Linear:  # noqa: E721 (d2l's test)
            nn.init.normal_(m.weight, std=0.01)

    net.apply(init_weights)
    if "concise" in init:
        net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in init["concise"].items()})
    start = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    loss = nn.CrossEntropyLoss(reduction='none')
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    concise = train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer, "concise", verbose)
    concise["init"] = start
    return {"scratch": scratch, "concise": concise,
            "init": {"scratch": scratch["init"], "concise": concise["init"]}}


if __name__ == '__main__':
    main(importlib.import_module(sys.argv[sys.argv.index("--lib") + 1]) if "--lib" in sys.argv else torch)
