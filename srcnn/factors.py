"""Any factor from 1.1 to 8: which trained network serves which factor, decided by measurement.

The networks are trained for x2, x3 and x4, and they work on a bicubic-upscaled image of any
size, so any factor can run through one of them; but a network applied at another factor than
its own does well only near it. Measured on Set5 and Set14 (docs/results.md, "Any factor";
``python -m srcnn factors``): a network helps most at or a little *above* its own
factor (at x2.5 the x2 network beats the x3 one by 0.5 dB; at x3.5 the x3 beats the x4), while
applied below its factor it over-sharpens (at x1.5 every x2-x4 network is 2 to 12 dB *below*
bicubic). Above x4 a single pass gains little; two passes (x2, then the rest) gain 1 dB more.

Below x2 one network for every factor cannot do well: it cannot know the factor, and the
correction right at x1.75 over-sharpens at x1.2 (the range network, models.RANGE, trained on
factors 1.1 to 2, loses up to 4 dB to bicubic on clean photos at x1.2, which Set5/Set14 means
hide). So below x2 a *small-factor family* serves: one network per anchor factor
(:data:`ANCHORS`), each fine-tuned at its factor alone from the range network
(``python train.py --scale small``), a network serving from its anchor up to the next one
(a network a little above its factor helps; below it over-sharpens). The rule a plan keeps,
measured on clean photos (``data/validation-clean``, ``python -m srcnn factors --sets
validation-clean``): no network at a factor where any of those photos loses to bicubic by more
than :data:`TOLERANCE_DB`. A photo that bicubic alone already brings within half an 8-bit level
of the truth (:data:`NEAR_LOSSLESS_DB`; a smooth synthetic colour wheel at 60 dB) is reported
but does not veto: there what is left is the ground truth's own 8-bit rounding, which no
network can predict, and the score moves by a tenth of a dB with any change of the output
(the family's networks trail bicubic there by 0.04 to 0.34 dB at x1.1 to x1.75, about 0.01 level).

So :func:`plan` maps a factor ``s`` to passes, each a bicubic resize then a network:

* ``s`` < :data:`FAMILY_FROM` (per kind): bicubic alone;
* :data:`FAMILY_FROM` <= ``s`` < 2: one pass with the anchor network of the largest anchor
  <= ``s`` (where bundled; else the range network where bundled; else bicubic alone);
* 2 <= ``s`` <= 4: one pass with the largest trained factor <= ``s``;
* ``s`` > 4: a x2 pass with the x2 network, then ``s / 2`` as above.

Output sizes are MATLAB imresize's: ``ceil(side * s)`` (:func:`output_size`).
"""

from __future__ import annotations

import math
import numbers
from fractions import Fraction

import numpy as np

from . import imaging
from .models import RANGE, SCALES
from .weights import Checkpoint, bundled_checkpoints

MIN_FACTOR, MAX_FACTOR = 1.1, 8.0
# The small-factor family: one network per anchor factor,
# each fine-tuned at that factor alone from the range network (``python train.py --scale small``).
ANCHORS = (1.1, 1.2, 1.3, 1.5, 1.75)
TOLERANCE_DB = 0.05   # a plan's network may trail bicubic on a validation photo by this much at most
NEAR_LOSSLESS_DB = 54.0   # PSNR-Y of bicubic (RMS error 0.5 level) from which a photo does not veto
# Per kind, the factor from which the small-factor family serves, up to 2: the smallest factor
# of the grid in tests/test_factor_table.py from which every factor keeps the rule above on
# data/validation-clean (python -m srcnn factors --sets validation-clean, docs/results.md).
FAMILY_FROM = {"srcnn": 1.2, "residual": 1.1}


