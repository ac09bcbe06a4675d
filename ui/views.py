"""The study tab's views as the app serves them: computed with both cores, kept, and shared.

srcnn.study.insight computes a view in pure parts; this module only schedules and keeps them:

* :func:`compute_view` runs the two parts that do not depend on each other side by side (the
  other network's pass and the snapshots on a second thread while this one stitches and scores:
  numpy works on one core, the networks use both), in a copy of the caller's context, so that
  the caller's srcnn.cancel check (the app's: ui.server.check, set by ui.server.lane) stops
  both threads.
* :func:`view_of_file` keeps the :data:`VIEWS_KEPT` most recent views, keyed on the file's content,
  at most :data:`VIEWS_MAX_BYTES` in all (their arrays and pictures, :func:`approx_bytes`), and
  lets requests that arrive while the same view is being computed wait for it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from pathlib import Path

import numpy as np
from PIL import Image

from srcnn import cancel
from srcnn.study.insight import (InsideView, NetworksAndSnapshots, ViewPlan, finish_view, plan_view,
                                 view_networks_and_snapshots, view_stitchings)

VIEWS_KEPT = 2           # views kept (about 100 MB each for a 1-megapixel ground truth)
VIEWS_MAX_BYTES = int(float(os.environ.get("SRCNN_VIEWS_MAX_MB", 300)) * 1_000_000)   # kept views' size, all together
WAIT_POLL_S = 0.1        # how often a waiting request checks its own client

ViewKey = tuple[str, int, str, str]   # (SHA-256 of the file, scale, kind, network)
_VIEWS: OrderedDict[ViewKey, InsideView] = OrderedDict()   # most recent last
_PENDING: dict[ViewKey, Future] = {}                       # being computed now
_RETRY = object()   # a pending computation was stopped by its own caller's check: compute anew
_VIEWS_LOCK = threading.Lock()


def compute_view(hr: Image.Image, scale: int, kind: str = "residual", network: str = "ours") -> InsideView:
    """srcnn.study.insight.inside_view, its two independent parts side by side (the same view).
    The caller's srcnn.cancel check is called between stages, tiles and bands of both threads; it
    may raise to stop the work. If this thread's part fails, the other stops at its next check."""
    plan = plan_view(hr, scale, kind, network=network)
    cancel.checkpoint()
    failed = threading.Event()
    with ThreadPoolExecutor(1, thread_name_prefix="insight") as pool:
        beside = pool.submit(cancel.in_context(_networks_and_snapshots), plan, failed)
        try:
            stitched = view_stitchings(plan)
            cancel.checkpoint()
        except BaseException:
            failed.set()
            raise
        return finish_view(plan, stitched, beside.result())


def _networks_and_snapshots(plan: ViewPlan, failed: threading.Event) -> NetworksAndSnapshots:
    """view_networks_and_snapshots, for the second thread (run in the caller's context): it stops
    where the caller's check raises, or once ``failed`` is set (the other half of the view failed)."""
    outer = cancel.current()

    def check() -> None:
        if failed.is_set():
            raise RuntimeError("stopped: the other half of the view failed")
        if outer is not None:
            outer()

    with cancel.cancellable(check):
        return view_networks_and_snapshots(plan)


def view_of_file(path: str | Path, scale: int, kind: str = "residual", network: str = "ours") -> InsideView:
    """:func:`compute_view` of the photo in the file at ``path``, kept per file content (SHA-256),
    scale, kind and network: the app's views (seam lines on or off, a repeated request, the same
    photo uploaded again) reuse one upscaling. Calls that arrive while the same view is being
    computed wait for that computation (its result, or its error) instead of starting another
    (two visitors on the same example, a double click), calling their own srcnn.cancel check while
    they wait; if the computation was stopped by its caller's check, a waiter computes the view
    itself."""
    data = Path(path).read_bytes()
    key = (hashlib.sha256(data).hexdigest(), scale, kind, network)
    while True:
        found, mine = _claim(key)
        if mine is not None:
            return _compute_and_share(key, mine, data)
        result = found if isinstance(found, InsideView) else _wait(found)
        if result is not _RETRY:
            return result


