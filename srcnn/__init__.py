"""SRCNN Studio: bicubic, SRCNN and residual SRCNN, measured the way SR papers measure.

Public API (PIL images in and out; conventions in each module's docstring):

    upscale(lr, scale, method="residual", tile=None) -> PIL.Image
    degrade(hr, scale) -> PIL.Image
    compare(hr, scale, tile=None) -> Comparison
    psnr(a, b, scale) -> float     # dB, Y channel (BT.601), `scale` px border shaved
    ssim(a, b, scale) -> float     # Wang et al., same convention
    load_model(kind, scale) -> SRCNN | ResidualSRCNN
"""

from .metrics import psnr, ssim
from .models import SRCNN, ResidualSRCNN
from .pipeline import METHODS, SCALES, Comparison, MethodResult, compare, degrade, upscale
from .weights import load_model

__all__ = ["upscale", "degrade", "compare", "psnr", "ssim", "load_model", "SRCNN", "ResidualSRCNN",
           "Comparison", "MethodResult", "METHODS", "SCALES"]
