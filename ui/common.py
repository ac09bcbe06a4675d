"""What both tabs share: reading an upload into a checked image, writing result PNGs, the
weights panel, the page's header and examples. Checks live in srcnn.uploads; this module turns
their refusals into ``gr.Error`` messages."""

from __future__ import annotations

import functools
import hashlib
import html
import logging
import os
import re
import threading
import time
import uuid
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from pathlib import Path
from typing import Callable

import gradio as gr
from PIL import Image

import srcnn
from srcnn import cancel, factors, pipeline, uploads, weights

from . import server
from .budget import disk_full
from .clients import quoted

log = logging.getLogger("srcnn.app")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
MAX_FILE_SIZE = "25mb"   # enforced by Gradio on upload (launch(max_file_size=...))
METHOD_LABELS = {"bicubic": "Bicubic", "srcnn": "SRCNN", "residual": "Residual SRCNN"}
README_SECTIONS = {"the residual idea": "the-residual-idea", "the tiling fix": "the-tiling-fix"}


def by_name(fn: Callable, components: dict[str, object]) -> Callable:
    """``fn`` (a handler that returns its outputs by name: {name: value}) as Gradio calls it: the
    same signature (gr.Progress and gr.SelectData included), returning {component: value} for
    the names in ``components`` (the event's outputs)."""
    @functools.wraps(fn)
    def call(*args, **kwargs):
        return {components[name]: value for name, value in fn(*args, **kwargs).items() if name in components}
    return call


def error_html(message: str, lead: str = "Nothing was computed.") -> str:
    """A refused or failed run's message, shown in place of the results (HTML, escaped): ``lead``
    in bold, then the message."""
    return f'<div class="run-error" role="alert"><strong>{html.escape(lead)}</strong> {html.escape(message)}</div>'
MESSAGE_CHARS = 400      # a refusal's message (shown and logged) is cut to this many characters


def refuse(message: str) -> gr.Error:
    """A gr.Error for a user's mistake: shown to them, logged as one line (no traceback); cut to
    :data:`MESSAGE_CHARS` characters (values sent are quoted with ui.clients.quoted)."""
    if len(message) > MESSAGE_CHARS:
        message = message[:MESSAGE_CHARS - 3] + "..."
    log.info("request refused: %s", message)
    return gr.Error(message, print_exception=False)


def size_limit_text() -> str:
    """The study tab's limits in words (srcnn.uploads.DEFAULT_LIMITS: its views are kept in memory)."""
    return uploads.DEFAULT_LIMITS.text(MAX_FILE_SIZE)


def compare_limit_text() -> str:
    """The Compare tab's limits in words, per mode (srcnn.uploads.BENCHMARK_LIMITS, UPSCALE_LIMITS)."""
    bench, up = uploads.BENCHMARK_LIMITS, uploads.UPSCALE_LIMITS
    return (f"Limits: Benchmark takes photos up to {bench.megapixels()} (e.g. {bench.example}: a 12-megapixel "
            f"phone photo fits); Upscale makes outputs up to {up.megapixels()} (the input times the scale "
            f"squared: a 12-megapixel photo at x2 fits); sides {bench.min_side} to {bench.max_side} px, files up "
            f"to {MAX_FILE_SIZE.upper()}. On 2 vCPUs a 12-megapixel photo takes about 10 s in Benchmark at x3 and "
            "30 s in Upscale at x2 (more while others compute), with a progress bar (docs/app.md, \"Large photos\").")


def scale_from_choice(raw: object) -> int:
    """2, 3 or 4 from the radio's raw value (an API caller may send 3, "3", "x3" or "×3")."""
    text = str(raw).strip().lower().lstrip("x×")
    if text in ("2", "3", "4"):
        return int(text)
    raise refuse(f"Scale must be 2, 3 or 4 (x2, x3, x4) here; Upscale mode takes any factor from "
                 f"{factors.MIN_FACTOR:g} to {factors.MAX_FACTOR:g}; got {quoted(raw)}.")


def upload_roots() -> list[Path]:
    """The folders an upload's path may be in: this instance's upload folder and the bundled examples."""
    return [server.upload_folder(), EXAMPLES_DIR]


