"""Rebuild ``checkpoints/original-2018/`` from the 2018 study's TensorFlow weights, without TensorFlow.

The input is ``weights.npz``: the six float32 tensors of tegg89/SRCNN-Tensorflow's
``checkpoint/SRCNN.model-2550000`` in TensorFlow layout (``w1`` 9x9x1x64, ``b1`` 64, ``w2``
1x1x64x32, ``b2`` 32, ``w3`` 5x5x32x1, ``b3`` 1). A copy ships next to this script
(``tools/original-2018-weights.npz``, the default), so a fresh clone can rebuild the folder.

TensorFlow stores convolution kernels HWIO; PyTorch wants OIHW: ``w.transpose(3, 2, 0, 1)``.
Both frameworks compute a cross-correlation with valid padding (no kernel flip), so the
transposed tensors give the same function. Written: ``config.json`` (the SRCNN constructor's
arguments: 9-1-5, n1=64, n2=32, scale 2, see the model card for why 2) and ``model.safetensors``.
The model card ``README.md`` in that folder is written by hand and left alone.

    python -m tools.convert_original_checkpoint [weights.npz] [--out checkpoints/original-2018]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from srcnn.torch_models import SRCNN
from srcnn.weights import load_from_folder

ROOT = Path(__file__).resolve().parent.parent

DEFAULT_NPZ = ROOT / "tools" / "original-2018-weights.npz"
DEFAULT_OUT = ROOT / "checkpoints" / "original-2018"
# 9-1-5, n1 = 64, n2 = 32 as in the port; scale 2: very probably trained on the 2016 code's x2 blur.
CONFIG = {"f1": 9, "f2": 1, "f3": 5, "n1": 64, "n2": 32, "scale": 2, "kind": "srcnn"}
# TensorFlow name -> (PyTorch parameter, shape in TensorFlow layout)
TENSORS = {
    "w1": ("conv1.weight", (9, 9, 1, 64)), "b1": ("conv1.bias", (64,)),
    "w2": ("conv2.weight", (1, 1, 64, 32)), "b2": ("conv2.bias", (32,)),
    "w3": ("conv3.weight", (5, 5, 32, 1)), "b3": ("conv3.bias", (1,)),
}


def torch_state(tf_weights: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """The TensorFlow tensors (HWIO kernels, float32) as an SRCNN state dict (OIHW kernels).

    Raises ValueError when a tensor is missing, extra, or of another shape or dtype."""
    names = set(tf_weights)
    if names != set(TENSORS):
        raise ValueError(f"expected tensors {sorted(TENSORS)}, got {sorted(names)}")
    state = {}
    for name, (param, shape) in TENSORS.items():
        w = np.asarray(tf_weights[name])
        if w.shape != shape or w.dtype != np.float32:
            raise ValueError(f"{name}: expected float32 {shape}, got {w.dtype} {w.shape}")
        state[param] = torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1) if w.ndim == 4 else w))
    return state


def convert(npz: Path = DEFAULT_NPZ, out: Path = DEFAULT_OUT) -> Path:
    """Write ``config.json`` and ``model.safetensors`` for the weights in ``npz`` into ``out``;
    check that they load back strictly and equal the input. Returns ``out``."""
    from safetensors.torch import save_model
    with np.load(npz) as f:
        tf_weights = {k: f[k] for k in f.files}
    model = SRCNN(**CONFIG)
    model.load_state_dict(torch_state(tf_weights), strict=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(CONFIG, indent=2, sort_keys=True) + "\n")
    save_model(model, str(out / "model.safetensors"))   # one metadata key: byte-for-byte reproducible
    loaded = load_from_folder("srcnn", out).state_dict()
    for name, (param, _) in TENSORS.items():
        if not torch.equal(loaded[param], torch_state(tf_weights)[param]):
            raise RuntimeError(f"{out}: {param} does not read back as {name}")
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("npz", nargs="?", type=Path, default=DEFAULT_NPZ,
                   help="weights.npz with w1, b1, w2, b2, w3, b3 in TensorFlow layout")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="checkpoint folder to (re)write")
    args = p.parse_args(argv)
    out = convert(args.npz, args.out)
    print(f"wrote {out / 'config.json'} and {out / 'model.safetensors'} from {args.npz}")


if __name__ == "__main__":
    main()
