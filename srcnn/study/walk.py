"""From the file the 2018 study saved to the truth, one cause at a time (:func:`original_walk`).

    python -m srcnn study data/Set5/butterfly_GT.png --scale 3

The walk is a list of small steps (:data:`WALK`, then :func:`shipped_network` per shipped kind):
each reads the photo's :class:`WalkInputs` (the study's run from srcnn.study.original, the ground
truth, the recipe's bicubic input from srcnn.pipeline) and returns one :class:`Row`, the picture
and the truth it is compared with; :func:`measure` turns the rows into PSNRs and changes.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import NamedTuple

import numpy as np
from PIL import Image

from .. import imaging, pipeline
from ..metrics import psnr_y
from ..models import KINDS, SCALES, Network, check_scale

from .original import OriginalRun, original_model, run_original, study_blur
from .stitching import STRIDE, merge, overlay, source_index


# --------------------------------------------------------------------------- from the study's file to the truth

def study_to_y(picture: np.ndarray, gray: bool) -> np.ndarray:
    """A picture on the study's luma scale (HW, full range 0..1) as the Y it is compared on
    (HW float64, 0..1 scale): for a colour photo BT.601's ``16/255 + 219/255 p`` (the BT.601 Y of
    a gray pixel of value p, and exactly the studio-swing form of the port's ``299 R + 587 G +
    114 B`` luma, since 65.481 + 128.553 + 24.966 = 219); for a gray photo ``p`` itself (gray is
    measured on raw gray, srcnn.imaging.luma)."""
    p = np.asarray(picture, np.float64)
    return p.copy() if gray else 16.0 / 255.0 + (219.0 / 255.0) * p


@dataclass(frozen=True)
class WalkStep:
    """One row of :func:`original_walk`: ``psnr`` (dB, PSNR-Y, peak 255) of ``picture`` against
    ``truth`` (both HW float64, Y in 0..1 scale, the same shape: the pixels compared, already
    overlaid) with ``border`` px shaved from both; ``delta``: psnr minus the previous row's
    (None for the first). ``key``: a short id; ``label``: the table's name for the row;
    ``change``: what this row changes, in plain words; ``cause``: the same as a short phrase for
    :func:`walk_reading` ("" for rows that compare methods rather than undo a cause)."""
    key: str
    label: str
    change: str
    cause: str
    psnr: float
    delta: float | None
    picture: np.ndarray
    truth: np.ndarray
    border: int


def _inside(index: np.ndarray, n: int, border: int) -> np.ndarray:
    """Which of the positions ``index`` (into 0..n-1) lie at least ``border`` px from both ends."""
    return (index >= border) & (index < n - border)


@dataclass(frozen=True)
class WalkInputs:
    """What every step of the walk reads, for one photo: the study's ``run`` (:func:`run_original`)
    with its network ``model``, our ``shipped`` networks, the ground truth (``gt_image``, 8-bit PIL)
    and its Y as compared (``truth``, HW float64, 0..1 scale; a gray photo: raw gray)."""
    scale: int
    run: OriginalRun
    model: Network
    shipped: dict[str, Network]
    gt_image: Image.Image
    truth: np.ndarray
    gray: bool

    @property
    def radius(self) -> int:
        return self.run.grid.radius

    def study_y(self, picture: np.ndarray) -> np.ndarray:
        """A picture on the study's luma scale as the Y it is compared on (:func:`study_to_y`)."""
        return study_to_y(picture, self.gray)

    def network(self, model: Network, y: np.ndarray) -> np.ndarray:
        """``model`` on a luma, exact (srcnn.pipeline.apply_network, the engine), HW float64."""
        return pipeline.apply_network(model, np.asarray(y, np.float32)).astype(np.float64)

    @cached_property
    def bicubic_input(self) -> np.ndarray:
        """The recipe's network input (srcnn.pipeline.bicubic_planes' luma) of the papers'
        low-resolution image (srcnn.pipeline.degrade, 8-bit): HW float64, the truth's size."""
        lr = imaging.pil_to_arrays(pipeline.degrade(self.gt_image, self.scale))[0]
        return pipeline.bicubic_planes(lr, self.scale)[:, :, 0].astype(np.float64)


