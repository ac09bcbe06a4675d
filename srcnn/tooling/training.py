"""Training loop: Adam on mean squared error of the luma, validated on Set5 (papers' protocol).

``train(TrainConfig(...))`` trains one model (one kind, one scale) and writes into
``<out_dir>/<kind>-x<scale>/``:

* ``config.json`` + ``model.safetensors``: the weights with the best validation PSNR;
* ``history.json``: per evaluation, step, training loss, bicubic's loss on the same patches,
  validation PSNR of the model and of bicubic (the "low loss, poor result" evidence);
* ``snapshots/step-<N>/``: the weights at a few fractions of the run (early vs late);
* ``README.md``: the model card (srcnn.tooling.card, written by train.py);
* ``train_state.pt`` while training (for ``resume``), removed when the run completes.

Training data: the vendored T91 (``train_sets``; measured better than T91 plus the bundled
training photos on Set5 and on the bundled validation photos alike, README), optionally with
bundled photos (``train_names``). Validation: mean PSNR-Y on Set5 with the papers' protocol
(srcnn.protocol), or the bundled validation photos (``val_set="photos"``). Set14 and the bundled
validation photos are never trained on and never pick a step: they are only reported.

With ``stream`` (``train.py --images DIR``) the patches are not cut up front: they are made per
step from the photos in ``images``, in DataLoader worker processes (srcnn.tooling.stream);
the vendored sets keep the in-memory patches of the shipped recipe.

Under ``torchrun`` (srcnn.tooling.distributed) the model is wrapped in DistributedDataParallel:
``batch_size`` is the global batch, each of N processes computes its contiguous share of it,
the gradients are averaged, and rank 0 alone validates and writes; the others wait for it.

The loop, in named steps: :func:`set_up` (seed, model, optimizer, resume, data), then per step
:func:`optimizer_step`, and at evaluation steps :func:`validate` and :func:`save` (best
weights, snapshots, history, resumable state).
Deterministic for a given seed, thread count and number of processes. Ctrl-C saves the state
before exiting (rank 0 alone, once)."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import platform
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .. import protocol
from . import distributed, stream
from .data import clean_validation, VALIDATION, Patches, center_crop, load_images, load_set, lr_hr_luma, make_patches
from ..architecture import PAPER, Architecture
from ..imaging import pil_to_arrays, round8
from ..metrics import psnr_y
from ..models import RANGE, check_trained
from ..pipeline import apply_network
from ..torch_models import SRCNN, model_class, parameter_count
from ..weights import load_from_folder, subfolder

SNAPSHOT_FRACTIONS = (0.01, 0.03, 0.1, 0.3, 1.0)


@dataclass
class TrainConfig:
    kind: str = "residual"           # "srcnn" or "residual"
    scale: int | float | str = 3     # 2, 3, 4, models.RANGE ("1.1-2": one network for factors 1.1 to 2),
                                     # or an anchor of the small-factor family (srcnn.factors.ANCHORS)
    steps: int = 30000
    batch_size: int = 128
    lr: float = 1e-3                 # Adam, cosine decay to lr_min
    lr_min: float = 1e-5
    seed: int = 0
    f1: int = PAPER.f1               # the layer sizes (srcnn.architecture); the published networks: 9-1-5, 64/32
    f2: int = PAPER.f2
    f3: int = PAPER.f3
    n1: int = PAPER.n1
    n2: int = PAPER.n2
    patch: int = 33
    stride: int = 14
    rescales: tuple[float, ...] = (1.0, 0.8, 0.6)
    eval_every: int = 250
    out_dir: str = "checkpoints"
    images: str | None = None        # a folder of training photos instead of the sets and photos below
    train_sets: tuple[str, ...] = ("T91",)       # vendored sets trained on (srcnn.tooling.data.SETS)
    train_names: tuple[str, ...] = ()            # bundled photos trained on too (srcnn.tooling.data.TRAINING)
    val_set: str = "Set5"            # picks the best step: "Set5" (papers' protocol), "photos",
                                     # "clean" (data/validation-clean, the small-factor anchors) or
                                     # "jpeg" (the same photos' low-res saved at VALIDATION_QUALITIES)
    val_names: tuple[str, ...] = field(default_factory=lambda: tuple(VALIDATION))  # with "photos"
    val_crop: int | None = None      # centre-crop validation photos (smoke runs)
    threads: int | None = None
    resume: bool = False
    device: str = "auto"             # "auto": CUDA when present, else CPU
    init_from: str | None = None     # start from this checkpoint folder's weights (same kind and
                                     # architecture; e.g. x2 and x4 start from the trained x3)
    jpeg_quality: tuple[int, int] | None = None   # (lowest, highest): low-res inputs saved as JPEG at a
                                     # quality drawn from this range (the compressed-input networks,
                                     # folder <kind>-x<scale>-jpeg); None: clean 8-bit inputs
    jpeg_copies: int = 3             # JPEG copies of each photo at each rescaling, each its own quality
    stream: bool = False             # with ``images``: patches made per step in DataLoader workers
                                     # (srcnn.tooling.stream; any number of photos, any depth) instead
                                     # of every patch cut up front; jpeg_quality then per patch
    workers: int = 2                 # stream: loader processes per training process (0: in-process)
    per_photo: int = 16              # stream: patches cut from each photo read


def architecture(cfg: TrainConfig) -> Architecture:
    """The layer sizes of the run's network (its filter sizes checked there, once)."""
    return Architecture(cfg.f1, cfg.f2, cfg.f3, cfg.n1, cfg.n2)


