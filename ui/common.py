"""What both tabs share: reading an upload into a checked image, writing result PNGs, the
weights panel, the page's header and examples. Checks live in srcnn.uploads; this module turns
their refusals into ``gr.Error`` messages."""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import gradio as gr
from PIL import Image

import srcnn
from srcnn import pipeline, uploads, weights

from . import server

log = logging.getLogger("srcnn.app")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
MAX_FILE_SIZE = "25mb"   # enforced by Gradio on upload (launch(max_file_size=...))
METHOD_LABELS = {"bicubic": "Bicubic", "srcnn": "SRCNN", "residual": "Residual SRCNN"}
README_SECTIONS = {"the residual idea": "the-residual-idea", "the tiling fix": "the-tiling-fix"}


def refuse(message: str) -> gr.Error:
    """A gr.Error for a user's mistake: shown to them, logged as one line (no traceback)."""
    log.info("request refused: %s", message)
    return gr.Error(message, print_exception=False)


def size_limit_text() -> str:
    return uploads.DEFAULT_LIMITS.text(MAX_FILE_SIZE)


def scale_from_choice(raw: object) -> int:
    """2, 3 or 4 from the radio's raw value (an API caller may send 3, "3", "x3" or "×3")."""
    text = str(raw).strip().lower().lstrip("x×")
    if text in ("2", "3", "4"):
        return int(text)
    raise refuse(f"Scale must be 2, 3 or 4 (x2, x3, x4); got {raw!r}.")


def upload_roots() -> list[Path]:
    """The folders an upload's path may be in: Gradio's upload folder and the bundled examples."""
    return [server.upload_folder(), EXAMPLES_DIR]


def read_upload(raw: object, scale: int, upscaling: bool) -> uploads.Checked:
    """The raw value of a gr.Image event with preprocess=False, checked (srcnn.uploads) and
    decoded; the file is closed. Refusals become gr.Error with the check's message."""
    if raw is None:
        raise refuse(f"Upload a photo first ({uploads.FORMATS}).")
    path, name = (raw.get("path"), raw.get("orig_name")) if isinstance(raw, dict) else (str(raw), None)
    with user_errors():
        real = uploads.confine(path, upload_roots())
        return uploads.read_image(real, scale, upscaling, name or real.name)


@contextmanager
def user_errors(prefix: str = ""):
    """ValueError from srcnn (messages written for users) -> gr.Error, logged as one line;
    :class:`server.Stopped` -> gr.Error with its reason; MemoryError -> a plain message."""
    try:
        yield
    except server.Stopped as e:
        raise refuse(str(e)) from None
    except ValueError as e:
        raise refuse(f"{prefix}{e}") from None
    except MemoryError:
        raise refuse("Out of memory for this image: try a smaller one.") from None


def require_weights(scale: int) -> None:
    """A clear message when a scale's trained weights are missing (both Hub and bundled)."""
    for kind in srcnn.KINDS:
        try:
            pipeline.model_for(kind, scale)
        except FileNotFoundError:
            available = [f"x{s}" for s in srcnn.SCALES if weights_available(s)]
            raise refuse(f"No {METHOD_LABELS[kind]} weights for x{scale} yet (neither on the Hub nor "
                           f"bundled). Available: {', '.join(available) or 'none'}.") from None


# --------------------------------------------------------------------------- result files

def png_file(img: Image.Image) -> str:
    """``img`` written as a lossless PNG at zlib level 1 into Gradio's upload folder; its path.

    Gradio would save a PIL output at PIL's default level (6): the same pixels, about 3x
    slower to write for files about 7% smaller. Gradio serves a returned path as it is;
    downloads stay lossless PNGs. Files older than ``ui.server.MAX_AGE_S`` are swept."""
    raw = img.tobytes()
    key = hashlib.sha256(f"{img.mode}{img.size}".encode() + raw).hexdigest()[:32]
    folder = server.upload_folder() / "srcnn" / key
    path = folder / "image.png"
    try:
        os.utime(path)              # there already: fresh again, the sweeper keeps it while shown
        return str(path)
    except FileNotFoundError:
        pass
    for _ in range(3):              # the sweeper may remove an empty folder between mkdir and save
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f"image.{threading.get_ident()}.tmp"
            img.save(tmp, format="PNG", compress_level=1)
            tmp.replace(path)
            break
        except FileNotFoundError:
            continue
    return str(path)


