"""Train the demo's models, write their model cards, optionally publish them on the Hub.

    python train.py                                   # both kinds at x2, x3, x4 -> checkpoints/ (T91)
    python train.py --kind residual --scale 3         # one of them
    python train.py --scale 1.1-2                     # the networks for factors 1.1 to 2 (from x2)
    python train.py --scale small                     # the small-factor family: x1.1 ... x1.75 (from 1.1-2)
    python train.py --resume                          # go on after an interrupt (Ctrl-C saves)
    python train.py --images ~/data/photos --out-dir runs/photos   # streamed: any number of photos
    python train.py --jpeg --scale 2 3 4              # networks for JPEG inputs (from the clean ones)
    python train.py --smoke                           # seconds; writes artifacts/smoke/
    python train.py --cards-only                      # re-measure and rewrite the model cards
    python train.py --push-to-hub user/srcnn-weights --push-only
    torchrun --standalone --nproc_per_node 2 train.py --smoke        # DDP: one model, 2 processes

Every option maps onto srcnn.tooling.training.TrainConfig; the work is done in the srcnn package.
"""

import argparse
import sys
from dataclasses import replace

from srcnn.models import torch_missing_message

try:
    import srcnn.torch_models  # noqa: F401  (training needs PyTorch; the app and the CLI do not)
except ImportError:
    sys.exit(torch_missing_message("train.py"))

from srcnn.architecture import PAPER  # noqa: E402
from srcnn.factors import ANCHORS  # noqa: E402
from srcnn.models import RANGE, SCALES  # noqa: E402
from srcnn.tooling import distributed  # noqa: E402
from srcnn.tooling.card import write_card  # noqa: E402
from srcnn.tooling.publish import push_checkpoints  # noqa: E402
from srcnn.tooling.data import TRAINING  # noqa: E402
from srcnn.tooling.training import TrainConfig, folder, train  # noqa: E402

# x3 trains from scratch; x2 and x4 start from the trained x3 of the same kind (when its folder
# exists) and train FINE_TUNE_STEPS more: the three scales share most of what they learn, and
# it costs a third of training each from scratch (docs/training.md). The range network (factors 1.1 to 2)
# starts from x2 the same way. --from-scratch turns it off.
FIRST_SCALE = 3
FINE_TUNE_STEPS = 10000
RANGE_STEPS = 4000       # the range network starts from x2, whose factor it shares: it gains most early
# The small-factor family: each anchor (srcnn.factors.ANCHORS) fine-tuned at its factor alone from
# the range network, the step picked on the clean validation photos (data/validation-clean).
ANCHOR_STEPS = 1500
SMALL = "small"          # --scale small: every anchor
# The networks for JPEG-compressed inputs (<kind>-x<scale>-jpeg): each fine-tuned from the clean
# network of its kind and factor on low-res images saved as JPEG at a quality drawn from
# JPEG_QUALITY, the step picked on the clean validation photos saved at several qualities.
JPEG_QUALITY = (20, 95)
JPEG_STEPS = 8000
JPEG_STEPS_OWN = {("srcnn", 2): 3000}   # plain SRCNN x2 does best on the shorter schedule (docs/training.md)
JPEG_N1 = {("residual", 2): 128}        # first-layer filters where twice the 9-1-5's pays (docs/training.md)
# Then trained on from itself, where that pays on the validation JPEGs: (steps, learning rate)
# (docs/training.md, "The levers, measured").
JPEG_AGAIN = {("residual", 2): (12000, 5e-4)}
STARTS_FROM = {2: FIRST_SCALE, 4: FIRST_SCALE, RANGE: 2, **{a: RANGE for a in ANCHORS}}
CHOICES = [*map(str, SCALES), RANGE, *(f"{a:g}" for a in ANCHORS)]


def scale(text: str) -> int | float | str:
    """``--scale``: 2, 3, 4, the range "1.1-2" or an anchor 1.1 ... 1.75 (argparse names this
    function in its messages)."""
    if text == RANGE:
        return text
    return float(text) if "." in text else int(text)

SMOKE = dict(steps=20, batch_size=16, train_sets=(), train_names=("astronaut",), val_set="photos",
             val_names=("chelsea",), rescales=(1.0,), val_crop=96, eval_every=10, out_dir="artifacts/smoke")


class HelpFormatter(argparse.RawDescriptionHelpFormatter, argparse.ArgumentDefaultsHelpFormatter):
    """The docstring as written, and every option's default (those that have one) in its help."""
    def _get_help_string(self, action):
        if action.default in (None, False) or "default" in (action.help or ""):
            return action.help
        return super()._get_help_string(action)


