"""ndgrad.vision.ops (box utilities, NMS) and ndgrad.vision.utils (make_grid, save_image)
against torchvision (live or recorded through `tv_ref`), plus gradients of the box ops."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import ndgrad
from ndgrad.autograd import gradcheck, gradgradcheck
from ndgrad.vision import ops, utils

RNG = np.random.default_rng(7)


def random_boxes(n: int, dtype: Any = np.float32) -> np.ndarray:
    xy = RNG.random((n, 2)) * 50
    wh = RNG.random((n, 2)) * 30 + 1
    return np.concatenate([xy, xy + wh], 1).astype(dtype)


B1, B2 = random_boxes(7), random_boxes(5)
CLUSTER = np.concatenate([random_boxes(4) + 0, random_boxes(20) * 0.3 + 10]).astype(np.float32)
SCORES = RNG.permutation(24).astype(np.float32) / 24  # distinct: no ties in the ordering


def t(x: np.ndarray) -> Any:
    return ndgrad.from_numpy(x.copy())


def test_box_iou_area_giou(tv_ref: Any) -> None:
    want = tv_ref("iou", lambda torch, tv: (
        tv.ops.box_iou(torch.from_numpy(B1), torch.from_numpy(B2)),
        tv.ops.box_area(torch.from_numpy(B1)),
        tv.ops.generalized_box_iou(torch.from_numpy(B1), torch.from_numpy(B2)),
        tv.ops.box_area(torch.from_numpy(B1.astype(np.int16)))))
    got = (ops.box_iou(t(B1), t(B2)), ops.box_area(t(B1)), ops.generalized_box_iou(t(B1), t(B2)),
           ops.box_area(t(B1.astype(np.int16))))
    for g, w in zip(got, want):
        assert g.numpy().dtype == w.dtype
        np.testing.assert_allclose(g.numpy(), w, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match=r"shape \(N, 4\)"):
        ops.box_iou(t(B1[:, :3]), t(B2))


@pytest.mark.parametrize("src", ["xyxy", "xywh", "cxcywh"])
def test_box_convert(tv_ref: Any, src: str) -> None:
    for dst in ("xyxy", "xywh", "cxcywh"):
        want = tv_ref(dst, lambda torch, tv, dst=dst: tv.ops.box_convert(torch.from_numpy(B1),
                                                                         src, dst))
        np.testing.assert_allclose(ops.box_convert(t(B1), src, dst).numpy(), want, rtol=1e-6)
        back = ops.box_convert(ops.box_convert(t(B1), src, dst), dst, src)
        np.testing.assert_allclose(back.numpy(), B1, rtol=1e-5)
    with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions"):
        ops.box_convert(t(B1), src, "xy")


def test_box_ops_are_differentiable() -> None:
    b1 = ndgrad.from_numpy(random_boxes(3, np.float64)).requires_grad_()
    b2 = ndgrad.from_numpy(random_boxes(2, np.float64) * 0.5 + 5).requires_grad_()
    assert gradcheck(ops.box_iou, (b1, b2))
    assert gradgradcheck(ops.box_iou, (b1, b2))
    assert gradcheck(ops.generalized_box_iou, (b1, b2))
    assert gradcheck(lambda b: ops.box_convert(b, "cxcywh", "xywh"), (b1,))


@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.7])
def test_nms(tv_ref: Any, threshold: float) -> None:
    want = tv_ref("nms", lambda torch, tv: tv.ops.nms(torch.from_numpy(CLUSTER),
                                                      torch.from_numpy(SCORES), threshold))
    got = ops.nms(t(CLUSTER), t(SCORES), threshold)
    assert got.dtype == ndgrad.int64
    np.testing.assert_array_equal(got.numpy(), want)
    idxs = (np.arange(24) % 3).astype(np.int64)
    want = tv_ref("batched", lambda torch, tv: tv.ops.batched_nms(
        torch.from_numpy(CLUSTER), torch.from_numpy(SCORES), torch.from_numpy(idxs), threshold))
    np.testing.assert_array_equal(ops.batched_nms(t(CLUSTER), t(SCORES), t(idxs),
                                                  threshold).numpy(), want)


def test_nms_by_hand_and_helpers() -> None:
    boxes = t(np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10.5]],
                       np.float32))
    scores = t(np.array([0.8, 0.9, 0.7, 0.1], np.float32))
    # IoU(0, 1) = 81 / 119 = 0.68: box 0 survives 0.7, falls at 0.5
    assert ops.nms(boxes, scores, 0.7).tolist() == [1, 0, 2]
    assert ops.nms(boxes, scores, 0.5).tolist() == [1, 2]
    assert ops.batched_nms(boxes[:0], scores[:0], scores[:0].long(), 0.5).tolist() == []
    with pytest.raises(RuntimeError, match="same number of elements"):
        ops.nms(boxes, scores[:3], 0.5)
    clipped = ops.clip_boxes_to_image(t(np.array([[-3, 2, 70, 9.0]], np.float32)), (8, 64))
    assert clipped.tolist() == [[0.0, 2.0, 64.0, 8.0]]
    sized = t(np.array([[0, 0, 5, 20], [0, 0, 20, 20], [3, 3, 13, 13]], np.float32))
    assert ops.remove_small_boxes(sized, 10.0).tolist() == [1, 2]


# -- utils -----------------------------------------------------------------------------------

BATCH = RNG.random((5, 3, 4, 6)).astype(np.float32) * 2 - 0.5
GRAY = RNG.random((3, 1, 5, 5)).astype(np.float32)


def test_make_grid(tv_ref: Any) -> None:
    cases = {
        "default": (BATCH, {}),
        "nrow2-pad1": (BATCH, {"nrow": 2, "padding": 1, "pad_value": 0.5}),
        "normalize": (BATCH, {"normalize": True}),
        "range-each": (BATCH, {"normalize": True, "value_range": (0.0, 1.0), "scale_each": True}),
        "each": (BATCH, {"normalize": True, "scale_each": True, "nrow": 3}),
        "gray": (GRAY, {"padding": 0}),
        "single": (BATCH[:1], {}),
        "chw": (GRAY[0], {}),
        "uint8": ((BATCH * 100).clip(0, 255).astype(np.uint8), {"pad_value": 255}),
    }
    for key, (x, kw) in cases.items():
        want = tv_ref(key, lambda torch, tv, x=x, kw=kw: tv.utils.make_grid(torch.from_numpy(x),
                                                                            **kw))
        got = utils.make_grid(t(x), **kw)
        assert got.numpy().dtype == want.dtype
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-6)
    listed = utils.make_grid([t(b) for b in BATCH], nrow=4)
    np.testing.assert_array_equal(listed.numpy(), utils.make_grid(t(BATCH), nrow=4).numpy())
    with pytest.raises(TypeError, match="tensor or list of tensors expected"):
        utils.make_grid(BATCH)
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        utils.make_grid(t(BATCH), normalize=True, value_range=[0, 1])


def test_save_image(tmp_path: Any, tv_ref: Any) -> None:
    image = pytest.importorskip("PIL.Image")
    want = tv_ref("png", lambda torch, tv: _saved(tv.utils.save_image, torch.from_numpy(BATCH),
                                                  tmp_path / "theirs.png"))
    got = _saved(utils.save_image, t(BATCH), tmp_path / "ours.png")
    np.testing.assert_array_equal(got, want)
    utils.save_image(t(GRAY[0]), tmp_path / "one.jpg")
    assert image.open(tmp_path / "one.jpg").size == (5, 5)


def _saved(save: Any, batch: Any, path: Any) -> np.ndarray:
    from PIL import Image
    save(batch, path, nrow=3, padding=1)
    return np.asarray(Image.open(path))


# -- io ----------------------------------------------------------------------------------------

def test_read_and_write_images(tmp_path: Any, tv_ref: Any) -> None:
    image = pytest.importorskip("PIL.Image")
    from ndgrad.vision import io
    rng = np.random.default_rng(99)  # its own stream: the images must not depend on test order
    rgb = rng.integers(0, 256, (6, 7, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (5, 4, 4), dtype=np.uint8)
    image.fromarray(rgb).save(tmp_path / "rgb.png")
    image.fromarray(rgba).save(tmp_path / "rgba.png")
    image.fromarray(rgb).save(tmp_path / "rgb.jpg", quality=90)
    want = tv_ref("read", lambda torch, tv: [
        tv.io.read_image(str(tmp_path / "rgb.png")),
        tv.io.read_image(str(tmp_path / "rgba.png")),
        tv.io.read_image(str(tmp_path / "rgba.png"), tv.io.ImageReadMode.RGB),
        tv.io.read_image(str(tmp_path / "rgb.jpg"))])
    got = [io.read_image(tmp_path / "rgb.png"), io.read_image(str(tmp_path / "rgba.png")),
           io.read_image(tmp_path / "rgba.png", io.ImageReadMode.RGB),
           io.read_image(tmp_path / "rgb.jpg")]
    for g, w in zip(got, want):
        assert g.dtype == ndgrad.uint8
        np.testing.assert_array_equal(g.numpy(), w)
    assert tuple(io.read_image(tmp_path / "rgb.png", "GRAY").shape) == (1, 6, 7)
    io.write_png(got[0], tmp_path / "again.png")
    np.testing.assert_array_equal(io.read_image(tmp_path / "again.png").numpy(), got[0].numpy())
    io.write_jpeg(got[0], tmp_path / "again.jpg", quality=95)
    assert tuple(io.decode_image(io.read_file(tmp_path / "again.jpg")).shape) == (3, 6, 7)
    with pytest.raises(RuntimeError, match="Could not decode"):
        io.decode_image(ndgrad.tensor([1, 2, 3], dtype=ndgrad.uint8))
