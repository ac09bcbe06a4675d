"""Any factor from 1.1 to 8: which trained network serves which factor, decided by measurement.

The networks are trained for x2, x3 and x4, and they work on a bicubic-upscaled image of any
size, so any factor can run through one of them; but a network applied at another factor than
its own does well only near it. Measured on Set5 and Set14 (docs/results.md, "Any factor";
``python -m srcnn factors``): a network helps most at or a little *above* its own
factor (at x2.5 the x2 network beats the x3 one by 0.5 dB; at x3.5 the x3 beats the x4), while
applied below its factor it over-sharpens (at x1.5 every x2-x4 network is 2 to 12 dB *below*
bicubic). Above x4 a single pass gains little; two passes (x2, then the rest) gain 1 dB more.

So :func:`plan` maps a factor ``s`` to passes, each a bicubic resize then a network:

* ``s`` < 1.2: bicubic alone. Nothing measured beats it there: at x1.1 and x1.15 even the
  range network falls behind bicubic on Set5 (by 1.2 and 0.4 dB);
* 1.2 <= ``s`` < 2: one pass with the network trained on the factors 1.1 to 2 (models.RANGE,
  ``python train.py --scale 1.1-2``), where bundled, else bicubic alone (no x2, x3 or x4
  network beats bicubic below x2);
* 2 <= ``s`` <= 4: one pass with the largest trained factor <= ``s``;
* ``s`` > 4: a x2 pass with the x2 network, then ``s / 2`` as above.

Output sizes are MATLAB imresize's: ``ceil(side * s)`` (:func:`output_size`).
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np

from . import imaging
from .models import RANGE, SCALES

MIN_FACTOR, MAX_FACTOR = 1.1, 8.0
RANGE_FROM = 1.2      # the range network serves from here to 2; below, bicubic alone (measured)


def check_factor(factor: object) -> float:
    """``factor`` as a float if it is a number from MIN_FACTOR to MAX_FACTOR, else ValueError."""
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not math.isfinite(factor) \
            or not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise ValueError(f"scale must be a number from {MIN_FACTOR:g} to {MAX_FACTOR:g}, got {factor!r}")
    return float(factor)


def output_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """(width, height) of an image of width x height px upscaled by ``factor``: MATLAB
    imresize's ``ceil(side * factor)`` (to 1e-9, so that 3 * 0.1-type rounding does not add a pixel)."""
    return tuple(int(math.ceil(side * factor - 1e-9)) for side in (width, height))


def network_scale(factor: float) -> int | str | None:
    """What serves one pass of ``factor`` (<= 4): the largest trained factor <= ``factor``;
    below 2, models.RANGE (the range network, where bundled); below :data:`RANGE_FROM`, None
    (bicubic alone)."""
    below = [s for s in SCALES if s <= factor + 1e-9]
    if below:
        return max(below)
    return RANGE if factor >= RANGE_FROM - 1e-9 else None


def plan(factor: float) -> list[tuple[float, int | str | None]]:
    """The passes for ``factor``: ``[(pass factor, what serves it), ...]`` (:func:`network_scale`:
    2, 3, 4, models.RANGE or None for bicubic alone); the pass factors multiply to ``factor``."""
    factor = check_factor(factor)
    if factor > max(SCALES):
        return [(2.0, 2), *plan(factor / 2)]
    return [(factor, network_scale(factor))]


def low_res(hr: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """(ground truth, low-res image) of an HWC 0..1 photo for any factor: the photo cropped to a
    multiple of :func:`crop_multiple` (for 2, 3, 4: the papers' modcrop), then MATLAB bicubic
    to exactly 1/factor of that size; float32, not rounded (round to 8 bits to store it)."""
    gt = imaging.modcrop(hr, crop_multiple(factor))
    if gt.shape[0] < 1 or gt.shape[1] < 1:
        raise ValueError(f"image is too small to degrade by x{factor:g}: at least {crop_multiple(factor)} px needed")
    return gt, imaging.imresize(gt, size=tuple(round(side / factor) for side in gt.shape[:2]))


def crop_multiple(factor: float) -> int:
    """The smallest side, in px, that ``factor`` divides into whole pixels: the numerator of
    ``factor`` as a fraction (x2.5 = 5/2: 5 px; x3: 3 px). A ground truth cropped to a
    multiple of it has a low-resolution image of exactly 1/factor its size. Factors are taken
    as fractions with a denominator up to 20 (x1.15 = 23/20; x3.14159 is taken as 22/7)."""
    return Fraction(factor).limit_denominator(20).numerator
