"""The 2017 port's whole test path on a ground-truth photo, with its own checkpoint
(``checkpoints/original-2018``): its luma, its blur, the patches, ``merge`` and the byte-scaling
of the saved file (:func:`run_original`). Patch layout and ``merge``: srcnn.study.stitching."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps
from scipy import ndimage

from .. import imaging
from ..pipeline import batch_fn
from ..runner import default_runner
from ..models import Network, check_scale
from ..weights import BUNDLED_DIR

from .stitching import STRIDE, PatchGrid, extract_patches, merge, patch_grid, run_patches


# --------------------------------------------------------------------------- the 2017 test path, end to end

ORIGINAL_CHECKPOINT = "original-2018"   # checkpoints/original-2018: the port's shipped weights, converted


def original_model() -> Network:
    """The network the 2018 study ran: tegg89/SRCNN-Tensorflow's ``SRCNN.model-2550000`` (9-1-5,
    converted by tools/convert_original_checkpoint.py, bundled in ``checkpoints/original-2018``),
    loaded strictly once by the default runner (srcnn.runner.Runner.folder_network). Shared: do
    not change it."""
    return default_runner().folder_network("srcnn", BUNDLED_DIR / ORIGINAL_CHECKPOINT)


def original_luma(img: Image.Image) -> np.ndarray:
    """The luma the 2017 port read, HW float64 in 0..1 (full range: 0 and 1 are black and white).

    ``scipy.misc.imread(path, flatten=True, mode='YCbCr')`` is Pillow's ``convert('YCbCr')`` then
    ``convert('F')``, which passes through 8-bit RGB: ``L = (299 R + 587 G + 114 B) / 1000`` of
    the *round-tripped* RGB (about one level darker than the same sum on the file's RGB), / 255.
    Not BT.601's 16..235 Y: that is ``16/255 + 219/255 L`` (:func:`study_to_y`). A one-channel
    image: its gray / 255 (16-bit: / 65535), as srcnn.imaging reads it. EXIF orientation is
    applied first, as for the ground truth (the port ignored it; the Set5/Set14 files have none).
    """
    img = ImageOps.exif_transpose(img)
    color = imaging.pil_to_arrays(img)[0]
    if color.shape[2] == 1:
        return color[:, :, 0].astype(np.float64)
    return np.asarray(img.convert("RGB").convert("YCbCr").convert("F"), np.float64) / 255.0


def study_blur(label: np.ndarray, scale: int) -> np.ndarray:
    """The port's degradation of a modcropped luma (HW, 0..1): ``scipy.ndimage.zoom`` by 1/scale
    then by scale, cubic (order 3) *without* the B-spline prefilter, mode 'constant'. Without
    the prefilter this is a B-spline blur, not an interpolation (on Set5 x3 about 2 dB below
    MATLAB bicubic). HW float64 out, the input's size (sides must be multiples of ``scale``)."""
    small = ndimage.zoom(np.asarray(label, np.float64), 1.0 / scale, order=3, mode="constant", prefilter=False)
    return ndimage.zoom(small, scale, order=3, mode="constant", prefilter=False)


def byte_scale(picture: np.ndarray) -> np.ndarray:
    """``scipy.misc.imsave``'s conversion of a float picture (HW, any range) to 8 bits (its
    ``bytescale``): ``(x - min) * (255 / (max - min))``, clipped to 0..255, ``+ 0.5``, truncated.
    The picture's own minimum and maximum become 0 and 255, whatever they were (a flat picture:
    ``max - min`` taken as 1). HW uint8."""
    x = np.asarray(picture, np.float64)
    lo, hi = float(x.min()), float(x.max())
    span = hi - lo if hi > lo else 1.0
    return (np.clip((x - lo) * (255.0 / span), 0.0, 255.0) + 0.5).astype(np.uint8)


@dataclass(frozen=True)
class OriginalRun:
    """The 2017 test path's pictures for one ground-truth photo (:func:`run_original`).

    ``luma``: :func:`original_luma` of the photo, modcropped, HW float64 0..1 (full range);
    ``blurred``: :func:`study_blur` of it, the network's input, same size; ``grid``: the patch
    layout; ``outputs``: the network's ``(nx ny, 21, 21)`` float32 outputs in patch order;
    ``merged``: ``utils.merge`` of them, ``(21 nx) x (21 ny)`` float32 (full-range 0..1 scale, not
    clipped), the picture before saving; ``saved``: :func:`byte_scale` of it, HW uint8: the
    file's pixels."""
    scale: int
    luma: np.ndarray
    blurred: np.ndarray
    grid: PatchGrid
    outputs: np.ndarray
    merged: np.ndarray
    saved: np.ndarray


def run_original(hr: Image.Image, scale: int, stride: int = STRIDE, model: Network | None = None) -> OriginalRun:
    """The 2017 port's test path on a ground-truth photo ``hr``: :func:`original_luma`, modcrop,
    :func:`study_blur`, 33 x 33 patches at ``stride`` (x outer, y inner), the network with valid
    convolutions (``model``, default :func:`original_model`), ``merge`` at a 21-px pitch,
    :func:`byte_scale`. Set5's butterfly (256 x 256) at x3 gives a 336 x 336 file at stride 14,
    231 x 231 at stride 21."""
    scale = check_scale(scale)
    model = original_model() if model is None else model
    luma = imaging.modcrop(original_luma(hr), scale)
    blurred = study_blur(luma, scale)
    grid = patch_grid(*blurred.shape, radius=model.radius, stride=stride)
    outputs = run_patches(batch_fn(model), extract_patches(blurred, grid))
    merged = merge(outputs, grid, "original")
    return OriginalRun(scale, luma, blurred, grid, outputs, merged, byte_scale(merged))
