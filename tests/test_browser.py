"""A real browser on the real app: load the page, upload a photo, run, wait for the metrics.

Headless Chromium from Debian's ``chromium`` package (``.ci/browser-deps.sh`` installs it),
driven by Playwright's Python package; ``playwright install`` (a browser download) is not used.
Screenshots are saved to ``artifacts/app.png`` (compare tab) and ``artifacts/study.png``
("Inside the study" tab).
"""

from __future__ import annotations

from pathlib import Path

import pytest

import app
from srcnn.models import KINDS
from ui import common, views

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is absent: run .ci/browser-deps.sh"),
]


@pytest.fixture(scope="module")
def page(live_app):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(live_app.local_url, wait_until="domcontentloaded")
        yield page
        browser.close()


def test_upload_run_and_see_the_metrics(page, artifacts_dir):
    page.get_by_text("SRCNN Studio").first.wait_for(timeout=60_000)
    upload = page.locator("#upload input[type=file]")
    upload.set_input_files(str(Path(common.EXAMPLES_DIR) / "chelsea.png"))
    page.locator("#upload img").first.wait_for(timeout=30_000)  # the preview: upload finished
    page.locator("#run").click()

    metrics = page.locator("#metrics")
    # innerText counts only rendered text: the table keeps hidden copies of its cells
    page.wait_for_function("() => document.querySelector('#metrics')?.innerText.includes('Residual SRCNN')",
                           timeout=120_000)
    page.wait_for_function("() => document.querySelector('#note')?.innerText.includes('3 px border shaved')",
                           timeout=10_000)
    for method in app.METHOD_LABELS.values():
        assert metrics.get_by_text(method, exact=True).count() >= 1
    for elem in ("#out-first", "#out-bicubic", "#out-srcnn", "#out-residual"):
        page.locator(f"{elem} img").first.wait_for(timeout=30_000)
    page.get_by_text("Before / after").first.wait_for(timeout=10_000)
    for gallery, count in (("#crops", 4), ("#maps", 3)):
        page.locator(gallery).scroll_into_view_if_needed()  # gallery images load lazily
        page.wait_for_function(
            f"() => [...document.querySelectorAll('{gallery} img')].filter(i => i.complete && i.naturalWidth > 0)"
            f".length >= {count}", timeout=30_000)
    page.wait_for_timeout(500)  # let the slider paint

    shot = artifacts_dir / "app.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 50_000
    text = page.inner_text("body")
    for expected in ("Benchmark", "Upscale", "PSNR (dB)", "SSIM", "Weights", "Examples", "Error maps"):
        assert expected in text, expected


def test_example_click_fills_results(page):
    """The cached-example path: clicking an example shows results without pressing Compare."""
    page.get_by_text("coffee (x3)").first.click()
    page.wait_for_function("() => document.querySelector('#note')?.innerText.includes('600x399')",
                           timeout=120_000)


def loaded_images(page, selector: str, count: int, timeout: int = 60_000) -> None:
    """Wait until ``count`` images under ``selector`` have loaded (galleries load lazily: scroll first)."""
    page.locator(selector).first.scroll_into_view_if_needed()
    page.wait_for_function(
        f"() => [...document.querySelectorAll('{selector} img')].filter(i => i.complete && i.naturalWidth > 0)"
        f".length >= {count}", timeout=timeout)


def test_inside_the_study_tab_on_an_example(page, artifacts_dir):
    page.get_by_role("tab", name="Inside the study").click()
    page.locator("#study-examples").get_by_text("chelsea (x3)").first.click()

    page.wait_for_function("() => document.querySelector('#study-psnr')?.innerText.includes('Overlap removed')",
                           timeout=180_000)
    view = views.view_of_file(Path(common.EXAMPLES_DIR) / "chelsea.png", 3)   # what the app computed
    table = page.inner_text("#study-psnr")
    for name, label in app.STITCHINGS.items():   # the three PSNR figures, as compared and aligned
        scores = view.report.scores[name]
        assert label in table and f"{scores.naive:.2f}" in table and f"{scores.aligned:.2f}" in table, name
    page.locator("#study-how").get_by_text("common area", exact=False).first.wait_for(timeout=10_000)
    for elem in ("#study-gt", "#study-exact", "#study-original", "#study-overlap-removed"):
        loaded_images(page, elem, 1)
    loaded_images(page, "#study-crops", 4)
    loaded_images(page, "#study-adds", 4)
    for kind in KINDS:
        loaded_images(page, f"#study-early-{kind}", 2 + len(view.snapshots[kind]))
    page.locator("#study-curve").scroll_into_view_if_needed()
    page.wait_for_selector("#study-curve canvas, #study-curve svg", timeout=30_000)
    page.locator("#study-sentences").get_by_text("bicubic on the same patches", exact=False).first.wait_for(timeout=10_000)
    page.wait_for_timeout(1000)  # let the plot paint

    shot = artifacts_dir / "study.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 100_000
    text = page.inner_text("#study-early-note")
    assert "snapshots at steps" in text or "no training snapshots" in text
    body = page.inner_text("body")
    for expected in ("What the network adds", "Early vs late training", "Low loss, poor result",
                     "Draw the seams", "At source", "gain over bicubic"):
        assert expected in body, expected


def test_the_studys_own_network_walks_from_its_picture_to_the_truth(page, artifacts_dir):
    """Choose the 2018 checkpoint: the walk table appears with this photo's computed rows."""
    page.get_by_role("tab", name="Inside the study").click()
    page.locator("#study-network input[value='study']").check()
    page.locator("#study-examples").get_by_text("coffee (x3)").first.click()
    page.wait_for_function("() => document.querySelector('#study-walk')?.innerText.includes("
                           "'From the picture the study saw to the truth')", timeout=180_000)
    view = views.view_of_file(Path(common.EXAMPLES_DIR) / "coffee.png", 3, network="study")
    walk = page.inner_text("#study-walk")
    for step in view.walk:
        assert f"{step.psnr:.2f}" in walk, step.key
    loaded_images(page, "#study-crops", 4)
    page.locator("#study-walk").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "study_walk.png"), full_page=True)
