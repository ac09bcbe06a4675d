"""How the app shares its machine between its users: lanes, cancellation, temp files, shutdown.

* **Lanes** (:data:`LANES`, the one place that sets how many heavy computations run at once,
  across ``/compare`` and ``/inside_study``): one lane for small jobs (output up to
  :data:`SMALL_JOB_PIXELS`), one for big jobs (which a small job may borrow while it is free),
  so at most two computations share the two cores (the cores a free Space has: docs/app.md,
  "Sharing two CPUs") and a 300x300 request never waits behind two 4-megapixel ones. Clients
  share them fairly (ui.lanes.FairLanes): when a lane frees, the client with the fewest jobs
  computing goes first, and one client computes at most :data:`CLIENT_LANES` jobs at once
  (clients: ui.clients.client_id). Gradio's own concurrency limit is set higher
  (:data:`GRADIO_WORKERS`): a request waiting for its lane costs a sleeping thread; ui.guard keeps
  one client's events in Gradio's queue to a few.
* **Cancellation**: :func:`check` raises :class:`Stopped` when the request's client has gone
  (Gradio marks its event not alive) or the server is shutting down. :func:`lane`, which every
  heavy request holds while it computes, makes it the request's srcnn.cancel check: the srcnn
  code it calls checks it between tiles, stages and row bands (srcnn.cancel.checkpoint), and the
  handlers call it themselves between their own stages, so abandoned work stops within about a
  second and writes nothing. At shutdown, :func:`drain` gives running requests a few seconds to
  stop with a message before the server closes.
* **Memory**: at most :data:`MALLOC_ARENAS` glibc malloc arenas (:func:`limit_arenas`, which
  app.main calls before anything else), and the memory a job freed is given back to the system
  when it leaves its lane (:func:`release_memory`).
* **Temp files** (one folder per app process, owned by its :class:`TempStore`): uploads and
  result PNGs live in a folder of this instance's own, named when app.main makes the store (before
  Gradio builds anything; app.build_demo makes one when none was made) under ``GRADIO_TEMP_DIR``
  when set, else the system's temp folder, and made by the first write; Gradio is pointed at it.
  Files live by last use: taking an upload in, writing or reusing a result, and a whole GET of a
  served file (:class:`UseMiddleware`; a HEAD or a range is not a use) set its modification time
  to now, and the store's sweeper (:meth:`TempStore.start_sweeper`) deletes files unused for
  :data:`MAX_AGE_S` (``SRCNN_TEMP_MAX_AGE``, 14 minutes), checking every :data:`SWEEP_EVERY_S`:
  gone within 15 minutes of their last use. The folder's size is capped too (ui.budget.DiskBudget,
  made with the middleware by :meth:`TempStore.make_guard`): uploads go through it, and the least
  recently used files that no running request holds (:meth:`TempStore.hold`) go first. Files with
  the content of a protected file (the bundled examples, which Gradio copies in when the page is
  built) never expire. :meth:`TempStore.cleanup` removes this instance's folder alone at shutdown
  (SIGTERM as well as SIGINT, see app.main); any other process's folder is never touched. Code
  that serves requests finds the process's store through :func:`store` (and :func:`upload_folder`,
  :func:`hold`); importing this module makes none and changes nothing in the process.
"""

from __future__ import annotations

import atexit
import ctypes
import hashlib
import logging
import os
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path

from srcnn import cancel

from .clients import UNKNOWN, request_client
from .lanes import FairLanes

log = logging.getLogger("srcnn.app")

LANES = {"small": 1, "big": 1}      # heavy computations at once, per lane; total: the cores a Space has
SMALL_JOB_PIXELS = 1_000_000        # output pixels up to which a job takes the small lane
GRADIO_WORKERS = 8                  # Gradio threads per endpoint group: waiting in a lane is cheap
QUEUE_SIZE = 16                     # requests waiting in Gradio's queue at most (a few per client: ui.guard)
MAX_AGE_S = float(os.environ.get("SRCNN_TEMP_MAX_AGE", 14 * 60))   # + one sweep: gone within 15 min


