"""The main job: the notebook subcommand prints what PyTorch prints; train learns."""
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ndgrad._notebook import CELLS, run

SEED = Path(__file__).resolve().parents[1].parent / "shared" / "seed" / "expected_torch.txt"


def _results_only() -> str:
    buf = io.StringIO()
    run(results_only=True, out=buf)
    return buf.getvalue()


def test_notebook_results_equal_pytorch_output():
    if not SEED.exists():
        pytest.skip("the seed's expected output is not beside this checkout")
    ours = re.sub(r"\bndgrad\.", "torch.", _results_only())
    assert ours == SEED.read_text()


def _torch_results(torch) -> str:
    buf = io.StringIO()
    run(torch, results_only=True, out=buf)
    return buf.getvalue()


def test_notebook_results_equal_live_torch(torch_ref):
    assert re.sub(r"\bndgrad\.", "torch.", _results_only()) == torch_ref("results", _torch_results)


def test_notebook_shows_code_and_titles():
    buf = io.StringIO()
    run(out=buf)
    text = buf.getvalue()
    assert text.count(">>> ") == sum(len(code.split("\n")) for _, code in CELLS)
    assert "tensor([ 0.,  4.,  8., 12.])" in text


def _cli(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONHASHSEED="0")
    return subprocess.run([sys.executable, "-m", "ndgrad", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def _final(out: str) -> tuple[float, float]:
    acc = float(re.search(r"final test accuracy: ([0-9.]+)", out).group(1))
    last = [line for line in out.splitlines() if re.match(r"\s+\d+\s+[0-9.]+\s", line)][-1]
    return acc, float(last.split()[1])


@pytest.fixture(scope="module")
def lenet_runs(tmp_path_factory):
    pytest.importorskip("sklearn")
    pytest.importorskip("matplotlib")
    pytest.importorskip("tqdm")
    d = tmp_path_factory.mktemp("train")
    plot = d / "curves.png"
    first = _cli("train", "--model", "lenet", "--epochs", "3", "--plot", str(plot), "--no-progress",
                 "--save", str(d / "lenet.pt"))
    second = _cli("train", "--model", "lenet", "--epochs", "3", "--plot", "", "--no-progress")
    return first, second, plot, d


def test_train_lenet_accuracy_and_determinism(lenet_runs):
    first, second, _, _ = lenet_runs
    assert first.returncode == 0, first.stderr
    acc, loss = _final(first.stdout)
    assert acc >= 0.95
    assert _final(second.stdout) == (acc, loss)  # same seed -> same numbers


def test_train_writes_png_plot(lenet_runs):
    _, _, plot, _ = lenet_runs
    data = plot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (800, 320)


def test_train_saves_loadable_state_dict(lenet_runs):
    import ndgrad
    _, _, _, d = lenet_runs
    sd = ndgrad.load(d / "lenet.pt")
    assert sd["0.weight"].shape == (6, 1, 5, 5)


def test_train_mlp_accuracy():
    pytest.importorskip("sklearn")
    res = _cli("train", "--model", "mlp", "--epochs", "3", "--plot", "", "--no-progress")
    assert res.returncode == 0, res.stderr
    assert _final(res.stdout)[0] >= 0.93


def test_train_without_extra_names_it(monkeypatch, capsys):
    from ndgrad import demo
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` raise ImportError
    assert demo.main(["train", "--epochs", "1", "--plot", ""]) == 2
    err = capsys.readouterr().err
    assert "tqdm" in err and "pip install 'ndgrad[demo]'" in err


def test_training_helpers_accumulate_and_fit():
    import ndgrad
    from ndgrad import nn, training
    acc = training.Accumulator(2)
    acc.add(1, 2.5)
    acc.add(3, 0.5)
    assert acc[0] == 4 and acc[1] == 3.0
    ndgrad.manual_seed(0)
    X = ndgrad.randn(64, 4)
    y = (X[:, 0] > 0).long()
    model = nn.Sequential(nn.Linear(4, 2))
    loader = ndgrad.utils.data.DataLoader(ndgrad.utils.data.TensorDataset(X, y), batch_size=16)
    seen = []
    history = training.fit(model, loader, loader, nn.CrossEntropyLoss(),
                           ndgrad.optim.SGD(model.parameters(), lr=0.5), epochs=5, callbacks=[seen.append])
    assert seen == history and [r["epoch"] for r in history] == [1, 2, 3, 4, 5]
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["test_acc"] == training.evaluate_accuracy(model, loader) >= 0.9
