"""The disk budget of the app's folder: a cap on its total size, a per-client upload rate, and
room made by removing the least recently used files.

Gradio's upload route stores whatever it is sent, for anyone, before any computation is asked;
:class:`DiskBudget` decides, before a byte of an upload is stored, whether it may be
(ui.server's upload middleware asks it with the request's declared length):

* **rate**: each client (ui.clients.client_id) may upload :attr:`BudgetSettings.rate_bytes_per_s`
  (a token bucket holding at most :attr:`BudgetSettings.burst_bytes`); more is refused with 429
  and how long to wait;
* **size**: one request larger than what a client may send at once, or than the folder's room
  for uploads, is refused with 413;
* **room**: the folder holds at most :attr:`BudgetSettings.cap_bytes`, of which
  :attr:`BudgetSettings.headroom_bytes` are kept for the results of running requests (uploads
  stop short of it). When an upload does not fit, the least recently used files (modification
  time: every real use sets it, see ui.server) go first, except files a running request holds
  (ui.server.TempStore.held_paths), files being written (PNG writers' ``*.tmp``, Gradio's uploads in
  progress: ``tmp*`` at the folder's top) and the protected examples. If that is not enough the
  upload is refused with 429.

Sizes are in bytes, times in seconds. The budget's state lives in the object (made by
ui.server.launch_options), none at import.
"""

from __future__ import annotations

import errno
import math
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping

DISK_FULL_ERRNOS = (errno.ENOSPC, errno.EDQUOT)   # what a write to a full disk (or quota) raises


def disk_full(error: BaseException) -> bool:
    """Whether ``error`` is a write refused because the disk (or the quota) is full."""
    return isinstance(error, OSError) and error.errno in DISK_FULL_ERRNOS


MB = 1_000_000
IN_PROGRESS_S = 120.0      # a Gradio upload temp file (``tmp*`` at the top) written to within this is in progress
MAX_CLIENTS_TRACKED = 10_000


