"""A phone photo through the real app: ``python -m tools.bench_large``.

Writes what a phone uploads (srcnn.tooling.data.phone_photo: a 4032x3024 JPEG, quality 85, EXIF
orientation 6, so 3024x4032 upright, 12.2 MP) and a 1-MP copy of it (the upright photo reduced to
866x1155), starts ``python app.py`` as its own process on a free local port (warmed up as on a
Space), and sends through ``gradio_client``, one at a time:

1. ``/compare`` Benchmark x3 on the 1-MP copy (a warm-up, not counted), then again;
2. ``/compare`` Benchmark x3 on the 12-MP photo;
3. ``/compare`` Upscale x2 on the 12-MP photo (48.8 MP out, three methods).

For each it prints the handler's own time (the app's log line: upload checked, computed, PNGs
written) and the round trip (results downloaded too), seconds per megapixel (of the ground truth in
Benchmark, of the output in Upscale), and the app process's peak RSS so far (``VmHWM`` in
/proc/<pid>/status: the most resident memory it ever held). Then the ratio asked of large photos:
seconds per megapixel at 12 MP over that at 1 MP, measured in the same run. Nothing is asserted.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

from PIL import Image, ImageOps  # noqa: E402

from srcnn.tooling.data import phone_photo  # noqa: E402
from ui.server import free_port  # noqa: E402

HANDLER = re.compile(r"/compare \((\d+)x(\d+) x([\d.]+) (\w+)\): .*handler ([\d.]+) s")


def peak_rss_mb(pid: int) -> float:
    """The process's peak resident memory so far (VmHWM), in MB (10^6 bytes)."""
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmHWM:\s+(\d+) kB", text).group(1)) * 1024 / 1e6


def main() -> None:
    from gradio_client import Client, handle_file

    folder = Path(tempfile.mkdtemp(prefix="bench-large-"))
    big = phone_photo(folder / "IMG_4032.jpg")
    upright = ImageOps.exif_transpose(Image.open(big))
    one = folder / "IMG_4032-1mp.png"
    copy = upright.resize((866, 1155), Image.Resampling.LANCZOS)
    copy.save(one)
    warm, after = folder / "warm-up.png", folder / "IMG_4032-1mp-again.png"
    copy.transpose(Image.Transpose.FLIP_LEFT_RIGHT).save(warm)      # other pixels: its PNGs are not reused
    copy.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(after)
    mp = upright.width * upright.height / 1e6
    print(f"photo {big.name}: {upright.width}x{upright.height} upright ({mp:.1f} MP), "
          f"{big.stat().st_size / 1e6:.1f} MB JPEG; copy {one.name}: 866x1155 (1.0 MP)")
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1"}
    proc = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while not any("models ready" in line for line in lines):
            if time.monotonic() > deadline or proc.poll() is not None:
                raise SystemExit("the app did not start:\n" + "".join(lines[-20:]))
            time.sleep(0.5)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=str(folder / "out"))
        rows = []
        for label, path, scale, mode, counted in (("1-MP copy mirrored, warm-up", warm, 3, "Benchmark", False),
                                                 ("1-MP copy", one, 3, "Benchmark", True),
                                                 ("12-MP photo", big, 3, "Benchmark", True),
                                                 ("1-MP copy flipped", after, 3, "Benchmark", True),
                                                 ("12-MP photo", big, 2, "Upscale", True)):
            seen = len(lines)
            t0 = time.perf_counter()
            client.predict(handle_file(str(path)), str(scale), mode, api_name="/compare")
            trip = time.perf_counter() - t0
            time.sleep(0.5)
            match = next(m for m in (HANDLER.search(x) for x in lines[seen:]) if m)
            print(match.string.strip().split(": ", 1)[-1][:400])
            w, h = int(match.group(1)), int(match.group(2))
            mp = w * h * (scale * scale if mode == "Upscale" else 1) / 1e6
            handler = float(match.group(5))
            rows.append((label, mode, scale, mp, handler, trip, peak_rss_mb(proc.pid), counted))
        print("| photo | mode | scale | MP (ground truth / output) | handler, s | s per MP | round trip, s | "
              "app's peak RSS so far, MB |")
        print("|---|---|---|---|---|---|---|---|")
        for label, mode, scale, mp, handler, trip, rss, counted in rows:
            print(f"| {label} | {mode} | x{scale} | {mp:.1f} | {handler:.2f} | {handler / mp:.2f} | {trip:.2f} | "
                  f"{rss:.0f} |")
        small = [r[4] / r[3] for r in rows if r[0].startswith("1-MP copy") and r[7]]    # before and after
        large = next(r for r in rows if r[0] == "12-MP photo" and r[1] == "Benchmark")
        per_mp = sum(small) / len(small)
        print(f"Benchmark x3, seconds per megapixel (handler; every run writes its own PNGs): 12-MP photo "
              f"{large[4] / large[3]:.2f}, 1-MP copy {per_mp:.2f} (mean of the runs before and after): "
              f"ratio {large[4] / large[3] / per_mp:.2f}")
        print(f"peak RSS of the app: {rows[-1][6]:.0f} MB (after the Upscale), {large[6]:.0f} MB (after the "
              "Benchmark runs)")
    finally:
        proc.terminate()
        proc.wait(timeout=60)


if __name__ == "__main__":
    main()