_PNG_WRITERS = ThreadPoolExecutor(2, thread_name_prefix="png")


def png_files(images: list[Image.Image]) -> list[str]:
    """:func:`png_file` of each image, in order, two written at once (zlib releases the GIL:
    1.7x faster on two cores, measured); put the largest first. Checks for cancellation first:
    the results of a request nobody waits for are not written."""
    server.check()
    return list(_PNG_WRITERS.map(png_file, images))


# --------------------------------------------------------------------------- page text

_RESOLVED: dict[tuple[str, int], weights.WeightsSource] = {}


def resolve(kind: str, scale: int) -> weights.WeightsSource | str:
    """Where ``kind`` x``scale`` weights come from (cached once found), or why there are none."""
    if (kind, scale) not in _RESOLVED:
        try:
            _RESOLVED[(kind, scale)] = weights.resolve_weights(kind, scale)
        except FileNotFoundError:
            return "not available yet"
    return _RESOLVED[(kind, scale)]


def weights_available(scale: int) -> bool:
    return all(isinstance(resolve(k, scale), weights.WeightsSource) for k in srcnn.KINDS)


def repo_file_url(path: str) -> str | None:
    """URL of a file of this repo when running as a Space (SPACE_ID is set there), else None."""
    space = os.environ.get("SPACE_ID")
    return f"https://huggingface.co/spaces/{space}/blob/main/{path}" if space else None


def readme_url() -> str | None:
    return os.environ.get("SRCNN_README_URL") or repo_file_url("README.md")


def weights_markdown() -> str:
    """Which weights each network uses at each scale (source and revision), with card links."""
    rows = ["| Scale | SRCNN | Residual SRCNN |", "|---|---|---|"]
    for scale in srcnn.SCALES:
        cells = []
        for kind in srcnn.KINDS:
            src = resolve(kind, scale)
            if isinstance(src, str):
                cells.append(src)
                continue
            if src.origin == "hub":
                url = f"https://huggingface.co/{src.repo_id}/tree/{src.revision}/{weights.subfolder(kind, scale)}"
            else:
                url = repo_file_url(f"checkpoints/{weights.subfolder(kind, scale)}/README.md")
            card = f" ([model card]({url}))" if url else f" (model card: `{src.folder.name}/README.md`)"
            cells.append(src.describe() + card)
        rows.append(f"| x{scale} | " + " | ".join(cells) + " |")
    return f"**Weights loaded.** {weights.policy()}\n\n" + "\n".join(rows)


def about_markdown() -> str:
    url = readme_url()
    if url:
        links = ", ".join(f"[{t}]({url}#{a})" for t, a in README_SECTIONS.items())
    else:
        links = ", ".join(f"'{t.capitalize()}'" for t in README_SECTIONS) + " (sections of README.md)"
    return ("# SRCNN Studio\nUpload a photo and see what **bicubic**, **SRCNN** and **residual SRCNN** "
            "(the network predicts only the correction to bicubic) make of it, side by side and measured. "
            f"How it works: {links}.")


def example_files() -> list[Path]:
    """The bundled photos (examples/, credits in examples/CREDITS.md)."""
    return sorted(p for p in EXAMPLES_DIR.glob("*") if p.suffix.lower() in (".png", ".jpg", ".jpeg"))


def example_label(path: Path) -> str:
    return f"{path.stem.replace('_', ' ')} (x3)"
