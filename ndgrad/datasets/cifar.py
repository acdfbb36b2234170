"""CIFAR-10 and CIFAR-100 from their "python version" archives (pickled batches).

Files live in ``<root>/cifar-10-batches-py/`` (``cifar-100-python/``) as torchvision keeps them,
so an existing torchvision download is found as is; ``download=True`` fetches the archive
(checksum verified, resumable), unpacks it safely and verifies every batch file.

The batches are Python pickles holding plain dicts of NumPy arrays and lists.  They are read
with a restricted unpickler that can rebuild NumPy arrays and nothing else, so a tampered file
cannot run code.

Samples: ``data`` is a uint8 array (N, 32, 32, 3) and ``targets`` a list of ints, as in
torchvision.  An image is a uint8 ndgrad tensor (3, 32, 32) here (channel first, like
``PILToTensor``), a PIL RGB image in ndgrad.vision.datasets.
"""
from __future__ import annotations

import codecs
import os
import pickle
import tarfile
from collections.abc import Callable
from typing import IO, Any, ClassVar

import numpy as np

from ._common import ImageDataset
from .utils import check_integrity, download_url

__all__ = ["CIFAR10", "CIFAR100", "load_pickle"]


def _numpy_globals() -> dict[tuple[str, str], Any]:
    """The few callables a pickled NumPy array needs, under every module path NumPy used."""
    rebuild = np.zeros(1).__reduce__()[0]          # multiarray._reconstruct
    scalar = np.float64(0).__reduce__()[0]         # multiarray.scalar
    allowed: dict[tuple[str, str], Any] = {("numpy", "ndarray"): np.ndarray,
                                           ("numpy", "dtype"): np.dtype,
                                           # protocol-2 pickles written by Python 3 wrap bytes so
                                           ("_codecs", "encode"): codecs.encode}
    for module in ("numpy.core.multiarray", "numpy._core.multiarray"):
        allowed[(module, "_reconstruct")] = rebuild
        allowed[(module, "scalar")] = scalar
    return allowed


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, strings, numbers and NumPy arrays; refuses every other global."""

    _allowed = _numpy_globals()

    def find_class(self, module: str, name: str) -> Any:
        found = self._allowed.get((module, name))
        if found is None:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: a dataset batch holds only arrays, lists and "
                f"strings")
        return found


def load_pickle(source: str | os.PathLike[str] | IO[bytes]) -> Any:
    """Read a pickled dataset batch (Python 2 strings decoded as latin-1) without executing
    code from the file: only NumPy arrays and builtin containers can come out."""
    if hasattr(source, "read"):
        return _ArrayUnpickler(source, encoding="latin1").load()  # type: ignore[arg-type]
    with open(os.fspath(source), "rb") as fh:  # type: ignore[arg-type]
        return _ArrayUnpickler(fh, encoding="latin1").load()


def _safe_extract(archive: str, dest: str) -> None:
    """Unpack a tar archive refusing links, devices and paths that leave ``dest``."""
    dest_real = os.path.realpath(dest)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()
        for m in members:
            target = os.path.realpath(os.path.join(dest, m.name))
            if not (m.isfile() or m.isdir()) or os.path.commonpath([dest_real, target]) != dest_real:
                raise RuntimeError(f"{archive} contains {m.name!r}, which is not a plain file "
                                   f"inside the dataset folder; refusing to unpack it")
        for m in members:
            if m.isdir():
                os.makedirs(os.path.join(dest, m.name), exist_ok=True)
                continue
            src = tar.extractfile(m)
            assert src is not None
            path = os.path.join(dest, m.name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with src, open(path, "wb") as out:
                while block := src.read(1 << 20):
                    out.write(block)


class CIFAR10(ImageDataset):
    """CIFAR-10: 50,000 training and 10,000 test 32x32 colour images in 10 classes.

    Args:
        root: directory holding ``cifar-10-batches-py/`` (the archive is saved here too).
        train: the training batches if True, else the test batch.
        transform, target_transform: applied to each image / target.
        download: fetch and unpack the archive unless every batch file is present and valid.

    Attributes: ``data`` (uint8 array (N, 32, 32, 3)), ``targets`` (list of ints), ``classes``
    and ``class_to_idx`` (from the archive's meta file).  The class attributes ``mirrors``,
    ``filename``, ``tgz_md5``, ``train_list``/``test_list`` ((file, md5) pairs) and ``meta``
    may be overridden, e.g. for a local mirror.
    """

    base_folder: ClassVar[str] = "cifar-10-batches-py"
    mirrors: ClassVar[list[str]] = ["https://www.cs.toronto.edu/~kriz/"]
    filename: ClassVar[str] = "cifar-10-python.tar.gz"
    tgz_md5: ClassVar[str | None] = "c58f30108f718f92721af3b95e74349a"
    train_list: ClassVar[list[tuple[str, str | None]]] = [
        ("data_batch_1", "c99cafc152244af753f735de768cd75f"),
        ("data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"),
        ("data_batch_3", "54ebc095f3ab1f0389bbae665268c751"),
        ("data_batch_4", "634d18415352ddfa80567beed471001a"),
        ("data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"),
    ]
    test_list: ClassVar[list[tuple[str, str | None]]] = [
        ("test_batch", "40351d587109b95175f43aff81a1287e"),
    ]
    meta: ClassVar[dict[str, Any]] = {"filename": "batches.meta", "key": "label_names",
                                      "md5": "5ff9c542aee3614f3951f8cda6e48888"}
    label_key: ClassVar[str] = "labels"
    def __init__(self, root: str | os.PathLike[str], train: bool = True,
                 transform: Callable[[Any], Any] | None = None,
                 target_transform: Callable[[Any], Any] | None = None,
                 download: bool = False) -> None:
        self._store(root, train, transform, target_transform)
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError(f"Dataset not found or corrupted in {self.folder}. You can use "
                               f"download=True to download it")
        chunks, targets = [], []
        for name, _ in (self.train_list if self.train else self.test_list):
            entry = self._read(os.path.join(self.folder, name))
            data, labels = entry.get("data"), entry.get(self.label_key, entry.get("labels"))
            if not isinstance(data, np.ndarray) or data.dtype != np.uint8 or data.ndim != 2 \
                    or data.shape[1] != 3072 or labels is None or len(labels) != len(data):
                raise RuntimeError(f"{name} in {self.folder} does not hold uint8 images (N, 3072) "
                                   f"with one label each; delete it and download it again.")
            chunks.append(data)
            targets.extend(int(v) for v in labels)
        self.data = np.vstack(chunks).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
        self.targets = targets
        self._load_meta()

    @property
    def folder(self) -> str:
        return os.path.join(self.root, self.base_folder)

    @staticmethod
    def _read(path: str) -> dict[str, Any]:
        try:
            entry = load_pickle(path)
        except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
                IndexError, KeyError, OSError) as exc:
            raise RuntimeError(f"Could not read {path} ({exc}); the file is corrupt. Delete it "
                               f"and use download=True (or copy a good file there).") from exc
        if not isinstance(entry, dict):
            raise RuntimeError(f"{path} holds a {type(entry).__name__}, not a dataset batch; "
                               f"delete it and download it again.")
        return entry

    def _load_meta(self) -> None:
        path = os.path.join(self.folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use "
                               "download=True to download it")
        self.classes = [str(c) for c in self._read(path)[self.meta["key"]]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _check_integrity(self) -> bool:
        return all(check_integrity(os.path.join(self.folder, name), md5)
                   for name, md5 in self.train_list + self.test_list)

    def download(self) -> None:
        """Fetch the archive (kept only when its checksum matches) and unpack it."""
        if self._check_integrity():
            return
        archive = os.path.join(self.root, self.filename)
        download_url([base + self.filename for base in self.mirrors], archive, md5=self.tgz_md5,
                     retries=self.download_retries, backoff=self.download_backoff,
                     timeout=self.download_timeout)
        try:
            _safe_extract(archive, self.root)
        except tarfile.TarError as exc:
            raise RuntimeError(f"Could not unpack {archive} ({exc}); delete it and download it "
                               f"again.") from exc

    def _image(self, index: int) -> np.ndarray:
        return self.data[index]

    def __len__(self) -> int:
        return len(self.data)

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100: like :class:`CIFAR10` with 100 fine classes (``targets``)."""

    base_folder: ClassVar[str] = "cifar-100-python"
    filename: ClassVar[str] = "cifar-100-python.tar.gz"
    tgz_md5: ClassVar[str | None] = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list: ClassVar[list[tuple[str, str | None]]] = [
        ("train", "16019d7e3df5f24257cddd939b257f8d")]
    test_list: ClassVar[list[tuple[str, str | None]]] = [
        ("test", "f0ef6b0ae62326f3e7ffdfab6717acfc")]
    meta: ClassVar[dict[str, Any]] = {"filename": "meta", "key": "fine_label_names",
                                      "md5": "7973b15100ade9c7d40fb424638fde48"}
    label_key: ClassVar[str] = "fine_labels"
