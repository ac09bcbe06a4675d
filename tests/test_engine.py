"""The fast engine gives the plain float32 PyTorch pixels, and a runner prepares each network once.

Every bundled (kind, scale) is checked; a missing checkpoint fails the test.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from srcnn import engine, imaging, pipeline
from srcnn.models import Network
from srcnn.onnx_graph import network_bytes
from srcnn.runner import Runner
from srcnn.torch_models import ResidualSRCNN, SRCNN
from srcnn.tiling import tiled_apply
from srcnn.weights import BUNDLED_DIR, load_model, subfolder

PAIRS = [(k, s) for k in ("srcnn", "residual") for s in (2, 3, 4)]
ONE_LEVEL = 1.0 / 255.0


def plain_float32(model: SRCNN, y: np.ndarray) -> np.ndarray:
    """The reference: the model in NCHW float32 on the whole mirror-padded image."""
    x = torch.from_numpy(np.pad(y, model.radius, mode="symmetric"))[None, None]
    with torch.inference_mode():
        return model.to(memory_format=torch.contiguous_format)(x)[0, 0].numpy().copy()


def luma_photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth-ish bicubic-upscaled luma with texture, HW float32 in 16/255..235/255."""
    rng = np.random.default_rng(seed)
    small = rng.random((h // 3 + 1, w // 3 + 1, 1), dtype=np.float32)
    return imaging.luma(np.clip(imaging.imresize(small, 3.0)[:h, :w], 0, 1))


@pytest.mark.parametrize("kind,scale", PAIRS)
def test_fast_path_matches_plain_float32(kind, scale):
    assert (BUNDLED_DIR / subfolder(kind, scale) / "model.safetensors").is_file(), f"{kind}-x{scale} missing"
    model = pipeline.model_for(kind, scale)
    y = luma_photo(97, 131, seed=scale)
    ref = plain_float32(load_model(kind, scale), y)
    for eng in engine.ENGINES:
        for tile in (None, 40, pipeline.DEFAULT_TILE):
            out = pipeline.network_luma(y, kind, scale, tile, engine=eng)
            assert out.shape == y.shape
            assert np.abs(out - ref).max() < 1e-5, (eng, tile)
            assert np.abs(np.rint(out * 255) - np.rint(ref * 255)).max() <= 1, (eng, tile)
    assert model is pipeline.model_for(kind, scale)


@pytest.mark.parametrize("cls", [SRCNN, ResidualSRCNN])
@pytest.mark.parametrize("arch", [(9, 1, 5), (9, 5, 5), (3, 1, 1)])
def test_deployed_form_equals_model_for_any_architecture(cls, arch):
    torch.manual_seed(0)
    model = cls(*arch).eval()
    with torch.no_grad():   # a last layer with real weight, not the 1e-3 init
        model.conv3.weight.normal_(0, 0.05)
        model.conv3.bias.fill_(0.1)
    y = np.random.default_rng(1).random((23, 37), dtype=np.float32)
    ref = plain_float32(model, y)
    runner = Runner()
    deployed = tiled_apply(runner.batch_fn(model, "onnx"), y, model.radius, tile=16, batch=3)
    assert np.abs(deployed - ref).max() < 1e-5
    net = Network.from_module(model)           # the runtime form: numpy weights, the same graph
    assert np.abs(tiled_apply(runner.batch_fn(net, "onnx"), y, model.radius, tile=None) - ref).max() < 1e-5
    same = engine.make_session(network_bytes(net, same_size=True), threads=1)
    assert np.abs(same.run(None, {"x": y[None, None]})[0][0, 0] - ref).max() < 1e-5
    np.testing.assert_allclose(net.numpy_forward(np.pad(y, model.radius, mode="symmetric")[None, None])[0, 0],
                               ref, atol=1e-5)


def test_session_is_built_once_per_model_and_quickly():
    torch.manual_seed(0)
    model = ResidualSRCNN().eval()
    runner = Runner()
    runner.prepare(model)
    fn = runner.batch_fn(model)
    for _ in range(3):
        fn(np.zeros((2, 30, 30), np.float32))
    runner.batch_fn(model, "onnx")(np.zeros((1, 20, 25), np.float32))
    assert len(runner.session_builds) == 1
    assert runner.session_builds[0][0] == "residual"
    assert runner.session_builds[0][2] < 10  # the goal is < 2 s; a loaded CI box gets slack (no timed assertions)
    runner.close()


def the_model_for_every_checkpoint(monkeypatch, runner: Runner, model) -> None:
    """``runner`` serves ``model`` for every published checkpoint (no weights read)."""
    monkeypatch.setattr(runner, "network", lambda checkpoint: model)


def test_pipeline_uses_the_loaded_model_and_warm_up_prepares_it(monkeypatch):
    torch.manual_seed(0)
    model = SRCNN(scale=2).eval()
    runner = Runner()
    the_model_for_every_checkpoint(monkeypatch, runner, model)
    pipeline.warm_up([("srcnn", 2)], runner=runner)
    assert len(runner.session_builds) == 1
    y = luma_photo(30, 40)
    out = pipeline.network_luma(y, "srcnn", 2, 16, runner=runner)
    assert len(runner.session_builds) == 1
    assert np.abs(out - plain_float32(model, y)).max() < 1e-5
    runner.close()


def test_engine_choice_by_argument_and_environment(monkeypatch):
    monkeypatch.delenv(engine.ENGINE_ENV, raising=False)
    assert engine.default_engine() == engine.DEFAULT_ENGINE == "onnx"
    monkeypatch.setenv(engine.ENGINE_ENV, "torch")
    assert engine.default_engine() == "torch"
    monkeypatch.setenv(engine.ENGINE_ENV, "tensorrt")
    with pytest.raises(ValueError, match="unknown engine"):
        engine.default_engine()
    with pytest.raises(ValueError, match="unknown engine"):
        Runner().batch_fn(SRCNN(), "tpu")
    with pytest.raises(ValueError, match="unknown engine"):
        Runner("tpu")


def test_upscale_same_pixels_on_both_engines(monkeypatch):
    from PIL import Image
    torch.manual_seed(0)
    model = ResidualSRCNN(scale=3).eval()
    with torch.no_grad():
        model.conv3.weight.normal_(0, 0.05)
    runner = Runner()
    the_model_for_every_checkpoint(monkeypatch, runner, model)
    lr = Image.fromarray(np.random.default_rng(0).integers(0, 256, (21, 30, 3), dtype=np.uint8))
    outs = []
    for eng in engine.ENGINES:
        monkeypatch.setenv(engine.ENGINE_ENV, eng)
        outs.append(np.asarray(pipeline.upscale(lr, 3, "residual", runner=runner), np.int16))
    assert outs[0].shape == (63, 90, 3)
    assert np.abs(outs[0] - outs[1]).max() <= 1
