"""`torch.<name>` forms of functions whose home is elsewhere: nn.functional's kernels with ATen's argument
orders (`torch.batch_norm(input, weight, bias, running_mean, ...)`, losses with an integer `reduction`),
the in-place functions (`torch.relu_(x)` is `x.relu_()`), and small tensor queries. Loaded on first use
by ndgrad's module `__getattr__`, which looks names up in `NAMES`.
"""
from __future__ import annotations

from typing import Any

from ._tensor import Tensor

_REDUCTION = {0: "none", 1: "mean", 2: "sum"}


def _F() -> Any:
    from .nn import functional
    return functional


def _reduction(reduction: Any) -> str:
    return _REDUCTION[reduction] if isinstance(reduction, int) else reduction


def _stride(stride: Any) -> Any:
    return None if stride is None or (isinstance(stride, (list, tuple)) and not stride) else stride


# ---------------------------------------------------------------------------------------------------------
# nn.functional with ATen's signatures
# ---------------------------------------------------------------------------------------------------------
def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
               running_var: Tensor | None, training: bool, momentum: float, eps: float,
               cudnn_enabled: bool = True) -> Tensor:
    """Batch normalisation, arguments in ATen's order (weight and bias before the running statistics)."""
    return _F().batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None, running_mean: Tensor | None,
                  running_var: Tensor | None, use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool = True) -> Tensor:
    """Instance normalisation, arguments in ATen's order."""
    return _F().instance_norm(input, running_mean, running_var, weight, bias, use_input_stats, momentum, eps)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1, scale_grad_by_freq: bool = False,
              sparse: bool = False) -> Tensor:
    """Rows of `weight` at `indices` (ATen's order: the table first; padding_idx -1 means none)."""
    if weight.dim() != 2:
        raise RuntimeError("'weight' must be 2-D")
    return _F().embedding(indices, weight, None if padding_idx == -1 else padding_idx,
                          scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


def max_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """1-d max pooling (values only)."""
    return _F().max_pool1d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool2d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """2-d max pooling (values only)."""
    return _F().max_pool2d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def max_pool3d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, dilation: Any = 1,
               ceil_mode: bool = False) -> Tensor:
    """3-d max pooling (values only)."""
    return _F().max_pool3d(input, kernel_size, _stride(stride), padding, dilation, ceil_mode)


def avg_pool1d(input: Tensor, kernel_size: Any, stride: Any = (), padding: Any = 0, ceil_mode: bool = False,
               count_include_pad: bool = True) -> Tensor:
    """1-d average pooling."""
    return _F().avg_pool1d(input, kernel_size, _stride(stride), padding, ceil_mode, count_include_pad)


def adaptive_max_pool1d(input: Tensor, output_size: Any) -> tuple:
    """1-d adaptive max pooling: (values, indices)."""
    return _F().adaptive_max_pool1d(input, output_size, return_indices=True)


def feature_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Dropout of whole channels (dim 1) of an (N, C, ...) input."""
    return _feature(input, p, train, alpha=False)


def feature_alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Alpha dropout of whole channels."""
    return _F().feature_alpha_dropout(input, p, train)


def alpha_dropout(input: Tensor, p: float, train: bool) -> Tensor:
    """Alpha dropout (keeps SELU's mean and variance)."""
    return _F().alpha_dropout(input, p, train)


def _feature(input: Tensor, p: float, train: bool, alpha: bool) -> Tensor:
    if not train or p == 0:
        return input
    from ._creation import ones
    mask = _F().dropout(ones(tuple(input.shape[:2]) + (1,) * (input.dim() - 2), dtype=input.dtype), p, True)
    return input * mask


def rms_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None, eps: float | None = None) -> Tensor:
    """Root-mean-square normalisation over the last dims."""
    return _F().rms_norm(input, normalized_shape, weight, eps)


def constant_pad_nd(input: Tensor, pad: Any, value: float = 0) -> Tensor:
    """Constant padding (F.pad's constant mode)."""
    return _F().pad(input, pad, "constant", value)


def binary_cross_entropy_with_logits(input: Tensor, target: Tensor, weight: Tensor | None = None,
                                     pos_weight: Tensor | None = None, reduction: Any = 1) -> Tensor:
    """F.binary_cross_entropy_with_logits with ATen's integer reduction (0 none, 1 mean, 2 sum)."""
    return _F().binary_cross_entropy_with_logits(input, target, weight, reduction=_reduction(reduction),
                                                 pos_weight=pos_weight)


def kl_div(input: Tensor, target: Tensor, reduction: Any = 1, *, log_target: bool = False) -> Tensor:
    """F.kl_div with ATen's integer reduction (mean means the mean over all elements)."""
    return _F().kl_div(input, target, reduction=_reduction(reduction), log_target=log_target)


def margin_ranking_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                        reduction: Any = 1) -> Tensor:
    """F.margin_ranking_loss with ATen's integer reduction."""
    return _F().margin_ranking_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def cosine_embedding_loss(input1: Tensor, input2: Tensor, target: Tensor, margin: float = 0.0,
                          reduction: Any = 1) -> Tensor:
    """F.cosine_embedding_loss with ATen's integer reduction."""
    return _F().cosine_embedding_loss(input1, input2, target, margin, reduction=_reduction(reduction))


def hinge_embedding_loss(input: Tensor, target: Tensor, margin: float = 1.0, reduction: Any = 1) -> Tensor:
    """F.hinge_embedding_loss with ATen's integer reduction."""
    return _F().hinge_embedding_loss(input, target, margin, reduction=_reduction(reduction))


