"""Section 5, SIGTERM while one request computes and one waits for its lane."""

from __future__ import annotations

import signal
import time
from pathlib import Path

from tools.load.clients import describe, error_text, new_client, submit, wait_progress
from tools.load.photos import Photos
from tools.load.report import mb, short, table
from tools.load.server import Server


def run_sigterm(server: Server, args, photos: Photos, workdir: Path, out: dict) -> None:
    print("\n## 5. SIGTERM\n")
    side = 1400 if args.quick else 1600            # both in the big lane: one computes, the other waits
    clients = [new_client(server.url, workdir / "downloads" / f"term{i}") for i in (1, 2)]
    jobs = []
    for i, (c, until) in enumerate(zip(clients, ("tile", "Waiting for a free lane"))):
        jobs.append(submit(c, "/compare", photos.new(f"term{i + 1}", side, side), args.scale))
        wait_progress(jobs[-1:], until, 120)       # #1 computes its tiles, then #2 waits for the lane
    states = [describe(j) for j in jobs]
    files_before = server.temp_size()
    t_wall, t0 = time.time(), time.perf_counter()
    server.proc.send_signal(signal.SIGTERM)
    answered = [None, None]
    exit_s = None
    while time.perf_counter() - t0 < 60 and (None in answered or exit_s is None):
        if exit_s is None and server.proc.poll() is not None:
            exit_s = time.perf_counter() - t0
        for i, job in enumerate(jobs):
            if answered[i] is None and job.done():
                answered[i] = time.perf_counter() - t0
        time.sleep(0.02)
    got = []
    for job in jobs:
        if not job.done():
            got.append("nothing within 60 s")
            continue
        try:
            job.result(timeout=0)
            got.append("a result (the request completed)")
        except Exception as e:  # noqa: BLE001
            got.append(error_text(e))
    rows = [(f"#{i + 1}: {side}x{side} /compare", states[i],
             f"{answered[i]:.2f}" if answered[i] is not None else "-", short(got[i], 300)) for i in range(2)]
    print(table("sigterm", rows))
    print()
    left = server.temp_size() if server.instance_dir() else None
    stops = server.log_times("The server is restarting", t_wall)
    lines = server.log_text().splitlines()
    first = max((i for i, line in enumerate(lines) if "SIGTERM: stopping" in line), default=len(lines))
    keys = ("SIGTERM", "request", "at shutdown", "Keyboard interruption", "Error", "Exception")
    log_lines = list(dict.fromkeys(short(line, 200) for line in lines[first:] if any(k in line for k in keys)))[:15]
    print(table("sigterm_server", [
        ("Exit after SIGTERM (s)", f"{exit_s:.2f}" if exit_s is not None else "still running after 60 s"),
        ("Exit code", server.proc.returncode),
        ("Requests stopped with 'The server is restarting' (server log)", len(stops)),
        ("Temp folder before SIGTERM", f"{files_before[0]} files, {mb(files_before[1])} MB"),
        ("Temp folder after exit", "removed" if left is None else f"{left[0]} files, {mb(left[1])} MB left"),
    ]))
    if log_lines:
        print("\nServer log after SIGTERM (relevant lines):\n" + "\n".join(f"    {line}" for line in log_lines))
    out["sigterm"] = dict(exit_s=exit_s, got=got, left=left, answered=answered)
