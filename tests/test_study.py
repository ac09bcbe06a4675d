"""The original study's stitching reproduced (srcnn.study) and the views built on it (srcnn.insight).

Untrained, seeded networks stand in for the shipped weights: the properties tested here are
about where pixels go, not how good they are. Images are small so the file runs in seconds.
"""

from __future__ import annotations

import importlib.util
import json
import threading

import numpy as np
import pytest
import torch
from hypothesis import given, settings, strategies
from PIL import Image

from srcnn import colormaps, figures, history, imaging, insight, pipeline, study
from srcnn.models import ResidualSRCNN, SRCNN
from srcnn.engine import torch_batch_fn
from srcnn.tiling import tiled_apply


def model(kind: str = "residual", seed: int = 0, body_std: float = 0.05) -> SRCNN:
    torch.manual_seed(seed)
    m = (ResidualSRCNN if kind == "residual" else SRCNN)()
    # body_std 0.05: a visible, non-trivial body; 1e-3 (the initialisation): residual ~ bicubic
    torch.nn.init.normal_(m.conv3.weight, std=body_std)
    return m.eval()


@pytest.fixture(scope="module")
def up() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.random((80, 101, 3)).astype(np.float32)   # nx = 4, ny = 5


@pytest.fixture(scope="module")
def stitched(up):
    m = model()
    return study.stitch_study(up, torch_batch_fn(m), m.radius)


@pytest.fixture()
def fake_models(monkeypatch):
    """pipeline.model_for returns seeded untrained models: no weights or Hub needed. The residual
    one adds little to bicubic, so its outputs resemble the ground truth (alignment is measurable)."""
    models = {"srcnn": model("srcnn", 0), "residual": model("residual", 1, body_std=2e-3)}
    monkeypatch.setattr(pipeline, "model_for", lambda kind, scale: models[kind])
    return models


def smooth_photo(h: int = 120, w: int = 150) -> Image.Image:
    yy, xx = np.mgrid[0:h, 0:w] / 10.0
    rgb = np.stack([np.sin(xx) * np.cos(yy * 0.7), np.sin(xx * 0.5 + yy), np.cos(xx * 0.3 - yy * 0.4)], axis=2)
    return Image.fromarray(np.uint8(np.clip(127.5 + 100 * rgb, 0, 255)), "RGB")


def test_patch_count_as_the_original_code():
    for h, w in [(33, 33), (46, 47), (80, 101), (300, 450)]:
        g = study.patch_grid(h, w)
        assert (g.nx, g.ny) == (len(range(0, h - 33 + 1, 14)), len(range(0, w - 33 + 1, 14)))
        assert g.label_size == 21
    assert (study.patch_grid(46, 47).nx, study.patch_grid(46, 47).ny) == (1, 2)
    with pytest.raises(ValueError, match="at least 33x33"):
        study.patch_grid(32, 100)


def test_merge_places_patch_idx_at_row_idx_div_ny_col_idx_mod_ny():
    g = study.patch_grid(60, 80)          # nx = 2, ny = 4
    outputs = np.arange(g.nx * g.ny, dtype=np.float32)[:, None, None] * np.ones((1, 21, 21), np.float32)
    merged = study.merge(outputs, g, "original")
    assert merged.shape == (21 * g.nx, 21 * g.ny)
    for idx in range(g.nx * g.ny):
        j, i = idx // g.ny, idx % g.ny
        assert np.all(merged[21 * j:21 * j + 21, 21 * i:21 * i + 21] == idx)
    assert study.merge(outputs, g, "overlap-removed").shape == (14 * g.nx, 14 * g.ny)


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


def test_every_study_pixel_is_the_exact_output_at_its_source(up, stitched):
    m = model()
    exact = tiled_apply(torch_batch_fn(m), imaging.luma(up), m.radius)
    for st in stitched.values():
        np.testing.assert_allclose(st.luma, exact[st.rows][:, st.cols], atol=1e-5)
    assert stitched["overlap-removed"].rows[0] == 6 and stitched["original"].rows[21] == 20


