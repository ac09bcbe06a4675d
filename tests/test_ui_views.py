"""ui.views: the study tab's views computed side by side, kept per file, shared between requests
(untrained seeded networks stand in; no Gradio server needed)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from srcnn import cancel
from srcnn.study import insight
from stand_ins import smooth_photo
from ui import views


def test_side_by_side_gives_the_same_view_as_one_after_the_other(fake_models):
    photo = smooth_photo()
    together, alone = views.compute_view(photo, 3), insight.inside_view(photo, 3)
    assert together.report.scores == alone.report.scores
    for name, st in together.report.stitched.items():
        assert np.array_equal(np.asarray(st.image()), np.asarray(alone.report.stitched[name].image()))
    assert {k: a.rms for k, a in together.adds.items()} == {k: a.rms for k, a in alone.adds.items()}
    assert together.sentences == alone.sentences


def test_the_check_reaches_the_second_thread(fake_models):
    """The other network's tiles call the caller's check: a request that goes stops both threads."""
    threads = set()

    def check():
        threads.add(threading.current_thread().name)

    with cancel.cancellable(check):
        views.compute_view(smooth_photo(), 3)
    assert any(name.startswith("insight") for name in threads) and threading.current_thread().name in threads


def test_view_of_file_is_kept_per_file_and_scale(tmp_path, fake_models):
    path = tmp_path / "photo.png"
    smooth_photo().save(path)
    first = views.view_of_file(path, 3)
    assert views.view_of_file(str(path), 3) is first                              # same upscaling reused
    copy = tmp_path / "copy.png"
    copy.write_bytes(path.read_bytes())
    assert views.view_of_file(copy, 3) is first                                   # keyed on the content
    smooth_photo(90, 120).save(path)                                              # changed file: recomputed
    again = views.view_of_file(path, 3)
    assert again is not first and again.prep.gt.size == (120, 90)
    views.forget_views()
    assert views.view_of_file(path, 3) is not again


def test_concurrent_calls_for_one_photo_compute_once_and_share_errors(tmp_path, fake_models, monkeypatch):
    path = tmp_path / "photo.png"
    smooth_photo(66, 80).save(path)
    calls, started, release = [], threading.Event(), threading.Event()
    real = views.compute_view

    def slow(img, scale, kind="residual", network="ours"):
        calls.append(scale)
        started.set()
        assert release.wait(10)
        if scale == 4:
            raise ValueError("refused for the test")
        return real(img, scale, kind, network=network)

    waiting = threading.Semaphore(0)

    seen: set = set()

    class CountedFuture(views.Future):           # a caller that found the computation pending
        def result(self, timeout=None):
            if (id(self), threading.get_ident()) not in seen:   # once per waiter (it polls)
                seen.add((id(self), threading.get_ident()))
                waiting.release()
            return super().result(timeout)

    monkeypatch.setattr(views, "compute_view", slow)
    monkeypatch.setattr(views, "Future", CountedFuture)
    for scale in (3, 4):
        started.clear()
        release.clear()
        results: list = [None] * 3

        def call(i: int) -> None:
            try:
                results[i] = views.view_of_file(path, scale)
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
        views.view_of_file(path, 4)
    assert calls.count(4) == 2


def test_a_waiter_computes_the_view_itself_when_the_first_caller_was_stopped(tmp_path, fake_models, monkeypatch):
    """Two visitors on one photo: the first closes the tab (its check raises); the second, which
    was waiting for that computation, gets the view anyway instead of the first one's error."""
    path = tmp_path / "photo.png"
    smooth_photo(66, 80).save(path)
    monkeypatch.setattr(views, "_VIEWS", type(views._VIEWS)())     # nothing kept from other tests
    started, go = threading.Event(), threading.Event()
    real = views.compute_view

    def gated(img, scale, kind="residual", network="ours"):
        started.set()
        assert go.wait(10)
        cancel.checkpoint()
        return real(img, scale, kind, network=network)

    class Gone(Exception):
        pass

    def first_check():
        raise Gone("the first client disconnected")

    monkeypatch.setattr(views, "compute_view", gated)
    results = {}

    def first():
        try:
            with cancel.cancellable(first_check):
                views.view_of_file(path, 3)
        except Gone as e:
            results["first"] = e

    def second():
        with cancel.cancellable(lambda: None):
            results["second"] = views.view_of_file(path, 3)

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


def test_when_one_half_fails_the_other_stops_with_it(fake_models, monkeypatch):
    """The two halves of a view run side by side; an error in one stops the other at its next
    check instead of letting it compute to the end (its thread ends with the request)."""
    import time
    ran_out = []

    def beside(plan):
        t0 = time.perf_counter()
        while time.perf_counter() - t0 < 10:
            cancel.checkpoint()
            time.sleep(0.01)
        ran_out.append(True)

    def fails(plan):
        time.sleep(0.1)
        raise ValueError("the stitching failed")

    monkeypatch.setattr(views, "view_networks_and_snapshots", beside)
    monkeypatch.setattr(views, "view_stitchings", fails)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="the stitching failed"):
        views.compute_view(smooth_photo(), 3)
    assert time.perf_counter() - t0 < 5 and not ran_out


def test_kept_views_are_bounded_by_their_size_in_bytes(tmp_path, fake_models, monkeypatch):
    views.forget_views()
    small, large = tmp_path / "small.png", tmp_path / "large.png"
    smooth_photo(60, 80).save(small)
    smooth_photo(150, 200).save(large)
    first = views.view_of_file(small, 3)
    size = views.approx_bytes(first)
    assert size >= first.prep.gt.width * first.prep.gt.height * 3 and views.kept_bytes() == size
    monkeypatch.setattr(views, "VIEWS_MAX_BYTES", int(size * 1.5))
    big = views.view_of_file(large, 3)                 # larger than the bound alone: not kept; the small one stays
    assert views.approx_bytes(big) > size * 1.5 and views.kept_bytes() == size
    assert views.view_of_file(large, 3) is not big      # computed again
    assert views.view_of_file(small, 3) is first
    smooth_photo(80, 60).save(small)                    # another view of about the same size: two are too many bytes
    other = views.view_of_file(small, 3)
    assert views.view_of_file(small, 3) is other and views.kept_bytes() == views.approx_bytes(other)
    views.forget_views()
    assert views.kept_bytes() == 0


def test_approx_bytes_counts_arrays_and_pictures_once():
    from PIL import Image
    base = np.zeros((100, 100), np.float32)
    img = Image.new("RGB", (10, 20))
    assert views.approx_bytes({"a": base, "b": [base[:10], (img, img)]}) == base.nbytes + 10 * 20 * 3
