"""srcnn.history: training histories and snapshots as the study tab reads them."""

import numpy as np
import pytest

from srcnn import history

from srcnn.study import insight
from stand_ins import write_history


def test_history_as_psnr(tmp_path):
    assert history.loss_psnr(1e-3) == pytest.approx(30.0)
    assert history.loss_psnr(8e-4) == pytest.approx(30.969, abs=1e-3)
    for kind in insight.KINDS:
        write_history(tmp_path / f"{kind}-x3", init_from="checkpoints/residual-x2" if kind == "residual" else None)
    hists = {k: history.load_history(k, 3, tmp_path)[0] for k in insight.KINDS}
    assert hists["srcnn"].init_from is None and hists["residual"].init_from == "checkpoints/residual-x2"
    rows = history.history_rows(hists["residual"])
    assert rows[-1]["train_psnr"] == pytest.approx(30.0)
    assert rows[-1]["train_bicubic_psnr"] == pytest.approx(10 * np.log10(1 / 2.5e-3))
    assert rows[-1]["val_gain"] == pytest.approx(1.5)
    curve = history.gain_curve(hists)
    assert len(curve) == 4 and {r["model"] for r in curve} == {"srcnn", "residual"}
    text = insight.low_loss_sentences(hists)
    assert "30.00 dB" in text and "26.02 dB" in text and "+1.50 dB" in text
