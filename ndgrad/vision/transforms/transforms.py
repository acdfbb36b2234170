"""torchvision.transforms (v1): callable image transforms built on :mod:`.functional`.

Random transforms draw their parameters from ndgrad's global generator (``ndgrad.manual_seed``
makes a run repeat), in the same order and with the same calls torchvision makes on torch's.
Classes that are ``nn.Module`` in torchvision are ``ndgrad.nn.Module`` here, so they nest in
``nn.Sequential``; each samples its parameters in ``make_params`` and applies them in
``apply``, which the v2 transforms reuse.
"""
from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from ndgrad.nn import Module

from . import functional as F
from .functional import InterpolationMode

__all__ = [
    "CenterCrop", "ColorJitter", "Compose", "ConvertImageDtype", "GaussianBlur", "Grayscale",
    "InterpolationMode", "Lambda", "Normalize", "PILToTensor", "Pad", "RandomAffine", "RandomApply", "RandomChoice",
    "RandomCrop", "RandomErasing", "RandomGrayscale", "RandomHorizontalFlip", "RandomOrder",
    "RandomResizedCrop", "RandomRotation", "RandomVerticalFlip", "Resize", "ToPILImage",
    "ToTensor",
]


# -- random draws (ndgrad's global generator) -----------------------------------------------

def _rand() -> float:
    import ndgrad
    return float(ndgrad.rand(1).item())


def _randint(low: int, high: int) -> int:
    import ndgrad
    return int(ndgrad.randint(low, high, (1,)).item())


def _uniform(low: float, high: float) -> float:
    import ndgrad
    return float(ndgrad.empty(1).uniform_(low, high).item())


def _randperm(n: int) -> list[int]:
    import ndgrad
    return [int(v) for v in ndgrad.randperm(n).tolist()]


# -- argument checks shared by several transforms -------------------------------------------

def _setup_size(size: Any, error_msg: str) -> Any:
    if isinstance(size, numbers.Number):
        return int(size), int(size)
    if isinstance(size, Sequence) and len(size) == 1:
        return size[0], size[0]
    if not isinstance(size, Sequence) or len(size) != 2:
        raise ValueError(error_msg)
    return size


_SIZE_MSG = "Please provide only two dimensions (h, w) for size."


def _check_sequence(x: Any, name: str, req_sizes: tuple[int, ...]) -> None:
    msg = req_sizes[0] if len(req_sizes) < 2 else " or ".join(str(s) for s in req_sizes)
    if not isinstance(x, Sequence):
        raise TypeError(f"{name} should be a sequence of length {msg}.")
    if len(x) not in req_sizes:
        raise ValueError(f"{name} should be a sequence of length {msg}.")


def _setup_angle(x: Any, name: str, req_sizes: tuple[int, ...] = (2,)) -> list[float]:
    if isinstance(x, numbers.Number):
        if x < 0:
            raise ValueError(f"If {name} is a single number, it must be positive.")
        x = [-x, x]
    else:
        _check_sequence(x, name, req_sizes)
    return [float(d) for d in x]


def _interp(value: Any) -> InterpolationMode:
    return F._interpolation(value)


def _check_fill(fill: Any) -> Any:
    if fill is None:
        return 0
    if not isinstance(fill, (Sequence, numbers.Number)):
        raise TypeError("Fill should be either a sequence or a number.")
    return fill


def _tensor_fill(img: Any, fill: Any) -> Any:
    """Rotation/affine fill for a tensor: one float per channel, as torchvision passes it."""
    if F._is_pil(img):
        return fill
    channels = F.get_dimensions(img)[0]
    if isinstance(fill, (int, float)):
        return [float(fill)] * channels
    return [float(f) for f in fill]


class _Transform(Module):
    """A transform as a module: ``make_params(img)`` draws the random parameters (none by
    default), ``apply(img, params)`` does the work."""

    def make_params(self, img: Any) -> dict[str, Any]:
        return {}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        raise NotImplementedError

    def forward(self, img: Any) -> Any:
        return self.apply(img, self.make_params(img))


# -- containers and plain callables ---------------------------------------------------------

def _listing(name: str, items: Sequence[Any], head: str = "") -> str:
    body = head + "".join(f"\n    {t}" for t in items)
    return f"{name}({body}\n)"


