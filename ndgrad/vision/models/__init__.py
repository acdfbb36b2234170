"""torchvision.models for ndgrad: AlexNet, VGG, ResNet and MobileNetV2 with torchvision's module
structure, parameter names and reprs, so a state_dict saved from torchvision loads with
``strict=True``.  Builders take ``weights=None`` (random initialisation, as torchvision's)."""
from .alexnet import AlexNet, alexnet
from .mobilenetv2 import MobileNetV2, mobilenet_v2
from .resnet import ResNet, resnet18, resnet34, resnet50, resnet101, resnet152
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = ["VGG", "AlexNet", "MobileNetV2", "ResNet", "alexnet", "mobilenet_v2", "resnet18",
           "resnet34", "resnet50", "resnet101", "resnet152", "vgg11", "vgg11_bn", "vgg13",
           "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"]
