"""The Compare tab's handlers: ``/compare`` (upload -> four images, metrics, note) and the
visual comparison (slider, zoomed crops, error maps). Numbers come from srcnn."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import gradio as gr
import pandas as pd
from PIL import Image

import srcnn
from srcnn import colormaps, factors, imaging, pipeline
from srcnn.imaging import arrays_to_pil, pil_to_arrays

from . import server
from .common import (METHOD_LABELS, PngWriter, factor_from_choice, log_request, read_upload, refuse, require_weights,
                     scale_from_choice,
                     user_errors)

MODES = ("Benchmark", "Upscale")
VIEW_CHOICES = ("Ground truth / input", "Bicubic", "SRCNN", "Residual SRCNN")
ERROR_RANGE = colormaps.ERROR_RANGE  # luma levels mapped to the top of the colour scale


def mode_from_choice(raw: object) -> str:
    """"Benchmark" or "Upscale" from the radio's raw value (None: Benchmark)."""
    if raw in (None, ""):
        return MODES[0]
    for mode in MODES:
        if str(raw).strip().lower() == mode.lower():
            return mode
    raise refuse(f"Mode must be Benchmark or Upscale; got {raw!r}.")


class TileProgress:
    """Turns srcnn's per-method ``progress(done, total)`` calls into one gr.Progress bar, and
    stops the request between tiles when its client has gone (ui.server.check)."""

    def __init__(self, progress: gr.Progress, stages: tuple[str, ...]):
        self.progress, self.stages = progress, stages
        self.stage, self.last, self.pinned = 0, 0, False

    def start(self, stage: int) -> None:
        """The caller says which method runs now (then a count that starts again is not taken
        for the next method: a factor above x4 runs two passes)."""
        self.stage, self.last, self.pinned = stage, 0, True

    def __call__(self, done: int, total: int) -> None:
        server.check()
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
    scale: int
    first: Image.Image                 # ground truth (Benchmark) or the input (Upscale)
    outputs: dict[str, Image.Image]
    table: pd.DataFrame
    convention: str = ""
    timings: dict[str, float] = field(default_factory=dict)   # seconds per stage (srcnn.Comparison.timings)


def run_benchmark(img: Image.Image, scale: int, progress: gr.Progress, pngs: PngWriter) -> Outcome:
    """srcnn.compare, stopping with the request (ui.server.check), each picture handed to ``pngs``
    (keys "first" and the methods) as soon as it is final."""
    tracker = TileProgress(progress, srcnn.KINDS)
    cmp = srcnn.compare(img, scale, progress=tracker, check=server.check,
                        on_image=lambda name, im: pngs.add("first" if name == "ground truth" else name, im))
    rows = [{"Method": METHOD_LABELS[m], "PSNR (dB)": r.psnr, "SSIM": r.ssim, "Time (s)": r.seconds}
            for m, r in cmp.results.items()]
    return Outcome("Benchmark", scale, cmp.ground_truth, {m: r.image for m, r in cmp.results.items()},
                   pd.DataFrame(rows), cmp.convention, cmp.timings)


def run_upscale(img: Image.Image, scale: float, progress: gr.Progress, pngs: PngWriter) -> Outcome:
    """Every method's srcnn.upscale of the upload, stopping with the request (between tiles and
    the bands of the long steps), each picture handed to ``pngs`` as soon as it is final."""
    tracker = TileProgress(progress, srcnn.KINDS)
    outputs, rows = {}, []
    with imaging.cancellable(server.check):
        first = arrays_to_pil(*pil_to_arrays(img))  # upright, 8-bit, displayable
        pngs.add("first", first)
        for method in srcnn.METHODS:
            server.check()
            if method in srcnn.KINDS:
                tracker.start(srcnn.KINDS.index(method))
            t0 = time.perf_counter()
            outputs[method] = srcnn.upscale(img, scale, method, progress=tracker)
            pngs.add(method, outputs[method])
            rows.append({"Method": METHOD_LABELS[method], "Time (s)": time.perf_counter() - t0,
                         "Output size": f"{outputs[method].width}x{outputs[method].height}"})
    seconds = {"upscaling": sum(r["Time (s)"] for r in rows)}
    return Outcome("Upscale", scale, first, outputs, pd.DataFrame(rows), timings=seconds)


def style_table(outcome: Outcome):
    """The metrics table with the best value of each column in bold on green."""
    best = "font-weight: bold; background-color: #bbf7d0; color: #052e16"
    df = outcome.table
    if outcome.mode == "Benchmark":
        return (df.style.highlight_max(subset=["PSNR (dB)", "SSIM"], props=best)
                .highlight_min(subset=["Time (s)"], props=best)
                .format({"PSNR (dB)": "{:.2f}", "SSIM": "{:.4f}", "Time (s)": "{:.3f}"}))
    return df.style.highlight_min(subset=["Time (s)"], props=best).format({"Time (s)": "{:.3f}"})


