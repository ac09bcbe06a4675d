"""The Compare tab's handlers: ``/compare`` (upload -> four images, metrics, note) and the
visual comparison (slider, zoomed crops, error maps). Numbers come from srcnn."""

from __future__ import annotations

import html
import logging
import math
import time
from pathlib import Path
from dataclasses import dataclass, field

import gradio as gr
import numpy as np
import pandas as pd
from PIL import Image

import srcnn
from srcnn import cancel, colormaps, factors, models, pipeline, uploads
from srcnn.imaging import arrays_to_pil, pil_to_arrays
from srcnn.weights import Checkpoint

from . import common, server
from .clients import quoted
from .common import (METHOD_LABELS, PngWriter, error_html, log_request, read_upload, refuse, require_weights,
                     user_errors)

MODES = ("Benchmark", "Upscale")
VIEW_CHOICES = ("Ground truth / input", "Bicubic", "SRCNN", "Residual SRCNN")
ERROR_RANGE = colormaps.ERROR_RANGE  # luma levels mapped to the top of the colour scale
SLIDER_LABEL = "Before / after"
log = logging.getLogger("srcnn.app")


def mode_from_choice(raw: object) -> str:
    """"Benchmark" or "Upscale" from the radio's raw value (None: Benchmark)."""
    if raw in (None, ""):
        return MODES[0]
    for mode in MODES:
        if str(raw).strip().lower() == mode.lower():
            return mode
    raise refuse(f"Mode must be Benchmark or Upscale; got {quoted(raw)}.")


# Benchmark mode's low-res image: kept clean (8-bit PNG), or saved as a JPEG at a quality first.
LOW_RES_CHOICES = ("PNG (clean)", "JPEG 90", "JPEG 75", "JPEG 50", "JPEG 30")
# Which networks serve: read from the upload ("Auto": a JPEG's quality from its file), or as set.
NETWORK_CHOICES = ("Auto", "Clean", "Compressed")


def low_res_quality(raw: object) -> int | None:
    """Benchmark's low-res choice (:data:`LOW_RES_CHOICES`) as a JPEG quality, None for the clean
    PNG (and for no value); refused with the choices otherwise."""
    if raw in (None, "", LOW_RES_CHOICES[0]):
        return None
    if raw not in LOW_RES_CHOICES:
        raise refuse(f"Low-res input must be one of {', '.join(LOW_RES_CHOICES)}; got {quoted(raw)}.")
    return int(str(raw).split()[1])


def networks_setting(raw: object) -> str:
    """The networks choice (:data:`NETWORK_CHOICES`) as srcnn.upscale's ``jpeg``: "auto", "clean"
    or "compressed" (no value: "auto"); refused with the choices otherwise."""
    if raw in (None, ""):
        return "auto"
    if raw not in NETWORK_CHOICES:
        raise refuse(f"Networks must be one of {', '.join(NETWORK_CHOICES)}; got {quoted(raw)}.")
    return str(raw).lower()


def parse_factor(raw: object) -> int | float | None:
    """The scale box's value as a factor from 1.1 to 8 (2, 3 and 4 as ints: their exact paths),
    or None when it is not one. Accepts 2.5, "2.5", "x2.5", "×2.5", " 5 ", and a decimal comma: "3,5" is 3.5."""
    text = str("" if raw is None else raw).strip().lower().lstrip("x×").strip().replace(",", ".")
    try:
        return pipeline.factor_value(float(text))
    except ValueError:
        return None


def factor_text_error(raw: object) -> str | None:
    """Why ``raw`` is not a factor both modes take (None when it is one): the allowed range
    and the entry as received."""
    if parse_factor(raw) is not None:
        return None
    shown = str("" if raw is None else raw).strip()
    got = f"got {quoted(shown)}" if shown else "the box is empty"
    return f"Scale must be a factor from {factors.MIN_FACTOR:g} to {factors.MAX_FACTOR:g} (e.g. 2.5 or x3); {got}."


