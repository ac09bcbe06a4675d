"""tools/bench_app.py: it starts the real app, times real requests and prints every figure."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_app_prints_request_times(tmp_path):
    photo = tmp_path / "photo.png"
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 256, (120, 150, 3), dtype=np.uint8)).save(photo)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "tools.bench_app", "--photo", str(photo), "--no-browser"], cwd=ROOT,
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "photo photo.png (150x120), x3" in out.stdout
    for name in ("/compare, first", "/compare, repeat", "/inside_study, first", "/inside_study, repeat"):
        line = next(line for line in out.stdout.splitlines() if line.startswith(name))
        assert float(re.search(r"([\d.]+) s$", line).group(1)) > 0
    assert re.search(r"inside_view, first request: [\d.]+ s \(prepare [\d.]+ s", out.stdout)
    header = next(line for line in out.stdout.splitlines() if line.startswith("| request |"))
    for column in ("networks", "metrics", "PNG writing, waited for", "Gradio", "round trip"):
        assert f" {column} |" in header
    rows = [line for line in out.stdout.splitlines() if line.startswith("| /")]
    assert len(rows) == 4 and all(float(c) >= 0 for row in rows for c in row.strip("|").split("|")[1:])
