"""How the app behaves under load, measured on the real server: ``python -m tools.load_test``.

Starts the app as a Space runs it (a subprocess ``python app.py`` with ``HF_HUB_OFFLINE=1``,
``GRADIO_SERVER_NAME=127.0.0.1``, a free ``GRADIO_SERVER_PORT`` and its own ``GRADIO_TEMP_DIR``
in a temporary folder), waits for HTTP 200, then reports, as Markdown tables:

1. **burst**: N users at once (``--users`` on ``/compare``, ``--study-users`` on
   ``/inside_study``), each with its own ``gradio_client.Client`` and its own photo (seeded,
   photo-like, 0.3 to 1 megapixel): latency per request (p50/p90/max), failures ("Queue is full"
   apart), whether each user got their own photo back (ground-truth pixels equal to the upload
   modcropped; ``/compare`` PSNRs equal to ``srcnn.compare`` run here, within 1e-6), the server's
   peak memory (VmRSS sampled every 0.1 s, and VmHWM) and its temp folder afterwards;
2. **gone**: a 2000x2000 Benchmark ``/compare`` (``--gone-endpoint inside_study`` for the other
   one) whose client disappears about 1 s after the computation starts (the helper process that
   made the request is killed, which closes its event stream; ``--gone-via cancel`` tries
   ``job.cancel()`` in-process instead): the server's CPU seconds in the 10 s after, when it
   stopped (the time from the disconnect to the server's log line saying so), and whether result
   PNGs were written anyway; then the same at other moments of the computation (``--gone-after
   1,3,5``: a new request each), so that every stage is caught, and the slowest stop;
3. **small**: a 300x300 ``/compare`` alone, then while two 2048x2048 ones (the app's limit) are in
   flight, one computing and one waiting for the big lane;
4. **temp**: the temp folder after the burst, then a second server with a short
   ``SRCNN_TEMP_MAX_AGE`` (``--max-age``) showing the sweeper delete files once they are older;
5. **sigterm**: SIGTERM while one request computes and one waits for its lane: how long the
   server takes to exit, what each client is told, and what is left in the temp folder;
6. **soak** (only with ``--only soak``; it runs before sigterm when both are named): memory over a
   long run. ``--soak-clients`` clients (3) share ``--soak-requests`` (400) mixed requests, each
   sending its next when its last one answered: Benchmark ``/compare`` at x2-x4, Upscale at x1.5-x5
   (the photo shrunk so the output stays within 3 MP), ``/inside_study``, and zoom changes (the
   page's private zoom/slider event on the client's last results); held-out photos of 0.3-0.5 MP
   from the installed packages (none of them in examples/). The server's RSS is sampled every
   second: printed after start, after the warm-up (the first 5% of the requests), at 25/50/75%
   and at the end, with the flatness (mean RSS over the last quarter of the requests / over the
   second quarter) and the curve.

``--quick`` shrinks every size (the test runs it); ``--only burst,gone`` picks sections. Figures
are wall seconds on this machine, whose cores the clients share; nothing is asserted. The
servers started here are always stopped (also on errors, Ctrl-C and SIGTERM; and if this process
dies, they get SIGTERM from the kernel).
"""

from __future__ import annotations

import argparse
import math
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
from PIL import Image

from ui.server import INSTANCE_PREFIX, SMALL_JOB_PIXELS, folder_size, free_port, lane_of  # stdlib only: no Gradio

ROOT = Path(__file__).resolve().parents[1]

SECTIONS = ("burst", "gone", "small", "temp", "soak", "sigterm")   # in this order (SIGTERM stops the server)
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s != "soak")       # the soak runs when named: it takes a while
MAX_SIDE = 2048            # the largest photo this test sends: the study tab's limit (srcnn.uploads.MAX_OUTPUT_PIXELS)
LABELS = {"bicubic": "Bicubic", "srcnn": "SRCNN", "residual": "Residual SRCNN"}   # ui.common.METHOD_LABELS
DEFAULT_MAX_AGE = 14 * 60.0  # ui.server.MAX_AGE_S when SRCNN_TEMP_MAX_AGE is unset (as for the main server)
STARTED = {"PROCESSING", "PROGRESS", "ITERATING", "LOG"}   # gradio_client codes once the handler runs

