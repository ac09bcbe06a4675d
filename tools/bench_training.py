"""Measure streamed training (train.py --images): memory against the collection's size, and
patches per second for 1 and 2 processes with the loader's share of a step.

    python -m tools.bench_training photos 1000 artifacts/photos-1000     # generate photos
    python -m tools.bench_training memory artifacts/photos-100 artifacts/photos-1000
    python -m tools.bench_training throughput artifacts/photos-1000 --processes 1 2
    python -m tools.bench_training loader artifacts/photos-1000          # the loader alone

``memory`` runs ``python train.py --images DIR`` on each folder and samples the whole process
tree (the trainer and its loader workers) from /proc every 0.1 s: peak of the summed RSS (pages
the workers share with the trainer are counted in each) and of the summed PSS (shared pages
split between them), and the seconds from launch to the end of the first optimizer step
(process start and imports, set-up, one step: history.json's ``first_step_seconds`` plus
the launch before ``train()``: history.json appearing, after the first step and one
validation). ``throughput`` runs it with 1 process and under
``torchrun --standalone --nproc_per_node N`` and reads history.json's rows past a warm-up:
patches per second (global batch x steps / time in steps) and the share of that time the
training process waited for its batch. Photos, runs and results go under artifacts/ (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
RUNS = ROOT / "artifacts" / "bench-training"


def make_photos(folder: Path, n: int, seed: int = 0) -> Path:
    """``n`` synthetic photos, 320 to 720 px a side, two in three PNG and one in three JPEG (q 90),
    ten to a folder and ten folders to a folder (``00/3/photo-00031.png``): smooth colour fields,
    shapes with sharp and soft edges, lines and grain. Kept if the folder already has ``n``."""
    if folder.is_dir() and sum(1 for _ in folder.rglob("photo-*")) == n:
        return folder
    rng = np.random.default_rng(seed)
    for i in range(n):
        w, h = (int(v) for v in rng.integers(320, 721, 2))
        base = rng.random((6, 8, 3)) * 255
        img = Image.fromarray(base.astype(np.uint8)).resize((w, h), Image.BICUBIC)
        draw = ImageDraw.Draw(img)
        for _ in range(int(rng.integers(8, 30))):
            x0, y0 = int(rng.integers(0, w)), int(rng.integers(0, h))
            x1, y1 = x0 + int(rng.integers(10, w // 2)), y0 + int(rng.integers(10, h // 2))
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            shape = rng.integers(0, 3)
            if shape == 0:
                draw.ellipse((x0, y0, x1, y1), fill=colour)
            elif shape == 1:
                draw.rectangle((x0, y0, x1, y1), fill=colour)
            else:
                draw.line((x0, y0, x1, y1), fill=colour, width=int(rng.integers(1, 6)))
        if rng.random() < 0.5:
            img = img.filter(ImageFilter.GaussianBlur(float(rng.uniform(0.3, 1.2))))
        grain = rng.normal(0, 3, (h, w, 3))
        img = Image.fromarray(np.clip(np.asarray(img) + grain, 0, 255).astype(np.uint8))
        path = folder / f"{i // 100:02d}" / f"{i // 10 % 10}" / f"photo-{i:05d}.{'jpg' if i % 3 == 2 else 'png'}"
        path.parent.mkdir(parents=True, exist_ok=True)
        img.save(path, quality=90) if path.suffix == ".jpg" else img.save(path)
    return folder


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (from /proc/<pid>/task/<tid>/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in Path(f"/proc/{p}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return out


def _kb(path: str, key: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(key):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def sample(proc: subprocess.Popen, watch: Path, every: float = 0.1) -> dict:
    """Peak summed RSS and PSS (MB) of ``proc``'s tree until it exits, the most processes seen,
    and the seconds until ``watch`` appeared."""
    peak_rss = peak_pss = most = 0
    began, appeared = time.time(), None
    while proc.poll() is None:
        if appeared is None and watch.exists():
            appeared = time.time() - began
        pids = _tree(proc.pid)
        rss = sum(_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
        pss = sum(_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        peak_rss, peak_pss, most = max(peak_rss, rss), max(peak_pss, pss), max(most, len(pids))
        time.sleep(every)
    return {"peak_rss_mb": round(peak_rss / 1024), "peak_pss_mb": round(peak_pss / 1024), "process_tree": most,
            "history_seconds": appeared}


def train_command(images: Path, out: Path, steps: int, processes: int, workers: int) -> list[str]:
    args = ["train.py", "--images", str(images), "--kind", "residual", "--scale", "3", "--steps", str(steps),
            "--out-dir", str(out), "--no-progress", "--workers", str(workers)]
    if processes == 1:
        return [sys.executable, *args]
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes), *args]


def launch(cmd: list[str], out: Path) -> dict:
    """Run ``cmd`` from the repository root; :func:`sample` it (``out``'s history.json watched)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    history = out / "residual-x3" / "history.json"
    history.unlink(missing_ok=True)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    mem = sample(proc, history)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr.read()[-3000:]}")
    return mem


