"""The path every caller takes: ``upscale``, ``degrade``, ``compare``.

How an image is upscaled by ``s`` with a network (the SRCNN papers' recipe):

1. decode to float RGB (or gray) in 0..1, alpha apart (srcnn.imaging.pil_to_arrays);
2. convert to YCbCr (BT.601), then MATLAB-bicubic upscale all three channels by ``s``
   (the same as upscaling then converting: both are linear; it is cheaper this way round);
3. run the network on Y only, in exact tiles (srcnn.tiling) on the fast engine
   (srcnn.engine: ONNX Runtime; ``$SRCNN_ENGINE=torch`` for plain PyTorch), by a runner
   (srcnn.runner.Runner: it holds the networks, their sessions and the tile threads); Cb and
   Cr stay bicubic;
4. back to RGB, clip, round to 8 bits. Alpha, if any, is the bicubic-upscaled alpha.

``method="bicubic"`` is MATLAB-bicubic on RGB directly. Models are loaded once per runner
(srcnn.weights) and shared read-only; ``runner=None`` everywhere here means the process's
default runner (srcnn.runner.default_runner).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np
from PIL import Image, ImageOps

from . import cancel, factors, imaging
from .jpeg import check_quality, compress_image, file_quality
from .metrics import Reference, convention
from .models import SCALES, Network
from .runner import DEFAULT_TILE, Runner, default_runner   # DEFAULT_TILE: where tiles are run, re-exported
from .tiling import BatchFn
from .weights import Checkpoint

METHODS = ("bicubic", "srcnn", "residual")


# --------------------------------------------------------------------------- validation

def check_method(method: object) -> str:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")
    return str(method)


def check_tile(tile: object) -> int | None:
    if tile is None:
        return None
    if isinstance(tile, bool) or not isinstance(tile, (int, np.integer)) or tile < 1:
        raise ValueError(f"tile must be None (whole image) or a whole number of pixels >= 1, got {tile!r}")
    return int(tile)


def check_image(img: object) -> Image.Image:
    if not isinstance(img, Image.Image):
        raise ValueError(f"expected a PIL image, got {type(img).__name__}")
    if img.width < 1 or img.height < 1:
        raise ValueError(f"the image is empty ({img.width}x{img.height} px)")
    return img


# --------------------------------------------------------------------------- network

def model_for(kind: str, scale: int | float | str, compressed: bool = False) -> Network:
    """The loaded network in its runtime form (srcnn.models.Network: numpy weights, no torch) of
    ``kind`` for ``scale`` (``compressed``: the network trained on JPEG inputs), from the
    default runner (srcnn.runner.default_runner): loaded once, shared read-only."""
    return default_runner().network(Checkpoint(kind, scale, compressed))


def batch_fn(model, engine: str | None = None, runner: Runner | None = None) -> BatchFn:
    """The tiling function for ``model`` (srcnn.models.Network or a PyTorch module) on ``engine``
    (None: the runner's choice, default ``$SRCNN_ENGINE``, else "onnx"): srcnn.runner.Runner.batch_fn."""
    return (runner or default_runner()).batch_fn(model, engine)


def apply_network(model: Network, y: np.ndarray, tile: int | None = DEFAULT_TILE, progress=None,
                  engine: str | None = None, runner: Runner | None = None) -> np.ndarray:
    """Run ``model`` on a bicubic-upscaled luma (HW, 0..1 scale) in exact tiles; same size out.

    The one place a network meets an image: every caller (upscale, the study, the model
    cards, evaluation) goes through here. ``model``: a srcnn.models.Network, or a PyTorch
    ``SRCNN`` / ``ResidualSRCNN`` (its weights are read once, when its session is built).
    ``tile``: output pixels per tile side (None: the whole image in one window). ``engine``:
    "onnx" (ONNX Runtime, srcnn.engine) or "torch" (plain float32 PyTorch); None means the
    runner's choice: ``$SRCNN_ENGINE``, else "onnx". Both give the same pixels (float difference
    ~1e-6). ``runner``: who runs it (srcnn.runner.Runner.apply; None: the default runner).
    """
    return (runner or default_runner()).apply(model, y, tile, progress, engine)


def network_luma(y: np.ndarray, kind: str, scale: int, tile: int | None = DEFAULT_TILE,
                 progress=None, engine: str | None = None, runner: Runner | None = None) -> np.ndarray:
    """:func:`apply_network` with the published ``kind`` model for ``scale`` (srcnn.weights)."""
    return apply_network(network(Checkpoint(kind, scale), runner), y, tile, progress, engine, runner)


def warm_up(checkpoints: list[Checkpoint | tuple[str, int | float | str]] | None = None,
            engine: str | None = None, runner: Runner | None = None) -> float:
    """Load the models and prepare the engine now (default: every bundled checkpoint; a
    ``(kind, scale)`` pair means the clean network), so the app's first request is not the slow
    one: srcnn.runner.Runner.warm_up. Returns the seconds it took."""
    return (runner or default_runner()).warm_up(checkpoints, engine)


# --------------------------------------------------------------------------- public API

def upscale_arrays(color: np.ndarray, scale: float, method: str | Network, tile: int | None = DEFAULT_TILE,
                   progress=None, engine: str | None = None, size: tuple[int, int] | None = None,
                   compressed: bool = False, quality: int | None = None,
                   runner: Runner | None = None) -> np.ndarray:
    """THE recipe: upscale an HWC 0..1 array (C = 1 or 3) by ``scale``; float32 HWC, not clipped.

    ``method``: "bicubic" (MATLAB bicubic on every channel), a kind ("srcnn", "residual": the
    published models) or a model object. With a network: the colour planes (YCbCr, or the gray
    channel), bicubic-upscaled, the network on Y in exact tiles (:func:`apply_network`), back to
    colour. The colour conversion runs on the small image before the bicubic upscale: both are
    linear and the bicubic weights sum to 1, so this is the same as converting after (to float
    rounding), on scale^2 fewer pixels.

    ``scale``: 2, 3 or 4 (the trained factors), or any factor from 1.1 to 8: the published
    networks then serve it in one or two passes as srcnn.factors decided by measurement (a
    model object: one pass at ``scale``). ``size``: (height, width) of the output; default
    MATLAB imresize's ``ceil(side * scale)``. ``compressed``: the input was a JPEG that the
    networks for compressed inputs serve (:class:`Input`; a kind's published networks only), of
    JPEG ``quality`` where known (srcnn.factors.serving). ``runner``: whose networks and threads
    (None: the default runner).
    """
    size = size or imaging_size(color.shape[:2], scale)
    if isinstance(method, str) and method == "bicubic":
        return imaging.imresize(color, size=size)
    passes = ([(size, method)] if not isinstance(method, str)
              else network_passes(method, scale, color.shape[:2], size, compressed, quality, runner))
    planes = color_planes(color)
    for i, (hw, model) in enumerate(passes):
        planes = imaging.imresize(planes, size=hw)
        if model is not None:
            planes[:, :, 0] = apply_network(model, planes[:, :, 0], tile, pass_progress(progress, i, len(passes)),
                                            engine, runner)
    if planes.shape[2] == 1:
        return imaging.gray_from_luma(planes[:, :, 0])
    return imaging.ycbcr_to_rgb(planes, out=planes)   # in place: planes is ours


def pass_progress(progress, index: int, passes: int):
    """``progress(done, total)`` of pass ``index`` of ``passes`` as one count that only grows:
    pass i's tile d of t is reported as i t + d of passes t (one pass: ``progress`` itself)."""
    if progress is None or passes == 1:
        return progress
    return lambda done, total: progress(index * total + done, passes * total)


def imaging_size(hw: tuple[int, int], scale: float) -> tuple[int, int]:
    """(height, width) of an ``hw`` image upscaled by ``scale``: MATLAB imresize's ``ceil``."""
    width, height = factors.output_size(hw[1], hw[0], scale)
    return height, width


Passes = list[tuple[tuple[int, int], Network | None]]   # (size after the pass, model or None), ...


def network_passes(kind: str, scale: float, hw: tuple[int, int], size: tuple[int, int],
                   compressed: bool = False, quality: int | None = None, runner: Runner | None = None) -> Passes:
    """The passes that take an ``hw`` image to ``size`` with the published ``kind`` networks (of
    ``runner``, None: the default runner): ``[(size after the pass, model or None for bicubic
    alone), ...]`` (srcnn.factors.serving)."""
    steps = factors.serving(kind, scale, compressed, quality=quality)
    passes, here = [], hw
    for i, (f, checkpoint) in enumerate(steps):
        here = size if i == len(steps) - 1 else imaging_size(here, f)
        passes.append((here, network(checkpoint, runner)))
    return passes


def network(checkpoint: Checkpoint | None, runner: Runner | None = None) -> Network | None:
    """The loaded network of a published ``checkpoint`` (srcnn.runner.Runner.network; None: the
    default runner's); None stays None (a pass of bicubic alone, srcnn.factors.serving)."""
    if checkpoint is None:
        return None
    return (runner or default_runner()).network(checkpoint)


def color_planes(color: np.ndarray) -> np.ndarray:
    """Step 1 of the recipe: an HWC 0..1 image (C = 1 or 3) as the planes the network works with,
    at its own size: YCbCr (C = 3) or the gray channel (C = 1); channel 0 is the luma
    (srcnn.imaging.luma's convention). float32 HWC, a new array."""
    if color.shape[2] == 1:
        return imaging.luma(color)[:, :, None]
    return imaging.rgb_to_ycbcr(color)


def bicubic_planes(color: np.ndarray, scale: int) -> np.ndarray:
    """Steps 1-2 of the recipe: :func:`color_planes` bicubic-upscaled by ``scale``. Channel 0 is
    the luma the network runs on. float32 HWC, a new array."""
    return imaging.imresize(color_planes(color), float(scale))


def to_color(planes: np.ndarray, luma: np.ndarray | None = None) -> np.ndarray:
    """Last step: :func:`bicubic_planes`' layout back to RGB or gray, HWC 0..1, not clipped; a new
    array (``planes`` is not changed). ``luma`` (HW, the planes' height and width): the network's
    luma, used instead of channel 0; None: channel 0 already holds it."""
    if planes.shape[2] == 1:
        return imaging.gray_from_luma(planes[:, :, 0] if luma is None else luma)
    if luma is None:
        return imaging.ycbcr_to_rgb(planes)
    ycc = np.array(planes, np.float32)
    ycc[:, :, 0] = luma
    return imaging.ycbcr_to_rgb(ycc, out=ycc)   # in place: ycc is ours


def bicubic_alpha(alpha: np.ndarray | None, scale: float, size: tuple[int, int] | None = None) -> np.ndarray | None:
    """The recipe's alpha: MATLAB-bicubic upscaled by ``scale`` (to ``size``, (height, width), if
    given) and clipped to 0..1 (HW float32); None for an image without alpha."""
    if alpha is None:
        return None
    return np.clip(imaging.imresize(alpha, size=size or imaging_size(alpha.shape, scale)), 0, 1)


# --------------------------------------------------------------------------- JPEG inputs

JPEG_SETTINGS = ("auto", "clean", "compressed")   # or a quality 1..100


@dataclass(frozen=True)
class Input:
    """What an input is, for the choice of networks: its JPEG ``quality`` (1..100, None: not a
    JPEG or not known), where the choice came from (``origin``: "file", the quantization tables;
    "setting", what the caller said; "benchmark", the low-res image srcnn.compare made, saved as a
    JPEG at that quality or kept clean) and whether the networks trained on compressed inputs
    serve it (srcnn.factors.serves_compressed)."""
    quality: int | None
    origin: str
    compressed: bool

    @classmethod
    def of_file(cls, quality: int | None) -> "Input":
        """The input of a file whose quantization tables gave ``quality`` (None: not a JPEG)."""
        return cls(quality, "file", factors.serves_compressed(quality))

    def describe(self) -> str:
        """One sentence for a person: the evidence, then which networks serve and why."""
        if self.origin == "file" and self.quality is None:
            return "Not a JPEG file: the networks trained on clean inputs."
        if self.origin == "benchmark" and self.quality is None:
            return "The low-res image was kept clean (8-bit, no JPEG): the networks trained on clean inputs."
        said = {"file": "from the file", "benchmark": "the low-res image saved so"}.get(self.origin, "as set")
        if self.quality is None:
            what = "Compressed input (as set)" if self.compressed else "Clean input (as set)"
        else:
            what = f"JPEG quality {self.quality} ({said})"
        if self.compressed:
            return f"{what}: networks trained for compressed inputs."
        if self.quality is None:
            return f"{what}: the networks trained on clean inputs."
        return (f"{what}: the networks trained on clean inputs (from quality {factors.CLEAN_FROM_QUALITY} up "
                "they do better than those for compressed inputs).")


def check_jpeg(setting: object) -> str | int | Input:
    """``setting``: "auto" (read the quality from the file), "clean", "compressed", a quality
    1..100, or an :class:`Input` already decided."""
    if isinstance(setting, Input):
        return setting
    if isinstance(setting, str):
        if setting not in JPEG_SETTINGS:
            raise ValueError(f"jpeg must be one of {', '.join(JPEG_SETTINGS)} or a quality from 1 to 100, "
                             f"got {setting!r:.40}")
        return setting
    return check_quality(setting)


def input_of(img: Image.Image, setting: str | int | Input = "auto") -> Input:
    """What ``img`` is for the choice of networks (:class:`Input`): with ``setting`` "auto", the
    JPEG quality its file's quantization tables give (srcnn.jpeg.file_quality: an image opened
    from a JPEG file, before any conversion), none for any other image; "clean" / "compressed" /
    a quality: as set."""
    setting = check_jpeg(setting)
    if isinstance(setting, Input):
        return setting
    if setting == "auto":
        return Input.of_file(file_quality(img))
    if setting == "clean":
        return Input(None, "setting", False)
    if setting == "compressed":
        return Input(None, "setting", True)
    return Input(setting, "setting", factors.serves_compressed(setting))


def upscale(lr: Image.Image, scale: float, method: str = "residual", tile: int | None = DEFAULT_TILE,
            progress=None, model: Network | None = None, size: tuple[int, int] | None = None,
            jpeg: str | int | Input = "auto", runner: Runner | None = None) -> Image.Image:
    """Upscale a PIL image by ``scale`` with ``method``; 8-bit PIL out.

    ``scale``: 2, 3 or 4, the factors the networks were trained for, or any factor from 1.1 to 8
    (srcnn.factors: which network serves it, measured; above x4 two passes). ``method``:
    "bicubic" (MATLAB-style), "srcnn" or "residual". Output size: MATLAB imresize's
    ``ceil(side * scale)`` (for 2, 3, 4: exactly the input size times ``scale``), or ``size``
    = (width, height) when given (a target size; ``scale`` then picks the networks and should
    be about width / input width). Mode is L, LA, RGB or RGBA following the input (see
    srcnn.imaging.pil_to_arrays for the rule). The network runs in exact tiles of ``tile``
    output px (default :data:`DEFAULT_TILE`: the same pixels as the whole image, and working
    memory bounded whatever the image size); ``tile=None`` runs the whole image in one window
    (memory grows with the image: ~2.6 KB per output pixel).
    ``progress(done, total)`` is called as tiles complete (per pass). ``model``: a model object
    to use instead of the published ``method`` model (e.g. a checkpoint being evaluated).
    ``jpeg``: which published networks serve (:func:`input_of`): "auto" reads the JPEG quality
    from ``lr``'s file (an image as ``Image.open`` gives it) and below
    srcnn.factors.CLEAN_FROM_QUALITY uses the networks trained for compressed inputs; "clean",
    "compressed" or a quality 1..100 say it instead (or an :class:`Input`, e.g. ``Input.of_file(q)``
    for an image whose file was read elsewhere: srcnn.uploads.Checked.jpeg_quality).
    ``runner``: whose networks, sessions and threads run it (srcnn.runner.Runner; None: the
    process's default runner). The original study's stitchings are srcnn.study's, not this path's.
    """
    lr = check_image(lr)
    scale, method, tile = factor_value(scale), check_method(method), check_tile(tile)
    if model is not None and method == "bicubic":
        raise ValueError("a model was given with method='bicubic'")
    hw = check_size(size)
    given = input_of(lr, jpeg)
    color, alpha = imaging.pil_to_arrays(lr)
    hw = hw or imaging_size(color.shape[:2], scale)
    out = upscale_arrays(color, scale, method if model is None else model, tile, progress, size=hw,
                         compressed=given.compressed, quality=given.quality, runner=runner)
    return imaging.arrays_to_pil(out, bicubic_alpha(alpha, scale, hw))


def factor_value(scale: object) -> float | int:
    """The value of a scale: a trained factor as an int (2, 3, 4: their exact paths), any other
    from 1.1 to 8 as a float; ValueError otherwise (srcnn.factors.check_factor)."""
    scale = factors.check_factor(scale)
    return int(scale) if scale in SCALES else scale


def check_size(size: object) -> tuple[int, int] | None:
    """``size`` = (width, height) in px, both >= 1, as (height, width); None stays None."""
    if size is None:
        return None
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in size)):
        raise ValueError(f"size must be (width, height) in whole pixels >= 1, got {size!r}")
    return int(size[1]), int(size[0])


