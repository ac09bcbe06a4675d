"""Which network serves which factor, measured: ``python -m srcnn factors [--sets ...] [--markdown]``.

The measurement behind srcnn.factors (docs/results.md, "Any factor"). Each image of a set is the
ground truth: cropped to a multiple of the factor's numerator (x2.5: 5 px, x1.5: 3 px) so that
the low-resolution image has an exact size, degraded to 8-bit RGB by MATLAB bicubic at 1/s,
then brought back to the ground truth's size by every candidate:

* ``bicubic``;
* one pass of each published network (``srcnn x2`` ... ``residual x4``): bicubic to the
  size, then the network trained for that factor;
* ``srcnn range``, ``residual range``: the networks trained on the factors 1.1 to 2, where bundled;
* below x2, the small-factor family's anchor networks (``residual x1.2`` ...), where bundled;
* above x4, two passes: ``residual x2 + xK`` (x2 with the x2 network, then the rest with the
  network trained for K);
* ``chosen srcnn`` / ``chosen residual``: what ``srcnn.upscale`` does (srcnn.factors.plan).

Sets: Set5, Set14 (the papers' benchmarks), ``validation-clean`` (clean photos, synthetic
drawings and plain photos that decide the plan: srcnn.factors) and ``held-out`` (the same kinds,
only reported). Scores: PSNR-Y in dB, the app's convention with ``ceil(s)`` px shaved
(metrics.convention), of the 8-bit outputs. Per set and factor, bicubic's mean PSNR, and for
every other candidate its gain over bicubic: the mean over the images and the **worst image**
(its gain and its name; an image bicubic already brings within half an 8-bit level of the
truth, srcnn.factors.NEAR_LOSSLESS_DB, is counted in the mean and named under the table, not
taken as the worst). Progress on stderr, the tables on stdout.
"""

from __future__ import annotations

import argparse
import math
import sys
from dataclasses import dataclass

import numpy as np
from tqdm import tqdm

from .. import factors, imaging, pipeline
from ..metrics import convention, psnr_y
from ..models import KINDS, RANGE, SCALES
from ..weights import Checkpoint, bundled_checkpoints, bundled_pairs
from .data import clean_validation, held_out, load_set

FACTORS = (1.1, 1.15, 1.2, 1.3, 1.5, 1.75, 2.5, 3.5, 5.0, 6.0, 8.0)
SETS = ("Set5", "Set14", "validation-clean", "held-out")


def load_images(name: str) -> dict:
    """A set of :data:`SETS` by name: image name -> PIL image."""
    if name == "validation-clean":
        return clean_validation()
    if name == "held-out":
        return held_out()
    return load_set(name)


def anchors_bundled(kind: str) -> list[float]:
    """The anchors of the small-factor family whose ``kind`` network is bundled."""
    bundled = set(bundled_pairs())
    return [a for a in factors.ANCHORS if (kind, a) in bundled]


def candidates(factor: float, brief: bool = False) -> dict[str, list[tuple[float, object]]]:
    """Name -> passes ``[(pass factor, "bicubic" | kind | model), ...]`` to try at ``factor``.
    ``brief``: bicubic, the range networks and the chosen plans only."""
    out: dict[str, list[tuple[float, object]]] = {"bicubic": [(factor, "bicubic")]}
    if not brief:
        for kind in KINDS:
            for s in SCALES:
                out[f"{kind} x{s}"] = [(factor, pipeline.model_for(kind, s))]
    for kind in KINDS:
        if Checkpoint(kind, RANGE) in bundled_checkpoints() and factor < 2:
            out[f"{kind} range"] = [(factor, pipeline.model_for(kind, RANGE))]
    if not brief and factor < 2:
        for kind in KINDS:
            for a in anchors_bundled(kind):
                out[f"{kind} x{a:g}"] = [(factor, pipeline.model_for(kind, a))]
    if not brief and factor > max(SCALES):
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


def measure(images: dict, factor: float, brief: bool = False) -> dict[str, dict[str, float]]:
    """Candidate -> image name -> PSNR-Y (dB, ceil(factor) px shaved)."""
    border = math.ceil(factor)
    scores: dict[str, dict[str, float]] = {}
    for name, img in images.items():
        gt, lr = factors.low_res(imaging.pil_to_arrays(img)[0], factor)
        lr = imaging.round8(lr)
        truth = imaging.luma(gt)
        for cand, passes in candidates(factor, brief).items():
            out = run_passes(lr, passes, gt.shape[:2])
            scores.setdefault(cand, {})[name] = psnr_y(imaging.luma(out), truth, border)
    return scores


