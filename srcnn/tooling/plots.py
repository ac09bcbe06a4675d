"""The training-curve figure of docs/results.md, drawn from the bundled ``history.json`` files.

    python -m srcnn plots                  # writes docs/validation_curves.png

One panel per scale: validation PSNR gain over bicubic (dB, Y channel, ``scale`` px shaved,
mean over the validation photos) against optimizer steps, SRCNN and residual SRCNN.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ..history import history_rows, load_history
from ..models import KINDS
from ..weights import BUNDLED_DIR

OUT = "docs/validation_curves.png"   # shown by docs/results.md, relative to the repository root


def plot_validation_curves(out: Path, root: Path = BUNDLED_DIR, scales: tuple[int, ...] = (3, 2, 4)) -> Path:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    histories = {s: {k: load_history(k, s, root)[0] for k in KINDS} for s in scales}
    scales = tuple(s for s in scales if any(histories[s].values()))
    if not scales:
        raise FileNotFoundError(f"no readable history.json under {root}")
    style = {"srcnn": ("tab:blue", "SRCNN"), "residual": ("tab:red", "residual SRCNN")}
    fig, axes = plt.subplots(1, len(scales), figsize=(4.2 * len(scales), 3.4), squeeze=False)
    for ax, s in zip(axes[0], scales):
        for kind, hist in histories[s].items():
            if hist is not None:
                rows = history_rows(hist)
                colour, label = style[kind]
                ax.plot([r["step"] for r in rows], [r["val_gain"] for r in rows], color=colour,
                        label=label + (f" (from {Path(hist.init_from).name})" if hist.init_from else ""))
        ax.axhline(0, color="gray", lw=0.8)
        ax.set_xscale("log")
        ax.set_title(f"x{s}")
        ax.set_xlabel("training steps (batch 128)")
        ax.set_ylabel("validation gain over bicubic (dB)")
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize=8)
    fig.suptitle("Validation PSNR-Y gain over bicubic (Set5, papers' protocol)", fontsize=10)
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m srcnn plots", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--out", type=Path, default=Path(OUT), help="the picture to write (PNG)")
    p.add_argument("--root", type=Path, default=None,
                   help="folder of <kind>-x<scale>/ checkpoints (default: the bundled checkpoints/)")
    args = p.parse_args(argv)
    print(plot_validation_curves(args.out, args.root or BUNDLED_DIR))


if __name__ == "__main__":
    main()