def served_by(factor: float) -> str:
    """In words, what srcnn.upscale runs at a factor that is not 2, 3 or 4 (srcnn.factors.plan)."""
    def one(f: float, net: int | str | None) -> str:
        if net in srcnn.SCALES:
            return f"bicubic x{f:g}, then the x{net} networks"
        if net is None:
            return f"bicubic x{f:g} alone (below x1.2 no network beats it)"
        if pipeline.range_model("residual"):
            return f"bicubic x{f:g}, then the networks trained on x1.1 to x2"
        return f"bicubic x{f:g} alone (the networks for x1.1 to x2 are not installed)"
    return "; ".join(one(f, net) for f, net in factors.plan(factor))


def note_markdown(outcome: Outcome, notes: tuple[str, ...]) -> str:
    if outcome.mode == "Benchmark":
        gt = outcome.first
        lines = [f"**Benchmark, x{outcome.scale}.** The upload ({gt.width}x{gt.height} after cropping to a "
                 f"multiple of {outcome.scale}) is the ground truth; it was degraded with MATLAB-style bicubic "
                 f"to {gt.width // outcome.scale}x{gt.height // outcome.scale} and upscaled back by each method.",
                 f"**Convention:** PSNR and SSIM on the {outcome.convention}; best value in bold."]
    else:
        out = outcome.outputs["bicubic"]
        lines = [f"**Upscale, x{outcome.scale:g}.** The upload is the low-resolution input, upscaled to "
                 f"{out.width}x{out.height}. There is no ground truth in this mode, so no PSNR or SSIM: "
                 "judge by eye, or use Benchmark mode to measure."]
        if outcome.scale not in srcnn.SCALES:
            lines.append(f"**Networks at x{outcome.scale:g}:** {served_by(outcome.scale)} (which network serves "
                         "which factor was measured on Set5 and Set14: docs/results.md, \"Any factor\").")
    lines += [f"Note: {n}" for n in notes]
    return "\n\n".join(lines)


def compare_images(image, scale, mode, progress=gr.Progress()):
    """The ``/compare`` endpoint: raw upload, scale and mode in; four images, table and note out.
    Benchmark mode measures at x2, x3 or x4; Upscale mode takes any factor from 1.1 to 8."""
    mode = mode_from_choice(mode)
    scale = factor_from_choice(scale) if mode == "Upscale" else scale_from_choice(scale)
    up = read_upload(image, scale, upscaling=(mode == "Upscale"))
    require_weights(scale)
    w, h = up.image.size
    pixels = w * h * (scale * scale if mode == "Upscale" else 1)
    progress(0, desc="Waiting for a free lane")
    with user_errors(), server.lane(pixels), PngWriter() as pngs:
        t0 = time.perf_counter()
        progress(0, desc="Starting")
        outcome = (run_benchmark if mode == "Benchmark" else run_upscale)(up.image, scale, progress, pngs)
        t1 = time.perf_counter()
        files = pngs.paths(["first", *srcnn.METHODS])
    log_request("/compare", f"{w}x{h} x{scale} {mode}",
                {"computing": t1 - t0, **outcome.timings, "PNG writing (beside)": pngs.seconds,
                 "PNG writing (waited for)": pngs.waited, "handler": time.perf_counter() - t0})
    return (*files, style_table(outcome), note_markdown(outcome, up.notes))


# --------------------------------------------------------------------------- visual comparison

def same_grid(first: Image.Image, others: list[Image.Image]) -> Image.Image:
    """The first image on the outputs' grid: itself (ground truth) or enlarged (input, nearest)."""
    size = others[0].size
    return first if first.size == size else first.resize(size, Image.Resampling.NEAREST)


def zoom_crops(images: dict[str, Image.Image], cx: float, cy: float, zoom: int) -> list:
    """The same region of every image, enlarged ``zoom`` times with nearest neighbour."""
    w, h = next(iter(images.values())).size
    side = max(8, min(w, h, 384 // zoom))
    left = int(round((w - side) * cx / 100))
    top = int(round((h - side) * cy / 100))
    box = (left, top, left + side, top + side)
    return [(img.crop(box).resize((side * zoom, side * zoom), Image.Resampling.NEAREST),
             f"{name}, {side}x{side} px at ({left}, {top}), x{zoom}") for name, img in images.items()]


def error_maps(gt: Image.Image, outputs: dict[str, Image.Image]) -> list:
    """Each output's error heatmap (srcnn.colormaps.error_map) with its caption."""
    maps = []
    for name, img in outputs.items():
        heat, mean = colormaps.error_map(img, gt, ERROR_RANGE)
        maps.append((heat, f"{name}: mean |error| {mean:.2f} levels"))
    return maps


def render_views(first, bicubic, sr, residual, left, right, cx, cy, zoom):
    """Slider pair, zoomed crops and error maps from the four images shown on the page."""
    if any(img is None for img in (first, bicubic, sr, residual)):
        return None, [], []
    outs = {"Bicubic": bicubic, "SRCNN": sr, "Residual SRCNN": residual}
    benchmark = first.size == bicubic.size
    base = same_grid(first, list(outs.values()))
    views = {VIEW_CHOICES[0]: base, **outs}
    crops = zoom_crops({("Ground truth" if benchmark else "Input (nearest)"): base, **outs}, cx, cy, int(zoom))
    maps = error_maps(first, outs) if benchmark else []
    return (views[left], views[right]), crops, maps