def degrade(hr: Image.Image, scale: float) -> Image.Image:
    """The low-resolution image of ``hr`` at any factor from 1.1 to 8, rounded to 8 bits: for 2, 3
    and 4 the papers' (modcrop to a multiple of ``scale``, MATLAB bicubic by 1/scale); for any
    other factor, the image cropped to a multiple of srcnn.factors.crop_multiple (x2.5: 5 px)
    and MATLAB bicubic to exactly 1/scale of that size (srcnn.factors.low_res). Alpha, if any,
    the same way. ``hr`` must be at least that multiple in px."""
    hr, scale = check_image(hr), factor_value(scale)
    if scale in SCALES:
        return imaging.degrade_image(hr, scale)
    color, alpha = imaging.pil_to_arrays(hr)
    _, lr = factors.low_res(color, scale)
    lr_alpha = None if alpha is None else factors.low_res(alpha, scale)[1]
    return imaging.arrays_to_pil(lr, lr_alpha)


def ground_truth(hr: Image.Image, scale: float) -> Image.Image:
    """``hr`` upright (EXIF applied) and cropped to a multiple of ``scale`` (2, 3, 4: the papers'
    modcrop; any other factor: of srcnn.factors.crop_multiple, e.g. 5 px for x2.5): what outputs
    are compared against. Mode as in srcnn.imaging.pil_to_arrays."""
    hr, scale = check_image(hr), factor_value(scale)
    multiple = factors.crop_multiple(scale)
    upright = ImageOps.exif_transpose(hr)
    if upright.mode in EIGHT_BIT_MODES:        # what the rule below gives: the pixels as they are, cropped
        gt = upright.crop((0, 0, upright.width - upright.width % multiple, upright.height - upright.height % multiple))
        gt.info = {}
        return gt
    color, alpha = imaging.pil_to_arrays(hr)
    return imaging.arrays_to_pil(imaging.modcrop(color, multiple),
                                 None if alpha is None else imaging.modcrop(alpha, multiple))


