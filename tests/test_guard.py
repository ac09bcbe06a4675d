"""ui.guard on the real app (tests/conftest.py ``live_app``) and on a stand-in app: oversized
parameters, one client's events in the queue, uploads through the disk budget, aborted and
refused uploads, a full disk."""

from __future__ import annotations

import asyncio
import errno
import json
import socket
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ui import guard, server
from ui.budget import MB, BudgetSettings, DiskBudget


@pytest.fixture(scope="module")
def http(live_app):
    with httpx.Client(base_url=live_app.local_url.rstrip("/"), trust_env=False, timeout=60) as c:
        yield c


def compare_fn(http) -> int:
    config = http.get("/config").json()
    return next(d.get("id", i) for i, d in enumerate(config["dependencies"]) if d.get("api_name") == "compare")


def join(http, fn: int, data: list) -> tuple[httpx.Response, str]:
    session = uuid.uuid4().hex[:11]
    r = http.post("/gradio_api/queue/join", json={"data": data, "fn_index": fn, "session_hash": session,
                                                  "event_data": None, "trigger_id": None})
    return r, session


def answer(http, session: str) -> dict:
    with http.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for line in stream.iter_lines():
            if line.startswith("data:") and json.loads(line[5:]).get("msg") == "process_completed":
                return json.loads(line[5:])
    raise AssertionError("no answer")


def photo_value(http) -> dict:
    """A small photo uploaded as the page uploads it: its file value."""
    import io

    from tools.load_test import make_photo
    buf = io.BytesIO()
    make_photo(3, 64, 48).save(buf, format="PNG")
    r = http.post("/gradio_api/upload", files={"files": ("small.png", buf.getvalue(), "image/png")})
    assert r.status_code == 200
    return {"path": r.json()[0], "orig_name": "small.png", "meta": {"_type": "gradio.FileData"}}


def wait_until(condition, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_an_oversized_parameter_is_refused_before_any_work_with_a_short_message(http):
    r, _ = join(http, compare_fn(http), [None, "9" * 1_000_000, "Benchmark", "PNG (clean)", "Auto"])
    assert r.status_code == 413 and len(r.text) < 500
    assert "at most 65,536 bytes" in r.json()["detail"]


def test_a_file_path_that_cannot_be_resolved_is_400(http):
    assert http.get("/gradio_api/file=%00").status_code == 400
    assert http.get("/gradio_api/file=/etc/passwd").status_code in (403, 404)   # Gradio's own refusal, as before


def test_one_client_may_have_a_few_events_in_the_queue_and_is_told_to_wait(http, live_app):
    fn = compare_fn(http)
    value = photo_value(http)
    holders = {name: f"holder-{name}" for name in ("small", "big")}        # two other clients compute
    lanes = [server._LANES.acquire(holders[name], (name,), lambda: None) for name in holders]
    sessions = []
    try:
        limit = guard.GuardSettings.from_env().per_client
        for _ in range(limit):                                  # they wait for a lane, in Gradio's queue
            r, session = join(http, fn, [value, "2", "Benchmark", "PNG (clean)", "Auto"])
            assert r.status_code == 200
            sessions.append(session)
        assert wait_until(lambda: len(live_app._queue.event_ids_to_events) >= limit)
        r, _ = join(http, fn, [value, "2", "Benchmark", "PNG (clean)", "Auto"])
        assert r.status_code == 429 and "Wait for your running ones" in r.json()["detail"]
        assert r.headers["retry-after"]
    finally:
        for name in lanes:
            server._LANES.release(holders[name], name)
    assert all(answer(http, s)["success"] for s in sessions)
    r, session = join(http, fn, [value, "2", "Benchmark", "PNG (clean)", "Auto"])     # done: the client may send again
    assert r.status_code == 200 and answer(http, session)["success"]


def test_an_upload_aborted_halfway_leaves_no_partial_file(live_app):
    top = server.upload_folder()
    before = {p.name for p in top.iterdir() if p.name.startswith("tmp")} if top.exists() else set()
    host, port = live_app.local_url.rstrip("/").rsplit("/", 1)[1].split(":")
    head = (b'--b0\r\nContent-Disposition: form-data; name="files"; filename="half.bin"\r\n'
            b"Content-Type: application/octet-stream\r\n\r\n")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(b"POST /gradio_api/upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b0\r\n"
                  + f"Content-Length: {len(head) + 4_000_000}\r\n\r\n".encode() + head + b"x" * 2_000_000)
        assert wait_until(lambda: any(p.name.startswith("tmp") and p.name not in before for p in top.iterdir()))
    assert wait_until(lambda: not [p for p in top.iterdir() if p.name.startswith("tmp") and p.name not in before])


# --------------------------------------------------------------------------- a stand-in app


def asgi(app, method: str, path: str, body: bytes, length: int | None = None, client=("127.0.0.1", 1)) -> list[dict]:
    """One request through ``app``: the messages it sent."""
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    chunks = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        return chunks.pop(0) if chunks else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app({"type": "http", "method": method, "path": path, "headers": headers, "client": client},
                    receive, send))
    return sent


