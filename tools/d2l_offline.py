"""Offline stand-ins for what the d2l book downloads, and the caps that keep its chapters small.

The d2l package (``pip install --no-deps d2l``) fetches Fashion-MNIST, the Time Machine text,
the English-French pairs and the Kaggle house prices from the network. This module writes small
files of the same formats, generated from a seed (nothing here comes from those datasets), and
`install` points a loaded ``d2l.torch`` at them:

    write_fashion_mnist(root)        <root>/FashionMNIST/raw/*-ubyte (IDX), as torchvision keeps them
    time_machine_text()              English-like prose for d2l.TimeMachine
    write_fra_eng_zip(path)          fra-eng.zip holding fra-eng/fra.txt (tab-separated pairs)
    write_house_csvs(folder)         kaggle_house_pred_{train,test}.csv
    install(d2l, max_epochs=, max_batches=)
                                     d2l.download serves the files above (and refuses any other URL
                                     with NeedsDownload); optional caps on epochs and batches

Used by tools/d2l_chapters.py (the book's sections under ``ndgrad run``) and by tests/d2l/.
"""
from __future__ import annotations

import itertools
import os
import zipfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

FASHION_FILES = {True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
                 False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


class NeedsDownload(RuntimeError):
    """A d2l helper asked for a file this module has no offline stand-in for."""


# ---------------------------------------------------------------------------------------------------------
# Fashion-MNIST-shaped images: ten classes of blob patterns, shifted, dimmed and noisy
# ---------------------------------------------------------------------------------------------------------
def fashion_mnist_arrays(n: int, seed: int = 0, train: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """`n` uint8 images (n, 28, 28) and int labels in 0..9. The class templates depend only on
    `seed`, the samples also on `train`, so train and test sets share classes but not images."""
    yy, xx = np.mgrid[0:28, 0:28].astype(np.float64)
    trng = np.random.default_rng(seed)
    templates = np.zeros((10, 28, 28))
    for c in range(10):
        for _ in range(3):
            cy, cx = trng.uniform(6, 22, size=2)
            sy, sx = trng.uniform(2.0, 6.0, size=2)
            templates[c] += np.exp(-((yy - cy) ** 2 / (2 * sy ** 2) + (xx - cx) ** 2 / (2 * sx ** 2)))
    templates = 255 * templates / templates.max(axis=(1, 2), keepdims=True)
    rng = np.random.default_rng([seed, 1 if train else 2])
    labels = rng.integers(0, 10, size=n)
    shifts = rng.integers(-2, 3, size=(n, 2))
    images = np.empty((n, 28, 28))
    for i, (c, (dy, dx)) in enumerate(zip(labels, shifts)):
        images[i] = np.roll(templates[c], (dy, dx), axis=(0, 1))
    images *= rng.uniform(0.6, 1.0, size=(n, 1, 1))
    images += rng.normal(0, 30, size=images.shape)
    return np.clip(images, 0, 255).astype(np.uint8), labels.astype(np.uint8)


def write_fashion_mnist(root: str | os.PathLike[str], n_train: int = 512, n_test: int = 256,
                        seed: int = 0) -> Path:
    """Write uncompressed IDX files into <root>/FashionMNIST/raw (found there by ndgrad.vision's and
    torchvision's FashionMNIST without downloading); returns the raw folder."""
    from ndgrad.datasets import write_idx
    raw = Path(root) / "FashionMNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for train, n in ((True, n_train), (False, n_test)):
        images, labels = fashion_mnist_arrays(n, seed, train)
        image_file, label_file = FASHION_FILES[train]
        write_idx(raw / image_file, images, compress=False)
        write_idx(raw / label_file, labels, compress=False)
    return raw


# ---------------------------------------------------------------------------------------------------------
# text: English-like prose, and English-French sentence pairs
# ---------------------------------------------------------------------------------------------------------
_SUBJECTS = ["the traveller", "the doctor", "the time machine", "a young man", "the psychologist", "my friend",
             "the old clock", "the medical man", "the machine", "the provincial mayor", "the lamp", "the night"]
_VERBS = ["saw", "told", "moved", "stood", "looked at", "came to", "held", "turned", "followed", "made", "left",
          "found", "heard", "felt", "thought of", "went into"]
_OBJECTS = ["the room", "the fire", "a small model", "the future", "the laboratory", "the garden", "the hour",
            "the dim light", "the strange thing", "his hand", "the white sphinx", "the great hall", "the world",
            "the dark", "the little people", "a candle"]
_TAILS = ["", "", " and laughed", " in silence", " for a moment", " with some surprise", " again", " at last"]


def time_machine_text(n_sentences: int = 2000, seed: int = 0) -> str:
    """Prose of simple sentences from a fixed vocabulary, in paragraphs, with a title line."""
    rng = np.random.default_rng(seed)
    pick = lambda words: words[int(rng.integers(len(words)))]  # noqa: E731
    lines = ["The Time Machine, an offline stand-in", ""]
    para: list[str] = []
    for _ in range(n_sentences):
        s = f"{pick(_SUBJECTS)} {pick(_VERBS)} {pick(_OBJECTS)}{pick(_TAILS)}"
        para.append(s[0].upper() + s[1:] + pick([".", ".", ".", "!", "?", ";"]))
        if len(para) == 5:
            lines += [" ".join(para[i:i + 2]) for i in range(0, 5, 2)] + [""]
            para = []
    return "\n".join(lines) + "\n"


_PERSONS = [("i", "je"), ("you", "tu"), ("he", "il"), ("she", "elle"), ("we", "nous"), ("they", "ils")]
_FR_VERBS = {  # English (first person / third person singular) -> French conjugation by person
    ("see", "sees"): ["vois", "vois", "voit", "voit", "voyons", "voient"],
    ("like", "likes"): ["aime", "aimes", "aime", "aime", "aimons", "aiment"],
    ("want", "wants"): ["veux", "veux", "veut", "veut", "voulons", "veulent"],
    ("have", "has"): ["ai", "as", "a", "a", "avons", "ont"],
    ("find", "finds"): ["trouve", "trouves", "trouve", "trouve", "trouvons", "trouvent"],
}
_NOUNS = [("the cat", "le chat"), ("the dog", "le chien"), ("the house", "la maison"), ("the car", "la voiture"),
          ("the book", "le livre"), ("the tree", "l'arbre"), ("the bread", "le pain"), ("the sea", "la mer"),
          ("a friend", "un ami"), ("the city", "la ville"), ("the water", "l'eau"), ("the train", "le train")]


def fra_eng_text(n_pairs: int = 1000, seed: int = 0) -> str:
    """Tab-separated English / French sentence pairs (as fra.txt), some with the non-breaking spaces
    French punctuation takes."""
    rng = np.random.default_rng(seed)
    verbs = list(_FR_VERBS.items())
    out = []
    for _ in range(n_pairs):
        p = int(rng.integers(len(_PERSONS)))
        (en_verb, fr_forms) = verbs[int(rng.integers(len(verbs)))]
        en_noun, fr_noun = _NOUNS[int(rng.integers(len(_NOUNS)))]
        en_v = en_verb[1] if p in (2, 3) else en_verb[0]
        subj_en, subj_fr = _PERSONS[p]
        fr_v = fr_forms[p]
        if subj_fr == "je" and fr_v[0] in "aeiou":
            subj_fr, sep = "j'", ""
        else:
            sep = " "
        mark = [".", "!", "?"][int(rng.integers(3))]
        fr_mark = "." if mark == "." else "\u202f" + mark
        en = f"{subj_en.capitalize() if subj_en != 'i' else 'I'} {en_v} {en_noun}{mark}"
        fr = f"{subj_fr.capitalize()}{sep}{fr_v} {fr_noun}{fr_mark}"
        out.append(f"{en}\t{fr}")
    return "\n".join(out) + "\n"


def write_fra_eng_zip(path: str | os.PathLike[str], n_pairs: int = 1000, seed: int = 0) -> Path:
    """fra-eng.zip as d2l extracts it: a folder fra-eng/ with fra.txt."""
    path = Path(path)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("fra-eng/fra.txt", fra_eng_text(n_pairs, seed))
    return path


def write_house_csvs(folder: str | os.PathLike[str], n_train: int = 200, n_test: int = 100,
                     seed: int = 0) -> tuple[Path, Path]:
    """kaggle_house_pred_train.csv / _test.csv: Id, numeric and categorical features (some missing),
    and SalePrice (train only) that grows with size and quality."""
    rng = np.random.default_rng(seed)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    header = ["Id", "MSSubClass", "MSZoning", "LotFrontage", "LotArea", "Street", "OverallQual",
              "YearBuilt", "GrLivArea", "SaleCondition"]
    paths = []
    for name, n, first in (("train", n_train, 1), ("test", n_test, n_train + 1)):
        rows = [",".join(header + (["SalePrice"] if name == "train" else []))]
        for i in range(n):
            area = rng.uniform(600, 3000)
            qual = int(rng.integers(1, 11))
            year = int(rng.integers(1900, 2010))
            frontage = "NA" if rng.random() < 0.1 else f"{rng.uniform(30, 120):.0f}"
            zoning = ["RL", "RM", "FV", "RH"][int(rng.integers(4))] if rng.random() > 0.02 else "NA"
            cols = [str(first + i), str(int(rng.choice([20, 60, 120]))), zoning, frontage,
                    f"{rng.uniform(2000, 20000):.0f}", ["Pave", "Grvl"][int(rng.random() < 0.05)], str(qual),
                    str(year), f"{area:.0f}", ["Normal", "Abnorml", "Partial"][int(rng.integers(3))]]
            if name == "train":
                price = 20000 + 60 * area + 15000 * qual + 300 * (year - 1900)
                cols.append(f"{price * rng.lognormal(0, 0.1):.0f}")
            rows.append(",".join(cols))
        path = folder / f"kaggle_house_pred_{name}.csv"
        path.write_text("\n".join(rows) + "\n")
        paths.append(path)
    return paths[0], paths[1]


# ---------------------------------------------------------------------------------------------------------
# pointing a loaded d2l at the stand-ins
# ---------------------------------------------------------------------------------------------------------
def _writers() -> dict[str, Callable[[Path], Any]]:
    return {
        "timemachine.txt": lambda p: p.write_text(time_machine_text()),
        "fra-eng.zip": write_fra_eng_zip,
        "kaggle_house_pred_train.csv": lambda p: write_house_csvs(p.parent),
        "kaggle_house_pred_test.csv": lambda p: write_house_csvs(p.parent),
    }


def install(d2l: Any, max_epochs: int | None = None, max_batches: int | None = None) -> None:
    """Make `d2l.download` serve the generated files (writing each on first use into the folder the
    book asks for) and raise NeedsDownload for anything else. With `max_epochs`, d2l.Trainer and the
    train_ch* helpers run at most that many epochs; with `max_batches`, every DataLoader yields at
    most that many batches (and says so in len())."""
    writers = _writers()

    def download(url: str, folder: str = "../data", sha1_hash: str | None = None) -> str:
        if not url.startswith("http"):
            url, sha1_hash = d2l.DATA_HUB[url]
        name = url.split("/")[-1]
        if name not in writers:
            raise NeedsDownload(f"{url} needs a download (no offline stand-in for {name})")
        path = Path(folder) / name
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            writers[name](path)
        return str(path)
    d2l.download = download

    if max_epochs is not None:
        _cap_epochs(d2l, max_epochs)
    if max_batches is not None:
        _cap_batches(d2l.torch.utils.data.DataLoader, max_batches)


def _cap_epochs(d2l: Any, cap: int) -> None:
    init = d2l.Trainer.__init__

    def __init__(self: Any, max_epochs: int, *args: Any, **kwargs: Any) -> None:
        init(self, min(max_epochs, cap), *args, **kwargs)
    d2l.Trainer.__init__ = __init__
    for name, pos in (("train_ch6", 3), ("train_seq2seq", 3), ("train_ch11", 4), ("train_ch13", 5)):
        fn = getattr(d2l, name, None)
        if fn is not None:
            setattr(d2l, name, _capped_arg(fn, pos, "num_epochs", cap))


def _capped_arg(fn: Callable[..., Any], pos: int, name: str, cap: int) -> Callable[..., Any]:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if len(args) > pos:
            args = (*args[:pos], min(args[pos], cap), *args[pos + 1:])
        elif name in kwargs:
            kwargs[name] = min(kwargs[name], cap)
        return fn(*args, **kwargs)
    wrapper.__name__ = fn.__name__
    return wrapper


def _cap_batches(loader_cls: type, cap: int) -> None:
    iter_, len_ = loader_cls.__iter__, loader_cls.__len__
    loader_cls.__iter__ = lambda self: itertools.islice(iter_(self), cap)
    loader_cls.__len__ = lambda self: min(len_(self), cap)
