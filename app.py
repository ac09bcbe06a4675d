"""SRCNN Studio in the browser: upload a photo, see bicubic, SRCNN and residual SRCNN side by side.

Run ``python app.py`` (127.0.0.1:7860; ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` override).
The same file is the entry point of the Hugging Face Space (README front matter: app_file).

This file only reads uploads, lays out the page and formats results. Every number comes from
the ``srcnn`` package (``compare``, ``upscale``, ``psnr``/``ssim`` conventions, weights).

Two modes:

* **Benchmark** (default): the upload is the ground truth; ``srcnn.compare`` degrades it,
  upscales with each method and measures PSNR/SSIM against it.
* **Upscale**: the upload is the low-resolution input; no ground truth, so no PSNR.

Named API endpoint ``/compare`` (image, scale, mode) -> (first image, bicubic, SRCNN,
residual SRCNN, metrics table, note); see README.md, "The app".

Tab "Inside the study" (srcnn.insight): the original study's stitchings, what each network adds
and early vs late training on the upload. Named API endpoint ``/inside_study`` (image, scale) ->
(PSNR table, how compared, seam crops, what-adds maps, their note, early-vs-late note, SRCNN
snapshots, residual snapshots, snapshot table, gain curve, sentences, timing); see README.md, "The Inside the study tab".
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import gradio as gr
import pandas as pd
from PIL import Image, UnidentifiedImageError

import srcnn
from srcnn import insight, pipeline, weights
from srcnn.imaging import arrays_to_pil, pil_to_arrays

log = logging.getLogger("srcnn.app")

ROOT = Path(__file__).resolve().parent
EXAMPLES_DIR = ROOT / "examples"

MODES = ("Benchmark", "Upscale")
METHOD_LABELS = {"bicubic": "Bicubic", "srcnn": "SRCNN", "residual": "Residual SRCNN"}
NETWORKS = tuple(m for m in srcnn.METHODS if m != "bicubic")

# Limits. Output pixels bound the work (two networks and the metrics run on the output grid);
# at 4.2 MP (2048 x 2048, x3) a request takes 9-10 s on 2 CPU cores, 1 MP about 2-3 s (bench_app.py).
MAX_OUTPUT_PIXELS = 2048 * 2048
MAX_SIDE = 8192          # px, either side of the upload (a 1 x huge strip is refused too)
MIN_SIDE = 16            # px, either side of the upload
MAX_FILE_SIZE = "25mb"   # enforced by Gradio on upload (launch(max_file_size=...))
CONCURRENCY = 2          # requests computed at once; the others wait in the queue
QUEUE_SIZE = 16          # requests waiting at most; more get "queue full"

# Links to the README's explanations (on a Space, SPACE_ID gives the repo; else an override).
README_SECTIONS = {"the residual idea": "the-residual-idea", "the tiling fix": "the-tiling-fix"}


def tile_size() -> int:
    """Tile size for the networks (pipeline.DEFAULT_TILE once it exists)."""
    return int(getattr(pipeline, "DEFAULT_TILE", 256))


def size_limit_text() -> str:
    return (f"Limits: output up to {MAX_OUTPUT_PIXELS / 1e6:.1f} megapixels (e.g. 2048x2048; in Upscale "
            f"mode that is the input times the scale squared), sides {MIN_SIDE} to {MAX_SIDE} px, "
            f"files up to {MAX_FILE_SIZE.upper()}.")


# --------------------------------------------------------------------------- reading uploads

@dataclass
class Upload:
    """An upload opened lazily (header read, pixels not yet decoded) plus notes for the user."""
    image: Image.Image
    name: str
    notes: list[str] = field(default_factory=list)


def upload_path(raw: object) -> tuple[str, str]:
    """(path, display name) from the raw value of a gr.Image event with preprocess=False."""
    if raw is None:
        raise gr.Error("Upload a photo first (PNG, JPEG, WebP, BMP, TIFF or GIF).")
    if isinstance(raw, dict):
        path = raw.get("path")
        name = raw.get("orig_name") or Path(str(path)).name
    else:
        path = str(raw)
        name = Path(path).name
    if not path or not Path(path).is_file():
        raise gr.Error("The upload did not arrive; try again.")
    return str(path), str(name)


def check_scale(raw: object) -> int:
    """2, 3 or 4 from the radio's raw value (an API caller may send 3, "3", "x3" or "×3")."""
    text = str(raw).strip().lower().lstrip("x×")
    if text in ("2", "3", "4"):
        return int(text)
    raise gr.Error(f"Scale must be 2, 3 or 4 (x2, x3, x4); got {raw!r}.")


