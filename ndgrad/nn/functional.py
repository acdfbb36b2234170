"""nn.functional: activations, linear maps, dropout, normalization, embedding and losses.

Most functions are compositions of differentiable ndgrad ops, so their gradients
(and gradients of gradients) come for free. The ones PyTorch runs as one kernel
are defined in ndgrad.ops and re-exported here: gelu, softmax, log_softmax
(ops/activation.py), mse_loss, nll_loss, binary_cross_entropy(_with_logits)
(ops/loss.py), embedding (ops/indexing.py), and the convolution, pooling, padding,
interpolation, dropout and attention kernels (ops/nn.py).
"""
from __future__ import annotations

import math
import warnings
from typing import Any, Sequence

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor, size_str
from ..ops._core import _make, _vmap_levels, autocast_op, check_tensor, in_float32, is_batched, vmap_rule, wrap_dim
from ..ops.elementwise import where as _where_op
from ..ops.linalg import addmm as _addmm
from ..ops.indexing import embedding
from ..ops.loss import (_reduce, _reduction, _warn_size, binary_cross_entropy,  # noqa: F401 - re-exported
                        binary_cross_entropy_with_logits, mse_loss, nll_loss)
from ..ops.nn import _check_p, _dropout_mask, dropout  # noqa: F401 - nn.functional.dropout
from ..ops.inplace import apply_inplace
from ..ops import activation as _act
from ..ops import norm as _norm

# kernels owned by ndgrad.ops.nn, re-exported lazily (module __getattr__ below)
_OPS_NN = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "max_pool1d", "max_pool2d",
           "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d", "adaptive_max_pool1d",
           "adaptive_max_pool2d", "max_pool1d_with_indices", "max_pool2d_with_indices", "pad", "interpolate",
           "upsample", "scaled_dot_product_attention", "unfold", "fold", "lp_pool2d", "max_unpool2d",
           "pixel_shuffle", "pixel_unshuffle", "grid_sample", "affine_grid", "multi_head_attention_forward",
           "lp_pool1d", "max_pool3d", "avg_pool3d", "adaptive_avg_pool3d", "conv_transpose3d", "lp_pool3d",
           "max_pool3d_with_indices", "adaptive_max_pool3d", "adaptive_max_pool1d_with_indices",
           "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d_with_indices", "max_unpool1d", "max_unpool3d",
           "fractional_max_pool2d", "fractional_max_pool3d", "fractional_max_pool2d_with_indices",
           "fractional_max_pool3d_with_indices", "upsample_nearest", "upsample_bilinear")


def __getattr__(name: str) -> Any:
    if name in _OPS_NN:
        try:
            from ..ops import nn as _opsnn
        except ImportError as e:  # pragma: no cover - while ops/nn.py does not exist yet
            raise AttributeError(f"module 'ndgrad.nn.functional' has no attribute '{name}'") from e
        if hasattr(_opsnn, name):
            return getattr(_opsnn, name)
        from . import modules as _modules  # a few live beside their module classes
        if hasattr(_modules, name):
            return getattr(_modules, name)
    raise AttributeError(f"module 'ndgrad.nn.functional' has no attribute '{name}'")


def __dir__() -> list:
    return sorted(list(globals()) + list(_OPS_NN))


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
_scalar_name = D.scalar_name


def _const(arr: np.ndarray, dt: D.dtype) -> Tensor:
    """A graph-free tensor over an array, cast to dt."""
    if arr.dtype != dt.np:
        arr = arr.astype(dt.np)
    return _make(arr, dt)


def _maybe_inplace(input: Tensor, inplace: bool, fn: Any, *args: Any) -> Tensor:
    if inplace:
        return apply_inplace(input, lambda x, *a: fn(x, *a), *args)
    return fn(input, *args)


def _where(cond: Tensor, a: Any, b: Any) -> Tensor:
    return _where_op(cond, a, b)


# ---------------------------------------------------------------------------
# softmax family (one node each, defined in ndgrad.ops.activation)
# ---------------------------------------------------------------------------
def log_softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """log(softmax(input)) along dim, computed stably."""
    return _act.log_softmax(input, dim, dtype)


