"""What the "Inside the study" view shows, computed here so that the app only lays it out.

* :func:`prepare` once per (photo, scale): ground truth, LR image, bicubic upscale (shared).
* :func:`inside_study`: exact, original and overlap-removed stitchings of one model, scored
  against the ground truth (srcnn.study: naive, aligned, best-shift and at-source PSNR).
* :func:`what_adds`: output - bicubic on Y, as an amplified diverging map and its RMS.
* :func:`early_vs_late`: the same crop and PSNR from snapshots taken during training.
* :func:`load_history`, :func:`gain_curve`, :func:`low_loss_sentences`: the training history
  as PSNR beside bicubic on the same patches, and the sentences with the figures filled in.
* :func:`inside_view` all of these at once; :func:`inside_view_of_file` the same, cached on the
  file's content (the app's "Inside the study" tab).

Arrays: luma HW float32 in 0..1 scale (Y in 16/255..235/255); colour HWC 0..1; "levels" are
8-bit levels of Y (0..1 times 255). PSNR is on Y, peak 255, ``scale`` px shaved (srcnn.metrics).
Reading snapshots or history never raises for a missing file: it returns None (or an empty
list) and a message saying plainly what is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import threading
import time
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw
from scipy.ndimage import uniform_filter

from . import imaging, pipeline, study
from .engine import torch_batch_fn
from .metrics import psnr_y
from .pipeline import ground_truth
from .tiling import tiled_apply
from .models import KINDS
from .weights import bundled_folder, load_from_folder, subfolder

GAIN = 8.0   # default amplification of output - bicubic: +-16 levels reach the ends of the colour map


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
    up = imaging.imresize(color, float(scale))
    up_alpha = None if alpha is None else imaging.imresize(alpha, float(scale))
    if up.shape[2] == 1:
        bicubic_y, cbcr = imaging.luma(up), None
    else:   # one conversion for both (imaging.luma is its Y)
        ycc = imaging.rgb_to_ycbcr(up)
        bicubic_y, cbcr = np.ascontiguousarray(ycc[:, :, 0]), ycc[:, :, 1:]
    return Prepared(scale, gt, imaging.luma(imaging.pil_to_arrays(gt)[0]), lr, up, up_alpha, bicubic_y, cbcr)


def exact_luma(prep: Prepared, model, box: tuple[int, int, int, int] | None = None) -> np.ndarray:
    """The exact path's network luma of ``model`` on ``prep``'s bicubic luma: HW, gt's size, or
    only the ``box`` (left, top, right, bottom) part of it, computed from that box plus a halo of
    the model's radius (so the pixels equal the whole-image run's)."""
    if box is None:
        return tiled_apply(torch_batch_fn(model), prep.bicubic_y, model.radius)
    left, top, right, bottom = box
    r, (h, w) = model.radius, prep.bicubic_y.shape
    t, l = max(0, top - r), max(0, left - r)
    window = prep.bicubic_y[t:min(h, bottom + r), l:min(w, right + r)]
    out = tiled_apply(torch_batch_fn(model), window, r)
    return out[top - t:top - t + bottom - top, left - l:left - l + right - left]


def shipped_luma(prep: Prepared, kind: str) -> np.ndarray:
    """The shipped ``kind`` model's exact output luma: the very path the app's srcnn.upscale
    takes (tiles of ``pipeline.DEFAULT_TILE``, one per core; the same pixels as one whole-image pass)."""
    return pipeline.network_luma(prep.bicubic_y, kind, prep.scale, pipeline.DEFAULT_TILE)


# --------------------------------------------------------------------------- stitchings

@dataclass(frozen=True)
class StudyReport:
    """``stitched[name]`` and ``scores[name]`` for name in exact, original, overlap-removed."""
    kind: str
    scale: int
    stitched: dict[str, study.Stitched]
    scores: dict[str, study.Scores]
    seconds: float


def inside_study(prep: Prepared, kind: str = "residual", keep: int = 0, model=None,
                 literal: bool = False) -> StudyReport:
    """All three stitchings of ``kind``'s network on ``prep``, each scored against the ground truth.

    The study stitchings reuse the exact output (srcnn.study.stitch_from_exact, same pixels);
    ``literal=True`` runs the network on the original code's patches instead (slower)."""
    t0 = time.perf_counter()
    luma = shipped_luma(prep, kind) if model is None else exact_luma(prep, model)
    model = model or pipeline.model_for(kind, prep.scale)
    stitched = {"exact": study.stitch_exact(prep.up, luma, prep.up_alpha, prep.cbcr)}
    if literal:
        stitched.update(study.stitch_study(prep.up, torch_batch_fn(model), model.radius, prep.up_alpha, keep))
    else:
        stitched.update(study.stitch_from_exact(stitched["exact"], model.radius, keep))
    scores = {k: study.score(v, prep.gt_y, prep.scale, keep) for k, v in stitched.items()}
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
    row, col = study.seam_position(grid, seam[0]), study.seam_position(grid, seam[1])
    exact = report.stitched["exact"]
    crops = {"ground truth": prep.gt.crop(study.crop_box(exact, size, row, col))}
    crops.update({name: st.image().crop(study.crop_box(st, size, row, col)) for name, st in report.stitched.items()})
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


