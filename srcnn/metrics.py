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
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

from PIL import Image

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


def psnr_y(y_a: np.ndarray, y_b: np.ndarray, border: int = 0) -> float:
    """PSNR in dB between two luma arrays (HW, 0..1 scale), peak 255, ``border`` px shaved."""
    _check_pair(y_a, y_b)
    a = _shave(np.asarray(y_a, np.float64), border) * 255.0
    b = _shave(np.asarray(y_b, np.float64), border) * 255.0
    mse = float(np.mean((a - b) ** 2))
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def ssim_y(y_a: np.ndarray, y_b: np.ndarray, border: int = 0) -> float:
    """SSIM (Wang et al.) between two luma arrays (HW, 0..1 scale) on the 0..255 scale."""
    _check_pair(y_a, y_b)
    a = _shave(np.asarray(y_a, np.float64), border) * 255.0
    b = _shave(np.asarray(y_b, np.float64), border) * 255.0
    _check_window(a)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return gaussian_filter(x, sigma=1.5, truncate=3.5, mode="reflect")

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    pad = (SSIM_WINDOW - 1) // 2   # skimage crops 5 px before averaging; so do we
    return float(s[pad:-pad, pad:-pad].mean())


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
        raise ValueError(f"images differ: {a.shape[1]}x{a.shape[0]}x{a.shape[2]} vs {b.shape[1]}x{b.shape[0]}x{b.shape[2]}")
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
        x = _shave(np.asarray(a, np.float64), border) * 255.0
        y = _shave(np.asarray(b, np.float64), border) * 255.0
        mse = float(np.mean((x - y) ** 2))
        return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)
    raise ValueError(f"channel must be 'y' or 'rgb', got {channel!r}")


def ssim(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray, border: int) -> float:
    """SSIM of two images of equal size (PIL or float 0..1, module docstring) on Y (a gray
    image: its gray values), ``border`` px shaved from each side (the papers shave the scale
    factor); at least 11 x 11 px must remain."""
    return ssim_y(*_measured(_as_array(a, "a"), _as_array(b, "b")), border=border)
