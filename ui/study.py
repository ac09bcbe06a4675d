"""The 'Inside the study' tab's handlers: ``/inside_study`` (:func:`look_inside`: upload -> the
study's stitchings, what each network adds, early vs late training) and the seam toggle.
srcnn.study.insight computes the view; ui.views schedules and keeps it; this module lays it out."""

from __future__ import annotations

import time
from contextlib import contextmanager

import gradio as gr
import pandas as pd
from PIL import Image

from srcnn import uploads
from srcnn.metrics import convention
from srcnn.models import KINDS
from srcnn.study import insight, walk

from . import server, views
from .common import (METHOD_LABELS, PngWriter, log_request, png_files, read_upload, refuse, require_weights,
                     scale_from_choice, user_errors)


STITCHINGS = {"exact": "Exact", "original": "Original (21-px pitch)",
              "overlap-removed": "Overlap removed (14-px pitch)"}
STITCHING_NOTES = {
    "exact": "every output pixel computed once, on the ground truth's grid",
    "original": "the study's code: 33x33 patches 14 px apart, outputs pasted 21 px apart, so a 7-px band "
                "repeats at every seam",
    "overlap-removed": "the study's fix: outputs pasted 14 px apart, no repeats, still 6 px off",
}
STUDY_KIND = "residual"   # the model whose stitchings are shown


STUDY_NETWORK_LABELS = dict(zip(insight.NETWORK_CHOICES, ("Our residual SRCNN",
                                                         "The study's own network (its 2018 checkpoint)")))
# /inside_study's outputs, in order (tests and API callers read them by these names)
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
    raise refuse(f"Network must be 'ours' or 'study'; got {raw!r}.")


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
        view = views.view_of_file(up.path, scale, STUDY_KIND, network, check=server.check)
        server.check()
        yield view, up


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


def how_compared_markdown(view: insight.InsideView, up: uploads.Checked) -> str:
    """How each stitching met the ground truth, and which part of its loss is offset or repetition."""
    gt, scale = view.prep.gt, view.prep.scale
    who = METHOD_LABELS[STUDY_KIND] if view.network == "ours" else STUDY_NETWORK_LABELS["study"].lower()
    lines = [f"**How they were compared** ({who}, x{scale}, on the MATLAB-bicubic input): PSNR (peak 255) on the "
             f"{convention(scale)}, against the {gt.width}x{gt.height} ground truth. *As compared*: "
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
    left, top, right, bottom = view.crop_box
    if view.region is None:
        where = "the whole photo"
    else:
        rl, rt, rr, rb = view.region
        where = f"the {rr - rl}x{rb - rt} px region around the crop (not the whole photo, for speed)"
    notes = [view.snapshot_notes[k] for k in KINDS] + [view.history_notes[k] for k in KINDS]
    return (f"The same {right - left}x{bottom - top} px crop at ({left}, {top}), where bicubic misses most, x4, "
            f"from snapshots saved during training. PSNR on the {convention(view.prep.scale)}, on {where}."
            "\n\n" + "\n".join(f"- {n}." for n in notes))


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
    """The walk from the study's saved picture to the truth (network "study"), or how to see it."""
    if view.walk is None:
        return ("*Choose \"The study's own network\" above to walk, on this photo, from the picture the 2018 code "
                "saved to the truth, one cause at a time.*")
    return ("**From the picture the study saw to the truth, one cause at a time** (the 2018 code's path with its "
            f"own checkpoint, x{view.prep.scale}; PSNR against the ground truth on the {convention(view.prep.scale)}; "
            "each row changes one thing from the row above):\n\n"
            + walk.walk_markdown(view.walk) + "\n\n" + walk.walk_reading(view.walk))


def look_inside(image, scale, seams=True, network="ours", progress=gr.Progress()):
    """The ``/inside_study`` endpoint: raw upload, scale, the seam toggle and the network ("ours"
    or "study") in; the outputs named in :data:`OUTPUT_NAMES` out (tables, galleries, text, then
    the full-size ground truth and three stitchings as PNG files). Every picture is written in
    one go, two at a time (:class:`PngWriter`)."""
    t0 = time.perf_counter()
    progress(0, desc="Upscaling, stitching three ways, running the snapshots")
    with study_view(image, scale, network) as (view, up), PngWriter() as pngs:
        t1 = time.perf_counter()
        full = [view.prep.gt, view.report.stitched["exact"].image(), *study_stitchings(view, bool(seams))]
        galleries = [seam_gallery(view), adds_gallery(view), snapshot_gallery(view, "srcnn"),
                     snapshot_gallery(view, "residual")]
        pictures = full + [img for gallery in galleries for img, _ in gallery]   # largest first
        for i, img in enumerate(pictures):
            pngs.add(i, img)
        paths = iter(pngs.paths(range(len(pictures))))
    full = [next(paths) for _ in full]
    crops, adds, early_srcnn, early_residual = [[(next(paths), caption) for _, caption in g] for g in galleries]
    wall = time.perf_counter() - t0
    log_request("/inside_study", f"{view.prep.gt.width}x{view.prep.gt.height} x{view.prep.scale} {view.network}",
                {"view (computed, or kept)": t1 - t0, "PNG writing (beside)": pngs.seconds,
                 "PNG writing (waited for)": pngs.waited, "handler": wall})
    return (stitching_table(view), how_compared_markdown(view, up), crops, adds, adds_markdown(view),
            early_markdown(view), early_srcnn, early_residual, early_table_markdown(view), gain_curve_frame(view),
            view.sentences, timing_markdown(view, wall), walk_section_markdown(view), *full)


def study_stitchings(view: insight.InsideView, seams: bool) -> list[Image.Image]:
    """The original and overlap-removed stitchings, seams drawn as 1-px lines when asked."""
    stitched = [view.report.stitched[name] for name in ("original", "overlap-removed")]
    return [insight.draw_seams(st.image(), st.seams_x, st.seams_y) if seams else st.image() for st in stitched]


def seam_images(image, scale, seams: bool, network="ours") -> list:
    """:func:`study_stitchings` of the cached view as PNG files (the seam toggle); nothing changes
    while there is no photo."""
    if image is None:
        return [gr.skip(), gr.skip()]
    with study_view(image, scale, network) as (view, _):
        return png_files(study_stitchings(view, seams))