def test_fast_path_gives_the_literal_pixels(up, stitched):
    m = model()
    exact = tiled_apply(torch_batch_fn(m), imaging.luma(up), m.radius)
    fast = study.stitch_from_exact(study.stitch_exact(up, exact), m.radius)
    for name, st in stitched.items():
        np.testing.assert_allclose(fast[name].luma, st.luma, atol=1e-5)
        np.testing.assert_allclose(fast[name].color, st.color, atol=1e-5)
        assert fast[name].seams_x == st.seams_x and np.array_equal(fast[name].rows, st.rows)
        # the gathered 8-bit image and its Y: those of the literal colour, up to a rounding flip
        literal = np.asarray(st.image(), np.int16)
        assert fast[name].image().size == st.image().size
        assert np.abs(np.asarray(fast[name].image(), np.int16) - literal).max() <= 1
        np.testing.assert_allclose(fast[name].y8(), st.y8(), atol=1.01 / 255)


def test_gathered_pixels_equal_their_own_conversion(up):
    """A study stitching gathered from the exact one: its image and Y are what rounding and
    converting its own colour (and alpha) give, bit for bit, for colour with alpha and for gray."""
    m = model()
    exact_y = tiled_apply(torch_batch_fn(m), imaging.luma(up), m.radius)
    alpha = np.random.default_rng(1).random(exact_y.shape).astype(np.float32)
    gray = imaging.gray_from_luma(imaging.luma(up))
    for image, a in ((up, alpha), (gray, None)):
        for st in study.stitch_from_exact(study.stitch_exact(image, exact_y, a), m.radius).values():
            own = imaging.arrays_to_pil(st.color, None if a is None else np.clip(st.alpha, 0, 1))
            assert st.image().mode == own.mode
            assert np.array_equal(np.asarray(st.image()), np.asarray(own))
            assert np.array_equal(st.y8(), imaging.luma(imaging.pil_to_arrays(own)[0]))


def test_keep_4_reproduces_the_later_merge(up):
    m = model()
    st = study.stitch_study(up, torch_batch_fn(m), m.radius, keep=4)["overlap-removed"]
    assert st.rows[0] == 10
    with pytest.raises(ValueError, match="keep"):
        study.stitch_study(up, torch_batch_fn(m), m.radius, keep=8)


def test_upscale_dispatch_and_exact_path_unaffected(fake_models):
    lr = pipeline.degrade(smooth_photo(), 3)                           # 50x40 -> 150x120
    exact = pipeline.upscale(lr, 3, "residual")
    g = study.patch_grid(120, 150)
    orig = study.upscale_study(lr, 3, "residual", "original")
    fix = study.upscale_study(lr, 3, "srcnn", "overlap-removed")
    assert orig.size == (21 * g.ny, 21 * g.nx) and fix.size == (14 * g.ny, 14 * g.nx)
    assert orig.mode == fix.mode == "RGB"
    for mode in ("L", "RGBA"):                                          # gray stays gray, alpha kept
        assert study.upscale_study(lr.convert(mode), 3, "residual", "original").mode == mode
    with pytest.raises(ValueError, match="bicubic has none"):
        study.upscale_study(lr, 3, "bicubic", "original")
    with pytest.raises(ValueError, match="unknown study stitching"):
        study.upscale_study(lr, 3, "residual", "tiles")
    # the study view's exact output is the pipeline's
    prep = insight.prepare(smooth_photo(), 3)
    report = insight.inside_study(prep, "residual")
    assert np.array_equal(np.asarray(report.stitched["exact"].image()), np.asarray(exact))


def test_alignment_scores(fake_models):
    prep = insight.prepare(smooth_photo(), 3)
    sc = insight.inside_study(prep, "residual").scores
    assert sc["exact"].offset == 0 and sc["exact"].naive == sc["exact"].aligned
    assert sc["overlap-removed"].offset == 6 and sc["overlap-removed"].best_shift == (6, 6)
    # aligning removes the 6 px offset: what is left of the original's loss is the repetition
    assert sc["overlap-removed"].aligned > sc["overlap-removed"].naive
    for name in ("original", "overlap-removed"):
        assert sc[name].best >= max(sc[name].naive, sc[name].aligned)       # both shifts are searched
        assert sc[name].at_source >= sc[name].aligned - 1e-9
    assert sc["overlap-removed"].aligned > sc["original"].aligned + 3   # what repetition costs


def test_seam_crops_show_the_same_place(fake_models):
    prep = insight.prepare(smooth_photo(), 3)
    report = insight.inside_study(prep, "residual")
    crops = insight.seam_crops(report, prep, size=20, zoom=2, seam=(2, 2))
    assert list(crops) == ["ground truth", "exact", "original", "overlap-removed"]
    assert {c.size for c in crops.values()} == {(40, 40)}
    gt, ex = np.asarray(crops["ground truth"], float), np.asarray(crops["exact"], float)
    assert np.abs(gt - ex).mean() < np.abs(gt - np.asarray(crops["original"], float)).mean() + 5


