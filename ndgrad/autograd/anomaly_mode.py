"""torch.autograd.anomaly_mode's names: the public home PyTorch reports for detect_anomaly and
set_detect_anomaly (defined in grad_mode.py)."""
from .. import _alias
from .grad_mode import detect_anomaly, set_detect_anomaly

__all__ = ["detect_anomaly", "set_detect_anomaly"]
_alias.set_module(__name__, detect_anomaly, set_detect_anomaly)