def folder(cfg: TrainConfig) -> Path:
    """``<out_dir>/<kind>-x<scale>[-jpeg]`` (srcnn.weights.subfolder): where the run writes."""
    return Path(cfg.out_dir) / subfolder(cfg.kind, cfg.scale, compressed=cfg.jpeg_quality is not None)


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


RANGE_VALIDATION = 1.5   # the factor a range network (models.RANGE) is validated at
# val_set "jpeg": each clean validation photo's low-res image saved at these JPEG qualities
VALIDATION_QUALITIES = (30, 50, 75, 90)


def validation_factor(cfg: TrainConfig) -> float:
    """The factor validation measures at: the run's scale, or :data:`RANGE_VALIDATION`."""
    return RANGE_VALIDATION if cfg.scale == RANGE else cfg.scale


def validation_border(cfg: TrainConfig) -> int:
    """Pixels shaved in validation: the factor, rounded up (the papers shave the scale)."""
    return math.ceil(validation_factor(cfg))


def validation_pairs(cfg: TrainConfig) -> list[tuple[np.ndarray, np.ndarray]]:
    """(bicubic luma, HR luma) per validation image: Set5 with the papers' protocol
    (srcnn.protocol; a range network: Set5 at :data:`RANGE_VALIDATION` on the app's path, the
    papers' protocol being defined for whole factors; an anchor factor: Set5 at that factor, the
    same way), the clean validation photos (``data/validation-clean``, at the run's factor), or
    the bundled validation photos (cropped to ``val_crop`` if set)."""
    if cfg.val_set == "clean":
        return [lr_hr_luma(pil_to_arrays(img)[0], validation_factor(cfg)) for img in clean_validation().values()]
    if cfg.val_set == "jpeg":
        return [lr_hr_luma(pil_to_arrays(img)[0], validation_factor(cfg), q)
                for img in clean_validation().values() for q in VALIDATION_QUALITIES]
    if cfg.val_set == "Set5" and not isinstance(cfg.scale, int):
        return [lr_hr_luma(pil_to_arrays(img)[0], validation_factor(cfg)) for img in load_set("Set5").values()]
    if cfg.val_set == "Set5":
        return [protocol.bicubic_pair(img, cfg.scale) for img in load_set("Set5").values()]
    if cfg.val_set != "photos":
        raise ValueError(f"val_set must be 'Set5', 'clean', 'jpeg' or 'photos', got {cfg.val_set!r}")
    pairs = []
    for img in load_images(list(cfg.val_names)).values():
        color, _ = pil_to_arrays(center_crop(img, cfg.val_crop) if cfg.val_crop else img)
        pairs.append(lr_hr_luma(color, validation_factor(cfg)))
    return pairs


