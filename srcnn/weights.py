"""Where the weights come from: the Hugging Face Hub at a pinned revision, else the bundled copy.

Resolution order for ``load_model(kind, scale)`` (files ``<kind>-x<scale>/config.json`` and
``<kind>-x<scale>/model.safetensors`` in the weights repo):

1. The Hub repo ``$SRCNN_WEIGHTS_REPO`` (default :data:`DEFAULT_REPO`) **at the pinned revision**
   ``$SRCNN_WEIGHTS_REVISION`` (default :data:`DEFAULT_REVISION`, a commit hash). Whoever
   controls a repo name controls what its ``main`` serves; a commit cannot change under us.
   While no revision is pinned (the default until the weights are published and their commit
   written into :data:`DEFAULT_REVISION`), the Hub is never contacted. With a pin: the local Hub
   cache first; then, unless ``HF_HUB_OFFLINE=1``, a TCP connection to the endpoint (so a
   missing network fails in milliseconds, with none of huggingface_hub's retries) and a
   download in a background thread awaited for at most ``$SRCNN_HUB_TIMEOUT`` s (default 2).
   Downloaded weights are validated (config, kind, scale, tensor names and shapes, loaded
   strictly) before use.
2. The copy bundled with the code, ``checkpoints/<kind>-x<scale>/``.

Two forms of the same weights: :func:`load_network` gives the runtime form
(srcnn.models.Network: numpy arrays, no torch; what srcnn.pipeline runs) and :func:`load_model`
the PyTorch module (imports torch: training, ``srcnn.load_model``).

Every ``config.json`` records its ``kind``; loading it as the other kind raises ValueError naming
both. A ``config.json`` without ``kind`` (written before it was recorded) is read by its folder's
name (``residual-x3``; for a snapshot ``<kind>-x<scale>/snapshots/step-N``, the checkpoint's
folder) with a warning, and refused with a clear message where no name says it.

What a lookup learnt (the Hub unreachable, a reason already logged) is kept by a
:class:`WeightsFinder`: each srcnn.runner.Runner holds one; the module's functions use
:data:`DEFAULT_FINDER`.

Logging (``srcnn`` logger): a finder's first fallback to the bundled copy is one INFO line with
the reason; the same fallback for the other models is DEBUG. Weights load with ``strict=True``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TypeVar
from urllib.parse import urlparse

from .architecture import PAPER, Architecture
from .models import KINDS, RANGE, SCALES, Network, check_trained, parse_scale, scale_text

log = logging.getLogger("srcnn")

DEFAULT_REPO = "srcnn-studio/srcnn-weights"
DEFAULT_REVISION: str | None = None   # the published commit of DEFAULT_REPO; None: not published yet
REPO_ENV = "SRCNN_WEIGHTS_REPO"
REVISION_ENV = "SRCNN_WEIGHTS_REVISION"
TIMEOUT_ENV = "SRCNN_HUB_TIMEOUT"
DEFAULT_TIMEOUT_S = 2.0
# The bundled copy: inside an installed package (the wheel carries checkpoints/ as srcnn/checkpoints/,
# pyproject.toml), else the checkout's checkpoints/ beside srcnn/.
_PACKAGED_DIR = Path(__file__).resolve().parent / "checkpoints"
BUNDLED_DIR = _PACKAGED_DIR if _PACKAGED_DIR.is_dir() else _PACKAGED_DIR.parent.parent / "checkpoints"
FILES = ("config.json", "model.safetensors")
T = TypeVar("T")


@dataclass(frozen=True)
class WeightsSource:
    """Where one model's weights were found: ``origin`` is "hub" or "bundled"."""
    kind: str
    scale: int | float | str   # 2, 3, 4, models.RANGE, or a small factor (1.2)
    folder: Path
    origin: str
    repo_id: str | None
    note: str
    revision: str | None = None

    def describe(self) -> str:
        if self.origin == "hub":
            return f"Hub repo {self.repo_id} @ {self.revision[:12] if self.revision else '?'}"
        return f"bundled {self.folder.parent.name}/{self.folder.name}"


def repo_id() -> str:
    """The weights repo: ``$SRCNN_WEIGHTS_REPO`` or :data:`DEFAULT_REPO`."""
    return os.environ.get(REPO_ENV, "").strip() or DEFAULT_REPO