def sweep_every(max_age_s: float) -> float:
    """How often the sweeper looks (s): every minute, or a quarter of a shorter max age."""
    return min(60.0, max_age_s / 4)


SWEEP_EVERY_S = sweep_every(MAX_AGE_S)
POLL_S = 0.1

_shutting_down = threading.Event()
_active = 0                          # requests holding or waiting for a lane
_active_lock = threading.Lock()
DRAIN_S = 5.0                        # at shutdown, how long running requests get to stop and answer


class Stopped(Exception):
    """The request's client has gone, or the server is stopping: stop computing, write nothing."""


def free_port() -> int:
    """A TCP port nobody listens on right now on 127.0.0.1 (for tests and the measuring scripts)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def shutting_down() -> bool:
    return _shutting_down.is_set()


def begin_shutdown() -> None:
    """From now on every request stops at its next check with a message saying why."""
    _shutting_down.set()


def active() -> int:
    """Requests holding or waiting for a lane now."""
    return _active


def drain(timeout: float = DRAIN_S, grace: float = 1.0) -> None:
    """After :func:`begin_shutdown`: wait (at most ``timeout`` s) until no request is in a lane,
    then ``grace`` s more so their answers (the message, or finished results) reach the clients."""
    deadline = time.monotonic() + timeout
    while active() and time.monotonic() < deadline:
        time.sleep(POLL_S)
    time.sleep(grace)


def client_gone() -> bool:
    """Whether the client of the Gradio event running in this thread has disconnected.

    Gradio keeps the event in its queue's active jobs and sets ``alive = False`` when the
    client's stream closes; the event id reaches the handler's thread through Gradio's
    context variables (as gr.Progress does). Outside a Gradio event: False."""
    from gradio.context import LocalContext
    blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
    queue = getattr(blocks, "_queue", None)
    if queue is None or event_id is None:
        return False
    for job in list(queue.active_jobs):
        for event in job or []:
            if event._id == event_id:
                return not event.alive
    return False


def check() -> None:
    """Raise :class:`Stopped` if this request should stop now."""
    if shutting_down():
        raise Stopped("The server is restarting, so this request was stopped. Try again in a minute.")
    if client_gone():
        raise Stopped("The client disconnected.")


def lane_of(output_pixels: int) -> str:
    return "small" if output_pixels <= SMALL_JOB_PIXELS else "big"


CLIENT_LANES = int(os.environ.get("SRCNN_CLIENT_LANES", 1))   # jobs one client computes at once
_LANES = FairLanes(LANES, POLL_S, per_client=CLIENT_LANES, exempt=frozenset({UNKNOWN}))


def current_client() -> str:
    """The client of the Gradio event running in this thread (ui.clients.client_id of its
    request), or ui.clients.UNKNOWN outside one."""
    context = sys.modules.get("gradio.context")         # no Gradio loaded: no request (a tool, a test)
    return request_client(context.LocalContext.request.get(None)) if context else UNKNOWN


def lanes_for(output_pixels: int) -> tuple[str, ...]:
    """The lanes a job may take, in order: its own, and for a small job the big lane too (the
    small lane stays reserved for small jobs, so they never wait behind big ones)."""
    return ("small", "big") if lane_of(output_pixels) == "small" else ("big",)


@contextmanager
def lane(output_pixels: int):
    """Hold a lane for a job of ``output_pixels``; wait for it in the client's fair turn
    (ui.lanes.FairLanes: the client with the fewest jobs computing goes first, and one client
    computes at most :data:`CLIENT_LANES` jobs at once), checking
    :func:`check`. Inside, :func:`check` is the enclosing srcnn.cancel check (the one place the
    app's requests become cancellable: every heavy request computes in a lane), so the srcnn code
    run there stops where it calls srcnn.cancel.checkpoint once the client has gone. Leaving it
    gives the memory the job freed back to the system (:func:`release_memory`)."""
    global _active
    with _active_lock:
        _active += 1
    try:
        client = current_client()
        name = _LANES.acquire(client, lanes_for(output_pixels), check)
        try:
            check()
            with cancel.cancellable(check):
                yield
        finally:
            _LANES.release(client, name)
            release_memory()
    finally:
        with _active_lock:
            _active -= 1


# --------------------------------------------------------------------------- memory

MALLOC_ARENAS = 2     # glibc malloc arenas at most (its default: 8 per core, one per thread that allocates)
M_ARENA_MAX = -8      # mallopt's parameter number (malloc.h)


def _libc():
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:   # not glibc (macOS, musl): the allocator's own defaults
        return None


_LIBC = _libc()


def limit_arenas(n: int = MALLOC_ARENAS) -> bool:
    """At most ``n`` glibc malloc arenas for the threads made from now on (``mallopt``); whether it
    applied. Each arena keeps the memory its threads freed: Gradio's workers, the PNG writers and
    the tile threads each had one."""
    return bool(_LIBC is not None and hasattr(_LIBC, "mallopt") and _LIBC.mallopt(M_ARENA_MAX, n))


def release_memory() -> bool:
    """Give the heap memory freed so far back to the system (glibc ``malloc_trim(0)``: every
    arena, free pages inside the heap too); whether anything was returned. Without it glibc
    keeps most of what a request freed (measured: docs/app.md, "Memory")."""
    return bool(_LIBC is not None and hasattr(_LIBC, "malloc_trim") and _LIBC.malloc_trim(0))


# --------------------------------------------------------------------------- temp files

INSTANCE_PREFIX = "srcnn-studio-"


def age_text(seconds: float | None = None) -> str:
    """``MAX_AGE_S`` in words: "14 minutes", "20 seconds"."""
    seconds = MAX_AGE_S if seconds is None else seconds
    if seconds >= 120:
        return f"{seconds / 60:.3g} minutes"
    return f"{seconds:.3g} seconds"


def expired_message(what: str = "photo") -> str:
    """What a user reads when a file of theirs was swept: what happened and what to do."""
    if what == "photo":
        return f"This photo expired after {age_text()} unused; upload it again."
    return (f"These results expired after {age_text()} unused; run it again (and upload the photo again "
            "if it expired too).")


def touch(path: str | os.PathLike) -> None:
    """Mark a stored file used now (its modification time: the sweeper's clock); FileNotFoundError
    when it is gone."""
    os.utime(path)


def inside(path: str | os.PathLike, folder: str | os.PathLike) -> bool:
    """Whether ``path`` (resolved) is ``folder`` or inside it; ValueError for a path with a null
    byte (it resolves to nothing)."""
    real, base = Path(os.path.realpath(path)), Path(os.path.realpath(folder))
    return real == base or base in real.parents


def _digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _never(path: Path, size: int) -> bool:
    return False


def sweep(folder: Path, max_age_s: float, now: float | None = None, protected=_never) -> tuple[int, int]:
    """Delete files under ``folder`` unused (by modification time) for more than ``max_age_s``,
    except those ``protected(path, size)`` keeps, and the folders left empty: emptied now, or
    untouched for :data:`EMPTY_FOLDER_S` (a folder just made is about to be written into); returns
    (files deleted, bytes freed)."""
    now = time.time() if now is None else now
    count = freed = 0
    for root, dirs, files in os.walk(folder, topdown=False):
        emptied = False
        for name in files:
            path = Path(root) / name
            try:
                st = path.stat()
                if now - st.st_mtime > max_age_s and not protected(path, st.st_size):
                    path.unlink()
                    count, freed, emptied = count + 1, freed + st.st_size, True
            except FileNotFoundError:
                pass
        if Path(root) != folder:
            try:
                if emptied or time.time() - os.stat(root).st_mtime > EMPTY_FOLDER_S:
                    os.rmdir(root)        # only succeeds when empty
            except OSError:
                pass
    return count, freed


EMPTY_FOLDER_S = 5.0     # an empty folder untouched this long goes (one just made is about to be written into)


def folder_size(folder: Path) -> tuple[int, int]:
    """(files, bytes) under ``folder``."""
    files = size = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            try:
                size += (Path(root) / name).stat().st_size
                files += 1
            except FileNotFoundError:
                pass
    return files, size


class TempStore:
    """A process's own folder, ``srcnn-studio-<pid>-<random>`` under ``GRADIO_TEMP_DIR`` (or the
    system's temp folder), and what keeps it: Gradio's uploads and cached files and the result PNGs
    live there; files with the content of a protected file (:meth:`protect`: the bundled examples)
    are never swept; files a running request holds (:meth:`hold`) are the last the disk budget
    removes; the sweeper (:meth:`start_sweeper`) deletes what went unused; :meth:`cleanup` removes
    the folder and nothing else.

    app.main makes it (``TempStore.for_process().activate()``) and hands it to app.build_demo,
    which makes one itself when given none and the process has none yet (a test, a tool). The
    folder is named when the store is made and created by the first write (Gradio's and
    :class:`ui.common.PngWriter`'s, which make missing folders), so a process that makes a store and
    writes nothing leaves nothing behind. A process started by an instance (a test's ``python
    app.py``) inherits ``GRADIO_TEMP_DIR`` = its parent's folder: it names its own beside that one
    instead of inside it, so no instance's sweep or cleanup reaches another's files."""

    def __init__(self, folder: Path, base: Path):
        self.folder, self.base = folder, base
        self._protected: set[tuple[int, str]] = set()   # (size, SHA-256) of the files never swept
        self._holds: dict[str, set[str]] = {}           # path -> the Gradio events holding it
        self._holds_lock = threading.Lock()
        self._queue = None                              # Gradio's queue, seen from the first event that held a file
        self._stopped = threading.Event()
        self._sweeper: threading.Thread | None = None

    @classmethod
    def for_process(cls, environ=os.environ) -> "TempStore":
        """The store this process's environment gives (reads ``environ``, changes nothing)."""
        base = environ.get("GRADIO_TEMP_DIR")
        inherited = environ.get("SRCNN_INSTANCE_DIR")
        if base and inherited and os.path.realpath(base) == os.path.realpath(inherited):
            base = environ.get("SRCNN_TEMP_BASE") or None
        base = Path(base or tempfile.gettempdir()).resolve()
        return cls(base / f"{INSTANCE_PREFIX}{os.getpid()}-{secrets.token_hex(6)}", base)

    def activate(self) -> "TempStore":
        """Make this the process's store, the one :func:`store` returns (the one place the app's
        store is registered; app.main and app.build_demo call it, nothing does at import). Points
        Gradio at the folder (``GRADIO_TEMP_DIR``, read when a Blocks is built), tells the processes
        this one starts where it is (``SRCNN_INSTANCE_DIR``, ``SRCNN_TEMP_BASE``), and removes it
        when the process exits (``atexit``: a process that never calls :meth:`cleanup`, a test or a
        tool, leaves no folder behind). Once active, activating it again changes nothing."""
        global _ACTIVE
        if _ACTIVE is self:
            return self
        os.environ.update(GRADIO_TEMP_DIR=str(self.folder), SRCNN_INSTANCE_DIR=str(self.folder),
                          SRCNN_TEMP_BASE=str(self.base))
        atexit.register(shutil.rmtree, self.folder, ignore_errors=True)
        _ACTIVE = self
        return self

    # ---- files that stay

    def protect(self, files) -> None:
        """Files with the same content as any of ``files`` are never swept."""
        for path in files:
            self._protected.add((Path(path).stat().st_size, _digest(Path(path))))

    def protected(self, path: Path, size: int) -> bool:
        """Whether ``path`` (of ``size`` bytes) has the content of a protected file (hashed only when
        a protected file has its size)."""
        return any(size == s for s, _ in self._protected) and (size, _digest(path)) in self._protected

    def hold(self, path: str | os.PathLike) -> None:
        """The Gradio event running in this thread holds ``path`` until it ends (outside one:
        nothing); ui.common.use_file records the files a request uses."""
        from gradio.context import LocalContext
        blocks, event_id = LocalContext.blocks.get(None), LocalContext.event_id.get(None)
        if blocks is None or event_id is None:
            return
        self._queue = getattr(blocks, "_queue", None)
        with self._holds_lock:
            self._holds.setdefault(os.path.realpath(path), set()).add(event_id)

    def held_paths(self) -> set[str]:
        """Paths held by events still in Gradio's queue (waiting or running); forgets the others."""
        live = set(getattr(self._queue, "event_ids_to_events", {}) or {})
        with self._holds_lock:
            for path in list(self._holds):
                self._holds[path] &= live
                if not self._holds[path]:
                    del self._holds[path]
            return set(self._holds)

    def make_guard(self):
        """The serving limits of this folder (ui.guard.Guard: its disk budget, which spares held and
        protected files, and the per-client limits), from the environment."""
        from .guard import Guard
        return Guard.from_env(lambda: self.folder, self.held_paths, self.protected)

    # ---- sweeping and shutdown

    def sweep(self, max_age_s: float, now: float | None = None) -> tuple[int, int]:
        """:func:`sweep` of the folder, protected files kept."""
        return sweep(self.folder, max_age_s, now, self.protected)

    def start_sweeper(self, max_age_s: float = MAX_AGE_S, every_s: float = SWEEP_EVERY_S, guard=None,
                      keep=()) -> threading.Thread:
        """A daemon thread that runs :meth:`sweep` every ``every_s`` seconds until :meth:`stop` or
        the server's shutdown (:func:`begin_shutdown`) and, given ``guard`` (ui.guard.Guard), keeps
        the folder within its disk budget's cap (``guard.budget.trim``: results written beyond the
        uploads' room); the files ``keep`` (the bundled examples, ui.common.example_files) are
        protected first."""
        self.protect(keep)

        def run() -> None:
            while not self._stopped.wait(every_s) and not shutting_down():
                n, freed = self.sweep(max_age_s)
                if n:
                    log.info("temp files: removed %d unused for %.0f s (%.1f MB)", n, max_age_s, freed / 1e6)
                trimmed = guard.budget.trim() if guard is not None else 0
                if trimmed:
                    log.info("temp files: removed %.1f MB least recently used (over the %.0f MB cap)",
                             trimmed / 1e6, guard.budget.settings.cap_bytes / 1e6)
        self._sweeper = threading.Thread(target=run, name="temp-sweeper", daemon=True)
        self._sweeper.start()
        return self._sweeper

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the sweeper: it ends now if it waits, after its sweep if one runs (waited for up to
        ``timeout`` s)."""
        self._stopped.set()
        if self._sweeper is not None and self._sweeper is not threading.current_thread():
            self._sweeper.join(timeout)

    def cleanup(self) -> None:
        """Stop the sweeper and remove the folder (at shutdown); other instances' folders are not
        touched."""
        self.stop()
        n, size = folder_size(self.folder)
        shutil.rmtree(self.folder, ignore_errors=True)
        log.info("temp files: removed %s at shutdown (%d files, %.1f MB)", self.folder, n, size / 1e6)


# The process's store: the code that serves requests (ui.common, the middleware below, the disk
# budget) finds it here, where TempStore.activate puts it; nothing is put here at import.
_ACTIVE: TempStore | None = None


def active_store() -> TempStore | None:
    """The store activated in this process (:meth:`TempStore.activate`), or None before."""
    return _ACTIVE


def store() -> TempStore:
    """The process's :class:`TempStore` (the one app.main or app.build_demo activated);
    RuntimeError before one was."""
    if _ACTIVE is None:
        raise RuntimeError("no temp store yet: app.main or app.build_demo makes it (ui.server.TempStore.activate)")
    return _ACTIVE


def upload_folder() -> Path:
    """The process's folder (:func:`store`): Gradio's uploads and cached files, the results."""
    return store().folder


def hold(path: str | os.PathLike) -> None:
    """:meth:`TempStore.hold` of the process's store: the running Gradio event holds ``path``."""
    store().hold(path)


def make_guard():
    """The process's serving limits (:meth:`TempStore.make_guard` of :func:`store`)."""
    return store().make_guard()


class UseMiddleware:
    """ASGI middleware on Gradio's ``/file=`` route (the files this instance serves):

    * a path that cannot be resolved (a null byte, say) is refused with 400 before Gradio sees it;
    * a GET of one of this instance's files counts as a use of it (:func:`touch`) once the whole
      file was sent (HTTP 200 and the body's end): a result viewed or downloaded again stays. A
      HEAD, a range GET (206) or a GET the client cut short does not: only real use keeps a file;
    * a file the sweeper removes while it is being served ends that answer (a 404 with the
      expired message if nothing was sent yet) with one log line, not a traceback."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope.get("type") != "http" or scope.get("method") not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        mark = path.find("/file=")
        used = path[mark + len("/file="):] if mark >= 0 else ""
        if not used:
            await self.app(scope, receive, send)
            return
        try:
            mine = inside(used, upload_folder())
        except (ValueError, OSError):         # a null byte, a path too long: nothing to serve
            from .guard import refuse
            await refuse(send, 400, "Bad file path.")
            return
        if not mine:
            await self.app(scope, receive, send)
            return
        status = 0

        async def watched(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)
            if (message["type"] == "http.response.body" and not message.get("more_body") and status == 200
                    and scope.get("method") == "GET"):
                try:
                    touch(used)
                except OSError:
                    pass
        try:
            await self.app(scope, receive, watched)
        except (FileNotFoundError, RuntimeError) as e:
            if isinstance(e, RuntimeError) and "does not exist" not in str(e):
                raise
            # the sweeper removed it between Gradio's look and its read: one line, no traceback
            log.info("file removed while being served (expired): %s", Path(used).name)
            if not status:
                from .guard import refuse
                await refuse(send, 404, expired_message("results"))
            else:
                await send({"type": "http.response.body", "body": b"", "more_body": False})


def launch_options(guard=None) -> dict:
    """Options for ``demo.launch()`` that serving needs (merged into app.launch_options): the
    middleware of ui.guard (uploads through the disk budget, event sizes and per-client limits)
    and :class:`UseMiddleware`. ``guard``: a ui.guard.Guard (default: :func:`make_guard`), shared
    with the store's sweeper (:meth:`TempStore.start_sweeper`)."""
    from starlette.middleware import Middleware

    from .guard import EventGuard, UploadGuard
    guard = guard or make_guard()
    return {"app_kwargs": {"middleware": [Middleware(UseMiddleware), Middleware(UploadGuard, guard=guard),
                                          Middleware(EventGuard, guard=guard)]}}


def spaces_reload_unavailable(environ=os.environ) -> bool:
    """Whether Gradio would start its Spaces hot-reload watcher without the package it needs:
    with ``SYSTEM=spaces`` and ``SPACE_ID`` set, ``gradio.http_server.start_server`` always starts
    it, and it imports the ``spaces`` package, which a Space's image installs; elsewhere (the
    variables set by hand) it is missing and the watcher's thread dies with a traceback."""
    import importlib.util
    return (environ.get("SYSTEM") == "spaces" and bool(environ.get("SPACE_ID"))
            and importlib.util.find_spec("spaces") is None)


@contextmanager
def serving_without_spaces_reload():
    """Around ``demo.launch()`` when :func:`spaces_reload_unavailable`: Gradio's server start
    does not see ``SYSTEM`` (the one variable its Spaces check reads there), so it serves without
    the hot-reload watcher; the variable is back once the server runs. Otherwise nothing changes."""
    if not spaces_reload_unavailable():
        yield
        return
    log.info("SYSTEM=spaces without the `spaces` package: serving without Gradio's Spaces hot reload")
    system = os.environ.pop("SYSTEM")
    try:
        yield
    finally:
        os.environ["SYSTEM"] = system
