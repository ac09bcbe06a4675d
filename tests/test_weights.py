"""srcnn.weights: bundled fallback, bounded Hub time, offline mode, strict loading.

A lookup's Hub state lives in its srcnn.weights.WeightsFinder, so most cases run here, each on a
fresh finder. The cases that set huggingface_hub's own environment (``HF_HUB_OFFLINE``,
``HF_ENDPOINT``: it reads them once, at import) run in a fresh interpreter.
"""

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from srcnn.weights import REPO_ENV, REVISION_ENV, TIMEOUT_ENV, WeightsFinder

from stand_ins import closed_port

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "checkpoints" / "residual-x3"
PIN = "0123456789abcdef0123456789abcdef01234567"    # a revision (commit) to pin in these tests


def test_every_model_is_bundled():
    """The fallback every case below relies on: all eight checkpoints (x2, x3, x4 and the range
    1.1-2 of both kinds) ship with the code (a missing one fails here, it is never skipped)."""
    from srcnn.models import KINDS, RANGE, SCALES
    from srcnn.weights import bundled_folder, bundled_pairs
    pairs = bundled_pairs()
    for k in KINDS:                      # per kind: 2, 3, 4, the range, then any small factors' own networks
        scales = [s for kind, s in pairs if kind == k]
        assert scales[:4] == [2, 3, 4, "1.1-2"] and scales[4:] == sorted(scales[4:]), scales
        assert all(isinstance(s, float) and 1.1 <= s < 2 for s in scales[4:]), scales
    assert [k for k, _ in pairs] == sorted((k for k, _ in pairs), key=KINDS.index)
    assert (*SCALES, RANGE) == (2, 3, 4, "1.1-2")
    for k, s in bundled_pairs():
        assert all((bundled_folder(k, s) / f).is_file() for f in ("config.json", "model.safetensors")), (k, s)


# ----------------------------------------------------------------------------- in this process

@pytest.fixture
def hub_cache(monkeypatch, tmp_path) -> Path:
    """An empty Hub cache in ``tmp_path``, offline mode on, no repo, revision or timeout set."""
    from huggingface_hub import constants
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)
    for name in (REPO_ENV, REVISION_ENV, TIMEOUT_ENV):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


@pytest.fixture
def connects(monkeypatch) -> list[str]:
    """Every socket connection and name lookup made while the test runs."""
    seen: list[str] = []
    real_connect, real_gai = socket.socket.connect, socket.getaddrinfo

    def spy(self, addr):
        seen.append(str(addr))
        return real_connect(self, addr)

    def gai(host, *a, **k):
        seen.append(f"resolve {host}")
        return real_gai(host, *a, **k)

    monkeypatch.setattr(socket.socket, "connect", spy)
    monkeypatch.setattr(socket, "getaddrinfo", gai)
    return seen


def logged(caplog, level: int = logging.INFO) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= level]


def test_no_pinned_revision_means_bundled_and_no_network(hub_cache, connects, caplog):
    caplog.set_level(logging.DEBUG, logger="srcnn")
    finder = WeightsFinder()
    source = finder.resolve("residual", 3)
    model = finder.load_model("residual", 3)
    assert source.origin == "bundled" and (model.kind, model.scale) == ("residual", 3)
    assert connects == []
    [line] = logged(caplog)                                      # one line, not one per lookup
    assert "no Hub revision pinned" in line and "SRCNN_WEIGHTS_REVISION" in line
    assert len(logged(caplog, logging.DEBUG)) == 2


def test_a_failed_hub_attempt_is_remembered_by_its_finder_only(hub_cache, connects, caplog, monkeypatch):
    """One refused connection sends the finder's later lookups to the bundled copy at once; another
    finder (another srcnn.runner.Runner) tries the Hub itself."""
    from huggingface_hub import constants

    from srcnn.runner import Runner
    from srcnn.weights import Checkpoint
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    monkeypatch.setenv(REVISION_ENV, PIN)
    caplog.set_level(logging.DEBUG, logger="srcnn")
    first = WeightsFinder()
    assert first.resolve("residual", 3).origin == "bundled"
    assert first.unreachable is not None and "ConnectionError" in first.unreachable
    tried = len(connects)
    assert tried > 0
    assert first.resolve("srcnn", 2).origin == "bundled" and len(connects) == tried   # remembered
    [line] = logged(caplog)
    assert "unreachable" in line and PIN in line and "srcnn-studio/srcnn-weights" in line
    Runner().network(Checkpoint("residual", 3))                 # a new runner's finder asks again
    assert len(connects) > tried and len(logged(caplog)) == 2


