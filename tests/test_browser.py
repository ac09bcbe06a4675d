"""A real browser on the real app: load the page, upload a photo, run, read what a person sees.

Headless Chromium from Debian's ``chromium`` package (``.ci/browser-deps.sh`` installs it),
driven by Playwright's Python package; ``playwright install`` (a browser download) is not used.
Screenshots go to ``artifacts/``: ``compare-1400x1000.png``, ``study-1400x1000.png`` (full
pages, a wide screen), ``compare-390x844.png`` and ``study-390x844.png`` (a phone's screen
after a run: what is in view without scrolling, then the study's table scrolled to),
``study_walk.png``, and ``jpeg-upscale-1400x1000.png`` / ``jpeg-benchmark-1400x1000.png`` (a JPEG
upload's note: its quality from the file, the networks that served it); docs/screenshots.md lists
the copies kept in docs/screens/.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import app
from srcnn import factors
from srcnn.models import KINDS
from srcnn.tooling.data import phone_photo
from ui import common, views

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
WIDE = {"viewport": {"width": 1400, "height": 1000}}
PHONE = {"viewport": {"width": 390, "height": 844}, "has_touch": True, "is_mobile": True}

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent: run .ci/browser-deps.sh"),
]


@pytest.fixture(scope="module")
def browser(live_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


def open_page(browser, live_app, **context):
    page = browser.new_context(accept_downloads=True, **context).new_page()
    page.goto(live_app.local_url, wait_until="domcontentloaded")
    page.get_by_text("SRCNN Studio").first.wait_for(timeout=60_000)
    return page


@pytest.fixture(scope="module")
def page(browser, live_app):
    """A wide screen (1400x1000), shared by the tests below in order."""
    page = open_page(browser, live_app, **WIDE)
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def phone(browser, live_app):
    """A phone's screen (390x844, touch)."""
    page = open_page(browser, live_app, **PHONE)
    yield page
    page.context.close()


def upload(page, path: Path, selector: str = "#upload") -> None:
    page.locator(f"{selector} input[type=file]").set_input_files(str(path))
    page.locator(f"{selector} img").first.wait_for(timeout=30_000)  # the preview: upload finished


def wait_for_text(page, selector: str, text: str, timeout: int = 120_000) -> None:
    """Until the rendered text of ``selector`` contains ``text`` (innerText counts only what is
    rendered: the tables keep hidden copies of their cells)."""
    page.wait_for_function("([s, t]) => document.querySelector(s)?.innerText.includes(t)", arg=[selector, text],
                           timeout=timeout)


def loaded_images(page, selector: str, count: int, timeout: int = 60_000) -> None:
    """Wait until ``count`` images under ``selector`` have loaded (galleries load lazily: scroll first)."""
    page.locator(selector).first.scroll_into_view_if_needed()
    page.wait_for_function(
        "([s, n]) => [...document.querySelectorAll(s + ' img')].filter(i => i.complete && i.naturalWidth > 0)"
        ".length >= n", arg=[selector, count], timeout=timeout)


