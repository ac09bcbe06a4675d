"""How long the app takes to answer, measured on the real server: ``python -m tools.bench_app``
(from the repository root).

Starts ``app.build_demo()`` on a free local port and warms it up as ``python app.py`` does,
then times, on one photo (default: the centre 1024x1024 of scikit-image's ``retina``, a
1-megapixel ground truth; ``--photo`` for your own):

* ``/compare`` in Benchmark mode and ``/inside_study``, ``gradio_client`` round trips (upload,
  computation, PNG files written, results downloaded): the first request for the photo
  (nothing cached) and a repeat;
* first, with Chromium present (``/usr/bin/chromium``; ``--no-browser`` to skip), what a person
  waits for in the "Inside the study" tab: from the click on "Look inside" (photo already
  uploaded, nothing computed yet) until the PSNR table and every picture, the full-size
  stitchings included, have loaded.

Figures are wall seconds on this machine, printed; nothing is asserted. The tab's own split
(the parts of ``srcnn.study.insight.inside_view``, as ``ui.views.compute_view`` runs them) is
printed beside them, then each client request's breakdown: networks, metrics, the rest of the
computing, PNG writing (waited for at the end, and beside the computation), Gradio and transfer.
"""

from __future__ import annotations

import argparse
import logging
import os
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

os.environ.setdefault("HF_HUB_OFFLINE", "1")   # the bundled weights: no Hub wait in the timings
# The upload folder starts empty (ui.server makes one per process), so the first requests really write their PNGs.

import app  # noqa: E402  (after the environment is set)
from ui import views  # noqa: E402
from srcnn.tooling.bench import timing  # noqa: E402
from ui.server import free_port  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
STUDY_PICTURES = ("#study-gt", "#study-exact", "#study-original", "#study-overlap-removed",
                  "#study-crops", "#study-adds", "#study-early-srcnn", "#study-early-residual")


def default_photo(folder: Path) -> Path:
    """The centre 1024x1024 of scikit-image's retina photo (1411x1411), saved as PNG."""
    from srcnn.tooling.data import load_images
    img = load_images(["retina"])["retina"]
    left, top = (img.width - 1024) // 2, (img.height - 1024) // 2
    path = folder / "retina-1024.png"
    img.crop((left, top, left + 1024, top + 1024)).save(path)
    return path


def timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


class Handlers(logging.Handler):
    """Collects the ``timings`` the app's handlers log with each answered request (ui.common.log_request)."""

    def __init__(self):
        super().__init__(logging.INFO)
        self.timings: list[dict] = []

    def emit(self, record: logging.LogRecord) -> None:
        if hasattr(record, "timings"):
            self.timings.append(record.timings)


BREAKDOWN = ("computing", "networks", "metrics", "PNG writing, waited for", "PNG writing, beside", "Gradio",
             "downloads", "round trip")


def breakdown(answer: float, downloads: float, handler: dict, networks: float, metrics: float) -> dict[str, float]:
    """One request's round trip split: the handler's computing (wall), of which the networks (time
    inside ``pipeline.apply_network``, summed over threads: the study runs two side by side) and
    the metrics; PNG writing (what the handler waited for at the end; what ran beside the
    computation); Gradio (upload, queue, pre- and post-processing: the time to the answer minus
    the handler) and the client's downloads of the result files."""
    return {"computing": handler["handler"] - handler["PNG writing (waited for)"], "networks": networks,
            "metrics": metrics, "PNG writing, waited for": handler["PNG writing (waited for)"],
            "PNG writing, beside": handler["PNG writing (beside)"], "Gradio": answer - handler["handler"],
            "downloads": downloads, "round trip": answer + downloads}


def download_all(result, base: str) -> int:
    """Fetch every file an answer names (as gradio_client would, one after the other); the count."""
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    found = []

    def walk(x):
        if isinstance(x, dict):
            if isinstance(x.get("url"), str):
                found.append(x["url"])
            else:
                for v in x.values():
                    walk(v)
        elif isinstance(x, (list, tuple)):
            for v in x:
                walk(v)

    walk(result)
    for url in found:
        with opener.open(url if url.startswith("http") else base.rstrip("/") + url, timeout=60) as r:
            r.read()
    return len(found)


