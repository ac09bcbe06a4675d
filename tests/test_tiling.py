"""srcnn.tiling: tiled output equals whole-image output, every pixel written once."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from srcnn.torch_models import ResidualSRCNN, SRCNN
from srcnn.tiling import pad, tile_grid, tiled_apply


def _net_fn(model):
    def fn(windows):
        with torch.no_grad():
            return model(torch.from_numpy(windows)[:, None])[:, 0].numpy()
    return fn


torch.manual_seed(0)
SMALL = {"srcnn": SRCNN(n1=8, n2=4).eval(), "residual": ResidualSRCNN(n1=8, n2=4).eval(),
         "955": SRCNN(f2=5, n1=4, n2=4).eval()}
for m in SMALL.values():  # make the last layer matter
    torch.nn.init.normal_(m.conv3.weight, std=0.1)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 41), w=st.integers(1, 41), tile=st.integers(1, 45), batch=st.integers(1, 5),
       kind=st.sampled_from(sorted(SMALL)), seed=st.integers(0, 2**16))
def test_tiled_equals_whole_image(h, w, tile, batch, kind, seed):
    model = SMALL[kind]
    y = np.random.default_rng(seed).random((h, w), dtype=np.float32)
    whole = tiled_apply(_net_fn(model), y, model.radius, None)
    tiled = tiled_apply(_net_fn(model), y, model.radius, tile, batch=batch)
    assert whole.shape == tiled.shape == (h, w)
    assert np.abs(whole - tiled).max() < 1e-5


@pytest.mark.parametrize("shape", [(1, 1), (1, 17), (13, 1), (31, 37), (2, 3)])
def test_whole_image_output_equals_direct_network_on_padded_input(shape):
    model = SMALL["residual"]
    y = np.random.default_rng(1).random(shape, dtype=np.float32)
    direct = _net_fn(model)(pad(y, model.radius)[None])[0]
    np.testing.assert_allclose(tiled_apply(_net_fn(model), y, model.radius, 7), direct, atol=1e-5)


@settings(max_examples=60, deadline=None)
@given(h=st.integers(1, 50), w=st.integers(1, 50), tile=st.integers(1, 60))
def test_every_output_pixel_written_exactly_once(h, w, tile):
    count = np.zeros((h, w), int)
    for t, l, bh, bw in tile_grid(h, w, tile):
        assert bh >= 1 and bw >= 1 and bh <= tile and bw <= tile
        count[t:t + bh, l:l + bw] += 1
    assert (count == 1).all()


@settings(max_examples=40, deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), tile=st.integers(1, 31), r=st.integers(0, 8))
def test_each_tile_sees_its_own_window_of_the_padded_image(h, w, tile, r):
    """An fn that returns the centre of each window reproduces the image exactly."""
    y = np.random.default_rng(h * 31 + w).random((h, w), dtype=np.float32)

    def centre(windows):
        return windows[:, r:windows.shape[1] - r, r:windows.shape[2] - r]

    np.testing.assert_array_equal(tiled_apply(centre, y, r, tile, batch=3), y)


def test_progress_is_reported_per_call():
    calls = []
    tiled_apply(lambda w: w[:, 1:-1, 1:-1], np.zeros((10, 10), np.float32), 1, 4,
                progress=lambda d, t: calls.append((d, t)))
    assert calls[-1][0] == calls[-1][1] == len(calls) == 9


def test_input_is_not_mutated_and_bad_arguments_raise():
    y = np.random.default_rng(0).random((5, 5), dtype=np.float32)
    before = y.copy()
    tiled_apply(lambda w: w[:, 2:-2, 2:-2] * 2, y, 2, 2)
    np.testing.assert_array_equal(y, before)
    with pytest.raises(ValueError, match="tile"):
        tiled_apply(lambda w: w, y, 0, 0)
    with pytest.raises(ValueError, match="radius"):
        tiled_apply(lambda w: w, y, 2, 3)  # fn ignores the halo: wrong shape
    with pytest.raises(ValueError, match="non-empty"):
        tiled_apply(lambda w: w, np.zeros((0, 3), np.float32), 0, 3)


def test_the_studys_merge_fails_the_check_that_tiled_apply_passes():
    """The equality that proves our stitching exact rejects the study's own stitching (srcnn.study:
    33x33 patches 14 px apart, outputs pasted 21 px apart), pixel for pixel, on the same network."""
    from srcnn.study import stitching
    model = SMALL["srcnn"]
    fn = _net_fn(model)
    y = np.random.default_rng(3).random((61, 75), dtype=np.float32)
    r = model.radius
    whole = fn(np.pad(y, r, mode="symmetric")[None])[0]
    assert np.abs(tiled_apply(fn, y, r, 21) - whole).max() < 1e-5           # ours: exact
    grid = stitching.patch_grid(*y.shape, radius=r)
    pasted = stitching.merge(stitching.run_patches(fn, stitching.extract_patches(y, grid)), grid, "original")
    # what the study's picture claims to show at each of its pixels: the image from (6, 6) on
    h, w = min(pasted.shape[0], y.shape[0] - r), min(pasted.shape[1], y.shape[1] - r)
    claimed = whole[r:r + h, r:r + w]
    assert np.abs(pasted[:h, :w] - claimed).max() > 1e-3                    # the study's: caught
    # and the failure starts exactly at the first seam (21 px): the first patch is right
    assert np.abs(pasted[:14, :14] - claimed[:14, :14]).max() < 1e-5


@pytest.mark.parametrize("h, w, tile, lanes", [(1026, 1026, 512, 1), (1000, 999, 256, 2), (7, 3000, 256, 2),
                                               (1, 1, 256, 2), (300, 300, 256, 1), (513, 257, 128, 3)])
def test_tile_grid_cuts_each_side_evenly_within_the_tile_size(h, w, tile, lanes):
    """Near-equal parts of at most ``tile`` px (1026 in tiles of 512: 3 x 342, not 512 + 512 + 2),
    covering the image once; with lanes, never fewer blocks than without."""
    blocks = list(tile_grid(h, w, tile, lanes=lanes, halo=6))
    tops = sorted({(t, bh) for t, _, bh, _ in blocks})
    lefts = sorted({(lf, bw) for _, lf, _, bw in blocks})
    assert sum(bh for _, bh in tops) == h and sum(bw for _, bw in lefts) == w
    assert max(bh for _, bh in tops) - min(bh for _, bh in tops) <= 1 <= tile
    assert max(bw for _, bw in lefts) - min(bw for _, bw in lefts) <= 1
    assert all(bh <= tile and bw <= tile for _, _, bh, bw in blocks)
    assert len(blocks) == len(tops) * len(lefts) >= len(list(tile_grid(h, w, tile)))
    assert list(tile_grid(h, w, None)) == [(0, 0, h, w)]
