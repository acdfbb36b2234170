"""ndgrad.vision.transforms (v1 and v2) against torchvision 0.28: tensor kernels, the PIL path,
reprs, random parameters and v2's sample handling.  References come from `tv_ref` (live where
torchvision imports, recorded otherwise)."""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.vision import transforms as T
from ndgrad.vision.transforms import functional as F
from ndgrad.vision.transforms import v2

Image = pytest.importorskip("PIL.Image")

RNG = np.random.default_rng(1234)
IMG_F = RNG.random((3, 11, 14)).astype(np.float32)
IMG_U8 = RNG.integers(0, 256, (3, 11, 14), dtype=np.uint8)
PIL_RGB = RNG.integers(0, 256, (9, 13, 3), dtype=np.uint8)
PIL_L = RNG.integers(0, 256, (9, 13), dtype=np.uint8)


def nd(x: np.ndarray) -> Any:
    return ndgrad.from_numpy(x.copy())


def check(out: Any, want: np.ndarray, tol: float = 1e-5) -> None:
    got = out.numpy() if hasattr(out, "numpy") else np.asarray(out)
    assert got.dtype == want.dtype and got.shape == want.shape
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got, want, rtol=tol, atol=tol)
    else:
        np.testing.assert_array_equal(got, want)


def check_rounding(out: Any, want: np.ndarray) -> None:
    """Integer results of float work: torch's kernels fuse multiply-adds, so a value that lands
    within float noise of .5 may round the other way; allow a rare off-by-one."""
    got = out.numpy()
    assert got.dtype == want.dtype and got.shape == want.shape
    diff = np.abs(got.astype(np.int64) - want.astype(np.int64))
    assert diff.max() <= 1 and (diff > 0).mean() <= 0.01


# -- tensor kernels -------------------------------------------------------------------------

RESIZES = [(5, 7), (23, 31), (11, 30), 6]


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "bilinear", "bicubic"])
@pytest.mark.parametrize("antialias", [True, False])
def test_resize_tensor(tv_ref: Any, mode: str, antialias: bool) -> None:
    for size in RESIZES:
        for img in (IMG_F, IMG_U8):
            want = tv_ref(f"{img.dtype}-{size}", lambda torch, tv, img=img, size=size: (
                tv.transforms.functional.resize(torch.from_numpy(img), size,
                                                tv.transforms.InterpolationMode(mode),
                                                antialias=antialias)))
            out = F.resize(nd(img), size, T.InterpolationMode(mode), antialias=antialias)
            if img.dtype == np.uint8 and mode in ("bilinear", "bicubic"):
                check_rounding(out, want)
            else:
                check(out, want)


def test_resize_rules() -> None:
    img = nd(IMG_F)
    assert tuple(T.Resize(22)(img).shape) == (3, 22, 28)  # shorter edge, ratio kept (truncated)
    assert tuple(T.Resize(8, max_size=9)(img).shape) == (3, 7, 9)
    assert T.Resize((11, 14))(img) is img
    with pytest.raises(ValueError, match="max_size"):
        T.Resize((5, 6), max_size=8)(img)
    with pytest.raises(TypeError, match="Size should be int or sequence"):
        T.Resize(2.5)
    with pytest.raises(TypeError, match="interpolation"):
        F.resize(img, 4, interpolation=1.5)
    pil = Image.fromarray(PIL_RGB)
    assert F.resize(pil, [4, 6], interpolation=Image.BICUBIC).size == (6, 4)  # Pillow constants


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_rotate_affine_tensor(tv_ref: Any, dtype: Any) -> None:
    img = IMG_F if dtype == np.float32 else IMG_U8
    cases = [(30.0, "nearest", False, None), (-47.5, "bilinear", True, [0.5, 0.25, 1.0]),
             (90.0, "nearest", True, 3.0), (12.0, "bilinear", False, None)]
    for i, (angle, interp, expand, fill) in enumerate(cases):
        want = tv_ref(f"rotate{i}", lambda torch, tv, c=(angle, interp, expand, fill): tv.transforms.functional.rotate(
            torch.from_numpy(img), c[0], tv.transforms.InterpolationMode(c[1]), c[2], fill=c[3]))
        out = F.rotate(nd(img), angle, T.InterpolationMode(interp), expand, fill=fill)
        if dtype == np.uint8 and interp == "bilinear":
            check_rounding(out, want)
        else:
            check(out, want, 1e-4)
    want = tv_ref("affine", lambda torch, tv: tv.transforms.functional.affine(
        torch.from_numpy(img), 20.0, [3, -2], 1.2, [10.0, 5.0],
        tv.transforms.InterpolationMode.BILINEAR, center=[4, 6]))
    out = F.affine(nd(img), 20.0, [3, -2], 1.2, [10.0, 5.0], T.InterpolationMode.BILINEAR,
                   center=[4, 6])
    check_rounding(out, want) if dtype == np.uint8 else check(out, want, 1e-4)


