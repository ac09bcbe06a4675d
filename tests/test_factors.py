"""srcnn.factors: any factor from 1.1 to 8, MATLAB's output sizes, exact low-resolution sizes, and
the rule that maps a factor to passes of the trained networks."""

from __future__ import annotations

import math

import numpy as np
import pytest

from srcnn import factors
from srcnn.models import RANGE, SCALES
from srcnn.weights import Checkpoint


@pytest.mark.parametrize("ok", [1.1, 1.5, 2, 2.5, 3.0, 7.99, 8])
def test_factors_in_range_are_accepted(ok):
    assert factors.check_factor(ok) == float(ok)


@pytest.mark.parametrize("bad", [1.09, 1, 0, -2, 8.01, 9, float("nan"), float("inf"), True, "2", None])
def test_factors_out_of_range_are_refused_with_the_range(bad):
    with pytest.raises(ValueError, match="scale must be a number from 1.1 to 8"):
        factors.check_factor(bad)


def test_output_size_is_matlab_ceil_without_float_noise():
    assert factors.output_size(41, 30, 2.5) == (103, 75)
    assert factors.output_size(10, 10, 1.1) == (11, 11)      # 10 * 1.1 = 11.000000000000002 in floats
    assert factors.output_size(7, 3, 3) == (21, 9)
    assert factors.output_size(33, 20, 1.15) == (math.ceil(33 * 1.15), 23)


@pytest.mark.parametrize("factor, multiple", [(2, 2), (3, 3), (2.5, 5), (1.5, 3), (1.1, 11), (3.5, 7), (1.25, 5)])
def test_low_res_has_exactly_one_factor_th_of_the_cropped_truth(factor, multiple):
    assert factors.crop_multiple(factor) == multiple
    hr = np.random.default_rng(0).random((64, 53, 3)).astype(np.float32)
    gt, lr = factors.low_res(hr, factor)
    assert gt.shape[0] % multiple == 0 and gt.shape[1] % multiple == 0
    assert gt.shape[0] > 64 - multiple and gt.shape[1] > 53 - multiple
    assert lr.shape == (round(gt.shape[0] / factor), round(gt.shape[1] / factor), 3)
    assert lr.shape[0] * factor == pytest.approx(gt.shape[0]) and lr.shape[1] * factor == pytest.approx(gt.shape[1])


@pytest.mark.parametrize("kind", ["srcnn", "residual"])
@pytest.mark.parametrize("factor", [1.1, 1.15, 1.2, 1.25, 1.3, 1.5, 1.99, 2, 2.5, 3, 3.7, 4, 4.5, 5, 6.3, 8])
def test_plan_passes_multiply_to_the_factor_and_never_use_a_network_above_its_pass(factor, kind):
    passes = factors.plan(factor, kind)
    assert math.prod(f for f, _ in passes) == pytest.approx(factor)
    for f, net in passes:
        assert net is None or (net in (*SCALES, *factors.ANCHORS) and net <= f + 1e-9)
        assert (net in factors.ANCHORS) == (factors.FAMILY_FROM[kind] <= f < min(SCALES))   # the family below x2
        assert (net is None) == (f < factors.FAMILY_FROM[kind])                             # bicubic alone below it
        if net in factors.ANCHORS:                     # the nearest anchor below: none between it and f
            assert not [a for a in factors.ANCHORS if net < a <= f + 1e-9]
    assert len(passes) == (2 if factor > max(SCALES) else 1)
    if factor in SCALES:
        assert passes == [(factor, factor)]                    # the trained factors: their own network



# ----------------------------------------------------------------------------- serving: one answer

def test_serving_answers_what_runs_at_a_factor_from_what_is_bundled():
    r = "residual"
    every = ([Checkpoint(r, s) for s in (2, 3, 4, RANGE, *factors.ANCHORS)]
             + [Checkpoint(r, 2, True), Checkpoint(r, 3, True)])
    assert factors.serving(r, 1.4, bundled=every) == [(1.4, Checkpoint(r, 1.3))]
    assert factors.serving(r, 2.5, bundled=every) == [(2.5, Checkpoint(r, 2))]
    no_anchor = [c for c in every if c.scale != 1.3]
    assert factors.serving(r, 1.4, bundled=no_anchor) == [(1.4, Checkpoint(r, RANGE))]
    assert factors.serving(r, 1.4, bundled=[c for c in no_anchor if c.scale != RANGE]) == [(1.4, None)]
    assert factors.serving("srcnn", 1.15, bundled=every) == [(1.15, None)]          # below the kind's family


def test_serving_a_compressed_input():
    r = "residual"
    every = [Checkpoint(r, s) for s in (2, 3, 4)] + [Checkpoint(r, 2, True), Checkpoint(r, 3, True)]
    assert factors.serving(r, 3.5, True, bundled=every) == [(3.5, Checkpoint(r, 3, True))]
    assert factors.serving(r, 4, True, bundled=every) == [(4.0, None)]            # no x4 network for JPEGs here
    [(f1, first), (f2, second)] = factors.serving(r, 6, True, bundled=every)
    assert (f1, first) == (2.0, Checkpoint(r, 2, True)) and second == Checkpoint(r, 3)   # the 2nd pass: no JPEG left
    assert factors.serving(r, 3, False, bundled=every) == [(3, Checkpoint(r, 3))]


@pytest.mark.parametrize("quality, served", [(None, False), (10, True), (factors.CLEAN_FROM_QUALITY - 1, True),
                                             (factors.CLEAN_FROM_QUALITY, False), (100, False)])
def test_serves_compressed_below_the_measured_quality(quality, served):
    assert factors.serves_compressed(quality) is served


def test_a_compressed_network_serves_each_quality_with_its_bands_share_or_bicubic():
    every = [Checkpoint(k, f, c) for k in ("srcnn", "residual") for f in (2, 3, 4) for c in (False, True)]
    for kind, f in factors.COMPRESSED_BANDS:
        bands = factors.quality_bands(kind, f)
        for first, last, share in bands:
            for q in (first, last):
                want = None if share is None else Checkpoint(kind, f, True, share)
                assert factors.serving(kind, f, True, every, quality=q) == [(float(f), want)], (kind, f, q)
        assert bands[0][0] == 1 and bands[-1][1] == factors.CLEAN_FROM_QUALITY - 1
        assert all(a[1] + 1 == b[0] for a, b in zip(bands, bands[1:]))      # no quality left out
        assert factors.serving(kind, f, True, every) == [(float(f), Checkpoint(kind, f, True))]   # quality not known


def test_the_share_is_read_from_the_first_band_that_reaches_the_quality(monkeypatch):
    monkeypatch.setattr(factors, "COMPRESSED_BANDS", {("srcnn", 4): ((60, 0.0), (80, 0.2), (94, None))})
    assert [factors.compressed_share("srcnn", 4, q) for q in (1, 60, 61, 80, 81, 94, None)] == \
        [0.0, 0.0, 0.2, 0.2, None, None, 0.0]
    assert factors.compressed_share("residual", 4, 90) == 0.0                    # not named: the network as is