class Refused(Exception):
    """An upload the budget does not take: ``status`` (413 or 429), the message, and for 429 how
    many seconds to wait (``retry_after``)."""

    def __init__(self, status: int, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.status, self.message, self.retry_after = status, message, retry_after


@dataclass(frozen=True)
class BudgetSettings:
    """``cap_bytes``: the folder's size at most (``SRCNN_TEMP_MAX_MB``, 2000 MB); ``headroom_bytes``:
    the part of it kept for results (256 MB: two requests at the size limit write about 100 MB
    each); ``rate_bytes_per_s`` and ``burst_bytes``: one client's upload rate
    (``SRCNN_UPLOAD_MB_PER_MIN``, 100 MB a minute, at most that much at once)."""
    cap_bytes: int = 2000 * MB
    headroom_bytes: int = 256 * MB
    rate_bytes_per_s: float = 100 * MB / 60
    burst_bytes: int = 100 * MB

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> "BudgetSettings":
        cap = float(environ.get("SRCNN_TEMP_MAX_MB", 2000)) * MB
        per_min = float(environ.get("SRCNN_UPLOAD_MB_PER_MIN", 100)) * MB
        if cap <= 0 or per_min <= 0:
            raise ValueError("SRCNN_TEMP_MAX_MB and SRCNN_UPLOAD_MB_PER_MIN must be positive")
        return cls(cap_bytes=int(cap), headroom_bytes=int(min(256 * MB, cap / 4)),
                   rate_bytes_per_s=per_min / 60, burst_bytes=int(per_min))

    @property
    def upload_room(self) -> int:
        """Bytes the folder may hold before an upload no longer fits (the cap less the headroom)."""
        return self.cap_bytes - self.headroom_bytes


@dataclass
class Reservation:
    """Room held for one upload in progress: ``nbytes`` declared, ``received`` so far."""
    client: str
    nbytes: int
    received: int = 0

    @property
    def outstanding(self) -> int:
        return max(0, self.nbytes - self.received)


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class DiskBudget:
    """The budget of ``folder()`` (see the module's docstring). ``held()``: paths running requests
    hold; ``protected(path, size)``: files never removed (the examples)."""
    folder: Callable[[], Path]
    settings: BudgetSettings = field(default_factory=BudgetSettings)
    held: Callable[[], Iterable[Path]] = lambda: ()
    protected: Callable[[Path, int], bool] = lambda path, size: False
    clock: Callable[[], float] = time.monotonic
    evicted_files: int = 0
    evicted_bytes: int = 0

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._buckets: dict[str, _Bucket] = {}
        self._reservations: list[Reservation] = []

    # ----------------------------------------------------------------- rate

    def _take(self, client: str, nbytes: int) -> None:
        """Take ``nbytes`` from the client's bucket, or raise :class:`Refused` (429)."""
        s, now = self.settings, self.clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= MAX_CLIENTS_TRACKED:
                self._forget_full_buckets(now)
            bucket = self._buckets[client] = _Bucket(float(s.burst_bytes), now)
        bucket.tokens = min(float(s.burst_bytes), bucket.tokens + (now - bucket.at) * s.rate_bytes_per_s)
        bucket.at = now
        if nbytes > bucket.tokens:
            wait = math.ceil((nbytes - bucket.tokens) / s.rate_bytes_per_s)
            raise Refused(429, f"Too many uploads from your address: at most {s.burst_bytes / MB:.0f} MB a minute. "
                               f"Try again in {wait} s.", retry_after=wait)
        bucket.tokens -= nbytes

    def _forget_full_buckets(self, now: float) -> None:
        s = self.settings
        for client, b in list(self._buckets.items()):
            if b.tokens + (now - b.at) * s.rate_bytes_per_s >= s.burst_bytes:
                del self._buckets[client]

    # ----------------------------------------------------------------- room

    def usage(self) -> int:
        """Bytes stored in the folder now, plus what uploads in progress still declared to send."""
        return folder_bytes(self.folder()) + sum(r.outstanding for r in self._reservations)

    def reserve(self, client: str, nbytes: int) -> Reservation:
        """Room for an upload of ``nbytes`` from ``client``, made by removing least recently used
        files if needed; :class:`Refused` when it is too large, too fast, or cannot fit."""
        s = self.settings
        limit = min(s.burst_bytes, s.upload_room)
        if nbytes > limit:
            raise Refused(413, f"This upload is {nbytes / MB:.1f} MB; the app takes at most {limit / MB:.0f} MB "
                               "at once (one photo: at most 25 MB).")
        with self._lock:
            self._take(client, nbytes)
            need = self.usage() + nbytes - s.upload_room
            if need > 0:
                self.make_room(need)
                need = self.usage() + nbytes - s.upload_room
            if need > 0:
                self._buckets[client].tokens += nbytes       # nothing was stored: give the rate back
                raise Refused(429, "The app's storage for photos is full right now (it holds the photos and "
                                   "results in use). Try again in a minute.", retry_after=60)
            reservation = Reservation(client, nbytes)
            self._reservations.append(reservation)
            return reservation

    def release(self, reservation: Reservation) -> None:
        """The upload ended (stored, refused or aborted): its room is no longer held."""
        with self._lock:
            if reservation in self._reservations:
                self._reservations.remove(reservation)

    def trim(self) -> int:
        """Remove least recently used files until the folder is within its cap (results written
        beyond the uploads' room); bytes freed. The sweeper calls it."""
        with self._lock:
            over = self.usage() - self.settings.cap_bytes
            return self.make_room(over, partly=True) if over > 0 else 0

    def make_room(self, need: int, partly: bool = False) -> int:
        """Remove the least recently used removable files (see the module's docstring) until
        ``need`` bytes are freed; bytes freed. When they cannot free that much, none is removed
        (an upload that will be refused anyway costs nobody a file), unless ``partly``."""
        held = {os.path.realpath(p) for p in self.held()}     # the folder is a resolved path
        chosen, total = [], 0
        for _mtime, size, path in sorted(self._removable(held)):
            if total >= need:
                break
            chosen.append((size, path))
            total += size
        if total < need and not partly:
            return 0
        freed = 0
        for size, path in chosen:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            freed += size
            self.evicted_files += 1
            self.evicted_bytes += size
            try:
                path.parent.rmdir()          # its folder, once empty
            except OSError:
                pass
        return freed

    def _removable(self, held: set[str]):
        top = self.folder()
        now = time.time()
        for root, _dirs, names in os.walk(top):
            for name in names:
                path = Path(root) / name
                try:
                    st = path.stat()
                except FileNotFoundError:
                    continue
                if name.endswith(".tmp"):                                  # a result being written
                    continue
                if Path(root) == top and name.startswith("tmp") and now - st.st_mtime < IN_PROGRESS_S:
                    continue                                              # an upload in progress
                if str(path) in held or self.protected(path, st.st_size):
                    continue
                yield st.st_mtime, st.st_size, path


def folder_bytes(folder: Path) -> int:
    """Bytes of the files under ``folder`` (0 if it does not exist)."""
    total = 0
    for root, _dirs, names in os.walk(folder):
        for name in names:
            try:
                total += (Path(root) / name).stat().st_size
            except FileNotFoundError:
                pass
    return total
