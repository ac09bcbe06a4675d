"""srcnn.card: the model card carries the architecture, the training facts and the measured
numbers, in the text and in the Hub's model-index metadata."""

import json
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import ModelCard

import srcnn
from srcnn import pipeline
from srcnn.card import measure, parse_folder_name, upscale_with, write_card
from srcnn.data import load_images
from srcnn.imaging import degrade, pil_to_arrays, arrays_to_pil, modcrop
from srcnn.training import train
from srcnn.weights import load_from_folder

from test_training import tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("card")
    return Path(train(tiny_config(tmp, kind="srcnn", scale=2), progress=False)["folder"])


def test_card_has_model_index_and_the_measured_numbers(trained):
    path = write_card(trained)
    assert path == trained / "README.md"
    card = ModelCard.load(path)
    model = load_from_folder("srcnn", trained)
    scores = measure(model, 2, ["chelsea"], crop=48)
    by_name = {r.metric_name: r for r in card.data.eval_results}
    ours = next(r for name, r in by_name.items() if name.startswith("PSNR (Y channel"))
    bic = next(r for name, r in by_name.items() if name.startswith("PSNR of bicubic"))
    assert ours.metric_value == pytest.approx(scores[0].psnr, abs=1e-3)
    assert bic.metric_value == pytest.approx(scores[0].bicubic_psnr, abs=1e-3)
    assert {r.metric_type for r in card.data.eval_results} == {"psnr", "ssim"}
    assert all(r.task_type == "image-super-resolution" and r.dataset_split == "validation"
               for r in card.data.eval_results)
    assert card.data.model_name == "srcnn-x2" and card.data.license == "mit"

    text = card.text
    info = json.loads((trained / "history.json").read_text())
    for fact in ["9-1-5", "n1=64", "n2=32", "8,129", "x2", "2 px border shaved", "MATLAB-style bicubic",
                 "batch 8", "cosine", "steps trained: 6", "chelsea", "Data and licenses",
                 f"{scores[0].psnr:.2f} / {scores[0].ssim:.4f}", f"{scores[0].bicubic_psnr:.2f}",
                 info["hardware"]["cpu"]]:
        assert fact in text, fact


def test_card_of_a_run_without_recorded_hardware(trained, tmp_path):
    """The six shipped runs started before history.json recorded the hardware: still a card."""
    folder = tmp_path / "srcnn-x2"
    folder.mkdir()
    for f in ("config.json", "model.safetensors"):
        (folder / f).write_bytes((trained / f).read_bytes())
    info = json.loads((trained / "history.json").read_text())
    del info["hardware"], info["patches"]
    (folder / "history.json").write_text(json.dumps(info))
    text = write_card(folder).read_text()
    assert "the run did not record it" in text and "model-index" in text


def test_upscale_with_is_the_pipelines_path(trained, monkeypatch):
    """The card measures exactly what srcnn.upscale / srcnn.compare would output."""
    model = load_from_folder("srcnn", trained)
    monkeypatch.setattr(pipeline, "model_for", lambda kind, scale: model)
    hr = load_images(["coffee"])["coffee"].crop((100, 100, 160, 148))
    lr = degrade(arrays_to_pil(modcrop(pil_to_arrays(hr)[0], 2)), 2)
    a = np.asarray(upscale_with(model, lr, 2))
    b = np.asarray(srcnn.upscale(lr, 2, method="srcnn"))
    assert np.array_equal(a, b)


def test_folder_names_are_checked(tmp_path):
    assert parse_folder_name("checkpoints/residual-x4") == ("residual", 4)
    for bad in ("residual", "residual-x5", "vdsr-x3", "srcnn_x2"):
        with pytest.raises(ValueError, match="<kind>-x<scale>"):
            parse_folder_name(bad)
    with pytest.raises(FileNotFoundError, match="history.json"):
        write_card(tmp_path / "srcnn-x3")
