"""srcnn.metrics: the papers' PSNR / SSIM conventions."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from skimage.metrics import structural_similarity

from srcnn import cancel, metrics
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


# --------------------------------------------------------------------------- exactness, shared work, bands

def y_float64(pixels: np.ndarray) -> np.ndarray:
    """Y on 0..255 of 8-bit pixels in float64, written out: raw gray, or MATLAB rgb2ycbcr's Y."""
    p = np.asarray(pixels, np.float64)
    if p.ndim == 2:
        return p
    return 16 + (65.481 * p[..., 0] + 128.553 * p[..., 1] + 24.966 * p[..., 2]) / 255


def reference_psnr_ssim(a: np.ndarray, b: np.ndarray, border: int) -> tuple[float, float]:
    """The float64 reference: PSNR written out, SSIM by scikit-image with Wang et al.'s convention."""
    s = slice(border, -border) if border else slice(None)
    x, y = a[s, s], b[s, s]
    mse = np.mean((x - y) ** 2)
    p = math.inf if mse == 0 else 10 * math.log10(255 ** 2 / mse)
    return p, structural_similarity(x, y, gaussian_weights=True, sigma=1.5, use_sample_covariance=False,
                                    data_range=255)


def pixel_pair(seed: int, h: int, w: int, channels: int, bright: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Two 8-bit images (HW for one channel): a photo-like one and a noisy copy; ``bright``: nearly
    flat near white, where float32 statistics lose their digits (var = E[x^2] - mu^2)."""
    rng = np.random.default_rng(seed)
    shape = (h, w) if channels == 1 else (h, w, channels)
    if bright:
        a = 250 + rng.integers(0, 4, shape)
        b = np.clip(a + rng.integers(-1, 2, shape), 0, 255)
    else:
        a = rng.integers(0, 256, shape)
        b = np.clip(a + rng.normal(0, 9, shape), 0, 255)
    return a.astype(np.uint8), b.astype(np.uint8)


CASES = [  # (height, width, channels, border, bright)
    (37, 41, 3, 3, False), (41, 37, 1, 2, False), (57, 64, 3, 0, False), (11, 11, 3, 0, False),
    (17, 17, 3, 3, True), (17, 19, 1, 3, True), (12, 23, 3, 0, True), (301, 213, 3, 4, False),
    (300, 257, 1, 4, True),
]


@pytest.mark.parametrize("h, w, channels, border, bright", CASES)
def test_every_entry_point_equals_the_float64_reference(h, w, channels, border, bright):
    """Odd sizes, gray, borders, the 11 x 11 minimum, near-white flat images: PSNR within 1e-4 dB and
    SSIM within 1e-5 of the float64 reference, through every way in."""
    a8, b8 = pixel_pair(h * w + border, h, w, channels, bright)
    want_p, want_s = reference_psnr_ssim(y_float64(a8), y_float64(b8), border)
    ref = metrics.Reference.from_pixels(a8, border)
    got = {"pixels": ref.measure_pixels(b8),
           "PIL": (metrics.psnr(Image.fromarray(b8), Image.fromarray(a8), border),
                   metrics.ssim(Image.fromarray(a8), Image.fromarray(b8), border)),
           "_y": (metrics.psnr_y(y_float64(a8) / 255, y_float64(b8) / 255, border),
                  metrics.ssim_y(y_float64(a8) / 255, y_float64(b8) / 255, border))}
    for way, (p, s) in got.items():
        assert p == pytest.approx(want_p, abs=1e-4), way
        assert s == pytest.approx(want_s, abs=1e-5), way


def test_luma_of_pixels_is_the_written_out_formula_and_refuses_other_data():
    a8, _ = pixel_pair(3, 9, 7, 3)
    assert np.abs(metrics.luma_of_pixels(a8) - y_float64(a8)).max() < 1e-12
    rgba = np.concatenate([a8, np.full((9, 7, 1), 17, np.uint8)], axis=2)
    assert np.array_equal(metrics.luma_of_pixels(rgba), metrics.luma_of_pixels(a8))   # alpha ignored
    la = np.stack([a8[..., 0], a8[..., 1]], axis=2)
    assert np.array_equal(metrics.luma_of_pixels(la), a8[..., 0].astype(float))       # gray: raw gray
    with pytest.raises(ValueError, match="8-bit pixels"):
        metrics.luma_of_pixels(a8.astype(np.float32))


def test_the_ground_truths_statistics_are_computed_once(monkeypatch):
    calls = []
    real = metrics.local_statistics
    monkeypatch.setattr(metrics, "local_statistics", lambda *a, **k: calls.append(1) or real(*a, **k))
    a8, b8 = pixel_pair(0, 40, 50, 3)
    ref = metrics.Reference.from_pixels(a8, 3)
    first = ref.measure_pixels(b8)
    assert ref.measure_pixels(b8) == first and ref.ssim(metrics.luma_of_pixels(b8) / 255) == pytest.approx(first[1])
    assert len(calls) == 1


def test_bands_and_threads_do_not_change_the_value(monkeypatch):
    """The threads never change a value (bands are summed in order); the band size changes only
    the order of the final sum (float64 rounding)."""
    a8, b8 = pixel_pair(5, 203, 190, 3)
    want = metrics.Reference.from_pixels(a8, 3).measure_pixels(b8)
    for band_px in (1, 500, 777, 1 << 30):
        monkeypatch.setattr(metrics, "BAND_PX", band_px)
        values = set()
        for threads in (1, 2, 3):
            monkeypatch.setattr(metrics, "THREADS", threads)
            monkeypatch.setattr(metrics, "_helper_pool", None)
            values.add(metrics.Reference.from_pixels(a8, 3).measure_pixels(b8))
        assert len(values) == 1
        assert values.pop() == pytest.approx(want, abs=1e-14)


def test_a_raising_check_stops_the_measurement_between_bands(monkeypatch):
    monkeypatch.setattr(metrics, "BAND_PX", 1000)
    a8, b8 = pixel_pair(6, 300, 100, 3)
    ref = metrics.Reference.from_pixels(a8, 2)
    calls = []

    def check():
        calls.append(1)
        if len(calls) > 3:
            raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"), cancel.cancellable(check):
        ref.measure_pixels(b8)
    assert len(calls) == 4                           # stopped at the 4th check, not at the end
    calls.clear()
    with pytest.raises(RuntimeError, match="stop"), cancel.cancellable(check):
        metrics.ssim(Image.fromarray(a8), Image.fromarray(b8), 2)
    assert len(calls) == 4
    assert ref.measure_pixels(b8) == metrics.Reference.from_pixels(a8, 2).measure_pixels(b8)   # works on after
