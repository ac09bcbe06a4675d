"""srcnn.pipeline: the public API (upscale, degrade, compare, psnr, ssim)."""

import math

import numpy as np
import pytest
from PIL import Image
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

import srcnn
from srcnn import cancel, factors, imaging, pipeline
from srcnn.weights import Checkpoint
from srcnn.tooling.data import VALIDATION

SCALE = 3  # the scale whose checkpoints are always bundled first


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return VALIDATION["chelsea"]().crop((100, 40, 220, 130))  # 120 x 90, a cat's face


@pytest.mark.parametrize("method", srcnn.METHODS)
def test_upscale_size_and_mode(photo, method):
    out = srcnn.upscale(photo, SCALE, method)
    assert out.size == (photo.width * SCALE, photo.height * SCALE) and out.mode == "RGB"


@pytest.mark.parametrize("method", ["srcnn", "residual"])
def test_tiled_upscale_equals_whole_image(photo, method):
    whole = np.asarray(srcnn.upscale(photo, SCALE, method), np.int16)
    for tile in (1 * 17, 64, 1000):
        tiled = np.asarray(srcnn.upscale(photo, SCALE, method, tile=tile), np.int16)
        diff = np.abs(tiled - whole)
        assert diff.max() <= 1 and (diff > 0).mean() < 1e-3  # a rare rounding flip at most


def test_grayscale_stays_grayscale_and_alpha_is_kept(photo):
    assert srcnn.upscale(photo.convert("L"), SCALE).mode == "L"
    rgba = photo.convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize(photo.size))
    out = srcnn.upscale(rgba, SCALE)
    assert out.mode == "RGBA"
    a_in, a_out = np.asarray(rgba.getchannel("A"), float), np.asarray(out.getchannel("A"), float)
    assert abs(a_out.mean() - a_in.mean()) < 2  # bicubic-upscaled alpha, same coverage


def test_gray_runs_the_network_on_raw_gray_close_to_the_rgb_path(photo):
    """A one-channel image is processed on its raw gray (as the papers' code does), not on
    16 + 219 g: the output differs from the RGB path's on the same content by a fraction of
    a level on average, and the gray path really is the network on the raw gray values."""
    g = photo.convert("L")
    via_gray = np.asarray(srcnn.upscale(g, SCALE), float)
    via_rgb = np.asarray(srcnn.upscale(g.convert("RGB"), SCALE), float)[:, :, 0]
    assert np.abs(via_gray - via_rgb).mean() < 0.5
    assert srcnn.psnr(Image.fromarray(via_gray.astype(np.uint8)), Image.fromarray(via_rgb.astype(np.uint8)), SCALE) > 35
    up = imaging.imresize(np.asarray(g, np.float32)[:, :, None] / 255, float(SCALE))[:, :, 0]
    net = pipeline.network_luma(up, "residual", SCALE)
    assert np.abs(via_gray - np.clip(np.rint(net * 255), 0, 255)).max() <= 1


def test_degrade_is_modcrop_then_bicubic(photo):
    odd = photo.crop((0, 0, 100, 89))
    lr = srcnn.degrade(odd, SCALE)
    assert lr.size == (33, 29)


def y_8bit(img: Image.Image) -> np.ndarray:
    """Y of MATLAB rgb2ycbcr on an 8-bit RGB image, on the 0..255 scale, written out here."""
    rgb = np.asarray(img.convert("RGB"), np.float64)
    return 16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255


def test_compare_reports_the_papers_metrics_measured_independently(photo):
    """compare's PSNR and SSIM equal scikit-image's on Y written out from its definition,
    ``scale`` px shaved, peak 255, Wang et al.'s Gaussian SSIM."""
    c = srcnn.compare(photo, SCALE)
    assert c.ground_truth.size == (120, 90) and c.low_res.size == (40, 30)
    assert "Y channel" in c.convention and "3 px" in c.convention
    s = slice(SCALE, -SCALE)
    gt = y_8bit(c.ground_truth)[s, s]
    for m in srcnn.METHODS:
        r = c.results[m]
        assert r.image.size == c.ground_truth.size
        out = y_8bit(r.image)[s, s]
        assert r.psnr == pytest.approx(peak_signal_noise_ratio(gt, out, data_range=255), abs=1e-4)
        assert r.ssim == pytest.approx(structural_similarity(gt, out, data_range=255, gaussian_weights=True, sigma=1.5,
                                                             use_sample_covariance=False), abs=1e-5)
        assert r.seconds > 0


