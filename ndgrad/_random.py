"""Random numbers: a Generator, the global default generator and the sampling factories.

Streams are reproducible within ndgrad (same seed -> same numbers) but are not
PyTorch's Mersenne-Twister streams: to compare with PyTorch, copy the tensors.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from . import _dtype as D
from ._backend import check_device
from ._creation import _size_args, as_dtype
from ._tensor import Tensor

_make = Tensor._make


class Generator:
    """A source of random numbers with its own state (`manual_seed`, `get_state`, `set_state`)."""

    def __init__(self, device: Any = "cpu") -> None:
        check_device(device)
        self._seed = 67280421310721
        self._state: Any = None

    @property
    def _rng(self) -> np.random.Generator:
        # created on first use: importing numpy.random costs ~30 ms of `import ndgrad`
        if self._state is None:
            self._state = np.random.default_rng(self._seed & 0xFFFFFFFFFFFFFFFF)
        return self._state

    @property
    def device(self) -> Any:
        from ._backend import CPU
        return CPU

    def manual_seed(self, seed: int) -> "Generator":
        seed = int(seed)
        self._seed = seed
        self._state = np.random.default_rng(seed & 0xFFFFFFFFFFFFFFFF)
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy) & 0xFFFFFFFFFFFFFFFF
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (the PCG64 state and increment, 16 bytes each, then the
        buffered-uint32 flag and value, 8 bytes each, little-endian)."""
        s = self._rng.bit_generator.state
        raw = b"".join(int(v).to_bytes(n, "little") for v, n in (
            (s["state"]["state"], 16), (s["state"]["inc"], 16), (s["has_uint32"], 8), (s["uinteger"], 8)))
        return _make(np.frombuffer(raw, dtype=np.uint8).copy(), D.uint8)

    def set_state(self, new_state: Tensor) -> "Generator":
        """Restore a state from get_state(). Plain bytes are decoded, never unpickled: states may come from files."""
        if not isinstance(new_state, Tensor) or new_state._dtype is not D.uint8 or new_state._data.size != 48:
            raise RuntimeError("Invalid RNG state: expected a 48-byte ByteTensor from get_state()")
        raw = new_state._data.tobytes()
        num = [int.from_bytes(raw[a:b], "little") for a, b in ((0, 16), (16, 32), (32, 40), (40, 48))]
        self._rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": num[0], "inc": num[1]},
                                         "has_uint32": num[2], "uinteger": num[3]}
        return self


Generator.__module__ = "ndgrad._C"  # where PyTorch reports it: torch._C.Generator
default_generator = Generator()


def _rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator)._rng


def manual_seed(seed: int) -> Generator:
    """Seed the default generator."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator non-deterministically; returns the seed."""
    return default_generator.seed()


def initial_seed() -> int:
    """The seed the default generator was last seeded with."""
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    """Restore the default generator's state from get_rng_state()."""
    default_generator.set_state(new_state)


def _float_dtype(dtype: Any, kernel: str = "check_uniform_bounds") -> D.dtype:
    dt = as_dtype(dtype) or D.get_default_dtype()
    if dt.category != 2:
        raise NotImplementedError(f"\"{kernel}\" not implemented for '{_cap(dt)}'")
    return dt


_cap = D.scalar_name


def _out(arr: np.ndarray, dt: D.dtype, requires_grad: bool, out: Tensor | None = None) -> Tensor:
    arr = np.asarray(arr).astype(dt.np, copy=False)
    t = _make(arr if arr.flags.c_contiguous else arr.copy(), dt)
    if out is not None:  # written into `out` (resized to the result's shape), as PyTorch's out= does
        from .ops._core import write_out
        return write_out(out, t)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _factory_size(fn: str, args: tuple, size: Any) -> tuple:
    """The shape of rand/randn(*size) or (size=...), refusing what PyTorch refuses."""
    if size is not None and args:
        got = ", ".join(type(a).__name__ for a in args)
        raise TypeError(f"{fn}() received an invalid combination of arguments - got ({got}, size="
                        f"{type(size).__name__}), but expected one of:\n * (tuple of ints size, *, ...)")
    if size is None and not args:
        raise TypeError(f"{fn}() received an invalid combination of arguments - got (), but expected one of:\n"
                        " * (tuple of ints size, *, ...)")
    return _size_args(args if size is None else (size,), fn)