def use_file(path: str | os.PathLike | dict, what: str = "photo") -> Path:
    """A stored file (an upload, or a result PNG) used again: its last use is now (the sweeper
    removes files unused for ui.server.MAX_AGE_S); returns its resolved path. ``path`` may be a
    Gradio file value (a dict with "path"). Refused (gr.Error) when it is not one of this app's
    files, or when it is gone: then the message says it expired and what to do (``what``:
    "photo", or "results" for result PNGs)."""
    raw = path.get("path") if isinstance(path, dict) else path
    if not raw:
        raise refuse("The upload did not arrive; try again.")
    try:
        real = Path(os.path.realpath(raw))
    except ValueError:                 # a null byte: no file of this app
        raise refuse("That file is not an upload of this app; upload the photo again.") from None
    if not any(server.inside(real, root) for root in upload_roots()):
        raise refuse("That file is not an upload of this app; upload the photo again.")
    if server.inside(real, EXAMPLES_DIR):
        if real.is_file():
            return real
    else:
        try:
            server.touch(real)
            if real.is_file():
                server.hold(real)      # the disk budget removes it not while this request runs
                return real
        except FileNotFoundError:
            pass
    raise refuse(server.expired_message(what))


def read_upload(raw: object, scale: int, upscaling: bool,
                limits: uploads.Limits = uploads.DEFAULT_LIMITS) -> uploads.Checked:
    """The raw value of a gr.Image event with preprocess=False, checked (srcnn.uploads, within
    ``limits``) and decoded; the file is closed. Reading it counts as a use (:func:`use_file`); an upload that
    expired gets the message that says so. Refusals become gr.Error with the check's message."""
    if raw is None:
        raise refuse(f"Upload a photo first ({uploads.FORMATS}).")
    path, name = (raw.get("path"), raw.get("orig_name")) if isinstance(raw, dict) else (str(raw), None)
    real = use_file(path)
    with user_errors():
        return uploads.read_image(real, scale, upscaling, name or real.name, limits)


@contextmanager
def user_errors(prefix: str = ""):
    """ValueError from srcnn (messages written for users) -> gr.Error, logged as one line;
    :class:`server.Stopped` -> gr.Error with its reason; MemoryError and a full disk (ENOSPC,
    EDQUOT while writing results) -> a plain message."""
    try:
        yield
    except server.Stopped as e:
        raise refuse(str(e)) from None
    except ValueError as e:
        raise refuse(f"{prefix}{e}") from None
    except MemoryError:
        raise refuse("Out of memory for this image: try a smaller one.") from None
    except OSError as e:
        if disk_full(e):
            raise refuse(DISK_FULL) from None
        raise


DISK_FULL = ("The server's disk is full, so the results could not be written. Nothing was kept; try again in a "
             "few minutes.")


def require_weights(scale: float) -> None:
    """A clear message when the trained weights a factor needs are missing (both Hub and
    bundled): the checkpoints srcnn.factors.serving names for it, for clean inputs (below x2 it
    names only bundled ones, and bicubic alone where none is)."""
    for kind in srcnn.KINDS:
        for checkpoint in {c for _, c in factors.serving(kind, scale) if c is not None}:
            try:
                pipeline.model_for(checkpoint.kind, checkpoint.scale, compressed=checkpoint.compressed)
            except FileNotFoundError:
                available = [f"x{s}" for s in srcnn.SCALES if weights_available(s)]
                raise refuse(f"No {METHOD_LABELS[kind]} weights for x{scale} yet (neither on the Hub nor "
                               f"bundled). Available: {', '.join(available) or 'none'}.") from None


# --------------------------------------------------------------------------- result files

_PNG_WRITERS = ThreadPoolExecutor(2, thread_name_prefix="png")


def file_stem(name: str | None) -> str:
    """A download name made safe for a file name (letters, digits, ``.``, ``_``, ``-``; at most
    100 characters; a ".png" ending dropped: it is added); "image" when nothing is left or no name
    is given."""
    name = re.sub(r"\.png$", "", name or "", flags=re.IGNORECASE)
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", name or "").strip("._-")[:100]
    return stem or "image"


def png_path(img: Image.Image, name: str | None = None) -> Path:
    """Where :class:`PngWriter` keeps ``img``: ``<name>.png`` (:func:`file_stem`; the name the
    browser downloads it under) in a folder named by its content (mode, size, pixels) in this
    instance's upload folder, so the same picture under the same name is written once while kept."""
    key = hashlib.sha256(f"{img.mode}{img.size}".encode() + img.tobytes()).hexdigest()[:32]
    return server.upload_folder() / "srcnn" / key / f"{file_stem(name)}.png"


class _Checked:
    """A write-only file that calls ``check()`` before each chunk PIL's encoder hands it. It has no
    ``fileno``, so PIL writes the PNG chunk by chunk through :meth:`write` (64 KB or one row)."""

    def __init__(self, f, check: Callable[[], None]):
        self.f, self.check = f, check

    def write(self, data: bytes) -> int:
        self.check()
        return self.f.write(data)

    def tell(self) -> int:
        return self.f.tell()

    def flush(self) -> None:
        self.f.flush()


