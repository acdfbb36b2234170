"""d2l chapter 5: multilayer perceptrons, from scratch and concisely, with dropout and weight
decay, with `import ndgrad as torch`.

    python examples/d2l_mlp.py             # runs under ndgrad
    python examples/d2l_mlp.py --lib torch # the same program under PyTorch

Data: scikit-learn's 8x8 digits when available, else NumPy-drawn blobs (no download).
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
from d2l_common import load_digits_arrays, state  # noqa: E402
_d2l = d2l_common.bind(torch)
load_data, evaluate_accuracy, train_ch3 = _d2l.load_data, _d2l.evaluate_accuracy, _d2l.train_ch3


def under(lib: Any) -> Any:
    """This program re-run with `torch` bound to `lib`."""
    return d2l_common.under(__file__, lib)


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
