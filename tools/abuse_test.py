"""What one visitor can do to the app, measured on the real server: ``python -m tools.abuse_test``.

Starts the app as a Hugging Face Space starts it (``python app.py`` with ``SYSTEM=spaces`` and
``SPACE_ID=someone/srcnn-studio``, offline, its own temp folder; tools.load_test.Server), then
tries what an abusive (or unlucky) visitor would. Clients are told apart as on a Space, by the
first address of ``X-Forwarded-For`` (a header only: every request goes to 127.0.0.1). Sections,
each a Markdown table:

1. **flood**: ``--flood-connections`` connections (4) send distinct ``--flood-file-mb`` MB files
   (20) to ``/gradio_api/upload`` as fast as they can, ``--flood-gb`` GB (3) in all, from one
   address; then the same from a new address for every request (the per-address rate does not
   apply: the folder's cap and its least-recently-used removal do). Meanwhile another address
   uploads a photo and calls ``/compare`` every few seconds. Reported: the answers' status codes,
   the app's folder at its largest (sampled every 0.1 s), the other visitor's results;
2. **burst**: one address keeps ``--burst`` (24) x4 ``/compare`` requests on a 1-MP photo in
   flight (each sent again when answered, 0.2 s after a refusal); another's 200x200 x2 ``/compare``, sent
   ``--probes`` (5) times one after the other, is timed;
3. **params**: ``/compare`` with a 10 MB scale string, a 10 kB one, and a 10 MB mode string sent
   without Content-Length: status, the answer's length and the server's RSS before and at its peak;
4. **paths**: ``GET /gradio_api/file=%00``; a HEAD, a 4-byte range GET and a whole GET of a stored
   file (which of them count as a use); an upload the client aborts halfway (a raw socket closed
   after half the body): statuses, the log line, and the partial files left;
5. **memory** (with burst, on its server): after the burst, ``--studies`` (2) studies of 4-MP photos
   and Upscales to 4 MP, then the server's RSS after start, at its peak, and after ``--idle``
   (60) s idle;
6. **log**: the tracebacks in the server's log, start-up included (none expected).

``--quick`` shrinks the sizes (the test runs it). Figures are wall seconds on this machine,
whose cores the clients share; nothing is asserted.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import sys
import threading
import time
import uuid
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

from tools.load.server import PeakSampler
from tools.load_test import MemorySampler, Server, make_photo, no_proxy_for_localhost, page_config, percentile


SPACE = {"SYSTEM": "spaces", "SPACE_ID": "someone/srcnn-studio"}
ATTACKER, VISITOR = "203.0.113.5", "198.51.100.7"     # documentation addresses, as X-Forwarded-For only
SECTIONS = ("flood", "burst", "params", "paths", "memory", "disk", "log")


# --------------------------------------------------------------------------- the server and its clients


@contextmanager
def environment(**values):
    """os.environ with ``values`` while a server is started (tools.load_test.Server copies it)."""
    old = {k: os.environ.get(k) for k in values}
    os.environ.update({k: str(v) for k, v in values.items()})
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


SETTINGS: dict[str, str] = {}      # --set KEY=VALUE: for every server started


def space_server(workdir: Path, name: str, temp: Path | None = None, **env) -> Server:
    """The app started as on a Space (``temp``: its GRADIO_TEMP_DIR; ``env``: more variables)."""
    with environment(**SPACE, **SETTINGS, **env):
        srv = Server(workdir, name, temp=temp)
    srv.wait_http(300)
    srv.wait_models(300)
    return srv


def http(url: str, address: str, timeout: float = 300.0):
    """An HTTP client of ``url`` that says it comes from ``address`` (X-Forwarded-For)."""
    import httpx
    return httpx.Client(base_url=url, trust_env=False, timeout=timeout, headers={"X-Forwarded-For": address})


def folder_peak(srv: Server) -> PeakSampler:
    """The app's folder size (bytes) sampled every 0.1 s in a thread; ``peak``."""
    return PeakSampler(lambda: srv.temp_size()[1])


