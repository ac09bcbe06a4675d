"""The runtime without PyTorch: with ``import torch`` made to fail (a ``sitecustomize`` on
PYTHONPATH that sets ``sys.modules['torch'] = None``), ``srcnn.upscale`` gives the same pixels as
the PyTorch engine (within one level), the CLI upscales, exports and walks the study, ``python
app.py`` answers ``/compare`` (srcnn.torch_models never imported), and what needs torch says so
in one line: srcnn.torch_models, the torch boundary, raises it, and the entry points behind it
(``load_model``, the torch engine, the benchmark, train.py) pass it on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import srcnn

ROOT = Path(__file__).resolve().parent.parent
PHOTO = ROOT / "examples" / "coffee.png"


@pytest.fixture(scope="module")
def no_torch_env(tmp_path_factory) -> dict:
    folder = tmp_path_factory.mktemp("no-torch")
    (folder / "sitecustomize.py").write_text("import sys\nsys.modules['torch'] = None\n")
    env = {k: v for k, v in os.environ.items() if k not in ("SRCNN_ENGINE",)}
    env.update(PYTHONPATH=os.pathsep.join([str(folder), str(ROOT)]), HF_HUB_OFFLINE="1")
    return env


def run(args: list[str], env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, **kw)


def test_torch_really_fails_to_import(no_torch_env):
    p = run(["-c", "import torch"], no_torch_env)
    assert p.returncode != 0 and "ModuleNotFoundError" in p.stderr


def test_upscale_gives_the_torch_engines_pixels_and_the_cli_writes_its_png(no_torch_env, tmp_path, monkeypatch):
    code = ("import sys, numpy as np, srcnn\nfrom PIL import Image\n"
            f"img = Image.open({str(PHOTO)!r}).convert('RGB').crop((100, 80, 260, 200))\n"
            f"for s in (3, 2.5):\n    srcnn.upscale(img, s).save({str(tmp_path)!r} + f'/x{{s}}.png')\n"
            "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.') or 'torch_models' in m))")
    p = run(["-c", code], no_torch_env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == "['torch']"    # only the blocked entry: neither torch nor srcnn.torch_models loaded
    monkeypatch.setenv("SRCNN_ENGINE", "torch")              # this process has torch: the reference
    img = Image.open(PHOTO).convert("RGB").crop((100, 80, 260, 200))
    for s in (3, 2.5):
        want = np.asarray(srcnn.upscale(img, s), np.int16)
        got = np.asarray(Image.open(tmp_path / f"x{s}.png"), np.int16)
        assert got.shape == want.shape and np.abs(got - want).max() <= 1, s

    out = tmp_path / "cli"
    p = run(["-m", "srcnn", "upscale", str(PHOTO), "--scale", "2.5", "--out", str(out)], no_torch_env)
    assert p.returncode == 0, p.stderr
    png = out / "coffee_x2.5_residual.png"
    assert p.stdout.strip() == str(png) and Image.open(png).size == (1500, 1000)

    p = run(["-m", "srcnn", "export", "--kind", "srcnn", "--scale", "2", "--out", str(tmp_path / "m.onnx")],
            no_torch_env)
    assert p.returncode == 0 and (tmp_path / "m.onnx").stat().st_size > 10_000, p.stderr


def test_what_needs_torch_says_so_in_one_line(no_torch_env):
    # the boundary itself: importing srcnn.torch_models raises one ImportError, nothing chained
    p = run(["-c", "import srcnn.torch_models"], no_torch_env)
    last = p.stderr.strip().splitlines()[-1]
    assert p.returncode != 0 and last == (
        "ImportError: srcnn.torch_models (the PyTorch networks) needs PyTorch, which is not installed: "
        "`pip install -r requirements-train.txt` (the app, upscale, compare and export run without it)"), p.stderr
    assert "During handling" not in p.stderr and "direct cause" not in p.stderr, p.stderr
    for entry in ("import srcnn; srcnn.load_model('residual', 3)",
                  "from srcnn.weights import load_from_folder, bundled_folder; "
                  "load_from_folder('residual', bundled_folder('residual', 3))",
                  "import os; os.environ['SRCNN_ENGINE'] = 'torch'; import srcnn; "
                  "from PIL import Image; srcnn.upscale(Image.new('RGB', (20, 20)), 2)"):
        p = run(["-c", entry], no_torch_env)
        last = p.stderr.strip().splitlines()[-1]
        assert p.returncode != 0 and "needs PyTorch" in last and "requirements-train.txt" in last, (entry, p.stderr)
    p = run(["-m", "srcnn", "bench"], no_torch_env)          # the benchmark's PyTorch rows
    assert p.returncode == 1 and p.stderr.strip().splitlines() == [
        "error: python -m srcnn bench needs PyTorch, which is not installed: `pip install -r requirements-train.txt` "
        "(the app, upscale, compare and export run without it)"], p.stderr
    p = run(["train.py", "--smoke"], no_torch_env)
    assert p.returncode != 0 and "Traceback" not in p.stderr, p.stderr
    assert len(p.stderr.strip().splitlines()) == 1 and "torch" in p.stderr.lower(), p.stderr


@pytest.mark.slow
def test_study_cli_and_app_run_without_torch(no_torch_env, tmp_path):
    p = run(["-m", "srcnn", "study", str(ROOT / "data" / "Set5" / "butterfly_GT.png"), "--scale", "3"], no_torch_env)
    assert p.returncode == 0 and "our residual SRCNN x3" in p.stdout, p.stderr

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(no_torch_env, GRADIO_SERVER_PORT=str(port), GRADIO_TEMP_DIR=str(tmp_path / "gradio"))
    server = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 180
        while True:
            try:
                urllib.request.urlopen(url, timeout=2).read()
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the app did not start"
                time.sleep(0.2)
        from gradio_client import Client, handle_file
        photo = tmp_path / "photo.png"
        Image.open(PHOTO).convert("RGB").crop((0, 0, 240, 180)).save(photo)
        client = Client(url, verbose=False, httpx_kwargs={"timeout": 120})   # a loaded CI machine is slow
        result = client.predict(handle_file(str(photo)), 3, "Benchmark", api_name="/compare")
        [table] = [r for r in result if isinstance(r, dict) and "data" in r and "headers" in r]
        rows = {str(row[0]).lower(): row for row in table["data"]}
        want = srcnn.compare(Image.open(photo), 3).results["residual"].psnr      # this process: with torch
        got = next(float(row[1]) for name, row in rows.items() if "residual" in name)
        assert got == pytest.approx(want, abs=0.01)
    finally:
        server.terminate()
        server.wait(60)
