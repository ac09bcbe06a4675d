"""Pixels in and out, with the conventions of the super-resolution papers.

Conventions used everywhere in this package:

* Arrays are ``float32``, **HWC**, values in **0..1** (so 8-bit 255 maps to 1.0).
  A grayscale image has C = 1, a colour image C = 3 (RGB). Alpha travels separately.
* YCbCr is MATLAB's ``rgb2ycbcr`` for double input (ITU-R BT.601, "studio swing"):
  ``Y = 16/255 + (65.481 R + 128.553 G + 24.966 B) / 255`` so Y lies in 16/255..235/255.
  Multiply by 255 for the 16..235 figures the papers quote.
* Resizing is MATLAB's ``imresize(..., 'bicubic')``: cubic kernel with a = -0.5,
  kernel widened by the scale when shrinking (antialiasing), symmetric (mirror) borders.
* ``degrade(hr, s)`` is the papers' low-resolution image: ``modcrop`` to a multiple of s,
  then ``imresize(hr, 1/s)``.
* 8-bit rounding, wherever a picture is saved or a protocol rounds, is :func:`to_8bit`
  (nearest of the 256 levels, clipped); :func:`round8` gives the same levels back on 0..1.
* The long steps (:func:`imresize`, the colour conversions, :func:`to_8bit`) call
  srcnn.cancel.checkpoint between their row bands (imresize: between its passes), so that the
  caller's check can stop them part-way; the numbers are the same either way.

Every function here is pure: it returns new arrays and never changes its inputs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps

from .cancel import checkpoint

# --------------------------------------------------------------------------- colour

# MATLAB rgb2ycbcr for double input: ycbcr = OFFSET + RGB_TO_YCBCR @ rgb (all in 0..1).
RGB_TO_YCBCR = np.array(
    [[65.481, 128.553, 24.966],
     [-37.797, -74.203, 112.0],
     [112.0, -93.786, -18.214]], dtype=np.float64) / 255.0
YCBCR_OFFSET = np.array([16.0, 128.0, 128.0]) / 255.0
YCBCR_TO_RGB = np.linalg.inv(RGB_TO_YCBCR)


_ROWS_PER_CHUNK_PX = 1 << 18   # colour math runs on ~256K-px bands: temporaries stay small


def _colour_affine(x: np.ndarray, matrix: np.ndarray, before: np.ndarray, after: np.ndarray,
                   out: np.ndarray | None = None) -> np.ndarray:
    """``(x - before) @ matrix.T + after`` per pixel of an HWC (C = 3) array, float32, in row
    bands so that no full-size temporary is made. ``out`` (HWC float32, may be ``x`` itself)
    receives the result; by default a new array does."""
    x = np.asarray(x, dtype=np.float32)
    h, w = x.shape[:2]
    out = np.empty((h, w, 3), np.float32) if out is None else out
    mt = matrix.T.astype(np.float32)
    before, after = before.astype(np.float32), after.astype(np.float32)
    step = max(1, _ROWS_PER_CHUNK_PX // max(1, w))
    for top in range(0, h, step):
        checkpoint()
        band = x[top:top + step] - before     # a band-sized copy: out may alias x
        np.matmul(band, mt, out=out[top:top + step])
        out[top:top + step] += after
    return out


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """RGB (HWC, 0..1) to YCbCr (HWC, 0..1 scale; Y in 16/255..235/255), as MATLAB rgb2ycbcr."""
    return _colour_affine(rgb, RGB_TO_YCBCR, np.zeros(3), YCBCR_OFFSET)


def ycbcr_to_rgb(ycbcr: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """YCbCr (HWC, 0..1 scale) to RGB (HWC, 0..1, not clipped), as MATLAB ycbcr2rgb.

    ``out``: an HWC float32 array to write into (``ycbcr`` itself is allowed: in place, no
    second full-size array); default a new array."""
    return _colour_affine(ycbcr, YCBCR_TO_RGB, YCBCR_OFFSET, np.zeros(3), out)


def luma(image: np.ndarray) -> np.ndarray:
    """The channel a network runs on and metrics measure, HW float32 in 0..1.

    Colour (C = 3): Y of MATLAB rgb2ycbcr (16/255..235/255). Grayscale (C = 1): the raw gray
    values themselves (0..1), as the SR papers' code treats one-channel files (it converts only
    3-channel images); ``16 + 219 g`` would add ~1.3 dB to a gray image's PSNR.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.shape[2] == 1:
        return np.array(image[:, :, 0], dtype=np.float32, copy=True)
    return rgb_to_ycbcr(image)[:, :, 0]


