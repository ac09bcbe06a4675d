"""SRCNN Studio in the browser: upload a photo, see bicubic, SRCNN and residual SRCNN side by side.

Run ``python app.py`` (127.0.0.1:7860; ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` override).
The same file is the entry point of the Hugging Face Space (README front matter: app_file).

This file lays out the page and wires events; handlers and formatting are in ``ui/``
(``ui.compare``, ``ui.study``, shared pieces in ``ui.common``, scheduling and temp files in
``ui.server``); every number comes from the ``srcnn`` package, and uploads are checked by
``srcnn.uploads``.

Named API endpoints (README.md, "The app"):

* ``/compare`` (image, scale, mode) -> (first image, bicubic, SRCNN, residual SRCNN, metrics
  table, note: the order of ``ui.compare.API_OUTPUTS``); scale: any factor from 1.1 to 8 in
  both modes. Benchmark mode: the upload is the ground truth, degraded then restored and
  measured; Upscale mode: the upload is the low-resolution input, no PSNR. Refusals raise an
  error with the message. The page's own Compare button runs the same computation but shows a
  refusal in place of the results (ui.compare.compare_page); the files download as
  ``<photo>_x<factor>_<method>.png``.
* ``/inside_study`` (image, scale, seams=True, network="ours") -> the study tab's outputs, in
  the order of ``ui.study.OUTPUT_NAMES``; network "study" runs the 2018 study's own network
  and adds the walk from its saved picture to the truth.
"""

from __future__ import annotations

import json
import logging
import signal
import threading
from dataclasses import replace

import gradio as gr
import pandas as pd

import srcnn
from srcnn import factors, pipeline, weights
from srcnn.factors import MAX_FACTOR, MIN_FACTOR
from ui import server
from ui.common import (MAX_FILE_SIZE, METHOD_LABELS, about_markdown, by_name, compare_limit_text, example_files,
                       example_label, size_limit_text, weights_markdown)
from ui.compare import (API_OUTPUTS, ERROR_RANGE, LOW_RES_CHOICES, MODES, NETWORK_CHOICES, PAGE_OUTPUTS, SLIDER_LABEL,
                        VIEW_CHOICES, centre_zoom_page, compare_images, compare_page, empty_table, new_settings,
                        scale_check_markdown, views_page)
from ui.study import (OUTPUT_NAMES, PSNR_COLUMNS, RELATIVE_WIDTH, STITCHINGS, STUDY_NETWORK_LABELS, look_inside,
                      look_inside_page, seams_page)

log = logging.getLogger("srcnn.app")


def add_examples(inputs: list, outputs: list, fn) -> None:
    """The bundled photos, cached on first use (``fn`` computes an example's outputs); a click
    brings the results into view as Compare does."""
    files = example_files()
    if not files:
        return
    ex = gr.Examples([[str(p), "3", "Benchmark"] for p in files], inputs[:3], outputs, fn=fn,
                     cache_examples=True, cache_mode="lazy", preprocess=False, label="Examples",
                     example_labels=[example_label(p) for p in files])
    ex.load_input_event.then(None, js=show_results_js("#results"))
    gr.Markdown("Example photos: Chelsea and Coffee (scikit-image, CC0), Flower (scikit-learn, vultilion on "
                "Flickr, CC BY 2.0), Grace Hopper (matplotlib, U.S. Navy, public domain); details in "
                "`examples/CREDITS.md`.")


SCALE_PRESETS = (1.5, 2, 3, 4, 6, 8)
# After a run: a refusal's message (in place of the results) is brought into view wherever the page was scrolled.
SHOW_ERROR_JS = """() => {
  const box = document.querySelector('#error .run-error');
  if (box) box.scrollIntoView({block: 'center'});
}"""
# Bring the results into view once a run starts, where they are not in view (a phone: below the controls).
def show_results_js(selector: str) -> str:
    """JavaScript for a run's click: scroll ``selector`` (the results) into view when it lies in
    the lower half of the screen or below (a phone: under the controls); a wide screen keeps still."""
    return f"""() => {{
  const box = document.querySelector('{selector}');
  if (box && box.getBoundingClientRect().top > window.innerHeight * 0.5) box.scrollIntoView({{block: 'start'}});
}}"""


