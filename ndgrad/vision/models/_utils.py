"""What the model builders share: the ``weights`` / legacy ``pretrained`` arguments."""
from __future__ import annotations

from typing import Any

__all__ = ["check_weights"]


def check_weights(name: str, weights: Any, kwargs: dict[str, Any]) -> None:
    """Accept ``weights=None`` (and the legacy ``pretrained=False``); pretrained weights need
    a download that ndgrad leaves to the user: load a saved ``state_dict`` instead."""
    pretrained = kwargs.pop("pretrained", None)
    if pretrained:
        weights = "DEFAULT"
    if weights is not None:
        raise NotImplementedError(
            f"{name}: pretrained weights ({weights!r}) are not downloaded by ndgrad; build the "
            f"model with weights=None and load a state_dict saved by torch "
            f"(model.load_state_dict(ndgrad.load('{name}.pth')))")
