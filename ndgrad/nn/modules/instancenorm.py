"""torch.nn.modules.instancenorm's names: the public home PyTorch reports for the instance-norm layers
(defined in normalization.py)."""
from ... import _alias
from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d

__all__ = ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]
_alias.set_module(__name__, *(globals()[n] for n in __all__))
