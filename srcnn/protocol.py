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

:data:`PAPER` holds the published rows this protocol is compared with, on :data:`BENCHMARKS`.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from PIL import Image

from .imaging import imresize, luma, modcrop, pil_to_arrays, round8
from .metrics import psnr_y, ssim_y

LABEL = "papers' protocol"             # the short name tables and model cards carry
NAME = f"{LABEL} (SRCNN demo: Y rounded to 8 bits, float low-res, output rounded)"
PUBLISHED = "Dong et al., TPAMI 2016"   # where the rows of PAPER come from
BENCHMARKS = ("Set5", "Set14")          # the sets the field's tables report (data/Set5, data/Set14)

# Dong et al., "Image Super-Resolution Using Deep Convolutional Networks", TPAMI 2016
# (SRCNN 9-5-5 trained on ImageNet; bicubic with its SSIM), as reproduced in the VDSR and
# EDSR tables. (set, scale) -> method -> (mean PSNR-Y dB, SSIM or None), this protocol.
PAPER = {
    ("Set5", 2): {"bicubic": (33.66, 0.9299), "SRCNN 9-5-5": (36.66, None)},
    ("Set5", 3): {"bicubic": (30.39, 0.8682), "SRCNN 9-5-5": (32.75, None), "SRCNN 9-1-5, T91": (32.39, None)},
    ("Set5", 4): {"bicubic": (28.42, 0.8104), "SRCNN 9-5-5": (30.48, None)},
    ("Set14", 2): {"bicubic": (30.24, 0.8688), "SRCNN 9-5-5": (32.45, None)},
    ("Set14", 3): {"bicubic": (27.55, 0.7742), "SRCNN 9-5-5": (29.30, None)},
    ("Set14", 4): {"bicubic": (26.00, 0.7027), "SRCNN 9-5-5": (27.50, None)},
}


def channel(img: Image.Image) -> np.ndarray:
    """The channel the papers measure, HW float32 in 0..1 at 8-bit levels: rounded Y of an
    RGB file, the raw gray of a one-channel file."""
    color, _ = pil_to_arrays(img)
    if color.shape[2] == 1:
        return color[:, :, 0]
    return round8(luma(color))


def bicubic_pair(img: Image.Image, scale: int) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic input, ground truth): the channel modcropped, degraded and upscaled in float."""
    gt = modcrop(channel(img)[:, :, None], scale)[:, :, 0]
    low = imresize(gt, 1.0 / scale)
    return imresize(low, float(scale)), gt


def score(out: np.ndarray, gt: np.ndarray, scale: int) -> tuple[float, float]:
    """(PSNR dB, SSIM) of an output channel against the ground truth, output rounded to 8 bits
    (srcnn.imaging.round8), ``scale`` px shaved."""
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
