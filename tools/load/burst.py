"""Section 1, burst: N users at once, each with its own client and photo; latencies, whether each
got their own photo back, the server's memory and temp folder."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from tools.load.clients import Request, error_text, new_client, submit
from tools.load.photos import Photos, modcrop, size_for
from tools.load.report import mb, percentile, short, table
from tools.load.server import MemorySampler, Server
from ui.server import lane_of  # stdlib only: no Gradio

LABELS = {"bicubic": "Bicubic", "srcnn": "SRCNN", "residual": "Residual SRCNN"}   # ui.common.METHOD_LABELS


def burst_requests(args, photos: Photos) -> list[Request]:
    """The burst's users: sizes spread from small to large, study users spread over them."""
    n_cmp, n_study = args.users, args.study_users
    lo, hi = (0.03, 0.08) if args.quick else (0.3, 1.0)
    n = n_cmp + n_study
    aspects = (4 / 3, 1.0, 3 / 4)
    study = {int((k + 0.5) * n / n_study) for k in range(n_study)}   # study users spread over the sizes
    reqs = []
    for i in range(n):
        mp = lo + (hi - lo) * i / max(n - 1, 1)
        endpoint = "/inside_study" if i in study else "/compare"
        w, h = size_for(mp, aspects[i % 3])
        name = f"user{i + 1:02d}"
        reqs.append(Request(name, endpoint, photos.new(name, w, h), (w, h)))
    return reqs


def send_all_at_once(server: Server, reqs: list[Request], args, workdir: Path) -> dict:
    """Every user's own Client made beforehand, then all requests sent together (a barrier);
    returns the wall time, the server's CPU cores in use and its memory before and at peak."""
    clients = {}
    threads = [threading.Thread(target=lambda r=r: clients.__setitem__(
        r.user, new_client(server.url, workdir / "downloads" / r.user))) for r in reqs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    barrier = threading.Barrier(len(reqs) + 1)

    def go(req: Request) -> None:
        client = clients[req.user]
        barrier.wait()
        t0 = time.perf_counter()
        try:
            req.result = submit(client, req.endpoint, req.photo, args.scale).result(timeout=args.timeout)
        except Exception as e:  # noqa: BLE001 - every failure is reported, none stops the test
            req.error = error_text(e)
        req.seconds = time.perf_counter() - t0

    rss_before, cpu_before = server.status("VmRSS"), server.cpu()
    threads = [threading.Thread(target=go, args=(r,)) for r in reqs]
    for t in threads:
        t.start()
    with MemorySampler(server) as mem:
        barrier.wait()
        t0 = time.perf_counter()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
    return dict(wall=wall, cores=(server.cpu() - cpu_before) / wall, rss_before=rss_before, peak=mem.peak,
                hwm=server.status("VmHWM"))


def print_burst(reqs: list[Request], seen: dict, files: int, size: int) -> None:
    """The burst's tables: per endpoint, per user, the server's memory and CPU."""
    rows = []
    for endpoint in ("/compare", "/inside_study"):
        group = [r for r in reqs if r.endpoint == endpoint]
        if not group:
            continue
        ok = [r.seconds for r in group if r.error is None]
        full = sum(r.queue_full for r in group)
        rows.append((endpoint, len(group), len(ok), len(group) - len(ok) - full, full,
                     percentile(ok, 50), percentile(ok, 90), f"{max(ok):.2f}" if ok else "-"))
    print(table("burst", rows))
    print(f"\nAll {len(reqs)} requests sent at once (each user's own Client, created beforehand); latency from "
          f"sending to the last output downloaded: upload, waiting, computing, PNG files. "
          f"Last answer after {seen['wall']:.1f} s.\n")
    rows = []
    for r in reqs:
        px = r.size[0] * r.size[1]
        rows.append((r.user, r.endpoint, f"{r.size[0]}x{r.size[1]} ({px / 1e6:.2f} MP)", lane_of(px),
                     f"{r.seconds:.2f}", "ok" if r.error is None else short(r.error, 120),
                     r.checks.get("gt", "-"), r.checks.get("psnr", "-")))
    print(table("burst_users", rows))
    print("\nOwn ground truth: the returned ground-truth PNG has the pixels of the user's upload, modcropped. "
          "PSNR: the served table against srcnn.compare run here on the same photo (after the burst).\n")
    print(table("burst_server", [
        ("RSS before the burst (MB)", mb(seen["rss_before"])),
        ("Peak RSS during the burst, sampled every 0.1 s (MB)", mb(seen["peak"])),
        ("VmHWM, peak RSS since the server started (MB)", mb(seen["hwm"])),
        ("Server CPU during the burst (cores in use, on average)", f"{seen['cores']:.2f}"),
        ("Temp folder after the burst", f"{files} files, {mb(size)} MB"),
    ]))


def run_burst(server: Server, args, photos: Photos, workdir: Path, out: dict) -> None:
    print("\n## 1. A burst of users\n")
    reqs = burst_requests(args, photos)
    seen = send_all_at_once(server, reqs, args, workdir)
    files, size = server.temp_size()
    out["burst_temp"] = (files, size)
    check_own_photos(reqs, args.scale)
    print_burst(reqs, seen, files, size)
    failures = [r for r in reqs if r.error]
    if failures:
        print("\nFailures:\n" + "\n".join(f"- {r.user} {r.endpoint}: {short(r.error, 400)}" for r in failures))
    crossed = [r.user for r in reqs if r.result is not None
               and (r.checks.get("gt") != "yes" or "DIFFERENT" in r.checks.get("psnr", ""))]
    n = len(reqs)
    out["burst"] = dict(n=n, ok=n - len(failures), failed=len(failures), queue_full=sum(r.queue_full for r in reqs),
                        p50=percentile([r.seconds for r in reqs if not r.error], 50),
                        max=max((r.seconds for r in reqs if not r.error), default=float("nan")),
                        crossed=crossed, checked=sum("gt" in r.checks for r in reqs),
                        peak=seen["peak"], files=files, size=size)


def check_own_photos(reqs: list[Request], scale: int) -> None:
    """Each user's returned ground truth equals their upload modcropped (pixels); /compare's PSNRs
    equal srcnn.compare run here on their photo (within 1e-6). Run after the burst, not during it."""
    import srcnn
    from ui.study import OUTPUT_NAMES          # /inside_study's outputs, in order
    for r in reqs:
        if r.result is None:
            continue
        try:
            with Image.open(r.photo) as im:
                img = im.convert("RGB")
            expected = modcrop(np.asarray(img), scale)
            gt_path = r.result[0] if r.endpoint == "/compare" else r.result[OUTPUT_NAMES.index("ground_truth")]
            with Image.open(gt_path) as im:
                got = np.asarray(im.convert("RGB"))
            r.checks["gt"] = "yes" if got.shape == expected.shape and np.array_equal(got, expected) else "NO"
            if r.endpoint == "/compare":
                served = {row[0]: float(row[1]) for row in r.result[4]["data"]}
                local = srcnn.compare(img, scale)
                diff = max(abs(served[LABELS[m]] - local.results[m].psnr) for m in srcnn.METHODS)
                r.checks["psnr"] = f"max diff {diff:.1e} dB" + ("" if diff <= 1e-6 else " (DIFFERENT)")
        except Exception as e:  # noqa: BLE001 - a check that cannot run is reported, not fatal
            r.checks.setdefault("gt", "check failed: " + short(error_text(e), 80))
