"""srcnn.tooling.figures: the study page's figures, printed, and written only when asked."""

from pathlib import Path

import pytest
from PIL import Image

from srcnn.tooling import figures

from srcnn.study import insight
from stand_ins import write_history


def test_cli_writes_pictures_and_updates_the_doc(tmp_path, fake_models, capsys):
    for kind in insight.KINDS:
        write_history(tmp_path / "ck" / f"{kind}-x3")
    doc = tmp_path / "study.md"
    doc.write_text(f"intro\n{figures.MARKERS[0]}\nold\n{figures.MARKERS[1]}\noutro\n")
    figures.main(["--example", "chelsea", "--scale", "3", "--out", str(tmp_path / "docs"),
                  "--root", str(tmp_path / "ck"), "--update", str(doc)])
    text = doc.read_text()
    assert text.startswith("intro\n") and text.endswith("outro\n") and "old" not in text
    assert "| original | 630x420 |" in text and "no training snapshots" in text
    assert Image.open(tmp_path / "docs" / "study_seams.png").width > 4 * 42 * 4


def test_cli_writes_nothing_unless_asked(tmp_path, fake_models, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    figures.main(["--example", "chelsea", "--scale", "3", "--root", str(tmp_path / "none")])
    assert "| exact |" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_the_study_page_holds_the_figures_block():
    """``--update`` alone rewrites docs/study.md: the block is there, once, in the tool's format."""
    page = Path(__file__).resolve().parent.parent / figures.DOC
    text = page.read_text()
    assert text.count(figures.MARKERS[0]) == 1 and text.count(figures.MARKERS[1]) == 1
    block = text.split(figures.MARKERS[0])[1].split(figures.MARKERS[1])[0]
    assert block.startswith("\nPhoto `chelsea` (450x300 ground truth), x3, residual model")
    assert "Reproduce: `python -m srcnn figures --example chelsea --scale 3 --out docs/`." in block
    assert "| stitching | output size | PSNR as compared naively |" in block


def test_update_alone_writes_the_study_page_and_refuses_a_page_without_markers(tmp_path, fake_models, monkeypatch,
                                                                               capsys):
    monkeypatch.chdir(tmp_path)
    page = tmp_path / figures.DOC
    page.parent.mkdir()
    page.write_text(f"{figures.MARKERS[0]}\n{figures.MARKERS[1]}\n")
    figures.main(["--example", "chelsea", "--scale", "3", "--root", str(tmp_path / "none"), "--update"])
    assert "| exact | 450x300 |" in page.read_text()
    page.write_text("no markers\n")
    with pytest.raises(SystemExit, match="must hold"):
        figures.main(["--example", "chelsea", "--scale", "3", "--root", str(tmp_path / "none"), "--update"])
    assert page.read_text() == "no markers\n"
