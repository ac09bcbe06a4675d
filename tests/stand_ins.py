"""Stand-ins shared by several test files: seeded untrained networks, a smooth photo, a training
history written to disk, a tiny real training configuration, train.py loaded as a module and a
local port nobody listens on.
The properties tested with them are about where pixels go and what is said, not how good the
pixels are."""

from __future__ import annotations

import importlib.util
import json
import socket
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from srcnn.torch_models import ResidualSRCNN, SRCNN
from srcnn.tooling.training import TrainConfig

ROOT = Path(__file__).resolve().parent.parent


def model(kind: str = "residual", seed: int = 0, body_std: float = 0.05) -> SRCNN:
    torch.manual_seed(seed)
    m = (ResidualSRCNN if kind == "residual" else SRCNN)()
    # body_std 0.05: a visible, non-trivial body; 1e-3 (the initialisation): residual ~ bicubic
    torch.nn.init.normal_(m.conv3.weight, std=body_std)
    return m.eval()


def smooth_photo(h: int = 120, w: int = 150) -> Image.Image:
    yy, xx = np.mgrid[0:h, 0:w] / 10.0
    rgb = np.stack([np.sin(xx) * np.cos(yy * 0.7), np.sin(xx * 0.5 + yy), np.cos(xx * 0.3 - yy * 0.4)], axis=2)
    return Image.fromarray(np.uint8(np.clip(127.5 + 100 * rgb, 0, 255)), "RGB")


def write_history(folder, steps=100, evals=((10, 2e-3, 2.5e-3), (100, 1e-3, 2.5e-3)), init_from=None):
    folder.mkdir(parents=True, exist_ok=True)
    rows = [{"step": s, "train_loss": l, "train_bicubic_loss": b, "val_psnr": 31.0 + s / 100,
             "val_bicubic_psnr": 30.5, "lr": 1e-3, "seconds": 1.0} for s, l, b in evals]
    config = {"steps": steps, "init_from": init_from}
    (folder / "history.json").write_text(json.dumps({"config": config, "history": rows}))


def tiny_images(folder: Path) -> Path:
    """Two small crops of bundled photos: patches are cut in well under a second."""
    import skimage.data
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(skimage.data.astronaut()[100:196, 180:276]).save(folder / "astronaut.png")
    Image.fromarray(skimage.data.camera()[120:216, 200:296]).save(folder / "camera.png")
    return folder


def tiny_config(tmp: Path, **kw) -> TrainConfig:
    """A real training run of a few steps on :func:`tiny_images`, validated on a 48 px crop."""
    base = dict(kind="residual", scale=3, steps=6, batch_size=8, eval_every=3, rescales=(1.0,),
                images=str(tiny_images(tmp / "images")), val_set="photos", val_names=("chelsea",), val_crop=48,
                out_dir=str(tmp / "out"), threads=1)
    return TrainConfig(**{**base, **kw})


def load_train_script():
    """``train.py`` (beside the package, not importable by name) as a module."""
    spec = importlib.util.spec_from_file_location("train_script", ROOT / "train.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def closed_port() -> int:
    """A local TCP port that nothing listens on (bound, read, released): a Hub that refuses."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port

