"""SRCNN Studio in the browser: upload a photo, see bicubic, SRCNN and residual SRCNN side by side.

Run ``python app.py`` (127.0.0.1:7860; ``GRADIO_SERVER_NAME`` / ``GRADIO_SERVER_PORT`` override).
The same file is the entry point of the Hugging Face Space (README front matter: app_file).

This file lays out the page and wires events; handlers and formatting are in ``ui/``
(``ui.compare``, ``ui.study``, shared pieces in ``ui.common``, scheduling and temp files in
``ui.server``); every number comes from the ``srcnn`` package, and uploads are checked by
``srcnn.uploads``.

Named API endpoints (README.md, "The app"):

* ``/compare`` (image, scale, mode) -> (first image, bicubic, SRCNN, residual SRCNN, metrics
  table, note). Benchmark mode: the upload is the ground truth, degraded then restored and
  measured; Upscale mode: the upload is the low-resolution input, no PSNR.
* ``/inside_study`` (image, scale, seams=True, network="ours") -> the study tab's outputs, in
  the order of ``ui.study.OUTPUT_NAMES``; network "study" runs the 2018 study's own network
  and adds the walk from its saved picture to the truth.
"""

from __future__ import annotations

import logging
import signal
import threading

import gradio as gr

import srcnn
from srcnn import pipeline, weights
from srcnn.models import RANGE
from ui import server
from ui.common import (MAX_FILE_SIZE, METHOD_LABELS, about_markdown, example_files, example_label, size_limit_text,
                       weights_available, weights_markdown)
from ui.compare import ERROR_RANGE, MODES, VIEW_CHOICES, compare_images, render_views
from ui.study import STITCHINGS, STUDY_NETWORK_LABELS, look_inside, seam_images

log = logging.getLogger("srcnn.app")


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


SCALE_CHOICES = [(f"x{f:g}", f) for f in (1.5, 2, 2.5, 3, 3.5, 4, 5, 6, 8)]


def build_compare_tab() -> None:
    """The upload-and-compare tab (inside a gr.Tabs)."""
    with gr.Row():
        with gr.Column(scale=1, min_width=320):
            image = gr.Image(label="Photo", type="filepath", image_mode=None, sources=["upload", "clipboard"],
                             elem_id="upload")
            scale = gr.Dropdown(SCALE_CHOICES, value=3, label="Scale", elem_id="scale", allow_custom_value=True,
                                info="Benchmark: x2, x3 or x4 (the papers' scales). Upscale: any factor from 1.1 "
                                     "to 8 (type one, e.g. 2.7).")
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
    run.click(compare_images, [image, scale, mode], outputs, api_name="compare", preprocess=False, **HEAVY)
    with examples_column:
        add_examples([image, scale, mode], outputs)
    view_inputs = [first, *outs, left, right, cx, cy, zoom]
    for trigger in (outs[-1].change, left.change, right.change, cx.release, cy.release, zoom.change):
        trigger(render_views, view_inputs, [slider, crops, maps], api_visibility="private")


STUDY_INTRO = (
    "## Inside the study\nA 2018 study of an SRCNN TensorFlow port found three things; here they are on your photo "
    "(the ground truth: it is degraded, then restored), with our residual model or the study's own network. **1.** Its pictures broke because "
    "of stitching: 33x33 patches cut 14 px apart, their 21x21 outputs pasted 21 px apart, so 7-px bands repeat and "
    "the whole picture sits 6 px off. **2.** The residual variant looked better early in training. **3.** After "
    "long training \"the loss was low enough, yet the result was poor\". Background: README.md, 'What broke the original study'.")


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
        with gr.Column(scale=2):
            table = gr.Dataframe(label="PSNR-Y (dB) against the ground truth, per stitching", interactive=False,
                                 elem_id="study-psnr")
            how = gr.Markdown(elem_id="study-how")
    return image, scale, network, run, examples_column, table, how