def small_photo(path: Path, size=(160, 120)) -> Path:
    """A photo the project has never seen: smooth random colours."""
    rng = np.random.default_rng(5)
    small = rng.integers(0, 256, (size[1] // 8 + 1, size[0] // 8 + 1, 3), dtype=np.uint8)
    Image.fromarray(small).resize(size, Image.Resampling.BICUBIC).save(path)
    return path


def psnr_figures_in_view(page) -> list[str]:
    """The PSNR-like figures (dd.dd) of #metrics drawn inside the screen, as a person sees them:
    text nodes (the table keeps hidden copies of its cells) in visible elements, wholly on screen."""
    return page.evaluate("""() => {
      const out = [];
      const walk = document.createTreeWalker(document.querySelector('#metrics'), NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const text = n.textContent.trim();
        if (!/^\\d{2}\\.\\d{2}$/.test(text)
            || !n.parentElement.checkVisibility({visibilityProperty: true, opacityProperty: true})) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const r = range.getBoundingClientRect();
        if (r.width > 0 && r.height > 0 && r.top >= 0 && r.bottom <= innerHeight && r.left >= 0
            && r.right <= innerWidth) out.push(text);
      }
      return out;
    }""")


def figures_on_more_than_one_line(page, selector: str) -> list[str]:
    """Figures (like 33.41, +0.51, 0.8726) drawn in ``selector`` that break across lines."""
    return page.evaluate("""(s) => {
      const out = [];
      const walk = document.createTreeWalker(document.querySelector(s), NodeFilter.SHOW_TEXT);
      for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        const text = n.textContent.trim();
        if (!/^[-+]?\\d+\\.\\d+$/.test(text) || !n.parentElement.checkVisibility()) continue;
        const range = document.createRange();
        range.selectNodeContents(n);
        const lines = new Set([...range.getClientRects()].map(r => Math.round(r.top)));
        if (lines.size > 1) out.push(text);
      }
      return out;
    }""", selector)


def widths(page, selector: str) -> dict:
    """The rendered widths of ``selector``, its table, and the screen (CSS px)."""
    return page.evaluate("""(s) => ({box: document.querySelector(s).getBoundingClientRect().width,
        table: document.querySelector(s + ' table').getBoundingClientRect().width,
        right: document.querySelector(s + ' table').getBoundingClientRect().right, screen: innerWidth})""",
                         selector)


# --------------------------------------------------------------------------- a wide screen

def test_nothing_but_headers_before_the_first_run_and_presets_fill_the_scale_box(page):
    headers = page.inner_text("#metrics")
    assert "PSNR (dB)" in headers and not re.search(r"\b1\s+2\s+3\b", headers)
    assert page.inner_text("#error").strip() == ""
    scale = page.locator("#scale input, #scale textarea").first
    page.locator("#scale-presets").get_by_role("button", name="x1.5").click()
    page.wait_for_function("() => document.querySelector('#scale input, #scale textarea')?.value === '1.5'",
                           timeout=10_000)
    scale.fill("abc")                    # refused in place as soon as typed, with the allowed range
    wait_for_text(page, "#scale-check", "from 1.1 to 8", 10_000)
    page.locator("#scale-presets").get_by_role("button", name="x3").click()
    page.wait_for_function("() => !document.querySelector('#scale-check')?.innerText.trim()", timeout=10_000)
    assert scale.input_value() == "3"


def test_upload_run_and_see_the_metrics(page, artifacts_dir):
    upload(page, Path(common.EXAMPLES_DIR) / "chelsea.png")
    page.locator("#run").click()
    wait_for_text(page, "#metrics", "Residual SRCNN")
    wait_for_text(page, "#note", "3 px border shaved", 10_000)
    metrics = page.locator("#metrics")
    for method in app.METHOD_LABELS.values():
        assert metrics.get_by_text(method, exact=True).count() >= 1
    for elem in ("#out-first", "#out-bicubic", "#out-srcnn", "#out-residual"):
        page.locator(f"{elem} img").first.wait_for(timeout=30_000)
    page.get_by_text("Before / after").first.wait_for(timeout=10_000)
    loaded_images(page, "#crops", 4, 30_000)
    loaded_images(page, "#maps", 3, 30_000)
    page.wait_for_timeout(500)  # let the slider paint

    # the before/after handle stays within the picture
    picture = page.locator("#slider img").first.bounding_box()
    handle = page.locator("#slider [data-testid=slider]").bounding_box()
    assert picture["x"] - 1 <= handle["x"] + handle["width"] / 2 <= picture["x"] + picture["width"] + 1
    page.mouse.move(picture["x"] + picture["width"] / 2, picture["y"] + picture["height"] / 2)
    page.mouse.down()
    page.mouse.move(picture["x"] + picture["width"] + 300, picture["y"] + picture["height"] / 2, steps=5)
    page.mouse.up()
    handle = page.locator("#slider [data-testid=slider]").bounding_box()
    assert handle["x"] + handle["width"] / 2 <= picture["x"] + picture["width"] + 1

    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "compare-1400x1000.png"), full_page=True)
    text = page.inner_text("body")
    for expected in ("Benchmark", "Upscale", "PSNR (dB)", "SSIM", "Weights", "Examples", "Error maps"):
        assert expected in text, expected


