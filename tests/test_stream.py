"""srcnn.tooling.stream: the streaming training set. Its patches are the in-memory path's
degradation on regions of the photos, a pure function of (seed, patch index), shared between
ranks as contiguous parts of one global batch; a real streamed run trains, resumes exactly and
does not depend on how many loader workers make the batches."""

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file

from srcnn.imaging import pil_to_arrays
from srcnn.tooling import training
from srcnn.tooling.data import RANGE_FACTORS, lr_hr_luma
from srcnn.tooling.stream import Degradation, PhotoPatches, StepBatches, dihedral, find_photos, margin, region_side
from srcnn.tooling.training import augment, train

from stand_ins import smooth_photo, tiny_config


@pytest.fixture
def photos(tmp_path) -> Path:
    """Three photos at three depths, one of them grey, one a JPEG, and a file that is no image."""
    import skimage.data
    root = tmp_path / "photos"
    (root / "a" / "b").mkdir(parents=True)
    Image.fromarray(skimage.data.astronaut()[:200, :240]).save(root / "astronaut.png")
    Image.fromarray(skimage.data.camera()[:180, :220]).save(root / "a" / "camera.png")
    Image.fromarray(skimage.data.coffee()[:190, :230]).save(root / "a" / "b" / "coffee.jpg", quality=95)
    (root / "a" / "notes.txt").write_text("not an image")
    return root


def test_find_photos_walks_every_depth_sorted_and_refuses_an_empty_folder(photos, tmp_path):
    assert [bytes(n) for n in find_photos(photos)] == [b"a/b/coffee.jpg", b"a/camera.png", b"astronaut.png"]
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no images"):
        find_photos(tmp_path / "empty")
    with pytest.raises(ValueError, match="not a folder"):
        find_photos(tmp_path / "missing")


@pytest.mark.parametrize("factor, quality", [(2, None), (3, None), (4, 40), (1.1, None), (1.5, 75), (1.75, None)])
def test_a_patch_is_the_in_memory_degradation_at_its_place(factor, quality):
    """Degradation.pair on a region = srcnn.tooling.data.lr_hr_luma on the same region, cut
    margin() px in: the same MATLAB bicubic, 8-bit rounding and JPEG round trip."""
    side = region_side(factor, 33)
    crop, _ = pil_to_arrays(smooth_photo(side, side))
    x, y = Degradation().pair(crop, 1.0, factor, quality, 33, 6)
    want_x, want_y = lr_hr_luma(crop, factor, quality)
    m = margin(factor)
    assert x.shape == (33, 33) and y.shape == (21, 21)
    np.testing.assert_allclose(x, want_x[m:m + 33, m:m + 33], atol=1e-6)
    np.testing.assert_array_equal(y, want_y[m + 6:m + 27, m + 6:m + 27])


def test_the_margin_keeps_region_borders_away_from_the_patch():
    """The same patch of a photo made from two regions that are placed differently around it
    is the same: the region's mirrored borders do not reach the patch."""
    photo, _ = pil_to_arrays(Image.fromarray(np.asarray(smooth_photo(200, 200))))
    for factor in (3, 1.5):
        side, m, step = region_side(factor, 33), margin(factor), 3
        d = Degradation()
        a, ya = d.pair(photo[30:30 + side, 30:30 + side], 1.0, factor, None, 33, 6)
        # a region 'step' low-res pixels further up and left: the patch sits 'step' px deeper in it
        b_region = photo[30 - step:30 - step + side, 30 - step:30 - step + side]
        xb, yb = lr_hr_luma(b_region, factor)
        np.testing.assert_allclose(a, xb[m + step:m + step + 33, m + step:m + step + 33], atol=1e-5)
        np.testing.assert_array_equal(ya, yb[m + step + 6:m + step + 27, m + step + 6:m + step + 27])


def test_dihedral_is_the_batch_augmentation():
    a = np.arange(35.0, dtype=np.float32).reshape(5, 7)
    for k in range(8):
        assert np.array_equal(dihedral(a, k), augment(torch.from_numpy(a)[None, None], k)[0, 0].numpy())


def test_patches_are_a_pure_function_of_seed_and_index(photos):
    ds = PhotoPatches(photos, 3, 6, jpeg_quality=(30, 60))
    again = PhotoPatches(photos, 3, 6, jpeg_quality=(30, 60))
    for i in (0, 5, 17, 40):
        assert torch.equal(ds[i][0], again[i][0]) and torch.equal(ds[i][1], again[i][1])
    assert not torch.equal(ds[0][0], PhotoPatches(photos, 3, 6, jpeg_quality=(30, 60), seed=1)[0][0])
    reversed_order = [again[i][0] for i in (40, 17, 5, 0)]        # order and cache do not matter
    assert all(torch.equal(a, ds[i][0]) for a, i in zip(reversed_order, (40, 17, 5, 0)))


