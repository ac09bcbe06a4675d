"""srcnn.tooling.plots: the validation-curve figure of docs/results.md, drawn from history.json files."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from srcnn.tooling import plots
from stand_ins import write_history


def test_curves_drawn_for_the_scales_that_have_a_history(tmp_path):
    write_history(tmp_path / "srcnn-x3")
    write_history(tmp_path / "residual-x2", init_from="checkpoints/residual-x3")
    out = plots.plot_validation_curves(tmp_path / "docs" / "curves.png", tmp_path)
    with Image.open(out) as img:
        wide = img.size
    write_history(tmp_path / "srcnn-x4")                                  # a third scale: a third panel
    with Image.open(plots.plot_validation_curves(tmp_path / "three.png", tmp_path)) as img:
        assert img.size[0] > wide[0] * 1.3 and img.size[1] == wide[1]


def test_no_history_at_all_is_an_error(tmp_path):
    (tmp_path / "srcnn-x3").mkdir()
    (tmp_path / "srcnn-x3" / "history.json").write_text("{")             # unreadable: skipped, like a missing one
    with pytest.raises(FileNotFoundError, match="history.json"):
        plots.plot_validation_curves(tmp_path / "curves.png", tmp_path)


def test_the_default_picture_is_the_one_the_results_page_shows(tmp_path, monkeypatch):
    root = Path(__file__).resolve().parent.parent
    assert f"]({Path(plots.OUT).name})" in (root / "docs" / "results.md").read_text()
    assert (root / plots.OUT).is_file()
    write_history(tmp_path / "ck" / "srcnn-x3")
    monkeypatch.chdir(tmp_path)
    plots.main(["--root", str(tmp_path / "ck")])
    assert (tmp_path / plots.OUT).is_file()
