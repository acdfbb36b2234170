"""MNIST, Fashion-MNIST and KMNIST, read from their IDX files (downloaded on request, checksum
verified).

Files live in ``<root>/<ClassName>/raw/`` as torchvision keeps them, so an existing torchvision
download of ``<root>/MNIST/raw`` is found as is.  The gzip files are read directly; extracted
files (same names without ``.gz``) are accepted too.

Samples: with no ``transform`` an image is a uint8 ndgrad tensor of shape (28, 28), the
counterpart of torchvision's 28x28 PIL image (``np.asarray(pil_image)`` has that shape and
dtype); ``transforms.ToTensor()`` turns it into float32 (1, 28, 28) in [0, 1] exactly as
torchvision's ToTensor does.  The target is a Python int, as in torchvision.  The classes of
the same names in ndgrad.vision.datasets are these with PIL images as samples.
"""
from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any, ClassVar

import numpy as np

from ._common import ImageDataset, from_array
from .idx import read_idx
from .utils import check_integrity, download_url

__all__ = ["KMNIST", "MNIST", "FashionMNIST"]


class MNIST(ImageDataset):
    """The MNIST handwritten digits: 60,000 training and 10,000 test 28x28 grey images.

    Args:
        root: directory holding ``MNIST/raw/`` (created when downloading).
        train: the training split if True, else the test split.
        transform: applied to each image (a uint8 tensor (28, 28)).
        target_transform: applied to each target (an int).
        download: fetch the files that are missing or corrupt; valid files are kept.

    Attributes: ``data`` (uint8 tensor (N, 28, 28)), ``targets`` (int64 tensor (N,)),
    ``classes``, ``class_to_idx``.  The class attributes ``mirrors`` (base URLs, tried in
    order), ``resources`` ((file name, md5) pairs) and ``download_retries`` /
    ``download_backoff`` / ``download_timeout`` may be overridden, e.g. for a local mirror.
    """

    mirrors: ClassVar[list[str]] = [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "http://yann.lecun.com/exdb/mnist/",
    ]
    resources: ClassVar[list[tuple[str, str | None]]] = [
        ("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ]
    splits: ClassVar[dict[bool, tuple[str, str]]] = {
        True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    }
    classes: ClassVar[list[str]] = [
        "0 - zero", "1 - one", "2 - two", "3 - three", "4 - four",
        "5 - five", "6 - six", "7 - seven", "8 - eight", "9 - nine",
    ]
    def __init__(self, root: str | os.PathLike[str], train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 download: bool = False) -> None:
        self._store(root, bool(train), transform, target_transform)
        if download:
            self.download()
        missing = [stem for stem in self.splits[self.train] if self._find(stem) is None]
        if missing:
            names = ", ".join(f"{stem}.gz" for stem in missing)
            raise RuntimeError(
                f"Dataset not found: {names} missing from {self.raw_folder}. "
                f"You can use download=True to download it, or download the files yourself "
                f"from {self.mirrors[0] if self.mirrors else 'a mirror'} into that folder.")
        images, labels = self._load()
        self.data = from_array(images)
        self.targets = from_array(labels)

    # torchvision's old names for `targets` and `data` (any split), with its deprecation warning
    @property
    def train_labels(self) -> Any:
        warnings.warn("train_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def test_labels(self) -> Any:
        warnings.warn("test_labels has been renamed targets", stacklevel=2)
        return self.targets

    @property
    def train_data(self) -> Any:
        warnings.warn("train_data has been renamed data", stacklevel=2)
        return self.data

    @property
    def test_data(self) -> Any:
        warnings.warn("test_data has been renamed data", stacklevel=2)
        return self.data

    # -- files -------------------------------------------------------------------------
    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, type(self).__name__, "raw")

    @property
    def class_to_idx(self) -> dict[str, int]:
        return {name: i for i, name in enumerate(self.classes)}

    def _find(self, stem: str) -> str | None:
        """The path of the file for ``stem`` (gzip first, then extracted), if present."""
        for name in (stem + ".gz", stem):
            path = os.path.join(self.raw_folder, name)
            if os.path.isfile(path):
                return path
        return None

    def download(self) -> None:
        """Fetch every resource that is missing or fails its checksum."""
        os.makedirs(self.raw_folder, exist_ok=True)
        for filename, md5 in self.resources:
            path = os.path.join(self.raw_folder, filename)
            stem = filename.removesuffix(".gz")
            extracted = os.path.join(self.raw_folder, stem)
            if check_integrity(path, md5) or (
                    not os.path.exists(path) and os.path.isfile(extracted)):
                continue
            download_url([base + filename for base in self.mirrors], path, md5=md5,
                         retries=self.download_retries, backoff=self.download_backoff,
                         timeout=self.download_timeout)

    def _load(self) -> tuple[np.ndarray, np.ndarray]:
        image_stem, label_stem = self.splits[self.train]
        image_path, label_path = self._find(image_stem), self._find(label_stem)
        assert image_path is not None and label_path is not None
        images = self._read(image_path)
        labels = self._read(label_path)
        if images.ndim != 3 or images.dtype != np.uint8:
            raise RuntimeError(f"{image_path} holds {images.dtype} {images.shape}, expected uint8 "
                               f"images (N, H, W); delete it and download it again.")
        if labels.ndim != 1 or len(labels) != len(images):
            raise RuntimeError(f"{label_path} holds {labels.shape} labels for {len(images)} "
                               f"images; delete it and download it again.")
        return images, labels.astype(np.int64)

    @staticmethod
    def _read(path: str) -> np.ndarray:
        try:
            return read_idx(path)
        except (ValueError, OSError) as exc:
            raise RuntimeError(f"Could not read {path} ({exc}); the file is corrupt. Delete it "
                               f"and use download=True (or copy a good file there).") from exc

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}"


class FashionMNIST(MNIST):
    """Fashion-MNIST (Zalando): 28x28 grey images of 10 kinds of clothing, MNIST's format.

    Same arguments and attributes as :class:`MNIST`; files live in ``<root>/FashionMNIST/raw``.
    """

    mirrors: ClassVar[list[str]] = [
        "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    ]
    resources: ClassVar[list[tuple[str, str | None]]] = [
        ("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ]
    classes: ClassVar[list[str]] = [
        "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
    ]


class KMNIST(MNIST):
    """Kuzushiji-MNIST: 28x28 grey images of 10 classes of cursive Japanese characters.

    Same arguments and attributes as :class:`MNIST`; files live in ``<root>/KMNIST/raw``.
    """

    mirrors: ClassVar[list[str]] = ["http://codh.rois.ac.jp/kmnist/dataset/kmnist/"]
    resources: ClassVar[list[tuple[str, str | None]]] = [
        ("train-images-idx3-ubyte.gz", "bdb82020997e1d708af4cf47b453dcf7"),
        ("train-labels-idx1-ubyte.gz", "e144d726b3acfaa3e44228e80efcd344"),
        ("t10k-images-idx3-ubyte.gz", "5c965bf0a639b31b8f53240b1b52f4d7"),
        ("t10k-labels-idx1-ubyte.gz", "7320c461ea6c1c855c0b718fb2a4b134"),
    ]
    classes: ClassVar[list[str]] = ["o", "ki", "su", "tsu", "na", "ha", "ma", "ya", "re", "wo"]
