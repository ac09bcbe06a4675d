"""Exact tiled application of a fully-convolutional function.

The original study cut 33 x 33 patches at stride 14, ran the network (21 x 21 valid outputs)
and pasted the outputs at a 21-px pitch: bands of 7 px were shown twice at every seam. Here
every output pixel is computed once, from exactly the input pixels it would see if the whole
image went through the network at once, so **tiled output == whole-image output**:

1. the image (H x W) is padded once by ``radius`` px with mirrored borders (``symmetric``,
   like MATLAB's imresize), giving (H + 2r) x (W + 2r);
2. the output is cut into a grid of ``tile`` x ``tile`` blocks (smaller at the right and
   bottom edges); block (i, j, h, w) reads the padded window
   ``[i, i + h + 2r) x [j, j + w + 2r)``: its own pixels plus a halo of ``radius`` px;
3. ``fn`` maps that window to an h x w block (valid convolutions), written at (i, j).

The blocks partition the output, so each pixel is written exactly once. Peak memory is
that of ``fn`` on ``batch`` windows of (tile + 2r)^2 px, not on the whole image.
This module knows nothing about models: ``fn`` is any function with that contract.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterator

import numpy as np

# fn: (N, h + 2r, w + 2r) float32 -> (N, h, w) float32
BatchFn = Callable[[np.ndarray], np.ndarray]


def pad(image: np.ndarray, radius: int) -> np.ndarray:
    """Mirror-pad an HW array by ``radius`` px on every side (edge pixel repeated).

    Works for any size, 1 x 1 included (mirroring repeats as often as needed).
    """
    if radius < 0:
        raise ValueError("radius must be >= 0")
    return np.pad(np.asarray(image, np.float32), radius, mode="symmetric")


def tile_grid(height: int, width: int, tile: int | None) -> Iterator[tuple[int, int, int, int]]:
    """Output blocks ``(top, left, h, w)`` that partition a height x width image.

    ``tile=None`` gives one block, the whole image.
    """
    if tile is None:
        yield 0, 0, height, width
        return
    if int(tile) != tile or tile < 1:
        raise ValueError(f"tile must be a whole number of pixels >= 1, got {tile!r}")
    for top in range(0, height, tile):
        for left in range(0, width, tile):
            yield top, left, min(tile, height - top), min(tile, width - left)


def tiled_apply(fn: BatchFn, image: np.ndarray, radius: int, tile: int | None = None,
                batch: int = 1, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Apply ``fn`` to ``image`` (HW float) in tiles with a ``radius`` halo; exact stitching.

    ``fn`` takes a stack of padded windows (N, h + 2r, w + 2r) and returns (N, h, w).
    Tiles of equal shape are sent together, ``batch`` at a time. ``progress(done, total)``
    is called after each call of ``fn``. Returns a new HW float32 array; ``image`` is not changed.
    """
    image = np.asarray(image, np.float32)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"tiled_apply expects a non-empty HW array, got shape {image.shape}")
    if batch < 1:
        raise ValueError("batch must be >= 1")
    height, width = image.shape
    padded = pad(image, radius)
    out = np.empty((height, width), np.float32)
    groups: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for top, left, h, w in tile_grid(height, width, tile):
        groups[(h, w)].append((top, left))
    calls = sum(-(-len(v) // batch) for v in groups.values())
    done = 0
    for (h, w), corners in groups.items():
        for k in range(0, len(corners), batch):
            chunk = corners[k:k + batch]
            windows = np.stack([padded[t:t + h + 2 * radius, l:l + w + 2 * radius] for t, l in chunk])
            result = np.asarray(fn(windows))
            if result.shape != (len(chunk), h, w):
                raise ValueError(f"fn returned shape {result.shape}, expected {(len(chunk), h, w)}: "
                                 f"is radius={radius} the network's receptive-field radius?")
            for (t, l), block in zip(chunk, result):
                out[t:t + h, l:l + w] = block
            done += 1
            if progress is not None:
                progress(done, calls)
    return out
