"""NumPy kernels behind the tensor path of the transforms, on channel-first arrays (..., C, H, W).

Each kernel reproduces what torchvision computes on a torch tensor (torch's interpolate and
grid_sample, torchvision's colour formulas), in the same precision: float32 images are computed
in float32, float64 in float64, integer images in float32 and converted back the way
torchvision converts them (rounded for resampling, truncated for colour blends).
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

__all__ = ["affine_grid_sample", "blend", "convert_dtype", "hsv_to_rgb", "max_value", "pad",
           "resample", "rgb_to_grayscale", "rgb_to_hsv"]

_INT_KINDS = "iub"


def max_value(dtype: np.dtype) -> float:
    """The value of a fully bright pixel: 1.0 for floats, the integer maximum otherwise."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return 1.0
    if dtype.kind == "b":
        return 1
    return int(np.iinfo(dtype).max)


def work_type(dtype: np.dtype) -> type[np.floating]:
    """The float type a kernel computes in: the image's float type, float32 for integers."""
    return np.float64 if np.dtype(dtype) == np.float64 else np.float32


def cast_back(out: np.ndarray, dtype: np.dtype, *, round_ints: bool) -> np.ndarray:
    """Convert a float result to the image's dtype (integers: rounded or truncated, as torch)."""
    dtype = np.dtype(dtype)
    if out.dtype == dtype:
        return out
    if dtype.kind in "iu" and round_ints:
        out = np.round(out)
    if dtype.kind in "iu":  # torch's float -> int cast truncates toward zero and wraps
        return out.astype(np.int64).astype(dtype)
    return out.astype(dtype)


# -- resampling ----------------------------------------------------------------------------

def _linear_filter(x: np.ndarray) -> np.ndarray:
    x = np.abs(x)
    return np.where(x < 1, 1 - x, 0).astype(x.dtype)


def _cubic_filter(a: float) -> Callable[[np.ndarray], np.ndarray]:
    def f(x: np.ndarray) -> np.ndarray:
        x = np.abs(x)
        aa = x.dtype.type(a)
        near = ((aa + 2) * x - (aa + 3)) * x * x + 1
        far = (((x - 5) * x + 8) * x - 4) * aa
        return np.where(x < 1, near, np.where(x < 2, far, 0)).astype(x.dtype)
    return f


