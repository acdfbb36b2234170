"""Process groups on MPI: init_process_group / destroy_process_group, new_group, the rank
queries, and the launcher environment (torchrun's variables derived from MPI's).

The MPI world is the job: `mpiexec -n N` (or `ndgrad run --nproc N`) starts the processes and
MPI connects them, so the rendezvous arguments PyTorch needs (init_method, store, MASTER_ADDR)
are accepted and checked against the MPI world rather than used.
"""
from __future__ import annotations

import datetime
import os
from typing import Any, Sequence

from . import _faults
from ._mpi import mpi

default_pg_timeout = datetime.timedelta(minutes=30)


class Backend(str):
    """A backend name. 'mpi' is what runs; 'gloo' is accepted as a synonym (also run on MPI), so
    CPU scripts written for PyTorch run unchanged."""

    UNDEFINED = "undefined"
    GLOO = "gloo"
    NCCL = "nccl"
    MPI = "mpi"
    default_device_backend_map = {"cpu": "mpi"}

    def __new__(cls, name: str) -> "Backend":
        if not isinstance(name, str):
            raise ValueError(f"Backend constructor parameter must be string-ish, but got: {type(name)}")
        value = name.lower()
        if ":" in value:  # "cpu:gloo,cuda:nccl": the CPU entry is what ndgrad runs
            parts = dict(p.split(":", 1) for p in value.split(",") if ":" in p)
            value = parts.get("cpu", "")
        if value not in (cls.GLOO, cls.NCCL, cls.MPI, cls.UNDEFINED):
            raise ValueError(f"Unknown backend type {name}")
        return str.__new__(cls, value)


class ProcessGroup:
    """A set of processes (global ranks, in group order) and the MPI communicator that connects
    them; `comm` is None on processes outside the group."""

    def __init__(self, comm: Any, ranks: Sequence[int], backend: str, timeout: datetime.timedelta) -> None:
        self.comm = comm
        self.ranks = list(ranks)
        self._group_rank = {g: i for i, g in enumerate(self.ranks)}
        self.backend = backend
        self.timeout = timeout

    def rank(self) -> int:
        return self.comm.Get_rank() if self.comm is not None else -1

    def size(self) -> int:
        return len(self.ranks)

    def group_rank(self, global_rank: int) -> int:
        r = self._group_rank.get(global_rank)
        if r is None:
            raise ValueError(f"Global rank {global_rank} is not part of group {self}")
        return r

    def __repr__(self) -> str:
        return f"<ndgrad.distributed.ProcessGroup ranks={self.ranks} backend={self.backend!r}>"


class _World:
    default_pg: ProcessGroup | None = None
    groups: list = []


_world = _World()


class _WorldMeta(type):
    @property
    def WORLD(cls) -> ProcessGroup | None:  # noqa: N802 - PyTorch's name
        return _world.default_pg


class GroupMember(metaclass=_WorldMeta):
    """`GroupMember.WORLD`: the default process group (None before init_process_group)."""

    NON_GROUP_MEMBER = -100


class group(metaclass=_WorldMeta):  # noqa: N801 - PyTorch's name
    """`dist.group.WORLD`: the default process group."""


# ---------------------------------------------------------------------------
# availability and the launcher's environment
# ---------------------------------------------------------------------------
def is_available() -> bool:
    """Whether collectives can run here: mpi4py is installed (checked without starting MPI)."""
    import importlib.util
    return importlib.util.find_spec("mpi4py") is not None


is_mpi_available = is_available
is_gloo_available = is_available  # "gloo" runs on MPI too


def is_nccl_available() -> bool:
    return False


def get_default_backend_for_device(device: Any) -> str:
    """The backend init_process_group should use for tensors on `device`: 'mpi' for the CPU."""
    kind = getattr(device, "type", None) or str(device).split(":")[0]
    backend = Backend.default_device_backend_map.get(kind)
    if backend is None:
        raise ValueError(f"Default backend not registered for device : {device}")
    return backend


def is_torchelastic_launched() -> bool:
    """True under torchrun or `ndgrad run --nproc` (both set TORCHELASTIC_RUN_ID)."""
    return os.environ.get("TORCHELASTIC_RUN_ID") is not None


