"""Where the weights come from: the Hugging Face Hub, bounded in time, else the bundled copy.

Resolution order for ``load_model(kind, scale)`` (files ``<kind>-x<scale>/config.json`` and
``<kind>-x<scale>/model.safetensors`` in the weights repo):

1. The Hub repo ``$SRCNN_WEIGHTS_REPO`` (default :data:`DEFAULT_REPO`), fetched in a
   background thread that we wait on for at most ``$SRCNN_HUB_TIMEOUT`` seconds (default 2).
   huggingface_hub alone retries for ~23 s when the Hub's name does not resolve and for
   minutes against a server that never answers; the deadline keeps start-up quick.
   With ``HF_HUB_OFFLINE=1`` only the local Hub cache is looked at: no network at all.
2. The copy bundled with the code, ``checkpoints/<kind>-x<scale>/``.

Every choice and every fallback is logged on the ``srcnn`` logger. Weights load with
``strict=True``: a missing or unexpected tensor is an error, never silently ignored.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from .models import SRCNN, model_class

log = logging.getLogger("srcnn")

DEFAULT_REPO = "srcnn-studio/srcnn-weights"
REPO_ENV = "SRCNN_WEIGHTS_REPO"
TIMEOUT_ENV = "SRCNN_HUB_TIMEOUT"
DEFAULT_TIMEOUT_S = 2.0
BUNDLED_DIR = Path(__file__).resolve().parent.parent / "checkpoints"
FILES = ("config.json", "model.safetensors")


@dataclass(frozen=True)
class WeightsSource:
    """Where one model's weights were found: ``origin`` is "hub" or "bundled"."""
    kind: str
    scale: int
    folder: Path
    origin: str
    repo_id: str | None
    note: str

    def describe(self) -> str:
        if self.origin == "hub":
            return f"Hub repo {self.repo_id}"
        return f"bundled {self.folder.parent.name}/{self.folder.name}"


def repo_id() -> str:
    """The weights repo: ``$SRCNN_WEIGHTS_REPO`` or :data:`DEFAULT_REPO`."""
    return os.environ.get(REPO_ENV, "").strip() or DEFAULT_REPO


def _hub_offline() -> bool:
    from huggingface_hub import constants
    return bool(constants.HF_HUB_OFFLINE)


def subfolder(kind: str, scale: int) -> str:
    return f"{kind}-x{scale}"


def _from_cache(repo: str, name: str) -> Path:
    """The folder of a cached download of ``repo/name``; purely local (no network, no lock)."""
    from huggingface_hub import try_to_load_from_cache
    paths = [try_to_load_from_cache(repo, f"{name}/{f}") for f in FILES]
    if not all(isinstance(p, str) for p in paths):
        raise FileNotFoundError(f"{repo}/{name} is not in the local Hub cache")
    return Path(paths[0]).parent


def _fetch(repo: str, name: str) -> Path:
    from huggingface_hub import hf_hub_download
    paths = [Path(hf_hub_download(repo, f"{name}/{f}")) for f in FILES]
    return paths[0].parent


# Set once a download times out or cannot connect: later models in this process go straight
# to the bundled copy instead of waiting out the deadline again (logged when it happens).
_hub_unreachable: list[str] = []


def _fetch_with_deadline(repo: str, name: str, timeout: float) -> tuple[Path | None, str]:
    """Download in a daemon thread; give up waiting after ``timeout`` s (the thread may finish
    later and fill the cache for the next start)."""
    result: dict = {}

    def work() -> None:
        try:
            result["path"] = _fetch(repo, name)
        except Exception as e:  # noqa: BLE001 - reported to the caller as the reason to fall back
            result["error"] = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"

    thread = threading.Thread(target=work, name=f"hub-fetch-{name}", daemon=True)
    thread.start()
    thread.join(timeout)
    if "path" in result:
        return result["path"], "downloaded"
    if thread.is_alive():
        return None, f"no answer within {timeout:g} s"
    return None, result.get("error", "unknown error")


def resolve_weights(kind: str, scale: int, timeout: float | None = None) -> WeightsSource:
    """Find the weights for ``kind`` at ``scale``, logging the source and any fallback."""
    model_class(kind)  # validates kind
    if scale not in (2, 3, 4):
        raise ValueError(f"scale must be 2, 3 or 4, got {scale!r}")
    name = subfolder(kind, scale)
    repo = repo_id()
    timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)) if timeout is None else timeout
    reason: str
    try:
        cached = _from_cache(repo, name)
        log.info("weights %s: Hub repo %s (local Hub cache)", name, repo)
        return WeightsSource(kind, scale, cached, "hub", repo, "from the local Hub cache")
    except FileNotFoundError:
        reason = "not in the local Hub cache"
    if _hub_offline():
        reason += "; HF_HUB_OFFLINE is set, so no download was tried"
    elif _hub_unreachable:
        reason += f"; not tried again: {_hub_unreachable[0]}"
    elif timeout > 0:
        path, why = _fetch_with_deadline(repo, name, timeout)
        if path is not None:
            log.info("weights %s: Hub repo %s (downloaded)", name, repo)
            return WeightsSource(kind, scale, path, "hub", repo, "downloaded from the Hub")
        reason += f"; download failed: {why}"
        if any(w in why for w in ("no answer", "Connect", "Timeout", "Network", "resolve")):
            _hub_unreachable.append(f"the Hub was unreachable earlier in this process ({why})")
    bundled = BUNDLED_DIR / name
    if not all((bundled / f).is_file() for f in FILES):
        raise FileNotFoundError(f"no weights for {name}: Hub repo {repo} unavailable ({reason}) "
                                f"and nothing bundled in {bundled}; run `python train.py --kind {kind} --scale {scale}`")
    log.warning("weights %s: using bundled %s (Hub repo %s: %s)", name, bundled, repo, reason)
    return WeightsSource(kind, scale, bundled, "bundled", None, f"Hub repo {repo}: {reason}")


def load_from_folder(kind: str, folder: str | Path) -> SRCNN:
    """Load ``config.json`` (the constructor's arguments) + ``model.safetensors`` from a folder,
    strictly (a missing or extra tensor raises RuntimeError), in eval mode. What
    ``from_pretrained`` does for a local folder, without its "Loading weights" print on stdout."""
    from safetensors.torch import load_model
    folder = Path(folder)
    config = json.loads((folder / "config.json").read_text())
    try:
        model = model_class(kind)(**config)
    except TypeError as e:
        raise ValueError(f"{folder / 'config.json'} is not an SRCNN configuration: {e}") from None
    load_model(model, str(folder / "model.safetensors"), strict=True)
    return model.eval()


def load_model(kind: str, scale: int, timeout: float | None = None) -> SRCNN:
    """The model of ``kind`` ("srcnn" or "residual") for ``scale`` (2, 3 or 4), in eval mode."""
    source = resolve_weights(kind, scale, timeout)
    model = load_from_folder(kind, source.folder)
    if model.scale != scale:
        raise ValueError(f"weights in {source.folder} are for x{model.scale}, not x{scale}")
    return model
