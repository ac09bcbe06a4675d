"""The model card (``README.md``) of a checkpoint folder, with its measured quality.

``write_card(folder)`` reads ``config.json`` + ``model.safetensors`` (strictly) and
``history.json`` from ``<out_dir>/<kind>-x<scale>/``, measures bicubic and the model on the
validation photos and on Set5 and Set14, and writes ``README.md``: architecture, scale,
parameter count, training data, steps, batch, learning-rate schedule, wall time and hardware,
the PSNR/SSIM tables, and the same numbers as the Hub's ``model-index`` metadata in the YAML
front matter. The text is the Jinja template ``model_card_template.md`` beside this file,
filled by huggingface_hub's ``ModelCard.from_template`` (:func:`render`).

The photos are measured the way srcnn.compare (the app) measures: modcropped to a multiple of
the scale, degraded with MATLAB-style bicubic (antialiased, a = -0.5) to 8 bits, upscaled by
srcnn.pipeline, rounded to 8 bits and compared on Y with ``scale`` px shaved (srcnn.metrics).
Set5 and Set14 take the papers' protocol (srcnn.protocol), as the field's tables do.

``PyTorchModelHubMixin.save_pretrained`` writes its own README.md; the card replaces it and
must therefore be written after training (train.py does that).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .. import factors, imaging, protocol
from ..architecture import PAPER
from ..blending import blended
from ..jpeg import compress_image
from .data import TRAINING, VALIDATION, center_crop, held_out, load_images, load_set
from .evaluate import evaluate, mean_row
from ..metrics import convention, psnr, ssim
from ..models import RANGE, SCALES, Network, as_network
from ..runner import default_runner
from ..pipeline import compare, degrade, ground_truth, upscale, upscale_arrays
from ..torch_models import SRCNN, parameter_count
from .training import RANGE_VALIDATION, SNAPSHOT_FRACTIONS, VALIDATION_QUALITIES, hardware
from ..weights import Checkpoint, is_compressed, load_from_folder, network_from_folder, parse_subfolder, subfolder

TEMPLATE = Path(__file__).with_name("model_card_template.md")
TASK = ("image-super-resolution", "Image Super-Resolution")


@dataclass(frozen=True)
class Score:
    image: str
    size: tuple[int, int]           # ground truth width, height (modcropped)
    bicubic_psnr: float
    bicubic_ssim: float
    psnr: float
    ssim: float


def whole(scale: int | float | str) -> bool:
    """Whether ``scale`` is a trained whole factor (2, 3, 4), which the papers' protocol measures;
    the range network and the small-factor anchors are measured on the app's path."""
    return scale in SCALES and not isinstance(scale, float)


def card_factor(scale: int | float | str) -> float:
    """The factor a card measures at: the scale (an anchor's too), or for the range network
    (models.RANGE) the factor it is validated at (training.RANGE_VALIDATION, 1.5)."""
    return RANGE_VALIDATION if scale == RANGE else scale


def card_border(scale: int | str) -> int:
    """Pixels shaved in the card's figures: the factor, rounded up."""
    return math.ceil(card_factor(scale))


def score_at_factor(name: str, img, model: SRCNN, factor: float) -> Score:
    """Bicubic and ``model`` on one photo at any factor, on the app's path: srcnn.factors.low_res
    (8-bit), one pass to the ground truth's size, 8-bit output, ``ceil(factor)`` px shaved."""
    gt, lr = factors.low_res(imaging.pil_to_arrays(img)[0], factor)
    lr, border = imaging.round8(lr), math.ceil(factor)
    b = imaging.round8(upscale_arrays(lr, factor, "bicubic", size=gt.shape[:2]))
    m = imaging.round8(upscale_arrays(lr, factor, model, size=gt.shape[:2]))
    return Score(name, (gt.shape[1], gt.shape[0]), psnr(b, gt, border), ssim(b, gt, border),
                 psnr(m, gt, border), ssim(m, gt, border))


