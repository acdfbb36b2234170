"""ndgrad.nn: PyTorch's torch.nn (modules, functional, init, utils) over ndgrad tensors."""
from __future__ import annotations

from . import functional, init  # noqa: F401
from . import modules  # noqa: F401
from .modules import *  # noqa: F401,F403
from .parameter import Buffer, Parameter, UninitializedBuffer, UninitializedParameter  # noqa: F401
from . import utils  # noqa: F401
from . import grad  # noqa: F401
from . import attention  # noqa: F401,E402
from . import parallel  # noqa: F401
from .parallel import DataParallel  # noqa: F401