def factor_from_text(raw: object) -> int | float:
    """The scale box's value as a factor (both modes): any from 1.1 to 8, exactly as typed;
    2, 3 and 4 as ints (their exact paths). Refused with the allowed range otherwise."""
    factor = parse_factor(raw)
    if factor is None:
        raise refuse(factor_text_error(raw))
    return factor


def scale_check_markdown(raw: object) -> str:
    """The line under the scale box: empty while the entry is a factor, else what is wrong."""
    error = factor_text_error(raw)
    return f"**{error}**" if error else ""


def limits_for(mode: str) -> uploads.Limits:
    """The size limits of a mode: Benchmark bounds the ground truth, Upscale the output
    (srcnn.uploads.BENCHMARK_LIMITS, UPSCALE_LIMITS: set from measurements, docs/app.md)."""
    return uploads.UPSCALE_LIMITS if mode == "Upscale" else uploads.BENCHMARK_LIMITS


def largest_fitting_factor(width: int, height: int, limits: uploads.Limits = uploads.UPSCALE_LIMITS) -> float | None:
    """The largest factor (a multiple of 0.1, at least 1.1) whose output of a ``width`` x
    ``height`` input stays within ``limits`` (srcnn.factors.output_size); None when none does."""
    if max(width, height) > limits.max_side:
        return None
    best = None
    for tenth in range(int(factors.MIN_FACTOR * 10), int(factors.MAX_FACTOR * 10) + 1):
        w, h = factors.output_size(width, height, tenth / 10)
        if w * h > limits.max_output_pixels:
            break
        best = tenth / 10
    return best


def fit_hint(raw: object, scale: float) -> str:
    """For an Upscale upload refused as too large: which factor would fit ("" if none or not that)."""
    path = raw.get("path") if isinstance(raw, dict) else raw
    try:
        with uploads.open_header(path) as img:
            w, h = uploads.upright_size(img)
    except (OSError, ValueError, TypeError):
        return ""
    fits = largest_fitting_factor(w, h)
    if fits is None or fits >= scale:
        return ""
    return f"At {w}x{h} px the largest factor that fits is x{fits:g}."


class TileProgress:
    """Turns srcnn's per-method ``progress(done, total)`` calls into one gr.Progress bar (it only
    reports: the request stops between tiles through its lane's check, ui.server.lane)."""

    def __init__(self, progress: gr.Progress, stages: tuple[str, ...]):
        self.progress, self.stages = progress, stages
        self.stage, self.last, self.pinned = 0, 0, False

    def start(self, stage: int) -> None:
        """The caller says which method runs now (then a count that starts again is not taken
        for the next method: a factor above x4 runs two passes)."""
        self.stage, self.last, self.pinned = stage, 0, True

    def __call__(self, done: int, total: int) -> None:
        if not self.pinned and done <= self.last and self.stage + 1 < len(self.stages):  # the next method started
            self.stage += 1
        self.last = done
        name = METHOD_LABELS.get(self.stages[self.stage], self.stages[self.stage])
        self.progress((self.stage + done / max(total, 1)) / len(self.stages),
                      desc=f"{name}: tile {done} of {total}")


@dataclass
class Outcome:
    """What one request produced, before formatting."""
    mode: str
    scale: float
    first: Image.Image                 # ground truth (Benchmark) or the input (Upscale)
    outputs: dict[str, Image.Image]
    table: pd.DataFrame
    convention: str = ""
    timings: dict[str, float] = field(default_factory=dict)   # seconds per stage (srcnn.Comparison.timings)
    low_res: Image.Image | None = None                        # Benchmark: the degraded input
    input: pipeline.Input | None = None                       # what chose the networks (JPEG or clean)

    @property
    def bicubic_alone(self) -> bool:
        """Every method gave the same pixels (a factor no network serves, srcnn.factors.serving)."""
        first, *rest = (np.asarray(img) for img in self.outputs.values())
        return all(np.array_equal(first, other) for other in rest)


