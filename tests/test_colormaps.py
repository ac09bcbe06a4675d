"""srcnn.colormaps: the signed-difference map and the error heatmap."""

import numpy as np
from hypothesis import given, settings, strategies
from PIL import Image

from srcnn import colormaps


def test_diverging_zero_is_white_positive_red_negative_blue():
    cmap = colormaps.diverging(np.array([[0.0, 100.0, -100.0]]), gain=8)
    assert tuple(cmap[0, 0]) == (247, 247, 247)                       # zero is white
    assert cmap[0, 1, 0] > cmap[0, 1, 2] and cmap[0, 2, 2] > cmap[0, 2, 0]   # + red, - blue


@settings(max_examples=40, deadline=None)
@given(strategies.floats(-40, 40, allow_nan=False, width=32), strategies.floats(1, 16))
def test_diverging_table_is_within_one_level_of_the_linear_blend(level, gain):
    levels = np.array([[level, -level, 0.0]], np.float32)
    t = (np.clip(levels.astype(np.float64) * gain / 127.5, -1, 1) + 1) * 2      # 0..4 along the anchors
    i = np.minimum(t.astype(int), 3)
    f = (t - i)[..., None]
    exact = colormaps._ANCHORS[i] * (1 - f) + colormaps._ANCHORS[i + 1] * f
    assert np.abs(colormaps.diverging(levels, gain).astype(float) - exact).max() <= 1.0


def test_error_map_mean_and_colours():
    gt = Image.fromarray(np.full((8, 8, 3), 100, np.uint8))
    out = Image.fromarray(np.full((8, 8, 3), 110, np.uint8))          # Y differs by 10 * 219 / 255
    heat, mean = colormaps.error_map(out, gt, levels=16)
    assert mean == np.float64(10 * 219 / 255).round(4) or abs(mean - 10 * 219 / 255) < 1e-3
    assert heat.size == (8, 8) and heat.mode == "RGB"
    black, _ = colormaps.error_map(gt, gt)
    assert np.asarray(black).max() < 10                                # no error: black
