"""Which share of the clean network serves a JPEG of each quality, measured:
``python -m srcnn jpeg-bands [--kinds ...] [--factors ...]``.

The measurement behind srcnn.factors.COMPRESSED_BANDS. For each kind and trained factor, each
clean validation photo (``data/validation-clean``; never the held-out photos, which are only
reported) is degraded at the factor to 8 bits, saved as a JPEG at each quality of the grid and
decoded, then brought back through the app's path (srcnn.upscale) by the network for compressed
inputs with each share of the clean network mixed into its weights (srcnn.blending). Per quality,
among the shares with which no photo loses to bicubic by more than srcnn.factors.TOLERANCE_DB,
the one kept is the smallest whose mean gain over bicubic is within :data:`MARGIN_DB` of the best
(a hundredth of a dB on 10 photos is noise, and the smaller share stays closer to the network as
trained); None (bicubic alone) where no share keeps the rule. Each grid quality starts a band that
runs up to the next one; the first band also takes the qualities below it, the last runs up to
srcnn.factors.CLEAN_FROM_QUALITY - 1.

Scores: PSNR-Y of the 8-bit outputs, ``ceil(s)`` px shaved (srcnn.metrics.convention). Prints,
per kind and factor, the gains (mean / worst photo, dB) and the bands to paste into
srcnn/factors.py. Progress on stderr.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from tqdm import tqdm

from .. import factors, jpeg
from ..metrics import convention, psnr
from ..models import KINDS, SCALES
from ..pipeline import degrade, ground_truth, upscale
from ..runner import Runner
from ..weights import Checkpoint
from .factor_table import load_images

GRID = (30, 40, 50, 60, 70, 75, 80, 85, 90)      # the qualities that start a band
SHARES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)
MARGIN_DB = 0.01   # a larger share must gain more than this on the mean: the smaller one wins ties
Gains = dict[float, dict[str, float]]            # share -> photo -> gain over bicubic (dB)


def measure(images: dict, kind: str, factor: int, quality: int, shares: tuple[float, ...],
            runner: Runner) -> Gains:
    """Each share's gain over bicubic (PSNR-Y, dB) per photo of ``images`` at trained ``factor`` on
    the low-res photo saved as a JPEG at ``quality``."""
    nets = {s: runner.network(Checkpoint(kind, factor, True, s)) for s in shares}
    gains: Gains = {s: {} for s in shares}
    border = math.ceil(factor)
    for name, img in images.items():
        gt = ground_truth(img, factor)
        lr = degrade(gt, factor)
        lr = jpeg.compress_image(lr.convert("RGB" if lr.mode != "L" else "L"), quality)
        base = psnr(upscale(lr, factor, "bicubic"), gt, border)
        for s, net in nets.items():
            gains[s][name] = psnr(upscale(lr, factor, kind, model=net, runner=runner), gt, border) - base
    return gains


def choose(gains: Gains, tolerance: float = factors.TOLERANCE_DB, margin: float = MARGIN_DB) -> float | None:
    """Among the shares whose worst photo trails bicubic by at most ``tolerance`` dB, the smallest
    whose mean gain is within ``margin`` dB of the best of them; None where no share keeps the rule."""
    kept = sorted(s for s, g in gains.items() if min(g.values()) >= -tolerance)
    if not kept:
        return None
    mean = {s: float(np.mean(list(gains[s].values()))) for s in kept}
    return next(s for s in kept if mean[s] >= max(mean.values()) - margin)


def bands(chosen: dict[int, float | None]) -> tuple[tuple[int, float | None], ...]:
    """``((up to quality, share), ...)`` for srcnn.factors.COMPRESSED_BANDS from the share chosen
    at each grid quality: a grid quality's band runs up to the next one's start (the last: up to
    CLEAN_FROM_QUALITY - 1); neighbours with the same share merge."""
    qs = sorted(chosen)
    ends = [q - 1 for q in qs[1:]] + [factors.CLEAN_FROM_QUALITY - 1]
    out: list[tuple[int, float | None]] = []
    for q, end in zip(qs, ends):
        if out and out[-1][1] == chosen[q]:
            out[-1] = (end, chosen[q])
        else:
            out.append((end, chosen[q]))
    return tuple(out)


def bands_table(table: dict[tuple[str, int], tuple[tuple[int, float | None], ...]] | None = None) -> str:
    """``table`` (default srcnn.factors.COMPRESSED_BANDS) as the Markdown table of docs/results.md."""
    rows = ["| network | bands: quality, clean share |", "|---|---|"]
    for kind, f in sorted(factors.COMPRESSED_BANDS if table is None else table):
        parts = [f"{first}-{last}: " + ("bicubic alone" if share is None else f"{share:.1f}")
                 for first, last, share in factors.quality_bands(kind, f, table)]
        rows.append(f"| {'SRCNN' if kind == 'srcnn' else 'residual'} x{f} | {', '.join(parts)} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m srcnn jpeg-bands", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    p.add_argument("--factors", type=int, nargs="+", choices=SCALES, default=list(SCALES))
    p.add_argument("--qualities", type=int, nargs="+", default=list(GRID), help="the grid: qualities that start a band")
    p.add_argument("--shares", type=float, nargs="+", default=list(SHARES), help="clean shares to try, 0..1")
    args = p.parse_args(argv)
    for q in args.qualities:
        jpeg.check_quality(q)
    images = load_images("validation-clean")
    print(f"PSNR-Y, {convention('ceil(s)')}; gain over bicubic on the same JPEG, mean / worst photo, "
          f"dB; {len(images)} clean validation photos")
    with Runner() as runner:
        for kind in args.kinds:
            for f in args.factors:
                chosen = {}
                for q in tqdm(args.qualities, desc=f"{kind} x{f}", file=sys.stderr, disable=None):
                    g = measure(images, kind, f, q, tuple(args.shares), runner)
                    chosen[q] = choose(g)
                    row = "  ".join(f"{s:.1f}: {np.mean(list(v.values())):+.3f} / {min(v.values()):+.3f}"
                                    for s, v in g.items())
                    print(f"{kind} x{f} q{q}: {row}  -> {chosen[q]}", flush=True)
                print(f"    ({kind!r}, {f}): {bands(chosen)},", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
