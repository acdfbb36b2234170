"""SparseAdam: Adam for sparse gradients (e.g. from Embedding(sparse=True)); only the rows a gradient touches
have their moments and values updated."""
from __future__ import annotations

import math
from typing import Any, Iterable

import numpy as np

from .._tensor import Tensor
from .optimizer import Optimizer, _bump, _check_betas, _hyper, _sparse_parts, _zeros_like

__all__ = ["SparseAdam"]


class SparseAdam(Optimizer):
    """Lazy Adam: each step updates the moments and parameters only where the sparse gradient has entries."""

    _sparse_message = None
    _scalar_state_keys = ()   # PyTorch keeps SparseAdam's step a Python int

    def __init__(self, params: Iterable[Any], lr: float | Tensor = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False) -> None:
        if isinstance(lr, Tensor) and lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")
        if not 0.0 < lr:
            raise ValueError(f"Invalid learning rate: {lr}")
        if not 0.0 < eps:
            raise ValueError(f"Invalid epsilon value: {eps}")
        _check_betas(betas)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))
        where = {"sparse": [], "complex": []}
        for i, group in enumerate(self.param_groups):
            for j, p in enumerate(group["params"]):
                if p.is_sparse:
                    where["sparse"].append([i, j])
                if p.is_complex():
                    where["complex"].append([i, j])
        if where["sparse"]:
            raise ValueError(f"Sparse params at indices {where['sparse']}: SparseAdam requires dense parameter "
                             "tensors")
        if where["complex"]:
            raise ValueError(f"Complex params at indices {where['complex']}: SparseAdam does not support complex "
                             "parameters")

    def _new_state(self, p: Tensor, group: dict[str, Any], state: dict[str, Any]) -> None:
        state["step"] = 0
        state["exp_avg"] = _zeros_like(p)
        state["exp_avg_sq"] = _zeros_like(p)

    def _update_group(self, group: dict[str, Any]) -> None:
        lr = _hyper(group["lr"])
        beta1, beta2 = group["betas"]
        for p, state, w, g in self._params_with_grad(group):
            if not isinstance(g, Tensor):
                raise RuntimeError("SparseAdam does not support dense gradients, please consider Adam instead")
            state["step"] += 1
            idx, vals = _sparse_parts(-g if group["maximize"] else g)
            if vals.size == 0:
                continue
            m_t, v_t = state["exp_avg"], state["exp_avg_sq"]
            # old <- old + (1 - beta) * (new - old), at the gradient's entries only
            old_m, old_v = m_t._data[idx], v_t._data[idx]
            m_upd = (vals - old_m) * (1 - beta1)
            m_t._data[idx] += m_upd
            v_upd = (vals * vals - old_v) * (1 - beta2)
            v_t._data[idx] += v_upd
            numer = m_upd + old_m
            denom = np.sqrt(v_upd + old_v) + group["eps"]
            step = state["step"]
            step_size = lr * math.sqrt(1 - beta2 ** step) / (1 - beta1 ** step)
            w[idx] += -step_size * (numer / denom)
            _bump(p, m_t, v_t)
