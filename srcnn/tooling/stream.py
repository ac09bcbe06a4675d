"""A streaming training set: any folder of photos, patches and degradations made per step.

``train.py --images FOLDER`` trains from this module instead of cutting every patch up front
(srcnn.tooling.data.make_patches, the vendored sets' recipe): photos are read lazily, in
``DataLoader`` worker processes, and every patch is made when a step asks for it, so memory
does not grow with the collection (a list of the file names is all that is held of it).

Patch ``i`` of a run (``i = step * batch_size + j``: patch ``j`` of the global batch of a
step) is a pure function of ``(seed, i)``:

* its photo: patches come in groups of ``per_photo`` (patch ``i`` is in group
  ``i // per_photo``), all of a group from one photo drawn uniformly from the sorted file list
  with the group's own generator, so that a worker decodes a photo once for several patches;
* a rescaling of the photo (one of ``rescales``, as make_patches), the factor (the run's; for
  the range network one of srcnn.tooling.data.RANGE_FACTORS), a JPEG quality drawn uniformly
  from ``jpeg_quality`` (inclusive; None: clean 8-bit low-res), a position and one of the 8
  dihedral transforms, all from the patch's own generator;
* its pixels: the region of the (rescaled) photo around the patch, with a margin wider than
  the bicubic kernels reach, goes through the degradation of the in-memory path
  (srcnn.tooling.data.lr_hr_luma: MATLAB bicubic down to 8 bits, an optional JPEG round trip,
  bicubic back up); the patch is cut from the region's centre, where the region's borders do
  not reach (JPEG's 8x8 blocks start at the region's corner). The resizes run as products
  with fixed matrices (:class:`Degradation`): a region's sizes are the same for every patch.

So the global batch of a step does not depend on how many processes or workers share it:
:class:`StepBatches` gives each of N ranks its contiguous ``batch_size / N`` share, and the
shares of all ranks together are the batch a single process draws.
"""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from PIL import Image, ImageOps

from ..factors import crop_multiple
from ..imaging import imresize, luma, pil_to_arrays, round8
from ..models import RANGE
from ..uploads import IMAGE_SUFFIXES, upright_size
from .data import RANGE_FACTORS, compressed

RESCALE_MARGIN = 4    # px (rescaled): how far a bicubic rescaling's border effects reach into a region


