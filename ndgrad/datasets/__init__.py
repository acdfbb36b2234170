"""Datasets shaped like torchvision.datasets (images as ndgrad tensors; ndgrad.vision.datasets
has the same classes with PIL images), and the image transforms.

MNIST, FashionMNIST and KMNIST read IDX files, CIFAR10/100 the pickled "python" batches (with a
restricted unpickler), all downloaded on request from mirrors, resumed, checksum verified;
DatasetFolder/ImageFolder read a folder per class; FakeData makes random images; Digits wraps
scikit-learn's bundled 8x8 digits (optional ``demo`` extra).
"""
from . import transforms, utils
from .cifar import CIFAR10, CIFAR100
from .digits import Digits
from .fakedata import FakeData
from .folder import IMG_EXTENSIONS, DatasetFolder, ImageFolder, default_loader, pil_loader
from .idx import read_idx, write_idx
from .mnist import KMNIST, MNIST, FashionMNIST

__all__ = ["CIFAR10", "CIFAR100", "IMG_EXTENSIONS", "KMNIST", "MNIST", "DatasetFolder", "Digits",
           "FakeData", "FashionMNIST", "ImageFolder", "default_loader", "pil_loader", "read_idx",
           "transforms", "utils", "write_idx"]
