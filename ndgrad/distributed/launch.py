"""Starting a job's processes: `ndgrad run --nproc N script.py` and `ndgrad train --nproc N`.

The launcher is MPI's own `mpiexec` (the one the `mpi` extra installs next to Python, else the
one on PATH): it starts N copies of `python -m ndgrad ...` (on this machine, or spread over
`--hosts`), and MPI connects them. Each copy then sets the variables torchrun would have set
(RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT,
TORCHELASTIC_RUN_ID) from MPI's, so a script written for torchrun runs unchanged.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from ._world import launcher_env


def mpiexec_path() -> str | None:
    here = Path(sys.executable).parent / "mpiexec"
    return str(here) if here.exists() else shutil.which("mpiexec")


def command(nproc: int, argv: Sequence[str], hosts: str | None = None) -> list:
    """The mpiexec command line that runs `python -m ndgrad <argv>` on `nproc` processes."""
    exe = mpiexec_path()
    if exe is None:
        raise RuntimeError("--nproc starts the processes with MPI's mpiexec, which was not found: "
                           "pip install 'ndgrad[mpi]' (mpi4py and MPICH, whose mpiexec it brings)")
    cmd = [exe, "-n", str(nproc)]
    open_mpi = "Open MPI" in subprocess.run([exe, "--version"], capture_output=True, text=True).stdout
    if hosts:
        cmd += ["--host" if open_mpi else "-hosts", hosts]
    elif open_mpi:
        cmd.append("--oversubscribe")  # like torchrun, start N processes whatever the core count
    return cmd + [sys.executable, "-m", "ndgrad", *argv]


def launch(nproc: int, argv: Sequence[str], hosts: str | None = None) -> int:
    """Run `python -m ndgrad <argv>` on `nproc` MPI processes; the job's exit status."""
    if nproc < 1:
        print(f"ndgrad: --nproc must be at least 1, got {nproc}", file=sys.stderr)
        return 2
    try:
        cmd = command(nproc, argv, hosts)
    except RuntimeError as e:
        print(f"ndgrad: {e}", file=sys.stderr)
        return 2
    try:
        return subprocess.call(cmd)
    except KeyboardInterrupt:  # mpiexec got the same Ctrl-C and stops the processes
        return 130


def in_mpi_job() -> bool:
    """Whether an MPI launcher started this process."""
    return bool(launcher_env())


def set_torchrun_env() -> None:
    """In a process an MPI launcher started: torchrun's variables, where not already set."""
    env = launcher_env()
    if env:
        env["TORCHELASTIC_RUN_ID"] = "ndgrad-mpi"
        for k, v in env.items():
            os.environ.setdefault(k, v)


def abort_on_failure(status: object) -> None:
    """A process leaving a running job with a failure status takes the job down with it (the other
    ranks would wait for it in their next collective)."""
    from . import _faults
    from ._world import _world
    failed = status not in (None, 0) and not (isinstance(status, str) and not status)
    pg = _world.default_pg
    if failed and pg is not None and pg.size() > 1:
        _faults.abort(f"[rank {pg.rank()}] exited with status {status!r}; aborting all {pg.size()} processes "
                      "(MPI_Abort)", status if isinstance(status, int) else 1)