# Diverging map anchors (-1 .. +1): dark blue, blue, near-white at zero, red, dark red.
_ANCHORS = np.array([[5, 48, 97], [67, 147, 195], [247, 247, 247], [214, 96, 77], [103, 0, 31]], np.float32)


def _blend(t: np.ndarray) -> np.ndarray:
    """Positions ``t`` in 0..4 on the anchors (0 = dark blue, 2 = white, 4 = dark red), linear in between."""
    i = np.minimum(t.astype(int), 3)
    f = (t - i)[..., None]
    return np.rint(_ANCHORS[i] * (1 - f) + _ANCHORS[i + 1] * f).astype(np.uint8)


_STEPS = 255                                          # table entries per anchor interval
_TABLE = _blend(np.arange(4 * _STEPS + 1) / _STEPS)   # every colour the map uses, computed once


def diverging(levels: np.ndarray, gain: float = GAIN) -> np.ndarray:
    """Signed HW levels to an HWx3 uint8 colour map centred on zero (white): value v maps to
    ``clip(v * gain / 127.5, -1, 1)`` on blue (-1) .. white (0) .. red (+1), looked up in a
    1021-colour table (v = 0 is exactly white; neighbouring entries differ by under 1 level)."""
    half = 2 * _STEPS
    t = np.asarray(levels, np.float32) * np.float32(gain / 127.5 * half) + np.float32(half)
    np.clip(t, 0, 2 * half, out=t)
    return _TABLE[np.rint(t, out=t).astype(np.int16)]


ERROR_RANGE = 16.0  # luma levels shown at the top of the error heatmap's colour scale


def error_map(output: Image.Image, ground_truth: Image.Image,
              levels: float = ERROR_RANGE) -> tuple[Image.Image, float]:
    """``|output - ground truth|`` on Y (BT.601, in 8-bit levels, unrounded) as an inferno
    heatmap, black = 0 to yellow = ``levels`` or more; returns (heatmap, mean error in levels)."""
    from matplotlib import colormaps
    err = np.abs(imaging.luma(imaging.pil_to_arrays(output)[0])
                 - imaging.luma(imaging.pil_to_arrays(ground_truth)[0])) * 255.0
    rgb = colormaps["inferno"](np.clip(err / levels, 0, 1))[:, :, :3]
    return Image.fromarray(np.rint(rgb * 255).astype(np.uint8), "RGB"), float(err.mean())


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

def checkpoint_dir(kind: str, scale: int, root: str | Path | None = None) -> Path:
    """``<root>/<kind>-x<scale>``; the bundled folder (srcnn.weights) when ``root`` is None."""
    return bundled_folder(kind, scale) if root is None else Path(root) / subfolder(kind, scale)


@dataclass(frozen=True)
class History:
    """``rows``: history.json's rows (step, train_loss, train_bicubic_loss, val_psnr,
    val_bicubic_psnr, lr, seconds); ``steps``: the run's planned length; ``init_from``: the
    checkpoint the run started from (fine-tuning, e.g. x2 from x3), None if from scratch."""
    kind: str
    scale: int
    steps: int
    rows: list[dict]
    init_from: str | None = None