def revision() -> str | None:
    """The pinned revision: ``$SRCNN_WEIGHTS_REVISION`` or :data:`DEFAULT_REVISION` (None: no pin)."""
    return os.environ.get(REVISION_ENV, "").strip() or DEFAULT_REVISION


def policy() -> str:
    """One sentence for the page: which source is trusted and how to change it."""
    rev = revision()
    if rev is None:
        return (f"No Hub revision is pinned, so the bundled weights are used and the Hub is never contacted; "
                f"set `{REVISION_ENV}` to a commit of `{repo_id()}` to use published weights.")
    return (f"Hub repo `{repo_id()}` at revision `{rev}` (set `{REPO_ENV}` / `{REVISION_ENV}` to change); "
            "bundled copies are the fallback.")


def _hub_offline() -> bool:
    from huggingface_hub import constants
    return bool(constants.HF_HUB_OFFLINE)


COMPRESSED = "-jpeg"   # folder-name suffix of the networks trained on JPEG-compressed inputs


def subfolder(kind: str, scale: int | float | str, compressed: bool = False) -> str:
    """``"<kind>-x<scale>"``: a model's folder name, in ``checkpoints/``, in the Hub repo and in
    training's output (``residual-x1.1-2`` for the range network, ``residual-x1.2`` for a small
    factor's own network); ``"<kind>-x<scale>-jpeg"`` for the network trained on low-res inputs
    saved as JPEG (``compressed``); :func:`parse_subfolder` reads it back."""
    return f"{kind}-x{scale_text(scale)}{COMPRESSED if compressed else ''}"


def parse_subfolder(folder: str | Path) -> tuple[str, int | float | str]:
    """``.../residual-x3`` -> ("residual", 3), ``.../residual-x1.1-2`` -> ("residual", "1.1-2"),
    ``.../srcnn-x1.75`` -> ("srcnn", 1.75): the kind and scale a checkpoint folder is named for
    (:func:`subfolder`); ValueError for any other name."""
    name = Path(folder).name
    kind, sep, scale = name.removesuffix(COMPRESSED).partition("-x")
    try:
        if not sep or kind not in KINDS:
            raise ValueError(name)
        return kind, parse_scale(scale)
    except ValueError:
        raise ValueError(f"{folder}: a checkpoint folder is named <kind>-x<scale> "
                         f"(kind {' or '.join(KINDS)}, scale {', '.join(map(str, SCALES))}, {RANGE} "
                         f"or a factor from 1.1 to below 2 such as 1.2; {COMPRESSED} after it for a "
                         f"network trained on JPEG inputs), got {name!r}") from None


def is_compressed(folder: str | Path) -> bool:
    """Whether a checkpoint folder holds a network trained on JPEG inputs (its name ends in -jpeg)."""
    return Path(folder).name.endswith(COMPRESSED)


def bundled_folder(kind: str, scale: int | float | str, compressed: bool = False) -> Path:
    """``checkpoints/<kind>-x<scale>[-jpeg]``: the one place the bundled path is spelled."""
    return BUNDLED_DIR / subfolder(kind, scale, compressed)


def _scale_order(scale: int | float | str) -> tuple[int, float]:
    """2, 3, 4, then the range, then the small factors in increasing order."""
    if scale == RANGE:
        return 1, 0.0
    return (0, float(scale)) if scale in SCALES else (2, float(scale))


@dataclass(frozen=True)
class Checkpoint:
    """One published network: its ``kind``, the factor it was trained for (``scale``: 2, 3, 4,
    models.RANGE for the network of the factors 1.1 to 2, or an anchor of the small-factor family
    such as 1.2) and whether it was trained on JPEG-compressed inputs (``compressed``). A network
    for compressed inputs may serve with a share of the clean network of the same kind and factor
    mixed into its weights (``clean_share``, 0..1; srcnn.blending): still this folder's network,
    tuned to a JPEG quality (srcnn.factors.COMPRESSED_BANDS)."""
    kind: str
    scale: int | float | str
    compressed: bool = False
    clean_share: float = 0.0

    def __post_init__(self) -> None:
        if self.clean_share and not (self.compressed and 0.0 < self.clean_share <= 1.0):
            raise ValueError(f"clean_share {self.clean_share} needs a network for compressed inputs and a share "
                             "from 0 to 1")

    @property
    def name(self) -> str:
        """Its folder's name, ``<kind>-x<scale>[-jpeg]`` (:func:`subfolder`)."""
        return subfolder(self.kind, self.scale, self.compressed)

    def describe(self) -> str:
        """In words, for a person: "the network trained at x2 for compressed inputs"."""
        at = "on x1.1 to x2" if self.scale == RANGE else f"at x{scale_text(self.scale)}"
        mixed = (f", with {self.clean_share:.0%} of the clean network's weights mixed in for this JPEG quality"
                 if self.clean_share else "")
        return f"the network trained {at}{' for compressed (JPEG) inputs' if self.compressed else ''}{mixed}"


