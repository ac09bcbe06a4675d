"""srcnn.tooling.evaluate: the CLI that writes the README's tables, and the shipped weights' figures."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from srcnn.imaging import imresize
from srcnn.tooling import evaluate
from srcnn.tooling.data import load_set
from srcnn.weights import BUNDLED_DIR, load_from_folder

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


def test_paper_rows_agree_with_an_independent_computation():
    """evaluate(paper=True) against the protocol written out here: Y by MATLAB's formula, rounded;
    modcrop; bicubic down and up in float; the network in one mirror-padded PyTorch pass (no
    tiles, no ONNX Runtime); the output rounded to 8 bits; scikit-image's PSNR and SSIM with
    4 px shaved."""
    images = {k: v for k, v in load_set("Set5").items() if k in ("bird_GT", "head_GT")}
    rows = evaluate.evaluate(images, 4, paper=True)
    models = {k: load_from_folder(k, BUNDLED_DIR / f"{k}-x4") for k in ("srcnn", "residual")}
    for row, img in zip(rows, images.values()):
        rgb = np.asarray(img.convert("RGB"), np.float64)
        y = np.rint(16 + (65.481 * rgb[..., 0] + 128.553 * rgb[..., 1] + 24.966 * rgb[..., 2]) / 255)
        gt = y[:y.shape[0] // 4 * 4, :y.shape[1] // 4 * 4]
        x = imresize(imresize(gt / 255, 1 / 4), 4.0)
        outs = {"bicubic": x}
        for kind, model in models.items():
            with torch.no_grad():
                padded = torch.from_numpy(np.pad(x, model.radius, mode="symmetric"))[None, None].float()
                outs[kind] = model(padded)[0, 0].numpy()
        for kind, out in outs.items():
            out8 = np.clip(np.rint(out.astype(np.float64) * 255), 0, 255)[4:-4, 4:-4]
            ref = gt[4:-4, 4:-4]
            assert row.psnr[kind] == pytest.approx(peak_signal_noise_ratio(ref, out8, data_range=255), abs=1e-3), kind
            assert row.ssim[kind] == pytest.approx(structural_similarity(
                ref, out8, data_range=255, gaussian_weights=True, sigma=1.5, use_sample_covariance=False),
                abs=1e-4), kind


def test_cli_on_a_folder_prints_rows_means_and_progress(tmp_path, capsys):
    rng = np.random.default_rng(0)
    for i in range(2):
        small = rng.integers(0, 256, (9, 12, 3), dtype=np.uint8)
        Image.fromarray(small).resize((48, 36), Image.Resampling.BICUBIC).save(tmp_path / f"p{i}.png")
    assert evaluate.main([str(tmp_path), "--scale", "2", "--markdown"]) == 0
    out, err = capsys.readouterr()
    assert "images, x2: PSNR (dB) / SSIM, Y channel" in out and "app path" in out
    body = [line for line in out.splitlines() if line.startswith("| ")]
    assert ([line.split(" | ")[0] for line in body[1:]]
            == ["| " + f"{tmp_path.name}/p0", f"| {tmp_path.name}/p1", "| mean"])
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