def client_times(url: str, photo: Path, scale: int, handlers: Handlers) -> tuple[dict[str, float], dict[str, dict]]:
    """Round-trip seconds of each request, and each one's :func:`breakdown`."""
    from gradio_client import Client, handle_file
    from srcnn import metrics, pipeline
    client = Client(url, verbose=False, download_files=False)   # the downloads are timed apart
    calls = {"/compare": lambda: client.predict(handle_file(str(photo)), scale, "Benchmark", api_name="/compare"),
             "/inside_study": lambda: client.predict(handle_file(str(photo)), scale, api_name="/inside_study")}
    times, parts = {}, {}
    for endpoint, call in calls.items():
        for when in ("first", "repeat"):
            nets, measured = [], []
            handlers.timings.clear()
            with timing(pipeline, "apply_network", nets), timing(metrics.Reference, "psnr", measured), \
                    timing(metrics.Reference, "ssim", measured):
                t0 = time.perf_counter()
                result = call()
                answer = time.perf_counter() - t0
            downloads = timed(lambda: download_all(result, url))
            handler = next(t for t in handlers.timings if t["endpoint"] == endpoint)
            name = f"{endpoint}, {when}"
            times[name] = answer + downloads
            parts[name] = breakdown(answer, downloads, handler, sum(nets), handler.get("metrics", sum(measured)))
    return times, parts


def browser_times(url: str, photo: Path, scale: int) -> dict[str, float]:
    """Click "Look inside" on the uploaded ``photo``; seconds until the table and every picture show."""
    from playwright.sync_api import sync_playwright
    args = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url, wait_until="domcontentloaded")
        page.get_by_role("tab", name="Inside the study").click()
        page.locator("#study-scale").get_by_text(f"x{scale}", exact=True).click()
        page.locator("#study-upload input[type=file]").set_input_files(str(photo))
        page.wait_for_selector("#study-upload img", timeout=60_000)   # the upload has arrived
        t0 = time.perf_counter()
        page.locator("#study-run").click()
        page.wait_for_function("() => document.querySelector('#study-timing')?.innerText.includes('Computed in')",
                               timeout=120_000)
        table = time.perf_counter() - t0
        for sel in STUDY_PICTURES:   # galleries load lazily: bring each into view
            page.locator(sel).first.scroll_into_view_if_needed()
            page.wait_for_function(
                f"() => {{ const imgs = [...document.querySelectorAll('{sel} img')];"
                " return imgs.length > 0 && imgs.every(i => i.complete && i.naturalWidth > 0); }",
                timeout=120_000)
        seconds = time.perf_counter() - t0
        browser.close()
    return {"browser: click to PSNR table and text": table, "browser: click to every picture shown": seconds}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--photo", type=Path, help="the ground truth to use (default: 1024x1024 of skimage's retina)")
    ap.add_argument("--scale", type=int, default=3, choices=(2, 3, 4))
    ap.add_argument("--no-browser", action="store_true", help="skip the Chromium measurement")
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    handlers = Handlers()
    app_log = logging.getLogger("srcnn.app")
    app_log.setLevel(logging.INFO)
    app_log.propagate = False          # the app's INFO lines are collected, not printed
    app_log.addHandler(handlers)
    with tempfile.TemporaryDirectory() as tmp:
        photo = args.photo or default_photo(Path(tmp))
        from PIL import Image
        with Image.open(photo) as im:
            size = im.size
        demo = app.build_demo()
        t_warm = timed(app.warm_up)
        demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(), quiet=True,
                    **app.launch_options())
        try:
            print(f"photo {photo.name} ({size[0]}x{size[1]}), x{args.scale}; cores: {os.cpu_count()}; "
                  f"models warmed up in {t_warm:.2f} s")
            times = {}
            if not args.no_browser and CHROMIUM.exists():
                times.update(browser_times(demo.local_url, photo, args.scale))   # first: nothing cached yet
            elif not args.no_browser:
                print(f"(no browser measurement: {CHROMIUM} is absent)")
            views.forget_views()   # the client's first /inside_study computes again
            client, parts = client_times(demo.local_url, photo, args.scale, handlers)
            times.update(client)
        finally:
            demo.close()
        view = views.view_of_file(photo, args.scale)
    if any(name.startswith("browser") for name in times):
        print("(the browser runs on this machine too, sharing its cores with the server)")
    for name, seconds in times.items():
        print(f"{name:38s} {seconds:6.2f} s")
    inside = ", ".join(f"{k} {v:.2f} s" for k, v in view.seconds.items() if k != "total")
    print(f"of which srcnn.study.insight.inside_view, first request: {view.seconds['total']:.2f} s ({inside}; "
          "some side by side)")
    print("\nWhere each request's time went (seconds; computing: the handler's, PNG writing it waited for apart; "
          "networks: inside pipeline.apply_network, summed over threads; metrics: PSNR and SSIM; PNG writing beside: "
          "on the PNG threads while the request computed; Gradio: the time to the answer minus the handler; "
          "downloads: the result files, one after the other):\n")
    print("| request | " + " | ".join(BREAKDOWN) + " |")
    print("|---" * (len(BREAKDOWN) + 1) + "|")
    for name, split in parts.items():
        print(f"| {name} | " + " | ".join(f"{split[k]:.2f}" for k in BREAKDOWN) + " |")


if __name__ == "__main__":
    main()
