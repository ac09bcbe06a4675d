"""``--memory-parts``: where the app's memory goes, its handlers called in this process (no server)."""

from __future__ import annotations

import threading

from tools.load.clients import error_text
from tools.load.photos import held_out_photos
from tools.load.report import mb, table
from tools.load.soak import soak_plan, upscale_input


def own_rss() -> int:
    """This process's VmRSS in bytes."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmRSS:"))


class _NoProgress:
    def __call__(self, *args, **kwargs) -> None:
        pass


def memory_parts(n: int, threads: int) -> None:
    """Where the app's memory goes: its handlers called in this process (no server) on the soak's
    mix (zoom changes apart) from ``threads`` threads, then each part let go in turn and the RSS
    drop measured: the kept study views (ui.views.forget_views), what glibc's allocator kept
    (ui.server.release_memory), ONNX Runtime's sessions and their arenas (the default runner
    closed: srcnn.runner.Runner.close; measuring only, the app never does it)."""
    import gc

    import app
    from srcnn.runner import default_runner
    from ui import compare, server, study, views
    print("## Memory parts (in-process)\n")
    rows = [("after import", mb(own_rss()))]
    app.warm_up()
    start = own_rss()
    rows.append(("models warm (after start)", mb(start)))
    store = server.TempStore.for_process().activate()   # as app.main: the handlers find their folder through it
    folder = store.folder / "memory-parts"              # where uploads live, so read_upload takes them
    photos = held_out_photos(folder, quick=False)
    plan = [(k, p, s) for k, p, s in soak_plan(n, photos) if k != "zoom"]
    lock, todo = threading.Lock(), list(reversed(plan))

    def work() -> None:
        while True:
            with lock:
                if not todo:
                    return
                kind, photo, scale = todo.pop()
            value = lambda p: {"path": str(p), "orig_name": p.name}   # noqa: E731
            try:
                if kind == "study":
                    study.look_inside(value(photo), scale, True, "ours")
                elif kind == "upscale":
                    compare.compare_images(value(upscale_input(photo, scale, folder)), scale, "Upscale",
                                           progress=_NoProgress())
                else:
                    compare.compare_images(value(photo), scale, "Benchmark", progress=_NoProgress())
            except Exception as e:  # noqa: BLE001  a refusal is counted, not fatal
                print(f"- {kind} x{scale:g} {photo.name}: {error_text(e)}")

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    after = own_rss()
    rows.append((f"after {len(plan)} requests on {threads} threads", mb(after)))
    views.forget_views()
    gc.collect()
    server.release_memory()
    no_views = own_rss()
    runner = default_runner()
    sessions = len(runner.session_builds)
    runner.close()
    gc.collect()
    server.release_memory()
    no_ort = own_rss()
    print(table("parts", rows))
    print()
    print(table("parts_split", [
        ("the models and the code (after start)", mb(start)),
        ("the study views kept and what the allocator kept (freed by forget_views + malloc_trim)",
         mb(after - no_views)),
        (f"ONNX Runtime's sessions of {sessions} networks, their arenas (freed by dropping them)",
         mb(no_views - no_ort)),
        ("the rest (Python objects, caches, thread stacks)", mb(no_ort - start)),
    ]))
