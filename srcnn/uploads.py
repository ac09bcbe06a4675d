"""Checking an image file before any pixel is decoded: the app's uploads and the CLI's inputs.

A file goes through, in order: :func:`confine` (only files inside the folders we were told to
trust: a path sent by an API caller is never opened as it is), :func:`open_header` (the header
only; non-images, empty files and decompression bombs refused), :func:`check_size` (sides and
output pixels from the header), :func:`decode` (the pixels, after every size check), then
:func:`notes` (what the user should know about how the file is read: EXIF rotation, CMYK,
16-bit, alpha, animation).

Every refusal is an :class:`UploadError` (a ValueError) whose message is written for the person
who sent the file. The opened image owns a file handle: :func:`read_image` returns decoded
pixels and closes it; callers that use :func:`open_header` close the image themselves.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from .factors import output_size
from .jpeg import file_quality

# Limits. Output pixels bound the work (two networks and the metrics run on the output grid); what a
# 12-MP phone photo costs at these limits: docs/app.md, "Large photos". The study tab keeps the
# default: its views hold ~100 MB per megapixel.
MAX_OUTPUT_PIXELS = 2048 * 2048            # the default (the study tab, the CLI's --max-megapixels aside)
BENCHMARK_MAX_PIXELS = 4096 * 4096         # the app's Benchmark mode: the ground truth (16.8 MP)
UPSCALE_MAX_OUTPUT_PIXELS = 8192 * 6144    # the app's Upscale mode: the output (50.3 MP: 12 MP at x2)
MAX_SIDE = 8192          # px, either side of the file (a 1 x huge strip is refused too)
MIN_SIDE = 16            # px, either side of the file
FORMATS = "PNG, JPEG, WebP, BMP, TIFF or GIF"
ORIENTATION = 0x0112     # the EXIF orientation tag
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}   # what a folder contributes


SizeRule = Callable[[int, int], tuple[int, int]]   # (width, height) in -> output (width, height)


class UploadError(ValueError):
    """A file we will not process, with a message for the person who sent it."""


@dataclass(frozen=True)
class Limits:
    """Size limits of one use: output pixels (the ground truth's when not upscaling), sides in px;
    ``example``: a size at the pixel limit, in words (for the messages)."""
    max_output_pixels: int = MAX_OUTPUT_PIXELS
    max_side: int = MAX_SIDE
    min_side: int = MIN_SIDE
    example: str = "2048x2048"

    def megapixels(self) -> str:
        """The pixel limit in words: "16.8 megapixels"."""
        return f"{self.max_output_pixels / 1e6:.1f} megapixels"

    def text(self, max_file_size: str | None = None) -> str:
        size = f", files up to {max_file_size.upper()}" if max_file_size else ""
        return (f"Limits: output up to {self.megapixels()} (e.g. {self.example}; when upscaling, the input "
                f"times the scale squared), sides {self.min_side} to {self.max_side} px{size}.")


DEFAULT_LIMITS = Limits()
BENCHMARK_LIMITS = Limits(BENCHMARK_MAX_PIXELS, example="4096x4096")
UPSCALE_LIMITS = Limits(UPSCALE_MAX_OUTPUT_PIXELS, example="8192x6144")


def confine(path: str | os.PathLike, roots: list[str | os.PathLike]) -> Path:
    """``path`` resolved (links followed), if it is a file inside one of ``roots``; else UploadError.

    Guards every path that arrives from outside (an API caller can send any string): ``../``
    tricks and links out of the roots resolve first and are then refused."""
    if not path:
        raise UploadError("The upload did not arrive; try again.")
    real = Path(os.path.realpath(path))
    for root in roots:
        base = Path(os.path.realpath(root))
        if real == base or base in real.parents:
            if not real.is_file():
                raise UploadError("The upload did not arrive; try again.")
            return real
    raise UploadError("That file is not an upload of this app; upload the photo again.")


def open_header(path: str | os.PathLike, name: str | None = None, limits: Limits = DEFAULT_LIMITS) -> Image.Image:
    """Open ``path`` reading its header only; refuse empty files, non-images and images that
    declare more pixels than Pillow's decompression-bomb limit. The caller closes the image."""
    name = name or Path(path).name
    if os.path.getsize(path) == 0:
        raise UploadError(f"{name} is empty (0 bytes).")
    bomb = UploadError(f"{name} declares more pixels than will be decoded (a possible decompression bomb). "
                       f"{limits.text()}")
    try:
        image = Image.open(path)      # no warning filter here: that state is process-wide
    except Image.DecompressionBombError:
        raise bomb from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise UploadError(f"{name} is not an image that can be read here. Use a {FORMATS} file.") from None
    if Image.MAX_IMAGE_PIXELS and image.width * image.height > Image.MAX_IMAGE_PIXELS:
        image.close()
        raise bomb
    return image


def check_size(image: Image.Image, name: str, scale: float, upscaling: bool,
               limits: Limits = DEFAULT_LIMITS, size: SizeRule | None = None) -> None:
    """Refuse, from the header's size, images too small or too large. ``upscaling``: the file is
    the low-resolution input (output = size x scale, MATLAB's ``ceil``; or ``size(width, height)``
    when given); else it is the ground truth (output = size)."""
    w, h = upright_size(image)
    if w < limits.min_side or h < limits.min_side:
        raise UploadError(f"{name} is {w}x{h} px: too small. Use at least {limits.min_side}x{limits.min_side} px.")
    if not upscaling:
        out_w, out_h = w, h
    else:
        out_w, out_h = size(w, h) if size else output_size(w, h, scale)
    if max(w, h) > limits.max_side or out_w * out_h > limits.max_output_pixels:
        what = ("the output" if size else f"the x{scale:g} output") if upscaling else "the ground truth"
        raise UploadError(f"{name} is {w}x{h} px, so {what} would be {out_w}x{out_h} "
                          f"({out_w * out_h / 1e6:.1f} MP): too large. {limits.text()} Crop or downscale it first.")


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 = upright), read without decoding the pixels: a PNG's
    ``getexif()`` would decode them looking for a late eXIf chunk, before the size checks."""
    if image.format != "PNG":
        return image.getexif().get(ORIENTATION, 1)     # from the header; malformed EXIF reads as none
    raw, exif = image.info.get("exif"), Image.Exif()
    try:
        exif.load(raw or b"")
    except (SyntaxError, ValueError, OSError, struct.error):   # malformed: as getexif() does, none
        return 1
    return exif.get(ORIENTATION, 1)


def upright_size(image: Image.Image) -> tuple[int, int]:
    """(width, height) of the image as shown, its EXIF orientation applied (a quarter turn swaps them)."""
    return (image.height, image.width) if orientation(image) in (5, 6, 7, 8) else image.size


def notes(image: Image.Image) -> list[str]:
    """A note for every property of the file that is handled by a rule the user should know."""
    out = []
    if getattr(image, "is_animated", False):   # n_frames alone may decode every frame
        out.append("Animated or multi-page image: only the first frame was used.")
    turn = image.getexif().get(ORIENTATION, 1)
    if turn not in (1, None):
        out.append(f"EXIF orientation {turn} applied: the photo is processed upright.")
    mode = image.mode
    if mode == "CMYK":
        out.append("CMYK image: converted to RGB (Pillow's conversion, no colour profile).")
    elif mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        out.append("16-bit grayscale image: read at full precision; results are 8-bit PNGs.")
    elif mode in ("1", "L"):
        out.append("Grayscale image: stays grayscale (PSNR/SSIM, where measured, on its gray values).")
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        out.append("Transparent image: the networks work on the colours; the alpha channel is upscaled "
                   "bicubically and kept in the PNGs. PSNR/SSIM ignore alpha.")
    return out


def decode(image: Image.Image, name: str) -> Image.Image:
    """Decode the pixels (after every size check); a truncated or corrupt file gets a message."""
    try:
        image.load()
    except Exception:  # noqa: BLE001 - Pillow raises OSError, SyntaxError, ValueError... on bad data
        raise UploadError(f"{name} could not be decoded (truncated or corrupt file).") from None
    return image


@dataclass(frozen=True)
class Checked:
    """A file that passed every check: its decoded image (file closed), name, notes and path, and
    the JPEG quality its quantization tables give (srcnn.jpeg.file_quality; None: not a JPEG)."""
    image: Image.Image
    name: str
    notes: tuple[str, ...]
    path: Path
    jpeg_quality: int | None = None


def read_image(path: str | os.PathLike, scale: float, upscaling: bool, name: str | None = None,
               limits: Limits = DEFAULT_LIMITS, size: SizeRule | None = None) -> Checked:
    """Every check above, then the decoded image; the file is closed when this returns.
    ``size``: when upscaling to a size rather than by ``scale`` (:func:`check_size`)."""
    name = name or Path(path).name
    with open_header(path, name, limits) as image:
        check_size(image, name, scale, upscaling, limits, size)
        quality = file_quality(image)       # from the header's quantization tables
        decode(image, name)
        found = notes(image)
        pixels = image.copy()     # decoded, owns no file handle; info (EXIF) comes along
    return Checked(pixels, name, tuple(found), Path(path), quality)
