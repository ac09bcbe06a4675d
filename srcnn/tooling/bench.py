"""Benchmark: ``python -m srcnn bench [--sizes 1 2 4 8] [--quick] [--repeats 3]``.

Prints Markdown tables, every number measured in this one run: the paths compared in a table
are timed in interleaved rounds (each round runs each once), times are medians over
``--repeats`` rounds and ratios are medians of the per-round ratios, so that a shared
machine's changing load hits all of them alike.

* **Network** per output size (megapixels, square image, one luma plane): megapixels/s of
  the plain PyTorch forward (NCHW float32, whole image), of ONNX Runtime on the whole image
  (the peer: the model as ``torch.onnx.export`` gives it, default session, one intra-op
  thread per core), of our network path (``srcnn.pipeline.network_luma`` with
  ``DEFAULT_TILE``: tiles, engine and stitching), and of our end to end
  ``srcnn.upscale(method="residual", tile=DEFAULT_TILE)`` (PIL in, PIL out). Ratios against
  plain and ORT; PSNR-Y (srcnn.metrics convention) of our output minus that of the float32
  whole-image PyTorch output, both against the same ground truth.
* **compare against its networks** (the first size, x``--scale``): what ``srcnn.compare`` does
  besides running its two networks (ground truth, degradation, bicubic, the networks' upscale
  steps outside ``pipeline.apply_network``, the six metric values), step by step, against a
  yardstick outside the project: ONNX Runtime running the two plain networks (as
  ``torch.onnx.export`` writes them, one intra-op thread per core) on the whole image.
* **Memory**: peak resident memory (VmHWM) of a fresh process that upscales a
  3000 x 2000 image x2 (a 6000 x 4000 output) with ``DEFAULT_TILE``, and of one that only
  imports and warms up (the floor).
* **Bicubic**: our MATLAB-compatible ``imresize`` (float32 HWC) against Pillow's bicubic
  (uint8 RGB) on the same image.

Times are wall-clock; they vary run to run on a shared machine, so only compare within one run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from typing import Callable

import numpy as np
import torch
from PIL import Image

from .. import engine, imaging, pipeline, runner
from ..metrics import psnr
from ..models import KINDS, Network, as_network
from ..onnx_graph import OPSET, network_bytes
from ..torch_models import torch_module
from ..weights import bundled_pairs


Rounds = dict[str, list[float]]   # per-path wall times, one per round, seconds


def interleaved(fns: dict[str, Callable[[], object]], repeats: int) -> Rounds:
    """Wall times of each function over ``repeats`` rounds; each round runs every function once,
    in turn (the order rotating by one each round), so that all of them see the same load on a
    shared machine. One untimed warm-up round first."""
    for fn in fns.values():
        fn()
    times: Rounds = {k: [] for k in fns}
    keys = list(fns)
    for i in range(repeats):   # the order rotates: no function always runs right after the same one
        for name in keys[i % len(keys):] + keys[:i % len(keys)]:
            t0 = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - t0)
    return times


def median(times: Rounds, name: str) -> float:
    return float(np.median(times[name]))


def paired_ratio(times: Rounds, slow: str, fast: str) -> float:
    """Median over rounds of time(slow) / time(fast): how many times faster ``fast`` is."""
    return float(np.median(np.array(times[slow]) / np.array(times[fast])))


def test_photo(height: int, width: int, seed: int = 0) -> Image.Image:
    """A photo-like RGB image of the given size: scikit-image's astronaut (public domain,
    NASA), Pillow-resized to fill it, plus mild noise so it is not all smooth."""
    from skimage import data
    img = Image.fromarray(data.astronaut()).resize((width, height), Image.BICUBIC)
    noise = np.random.default_rng(seed).normal(0, 3, (height, width, 3))
    return Image.fromarray(np.clip(np.asarray(img, np.float32) + noise, 0, 255).astype(np.uint8))


def export_plain(module: torch.nn.Module, opset: int = OPSET) -> bytes:
    """ONNX bytes of a PyTorch module exactly as ``torch.onnx.export(..., dynamo=False)`` writes
    it (N, 1, H, W) -> (N, 1, H', W'), N/H/W dynamic, in memory: the peer's graph."""
    import io
    buf = io.BytesIO()
    torch.onnx.export(module.eval(), torch.zeros(1, 1, 32, 32), buf, dynamo=False,
                      input_names=["x"], output_names=["y"], opset_version=opset,
                      dynamic_axes={"x": {0: "n", 2: "h", 3: "w"}, "y": {0: "n", 2: "oh", 3: "ow"}})
    return buf.getvalue()