def _claim(key: ViewKey) -> tuple[InsideView | Future | None, Future | None]:
    """(the kept view, None), (the pending computation, None), or (None, a new Future that is ours
    to complete: nobody computes this view now)."""
    with _VIEWS_LOCK:
        if key in _VIEWS:
            _VIEWS.move_to_end(key)
            return _VIEWS[key], None
        if key in _PENDING:
            return _PENDING[key], None
        _PENDING[key] = mine = Future()
        return None, mine


def _wait(pending: Future):
    """The pending computation's result (or :data:`_RETRY`), or its error raised; the caller's
    srcnn.cancel check polled."""
    while True:
        try:
            return pending.result(timeout=WAIT_POLL_S)
        except FuturesTimeout:
            cancel.checkpoint()


def _compute_and_share(key: ViewKey, mine: Future, data: bytes) -> InsideView:
    """Compute the view, keep it, and hand it (or the error) to those waiting on ``mine``."""
    outer, stopped = cancel.current(), []

    def own_check() -> None:     # the caller's check, noting whether it stopped the computation
        try:
            if outer is not None:
                outer()
        except BaseException:
            stopped.append(True)
            raise

    try:
        with Image.open(io.BytesIO(data)) as img, cancel.cancellable(own_check):
            img.load()
            view = compute_view(img, key[1], key[2], network=key[3])
    except BaseException as e:
        with _VIEWS_LOCK:
            del _PENDING[key]
        if stopped:
            mine.set_result(_RETRY)               # our caller went; the others try again
        else:
            mine.set_exception(e)
        raise
    _keep(key, view)
    mine.set_result(view)
    return view


_SIZES: dict[ViewKey, int] = {}   # approx_bytes of each kept view


def _keep(key: ViewKey, view: InsideView) -> None:
    """Keep ``view`` as the most recent; the oldest go while more than :data:`VIEWS_KEPT` are
    kept or they hold more than :data:`VIEWS_MAX_BYTES` (a view larger than that alone is not kept,
    and the others stay)."""
    size = approx_bytes(view)
    with _VIEWS_LOCK:
        del _PENDING[key]
        if size > VIEWS_MAX_BYTES:              # too large to keep: the others stay
            return
        _VIEWS[key], _SIZES[key] = view, size
        while _VIEWS and (len(_VIEWS) > VIEWS_KEPT or sum(_SIZES.values()) > VIEWS_MAX_BYTES):
            old, _ = _VIEWS.popitem(last=False)
            del _SIZES[old]


def kept_bytes() -> int:
    """approx_bytes of the views kept now, all together."""
    with _VIEWS_LOCK:
        return sum(_SIZES.values())


def approx_bytes(obj, _seen: set[int] | None = None) -> int:
    """The bytes of the numpy arrays and PIL pictures in ``obj`` (through dataclasses, dicts,
    lists and tuples; each object once): what a kept view holds, less Python's small objects."""
    seen = set() if _seen is None else _seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return approx_bytes(obj.base, seen) if isinstance(obj.base, np.ndarray) else obj.nbytes
    if isinstance(obj, Image.Image):
        return obj.width * obj.height * len(obj.getbands())
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return sum(approx_bytes(getattr(obj, f.name), seen) for f in dataclasses.fields(obj))
    if isinstance(obj, dict):
        return sum(approx_bytes(v, seen) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return sum(approx_bytes(v, seen) for v in obj)
    return 0


def forget_views() -> None:
    """Drop every kept view (the next request computes again; pending ones finish as usual)."""
    with _VIEWS_LOCK:
        _VIEWS.clear()
        _SIZES.clear()