def bundled_checkpoints() -> list[Checkpoint]:
    """Every network bundled in ``checkpoints/``: the clean ones (:func:`bundled_pairs`' order), then
    those trained on JPEG inputs in the same order."""
    return [Checkpoint(k, s, c) for c in (False, True) for k, s in bundled_pairs(compressed=c)]


def bundled_pairs(compressed: bool = False) -> list[tuple[str, int | float | str]]:
    """(kind, scale) pairs whose weights are bundled in ``checkpoints/`` (scale: 2, 3, 4, RANGE or a
    small factor such as 1.2), by kind (srcnn, residual), then 2, 3, 4, the range, the small factors.
    ``compressed``: those of the networks trained on JPEG inputs (``<kind>-x<scale>-jpeg``) instead."""
    found = []
    for folder in BUNDLED_DIR.iterdir() if BUNDLED_DIR.is_dir() else ():
        try:
            kind, scale = parse_subfolder(folder)
        except ValueError:
            continue
        if is_compressed(folder) == compressed and (folder / "model.safetensors").is_file():
            found.append((kind, scale))
    return sorted(found, key=lambda p: (KINDS.index(p[0]), *_scale_order(p[1])))


def with_deadline(fn: Callable[[], T], seconds: float, what: str) -> T:
    """Run ``fn`` in a daemon thread; raise TimeoutError if it has not finished in ``seconds``."""
    result: dict = {}

    def work() -> None:
        try:
            result["value"] = fn()
        except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
            result["error"] = e

    thread = threading.Thread(target=work, name=f"hub-{what}", daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        raise TimeoutError(f"{what}: no answer within {seconds:g} s")
    if "error" in result:
        raise result["error"]
    return result["value"]


def check_reachable(endpoint: str, timeout: float = 5.0) -> None:
    """Open (and close) a TCP connection to the Hub endpoint, or raise ConnectionError quickly."""
    url = urlparse(endpoint)
    host, port = url.hostname, url.port or (443 if url.scheme == "https" else 80)
    try:
        with_deadline(lambda: socket.create_connection((host, port), timeout=timeout).close(),
                      timeout, f"connect-{host}")
    except (OSError, TimeoutError) as e:
        raise ConnectionError(f"cannot reach the Hugging Face Hub at {endpoint} ({type(e).__name__}: {e})") from e


class _QuietAbandoned(logging.Filter):
    """Drop huggingface_hub's retry chatter from our download threads: whether the download
    worked is reported once, by us."""
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.threadName.startswith("hub-")


_QUIET = _QuietAbandoned()


def quiet_hub_retries() -> None:
    """Attach :class:`_QuietAbandoned` to huggingface_hub's HTTP logger (once; idempotent).
    Called before this module first downloads, not at import: importing srcnn changes no
    other library's logging."""
    http_log = logging.getLogger("huggingface_hub.utils._http")
    if _QUIET not in http_log.filters:
        http_log.addFilter(_QUIET)


def _from_cache(repo: str, name: str, rev: str) -> Path:
    """The folder of a cached download of ``repo/name`` at ``rev``; purely local."""
    from huggingface_hub import try_to_load_from_cache
    paths = [try_to_load_from_cache(repo, f"{name}/{f}", revision=rev) for f in FILES]
    if not all(isinstance(p, str) for p in paths):
        raise FileNotFoundError(f"{repo}/{name} @ {rev} is not in the local Hub cache")
    return Path(paths[0]).parent


def _fetch(repo: str, name: str, rev: str) -> Path:
    from huggingface_hub import hf_hub_download
    paths = [Path(hf_hub_download(repo, f"{name}/{f}", revision=rev)) for f in FILES]
    return paths[0].parent


def _fetch_with_deadline(repo: str, name: str, rev: str, timeout: float) -> tuple[Path | None, str]:
    """Check the endpoint, then download in a daemon thread; give up waiting after ``timeout`` s."""
    from huggingface_hub import constants
    quiet_hub_retries()
    try:
        check_reachable(constants.ENDPOINT, timeout)
        return with_deadline(lambda: _fetch(repo, name, rev), timeout, f"fetch-{name}"), "downloaded"
    except TimeoutError as e:
        return None, str(e).split(": ", 1)[-1]
    except Exception as e:  # noqa: BLE001 - reported to the caller as the reason to fall back
        return None, f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}"