def triplet_margin_loss(anchor: Tensor, positive: Tensor, negative: Tensor, margin: float = 1.0, p: float = 2,
                        eps: float = 1e-6, swap: bool = False, reduction: Any = 1) -> Tensor:
    """F.triplet_margin_loss with ATen's integer reduction."""
    return _F().triplet_margin_loss(anchor, positive, negative, margin, p, eps, swap,
                                    reduction=_reduction(reduction))


def poisson_nll_loss(input: Tensor, target: Tensor, log_input: bool, full: bool, eps: float,
                     reduction: Any) -> Tensor:
    """F.poisson_nll_loss with ATen's positional arguments and integer reduction."""
    return _F().poisson_nll_loss(input, target, log_input, full, eps=eps, reduction=_reduction(reduction))


def ctc_loss(log_probs: Tensor, targets: Tensor, input_lengths: Any, target_lengths: Any, blank: int = 0,
             reduction: Any = 1, zero_infinity: bool = False) -> Tensor:
    """F.ctc_loss with ATen's integer reduction."""
    return _F().ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, _reduction(reduction),
                         zero_infinity)


def _same(name: str, fname: str | None = None) -> Any:
    """torch.<name>: nn.functional's function of the same arguments."""
    def fn(*args: Any, **kwargs: Any) -> Any:
        return getattr(_F(), fname or name)(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = f"nn.functional.{fname or name}."
    return fn


_SAME = ("conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d",
         "adaptive_avg_pool1d", "pixel_shuffle", "pixel_unshuffle", "channel_shuffle", "hardshrink", "threshold",
         "rrelu", "pdist", "group_norm", "layer_norm", "softmax", "log_softmax", "dropout", "cosine_similarity",
         "pairwise_distance", "bilinear", "selu", "celu", "prelu")
_SAME_INPLACE = {"threshold_": "threshold_", "rrelu_": "rrelu_", "relu_": "relu_", "native_channel_shuffle":
                 "channel_shuffle"}


def dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place dropout."""
    return _F().dropout(input, p, train, inplace=True)


def alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place alpha dropout."""
    return input.copy_(alpha_dropout(input, p, train)) if train and p else input


def feature_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place channel dropout."""
    return input.copy_(feature_dropout(input, p, train)) if train and p else input


def feature_alpha_dropout_(input: Tensor, p: float, train: bool) -> Tensor:
    """In-place channel alpha dropout."""
    return input.copy_(feature_alpha_dropout(input, p, train)) if train and p else input


# ---------------------------------------------------------------------------------------------------------
# in-place functions: torch.<name>_(input, ...) is input.<name>_(...)
# ---------------------------------------------------------------------------------------------------------
_METHOD_INPLACE = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_", "arctanh_",
                   "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_", "clamp_min_", "clip_",
                   "conj_physical_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_",
                   "fill_", "fix_", "floor_", "frac_", "gcd_", "i0_", "index_put_", "lcm_", "ldexp_", "log10_",
                   "log1p_", "log2_", "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_",
                   "reciprocal_", "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_",
                   "tan_", "tanh_", "trunc_", "xlogy_", "zero_", "detach_", "addmv_", "as_strided_",
                   "resize_as_")


def _method(name: str) -> Any:
    def fn(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        return getattr(input, name)(*args, **kwargs)
    fn.__name__ = name
    fn.__doc__ = f"`input.{name}(...)`."
    return fn


def fill(input: Tensor, value: Any) -> Tensor:
    """A tensor of input's shape and dtype filled with `value` (differentiable in a tensor value)."""
    return input.clone().fill_(value)


def selu_(input: Tensor) -> Tensor:
    """In-place SELU."""
    return _F().selu(input, inplace=True)


def celu_(input: Tensor, alpha: float = 1.0) -> Tensor:
    """In-place CELU."""
    return _F().celu(input, alpha, inplace=True)


# ---------------------------------------------------------------------------------------------------------
# queries and small helpers
# ---------------------------------------------------------------------------------------------------------
def is_same_size(input: Tensor, other: Tensor) -> bool:
    """Whether the two tensors have the same shape."""
    return tuple(input.shape) == tuple(other.shape)


def is_signed(input: Tensor) -> bool:
    """Whether input's dtype is signed."""
    return input.is_signed()


def is_inference(input: Tensor) -> bool:
    """Whether input was made in inference mode."""
    return input.is_inference()


def detach(input: Tensor) -> Tensor:
    """input.detach()."""
    return input.detach()


def chain_matmul(*matrices: Tensor, out: Any = None) -> Tensor:
    """The product of 2-d matrices (deprecated in PyTorch for linalg.multi_dot)."""
    import warnings

    from .linalg import multi_dot
    warnings.warn("torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
                  "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than "
                  "multiple parameters.", UserWarning, stacklevel=2)
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(list(matrices))


_DEFINED = ("batch_norm", "instance_norm", "embedding", "max_pool1d", "max_pool2d", "max_pool3d", "avg_pool1d",
            "adaptive_max_pool1d", "feature_dropout", "feature_alpha_dropout", "alpha_dropout", "rms_norm",
            "constant_pad_nd", "binary_cross_entropy_with_logits", "kl_div", "margin_ranking_loss",
            "cosine_embedding_loss", "hinge_embedding_loss", "triplet_margin_loss", "poisson_nll_loss", "ctc_loss",
            "dropout_", "alpha_dropout_", "feature_dropout_", "feature_alpha_dropout_", "fill", "selu_", "celu_",
            "is_same_size", "is_signed", "is_inference", "detach", "chain_matmul")

for _n in _SAME:
    globals()[_n] = _same(_n)
for _n, _f in _SAME_INPLACE.items():
    globals()[_n] = _same(_n, _f)
for _n in _METHOD_INPLACE:
    globals()[_n] = _method(_n)
del _n, _f

NAMES = frozenset(_DEFINED + _SAME + tuple(_SAME_INPLACE) + _METHOD_INPLACE)