class Row(NamedTuple):
    """One step's comparison before it is measured: ``picture`` against ``truth`` (both HW float64,
    Y in 0..1 scale, already overlaid), ``border`` px shaved; the rest as in :class:`WalkStep`."""
    key: str
    label: str
    change: str
    cause: str
    picture: np.ndarray
    truth: np.ndarray
    border: int


def saved_file(w: WalkInputs) -> Row:
    """The study's 8-bit file (:func:`run_original`), top-left corners overlaid, common area."""
    saved = w.study_y(w.run.saved / 255.0)
    size = f"{saved.shape[1]}x{saved.shape[0]}"
    return Row("saved", "saved file", f"the study's 8-bit file ({size}; the save stretched its darkest value to 0 and "
               "its brightest to 255), top-left corners overlaid on the truth", "", *overlay(saved, w.truth, 0, 0),
               w.scale)


def before_byte_scaling(w: WalkInputs) -> Row:
    """The float picture before byte-scaling, overlaid the same way: what the save cost."""
    return Row("float", "before the save", "the picture before the save stretched it to 0..255",
               "removing the save's stretch", *overlay(w.study_y(w.run.merged), w.truth, 0, 0), w.scale)


def aligned(w: WalkInputs) -> Row:
    """The float picture shifted by the valid convolutions' radius (6 px) onto the truth."""
    r = w.radius
    return Row("aligned", f"aligned {r} px", f"shifted {r} px right and down: the {r} px the network loses at each "
               "edge (its layers keep only pixels computed from whole neighbourhoods); it helps little while bands "
               "repeat, since each seam pushes the rest 7 px further off",
               f"aligning by the {r}-px offset", *overlay(w.study_y(w.run.merged), w.truth, r, r), w.scale)


def at_source(w: WalkInputs) -> Row:
    """Without the repeated bands: the same outputs pasted at the stride ("overlap-removed", each
    image pixel once), every pixel against the truth pixel it was computed for (those within
    ``scale`` px of the edge dropped: none, with a 6-px radius)."""
    grid = w.run.grid
    flat = merge(w.run.outputs, grid, "overlap-removed")
    rows, cols = source_index(grid.nx, grid, "overlap-removed"), source_index(grid.ny, grid, "overlap-removed")
    rin, cin = _inside(rows, w.truth.shape[0], w.scale), _inside(cols, w.truth.shape[1], w.scale)
    picture, truth = w.study_y(flat[np.ix_(rin, cin)]), w.truth[np.ix_(rows[rin], cols[cin])]
    if grid.stride < grid.label_size:            # outputs overlap: bands repeat
        return Row("at-source", "no repeated bands", f"outputs pasted {grid.stride} px apart (each pixel once), "
                   "each against the truth pixel it was computed for", "removing the repeated bands",
                   picture, truth, 0)
    return Row("at-source", "at source", f"no bands repeat at stride {grid.stride}: the same pixels, each against "
               "the truth pixel it was computed for (only the compared area changes)", "comparing at source",
               picture, truth, 0)


def exact_stitching(w: WalkInputs) -> Row:
    """The same network on the same blurred input, whole image at once (mirror padding,
    srcnn.pipeline.apply_network), the whole photo: this adds the border and the strips no patch
    reached. From here on, pictures are float network outputs, not rounded."""
    return Row("exact", "exact stitching", "the whole image through the network at once (its edges mirrored "
               "outward), the whole photo compared; still the study's blurred input, so not the table's Exact",
               "covering the whole photo (its border and the strips no patch reached)",
               w.study_y(w.network(w.model, w.run.blurred)), w.truth, w.scale)


def bt601_luma(w: WalkInputs) -> Row:
    """The same, but blurring the truth's BT.601 Y instead of the port's luma: the luma reading."""
    change = ("the same blur of the truth's gray (a gray photo: the port read the same values)" if w.gray
              else "the same blur of the truth's luma as BT.601 defines it (16-235), instead of the study code's own "
                   "luma (0 black to 1 white)")
    return Row("bt601", "BT.601 luma", change, "reading BT.601 Y",
               w.network(w.model, study_blur(w.truth, w.scale)), w.truth, w.scale)


