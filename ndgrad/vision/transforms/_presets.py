"""The preprocessing that goes with pretrained classification weights (``weights.transforms()``)."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ndgrad.nn import Module

from . import functional as F
from .functional import InterpolationMode

__all__ = ["ImageClassification"]


class ImageClassification(Module):
    """Resize the shorter edge to ``resize_size``, crop the centre ``crop_size`` square, scale
    to float in [0, 1] and normalise with ImageNet's ``mean`` and ``std``."""

    def __init__(self, *, crop_size: int, resize_size: int = 256,
                 mean: Sequence[float] = (0.485, 0.456, 0.406),
                 std: Sequence[float] = (0.229, 0.224, 0.225),
                 interpolation: InterpolationMode = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.crop_size = [crop_size]
        self.resize_size = [resize_size]
        self.mean = list(mean)
        self.std = list(std)
        self.interpolation = interpolation
        self.antialias = antialias

    def forward(self, img: Any) -> Any:
        import ndgrad
        img = F.resize(img, self.resize_size, interpolation=self.interpolation,
                       antialias=self.antialias)
        img = F.center_crop(img, self.crop_size)
        if F._is_pil(img):
            img = F.pil_to_tensor(img)
        img = F.convert_image_dtype(img, ndgrad.float32)
        return F.normalize(img, mean=self.mean, std=self.std)

    def __repr__(self) -> str:
        fields = (f"crop_size={self.crop_size}", f"resize_size={self.resize_size}",
                  f"mean={self.mean}", f"std={self.std}", f"interpolation={self.interpolation}")
        return f"{type(self).__name__}(" + "".join(f"\n    {f}" for f in fields) + "\n)"