def evaluate_luma(model: SRCNN, pairs: list[tuple[np.ndarray, np.ndarray]], border: int,
                  device: torch.device) -> tuple[float, float]:
    """Mean PSNR-Y (``border`` px shaved) of model and of bicubic over (bicubic, HR) luma pairs,
    outputs rounded to 8 bits as a saved picture is (srcnn.imaging.round8).

    The network runs as every caller runs it, srcnn.pipeline.apply_network (mirror padding,
    one exact window), on plain PyTorch: the weights change between calls, so no ONNX session
    is built. A model training on a GPU is measured through a CPU copy. ``device`` is the
    training device."""
    model.eval()
    on_cpu = model if device.type == "cpu" else copy.deepcopy(model).cpu()
    ours, bic = [], []
    for x, y in pairs:
        out = apply_network(on_cpu, x, tile=None, engine="torch")
        ours.append(psnr_y(round8(out), y, border=border))
        bic.append(psnr_y(round8(x), y, border=border))
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


# --------------------------------------------------------------------------- the loop, in steps

@dataclass
class Run:
    """What the training loop carries from step to step (built by :func:`set_up`)."""
    cfg: TrainConfig
    device: torch.device
    out: Path                        # <out_dir>/<kind>-x<scale>
    model: SRCNN
    opt: torch.optim.Optimizer
    rng: np.random.Generator         # draws the batches and augmentations
    history: list[dict]              # one row per evaluation (history.json)
    start: int                       # first step to run (0, or where a resumed run stopped)
    inputs: torch.Tensor | None      # (N, 1, P, P) bicubic luma patches (None: streamed)
    labels: torch.Tensor | None      # (N, 1, P - 2r, P - 2r) HR luma centres
    val: list[tuple[np.ndarray, np.ndarray]]
    snapshot_steps: list[int]
    best: float                      # best validation PSNR so far (dB)
    t0: float                        # time.time() at step 0 (earlier runs' time subtracted)
    info: dict = field(default_factory=dict)   # parameters, patches, hardware (history.json)
    net: torch.nn.Module | None = None   # what the steps run: ``model``, or it in DistributedDataParallel
    batches: object = None           # stream: an iterator of this rank's (input, label) batches, step by step

    @property
    def state_path(self) -> Path:
        return self.out / "train_state.pt"


@dataclass
class RunningLoss:
    """Mean training loss, and bicubic's on the same patches, since the last evaluation; and the
    time (s) the steps took, of which waiting for their batches."""
    loss: float = 0.0
    bicubic: float = 0.0
    n: int = 0
    step_seconds: float = 0.0
    data_seconds: float = 0.0


def device_for(cfg: TrainConfig) -> torch.device:
    """``cfg.device``; "auto": CUDA when present, else the CPU. Under torchrun "auto" and "cuda"
    mean this process's GPU (its LOCAL_RANK)."""
    if cfg.device not in ("auto", "cuda"):
        return torch.device(cfg.device)
    if cfg.device == "cuda" or torch.cuda.is_available():
        return torch.device("cuda", distributed.local_rank()) if distributed.active() else torch.device("cuda")
    return torch.device("cpu")


