"""The fast inference path: each network built once as an ONNX graph and run by ONNX Runtime.

What runs, per network object, once per process and lazily (or up front with :func:`warm_up`):

1. the graph is written with ``onnx.helper`` straight from the weights (srcnn.models.Network:
   numpy arrays; a PyTorch module is converted first), in a faster form than the plain three
   convolutions (:func:`network_graph`): the last convolution (n2 -> 1 channel, f3 x f3)
   becomes a 1 x f3 convolution to f3 planes (one per kernel row) followed by a sum of those
   planes shifted by whole rows. ONNX Runtime's CPU convolutions work on blocks of 8 output
   channels, so a 1-channel 5 x 5 convolution costs as much as an 8-channel one; the rewrite
   makes it cost about what it should (the factor, measured: docs/speed.md). Batch, height and
   width are dynamic; no file is written, and no PyTorch is needed;
2. ``onnxruntime.InferenceSession`` are built: one with an intra-op thread per core (for a
   single big window), and one single-threaded session per core; tiles run one per core at
   once, each on its own core's session (:class:`SessionRunner`: faster than ORT's own
   threading; docs/speed.md has the measured ratio).

Graph and sessions together take well under a second. Results equal the float32 PyTorch model
within ~1e-6 (summation order only; the tests compare). ``engine="torch"`` keeps the plain
PyTorch path (channels-last float32, :func:`torch_batch_fn`: imports torch) for tests and
comparison; ``$SRCNN_ENGINE`` (``onnx`` or ``torch``) sets the default.

Layouts: every batch function here maps ``(N, h + 2r, w + 2r)`` float32 windows (luma, 0..1
scale) to ``(N, h, w)`` float32, ``r`` the network's receptive-field radius: the
``srcnn.tiling.BatchFn`` contract.
"""

from __future__ import annotations

import itertools
import os
import threading
import time
import weakref
from concurrent.futures import ThreadPoolExecutor, as_completed, wait
from dataclasses import dataclass

import numpy as np

