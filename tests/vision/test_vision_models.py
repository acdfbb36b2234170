"""ndgrad.vision.models against torchvision: reprs, state_dict names/shapes/dtypes, and outputs
(eval) and gradients (train) from identical weights.  The weights are generated here with
NumPy, so the recorded torchvision outputs check the numerics without torchvision too.  Where
torchvision runs live, its own state_dict is also written with torch.save and read back with
ndgrad.load (strict=True)."""
from __future__ import annotations

import os
from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad import nn
from ndgrad.vision import models

ALL = ["alexnet", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn", "resnet18", "resnet34", "resnet50",
       "mobilenet_v2"]
SMALL = ["resnet18", "resnet50", "mobilenet_v2"]  # numerics in every run (the rest: see below)
BIG_ENV = "NDGRAD_VISION_BIG_MODELS"  # =1: also compare alexnet and VGG outputs (minutes, ~2 GB)


@pytest.fixture
def cheap_init(monkeypatch: Any) -> None:
    """Skip random initialisation: structure tests need shapes, not values (VGG-16 has 138M
    parameters; drawing them dominates the test)."""
    for name in ("uniform_", "normal_", "kaiming_uniform_", "kaiming_normal_", "constant_",
                 "ones_", "zeros_"):
        monkeypatch.setattr(nn.init, name, lambda tensor, *a, **k: tensor)


def spec(state: dict[str, Any]) -> list[tuple[str, tuple[int, ...], str]]:
    return [(k, tuple(v.shape), str(v.dtype).split(".")[-1]) for k, v in state.items()]


@pytest.mark.parametrize("name", ALL)
def test_structure_matches_torchvision(tv_ref: Any, cheap_init: None, name: str) -> None:
    want_repr, want_spec = tv_ref(name, lambda torch, tv: (
        repr(getattr(tv.models, name)()), spec(getattr(tv.models, name)().state_dict())))
    model = getattr(models, name)(weights=None)
    assert repr(model) == want_repr
    assert spec(model.state_dict()) == [tuple(s) for s in want_spec]


def fake_weights(state: dict[str, Any], seed: int) -> dict[str, np.ndarray]:
    """Deterministic weights of a sensible scale for every entry of a state_dict."""
    rng = np.random.default_rng(seed)
    out: dict[str, np.ndarray] = {}
    for key, value in state.items():
        shape = tuple(value.shape)
        if key.endswith("num_batches_tracked"):
            out[key] = np.array(3, np.int64)
        elif key.endswith("running_var") or (key.endswith("weight") and len(shape) == 1):
            out[key] = rng.uniform(0.5, 1.5, shape).astype(np.float32)
        elif len(shape) == 1:
            out[key] = (rng.standard_normal(shape, dtype=np.float32) * 0.1)
        else:
            fan_in = int(np.prod(shape[1:]))
            out[key] = rng.standard_normal(shape, dtype=np.float32) * np.float32(
                np.sqrt(2.0 / fan_in))
    return out


def load_fake(model: Any, seed: int) -> dict[str, np.ndarray]:
    weights = fake_weights(model.state_dict(), seed)
    missing = model.load_state_dict({k: ndgrad.from_numpy(v.copy()) for k, v in weights.items()},
                                    strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    return weights


INPUT = np.random.default_rng(3).standard_normal((2, 3, 64, 64)).astype(np.float32)


def _torchvision_eval(torch: Any, tv: Any, name: str, weights: dict[str, np.ndarray],
                      tmp_path: Any) -> Any:
    model = getattr(tv.models, name)()
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
    model.eval()
    torch.save(model.state_dict(), tmp_path / f"{name}.pth")  # read back by ndgrad below
    with torch.no_grad():
        return model(torch.from_numpy(INPUT))


def check_outputs(tv_ref: Any, name: str, tmp_path: Any) -> None:
    model = getattr(models, name)()
    weights = load_fake(model, seed=len(name))
    want = tv_ref("logits", lambda torch, tv: _torchvision_eval(torch, tv, name, weights,
                                                                tmp_path))
    model.eval()
    with ndgrad.no_grad():
        got = model(ndgrad.from_numpy(INPUT)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4 * np.abs(want).max())
    saved = tmp_path / f"{name}.pth"
    if saved.exists():  # torchvision ran live: its own file loads strictly and agrees
        fresh = getattr(models, name)()
        fresh.load_state_dict(ndgrad.load(saved), strict=True)
        fresh.eval()
        with ndgrad.no_grad():
            np.testing.assert_array_equal(fresh(ndgrad.from_numpy(INPUT)).numpy(), got)


@pytest.mark.parametrize("name", SMALL)
def test_outputs_match_torchvision(tv_ref: Any, tmp_path: Any, name: str) -> None:
    check_outputs(tv_ref, name, tmp_path)


@pytest.mark.skipif(os.environ.get(BIG_ENV) != "1", reason=f"set {BIG_ENV}=1 (slow, ~2 GB)")
@pytest.mark.parametrize("name", ["alexnet", "vgg11", "vgg11_bn", "vgg16", "vgg16_bn",
                                  "resnet34"])
def test_big_model_outputs_match_torchvision(tv_ref: Any, tmp_path: Any, name: str) -> None:
    check_outputs(tv_ref, name, tmp_path)


def test_resnet18_trains_like_torchvision(tv_ref: Any) -> None:
    model = models.resnet18(num_classes=5)
    weights = load_fake(model, seed=11)
    x = INPUT
    y = np.array([1, 4], np.int64)

    def theirs(torch: Any, tv: Any) -> Any:
        m = tv.models.resnet18(num_classes=5)
        m.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in weights.items()})
        loss = torch.nn.functional.cross_entropy(m(torch.from_numpy(x)), torch.from_numpy(y))
        loss.backward()
        return loss, m.conv1.weight.grad, m.layer4[1].bn2.bias.grad, m.bn1.running_mean
    loss_w, conv_g, bn_g, mean_w = tv_ref("step", theirs)
    loss = nn.functional.cross_entropy(model(ndgrad.from_numpy(x)), ndgrad.from_numpy(y))
    loss.backward()
    np.testing.assert_allclose(loss.item(), loss_w, rtol=1e-5)
    for got, want in ((model.conv1.weight.grad, conv_g), (model.layer4[1].bn2.bias.grad, bn_g)):
        # float32 sums over a deep network: compare relative to the gradient's scale
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-3, atol=1e-4 * np.abs(want).max())
    np.testing.assert_allclose(model.bn1.running_mean.numpy(), mean_w, rtol=1e-5, atol=1e-6)


