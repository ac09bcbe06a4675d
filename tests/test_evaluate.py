"""srcnn.tooling.evaluate: the CLI that writes the README's tables, and the shipped weights' figures."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from srcnn.tooling import evaluate

from srcnn import protocol
from srcnn.tooling.data import load_set
from srcnn.pipeline import apply_network, model_for

ROOT = Path(__file__).resolve().parent.parent


def readme_means() -> dict[tuple[str, int], dict[str, float]]:
    """The README's benchmark table (python -m srcnn evaluate --paper --means --markdown)."""
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        m = re.match(r"\| (Set5|Set14) \| x(\d) \| ([\d.]+) / [\d.]+ \([\d.]+ / [\d.]+\) \| ([\d.]+) / [\d.]+ \| "
                     r"([\d.]+) / [\d.]+ \|", line)
        if m:
            rows[(m[1], int(m[2]))] = {"bicubic": float(m[3]), "srcnn": float(m[4]), "residual": float(m[5])}
    return rows


def test_shipped_weights_reproduce_the_readmes_set5_x3_figures():
    want = readme_means()[("Set5", 3)]
    got = evaluate.mean_row(evaluate.evaluate(load_set("Set5"), 3, paper=True))
    for method in ("bicubic", "srcnn", "residual"):
        assert got.psnr[method] == pytest.approx(want[method], abs=0.01), method


def test_paper_rows_agree_with_a_direct_computation():
    """evaluate(paper=True) is srcnn.protocol applied image by image, with the published models."""
    images = {k: v for k, v in load_set("Set5").items() if k in ("bird_GT", "head_GT")}
    rows = evaluate.evaluate(images, 4, paper=True)
    for row, img in zip(rows, images.values()):
        x, gt = protocol.bicubic_pair(img, 4)
        for kind in ("srcnn", "residual"):
            out = protocol.round8(apply_network(model_for(kind, 4), x, tile=None))
            mse = np.mean(((out - gt) * 255.0)[4:-4, 4:-4].astype(np.float64) ** 2)
            assert row.psnr[kind] == pytest.approx(10 * np.log10(255 ** 2 / mse), abs=1e-6)


def test_cli_on_a_folder_prints_rows_means_and_progress(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(2):
        small = rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)
        Image.fromarray(small).resize((48, 36), Image.Resampling.BICUBIC).save(tmp_path / f"p{i}.png")
    assert evaluate.main([str(tmp_path), "--scale", "2", "--markdown"]) == 0
    out, err = capsys.readouterr()
    assert "images, x2: PSNR (dB) / SSIM, Y channel" in out and "app path" in out
    body = [line for line in out.splitlines() if line.startswith("| ")]
    assert [line.split(" | ")[0] for line in body[1:]] == ["| " + f"{tmp_path.name}/p0", f"| {tmp_path.name}/p1", "| mean"]
    assert "x2" in err                                   # the progress bar goes to stderr


def test_cli_means_beside_the_published_rows(capsys):
    assert evaluate.main(["--paper", "--means", "--scale", "4", "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "papers' protocol" in out and "Dong et al., TPAMI 2016" in out and err == ""
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith("Set")}
    assert "(28.42 / 0.8104)" in lines["Set5"] and "30.48" in lines["Set5"]
    assert "(26.00 / 0.7027)" in lines["Set14"] and "27.50" in lines["Set14"]


def test_cli_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        evaluate.main(["--help"])
    assert "default: [2, 3, 4]" in capsys.readouterr().out
