"""FakeData: random images and labels, the same for the same index (no files needed)."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ._common import ImageDataset

__all__ = ["FakeData"]


class FakeData(ImageDataset):
    """``size`` random images of ``image_size`` (C, H, W) with labels in [0, num_classes).

    Image ``i`` is drawn from a generator seeded with ``i + random_offset``: standard-normal
    values scaled by 255 and cast to uint8 (wrapping), as torchvision builds its fake images.
    """

    def __init__(self, size: int = 1000, image_size: Sequence[int] = (3, 224, 224),
                 num_classes: int = 10, transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 random_offset: int = 0) -> None:
        self.size = size
        self.num_classes = num_classes
        self.image_size = image_size
        self.transform = transform
        self.target_transform = target_transform
        self.random_offset = random_offset

    def _draw(self, index: int) -> tuple[np.ndarray, int]:
        if not 0 <= index < len(self):
            raise IndexError(f"{type(self).__name__} index out of range")
        import ndgrad
        gen = ndgrad.Generator().manual_seed(index + self.random_offset)
        img = ndgrad.randn(*self.image_size, generator=gen).numpy()
        target = int(ndgrad.randint(0, self.num_classes, (1,), generator=gen).item())
        pixels = (img * np.float32(255)).astype(np.int64).astype(np.uint8)
        if pixels.ndim == 3:
            pixels = pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0)
        return pixels, target

    def _image(self, index: int) -> np.ndarray:
        return self._draw(index)[0]

    def _target(self, index: int) -> int:
        return self._draw(index)[1]

    def __len__(self) -> int:
        return self.size
