"""The layer sizes of an SRCNN network, in one value: :class:`Architecture`.

SRCNN (Dong et al., 2014) is three *valid* convolutions on the luma channel:

    patch extraction     f1 x f1, 1  -> n1 channels, ReLU
    non-linear mapping   f2 x f2, n1 -> n2 channels, ReLU
    reconstruction       f3 x f3, n2 -> 1 channel

The defaults are the paper's 9-1-5 with 64 and 32 filters, what every published network uses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Architecture:
    """Filter sizes ``f1``, ``f2``, ``f3`` (pixels, odd and positive: checked here, once) and
    channel counts ``n1``, ``n2``."""
    f1: int = 9
    f2: int = 1
    f3: int = 5
    n1: int = 64
    n2: int = 32

    def __post_init__(self) -> None:
        for f in (self.f1, self.f2, self.f3):
            if f < 1 or f % 2 == 0:
                raise ValueError(f"filter sizes must be odd and positive, got {self.f1}-{self.f2}-{self.f3}")

    @property
    def radius(self) -> int:
        """Pixels lost on each side by the valid convolutions (the receptive-field radius):
        ``(f1 - 1)/2 + (f2 - 1)/2 + (f3 - 1)/2``, 6 for 9-1-5, 8 for 9-5-5."""
        return (self.f1 - 1) // 2 + (self.f2 - 1) // 2 + (self.f3 - 1) // 2

    @property
    def sizes(self) -> dict[str, int]:
        """``{"f1": ..., "f2": ..., "f3": ..., "n1": ..., "n2": ...}``: as ``config.json`` and the
        constructors name them."""
        return asdict(self)

    def tensor_shapes(self) -> dict[str, tuple[int, ...]]:
        """The tensors of a network, as ``model.safetensors`` names them, with their shapes
        (cross-correlation layout: out channels, in channels, kernel height, kernel width)."""
        f1, f2, f3, n1, n2 = self.f1, self.f2, self.f3, self.n1, self.n2
        return {"conv1.weight": (n1, 1, f1, f1), "conv1.bias": (n1,),
                "conv2.weight": (n2, n1, f2, f2), "conv2.bias": (n2,),
                "conv3.weight": (1, n2, f3, f3), "conv3.bias": (1,)}

    @property
    def multiply_adds(self) -> int:
        """Multiply-adds per output pixel (the convolutions' weights; the biases and ReLUs aside):
        ``f1² n1 + f2² n1 n2 + f3² n2``, 8,032 for the paper's 9-1-5 / 64, 32."""
        return self.f1 ** 2 * self.n1 + self.f2 ** 2 * self.n1 * self.n2 + self.f3 ** 2 * self.n2

    def describe(self) -> str:
        """``"9-1-5"``: the filter sizes as papers write them."""
        return f"{self.f1}-{self.f2}-{self.f3}"


PAPER = Architecture()   # 9-1-5, 64/32: the published networks' sizes