def layout_compare_controls() -> tuple:
    """The Compare tab's inputs: photo, the scale box with its presets, mode, button, limits;
    returns them and the column the examples go in."""
    image = gr.Image(label="Photo", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                     elem_id="upload")
    scale = gr.Textbox("3", label="Scale", elem_id="scale", max_lines=1,
                       info=f"Any factor from {MIN_FACTOR:g} to {MAX_FACTOR:g}: type one (e.g. 2.7) and press "
                            "Enter, or pick one below.")
    scale_check = gr.Markdown(elem_id="scale-check")
    with gr.Row(elem_id="scale-presets"):
        presets = [(f, gr.Button(f"x{f:g}", size="sm", min_width=40)) for f in SCALE_PRESETS]
    mode = gr.Radio(list(MODES), value=MODES[0], label="Mode", elem_id="mode",
                    info="Benchmark: the upload is the ground truth, it is degraded by the factor, restored and "
                         "measured. Upscale: the upload is the low-resolution input; nothing to measure.")
    with gr.Accordion("JPEG inputs", open=False, elem_id="jpeg-inputs"):
        low_res = gr.Dropdown(list(LOW_RES_CHOICES), value=LOW_RES_CHOICES[0], label="Benchmark: low-res input",
                              elem_id="low-res",
                              info="Save the degraded photo as a JPEG at this quality before restoring it, as a "
                                   "phone or a website would: what each method gains on a compressed input.")
        networks = gr.Radio(list(NETWORK_CHOICES), value=NETWORK_CHOICES[0], label="Networks", elem_id="networks",
                            info="Auto: a JPEG's quality is read from the file, and low qualities get the networks "
                                 "trained for compressed inputs; a PNG gets the clean ones. Clean / Compressed: "
                                 "those, whatever the file says.")
    run = gr.Button("Compare", variant="primary", elem_id="run")
    gr.Markdown(compare_limit_text(), elem_id="compare-limits")
    examples_column = gr.Column(elem_id="compare-examples")   # filled below, once the outputs exist
    scale.change(scale_check_markdown, scale, scale_check, queue=False, show_progress="hidden",
                 api_visibility="private")
    return image, scale, mode, low_res, networks, run, examples_column, [button for _, button in presets]


