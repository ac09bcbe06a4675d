"""app.py through gradio_client against the real app on a local port, as an API user sees it."""

from __future__ import annotations

import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError
from PIL import Image

import app
import srcnn
from srcnn import cancel, factors
from srcnn.study import insight
from ui import common, compare, study as study_view, views

EXAMPLE = Path(common.EXAMPLES_DIR) / "chelsea.png"
SCALE = 3  # weights for x3 are bundled; x2 and x4 arrive with training


@pytest.fixture(scope="module")
def client(live_app):
    c = Client(live_app.local_url, verbose=False)
    yield c
    c.close()


def call(client: Client, path: Path, scale=SCALE, mode="Benchmark"):
    return client.predict(handle_file(str(path)), scale, mode, api_name="/compare")


def photo(size=(64, 48), seed=0) -> Image.Image:
    """A smooth random colour image: something a network has to work on."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[1] // 8 + 1, size[0] // 8 + 1, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares width x height but holds no pixels: a decompression-bomb stand-in."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------- results

def test_api_lists_the_compare_and_study_endpoints(client):
    endpoints = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    assert "/compare" in endpoints and "/inside_study" in endpoints
    params = endpoints["/inside_study"]["parameters"]
    assert [p["parameter_name"] for p in params] == ["image", "scale", "seams", "network"]
    # each output under its name (ui.compare.API_OUTPUTS, ui.study.OUTPUT_NAMES), in the order API callers get
    compared = dict(zip(compare.API_OUTPUTS, endpoints["/compare"]["returns"], strict=True))
    assert compared["first"]["label"].startswith("Ground truth") and compared["table"]["label"] == "Metrics"
    assert [compared[m]["label"] for m in srcnn.METHODS] == [f"{app.METHOD_LABELS[m]} (PNG, full resolution)"
                                                             for m in srcnn.METHODS]
    studied = dict(zip(study_view.OUTPUT_NAMES, endpoints["/inside_study"]["returns"], strict=True))
    assert studied["psnr_table"]["label"].startswith("PSNR-Y") and studied["gain_curve"]["component"] == "Lineplot"
    assert studied["seam_crops"]["label"].startswith("Zoomed across one seam") and studied["adds"]["label"].startswith(
        "Output - bicubic")
    assert [studied[f"early_{k}"]["label"] for k in srcnn.KINDS] == [f"{app.METHOD_LABELS[k]} snapshots"
                                                                      for k in srcnn.KINDS]
    assert [studied[n]["label"] for n in ("ground_truth", "exact", "original", "overlap_removed")] == [
        "Ground truth", *(f"{label} stitching" for label in app.STITCHINGS.values())]


def test_benchmark_returns_four_pngs_and_psnrs_of_srcnn_compare(client):
    first, bicubic, sr, residual, table, note = call(client, EXAMPLE)
    expected = srcnn.compare(Image.open(EXAMPLE), SCALE)
    gt = Image.open(first)
    assert gt.size == expected.ground_truth.size
    rows = {row[0]: row for row in table["data"]}
    assert table["headers"] == ["Method", "PSNR (dB)", "Gain (dB)", "SSIM", "Time (s)"]
    for method, path in zip(srcnn.METHODS, (bicubic, sr, residual)):
        out = Image.open(path)
        assert out.format == "PNG" and out.size == gt.size
        row = rows[app.METHOD_LABELS[method]]
        assert row[1] == pytest.approx(expected.results[method].psnr, abs=1e-6)
        gain = expected.results[method].psnr - expected.results["bicubic"].psnr
        assert row[2] == pytest.approx(gain, abs=1e-6)                 # each method's gain over bicubic
        assert row[3] == pytest.approx(expected.results[method].ssim, abs=1e-6)
        # the downloaded PNG is the measured image: lossless, so its PSNR is the table's
        assert srcnn.psnr(out, gt, SCALE) == pytest.approx(row[1], abs=1e-6)
    assert "3 px border shaved" in note and "Y channel" in note


def test_best_psnr_is_highlighted_and_the_fastest_is_marked_differently(client):
    *_, table, note = call(client, EXAMPLE)
    psnrs = [row[1] for row in table["data"]]
    times = [row[4] for row in table["data"]]
    styles = table["metadata"]["styling"]
    best, fastest = int(np.argmax(psnrs)), int(np.argmin(times))
    assert best != fastest                                   # the networks are slower than bicubic
    assert "bold" in styles[best][1] and "bold" in styles[best][2]     # PSNR and gain
    assert all("bold" not in styles[i][1] for i in range(len(psnrs)) if i != best)
    assert styles[fastest][4] and styles[fastest][4] != styles[best][1] and "italic" in styles[fastest][4]
    assert "bold" not in styles[fastest][4]
    assert "Best quality in bold on green; fastest in italics on blue" in note


def test_upscale_mode_says_no_ground_truth(client, tmp_path):
    path = tmp_path / "small.png"
    photo((40, 30)).save(path)
    first, bicubic, sr, residual, table, note = call(client, path, mode="Upscale")
    assert Image.open(first).size == (40, 30)
    assert all(Image.open(p).size == (120, 90) for p in (bicubic, sr, residual))
    assert "PSNR (dB)" not in table["headers"]
    assert "no ground truth" in note.lower()


def test_a_jpeg_upload_is_served_by_its_quality_read_from_the_file(client, tmp_path):
    src = srcnn.degrade(Image.open(EXAMPLE).crop((60, 40, 220, 160)), 2)
    jpg, png = tmp_path / "phone.jpg", tmp_path / "phone.png"
    src.save(jpg, quality=75)
    src.save(png)
    *_, residual, _table, note = call(client, jpg, 2, "Upscale")
    assert "JPEG quality 75 (from the file): networks trained for compressed inputs" in note
    assert "network trained at x2 for compressed (JPEG) inputs" in note
    with Image.open(jpg) as im:
        want = srcnn.upscale(im, 2, "residual", jpeg="compressed")
    assert np.array_equal(np.asarray(Image.open(residual)), np.asarray(want))
    src.save(jpg, quality=90)                  # a high quality: the band's share of the clean network mixed in
    *_, residual, _table, note = call(client, jpg, 2, "Upscale")
    assert f"with {factors.compressed_share('residual', 2, 90):.0%} of the clean network's weights mixed in" in note
    with Image.open(jpg) as im:
        assert np.array_equal(np.asarray(Image.open(residual)), np.asarray(srcnn.upscale(im, 2, "residual")))
    *_, residual, _table, note = call(client, png, 2, "Upscale")
    assert "Not a JPEG file: the networks trained on clean inputs" in note
    assert np.array_equal(np.asarray(Image.open(residual)), np.asarray(srcnn.upscale(src, 2, "residual")))
    *_, note = client.predict(handle_file(str(jpg)), 2, "Upscale", "PNG (clean)", "Clean", api_name="/compare")
    assert "Clean input (as set)" in note


def test_benchmark_can_save_the_low_res_input_as_jpeg(client):
    clean = client.predict(handle_file(str(EXAMPLE)), 2, "Benchmark", "PNG (clean)", "Auto", api_name="/compare")
    jpeg = client.predict(handle_file(str(EXAMPLE)), 2, "Benchmark", "JPEG 50", "Auto", api_name="/compare")
    assert "JPEG quality 50" in jpeg[-1] and "compressed inputs" in jpeg[-1] and "kept clean" in clean[-1]
    assert "saved as a JPEG at quality 50" in jpeg[-1]
    rows = {tuple(r)[0]: r for r in jpeg[4]["data"]}
    want = srcnn.compare(Image.open(EXAMPLE), 2, jpeg_quality=50)
    bicubic_psnr = float(rows["Bicubic"][1])
    assert bicubic_psnr == pytest.approx(want.results["bicubic"].psnr, abs=0.01)
    assert float(rows["Residual SRCNN"][1]) == pytest.approx(want.results["residual"].psnr, abs=0.01)
    assert bicubic_psnr < float({tuple(r)[0]: r for r in clean[4]["data"]}["Bicubic"][1])


@pytest.mark.parametrize("field, value", [(3, "JPEG 77"), (4, "x" * 5000)])
def test_jpeg_settings_out_of_their_choices_are_refused_shortly(client, field, value):
    args = [handle_file(str(EXAMPLE)), 2, "Benchmark", "PNG (clean)", "Auto"]
    args[field] = value
    with pytest.raises(AppError) as e:
        client.predict(*args, api_name="/compare")
    assert ("Low-res input" if field == 3 else "Networks") in str(e.value) and len(str(e.value)) < 500


@pytest.mark.parametrize("factor, size", [("2.5", (100, 75)), (1.5, (60, 45)), ("x5", (200, 150))])
def test_upscale_mode_takes_any_factor(client, tmp_path, factor, size):
    """Upscale mode: any factor from 1.1 to 8, MATLAB's ceil size; the outputs equal srcnn.upscale's."""
    path = tmp_path / "small.png"
    photo((40, 30)).save(path)
    first, bicubic, sr, residual, table, note = call(client, path, scale=factor, mode="Upscale")
    assert all(Image.open(p).size == size for p in (bicubic, sr, residual))
    want = srcnn.upscale(Image.open(path), float(str(factor).lstrip("x")), "residual")
    assert np.array_equal(np.asarray(Image.open(residual)), np.asarray(want))
    assert "Networks at x" in note and "docs/results.md" in note


@pytest.mark.parametrize("scale, mode, message", [
    (9, "Benchmark", "Scale must be a factor from 1.1 to 8 .*got '9'"),
    (9, "Upscale", "factor from 1.1 to 8"), ("1", "Upscale", "factor from 1.1 to 8"),
    ("abc", "Upscale", "factor from 1.1 to 8.*got 'abc'"), ("", "Upscale", "factor from 1.1 to 8.*the box is empty")])
def test_factor_out_of_range_is_refused_with_the_allowed_range(client, tmp_path, scale, mode, message):
    path = tmp_path / "small.png"
    photo((40, 30)).save(path)
    with pytest.raises(AppError, match=message):
        call(client, path, scale=scale, mode=mode)


def test_benchmark_takes_any_factor(client):
    """Benchmark at x2.5: the upload degraded by 2.5 and measured, as srcnn.compare does."""
    try:
        expected = srcnn.compare(Image.open(EXAMPLE), 2.5)
    except ValueError as e:          # srcnn.compare before it took any factor
        pytest.skip(f"srcnn.compare does not take x2.5 yet: {e}")
    first, bicubic, sr, residual, table, note = call(client, EXAMPLE, scale="2.5")
    assert Image.open(first).size == expected.ground_truth.size
    rows = {row[0]: row for row in table["data"]}
    for method in srcnn.METHODS:
        assert rows[app.METHOD_LABELS[method]][1] == pytest.approx(expected.results[method].psnr, abs=1e-6)
    assert "Benchmark, x2.5" in note and "Networks at x2.5" in note


def test_downloads_are_named_for_what_they_are(client, tmp_path):
    path = tmp_path / "garden.png"
    photo((40, 30)).save(path)
    files = call(client, path, scale="x2.5", mode="Upscale")[:4]
    assert [Path(f).name for f in files] == ["garden_x2.5_input.png", "garden_x2.5_bicubic.png",
                                             "garden_x2.5_srcnn.png", "garden_x2.5_residual.png"]
    files = call(client, EXAMPLE)[:4]
    assert [Path(f).name for f in files] == ["chelsea_x3_ground-truth.png", "chelsea_x3_bicubic.png",
                                             "chelsea_x3_srcnn.png", "chelsea_x3_residual.png"]


def test_methods_that_gave_the_same_pixels_show_one_row():
    """A factor no network serves: the three outputs are bicubic's pixels, so one row says so."""
    img = photo((44, 33))
    rows = [{"Method": app.METHOD_LABELS[m], "Time (s)": t, "Output size": "44x33"}
            for m, t in zip(srcnn.METHODS, (0.01, 0.005, 0.02))]
    outcome = compare.Outcome("Upscale", 1.1, photo((40, 30)), {m: img.copy() for m in srcnn.METHODS},
                              compare.pd.DataFrame(rows))
    shown = compare.one_row_if_same(outcome)
    assert len(shown.table) == 1 and "all three" in shown.table.iloc[0]["Method"]
    assert "One row" in compare.note_markdown(shown, ())
    different = compare.Outcome("Upscale", 1.1, photo((40, 30)),
                                {m: photo((44, 33), seed=i) for i, m in enumerate(srcnn.METHODS)},
                                compare.pd.DataFrame(rows))
    assert len(compare.one_row_if_same(different).table) == 3