def measure(model: SRCNN, scale: int | str, names: list[str] | None = None, crop: int | None = None) -> list[Score]:
    """PSNR/SSIM of bicubic and of ``model`` on bundled photos (default: the validation split),
    by srcnn.compare's path (the app's; the range network: :func:`score_at_factor` at
    :func:`card_factor`). ``crop`` centre-crops each photo first (smoke runs)."""
    scores = []
    for name, img in load_images(list(names or VALIDATION)).items():
        if crop:
            img = center_crop(img, crop)
        if not whole(scale):
            scores.append(score_at_factor(name, img, model, card_factor(scale)))
            continue
        c = compare(img, scale, methods=("bicubic", model.kind), models={model.kind: model})
        b, m = c.results["bicubic"], c.results[model.kind]
        scores.append(Score(name, c.ground_truth.size, b.psnr, b.ssim, m.psnr, m.ssim))
    return scores


CARD_QUALITIES = (None, 90, 75, 50, 30)   # the JPEG table of a compressed-input network's card (None: clean PNG)


def clean_beside(folder: Path, kind: str, scale: int) -> Network:
    """The clean network a compressed one in ``folder`` was fine-tuned from: the folder beside it
    (a training run's out-dir holds both), else the published one."""
    beside = folder.parent / subfolder(kind, scale)
    if (beside / "model.safetensors").is_file():
        return network_from_folder(kind, beside)
    return default_runner().network(Checkpoint(kind, scale))


def jpeg_rows(model: SRCNN, scale: int, clean: Network) -> list[list[str]]:
    """A compressed-input network's card table: per input (clean PNG, then JPEG at each of
    :data:`CARD_QUALITIES`), mean PSNR-Y of bicubic and of ``model`` on the held-out photos
    (``data/held-out``, never trained on nor used to choose anything), the mean gain and the worst
    photo's, then the same gains as served (``model`` blended with ``clean``, the clean network it
    was fine-tuned from, by the quality's share: srcnn.factors.COMPRESSED_BANDS). The app's path:
    srcnn.degrade, saved as JPEG (Pillow, 4:2:0), one pass of the model."""
    border, images = math.ceil(scale), held_out()
    network = as_network(model)
    rows = []
    for q in CARD_QUALITIES:
        share = None if q is None else factors.compressed_share(model.kind, scale, q)
        served = None if share is None else blended(network, clean, share)
        b, m, s = [], [], []
        for img in images.values():
            gt = ground_truth(img, scale)
            lr = degrade(gt, scale)
            lr = lr if q is None else compress_image(lr.convert("L" if lr.mode in ("L", "LA") else "RGB"), q)
            b.append(psnr(upscale(lr, scale, "bicubic"), gt, border))
            m.append(psnr(upscale(lr, scale, model.kind, model=network), gt, border))
            s.append(b[-1] if served is None else psnr(upscale(lr, scale, model.kind, model=served), gt, border))
        gain, as_served = np.subtract(m, b), np.subtract(s, b)
        how = ("the clean network" if q is None else "bicubic alone" if share is None
               else f"share {share:.1f}" if share else "as published")
        rows.append(["clean PNG" if q is None else f"JPEG quality {q}", f"{np.mean(b):.2f}", f"{np.mean(m):.2f}",
                     f"{gain.mean():+.2f}", f"{gain.min():+.2f}",
                     "-" if q is None else f"{as_served.mean():+.2f} / {as_served.min():+.2f} ({how})"])
    return rows


@dataclass(frozen=True)
class Benchmark:
    """Mean PSNR (dB) / SSIM of bicubic and the model on a vendored set, papers' protocol."""
    name: str
    images: int
    bicubic_psnr: float
    bicubic_ssim: float
    psnr: float
    ssim: float


def measure_benchmarks(model: SRCNN, scale: int | str) -> list[Benchmark]:
    """Set5 and Set14 with the papers' protocol (srcnn.protocol), as the field's tables are; the
    range network and the anchors, not whole factors, at :func:`card_factor` on the app's path."""
    out = []
    for name in protocol.BENCHMARKS:
        images = load_set(name)
        if not whole(scale):
            s = [score_at_factor(k, img, model, card_factor(scale)) for k, img in images.items()]
            out.append(Benchmark(name, len(images), _mean(s, "bicubic_psnr"), _mean(s, "bicubic_ssim"),
                                 _mean(s, "psnr"), _mean(s, "ssim")))
            continue
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
    n = info.get("processes", 1)
    times = f"{n} processes (torchrun, DDP) x " if n > 1 else ""
    if hw.get("device") == "cuda":
        return f"{times}GPU {hw.get('gpu')} (torch {hw.get('torch')})"
    return f"{times}CPU {hw.get('cpu')}, {hw.get('threads')} torch thread(s) (torch {hw.get('torch')})"


