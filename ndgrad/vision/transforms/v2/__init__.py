"""torchvision.transforms.v2: the same transforms, called on whole samples.

A v2 transform takes any structure (an image, ``(image, label)``, a dict, nested lists) and
transforms the images in it with one draw of random parameters, passing other values through:
PIL images are transformed, and when the sample has none, the first plain tensor is treated as
the image (torchvision's rule for pure tensors).  The work is done by the v1 transforms' code
(:mod:`ndgrad.vision.transforms.transforms`); reprs are v2's (``Module`` style, public fields).
tv_tensors (BoundingBoxes, Mask, ...) are not provided: ``ToImage`` returns a plain tensor.
"""
from __future__ import annotations

import enum
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from ndgrad.nn import Module

from .. import functional as _F1
from .. import transforms as _v1
from ..functional import InterpolationMode
from . import functional

__all__ = [
    "CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "Grayscale", "Identity",
    "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad", "RandomAffine",
    "RandomApply", "RandomChoice", "RandomCrop", "RandomErasing", "RandomGrayscale",
    "RandomHorizontalFlip", "RandomOrder", "RandomResizedCrop", "RandomRotation",
    "RandomVerticalFlip", "Resize", "ToDtype", "ToImage", "ToPILImage", "ToPureTensor",
    "ToTensor", "Transform", "functional",
]


# -- flattening a sample -------------------------------------------------------------------

def _flatten(obj: Any, leaves: list[Any]) -> Any:
    """Collect the leaves of nested lists/tuples/dicts; returns a spec to rebuild it."""
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return (type(obj), [_flatten(x, leaves) for x in obj])
    if isinstance(obj, dict):
        return (dict, [(k, _flatten(v, leaves)) for k, v in obj.items()])
    leaves.append(obj)
    return None


def _unflatten(spec: Any, leaves: Any) -> Any:
    if spec is None:
        return next(leaves)
    kind, items = spec
    if kind is dict:
        return {k: _unflatten(s, leaves) for k, s in items}
    return kind(_unflatten(s, leaves) for s in items)


def _is_image_like(x: Any) -> bool:
    return _F1._is_pil(x) or _F1._is_tensor(x)


class Transform(Module):
    """Base of the v2 transforms: override ``make_params(flat_inputs)`` and
    ``transform(inpt, params)``; ``forward`` applies them to every image in a sample."""

    _transformed_types: tuple[Any, ...] = ()

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        return {}

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _accepts(self, inpt: Any) -> bool:
        return _is_image_like(inpt)

    def _needs_transform(self, flat: list[Any]) -> list[bool]:
        pure_tensor_left = not any(_F1._is_pil(x) for x in flat)
        needs = []
        for x in flat:
            need = self._accepts(x)
            if need and _F1._is_tensor(x):
                need, pure_tensor_left = pure_tensor_left, False
            needs.append(need)
        return needs

    def _run(self, inputs: tuple[Any, ...], params_from: Callable[[list[Any]], dict[str, Any]]
             ) -> Any:
        sample = inputs if len(inputs) > 1 else inputs[0]
        flat: list[Any] = []
        spec = _flatten(sample, flat)
        needs = self._needs_transform(flat)
        params = params_from([x for x, n in zip(flat, needs) if n])
        out = [self.transform(x, params) if n else x for x, n in zip(flat, needs)]
        return _unflatten(spec, iter(out))

    def forward(self, *inputs: Any) -> Any:
        return self._run(inputs, self.make_params)

    def extra_repr(self) -> str:
        fields = []
        for name, value in self.__dict__.items():
            if name.startswith("_") or name == "training":
                continue
            if isinstance(value, (bool, int, float, str, tuple, list, enum.Enum)):
                fields.append(f"{name}={value}")
        return ", ".join(fields)

    __repr__ = Module.__repr__


class _FromV1(Transform):
    """A v2 transform whose parameters and work come from the v1 class it is mixed with
    (``make_params(img)`` / ``apply(img, params)`` there)."""

    def make_params(self, flat_inputs: list[Any]) -> dict[str, Any]:
        if not flat_inputs:
            return {}
        return super(Transform, self).make_params(flat_inputs[0])  # the v1 class's

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self.apply(inpt, params)  # type: ignore[attr-defined]


