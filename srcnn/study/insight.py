"""What the "Inside the study" view shows, computed here so that the app only lays it out.

* :func:`prepare` once per (photo, scale): ground truth, LR image, bicubic upscale (shared).
* :func:`inside_study`: exact, original and overlap-removed stitchings of one model, scored
  against the ground truth (srcnn.study: naive, aligned, best-shift and at-source PSNR).
* :func:`what_adds`: output - bicubic on Y, as an amplified diverging map (srcnn.colormaps) and its RMS.
* :func:`early_vs_late`: the same crop and PSNR from snapshots taken during training.
* :func:`low_loss_sentences`: the training history (srcnn.history) as PSNR beside bicubic on the
  same patches, and the sentences with the figures filled in.
* :func:`inside_view` all of these at once; :func:`inside_view_of_file` the same, cached on the
  file's content (the app's "Inside the study" tab).

Arrays: luma HW float32 in 0..1 scale (Y in 16/255..235/255); colour HWC 0..1; "levels" are
8-bit levels of Y (0..1 times 255). PSNR is on Y, peak 255, ``scale`` px shaved (srcnn.metrics).
Colour maps live in srcnn.colormaps, history and snapshot I/O in srcnn.history, the README's
figures in srcnn.figures (``python -m srcnn.figures``).
"""

from __future__ import annotations

import hashlib
import io
import contextvars
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FuturesTimeout
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import uniform_filter

from .. import imaging, pipeline

from . import original, stitching, walk
from ..engine import torch_batch_fn
from ..metrics import psnr_y
from ..pipeline import ground_truth
from ..tiling import tiled_apply
from ..models import KINDS
from ..colormaps import GAIN, diverging
from ..history import History, gain_curve, history_rows, list_snapshots, load_history, pick
from ..weights import load_from_folder



# --------------------------------------------------------------------------- shared inputs

@dataclass(frozen=True)
class Prepared:
    """One photo at one scale: ``gt`` (modcropped HR, PIL) and its luma ``gt_y``; ``lr`` (PIL,
    8-bit, what a user would upload); ``up`` its bicubic upscale (HWC 0..1, gt's size),
    ``up_alpha`` (HW or None), ``bicubic_y`` (HW) and ``cbcr`` (HW2, None for gray: the chroma
    every stitching takes)."""
    scale: int
    gt: Image.Image
    gt_y: np.ndarray
    lr: Image.Image
    up: np.ndarray
    up_alpha: np.ndarray | None
    bicubic_y: np.ndarray
    cbcr: np.ndarray | None


def prepare(hr: Image.Image, scale: int) -> Prepared:
    """Degrade ``hr`` as srcnn.compare does and upscale it bicubically, once for every view."""
    gt = ground_truth(hr, scale)
    lr = imaging.degrade(gt, scale)
    color, alpha = imaging.pil_to_arrays(lr)
    planes = pipeline.bicubic_planes(color, scale)          # the recipe's own first steps
    up_alpha = None if alpha is None else imaging.imresize(alpha, float(scale))
    bicubic_y = np.ascontiguousarray(planes[:, :, 0])
    cbcr = None if planes.shape[2] == 1 else planes[:, :, 1:].copy()
    up = pipeline.to_color(planes)                          # bicubic in colour, for the pictures
    return Prepared(scale, gt, imaging.luma(imaging.pil_to_arrays(gt)[0]), lr, up, up_alpha, bicubic_y, cbcr)


def exact_luma(prep: Prepared, model, box: tuple[int, int, int, int] | None = None, progress=None) -> np.ndarray:
    """The exact path's network luma of ``model`` on ``prep``'s bicubic luma (pipeline.apply_network):
    HW, gt's size, or only the ``box`` (left, top, right, bottom) part of it, computed from that
    box plus a halo of the model's radius (so the pixels equal the whole-image run's).
    ``progress(done, total)`` is called between tiles (it may raise to stop the work)."""
    if box is None:
        return pipeline.apply_network(model, prep.bicubic_y, pipeline.DEFAULT_TILE, progress)
    left, top, right, bottom = box
    r, (h, w) = model.radius, prep.bicubic_y.shape
    t, l = max(0, top - r), max(0, left - r)
    window = prep.bicubic_y[t:min(h, bottom + r), l:min(w, right + r)]
    out = tiled_apply(torch_batch_fn(model), window, r)
    return out[top - t:top - t + bottom - top, left - l:left - l + right - left]


