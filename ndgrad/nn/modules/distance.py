"""torch.nn.modules.distance's names: the public home PyTorch reports for PairwiseDistance and
CosineSimilarity (defined in activation.py)."""
from ... import _alias
from .activation import CosineSimilarity, PairwiseDistance

__all__ = ["PairwiseDistance", "CosineSimilarity"]
_alias.set_module(__name__, *(globals()[n] for n in __all__))
