"""PSNR and SSIM as the super-resolution papers compute them.

The convention (SRCNN, VDSR and most papers' tables), stated once here and next to every
number the app shows:

* compared on the **luma Y** of MATLAB's ``rgb2ycbcr`` (BT.601, 16..235), as float, not rounded;
* a border of ``scale`` pixels is **shaved** from each side first (the ``border`` argument);
* PSNR with peak 255: ``10 log10(255^2 / MSE)``; identical images give ``inf``;
* SSIM of Wang et al. (2004): Gaussian window sigma 1.5 (truncated at 3.5 sigma, 11 x 11),
  K1 = 0.01, K2 = 0.03, data range 255, population (not sample) covariance. This equals
  ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)``.

Accepted inputs, checked (anything else raises ValueError saying what was wrong):

* :func:`psnr`, :func:`ssim`: two PIL images, or two float arrays HWC (C = 1 gray, 3 RGB) or HW
  (gray) with values in 0..1 (unclipped outputs within -0.5..1.5 are accepted), of equal size
  and channel count. A gray image is measured on its raw gray values
  (the papers' code converts only 3-channel images), a colour image on its Y. Integer arrays
  (e.g. uint8 0..255) are refused: divide by 255 or pass a PIL image.
* functions named ``*_y`` take HW float luma arrays in 0..1 scale.

SSIM needs at least 11 x 11 pixels after shaving (its Gaussian window); PSNR at least 1 x 1.

One implementation: every function here measures through :class:`Reference` (the ground truth's
side, built once: :func:`srcnn.pipeline.compare` measures three methods against one), in float64
(equal to the float64 formulas above to rounding), SSIM in row bands on two threads.
"""

from __future__ import annotations

import itertools
import math
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable

import numpy as np
from scipy.ndimage import correlate1d

from PIL import Image

from .cancel import checkpoint
from .imaging import luma, pil_to_arrays

CONVENTION = "Y channel (BT.601, 16-235; gray images on their gray values), {border} px border shaved"


def convention(border: int | str) -> str:
    """The label every measured number carries: :data:`CONVENTION` with the border shaved
    (px, or a word such as "scale" for a table over several scales)."""
    return CONVENTION.format(border=border)


def _shave(a: np.ndarray, border: int) -> np.ndarray:
    if border < 0:
        raise ValueError("border must be >= 0")
    if border == 0:
        return a
    if a.shape[0] <= 2 * border or a.shape[1] <= 2 * border:
        raise ValueError(f"image of {a.shape[1]}x{a.shape[0]} px is too small to shave a {border} px border")
    return a[border:-border, border:-border]


SSIM_WINDOW = 11   # px: 2 * ceil(3.5 * 1.5) + 1


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"images differ in size: {a.shape[1]}x{a.shape[0]} vs {b.shape[1]}x{b.shape[0]}")


def _check_window(a: np.ndarray) -> None:
    if min(a.shape[:2]) < SSIM_WINDOW:
        raise ValueError(f"SSIM needs at least {SSIM_WINDOW}x{SSIM_WINDOW} px after shaving the border, "
                         f"got {a.shape[1]}x{a.shape[0]}")


def _y255(y: np.ndarray, border: int) -> np.ndarray:
    """A luma array (HW, 0..1 scale) shaved and on the 0..255 scale, float64."""
    return _shave(np.asarray(y, np.float64), border) * 255.0


# The 8-bit levels' contributions to Y on the 0..255 scale (BT.601, MATLAB rgb2ycbcr), per channel.
_Y_OF_LEVEL = np.array([[65.481], [128.553], [24.966]]) * np.arange(256) / 255.0


def luma_of_pixels(pixels: np.ndarray) -> np.ndarray:
    """Y on the 0..255 scale (HW float64) of 8-bit pixels as a PIL image of mode L, LA, RGB or
    RGBA holds them (``np.asarray(img)``: HW, or HWC with C = 2, 3 or 4; alpha ignored): the raw
    gray of a gray image, ``16 + (65.481 R + 128.553 G + 24.966 B) / 255`` of a colour one. The
    same values as :func:`srcnn.imaging.luma` of the image's 0..1 arrays, times 255, without
    their float32 rounding."""
    px = np.asarray(pixels)
    if px.dtype != np.uint8 or px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] not in (1, 2, 3, 4)):
        raise ValueError(f"expected 8-bit pixels HW or HWC (C = 1 to 4), got a {px.dtype} array of shape {px.shape}")
    if px.ndim == 2 or px.shape[2] <= 2:
        return (px if px.ndim == 2 else px[:, :, 0]).astype(np.float64)
    y = np.take(_Y_OF_LEVEL[0], px[:, :, 0])
    y += np.take(_Y_OF_LEVEL[1], px[:, :, 1])
    y += np.take(_Y_OF_LEVEL[2], px[:, :, 2])
    y += 16.0
    return y


