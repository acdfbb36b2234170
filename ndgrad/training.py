"""Training helpers a d2l reader expects: Accumulator, accuracy, evaluate_accuracy, a
small `fit` loop with callbacks, the three demo models, and a loss/accuracy plot.

Optional libraries (tqdm for progress bars, matplotlib for plots) load only when used,
with an error naming the extra to install.
"""
from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Sequence

from . import _creation, _dtype
from .autograd.grad_mode import no_grad


def require(module: str, extra: str = "demo") -> Any:
    """Import an optional dependency, or explain which ndgrad extra provides it."""
    import importlib
    try:
        return importlib.import_module(module)
    except ImportError:
        raise ImportError(f"this feature needs the '{module.split('.')[0]}' package: "
                          f"pip install 'ndgrad[{extra}]'") from None


class Accumulator:
    """Running sums over n variables (d2l's helper): `add(a, b, ...)`, index to read."""

    def __init__(self, n: int) -> None:
        self.data = [0.0] * n

    def add(self, *args: float) -> None:
        self.data = [a + float(b) for a, b in zip(self.data, args)]

    def reset(self) -> None:
        self.data = [0.0] * len(self.data)

    def __getitem__(self, idx: int) -> float:
        return self.data[idx]


def accuracy(y_hat: Any, y: Any) -> float:
    """Number of correct predictions (argmax over classes when y_hat has a class dim)."""
    if y_hat.dim() > 1 and y_hat.shape[1] > 1:
        y_hat = y_hat.argmax(dim=1)
    return float((y_hat.to(y.dtype) == y).sum().item())


