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
def test_collectives(n: int) -> None:
    out = ok(launch(n, "collectives.py"))
    assert f"checks passed on {n} ranks" in out


def test_exception_on_one_rank_aborts_the_job() -> None:
    start = time.monotonic()
    res = launch(2, "faults.py", timeout=60)
    took = time.monotonic() - start
    assert res.returncode != 0 and took < 30, (res.returncode, took)
    assert "ValueError: rank 1 fails on purpose" in res.stderr  # the failing rank's traceback
    assert "aborting all 2 processes" in res.stderr
    assert "rank 0 finished" not in res.stdout  # rank 0 was stopped inside its all_reduce