def validate(folder: Path, kind: str, scale: int | float | str, compressed: bool = False) -> Network:
    """Load a downloaded folder strictly and check it is a ``kind`` model for ``scale`` with the
    published network's tensor shapes (:func:`published_architecture`); ValueError/RuntimeError
    says what is wrong."""
    net = network_from_folder(kind, folder)
    if net.scale != scale:
        raise ValueError(f"config.json says x{net.scale}, expected x{scale}")
    got = {k: tuple(v.shape) for k, v in net.weights.items()}
    want = published_architecture(kind, scale, compressed).tensor_shapes()
    if got != want:
        raise ValueError(f"tensor shapes {got} differ from the {kind} architecture's {want}")
    return net


def published_architecture(kind: str, scale: int | float | str, compressed: bool = False) -> Architecture:
    """The layer sizes of the published network: its bundled copy's (config.json), the paper's
    9-1-5 / 64, 32 (srcnn.architecture.PAPER) where none is bundled."""
    path = bundled_folder(kind, scale, compressed) / "config.json"
    if not path.is_file():
        return PAPER
    config = json.loads(path.read_text())
    return Architecture(**{k: config.get(k, getattr(PAPER, k)) for k in ("f1", "f2", "f3", "n1", "n2")})


class WeightsFinder:
    """Finds and loads the published weights (:meth:`resolve`, :meth:`load_network`,
    :meth:`load_model`), remembering what it learnt about the Hub:

    * ``unreachable``: the reason of the first failed Hub attempt (None: none failed). After one,
      the other models go to the bundled copy at once instead of waiting out the deadline again;
    * ``announced``: the fallback reasons already logged at INFO (the same reason again: DEBUG).

    Each srcnn.runner.Runner holds one; :data:`DEFAULT_FINDER` serves the module's functions and
    the process's default runner. Not locked: two threads loading at once may both try the Hub."""

    def __init__(self) -> None:
        self.unreachable: str | None = None
        self.announced: set[str] = set()

    def bundled(self, kind: str, scale: int | float | str, reason: str, compressed: bool = False) -> WeightsSource:
        """The bundled copy, logged with ``reason`` (INFO the first time, DEBUG after)."""
        name, bundled = subfolder(kind, scale, compressed), bundled_folder(kind, scale, compressed)
        if not all((bundled / f).is_file() for f in FILES):
            raise FileNotFoundError(f"no weights for {name}: {reason}, and nothing bundled in {bundled}; "
                                    f"run `python train.py --kind {kind} --scale {scale}"
                                    f"{' --jpeg' if compressed else ''}`")
        level = logging.DEBUG if reason in self.announced else logging.INFO
        self.announced.add(reason)
        log.log(level, "weights %s: using the bundled %s (%s)", name, BUNDLED_DIR.name + "/", reason)
        return WeightsSource(kind, scale, bundled, "bundled", None, reason)

    def resolve(self, kind: str, scale: int | float | str, timeout: float | None = None,
                compressed: bool = False) -> WeightsSource:
        """Find the weights for ``kind`` at ``scale`` (``compressed``: the network trained on JPEG
        inputs), logging the source and any fallback. Contacts the Hub only when a revision is
        pinned, the weights are not in the local cache and no earlier attempt failed."""
        if kind not in KINDS:
            raise ValueError(f"unknown model kind {kind!r}: choose one of {', '.join(KINDS)}")
        scale = check_trained(scale)
        name, repo, rev = subfolder(kind, scale, compressed), repo_id(), revision()

        if rev is None:
            return self.bundled(kind, scale, f"no Hub revision pinned; set {REVISION_ENV} to use {repo}", compressed)
        timeout = float(os.environ.get(TIMEOUT_ENV, DEFAULT_TIMEOUT_S)) if timeout is None else timeout
        try:
            folder, how = _from_cache(repo, name, rev), "local Hub cache"
        except FileNotFoundError:
            folder, how = None, "not in the local Hub cache"
        if folder is None:
            if _hub_offline():
                return self.bundled(kind, scale, f"Hub repo {repo} @ {rev}: not cached and HF_HUB_OFFLINE is set",
                                    compressed)
            if self.unreachable is not None:
                return self.bundled(kind, scale, f"Hub repo {repo} @ {rev}: {self.unreachable}", compressed)
            if timeout <= 0:
                return self.bundled(kind, scale, f"Hub repo {repo} @ {rev}: not cached, downloads disabled", compressed)
            folder, how = _fetch_with_deadline(repo, name, rev, timeout)
            if folder is None:
                self.unreachable = f"unreachable ({how})"
                return self.bundled(kind, scale, f"Hub repo {repo} @ {rev}: {self.unreachable}", compressed)
        from safetensors import SafetensorError
        try:
            validate(folder, kind, scale, compressed)
        except (ValueError, RuntimeError, OSError, SafetensorError) as e:
            return self.bundled(kind, scale, f"Hub repo {repo} @ {rev}: weights rejected ({e})", compressed)
        log.info("weights %s: Hub repo %s @ %s (%s)", name, repo, rev, how)
        return WeightsSource(kind, scale, folder, "hub", repo, how, rev)

    def load_network(self, kind: str, scale: int | float | str, timeout: float | None = None,
                     compressed: bool = False) -> Network:
        """The runtime form (srcnn.models.Network) of the weights :meth:`resolve` finds."""
        return self._load_checked(kind, scale, timeout, network_from_folder, compressed)

    def load_model(self, kind: str, scale: int | float | str, timeout: float | None = None,
                   compressed: bool = False):
        """The PyTorch module (imports torch) of the weights :meth:`resolve` finds, in eval mode."""
        from . import torch_models  # noqa: F401 - the torch check, before any weights are looked for
        return self._load_checked(kind, scale, timeout, load_from_folder, compressed)

    def _load_checked(self, kind: str, scale: int | float | str, timeout: float | None,
                      load: Callable[[str, Path], T], compressed: bool = False) -> T:
        """``load(kind, folder)`` on the folder :meth:`resolve` finds, its scale checked."""
        scale = check_trained(scale)
        source = self.resolve(kind, scale, timeout, compressed)
        loaded = load(kind, source.folder)
        if loaded.scale != scale:
            raise ValueError(f"weights in {source.folder} are for x{loaded.scale}, not x{scale}")
        return loaded