def build_compare_tab() -> None:
    """The upload-and-compare tab (inside a gr.Tabs)."""
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            image, scale, mode, low_res, networks, run, examples_column, presets = layout_compare_controls()
        with gr.Column(scale=2, elem_id="results"):
            error = gr.HTML(elem_id="error")   # a refused or failed run's message, in place of the results
            table = gr.Dataframe(empty_table(), label="Metrics", interactive=False, wrap=True, elem_id="metrics")
            note = gr.Markdown(elem_id="note")
    buttons = ["download", "fullscreen"]
    with gr.Row(elem_id="pictures"):
        first = gr.Image(label="Ground truth (Benchmark) or input (Upscale)", type="filepath", format="png",
                         interactive=False, buttons=buttons, elem_id="out-first")
        outs = [gr.Image(label=f"{METHOD_LABELS[m]} (PNG, full resolution)", type="filepath", format="png",
                         interactive=False, buttons=buttons, elem_id=f"out-{m}") for m in srcnn.METHODS]
    views_note = gr.HTML(elem_id="views-note")   # in place of the views when their results expired
    gr.Markdown("Click a picture to centre the zoomed region there.", elem_id="click-hint")
    with gr.Row():
        left = gr.Dropdown(list(VIEW_CHOICES), value="Bicubic", label="Slider: left")
        right = gr.Dropdown(list(VIEW_CHOICES), value="Residual SRCNN", label="Slider: right")
    slider = gr.ImageSlider(label=SLIDER_LABEL, format="png", interactive=False, buttons=buttons,
                            elem_id="slider")
    with gr.Row():
        cx = gr.Slider(0, 100, value=50, step=1, label="Zoom region: across (%)", elem_id="zoom-x")
        cy = gr.Slider(0, 100, value=50, step=1, label="Zoom region: down (%)", elem_id="zoom-y")
        zoom = gr.Radio([2, 4, 8], value=4, label="Magnification", elem_id="zoom")
    crops = gr.Gallery(label="Same region, every method (nearest-neighbour magnified)", columns=4,
                       format="png", height="auto", elem_id="crops")
    maps = gr.Gallery(label=f"Error maps: |output - ground truth| on Y, black 0 to yellow {ERROR_RANGE:g}+ "
                            "levels (Benchmark mode only)", columns=3, format="png", height="auto",
                      elem_id="maps")

    views = [left, right, cx, cy, zoom]
    named = dict(error=error, first=first, **dict(zip(srcnn.METHODS, outs)), table=table, note=note, slider=slider,
                 crops=crops, maps=maps, views_note=views_note)
    page_outputs = [named[n] for n in PAGE_OUTPUTS]
    run_page = by_name(compare_page, named)
    gr.on([run.click, scale.submit], run_page, [image, scale, mode, low_res, networks, *views], page_outputs,
          preprocess=False, api_visibility="private", **HEAVY).then(None, js=SHOW_ERROR_JS)
    gr.on([run.click, scale.submit], None, js=show_results_js("#results"))
    # the person's own change of photo, scale or mode clears the previous results (examples set them too,
    # through .change: those events are not listened to)
    clear = dict(fn=by_name(new_settings, named), inputs=mode, outputs=[*page_outputs, views_note], queue=False,
                 show_progress="hidden", api_visibility="private")
    gr.on([image.upload, image.clear, scale.input, mode.input, low_res.input, networks.input], **clear)
    for factor, button in zip(SCALE_PRESETS, presets):
        button.click(None, None, scale, js=f"() => '{factor:g}'").then(**clear)
    # /compare for API clients: the same computation, refusals raised as errors with their message
    api_trigger = gr.Button(visible=False)
    api_trigger.click(by_name(compare_images, named), [image, scale, mode, low_res, networks],
                      [named[n] for n in API_OUTPUTS], api_name="compare", preprocess=False, **HEAVY)
    with examples_column:
        add_examples([image, scale, mode, *views], page_outputs, run_page)
    view_inputs = [first, *outs, *views]
    view_outputs = dict(slider=slider, crops=crops, maps=maps, views_note=views_note, cx=cx, cy=cy)
    render = dict(fn=by_name(views_page, view_outputs), inputs=view_inputs,
                  outputs=[slider, crops, maps, views_note], preprocess=False, api_visibility="private")
    for trigger in (left.change, right.change, cx.release, cy.release, zoom.change):
        trigger(**render, trigger_mode="always_last")   # a change while one renders is rendered next, not dropped
    for picture in (first, *outs):
        picture.select(by_name(centre_zoom_page, view_outputs), [picture, outs[0], zoom], [cx, cy, views_note],
                       preprocess=False, api_visibility="private").then(**render)


STUDY_INTRO = (
    "## Inside the study\nIn 2018 a study trained SRCNN, a small network that sharpens enlarged photos, and got "
    "striped pictures that scored poorly although its training loss was low. The fault was not the network but how "
    "the code pasted its small output patches back together: strips shown twice at every seam and the whole "
    "picture shifted 6 px. This tab repeats that on your photo (shrunk, then enlarged again): it pastes the "
    "patches the study's way and the exact way, and measures each against your original.\n\n"
    "Background: README.md, 'What broke the original study'.")