def peer_session(model):
    """The peer: ONNX Runtime on the model (a srcnn.models.Network or a PyTorch module) exactly as
    ``torch.onnx.export`` gives it."""
    return engine.make_session(export_plain(plain_copy(model)))


def network_row(megapixels: float, kind: str, scale: int, repeats: int) -> dict:
    """One row of the network table (see the module docstring)."""
    side = max(scale, int(round(np.sqrt(megapixels * 1e6) / scale)) * scale)
    hr = test_photo(side, side)
    lr = pipeline.degrade(hr, scale)
    model = pipeline.model_for(kind, scale)
    r = model.radius
    color, _ = imaging.pil_to_arrays(lr)
    y = imaging.imresize(imaging.rgb_to_ycbcr(color), float(scale))[:, :, 0].copy()
    padded = np.pad(y, r, mode="symmetric")
    x = torch.from_numpy(padded)[None, None]
    plain_model = plain_copy(model)
    peer = peer_session(model)
    mpix = y.size / 1e6

    def plain():
        with torch.inference_mode():
            return plain_model(x)

    timed = interleaved({
        "plain": plain,
        "ort": lambda: peer.run(None, {"x": padded[None, None]}),
        "ours": lambda: pipeline.network_luma(y, kind, scale, pipeline.DEFAULT_TILE),
        "e2e": lambda: pipeline.upscale(lr, scale, kind, tile=pipeline.DEFAULT_TILE),
    }, repeats)
    row = {"size": f"{y.shape[1]}x{y.shape[0]}", "mpix": mpix, **{k: median(timed, k) for k in timed},
           "ort/ours": paired_ratio(timed, "ort", "ours"), "plain/ours": paired_ratio(timed, "plain", "ours"),
           "plain/e2e": paired_ratio(timed, "plain", "e2e")}
    ours_img = pipeline.upscale(lr, scale, kind, tile=pipeline.DEFAULT_TILE)
    with torch.inference_mode():
        ref_y = plain_model(x)[0, 0].numpy()
    ycc = imaging.imresize(imaging.rgb_to_ycbcr(color), float(scale))
    ycc[:, :, 0] = ref_y
    ref_img = imaging.arrays_to_pil(imaging.ycbcr_to_rgb(ycc))
    gt = pipeline.ground_truth(hr, scale)
    row["dpsnr"] = psnr(ours_img, gt, scale) - psnr(ref_img, gt, scale)
    row["maxdiff"] = float(np.abs(pipeline.network_luma(y, kind, scale, pipeline.DEFAULT_TILE)
                                  - ref_y).max() * 255)
    return row


def plain_copy(model) -> torch.nn.Module:
    """A contiguous (NCHW) float32 PyTorch copy of ``model`` (a srcnn.models.Network or a PyTorch
    module): the plain ``model(x)`` an engineer runs."""
    import copy
    module = torch_module(model) if isinstance(model, Network) else copy.deepcopy(model)
    return module.to(memory_format=torch.contiguous_format).float().eval()


