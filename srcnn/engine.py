"""The fast inference path: each network run by ONNX Runtime sessions on its ONNX graph.

What runs, per network, once per owner (srcnn.runner.Runner holds the sessions, the thread
pool and the record of builds; this module holds no state but ONNX Runtime's process-wide
arena, :func:`shared_arena`):

1. the graph is written from the weights by srcnn.onnx_graph (srcnn.models.Network: numpy
   arrays; a PyTorch module is converted first), with the last convolution in its row form
   (why: srcnn.onnx_graph.network_model). Batch, height and width are dynamic; no file is
   written, and no PyTorch is needed;
2. ``onnxruntime.InferenceSession`` are built (:func:`build_sessions`): one with an intra-op
   thread per core (for a single big window), and one single-threaded session per core; tiles
   run one per core at once, each on its own core's session (:class:`SessionRunner` on a
   :class:`TilePool`); every session of the process allocates from one shared memory arena.

Graph and sessions together take well under a second. Results equal the float32 PyTorch model
within ~1e-6 (summation order only; the tests compare). ``engine="torch"`` keeps the plain
PyTorch path (channels-last float32, :func:`torch_batch_fn`: imports srcnn.torch_models) for
tests and comparison; ``$SRCNN_ENGINE`` (``onnx`` or ``torch``) sets the default. Why this
layout and what each part gains: docs/speed.md ("What each lever contributes").

Layouts: every batch function here maps ``(N, h + 2r, w + 2r)`` float32 windows (luma, 0..1
scale) to ``(N, h, w)`` float32, ``r`` the network's receptive-field radius: the
``srcnn.tiling.BatchFn`` contract.
"""

from __future__ import annotations

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass

import numpy as np

from .models import Network
from .onnx_graph import network_bytes
from .tiling import BatchFn

ENGINES = ("onnx", "torch")
ENGINE_ENV = "SRCNN_ENGINE"
DEFAULT_ENGINE = "onnx"


def default_engine() -> str:
    """``$SRCNN_ENGINE`` if set (``onnx`` or ``torch``), else :data:`DEFAULT_ENGINE`."""
    return check_engine(os.environ.get(ENGINE_ENV, "").strip().lower() or DEFAULT_ENGINE)


def check_engine(engine: object) -> str:
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    return str(engine)


def cores() -> int:
    """CPU cores this process may run on (the affinity mask, not the machine's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


# --------------------------------------------------------------------------- models

def torch_batch_fn(model) -> BatchFn:
    """Wrap a model (a PyTorch ``SRCNN`` / ``ResidualSRCNN``, or a srcnn.models.Network, turned
    into one) as a tiling function: (N, h+2r, w+2r) float32 -> (N, h, w), float32 CPU, run by
    PyTorch in channels-last float32 (the reference path; imports srcnn.torch_models, which says
    in one line what to install where torch is missing)."""
    from .torch_models import torch_module   # first: without torch, its one-line ImportError
    import torch
    module = torch_module(model).to(memory_format=torch.channels_last) if isinstance(model, Network) else model

    def fn(windows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(windows, np.float32))[:, None]
            return module(x.contiguous(memory_format=torch.channels_last))[:, 0].contiguous().numpy()
    return fn


# ONNX Runtime's environment allocator is process-wide (one per ORT environment, and ORT has one
# per process): the one piece of engine state that is the process's, registered once, here.
_shared_arena: list = []
_arena_lock = threading.Lock()


def shared_arena(ort) -> None:
    """Register one CPU memory arena for every session of this process (ONNX Runtime's
    environment allocator), once. An arena keeps the most it was ever asked for; one shared by
    every session keeps the most any one run needed, where an arena per session would keep that
    per session (the figures: docs/app.md, "Memory")."""
    with _arena_lock:
        if not _shared_arena:
            info = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
            ort.create_and_register_allocator(info, ort.OrtArenaCfg(0, -1, -1, -1))
            _shared_arena.append(info)


def make_session(onnx_bytes: bytes, threads: int | None = None):
    """An ONNX Runtime CPU session, all graph optimisations, ``threads`` intra-op threads
    (default: :func:`cores`), on the process's shared memory arena (:func:`shared_arena`)."""
    import onnxruntime as ort
    shared_arena(ort)
    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.use_env_allocators", "1")
    opts.intra_op_num_threads = threads or cores()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])


