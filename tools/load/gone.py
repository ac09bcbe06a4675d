"""Section 2, client gone: a request whose client disappears while it computes (the helper process
that made it killed, or ``job.cancel()``); what the server does after."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

from tools.load.clients import new_client, submit, wait_started
from tools.load.photos import Photos
from tools.load.report import mb, table
from tools.load.server import ROOT, Server, die_with_parent


def helper_main(argv: list[str]) -> None:
    """``load_test.py _submit URL ENDPOINT PHOTO SCALE DOWNLOADS``: submit the request, say
    'started' once the handler runs, then wait for the result (until killed)."""
    url, endpoint, photo, scale, downloads = argv
    job = submit(new_client(url, Path(downloads)), endpoint, Path(photo), int(scale))
    print("submitted", flush=True)
    print("started" if wait_started(job, 300) else "not started", flush=True)
    job.result()
    print("done", flush=True)


def cpu_after_gone(server: Server, p_gone: float, window: float, idle_rate: float) -> tuple[float, float]:
    """Sample the server's CPU every 0.1 s for ``window`` s after the client went (at
    perf_counter ``p_gone``): (CPU-seconds used, the last moment it used more than 30% of a core
    in a 0.5-s window, or 3x its idle rate)."""
    c_gone = server.cpu()
    samples = [(0.0, c_gone)]
    while time.perf_counter() - p_gone < window:
        time.sleep(0.1)
        samples.append((time.perf_counter() - p_gone, server.cpu()))
    busy_until = 0.0
    for i, (t, c) in enumerate(samples):
        j = max(k for k in range(i + 1) if t - samples[k][0] >= 0.5 or k == 0)
        if t - samples[j][0] > 0 and (c - samples[j][1]) / (t - samples[j][0]) > max(0.3, 3 * idle_rate):
            busy_until = t
    return samples[-1][1] - c_gone, busy_until


def gone_once(server: Server, args, photo: Path, workdir: Path, endpoint: str, delay: float, window: float) -> dict:
    """One request whose client goes ``delay`` s after the handler started; what the server did after."""
    results = server.temp / "srcnn"
    before = server.temp_size("srcnn")[0]
    c0 = server.cpu()
    idle_s = 1.0 if args.quick else 2.0
    time.sleep(idle_s)
    idle_rate = (server.cpu() - c0) / idle_s
    t_submit = time.time()
    keep = None
    if args.gone_via == "kill":
        helper = subprocess.Popen([sys.executable, "-m", "tools.load_test", "_submit", server.url, endpoint, str(photo),
                                   str(args.scale), str(workdir / "downloads" / "gone")], cwd=ROOT,
                                  stdout=subprocess.PIPE, text=True, preexec_fn=die_with_parent)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=lambda: [lines.put(x.strip()) for x in helper.stdout], daemon=True).start()
        state = ""
        deadline = time.perf_counter() + 120
        while state not in ("started", "not started", "done") and time.perf_counter() < deadline:
            try:
                state = lines.get(timeout=1)
            except queue.Empty:
                if helper.poll() is not None:
                    break
        how = "the helper process that made the request was killed (SIGKILL): its connections closed"
    else:
        client = new_client(server.url, workdir / "downloads" / "gone")
        job = submit(client, endpoint, photo, args.scale)
        state = "started" if wait_started(job, 120) else "not started"
        keep = (client, job)
        how = "job.cancel() and client.close() in this process (the Client object stays alive)"
    c1 = server.cpu()
    time.sleep(delay)
    cpu_working = (server.cpu() - c1) / delay
    if args.gone_via == "kill":
        helper.kill()
        helper.wait()
        finished = "done" in list(lines.queue)
    else:
        client, job = keep
        finished = job.done()
        job.cancel()
        getattr(client, "close", lambda: None)()
    t_gone, p_gone = time.time(), time.perf_counter()
    cpu_after, busy_until = cpu_after_gone(server, p_gone, window, idle_rate)
    after = server.temp_size("srcnn")[0]
    new = [p for p in results.rglob("*") if p.is_file() and p.stat().st_mtime >= t_submit] if results.exists() else []
    stopped = server.log_times("The client disconnected", t_submit)
    if keep:
        server.wait_idle(120)        # the cancelled job may still be computing: let it end first
    del keep
    return dict(how=how, state=state, delay=delay, finished=finished, cpu_working=cpu_working, cpu_after=cpu_after,
                idle_rate=idle_rate, busy_until=busy_until, before=before, after=after, written_n=len(new),
                stop=stopped[0] - t_gone if stopped else None,
                written="none" if not new else f"{len(new)} ({mb(sum(p.stat().st_size for p in new))} MB)")


def run_gone(server: Server, args, photos: Photos, workdir: Path, out: dict) -> None:
    print("\n## 2. Client gone\n")
    side = 1200 if args.quick else 2000
    window = 3.0 if args.quick else 10.0
    photo = photos.new("gone", side, side)
    endpoint = "/" + args.gone_endpoint
    runs = []
    for delay in args.gone_moments:
        server.wait_idle()
        runs.append(gone_once(server, args, photo, workdir, endpoint, delay, window))
    g = runs[0]
    stop_s = f"{g['stop']:.2f}" if g["stop"] is not None else "not logged"
    out["gone_written"] = g["written_n"]
    print(table("gone", [
        ("Request",
         f"{side}x{side} {endpoint}" + (" (Benchmark)" if endpoint == "/compare" else "") + f", x{args.scale}"),
        ("How the client went", g["how"]),
        ("Handler state when the client went", f"{g['state']}, then {g['delay']:.1f} s more"),
        ("Server CPU while computing (cores)", f"{g['cpu_working']:.2f}"),
        (f"Server CPU seconds in the {window:.0f} s after the disconnect", f"{g['cpu_after']:.2f}"),
        (f"Idle server, for comparison (CPU s per {window:.0f} s)", f"{g['idle_rate'] * window:.2f}"),
        ("Server busy (> 30% of a core) until, after the disconnect (s)", f"{g['busy_until']:.1f}"),
        ("'The client disconnected.' in the server log after (s)", stop_s),
        ("Files in the temp folder's srcnn/ before / after", f"{g['before']} / {g['after']}"),
        ("Result PNGs written for this request", g["written"]),
    ]))
    print(f"\nThe same request, its client gone at {len(runs)} moments of its computation (a new request each "
          "time; the stop is the log line's time after the disconnect):\n")
    print(table("gone_moments", [(f"{r['delay']:.1f}", "answered before the client went" if r["finished"] else
                                  f"{r['stop']:.2f}" if r["stop"] is not None else "not logged",
                                  f"{r['busy_until']:.1f}", f"{r['cpu_after']:.2f}", r["written"]) for r in runs]))
    runs = [r for r in runs if not r["finished"]]
    stops = [r["stop"] for r in runs if r["stop"] is not None]
    out["gone"] = dict(endpoint=endpoint, cpu_after=g["cpu_after"], window=window, busy_until=g["busy_until"],
                       stop_s=stop_s, written=g["written"], via=args.gone_via, moments=len(runs),
                       moments_gone=len(runs), logged=len(stops), worst=max(stops) if stops else None,
                       written_any=sum(r["written_n"] for r in runs))
