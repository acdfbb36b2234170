"""Autograd functions behind modules that talk to other processes (torch.nn.modules._functions).

`SyncBatchNorm` normalizes with statistics of the whole process group: each rank contributes
its per-channel count, mean and sum of squared deviations (combined exactly, as parallel
variance is), and backward all-reduces the two per-channel sums every rank's input gradient
needs. Gradients of weight and bias stay local sums: DistributedDataParallel averages them.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..._creation import from_numpy
from ..._tensor import Tensor
from ...autograd.function import Function


def _channels_last(a: np.ndarray) -> np.ndarray:
    """(N, C, *) -> (N * prod(*), C)."""
    return np.moveaxis(a, 1, -1).reshape(-1, a.shape[1])


def _per_channel(v: np.ndarray, ndim: int) -> np.ndarray:
    """(C,) -> broadcastable against (N, C, *)."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class SyncBatchNorm(Function):
    @staticmethod
    def forward(ctx: Any, input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                running_var: Tensor | None, eps: float, momentum: float, process_group: Any,
                world_size: int) -> Tensor:
        from ... import distributed as dist
        x = input._data
        flat = _channels_last(x)
        count, c = flat.shape
        acc = np.float64 if x.dtype == np.float64 else np.float32  # PyTorch's accumulation type
        local_mean = flat.mean(0, dtype=acc) if count else np.zeros(c, acc)
        local_m2 = ((flat - local_mean) ** 2).sum(0, dtype=acc)
        mine = from_numpy(np.concatenate([local_mean, local_m2, [count]]).astype(acc))
        everyone = from_numpy(np.empty((world_size, 2 * c + 1), acc))
        dist.all_gather_into_tensor(everyone, mine, process_group)
        rows = everyone._data
        means, m2s, counts = rows[:, :c], rows[:, c:2 * c], rows[:, 2 * c:]
        total = counts.sum()
        if total <= 1 and running_mean is not None and running_var is not None:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size {list(x.shape)}")
        mean = (counts * means).sum(0) / total
        m2 = (m2s + counts * (means - mean) ** 2).sum(0)
        invstd = 1.0 / np.sqrt(m2 / total + eps)
        if running_mean is not None:
            running_mean._data[...] = (1 - momentum) * running_mean._data + momentum * mean
            running_mean._version[0] += 1
        if running_var is not None:
            running_var._data[...] = (1 - momentum) * running_var._data + momentum * m2 / max(total - 1, 1)
            running_var._version[0] += 1
        scale = invstd if weight is None else invstd * weight._data
        shift = -mean * scale if bias is None else bias._data - mean * scale
        out = (x * _per_channel(scale, x.ndim) + _per_channel(shift, x.ndim)).astype(x.dtype, copy=False)
        ctx.save_for_backward(input, weight)
        ctx.stats = (mean, invstd, total, process_group)
        return Tensor._make(out, input._dtype)

    @staticmethod
    def backward(ctx: Any, grad_output: Tensor) -> tuple:
        from ... import distributed as dist
        input, weight = ctx.saved_tensors
        mean, invstd, total, group = ctx.stats
        x, dy = input._data, grad_output._data
        xmu = x - _per_channel(mean, x.ndim)
        axes = (0,) + tuple(range(2, x.ndim))
        sums = np.concatenate([dy.sum(axes, dtype=mean.dtype), (dy * xmu).sum(axes, dtype=mean.dtype)])
        local_dy, local_dy_xmu = np.split(sums.copy(), 2)
        grad_weight = Tensor._make((local_dy_xmu * invstd).astype(x.dtype), input._dtype) \
            if weight is not None and ctx.needs_input_grad[1] else None
        grad_bias = Tensor._make(local_dy.astype(x.dtype), input._dtype) if ctx.needs_input_grad[2] else None
        grad_input = None
        if ctx.needs_input_grad[0]:
            both = from_numpy(sums)
            dist.all_reduce(both, group=group)
            sum_dy, sum_dy_xmu = np.split(both._data, 2)
            w = invstd if weight is None else invstd * weight._data
            dx = (dy - _per_channel(sum_dy / total, x.ndim)
                  - xmu * _per_channel(invstd ** 2 * sum_dy_xmu / total, x.ndim)) * _per_channel(w, x.ndim)
            grad_input = Tensor._make(dx.astype(x.dtype, copy=False), input._dtype)
        return grad_input, grad_weight, grad_bias, None, None, None, None, None, None
