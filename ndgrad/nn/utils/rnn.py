"""nn.utils.rnn: variable-length batches for recurrent layers.

A PackedSequence stores a batch time-major without padding: `data` holds, for each time step,
the rows of the sequences still running (longest first), and `batch_sizes[t]` counts them.
Packing and unpacking are index_select gathers, so gradients flow through them.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...autograd.graph import rename_grad_fn
from ...ops._core import _make
from ...ops.nn import pad as _pad
from ...ops.shape import cat, stack

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence", "pad_packed_sequence", "pad_sequence",
           "unpad_sequence", "pack_sequence", "unpack_sequence"]


def _long(a: Any) -> Tensor:
    return _make(np.ascontiguousarray(a, dtype=np.int64), D.int64)


def invert_permutation(permutation: Tensor | None) -> Tensor | None:
    """The permutation that undoes `permutation` (None stays None)."""
    if permutation is None:
        return None
    p = permutation._data
    inv = np.empty_like(p)
    inv[p] = np.arange(p.shape[0], dtype=p.dtype)
    return _long(inv)


class PackedSequence(namedtuple("PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"])):
    """A packed batch of variable-length sequences (see the module doc); made by pack_padded_sequence
    or pack_sequence, never by hand in ordinary code."""

    __slots__ = ()

    def __new__(cls, data: Any, batch_sizes: Tensor | None = None, sorted_indices: Tensor | None = None,
                unsorted_indices: Tensor | None = None) -> "PackedSequence":
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes)), as the packing kernels return
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        """The same batch with `data` converted (dtype/device); the indices stay int64."""
        data = self.data.to(*args, **kwargs)
        if data is self.data:
            return self
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def cuda(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        return type(self)(self.data.cuda(*args, **kwargs), self.batch_sizes, self.sorted_indices,
                          self.unsorted_indices)

    def cpu(self, *args: Any, **kwargs: Any) -> "PackedSequence":
        return self

    def double(self) -> "PackedSequence":
        return self.to(dtype=D.float64)

    def float(self) -> "PackedSequence":
        return self.to(dtype=D.float32)

    def half(self) -> "PackedSequence":
        return self.to(dtype=D.float16)

    def long(self) -> "PackedSequence":
        return self.to(dtype=D.int64)

    def int(self) -> "PackedSequence":
        return self.to(dtype=D.int32)

    def short(self) -> "PackedSequence":
        return self.to(dtype=D.int16)

    def char(self) -> "PackedSequence":
        return self.to(dtype=D.int8)

    def byte(self) -> "PackedSequence":
        return self.to(dtype=D.uint8)

    @property
    def is_cuda(self) -> bool:
        return bool(self.data.is_cuda)

    def is_pinned(self) -> bool:
        return False


def _lengths_array(lengths: Any) -> np.ndarray:
    if isinstance(lengths, Tensor):
        if lengths.dim() != 1:
            raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {lengths.dim()}D cpu "
                               f"{D.scalar_name(lengths._dtype)} tensor")
        return lengths._data.astype(np.int64)
    arr = np.asarray(lengths)
    if arr.ndim != 1:
        raise RuntimeError(f"'lengths' argument should be a 1D CPU int64 tensor, but got {arr.ndim}D cpu Long "
                           "tensor")
    return arr.astype(np.int64)


def _packed_rows(lengths: np.ndarray, batch: int) -> tuple:
    """Row indices into the flattened time-major (T*B) input, and batch_sizes, for sorted lengths."""
    T = int(lengths[0]) if lengths.size else 0
    batch_sizes = np.array([(lengths > t).sum() for t in range(T)], np.int64)
    rows = np.concatenate([t * batch + np.arange(n) for t, n in enumerate(batch_sizes)]) if T else \
        np.zeros(0, np.int64)
    return rows.astype(np.int64), batch_sizes


def pack_padded_sequence(input: Tensor, lengths: Any, batch_first: bool = False,
                         enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch (or (B, T, *) with batch_first) whose sequence b has lengths[b] steps."""
    lens = _lengths_array(lengths)
    bdim = 0 if batch_first else 1
    if enforce_sorted:
        sorted_indices = None
    else:
        order = np.argsort(-lens, kind="stable")
        lens = lens[order]
        sorted_indices = _long(order)
        input = input.index_select(bdim, sorted_indices)
    if input.dim() < 2:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.shape[0]} "
                           f"(batch_size={input.shape[0] if input.dim() else 1})")
    B = input.shape[bdim]
    if lens.shape[0] != B:
        raise RuntimeError(f"Expected `len(lengths)` to be equal to batch_size, but got {lens.shape[0]} "
                           f"(batch_size={B})")
    if lens.size and lens.min() <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element in 'lengths' that "
                           "is <= 0")
    if np.any(lens[1:] > lens[:-1]):
        raise RuntimeError("`lengths` array must be sorted in decreasing order when `enforce_sorted` is True. You "
                           "can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to sidestep "
                           "this requirement if you do not need ONNX exportability.")
    T = input.shape[1 - bdim]
    if lens.size and lens[0] > T:
        raise RuntimeError(f"pack_padded_sequence: a sequence length ({int(lens[0])}) is longer than the padded "
                           f"input ({T} steps)")
    x = input.transpose(0, 1) if batch_first else input
    rows, batch_sizes = _packed_rows(lens, B)
    data = x.reshape((T * B,) + tuple(x.shape[2:])).index_select(0, _long(rows))
    rename_grad_fn(data, "PackPaddedSequenceBackward0")
    return PackedSequence(data, _long(batch_sizes), sorted_indices, None)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple:
    """Undo pack_padded_sequence: (padded batch, lengths in the original batch order)."""
    data, batch_sizes = sequence.data, sequence.batch_sizes._data
    T = batch_sizes.shape[0]
    B = int(batch_sizes[0]) if T else 0
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"Expected total_length to be at least the length of the longest sequence in input, but "
                             f"got total_length={total_length} and max sequence length being {T}")
    else:
        total_length = T
    lens = np.array([(batch_sizes > b).sum() for b in range(B)], np.int64)
    # a padding row at the end of data, then a (total_length * B) gather from data-or-padding
    pad_row = _make(np.full((1,) + tuple(data.shape[1:]), padding_value, data._data.dtype), data._dtype)
    src = cat([data, pad_row], 0)
    idx = np.full((total_length, B), data.shape[0], np.int64)
    off = 0
    for t in range(T):
        n = int(batch_sizes[t])
        idx[t, :n] = off + np.arange(n)
        off += n
    out = src.index_select(0, _long(idx.reshape(-1))).reshape((total_length, B) + tuple(data.shape[1:]))
    if sequence.unsorted_indices is not None:
        out = out.index_select(1, sequence.unsorted_indices)
        lens = lens[sequence.unsorted_indices._data]
    if batch_first:
        out = out.transpose(0, 1)
    return out, _long(lens)


