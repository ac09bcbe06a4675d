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

Every function here is pure: it returns new arrays and never changes its inputs.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps

# --------------------------------------------------------------------------- colour

# MATLAB rgb2ycbcr for double input: ycbcr = OFFSET + RGB_TO_YCBCR @ rgb (all in 0..1).
RGB_TO_YCBCR = np.array(
    [[65.481, 128.553, 24.966],
     [-37.797, -74.203, 112.0],
     [112.0, -93.786, -18.214]], dtype=np.float64) / 255.0
YCBCR_OFFSET = np.array([16.0, 128.0, 128.0]) / 255.0
YCBCR_TO_RGB = np.linalg.inv(RGB_TO_YCBCR)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """RGB (HWC, 0..1) to YCbCr (HWC, 0..1 scale; Y in 16/255..235/255), as MATLAB rgb2ycbcr."""
    rgb = np.asarray(rgb, dtype=np.float32)
    return (rgb @ RGB_TO_YCBCR.T.astype(np.float32) + YCBCR_OFFSET.astype(np.float32)).astype(np.float32)


def ycbcr_to_rgb(ycbcr: np.ndarray) -> np.ndarray:
    """YCbCr (HWC, 0..1 scale) to RGB (HWC, 0..1, not clipped), as MATLAB ycbcr2rgb."""
    ycbcr = np.asarray(ycbcr, dtype=np.float32)
    return ((ycbcr - YCBCR_OFFSET.astype(np.float32)) @ YCBCR_TO_RGB.T.astype(np.float32)).astype(np.float32)


def luma(image: np.ndarray) -> np.ndarray:
    """Y of an HWC image in 0..1 (C = 1 or 3), as an HW array in 0..1 (16/255..235/255).

    A grayscale image is treated as RGB with three equal channels, so its luma is
    ``16/255 + 219/255 * gray``: the same convention as a colour image.
    """
    image = np.asarray(image, dtype=np.float32)
    if image.shape[2] == 1:
        return (16.0 / 255.0 + (219.0 / 255.0) * image[:, :, 0]).astype(np.float32)
    return rgb_to_ycbcr(image)[:, :, 0]


def gray_from_luma(y: np.ndarray) -> np.ndarray:
    """Inverse of :func:`luma` for grayscale: HW luma (0..1 scale) to HWC gray (C = 1)."""
    return ((np.asarray(y, np.float32) - 16.0 / 255.0) * (255.0 / 219.0))[:, :, None].astype(np.float32)


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


def _resize_axis_general(x: torch.Tensor, out_len: int, scale: float) -> torch.Tensor:
    """Resize the last axis of x (float) by gather-and-sum; any scale."""
    n = x.shape[-1]
    w, left = contributions(n, out_len, scale)
    idx = _mirror(left[:, None] + np.arange(w.shape[1])[None, :], n)
    gathered = x[..., torch.from_numpy(idx.reshape(-1))].reshape(*x.shape[:-1], out_len, w.shape[1])
    return (gathered * torch.from_numpy(w).to(x.dtype)).sum(-1)


def _resize_axis_periodic(x: torch.Tensor, out_len: int, scale: float, period: int, step: int) -> torch.Tensor:
    """Resize the last axis when the weights repeat every ``period`` outputs while the window
    advances ``step`` inputs (integer up- or down-scaling): one strided 1-D convolution.

    Gives the same numbers as the general path (up to float rounding), much faster.
    """
    n = x.shape[-1]
    w, left = contributions(n, out_len, scale)
    taps = w.shape[1]
    blocks = -(-out_len // period)
    lo = int(left[0])
    hi = lo + (blocks - 1) * step + int(left[period - 1] - left[0]) + taps  # exclusive
    span = np.arange(lo, hi)
    xp = x[..., torch.from_numpy(_mirror(span, n))]
    # One output channel per phase; phase p reads from offset (left[p] - lo) within its block.
    k = np.zeros((period, int(left[period - 1] - left[0]) + taps))
    for p in range(period):
        o = int(left[p] - left[0])
        k[p, o:o + taps] = w[p]
    lead = xp.shape[:-1]
    flat = xp.reshape(-1, 1, 1, xp.shape[-1])
    out = F.conv2d(flat, torch.from_numpy(k).to(x.dtype)[:, None, None, :], stride=(1, step))
    out = out[..., :blocks].reshape(-1, period, blocks).transpose(1, 2).reshape(*lead, blocks * period)
    return out[..., :out_len]


def _resize_axis(x: torch.Tensor, out_len: int, scale: float) -> torch.Tensor:
    n = x.shape[-1]
    if scale >= 1 and abs(scale - round(scale)) < 1e-9 and out_len == n * round(scale):
        return _resize_axis_periodic(x, out_len, scale, period=int(round(scale)), step=1)
    inv = 1 / scale
    if scale < 1 and abs(inv - round(inv)) < 1e-9 and out_len * round(inv) <= n:
        return _resize_axis_periodic(x, out_len, scale, period=1, step=int(round(inv)))
    return _resize_axis_general(x, out_len, scale)


def imresize(image: np.ndarray, scale: float | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """MATLAB-compatible ``imresize(image, scale, 'bicubic')`` on float data, not rounded or clipped.

    ``image``: HW or HWC float array (any range). Give ``scale`` (output = ceil(H*scale) x
    ceil(W*scale), as MATLAB) or ``size`` = (out_h, out_w), which sets each axis' scale to
    out/in. Rows are resized first, then columns. Returns float32 of the same layout.
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
    t = torch.from_numpy(np.ascontiguousarray(arr))
    t = t if arr.ndim == 3 else t[:, :, None]
    t = t.permute(2, 1, 0)                         # C, W, H: rows (H) last
    with torch.no_grad():
        t = _resize_axis(t, size[0], sh)
        t = t.transpose(1, 2)                      # C, H, W: columns last
        t = _resize_axis(t, size[1], sw)
    out = t.permute(1, 2, 0).contiguous().numpy()
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


def arrays_to_pil(color: np.ndarray, alpha: np.ndarray | None = None) -> Image.Image:
    """float32 HWC (C = 1 or 3) in 0..1, plus optional HW alpha, to an 8-bit PIL image
    (L, LA, RGB or RGBA), clipped and rounded to the nearest level."""
    def to8(a: np.ndarray) -> np.ndarray:
        return np.clip(np.rint(np.asarray(a, np.float32) * 255.0), 0, 255).astype(np.uint8)

    c = to8(color)
    if c.shape[2] == 1:
        c = c[:, :, 0]
        if alpha is None:
            return Image.fromarray(c, "L")
        return Image.fromarray(np.stack([c, to8(alpha)], axis=2), "LA")
    if alpha is None:
        return Image.fromarray(c, "RGB")
    return Image.fromarray(np.concatenate([c, to8(alpha)[:, :, None]], axis=2), "RGBA")


def degrade(hr: Image.Image, scale: int) -> Image.Image:
    """The low-resolution image of the modcropped ``hr``: MATLAB bicubic by 1/scale, 8-bit.

    Colour is degraded per RGB channel (the same as per YCbCr channel: both are linear).
    Alpha, if any, is degraded the same way.
    """
    color, alpha = pil_to_arrays(hr)
    lr = degrade_array(color, scale)
    lr_alpha = None if alpha is None else degrade_array(alpha, scale)
    return arrays_to_pil(lr, lr_alpha)