def _paper_cell(name: str, scale: int) -> str:
    row = protocol.PAPER.get((name, scale), {}).get("SRCNN 9-5-5")
    return "-" if row is None else f"{row[0]:.2f}"


def picked_by(info: dict) -> str:
    """Which set picked the step a run kept (its validation set): "Set5", "clean" (the clean
    validation photos, data/validation-clean) or "photos" (the bundled photos named in history.json)."""
    val_set = info.get("config", {}).get("val_set")
    return val_set if val_set in ("Set5", "clean", "jpeg") else "photos"


def _split(name: str, picked: str) -> str:
    """A set's ``split`` in model-index: "validation" for the set that picked the kept step
    (:func:`picked_by`), "test" for the sets never looked at during training."""
    return "validation" if name == picked else "test"


def _benchmark_results(benchmarks: list[Benchmark], scale: int | str, picked: str = "Set5") -> list[EvalResult]:
    """model-index entries: the model's own PSNR and SSIM on Set5 and Set14 (papers' protocol),
    per set; Set5 ``split: validation`` when it picked the step, Set14 ``test``."""
    results = []
    for b in benchmarks:
        ds = dict(dataset_type=b.name.lower(), dataset_name=b.name, dataset_split=_split(b.name, picked),
                  dataset_config=f"x{card_factor(scale):g}")
        conv = convention(card_border(scale)) + ("; the app's path" if not whole(scale) else f"; {protocol.LABEL}")
        results += [EvalResult(task_type=TASK[0], task_name=TASK[1], **ds, metric_type="psnr",
                               metric_name=f"PSNR ({conv})", metric_value=round(b.psnr, 3)),
                    EvalResult(task_type=TASK[0], task_name=TASK[1], **ds, metric_type="ssim",
                               metric_name=f"SSIM ({conv})", metric_value=round(b.ssim, 4))]
    return results


def photo_set_name(scores: list[Score], picked: str) -> str:
    """The bundled photos' name in the card: "validation photos (...)" when they picked the step,
    else "held-back photos (...)" (never used for training nor to pick the step)."""
    what = "validation photos" if picked == "photos" else "held-back photos"
    return f"{what} ({', '.join(s.image for s in scores)})"


def _eval_results(scale: int | str, scores: list[Score], benchmarks: list[Benchmark],
                  picked: str = "Set5") -> list[EvalResult]:
    """model-index entries: the model's own results only (bicubic's stay in the prose tables):
    the benchmarks (papers' protocol), then the photos' means; each set's ``split`` says whether
    it picked the kept step ("validation") or not ("test")."""
    dataset = dict(task_type=TASK[0], task_name=TASK[1], dataset_type="srcnn-studio-photos",
                   dataset_name=f"Bundled {photo_set_name(scores, picked)}", dataset_split=_split("photos", picked),
                   dataset_config=f"x{card_factor(scale):g}")
    conv = convention(card_border(scale))
    return _benchmark_results(benchmarks, scale, picked) + [
        EvalResult(**dataset, metric_type="psnr", metric_name=f"PSNR ({conv})",
                   metric_value=round(_mean(scores, "psnr"), 3)),
        EvalResult(**dataset, metric_type="ssim", metric_name=f"SSIM ({conv})",
                   metric_value=round(_mean(scores, "ssim"), 4)),
    ]


def _formula(model: SRCNN) -> str:
    if model.kind == "residual":
        return ("y = x_c + body(x): the network predicts the detail bicubic misses (x_c is the input "
                f"cropped by {model.radius} px to line up with the valid output)")
    return "y = body(x): the network predicts the high-resolution luma itself"


def _pair(psnr: float, ssim: float) -> str:
    return f"{psnr:.2f} / {ssim:.4f}"


def _benchmark_rows(benchmarks: list[Benchmark], scale: int) -> list[list[str]]:
    return [[f"{b.name} ({b.images} images)", _pair(b.bicubic_psnr, b.bicubic_ssim), _pair(b.psnr, b.ssim),
             f"{b.psnr - b.bicubic_psnr:+.2f}", _paper_cell(b.name, scale)] for b in benchmarks]


