"""A real browser on the real app: load the page, upload a photo, run, wait for the metrics.

Headless Chromium from Debian's ``chromium`` package (``.ci/browser-deps.sh`` installs it),
driven by Playwright's Python package; ``playwright install`` (a browser download) is not used.
The screenshot is saved to ``artifacts/app.png``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import app

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
    upload.set_input_files(str(Path(app.EXAMPLES_DIR) / "chelsea.png"))
    page.locator("#upload img").first.wait_for(timeout=30_000)  # the preview: upload finished
    page.locator("#run").click()

    metrics = page.locator("#metrics")
    metrics.get_by_text("Residual SRCNN").wait_for(timeout=120_000)
    page.locator("#note").get_by_text("3 px border shaved").wait_for(timeout=10_000)
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
    page.locator("#note").get_by_text("600x399").wait_for(timeout=120_000)
