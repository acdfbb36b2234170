"""The 8x8 handwritten digits bundled with scikit-learn (1,797 images): a no-download dataset.

Needs scikit-learn, part of the optional ``demo`` extra (``pip install ndgrad[demo]``).
Samples: a float32 tensor (1, 8, 8) with the original 0..16 intensities divided by 16 (so in
[0, 1], already channel-first like the output of ToTensor), and the digit as an int.
"""
from __future__ import annotations

import math
import os
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ._common import ImageDataset, from_array, to_array

__all__ = ["Digits"]


def _load_digits() -> tuple[np.ndarray, np.ndarray]:
    try:
        from sklearn.datasets import load_digits
    except ImportError as exc:
        raise ImportError(
            "ndgrad.datasets.Digits needs scikit-learn, which is part of ndgrad's optional "
            "'demo' extra: pip install ndgrad[demo]") from exc
    bunch = load_digits()
    return np.asarray(bunch.images), np.asarray(bunch.target)


class Digits(ImageDataset):
    """scikit-learn's digits as a train or test split.

    Args:
        root: unused (the data ships with scikit-learn); accepted for a torchvision-like call.
        train: the training split if True, else the test split.
        transform: applied to each image (a float32 tensor (1, 8, 8) in [0, 1]).
        target_transform: applied to each target (an int).
        test_fraction: share of the 1,797 images in the test split, in (0, 1); the test split
            has ``ceil(test_fraction * 1797)`` images (scikit-learn's rounding).
        seed: seed of the permutation that splits the data; the same seed always gives the
            same split, and the two splits of one seed are disjoint and cover every image.

    Attributes: ``data`` (float32 tensor (N, 8, 8) in [0, 1]), ``targets`` (int64 tensor (N,)),
    ``classes`` ('0' ... '9'), ``indices`` (positions in scikit-learn's ordering, ascending).
    """

    classes: ClassVar[list[str]] = [str(d) for d in range(10)]
    channels_last: ClassVar[bool] = False

    def __init__(self, root: str | os.PathLike[str] | None = None, train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 test_fraction: float = 0.2, seed: int = 0) -> None:
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
        self.root = root
        self.train = bool(train)
        self.transform = transform
        self.target_transform = target_transform
        self.test_fraction = test_fraction
        self.seed = seed
        images, labels = _load_digits()
        n = len(images)
        n_test = math.ceil(test_fraction * n)
        order = np.random.default_rng(seed).permutation(n)
        chosen = order[n_test:] if self.train else order[:n_test]
        self.indices = np.sort(chosen)
        self.data = from_array((images[self.indices] / 16.0).astype(np.float32))
        self.targets = from_array(labels[self.indices].astype(np.int64))

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _image(self, index: int) -> np.ndarray:
        return np.array(to_array(self.data)[index])[None]  # (1, 8, 8): channel first, like ToTensor

    def __repr__(self) -> str:
        lines = [f"Dataset {type(self).__name__}",
                 f"    Number of datapoints: {len(self)}",
                 (f"    Split: {'Train' if self.train else 'Test'} "
                  f"(test_fraction={self.test_fraction}, seed={self.seed})")]
        if self.transform is not None:
            lines.append("    Transform: " + repr(self.transform).replace("\n", "\n    "))
        return "\n".join(lines)
