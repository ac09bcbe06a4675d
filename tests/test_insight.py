"""srcnn.study.insight: what the 'Inside the study' tab shows, computed (untrained seeded networks stand in)."""

from __future__ import annotations

import numpy as np
import pytest

from srcnn import cancel, history

from srcnn.study import insight
from stand_ins import model, smooth_photo, write_history


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


def test_inside_view_computes_every_view(tmp_path, fake_models):
    write_history(tmp_path / "srcnn-x3")                                 # residual has nothing
    view = insight.inside_view(smooth_photo(), 3, root=tmp_path, region_size=64)
    assert set(view.report.scores) == {"exact", "original", "overlap-removed"}
    assert set(view.adds) == {"srcnn", "residual"} and view.region[2] - view.region[0] == 64
    assert view.histories["residual"] is None and "no training history" in view.history_notes["residual"]
    assert view.snapshots["srcnn"] == [] and "no training snapshots" in view.snapshot_notes["srcnn"]
    assert {r["model"] for r in view.curve} == {"srcnn"} and "Residual SRCNN: no training history" in view.sentences
    crops = insight.reference_crops(view, zoom=2)
    box = view.crop_box
    assert set(crops) == {"ground truth", "bicubic"}
    assert crops["bicubic"].size == ((box[2] - box[0]) * 2, (box[3] - box[1]) * 2)
    assert insight.bicubic_psnr(view.prep) > 20


def test_inside_view_stops_when_its_check_raises(fake_models):
    class Stop(Exception):
        pass

    calls = []

    def check():
        calls.append(1)
        if len(calls) == 2:          # the first check passes, the next one stops the work
            raise Stop

    with pytest.raises(Stop), cancel.cancellable(check):
        insight.inside_view(smooth_photo(), 3)
    assert len(calls) == 2           # nothing ran on after it


def test_a_view_is_its_parts_put_together(tmp_path, fake_models):
    """inside_view is plan_view, then the two independent parts (in either order), then finish_view."""
    plan = insight.plan_view(smooth_photo(), 3, root=tmp_path, region_size=64)
    others = insight.view_networks_and_snapshots(plan)          # first this time: they do not depend on each other
    view = insight.finish_view(plan, insight.view_stitchings(plan), others)
    whole = insight.inside_view(smooth_photo(), 3, root=tmp_path, region_size=64)
    for name, sc in whole.report.scores.items():
        assert view.report.scores[name] == sc
        assert np.array_equal(np.asarray(view.report.stitched[name].image()),
                              np.asarray(whole.report.stitched[name].image()))
    assert {k: a.rms for k, a in view.adds.items()} == {k: a.rms for k, a in whole.adds.items()}
    assert list(view.seconds)[0] == "prepare"
    assert {"stitchings", "other network", "snapshots", "adds", "total"} <= set(view.seconds)
    with pytest.raises(ValueError, match="network must be one of"):
        insight.plan_view(smooth_photo(), 3, network="vdsr")
