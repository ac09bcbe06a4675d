"""What training left in a checkpoint folder: ``history.json`` and ``snapshots/step-N/``.

Reading never raises for a missing or unreadable file: it returns None (or an empty list) and
a message saying plainly what is missing. Loss is mean squared error of luma in 0..1 scale;
:func:`loss_psnr` turns it into dB (peak 255) to set beside the validation PSNR.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

from .weights import bundled_folder, subfolder


def checkpoint_dir(kind: str, scale: int, root: str | Path | None = None) -> Path:
    """``<root>/<kind>-x<scale>``; the bundled folder (srcnn.weights) when ``root`` is None."""
    return bundled_folder(kind, scale) if root is None else Path(root) / subfolder(kind, scale)


@dataclass(frozen=True)
class History:
    """``rows``: history.json's rows (step, train_loss, train_bicubic_loss, val_psnr,
    val_bicubic_psnr, lr, seconds); ``steps``: the run's planned length; ``init_from``: the
    checkpoint the run started from (fine-tuning, e.g. x2 from x3), None if from scratch."""
    kind: str
    scale: int
    steps: int
    rows: list[dict]
    init_from: str | None = None


def load_history(kind: str, scale: int, root: str | Path | None = None) -> tuple[History | None, str]:
    """The training history beside a checkpoint, or None and why not."""
    path = checkpoint_dir(kind, scale, root) / "history.json"
    try:
        data = json.loads(path.read_text())
        rows = data["history"]
    except FileNotFoundError:
        return None, f"{kind} x{scale}: this checkpoint has no training history ({path.name} is missing)"
    except (ValueError, KeyError) as e:
        return None, f"{kind} x{scale}: the training history could not be read ({e})"
    if not rows:
        return None, f"{kind} x{scale}: the training history is empty"
    config = data.get("config", {})
    steps = int(config.get("steps") or rows[-1]["step"])
    done = rows[-1]["step"]
    note = "" if done >= steps else f" (training still running: step {done:,} of {steps:,})"
    hist = History(kind, scale, steps, rows, config.get("init_from") or None)
    return hist, f"{kind} x{scale}: {len(rows)} evaluations{note}"


def loss_psnr(mse: float) -> float:
    """A mean squared error on Y in 0..1 as PSNR in dB: ``10 log10(1 / mse)`` (peak 1 = 255 levels)."""
    return math.inf if mse <= 0 else 10.0 * math.log10(1.0 / mse)


def history_rows(hist: History) -> list[dict]:
    """Per evaluation: step, train_psnr and train_bicubic_psnr (the loss and bicubic's loss on the
    same patches, as PSNR), val_psnr, val_bicubic_psnr and val_gain (dB over bicubic, validation
    images: Set5 or the bundled photos)."""
    return [{"step": r["step"], "train_psnr": loss_psnr(r["train_loss"]),
             "train_bicubic_psnr": loss_psnr(r["train_bicubic_loss"]), "val_psnr": r["val_psnr"],
             "val_bicubic_psnr": r["val_bicubic_psnr"], "val_gain": r["val_psnr"] - r["val_bicubic_psnr"]}
            for r in hist.rows]


def gain_curve(histories: dict[str, History | None]) -> list[dict]:
    """Long-format rows {"step", "model", "gain_db"} for a line plot of validation gain over bicubic."""
    return [{"step": r["step"], "model": kind, "gain_db": r["val_gain"]}
            for kind, h in histories.items() if h is not None for r in history_rows(h)]


@dataclass(frozen=True)
class Snapshot:
    step: int
    fraction: float     # step / planned steps
    path: Path


def list_snapshots(kind: str, scale: int, root: str | Path | None = None) -> tuple[list[Snapshot], str]:
    """Snapshots under ``<checkpoint>/snapshots/step-NNNNNN/`` with complete weights, by step."""
    folder = checkpoint_dir(kind, scale, root) / "snapshots"
    hist, _ = load_history(kind, scale, root)
    steps = [(int(p.name[5:]), p) for p in (sorted(folder.glob("step-*")) if folder.is_dir() else [])
             if p.name[5:].isdigit() and all((p / f).is_file() for f in ("config.json", "model.safetensors"))]
    total = hist.steps if hist else max((s for s, _ in steps), default=1)   # no history: the last snapshot is 100%
    found = [Snapshot(step, step / total, p) for step, p in steps]
    if not found:
        return [], f"{kind} x{scale}: this checkpoint has no training snapshots ({folder} is missing or empty)"
    return found, f"{kind} x{scale}: snapshots at steps {', '.join(f'{s.step:,}' for s in found)}"


def pick(snapshots: list[Snapshot], fractions: tuple[float, ...]) -> list[Snapshot]:
    """The snapshot nearest to each fraction of the run, without repeats, in step order."""
    chosen = {min(snapshots, key=lambda s: abs(s.fraction - f)).step for f in fractions} if snapshots else set()
    return [s for s in snapshots if s.step in chosen]
