"""The two networks of the demo: SRCNN (Dong et al., 2014) and its residual variant.

Both run on the luma (Y) channel of an image that bicubic interpolation has already brought
to the target size, with values in 0..1 (Y in 16/255..235/255), layout N x 1 x H x W.

SRCNN is three convolutions:

    patch extraction     f1 x f1, 1  -> n1 channels, ReLU
    non-linear mapping   f2 x f2, n1 -> n2 channels, ReLU
    reconstruction       f3 x f3, n2 -> 1 channel

The convolutions are *valid* (no zero padding), as in the paper's training: a 33 x 33 input
patch gives a 21 x 21 output for 9-1-5. So the output is smaller than the input by
``radius`` pixels on each side, ``radius = (f1 - 1)/2 + (f2 - 1)/2 + (f3 - 1)/2`` (6 for
9-1-5, 8 for 9-5-5). To get an output of the input's size, pad the input by ``radius``
first (srcnn.tiling does this, with mirrored borders); every output pixel then depends on
exactly the (2 radius + 1)^2 input pixels around it, which is what makes exact tiling possible.

ResidualSRCNN has the same layers and parameter count; the network predicts only the detail
bicubic misses and adds it back: ``y = x_centre + body(x)``, with ``x_centre`` the input
cropped by ``radius`` to line up with the body's valid output.

Both mix in huggingface_hub's ``PyTorchModelHubMixin``: ``save_pretrained`` writes
``config.json`` (the constructor arguments) and ``model.safetensors``; ``from_pretrained``
and ``push_to_hub`` are the matching loaders and uploader.
"""

from __future__ import annotations

import numbers

import torch
from huggingface_hub import PyTorchModelHubMixin
from torch import nn

KINDS = ("srcnn", "residual")   # the two networks, in one place
SCALES = (2, 3, 4)              # the upscaling factors weights exist for
RANGE = "1.1-2"                 # and a range: one network trained on factors 1.1 to 2 (srcnn.factors)


def check_trained(scale: object) -> int | str:
    """What weights can be trained for: a scale (:func:`check_scale`) or the range :data:`RANGE`."""
    return RANGE if scale == RANGE else check_scale(scale)


def check_scale(scale: object) -> int:
    """``scale`` as an int if it is 2, 3 or 4 (a bool is refused), else ValueError: the one scale check."""
    if isinstance(scale, bool) or not isinstance(scale, numbers.Integral) or int(scale) not in SCALES:
        raise ValueError(f"scale must be 2, 3 or 4, got {scale!r}")
    return int(scale)


class SRCNN(nn.Module, PyTorchModelHubMixin,
            library_name="srcnn-studio", tags=["super-resolution", "srcnn"], license="mit"):
    """The paper's three-layer network, valid convolutions: (N,1,H,W) -> (N,1,H-2r,W-2r).

    ``scale`` is not used by the layers; it records which upscaling factor the weights were
    trained for (saved in config.json). ``kind`` is fixed per class and saved the same way.
    """

    kind = "srcnn"

    def __init__(self, f1: int = 9, f2: int = 1, f3: int = 5, n1: int = 64, n2: int = 32, scale: int = 3):
        super().__init__()
        for f in (f1, f2, f3):
            if f < 1 or f % 2 == 0:
                raise ValueError(f"filter sizes must be odd and positive, got {f1}-{f2}-{f3}")
        self.f1, self.f2, self.f3, self.n1, self.n2, self.scale = f1, f2, f3, n1, n2, scale
        self.conv1 = nn.Conv2d(1, n1, f1)
        self.conv2 = nn.Conv2d(n1, n2, f2)
        self.conv3 = nn.Conv2d(n2, 1, f3)
        # The paper's initialisation: Gaussian, std 1e-3; we use He init for the ReLU layers
        # (trains faster with Adam) and a small Gaussian for the last layer.
        for conv in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        nn.init.normal_(self.conv3.weight, std=1e-3)
        nn.init.zeros_(self.conv3.bias)

    @property
    def radius(self) -> int:
        """Pixels lost on each side by the valid convolutions (the receptive-field radius)."""
        return (self.f1 - 1) // 2 + (self.f2 - 1) // 2 + (self.f3 - 1) // 2

    def body(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        return self.conv3(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResidualSRCNN(SRCNN):
    """SRCNN that learns the residual: ``y = x[r:-r, r:-r] + body(x)``. Same parameters."""

    kind = "residual"

    def __init__(self, f1: int = 9, f2: int = 1, f3: int = 5, n1: int = 64, n2: int = 32, scale: int = 3):
        super().__init__(f1=f1, f2=f2, f3=f3, n1=n1, n2=n2, scale=scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = self.radius
        centre = x[..., r:x.shape[-2] - r, r:x.shape[-1] - r]
        return centre + self.body(x)


def model_class(kind: str) -> type[SRCNN]:
    """``"srcnn"`` -> SRCNN, ``"residual"`` -> ResidualSRCNN."""
    if kind == "srcnn":
        return SRCNN
    if kind == "residual":
        return ResidualSRCNN
    raise ValueError(f"unknown model kind {kind!r}: choose one of {', '.join(KINDS)}")


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
