"""Training loop: Adam on mean squared error of the luma, validated on Set5 (papers' protocol).

``train(TrainConfig(...))`` trains one model (one kind, one scale) and writes into
``<out_dir>/<kind>-x<scale>/``:

* ``config.json`` + ``model.safetensors``: the weights with the best validation PSNR;
* ``history.json``: per evaluation, step, training loss, bicubic's loss on the same patches,
  validation PSNR of the model and of bicubic (the "low loss, poor result" evidence);

Training data: the vendored T91 (``train_sets``; measured better than T91 plus the bundled
training photos on Set5 and on the bundled validation photos alike, README), optionally with
bundled photos (``train_names``). Validation: mean PSNR-Y on Set5 with the papers' protocol (srcnn.protocol),
or the bundled validation photos (``val_set="photos"``, the app's path). Set14 and the bundled
validation photos are never trained on and never pick a step: they are only reported.
* ``snapshots/step-<N>/``: the weights at a few fractions of the run (early vs late);
* ``README.md``: the model card (srcnn.card);
* ``train_state.pt`` while training (for ``resume``), removed when the run completes.

Deterministic for a given seed and thread count. Ctrl-C saves the state before exiting.
"""

from __future__ import annotations

import json
import math
import platform
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .. import protocol
from .data import VALIDATION, Patches, center_crop, load_images, load_set, lr_hr_luma, make_patches
from ..imaging import pil_to_arrays
from ..metrics import psnr_y
from ..models import SRCNN, check_scale, model_class, parameter_count
from ..weights import load_from_folder

SNAPSHOT_FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class TrainConfig:
    kind: str = "residual"           # "srcnn" or "residual"
    scale: int = 3
    steps: int = 30000
    batch_size: int = 128
    lr: float = 1e-3                 # Adam, cosine decay to lr_min
    lr_min: float = 1e-5
    seed: int = 0
    f1: int = 9
    f2: int = 1
    f3: int = 5
    n1: int = 64
    n2: int = 32
    patch: int = 33
    stride: int = 14
    rescales: tuple[float, ...] = (1.0, 0.8, 0.6)
    eval_every: int = 250
    out_dir: str = "checkpoints"
    images: str | None = None        # a folder of training photos instead of the sets and photos below
    train_sets: tuple[str, ...] = ("T91",)       # vendored sets trained on (srcnn.data.SETS)
    train_names: tuple[str, ...] = ()            # bundled photos trained on too (srcnn.data.TRAINING)
    val_set: str = "Set5"            # picks the best step: "Set5" (papers' protocol) or "photos"
    val_names: tuple[str, ...] = field(default_factory=lambda: tuple(VALIDATION))  # with "photos"
    val_crop: int | None = None      # centre-crop validation photos (smoke runs)
    threads: int | None = None
    resume: bool = False
    device: str = "auto"             # "auto": CUDA when present, else CPU
    init_from: str | None = None     # start from this checkpoint folder's weights (same kind and
                                     # architecture; e.g. x2 and x4 start from the trained x3)


def folder(cfg: TrainConfig) -> Path:
    return Path(cfg.out_dir) / f"{cfg.kind}-x{cfg.scale}"


def lr_at(cfg: TrainConfig, step: int) -> float:
    t = min(step / max(cfg.steps, 1), 1.0)
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * t))


def augment(x: torch.Tensor, k: int) -> torch.Tensor:
    """One of the 8 dihedral transforms (k in 0..7) of a (N,1,H,W) batch."""
    if k >= 4:
        x = x.flip(-1)
    return torch.rot90(x, k % 4, dims=(-2, -1))


def training_images(cfg: TrainConfig) -> dict:
    """name -> image: the ``images`` folder if given, else the ``train_sets`` and ``train_names``."""
    if cfg.images:
        return load_images(cfg.images)
    images = {}
    for name in cfg.train_sets:
        images.update({f"{name}/{k}": v for k, v in load_set(name).items()})
    images.update(load_images(list(cfg.train_names)))
    return images


