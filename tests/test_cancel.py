"""srcnn.cancel: the check a caller sets around its work, called at the checkpoints inside it."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from srcnn import cancel, imaging, tiling


class Gone(Exception):
    pass


def stop() -> None:
    raise Gone


def test_checkpoint_calls_the_enclosing_check_and_nothing_outside():
    calls = []
    cancel.checkpoint()                                  # outside: nothing to call
    assert cancel.current() is None
    with cancel.cancellable(lambda: calls.append(1)):
        cancel.checkpoint()
        cancel.checkpoint()
    cancel.checkpoint()
    assert calls == [1, 1]
    with pytest.raises(Gone), cancel.cancellable(stop):
        cancel.checkpoint()
    assert cancel.current() is None                      # left on an error too


def test_nesting_replaces_the_outer_check_and_restores_it():
    calls = []
    outer, inner = (lambda: calls.append("outer")), (lambda: calls.append("inner"))
    with cancel.cancellable(outer):
        with cancel.cancellable(inner):
            cancel.checkpoint()
            assert cancel.current() is inner
        cancel.checkpoint()
        with pytest.raises(Gone), cancel.cancellable(stop):
            cancel.checkpoint()
        cancel.checkpoint()                              # the outer one again after the inner raised
        with cancel.cancellable(None):                   # None: no check inside
            cancel.checkpoint()
    assert calls == ["inner", "outer", "outer"]


def test_another_thread_sees_the_check_only_in_the_copied_context():
    calls = []
    with cancel.cancellable(lambda: calls.append(threading.current_thread().name)), \
            ThreadPoolExecutor(1, thread_name_prefix="beside") as pool:
        pool.submit(cancel.checkpoint).result()          # a plain pool thread: no check there
        assert calls == []
        pool.submit(cancel.in_context(cancel.checkpoint)).result()
        assert len(calls) == 1 and calls[0].startswith("beside")
        with pytest.raises(Gone), cancel.cancellable(stop):
            pool.submit(cancel.in_context(cancel.checkpoint)).result()   # the check as it was when copied
        context_then = cancel.in_context(cancel.current)
    assert context_then() is not None and cancel.current() is None


def test_cancellable_checks_between_bands_without_changing_numbers():
    """Inside cancellable(check), imresize, the colour conversions and to_8bit call check()
    between their passes and bands (the same numbers as without); a raising check stops them."""
    rng = np.random.default_rng(0)
    a = rng.random((700, 400, 3)).astype(np.float32)
    steps = {"imresize up": lambda: imaging.imresize(a, 3.0), "imresize down": lambda: imaging.imresize(a, 1 / 3),
             "imresize 2.5": lambda: imaging.imresize(a[:60, :50], 2.5),
             "ycbcr": lambda: imaging.ycbcr_to_rgb(a), "rgb": lambda: imaging.rgb_to_ycbcr(a),
             "to_8bit": lambda: imaging.to_8bit(a)}
    for name, step in steps.items():
        plain = step()
        calls = []
        with cancel.cancellable(lambda: calls.append(1)):
            checked = step()
        assert len(calls) >= 2, name
        assert np.array_equal(plain, checked), name
        with pytest.raises(Gone), cancel.cancellable(stop):
            step()


class Each:
    """An EachFn that counts the windows it ran (identity on the window's inside)."""
    lanes = 2

    def __init__(self, radius: int):
        self.radius, self.ran = radius, 0

    def __call__(self, windows: np.ndarray) -> np.ndarray:
        r = self.radius
        self.ran += len(windows)
        return windows[:, r:windows.shape[1] - r, r:windows.shape[2] - r].copy()

    def each(self, windows):
        for i, w in enumerate(windows):
            yield i, self(w[None])[0]


@pytest.mark.parametrize("engine", ["batch", "each"])
def test_tiled_apply_stops_between_tiles_with_a_progress_that_only_reports(engine):
    image = np.random.default_rng(1).random((40, 50)).astype(np.float32)
    fn = Each(2)
    run = fn if engine == "each" else (lambda windows: fn(windows))
    reported, checks = [], []
    with cancel.cancellable(lambda: checks.append(1)):
        whole = tiling.tiled_apply(run, image, 2, tile=10, progress=lambda d, t: reported.append(d))
    assert np.array_equal(whole, image)                  # the same pixels, checked between tiles
    tiles, reported_all = fn.ran, list(reported)
    assert tiles >= 20 and len(checks) == tiles and reported_all[-1] == len(reported_all)

    def stop_at_third() -> None:
        checks.append(1)
        if len(checks) == 3:
            raise Gone

    fn.ran, reported[:], checks[:] = 0, [], []
    with pytest.raises(Gone), cancel.cancellable(stop_at_third):
        tiling.tiled_apply(run, image, 2, tile=10, progress=lambda d, t: reported.append(d))
    assert reported == [1, 2]                            # stopped after the third tile, before reporting it
    assert fn.ran == 3                                   # no tile started after the stop