class _RandomApply(_FromV1):
    """v2's probability gate: with probability 1 - p the sample is returned untouched, else
    the images are transformed with ``applied_params``."""

    def applied_params(self, img: Any) -> dict[str, Any]:
        return {"apply": True}

    def forward(self, *inputs: Any) -> Any:
        if _v1._rand() >= self.p:  # type: ignore[attr-defined]
            return inputs if len(inputs) > 1 else inputs[0]
        return self._run(inputs, lambda flat: self.applied_params(flat[0]) if flat else {})


def _reorder(obj: Module, names: Sequence[str]) -> None:
    """Put public fields in the order v2's constructor assigns them (its repr lists them so)."""
    values = {n: obj.__dict__.pop(n) for n in names}
    obj.__dict__.update(values)


# -- conversions ---------------------------------------------------------------------------

class ToImage(Transform):
    """PIL image or (H, W[, C]) array -> (C, H, W) tensor with the same dtype and values."""

    def _accepts(self, inpt: Any) -> bool:
        return _is_image_like(inpt) or isinstance(inpt, np.ndarray)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return functional.to_image(inpt)


class ToPureTensor(Transform):
    """Leave tensors as plain tensors (ndgrad has no tv_tensors subclasses)."""

    def _accepts(self, inpt: Any) -> bool:
        return _F1._is_tensor(inpt)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return inpt


class PILToTensor(Transform):
    """PIL image -> (C, H, W) tensor of the same dtype and values."""

    def _accepts(self, inpt: Any) -> bool:
        return _F1._is_pil(inpt)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return _F1.pil_to_tensor(inpt)


class ToPILImage(Transform):
    """Tensor or array -> PIL image."""

    def __init__(self, mode: str | None = None) -> None:
        super().__init__()
        self.mode = mode

    def _accepts(self, inpt: Any) -> bool:
        return _F1._is_tensor(inpt) or isinstance(inpt, np.ndarray)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return _F1.to_pil_image(inpt, mode=self.mode)


class ToTensor(Transform):
    """Deprecated in torchvision's v2 (use ToImage + ToDtype(float32, scale=True)); as v1."""

    def __init__(self) -> None:
        warnings.warn("The transform `ToTensor()` is deprecated and will be removed in a future "
                      "release. Instead, please use `v2.Compose([v2.ToImage(), "
                      "v2.ToDtype(torch.float32, scale=True)])`.Output is equivalent up to float "
                      "precision.", UserWarning, stacklevel=2)
        super().__init__()

    def _accepts(self, inpt: Any) -> bool:
        return _F1._is_pil(inpt) or isinstance(inpt, np.ndarray)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return _F1.to_tensor(inpt)


class ToDtype(Transform):
    """Convert tensors to ``dtype``; with ``scale=True`` image values are rescaled
    (float in [0, 1] <-> integer in [0, max])."""

    def __init__(self, dtype: Any, scale: bool = False) -> None:
        super().__init__()
        if isinstance(dtype, dict):
            raise NotImplementedError("ToDtype with a dict of dtypes needs tv_tensors, which "
                                      "ndgrad does not provide; pass one dtype")
        self.dtype = dtype
        self.scale = scale

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return functional.to_dtype(inpt, self.dtype, scale=self.scale)


class ConvertImageDtype(Transform):
    """Convert an image tensor to ``dtype``, rescaling its values."""

    def __init__(self, dtype: Any = None) -> None:
        super().__init__()
        import ndgrad
        self.dtype = dtype if dtype is not None else ndgrad.float32

    def _accepts(self, inpt: Any) -> bool:
        return _F1._is_tensor(inpt)

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return _F1.convert_image_dtype(inpt, self.dtype)


