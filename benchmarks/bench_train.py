"""MLP and LeNet-5 training throughput and peak memory, ndgrad against PyTorch: bench_models.py's
`mlp` and `lenet` workloads (each library in its own fresh process, repeats interleaved).

    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE python benchmarks/bench_train.py [bench_models.py options]
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_models  # noqa: E402

if __name__ == "__main__":
    if "--models" not in sys.argv and "--child" not in sys.argv:
        sys.argv[1:1] = ["--models", "mlp", "lenet"]
    bench_models.main()