def shipped_luma(prep: Prepared, kind: str, progress=None) -> np.ndarray:
    """The shipped ``kind`` model's exact output luma: the very path the app's srcnn.upscale
    takes (tiles of ``pipeline.DEFAULT_TILE``, one per core; the same pixels as one whole-image pass)."""
    return pipeline.network_luma(prep.bicubic_y, kind, prep.scale, pipeline.DEFAULT_TILE, progress)


# --------------------------------------------------------------------------- stitchings

@dataclass(frozen=True)
class StudyReport:
    """``stitched[name]`` and ``scores[name]`` for name in exact, original, overlap-removed."""
    kind: str
    scale: int
    stitched: dict[str, stitching.Stitched]
    scores: dict[str, stitching.Scores]
    seconds: float


def inside_study(prep: Prepared, kind: str = "residual", keep: int = 0, model=None,
                 literal: bool = False, progress=None) -> StudyReport:
    """All three stitchings of ``kind``'s network on ``prep``, each scored against the ground truth.

    The study stitchings reuse the exact output (srcnn.study.stitch_from_exact, same pixels);
    ``literal=True`` runs the network on the original code's patches instead (slower)."""
    t0 = time.perf_counter()
    luma = shipped_luma(prep, kind, progress) if model is None else exact_luma(prep, model, progress=progress)
    model = model or pipeline.model_for(kind, prep.scale)
    stitched = {"exact": stitching.stitch_exact(prep.up, luma, prep.up_alpha, prep.cbcr)}
    if literal:
        stitched.update(stitching.stitch_study(prep.up, torch_batch_fn(model), model.radius, prep.up_alpha, keep))
    else:
        stitched.update(stitching.stitch_from_exact(stitched["exact"], model.radius, keep))
    scores = {k: stitching.score(v, prep.gt_y, prep.scale, keep) for k, v in stitched.items()}
    return StudyReport(kind, prep.scale, stitched, scores, time.perf_counter() - t0)


def draw_seams(img: Image.Image, seams_x: tuple[int, ...], seams_y: tuple[int, ...],
               color: tuple[int, int, int] = (255, 0, 255)) -> Image.Image:
    """A copy of ``img`` (converted to RGB) with a 1-px line on each seam row and column."""
    out = img.convert("RGB")
    draw = ImageDraw.Draw(out)
    for x in seams_x:
        draw.line([(x, 0), (x, out.height - 1)], fill=color)
    for y in seams_y:
        draw.line([(0, y), (out.width - 1, y)], fill=color)
    return out


def nearest_seams(report: StudyReport, row: int, col: int) -> tuple[int, int]:
    """The original stitching's seam numbers (down, across) nearest to image position (row, col)."""
    grid = report.stitched["original"].grid
    def k(pos: int, n: int) -> int:  # away from the image's edges when there are enough seams
        low, high = (2, n - 2) if n >= 4 else (1, max(1, n - 1))
        return int(np.clip(round((pos - grid.radius) / grid.stride), low, high))
    return k(row, grid.nx), k(col, grid.ny)


