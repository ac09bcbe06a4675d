"""Images to train and measure on, and training pairs made from them.

No downloads. Two sources, both listed with their licenses in the README, "Data and licenses":

* the field's sets, vendored under ``data/`` (:data:`SETS`): T91 (the 91 training images of
  Yang et al. 2010), Set5 and Set14 (the benchmarks), lossless PNG copies of the BMPs in
  tegg89/SRCNN-Tensorflow (MIT); load them with :func:`load_set`;
* photos inside installed packages (scikit-image, scikit-learn, matplotlib, PyWavelets):
  ``TRAINING`` and ``VALIDATION``. The split is fixed: ``VALIDATION`` photos are never
  trained on, nor are Set5 and Set14.

Training pairs are made exactly the way inference sees images: the high-resolution photo
(at a few rescalings, for variety) is modcropped, degraded with MATLAB bicubic to 8 bits,
upscaled back with the same bicubic, and cut into ``patch`` x ``patch`` luma patches at a
``stride``; each label is the centre of the matching high-resolution patch, smaller by the
network's radius on each side (valid convolutions).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
from PIL import Image

from .. import jpeg
from ..factors import low_res
from ..models import RANGE, SCALES
from ..uploads import IMAGE_SUFFIXES
from ..imaging import degrade_array, imresize, luma, modcrop, pil_to_arrays, round8, to_8bit


def _skimage(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        import skimage.data
        return Image.fromarray(getattr(skimage.data, name)())
    return load


def _motorcycle() -> Image.Image:
    import skimage.data
    left, _right, _disparity = skimage.data.stereo_motorcycle()
    return Image.fromarray(left)


def _sklearn(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        import sklearn.datasets
        path = Path(sklearn.datasets.__file__).parent / "images" / name
        return Image.open(path)
    return load


def _matplotlib(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        import matplotlib
        return Image.open(Path(matplotlib.get_data_path()) / "sample_data" / name)
    return load


def _pywt(name: str) -> Callable[[], Image.Image]:
    def load() -> Image.Image:
        import pywt.data
        arr = getattr(pywt.data, name)()           # 0..255 (uint8; float in older PyWavelets)
        return Image.fromarray(to_8bit(arr / 255.0))
    return load


RANGE_FACTORS = (1.1, 1.25, 1.5, 1.75, 2.0)   # the factors models.RANGE's network is trained on
DATA_DIR = Path(__file__).resolve().parents[2] / "data"   # in the source checkout; the wheel has no data/
SETS = ("T91", "Set5", "Set14")


def vendored(name: str) -> Path:
    """``data/<name>/``; FileNotFoundError saying why where it is missing (an installed package)."""
    folder = DATA_DIR / name
    if not folder.is_dir():
        raise FileNotFoundError(f"data/{name}/ not found ({folder}): the vendored photo sets come with the "
                                "project's source checkout, not with the installed package; run this from a checkout")
    return folder


def clean_validation() -> dict[str, Image.Image]:
    """``data/validation-clean/``: photos made clean by downscaling large ones by 2 or 4, synthetic
    drawings and plain photos (tools/make_photo_sets.py). They pick the small-factor anchors'
    training steps and decide which factors a network may serve (srcnn.factors); never trained on."""
    return load_images(vendored("validation-clean"))


def held_out() -> dict[str, Image.Image]:
    """``data/held-out/``: photos of the same kinds as :func:`clean_validation`, never trained on and
    never used to choose anything: the small-factor results are reported on them."""
    return load_images(vendored("held-out"))


def load_set(name: str) -> dict[str, Image.Image]:
    """A vendored set by name (``T91``, ``Set5``, ``Set14``): file stem -> image, sorted.
    Images are decoded now (no file handle stays open)."""
    if name not in SETS:
        raise ValueError(f"unknown set {name!r}: choose one of {', '.join(SETS)}")
    return load_images(vendored(name))


# name -> loader. Photographs and textures; synthetic drawings (text, logos) are left out.
TRAINING: dict[str, Callable[[], Image.Image]] = {
    "astronaut": _skimage("astronaut"),
    "camera": _skimage("camera"),
    "rocket": _skimage("rocket"),
    "hubble_deep_field": _skimage("hubble_deep_field"),
    "motorcycle": _motorcycle,
    "brick": _skimage("brick"),
    "grass": _skimage("grass"),
    "gravel": _skimage("gravel"),
    "coins": _skimage("coins"),
    "moon": _skimage("moon"),
    "retina": _skimage("retina"),
    "immunohistochemistry": _skimage("immunohistochemistry"),
    "cell": _skimage("cell"),
    "china": _sklearn("china.jpg"),
    "aero": _pywt("aero"),
    "ascent": _pywt("ascent"),
}
VALIDATION: dict[str, Callable[[], Image.Image]] = {
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "grace_hopper": _matplotlib("grace_hopper.jpg"),
    "flower": _sklearn("flower.jpg"),
}


def _decoded(path: Path) -> Image.Image:
    with Image.open(path) as im:
        im.load()
        return im


def load_images(names_or_dir: list[str] | str | Path) -> dict[str, Image.Image]:
    """Named bundled photos, or every image file in a folder (sorted by name)."""
    if isinstance(names_or_dir, (str, Path)):
        folder = Path(names_or_dir)
        if not folder.is_dir():
            raise ValueError(f"{folder} is not a folder of images")
        files = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise ValueError(f"no images (.png, .jpg, .bmp, .tif, .webp) in {folder}")
        return {p.stem: _decoded(p) for p in files}
    catalogue = {**TRAINING, **VALIDATION}
    unknown = [n for n in names_or_dir if n not in catalogue]
    if unknown:
        raise ValueError(f"unknown bundled image(s) {unknown}; known: {sorted(catalogue)}")
    return {n: catalogue[n]() for n in names_or_dir}


def center_crop(img: Image.Image, size: int) -> Image.Image:
    """The central ``size`` x ``size`` px of ``img`` (all of it along a side shorter than that)."""
    left, top = max(0, (img.width - size) // 2), max(0, (img.height - size) // 2)
    return img.crop((left, top, min(img.width, left + size), min(img.height, top + size)))


def lr_hr_luma(hr_color: np.ndarray, scale: float, quality: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(bicubic-upscaled 8-bit LR luma, HR luma) for an HWC 0..1 photo, both HW, same size.

    The network's input and its target: modcrop, degrade to 8 bits (srcnn.imaging.round8),
    with ``quality`` saved as a JPEG at that quality and decoded (srcnn.jpeg.compress: what an
    upload saved that way gives), bicubic back up. The input is channel 0 of
    srcnn.pipeline.bicubic_planes on the 8-bit LR image, computed on the luma plane alone (a
    third of the work for the tens of thousands of patches; equal to float32 rounding, ~1e-7).
    """
    if scale in SCALES:
        scale = int(scale)
        hr = modcrop(hr_color, scale)
        lr = compressed(round8(degrade_array(hr, scale)), quality)
        return imresize(luma(lr), float(scale)), luma(hr)
    hr, lr = low_res(hr_color, scale)         # any other factor (the range network's patches)
    return imresize(luma(compressed(round8(lr), quality)), size=hr.shape[:2]), luma(hr)