class Compose:
    """Apply ``transforms`` one after another."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        self.transforms = transforms

    def __call__(self, img: Any) -> Any:
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return _listing(type(self).__name__, self.transforms)


class ToTensor:
    """PIL image or (H, W[, C]) array -> (C, H, W) tensor; uint8 scaled to float32 in [0, 1]."""

    def __call__(self, pic: Any) -> Any:
        return F.to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class PILToTensor:
    """PIL image -> (C, H, W) tensor of the same dtype and values."""

    def __call__(self, pic: Any) -> Any:
        return F.pil_to_tensor(pic)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ToPILImage:
    """Tensor or array -> PIL image (``mode`` as Pillow names it, or inferred)."""

    def __init__(self, mode: str | None = None) -> None:
        self.mode = mode

    def __call__(self, pic: Any) -> Any:
        return F.to_pil_image(pic, self.mode)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + (f"mode={self.mode}" if self.mode is not None else "") + ")"


class Lambda:
    """A user function as a transform."""

    def __init__(self, lambd: Callable[[Any], Any]) -> None:
        if not callable(lambd):
            raise TypeError(f"Argument lambd should be callable, got {type(lambd).__name__!r}")
        self.lambd = lambd

    def __call__(self, img: Any) -> Any:
        return self.lambd(img)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class RandomTransforms:
    """Base of the containers that pick or order their transforms at random."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]]) -> None:
        if not isinstance(transforms, Sequence):
            raise TypeError("Argument transforms should be a sequence")
        self.transforms = transforms

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    def __repr__(self) -> str:
        return _listing(type(self).__name__, self.transforms)


class RandomOrder(RandomTransforms):
    """Apply every transform, in a random order."""

    def __call__(self, img: Any) -> Any:
        for i in _randperm(len(self.transforms)):
            img = self.transforms[i](img)
        return img


