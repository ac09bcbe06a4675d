"""srcnn.tooling.jpeg_bands: the rule that picks a share per quality, and the bands it makes."""

from __future__ import annotations

from pathlib import Path

from srcnn import factors
from srcnn.tooling.jpeg_bands import bands, bands_table, choose, main


def test_the_best_mean_among_the_shares_that_keep_the_rule():
    gains = {0.0: {"a": 1.0, "b": 0.2}, 0.1: {"a": 1.2, "b": 0.1}, 0.2: {"a": 1.6, "b": -0.2}}
    assert choose(gains) == 0.1                          # 0.2 is better on average but loses on b
    assert choose(gains, tolerance=0.3) == 0.2
    assert choose({0.0: {"a": -0.5}, 0.1: {"a": -0.3}}) is None   # none keeps it: bicubic alone
    assert choose({0.2: {"a": 1.0}, 0.1: {"a": 1.0}}) == 0.1      # a tie: the smaller share
    assert choose({0.0: {"a": 1.0}, 0.1: {"a": 1.009}}) == 0.0    # within the margin: the smaller share
    assert choose({0.0: {"a": 1.0}, 0.1: {"a": 1.02}}) == 0.1


def test_each_grid_quality_starts_a_band_and_equal_neighbours_merge():
    top = factors.CLEAN_FROM_QUALITY - 1
    assert bands({30: 0.0, 50: 0.0, 80: 0.1, 90: 0.3}) == ((79, 0.0), (89, 0.1), (top, 0.3))
    assert bands({30: 0.0, 70: None, 50: 0.0}) == ((69, 0.0), (top, None))
    assert bands({60: 0.2}) == ((top, 0.2),)


def test_the_command_measures_a_small_grid(capsys):
    assert main(["--kinds", "residual", "--factors", "4", "--qualities", "90", "--shares", "0", "0.5"]) == 0
    out = capsys.readouterr().out
    assert "residual x4 q90: 0.0: +" in out and "0.5: " in out
    assert "('residual', 4): ((94, " in out


def test_the_results_page_shows_the_bands_that_serve():
    page = (Path(__file__).resolve().parent.parent / "docs" / "results.md").read_text()
    shown = "\n".join(line.strip() for line in page.splitlines())
    assert bands_table() in shown
    assert "| SRCNN x4 | 1-60: 0.0, 61-94: bicubic alone |" in bands_table({("srcnn", 4): ((60, 0.0), (94, None))})