def test_what_adds_map_and_rms():
    bic = np.full((20, 20), 0.5, np.float32)
    net = bic + np.float32(2 / 255)                                  # +2 levels everywhere
    a = insight.network_adds(net, bic, border=3, gain=8)
    assert a.rms == pytest.approx(2.0, abs=1e-4) and a.saturation == pytest.approx(127.5 / 8)
    cmap = colormaps.diverging(np.array([[0.0, 100.0, -100.0]]), gain=8)
    assert tuple(cmap[0, 0]) == (247, 247, 247)                       # zero is white
    assert cmap[0, 1, 0] > cmap[0, 1, 2] and cmap[0, 2, 2] > cmap[0, 2, 0]   # + red, - blue


@settings(max_examples=40, deadline=None)
@given(strategies.floats(-40, 40, allow_nan=False, width=32), strategies.floats(1, 16))
def test_diverging_table_is_within_one_level_of_the_linear_blend(level, gain):
    levels = np.array([[level, -level, 0.0]], np.float32)
    t = (np.clip(levels.astype(np.float64) * gain / 127.5, -1, 1) + 1) * 2      # 0..4 along the anchors
    i = np.minimum(t.astype(int), 3)
    f = (t - i)[..., None]
    exact = colormaps._ANCHORS[i] * (1 - f) + colormaps._ANCHORS[i + 1] * f
    assert np.abs(colormaps.diverging(levels, gain).astype(float) - exact).max() <= 1.0


def write_history(folder, steps=100, evals=((10, 2e-3, 2.5e-3), (100, 1e-3, 2.5e-3)), init_from=None):
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"step": s, "train_loss": l, "train_bicubic_loss": b, "val_psnr": 31.0 + s / 100,
             "val_bicubic_psnr": 30.5, "lr": 1e-3, "seconds": 1.0} for s, l, b in evals]
    config = {"steps": steps, "init_from": init_from}
    (folder / "history.json").write_text(json.dumps({"config": config, "history": rows}))


def test_history_as_psnr(tmp_path):
    assert history.loss_psnr(1e-3) == pytest.approx(30.0)
    assert history.loss_psnr(8e-4) == pytest.approx(30.969, abs=1e-3)
    for kind in insight.KINDS:
        write_history(tmp_path / f"{kind}-x3", init_from="checkpoints/residual-x2" if kind == "residual" else None)
    hists = {k: history.load_history(k, 3, tmp_path)[0] for k in insight.KINDS}
    assert hists["srcnn"].init_from is None and hists["residual"].init_from == "checkpoints/residual-x2"
    rows = history.history_rows(hists["residual"])
    assert rows[-1]["train_psnr"] == pytest.approx(30.0)
    assert rows[-1]["train_bicubic_psnr"] == pytest.approx(10 * np.log10(1 / 2.5e-3))
    assert rows[-1]["val_gain"] == pytest.approx(1.5)
    curve = history.gain_curve(hists)
    assert len(curve) == 4 and {r["model"] for r in curve} == {"srcnn", "residual"}
    text = insight.low_loss_sentences(hists)
    assert "30.00 dB" in text and "26.02 dB" in text and "+1.50 dB" in text


def test_missing_history_and_snapshots_said_plainly(tmp_path):
    hist, msg = history.load_history("srcnn", 3, tmp_path)
    assert hist is None and "no training history" in msg
    snaps, msg = history.list_snapshots("srcnn", 3, tmp_path)
    assert snaps == [] and "no training snapshots" in msg
    prep = insight.prepare(smooth_photo(60, 60), 3)
    results, msg = insight.early_vs_late(prep, "srcnn", root=tmp_path)
    assert results == [] and "no training snapshots" in msg
    assert "no training history" in insight.low_loss_sentences({"srcnn": None})
    (tmp_path / "srcnn-x3").mkdir()
    (tmp_path / "srcnn-x3" / "history.json").write_text("{\"history\": [")   # being written
    assert history.load_history("srcnn", 3, tmp_path)[0] is None


