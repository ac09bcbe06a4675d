"""srcnn.tooling.distributed and training under torchrun: DDP is real (2 gloo processes give the
weights of 1 process with the same global batch), rank 0 alone writes, resume and Ctrl-C work
across processes. The torchrun runs are slow (each starts 2 Python processes with torch)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from srcnn.tooling import distributed, training
from srcnn.tooling.training import TrainConfig, train

from stand_ins import ROOT, load_train_script

TORCHRUN = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
SMOKE = ["train.py", "--smoke", "--kind", "residual", "--scale", "3", "--no-progress"]


def run(cmd: list[str], timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


def assert_close(a: dict, b: dict, atol: float = 1e-5) -> None:
    assert a.keys() == b.keys()
    worst = max(float((a[k] - b[k]).abs().max()) for k in a)
    assert worst <= atol, worst


def test_a_plain_process_is_a_world_of_one():
    assert not distributed.active() and distributed.world() == 1 and distributed.rank() == 0
    assert distributed.is_main() and distributed.broadcast({"a": 1}) == {"a": 1}
    assert distributed.mean([1.5, 2.0]) == [1.5, 2.0] and not distributed.should_stop()
    assert distributed.share(128) == 128
    model = torch.nn.Linear(2, 2)
    assert distributed.wrap(model, torch.device("cpu")) is model
    assert distributed.backend("cpu") == "gloo" and distributed.backend("cuda:1") == "nccl"


def test_a_batch_that_does_not_split_over_the_processes_is_refused(monkeypatch, tmp_path):
    monkeypatch.setattr(distributed, "world", lambda: 3)
    with pytest.raises(ValueError, match="batch_size 16 does not split evenly over 3 processes.*multiple of 3"):
        train(TrainConfig(batch_size=16, out_dir=str(tmp_path)), progress=False)


@pytest.mark.slow
def test_two_gloo_processes_train_the_weights_of_one(tmp_path):
    """`torchrun --nproc_per_node 2 train.py --smoke`: one folder, written by rank 0 (one card, one
    summary line), whose weights match `python train.py --smoke` (same global batch 16 and seed:
    each rank computes 8 patches of it) within 1e-5, at every snapshot and at the best step."""
    two = run(TORCHRUN + SMOKE + ["--out-dir", str(tmp_path / "two")])
    run([sys.executable] + SMOKE + ["--out-dir", str(tmp_path / "one")])
    assert [p.name for p in (tmp_path / "two").iterdir()] == ["residual-x3"]
    out2, out1 = tmp_path / "two" / "residual-x3", tmp_path / "one" / "residual-x3"
    assert two.stdout.count("card:") == 1 and two.stdout.count("best val PSNR-Y") == 1
    assert not (out2 / "train_state.pt").exists()
    assert "on 2 processes (torchrun, DDP) x CPU" in (out2 / "README.md").read_text()
    info2, info1 = (json.loads((o / "history.json").read_text()) for o in (out2, out1))
    assert info2["processes"] == 2 and info1["processes"] == 1
    assert info2["config"]["batch_size"] == info1["config"]["batch_size"] == 16
    for r2, r1 in zip(info2["history"], info1["history"], strict=True):   # losses averaged over the ranks
        assert r2["step"] == r1["step"]
        assert r2["train_loss"] == pytest.approx(r1["train_loss"], rel=1e-4)
    assert_close(weights(out2), weights(out1))
    for snap in (out1 / "snapshots").iterdir():
        assert_close(weights(out2 / "snapshots" / snap.name), weights(snap))


@pytest.mark.slow
def test_a_streamed_run_on_two_processes_trains_the_weights_of_one(tmp_path):
    """`train.py --images DIR` under torchrun: each rank's loader makes its share of the same
    global batch (patches are functions of their index), so 2 processes = 1 within 1e-5."""
    from stand_ins import tiny_images
    images = tiny_images(tmp_path / "photos")
    args = ["train.py", "--images", str(images), "--kind", "residual", "--scale", "3", "--steps", "6",
            "--batch-size", "8", "--workers", "1", "--per-photo", "4", "--no-progress"]
    run(TORCHRUN + args + ["--out-dir", str(tmp_path / "two")])
    run([sys.executable] + args + ["--out-dir", str(tmp_path / "one")])
    out2, out1 = tmp_path / "two" / "residual-x3", tmp_path / "one" / "residual-x3"
    info2 = json.loads((out2 / "history.json").read_text())
    assert info2["processes"] == 2 and info2["photos"] == 2 and info2["config"]["stream"]
    assert_close(weights(out2 / "snapshots" / "step-000006"), weights(out1 / "snapshots" / "step-000006"))


@pytest.mark.slow
def test_a_run_interrupted_in_one_process_resumes_under_torchrun(tmp_path, monkeypatch):
    """The state one process saved at a Ctrl-C, resumed by 2 processes (rank 0 reads it and
    broadcasts weights, optimizer, random state and history): the weights of the run never
    interrupted, within 1e-5."""
    script = load_train_script()
    (cfg,) = script.configs(script.parse_args(SMOKE[1:] + ["--out-dir", str(tmp_path / "straight")]))
    straight = train(cfg, progress=False)
    real_eval, calls = training.evaluate_luma, []

    def ctrl_c_on_fourth_evaluation(*args, **kw):   # evaluations at steps 1, 2, 6, 10: Ctrl-C at 10
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real_eval(*args, **kw)

    monkeypatch.setattr(training, "evaluate_luma", ctrl_c_on_fourth_evaluation)
    cut = tmp_path / "cut"
    with pytest.raises(KeyboardInterrupt):
        train(TrainConfig(**{**cfg.__dict__, "out_dir": str(cut)}), progress=False)
    assert torch.load(cut / "residual-x3" / "train_state.pt", weights_only=False)["step"] == 10
    run(TORCHRUN + SMOKE + ["--out-dir", str(cut), "--resume"])
    out = cut / "residual-x3"
    assert not (out / "train_state.pt").exists()
    info = json.loads((out / "history.json").read_text())
    assert [h["step"] for h in info["history"]] == [1, 2, 6, 20] and info["processes"] == 2   # 10: interrupted
    assert_close(weights(out / "snapshots" / "step-000020"),
                 weights(Path(straight["folder"]) / "snapshots" / "step-000020"))


@pytest.mark.slow
def test_ctrl_c_under_torchrun_saves_once_and_resume_finishes(tmp_path):
    """SIGINT to torchrun (a terminal's Ctrl-C) once the run has written its first evaluation:
    the ranks stop before the same step, rank 0 saves train_state.pt once; --resume finishes."""
    out = tmp_path / "run" / "residual-x3"
    cmd = TORCHRUN + SMOKE + ["--steps", "1500", "--out-dir", str(tmp_path / "run")]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        while not (out / "history.json").exists() and proc.poll() is None:
            time.sleep(0.2)
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        proc.kill()
    assert proc.returncode != 0 and stderr.count("interrupted after step") == 1, stderr[-3000:]
    state = torch.load(out / "train_state.pt", weights_only=False)
    assert 0 < state["step"] < 1500 and state["history"][-1]["step"] <= state["step"]
    run(TORCHRUN + SMOKE + ["--steps", "1500", "--out-dir", str(tmp_path / "run"), "--resume"], timeout=600)
    assert not (out / "train_state.pt").exists()
    assert json.loads((out / "history.json").read_text())["history"][-1]["step"] == 1500
