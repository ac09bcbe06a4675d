"""What the "Inside the study" view shows, computed here so that the app only lays it out.

* :func:`prepare` once per (photo, scale): ground truth, LR image, its bicubic planes (shared).
* :func:`inside_study`: exact, original and overlap-removed stitchings of one model, scored
  against the ground truth (srcnn.study.stitching: naive, aligned, best-shift and at-source PSNR).
* :func:`what_adds`: output - bicubic on Y, as an amplified diverging map (srcnn.colormaps) and its RMS.
* :func:`early_vs_late`: the same crop and PSNR from snapshots taken during training.
* :func:`low_loss_sentences`: the training history (srcnn.history) as PSNR beside bicubic on the
  same patches, and the sentences with the figures filled in.
* :func:`inside_view`: all of these at once, in three parts (:func:`plan_view`, then
  :func:`view_stitchings` and :func:`view_networks_and_snapshots`, which do not depend on each
  other, then :func:`finish_view`). Pure: no threads, no caches (beyond loaded models); the app
  runs the two middle parts side by side and keeps views (ui.views). Inside
  srcnn.cancel.cancellable(check), ``check()`` is called between stages (srcnn.cancel.checkpoint),
  tiles and row bands: it may raise to stop the work.

Arrays: luma HW float32 in 0..1 scale (Y in 16/255..235/255); colour HWC 0..1; "levels" are
8-bit levels of Y (0..1 times 255). PSNR is on Y, peak 255, ``scale`` px shaved (srcnn.metrics).
Colour maps live in srcnn.colormaps, history and snapshot I/O in srcnn.history, the docs'
figures in srcnn.tooling.figures (``python -m srcnn figures``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import uniform_filter

from .. import cancel, imaging, pipeline
from ..colormaps import GAIN, diverging
from ..pipeline import batch_fn
from ..runner import default_runner
from ..history import History, gain_curve, history_rows, list_snapshots, load_history, pick
from ..metrics import psnr_y
from ..models import KINDS, Network

from . import original, stitching, walk


# --------------------------------------------------------------------------- shared inputs

@dataclass(frozen=True)
class Prepared:
    """One photo at one scale: ``gt`` (modcropped HR, PIL) and its luma ``gt_y``; ``lr`` (PIL,
    8-bit, what a user would upload); ``planes`` its bicubic planes (srcnn.pipeline.bicubic_planes:
    HWC, gt's size, Y in channel 0, then Cb and Cr unless gray), ``up`` the same in colour (HWC
    0..1, for pictures), ``up_alpha`` (HW or None) and ``bicubic_y`` (HW, the planes' Y)."""
    scale: int
    gt: Image.Image
    gt_y: np.ndarray
    lr: Image.Image
    planes: np.ndarray
    up: np.ndarray
    up_alpha: np.ndarray | None
    bicubic_y: np.ndarray


def prepare(hr: Image.Image, scale: int) -> Prepared:
    """Degrade ``hr`` as srcnn.compare does and take the recipe's first steps, once for every view."""
    gt = pipeline.ground_truth(hr, scale)
    lr = pipeline.degrade(gt, scale)
    color, alpha = imaging.pil_to_arrays(lr)
    planes = pipeline.bicubic_planes(color, scale)
    return Prepared(scale, gt, imaging.luma(imaging.pil_to_arrays(gt)[0]), lr, planes, pipeline.to_color(planes),
                    pipeline.bicubic_alpha(alpha, scale), np.ascontiguousarray(planes[:, :, 0]))


def exact_luma(prep: Prepared, model: Network, box: tuple[int, int, int, int] | None = None,
               progress=None) -> np.ndarray:
    """The exact path's network luma of ``model`` on ``prep``'s bicubic luma (pipeline.apply_network):
    HW, gt's size, or only the ``box`` (left, top, right, bottom) part of it, computed (one window) from
    that box plus a halo of the model's radius (so the pixels equal the whole-image run's).
    ``progress(done, total)`` is called between tiles."""
    if box is None:
        return pipeline.apply_network(model, prep.bicubic_y, pipeline.DEFAULT_TILE, progress)
    left, top, right, bottom = box
    r, (h, w) = model.radius, prep.bicubic_y.shape
    t, l = max(0, top - r), max(0, left - r)
    window = prep.bicubic_y[t:min(h, bottom + r), l:min(w, right + r)]
    out = pipeline.apply_network(model, window, None)
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
    stitched = {"exact": stitching.stitch_exact(prep.planes, luma, prep.up_alpha)}
    if literal:
        stitched.update(stitching.stitch_study(prep.planes, batch_fn(model), model.radius, prep.up_alpha, keep))
    else:
        stitched.update(stitching.stitch_from_exact(stitched["exact"], model.radius, keep))
    scores = {k: stitching.score_stitching(v, prep.gt_y, prep.scale, keep) for k, v in stitched.items()}
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
    crops.update({name: st.image().crop(stitching.crop_box(st, size, row, col))
                  for name, st in report.stitched.items()})
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

def snapshot_model(kind: str, folder: Path) -> Network:
    """A training snapshot's network, loaded once per version of its weights file by the default
    runner (srcnn.runner.Runner.folder_network). Shared: do not change it."""
    return default_runner().folder_network(kind, folder)


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
    planes = prep.planes[top:bottom, left:right]
    results = []
    for s in pick(snaps, fractions):
        st = stitching.stitch_exact(planes, exact_luma(prep, snapshot_model(kind, s.path), region))
        img, p = st.image(), psnr_y(st.y8(), gt_y, prep.scale)
        crop = img.crop((box[0] - left, box[1] - top, box[2] - left, box[3] - top))
        results.append(SnapshotResult(kind, s.step, s.fraction, p, p - bic,
                                      crop.resize((crop.width * zoom, crop.height * zoom), Image.NEAREST)))
    return results, message


def low_loss_sentences(histories: dict[str, History | None], report: StudyReport | None = None) -> str:
    """The "low loss, poor result" explanation, every figure taken from ``histories`` (and ``report``):
    each network's last loss beside bicubic on the same patches and on its validation set, then why
    the loss cannot see the stitching. (Early training is the tab's own section, on the photo.)"""
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
            f"the mean squared error of the brightness channel (Y, 0 black to 1 white) on its 33x33 training patches: "
            f"{last['train_psnr']:.2f} dB as a PSNR. "
            f"That figure means nothing alone: bicubic on the same patches scores {last['train_bicubic_psnr']:.2f} dB, "
            f"so the network is {last['train_psnr'] - last['train_bicubic_psnr']:+.2f} dB better where it was trained, "
            f"and {last['val_gain']:+.2f} dB on its validation images "
            f"(Set5, never trained on: {last['val_psnr']:.2f} vs {last['val_bicubic_psnr']:.2f} dB).")
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
    ``sentences``: :func:`low_loss_sentences`; ``seconds``: wall time per part and in "total"."""
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
    walk: list | None = None                    # network "study": srcnn.study.walk.original_walk's rows


def around(box: tuple[int, int, int, int], size: int, width: int, height: int) -> tuple[int, int, int, int]:
    """A ``size`` px box (clipped to the photo) centred on ``box``."""
    cx, cy = (box[0] + box[2]) // 2, (box[1] + box[3]) // 2
    left = int(np.clip(cx - size // 2, 0, max(0, width - size)))
    top = int(np.clip(cy - size // 2, 0, max(0, height - size)))
    return left, top, min(width, left + size), min(height, top + size)


NETWORK_CHOICES = ("ours", "study")


@dataclass(frozen=True)
class ViewPlan:
    """What every part of one view shares (:func:`plan_view`): the photo ``hr`` and its
    :class:`Prepared`; the ``kind`` stitched (or, ``network="study"``, the 2018 study's own
    network); the crop ``box`` (:func:`detail_box`) and the snapshots' ``region`` (None: whole
    photo); where checkpoints live (``root``); ``started``: time.perf_counter() at the start."""
    hr: Image.Image
    prep: Prepared
    kind: str
    network: str
    box: tuple[int, int, int, int]
    region: tuple[int, int, int, int] | None
    fractions: tuple[float, ...]
    root: str | Path | None
    seconds: dict[str, float]
    started: float

    @property
    def theirs(self) -> bool:
        return self.network == "study"


class Stitchings(NamedTuple):
    """:func:`view_stitchings`' result."""
    report: StudyReport
    seam_crops: dict[str, Image.Image]
    seconds: dict[str, float]


