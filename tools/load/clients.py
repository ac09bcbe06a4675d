"""Clients of the app (``gradio_client``, each with its own downloads folder and address), the
requests they send and what their jobs are doing."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

STARTED = {"PROCESSING", "PROGRESS", "ITERATING", "LOG"}   # gradio_client codes once the handler runs


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