def test_the_slider_moves_with_the_keyboard_and_focus_is_visible(page):
    """After the run above: Tab reaches the before/after handle, the arrow keys move it (a drag
    from where it is); the focused mode choice and the handle show an outline."""
    handle = page.locator("#slider [data-testid=slider]")
    handle.focus()
    assert page.evaluate("() => document.activeElement.getAttribute('role')") == "slider"
    before = handle.bounding_box()["x"]
    where = "document.querySelector('#slider [data-testid=slider]').getBoundingClientRect().x"
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(f"(x) => {where} > x + 10", arg=before, timeout=10_000)
    page.keyboard.press("Home")
    page.wait_for_function(f"(x) => {where} < x - 10", arg=before, timeout=10_000)
    page.locator("#mode input[value=Benchmark]").focus()
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")                     # focus by keyboard: :focus-visible applies
    outline = page.evaluate("() => getComputedStyle(document.activeElement.closest('label')).outlineStyle")
    assert outline == "solid", outline


def test_enter_in_a_zoom_box_and_a_click_on_a_picture_move_the_zoom(page):
    """After the run above: typing 10 + Enter in the across box moves the crops there at once (not
    one entry late), and so does 90 typed next; a click on the bicubic picture centres them on the
    clicked pixel (its caption names the region)."""
    box = page.locator("#zoom-x input[type=number]")
    for typed, left in (("10", 35), ("90", 319)):       # 450x300 outputs, x4: 96 px; 10% / 90% of 354 px of room
        box.click(click_count=3)
        box.press_sequentially(typed, delay=50)          # typed as a person types, then Enter at once
        box.press("Enter")
        page.wait_for_function("(t) => document.querySelector('#crops .caption-label')?.innerText.includes(t)",
                               arg=f"at ({left}, ", timeout=30_000)
    box.click(click_count=3)
    box.press_sequentially("10", delay=50)
    box.press("Enter")
    page.wait_for_function("() => document.querySelector('#crops .caption-label')?.innerText.includes('at (35, ')",
                           timeout=30_000)
    picture = page.locator("#out-bicubic img").first
    picture.scroll_into_view_if_needed()
    box = picture.bounding_box()
    picture.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.5})
    page.wait_for_function("() => document.querySelector('#zoom-x input[type=number]')?.value !== '10'",
                           timeout=30_000)
    across = int(page.locator("#zoom-x input[type=number]").input_value())
    assert 16 <= across <= 20            # a click a quarter across (x 112 of 450): (112 - 48) / 354 = 18% of the room
    page.wait_for_function("() => !document.querySelector('#crops .caption-label')?.innerText.includes('at (35,')",
                           timeout=30_000)


def test_expired_results_say_so_in_place_for_a_download_and_a_zoom(page):
    """After the run above, its result files removed as the sweeper would: a download says they
    expired on the picture itself, and so does a zoom change where the views were; no bare badge."""
    link = page.locator("#out-bicubic a[download]").first
    served = re.search(r"/file=(.*)$", link.get_attribute("href")).group(1)
    for picture in Path(served).parent.parent.glob("*/*.png"):
        if picture.name.startswith("chelsea_x3_"):
            picture.unlink()
    link.click()
    wait_for_text(page, "#out-bicubic .expired-note", "expired", 10_000)
    page.locator("#zoom input[value='8']").check()
    wait_for_text(page, "#views-note", "These results expired", 60_000)
    assert page.locator("#crops img").count() == 0 and page.locator("#slider img").count() == 0
    assert page.locator(".toast-body").count() == 0
    assert page.get_by_text("Error", exact=True).count() == 0


def test_example_click_fills_results(page):
    """The cached-example path: clicking an example shows results without pressing Compare (and the
    expired notes of the results before go with them)."""
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_text("coffee (x3)").first.click()
    wait_for_text(page, "#note", "600x399")
    loaded_images(page, "#out-bicubic", 1)
    page.wait_for_function("() => !document.querySelector('.expired-note')", timeout=10_000)


def test_a_typed_factor_then_enter_is_that_factor_and_the_download_is_named(page, tmp_path):
    """Upscale, `5` typed then Enter on a 160x120 photo: the residual download is 800x600, named."""
    page.evaluate("window.scrollTo(0, 0)")
    upload(page, small_photo(tmp_path / "garden.png"))
    page.locator("#mode input[value=Upscale]").check()
    scale = page.locator("#scale input, #scale textarea").first
    scale.fill("5")
    scale.press("Enter")
    wait_for_text(page, "#note", "Upscale, x5.")
    page.locator("#out-residual img").first.wait_for(timeout=30_000)
    with page.expect_download() as info:
        page.locator("#out-residual a[download]").first.click()
    download = info.value
    name = download.suggested_filename
    assert "residual" in name and "x5" in name, name
    saved = tmp_path / name
    download.save_as(saved)
    assert Image.open(saved).size == (800, 600)


