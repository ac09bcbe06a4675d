"""The papers' protocol: the published bicubic rows, reproduced; the protocol's own rules."""

import numpy as np
import pytest
from PIL import Image

from srcnn import protocol
from srcnn.tooling.data import load_set
from srcnn.imaging import imresize
from srcnn.protocol import PAPER


@pytest.fixture(scope="module")
def sets():
    return {name: load_set(name) for name in ("Set5", "Set14")}


@pytest.mark.parametrize("name", ["Set5", "Set14"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bicubic_row_equals_the_published_one(sets, name, scale):
    scores = [protocol.evaluate_image(img, scale, {})["bicubic"] for img in sets[name].values()]
    want_psnr, want_ssim = PAPER[(name, scale)]["bicubic"]
    assert np.mean([p for p, _ in scores]) == pytest.approx(want_psnr, abs=0.01)
    assert np.mean([s for _, s in scores]) == pytest.approx(want_ssim, abs=0.001)


def test_one_channel_file_is_measured_on_raw_gray(sets):
    bridge = sets["Set14"]["bridge"]
    assert bridge.mode == "L"
    assert np.array_equal(protocol.channel(bridge) * 255, np.asarray(bridge, np.float32))


def test_rgb_file_with_equal_channels_is_measured_on_rounded_y(sets):
    man = sets["Set14"]["man"]
    rgb = np.asarray(man)
    assert man.mode == "RGB" and np.array_equal(rgb[..., 0], rgb[..., 1])
    y = protocol.channel(man) * 255
    assert np.allclose(y, np.rint(16 + 219 * rgb[..., 0].astype(np.float64) / 255), atol=1e-3)   # Y of gray g, rounded
    assert np.allclose(y, np.rint(y), atol=1e-3)


def test_low_res_is_float_and_output_is_rounded():
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (30, 33, 3), dtype=np.uint8))
    x, gt = protocol.bicubic_pair(img, 3)
    assert gt.shape == (30, 33) and x.shape == gt.shape
    want = imresize(imresize(gt, 1 / 3), 3.0)            # no rounding between the two resizes
    assert np.allclose(x, want, atol=1e-6)
    assert not np.allclose(x * 255, np.rint(x * 255))   # the bicubic input itself is not rounded
    # the score rounds the output: an output off by less than half a level scores like gt itself
    p, s = protocol.score(gt + 0.4 / 255, gt, 3)
    assert p == float("inf") and s == pytest.approx(1.0)


def test_colour_channel_is_rounded_luma():
    """Hand values of MATLAB rgb2ycbcr's Y (16 + 65.481 R + 128.553 G + 24.966 B, R G B in 0..1),
    rounded to 8 bits; then random pixels against the formula written out in float64."""
    pixels = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 255, 0], [0, 0, 255], [128, 128, 128]]], np.uint8)
    y = protocol.channel(Image.fromarray(pixels)) * 255
    assert np.array_equal(y, np.array([[16, 235, 81, 145, 41, 126]], np.float32))   # 81.481, 144.553, 40.966, 125.929
    rgb = np.random.default_rng(1).integers(0, 256, (12, 12, 3), dtype=np.uint8).astype(np.float64)
    want = np.rint(16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255)
    assert np.array_equal(protocol.channel(Image.fromarray(rgb.astype(np.uint8))) * 255, want)
