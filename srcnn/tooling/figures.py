"""The study page's figures (docs/study.md, "Figures on one photo") for one bundled photo.

    python -m srcnn figures --example chelsea --scale 3                 # print the tables only
    python -m srcnn figures --example chelsea --scale 3 --out docs/ --update docs/study.md

Pictures are written only with ``--out``; the page only with ``--update`` (``--update`` alone:
:data:`DOC`, between :data:`MARKERS`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image, ImageDraw

from ..history import load_history
from ..study.insight import detail_box, early_vs_late, inside_study, low_loss_sentences, prepare, seam_crops, what_adds
from ..metrics import convention, psnr_y
from ..models import KINDS

MARKERS = ("<!-- study-figures -->", "<!-- /study-figures -->")
DOC = "docs/study.md"        # the page that shows these figures, relative to the repository root


def panel(images: dict[str, Image.Image], gap: int = 6) -> Image.Image:
    """Images side by side on white, each with its name above it (PIL's default font)."""
    from PIL import ImageFont
    font = ImageFont.load_default()
    label = 16
    width = sum(im.width for im in images.values()) + gap * (len(images) + 1)
    height = max(im.height for im in images.values()) + label + 2 * gap
    out = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(out)
    x = gap
    for name, im in images.items():
        draw.text((x, gap // 2), name, fill="black", font=font)
        out.paste(im.convert("RGB"), (x, gap + label))
        x += im.width + gap
    return out


def figures(example: str, scale: int, kind: str = "residual", root: str | Path | None = None) -> tuple[str, dict]:
    """Every figure of the study page for one bundled photo, as markdown, plus the pictures."""
    from .data import load_images
    prep = prepare(load_images([example])[example], scale)
    report = inside_study(prep, kind)
    lumas = {kind: report.stitched["exact"].luma}
    adds = what_adds(prep, lumas)
    hists = {k: load_history(k, scale, root)[0] for k in KINDS}
    lines = [f"Photo `{example}` ({prep.gt.width}x{prep.gt.height} ground truth), x{scale}, {kind} model, "
             f"PSNR in dB, {convention(scale)}. Reproduce: "
             f"`python -m srcnn figures --example {example} --scale {scale} --out docs/`.", "",
             "| stitching | output size | PSNR as compared naively | PSNR aligned (shift) | best shift | at source |",
             "|---|---|---|---|---|---|"]
    for name, sc in report.scores.items():
        st = report.stitched[name]
        lines.append(f"| {name} | {st.luma.shape[1]}x{st.luma.shape[0]} | {sc.naive:.2f} "
                     f"| {sc.aligned:.2f} ({sc.offset} px) "
                     f"| {sc.best:.2f} {sc.best_shift} | {sc.at_source:.2f} |")
    bic = psnr_y(prep.bicubic_y, prep.gt_y, scale)
    lines += ["", f"Bicubic: {bic:.2f} dB. What each network adds to bicubic (output - bicubic on Y, exact path), RMS: "
              + ", ".join(f"{k} {a.rms:.2f} levels" for k, a in adds.items()) + " (8-bit levels of Y).", "",
              "| model | snapshot step | fraction of run | PSNR | gain over bicubic |", "|---|---|---|---|---|"]
    evl = {}
    for k in KINDS:
        res, msg = early_vs_late(prep, k, root=root)
        evl[k] = res
        if not res:
            lines.append(f"| {k} | {msg} | | | |")
        for r in res:
            lines.append(f"| {k} | {r.step:,} | {r.fraction:.0%} | {r.psnr:.2f} | {r.gain:+.2f} |")
    lines += ["", low_loss_sentences(hists, report)]
    crops = seam_crops(report, prep)
    pictures = {"study_seams.png": panel(crops),
                "study_adds.png": panel({f"{k}: output - bicubic, x{a.gain:g}": a.image.crop(detail_box(prep, 128))
                                         for k, a in adds.items()})}
    return "\n".join(lines), pictures


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(prog="python -m srcnn figures", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
                                 description=(
        f"The figures of the study page ({DOC}) for one bundled photo: stitchings scored against the ground "
        "truth, what each network adds, early vs late snapshots. Prints the tables; writes pictures only with "
        "--out, and the page only with --update."))
    ap.add_argument("--example", default="chelsea", help="a bundled photo (srcnn.tooling.data)")
    ap.add_argument("--scale", type=int, default=3, choices=(2, 3, 4))
    ap.add_argument("--kind", default="residual", choices=KINDS, help="model for the stitchings")
    ap.add_argument("--out", default=None, help="folder for study_seams.png and study_adds.png (none: not written)")
    ap.add_argument("--update", metavar="MARKDOWN", nargs="?", const=DOC, default=None,
                    help=f"also replace the text between {MARKERS[0]} and {MARKERS[1]} in this file with the "
                    f"figures (--update alone: {DOC})")
    ap.add_argument("--root", default=None, help="checkpoints folder for histories and snapshots "
                    "(default: the bundled checkpoints/)")
    args = ap.parse_args(argv)
    text, pictures = figures(args.example, args.scale, args.kind, args.root)
    print(text)
    if args.update:
        doc = Path(args.update)
        old = doc.read_text()
        if old.count(MARKERS[0]) != 1 or old.count(MARKERS[1]) != 1:
            raise SystemExit(f"error: {doc} must hold {MARKERS[0]} and {MARKERS[1]} once each")
        before, rest = old.split(MARKERS[0], 1)
        after = rest.split(MARKERS[1], 1)[1]
        doc.write_text(f"{before}{MARKERS[0]}\n{text}\n{MARKERS[1]}{after}")
        print(f"updated {doc}")
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        for name, img in pictures.items():
            img.save(out / name, optimize=True)
        print("\nwrote " + ", ".join(str(out / n) for n in pictures))


if __name__ == "__main__":
    main()
