"""srcnn.imaging: MATLAB-compatible resize and colour, PIL decoding rules."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from srcnn import imaging


def test_imresize_matches_matlab_hand_values_downscale_3_4():
    out = imaging.imresize(np.arange(16, dtype=np.float64).reshape(4, 4), 0.75)
    expected = [[0.7506, 2.1004, 3.4503], [6.1501, 7.5, 8.8499], [11.5497, 12.8996, 14.2494]]
    np.testing.assert_allclose(out, expected, atol=1e-3)


def test_imresize_matches_matlab_hand_values_downscale_1_3():
    out = imaging.imresize(np.arange(225, dtype=np.float64).reshape(15, 15), 1 / 3)
    assert out.shape == (5, 5)
    np.testing.assert_allclose(out[0], [14.4198, 17.5062, 20.5185, 23.5309, 26.6173], atol=1e-3)
    assert out[2, 2] == pytest.approx(112.0, abs=1e-3)


def _general(x: np.ndarray, out_h: int, out_w: int, sh: float, sw: float) -> np.ndarray:
    """The general gather-and-sum path on both axes (rows, then columns): the obvious form."""
    t = imaging._resize_axis_general(np.ascontiguousarray(x, np.float32), out_h, sh, axis=0)
    return imaging._resize_axis_general(t, out_w, sw, axis=1)


@settings(max_examples=25, deadline=None)
@given(h=st.integers(1, 40), w=st.integers(1, 40), s=st.sampled_from([2, 3, 4]), seed=st.integers(0, 2**16))
def test_integer_upscale_fast_path_equals_general_gather(h, w, s, seed):
    x = np.random.default_rng(seed).random((h, w, 3), dtype=np.float32)
    np.testing.assert_allclose(imaging.imresize(x, s), _general(x, h * s, w * s, s, s), atol=1e-5)


@settings(max_examples=25, deadline=None)
@given(bh=st.integers(1, 12), bw=st.integers(1, 12), s=st.sampled_from([2, 3, 4]), seed=st.integers(0, 2**16))
def test_integer_downscale_fast_path_equals_general_gather(bh, bw, s, seed):
    x = np.random.default_rng(seed).random((bh * s, bw * s, 1), dtype=np.float32)
    np.testing.assert_allclose(imaging.imresize(x, 1 / s), _general(x, bh, bw, 1 / s, 1 / s), atol=1e-5)


def matlab_imresize_reference(x: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB's imresize.m (bicubic, antialiasing), ported here line by line in float64 with
    loops and no code from srcnn: ``contributions`` per axis, rows first, then columns."""
    def cubic(t):
        a = abs(t)
        if a <= 1:
            return 1.5 * a ** 3 - 2.5 * a ** 2 + 1
        if a <= 2:
            return -0.5 * a ** 3 + 2.5 * a ** 2 - 4 * a + 2
        return 0.0

    def resize_axis(img, axis):
        n = img.shape[axis]
        out_n = int(np.ceil(n * scale))
        width = 4.0
        if scale < 1:
            kernel, width = (lambda t: scale * cubic(scale * t)), width / scale
        else:
            kernel = cubic
        aux = list(range(1, n + 1)) + list(range(n, 0, -1))        # symmetric padding, 1-based
        out = np.zeros(img.shape[:axis] + (out_n,) + img.shape[axis + 1:])
        for x in range(1, out_n + 1):
            u = x / scale + 0.5 * (1 - 1 / scale)
            left = int(np.floor(u - width / 2))
            taps = [left + k for k in range(int(np.ceil(width)) + 2)]
            w = np.array([kernel(u - j) for j in taps])
            w = w / w.sum()
            src = [aux[(j - 1) % len(aux)] - 1 for j in taps]
            acc = sum(wk * np.take(img, sk, axis=axis) for wk, sk in zip(w, src) if wk != 0)
            idx = [slice(None)] * img.ndim
            idx[axis] = x - 1
            out[tuple(idx)] = acc
        return out

    return resize_axis(resize_axis(np.asarray(x, np.float64), 0), 1)