def layout_study_controls() -> tuple:
    """The study tab's inputs (photo, scale, network, button, a column for examples) beside its
    PSNR table and how it was measured."""
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            image = gr.Image(label="Photo (the ground truth)", type="filepath", image_mode=None,
                             sources=["upload", "clipboard"], elem_id="study-upload")
            scale = gr.Radio([("x2", 2), ("x3", 3), ("x4", 4)], value=3, label="Scale", elem_id="study-scale")
            network = gr.Radio([(label, key) for key, label in STUDY_NETWORK_LABELS.items()], value="ours",
                               label="Network stitched", elem_id="study-network",
                               info="The study's own network also walks from the picture it saved to the truth, "
                                    "one cause at a time.")
            run = gr.Button("Look inside", variant="primary", elem_id="study-run")
            gr.Markdown(size_limit_text())
            examples_column = gr.Column(elem_id="study-examples")
        with gr.Column(scale=2, elem_id="study-results"):
            error = gr.HTML(elem_id="study-error")   # a refused or failed run's message, in place of the results
            table = gr.Dataframe(pd.DataFrame(columns=PSNR_COLUMNS), label="PSNR-Y (dB) against the ground "
                                 "truth, per stitching", interactive=False, wrap=True, elem_id="study-psnr",
                                 column_widths=["28%", "24%", "24%", "24%"])
            how = gr.Markdown(elem_id="study-how")
    return image, scale, network, run, examples_column, error, table, how


def layout_study_pictures() -> tuple:
    """The walk, the seam toggle, the ground truth and three stitchings (by output name:
    ui.study.OUTPUT_NAMES), the seam crops."""
    walk = gr.Markdown(elem_id="study-walk")
    seams = gr.Checkbox(True, label="Draw the seams (1-px magenta lines where each pasted output begins)",
                        elem_id="study-seams")
    buttons = ["download", "fullscreen"]
    # Widths in proportion to the pictures' (the original stitching is about 1.5 times as wide: 21 px
    # pasted for every 14 px of the photo), so the sizes can be compared at a glance.
    pictures = (("ground_truth", "gt", "Ground truth", 2),    # (output name, elem_id's key, label, width)
                *((k.replace("-", "_"), k, f"{v} stitching", RELATIVE_WIDTH[k]) for k, v in STITCHINGS.items()))
    with gr.Row(elem_id="study-pictures"):
        images = {name: gr.Image(label=label, type="filepath", format="png", interactive=False, buttons=buttons,
                                 elem_id=f"study-{key}", elem_classes="study-picture", scale=width,
                                 min_width=60 * width)
                  for name, key, label, width in pictures}
    crops = gr.Gallery(label="Zoomed across one seam crossing: the same part of the photo in each, 42x42 px, x4",
                       columns=4, format="png", height=320, elem_id="study-crops")
    return walk, seams, images, crops


def layout_study_training() -> tuple:
    """What the networks add, early vs late training, low loss and poor result, the timing."""
    gr.Markdown("### What the network adds")
    adds = gr.Gallery(label="Output - bicubic on Y, signed, amplified (whole photo, then zoomed on the crop below)",
                      columns=4, format="png", height=320, elem_id="study-adds")
    adds_note = gr.Markdown(elem_id="study-adds-note")
    gr.Markdown("### Early vs late training")
    early_note = gr.Markdown(elem_id="study-early-note")
    early = {f"early_{k}": gr.Gallery(label=f"{METHOD_LABELS[k]} snapshots", columns=5, format="png", height=270,
                                      elem_id=f"study-early-{k}") for k in srcnn.KINDS}   # by output name
    early_table = gr.Markdown(elem_id="study-early-table")
    # a short title (a phone's width shows ~45 characters), the rest below it; a fixed height and slanted
    # step labels keep the chart readable at 390 px wide
    curve = gr.LinePlot(x="step", y="gain_db", color="model", title="Gain over bicubic vs training steps",
                        x_title="training step", y_title="gain over bicubic (dB)", x_label_angle=-45, height=300,
                        elem_id="study-curve")
    gr.Markdown("The chart: validation on Set5 (never trained on), PSNR-Y of each network minus bicubic's, in dB, "
                "at each evaluated training step.")
    gr.Markdown("### Low loss, poor result")
    sentences = gr.Markdown(elem_id="study-sentences")
    timing = gr.Markdown(elem_id="study-timing")
    return adds, adds_note, early_note, early, early_table, curve, sentences, timing


