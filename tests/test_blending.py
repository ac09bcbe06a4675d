"""srcnn.blending: a share of the clean network mixed into the weights of the one for compressed
inputs; the ends are the two networks' functions, a wider compressed network included."""

from __future__ import annotations

import numpy as np
import pytest

from srcnn.blending import blended, widened_weights
from srcnn.models import Network
from srcnn.weights import Checkpoint, network_from_folder, bundled_folder


def random_network(kind: str, n1: int, seed: int) -> Network:
    rng = np.random.default_rng(seed)
    shapes = {"conv1.weight": (n1, 1, 9, 9), "conv1.bias": (n1,), "conv2.weight": (32, n1, 1, 1),
              "conv2.bias": (32,), "conv3.weight": (1, 32, 5, 5), "conv3.bias": (1,)}
    return Network(kind, 2, 9, 1, 5, n1, 32, {k: rng.normal(0, 0.1, s).astype(np.float32) for k, s in shapes.items()})


WINDOW = np.random.default_rng(7).random((1, 1, 30, 30))


@pytest.mark.parametrize("wide_n1", [64, 128])
def test_the_ends_are_the_two_networks(wide_n1):
    compressed, clean = random_network("residual", wide_n1, 1), random_network("residual", 64, 2)
    for share, end in ((0.0, compressed), (1.0, clean)):
        mix = blended(compressed, clean, share)
        assert np.allclose(mix.numpy_forward(WINDOW), end.numpy_forward(WINDOW), atol=1e-5)


def test_between_the_ends_the_weights_mix_linearly_and_the_inputs_stay():
    compressed, clean = random_network("srcnn", 128, 3), random_network("srcnn", 64, 4)
    before = {k: v.copy() for k, v in compressed.weights.items()}, {k: v.copy() for k, v in clean.weights.items()}
    mix = blended(compressed, clean, 0.3)
    padded = widened_weights(clean.weights, compressed.weights)
    for k in mix.weights:
        assert np.allclose(mix.weights[k], 0.7 * compressed.weights[k] + 0.3 * padded[k], atol=1e-6)
    assert (mix.n1, mix.kind, mix.scale) == (128, "srcnn", 2)
    assert not np.allclose(mix.numpy_forward(WINDOW), compressed.numpy_forward(WINDOW), atol=1e-3)
    assert all(np.array_equal(before[0][k], compressed.weights[k]) for k in before[0])
    assert all(np.array_equal(before[1][k], clean.weights[k]) for k in before[1])


def test_a_share_out_of_range_or_networks_that_do_not_match_are_refused():
    compressed = random_network("residual", 64, 5)
    with pytest.raises(ValueError, match="between 0 and 1"):
        blended(compressed, random_network("residual", 64, 6), 1.5)
    with pytest.raises(ValueError, match="cannot blend"):
        blended(compressed, random_network("srcnn", 64, 6), 0.5)
    with pytest.raises(ValueError, match="cannot blend"):
        blended(compressed, random_network("residual", 128, 6), 0.5)   # a clean one wider than it


def test_the_bundled_wide_x2_network_blends_with_its_clean_one():
    wide = network_from_folder("residual", bundled_folder("residual", 2, compressed=True))
    clean = network_from_folder("residual", bundled_folder("residual", 2))
    assert wide.n1 > clean.n1
    window = np.random.default_rng(0).random((1, 1, 40, 40))
    full = blended(wide, clean, 1.0).numpy_forward(window)
    assert np.allclose(full, clean.numpy_forward(window), atol=1e-5)


def test_a_checkpoint_with_a_share_says_so():
    assert "30% of the clean network's weights mixed in" in Checkpoint("residual", 2, True, 0.3).describe()
    assert "mixed" not in Checkpoint("residual", 2, True).describe()


def test_a_share_belongs_to_a_network_for_compressed_inputs():
    with pytest.raises(ValueError, match="clean_share"):
        Checkpoint("residual", 2, False, 0.3)
    with pytest.raises(ValueError, match="clean_share"):
        Checkpoint("residual", 2, True, 1.5)
