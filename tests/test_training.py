"""srcnn.tooling.training and train.py: schedule, augmentation, the real loop on tiny data, resume,
determinism, and (slow) `python train.py --smoke` end to end."""

import json
import math
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from srcnn.tooling import training
from srcnn.torch_models import ResidualSRCNN, parameter_count
from srcnn.tooling.training import TrainConfig, augment, lr_at, train
from srcnn.weights import BUNDLED_DIR, load_from_folder

from stand_ins import load_train_script, tiny_config

def weights(folder: Path) -> dict[str, torch.Tensor]:
    return load_file(folder / "model.safetensors")


# ----------------------------------------------------------------------------- pure functions

@pytest.mark.parametrize("kind", ["srcnn", "residual"])
def test_defaults_are_those_of_the_shipped_weights(kind):
    """What the shipped x3 runs recorded in their history.json is what TrainConfig() trains now
    (except where the run wrote and how many threads: train.py sets those)."""
    recorded = json.loads((BUNDLED_DIR / f"{kind}-x3" / "history.json").read_text())["config"]
    defaults = {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(TrainConfig(kind=kind)).items()}
    differ = {k: (defaults[k], v) for k, v in recorded.items() if defaults[k] != v}
    assert set(differ) <= {"out_dir", "threads"}, differ
    # fields added since, each off by default (the recipe as it was): JPEG inputs, streaming
    added = {"jpeg_quality": None, "jpeg_copies": 3, "stream": False, "workers": 2, "per_photo": 16}
    assert set(defaults) - set(recorded) == set(added)
    assert {k: defaults[k] for k in added} == added


def test_lr_schedule_is_cosine_from_lr_to_lr_min():
    c = TrainConfig(steps=1000, lr=1e-3, lr_min=1e-5)
    assert lr_at(c, 0) == pytest.approx(1e-3)
    assert lr_at(c, 500) == pytest.approx((1e-3 + 1e-5) / 2)
    assert lr_at(c, 1000) == pytest.approx(1e-5)
    assert lr_at(c, 5000) == pytest.approx(1e-5)  # past the end: stays at the floor
    values = [lr_at(c, s) for s in range(0, 1001, 50)]
    assert all(a > b for a, b in zip(values, values[1:]))


def test_augment_is_the_dihedral_group():
    x = torch.arange(25.0).reshape(1, 1, 5, 5)
    images = [augment(x, k) for k in range(8)]
    assert len({tuple(t.flatten().tolist()) for t in images}) == 8          # 8 distinct transforms
    for t in images:
        assert sorted(t.flatten().tolist()) == sorted(x.flatten().tolist())  # pixels permuted only
    assert torch.equal(images[0], x)
    for k in range(8):                                                     # closed under composition
        for j in range(8):
            assert any(torch.equal(augment(images[k], j), im) for im in images)
    # inputs and labels stay aligned: augmenting commutes with cropping the centre
    big = torch.rand(1, 1, 33, 33)
    for k in range(8):
        assert torch.equal(augment(big, k)[..., 6:-6, 6:-6], augment(big[..., 6:-6, 6:-6], k))


def test_bad_kind_or_scale_is_a_value_error(tmp_path):
    with pytest.raises(ValueError, match="kind"):
        train(TrainConfig(kind="vdsr", out_dir=str(tmp_path)), progress=False)
    with pytest.raises(ValueError, match="scale"):
        train(TrainConfig(scale=5, out_dir=str(tmp_path)), progress=False)


# ----------------------------------------------------------------------------- the real loop