def find_photos(folder: str | Path) -> np.ndarray:
    """Every image file under ``folder``, at any depth (:data:`srcnn.uploads.IMAGE_SUFFIXES`),
    as paths relative to it, sorted; a numpy array of bytes (one block of memory, which worker
    processes share without copying, where a list of str objects would be copied page by page)."""
    root = Path(folder)
    if not root.is_dir():
        raise ValueError(f"{root} is not a folder of images")
    names = sorted(os.fsencode(p.relative_to(root)) for p in root.rglob("*")
                   if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if not names:
        raise ValueError(f"no images ({', '.join(sorted(IMAGE_SUFFIXES))}) in {root} or below")
    return np.array(names, dtype=np.bytes_)


def factors_of(scale: int | float | str) -> tuple[float, ...]:
    """The factors patches are made at: the run's, or RANGE_FACTORS for the range network."""
    return tuple(RANGE_FACTORS) if scale == RANGE else (scale,)


def margin(factor: float) -> int:
    """px of high-res region kept around a patch at ``factor``: the downscaling kernel reaches
    2 x factor px, the upscaling one 2 low-res px (2 x factor px) more; 4 px to spare."""
    return math.ceil(4 * factor) + 4


def region_side(factor: float, patch: int) -> int:
    """Side (px, rescaled) of the high-res region a patch at ``factor`` is made from: the patch
    and its :func:`margin` on both sides, rounded up to a multiple of ``crop_multiple(factor)``
    (so that the low-res region is exactly 1/factor of it, with nothing cropped)."""
    step = crop_multiple(factor)
    return math.ceil((patch + 2 * margin(factor)) / step) * step


def source_side(side: int, rescale: float) -> int:
    """Side (px, in the photo as stored) of the crop that gives a ``side`` px region once rescaled."""
    return side if rescale == 1.0 else math.ceil((side + 2 * RESCALE_MARGIN) / rescale)


class Draw(NamedTuple):
    """The random choices behind one patch."""
    name: bytes           # the photo, relative to the folder
    rescale: float        # of the photo (1.0: as stored)
    factor: float         # the degradation's factor
    quality: int | None   # JPEG quality of the low-res region (None: clean 8-bit)
    top: int              # px, the crop's corner in the photo as stored (upright)
    left: int
    side: int             # px, the crop's side in the photo as stored
    k: int                # dihedral transform, 0..7 (:func:`dihedral`)


class PhotoPatches(torch.utils.data.Dataset):
    """Item ``i``: (input, label), float32 tensors (1, P, P) and (1, P - 2r, P - 2r), 0..1: the
    bicubic-upscaled degraded luma and the high-res luma centre (module docstring). Holds the
    file list and, in each worker, the one photo it read last (decoded, 8-bit, upright)."""

    def __init__(self, folder: str | Path, scale: int | float | str, radius: int, patch: int = 33,
                 rescales: tuple[float, ...] = (1.0, 0.8, 0.6), jpeg_quality: tuple[int, int] | None = None,
                 seed: int = 0, per_photo: int = 16):
        if patch <= 2 * radius:
            raise ValueError(f"patch {patch} is too small for a network of radius {radius}")
        self.root, self.files = Path(folder), find_photos(folder)
        self.factors, self.radius, self.patch = factors_of(scale), radius, patch
        self.rescales, self.jpeg_quality, self.seed, self.per_photo = tuple(rescales), jpeg_quality, seed, per_photo
        self.degradation = Degradation()
        self._last: tuple[bytes, Image.Image] | None = None
        self._group: tuple[int, bytes] | None = None

    def photo(self, name: bytes) -> Image.Image:
        """The photo ``name`` (a relative path of :attr:`files`), upright, pixels loaded; the
        last one read is kept, so a group's patches decode it once."""
        if self._last is None or self._last[0] != name:
            self._last = None                             # the old photo goes before the new one comes
            with Image.open(self.root / os.fsdecode(name)) as im:
                img = ImageOps.exif_transpose(im)
                img.load()
            self._last = (name, img)
        return self._last[1]

    def _group_photo(self, group: int) -> bytes:
        """The photo of a group: the first drawn that holds the largest region at some rescaling."""
        if self._group is None or self._group[0] != group:
            self._group = (group, self._draw_photo(group))
        return self._group[1]

    def _draw_photo(self, group: int) -> bytes:
        rng = np.random.default_rng([self.seed, group])
        need = max(min(source_side(region_side(f, self.patch), r) for r in self.rescales) for f in self.factors)
        for _ in range(100):
            name = bytes(self.files[rng.integers(len(self.files))])
            with Image.open(self.root / os.fsdecode(name)) as im:          # the header only
                if min(upright_size(im)) >= need:
                    return name
        raise ValueError(f"photos in {self.root} are too small: patches at x{max(self.factors):g} need "
                         f"{need} px on the shorter side (100 drawn, none had it)")

    def draw(self, i: int) -> Draw:
        """What patch ``i`` is made of (module docstring): a pure function of (seed, i); reads
        the headers of the group's candidate photos and the chosen photo's pixels."""
        name = self._group_photo(i // self.per_photo)
        img = self.photo(name)
        rng = np.random.default_rng([self.seed, i // self.per_photo, i])
        factor = self.factors[rng.integers(len(self.factors))]
        side = region_side(factor, self.patch)
        fits = [f for f in self.rescales if source_side(side, f) <= min(img.size)]
        rescale = fits[rng.integers(len(fits))]
        lo, hi = self.jpeg_quality or (0, 0)
        quality = int(rng.integers(lo, hi + 1)) if self.jpeg_quality else None
        src = source_side(side, rescale)
        top, left = (int(rng.integers(0, n - src + 1)) for n in (img.height, img.width))
        return Draw(name, rescale, factor, quality, top, left, src, int(rng.integers(0, 8)))

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        d = self.draw(i)
        crop, _ = pil_to_arrays(self.photo(d.name).crop((d.left, d.top, d.left + d.side, d.top + d.side)))
        x, y = self.degradation.pair(crop, d.rescale, d.factor, d.quality, self.patch, self.radius)
        return (torch.from_numpy(np.ascontiguousarray(dihedral(x, d.k)))[None],
                torch.from_numpy(np.ascontiguousarray(dihedral(y, d.k)))[None])


def resize_matrix(n_in: int, n_out: int) -> torch.Tensor:
    """(n_out, n_in) float32 matrix ``A`` such that ``A @ a`` resizes every column of ``a`` from
    n_in to n_out px as srcnn.imaging.imresize does (MATLAB bicubic, antialiased when
    shrinking, mirrored borders): imresize is linear and separable, so on a fixed size it is
    this matrix, read off by resizing the identity. ``A @ x @ A.T`` resizes an n_in x n_in
    plane; equal to imresize within float32 rounding (~2e-7)."""
    eye = np.eye(n_in, dtype=np.float32)[:, :, None]
    return torch.from_numpy(np.ascontiguousarray(imresize(eye, size=(n_out, n_in))[:, :, 0]))


def _resized(planes: np.ndarray, a: torch.Tensor) -> np.ndarray:
    """(C, n, n) planes resized by the matrix ``a`` along both axes: (C, m, m) float32."""
    return (a @ torch.from_numpy(planes) @ a.T).numpy()


class Degradation:
    """The degradation of srcnn.tooling.data.lr_hr_luma on square regions of fixed sizes, as
    matrix products: the resize matrices (:func:`resize_matrix`) for each size met are made
    once and kept (a few per factor and rescaling, tens of KB in all)."""

    def __init__(self):
        self._matrices: dict[tuple[int, int], torch.Tensor] = {}

    def matrix(self, n_in: int, n_out: int) -> torch.Tensor:
        if (n_in, n_out) not in self._matrices:
            self._matrices[n_in, n_out] = resize_matrix(n_in, n_out)
        return self._matrices[n_in, n_out]

    def pair(self, crop: np.ndarray, rescale: float, factor: float, quality: int | None, patch: int,
             radius: int) -> tuple[np.ndarray, np.ndarray]:
        """(input P x P, label (P - 2r) x (P - 2r)), luma 0..1, from a square crop of a photo as
        stored (HWC 0..1, :func:`source_side` of the region): rescaled to 8 bits (its
        :data:`RESCALE_MARGIN` dropped), degraded by ``factor`` to 8 bits, saved as a JPEG at
        ``quality`` and decoded (None: not), bicubic back up; both cut :func:`margin` px in."""
        side = region_side(factor, patch)
        hr = np.ascontiguousarray(crop.transpose(2, 0, 1))                       # (C, n, n)
        if rescale != 1.0:
            wide = side + 2 * RESCALE_MARGIN
            hr = round8(_resized(hr, self.matrix(hr.shape[1], wide)))[:, RESCALE_MARGIN:RESCALE_MARGIN + side,
                                                                         RESCALE_MARGIN:RESCALE_MARGIN + side]
        hr = np.ascontiguousarray(hr)
        small = round(side / factor)
        lr = compressed(round8(_resized(hr, self.matrix(side, small))).transpose(1, 2, 0), quality)
        x = _resized(np.ascontiguousarray(luma(lr)[None]), self.matrix(small, side))[0]
        y = luma(hr.transpose(1, 2, 0))
        m = margin(factor)
        return x[m:m + patch, m:m + patch], y[m + radius:m + patch - radius, m + radius:m + patch - radius]


def dihedral(a: np.ndarray, k: int) -> np.ndarray:
    """One of the 8 dihedral transforms (k in 0..7) of an HW array; the same as
    srcnn.tooling.training.augment on a (N, 1, H, W) batch: flip left-right for k >= 4, then
    rotate by k % 4 quarter turns."""
    return np.rot90(a[:, ::-1] if k >= 4 else a, k % 4)


class StepBatches(torch.utils.data.Sampler):
    """Per step from ``start`` to ``steps``, the indices of this rank's share of the global batch:
    ``step * batch_size + rank * b + (0 .. b - 1)``, with ``b = batch_size / world``."""

    def __init__(self, start: int, steps: int, batch_size: int, rank: int = 0, world: int = 1):
        if batch_size % world:
            raise ValueError(f"batch_size {batch_size} does not split evenly over {world} processes")
        self.start, self.steps, self.batch_size = start, steps, batch_size
        self.rank, self.share = rank, batch_size // world

    def __iter__(self):
        for step in range(self.start, self.steps):
            first = step * self.batch_size + self.rank * self.share
            yield list(range(first, first + self.share))

    def __len__(self) -> int:
        return max(0, self.steps - self.start)


def loader(dataset: PhotoPatches, start: int, steps: int, batch_size: int, rank: int = 0, world: int = 1,
           workers: int = 2) -> torch.utils.data.DataLoader:
    """A DataLoader over this rank's shares of the steps ``start`` to ``steps``: ``workers``
    processes each make whole batches (batches come back in step order); 0: in this process."""
    return torch.utils.data.DataLoader(dataset, batch_sampler=StepBatches(start, steps, batch_size, rank, world),
                                       num_workers=workers, prefetch_factor=2 if workers else None,
                                       worker_init_fn=_outlive_stop_signals)


def _outlive_stop_signals(worker: int) -> None:
    """A loader worker ignores SIGINT and SIGTERM: torchrun passes them to the whole process
    group of a rank (a terminal's Ctrl-C reaches them too), and a worker gone first would stop
    the rank with a loader error before it saves. The workers end with their loader."""
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)