# The tables' header rows (tests/test_load_test.py looks for each of them).
HEADERS = {
    "server": ("Server", "HTTP 200 after (s)", "Models ready after (s)", "RSS when ready (MB)"),
    "burst": ("Endpoint", "Requests", "OK", "Failed", "Queue full", "p50 (s)", "p90 (s)", "Max (s)"),
    "burst_users": ("User", "Endpoint", "Photo", "Lane", "Latency (s)", "Result", "Own ground truth",
                    "PSNR vs local srcnn.compare"),
    "burst_server": ("Server during the burst", "Value"),
    "gone": ("Client gone", "Value"),
    "gone_moments": ("Client gone after (s of computing)", "Stop logged after (s)", "Busy until (s)",
                     "CPU s after", "Result PNGs written"),
    "small": ("Request", "Lane", "Latency (s)"),
    "temp": ("Server (max age)", "When", "Files", "MB"),
    "sigterm": ("Client", "State at SIGTERM", "Answer received (s after SIGTERM)", "What it got"),
    "sigterm_server": ("Server at SIGTERM", "Value"),
    "soak": ("Server RSS during the soak", "Requests answered", "RSS (MB)"),
    "soak_summary": ("Soak", "Value"),
    "soak_curve": ("Seconds", "Requests answered", "RSS (MB)"),
    "parts": ("This process", "RSS (MB)"),
    "parts_split": ("Part", "MB"),
}

# --------------------------------------------------------------------------- small helpers


def table(name: str, rows: list) -> str:
    """A Markdown table with the header :data:`HEADERS`\\[name]."""
    head = HEADERS[name]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.1f}"