def build_study_tab() -> None:
    """The "Inside the study" tab (inside a gr.Tabs): layout and events only; srcnn.study.insight computes."""
    gr.Markdown(STUDY_INTRO)
    image, scale, network, run, examples_column, error, table, how = layout_study_controls()
    walk, seams, images, crops = layout_study_pictures()
    adds, adds_note, early_note, early, early_table, curve, sentences, timing = layout_study_training()
    named = dict(psnr_table=table, how_compared=how, seam_crops=crops, adds=adds, adds_note=adds_note,
                 early_note=early_note, **early, early_table=early_table, gain_curve=curve, sentences=sentences,
                 timing=timing, walk=walk, **images, error=error)
    outputs = [named[n] for n in OUTPUT_NAMES]
    inputs = [image, scale, seams, network]

    def wire(event) -> None:
        """The page's run: refusals in place of the results (ui.study.look_inside_page), then in view."""
        event(by_name(look_inside_page, named), inputs, [*outputs, error], preprocess=False,
              api_visibility="private", **HEAVY).then(None, js=SHOW_ERROR_JS.replace("#error", "#study-error"))

    wire(run.click)
    run.click(None, js=show_results_js("#study-results"))
    # /inside_study for API clients: the same computation, refusals raised as errors with their message
    api_trigger = gr.Button(visible=False)
    api_trigger.click(by_name(look_inside, named), inputs, outputs, api_name="inside_study", preprocess=False,
                      **HEAVY)
    seams.change(by_name(seams_page, named), inputs, [*outputs, error], preprocess=False, api_visibility="private")
    files = example_files()
    if files:
        with examples_column:
            ex = gr.Examples([[str(p), 3] for p in files], [image, scale], label="Examples",
                             example_labels=[example_label(p) for p in files])
        wire(ex.load_input_event.then)
        ex.load_input_event.then(None, js=show_results_js("#study-results"))


def build_demo(store: server.TempStore | None = None) -> gr.Blocks:
    """The whole app. Tabs: 'Compare' and 'Inside the study'. Activates ``store`` first (default:
    the process's, made when it has none yet: ui.server.TempStore; Gradio reads its folder when
    the Blocks is built)."""
    (store or server.active_store() or server.TempStore.for_process()).activate()
    with gr.Blocks(title="SRCNN Studio") as demo:
        gr.Markdown(about_markdown())
        with gr.Tabs():
            with gr.Tab("Compare", id="compare"):
                build_compare_tab()
            with gr.Tab("Inside the study", id="study"):
                build_study_tab()
        with gr.Accordion("Weights", open=True):
            gr.Markdown(weights_markdown(), elem_id="weights")
    # Heavy events share one Gradio group (HEAVY below); ui.server's lanes decide what computes.
    demo.queue(default_concurrency_limit=server.GRADIO_WORKERS, max_size=server.QUEUE_SIZE, api_open=False)
    return demo


HEAVY = dict(concurrency_id="heavy", concurrency_limit=server.GRADIO_WORKERS)

