"""torch.nn.modules.batchnorm's names: the public home PyTorch reports for the batch-norm layers
(defined in normalization.py)."""
from ... import _alias
from .normalization import (BatchNorm1d, BatchNorm2d, BatchNorm3d, LazyBatchNorm1d, LazyBatchNorm2d,
                            LazyBatchNorm3d, SyncBatchNorm, _BatchNorm)  # noqa: F401 (_BatchNorm: isinstance checks)

__all__ = ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d",
           "SyncBatchNorm"]
_alias.set_module(__name__, *(globals()[n] for n in __all__))
