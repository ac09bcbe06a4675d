"""A published network as a standalone ONNX file: ``python -m srcnn export --kind residual --scale 3 --out m.onnx``.

The file holds one network and nothing else of the recipe, so that it runs wherever ONNX
Runtime does (no PyTorch, no srcnn):

* input ``x``: float32, N x 1 x H x W, the luma of the image *already upscaled* to the target
  size by bicubic interpolation: BT.601 Y on a 0..1 scale (``(16 + 65.481 R + 128.553 G +
  24.966 B) / 255`` with R, G, B in 0..1; a gray image: its gray values). N, H and W are
  dynamic, any size from 1 x 1 (smaller than the receptive field included: the padding below
  repeats the mirror as ``numpy.pad(mode="symmetric")`` does).
* output ``y``: float32, N x 1 x H x W, the same size: the network's luma, not clipped.
  Borders are mirror-padded inside the graph (edge pixel repeated, as srcnn.tiling does), so
  the output equals the package's whole-image path (``srcnn.pipeline.apply_network`` with
  ``tile=None``) to float rounding (about 1e-6).

To get a colour picture, keep the bicubic Cb and Cr (or add ``(y - x) * 255 / 219`` to R, G
and B alike: the same thing) and round to 8 bits; docs/api.md has a five-line example.
The graph is the one the engine runs (srcnn.onnx_graph.network_model, written from the weights
with ``onnx.helper``: no PyTorch needed), ONNX opset :data:`OPSET`. The file is readable as the
umask allows (like any file the user writes), not only by its owner.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from .models import KINDS, Network, as_network, check_scale
from .onnx_graph import OPSET, network_bytes
from .weights import load_network

__all__ = ["OPSET", "export", "onnx_bytes"]   # OPSET: the files' ONNX operator set


def onnx_bytes(model: Network) -> bytes:
    """The ONNX file's bytes for ``model`` (a srcnn.models.Network, or a PyTorch module, read
    now); module docstring: input ``x``, output ``y``, the input's size."""
    return network_bytes(as_network(model), same_size=True)


def _umask() -> int:
    """The process's umask: read from /proc (Linux) without changing it; elsewhere set and restored."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def export(kind: str, scale: int, out: str | os.PathLike, overwrite: bool = False) -> Path:
    """Write the published ``kind`` network for ``scale`` to ``out`` as ONNX; returns the path.

    Refused with ValueError, before anything is written: an unknown kind or scale, a folder
    that does not exist, ``out`` being a folder, or an existing file without ``overwrite``.
    The file appears whole or not at all (written beside it, then renamed).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}: choose one of {', '.join(KINDS)}")
    scale = check_scale(scale)
    out = Path(out)
    if not out.parent.is_dir():
        raise ValueError(f"the folder {str(out.parent)!r} does not exist")
    if out.is_dir():
        raise ValueError(f"{str(out)!r} is a folder: give a file name, e.g. {kind}-x{scale}.onnx")
    if out.exists() and not overwrite:
        raise ValueError(f"{str(out)!r} exists: pass --overwrite to replace it")
    data = onnx_bytes(load_network(kind, scale))
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o666 & ~_umask())    # mkstemp makes 0600; a written file gets what the umask allows
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return out
