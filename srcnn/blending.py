"""A network for one JPEG quality, made from two: a share of the clean network mixed into the weights
of the network fine-tuned from it on compressed inputs.

The network for compressed inputs (``<kind>-x<scale>-jpeg``) is fine-tuned from the clean network of
the same kind and factor on low-res images saved as JPEG at qualities 20 to 95, so it deblocks and
smooths as much as an average of those qualities needs. On a JPEG at quality 90 that is too much:
fine fur or foliage that the file kept is smoothed away, and on one held-out photo (a cat) the
network trails bicubic. The clean network does the opposite (it sharpens the blocks). Between the
two, in weight space, lie networks that do a little of each; because one was fine-tuned from the
other they stay in one basin of the loss, so the mixture is a working network (Wortsman et al.,
"Robust fine-tuning of zero-shot models", 2022: WiSE-FT), and the share that suits a quality is
measured on the clean validation photos saved at that quality (``python -m srcnn jpeg-bands``,
srcnn.factors.COMPRESSED_BANDS). It costs nothing per pixel: the mixture has the compressed
network's layer sizes.

A compressed network wider than its clean one (``train.py --n1``: the clean filters first, the
new ones after) meets the clean one padded with the new filters at zero weight into the second
layer, which is the network it was widened from (srcnn.tooling.training.widened).
"""

from __future__ import annotations

import numpy as np

from .models import Network


def blended(compressed: Network, clean: Network, clean_share: float) -> Network:
    """The network with weights ``(1 - clean_share) * compressed + clean_share * clean`` (numpy,
    float32), ``compressed``'s kind, scale and sizes. ``clean_share`` in 0..1 (0: ``compressed``'s
    weights; 1: ``clean``'s function). ``clean`` must have the same kind and filter sizes and at
    most ``compressed``'s first-layer filters (ValueError otherwise). Neither input is changed."""
    if not 0.0 <= clean_share <= 1.0:
        raise ValueError(f"clean_share must be between 0 and 1, got {clean_share}")
    same = (clean.kind, clean.f1, clean.f2, clean.f3, clean.n2) == (compressed.kind, compressed.f1, compressed.f2,
                                                                    compressed.f3, compressed.n2)
    if not same or clean.n1 > compressed.n1:
        raise ValueError(f"cannot blend a {clean.kind} {clean.architecture.describe()} / {clean.n1}, {clean.n2} "
                         f"into a {compressed.kind} {compressed.architecture.describe()} / {compressed.n1}, "
                         f"{compressed.n2}")
    padded = widened_weights(clean.weights, compressed.weights)
    mixed = {k: (1.0 - clean_share) * compressed.weights[k] + clean_share * padded[k] for k in padded}
    return Network(compressed.kind, compressed.scale, compressed.f1, compressed.f2, compressed.f3,
                   compressed.n1, compressed.n2, mixed)


def widened_weights(narrow: dict[str, np.ndarray], wide: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """``narrow``'s weights with ``wide``'s first-layer filter count: its filters first, then
    ``wide``'s extra filters, whose weights into the second layer are zero; the same function as
    ``narrow``. New arrays; neither input is changed."""
    n = narrow["conv1.weight"].shape[0]
    extra = wide["conv2.weight"][:, n:]
    return {**{k: v.copy() for k, v in narrow.items()},
            "conv1.weight": np.concatenate([narrow["conv1.weight"], wide["conv1.weight"][n:]]),
            "conv1.bias": np.concatenate([narrow["conv1.bias"], wide["conv1.bias"][n:]]),
            "conv2.weight": np.concatenate([narrow["conv2.weight"], np.zeros_like(extra)], axis=1)}