# The page's own styles: the before/after handle stays on the picture; on narrow screens (a phone)
# the tables fit the width and the galleries show two pictures a row with their captions below.
CSS = """
#slider .slider-wrap > .wrap { width: fit-content; max-width: 100%; margin: 0 auto; }
#error .run-error, #study-error .run-error, #views-note .run-error, .expired-note {
  border-left: 4px solid #dc2626; padding: 8px 12px; background: #fef2f2; color: #7f1d1d; }
.expired-note { position: absolute; left: 8px; right: 8px; bottom: 8px; z-index: 20; }
#error .stale-note { border-left: 4px solid #d97706; padding: 8px 12px; background: #fffbeb; color: #78350f; }
/* focus is visible on every control: buttons, boxes, links, the radio and checkbox choices, the slider handle */
:is(button, input, select, textarea, a, [tabindex]):focus-visible {
  outline: 3px solid #2563eb !important; outline-offset: 2px; }
label:has(> input[type=radio]:focus-visible), label:has(> input[type=checkbox]:focus-visible) {
  outline: 3px solid #2563eb; outline-offset: 2px; }
#slider [data-testid=slider]:focus-visible .inner { box-shadow: 0 0 0 3px #2563eb; }
/* the walk table: the description wraps between words, the figures never */
#study-walk table { display: block; overflow-x: auto; }
#study-walk td, #study-walk th { overflow-wrap: normal; word-break: normal; }
#study-walk td:nth-child(n+3), #study-walk th:nth-child(n+3) { white-space: nowrap; }
#scale-check { color: #b91c1c; }
#scale-presets button { flex: 1 1 0; min-width: 0; }
#study-pictures .study-picture img { width: 100%; height: auto; object-fit: contain; }
@media (max-width: 640px) {
  #metrics table, #study-psnr table { font-size: 13px; }
  #metrics th, #metrics td, #study-psnr th, #study-psnr td {
    padding-left: 2px !important; padding-right: 2px !important; }
  #metrics .cell-menu-button, #study-psnr .cell-menu-button { display: none; }
  #metrics th, #study-psnr th { font-size: 12px; }
  #metrics th span, #study-psnr th span { word-break: normal; overflow-wrap: normal; }
  #metrics table { width: 100% !important; table-layout: fixed; }
  /* a figure never breaks inside (the rows shown are div.body-cell; the td are the table's hidden copy) */
  #metrics .body-cell:not(:first-child) span, #study-psnr .body-cell:not(:first-child) span {
    white-space: nowrap !important; word-break: keep-all !important; overflow-wrap: normal !important; }
  #metrics .body-cell span { font-size: 12px; }
  /* five columns (Benchmark): 28/18/18/18/18 %; three (Upscale): 40/25/35 % */
  #metrics th, #metrics td { min-width: 0 !important; max-width: none !important; }
  #metrics tr > :first-child:nth-last-child(5) { width: 28% !important; }
  #metrics tr > :nth-child(2):nth-last-child(4), #metrics tr > :nth-child(3):nth-last-child(3),
  #metrics tr > :nth-child(4):nth-last-child(2), #metrics tr > :nth-child(5):last-child { width: 18% !important; }
  #metrics tr > :first-child:nth-last-child(3) { width: 40% !important; }
  #metrics tr > :nth-child(2):nth-last-child(2) { width: 25% !important; }
  #metrics tr > :nth-child(3):last-child { width: 35% !important; }
  #crops .grid-container, #maps .grid-container, #study-crops .grid-container, #study-adds .grid-container,
  #study-early-srcnn .grid-container, #study-early-residual .grid-container {
    grid-template-columns: repeat(2, minmax(0, 1fr)) !important; }
  #crops .thumbnail-item, #maps .thumbnail-item, #study-crops .thumbnail-item, #study-adds .thumbnail-item,
  #study-early-srcnn .thumbnail-item, #study-early-residual .thumbnail-item {
    display: flex; flex-direction: column; height: auto !important; aspect-ratio: auto !important; }
  #crops .thumbnail-item img, #maps .thumbnail-item img, #study-crops .thumbnail-item img,
  #study-adds .thumbnail-item img, #study-early-srcnn .thumbnail-item img, #study-early-residual .thumbnail-item img {
    height: auto !important; }
  #crops .caption-label, #maps .caption-label, #study-crops .caption-label, #study-adds .caption-label,
  #study-early-srcnn .caption-label, #study-early-residual .caption-label {
    position: static !important; white-space: normal !important; max-width: none !important; overflow: visible;
    text-overflow: clip; margin: 2px !important; font-size: 12px; }
  #crops label[data-testid=block-label], #maps label[data-testid=block-label],
  #study-crops label[data-testid=block-label],
  #study-adds label[data-testid=block-label], #study-early-srcnn label[data-testid=block-label],
  #study-early-residual label[data-testid=block-label] { position: static; }
}
"""