from .models import Network, as_network, import_torch
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
    PyTorch in channels-last float32 (the reference path; imports torch)."""
    torch = import_torch("the torch engine")
    module = model.to_module().to(memory_format=torch.channels_last) if isinstance(model, Network) else model

    def fn(windows: np.ndarray) -> np.ndarray:
        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(windows, np.float32))[:, None]
            return module(x.contiguous(memory_format=torch.channels_last))[:, 0].contiguous().numpy()
    return fn


OPSET = 17          # ONNX operator set of the graphs
IR_VERSION = 8      # the ONNX IR version that goes with it (what ONNX Runtime reads)
_INT64_MAX = np.iinfo(np.int64).max
_INT64_MIN = np.iinfo(np.int64).min


class _Graph:
    """A small helper for writing an ONNX graph: nodes, constants and fresh names."""

    def __init__(self):
        self.nodes, self.inits, self._n = [], [], itertools.count()

    def name(self, stem: str) -> str:
        return f"{stem}_{next(self._n)}"

    def const(self, value, stem: str = "c") -> str:
        from onnx import numpy_helper
        name = self.name(stem)
        self.inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, inputs: list[str], stem: str | None = None, output: str | None = None, **attrs) -> str:
        from onnx import helper
        out = output or self.name(stem or op_type.lower())
        self.nodes.append(helper.make_node(op_type, inputs, [out], **attrs))
        return out

    def slice(self, x: str, starts, ends, axes, steps=None) -> str:
        inputs = [x, self.const(np.array(starts, np.int64)), self.const(np.array(ends, np.int64)),
                  self.const(np.array(axes, np.int64))]
        if steps is not None:
            inputs.append(self.const(np.array(steps, np.int64)))
        return self.op("Slice", inputs)

    def mirror_pad(self, x: str, r: int, axis: int) -> str:
        """``x`` padded by ``r`` on both sides of ``axis``, mirrored with the edge pixel repeated
        (``numpy.pad(mode="symmetric")``, period 2n: any length n >= 1 works): one Gather of the
        indices ``mirror(-r .. n + r - 1)`` computed in the graph."""
        n = self.op("Squeeze", [self.op("Shape", [x], start=axis, end=axis + 1), self.const(np.array([0], np.int64))])
        idx = self.op("Range", [self.const(np.array(-r, np.int64)), self.op("Add", [n, self.const(np.array(r, np.int64))]),
                                self.const(np.array(1, np.int64))])
        two_n = self.op("Mul", [n, self.const(np.array(2, np.int64))])
        m = self.op("Mod", [idx, two_n], fmod=0)                      # 0 .. 2n-1 (sign of the divisor)
        back = self.op("Sub", [self.op("Sub", [two_n, self.const(np.array(1, np.int64))]), m])
        where = self.op("Where", [self.op("Less", [m, n]), m, back])
        return self.op("Gather", [x, where], axis=axis)


def network_graph(model, same_size: bool = False) -> bytes:
    """The ONNX bytes (opset :data:`OPSET`) of ``model`` (a srcnn.models.Network or a PyTorch
    module, converted), written with ``onnx.helper`` from its weights: input ``x`` (N, 1, H, W)
    float32, output ``y``; N, H and W dynamic.

    ``same_size=False`` (the engine): valid convolutions, (N, 1, H, W) -> (N, 1, H - 2r, W - 2r),
    as the model. ``same_size=True`` (srcnn.export's file): the input is first mirror-padded by
    ``r`` inside the graph (edge pixel repeated, as srcnn.tiling pads), so the output has the
    input's size; any H, W >= 1.

    The last convolution is in its row form: ``conv3`` (n2 -> 1, f3 x f3, a cross-correlation)
    becomes a 1 x f3 convolution to f3 planes, one per kernel row dy,
    ``u[dy] = b3 [dy = 0] + sum_c sum_dx w3[c, dy, dx] h[c](., . + dx)``, and the sum of those
    planes shifted by whole rows, ``out[y, x] = sum_dy u[dy][y + dy, x]`` (added in order dy = 0,
    1, ...; then, for the residual kind, the input's centre).

    ONNX Runtime's CPU convolutions work on blocks of 8 output channels (AVX2), so the
    model's 1-channel f3 x f3 layer costs as much as an 8-channel one: 62% of the plain graph's
    kernel time (25.3 of 40.5 ms, ORT profiler, one thread, a 268 px window, 2 vCPU EPYC). In the
    row form the f3 planes fill 8 channels: 1280 multiply-adds per pixel for 800 useful, against
    6400 for the plain layer. Against the previous form (a 1 x 1 projection to f3^2 planes, then
    f3^2 slices and adds), same profile: the last layer falls from 5.0 ms (projection 2.2,
    split + slices + adds 2.1, layout reorder 0.7) to 4.2 ms (row convolution 3.6, the rest
    0.6), the whole window from 18.3 to 18.0 ms; per-tile CPU time 1.00-1.07x, the pipeline on
    1 MP 1.04x in paired rounds (a shared machine: a few per cent is within its noise; never
    slower). Not measured on AVX-512, where ORT's blocks are 16 channels wide.
    """
    from onnx import TensorProto, helper
    net = as_network(model)
    w, r, f3 = net.weights, net.radius, net.f3
    g = _Graph()
    x = "x"
    if same_size and r > 0:
        x = g.mirror_pad(g.mirror_pad(x, r, 2), r, 3)
    h = g.op("Relu", [g.op("Conv", [x, g.const(w["conv1.weight"], "w1"), g.const(w["conv1.bias"], "b1")],
                           kernel_shape=[net.f1, net.f1])])
    h = g.op("Relu", [g.op("Conv", [h, g.const(w["conv2.weight"], "w2"), g.const(w["conv2.bias"], "b2")],
                           kernel_shape=[net.f2, net.f2])])
    rows_w = np.ascontiguousarray(w["conv3.weight"][0].transpose(1, 0, 2)[:, :, None, :])   # [dy, c, 1, dx]
    rows_b = np.zeros(f3, np.float32)
    rows_b[0] = w["conv3.bias"][0]
    u = g.op("Conv", [h, g.const(rows_w, "w3rows"), g.const(rows_b, "b3rows")], kernel_shape=[1, f3])
    out = None
    for dy in range(f3):
        end = -(f3 - 1 - dy) if dy < f3 - 1 else _INT64_MAX
        term = g.slice(u, [dy, dy], [dy + 1, end], [1, 2])
        out = term if out is None else g.op("Add", [out, term])
    if net.kind == "residual":
        centre = g.slice(x, [r, r], [-r, -r], [2, 3]) if r > 0 else x
        out = g.op("Add", [out, centre])
    g.nodes.append(helper.make_node("Identity", [out], ["y"]))
    graph = helper.make_graph(
        g.nodes, f"{net.kind}-x{net.scale}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 1, "h", "w"])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 1, "oh", "ow"])], g.inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="srcnn-studio", ir_version=IR_VERSION)
    return proto.SerializeToString()


_shared_arena: list = []            # the process's one ORT CPU arena, once registered
_arena_lock = threading.Lock()      # its own lock: session_for holds _lock while it builds sessions


def shared_arena(ort) -> None:
    """Register one CPU memory arena for every session of this process (ONNX Runtime's
    environment allocator), once. Each session's own arena keeps the most that session ever
    needed, and with a session per core per network they added up to 1.8 of 2.6 GB after a few
    hundred mixed requests (docs/app.md, "Memory"); one shared arena keeps the most any one run
    needed, at the same speed."""
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


# Sessions, one pair per model object (weak keys: a model dropped by its owner takes its
# sessions with it). The pipeline loads each (kind, scale) once, so each pair is built once
# per process; a session snapshots the weights it was built from.
_sessions: "weakref.WeakKeyDictionary[object, Sessions]" = weakref.WeakKeyDictionary()
SESSION_BUILDS: list[tuple[str, int | float | str, float]] = []   # (kind, scale, seconds) per build: tests read it
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


def session_for(model) -> Sessions:
    """The ONNX Runtime sessions of ``model`` (a srcnn.models.Network, or a PyTorch module whose
    weights are read now), in :func:`network_graph`'s form: built on first use (the graph, a wide
    session and one narrow session per core), then shared per model object; thread-safe."""
    with _lock:   # two first requests at once still build once
        found = _sessions.get(model)
        if found is None:
            t0 = time.perf_counter()
            net = as_network(model)
            graph = network_graph(net)
            n = cores()
            found = Sessions(make_session(graph),
                             tuple(make_session(graph, threads=1) for _ in range(n)) if n > 1 else None)
            _sessions[model] = found
            SESSION_BUILDS.append((net.kind, net.scale, time.perf_counter() - t0))
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
    :func:`network_graph` against the previous one (stacks of 8 equal-shape tiles per call, a
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
        # a stack of equal windows: one contiguous share per core, each in one call (a call costs
        # ~0.6 ms: the study's hundreds of 33 x 33 patches would otherwise pay it per patch)
        bounds = np.linspace(0, len(windows), min(self.lanes, len(windows)) + 1).astype(int)
        return np.concatenate(list(_workers().map(lambda ab: self._run_narrow(windows[ab[0]:ab[1]]),
                                                  zip(bounds[:-1], bounds[1:]))))

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


def batch_fn(model, engine: str | None = None) -> BatchFn:
    """The tiling function for ``model`` (a srcnn.models.Network or a PyTorch module) on
    ``engine`` (default :func:`default_engine`; "torch" imports torch)."""
    engine = default_engine() if engine is None else check_engine(engine)
    if engine == "torch":
        return torch_batch_fn(model)
    return session_fn(session_for(model))


def warm_up(model, engine: str | None = None) -> None:
    """Build ``model``'s session now and run it once on a tiny input (ORT allocates lazily)."""
    r = model.radius
    batch_fn(model, engine)(np.zeros((1, 2 * r + 8, 2 * r + 8), np.float32))