def bicubic_input(w: WalkInputs) -> Row:
    """The same network on the recipe's MATLAB-bicubic input (:attr:`WalkInputs.bicubic_input`):
    the degradation it was trained on against ours."""
    return Row("bicubic-input", "on a bicubic input", "a MATLAB-bicubic input (the photo shrunk to 8 bits, enlarged "
               "again with MATLAB's bicubic) instead of the study's blur: the table's Exact setting",
               "a true bicubic input", w.network(w.model, w.bicubic_input),
               w.truth, w.scale)


def bicubic_alone(w: WalkInputs) -> Row:
    """No network: the bicubic input itself."""
    return Row("bicubic", "bicubic", "no network: the bicubic input itself", "", w.bicubic_input, w.truth, w.scale)


SHIPPED_NAMES = {"srcnn": "our SRCNN", "residual": "our residual SRCNN"}


def shipped_network(w: WalkInputs, kind: str) -> Row:
    """Our shipped ``kind`` network on the bicubic input."""
    name = SHIPPED_NAMES.get(kind, kind)
    return Row(kind, f"{name} x{w.scale}", f"{name} (trained by this project) on the bicubic input",
               "", w.network(w.shipped[kind], w.bicubic_input), w.truth, w.scale)


WALK = (saved_file, before_byte_scaling, aligned, at_source, exact_stitching, bt601_luma, bicubic_input, bicubic_alone)


def walk_inputs(hr: Image.Image, scale: int, stride: int = STRIDE, model: Network | None = None,
                shipped: dict[str, Network] | None = None, run: OriginalRun | None = None) -> WalkInputs:
    """:class:`WalkInputs` for ``hr`` at ``scale`` (arguments as :func:`original_walk`)."""
    scale = check_scale(scale)
    model = original_model() if model is None else model
    run = run_original(hr, scale, stride, model) if run is None else run
    if shipped is None:
        shipped = {kind: pipeline.model_for(kind, scale) for kind in KINDS}
    gt_image = pipeline.ground_truth(hr, scale)
    gt = imaging.pil_to_arrays(gt_image)[0]
    return WalkInputs(scale, run, model, shipped, gt_image, imaging.luma(gt).astype(np.float64), gt.shape[2] == 1)


def measure(rows: list[Row]) -> list[WalkStep]:
    """Each row's PSNR-Y (srcnn.metrics.psnr_y) and its change from the row before."""
    steps: list[WalkStep] = []
    for r in rows:
        value = psnr_y(r.picture, r.truth, r.border)
        delta = None if not steps else value - steps[-1].psnr
        steps.append(WalkStep(r.key, r.label, r.change, r.cause, value, delta, r.picture, r.truth, r.border))
    return steps


def original_walk(hr: Image.Image, scale: int, stride: int = STRIDE, model: Network | None = None,
                  shipped: dict[str, Network] | None = None, run: OriginalRun | None = None) -> list[WalkStep]:
    """From the file the 2018 study saved to the truth, one cause at a time, for one photo: the
    rows of :data:`WALK` (each changes one thing from the row before; ``delta`` is that change in
    dB), then our ``shipped`` networks on the bicubic input (default srcnn.pipeline.model_for).

    The convention: PSNR-Y (peak 255) against the ground truth (``hr`` modcropped, 8-bit, EXIF
    applied) on its BT.601 Y (srcnn.imaging.luma; a gray photo: its raw gray), ``scale`` px
    shaved. The study's pictures are full-range lumas (0..1 = black..white), so each is compared
    as :func:`study_to_y` of it (``16/255 + 219/255 p``): the Y of that gray picture. This
    reproduces the original-study README's butterfly figures at x3: the saved file 10.31 dB,
    11.26 before byte-scaling, and 22.70 for the file's pixels each against the truth pixel it was
    computed for. Compared raw with the truth's Y they would be 9.52 and 10.61; against the port's
    own luma, 8.99 and 9.93. (Reading the luma as ``convert('RGB').convert('F')``, without the
    YCbCr round trip, gives 10.32, 11.26 and 22.72.)

    ``model``: the study's network (default :func:`original_model`); ``run``: a
    :func:`run_original` of the same photo with that network, to reuse (its stride then applies).
    """
    w = walk_inputs(hr, scale, stride, model, shipped, run)
    return measure([step(w) for step in WALK] + [shipped_network(w, kind) for kind in w.shipped])


