"""srcnn.figures: the README's study figures, printed, and written only when asked."""

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