@pytest.mark.parametrize("dtype", [np.float32, np.uint8])
def test_color_tensor(tv_ref: Any, dtype: Any) -> None:
    img = IMG_F if dtype == np.float32 else IMG_U8
    for name, factor in [("adjust_brightness", 1.7), ("adjust_contrast", 0.4),
                         ("adjust_saturation", 1.7), ("adjust_hue", -0.3), ("adjust_hue", 0.5),
                         ("adjust_gamma", 0.7)]:
        want = tv_ref(f"{name}{factor}", lambda torch, tv, name=name, factor=factor: getattr(
            tv.transforms.functional, name)(torch.from_numpy(img), factor))
        check(getattr(F, name)(nd(img), factor), want, 1e-5)
    for channels in (1, 3):
        want = tv_ref(f"gray{channels}", lambda torch, tv, channels=channels: tv.transforms.functional
                      .rgb_to_grayscale(torch.from_numpy(img), channels))
        check(F.rgb_to_grayscale(nd(img), channels), want, 1e-6)
    gray = img[:1]
    want = tv_ref("contrast-gray", lambda torch, tv: tv.transforms.functional.adjust_contrast(
        torch.from_numpy(gray), 1.5))
    check(F.adjust_contrast(nd(gray), 1.5), want, 1e-5)


@pytest.mark.parametrize("mode", ["constant", "edge", "reflect", "symmetric"])
def test_pad_crop_tensor(tv_ref: Any, mode: str) -> None:
    for padding in ([2, 3, 4, 1], [-1, 2], 3):
        want = tv_ref(f"pad{padding}", lambda torch, tv, padding=padding: tv.transforms.functional.pad(
            torch.from_numpy(IMG_U8), padding, 5, mode))
        check(F.pad(nd(IMG_U8), padding, 5, mode), want)
    for key, fn in [("center-big", lambda f, x: f.center_crop(x, (14, 17))),
                    ("center", lambda f, x: f.center_crop(x, 5)),
                    ("crop-outside", lambda f, x: f.crop(x, -3, 8, 6, 9)),
                    ("resized-crop", lambda f, x: f.resized_crop(x, 2, 3, 6, 7, [9, 9])),
                    ("flips", lambda f, x: f.vflip(f.hflip(x)))]:
        want = tv_ref(key, lambda torch, tv, fn=fn: fn(tv.transforms.functional,
                                                torch.from_numpy(IMG_F)))
        check(fn(F, nd(IMG_F)), want)


def test_dtype_conversion(tv_ref: Any) -> None:
    pairs = [("uint8", "float32"), ("float32", "uint8"), ("uint8", "int16"),
             ("int16", "uint8"), ("float32", "float64"), ("uint8", "uint8")]
    src = {"uint8": IMG_U8, "float32": IMG_F, "int16": IMG_U8.astype(np.int16) * 100}
    for a, b in pairs:
        want = tv_ref(f"{a}->{b}", lambda torch, tv, a=a, b=b: tv.transforms.functional
                      .convert_image_dtype(torch.from_numpy(src[a]), getattr(torch, b)))
        check(F.convert_image_dtype(nd(src[a]), getattr(ndgrad, b)), want, 1e-7)
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        F.convert_image_dtype(nd(IMG_F), ndgrad.int32)


# -- the PIL path and conversions -----------------------------------------------------------

def _pil_out(v: Any) -> Any:
    return (v.mode, np.asarray(v)) if hasattr(v, "getbands") else v


