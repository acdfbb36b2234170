"""Pretrained weights: the ``*_Weights`` enums and the ``weights`` / legacy ``pretrained``
arguments of the model builders.

A weights entry names the checkpoint URL torchvision publishes and the preprocessing it expects
(``weights.transforms()``).  ``get_state_dict`` goes through :mod:`ndgrad.hub`: the file is
downloaded once into PyTorch's cache directory (a checkpoint PyTorch already cached is used as
is) and read with ``ndgrad.load``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from enum import Enum
from functools import partial
from typing import Any, Callable

from ..transforms._presets import ImageClassification

__all__ = ["Weights", "WeightsEnum", "classification", "load_weights", "resolve_weights"]

_URL = "https://download.pytorch.org/models/"


@dataclass(eq=False)
class Weights:
    """A checkpoint URL, the transforms it was trained with and facts about it."""

    url: str
    transforms: Callable[..., Any]
    meta: dict[str, Any] = field(default_factory=dict)


def classification(file: str, resize_size: int = 256, **meta: Any) -> Weights:
    """ImageNet-1k classification weights stored at torchvision's URL ``file``."""
    return Weights(_URL + file, partial(ImageClassification, crop_size=224,
                                        resize_size=resize_size),
                   {"num_classes": 1000, "min_size": (1, 1), **meta})


class WeightsEnum(Enum):
    """Base of the ``*_Weights`` enums: members are :class:`Weights`; ``DEFAULT`` aliases the
    recommended one."""

    @classmethod
    def verify(cls, obj: Any) -> Any:
        """``obj`` as a member: None stays None, a name ('DEFAULT', 'IMAGENET1K_V1', also with
        the class name in front) is looked up."""
        if obj is None or isinstance(obj, cls):
            return obj
        if isinstance(obj, str):
            name = obj.replace(cls.__name__ + ".", "")
            try:
                return cls[name]
            except KeyError:
                raise ValueError(f"Failed to find Weights {obj} in {cls.__name__}. Try one of "
                                 f"{[m for m in cls.__members__]}") from None
        raise TypeError(f"Invalid Weight class provided; expected {cls.__name__} but received "
                        f"{type(obj).__name__}.")

    def get_state_dict(self, *args: Any, **kwargs: Any) -> Any:
        from ndgrad.hub import load_state_dict_from_url
        return load_state_dict_from_url(self.url, *args, **kwargs)

    @property
    def url(self) -> str:
        return self.value.url

    @property
    def transforms(self) -> Callable[..., Any]:
        return self.value.transforms

    @property
    def meta(self) -> dict[str, Any]:
        return self.value.meta

    def __repr__(self) -> str:
        return f"{type(self).__name__}.{self._name_}"


def resolve_weights(enum: type[WeightsEnum], weights: Any, kwargs: dict[str, Any]) -> Any:
    """The weights member a builder should load (or None), after the legacy ``pretrained``
    flag; ``num_classes`` must then be the checkpoint's."""
    if "pretrained" in kwargs:
        pretrained = kwargs.pop("pretrained")
        warnings.warn("The parameter 'pretrained' is deprecated since 0.13 and may be removed in "
                      "the future, please use 'weights' instead.", UserWarning, stacklevel=3)
        # the legacy flag meant the first ImageNet weights, not today's DEFAULT (ResNet-50: V1, not V2)
        legacy = (enum["IMAGENET1K_V1"] if "IMAGENET1K_V1" in enum.__members__ else enum["DEFAULT"]) \
            if pretrained else None
        also = f" You can also use `weights={enum.__name__}.DEFAULT` to get the most up-to-date weights." \
            if pretrained else ""
        warnings.warn("Arguments other than a weight enum or `None` for 'weights' are deprecated since 0.13 and "
                      "may be removed in the future. The current behavior is equivalent to passing "
                      f"`weights={legacy}`.{also}", UserWarning, stacklevel=3)
        if weights is None:
            weights = legacy
    weights = enum.verify(weights)
    if weights is not None:
        expected = weights.meta["num_classes"]
        given = kwargs.setdefault("num_classes", expected)
        if given != expected:
            raise ValueError(f"The parameter 'num_classes' expected value {expected} but got "
                             f"{given} instead.")
    return weights


def load_weights(model: Any, weights: Any, progress: bool) -> Any:
    """``model`` with the checkpoint of ``weights`` loaded (strictly), if any."""
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model
