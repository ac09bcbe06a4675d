"""The package: pyproject.toml's dependencies are requirements*.txt's, and an installed copy works
from any folder with the Hub offline and without PyTorch (``srcnn --help``, ``srcnn upscale``,
``import srcnn``), its bundled weights inside it; what needs the checkout's data/ says so.

The slow tests install the checkout into a fresh virtual environment with ``pip install --no-deps``
and let it see this environment's packages (a ``.pth`` file naming this one's site-packages: the
runtime's dependencies, already installed from requirements.txt, which the first test checks are
pyproject's), so no dependency is downloaded; a second ``.pth`` file makes ``import torch`` fail
there. Only the build backend (hatchling) is fetched, as ``pip install .`` fetches it.
"""

from __future__ import annotations

import importlib
import os
import site
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from packaging.requirements import Requirement
from PIL import Image

import srcnn

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def requirements(name: str) -> set[str]:
    """A requirements file's own requirements (not the files it includes with ``-r``), normalised."""
    lines = (line.split("#", 1)[0].strip() for line in (ROOT / name).read_text(encoding="utf-8").splitlines())
    return {str(Requirement(line)) for line in lines if line and not line.startswith("-")}


def normalised(reqs: list[str]) -> set[str]:
    return {str(Requirement(r)) for r in reqs}


def test_pyproject_dependencies_are_the_requirements_files():
    project = PYPROJECT["project"]
    assert normalised(project["dependencies"]) == requirements("requirements.txt")
    assert not any(Requirement(r).name == "torch" for r in project["dependencies"])
    extras = project["optional-dependencies"]
    assert normalised(extras["train"]) == requirements("requirements-train.txt")
    assert normalised(extras["test"]) == requirements("requirements-dev.txt")


def test_the_srcnn_command_is_the_cli_main():
    module, _, name = PYPROJECT["project"]["scripts"]["srcnn"].partition(":")
    assert getattr(importlib.import_module(module), name) is importlib.import_module("srcnn.__main__").main


def test_the_vendored_sets_say_they_come_with_the_checkout(monkeypatch, tmp_path):
    from srcnn.tooling import data
    monkeypatch.setattr(data, "DATA_DIR", tmp_path / "site-packages" / "data")
    with pytest.raises(FileNotFoundError, match="source checkout"):
        data.load_set("Set5")


# --------------------------------------------------------------------------- installed copies (slow)

def photo(path: Path) -> Path:
    with Image.open(ROOT / "examples" / "coffee.png") as img:
        img.convert("RGB").crop((100, 80, 260, 200)).save(path, quality=90)
    return path


def install(venv: Path, *spec: str) -> Path:
    """A fresh venv at ``venv`` with ``pip install --no-deps *spec``, this environment's packages
    visible after its own, and torch blocked; its ``bin`` folder."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    bin_dir = venv / "bin"
    own = Path(subprocess.run([bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                              capture_output=True, text=True, check=True).stdout.strip())
    (own / "parent_packages.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    (own / "no_torch.pth").write_text("import sys; sys.modules['torch'] = None\n")
    p = subprocess.run([sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install", "-q",
                        "--no-deps", *spec], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    return bin_dir


def clean_env() -> dict:
    """No PYTHONPATH (nothing points at the checkout), no SRCNN_* settings, the Hub offline."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("SRCNN_")}
    env["HF_HUB_OFFLINE"] = "1"
    return env


PROBE = ("import sys, srcnn\nfrom PIL import Image\nfrom srcnn import weights\n"
         "print(srcnn.__file__)\nprint(weights.BUNDLED_DIR)\n"
         "srcnn.upscale(Image.open('photo.jpg'), 2.5).save('api.png')\n"
         "print(sys.modules.get('torch'))\n")


@pytest.mark.slow
def test_an_installed_wheel_works_offline_from_another_folder_without_torch(tmp_path):
    bin_dir = install(tmp_path / "venv", str(ROOT))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    src = photo(elsewhere / "photo.jpg")
    env = clean_env()

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(a) for a in args], cwd=elsewhere, env=env, capture_output=True, text=True,
                              timeout=300)

    p = run(bin_dir / "python", "-c", "import torch")
    assert p.returncode != 0 and "ModuleNotFoundError" in p.stderr       # the blocker works

    p = run(bin_dir / "srcnn", "--help")
    assert p.returncode == 0 and "upscale" in p.stdout, p.stderr
    assert p.stdout.startswith("usage: srcnn "), p.stdout        # the command's own name, not python -m

    p = run(bin_dir / "srcnn", "upscale", "photo.jpg", "--scale", "2.5", "--out", "d")
    assert p.returncode == 0, p.stderr
    png = elsewhere / "d" / "photo_x2.5_residual.png"
    assert Path(p.stdout.strip()) in (png, Path("d") / png.name)
    want = np.asarray(srcnn.upscale(Image.open(src), 2.5), np.int16)     # this checkout's code, same weights
    got = np.asarray(Image.open(png), np.int16)
    assert got.shape == want.shape == (300, 400, 3) and np.abs(got - want).max() <= 1

    p = run(bin_dir / "python", "-c", PROBE)
    assert p.returncode == 0, p.stderr
    module, bundled, torch = p.stdout.strip().splitlines()[-3:]
    venv = (tmp_path / "venv").resolve()
    assert venv in Path(module).resolve().parents                          # the installed copy, not the checkout
    assert venv in Path(bundled).parents and Path(bundled).name == "checkpoints"
    assert torch == "None"                                                 # torch never loaded
    got = np.asarray(Image.open(elsewhere / "api.png"), np.int16)
    assert got.shape == want.shape and np.abs(got - want).max() <= 1

    p = run(bin_dir / "srcnn", "evaluate")                # needs data/, which only a checkout has: says so
    assert p.returncode != 0 and "source checkout" in p.stderr.strip().splitlines()[-1], p.stderr


@pytest.mark.slow
def test_an_editable_install_uses_the_checkout_and_its_weights(tmp_path):
    bin_dir = install(tmp_path / "venv", "-e", str(ROOT))
    (tmp_path / "elsewhere").mkdir()
    photo(tmp_path / "elsewhere" / "photo.jpg")
    p = subprocess.run([bin_dir / "python", "-c", PROBE], cwd=tmp_path / "elsewhere", env=clean_env(),
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    module, bundled, _ = p.stdout.strip().splitlines()[-3:]
    assert Path(module).resolve() == ROOT / "srcnn" / "__init__.py"
    assert Path(bundled) == ROOT / "checkpoints"
    p = subprocess.run([bin_dir / "srcnn", "--help"], cwd=tmp_path, env=clean_env(), capture_output=True, text=True)
    assert p.returncode == 0 and "upscale" in p.stdout, p.stderr
