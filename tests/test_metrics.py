"""srcnn.metrics: the papers' PSNR / SSIM conventions."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage.metrics import structural_similarity

from srcnn import metrics
from srcnn.imaging import luma


def test_identical_images_give_infinite_psnr_and_ssim_one():
    y = np.random.default_rng(0).random((20, 20)).astype(np.float32)
    assert metrics.psnr_y(y, y, border=3) == math.inf
    assert metrics.ssim_y(y, y, border=3) == pytest.approx(1.0)


def test_offset_of_one_level_is_48_13_db():
    y = np.full((16, 16), 100 / 255, np.float32)
    assert metrics.psnr_y(y, y + 1 / 255, border=2) == pytest.approx(48.1308, abs=1e-3)


def test_border_is_shaved_before_measuring():
    a = np.zeros((10, 10), np.float32)
    b = a.copy()
    b[0, :] = 1.0  # error only in the top row
    assert metrics.psnr_y(a, b, border=1) == math.inf
    assert metrics.psnr_y(a, b, border=0) < 20
    assert metrics.psnr(a, b, border=1) == math.inf            # the public name, same argument
    assert metrics.psnr(a, b, border=0) < 20


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), border=st.integers(0, 4))
def test_ssim_matches_skimage_wang_convention(seed, border):
    rng = np.random.default_rng(seed)
    a = rng.random((40, 37)).astype(np.float32)
    b = np.clip(a + rng.normal(0, 0.05, a.shape), 0, 1).astype(np.float32)
    sl = slice(border, -border) if border else slice(None)
    ref = structural_similarity(a[sl, sl] * 255.0, b[sl, sl] * 255.0, gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, data_range=255)
    assert metrics.ssim_y(a, b, border=border) == pytest.approx(ref, abs=1e-6)


def test_psnr_on_pil_uses_luma_and_rgb_option_differs():
    a = Image.new("RGB", (12, 12), (100, 120, 140))
    b = Image.new("RGB", (12, 12), (110, 120, 140))  # red +10 levels
    y_diff = 65.481 / 255 * 10  # luma difference in 8-bit levels
    assert metrics.psnr(a, b, 2) == pytest.approx(20 * math.log10(255 / y_diff), abs=1e-3)
    assert metrics.psnr(a, b, 2, channel="rgb") == pytest.approx(10 * math.log10(255**2 / (100 / 3)), abs=1e-3)
    with pytest.raises(ValueError, match="channel"):
        metrics.psnr(a, b, 2, channel="lab")


def test_psnr_is_computed_on_unrounded_float_luma():
    """Y differences below half a level count: rounding Y to 8 bits first would give inf here."""
    a = np.full((8, 8, 3), 0.5, np.float32)
    b = a + np.float32(0.3 / 255)                        # Y moves by 0.3 * 219 / 255 levels
    d = 0.3 * 219 / 255
    assert luma(a)[0, 0] * 255 == pytest.approx(16 + 219 * 0.5, abs=1e-4)  # 125.5: not rounded
    assert metrics.psnr(a, b, 2) == pytest.approx(20 * math.log10(255 / d), abs=1e-3)


def test_psnr_and_ssim_refuse_what_they_cannot_measure():
    a = np.random.default_rng(0).random((20, 20, 3)).astype(np.float32)
    with pytest.raises(ValueError, match="uint8 array"):
        metrics.psnr((a * 255).astype(np.uint8), a, 2)
    with pytest.raises(ValueError, match="values must lie in 0..1"):
        metrics.ssim(a * 255, a * 255, 2)
    with pytest.raises(ValueError, match="C = 1 or 3"):
        metrics.psnr(np.zeros((20, 20, 4), np.float32), np.zeros((20, 20, 4), np.float32), 2)
    with pytest.raises(ValueError, match="images differ"):
        metrics.psnr(a, a[:, :, :1], 2)
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(a[:12, :12], a[:12, :12], 3)          # 6x6 left after shaving
    assert metrics.ssim(a[:17, :17], a[:17, :17], 3) == pytest.approx(1.0)


def test_gray_images_are_measured_on_their_gray_values():
    rng = np.random.default_rng(1)
    g = rng.random((16, 16, 1)).astype(np.float32)
    h = np.clip(g + rng.normal(0, 0.02, g.shape).astype(np.float32), 0, 1)
    mse = np.mean(((g - h) * 255.0)[2:-2, 2:-2].astype(np.float64) ** 2)
    assert metrics.psnr(g, h, 2) == pytest.approx(10 * math.log10(255 ** 2 / mse), abs=1e-4)


def test_size_mismatch_and_too_small_raise():
    with pytest.raises(ValueError, match="differ in size"):
        metrics.psnr_y(np.zeros((4, 4)), np.zeros((4, 5)))
    with pytest.raises(ValueError, match="too small"):
        metrics.psnr_y(np.zeros((6, 6)), np.zeros((6, 6)), border=3)