def check_mode(raw: object) -> str:
    if raw in (None, ""):
        return MODES[0]
    for mode in MODES:
        if str(raw).strip().lower() == mode.lower():
            return mode
    raise gr.Error(f"Mode must be Benchmark or Upscale; got {raw!r}.")


def open_upload(raw: object) -> Upload:
    """Open the upload and read its header only; refuse non-images and decompression bombs."""
    path, name = upload_path(raw)
    if os.path.getsize(path) == 0:
        raise gr.Error(f"{name} is empty (0 bytes).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise gr.Error(f"{name} declares more pixels than this app will decode (a possible decompression "
                       f"bomb). {size_limit_text()}") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise gr.Error(f"{name} is not an image this app can read. Upload a PNG, JPEG, WebP, BMP, "
                       "TIFF or GIF photo.") from None
    return Upload(image, name)


def check_size(up: Upload, scale: int, mode: str) -> None:
    """Refuse, from the header's size, images too small or too large for the mode and scale."""
    w, h = up.image.size
    if w < MIN_SIDE or h < MIN_SIDE:
        raise gr.Error(f"{up.name} is {w}x{h} px: too small. Upload at least {MIN_SIDE}x{MIN_SIDE} px.")
    out_w, out_h = (w, h) if mode == "Benchmark" else (w * scale, h * scale)
    if max(w, h) > MAX_SIDE or out_w * out_h > MAX_OUTPUT_PIXELS:
        what = "the ground truth" if mode == "Benchmark" else f"the x{scale} output"
        raise gr.Error(f"{up.name} is {w}x{h} px, so {what} would be {out_w}x{out_h} "
                       f"({out_w * out_h / 1e6:.1f} MP): too large. {size_limit_text()} "
                       "Crop or downscale it first.")


def describe_input(up: Upload) -> None:
    """Add a note for every input property the pipeline handles by a rule the user should know."""
    img = up.image
    frames = getattr(img, "n_frames", 1)
    if frames > 1:
        up.notes.append(f"Animated image ({frames} frames): only the first frame was used.")
    orientation = img.getexif().get(0x0112, 1)
    if orientation not in (1, None):
        up.notes.append(f"EXIF orientation {orientation} applied: the photo is processed upright.")
    mode = img.mode
    if mode == "CMYK":
        up.notes.append("CMYK image: converted to RGB (Pillow's conversion, no colour profile).")
    elif mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        up.notes.append("16-bit grayscale image: read at full precision; results are 8-bit PNGs.")
    elif mode in ("1", "L"):
        up.notes.append("Grayscale image: stays grayscale.")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        up.notes.append("Transparent image: the networks work on the colours; the alpha channel is upscaled "
                        "bicubically and kept in the PNGs. PSNR/SSIM ignore alpha.")


def decode(up: Upload) -> None:
    """Decode the pixels (after every size check); a truncated or corrupt file gets a message."""
    try:
        up.image.load()
    except Exception:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError... on bad data
        raise gr.Error(f"{up.name} could not be decoded (truncated or corrupt file).") from None


# --------------------------------------------------------------------------- running

class TileProgress:
    """Turns srcnn's per-method ``progress(done, total)`` calls into one gr.Progress bar."""

    def __init__(self, progress: gr.Progress, stages: tuple[str, ...]):
        self.progress, self.stages = progress, stages
        self.stage, self.last = 0, 0

    def start(self, stage: int) -> None:
        self.stage, self.last = stage, 0

    def __call__(self, done: int, total: int) -> None:
        if done <= self.last and self.stage + 1 < len(self.stages):  # the next method started
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


def run_benchmark(img: Image.Image, scale: int, progress: gr.Progress) -> Outcome:
    tracker = TileProgress(progress, NETWORKS)
    cmp = srcnn.compare(img, scale, tile=tile_size(), progress=tracker)
    rows = [{"Method": METHOD_LABELS[m], "PSNR (dB)": r.psnr, "SSIM": r.ssim, "Time (s)": r.seconds}
            for m, r in cmp.results.items()]
    return Outcome("Benchmark", scale, cmp.ground_truth, {m: r.image for m, r in cmp.results.items()},
                   pd.DataFrame(rows), cmp.convention)


def run_upscale(img: Image.Image, scale: int, progress: gr.Progress) -> Outcome:
    tracker = TileProgress(progress, NETWORKS)
    outputs, rows = {}, []
    for method in srcnn.METHODS:
        if method in NETWORKS:
            tracker.start(NETWORKS.index(method))
        t0 = time.perf_counter()
        outputs[method] = srcnn.upscale(img, scale, method, tile=tile_size(), progress=tracker)
        rows.append({"Method": METHOD_LABELS[method], "Time (s)": time.perf_counter() - t0,
                     "Output size": f"{outputs[method].width}x{outputs[method].height}"})
    first = arrays_to_pil(*pil_to_arrays(img))  # upright, 8-bit, displayable
    return Outcome("Upscale", scale, first, outputs, pd.DataFrame(rows))


def require_weights(scale: int) -> None:
    """A clear message when a scale's trained weights are missing (both Hub and bundled)."""
    for kind in NETWORKS:
        try:
            pipeline.model_for(kind, scale)
        except FileNotFoundError:
            available = [f"x{s}" for s in srcnn.SCALES if weights_available(s)]
            raise gr.Error(f"No {METHOD_LABELS[kind]} weights for x{scale} yet (neither on the Hub nor "
                           f"bundled). Available: {', '.join(available) or 'none'}.") from None


def weights_available(scale: int) -> bool:
    return all(isinstance(w, weights.WeightsSource) for w in (resolve(k, scale) for k in NETWORKS))


# --------------------------------------------------------------------------- formatting

def style_table(outcome: Outcome):
    """The metrics table with the best value of each column in bold on green."""
    best = "font-weight: bold; background-color: #bbf7d0; color: #052e16"
    df = outcome.table
    if outcome.mode == "Benchmark":
        return (df.style.highlight_max(subset=["PSNR (dB)", "SSIM"], props=best)
                .highlight_min(subset=["Time (s)"], props=best)
                .format({"PSNR (dB)": "{:.2f}", "SSIM": "{:.4f}", "Time (s)": "{:.3f}"}))
    return df.style.highlight_min(subset=["Time (s)"], props=best).format({"Time (s)": "{:.3f}"})


def note_markdown(outcome: Outcome, up: Upload) -> str:
    if outcome.mode == "Benchmark":
        gt = outcome.first
        lines = [f"**Benchmark, x{outcome.scale}.** The upload ({gt.width}x{gt.height} after cropping to a "
                 f"multiple of {outcome.scale}) is the ground truth; it was degraded with MATLAB-style bicubic "
                 f"to {gt.width // outcome.scale}x{gt.height // outcome.scale} and upscaled back by each method.",
                 f"**Convention:** PSNR and SSIM on the {outcome.convention}; best value in bold."]
    else:
        out = outcome.outputs["bicubic"]
        lines = [f"**Upscale, x{outcome.scale}.** The upload is the low-resolution input, upscaled to "
                 f"{out.width}x{out.height}. There is no ground truth in this mode, so no PSNR or SSIM: "
                 "judge by eye, or use Benchmark mode to measure."]
    lines += [f"Note: {n}" for n in up.notes]
    return "\n\n".join(lines)


def png_file(img: Image.Image) -> str:
    """``img`` written as a lossless PNG at zlib level 1 into Gradio's cache; its path.

    Gradio would save a PIL output at PIL's default level (6): the same pixels, about 3x
    slower to write (0.43 s against 1.47 s for four 2-megapixel results, measured) for files
    about 7% smaller. Gradio serves a returned path as it is; downloads stay lossless PNGs.
    """
    from gradio.utils import get_upload_folder
    raw = img.tobytes()
    key = hashlib.sha256(f"{img.mode}{img.size}".encode() + raw).hexdigest()[:32]
    folder = Path(get_upload_folder()) / "srcnn" / key
    path = folder / "image.png"
    if not path.is_file():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"image.{threading.get_ident()}.tmp"
        img.save(tmp, format="PNG", compress_level=1)
        tmp.replace(path)
    return str(path)


_PNG_WRITERS = ThreadPoolExecutor(2, thread_name_prefix="png")


def png_files(images: list[Image.Image]) -> list[str]:
    """:func:`png_file` of each image, in order, two written at once (zlib releases the GIL:
    1.7x faster on two cores, measured); put the largest first."""
    return list(_PNG_WRITERS.map(png_file, images))


def compare_images(image, scale, mode, progress=gr.Progress()):
    """The ``/compare`` endpoint: raw upload, scale and mode in; four images, table and note out."""
    scale, mode = check_scale(scale), check_mode(mode)
    up = open_upload(image)
    check_size(up, scale, mode)
    decode(up)
    describe_input(up)
    require_weights(scale)
    progress(0, desc="Starting")
    try:
        outcome = (run_benchmark if mode == "Benchmark" else run_upscale)(up.image, scale, progress)
    except ValueError as e:  # srcnn's messages are written for users
        raise gr.Error(str(e)) from None
    except MemoryError:
        raise gr.Error("Out of memory for this image: try a smaller one.") from None
    return (*png_files([outcome.first, *(outcome.outputs[m] for m in srcnn.METHODS)]),
            style_table(outcome), note_markdown(outcome, up))


# --------------------------------------------------------------------------- visual comparison

VIEW_CHOICES = ("Ground truth / input", "Bicubic", "SRCNN", "Residual SRCNN")
ERROR_RANGE = insight.ERROR_RANGE  # luma levels mapped to the top of the colour scale


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
    """Each output's error heatmap (srcnn.insight.error_map) with its caption."""
    maps = []
    for name, img in outputs.items():
        heat, mean = insight.error_map(img, gt, ERROR_RANGE)
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


# --------------------------------------------------------------------------- page

_RESOLVED: dict[tuple[str, int], weights.WeightsSource | str] = {}


def resolve(kind: str, scale: int) -> weights.WeightsSource | str:
    """Where ``kind`` x``scale`` weights come from, or why there are none (cached once found)."""
    found = _RESOLVED.get((kind, scale))
    if not isinstance(found, weights.WeightsSource):
        try:
            found = weights.resolve_weights(kind, scale)
        except FileNotFoundError:
            found = "not available yet"
        _RESOLVED[(kind, scale)] = found
    return found


def repo_file_url(path: str) -> str | None:
    """URL of a file of this repo when running as a Space (SPACE_ID is set there), else None."""
    space = os.environ.get("SPACE_ID")
    return f"https://huggingface.co/spaces/{space}/blob/main/{path}" if space else None


def readme_url() -> str | None:
    return os.environ.get("SRCNN_README_URL") or repo_file_url("README.md")


def weights_markdown() -> str:
    """Which weights each network uses at each scale, with model card links."""
    rows = ["| Scale | SRCNN | Residual SRCNN |", "|---|---|---|"]
    for scale in srcnn.SCALES:
        cells = []
        for kind in NETWORKS:
            src = resolve(kind, scale)
            if isinstance(src, str):
                cells.append(src)
                continue
            if src.origin == "hub":
                url = f"https://huggingface.co/{src.repo_id}/tree/main/{weights.subfolder(kind, scale)}"
            else:
                url = repo_file_url(f"checkpoints/{weights.subfolder(kind, scale)}/README.md")
            card = f" ([model card]({url}))" if url else f" (model card: `{src.folder.name}/README.md`)"
            cells.append(src.describe() + card)
        rows.append(f"| x{scale} | " + " | ".join(cells) + " |")
    return (f"**Weights loaded** (Hub repo `{weights.repo_id()}`, set `{weights.REPO_ENV}` to use another; "
            "bundled copies are the fallback):\n\n" + "\n".join(rows))


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


def add_examples(inputs: list, outputs: list) -> None:
    """The bundled photos, cached on first use."""
    files = example_files()
    if not files:
        return
    gr.Examples([[str(p), 3, "Benchmark"] for p in files], inputs, outputs, fn=compare_images,
                cache_examples=True, cache_mode="lazy", preprocess=False, label="Examples",
                example_labels=[example_label(p) for p in files])
    gr.Markdown("Example photos: Chelsea and Coffee (scikit-image, CC0), Flower (scikit-learn, vultilion on "
                "Flickr, CC BY 2.0), Grace Hopper (matplotlib, U.S. Navy, public domain); details in "
                "`examples/CREDITS.md`.")


def build_compare_tab() -> None:
    """The upload-and-compare tab (inside a gr.Tabs)."""
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            image = gr.Image(label="Photo", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                             elem_id="upload")
            scale = gr.Radio([("x2", 2), ("x3", 3), ("x4", 4)], value=3, label="Scale", elem_id="scale")
            mode = gr.Radio(list(MODES), value=MODES[0], label="Mode", elem_id="mode",
                            info="Benchmark: the upload is the ground truth, it is degraded then restored and "
                                 "measured. Upscale: the upload is the low-resolution input; nothing to measure.")
            run = gr.Button("Compare", variant="primary", elem_id="run")
            gr.Markdown(size_limit_text())
            examples_column = gr.Column()  # filled below, once the outputs exist
        with gr.Column(scale=2):
            table = gr.Dataframe(label="Metrics", interactive=False, elem_id="metrics")
            note = gr.Markdown(elem_id="note")
    buttons = ["download", "fullscreen"]
    with gr.Row():
        first = gr.Image(label="Ground truth (Benchmark) or input (Upscale)", type="pil", format="png",
                         interactive=False, buttons=buttons, elem_id="out-first")
        outs = [gr.Image(label=f"{METHOD_LABELS[m]} (PNG, full resolution)", type="pil", format="png",
                         interactive=False, buttons=buttons, elem_id=f"out-{m}") for m in srcnn.METHODS]
    with gr.Row():
        left = gr.Dropdown(list(VIEW_CHOICES), value="Bicubic", label="Slider: left")
        right = gr.Dropdown(list(VIEW_CHOICES), value="Residual SRCNN", label="Slider: right")
    slider = gr.ImageSlider(label="Before / after", format="png", interactive=False, buttons=buttons)
    with gr.Row():
        cx = gr.Slider(0, 100, value=50, step=1, label="Zoom region: across (%)")
        cy = gr.Slider(0, 100, value=50, step=1, label="Zoom region: down (%)")
        zoom = gr.Radio([2, 4, 8], value=4, label="Magnification")
    crops = gr.Gallery(label="Same region, every method (nearest-neighbour magnified)", columns=4,
                       format="png", height="auto", elem_id="crops")
    maps = gr.Gallery(label=f"Error maps: |output - ground truth| on Y, black 0 to yellow {ERROR_RANGE:g}+ "
                            "levels (Benchmark mode only)", columns=3, format="png", height="auto",
                      elem_id="maps")

    outputs = [first, *outs, table, note]
    run.click(compare_images, [image, scale, mode], outputs, api_name="compare", preprocess=False)
    with examples_column:
        add_examples([image, scale, mode], outputs)
    view_inputs = [first, *outs, left, right, cx, cy, zoom]
    for trigger in (outs[-1].change, left.change, right.change, cx.release, cy.release, zoom.change):
        trigger(render_views, view_inputs, [slider, crops, maps], api_visibility="private")


# --------------------------------------------------------------------------- inside the study

STITCHINGS = {"exact": "Exact", "original": "Original (21-px pitch)",
              "overlap-removed": "Overlap removed (14-px pitch)"}
STITCHING_NOTES = {
    "exact": "every output pixel computed once, on the ground truth's grid",
    "original": "the study's code: 33x33 patches 14 px apart, outputs pasted 21 px apart, so a 7-px band "
                "repeats at every seam",
    "overlap-removed": "the study's fix: outputs pasted 14 px apart, no repeats, still 6 px off",
}
STUDY_KIND = "residual"   # the model whose stitchings are shown


def study_view(image, scale) -> tuple[insight.InsideView, Upload]:
    """Check the upload as the compare tab does (Benchmark mode), then srcnn.insight's views of it
    (cached per file and scale: the seam toggle and repeated requests reuse one upscaling)."""
    scale = check_scale(scale)
    up = open_upload(image)
    check_size(up, scale, "Benchmark")
    decode(up)
    describe_input(up)
    require_weights(scale)
    try:
        return insight.inside_view_of_file(upload_path(image)[0], scale, STUDY_KIND), up
    except ValueError as e:  # srcnn's messages are written for users
        raise gr.Error(f"{up.name}: {e}") from None
    except MemoryError:
        raise gr.Error("Out of memory for this image: try a smaller one.") from None


def stitching_table(view: insight.InsideView):
    """PSNR of each stitching against the ground truth, as compared and after aligning; bicubic below."""
    rows = []
    for name, sc in view.report.scores.items():
        h, w = view.report.stitched[name].luma.shape
        rows.append({"Stitching": STITCHINGS[name], "Output": f"{w}x{h}", "As compared": sc.naive,
                     "Shift (px)": sc.offset, "Aligned": sc.aligned, "At source": sc.at_source})
    bic = insight.bicubic_psnr(view.prep)
    gt = view.prep.gt
    rows.append({"Stitching": "Bicubic (reference)", "Output": f"{gt.width}x{gt.height}", "As compared": bic,
                 "Shift (px)": 0, "Aligned": bic, "At source": bic})
    return pd.DataFrame(rows).style.format({c: "{:.2f}" for c in ("As compared", "Aligned", "At source")})


def how_compared_markdown(view: insight.InsideView, up: Upload) -> str:
    """How each stitching met the ground truth, and which part of its loss is offset or repetition."""
    gt, scale = view.prep.gt, view.prep.scale
    lines = [f"**How they were compared** ({METHOD_LABELS[STUDY_KIND]}, x{scale}): PSNR on the Y channel (BT.601), "
             f"peak 255, {scale} px border shaved, against the {gt.width}x{gt.height} ground truth. *As compared*: "
             "top-left corners overlaid, common area only (what comparing the study's picture with the ground "
             "truth amounts to). *Aligned*: shifted back by the valid convolutions' 6 px first. *At source*: every "
             "output pixel against the ground-truth pixel it was computed for."]
    for name, sc in view.report.scores.items():
        if name == "exact":
            lines.append(f"- **{STITCHINGS[name]}** ({STITCHING_NOTES[name]}): {sc.naive:.2f} dB.")
            continue
        lines.append(f"- **{STITCHINGS[name]}** ({STITCHING_NOTES[name]}): {sc.compared}. "
                     f"{sc.naive:.2f} dB as compared, {sc.aligned:.2f} dB aligned ({sc.offset} px): the offset "
                     f"accounts for {sc.aligned - sc.naive:+.2f} dB; {sc.at_source - sc.aligned:.2f} dB more is lost "
                     f"to repeated bands and the drift they cause ({sc.at_source:.2f} dB at source).")
    lines += [f"Note: {n}" for n in up.notes]
    return "\n\n".join(lines)


def seam_gallery(view: insight.InsideView) -> list:
    names = {"ground truth": "Ground truth", **STITCHINGS}
    return [(img, names[k]) for k, img in view.seam_crops.items()]


def adds_gallery(view: insight.InsideView, zoom: int = 4) -> list:
    """Each network's signed map, whole and zoomed on the early-vs-late crop."""
    full = [(a.image, f"{METHOD_LABELS[k]}: RMS {a.rms:.2f} levels") for k, a in view.adds.items()]
    left, top, right, bottom = view.crop_box
    zoomed = [(a.image.crop(view.crop_box).resize(((right - left) * zoom, (bottom - top) * zoom), Image.NEAREST),
               f"{METHOD_LABELS[k]}, zoomed x{zoom}") for k, a in view.adds.items()]
    return full + zoomed


def adds_markdown(view: insight.InsideView) -> str:
    a = next(iter(view.adds.values()))
    rms = ", ".join(f"{METHOD_LABELS[k]} **{v.rms:.2f}**" for k, v in view.adds.items())
    return (f"Output minus bicubic on Y (exact path), amplified **x{a.gain:g}**: blue where the network darkens, "
            f"white where it changes nothing, red where it brightens; +-{a.saturation:.1f} levels reach the ends "
            f"of the colour scale. RMS of the difference in 8-bit levels of Y ({view.prep.scale} px border "
            f"shaved): {rms}.")


def snapshot_gallery(view: insight.InsideView, kind: str) -> list:
    """Ground truth and bicubic crops, then the same crop from each snapshot of ``kind``, with PSNR."""
    results = view.snapshots[kind]
    refs = insight.reference_crops(view)
    bic = f": {results[0].psnr - results[0].gain:.2f} dB" if results else ""
    items = [(refs["ground truth"], "Ground truth"), (refs["bicubic"], f"Bicubic{bic}")]
    return items + [(r.crop, f"Step {r.step:,}: {r.psnr:.2f} dB") for r in results]


def early_table_markdown(view: insight.InsideView) -> str:
    """Snapshot PSNRs of both models side by side, by step: the figures under the crops."""
    by_step: dict[int, dict[str, insight.SnapshotResult]] = {}
    for kind in insight.KINDS:
        for r in view.snapshots[kind]:
            by_step.setdefault(r.step, {})[kind] = r
    if not by_step:
        return "No snapshots to compare: see the notes above."
    head = "| Step (share of the run) | " + " | ".join(f"{METHOD_LABELS[k]}: PSNR (gain over bicubic)"
                                                    for k in insight.KINDS) + " |"
    lines = [head, "|---" * (1 + len(insight.KINDS)) + "|"]
    for step, results in sorted(by_step.items()):
        share = next(iter(results.values())).fraction
        cells = [f"{results[k].psnr:.2f} dB ({results[k].gain:+.2f})" if k in results else "no snapshot"
                 for k in insight.KINDS]
        lines.append(f"| {step:,} ({share:.0%}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def early_markdown(view: insight.InsideView) -> str:
    left, top, right, bottom = view.crop_box
    if view.region is None:
        where = "the whole photo"
    else:
        rl, rt, rr, rb = view.region
        where = f"the {rr - rl}x{rb - rt} px region around the crop (not the whole photo, for speed)"
    notes = [view.snapshot_notes[k] for k in insight.KINDS] + [view.history_notes[k] for k in insight.KINDS]
    return (f"The same {right - left}x{bottom - top} px crop at ({left}, {top}), where bicubic misses most, x4, "
            f"from snapshots saved during training. PSNR on the Y channel, {view.prep.scale} px shaved, on {where}."
            "\n\n" + "\n".join(f"- {n}." for n in notes))


def gain_curve_frame(view: insight.InsideView) -> pd.DataFrame:
    rows = [{**r, "model": METHOD_LABELS[r["model"]]} for r in view.curve]
    return pd.DataFrame(rows, columns=["step", "model", "gain_db"])


def timing_markdown(view: insight.InsideView, wall: float) -> str:
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in view.seconds.items() if k != "total")
    return (f"Computed in {view.seconds['total']:.1f} s ({parts}; the other network and the snapshots run "
            f"beside the stitchings); this request took {wall:.1f} s with the pictures written. "
            "Every view uses the same upscaling, kept for the two most recent photos.")


def inside_study(image, scale, seams=True, progress=gr.Progress()):
    """The ``/inside_study`` endpoint: raw upload, scale and the seam toggle in; the tab's tables,
    galleries and text, then the full-size ground truth and three stitchings (PNG files) out.
    Every picture is written in one go, two at a time (:func:`png_files`)."""
    t0 = time.perf_counter()
    progress(0, desc="Upscaling, stitching three ways, running the snapshots")
    view, up = study_view(image, scale)
    full = [view.prep.gt, view.report.stitched["exact"].image(), *study_stitchings(view, bool(seams))]
    galleries = [seam_gallery(view), adds_gallery(view), snapshot_gallery(view, "srcnn"),
                 snapshot_gallery(view, "residual")]
    paths = iter(png_files(full + [img for gallery in galleries for img, _ in gallery]))   # largest first
    full = [next(paths) for _ in full]
    crops, adds, early_srcnn, early_residual = [[(next(paths), caption) for _, caption in g] for g in galleries]
    return (stitching_table(view), how_compared_markdown(view, up), crops, adds, adds_markdown(view),
            early_markdown(view), early_srcnn, early_residual, early_table_markdown(view), gain_curve_frame(view),
            view.sentences, timing_markdown(view, time.perf_counter() - t0), *full)


def study_stitchings(view: insight.InsideView, seams: bool) -> list[Image.Image]:
    """The original and overlap-removed stitchings, seams drawn as 1-px lines when asked."""
    stitched = [view.report.stitched[name] for name in ("original", "overlap-removed")]
    return [insight.draw_seams(st.image(), st.seams_x, st.seams_y) if seams else st.image() for st in stitched]


def seam_images(image, scale, seams: bool) -> list:
    """:func:`study_stitchings` of the cached view as PNG files (the seam toggle); nothing changes
    while there is no photo."""
    if image is None:
        return [gr.skip(), gr.skip()]
    return png_files(study_stitchings(study_view(image, scale)[0], seams))


STUDY_INTRO = (
    "## Inside the study\nA 2018 study of an SRCNN TensorFlow port found three things; here they are on your photo "
    "(the ground truth: it is degraded, then restored), with the residual model. **1.** Its pictures broke because "
    "of stitching: 33x33 patches cut 14 px apart, their 21x21 outputs pasted 21 px apart, so 7-px bands repeat and "
    "the whole picture sits 6 px off. **2.** The residual variant looked better early in training. **3.** After "
    "long training \"the loss was low enough, yet the result was poor\". Background: README.md, 'What broke the original study'.")


def build_study_tab() -> None:
    """The "Inside the study" tab (inside a gr.Tabs): layout and events only; srcnn.insight computes."""
    gr.Markdown(STUDY_INTRO)
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            image = gr.Image(label="Photo (the ground truth)", type="filepath", image_mode=None,
                             sources=["upload", "clipboard"], elem_id="study-upload")
            scale = gr.Radio([("x2", 2), ("x3", 3), ("x4", 4)], value=3, label="Scale", elem_id="study-scale")
            run = gr.Button("Look inside", variant="primary", elem_id="study-run")
            gr.Markdown(size_limit_text())
            examples_column = gr.Column(elem_id="study-examples")
        with gr.Column(scale=2):
            table = gr.Dataframe(label="PSNR-Y (dB) against the ground truth, per stitching", interactive=False,
                                 elem_id="study-psnr")
            how = gr.Markdown(elem_id="study-how")
    seams = gr.Checkbox(True, label="Draw the seams (1-px magenta lines where each pasted output begins)",
                        elem_id="study-seams")
    buttons = ["download", "fullscreen"]
    with gr.Row():
        images = [gr.Image(label=label, type="pil", format="png", interactive=False, buttons=buttons,
                           elem_id=f"study-{key}")
                  for key, label in (("gt", "Ground truth"), *((k, f"{v} stitching") for k, v in STITCHINGS.items()))]
    crops = gr.Gallery(label="Zoomed across one seam crossing: the same part of the photo in each, 42x42 px, x4",
                       columns=4, format="png", height=320, elem_id="study-crops")
    gr.Markdown("### What the network adds")
    adds = gr.Gallery(label="Output - bicubic on Y, signed, amplified (whole photo, then zoomed on the crop below)",
                      columns=4, format="png", height=320, elem_id="study-adds")
    adds_note = gr.Markdown(elem_id="study-adds-note")
    gr.Markdown("### Early vs late training")
    early_note = gr.Markdown(elem_id="study-early-note")
    early = [gr.Gallery(label=f"{METHOD_LABELS[k]} snapshots", columns=5, format="png", height=270,
                        elem_id=f"study-early-{k}") for k in insight.KINDS]
    early_table = gr.Markdown(elem_id="study-early-table")
    curve = gr.LinePlot(x="step", y="gain_db", color="model",
                        title="Validation gain over bicubic vs training steps (PSNR-Y, held-out photos)",
                        x_title="training step", y_title="gain over bicubic (dB)",
                        elem_id="study-curve")
    gr.Markdown("### Low loss, poor result")
    sentences = gr.Markdown(elem_id="study-sentences")
    timing = gr.Markdown(elem_id="study-timing")

    outputs = [table, how, crops, adds, adds_note, early_note, *early, early_table, curve, sentences, timing, *images]

    def wire(event, **kwargs) -> None:
        event(inside_study, [image, scale, seams], outputs, preprocess=False, **kwargs)

    wire(run.click, api_name="inside_study")
    seams.change(seam_images, [image, scale, seams], images[2:], preprocess=False, api_visibility="private")
    files = example_files()
    if files:
        with examples_column:
            ex = gr.Examples([[str(p), 3] for p in files], [image, scale], label="Examples",
                             example_labels=[example_label(p) for p in files])
        wire(ex.load_input_event.then, api_visibility="private")


def build_demo() -> gr.Blocks:
    """The whole app. Tabs: 'Compare' and 'Inside the study'."""
    # delete_cache: results older than an hour are removed, hourly (a Space's disk stays small).
    with gr.Blocks(title="SRCNN Studio", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(about_markdown())
        with gr.Tabs():
            with gr.Tab("Compare", id="compare"):
                build_compare_tab()
            with gr.Tab("Inside the study", id="study"):
                build_study_tab()
        with gr.Accordion("Weights", open=True):
            gr.Markdown(weights_markdown(), elem_id="weights")
    demo.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    return demo


def launch_options() -> dict:
    """Options for demo.launch() that the app needs wherever it runs (tests included)."""
    return {"max_file_size": MAX_FILE_SIZE, "theme": gr.themes.Soft()}


def warm_up() -> None:
    """Load the available models and prepare the inference engine before the first request;
    resolve matplotlib's backend too (Gradio asks for it around every request, and the first
    time imports pyplot: about a second on a 2-core machine)."""
    import matplotlib
    matplotlib.get_backend()
    pairs = [(kind, scale) for scale in srcnn.SCALES if weights_available(scale) for kind in NETWORKS]
    log.info("models warmed up in %.2f s: %s", pipeline.warm_up(pairs), pairs)


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    demo = build_demo()
    # Warm up beside the server start: the page is up sooner; a request arriving first just waits.
    threading.Thread(target=warm_up, name="warm-up", daemon=True).start()
    demo.launch(**launch_options())


if __name__ == "__main__":
    main()