def test_early_vs_late_from_snapshots(tmp_path):
    folder = tmp_path / "residual-x3"
    write_history(folder)
    for step, seed in [(1, 0), (10, 1), (30, 2), (100, 3)]:
        model("residual", seed).save_pretrained(folder / "snapshots" / f"step-{step:06d}")
    (folder / "snapshots" / "step-000050").mkdir()                     # incomplete: skipped
    prep = insight.prepare(smooth_photo(), 3)
    results, msg = insight.early_vs_late(prep, "residual", box=(0, 0, 16, 16), fractions=(0.01, 0.1, 1.0),
                                         root=tmp_path, zoom=2)
    assert [r.step for r in results] == [1, 10, 100] and "50" not in msg
    assert [r.fraction for r in results] == [0.01, 0.1, 1.0]
    assert all(r.crop.size == (32, 32) and np.isfinite(r.psnr) for r in results)
    # a region gives the same pixels as the whole photo there
    part, _ = insight.early_vs_late(prep, "residual", box=(40, 30, 56, 46), root=tmp_path, zoom=1,
                                    region=(20, 10, 90, 70))
    whole, _ = insight.early_vs_late(prep, "residual", box=(40, 30, 56, 46), root=tmp_path, zoom=1)
    assert [np.array_equal(np.asarray(a.crop), np.asarray(b.crop)) for a, b in zip(part, whole)] == [True] * 3


def test_cli_writes_pictures_and_updates_the_doc(tmp_path, fake_models, capsys):
    for kind in insight.KINDS:
        write_history(tmp_path / "ck" / f"{kind}-x3")
    doc = tmp_path / "study.md"
    doc.write_text(f"intro\n{figures.MARKERS[0]}\nold\n{figures.MARKERS[1]}\noutro\n")
    figures.main(["--example", "chelsea", "--scale", "3", "--out", str(tmp_path / "docs"),
                  "--root", str(tmp_path / "ck"), "--update", str(doc)])
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert "| original | 630x420 |" in text and "no training snapshots" in text
    assert Image.open(tmp_path / "docs" / "study_seams.png").width > 4 * 42 * 4


def test_inside_view_computes_every_view(tmp_path, fake_models):
    write_history(tmp_path / "srcnn-x3")                                 # residual has nothing
    view = insight.inside_view(smooth_photo(), 3, root=tmp_path, region_size=64)
    assert set(view.report.scores) == {"exact", "original", "overlap-removed"}
    assert set(view.adds) == {"srcnn", "residual"} and view.region[2] - view.region[0] == 64
    assert view.histories["residual"] is None and "no training history" in view.history_notes["residual"]
    assert view.snapshots["srcnn"] == [] and "no training snapshots" in view.snapshot_notes["srcnn"]
    assert {r["model"] for r in view.curve} == {"srcnn"} and "Residual SRCNN: no training history" in view.sentences


def test_inside_view_of_file_is_cached_per_file_and_scale(tmp_path, fake_models):
    path = tmp_path / "photo.png"
    smooth_photo().save(path)
    first = insight.inside_view_of_file(path, 3)
    assert insight.inside_view_of_file(str(path), 3) is first                      # same upscaling reused
    copy = tmp_path / "copy.png"
    copy.write_bytes(path.read_bytes())
    assert insight.inside_view_of_file(copy, 3) is first                           # keyed on the content
    smooth_photo(90, 120).save(path)                                              # changed file: recomputed
    again = insight.inside_view_of_file(path, 3)
    assert again is not first and again.prep.gt.size == (120, 90)
    crops = insight.reference_crops(again, zoom=2)
    box = again.crop_box
    assert set(crops) == {"ground truth", "bicubic"}
    assert crops["bicubic"].size == ((box[2] - box[0]) * 2, (box[3] - box[1]) * 2)
    assert insight.bicubic_psnr(again.prep) > 20


