"""The load test's output: the tables' headers, the cells' formats and the closing summary."""

from __future__ import annotations

import numpy as np

# The tables' header rows (tests/test_load_test.py looks for each of them).
HEADERS = {
    "server": ("Server", "HTTP 200 after (s)", "Models ready after (s)", "RSS when ready (MB)"),
    "burst": ("Endpoint", "Requests", "OK", "Failed", "Queue full", "p50 (s)", "p90 (s)", "Max (s)"),
    "burst_users": ("User", "Endpoint", "Photo", "Lane", "Latency (s)", "Result", "Own ground truth",
                    "PSNR vs local srcnn.compare"),
    "burst_server": ("Server during the burst", "Value"),
    "gone": ("Client gone", "Value"),
    "gone_moments": ("Client gone after (s of computing)", "Stop logged after (s)", "Busy until (s)",
                     "CPU s after", "Result PNGs written"),
    "small": ("Request", "Lane", "Latency (s)"),
    "temp": ("Server (max age)", "When", "Files", "MB"),
    "sigterm": ("Client", "State at SIGTERM", "Answer received (s after SIGTERM)", "What it got"),
    "sigterm_server": ("Server at SIGTERM", "Value"),
    "soak": ("Server RSS during the soak", "Requests answered", "RSS (MB)"),
    "soak_summary": ("Soak", "Value"),
    "soak_curve": ("Seconds", "Requests answered", "RSS (MB)"),
    "parts": ("This process", "RSS (MB)"),
    "parts_split": ("Part", "MB"),
}


def table(name: str, rows: list) -> str:
    """A Markdown table with the header :data:`HEADERS`\\[name]."""
    head = HEADERS[name]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def mb(n_bytes: float) -> str:
    return f"{n_bytes / 1e6:.1f}"


def percentile(values: list[float], q: float) -> str:
    return f"{np.percentile(values, q):.2f}" if values else "-"


def short(text: str, n: int = 160) -> str:
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= n else text[: n - 3] + "..."


def summary(out: dict, args) -> str:
    parts = []
    if "burst" in out:
        b = out["burst"]
        cross = ("every user got their own photo back (pixels and PSNR)" if not b["crossed"]
                 else f"the own-photo check FAILED for {', '.join(b['crossed'])} (see the table)")
        parts.append(f"A burst of {b['n']} users ({args.users} /compare, {args.study_users} /inside_study) got "
                     f"{b['ok']} answers and {b['failed']} failures ({b['queue_full']} 'Queue is full'); median "
                     f"latency {b['p50']} s, slowest {b['max']:.1f} s; {cross} ({b['checked']} checked); the server "
                     f"peaked at {mb(b['peak'])} MB RSS and left {b['files']} files ({mb(b['size'])} MB) "
                     "in its temp folder.")
    if "gone" in out:
        g = out["gone"]
        parts.append(f"When a client went away mid-request ({g['endpoint']}, {g['via']}), "
                     f"the server used {g['cpu_after']:.1f} CPU s "
                     f"in the next {g['window']:.0f} s (busy until {g['busy_until']:.1f} s; "
                     + (f"stop logged after {g['stop_s']} s" if g["stop_s"] != "not logged" else "no stop logged")
                     + ") and wrote " + ("no result PNG for it." if out["gone_written"] == 0
                                                    else f"{g['written']} result PNGs for it anyway.")
                     + (f" Over {g['moments_gone']} moments of the computation "
                        f"the stop came at most {g['worst']:.2f} s after "
                        f"the disconnect ({g['logged']} of {g['moments_gone']} logged), "
                        + ("no PNG written." if g["written_any"] == 0 else f"{g['written_any']} PNGs written.")
                        if g["worst"] is not None else ""))
    if "small" in out:
        s = out["small"]
        parts.append(f"A {s['small']}x{s['small']} /compare took {s['alone']:.2f} s alone and {s['loaded']:.2f} s with "
                     f"two {s['big']}x{s['big']} ones in flight.")
    if "temp" in out and out["temp"]["age"] is not None:
        t = out["temp"]
        parts.append(f"With a max age of {t['age']:g} s the sweeper removed the requests' files (the example "
                     "photos stay) "
                     + (f"{t['swept_after']:.0f} s after the last request." if t["swept_after"] is not None
                        else "not within the wait."))
    if "sigterm" in out:
        s = out["sigterm"]
        exit_text = f"{s['exit_s']:.1f} s" if s["exit_s"] is not None else "more than 60 s"
        left = "its temp folder was removed" if s["left"] is None else f"{s['left'][0]} files were left"
        parts.append(f"On SIGTERM the server exited in {exit_text}; the running client got "
                     f"'{short(s['got'][0], 100)}', the waiting one '{short(s['got'][1], 100)}'; {left}.")
    if "soak" in out:
        k = out["soak"]
        parts.append(f"In the soak, {k['clients']} clients sent {k['n']} mixed requests ({k['served']} served, "
                     f"{k['failed']} failed); the server's RSS was {mb(k['warm'])} MB after the warm-up, "
                     f"{mb(k['mid'])} MB at the middle and {mb(k['end'])} MB at the end (peak {mb(k['peak'])} MB); "
                     f"last quarter / second quarter {k['flat']:.3f}.")
    return " ".join(parts)
