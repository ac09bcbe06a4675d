"""The runner: everything running the networks needs, held by one object the caller can see.

A :class:`Runner` owns

* the loaded networks, one per published checkpoint (srcnn.weights.Checkpoint), loaded on first
  use by its srcnn.weights.WeightsFinder, which remembers what it learnt about the Hub, and
  one per other weights folder it is asked for (a training snapshot, the 2018 study's network);
* each network's ONNX Runtime sessions (srcnn.engine.Sessions), built once, and the record of
  those builds (:attr:`Runner.session_builds`);
* the threads tiles run on (srcnn.engine.TilePool), started on first use;
* the engine choice: "onnx" or "torch"; None reads ``$SRCNN_ENGINE`` each time a batch
  function is made (srcnn.engine.default_engine).

:meth:`Runner.close` lets go of all of it. Networks and sessions are shared read-only by every
thread that uses the runner.

The functional API (srcnn.upscale, srcnn.pipeline.apply_network, warm_up, ...) takes
``runner=None``, meaning the process's default runner: :func:`default_runner`, made on first
use, is the one place a process-level default lives. Make your own runner where a part of a
program should hold its own networks: a server that drops every model with ``close()``, or a
test that starts clean.

Layouts: a luma is HW float32 in 0..1 scale; batch functions follow srcnn.tiling.BatchFn.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import replace
from pathlib import Path

import numpy as np

from .blending import blended
from .engine import Sessions, SessionRunner, TilePool, build_sessions, check_engine, default_engine, torch_batch_fn
from .models import Network, as_network
from .tiling import BatchFn, tiled_apply
from .weights import DEFAULT_FINDER, Checkpoint, WeightsFinder, bundled_checkpoints, network_from_folder

# Tile size (output px) the app passes to upscale(), and tiles per engine call. Tiles of
# 256 px (+ halo) run one per core on single-thread sessions (srcnn.engine); their working
# memory is ~40 MB each whatever the image size; the halo costs ~10% more input than the
# whole image, paid back by the threading and the cache (`python -m srcnn bench` measures).
DEFAULT_TILE = 256
TILES_PER_CALL = 8

Build = tuple[str, int | float | str, float]   # one session build: (kind, scale, seconds)


class Runner:
    """Owns networks, their sessions and the tile threads (see the module's docstring).

    ``engine``: "onnx", "torch", or None for ``$SRCNN_ENGINE`` (else "onnx"), read when each
    batch function is made. ``weights``: the finder that loads the published networks (default:
    a new one, so this runner's Hub state is its own)."""

    def __init__(self, engine: str | None = None, weights: WeightsFinder | None = None):
        self.engine = None if engine is None else check_engine(engine)
        self.weights = WeightsFinder() if weights is None else weights
        self.session_builds: list[Build] = []
        self._networks: dict[Checkpoint, Network] = {}
        self._folders: dict[tuple[str, str, float], Network] = {}   # (kind, folder, weights file's mtime)
        # weak keys: a model object its owner drops (a checkpoint being evaluated) takes its sessions with it
        self._sessions: weakref.WeakKeyDictionary[object, Sessions] = weakref.WeakKeyDictionary()
        self._pool: TilePool | None = None
        self._load_lock = threading.Lock()    # networks: a Hub attempt may take seconds
        self._lock = threading.Lock()         # sessions and the pool

    def network(self, checkpoint: Checkpoint) -> Network:
        """The loaded network of a published ``checkpoint`` (srcnn.models.Network: numpy weights,
        no torch): loaded on first use, then the same object every time. One with a
        ``clean_share``: its network and the clean one blended (srcnn.blending)."""
        if checkpoint.clean_share:
            compressed = self.network(replace(checkpoint, clean_share=0.0))
            clean = self.network(Checkpoint(checkpoint.kind, checkpoint.scale))
            with self._load_lock:
                found = self._networks.get(checkpoint)
                if found is None:
                    found = self._networks[checkpoint] = blended(compressed, clean, checkpoint.clean_share)
                return found
        with self._load_lock:
            found = self._networks.get(checkpoint)
            if found is None:
                found = self._networks[checkpoint] = self.weights.load_network(
                    checkpoint.kind, checkpoint.scale, compressed=checkpoint.compressed)
            return found

    def folder_network(self, kind: str, folder: str | Path) -> Network:
        """The ``kind`` network in a weights folder that is not a published checkpoint (a training
        snapshot, the 2018 study's weights): loaded strictly on first use, then the same object
        while its ``model.safetensors`` is the same file version (modification time)."""
        folder = Path(folder)
        key = (kind, str(folder), (folder / "model.safetensors").stat().st_mtime)
        with self._load_lock:
            found = self._folders.get(key)
            if found is None:
                found = self._folders[key] = network_from_folder(kind, folder)
            return found

    def sessions(self, model) -> Sessions:
        """``model``'s ONNX Runtime sessions (a srcnn.models.Network, or a PyTorch module whose
        weights are read now): built on first use, once even when threads ask at once, then
        shared; each build is recorded in :attr:`session_builds`."""
        with self._lock:
            found = self._sessions.get(model)
            if found is None:
                t0 = time.perf_counter()
                net = as_network(model)
                found = self._sessions[model] = build_sessions(net)
                self.session_builds.append((net.kind, net.scale, time.perf_counter() - t0))
            return found

    def pool(self) -> TilePool:
        """The tile threads, started on first use (again after :meth:`close`)."""
        with self._lock:
            if self._pool is None:
                self._pool = TilePool()
            return self._pool

    def batch_fn(self, model, engine: str | None = None) -> BatchFn:
        """The tiling function for ``model`` on ``engine`` (default: the runner's engine)."""
        engine = check_engine(engine) if engine is not None else self.engine or default_engine()
        if engine == "torch":
            return torch_batch_fn(model)
        return SessionRunner(self.sessions(model), self.pool())

    def apply(self, model, luma: np.ndarray, tile: int | None = DEFAULT_TILE, progress=None,
              engine: str | None = None) -> np.ndarray:
        """``model`` on a bicubic-upscaled ``luma`` in exact tiles of ``tile`` output px (None:
        one window); same size out (srcnn.tiling.tiled_apply). ``progress(done, total)`` per tile."""
        return tiled_apply(self.batch_fn(model, engine), luma, model.radius, tile,
                           batch=TILES_PER_CALL, progress=progress)

    def prepare(self, model, engine: str | None = None) -> None:
        """Build ``model``'s sessions now and run it once on a tiny input (ORT allocates lazily)."""
        r = model.radius
        self.batch_fn(model, engine)(np.zeros((1, 2 * r + 8, 2 * r + 8), np.float32))

    def warm_up(self, checkpoints: list[Checkpoint | tuple[str, int | float | str]] | None = None,
                engine: str | None = None) -> float:
        """Load and :meth:`prepare` the networks now (default: every bundled checkpoint; a
        ``(kind, scale)`` pair means the clean network), so that the first request is not the
        slow one. Returns the seconds it took."""
        t0 = time.perf_counter()
        for c in (bundled_checkpoints() if checkpoints is None else checkpoints):
            self.prepare(self.network(c if isinstance(c, Checkpoint) else Checkpoint(*c)), engine)
        return time.perf_counter() - t0

    def close(self) -> None:
        """Let go of the networks and sessions and shut the tile threads down (tiles already
        running end first). Call it when no work is running on the runner; a later call loads
        and builds afresh."""
        with self._load_lock:
            self._networks.clear()
            self._folders.clear()
        with self._lock:
            pool, self._pool = self._pool, None
            self._sessions = weakref.WeakKeyDictionary()
        if pool is not None:
            pool.shutdown()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


_default: Runner | None = None
_default_lock = threading.Lock()


def default_runner() -> Runner:
    """The process's default runner, made on first use: what every ``runner=None`` means. Its
    finder is srcnn.weights.DEFAULT_FINDER, shared with the weights module's functions, so one
    failed Hub attempt is remembered by both."""
    global _default
    with _default_lock:
        if _default is None:
            _default = Runner(weights=DEFAULT_FINDER)
        return _default
