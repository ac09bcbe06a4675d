"""Colour maps for the pictures the app shows: signed differences and error heatmaps.

* :func:`diverging`: signed 8-bit levels (e.g. output - bicubic on Y) to RGB, amplified by
  ``gain``: blue where negative, white at zero, red where positive (ColorBrewer RdBu anchors),
  from a precomputed 1021-colour table (within one level of the linear blend, tested).
* :func:`error_map`: |output - ground truth| on Y as a heatmap (matplotlib's inferno), black at 0
  and yellow at ``ERROR_RANGE`` levels and above.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from . import imaging

GAIN = 8.0   # default amplification of output - bicubic: +-16 levels reach the ends of the colour map
_ANCHORS = np.array([[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]], np.float32)


def _blend(t: np.ndarray) -> np.ndarray:
    """Positions ``t`` in 0..4 on the anchors (0 = dark blue, 2 = white, 4 = dark red), linear in between."""
    i = np.minimum(t.astype(int), 3)
    f = (t - i)[..., None]
    return np.rint(_ANCHORS[i] * (1 - f) + _ANCHORS[i + 1] * f).astype(np.uint8)


_STEPS = 255                                          # table entries per anchor interval
_TABLE = _blend(np.arange(4 * _STEPS + 1) / _STEPS)   # every colour the map uses, computed once


def diverging(levels: np.ndarray, gain: float = GAIN) -> np.ndarray:
    """Signed HW levels to an HWx3 uint8 colour map centred on zero (white): value v maps to
    ``clip(v * gain / 127.5, -1, 1)`` on blue (-1) .. white (0) .. red (+1), looked up in a
    1021-colour table (v = 0 is exactly white; neighbouring entries differ by under 1 level)."""
    half = 2 * _STEPS
    t = np.asarray(levels, np.float32) * np.float32(gain / 127.5 * half) + np.float32(half)
    np.clip(t, 0, 2 * half, out=t)
    return _TABLE[np.rint(t, out=t).astype(np.int16)]


ERROR_RANGE = 16.0  # luma levels shown at the top of the error heatmap's colour scale


def error_map(output: Image.Image, ground_truth: Image.Image,
              levels: float = ERROR_RANGE) -> tuple[Image.Image, float]:
    """``|output - ground truth|`` on Y (BT.601, in 8-bit levels, unrounded) as an inferno
    heatmap, black = 0 to yellow = ``levels`` or more; returns (heatmap, mean error in levels)."""
    from matplotlib import colormaps
    err = np.abs(imaging.luma(imaging.pil_to_arrays(output)[0])
                 - imaging.luma(imaging.pil_to_arrays(ground_truth)[0])) * 255.0
    rgb = colormaps["inferno"](np.clip(err / levels, 0, 1))[:, :, :3]
    return Image.fromarray(np.rint(rgb * 255).astype(np.uint8), "RGB"), float(err.mean())
