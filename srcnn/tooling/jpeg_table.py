"""What the networks gain on JPEG inputs, measured: ``python -m srcnn jpeg [--sets ...] [--markdown]``.

The measurement behind srcnn.factors.CLEAN_FROM_QUALITY and its serving of JPEGs (docs/results.md,
"JPEG inputs"). Each image of a set is the ground truth (srcnn.ground_truth), degraded at the
factor to 8 bits (srcnn.degrade), then saved as a JPEG at a quality with Pillow and decoded
(srcnn.jpeg.compress_image; "clean" is the 8-bit PNG itself), and brought back by every candidate
through the app's path (srcnn.upscale):

* ``bicubic``;
* ``<kind> clean``: the networks trained on clean inputs, whatever the file says (``jpeg="clean"``);
* ``<kind> jpeg``: the networks trained on compressed inputs (``jpeg="compressed"``; where none
  is bundled for a pass, bicubic alone: srcnn.factors.serving);
* ``<kind> chosen``: what ``srcnn.upscale`` does with the file as it is (``jpeg="auto"``: the
  quality read from its quantization tables, srcnn.factors.serves_compressed).

Scores: PSNR-Y in dB of the 8-bit outputs, ``ceil(s)`` px shaved (srcnn.metrics.convention). Per
set, factor and quality: bicubic's mean PSNR and, for the others, the gain over bicubic on the same
JPEG: mean over the images / worst image. Progress on stderr, the tables on stdout.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from tqdm import tqdm

from .. import jpeg
from ..metrics import convention, psnr
from ..models import KINDS
from ..pipeline import degrade, ground_truth, upscale
from .factor_table import SETS, load_images

FACTORS = (2, 3, 4)
QUALITIES = (90, 75, 50, 30)
SETTINGS = {"clean": "clean", "jpeg": "compressed", "chosen": "auto"}   # candidate suffix -> upscale's jpeg


def measure(images: dict, factor: float, quality: int | None,
            settings: dict[str, str] = SETTINGS) -> dict[str, dict[str, float]]:
    """candidate -> image name -> PSNR-Y (dB) at ``factor`` on inputs saved at JPEG ``quality``
    (None: the clean 8-bit low-res image). ``settings``: which candidates besides bicubic (suffix
    -> srcnn.upscale's ``jpeg``; default all of :data:`SETTINGS`)."""
    border = math.ceil(factor)
    scores: dict[str, dict[str, float]] = {}
    for name, img in images.items():
        gt = ground_truth(img, factor)
        lr = degrade(gt, factor)
        lr = lr if quality is None else jpeg.compress_image(lr.convert("RGB" if lr.mode != "L" else "L"), quality)
        scores.setdefault("bicubic", {})[name] = psnr(upscale(lr, factor, "bicubic"), gt, border)
        for kind in KINDS:
            for suffix, setting in settings.items():
                out = upscale(lr, factor, kind, jpeg=setting)
                scores.setdefault(f"{kind} {suffix}", {})[name] = psnr(out, gt, border)
    return scores


def gain(scores: dict[str, dict[str, float]], cand: str) -> tuple[float, float, str]:
    """(mean gain over bicubic, worst image's gain, its name) of ``cand``, in dB."""
    bic = scores["bicubic"]
    diff = {n: v - bic[n] for n, v in scores[cand].items()}
    worst = min(diff, key=diff.get)
    return float(np.mean(list(diff.values()))), diff[worst], worst


def cell(scores: dict[str, dict[str, float]], cand: str) -> str:
    if cand == "bicubic":
        return f"{np.mean(list(scores['bicubic'].values())):.2f} dB"
    mean, worst, name = gain(scores, cand)
    return f"{mean:+.2f} / {worst:+.2f} {name}"


def table(results: dict[tuple[float, int | None], dict], markdown: bool) -> str:
    """Rows: (factor, input); columns: bicubic (mean PSNR-Y) then each candidate's gain over it."""
    cands = ["bicubic"] + [f"{k} {s}" for k in KINDS for s in SETTINGS]
    head = ["factor", "input"] + cands
    body = [[f"x{f:g}", "clean PNG" if q is None else f"JPEG q{q}"] + [cell(r, c) for c in cands]
            for (f, q), r in results.items()]
    if markdown:
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                         + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [head] + body)


def quality_arg(text: str) -> int | None:
    if text == "clean":
        return None
    try:
        return jpeg.check_quality(int(text))
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"{text!r}: 'clean' or a JPEG quality from 1 to 100") from e


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m srcnn jpeg", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--factors", type=float, nargs="+", default=list(FACTORS), help="factors to measure")
    p.add_argument("--qualities", type=quality_arg, nargs="+", default=[None, *QUALITIES],
                   help="JPEG qualities of the low-res input ('clean': the 8-bit PNG)")
    p.add_argument("--sets", nargs="+", choices=SETS, default=["validation-clean", "held-out"],
                   help="image sets to measure on")
    p.add_argument("--markdown", action="store_true", help="Markdown tables")
    args = p.parse_args(argv)
    print(f"PSNR-Y, {convention('ceil(s)')}; 8-bit low-res by MATLAB bicubic at 1/s, saved as JPEG at the "
          "quality (Pillow, 4:2:0). Bicubic: mean PSNR. Others: gain over bicubic on the same input in dB, "
          "mean / worst image.")
    for s in args.sets:
        images = load_images(s)
        grid = [(f, q) for f in args.factors for q in args.qualities]
        results = {(f, q): measure(images, f, q) for f, q in tqdm(grid, desc=s, file=sys.stderr, disable=None)}
        print(f"\n{s} ({len(images)} images)\n")
        print(table(results, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
