"""Write the clean validation photos and the held-out test photos into data/ (run once; the
PNGs are committed, so training and tests need none of these packages).

    pip install sporco==0.2.2.post1 glymur==0.14.8   # two of the sources, only for this script
    python -m tools.make_photo_sets

Why these photos (docs/results.md, "Any factor"): Set5/Set14 hide how a network behaves on
*clean* photos, where bicubic alone already scores 40+ dB at small factors and any
over-sharpening shows. So each set mixes photos made clean by downscaling a large one by 4
(MATLAB bicubic, antialiased), synthetic drawings with flat regions and hard edges, and plain
(noisy, soft) photos. ``data/validation-clean/`` picks training steps and decides which factors
a network may serve (srcnn.factors); ``data/held-out/`` is only ever reported. Neither is
trained on. Sources and licenses: docs/data.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from srcnn.imaging import imresize, to_8bit

ROOT = Path(__file__).resolve().parent.parent / "data"


def skimage(name: str) -> np.ndarray:
    import skimage.data
    a = getattr(skimage.data, name)()
    if a.dtype != np.uint8:
        a = to_8bit(a.astype(np.float64) / a.max())
    if a.ndim == 3 and a.shape[2] == 4:                  # RGBA drawing: on white
        rgb, alpha = a[..., :3] / 255.0, a[..., 3:] / 255.0
        a = to_8bit(rgb * alpha + (1 - alpha))
    return a


def package_file(module: str, relative: str) -> np.ndarray:
    import importlib
    path = Path(importlib.import_module(module).__file__).parent / relative
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"))


def shrink(a: np.ndarray, by: float) -> np.ndarray:
    """``a`` downscaled by ``by`` with MATLAB bicubic (antialiased), 8-bit: a clean photo."""
    return to_8bit(imresize(a / 255.0, 1 / by))


def crop(a: np.ndarray, size: int) -> np.ndarray:
    """The centre ``size`` x ``size`` (or less) of ``a``."""
    h, w = a.shape[:2]
    top, left = max(0, (h - size) // 2), max(0, (w - size) // 2)
    return a[top:top + size, left:left + size]


def sklearn_file(name: str) -> np.ndarray:
    import sklearn.datasets
    with Image.open(Path(sklearn.datasets.__file__).parent / "images" / name) as img:
        return np.asarray(img.convert("RGB"))


def matplotlib_file(name: str) -> np.ndarray:
    import matplotlib
    with Image.open(Path(matplotlib.get_data_path()) / "sample_data" / name) as img:
        return np.asarray(img.convert("RGB"))


SIZE = 320   # px, the largest side kept: a set measures in seconds at every factor

# name -> (what it is, how it is made)
VALIDATION_CLEAN = {
    "snowy-street": lambda: crop(shrink(package_file("glymur", "data/nemo.jp2"), 4), SIZE),
    "retina": lambda: crop(shrink(skimage("retina"), 4), SIZE),
    "astronaut": lambda: shrink(skimage("astronaut"), 4),
    "hubble": lambda: crop(shrink(skimage("hubble_deep_field"), 4), SIZE),
    "camera": lambda: crop(shrink(skimage("camera"), 2), SIZE),
    "phantom": lambda: crop(skimage("shepp_logan_phantom"), SIZE),
    "colorwheel": lambda: crop(skimage("colorwheel"), SIZE),
    "kodim23": lambda: crop(package_file("sporco", "data/kodim23.png"), SIZE),
    "coffee": lambda: crop(skimage("coffee"), SIZE),
    "beer": lambda: crop(shrink(package_file("glymur", "data/goodstuff.j2k"), 2), SIZE),
}
HELD_OUT = {
    "rocket": lambda: crop(shrink(skimage("rocket"), 2), SIZE),
    "china": lambda: crop(shrink(sklearn_file("china.jpg"), 2), SIZE),
    "logo": lambda: crop(skimage("logo"), SIZE),
    "text": lambda: skimage("text"),
    "tulips": lambda: crop(package_file("sporco", "data/tulips.png"), SIZE),
    "sail": lambda: crop(package_file("sporco", "data/sail.png"), SIZE),
    "sail-small": lambda: shrink(package_file("sporco", "data/sail.png"), 4),
    "chelsea": lambda: crop(skimage("chelsea"), SIZE),
    "grace-hopper": lambda: crop(matplotlib_file("grace_hopper.jpg"), SIZE),
    "flower": lambda: crop(sklearn_file("flower.jpg"), SIZE),
    "immunohistochemistry": lambda: crop(shrink(skimage("immunohistochemistry"), 2), SIZE),
    "coins": lambda: crop(skimage("coins"), SIZE),
    "barbara": lambda: crop(shrink(package_file("sporco", "data/barbara.png"), 2), SIZE),
    # the strip of nemo.jp2 right of what validation-clean/snowy-street keeps (no pixel shared)
    "street-corner": lambda: shrink(package_file("glymur", "data/nemo.jp2")[:, 1936:], 4),
}


def main() -> None:
    for folder, photos in (("validation-clean", VALIDATION_CLEAN), ("held-out", HELD_OUT)):
        out = ROOT / folder
        out.mkdir(parents=True, exist_ok=True)
        for name, make in photos.items():
            a = make()
            Image.fromarray(a).save(out / f"{name}.png", optimize=True)
            print(f"{folder}/{name}.png {a.shape[1]}x{a.shape[0]}")


if __name__ == "__main__":
    main()
