"""Failures that must end the job within seconds instead of hanging it.

    faults.py raise     rank 1 raises while rank 0 waits in an all_reduce
    faults.py stuck     rank 1 never reaches the all_reduce; the group's 5 s timeout aborts rank 0
"""
import datetime
import sys
import time

import ndgrad
import ndgrad.distributed as dist

mode = sys.argv[1]
dist.init_process_group("mpi", timeout=datetime.timedelta(seconds=5))  # long enough for a loaded machine
if dist.get_rank() == 1:
    time.sleep(0.2)
    if mode == "raise":
        raise ValueError("rank 1 fails on purpose")
    time.sleep(60)
dist.all_reduce(ndgrad.ones(3))
print("rank 0 finished", flush=True)
