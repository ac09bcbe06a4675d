"""srcnn.jpeg: the quality a JPEG file was saved at, read from its tables; the Pillow round trip."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from srcnn import jpeg


def photo(size=(48, 40), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[1] // 8 + 1, size[0] // 8 + 1, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


def saved(img: Image.Image, **params) -> Image.Image:
    buf = io.BytesIO()
    img.save(buf, "JPEG", **params)
    buf.seek(0)
    return Image.open(buf)


@pytest.mark.parametrize("quality", [1, 10, 30, 50, 51, 74, 75, 90, 95, 100])
def test_file_quality_reads_the_quality_pillow_saved_at(quality):
    assert jpeg.file_quality(saved(photo(), quality=quality)) == quality


def test_file_quality_is_read_from_the_header_before_decoding():
    buf = io.BytesIO()
    photo((256, 256)).save(buf, "JPEG", quality=62)
    data = buf.getvalue()
    sos = data.index(b"\xff\xda")
    header = data[:sos + 2 + int.from_bytes(data[sos + 2:sos + 4], "big")]   # through the scan header: no pixels
    img = Image.open(io.BytesIO(header))
    assert jpeg.file_quality(img) == 62
    with pytest.raises(OSError):
        img.load()                                     # the pixels were never there


def test_file_quality_of_gray_and_of_non_ijg_tables():
    assert jpeg.file_quality(saved(photo().convert("L"), quality=40)) == 40
    table = [min(255, 2 * (i % 8) + 3) for i in range(64)]            # an encoder's own table
    img = saved(photo(), qtables=[table, table])
    assert 1 <= jpeg.file_quality(img) <= 100


def test_file_quality_is_none_for_images_that_are_not_jpeg_files():
    buf = io.BytesIO()
    photo().save(buf, "PNG")
    buf.seek(0)
    assert jpeg.file_quality(Image.open(buf)) is None
    assert jpeg.file_quality(photo()) is None
    assert jpeg.file_quality(saved(photo(), quality=50).convert("RGB")) is None   # converted: no file


def test_compress_is_the_pillow_round_trip_and_keeps_shape():
    pixels = np.asarray(photo())
    out = jpeg.compress(pixels, 30)
    assert out.shape == pixels.shape and out.dtype == np.uint8
    assert np.array_equal(out, np.asarray(saved(Image.fromarray(pixels), quality=30)))
    assert not np.array_equal(out, pixels)
    gray = pixels[:, :, :1].copy()
    assert jpeg.compress(gray, 80).shape == gray.shape
    before = pixels.copy()
    jpeg.compress(pixels, 10)
    assert np.array_equal(pixels, before)                       # pure


def test_compress_image_carries_its_tables():
    assert jpeg.file_quality(jpeg.compress_image(photo(), 33)) == 33


@pytest.mark.parametrize("bad", [0, 101, -5, 50.0, True, "75", None])
def test_check_quality_refuses_what_is_not_a_quality(bad):
    with pytest.raises(ValueError, match="JPEG quality"):
        jpeg.check_quality(bad)