def parse_args(argv=None) -> argparse.Namespace:
    d = TrainConfig()
    p = argparse.ArgumentParser(description=__doc__, formatter_class=HelpFormatter)
    p.add_argument("--kind", choices=["srcnn", "residual", "all"], default="all")
    p.add_argument("--scale", nargs="+", choices=[*CHOICES, SMALL],
                   default=[*map(str, SCALES), RANGE, SMALL], metavar="{" + ",".join([*CHOICES, SMALL]) + "}",
                   help=f"upscaling factors, {RANGE} (one network for the factors 1.1 to 2), an anchor of the "
                        f"small-factor family, or {SMALL} (every anchor)")
    p.add_argument("--steps", type=int, help=f"optimizer steps (default {d.steps})")
    p.add_argument("--batch-size", type=int, help=f"patches per step (default {d.batch_size})")
    p.add_argument("--lr", type=float, help=f"Adam learning rate, cosine-decayed to {d.lr_min} (default {d.lr})")
    p.add_argument("--seed", type=int, help=f"default {d.seed}")
    p.add_argument("--out-dir", help=f"where <kind>-x<scale>/ folders go (default {d.out_dir}; "
                                     f"{SMOKE['out_dir']} with --smoke)")
    p.add_argument("--images", metavar="DIR", help="train on every image in DIR and its subfolders instead of the "
                                                   "default data (T91), streamed: patches made per step in loader "
                                                   "processes, memory independent of the number of photos")
    p.add_argument("--in-memory", action="store_true",
                   help="with --images: cut every patch up front instead (the vendored sets' way; small folders)")
    p.add_argument("--workers", type=int, help=f"with --images: loader processes per training process "
                                               f"(default {d.workers})")
    p.add_argument("--per-photo", type=int, help=f"with --images: patches cut from each photo read "
                                                 f"(default {d.per_photo}; more for large photos)")
    p.add_argument("--train-sets", nargs="*", choices=["T91"],
                   help=f"vendored sets to train on (default {' '.join(d.train_sets)}; "
                        "give none to train on the photos alone)")
    p.add_argument("--with-photos", action="store_true",
                   help="train on the bundled training photos too (default: T91 alone)")
    p.add_argument("--threads", type=int, default=1,
                   help="torch CPU threads (default 1, as the shipped weights were trained; the same seed and "
                        "thread count give the same run on the same machine and library versions, other "
                        "CPUs or thread counts differ in the last bits)")
    p.add_argument("--device", help="auto (CUDA when present), cpu, cuda, cuda:1 ... (default auto)")
    p.add_argument("--resume", action="store_true", help="continue from <folder>/train_state.pt")
    p.add_argument("--from-scratch", action="store_true",
                   help=f"train x2 and x4 from random weights too (default: start them from the trained "
                        f"x{FIRST_SCALE} of the same kind, {FINE_TUNE_STEPS} steps)")
    p.add_argument("--n1", type=int, help="first-layer filters (default 64, the paper's 9-1-5 / 64, 32); more than "
                        "the network a run starts from has: it is widened, computing what that one does at step 0")
    p.add_argument("--jpeg", action="store_true",
                   help=f"train the networks for JPEG inputs: low-res images saved at a quality from "
                        f"{JPEG_QUALITY[0]} to {JPEG_QUALITY[1]}, fine-tuned from the clean network "
                        f"({JPEG_STEPS} steps; {', '.join(f'{k} x{f}: {n}' for (k, f), n in JPEG_STEPS_OWN.items())}; "
                        f"{', '.join(f'{k} x{f}: n1 {n}' for (k, f), n in JPEG_N1.items())}; then "
                        f"{', '.join(f'{k} x{f}: {n} more at {lr:g}' for (k, f), (n, lr) in JPEG_AGAIN.items())}), "
                        "into <kind>-x<scale>-jpeg/")
    p.add_argument("--smoke", action="store_true", help="a few steps on a small crop (CI)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--cards-only", action="store_true", help="rewrite the model cards of existing folders, no training")
    p.add_argument("--push-to-hub", metavar="REPO_ID", help="upload the folders to this Hub model repo")
    p.add_argument("--push-only", action="store_true", help="with --push-to-hub: upload existing folders, no training")
    args = p.parse_args(argv)
    args.scale = ([scale(f"{a:g}") for a in ANCHORS] * (SMALL in args.scale)
                  + [scale(s) for s in args.scale if s != SMALL])
    if args.push_only and not args.push_to_hub:
        p.error("--push-only needs --push-to-hub REPO_ID")
    return args


