"""Regressions met while running public PyTorch programs under `ndgrad run` (tools/run_clients.py):
each test repeats, in a few lines of our own, the call a program made that failed, and compares
with PyTorch (live when installed, else its recording in tests/references)."""
from __future__ import annotations

import struct
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

import ndgrad


def _outcome(fn: Callable[[], Any]) -> Any:
    """fn()'s value, or the name of the exception it raises (compared as text across libraries)."""
    try:
        return fn()
    except Exception as e:  # noqa: BLE001 - the exception type is the value compared
        return type(e).__name__


def _types(L: Any) -> list:
    x = L.tensor([1.5, -2.0])
    return [str(_outcome(lambda a=a: x.type(a).dtype))
            for a in (L.FloatTensor, L.LongTensor, L.DoubleTensor, L.ByteTensor, L.Tensor, int, 5,
                      L.cuda.FloatTensor)]


def test_type_with_a_tensor_type(torch_ref: Callable) -> None:
    """PyTorch-GAN: `imgs.type(torch.FloatTensor)` (a legacy tensor type as the target)."""
    want = torch_ref("types", _types)
    assert [s.replace("ndgrad.", "torch.") for s in _types(ndgrad)] == want
    got = ndgrad.tensor([1.5, -2.0]).type(ndgrad.LongTensor)
    np.testing.assert_array_equal(got.numpy(), torch_ref("long", lambda torch: torch.tensor([1.5, -2.0]).long()))


def _mnist_raw(root: Path, n: int) -> None:
    """root/MNIST/raw with n tiny images per split (extracted IDX files, as torchvision keeps them)."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for prefix in ("train", "t10k"):
        images = np.arange(n * 28 * 28, dtype=np.uint8).reshape(n, 28, 28)
        (raw / f"{prefix}-images-idx3-ubyte").write_bytes(struct.pack(">IIII", 2051, n, 28, 28) + images.tobytes())
        labels = (np.arange(n) % 10).astype(np.uint8)
        (raw / f"{prefix}-labels-idx1-ubyte").write_bytes(struct.pack(">II", 2049, n) + labels.tobytes())


def _old_names(datasets: Any, root: str) -> list:
    out = []
    for train in (True, False):
        ds = datasets.MNIST(root, train=train)
        for name in ("train_labels", "test_labels", "train_data", "test_data"):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                v = getattr(ds, name)
            out.append((name, str(v.dtype).split(".")[-1], tuple(v.shape), int(v.sum()),
                        [str(w.message) for w in caught if issubclass(w.category, UserWarning)]))
    return out


def test_mnist_old_attribute_names(tv_ref: Callable, tmp_path: Path) -> None:
    """PyTorch-GAN's MNIST-M loader: `datasets.MNIST(...).train_labels` (renamed `targets`, with a warning)."""
    _mnist_raw(tmp_path, 12)
    want = tv_ref("old_names", lambda torch, tv: _old_names(tv.datasets, str(tmp_path)))
    from ndgrad.vision import datasets
    assert _old_names(datasets, str(tmp_path)) == want


_LEGACY = [("resnet50", "ResNet50_Weights"), ("mobilenet_v2", "MobileNet_V2_Weights"), ("vgg19", "VGG19_Weights")]


def _legacy_warnings(call: Callable[[], Any]) -> list:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            call()
        except Exception:  # noqa: BLE001 - torchvision's download fails offline; the warnings come first
            pass
    return [str(w.message) for w in caught if issubclass(w.category, UserWarning)][:2]


def _torchvision_legacy(tv: Any) -> list:
    out = []
    for builder, enum in _LEGACY:
        for flag in (True, False):
            fn = getattr(tv.models, builder)
            out.append(_legacy_warnings(lambda fn=fn, flag=flag: fn(pretrained=flag) if not flag else
                                        _no_download(tv, fn)))
        out.append(getattr(tv.models, enum)["IMAGENET1K_V1"].url)
    return out


def _no_download(tv: Any, fn: Callable) -> Any:
    """fn(pretrained=True) with torchvision's checkpoint loader refusing to download (no network needed)."""
    import torchvision.models._api as api
    saved = api.load_state_dict_from_url

    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise OSError("no download in tests")
    api.load_state_dict_from_url = refuse
    try:
        return fn(pretrained=True)
    finally:
        api.load_state_dict_from_url = saved


def test_pretrained_flag_means_the_first_imagenet_weights(tv_ref: Callable) -> None:
    """PyTorch-GAN's srgan/esrgan: `vgg19(pretrained=True)`; the legacy flag selects IMAGENET1K_V1 (not
    DEFAULT, which is V2 for ResNet-50 and MobileNetV2), with torchvision's two warnings."""
    from ndgrad.vision import models
    from ndgrad.vision.models._utils import resolve_weights
    want = tv_ref("legacy", lambda torch, tv: _torchvision_legacy(tv))
    got = []
    for _, enum in _LEGACY:
        chosen = []
        for flag in (True, False):
            got.append(_legacy_warnings(lambda flag=flag, enum=enum, chosen=chosen: chosen.append(
                resolve_weights(getattr(models, enum), None, {"pretrained": flag}))))
        got.append(chosen[0].url)
        assert chosen[1] is None
    assert got == want


