"""torchvision.datasets for ndgrad: the datasets of :mod:`ndgrad.datasets` (one implementation:
files, downloads, checksums and parsing are shared) with torchvision's sample type, a PIL image
(Pillow: the ``vision`` extra)."""
from __future__ import annotations

from typing import ClassVar

from ndgrad.datasets import cifar as _cifar
from ndgrad.datasets import fakedata as _fakedata
from ndgrad.datasets import mnist as _mnist
from ndgrad.datasets._common import ImageDataset as VisionDataset
from ndgrad.datasets.folder import (IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader,
                                    has_file_allowed_extension, is_image_file, make_dataset,
                                    pil_loader)
from ndgrad.datasets.utils import check_integrity, download_url

__all__ = ["CIFAR10", "CIFAR100", "IMG_EXTENSIONS", "KMNIST", "MNIST", "DatasetFolder",
           "FakeData", "FashionMNIST", "ImageFolder", "VisionDataset", "check_integrity",
           "default_loader", "download_url", "has_file_allowed_extension", "is_image_file",
           "make_dataset", "pil_loader"]


class MNIST(_mnist.MNIST):
    """MNIST (see :class:`ndgrad.datasets.MNIST`) with 28x28 grey PIL images as samples."""

    as_pil: ClassVar[bool] = True


class FashionMNIST(_mnist.FashionMNIST):
    """Fashion-MNIST (see :class:`ndgrad.datasets.FashionMNIST`) with PIL images as samples."""

    as_pil: ClassVar[bool] = True


class KMNIST(_mnist.KMNIST):
    """KMNIST (see :class:`ndgrad.datasets.KMNIST`) with PIL images as samples."""

    as_pil: ClassVar[bool] = True


class CIFAR10(_cifar.CIFAR10):
    """CIFAR-10 (see :class:`ndgrad.datasets.CIFAR10`) with 32x32 RGB PIL images as samples."""

    as_pil: ClassVar[bool] = True


class CIFAR100(_cifar.CIFAR100):
    """CIFAR-100 (see :class:`ndgrad.datasets.CIFAR100`) with RGB PIL images as samples."""

    as_pil: ClassVar[bool] = True


class FakeData(_fakedata.FakeData):
    """Random PIL images (see :class:`ndgrad.datasets.FakeData`)."""

    as_pil: ClassVar[bool] = True