# SSIM's window: the Gaussian of sigma 1.5 truncated at 3.5 sigma, as scipy.ndimage.gaussian_filter
# builds it (the same weights, the same order of the two passes: rows, then columns).
_R = (SSIM_WINDOW - 1) // 2
_GAUSS = np.exp(-0.5 / 1.5 ** 2 * np.arange(-_R, _R + 1) ** 2)
_GAUSS /= _GAUSS.sum()
_C1, _C2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
BAND_PX = 1 << 16      # SSIM works in row bands of about this many pixels: its temporaries stay in cache
THREADS = 2            # threads a measurement uses: the caller's and one helper


def _window_mean(x: np.ndarray) -> np.ndarray:
    """The Gaussian-weighted mean of every 11 x 11 window that lies inside ``x`` (rows + 10,
    columns + 10 -> rows, columns): the only windows SSIM averages (it crops 5 px)."""
    t = correlate1d(x, _GAUSS, axis=0, mode="reflect")[_R:-_R]
    return correlate1d(t, _GAUSS, axis=1, mode="reflect")[:, _R:-_R]


_helper_pool: ThreadPoolExecutor | None = None
_helper_lock = threading.Lock()


def _helper() -> ThreadPoolExecutor:
    global _helper_pool
    with _helper_lock:
        if _helper_pool is None:
            _helper_pool = ThreadPoolExecutor(THREADS - 1, thread_name_prefix="srcnn-metrics")
        return _helper_pool