class Normalize(_FromV1, _v1.Normalize):
    """``(x - mean[c]) / std[c]`` per channel of float image tensors."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        super().__init__(list(mean), list(std), inplace)

    def _accepts(self, inpt: Any) -> bool:
        if _F1._is_pil(inpt):
            raise TypeError(f"{type(self).__name__}() does not support PIL images.")
        return _F1._is_tensor(inpt)


class Identity(Transform):
    """Return the sample unchanged."""

    def forward(self, *inputs: Any) -> Any:
        return inputs if len(inputs) > 1 else inputs[0]


class Lambda(Transform):
    """Apply ``lambd`` to the inputs of ``types`` (default: every input)."""

    def __init__(self, lambd: Callable[[Any], Any], *types: type) -> None:
        super().__init__()
        self.lambd = lambd
        self.types = types or (object,)

    def _accepts(self, inpt: Any) -> bool:
        return True

    def transform(self, inpt: Any, params: dict[str, Any]) -> Any:
        return self.lambd(inpt) if isinstance(inpt, self.types) else inpt

    def extra_repr(self) -> str:
        name = getattr(self.lambd, "__name__", None)
        return ", ".join(([name] if name else []) +
                         [f"types={[t.__name__ for t in self.types]}"])


# -- containers ----------------------------------------------------------------------------

def _check_transforms(transforms: Any) -> None:
    if not isinstance(transforms, Sequence):
        raise TypeError("Argument transforms should be a sequence of callables")
    if not transforms:
        raise ValueError("Pass at least one transform")


def _chain(transforms: Sequence[Callable[..., Any]], order: Sequence[int],
           inputs: tuple[Any, ...]) -> Any:
    unpack = len(inputs) > 1
    outputs: Any = inputs if unpack else inputs[0]
    for i in order:
        outputs = transforms[i](*inputs)
        inputs = outputs if unpack else (outputs,)
    return outputs


class _Container(Transform):
    def extra_repr(self) -> str:
        return "\n".join(f"    {t}" for t in self.transforms)  # type: ignore[attr-defined]


class Compose(_Container):
    """Apply ``transforms`` in order to the whole sample."""

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
        super().__init__()
        _check_transforms(transforms)
        self.transforms = transforms

    def forward(self, *inputs: Any) -> Any:
        return _chain(self.transforms, range(len(self.transforms)), inputs)


class RandomApply(_Container):
    """Apply all ``transforms`` with probability ``p``."""

    def __init__(self, transforms: Sequence[Callable[..., Any]], p: float = 0.5) -> None:
        super().__init__()
        _check_transforms(transforms)
        self.transforms = transforms
        if not 0.0 <= p <= 1.0:
            raise ValueError("`p` should be a floating point value in the interval [0.0, 1.0].")
        self.p = p

    def forward(self, *inputs: Any) -> Any:
        if _v1._rand() >= self.p:
            return inputs if len(inputs) > 1 else inputs[0]
        return _chain(self.transforms, range(len(self.transforms)), inputs)


class RandomChoice(Transform):
    """Apply one of ``transforms``, picked with probabilities ``p`` (normalised)."""

    def __init__(self, transforms: Sequence[Callable[..., Any]],
                 p: list[float] | None = None) -> None:
        _check_transforms(transforms)
        if p is None:
            p = [1] * len(transforms)
        elif len(p) != len(transforms):
            raise ValueError(f"Length of p doesn't match the number of transforms: {len(p)} != "
                             f"{len(transforms)}")
        super().__init__()
        self.transforms = transforms
        total = sum(p)
        self.p = [w / total for w in p]

    def forward(self, *inputs: Any) -> Any:
        picker = _v1.RandomChoice(self.transforms, self.p)
        return self.transforms[picker._pick()](*inputs)


class RandomOrder(Transform):
    """Apply all ``transforms`` in a random order."""

    def __init__(self, transforms: Sequence[Callable[..., Any]]) -> None:
        _check_transforms(transforms)
        super().__init__()
        self.transforms = transforms

    def forward(self, *inputs: Any) -> Any:
        return _chain(self.transforms, _v1._randperm(len(self.transforms)), inputs)


# -- geometry and colour: v1's work, v2's calling convention --------------------------------

class Resize(_FromV1, _v1.Resize):
    """Resize images (see v1 Resize); ``size`` is kept as a list."""

    def __init__(self, size: int | Sequence[int] | None, interpolation: Any = "bilinear", max_size: int | None = None,
                 antialias: bool | None = True) -> None:
        if isinstance(size, int):
            size = [size]
        elif isinstance(size, Sequence) and len(size) in (1, 2):
            size = list(size)
        elif size is None:
            if not isinstance(max_size, int):
                raise ValueError(f"max_size must be an integer when size is None, but got "
                                 f"{max_size} instead.")
        else:
            raise ValueError(f"size can be an integer, a sequence of one or two integers, or "
                             f"None, but got {size} instead.")
        _F1._interpolation(interpolation)  # checked now, kept as given (v2's repr shows it)
        Module.__init__(self)
        self.size = size
        self.interpolation = interpolation
        self.max_size = max_size
        self.antialias = antialias

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        if self.size is None:
            _, h, w = _F1.get_dimensions(img)
            size = _F1.resized_output_size(h, w, None, self.max_size, allow_none=True)
            return _F1.resize(img, size, self.interpolation, antialias=self.antialias)
        return super().apply(img, params)


class CenterCrop(_FromV1, _v1.CenterCrop):
    """Crop the centre window of every image."""


class Pad(_FromV1, _v1.Pad):
    """Pad every image."""

    def __init__(self, padding: int | Sequence[int], fill: Any = 0,
                 padding_mode: str = "constant") -> None:
        super().__init__(padding, fill, padding_mode)
        if not isinstance(padding, int):
            self.padding = list(padding)


class RandomCrop(_FromV1, _v1.RandomCrop):
    """Crop every image of a sample at the same random place."""

    def __init__(self, size: int | Sequence[int], padding: Any = None,
                 pad_if_needed: bool = False, fill: Any = 0,
                 padding_mode: str = "constant") -> None:
        super().__init__(size, padding, pad_if_needed, fill, padding_mode)
        self.size = _v1._setup_size(size, _v1._SIZE_MSG)
        if padding:  # v2 shows the amounts in torch's pad order: left, right, top, bottom
            left, top, right, bottom = _F1._pad_amounts(padding)
            self.padding = [left, right, top, bottom]
        else:
            self.padding = None


class RandomResizedCrop(_FromV1, _v1.RandomResizedCrop):
    """Random crop then resize, the same window for every image of a sample."""

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0), interpolation: Any = "bilinear",
                 antialias: bool | None = True) -> None:
        super().__init__(size, scale, ratio, interpolation, antialias)
        self.interpolation = interpolation
        _reorder(self, ("size", "scale", "ratio", "interpolation", "antialias"))


class RandomHorizontalFlip(_RandomApply, _v1.RandomHorizontalFlip):
    """Mirror the sample's images left-right with probability ``p``."""