def test_a_refused_factor_stays_on_the_page_and_clears_the_old_result(page, tmp_path):
    """Upscale with 12: 15 s later the page still says what was wrong, and no view of the
    previous result (the 800x600 one above) is left beside the message."""
    scale = page.locator("#scale input, #scale textarea").first
    scale.fill("12")
    page.locator("#run").click()
    wait_for_text(page, "#error", "from 1.1 to 8", 30_000)
    page.wait_for_timeout(15_000)
    for selector in ("#error", "#scale-check"):
        text = page.inner_text(selector)
        assert "from 1.1 to 8" in text and "12" in text, (selector, text)
    assert page.locator("#out-residual img").count() == 0
    assert page.locator("#slider img").count() == 0 and page.locator("#crops img").count() == 0
    assert "x5" not in page.inner_text("#note")
    scale.fill("3")                      # the next run clears the message
    page.locator("#mode input[value=Benchmark]").check()
    upload(page, Path(common.EXAMPLES_DIR) / "chelsea.png")
    page.locator("#run").click()
    wait_for_text(page, "#note", "Benchmark, x3.")
    assert page.inner_text("#error").strip() == ""


def psnr_figures(page, selector: str = "#metrics") -> list[str]:
    """The PSNR-like figures (dd.dd) drawn in ``selector`` (innerText: rendered text only)."""
    return re.findall(r"(?<![\d.+-])\d{2}\.\d{2}(?![\d])", page.inner_text(selector))


def test_a_new_photo_clears_the_previous_result_and_the_table_gives_gains(page):
    """After the chelsea run above: its table shows each method's gain over bicubic; uploading another
    photo leaves no figure of it on the page, and says why."""
    table = page.inner_text("#metrics")
    assert "Gain (dB)" in table and "+0.00" in table and len(psnr_figures(page)) >= 3
    upload(page, Path(common.EXAMPLES_DIR) / "coffee.png")
    wait_for_text(page, "#error", "Press Compare", 10_000)
    assert psnr_figures(page) == [] and "Benchmark, x3." not in page.inner_text("#note")
    assert page.locator("#out-residual img").count() == 0 and page.locator("#crops img").count() == 0


def test_a_phone_photo_in_benchmark_mode_is_measured_whole_and_upright(page, tmp_path, artifacts_dir):
    """A 4032x3024 JPEG (quality 85) with EXIF orientation 6, Benchmark at x3: three PSNR figures of
    the upright 3024x4032 photo; the slider and maps are shown reduced, and the note says so."""
    page.evaluate("window.scrollTo(0, 0)")
    upload(page, phone_photo(tmp_path / "IMG_4032.jpg"))
    page.locator("#mode input[value=Benchmark]").check()
    scale = page.locator("#scale input, #scale textarea").first
    scale.fill("3")
    page.locator("#run").click()
    wait_for_text(page, "#note", "Benchmark, x3.", 600_000)
    note = page.inner_text("#note")
    assert "3024x4032" in note and "EXIF orientation 6" in note, note       # upright, whole
    assert "at 1/2 size" in note                                            # 12.2 MP shown within 4.2
    assert len(psnr_figures(page)) == 3                                     # each method's PSNR
    loaded_images(page, "#out-first", 1, 120_000)
    size = page.evaluate("() => [document.querySelector('#out-first img').naturalWidth, "
                         "document.querySelector('#out-first img').naturalHeight]")
    assert size == [3024, 4032]
    loaded_images(page, "#crops", 4, 60_000)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "large-benchmark-1400x1000.png"), full_page=True)


def test_a_phone_photo_in_upscale_mode_gives_a_result_and_a_full_size_download(page, artifacts_dir, tmp_path):
    """The same photo, Upscale at x2: the result pictures come with the answer (no click past Compare),
    and one click on the residual picture's download gives the whole photo at 6048x8064."""
    page.evaluate("window.scrollTo(0, 0)")
    page.locator("#mode input[value=Upscale]").check()
    wait_for_text(page, "#error", "Press Compare", 10_000)      # the Benchmark result is cleared
    scale = page.locator("#scale input, #scale textarea").first
    scale.fill("2")
    page.locator("#run").click()
    wait_for_text(page, "#note", "Upscale, x2.", 600_000)
    assert "6048x8064" in page.inner_text("#note")
    loaded_images(page, "#out-residual", 1, 180_000)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "large-upscale-1400x1000.png"), full_page=True)
    with page.expect_download(timeout=180_000) as info:
        page.locator("#out-residual a[download]").first.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    with Image.open(saved) as img:
        assert img.size == (6048, 8064)                # 2x the upload's 3024x4032, each side


