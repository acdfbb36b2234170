"""d2l chapter 8: modern CNN blocks -- a VGG block, a NiN block and a ResNet residual block
with batch normalization, global average pooling and dropout -- and batch normalization from
scratch in LeNet, with `import ndgrad as torch`.

    python examples/d2l_modern_cnn.py             # runs under ndgrad
    python examples/d2l_modern_cnn.py --lib torch # the same program under PyTorch

Data: scikit-learn's 8x8 digits when available, else NumPy-drawn blobs (no download).
"""
from __future__ import annotations

import importlib
import os
import sys
from typing import Any


import ndgrad as torch
from ndgrad import nn
from ndgrad.nn import functional as F
from ndgrad.utils import data

_LIB = globals().get("_LIB")  # set when `under(lib)` re-runs this file under another library
if _LIB is not None:
    torch, nn, F = _LIB, _LIB.nn, _LIB.nn.functional
    data = importlib.import_module(_LIB.__name__ + ".utils.data")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import d2l_common  # noqa: E402  (d2l's helper package, beside this file)
from d2l_common import load_digits_arrays, state  # noqa: E402
_d2l = d2l_common.bind(torch)
load_data, evaluate_accuracy, train_ch3 = _d2l.load_data, _d2l.evaluate_accuracy, _d2l.train_ch3


def under(lib: Any) -> Any:
    """This program re-run with `torch` bound to `lib`."""
    return d2l_common.under(__file__, lib)


def batch_norm(X: Any, gamma: Any, beta: Any, moving_mean: Any, moving_var: Any, eps: float,
               momentum: float) -> tuple:
    # use is_grad_enabled to determine whether we are in training mode
    if not torch.is_grad_enabled():
        # in prediction mode, use mean and variance obtained by moving average
        X_hat = (X - moving_mean) / torch.sqrt(moving_var + eps)
    else:
        assert len(X.shape) in (2, 4)
        if len(X.shape) == 2:
            # when using a fully connected layer, calculate the mean and variance on the feature dimension
            mean = X.mean(dim=0)
            var = ((X - mean) ** 2).mean(dim=0)
        else:
            # when using a two-dimensional convolutional layer, calculate the mean and variance on
            # the channel dimension (axis=1); keep X's shape for the broadcasting below
            mean = X.mean(dim=(0, 2, 3), keepdim=True)
            var = ((X - mean) ** 2).mean(dim=(0, 2, 3), keepdim=True)
        # in training mode, the current mean and variance are used
        X_hat = (X - mean) / torch.sqrt(var + eps)
        # update the mean and variance using moving average
        moving_mean = (1.0 - momentum) * moving_mean + momentum * mean
        moving_var = (1.0 - momentum) * moving_var + momentum * var
    Y = gamma * X_hat + beta  # scale and shift
    return Y, moving_mean.data, moving_var.data


class BatchNorm(nn.Module):
    # num_features: the number of outputs for a fully connected layer or the number of output
    # channels for a convolutional layer. num_dims: 2 for a fully connected layer and 4 for a
    # convolutional layer
    def __init__(self, num_features: int, num_dims: int) -> None:
        super().__init__()
        if num_dims == 2:
            shape = (1, num_features)
        else:
            shape = (1, num_features, 1, 1)
        # the scale parameter and the shift parameter (model parameters) are initialized to 1 and 0
        self.gamma = nn.Parameter(torch.ones(shape))
        self.beta = nn.Parameter(torch.zeros(shape))
        # the variables that are not model parameters are initialized to 0 and 1
        self.moving_mean = torch.zeros(shape)
        self.moving_var = torch.ones(shape)

    def forward(self, X: Any) -> Any:
        # if X is not on the main memory, copy moving_mean and moving_var to the device where X is located
        if self.moving_mean.device != X.device:
            self.moving_mean = self.moving_mean.to(X.device)
            self.moving_var = self.moving_var.to(X.device)
        # save the updated moving_mean and moving_var
        Y, self.moving_mean, self.moving_var = batch_norm(
            X, self.gamma, self.beta, self.moving_mean,
            self.moving_var, eps=1e-5, momentum=0.1)
        return Y


def bn_lenet(num_classes: int = 10, scratch: bool = True) -> Any:
    """d2l's LeNet with batch normalization (3x3 kernels for the 8x8 digits); `scratch` picks
    the BatchNorm above, else nn.BatchNorm2d / nn.BatchNorm1d."""
    def bn(n: int, dims: int) -> Any:
        return BatchNorm(n, num_dims=dims) if scratch else (nn.BatchNorm2d(n) if dims == 4 else nn.BatchNorm1d(n))
    return nn.Sequential(
        nn.LazyConv2d(6, kernel_size=3, padding=1), bn(6, 4), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2),
        nn.LazyConv2d(16, kernel_size=3, padding=1), bn(16, 4), nn.Sigmoid(),
        nn.AvgPool2d(kernel_size=2, stride=2), nn.Flatten(),
        nn.LazyLinear(120), bn(120, 2), nn.Sigmoid(),
        nn.LazyLinear(84), bn(84, 2), nn.Sigmoid(),
        nn.LazyLinear(num_classes))


def vgg_block(num_convs: int, out_channels: int) -> Any:
    layers = []
    for _ in range(num_convs):
        layers.append(nn.LazyConv2d(out_channels, kernel_size=3, padding=1))
        layers.append(nn.ReLU())
    layers.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*layers)


