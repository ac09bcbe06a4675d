"""Which network serves which factor, measured: ``python -m srcnn factors [--markdown]``.

The measurement behind srcnn.factors (docs/results.md, "Any factor"). Set5 and Set14, each image
the ground truth: cropped to a multiple of the factor's numerator (x2.5: 5 px, x1.5: 3 px) so
that the low-resolution image has an exact size, degraded to 8-bit RGB by MATLAB bicubic at
1/s, then brought back to the ground truth's size by every candidate:

* ``bicubic``;
* one pass of each published network (``srcnn x2`` ... ``residual x4``): bicubic to the
  size, then the network trained for that factor;
* ``srcnn range``, ``residual range``: the networks trained on the factors 1.1 to 2, where bundled;
* above x4, two passes: ``residual x2 + xK`` (x2 with the x2 network, then the rest with the
  network trained for K);
* ``chosen srcnn`` / ``chosen residual``: what ``srcnn.upscale`` does (srcnn.factors.plan).

Scores: mean PSNR-Y in dB, the app's convention with ``ceil(s)`` px shaved (metrics.convention),
of the 8-bit outputs. Progress on stderr, the table on stdout.
"""

from __future__ import annotations

import argparse
import math
import sys

import numpy as np
from tqdm import tqdm

from .. import factors, imaging, pipeline
from ..metrics import convention, psnr_y
from ..models import KINDS, SCALES
from ..protocol import BENCHMARKS
from .data import load_set

FACTORS = (1.1, 1.15, 1.2, 1.5, 1.75, 2.5, 3.5, 5.0, 6.0, 8.0)


def candidates(factor: float) -> dict[str, list[tuple[float, object]]]:
    """Name -> passes ``[(pass factor, "bicubic" | kind | model), ...]`` to try at ``factor``."""
    out: dict[str, list[tuple[float, object]]] = {"bicubic": [(factor, "bicubic")]}
    for kind in KINDS:
        for s in SCALES:
            out[f"{kind} x{s}"] = [(factor, pipeline.model_for(kind, s))]
    for kind in KINDS:
        ranged = pipeline.range_model(kind)
        if ranged is not None:
            out[f"{kind} range"] = [(factor, ranged)]
    if factor > max(SCALES):
        for s in SCALES:
            out[f"residual x2 + x{s}"] = [(2.0, pipeline.model_for("residual", 2)),
                                          (factor / 2, pipeline.model_for("residual", s))]
    for kind in KINDS:
        out[f"chosen {kind}"] = [(factor, kind)]
    return out


def run_passes(lr: np.ndarray, passes: list[tuple[float, object]], size: tuple[int, int]) -> np.ndarray:
    """The passes on an HWC 0..1 image, the last one to ``size`` (height, width); 8-bit output
    as HWC 0..1 (srcnn.imaging.round8)."""
    out = lr
    for i, (f, method) in enumerate(passes):
        last = i == len(passes) - 1
        out = pipeline.upscale_arrays(out, f, method, size=size if last else None)
    return imaging.round8(out)


def measure(images: dict, factor: float) -> dict[str, list[float]]:
    """Candidate -> PSNR-Y (dB, ceil(factor) px shaved) per image."""
    border = math.ceil(factor)
    scores: dict[str, list[float]] = {}
    for img in images.values():
        gt, lr = factors.low_res(imaging.pil_to_arrays(img)[0], factor)
        lr = imaging.round8(lr)
        truth = imaging.luma(gt)
        for name, passes in candidates(factor).items():
            out = run_passes(lr, passes, gt.shape[:2])
            scores.setdefault(name, []).append(psnr_y(imaging.luma(out), truth, border))
    return scores


def table(results: dict[tuple[str, float], dict[str, list[float]]], markdown: bool) -> str:
    """Rows: candidates; columns: factors; cells: ``Set5 / Set14`` mean PSNR-Y."""
    names = list(dict.fromkeys(n for r in results.values() for n in r))
    names = [n for n in names if not n.startswith("chosen")] + [n for n in names if n.startswith("chosen")]
    fs = sorted({f for _, f in results})
    head = ["candidate"] + [f"x{f:g}" for f in fs]
    body = []
    for n in names:
        cells = []
        for f in fs:
            means = [np.mean(results[(s, f)][n]) if n in results.get((s, f), {}) else None for s in BENCHMARKS]
            cells.append("-" if None in means else " / ".join(f"{m:.2f}" for m in means))
        body.append([n] + cells)
    if markdown:
        return "\n".join(["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
                         + ["| " + " | ".join(r) + " |" for r in body])
    widths = [max(len(r[i]) for r in [head] + body) for i in range(len(head))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in [head] + body)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m srcnn factors", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--factors", type=float, nargs="+", default=list(FACTORS), help="factors to measure")
    p.add_argument("--markdown", action="store_true", help="a Markdown table")
    args = p.parse_args(argv)
    for f in args.factors:
        try:
            factors.check_factor(f)
        except ValueError as e:
            p.error(str(e))
    sets = {s: load_set(s) for s in BENCHMARKS}
    results = {}
    for f in tqdm(args.factors, desc="factors", file=sys.stderr, disable=None):
        for s, images in sets.items():
            results[(s, f)] = measure(images, f)
    print(f"Mean PSNR-Y (dB), Set5 / Set14, {convention('ceil(s)')}; 8-bit low-res by MATLAB bicubic at 1/s.")
    print(table(results, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
