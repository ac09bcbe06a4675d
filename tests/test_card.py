"""srcnn.tooling.card: the model card carries the architecture, the training facts and the measured
numbers, in the text and in the Hub's model-index metadata."""

import json
from pathlib import Path

import numpy as np
import pytest
from huggingface_hub import ModelCard

import torch
from skimage.metrics import peak_signal_noise_ratio

from srcnn import factors, imaging
from srcnn.tooling.card import measure, write_card
from srcnn.tooling.data import center_crop, load_images
from srcnn.tooling.training import train
from srcnn.weights import BUNDLED_DIR, load_from_folder

from stand_ins import tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("card")
    return Path(train(tiny_config(tmp, kind="srcnn", scale=2), progress=False)["folder"])


def independent_psnr(model, hr, scale: int) -> tuple[float, float]:
    """PSNR-Y of bicubic and of ``model`` on ``hr``, written here from the conventions alone:
    8-bit RGB low-res, bicubic up, the network on Y in one padded PyTorch pass, back to RGB,
    8-bit, Y against the ground truth's Y with scale px shaved (skimage's PSNR)."""
    gt = imaging.modcrop(imaging.pil_to_arrays(hr)[0], scale)
    lr = np.rint(np.clip(imaging.imresize(gt, 1 / scale), 0, 1) * 255) / 255
    up = imaging.imresize(lr, float(scale))
    ycc = imaging.rgb_to_ycbcr(up)
    with torch.no_grad():
        x = torch.from_numpy(np.pad(ycc[:, :, 0], model.radius, mode="symmetric"))[None, None].float()
        ycc[:, :, 0] = model(x)[0, 0].numpy()
    y_gt = imaging.luma(gt)[scale:-scale, scale:-scale] * 255

    def y8(rgb):
        return imaging.luma(np.rint(np.clip(rgb, 0, 1) * 255) / 255)[scale:-scale, scale:-scale] * 255

    return (peak_signal_noise_ratio(y_gt, y8(up), data_range=255),
            peak_signal_noise_ratio(y_gt, y8(imaging.ycbcr_to_rgb(ycc)), data_range=255))


def test_card_has_model_index_and_the_measured_numbers(trained):
    path = write_card(trained)
    assert path == trained / "README.md"
    card = ModelCard.load(path)
    model = load_from_folder("srcnn", trained)
    want_bic, want = independent_psnr(model, center_crop(load_images(["chelsea"])["chelsea"], 48), 2)
    by_name = {r.metric_name: r for r in card.data.eval_results}
    ours = next(r for name, r in by_name.items() if name.startswith("PSNR (Y channel"))
    assert ours.metric_value == pytest.approx(want, abs=0.01)
    assert len(card.data.eval_results) == 2                    # the model's own PSNR and SSIM, nothing of bicubic's
    assert not any("bicubic" in r.metric_name.lower() for r in card.data.eval_results)
    assert f"{want_bic:.2f}" in card.text                      # bicubic stays in the prose table
    assert {r.metric_type for r in card.data.eval_results} == {"psnr", "ssim"}
    assert all(r.task_type == "image-super-resolution" and r.dataset_split == "validation"
               for r in card.data.eval_results)
    assert card.data.model_name == "srcnn-x2" and card.data.license == "mit"

    text = card.text
    info = json.loads((trained / "history.json").read_text())
    scores = measure(model, 2, ["chelsea"], crop=48)
    for fact in ["9-1-5", "n1=64", "n2=32", "8,129", "x2", "2 px border shaved", "MATLAB-style bicubic",
                 "batch 8", "cosine", "steps trained: 6", "chelsea", "Data and licenses",
                 f"{scores[0].psnr:.2f} / {scores[0].ssim:.4f}", f"{scores[0].bicubic_psnr:.2f}",
                 info["hardware"]["cpu"]]:
        assert fact in text, fact
    # a clean network's card says what input it expects and which network serves a JPEG instead
    assert "Expected input: a clean low-resolution image" in text
    assert "quality\n95 or above" in text or "quality 95 or above" in text.replace("\n", " ")
    assert "`srcnn-x2-jpeg`, trained on\nJPEG inputs, serves it" in text