def print_network_table(rows: list[dict], kind: str, scale: int) -> None:
    print(f"\n### Network and end to end ({kind} x{scale}, 9-1-5, float32, {engine.cores()} threads, "
          f"tile {pipeline.DEFAULT_TILE}, engine {engine.default_engine()})\n")
    print("| output | plain PyTorch MPix/s | ORT whole image MPix/s | our network MPix/s | "
          "ours / ORT | ours / plain | end to end MPix/s | end to end / plain | "
          "PSNR-Y ours - float32 (dB) | max diff (8-bit levels) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        m = r["mpix"]
        print(f"| {r['size']} ({m:.1f} MP) | {m / r['plain']:.2f} | {m / r['ort']:.2f} | {m / r['ours']:.2f} | "
              f"{r['ort/ours']:.2f}x | {r['plain/ours']:.2f}x | {m / r['e2e']:.2f} | "
              f"{r['plain/e2e']:.2f}x | {r['dpsnr']:+.4f} | {r['maxdiff']:.4f} |")


def lever_rows(megapixels: float, kind: str, scale: int, repeats: int) -> list[tuple[str, float]]:
    """(path, median seconds, speed-up over the first path) of the network on one luma plane,
    adding one lever at a time, timed in interleaved rounds."""
    from ..tiling import tiled_apply
    side = int(round(np.sqrt(megapixels * 1e6)))
    y = np.random.default_rng(0).random((side, side), dtype=np.float32)
    model = pipeline.model_for(kind, scale)
    r = model.radius
    pool = runner.default_runner().pool()
    peer = engine.SessionRunner(engine.Sessions(peer_session(model), None), pool)
    graph = network_bytes(as_network(model))
    wide_session = engine.make_session(graph)
    narrow = tuple(engine.make_session(graph, threads=1) for _ in range(engine.cores()))
    wide = engine.SessionRunner(engine.Sessions(wide_session, None), pool)
    both = engine.SessionRunner(engine.Sessions(wide_session, narrow), pool)
    tile = pipeline.DEFAULT_TILE
    steps = [
        ("ORT, graph as exported, whole image", lambda: tiled_apply(peer, y, r)),
        ("+ last layer as a 1x5 convolution to 5 row planes + 5 row-shifted adds", lambda: tiled_apply(wide, y, r)),
        (f"+ tiles of <= {tile} px (even grid), ORT threads inside each tile", lambda: tiled_apply(wide, y, r, tile)),
        ("+ all tiles queued at once, one per core on per-core single-thread sessions (the pipeline's path)",
         lambda: tiled_apply(both, y, r, tile, runner.TILES_PER_CALL)),
    ]
    timed = interleaved(dict(steps), repeats)
    return [(name, median(timed, name), paired_ratio(timed, steps[0][0], name)) for name, _ in steps]


# --------------------------------------------------------------------------- compare

@contextmanager
def timing(owner, name: str, spent: list[float]):
    """While inside: each call of ``owner.name`` (in any thread) appends its wall seconds to
    ``spent`` (e.g. ``timing(pipeline, "apply_network", spent)``: the time inside the networks)."""
    real = getattr(owner, name)

    def timed_call(*args, **kwargs):
        t0 = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t0)

    setattr(owner, name, timed_call)
    try:
        yield
    finally:
        setattr(owner, name, real)


COMPARE_STEPS = ("ground truth", "degradation", "bicubic", "network upscale outside the networks", "metrics")