def load_history(kind: str, scale: int, root: str | Path | None = None) -> tuple[History | None, str]:
    """The training history beside a checkpoint, or None and why not."""
    path = checkpoint_dir(kind, scale, root) / "history.json"
    try:
        data = json.loads(path.read_text())
        rows = data["history"]
    except FileNotFoundError:
        return None, f"{kind} x{scale}: this checkpoint has no training history ({path.name} is missing)"
    except (ValueError, KeyError) as e:
        return None, f"{kind} x{scale}: the training history could not be read ({e})"
    if not rows:
        return None, f"{kind} x{scale}: the training history is empty"
    config = data.get("config", {})
    steps = int(config.get("steps") or rows[-1]["step"])
    done = rows[-1]["step"]
    note = "" if done >= steps else f" (training still running: step {done:,} of {steps:,})"
    return History(kind, scale, steps, rows, config.get("init_from") or None), f"{kind} x{scale}: {len(rows)} evaluations{note}"


def loss_psnr(mse: float) -> float:
    """A mean squared error on Y in 0..1 as PSNR in dB: ``10 log10(1 / mse)`` (peak 1 = 255 levels)."""
    return math.inf if mse <= 0 else 10.0 * math.log10(1.0 / mse)


def history_rows(hist: History) -> list[dict]:
    """Per evaluation: step, train_psnr and train_bicubic_psnr (the loss and bicubic's loss on the
    same patches, as PSNR), val_psnr, val_bicubic_psnr and val_gain (dB over bicubic, held-out photos)."""
    return [{"step": r["step"], "train_psnr": loss_psnr(r["train_loss"]),
             "train_bicubic_psnr": loss_psnr(r["train_bicubic_loss"]), "val_psnr": r["val_psnr"],
             "val_bicubic_psnr": r["val_bicubic_psnr"], "val_gain": r["val_psnr"] - r["val_bicubic_psnr"]}
            for r in hist.rows]


def gain_curve(histories: dict[str, History | None]) -> list[dict]:
    """Long-format rows {"step", "model", "gain_db"} for a line plot of validation gain over bicubic."""
    return [{"step": r["step"], "model": kind, "gain_db": r["val_gain"]}
            for kind, h in histories.items() if h is not None for r in history_rows(h)]


@dataclass(frozen=True)
class Snapshot:
    step: int
    fraction: float     # step / planned steps
    path: Path


def list_snapshots(kind: str, scale: int, root: str | Path | None = None) -> tuple[list[Snapshot], str]:
    """Snapshots under ``<checkpoint>/snapshots/step-NNNNNN/`` with complete weights, by step."""
    folder = checkpoint_dir(kind, scale, root) / "snapshots"
    hist, _ = load_history(kind, scale, root)
    steps = [(int(p.name[5:]), p) for p in (sorted(folder.glob("step-*")) if folder.is_dir() else [])
             if p.name[5:].isdigit() and all((p / f).is_file() for f in ("config.json", "model.safetensors"))]
    total = hist.steps if hist else max((s for s, _ in steps), default=1)   # no history: the last snapshot is 100%
    found = [Snapshot(step, step / total, p) for step, p in steps]
    if not found:
        return [], f"{kind} x{scale}: this checkpoint has no training snapshots ({folder} is missing or empty)"
    return found, f"{kind} x{scale}: snapshots at steps {', '.join(f'{s.step:,}' for s in found)}"


