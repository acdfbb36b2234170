"""ndgrad: PyTorch's API over NumPy, with a reverse-mode autograd engine in Python.

`import ndgrad as torch` runs tensor, autograd, nn and optim code written for PyTorch.
This module only re-exports; the code lives in the submodules.
"""
from __future__ import annotations

import sys as _sys

from .version import ndgrad as __version__  # noqa: E402  (`torch.__version__` under the alias: see version.py)
from . import _alias, _dtype
from ._backend import device
from ._dtype import (bfloat16, bool, can_cast, complex64, complex128, dtype, finfo, float16, float32,  # noqa: A004
                     float64, get_default_dtype, iinfo, int8, int16, int32, int64, promote_types, result_type,
                     set_default_dtype, uint8)
from ._tensor import Size, Tensor, layout, strided
from . import ops as _ops  # attaches methods to Tensor
import inspect as _inspect

from .ops._core import REGISTRY as _REGISTRY
from .ops._core import with_out as _with_out
from ._creation import (arange, as_tensor, asarray, bartlett_window, blackman_window, empty,  # noqa: F401
                        empty_like, empty_strided, eye, from_dlpack, from_numpy, frombuffer, full, full_like,
                        hamming_window, hann_window, kaiser_window, linspace, logspace, ones, ones_like, range,
                        scalar_tensor, tensor, zeros, zeros_like)
from ._random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,  # noqa: F401
                      manual_seed, multinomial, normal, poisson, rand, rand_like, randint, randint_like, randn,
                      randn_like, randperm, seed, set_rng_state)
from .ops.shape import broadcast_shapes, broadcast_tensors  # noqa: F401
from .ops.elementwise import rsub  # noqa: F401
from . import autograd
from .autograd.grad_mode import (enable_grad, inference_mode, is_grad_enabled,  # noqa: F401
                                 is_inference_mode_enabled, no_grad, set_grad_enabled,
                                 is_anomaly_enabled, is_anomaly_check_nan_enabled)
from . import linalg
from ._printing import set_printoptions  # noqa: F401
from ._config import (are_deterministic_algorithms_enabled, get_default_device,  # noqa: F401
                      get_deterministic_debug_mode, get_float32_matmul_precision, get_num_interop_threads,
                      get_num_threads, is_deterministic_algorithms_warn_only_enabled, is_storage,
                      is_warn_always_enabled, set_default_device, set_default_tensor_type,
                      set_deterministic_debug_mode, set_float32_matmul_precision, set_flush_denormal,
                      set_num_interop_threads, set_num_threads, set_warn_always, use_deterministic_algorithms)
from ._tensor import _typename as typename  # noqa: F401

for _name, (_fn, _, _is_function) in _REGISTRY.items():
    if _is_function and _name not in globals():  # the function form takes PyTorch's out= (the method does not)
        globals()[_name] = _fn if "out" in _inspect.signature(_fn).parameters else _with_out(_fn, _name)
del _name, _fn, _is_function
Tensor.sum_to_size = autograd.sum_to_size  # the engine's reduction of broadcast gradients, as a method

long = int64
int = int32  # noqa: A001
short = int16
half = float16
float = float32  # noqa: A001
double = float64
cfloat = complex64
cdouble = complex128
contiguous_format = preserve_format = channels_last = None
pi = 3.141592653589793
e = 2.718281828459045
inf = __builtins__["float"]("inf") if isinstance(__builtins__, dict) else __builtins__.float("inf")
nan = inf - inf

from ._creation import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor,  # noqa: E402,F401
                        IntTensor, LongTensor, ShortTensor)


def is_tensor(obj: object) -> __builtins__["bool"] if isinstance(__builtins__, dict) else object:  # type: ignore
    """True for ndgrad tensors."""
    return isinstance(obj, Tensor)


def is_floating_point(input: Tensor) -> bool:
    """Whether `input` has a floating-point dtype."""
    return input.is_floating_point()


def is_complex(input: Tensor) -> bool:
    """Whether `input` has a complex dtype."""
    return input.is_complex()


def numel(input: Tensor) -> int:
    """Number of elements of `input`."""
    return input.numel()


def is_nonzero(input: Tensor) -> bool:
    """Whether a one-element tensor is non-zero (RuntimeError for any other size)."""
    return input.__bool__()  # `bool` here is ndgrad.bool, the dtype


def use_as_torch(enable: bool = True) -> None:
    """Make `import torch` (and every `torch.*` submodule) resolve to ndgrad in this process.

    What `ndgrad run` does before running a program, for a notebook or an interactive session: call it
    before `import torch`. Reprs then spell `torch.` as PyTorch's do; `use_as_torch(False)` undoes it.
    Nothing is installed and other processes are unaffected.
    """
    if enable:
        _alias.enable()
    else:
        _alias.disable()


def load_ipython_extension(ipython: object) -> None:
    """`%load_ext ndgrad`: from now on `import torch` (and torchvision) in this IPython session or
    Jupyter kernel resolve to ndgrad, as under `ndgrad run`."""
    _alias.enable()


def unload_ipython_extension(ipython: object) -> None:
    """`%unload_ext ndgrad`: `import torch` is PyTorch again (names already bound keep what they hold)."""
    _alias.disable()


# torch.<name> aliases of nn.functional with the same arguments (more, with ATen's argument orders, in _aten)
_FUNCTIONAL = ("hardtanh",)


_AMP = ("autocast", "get_autocast_dtype", "set_autocast_dtype", "is_autocast_enabled", "set_autocast_enabled",
        "is_autocast_available", "is_autocast_cpu_enabled", "get_autocast_cpu_dtype")


def _submodules() -> list:
    import pkgutil
    return [m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("__")]


def __getattr__(name: str) -> object:
    # optional and heavier parts load on first use, keeping `import ndgrad` light
    import importlib
    if name == "compile":
        return importlib.import_module(".compiler", __name__).compile
    if name in ("save", "load"):
        return getattr(importlib.import_module(".serialization", __name__), name)
    if name == "vmap":  # torch.vmap is torch.func.vmap
        return importlib.import_module(".func", __name__).vmap
    if name in _FUNCTIONAL:
        return getattr(importlib.import_module(".nn.functional", __name__), name)
    aten = importlib.import_module("._aten", __name__)
    if name in aten.NAMES:
        return getattr(aten, name)
    if name in ("sparse_coo_tensor", "sparse_coo", "spmm"):  # torch.<name> aliases of torch.sparse
        return getattr(importlib.import_module(".sparse", __name__), name)
    if name in _AMP:  # torch.autocast and the autocast state queries
        return getattr(importlib.import_module(".amp.autocast_mode", __name__), name)
    if not name.startswith("__") and name in _submodules():
        return importlib.import_module(f".{name}", __name__)
    raise _alias.missing(__name__, name, _sys.modules[__name__])


def __dir__() -> list:
    import importlib
    return sorted(set(globals()) | {n for n in _submodules() if not n.startswith("_")}
                  | {"save", "load", "compile", "vmap"}
                  | set(_FUNCTIONAL) | set(_AMP) | {"sparse_coo_tensor", "sparse_coo", "spmm"}
                  | set(importlib.import_module("._aten", __name__).NAMES))
