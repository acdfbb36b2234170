"""torchvision.transforms for ndgrad: image transforms on PIL images and tensors (v1 here,
v2 in :mod:`.v2`), and their functions in :mod:`.functional`."""
from . import functional
from .functional import InterpolationMode
from .transforms import (CenterCrop, ColorJitter, Compose, ConvertImageDtype, GaussianBlur, Grayscale, Lambda,
                         Normalize, Pad, PILToTensor, RandomAffine, RandomApply, RandomChoice,
                         RandomCrop, RandomErasing, RandomGrayscale, RandomHorizontalFlip,
                         RandomOrder, RandomResizedCrop, RandomRotation, RandomVerticalFlip,
                         Resize, ToPILImage, ToTensor)

__all__ = [
    "CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "GaussianBlur", "Grayscale",
    "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad", "RandomAffine", "RandomApply", "RandomChoice",
    "RandomCrop", "RandomErasing", "RandomGrayscale", "RandomHorizontalFlip", "RandomOrder",
    "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip", "Resize", "ToPILImage",
    "ToTensor", "functional",
]


def __getattr__(name: str) -> object:
    if name == "v2":  # loaded on first use
        import importlib
        return importlib.import_module(".v2", __name__)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
