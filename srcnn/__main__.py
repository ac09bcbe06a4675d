"""``python -m srcnn upscale IN... [--scale 3] [--method residual] [--out upscaled]``: image files in, PNGs out.

IN: image files, or folders (their image files by suffix, srcnn.uploads.IMAGE_SUFFIXES: sorted, not
recursive, hidden files skipped). Each file gets the app's checks (srcnn.uploads.read_image:
header, sizes, decompression bombs, EXIF rotation) with a larger output limit
(``--max-megapixels``: the networks run in tiles, so memory stays bounded; 64 MP take ~2 GB),
is upscaled by srcnn.upscale and saved as a lossless PNG ``OUT/<stem>_x<scale>_<method>.png``.

The rules, checked for every file before any is upscaled (:func:`plan_outputs`):

* an input is never written: an output that is an input file (however the path is spelled,
  links included) is refused, even with ``--overwrite``;
* an existing output is refused unless ``--overwrite`` (then it is replaced whole, never left
  half-written: PNGs are written to a temporary file and renamed);
* inputs with the same output name (``x/a.png`` and ``y/a.png``, or ``a.png`` and ``a.jpg``;
  names differing only in case count as the same): the first keeps it, the others are refused.

A file that fails prints one line, ``error: <path>: <why>``, and the others go on. stdout: the
path of each PNG written; stderr: a progress bar (on a terminal), notes, errors and a summary.
Exit status: 0 if every input was upscaled, 1 if any failed, 2 for a usage error.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path

from tqdm import tqdm

from .models import SCALES
from .pipeline import DEFAULT_TILE, METHODS, upscale
from .uploads import IMAGE_SUFFIXES, MAX_SIDE, MIN_SIDE, Limits, UploadError, read_image

DEFAULT_OUT = "upscaled"
# The other commands live beside the product path; each parses its own arguments (--help).
TOOLS = {
    "evaluate": ("srcnn.tooling.evaluate", "PSNR/SSIM of every method on Set5, Set14, photos or your files"),
    "bench": ("srcnn.tooling.bench", "speed and memory of the engines and tilings"),
    "study": ("srcnn.study.walk", "the 2018 study's path on a photo, walked to the truth"),
    "figures": ("srcnn.tooling.figures", "the docs' study figures (print, or write with --update)"),
    "plots": ("srcnn.tooling.plots", "the validation-curve figure from history.json files"),
}
DEFAULT_MEGAPIXELS = 64.0   # per output image; ~2 GB of memory at tile 256 (README: 971 MB at 24 MP)


class Refused(Exception):
    """An input we will not process, with the reason (one line)."""


# --------------------------------------------------------------------------- planning (no pixels)

def list_inputs(paths: list[str | os.PathLike]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """``(files, problems)``: files as given, folders expanded to their image files (sorted, not
    recursive, hidden files skipped); a file reached twice is kept once. ``problems``: the paths
    that gave no file (missing, a folder without images, unreadable), each with the reason."""
    files, problems, seen = [], [], set()
    for path in map(Path, paths):
        try:
            if path.is_dir():
                found = sorted(f for f in path.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES
                               and not f.name.startswith(".") and f.is_file())
                if not found:
                    problems.append((path, f"no image files in this folder ({' '.join(sorted(IMAGE_SUFFIXES))})"))
            elif path.is_file():
                found = [path]
            else:
                problems.append((path, "no such file or folder" if not path.exists() else "not a regular file"))
                continue
            for f in found:
                if file_id(f) not in seen:
                    seen.add(file_id(f))
                    files.append(f)
        except OSError as e:
            problems.append((path, e.strerror or str(e)))
    return files, problems


def file_id(path: str | os.PathLike) -> tuple[int, int]:
    """The file itself (device, inode): equal for every spelling of a path and for links."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


def output_name(src: Path, scale: int, method: str) -> str:
    return f"{src.stem}_x{scale}_{method}.png"


def refusal(dst: Path, input_ids: set[tuple[int, int]], overwrite: bool) -> str | None:
    """Why ``dst`` must not be written now, or None."""
    try:
        found = file_id(dst)
    except FileNotFoundError:
        return None
    if found in input_ids:
        return f"the output {dst} is an input file; it is never overwritten (choose another --out)"
    if not overwrite:
        return f"{dst} already exists (--overwrite replaces it)"
    return None


def plan_outputs(inputs: list[Path], out_dir: str | os.PathLike, scale: int, method: str,
                 overwrite: bool = False) -> list[tuple[Path, Path, str | None]]:
    """``(src, dst, refused)`` per input: ``dst = out_dir/<stem>_x<scale>_<method>.png``;
    ``refused``: None, or why that file will not be written (see the module's rules)."""
    input_ids = {file_id(p) for p in inputs}
    owner: dict[str, Path] = {}     # the output (resolved, case-folded) -> the input that has it
    plan = []
    for src in inputs:
        dst = Path(out_dir) / output_name(src, scale, method)
        key = os.path.realpath(dst).casefold()
        if key in owner:
            why = f"its output {dst} is already the output of {owner[key]}; rename one, or upscale them to different --out folders"
        else:
            owner[key] = src
            why = refusal(dst, input_ids, overwrite)
        plan.append((src, dst, why))
    return plan


