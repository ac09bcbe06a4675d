"""The two networks of the demo, SRCNN (Dong et al., 2014) and its residual variant: their
kinds, the factors weights exist for, and the runtime form every output is computed with.

Both run on the luma (Y) channel of an image that bicubic interpolation has already brought
to the target size, with values in 0..1 (Y in 16/255..235/255), layout N x 1 x H x W.

SRCNN is three convolutions, sized by a srcnn.architecture.Architecture (f1-f2-f3, n1, n2;
the paper's 9-1-5 with 64 and 32 filters by default):

    patch extraction     f1 x f1, 1  -> n1 channels, ReLU
    non-linear mapping   f2 x f2, n1 -> n2 channels, ReLU
    reconstruction       f3 x f3, n2 -> 1 channel

The convolutions are *valid* (no zero padding), as in the paper's training: a 33 x 33 input
patch gives a 21 x 21 output for 9-1-5. So the output is smaller than the input by
``radius`` pixels on each side (``Architecture.radius``: 6 for 9-1-5, 8 for 9-5-5). To get an
output of the input's size, pad the input by ``radius`` first (srcnn.tiling does this, with
mirrored borders); every output pixel then depends on exactly the (2 radius + 1)^2 input pixels
around it, which is what makes exact tiling possible.

ResidualSRCNN has the same layers and parameter count; the network predicts only the detail
bicubic misses and adds it back: ``y = x_centre + body(x)``, with ``x_centre`` the input
cropped by ``radius`` to line up with the body's valid output.

Two forms of the same function:

* :class:`Network` (here, numpy only): the weights as arrays plus kind, scale and sizes. What
  the runtime (srcnn.pipeline, srcnn.engine's ONNX sessions, the app, the CLI) runs; loaded by
  srcnn.weights from ``config.json`` + ``model.safetensors``.
* ``SRCNN`` / ``ResidualSRCNN`` (PyTorch ``nn.Module`` + huggingface_hub's
  ``PyTorchModelHubMixin``): in srcnn.torch_models, which whoever needs torch imports itself
  (training, ``srcnn.load_model``, the tests' reference); ``torch_models.torch_module(network)``
  turns a :class:`Network` into one.

This module imports no torch: the kinds, the factors and their checks live here so that the
runtime path can name them without it.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field

import numpy as np

from .architecture import Architecture

KINDS = ("srcnn", "residual")   # the two networks, in one place
SCALES = (2, 3, 4)              # the upscaling factors weights exist for
RANGE = "1.1-2"                 # and a range: one network trained on factors 1.1 to 2 (srcnn.factors)
SMALL_FACTORS = (1.1, 2.0)      # a decimal factor from 1.1 to below 2 may also have its own weights
TRAIN_REQUIREMENTS = "requirements-train.txt"


def torch_missing_message(what: str) -> str:
    """The one line said where torch is needed and not installed."""
    return (f"{what} needs PyTorch, which is not installed: "
            f"`pip install -r {TRAIN_REQUIREMENTS}` (the app, upscale, compare and export run without it)")


def check_scale(scale: object) -> int:
    """``scale`` as an int if it is 2, 3 or 4 (a bool is refused), else ValueError: the one scale check."""
    if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or int(scale) not in SCALES:
        raise ValueError(f"scale must be 2, 3 or 4, got {scale!r}")
    return int(scale)


def check_small_factor(scale: object) -> float:
    """A decimal factor from 1.1 to below 2 (the small-factor family's own weights, ``<kind>-x1.2``),
    as a float with at most two decimals; ValueError otherwise."""
    if isinstance(scale, bool) or not isinstance(scale, numbers.Real) or not math.isfinite(scale):
        raise ValueError(f"a small factor is a number from 1.1 to 2, got {scale!r}")
    value = float(scale)
    low, high = SMALL_FACTORS
    if not low - 1e-9 <= value < high or abs(value * 100 - round(value * 100)) > 1e-6:
        raise ValueError(f"a small factor is a decimal from {low:g} to below {high:g} with at most two decimals, "
                         f"got {scale!r}")
    return round(value, 2)


def check_trained(scale: object) -> int | float | str:
    """What weights can be trained for: a scale (:func:`check_scale`: 2, 3, 4), the range
    :data:`RANGE`, or a small factor (:func:`check_small_factor`: 1.1 to below 2, e.g. 1.2)."""
    if scale == RANGE:
        return RANGE
    if isinstance(scale, numbers.Integral) and not isinstance(scale, bool) or scale in SCALES:
        return check_scale(int(scale) if scale in SCALES else scale)
    try:
        return check_small_factor(scale)
    except ValueError:
        raise ValueError(f"weights exist for a scale of 2, 3 or 4, the range {RANGE}, or a factor from "
                         f"{SMALL_FACTORS[0]:g} to below {SMALL_FACTORS[1]:g} (e.g. 1.2), got {scale!r}") from None


def scale_text(scale: int | float | str) -> str:
    """How a trained scale is written in a folder name: ``3``, ``1.1-2``, ``1.2``, ``1.75``."""
    return f"{scale:g}" if isinstance(scale, float) else str(scale)


def parse_scale(text: str) -> int | float | str:
    """:func:`scale_text` read back ("3" -> 3, "1.1-2" -> RANGE, "1.2" -> 1.2); ValueError for
    anything else, including a non-canonical spelling such as "1.20" or "3.0"."""
    if text == RANGE:
        return RANGE
    if text.isdigit():
        return check_scale(int(text))
    try:
        value = check_small_factor(float(text))
    except ValueError:
        raise ValueError(f"not a trained scale: {text!r}") from None
    if scale_text(value) != text:
        raise ValueError(f"not a trained scale: {text!r} (write it {scale_text(value)!r})")
    return value


@dataclass(eq=False)
class Network:
    """A network in its runtime form: float32 numpy weights (``conv1.weight`` (n1, 1, f1, f1),
    ``conv1.bias``, ``conv2.*``, ``conv3.weight`` (1, n2, f3, f3), ``conv3.bias``: the names and
    cross-correlation layout of ``model.safetensors``) plus what they are: ``kind`` ("srcnn" or
    "residual"), ``scale`` (the factor they were trained for: 2, 3, 4, :data:`RANGE` or a small
    factor), and the sizes f1-f2-f3 / n1, n2.

    Computes the same function as the matching ``SRCNN`` / ``ResidualSRCNN``: srcnn.engine runs
    it as an ONNX graph. Compared by identity (srcnn.engine keeps its sessions per object);
    shared read-only: do not change the arrays."""
    kind: str
    scale: int | float | str
    f1: int
    f2: int
    f3: int
    n1: int
    n2: int
    weights: dict[str, np.ndarray] = field(repr=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown model kind {self.kind!r}: choose one of {', '.join(KINDS)}")
        arch = self.architecture                    # checks the filter sizes
        want = arch.tensor_shapes()
        got = {k: tuple(np.shape(v)) for k, v in self.weights.items()}
        if got != want:
            raise ValueError(f"tensor shapes {got} differ from the {self.kind} "
                             f"{arch.describe()} architecture's {want}")
        self.weights = {k: np.ascontiguousarray(v, np.float32) for k, v in self.weights.items()}

    @property
    def architecture(self) -> Architecture:
        """The layer sizes f1-f2-f3 / n1, n2 (ValueError where a filter size is even or below 1)."""
        return Architecture(self.f1, self.f2, self.f3, self.n1, self.n2)

    @property
    def radius(self) -> int:
        """Pixels lost on each side by the valid convolutions (the receptive-field radius)."""
        return self.architecture.radius

    @property
    def config(self) -> dict:
        """What ``config.json`` holds for these weights."""
        return {**self.architecture.sizes, "scale": self.scale, "kind": self.kind}

    @classmethod
    def from_module(cls, module) -> "Network":
        """The runtime form of a PyTorch ``SRCNN`` / ``ResidualSRCNN`` (its weights copied now;
        the module's ``state_dict`` is read, torch is not imported here)."""
        state = {k: v.detach().float().cpu().numpy().copy() for k, v in module.state_dict().items()}
        return cls(module.kind, module.scale, module.f1, module.f2, module.f3, module.n1, module.n2, state)

    def numpy_forward(self, x: np.ndarray) -> np.ndarray:
        """The network on (N, 1, H, W) float windows in plain numpy, float64: a slow, obvious
        reference (tests); srcnn.engine is the fast path."""
        from numpy.lib.stride_tricks import sliding_window_view

        def conv(a: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
            k = w.shape[-1]
            win = sliding_window_view(a, (k, k), axis=(2, 3))          # N, C, H', W', k, k
            return np.einsum("nchwij,ocij->nohw", win, w.astype(np.float64)) + b[None, :, None, None]

        w = self.weights
        x = np.asarray(x, np.float64)
        h = np.maximum(conv(x, w["conv1.weight"], w["conv1.bias"]), 0)
        h = np.maximum(conv(h, w["conv2.weight"], w["conv2.bias"]), 0)
        out = conv(h, w["conv3.weight"], w["conv3.bias"])
        if self.kind == "residual":
            r = self.radius
            out = out + x[..., r:x.shape[-2] - r, r:x.shape[-1] - r]
        return out


def as_network(model) -> Network:
    """``model`` as a :class:`Network`: itself, or a PyTorch module's weights (copied now)."""
    return model if isinstance(model, Network) else Network.from_module(model)
