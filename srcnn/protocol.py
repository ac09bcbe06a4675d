"""The papers' exact evaluation protocol, as in the SRCNN authors' MATLAB demo (``demo_SR.m``).

The published bicubic rows (Set5 33.66 / 30.39 / 28.42 dB, Set14 30.24 / 27.55 / 26.00 at
x2 / x3 / x4) come from this recipe, which works on one channel only:

1. the ground truth's channel: for a colour file, Y of MATLAB ``rgb2ycbcr`` on the 8-bit RGB,
   **rounded to 8 bits** (16..235); for a one-channel file (Set14 ``bridge``), its **raw gray**
   0..255 (the demo converts only 3-channel images). A file stored as RGB with equal channels
   (Set14 ``man``) is a colour file: measured on Y;
2. modcrop to a multiple of the scale;
3. MATLAB-bicubic downscale by 1/scale and upscale back by scale, in float: the low-resolution
   image is **not** rounded;
4. the network on that bicubic channel; the output (and the bicubic baseline) **rounded to
   8 bits**;
5. PSNR (peak 255) and SSIM (srcnn.metrics) with ``scale`` px shaved from each side.

The app's own path (RGB degraded to an 8-bit low-resolution image, srcnn.pipeline) is what
uploads take; it lands within ~0.02 dB of this one. Every table says which it used.
Arrays here are HW float32 on the 0..1 scale (8-bit level / 255).
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image

from .imaging import imresize, luma, modcrop, pil_to_arrays
from .metrics import psnr_y, ssim_y

NAME = "papers' protocol (SRCNN demo: Y rounded to 8 bits, float low-res, output rounded)"


def channel(img: Image.Image) -> np.ndarray:
    """The channel the papers measure, HW float32 in 0..1 at 8-bit levels: rounded Y of an
    RGB file, the raw gray of a one-channel file."""
    color, _ = pil_to_arrays(img)
    if color.shape[2] == 1:
        return color[:, :, 0]
    return (np.rint(luma(color) * 255.0) / 255.0).astype(np.float32)


def bicubic_pair(img: Image.Image, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic input, ground truth): the channel modcropped, degraded and upscaled in float."""
    gt = modcrop(channel(img)[:, :, None], scale)[:, :, 0]
    low = imresize(gt, 1.0 / scale)
    return imresize(low, float(scale)), gt


def round8(y: np.ndarray) -> np.ndarray:
    """An HW 0..1 array rounded to the nearest 8-bit level (and clipped), as ``uint8(y*255)``."""
    return (np.clip(np.rint(np.asarray(y, np.float64) * 255.0), 0, 255) / 255.0).astype(np.float32)


def score(out: np.ndarray, gt: np.ndarray, scale: int) -> tuple[float, float]:
    """(PSNR dB, SSIM) of an output channel against the ground truth, output rounded to 8 bits."""
    out = round8(out)
    return psnr_y(out, gt, border=scale), ssim_y(out, gt, border=scale)


def evaluate_image(img: Image.Image, scale: int,
                   networks: dict[str, Callable[[np.ndarray], np.ndarray]]) -> dict[str, tuple[float, float]]:
    """``{"bicubic": (psnr, ssim), name: (psnr, ssim), ...}`` for one ground-truth image.

    ``networks`` maps a name to a function from the bicubic channel (HW, 0..1) to the output
    channel of the same size (e.g. a model applied in exact tiles)."""
    x, gt = bicubic_pair(img, scale)
    scores = {"bicubic": score(x, gt, scale)}
    for name, fn in networks.items():
        scores[name] = score(fn(x), gt, scale)
    return scores
