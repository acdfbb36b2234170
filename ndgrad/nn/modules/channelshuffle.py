"""torch.nn.modules.channelshuffle's names: the public home PyTorch reports for ChannelShuffle
(defined in activation.py)."""
from ... import _alias
from .activation import ChannelShuffle

__all__ = ["ChannelShuffle"]
_alias.set_module(__name__, ChannelShuffle)