def test_concurrent_calls_for_one_photo_compute_once_and_share_errors(tmp_path, fake_models, monkeypatch):
    path = tmp_path / "photo.png"
    smooth_photo(66, 80).save(path)
    calls, started, release = [], threading.Event(), threading.Event()
    real = insight.inside_view

    def slow(img, scale, kind="residual", network="ours", check=None):
        calls.append(scale)
        started.set()
        assert release.wait(10)
        if scale == 4:
            raise ValueError("refused for the test")
        return real(img, scale, kind, network=network)

    waiting = threading.Semaphore(0)

    class CountedFuture(insight.Future):         # a caller that found the computation pending
        def result(self, timeout=None):
            waiting.release()
            return super().result(timeout)

    monkeypatch.setattr(insight, "inside_view", slow)
    monkeypatch.setattr(insight, "Future", CountedFuture)
    for scale in (3, 4):
        started.clear()
        release.clear()
        results: list = [None] * 3

        def call(i: int) -> None:
            try:
                results[i] = insight.inside_view_of_file(path, scale)
            except ValueError as e:
                results[i] = e

        threads = [threading.Thread(target=call, args=(i,)) for i in range(3)]
        threads[0].start()
        assert started.wait(10)                      # the first is computing: the others arrive now
        for t in threads[1:]:
            t.start()
        assert waiting.acquire(timeout=10) and waiting.acquire(timeout=10)   # both wait on the first
        release.set()
        for t in threads:
            t.join(10)
        assert calls.count(scale) == 1               # computed once for all three
        if scale == 3:
            assert results[0] is results[1] is results[2] and results[0].prep.scale == 3
        else:
            assert all(isinstance(r, ValueError) and "refused" in str(r) for r in results)
    with pytest.raises(ValueError, match="refused"):   # an error is not kept: the next call tries again
        insight.inside_view_of_file(path, 4)
    assert calls.count(4) == 2


# --------------------------------------------------------------------------- the 2017 path with the port's checkpoint

ROOT = study.BUNDLED_DIR.parent
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
def butterfly_run(butterfly) -> study.OriginalRun:
    return study.run_original(butterfly, 3)


def test_bundled_original_checkpoint_is_the_npz_transposed(tmp_path):
    m = study.original_model()
    assert (m.f1, m.f2, m.f3, m.n1, m.n2, m.scale, m.kind) == (9, 1, 5, 64, 32, 2, "srcnn")
    state = m.state_dict()
    expected = npz_state()
    assert set(state) == set(expected)
    for name, tensor in expected.items():
        assert torch.equal(state[name], tensor), name
    # the converter rebuilds the bundled files byte for byte
    spec = importlib.util.spec_from_file_location("convert_original_checkpoint",
                                                  ROOT / "tools" / "convert_original_checkpoint.py")
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    tool.convert(NPZ, tmp_path / "out")
    bundled = study.BUNDLED_DIR / study.ORIGINAL_CHECKPOINT
    for f in ("config.json", "model.safetensors"):
        assert (tmp_path / "out" / f).read_bytes() == (bundled / f).read_bytes(), f
    assert json.loads((bundled / "config.json").read_text())["scale"] == 2
    assert "tegg89" in (bundled / "README.md").read_text()


@pytest.mark.parametrize("stride, side", [(14, 336), (21, 231)])
def test_run_original_is_the_2017_path(butterfly, butterfly_run, stride, side):
    run = butterfly_run if stride == 14 else study.run_original(butterfly, 3, stride=stride)
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
    assert study.byte_scale(x).tolist() == [[0, 51], [102, 255]] and np.array_equal(x, [[0.2, 0.3], [0.4, 0.7]])
    assert study.byte_scale(np.full((2, 2), 0.4)).tolist() == [[0, 0], [0, 0]]
    for bad in (0, 22):
        with pytest.raises(ValueError, match="stride"):
            study.patch_grid(100, 100, stride=bad)


def test_walk_from_the_saved_file_to_the_truth(butterfly, butterfly_run):
    from srcnn.metrics import psnr_y
    from srcnn.weights import load_from_folder
    shipped = {k: load_from_folder(k, study.BUNDLED_DIR / f"{k}-x3") for k in ("srcnn", "residual")}
    steps = study.original_walk(butterfly, 3, shipped=shipped, run=butterfly_run)
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
    reading = study.walk_reading(steps)
    assert "10.31 dB" in reading and f"removing the repeated bands {by['at-source'].delta:+.2f} dB" in reading
    table = study.walk_markdown(steps)
    assert table.count("\n") == len(steps) + 1 and "| saved file |" in table


def test_walk_cli_prints_the_table(fake_models, capsys):
    study.main([str(BUTTERFLY), "--scale", "3", "--stride", "21"])
    out = capsys.readouterr().out
    assert out.startswith("butterfly_GT.png, x3, stride 21") and "| before byte-scaling |" in out
    assert "| our residual SRCNN x3 |" in out and "The study's saved file scores" in out
