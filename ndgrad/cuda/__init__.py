"""ndgrad.cuda: the device queries of torch.cuda, answered for a build without CUDA.

Programs written for PyTorch probe for a GPU before choosing a device (d2l's try_gpu:
``torch.cuda.device_count()``); here, as in PyTorch's CPU build, there is none. Calls that
need a GPU raise the AssertionError PyTorch's CPU build raises.
"""
from __future__ import annotations

from typing import Any

__all__ = ["BoolTensor", "ByteTensor", "CharTensor", "DoubleTensor", "Event", "FloatTensor", "HalfTensor", "IntTensor",
           "LongTensor", "ShortTensor", "Stream", "current_device", "current_stream", "default_stream", "device",
           "device_count", "device_of", "empty_cache", "get_arch_list", "get_device_capability", "get_device_name",
           "get_device_properties", "get_rng_state", "get_rng_state_all", "init", "initial_seed", "ipc_collect",
           "is_available", "is_bf16_supported", "is_initialized", "manual_seed", "manual_seed_all",
           "max_memory_allocated", "max_memory_reserved", "mem_get_info", "memory_allocated", "memory_reserved",
           "memory_stats", "memory_summary", "reset_max_memory_allocated", "reset_peak_memory_stats", "seed",
           "seed_all", "set_device", "set_rng_state", "set_rng_state_all", "stream", "synchronize"]

_NO_CUDA = "Torch not compiled with CUDA enabled"


def is_available() -> bool:
    """False: ndgrad computes on the CPU."""
    return False


def device_count() -> int:
    """The number of GPUs: 0."""
    return 0


def is_initialized() -> bool:
    return False


def manual_seed(seed: int) -> None:
    """Accepted and ignored (no GPU generator), as PyTorch does without CUDA."""


def manual_seed_all(seed: int) -> None:
    """Accepted and ignored (no GPU generator), as PyTorch does without CUDA."""


def seed() -> None:
    """Accepted and ignored (no GPU generator)."""


def seed_all() -> None:
    """Accepted and ignored (no GPU generator)."""


def empty_cache() -> None:
    """Nothing to free."""


def current_device() -> int:
    raise AssertionError(_NO_CUDA)


def synchronize(device: Any = None) -> None:
    raise AssertionError(_NO_CUDA)


def get_device_name(device: Any = None) -> str:
    raise AssertionError(_NO_CUDA)


def _no_cuda(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError(_NO_CUDA)


# calls that need a device: PyTorch's CPU build raises here
get_device_capability = get_device_properties = current_stream = default_stream = init = initial_seed = \
    get_rng_state = ipc_collect = mem_get_info = set_device = reset_peak_memory_stats = \
    reset_max_memory_allocated = memory_summary = _no_cuda


def is_bf16_supported(including_emulation: bool = True) -> bool:
    """False: no GPU."""
    return False


def get_arch_list() -> list:
    return []


def memory_allocated(device: Any = None) -> int:
    """0 bytes: nothing lives on a GPU."""
    return 0


max_memory_allocated = memory_reserved = max_memory_reserved = memory_allocated


def memory_stats(device: Any = None) -> dict:
    from collections import OrderedDict
    return OrderedDict()


def set_rng_state(new_state: Any, device: Any = "cuda") -> None:
    """Accepted and ignored (no GPU generator), as PyTorch does without CUDA."""


def get_rng_state_all() -> list:
    return []


def set_rng_state_all(new_states: Any) -> None:
    """Accepted and ignored (no GPU generator)."""


class Event:
    """torch.cuda.Event: it exists for device-generic code, but cannot be made without CUDA."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Tried to instantiate dummy base class Event")


class Stream:
    """torch.cuda.Stream: it exists for device-generic code, but cannot be made without CUDA."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise RuntimeError("torch.cuda.Stream requires CUDA support")


class device:
    """`with torch.cuda.device(i):` selects GPU i; only device -1 (none) can be entered here."""

    def __init__(self, device: Any) -> None:
        self.idx = -1 if device is None else getattr(device, "index", device)

    def __enter__(self) -> None:
        if self.idx not in (-1, None):
            raise AssertionError(_NO_CUDA)

    def __exit__(self, *exc: Any) -> None:
        return None


class device_of(device):
    """`with torch.cuda.device_of(t):` the device of tensor t: a CPU tensor selects none."""

    def __init__(self, obj: Any) -> None:
        super().__init__(-1)


class stream:
    """`with torch.cuda.stream(s):` a None stream does nothing, as in PyTorch."""

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    def __enter__(self) -> None:
        if self.stream is not None:
            raise AssertionError(_NO_CUDA)

    def __exit__(self, *exc: Any) -> None:
        return None


class _CudaTensorType(type):
    """torch.cuda.FloatTensor and friends: usable as names (`Tensor = torch.cuda.FloatTensor if cuda else
    torch.FloatTensor`), never as constructors or instances here."""

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise TypeError(f"type torch.cuda.{cls.__name__} not available. Torch not compiled with CUDA enabled.")

    def __instancecheck__(cls, obj: Any) -> bool:
        return False


def _cuda_type(name: str) -> type:
    return _CudaTensorType(name, (), {"__module__": __name__})


FloatTensor, DoubleTensor, HalfTensor, LongTensor, IntTensor, ShortTensor, CharTensor, ByteTensor, BoolTensor = (
    _cuda_type(n) for n in ("FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor", "IntTensor", "ShortTensor",
                            "CharTensor", "ByteTensor", "BoolTensor"))


def __getattr__(name: str) -> Any:
    if name == "amp":  # torch.cuda.amp (deprecated spellings; loaded on use)
        import importlib
        return importlib.import_module(".amp", __name__)
    raise AttributeError(f"module 'ndgrad.cuda' has no attribute '{name}'")
