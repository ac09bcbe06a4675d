"""The original study's path reproduced (srcnn.study): its stitchings, its own network, the walk.

Untrained, seeded networks stand in for the shipped weights: the properties tested here are
about where pixels go, not how good they are. Images are small so the file runs in seconds.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
import torch
from PIL import Image

from srcnn import imaging, pipeline

from srcnn.study import insight, original, stitching, walk
from stand_ins import model, smooth_photo
from srcnn.engine import torch_batch_fn
from srcnn.tiling import tiled_apply




@pytest.fixture(scope="module")
def planes() -> np.ndarray:
    """Bicubic planes as srcnn.pipeline.bicubic_planes lays them out (YCbCr, Y in channel 0)."""
    rng = np.random.default_rng(1)
    return imaging.rgb_to_ycbcr(rng.random((80, 101, 3)).astype(np.float32))   # nx = 4, ny = 5


@pytest.fixture(scope="module")
def stitched(planes):
    m = model()
    return stitching.stitch_study(planes, torch_batch_fn(m), m.radius)






def test_patch_count_as_the_original_code():
    for h, w in [(33, 33), (46, 47), (80, 101), (300, 450)]:
        g = stitching.patch_grid(h, w)
        assert (g.nx, g.ny) == (len(range(0, h - 33 + 1, 14)), len(range(0, w - 33 + 1, 14)))
        assert g.label_size == 21
    assert (stitching.patch_grid(46, 47).nx, stitching.patch_grid(46, 47).ny) == (1, 2)
    with pytest.raises(ValueError, match="at least 33x33"):
        stitching.patch_grid(32, 100)


def test_merge_places_patch_idx_at_row_idx_div_ny_col_idx_mod_ny():
    g = stitching.patch_grid(60, 80)          # nx = 2, ny = 4
    outputs = np.arange(g.nx * g.ny, dtype=np.float32)[:, None, None] * np.ones((1, 21, 21), np.float32)
    merged = stitching.merge(outputs, g, "original")
    assert merged.shape == (21 * g.nx, 21 * g.ny)
    for idx in range(g.nx * g.ny):
        j, i = idx // g.ny, idx % g.ny
        assert np.all(merged[21 * j:21 * j + 21, 21 * i:21 * i + 21] == idx)
    assert stitching.merge(outputs, g, "overlap-removed").shape == (14 * g.nx, 14 * g.ny)


def test_original_repeats_7px_bands_at_every_seam(stitched):
    o = stitched["original"]
    g = o.grid
    assert o.luma.shape == (21 * g.nx, 21 * g.ny) and o.color.shape == (21 * g.nx, 21 * g.ny, 3)
    for k in range(g.ny - 1):
        np.testing.assert_allclose(o.luma[:, 21 * k + 14:21 * k + 21], o.luma[:, 21 * k + 21:21 * k + 28], atol=1e-6)
    for k in range(g.nx - 1):
        np.testing.assert_allclose(o.luma[21 * k + 14:21 * k + 21], o.luma[21 * k + 21:21 * k + 28], atol=1e-6)
    assert o.seams_x == (21, 42, 63, 84) and o.seams_y == (21, 42, 63)
    # chroma is taken from the same image positions, so it repeats too
    np.testing.assert_allclose(o.color[:, 14:21], o.color[:, 21:28], atol=1e-5)


def test_overlap_removed_has_no_repeated_bands(stitched):
    o = stitched["overlap-removed"]
    g = o.grid
    assert o.luma.shape == (14 * g.nx, 14 * g.ny)
    for k in range(1, g.ny):
        assert np.abs(o.luma[:, 14 * k - 7:14 * k] - o.luma[:, 14 * k:14 * k + 7]).max() > 1e-3
    assert len(set(o.rows.tolist())) == len(o.rows) and np.all(np.diff(o.cols) == 1)


def test_every_study_pixel_is_the_exact_output_at_its_source(planes, stitched):
    m = model()
    exact = tiled_apply(torch_batch_fn(m), planes[:, :, 0], m.radius)
    for st in stitched.values():
        np.testing.assert_allclose(st.luma, exact[st.rows][:, st.cols], atol=1e-5)
    assert stitched["overlap-removed"].rows[0] == 6 and stitched["original"].rows[21] == 20


def test_fast_path_gives_the_literal_pixels(planes, stitched):
    m = model()
    exact = tiled_apply(torch_batch_fn(m), planes[:, :, 0], m.radius)
    fast = stitching.stitch_from_exact(stitching.stitch_exact(planes, exact), m.radius)
    for name, st in stitched.items():
        np.testing.assert_allclose(fast[name].luma, st.luma, atol=1e-5)
        np.testing.assert_allclose(fast[name].color, st.color, atol=1e-5)
        assert fast[name].seams_x == st.seams_x and np.array_equal(fast[name].rows, st.rows)
        # the gathered 8-bit image and its Y: those of the literal colour, up to a rounding flip
        literal = np.asarray(st.image(), np.int16)
        assert fast[name].image().size == st.image().size
        assert np.abs(np.asarray(fast[name].image(), np.int16) - literal).max() <= 1
        np.testing.assert_allclose(fast[name].y8(), st.y8(), atol=1.01 / 255)


def test_gathered_pixels_equal_their_own_conversion(planes):
    """A study stitching gathered from the exact one: its image and Y are what rounding and
    converting its own colour (and alpha) give, bit for bit, for colour with alpha and for gray."""
    m = model()
    exact_y = tiled_apply(torch_batch_fn(m), planes[:, :, 0], m.radius)
    alpha = np.random.default_rng(1).random(exact_y.shape).astype(np.float32)
    for image, a in ((planes, alpha), (planes[:, :, :1], None)):          # colour, then gray
        for st in stitching.stitch_from_exact(stitching.stitch_exact(image, exact_y, a), m.radius).values():
            own = imaging.arrays_to_pil(st.color, None if a is None else np.clip(st.alpha, 0, 1))
            assert st.image().mode == own.mode
            assert np.array_equal(np.asarray(st.image()), np.asarray(own))
            assert np.array_equal(st.y8(), imaging.luma(imaging.pil_to_arrays(own)[0]))


def test_keep_4_reproduces_the_later_merge(planes):
    m = model()
    st = stitching.stitch_study(planes, torch_batch_fn(m), m.radius, keep=4)["overlap-removed"]
    assert st.rows[0] == 10
    with pytest.raises(ValueError, match="keep"):
        stitching.stitch_study(planes, torch_batch_fn(m), m.radius, keep=8)


def test_upscale_dispatch_and_exact_path_unaffected(fake_models):
    lr = pipeline.degrade(smooth_photo(), 3)                           # 50x40 -> 150x120
    exact = pipeline.upscale(lr, 3, "residual")
    g = stitching.patch_grid(120, 150)
    orig = stitching.upscale_study(lr, 3, "residual", "original")
    fix = stitching.upscale_study(lr, 3, "srcnn", "overlap-removed")
    assert orig.size == (21 * g.ny, 21 * g.nx) and fix.size == (14 * g.ny, 14 * g.nx)
    assert orig.mode == fix.mode == "RGB"
    # one recipe: each pixel of the study's path is srcnn.upscale's pixel it was computed for
    # (PyTorch on patches there, the fast engine on tiles here: float noise, a rounding flip at most)
    theirs, ours = np.asarray(fix, np.int16), np.asarray(pipeline.upscale(lr, 3, "srcnn"), np.int16)
    assert np.abs(theirs - ours[6:6 + fix.height, 6:6 + fix.width]).max() <= 1
    for mode in ("L", "RGBA"):                                          # gray stays gray, alpha kept
        assert stitching.upscale_study(lr.convert(mode), 3, "residual", "original").mode == mode
    with pytest.raises(ValueError, match="bicubic has none"):
        stitching.upscale_study(lr, 3, "bicubic", "original")
    with pytest.raises(ValueError, match="unknown study stitching"):
        stitching.upscale_study(lr, 3, "residual", "tiles")
    # the study view's exact output is the pipeline's
    prep = insight.prepare(smooth_photo(), 3)
    report = insight.inside_study(prep, "residual")
    assert np.array_equal(np.asarray(report.stitched["exact"].image()), np.asarray(exact))


# --------------------------------------------------------------------------- the 2017 path with the port's checkpoint

ROOT = original.BUNDLED_DIR.parent
BUTTERFLY = ROOT / "data" / "Set5" / "butterfly_GT.png"
NPZ = ROOT / "tools" / "original-2018-weights.npz"


def npz_state() -> dict[str, torch.Tensor]:
    """The TensorFlow tensors of tools/original-2018-weights.npz, kernels HWIO -> OIHW."""
    with np.load(NPZ) as f:
        names = {"w1": "conv1.weight", "b1": "conv1.bias", "w2": "conv2.weight", "b2": "conv2.bias",
                 "w3": "conv3.weight", "b3": "conv3.bias"}
        return {p: torch.from_numpy(f[k].transpose(3, 2, 0, 1).copy() if f[k].ndim == 4 else f[k].copy())
                for k, p in names.items()}


def literal_2017_path(img: Image.Image, scale: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
    """The port's test path written out from the original-study README's facts, independently of
    srcnn.study: (merged float picture, saved uint8 picture)."""
    from scipy.ndimage import zoom
    label = np.asarray(img.convert("YCbCr").convert("F"), np.float64) / 255.0
    h, w = label.shape
    label = label[:h - h % scale, :w - w % scale]
    blurred = zoom(zoom(label, 1 / scale, prefilter=False), scale, prefilter=False)
    h, w = blurred.shape
    xs, ys = range(0, h - 33 + 1, stride), range(0, w - 33 + 1, stride)
    patches = np.stack([blurred[x:x + 33, y:y + 33] for x in xs for y in ys]).astype(np.float32)
    state = npz_state()
    with torch.no_grad():
        t = torch.from_numpy(patches)[:, None]
        t = torch.relu(torch.nn.functional.conv2d(t, state["conv1.weight"], state["conv1.bias"]))
        t = torch.relu(torch.nn.functional.conv2d(t, state["conv2.weight"], state["conv2.bias"]))
        out = torch.nn.functional.conv2d(t, state["conv3.weight"], state["conv3.bias"])[:, 0].numpy()
    nx, ny = len(xs), len(ys)
    merged = np.zeros((21 * nx, 21 * ny))
    for idx, block in enumerate(out):
        merged[21 * (idx // ny):21 * (idx // ny) + 21, 21 * (idx % ny):21 * (idx % ny) + 21] = block
    lo, hi = merged.min(), merged.max()
    saved = (np.clip((merged - lo) * (255.0 / (hi - lo)), 0, 255) + 0.5).astype(np.uint8)
    return merged, saved


@pytest.fixture(scope="module")
def butterfly() -> Image.Image:
    with Image.open(BUTTERFLY) as img:
        img.load()
        return img


@pytest.fixture(scope="module")
def butterfly_run(butterfly) -> original.OriginalRun:
    return original.run_original(butterfly, 3)


def test_bundled_original_checkpoint_is_the_npz_transposed(tmp_path):
    m = original.original_model()
    assert (m.f1, m.f2, m.f3, m.n1, m.n2, m.scale, m.kind) == (9, 1, 5, 64, 32, 2, "srcnn")
    state = m.weights                       # the runtime form's arrays (srcnn.models.Network)
    expected = npz_state()
    assert set(state) == set(expected)
    for name, tensor in expected.items():
        assert np.array_equal(state[name], tensor.numpy()), name
    # the converter rebuilds the bundled files byte for byte
    spec = importlib.util.spec_from_file_location("convert_original_checkpoint",
                                                  ROOT / "tools" / "convert_original_checkpoint.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.convert(NPZ, tmp_path / "out")
    bundled = original.BUNDLED_DIR / original.ORIGINAL_CHECKPOINT
    for f in ("config.json", "model.safetensors"):
        assert (tmp_path / "out" / f).read_bytes() == (bundled / f).read_bytes(), f
    assert json.loads((bundled / "config.json").read_text())["scale"] == 2
    assert "tegg89" in (bundled / "README.md").read_text()


@pytest.mark.parametrize("stride, side", [(14, 336), (21, 231)])
def test_run_original_is_the_2017_path(butterfly, butterfly_run, stride, side):
    run = butterfly_run if stride == 14 else original.run_original(butterfly, 3, stride=stride)
    merged, saved = literal_2017_path(butterfly, 3, stride)
    assert run.saved.shape == run.merged.shape == (side, side) and run.saved.dtype == np.uint8
    assert run.luma.shape == run.blurred.shape == (255, 255) and run.grid.stride == stride
    np.testing.assert_allclose(run.merged, merged, atol=1e-5)
    assert run.saved.min() == 0 and run.saved.max() == 255
    lo, hi = float(run.merged.min()), float(run.merged.max())
    own = (np.clip((run.merged.astype(np.float64) - lo) * (255.0 / (hi - lo)), 0, 255) + 0.5).astype(np.uint8)
    assert np.array_equal(run.saved, own)
    assert np.abs(run.saved.astype(int) - saved).max() <= 1         # float32 vs the test's own convolutions


def test_run_original_repeats_the_seam_bands_exactly(butterfly_run):
    m, g = butterfly_run.merged, butterfly_run.grid
    assert g.nx == g.ny == 16
    for j in range(g.nx - 1):   # output rows 21 j + 14 .. 20 and 21 (j + 1) + 0 .. 6: the same image rows
        assert np.array_equal(m[21 * j + 14:21 * j + 21], m[21 * (j + 1):21 * (j + 1) + 7]), j
        assert np.array_equal(m[:, 21 * j + 14:21 * j + 21], m[:, 21 * (j + 1):21 * (j + 1) + 7]), j
    assert not np.array_equal(m[:7], m[21:28])


def test_byte_scale_and_stride_checks():
    x = np.array([[0.2, 0.3], [0.4, 0.7]])
    assert original.byte_scale(x).tolist() == [[0, 51], [102, 255]] and np.array_equal(x, [[0.2, 0.3], [0.4, 0.7]])
    assert original.byte_scale(np.full((2, 2), 0.4)).tolist() == [[0, 0], [0, 0]]
    for bad in (0, 22):
        with pytest.raises(ValueError, match="stride"):
            stitching.patch_grid(100, 100, stride=bad)


def test_walk_from_the_saved_file_to_the_truth(butterfly, butterfly_run):
    from srcnn.metrics import psnr_y
    from srcnn.weights import load_from_folder
    shipped = {k: load_from_folder(k, original.BUNDLED_DIR / f"{k}-x3") for k in ("srcnn", "residual")}
    steps = walk.original_walk(butterfly, 3, shipped=shipped, run=butterfly_run)
    assert [s.key for s in steps] == ["saved", "float", "aligned", "at-source", "exact", "bt601",
                                      "bicubic-input", "bicubic", "srcnn", "residual"]
    truth = imaging.luma(imaging.pil_to_arrays(butterfly)[0])[:255, :255].astype(np.float64)
    as_y = lambda p: 16 / 255 + 219 / 255 * np.asarray(p, np.float64)   # noqa: E731
    by = {s.key: s for s in steps}
    # the pictures, rebuilt here from the run
    np.testing.assert_allclose(by["saved"].picture, as_y(butterfly_run.saved[:255, :255] / 255))
    np.testing.assert_allclose(by["float"].picture, as_y(butterfly_run.merged[:255, :255]))
    np.testing.assert_allclose(by["aligned"].picture, as_y(butterfly_run.merged[:249, :249]))
    np.testing.assert_array_equal(by["aligned"].truth, truth[6:, 6:])
    assert by["at-source"].picture.shape == (224, 224) and by["at-source"].border == 0
    np.testing.assert_array_equal(by["at-source"].truth, truth[6:230, 6:230])
    # valid convolutions: the exact picture is the patches' output wherever both exist
    np.testing.assert_allclose(by["exact"].picture[6:230, 6:230], by["at-source"].picture, atol=1e-5)
    for s in steps:
        assert s.truth.shape == s.picture.shape and s.border == (0 if s.key == "at-source" else 3)
        b = s.border
        a, t = (x[b:x.shape[0] - b, b:x.shape[1] - b] * 255 for x in (s.picture, s.truth))
        assert s.psnr == pytest.approx(10 * np.log10(255 ** 2 / np.mean((a - t) ** 2)), abs=1e-9), s.key
        assert s.psnr == psnr_y(s.picture, s.truth, s.border)
    np.testing.assert_array_equal(by["saved"].truth, truth)
    # the README's figures, and the saved file as the worst row
    assert round(by["saved"].psnr, 2) == 10.31 and round(by["float"].psnr, 2) == 11.26
    assert by["saved"].psnr == min(s.psnr for s in steps)
    assert steps[0].delta is None
    assert all(s.delta == pytest.approx(s.psnr - p.psnr) for p, s in zip(steps, steps[1:]))
    reading = walk.walk_reading(steps)
    assert "10.31 dB" in reading and f"removing the repeated bands {by['at-source'].delta:+.2f} dB" in reading
    table = walk.walk_markdown(steps)
    assert table.count("\n") == len(steps) + 1 and "| saved file |" in table


def test_walk_cli_prints_the_table(fake_models, capsys):
    walk.main([str(BUTTERFLY), "--scale", "3", "--stride", "21"])
    out = capsys.readouterr().out
    assert out.startswith("butterfly_GT.png, x3, stride 21") and "| before the save |" in out
    assert "| our residual SRCNN x3 |" in out and "The study's saved file scores" in out
