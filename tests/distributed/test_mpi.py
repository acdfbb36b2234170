"""ndgrad.distributed under real MPI: each test launches one job of tests/distributed/jobs/ with
`mpiexec -n N` (few launches, many checks per job: a launch costs about a second).

Skipped with the reason when mpi4py or mpiexec is missing, except where NDGRAD_REQUIRE_MPI=1
(CI sets it, after installing the `mpi` extra): there a missing MPI fails the run.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
JOBS = Path(__file__).parent / "jobs"


def mpiexec() -> str | None:
    """The mpiexec next to this Python (the `mpi` extra installs MPICH's there), else on PATH."""
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else shutil.which("mpiexec")


def _missing() -> str | None:
    try:
        import mpi4py  # noqa: F401
    except ImportError:
        return "mpi4py is not installed (pip install '.[mpi]')"
    if mpiexec() is None:
        return "no mpiexec found (pip install '.[mpi]' brings MPICH's)"
    return None


MISSING = _missing()
if MISSING and os.environ.get("NDGRAD_REQUIRE_MPI") == "1":
    raise RuntimeError(f"NDGRAD_REQUIRE_MPI=1 but {MISSING}")
pytestmark = pytest.mark.skipif(MISSING is not None, reason=MISSING or "")


def launch(n: int, script: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    """Run jobs/<script> on n processes (oversubscribing the cores when n exceeds them)."""
    cmd = [mpiexec(), "-n", str(n)]
    if "Open MPI" in subprocess.run([cmd[0], "--version"], capture_output=True, text=True).stdout:
        cmd.append("--oversubscribe")
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    return subprocess.run(cmd + [sys.executable, str(JOBS / script), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def ok(res: subprocess.CompletedProcess) -> str:
    assert res.returncode == 0, \
        f"exit {res.returncode}\n--- stdout\n{res.stdout[-4000:]}\n--- stderr\n{res.stderr[-6000:]}"
    return res.stdout


@pytest.mark.parametrize("n", [2, 4])
def test_collectives_ddp_sampler(n: int, tmp_path: Path) -> None:
    """Every collective vs NumPy (all dtypes, async), DDP vs one process on the global batch, no_sync,
    unused parameters, buffers, DistributedSampler (see jobs/); then rank 0's checkpoint loads here."""
    out = ok(launch(n, "suite.py", str(tmp_path)))
    assert f"checks passed on {n} ranks" in out
    import numpy as np

    import ndgrad
    from ndgrad.nn.modules.utils import consume_prefix_in_state_dict_if_present
    sys.path.insert(0, str(JOBS))
    try:
        from ddp import WithBuffer
    finally:
        sys.path.remove(str(JOBS))
    want = np.load(tmp_path / "expected.npz")
    for name in ("module.pt", "ddp.pt"):
        state = ndgrad.load(tmp_path / name)
        consume_prefix_in_state_dict_if_present(state, "module.")
        model = WithBuffer().double()
        model.load_state_dict(state)
        for k, v in model.state_dict().items():
            np.testing.assert_array_equal(v.numpy(), want[k])


def test_exception_on_one_rank_aborts_the_job() -> None:
    start = time.monotonic()
    res = launch(2, "faults.py", "raise", timeout=60)
    took = time.monotonic() - start
    assert res.returncode != 0 and took < 30, (res.returncode, took)
    assert "ValueError: rank 1 fails on purpose" in res.stderr  # the failing rank's traceback
    assert "aborting all 2 processes" in res.stderr
    assert "rank 0 finished" not in res.stdout  # rank 0 was stopped inside its all_reduce


def test_stuck_collective_times_out() -> None:
    start = time.monotonic()
    res = launch(2, "faults.py", "stuck", timeout=60)
    assert res.returncode != 0 and time.monotonic() - start < 30, res.returncode
    assert "[rank 0] ndgrad.distributed: all_reduce (argument check) did not complete within 5 s" in res.stderr


def _ndgrad(*args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p))
    return subprocess.run([sys.executable, "-m", "ndgrad", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=timeout)


def test_pytorch_ddp_script_runs_unchanged_under_ndgrad_run(tmp_path: Path) -> None:
    """examples/ddp_train.py is plain PyTorch (torchrun, gloo, DistributedSampler, DDP, rank-0 torch.save)."""
    ckpt = tmp_path / "ddp.pt"
    out = ok(_ndgrad("run", "--nproc", "2", "examples/ddp_train.py", "--epochs", "3", "--checkpoint", str(ckpt)))
    lines = out.splitlines()
    assert lines[0] == "2 processes, local rank 0 on this node, 512 samples each"  # LOCAL_RANK as torchrun sets it
    assert [line.split(":")[0] for line in lines[1:4]] == ["epoch 0", "epoch 1", "epoch 2"]  # rank 0 alone prints
    assert float(lines[3].rsplit(" ", 1)[1]) > 0.8  # the accuracy after 3 epochs
    import numpy as np

    import ndgrad
    model = ndgrad.nn.Sequential(ndgrad.nn.Linear(20, 64), ndgrad.nn.ReLU(), ndgrad.nn.Linear(64, 4))
    state = ndgrad.load(ckpt)
    model.load_state_dict(state)  # rank 0's checkpoint in a single process
    try:
        import torch
    except ImportError:
        return
    for k, v in torch.load(ckpt).items():  # and PyTorch reads it too
        np.testing.assert_array_equal(v.numpy(), state[k].numpy())


def test_failing_rank_under_ndgrad_run_ends_the_job(tmp_path: Path) -> None:
    script = tmp_path / "exit3.py"
    script.write_text("import sys\nimport torch\nimport torch.distributed as dist\n"
                      "dist.init_process_group('gloo')\n"
                      "if dist.get_rank() == 1:\n    sys.exit(3)\n"
                      "dist.all_reduce(torch.ones(1))\nprint('rank 0 finished')\n")
    start = time.monotonic()
    res = _ndgrad("run", "--nproc", "2", "--hosts", "localhost", str(script), timeout=60)
    took = time.monotonic() - start
    # the job's status is the abort's (3) as a rule, but the launcher may report rank 0's killing first
    assert res.returncode != 0 and took < 30, (res.returncode, took, res.stdout, res.stderr)
    assert "[rank 1] exited with status 3; aborting all 2 processes" in res.stderr, res.stderr
    assert "rank 0 finished" not in res.stdout


def test_train_nproc_2(tmp_path: Path) -> None:
    out = ok(_ndgrad("train", "--nproc", "2", "--model", "softmax", "--epochs", "1", "--no-progress", "--plot", "",
                     "--save", str(tmp_path / "m.pt")))
    assert out.count("epoch  train loss") == 1 and "data-parallel on 2 processes" in out  # rank 0 reports
    acc = float(out.strip().splitlines()[-1].rsplit(" ", 1)[1])
    assert acc > 0.85, out
    import ndgrad
    from ndgrad import training
    model = training.make_model("softmax", (1, 28, 28))
    model.load_state_dict(ndgrad.load(tmp_path / "m.pt"))  # rank 0's checkpoint, in one process