# --------------------------------------------------------------------------- doing

def save_png(image, dst: Path, input_ids: set[tuple[int, int]], overwrite: bool, **params) -> None:
    """Write ``image`` to ``dst`` as PNG via a temporary file in the same folder, renamed into
    place after a last :func:`refusal` check: no half-written or half-replaced PNG, ever."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.tmp")
    try:
        image.save(tmp, format="PNG", **params)
        why = refusal(dst, input_ids, overwrite)
        if why:
            raise Refused(why)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def describe(e: BaseException) -> str:
    if isinstance(e, (Refused, UploadError)):
        return str(e)
    if isinstance(e, MemoryError):
        return "out of memory (try a smaller --tile or a smaller image)"
    return f"{type(e).__name__}: {e}"


def upscale_command(args: argparse.Namespace) -> int:
    limits = Limits(max_output_pixels=int(args.max_megapixels * 1e6))
    files, problems = list_inputs(args.inputs)
    input_ids = {file_id(f) for f in files}
    plan = plan_outputs(files, args.out, args.scale, args.method, args.overwrite)
    for path, why in problems:
        print(f"error: {path}: {why}", file=sys.stderr)
    done, failed = 0, len(problems)
    bar = tqdm(plan, desc=f"x{args.scale} {args.method}", unit="file", file=sys.stderr, disable=None)
    for src, dst, why in bar:
        try:
            if why:
                raise Refused(why)
            checked = read_image(src, args.scale, upscaling=True, name="the file", limits=limits)
            for note in checked.notes:
                tqdm.write(f"note: {src}: {note}", file=sys.stderr)
            out = upscale(checked.image, args.scale, args.method, tile=args.tile,
                          progress=lambda i, n: bar.set_postfix_str(f"{src.name}: tile {i}/{n}"))
            # the colour profile still describes the pixels (not after CMYK -> RGB)
            icc = checked.image.info.get("icc_profile") if checked.image.mode != "CMYK" else None
            save_png(out, dst, input_ids, args.overwrite, **({"icc_profile": icc} if icc else {}))
        except Exception as e:  # noqa: BLE001 - one line per failed file, the others go on
            failed += 1
            tqdm.write(f"error: {src}: {describe(e)}", file=sys.stderr)
        else:
            done += 1
            tqdm.write(str(dst), file=sys.stdout)
    bar.close()
    print(f"{done} upscaled, {failed} failed -> {args.out}", file=sys.stderr)
    return 1 if failed else 0


# --------------------------------------------------------------------------- command line

def positive(kind: type):
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value
    parse.__name__ = kind.__name__   # argparse names the type in its messages
    return parse


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m srcnn", description="SRCNN Studio on the command line.")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "upscale", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="upscale image files to PNGs", description=(
            "Upscale image files to lossless PNGs named DIR/<stem>_x<scale>_<method>.png. An input file is never "
            "overwritten; an existing output only with --overwrite. A file that fails prints 'error: <path>: <why>' "
            "and the others go on. Exit status: 0 all upscaled, 1 any failed, 2 usage error."))
    up.add_argument("inputs", nargs="+", metavar="IN",
                    help="image files, or folders (their image files: not recursive, hidden files skipped)")
    up.add_argument("--scale", type=int, choices=SCALES, default=3, help="upscaling factor")
    up.add_argument("--method", choices=METHODS, default="residual", help="bicubic or a network")
    up.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help="output folder (created if missing)")
    up.add_argument("--overwrite", action="store_true", help="replace outputs that already exist (never inputs)")
    up.add_argument("--tile", type=positive(int), default=DEFAULT_TILE,
                    help="network tile size in output px (bounds memory; same pixels whatever the size)")
    up.add_argument("--max-megapixels", type=positive(float), default=DEFAULT_MEGAPIXELS, metavar="MP",
                    help=f"largest output per image, in megapixels (input sides {MIN_SIDE} to {MAX_SIDE} px)")
    up.set_defaults(run=upscale_command)
    for name, (module, summary) in TOOLS.items():
        commands.add_parser(name, help=f"{summary} (python -m srcnn {name} --help)", add_help=False)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in TOOLS:
        return importlib.import_module(TOOLS[argv[0]][0]).main(argv[1:]) or 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "upscale" and Path(args.out).exists() and not Path(args.out).is_dir():
        parser.error(f"--out {args.out} is a file, not a folder")
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