def _taps_antialias(n_in: int, n_out: int, ctype: type[np.floating], taps: int,
                    filt: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and normalised weights (n_out, k) of torch's antialiased resampling:
    the filter is stretched by the scale when shrinking, so every source pixel contributes."""
    scale = ctype(n_in) / ctype(n_out)
    support = ctype(taps * 0.5) * scale if scale >= 1 else ctype(taps * 0.5)
    invscale = ctype(1) / scale if scale >= 1 else ctype(1)
    center = scale * (np.arange(n_out, dtype=ctype) + ctype(0.5))
    lo = np.maximum((center - support + ctype(0.5)).astype(np.int64), 0)
    hi = np.minimum((center + support + ctype(0.5)).astype(np.int64), n_in)
    width = int((hi - lo).max())
    j = np.arange(width)
    idx = lo[:, None] + j[None, :]
    w = filt(((idx - center[:, None]).astype(ctype) + ctype(0.5)) * invscale)
    w = np.where(j[None, :] < (hi - lo)[:, None], w, ctype(0))
    total = w.sum(axis=1, keepdims=True, dtype=ctype)
    w = np.where(total != 0, w / np.where(total != 0, total, 1), w).astype(ctype)
    return np.minimum(idx, n_in - 1), w


def _taps_linear(n_in: int, n_out: int, ctype: type[np.floating]) -> tuple[np.ndarray, np.ndarray]:
    """torch's bilinear (align_corners=False): two neighbours of the clamped source point."""
    scale = ctype(n_in) / ctype(n_out)
    src = np.maximum(scale * (np.arange(n_out, dtype=ctype) + ctype(0.5)) - ctype(0.5), ctype(0))
    i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
    i1 = i0 + (i0 < n_in - 1)
    lam1 = np.clip(src - i0.astype(ctype), 0, 1).astype(ctype)
    return np.stack([i0, i1], 1), np.stack([(ctype(1) - lam1).astype(ctype), lam1], 1)


def _taps_cubic(n_in: int, n_out: int, ctype: type[np.floating]) -> tuple[np.ndarray, np.ndarray]:
    """torch's bicubic (align_corners=False, a=-0.75): four neighbours, borders replicated."""
    scale = ctype(n_in) / ctype(n_out)
    src = scale * (np.arange(n_out, dtype=ctype) + ctype(0.5)) - ctype(0.5)
    base = np.floor(src)
    t = (src - base).astype(ctype)
    offsets = np.array([1, 0, -1, -2], dtype=ctype)
    w = _cubic_filter(-0.75)(t[:, None] + offsets[None, :])
    idx = np.clip(base.astype(np.int64)[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    return idx, w


def _nearest_index(n_in: int, n_out: int, exact: bool) -> np.ndarray:
    dst = np.arange(n_out)
    if n_out == n_in:
        return dst
    if n_out == 2 * n_in and not exact:
        return dst >> 1
    scale = np.float32(n_in) / np.float32(n_out)
    pos = dst.astype(np.float32) + np.float32(0.5) if exact else dst.astype(np.float32)
    return np.minimum(np.floor(pos * scale).astype(np.int64), n_in - 1)


def _apply_taps(x: np.ndarray, idx: np.ndarray, w: np.ndarray, axis: int) -> np.ndarray:
    """Sum over taps k of w[:, k] * x[idx[:, k]] along ``axis`` (-1 or -2), tap by tap."""
    shape = (-1,) if axis == -1 else (-1, 1)
    out = None
    for k in range(idx.shape[1]):
        term = np.take(x, idx[:, k], axis=axis) * w[:, k].reshape(shape)
        out = term if out is None else out + term
    assert out is not None
    return out


def resample(arr: np.ndarray, out_h: int, out_w: int, mode: str, antialias: bool) -> np.ndarray:
    """Resize the last two dimensions as ``torch.nn.functional.interpolate`` does on (N, C, H, W)
    (``align_corners=False``); integer images are computed in float32 and rounded back."""
    in_h, in_w = arr.shape[-2:]
    if mode in ("nearest", "nearest-exact"):
        exact = mode == "nearest-exact"
        rows, cols = _nearest_index(in_h, out_h, exact), _nearest_index(in_w, out_w, exact)
        return np.ascontiguousarray(arr[..., rows[:, None], cols[None, :]])
    ctype = work_type(arr.dtype)
    x = arr.astype(ctype, copy=False)
    if antialias:
        taps, filt = (2, _linear_filter) if mode == "bilinear" else (4, _cubic_filter(-0.5))
        # torch resamples the width first and skips a dimension whose size does not change
        if in_w != out_w:
            x = _apply_taps(x, *_taps_antialias(in_w, out_w, ctype, taps, filt), axis=-1)
        if in_h != out_h:
            x = _apply_taps(x, *_taps_antialias(in_h, out_h, ctype, taps, filt), axis=-2)
        out = x
    else:
        make = _taps_linear if mode == "bilinear" else _taps_cubic
        out = _apply_taps(_apply_taps(x, *make(in_w, out_w, ctype), axis=-1),
                          *make(in_h, out_h, ctype), axis=-2)
    if mode == "bicubic" and arr.dtype == np.uint8:
        out = np.clip(out, 0, 255)
    return np.ascontiguousarray(cast_back(out, arr.dtype, round_ints=True))


# -- geometry ------------------------------------------------------------------------------

def pad(arr: np.ndarray, left: int, top: int, right: int, bottom: int, mode: str,
        fill: float = 0) -> np.ndarray:
    """Pad (negative amounts crop) the last two dimensions; 'edge' repeats the border pixel,
    'reflect' mirrors without it, 'symmetric' mirrors with it, 'constant' uses ``fill``."""
    h, w = arr.shape[-2:]
    arr = arr[..., max(-top, 0):h - max(-bottom, 0), max(-left, 0):w - max(-right, 0)]
    top, bottom, left, right = (max(v, 0) for v in (top, bottom, left, right))
    widths = [(0, 0)] * (arr.ndim - 2) + [(top, bottom), (left, right)]
    if mode != "constant":
        return np.pad(arr, widths, mode=mode)
    value = cast_back(np.asarray([fill], dtype=np.float64), arr.dtype, round_ints=False)[0]
    return np.pad(arr, widths, constant_values=value)


def _linspace32(start: float, stop: float, num: int, ctype: type[np.floating]) -> np.ndarray:
    return np.linspace(start, stop, num, dtype=np.float64).astype(ctype)


def affine_grid_sample(arr: np.ndarray, matrix: Sequence[float], out_w: int, out_h: int,
                       mode: str, fill: float | Sequence[float] | None) -> np.ndarray:
    """Warp by the inverse affine ``matrix`` (output pixel -> input pixel, both centred on the
    image), sampling as ``grid_sample(align_corners=False, padding_mode='zeros')`` with 'nearest'
    or 'bilinear'; points that fall outside take ``fill`` (None: zero)."""
    in_h, in_w = arr.shape[-2:]
    ctype = work_type(arr.dtype)
    x = arr.astype(ctype, copy=False)
    theta = np.asarray(matrix, dtype=ctype).reshape(2, 3)
    xs = _linspace32(-out_w * 0.5 + 0.5, out_w * 0.5 - 0.5, out_w, ctype)
    ys = _linspace32(-out_h * 0.5 + 0.5, out_h * 0.5 - 0.5, out_h, ctype)
    half = np.array([0.5 * in_w, 0.5 * in_h], dtype=ctype)
    rt = (theta.T / half).astype(ctype)  # (3, 2): the grid in normalised input coordinates
    gx = xs[None, :] * rt[0, 0] + ys[:, None] * rt[1, 0] + rt[2, 0]
    gy = xs[None, :] * rt[0, 1] + ys[:, None] * rt[1, 1] + rt[2, 1]
    # grid_sample's unnormalisation (align_corners=False)
    ix = ((gx + 1) * ctype(in_w) - 1) / 2
    iy = ((gy + 1) * ctype(in_h) - 1) / 2
    ones = np.ones(arr.shape[:-3] + (1,) + arr.shape[-2:], ctype) if arr.ndim >= 3 else None
    stack = np.concatenate([x, ones], axis=-3) if ones is not None else np.stack([x, np.ones_like(x)])
    if mode == "nearest":
        jx, jy = np.rint(ix).astype(np.int64), np.rint(iy).astype(np.int64)
        inside = (jx >= 0) & (jx < in_w) & (jy >= 0) & (jy < in_h)
        out = stack[..., np.clip(jy, 0, in_h - 1), np.clip(jx, 0, in_w - 1)] * inside
    elif mode == "bilinear":
        x0, y0 = np.floor(ix), np.floor(iy)
        out = np.zeros(stack.shape[:-2] + (out_h, out_w), ctype)
        for dy, dx in ((0, 0), (0, 1), (1, 0), (1, 1)):
            cx, cy = x0 + dx, y0 + dy
            wx = (ix - x0) if dx else (x0 + 1 - ix)
            wy = (iy - y0) if dy else (y0 + 1 - iy)
            inside = (cx >= 0) & (cx < in_w) & (cy >= 0) & (cy < in_h)
            vals = stack[..., np.clip(cy, 0, in_h - 1).astype(np.int64),
                         np.clip(cx, 0, in_w - 1).astype(np.int64)]
            out = out + vals * (wx * wy * inside).astype(ctype)
    else:
        raise ValueError(f"Interpolation mode '{mode}' is unsupported with Tensor input")
    if arr.ndim < 3:
        img, mask = out[0], out[1]
    else:
        img, mask = out[..., :-1, :, :], out[..., -1:, :, :]
    if fill is not None:
        values = np.asarray(fill, dtype=ctype).reshape(-1)
        fill_img = values.reshape(-1, 1, 1) if arr.ndim >= 3 else values[0]
        if mode == "nearest":
            img = np.where(mask < 0.5, fill_img, img)
        else:
            img = img * mask + (ctype(1) - mask) * fill_img
    return np.ascontiguousarray(cast_back(img.astype(ctype, copy=False), arr.dtype, round_ints=True))


def inverse_affine_matrix(center: Sequence[float], angle: float, translate: Sequence[float],
                          scale: float, shear: Sequence[float]) -> list[float]:
    """The 2x3 matrix mapping output to input points of the affine map
    ``translate o (about center: rotate(angle) o scale o shear)``, angles in degrees."""
    rot, sx, sy = math.radians(angle), math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    # rotation-shear part (determinant 1) and its inverse
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    m = [d / scale, -b / scale, 0.0, -c / scale, a / scale, 0.0]
    m[2] += m[0] * (-cx - tx) + m[1] * (-cy - ty) + cx
    m[5] += m[3] * (-cx - tx) + m[4] * (-cy - ty) + cy
    return m


def expanded_size(matrix: Sequence[float], w: int, h: int) -> tuple[int, int]:
    """(width, height) of the box holding the whole image under the (inverse) ``matrix``."""
    corners = np.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0],
                        [0.5 * w, 0.5 * h, 1.0], [0.5 * w, -0.5 * h, 1.0]], np.float32)
    pts = corners @ np.asarray(matrix, np.float32).reshape(2, 3).T
    lo = pts.min(0) + np.array([w * 0.5, h * 0.5], np.float32)
    hi = pts.max(0) + np.array([w * 0.5, h * 0.5], np.float32)
    tol = np.float32(1e-4)  # drop float noise so that 2.00001 does not round up to 3
    size = np.ceil(np.trunc(hi / tol) * tol) - np.floor(np.trunc(lo / tol) * tol)
    return int(size[0]), int(size[1])


