"""The 'Inside the study' tab's handlers: ``/inside_study`` (:func:`look_inside`: upload -> the
study's stitchings, what each network adds, early vs late training) and the seam toggle.
srcnn.study.insight computes the view; ui.views schedules and keeps it; this module lays it out."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
import pandas as pd
from PIL import Image

from srcnn import cancel, uploads
from srcnn.metrics import convention
from srcnn.models import KINDS
from srcnn.study import insight, walk

from . import server, views
from .clients import quoted
from .common import (METHOD_LABELS, PngWriter, error_html, log_request, png_files, read_upload, refuse,
                     require_weights, scale_from_choice, user_errors)


log = logging.getLogger("srcnn.app")

STITCHINGS = {"exact": "Exact", "original": "Original (21-px pitch)",
              "overlap-removed": "Overlap removed (14-px pitch)"}
STITCHING_NOTES = {
    "exact": "every output pixel computed once, on the ground truth's grid",
    "original": "the study's code: 33x33 patches 14 px apart, outputs pasted 21 px apart, so a 7-px band "
                "repeats at every seam",
    "overlap-removed": "the study's fix: outputs pasted 14 px apart, no repeats, still 6 px off",
}
RELATIVE_WIDTH = {"exact": 2, "original": 3, "overlap-removed": 2}   # the pictures' widths, ground truth 2
STUDY_KIND = "residual"   # the model whose stitchings are shown


STUDY_NETWORK_LABELS = dict(zip(insight.NETWORK_CHOICES, ("Our residual SRCNN",
                                                         "The study's own network (its 2018 checkpoint)")))
# /inside_study's outputs (ui.study.look_inside returns them by these names; API callers get them
# in this order, the one app.py wires)
OUTPUT_NAMES = ("psnr_table", "how_compared", "seam_crops", "adds", "adds_note", "early_note", "early_srcnn",
                "early_residual", "early_table", "gain_curve", "sentences", "timing", "walk",
                "ground_truth", "exact", "original", "overlap_removed")


def network_from_choice(raw: object) -> str:
    """"ours" or "study" from the radio's raw value (None: "ours")."""
    if raw in (None, ""):
        return "ours"
    for key, label in STUDY_NETWORK_LABELS.items():
        if str(raw).strip().lower() in (key, label.lower()):
            return key
    raise refuse(f"Network must be 'ours' or 'study'; got {quoted(raw)}.")


@contextmanager
def study_view(image, scale, network="ours"):
    """Check the upload as the compare tab does (Benchmark mode), take a lane, and yield
    (the view, ui.views.view_of_file, and the checked upload) while holding it: the caller writes
    its pictures inside, so that writing counts as this request's work and its errors become
    messages. Views are kept per file, scale and network: the seam toggle and repeated requests
    reuse one."""
    scale, network = scale_from_choice(scale), network_from_choice(network)
    up = read_upload(image, scale, upscaling=False)
    require_weights(scale)
    with user_errors(f"{up.name}: "), server.lane(up.image.width * up.image.height):
        view = views.view_of_file(up.path, scale, STUDY_KIND, network)   # stops with the lane's check
        cancel.checkpoint()
        yield view, up


PSNR_COLUMNS = ["Stitching", "As compared", "Aligned", "At source"]   # PSNR-Y in dB (the table's label)


def stitching_table(view: insight.InsideView):
    """PSNR-Y of each stitching against the ground truth, as compared, aligned and at source;
    bicubic below. Four narrow columns (sizes and shifts are in :func:`how_compared_markdown`)."""
    rows = [[STITCHINGS[name], sc.naive, sc.aligned, sc.at_source] for name, sc in view.report.scores.items()]
    bic = insight.bicubic_psnr(view.prep)
    rows.append(["Bicubic, no network", bic, bic, bic])
    return pd.DataFrame(rows, columns=PSNR_COLUMNS).style.format({c: "{:.2f}" for c in PSNR_COLUMNS[1:]})