class PngWriter:
    """A request's result PNGs: lossless, zlib level 1, written on the PNG threads (two at once;
    zlib releases the GIL) as soon as each picture is handed in, while the request computes the
    next, under temporary names; :meth:`paths` waits for them and gives them their final names.
    It is used inside a lane (ui.server.lane), whose check (srcnn.cancel.checkpoint) the writing
    calls between chunks, in the PNG threads too (:meth:`add` hands them the request's context).
    Leaving the ``with`` block with an error (:class:`server.Stopped` when the client has gone)
    stops the writing between chunks and removes what was written: a request that stops leaves
    nothing. Files unused for ``ui.server.MAX_AGE_S`` are swept (writing the same picture again
    is a use).

    Level 1 rather than Gradio's (PIL's default 6): the same pixels, faster to write for somewhat
    larger files (docs/app.md, "Request times"). ``seconds``: the writing's wall time summed over pictures (beside the
    computation); ``waited``: how long :meth:`paths` waited for it (on the request's path)."""

    def __init__(self):
        self._jobs: dict[object, tuple[Image.Image, Future]] = {}
        self._names: dict[object, str | None] = {}
        self._stop = threading.Event()
        self.seconds = self.waited = 0.0

    def __enter__(self) -> "PngWriter":
        return self

    def __exit__(self, kind, error, tb) -> None:
        if kind is not None:
            self.abort()

    def add(self, key: object, img: Image.Image, name: str | None = None) -> None:
        """Start writing ``img`` (in the request's context, srcnn.cancel.in_context: the lane's check
        applies, and sees its Gradio event); ``name``: the file's name without ".png" (a download name, e.g.
        "chelsea_x3_residual"; made safe by :func:`file_stem`), "image" when None."""
        self._names[key] = name
        self._jobs[key] = (img, _PNG_WRITERS.submit(cancel.in_context(self._write), img, name))

    def _check(self) -> None:
        """Raise :class:`server.Stopped` once :meth:`abort` was called, or where the lane's check does."""
        if self._stop.is_set():
            raise server.Stopped("The request stopped.")
        cancel.checkpoint()

    def _write(self, img: Image.Image, name: str | None = None) -> tuple[Path | None, Path, float]:
        """(temporary file, final path, seconds); no temporary file when the final one is there."""
        t0 = time.perf_counter()
        self._check()
        path = png_path(img, name)
        if path.exists():
            return None, path, time.perf_counter() - t0
        tmp = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.tmp")
        try:
            for attempt in range(3):   # the sweeper may remove an empty folder between mkdir and open
                try:
                    path.parent.mkdir(parents=True, exist_ok=True)
                    with open(tmp, "wb") as f:
                        img.save(_Checked(f, self._check), format="PNG", compress_level=1)
                    break
                except FileNotFoundError:
                    if attempt == 2:
                        raise
        except BaseException:
            tmp.unlink(missing_ok=True)
            try:
                tmp.parent.rmdir()         # the folder this request made (only if empty)
            except OSError:
                pass
            raise
        return tmp, path, time.perf_counter() - t0

    def paths(self, keys) -> list[str]:
        """The final paths of the pictures handed in under ``keys``, in that order, once written."""
        t0 = time.perf_counter()
        done = {key: self._jobs[key][1].result() for key in keys}
        self.waited += time.perf_counter() - t0
        self.seconds += sum(seconds for _, _, seconds in done.values())
        cancel.checkpoint()                # the last moment to stop: nothing is published yet
        out = []
        for key in keys:
            tmp, path, _ = done[key]
            if tmp is None:
                try:
                    os.utime(path)         # there already: fresh again, the sweeper keeps it while shown
                except FileNotFoundError:  # swept in between: write it again
                    tmp, path, _ = self._write(self._jobs[key][0], self._names[key])
            if tmp is not None:
                tmp.replace(path)
            out.append(str(path))
        self._jobs.clear()
        self._names.clear()
        return out

    def abort(self) -> None:
        """Stop writing (between chunks) and remove the temporary files written so far."""
        self._stop.set()
        jobs = [job for _, job in self._jobs.values()]
        for job in jobs:
            job.cancel()
        wait(jobs)
        for job in jobs:
            if not job.cancelled() and job.exception() is None and job.result()[0] is not None:
                tmp = job.result()[0]
                tmp.unlink(missing_ok=True)
                try:
                    tmp.parent.rmdir()     # the folder this request made (only if empty)
                except OSError:
                    pass
        self._jobs.clear()
        self._names.clear()