def small_guard(tmp_path: Path) -> guard.Guard:
    settings = BudgetSettings(cap_bytes=10 * MB, headroom_bytes=2 * MB, rate_bytes_per_s=MB, burst_bytes=5 * MB)
    return guard.Guard(DiskBudget(lambda: tmp_path, settings))


def test_uploads_go_through_the_budget(tmp_path):
    stored = []

    async def gradio(scope, receive, send):
        stored.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"[]"})

    g = small_guard(tmp_path)
    g.budget.clock = lambda: 0.0                        # no time passes: the rate gives nothing back
    app = guard.UploadGuard(gradio, g)
    assert asgi(app, "POST", "/gradio_api/upload", b"x" * 100, 100)[0]["status"] == 200
    refused = asgi(app, "POST", "/gradio_api/upload", b"", 6 * MB)
    assert refused[0]["status"] == 413 and b"6.0 MB" in refused[1]["body"]
    assert asgi(app, "POST", "/gradio_api/upload", b"", None)[0]["status"] == 411
    asgi(app, "POST", "/gradio_api/upload", b"x", 4 * MB)
    too_fast = asgi(app, "POST", "/gradio_api/upload", b"x", 2 * MB)
    # just over 1 MB short at 1 MB/s
    assert too_fast[0]["status"] == 429 and (b"retry-after", b"2") in too_fast[0]["headers"]
    assert len(stored) == 2 and not g.budget._reservations


def test_a_full_disk_is_a_429_with_a_message_and_removes_the_partial_file(tmp_path):
    partial = tmp_path / "tmpabc"

    class Parser:                                      # what Gradio's multipart parser keeps
        def __init__(self):
            partial.write_bytes(b"half")
            self._files_to_close_on_error = [open(partial, "rb")]

        def parse(self):
            raise OSError(errno.ENOSPC, "No space left on device")

    async def gradio(scope, receive, send):
        Parser().parse()

    sent = asgi(guard.UploadGuard(gradio, small_guard(tmp_path)), "POST", "/gradio_api/upload", b"x", 1000)
    assert sent[0]["status"] == 429 and b"disk is full" in sent[1]["body"] and not partial.exists()


def test_a_body_over_the_limit_without_a_length_is_413(tmp_path):
    async def gradio(scope, receive, send):
        while (await receive())["type"] == "http.request":
            pass
        from starlette.requests import ClientDisconnect
        raise ClientDisconnect()

    sent = asgi(guard.EventGuard(gradio, small_guard(tmp_path)), "POST", "/gradio_api/queue/join", b"x" * 100_000)
    assert sent[0]["status"] == 413 and b"over 65,536 bytes" in sent[1]["body"]