def one_row_if_same(outcome: Outcome) -> Outcome:
    """The table of an outcome whose three methods gave the same pixels: one row, named so."""
    if outcome.bicubic_alone:
        row = outcome.table.iloc[[0]].copy()
        row["Method"] = "Bicubic (all three: no network at this factor)"
        outcome.table = row.reset_index(drop=True)
    return outcome


def run_benchmark(img: Image.Image, scale: float, progress: gr.Progress, pngs: PngWriter,
                  quality: int | None = None, networks: str = "auto") -> Outcome:
    """srcnn.compare, stopping with the request (in its lane: ui.server.lane), each picture handed to ``pngs``
    (keys "first" and the methods) as soon as it is final; the low-res image saved as a JPEG at
    ``quality`` first (None: kept clean), the networks chosen by it unless ``networks`` says."""
    tracker = TileProgress(progress, srcnn.KINDS)
    cmp = srcnn.compare(img, scale, progress=tracker, jpeg_quality=quality, jpeg=networks,
                        on_image=lambda name, im: pngs.add("first" if name == "ground truth" else name, im))
    base = cmp.results["bicubic"].psnr
    rows = [{"Method": METHOD_LABELS[m], "PSNR (dB)": r.psnr, GAIN: r.psnr - base, "SSIM": r.ssim,
             "Time (s)": r.seconds} for m, r in cmp.results.items()]
    return Outcome("Benchmark", scale, cmp.ground_truth, {m: r.image for m, r in cmp.results.items()},
                   pd.DataFrame(rows), cmp.convention, cmp.timings, cmp.low_res, cmp.input)


def run_upscale(img: Image.Image, scale: float, progress: gr.Progress, pngs: PngWriter,
                given: pipeline.Input) -> Outcome:
    """Every method's srcnn.upscale of the upload, stopping with the request (in its lane,
    ui.server.lane: between tiles and the bands of the long steps; here between methods), each
    picture handed to ``pngs`` as soon as it is final; the networks chosen by ``given`` (the
    upload's JPEG quality, or the page's setting)."""
    tracker = TileProgress(progress, srcnn.KINDS)
    outputs, rows = {}, []
    first = arrays_to_pil(*pil_to_arrays(img))  # upright, 8-bit, displayable
    pngs.add("first", first)
    for method in srcnn.METHODS:
        cancel.checkpoint()
        if method in srcnn.KINDS:
            tracker.start(srcnn.KINDS.index(method))
        t0 = time.perf_counter()
        outputs[method] = srcnn.upscale(img, scale, method, progress=tracker, jpeg=given)
        pngs.add(method, outputs[method])
        rows.append({"Method": METHOD_LABELS[method], "Time (s)": time.perf_counter() - t0,
                     "Output size": f"{outputs[method].width}x{outputs[method].height}"})
    seconds = {"upscaling": sum(r["Time (s)"] for r in rows)}
    return Outcome("Upscale", scale, first, outputs, pd.DataFrame(rows), timings=seconds, input=given)


GAIN = "Gain (dB)"    # PSNR over bicubic's on the same photo, in dB (the table's column)
BEST = "font-weight: bold; background-color: #bbf7d0; color: #052e16"          # best quality: bold on green
FASTEST = "font-style: italic; text-decoration: underline; background-color: #e0e7ff; color: #1e1b4b"  # fastest


def style_table(outcome: Outcome):
    """The metrics table: the best quality (PSNR, gain, SSIM) in bold on green, the fastest time in
    italics, underlined, on blue: a different mark (one row: none). Benchmark: each method's gain
    over bicubic in PSNR, signed ("+1.23")."""
    df = outcome.table
    if outcome.mode == "Benchmark":
        style = df.style.format({"PSNR (dB)": "{:.2f}", GAIN: "{:+.2f}", "SSIM": "{:.4f}", "Time (s)": "{:.3f}"})
        if len(df) > 1:
            style = (style.highlight_max(subset=["PSNR (dB)", GAIN, "SSIM"], props=BEST)
                     .highlight_min(subset=["Time (s)"], props=FASTEST))
        return style
    style = df.style.format({"Time (s)": "{:.3f}"})
    return style.highlight_min(subset=["Time (s)"], props=FASTEST) if len(df) > 1 else style


