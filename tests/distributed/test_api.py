"""ndgrad.distributed in this process, without MPI: what works before init_process_group, and
the error that names the missing extra. (The collectives run under mpiexec: test_mpi.py.)"""
from __future__ import annotations

import sys

import pytest

import ndgrad
import ndgrad.distributed as dist


def test_before_init_process_group(torch_ref):
    assert not dist.is_initialized() and dist.group.WORLD is None and dist.GroupMember.WORLD is None
    for fn in (dist.get_rank, dist.get_world_size, lambda: dist.all_reduce(ndgrad.ones(1)), dist.barrier):
        with pytest.raises(ValueError, match="Default process group has not been initialized, please make sure to "
                                             "call init_process_group."):
            fn()
    want = torch_ref("names", lambda torch: [repr(torch.distributed.ReduceOp.SUM), str(torch.distributed.ReduceOp.MAX),
                                             torch.distributed.ReduceOp.AVG.value, torch.distributed.Backend("GLOO"),
                                             torch.distributed.Backend.MPI])
    assert [repr(dist.ReduceOp.SUM), str(dist.ReduceOp.MAX), dist.ReduceOp.AVG.value, dist.Backend("GLOO"),
            dist.Backend.MPI] == list(want)
    with pytest.raises(ValueError, match="Unknown backend type foo"):
        dist.Backend("foo")
    assert dist.get_default_backend_for_device("cpu") == dist.get_default_backend_for_device(ndgrad.device("cpu")) \
        == "mpi"
    with pytest.raises(ValueError, match="Default backend not registered for device : cuda:0"):
        dist.get_default_backend_for_device("cuda:0")


def test_missing_mpi4py_names_the_extra(monkeypatch):
    from ndgrad.distributed import _mpi
    monkeypatch.setattr(_mpi, "_MPI", None)
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(RuntimeError, match=r"pip install 'ndgrad\[mpi\]'"):
        dist.init_process_group("mpi")
    assert not dist.is_initialized()


def test_launcher_env_gives_torchrun_variables():
    mpich = {"PMI_RANK": "3", "PMI_SIZE": "4", "MPI_LOCALRANKID": "1", "MPI_LOCALNRANKS": "2"}
    openmpi = {"OMPI_COMM_WORLD_RANK": "3", "OMPI_COMM_WORLD_SIZE": "4", "OMPI_COMM_WORLD_LOCAL_RANK": "1",
               "OMPI_COMM_WORLD_LOCAL_SIZE": "2", "MASTER_PORT": "1234"}
    want = {"RANK": "3", "WORLD_SIZE": "4", "LOCAL_RANK": "1", "LOCAL_WORLD_SIZE": "2", "GROUP_RANK": "1",
            "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "29500"}
    assert dist.launcher_env(mpich) == want
    assert dist.launcher_env(openmpi) == dict(want, MASTER_PORT="1234")
    assert dist.launcher_env({}) == {}