def test_two_concurrent_requests_both_succeed(client):
    results, errors = [], []

    def one():
        try:
            results.append(call(client, EXAMPLE))
        except Exception as e:  # noqa: BLE001 - collected and asserted below
            errors.append(e)

    threads = [threading.Thread(target=one) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors and len(results) == 2
    psnrs = [[row[1] for row in r[4]["data"]] for r in results]
    assert psnrs[0] == psnrs[1]


# --------------------------------------------------------------------------- bad input

def write(tmp_path: Path, name: str, make) -> Path:
    path = tmp_path / name
    make(path)
    return path


REFUSED = {
    "not an image": ("notes.png", lambda p: p.write_text("hello, not a picture"), "is not an image"),
    "empty file": ("empty.png", lambda p: p.write_bytes(b""), "is empty"),
    "1x1": ("dot.png", lambda p: Image.new("RGB", (1, 1)).save(p), "too small"),
    "too large": ("big.png", lambda p: Image.new("L", (4200, 4200)).save(p), "too large"),   # 17.6 MP
    "decompression bomb": ("bomb.png", lambda p: p.write_bytes(png_header_only(30000, 30000)),
                           "decompression bomb"),
    "truncated": ("cut.png", lambda p: p.write_bytes(_png_bytes()[:300]), "could not be decoded"),
}


def _png_bytes() -> bytes:
    import io
    buf = io.BytesIO()
    photo((64, 64)).save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.parametrize("case", list(REFUSED))
def test_bad_upload_gets_a_clear_message(client, tmp_path, case):
    name, make, message = REFUSED[case]
    with pytest.raises(AppError, match=message):
        call(client, write(tmp_path, name, make))


@pytest.mark.parametrize("scale", [8.5, 1, "x17", "abc", None])
def test_scale_not_allowed(client, scale):
    with pytest.raises(AppError, match="Scale must be a factor from 1.1 to 8"):
        call(client, EXAMPLE, scale=scale)


def test_each_mode_has_its_limit_and_upscale_names_the_largest_factor_that_fits(client, tmp_path):
    """Benchmark bounds the ground truth (16.8 MP), Upscale the output (50.3 MP): srcnn.uploads."""
    path = write(tmp_path, "mid.png", lambda p: Image.new("RGB", (3000, 2400)).save(p))
    with pytest.raises(AppError, match=r"x3 output would be 9000x7200.*largest factor that fits is x2\.6\b"):
        call(client, path, mode="Upscale")      # 2.6: 7800x6240 (48.7 MP); 2.7: 8100x6480 (52.5 MP)
    path = write(tmp_path, "huge.png", lambda p: Image.new("L", (4200, 4200)).save(p))
    with pytest.raises(AppError, match=r"the ground truth would be 4200x4200 \(17\.6 MP\): too large"):
        call(client, path)


def _animated(p: Path) -> None:
    frames = [photo((48, 48), seed=s).convert("P") for s in range(3)]
    frames[0].save(p, save_all=True, append_images=frames[1:], duration=100, loop=0)


def _exif_rotated(p: Path) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    photo((64, 48)).save(p, "JPEG", exif=exif)


def _transparent(p: Path) -> None:
    img = photo((48, 48)).convert("RGBA")
    img.putalpha(Image.linear_gradient("L").resize((48, 48)))
    img.save(p)


def _sixteen_bit(p: Path) -> None:
    arr = (np.asarray(photo((48, 48)).convert("L"), np.uint16) * 257).astype(np.uint16)
    Image.fromarray(arr).save(p)  # mode I;16 PNG


HANDLED = {
    "animated gif": ("anim.gif", _animated, "only the first frame"),
    "cmyk": ("print.jpg", lambda p: photo((48, 48)).convert("CMYK").save(p, "JPEG"), "CMYK"),
    "16-bit": ("deep.png", _sixteen_bit, "16-bit"),
    "transparent png": ("alpha.png", _transparent, "alpha channel"),
    "exif-rotated": ("phone.jpg", _exif_rotated, "EXIF orientation 6"),
}


@pytest.mark.parametrize("case", list(HANDLED))
def test_unusual_upload_is_processed_and_explained(client, tmp_path, case):
    name, make, message = HANDLED[case]
    first, bicubic, *_, table, note = call(client, write(tmp_path, name, make))
    assert message in note
    assert len(table["data"]) == 3
    if case == "exif-rotated":  # 64x48 stored, 48x64 upright
        assert Image.open(first).size == (48, 63)  # modcropped to a multiple of 3
    if case == "transparent png":
        assert Image.open(bicubic).mode == "RGBA"


def test_next_request_works_after_a_bad_one(client, tmp_path):
    with pytest.raises(AppError):
        call(client, write(tmp_path, "x.png", lambda p: p.write_text("nope")))
    assert len(call(client, EXAMPLE)[4]["data"]) == 3


# --------------------------------------------------------------------------- page pieces

def test_missing_weights_give_a_clear_message(monkeypatch):
    def missing(kind, scale, compressed=False):
        raise FileNotFoundError("no weights")
    monkeypatch.setattr(common.pipeline, "model_for", missing)
    with pytest.raises(common.gr.Error, match="No SRCNN weights for x2 yet"):
        common.require_weights(2)


def test_the_note_says_why_bicubic_serves_alone(monkeypatch):
    """Below the family's first factor, the rule (srcnn.factors.serving with every network
    installed still names none); above it, a network that is not installed."""
    assert "SRCNN: bicubic x1.1 alone (below x1.2 this network trails bicubic" in compare.served_by(1.1)
    assert "Residual SRCNN: bicubic x1.1, then the network trained at x1.1" in compare.served_by(1.1)
    monkeypatch.setattr(srcnn.factors, "bundled_checkpoints", lambda: [])
    assert compare.served_by(1.5).count("the networks for factors below 2 are not installed") == 2


def test_page_names_the_weights_and_the_readme_sections():
    text = common.weights_markdown()
    from srcnn.factors import ANCHORS
    for scale in (*ANCHORS, *srcnn.SCALES):   # no revision pinned in tests: every model is the bundled copy
        assert f"| x{scale:g} | bundled checkpoints/srcnn-x{scale:g} " in text
        assert f"bundled checkpoints/residual-x{scale:g} " in text
    assert "No Hub revision is pinned" in text and "SRCNN_WEIGHTS_REVISION" in text
    about = common.about_markdown()
    assert "residual idea" in about.lower() and "tiling fix" in about.lower()


def test_views_slider_crops_and_error_maps():
    gt = photo((60, 45))
    outs = [photo((60, 45), seed=s) for s in (1, 2, 3)]
    pair, crops, maps = compare.render_views(gt, *outs, "Ground truth / input", "Residual SRCNN", 50, 50, 4)
    assert pair[0] is gt and pair[1] is outs[2]
    assert len(crops) == 4 and crops[0][0].size == crops[3][0].size
    assert len(maps) == 3 and maps[0][0].size == gt.size
    small = photo((20, 15))
    pair, crops, maps = compare.render_views(small, *outs, "Ground truth / input", "Bicubic", 0, 100, 2)
    assert pair[0].size == outs[0].size and maps == []


def test_views_of_a_large_output_are_shown_reduced_and_say_so_the_crops_are_full_size(monkeypatch):
    monkeypatch.setattr(compare, "DISPLAY_PIXELS", 40 * 30)
    gt = photo((120, 90))
    outs = [photo((120, 90), seed=s) for s in (1, 2, 3)]
    pair, crops, maps = compare.render_views(gt, *outs, "Bicubic", "Residual SRCNN", 50, 50, 4)
    assert [im.size for im in pair] == [(40, 30), (40, 30)]                   # 1/3 of 120x90
    assert "show the 120x90 outputs at 1/3 size (40x30" in compare.display_note(120, 90)
    assert compare.display_note(40, 30) == ""
    assert maps[0][0].size == (40, 30) and "shown at 1/3 size" in maps[0][1]
    side = compare.crop_side(120, 90, 4)
    assert crops[1][0].size == (side * 4, side * 4)                           # the outputs' own pixels


def test_expired_results_say_so_in_place_of_the_views(tmp_path):
    gone = str(common.server.upload_folder() / "srcnn" / "gone" / "image.png")
    out = compare.views_page(gone, gone, gone, gone, "Bicubic", "SRCNN", 50, 50, 4)
    assert "expired" in out["views_note"] and "run it again" in out["views_note"]
    assert out["crops"] == [] and out["maps"] == [] and out["slider"] is None


def test_the_page_run_answers_by_name(tmp_path):
    refused = compare.compare_page(None, "3", "Benchmark")
    assert set(refused) == set(compare.PAGE_OUTPUTS) and "Upload a photo first" in refused["error"]
    assert refused["first"] is None and refused["crops"] == [] and refused["note"] == ""
    out = compare.compare_page({"path": str(EXAMPLE), "orig_name": "chelsea.png"}, "2", "Benchmark")
    assert set(out) == set(compare.PAGE_OUTPUTS) and out["error"] == ""
    assert Path(out["residual"]).name.endswith("_residual.png") and "Benchmark, x2." in out["note"]
    assert len(out["slider"]) == 2 and len(out["crops"]) == 4 and len(out["maps"]) == 3


def test_a_new_photo_scale_or_mode_clears_the_previous_results():
    out = compare.new_settings("Upscale")
    assert set(compare.PAGE_OUTPUTS) <= set(out)
    assert all(out[k] is None for k in ("first", "bicubic", "srcnn", "residual"))
    assert out["table"].empty and list(out["table"].columns) == ["Method", "Time (s)", "Output size"]
    assert out["crops"] == [] and out["maps"] == [] and out["note"] == ""
    assert "Press Compare" in out["error"]


@pytest.mark.parametrize("raw, factor", [("3,5", 3.5), ("x2,5", 2.5), (" 1,5 ", 1.5), ("3", 3)])
def test_a_decimal_comma_is_a_decimal_point(raw, factor):
    assert compare.parse_factor(raw) == factor


def test_a_click_centres_the_zoomed_region():
    # 600x400 outputs, x4: a 96-px region; a click at (300, 200) centres it: left 252 of 504 px of room
    assert compare.centre_on(300, 200, 600, 400, 4) == (50, 50)
    assert compare.centre_on(48, 48, 600, 400, 4) == (0, 0)            # as near the corner as it goes
    assert compare.centre_on(599, 399, 600, 400, 4) == (100, 100)
    assert compare.centre_on(174, 100, 600, 400, 4) == (25, 17)        # (174 - 48) / 504, (100 - 48) / 304
    pair, crops, _ = compare.render_views(photo((600, 400)), *[photo((600, 400), seed=s) for s in (1, 2, 3)],
                                          "Bicubic", "SRCNN", 25, 17, 4)
    assert crops[0][1].endswith("96x96 px at (126, 52), x4")          # the region centred on (174, 100)


# --------------------------------------------------------------------------- inside the study

def study(client: Client, path: Path, scale=SCALE, network="ours") -> dict:
    """/inside_study's outputs by name (ui.study.OUTPUT_NAMES)."""
    out = client.predict(handle_file(str(path)), scale, True, network, api_name="/inside_study")
    return dict(zip(study_view.OUTPUT_NAMES, out, strict=True))


def test_the_study_page_answers_by_name():
    """The tab's button and seam toggle return {output name: value}; the names are the ones the
    page wires (ui.study.OUTPUT_NAMES and ``error``), a refusal's message in ``error``."""
    refused = study_view.look_inside_page(None, SCALE)
    assert set(refused) == {"error", *study_view.OUTPUT_NAMES} and "Upload a photo" in refused["error"]
    out = study_view.look_inside_page({"path": str(EXAMPLE), "orig_name": "chelsea.png"}, SCALE)
    assert set(out) == {"error", *study_view.OUTPUT_NAMES} and out["error"] == ""
    assert "x3" in out["how_compared"] and "Choose" in out["walk"] and out["timing"].startswith("Computed in")
    full = ("ground_truth", "exact", "original", "overlap_removed")
    assert [Path(out[n]).name for n in full] == ["chelsea_x3_ground-truth.png", "chelsea_x3_exact.png",
                                                 "chelsea_x3_original.png", "chelsea_x3_overlap-removed.png"]
    photo_size, sizes = Image.open(EXAMPLE).size, {n: Image.open(out[n]).size for n in full}
    assert sizes["ground_truth"] == tuple(side - side % SCALE for side in photo_size)   # the photo, modcropped
    assert sizes["original"][0] > sizes["overlap_removed"][0]       # 21 px pasted for every 14 px of the photo
    assert list(out["psnr_table"].data.columns) == study_view.PSNR_COLUMNS
    assert list(out["gain_curve"].columns) == ["step", "model", "gain_db"]
    assert [caption.split(":")[0] for _, caption in out["adds"][:2]] == [app.METHOD_LABELS[k] for k in srcnn.KINDS]
    seams = study_view.seams_page({"path": str(EXAMPLE), "orig_name": "chelsea.png"}, SCALE, False)
    assert set(seams) == {"original", "overlap_removed"} and Path(seams["original"]).is_file()


def test_inside_study_psnrs_match_srcnn_insight(client):
    o = study(client, EXAMPLE)
    table, how, crops, adds, adds_note = o["psnr_table"], o["how_compared"], o["seam_crops"], o["adds"], o["adds_note"]
    early_srcnn, early_res = o["early_srcnn"], o["early_residual"]
    early_table, curve = o["early_table"], o["gain_curve"]
    sentences, timing = o["sentences"], o["timing"]
    full = [o[k] for k in ("ground_truth", "exact", "original", "overlap_removed")]
    assert "Choose" in o["walk"]
    expected = insight.inside_view(Image.open(EXAMPLE), SCALE)
    shown = [Image.open(path) for path in full]          # ground truth, exact, original, overlap removed
    assert [im.format for im in shown] == ["PNG"] * 4
    assert shown[0].size == expected.prep.gt.size
    for im, name in zip(shown[1:], app.STITCHINGS):
        st = expected.report.stitched[name]
        assert im.size == st.image().size
        if name != "original":                           # (seams drawn on the study ones by default)
            continue
        on_seams = np.zeros(im.size[::-1], bool)
        on_seams[:, list(st.seams_x)] = on_seams[list(st.seams_y), :] = True
        same = np.all(np.asarray(im.convert("RGB")) == np.asarray(st.image().convert("RGB")), axis=2)
        assert same[~on_seams].all() and not same[on_seams].all()
    rows = {row[0]: row for row in table["data"]}
    assert table["headers"] == ["Stitching", "As compared", "Aligned", "At source"]
    for name, label in app.STITCHINGS.items():
        sc = expected.report.scores[name]
        _, naive, aligned, at_source = rows[label]
        h, w = expected.report.stitched[name].luma.shape
        assert f"{w}x{h} px" in how and (name == "exact" or f"{sc.offset} px off" in how)
        assert (naive, aligned, at_source) == pytest.approx((sc.naive, sc.aligned, sc.at_source), abs=1e-6)
    assert rows["Original (21-px pitch)"][1] < rows["Overlap removed (14-px pitch)"][1] < rows["Exact"][1]
    assert [Path(p).name for p in full] == ["chelsea_x3_ground-truth.png", "chelsea_x3_exact.png",
                                            "chelsea_x3_original.png", "chelsea_x3_overlap-removed.png"]
    assert "common area" in how and "6 px" in how and "3 px border shaved" in how
    assert len(crops) == 4 and all(Image.open(c["image"]).format == "PNG" for c in crops)
    assert len(adds) == 4 and "x8" in adds_note and f"{expected.adds['residual'].rms:.2f}" in adds_note
    for gallery, kind in ((early_srcnn, "srcnn"), (early_res, "residual")):
        assert len(gallery) == 2 + len(expected.snapshots[kind])
        for item, snap in zip(gallery[2:], expected.snapshots[kind]):
            assert f"{snap.psnr:.2f} dB" in item["caption"]
            assert f"{snap.psnr:.2f} dB ({snap.gain:+.2f})" in early_table
    assert {row[1] for row in curve["data"]} == {"SRCNN", "Residual SRCNN"}
    # (the history may grow between the two computations while training runs: check the stitching figures)
    scores = expected.report.scores
    assert f"exact stitching scores {scores['exact'].naive:.2f} dB" in sentences
    assert f"the original stitching {scores['original'].naive:.2f} dB" in sentences and "Computed in" in timing
    # plain words: no status lines such as "srcnn x3: 122 evaluations", one early-training figure (the photo's)
    assert "evaluations" not in o["early_note"] and "srcnn x3" not in o["early_note"]
    assert "snapshots at steps" in o["early_note"] and "Early on" not in sentences


def test_inside_study_with_the_studys_own_network_walks_to_the_truth(client):
    o = study(client, EXAMPLE, network="study")
    expected = insight.inside_view(Image.open(EXAMPLE), SCALE, network="study")
    rows = {row[0]: row for row in o["psnr_table"]["data"]}
    for name, label in app.STITCHINGS.items():      # the stitchings are the study's network's
        assert rows[label][1] == pytest.approx(expected.report.scores[name].naive, abs=1e-6)
    assert rows["Exact"][1] != pytest.approx(study(client, EXAMPLE)["psnr_table"]["data"][0][1], abs=1e-3)
    walk = o["walk"]
    assert "one cause at a time" in walk and len(expected.walk) >= 8
    for step in expected.walk:                       # every row's figure, computed for this photo
        assert f"{step.psnr:.2f}" in walk
    assert min(expected.walk, key=lambda s: s.psnr).key == "saved"
    assert "study's own network" in o["how_compared"]
    assert len(o["seam_crops"]) == 4
    # the walk says why its figures differ from the table's, with the corresponding rows' figures
    by = {s.key: s for s in expected.walk}
    assert "Why these figures differ from the table above" in walk
    assert f"{expected.report.scores['exact'].naive:.2f} dB" in walk and f"{by['bicubic-input'].psnr:.2f} dB" in walk
    # the training sections say they are about our networks
    assert "about our two networks" in o["adds_note"] and "Our networks, not the study's" in o["early_note"]


@pytest.mark.parametrize("case", ["not an image", "1x1", "decompression bomb"])
def test_inside_study_refuses_bad_uploads_like_compare(client, tmp_path, case):
    name, make, message = REFUSED[case]
    with pytest.raises(AppError, match=message):
        study(client, write(tmp_path, name, make))


def test_inside_study_too_small_for_one_patch_and_bad_scale(client, tmp_path):
    with pytest.raises(AppError, match="at least 33x33"):
        study(client, write(tmp_path, "tiny.png", lambda p: photo((24, 24)).save(p)))
    with pytest.raises(AppError, match="Scale must be 2, 3 or 4"):
        study(client, EXAMPLE, scale=5)
    with pytest.raises(AppError, match="Network must be 'ours' or 'study'"):
        study(client, EXAMPLE, network="vdsr")


def test_study_says_plainly_when_a_checkpoint_has_no_snapshots_or_history(tmp_path):
    view = insight.inside_view(photo((120, 90)), SCALE, root=tmp_path, region_size=64)
    note = study_view.early_markdown(view)
    assert "no training snapshots" in note
    assert [caption for _, caption in study_view.snapshot_gallery(view, "srcnn")] == ["Ground truth", "Bicubic"]
    assert study_view.gain_curve_frame(view).empty
    assert "no training history ships with this checkpoint" in view.sentences


def test_seam_images_draw_lines_only_when_asked():
    path = str(EXAMPLE)
    plain, drawn = (Image.open(study_view.seam_images(path, SCALE, seams)[0]) for seams in (False, True))
    assert plain.format == drawn.format == "PNG"
    view = views.view_of_file(path, SCALE)
    original = view.report.stitched["original"]
    assert plain.size == drawn.size == original.image().size
    changed = np.any(np.asarray(drawn) != np.asarray(plain.convert("RGB")), axis=2)
    on_seams = np.zeros_like(changed)
    on_seams[:, list(original.seams_x)] = True
    on_seams[list(original.seams_y), :] = True
    assert changed.any() and not (changed & ~on_seams).any()   # 1-px lines on the seams, nothing else
    assert study_view.seam_images(None, SCALE, True) == [{"__type__": "update"}] * 2  # skips: nothing to draw yet


# --------------------------------------------------------------------------- result PNGs

def test_png_writer_writes_lossless_files_beside_the_computation_and_nothing_when_stopped(tmp_path, monkeypatch):
    from ui import server
    monkeypatch.setattr(server, "upload_folder", lambda: tmp_path)
    rng = np.random.default_rng(0)
    big = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    small = Image.fromarray(rng.integers(0, 256, (20, 30), dtype=np.uint8), "L")
    with common.PngWriter() as pngs:
        pngs.add("big", big)
        pngs.add("small", small)
        paths = pngs.paths(["small", "big"])
    for path, img in zip(paths, (small, big)):
        with Image.open(path) as back:
            assert back.format == "PNG" and back.mode == img.mode and np.array_equal(np.asarray(back), np.asarray(img))
    assert common.png_files([big]) == [paths[1]]                    # kept: the same file again
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["image.png", "image.png"]

    checks = []

    def gone():                                   # the client goes during the writing
        checks.append(1)
        if len(checks) > 3:
            raise server.Stopped("The client disconnected.")

    other = Image.fromarray(rng.integers(0, 256, (300, 400, 3), dtype=np.uint8))
    with pytest.raises(server.Stopped), cancel.cancellable(gone):    # the lane's check (ui.server.lane)
        with common.PngWriter() as pngs:
            pngs.add("other", other)
            pngs.paths(["other"])
    assert 3 < len(checks) < 20                   # stopped between chunks, not at the end
    checks.clear()
    with pytest.raises(RuntimeError), cancel.cancellable(lambda: checks.append(1)):   # the request fails after
        with common.PngWriter() as pngs:                                               # a picture was written
            pngs.add("other", other)
            pngs._jobs["other"][1].result()
            raise RuntimeError("later stage")
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        str(Path(p).relative_to(tmp_path)) for p in paths)            # nothing of either stopped request


def test_the_study_text_says_why_figures_differ_and_uses_no_jargon():
    """How to read the table and the walk, as a newcomer reads them: no "0.00 dB lost to repeated
    bands" where none repeat, At source beside Exact explained, no term left to look up."""
    from srcnn import uploads
    view = views.view_of_file(EXAMPLE, SCALE, network="study")
    text = study_view.how_compared_markdown(view, uploads.read_image(EXAMPLE, SCALE, upscaling=False))
    removed = next(line for line in text.split("\n\n") if line.startswith("- **Overlap removed"))
    assert "repeated bands" not in removed and "No band repeats in this stitching" in removed
    assert "At source is not Exact's" in removed
    original = next(line for line in text.split("\n\n") if line.startswith("- **Original"))
    assert "no single shift lines it up" in original
    walk = study_view.walk_section_markdown(view)
    for term in ("byte-scal", "port's", "valid convolutions", "full-range", "mirror-padded", "8-bit LR"):
        assert term not in text + walk, term
