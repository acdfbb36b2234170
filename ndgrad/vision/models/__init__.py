"""torchvision.models for ndgrad: AlexNet, VGG, ResNet and MobileNetV2 with torchvision's module
structure, parameter names and reprs, so a state_dict saved from torchvision loads with
``strict=True``.  Builders take ``weights=None`` (random initialisation, as torchvision's) or a
``*_Weights`` member / name, whose checkpoint is fetched through :mod:`ndgrad.hub`."""
from ._utils import Weights, WeightsEnum
from .alexnet import AlexNet, AlexNet_Weights, alexnet
from .mobilenetv2 import MobileNet_V2_Weights, MobileNetV2, mobilenet_v2
from .resnet import (ResNet, ResNet18_Weights, ResNet34_Weights, ResNet50_Weights,
                     ResNet101_Weights, ResNet152_Weights, resnet18, resnet34, resnet50, resnet101,
                     resnet152)
from .vgg import (VGG, VGG11_BN_Weights, VGG11_Weights, VGG13_BN_Weights, VGG13_Weights,
                  VGG16_BN_Weights, VGG16_Weights, VGG19_BN_Weights, VGG19_Weights, vgg11, vgg11_bn,
                  vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn)

__all__ = [
    "VGG", "AlexNet", "AlexNet_Weights", "MobileNetV2", "MobileNet_V2_Weights", "ResNet",
    "ResNet101_Weights", "ResNet152_Weights", "ResNet18_Weights", "ResNet34_Weights",
    "ResNet50_Weights", "VGG11_BN_Weights", "VGG11_Weights", "VGG13_BN_Weights", "VGG13_Weights",
    "VGG16_BN_Weights", "VGG16_Weights", "VGG19_BN_Weights", "VGG19_Weights", "Weights",
    "WeightsEnum", "alexnet", "mobilenet_v2", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19",
    "vgg19_bn",
]


def get_model_weights(name: str) -> type[WeightsEnum]:
    """The weights enum of the builder called ``name`` (e.g. 'resnet50' -> ResNet50_Weights)."""
    enums = {"alexnet": AlexNet_Weights, "mobilenet_v2": MobileNet_V2_Weights,
             "resnet18": ResNet18_Weights, "resnet34": ResNet34_Weights,
             "resnet50": ResNet50_Weights, "resnet101": ResNet101_Weights,
             "resnet152": ResNet152_Weights, "vgg11": VGG11_Weights, "vgg11_bn": VGG11_BN_Weights,
             "vgg13": VGG13_Weights, "vgg13_bn": VGG13_BN_Weights, "vgg16": VGG16_Weights,
             "vgg16_bn": VGG16_BN_Weights, "vgg19": VGG19_Weights, "vgg19_bn": VGG19_BN_Weights}
    if name not in enums:
        raise ValueError(f"Unknown model {name}")
    return enums[name]


def get_weight(name: str) -> WeightsEnum:
    """A weights member from its full name, e.g. 'ResNet50_Weights.IMAGENET1K_V2'."""
    enum_name, _, member = name.partition(".")
    enum = globals().get(enum_name)
    if not (isinstance(enum, type) and issubclass(enum, WeightsEnum)):
        raise ValueError(f"Invalid weight name provided: '{name}'.")
    return enum[member]
