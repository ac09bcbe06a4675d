"""srcnn.tooling.jpeg_table: what the networks gain on JPEG inputs, and the rule the serving keeps on
the clean validation photos saved as JPEG (no photo where the chosen network trails bicubic)."""

from __future__ import annotations

import pytest

from srcnn import factors
from srcnn.tooling import jpeg_table
from srcnn.tooling.factor_table import load_images


def test_gain_is_against_bicubic_per_image_with_the_worst_named():
    scores = {"bicubic": {"a": 30.0, "b": 40.0}, "residual jpeg": {"a": 31.0, "b": 39.9}}
    mean, worst, name = jpeg_table.gain(scores, "residual jpeg")
    assert mean == pytest.approx(0.45) and worst == pytest.approx(-0.1) and name == "b"
    assert jpeg_table.cell(scores, "residual jpeg") == "+0.45 / -0.10 b"
    assert jpeg_table.cell(scores, "bicubic") == "35.00 dB"


def test_measure_puts_every_candidate_on_the_same_jpeg():
    images = dict(list(load_images("validation-clean").items())[:2])
    scores = jpeg_table.measure(images, 2, 60)
    assert set(scores) == {"bicubic"} | {f"{k} {s}" for k in ("srcnn", "residual") for s in jpeg_table.SETTINGS}
    for kind in ("srcnn", "residual"):          # at quality 60 the choice is the compressed network
        assert scores[f"{kind} chosen"] == scores[f"{kind} jpeg"]
    clean = jpeg_table.measure(images, 2, None, {"chosen": "auto", "clean": "clean"})
    assert clean["residual chosen"] == clean["residual clean"]        # a PNG: the clean network
    assert all(clean["bicubic"][n] > scores["bicubic"][n] for n in images)   # the JPEG costs bicubic too


@pytest.fixture(scope="module")
def validation_scores():
    images, cache = load_images("validation-clean"), {}

    def at(factor: float, quality: int):
        if (factor, quality) not in cache:
            cache[factor, quality] = jpeg_table.measure(images, factor, quality, {"chosen": "auto"})
        return cache[factor, quality]
    return at


@pytest.mark.slow
@pytest.mark.parametrize("factor", [2, 3, 4])
@pytest.mark.parametrize("quality", [90, 75, 50, 30])
@pytest.mark.parametrize("kind", ["srcnn", "residual"])
def test_the_choice_never_trails_bicubic_on_a_validation_jpeg(validation_scores, kind, factor, quality):
    """srcnn.upscale on a JPEG (its quality read from the file) trails bicubic on no photo of
    data/validation-clean by more than factors.TOLERANCE_DB."""
    mean, worst, name = jpeg_table.gain(validation_scores(factor, quality), f"{kind} chosen")
    assert worst >= -factors.TOLERANCE_DB, f"{kind} x{factor} q{quality}: {mean:+.2f} / {worst:+.2f} {name}"