# -- colour --------------------------------------------------------------------------------

def blend(img: np.ndarray, other: np.ndarray | float, ratio: float) -> np.ndarray:
    """``ratio * img + (1 - ratio) * other`` clipped to the valid range, in the image's dtype
    (integers truncated, as torch's cast does)."""
    ctype = work_type(img.dtype)
    # both factors rounded from Python floats, as torch does with scalar operands
    out = ctype(ratio) * img.astype(ctype, copy=False) + ctype(1.0 - ratio) * np.asarray(
        other, dtype=ctype)
    out = np.clip(out, 0, max_value(img.dtype))
    return cast_back(out.astype(ctype, copy=False), img.dtype, round_ints=False)


def rgb_to_grayscale(img: np.ndarray) -> np.ndarray:
    """Luma 0.2989 R + 0.587 G + 0.114 B of (..., 3, H, W), keeping a channel dimension of 1."""
    ctype = work_type(img.dtype)
    x = img.astype(ctype, copy=False)
    r, g, b = x[..., 0, :, :], x[..., 1, :, :], x[..., 2, :, :]
    gray = ctype(0.2989) * r + ctype(0.587) * g + ctype(0.114) * b
    return cast_back(gray, img.dtype, round_ints=False)[..., None, :, :]


def rgb_to_hsv(img: np.ndarray) -> np.ndarray:
    """(..., 3, H, W) float RGB in [0, 1] -> HSV with every component in [0, 1]."""
    r, g, b = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    maxc, minc = img.max(axis=-3), img.min(axis=-3)
    flat = maxc == minc
    one = np.ones_like(maxc)
    chroma = maxc - minc
    s = chroma / np.where(flat, one, maxc)
    div = np.where(flat, one, chroma)
    rc, gc, bc = (maxc - r) / div, (maxc - g) / div, (maxc - b) / div
    two, four = img.dtype.type(2), img.dtype.type(4)
    h = ((maxc == r) * (bc - gc) + ((maxc == g) & (maxc != r)) * (two + rc - bc)
         + ((maxc != g) & (maxc != r)) * (four + gc - rc))
    h = np.fmod(h / img.dtype.type(6) + img.dtype.type(1), img.dtype.type(1))
    return np.stack([h, s, maxc], axis=-3).astype(img.dtype, copy=False)


