"""Run real PyTorch programs unmodified under `ndgrad run` (and under PyTorch when installed) and report.

    python tools/run_clients.py CLIENTS_DIR                 # every program; the markdown table on stdout
    python tools/run_clients.py CLIENTS_DIR -k mnist -v     # rows whose name has "mnist"; show their output
    python tools/run_clients.py CLIENTS_DIR --out docs/compat.md

Each row of PROGRAMS names a program in a fetched repository (a folder under the given path, e.g.
``pytorch+examples``), the tiny arguments it runs with, and how to make its data locally: nothing is
downloaded; where a program downloads, a small stand-in (synthetic MNIST files, a Cora-shaped graph, a
CartPole, ...) is written into a temporary copy first. The program runs twice from identical copies:
`python -m ndgrad run` and plain `python` (PyTorch), each in a fresh process with a timeout.

Reported per row: whether it ran, the error's last line if not, whether the printed losses match
PyTorch's (exactly when the program does not draw random numbers before its first loss; otherwise the
RNG streams differ and only the trajectories can be compared), and ms per step for both, measured
between the first and last loss line (start-up, imports and data preparation excluded).

Add a program by adding a `Program(...)` row (and, if it needs data, a `prepare` function).
"""
from __future__ import annotations

import argparse
import gzip  # noqa: F401  (kept for stand-ins that want compressed files)
import io
import math
import os
import pickle
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------------------------------------------------
# local stand-ins for the data programs would download
# ---------------------------------------------------------------------------------------------------------
def _mnist_files(root: Path, train: int = 320, test: int = 160) -> None:
    """<root>/MNIST/raw/*-ubyte: synthetic digits (a class-dependent bar on noise), torchvision's layout."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for prefix, n in (("train", train), ("t10k", test)):
        labels = rng.integers(0, 10, n).astype(np.uint8)
        images = (rng.random((n, 28, 28)) * 60).astype(np.uint8)
        for i, c in enumerate(labels):
            images[i, 4 + 2 * c: 6 + 2 * c, 4:24] = 255
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


def _corpus(path: Path, words: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    vocab = ["the", "a", "cat", "dog", "sat", "on", "mat", "ran", "to", "house", "big", "small", "and", "it"]
    lines = [" ".join(vocab[i] for i in rng.integers(0, len(vocab), 12)) for _ in range(words // 12)]
    path.write_text("\n".join(lines) + "\n")


def prepare_mnist(work: Path) -> None:
    _mnist_files(work / "data")


def prepare_mnist_tutorials(work: Path) -> None:
    """yunjey's tutorials read ../../data and log every 100 steps: 10,000 training images."""
    _mnist_files(work / "tutorials" / "data", train=10000, test=1000)


def prepare_wikitext(work: Path) -> None:
    d = work / "tiny-corpus"
    d.mkdir()
    for name, n, seed in (("train.txt", 1200, 0), ("valid.txt", 240, 1), ("test.txt", 240, 2)):
        _corpus(d / name, n, seed)


def prepare_bsds(work: Path) -> None:
    from PIL import Image
    rng = np.random.default_rng(0)
    for split, n in (("train", 8), ("test", 4)):
        d = work / "super_resolution" / "dataset" / "BSDS300" / "images" / split
        d.mkdir(parents=True)
        for i in range(n):
            img = (rng.random((260, 260, 3)) * 255).astype(np.uint8)
            Image.fromarray(img).save(d / f"{i}.jpg")