PIL_OPS = {
    "to_tensor": lambda f, im: f.to_tensor(im),
    "pil_to_tensor": lambda f, im: f.pil_to_tensor(im),
    "pad-constant": lambda f, im: f.pad(im, [2, 3, 4, 1], 5),
    "pad-reflect": lambda f, im: f.pad(im, [-2, 3], padding_mode="reflect"),
    "pad-symmetric": lambda f, im: f.pad(im, 2, padding_mode="symmetric"),
    "hue": lambda f, im: f.adjust_hue(im, -0.3),
    "saturation": lambda f, im: f.adjust_saturation(im, 1.6),
    "rotate": lambda f, im: f.rotate(im, 33.0, expand=True, fill=7),
    "affine": lambda f, im: f.affine(im, 20.0, [3, -2], 1.2, [10.0, 5.0]),
    "gray3": lambda f, im: f.to_grayscale(im, 3),
    "resize": lambda f, im: f.resize(im, 5),
    "center_crop": lambda f, im: f.center_crop(im, 12),
    "gamma": lambda f, im: f.adjust_gamma(im, 0.5),
}


@pytest.mark.parametrize("name", sorted(PIL_OPS))
def test_pil_path(tv_ref: Any, name: str) -> None:
    fn = PIL_OPS[name]
    for mode, arr in (("RGB", PIL_RGB), ("L", PIL_L)):
        want = tv_ref(mode, lambda torch, tv, arr=arr: _pil_out(fn(tv.transforms.functional,
                                                          Image.fromarray(arr))))
        got = _pil_out(fn(F, Image.fromarray(arr)))
        if isinstance(want, tuple):
            assert got[0] == want[0]
            check(got[1], want[1])
        else:
            check(got, want)


def test_to_tensor_and_to_pil_image(tv_ref: Any) -> None:
    rng = np.random.default_rng(5)
    arrays = {"f64": rng.random((4, 5, 2)), "i32": rng.integers(0, 9, (4, 5)).astype(np.int32)}
    for key, a in arrays.items():
        want = tv_ref(key, lambda torch, tv, a=a: tv.transforms.functional.to_tensor(a))
        check(F.to_tensor(a), want)  # non-uint8 arrays keep their dtype, as torchvision
    chw = rng.random((3, 4, 5)).astype(np.float32)
    for key, x in (("float", chw), ("u8", IMG_U8), ("gray", chw[:1])):
        want = tv_ref(key, lambda torch, tv, x=x: _pil_out(
            tv.transforms.functional.to_pil_image(torch.from_numpy(x))))
        got = _pil_out(F.to_pil_image(nd(x)))
        assert got[0] == want[0]
        check(got[1], want[1])
    assert F.to_pil_image(nd(chw), mode="HSV").mode == "HSV"
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray"):
        F.to_tensor([1, 2])
    with pytest.raises(ValueError, match="should not have > 4 channels"):
        F.to_pil_image(nd(np.zeros((5, 2, 2), np.float32)))


def test_normalize_errors() -> None:
    x = nd(IMG_F)
    with pytest.raises(TypeError, match="float tensor"):
        F.normalize(nd(IMG_U8), [0.5], [0.5])
    with pytest.raises(ValueError, match="division by zero"):
        F.normalize(x, [0.5] * 3, [1, 0, 1])
    with pytest.raises(TypeError, match="Tensor Image"):
        F.normalize(Image.fromarray(PIL_RGB), [0.5], [0.5])
    y = F.normalize(x, [0.5, 0.4, 0.3], [0.2, 0.25, 0.5], inplace=True)
    assert y is x


# -- transform classes: reprs, random parameters, pipelines ----------------------------------

def _v1_objects(M: Any, f32: Any) -> list[Any]:
    return [
        M.Compose([M.ToTensor(), M.Normalize((0.5,), (0.2,))]), M.Resize(32),
        M.Resize((32, 30), interpolation=M.InterpolationMode.BICUBIC, antialias=False),
        M.CenterCrop(24), M.CenterCrop([24, 20]), M.RandomCrop(32, padding=4),
        M.RandomCrop([32, 30], padding=(1, 2), pad_if_needed=True, fill=3, padding_mode="edge"),
        M.RandomResizedCrop(224), M.RandomResizedCrop((64, 32), scale=(0.5, 1.0), ratio=(0.5, 2.0)),
        M.RandomHorizontalFlip(), M.RandomVerticalFlip(0.3), M.RandomRotation(10),
        M.RandomRotation((-5, 20), expand=True, center=(3, 4), fill=2),
        M.ColorJitter(0.4, 0.4, 0.4, 0.1), M.ColorJitter(brightness=(0.5, 1.5)), M.Grayscale(3),
        M.RandomGrayscale(), M.Pad(4), M.Pad((1, 2), fill=3, padding_mode="reflect"),
        M.Lambda(lambda x: x), M.RandomApply([M.RandomHorizontalFlip(), M.Grayscale()], p=0.3),
        M.RandomChoice([M.Grayscale(), M.Pad(1)]), M.RandomOrder([M.Grayscale(), M.Pad(1)]),
        M.PILToTensor(), M.ToPILImage(),
        M.RandomAffine(10, translate=(0.1, 0.2), scale=(0.9, 1.1), shear=5), M.RandomErasing(),
        M.ConvertImageDtype(f32),
    ]


