"""srcnn.runner: a runner owns its networks, sessions, tile threads and Hub state; the functional
API's ``runner=None`` is one default runner."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PIL import Image

import srcnn
from srcnn import engine, pipeline
from srcnn.runner import Runner, default_runner
from srcnn.weights import DEFAULT_FINDER, Checkpoint

from stand_ins import model as stand_in

X3 = Checkpoint("residual", 3)


def test_two_runners_share_no_network_and_no_session():
    a, b = Runner(), Runner()
    net_a, net_b = a.network(X3), b.network(X3)
    assert net_a is a.network(X3) and net_a is not net_b
    assert all(np.array_equal(net_a.weights[k], net_b.weights[k]) for k in net_a.weights)
    assert a.sessions(net_a) is not b.sessions(net_b)
    assert a.sessions(net_b) is not b.sessions(net_b)          # a runner builds its own for any model
    assert len(a.session_builds) == 2 and len(b.session_builds) == 1
    assert a.weights is not b.weights                          # and each remembers the Hub on its own
    a.close()
    b.close()


def test_sessions_are_built_once_even_when_two_threads_ask_at_once():
    runner, model = Runner(), stand_in("residual", 0)
    start, got = threading.Barrier(2), []

    def ask() -> None:
        start.wait()
        got.append(runner.sessions(model))

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 2 and got[0] is got[1]
    assert [(kind, scale) for kind, scale, _ in runner.session_builds] == [("residual", model.scale)]
    runner.close()


def test_close_stops_the_tile_threads_and_lets_go_of_the_networks():
    runner = Runner("onnx")
    net = runner.network(X3)
    y = np.random.default_rng(0).random((90, 70), dtype=np.float32)
    before = runner.apply(net, y, tile=32)
    pool = runner.pool()
    worker = pool.executor.submit(threading.current_thread).result()
    assert worker.name.startswith("srcnn-tile") and worker.is_alive()
    runner.close()
    worker.join(5)
    assert not worker.is_alive()
    with pytest.raises(RuntimeError):
        pool.executor.submit(int)
    again = runner.network(X3)                                  # usable again: loads and builds afresh
    assert again is not net and runner.pool() is not pool
    assert np.array_equal(runner.apply(again, y, tile=32), before)
    assert len(runner.session_builds) == 2
    runner.close()


def test_with_closes_the_runner():
    with Runner() as runner:
        pool = runner.pool()
    with pytest.raises(RuntimeError):
        pool.executor.submit(int)


def test_the_default_runner_is_one_object_behind_every_runner_none():
    runner = default_runner()
    assert runner is default_runner() and runner.weights is DEFAULT_FINDER
    assert pipeline.model_for("residual", 3) is runner.network(X3)
    assert pipeline.network(X3) is runner.network(X3)


def test_an_own_runner_gives_the_default_runners_pixels():
    lr = Image.fromarray(np.random.default_rng(0).integers(0, 256, (24, 31, 3), dtype=np.uint8))
    with Runner() as runner:
        own = srcnn.upscale(lr, 2.5, runner=runner)
        assert {(k, s) for k, s, _ in runner.session_builds} == {("residual", 2)}
    assert np.array_equal(np.asarray(own), np.asarray(srcnn.upscale(lr, 2.5)))


def test_compare_runs_on_the_runner_it_is_given():
    hr = Image.fromarray(np.random.default_rng(2).integers(0, 256, (36, 36, 3), dtype=np.uint8))
    with Runner() as runner:
        own = srcnn.compare(hr, 3, runner=runner)
        assert {(k, s) for k, s, _ in runner.session_builds} == {("srcnn", 3), ("residual", 3)}
    default = srcnn.compare(hr, 3)
    assert {m: r.psnr for m, r in own.results.items()} == {m: r.psnr for m, r in default.results.items()}


def test_a_weights_folder_is_loaded_once_per_version_of_its_file(tmp_path):
    import os
    import shutil

    from srcnn.weights import bundled_folder
    folder = tmp_path / "residual-x3"
    shutil.copytree(bundled_folder("residual", 3), folder, ignore=shutil.ignore_patterns("snapshots"))
    with Runner() as runner:
        first = runner.folder_network("residual", folder)
        assert runner.folder_network("residual", folder) is first and first.kind == "residual"
        st = (folder / "model.safetensors").stat()
        os.utime(folder / "model.safetensors", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))   # a new version
        assert runner.folder_network("residual", folder) is not first
        assert Runner().folder_network("residual", folder) is not runner.folder_network("residual", folder)


def test_the_engine_choice_belongs_to_the_runner(monkeypatch):
    monkeypatch.setenv(engine.ENGINE_ENV, "onnx")
    model = stand_in("srcnn", 0)
    y = np.random.default_rng(1).random((20, 30), dtype=np.float32)
    with Runner("torch") as runner:
        out = runner.apply(model, y, tile=None)
        assert runner.session_builds == []                      # torch: no ONNX Runtime session
        assert isinstance(runner.batch_fn(model, "onnx"), engine.SessionRunner)   # an argument wins
    with Runner() as runner:                                    # None: $SRCNN_ENGINE, read per call
        assert np.abs(runner.apply(model, y, tile=None) - out).max() < 1e-5
        monkeypatch.setenv(engine.ENGINE_ENV, "torch")
        assert not isinstance(runner.batch_fn(model), engine.SessionRunner)


def test_a_checkpoint_with_a_clean_share_is_the_two_networks_blended_once():
    runner = Runner()
    share = Checkpoint("residual", 2, True, 0.3)
    mix = runner.network(share)
    assert mix is runner.network(share)
    compressed, clean = runner.network(Checkpoint("residual", 2, True)), runner.network(Checkpoint("residual", 2))
    assert (mix.n1, mix.n2) == (compressed.n1, compressed.n2)
    k = "conv3.weight"
    assert np.allclose(mix.weights[k], 0.7 * compressed.weights[k] + 0.3 * clean.weights[k], atol=1e-6)
    runner.close()