# Inputs saved as JPEG: below this quality (read from the file, srcnn.jpeg.file_quality) the
# networks trained on compressed inputs serve (``<kind>-x<scale>-jpeg``); from it up, and for any
# other file, the clean ones: the quality from which the clean networks win on the clean
# validation photos saved as JPEG (python -m srcnn jpeg --sets validation-clean, docs/results.md).
CLEAN_FROM_QUALITY = 95
# Below it, per (kind, factor): which network serves a JPEG of a quality, in bands
# ``((up to quality, clean share), ...)``: a quality takes the first band that reaches it (one
# above the last band, or a (kind, factor) not named: share 0). The share is how much of the clean
# network is mixed into the weights of the one for compressed inputs (srcnn.blending; 0: that
# network as published); None: bicubic alone. Each band starts at a quality of the grid of
# ``python -m srcnn jpeg-bands`` and runs up to the next: there, on the clean validation photos
# saved at the band's first quality, among the shares that keep the rule above (no photo loses to
# bicubic by more than TOLERANCE_DB), the smallest within 0.01 dB of the best mean gain over
# bicubic; None where none keeps it (docs/results.md, "JPEG inputs"). A JPEG of unknown quality
# (the setting "compressed"): share 0.
COMPRESSED_BANDS: dict[tuple[str, int], tuple[tuple[int, float | None], ...]] = {
    ("srcnn", 2): ((79, 0.0), (84, 0.1), (89, 0.2), (94, 0.4)),
    ("srcnn", 3): ((87, 0.0), (94, None)),
    ("srcnn", 4): ((67, 0.0), (94, None)),
    ("residual", 2): ((79, 0.0), (84, 0.1), (89, 0.2), (94, 0.3)),
    ("residual", 3): ((79, 0.0), (84, 0.1), (89, 0.2), (94, 0.3)),
    ("residual", 4): ((74, 0.0), (84, 0.1), (89, 0.3), (94, 0.4)),
}


def compressed_share(kind: str, factor: int, quality: int | None) -> float | None:
    """The clean network's share in the weights that serve a JPEG of ``quality`` (1..100, None:
    not known) at trained ``factor`` (:data:`COMPRESSED_BANDS`); None: bicubic alone."""
    if quality is None:
        return 0.0
    return next((share for up_to, share in COMPRESSED_BANDS.get((kind, factor), ()) if quality <= up_to), 0.0)


def quality_bands(kind: str, factor: int, table: dict | None = None) -> list[tuple[int, int, float | None]]:
    """``[(first quality, last quality, clean share or None), ...]`` from 1 to CLEAN_FROM_QUALITY - 1
    for the network for compressed inputs of ``kind`` at ``factor`` (``table``: default
    :data:`COMPRESSED_BANDS`; a (kind, factor) not named: one band, share 0)."""
    bands = (COMPRESSED_BANDS if table is None else table).get((kind, factor), ((CLEAN_FROM_QUALITY - 1, 0.0),))
    firsts = [1] + [up_to + 1 for up_to, _ in bands[:-1]]
    return [(first, up_to, share) for first, (up_to, share) in zip(firsts, bands)]


def serves_compressed(quality: int | None) -> bool:
    """Whether the networks for compressed inputs serve an input of this JPEG ``quality`` (1..100;
    None: not a JPEG, or a setting that says clean)."""
    return quality is not None and quality < CLEAN_FROM_QUALITY


def check_factor(factor: object) -> float:
    """``factor`` as a float if it is a number from MIN_FACTOR to MAX_FACTOR, else ValueError."""
    if isinstance(factor, bool) or not isinstance(factor, numbers.Real) or not math.isfinite(factor) \
            or not MIN_FACTOR <= factor <= MAX_FACTOR:
        raise ValueError(f"scale must be a number from {MIN_FACTOR:g} to {MAX_FACTOR:g}, got {factor!r}")
    return float(factor)


def output_size(width: int, height: int, factor: float) -> tuple[int, int]:
    """(width, height) of an image of width x height px upscaled by ``factor``: MATLAB
    imresize's ``ceil(side * factor)`` (to 1e-9, so that 3 * 0.1-type rounding does not add a pixel)."""
    return tuple(int(math.ceil(side * factor - 1e-9)) for side in (width, height))


def network_scale(factor: float, kind: str = "residual") -> int | float | None:
    """What serves one pass of ``factor`` (<= 4) for ``kind``: the largest trained factor <=
    ``factor``; below 2, the largest anchor <= ``factor`` (a float of :data:`ANCHORS`); below
    :data:`FAMILY_FROM` of the kind, None (bicubic alone). Whether its weights are there is
    :func:`serving`'s concern (it falls back to models.RANGE, then bicubic)."""
    below = [s for s in SCALES if s <= factor + 1e-9]
    if below:
        return max(below)
    if factor < FAMILY_FROM[kind] - 1e-9:
        return None
    return max(a for a in ANCHORS if a <= factor + 1e-9)