def gray_from_luma(y: np.ndarray) -> np.ndarray:
    """Inverse of :func:`luma` for grayscale: HW (0..1) to HWC gray (C = 1)."""
    return np.array(np.asarray(y, np.float32)[:, :, None], dtype=np.float32, copy=True)


# --------------------------------------------------------------------------- resize

def cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's ``cubic``)."""
    ax = np.abs(x)
    ax2, ax3 = ax ** 2, ax ** 3
    return ((1.5 * ax3 - 2.5 * ax2 + 1) * (ax <= 1)
            + (-0.5 * ax3 + 2.5 * ax2 - 4 * ax + 2) * ((ax > 1) & (ax <= 2)))


def contributions(in_len: int, out_len: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """MATLAB imresize's ``contributions``: per output pixel, input indices and weights.

    Returns ``(weights, left)``: ``weights`` is (out_len, taps) float64, each row summing to 1;
    output pixel i (0-based) is ``sum_k weights[i, k] * x[left[i] + k]`` where indices outside
    0..in_len-1 are mirrored symmetrically (edge pixel repeated), as MATLAB does.
    """
    kernel_width = 4.0
    if scale < 1:  # antialiasing: widen the kernel, lower its height
        kernel_width /= scale
    x = np.arange(1, out_len + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1 - 1 / scale)           # 1-based input coordinate
    left = np.floor(u - kernel_width / 2)
    taps = int(math.ceil(kernel_width)) + 2
    idx = left[:, None] + np.arange(taps)[None, :]   # 1-based
    dist = u[:, None] - idx
    w = scale * cubic(scale * dist) if scale < 1 else cubic(dist)
    w = w / w.sum(axis=1, keepdims=True)
    # MATLAB drops columns with all-zero weights; keep the span tight the same way.
    nonzero = np.flatnonzero(np.any(w != 0, axis=0))
    w = w[:, nonzero[0]:nonzero[-1] + 1]
    left0 = (left + nonzero[0] - 1).astype(np.int64)  # 0-based
    return w, left0


def _mirror(idx: np.ndarray, n: int) -> np.ndarray:
    """Symmetric index mapping of MATLAB imresize (period 2n, edge repeated)."""
    m = np.mod(idx, 2 * n)
    return np.where(m < n, m, 2 * n - 1 - m)


def _take_mirrored(x: np.ndarray, start: int, length: int, axis: int) -> np.ndarray:
    """``x`` along ``axis`` at indices ``_mirror(start + arange(length), n)``, as one
    contiguous array: a symmetric ``np.pad`` and a slice (memcpy speed), not a fancy-index
    gather (element by element)."""
    n = x.shape[axis]
    before, after = max(0, -start), max(0, start + length - n)
    widths = [(0, 0)] * x.ndim
    widths[axis] = (before, after)
    padded = np.pad(x, widths, mode="symmetric") if before or after else x
    sl = [slice(None)] * x.ndim
    sl[axis] = slice(start + before, start + before + length)
    return np.ascontiguousarray(padded[tuple(sl)])


def _resize_axis_general(x: np.ndarray, out_len: int, scale: float, axis: int) -> np.ndarray:
    """Resize ``axis`` (0 or 1) of an HWC float32 array by gather-and-sum; any scale.

    Output pixel i is ``sum_k weights[i, k] * x[mirror(left[i] + k)]`` (:func:`contributions`),
    accumulated tap by tap in float32: one output-sized array and one gathered tap at a time."""
    n = x.shape[axis]
    w, left = contributions(n, out_len, scale)
    idx = _mirror(left[:, None] + np.arange(w.shape[1])[None, :], n)
    shape = [1] * x.ndim
    shape[axis] = out_len
    out = None
    for k in range(w.shape[1]):
        term = np.take(x, idx[:, k], axis=axis)
        term *= w[:, k].astype(np.float32).reshape(shape)
        if out is None:
            out = term
        else:
            out += term
    return out


def _periodic(n: int, out_len: int, scale: float) -> tuple[int, int] | None:
    """``(period, step)`` when the weights repeat every ``period`` outputs while the window
    advances ``step`` inputs (integer up- or down-scaling), else None."""
    if scale >= 1 and abs(scale - round(scale)) < 1e-9 and out_len == n * round(scale):
        return int(round(scale)), 1
    inv = 1 / scale
    if scale < 1 and abs(inv - round(inv)) < 1e-9 and out_len * round(inv) <= n:
        return 1, int(round(inv))
    return None


def _groups_per_block(groups: int) -> int:
    """Output groups per block matrix: a divisor of ``groups`` near 8 when there is one (no
    excess outputs to cut), else 8."""
    for g in (8, 9, 7, 10, 6, 12, 5, 16, 4):
        if groups % g == 0:
            return g
    return 8


@dataclass(frozen=True)
class _AxisPlan:
    """Integer-scale resize of one axis as a block-banded matrix product.

    Input indices ``index`` (mirrored, length ``(blocks - 1) * stride + matrix.shape[1]``) are
    read in overlapping windows of ``matrix.shape[1]`` that advance ``stride``; each window
    times ``matrix`` (rows = outputs of the block) gives ``matrix.shape[0]`` consecutive outputs.
    """
    matrix: np.ndarray     # (outputs per block, inputs per block) float32
    index: np.ndarray      # int64 input indices after mirroring
    start: int             # index = _mirror(start + arange(len(index)), n)
    blocks: int
    stride: int
    out_len: int


def _axis_plan(n: int, out_len: int, scale: float) -> _AxisPlan | None:
    ps = _periodic(n, out_len, scale)
    if ps is None:
        return None
    period, step = ps
    w, left = contributions(n, out_len, scale)
    taps = w.shape[1]
    offsets = left[:period] - left[0]
    span = int(offsets[-1]) + taps
    groups = -(-out_len // period)
    g = _groups_per_block(groups)
    blocks = -(-groups // g)
    m = np.zeros((g * period, (g - 1) * step + span))
    for q in range(g):
        for p in range(period):
            o = q * step + int(offsets[p])
            m[q * period + p, o:o + taps] = w[p]
    length = (blocks - 1) * g * step + m.shape[1]
    index = _mirror(int(left[0]) + np.arange(length), n)
    return _AxisPlan(m.astype(np.float32), index, int(left[0]),
                     blocks, g * step, out_len)


def _apply_rows(x: np.ndarray, plan: _AxisPlan) -> np.ndarray:
    """(L, M) contiguous float32, rows already gathered by ``plan.index`` -> (blocks * rows_per_block, M):
    each window of ``matrix.shape[1]`` rows, advancing ``plan.stride``, times ``plan.matrix``
    (one matrix product per block, on rows as they lie in memory)."""
    rows, cols = plan.matrix.shape
    m = x.shape[1]
    item = x.itemsize
    windows = np.lib.stride_tricks.as_strided(x, (plan.blocks, cols, m), (plan.stride * m * item, m * item, item))
    return np.matmul(plan.matrix, windows).reshape(-1, m)


def _apply_cols(x: np.ndarray, plan: _AxisPlan) -> np.ndarray:
    """(H, L, C) contiguous float32, columns already gathered -> (H, blocks * outputs_per_block, C).

    Each block of columns of every row, all channels interleaved, is one row of a matrix
    product with ``kron(matrix.T, I_C)``: one GEMM for the whole image."""
    h, length, c = x.shape
    rows, cols = plan.matrix.shape
    kron = np.kron(plan.matrix.T, np.eye(c, dtype=np.float32))   # (cols*C, rows*C)
    item = x.itemsize
    windows = np.lib.stride_tricks.as_strided(
        x, (h, plan.blocks, cols * c), (length * c * item, plan.stride * c * item, item))
    return (windows.reshape(h * plan.blocks, cols * c) @ kron).reshape(h, plan.blocks * rows, c)


def imresize(image: np.ndarray, scale: float | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """MATLAB-compatible ``imresize(image, scale, 'bicubic')`` on float data, not rounded or clipped.

    ``image``: HW or HWC float array (any range). Give ``scale`` (output = ceil(H*scale) x
    ceil(W*scale), as MATLAB) or ``size`` = (out_h, out_w), which sets each axis' scale to
    out/in. Returns float32 of the same layout.

    Integer up- and down-scaling (the SR path) run as block-banded matrix products on the
    HWC array as it lies in memory, all channels at once: columns first, then rows; any
    other scale takes the general gather-and-sum path. Both give MATLAB's numbers (they
    differ only by float32 rounding, ~1e-7).
    """
    arr = np.asarray(image, dtype=np.float32)
    if arr.ndim not in (2, 3):
        raise ValueError(f"imresize expects an HW or HWC array, got shape {arr.shape}")
    h, w = arr.shape[:2]
    if h < 1 or w < 1:
        raise ValueError("imresize needs a non-empty image")
    if size is None:
        if scale is None or scale <= 0:
            raise ValueError("imresize needs a positive scale or an output size")
        size = (int(math.ceil(h * scale)), int(math.ceil(w * scale)))
        sh = sw = float(scale)
    else:
        sh, sw = size[0] / h, size[1] / w
    out_h, out_w = size
    x = np.ascontiguousarray(arr if arr.ndim == 3 else arr[:, :, None])   # H, W, C
    rows, cols = _axis_plan(h, out_h, sh), _axis_plan(w, out_w, sw)
    if rows is not None:                       # mirror the rows while the image is small
        x = _take_mirrored(x, rows.start, len(rows.index), 0)
    if cols is not None:
        checkpoint()
        x = _apply_cols(_take_mirrored(x, cols.start, len(cols.index), 1), cols)[:, :out_w]
    checkpoint()
    if cols is None:
        x = _resize_axis_general(x, out_w, sw, axis=1)
        checkpoint()
    if rows is not None:
        c = x.shape[2]
        x = _apply_rows(np.ascontiguousarray(x).reshape(x.shape[0], -1), rows)[:out_h].reshape(out_h, out_w, c)
    else:
        x = _resize_axis_general(x, out_h, sh, axis=0)
    out = np.ascontiguousarray(x, dtype=np.float32)
    return out if arr.ndim == 3 else out[:, :, 0]


def modcrop(image: np.ndarray, scale: int) -> np.ndarray:
    """Crop the bottom/right so that height and width are multiples of ``scale`` (papers' modcrop)."""
    h, w = image.shape[:2]
    return np.array(image[: h - h % scale, : w - w % scale], copy=True)


def degrade_array(hr: np.ndarray, scale: int) -> np.ndarray:
    """The papers' low-resolution image: modcrop, then MATLAB bicubic downscale by 1/scale."""
    hr = modcrop(hr, scale)
    if hr.shape[0] < scale or hr.shape[1] < scale:
        raise ValueError(f"image is too small to degrade by x{scale}: at least {scale}x{scale} pixels needed")
    return imresize(hr, 1.0 / scale)


# --------------------------------------------------------------------------- PIL

def pil_to_arrays(img: Image.Image) -> tuple[np.ndarray, np.ndarray | None]:
    """Decode any PIL image to ``(color, alpha)`` float32 arrays in 0..1.

    The rule, applied in this order:

    * EXIF orientation is applied first (a phone photo comes out upright).
    * Grayscale modes (1, L, LA, I, I;16*, F) give ``color`` HxWx1; every other mode (RGB,
      RGBA, P, PA, CMYK, YCbCr, LAB, HSV, ...) gives HxWx3 RGB via Pillow's conversion.
    * 16-bit and 32-bit integer modes (I;16*, I) are divided by 65535; F is divided by 255.
    * Alpha (LA, PA, RGBA, RGBa, or P with a transparency entry) is returned as HxW, else None.
    """
    img = ImageOps.exif_transpose(img)
    mode = img.mode
    alpha = None
    has_alpha = mode in ("LA", "La", "PA", "RGBA", "RGBa") or (mode == "P" and "transparency" in img.info)
    if has_alpha:
        rgba = img.convert("LA" if mode in ("LA", "La") else "RGBA")
        alpha = np.asarray(rgba.getchannel("A"), dtype=np.float32) / 255.0
    if mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):
        color = np.asarray(img, dtype=np.float32)[:, :, None] / 65535.0
    elif mode == "F":
        color = np.asarray(img, dtype=np.float32)[:, :, None] / 255.0
    elif mode in ("1", "L", "LA", "La"):
        color = np.asarray(img.convert("L"), dtype=np.float32)[:, :, None] / 255.0
    else:
        color = np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
    return np.clip(color, 0.0, 1.0).astype(np.float32), alpha


def to_8bit(a: np.ndarray) -> np.ndarray:
    """0..1 float data to the nearest of the 256 levels, clipped: uint8, same shape.

    THE 8-bit rounding (a saved PNG, the low-resolution image, the papers' ``uint8(y*255)``):
    ``clip(rint(a * 255), 0, 255)``, computed in float32 (``a`` is converted first) and in row
    bands, so that no full-size float temporary is made. Halves round to even."""
    a = np.asarray(a, np.float32)
    out = np.empty(a.shape, np.uint8)
    step = max(1, _ROWS_PER_CHUNK_PX // max(1, a.shape[1])) if a.ndim > 1 else max(1, a.shape[0])
    for top in range(0, a.shape[0], step):
        checkpoint()
        band = a[top:top + step] * np.float32(255.0)
        np.rint(band, out=band)
        np.clip(band, 0, 255, out=band)
        out[top:top + step] = band
    return out


def round8(a: np.ndarray) -> np.ndarray:
    """:func:`to_8bit` back on the 0..1 scale: float32 ``level / 255``, same shape."""
    return to_8bit(a).astype(np.float32) / np.float32(255.0)


def arrays_to_pil(color: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """float32 HWC (C = 1 or 3) in 0..1, plus optional HW alpha, to an 8-bit PIL image
    (L, LA, RGB or RGBA), clipped and rounded to the nearest level (:func:`to_8bit`)."""
    c = to_8bit(color)
    if c.shape[2] == 1:
        c = c[:, :, 0]
        if alpha is None:
            return Image.fromarray(c, "L")
        return Image.fromarray(np.stack([c, to_8bit(alpha)], axis=2), "LA")
    if alpha is None:
        return Image.fromarray(c, "RGB")
    return Image.fromarray(np.concatenate([c, to_8bit(alpha)[:, :, None]], axis=2), "RGBA")


def degrade_image(hr: Image.Image, scale: int) -> Image.Image:
    """The low-resolution image of the modcropped ``hr``: MATLAB bicubic by 1/scale, 8-bit.

    Colour is degraded per RGB channel (the same as per YCbCr channel: both are linear).
    Alpha, if any, is degraded the same way.
    """
    color, alpha = pil_to_arrays(hr)
    lr = degrade_array(color, scale)
    lr_alpha = None if alpha is None else degrade_array(alpha, scale)
    return arrays_to_pil(lr, lr_alpha)