def how_compared_markdown(view: insight.InsideView, up: uploads.Checked) -> str:
    """How each stitching met the ground truth, and which part of its loss is offset or repetition."""
    gt, scale = view.prep.gt, view.prep.scale
    who = METHOD_LABELS[STUDY_KIND] if view.network == "ours" else STUDY_NETWORK_LABELS["study"].lower()
    exact = view.report.scores["exact"].naive
    lines = [f"**How to read the table** ({who}, x{scale}): each picture is compared with the {gt.width}x{gt.height} "
             f"ground truth, PSNR in dB (higher is closer) on the {convention(scale)}. Every stitching starts from "
             "the same input: the photo shrunk, then enlarged with MATLAB-style bicubic. *As compared*: the "
             "pictures laid over each other by their top-left corners, common area only (what comparing the study's "
             "picture with the ground truth amounts to). *Aligned*: shifted back first by the 6 px the network "
             "loses at its edges (each layer keeps only the pixels it can compute from whole neighbourhoods). "
             "*At source*: every output pixel against the ground-truth pixel it was computed for, on the part of "
             "the photo the patches reached."]
    for name, sc in view.report.scores.items():
        h, w = view.report.stitched[name].luma.shape
        if name == "exact":
            lines.append(f"- **{STITCHINGS[name]}** ({STITCHING_NOTES[name]}; {w}x{h} px): {sc.naive:.2f} dB in "
                         "all three columns: nothing is shifted or repeated.")
            continue
        shift = sc.aligned - sc.naive
        text = (f"- **{STITCHINGS[name]}** ({STITCHING_NOTES[name]}; {w}x{h} px, {sc.offset} px off): "
                f"{sc.naive:.2f} dB as compared, {sc.aligned:.2f} dB aligned")
        if name == "original":
            text += (f": shifting it back {sc.offset} px changes only {shift:+.2f} dB, because every seam pushes "
                     "the rest of the picture 7 px further off, so no single shift lines it up. Compared pixel by "
                     f"pixel with the ground-truth pixels they were computed for, the same outputs score "
                     f"{sc.at_source:.2f} dB: the repeated bands and the drift they cause cost "
                     f"{sc.at_source - sc.aligned:.2f} dB.")
        else:
            text += (f": the {sc.offset}-px offset alone costs {shift:.2f} dB. No band repeats in this stitching, "
                     f"so at source is the aligned picture again ({sc.at_source:.2f} dB).")
        twice = ", the repeated bands' pixels counted twice" if name == "original" else ""
        text += (f" At source is not Exact's {exact:.2f} dB because it covers another part of the photo: only the "
                 f"pixels the patches reached (not the margin, nor the strips at the right and bottom that no whole "
                 f"patch covers){twice}.")
        lines.append(text)
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


OURS_NOTE = ("*This section and the next two are about our two networks, SRCNN and residual SRCNN as trained by "
             "this project: the 2018 study's checkpoint came without its training history or snapshots.*")