def validation_pairs(cfg: TrainConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """(bicubic luma, HR luma) per validation image: Set5 with the papers' protocol
    (srcnn.protocol), or the bundled validation photos (cropped to ``val_crop`` if set)."""
    if cfg.val_set == "Set5":
        return [protocol.bicubic_pair(img, cfg.scale) for img in load_set("Set5").values()]
    if cfg.val_set != "photos":
        raise ValueError(f"val_set must be 'Set5' or 'photos', got {cfg.val_set!r}")
    pairs = []
    for img in load_images(list(cfg.val_names)).values():
        color, _ = pil_to_arrays(center_crop(img, cfg.val_crop) if cfg.val_crop else img)
        pairs.append(lr_hr_luma(color, cfg.scale))
    return pairs


@torch.no_grad()
def evaluate_luma(model: SRCNN, pairs: list[tuple[np.ndarray, np.ndarray]], scale: int,
                  device: torch.device) -> tuple[float, float]:
    """Mean PSNR-Y (border = scale) of model and of bicubic over (bicubic, HR) luma pairs,
    outputs rounded to 8 bits as a saved picture is (srcnn.protocol.round8)."""
    model.eval()
    r = model.radius
    ours, bic = [], []
    for x, y in pairs:
        xp = np.pad(x, r, mode="symmetric")
        t = torch.from_numpy(xp)[None, None].to(device)
        out = model(t)[0, 0].float().cpu().numpy()
        ours.append(psnr_y(protocol.round8(out), y, border=scale))
        bic.append(psnr_y(protocol.round8(x), y, border=scale))
    model.train()
    return float(np.mean(ours)), float(np.mean(bic))


def hardware(device: torch.device) -> dict:
    """What the run used, for the model card: device, CPU model, torch threads, versions."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    gpu = torch.cuda.get_device_name(device) if device.type == "cuda" else None
    return {"device": device.type, "cpu": cpu, "gpu": gpu, "threads": torch.get_num_threads(),
            "torch": torch.__version__}


def _save_state(path: Path, model, opt, step, history, rng) -> None:
    tmp = path.with_suffix(".tmp")
    torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                "history": history, "rng": rng.bit_generator.state}, tmp)
    tmp.replace(path)


def train(cfg: TrainConfig, progress: bool = True) -> dict:
    """Train one model as configured; return a summary (best validation PSNR, time, paths)."""
    model_class(cfg.kind)       # checks the kind
    check_scale(cfg.scale)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = torch.device("cuda" if cfg.device == "auto" and torch.cuda.is_available()
                          else ("cpu" if cfg.device == "auto" else cfg.device))
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    out = folder(cfg)
    out.mkdir(parents=True, exist_ok=True)
    state_path = out / "train_state.pt"

    model = model_class(cfg.kind)(f1=cfg.f1, f2=cfg.f2, f3=cfg.f3, n1=cfg.n1, n2=cfg.n2, scale=cfg.scale)
    model = model.to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    history: list[dict] = []
    start = 0
    if cfg.resume and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        start, history = state["step"], state["history"]
        rng.bit_generator.state = state["rng"]
        torch.manual_seed(cfg.seed + start)
    else:
        if cfg.init_from:
            init = load_from_folder(cfg.kind, cfg.init_from)
            if (init.f1, init.f2, init.f3, init.n1, init.n2) != (cfg.f1, cfg.f2, cfg.f3, cfg.n1, cfg.n2):
                raise ValueError(f"init_from {cfg.init_from} has another architecture than this run")
            model.load_state_dict(init.state_dict())
        if not cfg.resume:
            shutil.rmtree(out / "snapshots", ignore_errors=True)

    train_images = training_images(cfg)
    patches: Patches = make_patches(train_images, cfg.scale, model.radius, cfg.patch, cfg.stride, cfg.rescales)
    inputs = torch.from_numpy(patches.inputs)[:, None]
    labels = torch.from_numpy(patches.labels)[:, None]
    val = validation_pairs(cfg)
    r = model.radius
    snapshot_steps = sorted({max(1, round(f * cfg.steps)) for f in SNAPSHOT_FRACTIONS})
    best = max((h["val_psnr"] for h in history), default=-math.inf)
    t0 = time.time() - (history[-1]["seconds"] if history else 0.0)
    run_loss, run_bic, run_n = 0.0, 0.0, 0

    bar = tqdm(range(start, cfg.steps), initial=start, total=cfg.steps, disable=not progress,
               desc=f"{cfg.kind} x{cfg.scale}", dynamic_ncols=True)
    step = done = start
    rng_before = rng.bit_generator.state
    info = {"parameters": parameter_count(model), "patches": len(inputs), "hardware": hardware(device)}
    try:
        for step in bar:
            rng_before = rng.bit_generator.state  # restored if Ctrl-C lands before this step is applied
            idx = torch.from_numpy(rng.integers(0, len(inputs), cfg.batch_size))
            k = int(rng.integers(0, 8))
            x = augment(inputs[idx], k).to(device).contiguous(memory_format=torch.channels_last)
            y = augment(labels[idx], k).to(device)
            for g in opt.param_groups:
                g["lr"] = lr_at(cfg, step)
            loss = torch.mean((model(x) - y) ** 2)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            done = step + 1
            with torch.no_grad():
                run_bic += float(torch.mean((x[:, :, r:-r, r:-r] - y) ** 2))
            run_loss += loss.item()
            run_n += 1
            if done % cfg.eval_every == 0 or done == cfg.steps or done in snapshot_steps:
                v, vb = evaluate_luma(model, val, cfg.scale, device)
                history.append({"step": done, "train_loss": run_loss / run_n, "train_bicubic_loss": run_bic / run_n,
                                "val_psnr": v, "val_bicubic_psnr": vb, "lr": lr_at(cfg, step),
                                "seconds": time.time() - t0})
                run_loss, run_bic, run_n = 0.0, 0.0, 0
                bar.set_postfix(loss=f"{history[-1]['train_loss']:.2e}", val=f"{v:.2f}", gain=f"{v - vb:+.2f}")
                if v > best:
                    best = v
                    model.save_pretrained(out)
                if done in snapshot_steps:
                    model.save_pretrained(out / "snapshots" / f"step-{done:06d}")
                (out / "history.json").write_text(json.dumps(
                    {"config": asdict(cfg), **info, "history": history}, indent=1))
                _save_state(state_path, model, opt, done, history, rng)
    except KeyboardInterrupt:  # save the steps actually applied; --resume goes on from there
        if done == step and step < cfg.steps:
            rng.bit_generator.state = rng_before
        _save_state(state_path, model, opt, done, history, rng)
        raise
    state_path.unlink(missing_ok=True)
    last = history[-1]
    best_row = max(history, key=lambda h: h["val_psnr"])
    return {"folder": str(out), "best_val_psnr": best_row["val_psnr"], "best_step": best_row["step"],
            "val_bicubic_psnr": last["val_bicubic_psnr"], "seconds": last["seconds"],
            "steps": cfg.steps, "patches": len(inputs)}