def compare_rows(megapixels: float, scale: int, repeats: int) -> dict:
    """``srcnn.compare`` on a ``megapixels`` ground truth at x``scale`` against its yardstick: ONNX
    Runtime running the two plain networks (as ``torch.onnx.export`` writes them, default
    session: one intra-op thread per core) on the whole mirror-padded bicubic luma. Interleaved
    rounds; per round, what compare does besides its networks (its wall time minus the time
    inside ``pipeline.apply_network``) over the yardstick's time; medians."""
    side = max(scale, int(round(np.sqrt(megapixels * 1e6) / scale)) * scale)
    hr = test_photo(side, side)
    lr = pipeline.degrade(hr, scale)
    color, _ = imaging.pil_to_arrays(lr)
    y = imaging.imresize(imaging.rgb_to_ycbcr(color), float(scale))[:, :, 0].copy()
    peers = []
    for kind in KINDS:
        model = pipeline.model_for(kind, scale)
        peers.append((peer_session(model), np.pad(y, model.radius, mode="symmetric")[None, None]))
    rounds: list[dict] = []

    def yardstick():
        for sess, x in peers:
            sess.run(None, {"x": x})

    def run_compare():
        spent: list[float] = []
        t0 = time.perf_counter()
        with timing(pipeline, "apply_network", spent):
            c = pipeline.compare(hr, scale)
        total = time.perf_counter() - t0
        nets = sum(spent)
        t = c.timings
        upscale_overhead = sum(r.seconds for m, r in c.results.items() if m != "bicubic") - nets
        rounds.append({"ground truth": t["ground truth"], "degradation": t["degradation"],
                       "bicubic": c.results["bicubic"].seconds,
                       "network upscale outside the networks": upscale_overhead,
                       "metrics": t["metrics"], "networks": nets, "besides": total - nets, "compare": total})

    timed = interleaved({"yardstick": yardstick, "compare": run_compare}, repeats)
    rounds = rounds[1:]                       # the untimed warm-up round
    row = {k: float(np.median([r[k] for r in rounds])) for k in rounds[0]}
    row["yardstick"] = median(timed, "yardstick")
    row["ratio"] = float(np.median([r["besides"] / ys for r, ys in zip(rounds, timed["yardstick"])]))
    row["size"] = f"{side}x{side}"
    return row


def print_compare_table(row: dict, scale: int) -> None:
    print(f"\n### srcnn.compare against its two networks ({row['size']} ground truth, x{scale}, same run)\n")
    print("| step | time |\n|---|---|")
    for step in COMPARE_STEPS:
        print(f"| {step} | {row[step] * 1e3:.0f} ms |")
    print(f"| **everything besides the networks** | **{row['besides'] * 1e3:.0f} ms** |")
    print(f"| the two networks (inside `pipeline.apply_network`) | {row['networks'] * 1e3:.0f} ms |")
    print(f"| whole `compare` | {row['compare'] * 1e3:.0f} ms |")
    print(f"| yardstick: ONNX Runtime, the two plain networks, whole image, {engine.cores()} threads | "
          f"{row['yardstick'] * 1e3:.0f} ms |")
    print(f"\nEverything besides the networks / yardstick: **{row['ratio']:.2f}x** (median of per-round ratios; "
          "the target is at most 0.6x). Metrics: PSNR and SSIM of each method, the ground truth's side computed once.")


# --------------------------------------------------------------------------- memory

_MEMORY_CHILD = """
import os, sys, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from PIL import Image
import numpy as np
from srcnn import pipeline
kind, scale, w, h, run = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5] == "1"
pipeline.warm_up([(kind, scale)])
t = 0.0
if run:
    lr = Image.fromarray(np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8))
    t0 = time.perf_counter()
    out = pipeline.upscale(lr, scale, kind, tile=pipeline.DEFAULT_TILE)
    t = time.perf_counter() - t0
    assert out.size == (w * scale, h * scale)
# VmHWM: this process's peak resident set since exec (ru_maxrss would carry the forking parent's)
hwm = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(hwm / 1024, t)
"""


