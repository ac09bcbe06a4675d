"""The model card (``README.md``) of a checkpoint folder, with its measured quality.

``write_card(folder)`` reads ``config.json`` + ``model.safetensors`` (strictly) and
``history.json`` from ``<out_dir>/<kind>-x<scale>/``, measures bicubic and the model on the
validation photos and writes ``README.md``: architecture, scale, parameter count, training
data, steps, batch, learning-rate schedule, wall time and hardware, the PSNR/SSIM table, and
the same numbers as the Hub's ``model-index`` metadata in the YAML front matter.

The measurement is the evaluation CLI's and ``srcnn.compare``'s: the photo is modcropped to
a multiple of the scale, degraded with MATLAB-style bicubic (antialiased, a = -0.5) to 8 bits,
upscaled (bicubic on RGB, the network on Y, Cb/Cr bicubic), rounded to 8 bits and compared
on Y (BT.601, 16..235) with ``scale`` px shaved from each side (srcnn.metrics).

``PyTorchModelHubMixin.save_pretrained`` writes its own README.md; the card replaces it and
must therefore be written after training (train.py does that).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .data import TRAINING, VALIDATION, center_crop, load_images, load_set
from .evaluate import BENCHMARKS, PAPER, evaluate, mean_row
from ..metrics import CONVENTION
from ..models import KINDS, SCALES, SRCNN, parameter_count
from ..pipeline import compare
from .training import SNAPSHOT_FRACTIONS, hardware
from ..weights import load_from_folder

TASK = ("image-super-resolution", "Image Super-Resolution")


@dataclass(frozen=True)
class Score:
    image: str
    size: tuple[int, int]           # ground truth width, height (modcropped)
    bicubic_psnr: float
    bicubic_ssim: float
    psnr: float
    ssim: float


def parse_folder_name(folder: str | Path) -> tuple[str, int]:
    """``.../residual-x3`` -> ("residual", 3)."""
    name = Path(folder).name
    kind, sep, scale = name.rpartition("-x")
    if not sep or kind not in KINDS or scale not in tuple(map(str, SCALES)):
        raise ValueError(f"{folder}: a checkpoint folder is named <kind>-x<scale> "
                         f"(kind srcnn or residual, scale 2, 3 or 4), got {name!r}")
    return kind, int(scale)


def measure(model: SRCNN, scale: int, names: list[str] | None = None, crop: int | None = None) -> list[Score]:
    """PSNR/SSIM of bicubic and of ``model`` on bundled photos (default: the validation split),
    by srcnn.compare's path (the app's). ``crop`` centre-crops each photo first (smoke runs)."""
    scores = []
    for name, img in load_images(list(names or VALIDATION)).items():
        if crop:
            img = center_crop(img, crop)
        c = compare(img, scale, methods=("bicubic", model.kind), models={model.kind: model})
        b, m = c.results["bicubic"], c.results[model.kind]
        scores.append(Score(name, c.ground_truth.size, b.psnr, b.ssim, m.psnr, m.ssim))
    return scores


@dataclass(frozen=True)
class Benchmark:
    """Mean PSNR (dB) / SSIM of bicubic and the model on a vendored set, papers' protocol."""
    name: str
    images: int
    bicubic_psnr: float
    bicubic_ssim: float
    psnr: float
    ssim: float


def measure_benchmarks(model: SRCNN, scale: int) -> list[Benchmark]:
    """Set5 and Set14 with the papers' protocol (srcnn.protocol), as the field's tables are."""
    out = []
    for name in BENCHMARKS:
        images = load_set(name)
        m = mean_row(evaluate(images, scale, paper=True, models={"model": model}))
        out.append(Benchmark(name, len(images), m.psnr["bicubic"], m.ssim["bicubic"], m.psnr["model"], m.ssim["model"]))
    return out


def _mean(scores: list[Score], attr: str) -> float:
    return float(np.mean([getattr(s, attr) for s in scores]))


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def _hardware_line(info: dict, cfg: dict) -> str:
    hw = info.get("hardware")
    if not hw:  # runs started before history.json recorded it: the machine writing the card
        cpu = hardware(torch.device("cpu"))["cpu"]
        threads = cfg.get("threads")
        return (f"CPU {cpu} (read when this card was written; the run did not record it), "
                f"{threads or 'default'} torch thread(s)")
    if hw.get("device") == "cuda":
        return f"GPU {hw.get('gpu')} (torch {hw.get('torch')})"
    return f"CPU {hw.get('cpu')}, {hw.get('threads')} torch thread(s) (torch {hw.get('torch')})"


def _paper_cell(name: str, scale: int) -> str:
    row = PAPER.get((name, scale), {}).get("SRCNN 9-5-5")
    return "-" if row is None else f"{row[0]:.2f}"


