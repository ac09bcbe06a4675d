"""Section 4, temp files: the main server's temp folder, and a second server's sweeper at work."""

from __future__ import annotations

import time
from pathlib import Path

from tools.load.clients import new_client, submit
from tools.load.photos import Photos
from tools.load.report import mb, table
from tools.load.server import Server

DEFAULT_MAX_AGE = 14 * 60.0  # ui.server.MAX_AGE_S when SRCNN_TEMP_MAX_AGE is unset (as for the main server)


def run_temp(server: Server, temp_server: Server | None, args, photos: Photos, workdir: Path, out: dict) -> None:
    print("\n## 4. Temp files\n")
    rows = []
    default = f"{DEFAULT_MAX_AGE:g} s"
    if "burst_temp" in out:
        files, size = out["burst_temp"]
        rows.append((f"main ({default})", "right after the burst", files, mb(size)))
    files, size = server.temp_size()
    rows.append((f"main ({default})", "now (after the sections above)", files, mb(size)))
    swept_after = None
    if temp_server is not None:
        age = temp_server.max_age
        every = min(60.0, age / 4)
        label = f"second ({age:g} s, sweeps every {every:g} s)"
        files, size = temp_server.temp_size()
        floor = files          # the example photos' copies, which never expire
        rows.append((label, "before its requests (the example photos)", files, mb(size)))
        client = new_client(temp_server.url, workdir / "downloads" / "temp")
        side = 250 if args.quick else 700
        for i in (1, 2):
            submit(client, "/compare", photos.new(f"temp{i}", side, side), args.scale).result(timeout=args.timeout)
        t0 = time.perf_counter()
        last = temp_server.temp_size()
        rows.append((label, f"right after two {side}x{side} /compare", last[0], mb(last[1])))
        deadline = t0 + age + every + (5 if args.quick else 15)
        while time.perf_counter() < deadline:
            time.sleep(0.25)
            now = temp_server.temp_size()
            if now != last:
                rows.append((label, f"{time.perf_counter() - t0:.1f} s after", now[0], mb(now[1])))
                last = now
                if now[0] <= floor:
                    swept_after = time.perf_counter() - t0
                    break
        if last[0] > floor:
            rows.append((label, f"{time.perf_counter() - t0:.1f} s after (gave up waiting)", last[0], mb(last[1])))
    print(table("temp", rows))
    print("\nThe sweeper (ui.server.TempStore.start_sweeper) deletes files unused for the max age "
          "(SRCNN_TEMP_MAX_AGE; 14 minutes by default), checking every min(60 s, max age / 4); the "
          "example photos never expire.")
    out["temp"] = dict(swept_after=swept_after, age=temp_server.max_age if temp_server else None)