@dataclass(frozen=True)
class Sessions:
    """Sessions on the same graph: ``wide`` uses every core inside each operator (for one big
    window); ``narrow`` is one single-thread session per core (a tuple; one session shared by
    every core also works), and a batch of windows runs one window per core at once.

    Tiles over single-thread sessions avoid the synchronisation between operators that ORT's
    own intra-op threading needs, and a session per core keeps two threads from contending
    inside one session; every session allocates from the shared arena (:func:`shared_arena`).
    What each gains: docs/speed.md ("Every lever tried")."""
    wide: object
    narrow: object


def build_sessions(net: Network) -> Sessions:
    """``net``'s graph (srcnn.onnx_graph) and its sessions: a wide one, and one narrow session per
    core (none on one core). Each session holds a copy of the weights it was built from."""
    graph = network_bytes(net)
    n = cores()
    return Sessions(make_session(graph), tuple(make_session(graph, threads=1) for _ in range(n)) if n > 1 else None)


class TilePool:
    """The threads tiles run on: one per core, each with a lane number (0, 1, ... in the order
    the threads first ask), so that with as many narrow sessions as threads no two threads
    share a session. Its owner (srcnn.runner.Runner) shuts it down."""

    def __init__(self, threads: int | None = None):
        self.executor = ThreadPoolExecutor(threads or cores(), thread_name_prefix="srcnn-tile")
        self._lanes = threading.local()
        self._count = itertools.count()

    def lane(self) -> int:
        """The calling thread's lane number."""
        i = getattr(self._lanes, "index", None)
        if i is None:
            i = self._lanes.index = next(self._count)
        return i

    def shutdown(self) -> None:
        """Start no more tiles; wait for the running ones to end."""
        self.executor.shutdown(wait=True, cancel_futures=True)


class SessionRunner:
    """Sessions as a tiling function: the :data:`srcnn.tiling.BatchFn` contract
    (``runner(windows)``) and the :class:`srcnn.tiling.EachFn` one (``runner.each(windows)``,
    what :func:`srcnn.tiling.tiled_apply` uses).

    ``each`` queues every window at once, largest first, on ``pool``'s threads (one per core),
    each run by that thread's single-thread ``narrow`` session (ORT releases the GIL), and
    yields the results as they complete: no core waits for another between groups of tiles,
    and with ``lanes`` (= cores) dividing the number of near-equal tiles none idles at the end
    (what it gains: docs/speed.md, "What each lever contributes"). One window (or one core, or
    no ``narrow``) runs on ``wide``, ORT threading inside each operator."""

    def __init__(self, sessions: Sessions, pool: TilePool):
        self.sessions = sessions
        self.pool = pool
        narrow = sessions.narrow
        self.narrow = () if narrow is None else tuple(narrow) if isinstance(narrow, (tuple, list)) else (narrow,)
        self.lanes = cores() if self.narrow else 1

    @staticmethod
    def _run(sess, x: np.ndarray) -> np.ndarray:
        return sess.run(None, {"x": np.ascontiguousarray(x, np.float32)[:, None]})[0][:, 0]

    def _run_narrow(self, x: np.ndarray) -> np.ndarray:
        return self._run(self.narrow[self.pool.lane() % len(self.narrow)], x)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        if len(windows) == 1 or self.lanes == 1:
            return self._run(self.sessions.wide, windows)
        # a stack of equal windows: one contiguous share per core, each in one call (a call has a
        # fixed cost: the study's hundreds of 33 x 33 patches would otherwise pay it per patch)
        bounds = np.linspace(0, len(windows), min(self.lanes, len(windows)) + 1).astype(int)
        shares = self.pool.executor.map(lambda ab: self._run_narrow(windows[ab[0]:ab[1]]), zip(bounds[:-1], bounds[1:]))
        return np.concatenate(list(shares))

    def each(self, windows):
        if len(windows) == 1 or self.lanes == 1:
            for i, w in enumerate(windows):
                yield i, self._run(self.sessions.wide, w[None])[0]
            return
        order = sorted(range(len(windows)), key=lambda i: -windows[i].size)
        futures = {self.pool.executor.submit(self._run_narrow, windows[i][None]): i for i in order}
        try:
            for f in as_completed(futures):
                yield futures[f], f.result()[0]
        finally:   # stopped early (cancelled, or an error): start no more, let running ones end
            for f in futures:
                f.cancel()
            wait(futures)
