"""ndgrad.distributed: torch.distributed's API on MPI (through mpi4py, the `mpi` extra).

Start the processes with `ndgrad run --nproc N script.py` or `mpiexec -n N python script.py`;
`init_process_group()` then joins them. Everything runs on the CPU, in place on the tensors'
NumPy arrays. Importing this module does not start MPI (init_process_group does). Under an
MPI launcher it fills in torchrun's RANK / WORLD_SIZE / LOCAL_RANK / LOCAL_WORLD_SIZE
variables (when unset), so scripts written for torchrun find them.
"""
from __future__ import annotations

import os as _os

from ._mpi import ReduceOp, RedOpType  # noqa: F401
from ._world import (Backend, GroupMember, ProcessGroup, default_pg_timeout, destroy_process_group,  # noqa: F401
                     get_backend, get_default_backend_for_device, get_global_rank, get_group_rank,
                     get_node_local_rank, get_process_group_ranks, get_rank, get_world_size, group,
                     init_process_group, is_available, is_gloo_available, is_initialized, is_mpi_available,
                     is_nccl_available, is_torchelastic_launched, launcher_env, new_group)
from .collectives import (Work, all_gather, all_gather_into_tensor, all_gather_object, all_reduce,  # noqa: F401
                          all_to_all, all_to_all_single, barrier, broadcast, broadcast_object_list, gather,
                          gather_object, irecv, isend, recv, recv_object_list, reduce, reduce_scatter,
                          reduce_scatter_tensor, scatter, scatter_object_list, send, send_object_list)

for _k, _v in launcher_env().items():
    _os.environ.setdefault(_k, _v)