def seam_crops(report: StudyReport, prep: Prepared, size: int = 42, zoom: int = 4,
               seam: tuple[int, int] | None = None) -> dict[str, Image.Image]:
    """``size`` px crops, enlarged ``zoom`` times (nearest), of the ground truth and each stitching,
    all centred on the image position of one original seam crossing (``seam`` = (k down, k across),
    default the crossing nearest :func:`detail_box`), so each crop shows the same part of the photo."""
    grid = report.stitched["original"].grid
    if seam is None:
        left, top, right, bottom = detail_box(prep)
        seam = nearest_seams(report, (top + bottom) // 2, (left + right) // 2)
    row, col = stitching.seam_position(grid, seam[0]), stitching.seam_position(grid, seam[1])
    exact = report.stitched["exact"]
    crops = {"ground truth": prep.gt.crop(stitching.crop_box(exact, size, row, col))}
    crops.update({name: st.image().crop(stitching.crop_box(st, size, row, col)) for name, st in report.stitched.items()})
    return {k: v.resize((v.width * zoom, v.height * zoom), Image.NEAREST) for k, v in crops.items()}


# --------------------------------------------------------------------------- what the network adds

@dataclass(frozen=True)
class Adds:
    """``levels``: output - bicubic on Y in 8-bit levels (HW float32); ``rms``: its RMS (levels,
    ``scale`` px shaved); ``image``: the diverging map (PIL RGB); ``gain`` and ``saturation``:
    the map's amplification and the difference (levels) that reaches the ends of the colour map."""
    levels: np.ndarray
    rms: float
    image: Image.Image
    gain: float
    saturation: float


def network_adds(net_y: np.ndarray, bicubic_y: np.ndarray, border: int, gain: float = GAIN) -> Adds:
    """What a network adds to bicubic: ``(net_y - bicubic_y) * 255`` (both HW, 0..1 scale, unrounded)."""
    levels = (np.asarray(net_y, np.float32) - np.asarray(bicubic_y, np.float32)) * 255.0
    inner = levels[border:levels.shape[0] - border, border:levels.shape[1] - border]
    rms = float(np.sqrt(np.mean(inner.astype(np.float64) ** 2)))
    return Adds(levels, rms, Image.fromarray(diverging(levels, gain), "RGB"), gain, 127.5 / gain)


def what_adds(prep: Prepared, lumas: dict[str, np.ndarray] | None = None, gain: float = GAIN) -> dict[str, Adds]:
    """:func:`network_adds` for SRCNN and residual SRCNN; ``lumas[kind]`` reuses exact outputs already computed."""
    lumas = lumas or {}
    return {k: network_adds(lumas[k] if k in lumas else shipped_luma(prep, k),
                            prep.bicubic_y, prep.scale, gain) for k in KINDS}


def detail_box(prep: Prepared, size: int = 64) -> tuple[int, int, int, int]:
    """The ``size`` px box (left, top, right, bottom) where bicubic misses most (largest mean
    squared error against the ground truth): where networks differ most, for crops."""
    h, w = prep.gt_y.shape
    size = min(size, h, w)
    err = uniform_filter((prep.gt_y - prep.bicubic_y) ** 2, size, mode="constant")
    half = size // 2
    inner = err[half:h - size + half + 1, half:w - size + half + 1]
    top, left = np.unravel_index(int(np.argmax(inner)), inner.shape)
    return int(left), int(top), int(left) + size, int(top) + size


# --------------------------------------------------------------------------- snapshots and history

@lru_cache(maxsize=32)
def _snapshot_model(kind: str, path: str, mtime: float):
    return load_from_folder(kind, path)


@dataclass(frozen=True)
class SnapshotResult:
    """One snapshot on one photo: whole-image PSNR-Y (``scale`` px shaved), gain over bicubic, crop (PIL)."""
    kind: str
    step: int
    fraction: float
    psnr: float
    gain: float
    crop: Image.Image


def early_vs_late(prep: Prepared, kind: str, box: tuple[int, int, int, int] | None = None,
                  fractions: tuple[float, ...] = (0.01, 0.1, 1.0), root: str | Path | None = None,
                  zoom: int = 4, region: tuple[int, int, int, int] | None = None) -> tuple[list[SnapshotResult], str]:
    """The chosen snapshots of ``kind`` on ``prep`` (exact path): PSNR-Y of the 8-bit output
    (``scale`` px shaved) and the ``box`` crop (default :func:`detail_box`), enlarged ``zoom``
    times. ``region`` (a box containing ``box``) limits the work, and the PSNR, to that part of
    the photo; None: the whole photo. Empty list and a message if the checkpoint has no snapshots."""
    snaps, message = list_snapshots(kind, prep.scale, root)
    box = box or detail_box(prep)
    region = region or (0, 0, prep.gt.width, prep.gt.height)
    left, top, right, bottom = region
    gt_y, bic_y = prep.gt_y[top:bottom, left:right], prep.bicubic_y[top:bottom, left:right]
    bic = psnr_y(bic_y, gt_y, prep.scale)
    up = prep.up[top:bottom, left:right]
    cbcr = None if prep.cbcr is None else prep.cbcr[top:bottom, left:right]
    results = []
    for s in pick(snaps, fractions):
        model = _snapshot_model(kind, str(s.path), (s.path / "model.safetensors").stat().st_mtime)
        st = stitching.stitch_exact(up, exact_luma(prep, model, region), None, cbcr)
        img, p = st.image(), psnr_y(st.y8(), gt_y, prep.scale)
        crop = img.crop((box[0] - left, box[1] - top, box[2] - left, box[3] - top))
        results.append(SnapshotResult(kind, s.step, s.fraction, p, p - bic,
                                      crop.resize((crop.width * zoom, crop.height * zoom), Image.NEAREST)))
    return results, message


def low_loss_sentences(histories: dict[str, History | None], report: StudyReport | None = None) -> str:
    """The "low loss, poor result" explanation, every figure taken from ``histories`` (and ``report``)."""
    names = {"srcnn": "SRCNN", "residual": "Residual SRCNN"}
    parts = []
    for kind, h in histories.items():
        if h is None:
            parts.append(f"{names.get(kind, kind)}: no training history ships with this checkpoint.")
            continue
        last, raw = history_rows(h)[-1], h.rows[-1]
        when = (f"ended training (step {last['step']:,})" if last["step"] >= h.steps
                else f"at step {last['step']:,} of {h.steps:,} (training still running)")
        parts.append(
            f"{names.get(kind, kind)} {when} had a loss of {raw['train_loss']:.2e}, "
            f"the mean squared error of Y in 0..1 on its 33x33 training patches: {last['train_psnr']:.2f} dB as a PSNR. "
            f"That figure means nothing alone: bicubic on the same patches scores {last['train_bicubic_psnr']:.2f} dB, "
            f"so the network is {last['train_psnr'] - last['train_bicubic_psnr']:+.2f} dB better where it was trained, "
            f"and {last['val_gain']:+.2f} dB on its validation images (Set5, never trained on: {last['val_psnr']:.2f} vs {last['val_bicubic_psnr']:.2f} dB).")
    if all(histories.get(k) for k in KINDS):
        s, r = histories["srcnn"], histories["residual"]
        e_s, e_r = history_rows(s)[0], history_rows(r)[0]
        l_s, l_r = history_rows(s)[-1], history_rows(r)[-1]
        last_steps = f"{l_r['step']:,}" if l_r["step"] == l_s["step"] else f"{l_r['step']:,} and {l_s['step']:,}"
        parts.append(
            f"Early on (step {e_r['step']:,}) residual SRCNN gains {e_r['val_gain']:+.2f} dB over bicubic and SRCNN "
            f"{e_s['val_gain']:+.2f} dB, a lead of {e_r['val_gain'] - e_s['val_gain']:+.2f} dB; at the last evaluation "
            f"(step {last_steps}) the lead is {l_r['val_gain'] - l_s['val_gain']:+.2f} dB.")
    parts.append("The loss is computed patch by patch, each 21x21 output against its own target, so it cannot "
                 "see how outputs are put back together: the original study's stitching (7-px bands shown twice at "
                 "every seam, everything shifted 6 px) leaves every patch's loss unchanged.")
    if report is not None:
        sc = report.scores
        parts.append(
            f"Only the assembled image against the ground truth shows it: on this photo at x{report.scale}, "
            f"exact stitching scores {sc['exact'].naive:.2f} dB, the original stitching {sc['original'].naive:.2f} dB "
            f"({sc['original'].aligned:.2f} dB once shifted back {sc['original'].offset} px), and the overlap-removed "
            f"fix {sc['overlap-removed'].naive:.2f} dB ({sc['overlap-removed'].aligned:.2f} dB aligned).")
    return " ".join(parts)


# --------------------------------------------------------------------------- everything at once

@dataclass(frozen=True)
class InsideView:
    """Everything the "Inside the study" tab shows for one photo at one scale (one upscaling
    shared by every view). ``seam_crops``: :func:`seam_crops`; ``adds``: per kind, :func:`network_adds`;
    ``snapshots``/``snapshot_notes``: per kind, :func:`early_vs_late` on ``region`` (None: whole photo);
    ``histories``/``history_notes``: per kind, :func:`load_history`; ``curve``: :func:`gain_curve`;
    ``sentences``: :func:`low_loss_sentences`; ``seconds``: wall time per part ("other network"
    and "snapshots" run on a second thread beside "stitchings") and in "total"."""
    prep: Prepared
    report: StudyReport
    seam_crops: dict[str, Image.Image]
    adds: dict[str, Adds]
    crop_box: tuple[int, int, int, int]
    region: tuple[int, int, int, int] | None
    snapshots: dict[str, list[SnapshotResult]]
    snapshot_notes: dict[str, str]
    histories: dict[str, History | None]
    history_notes: dict[str, str]
    curve: list[dict]
    sentences: str
    seconds: dict[str, float]
    network: str = "ours"                       # whose stitchings: "ours" (``report.kind``) or "study"
    walk: list | None = None                    # network "study": srcnn.study.original_walk's rows


def around(box: tuple[int, int, int, int], size: int, width: int, height: int) -> tuple[int, int, int, int]:
    """A ``size`` px box (clipped to the photo) centred on ``box``."""
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    left, top = int(np.clip(cx - size // 2, 0, max(0, width - size))), int(np.clip(cy - size // 2, 0, max(0, height - size)))
    return left, top, min(width, left + size), min(height, top + size)


NETWORK_CHOICES = ("ours", "study")


def inside_view(hr: Image.Image, scale: int, kind: str = "residual", fractions: tuple[float, ...] = (0.01, 0.1, 1.0),
                region_size: int | None = 256, root: str | Path | None = None, network: str = "ours",
                check=None) -> InsideView:
    """Compute every view of the tab: stitchings of ``kind`` scored (``network="study"``: of the
    2018 study's own network, srcnn.study.original_model, plus srcnn.study.original_walk's rows
    from its saved picture to the truth), seam crops, what SRCNN and
    residual SRCNN add, early vs late snapshots (PSNR on a ``region_size`` px region around the crop,
    None: whole photo), training histories and the sentences. Raises ValueError if ``hr`` is too
    small for one 33 x 33 patch after upscaling.

    ``check()``, if given, is called between stages and tiles of this thread; it may raise to stop
    the work (the app's cancellation). The other network's pass and the snapshots run on a second
    thread while this one stitches and scores (numpy works on one core; the networks use both);
    ``python bench_app.py`` measures the whole request."""
    if network not in NETWORK_CHOICES:
        raise ValueError(f"network must be one of {', '.join(NETWORK_CHOICES)}, got {network!r}")
    theirs = network == "study"
    check = check or (lambda: None)
    tick = lambda done, total: check()   # noqa: E731 - srcnn's progress(done, total) contract
    seconds, t0 = {}, time.perf_counter()
    prep = prepare(hr, scale)
    check()
    seconds["prepare"] = time.perf_counter() - t0
    box = detail_box(prep)
    h, w = prep.gt_y.shape
    region = None if region_size is None or region_size >= max(h, w) else around(box, region_size, w, h)

    def beside() -> tuple[dict, dict]:   # the other network and the snapshots, on a second thread
        t = time.perf_counter()
        lumas = {k: shipped_luma(prep, k, tick) for k in KINDS if theirs or k != kind}
        seconds["other network"] = time.perf_counter() - t
        t = time.perf_counter()
        snaps = {}
        for k in KINDS:
            check()
            snaps[k] = early_vs_late(prep, k, box, fractions, root, region=region)
        seconds["snapshots"] = time.perf_counter() - t
        return lumas, snaps

    with ThreadPoolExecutor(1, thread_name_prefix="insight") as pool:
        side = pool.submit(contextvars.copy_context().run, beside)   # check() sees this request there too
        report = inside_study(prep, kind, model=original.original_model() if theirs else None, progress=tick)
        seconds["stitchings"] = report.seconds
        check()
        t = time.perf_counter()
        crops = seam_crops(report, prep)
        lumas, snaps = side.result()
        adds = what_adds(prep, lumas if theirs else {kind: report.stitched["exact"].luma, **lumas})
        seconds["adds"] = time.perf_counter() - t
    rows = None
    if theirs:
        check()
        t = time.perf_counter()
        rows = walk.original_walk(hr, scale, shipped={k: pipeline.model_for(k, scale) for k in KINDS})
        seconds["walk"] = time.perf_counter() - t
    loaded = {k: load_history(k, scale, root) for k in KINDS}
    hists = {k: v[0] for k, v in loaded.items()}
    seconds["total"] = time.perf_counter() - t0
    return InsideView(prep, report, crops, adds, box, region, {k: v[0] for k, v in snaps.items()},
                      {k: v[1] for k, v in snaps.items()}, hists, {k: v[1] for k, v in loaded.items()},
                      gain_curve(hists), low_loss_sentences(hists, report), seconds, network, rows)


def bicubic_psnr(prep: Prepared) -> float:
    """PSNR-Y of the bicubic upscale against the ground truth (``scale`` px shaved): the reference."""
    return psnr_y(prep.bicubic_y, prep.gt_y, prep.scale)


def reference_crops(view: InsideView, zoom: int = 4) -> dict[str, Image.Image]:
    """The ground truth and the bicubic upscale (8-bit) cropped to ``view.crop_box`` (the early vs
    late crops' box), enlarged ``zoom`` times (nearest): what the snapshots' crops are set beside."""
    left, top, right, bottom = view.crop_box
    bicubic = imaging.arrays_to_pil(view.prep.up[top:bottom, left:right])
    crops = {"ground truth": view.prep.gt.crop(view.crop_box), "bicubic": bicubic}
    return {k: v.resize((v.width * zoom, v.height * zoom), Image.NEAREST) for k, v in crops.items()}


_VIEWS: OrderedDict[tuple[str, int, str, str], InsideView] = OrderedDict()   # most recent last
_PENDING: dict[tuple[str, int, str, str], Future] = {}                       # being computed now
_RETRY = object()   # a pending computation was stopped by its own caller's check: compute anew
_VIEWS_LOCK = threading.Lock()
VIEWS_KEPT = 2


def inside_view_of_file(path: str | Path, scale: int, kind: str = "residual", network: str = "ours",
                        check=None) -> InsideView:
    """:func:`inside_view` of the photo in the file at ``path``, cached on the file's content
    (SHA-256), scale, kind and network: the app's views (seam lines on or off, a repeated request,
    the same photo uploaded again) reuse one upscaling. The ``VIEWS_KEPT`` most recent are kept
    (about 100 MB each for a 1-megapixel ground truth). Calls that arrive while the same view is
    being computed wait for that computation (its result, or its error) instead of starting
    another (two visitors on the same example, a double click), calling their own ``check()``
    while they wait; if the computation was stopped by its caller's ``check``, a waiter computes
    the view itself."""
    check = check or (lambda: None)
    data = Path(path).read_bytes()
    key = (hashlib.sha256(data).hexdigest(), scale, kind, network)
    while True:
        with _VIEWS_LOCK:
            if key in _VIEWS:
                _VIEWS.move_to_end(key)
                return _VIEWS[key]
            pending = _PENDING.get(key)
            if pending is None:
                _PENDING[key] = mine = Future()
        if pending is None:
            break
        while True:                               # wait, checking our own caller
            try:
                result = pending.result(timeout=0.1)
                break
            except FuturesTimeout:
                check()
        if result is not _RETRY:
            return result
    stopped = []

    def own_check() -> None:
        try:
            check()
        except BaseException:
            stopped.append(True)
            raise

    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            view = inside_view(img, scale, kind, network=network, check=own_check)
    except BaseException as e:
        with _VIEWS_LOCK:
            del _PENDING[key]
        if stopped:
            mine.set_result(_RETRY)               # our caller went; the others try again
        else:
            mine.set_exception(e)
        raise
    with _VIEWS_LOCK:
        del _PENDING[key]
        _VIEWS[key] = view
        while len(_VIEWS) > VIEWS_KEPT:
            _VIEWS.popitem(last=False)
    mine.set_result(view)
    return view


