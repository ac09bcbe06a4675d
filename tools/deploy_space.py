"""Deploy the app to a Hugging Face Space: ``python -m tools.deploy_space USER/NAME [--dry-run]``.

Creates the Space if it does not exist (Gradio SDK; ``README.md``'s front matter sets the Gradio
version, Python and ``app_file``), then uploads the working tree's Space files in one commit with
``huggingface_hub`` (``HfApi.create_repo`` + ``HfApi.upload_folder``), which stores binaries
(PNGs, JPEGs, safetensors) the way the Hub requires; a ``git push`` of this repository is refused
by the Hub (its history holds binaries outside LFS/Xet).

What goes (:data:`SPACE_FILES`, :data:`SPACE_FOLDERS`): the app (``app.py``, ``ui/``), the
package (``srcnn/``), the weights with their cards, histories and snapshots (``checkpoints/``),
the example photos (``examples/``), the docs the README links (``docs/``), ``README.md`` (the
Space's card and settings), ``LICENSE`` and ``requirements.txt`` (what the Space installs: no
PyTorch). What does not (:data:`LEFT_OUT`, :func:`never`): tests, tools, training data and
``train.py``, CI, the training and test requirements, and anywhere: hidden files and folders
(``.git``, ``.venv``, ``.gradio``, caches), ``__pycache__``, compiled Python, temporary files,
training state (``train_state.pt``). Symbolic links are not followed.

``--dry-run`` prints every file it would upload (its path in the Space and size) and the total,
and touches no network. Otherwise a token with write access is needed: ``--token``, ``HF_TOKEN``
or ``hf auth login``.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPACE_FILES = ("app.py", "README.md", "LICENSE", "requirements.txt")
SPACE_FOLDERS = ("ui", "srcnn", "checkpoints", "examples", "docs")
# Named so that the dry run can say what stays behind, and why.
LEFT_OUT = {
    "tests/": "the test suite",
    "tools/": "benchmarks, load test, converters, this script",
    "data/": "training and evaluation photos, which the app does not read",
    "train.py": "training",
    ".ci/": "CI scripts",
    "requirements-train.txt": "training's extra requirements: torch",
    "requirements-dev.txt": "the tests' requirements",
}
NEVER_NAMES = ("__pycache__", "train_state.pt")
NEVER_SUFFIXES = (".pyc", ".pyo", ".tmp")


def never(name: str) -> bool:
    """Files and folders that never go, wherever they are: hidden ones (``.git``, ``.venv``,
    ``.gradio``, ``.pytest_cache``, a half-written ``.x.png.tmp``), ``__pycache__``, compiled
    Python, temporary files and training state."""
    return name.startswith(".") or name in NEVER_NAMES or name.endswith(NEVER_SUFFIXES)


@dataclass(frozen=True)
class SpaceFile:
    path: str      # in the Space (and below the working tree's root): POSIX, relative
    size: int      # bytes


def space_files(root: str | os.PathLike = ROOT) -> list[SpaceFile]:
    """The files that go to the Space, sorted by path: :data:`SPACE_FILES` and every file below
    :data:`SPACE_FOLDERS`, less what :func:`never` names; symbolic links are not followed (a
    linked file or folder is left out). FileNotFoundError if a file of :data:`SPACE_FILES` is
    missing (the Space would not start)."""
    root = Path(root)
    missing = [f for f in SPACE_FILES if not (root / f).is_file()]
    if missing:
        raise FileNotFoundError(f"{root} is not the project's working tree: missing {', '.join(missing)}")
    found = [root / f for f in SPACE_FILES]
    for folder in SPACE_FOLDERS:
        for here, dirs, names in os.walk(root / folder):   # followlinks=False: linked folders stay out
            dirs[:] = sorted(d for d in dirs if not never(d) and not os.path.islink(os.path.join(here, d)))
            found += [Path(here) / n for n in sorted(names)
                      if not never(n) and not os.path.islink(os.path.join(here, n))]
    files = [SpaceFile(p.relative_to(root).as_posix(), p.stat().st_size) for p in found]
    return sorted(files, key=lambda f: f.path)


def human(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError


def dry_run(repo_id: str, files: list[SpaceFile], out=None) -> None:
    """Print every file with its Space path and size, the total, and what is left out (to ``out``,
    default stdout)."""
    out = out or sys.stdout
    print(f"Would upload to the Space {repo_id} ({len(files)} files):", file=out)
    width = max(len(f.path) for f in files)
    for f in files:
        print(f"  {f.path:<{width}}  {f.size:>10,} B", file=out)
    print(f"Total: {len(files)} files, {sum(f.size for f in files):,} B ({human(sum(f.size for f in files))})",
          file=out)
    print("Not uploaded: " + "; ".join(f"{k} ({v})" for k, v in LEFT_OUT.items())
          + "; anywhere: hidden files and folders (.git, .venv, .gradio, caches), __pycache__, *.pyc, "
            "*.tmp, train_state.pt, symbolic links.", file=out)
    print("Dry run: nothing was sent.", file=out)


def allow_patterns(files: list[SpaceFile]) -> list[str]:
    """``upload_folder``'s ``allow_patterns``: each file's path, escaped so that it matches only
    itself (fnmatch), so the upload is exactly :func:`space_files`."""
    return [glob.escape(f.path) for f in files]


def deploy(repo_id: str, root: str | os.PathLike = ROOT, token: str | None = None, private: bool = False,
           message: str = "Deploy SRCNN Studio") -> str:
    """Create the Space ``repo_id`` if needed (Gradio SDK) and upload :func:`space_files` in one
    commit; returns the Space's URL."""
    from huggingface_hub import HfApi
    files = space_files(root)
    api = HfApi(token=token)
    url = api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
    api.upload_folder(folder_path=str(root), repo_id=repo_id, repo_type="space",
                      allow_patterns=allow_patterns(files), commit_message=message)
    return str(url)


def check_repo_id(text: str) -> str:
    parts = text.split("/")
    if len(parts) != 2 or not all(parts) or any(p.startswith(".") for p in parts):
        raise argparse.ArgumentTypeError(f"a Space is named USER/NAME, got {text!r}")
    return text


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m tools.deploy_space", description=__doc__.split("\n\n")[0])
    p.add_argument("repo_id", type=check_repo_id, help="the Space, USER/NAME (created if it does not exist)")
    p.add_argument("--dry-run", action="store_true", help="list what would go and its size; touch no network")
    p.add_argument("--token", default=None, help="a Hub token with write access (default: HF_TOKEN or `hf auth login`)")
    p.add_argument("--private", action="store_true", help="create the Space private (an existing one is not changed)")
    p.add_argument("--root", type=Path, default=ROOT, help="the working tree to upload from")
    args = p.parse_args(argv)
    try:
        files = space_files(args.root)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.dry_run:
        dry_run(args.repo_id, files)
        return 0
    url = deploy(args.repo_id, args.root, args.token, args.private)
    print(f"Uploaded {len(files)} files ({human(sum(f.size for f in files))}) to {url}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