DEFAULT_FINDER = WeightsFinder()   # the module's functions' finder, and the default runner's


def resolve_weights(kind: str, scale: int | float | str, timeout: float | None = None,
                    compressed: bool = False) -> WeightsSource:
    """:meth:`WeightsFinder.resolve` on :data:`DEFAULT_FINDER`: find the weights for ``kind`` at
    ``scale`` (``compressed``: the network trained on JPEG inputs), logging the source and any
    fallback. Contacts the Hub only when a revision is pinned and the weights are not in the
    local cache."""
    return DEFAULT_FINDER.resolve(kind, scale, timeout, compressed)


CONFIG_KEYS = ("f1", "f2", "f3", "n1", "n2", "scale")


def _kind_from_name(folder: Path) -> str | None:
    """The kind a folder's name gives: ``<kind>-x<scale>``, or for a snapshot
    (``<kind>-x<scale>/snapshots/step-N``) its checkpoint's name; None when no name says it."""
    for candidate in (folder, folder.parent.parent if folder.parent.name == "snapshots" else None):
        if candidate is not None:
            try:
                return parse_subfolder(candidate)[0]
            except ValueError:
                pass
    return None


def read_config(kind: str, folder: str | Path) -> dict:
    """``folder/config.json`` checked against ``kind``: the constructor's arguments (f1, f2, f3, n1,
    n2, scale; a JSON scale of 2.0 reads as 2) with ``"kind"``. ValueError naming both kinds when
    the config records the other kind; a config without ``kind`` is read by the folder's name
    with a WARNING on the ``srcnn`` logger, and refused (ValueError) where no name says it or the
    name says the other kind."""
    if kind not in KINDS:
        raise ValueError(f"unknown model kind {kind!r}: choose one of {', '.join(KINDS)}")
    folder = Path(folder)
    path = folder / "config.json"
    config = json.loads(path.read_text())
    if not isinstance(config, dict):
        raise ValueError(f"{path} is not an SRCNN configuration: a JSON object is expected")
    recorded = config.get("kind")
    if recorded is None:
        named = _kind_from_name(folder)
        if named is None:
            raise ValueError(f"{path} does not record its kind and the folder name {folder.name!r} does not say it: "
                             f"add \"kind\": \"srcnn\" or \"kind\": \"residual\" to it")
        if named != kind:
            raise ValueError(f"{folder} holds a {named!r} network (by its folder name; config.json records no kind), "
                             f"not {kind!r}: load it as kind {named!r}")
        log.warning("weights %s: config.json records no kind; read as %r from the folder name "
                    "(re-save it with \"kind\" to silence this)", folder, named)
        recorded = named
    elif recorded != kind:
        raise ValueError(f"{folder} holds a {recorded!r} network (config.json \"kind\"), not {kind!r}: "
                         f"load it as kind {recorded!r}")
    unknown = sorted(set(config) - {*CONFIG_KEYS, "kind"})
    if unknown or not all(k in config for k in CONFIG_KEYS):
        raise ValueError(f"{path} is not an SRCNN configuration: it needs {', '.join(CONFIG_KEYS)} and kind, "
                         f"got {', '.join(sorted(config)) or 'nothing'}")
    scale = config["scale"]
    config["scale"] = check_trained(int(scale) if isinstance(scale, float) and scale in SCALES else scale)
    config["kind"] = recorded
    return config