def cached_repo(cache: Path, repo: str, revision: str, tensors_from: Path = BUNDLED) -> None:
    """A Hub cache holding ``repo`` at ``revision`` with residual-x3 copied from ``tensors_from``."""
    base = cache / ("models--" + repo.replace("/", "--"))
    shutil.copytree(tensors_from, base / "snapshots" / revision / "residual-x3",
                    ignore=shutil.ignore_patterns("snapshots", "*.pt"))
    (base / "refs").mkdir(parents=True)
    (base / "refs" / "main").write_text(revision)


def test_weights_at_the_pinned_revision_in_the_hub_cache_are_used(hub_cache, monkeypatch, caplog):
    repo = "someone/other-weights"
    cached_repo(hub_cache, repo, PIN)
    monkeypatch.setenv(REPO_ENV, repo)
    monkeypatch.setenv(REVISION_ENV, PIN)
    caplog.set_level(logging.INFO, logger="srcnn")
    finder = WeightsFinder()
    source = finder.resolve("residual", 3)
    assert source.origin == "hub" and repo in source.describe() and PIN[:12] in source.describe()
    assert finder.load_model("residual", 3).scale == 3
    monkeypatch.setenv(REVISION_ENV, "f" * 40)                   # another revision is not what was pinned
    assert WeightsFinder().resolve("residual", 3).origin == "bundled" and "not cached" in caplog.text


def test_hub_weights_of_the_wrong_scale_are_rejected_for_the_bundled_copy(hub_cache, monkeypatch, caplog):
    repo = "someone/bad-weights"
    cached_repo(hub_cache, repo, PIN, tensors_from=BUNDLED.parent / "residual-x4")   # x4 under x3's name
    monkeypatch.setenv(REPO_ENV, repo)
    monkeypatch.setenv(REVISION_ENV, PIN)
    caplog.set_level(logging.INFO, logger="srcnn")
    assert WeightsFinder().resolve("residual", 3).origin == "bundled"
    assert "weights rejected" in caplog.text and "x4" in caplog.text


# ----------------------------------------------------------------------------- in a fresh interpreter

PROBE = """
import json, logging, socket, sys, time
connects = []
real_connect = socket.socket.connect
def spy(self, addr):
    connects.append(str(addr))
    return real_connect(self, addr)
socket.socket.connect = spy
real_gai = socket.getaddrinfo
def gai(host, *a, **k):
    connects.append("resolve " + str(host))
    return real_gai(host, *a, **k)
socket.getaddrinfo = gai
logging.basicConfig(level=logging.INFO, stream=sys.stderr)
from srcnn.weights import load_model, resolve_weights
import torch  # noqa: F401 - imported before the clock starts: the time measured is the Hub's
t = time.perf_counter()
src = resolve_weights("residual", 3)
model = load_model("residual", 3)
print(json.dumps({"seconds": time.perf_counter() - t, "origin": src.origin, "describe": src.describe(),
                  "connects": connects, "scale": model.scale, "kind": model.kind}))
"""


def _run(env_extra: dict, drop_offline: bool = True) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if not (drop_offline and k == "HF_HUB_OFFLINE")}
    env.update(env_extra)
    env["PYTHONPATH"] = str(ROOT)
    p = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr


def test_unreachable_hub_falls_back_to_bundled_within_5_seconds_quietly(tmp_path):
    out, log = _run({"HF_HUB_CACHE": str(tmp_path), "SRCNN_HUB_TIMEOUT": "2", "SRCNN_WEIGHTS_REVISION": PIN,
                     "HF_ENDPOINT": "http://hub.invalid"})
    assert out["origin"] == "bundled" and out["seconds"] < 5.0, out
    assert "unreachable" in log and PIN in log and "srcnn-studio/srcnn-weights" in log
    assert "Retry" not in log and len(log.strip().splitlines()) == 1, log   # no huggingface_hub retry lines


