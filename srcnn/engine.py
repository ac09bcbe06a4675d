"""The fast inference path: each network exported once to ONNX Runtime, in a faster form.

What runs, per (kind, scale), once per process and lazily (or up front with :func:`warm_up`):

1. the PyTorch model is rewritten into :class:`DeployedSRCNN`, the same function computed
   faster: the last convolution (n2 -> 1 channel, f3 x f3) becomes a 1 x f3 convolution to
   f3 planes (one per kernel row) followed by a sum of those planes shifted by whole rows.
   ONNX Runtime's CPU convolutions work on blocks of 8 output channels, so a 1-channel
   5 x 5 convolution costs as much as an 8-channel one; the rewrite makes it cost about what
   it should (the factor, measured: docs/speed.md);
2. it is exported in memory with ``torch.onnx.export(..., dynamo=False)``, batch, height and
   width dynamic (no file is written);
3. ``onnxruntime.InferenceSession`` are built: one with an intra-op thread per core (for a
   single big window), and one single-threaded session per core; tiles run one per core at
   once, each on its own core's session (:class:`SessionRunner`: faster than ORT's own
   threading; docs/speed.md has the measured ratio).

Export and sessions together take about 1 s. Results equal the float32 PyTorch model
within ~1e-6 (summation order only). ``engine="torch"`` keeps the plain PyTorch path
(channels-last float32) for tests and comparison; ``$SRCNN_ENGINE`` (``onnx`` or ``torch``)
sets the default.

Layouts: every batch function here maps ``(N, h + 2r, w + 2r)`` float32 windows (luma, 0..1
scale) to ``(N, h, w)`` float32, ``r`` the network's receptive-field radius: the
``srcnn.tiling.BatchFn`` contract.
"""

from __future__ import annotations

import io
import itertools
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .models import SRCNN
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

def torch_batch_fn(model: SRCNN) -> BatchFn:
    """Wrap a model as a tiling function: (N, h+2r, w+2r) float32 -> (N, h, w), float32 CPU,
    run by PyTorch in channels-last float32 (the reference path)."""
    def fn(windows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(windows, np.float32))[:, None]
            return model(x.contiguous(memory_format=torch.channels_last))[:, 0].contiguous().numpy()
    return fn


class DeployedSRCNN(nn.Module):
    """The same function as an SRCNN / ResidualSRCNN, in the form that exports fastest.

    ``conv3`` (n2 -> 1, f3 x f3, a cross-correlation) is split into a 1 x f3 convolution to f3
    planes, one per kernel row dy, ``u[dy] = b3 [dy = 0] + sum_c sum_dx w3[c, dy, dx] h[c](., . + dx)``,
    and the sum of those planes shifted by whole rows, ``out[y, x] = sum_dy u[dy][y + dy, x]``
    (row shifts are contiguous slices). Same layout as the model:
    (N, 1, H, W) -> (N, 1, H - 2r, W - 2r).

    ONNX Runtime's CPU convolutions work on blocks of 8 output channels (AVX2), so the
    model's 1-channel f3 x f3 layer costs as much as an 8-channel one: 62% of the plain graph's
    kernel time (25.3 of 40.5 ms, ORT profiler, one thread, a 268 px window, 2 vCPU EPYC). Here
    the f3 planes are padded to 8 channels: 1280 multiply-adds per pixel for 800 useful, against
    6400 for the plain layer. Against the previous form (a 1 x 1 projection to f3^2 planes, then
    f3^2 slices and adds), same profile: the last layer falls from 5.0 ms (projection 2.2,
    split + slices + adds 2.1, layout reorder 0.7) to 4.2 ms (row convolution 3.6, the rest
    0.6), the whole window from 18.3 to 18.0 ms; per-tile CPU time 1.00-1.07x, the pipeline on
    1 MP 1.04x in paired rounds (a shared machine: a few per cent is within its noise; never
    slower). Not measured on AVX-512, where ORT's blocks are 16 channels wide.
    """

    def __init__(self, model: SRCNN):
        super().__init__()
        self.conv1, self.conv2 = model.conv1, model.conv2
        w3 = model.conv3.weight.detach()                     # (1, n2, f3, f3)
        self.f3 = int(w3.shape[-1])
        self.rows = nn.Conv2d(w3.shape[1], self.f3, (1, self.f3))
        with torch.no_grad():
            self.rows.weight.copy_(w3[0].permute(1, 0, 2)[:, :, None, :])   # [dy, c, 1, dx]
            self.rows.bias.zero_()
            self.rows.bias[0] = model.conv3.bias.detach()[0]
        self.radius = model.radius
        self.residual = model.kind == "residual"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        u = self.rows(torch.relu(self.conv2(torch.relu(self.conv1(x)))))
        h = u.shape[-2] - self.f3 + 1
        out = u[:, 0:1, 0:h]
        for dy in range(1, self.f3):
            out = out + u[:, dy:dy + 1, dy:dy + h]
        if self.residual:
            r = self.radius
            out = out + x[..., r:x.shape[-2] - r, r:x.shape[-1] - r]
        return out