def layout_study_pictures() -> tuple:
    """The walk, the seam toggle, the ground truth and three stitchings, the seam crops."""
    walk = gr.Markdown(elem_id="study-walk")
    seams = gr.Checkbox(True, label="Draw the seams (1-px magenta lines where each pasted output begins)",
                        elem_id="study-seams")
    buttons = ["download", "fullscreen"]
    with gr.Row():
        images = [gr.Image(label=label, type="pil", format="png", interactive=False, buttons=buttons,
                           elem_id=f"study-{key}")
                  for key, label in (("gt", "Ground truth"), *((k, f"{v} stitching") for k, v in STITCHINGS.items()))]
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
    early = [gr.Gallery(label=f"{METHOD_LABELS[k]} snapshots", columns=5, format="png", height=270,
                        elem_id=f"study-early-{k}") for k in srcnn.KINDS]
    early_table = gr.Markdown(elem_id="study-early-table")
    curve = gr.LinePlot(x="step", y="gain_db", color="model",
                        title="Validation gain over bicubic vs training steps (PSNR-Y on Set5, never trained on)",
                        x_title="training step", y_title="gain over bicubic (dB)",
                        elem_id="study-curve")
    gr.Markdown("### Low loss, poor result")
    sentences = gr.Markdown(elem_id="study-sentences")
    timing = gr.Markdown(elem_id="study-timing")
    return adds, adds_note, early_note, early, early_table, curve, sentences, timing


def build_study_tab() -> None:
    """The "Inside the study" tab (inside a gr.Tabs): layout and events only; srcnn.study.insight computes."""
    gr.Markdown(STUDY_INTRO)
    image, scale, network, run, examples_column, table, how = layout_study_controls()
    walk, seams, images, crops = layout_study_pictures()
    adds, adds_note, early_note, early, early_table, curve, sentences, timing = layout_study_training()
    outputs = [table, how, crops, adds, adds_note, early_note, *early, early_table, curve, sentences, timing, walk,
               *images]     # in the order of ui.study.OUTPUT_NAMES

    def wire(event, **kwargs) -> None:
        event(look_inside, [image, scale, seams, network], outputs, preprocess=False, **HEAVY, **kwargs)

    wire(run.click, api_name="inside_study")
    seams.change(seam_images, [image, scale, seams, network], images[2:], preprocess=False, api_visibility="private")
    files = example_files()
    if files:
        with examples_column:
            ex = gr.Examples([[str(p), 3] for p in files], [image, scale], label="Examples",
                             example_labels=[example_label(p) for p in files])
        wire(ex.load_input_event.then, api_visibility="private")


def build_demo() -> gr.Blocks:
    """The whole app. Tabs: 'Compare' and 'Inside the study'."""
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
    demo.queue(default_concurrency_limit=server.GRADIO_WORKERS, max_size=server.QUEUE_SIZE)
    return demo


HEAVY = dict(concurrency_id="heavy", concurrency_limit=server.GRADIO_WORKERS)


def launch_options() -> dict:
    """Options for demo.launch() that the app needs wherever it runs (tests included)."""
    return {**server.launch_options(), "max_file_size": MAX_FILE_SIZE, "theme": gr.themes.Soft()}


def warm_up() -> None:
    """Load the available models and prepare the inference engine before the first request;
    resolve matplotlib's backend too (Gradio asks for it around every request, and the first
    time imports pyplot: about a second on a 2-core machine)."""
    import matplotlib
    matplotlib.get_backend()
    pairs = [(kind, scale) for scale in srcnn.SCALES if weights_available(scale) for kind in srcnn.KINDS]
    pairs += [pair for pair in weights.bundled_pairs() if pair[1] == RANGE]   # the networks for x1.2 to x2
    log.info("models ready in %.2f s: %s", pipeline.warm_up(pairs), ", ".join(f"{k}-x{s}" for k, s in pairs))


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
    demo = build_demo()
    # Warm up beside the server start: the page is up sooner; a request arriving first just waits.
    warming = threading.Thread(target=warm_up, name="warm-up", daemon=True)
    warming.start()
    server.start_sweeper()
    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        demo.launch(**launch_options())
    except KeyboardInterrupt:      # a SIGTERM that arrived before launch() began to block
        demo.close()
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.begin_shutdown()
        server.cleanup()
        warming.join(timeout=60)   # exiting while ONNX Runtime builds a session aborts the process


if __name__ == "__main__":
    main()
