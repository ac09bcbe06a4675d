"""Publish checkpoint folders to a Hugging Face Hub model repo (the upload side; the
download side, with its pinned revision and bundled fallback, is srcnn.weights).

One repo holds all six models, one subfolder each, the layout srcnn.weights reads back::

    <repo_id>/README.md                   overview (written here)
    <repo_id>/<kind>-x<scale>/config.json, model.safetensors, README.md, history.json, snapshots/

``prepare_upload(folder)`` checks a folder before anything touches the network: the files
are there and the weights load strictly. ``push_checkpoints(folders, repo_id)`` does that for
every folder, then ``create_repo(exist_ok=True)`` and one ``upload_folder(path_in_repo=...)``
per model. The token comes from the argument, ``HF_TOKEN`` or ``hf auth login``
(huggingface_hub.get_token); without one, or without a route to the Hub, it fails fast with
a message, instead of huggingface_hub's ~23 s of retries and a bare httpx error.
"""

from __future__ import annotations

from pathlib import Path

from .. import weights
from ..weights import network_from_folder, parse_subfolder

REQUIRED = ("config.json", "model.safetensors", "README.md", "history.json")
NEVER_UPLOADED = ("train_state.pt", "*.tmp")


def prepare_upload(folder: str | Path) -> list[str]:
    """Check ``folder`` is a complete checkpoint; return the files to upload (relative paths).

    Complete: config.json, model.safetensors, README.md (the model card) and history.json
    present, the weights load with ``strict=True`` and are for the scale in the folder name.
    The training state (train_state.pt) is never uploaded."""
    folder = Path(folder)
    kind, scale = parse_subfolder(folder)
    missing = [f for f in REQUIRED if not (folder / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{folder} is not ready to upload, missing {', '.join(missing)} "
                                f"(train it with `python train.py --kind {kind} --scale {scale}`; "
                                f"`--cards-only` writes a missing README.md)")
    if (folder / "train_state.pt").exists():
        raise RuntimeError(f"{folder} holds an unfinished run (train_state.pt): finish it with --resume first")
    model = network_from_folder(kind, folder)
    if model.scale != scale:
        raise ValueError(f"{folder}: config.json says x{model.scale}, the folder name x{scale}")
    for snap in sorted((folder / "snapshots").glob("step-*")):
        network_from_folder(kind, snap)
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if p.is_file() and not any(p.match(pat) for pat in NEVER_UPLOADED))


def resolve_token(token: str | None = None) -> str:
    """``token``, else ``HF_TOKEN``, else the token saved by ``hf auth login``."""
    from huggingface_hub import get_token
    token = token or get_token()
    if not token:
        raise PermissionError("no Hugging Face token: set HF_TOKEN=hf_... or run `hf auth login` "
                              "(a token with write access, https://huggingface.co/settings/tokens)")
    return token


def check_reachable(endpoint: str, timeout: float = 5.0) -> None:
    """srcnn.weights.check_reachable, with what to do next in the message."""
    try:
        weights.check_reachable(endpoint, timeout)
    except ConnectionError as e:
        raise ConnectionError(f"{e}; check the network or proxy, then run again with --push-only") from e


def repo_readme(repo_id: str, names: list[str]) -> str:
    """The weights repo's top-level README.md: what is where, how to load it."""
    items = "\n".join(f"- [`{n}/`]({n}/README.md)" for n in names)
    return f"""---
library_name: srcnn-studio
license: mit
pipeline_tag: image-to-image
tags: [super-resolution, srcnn]
---
# SRCNN Studio weights

SRCNN (Dong et al., 2014) and residual SRCNN, 9-1-5, trained on the luma channel at x2, x3, x4.
One folder per model, each with `config.json`, `model.safetensors`, a model card with its
measured PSNR/SSIM against bicubic, `history.json` and `snapshots/` taken during training:

{items}

Load with the project's code (`srcnn.load_model(kind, scale)` reads this repo, set
`SRCNN_WEIGHTS_REPO={repo_id}`), or directly:

```python
from huggingface_hub import snapshot_download
from srcnn.torch_models import ResidualSRCNN
path = snapshot_download("{repo_id}", allow_patterns="residual-x3/*")
model = ResidualSRCNN.from_pretrained(f"{{path}}/residual-x3", strict=True)
```
"""


def _model_folders(repo_files: list[str]) -> set[str]:
    """The ``<kind>-x<scale>`` folders among a repo's file paths."""
    found = set()
    for path in repo_files:
        top, sep, _ = path.partition("/")
        try:
            if sep:
                parse_subfolder(top)
                found.add(top)
        except ValueError:
            pass
    return found


def push_checkpoints(folders: list[str | Path], repo_id: str, token: str | None = None,
                     endpoint: str | None = None, timeout: float = 20.0) -> list[str]:
    """Upload each checkpoint folder as ``<kind>-x<scale>/`` of the Hub model repo ``repo_id``.

    Checks every folder first (prepare_upload), then the token, then that the Hub answers
    (``timeout`` bounds the connection test and create_repo). Returns the commit URLs.
    Raises PermissionError (no token, or the Hub refused it), ConnectionError (no network,
    or HF_HUB_OFFLINE set)."""
    from huggingface_hub import HfApi, constants
    from huggingface_hub.errors import HfHubHTTPError

    folders = [Path(f) for f in folders]
    if not folders:
        raise ValueError("no checkpoint folders to push")
    files = {f: prepare_upload(f) for f in folders}
    token = resolve_token(token)
    if constants.is_offline_mode():
        raise ConnectionError("HF_HUB_OFFLINE is set, so huggingface_hub will not reach the Hub: "
                              "unset it (before Python starts) to push")
    endpoint = endpoint or constants.ENDPOINT
    check_reachable(endpoint, timeout)
    api = HfApi(endpoint=endpoint, token=token)
    try:
        weights.with_deadline(lambda: api.create_repo(repo_id, repo_type="model", exist_ok=True), timeout,
                       f"create_repo {repo_id}")
        urls = []
        for f in folders:
            info = api.upload_folder(repo_id=repo_id, folder_path=f, path_in_repo=f.name,
                                     allow_patterns=files[f], commit_message=f"Upload {f.name}")
            urls.append(info.commit_url)
        names = sorted({f.name for f in folders} | _model_folders(api.list_repo_files(repo_id)))
        api.upload_file(path_or_fileobj=repo_readme(repo_id, names).encode(), path_in_repo="README.md",
                        repo_id=repo_id, commit_message="Update the overview")
        return urls
    except HfHubHTTPError as e:
        status = getattr(e.response, "status_code", None)
        if status in (401, 403):
            raise PermissionError(f"the Hub refused the token for {repo_id} (HTTP {status}): "
                                  "it needs write access to that namespace") from e
        raise RuntimeError(f"uploading to {repo_id} failed: {e}") from e
    except (TimeoutError, OSError) as e:
        raise ConnectionError(f"uploading to {repo_id} at {endpoint} failed: {type(e).__name__}: {e}") from e
    except Exception as e:  # httpx.ConnectError & co. are not OSError: give them a message too
        if type(e).__module__.startswith(("httpx", "httpcore")):
            raise ConnectionError(f"cannot reach the Hugging Face Hub at {endpoint} "
                                  f"({type(e).__name__}: {e})") from e
        raise
