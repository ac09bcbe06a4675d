"""tools/bench_training.py: the generated photo collections it measures on, and its /proc sampling."""

from __future__ import annotations

import os
import subprocess
import sys

from PIL import Image

from srcnn.tooling.stream import find_photos
from tools.bench_training import _tree, make_photos, sample


def test_generated_photos_are_nested_varied_and_made_once(tmp_path):
    folder = make_photos(tmp_path / "photos", 12)
    names = [bytes(n).decode() for n in find_photos(folder)]
    assert len(names) == 12 and names[0] == "00/0/photo-00000.png" and "00/1/photo-00011.jpg" in names
    sizes = {Image.open(folder / n).size for n in names}
    assert len(sizes) > 6 and all(320 <= min(s) and max(s) <= 720 for s in sizes)
    before = {n: (folder / n).stat().st_mtime_ns for n in names}
    make_photos(folder, 12)                                   # already there: kept as they are
    assert all((folder / n).stat().st_mtime_ns == t for n, t in before.items())


def test_the_sampler_sees_the_child_processes(tmp_path):
    code = ("import subprocess, sys, time; "
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(2)']); "
            "time.sleep(1); print(p.pid); p.wait()")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    result = sample(proc, tmp_path / "never", every=0.05)
    assert result["process_tree"] == 2 and result["peak_rss_mb"] > 0 and result["history_seconds"] is None
    assert _tree(os.getpid())[0] == os.getpid()
