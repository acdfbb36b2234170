"""Rank 1 raises while rank 0 waits in an all_reduce: the job must end (non-zero) within seconds."""
import time

import ndgrad
import ndgrad.distributed as dist

dist.init_process_group("mpi")
if dist.get_rank() == 1:
    time.sleep(0.2)
    raise ValueError("rank 1 fails on purpose")
dist.all_reduce(ndgrad.ones(3))
print("rank 0 finished", flush=True)