def percentile(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "-"


def short(text: str, n: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= n else text[: n - 3] + "..."


def die_with_parent() -> None:
    """In a child, before exec: SIGTERM it when this process dies (Linux prctl PR_SET_PDEATHSIG),
    so that no server outlives a killed load test. Children are started from the main thread."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def make_photo(seed: int, width: int, height: int) -> Image.Image:
    """A distinct photo-like RGB image: smooth colour fields plus detail at two finer scales."""
    rng = np.random.default_rng(seed)

    def layer(cell: int) -> np.ndarray:
        grid = rng.integers(0, 256, (max(2, height // cell), max(2, width // cell), 3), dtype=np.uint8)
        return np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC), np.float32)

    img = 0.6 * layer(48) + 0.3 * layer(8) + 0.1 * layer(2)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def size_for(megapixels: float, aspect: float) -> tuple[int, int]:
    w = int(round(math.sqrt(megapixels * 1e6 * aspect)))
    return w, int(round(w / aspect))


class Photos:
    """Photos saved as PNG (zlib level 1) in ``folder``, each from its own seed."""

    def __init__(self, folder: Path):
        self.folder, self.seed = folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def new(self, name: str, width: int, height: int) -> Path:
        self.seed += 1
        path = self.folder / f"{name}-{width}x{height}.png"
        make_photo(self.seed, width, height).save(path, compress_level=1)
        return path


def modcrop(a: np.ndarray, scale: int) -> np.ndarray:
    h, w = a.shape[:2]
    return a[: h - h % scale, : w - w % scale]


def no_proxy_for_localhost() -> None:
    for key in ("NO_PROXY", "no_proxy"):
        os.environ[key] = ",".join(filter(None, [os.environ.get(key), "127.0.0.1", "localhost"]))


# --------------------------------------------------------------------------- the server


class Server:
    """``python app.py`` in a subprocess, as a Space runs it, with its own temp folder and log."""

    def __init__(self, workdir: Path, name: str, max_age: float | None = None, temp: Path | None = None,
                 system_temp: bool = False):
        """``temp``: its GRADIO_TEMP_DIR (default: a folder of its own in ``workdir``; two servers may
        share one); ``system_temp``: no GRADIO_TEMP_DIR at all (the default settings: the system's
        temp folder), ``temp`` then names that folder."""
        self.name, self.port = name, free_port()
        self.temp = Path(tempfile.gettempdir()) if system_temp else (temp or workdir / f"{name}-gradio-temp")
        self.log_path = workdir / f"{name}.log"
        self.url = f"http://127.0.0.1:{self.port}"
        self.max_age = max_age
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_SERVER_NAME": "127.0.0.1",
               "GRADIO_SERVER_PORT": str(self.port), "GRADIO_TEMP_DIR": str(self.temp),
               "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_DISABLE_TELEMETRY": "1", "PYTHONUNBUFFERED": "1",
               "SRCNN_TRUST_PROXY": "1"}      # each client below says its own address (new_client), as users do
        keys = ("SRCNN_TEMP_MAX_AGE", "SRCNN_INSTANCE_DIR", "SRCNN_TEMP_BASE") + (("GRADIO_TEMP_DIR",) * system_temp)
        for key in keys:
            env.pop(key, None)
        if max_age is not None:
            env["SRCNN_TEMP_MAX_AGE"] = str(max_age)
        self._log = open(self.log_path, "w")
        self.t_start = time.perf_counter()
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=self._log,
                                     stderr=subprocess.STDOUT, preexec_fn=die_with_parent)
        self.pid = self.proc.pid
        self.http_s = self.ready_s = None
        self.rss_ready = 0

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_http(self, timeout: float) -> float:
        """Seconds from the start until GET / answers 200."""
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            if not self.alive():
                raise RuntimeError(f"{self.name} server exited ({self.proc.returncode}):\n{self.log_text()[-3000:]}")
            try:
                with opener.open(self.url + "/", timeout=2) as r:
                    if r.status == 200:
                        self.http_s = time.perf_counter() - self.t_start
                        return self.http_s
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} server: no HTTP 200 within {timeout:.0f} s:\n{self.log_text()[-3000:]}")

    def wait_models(self, timeout: float) -> float | None:
        """Seconds from the start until the log says the models are warm (app.warm_up), or None."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and self.alive():
            if "models ready in" in self.log_text():
                self.ready_s = time.perf_counter() - self.t_start
                self.rss_ready = self.status("VmRSS")
                return self.ready_s
            time.sleep(0.2)
        return None

    def status(self, key: str) -> int:
        """A field of /proc/<pid>/status in bytes (VmRSS, VmHWM); 0 once the process is gone."""
        try:
            with open(f"/proc/{self.pid}/status") as f:
                for line in f:
                    if line.startswith(key + ":"):
                        return int(line.split()[1]) * 1024
        except (FileNotFoundError, ProcessLookupError):
            pass
        return 0

    def cpu(self) -> float:
        """User + system CPU seconds of the server process so far (all its threads)."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def instance_dir(self) -> Path | None:
        """The app's own folder in its temp folder (ui.server.INSTANCE_DIR), while it exists."""
        found = sorted(self.temp.glob(f"{INSTANCE_PREFIX}{self.pid}-*"))
        return found[0] if found else None

    def temp_size(self, sub: str = "") -> tuple[int, int]:
        """(files, bytes) in the app's own folder (or its subfolder ``sub``); (0, 0) once removed."""
        own = self.instance_dir()
        folder = own / sub if own else None
        return folder_size(folder) if folder and folder.exists() else (0, 0)

    def wait_idle(self, timeout: float = 60.0, below: float = 0.2) -> None:
        """Until the server uses less than ``below`` of a core over half a second (or ``timeout``)."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline and self.alive():
            c0 = self.cpu()
            time.sleep(0.5)
            if self.cpu() - c0 < below * 0.5:
                return

    def log_times(self, needle: str, after: float) -> list[float]:
        """Wall-clock times (epoch s) of the log lines containing ``needle`` logged after ``after``."""
        found = []
        for line in self.log_text().splitlines():
            m = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", line)
            if m and needle in line:
                t = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
                if t >= after - 0.01:
                    found.append(t)
        return found

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 30 s; closes the log."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


class MemorySampler:
    """VmRSS of the server every 0.1 s in a thread, while in the ``with`` block; ``peak`` in bytes."""

    def __init__(self, server: Server, every: float = 0.1):
        self.server, self.every, self.peak = server, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.server.status("VmRSS"))
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


# --------------------------------------------------------------------------- clients


_ADDRESSES = iter(range(1, 60_000))


def new_client(url: str, downloads: Path):
    """A ``gradio_client.Client`` of its own, downloading into its own folder (no telemetry), with
    an address of its own (X-Forwarded-For, 198.18.0.0/15: the app's per-client limits count users)."""
    from gradio_client import Client
    downloads.mkdir(parents=True, exist_ok=True)
    n = next(_ADDRESSES)
    return Client(url, verbose=False, download_files=str(downloads), analytics_enabled=False,
                  headers={"X-Forwarded-For": f"198.18.{n // 250}.{n % 250 + 1}"})


def submit(client, endpoint: str, photo: Path, scale: int):
    from gradio_client import handle_file
    if endpoint == "/compare":
        return client.submit(handle_file(str(photo)), scale, "Benchmark", api_name="/compare")
    return client.submit(handle_file(str(photo)), scale, api_name="/inside_study")


def started(job) -> bool:
    return job.done() or job.status().code.name in STARTED


def wait_started(job, timeout: float) -> bool:
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if started(job):
            return True
        time.sleep(0.05)
    return False


def wait_progress(jobs: list, text: str, timeout: float) -> bool:
    """Until one of ``jobs`` reports progress containing ``text`` (e.g. "tile": it computes)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        if any(text in describe(j) for j in jobs):
            return True
        if all(j.done() for j in jobs):
            return False
        time.sleep(0.05)
    return False


def describe(job) -> str:
    """What a job is doing now: its status code and its progress text, if any."""
    st = job.status()
    if st.code.name == "FINISHED" and not job.done():
        return "finished (results sent, the client is downloading them)"
    desc = next((p.desc for p in (st.progress_data or []) if getattr(p, "desc", None)), None)
    return st.code.name.lower() + (f" ({desc})" if desc else "")


def error_text(e: BaseException) -> str:
    text = str(e).strip()
    return f"{type(e).__name__}: {text}" if text else f"{type(e).__name__} (no message)"


@dataclass
class Request:
    user: str
    endpoint: str
    photo: Path
    size: tuple[int, int]
    seconds: float | None = None
    result: tuple | None = None
    error: str | None = None
    checks: dict = field(default_factory=dict)

    @property
    def queue_full(self) -> bool:
        return bool(self.error) and "queue is full" in self.error.lower()


# --------------------------------------------------------------------------- 1. burst


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


# --------------------------------------------------------------------------- 2. client gone


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


# --------------------------------------------------------------------------- 3. small behind big


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


# --------------------------------------------------------------------------- 4. temp files


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
    print("\nThe sweeper (ui.server.start_sweeper) deletes files unused for the max age "
          "(SRCNN_TEMP_MAX_AGE; 14 minutes by default), checking every min(60 s, max age / 4); the "
          "example photos never expire.")
    out["temp"] = dict(swept_after=swept_after, age=temp_server.max_age if temp_server else None)


# --------------------------------------------------------------------------- 5. SIGTERM


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


# --------------------------------------------------------------------------- 6. soak


SOAK_MIX = (("compare", 0.35), ("upscale", 0.25), ("study", 0.15), ("zoom", 0.25))   # share of the requests
SOAK_UPSCALE = (1.5, 2, 2.5, 3, 4, 5)     # Upscale factors (the photo is shrunk so the output stays <= 3 MP)
SOAK_OUTPUT_PIXELS = 3_000_000


def held_out_photos(folder: Path, quick: bool) -> list[Path]:
    """Photos the app does not bundle (examples/ holds chelsea, coffee, flower, grace_hopper), from
    the installed packages, cut or resized to 0.3-0.5 megapixels (quick: about 0.06), saved as PNG."""
    import skimage
    from sklearn.datasets import load_sample_image
    data = Path(skimage.__file__).parent / "data"
    folder.mkdir(parents=True, exist_ok=True)
    sources = [("motorcycle_left", Image.open(data / "motorcycle_left.png")),
               ("motorcycle_right", Image.open(data / "motorcycle_right.png")),
               ("hubble", Image.open(data / "hubble_deep_field.jpg").crop((100, 100, 860, 700))),
               ("retina", Image.open(data / "retina.jpg").crop((360, 360, 1040, 1040))),
               ("china", Image.fromarray(load_sample_image("china.jpg")).resize((720, 480), Image.Resampling.LANCZOS)),
               ("astronaut", Image.open(data / "astronaut.png").resize((600, 600), Image.Resampling.LANCZOS))]
    paths = []
    for name, img in sources:
        img = img.convert("RGB")
        if quick:
            img = img.resize((img.width // 3, img.height // 3), Image.Resampling.LANCZOS)
        path = folder / f"{name}-{img.width}x{img.height}.png"
        img.save(path, compress_level=1)
        paths.append(path)
    return paths


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


def page_config(url: str) -> dict:
    """The page's config (GET /config): its components and events, as the browser reads them."""
    import json
    with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url + "/config", timeout=30) as r:
        return json.load(r)


def queue_call(url: str, fn_index: int, data: list, trigger: int | None = None, timeout: float = 600.0) -> dict:
    """One event the way the browser sends it: POST /gradio_api/queue/join, then the session's event
    stream until its answer; returns that "process_completed" message (``success``; ``output``:
    ``data``, or ``error`` with the message a gr.Error carries)."""
    import json
    import uuid
    session = uuid.uuid4().hex[:11]
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    body = json.dumps({"data": data, "fn_index": fn_index, "trigger_id": trigger, "session_hash": session,
                       "event_data": None}).encode()
    req = urllib.request.Request(url + "/gradio_api/queue/join", body, {"Content-Type": "application/json"})
    with opener.open(req, timeout=timeout) as r:
        json.load(r)
    with opener.open(f"{url}/gradio_api/queue/data?session_hash={session}", timeout=timeout) as r:
        for raw in r:
            line = raw.decode().strip()
            if line.startswith("data:"):
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    return msg
    raise RuntimeError("the event stream ended without an answer")


class Zoom:
    """The page's zoom/slider event (private: no API name for clients) called as the browser does
    (:func:`queue_call`). Its inputs are found in the page's config: the four result images, then
    the other controls (the zoom's centre and magnification drawn at random, the rest at their
    defaults). ``fn_index`` is None if the page has no such event."""

    FILES = ("out-first", "out-bicubic", "out-srcnn", "out-residual")

    def __init__(self, url: str):
        self.url = url
        config = page_config(url)
        comps = {c["id"]: c for c in config["components"]}
        self.fn_index, self.inputs, self.trigger = None, [], None
        for i, dep in enumerate(config["dependencies"]):
            ids = [comps.get(cid, {}).get("props", {}).get("elem_id") for cid in dep["inputs"]]
            if ids[:4] == list(self.FILES) and len(ids) > 4:
                self.fn_index = dep.get("id", i)
                self.inputs = [comps[cid] for cid in dep["inputs"]]
                self.trigger = dep["targets"][0][0] if dep.get("targets") else None
                break

    def values(self, files: list[dict], rng: np.random.Generator) -> list:
        values, images = [], iter(files)
        for comp in self.inputs:
            props = comp.get("props", {})
            label = str(props.get("label", ""))
            if props.get("elem_id") in self.FILES:
                values.append(next(images))
            elif comp.get("type") == "slider" and "Zoom" in label:
                values.append(int(rng.integers(0, 101)))
            elif comp.get("type") == "radio" and "Magnification" in label:
                values.append(int(rng.choice([2, 4, 8])))
            else:
                values.append(props.get("value"))
        return values

    def __call__(self, files: list[dict], rng: np.random.Generator, timeout: float) -> dict:
        """The answer's message; RuntimeError with the server's message if it failed."""
        import json
        msg = queue_call(self.url, self.fn_index, self.values(files, rng), self.trigger, timeout)
        if not msg.get("success"):
            raise RuntimeError(short(json.dumps(msg.get("output", {})), 300))
        return msg


def file_value(item) -> dict:
    """An image output as gradio_client returns it without downloading, as the page sends it back."""
    if isinstance(item, dict):
        return {**item, "meta": {"_type": "gradio.FileData"}}
    return {"path": str(item), "meta": {"_type": "gradio.FileData"}}


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


# --------------------------------------------------------------------------- memory parts (in-process)


def own_rss() -> int:
    """This process's VmRSS in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


class _NoProgress:
    def __call__(self, *args, **kwargs) -> None:
        pass


def memory_parts(n: int, threads: int) -> None:
    """Where the app's memory goes: its handlers called in this process (no server) on the soak's
    mix (zoom changes apart) from ``threads`` threads, then each part let go in turn and the RSS
    drop measured: the kept study views (ui.views.forget_views), what glibc's allocator kept
    (ui.server.release_memory), ONNX Runtime's sessions and their arenas (srcnn.engine's session
    table cleared: measuring only; the app never does it)."""
    import gc

    import app
    from srcnn import engine
    from ui import compare, server, study, views
    print("## Memory parts (in-process)\n")
    rows = [("after import", mb(own_rss()))]
    app.warm_up()
    start = own_rss()
    rows.append(("models warm (after start)", mb(start)))
    folder = server.upload_folder() / "memory-parts"    # where uploads live, so read_upload takes them
    photos = held_out_photos(folder, quick=False)
    plan = [(k, p, s) for k, p, s in soak_plan(n, photos) if k != "zoom"]
    lock, todo = threading.Lock(), list(reversed(plan))

    def work() -> None:
        while True:
            with lock:
                if not todo:
                    return
                kind, photo, scale = todo.pop()
            value = lambda p: {"path": str(p), "orig_name": p.name}   # noqa: E731
            try:
                if kind == "study":
                    study.look_inside(value(photo), scale, True, "ours")
                elif kind == "upscale":
                    compare.compare_images(value(upscale_input(photo, scale, folder)), scale, "Upscale",
                                           progress=_NoProgress())
                else:
                    compare.compare_images(value(photo), scale, "Benchmark", progress=_NoProgress())
            except Exception as e:  # noqa: BLE001  a refusal is counted, not fatal
                print(f"- {kind} x{scale:g} {photo.name}: {error_text(e)}")

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    after = own_rss()
    rows.append((f"after {len(plan)} requests on {threads} threads", mb(after)))
    views.forget_views()
    gc.collect()
    server.release_memory()
    no_views = own_rss()
    sessions = len(engine._sessions)
    engine._sessions.clear()
    gc.collect()
    server.release_memory()
    no_ort = own_rss()
    print(table("parts", rows))
    print()
    print(table("parts_split", [
        ("the models and the code (after start)", mb(start)),
        ("the study views kept and what the allocator kept (freed by forget_views + malloc_trim)",
         mb(after - no_views)),
        (f"ONNX Runtime's sessions of {sessions} networks, their arenas (freed by dropping them)",
         mb(no_views - no_ort)),
        ("the rest (Python objects, caches, thread stacks)", mb(no_ort - start)),
    ]))


# --------------------------------------------------------------------------- main


def summary(out: dict, args) -> str:
    parts = []
    if "burst" in out:
        b = out["burst"]
        cross = ("every user got their own photo back (pixels and PSNR)" if not b["crossed"]
                 else f"the own-photo check FAILED for {', '.join(b['crossed'])} (see the table)")
        parts.append(f"A burst of {b['n']} users ({args.users} /compare, {args.study_users} /inside_study) got "
                     f"{b['ok']} answers and {b['failed']} failures ({b['queue_full']} 'Queue is full'); median "
                     f"latency {b['p50']} s, slowest {b['max']:.1f} s; {cross} ({b['checked']} checked); the server "
                     f"peaked at {mb(b['peak'])} MB RSS and left {b['files']} files ({mb(b['size'])} MB) "
                     "in its temp folder.")
    if "gone" in out:
        g = out["gone"]
        parts.append(f"When a client went away mid-request ({g['endpoint']}, {g['via']}), "
                     f"the server used {g['cpu_after']:.1f} CPU s "
                     f"in the next {g['window']:.0f} s (busy until {g['busy_until']:.1f} s; "
                     + (f"stop logged after {g['stop_s']} s" if g["stop_s"] != "not logged" else "no stop logged")
                     + ") and wrote " + ("no result PNG for it." if out["gone_written"] == 0
                                                    else f"{g['written']} result PNGs for it anyway.")
                     + (f" Over {g['moments_gone']} moments of the computation "
                        f"the stop came at most {g['worst']:.2f} s after "
                        f"the disconnect ({g['logged']} of {g['moments_gone']} logged), "
                        + ("no PNG written." if g["written_any"] == 0 else f"{g['written_any']} PNGs written.")
                        if g["worst"] is not None else ""))
    if "small" in out:
        s = out["small"]
        parts.append(f"A {s['small']}x{s['small']} /compare took {s['alone']:.2f} s alone and {s['loaded']:.2f} s with "
                     f"two {s['big']}x{s['big']} ones in flight.")
    if "temp" in out and out["temp"]["age"] is not None:
        t = out["temp"]
        parts.append(f"With a max age of {t['age']:g} s the sweeper removed the requests' files (the example "
                     "photos stay) "
                     + (f"{t['swept_after']:.0f} s after the last request." if t["swept_after"] is not None
                        else "not within the wait."))
    if "sigterm" in out:
        s = out["sigterm"]
        exit_text = f"{s['exit_s']:.1f} s" if s["exit_s"] is not None else "more than 60 s"
        left = "its temp folder was removed" if s["left"] is None else f"{s['left'][0]} files were left"
        parts.append(f"On SIGTERM the server exited in {exit_text}; the running client got "
                     f"'{short(s['got'][0], 100)}', the waiting one '{short(s['got'][1], 100)}'; {left}.")
    if "soak" in out:
        k = out["soak"]
        parts.append(f"In the soak, {k['clients']} clients sent {k['n']} mixed requests ({k['served']} served, "
                     f"{k['failed']} failed); the server's RSS was {mb(k['warm'])} MB after the warm-up, "
                     f"{mb(k['mid'])} MB at the middle and {mb(k['end'])} MB at the end (peak {mb(k['peak'])} MB); "
                     f"last quarter / second quarter {k['flat']:.3f}.")
    return " ".join(parts)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small photos and few users (about a minute)")
    ap.add_argument("--users", type=int, help="users on /compare in the burst (default 12; quick 3)")
    ap.add_argument("--study-users", type=int, help="users on /inside_study in the burst (default 3; quick 1)")
    ap.add_argument("--max-age", type=float,
                    help="SRCNN_TEMP_MAX_AGE of the temp section's server (default 20 s; quick 4)")
    ap.add_argument("--only", default=",".join(DEFAULT_SECTIONS),
                    help=f"sections to run, comma-separated: {','.join(SECTIONS)} (soak only when named)")
    ap.add_argument("--soak-requests", type=int, help="requests in the soak (default 400; quick 16)")
    ap.add_argument("--soak-clients", type=int, help="clients sending them at once in the soak (default 3; quick 2)")
    ap.add_argument("--scale", type=int, default=3, choices=(2, 3, 4))
    ap.add_argument("--gone-via", choices=("kill", "cancel"), default="kill",
                    help="how the client of section 2 goes: its process killed, or job.cancel() in-process")
    ap.add_argument("--gone-endpoint", choices=("compare", "inside_study"), default="compare",
                    help="the endpoint whose client goes in section 2")
    ap.add_argument("--gone-after", help="seconds of computing before the client goes, comma-separated for several "
                    "requests (default 1,3,5; quick 1,2)")
    ap.add_argument("--memory-parts", type=int, metavar="N",
                    help="instead of the sections: N soak requests (zoom apart) in this process, "
                         "and where the memory went")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for any one answer")
    ap.add_argument("--logs", type=Path, help="copy the servers' logs into this folder at the end")
    args = ap.parse_args(argv)
    args.users = args.users if args.users is not None else (3 if args.quick else 12)
    args.study_users = args.study_users if args.study_users is not None else (1 if args.quick else 3)
    args.max_age = args.max_age if args.max_age is not None else (4.0 if args.quick else 20.0)
    moments = args.gone_after or ("1,2" if args.quick else "1,3,5")
    args.gone_moments = [float(v) for v in moments.split(",") if v.strip()]
    if not args.gone_moments or min(args.gone_moments) <= 0:
        ap.error("--gone-after needs one or more positive numbers of seconds")
    args.soak_requests = args.soak_requests if args.soak_requests is not None else (16 if args.quick else 400)
    args.soak_clients = args.soak_clients if args.soak_clients is not None else (2 if args.quick else 3)
    if args.soak_requests < 8 or args.soak_clients < 1:
        ap.error("the soak needs at least 8 requests and one client")
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.users + args.study_users < 1:
        ap.error("the burst needs at least one user")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_parts:
        memory_parts(args.memory_parts, args.soak_clients)
        return 0
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"     # no telemetry from gradio_client: only 127.0.0.1
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    no_proxy_for_localhost()

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    servers: list[Server] = []
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="srcnn-load-") as tmp:
        workdir = Path(tmp)
        try:
            main_server = Server(workdir, "main")
            servers.append(main_server)
            temp_server = None
            if "temp" in args.sections:       # started beside the main one: its start costs no extra wait
                temp_server = Server(workdir, "temp", max_age=args.max_age)
                servers.append(temp_server)
            load = os.getloadavg()
            import gradio_client
            print(f"# SRCNN Studio load test{' (quick)' if args.quick else ''}\n")
            print(f"{datetime.now():%Y-%m-%d %H:%M}; {os.cpu_count()} cores; load average {load[0]:.1f} at the start; "
                  f"gradio_client {gradio_client.__version__}; x{args.scale} throughout. Wall seconds on this machine, "
                  "whose cores the clients share with the server.\n")
            rows = []
            for s in servers:
                s.wait_http(180)
            for s in servers:
                s.wait_models(120)
                rows.append((f"{s.name} (temp max age {s.max_age:g} s)" if s.max_age else f"{s.name} (defaults)",
                             f"{s.http_s:.1f}", f"{s.ready_s:.1f}" if s.ready_s else "not logged", mb(s.rss_ready)))
            print(table("server", rows))
            photos = Photos(workdir / "photos")
            sections = {
                "burst": lambda: run_burst(main_server, args, photos, workdir, out),
                "gone": lambda: run_gone(main_server, args, photos, workdir, out),
                "small": lambda: run_small(main_server, args, photos, workdir, out),
                "temp": lambda: run_temp(main_server, temp_server, args, photos, workdir, out),
                "sigterm": lambda: run_sigterm(main_server, args, photos, workdir, out),
                "soak": lambda: run_soak(main_server, args, workdir, out),
            }
            for name in SECTIONS:
                if name in args.sections:
                    main_server.wait_idle()
                    sections[name]()
                    sys.stdout.flush()
                if name == "temp" and temp_server is not None:
                    temp_server.stop()
            print("\n## Summary\n")
            print(summary(out, args))
        except KeyboardInterrupt:
            print("\nInterrupted: stopping the servers.", file=sys.stderr)
            return 130
        finally:
            for s in servers:
                s.stop()
                if args.logs:
                    args.logs.mkdir(parents=True, exist_ok=True)
                    shutil.copy(s.log_path, args.logs / f"{s.name}-server.log")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_submit":
        helper_main(sys.argv[2:])
    else:
        sys.exit(main())