class RandomChoice(RandomTransforms):
    """Apply one transform picked at random (weights ``p``, uniform when None)."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]],
                 p: Sequence[float] | None = None) -> None:
        super().__init__(transforms)
        if p is not None and not isinstance(p, Sequence):
            raise TypeError("Argument p should be a sequence")
        self.p = p

    def _pick(self) -> int:
        weights = [1.0] * len(self.transforms) if self.p is None else [float(w) for w in self.p]
        if len(weights) != len(self.transforms):
            raise ValueError("The number of weights does not match the population")
        u = _rand() * sum(weights)
        acc = 0.0
        for i, w in enumerate(weights):
            acc += w
            if u < acc:
                return i
        return len(weights) - 1

    def __call__(self, *args: Any) -> Any:
        return self.transforms[self._pick()](*args)

    def __repr__(self) -> str:
        return f"{super().__repr__()}(p={self.p})"


class RandomApply(Module):
    """Apply all ``transforms`` with probability ``p``, else none."""

    def __init__(self, transforms: Sequence[Callable[[Any], Any]], p: float = 0.5) -> None:
        super().__init__()
        self.transforms = transforms
        self.p = p

    def forward(self, img: Any) -> Any:
        if self.p < _rand():
            return img
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self) -> str:
        return _listing(type(self).__name__, self.transforms, head=f"\n    p={self.p}")


# -- conversions ---------------------------------------------------------------------------

class ConvertImageDtype(_Transform):
    """Convert a tensor image to ``dtype``, rescaling values (see functional.convert_image_dtype)."""

    def __init__(self, dtype: Any) -> None:
        super().__init__()
        self.dtype = dtype

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.convert_image_dtype(img, self.dtype)


class Normalize(_Transform):
    """``(x - mean[c]) / std[c]`` per channel of a float tensor image."""

    def __init__(self, mean: Sequence[float], std: Sequence[float], inplace: bool = False) -> None:
        super().__init__()
        self.mean = mean
        self.std = std
        self.inplace = inplace

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.normalize(img, self.mean, self.std, self.inplace)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(mean={self.mean}, std={self.std})"


# -- geometry ------------------------------------------------------------------------------

class Resize(_Transform):
    """Resize to ``size`` ((h, w), or the shorter edge); see functional.resize."""

    def __init__(self, size: int | Sequence[int], interpolation: Any = InterpolationMode.BILINEAR,
                 max_size: int | None = None, antialias: bool | None = True) -> None:
        super().__init__()
        if not isinstance(size, (int, Sequence)):
            raise TypeError(f"Size should be int or sequence. Got {type(size)}")
        if isinstance(size, Sequence) and len(size) not in (1, 2):
            raise ValueError("If size is a sequence, it should have 1 or 2 values")
        self.size = size
        self.max_size = max_size
        self.interpolation = _interp(interpolation)
        self.antialias = antialias

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.resize(img, self.size, self.interpolation, self.max_size, self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, interpolation="
                f"{self.interpolation.value}, max_size={self.max_size}, antialias={self.antialias})")


class CenterCrop(_Transform):
    """Crop the centre (h, w) window (zero-padded when larger than the image)."""

    def __init__(self, size: int | Sequence[int]) -> None:
        super().__init__()
        self.size = _setup_size(size, _SIZE_MSG)

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.center_crop(img, self.size)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size})"


class Pad(_Transform):
    """Pad the borders (see functional.pad)."""

    def __init__(self, padding: int | Sequence[int], fill: Any = 0,
                 padding_mode: str = "constant") -> None:
        super().__init__()
        if not isinstance(padding, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate padding arg")
        if not isinstance(fill, (numbers.Number, tuple, list)):
            raise TypeError("Got inappropriate fill arg")
        if padding_mode not in F._PAD_MODES:
            raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
        if isinstance(padding, Sequence) and len(padding) not in (1, 2, 4):
            raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a "
                             f"{len(padding)} element tuple")
        self.padding = padding
        self.fill = fill
        self.padding_mode = padding_mode

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.pad(img, self.padding, self.fill, self.padding_mode)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(padding={self.padding}, fill={self.fill}, "
                f"padding_mode={self.padding_mode})")


def _crop_position(h: int, w: int, th: int, tw: int) -> tuple[int, int, int, int]:
    if h < th or w < tw:
        raise ValueError(f"Required crop size {(th, tw)} is larger than input image size {(h, w)}")
    if w == tw and h == th:
        return 0, 0, h, w
    return _randint(0, h - th + 1), _randint(0, w - tw + 1), th, tw


class RandomCrop(_Transform):
    """Crop a random (h, w) window, after optional padding (``pad_if_needed`` pads a too-small
    image up to the crop size)."""

    def __init__(self, size: int | Sequence[int], padding: Any = None, pad_if_needed: bool = False,
                 fill: Any = 0, padding_mode: str = "constant") -> None:
        super().__init__()
        self.size = tuple(_setup_size(size, _SIZE_MSG))
        self.padding = padding
        self._pad_arg = padding
        self.pad_if_needed = pad_if_needed
        self.fill = fill
        self.padding_mode = padding_mode

    @staticmethod
    def get_params(img: Any, output_size: tuple[int, int]) -> tuple[int, int, int, int]:
        """(top, left, h, w) of a random crop of ``output_size``."""
        _, h, w = F.get_dimensions(img)
        return _crop_position(h, w, *output_size)

    def make_params(self, img: Any) -> dict[str, Any]:
        _, height, width = F.get_dimensions(img)
        pads = []
        if self._pad_arg is not None:
            pads.append(self._pad_arg)
            left, top, right, bottom = F._pad_amounts(self._pad_arg)
            height, width = height + top + bottom, width + left + right
        if self.pad_if_needed and width < self.size[1]:
            pads.append([self.size[1] - width, 0])
            width = self.size[1] + (self.size[1] - width)
        if self.pad_if_needed and height < self.size[0]:
            pads.append([0, self.size[0] - height])
            height = self.size[0] + (self.size[0] - height)
        top, left, h, w = _crop_position(height, width, *self.size)
        return {"pads": pads, "top": top, "left": left, "height": h, "width": w}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        for padding in params["pads"]:
            img = F.pad(img, padding, self.fill, self.padding_mode)
        return F.crop(img, params["top"], params["left"], params["height"], params["width"])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(size={self.size}, padding={self.padding})"


class RandomResizedCrop(_Transform):
    """Crop a random window (area share from ``scale``, aspect ratio from ``ratio``, log-uniform)
    and resize it to ``size``."""

    def __init__(self, size: int | Sequence[int], scale: Sequence[float] = (0.08, 1.0),
                 ratio: Sequence[float] = (3.0 / 4.0, 4.0 / 3.0),
                 interpolation: Any = InterpolationMode.BILINEAR,
                 antialias: bool | None = True) -> None:
        super().__init__()
        self.size = _setup_size(size, _SIZE_MSG)
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        self.interpolation = _interp(interpolation)
        self.antialias = antialias
        self.scale = scale
        self.ratio = ratio

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float]
                   ) -> tuple[int, int, int, int]:
        """(top, left, h, w): ten tries at a random window inside the image, else the largest
        centred window whose aspect ratio is within ``ratio``."""
        _, height, width = F.get_dimensions(img)
        area = height * width
        log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
        for _ in range(10):
            target_area = area * _uniform(scale[0], scale[1])
            aspect = math.exp(_uniform(log_lo, log_hi))
            w = int(round(math.sqrt(target_area * aspect)))
            h = int(round(math.sqrt(target_area / aspect)))
            if 0 < w <= width and 0 < h <= height:
                return _randint(0, height - h + 1), _randint(0, width - w + 1), h, w
        in_ratio = float(width) / float(height)
        if in_ratio < min(ratio):
            w, h = width, int(round(width / min(ratio)))
        elif in_ratio > max(ratio):
            h, w = height, int(round(height * max(ratio)))
        else:
            w, h = width, height
        return (height - h) // 2, (width - w) // 2, h, w

    def make_params(self, img: Any) -> dict[str, Any]:
        top, left, h, w = self.get_params(img, self.scale, self.ratio)
        return {"top": top, "left": left, "height": h, "width": w}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.resized_crop(img, params["top"], params["left"], params["height"],
                              params["width"], self.size, self.interpolation,
                              antialias=self.antialias)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(size={self.size}, "
                f"scale={tuple(round(s, 4) for s in self.scale)}, "
                f"ratio={tuple(round(r, 4) for r in self.ratio)}, "
                f"interpolation={self.interpolation.value}, antialias={self.antialias})")


class _RandomFlip(_Transform):
    _flip: Callable[[Any], Any]

    def __init__(self, p: float = 0.5) -> None:
        super().__init__()
        self.p = p

    def make_params(self, img: Any) -> dict[str, Any]:
        return {"apply": _rand() < self.p}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return type(self)._flip(img) if params["apply"] else img

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class RandomHorizontalFlip(_RandomFlip):
    """Mirror left-right with probability ``p``."""

    _flip = staticmethod(F.hflip)


class RandomVerticalFlip(_RandomFlip):
    """Mirror top-bottom with probability ``p``."""

    _flip = staticmethod(F.vflip)


class RandomRotation(_Transform):
    """Rotate by an angle drawn uniformly from ``degrees`` ((min, max), or d for (-d, d))."""

    def __init__(self, degrees: Any, interpolation: Any = InterpolationMode.NEAREST,
                 expand: bool = False, center: Sequence[int] | None = None, fill: Any = 0) -> None:
        super().__init__()
        self.degrees = _setup_angle(degrees, "degrees", (2,))
        if center is not None:
            _check_sequence(center, "center", (2,))
        self.center = center
        self.interpolation = _interp(interpolation)
        self.expand = expand
        self.fill = _check_fill(fill)

    @staticmethod
    def get_params(degrees: Sequence[float]) -> float:
        return _uniform(float(degrees[0]), float(degrees[1]))

    def make_params(self, img: Any) -> dict[str, Any]:
        return {"angle": self.get_params(self.degrees)}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.rotate(img, params["angle"], self.interpolation, self.expand, self.center,
                        _tensor_fill(img, self.fill))

    def __repr__(self) -> str:
        s = (f"{type(self).__name__}(degrees={self.degrees}, "
             f"interpolation={self.interpolation.value}, expand={self.expand}")
        if self.center is not None:
            s += f", center={self.center}"
        if self.fill is not None:
            s += f", fill={self.fill}"
        return s + ")"


class RandomAffine(_Transform):
    """Random rotation (``degrees``), translation (fractions of width/height), scale and shear."""

    def __init__(self, degrees: Any, translate: Sequence[float] | None = None,
                 scale: Sequence[float] | None = None, shear: Any = None,
                 interpolation: Any = InterpolationMode.NEAREST, fill: Any = 0,
                 center: Sequence[int] | None = None) -> None:
        super().__init__()
        self.degrees = _setup_angle(degrees, "degrees", (2,))
        if translate is not None:
            _check_sequence(translate, "translate", (2,))
            if not all(0.0 <= t <= 1.0 for t in translate):
                raise ValueError("translation values should be between 0 and 1")
        self.translate = translate
        if scale is not None:
            _check_sequence(scale, "scale", (2,))
            if any(s <= 0 for s in scale):
                raise ValueError("scale values should be positive")
        self.scale = scale
        self.shear = _setup_angle(shear, "shear", (2, 4)) if shear is not None else None
        self.interpolation = _interp(interpolation)
        self.fill = _check_fill(fill)
        if center is not None:
            _check_sequence(center, "center", (2,))
        self.center = center

    @staticmethod
    def get_params(degrees: Sequence[float], translate: Sequence[float] | None,
                   scale_ranges: Sequence[float] | None, shears: Sequence[float] | None,
                   img_size: Sequence[int]) -> tuple[float, tuple[int, int], float,
                                                     tuple[float, float]]:
        angle = _uniform(float(degrees[0]), float(degrees[1]))
        if translate is not None:
            max_dx, max_dy = float(translate[0] * img_size[0]), float(translate[1] * img_size[1])
            tx = int(round(_uniform(-max_dx, max_dx)))
            ty = int(round(_uniform(-max_dy, max_dy)))
            translations = (tx, ty)
        else:
            translations = (0, 0)
        scale = _uniform(scale_ranges[0], scale_ranges[1]) if scale_ranges is not None else 1.0
        shear_x = shear_y = 0.0
        if shears is not None:
            shear_x = _uniform(shears[0], shears[1])
            if len(shears) == 4:
                shear_y = _uniform(shears[2], shears[3])
        return angle, translations, scale, (shear_x, shear_y)

    def make_params(self, img: Any) -> dict[str, Any]:
        _, height, width = F.get_dimensions(img)
        angle, translate, scale, shear = self.get_params(self.degrees, self.translate, self.scale,
                                                         self.shear, [width, height])
        return {"angle": angle, "translate": list(translate), "scale": scale, "shear": list(shear)}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.affine(img, params["angle"], params["translate"], params["scale"],
                        params["shear"], interpolation=self.interpolation,
                        fill=_tensor_fill(img, self.fill), center=self.center)

    def __repr__(self) -> str:
        s = f"{type(self).__name__}(degrees={self.degrees}"
        s += f", translate={self.translate}" if self.translate is not None else ""
        s += f", scale={self.scale}" if self.scale is not None else ""
        s += f", shear={self.shear}" if self.shear is not None else ""
        if self.interpolation != InterpolationMode.NEAREST:
            s += f", interpolation={self.interpolation.value}"
        s += f", fill={self.fill}" if self.fill != 0 else ""
        s += f", center={self.center}" if self.center is not None else ""
        return s + ")"


# -- colour --------------------------------------------------------------------------------

def _jitter_range(value: Any, name: str, center: float = 1.0,
                  bound: tuple[float, float] = (0, float("inf")),
                  clip_first_on_zero: bool = True) -> tuple[float, float] | None:
    if isinstance(value, numbers.Number):
        if value < 0:
            raise ValueError(f"If {name} is a single number, it must be non negative.")
        lo_hi = [center - float(value), center + float(value)]
        if clip_first_on_zero:
            lo_hi[0] = max(lo_hi[0], 0.0)
    elif isinstance(value, (tuple, list)) and len(value) == 2:
        lo_hi = [float(value[0]), float(value[1])]
    else:
        raise TypeError(f"{name} should be a single number or a list/tuple with length 2.")
    if not bound[0] <= lo_hi[0] <= lo_hi[1] <= bound[1]:
        raise ValueError(f"{name} values should be between {bound}, but got {lo_hi}.")
    if lo_hi[0] == lo_hi[1] == center:
        return None
    return lo_hi[0], lo_hi[1]


class ColorJitter(_Transform):
    """Random brightness, contrast, saturation and hue changes, applied in a random order."""

    def __init__(self, brightness: Any = 0, contrast: Any = 0, saturation: Any = 0,
                 hue: Any = 0) -> None:
        super().__init__()
        self.brightness = _jitter_range(brightness, "brightness")
        self.contrast = _jitter_range(contrast, "contrast")
        self.saturation = _jitter_range(saturation, "saturation")
        self.hue = _jitter_range(hue, "hue", center=0, bound=(-0.5, 0.5),
                                 clip_first_on_zero=False)

    @staticmethod
    def get_params(brightness: Sequence[float] | None, contrast: Sequence[float] | None,
                   saturation: Sequence[float] | None, hue: Sequence[float] | None
                   ) -> tuple[list[int], float | None, float | None, float | None, float | None]:
        """(order of the four adjustments, brightness, contrast, saturation, hue factors)."""
        order = _randperm(4)
        factors = [None if r is None else _uniform(r[0], r[1])
                   for r in (brightness, contrast, saturation, hue)]
        return order, factors[0], factors[1], factors[2], factors[3]

    def make_params(self, img: Any) -> dict[str, Any]:
        order, b, c, s, h = self.get_params(self.brightness, self.contrast, self.saturation,
                                            self.hue)
        return {"order": order, "factors": (b, c, s, h)}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        adjust = (F.adjust_brightness, F.adjust_contrast, F.adjust_saturation, F.adjust_hue)
        for i in params["order"]:
            factor = params["factors"][i]
            if factor is not None:
                img = adjust[i](img, factor)
        return img

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(brightness={self.brightness}, contrast={self.contrast}, "
                f"saturation={self.saturation}, hue={self.hue})")


class Grayscale(_Transform):
    """Convert to grey with 1 or 3 output channels."""

    def __init__(self, num_output_channels: int = 1) -> None:
        super().__init__()
        self.num_output_channels = num_output_channels

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.rgb_to_grayscale(img, num_output_channels=self.num_output_channels)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(num_output_channels={self.num_output_channels})"


class RandomGrayscale(_Transform):
    """Convert to grey (keeping the channel count) with probability ``p``."""

    def __init__(self, p: float = 0.1) -> None:
        super().__init__()
        self.p = p

    def make_params(self, img: Any) -> dict[str, Any]:
        return {"apply": _rand() < self.p}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        if not params["apply"]:
            return img
        return F.rgb_to_grayscale(img, num_output_channels=F.get_image_num_channels(img))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(p={self.p})"


class GaussianBlur(_Transform):
    """Blur with a Gaussian kernel of ``kernel_size`` whose sigma is drawn uniformly from ``sigma``
    ((min, max), or one value)."""

    def __init__(self, kernel_size: int | Sequence[int], sigma: float | Sequence[float] = (0.1, 2.0)) -> None:
        super().__init__()
        if isinstance(kernel_size, numbers.Number):
            kernel_size = (kernel_size, kernel_size)
        elif not (isinstance(kernel_size, Sequence) and len(kernel_size) == 2):
            raise ValueError("Kernel size should be a tuple/list of two integers")
        for k in kernel_size:
            if k <= 0 or k % 2 == 0:
                raise ValueError("Kernel size value should be an odd and positive number.")
        if isinstance(sigma, numbers.Number):
            if sigma <= 0:
                raise ValueError("If sigma is a single number, it must be positive.")
            sigma = (sigma, sigma)
        elif isinstance(sigma, Sequence) and len(sigma) == 2:
            if not 0.0 < sigma[0] <= sigma[1]:
                raise ValueError("sigma values should be positive and of the form (min, max).")
        else:
            raise ValueError("sigma should be a single number or a list/tuple with length 2.")
        self.kernel_size = tuple(kernel_size)
        self.sigma = tuple(sigma)

    @staticmethod
    def get_params(sigma_min: float, sigma_max: float) -> float:
        """The sigma of one blur, uniform in [sigma_min, sigma_max)."""
        import ndgrad
        return float(ndgrad.empty(1).uniform_(sigma_min, sigma_max).item())

    def make_params(self, img: Any) -> dict[str, Any]:
        return {"sigma": self.get_params(self.sigma[0], self.sigma[1])}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        return F.gaussian_blur(img, list(self.kernel_size), [params["sigma"], params["sigma"]])

    def __repr__(self) -> str:
        return f"{type(self).__name__}(kernel_size={self.kernel_size}, sigma={self.sigma})"


class RandomErasing(_Transform):
    """With probability ``p``, overwrite a random window of a tensor image (area share from
    ``scale``, aspect ratio from ``ratio``) with ``value`` (a number, per-channel numbers, or
    'random' for standard-normal noise)."""

    def __init__(self, p: float = 0.5, scale: Sequence[float] = (0.02, 0.33),
                 ratio: Sequence[float] = (0.3, 3.3), value: Any = 0,
                 inplace: bool = False) -> None:
        super().__init__()
        if not isinstance(value, (numbers.Number, str, tuple, list)):
            raise TypeError("Argument value should be either a number or str or a sequence")
        if isinstance(value, str) and value != "random":
            raise ValueError("If value is str, it should be 'random'")
        if not isinstance(scale, Sequence):
            raise TypeError("Scale should be a sequence")
        if not isinstance(ratio, Sequence):
            raise TypeError("Ratio should be a sequence")
        if scale[0] > scale[1] or ratio[0] > ratio[1]:
            warnings.warn("Scale and ratio should be of kind (min, max)", stacklevel=2)
        if scale[0] < 0 or scale[1] > 1:
            raise ValueError("Scale should be between 0 and 1")
        if p < 0 or p > 1:
            raise ValueError("Random erasing probability should be between 0 and 1")
        self.p = p
        self.scale = scale
        self.ratio = ratio
        self.value = value
        self.inplace = inplace

    @staticmethod
    def get_params(img: Any, scale: Sequence[float], ratio: Sequence[float],
                   value: list[float] | None = None) -> tuple[int, int, int, int, Any]:
        """(top, left, h, w, values) of a random window, or the whole image untouched."""
        import ndgrad
        img_c, img_h, img_w = F.get_dimensions(img)
        area = img_h * img_w
        log_lo, log_hi = math.log(ratio[0]), math.log(ratio[1])
        for _ in range(10):
            erase_area = area * _uniform(scale[0], scale[1])
            aspect = math.exp(_uniform(log_lo, log_hi))
            h = int(round(math.sqrt(erase_area * aspect)))
            w = int(round(math.sqrt(erase_area / aspect)))
            if not (h < img_h and w < img_w):
                continue
            if value is None:
                v = ndgrad.empty([img_c, h, w], dtype=ndgrad.float32).normal_()
            else:
                v = ndgrad.tensor(value)[:, None, None]
            return _randint(0, img_h - h + 1), _randint(0, img_w - w + 1), h, w, v
        return 0, 0, img_h, img_w, img

    def make_params(self, img: Any) -> dict[str, Any]:
        return self.window(img) if _rand() < self.p else {"apply": False}

    def window(self, img: Any) -> dict[str, Any]:
        """The parameters of one erasure of ``img``."""
        if isinstance(self.value, (int, float)):
            value: list[float] | None = [float(self.value)]
        elif isinstance(self.value, str) or self.value is None:
            value = None
        else:
            value = [float(v) for v in self.value]
        channels = F.get_dimensions(img)[0]
        if value is not None and len(value) not in (1, channels):
            raise ValueError(f"If value is a sequence, it should have either a single value or "
                             f"{channels} (number of input channels)")
        top, left, h, w, v = self.get_params(img, self.scale, self.ratio, value)
        return {"apply": True, "top": top, "left": left, "height": h, "width": w, "value": v}

    def apply(self, img: Any, params: dict[str, Any]) -> Any:
        if not params["apply"]:
            return img
        return F.erase(img, params["top"], params["left"], params["height"], params["width"],
                       params["value"], self.inplace)

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(p={self.p}, scale={self.scale}, ratio={self.ratio}, "
                f"value={self.value}, inplace={self.inplace})")
