"""torch.backends.openmp: ndgrad runs no OpenMP code of its own."""
from __future__ import annotations


def is_available() -> bool:
    """False: ndgrad's threads are those of NumPy's BLAS (see ndgrad.set_num_threads)."""
    return False