def test_inside_the_study_tab_on_an_example(page, artifacts_dir):
    page.evaluate("window.scrollTo(0, 0)")
    page.get_by_role("tab", name="Inside the study").click()
    page.locator("#study-examples").get_by_text("chelsea (x3)").first.click()
    wait_for_text(page, "#study-psnr", "Overlap removed", 180_000)
    view = views.view_of_file(Path(common.EXAMPLES_DIR) / "chelsea.png", 3)   # what the app computed
    table = page.inner_text("#study-psnr")
    for name, label in app.STITCHINGS.items():   # the three PSNR figures, as compared and aligned
        scores = view.report.scores[name]
        assert label in table and f"{scores.naive:.2f}" in table and f"{scores.aligned:.2f}" in table, name
    page.locator("#study-how").get_by_text("common area", exact=False).first.wait_for(timeout=10_000)
    for elem in ("#study-gt", "#study-exact", "#study-original", "#study-overlap-removed"):
        loaded_images(page, elem, 1)
    # the original stitching is shown wider than the ground truth, as it is (21 px pasted per 14)
    gt, original = (page.locator(f"{e} img").first.bounding_box()["width"] for e in ("#study-gt", "#study-original"))
    assert original > 1.3 * gt
    loaded_images(page, "#study-crops", 4)
    loaded_images(page, "#study-adds", 4)
    for kind in KINDS:
        loaded_images(page, f"#study-early-{kind}", 2 + len(view.snapshots[kind]))
    page.locator("#study-curve").scroll_into_view_if_needed()
    page.wait_for_selector("#study-curve canvas, #study-curve svg", timeout=30_000)
    sentences = page.locator("#study-sentences")
    sentences.get_by_text("bicubic on the same patches", exact=False).first.wait_for(timeout=10_000)
    page.wait_for_timeout(1000)  # let the plot paint

    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(artifacts_dir / "study-1400x1000.png"), full_page=True)
    text = page.inner_text("#study-early-note")
    assert "snapshots at steps" in text or "no training snapshots" in text
    assert "evaluations" not in text
    body = page.inner_text("body")
    for expected in ("What the network adds", "Early vs late training", "Low loss, poor result",
                     "Draw the seams", "At source", "gain over bicubic"):
        assert expected in body, expected


def test_the_studys_own_network_walks_from_its_picture_to_the_truth(page, artifacts_dir):
    """Choose the 2018 checkpoint: the walk table appears with this photo's computed rows."""
    page.get_by_role("tab", name="Inside the study").click()
    page.locator("#study-network input[value='study']").check()
    page.locator("#study-examples").get_by_text("coffee (x3)").first.click()
    wait_for_text(page, "#study-walk", "From the picture the study saw to the truth", 180_000)
    view = views.view_of_file(Path(common.EXAMPLES_DIR) / "coffee.png", 3, network="study")
    walk = page.inner_text("#study-walk")
    for step in view.walk:
        assert f"{step.psnr:.2f}" in walk, step.key
    assert "Why these figures differ" in walk
    loaded_images(page, "#study-crops", 4)
    page.locator("#study-walk").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "study_walk.png"), full_page=True)


def test_a_refused_study_upload_shows_its_message_in_place_of_the_old_results(page, tmp_path):
    """After the walk above, a 10x10 photo: 15 s later its message stands where the results were,
    the old table and pictures are gone, and no pop-up is left."""
    page.evaluate("window.scrollTo(0, 0)")
    Image.new("RGB", (10, 10), (90, 120, 150)).save(tmp_path / "tiny.png")
    page.locator("#study-upload input[type=file]").set_input_files(str(tmp_path / "tiny.png"))
    page.wait_for_timeout(1000)
    page.locator("#study-run").click()
    wait_for_text(page, "#study-error", "too small", 60_000)
    page.wait_for_timeout(15_000)
    assert "10x10 px: too small" in page.inner_text("#study-error")
    assert psnr_figures(page, "#study-psnr") == [] and page.inner_text("#study-walk").strip() == ""
    assert page.locator("#study-exact img").count() == 0 and page.locator(".toast-body").count() == 0
    top = page.locator("#study-error").bounding_box()["y"]
    assert 0 <= top <= 1000                            # in view


