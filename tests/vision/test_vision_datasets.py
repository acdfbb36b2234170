"""ndgrad.vision.datasets on files the tests write (IDX, pickled CIFAR batches, a folder of PNGs),
compared with torchvision reading the same files (live or recorded through `tv_ref`)."""
from __future__ import annotations

import hashlib
import io
import os
import pickle
import tarfile
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad import datasets as core
from ndgrad.datasets import write_idx
from ndgrad.utils.data import DataLoader
from ndgrad.vision import datasets as D
from ndgrad.vision import transforms as T

Image = pytest.importorskip("PIL.Image")


def md5(path: Any) -> str:
    return hashlib.md5(open(path, "rb").read(), usedforsecurity=False).hexdigest()


def pil_plain(sample: Any) -> Any:
    img, target = sample
    return (img.mode, np.asarray(img), target)


def assert_same_sample(got: Any, want: Any) -> None:
    assert got[0] == want[0] and got[2] == want[2]
    np.testing.assert_array_equal(got[1], want[1])


# -- MNIST family ---------------------------------------------------------------------------

def write_mnist(root: Any, name: str, n: int = 6) -> np.ndarray:
    raw = root / name / "raw"
    raw.mkdir(parents=True)
    images = np.random.default_rng(42).integers(0, 256, (n, 28, 28), dtype=np.uint8)
    for split in ("train", "t10k"):  # extracted, as torchvision leaves them after a download
        write_idx(raw / f"{split}-images-idx3-ubyte", images)
        write_idx(raw / f"{split}-labels-idx1-ubyte", np.arange(n, dtype=np.uint8) % 10)
    return images


@pytest.mark.parametrize("name", ["MNIST", "FashionMNIST", "KMNIST"])
def test_mnist_family(tmp_path: Any, monkeypatch: Any, tv_ref: Any, name: str) -> None:
    monkeypatch.chdir(tmp_path)
    images = write_mnist(tmp_path / "data", name)
    tf = T.Compose([T.ToTensor(), T.Normalize((0.5,), (0.5,))])

    def theirs(torch: Any, tv: Any) -> Any:
        import torchvision.transforms as TT
        ds = getattr(tv.datasets, name)("data", train=False)
        with_tf = getattr(tv.datasets, name)(
            "data", transform=TT.Compose([TT.ToTensor(), TT.Normalize((0.5,), (0.5,))]),
            target_transform=abs)
        return [pil_plain(ds[i]) for i in range(3)], ds.classes, repr(ds), repr(with_tf), \
            with_tf[2][0]
    samples, classes, text, text_tf, transformed = tv_ref(name, theirs)
    ds = getattr(D, name)("data", train=False)
    for i in range(3):
        assert_same_sample(pil_plain(ds[i]), samples[i])
    np.testing.assert_array_equal(np.asarray(ds[4][0]), images[4])
    assert ds.classes == classes and len(ds) == 6
    assert repr(ds) == text
    with_tf = getattr(D, name)("data", transform=tf, target_transform=abs)
    assert repr(with_tf) == text_tf
    np.testing.assert_allclose(with_tf[2][0].numpy(), transformed, rtol=1e-6)
    # one implementation, two sample types: ndgrad.datasets gives tensors from the same files
    plain = getattr(core, name)("data", train=False)
    assert isinstance(ds, type(plain)) and isinstance(plain[0][0], ndgrad.Tensor)
    np.testing.assert_array_equal(plain[1][0].numpy(), np.asarray(ds[1][0]))


# -- CIFAR ------------------------------------------------------------------------------------

