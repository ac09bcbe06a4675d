"""How the app behaves under load, measured on the real server: ``python -m tools.load_test``.

Starts the app as a Space runs it (a subprocess ``python app.py`` with ``HF_HUB_OFFLINE=1``,
``GRADIO_SERVER_NAME=127.0.0.1``, a free ``GRADIO_SERVER_PORT`` and its own ``GRADIO_TEMP_DIR``
in a temporary folder), waits for HTTP 200, then reports, as Markdown tables:

1. **burst**: N users at once (``--users`` on ``/compare``, ``--study-users`` on
   ``/inside_study``), each with its own ``gradio_client.Client`` and its own photo (seeded,
   photo-like, 0.3 to 1 megapixel): latency per request (p50/p90/max), failures ("Queue is full"
   apart), whether each user got their own photo back (ground-truth pixels equal to the upload
   modcropped; ``/compare`` PSNRs equal to ``srcnn.compare`` run here, within 1e-6), the server's
   peak memory (VmRSS sampled every 0.1 s, and VmHWM) and its temp folder afterwards;
2. **gone**: a 2000x2000 Benchmark ``/compare`` (``--gone-endpoint inside_study`` for the other
   one) whose client disappears about 1 s after the computation starts (the helper process that
   made the request is killed, which closes its event stream; ``--gone-via cancel`` tries
   ``job.cancel()`` in-process instead): the server's CPU seconds in the 10 s after, when it
   stopped (the time from the disconnect to the server's log line saying so), and whether result
   PNGs were written anyway; then the same at other moments of the computation (``--gone-after
   1,3,5``: a new request each), so that every stage is caught, and the slowest stop;
3. **small**: a 300x300 ``/compare`` alone, then while two 2048x2048 ones (the app's limit) are in
   flight, one computing and one waiting for the big lane;
4. **temp**: the temp folder after the burst, then a second server with a short
   ``SRCNN_TEMP_MAX_AGE`` (``--max-age``) showing the sweeper delete files once they are older;
5. **sigterm**: SIGTERM while one request computes and one waits for its lane: how long the
   server takes to exit, what each client is told, and what is left in the temp folder;
6. **soak** (only with ``--only soak``; it runs before sigterm when both are named): memory over a
   long run. ``--soak-clients`` clients (3) share ``--soak-requests`` (400) mixed requests, each
   sending its next when its last one answered: Benchmark ``/compare`` at x2-x4, Upscale at x1.5-x5
   (the photo shrunk so the output stays within 3 MP), ``/inside_study``, and zoom changes (the
   page's private zoom/slider event on the client's last results); held-out photos of 0.3-0.5 MP
   from the installed packages (none of them in examples/). The server's RSS is sampled every
   second: printed after start, after the warm-up (the first 5% of the requests), at 25/50/75%
   and at the end, with the flatness (mean RSS over the last quarter of the requests / over the
   second quarter) and the curve.

``--quick`` shrinks every size (the test runs it); ``--only burst,gone`` picks sections. Figures
are wall seconds on this machine, whose cores the clients share; nothing is asserted. The
servers started here are always stopped (also on errors, Ctrl-C and SIGTERM; and if this process
dies, they get SIGTERM from the kernel).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from datetime import datetime
from pathlib import Path

from tools.load.burst import LABELS, check_own_photos, run_burst
from tools.load.clients import STARTED, Request, describe, error_text, new_client, submit, wait_progress, wait_started
from tools.load.gone import helper_main, run_gone
from tools.load.memory import memory_parts, own_rss
from tools.load.page import Zoom, file_value, page_config, queue_call
from tools.load.photos import Photos, held_out_photos, make_photo, modcrop, size_for
from tools.load.report import HEADERS, mb, percentile, short, summary, table
from tools.load.server import ROOT, MemorySampler, Server, die_with_parent, no_proxy_for_localhost
from tools.load.sigterm import run_sigterm
from tools.load.small import MAX_SIDE, run_small
from tools.load.soak import SOAK_MIX, SOAK_OUTPUT_PIXELS, SOAK_UPSCALE, run_soak, soak_plan, upscale_input
from tools.load.temp import DEFAULT_MAX_AGE, run_temp

# What other code uses from here (tools/abuse_test.py, tests/test_lifetime.py, ...) stays importable from here.
__all__ = ["DEFAULT_MAX_AGE", "DEFAULT_SECTIONS", "HEADERS", "LABELS", "MAX_SIDE", "ROOT", "SECTIONS", "SOAK_MIX",
           "SOAK_OUTPUT_PIXELS", "SOAK_UPSCALE", "STARTED", "MemorySampler", "Photos", "Request", "Server", "Zoom",
           "check_own_photos", "describe", "die_with_parent", "error_text", "file_value", "held_out_photos",
           "helper_main", "main", "make_photo", "mb", "memory_parts", "modcrop", "new_client",
           "no_proxy_for_localhost", "own_rss", "page_config", "parse_args", "percentile", "queue_call", "run_burst",
           "run_gone", "run_sigterm", "run_small", "run_soak", "run_temp", "short", "size_for", "soak_plan", "submit",
           "summary", "table", "upscale_input", "wait_progress", "wait_started"]

SECTIONS = ("burst", "gone", "small", "temp", "soak", "sigterm")   # in this order (SIGTERM stops the server)
DEFAULT_SECTIONS = tuple(s for s in SECTIONS if s != "soak")       # the soak runs when named: it takes a while


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small photos and few users (about a minute)")
    ap.add_argument("--users", type=int, help="users on /compare in the burst (default 12; quick 3)")
    ap.add_argument("--study-users", type=int, help="users on /inside_study in the burst (default 3; quick 1)")
    ap.add_argument("--max-age", type=float,
                    help="SRCNN_TEMP_MAX_AGE of the temp section's server (default 20 s; quick 4)")
    ap.add_argument("--only", default=",".join(DEFAULT_SECTIONS),
                    help=f"sections to run, comma-separated: {','.join(SECTIONS)} (soak only when named)")
    ap.add_argument("--soak-requests", type=int, help="requests in the soak (default 400; quick 16)")
    ap.add_argument("--soak-clients", type=int, help="clients sending them at once in the soak (default 3; quick 2)")
    ap.add_argument("--scale", type=int, default=3, choices=(2, 3, 4))
    ap.add_argument("--gone-via", choices=("kill", "cancel"), default="kill",
                    help="how the client of section 2 goes: its process killed, or job.cancel() in-process")
    ap.add_argument("--gone-endpoint", choices=("compare", "inside_study"), default="compare",
                    help="the endpoint whose client goes in section 2")
    ap.add_argument("--gone-after", help="seconds of computing before the client goes, comma-separated for several "
                    "requests (default 1,3,5; quick 1,2)")
    ap.add_argument("--memory-parts", type=int, metavar="N",
                    help="instead of the sections: N soak requests (zoom apart) in this process, "
                         "and where the memory went")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds to wait for any one answer")
    ap.add_argument("--logs", type=Path, help="copy the servers' logs into this folder at the end")
    args = ap.parse_args(argv)
    args.users = args.users if args.users is not None else (3 if args.quick else 12)
    args.study_users = args.study_users if args.study_users is not None else (1 if args.quick else 3)
    args.max_age = args.max_age if args.max_age is not None else (4.0 if args.quick else 20.0)
    moments = args.gone_after or ("1,2" if args.quick else "1,3,5")
    args.gone_moments = [float(v) for v in moments.split(",") if v.strip()]
    if not args.gone_moments or min(args.gone_moments) <= 0:
        ap.error("--gone-after needs one or more positive numbers of seconds")
    args.soak_requests = args.soak_requests if args.soak_requests is not None else (16 if args.quick else 400)
    args.soak_clients = args.soak_clients if args.soak_clients is not None else (2 if args.quick else 3)
    if args.soak_requests < 8 or args.soak_clients < 1:
        ap.error("the soak needs at least 8 requests and one client")
    args.sections = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(args.sections) - set(SECTIONS)
    if unknown:
        ap.error(f"unknown section(s) {', '.join(sorted(unknown))}; choose from {', '.join(SECTIONS)}")
    if args.users + args.study_users < 1:
        ap.error("the burst needs at least one user")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.memory_parts:
        memory_parts(args.memory_parts, args.soak_clients)
        return 0
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"     # no telemetry from gradio_client: only 127.0.0.1
    os.environ["HF_HUB_DISABLE_TELEMETRY"] = "1"
    no_proxy_for_localhost()

    def on_sigterm(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    servers: list[Server] = []
    out: dict = {}
    with tempfile.TemporaryDirectory(prefix="srcnn-load-") as tmp:
        workdir = Path(tmp)
        try:
            main_server = Server(workdir, "main")
            servers.append(main_server)
            temp_server = None
            if "temp" in args.sections:       # started beside the main one: its start costs no extra wait
                temp_server = Server(workdir, "temp", max_age=args.max_age)
                servers.append(temp_server)
            load = os.getloadavg()
            import gradio_client
            print(f"# SRCNN Studio load test{' (quick)' if args.quick else ''}\n")
            print(f"{datetime.now():%Y-%m-%d %H:%M}; {os.cpu_count()} cores; load average {load[0]:.1f} at the start; "
                  f"gradio_client {gradio_client.__version__}; x{args.scale} throughout. Wall seconds on this machine, "
                  "whose cores the clients share with the server.\n")
            rows = []
            for s in servers:
                s.wait_http(180)
            for s in servers:
                s.wait_models(120)
                rows.append((f"{s.name} (temp max age {s.max_age:g} s)" if s.max_age else f"{s.name} (defaults)",
                             f"{s.http_s:.1f}", f"{s.ready_s:.1f}" if s.ready_s else "not logged", mb(s.rss_ready)))
            print(table("server", rows))
            photos = Photos(workdir / "photos")
            sections = {
                "burst": lambda: run_burst(main_server, args, photos, workdir, out),
                "gone": lambda: run_gone(main_server, args, photos, workdir, out),
                "small": lambda: run_small(main_server, args, photos, workdir, out),
                "temp": lambda: run_temp(main_server, temp_server, args, photos, workdir, out),
                "sigterm": lambda: run_sigterm(main_server, args, photos, workdir, out),
                "soak": lambda: run_soak(main_server, args, workdir, out),
            }
            for name in SECTIONS:
                if name in args.sections:
                    main_server.wait_idle()
                    sections[name]()
                    sys.stdout.flush()
                if name == "temp" and temp_server is not None:
                    temp_server.stop()
            print("\n## Summary\n")
            print(summary(out, args))
        except KeyboardInterrupt:
            print("\nInterrupted: stopping the servers.", file=sys.stderr)
            return 130
        finally:
            for s in servers:
                s.stop()
                if args.logs:
                    args.logs.mkdir(parents=True, exist_ok=True)
                    shutil.copy(s.log_path, args.logs / f"{s.name}-server.log")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_submit":
        helper_main(sys.argv[2:])
    else:
        sys.exit(main())