@pytest.mark.slow                        # (the whole module is; said here too)
def test_a_jpeg_upload_is_served_by_its_quality_read_from_the_file(browser, live_app, tmp_path, artifacts_dir):
    """Issue 32: a 160x120 crop of chelsea saved as a JPEG at quality 75, Upscale at x2 with Networks
    on Auto: the note names quality 75 read from the file and the networks trained for compressed
    inputs, per network; the same crop as a PNG gets the clean ones, at quality 90 the note names
    each network's share of the clean one. Benchmark with the low-res input
    saved as JPEG 50 (under "JPEG inputs"): the note names quality 50. A page of its own (1400x1000)."""
    with Image.open(Path(common.EXAMPLES_DIR) / "chelsea.png") as img:
        crop = img.convert("RGB").crop((150, 60, 310, 180))
    jpeg, png = tmp_path / "cat_q75.jpg", tmp_path / "cat.png"
    crop.save(jpeg, quality=75)
    crop.save(png)
    page = open_page(browser, live_app, **WIDE)
    try:
        page.locator("#mode input[value=Upscale]").check()
        scale = page.locator("#scale input, #scale textarea").first
        scale.fill("2")
        page.locator("#jpeg-inputs").get_by_text("JPEG inputs").first.click()   # closed at first: open it
        page.locator("#networks input[value=Auto]").wait_for(timeout=10_000)
        assert page.locator("#networks input[value=Auto]").is_checked()          # the default
        assert page.locator("#low-res input").first.input_value() == "PNG (clean)"
        upload(page, jpeg)
        page.locator("#run").click()
        wait_for_text(page, "#note", "Upscale, x2.")
        wait_for_text(page, "#note", "JPEG quality 75", 10_000)
        note = page.inner_text("#note")
        assert "JPEG quality 75 (from the file): networks trained for compressed inputs." in note, note
        networks = re.search(r"Networks at x2:(.*)", note)
        assert networks, note
        for method in ("SRCNN", "Residual SRCNN"):       # each network: the one for compressed inputs at x2
            assert re.search(rf"(^|; ){method}: bicubic x2, then the network trained at x2 for compressed \(JPEG\) "
                             "inputs", networks.group(1).strip()), note
        assert "clean inputs" not in note, note
        page.locator("#out-residual img").first.wait_for(timeout=30_000)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts_dir / "jpeg-upscale-1400x1000.png"), full_page=True)

        upload(page, png)                                  # the same photo as a PNG: the result is cleared
        wait_for_text(page, "#error", "Press Compare", 30_000)
        page.wait_for_function("() => !document.querySelector('#note')?.innerText.includes('JPEG quality')",
                               timeout=10_000)
        page.locator("#run").click()
        wait_for_text(page, "#note", "Not a JPEG file")
        note = page.inner_text("#note")
        assert "Upscale, x2." in note and "Not a JPEG file: the networks trained on clean inputs." in note, note
        assert "compressed" not in note and "JPEG quality" not in note, note

        crop.save(jpeg, quality=90)                        # a high quality: its band's share of the clean network
        upload(page, jpeg)
        wait_for_text(page, "#error", "Press Compare", 30_000)
        page.locator("#run").click()
        wait_for_text(page, "#note", "JPEG quality 90", 120_000)
        note = page.inner_text("#note")
        for kind, method in (("srcnn", "SRCNN"), ("residual", "Residual SRCNN")):
            share = factors.compressed_share(kind, 2, 90)
            assert f"{method}: bicubic x2, then the network trained at x2 for compressed (JPEG) inputs, with " \
                   f"{share:.0%} of the clean network's weights mixed in for this JPEG quality" in note, note
        page.locator("#out-residual img").first.wait_for(timeout=30_000)
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts_dir / "jpeg90-upscale-1400x1000.png"), full_page=True)

        page.locator("#mode input[value=Benchmark]").check()   # the low-res input saved as JPEG 50
        page.locator("#low-res input").first.click()
        page.get_by_role("option", name="JPEG 50", exact=True).click()
        page.wait_for_function("() => document.querySelector('#low-res input')?.value === 'JPEG 50'", timeout=10_000)
        page.locator("#run").click()
        wait_for_text(page, "#note", "Benchmark, x2.")
        note = page.inner_text("#note")
        assert "JPEG quality 50" in note and "networks trained for compressed inputs" in note, note
        assert len(psnr_figures(page)) >= 3
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(artifacts_dir / "jpeg-benchmark-1400x1000.png"))
    finally:
        page.context.close()


