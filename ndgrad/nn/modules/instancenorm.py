"""torch.nn.modules.instancenorm's names: the public home PyTorch reports for the instance-norm layers
(defined in normalization.py)."""
from ... import _alias
from .normalization import (InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
                            LazyInstanceNorm3d)

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d", "LazyInstanceNorm1d", "LazyInstanceNorm2d",
           "LazyInstanceNorm3d"]
_alias.set_module(__name__, *(globals()[n] for n in __all__))