def every_clean_network(kind: str) -> list[Checkpoint]:
    """Every clean network of ``kind`` that srcnn.factors.serving may name: x2, x3, x4, the range
    network and each anchor of the small-factor family (as if all were installed)."""
    return [Checkpoint(kind, s) for s in (*srcnn.SCALES, models.RANGE, *factors.ANCHORS)]


def served_by(factor: float, compressed: bool = False, quality: int | None = None) -> str:
    """In words, what srcnn.upscale runs for each network at ``factor`` (srcnn.factors.serving:
    the passes and the checkpoint that serves each; ``compressed``: a JPEG input of ``quality``).
    Where bicubic serves alone on a clean input, why: serving's rule (no network serves there
    even with every network installed, :func:`every_clean_network`), or a network not installed."""
    def one(kind: str, f: float, checkpoint: Checkpoint | None, installed: Checkpoint | None) -> str:
        if checkpoint is not None:
            return f"bicubic x{f:g}, then {checkpoint.describe()}"
        if compressed:
            return (f"bicubic x{f:g} alone (no network for compressed inputs at this factor and quality: there "
                    "the networks lose to bicubic on some validation photo)")
        if installed is None:
            return (f"bicubic x{f:g} alone (below x{factors.FAMILY_FROM[kind]:g} this network trails bicubic on "
                    "some clean photo)")
        return f"bicubic x{f:g} alone (the networks for factors below 2 are not installed)"

    def passes(kind: str) -> str:
        served = factors.serving(kind, factor, compressed, quality=quality)
        possible = factors.serving(kind, factor, bundled=every_clean_network(kind))
        return ", ".join(one(kind, f, c, p) for (f, c), (_, p) in zip(served, possible))
    return "; ".join(f"{METHOD_LABELS[kind]}: {passes(kind)}" for kind in srcnn.KINDS)


def note_markdown(outcome: Outcome, notes: tuple[str, ...]) -> str:
    if outcome.mode == "Benchmark":
        gt, lr = outcome.first, outcome.low_res
        lr_size = f"{lr.width}x{lr.height}" if lr is not None else "1/scale of its size"
        saved = (f", saved as a JPEG at quality {outcome.input.quality} (as a phone or a website would)"
                 if outcome.input is not None and outcome.input.quality else "")
        lines = [f"**Benchmark, x{outcome.scale:g}.** The upload ({gt.width}x{gt.height} after cropping to a "
                 f"multiple of {factors.crop_multiple(outcome.scale)}) is the ground truth; it was degraded with "
                 f"MATLAB-style bicubic to {lr_size}{saved} and upscaled back by each method.",
                 f"**Convention:** PSNR and SSIM on the {outcome.convention}; gain: PSNR minus bicubic's, in "
                 "dB. Best quality in bold on green; fastest in italics on blue."]
    else:
        out = outcome.outputs["bicubic"]
        lines = [f"**Upscale, x{outcome.scale:g}.** The upload is the low-resolution input, upscaled to "
                 f"{out.width}x{out.height}. There is no ground truth in this mode, so no PSNR or SSIM: "
                 "judge by eye, or use Benchmark mode to measure. Fastest time in italics on blue."]
    given = outcome.input
    if given is not None:
        lines.append(f"**Input:** {given.describe()}")
    compressed, quality = (given.compressed, given.quality) if given is not None else (False, None)
    if outcome.scale not in srcnn.SCALES or compressed:
        lines.append(f"**Networks at x{outcome.scale:g}:** {served_by(outcome.scale, compressed, quality)}. Which "
                     "network serves which factor and JPEG quality was measured on clean photos and their JPEGs "
                     "(docs/results.md, \"Any factor\" and \"JPEG inputs\").")
    shown = display_note(*outcome.outputs["bicubic"].size, outcome.mode)
    if shown:
        lines.append(shown)
    if outcome.bicubic_alone:
        lines.append(f"**One row:** at x{outcome.scale:g} no network runs, so SRCNN and residual SRCNN give the "
                     "bicubic picture itself, pixel for pixel.")
    lines += [f"Note: {n}" for n in notes]
    return "\n\n".join(lines)


