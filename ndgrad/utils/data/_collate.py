"""default_collate / default_convert: turn a list of samples into a batch of tensors."""
from __future__ import annotations

import collections.abc
import re
from typing import Any, Callable

import numpy as np

from ..._tensor import Tensor

__all__ = ["default_collate", "default_convert", "collate"]

_NP_STR_OBJ = re.compile(r"[SaUO]")
_ERR = "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"


def _as_tensor(x: Any) -> Tensor:
    from ... import _creation
    return _creation.as_tensor(x)


def default_convert(data: Any) -> Any:
    """Convert NumPy arrays (also inside mappings and sequences) to tensors; leave everything else as is."""
    elem_type = type(data)
    if isinstance(data, Tensor):
        return data
    if isinstance(data, np.ndarray) or isinstance(data, np.generic):
        if isinstance(data, np.ndarray) and _NP_STR_OBJ.search(data.dtype.str) is not None:
            return data
        if isinstance(data, np.generic) and data.dtype.kind in "SaUO":
            return data
        return _as_tensor(data)
    if isinstance(data, collections.abc.Mapping):
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = data.copy()  # type: ignore[attr-defined]
                clone.update({k: default_convert(data[k]) for k in data})
                return clone
            return elem_type({k: default_convert(data[k]) for k in data})
        except TypeError:
            return {k: default_convert(data[k]) for k in data}
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return elem_type(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = data.copy()  # type: ignore[attr-defined]
                for i, d in enumerate(data):
                    clone[i] = default_convert(d)
                return clone
            return elem_type([default_convert(d) for d in data])
        except TypeError:
            return [default_convert(d) for d in data]
    return data


def _collate_tensors(batch: list) -> Tensor:
    from ... import ops  # noqa: F401 - ensures stack is registered
    from ...ops.shape import stack
    return stack(list(batch), 0)


def _collate_numpy(batch: list) -> Tensor:
    elem = batch[0]
    if isinstance(elem, np.ndarray):
        if _NP_STR_OBJ.search(elem.dtype.str) is not None:
            raise TypeError(_ERR.format(elem.dtype))
        return _collate_tensors([_as_tensor(b) for b in batch])
    if elem.dtype.kind in "SUaO":  # NumPy strings stay as they are, like Python strings
        return batch
    return _as_tensor(np.array(batch))


def collate(batch: Any, *, collate_fn_map: dict | None = None) -> Any:
    """Collate a list of samples of the same structure, using `collate_fn_map` (type -> fn) for leaves."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for t in collate_fn_map:
            if isinstance(elem, t):
                return collate_fn_map[t](batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = elem.copy()  # type: ignore[attr-defined]
                clone.update({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem})
                return clone
            return elem_type({k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem})
        except TypeError:
            return {k: collate([d[k] for d in batch], collate_fn_map=collate_fn_map) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return elem_type(*(collate(s, collate_fn_map=collate_fn_map) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        it = iter(batch)
        n = len(next(it))
        if not all(len(e) == n for e in it):
            raise RuntimeError("each element in list of batch should be of equal size")
        transposed = list(zip(*batch))
        if isinstance(elem, tuple):
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = elem.copy()  # type: ignore[attr-defined]
                for i, s in enumerate(transposed):
                    clone[i] = collate(s, collate_fn_map=collate_fn_map)
                return clone
            return elem_type([collate(s, collate_fn_map=collate_fn_map) for s in transposed])
        except TypeError:
            return [collate(s, collate_fn_map=collate_fn_map) for s in transposed]
    raise TypeError(_ERR.format(elem_type))


def _tensor_fn(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    return _collate_tensors(batch)


def _numpy_fn(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    return _collate_numpy(batch)


def _float_fn(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    from ... import _creation, float64
    return _creation.tensor(list(batch), dtype=float64)


def _int_fn(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    from ... import _creation
    return _creation.tensor(list(batch))


def _str_fn(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    return batch


default_collate_fn_map: dict[type | tuple, Callable] = {
    Tensor: _tensor_fn,
    np.ndarray: _numpy_fn,
    np.generic: _numpy_fn,
    float: _float_fn,
    int: _int_fn,
    str: _str_fn,
    bytes: _str_fn,
}


def default_collate(batch: Any) -> Any:
    """Stack a list of samples into a batch: tensors and NumPy arrays are stacked along a new first dim,
    Python ints become an int64 tensor and floats a float64 tensor, strings stay a list, and mappings,
    namedtuples and sequences are collated field by field (tuples become lists, as in PyTorch)."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
