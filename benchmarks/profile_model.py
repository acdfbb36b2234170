"""Profile ndgrad on one workload of bench_models.py with cProfile (top functions by own time).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/profile_model.py gpt [--steps 3] [--cpu]
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import bench_models as B  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=list(B.WORKLOADS))
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--cpu", action="store_true", help="time with the process CPU clock (robust on a loaded machine)")
    a = ap.parse_args()
    import ndgrad as fw
    with tempfile.TemporaryDirectory() as tmp:
        w = os.path.join(tmp, "w.npz")
        B.write_weights(a.kind, w)
        model = B.BUILDERS[a.kind](fw)
        import numpy as np
        with np.load(w) as z:
            model.load_state_dict({k: fw.from_numpy(z[k].copy()) for k in z.files})
    train = B.make_trainer(fw, a.kind, model)
    batches = [tuple(fw.from_numpy(x) for x in b) for b in B.make_data(a.kind, 4)]
    train(batches[0])
    import time
    prof = cProfile.Profile(time.process_time) if a.cpu else cProfile.Profile()
    prof.enable()
    for i in range(a.steps):
        float(train(batches[(i + 1) % 4]).detach())
    prof.disable()
    pstats.Stats(prof).sort_stats(a.sort).print_stats(a.top)


if __name__ == "__main__":
    main()