@pytest.mark.parametrize("scale", [2, 3, 4, 1 / 2, 1 / 3, 1 / 4, 0.75, 1.5])
def test_imresize_equals_an_independent_port_of_imresize_m(scale):
    x = np.random.default_rng(7).random((25, 19)).astype(np.float32)
    want = matlab_imresize_reference(x, scale)
    got = imaging.imresize(x, scale)
    assert got.shape == want.shape
    assert np.abs(got - want).max() < 1e-6


def test_the_reference_port_reproduces_the_hand_values():
    ramp = np.arange(16, dtype=np.float64).reshape(4, 4)
    np.testing.assert_allclose(matlab_imresize_reference(ramp, 0.75)[0], [0.7506, 2.1004, 3.4503], atol=1e-4)


def test_imresize_keeps_constants_and_layout():
    x = np.full((7, 5), 0.3, np.float32)
    out = imaging.imresize(x, 3)
    assert out.shape == (21, 15)
    np.testing.assert_allclose(out, 0.3, atol=1e-6)
    assert imaging.imresize(np.ones((1, 1, 3)), 4).shape == (4, 4, 3)


def test_imresize_does_not_mutate_input():
    x = np.random.default_rng(0).random((9, 9, 3)).astype(np.float32)
    before = x.copy()
    imaging.imresize(x, 2)
    np.testing.assert_array_equal(x, before)


def test_ycbcr_matches_matlab_on_known_colours():
    # MATLAB: rgb2ycbcr([1 1 1]) = [235 128 128]/255, black = [16 128 128]/255, red Y = 81.481
    rgb = np.array([[[1, 1, 1], [0, 0, 0], [1, 0, 0]]], np.float32)
    ycc = imaging.rgb_to_ycbcr(rgb) * 255
    np.testing.assert_allclose(ycc[0, 0], [235, 128, 128], atol=1e-3)
    np.testing.assert_allclose(ycc[0, 1], [16, 128, 128], atol=1e-3)
    np.testing.assert_allclose(ycc[0, 2], [81.481, 90.203, 240.0], atol=1e-3)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.floats(0, 1, allow_nan=False, width=32), min_size=3, max_size=3))
def test_ycbcr_round_trip(rgb):
    x = np.array(rgb, np.float32).reshape(1, 1, 3)
    np.testing.assert_allclose(imaging.ycbcr_to_rgb(imaging.rgb_to_ycbcr(x)), x, atol=1e-5)


@settings(max_examples=30, deadline=None)
@given(st.integers(1, 40), st.integers(1, 40), st.integers(0, 2**32 - 1))
def test_ycbcr_of_views_and_in_place_matches_per_pixel_math(h, w, seed):
    x = np.random.default_rng(seed).random((h, 2 * w, 3)).astype(np.float32)
    view = x[:, ::2]                       # not contiguous: each band must still be converted right
    expected = view.astype(np.float64) @ imaging.RGB_TO_YCBCR.T + imaging.YCBCR_OFFSET
    np.testing.assert_allclose(imaging.rgb_to_ycbcr(view), expected, atol=1e-6)
    ycc = imaging.rgb_to_ycbcr(view)
    back = imaging.ycbcr_to_rgb(ycc, out=ycc)
    assert back is ycc
    np.testing.assert_allclose(back, view, atol=1e-5)
    strided = np.zeros((h, w, 6), np.float32)
    imaging.ycbcr_to_rgb(imaging.rgb_to_ycbcr(view), out=strided[:, :, ::2])   # any writable HWC view
    np.testing.assert_allclose(strided[:, :, ::2], view, atol=1e-5)
    assert not strided[:, :, 1::2].any()


@settings(max_examples=30, deadline=None)
@given(st.floats(0, 1, allow_nan=False, width=32))
def test_gray_luma_is_the_raw_gray_and_equal_rgb_is_bt601(g):
    gray = np.full((1, 1, 1), g, np.float32)
    rgb = np.full((1, 1, 3), g, np.float32)
    assert imaging.luma(gray)[0, 0] == pytest.approx(g, abs=1e-7)                 # papers: raw gray
    assert imaging.luma(rgb)[0, 0] == pytest.approx((16 + 219 * g) / 255, abs=1e-5)  # RGB: Y in 16..235
    np.testing.assert_allclose(imaging.gray_from_luma(imaging.luma(gray)), gray, atol=1e-7)