@pytest.mark.parametrize("kind", ["srcnn", "residual"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_shipped_cards_carry_set5_and_set14_in_model_index(kind, scale):
    """huggingface_hub's card parser reads the benchmarks back: PSNR and SSIM on Set5 and Set14.
    Set5 picked the kept step: split validation; Set14 and the held-back photos: test."""
    card = ModelCard.load(BUNDLED_DIR / f"{kind}-x{scale}" / "README.md")
    got = {(r.dataset_name, r.metric_type): r for r in card.data.eval_results if r.dataset_type in ("set5", "set14")}
    assert set(got) == {(s, m) for s in ("Set5", "Set14") for m in ("psnr", "ssim")}
    splits = {r.dataset_name.split(" (")[0]: r.dataset_split for r in card.data.eval_results}
    assert splits == {"Set5": "validation", "Set14": "test", "Bundled held-back photos": "test"}
    assert not any("bicubic" in r.metric_name.lower() for r in card.data.eval_results)
    assert len(card.data.eval_results) == 6                    # PSNR and SSIM of this model on three sets
    assert all(r.dataset_config == f"x{scale}" and "papers' protocol" in r.metric_name for r in got.values())
    assert 25 < got[("Set14", "psnr")].metric_value < got[("Set5", "psnr")].metric_value < 40
    assert 0.7 < got[("Set5", "ssim")].metric_value < 1


def test_range_network_card_measures_at_x1_5_on_the_apps_path(tmp_path):
    """The range network (factors 1.1 to 2) has no whole factor: its card measures at x1.5, the
    photo cropped to a multiple of 3 px, written out here: 8-bit low-res at exactly 2/3 the size,
    bicubic to the truth's size, the network on Y, 8-bit, 2 px shaved (skimage's PSNR)."""
    folder = Path(train(tiny_config(tmp_path, scale="1.1-2"), progress=False)["folder"])
    card = ModelCard.load(write_card(folder))
    model = load_from_folder("residual", folder)
    gt = imaging.modcrop(imaging.pil_to_arrays(center_crop(load_images(["chelsea"])["chelsea"], 48))[0], 3)
    lr = np.rint(np.clip(imaging.imresize(gt, size=(32, 32)), 0, 1) * 255) / 255
    ycc = imaging.rgb_to_ycbcr(imaging.imresize(lr, size=gt.shape[:2]))
    with torch.no_grad():
        x = torch.from_numpy(np.pad(ycc[:, :, 0], model.radius, mode="symmetric"))[None, None].float()
        ycc[:, :, 0] = model(x)[0, 0].numpy()
    out = imaging.luma(np.rint(np.clip(imaging.ycbcr_to_rgb(ycc), 0, 1) * 255) / 255)[2:-2, 2:-2] * 255
    want = peak_signal_noise_ratio(imaging.luma(gt)[2:-2, 2:-2] * 255, out, data_range=255)
    [ours] = [r for r in card.data.eval_results if r.metric_name.startswith("PSNR (Y channel")]
    assert ours.metric_value == pytest.approx(want, abs=0.01) and ours.dataset_config == "x1.5"
    assert card.data.model_name == "residual-x1.1-2"
    assert "by any factor from 1.1 to 2" in card.text and 'srcnn.load_model("residual", \'1.1-2\')' in card.text


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


def test_folder_names_and_history_are_checked(tmp_path):
    with pytest.raises(ValueError, match="<kind>-x<scale>"):
        write_card(tmp_path / "vdsr-x3")
    with pytest.raises(FileNotFoundError, match="history.json"):
        write_card(tmp_path / "srcnn-x3")


def test_every_bundled_cards_model_index_holds_only_its_models_results():
    """All bundled cards (the range networks' and the small-factor anchors' too): the model's own
    PSNR/SSIM only; the set that picked the kept step (history.json: Set5 for x2-x4 and the range,
    the clean validation photos for the anchors, which model-index does not list) is
    ``validation``, the others ``test``."""
    import json

    from srcnn.weights import bundled_folder, bundled_pairs
    for kind, scale in bundled_pairs():
        folder = bundled_folder(kind, scale)
        picked = json.loads((folder / "history.json").read_text())["config"]["val_set"]
        card = ModelCard.load(folder / "README.md")
        results = card.data.eval_results
        assert results and not any("bicubic" in r.metric_name.lower() for r in results), (kind, scale)
        for r in results:
            expected = "validation" if r.dataset_name == picked else "test"
            assert r.dataset_split == expected, (kind, scale, r)


def test_every_bundled_card_says_which_input_its_network_expects():
    """Clean networks: a clean low-res image (PNG, or JPEG from srcnn.factors.CLEAN_FROM_QUALITY
    up); networks for compressed inputs: a JPEG. Read from the shipped cards themselves."""
    from srcnn.factors import CLEAN_FROM_QUALITY
    from srcnn.weights import bundled_checkpoints, bundled_folder
    for c in bundled_checkpoints():
        text = " ".join(ModelCard.load(bundled_folder(c.kind, c.scale, c.compressed) / "README.md").text.split())
        if c.compressed:
            assert "Expected input: a low-resolution image that was saved as a JPEG" in text, c
            for first, last, share in factors.quality_bands(c.kind, c.scale):
                assert f"quality {first} to {last}, " + ("bicubic alone" if share is None else f"with {share:.0%}"
                                                         if share else "this network as published") in text, c
        else:
            assert "Expected input: a clean low-resolution image" in text, c
            assert f"JPEG saved at quality {CLEAN_FROM_QUALITY} or above" in text, c

