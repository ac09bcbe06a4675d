"""How the 2018 study's TensorFlow port cut, ran and pasted a test image, reproduced (never the
path a real output takes), and how each way of pasting scores against the ground truth.

The TensorFlow port the 2018 study used (tegg89/SRCNN-Tensorflow, ``utils.input_setup`` with
``is_train=False`` and ``utils.merge``) assembled a test image like this, on the bicubic-upscaled
luma of height ``h`` and width ``w``:

1. patches: ``for x in range(0, h - 33 + 1, 14): for y in range(0, w - 33 + 1, 14)`` cut the
   33 x 33 input at (x, y); ``nx`` counts the x values (rows of patches), ``ny`` the y values.
   The right and bottom strips that no full patch reaches are never processed.
2. the network with *valid* convolutions turns each patch into a 21 x 21 output (9-1-5: 6 px
   lost on each side; in general ``33 - 2 radius``). Output pixel (r, c) of the patch at (x, y)
   is computed for image pixel ``(x + 6 + r, y + 6 + c)``.
3. ``merge``: patch number ``idx`` (row-major) goes to ``j = idx // ny`` (patch row) and
   ``i = idx % ny`` (patch column) and is pasted at ``[21 j, 21 j + 21) x [21 i, 21 i + 21)`` of
   an ``(21 nx) x (21 ny)`` image.

So outputs are pasted at a 21-px pitch while their inputs were 14 px apart: output row
``21 j + r`` shows image row ``14 j + 6 + r``, and at every seam the 7 rows (and columns)
``14 (j + 1) + 6 ... 14 (j + 1) + 12`` are shown twice (output rows ``21 j + 14 ... 21 j + 20``
and again ``21 (j + 1) + 0 ... 21 (j + 1) + 6``). The result is about 1.5 times the image's size,
and even its first pixel sits 6 px off the ground truth (the valid-convolution crop).

``stitching="original"`` reproduces exactly that. ``stitching="overlap-removed"`` is the study's
own fix: the same patches and outputs, pasted at a 14-px pitch, each keeping only rows and
columns ``[keep, keep + 14)`` of its 21 x 21 output (``keep=0`` by default: the top-left
14 x 14, i.e. each output drops the 7 px that the next patch computes again). Output pixel
``(R, C)`` then shows image pixel ``(R + 6 + keep, C + 6 + keep)``: no repeats, no gaps, a
``(14 nx) x (14 ny)`` image offset by ``6 + keep`` px. (tegg89's later ``merge`` keeps
``image[4:-3, 4:-3]``: ``keep=4``.)

Every stitching gives a colour image by the product's recipe (srcnn.pipeline): the bicubic
planes (``pipeline.bicubic_planes``: YCbCr, or gray), Y through the network as above, Cb and Cr
taken from the same image positions (``rows``/``cols`` below) and converted back
(``pipeline.to_color``), alpha likewise (``pipeline.bicubic_alpha``). Arrays are float32, luma
HW in 0..1 scale (Y in 16/255..235/255), colour HWC in 0..1, as in srcnn.imaging.

The stride 14 above is the 2017 code's; any stride from 1 to 21 works the same way (the 2016
code ran its test image at ``--stride 21``: outputs pasted at 21 px, 21 px apart, seamless).

srcnn.study.original goes further and reproduces the whole 2017 test path on a ground-truth
photo with the port's own checkpoint; srcnn.study.walk walks from that file's PSNR to the truth.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image

from .. import imaging, pipeline
from ..metrics import psnr_y
from ..tiling import BatchFn

IMAGE_SIZE = 33   # the original code's input patch (image_size)
STRIDE = 14       # its stride between patches
STUDY_STITCHINGS = ("original", "overlap-removed")


@dataclass(frozen=True)
class PatchGrid:
    """The original code's patch layout on an image of ``height`` x ``width`` (bicubic size)."""
    height: int
    width: int
    nx: int          # patches down (the original code's nx: values of x, the row offset)
    ny: int          # patches across
    radius: int      # pixels the valid convolutions lose on each side (6 for 9-1-5)
    image_size: int = IMAGE_SIZE
    stride: int = STRIDE

    @property
    def label_size(self) -> int:
        """Side of one network output: 33 - 2 radius (21 for 9-1-5)."""
        return self.image_size - 2 * self.radius

    def pitch(self, stitching: str) -> int:
        """Distance between pasted outputs: label_size ("original") or stride ("overlap-removed")."""
        return {"original": self.label_size, "overlap-removed": self.stride}[check_stitching(stitching)]


