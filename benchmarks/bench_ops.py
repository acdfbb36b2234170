"""Per-op overhead and BLAS-bound work, ndgrad beside PyTorch in one process.

Cases: a chain of 100 small elementwise ops (forward only, and forward + backward,
reported per op) on shape (4,) and 256x256; a 1024x1024 float32 matmul; and the time
of a fresh `import ndgrad` against `import numpy`.

Run with the machine's BLAS pins removed, as a user's machine has none:
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_ops.py
"""
import sys

from ndgrad._bench import main

if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
