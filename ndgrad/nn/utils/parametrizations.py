"""nn.utils.parametrizations: weight_norm and spectral_norm as parametrizations (nn.utils.parametrize).

weight_norm stores the weight as a magnitude g (`original0`) and a direction v (`original1`):
weight = g * v / ||v||, norms taken over every dim but `dim`. spectral_norm divides the weight by
its largest singular value, estimated by power iteration on the buffers `_u`, `_v` (updated in
training mode only).
"""
from __future__ import annotations

from typing import Any

from ... import _creation
from ..._tensor import Tensor
from ...autograd import grad_mode
from .. import functional as F
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ..modules.module import Module
from .parametrize import register_parametrization

__all__ = ["weight_norm", "spectral_norm"]


def norm_except_dim(v: Tensor, pow: float = 2, dim: int = 0) -> Tensor:
    """The p-norm of v over every dim except `dim`, kept as size-1 dims (dim=-1: the whole tensor, 0-d)."""
    if dim == -1:
        return v.norm(pow)
    d = dim % v.dim() if v.dim() else 0
    others = tuple(i for i in range(v.dim()) if i != d)
    return v.norm(pow, dim=others, keepdim=True) if others else v.abs()


def _weight_norm(v: Tensor, g: Tensor, dim: int = 0) -> Tensor:
    """g * v / ||v|| (norms over every dim except `dim`)."""
    return v * (g / norm_except_dim(v, 2, dim))


class _WeightNorm(Module):
    def __init__(self, dim: int | None = 0) -> None:
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g: Tensor, weight_v: Tensor) -> Tensor:
        return _weight_norm(weight_v, weight_g, self.dim)

    def right_inverse(self, weight: Tensor) -> tuple:
        return norm_except_dim(weight, 2, self.dim), weight


def weight_norm(module: Module, name: str = "weight", dim: int | None = 0) -> Module:
    """Reparametrize `module.<name>` as g * v / ||v|| with g = original0, v = original1."""
    register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def load_old_names(state_dict: dict, prefix: str, local_metadata: Any, strict: bool, missing_keys: list,
                       unexpected_keys: list, error_msgs: list) -> None:
        # checkpoints of the old nn.utils.weight_norm name the tensors <name>_g / <name>_v
        g, v = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g in state_dict and v in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v)

    module._register_load_state_dict_pre_hook(load_old_names)
    return module


class _SpectralNorm(Module):
    def __init__(self, weight: Tensor, n_power_iterations: int = 1, dim: int = 0, eps: float = 1e-12) -> None:
        super().__init__()
        ndim = weight.dim()
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got "
                             f"{dim})")
        if n_power_iterations <= 0:
            raise ValueError(f"Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            w = self._matrix(weight)
            h, wd = w.shape
            u = _creation.empty(h, dtype=w.dtype).normal_(0, 1)
            v = _creation.empty(wd, dtype=w.dtype).normal_(0, 1)
            self.register_buffer("_u", F.normalize(u, dim=0, eps=self.eps))
            self.register_buffer("_v", F.normalize(v, dim=0, eps=self.eps))
            self._power_method(w, 15)

    def _matrix(self, weight: Tensor) -> Tensor:
        if self.dim != 0:
            weight = weight.movedim(self.dim, 0)
        return weight.flatten(1)

    def _power_method(self, w: Tensor, n: int) -> None:
        # u <- normalize(W v), then v <- normalize(W^T u), in place on the buffers
        with grad_mode.no_grad():
            for _ in range(n):
                self._u.copy_(F.normalize(w.mv(self._v), dim=0, eps=self.eps))
                self._v.copy_(F.normalize(w.t().mv(self._u), dim=0, eps=self.eps))

    def forward(self, weight: Tensor) -> Tensor:
        if weight.dim() == 1:
            return F.normalize(weight, dim=0, eps=self.eps)
        w = self._matrix(weight)
        if self.training:
            self._power_method(w, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        sigma = u.dot(w.mv(v))
        return weight / sigma

    def right_inverse(self, value: Tensor) -> Tensor:
        return value


def _default_dim(module: Module) -> int:
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


def spectral_norm(module: Module, name: str = "weight", n_power_iterations: int = 1, eps: float = 1e-12,
                  dim: int | None = None) -> Module:
    """Divide `module.<name>` by its spectral norm (largest singular value), estimated by power iteration."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if dim is None:
        dim = _default_dim(module)
    register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