# Modes that srcnn.imaging.pil_to_arrays then arrays_to_pil give back unchanged (8-bit, no palette).
EIGHT_BIT_MODES = ("L", "LA", "RGB", "RGBA")


@dataclass(frozen=True)
class MethodResult:
    image: Image.Image
    psnr: float      # dB, Y channel, `scale` px border shaved (srcnn.metrics)
    ssim: float      # same convention
    seconds: float   # wall time of upscale() for this method


@dataclass(frozen=True)
class Comparison:
    """What ``compare`` returns: ground truth, its LR image and each method's result;
    ``timings``: wall seconds of compare's stages ("ground truth", "degradation", "upscaling",
    "metrics"; "upscaling" is the sum of the methods' ``seconds``)."""
    scale: int | float       # 2, 3, 4 as int; any other factor as a float
    ground_truth: Image.Image
    low_res: Image.Image
    results: dict[str, MethodResult] = field(default_factory=dict)
    convention: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    input: Input | None = None   # what the networks were told about the low-res image (JPEG or clean)


def compare(hr: Image.Image, scale: float, tile: int | None = DEFAULT_TILE, methods: tuple[str, ...] = METHODS,
            progress=None, models: dict[str, Network] | None = None, on_image=None,
            jpeg_quality: int | None = None, jpeg: str | int = "auto", runner: Runner | None = None) -> Comparison:
    """Degrade ``hr``, upscale the LR image with every method, measure each against ``hr``.

    ``scale``: 2, 3, 4 (the papers' protocol) or any factor from 1.1 to 8 (:func:`degrade`).
    ``methods``: a tuple of names from :data:`METHODS` (a bare string means that one method).
    ``models``: method name -> model object used instead of the published one.
    PSNR and SSIM are on Y (BT.601), computed from the 8-bit outputs, with ``ceil(scale)`` px
    shaved (srcnn.metrics; for 2, 3, 4 the papers' ``scale``); the ground truth's side of them (its
    Y and SSIM's local statistics) is computed once (srcnn.metrics.Reference). ``seconds`` is the
    wall time of each method's ``upscale`` call; ``timings`` the stages' (Comparison). Inside
    srcnn.cancel.cancellable(check), ``check()`` is called between stages, between tiles and
    between the bands of the long steps (it may raise to stop the work); ``progress(done, total)``
    is called between tiles. ``on_image(name, image)`` is called as soon as each picture is final:
    "ground truth", then each method's output (e.g. to save it while the next method computes).
    ``jpeg_quality``: the low-res image is saved as a JPEG at this quality (Pillow, 4:2:0) and
    decoded before the methods see it, as an upload would be (an alpha channel stays as it was);
    the networks are chosen by it unless ``jpeg`` ("clean", "compressed" or a quality) says
    otherwise (:func:`input_of`). ``runner``: whose networks run (None: the default runner).
    """
    scale, tile = factor_value(scale), check_tile(tile)
    jpeg_quality = None if jpeg_quality is None else check_quality(jpeg_quality)
    given = (Input(jpeg_quality, "benchmark", factors.serves_compressed(jpeg_quality)) if jpeg == "auto"
             else input_of(hr, jpeg))
    border, methods = math.ceil(scale), _checked_methods(methods)
    show = on_image or _show_nothing

    started = time.perf_counter()
    gt = _measurable_ground_truth(hr, scale, border)
    show("ground truth", gt)
    cancel.checkpoint()
    ground_truth_done = time.perf_counter()
    ref = _reference(gt, border)
    reference_done = time.perf_counter()
    lr = _low_res(gt, scale, jpeg_quality)
    timings = {"ground truth": ground_truth_done - started, "degradation": time.perf_counter() - reference_done,
               "upscaling": 0.0, "metrics": reference_done - ground_truth_done}

    def upscaled(method: str) -> Image.Image:
        return upscale(lr, scale, method, tile, progress, (models or {}).get(method), jpeg=given, runner=runner)

    results = {}
    for m in methods:
        results[m], measuring_seconds = _method_result(m, upscaled, ref, show)
        timings["upscaling"] += results[m].seconds
        timings["metrics"] += measuring_seconds
    return Comparison(scale, gt, lr, results, convention(border), timings, given)