def walk_markdown(steps: list[WalkStep]) -> str:
    """The walk as a Markdown table: step, what it changes, PSNR-Y (dB), change (dB)."""
    lines = ["| step | what changed | PSNR-Y (dB) | change (dB) |", "|---|---|---|---|"]
    for s in steps:
        delta = "" if s.delta is None else f"{s.delta:+.2f}"
        lines.append(f"| {s.label} | {s.change} | {s.psnr:.2f} | {delta} |")
    return "\n".join(lines)


def walk_reading(steps: list[WalkStep]) -> str:
    """A short plain-language reading of :func:`original_walk`'s rows: what the study's number
    measured, which causes cost how much on this photo (largest first), and where the network
    stands against bicubic and ours. Every figure is computed from ``steps``."""
    by = {s.key: s for s in steps}
    first = steps[0]
    causes = [s for s in steps[1:] if s.cause and s.key not in ("bt601", "bicubic-input")]
    ranked = sorted(causes, key=lambda s: -abs(s.delta))
    parts = ", ".join(f"{s.cause} {s.delta:+.2f} dB" for s in ranked)
    text = (f"The study's saved file scores {first.psnr:.2f} dB against the truth; that figure measures how "
            f"the outputs were pasted and saved more than the network. Undoing one thing at a time "
            f"(largest change first): {parts}.")
    if "exact" in by:
        e = by["exact"]
        text += (f" Stitched exactly, the same network on the same blurred input scores {e.psnr:.2f} dB "
                 f"({e.psnr - first.psnr:+.2f} dB in all).")
    if "bt601" in by and "bicubic-input" in by:
        b, f = by["bt601"], by["bicubic-input"]
        text += (f" Reading the luma as BT.601 changes that by {b.delta:+.2f} dB; on a true bicubic input, "
                 f"the degradation this project uses, it scores {f.psnr:.2f} dB ({f.delta:+.2f} dB)")
        if "bicubic" in by:
            g = by["bicubic"]
            text += f", {f.psnr - g.psnr:+.2f} dB against bicubic itself ({g.psnr:.2f} dB)"
        text += "."
    ours = [by[k] for k in KINDS if k in by]
    if ours and "bicubic" in by:
        g = by["bicubic"]
        text += " On that input " + " and ".join(f"{s.label} scores {s.psnr:.2f} dB ({s.psnr - g.psnr:+.2f} "
                                                 "against bicubic)" for s in ours) + "."
    return text


def main(argv: list[str] | None = None) -> None:
    """``python -m srcnn study PHOTO --scale 3``: print the walk from the study's file to the truth."""
    p = argparse.ArgumentParser(
        prog="python -m srcnn study",
        description="Reproduce the 2018 study's test path (the port's checkpoint, its blur, patches, merge "
                    "and save) on a ground-truth photo and walk from its PSNR to the truth, one cause at a "
                    "time. PSNR-Y: BT.601 Y (16-235), `scale` px shaved.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("image", type=Path, help="ground-truth photo (e.g. data/Set5/butterfly_GT.png)")
    p.add_argument("--scale", type=int, default=3, choices=SCALES, help="upscaling factor")
    p.add_argument("--stride", type=int, default=STRIDE, help="patch stride of the study's path (1..21)")
    args = p.parse_args(argv)
    with Image.open(args.image) as img:
        img.load()
        steps = original_walk(img, args.scale, args.stride)
    print(f"{args.image.name}, x{args.scale}, stride {args.stride}\n")
    print(walk_markdown(steps))
    print()
    print(walk_reading(steps))


if __name__ == "__main__":
    main()