def test_hub_that_never_answers_is_abandoned_within_5_seconds(tmp_path, silent_server):
    out, log = _run({"HF_HUB_CACHE": str(tmp_path), "HF_ENDPOINT": silent_server, "SRCNN_WEIGHTS_REVISION": PIN})
    assert out["origin"] == "bundled"
    assert out["seconds"] < 5.0, out
    assert "no answer within" in log and "Retry" not in log


def test_offline_mode_never_touches_the_network(tmp_path):
    out, log = _run({"HF_HUB_CACHE": str(tmp_path), "HF_HUB_OFFLINE": "1", "SRCNN_WEIGHTS_REVISION": PIN},
                    drop_offline=False)
    assert out["origin"] == "bundled"
    assert out["connects"] == [], out["connects"]
    assert "HF_HUB_OFFLINE" in log


def test_strict_loading_rejects_a_checkpoint_with_missing_tensors(tmp_path):
    from safetensors.torch import load_file, save_file

    from srcnn.weights import load_from_folder
    shutil.copy(BUNDLED / "config.json", tmp_path / "config.json")
    tensors = load_file(BUNDLED / "model.safetensors")
    tensors.pop("conv3.bias")
    save_file(tensors, tmp_path / "model.safetensors")
    with pytest.raises(RuntimeError, match="conv3.bias"):
        load_from_folder("residual", tmp_path)
    (tmp_path / "config.json").write_text('{"f1": 9, "layers": 3, "kind": "residual"}')
    with pytest.raises(ValueError, match="not an SRCNN configuration"):
        load_from_folder("residual", tmp_path)


def test_every_bundled_config_records_its_kind_and_the_other_kind_refuses(tmp_path):
    """config.json names its kind; loading it as the other kind (runtime form, PyTorch loader or
    from_pretrained on the other class) raises an error naming both kinds."""
    import json

    from srcnn.torch_models import ResidualSRCNN, SRCNN
    from srcnn.weights import load_from_folder, network_from_folder, parse_subfolder
    configs = sorted(BUNDLED.parent.rglob("config.json"))
    assert len(configs) >= 9
    for path in configs:
        top = path.parent if path.parent.parent == BUNDLED.parent else path.parent.parent.parent
        want = "srcnn" if top.name == "original-2018" else parse_subfolder(top)[0]
        assert json.loads(path.read_text())["kind"] == want, path
    srcnn_folder = BUNDLED.parent / "srcnn-x3"
    for load in (network_from_folder, load_from_folder):
        with pytest.raises(ValueError, match="'residual'.*not 'srcnn'|'srcnn'.*not 'residual'"):
            load("srcnn", BUNDLED)
        with pytest.raises(ValueError, match="'srcnn'.*not 'residual'"):
            load("residual", srcnn_folder)
    with pytest.raises(ValueError, match="'residual'.*not 'srcnn'"):
        SRCNN.from_pretrained(str(BUNDLED), strict=True)
    with pytest.raises(ValueError, match="'srcnn'.*not 'residual'"):
        ResidualSRCNN.from_pretrained(str(srcnn_folder), strict=True)


def test_a_config_without_kind_is_read_by_its_folder_name_with_a_warning_or_refused(tmp_path, caplog):
    import json

    from srcnn.weights import network_from_folder
    config = json.loads((BUNDLED / "config.json").read_text())
    del config["kind"]
    for name in ("residual-x3", "other"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps(config))
        shutil.copy(BUNDLED / "model.safetensors", tmp_path / name)
    with caplog.at_level("WARNING", logger="srcnn"):
        net = network_from_folder("residual", tmp_path / "residual-x3")
    assert net.kind == "residual" and "records no kind" in caplog.text
    with pytest.raises(ValueError, match="by its folder name.*load it as kind 'residual'"):
        network_from_folder("srcnn", tmp_path / "residual-x3")
    with pytest.raises(ValueError, match="does not record its kind.*add \"kind\""):
        network_from_folder("residual", tmp_path / "other")


