"""``python -m srcnn upscale IN... [--scale S | --width W | --height H] [--out DIR]`` and ``python -m srcnn export``.

``upscale``: IN are image files, or folders (their image files by suffix, srcnn.uploads.IMAGE_SUFFIXES,
sorted; with ``--recursive`` their subfolders too, the tree kept under ``--out``; hidden files and
folders and other files are skipped and counted; symbolic links to folders are not followed, and
each is named in a note and in the summary). Each file gets the app's checks
(srcnn.uploads.read_image: header, sizes, decompression bombs, EXIF rotation) with a larger output
limit (``--max-megapixels``: the networks run in tiles, so memory stays bounded; 64 MP take ~2 GB),
is upscaled by srcnn.upscale (any factor from 1.1 to 8, srcnn.factors) and saved as a lossless PNG
``OUT/<folders>/<stem>_<x2.5|w3000|h2000>_<method>.png`` carrying the ICC profile, the EXIF
without its orientation tag (pixels are written upright) and the DPI times the factor.

The rules, checked for every file before any is upscaled (:func:`plan_outputs`):

* an input is never written: an output that is an input file (however the path is spelled,
  links included) is refused, even with ``--overwrite``; an output folder inside a walked folder
  is not walked (one that *is* the input folder is: a second run sees the first run's PNGs as
  inputs, never overwriting them);
* an existing output is refused unless ``--overwrite`` (then it is replaced whole, never left
  half-written: PNGs are written to a temporary file ``.<name>.<pid>.tmp`` and renamed; the
  temporary files a killed run left behind are removed by a later run that writes to their
  folder) or ``--skip-existing`` (then the input is passed over: an interrupted run resumes);
* inputs with the same output name (``x/a.png`` and ``y/a.png``, or ``a.png`` and ``a.jpg``;
  names differing only in case count as the same): the first keeps it, the others are refused.

A file that fails prints one line, ``error: <path>: <why>``, and the others go on. stdout: the
path of each PNG written; stderr: a progress bar (on a terminal), notes, errors and a summary
(``N upscaled, K skipped, F failed -> OUT``). Exit status: 0 if every input was upscaled (or
skipped), 1 if any failed, 2 for a usage error. ``export``: srcnn.export.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from tqdm import tqdm

from .export import OPSET, export
from .factors import CLEAN_FROM_QUALITY, MAX_FACTOR, MIN_FACTOR, check_factor, output_size, serving
from .models import KINDS, SCALES, torch_missing_message
from .pipeline import DEFAULT_TILE, METHODS, Input, check_jpeg, input_of, upscale
from .uploads import (IMAGE_SUFFIXES, MAX_SIDE, MIN_SIDE, ORIENTATION, Limits, UploadError, orientation,
                      read_image, upright_size)

DEFAULT_OUT = "upscaled"
# The other commands live beside the product path; each parses its own arguments (--help).
TOOLS = {
    "evaluate": ("srcnn.tooling.evaluate", "PSNR/SSIM of every method on Set5, Set14, photos or your files"),
    "factors": ("srcnn.tooling.factor_table", "which network serves which factor, measured on Set5 and Set14"),
    "jpeg": ("srcnn.tooling.jpeg_table", "what the networks gain on JPEG inputs, clean and compressed networks"),
    "jpeg-bands": ("srcnn.tooling.jpeg_bands", "which share of the clean network serves each JPEG quality, measured"),
    "bench": ("srcnn.tooling.bench", "speed and memory of the engines and tilings"),
    "study": ("srcnn.study.walk", "the 2018 study's path on a photo, walked to the truth"),
    "figures": ("srcnn.tooling.figures", "the docs' study figures (print, or write with --update)"),
    "plots": ("srcnn.tooling.plots", "the validation-curve figure from history.json files"),
}
DEFAULT_MEGAPIXELS = 64.0   # per output image; ~2 GB of memory at tile 256 (docs/speed.md: about 1.1 GB at 24 MP)


class Refused(Exception):
    """An input we will not process, with the reason (one line)."""


# --------------------------------------------------------------------------- planning (no pixels)

@dataclass(frozen=True)
class Source:
    """An input file and where its output goes below ``--out``: ``rel`` is its path below the
    folder it was found in (``--recursive`` keeps the tree), or its name for a file given."""
    path: Path
    rel: Path


def is_image_name(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def folder_files(folder: Path, recursive: bool, exclude: set[str]) -> tuple[list[Source], int, list[Path]]:
    """``(images, skipped, links)`` of a folder: image files by suffix (srcnn.uploads.IMAGE_SUFFIXES),
    sorted, below it too with ``recursive``; hidden files and folders (a leading dot), other files
    and the folders in ``exclude`` (real paths: the output folder) are not taken; every file so
    passed over counts in ``skipped`` (a hidden folder counts once, the output folder not at all).
    Symbolic links to folders are not followed (no loops, nothing outside the tree): with
    ``recursive`` each counts once in ``skipped`` and is listed in ``links``."""
    found, skipped, links = [], 0, []
    for root, dirs, names in os.walk(folder):          # followlinks=False: a linked folder is not entered
        here = Path(root)
        hidden = [d for d in dirs if d.startswith(".")]
        linked = [d for d in dirs if d not in hidden and os.path.islink(here / d)]
        skipped += len(hidden) + len(linked) if recursive else 0
        links += [here / d for d in sorted(linked)] if recursive else []
        dirs[:] = [d for d in sorted(dirs) if recursive and d not in hidden and d not in linked
                   and os.path.realpath(here / d) not in exclude]
        for name in sorted(names):
            f = here / name
            if name.startswith(".") or not is_image_name(f) or not f.is_file():
                skipped += 1
            else:
                found.append(Source(f, f.relative_to(folder)))
    return found, skipped, links


def list_inputs(paths: list[str | os.PathLike], recursive: bool = False,
                exclude: tuple[str | os.PathLike, ...] = ()) -> tuple[list[Source], list[tuple[Path, str]], int,
                                                                      list[Path]]:
    """``(files, problems, skipped, links)``: files as given, folders expanded (:func:`folder_files`);
    a file reached twice is kept once. ``problems``: the paths that gave no file (missing, a
    folder without images, unreadable), each with the reason; ``skipped``: files passed over;
    ``links``: symbolic links to folders met while walking, not followed (counted in ``skipped``)."""
    files, problems, seen, skipped, links = [], [], set(), 0, []
    excluded = {os.path.realpath(p) for p in exclude}
    for path in map(Path, paths):
        try:
            if path.is_dir():
                found, passed, linked = folder_files(path, recursive, excluded)
                skipped += passed
                links += linked
                if not found:
                    problems.append((path, f"no image files in this folder ({' '.join(sorted(IMAGE_SUFFIXES))})"))
            elif path.is_file():
                found = [Source(path, Path(path.name))]
            else:
                problems.append((path, "no such file or folder" if not path.exists() else "not a regular file"))
                continue
            for f in found:
                if file_id(f.path) not in seen:
                    seen.add(file_id(f.path))
                    files.append(f)
        except OSError as e:
            problems.append((path, e.strerror or str(e)))
    return files, problems, skipped, links


def file_id(path: str | os.PathLike) -> tuple[int, int]:
    """The file itself (device, inode): equal for every spelling of a path and for links."""
    st = os.stat(path)
    return st.st_dev, st.st_ino


@dataclass(frozen=True)
class Target:
    """The output size asked for: a factor (``--scale``), or a width or a height in px with the
    aspect kept (``--width``, ``--height``). Exactly one is set."""
    scale: float | None = None
    width: int | None = None
    height: int | None = None

    @property
    def tag(self) -> str:
        """The part of output names that says the size: ``x2.5``, ``w3000`` or ``h2000``."""
        return f"w{self.width}" if self.width else f"h{self.height}" if self.height else f"x{self.scale:g}"

    def size(self, width: int, height: int) -> tuple[int, int]:
        """Output (width, height) for an input of width x height px: MATLAB imresize's
        ``ceil(side * scale)``, or the side asked for and the other side scaled to match."""
        if self.width:
            return self.width, max(1, round(height * self.width / width))
        if self.height:
            return max(1, round(width * self.height / height)), self.height
        return output_size(width, height, self.scale)


def output_name(src: Path, tag: str, method: str) -> str:
    return f"{src.stem}_{tag}_{method}.png"


def refusal(dst: Path, input_ids: set[tuple[int, int]], overwrite: bool) -> str | None:
    """Why ``dst`` must not be written now, or None."""
    try:
        found = file_id(dst)
    except FileNotFoundError:
        return None
    if found in input_ids:
        return f"the output {dst} is an input file; it is never overwritten (choose another --out)"
    if not overwrite:
        return f"{dst} already exists (--overwrite replaces it, --skip-existing passes it over)"
    return None


def plan_outputs(inputs: list[Source], out_dir: str | os.PathLike, tag: str, method: str,
                 overwrite: bool = False) -> list[tuple[Source, Path, str | None]]:
    """``(src, dst, refused)`` per input: ``dst = out_dir/<rel folder>/<stem>_<tag>_<method>.png``;
    ``refused``: None, or why that file will not be written (see the module's rules)."""
    input_ids = {file_id(p.path) for p in inputs}
    owner: dict[str, Path] = {}     # the output (resolved, case-folded) -> the input that has it
    plan = []
    for src in inputs:
        dst = Path(out_dir) / src.rel.parent / output_name(src.rel, tag, method)
        key = os.path.realpath(dst).casefold()
        if key in owner:
            why = (f"its output {dst} is already the output of {owner[key]}; rename one, "
                   "or upscale them to different --out folders")
        else:
            owner[key] = src.path
            why = refusal(dst, input_ids, overwrite)
        plan.append((src, dst, why))
    return plan


# --------------------------------------------------------------------------- doing

def save_png(image, dst: Path, input_ids: set[tuple[int, int]], overwrite: bool, **params) -> None:
    """Write ``image`` to ``dst`` as PNG via a temporary file in the same folder, renamed into
    place after a last :func:`refusal` check: no half-written or half-replaced PNG, ever."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(temp_name(dst.name, os.getpid()))
    try:
        image.save(tmp, format="PNG", **params)
        why = refusal(dst, input_ids, overwrite)
        if why:
            raise Refused(why)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)


def temp_name(name: str, pid: int) -> str:
    """The temporary file :func:`save_png` writes ``name`` through: ``.<name>.<pid>.tmp``."""
    return f".{name}.{pid}.tmp"


TEMP_PATTERN = re.compile(r"^\..+\.png\.(\d+)\.tmp$")


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (it may be another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_leftovers(folders) -> list[Path]:
    """Delete this command's own leftover temporary files (:func:`temp_name`: ``.<name>.png.<pid>.tmp``)
    in ``folders`` whose process is gone (a run killed by SIGTERM or SIGKILL cannot remove
    them); a running process's (a run in progress beside this one) are kept. Returns the
    paths removed."""
    removed = []
    for folder in sorted({Path(f) for f in folders}):
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in sorted(names):
            m = TEMP_PATTERN.match(name)
            if m and int(m.group(1)) != os.getpid() and not alive(int(m.group(1))):
                try:
                    (folder / name).unlink()
                    removed.append(folder / name)
                except FileNotFoundError:
                    pass
    return removed


def describe(e: BaseException) -> str:
    if isinstance(e, (Refused, UploadError)):
        return str(e)
    if isinstance(e, MemoryError):
        return "out of memory (try a smaller --tile or a smaller image)"
    return f"{type(e).__name__}: {e}"


def png_metadata(image: Image.Image, size: tuple[int, int]) -> dict:
    """What the PNG of ``image`` upscaled to ``size`` (upright width, height) carries over: the
    ICC profile (it still describes the pixels; not after CMYK -> RGB), EXIF without the
    orientation tag, and the DPI scaled by the factor on each axis (same printed size)."""
    params = {}
    icc = image.info.get("icc_profile")
    if icc and image.mode != "CMYK":
        params["icc_profile"] = icc
    found = image.getexif()
    if found:    # a copy without the orientation (the image's own is left as it is): pixels are upright
        exif = Image.Exif()
        exif.load(found.tobytes())
        exif.pop(ORIENTATION, None)
        if len(exif):
            params["exif"] = exif.tobytes()
    dpi = image.info.get("dpi")
    if dpi:
        w, h = upright_size(image)
        turned = orientation(image) in (5, 6, 7, 8)       # a quarter turn swaps the axes' DPI too
        dx, dy = (dpi[1], dpi[0]) if turned else (dpi[0], dpi[1])
        params["dpi"] = (float(dx) * size[0] / w, float(dy) * size[1] / h)
    return params


def upscale_file(src: Source, dst: Path, args: argparse.Namespace, limits: Limits,
                 input_ids: set[tuple[int, int]], progress) -> list[str]:
    """Check, upscale and write one file; returns its notes. Raises with the reason on failure."""
    target: Target = args.target
    checked = read_image(src.path, target.scale or 1.0, upscaling=True, name="the file", limits=limits,
                         size=None if target.scale else target.size)
    image = checked.image
    w, h = upright_size(image)
    size = target.size(w, h)
    factor = target.scale or size[0] / w
    if not MIN_FACTOR <= factor <= MAX_FACTOR:
        asked = f"a width of {target.width} px" if target.width else f"a height of {target.height} px"
        raise Refused(f"{asked} is x{factor:.3g} of this {w}x{h} image; "
                      f"factors from {MIN_FACTOR:g} to {MAX_FACTOR:g} are possible")
    given = Input.of_file(checked.jpeg_quality) if args.jpeg == "auto" else input_of(image, args.jpeg)
    out = upscale(image, factor, args.method, tile=args.tile, progress=progress, size=size, jpeg=given)
    save_png(out, dst, input_ids, args.overwrite, **png_metadata(image, size))
    served = ([f"{given.describe()} Ran {ran(args.method, factor, given)}."]
              if args.method != "bicubic" and (given.quality or given.origin == "setting") else [])
    return list(checked.notes) + served


def ran(method: str, factor: float, given: Input) -> str:
    """What srcnn.upscale ran for ``method`` at ``factor`` on ``given``, pass by pass, in words."""
    return ", then ".join(f"bicubic x{f:g}, then {c.describe()}" if c else f"bicubic x{f:g} alone"
                          for f, c in serving(method, factor, given.compressed, quality=given.quality))


def upscale_command(args: argparse.Namespace) -> int:
    limits = Limits(max_output_pixels=int(args.max_megapixels * 1e6))
    files, problems, skipped, links = list_inputs(args.inputs, args.recursive, exclude=(args.out,))
    input_ids = {file_id(f.path) for f in files}
    plan = plan_outputs(files, args.out, args.target.tag, args.method, args.overwrite or args.skip_existing)
    removed = clean_leftovers(dst.parent for _, dst, _ in plan)
    if removed:
        print(f"note: removed {len(removed)} temporary file(s) left by an interrupted run: "
              + ", ".join(str(p) for p in removed), file=sys.stderr)
    for link in links:
        print(f"note: {link}: a symbolic link to a folder, not followed (counted as skipped)", file=sys.stderr)
    for path, why in problems:
        print(f"error: {path}: {why}", file=sys.stderr)
    done, failed = 0, len(problems)
    bar = tqdm(plan, desc=f"{args.target.tag} {args.method}", unit="file", file=sys.stderr, disable=None)
    for src, dst, why in bar:
        if args.skip_existing and not why and dst.exists():
            skipped += 1          # written whole by an earlier run (PNGs appear by rename only)
            continue
        try:
            if why:
                raise Refused(why)
            notes = upscale_file(src, dst, args, limits, input_ids,
                                 lambda i, n: bar.set_postfix_str(f"{src.path.name}: tile {i}/{n}"))
        except Exception as e:  # noqa: BLE001 - one line per failed file, the others go on
            failed += 1
            tqdm.write(f"error: {src.path}: {describe(e)}", file=sys.stderr)
        else:
            done += 1
            for note in notes:
                tqdm.write(f"note: {src.path}: {note}", file=sys.stderr)
            tqdm.write(str(dst), file=sys.stdout)
    bar.close()
    linked = (f" ({len(links)} of them symbolic links to folders, not followed: "
              + ", ".join(str(p) for p in links) + ")") if links else ""
    print(f"{done} upscaled, {skipped} skipped{linked}, {failed} failed -> {args.out}", file=sys.stderr)
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


def jpeg_arg(text: str) -> str | int:
    """--jpeg: auto, clean, compressed, or a quality 1..100 (srcnn.pipeline.check_jpeg)."""
    try:
        return check_jpeg(int(text) if text.strip().isdigit() else text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def factor_arg(text: str) -> float:
    """``--scale``: a number from MIN_FACTOR to MAX_FACTOR; anything else is a usage error."""
    try:
        return check_factor(float(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number from {MIN_FACTOR:g} to {MAX_FACTOR:g} "
                                         f"(e.g. 2, 2.5 or 3), got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    prog = "srcnn" if Path(sys.argv[0]).name == "srcnn" else "python -m srcnn"   # the console script or -m
    p = argparse.ArgumentParser(prog=prog, description="SRCNN Studio on the command line.")
    commands = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser(
        "upscale", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="upscale image files to PNGs", description=(
            "Upscale image files to lossless PNGs named DIR/<stem>_x<scale>_<method>.png (_w<W>_ or _h<H>_ for "
            "--width or --height). An input file is never overwritten; an existing output only with --overwrite. "
            "A file that fails prints 'error: <path>: <why>' and the others go on. Exit status: 0 all upscaled, "
            "1 any failed, 2 usage error."))
    up.add_argument("inputs", nargs="+", metavar="IN",
                    help="image files, or folders (their image files; hidden files and other files skipped)")
    size = up.add_mutually_exclusive_group()
    size.add_argument("--scale", type=factor_arg, default=None, metavar="S",
                      help=f"upscaling factor, {MIN_FACTOR:g} to {MAX_FACTOR:g} (default: 3)")
    size.add_argument("--width", type=positive(int), metavar="W", help="output width in px (aspect kept)")
    size.add_argument("--height", type=positive(int), metavar="H", help="output height in px (aspect kept)")
    up.add_argument("--method", choices=METHODS, default="residual", help="bicubic or a network")
    up.add_argument("--jpeg", type=jpeg_arg, default="auto", metavar="{auto,clean,compressed,Q}",
                    help="which networks serve: auto (a JPEG's quality read from the file: below "
                         f"{CLEAN_FROM_QUALITY} the networks trained for compressed inputs), clean, compressed, "
                         "or a quality 1-100 to use instead of the file's")
    up.add_argument("--out", metavar="DIR", default=DEFAULT_OUT, help="output folder (created if missing)")
    up.add_argument("--recursive", action="store_true",
                    help="walk folders' subfolders too; outputs keep the tree below each folder given")
    existing = up.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace outputs that already exist (never inputs)")
    existing.add_argument("--skip-existing", action="store_true",
                          help="pass over inputs whose output exists (resume an interrupted run)")
    up.add_argument("--tile", type=positive(int), default=DEFAULT_TILE,
                    help="network tile size in output px (bounds memory; same pixels whatever the size)")
    up.add_argument("--max-megapixels", type=positive(float), default=DEFAULT_MEGAPIXELS, metavar="MP",
                    help=f"largest output per image, in megapixels (input sides {MIN_SIDE} to {MAX_SIDE} px)")
    up.set_defaults(run=upscale_command)
    ex = commands.add_parser(
        "export", formatter_class=argparse.ArgumentDefaultsHelpFormatter,
        help="write a network as ONNX (dynamic height and width)", description=(
            f"Write a published network as an ONNX file (opset {OPSET}): input 'x', the bicubic-upscaled luma "
            "(BT.601 Y, 0..1), N x 1 x H x W; output 'y', the network's luma, the same size. "
            "See docs/api.md, 'ONNX export'."))
    ex.add_argument("--kind", choices=KINDS, default="residual", help="which network")
    ex.add_argument("--scale", type=int, choices=SCALES, default=3, help="the factor it was trained for")
    ex.add_argument("--out", metavar="FILE", required=True, help="the .onnx file to write (its folder must exist)")
    ex.add_argument("--overwrite", action="store_true", help="replace the file if it exists")
    ex.set_defaults(run=export_command)
    for name, (module, summary) in TOOLS.items():
        commands.add_parser(name, help=f"{summary} (python -m srcnn {name} --help)", add_help=False)
    return p


def export_command(args: argparse.Namespace) -> int:
    try:
        path = export(args.kind, args.scale, args.out, args.overwrite)
    except (ValueError, OSError) as e:       # refused, or the folder cannot be written / no weights
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in TOOLS:
        try:
            tool = importlib.import_module(TOOLS[argv[0]][0])
        except ImportError as e:   # torch, for the benchmark's PyTorch rows: one line, no traceback
            if e.name != "torch" and "torch" not in str(e):
                raise
            print(f"error: {torch_missing_message(f'python -m srcnn {argv[0]}')}", file=sys.stderr)
            return 1
        return tool.main(argv[1:]) or 0
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "upscale":
        if Path(args.out).exists() and not Path(args.out).is_dir():
            parser.error(f"--out {args.out} is a file, not a folder")
        args.target = Target(args.scale if args.scale or args.width or args.height else 3.0, args.width, args.height)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
