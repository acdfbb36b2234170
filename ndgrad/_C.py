"""ndgrad._C (torch._C): the home PyTorch reports for a few classes of its C++ core (`torch._C.Generator`)."""
from ._random import Generator
from .ops.linalg import LinAlgError as _LinAlgError

__all__ = ["Generator", "_LinAlgError"]
