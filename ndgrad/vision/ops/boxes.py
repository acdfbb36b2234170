"""Box arithmetic (area, IoU, format conversion) and non-maximum suppression."""
from __future__ import annotations

from typing import Any

import numpy as np

import ndgrad
from ndgrad import Tensor

__all__ = ["batched_nms", "box_area", "box_convert", "box_iou", "clip_boxes_to_image",
           "generalized_box_iou", "nms", "remove_small_boxes"]

_FORMATS = ("xyxy", "xywh", "cxcywh")


def _upcast(t: Tensor) -> Tensor:
    """Widen so that products cannot overflow: float16/bfloat16 -> float32, small ints -> int32."""
    if t.is_floating_point():
        return t if t.dtype in (ndgrad.float32, ndgrad.float64) else t.float()
    return t if t.dtype in (ndgrad.int32, ndgrad.int64) else t.int()


def _check_boxes(boxes: Any, who: str) -> None:
    if not isinstance(boxes, Tensor):
        raise TypeError(f"{who}: boxes should be a Tensor, got {type(boxes).__name__}")
    if boxes.dim() != 2 or boxes.shape[-1] != 4:
        raise ValueError(f"{who}: boxes should have shape (N, 4), got {tuple(boxes.shape)}")


def box_area(boxes: Tensor) -> Tensor:
    """Areas (N,) of (x1, y1, x2, y2) boxes (N, 4)."""
    _check_boxes(boxes, "box_area")
    boxes = _upcast(boxes)
    return (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])


def _inter_union(boxes1: Tensor, boxes2: Tensor) -> tuple[Tensor, Tensor]:
    area1, area2 = box_area(boxes1), box_area(boxes2)
    lt = ndgrad.maximum(boxes1[:, None, :2], boxes2[:, :2])
    rb = ndgrad.minimum(boxes1[:, None, 2:], boxes2[:, 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[:, :, 0] * wh[:, :, 1]
    return inter, area1[:, None] + area2 - inter


def box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """Intersection over union (N, M) of every pair of (x1, y1, x2, y2) boxes."""
    _check_boxes(boxes1, "box_iou")
    _check_boxes(boxes2, "box_iou")
    inter, union = _inter_union(boxes1, boxes2)
    return inter / union


def generalized_box_iou(boxes1: Tensor, boxes2: Tensor) -> Tensor:
    """IoU minus the share of the enclosing box covered by neither box, (N, M), in [-1, 1]."""
    _check_boxes(boxes1, "generalized_box_iou")
    _check_boxes(boxes2, "generalized_box_iou")
    inter, union = _inter_union(boxes1, boxes2)
    iou = inter / union
    lti = ndgrad.minimum(boxes1[:, None, :2], boxes2[:, :2])
    rbi = ndgrad.maximum(boxes1[:, None, 2:], boxes2[:, 2:])
    whi = _upcast(rbi - lti).clamp(min=0)
    area = whi[:, :, 0] * whi[:, :, 1]
    return iou - (area - union) / area


def box_convert(boxes: Tensor, in_fmt: str, out_fmt: str) -> Tensor:
    """Convert boxes (..., 4) between 'xyxy' (corners), 'xywh' (corner and size) and 'cxcywh'
    (centre and size)."""
    if in_fmt not in _FORMATS or out_fmt not in _FORMATS:
        raise ValueError("Unsupported Bounding Box Conversions for given in_fmt and out_fmt")
    if in_fmt == out_fmt:
        return boxes.clone()
    a, b, c, d = boxes.unbind(-1)
    if in_fmt == "xywh":
        a, b, c, d = a, b, a + c, b + d
    elif in_fmt == "cxcywh":
        a, b, c, d = a - 0.5 * c, b - 0.5 * d, a + 0.5 * c, b + 0.5 * d
    if out_fmt == "xywh":
        a, b, c, d = a, b, c - a, d - b
    elif out_fmt == "cxcywh":
        a, b, c, d = (a + c) / 2, (b + d) / 2, c - a, d - b
    return ndgrad.stack([a, b, c, d], dim=-1)


def nms(boxes: Tensor, scores: Tensor, iou_threshold: float) -> Tensor:
    """Greedy non-maximum suppression: keep the best-scoring box, drop every box whose IoU with
    it exceeds ``iou_threshold``, repeat.  Returns the kept indices (int64) by falling score."""
    _check_boxes(boxes, "nms")
    if scores.dim() != 1 or scores.shape[0] != boxes.shape[0]:
        raise RuntimeError(f"boxes and scores should have same number of elements in dimension "
                           f"0, got {boxes.shape[0]} and {scores.shape[0]}")
    b = boxes.detach().numpy()
    s = scores.detach().numpy()
    if b.dtype.kind != "f":
        b = b.astype(np.float32)
    x1, y1, x2, y2 = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    areas = (x2 - x1) * (y2 - y1)
    order = np.argsort(-s, kind="stable")
    keep: list[int] = []
    alive = np.ones(len(order), bool)
    for pos, i in enumerate(order):
        if not alive[pos]:
            continue
        keep.append(int(i))
        rest = order[pos + 1:]
        w = np.maximum(np.minimum(x2[i], x2[rest]) - np.maximum(x1[i], x1[rest]), 0)
        h = np.maximum(np.minimum(y2[i], y2[rest]) - np.maximum(y1[i], y1[rest]), 0)
        inter = w * h
        with np.errstate(divide="ignore", invalid="ignore"):
            ovr = inter / (areas[i] + areas[rest] - inter)
        alive[pos + 1:] &= ~(ovr > iou_threshold)
    return ndgrad.tensor(keep, dtype=ndgrad.int64)


def batched_nms(boxes: Tensor, scores: Tensor, idxs: Tensor, iou_threshold: float) -> Tensor:
    """NMS within each category ``idxs``: boxes of different categories never suppress each
    other.  Returns the kept indices sorted by falling score."""
    if boxes.numel() == 0:
        return ndgrad.empty((0,), dtype=ndgrad.int64)
    # shift each category's boxes far from the others', then one NMS does them all
    offsets = idxs.to(boxes.dtype) * (boxes.max() + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def clip_boxes_to_image(boxes: Tensor, size: tuple[int, int]) -> Tensor:
    """Clamp (x1, y1, x2, y2) boxes (..., 4) inside an image of ``size`` (height, width)."""
    height, width = size
    x = boxes[..., 0::2].clamp(min=0, max=width)
    y = boxes[..., 1::2].clamp(min=0, max=height)
    return ndgrad.stack((x, y), dim=boxes.dim()).reshape(boxes.shape)


def remove_small_boxes(boxes: Tensor, min_size: float) -> Tensor:
    """Indices of the boxes whose width and height are both at least ``min_size``."""
    ws, hs = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = (ws >= min_size) & (hs >= min_size)
    return ndgrad.where(keep)[0]