def set_up(cfg: TrainConfig) -> Run:
    """Check the config, seed, build the model and optimizer (resumed, or started from
    ``init_from``), cut the training patches and build the validation pairs."""
    model_class(cfg.kind)       # checks the kind
    check_trained(cfg.scale)
    distributed.share(cfg.batch_size)     # checks that the global batch splits over the processes
    if cfg.stream and not cfg.images:
        raise ValueError("stream needs images: a folder of training photos")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = device_for(cfg)
    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    out = folder(cfg)
    main = distributed.is_main()
    if main:
        out.mkdir(parents=True, exist_ok=True)

    model = model_class(cfg.kind)(**architecture(cfg).sizes, scale=cfg.scale)
    model = model.to(device).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    history, start = _resume_or_start(cfg, out, model, opt, rng, device) if main else ([], 0)
    if distributed.world() > 1:
        history, start = _share_start(cfg, model, opt, rng, history, start, device)

    info = {"parameters": parameter_count(model), "hardware": hardware(device), "processes": distributed.world()}
    inputs, labels, batches, sizes = _training_data(cfg, model.radius, start)
    info.update(sizes)
    val = validation_pairs(cfg) if main else []
    t0 = time.time() - (history[-1]["seconds"] if history else 0.0)   # the data's set-up not counted
    return Run(cfg, device, out, model, opt, rng, history, start, inputs, labels, val,
               snapshot_steps=sorted({max(1, round(f * cfg.steps)) for f in SNAPSHOT_FRACTIONS}),
               best=max((h["val_psnr"] for h in history), default=-math.inf), t0=t0, info=info,
               net=distributed.wrap(model, device), batches=batches)


def _training_data(cfg: TrainConfig, radius: int, start: int) -> tuple[torch.Tensor | None, torch.Tensor | None,
                                                                       object, dict]:
    """(inputs, labels, batches, sizes for history.json): every patch cut up front (the
    vendored sets; ``batches`` None), or with ``stream`` a loader of this rank's batches from
    step ``start`` (``inputs`` and ``labels`` None)."""
    if not cfg.stream:
        patches: Patches = make_patches(training_images(cfg), cfg.scale, radius, cfg.patch, cfg.stride,
                                        cfg.rescales, cfg.jpeg_quality, cfg.jpeg_copies, cfg.seed)
        inputs, labels = torch.from_numpy(patches.inputs)[:, None], torch.from_numpy(patches.labels)[:, None]
        return inputs, labels, None, {"patches": len(inputs)}
    photos = stream.PhotoPatches(cfg.images, cfg.scale, radius, cfg.patch, cfg.rescales, cfg.jpeg_quality,
                                 cfg.seed, cfg.per_photo)
    distributed.check_same(hashlib.sha256(photos.files.tobytes()).hexdigest(), f"photos in {cfg.images}")
    batches = iter(stream.loader(photos, start, cfg.steps, cfg.batch_size, distributed.rank(), distributed.world(),
                                 cfg.workers))
    return None, None, batches, {"patches": None, "photos": len(photos.files), "workers": cfg.workers}


def _share_start(cfg: TrainConfig, model: SRCNN, opt: torch.optim.Optimizer, rng: np.random.Generator,
                 history: list[dict], start: int, device: torch.device) -> tuple[list[dict], int]:
    """Under torchrun: rank 0's starting point (weights, optimizer, random state, history, first
    step), which it alone read from disk, on every rank; (history, first step)."""
    buf = io.BytesIO()
    if distributed.is_main():
        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "rng": rng.bit_generator.state,
                    "history": history, "step": start}, buf)
    state = torch.load(io.BytesIO(distributed.broadcast(buf.getvalue())), map_location=device, weights_only=False)
    if not distributed.is_main():
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        rng.bit_generator.state = state["rng"]
        if state["step"]:
            torch.manual_seed(cfg.seed + state["step"])
    return state["history"], state["step"]



