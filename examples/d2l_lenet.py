"""d2l chapter 7: convolutions from scratch (corr2d, a learned edge detector) and LeNet, with
`import ndgrad as torch`.

    python examples/d2l_lenet.py             # runs under ndgrad
    python examples/d2l_lenet.py --lib torch # the same program under PyTorch

Data: scikit-learn's 8x8 digits, upsampled to 16x16, when available, else NumPy-drawn blobs.
"""
from __future__ import annotations

import importlib
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
from d2l_common import load_digits_arrays, state  # noqa: E402
_d2l = d2l_common.bind(torch)
load_data, evaluate_accuracy, train_ch3 = _d2l.load_data, _d2l.evaluate_accuracy, _d2l.train_ch3


def under(lib: Any) -> Any:
    """This program re-run with `torch` bound to `lib`."""
    return d2l_common.under(__file__, lib)


def corr2d(X: Any, K: Any) -> Any:
    """Compute 2D cross-correlation."""
    h, w = K.shape
    Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for i in range(Y.shape[0]):
        for j in range(Y.shape[1]):
            Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
    return Y


class Conv2D(nn.Module):
    def __init__(self, kernel_size: tuple) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.rand(kernel_size))
        self.bias = nn.Parameter(torch.zeros(1))

    def forward(self, x: Any) -> Any:
        return corr2d(x, self.weight) + self.bias


def learn_edge_kernel(init: Any, verbose: bool) -> dict:
    """d2l 7.2: learn the kernel [1, -1] from an image and its edges."""
    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    K = torch.tensor([[1.0, -1.0]])
    Y = corr2d(X, K)
    assert (corr2d(X.t(), K) == 0).all()  # this kernel only detects vertical edges
    # the built-in layer: 1 output channel, a (1, 2) kernel, no bias
    conv2d = nn.LazyConv2d(1, kernel_size=(1, 2), bias=False)
    X = X.reshape((1, 1, 6, 8))
    Y = Y.reshape((1, 1, 6, 7))
    conv2d(X)  # materialise the lazy weight
    if init is not None:
        conv2d.weight.data = torch.tensor(init)
    start = conv2d.weight.data.numpy().copy()
    lr = 3e-2
    steps = []
    for i in range(10):
        Y_hat = conv2d(X)
        lo = (Y_hat - Y) ** 2
        conv2d.zero_grad()
        lo.sum().backward()
        conv2d.weight.data[:] -= lr * conv2d.weight.grad  # update the kernel
        steps.append(lo.sum().item())
        if verbose and (i + 1) % 2 == 0:
            print(f'epoch {i + 1}, loss {lo.sum():.3f}')
    # the same loss again, through our from-scratch Conv2D on a single channel
    mine = Conv2D((1, 2))
    with torch.no_grad():
        mine.weight.copy_(conv2d.weight.reshape(1, 2))
        mine.bias.zero_()
    assert torch.allclose(mine(X[0, 0]), conv2d(X)[0, 0], atol=1e-6)
    return {"init": start, "steps": steps, "kernel": conv2d.weight.data.reshape((1, 2)).numpy().copy()}


def lenet(modern: bool = True) -> Any:
    """LeNet-5; `modern` swaps sigmoid / average pooling for ReLU / max pooling (d2l's exercise),
    which learns in a few epochs instead of dozens."""
    act, pool = (nn.ReLU, nn.MaxPool2d) if modern else (nn.Sigmoid, nn.AvgPool2d)
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=5, padding=2), act(),
        pool(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=5), act(),
        pool(kernel_size=2, stride=2),
        nn.Flatten(),
        nn.LazyLinear(120), act(),
        nn.LazyLinear(84), act(),
        nn.LazyLinear(10))


def init_cnn(module: Any) -> None:
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:  # noqa: E721 (d2l's test)
        nn.init.xavier_uniform_(module.weight)


def upsample(X: np.ndarray) -> np.ndarray:
    return X.repeat(2, axis=2).repeat(2, axis=3)


def main(lib: Any = None, *, init: dict | None = None, seed: int = 0, seeded_order: bool = False,
         num_epochs: int = 3, synthetic: bool = False, modern: bool = True, verbose: bool = True) -> dict:
    """Learn an edge kernel, then train LeNet; `init` = a previous run's "init" to start from.
    `modern` = False: d2l's original LeNet (sigmoid, average pooling), smooth in its weights."""
    if lib is not None and lib is not torch:
        return under(lib).main(init=init, seed=seed, seeded_order=seeded_order, num_epochs=num_epochs,
                               synthetic=synthetic, modern=modern, verbose=verbose)
    init = init or {}
    edge = learn_edge_kernel(init.get("edge"), verbose)
    if verbose:
        print('learned kernel', edge["kernel"])

    arrays = load_digits_arrays(seed, synthetic)
    arrays = (upsample(arrays[0]), arrays[1], upsample(arrays[2]), arrays[3])
    train_iter, test_iter = load_data(64, arrays, seeded_order, seed)
    net = lenet(modern)
    X = torch.randn(1, 1, 16, 16)
    for layer in net:  # d2l's layer_summary: the first call materialises the lazy layers
        X = layer(X)
        if verbose:
            print(layer.__class__.__name__, 'output shape:\t', X.shape)
    net.apply(init_cnn)
    if "lenet" in init:
        net.load_state_dict({k: torch.tensor(v) for k, v in init["lenet"].items()})
    start = state(net)
    loss = nn.CrossEntropyLoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.3 if modern else 0.9)
    lenet_run = train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer, "LeNet", verbose)
    lenet_run["init"] = start
    lenet_run["final"] = state(net)
    return {"edge": edge, "lenet": lenet_run, "init": {"edge": edge["init"], "lenet": start}}


if __name__ == '__main__':
    main(importlib.import_module(sys.argv[sys.argv.index("--lib") + 1]) if "--lib" in sys.argv else torch)
