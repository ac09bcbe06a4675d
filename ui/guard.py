"""What one client may send: ASGI middleware in front of Gradio's routes.

* :class:`UploadGuard` (``POST /gradio_api/upload``): the request must declare its length; the
  disk budget (ui.budget.DiskBudget) takes it or refuses it (413: too large; 429: too fast, or no
  room) before a byte is stored. An upload the client aborts is one log line, and its partial
  file is removed; a full disk is a 429 with a message. Nothing of this reaches the log as a
  traceback.
* :class:`EventGuard` (every other ``POST``): the body holds at most
  :attr:`GuardSettings.max_body_bytes` (the parameters of an event: a photo goes through the
  upload route), refused with 413 before it is read; and one client has at most
  :attr:`GuardSettings.per_client` events in Gradio's queue, waiting or running (``queue/join``
  and ``call/``): more are refused with 429 and a message to wait for the running ones.

Refusals are JSON ``{"detail": message}`` (the page shows ``detail``), with ``Retry-After`` on a
429; they quote nothing of what was sent beyond sizes. Clients are told apart by
ui.clients.scope_client. The settings are environment variables read by
:meth:`GuardSettings.from_env` (docs/app.md, "Environment variables").
"""

from __future__ import annotations

import json
import logging
import os
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

import anyio

from .budget import MB, BudgetSettings, DiskBudget, Refused, disk_full
from .clients import scope_client, trust_proxy

log = logging.getLogger("srcnn.app")

UPLOAD_PATH = "/gradio_api/upload"
EVENT_PATHS = ("/gradio_api/queue/join", "/gradio_api/call/")
DISK_FULL = "The server's disk is full right now, so the upload was not stored. Try again in a few minutes."


@dataclass(frozen=True)
class GuardSettings:
    """``per_client``: events of one client in Gradio's queue at once, waiting or running
    (``SRCNN_CLIENT_REQUESTS``, 3); ``max_body_bytes``: the body of any POST but an upload
    (``SRCNN_MAX_EVENT_KB``, 64 KB); ``trusted``: whether ``X-Forwarded-For`` names the client
    (ui.clients.trust_proxy)."""
    per_client: int = 3
    max_body_bytes: int = 64 * 1024
    trusted: bool = False

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "GuardSettings":
        per_client = int(environ.get("SRCNN_CLIENT_REQUESTS", 3))
        body_kb = float(environ.get("SRCNN_MAX_EVENT_KB", 64))
        if per_client < 1 or body_kb <= 0:
            raise ValueError("SRCNN_CLIENT_REQUESTS must be 1 or more and SRCNN_MAX_EVENT_KB positive")
        return cls(per_client=per_client, max_body_bytes=int(body_kb * 1024), trusted=trust_proxy(environ))


@dataclass
class Guard:
    """The serving limits of one app: its disk budget and the per-client event limit."""
    budget: DiskBudget
    settings: GuardSettings = field(default_factory=GuardSettings)

    @classmethod
    def from_env(cls, folder: Callable[[], Path], held: Callable, protected: Callable,
                 environ: Mapping[str, str] = os.environ) -> "Guard":
        return cls(DiskBudget(folder, BudgetSettings.from_env(environ), held=held, protected=protected),
                   GuardSettings.from_env(environ))

    def client(self, scope: dict) -> str:
        return scope_client(scope, self.settings.trusted)


# --------------------------------------------------------------------------- ASGI helpers