# the rank, size and node-local rank/size each MPI launcher exports (MPICH/Intel MPI, Open MPI)
_LAUNCHER_VARS = (("PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID", "MPI_LOCALNRANKS"),
                  ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK",
                   "OMPI_COMM_WORLD_LOCAL_SIZE"))


def launcher_env(environ: Any = None) -> dict:
    """torchrun's variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, ...) for a process an
    MPI launcher started, read from the launcher's own variables; {} when no launcher is seen."""
    env = os.environ if environ is None else environ
    for rank, size, local_rank, local_size in _LAUNCHER_VARS:
        if rank in env and size in env:
            out = {"RANK": env[rank], "WORLD_SIZE": env[size], "LOCAL_RANK": env.get(local_rank, env[rank]),
                   "LOCAL_WORLD_SIZE": env.get(local_size, env[size])}
            out["GROUP_RANK"] = str(int(out["RANK"]) // max(int(out["LOCAL_WORLD_SIZE"]), 1))
            out["MASTER_ADDR"] = env.get("MASTER_ADDR", "127.0.0.1")
            out["MASTER_PORT"] = env.get("MASTER_PORT", "29500")
            return out
    return {}


def get_node_local_rank(fallback_rank: int | None = None) -> int:
    """This process's rank on its machine (LOCAL_RANK, as torchrun sets it)."""
    v = os.environ.get("LOCAL_RANK") or launcher_env().get("LOCAL_RANK")
    if v is not None:
        return int(v)
    if fallback_rank is not None:
        return int(fallback_rank)
    raise RuntimeError("LOCAL_RANK is not in the environment. Consider passing fallback_rank to allow "
                       "`get_node_local_rank` to work, assuming you are not running in a multi-device context "
                       "and want the code to run locally instead.")


# ---------------------------------------------------------------------------
# init / destroy
# ---------------------------------------------------------------------------
def init_process_group(backend: Any = None, init_method: str | None = None, timeout: Any = None,
                       world_size: int = -1, rank: int = -1, store: Any = None, group_name: str = "",
                       pg_options: Any = None, device_id: Any = None) -> None:
    """Join the job's processes into the default group. The processes are MPI's world (started by
    `mpiexec -n N` or `ndgrad run --nproc N`; a lone process is a world of one). A world_size or
    rank given here, or in torchrun's WORLD_SIZE / RANK variables, must agree with MPI's."""
    if _world.default_pg is not None:
        raise ValueError("trying to initialize the default process group twice!")
    name = Backend(backend) if backend is not None else Backend.MPI
    if name == Backend.NCCL:
        raise RuntimeError("Distributed package doesn't have NCCL built in: ndgrad computes on the CPU. "
                           "Use backend='mpi' (or 'gloo', which ndgrad also runs on MPI).")
    if timeout is not None and not isinstance(timeout, datetime.timedelta):
        raise TypeError(f"Expected timeout argument to be of type datetime.timedelta, got {type(timeout)}")
    MPI = mpi()
    comm = MPI.COMM_WORLD.Dup()  # our own communicator: never mixed up with the user's mpi4py traffic
    size, me = comm.Get_size(), comm.Get_rank()
    for what, given, env in (("world_size", world_size, "WORLD_SIZE"), ("rank", rank, "RANK")):
        want = size if what == "world_size" else me
        env_value = os.environ.get(env)
        if given is not None and given != -1 and int(given) != want:
            comm.Free()
            raise ValueError(f"init_process_group: {what}={given}, but MPI started this process as rank {me} of "
                             f"{size}. Start the job with `ndgrad run --nproc N script.py` or `mpiexec -n N ...`.")
        if env_value is not None and env_value.strip() and int(env_value) != want:
            comm.Free()
            raise RuntimeError(
                f"init_process_group: the environment says {env}={env_value}, but MPI sees this process as rank "
                f"{me} of {size}: ndgrad.distributed runs on MPI, so start the processes with "
                "`ndgrad run --nproc N script.py` (or `mpiexec -n N python script.py`), not torchrun.")
    timeout = timeout or default_pg_timeout
    pg = ProcessGroup(comm, range(size), str(name), timeout)
    _world.default_pg = pg
    _world.groups = [pg]
    for k, v in _local_env(comm, me, size).items():
        os.environ.setdefault(k, v)
    _faults.install(comm, timeout)


def _local_env(comm: Any, me: int, size: int) -> dict:
    MPI = mpi()
    local = comm.Split_type(MPI.COMM_TYPE_SHARED)
    env = {"RANK": str(me), "WORLD_SIZE": str(size), "LOCAL_RANK": str(local.Get_rank()),
           "LOCAL_WORLD_SIZE": str(local.Get_size())}
    local.Free()
    return env


def is_initialized() -> bool:
    return _world.default_pg is not None


def destroy_process_group(group: ProcessGroup | None = None) -> None:
    """Free one group's communicator, or with no argument every group (the default one included)."""
    if group is None or group is _world.default_pg:
        for pg in _world.groups:
            _free(pg)
        _world.groups = []
        _world.default_pg = None
        _faults.uninstall()
        return
    if group not in _world.groups:
        raise ValueError(f"Group {group} is not registered, please create group with "
                         "torch.distributed.new_group API")
    _free(group)
    _world.groups.remove(group)


def _free(pg: ProcessGroup) -> None:
    if pg.comm is not None:
        pg.comm.Free()
        pg.comm = None


def default_group() -> ProcessGroup:
    pg = _world.default_pg
    if pg is None:
        raise ValueError("Default process group has not been initialized, please make sure to call "
                         "init_process_group.")
    return pg


def resolve(group: ProcessGroup | None) -> ProcessGroup:
    """The group a collective runs on (the default one for None), checked to be live."""
    if group is None:
        return default_group()
    default_group()
    if group not in _world.groups:
        raise ValueError(f"Group {group} is not registered, please create group with "
                         "torch.distributed.new_group API")
    return group


def new_group(ranks: Sequence[int] | None = None, timeout: Any = None, backend: Any = None,
              pg_options: Any = None, use_local_synchronization: bool = False, group_desc: str | None = None,
              device_id: Any = None) -> ProcessGroup:
    """A group of some of the world's ranks (sorted, as PyTorch orders them). Every process must
    call it, members or not, in the same order."""
    world = default_group()
    size = world.size()
    ranks = list(range(size)) if ranks is None else sorted(int(r) for r in ranks)
    if len(set(ranks)) != len(ranks):
        raise ValueError(f"ranks list must not contain duplicate entries, got {ranks}")
    if len(ranks) > size:
        raise ValueError("the new group's world size should be less or equal to the world size set by "
                         "init_process_group")
    for r in ranks:
        if r < 0 or r >= size:
            raise ValueError("The new group's rank should be within the world_size set by init_process_group")
    comm = world.comm.Create(world.comm.Get_group().Incl(ranks))
    MPI = mpi()
    pg = ProcessGroup(comm if comm != MPI.COMM_NULL else None, ranks,
                      str(Backend(backend)) if backend is not None else world.backend, timeout or world.timeout)
    _world.groups.append(pg)
    return pg


# ---------------------------------------------------------------------------
# rank queries
# ---------------------------------------------------------------------------
def get_rank(group: ProcessGroup | None = None) -> int:
    """This process's rank in `group` (the default group when None); -1 outside the group."""
    return resolve(group).rank()


def get_world_size(group: ProcessGroup | None = None) -> int:
    """The number of processes in `group`; -1 for a process outside it."""
    pg = resolve(group)
    return pg.size() if pg.comm is not None else -1


def get_backend(group: ProcessGroup | None = None) -> str:
    return resolve(group).backend


def get_process_group_ranks(group: ProcessGroup | None) -> list:
    return list(resolve(group).ranks)


def get_global_rank(group: ProcessGroup | None, group_rank: int) -> int:
    pg = resolve(group)
    if not 0 <= group_rank < pg.size():
        raise ValueError(f"Group rank {group_rank} is not part of group {pg}")
    return pg.ranks[group_rank]


def get_group_rank(group: ProcessGroup | None, global_rank: int) -> int:
    return resolve(group).group_rank(global_rank)