class RandomVerticalFlip(_RandomApply, _v1.RandomVerticalFlip):
    """Mirror the sample's images top-bottom with probability ``p``."""


class RandomGrayscale(_RandomApply, _v1.RandomGrayscale):
    """Turn the sample's images grey with probability ``p``."""


class Grayscale(_FromV1, _v1.Grayscale):
    """Turn images grey (1 or 3 output channels)."""


class RandomRotation(_FromV1, _v1.RandomRotation):
    """Rotate the sample's images by one random angle."""

    def __init__(self, degrees: Any, interpolation: Any = "nearest", expand: bool = False,
                 center: Sequence[float] | None = None, fill: Any = 0) -> None:
        super().__init__(degrees, interpolation, expand, center, fill)
        self.interpolation = interpolation
        _reorder(self, ("degrees", "interpolation", "expand", "fill", "center"))


class RandomAffine(_FromV1, _v1.RandomAffine):
    """One random affine map for the sample's images."""

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = "nearest", fill: Any = 0,
                 center: Sequence[int] | None = None) -> None:
        super().__init__(degrees, translate, scale, shear, interpolation, fill, center)
        self.interpolation = interpolation
        _reorder(self, ("interpolation", "fill", "center"))


class ColorJitter(_FromV1, _v1.ColorJitter):
    """Random brightness/contrast/saturation/hue, the same for the sample's images."""


class RandomErasing(_RandomApply, _v1.RandomErasing):
    """Erase one random window of the sample's image tensors with probability ``p``."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: Any = 0.0,
                 inplace: bool = False) -> None:
        super().__init__(p, scale, ratio, value, inplace)
        if isinstance(value, (int, float)):
            self.value = [float(value)]
        elif isinstance(value, str):
            self.value = None
        else:
            self.value = [float(v) for v in value]

    def applied_params(self, img: Any) -> dict[str, Any]:
        return self.window(img)