def _out_dtype(dtype: Any, out: Tensor | None, default: D.dtype) -> D.dtype:
    dt = as_dtype(dtype)
    return dt if dt is not None else out._dtype if out is not None else default


def _vmap_batch(shape: tuple) -> tuple:
    """Inside vmap: (the levels a sample is drawn per example for, the shape with their batch sizes in
    front); PyTorch's error in randomness='error' mode."""
    from .autograd.grad_mode import vmap_levels
    if not vmap_levels:
        return (), shape
    from .ops._core import VMAP
    lv = VMAP["random_levels"]()
    return lv, (VMAP["sizes"](lv) + tuple(shape) if lv else shape)


def _vmap_out(t: Tensor, levels: tuple) -> Tensor:
    if not levels:
        return t
    from .ops._core import VMAP
    return VMAP["wrap"](t, levels)


def rand(*args: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Tensor | None = None, layout: Any = None, pin_memory: bool = False,
         size: Any = None) -> Tensor:
    """Uniform samples on [0, 1); sizes as varargs, one sequence or size=."""
    lv, shape = _vmap_batch(_factory_size("rand", args, size))
    check_device(device)
    dt = _float_dtype(_out_dtype(dtype, out, D.get_default_dtype()))
    arr = _rng(generator).random(shape, dtype=np.float64 if dt is D.float64 else np.float32)
    return _vmap_out(_out(arr, dt, requires_grad, out), lv)


def randn(*args: Any, generator: Generator | None = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, out: Tensor | None = None, layout: Any = None, pin_memory: bool = False,
          size: Any = None) -> Tensor:
    """Standard normal samples; sizes as varargs, one sequence or size=."""
    lv, shape = _vmap_batch(_factory_size("randn", args, size))
    check_device(device)
    dt = _float_dtype(_out_dtype(dtype, out, D.get_default_dtype()), "normal_kernel_cpu")
    arr = _rng(generator).standard_normal(shape, dtype=np.float64 if dt is D.float64 else np.float32)
    return _vmap_out(_out(arr, dt, requires_grad, out), lv)


def _int_arg(fn: str, name: str, pos: int | None, value: Any) -> int:
    if isinstance(value, Tensor) and value._data.size == 1 and value._dtype.category <= 1:
        return int(value.item())
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    where = f" (position {pos})" if pos else ""
    raise TypeError(f"{fn}(): argument '{name}'{where} must be int, not {type(value).__name__}")


# C type names PyTorch's range checks print
_C_TYPE = {D.bool: "bool", D.uint8: "unsigned char", D.int8: "signed char", D.int16: "short", D.int32: "int",
           D.int64: "long"}


def randint(*args: Any, low: Any = None, high: Any = None, size: Any = None, generator: Generator | None = None,
            dtype: Any = None, device: Any = None, requires_grad: bool = False, out: Tensor | None = None,
            layout: Any = None, pin_memory: bool = False) -> Tensor:
    """Integers uniform on [low, high) (int64 unless dtype or out says otherwise).

    Called as randint(high, size), randint(low, high, size), or with any of them as keywords.
    """
    pos = list(args)
    size_pos = len(pos)
    if size is None:
        if not pos:
            raise TypeError('randint() missing 2 required positional argument: "high", "size"')
        size = pos.pop()
    if not isinstance(size, (tuple, list)):
        where = f" (position {size_pos})" if size_pos and len(pos) < size_pos else ""
        if not pos and high is None and len(args) == 1:
            raise TypeError(f"randint() received an invalid combination of arguments - got ({type(size).__name__}),"
                            " but expected one of:\n * (int high, tuple of ints size, *, ...)\n"
                            " * (int low, int high, tuple of ints size, *, ...)")
        raise TypeError(f"randint(): argument 'size'{where} must be tuple of ints, not {type(size).__name__}")
    if len(pos) > 2 or (len(pos) == 2 and (low is not None or high is not None)):
        raise TypeError("randint() received an invalid combination of arguments")
    if len(pos) == 2:
        low, high = pos
    elif len(pos) == 1:
        if high is None:
            high = pos[0]
        else:
            low = pos[0]
    if high is None:
        raise TypeError('randint() missing 1 required positional argument: "high"')
    two = low is not None
    low = 0 if low is None else _int_arg("randint", "low", 1, low)
    high = _int_arg("randint", "high", 2 if two else 1, high)
    shape = _size_args((size,), "randint")
    check_device(device)
    if low >= high:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    dt = _out_dtype(dtype, out, D.int64)
    if dt in _C_TYPE:
        lo, hi = (0, 1) if dt is D.bool else (int(np.iinfo(dt.np).min), int(np.iinfo(dt.np).max))
        if not lo <= low <= hi:
            raise RuntimeError(f"from is out of bounds for {_C_TYPE[dt]}")
        if not lo <= high - 1 <= hi:
            raise RuntimeError(f"to - 1 is out of bounds for {_C_TYPE[dt]}")
    lv, shape = _vmap_batch(shape)
    return _vmap_out(_out(_rng(generator).integers(low, high, shape), dt, requires_grad, out), lv)


