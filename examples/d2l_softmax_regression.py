"""d2l chapter 4: softmax regression, from scratch and concisely, with `import ndgrad as torch`.

    python examples/d2l_softmax_regression.py             # runs under ndgrad
    python examples/d2l_softmax_regression.py --lib torch # the same program under PyTorch

The images are scikit-learn's 8x8 digits (ndgrad.datasets.Digits) when scikit-learn is
installed, else ten Gaussian blobs drawn with NumPy; no download either way.
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any


import ndgrad as torch
from ndgrad import nn
from ndgrad.utils import data

_LIB = globals().get("_LIB")  # set when `under(lib)` re-runs this file under another library
if _LIB is not None:
    torch, nn, data = _LIB, _LIB.nn, importlib.import_module(_LIB.__name__ + ".utils.data")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import d2l_common  # noqa: E402  (d2l's helper package, beside this file)
from d2l_common import load_digits_arrays  # noqa: E402
_d2l = d2l_common.bind(torch)
load_data = _d2l.load_data


def under(lib: Any) -> Any:
    """This program re-run with `torch` bound to `lib`."""
    return d2l_common.under(__file__, lib)


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