class NetworksAndSnapshots(NamedTuple):
    """:func:`view_networks_and_snapshots`' result: exact lumas by kind, snapshots and notes by kind."""
    lumas: dict[str, np.ndarray]
    snapshots: dict[str, tuple[list[SnapshotResult], str]]
    seconds: dict[str, float]


def plan_view(hr: Image.Image, scale: int, kind: str = "residual", fractions: tuple[float, ...] = (0.01, 0.1, 1.0),
              region_size: int | None = 256, root: str | Path | None = None, network: str = "ours") -> ViewPlan:
    """The first part of :func:`inside_view`: check ``network``, :func:`prepare` the photo, choose
    the crop and the snapshots' region (``region_size`` px around the crop; None: whole photo)."""
    if network not in NETWORK_CHOICES:
        raise ValueError(f"network must be one of {', '.join(NETWORK_CHOICES)}, got {network!r}")
    t0 = time.perf_counter()
    prep = prepare(hr, scale)
    box = detail_box(prep)
    h, w = prep.gt_y.shape
    region = None if region_size is None or region_size >= max(h, w) else around(box, region_size, w, h)
    return ViewPlan(hr, prep, kind, network, box, region, tuple(fractions), root,
                    {"prepare": time.perf_counter() - t0}, t0)


def view_stitchings(plan: ViewPlan) -> Stitchings:
    """The stitchings scored (:func:`inside_study`; ``network="study"``: of the study's own network,
    srcnn.study.original.original_model) and the seam crops."""
    model = original.original_model() if plan.theirs else None
    report = inside_study(plan.prep, plan.kind, model=model)
    cancel.checkpoint()
    t = time.perf_counter()
    crops = seam_crops(report, plan.prep)
    return Stitchings(report, crops, {"stitchings": report.seconds, "seam crops": time.perf_counter() - t})