def configs(args: argparse.Namespace) -> list[TrainConfig]:
    base = dict(SMOKE) if args.smoke else {}
    for arg, name in [("steps", "steps"), ("batch_size", "batch_size"), ("lr", "lr"), ("seed", "seed"),
                      ("out_dir", "out_dir"), ("images", "images"), ("threads", "threads"), ("device", "device"),
                      ("workers", "workers"), ("per_photo", "per_photo"), ("n1", "n1")]:
        if getattr(args, arg) is not None:
            base[name] = getattr(args, arg)
    if args.images and not args.in_memory:
        base["stream"] = True
    if args.train_sets is not None:
        base["train_sets"] = tuple(args.train_sets)
    if args.with_photos or args.train_sets == []:     # no set named: the photos alone
        base["train_names"] = tuple(TRAINING)
    if args.jpeg:
        base["jpeg_quality"] = JPEG_QUALITY
    kinds = ["srcnn", "residual"] if args.kind == "all" else [args.kind]
    order = [FIRST_SCALE, *SCALES, RANGE, *ANCHORS]      # each after the one it starts from
    scales = sorted(set(args.scale), key=order.index)
    cfgs = []
    for s in scales:
        for k in kinds:
            cfg = TrainConfig(kind=k, scale=s, resume=args.resume, **base)
            if args.jpeg and not args.smoke:      # from the clean network of the same kind and factor
                clean = folder(TrainConfig(kind=k, scale=s, out_dir=cfg.out_dir))
                cfgs.append(TrainConfig(kind=k, scale=s, resume=args.resume,
                                        **{**base, "init_from": str(clean),
                                           "steps": args.steps or JPEG_STEPS_OWN.get((k, s), JPEG_STEPS),
                                           "n1": args.n1 or JPEG_N1.get((k, s), PAPER.n1),
                                           "val_set": "jpeg"}))
                if (k, s) in JPEG_AGAIN and not args.steps:     # on from itself, in the same folder
                    steps, lr = JPEG_AGAIN[(k, s)]
                    cfgs.append(replace(cfgs[-1], init_from=str(folder(cfgs[-1])), steps=steps, lr=args.lr or lr))
                continue
            start = STARTS_FROM.get(s)
            first = folder(TrainConfig(kind=k, scale=start, out_dir=cfg.out_dir)) if start else None
            if first and not (args.from_scratch or args.smoke) and (
                    start in args.scale or (first / "model.safetensors").is_file()):
                cfg = TrainConfig(kind=k, scale=s, resume=args.resume,
                                  **{**base, "init_from": str(first),
                                     "steps": args.steps or (RANGE_STEPS if s == RANGE else ANCHOR_STEPS
                                                             if s in ANCHORS else FINE_TUNE_STEPS),
                                     **({"val_set": "clean"} if s in ANCHORS and not args.smoke else {})})
            cfgs.append(cfg)
    return cfgs


def main(argv=None) -> None:
    args = parse_args(argv)
    with distributed.started(args.device or "auto"):     # under torchrun: one process group; else nothing
        run(args, distributed.broadcast(configs(args)))  # rank 0's plan (its checkpoints decide init_from)


def run(args: argparse.Namespace, cfgs: list[TrainConfig]) -> None:
    """Train (every process), then write cards and publish (rank 0 alone under torchrun)."""
    folders = list(dict.fromkeys(folder(c) for c in cfgs))    # a network trained in two stages: one folder
    main = distributed.is_main()
    if not (args.cards_only or args.push_only):
        for cfg in cfgs:
            summary = train(cfg, progress=not args.no_progress)
            if main:
                print(f"{cfg.kind} x{cfg.scale}: best val PSNR-Y {summary['best_val_psnr']:.2f} dB at step "
                      f"{summary['best_step']} (bicubic {summary['val_bicubic_psnr']:.2f}), "
                      f"{summary['seconds'] / 60:.1f} min -> {summary['folder']}")
                print(f"  card: {write_card(summary['folder'])}")
    elif args.cards_only and main:
        for f in folders:
            print(f"card: {write_card(f)}")
    if not main:
        return
    if args.push_to_hub:
        try:
            urls = push_checkpoints(folders, args.push_to_hub)
        except (PermissionError, ConnectionError, FileNotFoundError, RuntimeError) as e:
            raise SystemExit(f"--push-to-hub {args.push_to_hub}: {e}") from e
        for url in urls:
            print(f"pushed: {url}")


if __name__ == "__main__":
    main()
