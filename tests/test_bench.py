"""The benchmark runs and prints its tables (no timings are asserted: they vary run to run)."""

from __future__ import annotations

import re

import pytest

from srcnn.tooling import bench


@pytest.mark.slow   # ~10 s: it loads the model, exports it and times every path once
def test_bench_quick_prints_its_tables(capsys):
    assert bench.main(["--quick"]) == 0
    out = capsys.readouterr().out
    for heading in ("### Network and end to end", "### srcnn.compare against its two networks", "### Bicubic resize"):
        assert heading in out
    assert "| metrics |" in out and "| yardstick: ONNX Runtime, the two plain networks" in out
    ratio = re.search(r"Everything besides the networks / yardstick: \*\*([\d.]+)x\*\*", out)
    assert ratio and float(ratio.group(1)) > 0
    assert "ours / ORT" in out and "end to end / plain" in out
    row = next(line for line in out.splitlines() if line.startswith("| ") and "MP)" in line)
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert len(cells) == 10
    assert float(cells[-1]) < 1.0   # max difference to float32 PyTorch, in 8-bit levels


def test_peak_rss_child_reports_memory():
    mb, seconds = bench.peak_rss_mb("residual", 3, 8, 6, run=False)
    assert 10 < mb < 10_000 and seconds == 0.0
