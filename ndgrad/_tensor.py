"""Tensor: a NumPy array plus dtype and the autograd fields.

Arithmetic and every other op live in ops/; this file holds the object itself,
its conversions and the autograd entry points. Methods registered by ops are
attached to the class when ndgrad.ops is imported.
"""
from __future__ import annotations

import os as _os
from typing import Any, Callable, Iterator

import numpy as np

from . import _alias
from . import _dtype as D
from ._backend import CPU, device
from .autograd import grad_mode
from .autograd.graph import AccumulateGrad

_state = grad_mode.state


def size_str(shape: Any) -> str:
    """A shape as PyTorch's messages print it: `torch.Size([2, 3])`."""
    return f"torch.Size({[int(n) for n in shape]})"


class layout(str):
    """A memory layout constant (`torch.strided`, `torch.sparse_coo`); prints as PyTorch's and equals its name."""

    def __repr__(self) -> str:
        return f"{_alias.PUBLIC}.{str.__str__(self)}"

    __str__ = __repr__


strided = layout("strided")


class Size(tuple):
    """The shape of a tensor: a tuple of ints that prints as `ndgrad.Size([2, 3])`."""

    def __repr__(self) -> str:
        return f"{_alias.PUBLIC}.Size({list(self)})"

    def numel(self) -> int:
        n = 1
        for s in self:
            n *= s
        return n

    def __getitem__(self, item: Any) -> Any:
        r = tuple.__getitem__(self, item)
        return Size(r) if isinstance(item, slice) else r

    def __add__(self, other: Any) -> "Size":
        return Size(tuple.__add__(self, tuple(other)))