def test_trained_networks_beat_bicubic_on_a_held_out_photo():
    c = srcnn.compare(VALIDATION["flower"](), SCALE)
    p = {m: r.psnr for m, r in c.results.items()}
    assert p["srcnn"] > p["bicubic"] + 0.3 and p["residual"] > p["bicubic"] + 0.3, p


@pytest.mark.parametrize("call, message", [
    (lambda im: srcnn.upscale(im, 9), "scale must be a number from 1.1 to 8, got 9"),
    (lambda im: srcnn.upscale(im, 1), "scale must be a number from 1.1 to 8, got 1"),
    (lambda im: srcnn.upscale(im, float("nan")), "scale must be a number from 1.1 to 8, got nan"),
    (lambda im: srcnn.upscale(im, "2"), "scale must be a number from 1.1 to 8, got '2'"),
    (lambda im: srcnn.upscale(im, True), "scale must be a number from 1.1 to 8, got True"),
    (lambda im: srcnn.upscale(im, 2.5, size=(0, 10)), r"size must be \(width, height\) in whole pixels >= 1"),
    (lambda im: srcnn.compare(im, 9), "scale must be a number from 1.1 to 8, got 9"),
    (lambda im: srcnn.upscale(im, 3, "lanczos"), "unknown method 'lanczos': choose one of bicubic, srcnn, residual"),
    (lambda im: srcnn.upscale(im, 3, tile=0), "tile must be None .* got 0"),
    (lambda im: srcnn.upscale(im, 3, tile=-4), "tile must be None .* got -4"),
    (lambda im: srcnn.upscale(Image.new("RGB", (0, 0)), 3), "the image is empty"),
    (lambda im: srcnn.upscale(np.zeros((4, 4)), 3), "expected a PIL image, got ndarray"),
    (lambda im: srcnn.degrade(im, 9), "scale must be a number from 1.1 to 8, got 9"),
    (lambda im: srcnn.degrade(Image.new("RGB", (2, 2)), 3), "too small to degrade by x3"),
    (lambda im: srcnn.compare(im, 0), "scale must be a number from 1.1 to 8, got 0"),
    (lambda im: srcnn.compare(Image.new("RGB", (6, 6)), 3), "too small to measure at x3: at least 7x7"),
    (lambda im: srcnn.compare(im, 3, methods=("srcnn", "vdsr")), "unknown method 'vdsr'"),
    (lambda im: srcnn.ground_truth(im, 0), "scale must be a number from 1.1 to 8, got 0"),
])
def test_bad_arguments_raise_value_error_saying_what_is_wrong(photo, call, message):
    with pytest.raises(ValueError, match=message):
        call(photo)


def test_methods_as_a_bare_string_means_that_one_method(photo):
    c = srcnn.compare(photo, SCALE, methods="srcnn")
    assert list(c.results) == ["srcnn"]


def test_one_pixel_image_upscales(photo):
    out = srcnn.upscale(Image.new("RGB", (1, 1), (10, 200, 30)), SCALE)
    assert out.size == (3, 3)
    assert np.abs(np.asarray(out, int) - [10, 200, 30]).max() <= 3


def test_inputs_are_not_mutated(photo):
    before = photo.tobytes()
    srcnn.compare(photo, SCALE)
    assert photo.tobytes() == before


# --------------------------------------------------------------------------- compare's shared work and stops