def randperm(n: Any, *, generator: Generator | None = None, dtype: Any = None, device: Any = None,
             requires_grad: bool = False, out: Tensor | None = None, layout: Any = None,
             pin_memory: bool = False) -> Tensor:
    """A random permutation of 0..n-1 (int64 unless dtype or out says otherwise)."""
    n = _int_arg("randperm", "n", 1, n)
    check_device(device)
    if n < 0:
        raise RuntimeError(f"Trying to create tensor with negative dimension {n}: [{n}]")
    dt = _out_dtype(dtype, out, D.int64)
    return _out(_rng(generator).permutation(n), dt, requires_grad, out)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Sequence | None = None, *, generator: Generator | None = None,
           dtype: Any = None, out: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Normal samples with the given mean and std (tensors broadcast, or scalars with size)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        if np.any(np.asarray(s) < 0):
            raise RuntimeError("normal expects all elements of std >= 0.0")
        shape = np.broadcast_shapes(np.shape(m), np.shape(s))
        dt = mean._dtype if isinstance(mean, Tensor) else std._dtype
        return _out(_rng(generator).normal(m, s, shape), dt, requires_grad)
    if size is None:
        raise TypeError("normal() missing required argument 'size'")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    dt = _float_dtype(dtype)
    return _out(_rng(generator).normal(mean, std, _size_args((size,))), dt, requires_grad)


def bernoulli(input: Tensor, p: float | None = None, *, generator: Generator | None = None) -> Tensor:
    """0/1 samples with probabilities `input` (or a fixed p)."""
    probs = input._data if p is None else np.full(input._data.shape, p)
    if np.any((probs < 0) | (probs > 1)):
        raise RuntimeError("Expected p_in >= 0 && p_in <= 1 to be true, but got false.")
    return _out((_rng(generator).random(input._data.shape) < probs), input._dtype, False)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Sample category indices from rows of non-negative weights."""
    w = input._data.astype(np.float64)
    if w.ndim not in (1, 2):
        raise RuntimeError("prob_dist must be 1 or 2 dim")
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise RuntimeError("probability tensor contains either `inf`, `nan` or element < 0")
    rows = w.reshape(-1, w.shape[-1])
    if not replacement and num_samples > rows.shape[1]:
        raise RuntimeError("cannot sample n_sample > prob_dist.size(-1) samples without replacement")
    rng = _rng(generator)
    out = np.empty((rows.shape[0], num_samples), np.int64)
    for i, r in enumerate(rows):
        s = r.sum()
        if s <= 0:
            raise RuntimeError("invalid multinomial distribution (sum of probabilities <= 0)")
        if replacement:
            out[i] = rng.choice(len(r), size=num_samples, replace=True, p=r / s)
        else:
            # exponential race: category k finishes at E_k / p_k; zero weights finish last
            with np.errstate(divide="ignore"):
                keys = rng.exponential(size=len(r)) / r
            out[i] = np.argsort(keys, kind="stable")[:num_samples]
    return _make(out.reshape(w.shape[:-1] + (num_samples,)), D.int64)


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    """Samples from Poisson distributions with rates `input`."""
    return _out(_rng(generator).poisson(input._data), input._dtype, False)


def rand_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """Uniform [0, 1) samples with `input`'s shape (and dtype unless given)."""
    return rand(input._data.shape, dtype=dtype or input._dtype, requires_grad=requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, requires_grad: bool = False, **kw: Any) -> Tensor:
    """Standard normal samples with `input`'s shape (and dtype unless given)."""
    return randn(input._data.shape, dtype=dtype or input._dtype, requires_grad=requires_grad)


