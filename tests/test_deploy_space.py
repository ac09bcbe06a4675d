"""tools/deploy_space.py: which files go to the Space, the dry run, and the calls it makes
(against huggingface_hub's own HfApi methods and filters, monkeypatched: no network)."""

from __future__ import annotations

import importlib.util
import inspect
import socket
import sys
from pathlib import Path

import pytest
from huggingface_hub import HfApi
from huggingface_hub.utils import filter_repo_objects

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("deploy_space", ROOT / "tools" / "deploy_space.py")
deploy_space = sys.modules["deploy_space"] = importlib.util.module_from_spec(spec)
spec.loader.exec_module(deploy_space)


@pytest.fixture
def no_network(monkeypatch):
    """Any connection attempt or Hub call fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError("the network was touched")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for name in ("create_repo", "upload_folder", "create_commit", "whoami"):
        monkeypatch.setattr(HfApi, name, refuse)


def fake_tree(root: Path) -> Path:
    """A small working tree: what goes, what never goes, and a symlink."""
    for rel in ("app.py", "README.md", "LICENSE", "requirements.txt", "requirements-dev.txt", "train.py",
                "ui/common.py", "srcnn/pipeline.py", "srcnn/study/walk.py",
                "srcnn/__pycache__/pipeline.cpython-311.pyc",
                "checkpoints/residual-x3/model.safetensors", "checkpoints/residual-x3/config.json",
                "checkpoints/residual-x3/train_state.pt", "checkpoints/residual-x3/snapshots/step-1/model.safetensors",
                "examples/a [1].png", "examples/.b.png.123.tmp", "docs/space.md", "tests/test_x.py",
                ".git/HEAD", ".venv/bin/python", ".gradio/x.png", "data/Set5/baby.png", "tools/x.py"):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (len(rel) + 1))
    (root / "examples" / "linked").symlink_to(root / "data", target_is_directory=True)
    (root / "srcnn" / "linked.py").symlink_to(root / "train.py")
    return root


def test_the_selection_is_the_space_files_and_nothing_else(tmp_path):
    root = fake_tree(tmp_path)
    got = [f.path for f in deploy_space.space_files(root)]
    assert got == sorted(["LICENSE", "README.md", "app.py", "requirements.txt", "ui/common.py", "srcnn/pipeline.py",
                          "srcnn/study/walk.py", "checkpoints/residual-x3/model.safetensors",
                          "checkpoints/residual-x3/config.json",
                          "checkpoints/residual-x3/snapshots/step-1/model.safetensors",
                          "examples/a [1].png", "docs/space.md"])
    assert {f.path: f.size for f in deploy_space.space_files(root)}["app.py"] == len("app.py") + 1
    (root / "app.py").unlink()
    with pytest.raises(FileNotFoundError, match="app.py"):
        deploy_space.space_files(root)


def test_dry_run_lists_the_working_tree_offline(no_network, capsys):
    assert deploy_space.main(["someone/srcnn-studio", "--dry-run"]) == 0
    out = capsys.readouterr().out
    listed = [line.split()[0] for line in out.splitlines() if line.startswith("  ")]
    for need in ("app.py", "README.md", "requirements.txt", "srcnn/pipeline.py",
                 "checkpoints/residual-x3/model.safetensors"):
        assert need in listed, need
    assert sum(p.endswith("/model.safetensors") and p.count("/") == 2 for p in listed) >= 9
    for banned in ("tests/", ".git/", ".venv/", "__pycache__/", ".gradio/", "data/", "tools/"):
        assert not any(p.startswith(banned) or f"/{banned}" in p for p in listed), banned
    sizes = [int(line.split()[1].replace(",", "")) for line in out.splitlines() if line.startswith("  ")]
    assert f"Total: {len(listed)} files, {sum(sizes):,} B" in out and "nothing was sent" in out
    assert not any("torch" in line.split("#")[0] for line in (ROOT / "requirements.txt").read_text().splitlines())


def test_deploy_creates_a_gradio_space_and_uploads_exactly_the_selection(tmp_path, monkeypatch):
    root = fake_tree(tmp_path)
    calls = []

    def recorder(name):
        real = getattr(HfApi, name)

        def record(self, *args, **kwargs):
            inspect.signature(real).bind(self, *args, **kwargs)      # the real method takes these arguments
            calls.append((name, kwargs, args))
            return "https://huggingface.co/spaces/someone/srcnn-studio" if name == "create_repo" else None
        return record

    for name in ("create_repo", "upload_folder"):
        monkeypatch.setattr(HfApi, name, recorder(name))
    url = deploy_space.deploy("someone/srcnn-studio", root, token="hf_test")
    assert url.endswith("someone/srcnn-studio")
    assert [c[0] for c in calls] == ["create_repo", "upload_folder"]
    (_, create, create_args), (_, upload, _) = calls
    assert create_args == ("someone/srcnn-studio",)
    assert create["repo_type"] == "space" and create["space_sdk"] == "gradio" and create["exist_ok"] is True
    assert upload["repo_id"] == "someone/srcnn-studio" and upload["repo_type"] == "space"
    assert Path(upload["folder_path"]) == root
    everything = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    selected = list(filter_repo_objects(everything, allow_patterns=upload["allow_patterns"]))
    assert selected == [f.path for f in deploy_space.space_files(root)]


def test_a_bad_space_name_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as e:
        deploy_space.main(["srcnn-studio", "--dry-run"])
    assert e.value.code == 2 and "USER/NAME" in capsys.readouterr().err
