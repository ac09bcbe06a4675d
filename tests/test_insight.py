"""srcnn.insight: what the 'Inside the study' tab shows, computed (untrained seeded networks stand in)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from srcnn import history

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

    def slow(img, scale, kind="residual", network="ours", check=None):   # noqa: ARG001
        calls.append(scale)
        started.set()
        assert release.wait(10)
        if scale == 4:
            raise ValueError("refused for the test")
        return real(img, scale, kind, network=network)

    waiting = threading.Semaphore(0)

    seen: set = set()

    class CountedFuture(insight.Future):         # a caller that found the computation pending
        def result(self, timeout=None):
            if (id(self), threading.get_ident()) not in seen:   # once per waiter (it polls)
                seen.add((id(self), threading.get_ident()))
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


def test_a_waiter_computes_the_view_itself_when_the_first_caller_was_stopped(tmp_path, fake_models, monkeypatch):
    """Two visitors on one photo: the first closes the tab (its check raises); the second, which
    was waiting for that computation, gets the view anyway instead of the first one's error."""
    path = tmp_path / "photo.png"
    smooth_photo(66, 80).save(path)
    monkeypatch.setattr(insight, "_VIEWS", type(insight._VIEWS)())     # nothing cached from other tests
    started, go = threading.Event(), threading.Event()
    real = insight.inside_view

    def gated(img, scale, kind="residual", network="ours", check=None):
        started.set()
        assert go.wait(10)
        check()
        return real(img, scale, kind, network=network)

    class Gone(Exception):
        pass

    def first_check():
        raise Gone("the first client disconnected")

    monkeypatch.setattr(insight, "inside_view", gated)
    results = {}

    def first():
        try:
            insight.inside_view_of_file(path, 3, check=first_check)
        except Gone as e:
            results["first"] = e

    def second():
        results["second"] = insight.inside_view_of_file(path, 3, check=lambda: None)

    t1 = threading.Thread(target=first)
    t1.start()
    assert started.wait(10)
    t2 = threading.Thread(target=second)
    t2.start()
    go.set()
    t1.join(10)
    t2.join(30)
    assert isinstance(results["first"], Gone)
    assert isinstance(results["second"], insight.InsideView)