def network_from_folder(kind: str, folder: str | Path) -> Network:
    """The runtime form (srcnn.models.Network, no torch) of ``config.json`` + ``model.safetensors``
    in ``folder``: checked as :func:`read_config` says, tensors strictly (a missing, extra or
    misshapen tensor raises ValueError)."""
    from safetensors.numpy import load_file
    folder = Path(folder)
    config = read_config(kind, folder)
    tensors = load_file(str(folder / "model.safetensors"))
    try:
        return Network(weights=tensors, **config)
    except ValueError as e:
        raise ValueError(f"{folder / 'model.safetensors'}: {e}") from None


def load_from_folder(kind: str, folder: str | Path):
    """The PyTorch module (``SRCNN`` / ``ResidualSRCNN``, imports torch) of ``config.json`` +
    ``model.safetensors`` in ``folder``, strictly (a missing or extra tensor raises RuntimeError),
    in eval mode; the config is checked as :func:`read_config` says. What ``from_pretrained``
    does for a local folder, without its "Loading weights" print on stdout. Without torch:
    ImportError from srcnn.torch_models, one line saying what to install."""
    from .torch_models import model_class   # first: the torch check
    from safetensors.torch import load_model
    folder = Path(folder)
    config = read_config(kind, folder)
    try:
        model = model_class(kind)(**config)
    except TypeError as e:
        raise ValueError(f"{folder / 'config.json'} is not an SRCNN configuration: {e}") from None
    load_model(model, str(folder / "model.safetensors"), strict=True)
    return model.eval()


def load_network(kind: str, scale: int | float | str, timeout: float | None = None,
                 compressed: bool = False) -> Network:
    """The runtime form (srcnn.models.Network: numpy weights, no torch) of the ``kind`` network
    for ``scale`` (``compressed``: the one trained on JPEG inputs), from where
    :func:`resolve_weights` finds it (on :data:`DEFAULT_FINDER`; a srcnn.runner.Runner loads with
    its own finder): what srcnn.pipeline runs."""
    return DEFAULT_FINDER.load_network(kind, scale, timeout, compressed)


def load_model(kind: str, scale: int | float | str, timeout: float | None = None, compressed: bool = False):
    """The PyTorch model (imports torch) of ``kind`` ("srcnn" or "residual") for ``scale`` (2, 3
    or 4, models.RANGE for the network trained on a range of factors, or a small factor such as
    1.2 where its own weights exist), in eval mode.

    Contacts the Hub only when a revision is pinned (``$SRCNN_WEIGHTS_REVISION`` or
    :data:`DEFAULT_REVISION`), the weights are not in the local Hub cache and ``HF_HUB_OFFLINE``
    is not set; then for at most ``timeout`` s (default ``$SRCNN_HUB_TIMEOUT``, 2 s). Otherwise
    it reads the bundled ``checkpoints/<kind>-x<scale>/`` (see :func:`resolve_weights`).
    Without torch: ImportError from srcnn.torch_models, one line saying what to install.
    Uses :data:`DEFAULT_FINDER` (what it learnt about the Hub is kept for the next call)."""
    return DEFAULT_FINDER.load_model(kind, scale, timeout, compressed)