def pick(snapshots: list[Snapshot], fractions: tuple[float, ...]) -> list[Snapshot]:
    """The snapshot nearest to each fraction of the run, without repeats, in step order."""
    chosen = {min(snapshots, key=lambda s: abs(s.fraction - f)).step for f in fractions} if snapshots else set()
    return [s for s in snapshots if s.step in chosen]


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
        st = study.stitch_exact(up, exact_luma(prep, model, region), None, cbcr)
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
            f"and {last['val_gain']:+.2f} dB on held-out photos ({last['val_psnr']:.2f} vs {last['val_bicubic_psnr']:.2f} dB).")
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
                region_size: int | None = 256, root: str | Path | None = None, network: str = "ours") -> InsideView:
    """Compute every view of the tab: stitchings of ``kind`` scored (``network="study"``: of the
    2018 study's own network, srcnn.study.original_model, plus srcnn.study.original_walk's rows
    from its saved picture to the truth), seam crops, what SRCNN and
    residual SRCNN add, early vs late snapshots (PSNR on a ``region_size`` px region around the crop,
    None: whole photo), training histories and the sentences. Raises ValueError if ``hr`` is too
    small for one 33 x 33 patch after upscaling.

    The other network's pass and the snapshots run on a second thread while this one stitches
    and scores (numpy works on one core; the networks use both): 1.4 s instead of 1.6 s for a
    1-megapixel photo at x3 on 2 cores, measured."""
    if network not in NETWORK_CHOICES:
        raise ValueError(f"network must be one of {', '.join(NETWORK_CHOICES)}, got {network!r}")
    theirs = network == "study"
    seconds, t0 = {}, time.perf_counter()
    prep = prepare(hr, scale)
    seconds["prepare"] = time.perf_counter() - t0
    box = detail_box(prep)
    h, w = prep.gt_y.shape
    region = None if region_size is None or region_size >= max(h, w) else around(box, region_size, w, h)

    def beside() -> tuple[dict, dict]:   # the other network and the snapshots, on a second thread
        t = time.perf_counter()
        lumas = {k: shipped_luma(prep, k) for k in KINDS if theirs or k != kind}
        seconds["other network"] = time.perf_counter() - t
        t = time.perf_counter()
        snaps = {k: early_vs_late(prep, k, box, fractions, root, region=region) for k in KINDS}
        seconds["snapshots"] = time.perf_counter() - t
        return lumas, snaps

    with ThreadPoolExecutor(1, thread_name_prefix="insight") as pool:
        side = pool.submit(beside)
        report = inside_study(prep, kind, model=study.original_model() if theirs else None)
        seconds["stitchings"] = report.seconds
        t = time.perf_counter()
        crops = seam_crops(report, prep)
        lumas, snaps = side.result()
        adds = what_adds(prep, lumas if theirs else {kind: report.stitched["exact"].luma, **lumas})
        seconds["adds"] = time.perf_counter() - t
    walk = None
    if theirs:
        t = time.perf_counter()
        walk = study.original_walk(hr, scale, shipped={k: pipeline.model_for(k, scale) for k in KINDS})
        seconds["walk"] = time.perf_counter() - t
    loaded = {k: load_history(k, scale, root) for k in KINDS}
    hists = {k: v[0] for k, v in loaded.items()}
    seconds["total"] = time.perf_counter() - t0
    return InsideView(prep, report, crops, adds, box, region, {k: v[0] for k, v in snaps.items()},
                      {k: v[1] for k, v in snaps.items()}, hists, {k: v[1] for k, v in loaded.items()},
                      gain_curve(hists), low_loss_sentences(hists, report), seconds, network, walk)


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


_VIEWS: OrderedDict[tuple[str, int, str], InsideView] = OrderedDict()   # most recent last
_PENDING: dict[tuple[str, int, str], Future] = {}                       # being computed now
_VIEWS_LOCK = threading.Lock()
VIEWS_KEPT = 2


def inside_view_of_file(path: str | Path, scale: int, kind: str = "residual", network: str = "ours") -> InsideView:
    """:func:`inside_view` of the photo in the file at ``path``, cached on the file's content
    (SHA-256), scale and kind: the app's views (seam lines on or off, a repeated request, the same
    photo uploaded again) reuse one upscaling. The ``VIEWS_KEPT`` most recent are kept (about
    100 MB each for a 1-megapixel ground truth). Calls that arrive while the same view is being
    computed wait for that computation (its result, or its error) instead of starting another
    (two visitors on the same example, a double click)."""
    data = Path(path).read_bytes()
    key = (hashlib.sha256(data).hexdigest(), scale, kind, network)
    with _VIEWS_LOCK:
        if key in _VIEWS:
            _VIEWS.move_to_end(key)
            return _VIEWS[key]
        pending = _PENDING.get(key)
        if pending is None:
            _PENDING[key] = mine = Future()
    if pending is not None:
        return pending.result()
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.load()
            view = inside_view(img, scale, kind, network=network)
    except BaseException as e:
        with _VIEWS_LOCK:
            del _PENDING[key]
        mine.set_exception(e)
        raise
    with _VIEWS_LOCK:
        del _PENDING[key]
        _VIEWS[key] = view
        while len(_VIEWS) > VIEWS_KEPT:
            _VIEWS.popitem(last=False)
    mine.set_result(view)
    return view


# --------------------------------------------------------------------------- the README's figures

MARKERS = ("<!-- study-figures -->", "<!-- /study-figures -->")