def test_compare_gives_upscales_pixels_and_each_result_once(photo):
    """compare's pictures are upscale's, pixel for pixel; pictures are handed out as they are final."""
    seen = []
    c = srcnn.compare(photo, SCALE, on_image=lambda name, img: seen.append((name, img)))
    assert [n for n, _ in seen] == ["ground truth", *srcnn.METHODS]
    assert seen[0][1] is c.ground_truth
    for m in srcnn.METHODS:
        assert np.array_equal(np.asarray(c.results[m].image), np.asarray(srcnn.upscale(c.low_res, SCALE, m)))
    assert set(c.timings) == {"ground truth", "degradation", "upscaling", "metrics"}
    assert c.timings["upscaling"] == pytest.approx(sum(r.seconds for r in c.results.values()))


def test_compare_computes_the_ground_truths_side_once(photo, monkeypatch):
    from srcnn import metrics
    stats, lumas = [], []
    real_stats, real_luma = metrics.local_statistics, metrics.luma_of_pixels
    monkeypatch.setattr(metrics, "local_statistics", lambda *a, **k: stats.append(1) or real_stats(*a, **k))
    monkeypatch.setattr(metrics, "luma_of_pixels", lambda px: lumas.append(px.shape) or real_luma(px))
    srcnn.compare(photo, SCALE)
    assert len(stats) == 1                      # the ground truth's SSIM statistics
    assert len(lumas) == 1 + len(srcnn.METHODS)  # its Y once, then each output's


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "P", "I;16", "CMYK"])
def test_ground_truth_is_the_decoded_rule_for_every_mode(photo, mode):
    """The shortcut for 8-bit images gives what decoding to 0..1 and rounding back gives."""
    img = photo.convert("RGBA" if mode in ("LA", "RGBA") else "RGB")
    if mode in ("LA", "RGBA"):
        img.putalpha(Image.linear_gradient("L").resize(img.size))
    img = img.convert(mode) if mode != "I;16" else Image.fromarray((np.asarray(photo.convert("L"), np.uint16) * 257))
    exif = Image.Exif()
    exif[0x0112] = 6                              # rotated: EXIF orientation is applied first
    img.info["exif"] = exif.tobytes()
    img.getexif()[0x0112] = 6
    color, alpha = imaging.pil_to_arrays(img)
    want = imaging.arrays_to_pil(imaging.modcrop(color, SCALE),
                                 None if alpha is None else imaging.modcrop(alpha, SCALE))
    got = srcnn.ground_truth(img, SCALE)
    assert got.mode == want.mode and got.size == want.size == (90, 120) and got.info == {}   # upright
    assert np.array_equal(np.asarray(got), np.asarray(want))