# The page's scripts (ui.server.expired_message says what an expired download means):
# * Enter in a zoom box applies what was typed: the box commits its value (a change event), then, once
#   the page has taken it, reports a release as a drag's end does (a release sends the slider's value,
#   which is the previous one until the page has taken the typed one).
# * The before/after handle takes the focus (Tab) and moves with the arrow keys (Shift: bigger steps),
#   Home and End: a drag from where it is, as the mouse would do it.
# * A download link first asks for one byte of its file: when the file expired, the message takes the
#   picture's place instead of a download the browser cancels.
HEAD_SCRIPT = """<script>
const EXPIRED = %s;
document.addEventListener('keydown', (e) => {
  const t = e.target;
  if (e.key === 'Enter' && t.matches && t.matches('#zoom-x input[type=number], #zoom-y input[type=number]')) {
    t.dispatchEvent(new Event('change', {bubbles: true}));
    const range = t.closest('.block').querySelector('input[type=range]');
    let tries = 0;
    const release = () => {   // once the slider holds the typed value (at most 1 s)
      if (range && Number(range.value) !== Number(t.value) && tries++ < 20) return setTimeout(release, 50);
      t.dispatchEvent(new PointerEvent('pointerup', {bubbles: true}));
    };
    setTimeout(release, 50);
    return;
  }
  const handle = t.closest && t.closest('#slider [data-testid=slider]');
  if (!handle || !['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) return;
  const img = document.querySelector('#slider img');
  if (!img) return;
  e.preventDefault();
  const pic = img.getBoundingClientRect(), r = handle.getBoundingClientRect();
  const x0 = r.left + r.width / 2, y = r.top + r.height / 2, step = pic.width * (e.shiftKey ? 0.1 : 0.02);
  let x = {ArrowLeft: x0 - step, ArrowRight: x0 + step, Home: pic.left, End: pic.right}[e.key];
  x = Math.min(Math.max(x, pic.left), pic.right);
  const at = (cx) => ({bubbles: true, cancelable: true, view: window, clientX: cx, clientY: y, button: 0, buttons: 1});
  handle.dispatchEvent(new MouseEvent('mousedown', at(x0)));
  window.dispatchEvent(new MouseEvent('mousemove', at(x)));
  window.dispatchEvent(new MouseEvent('mouseup', at(x)));
  handle.setAttribute('aria-valuenow', Math.round(100 * (x - pic.left) / pic.width));
});
new MutationObserver(() => {
  for (const note of document.querySelectorAll('.expired-note')) {   // a new picture: its note goes
    const img = note.parentElement.querySelector('img');
    if (!img || img.src !== note.dataset.src) note.remove();
  }
  const handle = document.querySelector('#slider [data-testid=slider]:not([tabindex])');
  if (!handle) return;
  handle.tabIndex = 0;
  handle.setAttribute('role', 'slider');
  handle.setAttribute('aria-label', 'Before / after divider: arrow keys move it');
  handle.setAttribute('aria-valuemin', '0');
  handle.setAttribute('aria-valuemax', '100');
}).observe(document.documentElement, {childList: true, subtree: true});
function showExpired(link) {
  const block = link.closest('.block') || link.parentElement;
  let box = block.querySelector(':scope > .expired-note');
  if (!box) {
    box = document.createElement('div');
    box.className = 'expired-note run-error';
    box.setAttribute('role', 'alert');
    block.prepend(box);
  }
  box.textContent = EXPIRED;
  box.dataset.src = block.querySelector('img')?.src || '';
  box.scrollIntoView({block: 'nearest'});
}
document.addEventListener('click', (e) => {
  const link = e.target.closest && e.target.closest('a[download]');
  if (!link || !link.href || link.href.startsWith('blob:') || link.href.startsWith('data:')) return;
  if (link.dataset.checked === '1') { delete link.dataset.checked; return; }
  e.preventDefault();
  e.stopImmediatePropagation();
  fetch(link.href, {headers: {Range: 'bytes=0-0'}}).then((r) => {
    if (!r.ok) return showExpired(link);
    link.dataset.checked = '1';
    link.click();
  }).catch(() => showExpired(link));
}, true);
</script>"""


