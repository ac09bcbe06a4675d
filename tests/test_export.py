"""srcnn.export and ``python -m srcnn export``: a standalone ONNX file that ONNX Runtime runs at any
size and that equals the package's whole-image path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from srcnn import export, pipeline
from srcnn.__main__ import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("kind", ["srcnn", "residual"])
def test_onnx_file_equals_the_package_at_two_sizes(tmp_path, kind):
    path = export.export(kind, 3, tmp_path / "m.onnx")
    model = onnx.load(path)
    assert model.opset_import[0].version == export.OPSET
    [x], [y] = model.graph.input, model.graph.output
    assert (x.name, y.name) == ("x", "y")
    assert [d.dim_param or d.dim_value for d in x.type.tensor_type.shape.dim][1] == 1   # N x 1 x H x W
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(1)
    for h, w in [(41, 67), (130, 96), (1, 1), (3, 5), (6, 13)]:     # under the receptive field too
        luma = (16 + 219 * rng.random((h, w))).astype(np.float32) / 255
        got = session.run(None, {"x": luma[None, None]})[0]
        assert got.shape == (1, 1, h, w)
        want = pipeline.apply_network(pipeline.model_for(kind, 3), luma, tile=None, engine="torch")
        assert np.abs(got[0, 0] - want).max() < 1e-5


def test_the_file_is_readable_as_the_umask_allows(tmp_path):
    """Not the 0600 of a temporary file: 0644 under umask 022, 0640 under 027."""
    import os
    for mask, mode in ((0o022, 0o644), (0o027, 0o640)):
        old = os.umask(mask)
        try:
            path = export.export("residual", 2, tmp_path / f"m{mask:o}.onnx")
        finally:
            os.umask(old)
        assert path.stat().st_mode & 0o777 == mode


def test_export_refuses_before_writing(tmp_path):
    with pytest.raises(ValueError, match="unknown kind 'edsr'"):
        export.export("edsr", 3, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="scale"):
        export.export("residual", 5, tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="does not exist"):
        export.export("residual", 3, tmp_path / "missing" / "m.onnx")
    with pytest.raises(ValueError, match="is a folder"):
        export.export("residual", 3, tmp_path)
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "m.onnx").write_bytes(b"keep")
    with pytest.raises(ValueError, match="--overwrite"):
        export.export("residual", 3, tmp_path / "m.onnx")
    assert (tmp_path / "m.onnx").read_bytes() == b"keep"
    export.export("residual", 3, tmp_path / "m.onnx", overwrite=True)
    assert onnx.load(tmp_path / "m.onnx").graph.input[0].name == "x"
    assert [p.name for p in tmp_path.iterdir()] == ["m.onnx"]          # no temporary file left


def test_cli_export_and_its_errors(tmp_path, capsys):
    out = tmp_path / "r2.onnx"
    assert main(["export", "--kind", "residual", "--scale", "2", "--out", str(out)]) == 0
    assert capsys.readouterr().out.strip() == str(out) and out.stat().st_size > 10_000
    assert main(["export", "--scale", "2", "--out", str(out)]) == 1
    assert "exists: pass --overwrite" in capsys.readouterr().err
    assert main(["export", "--out", str(tmp_path / "no" / "m.onnx")]) == 1
    assert "does not exist" in capsys.readouterr().err
    for argv in (["export", "--kind", "edsr", "--out", "m.onnx"], ["export", "--scale", "5", "--out", "m.onnx"],
                 ["export", "--kind", "srcnn"]):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
        assert "usage: python -m srcnn export" in capsys.readouterr().err


def test_docs_example_runs_on_a_photo(tmp_path):
    """The lines in docs/api.md run as written on a bundled photo and give a sharper
    picture than Pillow's bicubic alone (closer to the ground truth)."""
    text = (ROOT / "docs" / "api.md").read_text()
    code = text.split("```python\n# onnx-example\n", 1)[1].split("```", 1)[0]
    assert main(["export", "--kind", "residual", "--scale", "3", "--out", str(tmp_path / "model.onnx")]) == 0
    from PIL import Image
    from srcnn import degrade, psnr
    with Image.open(ROOT / "examples" / "coffee.png") as img:
        gt = img.convert("RGB").crop((0, 0, 240, 180))
    degrade(gt, 3).save(tmp_path / "photo.png")
    subprocess.run([sys.executable, "-c", code], cwd=tmp_path, check=True)
    with Image.open(tmp_path / "photo_x3.png") as out:
        bicubic = Image.open(tmp_path / "photo.png").resize(gt.size, Image.BICUBIC)
        assert out.size == gt.size
        assert psnr(out, gt, 3) > psnr(bicubic, gt, 3) + 0.5


def test_cli_export_to_a_place_that_cannot_be_written_is_one_error_line(capsys):
    assert main(["export", "--out", "/proc/residual-x3.onnx"]) == 1     # /proc: a folder no file can go in
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err and len(err.strip().splitlines()) == 1