def test_a_check_that_raises_stops_compare_at_the_next_band(photo):
    """Inside cancellable(check), check() is called between stages and inside the long steps
    (tiles, bicubic passes, colour bands, metric bands): a raising one stops compare there."""
    calls = []

    def check():
        calls.append(1)

    with cancel.cancellable(check):
        srcnn.compare(photo, SCALE)
    total = len(calls)
    assert total > 10
    for stop_at in (1, total // 3, total - 1):
        calls.clear()

        def stopping():
            calls.append(1)
            if len(calls) == stop_at:
                raise RuntimeError("gone")

        with pytest.raises(RuntimeError, match="gone"), cancel.cancellable(stopping):
            srcnn.compare(photo, SCALE)
        assert len(calls) == stop_at


# --------------------------------------------------------------------------- any factor

def by_hand(photo: Image.Image, passes: list[tuple[tuple[int, int], object]]) -> np.ndarray:
    """The recipe written out: YCbCr of the 8-bit input, per pass MATLAB bicubic to the pass's
    (height, width) then the network on Y alone (one padded PyTorch pass), back to RGB, 8-bit."""
    import torch

    from srcnn.torch_models import torch_module
    ycc = imaging.rgb_to_ycbcr(np.asarray(photo.convert("RGB"), np.float32) / 255)
    for size, model in passes:
        ycc = imaging.imresize(ycc, size=size)
        if model is not None:
            with torch.no_grad():
                x = torch.from_numpy(np.pad(ycc[:, :, 0], model.radius, mode="symmetric"))[None, None]
                ycc[:, :, 0] = torch_module(model)(x)[0, 0].numpy()
    return np.clip(np.rint(imaging.ycbcr_to_rgb(ycc) * 255), 0, 255).astype(np.uint8)


def below_two(kind: str, factor: float):
    """The network a factor below 2 runs, by the rule srcnn.factors states: its anchor's own
    network where bundled (``<kind>-x1.5``), else the range network (x1.1-2)."""
    from srcnn import factors
    from srcnn.weights import bundled_pairs
    anchor = factors.network_scale(factor, kind)
    return pipeline.model_for(kind, anchor if (kind, anchor) in bundled_pairs() else "1.1-2")


def test_trained_factors_keep_their_exact_path(photo):
    for s in (2, 3, 4):
        assert np.array_equal(np.asarray(srcnn.upscale(photo, float(s))), np.asarray(srcnn.upscale(photo, s)))


@pytest.mark.parametrize("factor", [1.5, 2.5, 5])
def test_any_factor_is_the_recipe_with_the_measured_networks(photo, factor):
    """x1.5: its anchor's network, else the range network; x2.5: the x2 network; x5: x2 with the
    x2 network, then x2.5 with the x2 network (srcnn.factors.plan). MATLAB's ceil size; within one
    level of the recipe written out (ONNX Runtime and PyTorch sum in another order)."""
    w, h = photo.size
    out_size = (-(-int(h * factor * 1000) // 1000), -(-int(w * factor * 1000) // 1000))
    models = {2: pipeline.model_for("residual", 2), 1.5: below_two("residual", 1.5)}
    passes = {1.5: [(out_size, models[1.5])], 2.5: [(out_size, models[2])],
              5: [((2 * h, 2 * w), models[2]), (out_size, models[2])]}[factor]
    got = np.asarray(srcnn.upscale(photo, factor, "residual"))
    assert got.shape[:2] == out_size
    assert np.abs(got.astype(int) - by_hand(photo, passes)).max() <= 1
    bicubic = np.asarray(srcnn.upscale(photo, factor, "bicubic"))         # MATLAB bicubic on RGB itself
    rgb = imaging.imresize(np.asarray(photo, np.float32) / 255, size=out_size)
    assert np.array_equal(bicubic, np.clip(np.rint(rgb * 255), 0, 255).astype(np.uint8))


def test_a_target_size_and_a_network_below_x2(photo):
    out = srcnn.upscale(photo, 1.6, "srcnn", size=(200, 150))
    assert out.size == (200, 150)
    want = by_hand(photo, [((150, 200), below_two("srcnn", 1.6))])
    assert np.abs(np.asarray(out).astype(int) - want).max() <= 1


def test_progress_of_a_two_pass_factor_only_grows(photo):
    """x5 runs two passes; their tiles are reported as one count that never goes back, so a
    progress bar (the app's) is not taken for the next method."""
    seen = []
    srcnn.upscale(photo, 5, "residual", tile=128, progress=lambda done, total: seen.append(done / total))
    assert len(seen) >= 2 and seen == sorted(seen) and seen[-1] == 1.0 and seen[0] <= 0.5


@pytest.mark.parametrize("factor", [1.5, 2.5, 3.5])
def test_compare_at_any_factor_degrades_to_an_exact_size_and_measures_every_method(photo, factor):
    """Benchmark at any factor: the ground truth cropped to a multiple of the factor's numerator,
    the low-res image exactly 1/factor of it, every output the ground truth's size, the metrics
    with ceil(factor) px shaved, and the upscaling the same as srcnn.upscale on that low-res image."""
    from srcnn import factors
    c = srcnn.compare(photo, factor)
    multiple = factors.crop_multiple(factor)
    assert c.ground_truth.width % multiple == 0 and c.ground_truth.height % multiple == 0
    assert c.low_res.width * factor == pytest.approx(c.ground_truth.width)
    assert c.low_res.height * factor == pytest.approx(c.ground_truth.height)
    assert f"{math.ceil(factor)} px border shaved" in c.convention
    for method, result in c.results.items():
        assert result.image.size == c.ground_truth.size
        again = srcnn.upscale(c.low_res, factor, method)
        assert np.array_equal(np.asarray(again), np.asarray(result.image))
        want = srcnn.psnr(result.image, c.ground_truth, border=math.ceil(factor))
        assert result.psnr == pytest.approx(want, abs=1e-4)
    assert c.results["residual"].psnr > c.results["bicubic"].psnr


# ----------------------------------------------------------------------------- JPEG inputs

def as_jpeg_file(img: Image.Image, quality: int) -> Image.Image:
    import io
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return Image.open(buf)


def test_input_of_reads_the_file_and_settings_override_it(photo):
    low, high = as_jpeg_file(photo, 50), as_jpeg_file(photo, 98)
    assert pipeline.input_of(low) == pipeline.Input(50, "file", True)
    assert pipeline.input_of(high) == pipeline.Input(98, "file", False)          # above CLEAN_FROM_QUALITY
    assert pipeline.input_of(photo) == pipeline.Input(None, "file", False)       # not a JPEG file
    assert pipeline.input_of(low, "clean").compressed is False
    assert pipeline.input_of(photo, "compressed").compressed is True
    assert pipeline.input_of(photo, 40) == pipeline.Input(40, "setting", True)
    assert "JPEG quality 50 (from the file)" in pipeline.input_of(low).describe()
    assert "compressed" in pipeline.input_of(low).describe() and "clean" in pipeline.input_of(high).describe()


@pytest.mark.parametrize("bad", ["jpeg", "", 0, 101, 2.5])
def test_jpeg_setting_is_checked(photo, bad):
    with pytest.raises(ValueError):
        srcnn.upscale(photo, 2, jpeg=bad)


@pytest.mark.parametrize("kind", ["srcnn", "residual"])
def test_a_jpeg_file_is_served_by_the_networks_for_compressed_inputs(photo, kind):
    lr = as_jpeg_file(srcnn.degrade(photo, 2), 60)
    auto = np.asarray(srcnn.upscale(lr, 2, kind))
    assert np.array_equal(auto, np.asarray(srcnn.upscale(lr, 2, kind, jpeg="compressed")))
    assert not np.array_equal(auto, np.asarray(srcnn.upscale(lr, 2, kind, jpeg="clean")))
    png = srcnn.degrade(photo, 2)
    assert np.array_equal(np.asarray(srcnn.upscale(png, 2, kind)),
                          np.asarray(srcnn.upscale(png, 2, kind, jpeg="clean")))


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_the_compressed_networks_are_bundled_at_the_trained_factors(scale):
    for kind in srcnn.KINDS:
        [(_, checkpoint)] = factors.serving(kind, scale, compressed=True)
        assert checkpoint == Checkpoint(kind, scale, compressed=True)
        net = pipeline.network(checkpoint)
        assert net is pipeline.model_for(kind, scale, compressed=True) and net.scale == scale
        assert net is not pipeline.model_for(kind, scale)


def test_compare_can_save_the_low_res_image_as_jpeg(photo):
    clean = srcnn.compare(photo, 2, methods=("bicubic",))
    c = srcnn.compare(photo, 2, methods=("bicubic",), jpeg_quality=40)
    want = pipeline.compressed_image(srcnn.degrade(c.ground_truth, 2), 40)
    assert np.array_equal(np.asarray(c.low_res), np.asarray(want))
    assert c.input == pipeline.Input(40, "benchmark", True) and clean.input.quality is None
    assert "JPEG quality 40 (the low-res image saved so)" in c.input.describe()
    assert c.results["bicubic"].psnr < clean.results["bicubic"].psnr
    rgba = srcnn.compare(photo.convert("RGBA"), 2, methods=("bicubic",), jpeg_quality=40)
    assert rgba.low_res.mode == "RGBA"
