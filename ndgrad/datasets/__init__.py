"""Datasets and image transforms shaped like torchvision.datasets and torchvision.transforms.

MNIST and FashionMNIST read IDX files (downloaded on request from mirrors, resumed, checksum
verified); Digits wraps scikit-learn's bundled 8x8 digits (optional ``demo`` extra).
"""
from . import transforms, utils
from .digits import Digits
from .idx import read_idx, write_idx
from .mnist import MNIST, FashionMNIST

__all__ = ["MNIST", "Digits", "FashionMNIST", "read_idx", "transforms", "utils", "write_idx"]
