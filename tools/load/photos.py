"""The photos the load test sends: seeded photo-like ones of any size, and held-out real ones."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image


def make_photo(seed: int, width: int, height: int) -> Image.Image:
    """A distinct photo-like RGB image: smooth colour fields plus detail at two finer scales."""
    rng = np.random.default_rng(seed)

    def layer(cell: int) -> np.ndarray:
        grid = rng.integers(0, 256, (max(2, height // cell), max(2, width // cell), 3), dtype=np.uint8)
        return np.asarray(Image.fromarray(grid).resize((width, height), Image.Resampling.BICUBIC), np.float32)

    img = 0.6 * layer(48) + 0.3 * layer(8) + 0.1 * layer(2)
    return Image.fromarray(np.clip(img, 0, 255).astype(np.uint8))


def size_for(megapixels: float, aspect: float) -> tuple[int, int]:
    w = int(round(math.sqrt(megapixels * 1e6 * aspect)))
    return w, int(round(w / aspect))


class Photos:
    """Photos saved as PNG (zlib level 1) in ``folder``, each from its own seed."""

    def __init__(self, folder: Path):
        self.folder, self.seed = folder, 0
        folder.mkdir(parents=True, exist_ok=True)

    def new(self, name: str, width: int, height: int) -> Path:
        self.seed += 1
        path = self.folder / f"{name}-{width}x{height}.png"
        make_photo(self.seed, width, height).save(path, compress_level=1)
        return path


def modcrop(a: np.ndarray, scale: int) -> np.ndarray:
    h, w = a.shape[:2]
    return a[: h - h % scale, : w - w % scale]


def held_out_photos(folder: Path, quick: bool) -> list[Path]:
    """Photos the app does not bundle (examples/ holds chelsea, coffee, flower, grace_hopper), from
    the installed packages, cut or resized to 0.3-0.5 megapixels (quick: about 0.06), saved as PNG."""
    import skimage
    from sklearn.datasets import load_sample_image
    data = Path(skimage.__file__).parent / "data"
    folder.mkdir(parents=True, exist_ok=True)
    sources = [("motorcycle_left", Image.open(data / "motorcycle_left.png")),
               ("motorcycle_right", Image.open(data / "motorcycle_right.png")),
               ("hubble", Image.open(data / "hubble_deep_field.jpg").crop((100, 100, 860, 700))),
               ("retina", Image.open(data / "retina.jpg").crop((360, 360, 1040, 1040))),
               ("china", Image.fromarray(load_sample_image("china.jpg")).resize((720, 480), Image.Resampling.LANCZOS)),
               ("astronaut", Image.open(data / "astronaut.png").resize((600, 600), Image.Resampling.LANCZOS))]
    paths = []
    for name, img in sources:
        img = img.convert("RGB")
        if quick:
            img = img.resize((img.width // 3, img.height // 3), Image.Resampling.LANCZOS)
        path = folder / f"{name}-{img.width}x{img.height}.png"
        img.save(path, compress_level=1)
        paths.append(path)
    return paths
