"""A Space dry run: the README's front matter as the Hub reads it, and `python app.py` started
with the variables a Space sets, serving the page."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from huggingface_hub import RepoCard

ROOT = Path(__file__).resolve().parent.parent


def pinned(package: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        if line.split("#")[0].strip().startswith(f"{package}=="):
            return line.split("==")[1].split("#")[0].strip()
    raise AssertionError(f"{package} is not pinned in requirements.txt")


def test_front_matter_is_a_valid_space_card():
    card = RepoCard.load(ROOT / "README.md", repo_type="space")
    data = card.data.to_dict()
    assert data["sdk"] == "gradio" and data["app_file"] == "app.py"
    assert (ROOT / data["app_file"]).is_file()
    assert data["sdk_version"] == pinned("gradio")
    assert str(data["python_version"]) == f"{sys.version_info.major}.{sys.version_info.minor}"
    assert data["license"] == "mit" and data["title"]


@pytest.mark.slow
def test_app_serves_the_page_with_a_spaces_variables(tmp_path):
    env = {**os.environ, "SPACE_ID": "someone/srcnn-studio", "GRADIO_SERVER_NAME": "0.0.0.0",
           "GRADIO_SERVER_PORT": "7860", "HF_HUB_OFFLINE": "1", "GRADIO_TEMP_DIR": str(tmp_path / "tmp"),
           "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        deadline, page = time.time() + 90, None
        while time.time() < deadline and proc.poll() is None:
            try:
                with urllib.request.urlopen("http://127.0.0.1:7860/", timeout=5) as r:
                    page = r.read().decode("utf-8", "replace")
                    break
            except OSError:
                time.sleep(0.5)
        assert page is not None, "no page on port 7860"
        assert "SRCNN Studio" in page
        # the Space's own links are built from SPACE_ID
        with urllib.request.urlopen("http://127.0.0.1:7860/config", timeout=10) as r:
            config = r.read().decode()
        assert "huggingface.co/spaces/someone/srcnn-studio/blob/main/README.md" in config
    finally:
        proc.terminate()                      # SIGTERM, as a Space stops its container
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode in (0, -15, 130), out
    assert "Traceback" not in out, out
    assert not (tmp_path / "tmp").exists() or not any((tmp_path / "tmp").rglob("*.*")), "temp files left"