def compressed(lr: np.ndarray, quality: int | None) -> np.ndarray:
    """An 8-bit-valued HWC 0..1 image saved as a JPEG at ``quality`` and decoded (srcnn.jpeg),
    HWC 0..1 float32; ``lr`` itself when ``quality`` is None."""
    if quality is None:
        return lr
    return jpeg.compress(to_8bit(lr), quality).astype(np.float32) / np.float32(255.0)


@dataclass(frozen=True)
class Patches:
    """Training pairs: ``inputs`` (N, P, P) bicubic luma, ``labels`` (N, P-2r, P-2r) HR luma."""
    inputs: np.ndarray
    labels: np.ndarray


def make_patches(images: dict[str, Image.Image], scale: int | float | str, radius: int, patch: int = 33,
                 stride: int = 14, rescales: tuple[float, ...] = (1.0, 0.8, 0.6),
                 jpeg_quality: tuple[int, int] | None = None, jpeg_copies: int = 1, seed: int = 0) -> Patches:
    """Cut training pairs from photos at every rescaling. Deterministic for a given ``seed``.

    ``scale``: a factor, or models.RANGE: then the patches of every factor in
    :data:`RANGE_FACTORS`, each keeping one patch in ``len(RANGE_FACTORS)`` (a different one per
    factor), so that the range network sees as many patches as the others.
    ``jpeg_quality`` = (lowest, highest): each photo at each rescaling gives ``jpeg_copies`` low-res
    images, each saved as a JPEG at a quality drawn uniformly from that range (inclusive); None:
    the clean 8-bit low-res image, once."""
    if scale == RANGE:
        parts = [make_patches(images, f, radius, patch, stride, rescales, jpeg_quality, jpeg_copies, seed + i)
                 for i, f in enumerate(RANGE_FACTORS)]
        n = len(RANGE_FACTORS)
        return Patches(np.concatenate([p.inputs[i::n] for i, p in enumerate(parts)]),
                       np.concatenate([p.labels[i::n] for i, p in enumerate(parts)]))
    if patch <= 2 * radius:
        raise ValueError(f"patch {patch} is too small for a network of radius {radius}")
    rng = np.random.default_rng(seed)
    qualities = [None] if jpeg_quality is None else [jpeg_quality] * jpeg_copies
    ins, labs = [], []
    for img in images.values():
        color, _ = pil_to_arrays(img)
        for f in rescales:
            hr = color if f == 1.0 else round8(imresize(color, f))
            if min(hr.shape[:2]) < patch:
                continue
            for band in qualities:
                q = None if band is None else int(rng.integers(band[0], band[1] + 1))
                x, y = lr_hr_luma(hr, scale, q)
                h, w = x.shape
                for i in range(0, h - patch + 1, stride):
                    for j in range(0, w - patch + 1, stride):
                        ins.append(x[i:i + patch, j:j + patch])
                        labs.append(y[i + radius:i + patch - radius, j + radius:j + patch - radius])
    if not ins:
        raise ValueError(f"no {patch}x{patch} patches: images are too small")
    return Patches(np.stack(ins).astype(np.float32), np.stack(labs).astype(np.float32))