def randint_like(input: Tensor, low: int = 0, high: Any = None, *, dtype: Any = None, **kw: Any) -> Tensor:
    """Random integers in [low, high) with `input`'s shape (one bound given means high)."""
    if high is None:
        low, high = 0, low
    return randint(low, high, input._data.shape, dtype=dtype or input._dtype)


# --- in-place samplers on tensors (no gradient; allowed on leaves under no_grad) ---
def _affine_draw(dst: np.ndarray, draw: Any, loc: float, scale: float) -> np.ndarray:
    """loc + scale * draw() samples shaped like `dst`, drawn in float32 (float64 for a float64 `dst`) and
    straight into `dst`'s memory when it has that dtype and is contiguous (no float64 temporary: a VGG
    classifier's 100M weights initialise in a fraction of the time)."""
    wide = np.float64 if dst.dtype == np.float64 else np.float32
    if dst.dtype == wide and dst.flags.c_contiguous:
        buf = draw(dtype=wide, out=dst)
    else:
        buf = draw(dst.shape, dtype=wide)
    if scale != 1:
        buf *= wide(scale)
    if loc != 0:
        buf += wide(loc)
    return buf


def _writable(self: Tensor) -> Tensor:
    from .autograd.grad_mode import state
    if state.enabled and self._requires_grad and self.grad_fn is None:
        raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
    return self


def _fill_random(self: Tensor, arr: np.ndarray) -> Tensor:
    _writable(self)
    if arr is not self._data:
        np.copyto(self._data, arr, casting="unsafe")
    self._version[0] += 1
    return self


def _uniform_(self: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    _float_dtype(self._dtype)
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > to={b}")
    return _fill_random(self, _affine_draw(_writable(self)._data, _rng(generator).random, a, b - a))


def _normal_(self: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    _float_dtype(self._dtype, "normal_kernel_cpu")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    return _fill_random(self, _affine_draw(_writable(self)._data, _rng(generator).standard_normal, mean, std))


def _bernoulli_(self: Tensor, p: Any = 0.5, *, generator: Generator | None = None) -> Tensor:
    pr = p._data if isinstance(p, Tensor) else p
    return _fill_random(self, _rng(generator).random(self._data.shape) < pr)


def _random_(self: Tensor, from_: int = 0, to: int | None = None, *, generator: Generator | None = None) -> Tensor:
    if to is None:
        to = 2 ** 24 if self._dtype is D.float32 else 2 ** 53 if self._dtype is D.float64 else \
            int(np.iinfo(self._dtype.np).max) + 1 if self._dtype.category == 1 else 2
    return _fill_random(self, _rng(generator).integers(from_, to, self._data.shape))


def _exponential_(self: Tensor, lambd: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    return _fill_random(self, _rng(generator).exponential(1 / lambd, self._data.shape))


def _cauchy_(self: Tensor, median: float = 0.0, sigma: float = 1.0, *, generator: Generator | None = None) -> Tensor:
    return _fill_random(self, median + sigma * _rng(generator).standard_cauchy(self._data.shape))


def _geometric_(self: Tensor, p: float, *, generator: Generator | None = None) -> Tensor:
    return _fill_random(self, _rng(generator).geometric(p, self._data.shape))


def _log_normal_(self: Tensor, mean: float = 1.0, std: float = 2.0, *, generator: Generator | None = None) -> Tensor:
    return _fill_random(self, _rng(generator).lognormal(mean, std, self._data.shape))


Tensor.uniform_ = _uniform_
Tensor.normal_ = _normal_
Tensor.bernoulli_ = _bernoulli_
Tensor.random_ = _random_
Tensor.exponential_ = _exponential_
Tensor.cauchy_ = _cauchy_
Tensor.geometric_ = _geometric_
Tensor.log_normal_ = _log_normal_
Tensor.bernoulli = lambda self, p=None, *, generator=None: bernoulli(self, p, generator=generator)
Tensor.multinomial = multinomial