def nin_block(out_channels: int, kernel_size: int, strides: int, padding: int) -> Any:
    return nn.Sequential(
        nn.LazyConv2d(out_channels, kernel_size, strides, padding), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU(),
        nn.LazyConv2d(out_channels, kernel_size=1), nn.ReLU())


class Residual(nn.Module):
    """The Residual block of ResNet models."""

    def __init__(self, num_channels: int, use_1x1conv: bool = False, strides: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1, stride=strides)
        self.conv2 = nn.LazyConv2d(num_channels, kernel_size=3, padding=1)
        if use_1x1conv:
            self.conv3 = nn.LazyConv2d(num_channels, kernel_size=1, stride=strides)
        else:
            self.conv3 = None
        self.bn1 = nn.LazyBatchNorm2d()
        self.bn2 = nn.LazyBatchNorm2d()

    def forward(self, X: Any) -> Any:
        Y = F.relu(self.bn1(self.conv1(X)))
        Y = self.bn2(self.conv2(Y))
        if self.conv3:
            X = self.conv3(X)
        Y += X
        return F.relu(Y)


class SmallModernNet(nn.Module):
    def __init__(self, num_classes: int = 10, dropout: float = 0.5) -> None:
        super().__init__()
        self.net = nn.Sequential(
            vgg_block(1, 8),                       # 8x8 -> 4x4
            nin_block(16, kernel_size=3, strides=1, padding=1),
            nn.BatchNorm2d(16),
            Residual(16),
            Residual(24, use_1x1conv=True, strides=2),  # 4x4 -> 2x2
            nn.AdaptiveAvgPool2d((1, 1)),
            nn.Flatten(),
            nn.Dropout(dropout),
            nn.LazyLinear(num_classes))

    def forward(self, X: Any) -> Any:
        return self.net(X)


def init_cnn(module: Any) -> None:
    """Initialize weights for CNNs."""
    if type(module) == nn.Linear or type(module) == nn.Conv2d:  # noqa: E721 (d2l's test)
        nn.init.kaiming_normal_(module.weight, nonlinearity='relu')
        if module.bias is not None:
            nn.init.zeros_(module.bias)


def main(lib: Any = None, *, init: dict | None = None, seed: int = 0, seeded_order: bool = False,
         num_epochs: int = 2, dropout: float = 0.5, synthetic: bool = False, verbose: bool = True) -> dict:
    """Check the blocks' shapes, train the small net, then LeNet with batch normalization (from
    scratch and built in); `init` = a previous run's "init".
    `dropout` = 0 makes the runs deterministic (no random masks)."""
    if lib is not None and lib is not torch:
        return under(lib).main(init=init, seed=seed, seeded_order=seeded_order, num_epochs=num_epochs,
                               dropout=dropout, synthetic=synthetic, verbose=verbose)
    blk = Residual(3)
    X = torch.randn(4, 3, 6, 6)
    assert blk(X).shape == (4, 3, 6, 6)
    blk = Residual(6, use_1x1conv=True, strides=2)
    assert blk(X).shape == torch.Size([4, 6, 3, 3])

    arrays = load_digits_arrays(seed, synthetic)
    train_iter, test_iter = load_data(64, arrays, seeded_order, seed)
    net = SmallModernNet(dropout=dropout)
    net(next(iter(train_iter))[0])  # materialise the lazy layers
    net.apply(init_cnn)
    if init is not None:
        net.load_state_dict({k: torch.tensor(v) for k, v in init["net"].items()})
    start = {"net": state(net)}
    if verbose:
        print(net)
        print(sum(p.numel() for p in net.parameters()), 'parameters')
    loss = nn.CrossEntropyLoss()
    trainer = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=1e-4)
    run = train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer, "net", verbose)
    net.eval()
    with torch.no_grad():
        X = torch.tensor(arrays[2])
        run["eval_logits"] = net(X).numpy().copy()  # uses the BatchNorm running statistics
    run["final"] = state(net)
    run["init"] = start

    # d2l 8.5: LeNet with batch normalization from scratch, then with the built-in layers
    for name, scratch in (("bn_scratch", True), ("bn_concise", False)):
        train_iter, test_iter = load_data(64, arrays, seeded_order, seed + 1)
        net = bn_lenet(scratch=scratch)
        net(torch.tensor(arrays[0][:2]))  # materialise the lazy layers
        if scratch:  # the shape-probing batch moved the scratch running statistics: reset them
            for m in net.modules():
                if isinstance(m, BatchNorm):
                    m.moving_mean, m.moving_var = torch.zeros_like(m.moving_mean), torch.ones_like(m.moving_var)
        if init is not None:
            net.load_state_dict({k: torch.tensor(v) for k, v in init[name].items()})
        run["init"][name] = state(net)
        trainer = torch.optim.SGD(net.parameters(), lr=0.5)
        run[name] = train_ch3(net, train_iter, test_iter, loss, num_epochs, trainer, name, verbose)
        if scratch:
            run[name]["moving_mean"] = net[1].moving_mean.numpy().ravel().copy()
            run[name]["moving_var"] = net[1].moving_var.numpy().ravel().copy()
        else:
            run[name]["moving_mean"] = net[1].running_mean.numpy().copy()
            run[name]["moving_var"] = net[1].running_var.numpy().copy()
    return run


if __name__ == '__main__':
    main(importlib.import_module(sys.argv[sys.argv.index("--lib") + 1]) if "--lib" in sys.argv else torch)
