"""srcnn.tooling.publish: what --push-to-hub would upload, checked without network; clear, bounded
failures without a token or without a route to the Hub."""

import time
from pathlib import Path

import pytest
from safetensors.torch import load_file, save_file

from srcnn.tooling import publish as hub
from srcnn.tooling.card import write_card
from srcnn.tooling.publish import prepare_upload, push_checkpoints, resolve_token
from srcnn.tooling.training import train

from stand_ins import closed_port, tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("hub")
    folder = Path(train(tiny_config(tmp), progress=False)["folder"])
    write_card(folder)
    return folder


def copy_folder(src: Path, dst: Path) -> Path:
    for p in src.rglob("*"):
        if p.is_file():
            (dst / p.relative_to(src)).parent.mkdir(parents=True, exist_ok=True)
            (dst / p.relative_to(src)).write_bytes(p.read_bytes())
    return dst


@pytest.fixture
def online(monkeypatch):
    """tests/conftest.py sets HF_HUB_OFFLINE for the whole session; these tests need it off."""
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)


# ----------------------------------------------------------------------------- the folder

def test_prepare_upload_lists_a_complete_folder_that_loads(trained):
    files = prepare_upload(trained)
    assert {"config.json", "model.safetensors", "README.md", "history.json"} <= set(files)
    assert "snapshots/step-000006/model.safetensors" in files
    assert not any("train_state" in f or f.endswith(".tmp") for f in files)


def test_prepare_upload_refuses_incomplete_or_unfinished_folders(trained, tmp_path):
    folder = copy_folder(trained, tmp_path / "residual-x3")
    (folder / "README.md").unlink()
    with pytest.raises(FileNotFoundError, match="README.md"):
        prepare_upload(folder)
    write_card(folder)
    (folder / "train_state.pt").write_bytes(b"")
    with pytest.raises(RuntimeError, match="--resume"):
        prepare_upload(folder)


def test_prepare_upload_loads_strictly(trained, tmp_path):
    folder = copy_folder(trained, tmp_path / "residual-x3")
    tensors = load_file(folder / "model.safetensors")
    tensors["stray.weight"] = tensors["conv3.bias"].clone()
    save_file(tensors, folder / "model.safetensors")
    with pytest.raises(Exception, match="stray"):
        prepare_upload(folder)


def test_prepare_upload_checks_the_scale_against_the_folder_name(trained, tmp_path):
    folder = copy_folder(trained, tmp_path / "residual-x4")
    with pytest.raises(ValueError, match="x3"):
        prepare_upload(folder)


# ----------------------------------------------------------------------------- token, network

def test_no_token_is_a_clear_error(trained, monkeypatch):
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    with pytest.raises(PermissionError, match="HF_TOKEN.*hf auth login"):
        push_checkpoints([trained], "someone/srcnn-weights")


def test_token_comes_from_hf_token(monkeypatch):
    monkeypatch.setenv("HF_TOKEN", "hf_from_the_environment")
    assert resolve_token() == "hf_from_the_environment"
    assert resolve_token("hf_explicit") == "hf_explicit"


def test_offline_mode_is_a_clear_error(trained, monkeypatch):
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    with pytest.raises(ConnectionError, match="HF_HUB_OFFLINE"):
        push_checkpoints([trained], "someone/srcnn-weights", token="hf_fake")


def test_no_network_is_a_clear_error_in_bounded_time(trained, online):
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="cannot reach the Hugging Face Hub"):
        push_checkpoints([trained], "someone/srcnn-weights", token="hf_fake",
                         endpoint=f"http://127.0.0.1:{closed_port()}")
    assert time.monotonic() - t0 < 5


def test_the_real_hub_from_here_fails_clearly_and_quickly(trained, online):
    """No route to the Hub here: ConnectionError in seconds (not huggingface_hub's ~23 s of
    retries). With a network, the fake token is refused: PermissionError."""
    t0 = time.monotonic()
    with pytest.raises((ConnectionError, PermissionError)) as err:
        push_checkpoints([trained], "srcnn-studio-test/does-not-exist", token="hf_fake", timeout=5)
    assert time.monotonic() - t0 < 15
    assert "Hugging Face Hub" in str(err.value) or "refused the token" in str(err.value)


def test_a_server_that_never_answers_is_cut_off(trained, online, silent_server):
    """The Hub's name resolves and accepts connections but never answers: bounded by timeout."""
    t0 = time.monotonic()
    with pytest.raises(ConnectionError, match="no answer within 2 s"):
        push_checkpoints([trained], "someone/srcnn-weights", token="hf_fake", endpoint=silent_server, timeout=2)
    assert time.monotonic() - t0 < 6


# ----------------------------------------------------------------------------- up to the upload call

def test_push_uploads_each_folder_under_its_name(trained, online, tmp_path, monkeypatch):
    other = copy_folder(trained, tmp_path / "residual-x3")
    calls = []

    class FakeApi:
        def __init__(self, endpoint, token):
            calls.append(("init", endpoint, token))

        def create_repo(self, repo_id, repo_type, exist_ok):
            calls.append(("create_repo", repo_id, repo_type, exist_ok))

        def upload_folder(self, repo_id, folder_path, path_in_repo, allow_patterns, commit_message):
            calls.append(("upload_folder", repo_id, Path(folder_path), path_in_repo, sorted(allow_patterns)))
            return type("Commit", (), {"commit_url": f"https://hub/{repo_id}/commit/{len(calls)}"})()

        def list_repo_files(self, repo_id):
            return ["README.md", "srcnn-x2/config.json"]

        def upload_file(self, path_or_fileobj, path_in_repo, repo_id, commit_message):
            calls.append(("upload_file", path_in_repo, path_or_fileobj.decode()))

    monkeypatch.setattr("huggingface_hub.HfApi", FakeApi)
    monkeypatch.setattr(hub, "check_reachable", lambda endpoint, timeout: None)
    urls = push_checkpoints([other], "me/srcnn-weights", token="hf_fake", endpoint="https://hub.example")
    assert urls == ["https://hub/me/srcnn-weights/commit/3"]
    assert calls[0] == ("init", "https://hub.example", "hf_fake")
    assert calls[1] == ("create_repo", "me/srcnn-weights", "model", True)
    kind, repo, folder, path_in_repo, files = calls[2]
    assert (kind, repo, folder, path_in_repo) == ("upload_folder", "me/srcnn-weights", other, "residual-x3")
    assert files == prepare_upload(other) and "model.safetensors" in files
    kind, path, readme = calls[3]
    assert path == "README.md" and "residual-x3/" in readme and "srcnn-x2/" in readme


def test_nothing_to_push_is_an_error():
    with pytest.raises(ValueError, match="no checkpoint folders"):
        push_checkpoints([], "me/srcnn-weights", token="hf_fake")


def test_train_py_push_without_token_exits_with_the_message(trained, monkeypatch):
    from stand_ins import load_train_script

    monkeypatch.setattr("huggingface_hub.get_token", lambda: None)
    script = load_train_script()
    with pytest.raises(SystemExit, match="no Hugging Face token"):
        script.main(["--push-to-hub", "me/srcnn-weights", "--push-only", "--kind", "residual", "--scale", "3",
                     "--out-dir", str(trained.parent)])
