"""torch.backends.mkl: Intel MKL. ndgrad calls NumPy, whichever BLAS it was built with."""
from __future__ import annotations


def is_available() -> bool:
    """False: ndgrad does not call MKL itself."""
    return False