class Tensor:
    """A multi-dimensional array with PyTorch's API and reverse-mode autograd."""

    __slots__ = ("_data", "_dtype", "_requires_grad", "grad_fn", "_grad", "_version", "_base",
                 "_acc", "_output_nr", "_retains_grad", "_extra", "__weakref__", "__dict__")
    __array_priority__ = 1000  # NumPy defers to our reflected operators
    _is_sparse_coo = False  # True for ndgrad.sparse's COO tensors (a subclass)
    _fw = None  # forward-mode AD: {dual level id: tangent}, set in the instance dict only on dual tensors
    _batched = False  # True for ndgrad.func's BatchedTensor (the tensors a function sees inside vmap)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # `ndgrad.Tensor(2, 3)` / `Tensor([1, 2])`: the legacy constructor (float32 data).
        from ._creation import _legacy_tensor
        src = _legacy_tensor(*args, **kwargs)
        Tensor._init(self, src._data, src._dtype)

    def _init(self, data: np.ndarray, dtype: D.dtype, requires_grad: bool = False) -> None:
        self._data = data
        self._dtype = dtype
        self._requires_grad = requires_grad
        self.grad_fn = None
        self._grad = None
        self._version = [0]
        self._base = None
        self._acc = None
        self._output_nr = 0
        self._retains_grad = False
        self._extra = None

    @staticmethod
    def _make(data: np.ndarray, dtype: D.dtype, requires_grad: bool = False) -> "Tensor":
        t = _new(Tensor)
        t._data = data
        t._dtype = dtype
        t._requires_grad = requires_grad
        t.grad_fn = None
        t._grad = None
        t._version = [0]
        t._base = None
        t._acc = None
        t._output_nr = 0
        t._retains_grad = False
        t._extra = None
        return t

    # -- basic properties ----------------------------------------------------
    @property
    def dtype(self) -> D.dtype:
        return self._dtype

    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[_wrap_dim(dim, self._data.ndim)]

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return self._data.size

    nelement = numel

    def element_size(self) -> int:
        return self._dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self._dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self._data.size * self._dtype.itemsize

    @property
    def device(self) -> device:
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def layout(self) -> layout:
        return strided

    def is_floating_point(self) -> bool:
        return self._dtype.category == 2

    def is_complex(self) -> bool:
        return self._dtype.category == 3

    def stride(self, dim: int | None = None) -> Any:
        item = self._dtype.itemsize
        st = tuple(s // item for s in self._data.strides)
        return st if dim is None else st[_wrap_dim(dim, self._data.ndim)]

    def storage_offset(self) -> int:
        if self._base is None:
            return 0
        return (self._data.__array_interface__["data"][0]
                - self._base._data.__array_interface__["data"][0]) // self._dtype.itemsize

    def data_ptr(self) -> int:
        return self._data.__array_interface__["data"][0]

    def is_contiguous(self, memory_format: Any = None) -> bool:
        return self._data.flags.c_contiguous or self._data.size <= 1

    # -- autograd fields -----------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to use a "
                    "computed variable in a subgraph that doesn't require differentiation use "
                    "var_no_grad = var.detach().")
            return self
        if requires_grad and self._dtype.category < 2:
            raise RuntimeError("Only Tensors of floating point and complex dtype can require gradients")
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def grad(self) -> "Tensor | None":
        """The gradient accumulated by backward (leaves, and non-leaves that retain_grad())."""
        g = self._grad
        if g is None and self.grad_fn is not None and not self._retains_grad:
            import warnings
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. Its "
                          ".grad attribute won't be populated during autograd.backward(); call .retain_grad() "
                          "on the non-leaf Tensor if you want it, or access the leaf Tensor instead.",
                          UserWarning, stacklevel=2)
        return g

    @grad.setter
    def grad(self, value: "Tensor | None") -> None:
        self._grad = value

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    def retain_grad(self) -> None:
        if not self._requires_grad:
            raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
        if self.grad_fn is None or self._retains_grad:
            return
        self._retains_grad = True
        node = self.grad_fn
        if node._retain is None:
            node._retain = {}
        import weakref
        node._retain[self._output_nr] = weakref.ref(self)

    def _grad_edge(self) -> tuple:
        """The (node, output_nr) edge through which a gradient reaches this tensor."""
        if self._extra is not None and self._extra != self._version[0]:
            _graph.refresh_view(self)  # a view whose base changed in place since its grad_fn was made
        if self.grad_fn is not None:
            return (self.grad_fn, self._output_nr)
        if self._requires_grad:
            acc = self._acc
            if acc is None:
                acc = self._acc = AccumulateGrad(self)
            return (acc, 0)
        return (None, 0)

    def register_hook(self, hook: Callable) -> Any:
        """Call `hook(grad)` when this tensor's gradient is computed; a returned tensor replaces it."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        node, nr = self._grad_edge()

        def pre(grads: list) -> list:
            if grads[nr] is not None:
                res = hook(grads[nr])
                if res is not None:
                    grads[nr] = res
            return grads
        return node._add_pre_hook(pre)

    def register_post_accumulate_grad_hook(self, hook: Callable) -> Any:
        """Call `hook(tensor)` (returning None) after backward has accumulated a gradient into this
        leaf's `.grad`; optimizers and DistributedDataParallel use it to act per parameter."""
        if not self._requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf tensors")
        return self._grad_edge()[0].register_post_accumulate_hook(hook)

    def backward(self, gradient: "Tensor | None" = None, retain_graph: bool | None = None,
                 create_graph: bool = False, inputs: Any = None) -> None:
        """Accumulate the gradient of this tensor into the `.grad` of the leaves it depends on."""
        from .autograd.engine import backward
        backward(self, gradient, retain_graph, create_graph, inputs=inputs)

    def detach(self) -> "Tensor":
        """A tensor sharing this one's data, cut from the graph."""
        t = Tensor._make(self._data, self._dtype)
        t._version = self._version
        t._base = self._base if self._base is not None else self
        if grad_mode.fw_levels:
            t._fw = {}  # no tangent, and none taken from the base (forward-mode AD)
        return t

    def detach_(self) -> "Tensor":
        if self._base is not None and self.grad_fn is not None:
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    @property
    def data(self) -> "Tensor":
        # shares memory but not the version counter: changes through .data are not tracked
        return Tensor._make(self._data, self._dtype)

    @data.setter
    def data(self, value: "Tensor") -> None:
        self._data = value._data
        self._dtype = value._dtype

    @property
    def _version_count(self) -> int:
        return self._version[0]

    @property
    def _is_view(self) -> bool:
        return self._base is not None

    def is_inference(self) -> bool:
        return False

    # -- conversions -----------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        a = self._data
        if dtype is not None:
            a = a.astype(dtype, copy=False)
        return a

    def item(self) -> Any:
        if self._data.size != 1:
            raise RuntimeError(f"a Tensor with {self._data.size} elements cannot be converted to Scalar")
        return self._data.reshape(()).item()

    def tolist(self) -> Any:
        return self._data.tolist()

    def _scalar_check(self, kind: str) -> Any:
        if self._data.size != 1:
            if kind == "bool":
                raise RuntimeError("Boolean value of Tensor with no values is ambiguous" if self._data.size == 0
                                   else "Boolean value of Tensor with more than one value is ambiguous")
            raise ValueError("only one element tensors can be converted to Python scalars")
        return self._data.reshape(()).item()

    def __bool__(self) -> bool:
        return bool(self._scalar_check("bool"))

    def __float__(self) -> float:
        return float(self._scalar_check("float"))

    def __int__(self) -> int:
        return int(self._scalar_check("int"))

    def __complex__(self) -> complex:
        return complex(self._scalar_check("complex"))

    def __index__(self) -> int:
        if self._dtype.category > 1 or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Iterator["Tensor"]:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __hash__(self) -> int:
        return id(self)

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ._printing import tensor_repr
        return tensor_repr(self, tensor_contents=tensor_contents)

    def __str__(self) -> str:
        return self.__repr__()

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, proto: int) -> Any:
        return (_rebuild, (np.ascontiguousarray(self._data), self._dtype.name, self._requires_grad))

    def __deepcopy__(self, memo: dict) -> "Tensor":
        if self.grad_fn is not None:
            raise RuntimeError("Only Tensors created explicitly by the user (graph leaves) support the "
                               "deepcopy protocol at the moment.  If you were attempting to deepcopy a "
                               "module, this may be because of a torch.nn.utils.weight_norm usage, see "
                               "https://github.com/pytorch/pytorch/pull/103001")
        t = type(self).__new__(type(self))
        Tensor._init(t, self._data.copy(), self._dtype, self._requires_grad)
        if type(self) is not Tensor:
            for k, v in self.__dict__.items():
                setattr(t, k, v)
        if self.grad is not None:
            t.grad = self.grad.__deepcopy__(memo)
        memo[id(self)] = t
        return t

    @property
    def is_sparse(self) -> bool:
        return False

    # where the tensor lives and how it is stored: a dense CPU tensor, as in PyTorch's CPU build
    is_cpu = property(lambda self: True, doc="True: ndgrad tensors live on the CPU.")
    is_ipu = is_maia = is_meta = is_mkldnn = is_mps = is_mtia = is_nested = is_quantized = is_sparse_csr = \
        is_vulkan = is_xla = is_xpu = property(lambda self: False)

    def is_conj(self) -> bool:
        return False

    def is_neg(self) -> bool:
        return False

    def is_pinned(self, device: Any = None) -> bool:
        return False

    def pin_memory(self, device: Any = None) -> "Tensor":
        raise RuntimeError("Cannot access accelerator device when none is available.")

    def is_shared(self) -> bool:
        return False

    def is_distributed(self) -> bool:
        return False

    def is_signed(self) -> bool:
        return self._dtype.is_signed

    def is_same_size(self, other: "Tensor") -> bool:
        return self._data.shape == other._data.shape

    def is_set_to(self, tensor: "Tensor") -> bool:
        """Whether both tensors view the same memory with the same shape and strides."""
        a, b = self._data, tensor._data
        return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0] and a.shape == b.shape
                and a.strides == b.strides and self._dtype is tensor._dtype)

    def is_nonzero(self) -> bool:
        return self.__bool__()

    def cpu(self) -> "Tensor":
        return self

    def cuda(self, *args: Any, **kwargs: Any) -> "Tensor":
        raise AssertionError("Torch not compiled with CUDA enabled")

    def get_device(self) -> int:
        return -1

    def __class_getitem__(cls, item: Any) -> Any:
        return cls