@dataclass(frozen=True)
class Gain:
    """A candidate at one factor on one set, against bicubic: mean gain and the worst image's
    (among the images that veto: srcnn.factors.NEAR_LOSSLESS_DB), and the near-lossless ones'."""
    mean: float          # dB, mean over all the images of (candidate - bicubic)
    worst: float         # dB, the smallest (candidate - bicubic) among the images that veto
    worst_image: str
    near_lossless: float | None = None   # dB, the smallest gain on the others (None: there are none)

    def cell(self) -> str:
        return f"{self.mean:+.2f} / {self.worst:+.2f} {self.worst_image}"


def near_lossless(scores: dict[str, dict[str, float]]) -> list[str]:
    """The images on which bicubic scores srcnn.factors.NEAR_LOSSLESS_DB or more: reported, no veto."""
    return [name for name, value in scores["bicubic"].items() if value >= factors.NEAR_LOSSLESS_DB]


def gains(scores: dict[str, dict[str, float]]) -> dict[str, Gain]:
    """Candidate -> :class:`Gain` over bicubic, from :func:`measure`'s scores (bicubic left out)."""
    bic = scores["bicubic"]
    exempt = set(near_lossless(scores))
    out = {}
    for cand, per_image in scores.items():
        if cand == "bicubic":
            continue
        diff = {name: per_image[name] - bic[name] for name in bic}
        veto = {name: d for name, d in diff.items() if name not in exempt} or diff
        worst = min(veto, key=veto.get)
        rest = [d for name, d in diff.items() if name in exempt and name not in veto]
        out[cand] = Gain(float(np.mean(list(diff.values()))), veto[worst], worst, min(rest) if rest else None)
    return out


def table(results: dict[float, dict[str, dict[str, float]]], markdown: bool) -> str:
    """One set's table. Rows: bicubic (mean PSNR-Y), then every candidate (gain over bicubic:
    mean / worst image); columns: factors."""
    fs = sorted(results)
    names = list(dict.fromkeys(n for r in results.values() for n in r))
    names = [n for n in names if not n.startswith("chosen")] + [n for n in names if n.startswith("chosen")]
    head = ["candidate"] + [f"x{f:g}" for f in fs]
    body = []
    for n in names:
        cells = []
        for f in fs:
            if n not in results[f]:
                cells.append("-")
            elif n == "bicubic":
                cells.append(f"{np.mean(list(results[f][n].values())):.2f} dB")
            else:
                cells.append(gains(results[f])[n].cell())
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
    p.add_argument("--sets", nargs="+", choices=SETS, default=list(SETS), help="image sets to measure on")
    p.add_argument("--brief", action="store_true", help="bicubic, the range networks and the chosen plans only")
    p.add_argument("--markdown", action="store_true", help="Markdown tables")
    args = p.parse_args(argv)
    for f in args.factors:
        try:
            factors.check_factor(f)
        except ValueError as e:
            p.error(str(e))
    print(f"PSNR-Y, {convention('ceil(s)')}; 8-bit low-res by MATLAB bicubic at 1/s. Bicubic: mean PSNR. "
          f"Others: gain over bicubic in dB, mean / worst image (name).")
    for s in args.sets:
        images = load_images(s)
        results = {f: measure(images, f, args.brief)
                   for f in tqdm(args.factors, desc=s, file=sys.stderr, disable=None)}
        print(f"\n{s} ({len(images)} images)\n")
        print(table(results, args.markdown))
        exempt = sorted({n for r in results.values() for n in near_lossless(r)})
        if exempt:
            low = min(g.near_lossless for r in results.values() for g in gains(r).values()
                      if g.near_lossless is not None)
            print(f"\nNear-lossless for bicubic (>= {factors.NEAR_LOSSLESS_DB:g} dB at some factor), not in the worst "
                  f"column: {', '.join(exempt)}; the smallest gain any candidate has there: {low:+.2f} dB.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