def _show_nothing(name: str, image: Image.Image) -> None:
    """compare's ``on_image`` when none is given."""


def _checked_methods(methods: tuple[str, ...] | str) -> tuple[str, ...]:
    """compare's ``methods`` as a tuple (a bare string: that one method), each one checked."""
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    for m in methods:
        check_method(m)
    return methods


def _measurable_ground_truth(hr: Image.Image, scale: float, border: int) -> Image.Image:
    """:func:`ground_truth`, or ValueError if less than one pixel would be left after shaving
    ``border`` px from each side."""
    gt = ground_truth(hr, scale)
    if gt.width <= 2 * border or gt.height <= 2 * border:
        need = max(2 * border + 1, factors.crop_multiple(scale))
        raise ValueError(f"the image is too small to measure at x{scale:g}: "
                         f"at least {need}x{need} px are needed, got {hr.width}x{hr.height}")
    return gt


def _reference(gt: Image.Image, border: int) -> Reference:
    """The ground truth's side of the metrics, SSIM's statistics included (which refuses a ground
    truth too small for SSIM's window now, before any method runs)."""
    ref = Reference.from_pixels(np.asarray(gt), border)
    ref.statistics()
    return ref


def _low_res(gt: Image.Image, scale: float, jpeg_quality: int | None) -> Image.Image:
    """The methods' input: ``gt`` degraded, then saved as a JPEG at ``jpeg_quality`` and decoded
    (None: kept clean)."""
    lr = degrade(gt, scale)
    return lr if jpeg_quality is None else compressed_image(lr, jpeg_quality)


def _method_result(method: str, upscaled, ref: Reference, show) -> tuple[MethodResult, float]:
    """``upscaled(method)``, handed to ``show(method, image)``, then measured against ``ref``:
    (its result, whose ``seconds`` is the upscaling's; the seconds the measuring took)."""
    cancel.checkpoint()
    upscale_started = time.perf_counter()
    out = upscaled(method)
    upscale_seconds = time.perf_counter() - upscale_started
    show(method, out)
    cancel.checkpoint()
    measure_started = time.perf_counter()
    value_psnr, value_ssim = ref.measure_pixels(np.asarray(out))
    return MethodResult(out, value_psnr, value_ssim, upscale_seconds), time.perf_counter() - measure_started


def compressed_image(img: Image.Image, quality: int) -> Image.Image:
    """An 8-bit image (L, LA, RGB, RGBA) saved as a JPEG at ``quality`` and decoded; an alpha
    channel, which JPEG cannot hold, is kept as it was."""
    if img.mode in ("LA", "RGBA"):
        out = compress_image(img.convert(img.mode[:-1]), quality).convert(img.mode)
        out.putalpha(img.getchannel("A"))
        return out
    return compress_image(img, quality)
