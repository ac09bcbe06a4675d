"""JPEG as people upload it: the quality a file was saved at, and the round trip that makes one.

A JPEG file carries the quantization tables its encoder used. Encoders built on the IJG library
(libjpeg, libjpeg-turbo: Pillow, most cameras' and websites' software) scale one standard table
by a "quality" from 1 to 100, so the quality follows from the tables, read before any pixel is
decoded. :func:`file_quality` compares the file's luma table with the table Pillow writes at
each quality and returns the closest quality; a phone's own tables land on the nearest one.

:func:`compress` is the degradation the compressed-input networks are trained and measured on:
an 8-bit RGB (or gray) image saved with Pillow at a quality (its default 4:2:0 chroma
subsampling for colour, as phones and websites save) and decoded again.
"""

from __future__ import annotations

import io
import numbers
from functools import lru_cache

import numpy as np
from PIL import Image

QUALITIES = range(1, 101)   # the IJG quality scale


def check_quality(quality: object) -> int:
    """``quality`` as an int if it is a whole number from 1 to 100, else ValueError."""
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral) or quality not in QUALITIES:
        raise ValueError(f"JPEG quality must be a whole number from 1 to 100, got {quality!r:.40}")
    return int(quality)


def _saved(img: Image.Image, quality: int) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    buf.seek(0)
    out = Image.open(buf)
    out.load()
    return out


@lru_cache(maxsize=None)
def _reference_tables() -> np.ndarray:
    """(100, 64) luma quantization tables Pillow writes at qualities 1..100 (row q - 1)."""
    probe = Image.new("L", (8, 8))
    return np.array([list(_saved(probe, q).quantization[0]) for q in QUALITIES], np.float64)


def file_quality(img: Image.Image) -> int | None:
    """The quality a decoded-from-file JPEG was saved at (1..100), from its luma quantization
    table; None for an image that did not come from a JPEG file (PNG, converted, made in memory).
    Closest by mean absolute difference of the 64 entries; for IJG encoders it is exact."""
    tables = getattr(img, "quantization", None)
    if not tables or 0 not in tables or len(tables[0]) != 64:
        return None
    table = np.asarray(list(tables[0]), np.float64)
    return int(np.argmin(np.abs(_reference_tables() - table).mean(axis=1))) + 1


def compress(pixels: np.ndarray, quality: int) -> np.ndarray:
    """An 8-bit image (HWC uint8, C = 1 or 3) saved as JPEG at ``quality`` with Pillow and decoded
    again: HWC uint8 of the same shape. Pure: ``pixels`` is not changed."""
    quality = check_quality(quality)
    img = Image.fromarray(pixels[:, :, 0] if pixels.shape[2] == 1 else pixels)
    out = np.asarray(_saved(img, quality))
    return out[:, :, None] if out.ndim == 2 else out


def compress_image(img: Image.Image, quality: int) -> Image.Image:
    """A PIL image (L or RGB) saved as JPEG at ``quality`` and decoded: what an upload of it saved
    that way would be (its ``quantization`` attribute included, so :func:`file_quality` reads it)."""
    return _saved(img, check_quality(quality))