PHONE_SIZE = (3024, 4032)   # a 12-MP phone photo held upright (width, height in px)


def phone_photo(path: str | Path, size: tuple[int, int] = PHONE_SIZE, quality: int = 85) -> Path:
    """Write what a phone uploads: a JPEG (``quality``, 4:2:0) whose pixels are stored sideways with
    EXIF orientation 6 (turn 90 degrees clockwise to show), upright ``size`` = (width, height) px.
    Its content: the held-out photos (data/held-out/) enlarged x2 with bicubic and tiled in a grid,
    so it has edges and texture everywhere. Returns ``path``."""
    photos = list(held_out().values())
    w, h = size
    canvas = Image.new("RGB", size)
    x = y = row_h = i = 0
    while y < h:
        tile = photos[i % len(photos)].convert("RGB")
        tile = tile.resize((tile.width * 2, tile.height * 2), Image.Resampling.BICUBIC)
        canvas.paste(tile, (x, y))
        row_h, x, i = max(row_h, tile.height), x + tile.width, i + 1
        if x >= w:
            x, y, row_h = 0, y + row_h, 0
    exif = Image.Exif()
    exif[0x0112] = 6
    canvas.transpose(Image.Transpose.ROTATE_90).save(path, "JPEG", quality=quality, exif=exif.tobytes())
    return Path(path)
