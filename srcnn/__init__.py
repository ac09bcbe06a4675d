"""SRCNN Studio: bicubic, SRCNN and residual SRCNN, measured the way SR papers measure.

Public API (PIL images in and out; conventions in each module's docstring):

    upscale(lr, scale, method="residual", tile=DEFAULT_TILE, progress=None, model=None, size=None,
            jpeg="auto", runner=None) -> PIL.Image
        scale 2, 3 or 4 (the trained factors) or any factor from 1.1 to 8 (srcnn.factors: which
        network serves it, measured); size=(width, height) for a target size; method "bicubic",
        "srcnn" or "residual"; the networks run in exact tiles of `tile` output px (bounded
        memory, same pixels as tile=None, the whole image)
    degrade(hr, scale) -> PIL.Image          # modcrop + MATLAB bicubic 1/scale, 8-bit
    ground_truth(hr, scale) -> PIL.Image     # hr upright (EXIF) and modcropped: what outputs meet
    compare(hr, scale, tile=DEFAULT_TILE, methods=METHODS, progress=None, models=None) -> Comparison
    psnr(a, b, border, channel="y") -> float  # dB, peak 255, Y (BT.601; gray: gray values), `border` px shaved
    ssim(a, b, border) -> float               # Wang et al., same convention; >= 11x11 px after shaving
        a, b: PIL images or float arrays in 0..1 (HW or HWC, C = 1 or 3); integer arrays are refused
    Runner(engine=None)                      # owns loaded networks, their ONNX Runtime sessions and the
        tile threads; close() lets go of them. runner=None (upscale, pipeline.apply_network, warm_up)
        means the process's default runner (srcnn.runner.default_runner)
    load_model(kind, scale) -> SRCNN | ResidualSRCNN   # bundled weights unless a Hub revision is pinned;
        the PyTorch module (needs torch: requirements-train.txt). The classes themselves are in
        srcnn.torch_models, which code that needs torch imports. Everything else here runs without
        torch: the networks run as ONNX graphs built from the weights (srcnn.onnx_graph, srcnn.engine)

Command line: ``python -m srcnn upscale IN... --scale 3 --out DIR``, ``python -m srcnn export ...``
(srcnn/__main__.py). The layout: this folder is the product path (imaging, tiling, architecture,
models, onnx_graph, engine, runner, pipeline, metrics, protocol, weights, uploads, factors, blending,
export;
cancel, which stops a long call part-way; torch_models for whoever needs PyTorch); srcnn/study/
reproduces the 2018 study; srcnn/tooling/ trains, evaluates, publishes and benchmarks.
"""

from .metrics import psnr, ssim
from .models import KINDS, SCALES
from .pipeline import DEFAULT_TILE, METHODS, Comparison, MethodResult, compare, degrade, ground_truth, upscale
from .runner import Runner
from .weights import load_model


__all__ = ["upscale", "degrade", "ground_truth", "compare", "psnr", "ssim", "load_model",
           "Comparison", "MethodResult", "METHODS", "SCALES", "KINDS", "DEFAULT_TILE", "Runner"]
