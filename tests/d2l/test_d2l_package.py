"""The d2l package (`from d2l import torch as d2l`, Dive into Deep Learning) under `ndgrad run`.

Each program in tests/d2l/programs/ is our own, written as the book's chapters use d2l: it runs once
with `python -m ndgrad run` and once with plain `python` on PyTorch and torchvision (d2l's torch
module imports both), from the same weights and data order, on small generated data
(tools/d2l_offline.py: nothing is downloaded). PyTorch's results are recorded
(tests/references/test_d2l_package.json), so without PyTorch the ndgrad run is still compared.

The d2l package is installed without its pinned dependencies (`pip install --no-deps d2l==1.0.3`,
as .ci/run does); what its torch module imports comes with ndgrad's `d2l` extra.
"""
from __future__ import annotations

import importlib.util
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROGRAMS = Path(__file__).resolve().parent / "programs"

_D2L_IMPORTS = ["pandas", "matplotlib", "matplotlib_inline", "IPython", "scipy", "requests", "PIL"]
_missing = [m for m in _D2L_IMPORTS if importlib.util.find_spec(m) is None]
pytestmark = [
    pytest.mark.skipif(importlib.util.find_spec("d2l") is None,
                       reason="the d2l package is not installed (pip install --no-deps d2l==1.0.3; .ci/run does)"),
    pytest.mark.skipif(bool(_missing), reason=f"d2l's torch module needs {', '.join(_missing)} "
                                              "(pip install -e '.[d2l]')"),
]


def run_program(name: str, workdir: Path, *, pytorch: bool = False) -> dict:
    """Run programs/<name>.py in workdir/run (its ../data is workdir/data) and return its JSON results:
    under `ndgrad run`, or with `pytorch=True` under plain python (real torch and torchvision)."""
    run = workdir / "run"
    run.mkdir(parents=True, exist_ok=True)
    result = workdir / "result.json"
    prog = str(PROGRAMS / f"{name}.py")
    cmd = [sys.executable, prog] if pytorch else [sys.executable, "-m", "ndgrad", "run", prog]
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg", IPYTHONDIR=str(workdir / "ipython"),
               OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    r = subprocess.run([*cmd, str(result)], cwd=run, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, f"{name} failed under {'PyTorch' if pytorch else 'ndgrad'}:\n{r.stderr[-4000:]}"
    return json.loads(result.read_text())


def assert_close(got: Any, want: Any, path: str = "", rtol: float = 1e-3, atol: float = 1e-4) -> None:
    """Nested lists/dicts equal: numbers within tolerance, everything else exactly."""
    if isinstance(want, dict):
        assert isinstance(got, dict) and got.keys() == want.keys(), path
        for k in want:
            assert_close(got[k], want[k], f"{path}.{k}", rtol, atol)
    elif isinstance(want, (list, tuple)):
        assert isinstance(got, (list, tuple)) and len(got) == len(want), f"{path}: {got!r} != {want!r}"
        for i, (g, w) in enumerate(zip(got, want)):
            assert_close(g, w, f"{path}[{i}]", rtol, atol)
    elif isinstance(want, float) and not isinstance(got, bool):
        assert isinstance(got, (int, float)) and math.isclose(got, want, rel_tol=rtol, abs_tol=atol), \
            f"{path}: {got!r} != {want!r}"
    else:
        assert got == want, f"{path}: {got!r} != {want!r}"


def test_train_ch6_lenet_reaches_pytorchs_accuracy(tmp_path, tv_ref):
    """d2l.train_ch6 (LeNet, one epoch, load_data_fashion_mnist with its workers) from the same weights
    and data order: the accuracies ndgrad reaches are PyTorch's within 1%."""
    want = tv_ref("ch6", lambda torch, torchvision: run_program("ch6_lenet", tmp_path / "torch", pytorch=True))
    got = run_program("ch6_lenet", tmp_path / "ndgrad")
    for key in ("train_acc", "test_acc", "eval_acc"):
        assert abs(got[key] - want[key]) <= 0.01, (key, got[key], want[key])
    assert want["test_acc"] > 0.5  # it learned: ten classes, chance is 0.1
    assert got["loss"] == pytest.approx(want["loss"], abs=0.01)
    assert got["workers"] == want["workers"] == [4, 4] and got["batches"] == want["batches"] == [32, 8]
    assert got["animator_lines"] == want["animator_lines"] == 3


def test_utilities_and_class_api_match_pytorch(tmp_path, tv_ref):
    """Timer, Accumulator, Animator, devices, load_data_fashion_mnist (resize), HyperParameters,
    ProgressBoard, and d2l.Module / DataModule / Trainer / SGD / FashionMNIST / Classifier training."""
    want = tv_ref("basics", lambda torch, torchvision: run_program("basics", tmp_path / "torch", pytorch=True))
    got = run_program("basics", tmp_path / "ndgrad")
    assert_close(got, want)
    assert got["devices"][:4] == ["cpu", "cpu", [], 0]
    assert got["softmax"][0] > 0.5
    for png in ("animator.png", "fashion.png"):
        assert (tmp_path / "ndgrad" / "run" / png).stat().st_size > 1000


def test_sequence_models_attention_and_seq2seq_match_pytorch(tmp_path, tv_ref):
    """TimeMachine, RNNScratch/RNNLMScratch, GRU/RNNLM, grad clipping, masked_softmax and the attention
    layers, the Transformer encoder, MTFraEng + Seq2Seq, load_data_nmt / train_seq2seq / predict_seq2seq, bleu."""
    want = tv_ref("sequences", lambda torch, torchvision: run_program("sequences", tmp_path / "torch",
                                                                       pytorch=True))
    got = run_program("sequences", tmp_path / "ndgrad")
    assert_close(got, want)
    ppl = got["rnn_scratch"][0]["train_ppl"]
    assert ppl[-1] < ppl[0] < got["vocab"][0] + 5  # learning, from about uniform over the characters
