"""d2l chapter 3: linear regression, from scratch and concisely, with `import ndgrad as torch`.

    python examples/d2l_linear_regression.py             # runs under ndgrad
    python examples/d2l_linear_regression.py --lib torch # the same program under PyTorch

`main(lib)` runs the program under any torch-like module. The data comes from NumPy and
Python's `random`, and `main` accepts the initial weights, so two libraries can be made to
take exactly the same steps (see tests/test_d2l_programs.py).
"""
from __future__ import annotations

import importlib
import random
import os
import sys
from typing import Any

import numpy as np

import ndgrad as torch
from ndgrad import nn
from ndgrad.utils import data

_LIB = globals().get("_LIB")  # set when `under(lib)` re-runs this file under another library
if _LIB is not None:
    torch, nn, data = _LIB, _LIB.nn, importlib.import_module(_LIB.__name__ + ".utils.data")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import d2l_common  # noqa: E402  (d2l's helper package, beside this file)
from d2l_common import SeededOrder  # noqa: E402


def under(lib: Any) -> Any:
    """This program re-run with `torch` bound to `lib`."""
    return d2l_common.under(__file__, lib)


def synthetic_data(w: np.ndarray, b: float, num_examples: int, seed: int = 0) -> tuple:
    """Generate y = Xw + b + noise (NumPy draws, so every library sees the same data)."""
    rng = np.random.default_rng(seed)
    X = torch.tensor(rng.normal(0, 1, (num_examples, len(w))), dtype=torch.float32)
    y = torch.matmul(X, torch.tensor(w, dtype=torch.float32)) + b
    y += torch.tensor(rng.normal(0, 0.01, tuple(y.shape)), dtype=torch.float32)
    return X, y.reshape((-1, 1))


def data_iter(batch_size: int, features: Any, labels: Any):
    num_examples = len(features)
    indices = list(range(num_examples))
    random.shuffle(indices)  # the examples are read at random, in no particular order
    for i in range(0, num_examples, batch_size):
        batch_indices = torch.tensor(indices[i: min(i + batch_size, num_examples)])
        yield features[batch_indices], labels[batch_indices]


def linreg(X: Any, w: Any, b: Any) -> Any:
    return torch.matmul(X, w) + b


def squared_loss(y_hat: Any, y: Any) -> Any:
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params: list, lr: float, batch_size: int) -> None:
    with torch.no_grad():
        for param in params:
            param -= lr * param.grad / batch_size
            param.grad.zero_()


def load_array(data_arrays: tuple, batch_size: int, is_train: bool = True, sampler: Any = None) -> Any:
    dataset = data.TensorDataset(*data_arrays)
    if sampler is not None:
        return data.DataLoader(dataset, batch_size, sampler=sampler)
    return data.DataLoader(dataset, batch_size, shuffle=is_train)


def train_scratch(features: Any, labels: Any, init: list | None, lr: float = 0.03, num_epochs: int = 3,
                  batch_size: int = 10, verbose: bool = True) -> dict:
    w = torch.normal(0, 0.01, size=(2, 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    if init is not None:
        with torch.no_grad():
            w.copy_(torch.tensor(init[0]))
            b.copy_(torch.tensor(init[1]))
    start = [w.detach().numpy().copy(), b.detach().numpy().copy()]
    net, loss = linreg, squared_loss
    steps, epochs = [], []
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            lo = loss(net(X, w, b), y)
            lo.sum().backward()
            steps.append(lo.sum().item())
            sgd([w, b], lr, batch_size)
        with torch.no_grad():
            train_l = loss(net(features, w, b), labels)
            epochs.append(float(train_l.mean()))
            if verbose:
                print(f'scratch epoch {epoch + 1}, loss {float(train_l.mean()):f}')
    return {"init": start, "steps": steps, "epochs": epochs,
            "w": w.detach().numpy().copy(), "b": b.detach().numpy().copy()}


def train_concise(features: Any, labels: Any, init: dict | None, sampler: Any = None, lr: float = 0.03,
                  num_epochs: int = 3, batch_size: int = 10, verbose: bool = True) -> dict:
    data_iter = load_array((features, labels), batch_size, sampler=sampler)
    net = nn.Sequential(nn.Linear(2, 1))
    net[0].weight.data.normal_(0, 0.01)
    net[0].bias.data.fill_(0)
    if init is not None:
        net.load_state_dict({k: torch.tensor(v) for k, v in init.items()})
    start = {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}
    loss = nn.MSELoss()
    trainer = torch.optim.SGD(net.parameters(), lr=lr)
    steps, epochs = [], []
    for epoch in range(num_epochs):
        for X, y in data_iter:
            lo = loss(net(X), y)
            trainer.zero_grad()
            lo.backward()
            trainer.step()
            steps.append(lo.item())
        lo = loss(net(features), labels)
        epochs.append(lo.item())
        if verbose:
            print(f'concise epoch {epoch + 1}, loss {lo:f}')
    return {"init": start, "steps": steps, "epochs": epochs,
            "w": net[0].weight.data.numpy().copy(), "b": net[0].bias.data.numpy().copy()}


def main(lib: Any = None, *, init: dict | None = None, seed: int = 0, seeded_order: bool = False,
         num_epochs: int = 3, verbose: bool = True) -> dict:
    """Train both versions; `init` = the "init" entries of a previous run's result to start from."""
    if lib is not None and lib is not torch:
        return under(lib).main(init=init, seed=seed, seeded_order=seeded_order, num_epochs=num_epochs,
                               verbose=verbose)
    random.seed(seed)
    true_w, true_b = np.array([2, -3.4]), 4.2
    features, labels = synthetic_data(true_w, true_b, 1000, seed)
    if verbose:
        print('features:', features[0], '\nlabel:', labels[0])
    init = init or {}
    scratch = train_scratch(features, labels, init.get("scratch"), num_epochs=num_epochs, verbose=verbose)
    sampler = SeededOrder(len(features), seed) if seeded_order else None
    concise = train_concise(features, labels, init.get("concise"), sampler, num_epochs=num_epochs,
                            verbose=verbose)
    if verbose:
        print(f'error in estimating w: {true_w - concise["w"].reshape(true_w.shape)}')
        print(f'error in estimating b: {true_b - concise["b"]}')
    return {"scratch": scratch, "concise": concise,
            "init": {"scratch": scratch["init"], "concise": concise["init"]}}


if __name__ == '__main__':
    main(importlib.import_module(sys.argv[sys.argv.index("--lib") + 1]) if "--lib" in sys.argv else torch)