def evaluate_accuracy(model: Any, data_iter: Iterable) -> float:
    """Accuracy of `model` over a data iterator, in eval mode and without recording."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    metric = Accumulator(2)
    with no_grad():
        for X, y in data_iter:
            metric.add(accuracy(model(X), y), y.numel())
    if was_training:
        model.train()
    correct, n = global_sums(metric.data)
    return correct / max(n, 1)


def global_sums(values: Sequence[float]) -> list:
    """`values` summed over the processes of a data-parallel job (ndgrad.distributed initialised with
    more than one process); as they are otherwise. Each process measures its own shard of the data."""
    import sys
    dist = sys.modules.get("ndgrad.distributed")
    if dist is None or not dist.is_initialized() or dist.get_world_size() == 1:
        return list(values)
    t = _creation.tensor(list(values), dtype=_dtype.float64)
    dist.all_reduce(t)
    return t.tolist()


def fit(model: Any, train_iter: Iterable, test_iter: Iterable | None, loss: Callable, optimizer: Any,
        epochs: int, callbacks: Sequence[Callable[[dict], None]] = (), progress: bool = False) -> list[dict]:
    """Train for `epochs`; after each epoch call every callback with that epoch's record
    (epoch, train_loss, train_acc, test_acc, samples_per_s). Returns all records.

    In a data-parallel job (a DistributedDataParallel model, the loader's DistributedSampler) the
    sampler is told the epoch and the records cover all processes."""
    history = []
    sampler = getattr(train_iter, "sampler", None)
    for epoch in range(1, epochs + 1):
        if hasattr(sampler, "set_epoch"):
            sampler.set_epoch(epoch)
        model.train()
        metric = Accumulator(3)  # loss sum, correct, samples
        start = time.perf_counter()
        batches = train_iter
        bar = None
        if progress:
            tqdm = require("tqdm").tqdm
            bar = batches = tqdm(train_iter, desc=f"epoch {epoch}/{epochs}", leave=False, unit="batch")
        for X, y in batches:
            y_hat = model(X)
            l = loss(y_hat, y)
            optimizer.zero_grad()
            l.backward()
            optimizer.step()
            n = y.numel()
            metric.add(float(l.item()) * n, accuracy(y_hat.detach(), y), n)
            if bar is not None:
                bar.set_postfix(loss=f"{metric[0] / metric[2]:.4f}",
                                samples_s=f"{metric[2] / (time.perf_counter() - start):.0f}")
        elapsed = time.perf_counter() - start
        if bar is not None:
            bar.close()
        loss_sum, correct, n = global_sums(metric.data)
        record = {"epoch": epoch, "train_loss": loss_sum / n, "train_acc": correct / n,
                  "test_acc": evaluate_accuracy(model, test_iter) if test_iter is not None else float("nan"),
                  "samples_per_s": n / elapsed}
        history.append(record)
        for cb in callbacks:
            cb(record)
    return history


def plot_history(history: Sequence[dict], path: str | None = None, *, size: tuple = (8, 3.2), dpi: int = 100) -> Any:
    """Loss and accuracy curves per epoch; saved as PNG when `path` is given."""
    matplotlib = require("matplotlib")
    if path is not None:
        matplotlib.use("Agg")
    plt = require("matplotlib.pyplot")
    epochs = [r["epoch"] for r in history]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=size, dpi=dpi)
    ax1.plot(epochs, [r["train_loss"] for r in history], marker="o", label="train loss")
    ax1.set_xlabel("epoch")
    ax1.set_ylabel("loss")
    ax1.legend()
    ax2.plot(epochs, [r["train_acc"] for r in history], marker="o", label="train acc")
    ax2.plot(epochs, [r["test_acc"] for r in history], marker="s", label="test acc")
    ax2.set_xlabel("epoch")
    ax2.set_ylabel("accuracy")
    ax2.legend()
    ticker = require("matplotlib.ticker")
    for ax in (ax1, ax2):
        ax.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.tight_layout()
    if path is not None:
        fig.savefig(path)
        plt.close(fig)
    return fig


class LivePlot:
    """A fit() callback that redraws the curves after each epoch inside Jupyter."""

    def __init__(self) -> None:
        self.history: list[dict] = []

    def __call__(self, record: dict) -> None:
        self.history.append(record)
        try:
            from IPython import display
        except ImportError:
            return
        fig = plot_history(self.history)
        display.clear_output(wait=True)
        display.display(fig)
        require("matplotlib.pyplot").close(fig)


def make_model(name: str, in_shape: tuple = (1, 28, 28), num_classes: int = 10) -> Any:
    """'softmax' (linear), 'mlp' (one hidden layer of 256) or 'lenet' (LeNet-5 with ReLU and max pooling)."""
    from . import nn
    c, h, w = in_shape
    if name == "softmax":
        return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, num_classes))
    if name == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(c * h * w, 256), nn.ReLU(), nn.Linear(256, num_classes))
    if name == "lenet":
        return nn.Sequential(
            nn.Conv2d(c, 6, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2, 2),
            nn.Conv2d(6, 16, kernel_size=5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
            nn.Linear(16 * ((h // 2 - 4) // 2) * ((w // 2 - 4) // 2), 120), nn.ReLU(),
            nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes))
    raise ValueError(f"unknown model '{name}': choose softmax, mlp or lenet")


def init_weights(model: Any) -> None:
    """Xavier-uniform weights and zero biases for Linear and Conv layers (as d2l does)."""
    from . import nn
    for m in model.modules():
        if isinstance(m, (nn.Linear, nn.Conv2d)):
            nn.init.xavier_uniform_(m.weight)
            if m.bias is not None:
                nn.init.zeros_(m.bias)


def load_arrays(dataset: str, data_dir: str, resize: int = 28) -> tuple:
    """(X_train, y_train, X_test, y_test) tensors: images (N, 1, resize, resize) float32."""
    from . import datasets
    from .nn import functional as F
    if dataset == "digits":
        train, test = datasets.Digits(train=True), datasets.Digits(train=False)
    elif dataset == "mnist":
        train = datasets.MNIST(data_dir, train=True, download=True)
        test = datasets.MNIST(data_dir, train=False, download=True)
    elif dataset == "fashion-mnist":
        train = datasets.FashionMNIST(data_dir, train=True, download=True)
        test = datasets.FashionMNIST(data_dir, train=False, download=True)
    else:
        raise ValueError(f"unknown dataset '{dataset}': choose digits, mnist or fashion-mnist")
    out = []
    for ds in (train, test):
        X = ds.data
        X = X.float() / 255.0 if X.dtype.name == "uint8" else X.float()
        X = X.unsqueeze(1)
        if X.shape[-1] != resize:
            X = F.interpolate(X, size=(resize, resize), mode="bilinear", align_corners=False)
        out += [X.contiguous(), ds.targets.long()]
    return tuple(out)


def loaders(X_train: Any, y_train: Any, X_test: Any, y_test: Any, batch_size: int, seed: int,
            rank: int = 0, world_size: int = 1) -> tuple:
    """Shuffled training batches and the test set. With world_size > 1, process `rank`'s share:
    batch_size // world_size samples per batch from a DistributedSampler (the global batch stays
    batch_size), and every world_size-th test sample."""
    from .utils.data import DataLoader, Subset, TensorDataset
    train_set, test_set = TensorDataset(X_train, y_train), TensorDataset(X_test, y_test)
    if world_size == 1:
        train = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=_random_generator(seed))
        return train, DataLoader(test_set, batch_size=512)
    from .utils.data.distributed import DistributedSampler
    sampler = DistributedSampler(train_set, world_size, rank, shuffle=True, seed=seed)
    train = DataLoader(train_set, batch_size=batch_size // world_size, sampler=sampler)
    test = DataLoader(Subset(test_set, range(rank, len(test_set), world_size)), batch_size=512)
    return train, test


def _random_generator(seed: int) -> Any:
    from ._random import Generator
    return Generator().manual_seed(seed)


_ = _creation