def widened(init: dict[str, torch.Tensor], fresh: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A network with more first-layer filters (``fresh``'s n1) that computes what ``init`` computes:
    ``init``'s filters first, the new ones as ``fresh`` drew them, and zero weights from the new
    ones into the second layer (so they start with no effect, and learn from the first step)."""
    n1 = init["conv1.weight"].shape[0]
    out = {k: v.clone() for k, v in init.items()}
    out["conv1.weight"] = torch.cat([init["conv1.weight"], fresh["conv1.weight"][n1:]])
    out["conv1.bias"] = torch.cat([init["conv1.bias"], fresh["conv1.bias"][n1:]])
    extra = fresh["conv2.weight"][:, n1:]
    out["conv2.weight"] = torch.cat([init["conv2.weight"], torch.zeros_like(extra)], dim=1)
    return out

def _resume_or_start(cfg: TrainConfig, out: Path, model: SRCNN, opt: torch.optim.Optimizer,
                     rng: np.random.Generator, device: torch.device) -> tuple[list[dict], int]:
    """(history, first step): from ``train_state.pt`` with ``resume``, else a fresh run (from
    ``init_from``'s weights if set; old snapshots removed)."""
    state_path = out / "train_state.pt"
    if cfg.resume and state_path.exists():
        state = torch.load(state_path, map_location=device, weights_only=False)
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["opt"])
        rng.bit_generator.state = state["rng"]
        torch.manual_seed(cfg.seed + state["step"])
        return state["history"], state["step"]
    if cfg.init_from:
        init = load_from_folder(cfg.kind, cfg.init_from)
        if init.architecture == architecture(cfg):
            model.load_state_dict(init.state_dict())
        elif init.architecture == replace(architecture(cfg), n1=init.n1) and init.n1 < cfg.n1:
            model.load_state_dict(widened(init.state_dict(), model.state_dict()))
        else:
            raise ValueError(f"init_from {cfg.init_from} has another architecture than this run "
                             f"({init.architecture.describe()} / {init.n1}, {init.n2}); only n1 may grow")
    if not cfg.resume:
        shutil.rmtree(out / "snapshots", ignore_errors=True)
    return [], 0


def batch(run: Run) -> tuple[torch.Tensor, torch.Tensor]:
    """This process's share of the step's global batch, augmented, on the CPU: (inputs, labels).

    In memory: ``batch_size`` random patches and one dihedral transform drawn from the run's
    generator (the same draws on every rank), this rank's contiguous share kept. Streamed: the
    next batch of the loader (made in its workers, each patch with its own transform)."""
    if run.batches is not None:
        return next(run.batches)
    idx = torch.from_numpy(run.rng.integers(0, len(run.inputs), run.cfg.batch_size))
    k = int(run.rng.integers(0, 8))
    if distributed.world() > 1:
        share = distributed.share(run.cfg.batch_size)
        idx = idx[distributed.rank() * share:(distributed.rank() + 1) * share]
    return augment(run.inputs[idx], k), augment(run.labels[idx], k)


def optimizer_step(run: Run, step: int, x: torch.Tensor, y: torch.Tensor
                   ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One Adam step on the batch (:func:`batch`) at the scheduled learning rate; returns
    (input batch, label batch, loss) for the running means. Under torchrun the loss is the mean
    over this rank's share and DistributedDataParallel averages the gradients over the ranks:
    the mean over equal shares is the mean over the global batch."""
    cfg = run.cfg
    x = x.to(run.device).contiguous(memory_format=torch.channels_last)
    y = y.to(run.device)
    for g in run.opt.param_groups:
        g["lr"] = lr_at(cfg, step)
    loss = torch.mean((run.net(x) - y) ** 2)
    run.opt.zero_grad(set_to_none=True)
    loss.backward()
    run.opt.step()
    return x, y, loss


def accumulate(running: RunningLoss, x: torch.Tensor, y: torch.Tensor, loss: torch.Tensor, radius: int) -> None:
    """Add a step's loss, and bicubic's (the input's centre against the label), to the means."""
    r = radius
    with torch.no_grad():
        running.bicubic += float(torch.mean((x[:, :, r:-r, r:-r] - y) ** 2))
    running.loss += loss.item()
    running.n += 1


def validate(run: Run, done: int, step: int, running: RunningLoss) -> dict | None:
    """Measure on the validation pairs after ``done`` steps; append and return the history row.
    Every rank calls it (the training losses are averaged over the ranks); rank 0 alone
    measures and returns the row, the others None."""
    loss, bicubic = distributed.mean([running.loss / running.n, running.bicubic / running.n])
    if not distributed.is_main():
        return None
    v, vb = evaluate_luma(run.model, run.val, validation_border(run.cfg), run.device)
    row = {"step": done, "train_loss": loss, "train_bicubic_loss": bicubic,
           "val_psnr": v, "val_bicubic_psnr": vb, "lr": lr_at(run.cfg, step), "seconds": time.time() - run.t0,
           "train_seconds": running.step_seconds, "data_seconds": running.data_seconds}
    run.history.append(row)
    return row


def save(run: Run, done: int) -> None:
    """After an evaluation: the weights if they are the best so far, a snapshot at the planned
    steps, history.json, and the state ``resume`` continues from."""
    v = run.history[-1]["val_psnr"]
    if v > run.best:
        run.best = v
        run.model.save_pretrained(run.out)
    if done in run.snapshot_steps:
        run.model.save_pretrained(run.out / "snapshots" / f"step-{done:06d}")
    (run.out / "history.json").write_text(json.dumps(
        {"config": asdict(run.cfg), **run.info, "history": run.history}, indent=1))
    _save_state(run.state_path, run.model, run.opt, done, run.history, run.rng)


def summary(run: Run) -> dict:
    """What train() returns: the folder, best validation PSNR and its step, time, sizes."""
    last = run.history[-1]
    best_row = max(run.history, key=lambda h: h["val_psnr"])
    return {"folder": str(run.out), "best_val_psnr": best_row["val_psnr"], "best_step": best_row["step"],
            "val_bicubic_psnr": last["val_bicubic_psnr"], "seconds": last["seconds"],
            "steps": run.cfg.steps, "patches": run.info["patches"]}


def train(cfg: TrainConfig, progress: bool = True) -> dict | None:
    """Train one model as configured; return a summary (best validation PSNR, time, paths), or
    None on the ranks other than 0 under torchrun.

    set up -> per step: an optimizer step, and every ``eval_every`` steps (and at the
    snapshot steps and the end) validate and save. Ctrl-C (under torchrun: the SIGINT or SIGTERM
    it passes on) saves the steps actually applied, once, from rank 0."""
    called = time.time()
    run = set_up(cfg)
    main = distributed.is_main()
    running = RunningLoss()
    bar = tqdm(range(run.start, cfg.steps), initial=run.start, total=cfg.steps, disable=not (progress and main),
               desc=f"{cfg.kind} x{cfg.scale}", dynamic_ncols=True)
    step = done = run.start
    rng_before = run.rng.bit_generator.state
    try:
        for step in bar:
            rng_before = run.rng.bit_generator.state  # restored if Ctrl-C lands before this step is applied
            if distributed.should_stop():          # torchrun interrupted: every rank stops here
                raise KeyboardInterrupt
            began = time.perf_counter()
            x, y = batch(run)
            fetched = time.perf_counter()
            x, y, loss = optimizer_step(run, step, x, y)
            done = step + 1
            running.data_seconds += fetched - began
            running.step_seconds += time.perf_counter() - began
            run.info.setdefault("first_step_seconds", time.time() - called)   # set-up and one step
            accumulate(running, x, y, loss, run.model.radius)
            if done % cfg.eval_every == 0 or done == cfg.steps or done in run.snapshot_steps:
                row = validate(run, done, step, running)
                running = RunningLoss()
                if main:
                    bar.set_postfix(loss=f"{row['train_loss']:.2e}", val=f"{row['val_psnr']:.2f}",
                                    gain=f"{row['val_psnr'] - row['val_bicubic_psnr']:+.2f}")
                    save(run, done)
                distributed.barrier()
    except KeyboardInterrupt:  # save the steps actually applied; --resume goes on from there
        if done == step and step < cfg.steps:
            run.rng.bit_generator.state = rng_before
        if main:
            _save_state(run.state_path, run.model, run.opt, done, run.history, run.rng)
            print(f"interrupted after step {done}: state saved to {run.state_path} (--resume goes on)", file=sys.stderr)
        raise
    finally:
        run.batches = None                           # the loader's workers end with their iterator
    if not main:
        return None
    run.state_path.unlink(missing_ok=True)
    return summary(run)