def _benchmark_results(benchmarks: list[Benchmark], scale: int) -> list[EvalResult]:
    """model-index entries: PSNR and SSIM on Set5 and Set14 (papers' protocol), per set."""
    results = []
    for b in benchmarks:
        ds = dict(dataset_type=b.name.lower(), dataset_name=b.name, dataset_split="test", dataset_config=f"x{scale}")
        conv = f"Y channel, {scale} px shaved, papers' protocol"
        results += [EvalResult(task_type=TASK[0], task_name=TASK[1], **ds, metric_type="psnr",
                               metric_name=f"PSNR ({conv})", metric_value=round(b.psnr, 3)),
                    EvalResult(task_type=TASK[0], task_name=TASK[1], **ds, metric_type="ssim",
                               metric_name=f"SSIM ({conv})", metric_value=round(b.ssim, 4))]
    return results


def render(kind: str, scale: int, model: SRCNN, info: dict, scores: list[Score],
           benchmarks: list[Benchmark] = ()) -> ModelCard:
    """The card as a huggingface_hub ModelCard (front matter + markdown)."""
    cfg, history = info.get("config", {}), info.get("history", [])
    name = f"{kind}-x{scale}"
    convention = CONVENTION.format(border=scale)
    val_set = f"validation photos ({', '.join(s.image for s in scores)})"
    dataset = dict(dataset_type="srcnn-studio-validation", dataset_name=f"Bundled {val_set}",
                   dataset_split="validation", dataset_config=f"x{scale}")
    results = _benchmark_results(list(benchmarks), scale) + [
        EvalResult(task_type=TASK[0], task_name=TASK[1], **dataset, metric_type="psnr",
                   metric_name=f"PSNR ({convention})", metric_value=round(_mean(scores, "psnr"), 3)),
        EvalResult(task_type=TASK[0], task_name=TASK[1], **dataset, metric_type="ssim",
                   metric_name=f"SSIM ({convention})", metric_value=round(_mean(scores, "ssim"), 4)),
        EvalResult(task_type=TASK[0], task_name=TASK[1], **dataset, metric_type="psnr",
                   metric_name="PSNR of bicubic (same convention)", metric_value=round(_mean(scores, "bicubic_psnr"), 3)),
        EvalResult(task_type=TASK[0], task_name=TASK[1], **dataset, metric_type="ssim",
                   metric_name="SSIM of bicubic (same convention)", metric_value=round(_mean(scores, "bicubic_ssim"), 4)),
    ]
    data = ModelCardData(model_name=name, library_name="srcnn-studio", license="mit",
                         pipeline_tag="image-to-image", eval_results=results,
                         tags=["super-resolution", "srcnn", "pytorch", "model_hub_mixin", "pytorch_model_hub_mixin"])

    f1, f2, f3, n1, n2 = model.f1, model.f2, model.f3, model.n1, model.n2
    formula = ("y = x_c + body(x): the network predicts the detail bicubic misses (x_c is the input "
               f"cropped by {model.radius} px to line up with the valid output)" if kind == "residual"
               else "y = body(x): the network predicts the high-resolution luma itself")
    images = cfg.get("images")
    sets, names = cfg.get("train_sets", []), cfg.get("train_names", [])
    parts = [f"{s_} (vendored in `data/{s_}/`)" for s_ in sets]
    if names:
        parts.append(f"bundled photos ({len(names)}): " + ", ".join(f"`{n}`" for n in names)
                     + (" (the project's fixed training split)" if set(names) == set(TRAINING) else ""))
    data_line = f"every image in the user's folder `{images}`" if images else " + ".join(parts)
    val_line = ("Set5, papers' protocol (srcnn.protocol)" if cfg.get("val_set", "photos") == "Set5"
                else "the bundled validation photos")
    bench_rows = "\n".join(
        f"| {b.name} ({b.images} images) | {b.bicubic_psnr:.2f} / {b.bicubic_ssim:.4f} | {b.psnr:.2f} / {b.ssim:.4f} | "
        f"{b.psnr - b.bicubic_psnr:+.2f} | {_paper_cell(b.name, scale)} |"
        for b in benchmarks)
    steps = history[-1]["step"] if history else cfg.get("steps")
    best = max(history, key=lambda h: h["val_psnr"]) if history else None
    seconds = history[-1]["seconds"] if history else float("nan")

    rows = "\n".join(f"| {s.image} | {s.size[0]}x{s.size[1]} | {s.bicubic_psnr:.2f} / {s.bicubic_ssim:.4f} | "
                     f"{s.psnr:.2f} / {s.ssim:.4f} | {s.psnr - s.bicubic_psnr:+.2f} |" for s in scores)
    mean_b, mean_m = _mean(scores, "bicubic_psnr"), _mean(scores, "psnr")
    rows += (f"\n| **mean** | | **{mean_b:.2f} / {_mean(scores, 'bicubic_ssim'):.4f}** | "
             f"**{mean_m:.2f} / {_mean(scores, 'ssim'):.4f}** | **{mean_m - mean_b:+.2f}** |")
    shown = {max(1, round(f * cfg.get("steps", 0))) for f in SNAPSHOT_FRACTIONS} | ({best["step"]} if best else set())
    curve = "\n".join(f"| {h['step']} | {h['train_loss']:.3e} | {h['train_bicubic_loss']:.3e} | "
                      f"{h['val_psnr']:.2f} | {h['val_psnr'] - h['val_bicubic_psnr']:+.2f} |"
                      for h in history if h["step"] in shown)

    text = f"""
# {'Residual SRCNN' if kind == 'residual' else 'SRCNN'} x{scale}

Single-image super-resolution by {scale}x on the luma channel, from the SRCNN Studio project:
the three-layer network of Dong et al. (2014, "Image Super-Resolution Using Deep Convolutional Networks"){' with a residual (skip) connection' if kind == 'residual' else ''}.
The weights here are those with the best validation PSNR during training.

## Architecture
- kind: `{kind}`; {formula}
- layers: {f1}x{f1} conv 1->{n1}, ReLU; {f2}x{f2} conv {n1}->{n2}, ReLU; {f3}x{f3} conv {n2}->1
  ({f1}-{f2}-{f3}, n1={n1}, n2={n2}), valid convolutions: receptive-field radius {model.radius} px
- parameters: {parameter_count(model):,}
- input: the bicubic-upscaled luma Y (BT.601) in 0..1; Cb and Cr stay bicubic

## Benchmarks: Set5 and Set14, x{scale}
Mean PSNR (dB) / SSIM, Y channel (one-channel files on raw gray), {scale} px shaved, with the
papers' exact protocol (srcnn.protocol: Y rounded to 8 bits, float low-res image, output rounded
to 8 bits); the last column is Dong et al. (TPAMI 2016), SRCNN 9-5-5 trained on ImageNet.

| set | bicubic | {kind} | gain (dB) | paper SRCNN 9-5-5 |
|---|---|---|---|---|
{bench_rows}

## Evaluation on photos: bicubic vs this model, x{scale}
{convention}; LR images made by MATLAB-style bicubic downscaling (antialiased, a = -0.5) of the
modcropped photo, rounded to 8 bits; outputs rounded to 8 bits before measuring.
PSNR (dB) / SSIM on the bundled {val_set}, never used for training.

| image | size | bicubic | {kind} | gain (dB) |
|---|---|---|---|---|
{rows}

## Training
- data: {data_line}; sources and licenses are listed in the project README ("Data and licenses")
- pairs: {cfg.get('patch')}x{cfg.get('patch')} input patches at stride {cfg.get('stride')} from each photo at rescalings
  {', '.join(str(f) for f in cfg.get('rescales', []))}{f" ({info['patches']:,} patches)" if 'patches' in info else ''};
  labels are the centres of the HR patches; random flips and 90-degree rotations
- loss: mean squared error on Y; Adam, batch {cfg.get('batch_size')}, learning rate {cfg.get('lr')} with a cosine
  decay to {cfg.get('lr_min')} over {cfg.get('steps')} steps; seed {cfg.get('seed')}
- steps trained: {steps}; best validation PSNR {best['val_psnr']:.2f} dB at step {best['step']}
  (validation: {val_line}; it picks the step kept)
- wall time: {_duration(seconds)} on {_hardware_line(info, cfg)}

| step | train loss | bicubic loss (same patches) | val PSNR-Y (dB) | gain over bicubic |
|---|---|---|---|---|
{curve}

Snapshots of the weights taken during training are in `snapshots/`; `history.json` has every evaluation.

## Use
```python
import srcnn
model = srcnn.load_model("{kind}", {scale})          # this folder, from the Hub or bundled
out = srcnn.upscale(low_res_pil_image, {scale}, method="{kind}")
```
Reproduce: `python train.py --kind {kind} --scale {scale}`.
"""
    return ModelCard(f"---\n{data.to_yaml()}\n---\n{text}")


def write_card(folder: str | Path) -> Path:
    """Measure the checkpoint in ``folder`` and write ``folder/README.md``; return its path."""
    folder = Path(folder)
    kind, scale = parse_folder_name(folder)
    history_path = folder / "history.json"
    if not history_path.is_file():
        raise FileNotFoundError(f"{history_path} is missing: train the model first (python train.py)")
    info = {**json.loads(history_path.read_text()), "folder": str(folder)}
    model = load_from_folder(kind, folder)
    if model.scale != scale:
        raise ValueError(f"{folder}: config.json says x{model.scale}, the folder name x{scale}")
    cfg = info.get("config", {})
    photos = list(VALIDATION) if cfg.get("val_set") == "Set5" else list(cfg.get("val_names") or VALIDATION)
    scores = measure(model, scale, photos, cfg.get("val_crop"))
    benchmarks = [] if cfg.get("val_crop") else measure_benchmarks(model, scale)   # smoke runs: photos only
    card = render(kind, scale, model, info, scores, benchmarks)
    path = folder / "README.md"
    card.save(path)
    return path