def _photo_rows(scores: list[Score]) -> tuple[list[list[str]], list[str]]:
    """Per photo: name, size, bicubic, model, gain; and the mean row's last three cells (bold)."""
    rows = [[s.image, f"{s.size[0]}x{s.size[1]}", _pair(s.bicubic_psnr, s.bicubic_ssim), _pair(s.psnr, s.ssim),
             f"{s.psnr - s.bicubic_psnr:+.2f}"] for s in scores]
    mean_b, mean_m = _mean(scores, "bicubic_psnr"), _mean(scores, "psnr")
    mean = [_pair(mean_b, _mean(scores, "bicubic_ssim")), _pair(mean_m, _mean(scores, "ssim")),
            f"{mean_m - mean_b:+.2f}"]
    return rows, [f"**{c}**" for c in mean]


def _curve_rows(history: list[dict], steps: int) -> list[list[str]]:
    """The history rows at the snapshot steps and the best step."""
    best = max(history, key=lambda h: h["val_psnr"]) if history else None
    shown = {max(1, round(f * steps)) for f in SNAPSHOT_FRACTIONS} | ({best["step"]} if best else set())
    return [[str(h["step"]), f"{h['train_loss']:.3e}", f"{h['train_bicubic_loss']:.3e}", f"{h['val_psnr']:.2f}",
             f"{h['val_psnr'] - h['val_bicubic_psnr']:+.2f}"] for h in history if h["step"] in shown]


def _training_data(cfg: dict) -> str:
    """Where the training pairs came from: the user's folder, or the vendored sets and photos."""
    if cfg.get("images"):
        return (f"every image in the user's folder `{cfg['images']}`"
                + (" and its subfolders" if cfg.get("stream") else ""))
    parts = [f"{s} (vendored in `data/{s}/`)" for s in cfg.get("train_sets", [])]
    names = cfg.get("train_names", [])
    if names:
        parts.append(f"bundled photos ({len(names)}): " + ", ".join(f"`{n}`" for n in names)
                     + (" (the project's fixed training split)" if set(names) == set(TRAINING) else ""))
    return " + ".join(parts)


def _training_facts(info: dict) -> dict:
    """The Training section's values, from history.json (``info``)."""
    cfg, history = info.get("config", {}), info.get("history", [])
    best = max(history, key=lambda h: h["val_psnr"]) if history else None
    return {
        "data": _training_data(cfg),
        **{k: cfg.get(k) for k in ("patch", "stride", "batch_size", "lr", "lr_min", "steps", "seed")},
        "rescales": ", ".join(str(f) for f in cfg.get("rescales", [])),
        "placement": ("at random places, made per step (streamed)" if cfg.get("stream")
                      else f"at stride {cfg.get('stride')}"),
        "patches": (f" ({info['patches']:,} patches)" if info.get("patches") is not None
                    else f" ({info['photos']:,} photos)" if "photos" in info else ""),
        "start": _start(cfg),
        "steps_trained": history[-1]["step"] if history else cfg.get("steps"),
        "best": f"{best['val_psnr']:.2f} dB at step {best['step']}" if best else "- (no evaluation recorded)",
        "validation": (("Set5 at x1.5, the app's path" if cfg.get("scale") == RANGE
                        else "Set5, papers' protocol (srcnn.protocol)") if cfg.get("val_set", "photos") == "Set5"
                       else f"the clean validation photos (`data/validation-clean`) at x{cfg.get('scale')}, "
                            "the app's path"
                       if cfg.get("val_set") == "clean"
                       else f"the clean validation photos (`data/validation-clean`) at x{cfg.get('scale')}, "
                            f"their low-res images saved as JPEG at quality {', '.join(map(str, VALIDATION_QUALITIES))}"
                       if cfg.get("val_set") == "jpeg" else "the bundled validation photos"),
        "jpeg": (f"each low-res image saved as JPEG at a quality drawn from {cfg['jpeg_quality'][0]} to "
                 f"{cfg['jpeg_quality'][1]} " + ("(per patch)" if cfg.get("stream") else
                                                   f"({cfg.get('jpeg_copies', 1)} copies per photo and rescaling)")
                 if cfg.get("jpeg_quality") else ""),
        "wall_time": _duration(history[-1]["seconds"] if history else float("nan")),
        "hardware": _hardware_line(info, cfg),
    }


