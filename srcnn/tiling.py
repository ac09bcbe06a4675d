"""Exact tiled application of a fully-convolutional function.

The original study cut 33 x 33 patches at stride 14, ran the network (21 x 21 valid outputs)
and pasted the outputs at a 21-px pitch: bands of 7 px were shown twice at every seam. Here
every output pixel is computed once, from exactly the input pixels it would see if the whole
image went through the network at once, so **tiled output == whole-image output**:

1. the image (H x W) is padded once by ``radius`` px with mirrored borders (``symmetric``,
   like MATLAB's imresize), giving (H + 2r) x (W + 2r);
2. the output is cut into a grid of blocks of at most ``tile`` x ``tile`` px, each side cut
   into the fewest near-equal parts (:func:`tile_grid`); block (i, j, h, w) reads the padded
   window ``[i, i + h + 2r) x [j, j + w + 2r)``: its own pixels plus a halo of ``radius`` px;
3. ``fn`` maps that window to an h x w block (valid convolutions), written at (i, j).

The blocks partition the output, so each pixel is written exactly once. Peak memory is
that of ``fn`` on ``batch`` windows of (tile + 2r)^2 px, not on the whole image.
This module knows nothing about models: ``fn`` is any function with that contract.

Two ways to run ``fn`` (the pixels are the same):

* a plain :data:`BatchFn` gets stacks of equal-shape windows, ``batch`` at a time;
* a function that also has an ``each`` method (:class:`EachFn`, e.g. srcnn.engine's) gets
  all the windows at once, as views (no copies), and yields each result as soon as it is
  ready, in any order: it runs them in parallel with no wait between groups of tiles. Its
  ``lanes`` (how many windows it runs at once) shapes the grid so that lanes do not idle
  at the end (:func:`tile_grid`).

Between tiles (after each result is pasted) :func:`tiled_apply` calls srcnn.cancel.checkpoint,
so the caller's check can stop it there; ``progress`` only reports.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Callable, Iterator, Protocol, Sequence

import numpy as np

from .cancel import checkpoint

# fn: (N, h + 2r, w + 2r) float32 -> (N, h, w) float32
BatchFn = Callable[[np.ndarray], np.ndarray]


class EachFn(Protocol):
    """A :data:`BatchFn` that can also run windows of mixed shapes, several at once.

    ``each(windows)`` takes a sequence of 2-D windows (h_i + 2r, w_i + 2r) (read-only views)
    and yields ``(i, block_i)``, block_i of shape (h_i, w_i), once per window, in the order
    they complete. Closing the generator early (the caller stopped) must stop starting new
    windows and return once the running ones are done. ``lanes``: windows run at once."""
    lanes: int

    def __call__(self, windows: np.ndarray) -> np.ndarray: ...

    def each(self, windows: Sequence[np.ndarray]) -> Iterator[tuple[int, np.ndarray]]: ...


def pad(image: np.ndarray, radius: int) -> np.ndarray:
    """Mirror-pad an HW array by ``radius`` px on every side (edge pixel repeated).

    Works for any size, 1 x 1 included (mirroring repeats as often as needed).
    """
    if radius < 0:
        raise ValueError("radius must be >= 0")
    return np.pad(np.asarray(image, np.float32), radius, mode="symmetric")


def _cuts(length: int, parts: int) -> list[tuple[int, int]]:
    """``length`` px cut into ``parts`` near-equal runs ``(start, size)``: sizes differ by at
    most 1 px, larger ones first."""
    base, extra = divmod(length, parts)
    starts, sizes = [], []
    start = 0
    for k in range(parts):
        size = base + (k < extra)
        starts.append(start)
        sizes.append(size)
        start += size
    return list(zip(starts, sizes))


def tile_grid(height: int, width: int, tile: int | None, lanes: int = 1,
              halo: int = 0) -> Iterator[tuple[int, int, int, int]]:
    """Output blocks ``(top, left, h, w)`` that partition a height x width image.

    Each side is cut into the fewest near-equal parts of at most ``tile`` px (sizes differ
    by at most 1 px: a 1000 px side in tiles of 256 gives 4 x 250, not 3 x 256 + 232).
    With ``lanes`` > 1 (blocks run that many at once), each side may be cut into up to
    ``lanes`` more parts, choosing the grid with the least time if every block costs its
    window's area (block plus ``halo`` px on each side) and the blocks go in rounds of
    ``lanes``: 3 x 3 blocks on 2 lanes become 3 x 4 (6 rounds of smaller blocks instead of 5,
    the last of them half idle), a single block becomes 2. ``tile=None`` gives one block, the
    whole image.
    """
    if tile is None:
        yield 0, 0, height, width
        return
    if int(tile) != tile or tile < 1:
        raise ValueError(f"tile must be a whole number of pixels >= 1, got {tile!r}")
    rows, cols = -(-height // tile), -(-width // tile)
    if lanes > 1:
        def cost(grid: tuple[int, int]) -> tuple[int, int]:
            r, c = grid
            rounds = -(-r * c // lanes)
            return rounds * (-(-height // r) + 2 * halo) * (-(-width // c) + 2 * halo), r * c
        rows, cols = min(((r, c) for r in range(rows, min(height, rows + lanes) + 1)
                          for c in range(cols, min(width, cols + lanes) + 1)), key=cost)
    for top, h in _cuts(height, rows):
        for left, w in _cuts(width, cols):
            yield top, left, h, w


def tiled_apply(fn: BatchFn, image: np.ndarray, radius: int, tile: int | None = None,
                batch: int = 1, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Apply ``fn`` to ``image`` (HW float) in tiles with a ``radius`` halo; exact stitching.

    ``fn`` takes a stack of padded windows (N, h + 2r, w + 2r) and returns (N, h, w).
    Tiles of equal shape are sent together, ``batch`` at a time. If ``fn`` has an ``each``
    method (:class:`EachFn`), every window goes to it at once instead, and results are
    pasted as they come. After each call of ``fn`` (with ``each``: each window's result), in
    the calling thread, srcnn.cancel.checkpoint is called (the enclosing check may raise to stop
    the work; with ``each``, windows already running finish first), then ``progress(done,
    total)`` (with ``each``: after every ``batch`` windows). Returns a new HW float32 array;
    ``image`` is not changed.
    """
    image = np.asarray(image, np.float32)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"tiled_apply expects a non-empty HW array, got shape {image.shape}")
    if batch < 1:
        raise ValueError("batch must be >= 1")
    height, width = image.shape
    padded = pad(image, radius)
    out = np.empty((height, width), np.float32)
    each = getattr(fn, "each", None)
    blocks = list(tile_grid(height, width, tile, int(getattr(fn, "lanes", 1)) if each else 1, radius))

    def paste(block: tuple[int, int, int, int], result: np.ndarray) -> None:
        t, l, h, w = block
        if result.shape != (h, w):
            raise ValueError(f"fn returned shape {result.shape}, expected {(h, w)}: "
                             f"is radius={radius} the network's receptive-field radius?")
        out[t:t + h, l:l + w] = result

    if each is not None:
        calls = -(-len(blocks) // batch)
        results = each([padded[t:t + h + 2 * radius, l:l + w + 2 * radius] for t, l, h, w in blocks])
        try:
            for done, (i, result) in enumerate(results, 1):
                paste(blocks[i], np.asarray(result))
                checkpoint()
                if progress is not None and (done % batch == 0 or done == len(blocks)):
                    progress(-(-done // batch), calls)
        finally:
            results.close()
        return out

    groups: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for top, left, h, w in blocks:
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
            checkpoint()
            done += 1
            if progress is not None:
                progress(done, calls)
    return out
