"""Shared test setup: offline Hub, the ``slow`` marker, a live app (run as ``python -m pytest`` from
the repository root, which puts the checkout first on sys.path).

``HF_HUB_OFFLINE`` must be set before huggingface_hub is first imported (it reads it once), so
it is set here, at collection time: no test waits on the unreachable Hub unless it asks to.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import pytest  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes tens of seconds or needs a real browser; runs in CI")


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """``artifacts/`` at the repository root (git-ignored): screenshots and other outputs to keep."""
    path = ROOT / "artifacts"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session", autouse=True)
def temp_store():
    """The test process's temp store (ui.server.TempStore), made and activated as app.main does:
    the handlers the tests call find their folder through it; app.build_demo uses it too."""
    from ui.server import TempStore, active_store
    return active_store() or TempStore.for_process().activate()


@pytest.fixture(scope="session")
def live_app():
    """The real app (app.build_demo) served on a free local port; yields the Blocks, closes after."""
    import app
    from ui.server import free_port

    demo = app.build_demo()
    demo.launch(prevent_thread_lock=True, server_name="127.0.0.1", server_port=free_port(),
                quiet=True, **app.launch_options())
    try:
        yield demo
    finally:
        demo.close()


@pytest.fixture
def silent_server():
    """The URL of a local server that accepts connections and never answers (the worst Hub outage)."""
    import threading
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    held, stop = [], threading.Event()

    def accept() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(srv.accept()[0])
            except OSError:
                pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.getsockname()[1]}"
    stop.set()
    thread.join()
    for c in held:
        c.close()
    srv.close()


@pytest.fixture()
def fake_models(monkeypatch):
    """The default runner (so pipeline.model_for, srcnn.upscale, the study) serves seeded untrained
    models, one per kind, for every checkpoint: no weights or Hub needed. The residual one adds
    little to bicubic, so its outputs resemble the ground truth (alignment is measurable)."""
    from srcnn.runner import default_runner
    from stand_ins import model
    models = {"srcnn": model("srcnn", 0), "residual": model("residual", 1, body_std=2e-3)}
    monkeypatch.setattr(default_runner(), "network", lambda checkpoint: models[checkpoint.kind])
    return models