def log_request(endpoint: str, what: str, seconds: dict[str, float]) -> None:
    """One log line per answered request with where its time went (``seconds``: wall seconds per
    stage, in the handler); the record carries them as ``timings`` (tools/bench_app.py reads it)."""
    log.info("%s (%s): %s", endpoint, what, ", ".join(f"{k} {v:.2f} s" for k, v in seconds.items()),
             extra={"timings": {"endpoint": endpoint, **seconds}})


def png_files(images: list[Image.Image], names: list[str | None] | None = None) -> list[str]:
    """Every image written by a :class:`PngWriter` (two at once; put the largest first), each under
    its name in ``names`` (download names, see :meth:`PngWriter.add`; "image" when None); their
    paths, in order. Called inside a lane: stops with the request (srcnn.cancel.checkpoint), leaving
    nothing."""
    cancel.checkpoint()
    names = list(names) if names is not None else [None] * len(images)
    if len(names) != len(images):
        raise ValueError(f"png_files: {len(images)} images but {len(names)} names")
    with PngWriter() as pngs:
        for i, (img, name) in enumerate(zip(images, names)):
            pngs.add(i, img, name)
        return pngs.paths(range(len(images)))


# --------------------------------------------------------------------------- page text

_RESOLVED: dict[weights.Checkpoint, weights.WeightsSource] = {}


def resolve(checkpoint: weights.Checkpoint) -> weights.WeightsSource | str:
    """Where ``checkpoint``'s weights come from (cached once found), or why there are none."""
    if checkpoint not in _RESOLVED:
        try:
            _RESOLVED[checkpoint] = weights.resolve_weights(checkpoint.kind, checkpoint.scale,
                                                            compressed=checkpoint.compressed)
        except FileNotFoundError:
            return "not available yet"
    return _RESOLVED[checkpoint]


def weights_available(scale: int) -> bool:
    """Whether both kinds' clean networks trained at x``scale`` are there (Hub or bundled)."""
    return all(isinstance(resolve(weights.Checkpoint(k, scale)), weights.WeightsSource) for k in srcnn.KINDS)


def repo_file_url(path: str) -> str | None:
    """URL of a file of this repo when running as a Space (SPACE_ID is set there), else None."""
    space = os.environ.get("SPACE_ID")
    return f"https://huggingface.co/spaces/{space}/blob/main/{path}" if space else None


def readme_url() -> str | None:
    return os.environ.get("SRCNN_README_URL") or repo_file_url("README.md")


def weights_cell(checkpoint: weights.Checkpoint) -> str:
    """The weights panel's cell of ``checkpoint``: where its weights come from (source and
    revision) with a link to its model card, or why there are none."""
    src = resolve(checkpoint)
    if isinstance(src, str):
        return src
    if src.origin == "hub":
        url = f"https://huggingface.co/{src.repo_id}/tree/{src.revision}/{checkpoint.name}"
    else:
        url = repo_file_url(f"checkpoints/{checkpoint.name}/README.md")
    card = f" ([model card]({url}))" if url else f" (model card: `{src.folder.name}/README.md`)"
    return src.describe() + card


def weights_markdown() -> str:
    """Which weights each clean network uses (source and revision), with card links: a row per
    factor, x2, x3 and x4 (on the Hub or bundled), after them each anchor of the small-factor
    family whose networks are bundled (srcnn.weights.bundled_checkpoints)."""
    rows = ["| Scale | SRCNN | Residual SRCNN |", "|---|---|---|"]
    anchors = sorted({c.scale for c in weights.bundled_checkpoints()
                      if not c.compressed and c.scale in factors.ANCHORS})
    for scale in [*anchors, *srcnn.SCALES]:
        cells = [weights_cell(weights.Checkpoint(kind, scale)) for kind in srcnn.KINDS]
        rows.append(f"| x{scale:g} | " + " | ".join(cells) + " |")
    return f"**Weights loaded.** {weights.policy()}\n\n" + "\n".join(rows)


def about_markdown() -> str:
    url = readme_url()
    if url:
        links = ", ".join(f"[{t}]({url}#{a})" for t, a in README_SECTIONS.items())
    else:
        links = ", ".join(f"'{t.capitalize()}'" for t in README_SECTIONS) + " (sections of README.md)"
    return ("# SRCNN Studio\nUpload a photo and see what **bicubic**, **SRCNN** and **residual SRCNN** "
            "(the network predicts only the correction to bicubic) make of it, side by side and measured. "
            f"How it works: {links}.")


def example_files() -> list[Path]:
    """The bundled photos (examples/, credits in examples/CREDITS.md)."""
    return sorted(p for p in EXAMPLES_DIR.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def example_label(path: Path) -> str:
    return f"{path.stem.replace('_', ' ')} (x3)"