def export_onnx(model: nn.Module, opset: int = 17) -> bytes:
    """ONNX bytes of ``model`` (N, 1, H, W) -> (N, 1, H', W'), N/H/W dynamic; in memory.
    Input ``x``, output ``y``; ``opset``: the ONNX operator set."""
    # The legacy exporter announces its deprecation with a DeprecationWarning, which Python hides
    # outside __main__ by default; no warning filter is touched here (process-wide state, and this
    # may run in a request thread).
    buf = io.BytesIO()
    torch.onnx.export(model.eval(), torch.zeros(1, 1, 32, 32), buf, dynamo=False,
                      input_names=["x"], output_names=["y"], opset_version=opset,
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "oh", 3: "ow"}})
    return buf.getvalue()


def make_session(onnx_bytes: bytes, threads: int | None = None):
    """An ONNX Runtime CPU session, all graph optimisations, ``threads`` intra-op threads
    (default: :func:`cores`)."""
    import onnxruntime as ort
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or cores()
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3
    return ort.InferenceSession(onnx_bytes, opts, providers=["CPUExecutionProvider"])


# Sessions, one pair per model object (weak keys: a model dropped by its owner takes its
# sessions with it). The pipeline loads each (kind, scale) once, so each pair is built once
# per process; a session snapshots the weights it was built from.
_sessions: "weakref.WeakKeyDictionary[nn.Module, Sessions]" = weakref.WeakKeyDictionary()
SESSION_BUILDS: list[tuple[str, int, float]] = []   # (kind, scale, seconds) per build: tests read it
_lock = threading.Lock()
_pool: ThreadPoolExecutor | None = None


@dataclass(frozen=True)
class Sessions:
    """Sessions on the same graph: ``wide`` uses every core inside each operator (for one big
    window); ``narrow`` is one single-thread session per core (a tuple; one session shared by
    every core also works), and a batch of windows runs one window per core at once.

    Measured here: tiles over single-thread sessions beat ORT's own intra-op threading by
    15-25% (no synchronisation between operators, every operator parallel). One narrow session
    per core, against one shared by both cores, paired rounds, 2 vCPU EPYC under other load:
    1.21-1.23x on a 450x300 output, 1.02-1.05x on 1 MP (two threads in one session contend
    inside ORT; each session has its own memory arena, so memory stays about the same)."""
    wide: object
    narrow: object


def session_for(model: SRCNN) -> Sessions:
    """The ONNX Runtime sessions of ``model`` (:class:`DeployedSRCNN` form): built on first use
    (one export, a wide session and one narrow session per core: about 1 s), then shared;
    thread-safe."""
    with _lock:   # two first requests at once still build once
        found = _sessions.get(model)
        if found is None:
            t0 = time.perf_counter()
            graph = export_onnx(DeployedSRCNN(model))
            n = cores()
            found = Sessions(make_session(graph),
                             tuple(make_session(graph, threads=1) for _ in range(n)) if n > 1 else None)
            _sessions[model] = found
            SESSION_BUILDS.append((model.kind, model.scale, time.perf_counter() - t0))
        return found