def memory(folders: list[Path], steps: int, workers: int) -> list[dict]:
    rows = []
    for images in folders:
        out = RUNS / f"memory-{images.name}"
        mem = launch(train_command(images, out, steps, 1, workers), out)
        info = json.loads((out / "residual-x3" / "history.json").read_text())
        # first_step_seconds: from train() to the first step's end; history_seconds: from the
        # launch to history.json (the first step, then one validation on Set5, written)
        rows.append({"images": str(images.relative_to(ROOT)), "photos": info["photos"], **mem,
                     "first_step_seconds": info["first_step_seconds"], "steps": steps, "workers": workers})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def throughput(images: Path, processes: list[int], steps: int, workers: int) -> list[dict]:
    rows = []
    for n in processes:
        out = RUNS / f"throughput-{n}"
        mem = launch(train_command(images, out, steps, n, workers), out)
        info = json.loads((out / "residual-x3" / "history.json").read_text())
        late = [h for h in info["history"] if h["step"] > steps * 0.1]          # past the warm-up
        prev = [h["step"] for h in info["history"]]
        steps_timed = sum(h["step"] - prev[prev.index(h["step"]) - 1] for h in late)
        busy = sum(h["train_seconds"] for h in late)
        wait = sum(h["data_seconds"] for h in late)
        rows.append({"processes": n, "workers_each": workers, "steps_timed": steps_timed,
                     "patches_per_second": info["config"]["batch_size"] * steps_timed / busy,
                     "seconds_per_step": busy / steps_timed, "loader_share": wait / busy,
                     "cpu": info["hardware"]["cpu"], "load_average": os.getloadavg()[0], **mem})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def loader_cost(images: Path, n: int = 1024) -> list[dict]:
    """CPU ms per patch of the streaming set alone, in this process on one thread (a loader
    worker's cost): x3 clean, x3 with JPEG 20-95, the range network's factors."""
    import torch
    from srcnn.tooling.stream import PhotoPatches
    torch.set_num_threads(1)
    rows = []
    for scale, quality in [(3, None), (3, (20, 95)), ("1.1-2", None)]:
        ds = PhotoPatches(images, scale, 6, jpeg_quality=quality)
        for i in range(64):
            ds[i]
        t = time.process_time()
        for i in range(64, 64 + n):
            ds[i]
        rows.append({"scale": scale, "jpeg_quality": quality, "cpu_ms_per_patch": (time.process_time() - t) / n * 1e3,
                     "load_average": os.getloadavg()[0]})
        print(json.dumps(rows[-1]), flush=True)
    return rows


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    ph = sub.add_parser("photos", help="generate photos")
    ph.add_argument("n", type=int)
    ph.add_argument("folder", type=Path)
    me = sub.add_parser("memory", help="peak memory and start time against the collection's size")
    me.add_argument("folders", type=Path, nargs="+")
    me.add_argument("--steps", type=int, default=100)
    me.add_argument("--workers", type=int, default=2)
    th = sub.add_parser("throughput", help="patches per second, loader share, 1 and N processes")
    th.add_argument("folder", type=Path)
    th.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    th.add_argument("--steps", type=int, default=150)
    th.add_argument("--workers", type=int, default=2)
    lo = sub.add_parser("loader", help="CPU ms per patch of the streaming set alone")
    lo.add_argument("folder", type=Path)
    args = p.parse_args(argv)
    RUNS.mkdir(parents=True, exist_ok=True)
    if args.what == "photos":
        t = time.time()
        make_photos(args.folder.resolve(), args.n)
        print(f"{args.n} photos in {args.folder} ({time.time() - t:.0f} s)")
    elif args.what == "memory":
        rows = memory([f.resolve() for f in args.folders], args.steps, args.workers)
        (RUNS / "memory.json").write_text(json.dumps(rows, indent=1))
    elif args.what == "loader":
        rows = loader_cost(args.folder.resolve())
        (RUNS / "loader.json").write_text(json.dumps(rows, indent=1))
    else:
        rows = throughput(args.folder.resolve(), args.processes, args.steps, args.workers)
        (RUNS / "throughput.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
