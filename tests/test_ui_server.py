"""ui.server: lanes, cancellation checks, temp-file sweeping (no Gradio server needed)."""

from __future__ import annotations

import os
import threading
import time

import pytest

from srcnn import cancel
from ui import server


def test_small_jobs_do_not_wait_behind_big_ones():
    big = server.SMALL_JOB_PIXELS * 4
    started = threading.Event()
    release = threading.Event()

    def hold_big_lane():
        with server.lane(big):
            started.set()
            release.wait(10)

    holder = threading.Thread(target=hold_big_lane)
    holder.start()
    started.wait(5)
    try:
        t0 = time.perf_counter()
        with server.lane(300 * 300):         # the small lane is free: no wait
            waited = time.perf_counter() - t0
        assert waited < 0.05
        got_big = threading.Event()

        def second_big():
            with server.lane(big):
                got_big.set()

        other = threading.Thread(target=second_big)
        other.start()
        assert not got_big.wait(0.3)         # big jobs go one at a time
    finally:
        release.set()
        holder.join()
    other.join(5)
    assert got_big.is_set()
    assert server.lane_of(server.SMALL_JOB_PIXELS) == "small" and server.lane_of(big) == "big"
    assert sum(server.LANES.values()) == 2   # heavy computations at once: the 2 vCPUs


def test_a_small_job_borrows_the_big_lane_while_it_is_free():
    inside = threading.Barrier(2, timeout=5)

    def small():
        with server.lane(300 * 300):
            inside.wait()                    # both small jobs are computing at the same time

    jobs = [threading.Thread(target=small) for _ in range(2)]
    for j in jobs:
        j.start()
    for j in jobs:
        j.join(10)
    assert not inside.broken and server.active() == 0


def test_check_stops_work_when_shutting_down(monkeypatch):
    monkeypatch.setattr(server, "_shutting_down", threading.Event())
    server.check()                             # outside a Gradio event and running: nothing
    assert server.client_gone() is False
    with server.lane(10):                      # a lane makes check the srcnn code's cancellation check
        cancel.checkpoint()                    # running: nothing
        server.begin_shutdown()
        with pytest.raises(server.Stopped, match="restarting"):
            cancel.checkpoint()
    cancel.checkpoint()                        # outside the lane: no check
    with pytest.raises(server.Stopped):        # a job waiting for its lane stops too
        with server.lane(10):
            pass


def test_sweep_removes_old_files_and_empty_folders(tmp_path):
    old = tmp_path / "srcnn" / "k1" / "image.png"
    new = tmp_path / "srcnn" / "k2" / "image.png"
    upload = tmp_path / "abc123" / "photo.jpg"
    for p in (old, new, upload):
        p.parent.mkdir(parents=True)
        p.write_bytes(b"x" * 100)
    now = time.time()
    os.utime(old, (now - 1000, now - 1000))
    os.utime(upload, (now - 1000, now - 1000))
    assert server.folder_size(tmp_path) == (3, 300)
    assert server.sweep(tmp_path, max_age_s=900, now=now) == (2, 200)
    assert new.is_file() and not old.exists() and not upload.exists()
    assert not old.parent.exists() and not upload.parent.exists()
    assert server.folder_size(tmp_path) == (1, 100)


def test_a_store_sweeps_its_own_folder_and_removes_it_alone(tmp_path):
    """Two stores in one process: each one's sweeper and cleanup reach its own folder only."""
    a, b = (server.TempStore(tmp_path / f"{server.INSTANCE_PREFIX}{n}", tmp_path) for n in ("a", "b"))
    old = time.time() - 1000
    for s in (a, b):
        for name in ("old.png", "kept.png"):
            (s.folder / "k").mkdir(parents=True, exist_ok=True)
            (s.folder / "k" / name).write_bytes(name.encode())
            os.utime(s.folder / "k" / name, (old, old))
    a.protect([a.folder / "k" / "kept.png"])
    sweeper = a.start_sweeper(max_age_s=60, every_s=0.05)
    deadline = time.monotonic() + 10
    while (a.folder / "k" / "old.png").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not (a.folder / "k" / "old.png").exists() and (a.folder / "k" / "kept.png").is_file()
    assert (b.folder / "k" / "old.png").is_file()             # the other store's files: untouched
    a.cleanup()
    assert not sweeper.is_alive() and not a.folder.exists() and b.folder.is_dir()


def test_the_serving_code_finds_the_activated_store():
    assert server.store() is server.active_store() is not None      # tests/conftest.py activated it
    assert server.upload_folder() == server.store().folder == server.make_guard().budget.folder()