def panel(images: dict[str, Image.Image], gap: int = 6) -> Image.Image:
    """Images side by side on white, each with its name above it (PIL's default font)."""
    from PIL import ImageFont
    font = ImageFont.load_default()
    label = 16
    width = sum(im.width for im in images.values()) + gap * (len(images) + 1)
    height = max(im.height for im in images.values()) + label + 2 * gap
    out = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(out)
    x = gap
    for name, im in images.items():
        draw.text((x, gap // 2), name, fill="black", font=font)
        out.paste(im.convert("RGB"), (x, gap + label))
        x += im.width + gap
    return out


def figures(example: str, scale: int, kind: str = "residual", root: str | Path | None = None) -> tuple[str, dict]:
    """Every figure of the README section for one bundled photo, as markdown, plus the pictures."""
    from .data import load_images
    prep = prepare(load_images([example])[example], scale)
    report = inside_study(prep, kind)
    lumas = {kind: report.stitched["exact"].luma}
    adds = what_adds(prep, lumas)
    loaded = {k: load_history(k, scale, root) for k in KINDS}
    hists = {k: h for k, (h, _) in loaded.items()}
    lines = [f"Photo `{example}` ({prep.gt.width}x{prep.gt.height} ground truth), x{scale}, {kind} model, "
             f"PSNR-Y (BT.601) in dB, {scale} px border shaved. Reproduce: "
             f"`python -m srcnn.study --example {example} --scale {scale} --out docs/`.", "",
             "| stitching | output size | PSNR as compared naively | PSNR aligned (shift) | best shift | at source |",
             "|---|---|---|---|---|---|"]
    for name, sc in report.scores.items():
        st = report.stitched[name]
        lines.append(f"| {name} | {st.luma.shape[1]}x{st.luma.shape[0]} | {sc.naive:.2f} | {sc.aligned:.2f} ({sc.offset} px) "
                     f"| {sc.best:.2f} {sc.best_shift} | {sc.at_source:.2f} |")
    bic = psnr_y(prep.bicubic_y, prep.gt_y, scale)
    lines += ["", f"Bicubic: {bic:.2f} dB. What each network adds to bicubic (output - bicubic on Y, exact path), RMS: "
              + ", ".join(f"{k} {a.rms:.2f} levels" for k, a in adds.items()) + " (8-bit levels of Y).", "",
              "| model | snapshot step | fraction of run | PSNR | gain over bicubic |", "|---|---|---|---|---|"]
    evl = {}
    for k in KINDS:
        res, msg = early_vs_late(prep, k, root=root)
        evl[k] = res
        if not res:
            lines.append(f"| {k} | {msg} | | | |")
        for r in res:
            lines.append(f"| {k} | {r.step:,} | {r.fraction:.0%} | {r.psnr:.2f} | {r.gain:+.2f} |")
    lines += ["", "Training histories: " + "; ".join(msg for _, msg in loaded.values()) + ".",
              "", low_loss_sentences(hists, report)]
    crops = seam_crops(report, prep)
    pictures = {"study_seams.png": panel(crops),
                "study_adds.png": panel({f"{k}: output - bicubic, x{a.gain:g}": a.image.crop(detail_box(prep, 128))
                                         for k, a in adds.items()})}
    return "\n".join(lines), pictures


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m srcnn.study", description=(
        "Figures of 'What broke the original study' for one bundled photo: stitchings scored against the ground "
        "truth, what each network adds, early vs late snapshots; pictures written to --out."))
    ap.add_argument("--example", default="chelsea", help="a bundled photo (srcnn.data), default chelsea")
    ap.add_argument("--scale", type=int, default=3, choices=(2, 3, 4))
    ap.add_argument("--kind", default="residual", choices=KINDS, help="model for the stitchings")
    ap.add_argument("--out", default="docs/", help="folder for study_seams.png and study_adds.png")
    ap.add_argument("--update", metavar="MARKDOWN", help=f"also replace the text between {MARKERS[0]} and "
                    f"{MARKERS[1]} in this file (e.g. README.md) with the figures")
    ap.add_argument("--root", default=None, help="checkpoints folder for histories and snapshots "
                    "(default: the bundled checkpoints/)")
    args = ap.parse_args(argv)
    text, pictures = figures(args.example, args.scale, args.kind, args.root)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for name, img in pictures.items():
        img.save(out / name, optimize=True)
    print(text)
    if args.update:
        doc = Path(args.update)
        before, rest = doc.read_text().split(MARKERS[0], 1)
        after = rest.split(MARKERS[1], 1)[1]
        doc.write_text(f"{before}{MARKERS[0]}\n{text}\n{MARKERS[1]}{after}")
        print(f"updated {doc}")
    print("\nwrote " + ", ".join(str(out / n) for n in pictures))


if __name__ == "__main__":
    main()