def download_names(photo: str, scale: float, mode: str) -> dict[str, str]:
    """Each result's download name without ".png" (ui.common.PngWriter adds it):
    ``<photo>_x<factor>_<method>``; the first picture is the ``ground-truth`` (Benchmark) or the
    ``input`` (Upscale)."""
    stem = Path(photo).stem or "photo"
    first = "ground-truth" if mode == "Benchmark" else "input"
    return {key: f"{stem}_x{scale:g}_{what}"
            for key, what in (("first", first), *((m, m) for m in srcnn.METHODS))}


def compute(image, scale, mode, progress, low_res=None, networks=None) -> tuple[Outcome, list[str], tuple[str, ...]]:
    """Check the request, take a lane, run it: (outcome, the result files in the order first,
    bicubic, SRCNN, residual, the upload's notes). Refusals raise gr.Error with the message.
    ``low_res``: Benchmark's low-res input (:data:`LOW_RES_CHOICES`); ``networks``: which networks
    serve (:data:`NETWORK_CHOICES`; "Auto" reads an upload's JPEG quality from its file)."""
    mode = mode_from_choice(mode)
    scale = factor_from_text(scale)
    quality, networks = low_res_quality(low_res), networks_setting(networks)
    upscaling = mode == "Upscale"
    try:
        up = read_upload(image, scale, upscaling=upscaling, limits=limits_for(mode))
    except gr.Error as e:
        hint = fit_hint(image, scale) if upscaling and "too large" in str(e.message) else ""
        if hint:
            raise refuse(f"{e.message} {hint}") from None
        raise
    require_weights(scale)
    w, h = up.image.size
    pixels = w * h * (scale * scale if upscaling else 1)
    names = download_names(up.name, scale, mode)
    progress(0, desc="Waiting for a free lane")
    with user_errors(), server.lane(pixels), PngWriter() as pngs:
        t0 = time.perf_counter()
        progress(0, desc="Starting")
        named = NamedPngs(pngs, names)
        if upscaling:
            given = (pipeline.Input.of_file(up.jpeg_quality) if networks == "auto"
                     else pipeline.input_of(up.image, networks))
            outcome = one_row_if_same(run_upscale(up.image, scale, progress, named, given))
        else:
            outcome = one_row_if_same(run_benchmark(up.image, scale, progress, named, quality, networks))
        t1 = time.perf_counter()
        files = pngs.paths(["first", *srcnn.METHODS])
    log_request("/compare", f"{w}x{h} x{scale:g} {mode}",
                {"computing": t1 - t0, **outcome.timings, "PNG writing (beside)": pngs.seconds,
                 "PNG writing (waited for)": pngs.waited, "handler": time.perf_counter() - t0})
    return outcome, files, up.notes


class NamedPngs:
    """A :class:`PngWriter` that gives each picture its download name (:func:`download_names`)."""

    def __init__(self, pngs: PngWriter, names: dict[str, str]):
        self.pngs, self.names = pngs, names

    def add(self, key: str, img: Image.Image) -> None:
        self.pngs.add(key, img, self.names.get(key))


# /compare's outputs (:func:`compare_images` returns them by these names; API callers get them in
# this order, the one app.py wires): the four pictures' files, the metrics table, the note.
API_OUTPUTS = ("first", *srcnn.METHODS, "table", "note")
# The page's Compare button's outputs (:func:`compare_page`): /compare's, the refusal's message
# and the views.
PAGE_OUTPUTS = ("error", *API_OUTPUTS, "slider", "crops", "maps")