def test_tiny_run_writes_a_complete_folder_that_reloads_strictly(tmp_path):
    cfg = tiny_config(tmp_path)
    summary = train(cfg, progress=False)
    out = Path(summary["folder"])
    assert out == tmp_path / "out" / "residual-x3"
    assert {"config.json", "model.safetensors", "history.json"} <= {p.name for p in out.iterdir()}
    assert not (out / "train_state.pt").exists()  # removed once the run completes

    info = json.loads((out / "history.json").read_text())
    steps = [h["step"] for h in info["history"]]
    assert steps == sorted(set(steps)) and steps[-1] == 6 and 3 in steps
    row = info["history"][-1]
    assert set(row) >= {"step", "train_loss", "train_bicubic_loss", "val_psnr", "val_bicubic_psnr", "lr", "seconds"}
    assert all(math.isfinite(h["val_psnr"]) for h in info["history"])
    assert info["config"]["images"] == cfg.images and info["patches"] == summary["patches"] > 0
    assert info["hardware"]["device"] == "cpu" and info["hardware"]["threads"] == 1

    snaps = sorted(p.name for p in (out / "snapshots").iterdir())
    assert snaps[-1] == "step-000006" and len(snaps) >= 2

    model = load_from_folder("residual", out)  # from_pretrained(strict=True)
    assert type(model).__name__ == "ResidualSRCNN" and model.scale == 3 and parameter_count(model) == 8129
    best = max(info["history"], key=lambda h: h["val_psnr"])
    assert summary["best_val_psnr"] == best["val_psnr"] and summary["best_step"] == best["step"]
    # the saved weights are the best ones: evaluating them gives the best row's PSNR
    v, vb = training.evaluate_luma(model, training.validation_pairs(cfg), 3, torch.device("cpu"))
    assert v == pytest.approx(best["val_psnr"], abs=1e-4) and vb == pytest.approx(best["val_bicubic_psnr"])


