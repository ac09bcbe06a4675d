"""srcnn.uploads: path confinement, header-only checks, decoding, notes; no server needed."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srcnn import uploads
from srcnn.imaging import pil_to_arrays


def photo(size=(64, 48), seed=0) -> Image.Image:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (size[1] // 8 + 1, size[0] // 8 + 1, 3), dtype=np.uint8)
    return Image.fromarray(small).resize(size, Image.Resampling.BICUBIC)


@pytest.fixture
def roots(tmp_path):
    inside = tmp_path / "uploads"
    (inside / "abc").mkdir(parents=True)
    photo().save(inside / "abc" / "ok.png")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    photo().save(outside / "secret.png")
    return inside, outside


def test_confine_accepts_files_inside_the_roots(roots):
    inside, _ = roots
    assert uploads.confine(inside / "abc" / "ok.png", [inside]) == (inside / "abc" / "ok.png").resolve()
    assert uploads.confine(str(inside / "abc" / ".." / "abc" / "ok.png"), [inside]).name == "ok.png"


@pytest.mark.parametrize("attack", ["dotdot", "absolute", "symlink", "system file"])
def test_confine_refuses_paths_that_leave_the_roots(roots, attack):
    inside, outside = roots
    path = {"dotdot": inside / "abc" / ".." / ".." / "elsewhere" / "secret.png",
            "absolute": outside / "secret.png",
            "symlink": inside / "abc" / "link.png",
            "system file": Path("/etc/hostname")}[attack]
    if attack == "symlink":
        os.symlink(outside / "secret.png", path)
    with pytest.raises(uploads.UploadError, match="not an upload of this app"):
        uploads.confine(path, [inside])


def test_confine_refuses_missing_files_and_folders(roots):
    inside, _ = roots
    for path in (inside / "abc" / "gone.png", inside / "abc", ""):
        with pytest.raises(uploads.UploadError, match="did not arrive"):
            uploads.confine(path, [inside])


def test_read_image_decodes_closes_and_keeps_exif_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6                       # rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    photo((64, 48)).save(path, "JPEG", exif=exif)
    checked = uploads.read_image(path, 3, upscaling=False)
    assert getattr(checked.image, "fp", None) is None            # no file handle left open
    assert any("EXIF orientation 6" in n for n in checked.notes)
    color, _ = pil_to_arrays(checked.image)
    assert color.shape[:2] == (64, 48)                           # upright: 48 wide, 64 high


@pytest.mark.parametrize("name, make, message", [
    ("empty.png", lambda p: p.write_bytes(b""), "is empty"),
    ("text.png", lambda p: p.write_text("not a picture"), "is not an image"),
    ("tiny.png", lambda p: Image.new("RGB", (4, 40)).save(p), "too small"),
    ("huge.png", lambda p: Image.new("L", (3000, 2000)).save(p), "too large"),
])
def test_read_image_refusals_name_the_file(tmp_path, name, make, message):
    path = tmp_path / name
    make(path)
    with pytest.raises(uploads.UploadError, match=message) as info:
        uploads.read_image(path, 3, upscaling=False)
    assert name in str(info.value)


def test_upscaling_limit_counts_the_output(tmp_path):
    path = tmp_path / "mid.png"
    Image.new("RGB", (1000, 800)).save(path)
    uploads.read_image(path, 2, upscaling=False)                 # 0.8 MP ground truth: fine
    with pytest.raises(uploads.UploadError, match="x3 output would be 3000x2400"):
        uploads.read_image(path, 3, upscaling=True)
    big = uploads.Limits(max_output_pixels=10_000_000)
    assert uploads.read_image(path, 3, upscaling=True, limits=big).image.size == (1000, 800)


def test_a_photo_with_malformed_exif_is_read_as_upright(tmp_path):
    """A camera's broken EXIF block is not the user's fault: the photo is read as stored, with
    no orientation note (Pillow's getexif() reads it as empty), never an unexplained error."""
    path = tmp_path / "broken-exif.jpg"
    Image.new("RGB", (40, 30), (90, 120, 150)).save(path, exif=b"Exif\x00\x00not a TIFF header at all")
    checked = uploads.read_image(path, 3, upscaling=True)
    assert checked.image.size == (40, 30) and not any("EXIF" in n for n in checked.notes)
    with Image.open(path) as img:
        assert uploads.upright_size(img) == (40, 30)


def test_the_apps_limits_take_a_phone_photo_whole_in_benchmark_and_at_x2_in_upscale(tmp_path):
    """A 12-MP phone photo (srcnn.tooling.data.phone_photo: 4032x3024 stored, EXIF 6) is read upright
    within Benchmark's limit and Upscale's at x2; the default (the study tab's) refuses it."""
    from srcnn.tooling.data import phone_photo
    path = phone_photo(tmp_path / "IMG_4032.jpg")
    with Image.open(path) as img:
        assert img.size == (4032, 3024) and uploads.orientation(img) == 6 and uploads.upright_size(img) == (3024, 4032)
    checked = uploads.read_image(path, 3, upscaling=False, limits=uploads.BENCHMARK_LIMITS)
    assert pil_to_arrays(checked.image)[0].shape[:2] == (4032, 3024)            # upright: 4032 high
    uploads.read_image(path, 2, upscaling=True, limits=uploads.UPSCALE_LIMITS)   # 6048x8064 out: 48.8 MP
    with pytest.raises(uploads.UploadError, match="x3 output would be 9072x12096"):
        uploads.read_image(path, 3, upscaling=True, limits=uploads.UPSCALE_LIMITS)
    with pytest.raises(uploads.UploadError, match="ground truth would be 3024x4032"):
        uploads.read_image(path, 3, upscaling=False)