def check_stitching(stitching: str) -> str:
    if stitching not in STUDY_STITCHINGS:
        raise ValueError(f"unknown study stitching {stitching!r}: choose one of {', '.join(STUDY_STITCHINGS)}")
    return stitching


def patch_grid(height: int, width: int, radius: int = 6, image_size: int = IMAGE_SIZE,
               stride: int = STRIDE) -> PatchGrid:
    """Count patches as ``input_setup`` does: ``len(range(0, h - 33 + 1, 14))`` per axis.

    Raises ValueError when the bicubic image is smaller than one patch (33 px) on a side, or when
    ``stride`` is not 1 .. label_size (21): a longer stride would leave gaps between outputs.
    """
    if isinstance(stride, bool) or int(stride) != stride or stride < 1:
        raise ValueError(f"stride must be a whole number of pixels >= 1, got {stride!r}")
    if image_size - 2 * radius < stride:
        raise ValueError(f"stride {stride} is too long: a {image_size}-px patch gives {image_size - 2 * radius}-px "
                         f"outputs with radius {radius}, too small for a {stride}-px pitch")
    nx, ny = len(range(0, height - image_size + 1, stride)), len(range(0, width - image_size + 1, stride))
    if nx == 0 or ny == 0:
        raise ValueError(f"the original study's code needs an upscaled image of at least {image_size}x{image_size} px "
                         f"(one patch), got {width}x{height} px")
    return PatchGrid(height, width, nx, ny, radius, image_size, stride)


def extract_patches(image: np.ndarray, grid: PatchGrid) -> np.ndarray:
    """The 33 x 33 input patches of an HW array, in the original order (x outer, y inner):
    ``(nx * ny, 33, 33)`` float32, patch ``j * ny + i`` cut at ``(stride j, stride i)``."""
    s, p = grid.stride, grid.image_size
    image = np.asarray(image, np.float32)
    return np.stack([image[s * j:s * j + p, s * i:s * i + p] for j in range(grid.nx) for i in range(grid.ny)])


def run_patches(fn: BatchFn, patches: np.ndarray, batch: int = 256) -> np.ndarray:
    """Apply a valid-convolution network (srcnn.tiling's BatchFn contract) to every patch,
    ``batch`` at a time: ``(N, 33, 33) -> (N, 21, 21)`` float32 (for radius 6)."""
    return np.concatenate([np.asarray(fn(patches[k:k + batch]), np.float32) for k in range(0, len(patches), batch)])


def merge(outputs: np.ndarray, grid: PatchGrid, stitching: str, keep: int = 0) -> np.ndarray:
    """Paste per-patch outputs ``(nx * ny, L, L)`` into one HW float32 array.

    "original": ``utils.merge``, output ``idx`` at ``(L j, L i)``, ``j = idx // ny``, ``i = idx % ny``,
    size ``(L nx) x (L ny)`` with L = label_size (21). "overlap-removed": rows and columns
    ``[keep, keep + S)`` of each output at ``(S j, S i)``, size ``(S nx) x (S ny)``, S = the grid's
    stride (14; at stride 21 both stitchings give the same picture).
    """
    pitch = grid.pitch(stitching)
    first = keep if stitching == "overlap-removed" else 0
    if not 0 <= first <= grid.label_size - pitch:
        raise ValueError(f"keep must be in 0..{grid.label_size - pitch}, got {keep}")
    out = np.zeros((pitch * grid.nx, pitch * grid.ny), np.float32)
    for idx, block in enumerate(outputs):
        j, i = divmod(idx, grid.ny)
        out[pitch * j:pitch * (j + 1), pitch * i:pitch * (i + 1)] = block[first:first + pitch, first:first + pitch]
    return out