def test_reprs(tv_ref: Any) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # v2.ToTensor is deprecated
        want1 = tv_ref("v1", lambda torch, tv: [repr(t) for t in _v1_objects(tv.transforms,
                                                                            torch.float32)])
        want2 = tv_ref("v2", lambda torch, tv: [repr(t) for t in _v1_objects(
            tv.transforms.v2, torch.float32) + [tv.transforms.v2.ToImage(),
                                                tv.transforms.v2.ToDtype(torch.float32, True),
                                                tv.transforms.v2.Lambda(abs)]])
        got1 = [repr(t) for t in _v1_objects(T, ndgrad.float32)]
        got2 = [repr(t) for t in _v1_objects(v2, ndgrad.float32)
                + [v2.ToImage(), v2.ToDtype(ndgrad.float32, True), v2.Lambda(abs)]]
    assert got1 == want1
    assert got2 == want2


def test_random_transforms_follow_the_seed() -> None:
    img = nd(IMG_F)
    pipeline = T.Compose([T.RandomResizedCrop(8), T.RandomHorizontalFlip(),
                          T.ColorJitter(0.4, 0.4, 0.4, 0.1), T.RandomRotation(15),
                          T.RandomErasing(p=1.0, value="random")])
    ndgrad.manual_seed(7)
    first = [pipeline(img).numpy() for _ in range(3)]
    ndgrad.manual_seed(7)
    again = [pipeline(img).numpy() for _ in range(3)]
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])


def test_random_parameters() -> None:
    ndgrad.manual_seed(0)
    img = nd(np.zeros((1, 40, 60), np.float32))
    for _ in range(50):
        top, left, h, w = T.RandomResizedCrop.get_params(img, (0.08, 1.0), (3 / 4, 4 / 3))
        assert 0 < h <= 40 and 0 < w <= 60 and top + h <= 40 and left + w <= 60
        assert 0.08 * 2400 * 0.8 <= h * w <= 2400 and 0.7 <= w / h <= 1.45
        top, left, h, w = T.RandomCrop.get_params(img, (30, 20))
        assert (h, w) == (30, 20) and 0 <= top <= 10 and 0 <= left <= 40
    assert T.RandomCrop.get_params(img, (40, 60)) == (0, 0, 40, 60)
    with pytest.raises(ValueError, match="larger than input image size"):
        T.RandomCrop.get_params(img, (41, 10))
    # a window no aspect ratio can fit falls back to the central crop
    assert T.RandomResizedCrop.get_params(nd(np.zeros((1, 2, 100))), (0.9, 1.0),
                                          (1.0, 1.0)) == (0, 49, 2, 2)
    flips = sum(T.RandomHorizontalFlip(0.25)(img[:, :1, :2] + nd(np.array([[[0, 1]]], np.float32)))
                .numpy()[0, 0, 0] == 1 for _ in range(400))
    assert 60 <= flips <= 140
    order, b, c, s, h = T.ColorJitter.get_params((0.5, 1.5), None, (1.0, 1.2), (-0.1, 0.1))
    assert sorted(order) == [0, 1, 2, 3] and c is None
    assert 0.5 <= b <= 1.5 and 1.0 <= s <= 1.2 and -0.1 <= h <= 0.1