def test_builder_arguments(cheap_init: None) -> None:
    assert models.resnet18(num_classes=7).fc.out_features == 7
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"), \
            pytest.warns(UserWarning, match="equivalent to passing `weights=None`"):
        assert models.resnet50(pretrained=False).fc.in_features == 2048
    assert models.mobilenet_v2(width_mult=0.5).features[0][0].out_channels == 16
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.resnet.BasicBlock(4, 4, groups=2)
    with pytest.raises(ValueError, match="stride should be 1 or 2"):
        models.mobilenetv2.InvertedResidual(4, 4, 3, 6)
    wide = models.ResNet(models.resnet.Bottleneck, [1, 1, 1, 1], width_per_group=128,
                         zero_init_residual=True)
    assert wide.layer1[0].conv1.out_channels == 128


def test_pretrained_weights_from_the_torch_cache(tmp_path: Any, monkeypatch: Any,
                                                 cheap_init: None) -> None:
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    cache = tmp_path / "hub" / "checkpoints"
    cache.mkdir(parents=True)
    source = models.resnet18()
    weights = load_fake(source, seed=4)
    ndgrad.save(source.state_dict(), cache / "resnet18-f37072fd.pth")  # as torch.hub caches it
    for how in ({"weights": "DEFAULT"}, {"weights": models.ResNet18_Weights.IMAGENET1K_V1},
                {"weights": "ResNet18_Weights.IMAGENET1K_V1"}):
        model = models.resnet18(**how)
        np.testing.assert_array_equal(model.fc.weight.detach().numpy(), weights["fc.weight"])
    with pytest.warns(UserWarning, match="'pretrained' is deprecated"), \
            pytest.warns(UserWarning, match="equivalent to passing `weights=ResNet18_Weights.IMAGENET1K_V1`"):
        model = models.resnet18(pretrained=True)
    np.testing.assert_array_equal(model.conv1.weight.detach().numpy(), weights["conv1.weight"])
    with pytest.raises(ValueError, match="'num_classes' expected value 1000 but got 10"):
        models.resnet18(weights="DEFAULT", num_classes=10)
    with pytest.raises(ValueError, match="Failed to find Weights IMAGENET1K_V9"):
        models.resnet18(weights="IMAGENET1K_V9")
    with pytest.raises(TypeError, match="expected ResNet18_Weights but received"):
        models.resnet18(weights=models.ResNet50_Weights.DEFAULT)
    assert models.get_model_weights("resnet50").DEFAULT is models.ResNet50_Weights.IMAGENET1K_V2
    assert models.get_weight("VGG16_Weights.IMAGENET1K_V1").url.endswith("vgg16-397923af.pth")


def test_hub_download_checks_the_hash(tmp_path: Any) -> None:
    import hashlib

    from ndgrad import hub
    served = tmp_path / "served"
    served.mkdir()
    blob = tmp_path / "blob.pth"
    ndgrad.save({"w": ndgrad.arange(3)}, blob)
    digest = hashlib.sha256(blob.read_bytes()).hexdigest()
    (served / f"tiny-{digest[:8]}.pth").write_bytes(blob.read_bytes())
    (served / "tiny-0badc0de.pth").write_bytes(blob.read_bytes())
    hub.set_dir(tmp_path / "hub")
    try:
        got = hub.load_state_dict_from_url(f"{served.as_uri()}/tiny-{digest[:8]}.pth",
                                           check_hash=True, progress=False)
        assert got["w"].tolist() == [0, 1, 2]
        assert (tmp_path / "hub" / "checkpoints" / f"tiny-{digest[:8]}.pth").exists()
        with pytest.raises(RuntimeError, match="invalid hash value"):
            hub.load_state_dict_from_url(f"{served.as_uri()}/tiny-0badc0de.pth",
                                         check_hash=True, progress=False)
        assert not (tmp_path / "hub" / "checkpoints" / "tiny-0badc0de.pth").exists()
    finally:
        hub._hub_dir = None


def test_weights_transforms_match_torchvision(tv_ref: Any) -> None:
    image = pytest.importorskip("PIL.Image")
    arr = np.random.default_rng(2).integers(0, 256, (300, 260, 3), dtype=np.uint8)
    want_repr, want = tv_ref("preset", lambda torch, tv: (
        repr(tv.models.ResNet50_Weights.DEFAULT.transforms()),
        tv.models.ResNet50_Weights.DEFAULT.transforms()(image.fromarray(arr))))
    preset = models.ResNet50_Weights.DEFAULT.transforms()
    assert repr(preset) == want_repr
    np.testing.assert_allclose(preset(image.fromarray(arr)).numpy(), want, rtol=1e-5, atol=1e-6)
