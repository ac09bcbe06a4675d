"""PSNR and SSIM as the super-resolution papers compute them.

The convention (SRCNN, VDSR and most papers' tables), stated once here and next to every
number the app shows:

* compared on the **luma Y** of MATLAB's ``rgb2ycbcr`` (BT.601, 16..235), as float, not rounded;
* a border of ``scale`` pixels is **shaved** from each side first (``border`` below);
* PSNR with peak 255: ``10 log10(255^2 / MSE)``; identical images give ``inf``;
* SSIM of Wang et al. (2004): Gaussian window sigma 1.5 (truncated at 3.5 sigma, 11 x 11),
  K1 = 0.01, K2 = 0.03, data range 255, population (not sample) covariance. This equals
  ``skimage.metrics.structural_similarity(..., gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False, data_range=255)``.

Inputs are HWC arrays in 0..1 (C = 1 gray or 3 RGB, see srcnn.imaging) or HW luma arrays
already in 0..1 scale; functions named ``*_y`` take luma.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

from PIL import Image

from .imaging import luma, pil_to_arrays

CONVENTION = "Y channel (BT.601, 16-235), {border} px border shaved"
RGB_CONVENTION = "RGB, 0-255, {border} px border shaved"


def _shave(a: np.ndarray, border: int) -> np.ndarray:
    if border < 0:
        raise ValueError("border must be >= 0")
    if border == 0:
        return a
    if a.shape[0] <= 2 * border or a.shape[1] <= 2 * border:
        raise ValueError(f"image of {a.shape[1]}x{a.shape[0]} px is too small to shave a {border} px border")
    return a[border:-border, border:-border]


def _check_pair(a: np.ndarray, b: np.ndarray) -> None:
    if a.shape[:2] != b.shape[:2]:
        raise ValueError(f"images differ in size: {a.shape[1]}x{a.shape[0]} vs {b.shape[1]}x{b.shape[0]}")


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
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2

    def blur(x: np.ndarray) -> np.ndarray:
        return gaussian_filter(x, sigma=1.5, truncate=3.5, mode="reflect")

    mu_a, mu_b = blur(a), blur(b)
    var_a = blur(a * a) - mu_a ** 2
    var_b = blur(b * b) - mu_b ** 2
    cov = blur(a * b) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    # skimage crops (win_size - 1) // 2 = 5 px before averaging; do the same.
    pad = 5
    if s.shape[0] > 2 * pad and s.shape[1] > 2 * pad:
        s = s[pad:-pad, pad:-pad]
    return float(s.mean())


def _as_array(img: Image.Image | np.ndarray) -> np.ndarray:
    """A PIL image (any mode, alpha ignored) or an HWC 0..1 array, as an HWC 0..1 array."""
    if isinstance(img, Image.Image):
        return pil_to_arrays(img)[0]
    return np.asarray(img, np.float32)


def psnr(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray, scale: int, channel: str = "y") -> float:
    """PSNR in dB of two images of equal size, ``scale`` px shaved, peak 255.

    ``a``, ``b``: PIL images or HWC arrays in 0..1. ``channel="y"`` (default, the papers'
    convention) compares luma; ``"rgb"`` compares all three colour channels.
    """
    a, b = _as_array(a), _as_array(b)
    if channel == "y":
        return psnr_y(luma(a), luma(b), border=scale)
    if channel == "rgb":
        _check_pair(a, b)
        x = _shave(np.asarray(a, np.float64), scale) * 255.0
        y = _shave(np.asarray(b, np.float64), scale) * 255.0
        mse = float(np.mean((x - y) ** 2))
        return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)
    raise ValueError(f"channel must be 'y' or 'rgb', got {channel!r}")


def ssim(a: Image.Image | np.ndarray, b: Image.Image | np.ndarray, scale: int) -> float:
    """SSIM of two images of equal size (PIL or HWC 0..1) on Y, ``scale`` px shaved."""
    return ssim_y(luma(_as_array(a)), luma(_as_array(b)), border=scale)