def test_random_crop_padding_and_classes_apply_functional() -> None:
    ndgrad.manual_seed(3)
    x = nd(IMG_U8)
    out = T.RandomCrop(14, pad_if_needed=True, padding_mode="edge")(x)
    assert tuple(out.shape) == (3, 14, 14)
    out = T.RandomCrop((11, 14), padding=2)(x)
    assert tuple(out.shape) == (3, 11, 14)
    t = T.RandomRotation((25, 25), interpolation=T.InterpolationMode.BILINEAR, fill=1)
    check(t(nd(IMG_F)), F.rotate(nd(IMG_F), 25.0, T.InterpolationMode.BILINEAR,
                                 fill=[1.0, 1.0, 1.0]).numpy())
    t = T.ColorJitter(brightness=(1.3, 1.3))
    check(t(x), F.adjust_brightness(x, 1.3).numpy())
    pil = Image.fromarray(PIL_RGB)
    assert T.RandomResizedCrop(5)(pil).size == (5, 5)
    assert T.Grayscale()(pil).mode == "L"
    assert T.RandomGrayscale(p=1.0)(pil).mode == "RGB"
    assert T.RandomApply([T.Grayscale()], p=0.0)(pil) is pil
    assert T.RandomChoice([T.Grayscale()], p=[1.0])(pil).mode == "L"
    assert T.RandomOrder([T.Pad(1), T.Pad(2)])(pil).size == (19, 15)
    erased = T.RandomErasing(p=1.0, value=(1, 2, 3))(nd(IMG_F))
    assert set(np.unique(erased.numpy() - IMG_F)) != {0.0}
    with pytest.raises(ValueError, match="should have either a single value or 3"):
        T.RandomErasing(p=1.0, value=(1, 2))(nd(IMG_F))


def test_pipeline_on_pil_as_d2l_loads_fashion_mnist(tv_ref: Any) -> None:
    arr = PIL_L

    def build(M: Any) -> Any:
        return M.Compose([M.Resize(20), M.ToTensor(), M.Normalize([0.5], [0.25])])
    want = tv_ref("pipeline", lambda torch, tv: build(tv.transforms)(Image.fromarray(arr)))
    check(build(T)(Image.fromarray(arr)), want)


# -- v2 -----------------------------------------------------------------------------------

def test_v2_samples_and_conversions(tv_ref: Any) -> None:
    pil = Image.fromarray(PIL_RGB)
    want = tv_ref("image", lambda torch, tv: tv.transforms.v2.Compose([
        tv.transforms.v2.ToImage(), tv.transforms.v2.ToDtype(torch.float32, scale=True),
        tv.transforms.v2.Resize(6), tv.transforms.v2.Normalize([0.5] * 3, [0.2] * 3)])(pil))
    pipe = v2.Compose([v2.ToImage(), v2.ToDtype(ndgrad.float32, scale=True), v2.Resize(6),
                       v2.Normalize([0.5] * 3, [0.2] * 3)])
    out, label = pipe(pil, 3)  # (image, label): the label passes through
    assert label == 3
    check(out, want)
    assert isinstance(v2.ToImage()(PIL_RGB), ndgrad.Tensor)
    check(v2.ToImage()(PIL_RGB), PIL_RGB.transpose(2, 0, 1))
    check(v2.ToDtype(ndgrad.int16)(nd(IMG_U8)), IMG_U8.astype(np.int16))
    sample = {"image": nd(IMG_F), "other": nd(IMG_F), "meta": [1, "a"]}
    out = v2.RandomHorizontalFlip(p=1.0)(sample)
    check(out["image"], IMG_F[..., ::-1].copy())
    assert out["other"] is sample["other"]  # only the first plain tensor is an image
    assert out["meta"] == [1, "a"]
    ndgrad.manual_seed(5)
    a, b = v2.RandomCrop(5)(pil, pil.copy())  # one draw of parameters per sample
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert a.size == (5, 5)
    with pytest.raises(TypeError, match="does not support PIL"):
        v2.Normalize([0.5], [0.5])(pil)
    with pytest.warns(UserWarning, match="deprecated"):
        v2.ToTensor()
    assert v2.Lambda(lambda v: v * 2, int)((3, "x")) == (6, "x")
    ndgrad.manual_seed(1)
    assert v2.RandomChoice([v2.Grayscale()])(pil).mode == "L"
    assert v2.RandomApply([v2.Grayscale()], p=0.0)(pil) is pil
    assert v2.RandomOrder([v2.Pad(1), v2.Pad(2)])(pil).size == (19, 15)
    assert v2.RandomResizedCrop(4)(nd(IMG_U8)).shape == (3, 4, 4)
    assert v2.functional.get_size(pil) == [9, 13]


def test_datasets_transforms_is_the_same_module() -> None:
    from ndgrad.datasets import transforms as legacy
    assert legacy.Resize is T.Resize and legacy.ToTensor is T.ToTensor
    # ndgrad extension: channel-first arrays in, arrays out
    out = legacy.Pad(1)(IMG_U8)
    assert isinstance(out, np.ndarray) and out.shape == (3, 13, 16)
