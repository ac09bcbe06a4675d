"""ui.budget: the folder's cap, one client's upload rate, least recently used files first."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from ui.budget import MB, BudgetSettings, DiskBudget, Refused


def stored(folder: Path, name: str, size: int, age_s: float) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x" * size)
    t = time.time() - age_s
    os.utime(path, (t, t))
    return path


def budget(tmp_path: Path, **settings) -> DiskBudget:
    base = dict(cap_bytes=10 * MB, headroom_bytes=2 * MB, rate_bytes_per_s=1 * MB, burst_bytes=5 * MB)
    return DiskBudget(lambda: tmp_path, BudgetSettings(**{**base, **settings}))


def test_one_client_may_send_its_burst_then_waits_for_the_rate(tmp_path):
    now = [0.0]
    b = budget(tmp_path)
    b.clock = lambda: now[0]
    b.release(b.reserve("a", 3 * MB))
    b.release(b.reserve("a", 2 * MB))
    with pytest.raises(Refused) as e:
        b.reserve("a", 2 * MB)
    assert e.value.status == 429 and e.value.retry_after == 2 and "a minute" in e.value.message
    b.release(b.reserve("b", 2 * MB))                          # another client has its own
    now[0] = 2.0                                               # 2 s at 1 MB/s: 2 MB back
    b.release(b.reserve("a", 2 * MB))


def test_an_upload_larger_than_one_burst_is_413(tmp_path):
    with pytest.raises(Refused) as e:
        budget(tmp_path).reserve("a", 6 * MB)
    assert e.value.status == 413 and "6.0 MB" in e.value.message


def test_room_is_made_from_the_least_recently_used_files_not_held_or_written(tmp_path):
    oldest = stored(tmp_path, "u1/old.png", 3 * MB, 300)
    held = stored(tmp_path, "u2/held.png", 3 * MB, 400)       # older, but a running request holds it
    newer = stored(tmp_path, "u3/new.png", 1 * MB, 100)
    writing = stored(tmp_path, "srcnn/k/x.png.abc.tmp", 1 * MB, 500)   # a result being written
    b = budget(tmp_path, burst_bytes=8 * MB)
    b.held = lambda: [held]
    r = b.reserve("a", 2 * MB)                                # 8 + 2 > 10 - 2: 2 MB to free, the oldest goes
    assert not oldest.exists() and held.exists() and newer.exists() and writing.exists()
    assert not oldest.parent.exists() and b.evicted_files == 1
    assert b.usage() == 5 * MB + 2 * MB                       # what is stored, and the reservation
    with pytest.raises(Refused) as e:                         # nothing else may go: no room
        b.reserve("b", 3 * MB)
    assert e.value.status == 429 and "full" in e.value.message and newer.exists()   # removed for nothing: no
    b.release(r)


def test_trim_keeps_the_folder_within_its_cap(tmp_path):
    stored(tmp_path, "a/1.png", 6 * MB, 200)
    recent = stored(tmp_path, "b/2.png", 6 * MB, 10)
    b = budget(tmp_path)
    assert b.trim() == 6 * MB and recent.exists() and b.usage() == 6 * MB
    assert b.trim() == 0


def test_settings_come_from_the_environment():
    s = BudgetSettings.from_env({"SRCNN_TEMP_MAX_MB": "500", "SRCNN_UPLOAD_MB_PER_MIN": "60"})
    assert s.cap_bytes == 500 * MB and s.burst_bytes == 60 * MB and s.rate_bytes_per_s == MB
    assert s.upload_room == 500 * MB - 125 * MB               # a quarter of a small cap for results
    with pytest.raises(ValueError):
        BudgetSettings.from_env({"SRCNN_TEMP_MAX_MB": "0"})
