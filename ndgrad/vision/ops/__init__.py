"""torchvision.ops for ndgrad: bounding-box utilities.

Boxes are (N, 4) tensors, by default (x1, y1, x2, y2) with 0 <= x1 < x2 and 0 <= y1 < y2.
box_area, box_iou, generalized_box_iou and box_convert are built from ndgrad's tensor ops, so
gradients flow through them; nms and batched_nms return indices.
"""
from . import misc
from .boxes import (batched_nms, box_area, box_convert, box_iou, clip_boxes_to_image,
                    generalized_box_iou, nms, remove_small_boxes)

__all__ = ["batched_nms", "box_area", "box_convert", "box_iou", "clip_boxes_to_image",
           "generalized_box_iou", "misc", "nms", "remove_small_boxes"]
