"""Every nn layer class. Layers owned by other files (conv, pooling, rnn, transformer)
are picked up when their files exist, so a missing one never breaks `import ndgrad.nn`."""
from __future__ import annotations

import importlib as _importlib

from .activation import (CELU, ELU, GELU, GLU, SELU, ChannelShuffle, CosineSimilarity, Hardshrink,  # noqa: F401
                         Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish,
                         PairwiseDistance, PReLU, ReLU, ReLU6, RReLU, Sigmoid, SiLU, Softmax, Softmax2d, Softmin,
                         Softplus, Softshrink, Softsign, Tanh, Tanhshrink, Threshold)
from .container import Container, ModuleDict, ModuleList, ParameterDict, ParameterList, Sequential  # noqa: F401
from .dropout import AlphaDropout, Dropout, Dropout1d, Dropout2d, Dropout3d, FeatureAlphaDropout  # noqa: F401
from .flatten import Flatten, Unflatten  # noqa: F401
from .linear import Bilinear, Identity, LazyLinear, Linear  # noqa: F401
from .loss import (BCELoss, BCEWithLogitsLoss, CosineEmbeddingLoss, CrossEntropyLoss,  # noqa: F401
                   GaussianNLLLoss, HingeEmbeddingLoss, HuberLoss, KLDivLoss, L1Loss, MarginRankingLoss,
                   MSELoss, MultiLabelSoftMarginLoss, MultiMarginLoss, NLLLoss, PoissonNLLLoss, SmoothL1Loss,
                   SoftMarginLoss, TripletMarginLoss, MultiLabelMarginLoss, TripletMarginWithDistanceLoss, NLLLoss2d,
                   CTCLoss)
from .module import Module  # noqa: F401
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, GroupNorm, InstanceNorm1d,  # noqa: F401
                            InstanceNorm2d, InstanceNorm3d, LayerNorm, LazyBatchNorm1d, LazyBatchNorm2d,
                            LazyBatchNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d, LazyInstanceNorm3d,
                            LocalResponseNorm, RMSNorm, SyncBatchNorm)
from .sparse import Embedding, EmbeddingBag  # noqa: F401

# classes other engineers' files provide (taken from their __all__ when they define one)
_OPTIONAL = {
    "conv": ("Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "LazyConv1d",
             "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d"),
    "pooling": (),
    "padding": (),
    "upsampling": (),
    "pixelshuffle": (),
    "fold": (),
    "rnn": ("RNNBase", "RNN", "LSTM", "GRU", "RNNCell", "LSTMCell", "GRUCell"),
    "adaptive": ("AdaptiveLogSoftmaxWithLoss",),
    "transformer": ("MultiheadAttention", "TransformerEncoderLayer", "TransformerEncoder", "TransformerDecoderLayer",
                    "TransformerDecoder", "Transformer"),
}


def _load_optional() -> list:
    found = []
    for mod_name, names in _OPTIONAL.items():
        full = f"{__name__}.{mod_name}"
        try:
            mod = _importlib.import_module(full)
        except ModuleNotFoundError as e:
            if e.name == full:  # the file itself does not exist (yet)
                continue
            raise
        for n in tuple(getattr(mod, "__all__", ())) + names:
            if hasattr(mod, n) and n not in globals():
                globals()[n] = getattr(mod, n)
                found.append(n)
    return found


_OPTIONAL_FOUND = _load_optional()

# the modules PyTorch reports as the home of some classes defined in the files above
from . import batchnorm, channelshuffle, distance, instancenorm  # noqa: E402,F401

__all__ = sorted(n for n, v in globals().items() if isinstance(v, type) and not n.startswith("_"))
