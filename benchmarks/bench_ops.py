"""Per-op overhead and BLAS-bound work, ndgrad against PyTorch, each library in its own fresh process.

Cases: a chain of 100 small elementwise ops (forward only, and forward + backward, reported per op)
on shape (4,) and 256x256; a 1024x1024 float32 matmul; and the time of a fresh `import ndgrad`
against `import numpy`. Three processes per library, interleaved; `--threads` adds a 1-thread run.

Run with the machine's BLAS pins removed, as a user's machine has none:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_ops.py [--quick] [--threads]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from ndgrad._bench import main  # noqa: E402  (the parent only orchestrates; children import one library each)

if __name__ == "__main__":
    main(quick="--quick" in sys.argv, threads=("default", "1") if "--threads" in sys.argv else ("default",))
