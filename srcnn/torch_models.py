"""The PyTorch form of the two networks (srcnn.models has the kinds, the factors and the
runtime form): ``SRCNN`` and ``ResidualSRCNN``, ``nn.Module`` + huggingface_hub's
``PyTorchModelHubMixin``, for training, ``srcnn.load_model`` and the tests' reference;
:func:`torch_module` turns a runtime srcnn.models.Network into one.

This is the torch boundary: code that needs torch imports this module itself. Without torch,
importing it raises ImportError with one line that says what to install
(srcnn.models.torch_missing_message); nothing else in the runtime path imports it.

``save_pretrained`` writes ``config.json`` (the constructor arguments, ``kind`` included) and
``model.safetensors``; ``from_pretrained`` on a folder whose ``config.json`` names the other kind
raises ValueError naming both. The layers, layout and radius are described in srcnn.models.
"""

from __future__ import annotations

from .architecture import PAPER, Architecture
from .models import KINDS, Network, torch_missing_message

try:
    import torch
    from torch import nn
except ImportError:
    raise ImportError(torch_missing_message("srcnn.torch_models (the PyTorch networks)")) from None

from huggingface_hub import PyTorchModelHubMixin  # noqa: E402 - after the torch check


def check_kind(cls: type, kind: object) -> None:
    """ValueError, naming both kinds, when ``kind`` (from a config.json) is not ``cls``'s."""
    if kind != cls.kind:
        other = {"srcnn": "SRCNN", "residual": "ResidualSRCNN"}.get(kind, "neither class")
        raise ValueError(f"these weights are a {kind!r} network (config.json \"kind\"), not {cls.kind!r}: "
                         f"{cls.__name__} cannot load them; load them as kind {kind!r} ({other})")


class SRCNN(nn.Module, PyTorchModelHubMixin,
            library_name="srcnn-studio", tags=["super-resolution", "srcnn"], license="mit"):
    """The paper's three-layer network, valid convolutions: (N,1,H,W) -> (N,1,H-2r,W-2r).

    ``scale`` is not used by the layers; it records which upscaling factor the weights were
    trained for (saved in config.json). ``kind`` is fixed per class and saved the same way
    (``kind`` is a constructor argument only so that config.json records it: any other value
    than the class's own raises ValueError naming both).
    """

    kind = "srcnn"

    def __init__(self, f1: int = PAPER.f1, f2: int = PAPER.f2, f3: int = PAPER.f3, n1: int = PAPER.n1,
                 n2: int = PAPER.n2, scale: int | float | str = 3, kind: str = "srcnn"):
        super().__init__()
        check_kind(type(self), kind)
        Architecture(f1, f2, f3, n1, n2)            # checks the filter sizes
        self.f1, self.f2, self.f3, self.n1, self.n2, self.scale = f1, f2, f3, n1, n2, scale
        self.conv1 = nn.Conv2d(1, n1, f1)
        self.conv2 = nn.Conv2d(n1, n2, f2)
        self.conv3 = nn.Conv2d(n2, 1, f3)
        # He init for the ReLU layers and a Gaussian of std 1e-3 for the last one (the paper: std
        # 1e-3 everywhere); why: docs/conventions.md, "Where we depart from the paper".
        for conv in (self.conv1, self.conv2):
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        nn.init.normal_(self.conv3.weight, std=1e-3)
        nn.init.zeros_(self.conv3.bias)

    @property
    def radius(self) -> int:
        """Pixels lost on each side by the valid convolutions (the receptive-field radius)."""
        return self.architecture.radius

    @property
    def architecture(self) -> Architecture:
        """The layer sizes f1-f2-f3 / n1, n2."""
        return Architecture(self.f1, self.f2, self.f3, self.n1, self.n2)

    def body(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.conv1(x))
        x = torch.relu(self.conv2(x))
        return self.conv3(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)


class ResidualSRCNN(SRCNN):
    """SRCNN that learns the residual: ``y = x[r:-r, r:-r] + body(x)``. Same parameters."""

    kind = "residual"

    def __init__(self, f1: int = PAPER.f1, f2: int = PAPER.f2, f3: int = PAPER.f3, n1: int = PAPER.n1,
                 n2: int = PAPER.n2, scale: int | float | str = 3, kind: str = "residual"):
        super().__init__(f1=f1, f2=f2, f3=f3, n1=n1, n2=n2, scale=scale, kind=kind)

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
    """The number of trainable numbers in ``model`` (weights and biases): 8129 for 9-1-5 / 64, 32."""
    return sum(p.numel() for p in model.parameters())


def torch_module(network: Network) -> SRCNN:
    """The PyTorch module (``SRCNN`` / ``ResidualSRCNN``) with ``network``'s weights (copied),
    in eval mode: the runtime form back as a module, for training and the tests' reference."""
    module = model_class(network.kind)(**{k: v for k, v in network.config.items() if k != "kind"})
    module.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in network.weights.items()}, strict=True)
    return module.eval()