def adds_markdown(view: insight.InsideView) -> str:
    a = next(iter(view.adds.values()))
    rms = ", ".join(f"{METHOD_LABELS[k]} **{v.rms:.2f}**" for k, v in view.adds.items())
    lead = OURS_NOTE + "\n\n" if view.network == "study" else ""
    return (f"{lead}Output minus bicubic on the brightness channel (Y), exact stitching, amplified "
            f"**x{a.gain:g}**: blue where the network darkens, white where it changes nothing, red where it brightens; "
            f"+-{a.saturation:.1f} levels reach the ends of the colour scale. How much each network changes, as the "
            f"root mean square of the difference (a typical size, in 8-bit levels of Y; {view.prep.scale} px border "
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
    for kind in KINDS:
        for r in view.snapshots[kind]:
            by_step.setdefault(r.step, {})[kind] = r
    if not by_step:
        return "No snapshots to compare: see the notes above."
    head = "| Step (share of the run) | " + " | ".join(f"{METHOD_LABELS[k]}: PSNR (gain over bicubic)"
                                                    for k in KINDS) + " |"
    lines = [head, "|---" * (1 + len(KINDS)) + "|"]
    for step, results in sorted(by_step.items()):
        share = next(iter(results.values())).fraction
        cells = [f"{results[k].psnr:.2f} dB ({results[k].gain:+.2f})" if k in results else "no snapshot"
                 for k in KINDS]
        lines.append(f"| {step:,} ({share:.0%}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def early_markdown(view: insight.InsideView) -> str:
    """What the early-vs-late crops are, in plain words: which snapshots (steps, of how many),
    where the PSNR is measured; a checkpoint without snapshots or history says so."""
    left, top, right, bottom = view.crop_box
    if view.region is None:
        where = "the whole photo"
    else:
        rl, rt, rr, rb = view.region
        where = f"the {rr - rl}x{rb - rt} px region around the crop (not the whole photo, for speed)"
    lines = []
    for kind in KINDS:
        results, history = view.snapshots[kind], view.histories[kind]
        if not results:
            lines.append(f"- {METHOD_LABELS[kind]}: no training snapshots ship with this checkpoint.")
            continue
        steps = ", ".join(f"{r.step:,}" for r in results)
        of = f" of {history.steps:,}" if history is not None else ""
        lines.append(f"- {METHOD_LABELS[kind]}: snapshots at steps {steps}{of}.")
    lead = f"*Our networks, not the study's ({STUDY_NETWORK_LABELS['study'].lower()} has no snapshots).* " \
        if view.network == "study" else ""
    return (f"{lead}The same {right - left}x{bottom - top} px crop at ({left}, {top}), where bicubic misses most, "
            f"magnified x4, as each network drew it at points of its training. PSNR on the "
            f"{convention(view.prep.scale)}, on {where}.\n\n" + "\n".join(lines))


def gain_curve_frame(view: insight.InsideView) -> pd.DataFrame:
    rows = [{**r, "model": METHOD_LABELS[r["model"]]} for r in view.curve]
    return pd.DataFrame(rows, columns=["step", "model", "gain_db"])


def timing_markdown(view: insight.InsideView, wall: float) -> str:
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in view.seconds.items() if k != "total")
    return (f"Computed in {view.seconds['total']:.1f} s ({parts}; the other network and the snapshots run "
            f"beside the stitchings); this request took {wall:.1f} s with the pictures written. "
            f"Every view uses the same upscaling; the {views.VIEWS_KEPT} most recent views (photo, scale, network) "
            "are kept.")


def walk_section_markdown(view: insight.InsideView) -> str:
    """The walk from the study's saved picture to the truth (network "study"), or how to see it;
    then why its figures differ from the table's."""
    if view.walk is None:
        return ("*Choose \"The study's own network\" above to walk, on this photo, from the picture the 2018 code "
                "saved to the truth, one cause at a time.*")
    return ("**From the picture the study saw to the truth, one cause at a time** (the 2018 code's path with its "
            f"own checkpoint, x{view.prep.scale}; PSNR against the ground truth on the {convention(view.prep.scale)}; "
            "each row changes one thing from the row above):\n\n"
            + walk.walk_markdown(view.walk) + "\n\n" + walk.walk_reading(view.walk) + "\n\n" + walk_vs_table(view))


def walk_vs_table(view: insight.InsideView) -> str:
    """Why the walk's figures and the table's differ, with the rows that correspond."""
    by = {s.key: s for s in view.walk}
    sc = view.report.scores
    text = ("**Why these figures differ from the table above.** The table runs the network on the "
            "MATLAB-bicubic input and measures the colour pictures shown, rounded to 8 bits; the walk starts from "
            "the study's own input (a blur of the study code's own brightness channel) and its saved file (whose "
            "values the save stretched to fill 0..255), and from \"exact stitching\" on measures the network's "
            "brightness channel before rounding.")
    if "bicubic-input" in by:
        b = by["bicubic-input"]
        text += (f" The same setting in both: the table's Exact {sc['exact'].naive:.2f} dB and the walk's "
                 f"\"{b.label}\" {b.psnr:.2f} dB, {sc['exact'].naive - b.psnr:+.2f} dB apart from the 8-bit colour "
                 "rounding alone.")
    if "saved" in by:
        text += (f" The table's Original as compared ({sc['original'].naive:.2f} dB) and the walk's saved file "
                 f"({by['saved'].psnr:.2f} dB) differ in input (bicubic against the study's blur) and in the "
                 "save's stretching of the values.")
    return text


def look_inside(image, scale, seams=True, network="ours", progress=gr.Progress()) -> dict:
    """The ``/inside_study`` endpoint: raw upload, scale, the seam toggle and the network ("ours"
    or "study") in; the outputs by name, every one of :data:`OUTPUT_NAMES` (tables, galleries,
    text, the full-size ground truth and three stitchings as PNG files; API callers get them in
    that order). Every picture is written in one go, two at a time (:class:`PngWriter`)."""
    t0 = time.perf_counter()
    progress(0, desc="Upscaling, stitching three ways, running the snapshots")
    with study_view(image, scale, network) as (view, up), PngWriter() as pngs:
        t1 = time.perf_counter()
        full = [view.prep.gt, view.report.stitched["exact"].image(), *study_stitchings(view, bool(seams))]
        galleries = [seam_gallery(view), adds_gallery(view), snapshot_gallery(view, "srcnn"),
                     snapshot_gallery(view, "residual")]
        pictures = full + [img for gallery in galleries for img, _ in gallery]   # largest first
        names = picture_names(up.name, view.prep.scale)
        for i, img in enumerate(pictures):
            pngs.add(i, img, names[i] if i < len(names) else None)
        paths = iter(pngs.paths(range(len(pictures))))
    full = [next(paths) for _ in full]
    crops, adds, early_srcnn, early_residual = [[(next(paths), caption) for _, caption in g] for g in galleries]
    wall = time.perf_counter() - t0
    log_request("/inside_study", f"{view.prep.gt.width}x{view.prep.gt.height} x{view.prep.scale} {view.network}",
                {"view (computed, or kept)": t1 - t0, "PNG writing (beside)": pngs.seconds,
                 "PNG writing (waited for)": pngs.waited, "handler": wall})
    ground_truth, exact, original, overlap_removed = full
    return {"psnr_table": stitching_table(view), "how_compared": how_compared_markdown(view, up),
            "seam_crops": crops, "adds": adds, "adds_note": adds_markdown(view), "early_note": early_markdown(view),
            "early_srcnn": early_srcnn, "early_residual": early_residual,
            "early_table": early_table_markdown(view), "gain_curve": gain_curve_frame(view),
            "sentences": view.sentences, "timing": timing_markdown(view, wall), "walk": walk_section_markdown(view),
            "ground_truth": ground_truth, "exact": exact, "original": original, "overlap_removed": overlap_removed}


def empty_outputs() -> dict:
    """Every output of :data:`OUTPUT_NAMES` emptied: the table's headers alone, no text, no pictures."""
    empty = {name: None for name in OUTPUT_NAMES}
    empty.update({name: [] for name in ("seam_crops", "adds", "early_srcnn", "early_residual")})
    empty.update({name: "" for name in ("how_compared", "adds_note", "early_note", "early_table", "sentences",
                                        "timing", "walk")})
    empty["psnr_table"] = pd.DataFrame(columns=PSNR_COLUMNS)
    empty["gain_curve"] = pd.DataFrame(columns=["step", "model", "gain_db"])
    return empty


def look_inside_page(image, scale, seams=True, network="ours", progress=gr.Progress()) -> dict:
    """The tab's "Look inside" button and examples: :func:`look_inside`, outputs by name
    (:data:`OUTPUT_NAMES` and ``error``). A refusal or failure does not raise (no pop-up): its
    message takes the results' place and every view of the previous result is emptied."""
    try:
        return {"error": "", **look_inside(image, scale, seams, network, progress)}
    except gr.Error as e:
        message = str(e.message)
    except Exception as e:                # a fault of ours: logged in full, and said on the page
        log.exception("/inside_study (page) failed")
        message = f"The run failed ({type(e).__name__}: {e}). Try again; if it fails again, try another photo."
    return {"error": error_html(message), **empty_outputs()}


def seams_page(image, scale, seams: bool, network="ours") -> dict:
    """The seam toggle: :func:`seam_images`, outputs by name (``original``, ``overlap_removed``,
    ``error``); a refusal (the photo expired) takes the results' place instead of raising."""
    try:
        original, removed = seam_images(image, scale, seams, network)
    except gr.Error as e:
        return {"error": error_html(str(e.message), "The seams could not be redrawn."), **empty_outputs()}
    return {"original": original, "overlap_removed": removed}


def picture_names(photo: str, scale: int) -> list[str]:
    """Download names of the full-size pictures, in :data:`OUTPUT_NAMES`' order:
    ``<photo>_x<scale>_ground-truth``, ``_exact``, ``_original``, ``_overlap-removed``."""
    stem = Path(photo).stem or "photo"
    return [f"{stem}_x{scale}_{what}" for what in ("ground-truth", *STITCHINGS)]


def study_stitchings(view: insight.InsideView, seams: bool) -> list[Image.Image]:
    """The original and overlap-removed stitchings, seams drawn as 1-px lines when asked."""
    stitched = [view.report.stitched[name] for name in ("original", "overlap-removed")]
    return [insight.draw_seams(st.image(), st.seams_x, st.seams_y) if seams else st.image() for st in stitched]


def seam_images(image, scale, seams: bool, network="ours") -> list:
    """:func:`study_stitchings` of the cached view as PNG files (the seam toggle); nothing changes
    while there is no photo."""
    if image is None:
        return [gr.skip(), gr.skip()]
    with study_view(image, scale, network) as (view, up):
        return png_files(study_stitchings(view, seams), picture_names(up.name, view.prep.scale)[2:])
