"""Evaluation CLI: PSNR / SSIM of bicubic, SRCNN and residual SRCNN, as in the papers' tables.

    python -m srcnn.evaluate --scale 3                 # the bundled validation photos
    python -m srcnn.evaluate --scale 2 3 4 --markdown  # the README's results table
    python -m srcnn.evaluate --scale 3 my_photos/*.png

Each image is the ground truth: modcropped, degraded with MATLAB bicubic, upscaled by each
method; PSNR and SSIM on Y (BT.601), border of ``scale`` px shaved (srcnn.metrics).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass

import numpy as np
from PIL import Image

from .data import VALIDATION, load_images
from .metrics import CONVENTION
from .pipeline import METHODS, compare


@dataclass(frozen=True)
class Row:
    image: str
    scale: int
    psnr: dict[str, float]
    ssim: dict[str, float]


def evaluate(images: dict[str, Image.Image], scale: int, tile: int | None = None) -> list[Row]:
    """One row per image: PSNR (dB) and SSIM per method, paper convention."""
    rows = []
    for name, img in images.items():
        c = compare(img, scale, tile=tile)
        rows.append(Row(name, scale, {m: r.psnr for m, r in c.results.items()},
                        {m: r.ssim for m, r in c.results.items()}))
    return rows


def mean_row(rows: list[Row]) -> Row:
    return Row("mean", rows[0].scale, {m: float(np.mean([r.psnr[m] for r in rows])) for m in METHODS},
               {m: float(np.mean([r.ssim[m] for r in rows])) for m in METHODS})


def format_table(rows: list[Row], markdown: bool = False) -> str:
    """Per image and mean: PSNR / SSIM for each method, and the gains over bicubic."""
    head = ["image", "scale"] + [f"{m} PSNR / SSIM" for m in METHODS] + ["SRCNN gain", "residual gain"]
    body = []
    for r in rows + [mean_row(rows)]:
        cells = [r.image, f"x{r.scale}"] + [f"{r.psnr[m]:.2f} / {r.ssim[m]:.4f}" for m in METHODS]
        cells += [f"{r.psnr['srcnn'] - r.psnr['bicubic']:+.2f}", f"{r.psnr['residual'] - r.psnr['bicubic']:+.2f}"]
        body.append(cells)
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(c) + " |" for c in body]
        return "\n".join(lines)
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*c) for c in body])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m srcnn.evaluate", description=__doc__.split("\n\n")[0])
    p.add_argument("images", nargs="*", help="image files (default: the bundled validation photos)")
    p.add_argument("--scale", type=int, nargs="+", default=[3], choices=[2, 3, 4])
    p.add_argument("--tile", type=int, default=None, help="tile size for the networks (default: whole image)")
    p.add_argument("--markdown", action="store_true", help="print a Markdown table")
    args = p.parse_args(argv)
    if args.images:
        images = {}
        for path in args.images:
            with Image.open(path) as im:
                im.load()
                images[path] = im
    else:
        images = load_images(list(VALIDATION))
    for s in args.scale:
        print(f"PSNR (dB) / SSIM, {CONVENTION.format(border=s)}; MATLAB-bicubic degradation, x{s}")
        print(format_table(evaluate(images, s, args.tile), args.markdown))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
