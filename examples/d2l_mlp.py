"""d2l chapter 5: multilayer perceptrons, from scratch and concisely, with dropout and weight
decay, with `import ndgrad as torch`.

    python examples/d2l_mlp.py             # runs under ndgrad
    python examples/d2l_mlp.py --lib torch # the same program under PyTorch

Data: scikit-learn's 8x8 digits when available, else NumPy-drawn blobs (no download).
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


def relu(X: Any) -> Any:
    a = torch.zeros_like(X)
    return torch.max(X, a)


def dropout_layer(X: Any, dropout: float) -> Any:
    assert 0 <= dropout <= 1
    if dropout == 1:  # in this case, all elements are dropped out
        return torch.zeros_like(X)
    if dropout == 0:  # in this case, all elements are kept
        return X
    mask = (torch.rand(X.shape) > dropout).float()
    return mask * X / (1.0 - dropout)


def l2_penalty(w: Any) -> Any:
    return torch.sum(w.pow(2)) / 2


class MLPScratch(nn.Module):
    def __init__(self, num_inputs: int, num_outputs: int, num_hiddens: int, dropout: float, sigma: float = 0.01):
        super().__init__()
        self.W1 = nn.Parameter(torch.randn(num_inputs, num_hiddens) * sigma)
        self.b1 = nn.Parameter(torch.zeros(num_hiddens))
        self.W2 = nn.Parameter(torch.randn(num_hiddens, num_outputs) * sigma)
        self.b2 = nn.Parameter(torch.zeros(num_outputs))
        self.dropout = dropout

    def forward(self, X: Any) -> Any:
        X = X.reshape((-1, self.W1.shape[0]))
        H = relu(torch.matmul(X, self.W1) + self.b1)
        if self.training:
            H = dropout_layer(H, self.dropout)
        return H @ self.W2 + self.b2


def state(net: Any) -> dict:
    return {k: v.detach().numpy().copy() for k, v in net.state_dict().items()}


def main(lib: Any = None, *, init: dict | None = None, seed: int = 0, seeded_order: bool = False,
         num_epochs: int = 3, dropout: float = 0.2, synthetic: bool = False, verbose: bool = True) -> dict:
    """Train both versions; `init` = the "init" entry of a previous run's result to start from.
    `dropout` = 0 makes the runs deterministic (no random masks)."""
    if lib is not None and lib is not torch:
        return under(lib).main(init=init, seed=seed, seeded_order=seeded_order, num_epochs=num_epochs,
                               dropout=dropout, synthetic=synthetic, verbose=verbose)
    init = init or {}
    arrays = load_digits_arrays(seed, synthetic)
    batch_size, lr, wd = 64, 0.3, 1e-3
    loss = nn.CrossEntropyLoss(reduction='none')

    # from scratch: the MLP as a Module holding nn.Parameters, an L2 penalty added to the loss
    train_iter, test_iter = load_data(batch_size, arrays, seeded_order, seed)
    net = MLPScratch(64, 10, 128, dropout, sigma=0.1)
    if "scratch" in init:
        net.load_state_dict({k: torch.tensor(v) for k, v in init["scratch"].items()})
    start = state(net)
    updater = torch.optim.SGD(net.parameters(), lr=lr)
    scratch = train_ch3(net, train_iter, test_iter, loss, num_epochs, updater, "scratch", verbose,
                        penalty=lambda: wd * l2_penalty(net.W1))
    scratch["init"] = start

    # concise: nn.Sequential with nn.Dropout, weight decay on the weights only (parameter groups)
    train_iter, test_iter = load_data(batch_size, arrays, seeded_order, seed + 1)
    net = nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Dropout(dropout),
                        nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 10))

    def init_weights(m: Any) -> None:
        if type(m) == nn.Linear:  # noqa: E721 (d2l's test)
            nn.init.normal_(m.weight, std=0.1)
            nn.init.zeros_(m.bias)

    net.apply(init_weights)
    if "concise" in init:
        net.load_state_dict({k: torch.tensor(v) for k, v in init["concise"].items()})
    start = state(net)
    weights = [p for name, p in net.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in net.named_parameters() if name.endswith("bias")]
    trainer = torch.optim.SGD([{"params": weights, "weight_decay": wd}, {"params": biases}], lr=lr, momentum=0.5)
    concise = train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer, "concise", verbose)
    concise["init"] = start
    return {"scratch": scratch, "concise": concise,
            "init": {"scratch": scratch["init"], "concise": concise["init"]}}


if __name__ == '__main__':
    main(importlib.import_module(sys.argv[sys.argv.index("--lib") + 1]) if "--lib" in sys.argv else torch)