def results_by_name(outcome: Outcome, files: list[str], notes: tuple[str, ...]) -> dict:
    """:func:`compute`'s answer by name (:data:`API_OUTPUTS`): each picture's file, the table, the note."""
    return {**dict(zip(("first", *srcnn.METHODS), files)), "table": style_table(outcome),
            "note": note_markdown(outcome, notes)}


def compare_images(image, scale, mode, low_res=LOW_RES_CHOICES[0], networks=NETWORK_CHOICES[0],
                   progress=gr.Progress()) -> dict:
    """The ``/compare`` endpoint: raw upload, scale, mode, Benchmark's low-res input and the
    networks setting in; four images, table and note out, by name (:data:`API_OUTPUTS`). Both
    modes take any factor from 1.1 to 8. Refusals raise gr.Error (API clients get the message)."""
    return results_by_name(*compute(image, scale, mode, progress, low_res, networks))


def cleared(message: str, mode: object) -> dict:
    """The page's outputs by name (:data:`PAGE_OUTPUTS`) after a refused or failed run: the
    message, every view emptied."""
    return {"error": message, "first": None, "bicubic": None, "srcnn": None, "residual": None,
            "table": empty_table(mode), "note": "", "slider": None, "crops": [], "maps": []}


TABLE_COLUMNS = {"Benchmark": ["Method", "PSNR (dB)", GAIN, "SSIM", "Time (s)"],
                 "Upscale": ["Method", "Time (s)", "Output size"]}


def empty_table(mode: object = None) -> pd.DataFrame:
    """The metrics table before any result (or after a refusal): its headers, no rows."""
    return pd.DataFrame(columns=TABLE_COLUMNS[shown_mode(mode)])


def shown_mode(raw: object) -> str:
    """The mode whose table headers to show for the radio's raw value (Benchmark when unclear)."""
    return MODES[1] if str(raw).strip().lower() == MODES[1].lower() else MODES[0]


STALE_TEXT = ("The photo or a setting changed, so the previous results were cleared. "
              "Press Compare for new ones.")


def new_settings(mode=None) -> dict:
    """A new photo, scale or mode (the person's own change, not a run's): the previous results
    are cleared, with a line saying why, so no figure on the page belongs to other settings.
    Outputs by name (:data:`PAGE_OUTPUTS` and ``views_note``)."""
    return {**cleared("", mode), "views_note": "",
            "error": f'<div class="stale-note" role="status">{html.escape(STALE_TEXT)}</div>'}


def compare_page(image, scale, mode, low_res=LOW_RES_CHOICES[0], networks=NETWORK_CHOICES[0],
                 left=VIEW_CHOICES[1], right=VIEW_CHOICES[3], cx=50, cy=50, zoom=4, progress=gr.Progress()):
    """The page's Compare button (and Enter in the scale box): :func:`compare_images`, then the
    slider, crops and maps, all in one answer, by name (:data:`PAGE_OUTPUTS`). A refusal or failure does
    not raise: its message replaces the results, and every view of the previous result is cleared,
    so nothing on the page contradicts it until the next run."""
    try:
        outcome, files, notes = compute(image, scale, mode, progress, low_res, networks)
    except gr.Error as e:
        return cleared(error_html(str(e.message)), mode)
    except Exception as e:                # a fault of ours: logged in full, and said on the page
        log.exception("/compare (page) failed")
        return cleared(error_html(f"The run failed ({type(e).__name__}: {e}). Try again; if it fails again, "
                                  "try another photo or factor."), mode)
    images = [outcome.first, *(outcome.outputs[m] for m in srcnn.METHODS)]
    slider, crops, maps = render_images(*images, left, right, cx, cy, zoom)
    return {"error": "", **results_by_name(outcome, files, notes), "slider": slider, "crops": crops, "maps": maps}