def header(scope: dict, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def declared_length(scope: dict) -> int | None:
    """The request's Content-Length, or None when it has none (or not a number)."""
    raw = header(scope, b"content-length")
    try:
        return int(raw) if raw is not None else None
    except ValueError:
        return None


DRAIN_BYTES = 32 * 1024 * 1024   # a refused request's body up to this size is read (and dropped) before the answer


async def drain(receive, length: int | None) -> None:
    """Read and drop a refused request's body (up to :data:`DRAIN_BYTES`), so that a client still
    sending it reads the answer instead of a reset connection; a larger body is not read."""
    if length is not None and length > DRAIN_BYTES:
        return
    read = 0
    while read <= DRAIN_BYTES:
        message = await receive()
        read += len(message.get("body", b""))
        if message["type"] != "http.request" or not message.get("more_body"):
            return


async def refuse(send, status: int, message: str, retry_after: float | None = None) -> None:
    """Answer ``status`` with ``{"detail": message}`` (and Retry-After on a 429)."""
    body = json.dumps({"detail": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
               (b"connection", b"close")]
    if retry_after is not None:
        headers.append((b"retry-after", str(int(retry_after)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Sent:
    """``send`` that remembers whether the response has started."""

    def __init__(self, send):
        self.send, self.started = send, False

    async def __call__(self, message: dict) -> None:
        if message["type"] == "http.response.start":
            self.started = True
        await self.send(message)


def partial_uploads(error: BaseException) -> list[Path]:
    """The temporary files of the upload that ``error`` interrupted: Gradio's multipart parser
    (gradio.route_utils.GradioMultiPartParser, the frame's ``self``) keeps them in
    ``_files_to_close_on_error`` and removes them itself only on a parse error, not when the
    client disconnects or the disk fills."""
    found = []
    for frame, _ in traceback.walk_tb(error.__traceback__):
        files = getattr(frame.f_locals.get("self"), "_files_to_close_on_error", None)
        if isinstance(files, list):
            for f in files:
                try:
                    f.close()
                except OSError:
                    pass
                found.append(Path(f.name))
    return found


def is_disconnect(error: BaseException) -> bool:
    from starlette.requests import ClientDisconnect
    return isinstance(error, ClientDisconnect)


# --------------------------------------------------------------------------- the middleware


class UploadGuard:
    """``POST /gradio_api/upload`` through the disk budget (see the module's docstring)."""

    def __init__(self, app, guard: Guard):
        self.app, self.guard = app, guard

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or scope.get("method") != "POST" or \
                not scope.get("path", "").rstrip("/").endswith(UPLOAD_PATH):
            await self.app(scope, receive, send)
            return
        client, length = self.guard.client(scope), declared_length(scope)
        if length is None:
            await drain(receive, length)
            await refuse(send, 411, "An upload must declare its length (Content-Length).")
            return
        budget = self.guard.budget
        try:
            reservation = await anyio.to_thread.run_sync(budget.reserve, client, length)
        except Refused as e:
            log.info("upload refused (%d, %.1f MB): %s", e.status, length / MB, e.message)
            await drain(receive, length)
            await refuse(send, e.status, e.message, e.retry_after)
            return

        async def counted():
            message = await receive()
            reservation.received += len(message.get("body", b""))
            return message

        sent = _Sent(send)
        try:
            await self.app(scope, counted, sent)
        except Exception as e:                          # noqa: BLE001  only the two kinds below are handled
            if not (is_disconnect(e) or disk_full(e)):
                raise
            removed = [p for p in partial_uploads(e) if _unlink(p)]
            if is_disconnect(e):
                log.info("upload aborted by the client after %.1f of %.1f MB; %d partial file(s) removed",
                         reservation.received / MB, length / MB, len(removed))
            else:
                log.warning("upload not stored: the disk is full (%d partial file(s) removed)", len(removed))
            if not sent.started:
                await refuse(send, 429 if disk_full(e) else 400,
                             DISK_FULL if disk_full(e) else "The upload was aborted.", 60 if disk_full(e) else None)
        finally:
            budget.release(reservation)


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
        return True
    except FileNotFoundError:
        return False


class EventGuard:
    """Every ``POST`` but an upload: the body's size, and one client's events in the queue (see
    the module's docstring)."""

    def __init__(self, app, guard: Guard):
        self.app, self.guard = app, guard
        self.joining: dict[str, int] = {}           # per client: joins being handled now

    async def __call__(self, scope, receive, send):
        path = scope.get("path", "")
        if scope.get("type") != "http" or scope.get("method") != "POST" or path.rstrip("/").endswith(UPLOAD_PATH):
            await self.app(scope, receive, send)
            return
        limit, length = self.guard.settings.max_body_bytes, declared_length(scope)
        if length is not None and length > limit:
            await drain(receive, length)
            await self._too_large(send, length)
            return
        client = self.guard.client(scope)
        joins = any(p in path for p in EVENT_PATHS)
        if joins:
            n = self.in_queue(scope, client) + self.joining.get(client, 0)
            if n >= self.guard.settings.per_client:
                message = (f"You have {n} requests queued or running; one address may have "
                           f"{self.guard.settings.per_client} at once. Wait for your running ones to finish, "
                           "then try again.")
                log.info("request refused (429, %s): %d in the queue already", path, n)
                await drain(receive, length)
                await refuse(send, 429, message, 5)
                return
            self.joining[client] = self.joining.get(client, 0) + 1
        try:
            await self._pass_bounded(scope, receive, send, path)
        finally:
            if joins:
                self.joining[client] -= 1
                if not self.joining[client]:
                    del self.joining[client]

    async def _pass_bounded(self, scope, receive, send, path: str) -> None:
        """Gradio answers, unless the body grows past the limit (no Content-Length, or a false
        one): then the body stops there, Gradio's answer is dropped and the client gets a 413."""
        limit, received = self.guard.settings.max_body_bytes, 0

        async def bounded():
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            return {"type": "http.disconnect"} if received > limit else message

        sent = _Sent(send)

        async def unless_over(message: dict) -> None:
            if received <= limit:
                await sent(message)
        try:
            await self.app(scope, bounded, unless_over)
        except Exception as e:                          # noqa: BLE001  only a disconnect is handled
            if not is_disconnect(e):
                raise
            if received <= limit:
                log.info("request aborted by the client (%s)", path)
        if received > limit and not sent.started:
            await drain(receive, None)
            await self._too_large(send, None)

    async def _too_large(self, send, size: int | None) -> None:
        """413 for a body of ``size`` bytes (None: more than the limit, no length declared)."""
        limit = self.guard.settings.max_body_bytes
        sent = f"{size:,} bytes" if size is not None else f"over {limit:,} bytes"
        message = (f"This request's parameters are {sent}; the app takes at most {limit:,} bytes (a photo is sent "
                   "through the upload route, not as a parameter).")
        log.info("request refused (413): parameters of %s", sent)
        await refuse(send, 413, message)

    def in_queue(self, scope: dict, client: str) -> int:
        """Events of ``client`` in Gradio's queue now, waiting or running."""
        app = scope.get("app")
        queue = getattr(app.get_blocks(), "_queue", None) if hasattr(app, "get_blocks") else None
        if queue is None:
            return 0
        n = 0
        for event in list(queue.event_ids_to_events.values()):
            request = getattr(event, "request", None)
            request_scope = getattr(request, "scope", None)
            if request_scope is not None and self.guard.client(request_scope) == client:
                n += 1
        return n
