"""One MPI launch, many checks: `mpiexec -n N python suite.py CHECKPOINT_DIR` runs every
collective (collectives.py), then DistributedDataParallel and DistributedSampler (ddp.py).
A failed check raises, and ndgrad's excepthook aborts the whole job with the traceback."""
import sys

import collectives
import ddp

import ndgrad.distributed as dist

dist.init_process_group("gloo")  # PyTorch's CPU backend name: ndgrad runs it on MPI
rank, n = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "gloo" and dist.group.WORLD is not None
counts = collectives.run(rank, n), ddp.run(rank, n, sys.argv[1])
dist.destroy_process_group()
assert not dist.is_initialized()
if rank == 0:
    print(f"collectives: {counts[0]} checks, ddp: {counts[1]} checks passed on {n} ranks", flush=True)