def _start(cfg: dict) -> str:
    """For a network trained in two stages (train.py's JPEG_AGAIN), what the second started from;
    "" otherwise (the usual starting points are said by the card's first lines)."""
    if not (cfg.get("init_from") and is_compressed(cfg["init_from"])):
        return ""
    return ("this network's own first stage (`python train.py --jpeg` first fine-tunes it from the clean "
            "network, then trains it on with the settings below)")


def render(kind: str, scale: int, model: SRCNN, info: dict, scores: list[Score],
           benchmarks: list[Benchmark] = (), jpeg: list[list[str]] | None = None) -> ModelCard:
    """The card as a huggingface_hub ModelCard: front matter (model-index) + :data:`TEMPLATE`.
    ``jpeg``: :func:`jpeg_rows`, for a network trained on JPEG inputs (None: a clean one)."""
    benchmarks = list(benchmarks)
    data = ModelCardData(model_name=subfolder(kind, scale, jpeg is not None), library_name="srcnn-studio",
                         license="mit", pipeline_tag="image-to-image",
                         eval_results=_eval_results(scale, scores, benchmarks, picked_by(info)),
                         tags=["super-resolution", "srcnn", "pytorch", "model_hub_mixin", "pytorch_model_hub_mixin"])
    photo_rows, photo_mean = _photo_rows(scores)
    return ModelCard.from_template(
        data, template_path=str(TEMPLATE),
        title="Residual SRCNN" if kind == "residual" else "SRCNN", kind=kind, scale=scale,
        is_range=scale == RANGE, is_anchor=isinstance(scale, float), factor=f"{card_factor(scale):g}",
        multiple=factors.crop_multiple(card_factor(scale)), use_scale=repr(scale),
        anchor_end=_anchor_end(scale),
        m=model, formula=_formula(model), parameters=f"{parameter_count(model):,}",
        cost=f"{model.architecture.multiply_adds:,}",
        cost_ratio=f"x{model.architecture.multiply_adds / PAPER.multiply_adds:.2f}",
        convention=convention(card_border(scale)),
        benchmark_rows=_benchmark_rows(benchmarks, scale),
        val_set=photo_set_name(scores, picked_by(info)),
        photo_rows=photo_rows, photo_mean=photo_mean,
        compressed=jpeg is not None, jpeg_rows=jpeg or [], clean_from=factors.CLEAN_FROM_QUALITY,
        served_up_to=max(last for _, last, share in factors.quality_bands(kind, scale) if share is not None),
        bands=_bands_text(kind, scale),
        t=_training_facts(info),
        curve_rows=_curve_rows(info.get("history", []), info.get("config", {}).get("steps", 0)))


def _bands_text(kind: str, scale: int | float | str) -> str:
    """How srcnn.upscale serves each JPEG quality below CLEAN_FROM_QUALITY with this network."""
    def what(share: float | None) -> str:
        if share is None:
            return "bicubic alone (there every share loses to bicubic on a clean validation photo)"
        return f"with {share:.0%} of the clean network's weights mixed in (srcnn.blending)" if share else \
            "this network as published"
    return "; ".join(f"quality {first} to {last}, {what(share)}"
                     for first, last, share in factors.quality_bands(kind, scale))


def _anchor_end(scale: int | float | str) -> str:
    """For an anchor of the small-factor family, up to which factor it serves (the next anchor, or 2)."""
    if not isinstance(scale, float):
        return ""
    return f"{min([a for a in factors.ANCHORS if a > scale] or [2.0]):g}"


def write_card(folder: str | Path) -> Path:
    """Measure the checkpoint in ``folder`` and write ``folder/README.md``; return its path."""
    folder = Path(folder)
    kind, scale = parse_subfolder(folder)
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
    jpeg = (jpeg_rows(model, scale, clean_beside(folder, kind, scale)) if is_compressed(folder)
            and not cfg.get("val_crop") else None)
    card = render(kind, scale, model, info, scores, benchmarks, jpeg)
    path = folder / "README.md"
    card.save(path)
    return path