def view_networks_and_snapshots(plan: ViewPlan) -> NetworksAndSnapshots:
    """The shipped networks' exact lumas that :func:`view_stitchings` does not compute (both, for
    the study's network), and :func:`early_vs_late` of each kind on the plan's region."""
    t = time.perf_counter()
    lumas = {k: shipped_luma(plan.prep, k) for k in KINDS if plan.theirs or k != plan.kind}
    seconds = {"other network": time.perf_counter() - t}
    t = time.perf_counter()
    snaps = {}
    for k in KINDS:
        cancel.checkpoint()
        snaps[k] = early_vs_late(plan.prep, k, plan.box, plan.fractions, plan.root, region=plan.region)
    seconds["snapshots"] = time.perf_counter() - t
    return NetworksAndSnapshots(lumas, snaps, seconds)


def finish_view(plan: ViewPlan, stitched: Stitchings, others: NetworksAndSnapshots) -> InsideView:
    """The last part: what each network adds, the walk (network "study": srcnn.study.walk), the
    training histories and the sentences, all put together."""
    t = time.perf_counter()
    own = {} if plan.theirs else {plan.kind: stitched.report.stitched["exact"].luma}
    adds = what_adds(plan.prep, {**own, **others.lumas})
    seconds = {**plan.seconds, **stitched.seconds, **others.seconds, "adds": time.perf_counter() - t}
    rows = None
    if plan.theirs:
        cancel.checkpoint()
        t = time.perf_counter()
        rows = walk.original_walk(plan.hr, plan.prep.scale)
        seconds["walk"] = time.perf_counter() - t
    loaded = {k: load_history(k, plan.prep.scale, plan.root) for k in KINDS}
    hists = {k: v[0] for k, v in loaded.items()}
    seconds["total"] = time.perf_counter() - plan.started
    snaps = others.snapshots
    return InsideView(plan.prep, stitched.report, stitched.seam_crops, adds, plan.box, plan.region,
                      {k: v[0] for k, v in snaps.items()}, {k: v[1] for k, v in snaps.items()}, hists,
                      {k: v[1] for k, v in loaded.items()}, gain_curve(hists),
                      low_loss_sentences(hists, stitched.report), seconds, plan.network, rows)


def inside_view(hr: Image.Image, scale: int, kind: str = "residual", fractions: tuple[float, ...] = (0.01, 0.1, 1.0),
                region_size: int | None = 256, root: str | Path | None = None, network: str = "ours") -> InsideView:
    """Compute every view of the tab, one part after the other: stitchings of ``kind`` scored
    (``network="study"``: of the 2018 study's own network, plus srcnn.study.walk.original_walk's
    rows from its saved picture to the truth), seam crops, what SRCNN and residual SRCNN add,
    early vs late snapshots (PSNR on a ``region_size`` px region around the crop, None: whole
    photo), training histories and the sentences. Raises ValueError if ``hr`` is too small for
    one 33 x 33 patch after upscaling. Stops where the enclosing srcnn.cancel.cancellable's check
    raises (module docstring)."""
    plan = plan_view(hr, scale, kind, fractions, region_size, root, network)
    cancel.checkpoint()
    return finish_view(plan, view_stitchings(plan), view_networks_and_snapshots(plan))


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