# --------------------------------------------------------------------------- a phone

def test_on_a_phone_the_results_come_into_view_and_the_tables_fit(phone, artifacts_dir):
    """390x844 with touch: after Compare, without scrolling, at least three PSNR figures are on
    screen; the metrics table and the study's PSNR table fit the screen's width."""
    upload(phone, Path(common.EXAMPLES_DIR) / "chelsea.png")
    phone.locator("#run").tap()
    wait_for_text(phone, "#metrics", "Residual SRCNN")
    wait_for_text(phone, "#note", "Benchmark, x3.", 10_000)
    phone.wait_for_timeout(1000)          # the results settle (images load below)
    assert len(psnr_figures_in_view(phone)) >= 3, psnr_figures_in_view(phone)
    phone.screenshot(path=str(artifacts_dir / "compare-390x844.png"))
    phone.locator("#metrics").scroll_into_view_if_needed()
    w = widths(phone, "#metrics")
    assert w["table"] <= w["box"] + 1 and w["right"] <= w["screen"], w
    assert figures_on_more_than_one_line(phone, "#metrics") == []

    phone.evaluate("window.scrollTo(0, 0)")
    phone.get_by_role("tab", name="Inside the study").tap()
    phone.locator("#study-examples").get_by_text("chelsea (x3)").first.tap()
    wait_for_text(phone, "#study-psnr", "Overlap removed", 180_000)
    phone.locator("#study-psnr").evaluate("e => e.scrollIntoView({block: 'start'})")
    phone.wait_for_timeout(500)
    w = widths(phone, "#study-psnr")
    assert w["table"] <= w["box"] + 1 and w["right"] <= w["screen"], w
    phone.screenshot(path=str(artifacts_dir / "study-390x844.png"))
    phone.locator("#study-curve").scroll_into_view_if_needed()
    phone.wait_for_selector("#study-curve svg, #study-curve canvas", timeout=30_000)
    assert phone.locator("#study-curve").bounding_box()["height"] >= 200     # the training curve is readable


def test_on_a_phone_a_phone_photo_in_benchmark_mode(phone, tmp_path, artifacts_dir):
    """390x844 with touch, the 12-MP photo at x3: the results come into view with the upright photo's
    three PSNR figures."""
    phone.evaluate("window.scrollTo(0, 0)")
    phone.get_by_role("tab", name="Compare").tap()
    upload(phone, phone_photo(tmp_path / "IMG_4032.jpg"))
    phone.locator("#run").tap()
    wait_for_text(phone, "#note", "Benchmark, x3.", 600_000)
    assert "3024x4032" in phone.inner_text("#note")
    phone.wait_for_timeout(1000)
    assert len(psnr_figures_in_view(phone)) >= 3, psnr_figures_in_view(phone)
    phone.screenshot(path=str(artifacts_dir / "large-benchmark-390x844.png"))


def test_on_a_phone_the_phone_photo_in_upscale_mode(phone, artifacts_dir):
    """After the run above, Upscale at x2 on the phone: the note names the 6048x8064 output and the
    residual picture loads, with no tap past Compare."""
    phone.evaluate("window.scrollTo(0, 0)")
    phone.locator("#mode input[value=Upscale]").check()
    wait_for_text(phone, "#error", "Press Compare", 10_000)
    scale = phone.locator("#scale input, #scale textarea").first
    scale.fill("2")
    phone.locator("#run").tap()
    wait_for_text(phone, "#note", "Upscale, x2.", 600_000)
    assert "6048x8064" in phone.inner_text("#note")
    loaded_images(phone, "#out-residual", 1, 180_000)
    phone.locator("#metrics").evaluate("e => e.scrollIntoView({block: 'start'})")
    phone.wait_for_timeout(500)
    phone.screenshot(path=str(artifacts_dir / "large-upscale-390x844.png"))
