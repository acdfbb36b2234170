"""ndgrad.autograd: the reverse-mode engine and its public helpers."""
from .grad_mode import (enable_grad, inference_mode, is_grad_enabled, no_grad,  # noqa: F401
                        set_grad_enabled)
from .graph import Node  # noqa: F401
from .engine import backward, grad  # noqa: F401
from .function import Function  # noqa: F401
from . import functional  # noqa: F401
from .gradcheck import gradcheck, gradgradcheck  # noqa: F401