def _workers() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(cores(), thread_name_prefix="srcnn-tile")
        return _pool


_lane = threading.local()
_lane_count = itertools.count()


def _lane_index() -> int:
    """A number per worker thread (0, 1, ... in the order they first ask): with as many narrow
    sessions as pool threads, no two threads share a session."""
    i = getattr(_lane, "index", None)
    if i is None:
        i = _lane.index = next(_lane_count)
    return i


class SessionRunner:
    """Sessions as a tiling function: the :data:`srcnn.tiling.BatchFn` contract
    (``runner(windows)``) and the :class:`srcnn.tiling.EachFn` one (``runner.each(windows)``,
    what :func:`srcnn.tiling.tiled_apply` uses).

    ``each`` queues every window at once, largest first, on the pool's threads (one per core),
    each run by that thread's single-thread ``narrow`` session (ORT releases the GIL), and
    yields the results as they complete: no core waits for another between groups of tiles,
    and with ``lanes`` (= cores) dividing the number of near-equal tiles none idles at the end.
    Measured in paired rounds (2 vCPU EPYC under other load), this path with the row form of
    :class:`DeployedSRCNN` against the previous one (stacks of 8 equal-shape tiles per call, a
    wait after each, an odd one out run on the 2-thread session, one narrow session shared by
    the cores): 1.09-1.12x on 1 MP (999x999 and 1225x816), 1.13-1.27x on a 450x300 output
    (four 150x225 tiles instead of 225 and 75 rows), 1.01-1.09x on 4 MP (many tiles: little
    idle time to win). The fixed cost of a call is about 0.6 ms (an 8 x 8 image), 1-2% of a
    450x300 output. One window (or one core, or no ``narrow``) runs on ``wide``, ORT
    threading inside each operator."""

    def __init__(self, sessions: Sessions):
        self.sessions = sessions
        narrow = sessions.narrow
        self.narrow = () if narrow is None else tuple(narrow) if isinstance(narrow, (tuple, list)) else (narrow,)
        self.lanes = cores() if self.narrow else 1

    @staticmethod
    def _run(sess, x: np.ndarray) -> np.ndarray:
        return sess.run(None, {"x": np.ascontiguousarray(x, np.float32)[:, None]})[0][:, 0]

    def _run_narrow(self, x: np.ndarray) -> np.ndarray:
        return self._run(self.narrow[_lane_index() % len(self.narrow)], x)

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        if len(windows) == 1 or self.lanes == 1:
            return self._run(self.sessions.wide, windows)
        return np.concatenate(list(_workers().map(lambda i: self._run_narrow(windows[i:i + 1]),
                                                  range(len(windows)))))

    def each(self, windows):
        if len(windows) == 1 or self.lanes == 1:
            for i, w in enumerate(windows):
                yield i, self._run(self.sessions.wide, w[None])[0]
            return
        order = sorted(range(len(windows)), key=lambda i: -windows[i].size)
        pool = _workers()
        futures = {pool.submit(self._run_narrow, windows[i][None]): i for i in order}
        try:
            for f in as_completed(futures):
                yield futures[f], f.result()[0]
        finally:   # stopped early (cancelled, or an error): start no more, let running ones end
            for f in futures:
                f.cancel()
            wait(futures)


def session_fn(sessions: Sessions) -> SessionRunner:
    """Wrap sessions as a tiling function (:class:`SessionRunner`)."""
    return SessionRunner(sessions)


def batch_fn(model: SRCNN, engine: str | None = None) -> BatchFn:
    """The tiling function for ``model`` on ``engine`` (default :func:`default_engine`)."""
    engine = default_engine() if engine is None else check_engine(engine)
    if engine == "torch":
        return torch_batch_fn(model)
    return session_fn(session_for(model))


def warm_up(model: SRCNN, engine: str | None = None) -> None:
    """Build ``model``'s session now and run it once on a tiny input (ORT allocates lazily)."""
    r = model.radius
    batch_fn(model, engine)(np.zeros((1, 2 * r + 8, 2 * r + 8), np.float32))