def test_draws_cover_the_configured_choices(photos):
    """Every photo, every rescaling that fits, every range factor, qualities across the band,
    all 8 transforms; a group of per_photo patches shares its photo."""
    ds = PhotoPatches(photos, "1.1-2", 6, jpeg_quality=(20, 95), per_photo=4)
    draws = [ds.draw(i) for i in range(400)]
    assert {d.name for d in draws} == {bytes(n) for n in ds.files}
    assert {d.factor for d in draws} == set(RANGE_FACTORS)
    assert {d.rescale for d in draws} == {1.0, 0.8, 0.6}
    qualities = [d.quality for d in draws]
    assert min(qualities) >= 20 and max(qualities) <= 95 and len(set(qualities)) > 40
    assert {d.k for d in draws} == set(range(8))
    assert all(len({d.name for d in draws[g:g + 4]}) == 1 for g in range(0, 400, 4))
    assert {PhotoPatches(photos, 1.2, 6).draw(i).factor for i in range(50)} == {1.2}   # an anchor
    assert {PhotoPatches(photos, 3, 6).draw(i).quality for i in range(50)} == {None}


def test_photos_too_small_for_a_patch_are_refused_with_the_size_needed(tmp_path):
    Image.fromarray(np.zeros((40, 40, 3), np.uint8)).save(tmp_path / "small.png")
    with pytest.raises(ValueError, match="too small.*76 px"):
        PhotoPatches(tmp_path, 4, 6)[0]


def test_rank_shares_are_contiguous_parts_of_one_global_batch():
    one = list(StepBatches(3, 6, 8))
    two = [list(StepBatches(3, 6, 8, rank=r, world=2)) for r in range(2)]
    four = [list(StepBatches(3, 6, 8, rank=r, world=4)) for r in range(4)]
    assert one[0] == list(range(24, 32)) and len(one) == 3
    for step in range(3):
        assert two[0][step] + two[1][step] == one[step]
        assert sum((four[r][step] for r in range(4)), []) == one[step]
    with pytest.raises(ValueError, match="does not split evenly over 3"):
        StepBatches(0, 6, 8, world=3)


# ----------------------------------------------------------------------------- streamed runs

def streamed(tmp: Path, **kw):
    return tiny_config(tmp, **{"stream": True, "workers": 0, "per_photo": 4, **kw})


def final(summary) -> dict[str, torch.Tensor]:
    return load_file(Path(summary["folder"]) / "snapshots" / "step-000006" / "model.safetensors")


def test_a_streamed_run_writes_its_folder_and_does_not_depend_on_the_workers(tmp_path):
    """The same weights with the batches made in this process or in 2 worker processes; the
    folder records the photos, not a patch count."""
    import json
    a = train(streamed(tmp_path / "a"), progress=False)
    b = train(streamed(tmp_path / "b", workers=2), progress=False)
    assert a["patches"] is None
    info = json.loads((Path(a["folder"]) / "history.json").read_text())
    assert info["photos"] == 2 and info["processes"] == 1 and info["config"]["stream"] is True
    wa, wb = final(a), final(b)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    c = train(streamed(tmp_path / "c", jpeg_quality=(30, 60)), progress=False)
    assert Path(c["folder"]).name == "residual-x3-jpeg"
    assert not all(torch.equal(wa[k], final(c)[k]) for k in wa)


def test_a_streamed_run_resumes_like_an_uninterrupted_one(tmp_path, monkeypatch):
    straight = train(streamed(tmp_path / "straight"), progress=False)
    cfg = streamed(tmp_path / "interrupted", workers=1)
    real_eval, calls = training.evaluate_luma, []

    def ctrl_c_on_third_evaluation(*args, **kw):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real_eval(*args, **kw)

    monkeypatch.setattr(training, "evaluate_luma", ctrl_c_on_third_evaluation)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False)
    monkeypatch.setattr(training, "evaluate_luma", real_eval)
    out = tmp_path / "interrupted" / "out" / "residual-x3"
    assert torch.load(out / "train_state.pt", weights_only=False)["step"] == 3
    resumed = train(replace(cfg, resume=True), progress=False)
    wa, wb = final(straight), final(resumed)
    assert all(torch.equal(wa[k], wb[k]) for k in wa)


def test_stream_needs_a_folder(tmp_path):
    with pytest.raises(ValueError, match="stream needs images"):
        train(replace(streamed(tmp_path), images=None), progress=False)