def prepare_cora(work: Path) -> None:
    """A Cora-shaped citation graph (cora/cora.content, cora/cora.cites) packed as cora.tgz, and a `requests`
    stand-in beside the script that serves it instead of downloading."""
    rng = np.random.default_rng(0)
    n, f, classes = 1600, 40, ["Case_Based", "Genetic_Algorithms", "Neural_Networks", "Theory"]
    ids = rng.permutation(100000)[:n] + 1
    labels = rng.integers(0, len(classes), n)
    feats = (rng.random((n, f)) < 0.1).astype(int)
    feats[np.arange(n), labels * (f // 4)] = 1
    content = "\n".join(f"{ids[i]}\t" + "\t".join(map(str, feats[i])) + f"\t{classes[labels[i]]}" for i in range(n))
    edges = [(ids[i], ids[j]) for i in range(n) for j in rng.integers(0, n, 3) if i != j]
    cites = "\n".join(f"{a}\t{b}" for a, b in edges)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, text in (("cora/cora.content", content), ("cora/cora.cites", cites)):
            data = (text + "\n").encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    (work / "gcn" / "cora.tgz").write_bytes(buf.getvalue())
    (work / "gcn" / "requests.py").write_text(textwrap.dedent('''
        """Stand-in for `requests` (run_clients.py): serves the local cora.tgz instead of downloading."""
        import os

        class _Response:
            def __init__(self):
                self.raw = open(os.path.join(os.path.dirname(__file__), "cora.tgz"), "rb")
            def __enter__(self):
                return self
            def __exit__(self, *exc):
                self.raw.close()

        def get(url, stream=False, **kwargs):
            return _Response()
        '''))


def prepare_gym(work: Path) -> None:
    """A `gymnasium` stand-in with a CartPole (the classic cart-pole physics) beside the RL scripts; its
    reward threshold is low so that the scripts' "Solved!" loop ends after a few episodes."""
    (work / "reinforcement_learning" / "gymnasium.py").write_text(textwrap.dedent('''
        """Stand-in for `gymnasium` (run_clients.py): CartPole-v1 only."""
        import math
        import random

        import numpy as np

        class _Spec:
            reward_threshold = 30.0

        class CartPole:
            spec = _Spec()

            def __init__(self):
                self.rng = random.Random(0)
                self.state = None

            def reset(self, seed=None):
                if seed is not None:
                    self.rng = random.Random(seed)
                self.state = [self.rng.uniform(-0.05, 0.05) for _ in range(4)]
                return np.array(self.state, dtype=np.float32), {}

            def step(self, action):
                x, x_dot, th, th_dot = self.state
                force = 10.0 if action == 1 else -10.0
                cos, sin = math.cos(th), math.sin(th)
                temp = (force + 0.05 * th_dot ** 2 * sin) / 1.1
                th_acc = (9.8 * sin - cos * temp) / (0.5 * (4.0 / 3.0 - 0.1 * cos ** 2 / 1.1))
                x_acc = temp - 0.05 * th_acc * cos / 1.1
                x, x_dot = x + 0.02 * x_dot, x_dot + 0.02 * x_acc
                th, th_dot = th + 0.02 * th_dot, th_dot + 0.02 * th_acc
                self.state = [x, x_dot, th, th_dot]
                done = abs(x) > 2.4 or abs(th) > 12 * 2 * math.pi / 360
                return np.array(self.state, dtype=np.float32), 1.0, done, False, {}

            def render(self):
                pass

        def make(name, render_mode=None):
            assert name == "CartPole-v1", name
            return CartPole()
        '''))


def prepare_nanogpt(work: Path) -> None:
    d = work / "data" / "tiny_chars"
    d.mkdir(parents=True)
    text = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n\n" * 40
    chars = sorted(set(text))
    ids = np.array([chars.index(c) for c in text], dtype=np.uint16)
    cut = int(0.9 * len(ids))
    ids[:cut].tofile(d / "train.bin")
    ids[cut:].tofile(d / "val.bin")
    with open(d / "meta.pkl", "wb") as f:
        pickle.dump({"vocab_size": len(chars), "itos": dict(enumerate(chars)),
                     "stoi": {c: i for i, c in enumerate(chars)}}, f)


def prepare_chargpt(work: Path) -> None:
    text = "O God, O God! To be, or not to be, that is the question: whether 'tis nobler. "
    (work / "input.txt").write_text(text * 30)


# PyTorch-GAN: each script reads ../../data/<dataset> (relative to implementations/<name>)
def _images(folder: Path, n: int, h: int, w: int, seed: int = 0, names: str = "{:06d}.jpg") -> None:
    """n small RGB JPEGs (noise rolled by one row per image, so that they differ)."""
    from PIL import Image
    folder.mkdir(parents=True, exist_ok=True)
    base = (np.random.default_rng(seed).random((h, w, 3)) * 255).astype(np.uint8)
    for i in range(n):
        Image.fromarray(np.roll(base, i, axis=0)).save(folder / names.format(i))


def prepare_gan_mnist(work: Path) -> None:
    _mnist_files(work / "data" / "mnist", train=64, test=32)


def prepare_gan_mnistm(work: Path) -> None:
    """MNIST, and MNIST-M as its downloader leaves it (the unzipped pickle of uint8 RGB digits, the raw and
    processed folders); the loader reads MNIST's labels from `data/` beside the script."""
    prepare_gan_mnist(work)
    for name in ("cogan", "pixelda"):
        _mnist_files(work / "implementations" / name / "data", train=64, test=32)
    rng = np.random.default_rng(0)
    raw = work / "data" / "mnistm" / "raw"
    raw.mkdir(parents=True)
    (work / "data" / "mnistm" / "processed").mkdir()
    data = {b"train": (rng.random((64, 28, 28, 3)) * 255).astype(np.uint8),
            b"test": (rng.random((32, 28, 28, 3)) * 255).astype(np.uint8)}
    (raw / "keras_mnistm.pkl").write_bytes(pickle.dumps(data))


def prepare_gan_celeba(work: Path, n: int = 8) -> None:
    _images(work / "data" / "img_align_celeba", n, 48, 40)


def prepare_gan_celeba_4008(work: Path) -> None:
    """context_encoder keeps the last 4000 images for validation: 8 training images."""
    prepare_gan_celeba(work, 4008)


def prepare_gan_celeba_attrs(work: Path) -> None:
    """stargan: 2004 images (the last 2000 are its validation split) and CelebA's attribute file."""
    d = work / "data" / "img_align_celeba"
    _images(d, 2004, 40, 40)
    rng = np.random.default_rng(1)
    names = ["5_o_Clock_Shadow", "Black_Hair", "Blond_Hair", "Brown_Hair", "Male", "Young"]
    rows = [f"{i:06d}.jpg " + " ".join(rng.choice(["1", "-1"], len(names))) for i in range(2004)]
    (d / "list_attr_celeba.txt").write_text("\n".join(["2004", " ".join(names)] + rows) + "\n")


def prepare_gan_pairs(work: Path) -> None:
    """Paired (side by side, width 2h) and unpaired (A/, B/) image sets under pix2pix's and cyclegan's names."""
    for ds in ("facades", "edges2shoes"):
        for split in ("train", "val", "test"):
            _images(work / "data" / ds / split, 2, 64, 128, names="{}.jpg")
    for ds in ("monet2photo", "apple2orange"):
        for split in ("train", "test"):
            for side in "AB":
                _images(work / "data" / ds / split / side, 2, 64, 64, names="{}.jpg")


def prepare_gan_vgg19(work: Path) -> None:
    """srgan/esrgan: CelebA stand-ins and a VGG-19 checkpoint with random weights where torch.hub caches
    torchvision's (TORCH_HOME=<work>/torch_home, see `env`): 550 MB, hence a --slow row."""
    prepare_gan_celeba(work)
    ckpt = work / "torch_home" / "hub" / "checkpoints"
    ckpt.mkdir(parents=True)
    sys.path.insert(0, str(ROOT))
    import ndgrad
    rng = np.random.default_rng(0)
    shapes, cin, i = {}, 3, 0
    for v in [64, 64, "M", 128, 128, "M"] + [256] * 4 + ["M"] + [512] * 4 + ["M"] + [512] * 4 + ["M"]:
        if v != "M":
            shapes[f"features.{i}.weight"], shapes[f"features.{i}.bias"], cin = (v, cin, 3, 3), (v,), v
            i += 2
        else:
            i += 1
    for j, (o, k) in zip((0, 3, 6), ((4096, 25088), (4096, 4096), (1000, 4096))):
        shapes[f"classifier.{j}.weight"], shapes[f"classifier.{j}.bias"] = (o, k), (o,)
    state = {k: ndgrad.from_numpy((rng.standard_normal(s, dtype=np.float32) * 0.02)) for k, s in shapes.items()}
    ndgrad.save(state, ckpt / "vgg19-dcbb9e9d.pth")


# ---------------------------------------------------------------------------------------------------------
# the programs
# ---------------------------------------------------------------------------------------------------------
LOSS = r"[Ll]oss:?\s*([-+0-9.eE]+)"


@dataclass
class Program:
    """One row: `run` (script path, '-m module' or notebook, relative to the work dir) with `args`."""

    name: str
    repo: str                       # folder under the clients path
    run: str                        # what to run, relative to the work dir (a copy of `copy`)
    args: list[str] = field(default_factory=list)
    copy: str = "."                 # the part of the repository copied into the work dir
    cwd: str = "."                  # where to run from, relative to the work dir
    prepare: Callable[[Path], None] | None = None
    before: list[str] = field(default_factory=list)  # scripts run first, the same way (data generators)
    loss: str = LOSS                # regex of a printed loss or metric (first group); "" when none is printed
    steps_per_loss: int = 1         # training steps between two loss lines (for ms/step)
    needs: tuple[str, ...] = ()     # modules PyTorch's run needs besides torch (e.g. torchvision)
    pythonpath: str = ""            # extra import path, relative to the work dir
    timeout: int = 300
    random_before_loss: bool = True  # random numbers drawn before the first loss: exact match impossible
    total_steps: str | None = None   # regex of the number of steps run, for programs printing one loss line
    slow: bool = False               # minutes long: run only with --slow
    env: dict[str, str] = field(default_factory=dict)  # extra environment; "{work}" is the work dir


EX = "pytorch+examples"
PROGRAMS: list[Program] = [
    Program("examples/mnist", EX, "mnist/main.py", ["--epochs", "1", "--batch-size", "32", "--test-batch-size", "80",
                                                   "--log-interval", "2", "--no-accel"],
            copy="mnist", cwd="mnist", prepare=prepare_mnist, steps_per_loss=2, needs=("torchvision",)),
    Program("examples/regression", EX, "regression/main.py", copy="regression", cwd="regression",
            loss=r"Loss: ([0-9.eE+-]+) after", total_steps=r"after (\d+) batches"),
    Program("examples/word_language_model (LSTM)", EX, "word_language_model/main.py",
            ["--data", "../tiny-corpus", "--epochs", "1", "--emsize", "16", "--nhid", "16", "--nlayers", "1",
             "--bptt", "8", "--batch_size", "4", "--log-interval", "5", "--save", "model.pt"],
            copy="word_language_model", cwd="word_language_model", prepare=prepare_wikitext,
            loss=r"\| loss\s+([0-9.]+)", steps_per_loss=5),
    Program("examples/word_language_model (Transformer)", EX, "word_language_model/main.py",
            ["--data", "../tiny-corpus", "--epochs", "1", "--emsize", "16", "--nhid", "16", "--nlayers", "1",
             "--bptt", "8", "--batch_size", "4", "--log-interval", "5", "--model", "Transformer", "--lr", "2",
             "--save", "model.pt"],
            copy="word_language_model", cwd="word_language_model", prepare=prepare_wikitext,
            loss=r"\| loss\s+([0-9.]+)", steps_per_loss=5),
    Program("examples/vae", EX, "vae/main.py", ["--epochs", "1", "--batch-size", "32", "--log-interval", "2",
                                               "--no-accel"],
            copy="vae", cwd="vae", prepare=prepare_mnist, steps_per_loss=2, needs=("torchvision",)),
    Program("examples/dcgan", EX, "dcgan/main.py", ["--dataset", "fake", "--batchSize", "4", "--imageSize", "64",
                                                   "--ngf", "8", "--ndf", "8", "--nz", "8", "--niter", "1",
                                                   "--workers", "0", "--manualSeed", "1", "--dry-run", "--outf", "out"],
            copy="dcgan", cwd="dcgan", loss=r"Loss_D: ([0-9.]+)", needs=("torchvision",)),
    Program("examples/super_resolution", EX, "super_resolution/main.py",
            ["--upscale_factor", "2", "--batchSize", "4", "--testBatchSize", "2", "--nEpochs", "1", "--threads", "0"],
            copy="super_resolution", cwd="super_resolution", prepare=prepare_bsds, needs=("torchvision",)),
    Program("examples/time_sequence_prediction", EX, "time_sequence_prediction/train.py", ["--steps", "1"],
            copy="time_sequence_prediction", cwd="time_sequence_prediction",
            before=["time_sequence_prediction/generate_sine_wave.py"], loss=r"^loss: ([0-9.eE+-]+)", timeout=900),
    Program("examples/mnist_rnn", EX, "mnist_rnn/main.py", ["--epochs", "1", "--batch-size", "32",
                                                           "--test-batch-size", "80", "--log-interval", "2"],
            copy="mnist_rnn", cwd="mnist_rnn", prepare=prepare_mnist, steps_per_loss=2, needs=("torchvision",)),
    Program("examples/siamese_network", EX, "siamese_network/main.py",
            ["--epochs", "1", "--batch-size", "32", "--test-batch-size", "80", "--log-interval", "2", "--no-accel"],
            copy="siamese_network", cwd="siamese_network", prepare=prepare_mnist, steps_per_loss=2,
            needs=("torchvision",)),
    Program("examples/reinforcement_learning (REINFORCE)", EX, "reinforcement_learning/reinforce.py",
            ["--log-interval", "1"], copy="reinforcement_learning", cwd="reinforcement_learning", prepare=prepare_gym,
            loss=r"Average reward: ([0-9.]+)"),
    Program("examples/reinforcement_learning (actor-critic)", EX, "reinforcement_learning/actor_critic.py",
            ["--log-interval", "1"], copy="reinforcement_learning", cwd="reinforcement_learning", prepare=prepare_gym,
            loss=r"Average reward: ([0-9.]+)"),
    Program("examples/gcn", EX, "gcn/main.py", ["--epochs", "10", "--val-every", "1", "--no-accel"],
            copy="gcn", cwd="gcn", prepare=prepare_cora, loss=r"loss_train: ([0-9.]+)"),
    Program("nanoGPT/train.py", "karpathy+nanoGPT", "train.py",
            ["--dataset=tiny_chars", "--device=cpu", "--compile=False", "--dtype=float32", "--eval_iters=2",
             "--eval_interval=5", "--max_iters=6", "--log_interval=1", "--block_size=16", "--batch_size=4",
             "--n_layer=2", "--n_head=2", "--n_embd=32", "--gradient_accumulation_steps=1", "--warmup_iters=2",
             "--lr_decay_iters=6", "--always_save_checkpoint=True", "--out_dir=out"],
            prepare=prepare_nanogpt, loss=r"iter \d+: loss ([0-9.]+)"),
    Program("nanoGPT/sample.py (after train.py)", "karpathy+nanoGPT", "sample.py",
            ["--init_from=resume", "--out_dir=out", "--device=cpu", "--compile=False", "--dtype=float32",
             "--num_samples=2", "--max_new_tokens=20"],
            prepare=prepare_nanogpt, before=["train.py --dataset=tiny_chars --device=cpu --compile=False "
                                             "--dtype=float32 --eval_iters=1 --eval_interval=2 --max_iters=2 "
                                             "--block_size=16 --batch_size=2 --n_layer=1 --n_head=2 --n_embd=16 "
                                             "--gradient_accumulation_steps=1 --always_save_checkpoint=True "
                                             "--out_dir=out"],
            loss=""),
    Program("minGPT/projects/chargpt", "karpathy+minGPT", "projects/chargpt/chargpt.py",
            ["--trainer.max_iters=21", "--trainer.batch_size=8", "--trainer.num_workers=0",
             "--model.model_type=gpt-nano", "--data.block_size=32", "--system.work_dir=out/chargpt"],
            prepare=prepare_chargpt, pythonpath=".", loss=r"train loss ([0-9.]+)", steps_per_loss=10),
    Program("minGPT/projects/adder", "karpathy+minGPT", "projects/adder/adder.py",
            ["--trainer.max_iters=21", "--trainer.batch_size=16", "--trainer.num_workers=0", "--data.ndigit=1",
             "--system.work_dir=out/adder"],
            pythonpath=".", loss=r"train loss ([0-9.]+)", steps_per_loss=10),
    Program("pytorch-tutorial/feedforward_neural_network", "yunjey+pytorch-tutorial",
            "tutorials/01-basics/feedforward_neural_network/main.py",
            copy="tutorials/01-basics/feedforward_neural_network", cwd="tutorials/01-basics/feedforward_neural_network",
            prepare=prepare_mnist_tutorials, steps_per_loss=100, needs=("torchvision",)),
    Program("pytorch-tutorial/recurrent_neural_network", "yunjey+pytorch-tutorial",
            "tutorials/02-intermediate/recurrent_neural_network/main.py",
            copy="tutorials/02-intermediate/recurrent_neural_network",
            cwd="tutorials/02-intermediate/recurrent_neural_network",
            prepare=prepare_mnist_tutorials, steps_per_loss=100, needs=("torchvision",), timeout=900),
    Program("minGPT/demo.ipynb (notebook, 2000 steps)", "karpathy+minGPT", "demo.ipynb", pythonpath=".",
            loss=r"train loss ([0-9.]+)", steps_per_loss=100, timeout=2400, slow=True),
]


def _gan(name: str, args: list[str], prepare: Callable[[Path], None] = prepare_gan_mnist, script: str = "",
         **kw: object) -> Program:
    """A PyTorch-GAN training script, run from implementations/<name> (its data in ../../data)."""
    return Program(f"PyTorch-GAN/{name}", "eriklindernoren+PyTorch-GAN",
                   f"implementations/{name}/{script or name + '.py'}", ["--n_epochs", "1", *args],
                   copy=f"implementations/{name}", cwd=f"implementations/{name}", prepare=prepare,
                   needs=("torchvision",), **kw)  # type: ignore[arg-type]


_MNIST_GAN = ["--batch_size", "16", "--sample_interval", "2"]  # 64 stand-in digits: 4 steps
_PAIRS = ["--batch_size", "2", "--n_cpu", "0", "--sample_interval", "1"]
PROGRAMS += [
    *[_gan(n, _MNIST_GAN) for n in ("gan", "aae", "acgan", "began", "bgan", "cgan", "dcgan", "dragan", "ebgan",
                                    "infogan", "lsgan", "relativistic_gan", "sgan", "softmax_gan", "wgan",
                                    "wgan_div", "wgan_gp")],
    _gan("cluster_gan", ["-b", "16"], script="clustergan.py", loss=r"Loss:?\s*([-+0-9.eE]+)"),
    _gan("cogan", _MNIST_GAN, prepare_gan_mnistm),
    _gan("pixelda", _MNIST_GAN, prepare_gan_mnistm),
    _gan("ccgan", ["--batch_size", "4", "--img_size", "32", "--mask_size", "8", "--sample_interval", "1"],
         prepare_gan_celeba),
    _gan("context_encoder", ["--batch_size", "4", "--sample_interval", "1"], prepare_gan_celeba_4008),
    _gan("pix2pix", ["--batch_size", "2", "--n_cpu", "0"], prepare_gan_pairs),
    _gan("cyclegan", _PAIRS + ["--img_height", "32", "--img_width", "32", "--n_residual_blocks", "2",
                               "--decay_epoch", "0"], prepare_gan_pairs),
    _gan("discogan", _PAIRS, prepare_gan_pairs),
    _gan("dualgan", _PAIRS, prepare_gan_pairs),
    _gan("bicyclegan", _PAIRS + ["--img_height", "64", "--img_width", "64"], prepare_gan_pairs),
    _gan("munit", _PAIRS + ["--decay_epoch", "0", "--dim", "16"], prepare_gan_pairs),
    _gan("unit", _PAIRS + ["--decay_epoch", "0", "--img_height", "64", "--img_width", "64", "--dim", "16"],
         prepare_gan_pairs),
    _gan("stargan", _PAIRS + ["--decay_epoch", "0", "--img_height", "64", "--img_width", "64",
                              "--residual_blocks", "1"], prepare_gan_celeba_attrs, loss=r"D adv: ([-0-9.eE+]+)"),
    _gan("srgan", _PAIRS + ["--hr_height", "32", "--hr_width", "32"], prepare_gan_vgg19,
         env={"TORCH_HOME": "{work}/torch_home"}, slow=True),
    _gan("esrgan", _PAIRS + ["--hr_height", "32", "--hr_width", "32", "--residual_blocks", "1",
                             "--warmup_batches", "1"], prepare_gan_vgg19, env={"TORCH_HOME": "{work}/torch_home"},
         slow=True),
]


# ---------------------------------------------------------------------------------------------------------
# running
# ---------------------------------------------------------------------------------------------------------
@dataclass
class Outcome:
    ran: bool
    error: str
    losses: list[float]
    ms_per_step: float | None
    output: str
    skipped: str = ""


def _available(module: str) -> bool:
    try:
        r = subprocess.run([TORCH_PYTHON[0], "-c", f"import {module}"], capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return r.returncode == 0


TORCH_PYTHON = [sys.executable]  # the interpreter of PyTorch's runs (--torch-python)


def _command(use_ndgrad: bool, target: str) -> list[str]:
    parts = target.split()
    if target.endswith(".ipynb") and not use_ndgrad:  # PyTorch's side runs the notebook's cells the same way,
        return [TORCH_PYTHON[0], "-c", _NB_RUNNER, *parts]  # with the runner that does not alias torch
    head = [sys.executable, "-m", "ndgrad", "run"] if use_ndgrad else [TORCH_PYTHON[0]]
    if use_ndgrad and target.endswith(".ipynb"):
        head.append("--in-process")  # the same cell runner as PyTorch's side (no kernel)
    return head + parts


# runs a notebook under plain Python (PyTorch): ndgrad's cell runner, without the torch alias
_NB_RUNNER = ("import sys; sys.argv = sys.argv[1:]; from ndgrad import _run; "
              "raise SystemExit(_run.run_notebook_in_process(sys.argv[0]))")


_STARTUP: dict[bool, float] = {}


def _startup(use_ndgrad: bool, env: dict) -> float:
    """Seconds an empty program takes to start and import torch (or ndgrad as torch): subtracted when a
    program prints a single loss line and ms/step comes from its total time."""
    if use_ndgrad not in _STARTUP:
        with tempfile.TemporaryDirectory() as tmp:
            (Path(tmp) / "empty.py").write_text("import torch\n")
            t = time.perf_counter()
            subprocess.run(_command(use_ndgrad, "empty.py"), cwd=tmp, env=env, capture_output=True, timeout=300)
            _STARTUP[use_ndgrad] = time.perf_counter() - t
    return _STARTUP[use_ndgrad]


def _run(cmd: list[str], cwd: Path, env: dict, timeout: int, pattern: str | None) -> tuple[int | None, str, list]:
    """Run, timestamping each output line; (status or None on timeout, output, [(time, loss)])."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            bufsize=1)
    lines, hits = [], []
    rx = re.compile(pattern if pattern else r"(?!)()", re.MULTILINE)
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            m = rx.search(line) if pattern else None
            if m:
                try:
                    hits.append((time.perf_counter(), float(m.group(1)) if m.group(1) != "-" else 0.0))
                except ValueError:
                    pass
            if time.perf_counter() - start > timeout:
                proc.kill()
                return None, "".join(lines), hits
        status = proc.wait(timeout=max(1.0, timeout - (time.perf_counter() - start)))
    except subprocess.TimeoutExpired:
        proc.kill()
        return None, "".join(lines), hits
    return status, "".join(lines), hits


def run_program(p: Program, clients: Path, use_ndgrad: bool) -> Outcome:
    src = clients / p.repo / p.copy
    if not src.exists():
        return Outcome(False, f"{src} not found", [], None, "", skipped="not fetched")
    with tempfile.TemporaryDirectory(prefix="ndgrad-client-") as tmp:
        work = Path(tmp)
        dest = work if p.copy == "." else work / p.copy
        shutil.copytree(src, dest, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".git", "*.pt", "*.pth"))
        if p.prepare is not None:
            p.prepare(work)
        env = dict(os.environ, PYTHONUNBUFFERED="1", MPLBACKEND="Agg", PYTHONHASHSEED="0")
        env.update({k: v.format(work=work) for k, v in p.env.items()})
        paths = [str(ROOT)] + ([str(work / p.pythonpath)] if p.pythonpath else [])
        env["PYTHONPATH"] = os.pathsep.join(paths + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
        cwd = work / p.cwd
        for pre in p.before:
            script = pre.split()[0]
            rel = os.path.relpath(work / script, cwd)
            status, out, _ = _run(_command(use_ndgrad, " ".join([rel, *pre.split()[1:]])), cwd, env, p.timeout, None)
            if status != 0:
                return Outcome(False, f"{script}: " + _last_error(out, status), [], None, out)
        target = os.path.relpath(work / p.run, cwd)
        start = time.perf_counter()
        status, out, hits = _run(_command(use_ndgrad, target) + p.args, cwd, env, p.timeout, p.loss)
        ms = None
        if len(hits) >= 2:
            ms = (hits[-1][0] - hits[0][0]) / ((len(hits) - 1) * p.steps_per_loss) * 1000
        elif hits and p.total_steps and re.search(p.total_steps, out):
            steps = int(re.search(p.total_steps, out).group(1))
            ms = max(hits[-1][0] - start - _startup(use_ndgrad, env), 0.0) / steps * 1000
    if status != 0:
        return Outcome(False, _last_error(out, status), [h[1] for h in hits], ms, out)
    return Outcome(True, "", [h[1] for h in hits], ms, out)


def _last_error(out: str, status: int | None) -> str:
    if status is None:
        return "timed out"
    out = re.sub(r"\x1b\[[0-9;]*m", "", out)  # terminal colours in some messages
    lines = [ln.strip() for ln in out.strip().splitlines() if ln.strip()]
    for ln in reversed(lines):
        if re.match(r"^[A-Za-z_.]*(Error|Exception|Interrupt|Exit)\b", ln) or ln.startswith("ndgrad does not"):
            return ln[:160]
    return (lines[-1][:160] if lines else "") + f" (exit status {status})"


def compare(p: Program, ours: Outcome, theirs: Outcome | None) -> str:
    if theirs is not None and not theirs.ran and not ours.ran:
        kind = [e.error.split(":")[0].rsplit(" ", 1)[-1] for e in (ours, theirs)]
        return f"yes (both fail with {kind[0]})" if kind[0] == kind[1] else "no (both fail, differently)"
    if theirs is None or not theirs.ran:
        return "n/a"
    if not p.loss:
        return "- (prints no loss)"
    if not ours.ran or not ours.losses or not theirs.losses:
        return "-" if ours.ran else "no"
    a, b = np.array(ours.losses), np.array(theirs.losses)
    if len(a) == len(b) and np.allclose(a, b, rtol=1e-4, atol=1e-6):
        return "yes (losses equal)"
    if not np.all(np.isfinite(a)):
        return "no (non-finite loss)"
    if p.random_before_loss:
        scale = max(abs(a[-1]), abs(b[-1]))
        apart = f"{abs(a[-1] - b[-1]) / scale:.0%} apart" if scale > 1e-3 else "both near 0"
        return f"RNG differs; last value {a[-1]:.4g} vs {b[-1]:.4g} ({apart})"
    return f"no ({a[-1]:.6g} vs {b[-1]:.6g})"


def _fmt_ms(ms: float | None) -> str:
    return "-" if ms is None or not math.isfinite(ms) or ms <= 0 else f"{ms:.3g}"


def _safely(p: Program, clients: Path, use_ndgrad: bool) -> Outcome:
    try:
        return run_program(p, clients, use_ndgrad)
    except Exception as e:  # noqa: BLE001 - a broken row must not stop the table
        return Outcome(False, f"run_clients could not run it: {type(e).__name__}: {e}", [], None, "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("clients", type=Path, help="folder holding the fetched repositories (owner+name)")
    ap.add_argument("-k", default="", help="only rows whose name contains this")
    ap.add_argument("-v", action="store_true", help="print each run's output")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch runs")
    ap.add_argument("--out", type=Path, help="also write the report (markdown) here")
    ap.add_argument("--merge", action="store_true",
                    help="with --out: update the rows of the programs run (and add new ones) in the existing "
                         "report, keeping its other rows and text")
    ap.add_argument("--slow", action="store_true", help="include the rows that take minutes")
    ap.add_argument("--torch-python", default=sys.executable,
                    help="the Python that runs the programs under PyTorch (e.g. an environment with torchvision)")
    args = ap.parse_args(argv)
    TORCH_PYTHON[0] = args.torch_python
    torch_ok = not args.no_torch and _available("torch")
    have = {m: _available(m) for m in sorted({m for p in PROGRAMS for m in p.needs})} if torch_ok else {}
    rows = []
    for p in PROGRAMS:
        if args.k not in p.name or (p.slow and not args.slow):
            continue
        print(f"== {p.name}", file=sys.stderr, flush=True)
        ours = _safely(p, args.clients, True)
        theirs = None
        missing = [m for m in p.needs if not have.get(m)]
        if torch_ok and not missing:
            theirs = _safely(p, args.clients, False)
        if args.v:
            print(ours.output, file=sys.stderr)
            if theirs is not None:
                print("-- PyTorch:\n" + theirs.output, file=sys.stderr)
        torch_note = ("not installed" if not torch_ok else f"needs {', '.join(missing)}" if missing else
                      ("runs" if theirs and theirs.ran else f"fails: {theirs.error}" if theirs else "-"))
        rows.append((p.name, "yes" if ours.ran else ("skipped" if ours.skipped else "no"), ours.error or "",
                     compare(p, ours, theirs), _fmt_ms(ours.ms_per_step),
                     _fmt_ms(theirs.ms_per_step) if theirs else "-", torch_note))
        print(f"   ndgrad: {'ok' if ours.ran else ours.error}; PyTorch: {torch_note}", file=sys.stderr, flush=True)
    report = render(rows, torch_ok)
    print(report)
    if args.out and args.merge and args.out.exists():
        args.out.write_text(merge(args.out.read_text(), report))
    elif args.out:
        args.out.write_text(report)
    return 0


def merge(old: str, new: str) -> str:
    """`old` report with the table rows of `new` replacing those of the same program (the first cell) and
    new programs appended to the table; the rest of `old` is kept."""
    def is_row(line: str) -> bool:
        return line.startswith("| ") and not line.startswith("| program |")
    fresh = {ln.split(" | ")[0]: ln for ln in new.splitlines() if is_row(ln)}
    lines = old.splitlines()
    out, last = [], -1
    for ln in lines:
        if is_row(ln):
            ln = fresh.pop(ln.split(" | ")[0], ln)
            last = len(out)
        out.append(ln)
    out[last + 1:last + 1] = list(fresh.values())
    return "\n".join(out) + "\n"


def render(rows: list[tuple], torch_ok: bool) -> str:
    import platform
    head = ("# Real PyTorch programs under `ndgrad run`\n\n"
            "Made by `python tools/run_clients.py CLIENTS_DIR --out docs/compat.md` (programs from fetched public "
            "repositories, run unmodified with tiny settings on local stand-in data; see the tool's docstring).\n"
            f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}; "
            f"PyTorch runs: {'yes' if torch_ok else 'no (torch not installed)'}. ms/step is measured between the "
            "first and last printed loss (start-up excluded); programs that draw random numbers before their first "
            "loss cannot match PyTorch exactly, since ndgrad's random streams are not PyTorch's.\n\n")
    table = ["| program | runs under ndgrad | error | matches PyTorch? | ms/step ndgrad | ms/step PyTorch | "
             "under PyTorch |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        table.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return head + "\n".join(table) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