def source_index(n_patches: int, grid: PatchGrid, stitching: str, keep: int = 0) -> np.ndarray:
    """For each output row (or column) of a stitching, the image row (column) it was computed
    for: ``S (R // 21) + 6 + R % 21`` ("original"), ``R + 6 + keep`` ("overlap-removed"), S = stride (14).
    Use ``n_patches = grid.nx`` for rows, ``grid.ny`` for columns. int64, length pitch * n."""
    pitch = grid.pitch(stitching)
    first = keep if stitching == "overlap-removed" else 0
    out = np.arange(pitch * n_patches)
    return grid.stride * (out // pitch) + grid.radius + first + out % pitch


def seams(n_patches: int, grid: PatchGrid, stitching: str) -> tuple[int, ...]:
    """Output rows (columns) where a new patch's output begins, the first excluded:
    ``pitch * k`` for k = 1 .. n - 1. A seam line is drawn just before that row."""
    pitch = grid.pitch(stitching)
    return tuple(pitch * k for k in range(1, n_patches))


@dataclass(frozen=True)
class Stitched:
    """One stitching of one image. ``luma``: HW float32 0..1 scale, unrounded network output;
    ``color``: HWC float32 0..1 (C = 1 or 3), not clipped; ``rows``/``cols``: image (and ground
    truth) position each output row/column was computed for; ``seams_y``/``seams_x``: output
    rows/columns where a new patch begins (empty for "exact"); ``source``: the exact stitching
    this one was gathered from (:func:`stitch_from_exact`), whose 8-bit pixels it then reuses."""
    stitching: str
    luma: np.ndarray
    color: np.ndarray
    alpha: np.ndarray | None
    rows: np.ndarray
    cols: np.ndarray
    seams_y: tuple[int, ...]
    seams_x: tuple[int, ...]
    grid: PatchGrid | None
    source: Stitched | None = None

    @cached_property
    def _image(self) -> Image.Image:
        if self.source is not None:   # the same pixels, already rounded once: gather them
            return Image.fromarray(np.asarray(self.source.image())[np.ix_(self.rows, self.cols)])
        alpha = None if self.alpha is None else np.clip(self.alpha, 0, 1)
        return imaging.arrays_to_pil(self.color, alpha)

    def image(self) -> Image.Image:
        """8-bit PIL image (L, LA, RGB or RGBA), clipped and rounded; made once and shared:
        copy it before changing it."""
        return self._image

    @cached_property
    def _y8(self) -> np.ndarray:
        if self.source is not None:
            return self.source.y8()[np.ix_(self.rows, self.cols)]
        return imaging.luma(imaging.pil_to_arrays(self.image())[0])

    def y8(self) -> np.ndarray:
        """Y (BT.601, HW float32, 0..1 scale) of the 8-bit :meth:`image`: what PSNR is measured
        on, as for a downloaded file. Made once and shared: do not change it."""
        return self._y8


def _stitchings(planes: np.ndarray, alpha: np.ndarray | None, grid: PatchGrid, keep: int,
                luma_of) -> dict[str, Stitched]:
    """Both study stitchings, ``luma_of(stitching, rows, cols)`` giving each one's network luma;
    colour and alpha from ``planes`` and ``alpha`` at the same image positions."""
    result = {}
    for st in STUDY_STITCHINGS:
        rows, cols = source_index(grid.nx, grid, st, keep), source_index(grid.ny, grid, st, keep)
        at = np.ix_(rows, cols)
        luma = luma_of(st, rows, cols)
        result[st] = Stitched(st, luma, pipeline.to_color(planes[at], luma), None if alpha is None else alpha[at],
                              rows, cols, seams(grid.nx, grid, st), seams(grid.ny, grid, st), grid)
    return result


def stitch_study(planes: np.ndarray, fn: BatchFn, radius: int, alpha: np.ndarray | None = None,
                 keep: int = 0, batch: int = 256) -> dict[str, Stitched]:
    """Both study stitchings of an image's bicubic planes (``pipeline.bicubic_planes``: HWC, Y in
    channel 0; ``alpha`` HW or None, already upscaled), literally: one pass of ``fn`` over the
    original code's patches of Y, then its ``merge`` (or the 14-px paste)."""
    y = planes[:, :, 0]
    grid = patch_grid(*y.shape, radius=radius)
    outputs = run_patches(fn, extract_patches(y, grid), batch)
    return _stitchings(planes, alpha, grid, keep, lambda st, rows, cols: merge(outputs, grid, st, keep))


def stitch_from_exact(exact: Stitched, radius: int, keep: int = 0) -> dict[str, Stitched]:
    """The same two stitchings gathered from the exact stitching (:func:`stitch_exact`), without
    running the network again: with valid convolutions a patch's output pixel (r, c) *is* the
    whole-image output at (x + radius + r, y + radius + c) (those pixels see no image border), so
    pixel (R, C) of a study stitching is the exact one's pixel (rows[R], cols[C]): its luma,
    colour and alpha, and (see ``Stitched.source``) its 8-bit value and that value's Y, gathered
    rather than converted and rounded again. The same pixels as :func:`stitch_study` (tested),
    many times cheaper (the patches compute each image pixel (21/14)^2 times)."""
    grid = patch_grid(*exact.luma.shape, radius=radius)
    result = {}
    for st in STUDY_STITCHINGS:
        rows, cols = source_index(grid.nx, grid, st, keep), source_index(grid.ny, grid, st, keep)
        at = np.ix_(rows, cols)
        result[st] = Stitched(st, exact.luma[at], exact.color[at], None if exact.alpha is None else exact.alpha[at],
                              rows, cols, seams(grid.nx, grid, st), seams(grid.ny, grid, st), grid, source=exact)
    return result


def stitch_exact(planes: np.ndarray, luma: np.ndarray, alpha: np.ndarray | None = None) -> Stitched:
    """Wrap the exact path's network luma (the size of ``planes``, the bicubic planes it was
    computed from) as a Stitched: colour by ``pipeline.to_color``, as srcnn.upscale makes it."""
    rows, cols = np.arange(planes.shape[0]), np.arange(planes.shape[1])
    return Stitched("exact", luma, pipeline.to_color(planes, luma), alpha, rows, cols, (), (), None)


def upscale_study(lr: Image.Image, scale: int, method: str, stitching: str, keep: int = 0) -> Image.Image:
    """The study's test path (stitching "original" or "overlap-removed") on ``lr``'s bicubic
    planes (``pipeline.bicubic_planes``, ``scale`` times), network ``method`` ("srcnn" or "residual").

    Output size: ``21 nx x 21 ny`` ("original") or ``14 nx x 14 ny`` ("overlap-removed"), not
    the input's size times scale (module docstring). ``method="bicubic"`` raises ValueError:
    without a network there are no patch outputs to stitch.
    """
    check_stitching(stitching)
    if method == "bicubic":
        raise ValueError(f"stitching={stitching!r} reproduces how the original study pasted network outputs; "
                         "bicubic has none: use srcnn.upscale(..., method='bicubic')")
    color, alpha = imaging.pil_to_arrays(lr)
    planes = pipeline.bicubic_planes(color, scale)
    model = pipeline.model_for(method, scale)
    return stitch_study(planes, pipeline.batch_fn(model), model.radius, pipeline.bicubic_alpha(alpha, scale),
                        keep)[stitching].image()


# --------------------------------------------------------------------------- against the ground truth

@dataclass(frozen=True)
class Scores:
    """PSNR-Y (dB, peak 255, ``border`` px shaved from the compared area) of one stitching.

    ``naive``: output and ground truth overlaid from their top-left corners, common area only
    (what comparing the original code's image file with the ground truth amounts to);
    ``aligned``: output pixel (R, C) against ground truth (R + o, C + o), o = ``offset``, the known
    shift (6 + keep; 0 for exact); ``best``/``best_shift``: the best integer shift (dy, dx) in
    0..max_shift (searched on the top-left 384 px, never worse than naive or aligned; for "original"
    no single shift fits everywhere, since each seam adds 7 px of drift); ``at_source``: every
    output pixel against the ground-truth pixel it was computed for (rows/cols), which leaves only
    what the network itself gets wrong."""
    naive: float
    aligned: float
    offset: int
    best: float
    best_shift: tuple[int, int]
    at_source: float
    compared: str


def overlay(out: np.ndarray, gt: np.ndarray, dy: int, dx: int) -> tuple[np.ndarray, np.ndarray]:
    """``out`` and ``gt`` shifted by (dy, dx) >= 0 (out[R, C] over gt[R + dy, C + dx]), cut to
    their common area: two arrays of one shape (views, not copies)."""
    h, w = min(out.shape[0], gt.shape[0] - dy), min(out.shape[1], gt.shape[1] - dx)
    return out[:h, :w], gt[dy:dy + h, dx:dx + w]


def shifted_psnr(out_y: np.ndarray, gt_y: np.ndarray, dy: int, dx: int, border: int) -> float:
    """PSNR-Y of ``out_y[R, C]`` against ``gt_y[R + dy, C + dx]`` on their common area (dy, dx >= 0)."""
    return psnr_y(*overlay(out_y, gt_y, dy, dx), border=border)


def search_shift(out_y: np.ndarray, gt_y: np.ndarray, max_shift: int, border: int,
                 window: int = 384) -> tuple[int, int]:
    """The integer shift (dy, dx) in 0..max_shift with the lowest mean squared error, searched
    on the top-left ``window`` x ``window`` px of the output (speed)."""
    def mse(dy: int, dx: int) -> float:
        a, b = overlay(out_y[:window, :window], gt_y, dy, dx)
        d = (a[border:a.shape[0] - border, border:a.shape[1] - border]
             - b[border:b.shape[0] - border, border:b.shape[1] - border])
        return float(np.mean(d * d)) if d.size else math.inf
    return min(((dy, dx) for dy in range(max_shift + 1) for dx in range(max_shift + 1)), key=lambda s: mse(*s))


def score_stitching(st: Stitched, gt_y: np.ndarray, border: int, keep: int = 0, max_shift: int = 12) -> Scores:
    """Compare a stitching's 8-bit output (its Y) with the ground-truth luma ``gt_y`` (HW 0..1)."""
    y = st.y8()
    offset = 0 if st.grid is None else st.grid.radius + (keep if st.stitching == "overlap-removed" else 0)
    candidates = {search_shift(y, gt_y, max_shift, border), (0, 0), (offset, offset)}  # the window is not the whole
    psnrs = {c: shifted_psnr(y, gt_y, *c, border) for c in candidates}                 # each shift scored once
    best, shift = max((p, c) for c, p in psnrs.items())
    h, w = y.shape
    compared = (f"{w}x{h} output vs {gt_y.shape[1]}x{gt_y.shape[0]} ground truth; naive: top-left corners "
                f"overlaid; aligned: shifted {offset} px right and down; common area, {border} px shaved")
    return Scores(psnrs[(0, 0)], psnrs[(offset, offset)], offset, best, shift,
                  psnr_y(y, gt_y[np.ix_(st.rows, st.cols)], border), compared)


def seam_position(grid: PatchGrid, k: int) -> int:
    """Image row (or column) shown first after the k-th seam of "original": ``14 k + radius``
    (its copy sits 7 px before the seam, at the end of the previous output)."""
    return grid.stride * k + grid.radius


def crop_box(st: Stitched, size: int, row: int, col: int) -> tuple[int, int, int, int]:
    """A ``size`` x ``size`` box (left, top, right, bottom) in ``st``'s own pixels, centred on
    the output pixel computed for image position (row, col) (the last such pixel: in "original"
    that is the one right after a seam), so boxes from different stitchings show the same place."""
    def own(index: np.ndarray, centre: int) -> int:
        c = len(index) - 1 - int(np.argmin(np.abs(index[::-1] - centre)))
        return int(np.clip(c - size // 2, 0, max(0, len(index) - size)))
    left, top = own(st.cols, col), own(st.rows, row)
    return left, top, left + size, top + size