def peak_rss_mb(kind: str, scale: int, width: int, height: int, run: bool = True) -> tuple[float, float]:
    """Peak resident memory (MB, /proc/self/status VmHWM; Linux) and seconds of a fresh process
    that warms up and upscales a random width x height RGB image with ``DEFAULT_TILE``."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    out = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, kind, str(scale), str(width), str(height),
                          "1" if run else "0"], capture_output=True, text=True, cwd=root, check=True)
    mb, seconds = out.stdout.split()[-2:]
    return float(mb), float(seconds)


# --------------------------------------------------------------------------- bicubic

def bicubic_rows(repeats: int, quick: bool) -> list[tuple[str, float, float, float]]:
    """(case, our seconds, Pillow seconds, median ratio) for RGB upscales of random 8-bit images."""
    cases = [((342, 342), 3)] + ([] if quick else [((2000, 1500), 2)])
    rows = []
    rng = np.random.default_rng(0)
    for (w, h), s in cases:
        a8 = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        img, a = Image.fromarray(a8), a8.astype(np.float32) / 255.0
        timed = interleaved({"ours": lambda: imaging.imresize(a, s),
                             "pil": lambda: img.resize((w * s, h * s), Image.BICUBIC)}, repeats)
        rows.append((f"{w}x{h} -> {w * s}x{h * s} RGB", median(timed, "ours"), median(timed, "pil"),
                     paired_ratio(timed, "ours", "pil")))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m srcnn bench", description=__doc__.split("\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--sizes", type=float, nargs="+", default=[1, 2, 4, 8],
                        help="output sizes in megapixels (default: 1 2 4 8)")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per number (median)")
    parser.add_argument("--kind", default="residual", choices=KINDS)
    parser.add_argument("--scale", type=int, default=3, choices=(2, 3, 4))
    parser.add_argument("--quick", action="store_true",
                        help="one small size, one repeat, no memory case: a smoke test")
    parser.add_argument("--no-memory", action="store_true", help="skip the 6000x4000 memory case")
    args = parser.parse_args(argv)
    torch.set_num_threads(engine.cores())
    if args.quick:
        args.sizes, args.repeats, args.no_memory = [0.05], 1, True
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               "unknown CPU") if os.path.exists("/proc/cpuinfo") else "unknown CPU"
    print(f"python -m srcnn bench: {cpu}, {engine.cores()} cores; torch {torch.__version__}, "
          f"onnxruntime {__import__('onnxruntime').__version__}; median of {args.repeats}")
    t0 = time.perf_counter()
    pipeline.model_for(args.kind, args.scale)
    t1 = time.perf_counter()
    pipeline.warm_up([(args.kind, args.scale)])
    print(f"start-up: weights {t1 - t0:.2f} s (Hub look-up included), "
          f"engine (export + session + first run) {time.perf_counter() - t1:.2f} s")
    rows = [network_row(mp, args.kind, args.scale, args.repeats) for mp in args.sizes]
    print_network_table(rows, args.kind, args.scale)
    print_compare_table(compare_rows(args.sizes[0], args.scale, args.repeats), args.scale)
    if not args.quick:
        mp = args.sizes[0]
        levers = lever_rows(mp, args.kind, args.scale, args.repeats)
        print(f"\n### What each lever contributes (network only, {mp:g} MP luma, same run)\n")
        print("| path | time | MPix/s | vs first row |\n|---|---|---|---|")
        for name, seconds, speedup in levers:
            print(f"| {name} | {seconds * 1e3:.0f} ms | {mp / seconds:.2f} | {speedup:.2f}x |")
    if not args.no_memory:
        scale = 2 if (args.kind, 2) in bundled_pairs() else args.scale
        w, h = 6000 // scale, 4000 // scale
        floor, _ = peak_rss_mb(args.kind, scale, w, h, run=False)
        peak, seconds = peak_rss_mb(args.kind, scale, w, h)
        print(f"\n### Memory (peak resident, fresh process, tile {pipeline.DEFAULT_TILE})\n")
        print("| case | peak RSS | time |\n|---|---|---|")
        print(f"| import + warm-up only | {floor:.0f} MB | |")
        print(f"| {w}x{h} -> {w * scale}x{h * scale} (x{scale}, {args.kind}) | {peak:.0f} MB | {seconds:.1f} s |")
    print("\n### Bicubic resize (MATLAB-compatible, float32) vs Pillow BICUBIC (uint8)\n")
    print("| case | ours | Pillow | ours / Pillow |\n|---|---|---|---|")
    for case, ours, pil, ratio in bicubic_rows(max(5, args.repeats), args.quick):
        print(f"| {case} | {ours * 1e3:.1f} ms | {pil * 1e3:.1f} ms | {ratio:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
