"""Shared by the d2l test programs: each runs under `python -m ndgrad run` and under plain `python` with
PyTorch, and both runs must start from the same numbers.

- `init_params(module, seed)` sets every parameter and buffer from a NumPy generator (by name, in
  state_dict order), so the two libraries start from the same weights;
- `fixed_shuffle(seed)` makes every shuffling DataLoader visit the data in NumPy-drawn orders;
- `offline(d2l)` points d2l's downloads at generated files (tools/d2l_offline.py);
- `finish(results)` writes the program's results as JSON to the path in argv[1].
"""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "tools"))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import d2l_offline  # noqa: E402,F401  (re-exported for the programs)
import torch  # noqa: E402  (ndgrad under `ndgrad run`, PyTorch under plain python)

torch.set_num_threads(1)


def init_params(module, seed: int) -> None:
    """Every floating-point entry of module.state_dict() drawn from NumPy: uniform(-a, a) with Xavier's
    a = sqrt(6 / (fan_in + fan_out)); 1-d tensors uniform(-0.1, 0.1), around 1 for those named weight
    (normalisation scales)."""
    rng = np.random.default_rng(seed)
    state = module.state_dict()
    new = {}
    for name, t in state.items():
        if not t.is_floating_point():
            new[name] = t
            continue
        shape = tuple(t.shape)
        if len(shape) > 1:
            receptive = int(np.prod(shape[2:]))
            a = math.sqrt(6 / (shape[1] * receptive + shape[0] * receptive))
        else:
            a = 0.1
        value = rng.uniform(-a, a, size=shape) + (1.0 if len(shape) == 1 and name.endswith("weight") else 0.0)
        new[name] = torch.tensor(value.astype(np.float32))
    module.load_state_dict(new)


def fixed_shuffle(seed: int) -> None:
    """RandomSampler yields NumPy-drawn permutations (a new one per epoch), the same under both libraries."""
    rng = np.random.default_rng(seed)

    def __iter__(self):
        return iter(rng.permutation(len(self.data_source)).tolist())
    torch.utils.data.RandomSampler.__iter__ = __iter__


def offline(d2l) -> None:
    d2l_offline.install(d2l)


def plain(v):
    """JSON-able: tensors and arrays become nested lists, numbers stay numbers."""
    if hasattr(v, "detach"):
        v = v.detach().numpy()
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, np.generic):
        return v.item()
    if isinstance(v, dict):
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [plain(x) for x in v]
    return v


def finish(results: dict) -> None:
    with open(sys.argv[1], "w") as f:
        json.dump(plain(results), f)