def pad_sequence(sequences: Any, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack tensors of shape (L_i, *) into (max L, B, *) (or (B, max L, *)), padding each with padding_value."""
    if padding_side not in ("left", "right"):
        raise RuntimeError(f"Expected padding_side to be one of left or right, but got {padding_side}.")
    seqs = list(sequences)
    if not seqs:
        raise RuntimeError("received an empty list of sequences")
    L = max(int(s.shape[0]) for s in seqs)
    trail = tuple(seqs[0].shape[1:])
    rows = []
    for s in seqs:
        if tuple(s.shape[1:]) != trail:
            raise RuntimeError(f"The size of tensor a ({trail[-1] if trail else 1}) must match the size of tensor b "
                               f"({s.shape[-1] if s.dim() > 1 else 1}) at non-singleton dimension "
                               f"{max(len(trail), s.dim() - 1)}")
        n = int(s.shape[0])
        pad = [0, 0] * len(trail) + ([L - n, 0] if padding_side == "left" else [0, L - n])
        rows.append(_pad(s, pad, value=padding_value) if L > n else s)
    return stack(rows, 0 if batch_first else 1)


def unpad_sequence(padded_sequences: Tensor, lengths: Any, batch_first: bool = False) -> list:
    """Split a padded batch back into a list of tensors of their own lengths."""
    x = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    lens = _lengths_array(lengths)
    return [x[b, :int(n)] for b, n in enumerate(lens)]


def pack_sequence(sequences: Sequence[Tensor], enforce_sorted: bool = True) -> PackedSequence:
    """Pack a list of tensors of shape (L_i, *) (longest first unless enforce_sorted=False)."""
    lengths = _long([int(s.shape[0]) for s in sequences])
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of tensors that pack_sequence packed, in their original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
