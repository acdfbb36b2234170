"""Image transforms: the same objects as :mod:`ndgrad.vision.transforms` (torchvision's v1 API),
importable from here too.  See that module for the behaviour; ndgrad extension: NumPy arrays
are accepted as channel-first images (..., C, H, W) and returned as arrays (ToTensor alone
reads arrays channel-last, as torchvision does)."""
from ndgrad.vision.transforms import *  # noqa: F403
from ndgrad.vision.transforms import __all__, functional  # noqa: F401