def upload(client, path_or_bytes, name: str = "photo.png") -> dict:
    """POST /gradio_api/upload: the file value the page would send on, or RuntimeError."""
    data = path_or_bytes.read_bytes() if isinstance(path_or_bytes, Path) else path_or_bytes
    r = client.post("/gradio_api/upload", files={"files": (name, data, "image/png")})
    if r.status_code != 200:
        raise RuntimeError(f"upload: {r.status_code} {r.text[:200]}")
    return {"path": r.json()[0], "orig_name": name, "meta": {"_type": "gradio.FileData"}}


def call(client, fn_index: int, data: list) -> tuple[int, dict | str]:
    """One event as the page sends it (queue/join, then its event stream): (HTTP status of the
    join, the completion message or the refusal's text)."""
    session = uuid.uuid4().hex[:11]
    r = client.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn_index, "session_hash": session,
                                                    "event_data": None, "trigger_id": None})
    if r.status_code != 200:
        return r.status_code, r.text
    with client.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return 200, msg
    return 200, "the event stream ended without an answer"


def compare_index(url: str) -> int:
    config = page_config(url)
    return next(d.get("id", i) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "compare")


def png_bytes(seed: int, width: int, height: int) -> bytes:
    buf = io.BytesIO()
    make_photo(seed, width, height).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


# --------------------------------------------------------------------------- 1. flood