def softmax(input: Tensor, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Tensor:
    """exp(input) normalised to sum to 1 along dim."""
    return _act.softmax(input, dim, dtype)


softmin = _act.softmin


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------
def relu(input: Tensor, inplace: bool = False) -> Tensor:
    """max(input, 0)."""
    check_tensor(input, "relu")
    if inplace:
        return input.relu_()
    return input.relu()


def relu_(input: Tensor) -> Tensor:
    """In-place relu."""
    return input.relu_()


def threshold(input: Tensor, threshold: float, value: float, inplace: bool = False) -> Tensor:
    """input where input > threshold, else value."""
    check_tensor(input, "threshold")
    return _maybe_inplace(input, inplace, lambda x: _where(x > threshold, x, value))


def threshold_(input: Tensor, threshold: float, value: float) -> Tensor:
    """In-place threshold."""
    return globals()["threshold"](input, threshold, value, True)


def hardtanh(input: Tensor, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False) -> Tensor:
    """Clamp to [min_val, max_val]; the gradient is zero at and beyond the bounds."""
    check_tensor(input, "hardtanh")
    if min_val > max_val:
        raise ValueError("min_val cannot be greater than max_val")

    def f(x: Tensor) -> Tensor:
        inside = (x > min_val) & (x < max_val)
        return _where(inside, x, x.detach().clamp(min_val, max_val))
    return _maybe_inplace(input, inplace, f)


def hardtanh_(input: Tensor, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
    """In-place hardtanh."""
    return hardtanh(input, min_val, max_val, True)


def relu6(input: Tensor, inplace: bool = False) -> Tensor:
    """min(max(input, 0), 6)."""
    return hardtanh(input, 0.0, 6.0, inplace)


def leaky_relu(input: Tensor, negative_slope: float = 0.01, inplace: bool = False) -> Tensor:
    """input where positive, negative_slope * input elsewhere."""
    check_tensor(input, "leaky_relu")
    return _maybe_inplace(input, inplace, lambda x: _where(x > 0, x, x * negative_slope))


def leaky_relu_(input: Tensor, negative_slope: float = 0.01) -> Tensor:
    """In-place leaky_relu."""
    return leaky_relu(input, negative_slope, True)


@autocast_op("lower")
def prelu(input: Tensor, weight: Tensor) -> Tensor:
    """leaky_relu with a learned slope per channel (dim 1) or one shared slope."""
    check_tensor(input, "prelu")
    n = weight.numel()
    if n != 1:
        if input._data.ndim < 2 and input._data.ndim != 1:
            raise RuntimeError("Not allow zero-dim input tensor.")
        channels = input._data.shape[1] if input._data.ndim >= 2 else input._data.shape[0]
        if channels != n:
            raise RuntimeError(f"Mismatch of parameter numbers and input channel size. Found parameter numbers = "
                               f"{n} and channel size = {channels}.")
        if input._data.ndim >= 2:
            weight = weight.reshape((n,) + (1,) * (input._data.ndim - 2))
    return _where(input > 0, input, input * weight)


def elu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """input where positive, alpha * (exp(input) - 1) elsewhere."""
    check_tensor(input, "elu")
    # the negative branch sees min(x, 0) so exp never overflows in the branch not taken
    return _maybe_inplace(input, inplace, lambda x: _where(x > 0, x, x.clamp(max=0).expm1() * alpha))


def elu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place elu."""
    return elu(input, alpha, True)


_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def selu(input: Tensor, inplace: bool = False) -> Tensor:
    """scale * elu(input, alpha) with the self-normalising constants."""
    check_tensor(input, "selu")
    return _maybe_inplace(input, inplace, lambda x: _where(x > 0, x * _SELU_SCALE,
                                                           x.clamp(max=0).expm1() * (_SELU_ALPHA * _SELU_SCALE)))


def celu(input: Tensor, alpha: float = 1.0, inplace: bool = False) -> Tensor:
    """max(0, x) + min(0, alpha * (exp(x / alpha) - 1))."""
    check_tensor(input, "celu")
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")
    return _maybe_inplace(input, inplace,
                          lambda x: _where(x > 0, x, (x.clamp(max=0) / alpha).expm1() * alpha))


def selu_(input: Tensor) -> Tensor:
    """In-place selu."""
    return selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place celu."""
    return celu(input, alpha, inplace=True)


gelu = _act.gelu


@in_float32
def silu(input: Tensor, inplace: bool = False) -> Tensor:
    """x * sigmoid(x)."""
    check_tensor(input, "silu")
    return _maybe_inplace(input, inplace, lambda x: x * x.sigmoid())


@in_float32
def mish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * tanh(softplus(x))."""
    check_tensor(input, "mish")
    return _maybe_inplace(input, inplace, lambda x: x * softplus(x).tanh())


def sigmoid(input: Tensor) -> Tensor:
    """1 / (1 + exp(-input))."""
    return input.sigmoid()


def tanh(input: Tensor) -> Tensor:
    """Hyperbolic tangent."""
    return input.tanh()


def hardsigmoid(input: Tensor, inplace: bool = False) -> Tensor:
    """relu6(x + 3) / 6."""
    check_tensor(input, "hardsigmoid")
    return _maybe_inplace(input, inplace, lambda x: hardtanh(x + 3.0, 0.0, 6.0) / 6.0)


def hardswish(input: Tensor, inplace: bool = False) -> Tensor:
    """x * relu6(x + 3) / 6."""
    check_tensor(input, "hardswish")

    def f(x: Tensor) -> Tensor:
        mid = x * (x + 3.0) / 6.0
        return _where(x <= -3.0, 0.0, _where(x >= 3.0, x, mid))
    return _maybe_inplace(input, inplace, f)


def softplus(input: Tensor, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """log(1 + exp(beta * x)) / beta, linear above threshold."""
    check_tensor(input, "softplus")
    bx = input * beta if beta != 1 else input
    safe = bx.clamp(max=threshold)
    soft = safe.exp().log1p()
    if beta != 1:
        soft = soft / beta
    return _where(bx > threshold, input, soft)


def softsign(input: Tensor) -> Tensor:
    """x / (1 + |x|)."""
    return input / (input.abs() + 1.0)


def tanhshrink(input: Tensor) -> Tensor:
    """x - tanh(x)."""
    return input - input.tanh()


def logsigmoid(input: Tensor) -> Tensor:
    """log(sigmoid(x)), stable for large |x|."""
    check_tensor(input, "logsigmoid")
    return -softplus(-input)


def hardshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input where |input| > lambd, else 0."""
    return _where((input > lambd) | (input < -lambd), input, 0.0)


def softshrink(input: Tensor, lambd: float = 0.5) -> Tensor:
    """input shrunk towards 0 by lambd (0 inside [-lambd, lambd])."""
    return _where(input > lambd, input - lambd, _where(input < -lambd, input + lambd, 0.0))


def glu(input: Tensor, dim: int = -1) -> Tensor:
    """First half of input along dim times sigmoid of the second half."""
    check_tensor(input, "glu")
    d = wrap_dim(dim, input._data.ndim)
    n = input._data.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    a, b = input.chunk(2, d)
    return a * b.sigmoid()


def rrelu(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False,
          inplace: bool = False) -> Tensor:
    """Leaky ReLU with a random slope in [lower, upper] when training, (lower+upper)/2 otherwise."""
    if not training:
        return leaky_relu(input, (lower + upper) / 2, inplace)
    from .._random import _rng
    slope = _rng(None).uniform(lower, upper, input._data.shape)
    return _maybe_inplace(input, inplace, lambda x: _where(x >= 0, x, x * _const(slope, x._dtype)))


def rrelu_(input: Tensor, lower: float = 1.0 / 8, upper: float = 1.0 / 3, training: bool = False) -> Tensor:
    """In-place rrelu."""
    return rrelu(input, lower, upper, training, inplace=True)


def gumbel_softmax(logits: Tensor, tau: float = 1.0, hard: bool = False, eps: float = 1e-10,
                   dim: int = -1) -> Tensor:
    """Softmax of (logits + Gumbel noise) / tau; with hard=True a one-hot sample whose gradient is the soft one's."""
    if eps != 1e-10:
        warnings.warn("`eps` parameter is deprecated and has no effect.", stacklevel=2)
    from .._creation import empty_like, zeros_like
    gumbels = -empty_like(logits).exponential_().log()
    y_soft = softmax((logits + gumbels) / tau, dim)
    if not hard:
        return y_soft
    index = y_soft.max(dim, keepdim=True)[1]
    y_hard = zeros_like(logits).scatter_(dim, index, 1.0)
    return y_hard - y_soft.detach() + y_soft


# ---------------------------------------------------------------------------
# linear maps
# ---------------------------------------------------------------------------
@autocast_op("lower")
def linear(input: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """input @ weight.T + bias."""
    check_tensor(input, "linear")
    check_tensor(weight, "linear", "weight")
    if weight._data.ndim == 2 and input._data.ndim >= 1 and input._data.shape[-1] != weight._data.shape[1]:
        rows = int(np.prod(input._data.shape[:-1])) if input._data.ndim > 1 else 1
        raise RuntimeError(f"mat1 and mat2 shapes cannot be multiplied ({rows}x{input._data.shape[-1]} and "
                           f"{weight._data.shape[1]}x{weight._data.shape[0]})")
    if bias is not None and input._data.ndim >= 2 and weight._data.ndim == 2:
        if input._data.ndim == 2:
            return _addmm(bias, input, weight.t())  # one AddmmBackward0 node, as PyTorch records
        # leading dims folded into one GEMM: ViewBackward0 <- AddmmBackward0, as PyTorch records
        lead = input._data.shape[:-1]
        return _addmm(bias, input.reshape(-1, input._data.shape[-1]), weight.t()).view(*lead, weight._data.shape[0])
    out = input.matmul(weight.t()) if weight._data.ndim == 2 else input.matmul(weight)
    if bias is not None:
        out = out + bias
    return out


def bilinear(input1: Tensor, input2: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """out[..., k] = input1 @ weight[k] @ input2 + bias[k]."""
    from .. import einsum
    if input1._data.shape[:-1] != input2._data.shape[:-1]:
        raise RuntimeError("bilinear(): input batch dimensions do not match: got "
                           f"{list(input1._data.shape[:-1])} and {list(input2._data.shape[:-1])}")
    if weight._data.ndim != 3 or weight._data.shape[1] != input1._data.shape[-1] or \
            weight._data.shape[2] != input2._data.shape[-1]:
        raise RuntimeError(f"bilinear(): input1 size or input2 size does not match weight size: got "
                           f"{input1._data.shape[-1]}, {input2._data.shape[-1]} but expected "
                           f"{list(weight._data.shape[1:])}")
    out = einsum("...i,kij,...j->...k", input1, weight, input2)
    if bias is not None:
        out = out + bias
    return out


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------
def _feature_dropout(input: Tensor, p: float, training: bool, inplace: bool, batched_ndim: int,
                     name: str) -> Tensor:
    check_tensor(input, name)
    _check_p(p)
    nd = input._data.ndim
    spatial = batched_ndim - 2
    if nd not in (batched_ndim, batched_ndim - 1):
        if name == "dropout1d":
            raise RuntimeError(f"{name}: Expected {batched_ndim - 1}D or {batched_ndim}D input, but received a "
                               f"{nd}D input. Note that {name} exists to provide channel-wise dropout on inputs "
                               f"with 1 spatial dimension, a channel dimension, and an optional batch dimension "
                               f"(i.e. {batched_ndim - 1}D or {batched_ndim}D inputs).")
        warnings.warn(f"{name}: Received a {nd}-D input to {name}, which is deprecated and will result in an error "
                      "in a future release. To retain the behavior and silence this warning, please use dropout "
                      f"instead. Note that {name} exists to provide channel-wise dropout on inputs with {spatial} "
                      "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. "
                      f"{batched_ndim - 1}D or {batched_ndim}D inputs).", stacklevel=3)
        lead = min(2, nd)
    elif nd == batched_ndim - 1 and name == "dropout2d":
        warnings.warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout "
                      "behavior is desired - input is interpreted as shape (N, C, L), where C is the channel dim. "
                      "This behavior will change in a future release to interpret the input as one without a "
                      "batch dimension, i.e. shape (C, H, W). To maintain the 1D channel-wise dropout behavior, "
                      "please switch to using dropout1d instead.", stacklevel=3)
        lead = 2
    else:
        lead = 2 if nd == batched_ndim else 1
    if not training or p == 0.0:
        return input
    shape = input._data.shape[:lead] + (1,) * (nd - lead)
    mask = _dropout_mask(input, p, shape)
    if inplace:
        return apply_inplace(input, lambda x: x * mask)
    return input * mask


def dropout1d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, L) or (C, L) input."""
    return _feature_dropout(input, p, training, inplace, 3, "dropout1d")


def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of (N, C, H, W) or (C, H, W) input."""
    return _feature_dropout(input, p, training, inplace, 4, "dropout2d")


def dropout3d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> Tensor:
    """Zero whole channels of a (N, C, D, H, W) input with probability p (scaled by 1/(1-p))."""
    return _feature_dropout(input, p, training, inplace, 5, "dropout3d")


def alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Dropout that keeps the self-normalising mean and variance (for SELU networks)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from .._random import _rng
    alpha_p = -_SELU_ALPHA * _SELU_SCALE
    keep = (_rng(None).random(input._data.shape) >= p)
    a = 1.0 / math.sqrt((alpha_p ** 2 * p + 1) * (1 - p))
    b = -a * alpha_p * p
    keep_t = _const(keep.astype(np.float64) * a, input._dtype)
    add_t = _const((~keep) * (alpha_p * a) + b, input._dtype)
    return _maybe_inplace(input, inplace, lambda x: x * keep_t + add_t)


# ---------------------------------------------------------------------------
# normalization
# ---------------------------------------------------------------------------
_LOW = (D.float16, D.bfloat16)


@in_float32  # float16/bfloat16 input with float32 statistics and affine parameters stays float16
def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None,
               weight: Tensor | None = None, bias: Tensor | None = None, training: bool = False,
               momentum: float | None = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each channel (dim 1) by batch statistics (training) or running ones (eval)."""
    if _vmap_levels and training and is_batched(input, weight, bias) and \
            (running_mean is not None and not is_batched(running_mean)):
        raise RuntimeError("Batch norm got a batched tensor as input while the running_mean or running_var, which "
                           "will be updated in place, were not batched.\nIf you are using a module and do not need "
                           "eval mode, please set `track_running_stats` to be False.")
    check_tensor(input, "batch_norm")
    x = input
    nd = x._data.ndim
    C = x._data.shape[1] if nd >= 2 else 0
    bshape = (1, C) + (1,) * (nd - 2)
    axes = (0,) + tuple(range(2, nd))
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight),
                    ("bias", bias)):
        if t is not None and t.numel() != C:
            raise RuntimeError(f"{name} should contain {C} elements not {t.numel()}")
        if t is not None and t._dtype is not x._dtype and not (x._dtype is D.float32 and t._dtype in _LOW):
            raise RuntimeError("mixed dtype (CPU): all inputs must share same datatype.")
    if nd < 2:
        raise RuntimeError(f"batch_norm: expected input with at least 2 dimensions, got {nd}")
    if training:
        count = x._data.size // C
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{size_str(x._data.shape)}")
        if not (_vmap_levels and is_batched(x, weight, bias)) and x._dtype.category == 2 and \
                all(t is None or t._dtype is x._dtype for t in (weight, bias)):
            return _norm.batch_norm_train(x, running_mean, running_var, weight, bias, momentum, eps)
        mean = x.mean(axes, keepdim=True)
        xc = x - mean
        var = (xc * xc).mean(axes, keepdim=True)
        if running_mean is not None or running_var is not None:
            _norm.update_running(running_mean, running_var, mean._data.reshape(C),
                                 var._data.reshape(C) * (count / (count - 1)), momentum)
        out = xc * (var + eps).rsqrt()
    else:
        if running_mean is None or running_var is None:
            raise RuntimeError("running_mean and running_var must be defined in evaluation mode")
        rm = running_mean._data.reshape(bshape).astype(x._dtype.np, copy=False)
        inv = (1.0 / np.sqrt(running_var._data.reshape(bshape).astype(np.float64) + eps)).astype(x._dtype.np)
        out = (x - _make(rm, x._dtype)) * _make(inv, x._dtype)
    if weight is not None:
        out = out * weight.reshape(bshape)
    if bias is not None:
        out = out + bias.reshape(bshape)
    return out


def layer_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """Normalise over the trailing `normalized_shape` dimensions (one NativeLayerNormBackward0 node)."""
    check_tensor(input, "layer_norm")
    return _norm.layer_norm(input, normalized_shape, weight, bias, eps)


@in_float32
def rms_norm(input: Tensor, normalized_shape: Sequence[int], weight: Tensor | None = None,
             eps: float | None = None) -> Tensor:
    """x / sqrt(mean(x^2) + eps) over the trailing dimensions."""
    if isinstance(normalized_shape, int):
        normalized_shape = (normalized_shape,)
    k = len(tuple(normalized_shape))
    axes = tuple(range(input._data.ndim - k, input._data.ndim))
    if eps is None:
        eps = float(np.finfo(input._dtype.np).eps)
    out = input * ((input * input).mean(axes, keepdim=True) + eps).rsqrt()
    return out * weight if weight is not None else out


@in_float32
def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None, bias: Tensor | None = None,
               eps: float = 1e-5) -> Tensor:
    """Normalise over groups of channels (dim 1) and the spatial dimensions."""
    check_tensor(input, "group_norm")
    shape = input._data.shape
    if len(shape) < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {len(shape)}")
    N, C = shape[0], shape[1]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input "
                           f"of shape {list(shape)} and num_groups={num_groups}")
    x = input.reshape(N, num_groups, -1)
    mean = x.mean(2, keepdim=True)
    xc = x - mean
    var = (xc * xc).mean(2, keepdim=True)
    out = (xc * (var + eps).rsqrt()).reshape(shape)
    bshape = (1, C) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * weight.reshape(bshape)
    if bias is not None:
        out = out + bias.reshape(bshape)
    return out


def instance_norm(input: Tensor, running_mean: Tensor | None = None, running_var: Tensor | None = None,
                  weight: Tensor | None = None, bias: Tensor | None = None, use_input_stats: bool = True,
                  momentum: float = 0.1, eps: float = 1e-5) -> Tensor:
    """Normalise each (sample, channel) over its spatial dimensions.

    With `use_input_stats` the running stats (when given) are updated with the batch average of the
    per-instance statistics; without it the running stats normalise, as in batch_norm's eval mode."""
    if not use_input_stats:
        if running_mean is None or running_var is None:
            raise RuntimeError("Expected running_mean and running_var to be defined when use_input_stats is false")
        return batch_norm(input, running_mean, running_var, weight, bias, False, 0.0, eps)
    shape = input._data.shape
    axes = tuple(range(2, len(shape)))
    count = math.prod(shape[2:])
    if count <= 1:
        raise ValueError(f"Expected more than 1 spatial element when training, got input size {size_str(shape)}")
    mean = input.mean(axes, keepdim=True)
    xc = input - mean
    var = (xc * xc).mean(axes, keepdim=True)
    if running_mean is not None or running_var is not None:
        _norm.update_running(running_mean, running_var, mean._data.reshape(shape[:2]).mean(0),
                        (var._data.reshape(shape[:2]) * (count / (count - 1))).mean(0), momentum)
    out = xc * (var + eps).rsqrt()
    bshape = (1, shape[1]) + (1,) * (len(shape) - 2)
    if weight is not None:
        out = out * weight.reshape(bshape)
    if bias is not None:
        out = out + bias.reshape(bshape)
    return out


def local_response_norm(input: Tensor, size: int, alpha: float = 1e-4, beta: float = 0.75,
                        k: float = 1.0) -> Tensor:
    """Normalise each channel by the energy of its `size` neighbouring channels."""
    sq = input * input
    C = input._data.shape[1]
    pad_lo = size // 2
    pad_hi = (size - 1) // 2
    from .. import cat, zeros
    zshape_lo = list(sq._data.shape)
    zshape_lo[1] = pad_lo
    zshape_hi = list(sq._data.shape)
    zshape_hi[1] = pad_hi
    padded = cat([zeros(zshape_lo, dtype=input._dtype), sq, zeros(zshape_hi, dtype=input._dtype)], 1)
    div = padded.narrow(1, 0, C)
    for i in range(1, size):
        div = div + padded.narrow(1, i, C)
    div = (div * (alpha / size) + k) ** beta
    return input / div


def normalize(input: Tensor, p: float = 2.0, dim: int = 1, eps: float = 1e-12, out: Any = None) -> Tensor:
    """input / max(||input||_p along dim, eps)."""
    check_tensor(input, "normalize")
    denom = input.norm(p, dim, keepdim=True).clamp_min(eps)
    return input / denom


# ---------------------------------------------------------------------------
# embedding
# ---------------------------------------------------------------------------
def embedding_bag(input: Tensor, weight: Tensor, offsets: Tensor | None = None, max_norm: float | None = None,
                  norm_type: float = 2, scale_grad_by_freq: bool = False, mode: str = "mean",
                  sparse: bool = False, per_sample_weights: Tensor | None = None,
                  include_last_offset: bool = False, padding_idx: int | None = None) -> Tensor:
    """Sums / means / maxes of bags of embeddings (2-D input: one bag per row)."""
    from .. import stack
    if input._data.ndim == 2:
        e = embedding(input, weight, padding_idx, max_norm, norm_type)
        if per_sample_weights is not None:
            e = e * per_sample_weights.unsqueeze(-1)
        return {"sum": e.sum(1), "mean": e.mean(1), "max": e.amax(1)}[mode]
    offs = list(offsets._data.tolist()) + ([] if include_last_offset else [input._data.shape[0]])
    bags = []
    for a, b in zip(offs[:-1], offs[1:]):
        e = embedding(input[a:b], weight, padding_idx, max_norm, norm_type)
        if per_sample_weights is not None:
            e = e * per_sample_weights[a:b].unsqueeze(-1)
        bags.append({"sum": e.sum(0), "mean": e.mean(0), "max": e.amax(0)}[mode])
    return stack(bags)


def one_hot(tensor: Tensor, num_classes: int = -1) -> Tensor:
    """int64 one-hot encoding along a new last dimension."""
    if _vmap_levels and is_batched(tensor):
        return vmap_rule("trailing" if num_classes >= 0 else "loop", one_hot, tensor, num_classes)
    check_tensor(tensor, "one_hot", "self")
    if tensor._dtype is not D.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    idx = tensor._data
    if idx.size and idx.min() < 0:
        raise RuntimeError("Class values must be non-negative.")
    if num_classes == -1:
        if idx.size == 0:
            raise RuntimeError("Can not infer total number of classes from empty tensor.")
        num_classes = int(idx.max()) + 1
    elif idx.size and idx.max() >= num_classes:
        raise RuntimeError("Class values must be smaller than num_classes.")
    out = np.zeros(idx.shape + (num_classes,), np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return _make(out, D.int64)


# ---------------------------------------------------------------------------
# distances
# ---------------------------------------------------------------------------
def cosine_similarity(x1: Tensor, x2: Tensor, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """Cosine of the angle between x1 and x2 along dim (broadcasting)."""
    check_tensor(x1, "cosine_similarity", "x1")
    n1 = x1.norm(2, dim, keepdim=True).clamp_min(eps)
    n2 = x2.norm(2, dim, keepdim=True).clamp_min(eps)
    return ((x1 / n1) * (x2 / n2)).sum(dim)


def pairwise_distance(x1: Tensor, x2: Tensor, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """||x1 - x2 + eps||_p along the last dimension."""
    check_tensor(x1, "pairwise_distance", "x1")
    d = x1 - x2 + eps
    nd = max(x1._data.ndim, x2._data.ndim)
    if nd == 0:
        return d.abs()
    return d.norm(p, -1, keepdim=keepdim)


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """Condensed pairwise distances between the rows of a 2-D input."""
    n = input._data.shape[0]
    i, j = np.triu_indices(n, 1)
    return (input[_make(i, D.int64)] - input[_make(j, D.int64)]).norm(p, -1)


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------
def l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
            reduction: str = "mean", weight: Tensor | None = None) -> Tensor:
    """Mean absolute error."""
    check_tensor(input, "l1_loss")
    check_tensor(target, "l1_loss", "target")
    reduction = _reduction(size_average, reduce, reduction)
    _warn_size(input, target)
    loss = (input - target).abs()
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def smooth_l1_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                   reduction: str = "mean", beta: float = 1.0) -> Tensor:
    """Squared error below beta, absolute error (shifted) above."""
    check_tensor(input, "smooth_l1_loss")
    reduction = _reduction(size_average, reduce, reduction)
    if beta < 0:
        raise RuntimeError("smooth_l1_loss does not support negative values for beta.")
    _warn_size(input, target)
    z = input - target
    if beta == 0:
        return _reduce(z.abs(), reduction)
    a = z.abs()
    loss = _where(a < beta, z * z * (0.5 / beta), a - 0.5 * beta)
    return _reduce(loss, reduction)


def huber_loss(input: Tensor, target: Tensor, reduction: str = "mean", delta: float = 1.0,
               weight: Tensor | None = None) -> Tensor:
    """Squared error below delta, delta-scaled absolute error above."""
    check_tensor(input, "huber_loss")
    reduction = _reduction(None, None, reduction)
    if delta <= 0:
        raise RuntimeError("huber_loss does not support non-positive values for delta.")
    _warn_size(input, target)
    z = input - target
    a = z.abs()
    loss = _where(a < delta, z * z * 0.5, (a - 0.5 * delta) * delta)
    if weight is not None:
        loss = loss * weight
    return _reduce(loss, reduction)


def cross_entropy(input: Tensor, target: Tensor, weight: Tensor | None = None, size_average: Any = None,
                  ignore_index: int = -100, reduce: Any = None, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """log_softmax over classes (dim 1, or 0 for unbatched input) followed by nll_loss, or
    the cross entropy against class probabilities when target is floating and input-shaped."""
    check_tensor(input, "cross_entropy")
    check_tensor(target, "cross_entropy", "target")
    reduction = _reduction(size_average, reduce, reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise RuntimeError(f"label_smoothing must be between 0.0 and 1.0. Got: {label_smoothing}")
    class_dim = 0 if input._data.ndim == 1 else 1
    logp = log_softmax(input, class_dim)
    C = input._data.shape[class_dim] if input._data.ndim else 1
    if target._dtype.category >= 2 and target._data.shape == input._data.shape:
        # class probabilities
        if weight is not None and weight.numel() != C:
            raise RuntimeError(f"weight tensor should be defined either for all {C} classes or no classes but "
                               f"got weight tensor of shape: {list(weight._data.shape)}")
        tgt = target
        if label_smoothing > 0:
            tgt = target * (1 - label_smoothing) + label_smoothing / C
        prod = logp * tgt
        if weight is not None:
            wshape = (C,) + (1,) * (input._data.ndim - class_dim - 1)
            prod = prod * weight.reshape(wshape)
        losses = -prod.sum(class_dim)
        if reduction == "mean":
            n = input._data.size // C if input._data.ndim else 1
            return losses.sum() / n
        return _reduce(losses, reduction)
    nll = nll_loss(logp, target, weight, None, ignore_index, None, reduction)
    if label_smoothing <= 0:
        return nll
    # smoothing term: mean over classes of -logp (weighted), zero at ignored positions
    lp = logp
    if weight is not None:
        wshape = (C,) + (1,) * (input._data.ndim - class_dim - 1)
        lp = lp * weight.reshape(wshape)
    smooth = -lp.sum(class_dim)
    # with tensor ops (not the raw target), so that it also runs batched inside vmap
    keep = (target != ignore_index).to(input._dtype)
    smooth = smooth * keep
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        denom = (weight.detach()[target * keep.to(target._dtype)] * keep).sum() if weight is not None else keep.sum()
        smooth = smooth.sum() / denom
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / C)


def kl_div(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None, reduction: str = "mean",
           log_target: bool = False) -> Tensor:
    """Kullback-Leibler divergence with `input` given as log-probabilities."""
    check_tensor(input, "kl_div")
    if reduction == "batchmean":
        red = "batchmean"
    else:
        red = _reduction(size_average, reduce, reduction)
        if red == "mean":
            warnings.warn("reduction: 'mean' divides the total loss by both the batch size and the support size."
                          "'batchmean' divides only by the batch size, and aligns with the KL div math "
                          "definition.'mean' will be changed to behave the same as 'batchmean' in the next "
                          "major release.", stacklevel=2)
    if log_target:
        loss = target.exp() * (target - input)
    else:
        loss = target.xlogy(target) - target * input
    if red == "batchmean":
        if input._data.ndim == 0:
            return loss.sum()
        return loss.sum() / input._data.shape[0]
    return _reduce(loss, red)


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool = True, full: bool = False,
                     size_average: Any = None, eps: float = 1e-8, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of a Poisson target."""
    reduction = _reduction(size_average, reduce, reduction)
    if log_input:
        loss = input.exp() - target * input
    else:
        loss = input - target * (input + eps).log()
    if full:
        st = target * target.log() - target + (target * (2 * math.pi)).log() * 0.5
        loss = loss + _where(target > 1, st, 0.0)
    return _reduce(loss, reduction)


def gaussian_nll_loss(input: Tensor, target: Tensor, var: Tensor, full: bool = False, eps: float = 1e-6,
                      reduction: str = "mean") -> Tensor:
    """Negative log-likelihood of target under N(input, var)."""
    reduction = _reduction(None, None, reduction)
    if var._data.ndim == input._data.ndim - 1 or (var._data.shape != input._data.shape and
                                                   var._data.shape[:-1] == input._data.shape[:-1]
                                                   and var._data.shape[-1:] != (1,)):
        var = var.unsqueeze(-1)
    if np.any(var._data < 0):
        raise ValueError("var has negative entry/entries")
    v = var.clamp_min(eps)
    loss = (v.log() + (input - target) ** 2 / v) * 0.5
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return _reduce(loss, reduction)


def soft_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                     reduction: str = "mean") -> Tensor:
    """log(1 + exp(-y x))."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce(softplus(-target * input), reduction)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """max(0, -y (x1 - x2) + margin)."""
    reduction = _reduction(size_average, reduce, reduction)
    return _reduce((-target * (input1 - input2) + margin).clamp_min(0), reduction)


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, size_average: Any = None,
                         reduce: Any = None, reduction: str = "mean") -> Tensor:
    """x where y == 1, max(0, margin - x) where y == -1."""
    reduction = _reduction(size_average, reduce, reduction)
    zeros_ = input * 0
    pos = _where(target == 1, input, zeros_)
    neg = _where(target == -1, (margin - input).clamp_min(0), zeros_)
    return _reduce(pos + neg, reduction)


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """1 - cos(x1, x2) where y == 1, max(0, cos(x1, x2) - margin) where y == -1."""
    reduction = _reduction(size_average, reduce, reduction)
    eps = 1e-12
    prod = (input1 * input2).sum(-1)
    m1 = (input1 * input1).sum(-1) + eps
    m2 = (input2 * input2).sum(-1) + eps
    cos = prod / (m1 * m2).sqrt()
    zeros_ = cos * 0
    loss = _where(target == 1, 1 - cos, zeros_) + _where(target == -1, (cos - margin).clamp_min(0), zeros_)
    return _reduce(loss, reduction)


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, size_average: Any = None, reduce: Any = None,
                        reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0)."""
    reduction = _reduction(size_average, reduce, reduction)
    dp = pairwise_distance(anchor, positive, p, eps)
    dn = pairwise_distance(anchor, negative, p, eps)
    if swap:
        from .. import minimum
        dn = minimum(dn, pairwise_distance(positive, negative, p, eps))
    return _reduce((dp - dn + margin).clamp_min(0), reduction)


def multilabel_soft_margin_loss(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> Tensor:
    """Mean over classes of the logistic loss of each label (targets 0/1)."""
    reduction = _reduction(size_average, reduce, reduction)
    loss = -(target * logsigmoid(input) + (1 - target) * logsigmoid(-input))
    if weight is not None:
        loss = loss * weight
    loss = loss.mean(-1) if input._data.ndim else loss
    return _reduce(loss, reduction)


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: str = "mean", zero_infinity: bool = False) -> Tensor:
    """Connectionist temporal classification loss of (T, N, C) (or unbatched (T, C)) log-probabilities;
    targets are (N, S) padded or all concatenated. 'mean' divides each loss by its target length."""
    from ..ops.nn import ctc_loss_raw
    check_tensor(log_probs, "ctc_loss")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    unbatched = log_probs._data.ndim == 2
    if unbatched:
        log_probs = log_probs.unsqueeze(1)
        targets = targets.unsqueeze(0) if targets._data.ndim == 1 else targets
    nll = ctc_loss_raw(log_probs, targets, input_lengths, target_lengths, blank, zero_infinity)
    if reduction == "mean":
        tl = np.asarray(target_lengths._data if isinstance(target_lengths, Tensor) else target_lengths,
                        np.int64).reshape(-1)
        return (nll / _const(np.maximum(tl, 1), nll._dtype)).mean()
    if reduction == "sum":
        return nll.sum()
    return nll.squeeze(0) if unbatched else nll


def multilabel_margin_loss(input: Tensor, target: Tensor, size_average: Any = None, reduce: Any = None,
                           reduction: str = "mean") -> Tensor:
    """Hinge loss between each target class (indices, ended by the first -1) and every other class,
    summed and divided by the number of classes."""
    reduction = _reduction(size_average, reduce, reduction)
    check_tensor(input, "multilabel_margin_loss")
    if target._dtype is not D.int64:
        raise RuntimeError(f"expected scalar type Long but found {_scalar_name(target._dtype)}")
    if tuple(target._data.shape) != tuple(input._data.shape) or input._data.ndim > 2:
        raise RuntimeError(f"inconsistent target size: {list(target._data.shape)} for input of size: "
                           f"{list(input._data.shape)}")
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    t = target._data.reshape(x._data.shape)
    C = x._data.shape[1]
    if ((t < -1) | (t >= C)).any():
        raise RuntimeError("argument #2 'target' is out of range")
    valid = np.cumprod(t != -1, axis=1).astype(bool)  # targets up to the first -1
    idx = np.where(valid, t, 0)
    is_target = np.zeros(x._data.shape, bool)
    rows, cols = np.nonzero(valid)
    is_target[rows, t[rows, cols]] = True
    x_t = x.gather(1, _const(idx, D.int64))  # (N, J): the score of each target
    margins = (1 - x_t.unsqueeze(2) + x.unsqueeze(1)).clamp_min(0)  # (N, J, C)
    w = valid[:, :, None] & ~is_target[:, None, :]
    loss = (margins * _const(w, x._dtype)).sum((1, 2)) / C
    if input._data.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


def triplet_margin_with_distance_loss(anchor: Tensor, positive: Tensor, negative: Tensor, *,
                                      distance_function: Any = None, margin: float = 1.0, swap: bool = False,
                                      reduction: str = "mean") -> Tensor:
    """max(d(a, p) - d(a, n) + margin, 0) with any distance function (pairwise_distance by default)."""
    if margin <= 0:
        raise ValueError(f"TripletMarginWithDistanceLoss: expected margin to be greater than 0, got {margin} "
                         "instead")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"{reduction} is not a valid value for reduction")
    a, p_, n = anchor.dim(), positive.dim(), negative.dim()
    if not (a == p_ == n):
        raise RuntimeError(f"The anchor, positive, and negative tensors are expected to have the same number of "
                           f"dimensions, but got: anchor {a}D, positive {p_}D, and negative {n}D inputs")
    dist = distance_function if distance_function is not None else pairwise_distance
    dp = dist(anchor, positive)
    dn = dist(anchor, negative)
    if swap:
        from .. import minimum
        dn = minimum(dn, dist(positive, negative))
    return _reduce((margin + dp - dn).clamp_min(0), reduction)


def multi_margin_loss(input: Tensor, target: Tensor, p: int = 1, margin: float = 1.0,
                      weight: Tensor | None = None, size_average: Any = None, reduce: Any = None,
                      reduction: str = "mean") -> Tensor:
    """Multi-class hinge loss: max(0, margin - x[y] + x[i]) ** p, averaged over classes."""
    reduction = _reduction(size_average, reduce, reduction)
    x = input if input._data.ndim == 2 else input.reshape(1, -1)
    t = target.reshape(-1, 1)
    xy = x.gather(1, t)
    m = (margin - xy + x).clamp_min(0)
    if p == 2:
        m = m * m
    if weight is not None:
        m = m * weight[target.reshape(-1)].reshape(-1, 1)
    mask = _make((np.arange(x._data.shape[1])[None, :] != t._data).astype(x._dtype.np), x._dtype)
    loss = (m * mask).sum(1) / x._data.shape[1]
    if input._data.ndim < 2:
        loss = loss.reshape(())
    return _reduce(loss, reduction)


# ---------------------------------------------------------------------------
# misc
def feature_alpha_dropout(input: Tensor, p: float = 0.5, training: bool = False, inplace: bool = False) -> Tensor:
    """Alpha dropout of whole channels: one keep/drop draw per (sample, channel)."""
    _check_p(p)
    if not training or p == 0.0 or input._data.size == 0:
        return input
    if p == 1.0:
        return input * 0.0
    from .._random import _rng
    shape = input._data.shape[:2] + (1,) * (input._data.ndim - 2)
    keep = (_rng(None).random(shape) >= p)
    alpha = _SELU_ALPHA * _SELU_SCALE
    a = 1.0 / math.sqrt((alpha ** 2 * p + 1) * (1 - p))
    keep_t = _const(keep.astype(np.float64) * a, input._dtype)
    add_t = _const((keep - 1.0) * alpha * a + alpha * a * p, input._dtype)
    return _maybe_inplace(input, inplace, lambda x: x * keep_t + add_t)


# ---------------------------------------------------------------------------
def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """Interleave the channels of `groups` groups (N, C, *) -> same shape."""
    shape = input._data.shape
    n, c = shape[0], shape[1]
    return input.reshape(n, groups, c // groups, *shape[2:]).transpose(1, 2).reshape(shape)


native_channel_shuffle = channel_shuffle


# Under CPU autocast these run in float32, as PyTorch's autocast lists them (losses are
# reduced in full precision even when the model computes in bfloat16).
for _name in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "nll_loss", "cross_entropy",
              "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div", "poisson_nll_loss",
              "soft_margin_loss", "margin_ranking_loss", "hinge_embedding_loss", "cosine_embedding_loss",
              "triplet_margin_loss", "multilabel_soft_margin_loss", "multi_margin_loss", "multilabel_margin_loss",
              "ctc_loss"):
    if _name in globals():
        globals()[_name] = autocast_op("fp32")(globals()[_name])
