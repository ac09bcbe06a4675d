"""Section 3, small behind big: a small ``/compare`` alone, then while two of the largest are in
flight."""

from __future__ import annotations

import time
from pathlib import Path

from tools.load.clients import describe, error_text, new_client, submit, wait_progress, wait_started
from tools.load.photos import Photos
from tools.load.report import short, table
from tools.load.server import Server
from ui.server import SMALL_JOB_PIXELS, lane_of  # stdlib only: no Gradio

MAX_SIDE = 2048            # the largest photo this test sends: the study tab's limit (srcnn.uploads.MAX_OUTPUT_PIXELS)


def run_small(server: Server, args, photos: Photos, workdir: Path, out: dict) -> None:
    print("\n## 3. Small behind big\n")
    big = 1100 if args.quick else MAX_SIDE
    small = 200 if args.quick else 300
    alone_photo, loaded_photo = photos.new("small-alone", small, small), photos.new("small-loaded", small, small)
    big_photos = [photos.new(f"big{i}", big, big) for i in (1, 2)]
    c_small = new_client(server.url, workdir / "downloads" / "small")
    big_clients = [new_client(server.url, workdir / "downloads" / f"big{i}") for i in (1, 2)]
    errors = []

    def small_request(photo: Path) -> float:
        t0 = time.perf_counter()
        try:
            submit(c_small, "/compare", photo, args.scale).result(timeout=args.timeout)
        except Exception as e:  # noqa: BLE001
            errors.append(error_text(e))
        return time.perf_counter() - t0

    alone = small_request(alone_photo)
    server.wait_idle()
    t0 = time.perf_counter()
    jobs = [submit(c, "/compare", p, args.scale) for c, p in zip(big_clients, big_photos)]
    for job in jobs:
        wait_started(job, 120)
    wait_progress(jobs, "tile", 120)     # both in the handler: one computes its tiles, one waits for the big lane
    states = [describe(j) for j in jobs]
    loaded = small_request(loaded_photo)
    done = [None, None]
    while None in done and time.perf_counter() - t0 < args.timeout:
        for i, job in enumerate(jobs):
            if done[i] is None and job.done():
                done[i] = time.perf_counter() - t0
        time.sleep(0.05)
    for job in jobs:
        try:
            job.result(timeout=1)
        except Exception as e:  # noqa: BLE001
            errors.append(error_text(e))
    lanes = lane_of(small * small), lane_of(big * big)
    rows = [(f"{small}x{small} /compare alone", lanes[0], f"{alone:.2f}"),
            (f"{small}x{small} /compare with the two {big}x{big} below in flight", lanes[0], f"{loaded:.2f}")]
    rows += [(f"{big}x{big} /compare #{i + 1} (sent together; {states[i]} when the small one was sent)", lanes[1],
              f"{d:.2f}" if d is not None else "no answer") for i, d in enumerate(done)]
    print(table("small", rows))
    print(f"\nLanes (ui.server): output up to {SMALL_JOB_PIXELS / 1e6:g} MP takes the small lane, larger the big one; "
          "one computation per lane.")
    if errors:
        print("\nFailures:\n" + "\n".join(f"- {short(e, 400)}" for e in errors))
    out["small"] = dict(alone=alone, loaded=loaded, big=big, small=small, errors=len(errors))