# --------------------------------------------------------------------------- visual comparison

def same_grid(first: Image.Image, others: list[Image.Image]) -> Image.Image:
    """The first image on the outputs' grid: itself (ground truth) or enlarged (input, nearest)."""
    size = others[0].size
    return first if first.size == size else first.resize(size, Image.Resampling.NEAREST)


def zoom_crops(images: dict[str, Image.Image], cx: float, cy: float, zoom: int) -> list:
    """The same region of every image, enlarged ``zoom`` times with nearest neighbour; ``cx``,
    ``cy``: where the region lies, 0..100 % of the room across and down."""
    w, h = next(iter(images.values())).size
    side = crop_side(w, h, zoom)
    left = int(round((w - side) * cx / 100))
    top = int(round((h - side) * cy / 100))
    box = (left, top, left + side, top + side)
    return [(img.crop(box).resize((side * zoom, side * zoom), Image.Resampling.NEAREST),
             f"{name}, {side}x{side} px at ({left}, {top}), x{zoom}") for name, img in images.items()]


def crop_side(width: int, height: int, zoom: int) -> int:
    """The zoomed region's side in px of the outputs (384 px on the page once magnified)."""
    return max(8, min(width, height, 384 // zoom))


def centre_on(x: float, y: float, width: int, height: int, zoom: int) -> tuple[int, int]:
    """The zoom position (across, down in %, as the sliders take it) whose region is centred on
    pixel (x, y) of a ``width`` x ``height`` picture, as near as the picture's edges allow."""
    side = crop_side(width, height, zoom)

    def pct(pos: float, length: int) -> int:
        room = length - side
        return 50 if room <= 0 else int(round(min(max((pos - side / 2) / room, 0.0), 1.0) * 100))
    return pct(x, width), pct(y, height)


def error_maps(gt: Image.Image, outputs: dict[str, Image.Image]) -> list:
    """Each output's error heatmap (srcnn.colormaps.error_map) with its caption."""
    maps = []
    for name, img in outputs.items():
        heat, mean = colormaps.error_map(img, gt, ERROR_RANGE)
        maps.append((heat, f"{name}: mean |error| {mean:.2f} levels"))
    return maps


DISPLAY_PIXELS = 2048 * 2048   # the slider and error maps of larger outputs are shown scaled down to this


def display_factor(width: int, height: int, pixels: int | None = None) -> int:
    """The whole factor a ``width`` x ``height`` picture is reduced by for the page's slider and
    maps (1: shown as it is; else the smallest that brings it within ``pixels``, default
    :data:`DISPLAY_PIXELS`)."""
    return max(1, math.ceil(math.sqrt(width * height / (pixels or DISPLAY_PIXELS))))


def shrunk(img: Image.Image, factor: int) -> Image.Image:
    """``img`` reduced ``factor`` times by averaging factor x factor blocks (itself when 1)."""
    return img if factor == 1 else img.reduce(factor)


def render_images(first, bicubic, sr, residual, left, right, cx, cy, zoom):
    """Slider pair, zoomed crops and error maps from the four pictures (PIL). The crops are the
    outputs' own pixels; the slider and the maps of an output above :data:`DISPLAY_PIXELS` are
    shown reduced (:func:`display_factor`; the note says so, :func:`display_note`)."""
    outs = {"Bicubic": bicubic, "SRCNN": sr, "Residual SRCNN": residual}
    benchmark = first.size == bicubic.size
    base = same_grid(first, list(outs.values()))
    views = {VIEW_CHOICES[0]: base, **outs}
    crops = zoom_crops({("Ground truth" if benchmark else "Input (nearest)"): base, **outs}, cx, cy, int(zoom))
    k = display_factor(*bicubic.size)
    maps = [(shrunk(heat, k), caption + (f" (shown at 1/{k} size)" if k > 1 else ""))
            for heat, caption in error_maps(first, outs)] if benchmark else []
    return (shrunk(views[left], k), shrunk(views[right], k)), crops, maps


def display_note(width: int, height: int, mode: str = "Benchmark") -> str:
    """For the note under the table: how the slider (and in Benchmark mode the error maps) show a
    ``width`` x ``height`` output ("" when as it is; see :func:`display_factor`)."""
    k = display_factor(width, height)
    if k == 1:
        return ""
    views = ("the before/after slider and the error maps show" if mode == "Benchmark"
             else "the before/after slider shows")
    return (f"**Pictures:** {views} the {width}x{height} outputs at 1/{k} "
            f"size ({math.ceil(width / k)}x{math.ceil(height / k)}, {k}x{k} px averaged); the zoomed crops and the "
            "downloads are full size.")



def open_shown(raw) -> Image.Image | None:
    """A picture shown on the page (a raw gr.Image value, a path or a PIL image), read again from
    its stored file, which counts as a use of it (ui.common.use_file: a message when it expired)."""
    if raw is None or isinstance(raw, Image.Image):
        return raw
    path = raw.get("path") if isinstance(raw, dict) else str(raw)
    if not path:
        return None
    with Image.open(common.use_file(path, "results")) as img:
        img.load()
        return img


def render_views(first, bicubic, sr, residual, left, right, cx, cy, zoom):
    """Slider pair, zoomed crops and error maps from the four pictures shown on the page."""
    images = [open_shown(img) for img in (first, bicubic, sr, residual)]
    if any(img is None for img in images):
        return None, [], []
    return render_images(*images, left, right, cx, cy, zoom)


def views_page(first, bicubic, sr, residual, left, right, cx, cy, zoom) -> dict:
    """The page's zoom, magnification and slider choices: :func:`render_views`, outputs by name
    (``slider``, ``crops``, ``maps``, ``views_note``). A refusal (results expired) does not raise:
    its message takes the views' place, and the views are emptied (no bare error badges)."""
    try:
        slider, crops, maps = render_views(first, bicubic, sr, residual, left, right, cx, cy, zoom)
    except gr.Error as e:
        return {"views_note": error_html(str(e.message), "Nothing to zoom into."),
                "slider": None, "crops": [], "maps": []}
    return {"views_note": "", "slider": slider, "crops": crops, "maps": maps}


def centre_zoom_page(clicked, bicubic, zoom, evt: gr.SelectData) -> dict:
    """A click on a picture: :func:`centre_zoom`, outputs by name (``cx``, ``cy``, ``views_note``);
    results that expired say so in place of the views instead of raising."""
    try:
        cx, cy = centre_zoom(clicked, bicubic, zoom, evt)
    except gr.Error as e:
        return {"views_note": error_html(str(e.message), "Nothing to zoom into."), "cx": gr.skip(), "cy": gr.skip()}
    return {"cx": cx, "cy": cy, "views_note": ""}


def shown_size(raw) -> tuple[int, int] | None:
    """(width, height) of a picture shown on the page (a raw gr.Image value), from its file's
    header; a use of the file like :func:`open_shown`."""
    path = raw.get("path") if isinstance(raw, dict) else raw
    if not path:
        return None
    with Image.open(common.use_file(path, "results")) as img:
        return img.size


def centre_zoom(clicked, bicubic, zoom, evt: gr.SelectData):
    """A click on a picture (``clicked``): the zoom sliders' values that centre the region on
    the clicked pixel. The region lies on the outputs' grid (``bicubic``'s): a click on the
    smaller Upscale input is scaled up to it."""
    sizes = [shown_size(img) for img in (clicked, bicubic)]
    if evt is None or evt.index is None or any(size is None for size in sizes):
        return gr.skip(), gr.skip()
    x, y = evt.index[:2]
    (pw, ph), (w, h) = sizes
    return centre_on(x * w / pw, y * h / ph, w, h, int(zoom))
