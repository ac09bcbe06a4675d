"""Section 6, soak: memory over a long run of mixed requests from a few clients."""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tools.load.clients import error_text
from tools.load.page import Zoom, file_value
from tools.load.photos import held_out_photos
from tools.load.report import mb, short, table
from tools.load.server import Server

SOAK_MIX = (("compare", 0.35), ("upscale", 0.25), ("study", 0.15), ("zoom", 0.25))   # share of the requests
SOAK_UPSCALE = (1.5, 2, 2.5, 3, 4, 5)     # Upscale factors (the photo is shrunk so the output stays <= 3 MP)
SOAK_OUTPUT_PIXELS = 3_000_000


def upscale_input(photo: Path, factor: float, folder: Path) -> Path:
    """The photo shrunk (if needed) so that its output at ``factor`` has at most SOAK_OUTPUT_PIXELS."""
    with Image.open(photo) as img:
        shrink = min(1.0, math.sqrt(SOAK_OUTPUT_PIXELS / (img.width * img.height * factor * factor)))
        if shrink == 1.0:
            return photo
        path = folder / f"{photo.stem}-for-x{factor:g}.png"
        if not path.exists():
            img.resize((max(8, int(img.width * shrink)), max(8, int(img.height * shrink))),
                       Image.Resampling.LANCZOS).save(path, compress_level=1)
        return path


def soak_plan(n: int, photos: list[Path], seed: int = 0) -> list[tuple]:
    """``n`` requests (kind, photo, scale) drawn in the proportions of SOAK_MIX, seeded."""
    rng = np.random.default_rng(seed)
    kinds, weights = zip(*SOAK_MIX)
    plan = []
    for _ in range(n):
        kind = str(rng.choice(kinds, p=np.array(weights) / sum(weights)))
        photo = photos[int(rng.integers(len(photos)))]
        scale = float(rng.choice(SOAK_UPSCALE)) if kind == "upscale" else int(rng.choice([2, 3, 4]))
        plan.append((kind, photo, scale))
    return plan


def run_soak(server: Server, args, workdir: Path, out: dict) -> None:
    """``args.soak_requests`` mixed requests from ``args.soak_clients`` clients, each sending its
    next request when its last one answered; the server's RSS sampled every second throughout."""
    from gradio_client import handle_file
    print("\n## 6. Soak\n")
    photos = held_out_photos(workdir / "held-out", args.quick)
    plan = soak_plan(args.soak_requests, photos)
    zoom = Zoom(server.url)
    lock = threading.Lock()
    state = dict(next=0, done=0, failed=0, by_kind={}, errors=[])
    samples: list[tuple[float, int, int]] = []          # (s since the start, requests answered, RSS bytes)
    stop = threading.Event()
    t0 = time.perf_counter()

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.perf_counter() - t0, state["done"], server.status("VmRSS")))
            stop.wait(1.0)

    def client_loop(i: int) -> None:
        from gradio_client import Client
        client = Client(server.url, verbose=False, download_files=False,   # the server's file values, as the page
                        analytics_enabled=False)                          # keeps them
        rng = np.random.default_rng(100 + i)
        last_files = None
        while True:
            with lock:
                if state["next"] >= len(plan):
                    return
                kind, photo, scale = plan[state["next"]]
                state["next"] += 1
            try:
                if kind == "zoom" and last_files is not None and zoom.fn_index is not None:
                    zoom(last_files, rng, args.timeout)
                elif kind == "study":
                    client.predict(handle_file(str(photo)), scale, api_name="/inside_study")
                else:
                    if kind == "zoom":
                        kind = "compare"   # nothing to zoom into yet
                    mode, src = (("Upscale", upscale_input(photo, scale, workdir / "held-out")) if kind == "upscale"
                                 else ("Benchmark", photo))
                    result = client.predict(handle_file(str(src)), scale, mode, api_name="/compare")
                    last_files = [file_value(item) for item in result[:4]]
                with lock:
                    state["by_kind"][kind] = state["by_kind"].get(kind, 0) + 1
            except Exception as e:  # noqa: BLE001  counted and shown: a soak reports failures, it does not stop
                with lock:
                    state["failed"] += 1
                    state["errors"].append(f"{kind} x{scale:g} {photo.name}: {error_text(e)}")
            with lock:
                state["done"] += 1

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    clients = [threading.Thread(target=client_loop, args=(i,)) for i in range(args.soak_clients)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    stop.set()
    sampler.join()
    samples.append((time.perf_counter() - t0, state["done"], server.status("VmRSS")))
    n = len(plan)

    def rss_at(done: int) -> int:
        """RSS at the first sample with at least ``done`` requests answered."""
        return next((rss for _, d, rss in samples if d >= done), samples[-1][2])

    def mean_rss(lo: float, hi: float) -> float:
        vals = [rss for _, d, rss in samples if lo * n <= d <= hi * n]
        return float(np.mean(vals)) if vals else float("nan")

    warm = max(1, n // 20)
    rows = [("after start (models ready)", 0, mb(server.rss_ready)),
            (f"warm-up ({warm} requests)", warm, mb(rss_at(warm)))]
    rows += [(f"{q}% of the requests", int(n * q / 100), mb(rss_at(int(n * q / 100)))) for q in (25, 50, 75)]
    rows.append(("end", state["done"], mb(samples[-1][2])))
    peak = max(rss for _, _, rss in samples)
    q2, q4 = mean_rss(0.25, 0.5), mean_rss(0.75, 1.0)
    print(table("soak", rows))
    print()
    served = n - state["failed"]
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(state["by_kind"].items()))
    print(table("soak_summary", [
        ("Clients", args.soak_clients), ("Requests sent", n), ("Requests served", served), ("Failed", state["failed"]),
        ("Served by kind", kinds), ("Photos", ", ".join(p.stem for p in photos)),
        ("Wall time (s)", f"{samples[-1][0]:.0f}"), ("Peak RSS (MB)", mb(peak)),
        ("Mean RSS, 2nd quarter of the requests (MB)", mb(q2)), ("Mean RSS, last quarter (MB)", mb(q4)),
        ("Flatness (last quarter / 2nd quarter)", f"{q4 / q2:.3f}"),
    ]))
    if state["errors"]:
        print("\nFailures (first 10):\n" + "\n".join(f"- {short(e, 300)}" for e in state["errors"][:10]))
    curve = [(f"{t:.0f}", d, mb(rss)) for t, d, rss in samples[:: max(1, len(samples) // 24)]]
    print("\nThe curve (every few samples):\n")
    print(table("soak_curve", curve))
    out["soak"] = dict(n=n, served=served, failed=state["failed"], warm=rss_at(warm), mid=rss_at(n // 2),
                       end=samples[-1][2], peak=peak, flat=q4 / q2, clients=args.soak_clients)
