"""AdaptiveLogSoftmaxWithLoss: the efficient softmax of Grave et al. for large vocabularies.

Frequent classes (below cutoffs[0]) are scored by the head together with one logit per tail
cluster; a rarer class's log-probability is its cluster's head log-probability plus its
log-probability within the cluster, whose projection shrinks by div_value per cluster.
"""
from __future__ import annotations

from collections import namedtuple
from typing import Any, Sequence

import numpy as np

from ... import _dtype as D
from ..._tensor import Tensor
from ...ops._core import _make
from ...ops.shape import cat
from .. import functional as F
from .container import ModuleList, Sequential
from .linear import Linear
from .module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax over n_classes split at `cutoffs`; forward(input, target) -> (output, loss)."""

    def __init__(self, in_features: int, n_classes: int, cutoffs: Sequence[int], div_value: float = 4.0,
                 head_bias: bool = False, device: Any = None, dtype: Any = None) -> None:
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted in an increasing "
                             "order, where each value is between 1 and n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        kw = {} if dtype is None else {"dtype": dtype}
        self.head = Linear(in_features, self.head_size, bias=head_bias, **kw)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(Linear(in_features, hsz, bias=False, **kw),
                                        Linear(hsz, osz, bias=False, **kw)))

    def reset_parameters(self) -> None:
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_: Tensor, target_: Tensor) -> _ASMoutput:
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.shape[0] != target_.shape[0]:
                raise RuntimeError("Input and target should have the same size in the batch dimension.")
            if input_.dim() != 2:
                raise RuntimeError(f"1D target tensor expects 2D input tensors, but found inputs with size "
                                   f"{input_.shape}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError(f"0D target tensor expects 1D input tensors, but found inputs with size "
                                   f"{input_.shape}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        t = (target_ if batched else target_.unsqueeze(0))._data.astype(np.int64)
        if t.size and (t.min() < 0 or t.max() >= self.n_classes):
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but values in range "
                               f"[{int(t.min())}, {int(t.max())}] were found. ")
        B = t.shape[0]
        head_col = np.where(t < self.shortlist_size, t, 0)  # which head logit each row reads
        parts, rows = [], []
        for i in range(1, len(self.cutoffs)):
            lo, hi = self.cutoffs[i - 1], self.cutoffs[i]
            idx = np.nonzero((t >= lo) & (t < hi))[0]
            if idx.size == 0:
                continue
            head_col[idx] = self.shortlist_size + i - 1
            sel = _make(idx.astype(np.int64), D.int64)
            logp = F.log_softmax(self.tail[i - 1](input.index_select(0, sel)), dim=1)
            parts.append(logp.gather(1, _make((t[idx] - lo)[:, None], D.int64)).squeeze(1))
            rows.append(idx)
        head_logp = F.log_softmax(self.head(input), dim=1)
        output = head_logp.gather(1, _make(head_col[:, None], D.int64)).squeeze(1)
        if parts:  # add each tail row's within-cluster log-probability at its place in the batch
            zeros = _make(np.zeros(B, output._data.dtype), output._dtype)
            output = output + zeros.index_copy(0, _make(np.concatenate(rows), D.int64), cat(parts, 0))
        loss = (-output).mean()
        if not batched:
            output = output.squeeze(0)
        return _ASMoutput(output, loss)

    def _get_full_log_prob(self, input: Tensor, head_output: Tensor) -> Tensor:
        head_logp = F.log_softmax(head_output, dim=1)
        pieces = [head_logp[:, :self.shortlist_size]]
        for i in range(self.n_clusters):
            cluster = F.log_softmax(self.tail[i](input), dim=1)
            pieces.append(cluster + head_logp[:, self.shortlist_size + i].unsqueeze(1))
        return cat(pieces, 1)

    def log_prob(self, input: Tensor) -> Tensor:
        """Log-probabilities of every class, (N, n_classes) (or (n_classes,) for 1-D input)."""
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        out = self._get_full_log_prob(x, self.head(x))
        return out if batched else out.squeeze(0)

    def predict(self, input: Tensor) -> Tensor:
        """The most likely class of each row (looks into the tails only where the head points there)."""
        batched = input.dim() == 2
        x = input if batched else input.unsqueeze(0)
        head_output = self.head(x)
        out = head_output.argmax(dim=1)
        far = out._data >= self.shortlist_size
        if far.any():
            sel = _make(np.nonzero(far)[0].astype(np.int64), D.int64)
            full = self._get_full_log_prob(x.index_select(0, sel), head_output.index_select(0, sel))
            res = out._data.copy()
            res[far] = full.argmax(dim=1)._data
            out = _make(res, D.int64)
        return out if batched else out.squeeze(0)