_new = object.__new__
_alias.set_module("ndgrad", Tensor, Size, layout)


def _check_dtypes() -> None:
    """Debug mode (NDGRAD_CHECK_DTYPES=1, read at import; the test suite sets it): each time a
    tensor's dtype is assigned, its array must be a NumPy array (or the NumPy scalar a ufunc gives
    for 0-d input) holding that dtype. Off, nothing is wrapped and nothing costs."""
    slot = Tensor.__dict__["_dtype"]

    def set_dtype(self: Tensor, dt: D.dtype) -> None:
        slot.__set__(self, dt)
        try:  # (sparse and batched tensors keep no plain array, or not yet)
            arr = None if self._is_sparse_coo else self._data
        except (AttributeError, KeyError, NotImplementedError):
            return
        if arr is not None and (not isinstance(arr, (np.ndarray, np.generic)) or arr.dtype != dt.np):
            raise AssertionError(f"a tensor declared {dt.name} stores a {type(arr).__name__} of dtype "
                                 f"{getattr(arr, 'dtype', None)}")
    Tensor._dtype = property(slot.__get__, set_dtype)


if _os.environ.get("NDGRAD_CHECK_DTYPES") == "1":
    _check_dtypes()


from .autograd import graph as _graph  # noqa: E402

_graph._tensor_cls = Tensor


def _rebuild(arr: np.ndarray, dtype_name: str, requires_grad: bool) -> Tensor:
    t = Tensor._make(arr, D._BY_NAME[dtype_name])
    t._requires_grad = requires_grad
    return t


def _typename(obj: Any) -> str:
    """torch.typename's text for error messages: 'torch.FloatTensor' for a tensor, else the qualified type."""
    if isinstance(obj, Tensor):
        return "torch." + D.tensor_type_name(obj._dtype)
    t = type(obj)
    return t.__qualname__ if t.__module__ in ("builtins", None) else f"{t.__module__}.{t.__qualname__}"


def _wrap_dim(dim: int, ndim: int) -> int:
    """Normalise a possibly negative dim, with PyTorch's IndexError for out-of-range."""
    n = max(ndim, 1)
    if not -n <= dim < n:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})")
    return dim + n if dim < 0 else dim