def test_range_run_learns_from_every_factor_and_reloads_as_the_range_network(tmp_path):
    """--scale 1.1-2: patches from every factor in RANGE_FACTORS (one in n each, so as many as
    one factor's), validation at x1.5 with 2 px shaved, a folder named for the range."""
    from srcnn.imaging import imresize, luma, modcrop, pil_to_arrays, round8
    from srcnn.tooling.data import RANGE_FACTORS, load_images, make_patches
    images = load_images(["chelsea"])
    one = make_patches(images, 3, 6, rescales=(1.0,))
    mixed = make_patches(images, "1.1-2", 6, rescales=(1.0,))
    assert 0.9 * len(one.inputs) <= len(mixed.inputs) <= len(one.inputs) + len(RANGE_FACTORS)   # crops differ a little
    # the first patch is the 1.1 factor's first: written out here from imresize and round8
    hr = modcrop(pil_to_arrays(images["chelsea"])[0], 11)
    lr = round8(imresize(hr, size=(hr.shape[0] * 10 // 11, hr.shape[1] * 10 // 11)))
    up = imresize(luma(lr), size=hr.shape[:2])
    assert np.array_equal(mixed.inputs[0], up[:33, :33]) and np.array_equal(mixed.labels[0], luma(hr)[6:27, 6:27])

    cfg = tiny_config(tmp_path, scale="1.1-2")
    summary = train(cfg, progress=False)
    out = Path(summary["folder"])
    assert out == tmp_path / "out" / "residual-x1.1-2"
    model = load_from_folder("residual", out)
    assert model.scale == "1.1-2"
    assert training.validation_border(cfg) == 2
    v, _ = training.evaluate_luma(model, training.validation_pairs(cfg), 2, torch.device("cpu"))
    assert v == pytest.approx(summary["best_val_psnr"], abs=1e-4)


def test_same_seed_same_weights_other_seed_other_weights(tmp_path):
    a = train(tiny_config(tmp_path / "a"), progress=False)
    b = train(tiny_config(tmp_path / "b"), progress=False)
    c = train(tiny_config(tmp_path / "c", seed=1), progress=False)
    wa, wb, wc = (weights(Path(s["folder"]) / "snapshots" / "step-000006") for s in (a, b, c))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    assert not all(torch.equal(wa[k], wc[k]) for k in wa)


def test_interrupt_saves_state_and_resume_finishes_like_an_uninterrupted_run(tmp_path, monkeypatch):
    straight = train(tiny_config(tmp_path / "straight"), progress=False)

    cfg = tiny_config(tmp_path / "interrupted")
    real_eval, calls = training.evaluate_luma, []

    def ctrl_c_on_second_evaluation(*args, **kw):
        calls.append(1)
        if len(calls) == 3:  # evaluations at steps 1 (snapshot), 2 (snapshot), then 3: Ctrl-C there
            raise KeyboardInterrupt
        return real_eval(*args, **kw)

    monkeypatch.setattr(training, "evaluate_luma", ctrl_c_on_second_evaluation)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False)
    out = tmp_path / "interrupted" / "out" / "residual-x3"
    state = torch.load(out / "train_state.pt", weights_only=False)
    assert state["step"] == 3  # three optimizer steps were applied before the interrupt
    monkeypatch.setattr(training, "evaluate_luma", real_eval)

    resumed = train(replace(cfg, resume=True), progress=False)
    assert not (out / "train_state.pt").exists()
    final_a = weights(Path(straight["folder"]) / "snapshots" / "step-000006")
    final_b = weights(out / "snapshots" / "step-000006")
    assert all(torch.equal(final_a[k], final_b[k]) for k in final_a)
    assert resumed["steps"] == 6


def test_interrupt_in_the_middle_of_a_step_resumes_exactly_too(tmp_path, monkeypatch):
    """Ctrl-C after the batch was drawn but before the update: that step is redone, same batch."""
    straight = train(tiny_config(tmp_path / "straight"), progress=False)
    cfg = tiny_config(tmp_path / "interrupted")
    real_lr, raised = training.lr_at, []

    def ctrl_c_before_step_4_is_applied(c, step):
        if step == 4 and not raised:
            raised.append(step)
            raise KeyboardInterrupt
        return real_lr(c, step)

    monkeypatch.setattr(training, "lr_at", ctrl_c_before_step_4_is_applied)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False)
    out = tmp_path / "interrupted" / "out" / "residual-x3"
    assert torch.load(out / "train_state.pt", weights_only=False)["step"] == 4
    train(replace(cfg, resume=True), progress=False)
    final_a = weights(Path(straight["folder"]) / "snapshots" / "step-000006")
    final_b = weights(out / "snapshots" / "step-000006")
    assert all(torch.equal(final_a[k], final_b[k]) for k in final_a)


def test_resume_extends_a_run_to_more_steps(tmp_path, monkeypatch):
    cfg = tiny_config(tmp_path, steps=12, eval_every=3)
    real_eval = training.evaluate_luma
    seen = []

    def stop_at_step_6(model, pairs, scale, device):
        seen.append(1)
        if len(seen) == 4:  # steps 1, 3, 4 (snapshots/eval), then 6
            raise KeyboardInterrupt
        return real_eval(model, pairs, scale, device)

    monkeypatch.setattr(training, "evaluate_luma", stop_at_step_6)
    with pytest.raises(KeyboardInterrupt):
        train(cfg, progress=False)
    monkeypatch.setattr(training, "evaluate_luma", real_eval)
    summary = train(replace(cfg, resume=True), progress=False)
    info = json.loads((Path(summary["folder"]) / "history.json").read_text())
    steps = [h["step"] for h in info["history"]]
    assert steps[0] < 6 and steps[-1] == 12 and steps == sorted(steps)
    assert info["history"][-1]["seconds"] >= info["history"][0]["seconds"]


# ----------------------------------------------------------------------------- train.py

def test_train_script_plans_the_networks_for_jpeg_inputs():
    """--jpeg: each kind and factor fine-tuned from its own clean network on JPEG low-res images,
    the step picked on the validation JPEGs, into <kind>-x<scale>-jpeg/; the shipped step counts."""
    script = load_train_script()
    cfgs = script.configs(script.parse_args(["--jpeg", "--scale", "2", "3", "4"]))
    assert {(c.kind, c.scale) for c in cfgs} == {(k, s) for k in ("srcnn", "residual") for s in (2, 3, 4)}
    again = [c for c in cfgs if c.init_from == str(training.folder(c))]     # trained on from itself, after
    assert [(c.kind, c.scale) for c in again] == list(script.JPEG_AGAIN)
    for c in again:
        first = cfgs[cfgs.index(c) - 1]
        assert c == replace(first, init_from=str(training.folder(first)), steps=script.JPEG_AGAIN[c.kind, c.scale][0],
                            lr=script.JPEG_AGAIN[c.kind, c.scale][1])
    cfgs = [c for c in cfgs if c not in again]
    for c in cfgs:
        steps = script.JPEG_STEPS_OWN.get((c.kind, c.scale), script.JPEG_STEPS)
        n1 = script.JPEG_N1.get((c.kind, c.scale), 64)             # widened from the clean network
        assert c == TrainConfig(kind=c.kind, scale=c.scale, threads=1, steps=steps, val_set="jpeg", n1=n1,
                                jpeg_quality=script.JPEG_QUALITY, init_from=f"checkpoints/{c.kind}-x{c.scale}")
        assert training.folder(c) == Path("checkpoints") / f"{c.kind}-x{c.scale}-jpeg"
    assert {c.steps for c in cfgs} == {3000, 8000} and {c.n1 for c in cfgs} == {64, 128}
    (c,) = script.configs(script.parse_args(["--jpeg", "--kind", "srcnn", "--scale", "2", "--steps", "40"]))
    assert c.steps == 40


def test_train_script_maps_flags_onto_the_config():
    script = load_train_script()
    cfgs = script.configs(script.parse_args([]))
    # x3 first: x2 and x4 start from it; the range network (factors 1.1 to 2) from x2; the
    # small-factor anchors from the range network
    anchors = (1.1, 1.2, 1.3, 1.5, 1.75)
    assert [(c.kind, c.scale) for c in cfgs] == [(k, s) for s in (3, 2, 4, "1.1-2", *anchors)
                                                 for k in ("srcnn", "residual")]
    # the shipped weights' settings: TrainConfig's defaults, one thread; the others fine-tuned, fewer steps
    for c in cfgs:
        if c.scale == 3:
            assert c == TrainConfig(kind=c.kind, scale=3, threads=1)
        elif c.scale in anchors:      # fine-tuned at its factor alone, the step picked on clean photos
            assert c == TrainConfig(kind=c.kind, scale=c.scale, threads=1, steps=script.ANCHOR_STEPS,
                                    init_from=f"checkpoints/{c.kind}-x1.1-2", val_set="clean")
        else:
            start, steps = ("x2", script.RANGE_STEPS) if c.scale == "1.1-2" else ("x3", script.FINE_TUNE_STEPS)
            assert c == TrainConfig(kind=c.kind, scale=c.scale, threads=1, steps=steps,
                                    init_from=f"checkpoints/{c.kind}-{start}")
    (c,) = script.configs(script.parse_args(["--kind", "srcnn", "--scale", "4", "--from-scratch"]))
    assert c.init_from is None and c.steps == TrainConfig().steps

    args = script.parse_args(["--kind", "residual", "--scale", "3", "--steps", "50", "--batch-size", "32",
                              "--lr", "0.002", "--seed", "7", "--out-dir", "runs", "--images", "photos",
                              "--threads", "2", "--device", "cpu", "--resume"])
    (c,) = script.configs(args)
    assert (c.kind, c.scale, c.steps, c.batch_size, c.lr, c.seed, c.out_dir, c.images, c.threads, c.device,
            c.resume) == ("residual", 3, 50, 32, 0.002, 7, "runs", "photos", 2, "cpu", True)


def test_images_stream_unless_in_memory_and_the_vendored_sets_stay_in_memory():
    script = load_train_script()
    args = script.parse_args(["--scale", "3", "--kind", "srcnn", "--images", "photos", "--workers", "3"])
    (c,) = script.configs(args)
    assert c.stream and c.images == "photos" and c.workers == 3
    (c,) = script.configs(script.parse_args(["--scale", "3", "--kind", "srcnn", "--images", "photos", "--in-memory"]))
    assert not c.stream
    assert not any(c.stream for c in script.configs(script.parse_args([])))
    assert not any(c.stream for c in script.configs(script.parse_args(["--smoke"])))


def test_smoke_never_writes_into_the_bundled_checkpoints():
    script = load_train_script()
    cfgs = script.configs(script.parse_args(["--smoke"]))
    assert cfgs and all(c.out_dir != "checkpoints" and c.steps <= 50 for c in cfgs)
    (c,) = script.configs(script.parse_args(["--smoke", "--kind", "srcnn", "--scale", "2", "--out-dir", "x"]))
    assert c.out_dir == "x" and c.train_names == ("astronaut",) and c.val_crop


def test_push_only_needs_a_repo():
    script = load_train_script()
    with pytest.raises(SystemExit):
        script.parse_args(["--push-only"])


@pytest.mark.slow
def test_smoke_end_to_end_through_train_py(tmp_path, capsys):
    """`python train.py --smoke`: train, save, card, reload with from_pretrained, evaluate."""
    from srcnn.tooling.card import measure
    from srcnn.tooling.publish import prepare_upload

    script = load_train_script()
    script.main(["--smoke", "--kind", "residual", "--scale", "3", "--out-dir", str(tmp_path), "--no-progress"])
    out = tmp_path / "residual-x3"
    assert "best val PSNR-Y" in capsys.readouterr().out
    model = load_from_folder("residual", out)
    scores = measure(model, 3, ["chelsea"], crop=96)
    assert len(scores) == 1 and np.isfinite(scores[0].psnr) and scores[0].size == (96, 96)
    assert "model-index" in (out / "README.md").read_text()
    assert "model.safetensors" in prepare_upload(out)


def test_init_from_starts_from_another_checkpoints_weights(tmp_path):
    torch.manual_seed(3)
    start = ResidualSRCNN(scale=3)
    start.save_pretrained(tmp_path / "start")
    cfg = tiny_config(tmp_path, kind="residual", scale=2, steps=2, lr=0.0, lr_min=0.0,
                      init_from=str(tmp_path / "start"))
    summary = train(cfg, progress=False)
    saved = weights(Path(summary["folder"]))
    for name, value in start.state_dict().items():  # lr 0: the weights are the starting ones
        torch.testing.assert_close(saved[name], value)
    with pytest.raises(ValueError, match="architecture"):
        train(replace(cfg, n1=16, out_dir=str(tmp_path / "other")), progress=False)
    with pytest.raises(ValueError, match="only n1 may grow"):
        train(replace(cfg, f1=7, out_dir=str(tmp_path / "other")), progress=False)
    grown = train(replace(cfg, n1=80, out_dir=str(tmp_path / "wide")), progress=False)   # more filters: widened
    from srcnn.weights import load_from_folder
    wide, x = load_from_folder("residual", grown["folder"]), torch.rand(1, 1, 24, 24)
    with torch.no_grad():
        assert wide.n1 == 80 and torch.allclose(wide(x), start(x), atol=1e-6)


@pytest.mark.parametrize("kind", ["srcnn", "residual"])
def test_a_widened_network_computes_what_it_was_widened_from(kind):
    from srcnn.torch_models import model_class
    torch.manual_seed(0)
    small, wide = model_class(kind)(n1=8, scale=2), model_class(kind)(n1=12, scale=2)
    with torch.no_grad():                  # a trained-looking network: no zero layer to hide a mistake
        for p in small.parameters():
            p.normal_(0, 0.1)
    before = {k: v.clone() for k, v in small.state_dict().items()}
    wide.load_state_dict(training.widened(small.state_dict(), wide.state_dict()))
    x = torch.rand(2, 1, 20, 20)
    with torch.no_grad():
        assert torch.allclose(wide(x), small(x), atol=1e-6)
        assert wide.conv1.weight[8:].abs().sum() > 0          # the new filters are there, their effect zero
    assert all(torch.equal(before[k], v) for k, v in small.state_dict().items())   # the input unchanged

