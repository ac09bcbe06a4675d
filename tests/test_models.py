"""srcnn.torch_models: the paper's architecture, the residual variant, save / load."""

import math

import pytest
import torch

from srcnn.architecture import PAPER, Architecture
from srcnn.models import KINDS, Network
from srcnn.torch_models import ResidualSRCNN, SRCNN, model_class, parameter_count, torch_module


def test_default_is_the_papers_9_1_5_with_64_32_filters():
    m = SRCNN()
    assert (m.conv1.kernel_size, m.conv2.kernel_size, m.conv3.kernel_size) == ((9, 9), (1, 1), (5, 5))
    assert (m.conv1.out_channels, m.conv2.out_channels) == (64, 32)
    assert m.radius == 6 and SRCNN(f2=5).radius == 8
    assert parameter_count(m) == 9 * 9 * 64 + 64 + 64 * 32 + 32 + 32 * 5 * 5 + 1 == 8129


def test_same_parameter_count_for_both_kinds():
    assert parameter_count(SRCNN()) == parameter_count(ResidualSRCNN())
    assert parameter_count(SRCNN(f2=5)) == parameter_count(ResidualSRCNN(f2=5))


def test_valid_convolutions_crop_the_radius():
    x = torch.rand(2, 1, 33, 33)
    assert SRCNN()(x).shape == (2, 1, 21, 21)
    assert ResidualSRCNN()(x).shape == (2, 1, 21, 21)


def test_residual_adds_the_centred_input_to_the_body():
    torch.manual_seed(0)
    m = ResidualSRCNN()
    x = torch.rand(1, 1, 20, 24)
    r = m.radius
    torch.testing.assert_close(m(x), x[..., r:-r, r:-r] + m.body(x))
    with torch.no_grad():  # with a zero body the residual net is the identity on the centre
        m.conv3.weight.zero_()
        m.conv3.bias.zero_()
        torch.testing.assert_close(m(x), x[..., r:-r, r:-r])


def test_save_and_load_round_trip_strict(tmp_path):
    torch.manual_seed(1)
    m = ResidualSRCNN(scale=4)
    m.save_pretrained(tmp_path)
    assert (tmp_path / "config.json").is_file() and (tmp_path / "model.safetensors").is_file()
    loaded = ResidualSRCNN.from_pretrained(str(tmp_path), strict=True)
    assert loaded.scale == 4 and loaded.kind == "residual"
    x = torch.rand(1, 1, 15, 15)
    torch.testing.assert_close(loaded(x), m(x))


def test_model_class_and_bad_arguments():
    assert model_class("srcnn") is SRCNN and model_class("residual") is ResidualSRCNN
    assert KINDS == ("srcnn", "residual")
    with pytest.raises(ValueError, match="unknown model kind"):
        model_class("vdsr")
    with pytest.raises(ValueError, match="odd"):
        SRCNN(f1=4)


def test_one_architecture_holds_the_sizes_the_radius_and_the_check():
    assert PAPER == Architecture(9, 1, 5, 64, 32) and PAPER.radius == 6 and Architecture(f2=5).radius == 8
    assert SRCNN().architecture == PAPER == ResidualSRCNN().architecture
    assert sum(math.prod(s) for s in PAPER.tensor_shapes().values()) == parameter_count(SRCNN()) == 8129
    assert PAPER.multiply_adds == 8032 and Architecture(n1=128).multiply_adds == 15264   # per output pixel
    with pytest.raises(ValueError, match="odd"):
        Architecture(f3=4)


def test_torch_module_is_the_runtime_form_back_as_a_module():
    torch.manual_seed(2)
    m = ResidualSRCNN(f2=3, scale=2)
    back = torch_module(Network.from_module(m))
    assert type(back) is ResidualSRCNN and not back.training and back.scale == 2 and back.architecture == m.architecture
    x = torch.rand(1, 1, 20, 20)
    torch.testing.assert_close(back(x), m(x))