def test_modcrop_and_degrade_sizes():
    x = np.zeros((31, 17, 3), np.float32)
    assert imaging.modcrop(x, 3).shape == (30, 15, 3)
    assert imaging.degrade_array(x, 3).shape == (10, 5, 3)
    with pytest.raises(ValueError, match="too small"):
        imaging.degrade_array(np.zeros((2, 9, 3), np.float32), 3)


def _roundtrip(img: Image.Image, fmt: str = "PNG") -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, fmt)
    buf.seek(0)
    return Image.open(buf)


@pytest.mark.parametrize("mode,channels,has_alpha", [
    ("L", 1, False), ("LA", 1, True), ("RGB", 3, False), ("RGBA", 3, True),
    ("P", 3, False), ("CMYK", 3, False), ("1", 1, False), ("I;16", 1, False), ("I", 1, False),
])
def test_pil_modes_decode_by_the_documented_rule(mode, channels, has_alpha):
    img = Image.new("RGB", (6, 4), (200, 100, 50)).convert(mode)
    color, alpha = imaging.pil_to_arrays(img)
    assert color.shape == (4, 6, channels) and color.dtype == np.float32
    assert (alpha is not None) == has_alpha
    assert 0.0 <= color.min() and color.max() <= 1.0


def test_16bit_gray_is_scaled_by_65535():
    arr = np.array([[0, 65535, 32768]], np.uint16)
    img = Image.fromarray(arr)
    color, _ = imaging.pil_to_arrays(img)
    np.testing.assert_allclose(color[0, :, 0], [0, 1, 32768 / 65535], atol=1e-6)


def test_exif_rotation_is_applied():
    img = Image.new("RGB", (8, 4), (0, 0, 0))
    img.putpixel((0, 0), (255, 255, 255))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes(), quality=100)
    color, _ = imaging.pil_to_arrays(Image.open(io.BytesIO(buf.getvalue())))
    assert color.shape[:2] == (8, 4)  # upright: portrait


def test_arrays_to_pil_modes_and_rounding():
    c = np.array([[[0.5 / 255, 1.49 / 255, 2.0]]], np.float32)
    img = imaging.arrays_to_pil(c)
    assert img.mode == "RGB" and img.getpixel((0, 0)) == (0, 1, 255)
    assert imaging.arrays_to_pil(c[:, :, :1], np.ones((1, 1))).mode == "LA"
    assert imaging.arrays_to_pil(c, np.zeros((1, 1))).mode == "RGBA"


def test_8bit_rounding_is_nearest_level_clipped_halves_to_even():
    a = np.array([[-0.2, 0.0, 0.49 / 255, 0.5 / 255, 1.5 / 255, 2.51 / 255, 254.4 / 255, 1.0, 1.7]], np.float32)
    assert imaging.to_8bit(a).tolist() == [[0, 0, 0, 0, 2, 3, 254, 255, 255]]
    assert imaging.to_8bit(a).dtype == np.uint8
    r = imaging.round8(a)
    assert r.dtype == np.float32 and np.array_equal(r * 255, imaging.to_8bit(a).astype(np.float32))
    big = np.random.default_rng(0).uniform(-0.1, 1.1, (700, 600)).astype(np.float32)   # several row bands
    assert np.array_equal(imaging.to_8bit(big), np.clip(np.rint(big * np.float32(255)), 0, 255).astype(np.uint8))
    assert np.array_equal(imaging.round8(imaging.round8(big)), imaging.round8(big))


def test_degrade_pil_keeps_mode_family():
    assert imaging.degrade_image(Image.new("L", (9, 9), 7), 3).mode == "L"
    rgba = imaging.degrade_image(Image.new("RGBA", (9, 6), (1, 2, 3, 4)), 3)
    assert rgba.mode == "RGBA" and rgba.size == (3, 2)