def test_small_factor_folders_parse_load_and_list(tmp_path, monkeypatch):
    """<kind>-x<factor> with a decimal factor from 1.1 to below 2 (issue 25's family)."""
    import json

    from srcnn import weights
    from srcnn.weights import bundled_pairs, load_model, load_network, parse_subfolder, subfolder
    assert parse_subfolder("checkpoints/residual-x1.2") == ("residual", 1.2)
    assert parse_subfolder("srcnn-x1.75") == ("srcnn", 1.75)
    assert subfolder("srcnn", 1.75) == "srcnn-x1.75" and subfolder("residual", 1.2) == "residual-x1.2"
    for bad in ("residual-x1.20", "residual-x1.0", "residual-x2.5", "residual-x1.234", "residual-x2.0"):
        with pytest.raises(ValueError, match="<kind>-x<scale>"):
            parse_subfolder(bad)
    config = json.loads((BUNDLED / "config.json").read_text())
    for name, scale in (("residual-x1.2", 1.2), ("srcnn-x1.75", 1.75), ("residual-x3", 3)):
        (tmp_path / name).mkdir()
        (tmp_path / name / "config.json").write_text(json.dumps({**config, "scale": scale,
                                                                  "kind": name.split("-")[0]}))
        shutil.copy(BUNDLED / "model.safetensors", tmp_path / name)
    monkeypatch.setattr(weights, "BUNDLED_DIR", tmp_path)
    assert bundled_pairs() == [("srcnn", 1.75), ("residual", 3), ("residual", 1.2)]
    net = load_network("residual", 1.2)
    assert net.scale == 1.2 and net.kind == "residual"
    module = load_model("srcnn", 1.75)
    assert type(module).__name__ == "SRCNN" and module.scale == 1.75


def test_loading_a_folder_prints_nothing_and_equals_from_pretrained(capfd):
    from srcnn.torch_models import ResidualSRCNN
    from srcnn.weights import load_from_folder
    model = load_from_folder("residual", BUNDLED)
    assert capfd.readouterr().out == ""                     # stdout stays clean for the CLIs
    reference = ResidualSRCNN.from_pretrained(str(BUNDLED), strict=True)
    assert not model.training and model.scale == reference.scale
    for (name, a), (_, b) in zip(model.state_dict().items(), reference.state_dict().items()):
        assert torch.equal(a, b), name


def test_bad_kind_and_scale_raise_value_error():
    from srcnn.weights import resolve_weights
    with pytest.raises(ValueError, match="kind"):
        resolve_weights("vdsr", 3)
    with pytest.raises(ValueError, match="scale"):
        resolve_weights("srcnn", 5)


def test_folder_names_are_built_and_parsed_in_one_place():
    from srcnn.weights import parse_subfolder, subfolder
    assert subfolder("residual", 4) == "residual-x4"
    assert parse_subfolder("checkpoints/residual-x4") == ("residual", 4)
    assert parse_subfolder(Path("runs") / subfolder("srcnn", 2)) == ("srcnn", 2)
    for bad in ("residual", "residual-x5", "vdsr-x3", "srcnn_x2", "srcnn-x", "-x3"):
        with pytest.raises(ValueError, match="<kind>-x<scale>"):
            parse_subfolder(bad)


def test_a_download_must_have_the_published_networks_layer_sizes(tmp_path, monkeypatch):
    """srcnn.weights.validate checks a Hub copy against the bundled copy's layer sizes (the paper's
    9-1-5 / 64, 32 where nothing is bundled): a wider network is refused where the bundled one is
    the paper's, and accepted where the bundled one is that wide."""
    from srcnn import weights
    from srcnn.architecture import PAPER, Architecture
    from srcnn.torch_models import ResidualSRCNN
    wide = tmp_path / "hub" / "residual-x3"
    ResidualSRCNN(n1=16, scale=3).save_pretrained(wide)
    assert weights.published_architecture("residual", 3) == PAPER
    with pytest.raises(ValueError, match="tensor shapes"):
        weights.validate(wide, "residual", 3)
    bundled = tmp_path / "bundled"
    shutil.copytree(wide, bundled / "residual-x3")
    monkeypatch.setattr(weights, "BUNDLED_DIR", bundled)
    assert weights.published_architecture("residual", 3) == Architecture(n1=16)
    assert weights.validate(wide, "residual", 3).weights["conv1.weight"].shape == (16, 1, 9, 9)
    assert weights.published_architecture("residual", 3, compressed=True) == PAPER    # none bundled