def flood(srv: Server, args, fn: int, new_address_each: bool) -> dict:
    """The upload flood with a visitor beside it; counts and figures."""
    size = int(args.flood_file_mb * 1e6)
    n_files = max(1, int(args.flood_gb * 1e9 // size))
    blob = os.urandom(size)
    statuses, errors, sent_bytes = Counter(), Counter(), [0]
    counter = iter(range(n_files))
    lock = threading.Lock()

    def attacker(k: int) -> None:
        with http(srv.url, ATTACKER) as c:
            while True:
                with lock:
                    i = next(counter, None)
                if i is None:
                    return
                if new_address_each:
                    c.headers["X-Forwarded-For"] = f"203.0.{i // 250}.{i % 250 + 1}"
                body = i.to_bytes(8, "big") + blob[8:]          # distinct content: distinct files
                try:
                    r = c.post("/gradio_api/upload", files={"files": (f"f{i}.bin", body)})
                    with lock:
                        statuses[r.status_code] += 1
                        sent_bytes[0] += size
                except Exception as e:                          # noqa: BLE001  counted and shown
                    with lock:
                        errors[type(e).__name__] += 1

    visits, stop = [], threading.Event()

    def visitor() -> None:
        seed = 100
        with http(srv.url, VISITOR) as c:
            while not stop.is_set():
                seed += 1
                t0 = time.perf_counter()
                try:
                    value = upload(c, png_bytes(seed, 200, 200))
                    status, msg = call(c, fn, [value, "2", "Benchmark", "PNG (clean)", "Auto"])
                    ok = status == 200 and isinstance(msg, dict) and msg.get("success")
                    visits.append((time.perf_counter() - t0, "result" if ok else f"failed: {str(msg)[:120]}"))
                except Exception as e:                          # noqa: BLE001
                    visits.append((time.perf_counter() - t0, f"failed: {type(e).__name__}: {str(e)[:120]}"))
                stop.wait(2.0)

    t0 = time.perf_counter()
    with folder_peak(srv) as folder:
        threads = [threading.Thread(target=attacker, args=(k,)) for k in range(args.flood_connections)]
        watcher = threading.Thread(target=visitor)
        for t in [*threads, watcher]:
            t.start()
        for t in threads:
            t.join()
        stop.set()
        watcher.join()
    wall = time.perf_counter() - t0
    return {"statuses": statuses, "errors": errors, "bytes": sent_bytes[0], "wall": wall, "peak": folder.peak,
            "visits": visits, "files": n_files}


def run_flood(args, workdir: Path, out: dict) -> None:
    print("\n## 1. Upload flood\n")
    srv = space_server(workdir, "flood")
    out["servers"].append(srv)
    try:
        fn = compare_index(srv.url)
        rows = []
        for label, each in (("one address", False), ("a new address each request", True)):
            r = flood(srv, args, fn, each)
            codes = ", ".join(f"{k}: {v}" for k, v in sorted(r["statuses"].items()))
            errs = ", ".join(f"{k}: {v}" for k, v in r["errors"].items()) or "none"
            ok = sum(1 for _, what in r["visits"] if what == "result")
            times = [s for s, what in r["visits"] if what == "result"]
            rows += [(label, "files sent (MB each)", f"{r['files']} ({args.flood_file_mb:g})"),
                     (label, "sent in (s)", f"{r['wall']:.1f}"),
                     (label, "answers", codes), (label, "client errors", errs),
                     (label, "app's folder at its largest (MB)", f"{r['peak'] / 1e6:.0f}"),
                     (label, "other visitor: /compare answered", f"{ok} of {len(r['visits'])} "
                      f"(upload + compare p50 {percentile(times, 50)} s, max {percentile(times, 100)} s)")]
            failed = [what for _, what in r["visits"] if what != "result"]
            if failed:
                rows.append((label, "other visitor: failures", "; ".join(failed[:3])))
            out[f"flood_{'many' if each else 'one'}"] = r
        print(table("flood", rows))
    finally:
        srv.stop()


# --------------------------------------------------------------------------- 2. burst


def run_burst(args, workdir: Path, out: dict) -> None:
    print("\n## 2. A burst from one address, a small request from another\n")
    srv = space_server(workdir, "burst")
    out["servers"].append(srv)
    try:
        fn = compare_index(srv.url)
        side = 300 if args.quick else 1000
        with http(srv.url, ATTACKER) as c:
            big = upload(c, png_bytes(1, side, side))
        stop, answers = threading.Event(), Counter()

        def attacker() -> None:
            with http(srv.url, ATTACKER) as c:
                while not stop.is_set():
                    status, msg = call(c, fn, [big, "4", "Benchmark", "PNG (clean)", "Auto"])
                    answers["computed" if status == 200 and isinstance(msg, dict) and msg.get("success")
                            else f"HTTP {status}"] += 1
                    if status != 200:
                        stop.wait(0.2)

        threads = [threading.Thread(target=attacker) for _ in range(args.burst)]
        for t in threads:
            t.start()
        time.sleep(5 if not args.quick else 2)            # the burst is in flight
        probes = []
        with http(srv.url, VISITOR) as c:
            for k in range(args.probes):
                value = upload(c, png_bytes(50 + k, 200, 200))
                t0 = time.perf_counter()
                status, msg = call(c, fn, [value, "2", "Benchmark", "PNG (clean)", "Auto"])
                ok = status == 200 and isinstance(msg, dict) and msg.get("success")
                why = "" if ok else f"HTTP {status}: {(msg if isinstance(msg, str) else json.dumps(msg))[:100]}"
                probes.append((time.perf_counter() - t0, ok, why))
                time.sleep(1)
        stop.set()
        for t in threads:
            t.join()
        times = [s for s, ok, _ in probes if ok]
        rows = [("burst from one address", f"{args.burst} x4 /compare on a {side}x{side} photo, "
                                           "each sent again when answered (0.2 s after a refusal)"),
                ("burst's answers", ", ".join(f"{k}: {v}" for k, v in sorted(answers.items()))),
                ("other address: 200x200 x2 /compare", f"{len(times)} of {len(probes)} answered"),
                ("its latency p50 / max (s)", f"{percentile(times, 50)} / {percentile(times, 100)}")]
        rows += [("its refusal", why.replace("|", "/")) for _, ok, why in probes[:2] if not ok]
        print(table("burst", rows))
        out["burst"] = {"probes": probes, "answers": answers}
        if "memory" in args.sections:
            run_memory(srv, args, out)
    finally:
        srv.stop()


# --------------------------------------------------------------------------- 3. params, 4. paths, 5. memory


def rss_mb(srv: Server, key: str = "VmRSS") -> float:
    return srv.status(key) / 1e6


def run_params(srv: Server, args, out: dict) -> None:
    print("\n## 3. Oversized parameters\n")
    fn = compare_index(srv.url)
    rows = []
    with http(srv.url, VISITOR) as c:
        photo = upload(c, png_bytes(7, 64, 48))
        for label, data, chunked in (("10 MB scale string",
                                      [photo, "9" * 10_000_000, "Benchmark", "PNG (clean)", "Auto"], False),
                                     ("10 kB scale string",
                                      [photo, "9" * 10_000, "Benchmark", "PNG (clean)", "Auto"], False),
                                     ("10 MB mode string, no Content-Length", [photo, "3", "x" * 10_000_000], True)):
            before = rss_mb(srv)
            with MemorySampler(srv) as mem:
                t0 = time.perf_counter()
                if chunked:
                    body = json.dumps({"data": data, "fn_index": fn, "session_hash": uuid.uuid4().hex[:11]}).encode()
                    r = c.post("/gradio_api/queue/join",
                               content=(body[i:i + 65536] for i in range(0, len(body), 65536)),
                               headers={"Content-Type": "application/json"})
                    status, text = r.status_code, r.text
                else:
                    status, msg = call(c, fn, data)
                    text = msg if isinstance(msg, str) else json.dumps(msg.get("output", {}))
                wall = time.perf_counter() - t0
            rows.append((label, status, len(text), text[:150].replace("|", "/"), f"{wall:.2f}",
                         f"{before:.0f} -> {mem.peak / 1e6:.0f} (+{mem.peak / 1e6 - before:.0f})"))
    print(table("params", rows))
    out["params"] = rows


def run_paths(srv: Server, args, out: dict) -> None:
    print("\n## 4. Bad paths and aborted uploads\n")
    rows = []
    with http(srv.url, VISITOR) as c:
        r = c.get("/gradio_api/file=%00")
        rows.append(("GET /gradio_api/file=%00", r.status_code, r.text[:80]))
        r = c.head("/gradio_api/file=%00")
        rows.append(("HEAD /gradio_api/file=%00", r.status_code, ""))
        stored = upload(c, png_bytes(8, 64, 48))
        path = Path(stored["path"])
        for label, method, headers in (("HEAD of a stored file", "HEAD", {}),
                                       ("4-byte GET of a stored file", "GET", {"Range": "bytes=0-3"}),
                                       ("whole GET of a stored file", "GET", {})):
            os.utime(path, (1, 1))                          # last used long ago
            r = c.request(method, f"/gradio_api/file={path}", headers=headers)
            kept = "made it live again" if path.stat().st_mtime > 1 else "its age unchanged"
            rows.append((label, r.status_code, kept))
    own = srv.instance_dir()
    before = {p.name for p in own.iterdir()} if own else set()
    host, port = srv.url.rsplit("/", 1)[1].split(":")
    boundary = "abusetestboundary"
    size = 2_000_000 if args.quick else 20_000_000
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"half.bin\"\r\n"
            "Content-Type: application/octet-stream\r\n\r\n").encode()
    with socket.create_connection((host, int(port))) as s:
        s.sendall((f"POST /gradio_api/upload HTTP/1.1\r\nHost: {host}\r\nX-Forwarded-For: {VISITOR}\r\n"
                   f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                   f"Content-Length: {len(head) + size + 8 + len(boundary)}\r\n\r\n").encode() + head)
        s.sendall(os.urandom(size // 2))
        time.sleep(1.0)
    time.sleep(2.0)
    after = {p.name for p in own.iterdir()} if own else set()
    left = sorted(n for n in after - before if n.startswith("tmp"))
    line = next((ln for ln in srv.log_text().splitlines() if "aborted" in ln), "(none)")
    rows.append(("upload aborted halfway", "-",
                 f"log: {line.split(' INFO ')[-1][:100]}; partial files left: {len(left)}"))
    print(table("paths", rows))
    out["paths"] = rows


def run_memory(srv: Server, args, out: dict) -> None:
    """After the burst, on its server: ``--studies`` studies of 4-MP photos and an Upscale at the
    limit (2048x2048 out), then ``--idle`` s idle."""
    print("\n## 5. Memory after the burst\n")
    config = page_config(srv.url)
    study = next(d.get("id", i) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "inside_study")
    fn = compare_index(srv.url)
    side = 600 if args.quick else 2000
    with http(srv.url, VISITOR) as c:
        for k in range(args.studies):
            photo = upload(c, png_bytes(200 + k, side, side))
            call(c, study, [photo, 3, True, "ours"])
            small = upload(c, png_bytes(300 + k, side // 4, side // 4))
            call(c, fn, [small, "4", "Upscale", "PNG (clean)", "Auto"])
    t0 = time.perf_counter()
    samples = []
    while time.perf_counter() - t0 < args.idle:
        samples.append(rss_mb(srv))
        time.sleep(1)
    rows = [("after start (models warm)", f"{srv.rss_ready / 1e6:.0f}"),
            ("peak (VmHWM), burst and studies", f"{rss_mb(srv, 'VmHWM'):.0f}"),
            (f"after {args.studies} studies of {side}x{side} photos and Upscales to {side}x{side}, "
             f"{args.idle:g} s idle", f"{samples[-1]:.0f}" if samples else "-")]
    print(table("memory", rows))
    out["memory"] = rows


def run_disk(args, workdir: Path, out: dict) -> None:
    print("\n## 6. A full disk\n")
    import shutil
    disk = Path(args.small_disk)
    srv = space_server(workdir, "disk", temp=disk, SRCNN_TEMP_MAX_MB=100_000, SRCNN_UPLOAD_MB_PER_MIN=10_000)
    out["servers"].append(srv)
    filler = disk / "abuse-test-filler.bin"
    config = page_config(srv.url)
    study = next(d.get("id", i) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "inside_study")
    fn = compare_index(srv.url)
    rows = []
    try:
        with http(srv.url, VISITOR) as c:
            photo = upload(c, png_bytes(9, 400, 300))

            def fill(short: int) -> None:
                """The filler grows (or shrinks) until the disk has ``short`` bytes free."""
                size = filler.stat().st_size if filler.exists() else 0
                with open(filler, "ab") as f:
                    f.truncate(max(0, size + shutil.disk_usage(disk).free - short))
                    f.seek(0, 2)
                while shutil.disk_usage(disk).free > short + 8192:     # tmpfs: truncate reserves nothing
                    with open(filler, "ab") as f:
                        f.write(b"\1" * min(1 << 20, shutil.disk_usage(disk).free - short))

            def attempt(state: str, full: bool) -> None:
                if full:
                    fill(2_000_000)
                r = c.post("/gradio_api/upload", files={"files": ("new.bin", os.urandom(3_000_000))})
                rows.append((state, "upload (3 MB)", r.status_code, r.text[:120].replace("|", "/")))
                for name, index, data in (("/compare", fn, [photo, "3", "Benchmark", "PNG (clean)", "Auto"]),
                                          ("/inside_study", study, [photo, 3, True, "ours"])):
                    if full:
                        fill(50_000)
                    status, msg = call(c, index, data)
                    what = (msg if isinstance(msg, str) else "result" if msg.get("success")
                            else json.dumps(msg.get("output", {}).get("error"))[:120])
                    rows.append((state, name, status, what.replace("|", "/")))

            attempt("disk full (2 MB free; 50 kB for the requests)", True)
            filler.unlink()
            attempt("space freed", False)
    finally:
        filler.unlink(missing_ok=True)
        srv.stop()
    print(table("disk", rows))
    out["disk"] = rows


def run_log(out: dict) -> None:
    print("\n## 7. Tracebacks in the servers' logs\n")
    rows = []
    for srv in out["servers"]:
        text = srv.log_text()
        rows.append((srv.name, text.count("Traceback"), len(text.splitlines())))
    print(table("log", rows))
    for srv in out["servers"]:                  # the first traceback of each, to say what it was
        text = srv.log_text()
        if "Traceback" in text:
            start = text.index("Traceback")
            print(f"\n{srv.name}'s first traceback:\n```\n{text[max(0, start - 300):start + 3000]}\n```")


HEADERS = {
    "flood": ("Flood", "What", "Value"),
    "burst": ("Burst", "Value"),
    "params": ("Sent", "HTTP", "Answer (chars)", "Answer", "Seconds", "Server RSS before -> peak (MB)"),
    "paths": ("Request", "HTTP", "Answer"),
    "memory": ("Server RSS", "MB"),
    "disk": ("State", "Request", "HTTP", "Answer"),
    "log": ("Server", "Tracebacks", "Log lines"),
}


def table(name: str, rows: list) -> str:
    """A Markdown table with the header :data:`HEADERS`\\[name]."""
    head = HEADERS[name]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def parse_args(argv=None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes (about two minutes)")
    ap.add_argument("--only", default=",".join(SECTIONS), help=f"sections, comma-separated: {','.join(SECTIONS)}")
    ap.add_argument("--small-disk", help="a folder on a small filesystem (a 150 MB tmpfs) for the disk section")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="an environment variable for the servers started (repeat for more)")
    ap.add_argument("--flood-connections", type=int, default=4)
    ap.add_argument("--flood-file-mb", type=float, help="MB per file (default 20; quick 5)")
    ap.add_argument("--flood-gb", type=float, help="GB sent per flood (default 3; quick 0.2)")
    ap.add_argument("--burst", type=int, help="requests the burst keeps in flight (default 24; quick 6)")
    ap.add_argument("--probes", type=int, help="small requests timed during the burst (default 5; quick 2)")
    ap.add_argument("--studies", type=int, help="4-MP studies after the burst (default 2; quick 1)")
    ap.add_argument("--idle", type=float, help="seconds idle before the last memory sample (default 60; quick 5)")
    args = ap.parse_args(argv)
    quick = {"flood_file_mb": 5, "flood_gb": 0.2, "burst": 6, "probes": 2, "idle": 5, "studies": 1}
    full = {"flood_file_mb": 20, "flood_gb": 3, "burst": 24, "probes": 5, "idle": 60, "studies": 2}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    SETTINGS.update(item.split("=", 1) for item in args.set)
    return args


def main(argv=None) -> int:
    import tempfile
    args = parse_args(argv)
    no_proxy_for_localhost()
    out: dict = {"servers": []}
    with tempfile.TemporaryDirectory(prefix="abuse-test-") as tmp:
        workdir = Path(tmp)
        if "flood" in args.sections:
            run_flood(args, workdir, out)
        if "burst" in args.sections:
            run_burst(args, workdir, out)
        if {"params", "paths"} & set(args.sections):
            srv = space_server(workdir, "main")
            out["servers"].append(srv)
            try:
                if "params" in args.sections:
                    run_params(srv, args, out)
                if "paths" in args.sections:
                    run_paths(srv, args, out)
            finally:
                srv.stop()
        if "disk" in args.sections and args.small_disk:
            run_disk(args, workdir, out)
        if "log" in args.sections:
            run_log(out)
        for srv in out["servers"]:
            srv.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