def head() -> str:
    """The page's scripts (:data:`HEAD_SCRIPT`) with the expired-download message filled in."""
    return HEAD_SCRIPT % json.dumps(server.expired_message("results"))


def launch_options(guard=None) -> dict:
    """Options for demo.launch() that the app needs wherever it runs (tests included); ``guard``:
    the serving limits (ui.server.make_guard), shared with the sweeper."""
    return {**server.launch_options(guard), "max_file_size": MAX_FILE_SIZE, "theme": gr.themes.Soft(), "css": CSS,
            "head": head()}


def warm_up() -> None:
    """Load the available models and prepare the inference engine before the first request;
    resolve matplotlib's backend too (Gradio asks for it around every request, and the first
    time imports pyplot, which the first request would otherwise wait for)."""
    import matplotlib
    matplotlib.get_backend()
    firsts = {first for kind, f in factors.COMPRESSED_BANDS for first, _, _ in factors.quality_bands(kind, f)}
    needed = {c for kind in srcnn.KINDS for f in (*factors.ANCHORS, *srcnn.SCALES) for compressed in (False, True)
              for q in ((None, *firsts) if compressed else (None,))
              for _, c in factors.serving(kind, f, compressed, quality=q) if c is not None}   # every network run
    bundled = weights.bundled_checkpoints()
    ready = [c for c in bundled if c in needed] + sorted((c for c in needed if c.clean_share and
                                                          replace(c, clean_share=0.0) in bundled), key=str)
    log.info("models ready in %.2f s: %s", pipeline.warm_up(ready),
             ", ".join(c.name + (f" ({c.clean_share:.0%} clean)" if c.clean_share else "") for c in ready))


def on_sigterm(signum, frame) -> None:
    """SIGTERM (how a Space stops its container): running and waiting requests stop with a
    message (given up to ui.server.DRAIN_S to answer), then the server closes as on Ctrl-C and
    the temp files go. A second SIGTERM while stopping is ignored."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    log.info("SIGTERM: stopping (%d requests in flight)", server.active())
    server.begin_shutdown()
    server.drain()
    raise KeyboardInterrupt


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)   # Gradio's own start-up requests, one line each
    server.limit_arenas()
    store = server.TempStore.for_process().activate()
    demo = build_demo(store)
    # Warm up beside the server start: the page is up sooner; a request arriving first just waits.
    warming = threading.Thread(target=warm_up, name="warm-up", daemon=True)
    warming.start()
    guard = store.make_guard()
    store.start_sweeper(guard=guard, keep=example_files())
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        with server.serving_without_spaces_reload():
            demo.launch(prevent_thread_lock=True, **launch_options(guard))
        demo.block_thread()
    except KeyboardInterrupt:      # a SIGTERM that arrived before launch() began to block
        demo.close()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.begin_shutdown()
        store.cleanup()
        warming.join(timeout=60)   # exiting while ONNX Runtime builds a session aborts the process


if __name__ == "__main__":
    main()
