"""Evaluation CLI: PSNR / SSIM of bicubic, SRCNN and residual SRCNN, beside the papers' rows.

    python -m srcnn evaluate --paper                     # Set5 + Set14, x2 x3 x4, papers' protocol
    python -m srcnn evaluate --paper --markdown --means  # the README's benchmark table
    python -m srcnn evaluate --photos --markdown         # the bundled validation photos (app path)
    python -m srcnn evaluate --scale 3 my_photos/ a.png  # any files or folders of images

Each image is the ground truth. Two protocols (every table names the one it used):

* ``app`` (default): srcnn.compare's path, what uploads take: modcrop, MATLAB-bicubic RGB
  degradation to an 8-bit low-resolution image, upscaled by each method, 8-bit output; PSNR
  and SSIM on Y (BT.601; a one-channel file on its raw gray), ``scale`` px shaved;
* ``--paper``: the SR papers' exact protocol (srcnn.protocol): one channel, float low-res,
  8-bit output. With it the bicubic rows equal the published ones within 0.01 dB.

Progress goes to stderr, tables to stdout.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from tqdm import tqdm

from .. import protocol
from .data import VALIDATION, load_images, load_set
from ..metrics import convention
from ..models import KINDS, SCALES, Network, check_scale
from ..pipeline import DEFAULT_TILE, METHODS, apply_network, compare, model_for
from ..protocol import BENCHMARKS, PAPER
from ..weights import network_from_folder, subfolder

@dataclass(frozen=True)
class Row:
    image: str
    scale: int
    psnr: dict[str, float]
    ssim: dict[str, float]


def evaluate(images: dict[str, Image.Image], scale: int, tile: int | None = DEFAULT_TILE,
             paper: bool = False, models: dict[str, Network] | None = None, progress: bool = False) -> list[Row]:
    """One row per image: PSNR (dB) and SSIM of bicubic and each network.

    ``paper``: the papers' protocol (srcnn.protocol), else the app's path (srcnn.compare).
    ``models``: kind -> model to measure (default: the published srcnn and residual models)."""
    scale = check_scale(scale)
    models = models if models is not None else {k: model_for(k, scale) for k in KINDS}
    rows = []
    for name, img in tqdm(images.items(), desc=f"x{scale}", disable=not progress, file=sys.stderr, leave=False,
                          unit="image"):
        if paper:
            scores = protocol.evaluate_image(
                img, scale, {k: (lambda y, m=m: apply_network(m, y, tile)) for k, m in models.items()})
            rows.append(Row(name, scale, {k: v[0] for k, v in scores.items()}, {k: v[1] for k, v in scores.items()}))
        else:
            res = compare(img, scale, tile=tile, methods=("bicubic", *models), models=models).results
            rows.append(Row(name, scale, {k: r.psnr for k, r in res.items()}, {k: r.ssim for k, r in res.items()}))
    return rows


def mean_row(rows: list[Row]) -> Row:
    methods = list(rows[0].psnr)
    return Row("mean", rows[0].scale, {m: float(np.mean([r.psnr[m] for r in rows])) for m in methods},
               {m: float(np.mean([r.ssim[m] for r in rows])) for m in methods})


def _table(head: list[str], body: list[list[str]], markdown: bool) -> str:
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        return "\n".join(lines + ["| " + " | ".join(c) + " |" for c in body])
    widths = [max(len(x[i]) for x in [head] + body) for i in range(len(head))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    return "\n".join([fmt.format(*head)] + [fmt.format(*c) for c in body])


def format_table(rows: list[Row], markdown: bool = False, paper_rows: dict | None = None) -> str:
    """Per image and mean: PSNR / SSIM for each method and the gains over bicubic; then the
    published rows (``paper_rows``: name -> (psnr, ssim or None)) under the mean."""
    methods = [m for m in METHODS if m in rows[0].psnr] + [m for m in rows[0].psnr if m not in METHODS]
    nets = [m for m in methods if m != "bicubic"]
    head = ["image", "scale"] + [f"{m} PSNR / SSIM" for m in methods] + [f"{m} gain" for m in nets]
    body = []
    for r in rows + [mean_row(rows)]:
        cells = [r.image, f"x{r.scale}"] + [f"{r.psnr[m]:.2f} / {r.ssim[m]:.4f}" for m in methods]
        body.append(cells + [f"{r.psnr[m] - r.psnr['bicubic']:+.2f}" for m in nets])
    for name, (p, s) in (paper_rows or {}).items():     # bicubic's in its column, SRCNN's in srcnn's
        cells = ["" for _ in methods]
        cells[methods.index("bicubic" if name == "bicubic" else "srcnn")] = f"{p:.2f} / " + (f"{s:.4f}" if s else "-")
        body.append([f"published: {name}", f"x{rows[0].scale}"] + cells + [""] * len(nets))
    return _table(head, body, markdown)


def format_means(means: dict[tuple[str, int], Row], markdown: bool = False) -> str:
    """One line per (set, scale): our means beside the published bicubic and SRCNN rows
    (srcnn.protocol.PAPER)."""
    head = ["set", "scale", "bicubic (published)", "srcnn", "residual", "paper SRCNN 9-5-5"]
    body = []
    for (name, s), r in means.items():
        pub = PAPER.get((name, s), {})
        b = pub.get("bicubic")
        extra = f" (9-1-5, T91: {pub['SRCNN 9-1-5, T91'][0]:.2f})" if "SRCNN 9-1-5, T91" in pub else ""
        body.append([name, f"x{s}",
                     f"{r.psnr['bicubic']:.2f} / {r.ssim['bicubic']:.4f}"
                     + (f" ({b[0]:.2f} / {b[1]:.4f})" if b else ""),
                     *[f"{r.psnr[k]:.2f} / {r.ssim[k]:.4f}" for k in KINDS if k in r.psnr],
                     (f"{pub['SRCNN 9-5-5'][0]:.2f}" if "SRCNN 9-5-5" in pub else "-") + extra])
    return _table(head, body, markdown)


def _gather(paths: list[str]) -> dict[str, Image.Image]:
    images = {}
    for path in map(Path, paths):
        if path.is_dir():
            try:
                images.update({f"{path.name}/{k}": v for k, v in load_images(path).items()})
            except ValueError as e:
                raise SystemExit(str(e)) from None
        elif path.is_file():
            with Image.open(path) as im:
                im.load()
                images[str(path)] = im
        else:
            raise SystemExit(f"{path}: no such file or folder")
    return images


def _models(folder: str | None, scale: int) -> dict[str, Network] | None:
    if folder is None:
        return None
    return {k: network_from_folder(k, Path(folder) / subfolder(k, scale)) for k in KINDS}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m srcnn evaluate", description=__doc__, formatter_class=type(
        "Formatter", (argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter), {}))
    p.add_argument("images", nargs="*", help="image files or folders (default: Set5 and Set14)")
    p.add_argument("--photos", action="store_true", help="the bundled validation photos instead of Set5/Set14")
    p.add_argument("--scale", type=int, nargs="+", default=list(SCALES), choices=list(SCALES),
                   help="scales")
    p.add_argument("--paper", action="store_true", help="the papers' exact protocol (default: the app's path)")
    p.add_argument("--checkpoints", metavar="DIR", default=None,
                   help="measure <kind>-x<scale>/ folders in DIR (default: the published weights)")
    p.add_argument("--tile", type=int, default=DEFAULT_TILE,
                   help="tile size for the networks; the pixels do not depend on it")
    p.add_argument("--markdown", action="store_true", help="print Markdown tables")
    p.add_argument("--means", action="store_true", help="only the mean per set and scale, beside the papers' rows")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    args = p.parse_args(argv)
    if args.images:
        sets = {"images": _gather(args.images)}
    elif args.photos:
        sets = {"photos": load_images(list(VALIDATION))}
    else:
        sets = {name: load_set(name) for name in BENCHMARKS}
    proto = protocol.NAME if args.paper else "app path (8-bit RGB low-res)"
    means = {}
    for s in args.scale:
        models = _models(args.checkpoints, s)
        for name, images in sets.items():
            if not args.no_progress:
                print(f"evaluating {name} ({len(images)} images) at x{s}", file=sys.stderr, flush=True)
            rows = evaluate(images, s, args.tile, args.paper, models, progress=not args.no_progress)
            means[(name, s)] = mean_row(rows)
            if not args.means:
                print(f"{name}, x{s}: PSNR (dB) / SSIM, {convention(s)}; {proto}")
                print(format_table(rows, args.markdown, PAPER.get((name, s)) if args.paper else None))
                print()
    if args.means:
        print(f"Mean PSNR (dB) / SSIM, {convention('scale')}; {proto}; published rows: {protocol.PUBLISHED}")
        print(format_means(means, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