def _in_bands(rows: int, width: int, work: Callable[[int, int], float]) -> list[float]:
    """``work(top, bottom)`` for row bands covering ``0..rows`` (about :data:`BAND_PX` pixels
    each), on :data:`THREADS` threads (the caller's and helpers that take the next band when
    they are free); the results in band order, so that a sum over them does not depend on which
    thread did what. The calling thread calls srcnn.cancel.checkpoint before each of its bands;
    if it raises, the helpers stop before their next band, and the exception propagates once
    they have."""
    step = max(1, BAND_PX // max(1, width))
    bands = [(top, min(rows, top + step)) for top in range(0, rows, step)]
    results: list[float] = [0.0] * len(bands)
    claim = itertools.count()
    stop = threading.Event()

    def run(checked: bool) -> None:
        try:
            while not stop.is_set():
                if checked:
                    checkpoint()
                i = next(claim)
                if i >= len(bands):
                    return
                results[i] = work(*bands[i])
        except BaseException:
            stop.set()
            raise

    helpers = [_helper().submit(run, False) for _ in range(min(THREADS, len(bands)) - 1)]
    try:
        run(True)
    finally:
        for f in helpers:
            f.cancel()         # still queued (the helper busy with another request's bands): not needed
        wait(helpers)          # on an error too: no helper works on after the call has ended
    for f in helpers:
        if not f.cancelled():
            f.result()         # a helper's error, raised here
    return results


class Reference:
    """The ground truth's side of PSNR and SSIM, computed once and shared by every image measured
    against it (:func:`srcnn.pipeline.compare` measures three methods against one ground truth).

    ``y``: the ground truth's luma (HW, 0..1 scale; :func:`from_pixels` for 8-bit pixels),
    ``border`` px shaved from each side. :meth:`psnr` and :meth:`ssim` take the other image's luma
    of the same size; SSIM's local statistics of the ground truth (windowed mean and variance)
    are computed at the first :meth:`ssim` and kept. float64 throughout (exact to float64
    rounding: no float32 step), in row bands on :data:`THREADS` threads, srcnn.cancel.checkpoint
    called between bands (the caller's check may stop it there)."""

    def __init__(self, y: np.ndarray, border: int = 0):
        self.shape = tuple(np.shape(y)[:2])
        self.border = border
        self.y = _y255(y, border)
        self._stats: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def from_pixels(cls, pixels: np.ndarray, border: int = 0) -> "Reference":
        """The reference of 8-bit pixels (:func:`luma_of_pixels`)."""
        ref = cls.__new__(cls)
        y = luma_of_pixels(pixels)
        ref.shape, ref.border, ref._stats = y.shape, border, None
        ref.y = _shave(y, border)
        return ref

    def _other(self, y: np.ndarray, scaled: bool = False) -> np.ndarray:
        if tuple(np.shape(y)[:2]) != self.shape:
            raise ValueError(f"images differ in size: {self.shape[1]}x{self.shape[0]} "
                             f"vs {np.shape(y)[1]}x{np.shape(y)[0]}")
        return _shave(np.asarray(y, np.float64), self.border) if scaled else _y255(y, self.border)

    def psnr(self, y: np.ndarray) -> float:
        """PSNR in dB of the luma ``y`` (HW, 0..1 scale) against the reference, peak 255."""
        return _psnr255(self.y, self._other(y))

    def ssim(self, y: np.ndarray) -> float:
        """SSIM (Wang et al.) of the luma ``y`` (HW, 0..1 scale) against the reference."""
        return self._ssim255(self._other(y))

    def measure_pixels(self, pixels: np.ndarray) -> tuple[float, float]:
        """(PSNR, SSIM) of 8-bit pixels (:func:`luma_of_pixels`) against the reference."""
        y = self._other(luma_of_pixels(pixels), scaled=True)
        checkpoint()
        return _psnr255(self.y, y), self._ssim255(y)

    def statistics(self) -> tuple[np.ndarray, np.ndarray]:
        """The ground truth's windowed mean and variance where SSIM averages them ((H - 10) x
        (W - 10) after shaving), computed once."""
        if self._stats is None:
            _check_window(self.y)
            self._stats = local_statistics(self.y)
        return self._stats

    def _ssim255(self, b: np.ndarray) -> float:
        mu_a, var_a = self.statistics()
        a = self.y

        def band(top: int, bottom: int) -> float:
            rows = slice(top, bottom + 2 * _R)
            x, z = a[rows], b[rows]
            ma, va = mu_a[top:bottom], var_a[top:bottom]
            mb = _window_mean(z)
            vb = _window_mean(z * z)
            vb -= mb ** 2
            cov = _window_mean(x * z)
            cov -= ma * mb
            s = ((2 * ma * mb + _C1) * (2 * cov + _C2)) / ((ma ** 2 + mb ** 2 + _C1) * (va + vb + _C2))
            return float(s.sum())

        sums = _in_bands(mu_a.shape[0], mu_a.shape[1], band)
        return math.fsum(sums) / mu_a.size


def local_statistics(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Windowed (Gaussian, 11 x 11) mean and variance of ``y`` (HW float64, at least 11 x 11)
    for every window inside it: two (H - 10) x (W - 10) arrays."""
    h, w = y.shape
    mu = np.empty((h - 2 * _R, w - 2 * _R))
    var = np.empty_like(mu)

    def band(top: int, bottom: int) -> float:
        x = y[top:bottom + 2 * _R]
        m = mu[top:bottom] = _window_mean(x)
        var[top:bottom] = _window_mean(x * x) - m ** 2
        return 0.0

    _in_bands(mu.shape[0], mu.shape[1], band)
    return mu, var


def _psnr255(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def psnr_y(y_a: np.ndarray, y_b: np.ndarray, border: int = 0) -> float:
    """PSNR in dB between two luma arrays (HW, 0..1 scale), peak 255, ``border`` px shaved."""
    _check_pair(y_a, y_b)
    return Reference(y_a, border).psnr(y_b)


def ssim_y(y_a: np.ndarray, y_b: np.ndarray, border: int = 0) -> float:
    """SSIM (Wang et al.) between two luma arrays (HW, 0..1 scale) on the 0..255 scale."""
    _check_pair(y_a, y_b)
    return Reference(y_a, border).ssim(y_b)


def _as_array(img: Image.Image | np.ndarray, name: str) -> np.ndarray:
    """A PIL image (any mode, alpha ignored) or a float array in 0..1 (HW, HWC with C = 1 or 3),
    as an HWC 0..1 array; anything else raises ValueError."""
    if isinstance(img, Image.Image):
        return pil_to_arrays(img)[0]
    a = np.asarray(img)
    if a.dtype.kind not in "f":
        raise ValueError(f"{name}: expected a PIL image or a float array in 0..1, got a {a.dtype} array "
                         "(for 8-bit data divide by 255 or pass a PIL image)")
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3 or a.shape[2] not in (1, 3):
        raise ValueError(f"{name}: expected HW or HWC with C = 1 or 3, got shape {a.shape}")
    lo, hi = float(np.nanmin(a)) if a.size else 0.0, float(np.nanmax(a)) if a.size else 0.0
    if not np.isfinite(a).all() or lo < -0.5 or hi > 1.5:
        raise ValueError(f"{name}: values must lie in 0..1 (found {lo:g}..{hi:g}; unclipped network outputs "
                         "up to -0.5..1.5 are accepted); 0..255 data: divide by 255")
    return a.astype(np.float32)


def _measured(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if a.shape != b.shape:
        raise ValueError(f"images differ: {a.shape[1]}x{a.shape[0]}x{a.shape[2]} "
                         f"vs {b.shape[1]}x{b.shape[0]}x{b.shape[2]}")
    return luma(a), luma(b)


def psnr(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray, border: int, channel: str = "y") -> float:
    """PSNR in dB of two images of equal size, ``border`` px shaved from each side, peak 255.

    ``a``, ``b``: PIL images or float arrays in 0..1 (module docstring). ``channel="y"``
    (default, the papers' convention) compares Y (a gray image: its gray values); ``"rgb"``
    compares all colour channels. ``border`` (px, >= 0): the papers shave the scale factor.
    """
    a, b = _as_array(a, "a"), _as_array(b, "b")
    if channel == "y":
        return psnr_y(*_measured(a, b), border=border)
    if channel == "rgb":
        _measured(a, b)                      # same size and channels, or ValueError
        return _psnr255(_y255(a, border), _y255(b, border))
    raise ValueError(f"channel must be 'y' or 'rgb', got {channel!r}")


def ssim(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray, border: int) -> float:
    """SSIM of two images of equal size (PIL or float 0..1, module docstring) on Y (a gray
    image: its gray values), ``border`` px shaved from each side (the papers shave the scale
    factor); at least 11 x 11 px must remain."""
    return ssim_y(*_measured(_as_array(a, "a"), _as_array(b, "b")), border=border)
