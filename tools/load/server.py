"""The app as a Space runs it, in a subprocess of its own (its temp folder, its log, its CPU and
memory read from /proc), and a sampler of its memory."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

from ui.server import INSTANCE_PREFIX, folder_size, free_port  # stdlib only: no Gradio

ROOT = Path(__file__).resolve().parents[2]


def die_with_parent() -> None:
    """In a child, before exec: SIGTERM it when this process dies (Linux prctl PR_SET_PDEATHSIG),
    so that no server outlives a killed load test. Children are started from the main thread."""
    try:
        import ctypes
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)
    except (OSError, AttributeError):
        pass


def no_proxy_for_localhost() -> None:
    for key in ("NO_PROXY", "no_proxy"):
        os.environ[key] = ",".join(filter(None, [os.environ.get(key), "127.0.0.1", "localhost"]))


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
        """The app's own folder in its temp folder (ui.server.TempStore), while it exists."""
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


class PeakSampler:
    """The largest value ``read()`` gave, sampled every ``every`` s in a thread while in the
    ``with`` block: ``peak``."""

    def __init__(self, read, every: float = 0.1):
        self.read, self.every, self.peak = read, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.read())
            self._stop.wait(self.every)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


class MemorySampler(PeakSampler):
    """VmRSS of the server every 0.1 s in a thread, while in the ``with`` block; ``peak`` in bytes."""

    def __init__(self, server: Server, every: float = 0.1):
        super().__init__(lambda: server.status("VmRSS"), every)
        self.server = server