def _out_cases(L: Any) -> list:
    a, b = L.tensor([1.0, 5.0, 3.0]), L.tensor([4.0, 2.0, 6.0])
    res = []

    def run(fn: Callable[[Any], Any], out: Any) -> None:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            got = _outcome(lambda: fn(out))
        same = (got is out) if isinstance(got, L.Tensor) else (
            [g is o for g, o in zip(got, out)] if isinstance(got, tuple) else got)
        outs = out if isinstance(out, tuple) else (out,)
        res.append((same, [o.tolist() if isinstance(o, L.Tensor) else o for o in outs],
                    str(getattr(outs[0], "dtype", "-")).split(".")[-1],
                    len([w for w in caught if "resized" in str(w.message)])))

    run(lambda o: L.maximum(a, b, out=o), L.empty(3))                    # labml's AMSGrad: maximum(v_max, v, out=v_max)
    run(lambda o: L.maximum(a, b, out=o), L.empty(0))
    run(lambda o: L.maximum(a, b, out=o), L.zeros(2))                    # resized, with a warning
    run(lambda o: L.maximum(a, b, out=o), L.zeros(3, dtype=L.float64))
    run(lambda o: L.maximum(a, b, out=o), L.zeros(3, dtype=L.int64))   # can't cast
    run(lambda o: L.neg(a, out=o), L.zeros(3))
    run(lambda o: L.cat([a, b], out=o), L.zeros(6))                      # was ignored silently
    run(lambda o: L.stack([a, b], out=o), L.zeros(0))
    run(lambda o: L.add(a, b, out=o), L.zeros(3))
    run(lambda o: L.clamp(a, 2.0, 4.0, out=o), L.zeros(3))
    run(lambda o: L.max(L.stack([a, b]), 1, out=o), (L.zeros(0), L.zeros(0, dtype=L.int64)))
    run(lambda o: L.max(L.stack([a, b]), 1, out=o), L.zeros(0))          # a tuple was expected
    run(lambda o: L.neg(a, out=o), [1.0])
    v = a.clone()
    run(lambda o: L.maximum(o, b, out=o), v)                               # out is an input
    g = a.clone().requires_grad_()
    run(lambda o: L.maximum(g, b, out=o), L.zeros(3))                    # no autograd through out=
    run(lambda o: L.add(g, b, out=o), L.zeros(3))
    run(lambda o: L.neg(b, out=o), L.zeros(3, requires_grad=True))
    with L.no_grad():
        run(lambda o: L.mul(g, b, out=o), L.zeros(3))
    return res


def test_out_argument(torch_ref: Callable) -> None:
    """labml_nn's AMSGrad: `torch.maximum(v_max, v, out=v_max)`; every function form takes out= as PyTorch."""
    assert _out_cases(ndgrad) == torch_ref("out", _out_cases)


def _blur_cases(L: Any, T: Any, F: Any) -> list:
    from PIL import Image
    rng = np.random.default_rng(0)
    x = L.from_numpy(rng.random((2, 3, 7, 9)).astype(np.float32))
    u = L.from_numpy((rng.random((3, 6, 8)) * 255).astype(np.uint8))
    pil = Image.fromarray((rng.random((6, 8, 3)) * 255).astype(np.uint8))
    res: list = [F.gaussian_blur(x, 3), F.gaussian_blur(x, [3, 5], [0.7, 1.9]), F.gaussian_blur(x[0], 5, 2.0),
                 F.gaussian_blur(x.double(), 3, 1.1), F.gaussian_blur(u, 3, 1.0),
                 np.asarray(F.gaussian_blur(pil, 5, 1.3)), F.gaussian_blur(pil.convert("L"), 3).mode]
    for args in [("a",), ([3, 3, 3],), (4,), (3, "x"), (3, [1.0, 2.0, 3.0]), (3, -1.0)]:
        res.append(_outcome(lambda args=args: F.gaussian_blur(x, *args)))
    res.append(_outcome(lambda: F.gaussian_blur(L.ones(3, 2, 2), 5)))
    for args, kw in [((3,), {}), (((3, 5), 1.5), {}), ((2,), {}), ((3,), {"sigma": -1}), ((3,), {"sigma": (2, 1)}),
                     ((3,), {"sigma": (1, 2, 3)}), (((3, 3, 3),), {})]:
        res.append(_outcome(lambda args=args, kw=kw: repr(T.GaussianBlur(*args, **kw))))
    blur = T.Compose([T.GaussianBlur(3, (0.5, 1.5))])
    res.append(tuple(blur(x).shape))
    return res


def test_gaussian_blur(tv_ref: Callable) -> None:
    """vit-pytorch's DINO/EsViT augmentations: `T.GaussianBlur((3, 3), (1.0, 2.0))` (missing before)."""
    from ndgrad.vision import transforms
    want = tv_ref("blur", lambda torch, tv: _blur_cases(torch, tv.transforms, tv.transforms.functional))
    got = _blur_cases(ndgrad, transforms, transforms.functional)
    assert len(got) == len(want)
    for g, w in zip(got, want):
        if isinstance(w, np.ndarray):
            g = g.numpy() if isinstance(g, ndgrad.Tensor) else g
            assert g.dtype == w.dtype and g.shape == w.shape
            np.testing.assert_allclose(g.astype(np.float64), w, rtol=1e-5, atol=1e-6 if w.dtype.kind == "f" else 1)
        else:
            assert g == w


def test_broadcast_error_names_the_last_mismatch(torch_ref: Callable) -> None:
    """vit-pytorch's SimMIM README example: (2, 64, 1024) + (65, 64) fails; PyTorch names dim 2, not dim 1."""
    def errors(L: Any) -> list:
        out = []
        for a, b in [((2, 64, 1024), (65, 64)), ((3, 4), (5, 6)), ((2, 3, 4), (5, 3, 6)), ((7, 1, 5), (2, 4, 1, 6))]:
            try:
                L.ones(a) + L.ones(b)
            except RuntimeError as e:
                out.append(str(e))
        return out
    assert errors(ndgrad) == torch_ref("errors", errors)