def write_cifar(folder: Any, hundred: bool, n: int = 5) -> dict[str, Any]:
    """Batches shaped like the real ones: dicts of a uint8 (N, 3072) array and label lists,
    pickled with protocol 2 as the originals were."""
    folder.mkdir(parents=True)
    label_key = "fine_labels" if hundred else "labels"
    files = ["train", "test"] if hundred else ["data_batch_1", "data_batch_2", "test_batch"]
    out: dict[str, Any] = {}
    rng = np.random.default_rng(43)  # every helper has its own stream: data never depends on
    for i, fname in enumerate(files):  # which tests ran before
        data = rng.integers(0, 256, (n + i, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 4, n + i)]
        entry = {"batch_label": f"batch {i}", label_key: labels, "data": data,
                 "filenames": [f"img{k}.png" for k in range(n + i)]}
        if hundred:
            entry["coarse_labels"] = [v // 2 for v in labels]
        (folder / fname).write_bytes(pickle.dumps(entry, protocol=2))
        out[fname] = entry
    meta = {"fine_label_names" if hundred else "label_names": ["ant", "bee", "cat", "dog"]}
    (folder / ("meta" if hundred else "batches.meta")).write_bytes(pickle.dumps(meta, protocol=2))
    return out


def local_cifar(base: Any, folder: Any, **extra: Any) -> Any:
    """A subclass of ``base`` whose checksums are those of the files in ``folder``."""
    def lst(names: list[str]) -> list[tuple[str, str]]:
        return [(n, md5(folder / n)) for n in names]
    hundred = "100" in base.__name__
    train = ["train"] if hundred else ["data_batch_1", "data_batch_2"]
    test = ["test"] if hundred else ["test_batch"]
    meta = dict(base.meta, md5=md5(folder / base.meta["filename"]))
    attrs = {"train_list": lst(train), "test_list": lst(test), "meta": meta, **extra}
    return type(base.__name__, (base,), attrs)


@pytest.mark.parametrize("name", ["CIFAR10", "CIFAR100"])
def test_cifar_reads_pickled_batches(tmp_path: Any, monkeypatch: Any, tv_ref: Any,
                                     name: str) -> None:
    monkeypatch.chdir(tmp_path)
    base_folder = getattr(D, name).base_folder
    entries = write_cifar(tmp_path / "data" / base_folder, name == "CIFAR100")

    def theirs(torch: Any, tv: Any) -> Any:
        cls = local_cifar(getattr(tv.datasets, name), tmp_path / "data" / base_folder)
        train, test = cls("data"), cls("data", train=False)
        return ([pil_plain(train[i]) for i in (0, 2, 4)], pil_plain(test[1]), train.classes,
                train.targets, repr(train), len(test))
    samples, test_sample, classes, targets, text, n_test = tv_ref(name, theirs)
    cls = local_cifar(getattr(D, name), tmp_path / "data" / base_folder)
    train, test = cls("data"), cls("data", train=False)
    for got, want in zip([pil_plain(train[i]) for i in (0, 2, 4)], samples):
        assert_same_sample(got, want)
    assert_same_sample(pil_plain(test[1]), test_sample)
    assert train.classes == classes and train.targets == targets and len(test) == n_test
    assert train.class_to_idx == {"ant": 0, "bee": 1, "cat": 2, "dog": 3}
    assert repr(train) == text
    first = next(iter(entries.values()))
    np.testing.assert_array_equal(np.asarray(train[0][0]),
                                  first["data"][0].reshape(3, 32, 32).transpose(1, 2, 0))
    # the core class gives channel-first uint8 tensors from the same files
    core_cls = local_cifar(getattr(core, name), tmp_path / "data" / base_folder)
    img, _ = core_cls("data")[0]
    np.testing.assert_array_equal(img.numpy(), first["data"][0].reshape(3, 32, 32))


def _archive(src_root: Any, folder_name: str) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        tar.add(src_root / folder_name, arcname=folder_name)
    return buf.getvalue()


def test_cifar_download_checksums_and_corruption(tmp_path: Any) -> None:
    src = tmp_path / "src"
    write_cifar(src / "cifar-10-batches-py", hundred=False)
    served = tmp_path / "served"
    served.mkdir()
    (served / "cifar-10-python.tar.gz").write_bytes(_archive(src, "cifar-10-batches-py"))
    fast = {"mirrors": [served.as_uri() + "/"], "download_retries": 0, "download_backoff": 0.0}
    good = local_cifar(D.CIFAR10, src / "cifar-10-batches-py",
                       tgz_md5=md5(served / "cifar-10-python.tar.gz"), **fast)
    root = tmp_path / "root"
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        good(root)
    ds = good(root, download=True)
    assert len(ds) == 11 and (root / "cifar-10-python.tar.gz").exists()
    assert len(good(root, train=False, download=True)) == 7  # valid files: no new download
    # a wrong archive checksum: clear error, nothing kept
    bad = local_cifar(D.CIFAR10, src / "cifar-10-batches-py", tgz_md5="0" * 32, **fast)
    other = tmp_path / "other"
    with pytest.raises(RuntimeError, match="checksum mismatch"):
        bad(other, download=True)
    assert not other.exists() or sorted(os.listdir(other)) == []
    # a corrupt batch file fails its checksum ...
    batch = root / "cifar-10-batches-py" / "data_batch_2"
    batch.write_bytes(batch.read_bytes()[:-10])
    with pytest.raises(RuntimeError, match="corrupted"):
        good(root)
    assert len(good(root, download=True)) == 11  # ... and download=True unpacks it again
    # without checksums a damaged pickle is still a clear error
    unchecked = type("CIFAR10", (D.CIFAR10,), {"train_list": [("data_batch_1", None)],
                                                "test_list": [], "meta": dict(good.meta)})
    (root / "cifar-10-batches-py" / "data_batch_1").write_bytes(b"\x80\x02}q\x00(X")
    with pytest.raises(RuntimeError, match="the file is corrupt"):
        unchecked(root)


class _Evil:
    def __reduce__(self) -> Any:
        return (os.system, ("echo owned > pwned.txt",))


def test_cifar_pickles_cannot_run_code(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "cifar-10-batches-py"
    write_cifar(folder, hundred=False)
    (folder / "data_batch_1").write_bytes(pickle.dumps({"data": _Evil()}, protocol=2))
    cls = type("CIFAR10", (D.CIFAR10,), {"train_list": [("data_batch_1", None)], "test_list": []})
    with pytest.raises(RuntimeError, match="refusing to load"):
        cls(tmp_path)
    assert not (tmp_path / "pwned.txt").exists()
    # archives with links or paths leaving the folder are refused
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 2
        tar.addfile(info, io.BytesIO(b"hi"))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "cifar-10-python.tar.gz").write_bytes(buf.getvalue())
    bad = type("CIFAR10", (D.CIFAR10,), {"tgz_md5": None, "mirrors": [], "train_list": [],
                                         "test_list": [("test_batch", "0" * 32)]})
    with pytest.raises(RuntimeError, match="refusing to unpack"):
        bad(tmp_path / "r", download=True)
    assert not (tmp_path / "escape.txt").exists()


# -- folders ----------------------------------------------------------------------------------

def write_image_folder(root: Any) -> None:
    rng = np.random.default_rng(44)
    layout = {"cat": ["b.png", "a.PNG", "sub/c.png", "notes.txt"], "dog": ["x.bmp", "y.jpg"],
              "zebra": ["z.png"]}
    for cls, files in layout.items():
        for f in files:
            path = root / cls / f
            path.parent.mkdir(parents=True, exist_ok=True)
            if f.endswith(".txt"):
                path.write_text("not an image")
                continue
            arr = rng.integers(0, 256, (5, 7, 3) if f != "x.bmp" else (5, 7), dtype=np.uint8)
            Image.fromarray(arr).save(path, quality=100) if f.endswith(".jpg") else \
                Image.fromarray(arr).save(path)


def test_image_folder(tmp_path: Any, monkeypatch: Any, tv_ref: Any) -> None:
    monkeypatch.chdir(tmp_path)
    write_image_folder(tmp_path / "imgs")

    def theirs(torch: Any, tv: Any) -> Any:
        import torchvision.transforms as TT
        ds = tv.datasets.ImageFolder("imgs")
        tf = tv.datasets.ImageFolder("imgs", transform=TT.Compose([TT.Resize(3), TT.ToTensor()]))
        return (ds.classes, ds.class_to_idx, ds.samples, ds.targets,
                [pil_plain(ds[i]) for i in range(len(ds))], repr(tf), tf[1][0])
    classes, class_to_idx, samples, targets, images, text, transformed = tv_ref("folder", theirs)
    ds = D.ImageFolder("imgs")
    assert ds.classes == classes and ds.class_to_idx == class_to_idx
    assert [list(s) for s in ds.samples] == [list(s) for s in samples] and ds.imgs is ds.samples
    assert ds.targets == targets
    for i, want in enumerate(images):
        assert_same_sample(pil_plain(ds[i]), want)
    tf = D.ImageFolder("imgs", transform=T.Compose([T.Resize(3), T.ToTensor()]))
    assert repr(tf) == text
    np.testing.assert_allclose(tf[1][0].numpy(), transformed, rtol=1e-6)


def test_dataset_folder_rules(tmp_path: Any) -> None:
    write_image_folder(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="Found no valid file for the classes empty"):
        D.ImageFolder(tmp_path)
    ds = D.ImageFolder(tmp_path, allow_empty=True)
    assert ds.classes == ["cat", "dog", "empty", "zebra"] and len(ds) == 6
    texts = D.DatasetFolder(tmp_path, loader=lambda p: open(p).read(), extensions=(".txt",),
                            allow_empty=True)
    assert len(texts) == 1 and texts[0] == ("not an image", 0)
    only_png = D.ImageFolder(tmp_path, is_valid_file=lambda p: p.endswith(".png"),
                             allow_empty=True)
    assert [os.path.basename(p) for p, _ in only_png.samples] == ["b.png", "c.png", "z.png"]
    with pytest.raises(ValueError, match="cannot be None or not None"):
        D.DatasetFolder(tmp_path, loader=print, extensions=(".png",), is_valid_file=bool)
    with pytest.raises(FileNotFoundError, match="Couldn't find any class folder"):
        D.ImageFolder(tmp_path / "empty")


# -- FakeData and a loader --------------------------------------------------------------------

def test_fake_data_and_a_loader() -> None:
    ds = D.FakeData(size=10, image_size=(3, 8, 6), num_classes=4,
                    transform=T.ToTensor(), random_offset=3)
    a, b = ds[2], ds[2]
    np.testing.assert_array_equal(a[0].numpy(), b[0].numpy())
    assert tuple(a[0].shape) == (3, 8, 6) and 0 <= a[1] < 4 and len(ds) == 10
    assert not np.array_equal(ds[3][0].numpy(), a[0].numpy())
    assert D.FakeData(size=2, image_size=(1, 4, 4))[0][0].mode == "L"
    with pytest.raises(IndexError, match="out of range"):
        ds[10]
    assert repr(D.FakeData(size=2)) == "Dataset FakeData\n    Number of datapoints: 2"
    images, labels = next(iter(DataLoader(ds, batch_size=4)))
    assert tuple(images.shape) == (4, 3, 8, 6) and labels.dtype == ndgrad.int64