def hsv_to_rgb(img: np.ndarray) -> np.ndarray:
    """Inverse of :func:`rgb_to_hsv`."""
    h, s, v = img[..., 0, :, :], img[..., 1, :, :], img[..., 2, :, :]
    six = img.dtype.type(6)
    i = np.floor(h * six)
    f = h * six - i
    sector = i.astype(np.int32) % 6
    one = img.dtype.type(1)
    p = np.clip(v * (one - s), 0, 1)
    q = np.clip(v * (one - s * f), 0, 1)
    t = np.clip(v * (one - s * (one - f)), 0, 1)
    table = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)]
    out = np.zeros_like(img)
    for k, (rr, gg, bb) in enumerate(table):
        sel = sector == k
        out[..., 0, :, :] += np.where(sel, rr, 0)
        out[..., 1, :, :] += np.where(sel, gg, 0)
        out[..., 2, :, :] += np.where(sel, bb, 0)
    return out


def convert_dtype(arr: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """Change an image's dtype rescaling its values: floats live in [0, 1], integers in
    [0, max]; float -> int maps 1.0 to max (the factor max + 1 - 0.001, then truncation)."""
    dtype = np.dtype(dtype)
    src = arr.dtype
    if src == dtype:
        return arr
    if src.kind == "f":
        if dtype.kind == "f":
            return arr.astype(dtype)
        if (src == np.float32 and dtype in (np.int32, np.int64)) or (
                src == np.float64 and dtype == np.int64):
            raise RuntimeError(f"The cast from {_torch_name(src)} to {_torch_name(dtype)} cannot "
                               f"be performed safely.")
        top = float(max_value(dtype))
        return (arr * src.type(top + 1.0 - 1e-3)).astype(dtype)
    top_in = float(max_value(src))
    if dtype.kind == "f":
        return (arr.astype(dtype) / dtype.type(top_in)).astype(dtype)
    top_out = float(max_value(dtype))
    bits_in, bits_out = int(math.log2(top_in + 1)), int(math.log2(top_out + 1))
    if top_in > top_out:
        return (arr >> (bits_in - bits_out)).astype(dtype)
    out = arr.astype(dtype) << (bits_out - bits_in)
    return out


def _torch_name(dtype: np.dtype) -> str:
    return f"torch.{np.dtype(dtype).name}"