def serving(kind: str, factor: float, compressed: bool = False, bundled: list[Checkpoint] | None = None,
            quality: int | None = None) -> list[tuple[float, Checkpoint | None]]:
    """THE answer to "what runs at x``factor``?": the passes ``srcnn.upscale`` makes for ``kind``,
    each ``(pass factor, the Checkpoint that serves it, or None for bicubic alone)``.

    :func:`plan`'s rule, met by what is bundled (``bundled``: default every bundled checkpoint):
    a trained factor's network (2, 3, 4); below 2 the anchor's own network where bundled, else the
    range network (models.RANGE) where bundled, else bicubic alone. ``compressed`` (the input is a
    JPEG below :data:`CLEAN_FROM_QUALITY`): the first pass by the network of the same factor
    trained on JPEG inputs where bundled, with the share of the clean one that the input's JPEG
    ``quality`` (None: not known) takes in :data:`COMPRESSED_BANDS`, or bicubic alone where that
    says so; where none is bundled (below x2),
    bicubic alone too: there the clean networks sharpen the blocks and lose to bicubic by up to
    0.9 dB on a clean validation photo (``python -m srcnn jpeg --factors 1.2 1.5 1.75``,
    docs/results.md "JPEG inputs"). A second pass (above x4) meets the first pass's output, no
    longer a JPEG: a clean network."""
    found: list[set[Checkpoint]] = []

    def has(checkpoint: Checkpoint) -> bool:     # the folder is listed only when a pass needs it
        if not found:
            found.append(set(bundled_checkpoints() if bundled is None else bundled))
        return checkpoint in found[0]

    def clean(net: int | float | None) -> Checkpoint | None:
        if net is None:
            return None
        if net in SCALES or has(Checkpoint(kind, net)):
            return Checkpoint(kind, net)
        return Checkpoint(kind, RANGE) if has(Checkpoint(kind, RANGE)) else None

    def first(net: int | float | None) -> Checkpoint | None:
        if net is None or not compressed:
            return clean(net)
        share = compressed_share(kind, net, quality)
        if share is None or not has(Checkpoint(kind, net, True)):
            return None
        return Checkpoint(kind, net, True, share)

    return [(f, first(net) if i == 0 else clean(net)) for i, (f, net) in enumerate(plan(factor, kind))]


def plan(factor: float, kind: str = "residual") -> list[tuple[float, int | float | None]]:
    """The passes for ``factor``: ``[(pass factor, what serves it), ...]`` (:func:`network_scale`:
    2, 3, 4, an anchor of :data:`ANCHORS`, or None for bicubic alone); the pass factors multiply
    to ``factor``. ``kind``: "srcnn" or "residual" (the family may start at another factor)."""
    factor = check_factor(factor)
    if factor > max(SCALES):
        return [(2.0, 2), *plan(factor / 2, kind)]
    return [(factor, network_scale(factor, kind))]


def low_res(hr: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """(ground truth, low-res image) of an HWC 0..1 photo for any factor: the photo cropped to a
    multiple of :func:`crop_multiple` (for 2, 3, 4: the papers' modcrop), then MATLAB bicubic
    to exactly 1/factor of that size; float32, not rounded (round to 8 bits to store it)."""
    gt = imaging.modcrop(hr, crop_multiple(factor))
    if gt.shape[0] < 1 or gt.shape[1] < 1:
        raise ValueError(f"image is too small to degrade by x{factor:g}: at least {crop_multiple(factor)} px needed")
    return gt, imaging.imresize(gt, size=tuple(round(side / factor) for side in gt.shape[:2]))


def crop_multiple(factor: float) -> int:
    """The smallest side, in px, that ``factor`` divides into whole pixels: the numerator of
    ``factor`` as a fraction (x2.5 = 5/2: 5 px; x3: 3 px). A ground truth cropped to a
    multiple of it has a low-resolution image of exactly 1/factor its size. Factors are taken
    as fractions with a denominator up to 20 (x1.15 = 23/20; x3.14159 is taken as 22/7)."""
    return Fraction(factor).limit_denominator(20).numerator
